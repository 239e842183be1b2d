// SPDX-License-Identifier: Apache-2.0
// SentencePiece's normalizer: the charsmap blob (checks, darts-clone walk), the normalizer
// against a slow reference of spec 2.2 on hand-built models, and against libsentencepiece
// 0.1.97 itself on every fixture model, corpus line and edge case.
#include <bytepiece/detail/base64.hpp>
#include <bytepiece/detail/charsmap.hpp>
#include <bytepiece/sentencepiece_normalizer.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sp_charsmap_builder.hpp"
#include "sp_test_texts.hpp"
#include "test_support.hpp"

#if BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace {

using bytepiece::sentencepiece_normalizer;
using piece_type = bytepiece::sentencepiece_model::piece_type;
using rules_t = std::map<std::string, std::string>;

const std::string sym = "\xE2\x96\x81";  // U+2581

// A miniature of the nmt_nfkc rules with each kind the real tables have: whitespace to " ",
// deletions, one-to-one and one-to-many mappings, multi-character keys (a base letter plus a
// combining mark) and nested keys of different lengths.
const rules_t nmt_like = {
    {"\t", " "},
    {"\n", " "},
    {"\r", " "},
    {"\xE2\x96\x81", " "},          // U+2581
    {"\xE3\x80\x80", " "},          // U+3000
    {"\xC2\xA0", " "},              // U+00A0
    {"\x01", ""},                   // deleted
    {"\x7F", ""},                   // deleted
    {"\xEF\xBC\xA1", "A"},          // FULLWIDTH A
    {"\xE2\x91\xA0", "1"},          // CIRCLED ONE
    {"\xEF\xAC\x81", "fi"},         // LIGATURE FI
    {"e\xCC\x81", "\xC3\xA9"},      // e + COMBINING ACUTE -> é
    {"e\xCC\x81\xCC\xA3", "\xE1\xBA\xB9\xCC\x81"},  // e + acute + dot below -> ẹ + acute
    {"\xE2\x80\x8B", " "},          // ZERO WIDTH SPACE
    {"x y", "xy"},                  // a key containing a space (nothing forbids it)
    {"\xE2\x84\xA2", "TM"},         // TRADE MARK SIGN
    {"\xE2\x80\xA6", "..."},        // HORIZONTAL ELLIPSIS
    {"\xEF\xBC\x88", " ( "},        // a replacement with spaces inside
};

std::vector<std::string> symbols_of(const bytepiece::sentencepiece_model& m) {
    std::vector<std::string> out;
    for (const auto& p : m.pieces)
        if (p.type == piece_type::user_defined) out.push_back(p.text);
    return out;
}

std::string reference(const bytepiece::sentencepiece_model& m, const rules_t& rules, std::string_view text) {
    return sp_test::reference_normalize(text, rules, symbols_of(m), m.normalizer.add_dummy_prefix,
                                        m.normalizer.remove_extra_whitespaces, m.normalizer.escape_whitespaces,
                                        m.trainer.treat_whitespace_as_suffix);
}

// Texts mixing every case the normalizer distinguishes.
std::string random_text(std::mt19937& rng, std::size_t max_atoms) {
    static const std::vector<std::string> atoms = {
        "a", "b", "e", "x", "y", "z", "H", " ", " ", "  ", "\t", "\n", "\r", sym, "\xE3\x80\x80", "\xC2\xA0",
        "\x01", "\x7F", std::string(1, '\0'), "\xEF\xBC\xA1", "\xE2\x91\xA0", "\xEF\xAC\x81", "\xCC\x81", "\xCC\xA3",
        "e\xCC\x81", "\xE2\x80\x8B", "x y", "\xE2\x84\xA2", "\xE2\x80\xA6", "\xEF\xBC\x88", "\xE4\xB8\xAD",
        "\xF0\x9F\x98\x80", "\xEF\xBB\xBF", "\xEF\xBF\xBD",
        // ill-formed: lone continuation, overlong, surrogate, above U+10FFFF, truncated, F8-FF
        "\x80", "\xBF", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",
        "\xE4\xB8", "\xF0\x9F\x98", "\xC3", "\xF8", "\xFE", "\xFF",
        // user-defined symbols and near misses
        "<mask>", "<mas", "[CLS]", "https://", "\xE2\x80\x93", "(", ")"};
    std::string s;
    const std::size_t n = rng() % (max_atoms + 1);
    for (std::size_t i = 0; i < n; ++i) s += atoms[rng() % atoms.size()];
    return s;
}

}  // namespace

