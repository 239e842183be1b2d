// SPDX-License-Identifier: Apache-2.0
//
// SentencePiece 0.1.97's normalizer (spec sentencepiece-and-hf.md section 2.2): user-defined
// symbols, the precompiled charsmap with longest match, U+FFFD per malformed byte, and the
// whitespace rules, byte for byte as SentencePiece's `Normalize`.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/charsmap.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/sentencepiece_model.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// The USER_DEFINED pieces as SentencePiece's prefix matcher sees them: each cut at its first
/// NUL (the matcher is built from C strings), matched longest first. A plain byte trie; it is
/// only consulted at bytes that start some symbol.
class sp_symbol_matcher {
public:
    sp_symbol_matcher() = default;

    explicit sp_symbol_matcher(const std::vector<std::string_view>& symbols) {
        nodes_.emplace_back();
        for (std::string_view s : symbols) {
            s = s.substr(0, s.find('\0'));
            if (s.empty()) continue;  // an empty key never matches a non-empty prefix
            std::uint32_t n = 0;
            for (unsigned char c : s) {
                std::uint32_t child = find(n, c);
                if (child == 0) {
                    child = static_cast<std::uint32_t>(nodes_.size());
                    auto& edges = nodes_[n].edges;
                    edges.insert(std::lower_bound(edges.begin(), edges.end(), std::make_pair(c, std::uint32_t{0})),
                                 std::make_pair(c, child));
                    nodes_.emplace_back();
                }
                n = child;
            }
            nodes_[n].terminal = true;
        }
        if (nodes_.size() == 1) nodes_.clear();
    }

    bool empty() const noexcept { return nodes_.empty(); }

    bool starts_symbol(unsigned char b) const noexcept { return !nodes_.empty() && find(0, b) != 0; }

    /// Length of the longest symbol that is a prefix of `[p, end)`, or 0.
    std::size_t longest_match(const unsigned char* p, const unsigned char* end) const noexcept {
        if (nodes_.empty()) return 0;
        std::uint32_t n = 0;
        std::size_t best = 0;
        for (const unsigned char* q = p; q < end; ++q) {
            n = find(n, *q);
            if (n == 0) break;
            if (nodes_[n].terminal) best = static_cast<std::size_t>(q - p) + 1;
        }
        return best;
    }

private:
    struct node {
        std::vector<std::pair<unsigned char, std::uint32_t>> edges;  // sorted by byte
        bool terminal = false;
    };

    // Node 0 is the root, so 0 doubles as "no child".
    std::uint32_t find(std::uint32_t n, unsigned char c) const noexcept {
        const auto& edges = nodes_[n].edges;
        const auto it = std::lower_bound(edges.begin(), edges.end(), std::make_pair(c, std::uint32_t{0}));
        return it != edges.end() && it->first == c ? it->second : 0;
    }

    std::vector<node> nodes_;
};

}  // namespace detail

/// Normalizes text exactly as SentencePiece 0.1.97 does before segmenting it: the model's
/// user-defined symbols pass through unnormalized, everything else goes through its
/// precompiled charsmap (longest key first), each malformed UTF-8 byte becomes U+FFFD, and
/// spaces are trimmed, collapsed, prefixed (or suffixed) and escaped to U+2581 as the model's
/// flags say. The output is always well-formed UTF-8.
///
/// Example:
/// ```
/// auto m = bytepiece::sentencepiece_model::load("albert/30k-clean.model");
/// bytepiece::sentencepiece_normalizer norm(m);
/// norm.normalize("  Hello\tＷorld ");  // "\u2581Hello\u2581World"
/// ```
class sentencepiece_normalizer {
public:
    /// The normalizer SentencePiece uses to encode with `m`: its normalizer_spec, its
    /// trainer_spec's treat_whitespace_as_suffix and its USER_DEFINED pieces. Throws
    /// `model_error` (`model_sentencepiece_invalid`) naming `source` when the charsmap is
    /// broken or a user-defined piece is not well-formed UTF-8.
    ///
    /// Example: `bytepiece::sentencepiece_normalizer norm(model, "spiece.model");`
    explicit sentencepiece_normalizer(const sentencepiece_model& m, std::string_view source = "<memory>")
        : sentencepiece_normalizer(m.normalizer, m.trainer.treat_whitespace_as_suffix, user_symbols(m, source),
                                   source) {}

