// SPDX-License-Identifier: Apache-2.0
//
// Exact stochastic tokenization: draw each chunk's segmentation S with probability
// proportional to exp(alpha * sum of the scores of S's pieces).
//
// Algorithm: forward filtering, backward sampling, on the encoder's Aho-Corasick automaton
// (detail/piece_automaton.hpp), whose state after byte e lists the pieces that end at e.
//
//  0. Scan. The automaton runs over a window of chunks at once and writes the state after
//     every byte, as in encode.
//  1. Filter. For a chunk of n bytes, alpha[e] is the total weight of all segmentations of
//     the prefix [0, e): alpha[0] = 1 and alpha[e] = sum over the pieces p ending at e of
//     w(p) * alpha[e - len(p)], the pieces read from e's state's row. This is encode's
//     Viterbi pass with a multiply-add in place of an add-compare, and in "pull" form: every
//     alpha[e] is complete when it is written, so it can be rescaled at once. The filter also
//     writes, per position, the running sums of the row's terms and the row's pieces (one
//     64-byte record). A chunk over 64 KiB is filtered in blocks of 64K positions, keeping
//     only where each block starts from, and each block is filtered again, records and all,
//     when the sampling reaches it (basic_sampler::sample_long): memory stays O(block) and
//     the values, hence the draws, are the same to the bit.
//  2. Sample. From t = n, pick the last piece p among those ending at t with probability
//     w(p) * alpha[t - len] / alpha[t]: one uniform draw u, then the first running sum above
//     u times the total. Emit p, move to t - len. One random number per piece, drawn from the
//     chunk's last piece back to its first; the pieces are then reported in text order.
//
// No log or exp in the loops. Per-piece weights w(p) = exp(alpha*score(p) + c*len(p)) are
// computed once per alpha (the sampler object). The term c*len(p) is a "tilt": every
// segmentation of a chunk spans all n bytes, so it multiplies every segmentation's weight by
// the same exp(c*n) and leaves the distribution unchanged; with c = -alpha * (best score per
// byte of any piece) all weights lie in [exp(alpha * min score), 1], which keeps them far
// from underflow and makes alpha drift slowly.
//
// Range. alpha of a long chunk is far outside double range (for 200,000 bytes of text,
// alpha[n] is near 2^-5,500,000 at alpha = 10 and 2^128,000 at alpha = 0), so alpha[e] is
// stored as mantissa * 2^exponent. All positions share one running exponent (the frame) until
// a mantissa leaves [2^-256, 2^256]; then the frame moves by an exact power of two. A position
// whose predecessors (up to the longest piece away) all lie in the current frame takes the
// fast path, plain doubles; the few positions just after a frame change, and everything when
// alpha is so large that some weight is below 2^-700, take a slower path that aligns
// exponents term by term. Nothing is lost: scaling by powers of two is exact, and a term
// dropped for underflow is at least 2^-66 times smaller than one that is kept.
//
// Reproducibility. The random bits are fully specified (random.hpp); the weights come from a
// portable exp made of + and * only. Seeded runs therefore give the same ids on every
// platform whose double arithmetic is IEEE-754 without fused multiply-add contraction (the
// default on x86-64; elsewhere build with -ffp-contract=off if bit-identical samples matter).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/detail/piece_automaton.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/model.hpp"
#include "bytepiece/random.hpp"
#include "bytepiece/trie.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

template <class Score, class Id>
class basic_sampler;
template <class Score, class Id>
class basic_lattice;

namespace detail {

/// exp(y) as mantissa * 2^exponent, mantissa in [1, 2), computed with + and * only (Cody-Waite
/// reduction by ln 2 in three parts, then a degree-13 Taylor polynomial on |r| <= ln(2)/2,
/// whose truncation error is below 2^-57), so every IEEE-754 platform computes the same bits,
/// unlike std::exp. Accurate to a few ulp for |y| < 9e7.
struct split_double {
    double mantissa;
    std::int64_t exponent;
};

inline split_double portable_exp(double y) noexcept {
    constexpr double log2e = 0x1.71547652b82fep+0;
    constexpr double ln2_hi = 0x1.62e43p-1;         // 26 significant bits: k * ln2_hi is exact
    constexpr double ln2_mid = -0x1.05c611p-29;     // 26 significant bits as well
    constexpr double ln2_lo = 0x1.abc9e3b39803fp-56;
    const double kd = std::floor(y * log2e + 0.5);
    const double r = ((y - kd * ln2_hi) - kd * ln2_mid) - kd * ln2_lo;
    double p = 1.0 / 6227020800.0;  // 1/13!
    constexpr double inv_fact[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                   1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,      1.0 / 120.0,
                                   1.0 / 24.0,        1.0 / 6.0,        0.5,              1.0,
                                   1.0};
    for (double c : inv_fact) p = p * r + c;
    // p is in [0.70, 1.42]; move it into [1, 2) so the mantissa has a fixed binade.
    std::int64_t k = static_cast<std::int64_t>(kd);
    if (p < 1.0) {
        p *= 2.0;
        k -= 1;
    }
    return {p, k};
}

// Mantissas of beta are kept within [2^-256, 2^256]; weights on the fast path are >= 2^-700,
// so a product of the two is >= 2^-956 and never denormal.
inline constexpr double kept_low = 0x1p-256;
inline constexpr double kept_high = 0x1p256;
inline constexpr int kept_log2 = 256;
inline constexpr double fast_weight_floor = 0x1p-700;

/// x * 2^d for an exponent difference d of any size (0 or infinity beyond double range).
inline double scale_by_power_of_two(double x, std::int64_t d) noexcept {
    if (d < -2200) return 0.0;
    if (d > 2200) d = 2200;
    return std::scalbn(x, static_cast<int>(d));
}

/// The length in bytes that a byte step back (-length * sizeof(double)) stands for.
constexpr std::size_t step_length(std::int32_t back) noexcept {
    return static_cast<std::size_t>(-static_cast<std::int64_t>(back)) / sizeof(double);
}

/// What the filter reads per piece, together: the weight (in fast mode the weight itself,
/// otherwise its mantissa), then the id and the byte step back, -length * sizeof(double),
/// laid out so that id | step << 32 (what the records and paths hold) is one 8-byte load.
/// The step is what the filter adds to its pointer to alpha[e] to reach alpha[e - length],
/// with no subtraction or scaling (the loop is bound by instruction count). The entry after
/// the last id stands for the automaton's row padding: weight 0 and length 1, so that it
/// adds nothing and reads a value that is always set.
struct piece_weight {
    double weight;
    std::uint32_t id;
    std::int32_t back;

