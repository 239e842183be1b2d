// SPDX-License-Identifier: Apache-2.0
//
// The added tokens of a Hugging Face tokenizer.json (tokenizer/added_vocabulary.rs of HF
// tokenizers 0.23): their ids as HF re-assigns them when loading, and the splitting of a text
// on them before (normalized: false) and after (normalized: true) normalization.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bytepiece/detail/hf_json.hpp"
#include "bytepiece/detail/string_matcher.hpp"
#include "bytepiece/detail/unicode_categories.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Rust `regex`'s Unicode `\w` (Alphabetic, marks, decimal digits, connector punctuation,
/// Join_Control), which HF's `single_word` test uses.
///
/// Example: `hf_is_word(U'é')` is true.
inline bool hf_is_word(char32_t cp) noexcept {
    if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_';
    namespace uc = unicode_categories;
    const std::uint8_t e = uc::entry(cp);
    if (e & uc::alphabetic_bit) return true;
    switch (e & uc::category_mask) {
        case uc::Mn: case uc::Mc: case uc::Me: case uc::Nd: case uc::Pc: return true;
        default: return cp == 0x200C || cp == 0x200D;
    }
}

/// Rust `regex`'s Unicode `\s` (White_Space), which HF's `lstrip` / `rstrip` use.
///
/// Example: `hf_is_space(U'\u3000')` is true.
inline bool hf_is_space(char32_t cp) noexcept {
    if (cp < 0x80) return cp == ' ' || (cp >= 9 && cp <= 13);
    return (unicode_categories::entry(cp) & unicode_categories::white_space_bit) != 0;
}

/// One entry of `added_tokens`, with the options that change matching.
struct hf_added_token {
    std::string content;
    std::string pattern;  // what is matched: the content, or its normalized form (normalized: true)
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = true;
    bool special = false;
};

/// The added vocabulary: ids as HF assigns them, and leftmost-longest matching of the
/// tokens in text.
///
/// Example: `hf_added_vocabulary added(root.at("added_tokens"), vocab_size, lookup, normalize);`
class hf_added_vocabulary {
public:
    /// Where a split of a text found an added token: bytes [begin, end) of the text.
    struct match {
        std::size_t begin, end;
        std::uint32_t id;
    };

    hf_added_vocabulary() = default;

    /// Reads the `added_tokens` array (`tokens`, may be null). `model_id(s)` gives the model's
    /// id of a string, if any; `normalize(in, out)` the normalizer's output, for the tokens
    /// with `normalized: true`. Ids are assigned as HF does when loading: the model's id for a
    /// string the vocab has, else the next id from `vocab_size` on, in file order; the `id`
    /// written in the file is not used.
    ///
    /// Example: `hf_added_vocabulary a(c.at("added_tokens"), m.vocab_size(), lookup, norm);`
    template <class ModelId, class Normalize>
    hf_added_vocabulary(const hf_json::cursor& tokens, std::size_t vocab_size, ModelId&& model_id, Normalize&& normalize) {
        end_id_ = vocab_size;
        if (tokens.is_null()) return;
        std::uint64_t next_id = vocab_size;
        const std::size_t n = tokens.size();
        for (std::size_t i = 0; i < n; ++i) {
            const hf_json::cursor t = tokens[i];
            hf_added_token a;
            // The id is required by HF's reader, but only compared (with a warning).
            (void)t.at("id").unsigned_integer(std::numeric_limits<std::uint32_t>::max());
            a.content = std::string(t.at("content").string());
            a.single_word = t.at("single_word").boolean();
            a.lstrip = t.at("lstrip").boolean();
            a.rstrip = t.at("rstrip").boolean();
            a.normalized = t.at("normalized").boolean();
            a.special = t.at("special").boolean();
            if (a.content.empty()) continue;  // HF ignores empty tokens
            if (!utf8::is_valid(a.content)) t.at("content").malformed("is not valid UTF-8");
            const auto same = find_content(a.content);
            std::uint32_t id;
            if (same) {
                id = tokens_[*same].second;
            } else if (const std::optional<std::uint64_t> m = model_id(std::string_view(a.content))) {
                id = static_cast<std::uint32_t>(*m);
            } else {
                if (next_id > std::numeric_limits<std::uint32_t>::max() - 1)
                    t.fail(errc::model_too_large, "needs an id beyond 2^32 - 2");
                id = static_cast<std::uint32_t>(next_id++);
            }
            a.pattern = a.content;
            if (a.normalized) {
                normalize(std::string_view(a.content), a.pattern);
                if (a.pattern.empty())
                    t.at("content").invalid("normalizes to the empty string, which HF cannot match");
            }
            if (a.special && std::find(specials_.begin(), specials_.end(), a.content) == specials_.end())
                specials_.push_back(a.content);
            // One entry per id: a later token with the same id replaces the options (HF's map by id).
            bool replaced = false;
            for (auto& entry : tokens_) {
                if (entry.second == id) {
                    entry.first = std::move(a);
                    replaced = true;
                    break;
                }
            }
            if (!replaced) {
                by_content_.emplace(a.content, tokens_.size());
                tokens_.emplace_back(std::move(a), id);
            }
            end_id_ = std::max<std::uint64_t>(end_id_, std::uint64_t{id} + 1);
        }
        build(false, raw_);
        build(true, normalized_);
        by_id_.reserve(tokens_.size());
        for (std::size_t k = 0; k < tokens_.size(); ++k) by_id_.emplace_back(tokens_[k].second, k);
        std::sort(by_id_.begin(), by_id_.end());
    }

