// SPDX-License-Identifier: Apache-2.0
//
// The `normalizer` of an HF tokenizer.json (tokenizers 0.23): Sequence, Precompiled, NFC, NFD,
// NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend and Nmt, with HF's own rules
// (spec sentencepiece-and-hf.md 3.5 and 3.7). Each step can also record where its output came
// from (an `alignment`, for offsets); the plain path records nothing and pays nothing for it.
//
// Unicode versions, as in HF tokenizers 0.23.2: NFC/NFD/NFKC/NFKD and StripAccents use Unicode
// 9.0 (unicode-normalization-alignments; the tables keep only characters of age 9.0 or older),
// grapheme clusters (unicode-segmentation, with GB9c), Lowercase and Strip's White_Space (Rust's
// char) Unicode 17.0.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/base64.hpp"
#include "bytepiece/detail/charsmap.hpp"
#include "bytepiece/detail/hf_json.hpp"
#include "bytepiece/detail/regex.hpp"
#include "bytepiece/detail/unicode_hf_tables.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/offsets.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {
namespace hf_norm {

inline std::uint32_t props(char32_t cp) noexcept { return unicode_hf::props(cp); }

// What a normalizing step reports as it writes: nothing for plain normalization (the calls
// compile away), spans of an alignment for offsets.
struct no_record {
    static constexpr bool active = false;
    void copy(std::size_t, std::size_t, std::size_t) const noexcept {}
    void replace(std::size_t, std::size_t, std::size_t, std::size_t) const noexcept {}
    void rewrite(const std::string&, std::size_t, std::string_view, std::size_t, std::size_t) const noexcept {}
};
struct alignment_record {
    static constexpr bool active = true;
    alignment& a;
    void copy(std::size_t out, std::size_t in, std::size_t n) { a.copy(out, in, n); }
    void replace(std::size_t ob, std::size_t oe, std::size_t ib, std::size_t ie) { a.replace(ob, oe, ib, ie); }
    // Output [ob, out.size()) was written for input [ib, ie) as a unit: byte for byte if it is
    // the same text, else as a whole.
    void rewrite(const std::string& out, std::size_t ob, std::string_view in, std::size_t ib, std::size_t ie) {
        if (out.size() - ob == ie - ib && out.compare(ob, ie - ib, in.data() + ib, ie - ib) == 0)
            a.copy(ob, ib, ie - ib);
        else
            a.replace(ob, out.size(), ib, ie);
    }
};
// A character's cluster class: Grapheme_Cluster_Break in the low 4 bits, Indic_Conjunct_Break
// in the next 2.
inline unsigned gcb_of(std::uint32_t p) noexcept { return (p >> unicode_hf::gcb_shift) & 0x3F; }

// ---- extended grapheme clusters (UAX #29) ----

// The state of UAX #29's extended grapheme cluster rules (GB3-GB13) inside one cluster.
// Classes are gcb_of values.
struct grapheme_state {
    unsigned prev = 0;
    bool pict = false;            // ExtPict Extend* ends at prev
    bool zwj_after_pict = false;  // prev is a ZWJ after ExtPict Extend*
    unsigned ri_count = 0;
    unsigned conjunct = 0;        // GB9c: 1 after Consonant [Extend Linker]*, 2 once a Linker is in

    void start(unsigned cls) noexcept {
        const unsigned g = cls & 15;
        prev = g;
        pict = g == unicode_hf::gcb_extended_pictographic;
        zwj_after_pict = false;
        ri_count = g == unicode_hf::gcb_regional_indicator ? 1 : 0;
        conjunct = (cls >> 4) == 1 ? 1 : 0;
    }

    // Whether a character of class `cls` stays in the cluster.
    bool joins(unsigned cls) const noexcept {
        using namespace unicode_hf;
        const unsigned cur = cls & 15;
        if (prev == gcb_cr && cur == gcb_lf) return true;
        if (prev == gcb_cr || prev == gcb_lf || prev == gcb_control || cur == gcb_cr || cur == gcb_lf ||
            cur == gcb_control)
            return false;
        if (prev == gcb_l && (cur == gcb_l || cur == gcb_v || cur == gcb_lv || cur == gcb_lvt)) return true;
        if ((prev == gcb_lv || prev == gcb_v) && (cur == gcb_v || cur == gcb_t)) return true;
        if ((prev == gcb_lvt || prev == gcb_t) && cur == gcb_t) return true;
        if (cur == gcb_extend || cur == gcb_zwj || cur == gcb_spacingmark || prev == gcb_prepend) return true;
        if (conjunct == 2 && (cls >> 4) == 1) return true;
        if (prev == gcb_zwj && cur == gcb_extended_pictographic && zwj_after_pict) return true;
        return prev == gcb_regional_indicator && cur == gcb_regional_indicator && ri_count % 2 == 1;
    }

