// SPDX-License-Identifier: Apache-2.0
// detail::hf_normalizer against HF tokenizers 0.23.2 (via node) on edge texts: every
// normalizer type and option, the fixtures' charsmaps, and the loading errors.
#include "test_hf_normalizers_oracle.hpp"

#include <bytepiece/errors.hpp>

using namespace std::string_literals;
namespace oracle = hf_normalizer_oracle;

namespace {

const std::vector<std::string>& edge_texts() {
    static const std::vector<std::string> texts = {
        "",
        " ",
        "Hello world",
        "  Hello   world  ",
        "\xEF\xBC\xA1\xCC\x81",                       // Ａ + U+0301: one cluster under 6 bytes
        "a\xCC\x81\xCC\x81\xCC\x81",                  // a + 3 x U+0301: 7 bytes, per character
        "e\xCC\x81 E\xCC\x81 \xC3\xA9",               // e + U+0301, precomposed
        "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB\xE1\x84\x80\xE1\x85\xB3\xE1\x86\xAF",  // 한글 as jamo
        "\xED\x95\x9C\xEA\xB8\x80",                   // 한글
        "\xE1\xBA\x9B\xCC\xA3",                       // ẛ̣
        "a\r\nb\rc\nd\r\r\n",                         // CR LF is one cluster
        "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",  // ZWJ sequence
        "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD x",         // emoji modifier
        "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5\xF0\x9F\x87\xAF",  // three regional indicators
        "x\0y"s,
        "\0\xEF\xBC\xA1\xCC\x81"s,
        "A\0\xCC\x81"s,
        "\xEF\xBD\xB6\xEF\xBE\x9E\xEF\xBD\xB7\xEF\xBE\x9E \xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3 \xE2\x91\xA0 \xEF\xAC\x81",
        "\xE2\x96\x81" "already",
        "a\xE2\x80\x8B" "b\xC2\xA0" "c\xE3\x80\x80" "d\xEF\xBB\xBF" "e\x01" "f\x7F",
        "\t tab\tand\nnewline \xE2\x80\xA8 ",
        "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7\xE0\xA4\xBF",  // क्षि
        "\xE0\xB8\xB3\xE0\xB8\x99\xE0\xB9\x89\xE0\xB8\xB3" "3",  // Thai (HF's test)
        "C\xE1\xBB\xA5 th\xE1\xBB\x83, b\xE1\xBA\xA1n s\xE1\xBA\xBD",  // Vietnamese
        "Me llam\xC3\xB3 \xE3\x81\x8C\xE3\x81\x8B\xE3\x82\x99",
        "\xC3\x80\xCE\xA3\xCE\xA3 \xC4\xB0stanbul \xE1\xBA\x9E \xEF\xAC\x80 \xE1\xBE\x88",  // case mappings
        "a\xCC\x95\xCC\x80\xD6\xAE\xCC\x81",          // marks to reorder
        "a\xE1\xB7\xB6\xCC\x81 e\xE1\xB7\xBA\xCC\x81",  // marks of Unicode 10 and 14
        "\xE2\x84\xAB \xE2\x84\xA6 \xEF\xB7\xBA \xE3\x8D\xB1 \xC2\xBD",  // singletons, long compat
        "``quoted'' and ''x``",
        "x\xE0\xA4\xBE\xE0\xA4\x83 \xE0\xA6\xA6\xE0\xA6\xBE",  // spacing marks
        "\xCC\x81\xCC\x81 leading marks",
        "tail   ",
        "   ",
        "\xE3\x80\x80\xE3\x80\x80x\xE3\x80\x80",
        "\xEF\xBF\xBD\xC2\x8F\xC2\x9F",
    };
    return texts;
}

void compare(const std::string& normalizer, const std::vector<std::string>& texts) {
    INFO("normalizer " << normalizer);
    const auto hf = oracle::normalize(normalizer, texts);
    REQUIRE(hf.has_value());
    const auto ours = oracle::ours(normalizer, texts);
    std::size_t same = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        INFO("text " << oracle::show(texts[i]));
        CHECK(oracle::show(ours[i]) == oracle::show((*hf)[i]));
        same += ours[i] == (*hf)[i];
    }
    CHECK(same == texts.size());
}

}  // namespace

TEST_CASE("hf normalizers: each type and option on edge texts, as HF", "[hf][normalizer]") {
    if (!hf_oracle::available()) return;
    const std::vector<std::string> normalizers = {
        R"({"type":"NFC"})",
        R"({"type":"NFD"})",
        R"({"type":"NFKC"})",
        R"({"type":"NFKD"})",
        R"({"type":"Lowercase"})",
        R"({"type":"StripAccents"})",
        R"({"type":"Nmt"})",
        R"({"type":"Strip","strip_left":true,"strip_right":true})",
        R"({"type":"Strip","strip_left":true,"strip_right":false})",
        R"({"type":"Strip","strip_left":false,"strip_right":true})",
        R"({"type":"Strip","strip_left":false,"strip_right":false})",
        R"({"type":"Prepend","prepend":"▁"})",
        R"({"type":"Prepend","prepend":""})",
        R"({"type":"Replace","pattern":{"String":"''"},"content":"\""})",
        R"({"type":"Replace","pattern":{"String":" "},"content":"▁"})",
        R"({"type":"Replace","pattern":{"String":"l"},"content":""})",
        R"({"type":"Replace","pattern":{"String":""},"content":"_"})",
        R"({"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "})",
        R"({"type":"Replace","pattern":{"Regex":" {2,}"},"content":"▁"})",
        R"({"type":"Replace","pattern":{"Regex":"l+"},"content":"L"})",
        R"({"type":"Replace","pattern":{"Regex":"\u3000{1,}"},"content":"_"})",
        R"({"type":"Replace","pattern":{"Regex":"world"},"content":"W"})",
        R"({"type":"Replace","pattern":{"Regex":""},"content":"_"})",
        R"({"type":"Sequence","normalizers":[]})",
        R"({"type":"Sequence","normalizers":[{"type":"NFKD"},{"type":"StripAccents"},{"type":"Lowercase"}]})",
        R"({"type":"Sequence","normalizers":[{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"Lowercase"}]},{"type":"NFC"},{"type":"Prepend","prepend":"▁"}]})",
    };
    for (const auto& n : normalizers) compare(n, edge_texts());
}