TEST_CASE("charsmap: the builder's blobs walk back to exactly their rules", "[sentencepiece][charsmap]") {
    const bytepiece::detail::sp_charsmap m(sp_test::build_charsmap(nmt_like), "test");
    const auto keys = m.keys();
    CHECK(rules_t(keys.begin(), keys.end()) == nmt_like);
    CHECK(keys.size() == nmt_like.size());
}

TEST_CASE("charsmap: longest match, nested keys, no match, NUL never matches", "[sentencepiece][charsmap]") {
    const bytepiece::detail::sp_charsmap m(sp_test::build_charsmap(nmt_like), "test");
    std::string_view r;
    auto match = [&](std::string_view s) {
        r = {};
        return m.longest_match(reinterpret_cast<const unsigned char*>(s.data()), s.size(), r);
    };
    CHECK(match("e\xCC\x81\xCC\xA3 tail") == 5);
    CHECK(r == "\xE1\xBA\xB9\xCC\x81");
    CHECK(match("e\xCC\x81\xCC") == 3);  // the longer key is cut short: the shorter one wins
    CHECK(r == "\xC3\xA9");
    CHECK(match("e") == 0);
    CHECK(match("e\xCC\x81") == 3);
    CHECK(match("e\xCC") == 0);
    CHECK(match("\x01z") == 1);
    CHECK(r.empty());
    CHECK(match(std::string_view("\0\t", 2)) == 0);
    CHECK(match("x y") == 3);
    CHECK(r == "xy");
    CHECK(match("x z") == 0);
    CHECK(match("") == 0);
    CHECK(m.starts_key('e'));
    CHECK(m.starts_key('\t'));
    CHECK_FALSE(m.starts_key('a'));
    CHECK_FALSE(m.starts_key(0));
    bool alone = true, ascii = true;
    m.first_byte_facts('e', alone, ascii);
    CHECK_FALSE(alone);
    CHECK_FALSE(ascii);
    m.first_byte_facts('x', alone, ascii);
    CHECK_FALSE(alone);
    CHECK(ascii);
    m.first_byte_facts('\t', alone, ascii);
    CHECK(alone);
}

TEST_CASE("charsmap: broken blobs are model_errors naming the source and the byte offset",
          "[sentencepiece][charsmap]") {
    using bytepiece::detail::sp_charsmap;
    auto fails_with = [](const std::string& blob, const std::string& needle) {
        try {
            sp_charsmap m(blob, "bad.model");
            FAIL("accepted a broken blob; expected: " << needle);
        } catch (const bytepiece::model_error& e) {
            CHECK(e.code() == bytepiece::errc::model_sentencepiece_invalid);
            const std::string what = e.what();
            CHECK(what.find("bad.model") != std::string::npos);
            CHECK(what.find("precompiled_charsmap, byte ") != std::string::npos);
            CHECK_THAT(what, Catch::Contains(needle));
        }
    };
    auto u32 = [](std::uint32_t v) {
        std::string s;
        for (int k = 0; k < 4; ++k) s.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
        return s;
    };
    fails_with("\x04\x00\x00", "too short");
    fails_with(u32(0), "too short");
    fails_with(u32(8) + u32(0) + "ab", "only 6 follow");
    fails_with(u32(100) + "x", "only 1 follow");
    fails_with(u32(6) + u32(0) + "ab" + "c", "whole number");

    const std::string good = sp_test::build_charsmap({{"a", "b"}});
    CHECK_NOTHROW(sp_charsmap(good, "x"));
    const std::uint32_t n = static_cast<std::uint32_t>(good[0] & 0xFF) | (static_cast<std::uint32_t>(good[1] & 0xFF) << 8);
    // Replacement area "b\0": drop the NUL, point the value past the end, make it ill-formed.
    fails_with(good.substr(0, good.size() - 1), "no terminating NUL");
    fails_with(good.substr(0, 4 + n) + "\xC3\x28" + std::string(1, '\0'), "not valid UTF-8");
    std::string far = good;
    bool patched = false;
    for (std::size_t i = 4; i + 4 <= 4 + n; i += 4)
        if ((static_cast<unsigned char>(far[i + 3]) & 0x80) != 0) {  // the one leaf unit
            far.replace(i, 4, u32(0x80000000u | 7));
            patched = true;
        }
    REQUIRE(patched);
    fails_with(far, "outside its 2 bytes");
    // A unit whose value unit lies beyond the trie: truncate the units to the one slot.
    // Root at state 256 (offset 256), label 'a' at slot 256^'a'; its value unit far away.
    std::vector<std::uint32_t> units(512, 0x80000000u);
    units[0] = 256u << 10;
    units[256 ^ 'a'] = 'a' | 0x100u | (((256u ^ 'a') ^ 4000u) << 10);
    std::string blob = u32(512 * 4);
    for (auto v : units) blob += u32(v);
    blob += "z";
    blob.push_back('\0');
    fails_with(blob, "lies outside the 512 units");
}