    void advance(unsigned cls) noexcept {
        using namespace unicode_hf;
        const unsigned cur = cls & 15, incb = cls >> 4;
        if (incb == 1)
            conjunct = 1;
        else if (incb == 3 && conjunct != 0)
            conjunct = 2;
        else if (incb != 2)
            conjunct = 0;
        zwj_after_pict = cur == gcb_zwj && pict;
        if (cur == gcb_extended_pictographic)
            pict = true;
        else if (cur != gcb_extend)
            pict = false;
        ri_count = cur == gcb_regional_indicator ? ri_count + 1 : 0;
        prev = cur;
    }
};

// The class of a decoded character; bytes of ill-formed UTF-8 are characters of class Other.
inline unsigned gcb_of(const utf8::decoded& d) noexcept {
    return d.cp == utf8::invalid ? unicode_hf::gcb_other : gcb_of(props(d.cp));
}

// The end of the extended grapheme cluster that starts at `i` (a cluster boundary).
inline std::size_t cluster_end(const unsigned char* s, std::size_t i, std::size_t n) noexcept {
    utf8::decoded d = utf8::decode(s + i, s + n);
    grapheme_state g;
    g.start(gcb_of(d));
    std::size_t j = i + d.length;
    while (j < n) {
        d = utf8::decode(s + j, s + n);
        const unsigned cur = gcb_of(d);
        if (!g.joins(cur)) break;
        g.advance(cur);
        j += d.length;
    }
    return j;
}

// The end of the run of ASCII bytes that starts at `i`, eight bytes at a time.
inline std::size_t ascii_run_end(const unsigned char* s, std::size_t i, std::size_t n) noexcept {
    while (i + 8 <= n) {
        std::uint64_t w;
        std::memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
    }
    while (i < n && s[i] < 0x80) ++i;
    return i;
}

// ---- Unicode normalization with HF's Unicode 9.0 data ----

inline constexpr char32_t s_base = 0xAC00, l_base = 0x1100, v_base = 0x1161, t_base = 0x11A7;
inline constexpr char32_t l_count = 19, v_count = 21, t_count = 28, n_count = v_count * t_count,
                          s_count = l_count * n_count;

inline std::uint32_t entry(char32_t cp) noexcept {
    return ((props(cp) & unicode_hf::ccc_mask) << 24) | static_cast<std::uint32_t>(cp);
}

// Writes the full decomposition of `cp` (with classes) to `out` (room for 32); returns its length.
inline std::size_t decompose(char32_t cp, bool compat, std::uint32_t* out) noexcept {
    const std::uint32_t p = props(cp);
    if (!(p & (compat ? unicode_hf::p_compat : unicode_hf::p_canonical))) {
        out[0] = ((p & unicode_hf::ccc_mask) << 24) | static_cast<std::uint32_t>(cp);
        return 1;
    }
    if (cp - s_base < s_count) {
        const char32_t s = cp - s_base;
        out[0] = l_base + s / n_count;
        out[1] = v_base + (s % n_count) / t_count;
        if (s % t_count == 0) return 2;
        out[2] = t_base + s % t_count;
        return 3;
    }
    const std::uint32_t ix = compat ? unicode_hf::compat_index(cp) : unicode_hf::canonical_index(cp);
    const char32_t* data = compat ? unicode_hf::compat_data : unicode_hf::canonical_data;
    const std::size_t len = ix & 31;
    for (std::size_t k = 0; k < len; ++k) out[k] = entry(data[(ix >> 5) + k]);
    return len;
}

inline char32_t compose_pair(char32_t a, char32_t b) noexcept {
    if (!(props(b) & unicode_hf::p_second)) return 0;
    if (a - l_base < l_count) {
        if (b - v_base < v_count) return s_base + ((a - l_base) * v_count + (b - v_base)) * t_count;
        return 0;
    }
    if (a - s_base < s_count) {
        if ((a - s_base) % t_count == 0 && b - t_base - 1 < t_count - 1) return a + (b - t_base);
        return 0;
    }
    const std::uint64_t key = (static_cast<std::uint64_t>(a) << 42) | (static_cast<std::uint64_t>(b) << 21);
    const std::uint64_t* first = unicode_hf::compositions;
    const std::uint64_t* last = first + sizeof(unicode_hf::compositions) / sizeof(unicode_hf::compositions[0]);
    const std::uint64_t* it = std::lower_bound(first, last, key);
    if (it != last && (*it >> 21) == (key >> 21)) return static_cast<char32_t>(*it & 0x1FFFFF);
    return 0;
}

// Orders the marks of `seg`, composes it if asked, and appends it to `out`. Entries above
// U+10FFFF (0x110000 + byte) are bytes of ill-formed UTF-8, passed through as they were.
inline void flush_segment(std::vector<std::uint32_t>& seg, bool compose, std::string& out) {
    std::uint32_t* buf = seg.data();
    const std::size_t n = seg.size();
    for (std::size_t i = 1; i < n; ++i) {
        const std::uint32_t x = buf[i];
        const std::uint32_t c = x >> 24;
        if (c == 0) continue;
        std::size_t k = i;
        while (k > 0 && (buf[k - 1] >> 24) > c) {
            buf[k] = buf[k - 1];
            --k;
        }
        buf[k] = x;
    }
    std::size_t w = n;
    if (compose) {
        constexpr std::size_t none = ~std::size_t{0};
        std::size_t starter = none;
        std::uint32_t last_ccc = 0;
        w = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t x = buf[i];
            const std::uint32_t c = x >> 24;
            if (starter != none && (w == starter + 1 || last_ccc < c)) {
                const char32_t composite = compose_pair(buf[starter] & 0xFFFFFF, x & 0xFFFFFF);
                if (composite) {
                    buf[starter] = composite;
                    continue;
                }
            }
            if (c == 0) starter = w;
            last_ccc = c;
            buf[w++] = x;
        }
    }
    for (std::size_t i = 0; i < w; ++i) {
        const char32_t cp = buf[i] & 0xFFFFFF;
        if (cp >= 0x110000)
            out.push_back(static_cast<char>(cp - 0x110000));
        else
            utf8::append(cp, out);
    }
    seg.clear();
}

