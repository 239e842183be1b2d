// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "bytepiece/chunking.hpp"
#include "bytepiece/trie.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Viterbi over many chunks at once: `K` chunks are segmented in lock-step, lane `i` at its own
/// byte position of its own chunk, and every walk from a position takes exactly `D` trie steps
/// without a branch, followed by a rarely taken tail loop for walks still alive after `D`.
///
/// Rationale. A single-lane Viterbi is a chain of dependent loads (base, then check, for each
/// byte), and every walk ends on a data-dependent branch that mispredicts about half the time;
/// a mispredict discards all younger work, so the walks of consecutive positions never overlap
/// and each L1 miss of the 700 KB trie is paid in full. Consecutive positions of one chunk are
/// also coupled through `best[]`. Two changes remove that. (1) A fixed number of steps per
/// position, with failure tracked as a sticky "alive" flag instead of a loop exit, leaves no
/// unpredictable branch in the hot loop; the walk keeps following `base + byte` after a failed
/// check (every cell's `base + 255` stays inside the array, so this is safe), which takes the
/// check load off the walk's dependency chain. A dead walk's relaxations read the score of an
/// absorbing cell that is -inf, so they never win. (2) Chunks are independent, so lanes of
/// different chunks give the out-of-order core `K` unrelated dependency chains to overlap.
///
/// Ties are broken exactly as the single-lane loop does: within a lane, positions are
/// processed in order, the `D` fixed steps of a position relax ends `s+1..s+D` in order and its
/// tail (ends beyond `s+D`) runs before position `s+1`, so every end receives its edges from
/// the longest piece to the shortest and "replace only if strictly greater" keeps the longest
/// among equal scores. Sums are `best[start] + score` as in the reference.
///
/// A `lane_viterbi` is immutable after construction and can be shared between threads; each
/// thread needs its own `workspace`.
template <class Score = double, class Id = std::uint32_t>
class lane_viterbi {
public:
    using score_type = Score;
    using id_type = Id;

    /// Per-thread scratch: lane buffers and the back-pointers of one block of chunks. It only
    /// grows, so reusing it avoids allocation once it has seen the longest chunk.
    class workspace {
        friend class lane_viterbi;
        std::vector<std::vector<Score>> best;   // by lane
        std::vector<std::uint32_t> back;        // by block byte: the winning node of each end
        std::vector<std::size_t> offset;        // by block chunk: where its back-pointers start
        std::vector<std::string_view> pending;  // chunks gathered by encode_text
        std::vector<Score> single_best;
    };

    /// Builds the engine's own copy of `trie`'s transitions. `node_scores[node]` (for every
    /// node below `trie.size()`) is the score of the piece ending at that node, -infinity where
    /// no piece ends.
    lane_viterbi(const double_array_trie& trie, const Score* node_scores) {
        const std::uint32_t n = static_cast<std::uint32_t>(trie.size());
        // The walk follows base + byte even after a failed check, so every cell, whether a node
        // or not, must have base + 255 inside the array; the trie guarantees it for nodes and
        // free cells hold base 0, but extending the copy makes it true whatever the trie holds.
        std::size_t size = std::size_t{n} + 1;
        for (std::uint32_t i = 0; i < n; ++i) size = std::max<std::size_t>(size, std::size_t{trie.base_at(i)} + 256);
        dead_ = n;
        cells_.assign(size, cell{0, dead_check});
        scores_.assign(size, -std::numeric_limits<Score>::infinity());
        node_id_.assign(size, 0);
        node_len_.assign(size, 0);
        for (std::uint32_t i = 0; i < n; ++i) {
            cells_[i] = {trie.base_at(i), trie.check_at(i)};
            scores_[i] = node_scores[i];
            const std::int32_t v = trie.value_at(i);
            node_id_[i] = v >= 0 ? static_cast<Id>(v) : Id{0};
        }
        // Node depth (= piece length) is needed only to walk the back-pointers, so it is kept
        // out of the cells. Parents may sit after children in the array, hence the memo walk.
        std::vector<std::uint32_t> stack;
        std::vector<unsigned char> known(n, 0);
        if (n > 0) known[0] = 1;
        for (std::uint32_t i = 1; i < n; ++i) {
            if (known[i] || !is_node(trie, i)) continue;
            std::uint32_t j = i;
            while (!known[j]) {
                stack.push_back(j);
                j = trie.check_at(j);
            }
            std::uint32_t depth = node_len_[j];
            while (!stack.empty()) {
                node_len_[stack.back()] = ++depth;
                known[stack.back()] = 1;
                stack.pop_back();
            }
        }
    }