    /// Length of the piece in bytes.
    std::size_t length() const noexcept { return step_length(back); }
    /// The value `length` positions before `at`.
    const double& before(const double* at) const noexcept {
        return *reinterpret_cast<const double*>(reinterpret_cast<const char*>(at) + back);
    }
    /// id | step << 32, as records and paths hold a piece (see `packed_id`, `packed_length`).
    std::uint64_t packed() const noexcept {
        std::uint64_t v;
        std::memcpy(&v, &id, sizeof v);
        return v;
    }
};
static_assert(sizeof(piece_weight) == 16 && offsetof(piece_weight, back) == offsetof(piece_weight, id) + 4,
              "piece_weight::packed reads id and step as one word");

/// The id of a packed piece (`piece_weight::packed`).
constexpr std::uint32_t packed_id(std::uint64_t piece) noexcept { return static_cast<std::uint32_t>(piece); }
/// The length in bytes of a packed piece; 0 for an overflow row's stand-in in a record.
constexpr std::size_t packed_length(std::uint64_t piece) noexcept {
    return step_length(static_cast<std::int32_t>(piece >> 32));
}

/// The per-piece weights for one alpha, shared (immutable) by every copy of a sampler.
struct weight_table {
    double alpha = 0;
    double tilt = 0;                      // c in w = exp(alpha*score + c*len)
    std::size_t max_piece_length = 0;     // bytes
    bool fast = true;                     // every weight >= 2^-700: no exponents
    std::vector<piece_weight> pieces;     // by id, then the padding entry
    std::vector<std::int32_t> exponents;  // by id: the weights' powers of two; empty when fast

    std::int64_t exponent(std::uint32_t id) const noexcept { return fast ? 0 : exponents[id]; }
};

/// log of the tilted weight of a piece: the exact expression the weight table exponentiates.
inline double log_weight(const weight_table& wt, double score, std::size_t len) noexcept {
    return wt.alpha * score + wt.tilt * static_cast<double>(len);
}

inline std::string format_double(double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

/// Rejects what no alpha means: NaN, +infinity and values above 1e6. Any negative alpha
/// (-infinity too) is accepted: it means deterministic encoding, as in BytePiece.
inline void check_alpha(double alpha, const char* who) {
    if (std::isnan(alpha) || alpha > 1e6)
        BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                       std::string(who) + ": alpha must be a number at most 1e6, got " +
                                           format_double(alpha) + " (a negative alpha means deterministic encoding)"));
}

/// The weight table of `m` for `alpha` in [0, 1e6] (see check_alpha).
template <class Score, class Id>
std::shared_ptr<const weight_table> make_weight_table(const basic_model<Score, Id>& m, double alpha) {
    check_alpha(alpha, "sampler");
    if (alpha < 0.0)
        BYTEPIECE_THROW(argument_error(errc::invalid_argument, "sampler: a negative alpha (" + format_double(alpha) +
                                                                   ") means deterministic encoding and has no weights"));
    auto wt = std::make_shared<weight_table>();
    wt->alpha = alpha;
    wt->max_piece_length = std::max<std::size_t>(m.max_piece_length(), 1);
    // Pieces are named by a 32-bit byte step of -length * 8 (see piece_weight).
    if (wt->max_piece_length > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) / sizeof(double))
        BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                       "sampler: the model has a piece of " + std::to_string(wt->max_piece_length) +
                                           " bytes; sampling supports pieces up to 268,435,455 bytes"));
    const std::size_t first = basic_model<Score, Id>::first_piece_id;
    double best_rate = -std::numeric_limits<double>::infinity();
    for (std::size_t id = first; id < m.vocab_size(); ++id) {
        const double s = static_cast<double>(m.score(static_cast<Id>(id)));
        best_rate = std::max(best_rate, s / static_cast<double>(m.piece(static_cast<Id>(id)).size()));
    }
    wt->tilt = std::isfinite(best_rate) ? -alpha * best_rate : 0.0;
    std::vector<split_double> split(m.vocab_size(), split_double{0.0, 0});
    for (std::size_t id = first; id < m.vocab_size(); ++id) {
        const double y = log_weight(*wt, static_cast<double>(m.score(static_cast<Id>(id))),
                                    m.piece(static_cast<Id>(id)).size());
        split[id] = portable_exp(y);
        if (split[id].exponent < -700) wt->fast = false;
    }
    // Ids 0-2 are never in the trie; they keep weight 0.
    wt->pieces.assign(m.vocab_size() + 1, piece_weight{0.0, 0, -static_cast<std::int32_t>(sizeof(double))});
    if (!wt->fast) wt->exponents.assign(m.vocab_size() + 1, 0);
    for (std::size_t id = 0; id <= m.vocab_size(); ++id) wt->pieces[id].id = static_cast<std::uint32_t>(id);
    for (std::size_t id = first; id < m.vocab_size(); ++id) {
        piece_weight& p = wt->pieces[id];
        p.back = -static_cast<std::int32_t>(m.piece(static_cast<Id>(id)).size() * sizeof(double));
        if (wt->fast) {
            p.weight = std::scalbn(split[id].mantissa, static_cast<int>(split[id].exponent));
        } else {
            p.weight = split[id].mantissa;
            wt->exponents[id] = static_cast<std::int32_t>(split[id].exponent);
        }
    }
    return wt;
}

/// The running frame of a filter: the exponent shared by the values written since it last
/// moved, and the bound of the positions whose neighbours (up to the longest piece away) all
/// lie in it, where plain double arithmetic is exact: from `fast_from` on for the prefix
/// filter, at or below it for the suffix filter.
struct filter_frame {
    std::int64_t exponent = 0;
    std::size_t fast_from = 0;
};

/// Sums terms mantissa * 2^exponent with exponents aligned to the largest seen so far; terms
/// smaller by more than ~2^-1100 vanish, which no sum of them could notice.
struct aligned_sum {
    double mantissa = 0.0;
    std::int64_t exponent = 0;
    bool any = false;

    void add(double t, std::int64_t te) noexcept {
        if (!any) {
            mantissa = t;
            exponent = te;
            any = true;
        } else if (te == exponent) {
            mantissa += t;
        } else if (te > exponent) {
            mantissa = scale_by_power_of_two(mantissa, exponent - te) + t;
            exponent = te;
        } else {
            mantissa += scale_by_power_of_two(t, te - exponent);
        }
    }
};

