// SPDX-License-Identifier: Apache-2.0
//
// The segmentation core every model format shares: Viterbi in pull form over the piece
// automaton's states. A format differs only in how a candidate's score is formed and kept (its
// "records") and in whether text that no piece covers gets an unknown candidate; both are
// compile-time policies, so the inner loop has no format branch.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "bytepiece/detail/piece_automaton.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Positions of states read ahead of the one being scored, so that their rows are in cache
/// when reached. Callers pad their state arrays with this many valid states (the root, 0).
inline constexpr std::uint32_t viterbi_prefetch_distance = 16;

/// BytePiece's arithmetic: sums and records in `Score`; among equal sums the earlier candidate
/// (the longer last piece) stays, the reference's tie rule.
template <class Score>
struct exact_records {
    using score_type = Score;
    using record_type = Score;
    static constexpr bool has_unknown = false;

    /// best, at = c, p if c > best, without a branch: which candidate wins is data-dependent,
    /// and GCC compiles a select on a double compare to a branch, so on x86-64 the select is a
    /// cmov written by hand.
    template <class P>
    static void take(record_type& best, P*& at, score_type c, P* p) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if constexpr (std::is_same_v<score_type, double>) {
            __asm__("ucomisd %[c], %[best]\n\tcmovb %[p], %[at]\n\tmaxsd %[c], %[best]"
                    : [best] "+x"(best), [at] "+r"(at)
                    : [c] "x"(c), [p] "r"(p)
                    : "cc");
            return;
        }
#endif
        const bool greater = c > best;
        at = greater ? p : at;
        best = greater ? c : best;
    }
};

/// HF tokenizers' Unigram arithmetic (`encode_optimized` in its models/unigram/model.rs): sums
/// and records in `Score`, the earlier candidate staying among equal sums as in
/// `exact_records`, and a character that is no piece gets an unknown candidate, offered after
/// the pieces and taken only if strictly greater.
template <class Score>
struct exact_records_with_unknown : exact_records<Score> {
    static constexpr bool has_unknown = true;
};

/// SentencePiece's arithmetic (EncodeOptimized in its unigram_model.cc): a candidate is a
/// double (a piece's float score, or a user-defined symbol's double bonus, plus the float
/// record it starts from), it replaces the record only if strictly greater than the record
/// widened to double, and the record keeps it rounded to float. Neither float nor double
/// throughout gives the same winners.
struct float_records {
    using score_type = double;
    using record_type = float;
    /// A character that is no piece gets an unknown candidate, offered after the pieces.
    static constexpr bool has_unknown = true;

    template <class P>
    static void take(record_type& best, P*& at, double c, P* p) noexcept {
        const bool greater = c > static_cast<double>(best);
        at = greater ? p : at;
        best = greater ? static_cast<float>(c) : best;
    }
};

/// The positions the pass scores: every one, 1..n.
struct every_position {
    std::uint32_t n;
    std::uint32_t count() const noexcept { return n; }
    std::uint32_t operator[](std::uint32_t i) const noexcept { return i + 1; }
};

/// The positions the pass scores: ends[0 .. count), increasing, followed by
/// `viterbi_prefetch_distance` more readable entries (read ahead only). Where no piece that
/// can end at a position could ever be extended (a position inside a character, when pieces
/// start only at character starts), skipping it saves its whole step.
struct listed_positions {
    const std::uint32_t* ends;
    std::uint32_t n;
    std::uint32_t count() const noexcept { return n; }
    std::uint32_t operator[](std::uint32_t i) const noexcept { return ends[i]; }
};

