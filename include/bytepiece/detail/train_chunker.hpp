// SPDX-License-Identifier: Apache-2.0
//
// Streaming form of the reference's `normalize(text, maxlen, isolate_digits)`: NFC, then the
// regular expression of spec §2, applied to text that arrives in pieces of any size and that is
// never held whole. Feeding a text in any number of pieces yields exactly the chunks that the
// regular expression finds on the whole NFC text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "bytepiece/detail/unicode_tables.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/normalizer.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// `\d` as the reference sees it: general category Nd in Unicode 14.0, the version of Python
/// 3.11's `re` module that the reference ran on. Unicode 15.0 added two Nd ranges (Kawi and Nag
/// Mundari digits) that the reference treats as ordinary characters.
inline bool reference_is_digit(char32_t cp) noexcept {
    if ((cp >= 0x11F50 && cp <= 0x11F59) || (cp >= 0x1E4F0 && cp <= 0x1E4F9)) return false;
    return unicode::is_decimal_digit(cp);
}

/// Cuts NFC text into the matches of the reference's chunking regular expression:
///
/// | maxlen | isolate_digits | expression                                        |
/// | -----: | -------------- | ------------------------------------------------- |
/// | 0      | no             | `.*\n+|.+`                                        |
/// | 0      | yes            | `\d|[^\n\d]*\n+|[^\n\d]+`                         |
/// | M > 0  | no             | `.{,M}\n{1,100}|.{1,M}`                           |
/// | M > 0  | yes            | `\d|[^\n\d]{,M}\n{1,100}|[^\n\d]{1,M}`            |
///
/// `.` is any character but `\n`, `\d` any character of general category Nd (see `reference_is_digit`), and lengths count
/// characters (code points; a byte that is not well-formed UTF-8 counts as one character that
/// is neither `\n` nor a digit). Text is given with `feed` in pieces that end on character
/// boundaries and the end of the text is marked with `finish`; `emit(std::string_view)` receives
/// each match, in order, exactly once. Undecided text (at most one match, about 4*M + 100 bytes)
/// is the only thing kept between calls.
///
/// Example: with M = 3, `feed("abcde\n\n")` then `finish()` emits `"abc"` and `"de\n\n"`.
class regex_chunker {
public:
    static constexpr std::size_t max_newlines = 100;

    explicit regex_chunker(std::size_t maxlen = 0, bool isolate_digits = false) noexcept
        : maxlen_(maxlen), isolate_(isolate_digits) {}

    /// Adds normalized text that ends on a character boundary and emits every match that is
    /// now decided.
    template <class Emit>
    void feed(std::string_view text, Emit&& emit) {
        if (text.empty()) return;
        if (pending_.empty()) {
            const std::size_t used = run(text, false, emit);
            pending_.assign(text.data() + used, text.size() - used);
        } else {
            pending_.append(text.data(), text.size());
            const std::size_t used = run(pending_, false, emit);
            pending_.erase(0, used);
        }
    }

    /// Marks the end of the current text: emits what is left. The chunker is then ready for
    /// the next text (a match never spans two texts).
    template <class Emit>
    void finish(Emit&& emit) {
        run(pending_, true, emit);
        pending_.clear();
    }

    /// Length in bytes of the match at the start of `text`, or 0 if it is not decided yet
    /// (`at_end` false and more text could change it) or there is no text left.
    std::size_t match(std::string_view text, bool at_end) const noexcept {
        const auto* const p = reinterpret_cast<const unsigned char*>(text.data());
        const auto* const end = p + text.size();
        if (p == end) return 0;
        const unsigned char* q = p;
        std::size_t chars = 0;  // characters in the run of non-newline (non-digit) characters
        if (!isolate_) {
            const void* nl = std::memchr(p, '\n', text.size());
            const auto* stop = nl ? static_cast<const unsigned char*>(nl) : end;
            const std::size_t bytes = static_cast<std::size_t>(stop - p);
            if (maxlen_ == 0 || bytes <= maxlen_) {
                q = stop;
                chars = bytes;  // only compared with 0 below
            } else {
                // Step over maxlen characters; if the run goes on, the match is those maxlen.
                while (q < stop && chars < maxlen_) {
                    q += char_length(q, end);
                    ++chars;
                }
                if (q < stop) return static_cast<std::size_t>(q - p);
                q = stop;
            }
        } else {
            while (q < end && *q != '\n') {
                std::size_t len = 1;
                if (*q < 0x80) {
                    if (*q >= '0' && *q <= '9') break;
                } else {
                    const utf8::decoded d = utf8::decode(q, end);
                    len = d.length;
                    if (d.cp != utf8::invalid && reference_is_digit(d.cp)) break;
                }
                if (maxlen_ != 0 && chars == maxlen_) return static_cast<std::size_t>(q - p);
                q += len;
                ++chars;
            }
            if (q < end && *q != '\n') {  // a digit stops the run
                if (chars == 0) return char_length(q, end);  // `\d`: the digit alone
                return static_cast<std::size_t>(q - p);      // `[^\n\d]{1,M}`
            }
        }
        if (q == end) {  // the run reaches the end of the text seen so far
            if (!at_end) return 0;
            return static_cast<std::size_t>(q - p);  // `.{1,M}`; 0 only if nothing is left
        }
        // A newline follows the run: `.{,M}\n{1,100}` takes up to 100 of them.
        std::size_t newlines = 0;
        while (q < end && *q == '\n' && (maxlen_ == 0 || newlines < max_newlines)) {
            ++q;
            ++newlines;
        }
        if (q == end && !at_end && (maxlen_ == 0 || newlines < max_newlines)) return 0;
        return static_cast<std::size_t>(q - p);
    }

private:
    static std::size_t char_length(const unsigned char* p, const unsigned char* end) noexcept {
        return *p < 0x80 ? 1 : utf8::decode(p, end).length;
    }

