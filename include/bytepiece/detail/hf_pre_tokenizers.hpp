// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/hf_json.hpp"
#include "bytepiece/detail/regex.hpp"
#include "bytepiece/detail/unicode_categories.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/offsets.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// HF's pre-tokenizer stage (tokenizers 0.23, `pre_tokenizers/*.rs`): Sequence, Metaspace,
/// WhitespaceSplit, Whitespace, Split, Punctuation, Digits, ByteLevel, BertPreTokenizer and
/// CharDelimiterSplit, on plain UTF-8 strings. Offsets are found afterwards, by `align`, so that
/// the plain path keeps none. Anything else is a model_hf_unsupported error.
class hf_pre_tokenizer {
public:
    /// No pre-tokenizer: a segment is one pre-token.
    /// Example: `hf_pre_tokenizer none;`
    hf_pre_tokenizer() = default;

    /// Reads the `pre_tokenizer` value of a tokenizer.json (null: none).
    /// Example: `hf_pre_tokenizer p(doc.at("pre_tokenizer"));`
    explicit hf_pre_tokenizer(const hf_json::cursor& c) {
        if (!c.is_null()) add(c);
    }

    /// Appends the pre-tokens of `segment` to `out`, back to back, and the end offset (in `out`)
    /// of each to `ends`; empty pre-tokens are not appended. `at_text_start`: the segment's first
    /// character comes from offset 0 of the original text (what Metaspace's prepend_scheme
    /// "first" looks at; HF compares original offsets, so a normalizer that removed leading
    /// characters makes this false).
    /// Example: `p.pre_tokenize("Hello world", true, out, ends);`
    void pre_tokenize(std::string_view segment, bool at_text_start, std::string& out,
                      std::vector<std::uint32_t>& ends) const {
        if (segment.empty()) return;
        if (steps_.empty()) {
            out.append(segment);
            ends.push_back(static_cast<std::uint32_t>(out.size()));
            return;
        }
        if (steps_.size() == 1) {
            apply(steps_[0], segment, at_text_start, out, ends);
            return;
        }
        // Intermediate results alternate between two per-thread buffers.
        scratch& s = buffers();
        std::string* src_text = &s.text[0];
        std::vector<std::uint32_t>* src_ends = &s.ends[0];
        src_text->assign(segment);
        src_ends->assign(1, static_cast<std::uint32_t>(segment.size()));
        bool first_at_start = at_text_start;
        for (std::size_t k = 0; k < steps_.size(); ++k) {
            const bool last = k + 1 == steps_.size();
            std::string* dst_text = last ? &out : &s.text[(k + 1) % 2];
            std::vector<std::uint32_t>* dst_ends = last ? &ends : &s.ends[(k + 1) % 2];
            if (!last) {
                dst_text->clear();
                dst_ends->clear();
            }
            bool next_first_at_start = false;
            std::uint32_t begin = 0;
            for (std::size_t i = 0; i < src_ends->size(); ++i) {
                const std::uint32_t end = (*src_ends)[i];
                const std::string_view piece(src_text->data() + begin, end - begin);
                const std::size_t before = dst_ends->size();
                const bool at_start = i == 0 && first_at_start;
                const bool kept_front = apply(steps_[k], piece, at_start, *dst_text, *dst_ends);
                if (i == 0 && dst_ends->size() > before) next_first_at_start = at_start && kept_front;
                begin = end;
            }
            if (!last) {
                src_text = dst_text;
                src_ends = dst_ends;
                first_at_start = next_first_at_start;
                if (src_ends->empty()) return;
            }
        }
    }

