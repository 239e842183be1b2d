// SPDX-License-Identifier: Apache-2.0
//
// The trainer's n-gram language model: counting (pass 1), pruning into conditional log
// probabilities, and the exact float64 Viterbi over n-gram states that segments a chunk
// (pass 2). Spec §5; the comments name the reference's steps.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/count_table.hpp"
#include "bytepiece/detail/numpy_log.hpp"
#include "bytepiece/detail/train_pipeline.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/trie.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// The logarithm the reference takes with `np.log` (numpy 1.24 on AVX-512): the last bits of
/// these values decide ties in the segmentation, so they must be numpy's, not libm's.
inline double trainer_log(std::uint64_t count) noexcept { return numpy_log(static_cast<double>(count)); }

/// n-grams of at most this many bytes are packed into a 64-bit key.
inline constexpr std::size_t packed_ngram_bytes = 8;

/// The key of the n-gram of `length` (1..8) bytes at `p`: its bytes in memory order followed by
/// zero bytes. At least 8 bytes must be readable at `p`.
inline std::uint64_t load_packed(const unsigned char* p, std::size_t length) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return length >= 8 ? w : w & ((std::uint64_t(1) << (8 * length)) - 1);
#else
    std::uint64_t w = 0;
    std::memcpy(&w, p, length);
    return w;
#endif
}

/// The key of an n-gram of at most 8 bytes given as a string.
inline std::uint64_t load_packed_bytes(std::string_view bytes) noexcept {
    std::uint64_t w = 0;
    std::memcpy(&w, bytes.data(), std::min(bytes.size(), sizeof w));
    return w;
}

/// The packed key of the first `length` bytes of a packed key.
inline std::uint64_t packed_prefix(std::uint64_t key, std::size_t length) noexcept {
    unsigned char b[8];
    std::memcpy(b, &key, 8);
    return load_packed(b, length);
}

/// Which of `shards` threads counts the n-grams (of 2 bytes or more) that start with the bytes
/// `p[0]`, `p[1]`. Sharding by the first two bytes lets each thread skip the other threads'
/// positions without hashing them, and keeps every n-gram in the same shard as its prefixes.
inline unsigned shard_of(const unsigned char* p, unsigned shards) noexcept {
    const std::uint32_t h = (static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8) * 0x9E3779B1u;
    return static_cast<unsigned>((static_cast<std::uint64_t>(h) * shards) >> 32);
}

/// The n-gram counts one pass-1 thread owns: table j counts the j-byte substrings whose first
/// two bytes fall in this thread's shard (see `shard_of`). Table 0 (positions) and table 1
/// (bytes) are small arrays kept by shard 0 only.
struct ngram_shard {
    std::vector<packed_count_table> packed;  // index j, 2 <= j <= min(order, 8)
    std::vector<count_table> wide;           // index j, 9 <= j <= order
    std::uint64_t byte_counts[256] = {};
    std::uint64_t positions = 0;

    explicit ngram_shard(std::size_t order)
        : packed(std::min(order, packed_ngram_bytes) + 1), wide(order > packed_ngram_bytes ? order + 1 : 0) {}
};

/// Pass 1 on one batch for one shard: for every chunk b and position i, counts b[i : i+j] for
/// j = 0 .. order, skipping substrings cut short by the end of the chunk (the reference counts
/// those too but discards them when pruning, since their length is not j).
inline void count_ngrams(const text_batch& batch, ngram_shard& shard, unsigned index, unsigned shards, std::size_t order) {
    const auto* const data = reinterpret_cast<const unsigned char*>(batch.bytes.data());
    const std::size_t packed_max = std::min(order, packed_ngram_bytes);
    std::size_t start = 0;
    // Hashes and keys of a few positions are gathered first and their slots prefetched, so that
    // the cache misses of the table updates overlap.
    constexpr std::size_t group = 16 * 8;
    std::uint64_t keys[group], hashes[group];
    unsigned char lens[group];
    for (const std::uint32_t end : batch.ends) {
        const std::size_t n = end - start;
        if (index == 0) {
            shard.positions += n;
            for (std::size_t i = start; i < end; ++i) ++shard.byte_counts[data[i]];
        }
        std::size_t pending = 0;
        auto flush = [&] {
            for (std::size_t k = 0; k < pending; ++k) shard.packed[lens[k]].add(keys[k], hashes[k]);
            pending = 0;
        };
        for (std::size_t i = start; i < end; ++i) {
            const std::size_t avail = end - i;
            const unsigned char* p = data + i;
            if (avail < 2 || (shards > 1 && shard_of(p, shards) != index)) continue;
            const std::size_t jmax = std::min(packed_max, avail);
            for (std::size_t j = 2; j <= jmax; ++j) {
                const std::uint64_t key = load_packed(p, j);
                const std::uint64_t h = hash_packed(key);
                shard.packed[j].prefetch(h);
                keys[pending] = key;
                hashes[pending] = h;
                lens[pending] = static_cast<unsigned char>(j);
                ++pending;
            }
            if (pending + packed_ngram_bytes > group) flush();
            for (std::size_t j = packed_ngram_bytes + 1; j <= order && j <= avail; ++j) {
                const std::string_view key(reinterpret_cast<const char*>(p), j);
                shard.wide[j].add_hashed(key, hash_bytes(key));
            }
        }
        flush();
        start = end;
    }
}