/// Stores v = mantissa * 2^exponent (mantissa > 0) at `at`: in the frame's scale if it fits
/// the kept range there, otherwise as the first value of a new frame. Returns whether the
/// frame moved.
inline bool store_aligned(double mantissa, std::int64_t exponent, std::size_t at, double* mant, std::int64_t* expo,
                          std::int64_t& frame_exponent) noexcept {
    const int k = std::ilogb(mantissa);
    const std::int64_t top = exponent + k;  // floor(log2(v))
    const bool fits = top - frame_exponent >= -kept_log2 && top - frame_exponent < kept_log2;
    if (fits) {
        mant[at] = std::scalbn(mantissa, static_cast<int>(exponent - frame_exponent));
    } else {
        mant[at] = std::scalbn(mantissa, -k);
        frame_exponent = top;
    }
    expo[at] = frame_exponent;
    return !fits;
}

/// Stores a fast-path sum (already in the frame's scale) at `at`, starting a new frame if it
/// left the kept range; `acc` becomes the value stored. Returns whether the frame moved.
inline bool store_fast(double& acc, std::size_t at, double* mant, std::int64_t* expo,
                       std::int64_t& frame_exponent) noexcept {
    if (acc >= kept_low && acc <= kept_high) {
        mant[at] = acc;
        expo[at] = frame_exponent;
        return false;
    }
    const int k = std::ilogb(acc);
    acc = std::scalbn(acc, -k);
    mant[at] = acc;
    frame_exponent += k;
    expo[at] = frame_exponent;
    return true;
}

/// Suffix filter over the trie, for the lattice: beta[s] for s = end-1 down to start, the
/// total weight of the segmentations of [s, end) of pieces inside [start, end) (`bytes` is
/// the text, positions index it and `mant`/`expo`). Requires beta[end] to be set and `frame`
/// to describe it, with `fast_from` counted downwards: positions at or below it may add plain
/// doubles.
inline void suffix_filter(const double_array_trie& trie, const weight_table& wt, const unsigned char* bytes,
                          std::size_t start, std::size_t end, double* mant, std::int64_t* expo, filter_frame& frame) {
    const piece_weight* pw = wt.pieces.data();
    const std::size_t max_len = wt.max_piece_length;
    for (std::size_t s = end; s-- > start;) {
        bool moved;
        if (wt.fast && s + std::min(end - s, max_len) <= frame.fast_from) {
            double acc = 0.0;
            const double* next = mant + s;
            trie.common_prefix_search(bytes + s, end - s,
                                      [&](std::size_t len, std::int32_t id) { acc += pw[id].weight * next[len]; });
            moved = store_fast(acc, s, mant, expo, frame.exponent);
        } else {
            aligned_sum sum;
            trie.common_prefix_search(bytes + s, end - s, [&](std::size_t len, std::int32_t id) {
                sum.add(pw[id].weight * mant[s + len], expo[s + len] + wt.exponent(static_cast<std::uint32_t>(id)));
            });
            // Every position has its single-byte piece, so the sum is positive.
            moved = store_aligned(sum.mantissa, sum.exponent, s, mant, expo, frame.exponent);
        }
        if (moved) frame.fast_from = s;
    }
}

/// Rows the prefix filter prefetches ahead; states must be readable that far past the chunk.
inline constexpr std::size_t filter_prefetch = 16;

/// Calls f(offset) with the entry offset (see piece_automaton::entry) of every piece ending
/// at a position whose automaton state is `state` (padding included: it has weight 0).
template <class Score, class F>
void for_each_row_piece(const piece_automaton<Score>& a, std::uint32_t state, F&& f) {
    using automaton = piece_automaton<Score>;
    const std::uint32_t* row = a.row(state);
    std::uint32_t slot = 0;
    if (row[0] & automaton::overflow_tag) {
        const std::uint32_t* list = a.overflow(row[0] & ~automaton::overflow_tag);
        for (std::uint32_t k = 1; k <= list[0]; ++k) f(list[k]);
        slot = 1;
    }
    for (; slot < automaton::row_width; ++slot) f(row[slot]);
}

/// What sampling needs at one position, written by the filter so that a sampling step is one
/// record read instead of a row walk: the running sums of the row's terms (in the order the
/// filter adds them, so they are bit-identical to the row walk's), their total, and each
/// slot's piece as id | step << 32 (see piece_weight). An overflow row's slot 0 stands for
/// its whole list: its running sum is the list's total and its piece has step 0 and the
/// list's tagged offset as id. A total of -1 marks a position that was not recorded.
struct alignas(64) sample_record {
    double cumulative[3];
    double total;
    std::uint64_t piece[4];
};

/// Longest chunk filtered and recorded in one go (64 bytes per position: at most 4 MiB of
/// records per buffer, and a workspace holds two, see basic_sampler::sample_window_with);
/// longer chunks are filtered in blocks of at least this many positions (sample_long).
inline constexpr std::size_t record_limit = std::size_t{1} << 16;

/// alpha[e] where some predecessor lies in another frame (or weights carry exponents):
/// terms aligned one by one. Moves the frame if the value leaves its range. Returns the value
/// stored. Out of line so that the fast loop keeps its registers.
template <class Score>
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
double filter_slow_position(const piece_automaton<Score>& a, const weight_table& wt, std::uint32_t state,
                            std::size_t e, double* mant, std::int64_t* expo, filter_frame& frame) {
    using automaton = piece_automaton<Score>;
    const piece_weight* pw = wt.pieces.data();
    // Padding (weight 0) is skipped: as the first term it would fix the exponent.
    aligned_sum sum;
    for_each_row_piece(a, state, [&](std::uint32_t offset) {
        const piece_weight& p = automaton::entry(pw, offset);
        if (p.weight != 0.0) sum.add(p.weight * mant[e - p.length()], expo[e - p.length()] + wt.exponent(p.id));
    });
    if (store_aligned(sum.mantissa, sum.exponent, e, mant, expo, frame.exponent) && wt.fast)
        frame.fast_from = e + wt.max_piece_length;
    return mant[e];
}

