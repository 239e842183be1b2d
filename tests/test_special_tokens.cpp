// SPDX-License-Identifier: Apache-2.0
// Special tokens: leftmost-longest matching against a brute-force oracle, matching only when a
// call allows it (so ids are never produced from text otherwise), tokens that overlap each
// other and overlap vocabulary pieces, decoding with and without them, and the same mechanism
// for SentencePiece and HF tokenizers.
#include <bytepiece/hf_tokenizer.hpp>
#include <bytepiece/sentencepiece_tokenizer.hpp>
#include <bytepiece/special_tokens.hpp>

#include <set>

#include "test_support.hpp"

namespace {

using bytepiece::allowed_special;
using bytepiece::disallowed_special;
using bytepiece::errc;
using bytepiece::special_tokens;

struct hit {
    std::size_t begin, end;
    std::uint32_t id;
    bool operator==(const hit& o) const { return begin == o.begin && end == o.end && id == o.id; }
};

// The oracle: at each position from left to right, the longest allowed token that starts
// there, by plain string comparison.
std::vector<hit> oracle_split(const std::string& text, const std::vector<bytepiece::special_token>& tokens,
                              const std::vector<bool>& allowed) {
    std::vector<hit> out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t best = 0, which = 0;
        for (std::size_t k = 0; k < tokens.size(); ++k)
            if (allowed[k] && tokens[k].content.size() > best && text.compare(i, tokens[k].content.size(), tokens[k].content) == 0) {
                best = tokens[k].content.size();
                which = k;
            }
        if (best) {
            out.push_back({i, i + best, tokens[which].id});
            i += best;
        } else {
            ++i;
        }
    }
    return out;
}

std::vector<hit> split_hits(const special_tokens& sp, const std::string& text, const allowed_special& a) {
    std::vector<hit> out;
    std::size_t covered = 0;
    sp.split(
        text, a, disallowed_special::encode_as_text,
        [&](std::size_t b, std::size_t e) {
            CHECK(b == covered);
            CHECK(e > b);
            covered = e;
        },
        [&](std::size_t b, std::size_t e, std::uint32_t id) {
            CHECK(b == covered);
            covered = e;
            out.push_back({b, e, id});
        });
    CHECK(covered == text.size());
    return out;
}

}  // namespace

