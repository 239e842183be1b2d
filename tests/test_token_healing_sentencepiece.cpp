// SPDX-License-Identifier: Apache-2.0
// Token healing of SentencePiece models (sentencepiece_token_healing.hpp): candidates against a
// scan of the vocabulary, the BytePiece healer as the oracle on the converted model (same ids),
// whitespace that the normalizer drops at a prompt's end, corpus lines cut at every character,
// and the models for which the rule is not defined.
#include <bytepiece/sentencepiece_token_healing.hpp>

#include <map>

#include "test_support.hpp"

namespace {

using test_support::char_starts;
using test_support::require_shared;
using test_support::shared_path;
using piece_type = bytepiece::sentencepiece_model::piece_type;

const bytepiece::sentencepiece_tokenizer& sp_model(const std::string& relative) {
    static std::map<std::string, bytepiece::sentencepiece_tokenizer> cache;
    auto it = cache.find(relative);
    if (it == cache.end())
        it = cache.emplace(relative, bytepiece::sentencepiece_tokenizer::load(shared_path(relative))).first;
    return it->second;
}

// No bytes SentencePiece reads differently from BytePiece: control characters are BYTE pieces
// there, a literal U+2581 is a space.
std::vector<std::string> sample_lines(const std::string& file, std::size_t count, std::size_t max_bytes) {
    return test_support::sample_corpus_lines(file, count, max_bytes, [](const std::string& line) {
        return std::none_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }) &&
               line.find("\xE2\x96\x81") == std::string::npos;
    });
}

std::string spaces_to_meta(std::string s) {
    std::string out;
    for (char c : s) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    return out;
}

}  // namespace

TEST_CASE("SentencePiece candidates equal a scan of the NORMAL and USER_DEFINED pieces") {
    for (const std::string m : {"models/bytepiece.eu.plus.40k.sp.model", "models/sp/spm-u2k-bytefallback.model",
                                "models/sp/albert-30k-clean.model"}) {
        if (!require_shared(m)) continue;
        const auto& sp = sp_model(m);
        const bytepiece::sentencepiece_token_healer healer(sp);
        const auto& pieces = sp.model().pieces;
        std::vector<std::string> rs{"", "\xE2\x96\x81", "\xE2\x96\x81th", "the", "<unk>", "<0x41>", "\xE2\x96\x81in\xE2\x96\x81"};
        for (const auto& line : sample_lines("en.txt", 5, 40))
            for (std::size_t k = 1; k <= 6 && k <= line.size(); ++k) rs.push_back(spaces_to_meta(line.substr(line.size() - k)));
        for (const auto& r : rs) {
            INFO(m << " remainder '" << r << "'");
            std::vector<std::uint32_t> want, want_pre;
            for (std::uint32_t id = 0; id < pieces.size(); ++id) {
                const auto& p = pieces[id];
                if (p.type != piece_type::normal && p.type != piece_type::user_defined) continue;
                if (p.text.compare(0, r.size(), r) == 0) want.push_back(id);
                if (p.text.size() <= r.size() && r.compare(0, p.text.size(), p.text) == 0) want_pre.push_back(id);
            }
            CHECK(healer.starting_with(r) == want);
            CHECK(healer.prefixes_of(r) == want_pre);
        }
    }
}