    /// Records in `a` where each byte of the pre-tokens `pre_tokenize(segment, ...)` wrote
    /// (out[from, ends[count - 1]), their ends in `ends[0, count)`) came from in `segment`,
    /// whose position 0 is position `in_shift` of the alignment's input. Every step keeps its
    /// pre-tokens' text in order, so each pre-token is found in the segment after the previous
    /// one: a byte written in the byte alphabet maps to the byte it stands for, a Metaspace
    /// replacement to the space it replaced (or to the empty range where it was prepended),
    /// anything else to itself; white space a step dropped belongs to no pre-token. With a
    /// step that may drop other text (Split or Punctuation with "Removed", CharDelimiterSplit)
    /// the pre-tokens of the segment map to the whole segment.
    ///
    /// Example: `std::size_t from = out.size(), first = ends.size(); p.pre_tokenize(seg, true, out, ends); p.align(seg, 0, out, from, ends.data() + first, ends.size() - first, a);`
    void align(std::string_view segment, std::size_t in_shift, const std::string& out, std::size_t from,
               const std::uint32_t* ends, std::size_t count, alignment& a) const {
        if (count == 0) return;
        const std::size_t out_end = ends[count - 1];
        std::string_view rep;
        bool byte_level = false, prefix_space = false, removes_space = false;
        for (const step& st : steps_) {
            if (st.k == kind::metaspace) rep = st.replacement;
            if (st.k == kind::byte_level) byte_level = true, prefix_space = prefix_space || st.flag;
            if (st.k == kind::whitespace_split || st.k == kind::whitespace) removes_space = true;
            if ((st.k == kind::split || st.k == kind::punctuation) && st.b == behavior::removed) {
                a.replace(from, out_end, in_shift, in_shift + segment.size());
                return;
            }
        }
        scratch& sc = buffers();
        std::string& mapped = sc.mapped;  // with ByteLevel: a pre-token's bytes, the alphabet undone
        std::vector<std::uint32_t>& starts = sc.ends[0];  // and where each of them starts in `out`
        const std::size_t n = segment.size();
        const auto* seg = reinterpret_cast<const unsigned char*>(segment.data());
        std::size_t j = 0, o = from;
        if (byte_level && rep.empty()) {
            // The usual byte-level file: every character of the alphabet (one or two bytes)
            // stands for one byte of the segment; printable ASCII stands for itself.
            const byte_alphabet& al = alphabet();
            const auto* p = reinterpret_cast<const unsigned char*>(out.data());
            std::size_t k = o, token_start = o;
            for (std::size_t t = 0; t < count; ++t) {
                const std::size_t end = ends[t];
                token_start = k;
                while (k < end) {
                    const unsigned char c = p[k];
                    if (c > 0x20 && c < 0x7F && j < n && seg[j] == c) {
                        std::size_t r = 1;
                        while (k + r < end && j + r < n && p[k + r] == seg[j + r] && p[k + r] > 0x20 && p[k + r] < 0x7F) ++r;
                        a.copy(k, in_shift + j, r);
                        k += r;
                        j += r;
                        continue;
                    }
                    const std::size_t len = c < 0x80 || k + 1 >= end ? 1 : 2;
                    const char32_t cp = len == 1 ? c : ((c & 0x1Fu) << 6) | (p[k + 1] & 0x3Fu);
                    const unsigned v = cp < 0x144 ? al.byte_of[cp] : 0x100;
                    if (k == token_start && prefix_space && v == ' ' && (j >= n || seg[j] != ' ')) {
                        a.replace(k, k + len, in_shift + j, in_shift + j);  // prepended
                        k += len;
                        continue;
                    }
                    if (j < n && v == seg[j]) {
                        a.replace(k, k + len, in_shift + j, in_shift + j + 1);
                        k += len;
                        ++j;
                        continue;
                    }
                    if (k == token_start && removes_space && j < n) {
                        const utf8::decoded d = utf8::decode(seg + j, seg + n);
                        if (d.cp != utf8::invalid && is_white_space(d.cp)) {
                            j += d.length;
                            continue;
                        }
                    }
                    a.replace(k, out_end, in_shift + j, in_shift + n);
                    return;
                }
            }
            return;
        }
        for (std::size_t t = 0; t < count; ++t) {
            const std::size_t end = ends[t];
            std::string_view bytes(out.data() + o, end - o);
            if (byte_level) {
                mapped.clear();
                starts.clear();
                const byte_alphabet& al = alphabet();
                const auto* p = reinterpret_cast<const unsigned char*>(out.data());
                for (std::size_t k = o; k < end;) {
                    const utf8::decoded d = utf8::decode(p + k, p + end);
                    starts.push_back(static_cast<std::uint32_t>(k));
                    mapped.push_back(static_cast<char>(d.cp < 0x144 ? al.byte_of[d.cp] : 0));
                    k += d.length;
                }
                starts.push_back(static_cast<std::uint32_t>(end));
                bytes = mapped;
            }
            const std::size_t base = o;
            const auto start = [&](std::size_t i) -> std::size_t { return byte_level ? starts[i] : base + i; };
            const std::size_t m = bytes.size();
            std::size_t i = 0;
            while (i < m) {
                if (!rep.empty() && bytes.compare(i, rep.size(), rep) == 0 &&
                    !(j < n && segment.compare(j, rep.size(), rep) == 0)) {
                    if (j < n && seg[j] == ' ') {
                        a.replace(start(i), start(i + rep.size()), in_shift + j, in_shift + j + 1);
                        i += rep.size();
                        ++j;
                        continue;
                    }
                    if (i == 0) {  // prepended
                        a.replace(start(i), start(i + rep.size()), in_shift + j, in_shift + j);
                        i += rep.size();
                        continue;
                    }
                }
                if (prefix_space && i == 0 && bytes[0] == ' ' && (j >= n || seg[j] != ' ')) {
                    a.replace(start(0), start(1), in_shift + j, in_shift + j);
                    ++i;
                    continue;
                }
                if (!byte_level) {
                    // A run of equal bytes at once: text the pre-tokenizer copied.
                    std::size_t r = 0;
                    while (i + r < m && j + r < n && bytes[i + r] == static_cast<char>(seg[j + r]) &&
                           (rep.empty() || bytes[i + r] != rep[0]))
                        ++r;
                    if (r > 0) {
                        a.copy(base + i, in_shift + j, r);
                        i += r;
                        j += r;
                        continue;
                    }
                }
                if (j < n && static_cast<unsigned char>(bytes[i]) == seg[j]) {
                    if (start(i + 1) - start(i) == 1)
                        a.copy(start(i), in_shift + j, 1);
                    else
                        a.replace(start(i), start(i + 1), in_shift + j, in_shift + j + 1);
                    ++i;
                    ++j;
                    continue;
                }
                if (i == 0 && removes_space && j < n) {
                    const utf8::decoded d = utf8::decode(seg + j, seg + n);
                    if (d.cp != utf8::invalid && is_white_space(d.cp)) {
                        j += d.length;
                        continue;
                    }
                }
                // Not found where expected: the rest maps to the rest of the segment.
                a.replace(start(i), out_end, in_shift + j, in_shift + n);
                return;
            }
            o = end;
        }
    }

