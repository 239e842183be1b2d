// SPDX-License-Identifier: Apache-2.0
// bytepiece::hf_tokenizer on the corpus, line by line, against HF tokenizers 0.23.2: every line
// of small.txt, and of the large files every 7th line for the two ALBERT files (without special
// tokens) and every 17th for the others; every line of every file in a full run
// (BYTEPIECE_TEST_FULL=1: HF in node needs about an hour for all of it).
// Sanitizer and debug builds check every 61st line of the large files. HF's ids are computed
// once for each file's content (tests/hf_oracle.hpp caches them).
#include "hf_oracle.hpp"
#include "hf_test_texts.hpp"
#include "test_support.hpp"

#include "bytepiece/hf_tokenizer.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

#if defined(BYTEPIECE_SANITIZE) || !defined(NDEBUG)
constexpr std::size_t albert_stride = 61, other_stride = 61;
#else
constexpr std::size_t albert_stride = 7, other_stride = 17;
#endif

std::vector<std::string_view> split_lines(const std::string& text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        lines.push_back(std::string_view(text).substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

}  // namespace

TEST_CASE("hf_tokenizer: corpus lines, as HF tokenizers") {
    if (!hf_oracle::available()) return;
    const bool full = test_support::full_run();
    const std::vector<std::string> corpora = {"small.txt", "en.txt", "mixed.txt", "zh.txt", "code.txt"};
    std::size_t total_lines = 0, total_same = 0;
    for (const auto& f : hf_test::fixtures()) {
        if (!test_support::require_shared("models/hf/" + f)) return;
        const std::string path = test_support::shared_path("models/hf/" + f);
        const auto tok = bytepiece::hf_tokenizer::load(path);
        const bool albert = f.rfind("albert", 0) == 0;
        for (const auto& corpus : corpora) {
            if (!test_support::require_shared("corpus/" + corpus)) return;
            // The post-processor matters only for the file that has one; with it, every line of
            // small.txt and the other files' sparse lines (its template only adds two ids).
            for (const bool special : {false, true}) {
                if (special && f != "albert-30k-clean.transformers-albert.json") continue;
                const std::size_t stride =
                    full || corpus == "small.txt" ? 1 : albert && !special ? albert_stride : other_stride;
                const std::string file = hf_oracle::corpus_sample(corpus, stride);
                const auto expected = hf_oracle::encode_lines(path, file, special);
                const std::string text = test_support::read(file);
                const auto lines = split_lines(text);
                REQUIRE(lines.size() == expected.size());
                const auto t0 = std::chrono::steady_clock::now();
                std::size_t same = 0, first_bad = lines.size();
                tok.encode_texts(
                    lines.data(), lines.size(),
                    [&](std::size_t i, const std::uint32_t* p, std::size_t n) {
                        const bool ok = hf_oracle::ids(p, p + n) == expected[i];
                        same += ok;
                        if (!ok && first_bad == lines.size()) first_bad = i;
                    },
                    special);
                const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                INFO(f << " on " << corpus << (stride > 1 ? " (every " + std::to_string(stride) + "th line)" : "")
                       << (special ? " with special tokens" : "") << ": " << same << " of " << lines.size()
                       << " lines identical; first difference at line " << first_bad);
                CHECK(same == lines.size());
                WARN(f << " " << corpus << (special ? " special" : "") << ": " << same << "/" << lines.size()
                       << " lines identical, " << text.size() / 1e6 / seconds << " MB/s");
                total_lines += lines.size();
                total_same += same;
            }
        }
    }
    WARN("total: " << total_same << " of " << total_lines << " lines identical");
}
