// SPDX-License-Identifier: Apache-2.0
// The automaton behind encode: its per-position piece lists against brute force, its
// multi-chunk scan against a chunk-at-a-time scan, and encode over many windows.
#include <bytepiece/tokenizer.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

using bytepiece::tokenizer;
using automaton = bytepiece::detail::piece_automaton<double>;

namespace {

automaton build(const tokenizer& tok) {
    const auto& m = tok.model();
    return automaton(
        tok.trie(), m.vocab_size(), [&](std::size_t id) { return id >= 3 ? m.score(static_cast<std::uint32_t>(id)) : 0.0; },
        [&](std::size_t id) -> std::uint64_t { return id >= 3 ? m.piece(static_cast<std::uint32_t>(id)).size() : 1; });
}

// The ids a row (and its overflow list) names, padding left out, in row order.
std::vector<std::uint32_t> pieces_of(const automaton& a, std::uint32_t state) {
    std::vector<std::uint32_t> ids;
    const std::uint32_t* row = a.row(state);
    for (std::uint32_t j = 0; j < automaton::row_width; ++j) {
        const std::uint32_t offset = row[j];
        if (j == 0 && (offset & automaton::overflow_tag)) {
            const std::uint32_t* list = a.overflow(offset & ~automaton::overflow_tag);
            REQUIRE(list[0] % automaton::row_width == 0);
            for (std::uint32_t k = 1; k <= list[0]; ++k)
                if (automaton::id_of(list[k]) != a.padding()) ids.push_back(automaton::id_of(list[k]));
            continue;
        }
        if (automaton::id_of(offset) != a.padding()) ids.push_back(automaton::id_of(offset));
    }
    return ids;
}

}  // namespace

TEST_CASE("after every byte, the state lists exactly the pieces ending there, longest first", "[automaton]") {
    std::mt19937 rng(7);
    // A dense alphabet makes long suffix chains, so overflow rows occur.
    auto extra = test_support::random_pieces(rng, 400, 6, 'a', 3, 100);
    extra.emplace_back("aaaaaa", 5);
    const tokenizer tok(test_support::make_model(extra, 2));
    const automaton a = build(tok);
    bool saw_overflow = false;
    for (int t = 0; t < 300; ++t) {
        std::string text(1 + rng() % 40, 'a');
        for (auto& c : text) c = static_cast<char>('a' + rng() % 4);  // 'd' is only a byte piece
        const std::uint32_t bounds[2] = {0, static_cast<std::uint32_t>(text.size())};
        std::vector<std::uint32_t> states(text.size());
        a.scan(reinterpret_cast<const unsigned char*>(text.data()), bounds, 1, states.data());
        for (std::size_t e = 1; e <= text.size(); ++e) {
            std::vector<std::uint32_t> expected;
            for (std::size_t s = 0; s < e; ++s)  // longest first
                if (auto id = tok.piece_to_id(std::string_view(text).substr(s, e - s))) expected.push_back(*id);
            INFO(text << " at " << e);
            REQUIRE(pieces_of(a, states[e - 1]) == expected);
            saw_overflow |= (a.row(states[e - 1])[0] & automaton::overflow_tag) != 0;
        }
    }
    CHECK(saw_overflow);
}

