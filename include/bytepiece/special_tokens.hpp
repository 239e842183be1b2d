// SPDX-License-Identifier: Apache-2.0
//
// Special tokens: whole strings with ids of their own (`<|endoftext|>`, chat markers, `[MASK]`),
// matched in the caller's original text before normalization and segmentation, never split,
// and only when the call allows them, so that text from users cannot inject control tokens.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/detail/string_matcher.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// One special token: the exact string that stands for it and its id.
struct special_token {
    std::string content;
    std::uint32_t id = 0;
};

/// Which special tokens one encode call may match (tiktoken's `allowed_special`): none (the
/// default, so text is always ordinary text), all of them, or those named.
///
/// Example: `bytepiece::allowed_special::only({"<|endoftext|>"})`
class allowed_special {
public:
    /// No special token is matched: the default.
    ///
    /// Example: `bytepiece::allowed_special none;`
    allowed_special() = default;

    /// No special token is matched.
    ///
    /// Example: `auto a = bytepiece::allowed_special::none();`
    static allowed_special none() { return allowed_special(); }

    /// Every special token of the set is matched.
    ///
    /// Example: `auto a = bytepiece::allowed_special::all();`
    static allowed_special all() {
        allowed_special a;
        a.all_ = true;
        return a;
    }

    /// Only the special tokens whose content is one of `contents` are matched; contents that
    /// are no special token of the set are ignored.
    ///
    /// Example: `auto a = bytepiece::allowed_special::only({"<|im_start|>", "<|im_end|>"});`
    static allowed_special only(std::vector<std::string> contents) {
        allowed_special a;
        std::sort(contents.begin(), contents.end());
        contents.erase(std::unique(contents.begin(), contents.end()), contents.end());
        a.names_ = std::move(contents);
        return a;
    }

    /// Whether the special token of content `content` may be matched.
    ///
    /// Example: `if (a.allows("<|endoftext|>")) ...`
    bool allows(std::string_view content) const noexcept {
        return all_ || std::binary_search(names_.begin(), names_.end(), content, std::less<>());
    }

    /// Whether no special token at all may be matched.
    ///
    /// Example: `if (a.allows_none()) tok.encode(text, out);`
    bool allows_none() const noexcept { return !all_ && names_.empty(); }

private:
    bool all_ = false;
    std::vector<std::string> names_;  // sorted, unique
};

/// What an encode call does when the text holds a special token it does not allow.
enum class disallowed_special {
    /// Encode it as ordinary text (the default): its bytes are segmented like any others, so
    /// its special id is never produced from text.
    encode_as_text,
    /// Throw `argument_error` with `errc::special_disallowed`, naming the token and its byte
    /// offset (tiktoken's default `disallowed_special="all"`).
    raise,
};

/// A set of special tokens: their contents and ids, and the leftmost-longest matcher over
/// them. Ids are either given (for example the ids of `<bos>`/`<eos>` or of existing pieces)
/// or appended after the vocabulary (`append`).
///
/// Example:
/// `bytepiece::special_tokens sp; sp.append({"<|endoftext|>", "<|pad|>"}, tok.vocab_size());`
class special_tokens {
public:
    /// An empty set.
    ///
    /// Example: `bytepiece::special_tokens none;`
    special_tokens() = default;

    /// A set of tokens with the given ids. Throws `argument_error` (`errc::special_invalid`)
    /// for an empty content, content that is not valid UTF-8, or a content or id given twice.
    ///
    /// Example: `bytepiece::special_tokens sp({{"<s>", 1}, {"</s>", 2}});`
    explicit special_tokens(std::vector<special_token> tokens) {
        for (auto& t : tokens) add(std::move(t.content), t.id);
    }

    /// Adds `contents` with ids `first_id`, `first_id + 1`, ... in order (pass the
    /// tokenizer's `vocab_size()` to put them after the vocabulary). Throws like the
    /// constructor, and also when an id would pass 2^32 - 2.
    ///
    /// Example: `sp.append({"<|im_start|>", "<|im_end|>"}, tok.vocab_size());`
    void append(const std::vector<std::string>& contents, std::uint64_t first_id) {
        for (const auto& c : contents) {
            if (first_id >= std::numeric_limits<std::uint32_t>::max())
                BYTEPIECE_THROW(argument_error(errc::special_invalid,
                                               "special token \"" + c + "\": its id would pass 2^32 - 2"));
            add(c, static_cast<std::uint32_t>(first_id++));
        }
    }

