// SPDX-License-Identifier: Apache-2.0
//
// Analytics over the segmentation lattice of a text: partition function, entropy, expected
// piece counts, probability of a given segmentation, sampling without replacement, and the
// exact k best segmentations.
//
// A text's lattice has a node per byte position and an edge per piece occurrence that lies
// inside one chunk; a segmentation of the text is a path from 0 to N. Because no edge crosses
// a chunk boundary, every quantity below factorizes over chunks exactly as the issue's
// semantics require (log-partition and entropy are sums over chunks, a sample draws each chunk
// independently, and the k best paths are the k best combinations of per-chunk segmentations).
//
// Everything alpha-dependent rests on the suffix weights beta of sampler.hpp, filtered once
// over the whole text. From them, "take piece p at s" has the Markov transition probability
// w(p) * beta[s+len] / beta[s], and the probability that a boundary falls at s is obtained by
// pushing probability mass left to right; both stay in [0, 1], so no scaling is needed there.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bytepiece/chunking.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/random.hpp"
#include "bytepiece/sampler.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// One segmentation with its total score (sum of the pieces' `score(id)`), as `nbest` returns.
template <class Id = std::uint32_t>
struct scored_segmentation {
    std::vector<Id> ids;  ///< the pieces, in text order (no `<bos>`/`<eos>`)
    double score = 0;     ///< sum of the model scores of the pieces
};

/// One segmentation drawn by `sample_without_replacement`.
template <class Id = std::uint32_t>
struct sampled_segmentation {
    std::vector<Id> ids;          ///< the pieces, in text order (no `<bos>`/`<eos>`)
    double score = 0;             ///< sum of the model scores of the pieces
    double log_probability = 0;   ///< log P(S) = alpha * score - log_partition
    double key = 0;               ///< its Gumbel-perturbed log-probability; items come in decreasing key order
    /// P(key > threshold) = 1 - exp(-exp(log_probability - threshold)), where the threshold is
    /// the (k+1)-th largest key (1 when the text has at most k segmentations). Dividing by it
    /// gives unbiased estimates: sum of f(S) * P(S) / inclusion_probability estimates E[f].
    double inclusion_probability = 1;
};

namespace detail {

inline constexpr double ln2 = 0.69314718055994530942;

// log(1 - exp(x)) for x <= 0, accurate at both ends.
inline double log1mexp(double x) noexcept {
    return x > -ln2 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

// Moves a child's perturbed key so that the largest among its siblings equals the parent's
// key while keeping their joint law: -log(exp(-parent) - exp(-sibling_max) + exp(-key)), the
// top-down construction of Gumbel-top-k (Kool, van Hoof, Welling 2019), evaluated in the
// stable form parent - log(1 + e^v) with v = parent - key + log(1 - exp(key - sibling_max)).
inline double truncated_gumbel(double parent, double sibling_max, double key) noexcept {
    if (key == -std::numeric_limits<double>::infinity()) return key;
    const double v = parent - key + log1mexp(key - sibling_max);
    return parent - std::max(0.0, v) - std::log1p(std::exp(-std::abs(v)));
}

}  // namespace detail

/// The segmentation lattice of one text under one alpha, filtered once: ask it for the
/// log-partition, entropy, expected piece counts, the probability of a segmentation or
/// samples without replacement, and the work is shared. The text is normalized as `encode`
/// does and copied; the lattice refers to the tokenizer (which must outlive it). Memory is
/// 16 bytes per byte of text. Const member functions are safe to call from several threads.
///
/// Example: `auto lat = tok.lattice(text, 0.5); double h = lat.entropy(), z = lat.log_partition();`
template <class Score = double, class Id = std::uint32_t>
class basic_lattice {
public:
    using sampler_type = basic_sampler<Score, Id>;
    using tokenizer_type = basic_tokenizer<Score, Id>;
    using id_type = Id;