TEST_CASE("hf normalizers: the fixtures' normalizers on edge texts, as HF", "[hf][normalizer]") {
    if (!hf_oracle::available()) return;
    for (const char* name : {"albert-30k-clean.from_spm.json", "albert-30k-clean.transformers-albert.json",
                             "spm-u2k-bytefallback.from_spm.json", "spm-u2k-identity.from_spm.json",
                             "spm-u2k-nmt_nfkc.from_spm.json", "bytepiece.eu.plus.40k.bytelevel.json"}) {
        if (!test_support::require_shared("models/hf/"s + name)) return;
        INFO(name);
        compare(oracle::fixture_normalizer(name), edge_texts());
    }
}

TEST_CASE("hf normalizers: Precompiled takes the shortest key of a short cluster, whole", "[hf][normalizer]") {
    // Hand-checked facts of spec 3.5 (nmt_nfkc rules): the cluster Ａ + U+0301 (5 bytes) is
    // replaced by Ａ's replacement alone; a + 3 x U+0301 (7 bytes) is looked up per character.
    if (!test_support::require_shared("models/hf/spm-u2k-nmt_nfkc.from_spm.json")) return;
    const auto n = oracle::make(oracle::fixture_normalizer("spm-u2k-nmt_nfkc.from_spm.json"));
    std::string out;
    n.normalize("\xEF\xBC\xA1\xCC\x81", out);
    CHECK(out == "A");
    n.normalize("a\xCC\x81\xCC\x81\xCC\x81", out);
    CHECK(out == "a\xCC\x81\xCC\x81\xCC\x81");
    n.normalize("a\r\nb", out);
    CHECK(out == "a b");
    n.normalize("x\0\xEF\xBC\xA1"s, out);
    CHECK(out == "x\0A"s);
    CHECK_FALSE(n.is_identity());
    CHECK(bytepiece::detail::hf_normalizer().is_identity());
    CHECK(oracle::make(R"({"type":"Sequence","normalizers":[]})").is_identity());
    CHECK(oracle::make("null").is_identity());
}

namespace {

int error_code(const std::string& normalizer) {
    try {
        oracle::make(normalizer);
    } catch (const bytepiece::model_error& e) {
        return static_cast<int>(e.code());
    }
    return 0;
}

}  // namespace

TEST_CASE("hf normalizers: what HF refuses is refused; what this library lacks is unsupported", "[hf][normalizer]") {
    const int unsupported = static_cast<int>(bytepiece::errc::model_hf_unsupported);
    const int invalid = static_cast<int>(bytepiece::errc::model_hf_invalid);
    const int malformed = static_cast<int>(bytepiece::errc::model_hf_malformed);
    // HF refuses each of these (checked against the oracle below when it is there).
    const std::vector<std::string> refused = {
        R"({"type":"Foo"})",
        R"({"type":"BertNormalizer"})",
        R"({"type":"Strip","strip_left":true})",
        R"({"type":"Strip","strip_left":1,"strip_right":true})",
        R"({"type":"Sequence"})",
        R"({"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Nope"}]})",
        R"({"type":"Replace","pattern":{"String":"a","Regex":"b"},"content":"_"})",
        R"({"type":"Replace","pattern":{"Glob":"a"},"content":"_"})",
        R"({"type":"Replace","pattern":{"String":"a"}})",
        R"({"type":"Prepend"})",
        R"({"type":"Precompiled","precompiled_charsmap":"!!!!"})",
        R"({"type":"Precompiled","precompiled_charsmap":"AAAA"})",
        R"({"type":"Precompiled","precompiled_charsmap":"CAAAAAAAAAAAAAAA/w=="})",
        R"({"type":"Precompiled","precompiled_charsmap":""})",
        R"({"type":"Precompiled","precompiled_charsmap":null})",
        R"({"type":"Precompiled"})",
        R"({"type":"NFC","x":1})",  // HF ignores unknown keys; this library refuses them
    };
    for (std::size_t i = 0; i + 1 < refused.size(); ++i) {
        INFO(refused[i]);
        const int code = error_code(refused[i]);
        CHECK((code == invalid || code == malformed));
        if (hf_oracle::available()) CHECK_FALSE(oracle::normalize(refused[i], {"a"}).has_value());
    }
    CHECK(error_code(refused.back()) == unsupported);
    CHECK(error_code(R"({"type":"Bert","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true})") ==
          unsupported);
    CHECK(error_code(R"({"type":"ByteLevel"})") == unsupported);
    CHECK(error_code(R"({"type":"Sequence","normalizers":[{"type":"NFC","extra":true}]})") == unsupported);
    try {
        oracle::make(R"({"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Nope"}]})");
        FAIL("no error");
    } catch (const bytepiece::model_error& e) {
        CHECK(std::string(e.what()).find("test.json: normalizers[1].type") != std::string::npos);
    }
}
