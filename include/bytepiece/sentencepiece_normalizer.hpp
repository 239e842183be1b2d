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
#include "bytepiece/offsets.hpp"
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
            for (const char ch : s) {
                const auto c = static_cast<unsigned char>(ch);
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
            p = skip_leading_spaces(p, end);
            if (p == end) return;
        }
        // Output goes through a raw cursor into `out`, grown on demand: appending piece by
        // piece to a std::string cost a third of the time on English text.
        writer w(out, static_cast<std::size_t>(end - p));
        if (add_dummy_prefix_ && !treat_whitespace_as_suffix_) w.put_space(escape_whitespaces_);

        // True when the last replacement written ended with a space, so the next one loses
        // its leading spaces; only while extra whitespace is being removed.
        bool prev_space = remove_extra_whitespaces_;
        while (p < end) {
            // Bytes whose one step is themselves (no symbol, no rule, valid UTF-8, not a
            // space) are copied as they are scanned, and single spaces handled on the way;
            // that is nearly all of ordinary text. A segment of at most `segment` input bytes
            // writes at most 3 bytes per byte read (a space escaped), plus 3 of slack for the
            // copy of a whole character.
            const unsigned char* const stop = static_cast<std::size_t>(end - p) > segment ? p + segment : end;
            w.reserve(3 * static_cast<std::size_t>(stop - p) + 4);
            char* o = w.cursor();
            bool space_before = prev_space;
            while (p < stop) {
                const unsigned char cls = class_[*p];
                const unsigned next = p + 1 != end ? p[1] : 0u;
                if (cls <= byte_class::plain_before_ascii) {
                    // plain_before_ascii is 1: a following non-ASCII byte may extend a key.
                    if ((cls & (next >> 7)) != 0) break;
                    *o++ = static_cast<char>(*p++);
                    space_before = false;
                } else if (cls == byte_class::space || (cls == byte_class::space_before_ascii && next < 0x80)) {
                    // A step whose replacement is one U+0020.
                    if (!space_before) {
                        if (escape_whitespaces_) {
                            o[0] = '\xE2';
                            o[1] = '\x96';
                            o[2] = '\x81';
                            o += 3;
                        } else {
                            *o++ = ' ';
                        }
                    }
                    space_before = remove_extra_whitespaces_;
                    ++p;
                } else if (cls == byte_class::lead) {
                    const auto d = detail::utf8::decode(p, end);
                    if (d.cp == detail::utf8::invalid) break;
                    for (std::size_t k = 0; k < d.length; ++k) o[k] = static_cast<char>(p[k]);
                    o += d.length;
                    p += d.length;
                    space_before = false;
                } else {
                    break;
                }
            }
            w.set_cursor(o);
            prev_space = space_before;
            // A character copied whole can end past the segment; the next segment resumes there.
            if (p >= stop) continue;
            const step_result s = step(p, end);
            std::string_view r(s.data, s.size);
            if (prev_space) {
                const std::size_t first = r.find_first_not_of(' ');
                r.remove_prefix(first == std::string_view::npos ? r.size() : first);
            }
            if (!r.empty()) {
                w.reserve(3 * r.size());
                for (char c : r) {
                    if (c == ' ') w.put_space(escape_whitespaces_);
                    else w.put(c);
                }
                prev_space = r.back() == ' ';
            }
            if (!remove_extra_whitespaces_) prev_space = false;
            p += s.consumed;
        }

        if (remove_extra_whitespaces_) w.drop_trailing_spaces(escape_whitespaces_);
        w.reserve(3);
        if (add_dummy_prefix_ && treat_whitespace_as_suffix_) w.put_space(escape_whitespaces_);
        w.finish();
    }

    /// `normalize(text, out)`, also recording in `align` (cleared first) where each stretch
    /// of `out` came from in `text`, step by step as SentencePiece normalizes: a character or
    /// user-defined symbol kept as it is maps byte for byte, a charsmap replacement or an
    /// escaped space maps to the whole input it consumed, the dummy prefix to the empty range
    /// where it was inserted, and trimmed or collapsed spaces to nothing (see offsets.hpp).
    /// The output equals `normalize(text, out)`'s.
    ///
    /// Example: `bytepiece::alignment a; norm.normalize("a  b", buf, a);  // a.original(0, 4) == {0, 1}`
    void normalize(std::string_view text, std::string& out, alignment& align) const {
        out.clear();
        align.clear();
        const auto* const begin = reinterpret_cast<const unsigned char*>(text.data());
        const auto* const end = begin + text.size();
        const unsigned char* p = begin;
        if (p == end) return;
        const auto at = [begin](const unsigned char* q) { return static_cast<std::size_t>(q - begin); };
        const auto put_space = [&] {
            if (escape_whitespaces_) out += "\xE2\x96\x81";
            else out += ' ';
        };
        if (remove_extra_whitespaces_) {
            p = skip_leading_spaces(p, end);
            if (p == end) return;
        }
        if (add_dummy_prefix_ && !treat_whitespace_as_suffix_) {
            put_space();
            align.replace(0, out.size(), at(p), at(p));
        }
        bool prev_space = remove_extra_whitespaces_;
        while (p < end) {
            const step_result s = step(p, end);
            std::string_view r(s.data, s.size);
            if (prev_space) {
                const std::size_t first = r.find_first_not_of(' ');
                r.remove_prefix(first == std::string_view::npos ? r.size() : first);
            }
            if (!r.empty()) {
                const std::size_t o = out.size();
                for (const char c : r) {
                    if (c == ' ') put_space();
                    else out += c;
                }
                const bool copied = r.data() == reinterpret_cast<const char*>(p) && out.size() - o == s.consumed;
                if (copied) align.copy(o, at(p), s.consumed);
                else align.replace(o, out.size(), at(p), at(p) + s.consumed);
                prev_space = r.back() == ' ';
            }
            if (!remove_extra_whitespaces_) prev_space = false;
            p += s.consumed;
        }
        if (remove_extra_whitespaces_) {
            const std::string_view space = escape_whitespaces_ ? std::string_view("\xE2\x96\x81") : std::string_view(" ");
            while (out.size() >= space.size() && std::string_view(out).substr(out.size() - space.size()) == space)
                out.resize(out.size() - space.size());
            align.truncate(out.size());
        }
        if (add_dummy_prefix_ && treat_whitespace_as_suffix_) {
            const std::size_t o = out.size();
            put_space();
            align.replace(o, out.size(), text.size(), text.size());
        }
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
    ///
    /// Example: `if (norm.add_dummy_prefix() && !norm.treat_whitespace_as_suffix()) { /* text starts with U+2581 */ }`
    bool add_dummy_prefix() const noexcept { return add_dummy_prefix_; }
    bool remove_extra_whitespaces() const noexcept { return remove_extra_whitespaces_; }
    bool escape_whitespaces() const noexcept { return escape_whitespaces_; }
    bool treat_whitespace_as_suffix() const noexcept { return treat_whitespace_as_suffix_; }

private:
    // Input bytes the fast path scans between two checks of the output's room.
    static constexpr std::size_t segment = 4096;

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

    step_result step(const unsigned char* p, const unsigned char* end) const noexcept {
        const auto n = static_cast<std::size_t>(end - p);
        if (const std::size_t k = symbols_.longest_match(p, end)) return {reinterpret_cast<const char*>(p), k, k};
        std::string_view r;
        if (const std::size_t k = charsmap_.longest_match(p, n, r)) return {r.data(), r.size(), k};
        const auto d = detail::utf8::decode(p, end);
        if (d.cp == detail::utf8::invalid) return {"\xEF\xBF\xBD", 3, 1};
        return {reinterpret_cast<const char*>(p), d.length, d.length};
    }

    // The first position whose normalized output is not a single space: the leading spaces
    // remove_extra_whitespaces drops.
    const unsigned char* skip_leading_spaces(const unsigned char* p, const unsigned char* end) const noexcept {
        while (p < end) {
            const step_result s = step(p, end);
            if (s.size != 1 || s.data[0] != ' ') break;
            p += s.consumed;
        }
        return p;
    }

    // A cursor into a string sized ahead of the writes; `finish` trims it to what was written.
    class writer {
    public:
        writer(std::string& out, std::size_t input_size) : out_(out) {
            out_.resize(input_size + input_size / 2 + 16);
            at_ = 0;
        }
        void reserve(std::size_t n) {
            if (out_.size() - at_ < n) out_.resize(std::max(out_.size() * 2, at_ + n));
        }
        char* cursor() noexcept { return &out_[0] + at_; }
        void set_cursor(char* c) noexcept { at_ = static_cast<std::size_t>(c - &out_[0]); }
        // Callers reserve first; put_space needs up to 3 bytes.
        void put(char c) noexcept { out_[at_++] = c; }
        void put_space(bool escape) noexcept {
            if (escape) {
                out_[at_] = '\xE2';
                out_[at_ + 1] = '\x96';
                out_[at_ + 2] = '\x81';
                at_ += 3;
            } else {
                out_[at_++] = ' ';
            }
        }
        void drop_trailing_spaces(bool escape) noexcept {
            if (escape) {
                while (at_ >= 3 && out_[at_ - 3] == '\xE2' && out_[at_ - 2] == '\x96' && out_[at_ - 1] == '\x81') at_ -= 3;
            } else {
                while (at_ >= 1 && out_[at_ - 1] == ' ') --at_;
            }
        }
        void finish() { out_.resize(at_); }

    private:
        std::string& out_;
        std::size_t at_ = 0;
    };

    detail::sp_charsmap charsmap_;
    detail::sp_symbol_matcher symbols_;
    bool add_dummy_prefix_;
    bool remove_extra_whitespaces_;
    bool escape_whitespaces_;
    bool treat_whitespace_as_suffix_;
    unsigned char class_[256];
};

BYTEPIECE_NAMESPACE_END