    /// Builds the lattice of `text` with the sampler's tokenizer and alpha. Throws
    /// `argument_error` for a deterministic sampler (negative alpha): a single segmentation
    /// has no distribution to analyse.
    ///
    /// Example: `bytepiece::lattice lat(tok.sampler(0.1), "Hello, world!");`
    basic_lattice(sampler_type s, std::string_view text) : s_(std::move(s)) {
        if (s_.deterministic())
            BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                           "lattice: alpha must be at least 0, got " + detail::format_double(s_.alpha()) +
                                               " (a negative alpha means deterministic encoding: use encode or nbest)"));
        std::string storage;
        const std::string_view normalized = s_.tokenizer().normalized_view(text, storage);
        text_.assign(normalized.data(), normalized.size());
        for_each_chunk(text_, [&](std::string_view c) {
            const std::size_t begin = static_cast<std::size_t>(c.data() - text_.data());
            chunks_.emplace_back(begin, begin + c.size());
        });
        filter();
    }

    /// The normalized text the lattice is over.
    ///
    /// Example: `std::string_view t = lat.text();`
    std::string_view text() const noexcept { return text_; }

    /// The alpha of the distribution.
    ///
    /// Example: `double a = lat.alpha();`
    double alpha() const noexcept { return s_.alpha(); }

    /// log Z = log of the sum over all segmentations S of exp(alpha * score(S)), summed over
    /// chunks (0 for an empty text). At alpha = 0, the log of the number of segmentations.
    ///
    /// Example: `double log_z = lat.log_partition();`
    double log_partition() const noexcept {
        const std::size_t n = text_.size();
        if (n == 0) return 0.0;
        return std::log(mant_[0]) + static_cast<double>(expo_[0]) * detail::ln2 - weights().tilt * static_cast<double>(n);
    }

    /// Entropy, in nats, of the distribution over segmentations of the text (the sum of the
    /// chunks' entropies), computed exactly by the chain rule over the lattice.
    ///
    /// Example: `double h = lat.entropy();`
    double entropy() const {
        double h = 0.0;
        std::vector<double> reach(text_.size() + 1, 0.0);
        if (!text_.empty()) reach[0] = 1.0;
        walk_posterior(reach, [&](std::size_t s, std::size_t j, std::size_t len, std::int32_t id, double p) {
            const double q = reach[s] * p;
            reach[j] += q;
            if (q > 0.0) h -= q * log_transition(s, j, len, id, p);
        });
        return h;
    }

    /// Adds `weight` times the expected number of occurrences of each piece (indexed by id) in
    /// a segmentation drawn from the distribution to `counts`, growing it to vocab_size() if
    /// shorter. Summed over a corpus, this is the E-step of EM training.
    ///
    /// Example: `std::vector<double> counts; for (auto& t : texts) tok.lattice(t, 1.0).add_expected_counts(counts);`
    void add_expected_counts(std::vector<double>& counts, double weight = 1.0) const {
        const std::size_t vocab = s_.tokenizer().vocab_size();
        if (counts.size() < vocab) counts.resize(vocab, 0.0);
        std::vector<double> reach(text_.size() + 1, 0.0);
        if (!text_.empty()) reach[0] = 1.0;
        walk_posterior(reach, [&](std::size_t s, std::size_t j, std::size_t, std::int32_t id, double p) {
            const double q = reach[s] * p;
            reach[j] += q;
            counts[static_cast<std::size_t>(id)] += weight * q;
        });
    }

    /// The expected number of occurrences of each piece, indexed by id (vocab_size() entries).
    ///
    /// Example: `std::vector<double> m = lat.expected_counts();`
    std::vector<double> expected_counts() const {
        std::vector<double> counts;
        add_expected_counts(counts);
        return counts;
    }

    /// log of the probability that a draw is exactly the pieces `ids` (ids 0..2 ignored):
    /// alpha * score - log_partition(), or -infinity if the pieces do not spell the text or a
    /// piece crosses a chunk boundary. Throws `decode_error` for an id outside the vocabulary.
    ///
    /// Example: `double lp = lat.log_probability(tok.encode(text));`
    double log_probability(const Id* ids, std::size_t count) const {
        const tokenizer_type& tok = s_.tokenizer();
        const auto& m = tok.model();
        std::size_t pos = 0, chunk = 0;
        double total = 0.0;
        for (std::size_t i = 0; i < count; ++i) {
            const Id id = ids[i];
            if (id >= tok.vocab_size())
                BYTEPIECE_THROW(decode_error(errc::decode_bad_id, "id " + std::to_string(id) + " at position " +
                                                                      std::to_string(i) + " is outside the vocabulary [0, " +
                                                                      std::to_string(tok.vocab_size()) + ")"));
            if (id < tokenizer_type::model_type::first_piece_id) continue;
            const std::string_view piece = m.piece(id);
            while (chunk < chunks_.size() && chunks_[chunk].second <= pos) ++chunk;
            if (chunk == chunks_.size() || pos + piece.size() > chunks_[chunk].second ||
                text_.compare(pos, piece.size(), piece) != 0)
                return -std::numeric_limits<double>::infinity();
            pos += piece.size();
            total += static_cast<double>(m.score(id));
        }
        if (pos != text_.size()) return -std::numeric_limits<double>::infinity();
        return s_.alpha() * total - log_partition();
    }

    /// `log_probability` for a vector of ids.
    ///
    /// Example: `double lp = lat.log_probability(ids);`
    double log_probability(const std::vector<Id>& ids) const { return log_probability(ids.data(), ids.size()); }

    /// Draws `k` distinct segmentations without replacement (each next one with probability
    /// proportional to its own among those not drawn yet) by Gumbel-top-k over the lattice:
    /// every segmentation gets the key log P(S) + Gumbel noise, and the k largest keys win. The
    /// keys are generated top-down along segmentation prefixes with a beam of k+1 (stochastic
    /// beam search), which is exact, not an approximation. Returns min(k, number of
    /// segmentations) items in decreasing key order, with their log-probabilities and
    /// inclusion probabilities (see `sampled_segmentation`). Cost O(pieces per segmentation *
    /// k * pieces per position); memory grows with k and with the number of segmentations
    /// returned, so a k of SIZE_MAX (all of them) suits short texts only. Throws
    /// `argument_error` if k is 0. Random numbers: one `standard_gumbel(g)` for the root and
    /// one per lattice edge expanded.
    ///
    /// Example: `bytepiece::splitmix64 g(3); auto top = lat.sample_without_replacement(4, g);`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    std::vector<sampled_segmentation<Id>> sample_without_replacement(std::size_t k, URBG& g) const {
        if (k == 0)
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, "sample_without_replacement: k must be at least 1"));
        struct node {
            std::size_t pos;
            double log_p;
            double key;
            std::size_t parent;
            std::int32_t id;
        };
        constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
        const std::size_t n = text_.size();
        // One more than asked: its key is the threshold. For k = SIZE_MAX no threshold exists
        // (the beam keeps everything), and k + 1 would wrap to 0.
        const std::size_t beam = k < std::numeric_limits<std::size_t>::max() ? k + 1 : k;
        std::vector<node> nodes{{0, 0.0, standard_gumbel(g), none, -1}};
        std::vector<std::size_t> frontier{0}, candidates, remap;
        const auto by_key = [&](std::size_t a, std::size_t b) {
            return nodes[a].key > nodes[b].key || (nodes[a].key == nodes[b].key && a < b);
        };
        const double neg_inf = -std::numeric_limits<double>::infinity();
        std::size_t compact_at = 1 << 16;
        bool open = n > 0;
        while (open) {
            candidates.clear();
            for (const std::size_t at : frontier) {
                const node parent = nodes[at];
                if (parent.pos == n) {
                    candidates.push_back(at);
                    continue;
                }
                const std::size_t end = chunk_end(parent.pos);
                const std::size_t first = nodes.size();
                double sibling_max = neg_inf;
                s_.tokenizer().trie().common_prefix_search(
                    bytes() + parent.pos, end - parent.pos, [&](std::size_t len, std::int32_t id) {
                        const std::size_t j = parent.pos + len;
                        const double p = transition(parent.pos, j, id);
                        const double lp = parent.log_p + log_transition(parent.pos, j, len, id, p);
                        const double key = lp + standard_gumbel(g);
                        sibling_max = std::max(sibling_max, key);
                        nodes.push_back({j, lp, key, at, id});
                    });
                for (std::size_t c = first; c < nodes.size(); ++c) {
                    nodes[c].key = detail::truncated_gumbel(parent.key, sibling_max, nodes[c].key);
                    candidates.push_back(c);
                }
            }
            if (candidates.size() > beam) {
                std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(beam - 1),
                                 candidates.end(), by_key);
                candidates.resize(beam);
            }
            std::sort(candidates.begin(), candidates.end(), by_key);
            frontier.swap(candidates);
            open = false;
            for (const std::size_t at : frontier) open |= nodes[at].pos < n;
            // Keep only the frontier's ancestors once dead branches dominate memory; doubling
            // the trigger keeps the total cost of compaction linear.
            if (nodes.size() > compact_at) {
                compact(nodes, frontier, remap, none);
                compact_at = std::max<std::size_t>(compact_at, 2 * nodes.size());
            }
        }
        const double threshold = frontier.size() > k ? nodes[frontier[k]].key : neg_inf;
        const double log_z = log_partition();
        const auto& m = s_.tokenizer().model();
        std::vector<sampled_segmentation<Id>> out;
        for (std::size_t r = 0; r < frontier.size() && r < k; ++r) {
            sampled_segmentation<Id> item;
            for (std::size_t at = frontier[r]; nodes[at].parent != none; at = nodes[at].parent)
                item.ids.push_back(static_cast<Id>(nodes[at].id));
            std::reverse(item.ids.begin(), item.ids.end());
            for (const Id id : item.ids) item.score += static_cast<double>(m.score(id));
            item.log_probability = s_.alpha() * item.score - log_z;
            item.key = nodes[frontier[r]].key;
            item.inclusion_probability =
                threshold == neg_inf ? 1.0 : -std::expm1(-std::exp(item.log_probability - threshold));
            out.push_back(std::move(item));
        }
        return out;
    }

