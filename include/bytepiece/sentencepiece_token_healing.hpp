// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/errors.hpp"
#include "bytepiece/sentencepiece_tokenizer.hpp"
#include "bytepiece/token_healing.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// Token healing for a SentencePiece unigram tokenizer, in its normalized domain (U+2581 for
/// spaces, the model's character map applied), with the prefix-constrained candidates.
///
/// The rule is BytePiece's (see `basic_token_healer`) with SentencePiece's differences:
/// - The text healed is t', the normalized prompt as a continuation would see it: the
///   normalized text of `prompt + "a"` without its final "a". It differs from the prompt's
///   own normalized text t when the normalizer drops trailing whitespace
///   (`remove_extra_whitespaces`): then t' = t + U+2581, because any continuation that does
///   not start with whitespace gets one U+2581 there. An empty prompt gives t' = the dummy
///   prefix (U+2581) when the model adds one. If t is not a prefix of t', or the probe "a"
///   does not survive normalization, the rule is not defined and `heal` throws
///   `argument_error` `heal_undefined`; so do models that treat whitespace as a suffix (their
///   normalizer appends U+2581 at the end of every text, which a continuation would move).
/// - SentencePiece's lattice is not chunked and its positions are characters: p* is the
///   first character start p of t' (at most the longest piece back) from which a NORMAL or
///   USER_DEFINED piece starts with t'[p, n') and is longer than it.
/// - The cut b is the largest boundary of the prompt's segmentation (`encode(prompt)`, over t)
///   at or before p* that is a character start (byte-fallback pieces split characters).
/// - `ids` are the pieces before b, `removed_ids` the rest, `remainder` = t'[b, n'), which may
///   end with the U+2581 that t lacks. Candidates are the NORMAL and USER_DEFINED pieces,
///   spelled as the model spells them (U+2581 for spaces); unknown and byte pieces never are.
///
/// The healer refers to `sp`, which must outlive it.
template <class Id = std::uint32_t>
class basic_sentencepiece_token_healer {
public:
    using tokenizer_type = basic_sentencepiece_tokenizer<Id>;
    using id_type = Id;
    using healed_type = basic_healed_prompt<Id>;

    /// Builds the candidate index over `sp`'s NORMAL and USER_DEFINED pieces.
    ///
    /// Example: `bytepiece::sentencepiece_token_healer healer(sp);`
    explicit basic_sentencepiece_token_healer(const tokenizer_type& sp) : sp_(&sp), index_(pieces_of(sp), sp.vocab_size()) {}

    /// Heals `prompt` by the rule in the class comment. Throws `argument_error`
    /// `heal_undefined` where the rule is not defined.
    ///
    /// Example: `auto h = healer.heal("The weather in Ber");`
    healed_type heal(std::string_view prompt) const {
        const auto& m = sp_->model();
        if (m.trainer.treat_whitespace_as_suffix)
            BYTEPIECE_THROW(argument_error(errc::heal_undefined,
                                           "sentencepiece_token_healer: the model treats whitespace as a suffix, so the "
                                           "end of a prompt is not defined in its normalized text"));
        const std::string t = sp_->normalize(prompt);
        std::string probe(prompt);
        probe += 'a';
        std::string extended = sp_->normalize(probe);
        if (extended.empty() || extended.back() != 'a' || extended.compare(0, t.size(), t) != 0)
            BYTEPIECE_THROW(argument_error(errc::heal_undefined,
                                           "sentencepiece_token_healer: the normalizer changes the prompt's end when text "
                                           "follows it, so the rule is not defined for this prompt"));
        extended.pop_back();
        const std::string_view te = extended;

        // The prompt's segmentation over t: pieces are spans of t, a byte-fallback piece one byte.
        const std::vector<id_type> ids = sp_->encode(prompt);
        const std::vector<std::string> spans = sp_->tokenize(prompt);
        const std::size_t p_star = unsafe_from(te);
        healed_type out;
        std::size_t pos = 0, keep = 0, kept_bytes = 0;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const bool byte = m.pieces[static_cast<std::size_t>(ids[i])].type == sentencepiece_model::piece_type::byte;
            pos += byte ? 1 : spans[i].size();
            if (pos > p_star) break;
            if (pos == t.size() || is_char_start(te, pos)) {
                keep = i + 1;
                kept_bytes = pos;
            }
        }
        out.ids.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(keep));
        out.removed_ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(keep), ids.end());
        out.kept_bytes = kept_bytes;
        out.remainder.assign(te.substr(kept_bytes));
        return out;
    }

    /// The position p* of the rule in a normalized text `t` (what the continuation sees):
    /// `t.size()` if no piece can run past its end.
    ///
    /// Example: `healer.unsafe_from("\xE2\x96\x81Ber")`
    std::size_t unsafe_from(std::string_view t) const {
        const std::size_t n = t.size();
        const std::size_t limit = index_.max_piece_bytes();
        for (std::size_t p = n >= limit ? n - limit + 1 : 0; p < n; ++p)
            if (is_char_start(t, p) && index_.extends_past(t.substr(p))) return p;
        return n;
    }

    /// The ids of the pieces that start with `r`, increasing.
    ///
    /// Example: `healer.starting_with(h.remainder)`
    std::vector<id_type> starting_with(std::string_view r) const { return index_.starting_with(r); }

    /// The ids of the pieces that are a prefix of `r`, increasing.
    ///
    /// Example: `healer.prefixes_of(h.remainder)`
    std::vector<id_type> prefixes_of(std::string_view r) const { return index_.prefixes_of(r); }

    /// The candidate index, for masks and callbacks.
    ///
    /// Example: `healer.index().starting_with_mask(h.remainder, mask);`
    const basic_piece_prefix_index<Id>& index() const noexcept { return index_; }

private:
    static std::vector<std::pair<std::string_view, id_type>> pieces_of(const tokenizer_type& sp) {
        std::vector<std::pair<std::string_view, id_type>> out;
        const auto& pieces = sp.model().pieces;
        for (std::size_t id = 0; id < pieces.size(); ++id) {
            const auto type = pieces[id].type;
            if ((type == sentencepiece_model::piece_type::normal || type == sentencepiece_model::piece_type::user_defined) &&
                !pieces[id].text.empty())
                out.emplace_back(pieces[id].text, static_cast<id_type>(id));
        }
        return out;
    }

    // SentencePiece cuts characters by their lead byte: continuation bytes start none.
    static bool is_char_start(std::string_view t, std::size_t p) noexcept {
        return p >= t.size() || (static_cast<unsigned char>(t[p]) & 0xC0u) != 0x80u;
    }

    const tokenizer_type* sp_;
    basic_piece_prefix_index<Id> index_;
};

/// The healer of `bytepiece::sentencepiece_tokenizer`.
using sentencepiece_token_healer = basic_sentencepiece_token_healer<>;

BYTEPIECE_NAMESPACE_END
