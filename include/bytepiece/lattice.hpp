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
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
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

// The k best paths of the text's lattice, by Eppstein's algorithm on the shortest-path tree
// of forward Viterbi. Every path is the Viterbi path plus a set of "sidetracks" (edges not on
// the tree), each costing delta = best[e] - (best[s] + score) >= 0. The sidetracks that can
// still be taken walking back from position v form a heap H(v) = H(parent(v)) plus v's own,
// kept as persistent leftist heaps (each H(v) shares all but O(log n) nodes with its parent's),
// built lazily along the tree paths that the search actually reaches. The search pops paths
// in increasing total delta; each pop pushes at most four successors, so k paths cost
// O(edges + (k + reached tree depth) log) after one Viterbi pass.
template <class Score, class Id>
class nbest_search {
public:
    nbest_search(const basic_tokenizer<Score, Id>& tok, std::string_view text) : tok_(tok), text_(text) {}

    std::vector<scored_segmentation<Id>> run(std::size_t k) {
        viterbi_and_edges();
        root_.assign(text_.size() + 1, unknown);
        root_[0] = empty;
        const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
        std::vector<std::int64_t> found{-1};  // the Viterbi path itself
        using entry = std::pair<double, std::int64_t>;
        std::vector<entry> queue;  // min-heap on (cost, state)
        const auto push = [&](double cost, std::int64_t prev, std::int32_t heap, std::uint32_t pos, std::uint32_t idx) {
            states_.push_back({prev, heap, pos, idx});
            queue.emplace_back(cost, static_cast<std::int64_t>(states_.size() - 1));
            std::push_heap(queue.begin(), queue.end(), std::greater<>());
        };
        if (k > 1) {
            const std::int32_t h = heap_of(n);
            if (h != empty) push(nodes_[static_cast<std::size_t>(h)].key, -1, h, nodes_[static_cast<std::size_t>(h)].pos, 0);
        }
        while (found.size() < k && !queue.empty()) {
            std::pop_heap(queue.begin(), queue.end(), std::greater<>());
            const auto [cost, si] = queue.back();
            queue.pop_back();
            found.push_back(si);
            const state st = states_[static_cast<std::size_t>(si)];
            const edge& taken = side(st.pos, st.idx);
            if (st.heap != empty) {
                const heap_node hn = nodes_[static_cast<std::size_t>(st.heap)];
                for (const std::int32_t child : {hn.left, hn.right})
                    if (child != empty)
                        push(cost - taken.delta + nodes_[static_cast<std::size_t>(child)].key, st.prev, child,
                             nodes_[static_cast<std::size_t>(child)].pos, 0);
                if (side_count(st.pos) > 1) push(cost - taken.delta + side(st.pos, 1).delta, st.prev, empty, st.pos, 1);
            } else if (st.idx + 1 < side_count(st.pos)) {
                push(cost - taken.delta + side(st.pos, st.idx + 1).delta, st.prev, empty, st.pos, st.idx + 1);
            }
            const std::int32_t h = heap_of(taken.start);
            if (h != empty) push(cost + nodes_[static_cast<std::size_t>(h)].key, si, h, nodes_[static_cast<std::size_t>(h)].pos, 0);
        }
        std::vector<scored_segmentation<Id>> out;
        out.reserve(found.size());
        for (const std::int64_t si : found) out.push_back(path_of(si));
        // Order by the scores as reported (sums in text order), so "best first" holds to the bit.
        std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
        return out;
    }

private:
    static constexpr std::int32_t unknown = -2;
    static constexpr std::int32_t empty = -1;

    struct edge {
        std::uint32_t start;
        std::int32_t id;
        double delta;
    };
    struct heap_node {
        double key;
        std::uint32_t pos;  // the position whose cheapest sidetrack this node stands for
        std::int32_t left, right, rank;
    };
    struct state {
        std::int64_t prev;  // the state whose sidetracks precede this one's (closer to the end)
        std::int32_t heap;  // heap node, or empty for the idx-th sidetrack of pos
        std::uint32_t pos;
        std::uint32_t idx;
    };