    bool empty() const noexcept { return tokens_.empty(); }
    bool has_raw() const noexcept { return !raw_.empty(); }
    bool has_normalized() const noexcept { return !normalized_.empty(); }

    /// One past the highest id of the model and the added tokens.
    std::size_t end_id() const noexcept { return static_cast<std::size_t>(end_id_); }

    /// The id of the added token whose content is `s`.
    std::optional<std::uint32_t> token_to_id(std::string_view s) const {
        const auto i = find_content(s);
        if (!i) return std::nullopt;
        return tokens_[*i].second;
    }

    /// The string HF decodes for added id `id` (its normalized form for a normalized token
    /// that the normalizer changes), or nullptr if `id` is no added token.
    const std::string* id_to_token(std::uint32_t id) const noexcept {
        const hf_added_token* a = by_id(id);
        if (!a) return nullptr;
        return a->normalized ? &a->pattern : &a->content;
    }

    /// The added token of id `id`, or nullptr.
    const hf_added_token* by_id(std::uint32_t id) const noexcept {
        const auto it = std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(id, std::size_t{0}));
        return it != by_id_.end() && it->first == id ? &tokens_[it->second].first : nullptr;
    }

    /// Whether `s` is the content of a special added token (skipped by decode).
    bool is_special(std::string_view s) const noexcept {
        for (const auto& sp : specials_)
            if (sp == s) return true;
        return false;
    }

    /// The pattern of an added token of the pass (`normalized_pass`) that text appended to `s`
    /// could complete: some non-empty suffix of `s` is a proper prefix of it. nullptr if none.
    /// Token healing refuses such prompts: whether that token matches depends on what follows.
    ///
    /// Example: `if (a.completed_by_continuation("x [CL", false)) ...` (with `[CLS]` added)
    const std::string* completed_by_continuation(std::string_view s, bool normalized_pass) const {
        for (const auto& t : tokens_) {
            const hf_added_token& a = t.first;
            if (a.normalized != normalized_pass) continue;
            const std::string_view p = a.pattern;
            for (std::size_t k = std::min(p.size() - 1, s.size()); k > 0; --k)
                if (s.compare(s.size() - k, k, p.substr(0, k)) == 0) return &a.pattern;
        }
        return nullptr;
    }

    /// Splits `s` on the added tokens matched in raw text (`normalized_pass` false) or in
    /// normalized text (true), as HF's `find_matches`: calls `on_text(begin, end)` for each
    /// non-empty stretch between tokens and `on_token(match)` for each token, in order.
    ///
    /// Example: `a.split(text, false, [&](std::size_t b, std::size_t e) {...}, [&](const match& m) {...});`
    template <class OnText, class OnToken>
    void split(std::string_view s, bool normalized_pass, OnText&& on_text, OnToken&& on_token) const {
        const matcher& t = normalized_pass ? normalized_ : raw_;
        if (t.empty()) {
            if (!s.empty()) on_text(std::size_t{0}, s.size());
            return;
        }
        std::size_t start_offset = 0;
        std::size_t pos = 0;
        matcher::match hit;
        while (t.find(s, pos, hit)) {
            // The next search starts after this match, whatever the options do to it.
            pos = hit.end;
            const std::size_t index = hit.value;
            const hf_added_token& a = tokens_[index].first;
            std::size_t start = hit.begin, stop = hit.end;
            if (a.single_word) {
                const bool space_before = start == 0 || !ends_with_word(s.substr(0, start));
                const bool space_after = stop == s.size() || !starts_with_word(s.substr(stop));
                if (!space_before || !space_after) continue;
            }
            if (a.lstrip) start = std::max(trailing_space_start(s.substr(0, start)), start_offset);
            if (a.rstrip) stop += leading_space_length(s.substr(stop));
            if (start_offset < start) on_text(start_offset, start);
            on_token(match{start, stop, tokens_[index].second});
            start_offset = stop;
        }
        if (start_offset != s.size()) on_text(start_offset, s.size());
    }