    /// True when there is no pre-tokenizer (each segment is one pre-token).
    /// Example: `if (p.is_identity()) ...`
    bool is_identity() const noexcept { return steps_.empty(); }

    /// Why token healing is not defined with these pre-tokenizers (empty when it is): healing
    /// needs every step to keep the start of a segment's last pre-token a pre-token start,
    /// and the pre-tokens before it unchanged, whatever text is appended, and to keep all of
    /// the text (see docs/token_healing.md). Metaspace, ByteLevel without its regex and the
    /// BytePiece chunk split (`[^\n]*\n+`, Isolated) do; the others are named here.
    ///
    /// Example: `if (auto why = p.heal_obstacle(); !why.empty()) refuse(why);`
    std::string heal_obstacle() const {
        for (const step& st : steps_) {
            switch (st.k) {
            case kind::metaspace: break;
            case kind::byte_level:
                if (st.flag2)
                    return "ByteLevel with use_regex: its pattern gives a trailing space to the word that follows "
                           "(\\s+(?!\\S)) and re-splits contractions, so a continuation can change pre-tokens "
                           "before the prompt's end";
                break;
            case kind::split:
                // The exports write the newlines as characters; the escaped form means the same.
                if ((st.source != "[^\n]*\n+" && st.source != "[^\\n]*\\n+") || st.b != behavior::isolated || st.flag)
                    return "Split (other than the BytePiece chunk pattern [^\\n]*\\n+ with Isolated): a regex can "
                           "match differently once text is appended, and Removed drops text";
                break;
            case kind::whitespace_split:
            case kind::whitespace:
                return "WhitespaceSplit, Whitespace and BertPreTokenizer: they drop white space, so the model's text "
                       "cannot show where a continuation starts a new pre-token";
            case kind::punctuation:
            case kind::digits:
                return "Punctuation and Digits: whether a continuation joins the prompt's last pre-token depends on "
                       "character classes this library does not heal by";
            }
        }
        return std::string();
    }

private:
    enum class kind : std::uint8_t { metaspace, whitespace_split, whitespace, split, punctuation, digits, byte_level };
    enum class behavior : std::uint8_t { removed, isolated, merged_with_previous, merged_with_next, contiguous };
    enum class prepend : std::uint8_t { always, first, never };

