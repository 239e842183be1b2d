// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/unicode_tables.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/normalizer.hpp"
#include "bytepiece/tokenizer.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// A point where a `basic_stream_encoder` had to cut the input without proof that the cut is
/// harmless, so that its output may differ from one-shot `encode` there.
struct stream_forced_cut {
    enum class kind {
        /// The best paths of one line did not converge within the window: the line was
        /// segmented as two chunks, before and after `offset`.
        segmentation,
        /// More than a window of input held no point where NFC may be cut (a run of combining
        /// marks, or of characters that may compose with what precedes them): it was
        /// normalized in two parts, before and after `offset`.
        normalization,
    };
    kind reason;
    /// Byte offset of the cut: in the normalized text for `segmentation`, in the input for
    /// `normalization` (both counted since construction or the last `finish`).
    std::uint64_t offset;
};

/// Options of a `basic_stream_encoder`.
struct stream_options {
    /// Bytes of the current line the encoder keeps at most (plus one processing step of at
    /// most 64 KiB and one longest piece) before it forces a cut. Ordinary text converges
    /// within a few pieces, so the window is reached only by adversarial input; it bounds the
    /// memory, about 17 bytes per kept byte.
    std::size_t window = std::size_t{1} << 20;
    /// Called at every forced cut (may be empty). `forced_cuts()` counts them as well.
    std::function<void(const stream_forced_cut&)> on_forced_cut;
};

/// Encodes text that arrives in pieces of any size, in memory bounded by the window, and emits
/// each id as soon as it is certain. Unless a forced cut happens (see `stream_options`), the
/// ids are exactly those of one-shot `tok.encode(whole_input)`, NFC and `<bos>`/`<eos>`
/// included.
///
/// How it stays exact:
/// - NFC: bytes after the last point where NFC may be cut (before a code point with canonical
///   combining class 0 and NFC_QC=Yes, which is every ASCII byte) are held back, so the
///   normalized pieces concatenate to the NFC of the whole input.
/// - Chunks: a chunk (line) ends only once a byte other than `\n` follows its newlines.
///   Complete chunks go to `tok.encode_chunk` unchanged.
/// - A long line runs an incremental Viterbi that performs the very same relaxations, in the
///   same order and with the same sums, as the one-shot one: start s is relaxed once the next
///   `max_piece_length` bytes are known, so every back-pointer it fixes is the one-shot's. When
///   the back-pointer chains of all positions that the final path can still pass through (the
///   last `max_piece_length` relaxed positions) meet at a position p, the path up to p is
///   final: its ids are emitted and the bytes before p dropped. best[p] keeps its actual value
///   (no renormalization to 0), because a rebased sum rounds differently and could flip a tie
///   or a near-tie; with the value kept, every later sum is bit-identical to the one-shot's,
///   so there is no residual risk of divergence.
///
/// The encoder borrows the tokenizer, which must outlive it. One encoder serves one stream at
/// a time and is not thread-safe; use one per thread.
///
/// Example:
///     bytepiece::stream_encoder enc(tok);
///     std::vector<std::uint32_t> ids;
///     while (read(block)) enc.feed(block, ids);
///     enc.finish(ids);  // ids == tok.encode(whole input)
template <class Score = double, class Id = std::uint32_t>
class basic_stream_encoder {
public:
    using tokenizer_type = basic_tokenizer<Score, Id>;
    using score_type = Score;
    using id_type = Id;

    /// Binds the encoder to `tok` (borrowed: it must outlive the encoder). A window below
    /// twice the longest piece is raised to that, so that a forced cut always makes progress.
    explicit basic_stream_encoder(const tokenizer_type& tok, stream_options options = {})
        : tok_(tok), options_(std::move(options)) {
        const auto& m = tok_.model();
        for (std::size_t id = tokenizer_type::model_type::first_piece_id; id < m.vocab_size(); ++id)
            max_len_ = std::max(max_len_, m.piece(static_cast<id_type>(id)).size());
        options_.window = std::max(options_.window, 2 * max_len_);
        // Convergence is checked once per step of relaxed bytes: often enough that the kept
        // text stays small, rarely enough that the check costs nothing measurable.
        step_ = std::max<std::size_t>(max_len_, std::min<std::size_t>(std::size_t{1} << 16, options_.window / 2));
    }