    /// Segments `count` chunks and appends the ids of all of them, in chunk order, to `out`.
    /// `K` lanes and `D` branch-free steps per position; the defaults are the measured best.
    template <int K = 4, int D = 4, int E = 2>
    void encode_chunks(const std::string_view* chunks, std::size_t count, std::vector<Id>& out,
                       workspace& ws) const {
        static_assert(K >= 1 && K <= 16 && D >= 1 && D <= 16, "lane_viterbi: K in [1, 16], D in [1, 16]");
        if (ws.best.size() < static_cast<std::size_t>(K)) ws.best.resize(K);
        std::size_t c = 0;
        while (c < count) {
            // A block bounds the back-pointer buffer (and keeps it in L2); the lanes drain at
            // the end of each block, which costs about K/2 chunks of single-lane work per block.
            std::size_t end = c, bytes = 0;
            while (end < count && (end == c || bytes + chunks[end].size() <= block_bytes)) bytes += chunks[end++].size();
            run_block<K, D, E>(chunks + c, end - c, out, ws);
            c = end;
        }
    }

    /// Cuts `text` into chunks (`for_each_chunk`) and appends the ids of all of them.
    template <int K = 4, int D = 4, int E = 2>
    void encode_text(std::string_view text, std::vector<Id>& out, workspace& ws) const {
        ws.pending.clear();
        std::size_t bytes = 0;
        for_each_chunk(text, [&](std::string_view chunk) {
            ws.pending.push_back(chunk);
            bytes += chunk.size();
            if (bytes >= block_bytes) {
                encode_chunks<K, D, E>(ws.pending.data(), ws.pending.size(), out, ws);
                ws.pending.clear();
                bytes = 0;
            }
        });
        encode_chunks<K, D, E>(ws.pending.data(), ws.pending.size(), out, ws);
    }

    /// One chunk on one lane (fixed-depth steps, then the bounded end): for a text that is one
    /// long chunk, where there is nothing to run beside it.
    template <int D = 4, int E = 2>
    void encode_one(std::string_view chunk, std::vector<Id>& out, workspace& ws) const {
        const std::size_t n = chunk.size();
        if (n == 0) return;
        if (ws.single_best.size() < n + 1) ws.single_best.resize(n + 1);
        if (ws.back.size() < n + 1) ws.back.resize(n + 1);
        lane ln{};
        start(ln, chunk, ws.single_best.data(), ws.back.data(), D);
        finish<D, E>(ln);
        emit(ws.back.data(), n, out);
    }

    /// Bytes of text per block; see `encode_chunks`.
    static constexpr std::size_t block_bytes = 16384;

private:
    struct cell {
        std::uint32_t base;
        std::uint32_t check;
    };
    // No node is its own parent's index beyond the array, so this check never matches.
    static constexpr std::uint32_t dead_check = std::numeric_limits<std::uint32_t>::max();

    struct lane {
        const unsigned char* text;
        Score* best;
        std::uint32_t* back;
        std::size_t s, n, fast_end;  // fast positions are s < fast_end: s + D - 1 < n
        // The continuation slot: one walk still alive after its D fixed steps, carried on E
        // steps per position. `c_diff` nonzero means the slot is empty (its walk died).
        std::size_t c_s, c_k;  // the walk's start, and the next byte it reads
        std::uint32_t c_node, c_diff;
    };

