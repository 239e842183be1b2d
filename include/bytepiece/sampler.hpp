// SPDX-License-Identifier: Apache-2.0
//
// Exact stochastic tokenization: draw each chunk's segmentation S with probability
// proportional to exp(alpha * sum of the scores of S's pieces).
//
// Algorithm: forward-filtering backward-sampling, mirrored (filter the suffixes, then sample
// from the front), which is exact for the same reason and emits pieces in text order.
//
//  1. Filter. For a chunk of n bytes, beta[s] is the total weight of all segmentations of the
//     suffix [s, n): beta[n] = 1 and beta[s] = sum over pieces p = bytes[s, s+len) of
//     w(p) * beta[s+len]. Positions are visited from n-1 down to 0 and the pieces starting at
//     s come from one trie walk (common_prefix_search), so the loop is Viterbi's loop with a
//     multiply-add in place of an add-compare. Going right to left is what makes this a
//     "pull": every beta[s] is complete when it is written, so it can be rescaled at once.
//     The walk also records each edge with the running sum of its weights (16 bytes per edge,
//     in a reused buffer; chunks over 256 KiB skip the recording and walk the trie again).
//  2. Sample. From s = 0, pick the piece p starting at s with probability
//     w(p) * beta[s+len] / beta[s]: one uniform draw u, then the first recorded running sum
//     above u times the total. Emit p, jump to s+len. One random number per emitted piece.
//
// No log or exp in the loops. Per-piece weights w(p) = exp(alpha*score(p) + c*len(p)) are
// computed once per alpha (the sampler object). The term c*len(p) is a "tilt": every
// segmentation of a chunk spans all n bytes, so it multiplies every segmentation's weight by
// the same exp(c*n) and leaves the distribution unchanged; with c = -alpha * (best score per
// byte of any piece) all weights lie in [exp(alpha * min score), 1], which keeps them far
// from underflow and makes beta drift slowly.
//
// Range. beta of a long chunk is far outside double range (for 200,000 bytes of text, beta[0]
// is near 2^-5,500,000 at alpha = 10 and 2^128,000 at alpha = 0), so beta[s] is stored as
// mantissa * 2^exponent. All positions share one running exponent (the frame) until a
// mantissa leaves [2^-256, 2^256]; then the frame moves by an exact power of two. A position
// whose successors (up to the longest piece away) all lie in the current frame takes the
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
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

/// The per-piece weights for one alpha, shared (immutable) by every copy of a sampler.
struct weight_table {
    double alpha = 0;
    double tilt = 0;                       // c in w = exp(alpha*score + c*len)
    std::size_t max_piece_length = 0;      // bytes
    std::vector<double> weight;            // by id; fast mode: the weight itself, else its mantissa
    std::vector<std::int32_t> weight_exp;  // by id; empty in fast mode (all weights >= 2^-700)

    bool fast() const noexcept { return weight_exp.empty(); }
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

inline void check_alpha(double alpha, const char* who) {
    if (!(alpha >= 0.0) || !(alpha <= 1e6))
        BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                       std::string(who) + ": alpha must be a finite number in [0, 1e6], got " +
                                           format_double(alpha) +
                                           " (a negative alpha means deterministic encoding: call encode instead)"));
}

template <class Score, class Id>
std::shared_ptr<const weight_table> make_weight_table(const basic_model<Score, Id>& m, double alpha) {
    check_alpha(alpha, "sampler");
    auto wt = std::make_shared<weight_table>();
    wt->alpha = alpha;
    wt->max_piece_length = std::max<std::size_t>(m.max_piece_length(), 1);
    const std::size_t first = basic_model<Score, Id>::first_piece_id;
    double best_rate = -std::numeric_limits<double>::infinity();
    for (std::size_t id = first; id < m.vocab_size(); ++id) {
        const double s = static_cast<double>(m.score(static_cast<Id>(id)));
        best_rate = std::max(best_rate, s / static_cast<double>(m.piece(static_cast<Id>(id)).size()));
    }
    wt->tilt = std::isfinite(best_rate) ? -alpha * best_rate : 0.0;
    std::vector<split_double> split(m.vocab_size(), split_double{0.0, 0});
    bool fast = true;
    for (std::size_t id = first; id < m.vocab_size(); ++id) {
        const double y = log_weight(*wt, static_cast<double>(m.score(static_cast<Id>(id))),
                                    m.piece(static_cast<Id>(id)).size());
        split[id] = portable_exp(y);
        if (split[id].exponent < -700) fast = false;
    }
    wt->weight.assign(m.vocab_size(), 0.0);
    if (fast) {
        for (std::size_t id = first; id < m.vocab_size(); ++id)
            wt->weight[id] = std::scalbn(split[id].mantissa, static_cast<int>(split[id].exponent));
    } else {
        wt->weight_exp.assign(m.vocab_size(), 0);
        for (std::size_t id = first; id < m.vocab_size(); ++id) {
            wt->weight[id] = split[id].mantissa;
            wt->weight_exp[id] = static_cast<std::int32_t>(split[id].exponent);
        }
    }
    return wt;
}