template <class R = no_record>
inline void unicode_normalize(std::string_view in, bool compat, bool compose, std::string& out, R rec = R{}) {
    thread_local std::vector<std::uint32_t> seg;
    seg.clear();
    out.clear();
    out.reserve(in.size());
    const auto* s = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    std::uint32_t tmp[32];
    const std::uint32_t inert_mask = unicode_hf::ccc_mask | unicode_hf::p_second | unicode_hf::p_first |
                                     (compat ? unicode_hf::p_compat : unicode_hf::p_canonical);
    std::size_t i = 0, seg_begin = 0;  // seg_begin: where the input of `seg` starts
    const auto flush = [&](std::size_t in_end) {
        const std::size_t ob = out.size();
        flush_segment(seg, compose, out);
        rec.rewrite(out, ob, in, seg_begin, in_end);
    };
    while (i < n) {
        if (s[i] < 0x80) {
            // ASCII characters decompose to themselves, have class 0 and never join a
            // preceding character, so only the last of a run can still combine with what follows.
            const std::size_t j = ascii_run_end(s, i + 1, n);
            if (!seg.empty()) flush(i);
            rec.copy(out.size(), i, j - 1 - i);
            out.append(in.data() + i, j - 1 - i);
            seg.push_back(s[j - 1]);
            seg_begin = j - 1;
            i = j;
            continue;
        }
        const utf8::decoded d = utf8::decode(s + i, s + n);
        if (d.cp != utf8::invalid && !(props(d.cp) & inert_mask)) {
            // Class 0, no decomposition, composes with nothing: nothing crosses it.
            if (!seg.empty()) flush(i);
            rec.copy(out.size(), i, d.length);
            out.append(in.data() + i, d.length);
            i += d.length;
            continue;
        }
        std::size_t len;
        if (d.cp == utf8::invalid) {
            tmp[0] = 0x110000u + s[i];
            len = 1;
        } else {
            len = decompose(d.cp, compat, tmp);
        }
        const std::size_t at = i;
        i += d.length;
        // A starter that never combines with what precedes it starts a new segment.
        if ((tmp[0] >> 24) == 0 && !(tmp[0] < 0x110000 && (props(tmp[0]) & unicode_hf::p_second)) && !seg.empty())
            flush(at);
        if (seg.empty()) seg_begin = at;
        seg.insert(seg.end(), tmp, tmp + len);
    }
    if (!seg.empty()) flush(n);
}

// ---- Replace patterns ----