    static bool is_node(const double_array_trie& t, std::uint32_t i) {
        const std::uint32_t c = t.check_at(i);
        return c < t.size() && t.base_at(c) + 0u <= i && i - t.base_at(c) < 256u;
    }

    void start(lane& ln, std::string_view chunk, Score* best, std::uint32_t* back, int d) const {
        ln.text = reinterpret_cast<const unsigned char*>(chunk.data());
        ln.n = chunk.size();
        ln.s = 0;
        ln.fast_end = ln.n >= static_cast<std::size_t>(d) ? ln.n - static_cast<std::size_t>(d) + 1 : 0;
        ln.best = best;
        ln.back = back;
        best[0] = 0;
        std::fill(best + 1, best + ln.n + 1, -std::numeric_limits<Score>::infinity());
        ln.c_s = ln.c_k = 0;
        ln.c_node = 0;
        ln.c_diff = 1;
    }

    // The two selects of the hot loop. Both are data-dependent and unpredictable, and GCC turns
    // plain ternaries (and even mask arithmetic) back into branches, which is exactly what the
    // fixed-depth loop exists to avoid; on x86-64 they are therefore pinned to cmov. The
    // portable fallback hides the mask from the optimizer with an empty asm where it can.
    static std::uint32_t select_if_zero(std::uint32_t v, std::uint32_t if_zero, std::uint32_t otherwise) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        std::uint32_t r = if_zero;
        __asm__("testl %[v], %[v]\n\tcmovnzl %[o], %[r]" : [r] "+r"(r) : [v] "r"(v), [o] "r"(otherwise) : "cc");
        return r;
#else
        std::uint32_t m = 0u - static_cast<std::uint32_t>(v == 0);
        opaque(m);
        return (if_zero & m) | (otherwise & ~m);
#endif
    }
    // `a > b ? x : y` (false when unordered, as the scalar comparison is).
    static std::uint32_t select_if_greater(Score a, Score b, std::uint32_t x, std::uint32_t y) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if constexpr (std::is_same_v<Score, double>) {
            __asm__("ucomisd %[b], %[a]\n\tcmoval %[x], %[y]" : [y] "+r"(y) : [a] "x"(a), [b] "x"(b), [x] "r"(x) : "cc");
            return y;
        } else if constexpr (std::is_same_v<Score, float>) {
            __asm__("ucomiss %[b], %[a]\n\tcmoval %[x], %[y]" : [y] "+r"(y) : [a] "x"(a), [b] "x"(b), [x] "r"(x) : "cc");
            return y;
        }
#endif
        std::uint32_t m = 0u - static_cast<std::uint32_t>(a > b);
        opaque(m);
        return (x & m) | (y & ~m);
    }
    static void opaque(std::uint32_t& v) noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __asm__("" : "+r"(v));
#else
        (void)v;
