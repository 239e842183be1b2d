// SPDX-License-Identifier: Apache-2.0
#include <bytepiece/tokenizer.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "test_support.hpp"

using bytepiece::tokenizer;

namespace {

// Exhaustive best segmentation by the reference's definition, for checking Viterbi: the
// maximum total score, ties broken by the longest last piece, recursively.
std::vector<std::string> brute_force(const tokenizer& tok, const std::string& text) {
    const std::size_t n = text.size();
    std::vector<double> best(n + 1, -std::numeric_limits<double>::infinity());
    std::vector<std::size_t> from(n + 1, 0);
    best[0] = 0;
    for (std::size_t e = 1; e <= n; ++e)
        for (std::size_t s = 0; s < e; ++s) {  // longest last piece first
            auto id = tok.piece_to_id(text.substr(s, e - s));
            if (!id) continue;
            const double c = best[s] + tok.model().score(*id);
            if (c > best[e]) {
                best[e] = c;
                from[e] = s;
            }
        }
    std::vector<std::string> out;
    for (std::size_t e = n; e > 0; e = from[e]) out.push_back(text.substr(from[e], e - from[e]));
    std::reverse(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("encode picks the highest-scoring segmentation", "[tokenizer]") {
    const tokenizer tok(test_support::make_model({{"ab", 50}, {"abc", 10}, {"bc", 40}, {"c", 30}}));
    CHECK(tok.tokenize("abc") == std::vector<std::string>{"abc"});
    CHECK(tok.tokenize("abcab") == std::vector<std::string>{"abc", "ab"});
    const auto ids = tok.encode("abc");
    REQUIRE(ids.size() == 1);
    CHECK(tok.id_to_piece(ids[0]) == "abc");
}

TEST_CASE("ties go to the segmentation whose last piece is longest", "[tokenizer]") {
    // "aa" and "a"+"a" cannot tie exactly in floating point in general, so build a model
    // where two segmentations have identical sums: x+yz vs xy+z with equal counts.
    const tokenizer tok(test_support::make_model({{"xy", 1000}, {"yz", 1000}}, 1000));
    // x + yz and xy + z: both are (one byte piece + one pair), identical scores.
    CHECK(tok.tokenize("xyz") == std::vector<std::string>{"x", "yz"});
    CHECK(tok.tokenize("xyz") == brute_force(tok, "xyz"));
}

TEST_CASE("encode agrees with brute force on random text", "[tokenizer][property]") {
    std::mt19937 rng(99);
    auto extra = test_support::random_pieces(rng, 300, 4, 'a', 4, 50);
    const tokenizer tok(test_support::make_model(extra, 3));
    std::vector<std::string> texts;
    for (int i = 0; i < 2000; ++i) {
        std::string t(rng() % 30, 'a');
        for (auto& c : t) c = static_cast<char>('a' + rng() % 4);
        REQUIRE(tok.tokenize(t) == brute_force(tok, t));  // one short text: the start-by-start walk
        texts.push_back(t);
    }
    // Many texts at once go through the automaton.
    std::vector<std::string_view> views(texts.begin(), texts.end());
    tok.encode_texts(views.data(), views.size(), tok.options(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) {
        std::vector<std::string> pieces;
        for (std::size_t j = 0; j < n; ++j) pieces.emplace_back(tok.id_to_piece(ids[j]));
        REQUIRE(pieces == brute_force(tok, texts[i]));
    });
}

TEST_CASE("a window of any number of chunks, walked back in groups, matches brute force", "[tokenizer][property]") {
    // One text of k lines is one window of k chunks on the automaton path, whose chunks are
    // walked back four at a time: k = 4..13 covers full groups and every remainder, through
    // both the ids-only output (encode) and the per-piece one (tokenize).
    std::mt19937 rng(7);
    auto extra = test_support::random_pieces(rng, 200, 5, 'a', 3, 40);
    extra.push_back({"c\n", 30});
    const tokenizer tok(test_support::make_model(extra, 3));
    for (std::size_t k = 4; k <= 13; ++k) {
        std::string text;
        std::vector<std::string> expected;
        for (std::size_t c = 0; c < k; ++c) {
            std::string line(1 + rng() % 40, 'a');
            for (auto& ch : line) ch = static_cast<char>('a' + rng() % 3);
            line += '\n';
            const auto pieces = brute_force(tok, line);
            expected.insert(expected.end(), pieces.begin(), pieces.end());
            text += line;
        }
        INFO("chunks: " << k);
        CHECK(tok.tokenize(text) == expected);
        std::vector<std::string> from_ids;
        for (const auto id : tok.encode(text)) from_ids.emplace_back(tok.id_to_piece(id));
        CHECK(from_ids == expected);
    }
}

TEST_CASE("chunks are segmented independently and concatenated", "[tokenizer]") {
    const tokenizer tok(test_support::make_model({{"a\n", 100}, {"\nb", 1000}}));
    // "\nb" must not be used across the chunk boundary after "a\n".
    CHECK(tok.tokenize("a\nb") == std::vector<std::string>{"a\n", "b"});
}

TEST_CASE("bos, eos and the appending overload", "[tokenizer]") {
    bytepiece::encode_options o;
    o.add_bos = o.add_eos = true;
    const tokenizer tok(test_support::make_model({{"ab", 5}}), o);
    const auto ids = tok.encode("ab");
    REQUIRE(ids.size() == 3);
    CHECK(ids.front() == 1);
    CHECK(ids.back() == 2);
    std::vector<std::uint32_t> out = {42};
    tok.encode("ab", out);
    CHECK(out.size() == 4);
    CHECK(out[0] == 42);
    CHECK(tok.decode(ids) == "ab");
    CHECK(tok.encode("").size() == 2);
}

TEST_CASE("normalization: NFC by default, raw bytes on request", "[tokenizer]") {
    const tokenizer nfc_tok(test_support::make_model({}));
    const std::string decomposed = "e\xcc\x81";  // e + U+0301
    CHECK(nfc_tok.decode(nfc_tok.encode(decomposed)) == "\xc3\xa9");
    bytepiece::encode_options raw;
    raw.normalize = false;
    const tokenizer raw_tok(test_support::make_model({}), raw);
    CHECK(raw_tok.decode(raw_tok.encode(decomposed)) == decomposed);
    const std::string invalid = "a\xff\xfe\x80z";
    const auto ids = raw_tok.encode(invalid);
    CHECK(raw_tok.decode_bytes(ids.data(), ids.size()) == invalid);
    CHECK(raw_tok.decode(ids) == "az");  // invalid UTF-8 dropped, like errors='ignore'
}

TEST_CASE("decode drops ids 0-2 and incomplete UTF-8, and rejects unknown ids", "[tokenizer]") {
    const tokenizer tok(test_support::make_model({}));
    const auto e4 = *tok.piece_to_id("\xe4");
    const auto b8 = *tok.piece_to_id("\xb8");
    const auto ad = *tok.piece_to_id("\xad");
    const auto a = *tok.piece_to_id("a");
    CHECK(tok.decode({0, e4, 1, b8, ad, 2}) == "\xe4\xb8\xad");  // a character split over pieces
    CHECK(tok.decode({e4, b8, a}) == "a");
    CHECK(tok.decode({}).empty());
    try {
        tok.decode({a, static_cast<std::uint32_t>(tok.vocab_size())});
        FAIL("no exception");
    } catch (const bytepiece::decode_error& e) {
        CHECK(std::string(e.what()).find("position 1") != std::string::npos);
    }
    CHECK_THROWS_AS(tok.id_to_piece(static_cast<std::uint32_t>(tok.vocab_size())), bytepiece::decode_error);
    CHECK(tok.id_to_piece(0) == "<pad>");
    CHECK(tok.id_to_piece(2) == "<eos>");
    CHECK_FALSE(tok.piece_to_id("zzz").has_value());
}

TEST_CASE("a tokenizer needs every single byte", "[tokenizer]") {
    CHECK_THROWS_AS(tokenizer(bytepiece::model::from_counts({{"a", 1}}, false)), bytepiece::model_error);
}

TEST_CASE("a const tokenizer gives the same ids from many threads", "[tokenizer][threads]") {
    std::vector<std::pair<std::string, std::uint64_t>> extra = {{"the", 90}, {" the", 80}, {"ing", 70}, {"\xe4\xb8\xad", 60}};
    const tokenizer tok(test_support::make_model(extra));
    std::string text;
    std::mt19937 rng(5);
    const char* words[] = {"the ", "thing ", "\xe4\xb8\xad\xe6\x96\x87", "\n", "ing", "e\xcc\x81"};
    for (int i = 0; i < 20000; ++i) text += words[rng() % 6];
    const auto want = tok.encode(text);
    std::vector<std::vector<std::uint32_t>> got(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int r = 0; r < 5; ++r) got[static_cast<std::size_t>(t)] = tok.encode(text);
        });
    for (auto& th : threads) th.join();
    for (const auto& g : got) CHECK(g == want);
}

TEST_CASE("encode_chunks equals encode_chunk on each chunk, in order, and f may use the tokenizer", "[tokenizer]") {
    std::mt19937 rng(3);
    auto extra = test_support::random_pieces(rng, 200, 5, 'a', 5, 40);
    const tokenizer tok(test_support::make_model(extra, 2));
    std::vector<std::string> texts;
    for (int i = 0; i < 5000; ++i) {
        std::string t(i % 97 == 0 ? 0 : rng() % 80, 'a');  // some empty chunks
        for (auto& c : t) c = static_cast<char>('a' + rng() % 6);
        if (i % 1000 == 5) t.assign(70000, 'b');  // longer than a window
        texts.push_back(t);
    }
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::size_t next = 0;
    tok.encode_chunks(views.data(), views.size(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) {
        REQUIRE(i == next++);
        std::vector<std::uint32_t> expected;
        tok.encode_chunk(texts[i], expected);  // uses the same scratch space: must be safe
        REQUIRE(std::vector<std::uint32_t>(ids, ids + n) == expected);
        CHECK(tok.encode("ab\nab") == tok.encode("ab\nab"));
    });
    CHECK(next == texts.size());
    tok.encode_chunks(views.data(), 0, [&](std::size_t, const std::uint32_t*, std::size_t) { FAIL("no chunks"); });
}

TEST_CASE("encode_texts equals encode on each text, in order, with bos/eos and NFC", "[tokenizer]") {
    std::mt19937 rng(8);
    auto extra = test_support::random_pieces(rng, 200, 4, 'a', 5, 40);
    extra.emplace_back("\xc3\xa9", 500);  // é, composed
    const tokenizer tok(test_support::make_model(extra, 2));
    std::vector<std::string> texts;
    for (int i = 0; i < 20000; ++i) {
        std::string t;
        const int len = i % 50 == 0 ? 0 : static_cast<int>(rng() % 60);
        for (int j = 0; j < len; ++j) {
            const unsigned r = rng() % 20;
            if (r == 0) t += '\n';
            else if (r == 1) t += "e\xcc\x81";  // e + combining acute: NFC composes it
            else t += static_cast<char>('a' + rng() % 6);
        }
        texts.push_back(t);
    }
    std::vector<std::string_view> views(texts.begin(), texts.end());
    for (bool bos : {false, true}) {
        bytepiece::encode_options options;
        options.add_bos = bos;
        options.add_eos = !bos;
        std::size_t next = 0;
        tok.encode_texts(views.data(), views.size(), options, [&](std::size_t i, const std::uint32_t* ids, std::size_t n) {
            REQUIRE(i == next++);
            std::vector<std::uint32_t> expected;
            tok.encode(texts[i], expected, options);  // f may use the tokenizer
            REQUIRE(std::vector<std::uint32_t>(ids, ids + n) == expected);
        });
        CHECK(next == texts.size());
    }
}

TEST_CASE("basic_tokenizer<float, std::uint16_t> encodes through both paths", "[tokenizer][template]") {
    using small_tokenizer = bytepiece::basic_tokenizer<float, std::uint16_t>;
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), 1);
    // Counts far apart, so that float and double agree on every comparison below.
    counts.emplace_back("the", 4000);
    counts.emplace_back("he", 90);
    counts.emplace_back(" th", 700);
    counts.emplace_back("ing", 2500);
    counts.emplace_back("\n\n", 300);
    const small_tokenizer tok(bytepiece::basic_model<float, std::uint16_t>::from_counts(counts));
    const tokenizer ref(bytepiece::model::from_counts(counts));
    const std::string text = "the thing\n\nbathing the heathen\nthe end";
    const std::vector<std::uint16_t> ids = tok.encode(text);
    const std::vector<std::uint32_t> want = ref.encode(text);
    REQUIRE(ids.size() == want.size());
    for (std::size_t i = 0; i < ids.size(); ++i) CHECK(ids[i] == want[i]);
    CHECK(tok.decode(ids) == text);
    // Many texts at once take the automaton.
    std::vector<std::string> texts(50, text);
    std::vector<std::string_view> views(texts.begin(), texts.end());
    tok.encode_texts(views.data(), views.size(), tok.options(), [&](std::size_t, const std::uint16_t* got, std::size_t n) {
        CHECK(std::vector<std::uint16_t>(got, got + n) == ids);
    });
}

