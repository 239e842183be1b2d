// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "bytepiece/chunking.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/trie.hpp"

// The scan's main loop in x86-64 assembly (GCC and Clang syntax). Elsewhere, with
// BYTEPIECE_NO_ASM defined, or under a sanitizer (which can check the portable loop's memory
// accesses but not the assembly's), the portable loop.
#if !defined(BYTEPIECE_SCAN_ASM)
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define BYTEPIECE_DETAIL_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BYTEPIECE_DETAIL_SANITIZED 1
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(BYTEPIECE_NO_ASM) && \
    !defined(BYTEPIECE_DETAIL_SANITIZED)
#define BYTEPIECE_SCAN_ASM 1
#else
#define BYTEPIECE_SCAN_ASM 0
#endif
#endif

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Hints that `p` will be read soon; a no-op where the compiler has no prefetch builtin.
inline void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

/// An Aho-Corasick automaton over the pieces, for Viterbi in "pull" form.
///
/// Why: walking the trie from every start position costs ~3.5 dependent loads per byte, and
/// each walk ends in a mispredicted branch that stops the next walk from overlapping it, so
/// encode was bound by L2 latency. The automaton reads each byte once. Its state after byte
/// e is the longest suffix of the chunk so far that is a trie node, and the pieces ending at e
/// are exactly the pieces among that state's suffixes, listed per state ahead of time. So
/// encoding splits in two passes with no data-dependent branches in their inner loops:
///  1. `scan`: run the automaton over several chunks at once (independent chains overlap in
///     the core), writing the state after every byte;
///  2. per chunk, best[e] = max over the state's pieces of best[e - length] + score.
///
/// States are the trie's nodes. Transitions use the trie's cells; a failed transition moves
/// to the fallback state (longest proper suffix that is a node) without consuming the byte.
/// The root has a child for every byte (a front end whose model lacks some single bytes adds
/// them as keys of a piece that scores -inf), so the loop always ends.
///
/// Layout: each node has two words side by side, its cell (parent check | transition base
/// << 32) and its fallback (fallback state | that state's base << 32), so that a failed step's
/// fallback is on the cache line that the step into the state loaded (the scan 3-7% faster
/// than with two arrays). A state is named by its doubled node index, the index of its first
/// word, and so are checks and bases: a step then needs no scaling (child = base + 2 * byte,
/// one lea), and a state's row starts at `rows() + state * row_stride`.
///
/// `Score` is the type of the pieces' scores, `Record` that of the best-so-far values the
/// Viterbi pass keeps per position (BytePiece: both double; SentencePiece: double scores, float
/// records, as SentencePiece stores them).
template <class Score, class Record = Score>
class piece_automaton {
public:
    /// Pieces listed inline per state; states with more use an overflow list (about 1 in 10
    /// visited states with the 40k model).
    static constexpr std::uint32_t row_width = 4;
    /// Marks slot 0 of a row whose longest pieces are in the overflow list.
    static constexpr std::uint32_t overflow_tag = 0x80000000u;
    /// Rows and overflow lists name a piece by its entry offset, id << entry_shift: the byte
    /// offset of its entry in a table of 16-byte entries by id (`info()`, the sampler's
    /// weights), so a consumer adds it to the table's address without scaling it first.
    static constexpr unsigned entry_shift = 4;
    /// Row entries per unit of state: states are doubled node indices (see the class comment),
    /// so the row of `state` starts at `rows() + state * row_stride`.
    static constexpr std::uint32_t row_stride = row_width / 2;

    /// The entry at `offset` (from a row or an overflow list) in a table of 16-byte entries.
    template <class T>
    static const T& entry(const T* table, std::uint32_t offset) noexcept {
        static_assert(sizeof(T) == (std::size_t{1} << entry_shift), "rows hold offsets into 16-byte entries");
        return *reinterpret_cast<const T*>(reinterpret_cast<const char*>(table) + offset);
    }
    /// The id an entry offset names.
    static constexpr std::uint32_t id_of(std::uint32_t offset) noexcept { return offset >> entry_shift; }