/// The pruned n-gram model: for every kept n-gram g of n bytes (1 <= n <= order), the value
/// ln(count(g)) - ln(count(g minus its last byte)) (for n = 1 the denominator is the number of
/// positions), found by walking a trie from each position.
struct ngram_model {
    std::size_t order = 0;
    bool ensure_unicode = true;
    double_array_trie trie;
    std::vector<double> values;  // indexed by the trie's value
    std::size_t kept[33] = {};   // kept n-grams per length, for reporting
};

/// Bytes the model holds while pass 2 runs (what the memory limit charges for it).
inline std::uint64_t memory_bytes(const ngram_model& m) noexcept {
    return m.values.capacity() * sizeof(double) + m.trie.memory_bytes();
}

/// Assembles an `ngram_model` from kept n-grams given with their counts and their prefixes'
/// counts, in any order: the one place where the model's values are computed, for the
/// in-memory pruning and for a pruned count file alike. Holds the keys in one arena (a byte of
/// length each) and builds the trie at the end, so its memory is about that of the keys.
class ngram_model_builder {
public:
    /// Every byte value missing from `byte_counts` is added with count 1 (and counted as a
    /// position). Throws `train_error` if no position was counted (an empty corpus).
    ngram_model_builder(std::size_t order, bool ensure_unicode, const std::uint64_t (&byte_counts)[256], std::uint64_t positions) {
        m_.order = order;
        m_.ensure_unicode = ensure_unicode;
        if (positions == 0) BYTEPIECE_THROW(train_error(errc::train_empty_corpus, "trainer: the corpus holds no text"));
        c0_ = positions;
        for (int b = 0; b < 256; ++b) {
            c1_[b] = byte_counts[b];
            if (c1_[b] == 0) {
                c1_[b] = 1;
                ++c0_;
            }
        }
        const double log_c0 = trainer_log(c0_);
        for (int b = 0; b < 256; ++b) {
            const unsigned char byte = static_cast<unsigned char>(b);
            add_value(&byte, 1, trainer_log(c1_[b]) - log_c0);
        }
    }

    /// The count of a single byte, as the model uses it (1 for a byte never seen).
    std::uint64_t byte_count(unsigned char b) const noexcept { return c1_[b]; }

    /// Adds the n-gram `bytes[0, length)` (2 <= length <= 255) counted `count` times, whose
    /// first `length - 1` bytes were counted `parent` times.
    void add(const void* bytes, std::size_t length, std::uint64_t count, std::uint64_t parent) {
        add_value(bytes, length, trainer_log(count) - trainer_log(parent));
    }

    /// Reserves room for `keys` more n-grams of `bytes` bytes in all.
    void reserve(std::size_t keys, std::size_t bytes) {
        arena_.reserve(arena_.size() + bytes);
        lengths_.reserve(lengths_.size() + keys);
        m_.values.reserve(m_.values.size() + keys);
    }

