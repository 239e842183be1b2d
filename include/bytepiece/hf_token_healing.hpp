// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/hf_tokenizer.hpp"
#include "bytepiece/offsets.hpp"
#include "bytepiece/token_healing.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// What `basic_hf_token_healer::heal` returns: the fields of `basic_healed_prompt`, where
/// `remainder` and `kept_bytes` are in the model's domain (the pre-tokenized text of the
/// prompt's last segment, with U+2581 for Metaspace's spaces or ByteLevel's mapped
/// characters: what the candidates are spelled in), plus the same cut in the prompt itself.
template <class Id = std::uint32_t>
struct basic_hf_healed_prompt : basic_healed_prompt<Id> {
    /// Bytes of the prompt (as given) that `ids` stand for: where the first piece given back
    /// starts in it (its offset as `encode_with_offsets` gives it), or where the last kept
    /// piece ends when none is given back.
    std::size_t text_kept_bytes = 0;
    /// The prompt's bytes from `text_kept_bytes` on: the text to hand back to the model as text
    /// (decoding the generated ids continues from here). With ByteLevel, whose pieces may hold
    /// part of a character, it may start inside a character, as BytePiece's remainders may.
    std::string text_remainder;
};

/// The HF healed prompt with 32-bit ids.
using hf_healed_prompt = basic_hf_healed_prompt<>;

/// Token healing for a Hugging Face tokenizer.json (Unigram) tokenizer, in the model's domain,
/// with the prefix-constrained candidates.
///
/// The rule is BytePiece's (see `basic_token_healer`) applied to the prompt's last pre-token:
/// - Added tokens: the prompt's last segment is the text after its last added token (raw,
///   then normalized). A prompt that ends with an added token has nothing to heal. A prompt
///   whose end could begin or extend an added token (a non-empty suffix of it is a proper
///   prefix of an added token's text) or that ends with a `single_word` added token is
///   refused: the match depends on what follows.
/// - Normalization: the segment's normalized text t' is the normalized text of
///   `segment + "a"` without its final "a" (as for SentencePiece: a trailing space that a
///   Strip normalizer drops comes back here). If the probe does not survive, or the
///   segment's own normalized text t is not a prefix of t', the prompt is refused.
/// - Pre-tokenization: the model's text T' is the pre-tokenized `t' + "a"` without its "a";
///   the prompt's own pre-tokens M (of t) must be a prefix of it. s is where M's last
///   pre-token starts. The accepted pre-tokenizers (Metaspace, ByteLevel without its regex,
///   the BytePiece chunk Split, and none) keep s a pre-token start and the pre-tokens before
///   it unchanged whatever text follows, so pieces never cross s; the others are refused
///   when the healer is built (see `hf_pre_tokenizer::heal_obstacle`).
/// - p* is the first character start p of T' with max(s, |T'| - L + 1) <= p < |T'| from which
///   a candidate piece starts with T'[p, |T'|) and is longer (L: the longest candidate);
///   |T'| when none. The cut b is the largest boundary of M's segmentation at or before p*
///   that is a character start of M. `ids` are the prompt's ids before b, `remainder` is
///   T'[b, |T'|), `kept_bytes` is b.
///
/// Candidates are the model's vocab strings except the unknown token, the ids of added tokens
/// and strings listed twice under another id, spelled as the vocab spells them.
///
/// The healer refers to `tok`, which must outlive it. A const healer is safe to share
/// between threads.
template <class Id = std::uint32_t>
class basic_hf_token_healer {
public:
    using tokenizer_type = basic_hf_tokenizer<Id>;
    using id_type = Id;
    using healed_type = basic_hf_healed_prompt<Id>;

    /// Builds the candidate index. Throws `argument_error` `heal_undefined` naming the
    /// pre-tokenizer when healing is not defined with it.
    ///
    /// Example: `bytepiece::hf_token_healer healer(tok);`
    explicit basic_hf_token_healer(const tokenizer_type& tok) : tok_(&tok) {
        const std::string why = tok.pre_tokenizer_.heal_obstacle();
        if (!why.empty())
            BYTEPIECE_THROW(argument_error(errc::heal_undefined, "hf_token_healer: healing is not defined with the "
                                                                 "pre-tokenizer " + why));
        index_ = basic_piece_prefix_index<Id>(pieces_of(tok), tok.vocab_size());
    }