private:
    using matcher = string_matcher;

    void build(bool normalized_pass, matcher& t) {
        for (std::size_t k = 0; k < tokens_.size(); ++k) {
            const hf_added_token& a = tokens_[k].first;
            if (a.normalized != normalized_pass) continue;
            // Two tokens with one pattern: HF's automaton builder refuses them.
            if (t.insert(a.pattern, static_cast<std::uint32_t>(k)) != matcher::none)
                BYTEPIECE_THROW(model_error(errc::model_hf_invalid,
                                            "added_tokens: two added tokens are matched by the same string \"" + a.pattern + "\""));
        }
    }

    std::optional<std::size_t> find_content(std::string_view s) const {
        const auto it = by_content_.find(std::string(s));
        if (it == by_content_.end()) return std::nullopt;
        return it->second;
    }

    // The last code point of `s` (valid UTF-8, not empty).
    static char32_t last_code_point(std::string_view s) noexcept {
        std::size_t i = s.size() - 1;
        while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        return utf8::decode(p + i, p + s.size()).cp;
    }
    static bool ends_with_word(std::string_view s) noexcept { return !s.empty() && hf_is_word(last_code_point(s)); }
    static bool starts_with_word(std::string_view s) noexcept {
        if (s.empty()) return false;
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        return hf_is_word(utf8::decode(p, p + s.size()).cp);
    }
    // Where the run of whitespace that ends `s` starts (s.size() if none).
    static std::size_t trailing_space_start(std::string_view s) noexcept {
        std::size_t i = s.size();
        while (i > 0) {
            std::size_t j = i - 1;
            while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
            const auto* p = reinterpret_cast<const unsigned char*>(s.data());
            if (!hf_is_space(utf8::decode(p + j, p + i).cp)) break;
            i = j;
        }
        return i;
    }
    // The length of the run of whitespace that starts `s`.
    static std::size_t leading_space_length(std::string_view s) noexcept {
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        std::size_t i = 0;
        while (i < s.size()) {
            const auto d = utf8::decode(p + i, p + s.size());
            if (!hf_is_space(d.cp)) break;
            i += d.length;
        }
        return i;
    }

    std::vector<std::pair<hf_added_token, std::uint32_t>> tokens_;  // one per id, in file order
    std::vector<std::pair<std::uint32_t, std::size_t>> by_id_;  // (id, index in tokens_), sorted
    std::unordered_map<std::string, std::size_t> by_content_;
    std::vector<std::string> specials_;
    matcher raw_, normalized_;
    std::uint64_t end_id_ = 0;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