TEST_CASE("tokenize lines up with encode when the options add <bos> and <eos>", "[tokenizer][api]") {
    const auto extra = std::vector<std::pair<std::string, std::uint64_t>>{{"ab", 50}, {"abc", 10}, {"bc", 40}};
    for (const bool bos : {false, true}) {
        for (const bool eos : {false, true}) {
            bytepiece::encode_options o;
            o.add_bos = bos;
            o.add_eos = eos;
            const tokenizer tok(test_support::make_model(extra), o);
            for (const std::string text : {"", "abc", "abcab\nbc\n\nc", "e\xcc\x81 ab"}) {
                INFO("bos " << bos << " eos " << eos << " text \"" << text << "\"");
                const auto ids = tok.encode(text);
                const auto pieces = tok.tokenize(text);
                REQUIRE(pieces.size() == ids.size());
                for (std::size_t i = 0; i < ids.size(); ++i) {
                    CHECK(pieces[i] == tok.id_to_piece(ids[i]));
                    CHECK(tok.piece_to_id(pieces[i]) == ids[i]);
                }
                if (bos) CHECK(pieces.front() == "<bos>");
                if (eos) CHECK(pieces.back() == "<eos>");
            }
        }
    }
}

TEST_CASE("piece_to_id names ids 0, 1, 2 as id_to_piece does; a model piece keeps its own id", "[tokenizer][api]") {
    const tokenizer tok(test_support::make_model({{"ab", 5}}));
    for (std::uint32_t id = 0; id < 3; ++id) {
        INFO("id " << id);
        REQUIRE(tok.piece_to_id(tok.id_to_piece(id)).has_value());
        CHECK(*tok.piece_to_id(tok.id_to_piece(id)) == id);
    }
    CHECK(tok.piece_to_id("<bos>") == std::optional<std::uint32_t>(1));
    CHECK_FALSE(tok.piece_to_id("<unk>").has_value());
    CHECK_FALSE(tok.piece_to_id("<bos").has_value());
    // Every id round-trips through its piece.
    for (std::uint32_t id = 0; id < tok.vocab_size(); ++id) CHECK(tok.piece_to_id(tok.id_to_piece(id)) == id);
    // A model that has the bytes "<eos>" as a piece: the piece wins, so that text spelling it
    // still maps to what encode gives.
    const tokenizer odd(test_support::make_model({{"<eos>", 90}}));
    const auto own = odd.encode("<eos>");
    REQUIRE(own.size() == 1);
    CHECK(own.front() >= 3u);
    CHECK(odd.piece_to_id("<eos>") == own.front());
    CHECK(odd.piece_to_id("<pad>") == std::optional<std::uint32_t>(0));
}

TEST_CASE("decode_bytes takes a vector as decode does", "[tokenizer][api]") {
    bytepiece::encode_options raw;
    raw.normalize = false;
    const tokenizer tok(test_support::make_model({{"ab", 5}}), raw);
    const std::string bytes = "ab\xff\xfe\x80 z";
    const std::vector<std::uint32_t> ids = tok.encode(bytes);
    CHECK(tok.decode_bytes(ids) == bytes);
    CHECK(tok.decode_bytes(ids) == tok.decode_bytes(ids.data(), ids.size()));
    CHECK(tok.decode_bytes(std::vector<std::uint32_t>{}).empty());
    CHECK_THROWS_AS(tok.decode_bytes(std::vector<std::uint32_t>{static_cast<std::uint32_t>(tok.vocab_size())}),
                    bytepiece::decode_error);
}