    template <class Emit>
    std::size_t run(std::string_view text, bool at_end, Emit& emit) {
        std::size_t pos = 0;
        while (pos < text.size()) {
            const std::size_t n = match(text.substr(pos), at_end);
            if (n == 0) break;
            emit(text.substr(pos, n));
            pos += n;
        }
        return pos;
    }

    std::size_t maxlen_;
    bool isolate_;
    std::string pending_;
};

/// NFC-normalizes a text that arrives in pieces of any size (even cutting a character in two)
/// and hands on normalized pieces that end on character boundaries, so that their
/// concatenation is exactly `nfc(whole text)`. It cuts only before an ASCII byte, or, in
/// text with no ASCII for 4 MiB, before a character that cannot interact with what precedes
/// it (ccc 0 and NFC_Quick_Check=Yes); neither normalization nor decoding reaches across such
/// a point.
class nfc_stream {
public:
    /// Adds raw bytes; calls `out(std::string_view)` with normalized text when some is ready.
    template <class Out>
    void feed(std::string_view raw, Out&& out) {
        if (raw.empty()) return;
        std::size_t cut = raw.size();
        while (cut > 0 && static_cast<unsigned char>(raw[cut - 1]) >= 0x80) --cut;
        if (cut == 0) {  // no ASCII byte: keep it all for now
            carry_.append(raw.data(), raw.size());
            if (carry_.size() > fallback_limit) cut_carry_at_boundary(out);
            return;
        }
        --cut;  // before the last ASCII byte, since combining marks may still follow it
        if (carry_.empty()) {
            emit(raw.substr(0, cut), out);
        } else {
            carry_.append(raw.data(), cut);
            emit(carry_, out);
        }
        carry_.assign(raw.data() + cut, raw.size() - cut);
    }

    /// Marks the end of the text: hands on the rest.
    template <class Out>
    void finish(Out&& out) {
        if (!carry_.empty()) emit(carry_, out);
        carry_.clear();
    }

private:
    static constexpr std::size_t fallback_limit = std::size_t(1) << 22;

    template <class Out>
    void emit(std::string_view text, Out& out) {
        if (text.empty()) return;
        if (is_nfc_quick(text)) {
            out(text);
        } else {
            normalized_.clear();
            nfc_append(text, normalized_);
            out(std::string_view(normalized_));
        }
    }

    // Long text without ASCII: cut before the last character that starts a normalization
    // segment of its own.
    template <class Out>
    void cut_carry_at_boundary(Out& out) {
        const auto* const begin = reinterpret_cast<const unsigned char*>(carry_.data());
        const auto* const end = begin + carry_.size();
        const unsigned char* last = nullptr;
        for (const unsigned char* p = begin; p < end;) {
            const utf8::decoded d = utf8::decode(p, end);
            // A sequence that reaches the very end may be a character cut in two: not a boundary.
            if (d.cp != utf8::invalid && p > begin && p + d.length < end &&
                (d.cp < unicode::quick_first_nontrivial || unicode::quick_class(d.cp) == 0))
                last = p;
            p += d.length;
        }
        if (!last) return;
        const std::size_t cut = static_cast<std::size_t>(last - begin);
        std::string rest = carry_.substr(cut);
        carry_.resize(cut);
        emit(carry_, out);
        carry_.swap(rest);
    }

    std::string carry_;
    std::string normalized_;
};

/// `nfc_stream` followed by `regex_chunker`: the reference's `normalize(text, maxlen,
/// isolate_digits)` over a text fed in pieces. Call `feed` any number of times, then `finish`
/// at the end of each text; `emit(std::string_view chunk)` receives the chunks.
///
/// Example:
/// ```
/// detail::text_chunker c(10000, false);
/// c.feed(part1, emit); c.feed(part2, emit); c.finish(emit);  // same as normalize(part1 + part2)
/// ```
class text_chunker {
public:
    explicit text_chunker(std::size_t maxlen = 0, bool isolate_digits = false) : chunker_(maxlen, isolate_digits) {}

    template <class Emit>
    void feed(std::string_view raw, Emit&& emit) {
        nfc_.feed(raw, [&](std::string_view normalized) { chunker_.feed(normalized, emit); });
    }

    template <class Emit>
    void finish(Emit&& emit) {
        nfc_.finish([&](std::string_view normalized) { chunker_.feed(normalized, emit); });
        chunker_.finish(emit);
    }

private:
    nfc_stream nfc_;
    regex_chunker chunker_;
};

/// The chunks of one whole text, as the reference's `normalize(text, maxlen, isolate_digits)`
/// returns them (each as UTF-8 bytes), passed to `emit(std::string_view)` in order.
template <class Emit>
void for_each_normalized_chunk(std::string_view text, std::size_t maxlen, bool isolate_digits, Emit&& emit) {
    text_chunker c(maxlen, isolate_digits);
    c.feed(text, emit);
    c.finish(emit);
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
