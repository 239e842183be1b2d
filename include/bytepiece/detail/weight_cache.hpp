// SPDX-License-Identifier: Apache-2.0
//
// The per-alpha weight tables a tokenizer has built, kept so that `tok.sample(text, alpha, seed)`
// and the other calls that take an alpha do not rebuild them (O(vocabulary) exponentials) on
// every call. A table depends only on the model and the alpha, so it is keyed by the alpha's
// bit pattern and shared, immutable, by every sampler built from it.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

namespace detail {

struct weight_table;  // sampler.hpp

/// The weight tables of the last `capacity` alphas used, least recently used evicted. A const
/// tokenizer is shared by threads, so lookups lock a mutex; the critical section is a scan of
/// four keys and a shared_ptr copy, while a table is built outside it, so a slow build for one
/// alpha never holds up hits on another. Two threads that miss on the same alpha at once both
/// build it, and the table stored last is kept; the two are identical. Copies take the source's
/// tables (they depend only on the model, which is copied alongside), and so do moves.
class weight_cache {
public:
    /// Enough for a few alphas in rotation; a table costs 16 bytes per vocabulary entry.
    static constexpr std::size_t capacity = 4;

    weight_cache() = default;
    weight_cache(const weight_cache& other) { copy_from(other); }
    weight_cache(weight_cache&& other) noexcept { steal_from(other); }
    // Assigning to a tokenizer is not const, so no other thread may be using it: only the
    // source (which may be shared) is locked.
    weight_cache& operator=(const weight_cache& other) {
        if (this != &other) copy_from(other);
        return *this;
    }
    weight_cache& operator=(weight_cache&& other) noexcept {
        if (this != &other) steal_from(other);
        return *this;
    }

    /// The table for `alpha`: the cached one, or `make()`'s result (cached before it is
    /// returned). An exception from `make` propagates and caches nothing.
    template <class Make>
    std::shared_ptr<const weight_table> get(double alpha, Make&& make) const {
        const std::uint64_t key = bits_of(alpha);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            for (slot& s : slots_) {
                if (s.table && s.key == key) {
                    s.used = ++clock_;
                    return s.table;
                }
            }
        }
        std::shared_ptr<const weight_table> table = make();
        std::lock_guard<std::mutex> lock(mutex_);
        slot* victim = &slots_[0];
        for (slot& s : slots_) {
            if (s.table && s.key == key) {  // built by another thread meanwhile
                victim = &s;
                break;
            }
            if (!s.table || s.used < victim->used) victim = &s;
        }
        victim->key = key;
        victim->table = table;
        victim->used = ++clock_;
        return table;
    }

private:
    struct slot {
        std::uint64_t key = 0;
        std::uint64_t used = 0;  // clock_ at the last hit: the smallest is evicted first
        std::shared_ptr<const weight_table> table;
    };

    static std::uint64_t bits_of(double x) noexcept {
        std::uint64_t b;
        std::memcpy(&b, &x, sizeof b);
        return b;
    }

    void copy_from(const weight_cache& other) {
        std::lock_guard<std::mutex> lock(other.mutex_);
        for (std::size_t i = 0; i < capacity; ++i) slots_[i] = other.slots_[i];
        clock_ = other.clock_;
    }

    // Moving from a tokenizer that other threads still use is a race anyway, so no lock.
    void steal_from(weight_cache& other) noexcept {
        for (std::size_t i = 0; i < capacity; ++i) slots_[i] = std::move(other.slots_[i]);
        clock_ = other.clock_;
    }

    mutable std::mutex mutex_;
    mutable slot slots_[capacity];
    mutable std::uint64_t clock_ = 0;
};

}  // namespace detail

BYTEPIECE_NAMESPACE_END