TEST_CASE("scanning many chunks at once equals scanning each alone", "[automaton]") {
    std::mt19937 rng(11);
    const tokenizer tok(test_support::make_model(test_support::random_pieces(rng, 300, 6, 'a', 5, 100), 2));
    const automaton a = build(tok);
    // Fewer chunks than lanes, exactly as many, a few more (lanes run dry at different
    // times), and many.
    for (std::size_t chunks : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 9u, 12u, 13u, 100u}) {
        std::string text;
        std::vector<std::uint32_t> bounds;
        for (std::size_t c = 0; c < chunks; ++c) {
            bounds.push_back(static_cast<std::uint32_t>(text.size()));
            const std::size_t len = 1 + rng() % 60;
            for (std::size_t i = 0; i < len; ++i) text += static_cast<char>('a' + rng() % 6);
        }
        bounds.push_back(static_cast<std::uint32_t>(text.size()));
        const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
        std::vector<std::uint32_t> together(text.size()), alone(text.size());
        a.scan(bytes, bounds.data(), chunks, together.data());
        for (std::size_t c = 0; c < chunks; ++c) a.scan(bytes, bounds.data() + c, 1, alone.data());
        CHECK(together == alone);
        std::vector<std::uint32_t> single(text.size());
        for (std::size_t c = 0; c < chunks; ++c)
            a.scan_chunk(bytes + bounds[c], bounds[c + 1] - bounds[c], single.data() + bounds[c]);
        CHECK(single == alone);
        std::vector<std::uint32_t> portable(text.size());
        a.scan_portable(bytes, bounds.data(), chunks, portable.data());
        CHECK(portable == together);
    }
}

TEST_CASE("fewer chunks than lanes are split, scanned and repaired to the states of one chain", "[automaton]") {
    std::mt19937 rng(17);
    // Runs of one letter as pieces up to 40 bytes long: in a long run the true state is 40
    // deep, so a part started at the root meets it only 40 bytes on, past the next split
    // point (parts are as short as 16 bytes), and the repair must carry on through it.
    auto extra = test_support::random_pieces(rng, 300, 8, 'a', 4, 100);
    for (std::size_t k = 2; k <= 40; ++k) extra.emplace_back(std::string(k, 'x'), 1000);
    const tokenizer tok(test_support::make_model(extra, 2));
    const automaton a = build(tok);
    std::size_t split_chunks = 0;
    for (int round = 0; round < 300; ++round) {
        std::string text;
        std::vector<std::uint32_t> bounds;
        const std::size_t chunks = 1 + rng() % 5;
        for (std::size_t c = 0; c < chunks; ++c) {
            bounds.push_back(static_cast<std::uint32_t>(text.size()));
            const std::size_t len = 1 + rng() % (round % 3 == 0 ? 40 : 600);
            while (text.size() < bounds.back() + len) {
                if (rng() % 4 == 0) text.append(1 + rng() % 90, 'x');
                else text += static_cast<char>(rng() % 5 ? 'a' + rng() % 4 : rng() % 256);
            }
            text.resize(bounds.back() + len);
            split_chunks += len >= 32;
        }
        bounds.push_back(static_cast<std::uint32_t>(text.size()));
        const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
        std::vector<std::uint32_t> fast(text.size()), single(text.size());
        a.scan(bytes, bounds.data(), chunks, fast.data());
        for (std::size_t c = 0; c < chunks; ++c)
            a.scan_chunk(bytes + bounds[c], bounds[c + 1] - bounds[c], single.data() + bounds[c]);
        INFO(chunks << " chunks, " << text.size() << " bytes, round " << round);
        REQUIRE(fast == single);
    }
    CHECK(split_chunks > 100);
}

TEST_CASE("the scan's main loop (assembly on x86-64) equals the portable loop on any bytes", "[automaton]") {
    std::mt19937 rng(13);
    const tokenizer tok(test_support::make_model(test_support::random_pieces(rng, 300, 6, 'a', 5, 100), 2));
    const automaton a = build(tok);
    // Many short chunks (lanes refilled every few steps, 1-byte chunks included) and long
    // ones, over every byte value, so that steps fall back to the root as well as along
    // suffix chains.
    for (int round = 0; round < 40; ++round) {
        std::string text;
        std::vector<std::uint32_t> bounds;
        const std::size_t chunks = 1 + rng() % 300;
        const std::size_t max_len = round % 2 ? 8 : 400;
        for (std::size_t c = 0; c < chunks; ++c) {
            bounds.push_back(static_cast<std::uint32_t>(text.size()));
            const std::size_t len = 1 + rng() % max_len;
            for (std::size_t i = 0; i < len; ++i)
                text += static_cast<char>(rng() % 3 ? 'a' + rng() % 6 : rng() % 256);
        }
        bounds.push_back(static_cast<std::uint32_t>(text.size()));
        const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
        std::vector<std::uint32_t> fast(text.size()), portable(text.size()), single(text.size());
        a.scan(bytes, bounds.data(), chunks, fast.data());
        a.scan_portable(bytes, bounds.data(), chunks, portable.data());
        for (std::size_t c = 0; c < chunks; ++c)
            a.scan_chunk(bytes + bounds[c], bounds[c + 1] - bounds[c], single.data() + bounds[c]);
        INFO(chunks << " chunks, " << text.size() << " bytes");
        REQUIRE(fast == portable);
        REQUIRE(fast == single);
    }
}