/// Forward filter over one chunk of n bytes whose automaton states are `states`:
/// alpha[e] = total weight of the segmentations of [0, e), alpha[0] = 1, and
/// alpha[e] = sum over the pieces p ending at e of w(p) * alpha[e - len(p)]. Pull form: the
/// pieces ending at e are the state's row, and alpha[e] is complete when written, so it can
/// be rescaled at once. Positions whose predecessors all lie in the current frame add plain
/// doubles (the one-byte piece, always the row's last slot, reads alpha[e-1] from a
/// register) and, with `Record`, write `records[e]`; the rest align exponents term by term.
/// `side()` runs once per position, interleaved with the filter (see backward_cursor).
///
/// The range form: filters positions first + 1 .. last, given alpha at `first` and at the
/// max_piece_length - 1 positions before it (as `mant`/`expo` hold them) and the frame in
/// which they were written, which it leaves as it stands at `last`. Positions, `states`
/// (state after byte e - 1 at index e - 1, readable filter_prefetch entries past `last`) and
/// `records` share one origin. A long chunk is filtered block by block this way (see
/// basic_sampler::sample_long), with the same arithmetic, hence the same bits, as in one go.
template <bool Record, class Score, class Side = void (*)()>
void prefix_filter_range(const piece_automaton<Score>& a, const weight_table& wt, const std::uint32_t* states,
                         std::size_t first, std::size_t last, double* mant, std::int64_t* expo, sample_record* records,
                         filter_frame& frame, Side&& side = [] {}) {
    using automaton = piece_automaton<Score>;
    static_assert(automaton::row_width == 4, "the loop below is written for rows of 4");
    const piece_weight* pw = wt.pieces.data();
    const std::size_t reach = wt.max_piece_length;
    // The frame in two locals, not a struct whose address the slow path takes: stores through
    // mant and expo could alias that, and the loop would reload it every position.
    std::int64_t exponent = frame.exponent;
    std::size_t fast_from = frame.fast_from;
    double previous = mant[first];  // alpha[e - 1] in the frame's scale
    const std::uint32_t* rows = a.rows();
    for (std::size_t e = first + 1; e <= last; ++e) {
        side();
        const std::uint32_t state = states[e - 1];
        prefetch(rows + std::size_t{states[e - 1 + filter_prefetch]} * automaton::row_stride);
        if (e >= fast_from) {
            const double* const at = mant + e;  // alpha[e], read back from through the steps
            const std::uint32_t* row = rows + std::size_t{state} * automaton::row_stride;
            double c0;
            std::uint64_t k0;
            if (row[0] & automaton::overflow_tag) {
                const std::uint32_t* list = a.overflow(row[0] & ~automaton::overflow_tag);
                // Padded to a multiple of four (padding first, weight 0): four at a time.
                c0 = 0.0;
                for (std::uint32_t k = 1; k <= list[0]; k += 4) {
                    for (std::uint32_t j = 0; j < 4; ++j) {
                        const piece_weight& p = automaton::entry(pw, list[k + j]);
                        c0 += p.weight * p.before(at);
                    }
                }
                k0 = row[0];
            } else {
                const piece_weight& p = automaton::entry(pw, row[0]);
                c0 = p.weight * p.before(at);
                k0 = p.packed();
            }
            // Rows hold entry offsets: added to `pw` as they are, no scaling.
            const piece_weight& p1 = automaton::entry(pw, row[1]);
            const piece_weight& p2 = automaton::entry(pw, row[2]);
            const piece_weight& p3 = automaton::entry(pw, row[3]);
            const double c1 = c0 + p1.weight * p1.before(at);
            const double c2 = c1 + p2.weight * p2.before(at);
            const double total = c2 + p3.weight * previous;
            if constexpr (Record) {
                sample_record& r = records[e];
                r.cumulative[0] = c0;
                r.cumulative[1] = c1;
                r.cumulative[2] = c2;
                r.total = total;
                r.piece[0] = k0;
                r.piece[1] = p1.packed();
                r.piece[2] = p2.packed();
                r.piece[3] = p3.packed();
            }
            double stored = total;
            if (store_fast(stored, e, mant, expo, exponent)) fast_from = e + reach;
            // From the register, not from mant[e]: a reload would wait on the store.
            previous = stored;
            continue;
        }
        if constexpr (Record) records[e].total = -1.0;
        filter_frame slow{exponent, fast_from};
        previous = filter_slow_position(a, wt, state, e, mant, expo, slow);
        exponent = slow.exponent;
        fast_from = slow.fast_from;
    }
    frame.exponent = exponent;
    frame.fast_from = fast_from;
}

/// `prefix_filter_range` over a whole chunk of n bytes: alpha[0] = 1, positions 1 .. n.
template <bool Record, class Score, class Side = void (*)()>
void prefix_filter(const piece_automaton<Score>& a, const weight_table& wt, const std::uint32_t* states,
                   std::size_t n, double* mant, std::int64_t* expo, sample_record* records, Side&& side = [] {}) {
    mant[0] = 1.0;
    expo[0] = 0;
    filter_frame frame{0, wt.fast ? 0 : std::numeric_limits<std::size_t>::max()};
    prefix_filter_range<Record>(a, wt, states, 0, n, mant, expo, records, frame, std::forward<Side>(side));
}

/// One candidate of a sampling step from the rows: the running sum of the weights up to it,
/// and the piece as id | step << 32 (see piece_weight).
struct sample_term {
    double cumulative;
    std::uint64_t piece;
};

/// The piece ending at t drawn with threshold u * (total weight) from the row of t's state:
/// the first candidate whose running sum exceeds the threshold. Terms are taken relative to
/// the largest exponent among them, so where they share one (every recorded position) the
/// sums are exactly the filter's. `terms` holds max_piece_length + row_width entries.
template <class Score>
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))  // the rare path: kept out of the record loop's registers
#endif
std::uint64_t sample_step_from_row(const piece_automaton<Score>& a, const weight_table& wt, std::uint32_t state,
                                   std::size_t t, const double* mant, const std::int64_t* expo, double u,
                                   sample_term* terms) {
    using automaton = piece_automaton<Score>;
    const piece_weight* pw = wt.pieces.data();
    std::int64_t base = std::numeric_limits<std::int64_t>::min();
    for_each_row_piece(a, state, [&](std::uint32_t offset) {
        const piece_weight& p = automaton::entry(pw, offset);
        if (p.weight != 0.0) base = std::max(base, expo[t - p.length()] + wt.exponent(p.id));
    });
    std::size_t k = 0;
    double total = 0.0;
    for_each_row_piece(a, state, [&](std::uint32_t offset) {
        const piece_weight& p = automaton::entry(pw, offset);
        double term = p.weight * mant[t - p.length()];
        const std::int64_t d = expo[t - p.length()] + wt.exponent(p.id) - base;
        if (d != 0) term = scale_by_power_of_two(term, d);
        total += term;
        terms[k++] = {total, p.packed()};
    });
    // u < 1 puts the threshold below the total, so the pick has positive weight (padding,
    // weight 0, never is). Counting the sums at or below the threshold rather than stopping
    // at the first above: the choice is random, so an early exit would mispredict.
    const double threshold = u * total;
    std::size_t pick = 0;
    for (std::size_t j = 0; j + 1 < k; ++j) pick += terms[j].cumulative <= threshold;
    return terms[pick].piece;
}