TEST_CASE("on the converted eu.plus.40k model, SentencePiece healing equals BytePiece healing") {
    if (!require_shared("models/bytepiece.eu.plus.40k.sp.model") || !require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const auto& sp = sp_model("models/bytepiece.eu.plus.40k.sp.model");
    const auto tok = bytepiece::tokenizer::load(shared_path("models/bytepiece.eu.plus.40k.model"));
    const bytepiece::sentencepiece_token_healer sp_healer(sp);
    const bytepiece::token_healer bp_healer(tok);
    // The English example, in the normalized domain.
    const auto h = sp_healer.heal("The weather in Ber");
    CHECK(h.remainder == spaces_to_meta(" in Ber"));
    REQUIRE(h.removed_ids.size() == 2);
    CHECK(sp.id_to_piece(h.removed_ids[0]) == spaces_to_meta(" in B"));
    // Corpus lines cut at every character: where the two tokenizers segment the prompt alike
    // (almost always; see models/README.md), they heal it alike.
    std::size_t compared = 0, cuts = 0;
    for (const std::string file : {"en.txt", "zh.txt", "mixed.txt"}) {
        for (const auto& line : sample_lines(file, 10, 120)) {
            for (const std::size_t cut : char_starts(line)) {
                ++cuts;
                const std::string prompt = line.substr(0, cut);
                if (sp.encode(prompt) != tok.encode(prompt)) continue;
                ++compared;
                INFO("prompt '" << prompt << "'");
                const auto a = sp_healer.heal(prompt);
                const auto b = bp_healer.heal(prompt);
                REQUIRE(a.ids == b.ids);
                REQUIRE(a.removed_ids == b.removed_ids);
                REQUIRE(a.remainder == spaces_to_meta(b.remainder));
            }
        }
    }
    INFO(compared << " of " << cuts << " cuts compared");
    CHECK(compared > cuts * 9 / 10);
}

TEST_CASE("a prompt's trailing whitespace that the normalizer drops is given back as U+2581") {
    if (!require_shared("models/sp/spm-u2k-nmt_nfkc.model")) return;
    const auto& sp = sp_model("models/sp/spm-u2k-nmt_nfkc.model");
    const bytepiece::sentencepiece_token_healer healer(sp);
    const std::string meta = "\xE2\x96\x81";
    CHECK(sp.normalize("Hello ") == sp.normalize("Hello"));  // the fact the rule works around
    const auto h = healer.heal("Hello ");
    CHECK(h.remainder.size() >= meta.size());
    CHECK(h.remainder.compare(h.remainder.size() - meta.size(), meta.size(), meta) == 0);
    // The kept ids and the remainder spell what "Hello" + a continuation is normalized to.
    std::vector<std::uint32_t> kept = h.ids;
    std::string spelled;
    for (auto id : kept) spelled += std::string(sp.id_to_piece(id));
    CHECK(spelled + h.remainder == sp.normalize("Hello world").substr(0, spelled.size() + h.remainder.size()));
    // An empty prompt: the continuation gets the dummy prefix.
    const auto e = healer.heal("");
    CHECK(e.ids.empty());
    CHECK(e.remainder == meta);

    // Corpus lines cut at every character: the ids split the prompt's encoding, and whenever the
    // cut is a boundary of the full line's segmentation and the line's normalized text starts
    // with the healed text, the kept ids are the line's first ids.
    std::size_t cuts = 0, on_boundary = 0;
    for (const auto& line : sample_lines("en.txt", 12, 100)) {
        const auto full = sp.encode(line);
        const std::string nline = sp.normalize(line);
        std::vector<std::size_t> starts{0};
        for (const auto& piece : sp.tokenize(line)) starts.push_back(starts.back() + piece.size());
        for (const std::size_t cut : char_starts(line)) {
            ++cuts;
            const std::string prompt = line.substr(0, cut);
            INFO("prompt '" << prompt << "'");
            const auto r = healer.heal(prompt);
            std::vector<std::uint32_t> joined = r.ids;
            joined.insert(joined.end(), r.removed_ids.begin(), r.removed_ids.end());
            REQUIRE(joined == sp.encode(prompt));
            if (nline.compare(0, r.kept_bytes + r.remainder.size(), std::string(nline.substr(0, r.kept_bytes)) + r.remainder) != 0)
                continue;
            const auto at = std::find(starts.begin(), starts.end(), r.kept_bytes);
            if (at == starts.end()) continue;
            ++on_boundary;
            REQUIRE(static_cast<std::size_t>(at - starts.begin()) == r.ids.size());
            REQUIRE(std::equal(r.ids.begin(), r.ids.end(), full.begin()));
        }
    }
    INFO(on_boundary << " of " << cuts);
    CHECK(on_boundary > cuts / 2);
}

TEST_CASE("SentencePiece healing refuses models that treat whitespace as a suffix") {
    if (!require_shared("models/sp/spm-u2k-ws-suffix.model")) return;
    const auto& sp = sp_model("models/sp/spm-u2k-ws-suffix.model");
    const bytepiece::sentencepiece_token_healer healer(sp);
    try {
        (void)healer.heal("Hello wor");
        FAIL("no error");
    } catch (const bytepiece::argument_error& e) {
        CHECK(e.code() == bytepiece::errc::heal_undefined);
    }
}