// What a Replace pattern matches: a literal, a run of one character ("X{m,}", "X+"), or
// anything else through detail::regex.
struct pattern {
    enum kind_t { literal, run, general } kind = literal;
    std::string text;      // literal text, or the repeated character
    std::size_t min = 1;   // run: minimum repetitions
    std::shared_ptr<const regex> re;

    // A run of at least `min` (>= 2) copies of the byte text[0]: eight positions at a time,
    // looking for the byte followed by itself.
    std::optional<std::pair<std::size_t, std::size_t>> find_byte_run(std::string_view t, std::size_t from) const {
        const auto c = static_cast<unsigned char>(text[0]);
        const auto* p = reinterpret_cast<const unsigned char*>(t.data());
        const std::size_t n = t.size();
        constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
        const std::uint64_t repeated = ones * c;
        std::size_t i = from;
        while (i < n) {
            if (i + 9 <= n) {
                std::uint64_t x, y;
                std::memcpy(&x, p + i, 8);
                std::memcpy(&y, p + i + 1, 8);
                const std::uint64_t v = (x ^ repeated) | (y ^ repeated);
                if (((v - ones) & ~v & highs) == 0) {
                    i += 8;
                    continue;
                }
            }
            if (p[i] != c || i + 1 >= n || p[i + 1] != c) {
                ++i;
                continue;
            }
            std::size_t e = i + 2;
            while (e < n && p[e] == c) ++e;
            if (e - i >= min) return std::make_pair(i, e);
            i = e;
        }
        return std::nullopt;
    }

    // The leftmost match at or after `from` (<= t.size()).
    std::optional<std::pair<std::size_t, std::size_t>> find(std::string_view t, std::size_t from) const {
        if (kind == literal) {
            const std::size_t at = t.find(text, from);
            if (at == std::string_view::npos) return std::nullopt;
            return std::make_pair(at, at + text.size());  // an empty literal matches everywhere
        }
        if (kind == run && text.size() == 1 && min >= 2) return find_byte_run(t, from);
        if (kind == run) {
            const std::size_t w = text.size();
            std::size_t at = from;
            for (;;) {
                at = t.find(text, at);
                if (at == std::string_view::npos) return std::nullopt;
                std::size_t e = at + w, count = 1;
                while (e + w <= t.size() && t.compare(e, w, text) == 0) {
                    e += w;
                    ++count;
                }
                if (count >= min) return std::make_pair(at, e);
                at = e;
            }
        }
        return re->find(t, from);
    }
};

// Regex source characters that are literal in Oniguruma's syntax outside a class.
inline bool plain_regex_char(char c) noexcept {
    return std::strchr("\\^$.|?*+()[]{}", c) == nullptr || c == 0;
}

// Recognises the simple regexes that need no engine: a literal, or one literal character
// followed by `+` or `{m,}` (" {2,}" in every SentencePiece-derived file).
inline std::optional<pattern> simple_regex(std::string_view r) {
    pattern p;
    bool plain = true;
    for (char c : r) plain = plain && plain_regex_char(c);
    if (plain) {
        p.kind = pattern::literal;
        p.text = std::string(r);
        return p;
    }
    if (r.empty()) return std::nullopt;
    const auto* s = reinterpret_cast<const unsigned char*>(r.data());
    const utf8::decoded d = utf8::decode(s, s + r.size());
    if (d.cp == utf8::invalid || (d.length == 1 && !plain_regex_char(r[0]))) return std::nullopt;
    std::string_view q = r.substr(d.length);
    std::size_t min = 0;
    if (q == "+") {
        min = 1;
    } else if (q.size() >= 4 && q.front() == '{' && q.substr(q.size() - 2) == ",}") {
        std::string_view digits = q.substr(1, q.size() - 3);
        if (digits.empty() || digits.size() > 6) return std::nullopt;
        for (char c : digits) {
            if (c < '0' || c > '9') return std::nullopt;
            min = min * 10 + static_cast<std::size_t>(c - '0');
        }
        if (min == 0) return std::nullopt;
    } else {
        return std::nullopt;
    }
    p.kind = pattern::run;
    p.text = std::string(r.substr(0, d.length));
    p.min = min;
    return p;
}

inline bool is_white_space(char32_t cp) noexcept {
    if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    return (props(cp) & unicode_hf::p_white_space) != 0;
}

}  // namespace hf_norm

/// One tokenizer.json `normalizer` (HF tokenizers 0.23), applied to plain UTF-8 text.
///
/// Example: `detail::hf_normalizer n(root.at("normalizer")); std::string out; n.normalize("Ａ", out);`
class hf_normalizer {
public:
    hf_normalizer() = default;