TEST_CASE("encode over many windows equals encoding chunk by chunk", "[automaton][tokenizer]") {
    std::mt19937 rng(5);
    auto extra = test_support::random_pieces(rng, 500, 6, 'a', 6, 100);
    extra.emplace_back("a\n", 50);
    extra.emplace_back("\n\n", 80);
    const tokenizer tok(test_support::make_model(extra, 2));
    // About 300 kB in lines of varied length: several windows, chunks that straddle none.
    std::string text;
    while (text.size() < 300000) {
        const std::size_t len = rng() % 200;
        for (std::size_t i = 0; i < len; ++i) text += static_cast<char>('a' + rng() % 7);
        text.append(1 + rng() % 3, '\n');
    }
    text += "tail without newline";
    std::vector<std::uint32_t> expected;
    bytepiece::for_each_chunk(text, [&](std::string_view chunk) { tok.encode_chunk(chunk, expected); });
    CHECK(tok.encode(text) == expected);
    // One chunk longer than a window.
    const std::string line(200000, 'b');
    std::vector<std::uint32_t> one;
    tok.encode_chunk(line, one);
    CHECK(tok.encode(line) == one);
    std::size_t total = 0;
    for (auto id : one) total += tok.model().piece(id).size();
    CHECK(total == line.size());
}

// The start-by-start Viterbi (windows of fewer than four chunks, chunks of 2 GiB and more),
// reached through the friend the tokenizer declares for this.
struct bytepiece::detail::tokenizer_access {
    static std::vector<std::uint32_t> walk(const tokenizer& tok, std::string_view chunk) {
        std::vector<std::uint32_t> ids;
        auto& ws = tokenizer::local_workspace();
        const std::size_t n = tok.viterbi(chunk, ws);
        tok.append_path(n, ws, [&](std::size_t, std::size_t, std::uint32_t id) { ids.push_back(id); });
        return ids;
    }
};

TEST_CASE("the start-by-start Viterbi agrees with the automaton", "[automaton]") {
    std::mt19937 rng(21);
    const tokenizer tok(test_support::make_model(test_support::random_pieces(rng, 400, 6, 'a', 4, 100), 3));
    std::vector<std::string> texts;
    for (int t = 0; t < 500; ++t) {
        std::string text(1 + rng() % 120, 'a');
        for (auto& c : text) c = static_cast<char>('a' + rng() % 5);
        texts.push_back(text);
    }
    // encode_chunks scans these together, through the automaton.
    std::vector<std::string_view> views(texts.begin(), texts.end());
    tok.encode_chunks(views.data(), views.size(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) {
        REQUIRE(bytepiece::detail::tokenizer_access::walk(tok, texts[i]) == std::vector<std::uint32_t>(ids, ids + n));
    });
}

TEST_CASE("the automaton refuses a trie without every single byte", "[automaton]") {
    // "ba" and "b" but no "a": the fallback search for "ba" reaches the root and finds no "a"
    // there (without the check it would loop forever).
    const auto trie = bytepiece::double_array_trie::build({{"ba", 3}, {"b", 4}});
    auto build_it = [&] {
        return automaton(trie, 5, [](std::size_t) { return -1.0; }, [](std::size_t id) -> std::uint64_t { return id == 3 ? 2 : 1; });
    };
    CHECK_THROWS_AS(build_it(), bytepiece::argument_error);
}

