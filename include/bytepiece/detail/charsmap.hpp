// SPDX-License-Identifier: Apache-2.0
//
// SentencePiece's `precompiled_charsmap`: a darts-clone double array whose values are byte
// offsets of NUL-terminated replacement strings. Layout and unit encoding: spec
// sentencepiece-and-hf.md section 2.1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// The rules of one SentencePiece normalizer, checked once so that every later walk can trust
/// that a reachable value names a NUL-terminated, well-formed UTF-8 replacement. Empty (no
/// rules) when built from an empty blob, as SentencePiece's `identity` rule is.
///
/// Example: `detail::sp_charsmap m(spec.precompiled_charsmap, "x.model"); m.longest_match(p, n, r);`
class sp_charsmap {
public:
    sp_charsmap() = default;

    /// Checks and copies `blob`. Throws `model_error` (`model_sentencepiece_invalid`) naming
    /// `source` and the byte offset in the blob when its header, trie or replacements are broken.
    sp_charsmap(std::string_view blob, std::string_view source) {
        if (blob.empty()) return;
        if (blob.size() <= 4) fail(source, 0, "is " + std::to_string(blob.size()) + " bytes, too short for its header");
        const std::uint32_t trie_bytes = read_u32(blob.data());
        // SentencePiece only requires the trie to be smaller than the whole blob, which lets
        // it read up to 3 bytes past the end; both conditions are errors here.
        if (trie_bytes > blob.size() - 4)
            fail(source, 0, "declares a trie of " + std::to_string(trie_bytes) + " bytes but only " +
                                std::to_string(blob.size() - 4) + " follow the header");
        if (trie_bytes % 4 != 0)
            fail(source, 0, "declares a trie of " + std::to_string(trie_bytes) + " bytes, not a whole number of 4-byte units");
        units_.resize(trie_bytes / 4);
        for (std::size_t i = 0; i < units_.size(); ++i) units_[i] = read_u32(blob.data() + 4 + 4 * i);
        replacements_.assign(blob.substr(4 + trie_bytes));
        check_reachable(source);
    }

    /// True when there are no rules (an empty blob).
    bool empty() const noexcept { return units_.empty(); }

    /// The longest key that is a prefix of `[p, p + n)`: returns its length (0 if no key
    /// matches) and sets `replacement` to its replacement. Never reads outside the units, so
    /// it is safe on any blob the constructor accepted.
    ///
    /// Example: `std::string_view r; if (std::size_t k = m.longest_match(p, n, r)) out += r;`
    std::size_t longest_match(const unsigned char* p, std::size_t n, std::string_view& replacement) const noexcept {
        const std::size_t count = units_.size();
        if (count == 0) return 0;
        const std::uint32_t* u = units_.data();
        std::size_t pos = offset(u[0]);
        std::size_t best = 0;
        std::uint32_t best_value = 0;
        for (std::size_t i = 0; i < n; ++i) {
            pos ^= p[i];
            if (pos >= count) break;
            const std::uint32_t unit = u[pos];
            if (label(unit) != p[i]) break;
            pos ^= offset(unit);
            if (has_leaf(unit)) {
                if (pos >= count) break;  // rejected at construction; kept so the walk stays in bounds
                best = i + 1;
                best_value = value(u[pos]);
            }
        }
        if (best != 0) replacement = replacement_at(best_value);
        return best;
    }

    /// The shortest key that is a prefix of `[p, p + n)`, with the walk stopping at a NUL
    /// byte: spm_precompiled's rule, which HF's `Precompiled` normalizer uses. Returns its
    /// length (0 if none) and sets `replacement`.
    ///
    /// Example: `std::string_view r; if (m.shortest_match(p, n, r)) out += r;`
    std::size_t shortest_match(const unsigned char* p, std::size_t n, std::string_view& replacement) const noexcept {
        const std::size_t count = units_.size();
        if (count == 0) return 0;
        const std::uint32_t* u = units_.data();
        std::size_t pos = offset(u[0]);
        for (std::size_t i = 0; i < n && p[i] != 0; ++i) {
            pos ^= p[i];
            if (pos >= count) break;
            const std::uint32_t unit = u[pos];
            if (label(unit) != p[i]) break;
            pos ^= offset(unit);
            if (has_leaf(unit)) {
                if (pos >= count) break;
                replacement = replacement_at(value(u[pos]));
                return i + 1;
            }
        }
        return 0;
    }

    /// Whether some key starts with byte `b`.
    bool starts_key(unsigned char b) const noexcept { return transition(root(), b) != no_state; }

    /// For a key-starting byte `b`: whether `b` alone is a key, and whether some key continues
    /// `b` with a byte below 0x80. Lets the normalizer skip the walk for ASCII text.
    void first_byte_facts(unsigned char b, bool& alone, bool& continues_with_ascii) const noexcept {
        alone = continues_with_ascii = false;
        const std::size_t slot = root() ^ b;
        if (slot >= units_.size() || label(units_[slot]) != b) return;
        alone = has_leaf(units_[slot]);
        const std::size_t next = slot ^ offset(units_[slot]);
        for (unsigned c = 0; c < 0x80; ++c)
            if (transition(next, static_cast<unsigned char>(c)) != no_state) continues_with_ascii = true;
    }

    /// Every key with its replacement, in byte order of the keys: a slow walk for tests and
    /// the fuzzer's reference. Stops descending at `max_depth` bytes (a hostile blob can hold
    /// cycles, which make the key set infinite).
    std::vector<std::pair<std::string, std::string>> keys(std::size_t max_depth = 64,
                                                          std::size_t max_keys = std::size_t{1} << 22) const {
        std::vector<std::pair<std::string, std::string>> out;
        if (units_.empty()) return out;
        std::string key;
        collect(offset(units_[0]), key, max_depth, max_keys, out);
        return out;
    }

private:
    static constexpr std::size_t no_state = ~std::size_t{0};