    /// Heals `prompt` (valid UTF-8) by the rule in the class comment. Throws `argument_error`:
    /// `invalid_argument` for text that is not UTF-8, `heal_undefined` where the rule is not
    /// defined (the message says why).
    ///
    /// Example: `auto h = healer.heal("The weather in Ber"); // h.remainder == "\u2581Ber"`
    healed_type heal(std::string_view prompt) const {
        const tokenizer_type& tok = *tok_;
        if (!detail::utf8::is_valid(prompt))
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, "hf_token_healer: the prompt is not valid UTF-8"));
        const auto& added = tok.added_;
        healed_type out;
        std::vector<byte_range> offsets;
        tok.encode_with_offsets(prompt, out.ids, offsets, false);

        // The raw segment after the last added token.
        if (const std::string* p = added.completed_by_continuation(prompt, false)) refuse_token(*p);
        std::size_t rb = 0;
        const hf_added_token_view last = last_token(prompt, false, rb);
        if (last.found && rb == prompt.size()) return ends_with_token(last, prompt, std::move(out));
        const std::string_view raw = prompt.substr(rb);

        // The normalized segment as a continuation sees it (t'), and as the prompt has it (t).
        std::string t, te;
        if (!raw.empty()) tok.normalizer_.normalize(raw, t);
        std::string probe(raw);
        probe += 'a';
        tok.normalizer_.normalize(probe, te);
        if (te.empty() || te.back() != 'a' || te.compare(0, t.size(), t) != 0)
            BYTEPIECE_THROW(argument_error(errc::heal_undefined,
                                           "hf_token_healer: the normalizer changes the prompt's end when text follows "
                                           "it, so the rule is not defined for this prompt"));
        te.pop_back();
        std::size_t nb = 0;
        if (added.has_normalized()) {
            if (const std::string* p = added.completed_by_continuation(te, true)) refuse_token(*p);
            const hf_added_token_view lastn = last_token(te, true, nb);
            if (lastn.found && nb >= t.size()) {
                if (nb > t.size()) refuse_probe();
                return ends_with_token(lastn, prompt, std::move(out));
            }
        }
        const bool at_start = rb == 0 && nb == 0;

        // The model's text: M (the prompt's pre-tokens) and T' (what a continuation sees).
        std::string m, tm;
        std::vector<std::uint32_t> ends, ends_probe;
        if (nb < t.size()) tok.pre_tokenizer_.pre_tokenize(std::string_view(t).substr(nb), at_start, m, ends);
        std::string part(std::string_view(te).substr(nb));
        part += 'a';
        tok.pre_tokenizer_.pre_tokenize(part, at_start, tm, ends_probe);
        if (tm.empty() || tm.back() != 'a' || tm.compare(0, m.size(), m) != 0) refuse_probe();
        tm.pop_back();
        const std::size_t s = ends.size() >= 2 ? ends[ends.size() - 2] : 0;
        const std::size_t p_star = unsafe_from(tm, s);

        // The segmentation of M: the last of the prompt's model pieces.
        std::vector<std::size_t> piece_ends;
        std::size_t consumed = 0;
        if (!m.empty())
            tok.model_.encode(m, ends.data(), ends.size(), [&](std::string_view token, id_type) {
                consumed = tokenizer_type::advance(m, token, consumed);
                piece_ends.push_back(consumed);
            });
        std::size_t keep = 0, kept_bytes = 0;
        for (std::size_t i = 0; i < piece_ends.size(); ++i) {
            const std::size_t pos = piece_ends[i];
            if (pos > p_star) break;
            if (pos == m.size() || is_char_start(m, pos)) {
                keep = i + 1;
                kept_bytes = pos;
            }
        }
        if (piece_ends.size() > out.ids.size())
            BYTEPIECE_THROW(argument_error(errc::heal_undefined,
                                           "hf_token_healer: the prompt's last segment has more pieces than its encoding"));
        const std::size_t kept = out.ids.size() - piece_ends.size() + keep;
        out.removed_ids.assign(out.ids.begin() + static_cast<std::ptrdiff_t>(kept), out.ids.end());
        out.ids.resize(kept);
        out.kept_bytes = kept_bytes;
        out.remainder.assign(std::string_view(tm).substr(kept_bytes));
        if (!out.removed_ids.empty()) out.text_kept_bytes = offsets[kept].begin;
        else out.text_kept_bytes = kept > 0 ? offsets[kept - 1].end : 0;
        out.text_remainder.assign(prompt.substr(out.text_kept_bytes));
        return out;
    }

    /// The position p* of the rule in the model's text `t` (what a continuation sees), searched
    /// from `from` on (the start of the last pre-token): `t.size()` if no candidate can run
    /// past its end.
    ///
    /// Example: `healer.unsafe_from("\xE2\x96\x81Ber")` is 0 when "▁Berlin" is a piece.
    std::size_t unsafe_from(std::string_view t, std::size_t from = 0) const {
        const std::size_t n = t.size();
        const std::size_t limit = index_.max_piece_bytes();
        for (std::size_t p = std::max(from, n >= limit ? n - limit + 1 : std::size_t{0}); p < n; ++p)
            if (is_char_start(t, p) && index_.extends_past(t.substr(p))) return p;
        return n;
    }

    /// The ids of the candidate pieces that start with `r` (model domain), increasing.
    ///
    /// Example: `healer.starting_with(h.remainder)`
    std::vector<id_type> starting_with(std::string_view r) const { return index_.starting_with(r); }

    /// The ids of the candidate pieces that are a prefix of `r`, increasing.
    ///
    /// Example: `healer.prefixes_of(h.remainder)`
    std::vector<id_type> prefixes_of(std::string_view r) const { return index_.prefixes_of(r); }

    /// The candidate index, for masks and callbacks.
    ///
    /// Example: `healer.index().starting_with_mask(h.remainder, mask);`
    const basic_piece_prefix_index<Id>& index() const noexcept { return index_; }

    /// The tokenizer this healer works for.
    ///
    /// Example: `healer.tokenizer().id_to_token(h.removed_ids[0])`
    const tokenizer_type& tokenizer() const noexcept { return *tok_; }