    /// Encodes the next `bytes` of the stream and appends to `out` every id that is now certain
    /// (`<bos>` first, if the tokenizer's options ask for it).
    void feed(std::string_view bytes, std::vector<id_type>& out) {
        start(out);
        feed_chunks(bytes, vector_sink{out});
    }

    /// Ends the stream: appends the remaining ids (and `<eos>` if the tokenizer's options ask
    /// for it) and resets the encoder for a new stream. `forced_cuts()` is kept.
    void finish(std::vector<id_type>& out) {
        start(out);
        finish_chunks(vector_sink{out});
        if (tok_.options().add_eos) out.push_back(tokenizer_type::model_type::eos_id);
        started_ = false;
    }

    /// Like `feed`, but reports ids through `sink(const id_type* ids, std::size_t count,
    /// bool chunk_ends)`, where `chunk_ends` says that the ids complete a chunk (a line with its
    /// newlines), so a caller can print one line per chunk as `bytepiece encode` does. Never
    /// adds `<bos>`/`<eos>`.
    template <class Sink>
    void feed_chunks(std::string_view bytes, Sink&& sink) {
        if (!tok_.options().normalize) {
            consume(bytes, sink);
            return;
        }
        if (bytes.empty()) return;
        const std::size_t old = held_.size();
        held_.append(bytes);
        // Earlier bytes held no cut point, except a code point that was incomplete then.
        std::size_t cut = last_nfc_boundary(old >= 3 ? old - 3 : 0);
        if (cut == npos) {
            if (held_.size() <= options_.window) return;
            cut = complete_prefix();
            report({stream_forced_cut::kind::normalization, raw_offset_ + cut});
        }
        normalize_and_consume(cut, sink);
    }

    /// Like `finish`, but through a sink as in `feed_chunks`; never adds `<eos>`.
    template <class Sink>
    void finish_chunks(Sink&& sink) {
        if (!held_.empty()) normalize_and_consume(held_.size(), sink);
        if (open_) close_chunk(sink);
        raw_offset_ = 0;
        offset_ = 0;
    }

    /// Number of forced cuts since construction: 0 means every id so far equals one-shot
    /// `encode`'s.
    std::uint64_t forced_cuts() const noexcept { return forced_cuts_; }

    /// The longest piece of the model in bytes: how far ahead a line must be known before the
    /// ids of a position can be final.
    std::size_t max_piece_length() const noexcept { return max_len_; }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    struct vector_sink {
        std::vector<id_type>& out;
        void operator()(const id_type* ids, std::size_t n, bool) const { out.insert(out.end(), ids, ids + n); }
    };

    void start(std::vector<id_type>& out) {
        if (!started_ && tok_.options().add_bos) out.push_back(tokenizer_type::model_type::bos_id);
        started_ = true;
    }

    void report(const stream_forced_cut& c) {
        ++forced_cuts_;
        if (options_.on_forced_cut) options_.on_forced_cut(c);
    }

    // The last position i >= max(from, 1) of held_ before which NFC may cut: a complete code
    // point with ccc 0 and NFC_QC=Yes starts there (the rule nfc_append itself cuts by), so
    // the NFC of the bytes before and from i concatenate to the NFC of the whole. Searched from
    // the end, so ordinary text stops at once.
    std::size_t last_nfc_boundary(std::size_t from) const noexcept {
        const auto* const p = reinterpret_cast<const unsigned char*>(held_.data());
        const auto* const end = p + held_.size();
        for (std::size_t i = held_.size(); i-- > std::max<std::size_t>(from, 1);) {
            const unsigned char c = p[i];
            if (c < 0x80) return i;
            if (c < 0xC2 || c > 0xF4) continue;  // a continuation byte, or never a lead byte
            const detail::utf8::decoded d = detail::utf8::decode(p + i, end);
            if (d.cp == detail::utf8::invalid) continue;  // incomplete for now, or ill-formed
            if (d.cp < detail::unicode::quick_first_nontrivial || detail::unicode::quick_class(d.cp) == 0) return i;
        }
        return npos;
    }