    /// Adds one token with id `id`. Throws like the constructor.
    ///
    /// Example: `sp.add("<|endoftext|>", 2);`
    void add(std::string content, std::uint32_t id) {
        if (content.empty()) BYTEPIECE_THROW(argument_error(errc::special_invalid, "special token: empty content"));
        if (!detail::utf8::is_valid(content))
            BYTEPIECE_THROW(argument_error(errc::special_invalid, "special token of id " + std::to_string(id) +
                                                                      ": content is not valid UTF-8"));
        if (id == std::numeric_limits<std::uint32_t>::max())
            BYTEPIECE_THROW(argument_error(errc::special_invalid, "special token \"" + content + "\": id 2^32 - 1 is reserved"));
        if (content_of(id))
            BYTEPIECE_THROW(argument_error(errc::special_invalid, "special token \"" + content + "\": id " +
                                                                      std::to_string(id) + " is already \"" +
                                                                      *content_of(id) + "\""));
        const auto index = static_cast<std::uint32_t>(tokens_.size());
        if (matcher_.insert(content, index) != detail::string_matcher::none)
            BYTEPIECE_THROW(argument_error(errc::special_invalid, "special token \"" + content + "\" is given twice"));
        tokens_.push_back(special_token{std::move(content), id});
        by_id_.insert(std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(id, index)), std::make_pair(id, index));
        end_id_ = std::max<std::uint64_t>(end_id_, std::uint64_t{id} + 1);
    }

    /// Whether the set holds no token.
    ///
    /// Example: `if (sp.empty()) ...`
    bool empty() const noexcept { return tokens_.empty(); }

    /// The number of tokens.
    ///
    /// Example: `std::size_t n = sp.size();`
    std::size_t size() const noexcept { return tokens_.size(); }

    /// The tokens, in the order they were added.
    ///
    /// Example: `for (const auto& t : sp.tokens()) std::cout << t.content << ' ' << t.id << '\n';`
    const std::vector<special_token>& tokens() const noexcept { return tokens_; }

    /// One past the highest special id (0 for an empty set).
    ///
    /// Example: `std::size_t ids = std::max<std::size_t>(tok.vocab_size(), sp.end_id());`
    std::uint64_t end_id() const noexcept { return end_id_; }

    /// The id of the token whose content is `content`.
    ///
    /// Example: `sp.id_of("<|endoftext|>")`
    std::optional<std::uint32_t> id_of(std::string_view content) const noexcept {
        for (const auto& t : tokens_)
            if (t.content == content) return t.id;
        return std::nullopt;
    }

    /// The content of special id `id`, or nullptr if `id` is no special token.
    ///
    /// Example: `if (const std::string* s = sp.content_of(id)) out += *s;`
    const std::string* content_of(std::uint64_t id) const noexcept {
        if (id >= end_id_) return nullptr;  // the common case: an ordinary id
        const auto it = std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(static_cast<std::uint32_t>(id), std::uint32_t{0}));
        return it != by_id_.end() && it->first == id ? &tokens_[it->second].content : nullptr;
    }

    /// Splits `text` on the allowed special tokens, leftmost first and then longest: calls
    /// `on_text(begin, end)` for each non-empty stretch of ordinary text and `on_token(begin,
    /// end, id)` for each token, in text order. A disallowed token is ordinary text, or throws
    /// (`errc::special_disallowed`) under `disallowed_special::raise`.
    ///
    /// Example: `sp.split(text, allowed_special::all(), disallowed_special::encode_as_text, on_text, on_token);`
    template <class OnText, class OnToken>
    void split(std::string_view text, const allowed_special& allowed, disallowed_special policy, OnText&& on_text,
               OnToken&& on_token) const {
        if (empty() || (allowed.allows_none() && policy == disallowed_special::encode_as_text)) {
            if (!text.empty()) on_text(std::size_t{0}, text.size());
            return;
        }
        std::size_t done = 0;
        detail::string_matcher::match hit;
        const auto accept = [&](std::uint32_t index) { return allowed.allows(tokens_[index].content); };
        while (policy == disallowed_special::raise ? matcher_.find(text, done, hit)
                                                   : matcher_.find(text, done, hit, accept)) {
            const special_token& t = tokens_[hit.value];
            if (!allowed.allows(t.content))
                BYTEPIECE_THROW(argument_error(errc::special_disallowed, "special token \"" + t.content +
                                                                             "\" at byte " + std::to_string(hit.begin) +
                                                                             " is not allowed in this call"));
            if (done < hit.begin) on_text(done, hit.begin);
            on_token(hit.begin, hit.end, t.id);
            done = hit.end;
        }
        if (done < text.size()) on_text(done, text.size());
    }

private:
    std::vector<special_token> tokens_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> by_id_;  // (id, index in tokens_), sorted
    detail::string_matcher matcher_;
    std::uint64_t end_id_ = 0;
};