/// The running frame of the filter: the shared exponent, and the lowest position stored in an
/// older frame's successor window (positions <= change were written in the current frame).
struct filter_frame {
    std::int64_t exponent = 0;
    std::size_t change = 0;
};

/// One outgoing edge of a position: running sum of the weights w(p) * beta[s+len] up to and
/// including this edge (in the frame of the position's successors), length, id.
struct edge_term {
    double cumulative;
    std::uint32_t length;
    std::int32_t id;
};

/// Stores a finished fast-path sum as beta[s], moving the frame if it left the kept range.
inline void store_beta(double acc, std::size_t s, double* mant, std::int64_t* expo, filter_frame& frame) noexcept {
    if (acc >= kept_low && acc <= kept_high) {
        mant[s] = acc;
        expo[s] = frame.exponent;
    } else {
        const int k = std::ilogb(acc);
        mant[s] = std::scalbn(acc, -k);
        frame.exponent += k;
        expo[s] = frame.exponent;
        frame.change = s;
    }
}

/// beta[s] when its successors span frames (or weights need exponents): each term's exponent
/// is aligned to the running sum's, then the result is stored in the current frame if it fits.
inline void filter_slow_position(const double_array_trie& trie, const weight_table& wt, const unsigned char* bytes,
                                 std::size_t s, std::size_t end, double* mant, std::int64_t* expo, filter_frame& frame) {
    const double* w = wt.weight.data();
    const std::int32_t* wx = wt.fast() ? nullptr : wt.weight_exp.data();
    double am = 0.0;
    std::int64_t ae = 0;
    bool any = false;
    trie.common_prefix_search(bytes + s, end - s, [&](std::size_t len, std::int32_t id) {
        const double t = w[id] * mant[s + len];
        const std::int64_t te = expo[s + len] + (wx ? wx[id] : 0);
        if (!any) {
            am = t;
            ae = te;
            any = true;
        } else if (te == ae) {
            am += t;
        } else if (te > ae) {
            am = scale_by_power_of_two(am, ae - te) + t;
            ae = te;
        } else {
            am += scale_by_power_of_two(t, te - ae);
        }
    });
    // Every position has its single-byte piece, so am > 0 here.
    const int k = std::ilogb(am);
    const std::int64_t top = ae + k;  // floor(log2(beta[s]))
    if (top - frame.exponent >= -kept_log2 && top - frame.exponent < kept_log2) {
        mant[s] = std::scalbn(am, static_cast<int>(ae - frame.exponent));
        expo[s] = frame.exponent;
    } else {
        mant[s] = std::scalbn(am, -k);
        frame.exponent = top;
        expo[s] = top;
        frame.change = s;
    }
}

/// Computes beta[s] for s = end-1 down to start, for pieces that lie inside [start, end)
/// (`bytes` is the text, positions are indices into it and into `mant`/`expo`). Requires
/// beta[end] to be set and `frame` to describe it. See the file comment for the scheme.
inline void suffix_filter(const double_array_trie& trie, const weight_table& wt, const unsigned char* bytes,
                          std::size_t start, std::size_t end, double* mant, std::int64_t* expo, filter_frame& frame) {
    const double* w = wt.weight.data();
    const bool fast = wt.fast();
    const std::size_t max_len = wt.max_piece_length;
    for (std::size_t s = end; s-- > start;) {
        if (fast && s + std::min(end - s, max_len) <= frame.change) {
            double acc = 0.0;
            const double* next = mant + s;
            trie.common_prefix_search(bytes + s, end - s,
                                      [&](std::size_t len, std::int32_t id) { acc += w[id] * next[len]; });
            store_beta(acc, s, mant, expo, frame);
        } else {
            filter_slow_position(trie, wt, bytes, s, end, mant, expo, frame);
        }
    }
}

/// Marks a position whose edges were not recorded (the sampler walks the trie there again).
inline constexpr std::uint32_t not_recorded = std::numeric_limits<std::uint32_t>::max();

/// Longest chunk whose edges the sampler records. Records take about 4 edges of 16 bytes per
/// byte of text, so this bounds the scratch memory near 16 MiB; longer chunks are sampled by
/// walking the trie again, with identical results.
inline constexpr std::size_t record_limit = std::size_t{1} << 18;

