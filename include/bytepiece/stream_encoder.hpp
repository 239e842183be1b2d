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
        /// The best paths of one line did not meet within the window: the line was segmented
        /// as two chunks, before and after `offset`, exactly as `encode` segments two lines.
        /// The ids still decode to the same text.
        segmentation,
        /// More than a window of input held no point where NFC may be cut (a run of combining
        /// marks, or of characters that may compose with what precedes them): it was
        /// normalized in two parts, before and after `offset`, so the ids decode to the NFC of
        /// each part, which may differ from the NFC of the whole around the cut.
        normalization,
    };
    kind reason;
    /// Byte offset of the cut: in the normalized text for `segmentation`, in the input for
    /// `normalization` (both counted since construction or the last `finish`).
    std::uint64_t offset;

    /// One sentence saying where the cut is and what it changed, for a warning.
    ///
    /// Example: `std::fprintf(stderr, "warning: %s\n", cut.describe().c_str());`
    std::string describe() const {
        const std::string at = std::to_string(offset);
        if (reason == kind::segmentation)
            return "at byte " + at + " of the normalized text, the best segmentations of a line had not met "
                   "within the stream window, so the line was segmented as two lines split there: the ids "
                   "around that byte may differ from encoding the line whole, but decode to the same text";
        return "at byte " + at + " of the input, the stream window held no point where NFC may cut the text "
               "(a run of combining marks), so the text was NFC-normalized in two parts split there: the ids "
               "decode to the NFC of each part, which may differ from the NFC of the whole around that byte";
    }
};

/// Options of a `basic_stream_encoder`.
struct stream_options {
    /// Bytes of the current line the encoder keeps at most after the last position it knows
    /// the line's segmentation passes through (the block it is processing included), and
    /// bytes of input it holds at most without a point where NFC may cut it, before it forces
    /// a cut. Ordinary text converges within a few pieces, so the window is reached only by
    /// adversarial input. Raised to twice the longest piece. It bounds the memory: 12 bytes
    /// per kept byte (for a power of two of them), about 40 per byte of a block (64 KiB, or 16
    /// longest pieces, at most half the window) and of the longest piece, and the bytes held
    /// for NFC: about 20 MiB at most with the default and pieces below 64 KiB.
    std::size_t window = std::size_t{1} << 20;
    /// Called at every forced cut (may be empty). `forced_cuts()` counts them as well.
    std::function<void(const stream_forced_cut&)> on_forced_cut;
};