TEST_CASE("charsmap: walks over hostile blobs stay inside the units", "[sentencepiece][charsmap]") {
    // Random units; whatever the constructor accepts must be walkable on any input (ASan
    // proves the bounds), and whatever it rejects must be a model_error.
    std::mt19937 rng(17);
    int accepted = 0;
    for (int round = 0; round < 3000; ++round) {
        const std::size_t count = 1 + rng() % 300;
        std::string blob;
        auto put = [&](std::uint32_t v) {
            for (int k = 0; k < 4; ++k) blob.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
        };
        put(static_cast<std::uint32_t>(count * 4));
        for (std::size_t i = 0; i < count; ++i) {
            std::uint32_t v = static_cast<std::uint32_t>(rng());
            // Mostly small offsets, labels in a small alphabet, so that walks go somewhere.
            if (rng() % 4 != 0) v = (rng() % 4 == 0 ? 0x80000000u : 0u) | ((rng() % 600) << 10) | (rng() % 2 ? 0x100u : 0u) | ("ab\0c"[rng() % 4] & 0xFF);
            put(v);
        }
        blob += std::string("x\0yz\0", 5);
        try {
            const bytepiece::detail::sp_charsmap m(blob, "fuzz");
            ++accepted;
            for (int t = 0; t < 20; ++t) {
                std::string text;
                for (std::size_t k = rng() % 12; k > 0; --k) text.push_back("ab\0cz"[rng() % 5]);
                std::string_view r;
                const std::size_t len = m.longest_match(reinterpret_cast<const unsigned char*>(text.data()), text.size(), r);
                CHECK(len <= text.size());
                if (len != 0) CHECK(bytepiece::detail::utf8::is_valid(r));
            }
        } catch (const bytepiece::model_error& e) {
            CHECK(e.code() == bytepiece::errc::model_sentencepiece_invalid);
        }
    }
    CHECK(accepted > 100);
}