private:
    struct hf_added_token_view {
        bool found = false;
        std::uint32_t id = 0;
    };

    static std::vector<std::pair<std::string_view, id_type>> pieces_of(const tokenizer_type& tok) {
        std::vector<std::pair<std::string_view, id_type>> out;
        const auto& m = tok.model_;
        const std::size_t n = m.vocab_size();
        out.reserve(n);
        const auto unk_id = m.unk_id();
        const std::size_t unk = unk_id ? static_cast<std::size_t>(*unk_id) : n;  // n: no piece is it
        for (std::size_t id = 0; id < n; ++id) {
            const auto i = static_cast<id_type>(id);
            if (id == unk || tok.added_.by_id(static_cast<std::uint32_t>(id)) != nullptr) continue;
            const std::string_view piece = m.id_to_token(i);
            // A string listed twice is matched as its last id; the index takes each string once.
            if (piece.empty() || m.token_to_id(piece) != i) continue;
            out.emplace_back(piece, i);
        }
        return out;
    }

    // The last added token of `s` in a pass, and where the text after it starts.
    hf_added_token_view last_token(std::string_view s, bool normalized_pass, std::size_t& after) const {
        hf_added_token_view v;
        after = 0;
        tok_->added_.split(
            s, normalized_pass, [](std::size_t, std::size_t) {},
            [&](const detail::hf_added_vocabulary::match& m) {
                v.found = true;
                v.id = m.id;
                after = m.end;
            });
        return v;
    }

    // A prompt ending with an added token: nothing to give back, unless the token is
    // single_word (a word character after it would undo the match).
    healed_type ends_with_token(const hf_added_token_view& last, std::string_view prompt, healed_type out) const {
        const detail::hf_added_token* a = tok_->added_.by_id(last.id);
        if (a && a->single_word)
            BYTEPIECE_THROW(argument_error(errc::heal_undefined,
                                           "hf_token_healer: the prompt ends with the single_word added token \"" +
                                               a->content + "\", which a following word character would not match"));
        out.text_kept_bytes = prompt.size();
        return out;
    }

    [[noreturn]] static void refuse_token(const std::string& pattern) {
        BYTEPIECE_THROW(argument_error(errc::heal_undefined, "hf_token_healer: the prompt ends inside a possible match "
                                                             "of the added token \"" +
                                                                 pattern + "\", which depends on what follows"));
    }
    [[noreturn]] static void refuse_probe() {
        BYTEPIECE_THROW(argument_error(errc::heal_undefined,
                                       "hf_token_healer: the pre-tokenizer changes the prompt's end when text follows "
                                       "it, so the rule is not defined for this prompt"));
    }

    static bool is_char_start(std::string_view t, std::size_t p) noexcept {
        return p >= t.size() || (static_cast<unsigned char>(t[p]) & 0xC0u) != 0x80u;
    }

    const tokenizer_type* tok_;
    basic_piece_prefix_index<Id> index_;
};

/// The healer of `bytepiece::hf_tokenizer`.
using hf_token_healer = basic_hf_token_healer<>;

BYTEPIECE_NAMESPACE_END