namespace detail {

// Encoding one stretch of ordinary text with any tokenizer, without the ids a tokenizer adds
// around a whole text (BytePiece's <bos>/<eos>, HF's post-processor): those go around the
// whole text instead.
template <class Tokenizer, class Id, class = void>
struct has_encode_options : std::false_type {};
template <class Tokenizer, class Id>
struct has_encode_options<Tokenizer, Id, std::void_t<decltype(std::declval<const Tokenizer&>().options().add_bos)>>
    : std::true_type {};

template <class Tokenizer, class Id, class = void>
struct has_pointer_decode : std::false_type {};
template <class Tokenizer, class Id>
struct has_pointer_decode<Tokenizer, Id,
                          std::void_t<decltype(std::declval<const Tokenizer&>().decode(std::declval<const Id*>(), std::size_t{}))>>
    : std::true_type {};

/// The text of `n` ordinary ids with any tokenizer (HF's decode takes a vector and skips
/// its own special added tokens when `skip_special` is true).
template <class Tokenizer, class Id>
std::string decode_ordinary(const Tokenizer& tok, const Id* ids, std::size_t n, bool skip_special) {
    if constexpr (has_pointer_decode<Tokenizer, Id>::value) {
        (void)skip_special;
        return tok.decode(ids, n);
    } else {
        return tok.decode(std::vector<Id>(ids, ids + n), skip_special);
    }
}

}  // namespace detail

/// Encodes `text` with `tok` (any tokenizer of this library), matching the tokens of
/// `specials` that `allowed` allows in the original text first: each is one id, and the
/// stretches between them are encoded as separate texts (normalized, segmented). A
/// BytePiece tokenizer's `<bos>`/`<eos>` options apply once around the whole text; an HF
/// tokenizer's post-processor is not applied (its own added tokens still match, as always).
/// Appends to `out`. Throws as `tok.encode` does, and see `disallowed_special`.
///
/// Example: `bytepiece::encode_with_specials(tok, text, tok.specials(), bytepiece::allowed_special::all(), ids);`
template <class Tokenizer, class Id>
void encode_with_specials(const Tokenizer& tok, std::string_view text, const special_tokens& specials,
                          const allowed_special& allowed, std::vector<Id>& out,
                          disallowed_special policy = disallowed_special::encode_as_text) {
    bool bos = false, eos = false;
    if constexpr (detail::has_encode_options<Tokenizer, Id>::value) {
        bos = tok.options().add_bos;
        eos = tok.options().add_eos;
    }
    if (bos) out.push_back(Id{1});
    specials.split(
        text, allowed, policy,
        [&](std::size_t b, std::size_t e) {
            if constexpr (detail::has_encode_options<Tokenizer, Id>::value) {
                auto o = tok.options();
                o.add_bos = o.add_eos = false;
                tok.encode(text.substr(b, e - b), out, o);
            } else {
                tok.encode(text.substr(b, e - b), out);
            }
        },
        [&](std::size_t, std::size_t, std::uint32_t id) { out.push_back(static_cast<Id>(id)); });
    if (eos) out.push_back(Id{2});
}

/// `encode_with_specials` returning the ids.
///
/// Example: `auto ids = bytepiece::encode_with_specials(tok, text, tok.specials(), bytepiece::allowed_special::all());`
template <class Tokenizer>
std::vector<typename Tokenizer::id_type> encode_with_specials(const Tokenizer& tok, std::string_view text,
                                                             const special_tokens& specials, const allowed_special& allowed,
                                                             disallowed_special policy = disallowed_special::encode_as_text) {
    std::vector<typename Tokenizer::id_type> ids;
    encode_with_specials(tok, text, specials, allowed, ids, policy);
    return ids;
}

/// The text of `ids` with `tok`, where an id of `specials` gives its content (or nothing if
/// `skip_special`) and every run of other ids is decoded by `tok.decode`. `skip_special` is
/// also passed to an HF tokenizer for its own special added tokens.
///
/// Example: `std::string text = bytepiece::decode_with_specials(tok, ids.data(), ids.size(), tok.specials(), false);`
template <class Tokenizer, class Id>
std::string decode_with_specials(const Tokenizer& tok, const Id* ids, std::size_t n, const special_tokens& specials,
                                 bool skip_special) {
    std::string out;
    std::size_t run = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string* s = specials.content_of(static_cast<std::uint64_t>(ids[i]));
        if (!s) continue;
        if (run < i) out += detail::decode_ordinary(tok, ids + run, i - run, skip_special);
        if (!skip_special) out += *s;
        run = i + 1;
    }
    if (run < n || n == 0) out += detail::decode_ordinary(tok, ids + run, n - run, skip_special);
    return out;
}

/// `decode_with_specials` for a vector of ids.
///
/// Example: `std::string text = bytepiece::decode_with_specials(tok, ids, sp, true);`
template <class Tokenizer, class Id>
std::string decode_with_specials(const Tokenizer& tok, const std::vector<Id>& ids, const special_tokens& specials,
                                 bool skip_special) {
    return decode_with_specials(tok, ids.data(), ids.size(), specials, skip_special);
}

BYTEPIECE_NAMESPACE_END