TEST_CASE("normalizer: the whitespace rules of spec 2.2 on a hand-built nmt-like model", "[sentencepiece][normalizer]") {
    const auto m = sp_test::make_model(nmt_like, {{"<unk>", piece_type::unknown}, {"a", piece_type::normal}});
    const sentencepiece_normalizer n(m);
    CHECK(n.normalize("") == "");
    CHECK(n.normalize("   ") == "");
    CHECK(n.normalize("\n") == "");
    CHECK(n.normalize("\t \x01 \n") == "");                    // deleted characters between spaces
    CHECK(n.normalize("Hello world") == sym + "Hello" + sym + "world");
    CHECK(n.normalize("  Hello   world  ") == sym + "Hello" + sym + "world");
    CHECK(n.normalize("a\tb\nc") == sym + "a" + sym + "b" + sym + "c");
    CHECK(n.normalize(sym + "already") == sym + "already");  // U+2581 -> " ", merged with the prefix
    CHECK(n.normalize("a \x01 b") == sym + "a" + sym + "b");  // a deletion keeps the space flag
    CHECK(n.normalize("a\x01" "b") == sym + "ab");
    CHECK(n.normalize("\xEF\xBC\xA1\xE2\x91\xA0\xEF\xAC\x81") == sym + "A1fi");
    CHECK(n.normalize("cafe\xCC\x81") == sym + "caf\xC3\xA9");
    CHECK(n.normalize("a\xEF\xBC\x88" "b") == sym + "a" + sym + "(" + sym + "b");
    CHECK(n.normalize("a \xEF\xBC\x88 b") == sym + "a" + sym + "(" + sym + "b");
    CHECK(n.normalize("a\xFF\xFE" "b") == sym + "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
    CHECK(n.normalize(std::string("a\0b", 3)) == sym + std::string("a\0b", 3));
    CHECK(n.normalize("x y") == sym + "xy");
}

TEST_CASE("normalizer: flags, the suffix variant, no escaping, no charsmap", "[sentencepiece][normalizer]") {
    const std::vector<std::pair<std::string, piece_type>> pieces = {{"<unk>", piece_type::unknown}};
    {
        const sentencepiece_normalizer n(sp_test::make_model(nmt_like, pieces, false, false));
        CHECK(n.normalize("  Hello   world  ") == sym + sym + "Hello" + sym + sym + sym + "world" + sym + sym);
        CHECK(n.normalize("   ") == sym + sym + sym);
    }
    {
        const sentencepiece_normalizer n(sp_test::make_model(nmt_like, pieces, true, true, true, true));
        CHECK(n.normalize("Hello world") == "Hello" + sym + "world" + sym);
        CHECK(n.normalize("  ") == "");
    }
    {
        const sentencepiece_normalizer n(sp_test::make_model(nmt_like, pieces, true, true, false));
        CHECK(n.normalize(" a\t b ") == " a b");
    }
    {
        // identity: no rules; a literal U+2581 stays, gets the prefix before it, and is
        // trimmed at the end.
        const sentencepiece_normalizer n(sp_test::make_model({}, pieces));
        CHECK(n.normalize(sym + "already") == sym + sym + "already");
        CHECK(n.normalize("ab" + sym) == sym + "ab");
        CHECK(n.normalize("a\tb") == sym + "a\tb");
        CHECK(n.normalize("\xC0\xAF") == sym + "\xEF\xBF\xBD\xEF\xBF\xBD");
    }
}

TEST_CASE("normalizer: user-defined symbols pass through unnormalized, longest first, cut at NUL",
          "[sentencepiece][normalizer]") {
    const auto m = sp_test::make_model(nmt_like, {{"<unk>", piece_type::unknown},
                                                  {"<mask>", piece_type::user_defined},
                                                  {"<ma", piece_type::user_defined},
                                                  {"e\xCC\x81", piece_type::user_defined},
                                                  {"\xEF\xBC\xA1" "B", piece_type::user_defined},
                                                  {std::string("q\0r", 3), piece_type::user_defined},
                                                  {"<s>", piece_type::control}});
    const sentencepiece_normalizer n(m);
    CHECK(n.normalize("x<mask>y") == sym + "x<mask>y");
    CHECK(n.normalize("<mas") == sym + "<mas");
    CHECK(n.normalize("cafe\xCC\x81") == sym + "cafe\xCC\x81");       // the symbol beats the rule
    CHECK(n.normalize("\xEF\xBC\xA1" "B\xEF\xBC\xA1") == sym + "\xEF\xBC\xA1" "BA");
    CHECK(n.normalize("qrs") == sym + "qrs");                         // "q\0r" matches as "q"
    CHECK(n.normalize("<s>") == sym + "<s>");                          // control pieces are not symbols

    auto bad = m;
    bad.pieces.push_back({"\xC3", -9.0f, piece_type::user_defined});
    CHECK_THROWS_AS(sentencepiece_normalizer(bad, "bad.model"), bytepiece::model_error);
}

TEST_CASE("normalizer: the fast path equals the spec's step-by-step reference on random text",
          "[sentencepiece][normalizer]") {
    const std::vector<std::pair<std::string, piece_type>> symbols = {
        {"<unk>", piece_type::unknown},        {"<mask>", piece_type::user_defined},
        {"[CLS]", piece_type::user_defined},   {"https://", piece_type::user_defined},
        {"\xE2\x80\x93", piece_type::user_defined}, {"(", piece_type::user_defined},
        {" y", piece_type::user_defined}};
    const std::vector<rules_t> rule_sets = {
        nmt_like, {}, {{" ", "  "}}, {{"  ", " "}}, {{" ", ""}}, {{"e", "E"}, {"\xCC\x81", ""}},
        {{"a", "\xE2\x96\x81"}, {"b", " b "}, {"\xE4\xB8\xAD", " "}}};
    std::mt19937 rng(2097);
    int cases = 0;
    for (const auto& rules : rule_sets)
        for (int with_symbols = 0; with_symbols < 2; ++with_symbols)
            for (int flags = 0; flags < 16; ++flags) {
                auto pieces = symbols;
                if (!with_symbols) pieces.resize(1);
                const auto m = sp_test::make_model(rules, pieces, flags & 1, (flags & 2) != 0, (flags & 4) != 0,
                                                   (flags & 8) != 0);
                const sentencepiece_normalizer n(m);
                std::string buf = "stale";
                for (int t = 0; t < 150; ++t) {
                    const std::string text = random_text(rng, t < 50 ? 4 : 30);
                    const std::string want = reference(m, rules, text);
                    n.normalize(text, buf);
                    INFO("flags " << flags << " symbols " << with_symbols << " text " << sp_test::escaped(text));
                    REQUIRE(sp_test::escaped(buf) == sp_test::escaped(want));
                    REQUIRE(bytepiece::detail::utf8::is_valid(buf));
                    ++cases;
                }
            }
    CHECK(cases == 7 * 2 * 16 * 150);
}

TEST_CASE("normalizer: a real charsmap equals the spec's reference walk of its own keys", "[sentencepiece][normalizer]") {
    // Independent of libsentencepiece: the fast path against the slow reference on the real
    // nmt_nfkc table of a fixture model, keys enumerated from the blob.
    const std::string path = test_support::shared_path("models/sp/spm-u2k-nmt_nfkc.model");
    if (!test_support::require_shared("models/sp/spm-u2k-nmt_nfkc.model")) return;
    const auto m = bytepiece::sentencepiece_model::load(path);
    const bytepiece::detail::sp_charsmap cm(m.normalizer.precompiled_charsmap, path);
    const auto keys = cm.keys();
    CHECK(keys.size() == 224725);  // the rule count of spec 2.1's table
    const rules_t rules(keys.begin(), keys.end());
    const sentencepiece_normalizer n(m, path);
    std::mt19937 rng(5);
    for (const auto& text : sp_test::edge_texts())
        REQUIRE(sp_test::escaped(n.normalize(text)) == sp_test::escaped(reference(m, rules, text)));
    for (int t = 0; t < 300; ++t) {
        const std::string text = random_text(rng, 12);
        REQUIRE(sp_test::escaped(n.normalize(text)) == sp_test::escaped(reference(m, rules, text)));
    }
}

#if BYTEPIECE_HAVE_SENTENCEPIECE
namespace {

// SentencePiece's normalized text, read off its encoding: the pieces concatenate to it, an
// unknown piece carrying its normalized surface; with byte fallback an unknown character is
// spelled by BYTE ids, which are turned back into their bytes.
std::string sp_normalized(const sentencepiece::SentencePieceProcessor& sp, bool byte_fallback, const std::string& text) {
    std::string out;
    if (!byte_fallback) {
        std::vector<std::string> pieces;
        REQUIRE(sp.Encode(text, &pieces).ok());
        for (const auto& p : pieces) out += p;
        return out;
    }
    std::vector<int> ids;
    REQUIRE(sp.Encode(text, &ids).ok());
    for (int id : ids) {
        const std::string& p = sp.IdToPiece(id);
        if (sp.IsByte(id)) out.push_back(static_cast<char>(std::stoi(p.substr(3, 2), nullptr, 16)));
        else out += p;
    }
    return out;
}

}  // namespace

TEST_CASE("normalizer: equals libsentencepiece 0.1.97 on every fixture, corpus line and edge case",
          "[sentencepiece][normalizer][oracle]") {
    const auto models = sp_test::unigram_models();
    if (models.empty()) {
        WARN("no SentencePiece fixtures under " << test_support::shared_dir() << "; skipped");
        return;
    }
    std::vector<std::string> texts = sp_test::edge_texts();
    std::mt19937 rng(99);
    for (int t = 0; t < 2000; ++t) texts.push_back(random_text(rng, 25));
    const std::size_t stride = sp_test::line_stride();
    if (stride != 1) WARN("every " << stride << "th corpus line (BYTEPIECE_TEST_FULL=1: all)");
    for (const char* corpus : {"small.txt", "en.txt", "zh.txt", "mixed.txt", "code.txt"})
        for (auto& line : sp_test::corpus_lines(corpus, stride)) texts.push_back(std::move(line));
    for (const auto& path : models) {
        const auto m = bytepiece::sentencepiece_model::load(path);
        const sentencepiece_normalizer n(m, path);
        sentencepiece::SentencePieceProcessor sp;
        REQUIRE(sp.Load(path).ok());
        std::size_t mismatches = 0;
        std::string ours;
        for (const auto& text : texts) {
            n.normalize(text, ours);
            const std::string theirs = sp_normalized(sp, m.trainer.byte_fallback, text);
            if (ours != theirs && ++mismatches <= 5)
                CHECK(sp_test::escaped(ours) == sp_test::escaped(theirs) + "   <- " + path + ": " + sp_test::escaped(text));
        }
        INFO(path << ": " << texts.size() << " texts");
        CHECK(mismatches == 0);
    }
}
#endif
