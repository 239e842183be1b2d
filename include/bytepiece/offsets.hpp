// SPDX-License-Identifier: Apache-2.0
//
// Offsets of tokens in the caller's original text. Normalizers record, as they run, which
// original bytes each stretch of their output came from (an `alignment`); a tokenizer maps each
// piece's normalized range back through it.
//
// What a piece gets (the rules every format follows):
// - Output copied byte for byte from the input maps byte for byte: a piece there gets exactly
//   the bytes it spells, so in raw mode (no normalization) the ranges partition the input.
// - Output that replaced a stretch of input as a whole (a character sequence NFC composed or
//   reordered, a SentencePiece charsmap rule, a space escaped to U+2581) maps as a whole: a piece
//   that covers any byte of it gets the whole original stretch, as HF tokenizers do. Two pieces
//   that split such a stretch therefore share it, and their ranges overlap.
// - Output inserted from nothing (SentencePiece's dummy prefix) maps to the empty range where it
//   was inserted; a piece made only of it gets that empty range.
// - Input the normalizer deleted (spaces SentencePiece trims or collapses, characters a
//   charsmap maps to nothing) belongs to no piece: ranges may leave gaps there.
// - Special ids added around the text (BytePiece's <bos>/<eos>, SentencePiece's <s>/</s>, the
//   tokens of a tokenizer.json post-processor such as [CLS]/[SEP]) get the empty range at the
//   start or the end of the text; an added token matched in the text gets exactly its bytes.
// - A tokenizer.json pre-tokenizer step that may drop more than white space (Split or
//   Punctuation with Removed, CharDelimiterSplit) gives every piece of its segment the whole
//   segment's range rather than a guess.
// Begins and ends never decrease from one piece to the next.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// A half-open range [begin, end) of byte offsets into the caller's original text.
///
/// Example: `bytepiece::byte_range r{0, 5}; std::string_view word = text.substr(r.begin, r.end - r.begin);`
struct byte_range {
    std::size_t begin = 0;
    std::size_t end = 0;

    /// Number of bytes covered.
    ///
    /// Example: `byte_range{3, 7}.size() == 4`
    std::size_t size() const noexcept { return end - begin; }

    /// Ranges are equal when both ends are.
    ///
    /// Example: `byte_range{1, 2} == byte_range{1, 2}`
    friend bool operator==(const byte_range& a, const byte_range& b) noexcept {
        return a.begin == b.begin && a.end == b.end;
    }
    /// Example: `byte_range{1, 2} != byte_range{1, 3}`
    friend bool operator!=(const byte_range& a, const byte_range& b) noexcept { return !(a == b); }
};

/// Ids together with the original byte range of each, as `encode_with_offsets` returns them.
///
/// Example: `auto e = tok.encode_with_offsets(text); for (std::size_t i = 0; i < e.ids.size(); ++i) use(e.ids[i], e.offsets[i]);`
template <class Id>
struct basic_encoding {
    std::vector<Id> ids;
    std::vector<byte_range> offsets;  ///< offsets[i] belongs to ids[i]
};

/// Where each byte of a normalized text came from in the original text: a list of spans, each
/// either copied byte for byte or replacing an original range as a whole (see the rules at the
/// top of offsets.hpp). Normalizers append spans in output order as they write; positions are
/// relative to the start of the output and of the input the normalizer was given.
///
/// Example:
/// ```
/// bytepiece::alignment a;
/// std::string out;
/// bytepiece::nfc_append("Cafe\xCC\x81", out, a);  // "Café": "Caf" copied, "é" replacing "e\xCC\x81"
/// a.original(3, 5) == bytepiece::byte_range{3, 6}
/// ```
class alignment {
    struct span {
        std::size_t out_begin, out_end;  // output bytes
        std::size_t in_begin, in_end;    // input bytes they came from
        bool exact;                      // byte for byte (then both lengths agree)
    };

public:
    /// Forgets every span, keeping the memory.
    ///
    /// Example: `a.clear();`
    void clear() noexcept { spans_.clear(); }

    /// Records that output [out, out + n) is a copy of input [in, in + n). Adjacent copies
    /// merge, so text that normalization leaves alone costs one span.
    ///
    /// Example: `a.copy(0, 0, 3);`
    void copy(std::size_t out, std::size_t in, std::size_t n) {
        if (n == 0) return;
        if (!spans_.empty()) {
            span& last = spans_.back();
            if (last.exact && last.out_end == out && last.in_end == in) {
                last.out_end += n;
                last.in_end += n;
                return;
            }
        }
        spans_.push_back(span{out, out + n, in, in + n, true});
    }

    /// Records that output [out_begin, out_end) replaced input [in_begin, in_end) as a whole;
    /// an empty input range marks inserted text. Empty output (deleted input) needs no call.
    ///
    /// Example: `a.replace(3, 5, 3, 6);  // "é" (2 bytes) from "e" + U+0301 (3 bytes)`
    void replace(std::size_t out_begin, std::size_t out_end, std::size_t in_begin, std::size_t in_end) {
        if (out_end == out_begin) return;
        spans_.push_back(span{out_begin, out_end, in_begin, in_end, false});
    }

    /// Drops every span at or past output position `size`, cutting the one that straddles it:
    /// for normalizers that take back output they wrote (trailing spaces).
    ///
    /// Example: `a.truncate(out.size());`
    void truncate(std::size_t size) noexcept {
        while (!spans_.empty() && spans_.back().out_begin >= size) spans_.pop_back();
        if (spans_.empty() || spans_.back().out_end <= size) return;
        span& last = spans_.back();
        if (last.exact) last.in_end -= last.out_end - size;
        last.out_end = size;
    }

