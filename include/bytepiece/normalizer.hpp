// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "bytepiece/detail/unicode_tables.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/offsets.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail::nfc {

inline constexpr char32_t hangul_s_base = 0xAC00;
inline constexpr char32_t hangul_l_base = 0x1100;
inline constexpr char32_t hangul_v_base = 0x1161;
inline constexpr char32_t hangul_t_base = 0x11A7;  // one below the first trailing jamo: index 0 = none
inline constexpr char32_t hangul_l_count = 19;
inline constexpr char32_t hangul_v_count = 21;
inline constexpr char32_t hangul_t_count = 28;
inline constexpr char32_t hangul_n_count = hangul_v_count * hangul_t_count;
inline constexpr char32_t hangul_s_count = hangul_l_count * hangul_n_count;

// Work-buffer entries are (ccc << 24) | value so that canonical ordering only looks at the top
// byte. Bytes of ill-formed UTF-8 are stored as opaque_base + byte: above U+10FFFF, so no table
// knows them, which makes them starters (ccc 0) that never compose.
inline constexpr std::uint32_t opaque_base = 0x110000;
inline constexpr std::uint32_t value_mask = 0xFFFFFF;

// Short runs of combining marks are the norm; a stack buffer serves them, and only the rare
// long run pays for one growing heap allocation per call.
class work_buffer {
public:
    std::uint32_t* data() noexcept { return heap_ ? heap_.get() : inline_; }
    std::size_t capacity() const noexcept { return heap_ ? heap_capacity_ : inline_capacity; }

    // Makes room for at least `needed` entries, keeping the first `used`.
    std::uint32_t* grow(std::size_t used, std::size_t needed) {
        std::size_t cap = capacity();
        if (needed <= cap) return data();
        while (cap < needed) cap *= 2;
        std::unique_ptr<std::uint32_t[]> bigger(new std::uint32_t[cap]);
        std::copy(data(), data() + used, bigger.get());
        heap_ = std::move(bigger);
        heap_capacity_ = cap;
        return heap_.get();
    }

private:
    static constexpr std::size_t inline_capacity = 256;
    std::uint32_t inline_[inline_capacity];
    std::unique_ptr<std::uint32_t[]> heap_;
    std::size_t heap_capacity_ = 0;
};

inline std::uint32_t with_ccc(char32_t cp) noexcept {
    return (static_cast<std::uint32_t>(unicode::ccc(cp)) << 24) | cp;
}

inline char32_t compose(char32_t first, char32_t second) noexcept {
    // Only NFC_QC=Maybe characters ever appear second in a primary composite.
    if (!(unicode::quick_class(second) & unicode::quick_maybe)) return 0;
    if (first - hangul_l_base < hangul_l_count) {
        if (second - hangul_v_base < hangul_v_count) {
            return hangul_s_base + ((first - hangul_l_base) * hangul_v_count + (second - hangul_v_base)) *
                                       hangul_t_count;
        }
        return 0;
    }
    if (first - hangul_s_base < hangul_s_count) {
        if ((first - hangul_s_base) % hangul_t_count == 0 && second - hangul_t_base - 1 < hangul_t_count - 1) {
            return first + (second - hangul_t_base);
        }
        return 0;
    }
    return unicode::compose_pair(first, second);
}

// Stable by construction: equal classes never swap, as canonical ordering requires. Long runs
// use std::stable_sort so that pathological input stays O(n log n).
inline void sort_marks(std::uint32_t* first, std::uint32_t* last) {
    if (last - first > 32) {
        std::stable_sort(first, last, [](std::uint32_t a, std::uint32_t b) { return (a >> 24) < (b >> 24); });
        return;
    }
    for (std::uint32_t* i = first + 1; i < last; ++i) {
        const std::uint32_t x = *i;
        std::uint32_t* j = i;
        while (j > first && (j[-1] >> 24) > (x >> 24)) {
            *j = j[-1];
            --j;
        }
        *j = x;
    }
}

