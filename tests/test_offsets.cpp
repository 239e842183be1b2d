// SPDX-License-Identifier: Apache-2.0
// Offsets of BytePiece models: ranges into the original text through NFC, and raw mode.
#include "offsets_texts.hpp"

using bytepiece::byte_range;

namespace {

const bytepiece::tokenizer& model_40k() {
    static const auto tok = bytepiece::tokenizer::load(test_support::shared_path("models/bytepiece.eu.plus.40k.model"));
    return tok;
}

std::string piece_bytes(const bytepiece::tokenizer& tok, std::uint32_t id) {
    return id < 3 ? std::string() : std::string(tok.model().piece(id));
}

// All the properties, for one text under `options`.
void check_text(const bytepiece::tokenizer& tok, const std::string& text, bytepiece::encode_options options) {
    INFO("text: " << test_support::quote(text) << " normalize " << options.normalize);
    std::vector<std::uint32_t> plain, ids;
    std::vector<byte_range> offsets;
    tok.encode(text, plain, options);
    tok.encode_with_offsets(text, ids, offsets, options);
    REQUIRE(ids == plain);
    offsets_texts::check_monotone(offsets, ids.size(), text.size());
    std::size_t first = 0, last = ids.size();
    if (options.add_bos) {
        REQUIRE(offsets.front() == byte_range{0, 0});
        ++first;
    }
    if (options.add_eos) {
        REQUIRE(offsets.back() == byte_range{text.size(), text.size()});
        --last;
    }
    if (first == last) {
        REQUIRE(text.empty());
        return;
    }
    // NFC deletes nothing: the ranges cover the text without gaps.
    REQUIRE(offsets[first].begin == 0);
    REQUIRE(offsets[last - 1].end == text.size());
    for (std::size_t i = first + 1; i < last; ++i) REQUIRE(offsets[i].begin <= offsets[i - 1].end);
    if (!options.normalize) {
        // Raw mode: an exact partition, each range spelling its piece.
        for (std::size_t i = first; i < last; ++i) {
            if (i > first) REQUIRE(offsets[i].begin == offsets[i - 1].end);
            REQUIRE(text.substr(offsets[i].begin, offsets[i].size()) == piece_bytes(tok, ids[i]));
        }
        return;
    }
    // Runs of pieces whose outer edges fall on normalization boundaries (no range shared
    // with the neighbour) re-normalize to exactly their pieces.
    for (std::size_t i = first; i < last; ++i) {
        if (i > first && offsets[i - 1].end > offsets[i].begin) continue;
        std::string pieces;
        for (std::size_t j = i; j < last && j < i + 6; ++j) {
            pieces += piece_bytes(tok, ids[j]);
            if (j + 1 < last && offsets[j].end > offsets[j + 1].begin) continue;
            INFO("pieces " << i << ".." << j);
            CHECK(bytepiece::nfc(text.substr(offsets[i].begin, offsets[j].end - offsets[i].begin)) == pieces);
        }
    }
}

}  // namespace

