// SPDX-License-Identifier: Apache-2.0
//
// A memory size written for people ("256M", "2G"), as `bytepiece train --memory` and the Python
// Trainer's memory_limit take it: one parser, so that both accept the same texts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Reads `text`, a number of bytes with an optional suffix K, M or G (powers of 1024, upper or
/// lower case, an optional trailing B), at least 1 MiB, into `bytes`. Returns nullptr, or what
/// is wrong with it ("is not a size", "has an unknown unit", "is too large", "is too small").
///
/// Example: `std::uint64_t n; if (const char* why = parse_byte_size("256M", n)) fail(why);`
inline const char* parse_byte_size(std::string_view text, std::uint64_t& bytes) {
    std::size_t i = 0;
    std::uint64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (n > (std::uint64_t(1) << 50)) return "is too large";
        n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
        ++i;
    }
    if (i == 0) return "is not a size";
    std::string suffix(text.substr(i));
    for (auto& c : suffix) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    if (suffix.size() == 2 && suffix[1] == 'B') suffix.pop_back();
    unsigned shift = 0;
    if (suffix == "K") shift = 10;
    else if (suffix == "M") shift = 20;
    else if (suffix == "G") shift = 30;
    else if (!suffix.empty() && suffix != "B") return "has an unknown unit";
    if (n > (std::uint64_t(1) << (60 - shift))) return "is too large";
    n <<= shift;
    if (n < (std::uint64_t(1) << 20)) return "is too small";
    bytes = n;
    return nullptr;
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
