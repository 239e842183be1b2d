// SPDX-License-Identifier: Apache-2.0
//
// Incremental decoding: ids arrive one at a time (a model generating), text leaves as soon as
// it is complete, never half a UTF-8 character, and the pieces of text add up to exactly what
// `decode` gives for the whole sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/special_tokens.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

template <class Tokenizer, class Id, class = void>
struct has_id_to_token : std::false_type {};
template <class Tokenizer, class Id>
struct has_id_to_token<Tokenizer, Id, std::void_t<decltype(std::declval<const Tokenizer&>().id_to_token(std::declval<Id>()))>>
    : std::true_type {};

/// Whether text decoded up to `id` may still change when more ids follow: HF's ByteFallback
/// decoder turns a whole run of `<0xXX>` tokens into U+FFFD when any of its bytes do not form
/// UTF-8, so a character of the run is final only once the run ends.
template <class Tokenizer, class Id>
bool leaves_text_open(const Tokenizer& tok, Id id) {
    if constexpr (has_id_to_token<Tokenizer, Id>::value) {
        if (static_cast<std::size_t>(id) >= tok.vocab_size()) return false;
        const std::string_view t = tok.id_to_token(id);
        return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>';
    } else {
        (void)tok;
        (void)id;
        return false;
    }
}

}  // namespace detail

/// A decoder fed one id at a time, for any tokenizer of this library (BytePiece,
/// SentencePiece, HF) through its own `decode`, so every format's rules (BytePiece dropping
/// invalid bytes, SentencePiece's leading space and byte pieces, HF's decoder chain) hold.
///
/// It keeps a short window of the latest ids and the text already given out for them. Each
/// id decodes the window again; what the text gained is given out unless it ends in U+FFFD
/// (byte pieces that may yet form a character), the id is an HF byte-fallback token (whose
/// run decodes as a whole), or the text no longer extends what was given out; then it waits
/// for more ids. The window is cut back to its last
/// few ids only where their text is exactly the end of what was given out, so the context the
/// decoders look at (a leading space, the bytes of a character) stays. Cost per id: one decode
/// of a window of 8 to 16 ids, typically.
///
/// The tokenizer (and special tokens) must outlive the stream. One stream serves one sequence
/// at a time; it is not thread-safe, but many streams may share a tokenizer.
///
/// Example:
/// `bytepiece::decode_stream ds(tok); for (auto id : ids) std::cout << ds.put(id); std::cout << ds.flush();`
template <class Id = std::uint32_t>
class basic_decode_stream {
public:
    using id_type = Id;
    /// What decodes a window: the text of `n` ids at `ids`.
    using decode_function = std::function<std::string(const Id*, std::size_t)>;

    /// A stream over `tok.decode` (an HF tokenizer skips its special added tokens, as its
    /// `decode` does by default).
    ///
    /// Example: `bytepiece::decode_stream ds(tok);`
    template <class Tokenizer, class = decltype(&Tokenizer::vocab_size)>
    explicit basic_decode_stream(const Tokenizer& tok)
        : decode_([&tok](const Id* ids, std::size_t n) { return detail::decode_ordinary(tok, ids, n, true); }),
          open_([&tok](Id id) { return detail::leaves_text_open(tok, id); }) {}

    /// A stream over `decode_with_specials(tok, ..., specials, skip_special)`.
    ///
    /// Example: `bytepiece::decode_stream ds(tok, tok.specials(), false);`
    template <class Tokenizer>
    basic_decode_stream(const Tokenizer& tok, const special_tokens& specials, bool skip_special)
        : decode_([&tok, &specials, skip_special](const Id* ids, std::size_t n) {
              return decode_with_specials(tok, ids, n, specials, skip_special);
          }),
          open_([&tok, &specials](Id id) { return !specials.content_of(id) && detail::leaves_text_open(tok, id); }) {}

    /// A stream over any decode function.
    ///
    /// Example: `bytepiece::decode_stream ds([&](const std::uint32_t* p, std::size_t n) { return my_decode(p, n); });`
    explicit basic_decode_stream(decode_function decode) : decode_(std::move(decode)), open_([](Id) { return false; }) {}

    /// Feeds `id` and appends to `out` the text that became complete. Throws what the
    /// tokenizer's `decode` throws (an id outside the vocabulary: `decode_error`); the id is
    /// then not kept.
    ///
    /// Example: `std::string text; ds.put(id, text);`
    void put(Id id, std::string& out) {
        window_.push_back(id);
        if (open_(id)) return;  // a known id whose text may change: nothing to decode yet
        std::string text;
        try {
            text = decode_(window_.data(), window_.size());
        } catch (...) {
            window_.pop_back();
            throw;
        }
        if (text.size() <= given_.size() || text.compare(0, given_.size(), given_) != 0 ||
            ends_unfinished(text))
            return;
        out.append(text, given_.size(), std::string::npos);
        given_ = std::move(text);
        if (window_.size() >= next_cut_) cut();
    }

    /// Feeds `id` and returns the text that became complete (often empty).
    ///
    /// Example: `std::cout << ds.put(id) << std::flush;`
    std::string put(Id id) {
        std::string out;
        put(id, out);
        return out;
    }

    /// Ends the sequence: returns the text not given out yet (bytes that never formed a
    /// character, as `decode` renders them) and makes the stream ready for a new sequence.
    ///
    /// Example: `std::cout << ds.flush();`
    std::string flush() {
        std::string text = decode_(window_.data(), window_.size());
        std::string rest;
        if (text.size() > given_.size() && text.compare(0, given_.size(), given_) == 0) rest = text.substr(given_.size());
        reset();
        return rest;
    }

    /// Forgets the sequence fed so far, without returning its rest.
    ///
    /// Example: `ds.reset();`
    void reset() noexcept {
        window_.clear();
        given_.clear();
        next_cut_ = 2 * keep;
    }

private:
    static constexpr std::size_t keep = 8;  // ids of context kept when the window is cut

    static bool ends_unfinished(std::string_view text) noexcept {
        return text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0;
    }

    // Drops the window's oldest ids, keeping the shortest run of latest ids (a multiple of
    // `keep`) whose text is non-empty and exactly the end of what was given out. Where no
    // such run exists, the window grows and the next attempt waits until it has doubled, so
    // the work stays linear in the number of ids.
    void cut() {
        for (std::size_t kept = keep; kept < window_.size(); kept += keep) {
            const std::size_t from = window_.size() - kept;
            std::string tail = decode_(window_.data() + from, kept);
            if (tail.empty()) continue;
            if (tail.size() <= given_.size() && given_.compare(given_.size() - tail.size(), tail.size(), tail) == 0 &&
                !ends_unfinished(tail)) {
                window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(from));
                given_ = std::move(tail);
                next_cut_ = 2 * keep;
                return;
            }
            break;
        }
        next_cut_ = 2 * window_.size();
    }

    decode_function decode_;
    std::function<bool(Id)> open_;  // whether the text may still change after this id
    std::vector<Id> window_;
    std::string given_;  // the text of window_ given out so far: a prefix of its decode
    std::size_t next_cut_ = 2 * keep;
};

/// The stream decoder of 32-bit ids.
using decode_stream = basic_decode_stream<>;

BYTEPIECE_NAMESPACE_END
