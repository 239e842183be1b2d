// SPDX-License-Identifier: Apache-2.0
// The trainer's chunking: the reference's normalize(text, maxlen, isolate_digits) (NFC, then the
// regular expressions of spec §2), on whole texts and on texts streamed in pieces.
#include <bytepiece/detail/train_chunker.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using bytepiece::detail::regex_chunker;
using bytepiece::detail::text_chunker;
using chunks = std::vector<std::string>;

chunks whole(std::string_view text, std::size_t maxlen, bool isolate) {
    chunks out;
    bytepiece::detail::for_each_normalized_chunk(text, maxlen, isolate, [&](std::string_view c) { out.emplace_back(c); });
    return out;
}

// Feeds `text` in pieces whose sizes come from `next_size` (cutting characters in two too).
template <class NextSize>
chunks streamed(std::string_view text, std::size_t maxlen, bool isolate, NextSize&& next_size) {
    chunks out;
    auto emit = [&](std::string_view c) { out.emplace_back(c); };
    text_chunker c(maxlen, isolate);
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = std::min(next_size(), text.size() - i);
        c.feed(text.substr(i, n), emit);
        i += n;
    }
    c.finish(emit);
    return out;
}

// The independent path: NFC of the whole text at once, then the regex chunker in one piece.
chunks reference_path(std::string_view text, std::size_t maxlen, bool isolate) {
    chunks out;
    const std::string normalized = bytepiece::nfc(text);
    regex_chunker r(maxlen, isolate);
    auto emit = [&](std::string_view c) { out.emplace_back(c); };
    r.feed(normalized, emit);
    r.finish(emit);
    return out;
}

std::string repeat(std::string_view s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

struct regex_case {
    std::string text;
    std::size_t maxlen;
    bool isolate;
    chunks want;
};

// Expected values are Python 3.11's re.findall with the reference's expressions (spec §2).
const std::vector<regex_case>& regex_cases() {
    static const std::vector<regex_case> cases = {
        {"abc\n\ndef", 0, false, {"abc\n\n", "def"}},
        {"abc\n\ndef", 0, true, {"abc\n\n", "def"}},
        {"\n\n\nabc", 10000, false, {"\n\n\n", "abc"}},
        {"abcdefg\nhi\n", 3, false, {"abc", "def", "g\n", "hi\n"}},
        {"abc\n", 3, false, {"abc\n"}},
        {"abcd\n", 3, false, {"abc", "d\n"}},
        {"ab12c\n3\n\n4", 10000, true, {"ab", "1", "2", "c\n", "3", "\n\n", "4"}},
        {"ab12c\n3\n\n4", 3, true, {"ab", "1", "2", "c\n", "3", "\n\n", "4"}},
        // Arabic-Indic and fullwidth digits are \d (Nd) too.
        {"x\xD9\xA1\xD9\xA2y\xEF\xBC\x93z", 10000, true, {"x", "\xD9\xA1", "\xD9\xA2", "y", "\xEF\xBC\x93", "z"}},
        {"x\xD9\xA1\xD9\xA2y", 10000, false, {"x\xD9\xA1\xD9\xA2y"}},
        // Kawi and Nag Mundari digits are Nd only since Unicode 15: not digits for the reference.
        {"k\xF0\x91\xBD\x90\xF0\x9E\x93\xB0m", 10000, true, {"k\xF0\x91\xBD\x90\xF0\x9E\x93\xB0m"}},
        // \r, U+2028 are ordinary characters.
        {"a\rb\xE2\x80\xA8" "c\n", 10000, false, {"a\rb\xE2\x80\xA8" "c\n"}},
        // NFC first (e + U+0301 -> U+00E9), then lengths in characters.
        {"e\xCC\x81" "e\xCC\x81" "e\xCC\x81\n", 2, false, {"\xC3\xA9\xC3\xA9", "\xC3\xA9\n"}},
        {"\xE4\xB8\xAD\xE6\x96\x87\xE4\xB8\xAD\n", 2, false, {"\xE4\xB8\xAD\xE6\x96\x87", "\xE4\xB8\xAD\n"}},
        {"12345", 10000, true, {"1", "2", "3", "4", "5"}},
        {"aaaaa\n\n\n", 5, false, {"aaaaa\n\n\n"}},
        {"\n", 10000, true, {"\n"}},
        {"", 10000, false, {}},
        {"9\n\n", 10000, true, {"9", "\n\n"}},
        {"ab\n\n", 0, true, {"ab\n\n"}},
        // At most 100 newlines per chunk when maxlen > 0, all of them when maxlen = 0.
        {"a" + std::string(150, '\n') + "b", 10000, false, {"a" + std::string(100, '\n'), std::string(50, '\n'), "b"}},
        {"a" + std::string(150, '\n') + "b", 10000, true, {"a" + std::string(100, '\n'), std::string(50, '\n'), "b"}},
        {"a" + std::string(150, '\n') + "b", 0, false, {"a" + std::string(150, '\n'), "b"}},
        {std::string(100, '\n'), 10000, false, {std::string(100, '\n')}},
        {std::string(201, '\n'), 10000, false, {std::string(100, '\n'), std::string(100, '\n'), "\n"}},
        // 10,000 characters, not bytes: 10,001 three-byte characters.
        {repeat("\xE4\xB8\xAD", 10001) + "\n", 10000, false, {repeat("\xE4\xB8\xAD", 10000), "\xE4\xB8\xAD\n"}},
        {repeat("\xE4\xB8\xAD", 10000) + "\n", 10000, false, {repeat("\xE4\xB8\xAD", 10000) + "\n"}},
        {repeat("e\xCC\x81", 10001) + "\n", 10000, false, {repeat("\xC3\xA9", 10000), "\xC3\xA9\n"}},
        {repeat("ab", 10001), 10000, true, {repeat("ab", 5000), repeat("ab", 5000), "ab"}},
        {repeat("ab", 5000) + "7" + repeat("a", 10000) + "\n", 10000, true,
         {repeat("ab", 5000), "7", repeat("a", 10000) + "\n"}},
    };
    return cases;
}

}  // namespace