private:
    const detail::weight_table& weights() const noexcept { return *s_.weights_; }
    const unsigned char* bytes() const noexcept { return reinterpret_cast<const unsigned char*>(text_.data()); }

    void filter() {
        const std::size_t n = text_.size();
        mant_.assign(n + 1, 0.0);
        expo_.assign(n + 1, 0);
        mant_[n] = 1.0;
        detail::filter_frame frame{0, n};
        for (std::size_t c = chunks_.size(); c-- > 0;)
            detail::suffix_filter(s_.tokenizer().trie(), weights(), bytes(), chunks_[c].first, chunks_[c].second,
                                  mant_.data(), expo_.data(), frame);
    }

    std::size_t chunk_end(std::size_t pos) const noexcept {
        auto it = std::upper_bound(chunks_.begin(), chunks_.end(), pos,
                                   [](std::size_t p, const std::pair<std::size_t, std::size_t>& c) { return p < c.first; });
        return std::prev(it)->second;
    }

    // w(id) * beta[j] / beta[s], computed on normalized mantissas so that no intermediate
    // under- or overflows before the final exponent is applied.
    double transition(std::size_t s, std::size_t j, std::int32_t id) const noexcept {
        const detail::weight_table& wt = weights();
        const detail::piece_weight& w = wt.pieces[static_cast<std::size_t>(id)];
        const double a = w.weight * mant_[j];
        const double b = mant_[s];
        const int ea = std::ilogb(a), eb = std::ilogb(b);
        const double r = std::scalbn(a, -ea) / std::scalbn(b, -eb);
        const std::int64_t d = expo_[j] - expo_[s] + wt.exponent(static_cast<std::uint32_t>(id)) + ea - eb;
        return detail::scale_by_power_of_two(r, d);
    }

    // log of the transition probability p computed by transition(); from p itself when it is
    // a normal double, otherwise from the logs of its factors.
    double log_transition(std::size_t s, std::size_t j, std::size_t len, std::int32_t id, double p) const noexcept {
        if (p >= std::numeric_limits<double>::min()) return std::log(p);
        const double y = detail::log_weight(weights(), static_cast<double>(s_.tokenizer().model().score(static_cast<Id>(id))), len);
        return y + std::log(mant_[j]) - std::log(mant_[s]) + static_cast<double>(expo_[j] - expo_[s]) * detail::ln2;
    }

    // Visits every edge (s -> j, id) in increasing s, with its transition probability p.
    template <class F>
    void walk_posterior(const std::vector<double>& reach, F&& f) const {
        for (const auto& c : chunks_) {
            for (std::size_t s = c.first; s < c.second; ++s) {
                if (reach[s] == 0.0) continue;
                s_.tokenizer().trie().common_prefix_search(bytes() + s, c.second - s, [&](std::size_t len, std::int32_t id) {
                    f(s, s + len, len, id, transition(s, s + len, id));
                });
            }
        }
    }

    // Drops nodes that no frontier node descends from. Parents precede children, so one
    // forward pass renumbers.
    template <class Node>
    static void compact(std::vector<Node>& nodes, std::vector<std::size_t>& frontier, std::vector<std::size_t>& remap,
                        std::size_t none) {
        remap.assign(nodes.size(), none);
        for (std::size_t at : frontier)
            for (std::size_t x = at; x != none && remap[x] == none; x = nodes[x].parent) remap[x] = 0;
        std::size_t kept = 0;
        for (std::size_t x = 0; x < nodes.size(); ++x) {
            if (remap[x] == none) continue;
            remap[x] = kept;
            Node nd = nodes[x];
            if (nd.parent != none) nd.parent = remap[nd.parent];
            nodes[kept++] = nd;
        }
        nodes.resize(kept);
        for (std::size_t& at : frontier) at = remap[at];
    }

    sampler_type s_;
    std::string text_;
    std::vector<std::pair<std::size_t, std::size_t>> chunks_;  // [begin, end) of each chunk
    std::vector<double> mant_;                                 // beta[s] = mant_[s] * 2^expo_[s]
    std::vector<std::int64_t> expo_;
};