/// `suffix_filter` over one chunk [0, n) that also records every fast-path position's edges
/// with their running sums (span[s] = [begin, end) in `records`), so that sampling needs no
/// second trie walk: drawing a piece is then one uniform and a scan of a few doubles. Only
/// for fast-mode weight tables.
inline void suffix_filter_recording(const double_array_trie& trie, const weight_table& wt, const unsigned char* bytes,
                                    std::size_t n, double* mant, std::int64_t* expo, std::vector<edge_term>& records,
                                    std::pair<std::uint32_t, std::uint32_t>* span) {
    const double* w = wt.weight.data();
    const std::size_t max_len = wt.max_piece_length;
    filter_frame frame{expo[n], n};
    std::size_t used = 0;
    edge_term* rec = records.data();
    std::size_t capacity = records.size();
    for (std::size_t s = n; s-- > 0;) {
        if (s + std::min(n - s, max_len) <= frame.change) {
            if (capacity - used < max_len) {
                records.resize(std::max(2 * capacity, used + max_len + 1024));
                rec = records.data();
                capacity = records.size();
            }
            double acc = 0.0;
            const double* next = mant + s;
            edge_term* out = rec + used;
            trie.common_prefix_search(bytes + s, n - s, [&](std::size_t len, std::int32_t id) {
                acc += w[id] * next[len];
                *out++ = {acc, static_cast<std::uint32_t>(len), id};
            });
            const std::size_t stop = static_cast<std::size_t>(out - rec);
            span[s] = {static_cast<std::uint32_t>(used), static_cast<std::uint32_t>(stop)};
            used = stop;
            store_beta(acc, s, mant, expo, frame);
        } else {
            span[s] = {not_recorded, not_recorded};
            filter_slow_position(trie, wt, bytes, s, n, mant, expo, frame);
        }
    }
}

/// Draws the piece starting at t by walking the trie again: with probability
/// w(p) * beta[t+len] / beta[t]. Returns the record of the chosen edge.
template <class URBG>
edge_term sample_step_rewalk(const double_array_trie& trie, const weight_table& wt, const unsigned char* bytes,
                             std::size_t t, std::size_t end, const double* mant, const std::int64_t* expo,
                             edge_term* terms, URBG& g) {
    const double* w = wt.weight.data();
    const std::int32_t* wx = wt.fast() ? nullptr : wt.weight_exp.data();
    const std::int64_t base = expo[t];
    std::size_t count = 0;
    double total = 0.0;
    trie.common_prefix_search(bytes + t, end - t, [&](std::size_t len, std::int32_t id) {
        double term = w[id] * mant[t + len];
        const std::int64_t d = expo[t + len] - base + (wx ? wx[id] : 0);
        if (d != 0) term = scale_by_power_of_two(term, d);
        total += term;
        terms[count++] = {total, static_cast<std::uint32_t>(len), id};
    });
    // u < 1 makes threshold < total, so the scan stops at a piece with positive weight.
    const double threshold = uniform_double(g) * total;
    std::size_t i = 0;
    while (i + 1 < count && terms[i].cumulative <= threshold) ++i;
    return terms[i];
}

