// SPDX-License-Identifier: Apache-2.0
//
// Segmenting many short independent texts (SentencePiece lines, HF pre-tokens) on the shared
// core: the texts of a window are scanned by the piece automaton at once, so that their chains
// fill the scan's lanes, then each gets its own Viterbi pass from a zero record. Pieces start
// only at character starts, and a character that is no piece gets an unknown candidate; both
// SentencePiece and HF tokenizers' Unigram segment this way.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bytepiece/detail/default_init_allocator.hpp"
#include "bytepiece/detail/piece_automaton.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/detail/viterbi.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/trie.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Bytes of text per automaton pass: enough texts for the scan's lanes to stay busy, few
/// enough that the states stay in cache for the Viterbi passes that follow.
inline constexpr std::size_t text_window_bytes = std::size_t{1} << 16;

/// Texts at or above this size cannot be segmented: positions are 32-bit in the passes.
inline constexpr std::size_t text_window_limit = (std::size_t{1} << 31) - viterbi_prefetch_distance;

/// Scratch space of `segment_window`, reused across calls.
template <class Record>
struct window_workspace {
    std::vector<std::uint32_t> states;
    std::vector<std::uint32_t> winners;
    /// The character ends of the window's texts, then read-ahead padding; sized for the
    /// most there can be (one per byte) and written through a pointer, as a push_back per
    /// character cost a tenth of the whole encode.
    std::vector<std::uint32_t, default_init_allocator<std::uint32_t>> ends;
    std::vector<std::size_t> first_end;    // where each text's ends start in `ends`
    std::vector<Record> best;
    /// The winners of the text being reported, last piece first.
    std::vector<std::uint32_t> path;
    /// Whether the window offered any unknown candidate.
    bool offered_unknown = false;
};

/// What the window pass needs to know of a model's single characters: which ASCII bytes are
/// pieces, how to look up a longer character (a trie whose values below `vocab` are pieces),
/// and the automaton entries of the unknown candidates by byte length.
struct character_pieces {
    std::array<bool, 128> ascii_piece{};
    std::size_t vocab = 0;
    std::uint32_t unknown_entry[5] = {};  // entry offsets, by byte length 1-4
    std::uint32_t pad_entry = 0;          // "no candidate"

    /// Whether entry offset `w` names an unknown candidate.
    bool is_unknown(std::uint32_t w) const noexcept { return w >= unknown_entry[1] && w <= unknown_entry[4]; }
};

/// The byte length of the character starting at `p` (p < end, *p == lead) from its lead byte alone, as
/// SentencePiece counts it: for text known to be valid UTF-8.
struct lead_byte_length {
    std::size_t operator()(unsigned char lead, const unsigned char* p, const unsigned char* end) const noexcept {
        const std::size_t len = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        return std::min(len, static_cast<std::size_t>(end - p));
    }
};

/// The byte length of the character starting at `p` (p < end) in any bytes: a well-formed
/// UTF-8 sequence, or a lone byte, so that no piece (valid UTF-8) can start inside a
/// character. The same as `lead_byte_length` on valid UTF-8.
struct checked_length {
    std::size_t operator()(unsigned char, const unsigned char* p, const unsigned char* end) const noexcept {
        return utf8::decode(p, end).length;
    }
};