// The complete algorithm (decompose, order marks, compose), for the few segments the quick
// check cannot vouch for. Callers pass only segments that normalize independently of their
// surroundings, so the result can be appended as is.
inline void normalize_segment(const unsigned char* p, const unsigned char* end, std::string& out,
                              work_buffer& wb) {
    std::uint32_t* buf = wb.data();
    std::size_t cap = wb.capacity();
    std::size_t n = 0;
    while (p < end) {
        if (cap - n < unicode::max_decomposition_length) {
            buf = wb.grow(n, n + unicode::max_decomposition_length + static_cast<std::size_t>(end - p));
            cap = wb.capacity();
        }
        const utf8::decoded d = utf8::decode(p, end);
        if (d.cp == utf8::invalid) {
            buf[n++] = opaque_base + *p;
            ++p;
            continue;
        }
        p += d.length;
        const char32_t cp = d.cp;
        if (cp - hangul_s_base < hangul_s_count) {
            const char32_t s = cp - hangul_s_base;
            buf[n++] = hangul_l_base + s / hangul_n_count;
            buf[n++] = hangul_v_base + (s % hangul_n_count) / hangul_t_count;
            if (s % hangul_t_count) buf[n++] = hangul_t_base + s % hangul_t_count;
            continue;
        }
        const unicode::decomposition_ref dr = unicode::decomposition(cp);
        if (dr.size == 0) {
            buf[n++] = with_ccc(cp);
        } else {
            for (std::size_t i = 0; i < dr.size; ++i) buf[n++] = with_ccc(dr.data[i]);
        }
    }

    for (std::size_t i = 0; i < n;) {
        if ((buf[i] >> 24) == 0) {
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        bool sorted = true;
        for (; j < n && (buf[j] >> 24) != 0; ++j) {
            if ((buf[j] >> 24) < (buf[j - 1] >> 24)) sorted = false;
        }
        if (!sorted) sort_marks(buf + i, buf + j);
        i = j;
    }

    // A character C joins the last starter S unless something between them blocks it: a
    // starter, or a mark whose class is not lower than C's. Once a mark is kept, the previous
    // kept entry always has a nonzero class, so comparing with it alone decides blocking.
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t starter = none;
    std::uint32_t last_ccc = 0;
    std::size_t w = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t x = buf[i];
        const std::uint32_t c = x >> 24;
        if (starter != none && (w == starter + 1 || last_ccc < c)) {
            const char32_t composite = compose(buf[starter], x & value_mask);
            if (composite) {
                buf[starter] = composite;  // primary composites are starters: class 0
                continue;
            }
        }
        if (c == 0) starter = w;
        buf[w++] = x;
        last_ccc = c;
    }

    // Encoding through a stack buffer keeps short segments (the usual case) from zero-filling
    // and shrinking the string around every append.
    char chunk[256];
    std::size_t used = 0;
    for (std::size_t i = 0; i < w; ++i) {
        if (used > sizeof chunk - 4) {
            out.append(chunk, used);
            used = 0;
        }
        const std::uint32_t v = buf[i] & value_mask;
        if (v >= opaque_base) {
            chunk[used++] = static_cast<char>(v - opaque_base);
        } else {
            used += utf8::encode(v, chunk + used);
        }
    }
    out.append(chunk, used);
}

// Advances over text that the NFC quick check accepts and returns the first code point it
// cannot accept (or `end`). `boundary` tracks the start of the last code point before which
// text can be cut (ccc 0 and NFC_QC=Yes, or just past an ill-formed byte): everything before
// it normalizes independently of what follows.
inline const unsigned char* skip_quick_yes(const unsigned char* p, const unsigned char* end,
                                           const unsigned char*& boundary, std::uint32_t& last_ccc) noexcept {
    constexpr std::uint64_t high_bits = 0x8080808080808080ull;
    while (p < end) {
        if (*p < 0x80) {
            ++p;
            while (end - p >= 8) {
                std::uint64_t word;
                std::memcpy(&word, p, 8);
                word &= high_bits;
                if (word) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                    p += __builtin_ctzll(word) >> 3;  // lowest set high bit = first non-ASCII byte
#endif
                    break;
                }
                p += 8;
            }
            while (p < end && *p < 0x80) ++p;
            boundary = p - 1;
            last_ccc = 0;
            continue;
        }
        const utf8::decoded d = utf8::decode(p, end);
        if (d.cp == utf8::invalid) {
            ++p;
            boundary = p;
            last_ccc = 0;
            continue;
        }
        const std::uint8_t q = d.cp < unicode::quick_first_nontrivial ? 0 : unicode::quick_class(d.cp);
        if (q == 0) {
            boundary = p;
            last_ccc = 0;
        } else if (q == unicode::quick_nonzero_ccc) {
            const std::uint32_t c = unicode::ccc(d.cp);
            if (c < last_ccc) return p;  // marks out of canonical order
            last_ccc = c;
        } else {
            return p;
        }
        p += d.length;
    }
    return end;
}

}  // namespace detail::nfc