/// Fills best[1..n] and winners[1..n] for a chunk of n bytes whose automaton states (after
/// each byte) are `states`, padded with `viterbi_prefetch_distance` more: best[e] is the best
/// record over the pieces ending at e (the state's row, longest first, which is the order in
/// which a start-by-start search meets them), winners[e] the entry offset of the piece that
/// set it. best[0] must hold the chunk's starting record (0).
///
/// With `Rules::has_unknown`, winners[e] holds on entry the entry offset of the unknown
/// candidate to offer at e after the pieces (the automaton's padding entry for none); with
/// rounded records its score is added in float, as SentencePiece adds its unknown score. Rules
/// whose records are rounded (of another type than their scores) must have it.
///
/// Measured, this loop is bound by instruction count, so: best[e - length] is read through the
/// entry's byte step from a pointer to best[e]; the one-byte piece (always a row's last slot)
/// adds to best[e - 1] kept in a register; with exact records the winner is picked once from
/// an equality mask, or on x86-64 with double scores follows a running max through cmov. The
/// only data-dependent branch is the rare overflow row.
///
/// This form scores the given `positions` only (see `listed_positions`); with listed
/// positions, each row's one-byte piece (slot 3) must score -inf wherever the position before
/// is not listed, since it adds to the record of the listed position before instead.
template <class Rules, class Automaton, class Positions>
void best_last_pieces(const Automaton& automaton, const std::uint32_t* states, typename Rules::record_type* best,
                      std::uint32_t* winners, Positions positions) noexcept {
    using score_type = typename Rules::score_type;
    using record_type = typename Rules::record_type;
    using info_type = typename Automaton::piece_info;
    static_assert(Automaton::row_width == 4, "the loop below is written for rows of 4");
    static_assert(std::is_same_v<decltype(info_type::score), score_type>, "the automaton's scores are the rules'");
    constexpr bool exact = std::is_same_v<score_type, record_type>;
    static_assert(exact || Rules::has_unknown, "rounded records need the unknown candidate");
    const info_type* info = automaton.info();
    const auto offset_of = [info](const info_type* p) {
        return static_cast<std::uint32_t>(reinterpret_cast<const char*>(p) - reinterpret_cast<const char*>(info));
    };
    static constexpr std::uint8_t first_set[16] = {3, 0, 1, 0, 2, 0, 1, 0, 3, 0, 1, 0, 2, 0, 1, 0};
    // For rounded records: the winner's slot from the masks of the candidates above the
    // record and of those rounding to it, (above << 5) | rounds_to: the highest bit of
    // `above` if any, else the lowest of `rounds_to`. A table, because a branch on `above`
    // would mispredict about every other byte (whether the best sum rounds up or down).
    static constexpr auto pick_of = [] {
        std::array<std::uint8_t, 1024> t{};
        for (unsigned above = 0; above < 32; ++above)
            for (unsigned rounds_to = 0; rounds_to < 32; ++rounds_to) {
                std::uint8_t i = 0;
                if (above) {
                    i = 4;
                    while (!((above >> i) & 1u)) --i;
                } else if (rounds_to) {
                    while (!((rounds_to >> i) & 1u)) ++i;
                }
                t[above << 5 | rounds_to] = i;
            }
        return t;
    }();
    record_type previous = best[0];  // best[e - 1]
    const std::uint32_t* rows = automaton.rows();
    const std::uint32_t count = positions.count();
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t e = positions[i];
        record_type* const at = best + e;
        std::uint32_t* const winner_at = winners + e;
        const std::uint32_t* row = rows + std::size_t{states[e - 1]} * Automaton::row_stride;
        // Rows are scattered over the table; fetch a few positions ahead.
        prefetch(rows + std::size_t{states[positions[i + viterbi_prefetch_distance] - 1]} * Automaton::row_stride);
        const info_type* p0;
        score_type r0;  // with exact records, the record slot 0 leaves; otherwise its best sum
        const std::uint32_t* list = nullptr;
        if (row[0] & Automaton::overflow_tag) {
            // The longest pieces, in a list; their best stands in for slot 0. Four at a time
            // (lists are padded to that, padding first); longest first, so a strictly greater
            // candidate is needed to take over.
            list = automaton.overflow(row[0] & ~Automaton::overflow_tag);
            p0 = &Automaton::entry(info, list[1]);
            r0 = p0->before(at) + p0->score;
            std::uint32_t k = 2;
            for (;;) {
                for (std::uint32_t j = 0; j < 3; ++j, ++k) {
                    const auto& in = Automaton::entry(info, list[k]);
                    if constexpr (exact)
                        Rules::take(r0, p0, in.before(at) + in.score, &in);
                    else
                        r0 = std::max(r0, in.before(at) + in.score);  // the winner is found below
                }
                if (k > list[0]) break;
                const auto& in = Automaton::entry(info, list[k++]);
                if constexpr (exact)
                    Rules::take(r0, p0, in.before(at) + in.score, &in);
                else
                    r0 = std::max(r0, in.before(at) + in.score);
            }
        } else {
            p0 = &Automaton::entry(info, row[0]);
            r0 = p0->before(at) + p0->score;
        }
        // Rows hold entry offsets: added to `info` as they are, no scaling.
        const info_type* p1 = &Automaton::entry(info, row[1]);
        const info_type* p2 = &Automaton::entry(info, row[2]);
        const info_type* p3 = &Automaton::entry(info, row[3]);
        const score_type c1 = p1->before(at) + p1->score;
        const score_type c2 = p2->before(at) + p2->score;
        const score_type c3 = previous + p3->score;
        record_type b;
        const info_type* w;
        if constexpr (exact) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
            if constexpr (std::is_same_v<score_type, double>) {
                // A running max with strict compares: the winner moves only on a greater
                // candidate. The one-byte candidate c3 comes last, so the loop-carried path
                // (previous -> c3 -> b) is one add and one max long.
                w = p0;
                b = r0;
                __asm__("ucomisd %[c1], %[b]\n\tcmovb %[p1], %[w]\n\tmaxsd %[c1], %[b]\n\t"
                        "ucomisd %[c2], %[b]\n\tcmovb %[p2], %[w]\n\tmaxsd %[c2], %[b]\n\t"
                        "ucomisd %[c3], %[b]\n\tcmovb %[p3], %[w]\n\tmaxsd %[c3], %[b]"
                        : [b] "+x"(b), [w] "+r"(w)
                        : [c1] "x"(c1), [c2] "x"(c2), [c3] "x"(c3), [p1] "r"(p1), [p2] "r"(p2), [p3] "r"(p3)
                        : "cc");
            } else
#endif
            {
                b = std::max(std::max(r0, c1), std::max(c2, c3));
                // Bit-pattern equality: the same as == here (no NaN, no zero sums) and cheaper.
                const auto bits = [](record_type x) {
                    std::conditional_t<sizeof(record_type) == 8, std::uint64_t, std::uint32_t> v;
                    static_assert(sizeof v == sizeof x, "scores must be 32 or 64 bits");
                    std::memcpy(&v, &x, sizeof v);
                    return v;
                };
                const auto bits_b = bits(b);
                const unsigned equal = static_cast<unsigned>(bits(r0) == bits_b) |
                                       (static_cast<unsigned>(bits(c1) == bits_b) << 1) |
                                       (static_cast<unsigned>(bits(c2) == bits_b) << 2);
                const info_type* candidates[4] = {p0, p1, p2, p3};
                w = candidates[first_set[equal]];
            }
            if constexpr (Rules::has_unknown) {
                // Offered after the pieces, as HF offers it after the pieces from the
                // character's start (all pieces ending here start no later).
                const info_type* pu = &Automaton::entry(info, *winner_at);
                Rules::take(b, w, pu->before(at) + pu->score, pu);
            }
        } else {
            // Rounded records. Taken one after another, each candidate would be compared with
            // the record as the previous take left it: a chain of compares and conversions
            // whose branches mispredict. The same winner, from all candidates at once: with
            // R = round(max), a candidate is taken when above the record, and from the first
            // candidate that rounds to R on the record is R; so the winner is the last
            // candidate above R, or, if none is, the first that rounds to R. (No candidate
            // before that first one can be above R: it would round to R itself.)
            //
            // The unknown candidate comes last, as SentencePiece offers it after the pieces
            // from the character's start, its sum formed in float: the float sum of two floats
            // is their double sum rounded once (exact, or too far from a float midpoint to
            // round onto one).
            const info_type* pu = &Automaton::entry(info, *winner_at);
            const score_type x4 = static_cast<record_type>(pu->score + pu->before(at));
            const score_type x0 = r0;
            const score_type m = std::max(std::max(std::max(x0, c1), std::max(c2, x4)), c3);
            b = static_cast<record_type>(m);
            const score_type r = b;
            const unsigned above = static_cast<unsigned>(x0 > r) | (static_cast<unsigned>(c1 > r) << 1) |
                                   (static_cast<unsigned>(c2 > r) << 2) | (static_cast<unsigned>(c3 > r) << 3) |
                                   (static_cast<unsigned>(x4 > r) << 4);
            const unsigned rounds_to = static_cast<unsigned>(static_cast<record_type>(x0) == b) |
                                       (static_cast<unsigned>(static_cast<record_type>(c1) == b) << 1) |
                                       (static_cast<unsigned>(static_cast<record_type>(c2) == b) << 2) |
                                       (static_cast<unsigned>(static_cast<record_type>(c3) == b) << 3) |
                                       (static_cast<unsigned>(static_cast<record_type>(x4) == b) << 4);
            const info_type* candidates[5] = {p0, p1, p2, p3, pu};
            const unsigned pick = pick_of[above << 5 | rounds_to];
            w = candidates[pick];
            if (list && pick == 0) {
                // The winner is in the overflow list (rare): the same rule within it.
                const std::uint32_t listed = list[0];
                w = nullptr;
                if (above) {
                    for (std::uint32_t k = listed; k >= 1 && !w; --k) {
                        const auto& in = Automaton::entry(info, list[k]);
                        if (in.before(at) + in.score > r) w = &in;
                    }
                } else {
                    for (std::uint32_t k = 1; k <= listed && !w; ++k) {
                        const auto& in = Automaton::entry(info, list[k]);
                        if (static_cast<record_type>(in.before(at) + in.score) == b) w = &in;
                    }
                }
            }
        }
        *at = b;
        *winner_at = offset_of(w);
        previous = b;
    }
}

/// `best_last_pieces` at every position 1..n of the chunk.
template <class Rules, class Automaton>
void best_last_pieces(const Automaton& automaton, const std::uint32_t* states, std::uint32_t n,
                      typename Rules::record_type* best, std::uint32_t* winners) noexcept {
    best_last_pieces<Rules>(automaton, states, best, winners, every_position{n});
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
