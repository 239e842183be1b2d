// SPDX-License-Identifier: Apache-2.0
//
// XXH3, the one hash of the library (the trainer's counting tables, the binary model's
// checksum), used header-only so that nothing needs linking.
#pragma once

#include <cstdint>
#include <string_view>

#include "bytepiece/version.hpp"

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// XXH3-64 of a byte string.
inline std::uint64_t hash_bytes(std::string_view bytes) noexcept { return XXH3_64bits(bytes.data(), bytes.size()); }

/// XXH3-64 of the 8 bytes of a packed key (see `packed_count_table`).
inline std::uint64_t hash_packed(std::uint64_t key) noexcept { return XXH3_64bits(&key, sizeof key); }

}  // namespace detail
BYTEPIECE_NAMESPACE_END