/// The lattice for `bytepiece::tokenizer`.
using lattice = basic_lattice<>;

/// Builds the lattice of `text` for a sampler (what `tok.lattice(text, alpha)` returns).
///
/// Example: `auto lat = bytepiece::make_lattice(tok.sampler(1.0), "banana");`
template <class Score, class Id>
basic_lattice<Score, Id> make_lattice(const basic_sampler<Score, Id>& s, std::string_view text) {
    return basic_lattice<Score, Id>(s, text);
}

namespace detail {

// The k best paths of the text's lattice, by Eppstein's algorithm on the shortest-path tree of
// forward Viterbi. Every path is the Viterbi path plus a set of "sidetracks" (edges not on
// the tree), each costing delta = best[e] - (best[s] + score) >= 0. The sidetracks that can
// still be taken walking back from position v form a heap H(v) = H(parent(v)) plus v's own,
// kept as persistent leftist heaps (each H(v) shares all but O(log n) nodes with its parent's),
// built lazily along the tree paths that the search actually reaches. The search pops paths
// in increasing total delta; each pop pushes at most four successors.
//
// Memory, so that long texts and large k both stay bounded:
//  - Per position only best[] is kept (one Score). The automaton states and the tree's
//    back-pointers are recomputed per block of 65,536 positions when needed (a few blocks are
//    cached), and the edges into a position are read from its automaton row when the search
//    gets there, instead of storing every lattice edge.
//  - A sidetrack with delta above D, the (k-1)-th smallest delta among the sidetracks into the
//    Viterbi path, cannot be on any of the k best paths: Viterbi plus each of those k - 1
//    sidetracks alone are k distinct paths of cost at most D. Such sidetracks get no heap
//    nodes, so for small k the heaps stay tiny however long the text.
//  - H(v) is memoized at the positions that add a node and at every 32nd position of a walk,
//    not per position: a later walk back from any position stops within a few steps of a
//    memoized one.
//  - The search keeps O(1) per path found and per queued candidate, the queue trimmed to the
//    pops still to come; paths are written out one at a time (see run).
template <class Score, class Id>
class nbest_search {
public:
    nbest_search(const basic_tokenizer<Score, Id>& tok, std::string_view text)
        : tok_(tok), a_(tok.automaton_), text_(text), n_(static_cast<std::uint32_t>(text.size())) {
        for_each_chunk(text_, [&](std::string_view c) {
            chunk_starts_.push_back(static_cast<std::uint32_t>(c.data() - text_.data()));
        });
        history_ = std::max<std::size_t>(tok.model().max_piece_length(), 1) - 1;
        block_size_ = std::max(min_block_size, 8 * (history_ + 1));
        const std::size_t blocks = (std::size_t{n_} + block_size_ - 1) / block_size_;
        checkpoints_.assign(blocks * (history_ + 1), Score(0));  // block 0: best[0] = 0
        // Viterbi, block by block, keeping where each block starts from.
        for (std::size_t j = 0; j < blocks; ++j) load_block(j, /*first_pass=*/true);
    }

    // Finds the k best paths and calls emit(scored_segmentation<Id>&) for each, best first
    // by the scores as reported (sums of the pieces' scores in text order), equal scores in
    // the order found. Each path is rebuilt from its sidetracks twice, once for its score and
    // once when it is emitted, so only one is held at a time. Returns how many were emitted.
    template <class Emit>
    std::size_t run(std::size_t k, Emit&& emit) {
        std::vector<std::int64_t> picked{-1};  // -1: the Viterbi path itself
        if (k > 1) search(k, picked);
        // Order by the reported scores, so that "best first" holds to the bit.
        std::vector<std::pair<double, std::size_t>> order;
        order.reserve(picked.size());
        scored_segmentation<Id> seg;
        for (std::size_t r = 0; r < picked.size(); ++r) {
            path_of(picked[r], seg);
            order.emplace_back(seg.score, r);
        }
        std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
        for (const auto& o : order) {
            path_of(picked[o.second], seg);
            emit(seg);
        }
        return order.size();
    }

