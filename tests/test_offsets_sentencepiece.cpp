// SPDX-License-Identifier: Apache-2.0
// Offsets of SentencePiece models: the normalizer's alignment (charsmap rules, whitespace
// trimming and folding, dummy prefix, user-defined symbols, byte fallback).
#include <bytepiece/sentencepiece_tokenizer.hpp>

#include "offsets_texts.hpp"

using bytepiece::byte_range;

namespace {

// The pieces' normalized bytes: a byte piece <0xXX> stands for its byte.
std::string normalized_bytes(const bytepiece::sentencepiece_tokenizer& sp, std::uint32_t id) {
    const auto& piece = sp.model().pieces[id];
    if (piece.type == bytepiece::sentencepiece_model::piece_type::byte)
        return std::string(1, static_cast<char>(std::stoi(piece.text.substr(3, 2), nullptr, 16)));
    return piece.text;
}

void check_text(const bytepiece::sentencepiece_tokenizer& sp, const bytepiece::sentencepiece_normalizer& bare,
                const std::string& text) {
    INFO("text: " << test_support::quote(text));
    std::vector<std::uint32_t> ids;
    std::vector<byte_range> offsets;
    sp.encode_with_offsets(text, ids, offsets);
    REQUIRE(ids == sp.encode(text));
    offsets_texts::check_monotone(offsets, ids.size(), text.size());
    const std::vector<std::string> pieces = sp.tokenize(text);
    REQUIRE(pieces.size() == ids.size());
    // Pieces are spans of the normalized text except unknown runs (<unk> has no text of its
    // own): rebuild each piece's normalized bytes from `tokenize`.
    std::vector<std::string> bytes(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto type = sp.model().pieces[ids[i]].type;
        bytes[i] = type == bytepiece::sentencepiece_model::piece_type::byte ? normalized_bytes(sp, ids[i]) : pieces[i];
    }
    // Bytes in no range are what the normalizer deleted: taking them out changes nothing.
    std::vector<bool> covered(text.size(), false);
    for (const auto& r : offsets)
        for (std::size_t k = r.begin; k < r.end; ++k) covered[k] = true;
    std::string kept;
    for (std::size_t k = 0; k < text.size(); ++k)
        if (covered[k]) kept += text[k];
    CHECK(sp.normalize(kept) == sp.normalize(text));
    // Runs of pieces with boundary edges and no gap or inserted text inside re-normalize (with
    // no dummy prefix and no whitespace trimming, which belong to the whole text) to exactly
    // their pieces. The dummy prefix is in the first piece (the last with whitespace as suffix).
    // Byte pieces can cut a character, which SentencePiece's normalizer never does: only edges
    // at character starts count.
    std::vector<bool> char_start(text.size() + 1, false);
    const auto* t = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t k = 0; k < text.size(); k += bytepiece::detail::utf8::decode(t + k, t + text.size()).length)
        char_start[k] = true;
    char_start[text.size()] = true;
    const bool prefix = sp.model().normalizer.add_dummy_prefix;
    const bool fold = sp.model().normalizer.remove_extra_whitespaces;
    const std::string two_spaces = sp.model().normalizer.escape_whitespaces ? "\xE2\x96\x81\xE2\x96\x81" : "  ";
    const bool suffix = sp.model().trainer.treat_whitespace_as_suffix;
    for (std::size_t i = prefix && !suffix ? 1 : 0; i < ids.size(); ++i) {
        if (offsets[i].size() == 0 || !char_start[offsets[i].begin]) continue;
        if (i > 0 && offsets[i - 1].end > offsets[i].begin) continue;
        std::string joined;
        for (std::size_t j = i; j < ids.size() && j < i + 6; ++j) {
            if (offsets[j].size() == 0 || (prefix && suffix && j + 1 == ids.size())) break;
            if (j > i && offsets[j].begin > offsets[j - 1].end) break;  // a deleted stretch between
            joined += bytes[j];
            if (j + 1 < ids.size() && offsets[j].end > offsets[j + 1].begin) continue;
            if (!char_start[offsets[j].end]) continue;
            // Spaces folded into one are a stretch normalization merged: a run holding them
            // is not cut on normalization boundaries.
            const std::string got = bare.normalize(text.substr(offsets[i].begin, offsets[j].end - offsets[i].begin));
            if (fold && got.find(two_spaces) != std::string::npos) continue;
            INFO("pieces " << i << ".." << j);
            CHECK(got == joined);
        }
    }
}

}  // namespace