    // held_'s length without an incomplete code point at its end: where a forced NFC cut goes.
    std::size_t complete_prefix() const noexcept {
        const std::size_t n = held_.size();
        for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
            const auto c = static_cast<unsigned char>(held_[n - back]);
            if (c < 0x80) break;
            if (c < 0xC0) continue;
            const std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            return need > back ? n - back : n;
        }
        return n;
    }

    template <class Sink>
    void normalize_and_consume(std::size_t cut, Sink& sink) {
        const std::string_view part(held_.data(), cut);
        if (is_nfc_quick(part)) {
            consume(part, sink);
        } else {
            normalized_.clear();
            nfc_append(part, normalized_);
            consume(normalized_, sink);
        }
        raw_offset_ += cut;
        held_.erase(0, cut);
    }

    // The position where the chunk running at `from` ends: just after its run of newlines,
    // once a byte other than `\n` follows it; npos when `t` ends first.
    static std::size_t chunk_end(std::string_view t, std::size_t from) noexcept {
        const void* nl = std::memchr(t.data() + from, '\n', t.size() - from);
        if (!nl) return npos;
        std::size_t q = static_cast<std::size_t>(static_cast<const char*>(nl) - t.data());
        while (q < t.size() && t[q] == '\n') ++q;
        return q < t.size() ? q : npos;
    }

    // Cuts normalized text into chunks, continuing the open one first.
    template <class Sink>
    void consume(std::string_view t, Sink& sink) {
        if (t.empty()) return;
        std::size_t i = 0;
        if (open_) {
            const std::size_t cut = after_newline_ && t[0] != '\n' ? 0 : chunk_end(t, 0);
            if (cut == npos) {
                extend(t, sink);
                return;
            }
            extend(t.substr(0, cut), sink);
            close_chunk(sink);
            i = cut;
        }
        // The complete chunks go to encode_chunks together, which scans several at once.
        complete_.clear();
        std::size_t cut = npos;
        while (i < t.size() && (cut = chunk_end(t, i)) != npos) {
            complete_.push_back(t.substr(i, cut - i));
            i = cut;
        }
        tok_.encode_chunks(complete_.data(), complete_.size(), [&](std::size_t k, const id_type* ids, std::size_t n) {
            sink(ids, n, true);
            offset_ += complete_[k].size();
        });
        if (i < t.size()) {
            open_ = true;
            extend(t.substr(i), sink);
        }
    }

    // Appends bytes to the open chunk, one step at a time so that the kept text never grows
    // by more than a step between two convergence checks.
    template <class Sink>
    void extend(std::string_view t, Sink& sink) {
        if (t.empty()) return;
        after_newline_ = t.back() == '\n';
        while (!t.empty()) {
            const std::size_t take = std::min(t.size(), step_);
            text_.append(t.data(), take);
            t.remove_prefix(take);
            if (!incremental_ && text_.size() < step_) continue;  // short lines: encode_chunk at the end
            if (!incremental_) {
                incremental_ = true;
                best_.assign(1, score_type(0));
                back_.assign(1, 0);
                next_ = 0;
                checked_ = 0;
            }
            relax_until(text_.size() >= max_len_ ? text_.size() - max_len_ + 1 : 0);
            if (next_ - checked_ >= step_) converge(sink);
        }
    }

    // Relaxes starts next_ .. limit-1 with the text known so far. The caller guarantees that
    // every piece from these starts lies within the text (or that the chunk is complete), so
    // each start sees exactly the edges it sees in the one-shot Viterbi; the loop is the
    // one-shot loop: same order, same sums, replacement only on a strictly greater score.
    void relax_until(std::size_t limit) {
        const std::size_t n = text_.size();
        if (best_.size() < n + 1) {
            best_.resize(n + 1, -std::numeric_limits<score_type>::infinity());
            back_.resize(n + 1, 0);
        }
        const double_array_trie& trie = tok_.trie();
        const auto& pieces = tok_.model();
        const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
        for (std::size_t s = next_; s < limit; ++s) {
            const score_type base = best_[s];
            std::uint32_t node = double_array_trie::root_node();
            for (std::size_t k = s; k < n; ++k) {
                const std::uint32_t next = trie.base_at(node) + bytes[k];
                if (trie.check_at(next) != node) break;
                node = next;
                const std::int32_t v = trie.value_at(node);
                if (v < 0) continue;  // the one-shot loop scores these -inf: never a strict win
                const score_type candidate = base + pieces.score(static_cast<id_type>(v));
                if (candidate > best_[k + 1]) {
                    best_[k + 1] = candidate;
                    back_[k + 1] = (static_cast<std::uint64_t>(v) << 32) | static_cast<std::uint32_t>(k + 1 - s);
                }
            }
        }
        next_ = std::max(next_, limit);
    }

    static std::size_t back_len(std::uint64_t b) noexcept { return static_cast<std::uint32_t>(b); }

    // Finds the deepest position every open path passes through and emits the path up to it;
    // forces a cut when there is none and the window is full.
    template <class Sink>
    void converge(Sink& sink) {
        checked_ = next_;
        // The final path reaches the unknown end from one of these positions, since no piece
        // is longer than max_len_; their back-pointers are final.
        const std::size_t lo = next_ + 1 >= max_len_ ? next_ + 1 - max_len_ : 0;
        heads_.clear();
        for (std::size_t q = lo; q <= next_; ++q) heads_.push_back(q);
        // Chains only go down, so stepping the highest heads back until all coincide gives
        // the deepest common position.
        for (;;) {
            const auto [mn, mx] = std::minmax_element(heads_.begin(), heads_.end());
            const std::size_t low = *mn, high = *mx;
            if (low == high) break;
            const std::size_t parent = high - back_len(back_[high]);
            for (auto& h : heads_)
                if (h == high) h = parent;
        }
        const std::size_t p = heads_.front();
        if (p > 0) {
            emit_path(p, false, sink);
            drop(p);
            return;
        }
        if (text_.size() <= options_.window) return;
        // No convergence within the window: segment what is relaxed so far as if the line
        // ended at next_, and the rest as a new chunk.
        const std::size_t cut = next_;
        report({stream_forced_cut::kind::segmentation, offset_ + cut});
        emit_path(cut, false, sink);
        drop(cut);
        std::fill(best_.begin() + 1, best_.end(), -std::numeric_limits<score_type>::infinity());
        std::fill(back_.begin() + 1, back_.end(), 0);
    }

    template <class Sink>
    void emit_path(std::size_t e, bool chunk_ends, Sink& sink) {
        ids_.clear();
        while (e > 0) {
            ids_.push_back(static_cast<id_type>(back_[e] >> 32));
            e -= back_len(back_[e]);
        }
        std::reverse(ids_.begin(), ids_.end());
        sink(static_cast<const id_type*>(ids_.data()), ids_.size(), chunk_ends);
    }

    // Forgets the first p bytes of the open chunk; best_[p] keeps its value (see the class
    // comment for why it is not rebased to 0).
    void drop(std::size_t p) {
        text_.erase(0, p);
        best_.erase(best_.begin(), best_.begin() + static_cast<std::ptrdiff_t>(p));
        back_.erase(back_.begin(), back_.begin() + static_cast<std::ptrdiff_t>(p));
        next_ -= p;
        checked_ -= std::min(checked_, p);
        offset_ += p;
    }

    template <class Sink>
    void close_chunk(Sink& sink) {
        if (!incremental_) {
            ids_.clear();
            tok_.encode_chunk(text_, ids_);
            sink(static_cast<const id_type*>(ids_.data()), ids_.size(), true);
        } else {
            relax_until(text_.size());  // the chunk is complete: every start may be relaxed
            emit_path(text_.size(), true, sink);
        }
        offset_ += text_.size();
        text_.clear();
        best_.clear();
        back_.clear();
        next_ = checked_ = 0;
        incremental_ = open_ = after_newline_ = false;
    }

    const tokenizer_type& tok_;
    stream_options options_;
    std::size_t max_len_ = 1;
    std::size_t step_ = 1;
    std::uint64_t forced_cuts_ = 0;
    bool started_ = false;  // <bos> already written by the vector interface

    std::string held_;          // input after the last NFC cut point, not yet normalized
    std::string normalized_;    // scratch for NFC output
    std::uint64_t raw_offset_ = 0;  // input bytes normalized so far

    bool open_ = false;           // a chunk is in progress (text_ holds its kept bytes)
    bool after_newline_ = false;  // the open chunk's last byte is '\n'
    bool incremental_ = false;    // the open chunk is long enough to run the incremental Viterbi
    std::string text_;            // the open chunk's bytes from its last certain position
    std::uint64_t offset_ = 0;    // normalized bytes before text_
    std::vector<score_type> best_;
    std::vector<std::uint64_t> back_;  // (id << 32) | piece length; 0 = not reached
    std::size_t next_ = 0;             // starts below this are relaxed
    std::size_t checked_ = 0;          // next_ at the last convergence check
    std::vector<std::size_t> heads_;
    std::vector<id_type> ids_;
    std::vector<std::string_view> complete_;  // complete chunks of the current feed
};

/// The stream encoder for `bytepiece::tokenizer`.
using stream_encoder = basic_stream_encoder<>;

BYTEPIECE_NAMESPACE_END