    struct step {
        kind k = kind::metaspace;
        behavior b = behavior::isolated;
        prepend scheme = prepend::always;
        bool flag = false;    // metaspace: split; split: invert; digits: individual; byte_level: add_prefix_space
        bool flag2 = false;   // byte_level: use_regex
        std::string replacement;
        std::string source;  // split: the regex source, as token healing must recognize it
        std::shared_ptr<const regex> re;
    };

    struct mark {
        std::uint32_t begin, end;
        bool is_match;
    };
    struct scratch {
        std::string text[2];
        std::vector<std::uint32_t> ends[2];
        std::vector<mark> marks, merged;
        std::string mapped;
    };
    static scratch& buffers() {
        static thread_local scratch s;
        return s;
    }

    static const char* gpt2_pattern() {
        return "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    }

    static behavior read_behavior(const hf_json::cursor& c) {
        const std::string_view v = c.string();
        if (v == "Removed") return behavior::removed;
        if (v == "Isolated") return behavior::isolated;
        if (v == "MergedWithPrevious") return behavior::merged_with_previous;
        if (v == "MergedWithNext") return behavior::merged_with_next;
        if (v == "Contiguous") return behavior::contiguous;
        c.invalid("is not a split behavior (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
    }

    void add(const hf_json::cursor& c) {
        if (!c.is_object()) c.malformed("should be an object, not " + c.type_name());
        if (!c.has("type")) c.unsupported("has no \"type\" (legacy untagged pre-tokenizers are not supported)");
        const std::string_view type = c.type();
        step s;
        if (type == "Sequence") {
            c.check_keys({"pretokenizers"});
            const hf_json::cursor list = c.at("pretokenizers");
            for (std::size_t i = 0; i < list.size(); ++i) add(list[i]);
            return;
        }
        if (type == "Metaspace") {
            c.check_keys({"replacement", "add_prefix_space", "prepend_scheme", "split", "str_rep"});
            s.k = kind::metaspace;
            const hf_json::cursor r = c.at("replacement");
            const std::string_view rep = r.string();
            const auto* p = reinterpret_cast<const unsigned char*>(rep.data());
            if (rep.empty() || utf8::decode(p, p + rep.size()).length != rep.size())
                r.invalid("should be exactly one character");
            s.replacement.assign(rep);
            s.scheme = prepend::always;
            if (const auto ps = c.find("prepend_scheme")) {
                const std::string_view v = ps->string();
                if (v == "always") s.scheme = prepend::always;
                else if (v == "first") s.scheme = prepend::first;
                else if (v == "never") s.scheme = prepend::never;
                else ps->invalid("is not a prepend scheme (always, first, never)");
            }
            if (const auto aps = c.find("add_prefix_space")) {
                // HF: add_prefix_space false is accepted only with prepend_scheme "never"; true is
                // accepted and ignored.
                if (!aps->boolean() && s.scheme != prepend::never)
                    aps->invalid("is false but prepend_scheme is not \"never\" (HF refuses this file)");
            }
            s.flag = true;
            if (const auto sp = c.find("split")) s.flag = sp->boolean();
            if (const auto sr = c.find("str_rep")) (void)sr->string();
            steps_.push_back(std::move(s));
            return;
        }
        if (type == "WhitespaceSplit" || type == "Whitespace") {
            c.check_keys({});
            s.k = type == "Whitespace" ? kind::whitespace : kind::whitespace_split;
            steps_.push_back(std::move(s));
            return;
        }
        if (type == "Split") {
            c.check_keys({"pattern", "behavior", "invert"});
            s.k = kind::split;
            const hf_json::cursor pat = c.at("pattern");
            if (!pat.is_object()) pat.malformed("should be an object {\"String\": ...} or {\"Regex\": ...}");
            std::string source;
            if (pat.has("String") && !pat.has("Regex") && pat.json().size() == 1) {
                source = escape_literal(pat.at("String").string());
            } else if (pat.has("Regex") && !pat.has("String") && pat.json().size() == 1) {
                source = std::string(pat.at("Regex").string());
            } else {
                pat.malformed("should be an object with one key, String or Regex");
            }
            try {
                s.re = std::make_shared<const regex>(source);
            } catch (const regex_unsupported& e) {
                (pat.has("Regex") ? pat.at("Regex") : pat.at("String")).unsupported(e.what());
            }
            s.b = read_behavior(c.at("behavior"));
            s.flag = c.at("invert").boolean();
            s.source = std::move(source);
            steps_.push_back(std::move(s));
            return;
        }
        if (type == "BertPreTokenizer") {
            // HF: split on whitespace (removed), then isolate punctuation.
            c.check_keys({});
            s.k = kind::whitespace_split;
            steps_.push_back(s);
            s.k = kind::punctuation;
            s.b = behavior::isolated;
            steps_.push_back(std::move(s));
            return;
        }
        if (type == "CharDelimiterSplit") {
            c.check_keys({"delimiter"});
            const hf_json::cursor d = c.at("delimiter");
            const std::string_view del = d.string();
            const auto* p = reinterpret_cast<const unsigned char*>(del.data());
            if (del.empty() || utf8::decode(p, p + del.size()).length != del.size())
                d.invalid("should be exactly one character");
            s.k = kind::split;
            s.b = behavior::removed;
            s.re = std::make_shared<const regex>(escape_literal(del));
            steps_.push_back(std::move(s));
            return;
        }
        if (type == "Punctuation") {
            c.check_keys({"behavior"});
            s.k = kind::punctuation;
            s.b = behavior::isolated;
            if (const auto b = c.find("behavior")) s.b = read_behavior(*b);
            steps_.push_back(std::move(s));
            return;
        }
        if (type == "Digits") {
            c.check_keys({"individual_digits"});
            s.k = kind::digits;
            s.flag = c.at("individual_digits").boolean();
            steps_.push_back(std::move(s));
            return;
        }
        if (type == "ByteLevel") {
            c.check_keys({"add_prefix_space", "trim_offsets", "use_regex"});
            s.k = kind::byte_level;
            s.flag = c.at("add_prefix_space").boolean();
            (void)c.at("trim_offsets").boolean();  // offsets only: no effect on ids
            s.flag2 = true;
            if (const auto u = c.find("use_regex")) s.flag2 = u->boolean();
            if (s.flag2) s.re = std::make_shared<const regex>(gpt2_pattern());
            steps_.push_back(std::move(s));
            return;
        }
        c.at("type").unsupported("the pre-tokenizer \"" + std::string(type) + "\" is not supported");
    }

    // HF builds a String pattern with regex::escape and compiles it with Oniguruma; escaping
    // every ASCII punctuation character gives the same literal here.
    static std::string escape_literal(std::string_view s) {
        std::string r;
        for (const char ch : s) {
            if (std::strchr("\\.+*?()|[]{}^$#&-~", ch) != nullptr && ch != '\0') r += '\\';
            r += ch;
        }
        return r;
    }

    static void emit(std::string& out, std::vector<std::uint32_t>& ends, std::string_view piece) {
        if (piece.empty()) return;
        out.append(piece);
        ends.push_back(static_cast<std::uint32_t>(out.size()));
    }

    // Applies one step to one piece; returns whether the first emitted pre-token starts at the
    // piece's first character (for prepend_scheme "first" in a later step).
    bool apply(const step& s, std::string_view piece, bool at_start, std::string& out,
               std::vector<std::uint32_t>& ends) const {
        switch (s.k) {
        case kind::metaspace: return metaspace(s, piece, at_start, out, ends);
        case kind::whitespace_split: return whitespace_split(piece, out, ends);
        case kind::whitespace: return whitespace(piece, out, ends);
        case kind::split: {
            scratch& b = buffers();
            b.marks.clear();
            if (!piece.empty()) {
                std::uint32_t prev = 0;
                s.re->for_each_match(piece, [&](std::size_t mb, std::size_t me) {
                    if (prev != mb) b.marks.push_back({prev, static_cast<std::uint32_t>(mb), false});
                    b.marks.push_back({static_cast<std::uint32_t>(mb), static_cast<std::uint32_t>(me), true});
                    prev = static_cast<std::uint32_t>(me);
                });
                if (prev != piece.size()) b.marks.push_back({prev, static_cast<std::uint32_t>(piece.size()), false});
            }
            if (s.flag)
                for (auto& m : b.marks) m.is_match = !m.is_match;
            return split_by_marks(piece, s.b, out, ends);
        }
        case kind::punctuation:
            char_marks(piece, [](char32_t cp) { return is_hf_punctuation(cp); });
            return split_by_marks(piece, s.b, out, ends);
        case kind::digits:
            char_marks(piece, [](char32_t cp) { return is_rust_numeric(cp); });
            return split_by_marks(piece, s.flag ? behavior::isolated : behavior::contiguous, out, ends);
        case kind::byte_level: return byte_level(s, piece, out, ends);
        }
        return true;
    }

    // HF's find_matches for a char predicate: each matching character is a match of its own.
    template <class Pred>
    static void char_marks(std::string_view piece, Pred pred) {
        scratch& b = buffers();
        b.marks.clear();
        const auto* p = reinterpret_cast<const unsigned char*>(piece.data());
        const std::size_t n = piece.size();
        std::uint32_t last = 0;
        std::size_t i = 0;
        while (i < n) {
            const auto d = utf8::decode(p + i, p + n);
            const auto b0 = static_cast<std::uint32_t>(i);
            i += d.length;
            if (d.cp != utf8::invalid && pred(d.cp)) {
                if (last < b0) b.marks.push_back({last, b0, false});
                b.marks.push_back({b0, static_cast<std::uint32_t>(i), true});
                last = static_cast<std::uint32_t>(i);
            }
        }
        if (n > last) b.marks.push_back({last, static_cast<std::uint32_t>(n), false});
    }

    // NormalizedString::split: turns the marks into pieces by the delimiter behavior.
    static bool split_by_marks(std::string_view piece, behavior bh, std::string& out, std::vector<std::uint32_t>& ends) {
        scratch& b = buffers();
        auto& marks = b.marks;
        auto& merged = b.merged;
        merged.clear();
        switch (bh) {
        case behavior::isolated:
            for (auto m : marks) merged.push_back({m.begin, m.end, false});
            break;
        case behavior::removed: merged = marks; break;
        case behavior::contiguous: {
            bool previous = false;
            for (const auto& m : marks) {
                if (m.is_match == previous && !merged.empty()) merged.back().end = m.end;
                else merged.push_back({m.begin, m.end, false});
                previous = m.is_match;
            }
            break;
        }
        case behavior::merged_with_previous: {
            bool previous = false;
            for (const auto& m : marks) {
                if (m.is_match && !previous && !merged.empty()) merged.back().end = m.end;
                else merged.push_back({m.begin, m.end, false});
                previous = m.is_match;
            }
            break;
        }
        case behavior::merged_with_next: {
            bool previous = false;
            for (std::size_t k = marks.size(); k-- > 0;) {
                const auto& m = marks[k];
                if (m.is_match && !previous && !merged.empty()) merged.back().begin = m.begin;
                else merged.push_back({m.begin, m.end, false});
                previous = m.is_match;
            }
            std::reverse(merged.begin(), merged.end());
            break;
        }
        }
        bool front = false, first = true;
        for (const auto& m : merged) {
            if (m.is_match || m.begin == m.end) continue;  // removed, or empty (HF drops empty splits)
            if (first) front = m.begin == 0;
            first = false;
            emit(out, ends, piece.substr(m.begin, m.end - m.begin));
        }
        return front;
    }

    static bool is_hf_punctuation(char32_t cp) noexcept {
        if (cp < 0x80) return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
                              (cp >= 0x7B && cp <= 0x7E);
        return unicode_categories::in_ranges(unicode_categories::hf_punctuation_ranges, cp);
    }
    static bool is_rust_numeric(char32_t cp) noexcept {
        if (cp < 0x80) return cp >= '0' && cp <= '9';
        return unicode_categories::in_ranges(unicode_categories::rust_numeric_ranges, cp);
    }
    static bool is_white_space(char32_t cp) noexcept {
        return (unicode_categories::entry(cp) & unicode_categories::white_space_bit) != 0;
    }
    // The Rust regex crate's Unicode \w (Whitespace pre-tokenizer): Alphabetic, marks, Nd, Pc
    // and Join_Control.
    static bool is_rust_word(char32_t cp) noexcept {
        using namespace unicode_categories;
        const std::uint8_t e = entry(cp);
        if (e & alphabetic_bit) return true;
        const unsigned c = e & category_mask;
        return c == Mn || c == Mc || c == Me || c == Nd || c == Pc || cp == 0x200C || cp == 0x200D;
    }

    static constexpr std::uint64_t ascii_space_bits = (std::uint64_t{1} << 9) | (std::uint64_t{1} << 10) |
                                                      (std::uint64_t{1} << 11) | (std::uint64_t{1} << 12) |
                                                      (std::uint64_t{1} << 13) | (std::uint64_t{1} << 32);

    // Metaspace: every U+0020 becomes the replacement, the replacement is prepended by the
    // scheme, and with `split` the result is cut before every replacement character.
    static bool metaspace(const step& s, std::string_view piece, bool at_start, std::string& out,
                          std::vector<std::uint32_t>& ends) {
        if (piece.empty()) return true;
        const std::string& rep = s.replacement;
        const bool starts_with_rep = piece.substr(0, rep.size()) == rep || piece[0] == ' ';
        const bool add = !starts_with_rep &&
                         (s.scheme == prepend::always || (s.scheme == prepend::first && at_start));
        const char* p = piece.data();
        const std::size_t n = piece.size();
        if (!s.flag) {
            if (add) out.append(rep);
            std::size_t i = 0;
            while (i < n) {
                const void* hit = std::memchr(p + i, ' ', n - i);
                const std::size_t j = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - p) : n;
                out.append(p + i, j - i);
                if (j == n) break;
                out.append(rep);
                i = j + 1;
            }
            ends.push_back(static_cast<std::uint32_t>(out.size()));
            return true;
        }
        // Cut before every replacement: before each space (it becomes one) and before each
        // replacement character already in the text. The output grows once, by an upper bound,
        // and is written through a pointer: this loop is on the hot path of SentencePiece-made
        // files.
        const bool rep_is_space = rep.size() == 1 && rep[0] == ' ';
        const auto lead = static_cast<char>(rep[0]);
        std::size_t cuts = 1;
        for (std::size_t i = 0; i < n; ++i) cuts += static_cast<std::size_t>(p[i] == ' ' || p[i] == lead);
        const std::size_t base = out.size();
        out.resize(base + n + rep.size() * cuts);
        char* const o = &out[0];
        const std::size_t ends_base = ends.size();
        ends.resize(ends_base + cuts);
        std::uint32_t* const e = ends.data() + ends_base;
        std::size_t w = base, piece_start = base, ne = 0;
        const auto put_rep = [&]() {
            if (w > piece_start) e[ne++] = static_cast<std::uint32_t>(w);
            piece_start = w;
            for (const char c : rep) o[w++] = c;
        };
        if (add) put_rep();
        std::size_t i = 0;
        while (i < n) {
            // Copy the run up to the next space or possible replacement start (words are short:
            // a byte loop beats memchr plus memcpy here).
            char c = 0;
            while (i < n && (c = p[i]) != ' ' && c != lead) o[w++] = c, ++i;
            if (i == n) break;
            if (c == ' ' || rep_is_space) {
                put_rep();
                i += 1;
            } else if (piece.compare(i, rep.size(), rep) == 0) {
                put_rep();
                i += rep.size();
            } else {
                o[w++] = c;
                i += 1;
            }
        }
        if (w > piece_start) e[ne++] = static_cast<std::uint32_t>(w);
        out.resize(w);
        ends.resize(ends_base + ne);
        return true;
    }

    static bool whitespace_split(std::string_view piece, std::string& out, std::vector<std::uint32_t>& ends) {
        const auto* p = reinterpret_cast<const unsigned char*>(piece.data());
        const std::size_t n = piece.size();
        std::size_t i = 0, start = 0;
        bool front = false, first = true;
        while (i < n) {
            const unsigned char b = p[i];
            bool space;
            std::size_t len = 1;
            if (b < 0x80) {
                space = b <= 32 && ((ascii_space_bits >> b) & 1u) != 0;
            } else {
                const auto d = utf8::decode(p + i, p + n);
                len = d.length;
                space = d.cp != utf8::invalid && is_white_space(d.cp);
            }
            if (space) {
                if (i > start) {
                    if (first) front = start == 0;
                    first = false;
                    emit(out, ends, piece.substr(start, i - start));
                }
                start = i + len;
            }
            i += len;
        }
        if (n > start) {
            if (first) front = start == 0;
            emit(out, ends, piece.substr(start));
        }
        return front;
    }

    // Whitespace: `\w+|[^\w\s]+` (Rust regex), keeping the matches: runs of word characters and
    // runs of other non-space characters; whitespace is dropped.
    static bool whitespace(std::string_view piece, std::string& out, std::vector<std::uint32_t>& ends) {
        const auto* p = reinterpret_cast<const unsigned char*>(piece.data());
        const std::size_t n = piece.size();
        enum cls : int { none = 0, word = 1, other = 2 };
        const auto classify = [&](std::size_t i, std::size_t& len) -> int {
            const unsigned char b = p[i];
            if (b < 0x80) {
                len = 1;
                if (b <= 32 && ((ascii_space_bits >> b) & 1u) != 0) return none;
                const bool w = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_';
                return w ? word : other;
            }
            const auto d = utf8::decode(p + i, p + n);
            len = d.length;
            if (d.cp == utf8::invalid) return other;
            if (is_rust_word(d.cp)) return word;
            return is_white_space(d.cp) ? none : other;
        };
        std::size_t i = 0;
        bool front = false, first = true;
        while (i < n) {
            std::size_t len = 0;
            const int c = classify(i, len);
            if (c == none) {
                i += len;
                continue;
            }
            const std::size_t start = i;
            i += len;
            while (i < n) {
                std::size_t l2 = 0;
                if (classify(i, l2) != c) break;
                i += l2;
            }
            if (first) front = start == 0;
            first = false;
            emit(out, ends, piece.substr(start, i - start));
        }
        return front;
    }

    // The GPT-2 byte alphabet (spec 5.2): printable bytes stand for themselves, the others map
    // to U+0100 + n in byte order.
    struct byte_alphabet {
        char utf8[256][2];
        std::uint8_t size[256];
        std::uint8_t byte_of[0x144];  // the byte each character of the alphabet stands for
        byte_alphabet() : utf8{}, size{}, byte_of{} {
            unsigned n = 0;
            for (unsigned b = 0; b < 256; ++b) {
                const bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
                const char32_t cp = keep ? b : 0x100 + n++;
                byte_of[cp] = static_cast<std::uint8_t>(b);
                char buf[4] = {0, 0, 0, 0};
                size[b] = static_cast<std::uint8_t>(utf8::encode(cp, buf));
                utf8[b][0] = buf[0];
                utf8[b][1] = buf[1];
            }
        }
    };
    static const byte_alphabet& alphabet() {
        static const byte_alphabet a;
        return a;
    }

    static void byte_map(std::string_view piece, std::string& out, std::vector<std::uint32_t>& ends) {
        if (piece.empty()) return;
        const byte_alphabet& a = alphabet();
        for (const char ch : piece) {
            const auto b = static_cast<unsigned char>(ch);
            out.append(a.utf8[b], a.size[b]);
        }
        ends.push_back(static_cast<std::uint32_t>(out.size()));
    }

    static bool byte_level(const step& s, std::string_view piece, std::string& out, std::vector<std::uint32_t>& ends) {
        std::string_view text = piece;
        scratch& b = buffers();
        const bool prefix = s.flag && !piece.empty() && piece[0] != ' ';
        if (prefix) {
            b.mapped.assign(1, ' ');
            b.mapped.append(piece);
            text = b.mapped;
        }
        if (!s.flag2) {
            byte_map(text, out, ends);
            return true;
        }
        bool front = false, first = true;
        std::size_t prev = 0;
        const auto piece_out = [&](std::size_t from, std::size_t to) {
            if (to == from) return;
            if (first) front = from == 0;
            first = false;
            byte_map(text.substr(from, to - from), out, ends);
        };
        s.re->for_each_match(text, [&](std::size_t mb, std::size_t me) {
            piece_out(prev, mb);
            piece_out(mb, me);
            prev = me;
        });
        piece_out(prev, text.size());
        return front;
    }

    std::vector<step> steps_;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