TEST_CASE("the aligned SentencePiece normalizer writes what the plain one writes") {
    const char* models[] = {"models/sp/spm-u2k-nmt_nfkc.model", "models/sp/albert-30k-clean.model",
                            "models/sp/spm-u2k-ws-suffix.model", "models/sp/spm-u2k-nodummy-nows.model",
                            "models/sp/spm-u2k-identity.model", "models/sp/spm-u2k-nfkc_cf.model",
                            "models/bytepiece.eu.plus.40k.sp.model"};
    for (const char* relative : models) {
        if (!test_support::require_shared(relative)) continue;
        const auto m = bytepiece::sentencepiece_model::load(test_support::shared_path(relative));
        const bytepiece::sentencepiece_normalizer norm(m);
        std::mt19937 rng(11);
        std::string out;
        bytepiece::alignment a;
        for (const auto& text : offsets_texts::adversarial_texts()) {
            norm.normalize(text, out, a);
            REQUIRE(out == norm.normalize(text));
        }
        for (int k = 0; k < 300; ++k) {
            const std::string text = offsets_texts::random_text(rng, 1 + k % 50);
            norm.normalize(text, out, a);
            INFO(relative << " " << test_support::quote(text));
            REQUIRE(out == norm.normalize(text));
        }
    }
}

TEST_CASE("hand-checked SentencePiece offsets: trimmed and folded spaces, dummy prefix, NFKC") {
    if (!test_support::require_shared("models/sp/spm-u2k-nmt_nfkc.model")) return;
    const auto m = bytepiece::sentencepiece_model::load(test_support::shared_path("models/sp/spm-u2k-nmt_nfkc.model"));
    const bytepiece::sentencepiece_normalizer norm(m);
    REQUIRE(norm.add_dummy_prefix());
    REQUIRE(norm.remove_extra_whitespaces());
    std::string out;
    bytepiece::alignment a;
    // "  a   b " -> "▁a▁b": the prefix is inserted before "a" (byte 2), the first space after
    // "a" becomes the second ▁, the other spaces are gone.
    norm.normalize("  a   b ", out, a);
    REQUIRE(out == "\xE2\x96\x81" "a" "\xE2\x96\x81" "b");
    CHECK(a.original(0, 3) == byte_range{2, 2});
    CHECK(a.original(0, 4) == byte_range{2, 3});
    CHECK(a.original(3, 4) == byte_range{2, 3});
    CHECK(a.original(4, 7) == byte_range{3, 4});
    CHECK(a.original(7, 8) == byte_range{6, 7});
    // A fullwidth letter (3 bytes) becomes ASCII through the charsmap: the whole character.
    norm.normalize("x\xEF\xBC\xA1y", out, a);
    REQUIRE(out == "\xE2\x96\x81xAy");
    CHECK(a.original(4, 5) == byte_range{1, 4});
    CHECK(a.original(5, 6) == byte_range{4, 5});
}

TEST_CASE("SentencePiece offsets hold on adversarial and random text for every model kind") {
    const char* models[] = {"models/sp/spm-u2k-nmt_nfkc.model", "models/sp/albert-30k-clean.model",
                            "models/sp/spm-u2k-ws-suffix.model", "models/sp/spm-u2k-nodummy-nows.model",
                            "models/sp/spm-u2k-bytefallback.model", "models/sp/spm-u2k-identity.model",
                            "models/bytepiece.eu.plus.40k.sp.model"};
    for (const char* relative : models) {
        if (!test_support::require_shared(relative)) continue;
        INFO(relative);
        const auto sp = bytepiece::sentencepiece_tokenizer::load(test_support::shared_path(relative));
        auto spec = sp.model().normalizer;
        spec.add_dummy_prefix = false;
        spec.remove_extra_whitespaces = false;
        const bytepiece::sentencepiece_normalizer bare(spec);
        for (const auto& text : offsets_texts::adversarial_texts()) check_text(sp, bare, text);
        std::mt19937 rng(5);
        for (int k = 0; k < 150; ++k) check_text(sp, bare, offsets_texts::random_text(rng, 1 + k % 40));
    }
}
