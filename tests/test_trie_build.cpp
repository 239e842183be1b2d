// SPDX-License-Identifier: Apache-2.0
// What building the double array costs: the search for free cells stays linear in the array
// (counted in probes, not timed), and the array stays dense on real models.
#include <bytepiece/trie.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

using bytepiece::double_array_trie;

namespace {

// The 256 single bytes and `count` distinct random decimal strings of `digits` digits: the
// pieces of a model trained on random digits. Nodes near the leaves get a random subset of
// the ten digit labels, so the array fills with free cells that few later nodes fit.
std::vector<std::string> digit_keys(unsigned digits, std::size_t count, std::uint64_t seed) {
    std::size_t range = 1;
    for (unsigned i = 0; i < digits; ++i) range *= 10;
    std::vector<std::size_t> numbers(range);
    std::iota(numbers.begin(), numbers.end(), std::size_t{0});
    std::mt19937_64 rng(seed);
    std::shuffle(numbers.begin(), numbers.end(), rng);
    std::vector<std::string> keys;
    for (int b = 0; b < 256; ++b) keys.emplace_back(1, static_cast<char>(b));
    for (std::size_t i = 0; i < count; ++i) {
        std::string k(digits, '0');
        for (std::size_t v = numbers[i], j = digits; j-- > 0; v /= 10) k[j] = static_cast<char>('0' + v % 10);
        keys.push_back(k);
    }
    return keys;
}

struct built {
    double_array_trie trie;
    double_array_trie::build_stats stats;
};

built build(const std::vector<std::string>& keys) {
    std::vector<std::pair<std::string_view, std::int32_t>> kv;
    for (std::size_t i = 0; i < keys.size(); ++i) kv.emplace_back(keys[i], static_cast<std::int32_t>(i));
    built b;
    b.trie = double_array_trie::build(kv, &b.stats);
    for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE(b.trie.find(keys[i]) == static_cast<std::int32_t>(i));
    return b;
}

}  // namespace

TEST_CASE("the search for free cells probes at most 8 times per cell plus once per node", "[trie][build]") {
    // 60k of the 100k 5-digit strings: the search used to probe every free cell left
    // between siblings for every later node, about 550 times per cell here (44 million
    // probes for an array of 81k cells), and 600k 6-digit pieces took 12 times as long to
    // build as 300k.
    for (const std::size_t count : {30000u, 60000u}) {
        const built b = build(digit_keys(5, count, 16));
        INFO(count << " pieces: " << b.stats.probes << " probes, " << b.stats.nodes << " nodes in "
                   << b.trie.size() << " cells");
        CHECK(b.stats.probes <= 8 * b.trie.size() + b.stats.nodes);
        // Hard for first fit, yet most cells still hold a node.
        CHECK(b.stats.nodes >= b.trie.size() * 3 / 4);
    }
}

TEST_CASE("build_stats counts the used cells", "[trie][build]") {
    const built b = build({"a", "ab", "abc", "b"});
    std::size_t used = 0;
    for (std::size_t i = 0; i < b.trie.size(); ++i) used += b.trie.check_at(static_cast<std::uint32_t>(i)) != 0xFFFFFFFFu;
    CHECK(b.stats.nodes == used);
    CHECK(b.stats.nodes == 5);  // the root, a, ab, abc, b
    CHECK(b.stats.probes >= 3);  // the root, a and ab have children
}

TEST_CASE("the arrays of real models stay dense", "[trie][build]") {
    // Encode's automaton has a row per cell, so free cells cost cache; first fit without a
    // bound on probes left under 0.3% of these arrays free.
    for (const char* name : {"models/bytepiece.eu.plus.40k.model", "models/bytepiece.eu.plus.160k.model"}) {
        if (!test_support::require_shared(name)) continue;
        const auto m = bytepiece::model::load(test_support::shared_path(name));
        std::vector<std::string> keys;
        for (std::size_t id = bytepiece::model::first_piece_id; id < m.vocab_size(); ++id)
            keys.emplace_back(m.piece(static_cast<std::uint32_t>(id)));
        const built b = build(keys);
        INFO(name << ": " << b.stats.nodes << " nodes in " << b.trie.size() << " cells");
        CHECK(b.stats.nodes >= b.trie.size() * 99 / 100);
        CHECK(b.stats.probes <= 8 * b.trie.size() + b.stats.nodes);
    }
}
