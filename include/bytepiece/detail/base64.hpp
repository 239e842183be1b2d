// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

inline constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline constexpr std::array<std::int8_t, 256> make_base64_reverse() {
    std::array<std::int8_t, 256> table{};
    for (auto& v : table) v = -1;
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::int8_t>(i);
    return table;
}
inline constexpr auto base64_reverse = make_base64_reverse();

// Standard base64 with padding, as Python's base64.b64encode writes it.
inline void base64_encode_append(std::string_view in, std::string& out) {
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    std::size_t n = in.size(), i = 0;
    for (; i + 3 <= n; i += 3) {
        std::uint32_t v = (std::uint32_t(p[i]) << 16) | (std::uint32_t(p[i + 1]) << 8) | p[i + 2];
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += base64_alphabet[v & 63];
    }
    if (n - i == 1) {
        std::uint32_t v = std::uint32_t(p[i]) << 16;
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += "==";
    } else if (n - i == 2) {
        std::uint32_t v = (std::uint32_t(p[i]) << 16) | (std::uint32_t(p[i + 1]) << 8);
        out += base64_alphabet[(v >> 18) & 63];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += '=';
    }
}

// Strict decoding: only the canonical encoding of some byte string is accepted (length a
// multiple of 4, padding only at the end, unused low bits zero). Being strict means two
// different keys can never name the same piece, so duplicates are caught on load.
inline bool base64_decode(std::string_view in, std::string& out) {
    out.clear();
    if (in.size() % 4 != 0) return false;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int v[4];
        int pad = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = in[i + k];
            if (c == '=') {
                if (!last || k < 2) return false;
                v[k] = 0;
                ++pad;
            } else {
                if (pad) return false;  // data after padding
                v[k] = base64_reverse[static_cast<unsigned char>(c)];
                if (v[k] < 0) return false;
            }
        }
        const std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                                (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
        out += static_cast<char>((w >> 16) & 0xFF);
        if (pad == 2) {
            if (w & 0xFFFF) return false;
        } else {
            out += static_cast<char>((w >> 8) & 0xFF);
            if (pad == 1) {
                if (w & 0xFF) return false;
            } else {
                out += static_cast<char>(w & 0xFF);
            }
        }
    }
    return true;
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
