// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/errors.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

namespace detail {
struct binary_model_access;  // stores and restores the array (detail/binary_model.hpp)
}

/// A static double-array trie over byte strings, each key carrying a non-negative 32-bit value.
///
/// It is the one structure every segmentation walks at every byte, so it is laid out for that
/// walk: one flat array of 12-byte units (base, parent check, value), one load per byte stepped,
/// no pointers and no hashing. Keys may contain any byte, NUL included. It is built once and is
/// immutable afterwards, so a const trie is safe to share between threads.
class double_array_trie {
    friend struct detail::binary_model_access;

public:
    /// Value stored for "no key ends here".
    static constexpr std::int32_t no_value = -1;

    double_array_trie() {
        units_.assign(256 + 1, unit{});
        units_[0].check = root_check;
    }

    /// Builds a trie from `(key, value)` pairs. Keys must be distinct and non-empty, values
    /// non-negative (otherwise `argument_error`); the pairs may come in any order. The cost is O(total key bytes) plus the
    /// search for free slots, which stays near-linear because free cells are kept in a list.
    ///
    /// Example: `auto t = double_array_trie::build({{"ab", 7}, {"abc", 8}});`
    static double_array_trie build(std::vector<std::pair<std::string_view, std::int32_t>> keys) {
        std::sort(keys.begin(), keys.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i].first.empty() || keys[i].second < 0)
                BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                               "double_array_trie::build: empty key or negative value"));
            if (i > 0 && keys[i].first == keys[i - 1].first)
                BYTEPIECE_THROW(argument_error(errc::invalid_argument, "double_array_trie::build: duplicate key"));
        }
        double_array_trie t;
        builder(t, keys).run();
        return t;
    }

    /// Calls `f(length, value)` for every key that is a prefix of `[first, first + size)`, from
    /// the shortest to the longest. This is the lattice enumeration used by Viterbi, the
    /// sampler and the trainer.
    template <class F>
    void common_prefix_search(const unsigned char* first, std::size_t size, F&& f) const {
        const unit* u = units_.data();
        std::uint32_t node = 0;
        for (std::size_t k = 0; k < size; ++k) {
            const std::uint32_t next = u[node].base + first[k];
            if (u[next].check != node) return;
            node = next;
            if (u[node].value >= 0) f(k + 1, u[node].value);
        }
    }

    /// The root node, where every walk starts.
    static constexpr std::uint32_t root_node() noexcept { return 0; }

    /// The transition base of `node`: its child by byte c sits at `base_at(node) + c`, and
    /// that cell is really a child only if `check_at(child) == node`. Together with
    /// `value_at` this lets a hot loop keep its own copy of the array with extra payload.
    std::uint32_t base_at(std::uint32_t node) const noexcept { return units_[node].base; }

    /// The parent of `node`; unused cells hold a number that is no node's index.
    std::uint32_t check_at(std::uint32_t node) const noexcept { return units_[node].check; }

    /// The value stored at `node` (an index below `size()`), or `no_value`.
    std::int32_t value_at(std::uint32_t node) const noexcept { return units_[node].value; }

    /// Returns the value of `key`, or `no_value` if the key is not in the trie.
    std::int32_t find(std::string_view key) const noexcept {
        const unit* u = units_.data();
        std::uint32_t node = 0;
        for (const char ch : key) {
            const std::uint32_t next = u[node].base + static_cast<unsigned char>(ch);
            if (u[next].check != node) return no_value;
            node = next;
        }
        return key.empty() ? no_value : u[node].value;
    }

    /// Number of units in the array (a measure of its size and density).
    std::size_t size() const noexcept { return units_.size(); }

    /// Bytes of memory held by the array.
    std::size_t memory_bytes() const noexcept { return units_.capacity() * sizeof(unit); }