    /// A piece as the Viterbi pass reads it. The id is not stored: it is the entry's offset
    /// shifted right by `entry_shift`.
    struct alignas(16) piece_info {
        Score score;
        /// -length * sizeof(Record), the byte step from best[e] back to best[e - length]: the
        /// pass adds it to a pointer as it is, with no subtraction or scaling. 0 for the
        /// padding entry, which scores -inf.
        std::int64_t back;
        /// Length of the piece in bytes.
        std::size_t length() const noexcept { return static_cast<std::size_t>(-back) / sizeof(Record); }
        /// The best-so-far value `length` positions before `at` (a pointer to best[e]).
        const Record& before(const Record* at) const noexcept {
            return *reinterpret_cast<const Record*>(reinterpret_cast<const char*>(at) + back);
        }
    };

    piece_automaton() = default;

    /// Builds the automaton from `trie` (values are piece ids below `vocab_size`) and the
    /// pieces' scores and lengths (indexed by id).
    template <class ScoreOf, class LengthOf>
    piece_automaton(const double_array_trie& trie, std::size_t vocab_size, ScoreOf score_of, LengthOf length_of) {
        // States are doubled node indices, and a base plus twice a byte must stay in 32 bits.
        if (trie.size() >= (std::size_t{1} << 30))
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, "piece_automaton: a trie of 2^30 cells or more"));
        const std::uint32_t n = static_cast<std::uint32_t>(trie.size());
        // Entry offsets of every id and of the padding entry must stay below the overflow tag.
        if (vocab_size >= (std::size_t{overflow_tag} >> entry_shift))
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, "piece_automaton: more than 2^27 - 1 pieces"));
        pad_ = static_cast<std::uint32_t>(vocab_size);
        info_.resize(vocab_size + 1);
        for (std::size_t id = 0; id < vocab_size; ++id) {
            const std::uint64_t length = length_of(id);
            if (length > std::numeric_limits<std::uint32_t>::max())
                BYTEPIECE_THROW(argument_error(errc::invalid_argument, "piece_automaton: a piece of 4 GiB or more"));
            info_[id] = {score_of(id), -static_cast<std::int64_t>(length * sizeof(Record))};
        }
        info_[pad_] = {-std::numeric_limits<Score>::infinity(), 0};

        // Children of every node, found from the cells' parent checks, so that the fallback
        // links can be computed breadth first.
        auto parent_of = [&](std::uint32_t i) -> std::uint32_t {
            if (i == 0) return no_node;
            const std::uint32_t p = trie.check_at(i);
            if (p >= n || trie.base_at(p) > i || i - trie.base_at(p) > 255) return no_node;
            return p;
        };
        std::vector<std::uint32_t> first(n + 1, 0);
        for (std::uint32_t i = 1; i < n; ++i)
            if (const std::uint32_t p = parent_of(i); p != no_node) ++first[p + 1];
        for (std::uint32_t i = 0; i < n; ++i) first[i + 1] += first[i];
        std::vector<std::uint32_t> children(first[n]);
        {
            std::vector<std::uint32_t> fill(first.begin(), first.end() - 1);
            for (std::uint32_t i = 1; i < n; ++i)
                if (const std::uint32_t p = parent_of(i); p != no_node) children[fill[p]++] = i;
        }

        std::vector<std::uint32_t> fail(n, 0), dict(n, 0), order;
        order.reserve(n);
        order.push_back(0);
        for (std::size_t q = 0; q < order.size(); ++q) {
            const std::uint32_t u = order[q];
            for (std::uint32_t k = first[u]; k < first[u + 1]; ++k) {
                const std::uint32_t v = children[k];
                const std::uint32_t byte = v - trie.base_at(u);
                std::uint32_t f = 0;
                if (u != 0) {
                    for (f = fail[u];; f = fail[f]) {
                        const std::uint32_t next = trie.base_at(f) + byte;
                        if (trie.check_at(next) == f) {
                            f = next;
                            break;
                        }
                        // The root must have every byte as a child, or this would not end.
                        if (f == 0)
                            BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                                           "piece_automaton: every single byte must be a piece"));
                    }
                }
                fail[v] = f;
                // Nearest proper suffix that is a piece (0: none).
                dict[v] = (f != 0 && trie.value_at(f) >= 0) ? f : dict[f];
                order.push_back(v);
            }
        }

        // The child lists are done with; freeing them before the cells and rows are
        // allocated lowers the peak (heap 68 MB to 57 MB loading the model of 10^6 `a`).
        std::vector<std::uint32_t>().swap(children);
        std::vector<std::uint32_t>().swap(first);

        // Free cells' checks (all ones) and the root's double to values no state takes.
        cells_.resize(2 * std::size_t{n});
        for (std::uint32_t i = 0; i < n; ++i) {
            cells_[2 * i] = (trie.check_at(i) * 2u) | (static_cast<std::uint64_t>(trie.base_at(i) * 2u) << 32);
            cells_[2 * i + 1] = (fail[i] * 2u) | (static_cast<std::uint64_t>(trie.base_at(fail[i]) * 2u) << 32);
        }

        // Rows: the pieces that are suffixes of the state, longest first, right-aligned so
        // that the last slot is the one-byte piece, whose candidate depends on the newest
        // best[] value and is best compared last.
        //
        // A state that is no piece has the pieces of its nearest suffix that is one (dict),
        // so it shares that state's row and overflow list. Listing them again per state
        // would cost O(length * pieces) for a long piece whose suffixes are pieces (one
        // piece of 10^6 `a` with `a` ... 1000 `a`: 10^9 entries, gigabytes, from a 3.5 MB
        // model); shared, a list is written once per piece, and no longer than the piece,
        // so the lists total at most the pieces' bytes plus 4 entries per piece. The count
        // of each state's list (reusing `fail`, no longer needed) sizes them before any is
        // allocated; states in breadth-first order see their dict state's row first.
        std::vector<std::uint32_t>& count_of = fail;
        count_of[0] = 0;
        std::size_t overflow_size = 0;
        for (std::size_t q = 1; q < order.size(); ++q) {
            const std::uint32_t u = order[q];
            if (trie.value_at(u) < 0) {
                count_of[u] = count_of[dict[u]];
                continue;
            }
            count_of[u] = count_of[dict[u]] + 1;
            if (count_of[u] > row_width) overflow_size += 1 + padded_spill(count_of[u]);
        }
        if (overflow_size >= overflow_tag)
            BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                           "piece_automaton: the pieces' suffix lists need 2^31 entries or more"));
        overflow_.reserve(overflow_size);
        rows_.assign(static_cast<std::size_t>(n) * row_width, pad_ << entry_shift);
        std::vector<std::uint32_t> list;
        for (std::size_t q = 1; q < order.size(); ++q) {
            const std::uint32_t u = order[q];
            std::uint32_t* row = rows_.data() + static_cast<std::size_t>(u) * row_width;
            // Encode relies on the last slot being the one-byte piece ending here; the
            // shortest piece on the list is the last on its dict chain.
            if (count_of[u] == 0)
                BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                               "piece_automaton: every single byte must be a piece"));
            if (trie.value_at(u) < 0) {
                const std::uint32_t* from = rows_.data() + static_cast<std::size_t>(dict[u]) * row_width;
                std::copy(from, from + row_width, row);
                continue;
            }
            list.clear();
            for (std::uint32_t v = u; v != 0; v = dict[v]) list.push_back(static_cast<std::uint32_t>(trie.value_at(v)));
            if (length_of(list.back()) != 1)
                BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                               "piece_automaton: every single byte must be a piece"));
            for (auto& id : list) id <<= entry_shift;
            const std::size_t count = list.size();
            if (count <= row_width) {
                for (std::size_t j = 0; j < count; ++j) row[row_width - count + j] = list[j];
            } else {
                // The list is padded at its front to a multiple of four entries, so that
                // encode handles it four at a time with no loop exit to mispredict (one
                // group in almost every list). Padding has weight 0 and scores -inf, and it
                // comes first, so the last entry is always a piece.
                const std::size_t spill = count - (row_width - 1);
                const std::size_t padded = padded_spill(count);
                row[0] = overflow_tag | static_cast<std::uint32_t>(overflow_.size());
                overflow_.push_back(static_cast<std::uint32_t>(padded));
                overflow_.insert(overflow_.end(), padded - spill, pad_ << entry_shift);
                overflow_.insert(overflow_.end(), list.begin(), list.begin() + static_cast<std::ptrdiff_t>(spill));
                for (std::size_t j = 1; j < row_width; ++j) row[j] = list[spill + j - 1];
            }
        }
    }

    /// Runs the automaton over the chunks `[bounds[i], bounds[i + 1])` of `text` and writes
    /// the state after each byte to `states[position]`. Six chunks are scanned at once in a
    /// branch-free loop (independent chains overlap their cache misses; six measured best);
    /// a chunk's state starts at the root. Chunks must not be empty. On x86-64 with GCC or
    /// Clang the main loop is hand-written assembly (see scan_asm).
    ///
    /// Fewer chunks than lanes (a line encoded by itself, a short text) would
    /// leave lanes idle and one chain of dependent loads setting the pace, so long chunks are
    /// then split: every part but a chunk's first starts at the root, as if it were a chunk of
    /// its own, and afterwards each split point is repaired by running the true state on from
    /// it until it meets the state its part recorded (the automaton is deterministic, so from
    /// there on that part's states are right), usually within a few bytes.
    void scan(const unsigned char* text, const std::uint32_t* bounds, std::size_t chunks, std::uint32_t* states) const {
        if (chunks == 0) return;
        if (chunks < lane_set::capacity) {
            scan_split(text, bounds, chunks, states);
            return;
        }
        scan_lanes_then_tail(text, bounds, chunks, states);
    }

    /// `scan` with the portable main loop on every platform: what the tests compare the
    /// assembly with.
    void scan_portable(const unsigned char* text, const std::uint32_t* bounds, std::size_t chunks,
                       std::uint32_t* states) const {
        lane_set lanes;
        scan_lanes(text, bounds, chunks, states, lanes);
        scan_tail(text, states, lanes);
    }

    /// Runs the automaton over one chunk of `n` bytes (any length) and writes the state after
    /// each byte to `states[0, n)`: one chain of steps, so slower per byte than `scan`.
    void scan_chunk(const unsigned char* text, std::size_t n, std::uint32_t* states) const {
        scan_one(text, 0, n, root_lane(), states);
    }

    /// The pieces that end at a position where the automaton is in `state`, as a row of
    /// `row_width` entry offsets (padding first), slot 0 possibly tagged with an overflow
    /// offset.
    const std::uint32_t* row(std::uint32_t state) const noexcept {
        return rows_.data() + static_cast<std::size_t>(state) * row_stride;
    }
    /// All rows (`row(state)` is `rows() + state * row_stride`), for loops that keep the
    /// table's address in a register.
    const std::uint32_t* rows() const noexcept { return rows_.data(); }
    /// The overflow list at `offset`: a count (a multiple of row_width), then that many entry
    /// offsets: padding first, then the pieces, longest first.
    const std::uint32_t* overflow(std::uint32_t offset) const noexcept { return overflow_.data() + offset; }
    /// Score and length by id; `padding()` scores -inf and has length 0. Rows and overflow
    /// lists index it by entry offset (see `entry`).
    const piece_info* info() const noexcept { return info_.data(); }
    std::uint32_t padding() const noexcept { return pad_; }

    /// Bytes of memory held.
    std::size_t memory_bytes() const noexcept {
        return cells_.capacity() * 8 + rows_.capacity() * 4 + overflow_.capacity() * 4 +
               info_.capacity() * sizeof(piece_info);
    }