/// The piece that slot 0 of an overflow row stands for, for threshold `threshold`: its list
/// is walked with running sums added in the filter's order. Out of line: the rare case.
template <class Score>
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
std::uint64_t pick_from_overflow(const piece_automaton<Score>& a, const weight_table& wt, std::uint32_t tagged,
                                 std::size_t t, const double* mant, double threshold) noexcept {
    using automaton = piece_automaton<Score>;
    const piece_weight* pw = wt.pieces.data();
    const std::uint32_t* list = a.overflow(tagged & ~automaton::overflow_tag);
    double sum = 0.0;
    std::uint32_t k = 1;
    for (; k < list[0]; ++k) {
        const piece_weight& p = automaton::entry(pw, list[k]);
        sum += p.weight * mant[t - p.length()];
        if (sum > threshold) break;
    }
    return automaton::entry(pw, list[k]).packed();
}

/// The piece a recorded position yields for threshold `threshold` (u times the record's
/// total), as id | step << 32: three compares pick the slot; slot 0 of an overflow row is
/// resolved in its list.
template <class Score>
std::uint64_t pick_recorded(const piece_automaton<Score>& a, const weight_table& wt, const sample_record& r,
                            std::size_t t, const double* mant, double threshold) noexcept {
    const std::size_t pick = static_cast<std::size_t>(r.cumulative[0] <= threshold) +
                             static_cast<std::size_t>(r.cumulative[1] <= threshold) +
                             static_cast<std::size_t>(r.cumulative[2] <= threshold);
    const std::uint64_t piece = r.piece[pick];
    if (packed_length(piece) != 0) return piece;  // not an overflow stand-in
    return pick_from_overflow(a, wt, packed_id(piece), t, mant, threshold);
}

/// Backward sampling over one chunk filtered by `prefix_filter`, one piece per `step()`: from
/// t = n, the last piece is p among the pieces ending at t with probability
/// w(p) * alpha[t - len] / alpha[t]; then t moves to its start. One uniform_double(g) per
/// piece, drawn from the chunk's last piece to its first. Recorded positions (`records`
/// non-null) are drawn from their record, the others from the rows; both give the same piece
/// for the same draw. The pieces (id | step << 32, see piece_weight) go to `path`, last piece first.
///
/// Why a cursor: a step is a short chain of dependent loads, so a chunk's sampling is bound
/// by latency. Stepping it inside the next chunk's filter loop (which is bound by
/// instruction count) lets the two overlap, with the draws still taken chunk after chunk.
template <class Score, class URBG>
struct backward_cursor {
    const piece_automaton<Score>* automaton;
    const weight_table* wt;
    const std::uint32_t* states;
    const double* mant;
    const std::int64_t* expo;
    const sample_record* records;  // null: every position from the rows
    sample_term* terms;            // max_piece_length + row_width entries
    std::uint64_t* path;
    URBG* g;
    std::size_t t = 0;      // pieces end here; 0 when the chunk is done
    std::size_t count = 0;  // pieces drawn so far

    bool done() const noexcept { return t == 0; }

    void step() {
        const double u = uniform_double(*g);
        std::uint64_t piece;
        if (records && records[t].total >= 0.0)
            piece = pick_recorded(*automaton, *wt, records[t], t, mant, u * records[t].total);
        else
            piece = sample_step_from_row(*automaton, *wt, states[t - 1], t, mant, expo, u, terms);
        path[count++] = piece;
        t -= packed_length(piece);
    }

    void finish() {
        while (t > 0) step();
    }
};

/// Samples a whole filtered chunk at once (see backward_cursor); returns the piece count.
template <class Score, class URBG>
std::size_t sample_backward(const piece_automaton<Score>& a, const weight_table& wt, const std::uint32_t* states,
                            std::size_t n, const double* mant, const std::int64_t* expo,
                            const sample_record* records, sample_term* terms, std::uint64_t* path, URBG& g) {
    backward_cursor<Score, URBG> cursor{&a, &wt, states, mant, expo, records, terms, path, &g, n, 0};
    cursor.finish();
    return cursor.count;
}

}  // namespace detail

BYTEPIECE_NAMESPACE_END

#include "bytepiece/tokenizer.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// Draws segmentations at random from a tokenizer's model for one fixed alpha: each chunk's
/// segmentation S has probability proportional to exp(alpha * sum of S's piece scores).
/// alpha = 0 is uniform over all segmentations; as alpha grows the draws concentrate on the
/// Viterbi segmentation. The text is normalized and chunked exactly as `encode` does, and each
/// chunk is drawn independently.
///
/// A sampler holds the per-piece weights for its alpha (O(vocabulary) to compute). The
/// tokenizer keeps the weights of the last four alphas it was asked for, so building a sampler
/// for a recent alpha is cheap, and `tok.sample(text, alpha, g)` costs about what a bound
/// sampler does. A sampler is cheap to copy (the weights are shared), refers to the tokenizer
/// (which must outlive it), and a const sampler may be used from many threads at once as long
/// as each thread uses its own generator. Random numbers: exactly one `uniform_double(g)` per
/// emitted piece, chunk by chunk in text order and, within a chunk, from its last piece back
/// to its first, so a given generator state always yields the same ids (see random.hpp for the
/// bits).
///
/// A negative alpha means deterministic encoding, as in BytePiece and the command line: such a
/// sampler returns `encode`'s ids (`tokenize`'s pieces) and draws no random numbers.
template <class Score = double, class Id = std::uint32_t>
class basic_sampler {
public:
    using tokenizer_type = basic_tokenizer<Score, Id>;
    using id_type = Id;

    /// Scratch memory for sampling. The overloads without one use a per-thread workspace;
    /// pass your own to control where the memory lives. One workspace must not be used by two
    /// threads at the same time.
    ///
    /// Example: `bytepiece::sampler::workspace ws; s.sample(text, g, ids, ws);`
    class workspace {
    public:
        workspace() = default;

