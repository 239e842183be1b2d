// SPDX-License-Identifier: Apache-2.0
//
// Sampling, n-best, entropy and the partition function over SentencePiece's lattice, for
// basic_sentencepiece_tokenizer (included at the end of sentencepiece_tokenizer.hpp).
// SentencePiece's own sampler sums in float; these sum in double over the same lattice, so
// that probabilities are exact to double rounding.
#pragma once

#include "bytepiece/sentencepiece_tokenizer.hpp"

BYTEPIECE_NAMESPACE_BEGIN

// The lattice as SentencePiece builds it: nodes start at character starts only; a node per
// matchable piece that is a prefix there (ending at a character end, as `encode` scores only
// those); an unknown node spanning the character when no piece is exactly that character.
// Scores are `encode`'s: a NORMAL piece its score, a user-defined symbol its key length times
// the highest NORMAL score minus 0.1, an unknown character the lowest NORMAL score minus 10.
template <class Id>
void basic_sentencepiece_tokenizer<Id>::build_lattice(std::string_view text, lattice& l) const {
    normalizer_.normalize(text, l.text);
    const std::size_t n = l.text.size();
    if (n >= (std::size_t{1} << 31))
        BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                       "sentencepiece_tokenizer: a text of 2 GiB or more after normalization"));
    const auto* bytes = reinterpret_cast<const unsigned char*>(l.text.data());
    const std::size_t vocab = model_.pieces.size();
    std::vector<bool> is_end(n + 1, false);
    l.ends.clear();
    std::vector<std::uint32_t> starts;
    for (std::size_t p = 0; p < n;) {
        starts.push_back(static_cast<std::uint32_t>(p));
        p += std::min(char_length(bytes[p]), n - p);
        is_end[p] = true;
        l.ends.push_back(static_cast<std::uint32_t>(p));
    }
    std::vector<lattice_node> found;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const std::uint32_t p = starts[i];
        const std::uint32_t char_end = l.ends[i];
        bool single = false;
        trie_.common_prefix_search(bytes + p, n - p, [&](std::size_t len, std::int32_t v) {
            const auto id = static_cast<std::size_t>(v);
            if (id >= vocab || !is_end[p + len]) return;
            if (p + len == char_end) single = true;
            const auto& piece = model_.pieces[id];
            const double score = piece.type == piece_type::user_defined
                                     ? static_cast<double>(static_cast<float>(len) * max_score_) - 0.1
                                     : static_cast<double>(piece.score);
            found.push_back({p, static_cast<std::uint32_t>(p + len), static_cast<std::uint32_t>(id), score});
        });
        if (!single) found.push_back({p, char_end, static_cast<std::uint32_t>(vocab), static_cast<double>(unknown_score_)});
    }
    // Counting sort by end, keeping the order of starts within an end (earliest start first).
    l.first.assign(n + 2, 0);
    for (const auto& node : found) ++l.first[node.end + 1];
    for (std::size_t e = 1; e < l.first.size(); ++e) l.first[e] += l.first[e - 1];
    l.nodes.resize(found.size());
    std::vector<std::uint32_t> next(l.first.begin(), l.first.end() - 1);
    for (const auto& node : found) l.nodes[next[node.end]++] = node;
}

template <class Id>
double basic_sentencepiece_tokenizer<Id>::check_alpha(double alpha, const char* who) {
    if (!(alpha >= 0) || !std::isfinite(alpha))
        BYTEPIECE_THROW(argument_error(errc::invalid_argument, std::string("sentencepiece_tokenizer::") + who +
                                                                   ": alpha must be finite and >= 0, got " +
                                                                   std::to_string(alpha)));
    return alpha;
}

// log_sum[e] = log of the sum over the paths from 0 to character end e of exp(alpha * score).
template <class Id>
std::vector<double> basic_sentencepiece_tokenizer<Id>::forward(const lattice& l, double alpha, const char* who) const {
    const std::size_t n = l.text.size();
    std::vector<double> log_sum(n + 1, -std::numeric_limits<double>::infinity());
    log_sum[0] = 0;
    for (const std::uint32_t e : l.ends) {
        // Max first, so that no term overflows and the largest contributes exactly.
        double top = -std::numeric_limits<double>::infinity();
        for (std::uint32_t i = l.first[e]; i < l.first[e + 1]; ++i)
            top = std::max(top, log_sum[l.nodes[i].begin] + alpha * l.nodes[i].score);
        if (top == -std::numeric_limits<double>::infinity()) continue;  // unreachable: reported below
        double sum = 0;
        for (std::uint32_t i = l.first[e]; i < l.first[e + 1]; ++i)
            sum += std::exp(log_sum[l.nodes[i].begin] + alpha * l.nodes[i].score - top);
        log_sum[e] = top + std::log(sum);
    }
    if (!std::isfinite(log_sum[n]))
        BYTEPIECE_THROW(argument_error(errc::invalid_argument, std::string("sentencepiece_tokenizer::") + who +
                                                                   ": alpha " + std::to_string(alpha) +
                                                                   " times the piece scores overflows a double"));
    return log_sum;
}

