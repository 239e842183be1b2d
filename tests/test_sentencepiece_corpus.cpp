// SPDX-License-Identifier: Apache-2.0
// SentencePiece models give exactly libsentencepiece 0.1.97's ids on every line of every shared
// corpus file (one Encode per line, as spm_encode calls it), for every unigram model in the
// shared folder; pieces and decoded text on a fixed sample of the lines. Every line in a full
// run (BYTEPIECE_TEST_FULL=1); by default every line of small.txt and a sample of the others.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bytepiece/sentencepiece_tokenizer.hpp"
#include "sp_test_texts.hpp"
#include "test_support.hpp"

#ifdef BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace {

const char* const corpus_files[] = {"corpus/small.txt", "corpus/en.txt", "corpus/zh.txt", "corpus/code.txt",
                                    "corpus/mixed.txt"};

// Under sanitizers our side runs ~10x slower: every 61st line there, every 7th in Release (the
// CI's first stage; 12 models x 66 MB take about 10 minutes of two cores line by line).
#if defined(BYTEPIECE_SANITIZE)
constexpr std::size_t sample_stride = 61;
#else
constexpr std::size_t sample_stride = 7;
#endif

// The lines of a file without their '\n', as spm_encode feeds them: every `stride`-th one.
std::vector<std::string_view> lines_of(const std::string& data, std::size_t stride) {
    std::vector<std::string_view> lines;
    std::size_t index = 0;
    for (std::size_t p = 0; p < data.size();) {
        std::size_t e = data.find('\n', p);
        if (e == std::string::npos) e = data.size();
        if (index++ % stride == 0) lines.push_back(std::string_view(data).substr(p, e - p));
        p = e + 1;
    }
    return lines;
}

}  // namespace

#ifdef BYTEPIECE_HAVE_SENTENCEPIECE

TEST_CASE("SentencePiece models give SentencePiece's ids on every corpus line", "[sentencepiece][oracle][corpus]") {
    const std::vector<std::string> models = sp_test::unigram_models();
    if (models.empty()) WARN("no SentencePiece fixtures in " << test_support::shared_dir() << ": nothing compared");
    for (const std::string& path : models) {
        const auto ours = bytepiece::sentencepiece_tokenizer::load(path);
        sentencepiece::SentencePieceProcessor sp;
        REQUIRE(sp.Load(path).ok());
        for (const char* corpus : corpus_files) {
            if (!test_support::require_shared(corpus)) continue;
            const std::string data = test_support::read(test_support::shared_path(corpus));
            const std::size_t stride =
                std::string_view(corpus) == "corpus/small.txt" ? 1 : test_support::corpus_stride(sample_stride);
            const std::vector<std::string_view> lines = lines_of(data, stride);
            // Two workers (both tokenizers are safe to share), each taking blocks of lines:
            // ours through encode_texts (many lines per automaton pass), every 8th line also
            // through tokenize and decode, SentencePiece one Encode per line.
            constexpr std::size_t block = 4096;
            std::atomic<std::size_t> next{0};
            std::atomic<std::size_t> compared{0};
            std::mutex report;
            std::vector<std::string> failures;
            const auto fail = [&](std::string what) {
                std::lock_guard<std::mutex> lock(report);
                if (failures.size() < 5) failures.push_back(std::move(what));
                else failures.back() = "... and more";
            };
            const auto work = [&] {
                std::vector<int> theirs;
                std::vector<std::string> their_pieces;
                std::string their_text;
                for (std::size_t first; (first = next.fetch_add(block)) < lines.size();) {
                    const std::size_t count = std::min(block, lines.size() - first);
                    ours.encode_texts(lines.data() + first, count, [&](std::size_t k, const std::uint32_t* ids, std::size_t n) {
                        const std::size_t i = first + k;
                        theirs.clear();
                        if (!sp.Encode(lines[i], &theirs).ok()) return fail("SentencePiece failed on line " + std::to_string(i));
                        const bool same = n == theirs.size() && std::equal(ids, ids + n, theirs.begin(), [](std::uint32_t a, int b) {
                                              return a == static_cast<std::uint32_t>(b);
                                          });
                        if (!same) return fail(path + " " + corpus + ": ids differ on line " +
                                               std::to_string(i * stride + 1) + ": \"" + sp_test::escaped(lines[i]) + "\"");
                        if (i % 8 != 0) return;
                        their_pieces.clear();
                        if (!sp.Encode(lines[i], &their_pieces).ok() || ours.tokenize(lines[i]) != their_pieces)
                            return fail(path + " " + corpus + ": pieces differ on line " +
                                        std::to_string(i * stride + 1));
                        if (!sp.Decode(theirs, &their_text).ok() || ours.decode(ids, n) != their_text)
                            return fail(path + " " + corpus + ": decoded text differs on line " +
                                        std::to_string(i * stride + 1));
                    });
                    compared += count;
                }
            };
            std::thread helper(work);
            work();
            helper.join();
            INFO(path << " on " << corpus << (stride > 1 ? " (every " + std::to_string(stride) + "th line)" : ""));
            for (const auto& f : failures) FAIL_CHECK(f);
            CHECK(failures.empty());
            CHECK(compared.load() == lines.size());
        }
    }
}

#else

TEST_CASE("SentencePiece models give SentencePiece's ids on every corpus line", "[sentencepiece][oracle][corpus]") {
    WARN("libsentencepiece-dev not found at configure time: the corpus comparison is skipped "
         "(scripts/deps.sh test installs it)");
}

#endif