    // Viterbi exactly as encode runs it (per chunk from 0, edges by start then length, strict
    // improvement), so the best path is encode's; every edge is recorded, grouped by end.
    void viterbi_and_edges() {
        const std::size_t n = text_.size();
        const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
        const Score* scores = tok_.model().scores();
        const Score neg_inf = -std::numeric_limits<Score>::infinity();
        best_.assign(n + 1, neg_inf);
        back_start_.assign(n + 1, 0);
        back_id_.assign(n + 1, 0);
        std::vector<std::pair<std::uint32_t, edge>> raw;  // (end, edge)
        for_each_chunk(text_, [&](std::string_view c) {
            const std::size_t a = static_cast<std::size_t>(c.data() - text_.data()), b = a + c.size();
            for (std::size_t s = a; s < b; ++s) {
                const Score base = s == a ? Score(0) : best_[s];
                tok_.trie().common_prefix_search(bytes + s, b - s, [&](std::size_t len, std::int32_t id) {
                    const std::size_t e = s + len;
                    const Score candidate = base + scores[id];
                    if (candidate > best_[e]) {
                        best_[e] = candidate;
                        back_start_[e] = static_cast<std::uint32_t>(s);
                        back_id_[e] = id;
                    }
                    raw.push_back({static_cast<std::uint32_t>(e), {static_cast<std::uint32_t>(s), id, 0.0}});
                });
            }
            for (std::size_t e = a + 1; e <= b; ++e) chunk_start_of_end_.emplace_back(static_cast<std::uint32_t>(a));
        });
        // Group by end (counting sort), then put the tree edge first and the sidetracks after
        // it in increasing delta.
        offsets_.assign(n + 2, 0);
        for (const auto& r : raw) ++offsets_[r.first + 1];
        for (std::size_t e = 1; e < offsets_.size(); ++e) offsets_[e] += offsets_[e - 1];
        edges_.resize(raw.size());
        {
            std::vector<std::size_t> fill(offsets_.begin(), offsets_.end() - 1);
            for (const auto& r : raw) edges_[fill[r.first]++] = r.second;
        }
        for (std::size_t e = 1; e <= n; ++e) {
            const std::uint32_t a = chunk_start_of_end_[e - 1];
            edge* first = edges_.data() + offsets_[e];
            edge* last = edges_.data() + offsets_[e + 1];
            for (edge* x = first; x != last; ++x) {
                const Score base = x->start == a ? Score(0) : best_[x->start];
                const Score candidate = base + scores[x->id];
                x->delta = static_cast<double>(best_[e]) - static_cast<double>(candidate);
                if (x->start == back_start_[e]) std::swap(*x, *first);
            }
            std::sort(first + 1, last, [](const edge& x, const edge& y) {
                return x.delta < y.delta || (x.delta == y.delta && x.start > y.start);
            });
        }
    }

    std::uint32_t side_count(std::uint32_t e) const noexcept {
        return static_cast<std::uint32_t>(offsets_[e + 1] - offsets_[e] - 1);
    }
    const edge& side(std::uint32_t e, std::uint32_t i) const noexcept { return edges_[offsets_[e] + 1 + i]; }

    std::int32_t rank(std::int32_t h) const noexcept { return h == empty ? 0 : nodes_[static_cast<std::size_t>(h)].rank; }

    bool before(std::int32_t a, std::int32_t b) const noexcept {
        const heap_node& x = nodes_[static_cast<std::size_t>(a)];
        const heap_node& y = nodes_[static_cast<std::size_t>(b)];
        return x.key < y.key || (x.key == y.key && x.pos > y.pos);
    }

    // Persistent leftist-heap merge: copies only the nodes on the merge path.
    std::int32_t merge(std::int32_t a, std::int32_t b) {
        if (a == empty) return b;
        if (b == empty) return a;
        if (before(b, a)) std::swap(a, b);
        heap_node copy = nodes_[static_cast<std::size_t>(a)];
        copy.right = merge(copy.right, b);
        if (rank(copy.left) < rank(copy.right)) std::swap(copy.left, copy.right);
        copy.rank = rank(copy.right) + 1;
        nodes_.push_back(copy);
        return static_cast<std::int32_t>(nodes_.size() - 1);
    }