    /// Builds the trie and hands the model over; the builder is empty afterwards.
    ngram_model finish() {
        // The slack of the growing vectors goes back before the trie's build, the peak.
        m_.values.shrink_to_fit();
        arena_.shrink_to_fit();
        lengths_.shrink_to_fit();
        std::vector<std::pair<std::string_view, std::int32_t>> keys;
        keys.reserve(lengths_.size());
        std::size_t offset = 0;
        for (std::size_t i = 0; i < lengths_.size(); ++i) {
            keys.emplace_back(std::string_view(arena_).substr(offset, lengths_[i]), static_cast<std::int32_t>(i));
            offset += lengths_[i];
        }
        std::vector<std::uint8_t>().swap(lengths_);
        m_.trie = double_array_trie::build(std::move(keys));
        std::string().swap(arena_);
        return std::move(m_);
    }

private:
    void add_value(const void* bytes, std::size_t length, double value) {
        if (m_.values.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
            BYTEPIECE_THROW(train_error(errc::train_bad_option, "trainer: 2^31 n-grams or more were kept; raise min_count"));
        arena_.append(static_cast<const char*>(bytes), length);
        lengths_.push_back(static_cast<std::uint8_t>(length));
        m_.values.push_back(value);
        ++m_.kept[std::min<std::size_t>(length, 32)];
    }

    ngram_model m_;
    std::uint64_t c1_[256] = {};
    std::uint64_t c0_ = 0;
    std::string arena_;
    std::vector<std::uint8_t> lengths_;
};

/// Pruning of the n-grams (reference `prune_ngrams`), from the shards of pass 1. Every byte
/// value missing from table 1 is added with count 1 (and counted as a position); tables j >= 2
/// keep the keys counted at least `min_count` times. Throws `train_error` if no position was
/// counted (an empty corpus). The shards are emptied as they are consumed.
inline ngram_model build_ngram_model(std::vector<ngram_shard>& shards, std::size_t order, std::uint64_t min_count,
                                     bool ensure_unicode) {
    std::uint64_t c1[256] = {};
    std::uint64_t c0 = 0;
    for (const auto& s : shards) {
        c0 += s.positions;
        for (int b = 0; b < 256; ++b) c1[b] += s.byte_counts[b];
    }
    ngram_model_builder m(order, ensure_unicode, c1, c0);
    // The count of the first length - 1 bytes of a key: in table 1, or in the key's own shard.
    auto prefix_count_packed = [&](const ngram_shard& s, std::uint64_t key, std::size_t length) -> std::uint64_t {
        if (length == 2) {
            unsigned char first;
            std::memcpy(&first, &key, 1);
            return m.byte_count(first);
        }
        const std::uint64_t prefix = packed_prefix(key, length - 1);
        return s.packed[length - 1].find(prefix, hash_packed(prefix));
    };
    const std::size_t packed_max = std::min(order, packed_ngram_bytes);
    for (std::size_t j = 2; j <= packed_max; ++j) {
        for (auto& s : shards) {
            s.packed[j].for_each([&](std::uint64_t key, std::uint64_t count) {
                if (count < min_count) return;
                unsigned char bytes[8];
                std::memcpy(bytes, &key, 8);
                m.add(bytes, j, count, prefix_count_packed(s, key, j));
            });
        }
        // Table j - 1 is no longer needed once table j has looked its prefixes up.
        if (j >= 3)
            for (auto& s : shards) s.packed[j - 1].clear();
    }
    for (std::size_t j = packed_ngram_bytes + 1; j <= order; ++j) {
        for (auto& s : shards) {
            s.wide[j].for_each([&](std::string_view key, std::uint64_t count) {
                if (count < min_count) return;
                std::uint64_t parent;
                const std::string_view prefix = key.substr(0, j - 1);
                if (j - 1 <= packed_ngram_bytes) {
                    const std::uint64_t pk = load_packed_bytes(prefix);
                    parent = s.packed[j - 1].find(pk, hash_packed(pk));
                } else {
                    parent = s.wide[j - 1].find(prefix, hash_bytes(prefix));
                }
                m.add(key.data(), j, count, parent);
            });
        }
        for (auto& s : shards) {
            if (j - 1 <= packed_ngram_bytes) s.packed[j - 1].clear();
            else s.wide[j - 1].clear();
        }
    }
    shards.clear();
    shards.shrink_to_fit();
    return m.finish();
}

/// Scratch space of `segment`, one per thread.
struct segment_workspace {
    std::vector<double> nodes;
    std::vector<std::uint8_t> routes;
    std::vector<std::uint8_t> states;
};

/// Segments one chunk with the n-gram model exactly as the reference's `Trainer._tokenize`
/// (spec §5) and calls `piece(std::string_view)` for each piece, in order.
///
/// State j at position i means "the current piece has j + 1 bytes so far" (j = order - 1: that
/// many or more); its emission is the model's value of the (j+1)-gram ending at i, or -inf.
/// From state a one may go to state 0 (a piece starts) or to min(a + 1, order - 1). The best
/// path is found with float64 sums formed in the reference's order and numpy's argmax rule (the
/// first index among equal maxima, index 0 when all are -inf), so equal scores resolve exactly
/// as in the reference.
template <class Piece>
void segment(const ngram_model& m, std::string_view chunk, segment_workspace& ws, Piece&& piece) {
    const std::size_t n = chunk.size();
    if (n == 0) return;
    const std::size_t order = m.order;
    const auto* const b = reinterpret_cast<const unsigned char*>(chunk.data());
    constexpr double neg_inf = -std::numeric_limits<double>::infinity();
    ws.nodes.assign(n * order, neg_inf);
    if (ws.routes.size() < n * order) ws.routes.resize(n * order);
    if (ws.states.size() < n) ws.states.resize(n);
    double* const nodes = ws.nodes.data();
    std::uint8_t* const routes = ws.routes.data();
    const double* const values = m.values.data();
    // Emissions: node[i][j] = value of b[i-j .. i], found from the start s = i - j.
    for (std::size_t s = 0; s < n; ++s) {
        double* const row = nodes + s * order;
        m.trie.common_prefix_search(b + s, std::min(order, n - s), [&](std::size_t len, std::int32_t v) {
            row[(len - 1) * order + (len - 1)] = values[v];
        });
    }
    if (m.ensure_unicode)  // no piece may start at a UTF-8 continuation byte (reference: -= inf)
        for (std::size_t i = 0; i < n; ++i)
            if (b[i] >= 0x80 && b[i] < 0xC0) nodes[i * order] = neg_inf;
    // Viterbi: node[i][c] = max_a node[i-1][a] + trans[a][c] + node[i][c]; the reference adds
    // trans (0 or -inf) first, and x + 0 == x, so allowed moves add just the emission.
    const std::size_t last = order - 1;
    for (std::size_t i = 1; i < n; ++i) {
        const double* const prev = nodes + (i - 1) * order;
        double* const cur = nodes + i * order;
        std::uint8_t* const route = routes + i * order;
        // c = 0: reachable from every state.
        {
            const double e = cur[0];
            double best = prev[0] + e;
            std::size_t arg = 0;
            for (std::size_t a = 1; a < order; ++a) {
                const double v = prev[a] + e;
                if (v > best) {
                    best = v;
                    arg = a;
                }
            }
            cur[0] = best;
            route[0] = static_cast<std::uint8_t>(arg);
        }
        // 0 < c < order - 1: only from c - 1.
        for (std::size_t c = 1; c < last; ++c) {
            const double v = prev[c - 1] + cur[c];
            cur[c] = v;
            route[c] = v == neg_inf ? 0 : static_cast<std::uint8_t>(c - 1);
        }
        // c = order - 1 (if > 0): from order - 2 and from itself.
        if (last > 0) {
            const double e = cur[last];
            const double v1 = prev[last - 1] + e;
            const double v2 = prev[last] + e;
            if (v1 >= v2) {
                cur[last] = v1;
                route[last] = v1 == neg_inf ? 0 : static_cast<std::uint8_t>(last - 1);
            } else {
                cur[last] = v2;
                route[last] = static_cast<std::uint8_t>(last);
            }
        }
    }
    // Backtrack from the best final state.
    std::uint8_t* const states = ws.states.data();
    {
        const double* const fin = nodes + (n - 1) * order;
        std::size_t arg = 0;
        for (std::size_t c = 1; c < order; ++c)
            if (fin[c] > fin[arg]) arg = c;
        states[n - 1] = static_cast<std::uint8_t>(arg);
    }
    for (std::size_t i = n - 1; i > 0; --i) states[i - 1] = routes[i * order + states[i]];
    // Pieces run between consecutive positions in state 0 (and to the end).
    std::size_t start = n;
    for (std::size_t i = 0; i < n; ++i) {
        if (states[i] != 0) continue;
        if (start != n) piece(chunk.substr(start, i - start));
        start = i;
    }
    if (start != n) piece(chunk.substr(start));
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