    private:
        friend class basic_sampler;
        std::string normalized;
        std::vector<std::uint32_t> bounds;  // chunk starts in the window, then its size
        std::vector<std::uint32_t> states;  // automaton state after each byte of the window
        // Two chunks' worth: one chunk is filtered while the one before it is sampled.
        struct chunk_buffers {
            std::vector<double> mantissa;  // the forward filter, alpha = mantissa * 2^exponent
            std::vector<std::int64_t> exponent;
            std::vector<detail::sample_record> records;
            std::vector<std::uint64_t> path;  // the pieces, last first: id | step << 32 (see piece_weight)

            void reserve(std::size_t n, bool record) {
                if (mantissa.size() < n + 1) {
                    mantissa.resize(n + 1);
                    exponent.resize(n + 1);
                }
                if (record && records.size() < n + 1) records.resize(n + 1);
                if (path.size() < n) path.resize(n);
            }
        } buffers[2];
        std::vector<detail::sample_term> terms;
        // Long chunks (see sample_long): per block, where the forward filter resumes.
        std::vector<double> checkpoint_mantissa;
        std::vector<std::int64_t> checkpoint_exponent;
        std::vector<detail::filter_frame> checkpoint_frame;
    };

    /// Binds a sampler to `tok` and `alpha`, taking the weights from the tokenizer's cache or
    /// computing them (and caching them). Throws `argument_error` (errc::invalid_argument) if
    /// alpha is NaN, +infinity or above 1e6; a negative alpha means deterministic encoding.
    ///
    /// Example: `bytepiece::sampler s(tok, 0.1);`
    basic_sampler(const tokenizer_type& tok, double alpha) : tok_(&tok), alpha_(alpha) {
        detail::check_alpha(alpha, "sampler");
        if (alpha >= 0.0)
            weights_ = tok.weight_cache_.get(alpha, [&] { return detail::make_weight_table(tok.model(), alpha); });
    }

    /// The alpha this sampler draws with (negative: deterministic encoding).
    ///
    /// Example: `double a = s.alpha();`
    double alpha() const noexcept { return alpha_; }

    /// Whether this sampler encodes deterministically (its alpha is negative).
    ///
    /// Example: `if (tok.sampler(-1).deterministic()) { ... }`
    bool deterministic() const noexcept { return !weights_; }

    /// The tokenizer this sampler draws from.
    ///
    /// Example: `std::size_t v = s.tokenizer().vocab_size();`
    const tokenizer_type& tokenizer() const noexcept { return *tok_; }

    /// Samples a segmentation of `text` and appends its ids to `out` (with `<bos>`/`<eos>` if
    /// the tokenizer's options ask for them, as `encode` does), using `ws` for scratch memory.
    ///
    /// Example: `s.sample(text, g, ids, ws);`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    void sample(std::string_view text, URBG& g, std::vector<Id>& out, workspace& ws) const {
        if (deterministic()) return tok_->encode(text, out);
        const encode_options& options = tok_->options();
        if (options.add_bos) out.push_back(tokenizer_type::model_type::bos_id);
        sample_text(tok_->normalized_view(text, ws.normalized), g, ws, id_sink{out});
        if (options.add_eos) out.push_back(tokenizer_type::model_type::eos_id);
    }

    /// Samples a segmentation of `text` and appends its ids to `out` (per-thread scratch).
    ///
    /// Example: `bytepiece::splitmix64 g(1); std::vector<std::uint32_t> ids; s.sample(text, g, ids);`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    void sample(std::string_view text, URBG& g, std::vector<Id>& out) const {
        sample(text, g, out, local_workspace());
    }

    /// Samples a segmentation of `text` and returns its ids.
    ///
    /// Example: `std::mt19937_64 g(7); auto ids = s.sample("Hello, world!", g);`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    std::vector<Id> sample(std::string_view text, URBG& g) const {
        std::vector<Id> out;
        sample(text, g, out);
        return out;
    }

    /// Samples with a fresh `splitmix64(seed)`: the same seed always gives the same ids.
    ///
    /// Example: `auto ids = s.sample("Hello, world!", 42);`
    std::vector<Id> sample(std::string_view text, std::uint64_t seed) const {
        splitmix64 g(seed);
        return sample(text, g);
    }

    /// Samples a segmentation of `text` and returns its pieces' bytes, lined up with `sample`
    /// as `tokenize` is with `encode`: "<bos>"/"<eos>" when the options add them, and pieces
    /// that concatenate to the normalized text.
    ///
    /// Example: `auto pieces = s.sample_pieces("tokenization", g);  // maybe {"token", "iz", "ation"}`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    std::vector<std::string> sample_pieces(std::string_view text, URBG& g) const {
        if (deterministic()) return tok_->tokenize(text);
        std::vector<std::string> pieces;
        workspace& ws = local_workspace();
        const std::string_view normalized = tok_->normalized_view(text, ws.normalized);
        const encode_options& options = tok_->options();
        if (options.add_bos) pieces.emplace_back(tok_->id_to_piece(tokenizer_type::model_type::bos_id));
        sample_text(normalized, g, ws, [&](std::size_t start, const std::uint64_t* path, std::size_t count) {
            for (std::size_t i = count; i-- > 0;) {
                const std::size_t len = detail::packed_length(path[i]);
                pieces.emplace_back(normalized.substr(start, len));
                start += len;
            }
        });
        if (options.add_eos) pieces.emplace_back(tok_->id_to_piece(tokenizer_type::model_type::eos_id));
        return pieces;
    }

    /// `sample_pieces` with a fresh `splitmix64(seed)`.
    ///
    /// Example: `auto pieces = s.sample_pieces("tokenization", 42);`
    std::vector<std::string> sample_pieces(std::string_view text, std::uint64_t seed) const {
        splitmix64 g(seed);
        return sample_pieces(text, g);
    }

    /// Samples one chunk of raw bytes (no normalization, no chunking, no `<bos>`/`<eos>`) and
    /// appends its ids. Sampling a text chunk by chunk with one generator gives exactly the
    /// ids `sample` gives for the whole text.
    ///
    /// Example: `s.sample_chunk("abc\n", g, ids);`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    void sample_chunk(std::string_view bytes, URBG& g, std::vector<Id>& out, workspace& ws) const {
        if (deterministic()) return tok_->encode_chunk(bytes, out);
        sample_text(bytes, g, ws, id_sink{out}, /*single_chunk=*/true);
    }

    /// `sample_chunk` with per-thread scratch memory.
    ///
    /// Example: `s.sample_chunk(chunk, g, ids);`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    void sample_chunk(std::string_view bytes, URBG& g, std::vector<Id>& out) const {
        sample_chunk(bytes, g, out, local_workspace());
    }