    // H(v), built on first use from the nearest ancestor already built.
    std::int32_t heap_of(std::uint32_t v) {
        if (root_[v] != unknown) return root_[v];
        path_.clear();
        for (std::uint32_t x = v; root_[x] == unknown; x = back_start_[x]) path_.push_back(x);
        for (std::size_t i = path_.size(); i-- > 0;) {
            const std::uint32_t x = path_[i];
            std::int32_t h = root_[back_start_[x]];
            if (side_count(x) > 0) {
                nodes_.push_back({side(x, 0).delta, x, empty, empty, 1});
                h = merge(h, static_cast<std::int32_t>(nodes_.size() - 1));
            }
            root_[x] = h;
        }
        return root_[v];
    }

    scored_segmentation<Id> path_of(std::int64_t si) const {
        chain_.clear();  // sidetracks, nearest the start first
        for (std::int64_t x = si; x >= 0; x = states_[static_cast<std::size_t>(x)].prev) chain_.push_back(x);
        scored_segmentation<Id> out;
        std::size_t c = chain_.size();
        for (std::uint32_t p = static_cast<std::uint32_t>(text_.size()); p > 0;) {
            if (c > 0 && states_[static_cast<std::size_t>(chain_[c - 1])].pos == p) {
                const state& st = states_[static_cast<std::size_t>(chain_[c - 1])];
                const edge& e = side(st.pos, st.idx);
                out.ids.push_back(static_cast<Id>(e.id));
                p = e.start;
                --c;
            } else {
                out.ids.push_back(static_cast<Id>(back_id_[p]));
                p = back_start_[p];
            }
        }
        std::reverse(out.ids.begin(), out.ids.end());
        for (const Id id : out.ids) out.score += static_cast<double>(tok_.model().score(id));
        return out;
    }

    const basic_tokenizer<Score, Id>& tok_;
    std::string_view text_;
    std::vector<Score> best_;
    std::vector<std::uint32_t> back_start_;
    std::vector<std::int32_t> back_id_;
    std::vector<std::uint32_t> chunk_start_of_end_;  // [e - 1]: start of the chunk that ends edges at e
    std::vector<std::size_t> offsets_;               // edges_ ending at e: [offsets_[e], offsets_[e+1])
    std::vector<edge> edges_;
    std::vector<heap_node> nodes_;
    std::vector<std::int32_t> root_;
    std::vector<std::uint32_t> path_;
    std::vector<state> states_;
    mutable std::vector<std::int64_t> chain_;
};

}  // namespace detail

/// The `k` highest-scoring segmentations of `text` (normalized and chunked as `encode` does),
/// exactly and best first, each with its score (sum of piece scores). Over several chunks,
/// these are the k best combinations of per-chunk segmentations. The first is `encode`'s
/// segmentation; equal scores come in an unspecified but deterministic order. Returns fewer
/// than k when the text has fewer segmentations (one, with no ids, for an empty text). Throws
/// `argument_error` if k is 0 or the text is 4 GiB or longer. Cost: one Viterbi pass that
/// keeps every lattice edge (about 12 bytes per edge), then O(k log k) plus lazily built heaps.
///
/// Example: `auto best = bytepiece::nbest_segmentations(tok, "banana", 3);`
template <class Score, class Id>
std::vector<scored_segmentation<Id>> nbest_segmentations(const basic_tokenizer<Score, Id>& tok, std::string_view text,
                                                         std::size_t k) {
    if (k == 0) BYTEPIECE_THROW(argument_error(errc::invalid_argument, "nbest: k must be at least 1"));
    std::string storage;
    const std::string_view normalized = tok.normalized_view(text, storage);
    if (normalized.size() >= std::numeric_limits<std::uint32_t>::max())
        BYTEPIECE_THROW(argument_error(errc::invalid_argument, "nbest: the text must be shorter than 4 GiB"));
    if (normalized.empty()) return {scored_segmentation<Id>{}};
    return detail::nbest_search<Score, Id>(tok, normalized).run(k);
}

BYTEPIECE_NAMESPACE_END