    /// Reads the `normalizer` value `c` (null means none). Throws `model_error`:
    /// `model_hf_unsupported` for a type or option this library does not implement,
    /// `model_hf_invalid` for what HF itself refuses to load, `model_hf_malformed` otherwise.
    ///
    /// Example: `detail::hf_normalizer n(hf_json::cursor(j, "tok.json").at("normalizer"));`
    explicit hf_normalizer(const hf_json::cursor& c) {
        if (!c.is_null()) add(c);
    }

    /// out = the normalized `in` (out is overwritten; reuse it across calls; `in` must not
    /// point into `out`). Ill-formed UTF-8 bytes pass through as characters of their own.
    ///
    /// Example: `std::string out; n.normalize("Héllo", out);`
    void normalize(std::string_view in, std::string& out) const {
        if (steps_.empty()) {
            out.assign(in.data(), in.size());
            return;
        }
        if (steps_.size() == 1) {
            run(steps_[0], in, out);
            return;
        }
        thread_local std::string buffers[2];
        std::string_view cur = in;
        for (std::size_t k = 0; k < steps_.size(); ++k) {
            std::string& dst = k + 1 == steps_.size() ? out : buffers[k % 2];
            run(steps_[k], cur, dst);
            cur = dst;
        }
    }

    /// `normalize`, also recording in `a` where each byte of `out` came from in `in` (see
    /// offsets.hpp): each step records its own alignment as it runs, and the steps of a
    /// Sequence are composed one after the other.
    ///
    /// Example: `bytepiece::alignment a; n.normalize("Cafe\xCC\x81", out, a);`
    void normalize(std::string_view in, std::string& out, alignment& a) const {
        a.clear();
        if (steps_.empty()) {
            out.assign(in.data(), in.size());
            a.copy(0, 0, in.size());
            return;
        }
        thread_local std::string buffers[2];
        thread_local alignment step_a, acc[2];
        std::string_view cur = in;
        const alignment* prev = nullptr;
        for (std::size_t k = 0; k < steps_.size(); ++k) {
            const bool last = k + 1 == steps_.size();
            std::string& dst = last ? out : buffers[k % 2];
            alignment& target = k == 0 ? (last ? a : acc[0]) : step_a;
            target.clear();
            run(steps_[k], cur, dst, hf_norm::alignment_record{target});
            if (k > 0 && step_a.is_identity(dst.size()) && cur.size() == dst.size()) {
                // The step changed nothing (a Replace that did not match, ASCII text through
                // StripAccents): the alignment so far stands.
                if (last) a = *prev;
            } else if (k > 0) {
                alignment& res = last ? a : prev == &acc[0] ? acc[1] : acc[0];
                res.clear();
                res.append_composed(*prev, step_a);
                prev = &res;
            } else {
                prev = &target;
            }
            cur = dst;
        }
    }

    /// Whether normalizing returns the text unchanged (no normalizer, or an empty Sequence).
    ///
    /// Example: `if (n.is_identity()) use(text);`
    bool is_identity() const noexcept { return steps_.empty(); }

private:
    enum class kind { precompiled, nfc, nfd, nfkc, nfkd, lowercase, strip, strip_accents, replace, prepend, nmt };

    struct charsmap_data {
        sp_charsmap map;
        // Replacement of each ASCII byte that is a key on its own (a one-byte cluster).
        std::array<std::string, 128> ascii_replacement;
        std::array<bool, 128> ascii_is_key{};
        // Bytes the ASCII loop stops at: non-ASCII, CR, and ASCII keys.
        std::array<bool, 256> stop{};
        std::array<bool, 256> starts_key{};
    };

    struct step {
        kind k = kind::nfc;
        bool left = false, right = false;
        std::string text;  // Replace content, Prepend string
        hf_norm::pattern pat;
        std::shared_ptr<const charsmap_data> charsmap;
    };