// The ids of a path given as node indexes, last node first, with `encode`'s unknown rules.
template <class Id>
auto basic_sentencepiece_tokenizer<Id>::path_ids(const lattice& l, const std::vector<std::uint32_t>& reversed_nodes) const
    -> std::vector<id_type> {
    const std::size_t vocab = model_.pieces.size();
    std::vector<id_type> ids;
    bool in_unknown = false;
    for (std::size_t i = reversed_nodes.size(); i-- > 0;) {
        const lattice_node& node = l.nodes[reversed_nodes[i]];
        if (node.id < vocab) {
            ids.push_back(static_cast<id_type>(node.id));
            in_unknown = false;
        } else if (byte_fallback_) {
            for (std::uint32_t b = node.begin; b < node.end; ++b)
                ids.push_back(static_cast<id_type>(byte_ids_[static_cast<unsigned char>(l.text[b])]));
        } else if (!in_unknown) {
            ids.push_back(unk_id_);
            in_unknown = true;
        }
    }
    return ids;
}

template <class Id>
template <class URBG, detail::enable_if_generator_t<URBG>>
auto basic_sentencepiece_tokenizer<Id>::sample(std::string_view text, double alpha, URBG& g) const
    -> std::vector<id_type> {
    check_alpha(alpha, "sample");
    lattice l;
    build_lattice(text, l);
    const std::vector<double> log_sum = forward(l, alpha, "sample");
    std::vector<std::uint32_t> path;
    for (std::uint32_t e = static_cast<std::uint32_t>(l.text.size()); e > 0;) {
        // Node i ends the path at e with probability exp(log_sum[begin] + alpha * score - log_sum[e]).
        const double u = uniform_double(g);
        double cumulative = 0;
        std::uint32_t chosen = l.first[e + 1] - 1;  // rounding can leave u above the total
        for (std::uint32_t i = l.first[e]; i < l.first[e + 1]; ++i) {
            cumulative += std::exp(log_sum[l.nodes[i].begin] + alpha * l.nodes[i].score - log_sum[e]);
            if (u < cumulative) {
                chosen = i;
                break;
            }
        }
        path.push_back(chosen);
        e = l.nodes[chosen].begin;
    }
    return path_ids(l, path);
}

template <class Id>
double basic_sentencepiece_tokenizer<Id>::log_partition(std::string_view text, double alpha) const {
    check_alpha(alpha, "log_partition");
    lattice l;
    build_lattice(text, l);
    return forward(l, alpha, "log_partition")[l.text.size()];
}

template <class Id>
double basic_sentencepiece_tokenizer<Id>::entropy(std::string_view text, double alpha) const {
    check_alpha(alpha, "entropy");
    lattice l;
    build_lattice(text, l);
    const std::vector<double> log_sum = forward(l, alpha, "entropy");
    // h[e]: entropy of the path from 0 to e given that it passes e. Choosing the last node i
    // (log-probability q) then the rest: h[e] = sum p_i (h[begin_i] - q_i). Every term is
    // non-negative, so nothing cancels.
    std::vector<double> h(l.text.size() + 1, 0);
    for (const std::uint32_t e : l.ends) {
        double sum = 0;
        for (std::uint32_t i = l.first[e]; i < l.first[e + 1]; ++i) {
            const double q = log_sum[l.nodes[i].begin] + alpha * l.nodes[i].score - log_sum[e];
            sum += std::exp(q) * (h[l.nodes[i].begin] - q);
        }
        h[e] = sum;
    }
    return h[l.text.size()];
}

template <class Id>
auto basic_sentencepiece_tokenizer<Id>::nbest(std::string_view text, std::size_t k) const
    -> std::vector<scored_segmentation> {
    std::vector<scored_segmentation> out;
    if (k == 0) return out;
    lattice l;
    build_lattice(text, l);
    const std::size_t n = l.text.size();
    // best[e]: up to k best paths from 0 to e, best first: score, last node, rank of the rest
    // in best[begin]. Candidates at e are ordered by score, then earlier begin (longer last
    // piece), then rank: each best[begin] is sorted, so a merge of the node lists is exact.
    struct entry {
        double score;
        std::uint32_t node, rank;
    };
    std::vector<std::vector<entry>> best(n + 1);
    best[0].push_back({0, 0, 0});
    std::vector<entry> candidates;
    for (const std::uint32_t e : l.ends) {
        candidates.clear();
        for (std::uint32_t i = l.first[e]; i < l.first[e + 1]; ++i) {
            const auto& before = best[l.nodes[i].begin];
            for (std::uint32_t r = 0; r < before.size(); ++r)
                candidates.push_back({before[r].score + l.nodes[i].score, i, r});
        }
        const auto better = [&](const entry& a, const entry& b) {
            if (a.score != b.score) return a.score > b.score;
            if (l.nodes[a.node].begin != l.nodes[b.node].begin) return l.nodes[a.node].begin < l.nodes[b.node].begin;
            if (a.node != b.node) return a.node < b.node;
            return a.rank < b.rank;
        };
        const std::size_t keep = std::min(k, candidates.size());
        std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(),
                          better);
        best[e].assign(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep));
    }
    std::vector<std::uint32_t> path;
    for (const entry& top : best[n]) {
        if (n == 0) {
            out.push_back({{}, 0});
            break;
        }
        path.clear();
        entry at = top;
        for (;;) {
            path.push_back(at.node);
            const std::uint32_t begin = l.nodes[at.node].begin;
            if (begin == 0) break;
            at = best[begin][at.rank];
        }
        out.push_back({path_ids(l, path), top.score});
    }
    return out;
}

BYTEPIECE_NAMESPACE_END