TEST_CASE("nfc_append with an alignment writes what nfc writes and maps each segment") {
    std::mt19937 rng(7);
    for (int k = 0; k < 300; ++k) {
        const std::string text = offsets_texts::random_text(rng, 1 + k % 40);
        std::string out;
        bytepiece::alignment a;
        bytepiece::nfc_append(text, out, a);
        REQUIRE(out == bytepiece::nfc(text));
    }
    // Hand-checked: "Caf" is copied, "e" + U+0301 (3 bytes) becomes "é" (2 bytes), " x" copied.
    std::string out;
    bytepiece::alignment a;
    bytepiece::nfc_append("Cafe\xCC\x81 x", out, a);
    REQUIRE(out == "Caf\xC3\xA9 x");
    CHECK(a.original(0, 3) == byte_range{0, 3});
    CHECK(a.original(3, 4) == byte_range{3, 6});
    CHECK(a.original(4, 5) == byte_range{3, 6});
    CHECK(a.original(5, 7) == byte_range{6, 8});
    CHECK(a.original(2, 5) == byte_range{2, 6});
    // "x" + U+0301 has no composite and stays as it is: byte for byte, although NFC had to
    // look at it. Marks out of order (U+0301 class 230 before U+0323 class 220) are reordered:
    // the whole "a" + marks then maps as one.
    out.clear();
    a.clear();
    bytepiece::nfc_append("x\xCC\x81 a\xCC\x81\xCC\xA3", out, a);
    REQUIRE(out == bytepiece::nfc("x\xCC\x81 a\xCC\x81\xCC\xA3"));
    REQUIRE(out.substr(0, 4) == "x\xCC\x81 ");
    CHECK(a.original(0, 1) == byte_range{0, 1});
    CHECK(a.original(1, 3) == byte_range{1, 3});
    CHECK(a.original(4, 5) == byte_range{4, 9});
    CHECK(a.original(out.size() - 1, out.size()) == byte_range{4, 9});
}

TEST_CASE("the issue's example: the NFD text of 18 bytes maps back whole") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const auto& tok = model_40k();
    const std::string text = "Cafe\xCC\x81 costs 5\xE2\x82\xAC\n";
    REQUIRE(text.size() == 18);
    const auto e = tok.encode_with_offsets(text);
    REQUIRE(e.ids == tok.encode(text));
    std::string joined;
    for (auto id : e.ids) joined += tok.model().piece(id);
    REQUIRE(joined.size() == 17);
    REQUIRE(e.offsets.back().end == 18);
    // The piece holding "é" covers "e" + U+0301, bytes 3..6, and nothing maps beyond them
    // into another word.
    bool found = false;
    std::size_t pos = 0;
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
        const std::size_t len = tok.model().piece(e.ids[i]).size();
        if (pos <= 3 && pos + len > 3) {
            found = true;
            CHECK(e.offsets[i].begin <= 3);
            CHECK(e.offsets[i].end >= 6);
        }
        if (pos >= 5) CHECK(e.offsets[i].begin == pos + 1);  // after "é", one byte later than normalized
        pos += len;
    }
    CHECK(found);
    check_text(tok, text, {});
}

TEST_CASE("offsets hold on adversarial and random text, normalized and raw, with bos and eos") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const auto& tok = model_40k();
    bytepiece::encode_options normalized, raw, specials;
    raw.normalize = false;
    specials.add_bos = specials.add_eos = true;
    for (const auto& text : offsets_texts::adversarial_texts()) {
        check_text(tok, text, normalized);
        check_text(tok, text, raw);
        check_text(tok, text, specials);
    }
    std::mt19937 rng(2026);
    for (int k = 0; k < 400; ++k) {
        const std::string text = offsets_texts::random_text(rng, 1 + k % 60);
        check_text(tok, text, normalized);
        check_text(tok, text, raw);
    }
}

TEST_CASE("offsets of a long text cross windows and chunks") {
    if (!test_support::require_shared("corpus/mixed.txt")) return;
    const auto& tok = model_40k();
    std::string text = test_support::read(test_support::shared_path("corpus/mixed.txt")).substr(0, 300000);
    // NFD some of it so that the alignment has many spans.
    std::string nfd;
    for (char c : text) nfd += c == 'e' ? std::string("e\xCC\x81") : std::string(1, c);
    for (const std::string* t : {&text, &nfd}) {
        std::vector<std::uint32_t> plain, ids;
        std::vector<byte_range> offsets;
        tok.encode(*t, plain, tok.options());
        tok.encode_with_offsets(*t, ids, offsets, tok.options());
        REQUIRE(ids == plain);
        offsets_texts::check_monotone(offsets, ids.size(), t->size());
        REQUIRE(offsets.back().end == t->size());
    }
}