namespace detail::nfc {

// What nfc_append reports as it writes, for offsets: nothing for plain normalization (so that
// the calls compile away), spans for an alignment.
struct no_record {
    void copy(std::size_t, std::size_t, std::size_t) const noexcept {}
    void segment(const std::string&, std::size_t, std::string_view, std::size_t) const noexcept {}
};
struct alignment_record {
    alignment& a;
    void copy(std::size_t out, std::size_t in, std::size_t n) { a.copy(out, in, n); }
    // A segment NFC left as it was (marks that compose with nothing and were in order) maps
    // byte for byte; one it rewrote maps as a whole.
    void segment(const std::string& out, std::size_t out_begin, std::string_view in, std::size_t in_begin) {
        if (out.size() - out_begin == in.size() && out.compare(out_begin, in.size(), in.data(), in.size()) == 0)
            a.copy(out_begin, in_begin, in.size());
        else
            a.replace(out_begin, out.size(), in_begin, in_begin + in.size());
    }
};

template <class Record>
void append(std::string_view text, std::string& out, Record rec) {
    if (text.empty()) return;  // a default string_view has a null data()
    const auto* const begin = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const end = begin + text.size();
    const unsigned char* p = begin;
    const unsigned char* flushed = begin;  // text before this is already in `out`
    const unsigned char* boundary = begin;
    std::uint32_t last_ccc = 0;
    work_buffer wb;
    const auto at = [begin](const unsigned char* q) { return static_cast<std::size_t>(q - begin); };
    for (;;) {
        p = skip_quick_yes(p, end, boundary, last_ccc);
        if (p == end) break;
        // The segment to renormalize runs from the last cut point before the failing code point
        // to the next cut point after it.
        const unsigned char* seg_end = p + utf8::decode(p, end).length;
        while (seg_end < end) {
            const utf8::decoded d = utf8::decode(seg_end, end);
            if (d.cp == utf8::invalid || unicode::quick_class(d.cp) == 0) break;
            seg_end += d.length;
        }
        rec.copy(out.size(), at(flushed), at(boundary) - at(flushed));
        out.append(reinterpret_cast<const char*>(flushed), static_cast<std::size_t>(boundary - flushed));
        const std::size_t seg_out = out.size();
        normalize_segment(boundary, seg_end, out, wb);
        // A segment is the smallest unit NFC rewrites independently.
        rec.segment(out, seg_out,
                    std::string_view(reinterpret_cast<const char*>(boundary), static_cast<std::size_t>(seg_end - boundary)),
                    at(boundary));
        flushed = boundary = p = seg_end;
        last_ccc = 0;
    }
    rec.copy(out.size(), at(flushed), at(end) - at(flushed));
    out.append(reinterpret_cast<const char*>(flushed), static_cast<std::size_t>(end - flushed));
}

}  // namespace detail::nfc

/// Appends the Unicode Normalization Form C of `text` to `out`, so that canonically equivalent
/// spellings (precomposed "é" versus "e" + U+0301, Hangul syllables versus jamo) become the same
/// bytes before tokenization. The result matches Python's `unicodedata.normalize('NFC', s)` for
/// the Unicode version of the generated tables. Bytes that are not well-formed UTF-8 are copied
/// unchanged, one at a time, and act as barriers nothing composes or reorders across, so any byte
/// string is accepted losslessly. Text that is already NFC costs little more than a copy.
/// `text` must not point into `out`.
///
/// Example: `std::string s; nfc_append("e\xCC\x81", s);` leaves `s == "\xC3\xA9"` ("é").
inline void nfc_append(std::string_view text, std::string& out) {
    detail::nfc::append(text, out, detail::nfc::no_record{});
}

/// `nfc_append`, also recording in `align` where each stretch of the output came from in
/// `text` (output positions count from the start of `out`, input ones from the start of `text`): copied stretches byte
/// for byte, each rewritten segment (a starter and the marks or jamo that composed or were
/// reordered with it, a character that decomposed) as a whole. See offsets.hpp.
///
/// Example: `std::string s; bytepiece::alignment a; nfc_append("e\xCC\x81", s, a);  // a.original(0, 2) == {0, 3}`
inline void nfc_append(std::string_view text, std::string& out, alignment& align) {
    detail::nfc::append(text, out, detail::nfc::alignment_record{align});
}

/// Returns the Unicode Normalization Form C of `text`; see `nfc_append` for the exact semantics,
/// including how bytes that are not well-formed UTF-8 are kept.
///
/// Example: `nfc("\xE1\x84\x80\xE1\x85\xA1") == "\xEA\xB0\x80"` (jamo G + A become "가").
inline std::string nfc(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    nfc_append(text, out);
    return out;
}

/// Returns true if `text` is certainly already in NFC, so that callers can skip normalizing
/// (and copying) it; false means it may or may not be NFC. It is the Unicode NFC quick check:
/// true exactly when every code point is NFC_QC=Yes and combining marks are in canonical order.
/// Ill-formed UTF-8 bytes do not make it false, because `nfc` leaves them unchanged; so whenever
/// this returns true, `nfc(text) == text`.
///
/// Example: `is_nfc_quick("caf\xC3\xA9")` is true; `is_nfc_quick("cafe\xCC\x81")` is false.
inline bool is_nfc_quick(std::string_view text) noexcept {
    const auto* const begin = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const end = begin + text.size();
    const unsigned char* boundary = begin;
    std::uint32_t last_ccc = 0;
    return detail::nfc::skip_quick_yes(begin, end, boundary, last_ccc) == end;
}

BYTEPIECE_NAMESPACE_END
