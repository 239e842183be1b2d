// SPDX-License-Identifier: Apache-2.0
#include <bytepiece/trie.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

using bytepiece::double_array_trie;

namespace {

std::vector<std::pair<std::size_t, std::int32_t>> prefixes(const double_array_trie& t, const std::string& s) {
    std::vector<std::pair<std::size_t, std::int32_t>> out;
    t.common_prefix_search(reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                           [&](std::size_t len, std::int32_t v) { out.emplace_back(len, v); });
    return out;
}

}  // namespace

TEST_CASE("trie finds exactly its keys", "[trie]") {
    std::vector<std::string> keys = {"a", "ab", "abc", "b", "bcd", std::string("\0", 1), std::string("\0\xff", 2), "\xff"};
    std::vector<std::pair<std::string_view, std::int32_t>> kv;
    for (std::size_t i = 0; i < keys.size(); ++i) kv.emplace_back(keys[i], static_cast<std::int32_t>(i * 7));
    const auto t = double_array_trie::build(kv);
    for (std::size_t i = 0; i < keys.size(); ++i) CHECK(t.find(keys[i]) == static_cast<std::int32_t>(i * 7));
    CHECK(t.find("") == double_array_trie::no_value);
    CHECK(t.find("abcd") == double_array_trie::no_value);
    CHECK(t.find("bc") == double_array_trie::no_value);
    CHECK(t.find("c") == double_array_trie::no_value);
}

TEST_CASE("common_prefix_search reports every key that prefixes the text, shortest first", "[trie]") {
    const auto t = double_array_trie::build({{"a", 1}, {"ab", 2}, {"abc", 3}, {"abd", 4}, {"b", 5}});
    using v = std::vector<std::pair<std::size_t, std::int32_t>>;
    CHECK(prefixes(t, "abcx") == v{{1, 1}, {2, 2}, {3, 3}});
    CHECK(prefixes(t, "abd") == v{{1, 1}, {2, 2}, {3, 4}});
    CHECK(prefixes(t, "ax") == v{{1, 1}});
    CHECK(prefixes(t, "x").empty());
    CHECK(prefixes(t, "").empty());
    CHECK(prefixes(t, "ab") == v{{1, 1}, {2, 2}});  // stops at the end of the text
}

TEST_CASE("trie agrees with a std::map on random binary keys", "[trie][property]") {
    std::mt19937_64 rng(12345);
    std::map<std::string, std::int32_t> ref;
    for (int i = 0; i < 20000; ++i) {
        std::string k(1 + rng() % 12, '\0');
        for (auto& c : k) c = static_cast<char>(rng() % 6 == 0 ? rng() % 256 : 'a' + rng() % 4);
        ref.emplace(k, static_cast<std::int32_t>(ref.size()));
    }
    std::vector<std::pair<std::string_view, std::int32_t>> kv(ref.begin(), ref.end());
    std::shuffle(kv.begin(), kv.end(), rng);  // build must not depend on input order
    const auto t = double_array_trie::build(kv);
    for (const auto& [k, v] : ref) REQUIRE(t.find(k) == v);
    for (int i = 0; i < 20000; ++i) {
        std::string q(rng() % 16, '\0');
        for (auto& c : q) c = static_cast<char>(rng() % 6 == 0 ? rng() % 256 : 'a' + rng() % 4);
        std::vector<std::pair<std::size_t, std::int32_t>> want;
        for (std::size_t len = 1; len <= q.size(); ++len) {
            auto it = ref.find(q.substr(0, len));
            if (it != ref.end()) want.emplace_back(len, it->second);
        }
        REQUIRE(prefixes(t, q) == want);
        auto it = ref.find(q);
        REQUIRE(t.find(q) == (it == ref.end() ? double_array_trie::no_value : it->second));
    }
}

TEST_CASE("trie rejects empty and duplicate keys", "[trie]") {
    CHECK_THROWS_AS(double_array_trie::build({{"", 1}}), bytepiece::argument_error);
    CHECK_THROWS_AS(double_array_trie::build({{"a", 1}, {"a", 2}}), bytepiece::argument_error);
    CHECK_THROWS_AS(double_array_trie::build({{"a", -1}}), bytepiece::argument_error);
}

TEST_CASE("an empty trie finds nothing", "[trie]") {
    const double_array_trie t;
    CHECK(t.find("a") == double_array_trie::no_value);
    CHECK(prefixes(t, "abc").empty());
    const auto built = double_array_trie::build({});
    CHECK(prefixes(built, "abc").empty());
}

TEST_CASE("a single very long key builds without recursion", "[trie]") {
    const std::string key(200000, 'x');
    const auto t = double_array_trie::build({{key, 9}, {"x", 1}});
    CHECK(t.find(key) == 9);
    CHECK(prefixes(t, key + "y").back() == std::make_pair(key.size(), std::int32_t{9}));
}