    void add(const hf_json::cursor& c) {
        const std::string_view type = c.type();
        if (type == "Sequence") {
            c.check_keys({"normalizers"});
            const hf_json::cursor list = c.at("normalizers");
            for (std::size_t i = 0; i < list.size(); ++i) add(list[i]);  // nested Sequences flatten
            return;
        }
        step s;
        if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD" || type == "Lowercase" ||
            type == "StripAccents" || type == "Nmt") {
            c.check_keys({});
            s.k = type == "NFC" ? kind::nfc : type == "NFD" ? kind::nfd : type == "NFKC" ? kind::nfkc
                : type == "NFKD" ? kind::nfkd : type == "Lowercase" ? kind::lowercase
                : type == "Nmt" ? kind::nmt : kind::strip_accents;
        } else if (type == "Strip") {
            c.check_keys({"strip_left", "strip_right"});
            s.k = kind::strip;
            s.left = c.at("strip_left").boolean();
            s.right = c.at("strip_right").boolean();
            if (!s.left && !s.right) return;
        } else if (type == "Prepend") {
            c.check_keys({"prepend"});
            s.k = kind::prepend;
            s.text = std::string(c.at("prepend").string());
        } else if (type == "Replace") {
            c.check_keys({"pattern", "content"});
            s.k = kind::replace;
            s.text = std::string(c.at("content").string());
            s.pat = read_pattern(c.at("pattern"));
        } else if (type == "Precompiled") {
            c.check_keys({"precompiled_charsmap"});
            s.k = kind::precompiled;
            s.charsmap = read_charsmap(c.at("precompiled_charsmap"));
        } else if (type == "Bert" || type == "ByteLevel") {
            c.at("type").unsupported("the normalizer \"" + std::string(type) + "\" is not supported");
        } else {
            c.at("type").invalid("\"" + std::string(type) + "\" is not a normalizer type HF knows");
        }
        steps_.push_back(std::move(s));
    }

    static hf_norm::pattern read_pattern(const hf_json::cursor& c) {
        if (!c.is_object() || c.json().size() != 1)
            c.invalid("should be {\"String\": ...} or {\"Regex\": ...}");
        if (c.has("String")) {
            hf_norm::pattern p;
            p.kind = hf_norm::pattern::literal;
            p.text = std::string(c.at("String").string());
            return p;
        }
        if (!c.has("Regex")) c.invalid("should be {\"String\": ...} or {\"Regex\": ...}");
        const hf_json::cursor r = c.at("Regex");
        const std::string_view source = r.string();
        if (auto simple = hf_norm::simple_regex(source)) return *simple;
        hf_norm::pattern p;
        p.kind = hf_norm::pattern::general;
        try {
            p.re = std::make_shared<const regex>(source);
        } catch (const regex_unsupported& e) {
            r.unsupported(e.what());
        }
        return p;
    }

    static std::shared_ptr<const charsmap_data> read_charsmap(const hf_json::cursor& c) {
        std::string blob;
        if (!base64_decode(c.string(), blob)) c.invalid("is not valid base64");
        if (blob.size() < 4) c.invalid("the charsmap is " + std::to_string(blob.size()) + " bytes, too short for its header");
        const std::uint32_t trie = static_cast<std::uint32_t>(static_cast<unsigned char>(blob[0])) |
                                   (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[1])) << 8) |
                                   (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[2])) << 16) |
                                   (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[3])) << 24);
        if (trie <= blob.size() - 4 && trie % 4 == 0 && !utf8::is_valid(std::string_view(blob).substr(4 + trie)))
            c.invalid("the replacements of the charsmap are not valid UTF-8");
        auto d = std::make_shared<charsmap_data>();
        try {
            d->map = sp_charsmap(blob, c.source());
        } catch (const model_error& e) {
            c.invalid(e.what());
        }
        for (unsigned b = 0; b < 256; ++b) {
            const auto byte = static_cast<unsigned char>(b);
            d->starts_key[b] = b != 0 && d->map.starts_key(byte);
            d->stop[b] = b >= 0x80 || b == '\r';
            std::string_view r;
            if (b < 0x80 && d->map.shortest_match(&byte, 1, r)) {
                d->ascii_is_key[b] = true;
                d->ascii_replacement[b] = std::string(r);
                d->stop[b] = true;
            }
        }
        return d;
    }

    template <class R = hf_norm::no_record>
    static void run(const step& s, std::string_view in, std::string& out, R rec = R{}) {
        switch (s.k) {
            case kind::precompiled: precompiled(*s.charsmap, in, out, rec); return;
            case kind::nfc: hf_norm::unicode_normalize(in, false, true, out, rec); return;
            case kind::nfd: hf_norm::unicode_normalize(in, false, false, out, rec); return;
            case kind::nfkc: hf_norm::unicode_normalize(in, true, true, out, rec); return;
            case kind::nfkd: hf_norm::unicode_normalize(in, true, false, out, rec); return;
            case kind::lowercase: lowercase(in, out, rec); return;
            case kind::strip: strip(in, s.left, s.right, out, rec); return;
            case kind::strip_accents: strip_accents(in, out, rec); return;
            case kind::replace: replace(s.pat, s.text, in, out, rec); return;
            case kind::prepend:
                out.clear();
                if (!in.empty()) {
                    out.reserve(s.text.size() + in.size());
                    out.append(s.text);
                    out.append(in.data(), in.size());
                    rec.replace(0, s.text.size(), 0, 0);
                    rec.copy(s.text.size(), 0, in.size());
                }
                return;
            case kind::nmt: nmt(in, out, rec); return;
        }
    }

    // HF's Precompiled: each extended grapheme cluster shorter than 6 bytes for which the walk
    // finds a key becomes the replacement of its shortest key, whole; any other cluster is
    // looked up character by character.
    template <class R>
    static void precompiled(const charsmap_data& d, std::string_view in, std::string& out, R& rec) {
        out.clear();
        out.reserve(in.size() + in.size() / 8);
        const auto* s = reinterpret_cast<const unsigned char*>(in.data());
        const std::size_t n = in.size();
        std::size_t i = 0;
        while (i < n) {
            // An ASCII byte followed by another ASCII byte (or the end) is a cluster of its
            // own, except CR before LF; one that is no key stays as it is.
            std::size_t j = i;
            while (j < n && !d.stop[s[j]]) ++j;
            if (j < n && s[j] >= 0x80 && j > i) --j;  // the byte before may join its cluster
            rec.copy(out.size(), i, j - i);
            out.append(in.data() + i, j - i);
            i = j;
            if (i >= n) break;
            const unsigned char b = s[i];
            if (b < 0x80 && d.ascii_is_key[b] && (i + 1 == n || (s[i + 1] < 0x80 && !(b == '\r' && s[i + 1] == '\n')))) {
                const std::size_t ob = out.size();
                out.append(d.ascii_replacement[b]);
                rec.rewrite(out, ob, in, i, i + 1);
                ++i;
                continue;
            }
            // Clusters back to back until the next ASCII byte; each character is decoded once
            // by the cluster rules, and again only inside clusters of several characters.
            utf8::decoded cur = utf8::decode(s + i, s + n);
            unsigned cur_class = hf_norm::gcb_of(cur);
            for (;;) {
                hf_norm::grapheme_state g;
                g.start(cur_class);
                std::size_t e = i + cur.length;
                bool single = true;
                while (e < n) {
                    cur = utf8::decode(s + e, s + n);
                    cur_class = hf_norm::gcb_of(cur);
                    if (!g.joins(cur_class)) break;
                    g.advance(cur_class);
                    e += cur.length;
                    single = false;
                }
                const std::size_t ob = out.size();
                precompiled_cluster(d, in, i, e, single, out);
                rec.rewrite(out, ob, in, i, e);
                i = e;
                if (i >= n || s[i] < 0x80) break;
            }
        }
    }

    static void precompiled_cluster(const charsmap_data& d, std::string_view in, std::size_t i, std::size_t e,
                                    bool single, std::string& out) {
        const auto* s = reinterpret_cast<const unsigned char*>(in.data());
        std::string_view r;
        if (d.starts_key[s[i]] && e - i < 6 && d.map.shortest_match(s + i, e - i, r)) {
            out.append(r);
            return;
        }
        if (single) {
            out.append(in.data() + i, e - i);
            return;
        }
        for (std::size_t k = i; k < e;) {
            const std::size_t len = utf8::decode(s + k, s + e).length;
            if (d.starts_key[s[k]] && d.map.shortest_match(s + k, len, r))
                out.append(r);
            else
                out.append(in.data() + k, len);
            k += len;
        }
    }

    template <class R>
    static void lowercase(std::string_view in, std::string& out, R& rec) {
        out.clear();
        out.reserve(in.size());
        const auto* s = reinterpret_cast<const unsigned char*>(in.data());
        const std::size_t n = in.size();
        for (std::size_t i = 0; i < n;) {
            if (s[i] < 0x80) {
                const std::size_t j = hf_norm::ascii_run_end(s, i + 1, n);
                const std::size_t at = out.size();
                out.resize(at + (j - i));
                rec.copy(at, i, j - i);  // ASCII case mapping keeps every byte in place
                char* w = &out[at];
                for (std::size_t k = i; k < j; ++k) {
                    const unsigned char ch = s[k];
                    w[k - i] = static_cast<char>(ch + (static_cast<unsigned>(ch - 65u < 26u) << 5));
                }
                i = j;
                continue;
            }
            const utf8::decoded d = utf8::decode(s + i, s + n);
            if (d.cp != utf8::invalid && (hf_norm::props(d.cp) & unicode_hf::p_lower)) {
                const std::uint32_t ix = unicode_hf::lower_index(d.cp);
                const std::size_t ob = out.size();
                for (std::size_t k = 0; k < (ix & 31); ++k) utf8::append(unicode_hf::lower_data[(ix >> 5) + k], out);
                rec.replace(ob, out.size(), i, i + d.length);
            } else {
                rec.copy(out.size(), i, d.length);
                out.append(in.data() + i, d.length);
            }
            i += d.length;
        }
    }

    template <class R>
    static void strip(std::string_view in, bool left, bool right, std::string& out, R& rec) {
        const auto* s = reinterpret_cast<const unsigned char*>(in.data());
        std::size_t b = 0, e = in.size();
        if (left) {
            while (b < e) {
                const utf8::decoded d = utf8::decode(s + b, s + e);
                if (d.cp == utf8::invalid || !hf_norm::is_white_space(d.cp)) break;
                b += d.length;
            }
        }
        if (right) {
            while (e > b) {
                std::size_t k = e - 1;
                while (k > b && (s[k] & 0xC0) == 0x80 && e - k < 4) --k;
                const utf8::decoded d = utf8::decode(s + k, s + e);
                if (d.cp == utf8::invalid || k + d.length != e || !hf_norm::is_white_space(d.cp)) break;
                e = k;
            }
        }
        out.assign(in.data() + b, e - b);
        rec.copy(0, b, e - b);
    }

    template <class R>
    static void strip_accents(std::string_view in, std::string& out, R& rec) {
        out.clear();
        out.reserve(in.size());
        const auto* s = reinterpret_cast<const unsigned char*>(in.data());
        const std::size_t n = in.size();
        std::size_t i = 0, kept = 0;
        while (i < n) {
            if (s[i] < 0x80) {
                i = hf_norm::ascii_run_end(s, i + 1, n);
                continue;
            }
            const utf8::decoded d = utf8::decode(s + i, s + n);
            if (d.cp != utf8::invalid && (hf_norm::props(d.cp) & unicode_hf::p_mark)) {
                rec.copy(out.size(), kept, i - kept);
                out.append(in.data() + kept, i - kept);
                kept = i + d.length;
            }
            i += d.length;
        }
        rec.copy(out.size(), kept, n - kept);
        out.append(in.data() + kept, n - kept);
    }

    // Every match, leftmost first, is replaced; the search goes on after it. An empty match
    // right where the previous match ended is skipped, and after an empty match the search
    // resumes one character further (the onig crate's find_iter).
    template <class R>
    static void replace(const hf_norm::pattern& p, const std::string& content, std::string_view in, std::string& out,
                        R& rec) {
        out.clear();
        out.reserve(in.size());
        const auto* s = reinterpret_cast<const unsigned char*>(in.data());
        const std::size_t n = in.size();
        if (n == 0) return;
        std::size_t copied = 0, pos = 0, last_end = ~std::size_t{0};
        while (pos <= n) {
            const auto m = p.find(in, pos);
            if (!m) break;
            const std::size_t b = m->first, e = m->second;
            if (b == e) {
                const std::size_t next = e < n ? e + utf8::decode(s + e, s + n).length : n + 1;
                if (e == last_end) {
                    pos = next;
                    continue;
                }
                pos = next;
            } else {
                pos = e;
            }
            rec.copy(out.size(), copied, b - copied);
            out.append(in.data() + copied, b - copied);
            rec.replace(out.size(), out.size() + content.size(), b, e);
            out.append(content);
            copied = e;
            last_end = e;
        }
        rec.copy(out.size(), copied, n - copied);
        out.append(in.data() + copied, n - copied);
    }

    // HF's Nmt: deletes some control characters and turns some others into a space.
    template <class R>
    static void nmt(std::string_view in, std::string& out, R& rec) {
        out.clear();
        out.reserve(in.size());
        const auto* s = reinterpret_cast<const unsigned char*>(in.data());
        const std::size_t n = in.size();
        for (std::size_t i = 0; i < n;) {
            const utf8::decoded d = utf8::decode(s + i, s + n);
            const char32_t c = d.cp;
            if ((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || c == 0x8F ||
                c == 0x9F) {
                // deleted
            } else if (c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1680 || (c >= 0x200B && c <= 0x200F) ||
                       c == 0x2028 || c == 0x2029 || c == 0x2581 || c == 0xFEFF || c == 0xFFFD) {
                rec.replace(out.size(), out.size() + 1, i, i + d.length);
                out.push_back(' ');
            } else {
                rec.copy(out.size(), i, d.length);
                out.append(in.data() + i, d.length);
            }
            i += d.length;
        }
    }

    std::vector<step> steps_;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