/// Segments the texts `[bounds[c], bounds[c + 1])` of `window` (c < chunks, none empty) with
/// the rules `Rules` (detail/viterbi.hpp, which must have an unknown candidate), characters
/// cut by `CharLength` (`lead_byte_length` or `checked_length`), and calls
/// `on_text(c)` for each text in order with `ws.path` holding its winners (entry offsets,
/// last piece first); `ws.winners`/`ws.ends`/`ws.first_end` stay valid during the call.
template <class Rules, class CharLength, class Automaton, class OnText>
void segment_window(const Automaton& automaton, const double_array_trie& trie, const character_pieces& chars,
                    std::string_view window, const std::uint32_t* bounds, std::size_t chunks,
                    window_workspace<typename Rules::record_type>& ws, OnText&& on_text) {
    static_assert(Rules::has_unknown, "a character that is no piece needs an unknown candidate");
    const std::size_t n = window.size();
    const auto* bytes = reinterpret_cast<const unsigned char*>(window.data());
    ws.states.resize(n + viterbi_prefetch_distance);
    std::fill(ws.states.begin() + static_cast<std::ptrdiff_t>(n), ws.states.end(), 0u);
    automaton.scan(bytes, bounds, chunks, ws.states.data());

    // The positions to score, each text's character ends (relative to the text: a piece
    // starts only where a character does, so no record inside a character is ever read),
    // and the unknown candidates: at the end of each character that is no piece, one
    // spanning it (offered from a character's start only when no piece is exactly that
    // character). No character crosses a text.
    ws.winners.assign(n + 1, chars.pad_entry);
    ws.ends.resize(n + viterbi_prefetch_distance);
    ws.first_end.resize(chunks + 1);
    // Locals: stores to `winners` could alias the table's words, which would be reloaded.
    std::uint32_t* const winners = ws.winners.data();
    std::uint32_t* const ends = ws.ends.data();
    std::size_t count = 0;
    const std::array<bool, 128> ascii_piece = chars.ascii_piece;
    std::uint32_t unknown_entry[5];
    std::copy(chars.unknown_entry, chars.unknown_entry + 5, unknown_entry);
    const std::size_t vocab = chars.vocab;
    bool offered = false;
    // The last character looked up in the trie, as its bytes and length, and whether it is
    // unknown: runs of one script repeat few characters (and SentencePiece's space symbol
    // starts every word).
    std::uint32_t cached_key = 0;
    std::size_t cached_length = 0;
    bool cached_unknown = false;
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t begin = bounds[c], end = bounds[c + 1];
        ws.first_end[c] = count;
        for (std::size_t p = begin; p < end;) {
            const unsigned char lead = bytes[p];
            if (lead < 0x80) {
                if (!ascii_piece[lead]) {
                    winners[p + 1] = unknown_entry[1];
                    offered = true;
                }
                ++p;
            } else {
                const std::size_t len = CharLength{}(lead, bytes + p, bytes + end);
                std::uint32_t key = 0;
                for (std::size_t k = 0; k < len; ++k) key = key << 8 | bytes[p + k];
                if (key != cached_key || len != cached_length) {
                    const std::int32_t v = trie.find(window.substr(p, len));
                    cached_key = key;
                    cached_length = len;
                    cached_unknown = v < 0 || static_cast<std::size_t>(v) >= vocab;
                }
                if (cached_unknown) {
                    winners[p + len] = unknown_entry[len];
                    offered = true;
                }
                p += len;
            }
            ends[count++] = static_cast<std::uint32_t>(p - begin);
        }
    }
    ws.offered_unknown = offered;
    ws.first_end[chunks] = count;
    // Read ahead by the pass's prefetch: any position of a text will do.
    std::fill(ends + count, ends + count + viterbi_prefetch_distance, 1u);

    if (ws.best.size() < n + 1) ws.best.resize(n + 1);
    const auto* info = automaton.info();
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::uint32_t begin = bounds[c], end = bounds[c + 1];
        // Each text starts from a zero record. The pass writes best and winners after `begin`
        // only, so best[begin] can be reset for it after the previous text has used it.
        ws.best[begin] = 0;
        const listed_positions positions{ws.ends.data() + ws.first_end[c],
                                         static_cast<std::uint32_t>(ws.first_end[c + 1] - ws.first_end[c])};
        best_last_pieces<Rules>(automaton, ws.states.data() + begin, ws.best.data() + begin,
                                ws.winners.data() + begin, positions);
        ws.path.clear();
        for (std::size_t e = end; e > begin;) {
            const std::uint32_t w = ws.winners[e];
            ws.path.push_back(w);
            e -= Automaton::entry(info, w).length();
        }
        on_text(c);
    }
}

/// Whether the Viterbi pass of window text c (during `segment_window`'s `on_text(c)`) took an
/// unknown candidate at any of its positions, on the best path or not.
template <class Record>
bool took_unknown(const window_workspace<Record>& ws, const character_pieces& chars, const std::uint32_t* bounds,
                  std::size_t c) noexcept {
    if (!ws.offered_unknown) return false;
    const std::uint32_t* winners = ws.winners.data() + bounds[c];
    for (std::size_t i = ws.first_end[c]; i < ws.first_end[c + 1]; ++i)
        if (chars.is_unknown(winners[ws.ends[i]])) return true;
    return false;
}

/// The calling thread's workspace of type `W`, or a fresh one while the thread's is in use (a
/// callback may call back into the same tokenizer).
template <class W>
class workspace_lease {
public:
    workspace_lease() {
        if (!busy()) {
            busy() = true;
            ws_ = &shared();
        } else {
            own_ = std::make_unique<W>();
            ws_ = own_.get();
        }
    }
    ~workspace_lease() {
        if (!own_) busy() = false;
    }
    workspace_lease(const workspace_lease&) = delete;
    workspace_lease& operator=(const workspace_lease&) = delete;
    W& get() noexcept { return *ws_; }

private:
    static W& shared() {
        static thread_local W ws;
        return ws;
    }
    static bool& busy() {
        static thread_local bool in_use = false;
        return in_use;
    }
    W* ws_ = nullptr;
    std::unique_ptr<W> own_;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
