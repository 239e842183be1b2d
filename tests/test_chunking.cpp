// SPDX-License-Identifier: Apache-2.0
#include <bytepiece/chunking.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

namespace {

std::vector<std::string> chunks(std::string_view text) {
    std::vector<std::string> out;
    bytepiece::for_each_chunk(text, [&](std::string_view c) { out.emplace_back(c); });
    return out;
}

// The reference's regex `.*\n+|.+` written out directly, as an oracle.
std::vector<std::string> oracle(const std::string& t) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < t.size()) {
        std::size_t j = i;
        while (j < t.size() && t[j] != '\n') ++j;
        while (j < t.size() && t[j] == '\n') ++j;
        out.push_back(t.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

TEST_CASE("chunks are lines with all their trailing newlines", "[chunking]") {
    using v = std::vector<std::string>;
    CHECK(chunks("").empty());
    CHECK(chunks("abc") == v{"abc"});
    CHECK(chunks("\n") == v{"\n"});
    CHECK(chunks("\n\n\nabc") == v{"\n\n\n", "abc"});
    CHECK(chunks("a\nb\n\n\nc") == v{"a\n", "b\n\n\n", "c"});
    CHECK(chunks("a\r\nb\r\n") == v{"a\r\n", "b\r\n"});
    CHECK(chunks("x\xe2\x80\xa8y\n") == v{"x\xe2\x80\xa8y\n"});  // U+2028 is an ordinary character
}

TEST_CASE("chunking matches the reference regex on random text", "[chunking][property]") {
    std::mt19937 rng(7);
    const char alphabet[] = {'a', 'b', '\n', '\r', ' ', '\0'};
    for (int i = 0; i < 5000; ++i) {
        std::string t(rng() % 40, 'a');
        for (auto& c : t) c = alphabet[rng() % sizeof alphabet];
        const auto got = chunks(t);
        REQUIRE(got == oracle(t));
        std::string joined;
        for (const auto& c : got) {
            REQUIRE(!c.empty());
            joined += c;
        }
        REQUIRE(joined == t);
    }
}