/// Draws a path through [start, end) given the filtered beta, calling f(start, length, id)
/// for each piece in text order; one uniform_double(g) per piece. `terms` must hold
/// max_piece_length entries. With `span` (from suffix_filter_recording), recorded positions
/// are drawn from their records.
template <class URBG, class F>
void sample_path(const double_array_trie& trie, const weight_table& wt, const unsigned char* bytes, std::size_t start,
                 std::size_t end, const double* mant, const std::int64_t* expo, edge_term* terms,
                 const edge_term* records, const std::pair<std::uint32_t, std::uint32_t>* span, URBG& g, F&& f) {
    std::size_t t = start;
    while (t < end) {
        if (span && span[t].first != not_recorded) {
            const edge_term* r = records + span[t].first;
            const std::size_t count = span[t].second - span[t].first;
            const double threshold = uniform_double(g) * r[count - 1].cumulative;
            // Counting the sums at or below the threshold instead of stopping at the first one
            // above it: the choice is random, so a data-dependent exit would mispredict.
            std::size_t i = 0;
            for (std::size_t j = 0; j + 1 < count; ++j) i += r[j].cumulative <= threshold;
            f(t, static_cast<std::size_t>(r[i].length), r[i].id);
            t += r[i].length;
        } else {
            const edge_term e = sample_step_rewalk(trie, wt, bytes, t, end, mant, expo, terms, g);
            f(t, static_cast<std::size_t>(e.length), e.id);
            t += e.length;
        }
    }
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
/// Building a sampler computes the per-piece weights for its alpha once (O(vocabulary)); keep
/// it around for repeated sampling. It is cheap to copy (the weights are shared), refers to
/// the tokenizer (which must outlive it), and a const sampler may be used from many threads at
/// once as long as each thread uses its own generator. Random numbers: exactly one
/// `uniform_double(g)` per emitted piece, in text order, so a given generator state always
/// yields the same ids (see random.hpp for the bits).
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
        std::vector<double> mantissa;
        std::vector<std::int64_t> exponent;
        std::vector<detail::edge_term> terms;
        std::vector<detail::edge_term> records;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> span;
    };

    /// Binds a sampler to `tok` and `alpha`. Throws `argument_error` (errc::invalid_argument)
    /// if alpha is negative, NaN, infinite or above 1e6.
    ///
    /// Example: `bytepiece::sampler s(tok, 0.1);`
    basic_sampler(const tokenizer_type& tok, double alpha)
        : tok_(&tok), weights_(detail::make_weight_table(tok.model(), alpha)) {}

    /// The alpha this sampler draws with.
    ///
    /// Example: `double a = s.alpha();`
    double alpha() const noexcept { return weights_->alpha; }

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
        const encode_options& options = tok_->options();
        if (options.add_bos) out.push_back(tokenizer_type::model_type::bos_id);
        for_each_chunk(tok_->normalized_view(text, ws.normalized), [&](std::string_view chunk) {
            sample_chunk_impl(chunk, g, ws, [&](std::size_t, std::size_t, std::int32_t id) { out.push_back(static_cast<Id>(id)); });
        });
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

    /// Samples a segmentation of `text` and returns its pieces' bytes (no `<bos>`/`<eos>`),
    /// like `tokenize`; the pieces concatenate to the normalized text.
    ///
    /// Example: `auto pieces = s.sample_pieces("tokenization", g);  // maybe {"token", "iz", "ation"}`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    std::vector<std::string> sample_pieces(std::string_view text, URBG& g) const {
        std::vector<std::string> pieces;
        workspace& ws = local_workspace();
        for_each_chunk(tok_->normalized_view(text, ws.normalized), [&](std::string_view chunk) {
            sample_chunk_impl(chunk, g, ws, [&](std::size_t start, std::size_t len, std::int32_t) {
                pieces.emplace_back(chunk.substr(start, len));
            });
        });
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
        sample_chunk_impl(bytes, g, ws, [&](std::size_t, std::size_t, std::int32_t id) { out.push_back(static_cast<Id>(id)); });
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

    template <class URBG, class F>
    void sample_chunk_impl(std::string_view chunk, URBG& g, workspace& ws, F&& f) const {
        const std::size_t n = chunk.size();
        if (n == 0) return;
        const detail::weight_table& wt = *weights_;
        if (ws.mantissa.size() < n + 1) {
            ws.mantissa.resize(n + 1);
            ws.exponent.resize(n + 1);
        }
        if (ws.terms.size() < wt.max_piece_length + 1) ws.terms.resize(wt.max_piece_length + 1);
        const auto* bytes = reinterpret_cast<const unsigned char*>(chunk.data());
        double* mant = ws.mantissa.data();
        std::int64_t* expo = ws.exponent.data();
        mant[n] = 1.0;
        expo[n] = 0;
        if (wt.fast() && n <= detail::record_limit) {
            if (ws.span.size() < n + 1) ws.span.resize(n + 1);
            detail::suffix_filter_recording(tok_->trie(), wt, bytes, n, mant, expo, ws.records, ws.span.data());
            detail::sample_path(tok_->trie(), wt, bytes, 0, n, mant, expo, ws.terms.data(), ws.records.data(),
                                ws.span.data(), g, f);
        } else {
            detail::filter_frame frame{0, n};
            detail::suffix_filter(tok_->trie(), wt, bytes, 0, n, mant, expo, frame);
            detail::sample_path(tok_->trie(), wt, bytes, 0, n, mant, expo, ws.terms.data(), nullptr, nullptr, g, f);
        }
    }

    const tokenizer_type* tok_;
    std::shared_ptr<const detail::weight_table> weights_;
};

/// The sampler for `bytepiece::tokenizer`.
using sampler = basic_sampler<>;

/// Makes a sampler for `tok` and `alpha` (what `tok.sampler(alpha)` returns). Throws
/// `argument_error` for an alpha outside [0, 1e6] or not a number.
///
/// Example: `auto s = bytepiece::make_sampler(tok, 0.1);`
template <class Score, class Id>
basic_sampler<Score, Id> make_sampler(const basic_tokenizer<Score, Id>& tok, double alpha) {
    return basic_sampler<Score, Id>(tok, alpha);
}

BYTEPIECE_NAMESPACE_END
