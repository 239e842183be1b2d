// SPDX-License-Identifier: Apache-2.0
// The fixtures' normalizers on the shared corpus against HF tokenizers 0.23.2 (via node): every
// line of small.txt and a stride of the larger files.
#include "test_hf_normalizers_oracle.hpp"

namespace oracle = hf_normalizer_oracle;

namespace {

std::vector<std::string> corpus_lines(const std::string& name, std::size_t stride, std::size_t limit) {
    const std::string text = test_support::read(test_support::shared_path("corpus/" + name));
    std::vector<std::string> lines;
    std::size_t index = 0;
    for (std::size_t b = 0; b < text.size() && lines.size() < limit;) {
        std::size_t e = text.find('\n', b);
        if (e == std::string::npos) e = text.size();
        if (index++ % stride == 0) lines.push_back(text.substr(b, e - b));
        b = e + 1;
    }
    return lines;
}

}  // namespace

TEST_CASE("hf normalizers: the fixtures' normalizers on the corpus, as HF", "[hf][normalizer][corpus]") {
    if (!hf_oracle::available()) return;
    if (!test_support::require_shared("corpus/small.txt")) return;
    std::vector<std::string> texts = corpus_lines("small.txt", 1, ~std::size_t{0});
    for (const char* name : {"en.txt", "zh.txt", "code.txt", "mixed.txt"}) {
        const auto more = corpus_lines(name, 97, 1500);
        texts.insert(texts.end(), more.begin(), more.end());
    }
    // Whole lines plus pairs of lines joined by a newline (CR LF and LF reach the normalizer).
    const std::size_t single = texts.size();
    for (std::size_t i = 0; i + 1 < single; i += 7) texts.push_back(texts[i] + "\r\n" + texts[i + 1] + "\n");
    std::size_t total = 0;
    for (const char* name : {"albert-30k-clean.from_spm.json", "albert-30k-clean.transformers-albert.json",
                             "spm-u2k-identity.from_spm.json", "bytepiece.eu.plus.40k.bytelevel.json"}) {
        if (!test_support::require_shared(std::string("models/hf/") + name)) return;
        INFO(name);
        const std::string normalizer = oracle::fixture_normalizer(name);
        const auto hf = oracle::normalize(normalizer, texts);
        REQUIRE(hf.has_value());
        const auto ours = oracle::ours(normalizer, texts);
        std::size_t same = 0;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            if (ours[i] == (*hf)[i]) {
                ++same;
                continue;
            }
            if (texts.size() - same > 10) continue;
            INFO("line " << i << ": " << oracle::show(texts[i]));
            CHECK(oracle::show(ours[i]) == oracle::show((*hf)[i]));
        }
        CHECK(same == texts.size());
        total += texts.size();
    }
    CHECK(total > 20000);
}