private:
    static constexpr std::uint32_t no_node = std::numeric_limits<std::uint32_t>::max();

    // Entries of the overflow list of a state with `count` pieces (more than row_width): the
    // pieces the row has no room for, padded to a multiple of row_width.
    static constexpr std::size_t padded_spill(std::size_t count) noexcept {
        return (count - (row_width - 1) + row_width - 1) / row_width * row_width;
    }

    // Lanes still running when the main loop stops: each with its state (state | base << 32),
    // its position and its chunk's end.
    struct lane_set {
        static constexpr int capacity = 6;
        std::uint64_t lane[capacity];
        std::uint32_t pos[capacity], end[capacity];
        int active = 0;
    };

    void scan_lanes_then_tail(const unsigned char* text, const std::uint32_t* bounds, std::size_t chunks,
                              std::uint32_t* states) const {
        lane_set lanes;
#if BYTEPIECE_SCAN_ASM
        scan_asm(text, bounds, chunks, states, lanes);
#else
        scan_lanes(text, bounds, chunks, states, lanes);
#endif
        scan_tail(text, states, lanes);
    }

    // Parts shorter than this are not split further: repairing a split point costs a few
    // bytes of one chain.
    static constexpr std::uint32_t min_part = 16;

    // `scan` for fewer chunks than lanes: the longest part is halved until there are as many
    // parts as lanes or none is long enough, the parts are scanned as chunks, then every split
    // point inside a chunk is repaired in text order (a repair that runs past the next split
    // point leaves it right, and that point's repair then stops at once).
    void scan_split(const unsigned char* text, const std::uint32_t* bounds, std::size_t chunks,
                    std::uint32_t* states) const {
        constexpr std::size_t lanes = lane_set::capacity;
        std::uint32_t parts[lanes + 1];  // part starts, then the end
        bool split[lanes] = {};          // whether part i starts inside a chunk
        std::size_t count = chunks;
        for (std::size_t i = 0; i <= chunks; ++i) parts[i] = bounds[i];
        while (count < lanes) {
            std::size_t longest = 0;
            for (std::size_t i = 1; i < count; ++i)
                if (parts[i + 1] - parts[i] > parts[longest + 1] - parts[longest]) longest = i;
            const std::uint32_t size = parts[longest + 1] - parts[longest];
            if (size < 2 * min_part) break;
            for (std::size_t i = count + 1; i > longest + 1; --i) parts[i] = parts[i - 1];
            for (std::size_t i = count; i > longest + 1; --i) split[i] = split[i - 1];
            parts[longest + 1] = parts[longest] + size / 2;
            split[longest + 1] = true;
            ++count;
        }
        scan_lanes_then_tail(text, parts, count, states);
        const std::uint64_t* cells = cells_.data();
        for (std::size_t i = 1; i < count; ++i) {
            if (!split[i]) continue;
            // The chunk's end: the next part that starts a chunk, or the last end.
            std::size_t next = i + 1;
            while (next < count && split[next]) ++next;
            const std::uint32_t end = parts[next];
            std::uint32_t pos = parts[i];
            std::uint64_t lane = lane_of(states[pos - 1]);  // right: earlier points are repaired
            while (pos < end) {
                if (!step(cells, lane, text[pos])) continue;
                if (static_cast<std::uint32_t>(lane) == states[pos]) break;  // met: the rest is right
                states[pos++] = static_cast<std::uint32_t>(lane);
            }
        }
    }

    // The portable main loop over six lanes; returns when a lane's chunk ends and no chunk is
    // left to start, leaving the lanes in `ls` for scan_tail.
    void scan_lanes(const unsigned char* text, const std::uint32_t* bounds, std::size_t chunks,
                    std::uint32_t* states, lane_set& ls) const {
        constexpr int lanes = lane_set::capacity;
        const std::uint64_t* cells = cells_.data();
        // A lane's state and its transition base travel together as state | base << 32, the
        // layout of a node's fallback word, so a failed step is one load and one select.
        const std::uint64_t root = root_lane();
        // Local arrays, not ls's: stores to `states` could alias those, and the loop would
        // reload every position after every store.
        std::uint64_t lane[lane_set::capacity];
        std::uint32_t pos[lane_set::capacity], end[lane_set::capacity];
        std::size_t next_chunk = 0;
        int active = 0;
        for (; active < lanes && next_chunk < chunks; ++active, ++next_chunk) {
            lane[active] = root;
            pos[active] = bounds[next_chunk];
            end[active] = bounds[next_chunk + 1];
        }
        for (bool exhausted = active < lanes; !exhausted;) {
            bool chunk_done = false;
            for (int l = 0; l < lanes; ++l) {
                const std::uint32_t ok = step(cells, lane[l], text[pos[l]]);
                states[pos[l]] = static_cast<std::uint32_t>(lane[l]);
                pos[l] += ok;
                chunk_done |= pos[l] == end[l];
            }
            if (!chunk_done) continue;
            for (int l = 0; l < lanes; ++l) {
                if (pos[l] != end[l]) continue;
                if (next_chunk == chunks) {
                    exhausted = true;
                    continue;
                }
                lane[l] = root;
                pos[l] = bounds[next_chunk];
                end[l] = bounds[next_chunk + 1];
                ++next_chunk;
            }
        }
        for (int l = 0; l < active; ++l) {
            ls.lane[l] = lane[l];
            ls.pos[l] = pos[l];
            ls.end[l] = end[l];
        }
        ls.active = active;
    }