private:
    template <class, class>
    friend class basic_lattice;

    static workspace& local_workspace() {
        static thread_local workspace ws;
        return ws;
    }

    // Bytes of text per automaton scan, as in encode: enough chunks to keep the scan's lanes
    // busy, few enough that the states stay in cache for the filter.
    static constexpr std::size_t window_bytes = std::size_t{1} << 16;
    // Chunks this long or longer do not fit the scan's 32-bit bounds; they are scanned alone.
    static constexpr std::size_t huge_chunk = std::size_t{1} << 31;

    // Appends a chunk's sampled ids to a vector in text order.
    struct id_sink {
        std::vector<Id>& out;
        void operator()(std::size_t, const std::uint64_t* path, std::size_t count) const {
            detail::append_path_ids(out, path, count, [](std::uint64_t piece) { return detail::packed_id(piece); });
        }
    };

    // Samples every chunk of `text` (or `text` as one chunk) and reports each chunk as
    // f(start, path, count): its pieces as id | step << 32 (see piece_weight), last first, and the
    // chunk's start counted from the beginning of `text`. Chunks are
    // scanned by the automaton a window at a time, then each is filtered and sampled.
    template <class URBG, class F>
    void sample_text(std::string_view text, URBG& g, workspace& ws, F&& f, bool single_chunk = false) const {
        auto huge = [&](std::string_view chunk, std::size_t offset) {
            sample_long_with_local(chunk.data(), chunk.size(), offset, g, ws, f);
        };
        if (text.empty()) return;
        if (single_chunk) {
            if (text.size() >= huge_chunk) return huge(text, 0);
            ws.bounds.assign({0u, static_cast<std::uint32_t>(text.size())});
            sample_window(text.data(), 0, g, ws, f);
            return;
        }
        detail::for_each_window(
            text, ws.bounds, window_bytes, huge_chunk,
            [&](const char* window, std::size_t offset, const std::vector<std::uint32_t>&) {
                sample_window(window, offset, g, ws, f);
            },
            huge);
    }

    // Room for n states plus the filter's prefetch distance, the padding set to a valid state.
    static void reserve_states(workspace& ws, std::size_t n) {
        if (ws.states.size() < n + detail::filter_prefetch) ws.states.resize(n + detail::filter_prefetch);
        std::fill(ws.states.begin() + static_cast<std::ptrdiff_t>(n),
                  ws.states.begin() + static_cast<std::ptrdiff_t>(n + detail::filter_prefetch), 0u);
    }

    // One window (ws.bounds: chunk starts, then the size): one scan, then chunk by chunk.
    // The generator runs in a local copy where it can, so its state stays in registers.
    template <class URBG, class F>
    void sample_window(const char* data, std::size_t offset, URBG& g, workspace& ws, F& f) const {
        // A window holds more than one chunk only if they fit in window_bytes, so a chunk over
        // record_limit is alone in its window: it is sampled by blocks, not scanned whole.
        static_assert(window_bytes <= detail::record_limit, "a long chunk must have its window to itself");
        if (ws.bounds.size() == 2 && ws.bounds[1] > detail::record_limit)
            return sample_long_with_local(data, ws.bounds[1], offset, g, ws, f);
        if constexpr (std::is_copy_constructible_v<URBG> && std::is_copy_assignable_v<URBG>) {
            URBG local = g;
            sample_window_with(data, offset, local, ws, f);
            g = local;
        } else {
            sample_window_with(data, offset, g, ws, f);
        }
    }

    template <class URBG, class F>
    void sample_window_with(const char* data, std::size_t offset, URBG& g, workspace& ws, F& f) const {
        const std::size_t chunks = ws.bounds.size() - 1;
        reserve_states(ws, ws.bounds.back());
        const auto& a = tok_->automaton_;
        a.scan(reinterpret_cast<const unsigned char*>(data), ws.bounds.data(), chunks, ws.states.data());
        const detail::weight_table& wt = *weights_;
        reserve_terms(ws);
        // Chunk c is filtered while chunk c - 1 (the pending cursor) is sampled a piece per
        // filter position; c - 1 is finished and reported before c's sampling starts, so the
        // draws and the output keep their chunk order.
        detail::backward_cursor<Score, URBG> pending{};
        bool has_pending = false;
        std::size_t pending_offset = 0;
        auto flush = [&] {
            if (!has_pending) return;
            pending.finish();
            f(pending_offset, pending.path, pending.count);
            has_pending = false;
        };
        int b = 0;
        for (std::size_t c = 0; c < chunks; ++c) {
            const std::uint32_t begin = ws.bounds[c], end = ws.bounds[c + 1];
            const std::size_t n = end - begin;
            const std::uint32_t* states = ws.states.data() + begin;
            auto& buf = ws.buffers[b];
            buf.reserve(n, true);
            // With nothing pending the cursor is default-constructed, hence done.
            detail::prefix_filter<true>(a, wt, states, n, buf.mantissa.data(), buf.exponent.data(), buf.records.data(),
                                        [&] {
                                            if (!pending.done()) pending.step();
                                        });
            flush();
            pending = {&a, &wt, states, buf.mantissa.data(), buf.exponent.data(), buf.records.data(),
                       ws.terms.data(), buf.path.data(), &g, n, 0};
            has_pending = true;
            pending_offset = offset + begin;
            b ^= 1;
        }
        flush();
    }

    void reserve_terms(workspace& ws) const {
        const std::size_t width = weights_->max_piece_length + detail::piece_automaton<Score>::row_width;
        if (ws.terms.size() < width) ws.terms.resize(width);
    }

    // sample_long with the generator in a local copy, as in sample_window.
    template <class URBG, class F>
    void sample_long_with_local(const char* data, std::size_t n, std::size_t offset, URBG& g, workspace& ws,
                                F& f) const {
        if constexpr (std::is_copy_constructible_v<URBG> && std::is_copy_assignable_v<URBG>) {
            URBG local = g;
            sample_long(data, n, offset, local, ws, f);
            g = local;
        } else {
            sample_long(data, n, offset, g, ws, f);
        }
    }

    // One chunk longer than record_limit, n bytes at `data`, reported from `offset`. Filtered in
    // one go, its forward values would take 16 bytes per byte and its states 4 more; instead
    // it is filtered in blocks. A first pass keeps, at each block's start, only what the filter
    // needs to go on from there: alpha at the max_piece_length positions up to that start, and
    // the frame. The backward pass then filters each block again from its checkpoint, last
    // block first, and samples through it from the records. A block filtered again runs the
    // same operations on the same values as the first pass, so its values are the first pass's
    // to the bit, and the pieces are those a single pass over the chunk would draw. Automaton
    // states are scanned per block, starting max_piece_length - 1 bytes early: the state after
    // a byte is the longest piece prefix ending there, so it depends on that many bytes only.
    // Memory: O(block + n / block * max_piece_length), plus the ids.
    template <class URBG, class F>
    void sample_long(const char* data, std::size_t n, std::size_t offset, URBG& g, workspace& ws, F& f) const {
        const detail::weight_table& wt = *weights_;
        const auto& a = tok_->automaton_;
        const auto* bytes = reinterpret_cast<const unsigned char*>(data);
        // Buffer index i stands for position bs - history + i in a block that starts at bs.
        const std::size_t history = wt.max_piece_length - 1;
        const std::size_t block = long_block(wt.max_piece_length);
        const std::size_t blocks = (n + block - 1) / block;
        auto& buf = ws.buffers[0];
        buf.reserve(history + block, true);
        reserve_terms(ws);
        double* mant = buf.mantissa.data();
        std::int64_t* expo = buf.exponent.data();
        detail::sample_record* records = buf.records.data();
        // Checkpoint j: alpha at positions bs_j - history .. bs_j, and the frame there with
        // fast_from counted from position 0 (it may lie below a block's first index).
        ws.checkpoint_mantissa.assign(blocks * (history + 1), 0.0);
        ws.checkpoint_exponent.assign(blocks * (history + 1), 0);
        ws.checkpoint_frame.assign(blocks, detail::filter_frame{});
        ws.checkpoint_mantissa[history] = 1.0;  // alpha[0] = 1
        ws.checkpoint_frame[0] = {0, wt.fast ? 0 : no_fast};
        // Filters block j from its checkpoint (writing the next block's on the first pass).
        auto filter_block = [&](std::size_t j, bool record) {
            const std::size_t bs = j * block, m = std::min(block, n - bs);
            std::copy_n(ws.checkpoint_mantissa.data() + j * (history + 1), history + 1, mant);
            std::copy_n(ws.checkpoint_exponent.data() + j * (history + 1), history + 1, expo);
            const std::size_t scan_from = bs >= history ? bs - history : 0;  // the chunk has no byte before 0
            reserve_states(ws, history + m);
            // `scan` splits a long run over its lanes; scan_chunk would be one chain of steps.
            const std::uint32_t scan_bounds[2] = {0, static_cast<std::uint32_t>(bs + m - scan_from)};
            a.scan(bytes + scan_from, scan_bounds, 1, ws.states.data() + (scan_from + history - bs));
            const detail::filter_frame at = ws.checkpoint_frame[j];
            detail::filter_frame frame{at.exponent, at.fast_from == no_fast           ? no_fast
                                                    : at.fast_from + history > bs ? at.fast_from + history - bs
                                                                                  : 0};
            if (record)
                detail::prefix_filter_range<true>(a, wt, ws.states.data(), history, history + m, mant, expo, records, frame);
            else
                detail::prefix_filter_range<false>(a, wt, ws.states.data(), history, history + m, mant, expo, nullptr, frame);
            if (j + 1 < blocks) {
                std::copy_n(mant + m, history + 1, ws.checkpoint_mantissa.data() + (j + 1) * (history + 1));
                std::copy_n(expo + m, history + 1, ws.checkpoint_exponent.data() + (j + 1) * (history + 1));
                const std::size_t resume = bs + frame.fast_from >= history ? bs + frame.fast_from - history : 0;
                ws.checkpoint_frame[j + 1] = {frame.exponent, frame.fast_from == no_fast ? no_fast : resume};
            }
        };
        for (std::size_t j = 0; j < blocks; ++j) filter_block(j, j + 1 == blocks);
        // Backward: one uniform draw per piece, from the chunk's last piece to its first, as
        // backward_cursor draws them. Ids go straight to the output when that is where they go.
        constexpr bool to_ids = std::is_same_v<std::decay_t<F>, id_sink>;
        std::vector<std::uint64_t> path;  // for other sinks: last piece first
        std::size_t first_id = 0;
        if constexpr (to_ids) first_id = f.out.size();
        std::size_t t = n;
        for (std::size_t j = blocks; j-- > 0;) {
            const std::size_t bs = j * block;
            if (j + 1 < blocks) filter_block(j, true);
            while (t > bs) {
                const std::size_t at = t - bs + history;
                const double u = uniform_double(g);
                const detail::sample_record& r = records[at];
                const std::uint64_t piece =
                    r.total >= 0.0 ? detail::pick_recorded(a, wt, r, at, mant, u * r.total)
                                   : detail::sample_step_from_row(a, wt, ws.states[at - 1], at, mant, expo, u, ws.terms.data());
                if constexpr (to_ids) f.out.push_back(static_cast<Id>(detail::packed_id(piece)));
                else path.push_back(piece);
                t -= detail::packed_length(piece);
            }
        }
        if constexpr (to_ids) std::reverse(f.out.begin() + static_cast<std::ptrdiff_t>(first_id), f.out.end());
        else f(offset, path.data(), path.size());
    }

    static constexpr std::size_t no_fast = std::numeric_limits<std::size_t>::max();

    // Positions per block of a long chunk: at least record_limit, and long beside the
    // history each checkpoint keeps.
    static std::size_t long_block(std::size_t max_piece_length) noexcept {
        return std::max(detail::record_limit, 8 * max_piece_length);
    }

    const tokenizer_type* tok_;
    double alpha_;
    std::shared_ptr<const detail::weight_table> weights_;  // null for a negative alpha
};

/// The sampler for `bytepiece::tokenizer`.
using sampler = basic_sampler<>;

/// Makes a sampler for `tok` and `alpha` (what `tok.sampler(alpha)` returns). Throws
/// `argument_error` for an alpha that is NaN, +infinity or above 1e6; a negative alpha means
/// deterministic encoding.
///
/// Example: `auto s = bytepiece::make_sampler(tok, 0.1);`
template <class Score, class Id>
basic_sampler<Score, Id> make_sampler(const basic_tokenizer<Score, Id>& tok, double alpha) {
    return basic_sampler<Score, Id>(tok, alpha);
}

BYTEPIECE_NAMESPACE_END