TEST_CASE("train chunker: the reference's expressions on hand-made texts", "[train_chunker]") {
    for (const auto& c : regex_cases()) {
        INFO("text of " << c.text.size() << " bytes starting '" << c.text.substr(0, 20) << "', maxlen " << c.maxlen
                        << ", isolate_digits " << c.isolate);
        CHECK(whole(c.text, c.maxlen, c.isolate) == c.want);
        CHECK(reference_path(c.text, c.maxlen, c.isolate) == c.want);
        // One byte at a time: every character cut apart, every decision deferred.
        CHECK(streamed(c.text, c.maxlen, c.isolate, [] { return std::size_t(1); }) == c.want);
    }
}

TEST_CASE("train chunker: every two-piece split of small texts gives the same chunks", "[train_chunker]") {
    for (const auto& c : regex_cases()) {
        if (c.text.size() > 200) continue;
        for (std::size_t cut = 0; cut <= c.text.size(); ++cut) {
            chunks out;
            auto emit = [&](std::string_view s) { out.emplace_back(s); };
            text_chunker t(c.maxlen, c.isolate);
            t.feed(std::string_view(c.text).substr(0, cut), emit);
            t.feed(std::string_view(c.text).substr(cut), emit);
            t.finish(emit);
            INFO("cut at byte " << cut << " of '" << c.text.substr(0, 40) << "'");
            CHECK(out == c.want);
        }
    }
}

TEST_CASE("train chunker: a text is cut the same way however it is streamed", "[train_chunker]") {
    // Random texts over an alphabet that stresses NFC (marks, jamo, singletons), digits of
    // several scripts, newline runs around 100 and runs around maxlen.
    const std::vector<std::string> alphabet = {
        "a", "b", " ", "\n", "\n", "\r", "1", "9", "\xD9\xA3", "\xE0\xA5\xA7", "\xEF\xBC\x91", "\xF0\x9D\x9F\x8E",
        "e\xCC\x81", "\xCC\x81", "\xCC\xA7", "\xE1\x84\x80", "\xE1\x85\xA1", "\xE1\x86\xA8", "\xEA\xB0\x80",
        "\xE4\xB8\xAD", "\xE2\x84\xAB", "\xE2\x80\xA8", "\xF0\x9F\x98\x80", "\xE0\xAD\x87", "\xE0\xAC\xBE",
        "x\xCC\x95\xCC\x80", "\xFF", "\xE4\xB8"};
    std::mt19937 rng(12345);
    for (int iteration = 0; iteration < 60; ++iteration) {
        std::string text;
        const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 3000)(rng);
        for (std::size_t i = 0; i < n; ++i) {
            const unsigned r = rng() % 100;
            if (r < 3) text += std::string(std::size_t(95 + rng() % 12), '\n');
            else if (r < 6) text += std::string(std::size_t(rng() % 12), 'a');
            else text += alphabet[rng() % alphabet.size()];
        }
        for (const std::size_t maxlen : {std::size_t(0), std::size_t(5), std::size_t(10000)}) {
            for (const bool isolate : {false, true}) {
                const chunks want = reference_path(text, maxlen, isolate);
                CHECK(whole(text, maxlen, isolate) == want);
                std::size_t size = 1 + rng() % 97;
                CHECK(streamed(text, maxlen, isolate, [&] { return size = 1 + (size * 7 + 3) % 97; }) == want);
            }
        }
    }
}

TEST_CASE("train chunker: long text without ASCII is cut at normalization boundaries", "[train_chunker]") {
    // More than the 4 MiB the NFC stage waits for an ASCII byte, with combining marks and jamo
    // that must stay with their base characters across the cuts.
    std::string text;
    const std::string unit = "\xE4\xB8\xAD\xE1\x84\x80\xE1\x85\xA1\xCC\x81\xE6\x96\x87\xC3\xA9\xCC\xA7";
    while (text.size() < (std::size_t(5) << 20)) text += unit;
    for (const bool isolate : {false, true}) {
        const chunks want = reference_path(text, 10000, isolate);
        REQUIRE(want.size() > 100);
        CHECK(streamed(text, 10000, isolate, [] { return std::size_t(999983); }) == want);
        CHECK(whole(text, 10000, isolate) == want);
    }
}

TEST_CASE("train chunker: chunks concatenate to the NFC text and none is empty", "[train_chunker]") {
    const std::string text = "Hello, 世界 123\n\n\ne\xCC\x81t\xC3\xA9 \xD9\xA1\xD9\xA2\n" + std::string(130, '\n') + "end";
    for (const std::size_t maxlen : {std::size_t(0), std::size_t(3), std::size_t(10000)})
        for (const bool isolate : {false, true}) {
            std::string joined;
            for (const auto& c : whole(text, maxlen, isolate)) {
                CHECK(!c.empty());
                joined += c;
            }
            CHECK(joined == bytepiece::nfc(text));
        }
}