    // `run` collecting the paths: each is rebuilt once, and the same order results.
    std::vector<scored_segmentation<Id>> collect(std::size_t k) {
        std::vector<std::int64_t> picked{-1};
        if (k > 1) search(k, picked);
        std::vector<scored_segmentation<Id>> out(picked.size());
        for (std::size_t r = 0; r < picked.size(); ++r) path_of(picked[r], out[r]);
        std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.score > y.score; });
        return out;
    }

private:
    using automaton = piece_automaton<Score>;
    static constexpr std::int32_t empty = -1;
    static constexpr std::size_t min_block_size = std::size_t{1} << 16;
    static constexpr std::size_t block_slots = 4;
    static constexpr std::size_t memo_stride = 32;
    static constexpr std::size_t walk_segment = 4096;
    static constexpr std::size_t row_prefetch = 16;

    // An edge into a position other than its tree edge: its cost, start and automaton entry
    // offset (the id and the length).
    struct edge {
        double delta;
        std::uint32_t start;
        std::uint32_t entry;
    };
    struct heap_node {
        double key;
        std::uint32_t pos;  // the position whose cheapest sidetrack this node stands for
        std::int32_t left, right, rank;
    };
    // A path waiting in the queue: its sidetracks are those of `prev` (an index into found_,
    // -1 for none) plus one, the idx-th sidetrack into pos, which is heap node `heap`'s when
    // `heap` is not empty.
    struct candidate {
        double cost;
        std::uint64_t seq;  // push order: breaks ties in cost, so the search is deterministic
        std::int64_t prev;
        std::int32_t heap;
        std::uint32_t pos, idx;
    };
    // A path found: the sidetrack it adds to `prev`'s.
    struct found_path {
        std::int64_t prev;
        std::uint32_t pos, idx;
    };
    // Viterbi values, automaton states and tree edges of one block of positions (bs, be].
    // A tree edge is packed as its entry offset | length << 32, so that a walk back takes one
    // load per step.
    struct block_slot {
        std::size_t index = std::numeric_limits<std::size_t>::max();
        std::uint64_t used = 0;
        std::size_t first = 0;              // bs
        std::size_t scan_from = 0;          // the byte of states[0]
        std::vector<std::uint32_t> states;  // state after each byte from scan_from
        std::vector<std::uint64_t> winners; // [e - bs - 1]
        std::vector<Score> best;            // [e - bs + history]: from history positions before bs

        Score best_at(std::size_t e, std::size_t history) const noexcept { return best[e + history - first]; }
    };
    static std::uint32_t entry_of(std::uint64_t tree_edge) noexcept { return static_cast<std::uint32_t>(tree_edge); }
    static std::uint32_t length_of(std::uint64_t tree_edge) noexcept { return static_cast<std::uint32_t>(tree_edge >> 32); }

    static bool before(const candidate& x, const candidate& y) noexcept {
        return x.cost < y.cost || (x.cost == y.cost && x.seq < y.seq);
    }

    void search(std::size_t k, std::vector<std::int64_t>& picked) {
        memo_.clear();
        memo_bits_.assign(std::size_t{n_} / 64 + 1, 0);
        remember(0, empty);
        limit_ = prune_limit(k);  // also walks back from n for heap_of(n)
        std::vector<candidate> queue;  // a heap on `before`
        const auto later = [](const candidate& x, const candidate& y) { return before(y, x); };
        std::uint64_t seq = 0;
        const auto push = [&](double cost, std::int64_t prev, std::int32_t heap, std::uint32_t pos, std::uint32_t idx) {
            queue.push_back({cost, seq++, prev, heap, pos, idx});
            std::push_heap(queue.begin(), queue.end(), later);
        };
        {
            const std::int32_t h = build_heap(0);  // H(n), from the marks prune_limit left
            if (h != empty) push(node(h).key, -1, h, node(h).pos, 0);
        }
        std::vector<edge> sides;
        while (picked.size() < k && !queue.empty()) {
            std::pop_heap(queue.begin(), queue.end(), later);
            const candidate c = queue.back();
            queue.pop_back();
            const auto si = static_cast<std::int64_t>(found_.size());
            found_.push_back({c.prev, c.pos, c.idx});
            picked.push_back(si);
            if (picked.size() == k) break;
            sidetracks(c.pos, sides);
            const edge taken = sides[c.idx];
            if (c.heap != empty) {
                const heap_node hn = node(c.heap);
                for (const std::int32_t child : {hn.left, hn.right})
                    if (child != empty) push(c.cost - taken.delta + node(child).key, c.prev, child, node(child).pos, 0);
                if (sides.size() > 1) push(c.cost - taken.delta + sides[1].delta, c.prev, empty, c.pos, 1);
            } else if (c.idx + 1 < sides.size()) {
                push(c.cost - taken.delta + sides[c.idx + 1].delta, c.prev, empty, c.pos, c.idx + 1);
            }
            const std::int32_t h = heap_of(taken.start);
            if (h != empty) push(c.cost + node(h).key, si, h, node(h).pos, 0);
            // Only the `remaining` best candidates can still be popped: drop the rest when
            // the queue has grown well past that.
            const std::size_t remaining = k - picked.size();
            if (queue.size() > 2 * remaining + 1024) {
                std::nth_element(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(remaining), queue.end(), before);
                queue.resize(remaining);
                std::make_heap(queue.begin(), queue.end(), later);
            }
        }
    }

    // D of the class comment, with room for rounding: every path with a sidetrack above it
    // has a computed cost above D, while k paths have costs at most D. Infinity when the
    // Viterbi path has fewer than k - 1 sidetracks. The walk back along the Viterbi path is
    // heap_of(n)'s too: it leaves the marks that heap_of(n) would note.
    double prune_limit(std::size_t k) {
        const std::size_t want = k - 1;
        std::vector<double> smallest;  // a max-heap of the `want` smallest deltas so far
        std::vector<edge> sides;
        limit_ = std::numeric_limits<double>::infinity();
        marks_.clear();
        std::size_t steps = 0;
        for (std::uint32_t x = n_; x > 0; x = tree_start(x), ++steps) {
            if (steps % walk_segment == 0) marks_.push_back(x);
            sidetracks(x, sides);
            for (const edge& e : sides) {
                if (smallest.size() < want) {
                    smallest.push_back(e.delta);
                    std::push_heap(smallest.begin(), smallest.end());
                } else if (e.delta < smallest.front()) {
                    std::pop_heap(smallest.begin(), smallest.end());
                    smallest.back() = e.delta;
                    std::push_heap(smallest.begin(), smallest.end());
                }
            }
        }
        // Other paths differ from Viterbi's in a few places: room for this many ids and a few
        // more spares path_of the doubling of its scratch list.
        scratch_ids_.reserve(steps + 256);
        if (smallest.size() < want) return std::numeric_limits<double>::infinity();
        const double d = smallest.front();
        return d + d * 0x1p-20;
    }

    const heap_node& node(std::int32_t h) const noexcept { return nodes_[static_cast<std::size_t>(h)]; }
    std::int32_t rank(std::int32_t h) const noexcept { return h == empty ? 0 : node(h).rank; }

    bool heap_before(std::int32_t a, std::int32_t b) const noexcept {
        const heap_node& x = node(a);
        const heap_node& y = node(b);
        return x.key < y.key || (x.key == y.key && x.pos > y.pos);
    }

    // Persistent leftist-heap merge: copies only the nodes on the merge path.
    std::int32_t merge(std::int32_t a, std::int32_t b) {
        if (a == empty) return b;
        if (b == empty) return a;
        if (heap_before(b, a)) std::swap(a, b);
        heap_node copy = node(a);
        copy.right = merge(copy.right, b);
        if (rank(copy.left) < rank(copy.right)) std::swap(copy.left, copy.right);
        copy.rank = rank(copy.right) + 1;
        nodes_.push_back(copy);
        return static_cast<std::int32_t>(nodes_.size() - 1);
    }

    // H(v): walks back along the tree to the nearest memoized position, then forward again,
    // adding each position's cheapest sidetrack (if any is below the limit). The walk back
    // notes every walk_segment-th position only; the way forward goes segment by segment,
    // walking each back again, so that a walk over a long text holds walk_segment positions.
    std::int32_t heap_of(std::uint32_t v) {
        if (memoized(v)) return memo_.find(v)->second;
        marks_.clear();
        std::uint32_t x = v;
        for (std::size_t steps = 0; !memoized(x); ++steps) {
            if (steps % walk_segment == 0) marks_.push_back(x);
            x = tree_start(x);
        }
        return build_heap(x);
    }

    // The second half of heap_of: from memoized position x up to marks_[0], segment by
    // segment.
    std::int32_t build_heap(std::uint32_t x) {
        std::int32_t h = memo_.find(x)->second;
        std::vector<edge>& sides = walk_sides_;
        std::size_t added = 0;  // positions passed on the way forward
        for (std::size_t m = marks_.size(); m-- > 0;) {
            walk_.clear();
            for (std::uint32_t y = marks_[m]; y != x; y = tree_start(y)) walk_.push_back(y);
            for (std::size_t i = walk_.size(); i-- > 0;) {
                const std::uint32_t y = walk_[i];
                sidetracks(y, sides);
                const bool adds = !sides.empty();
                if (adds) {
                    nodes_.push_back({sides[0].delta, y, empty, empty, 1});
                    h = merge(h, static_cast<std::int32_t>(nodes_.size() - 1));
                }
                if (adds || ++added % memo_stride == 0 || (m == 0 && i == 0)) remember(y, h);
            }
            x = marks_[m];
        }
        return h;
    }

    bool memoized(std::uint32_t x) const noexcept { return (memo_bits_[x / 64] >> (x % 64)) & 1u; }
    void remember(std::uint32_t x, std::int32_t h) {
        memo_[x] = h;
        memo_bits_[x / 64] |= std::uint64_t{1} << (x % 64);
    }

    // The sidetracks into e below the limit: every edge of e's automaton row but its tree
    // edge, by increasing delta (then decreasing start).
    void sidetracks(std::uint32_t e, std::vector<edge>& out) {
        out.clear();
        const block_slot& b = block_of(e);
        const auto* info = a_.info();
        const std::uint32_t a = chunk_start(e);
        const std::uint32_t tree = e - length_of(winner(b, e));
        for_each_row_piece(a_, b.states[e - 1 - b.scan_from], [&](std::uint32_t offset) {
            const auto& p = automaton::entry(info, offset);
            const std::size_t len = p.length();
            if (len == 0) return;  // padding
            const auto s = static_cast<std::uint32_t>(e - len);
            if (s == tree) return;
            const Score base = s == a ? Score(0) : b.best_at(s, history_);
            const Score through = base + p.score;
            const double delta = static_cast<double>(b.best_at(e, history_)) - static_cast<double>(through);
            if (delta <= limit_) out.push_back({delta, s, offset});
        });
        std::sort(out.begin(), out.end(), [](const edge& x, const edge& y) {
            return x.delta < y.delta || (x.delta == y.delta && x.start > y.start);
        });
    }

    std::uint32_t tree_start(std::uint32_t e) { return e - length_of(winner(block_of(e), e)); }

    static std::uint64_t winner(const block_slot& b, std::uint32_t e) noexcept {
        return b.winners[e - 1 - b.first];
    }

    // The start of the chunk that holds byte e - 1 (edges into e start there or later).
    std::uint32_t chunk_start(std::uint32_t e) const noexcept {
        return *(std::upper_bound(chunk_starts_.begin(), chunk_starts_.end(), e - 1) - 1);
    }

    // The block of position e (e >= 1), loaded into the least recently used slot if needed.
    const block_slot& block_of(std::uint32_t e) {
        const std::size_t j = (std::size_t{e} - 1) / block_size_;
        block_slot* victim = &slots_[0];
        for (block_slot& s : slots_) {
            if (s.index == j) {
                s.used = ++clock_;
                return s;
            }
            if (s.used < victim->used) victim = &s;
        }
        return load_block(j, false, victim);
    }

    // Block j: Viterbi over its positions from its checkpoint (best[] at the history
    // positions up to its start), as encode runs it (the first candidate in row order,
    // longest first, with a strictly greater score; sums restarted at each chunk start). On
    // the first pass it also writes the next block's checkpoint; afterwards it recomputes the
    // same values from the same checkpoint, bit for bit. The scan starts history bytes early
    // (or at the chunk start): the state after a byte is the longest piece prefix ending
    // there, so it depends on no earlier byte.
    block_slot& load_block(std::size_t j, bool first_pass, block_slot* slot = nullptr) {
        if (!slot) {
            slot = &slots_[0];
            for (block_slot& s : slots_)
                if (s.used < slot->used) slot = &s;
        }
        const std::size_t bs = j * block_size_, be = std::min<std::size_t>(bs + block_size_, n_);
        auto chunk = std::upper_bound(chunk_starts_.begin(), chunk_starts_.end(), static_cast<std::uint32_t>(bs)) - 1;
        const std::size_t from = std::max<std::size_t>(*chunk, bs >= history_ ? bs - history_ : 0);
        bounds_.assign(1, 0);
        for (auto c = chunk + 1; c != chunk_starts_.end() && *c < be; ++c) bounds_.push_back(static_cast<std::uint32_t>(*c - from));
        bounds_.push_back(static_cast<std::uint32_t>(be - from));
        slot->index = j;
        slot->used = ++clock_;
        slot->first = bs;
        slot->scan_from = from;
        slot->states.resize(be - from);
        slot->winners.resize(be - bs);
        slot->best.resize(history_ + block_size_ + 1);
        a_.scan(reinterpret_cast<const unsigned char*>(text_.data()) + from, bounds_.data(), bounds_.size() - 1,
                slot->states.data());
        Score* best = slot->best.data();  // best[e + history - bs] for e in [bs - history, be]
        const std::size_t shift = history_ - bs;  // wraps, and wraps back when added to e
        std::copy_n(checkpoints_.data() + j * (history_ + 1), history_ + 1, slot->best.data());
        const auto* info = a_.info();
        for (std::size_t e = bs + 1; e <= be; ++e) {
            // Rows are scattered over the table: fetch a few positions ahead, as encode does.
            if (e + row_prefetch <= be) prefetch(a_.row(slot->states[e - 1 + row_prefetch - from]));
            while (chunk + 1 != chunk_starts_.end() && *(chunk + 1) < e) ++chunk;
            const std::size_t a = *chunk;
            Score top = -std::numeric_limits<Score>::infinity();
            std::uint64_t win = 0;
            for_each_row_piece(a_, slot->states[e - 1 - from], [&](std::uint32_t offset) {
                const auto& p = automaton::entry(info, offset);
                const std::size_t len = p.length();
                if (len == 0) return;  // padding
                const Score base = e - len == a ? Score(0) : best[e - len + shift];
                const Score through = base + p.score;
                if (through > top) {
                    top = through;
                    win = offset | static_cast<std::uint64_t>(len) << 32;
                }
            });
            best[e + shift] = top;
            slot->winners[e - 1 - bs] = win;
        }
        if (first_pass && be < n_)
            std::copy_n(slot->best.data() + (be - bs), history_ + 1, checkpoints_.data() + (j + 1) * (history_ + 1));
        return *slot;
    }

    // Path `si` (an index into found_, or -1 for Viterbi) in text order, with its score.
    void path_of(std::int64_t si, scored_segmentation<Id>& out) {
        chain_.clear();  // sidetracks, nearest the start first
        for (std::int64_t x = si; x >= 0; x = found_[static_cast<std::size_t>(x)].prev) chain_.push_back(x);
        // Last piece first into scratch, then copied reversed into an exactly sized list.
        std::vector<Id>& ids = scratch_ids_;
        ids.clear();
        std::vector<edge>& sides = walk_sides_;
        const auto* info = a_.info();
        std::size_t c = chain_.size();
        // The next sidetrack's position (0: none left), and the block in hand: positions
        // (first, last] are block b's.
        const auto next_side = [&] { return c > 0 ? found_[static_cast<std::size_t>(chain_[c - 1])].pos : 0u; };
        std::uint32_t side_at = next_side();
        const block_slot* b = nullptr;
        std::size_t first = 0, last = 0;
        for (std::uint32_t p = n_; p > 0;) {
            if (p == side_at) {
                sidetracks(p, sides);
                const std::uint32_t offset = sides[found_[static_cast<std::size_t>(chain_[c - 1])].idx].entry;
                ids.push_back(static_cast<Id>(automaton::id_of(offset)));
                p -= static_cast<std::uint32_t>(automaton::entry(info, offset).length());
                --c;
                side_at = next_side();
                b = nullptr;  // sidetracks() may have loaded another block into b's slot
                continue;
            }
            if (!b || p <= first || p > last) {
                b = &block_of(p);
                first = b->first;
                last = first + block_size_;
            }
            const std::uint64_t w = b->winners[p - 1 - first];
            ids.push_back(static_cast<Id>(automaton::id_of(entry_of(w))));
            p -= length_of(w);
        }
        out.ids.assign(ids.rbegin(), ids.rend());
        out.score = 0;
        for (const Id id : out.ids) out.score += static_cast<double>(tok_.model().score(id));
    }

    const basic_tokenizer<Score, Id>& tok_;
    const automaton& a_;
    std::string_view text_;
    std::uint32_t n_;
    std::size_t history_ = 0;                  // max_piece_length - 1: how far back a block looks
    std::size_t block_size_ = min_block_size;  // positions per block
    std::vector<std::uint32_t> chunk_starts_;  // increasing; the first is 0
    // Per block, Viterbi's best[] (restarted at 0 at each chunk start) at the history + 1
    // positions up to the block's start: all a block needs to be recomputed.
    std::vector<Score> checkpoints_;
    block_slot slots_[block_slots];
    std::uint64_t clock_ = 0;
    std::vector<std::uint32_t> bounds_;
    double limit_ = std::numeric_limits<double>::infinity();  // sidetracks above it are left out
    std::vector<heap_node> nodes_;
    std::unordered_map<std::uint32_t, std::int32_t> memo_;  // H(v) where known
    std::vector<std::uint64_t> memo_bits_;                  // which positions memo_ holds
    std::vector<std::uint32_t> marks_;
    std::vector<std::uint32_t> walk_;
    std::vector<edge> walk_sides_;
    std::vector<found_path> found_;
    std::vector<std::int64_t> chain_;
    std::vector<Id> scratch_ids_;
};