#if BYTEPIECE_SCAN_ASM
    // scan_lanes written by hand for x86-64. GCC's code for that loop keeps lane positions and
    // ends on the stack and spends about 24 instructions per step; here a step is 13, end test
    // included (17 for a lane whose position lives on the stack). Two lanes keep their text
    // pointer in a register and four on the stack, so that the loop needs 13 registers and
    // builds at any optimisation level and with a frame pointer (three in registers ran no
    // faster and did not build under GCC's AddressSanitizer). states[p - text] is stored at
    // rel + 4 * p, rel = states - 4 * text computed as an integer, so one pointer serves both
    // arrays. Measured on mixed.txt with the 40k model: the scan alone 13-15% faster than
    // scan_lanes (18% with the side-by-side cells and fallbacks), encode 3-4%.
    void scan_asm(const unsigned char* text, const std::uint32_t* bounds, std::size_t chunks,
                  std::uint32_t* states, lane_set& ls) const {
        constexpr int lanes = lane_set::capacity;
        static_assert(lanes == 6, "the assembly below runs six lanes");
        const std::uint64_t root = root_lane();
        std::uint64_t lane[lane_set::capacity];
        std::uintptr_t p[lane_set::capacity], end[lane_set::capacity];  // text positions as addresses
        const auto base = reinterpret_cast<std::uintptr_t>(text);
        std::size_t next_chunk = 0;
        // Lane l on the next chunk.
        const auto restart = [&](int l) {
            lane[l] = root;
            p[l] = base + bounds[next_chunk];
            end[l] = base + bounds[next_chunk + 1];
            ++next_chunk;
        };
        int active = 0;
        for (; active < lanes && next_chunk < chunks; ++active) restart(active);
        if (active == lanes) {
            const std::uint64_t* cells = cells_.data();
            const std::uintptr_t rel = reinterpret_cast<std::uintptr_t>(states) - 4 * base;
            // Lanes 2-5 keep their text pointer in spill[0..3]; spill[4..9] are the six ends.
            // One memory operand for all of them, its words addressed as offset+operand.
            std::uintptr_t spill[10];
            for (;;) {
                std::uint64_t l0 = lane[0], l1 = lane[1], l2 = lane[2], l3 = lane[3], l4 = lane[4], l5 = lane[5];
                std::uintptr_t p0 = p[0], p1 = p[1];
                for (int l = 0; l < 4; ++l) spill[l] = p[2 + l];
                for (int l = 0; l < lanes; ++l) spill[4 + l] = end[l];
                std::uint64_t t, c, b;
                // One step of lane L (see step()): b = byte; t = child = base + 2 * byte;
                // c = its cell; b = state; lane = c + child - state (the child's state and
                // base, if the check matches); CF = (check == state); if not, lane = the
                // state's fallback word; store the state; p += CF; leave at the chunk's end.
#define BYTEPIECE_SCAN_STEP_BODY(L)                 \
    "mov %[" L "], %[t]\n\t"                        \
    "shr $32, %[t]\n\t"                             \
    "lea (%[t],%[b],2), %[t]\n\t"                   \
    "mov (%[cells],%[t],8), %[c]\n\t"               \
    "mov %k[" L "], %k[b]\n\t"                      \
    "sub %[b], %[t]\n\t"                            \
    "lea (%[c],%[t]), %[" L "]\n\t"                 \
    "xor %k[b], %k[c]\n\t"                          \
    "cmp $1, %k[c]\n\t"                             \
    "cmovae 8(%[cells],%[b],8), %[" L "]\n\t"
#define BYTEPIECE_SCAN_STEP(L, P, E)                \
    "movzbl (%[" P "]), %k[b]\n\t"                  \
    BYTEPIECE_SCAN_STEP_BODY(L)                     \
    "mov %k[" L "], (%[rel],%[" P "],4)\n\t"        \
    "adc $0, %[" P "]\n\t"                          \
    "cmp " E "+%[spill], %[" P "]\n\t"              \
    "je 2f\n\t"
#define BYTEPIECE_SCAN_STEP_SPILLED(L, P, E)        \
    "mov " P "+%[spill], %[b]\n\t"                  \
    "movzbl (%[b]), %k[b]\n\t"                      \
    BYTEPIECE_SCAN_STEP_BODY(L)                     \
    "mov " P "+%[spill], %[c]\n\t"                  \
    "mov %k[" L "], (%[rel],%[c],4)\n\t"            \
    "adc $0, %[c]\n\t"                              \
    "mov %[c], " P "+%[spill]\n\t"                  \
    "cmp " E "+%[spill], %[c]\n\t"                  \
    "je 2f\n\t"
                __asm__("1:\n\t"                                                                            //
                        BYTEPIECE_SCAN_STEP("l0", "p0", "32") BYTEPIECE_SCAN_STEP_SPILLED("l2", "0", "48")  //
                        BYTEPIECE_SCAN_STEP("l1", "p1", "40") BYTEPIECE_SCAN_STEP_SPILLED("l3", "8", "56")  //
                        BYTEPIECE_SCAN_STEP_SPILLED("l4", "16", "64") BYTEPIECE_SCAN_STEP_SPILLED("l5", "24", "72") //
                        "jmp 1b\n"
                        "2:"
                        : [l0] "+r"(l0), [l1] "+r"(l1), [l2] "+r"(l2), [l3] "+r"(l3), [l4] "+r"(l4), [l5] "+r"(l5),
                          [p0] "+r"(p0), [p1] "+r"(p1), [spill] "+o"(spill), [t] "=&r"(t),
                          [c] "=&r"(c), [b] "=&r"(b)
                        : [cells] "r"(cells), [rel] "r"(rel)
                        : "cc", "memory");
#undef BYTEPIECE_SCAN_STEP_SPILLED
#undef BYTEPIECE_SCAN_STEP
#undef BYTEPIECE_SCAN_STEP_BODY
                lane[0] = l0, lane[1] = l1, lane[2] = l2, lane[3] = l3, lane[4] = l4, lane[5] = l5;
                p[0] = p0, p[1] = p1;
                for (int l = 0; l < 4; ++l) p[2 + l] = spill[l];
                bool exhausted = false;
                for (int l = 0; l < lanes; ++l) {
                    if (p[l] != end[l]) continue;
                    if (next_chunk == chunks) exhausted = true;
                    else restart(l);
                }
                if (exhausted) break;
            }
        }
        for (int l = 0; l < active; ++l) {
            ls.lane[l] = lane[l];
            ls.pos[l] = static_cast<std::uint32_t>(p[l] - base);
            ls.end[l] = static_cast<std::uint32_t>(end[l] - base);
        }
        ls.active = active;
    }