TEST_CASE("special tokens split text leftmost-longest, as a brute-force oracle does", "[special]") {
    std::mt19937 rng(5);
    const std::string alphabet = "<>|ab";
    for (int round = 0; round < 200; ++round) {
        std::vector<bytepiece::special_token> tokens;
        const std::size_t count = 1 + rng() % 6;
        std::set<std::string> seen;
        while (tokens.size() < count) {
            std::string s;
            const std::size_t len = 1 + rng() % 4;
            for (std::size_t i = 0; i < len; ++i) s += alphabet[rng() % alphabet.size()];
            if (seen.insert(s).second) tokens.push_back({s, static_cast<std::uint32_t>(1000 + tokens.size())});
        }
        const special_tokens sp(tokens);
        std::string text;
        const std::size_t n = rng() % 40;
        for (std::size_t i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
        INFO("round " << round << " text " << text);
        // All, none, and a random subset (a disallowed longer token must not hide an allowed shorter one).
        CHECK(split_hits(sp, text, allowed_special::all()) == oracle_split(text, tokens, std::vector<bool>(count, true)));
        CHECK(split_hits(sp, text, allowed_special::none()).empty());
        std::vector<bool> mask(count);
        std::vector<std::string> names;
        for (std::size_t k = 0; k < count; ++k)
            if ((mask[k] = rng() % 2)) names.push_back(tokens[k].content);
        CHECK(split_hits(sp, text, allowed_special::only(names)) == oracle_split(text, tokens, mask));
    }
}

TEST_CASE("overlapping special tokens: the longest at the leftmost start wins", "[special]") {
    const special_tokens sp({{"<a>", 10}, {"<a><b>", 11}, {"a><", 12}, {"<b>", 13}});
    CHECK(split_hits(sp, "x<a><b>y", allowed_special::all()) == std::vector<hit>{{1, 7, 11}});
    CHECK(split_hits(sp, "x<a><b>y", allowed_special::only({"<a>", "<b>"})) == std::vector<hit>{{1, 4, 10}, {4, 7, 13}});
    // "a><" starts later than "<a>" and loses, though it would cover more of "<a><b".
    CHECK(split_hits(sp, "<a><b", allowed_special::all()) == std::vector<hit>{{0, 3, 10}});
    CHECK(split_hits(sp, "a><b>", allowed_special::all()) == std::vector<hit>{{0, 3, 12}});
}

TEST_CASE("a disallowed special token is ordinary text, or throws when asked to", "[special]") {
    const special_tokens sp({{"<|end|>", 7}, {"<|start|>", 8}});
    CHECK(split_hits(sp, "a<|end|>b", allowed_special::only({"<|start|>"})).empty());
    try {
        sp.split("ab<|start|>c<|end|>", allowed_special::only({"<|start|>"}), disallowed_special::raise,
                 [](std::size_t, std::size_t) {}, [](std::size_t, std::size_t, std::uint32_t) {});
        FAIL("no exception");
    } catch (const bytepiece::argument_error& e) {
        CHECK(e.code() == errc::special_disallowed);
        CHECK(std::string(e.what()).find("<|end|>") != std::string::npos);
        CHECK(std::string(e.what()).find("byte 12") != std::string::npos);
    }
    CHECK_NOTHROW(sp.split("ab<|start|>c", allowed_special::only({"<|start|>"}), disallowed_special::raise,
                           [](std::size_t, std::size_t) {}, [](std::size_t, std::size_t, std::uint32_t) {}));
}

TEST_CASE("special token sets refuse what cannot be matched", "[special][errors]") {
    const auto code_of = [](auto&& f) {
        try {
            f();
        } catch (const bytepiece::argument_error& e) {
            return e.code();
        }
        return errc::invalid_argument;
    };
    CHECK(code_of([] { special_tokens({{"", 5}}); }) == errc::special_invalid);
    CHECK(code_of([] { special_tokens({{"\xC3", 5}}); }) == errc::special_invalid);
    CHECK(code_of([] { special_tokens({{"<a>", 5}, {"<a>", 6}}); }) == errc::special_invalid);
    CHECK(code_of([] { special_tokens({{"<a>", 5}, {"<b>", 5}}); }) == errc::special_invalid);
    special_tokens sp;
    sp.append({"<x>", "<y>"}, 100);
    CHECK(*sp.id_of("<y>") == 101);
    CHECK(*sp.content_of(100) == "<x>");
    CHECK(sp.content_of(99) == nullptr);
    CHECK(sp.end_id() == 102);
    CHECK(code_of([&] { sp.append({"<z>"}, 0xFFFFFFFFull); }) == errc::special_invalid);
}

TEST_CASE("BytePiece: special tokens are matched only when allowed, and never produced otherwise", "[special]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    auto tok = bytepiece::tokenizer::load(test_support::shared_path("models/bytepiece.eu.plus.40k.model"));
    const std::size_t vocab = tok.vocab_size();
    // "the" and " of" are vocabulary pieces too: the specials overlap them.
    special_tokens sp;
    sp.append({"<|endoftext|>", "<|im_start|>", "the", " of"}, vocab);
    sp.add("<|eos|>", 2);  // an explicit id: the model's <eos>
    tok.set_specials(sp);
    const std::string text = "<|im_start|>the end of <|endoftext|>Caf\xC3\xA9<|eos|> of the";

    const auto none = bytepiece::encode_with_specials(tok, text, tok.specials(), allowed_special::none());
    CHECK(none == tok.encode(text));
    for (const auto id : none) CHECK(id < vocab);
    CHECK(none.end() == std::find(none.begin(), none.end(), 2u));

    const auto all = bytepiece::encode_with_specials(tok, text, tok.specials(), allowed_special::all());
    // The oracle: the stretches between the tokens encoded alone, the tokens' ids between them.
    std::vector<std::uint32_t> expected;
    const auto add = [&](const std::string& s) {
        const auto ids = tok.encode(s);
        expected.insert(expected.end(), ids.begin(), ids.end());
    };
    expected.push_back(static_cast<std::uint32_t>(vocab + 1));
    expected.push_back(static_cast<std::uint32_t>(vocab + 2));
    add(" end");
    expected.push_back(static_cast<std::uint32_t>(vocab + 3));
    add(" ");
    expected.push_back(static_cast<std::uint32_t>(vocab));
    add("Caf\xC3\xA9");
    expected.push_back(2);
    expected.push_back(static_cast<std::uint32_t>(vocab + 3));
    add(" ");
    expected.push_back(static_cast<std::uint32_t>(vocab + 2));
    CHECK(all == expected);

    CHECK(bytepiece::decode_with_specials(tok, all, tok.specials(), false) == text);
    CHECK(bytepiece::decode_with_specials(tok, all, tok.specials(), true) == " end Caf\xC3\xA9 ");
    CHECK(bytepiece::decode_with_specials(tok, none, tok.specials(), false) == text);

    const auto some = bytepiece::encode_with_specials(tok, text, tok.specials(), allowed_special::only({"<|eos|>"}));
    CHECK(std::count(some.begin(), some.end(), 2u) == 1);
    for (const auto id : some) CHECK(id < vocab);
    CHECK_THROWS_AS(bytepiece::encode_with_specials(tok, text, tok.specials(), allowed_special::only({"<|eos|>"}),
                                                    disallowed_special::raise),
                    bytepiece::argument_error);

    // <bos>/<eos> options go around the whole text, once.
    bytepiece::encode_options o;
    o.add_bos = o.add_eos = true;
    auto tok2 = bytepiece::tokenizer(tok.model(), o);
    const auto framed = bytepiece::encode_with_specials(tok2, "a<|endoftext|>b", sp, allowed_special::all());
    CHECK(framed.front() == 1u);
    CHECK(framed.back() == 2u);
    CHECK(std::count(framed.begin(), framed.end(), 1u) == 1);
}

TEST_CASE("SentencePiece and HF tokenizers take special tokens through the same functions", "[special]") {
    if (test_support::require_shared("models/sp/albert-30k-clean.model")) {
        const auto sp_tok = bytepiece::sentencepiece_tokenizer::load(test_support::shared_path("models/sp/albert-30k-clean.model"));
        special_tokens sp;
        sp.append({"<|sep|>"}, sp_tok.vocab_size());
        const auto ids = bytepiece::encode_with_specials(sp_tok, "hello<|sep|>world", sp, allowed_special::all());
        std::vector<std::uint32_t> expected = sp_tok.encode("hello");
        expected.push_back(static_cast<std::uint32_t>(sp_tok.vocab_size()));
        for (const auto id : sp_tok.encode("world")) expected.push_back(id);
        CHECK(ids == expected);
        CHECK(bytepiece::decode_with_specials(sp_tok, ids, sp, false) == "hello<|sep|>world");
        CHECK(bytepiece::encode_with_specials(sp_tok, "hello<|sep|>world", sp, allowed_special::none()) ==
              sp_tok.encode("hello<|sep|>world"));
    }
    if (test_support::require_shared("models/hf/albert-30k-clean.transformers-albert.json")) {
        const auto hf = bytepiece::hf_tokenizer::load(test_support::shared_path("models/hf/albert-30k-clean.transformers-albert.json"));
        special_tokens sp;
        sp.append({"<|sep|>"}, hf.vocab_size());
        const auto ids = bytepiece::encode_with_specials(hf, "hello<|sep|>[MASK] world", sp, allowed_special::all());
        std::vector<std::uint32_t> expected = hf.encode("hello");
        expected.push_back(static_cast<std::uint32_t>(hf.vocab_size()));
        for (const auto id : hf.encode("[MASK] world")) expected.push_back(id);  // HF's own added token still matches
        CHECK(ids == expected);
        CHECK(bytepiece::decode_with_specials(hf, ids, sp, true) == hf.decode(hf.encode("hello")) + hf.decode(hf.encode("[MASK] world")));
    }
}