private:
    // `check` holds the parent's index; free cells hold a value no node index can take.
    static constexpr std::uint32_t free_check = std::numeric_limits<std::uint32_t>::max();
    static constexpr std::uint32_t root_check = free_check - 1;

    struct unit {
        std::uint32_t base = 0;
        std::uint32_t check = free_check;
        std::int32_t value = no_value;
    };

    class builder {
    public:
        builder(double_array_trie& t, const std::vector<std::pair<std::string_view, std::int32_t>>& keys)
            : t_(t), keys_(keys) {}

        void run() {
            t_.units_.clear();
            used_.clear();
            grow(1024);
            take(0);
            t_.units_[0].check = root_check;
            struct task {
                std::uint32_t node;
                std::size_t lo, hi, depth;
            };
            // Breadth-first placement keeps the shallow nodes, which every walk touches, packed
            // together at the front of the array and hot in cache; depth-first scatters them.
            std::vector<task> queue;
            if (!keys_.empty()) queue.push_back({0, 0, keys_.size(), 0});
            std::vector<std::pair<unsigned char, std::size_t>> groups;  // (label, first index)
            for (std::size_t qi = 0; qi < queue.size(); ++qi) {
                const task tk = queue[qi];
                std::size_t i = tk.lo;
                if (keys_[i].first.size() == tk.depth) {
                    t_.units_[tk.node].value = keys_[i].second;
                    ++i;
                }
                groups.clear();
                for (std::size_t j = i; j < tk.hi; ++j) {
                    const auto c = static_cast<unsigned char>(keys_[j].first[tk.depth]);
                    if (groups.empty() || groups.back().first != c) groups.emplace_back(c, j);
                }
                if (groups.empty()) continue;
                const std::uint32_t base = find_base(groups);
                t_.units_[tk.node].base = base;
                for (std::size_t g = 0; g < groups.size(); ++g) {
                    const std::uint32_t child = base + groups[g].first;
                    take(child);
                    t_.units_[child].check = tk.node;
                }
                for (std::size_t g = 0; g < groups.size(); ++g) {
                    const std::size_t glo = groups[g].second;
                    const std::size_t ghi = g + 1 < groups.size() ? groups[g + 1].second : tk.hi;
                    queue.push_back({base + groups[g].first, glo, ghi, tk.depth + 1});
                }
            }
            // Every base + byte must index inside the array, so the walk needs no bounds check.
            std::size_t need = 0;
            for (std::size_t i = 0; i < t_.units_.size(); ++i)
                if (t_.units_[i].check != free_check) need = std::max<std::size_t>(need, t_.units_[i].base + 256u);
            need = std::max(need, last_used_ + 1);
            t_.units_.resize(need);
            t_.units_.shrink_to_fit();
        }

    private:
        // Free cells form a doubly linked list so that placing a node skips occupied cells
        // instead of rescanning them; without it, building a 160k-piece model is quadratic.
        void grow(std::size_t new_size) {
            const std::size_t old = t_.units_.size();
            t_.units_.resize(new_size);
            next_.resize(new_size);
            prev_.resize(new_size);
            used_.resize(new_size, 0);
            for (std::size_t i = old; i < new_size; ++i) {
                next_[i] = i + 1 < new_size ? i + 1 : none;
                prev_[i] = i > old ? i - 1 : tail_;
            }
            if (old < new_size) {
                if (tail_ != none) next_[tail_] = old;
                else head_ = old;
                tail_ = new_size - 1;
            }
        }

        void take(std::size_t i) {
            if (i >= t_.units_.size()) grow(std::max(i + 1, t_.units_.size() * 2));
            used_[i] = 1;
            last_used_ = std::max(last_used_, i);
            const std::size_t p = prev_[i], n = next_[i];
            if (p != none) next_[p] = n;
            else head_ = n;
            if (n != none) prev_[n] = p;
            else tail_ = p;
        }

        std::uint32_t find_base(const std::vector<std::pair<unsigned char, std::size_t>>& groups) {
            const std::size_t first = groups.front().first;
            std::size_t cell = head_;
            for (;;) {
                if (cell == none) {
                    cell = t_.units_.size();
                    grow(t_.units_.size() * 2);
                }
                if (cell > first) {  // base >= 1, so no child can land on the root
                    const std::size_t base = cell - first;
                    if (base + 256 > t_.units_.size()) grow(std::max(base + 256, t_.units_.size() * 2));
                    bool ok = true;
                    for (std::size_t g = 1; g < groups.size(); ++g)
                        if (used_[base + groups[g].first]) { ok = false; break; }
                    if (ok) return static_cast<std::uint32_t>(base);
                }
                cell = next_[cell];
            }
        }

        static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
        double_array_trie& t_;
        const std::vector<std::pair<std::string_view, std::int32_t>>& keys_;
        std::vector<std::size_t> next_, prev_;
        std::vector<unsigned char> used_;
        std::size_t head_ = none, tail_ = none, last_used_ = 0;
    };

    std::vector<unit> units_;
};

BYTEPIECE_NAMESPACE_END