#endif

    // The last chunks (fewer than the main loop's lanes): the lanes still running go on
    // together, the loop shrinking as they end, so even a window of two chunks overlaps two
    // chains.
    void scan_tail(const unsigned char* text, std::uint32_t* states, lane_set& ls) const {
        const std::uint64_t* cells = cells_.data();
        std::uint64_t* lane = ls.lane;
        std::uint32_t* pos = ls.pos;
        std::uint32_t* end = ls.end;
        int live = 0;
        for (int l = 0; l < ls.active; ++l) {
            if (pos[l] == end[l]) continue;
            lane[live] = lane[l];
            pos[live] = pos[l];
            end[live] = end[l];
            ++live;
        }
        while (live > 0) {
            if (live == 1) {
                // The last chain alone (and a lone chunk, such as a line encoded by itself):
                // the plain loop, not the lane bookkeeping around a single step.
                scan_one(text, pos[0], end[0], lane[0], states);
                return;
            }
            for (int l = 0; l < live; ++l) {
                const std::uint32_t ok = step(cells, lane[l], text[pos[l]]);
                states[pos[l]] = static_cast<std::uint32_t>(lane[l]);
                pos[l] += ok;
            }
            for (int l = 0; l < live;) {
                if (pos[l] != end[l]) {
                    ++l;
                    continue;
                }
                --live;
                lane[l] = lane[live];
                pos[l] = pos[live];
                end[l] = end[live];
            }
        }
    }

    // One chunk alone: the lane loop's step, without the lanes. Branch-free too, because
    // whether a step fails is data-dependent; the loop's exit is the only branch.
    void scan_one(const unsigned char* text, std::size_t pos, std::size_t end, std::uint64_t lane,
                  std::uint32_t* states) const {
        const std::uint64_t* cells = cells_.data();
        while (pos < end) {
            const std::uint32_t ok = step(cells, lane, text[pos]);
            states[pos] = static_cast<std::uint32_t>(lane);
            pos += ok;
        }
    }

    // The lane of `state`: the state and its transition base, the high half of its cell.
    std::uint64_t lane_of(std::uint32_t state) const noexcept {
        return state | (cells_[state] & ~std::uint64_t{0xFFFFFFFFu});
    }
    // The lane at the root.
    std::uint64_t root_lane() const noexcept { return lane_of(0); }

    // One automaton step from `lane` (state | base << 32) on `byte`: to the child on success,
    // consuming the byte (returns 1); else to the fallback state, retrying it (returns 0).
    // Branch-free, because whether a step fails is data-dependent. The state sits in the low
    // half of the lane and the check in the low half of a cell, so both are used as 32-bit
    // registers as they are, and the new lane is the child's cell with its check replaced by
    // the child's index. The state's fallback word follows its cell.
    static std::uint32_t step(const std::uint64_t* cells, std::uint64_t& lane, unsigned char byte) noexcept {
        const auto state = static_cast<std::uint32_t>(lane);
        const std::uint64_t next = (lane >> 32) + 2 * std::uint64_t{byte};  // 64-bit: no zero-extension to index
        const std::uint64_t next_cell = cells[next];
        const std::uint64_t fall = cells[std::uint64_t{state} + 1];
        // On success the cell's low half (its check) equals state, so adding next - state
        // swaps it for next without touching the base; on failure `taken` is not used.
        std::uint64_t taken = next_cell + (next - state);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        // GCC turns a select here into a branch that mispredicts on every failed step, and
        // mask arithmetic costs three instructions where cmov is one (measured: the scan
        // runs 8-10% faster).
        std::uint32_t ok = 0;
        __asm__("cmpl %k[check], %k[state]\n\tcmovne %[fall], %[taken]\n\tsete %b[ok]"
                : [taken] "+r"(taken), [ok] "+q"(ok)
                : [check] "r"(static_cast<std::uint32_t>(next_cell)), [state] "r"(state), [fall] "r"(fall)
                : "cc");
        lane = taken;
        return ok;
#else
        const std::uint64_t ok = static_cast<std::uint32_t>(next_cell) == state;
        const std::uint64_t mask = std::uint64_t{0} - ok;
        lane = (taken & mask) | (fall & ~mask);
        return static_cast<std::uint32_t>(ok);
#endif
    }

    std::vector<std::uint64_t> cells_;  // by node: check | base << 32, then fail | base(fail) << 32
    std::vector<std::uint32_t> rows_;   // by node: row_width entry offsets
    std::vector<std::uint32_t> overflow_;
    std::vector<piece_info> info_;  // by id, plus the padding entry
    std::uint32_t pad_ = 0;
};

