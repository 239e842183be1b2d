// SPDX-License-Identifier: Apache-2.0
// The texts and models the SentencePiece oracle tests run on: every SentencePiece unigram
// fixture, every corpus line, the golden edge cases and SentencePiece-specific edge cases.
#pragma once

#include <bytepiece/detail/base64.hpp>
#include <bytepiece/sentencepiece_model.hpp>

#include <string>
#include <string_view>
#include <cstdio>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace sp_test {

/// The normalizer's and decoder's corpus oracles check every `line_stride()`-th line (a fixed
/// choice, so runs repeat): every 61st by default, where test_sentencepiece_corpus already
/// compares the ids of many more lines (which SentencePiece derives from the normalized text)
/// with SentencePiece's, so that the whole suite stays within the CI's time; every line in a
/// full run (BYTEPIECE_TEST_FULL=1, see test_support::full_run).
inline std::size_t line_stride() { return test_support::corpus_stride(61); }

/// `s` with bytes outside printable ASCII (and backslashes) as \xHH, for failure messages.
inline std::string escaped(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        }
    }
    return out;
}

/// A model of `pieces` (NORMAL, after an <unk> at id 0; with `byte_fallback`, the 256 byte
/// pieces after them) with an empty charsmap and no whitespace handling, so that text reaches
/// the segmentation as it is.
inline bytepiece::sentencepiece_model plain_model(const std::vector<std::pair<std::string, float>>& pieces,
                                             bool byte_fallback = false) {
    using type = bytepiece::sentencepiece_model::piece_type;
    bytepiece::sentencepiece_model m;
    m.pieces.push_back({"<unk>", 0.0f, type::unknown});
    for (const auto& [text, score] : pieces) m.pieces.push_back({text, score, type::normal});
    if (byte_fallback) {
        static const char* const hex = "0123456789ABCDEF";
        for (int b = 0; b < 256; ++b)
            m.pieces.push_back({std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", 0.0f, type::byte});
        m.trainer.byte_fallback = true;
    }
    m.normalizer.name = "identity";
    m.normalizer.add_dummy_prefix = false;
    m.normalizer.remove_extra_whitespaces = false;
    m.normalizer.escape_whitespaces = false;
    m.trainer.vocab_size = static_cast<std::int32_t>(m.pieces.size());
    return m;
}

/// The unigram `.model` fixtures (the BPE one is a reject fixture and is left out).
inline std::vector<std::string> unigram_models() {
    const std::vector<std::string> names = {
        "models/sp/albert-30k-clean.model",     "models/sp/spm-u2k-nmt_nfkc.model",
        "models/sp/spm-u2k-nfkc.model",         "models/sp/spm-u2k-nmt_nfkc_cf.model",
        "models/sp/spm-u2k-nfkc_cf.model",      "models/sp/spm-u2k-identity.model",
        "models/sp/spm-u2k-bytefallback.model", "models/sp/spm-u2k-nodummy-nows.model",
        "models/sp/spm-u2k-ws-suffix.model",    "models/bytepiece.eu.plus.40k.sp.model",
        "models/bytepiece.eu.plus.160k.sp.model", "models/bytepiece.zh.id.eu.40k.sp.model"};
    std::vector<std::string> out;
    for (const auto& n : names)
        if (test_support::file_exists(test_support::shared_path(n))) out.push_back(test_support::shared_path(n));
    return out;
}

/// Lines of `corpus/<name>` (without their newline), every `stride`-th one.
inline std::vector<std::string> corpus_lines(const std::string& name, std::size_t stride) {
    std::vector<std::string> out;
    const std::string path = test_support::shared_path("corpus/" + name);
    if (!test_support::file_exists(path)) return out;
    const std::string all = test_support::read(path);
    std::size_t index = 0;
    for (std::size_t at = 0; at < all.size();) {
        std::size_t nl = all.find('\n', at);
        if (nl == std::string::npos) nl = all.size();
        if (index++ % stride == 0) out.push_back(all.substr(at, nl - at));
        at = nl + 1;
    }
    return out;
}

/// The texts of golden/edge_cases.jsonl (each once) and SentencePiece-specific cases.
inline std::vector<std::string> edge_texts() {
    std::vector<std::string> out = {
        "", " ", "   ", "\n", "\t", "\r\n", " \t\n\r ", "a", " a", "a ", "  a  b  ", "a\tb\nc", "a  \t  b",
        "\xE2\x96\x81", "\xE2\x96\x81" "already", "ab\xE2\x96\x81", "a\xE2\x96\x81\xE2\x96\x81" "b", " \xE2\x96\x81 ",
        "Hello world", "  Hello   world  ", std::string("a\0b", 3), std::string(1, '\0'), std::string("\0 \0", 3),
        "\xEF\xBB\xBF" "bom", "a\xEF\xBB\xBF", "\xEF\xBB\xBF",
        // ill-formed UTF-8 of every kind
        "a\xFF\xFE" "b", "\x80", "x\xBFy", "\xC0\xAF", "\xC1\xBF", "\xC2", "\xC2 ", "\xE0\x80\xAF", "\xE0\xA0",
        "\xED\xA0\x80", "\xED\xBF\xBF", "\xEF\xBF\xBD", "\xF0\x80\x80\x80", "\xF0\x9F\x98", "\xF4\x90\x80\x80",
        "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFC\x84\x80\x80\x80\x80", "\xFE\xFF", "caf\xC3",
        // user-defined symbols inside words and next to spaces (ALBERT's, spm-u2k-bytefallback's)
        "x<mask>y https://a.b [CLS]", "<cls> <s>", "(a)", "\"quoted\"", "well-known", "3.14", "\xC2\xA3" "5",
        "5\xE2\x82\xAC", "a\xE2\x80\x93" "b", "a<sep>b<mask>", "<mask><mask>", " <mask> ", "https://https://",
        // decomposed accents and what NFKC does
        "cafe\xCC\x81", "e\xCC\x81\xCC\xA3", "\xE1\x84\x80\xE1\x85\xA1", "A\xCC\x8A", "\xEF\xAC\x81ne",
        "\xEF\xBC\xA1\xEF\xBC\xA2", "\xE2\x91\xA0\xE2\x91\xA1", "\xE3\x8D\xBF", "\xE2\x84\xAB", "Stra\xC3\x9F" "e",
        "\xC4\xB0stanbul", "\xCE\xA3\xCE\x91\xCE\xA3", "x\xE2\x80\x8By", "a\xE3\x80\x80" "b", "a\xC2\xA0" "b",
        "a\xE2\x80\xA8" "b", "a\x01" "b", "a\x7F" "b", "\x01\x02\x03", "\xF0\xA0\x80\x80\xF0\xA0\x80\x81x",
        "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB", "\xE4\xB8\xAD\xE6\x96\x87 \xE6\xB5\x8B\xE8\xAF\x95",
        "\xEF\xBC\x8C\xE3\x80\x82", "x y  z   w    v", std::string(300, ' ') + "x" + std::string(300, ' '),
        std::string(200, 'a'), "\xE2\x80\xA6", "\xE2\x84\xA2",
        // unknown characters alone and in runs, user-defined and control symbols as text, ties
        "\xF0\xA0\x80\x80 \xF0\xA0\x80\x81", "\xF0\x9F\x98\x80\xF0\x9F\x98\x81!", "HELLO WORLD",
        "<cls> <s> </s> <unk> <pad>", "<0x41> <0xE4>", "[CLS]word[SEP]", "1,200 2,000,000 3.14",
        "----------+----------", std::string(64, '='), "\xE2\x96\x81\xE2\x96\x81x\xE2\x96\x81 \xE2\x96\x81",
        "Hello  world! The caf\xC3\xA9's price: \xE2\x82\xAC" "1,200 (approx.) <mask> \xE4\xBD\xA0\xE5\xA5\xBD"
        "\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C\xE3\x80\x82\xF0\xA0\x80\x80\xF0\xA0\x80\x81"};
    const std::string path = test_support::shared_path("golden/edge_cases.jsonl");
    if (!test_support::file_exists(path)) return out;
    const std::string all = test_support::read(path);
    const std::string key = "\"text_b64\": \"";
    std::vector<std::string> seen;
    for (std::size_t at = all.find(key); at != std::string::npos; at = all.find(key, at + 1)) {
        const std::size_t from = at + key.size();
        const std::size_t to = all.find('"', from);
        std::string text;
        if (to == std::string::npos || !bytepiece::detail::base64_decode(std::string_view(all).substr(from, to - from), text))
            continue;
        bool dup = false;
        for (const auto& s : seen) dup = dup || s == text;
        if (!dup) {
            seen.push_back(text);
            out.push_back(text);
        }
    }
    return out;
}

}  // namespace sp_test