// The text nbest works on (normalized as encode does), after checking k and its length.
template <class Score, class Id>
std::string_view nbest_text(const basic_tokenizer<Score, Id>& tok, std::string_view text, std::size_t k,
                            std::string& storage) {
    if (k == 0) BYTEPIECE_THROW(argument_error(errc::invalid_argument, "nbest: k must be at least 1"));
    const std::string_view normalized = tok.normalized_view(text, storage);
    if (normalized.size() >= std::numeric_limits<std::uint32_t>::max())
        BYTEPIECE_THROW(argument_error(errc::invalid_argument, "nbest: the text must be shorter than 4 GiB"));
    return normalized;
}

}  // namespace detail

/// `nbest_segmentations` (below), but calls `f(scored_segmentation<Id>& s)` with each
/// segmentation in turn, best first, instead of collecting them (`s` may be moved from), and
/// returns how many there were. Memory: a few blocks of 65,536 positions of scratch (about
/// 1.3 MB each) and a bit per byte of text, however long the text, plus about 150 bytes per
/// segmentation asked for, however long they are: k = 1,000,000 on a 5,000-byte line takes
/// some 150 MB rather than k full id lists. The segmentations come out once all k are found
/// (they are put in order first), each rebuilt from its few differences from `encode`'s.
/// Cost: O(bytes) for Viterbi and a pass over its path, then per segmentation O(log k) to
/// find it and O(its length) to write it.
///
/// Example: `bytepiece::for_each_nbest(tok, line, 10, [&](auto& s) { std::cout << s.score << "\n"; });`
template <class Score, class Id, class F>
std::size_t for_each_nbest(const basic_tokenizer<Score, Id>& tok, std::string_view text, std::size_t k, F&& f) {
    std::string storage;
    const std::string_view normalized = detail::nbest_text(tok, text, k, storage);
    if (normalized.empty()) {
        scored_segmentation<Id> none;
        f(none);
        return 1;
    }
    return detail::nbest_search<Score, Id>(tok, normalized).run(k, f);
}

/// The `k` highest-scoring segmentations of `text` (normalized and chunked as `encode` does),
/// exactly and best first, each with its score (sum of piece scores). Over several chunks,
/// these are the k best combinations of per-chunk segmentations. The first is `encode`'s
/// segmentation; equal scores come in an unspecified but deterministic order. Returns fewer
/// than k when the text has fewer segmentations (one, with no ids, for an empty text). Throws
/// `argument_error` if k is 0 or the text is 4 GiB or longer. The result holds k full
/// segmentations; to write them out one at a time instead, use `for_each_nbest`.
///
/// Example: `auto best = bytepiece::nbest_segmentations(tok, "banana", 3);`
template <class Score, class Id>
std::vector<scored_segmentation<Id>> nbest_segmentations(const basic_tokenizer<Score, Id>& tok, std::string_view text,
                                                         std::size_t k) {
    std::string storage;
    const std::string_view normalized = detail::nbest_text(tok, text, k, storage);
    if (normalized.empty()) return {scored_segmentation<Id>{}};
    return detail::nbest_search<Score, Id>(tok, normalized).collect(k);
}

BYTEPIECE_NAMESPACE_END