namespace {

// The 256 bytes, one piece of `long_length` `a`, and `a` repeated 2 to `short_max` times: a
// model whose long piece has a piece ending at every one of its bytes past the first
// `short_max`, each with `short_max` pieces among its suffixes.
bytepiece::model long_piece_model(std::size_t long_length, std::size_t short_max) {
    std::vector<std::pair<std::string, std::uint64_t>> pieces{{std::string(long_length, 'a'), 5}};
    for (std::size_t k = 2; k <= short_max; ++k) pieces.emplace_back(std::string(k, 'a'), 1 + k % 7);
    return test_support::make_model(pieces, 3);
}

}  // namespace

TEST_CASE("a long piece whose suffixes are pieces costs memory in proportion to the pieces' bytes", "[automaton]") {
    // Each of the long piece's 20000 states has the 200 short pieces among its suffixes.
    // Listed per state that was 4 million entries (16 MB for a model of 40 kB of pieces; a
    // 3.5 MB model of this kind needed 8 GB); a state that is no piece now shares the list
    // of its longest suffix that is one.
    const tokenizer tok(long_piece_model(20000, 200));
    const automaton a = build(tok);
    const auto& m = tok.model();
    std::size_t piece_bytes = 0;
    for (std::size_t id = 3; id < m.vocab_size(); ++id) piece_bytes += m.piece(static_cast<std::uint32_t>(id)).size();
    // Per cell: two 8-byte words and a row of four entries; per id: a 16-byte entry; per
    // piece: an overflow list no longer than the piece plus a count and padding.
    const std::size_t bound = 32 * tok.trie().size() + 16 * (m.vocab_size() + 1) + 4 * (piece_bytes + 4 * m.vocab_size());
    INFO(a.memory_bytes() << " bytes held, " << bound << " allowed, " << tok.trie().size() << " cells");
    CHECK(a.memory_bytes() <= bound);

    // The shared lists are the right ones: every state on the long piece's path lists the
    // pieces that end there, the pieces of `a` no longer than the text so far.
    std::vector<std::pair<std::size_t, std::uint32_t>> runs;  // (length, id) of the pieces of `a`, longest first
    for (std::uint32_t id = 3; id < m.vocab_size(); ++id)
        if (m.piece(id).find_first_not_of('a') == std::string_view::npos) runs.emplace_back(m.piece(id).size(), id);
    std::sort(runs.rbegin(), runs.rend());
    const std::string text(20000, 'a');
    std::vector<std::uint32_t> states(text.size());
    a.scan_chunk(reinterpret_cast<const unsigned char*>(text.data()), text.size(), states.data());
    for (const std::size_t e : {1u, 2u, 199u, 200u, 201u, 4321u, 19999u, 20000u}) {
        std::vector<std::uint32_t> expected;
        for (const auto& [length, id] : runs)
            if (length <= e) expected.push_back(id);
        INFO("after " << e << " bytes");
        CHECK(pieces_of(a, states[e - 1]) == expected);
    }
}

TEST_CASE("encode agrees with the start-by-start Viterbi on a model with a long piece", "[automaton]") {
    const tokenizer tok(long_piece_model(1500, 60));
    std::mt19937 rng(5);
    for (int t = 0; t < 20; ++t) {
        // Runs of `a` shorter and longer than the long piece, split by other bytes.
        std::string text;
        while (text.size() < 4000) {
            text.append(rng() % 3 == 0 ? 1400 + rng() % 300 : rng() % 80, 'a');
            text += static_cast<char>('b' + rng() % 2);
        }
        const std::vector<std::string_view> views{text};
        tok.encode_chunks(views.data(), 1, [&](std::size_t, const std::uint32_t* ids, std::size_t n) {
            REQUIRE(bytepiece::detail::tokenizer_access::walk(tok, text) == std::vector<std::uint32_t>(ids, ids + n));
        });
    }
}