    /// A normalizer from a spec alone, with no user-defined symbols and whitespace as a
    /// prefix: how SentencePiece builds the denormalizer that decoding applies.
    ///
    /// Example: `bytepiece::sentencepiece_normalizer denorm(*model.denormalizer, "spiece.model");`
    explicit sentencepiece_normalizer(const sentencepiece_model::normalizer_spec& spec,
                                      std::string_view source = "<memory>")
        : sentencepiece_normalizer(spec, false, {}, source) {}

    /// Writes the normalized form of `text` to `out` (which is overwritten). Any bytes are
    /// accepted.
    ///
    /// Example: `std::string buf; norm.normalize("a  b", buf);  // buf == "\u2581a\u2581b"`
    void normalize(std::string_view text, std::string& out) const {
        out.clear();
        const auto* p = reinterpret_cast<const unsigned char*>(text.data());
        const auto* const end = p + text.size();
        if (p == end) return;
        if (remove_extra_whitespaces_) {
            while (p < end) {
                const step_result s = step(p, end);
                if (s.size != 1 || s.data[0] != ' ') break;
                p += s.consumed;
            }
            if (p == end) return;
        }
        out.reserve(text.size() + text.size() / 4 + 8);
        if (add_dummy_prefix_ && !treat_whitespace_as_suffix_) out.append(space_symbol());

        // True when the last replacement written ended with a space, so the next one loses
        // its leading spaces; only while extra whitespace is being removed.
        bool prev_space = remove_extra_whitespaces_;
        while (p < end) {
            // Bytes whose one step is themselves (no symbol, no rule, valid UTF-8, not a
            // space) are copied in one run; that is nearly all of ordinary text.
            const unsigned char* const run = p;
            unsigned char cls = byte_class::slow;
            while (p < end) {
                cls = class_[*p];
                if (cls == byte_class::plain) {
                    ++p;
                } else if (cls == byte_class::plain_before_ascii) {
                    if (p + 1 != end && p[1] >= 0x80) break;
                    ++p;
                } else if (cls == byte_class::lead) {
                    const auto d = detail::utf8::decode(p, end);
                    if (d.cp == detail::utf8::invalid) break;
                    p += d.length;
                } else {
                    break;
                }
            }
            if (p != run) {
                out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
                prev_space = false;
                if (p == end) break;
            }
            if (cls == byte_class::space || (cls == byte_class::space_before_ascii && (p + 1 == end || p[1] < 0x80))) {
                // A step whose replacement is one U+0020.
                if (!prev_space) out.append(space_symbol());
                prev_space = remove_extra_whitespaces_;
                ++p;
                continue;
            }
            const step_result s = step(p, end);
            std::string_view r(s.data, s.size);
            if (prev_space) {
                const std::size_t first = r.find_first_not_of(' ');
                r.remove_prefix(first == std::string_view::npos ? r.size() : first);
            }
            if (!r.empty()) {
                append_escaped(r, out);
                prev_space = r.back() == ' ';
            }
            if (!remove_extra_whitespaces_) prev_space = false;
            p += s.consumed;
        }

        if (remove_extra_whitespaces_) {
            const std::string_view sym = space_symbol();
            while (out.size() >= sym.size() && out.compare(out.size() - sym.size(), sym.size(), sym) == 0)
                out.resize(out.size() - sym.size());
        }
        if (add_dummy_prefix_ && treat_whitespace_as_suffix_) out.append(space_symbol());
    }

    /// The normalized form of `text`.
    ///
    /// Example: `norm.normalize("ﬁne")  // "\u2581fine" with an nmt_nfkc model`
    std::string normalize(std::string_view text) const {
        std::string out;
        normalize(text, out);
        return out;
    }

    /// The model's normalizer flags as this normalizer applies them.
    bool add_dummy_prefix() const noexcept { return add_dummy_prefix_; }
    bool remove_extra_whitespaces() const noexcept { return remove_extra_whitespaces_; }
    bool escape_whitespaces() const noexcept { return escape_whitespaces_; }
    bool treat_whitespace_as_suffix() const noexcept { return treat_whitespace_as_suffix_; }

private:
    // What the fast path may do with a byte, decided once per model.
    struct byte_class {
        static constexpr unsigned char plain = 0;               // ASCII that maps to itself
        static constexpr unsigned char plain_before_ascii = 1;  // ditto unless a non-ASCII byte follows
        static constexpr unsigned char space = 2;               // U+0020 that stays U+0020
        static constexpr unsigned char space_before_ascii = 3;  // ditto unless a non-ASCII byte follows
        static constexpr unsigned char lead = 4;                // non-ASCII byte starting no key or symbol
        static constexpr unsigned char slow = 5;                // needs the full step
    };