/// Groups the chunks of `text` into windows for `piece_automaton::scan`: consecutive chunks
/// while they total at most `window_bytes` (a longer chunk is a window of its own). Calls
/// `on_window(data, offset, bounds)` per window, where `offset` is the window's position in
/// `text` and `bounds` holds each chunk's start within the window and, last, the window's
/// size. A chunk of `huge` bytes or more, too long for 32-bit bounds, goes to
/// `on_huge(chunk, offset)` instead. Windows and huge chunks arrive in text order.
template <class OnWindow, class OnHuge>
void for_each_window(std::string_view text, std::vector<std::uint32_t>& bounds, std::size_t window_bytes,
                     std::size_t huge, OnWindow&& on_window, OnHuge&& on_huge) {
    const char* window = text.data();
    std::size_t window_size = 0;
    bounds.clear();
    auto flush = [&] {
        if (bounds.empty()) return;
        bounds.push_back(static_cast<std::uint32_t>(window_size));
        on_window(window, static_cast<std::size_t>(window - text.data()), bounds);
        window += window_size;
        window_size = 0;
        bounds.clear();
    };
    for_each_chunk(text, [&](std::string_view chunk) {
        if (chunk.size() >= huge) {
            flush();
            on_huge(chunk, static_cast<std::size_t>(chunk.data() - text.data()));
            window += chunk.size();
            return;
        }
        if (window_size + chunk.size() > window_bytes) flush();
        bounds.push_back(static_cast<std::uint32_t>(window_size));
        window_size += chunk.size();
    });
    flush();
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
