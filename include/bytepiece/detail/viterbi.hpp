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

    /// `take` with the record held widened to double: best, at = round(c), p if c > best. As
    /// rounding to float is monotone and best is a float, the new record is also
    /// max(best, round(c)) whether c is taken or not, so the record's chain is one max, off the
    /// conversion (`rounded`, computed beside it) and without a branch.
    template <class P>
    static void take_widened(double& best, P*& at, double c, double rounded, P* p) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        __asm__("ucomisd %[c], %[best]\n\tcmovb %[p], %[at]\n\tmaxsd %[r], %[best]"
                : [best] "+x"(best), [at] "+r"(at)
                : [c] "x"(c), [r] "x"(rounded), [p] "r"(p)
                : "cc");
#else
        at = c > best ? p : at;
        best = std::max(best, rounded);
#endif
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
    const std::uint32_t pad_entry = automaton.padding() << Automaton::entry_shift;
    score_type previous = best[0];  // best[e - 1]; with rounded records, widened
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
        if (row[0] & Automaton::overflow_tag) {
            // The longest pieces, in a list; their best stands in for slot 0. Four at a time
            // (lists are padded to that, padding first); longest first, so a strictly greater
            // candidate is needed to take over.
            const std::uint32_t* const list = automaton.overflow(row[0] & ~Automaton::overflow_tag);
            // With rounded records, r0 is the record as each candidate leaves it (rounded,
            // widened), and p0 the last taken, as SentencePiece takes them one after another.
            const auto take = [&](const info_type& in) {
                const score_type c = in.before(at) + in.score;
                if constexpr (exact)
                    Rules::take(r0, p0, c, &in);
                else
                    Rules::take_widened(r0, p0, c, static_cast<score_type>(static_cast<record_type>(c)), &in);
            };
            p0 = &Automaton::entry(info, list[1]);
            r0 = p0->before(at) + p0->score;
            if constexpr (!exact) r0 = static_cast<record_type>(r0);
            std::uint32_t k = 2;
            for (;;) {
                for (std::uint32_t j = 0; j < 3; ++j, ++k) take(Automaton::entry(info, list[k]));
                if (k > list[0]) break;
                take(Automaton::entry(info, list[k++]));
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
            previous = b;
        } else {
            // Rounded records: each candidate in SentencePiece's order (the pieces longest
            // first, then the unknown candidate) is compared with the record the previous one
            // left, through `take_widened`: a running max as in the exact case, the compare on
            // the candidate, the max on its rounding. A table or a branch on which candidates
            // round to the maximum cost two to three times the instructions.
            //
            // The unknown candidate's sum is formed in float, as SentencePiece adds its
            // unknown score: the float sum of two floats is their double sum rounded once
            // (exact, or too far from a float midpoint to round onto one).
            const auto rounded = [](score_type c) { return static_cast<score_type>(static_cast<record_type>(c)); };
            score_type rec = rounded(r0);  // the first candidate is always taken
            w = p0;
            Rules::take_widened(rec, w, c1, rounded(c1), p1);
            Rules::take_widened(rec, w, c2, rounded(c2), p2);
            Rules::take_widened(rec, w, c3, rounded(c3), p3);
            // Most characters are pieces, so a branch that skips the absent unknown candidate
            // (the padding entry, -inf: never taken) is predicted and saves its work.
            if (*winner_at != pad_entry) {
                const info_type* pu = &Automaton::entry(info, *winner_at);
                const score_type x4 = static_cast<record_type>(pu->score + pu->before(at));
                Rules::take_widened(rec, w, x4, x4, pu);
            }
            b = static_cast<record_type>(rec);
            previous = rec;
        }
        *at = b;
        *winner_at = offset_of(w);
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
