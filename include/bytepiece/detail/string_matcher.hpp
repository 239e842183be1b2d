// SPDX-License-Identifier: Apache-2.0
//
// Leftmost-longest matching of a small set of whole strings in a text: what special tokens
// (special_tokens.hpp) and the added tokens of HF files (hf_added_tokens.hpp) both need.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// A byte trie of patterns, each with a value; `find` gives the leftmost match, and of the
/// matches starting there the longest. The patterns are few (special and added tokens), so
/// children are sorted vectors and a table of first bytes skips most starts at once.
///
/// Example: `string_matcher m; m.insert("<|end|>", 0); m.find(text, 0, match);`
class string_matcher {
public:
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

    /// Where `find` found a pattern: bytes [begin, end) of the text, and its value.
    struct match {
        std::size_t begin = 0, end = 0;
        std::uint32_t value = none;
    };

    /// Adds a non-empty `pattern` with `value` (not `none`). Returns the value already held by
    /// the same pattern (then nothing changes), or `none` if the pattern is new.
    ///
    /// Example: `if (m.insert(p, k) != string_matcher::none) refuse_duplicate(p);`
    std::uint32_t insert(std::string_view pattern, std::uint32_t value) {
        std::uint32_t n = 0;
        for (const char ch : pattern) {
            const auto b = static_cast<unsigned char>(ch);
            std::uint32_t c = child(n, b);
            if (c == none) {
                c = static_cast<std::uint32_t>(nodes_.size());
                nodes_.emplace_back();
                auto& children = nodes_[n].children;
                children.insert(std::lower_bound(children.begin(), children.end(), b, by_byte), {b, c});
            }
            n = c;
        }
        if (n == 0) return none;
        if (nodes_[n].value != none) return nodes_[n].value;
        nodes_[n].value = value;
        first_[static_cast<unsigned char>(pattern[0])] = true;
        return none;
    }

    /// Whether no pattern was inserted.
    ///
    /// Example: `if (m.empty()) return encode_plain(text);`
    bool empty() const noexcept { return nodes_.size() <= 1; }

    /// Finds the leftmost match at or after byte `from` of `s`, the longest of those starting
    /// there; false if there is none.
    ///
    /// Example: `for (std::size_t p = 0; m.find(s, p, hit); p = hit.end) use(hit);`
    bool find(std::string_view s, std::size_t from, match& out) const noexcept {
        return find(s, from, out, [](std::uint32_t) { return true; });
    }

    /// `find` among the patterns whose value `accept(value)` is true only: a rejected longer
    /// pattern does not hide an accepted shorter one at the same start.
    ///
    /// Example: `m.find(s, 0, hit, [&](std::uint32_t v) { return allowed[v]; });`
    template <class Accept>
    bool find(std::string_view s, std::size_t from, match& out, Accept&& accept) const {
        if (empty()) return false;
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        for (std::size_t i = from; i < s.size(); ++i) {
            if (!first_[p[i]]) continue;
            std::uint32_t n = 0;
            std::size_t best = 0;
            std::uint32_t best_value = none;
            for (std::size_t j = i; j < s.size(); ++j) {
                n = child(n, p[j]);
                if (n == none) break;
                const std::uint32_t v = nodes_[n].value;
                if (v != none && accept(v)) {
                    best = j + 1;
                    best_value = v;
                }
            }
            if (best_value != none) {
                out = match{i, best, best_value};
                return true;
            }
        }
        return false;
    }

private:
    struct node {
        std::vector<std::pair<unsigned char, std::uint32_t>> children;  // sorted by byte
        std::uint32_t value = none;
    };

    static bool by_byte(const std::pair<unsigned char, std::uint32_t>& e, unsigned char v) noexcept { return e.first < v; }

    std::uint32_t child(std::uint32_t n, unsigned char b) const noexcept {
        const auto& c = nodes_[n].children;
        const auto it = std::lower_bound(c.begin(), c.end(), b, by_byte);
        return it != c.end() && it->first == b ? it->second : none;
    }

    std::vector<node> nodes_{1};
    bool first_[256] = {};
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