    static std::uint32_t read_u32(const char* p) noexcept {
        const auto* b = reinterpret_cast<const unsigned char*>(p);
        return static_cast<std::uint32_t>(b[0]) | (static_cast<std::uint32_t>(b[1]) << 8) |
               (static_cast<std::uint32_t>(b[2]) << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
    }
    static bool has_leaf(std::uint32_t u) noexcept { return ((u >> 8) & 1) != 0; }
    static std::uint32_t value(std::uint32_t u) noexcept { return u & 0x7FFFFFFFu; }
    static std::uint32_t label(std::uint32_t u) noexcept { return u & 0x800000FFu; }
    static std::size_t offset(std::uint32_t u) noexcept {
        return static_cast<std::size_t>(u >> 10) << ((u & 0x200u) >> 6);
    }

    std::size_t root() const noexcept { return units_.empty() ? no_state : offset(units_[0]); }

    // The state after reading `c` in state `state`, or no_state.
    std::size_t transition(std::size_t state, unsigned char c) const noexcept {
        if (state == no_state) return no_state;
        const std::size_t slot = state ^ c;
        if (slot >= units_.size() || label(units_[slot]) != c) return no_state;
        return slot ^ offset(units_[slot]);
    }

    std::string_view replacement_at(std::uint32_t v) const noexcept {
        const char* s = replacements_.data() + v;
        return {s, std::strlen(s)};
    }

    [[noreturn]] static void fail(std::string_view source, std::size_t at, const std::string& what) {
        BYTEPIECE_THROW(model_error(errc::model_sentencepiece_invalid,
                                    std::string(source) + ": precompiled_charsmap, byte " + std::to_string(at) +
                                        ": the blob " + what));
    }

    // Visits every state the walk can reach (each once, whatever the number of paths to it)
    // and checks each reachable value: its unit inside the trie, its offset inside the
    // replacements, a NUL before their end, well-formed UTF-8 up to it.
    void check_reachable(std::string_view source) {
        const std::size_t count = units_.size();
        if (count == 0) return;
        // A state can lie past the units and still reach a slot inside them (the xor with a
        // byte only changes the low 8 bits), so states are tracked up to the next block of 256.
        const std::size_t limit = (count + 255) / 256 * 256;
        std::vector<unsigned char> seen(limit, 0);
        std::vector<unsigned char> value_ok(replacements_.size(), 0);
        std::vector<std::size_t> stack;
        const std::size_t start = offset(units_[0]);
        if (start >= limit) return;
        seen[start] = 1;
        stack.push_back(start);
        while (!stack.empty()) {
            const std::size_t state = stack.back();
            stack.pop_back();
            for (unsigned c = 0; c < 256; ++c) {
                const std::size_t slot = state ^ c;
                if (slot >= count || label(units_[slot]) != c) continue;
                const std::size_t next = slot ^ offset(units_[slot]);
                if (has_leaf(units_[slot])) {
                    if (next >= count)
                        fail(source, 4 + 4 * slot,
                             "has a unit whose value unit " + std::to_string(next) + " lies outside the " +
                                 std::to_string(count) + " units of the trie");
                    check_value(source, next, value(units_[next]), value_ok);
                }
                if (next < limit && !seen[next]) {
                    seen[next] = 1;
                    stack.push_back(next);
                }
            }
        }
    }

    void check_value(std::string_view source, std::size_t unit_index, std::uint32_t v,
                     std::vector<unsigned char>& value_ok) const {
        const std::size_t at = 4 + 4 * unit_index;
        if (v >= replacements_.size())
            fail(source, at,
                 "has a value " + std::to_string(v) + " outside its " + std::to_string(replacements_.size()) +
                     " bytes of replacements");
        if (value_ok[v]) return;
        const void* nul = std::memchr(replacements_.data() + v, 0, replacements_.size() - v);
        if (nul == nullptr)
            fail(source, at, "has a replacement at offset " + std::to_string(v) + " with no terminating NUL");
        const auto* b = reinterpret_cast<const unsigned char*>(replacements_.data() + v);
        const auto* e = static_cast<const unsigned char*>(nul);
        while (b < e) {
            const auto d = utf8::decode(b, e);
            if (d.cp == utf8::invalid)
                fail(source, 4 + units_.size() * 4 + static_cast<std::size_t>(reinterpret_cast<const char*>(b) - replacements_.data()),
                     "has a replacement (at offset " + std::to_string(v) + ") that is not valid UTF-8");
            b += d.length;
        }
        value_ok[v] = 1;
    }

    void collect(std::size_t state, std::string& key, std::size_t depth_left, std::size_t max_keys,
                 std::vector<std::pair<std::string, std::string>>& out) const {
        if (depth_left == 0 || out.size() >= max_keys) return;
        for (unsigned c = 0; c < 256; ++c) {
            const std::size_t slot = state ^ c;
            if (slot >= units_.size() || label(units_[slot]) != c) continue;
            const std::size_t next = slot ^ offset(units_[slot]);
            key.push_back(static_cast<char>(c));
            if (has_leaf(units_[slot]) && next < units_.size())
                out.emplace_back(key, std::string(replacement_at(value(units_[next]))));
            collect(next, key, depth_left - 1, max_keys, out);
            key.pop_back();
        }
    }

    std::vector<std::uint32_t> units_;
    std::string replacements_;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