    /// Appends the spans of `second` (from a text A to B) seen through `first` (from the
    /// original to A): where each byte of B came from in the original. Output positions are
    /// shifted by `out_shift`, original ones by `in_shift`, so that the alignments of segments
    /// normalized one by one append to one alignment of the whole text. A stretch of B that
    /// either step rewrote maps to the whole original of what it came from; copies of copies
    /// stay byte for byte.
    ///
    /// Example: `whole.append_composed(orig_to_a, a_to_b, b_offset, segment_begin);`
    void append_composed(const alignment& first, const alignment& second, std::size_t out_shift = 0,
                         std::size_t in_shift = 0) {
        const std::vector<span>& f = first.spans_;
        std::size_t k = 0;
        // The original position of A's position p (an insertion point): the start of what the
        // byte at p came from, or the end of everything for p past A's last byte.
        const auto point = [&](std::size_t p) -> std::size_t {
            if (f.empty()) return 0;
            while (k + 1 < f.size() && f[k].out_end <= p) ++k;
            const span& x = f[k];
            if (p >= x.out_end) return x.in_end;
            if (p <= x.out_begin) return x.in_begin;
            return x.exact ? x.in_begin + (p - x.out_begin) : x.in_begin;
        };
        for (const span& s : second.spans_) {
            const std::size_t ob = s.out_begin + out_shift, oe = s.out_end + out_shift;
            if (s.in_begin == s.in_end || f.empty()) {
                const std::size_t at = point(s.in_begin) + in_shift;
                replace(ob, oe, at, at);
                continue;
            }
            while (k + 1 < f.size() && f[k].out_end <= s.in_begin) ++k;
            if (!s.exact) {
                std::size_t j = k;
                while (j + 1 < f.size() && f[j].out_end < s.in_end) ++j;
                const span& a = f[k];
                const span& z = f[j];
                const std::size_t b = a.exact ? a.in_begin + (std::max(s.in_begin, a.out_begin) - a.out_begin) : a.in_begin;
                const std::size_t e = z.exact ? z.in_begin + (std::min(s.in_end, z.out_end) - z.out_begin) : z.in_end;
                replace(ob, oe, b + in_shift, std::max(b, e) + in_shift);
                continue;
            }
            // A copy: split along the spans of `first` it crosses.
            std::size_t x = s.in_begin, j = k;
            while (x < s.in_end && j < f.size()) {
                const span& y = f[j];
                const std::size_t to = std::min(s.in_end, y.out_end);
                if (to <= x) {
                    ++j;
                    continue;
                }
                const std::size_t o = ob + (x - s.in_begin);
                if (y.exact)
                    copy(o, y.in_begin + (x - y.out_begin) + in_shift, to - x);
                else
                    replace(o, o + (to - x), y.in_begin + in_shift, y.in_end + in_shift);
                x = to;
                if (to == y.out_end) ++j;
            }
        }
    }

    /// Whether the alignment is one copy of `size` bytes (or empty with `size` 0): output and
    /// input are the same bytes, so composing with it changes nothing.
    ///
    /// Example: `if (step.is_identity(out.size())) { /* skip composing */ }`
    bool is_identity(std::size_t size) const noexcept {
        if (spans_.empty()) return size == 0;
        const span& x = spans_.front();
        return spans_.size() == 1 && x.exact && x.out_begin == 0 && x.in_begin == 0 && x.out_end == size && x.in_end == size;
    }

    /// Whether no span was recorded.
    ///
    /// Example: `if (a.empty()) { /* nothing was written */ }`
    bool empty() const noexcept { return spans_.empty(); }

    /// The original range of output bytes [begin, end) (begin < end, within the recorded
    /// output): the union of what each of them came from.
    ///
    /// Example: `auto r = a.original(piece_start, piece_start + piece_size);`
    byte_range original(std::size_t begin, std::size_t end) const noexcept {
        mapper m(*this);
        return m(begin, end);
    }

    /// Maps output ranges given in increasing order, each in amortized constant time: what a
    /// tokenizer walking its pieces left to right uses.
    ///
    /// Example: `bytepiece::alignment::mapper m(a); for (auto& p : pieces) r = m(p.start, p.start + p.size);`
    class mapper {
    public:
        explicit mapper(const alignment& a) noexcept : spans_(a.spans_.data()), count_(a.spans_.size()) {}

        /// The original range of output bytes [begin, end): see `alignment::original`. Ranges
        /// must come in increasing order of begin and of end.
        ///
        /// Example: `byte_range r = m(3, 5);`
        byte_range operator()(std::size_t begin, std::size_t end) noexcept {
            if (count_ == 0) return {0, 0};
            while (at_ + 1 < count_ && spans_[at_].out_end <= begin) ++at_;
            const span& first = spans_[at_];
            const std::size_t b = first.exact ? first.in_begin + (std::min(begin, first.out_end) - first.out_begin)
                                              : first.in_begin;
            std::size_t k = at_;
            const std::size_t last_byte = end > begin ? end - 1 : begin;
            while (k + 1 < count_ && spans_[k].out_end <= last_byte) ++k;
            const span& last = spans_[k];
            std::size_t e;
            if (end == begin) {
                e = b;
            } else if (last.exact) {
                e = last.in_begin + (std::min(end, last.out_end) - last.out_begin);
            } else {
                e = last.in_end;
            }
            return {b, std::max(b, e)};
        }

    private:
        const span* spans_;
        std::size_t count_;
        std::size_t at_ = 0;
    };

private:
    std::vector<span> spans_;
};

BYTEPIECE_NAMESPACE_END