/// Encodes text that arrives in pieces of any size, in memory bounded by the window, and emits
/// each id once it is certain. Unless a forced cut happens (see `stream_options`), the ids are
/// exactly those of one-shot `tok.encode(whole_input)`, NFC and `<bos>`/`<eos>` included. The
/// work is linear in the input, whatever the model and the text.
///
/// How it stays exact:
/// - NFC: bytes after the last point where NFC may be cut (before a code point with canonical
///   combining class 0 and NFC_QC=Yes, which is every ASCII byte) are held back, so the
///   normalized pieces concatenate to the NFC of the whole input.
/// - Chunks: a chunk (line) ends only once a byte other than `\n` follows its newlines.
///   Complete chunks go to `tok.encode_chunks` unchanged.
/// - A long line runs encode's own Viterbi on, block by block: the automaton scans each block
///   (its parts side by side, each started a few bytes early, see scan_and_score), and best[e]
///   is the maximum over the pieces that end at e of best[e - length] + score, taken in the
///   same order with the same sums as `encode`, so every best value and back-pointer is
///   bit-identical to the one-shot one (scores are never rebased, because a rebased sum
///   rounds differently and could flip a tie).
/// - Certain positions: the path the line will end with leaves the text known so far from one
///   of its last `max_piece_length()` positions (the open ones; no piece is longer), so a
///   position that the back-pointer chains of all of these pass through is on it. The
///   deepest such position (the root) is found by a walk down from the newest position, which
///   on ordinary text covers about one longest piece per block; where paths meet late or never,
///   by the union of the open positions' chains kept as a tree with child counts, in which
///   each position joins, leaves and is passed by the root once. Ids up to the root are
///   emitted and forgotten. So the work is linear in the input whatever the model and the
///   text: measured by scripts/bench_stream.sh, at most about 1.5 times encode's CPU time
///   on the hostile inputs of issue 16, and 1.05 to 1.2 times on ordinary text.
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
    /// twice the longest piece is raised to that, so that a line of ordinary text, whose
    /// certain positions trail by about one longest piece, never fills it. Throws
    /// `argument_error` for a model with a piece of 1 GiB or more.
    explicit basic_stream_encoder(const tokenizer_type& tok, stream_options options = {})
        : tok_(tok), options_(std::move(options)) {
        const auto& m = tok_.model();
        for (std::size_t id = tokenizer_type::model_type::first_piece_id; id < m.vocab_size(); ++id)
            max_len_ = std::max(max_len_, m.piece(static_cast<id_type>(id)).size());
        if (max_len_ >= children_mask)
            BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                           "stream_encoder: the model has a piece of " + std::to_string(max_len_) +
                                               " bytes; pieces of 1 GiB or more are not supported"));
        options_.window = std::max(options_.window, 2 * max_len_);
        // Blocks small enough that the automaton's states for one stay in cache, large enough
        // that the scan's lanes pay off; and several longest pieces long, so that each part's
        // warm start (see scan_and_score) costs a fraction of the part; but at most half the
        // window, which a block must fit in with the positions kept before it.
        // (And below 2^31 bytes: the automaton's scan takes 32-bit offsets.)
        block_ = std::max<std::size_t>(1, std::min({options_.window / 2, std::size_t{1} << 30,
                                                    std::max<std::size_t>(std::size_t{1} << 16, block_pieces * max_len_)}));
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

    /// The longest piece of the model in bytes: how far back from the end of the known text
    /// the path of a line may leave it.
    std::size_t max_piece_length() const noexcept { return max_len_; }

    /// Steps taken on long lines since construction, for tests and benchmarks: bytes scanned
    /// (warm starts included), positions scored, visited by walks down, joined to, removed
    /// from and passed in the tree of open paths, pieces emitted, and values moved when buffers
    /// are compacted or grown. Encoding a long line costs a small constant times this, which
    /// stays below 8 per byte whatever the model and the text.
    ///
    /// Example: `CHECK(enc.work() <= 8 * text.size());`
    std::uint64_t work() const noexcept { return work_; }

    /// Bytes of memory the encoder holds in its buffers (not counting the tokenizer).
    ///
    /// Example: `CHECK(enc.memory_bytes() < (64u << 20));`
    std::size_t memory_bytes() const noexcept {
        return held_.capacity() + normalized_.capacity() + text_.capacity() + history_.capacity() +
               scan_text_.capacity() + best_.capacity() * sizeof(score_type) + tree_.capacity() * sizeof(node) +
               states_.capacity() * sizeof(std::uint32_t) + ids_.capacity() * sizeof(id_type) +
               complete_.capacity() * sizeof(std::string_view);
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    using automaton_type = detail::piece_automaton<score_type>;
    using info_type = typename automaton_type::piece_info;

    // A position of the open segment in the tree of open paths: its back-pointer (the entry
    // offset of its best last piece, and that piece's length, kept apart so that walking back
    // needs no look-up) and its tree links: whether it is in the tree, and its child count.
    // A position is open while it is among the last max_len_: the line's path may leave the
    // known text from it.
    struct node {
        std::uint32_t winner;
        std::uint32_t length;
        std::uint32_t meta;
    };
    static constexpr std::uint32_t in_tree_bit = 0x80000000u;
    static constexpr std::uint32_t children_mask = 0x3FFFFFFFu;
    // A block is scanned in up to this many parts side by side (the automaton's lanes), each
    // of at least min_part_bytes; it is at least block_pieces longest pieces long (see the
    // constructor).
    static constexpr std::size_t max_parts = 6;
    static constexpr std::size_t min_part_bytes = 4096;
    static constexpr std::size_t block_pieces = 16;
    // Warm bytes before a part while states are shallow (see scan_and_score), and the longest
    // run of blocks with max_len_ warm bytes between two tries of short ones.
    static constexpr std::size_t short_warm = 256;
    static constexpr std::size_t max_backoff = 64;

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

    // Appends bytes to the open chunk. A chunk shorter than a block is kept whole and encoded
    // by encode_chunk when it ends; a longer one is processed block by block.
    template <class Sink>
    void extend(std::string_view t, Sink& sink) {
        if (t.empty()) return;
        after_newline_ = t.back() == '\n';
        if (!incremental_) {
            if (text_.size() + t.size() < block_) {
                text_.append(t);
                return;
            }
            tree_line_ = false;
            begin_segment();
            incremental_ = true;
        }
        if (!text_.empty()) {
            const std::size_t take = std::min(t.size(), block_ - text_.size());
            text_.append(t.data(), take);
            t.remove_prefix(take);
            if (text_.size() < block_) return;
            advance(text_, sink);
            text_.clear();
        }
        for (; t.size() >= block_; t.remove_prefix(block_)) advance(t.substr(0, block_), sink);
        text_.assign(t.data(), t.size());
    }

    // A new segment (the open chunk's start, or a forced cut) at position 0 of its own: no
    // history for the automaton, best[0] = 0, and the tree a single open node.
    void begin_segment() {
        tree_mode_ = tree_line_;
        settled_ = 0;
        history_.clear();
        last_state_ = 0;
        done_ = root_ = emitted_ = 0;
        best_origin_ = 0;
        best_.assign(1, score_type(0));
        if (tree_.empty()) tree_.resize(std::size_t{1} << 10);
        mask_ = tree_.size() - 1;
        // Marks of a walk down are in_tree_bit too: none when walking.
        tree_[0] = {0, 0, tree_mode_ ? in_tree_bit : 0};
    }

    node& at(std::size_t pos) noexcept { return tree_[pos & mask_]; }

    // Placed in a branch, keeps the compiler from turning it into a select (it may not move
    // an asm statement), so that the branch is predicted instead of waited for.
    static void keep_branch() noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __asm__ volatile("");
#endif
    }

    // Scans, scores and joins the next block of the open segment, moves the root up and emits
    // the ids up to it. If the kept positions would exceed the window, cuts first.
    template <class Sink>
    void advance(std::string_view block, Sink& sink) {
        const std::size_t n = block.size();
        if (done_ - root_ + n >= options_.window && !tree_mode_) find_root();
        if (done_ - root_ + n >= options_.window) {
            // No position within the window is certain: segment the line as if it ended here,
            // and the rest as a line of its own.
            report({stream_forced_cut::kind::segmentation, offset_ + done_});
            emit_path(done_, false, sink);
            offset_ += done_;
            begin_segment();  // a line that did not meet goes on with the tree
        }
        reserve_tree(done_ + n - emitted_ + 1);
        // best_ must reach max_len_ back from the block's first end; the rest is dropped, at a
        // cost of at most max_len_ moves per block, no more than a block.
        const std::size_t keep_from = done_ + 1 > max_len_ ? done_ + 1 - max_len_ : 0;
        if (keep_from > best_origin_) {
            const std::size_t from = keep_from - best_origin_, count = done_ + 1 - keep_from;
            std::copy(best_.begin() + static_cast<std::ptrdiff_t>(from),
                      best_.begin() + static_cast<std::ptrdiff_t>(from + count), best_.begin());
            best_origin_ = keep_from;
            work_ += count;
        }
        // Grown only: what lies past done_ is overwritten before it is read.
        if (best_.size() < done_ + n + 1 - best_origin_) best_.resize(done_ + n + 1 - best_origin_);
        scan_and_score(block);
        if (tree_mode_) join(n);
        done_ += n;
        work_ += (tree_mode_ ? 2 : 1) * n;  // scored (and joined)
        keep_history(block);
        if (tree_mode_) {
            raise_root();
        } else if (done_ - root_ >= 2 * settled_ || done_ - root_ + block_ >= options_.window) {
            find_root();
        }
        if (root_ > emitted_) emit_path(root_, false, sink);
    }

    // At first the root is found lazily, by walking down from the newest position (see
    // mark_down) when the kept positions have doubled since the last walk or fill the window:
    // on ordinary text a walk covers about one longest piece per block. Over text whose paths
    // meet late, if ever, a walk could cover most of the window at every block, so a walk
    // longer than walk_limit() stops, and the segment switches to the tree of open paths, kept
    // position by position at a cost linear whatever the text.
    void find_root() {
        if (mark_down(walk_limit())) settled_ = done_ - root_;
        else build_tree();
    }

    // Ordinary text: the paths of the open positions meet a few pieces below the oldest of
    // them; a long piece repeated: within another longest piece.
    std::size_t walk_limit() const noexcept { return 2 * max_len_ + 4096; }

    // Finds the deepest position that the chains of all open positions pass through, walking
    // down from the newest position once: a position is marked when it is open or when a
    // marked position's chain reaches it, and the walk ends where a single marked position is
    // left. A chain that goes below the root bypasses it, so the line's path is not on it.
    // Marks are cleared as the walk passes them. Gives up (false) after `limit` positions,
    // leaving marks behind.
    bool mark_down(std::size_t limit) {
        const std::size_t top = done_;
        const std::size_t first_open = std::max(root_, top + 1 > max_len_ ? top + 1 - max_len_ : 0);
        std::size_t marked = top - first_open + 1;
        std::size_t i = top;
        for (;; --i) {
            if (top - i >= limit) {
                work_ += limit;
                return false;
            }
            node& ni = at(i);
            if (i < first_open && !(ni.meta & in_tree_bit)) continue;
            ni.meta = 0;
            if (marked == 1 || i == root_) break;
            --marked;
            const std::size_t parent = i - ni.length;
            if (parent < first_open && parent >= root_) {
                node& np = at(parent);
                if (!(np.meta & in_tree_bit)) {
                    np.meta = in_tree_bit;
                    ++marked;
                }
            }
        }
        root_ = i;
        work_ += top - i + 1;
        return true;
    }

    // Switches the segment to the tree of open paths (see join), built for the positions
    // kept: upward, which positions' chains reach the root (all of them while the root is the
    // segment's start); downward, which of those are open or ancestors of open ones, with
    // their child counts. Overwrites the marks a walk left.
    void build_tree() {
        constexpr std::uint32_t reaches_root = 0x40000000u;
        const std::size_t top = done_;
        const std::size_t first_open = std::max(root_, top + 1 > max_len_ ? top + 1 - max_len_ : 0);
        const bool all_reach = root_ == 0;
        if (!all_reach) {
            at(root_).meta = reaches_root;
            for (std::size_t i = root_ + 1; i <= top; ++i) {
                node& ni = at(i);
                const std::size_t parent = i - ni.length;
                ni.meta = parent >= root_ && (at(parent).meta & reaches_root) ? reaches_root : 0;
            }
            work_ += top - root_;
        } else {
            // Marks are left only where the walk went, and on parents at most max_len_ below.
            const std::size_t walked = walk_limit() + max_len_;
            for (std::size_t i = top - std::min(top - root_, walked); i <= top; ++i) at(i).meta = 0;
        }
        for (std::size_t i = top;; --i) {
            node& ni = at(i);
            const std::uint32_t children = ni.meta & children_mask;
            const bool in = (all_reach || (ni.meta & reaches_root)) && (i >= first_open || children > 0);
            ni.meta = in ? in_tree_bit | children : 0;
            if (i == root_) break;
            if (in) ++at(i - ni.length).meta;
        }
        work_ += top - root_ + 1;
        tree_mode_ = true;
        // A line that needed the tree tends to go on needing it: after a forced cut, its next
        // segment starts with the tree (see begin_segment).
        tree_line_ = true;
        raise_root();
    }

    // The automaton's states for parts of a block, each part scanned from the root a few
    // bytes early (its warm start).
    struct scanned_parts {
        std::size_t count = 0;
        std::size_t from[max_parts + 1] = {};   // part i is bytes [from[i], from[i + 1]) of the block
        std::uint32_t start[max_parts + 1] = {};  // where part i's warm start is in scan_text_, then the end
        std::size_t warm[max_parts] = {};
    };

    // The state before part i (after its warm start) and after it.
    std::uint32_t state_before(const scanned_parts& p, std::size_t i) const {
        return p.warm[i] ? states_[p.start[i] + p.warm[i] - 1] : 0;
    }
    std::uint32_t state_after(const scanned_parts& p, std::size_t i) const { return states_[p.start[i + 1] - 1]; }

    // Scans parts [first, p.count) of the block, each from up to `warm` bytes before it (from
    // the history for the first bytes), side by side in the automaton's lanes: their bytes go
    // to scan_text_ from p.start[first] on, their states to the same places in states_.
    void scan_parts(std::string_view block, scanned_parts& p, std::size_t first, std::size_t warm) {
        const std::size_t h = history_.size();
        scan_text_.resize(p.start[first]);
        for (std::size_t i = first; i < p.count; ++i) {
            const std::size_t a = p.from[i], z = p.from[i + 1];
            p.warm[i] = std::min(warm, h + a);
            p.start[i] = static_cast<std::uint32_t>(scan_text_.size());
            // Bytes [h + a - warm, h + z) of the history followed by the block.
            const std::size_t begin = h + a - p.warm[i];
            if (begin < h) scan_text_.append(history_, begin, h - begin);
            const std::size_t in_block = begin < h ? 0 : begin - h;
            scan_text_.append(block.substr(in_block, z - in_block));
        }
        p.start[p.count] = static_cast<std::uint32_t>(scan_text_.size());
        // Padding at the end: the scoring loop prefetches rows a few states ahead.
        constexpr std::size_t pad = tokenizer_type::prefetch_distance;
        if (states_.size() < scan_text_.size() + pad) states_.resize(scan_text_.size() + pad);
        std::fill(states_.begin() + static_cast<std::ptrdiff_t>(scan_text_.size()),
                  states_.begin() + static_cast<std::ptrdiff_t>(scan_text_.size() + pad), 0u);
        tok_.automaton_.scan(reinterpret_cast<const unsigned char*>(scan_text_.data()), p.start + first,
                             p.count - first, states_.data());
        work_ += scan_text_.size() - p.start[first];
    }

    // Runs the automaton over the block and scores it. The block is cut into parts scanned
    // side by side, as encode scans a long line, but each part starts a few bytes early (from
    // the history for the first). The automaton's state is the longest suffix of the text that
    // is a trie node, at most max_len_ bytes: a part whose warm start ends in the state the
    // text before it ends in is exact from there on, and one with max_len_ warm bytes always
    // is. So parts start short_warm bytes early; from the first whose state disagrees on, they
    // are scanned again max_len_ bytes early, and the following blocks start so at once (deep
    // states, as in a long piece repeated, tend to last), trying short starts again after a
    // number of blocks that doubles at each failure. Encode repairs a split point instead, by
    // running the true state on until it meets the part's; but that runs alone after the lanes,
    // and over deep states it runs to the part's end.
    void scan_and_score(std::string_view block) {
        const std::size_t n = block.size();
        scanned_parts p;
        const bool deep = deep_blocks_ > 0;
        const std::size_t warm = deep ? max_len_ : std::min(max_len_, short_warm);
        // Parts at least half their warm start, so that warm starts cost at most twice the
        // block in the lanes, never a repair alone: a block of few longest pieces (a small
        // window) is scanned in fewer parts, which the scan splits and repairs itself.
        p.count = std::max<std::size_t>(1, std::min(max_parts, n / std::max(min_part_bytes, warm / 2)));
        // Parts of equal length with their warm starts, so that the lanes end together: the
        // first part's warm start is the history, which is shorter at a segment's start.
        const std::size_t first_warm = std::min(warm, history_.size());
        const std::size_t lane = (n + first_warm + (p.count - 1) * warm) / p.count;
        const bool balanced = lane > warm + 1 && lane > first_warm;
        p.from[0] = 0;
        for (std::size_t i = 1; i < p.count; ++i)
            p.from[i] = balanced ? p.from[i - 1] + lane - (i == 1 ? first_warm : warm) : n * i / p.count;
        p.from[p.count] = n;
        scan_parts(block, p, 0, warm);
        if (deep) {
            --deep_blocks_;
        } else {
            std::size_t bad = 0;
            for (std::uint32_t truth = last_state_; bad < p.count; truth = state_after(p, bad++))
                if (p.warm[bad] < history_.size() + p.from[bad] && state_before(p, bad) != truth) break;
            if (bad < p.count) {
                // All parts again, rather than those from `bad` on: fewer parts than lanes
                // would be split by the scan, and repaired at the split points alone.
                scan_parts(block, p, 0, max_len_);
                deep_blocks_ = deep_backoff_;
                deep_backoff_ = std::min<std::size_t>(2 * deep_backoff_, max_backoff);
            } else {
                deep_backoff_ = 1;
            }
        }
        last_state_ = state_after(p, p.count - 1);
        // Winners go straight to the tree's slots, in at most two runs where the ring wraps.
        for (std::size_t i = 0; i < p.count; ++i) {
            std::size_t a = p.from[i];
            const std::size_t z = p.from[i + 1];
            const std::uint32_t* states = states_.data() + p.start[i] + p.warm[i];
            while (a < z) {
                const std::size_t slot = (done_ + a + 1) & mask_;
                const std::size_t run = std::min(z - a, tree_.size() - slot);
                score_block(states, run, best_.data() + (done_ + a - best_origin_), tree_.data() + slot);
                states += run;
                a += run;
            }
        }
    }

    // Keeps the segment's last max_len_ bytes for the next block's warm start.
    void keep_history(std::string_view block) {
        if (block.size() >= max_len_) {
            history_.assign(block.substr(block.size() - max_len_));
            return;
        }
        history_.append(block);
        if (history_.size() > max_len_) history_.erase(0, history_.size() - max_len_);
    }

    // Encode's Viterbi pass (tokenizer::best_last_pieces) continued: `at` points at best[e]
    // for the position e before the run, and the states are the automaton's after each byte
    // of the run. For each end, the pieces of its state's row (longest first, the one-byte
    // piece last) are compared in the same order, with the same sums and the same
    // strictly-greater rule, so every value and winner is bit-identical to encode's. Writes
    // each end's winner and its length to `out`.
    void score_block(const std::uint32_t* states, std::size_t n, score_type* at, node* out) const {
        const automaton_type& a = tok_.automaton_;
        const info_type* info = a.info();
        const std::uint32_t* rows = a.rows();
        constexpr std::size_t ahead = tokenizer_type::prefetch_distance;
        score_type previous = *at;  // best[e - 1]
        for (std::size_t i = 0; i < n; ++i) {
            ++at;
            const std::uint32_t* row = rows + std::size_t{states[i]} * automaton_type::row_stride;
            detail::prefetch(rows + std::size_t{states[i + ahead]} * automaton_type::row_stride);
            const info_type* w;
            score_type b;
            if (row[0] & automaton_type::overflow_tag) {
                const std::uint32_t* list = a.overflow(row[0] & ~automaton_type::overflow_tag);
                w = &automaton_type::entry(info, list[1]);
                b = w->before(at) + w->score;
                for (std::uint32_t k = 2; k <= list[0]; ++k) {
                    const info_type* q = &automaton_type::entry(info, list[k]);
                    tokenizer_type::take_if_greater(b, w, q->before(at) + q->score, q);
                }
            } else {
                w = &automaton_type::entry(info, row[0]);
                b = w->before(at) + w->score;
            }
            const info_type* p1 = &automaton_type::entry(info, row[1]);
            const info_type* p2 = &automaton_type::entry(info, row[2]);
            const info_type* p3 = &automaton_type::entry(info, row[3]);
            tokenizer_type::take_if_greater(b, w, p1->before(at) + p1->score, p1);
            tokenizer_type::take_if_greater(b, w, p2->before(at) + p2->score, p2);
            tokenizer_type::take_if_greater(b, w, previous + p3->score, p3);
            *at = b;
            out[i].winner =
                static_cast<std::uint32_t>(reinterpret_cast<const char*>(w) - reinterpret_cast<const char*>(info));
            out[i].length = static_cast<std::uint32_t>(w->length());
            out[i].meta = 0;
            previous = b;
        }
    }

    // Adds the block's positions (already scored into their slots) to the tree of open paths.
    // A position joins under its back-pointer if that is in the tree (otherwise its chain
    // bypasses the root, so the line's path cannot pass through it); the position max_len_
    // before it stops being open and, without children, leaves the tree with every ancestor
    // (none open) that only it kept there. The root always keeps a child: the newest position
    // is in the tree.
    void join(std::size_t n) {
        // The newest position's links stay in a register until the next one is known: most
        // pieces are one byte long, so the next one usually is its child, and going through
        // memory would chain every position's update to the previous one's store.
        std::size_t previous = done_;
        std::uint32_t previous_meta = at(previous).meta;
        constexpr std::size_t ahead = 16;
        for (std::size_t e = done_ + 1; e <= done_ + n; ++e) {
            // The position leaving the open ones, often the parent too, lies a longest piece
            // back: far, for long pieces, so fetched a few positions ahead.
            if (e + ahead >= max_len_) detail::prefetch(&at(e + ahead - max_len_));
            const std::size_t length = at(e).length;
            std::uint32_t meta = 0;
            if (length == 1) {
                if (previous_meta & in_tree_bit) {
                    ++previous_meta;
                    meta = in_tree_bit;
                }
                at(previous).meta = previous_meta;
            } else {
                at(previous).meta = previous_meta;
                const std::size_t parent = e - length;
                node& np = at(parent);
                if (parent >= root_ && (np.meta & in_tree_bit)) {
                    ++np.meta;
                    meta = in_tree_bit;
                }
            }
            previous = e;
            previous_meta = meta;
            if (e < max_len_ || e - max_len_ < root_) continue;
            // x and its ancestors are stored: only e's links are in the register.
            std::size_t x = e - max_len_;
            node* nx = &at(x);
            while (nx->meta == in_tree_bit && x != root_) {
                nx->meta = 0;
                // A branch, not a select: predicted, the next position does not wait for the
                // length's load, and a run of one-byte pieces is walked at the loop's
                // throughput instead of its latency.
                const std::size_t back = nx->length;
                --x;
                if (back != 1) {
                    keep_branch();
                    x -= back - 1;
                }
                nx = &at(x);
                --nx->meta;
                ++work_;
            }
        }
        at(previous).meta = previous_meta;
    }

    // Moves the root up while it is not open and every open path passes through its only
    // child: that child is the first tree node after it, since every other node descends from
    // the child.
    void raise_root() {
        const std::size_t first_open = done_ + 1 > max_len_ ? done_ + 1 - max_len_ : 0;
        for (;;) {
            if (root_ >= first_open || (at(root_).meta & children_mask) != 1) return;
            std::size_t z = root_ + 1;
            while (!(at(z).meta & in_tree_bit)) ++z;
            work_ += z - root_;
            root_ = z;
        }
    }

    // Makes the tree hold the positions [emitted_, emitted_ + count): a power of two, so that a
    // position's slot is a mask away.
    void reserve_tree(std::size_t count) {
        if (count <= tree_.size()) return;
        std::size_t size = tree_.size();
        while (size < count) size *= 2;
        std::vector<node> grown(size);
        const std::size_t mask = size - 1;
        for (std::size_t pos = emitted_; pos <= done_; ++pos) grown[pos & mask] = at(pos);
        work_ += done_ + 1 - emitted_;
        tree_.swap(grown);
        mask_ = mask;
    }

    // Emits the ids of the path from emitted_ to e (e's back-pointer chain, which passes
    // through emitted_) and makes e the emitted position.
    template <class Sink>
    void emit_path(std::size_t e, bool chunk_ends, Sink& sink) {
        ids_.clear();
        for (std::size_t pos = e; pos > emitted_;) {
            const node& np = at(pos);
            ids_.push_back(static_cast<id_type>(automaton_type::id_of(np.winner)));
            pos -= np.length;
        }
        std::reverse(ids_.begin(), ids_.end());
        work_ += ids_.size();
        emitted_ = e;
        sink(static_cast<const id_type*>(ids_.data()), ids_.size(), chunk_ends);
    }

    template <class Sink>
    void close_chunk(Sink& sink) {
        if (!incremental_) {
            ids_.clear();
            tok_.encode_chunk(text_, ids_);
            sink(static_cast<const id_type*>(ids_.data()), ids_.size(), true);
            offset_ += text_.size();
        } else {
            if (!text_.empty()) advance(text_, sink);
            emit_path(done_, true, sink);
            offset_ += done_;
        }
        text_.clear();
        incremental_ = open_ = after_newline_ = false;
    }

    const tokenizer_type& tok_;
    stream_options options_;
    std::size_t max_len_ = 1;
    std::size_t block_ = 1;
    std::uint64_t forced_cuts_ = 0;
    std::uint64_t work_ = 0;
    bool started_ = false;  // <bos> already written by the vector interface

    std::string held_;          // input after the last NFC cut point, not yet normalized
    std::string normalized_;    // scratch for NFC output
    std::uint64_t raw_offset_ = 0;  // input bytes normalized so far

    bool open_ = false;           // a chunk is in progress
    bool after_newline_ = false;  // the open chunk's last byte is '\n'
    bool incremental_ = false;    // the open chunk is processed block by block
    std::string text_;            // the open chunk's bytes not processed yet
    std::uint64_t offset_ = 0;    // normalized bytes before the open chunk's segment

    // The open segment (the open chunk since its start or its last forced cut), by position
    // from the segment's start: done_ bytes processed; every path of the line passes through
    // root_; ids are emitted up to emitted_ (<= root_).
    std::string history_;      // the segment's last max_len_ bytes (fewer at its start)
    std::string scan_text_;                // the parts of a block with their warm starts
    std::uint32_t last_state_ = 0;         // the automaton's state after done_
    std::size_t deep_blocks_ = 0;          // blocks left to scan with max_len_ warm bytes
    std::size_t deep_backoff_ = 1;         // the next such run of blocks
    std::size_t done_ = 0, root_ = 0, emitted_ = 0;
    bool tree_mode_ = false;         // the tree of open paths is kept (see find_root)
    bool tree_line_ = false;         // the open chunk switched to the tree once
    std::size_t settled_ = 0;        // done_ - root_ after the last walk down
    std::vector<score_type> best_;  // best[best_origin_ + i] at i, up to done_
    std::size_t best_origin_ = 0;
    std::vector<node> tree_;        // position p at p & mask_, for p in [emitted_, done_]
    std::size_t mask_ = 0;
    std::vector<std::uint32_t> states_;  // the automaton's states over scan_text_
    std::vector<id_type> ids_;
    std::vector<std::string_view> complete_;  // complete chunks of the current feed
};

/// The stream encoder for `bytepiece::tokenizer`.
using stream_encoder = basic_stream_encoder<>;

BYTEPIECE_NAMESPACE_END
