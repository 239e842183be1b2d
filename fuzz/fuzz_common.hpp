// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the fuzz targets: an invariant check that aborts (so both libFuzzer and the
// standalone replay driver report it), a reader that carves parameters off the input, and the
// small fixed model the encode, decode and sample targets use.
#pragma once

#include <bytepiece/bytepiece.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Every fuzz target defines this; the standalone driver (standalone_main.cpp) calls it too.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fuzz {

[[noreturn]] inline void invariant_failed(const char* expr, const char* file, int line, const std::string& detail) {
    std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, expr);
    if (!detail.empty()) std::fprintf(stderr, "  %s\n", detail.c_str());
    std::fflush(stderr);
    std::abort();
}

#define FUZZ_CHECK(expr)                                                          \
    do {                                                                          \
        if (!(expr)) ::fuzz::invariant_failed(#expr, __FILE__, __LINE__, {});     \
    } while (0)
#define FUZZ_CHECK_MSG(expr, msg)                                                 \
    do {                                                                          \
        if (!(expr)) ::fuzz::invariant_failed(#expr, __FILE__, __LINE__, (msg));  \
    } while (0)

/// Takes parameters off the front of the input; what is left is the payload.
class reader {
public:
    reader(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}

    std::uint8_t byte() {
        if (n_ == 0) return 0;
        --n_;
        return *p_++;
    }
    std::uint64_t u64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
        return v;
    }
    std::string_view rest() const { return {reinterpret_cast<const char*>(p_), n_}; }

private:
    const std::uint8_t* p_;
    std::size_t n_;
};

inline bool is_valid_utf8(std::string_view s) {
    std::string kept;
    bytepiece::detail::utf8::append_valid(s, kept);
    return kept.size() == s.size();
}

/// Printable escape of the first bytes of `s`, for invariant messages.
inline std::string escaped(std::string_view s, std::size_t limit = 200) {
    std::string out;
    static const char hex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    if (s.size() > limit) out += "...";
    return out;
}

/// A small model: all 256 single bytes plus ASCII words, overlapping pieces (so Viterbi has
/// real choices and ties), pieces that cut UTF-8 characters in the middle, whole multi-byte
/// characters, a precomposed and a decomposed accent, and pieces holding '\n' and NUL.
inline bytepiece::model small_model() {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), 1 + (b * 7) % 13);
    const std::pair<const char*, std::uint64_t> extra[] = {
        {"th", 40},  {"the", 30},  {"he", 25},   {"in", 20},  {"ing", 18},   {"an", 15},     {"and", 12},
        {"a", 50},   {"aa", 9},    {"aaa", 9},   {"aaaa", 3}, {"ab", 4},     {"abc", 4},     {"bc", 4},
        {" t", 11},  {" the", 10}, {"\n\n", 5},  {"\r\n", 5}, {"12", 3},     {"123", 3},
        {"\xc3\xa9", 8},                 // é (precomposed)
        {"e\xcc\x81", 2},                // e + combining acute (never NFC, raw mode only)
        {"\xe4\xb8\xad", 7},             // 中
        {"\xe4\xb8\xad\xe6\x96\x87", 6}, // 中文
        {"\xe4\xb8", 2},                 // the first two bytes of 中: cuts a character
        {"\xb8\xad\xe6", 1},             // the middle of 中文
        {"\xf0\x9f\x98\x80", 4},         // 😀
        {"\xea\xb0\x80", 3},             // 가
        {"\xe1\x84\x80", 1},             // jamo G (decomposes 가)
        {"\xff\xfe", 2},                 // bytes never in UTF-8
    };
    for (const auto& e : extra) {
        bool dup = false;
        for (auto& c : counts)
            if (c.first == e.first) {
                c.second = e.second;
                dup = true;
            }
        if (!dup) counts.emplace_back(e.first, e.second);
    }
    counts.emplace_back(std::string("x\0y", 3), 2);
    return bytepiece::model::from_counts(std::move(counts));
}

}  // namespace fuzz