#endif
    }

    // The D branch-free steps of one position. `t`, `b`, `bk` point at the position's byte,
    // best and back entries. Selects are written as masks because compilers otherwise turn
    // them back into the data-dependent branches this loop exists to avoid.
    template <int D>
    std::uint32_t fixed_steps(const unsigned char* t, Score* b, std::uint32_t* bk, std::uint32_t& alive) const {
        const cell* cells = cells_.data();
        const Score* scores = scores_.data();
        const Score base = b[0];
        const std::uint32_t dead = dead_;  // a local, or every store would force a reload
        std::uint32_t node = double_array_trie::root_node();
        std::uint32_t diff = 0;  // nonzero once a check has failed: the walk is dead
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#elif defined(__clang__)
#pragma clang loop unroll(full)
#endif
        for (int j = 0; j < D; ++j) {
            const std::uint32_t next = cells[node].base + t[j];
            diff |= cells[next].check ^ node;
            node = next;
            // The index, not the score, is selected, so a dead walk reads the -inf cell.
            const std::uint32_t idx = select_if_zero(diff, next, dead);
            const Score old = b[j + 1];
            const Score candidate = base + scores[idx];
            bk[j + 1] = select_if_greater(candidate, old, idx, bk[j + 1]);
            b[j + 1] = std::max(old, candidate);
        }
        const std::uint32_t live = diff == 0;
        alive = live;
        return node;
    }

    // Continues a walk from `node`, which has consumed bytes [s, k), up to the chunk's end.
    void walk_rest(const lane& ln, std::size_t s, std::size_t k, std::uint32_t node) const {
        const cell* cells = cells_.data();
        const Score* scores = scores_.data();
        const Score base = ln.best[s];
        for (; k < ln.n; ++k) {
            const std::uint32_t next = cells[node].base + ln.text[k];
            if (cells[next].check != node) break;
            node = next;
            const Score old = ln.best[k + 1];
            const Score candidate = base + scores[node];
            const bool gt = candidate > old;
            ln.back[k + 1] = gt ? node : ln.back[k + 1];
            ln.best[k + 1] = gt ? candidate : old;
        }
    }

    // E more branch-free steps of the slot's walk. Near the chunk's end the byte index is
    // clamped and the walk killed, so nothing past the chunk is read and a dead step relaxes
    // with -inf, which changes nothing.
    template <int E>
    void continue_slot(lane& ln) const {
        const cell* cells = cells_.data();
        const Score* scores = scores_.data();
        const std::uint32_t dead = dead_;
        const Score base = ln.best[ln.c_s];
        const std::size_t last = ln.n - 1;
        std::uint32_t node = ln.c_node, diff = ln.c_diff;
        std::size_t k = ln.c_k;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#elif defined(__clang__)
#pragma clang loop unroll(full)
#endif
        for (int j = 0; j < E; ++j, ++k) {
            const std::size_t pos = min_index(k, last);
            diff |= static_cast<std::uint32_t>(k > last);
            const std::uint32_t next = cells[node].base + ln.text[pos];
            diff |= cells[next].check ^ node;
            node = next;
            const std::uint32_t idx = select_if_zero(diff, next, dead);
            const Score old = ln.best[pos + 1];
            const Score candidate = base + scores[idx];
            ln.back[pos + 1] = select_if_greater(candidate, old, idx, ln.back[pos + 1]);
            ln.best[pos + 1] = std::max(old, candidate);
        }
        ln.c_node = node;
        ln.c_diff = diff;
        ln.c_k = k;
    }

    static std::size_t min_index(std::size_t a, std::size_t b) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        __asm__("cmpq %[b], %[a]\n\tcmovaq %[b], %[a]" : [a] "+r"(a) : [b] "r"(b) : "cc");
        return a;
#else
        return a < b ? a : b;
