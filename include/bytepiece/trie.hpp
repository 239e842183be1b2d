// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
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

    /// What a build did, for tests and tuning: `nodes` is the number of used cells (so
    /// `nodes / size()` is the array's density) and `probes` the number of bases tried for
    /// nodes, which is at most 8 per cell of the array plus one per node.
    struct build_stats {
        std::size_t nodes = 0;
        std::uint64_t probes = 0;
    };

    /// Builds a trie from `(key, value)` pairs. Keys must be distinct and non-empty, values
    /// non-negative (otherwise `argument_error`); the pairs may come in any order. The cost is
    /// O(total key bytes) plus the search for free cells, which is linear in the array's size
    /// (see `build_stats`). When `stats` is given, the build's counts are stored there.
    ///
    /// Example: `auto t = double_array_trie::build({{"ab", 7}, {"abc", 8}});`
    static double_array_trie build(std::vector<std::pair<std::string_view, std::int32_t>> keys,
                                   build_stats* stats = nullptr) {
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
        builder b(t, keys);
        b.run();
        if (stats) *stats = b.stats();
        // The keys and the builder's lists go before the array is cut to size, which copies it.
        std::vector<std::pair<std::string_view, std::int32_t>>().swap(keys);
        t.units_.resize(b.needed());
        t.units_.shrink_to_fit();
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

        build_stats stats() const noexcept { return {nodes_, probes_}; }

        // The cells the walk needs once the keys are placed: every base + byte inside the array.
        std::size_t needed() const noexcept { return needed_; }

        void run() {
            t_.units_.clear();
            // The array starts at about its final size: a node per distinct key prefix, plus the
            // few cells the placement leaves free. Doubling as it fills held the old and the new
            // array at once, 2-4 times the final size (280 MB of transients for 3.6 million
            // n-grams in the trainer); a larger start changes no placement, since the free cells
            // are searched in index order either way.
            std::size_t nodes = 1;
            for (std::size_t k = 0; k < keys_.size(); ++k) {
                const std::string_view key = keys_[k].first;
                std::size_t common = 0;
                if (k > 0) {
                    const std::string_view prev = keys_[k - 1].first;
                    const std::size_t most = std::min(prev.size(), key.size());
                    while (common < most && prev[common] == key[common]) ++common;
                }
                nodes += key.size() - common;
            }
            grow(std::max<std::size_t>(1024, nodes + nodes / 16 + 256));
            take(0);
            t_.units_[0].check = root_check;
            // A node to place: its cell, its keys [lo, hi) and its depth. 32 bits suffice:
            // the cells are numbered in 32 bits, and a depth needs as many nodes.
            struct task {
                std::uint32_t node, lo, hi, depth;
            };
            if (keys_.size() > std::numeric_limits<std::uint32_t>::max())
                BYTEPIECE_THROW(argument_error(errc::invalid_argument, "double_array_trie::build: 2^32 keys or more"));
            // Breadth-first placement keeps the shallow nodes, which every walk touches, packed
            // together at the front of the array and hot in cache; depth-first scatters them.
            // The queue is a deque, popped as it is placed, so that it holds about one level
            // of the trie, not every node (a 10^6-byte key is 10^6 levels of one node each).
            std::deque<task> queue;
            if (!keys_.empty()) queue.push_back({0, 0, static_cast<std::uint32_t>(keys_.size()), 0});
            std::vector<std::pair<unsigned char, std::uint32_t>> groups;  // (label, first index)
            while (!queue.empty()) {
                const task tk = queue.front();
                queue.pop_front();
                std::uint32_t i = tk.lo;
                if (keys_[i].first.size() == tk.depth) {
                    t_.units_[tk.node].value = keys_[i].second;
                    ++i;
                }
                groups.clear();
                for (std::uint32_t j = i; j < tk.hi; ++j) {
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
                    const std::uint32_t glo = groups[g].second;
                    const std::uint32_t ghi = g + 1 < groups.size() ? groups[g + 1].second : tk.hi;
                    const std::uint32_t child = base + groups[g].first;
                    // A leaf (one key, ending here) places nothing: its value is set now rather
                    // than queued, which keeps the queue to the inner nodes of about one level
                    // (the last level of an n-gram trie is most of its nodes).
                    if (ghi - glo == 1 && keys_[glo].first.size() == tk.depth + 1) t_.units_[child].value = keys_[glo].second;
                    else queue.push_back({child, glo, ghi, tk.depth + 1});
                }
            }
            // Every base + byte must index inside the array, so the walk needs no bounds check.
            std::size_t need = 0;
            for (std::size_t i = 0; i < t_.units_.size(); ++i)
                if (t_.units_[i].check != free_check) need = std::max<std::size_t>(need, t_.units_[i].base + 256u);
            needed_ = std::max(need, last_used_ + 1);
            for (const unsigned char st : state_) nodes_ += st == used;
            std::vector<std::uint32_t>().swap(next_);
            std::vector<std::uint32_t>().swap(prev_);
            std::vector<unsigned char>().swap(state_);
        }

    private:
        // Placing a node means finding a base where all its children's cells are free. Free
        // cells are kept in doubly linked lists, so that a search skips occupied cells
        // instead of rescanning them. A list alone is not enough: a free cell between
        // siblings placed earlier often fits no later node's pattern of labels, yet every
        // later search would probe it again, and such holes pile up in proportion to the
        // trie: a build was quadratic (600k random 6-digit pieces took 12 times as long as
        // 300k). So a cell on the `open` list, the one searches walk, moves to the `holes`
        // list after `max_probes` failed probes from it. A node with one child fits any free
        // cell and takes a hole first, which keeps the array dense; a node with more
        // children only walks the open list, and a hole can still become one of its
        // children other than the first. Each probe either places a node or counts against
        // one cell, so a build probes at most max_probes times per cell plus once per node.
        // (8 keeps the 160k model's array within 1% of a build that probes without bound.)
        static constexpr unsigned char max_probes = 8;  // build_stats documents it

        // Grows the array to at least `need` cells, by a quarter where that fits (the start
        // is near the final size, so growth is rare and small).
        void grow(std::size_t need) {
            // Bases and checks are 32-bit, and a walk reads up to base + 255.
            constexpr std::size_t limit = std::numeric_limits<std::uint32_t>::max() - 256u;
            if (need > limit)
                BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                               "double_array_trie::build: the keys need more than 2^32 - 257 cells"));
            const auto old = static_cast<std::uint32_t>(t_.units_.size());
            const auto size = static_cast<std::uint32_t>(std::max(need, std::min<std::size_t>(std::size_t{old} + old / 4, limit)));
            t_.units_.resize(size);
            next_.resize(size);
            prev_.resize(size);
            state_.resize(size, 0);
            // The new cells join the end of the open list.
            for (std::uint32_t i = old; i < size; ++i) {
                next_[i] = i + 1 < size ? i + 1 : none;
                prev_[i] = i > old ? i - 1 : tail_;
            }
            if (old < size) {
                if (tail_ != none) next_[tail_] = old;
                else head_[open] = old;
                tail_ = size - 1;
            }
        }

        // Takes free cell i off the list it is on.
        void unlink(std::uint32_t i) {
            const int list = state_[i] == hole ? holes : open;
            const std::uint32_t p = prev_[i], n = next_[i];
            if (p != none) next_[p] = n;
            else head_[list] = n;
            if (n != none) prev_[n] = p;
            else if (list == open) tail_ = p;
        }

        // Moves open cell i, which failed its last probe, to the holes list (to no list below
        // 256, where a hole could be below a one-child node's label; at most 256 cells).
        void close(std::uint32_t i) {
            unlink(i);
            if (i < 256) {
                state_[i] = lost;
                return;
            }
            state_[i] = hole;
            prev_[i] = none;
            next_[i] = head_[holes];
            if (head_[holes] != none) prev_[head_[holes]] = i;
            head_[holes] = i;
        }

        void take(std::size_t i) {
            if (i >= t_.units_.size()) grow(i + 1);
            if (state_[i] != used && state_[i] != lost) unlink(static_cast<std::uint32_t>(i));
            state_[i] = used;
            last_used_ = std::max(last_used_, i);
        }

        std::uint32_t find_base(const std::vector<std::pair<unsigned char, std::uint32_t>>& groups) {
            const std::uint32_t first = groups.front().first;
            if (groups.size() == 1 && head_[holes] != none) {  // holes are all at 256 or above
                ++probes_;
                const std::uint32_t base = head_[holes] - first;
                if (base + 256u > t_.units_.size()) grow(base + 256u);
                return base;
            }
            std::uint32_t cell = head_[open];
            for (;;) {
                if (cell == none) {
                    cell = static_cast<std::uint32_t>(t_.units_.size());
                    grow(t_.units_.size() + 1);
                }
                ++probes_;
                bool ok = cell >= first;
                if (ok) {
                    const std::uint32_t base = cell - first;
                    if (base + 256u > t_.units_.size()) grow(base + 256u);
                    for (std::size_t g = 1; g < groups.size(); ++g)
                        if (state_[base + groups[g].first] == used) {
                            ok = false;
                            break;
                        }
                    if (ok) return base;
                }
                const std::uint32_t after = next_[cell];
                if (++state_[cell] == max_probes) close(cell);
                cell = after;
            }
        }

        static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
        static constexpr int open = 0, holes = 1;
        // state_[i] of a free cell on the open list counts its failed probes (below
        // max_probes); the other values mark a cell on the holes list, a free cell on no
        // list, and a used cell.
        static constexpr unsigned char hole = 253, lost = 254, used = 255;
        static_assert(max_probes > 0 && max_probes < hole, "a cell's probe count must stay below the marks");
        double_array_trie& t_;
        const std::vector<std::pair<std::string_view, std::int32_t>>& keys_;
        std::vector<std::uint32_t> next_, prev_;
        std::vector<unsigned char> state_;
        std::uint32_t head_[2] = {none, none}, tail_ = none;  // tail of the open list
        std::size_t last_used_ = 0;

        std::uint64_t probes_ = 0;
        std::size_t needed_ = 0, nodes_ = 0;
    };

    std::vector<unit> units_;
};

BYTEPIECE_NAMESPACE_END