    // One step of SentencePiece's NormalizePrefix: a replacement and the bytes it consumed.
    // Keeping `consumed` per step is what a normalized-to-original offset map would record.
    struct step_result {
        const char* data;
        std::size_t size;
        std::size_t consumed;
    };

    sentencepiece_normalizer(const sentencepiece_model::normalizer_spec& spec, bool suffix,
                             const std::vector<std::string_view>& symbols, std::string_view source)
        : charsmap_(spec.precompiled_charsmap, source),
          symbols_(symbols),
          add_dummy_prefix_(spec.add_dummy_prefix),
          remove_extra_whitespaces_(spec.remove_extra_whitespaces),
          escape_whitespaces_(spec.escape_whitespaces),
          treat_whitespace_as_suffix_(suffix) {
        for (unsigned b = 0; b < 256; ++b) class_[b] = classify(static_cast<unsigned char>(b));
    }

    static std::vector<std::string_view> user_symbols(const sentencepiece_model& m, std::string_view source) {
        std::vector<std::string_view> out;
        for (std::size_t i = 0; i < m.pieces.size(); ++i) {
            const auto& piece = m.pieces[i];
            if (piece.type != sentencepiece_model::piece_type::user_defined) continue;
            // Symbols are copied to the output as they are, and everything downstream relies on
            // normalized text being well-formed.
            const auto* b = reinterpret_cast<const unsigned char*>(piece.text.data());
            const auto* e = b + piece.text.size();
            while (b < e) {
                const auto d = detail::utf8::decode(b, e);
                if (d.cp == detail::utf8::invalid)
                    BYTEPIECE_THROW(model_error(errc::model_sentencepiece_invalid,
                                                std::string(source) + ": piece " + std::to_string(i) +
                                                    ": a USER_DEFINED piece that is not valid UTF-8"));
                b += d.length;
            }
            out.push_back(piece.text);
        }
        return out;
    }

    unsigned char classify(unsigned char b) const noexcept {
        if (symbols_.starts_symbol(b)) return byte_class::slow;
        const bool key = charsmap_.starts_key(b);
        if (b >= 0x80) return key ? byte_class::slow : byte_class::lead;
        const unsigned char base = b == ' ' ? byte_class::space : byte_class::plain;
        if (!key) return base;
        bool alone = false, ascii_next = false;
        charsmap_.first_byte_facts(b, alone, ascii_next);
        if (alone || ascii_next) return byte_class::slow;
        return b == ' ' ? byte_class::space_before_ascii : byte_class::plain_before_ascii;
    }

    std::string_view space_symbol() const noexcept {
        return escape_whitespaces_ ? std::string_view("\xE2\x96\x81", 3) : std::string_view(" ", 1);
    }

    step_result step(const unsigned char* p, const unsigned char* end) const noexcept {
        const auto n = static_cast<std::size_t>(end - p);
        if (const std::size_t k = symbols_.longest_match(p, end)) return {reinterpret_cast<const char*>(p), k, k};
        std::string_view r;
        if (const std::size_t k = charsmap_.longest_match(p, n, r)) return {r.data(), r.size(), k};
        const auto d = detail::utf8::decode(p, end);
        if (d.cp == detail::utf8::invalid) return {"\xEF\xBF\xBD", 3, 1};
        return {reinterpret_cast<const char*>(p), d.length, d.length};
    }

    void append_escaped(std::string_view r, std::string& out) const {
        if (!escape_whitespaces_) {
            out.append(r);
            return;
        }
        for (std::size_t at = 0;;) {
            const std::size_t sp = r.find(' ', at);
            if (sp == std::string_view::npos) {
                out.append(r.substr(at));
                return;
            }
            out.append(r.substr(at, sp - at));
            out.append("\xE2\x96\x81", 3);
            at = sp + 1;
        }
    }

    detail::sp_charsmap charsmap_;
    detail::sp_symbol_matcher symbols_;
    bool add_dummy_prefix_;
    bool remove_extra_whitespaces_;
    bool escape_whitespaces_;
    bool treat_whitespace_as_suffix_;
    unsigned char class_[256];
};

BYTEPIECE_NAMESPACE_END
