// SPDX-License-Identifier: Apache-2.0
//
// Open-addressing hash tables that count byte strings, for the trainer's hot loops: no node
// allocation per key, 64-bit counts, keys hashed with XXH3.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "bytepiece/detail/hash.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Capacity helpers shared by the tables: power-of-two sizes, at most 3/4 full.
inline std::size_t table_capacity_for(std::size_t entries) noexcept {
    std::size_t cap = 16;
    while (cap - cap / 4 < entries + 1) cap *= 2;
    return cap;
}

/// Counts keys of at most 8 bytes packed into a `std::uint64_t` (all keys of one table have
/// the same length, so the packing is unambiguous). Linear probing; a slot is 16 bytes (key
/// and 64-bit count, count 0 marking an empty slot), so the table costs about 21 to 43 bytes
/// per distinct key. The caller passes `hash_packed(key)`, so that it can compute it once and
/// use it for sharding and prefetching as well.
class packed_count_table {
public:
    struct slot {
        std::uint64_t key;
        std::uint64_t count;  // 0: empty
    };

    packed_count_table() { reset(16); }

    /// Adds `n` (> 0) to the count of `key`.
    void add(std::uint64_t key, std::uint64_t hash, std::uint64_t n = 1) {
        std::size_t i = static_cast<std::size_t>(hash) & mask_;
        for (;;) {
            slot& s = slots_[i];
            if (s.count == 0) {
                s.key = key;
                s.count = n;
                if (++size_ > limit_) grow();
                return;
            }
            if (s.key == key) {
                s.count += n;
                return;
            }
            i = (i + 1) & mask_;
        }
    }

    /// Hints the processor to fetch the slot where `hash` starts probing.
    void prefetch(std::uint64_t hash) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(&slots_[static_cast<std::size_t>(hash) & mask_], 1);
#else
        (void)hash;
#endif
    }

    /// The count of `key` (0 if absent).
    std::uint64_t find(std::uint64_t key, std::uint64_t hash) const noexcept {
        std::size_t i = static_cast<std::size_t>(hash) & mask_;
        for (;;) {
            const slot& s = slots_[i];
            if (s.count == 0) return 0;
            if (s.key == key) return s.count;
            i = (i + 1) & mask_;
        }
    }

    /// Calls `f(key, count)` for every key, in table order.
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i <= mask_; ++i)
            if (slots_[i].count) f(slots_[i].key, slots_[i].count);
    }

    std::size_t size() const noexcept { return size_; }
    std::size_t memory_bytes() const noexcept { return (mask_ + 1) * sizeof(slot); }

    /// Frees everything.
    void clear() { reset(16); }

private:
    void reset(std::size_t capacity) {
        slots_.reset(new slot[capacity]());
        mask_ = capacity - 1;
        limit_ = capacity - capacity / 4;
        size_ = 0;
    }

    void grow() {
        std::unique_ptr<slot[]> old = std::move(slots_);
        const std::size_t old_capacity = mask_ + 1;
        const std::size_t entries = size_;
        reset(old_capacity * 2);
        for (std::size_t j = 0; j < old_capacity; ++j) {
            const slot& s = old[j];
            if (!s.count) continue;
            std::size_t i = static_cast<std::size_t>(hash_packed(s.key)) & mask_;
            while (slots_[i].count) i = (i + 1) & mask_;
            slots_[i] = s;
        }
        size_ = entries;
    }

    std::unique_ptr<slot[]> slots_;
    std::size_t mask_ = 0, limit_ = 0, size_ = 0;
};

/// Counts byte strings of any length. Each distinct key is stored once, in an arena; a slot
/// holds the key's XXH3 hash, its 64-bit count and its place in the arena (24 bytes).
/// Linear probing on the stored hash, so growing never rehashes a key.
class count_table {
public:
    /// Longest key the table accepts (16 MiB - 1); longer keys throw `std::length_error`.
    static constexpr std::size_t max_key_length = (std::size_t(1) << 24) - 1;

    count_table() { reset(16); }

    /// Adds `n` (> 0) to the count of `key`, whose hash is `hash` (= `hash_bytes(key)`).
    void add_hashed(std::string_view key, std::uint64_t hash, std::uint64_t n = 1) {
        std::size_t i = static_cast<std::size_t>(hash) & mask_;
        for (;;) {
            slot& s = slots_[i];
            if (s.count == 0) {
                if (key.size() > max_key_length) throw std::length_error("count_table: key too long");
                s.hash = hash;
                s.count = n;
                s.ref = (static_cast<std::uint64_t>(arena_.size()) << 24) | key.size();
                arena_.append(key.data(), key.size());
                if (++size_ > limit_) grow();
                return;
            }
            if (s.hash == hash && key_of(s) == key) {
                s.count += n;
                return;
            }
            i = (i + 1) & mask_;
        }
    }

    /// Adds `n` to the count of `key`.
    void add(std::string_view key, std::uint64_t n = 1) { add_hashed(key, hash_bytes(key), n); }

    /// The count of `key` (0 if absent).
    std::uint64_t find(std::string_view key, std::uint64_t hash) const noexcept {
        std::size_t i = static_cast<std::size_t>(hash) & mask_;
        for (;;) {
            const slot& s = slots_[i];
            if (s.count == 0) return 0;
            if (s.hash == hash && key_of(s) == key) return s.count;
            i = (i + 1) & mask_;
        }
    }
    std::uint64_t find(std::string_view key) const noexcept { return find(key, hash_bytes(key)); }

    /// Adds every count of `other` to this table.
    void merge(const count_table& other) {
        for (std::size_t j = 0; j <= other.mask_; ++j) {
            const slot& s = other.slots_[j];
            if (s.count) add_hashed(other.key_of(s), s.hash, s.count);
        }
    }

    /// Calls `f(std::string_view key, std::uint64_t count)` for every key, in table order.
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i <= mask_; ++i)
            if (slots_[i].count) f(key_of(slots_[i]), slots_[i].count);
    }

    std::size_t size() const noexcept { return size_; }
    std::size_t memory_bytes() const noexcept { return (mask_ + 1) * sizeof(slot) + arena_.capacity(); }

    /// Frees everything.
    void clear() {
        std::string().swap(arena_);
        reset(16);
    }

private:
    struct slot {
        std::uint64_t hash;
        std::uint64_t count;  // 0: empty
        std::uint64_t ref;    // arena offset << 24 | length
    };

    std::string_view key_of(const slot& s) const noexcept {
        return std::string_view(arena_.data() + (s.ref >> 24), static_cast<std::size_t>(s.ref & 0xFFFFFF));
    }

    void reset(std::size_t capacity) {
        slots_.reset(new slot[capacity]());
        mask_ = capacity - 1;
        limit_ = capacity - capacity / 4;
        size_ = 0;
    }

    void grow() {
        std::unique_ptr<slot[]> old = std::move(slots_);
        const std::size_t old_capacity = mask_ + 1;
        const std::size_t entries = size_;
        reset(old_capacity * 2);
        for (std::size_t j = 0; j < old_capacity; ++j) {
            const slot& s = old[j];
            if (!s.count) continue;
            std::size_t i = static_cast<std::size_t>(s.hash) & mask_;
            while (slots_[i].count) i = (i + 1) & mask_;
            slots_[i] = s;
        }
        size_ = entries;
    }

    std::unique_ptr<slot[]> slots_;
    std::size_t mask_ = 0, limit_ = 0, size_ = 0;
    std::string arena_;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