#endif
    }

    // One fast position. Ordering argument (why strict ">" stays exact): the slot's walk from
    // s0 has always relaxed every end up to s + D - 1 + E before position s runs, and a walk
    // that is still alive only ever relaxes ends beyond all those that later (shorter) walks
    // have touched, so each end still receives its edges longest first.
    template <int D, int E>
    void step(lane& ln, std::size_t s) const {
        if constexpr (E > 0) continue_slot<E>(ln);
        std::uint32_t alive;
        const std::uint32_t node = fixed_steps<D>(ln.text + s, ln.best + s, ln.back + s, alive);
        if constexpr (E > 0) {
            // Rare: two walks alive at once. The older one is finished with the branchy loop
            // (its ends lie beyond s + D, so the order argument above still holds).
            if (alive & static_cast<std::uint32_t>(ln.c_diff == 0)) {
                walk_rest(ln, ln.c_s, ln.c_k, ln.c_node);
                ln.c_diff = 1;
            }
            std::uint32_t m = 0u - alive;
            opaque(m);
            const std::size_t m64 = static_cast<std::size_t>(0) - static_cast<std::size_t>(m & 1u);
            ln.c_node = (node & m) | (ln.c_node & ~m);
            ln.c_diff &= ~m;
            ln.c_s = (s & m64) | (ln.c_s & ~m64);
            ln.c_k = ((s + D) & m64) | (ln.c_k & ~m64);
        } else {
            if (alive) walk_rest(ln, s, s + D, node);
        }
    }

    template <int D, int E>
    void finish(lane& ln) const {
        for (; ln.s < ln.fast_end; ++ln.s) step<D, E>(ln, ln.s);
        flush_slot(ln);
        for (; ln.s < ln.n; ++ln.s) walk_rest(ln, ln.s, ln.s, double_array_trie::root_node());
    }

    void flush_slot(lane& ln) const {
        if (ln.c_diff == 0) walk_rest(ln, ln.c_s, ln.c_k, ln.c_node);
        ln.c_diff = 1;
    }

    template <int K, int D, int E>
    void run_block(const std::string_view* chunks, std::size_t count, std::vector<Id>& out, workspace& ws) const {
        ws.offset.resize(count + 1);
        std::size_t total = 0;
        for (std::size_t i = 0; i < count; ++i) {
            ws.offset[i] = total;
            total += chunks[i].size() + 1;
        }
        ws.offset[count] = total;
        if (ws.back.size() < total) ws.back.resize(total);

        lane lanes[K];
        std::size_t next = 0;
        int active = 0;
        // Fills lane `l` with the next non-empty chunk; false when there is none.
        auto refill = [&](lane& ln) {
            while (next < count && chunks[next].empty()) ++next;
            if (next == count) return false;
            const std::size_t n = chunks[next].size();
            std::vector<Score>& best = ws.best[static_cast<std::size_t>(&ln - lanes)];
            if (best.size() < n + 1) best.resize(std::max(n + 1, best.size() * 2));
            start(ln, chunks[next], best.data(), ws.back.data() + ws.offset[next], D);
            ++next;
            return true;
        };
        for (; active < K; ++active)
            if (!refill(lanes[active])) break;

        if (active == K) {
            for (;;) {
                // Run until the first lane reaches the bounded end of its chunk: the loop has
                // no branch but its own counter.
                std::size_t m = lanes[0].fast_end - lanes[0].s;
                for (int l = 1; l < K; ++l) m = std::min(m, lanes[l].fast_end - lanes[l].s);
                for (std::size_t i = 0; i < m; ++i) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#elif defined(__clang__)
#pragma clang loop unroll(full)
#endif
                    for (int l = 0; l < K; ++l) step<D, E>(lanes[l], lanes[l].s + i);
                }
                bool drained = false;
                for (int l = 0; l < K; ++l) lanes[l].s += m;
                for (int l = 0; l < K; ++l) {
                    if (lanes[l].s < lanes[l].fast_end) continue;
                    finish<D, E>(lanes[l]);
                    if (!refill(lanes[l])) {
                        // No chunk left: the other lanes finish on their own below.
                        lanes[l] = lanes[--active];
                        drained = true;
                        break;
                    }
                }
                if (drained) break;
            }
        }
        for (int l = 0; l < active; ++l) finish<D, E>(lanes[l]);

        for (std::size_t i = 0; i < count; ++i) emit(ws.back.data() + ws.offset[i], chunks[i].size(), out);
    }

    // Appends the ids of the best path ending at n, in text order.
    void emit(const std::uint32_t* back, std::size_t n, std::vector<Id>& out) const {
        const std::size_t first = out.size();
        for (std::size_t e = n; e > 0;) {
            const std::uint32_t node = back[e];
            out.push_back(node_id_[node]);
            e -= node_len_[node];
        }
        std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
    }

    std::vector<cell> cells_;
    std::vector<Score> scores_;      // by cell; -inf where no piece ends and at the dead cell
    std::vector<Id> node_id_;        // by node, read only when emitting
    std::vector<std::uint32_t> node_len_;
    std::uint32_t dead_ = 0;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
