// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "bytepiece/version.hpp"

// Decoding sits in the innermost loop of normalization; compilers otherwise tend to keep it
// out of line, which costs about a third of the throughput on non-ASCII text.
#if defined(__GNUC__) || defined(__clang__)
#define BYTEPIECE_UTF8_HOT inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define BYTEPIECE_UTF8_HOT __forceinline
#else
#define BYTEPIECE_UTF8_HOT inline
#endif

BYTEPIECE_NAMESPACE_BEGIN
namespace detail::utf8 {

/// Marker returned by `decode` for a byte that does not start a well-formed sequence; callers
/// pass that one byte through unchanged and resume at the next byte.
inline constexpr char32_t invalid = 0xFFFFFFFFu;

/// One decoded code point and the number of bytes it took. For an ill-formed sequence `cp` is
/// `invalid` and `length` is 1, so every byte string can be walked without losing bytes.
struct decoded {
    char32_t cp;
    std::size_t length;
};

/// Decodes the code point starting at `p` (requires `p < end`), accepting only the
/// well-formed sequences of Unicode Table 3-7: overlong forms, surrogates, values above
/// U+10FFFF and sequences cut short by `end` or by a non-continuation byte are rejected, so
/// that text normalized byte-for-byte stays exactly as lossless as the input.
BYTEPIECE_UTF8_HOT decoded decode(const unsigned char* p, const unsigned char* end) noexcept {
    const unsigned b0 = p[0];
    if (b0 < 0x80) return {b0, 1};
    const std::size_t avail = static_cast<std::size_t>(end - p);
    if (b0 < 0xC2) return {invalid, 1};  // continuation byte or overlong 2-byte lead
    if (b0 < 0xE0) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80) return {invalid, 1};
        return {static_cast<char32_t>(((b0 & 0x1Fu) << 6) | (p[1] & 0x3Fu)), 2};
    }
    if (b0 < 0xF0) {
        if (avail < 3) return {invalid, 1};
        const unsigned b1 = p[1];
        // E0 needs A0..BF (no overlongs), ED needs 80..9F (no surrogates).
        const unsigned lo = b0 == 0xE0 ? 0xA0u : 0x80u;
        const unsigned hi = b0 == 0xED ? 0x9Fu : 0xBFu;
        if (b1 < lo || b1 > hi || (p[2] & 0xC0) != 0x80) return {invalid, 1};
        return {static_cast<char32_t>(((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (p[2] & 0x3Fu)), 3};
    }
    if (b0 < 0xF5) {
        if (avail < 4) return {invalid, 1};
        const unsigned b1 = p[1];
        // F0 needs 90..BF (no overlongs), F4 needs 80..8F (nothing above U+10FFFF).
        const unsigned lo = b0 == 0xF0 ? 0x90u : 0x80u;
        const unsigned hi = b0 == 0xF4 ? 0x8Fu : 0xBFu;
        if (b1 < lo || b1 > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return {invalid, 1};
        return {static_cast<char32_t>(((b0 & 0x07u) << 18) | ((b1 & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
                                      (p[3] & 0x3Fu)),
                4};
    }
    return {invalid, 1};  // F5..FF never occur in UTF-8
}

/// Writes the UTF-8 form of `cp` (a scalar value: at most U+10FFFF, not a surrogate) to `buf`
/// and returns the number of bytes written (1 to 4); a fixed-size form so that hot loops can
/// encode without touching a string.
inline std::size_t encode(char32_t cp, char* buf) noexcept {
    if (cp < 0x80) {
        buf[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = static_cast<char>(0xC0 | (cp >> 6));
        buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = static_cast<char>(0xE0 | (cp >> 12));
        buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = static_cast<char>(0xF0 | (cp >> 18));
    buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

/// Appends the UTF-8 form of `cp` (a scalar value) to `out`.
inline void append(char32_t cp, std::string& out) {
    char buf[4];
    out.append(buf, encode(cp, buf));
}

/// Appends the bytes of `in` that belong to well-formed UTF-8 sequences and drops every other
/// byte, so the result equals Python's `in.decode('utf-8', errors='ignore')` re-encoded:
/// this is how the reference decodes ids and writes a piece's display text.
inline void append_valid(std::string_view in, std::string& out) {
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const auto* end = p + in.size();
    const auto* run = p;  // start of the current run of valid bytes, appended in one go
    while (p < end) {
        if (*p < 0x80) {
            ++p;
            continue;
        }
        const decoded d = decode(p, end);
        if (d.cp != invalid) {
            p += d.length;
        } else {
            out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
            run = ++p;
        }
    }
    out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
}

/// Whether every byte of `in` belongs to a well-formed UTF-8 sequence.
inline bool is_valid(std::string_view in) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const auto* end = p + in.size();
    while (p < end) {
        if (*p < 0x80) {
            ++p;
            continue;
        }
        const decoded d = decode(p, end);
        if (d.cp == invalid) return false;
        p += d.length;
    }
    return true;
}

}  // namespace detail::utf8
BYTEPIECE_NAMESPACE_END

#undef BYTEPIECE_UTF8_HOT
