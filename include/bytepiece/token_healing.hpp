// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/errors.hpp"
#include "bytepiece/tokenizer.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// The pieces of a vocabulary in byte order, for prefix-constrained decoding: which pieces
/// start with a text `r` (a continuation's first piece must be one of them) and which pieces
/// are a prefix of `r` (the first step of a multi-step constraint).
///
/// The pieces are kept as one sorted, concatenated byte string: the pieces that start with `r`
/// are then one contiguous run, found by narrowing the run byte by byte (a walk down the
/// implicit trie of the sorted list, one binary search over a shrinking run per byte of `r`),
/// and the pieces that are a prefix of `r` are the runs' first members met on that walk. So a
/// query costs O(|r| log V) plus the size of its answer, whatever the vocabulary, and the
/// index holds the pieces' bytes plus 8 bytes per piece (4 for its offset, 4 for its id). It
/// owns its data: it outlives the tokenizer it came from. A const index is safe to share
/// between threads.
template <class Id = std::uint32_t>
class basic_piece_prefix_index {
public:
    using id_type = Id;

    /// An empty index over no pieces and a vocabulary of 0 ids.
    basic_piece_prefix_index() {
        offsets_.push_back(0);
        for (auto& f : first_) f = 0;
    }

    /// Builds the index of `pieces` (bytes and id), for a vocabulary of `vocab_size` ids (the
    /// bitmasks' width; ids without a piece, such as special tokens, are never candidates).
    /// Pieces must be non-empty and distinct and ids below `vocab_size`, otherwise
    /// `argument_error`. The pieces' bytes are copied.
    ///
    /// Example: `bytepiece::piece_prefix_index idx({{"ab", 3}, {"abc", 4}}, 5);`
    basic_piece_prefix_index(std::vector<std::pair<std::string_view, id_type>> pieces, std::size_t vocab_size)
        : vocab_size_(vocab_size) {
        std::sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::size_t total = 0;
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            const auto& p = pieces[i];
            if (p.first.empty() || static_cast<std::size_t>(p.second) >= vocab_size ||
                (i > 0 && p.first == pieces[i - 1].first))
                BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                               "piece_prefix_index: piece " + std::to_string(i) +
                                                   " (id " + std::to_string(p.second) +
                                                   ") is empty, a duplicate or has an id outside the vocabulary"));
            total += p.first.size();
            max_piece_bytes_ = std::max(max_piece_bytes_, p.first.size());
        }
        if (total > std::numeric_limits<std::uint32_t>::max())
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, "piece_prefix_index: pieces of 4 GiB or more"));
        bytes_.reserve(total);
        offsets_.reserve(pieces.size() + 1);
        ids_.reserve(pieces.size());
        offsets_.push_back(0);
        for (const auto& p : pieces) {
            bytes_.append(p.first);
            offsets_.push_back(static_cast<std::uint32_t>(bytes_.size()));
            ids_.push_back(p.second);
        }
        // first_[c]: the first piece whose first byte is c or more.
        std::size_t i = 0;
        for (unsigned c = 0; c <= 256; ++c) {
            while (i < pieces.size() && static_cast<unsigned char>(pieces[i].first[0]) < c) ++i;
            first_[c] = static_cast<std::uint32_t>(i);
        }
    }

    /// Calls `f(id, piece)` for every piece that starts with `r` (`r` itself included when it is
    /// a piece), in byte order of the pieces; every piece when `r` is empty.
    ///
    /// Example: `idx.for_each_starting_with("Ber", [&](std::uint32_t id, std::string_view p) { ... });`
    template <class F>
    void for_each_starting_with(std::string_view r, F&& f) const {
        const range run = narrow(r, [](std::size_t, std::size_t) {});
        for (std::size_t i = run.first; i < run.last; ++i) f(ids_[i], piece_at(i));
    }

    /// The ids of the pieces that start with `r` (`r` itself included when it is a piece), in
    /// increasing order; all pieces when `r` is empty.
    ///
    /// Example: `idx.starting_with("天")` holds the ids of "天", "天气", "天下", ...
    std::vector<id_type> starting_with(std::string_view r) const {
        const range run = narrow(r, [](std::size_t, std::size_t) {});
        const std::size_t k = run.last - run.first;
        std::vector<id_type> out;
        out.reserve(k);
        if (k * 16 < vocab_size_) {
            out.assign(ids_.begin() + static_cast<std::ptrdiff_t>(run.first),
                       ids_.begin() + static_cast<std::ptrdiff_t>(run.last));
            std::sort(out.begin(), out.end());
            return out;
        }
        // A large answer (a short r, or none): ordering through a bitmap, O(k + V / 64), beats
        // sorting, O(k log k).
        std::vector<std::uint64_t> bits((vocab_size_ + 63) / 64, 0);
        for (std::size_t i = run.first; i < run.last; ++i) set_bit(bits, ids_[i]);
        for (std::size_t w = 0; w < bits.size(); ++w)
            for (std::uint64_t x = bits[w]; x != 0; x &= x - 1)
                out.push_back(static_cast<id_type>(w * 64 + lowest_bit(x)));
        return out;
    }

    /// How many pieces start with `r`, in O(|r| log V) whatever the answer.
    ///
    /// Example: `idx.count_starting_with("") == idx.piece_count()`.
    std::size_t count_starting_with(std::string_view r) const {
        const range run = narrow(r, [](std::size_t, std::size_t) {});
        return run.last - run.first;
    }

    /// Whether some piece starts with `r` and is longer than `r`: the test token healing
    /// applies at each position of a prompt's end.
    ///
    /// Example: `idx.extends_past("Ber")` is true when "Berlin" is a piece.
    bool extends_past(std::string_view r) const {
        const range run = narrow(r, [](std::size_t, std::size_t) {});
        if (run.first == run.last) return false;
        return run.last - run.first > 1 || piece_length(run.first) > r.size();
    }

    /// Calls `f(id, length)` for every piece that is a prefix of `r` (`r` itself included when
    /// it is a piece), shortest first.
    ///
    /// Example: `idx.for_each_prefix_of("weather", [&](std::uint32_t id, std::size_t len) { ... });`
    template <class F>
    void for_each_prefix_of(std::string_view r, F&& f) const {
        narrow(r, [&](std::size_t i, std::size_t length) { f(ids_[i], length); });
    }

    /// The ids of the pieces that are a prefix of `r` (`r` itself included when it is a
    /// piece), in increasing order.
    ///
    /// Example: `idx.prefixes_of("天气")` holds the ids of "天" and "天气" (and of "\xE5" if
    /// single bytes are pieces).
    std::vector<id_type> prefixes_of(std::string_view r) const {
        std::vector<id_type> out;
        for_each_prefix_of(r, [&](id_type id, std::size_t) { out.push_back(id); });
        std::sort(out.begin(), out.end());
        return out;
    }

    /// Sets `mask` to the bitmask over the vocabulary of the pieces that start with `r`: it
    /// gets `(vocab_size() + 63) / 64` words and bit `id % 64` of word `id / 64` is set exactly
    /// for those ids, as a logits processor wants it. `mask` is reused, so one vector serves
    /// every step without allocating.
    ///
    /// Example: `std::vector<std::uint64_t> m; idx.starting_with_mask("Ber", m);`
    void starting_with_mask(std::string_view r, std::vector<std::uint64_t>& mask) const {
        clear_mask(mask);
        for_each_starting_with(r, [&](id_type id, std::string_view) { set_bit(mask, id); });
    }

    /// Like `starting_with_mask`, for the pieces that are a prefix of `r`.
    ///
    /// Example: `std::vector<std::uint64_t> m; idx.prefixes_of_mask("Ber", m);`
    void prefixes_of_mask(std::string_view r, std::vector<std::uint64_t>& mask) const {
        clear_mask(mask);
        for_each_prefix_of(r, [&](id_type id, std::size_t) { set_bit(mask, id); });
    }

    /// Number of pieces indexed.
    ///
    /// Example: `idx.piece_count()`
    std::size_t piece_count() const noexcept { return ids_.size(); }

    /// Width of the bitmasks: the vocabulary size given when building.
    ///
    /// Example: `idx.vocab_size() == tok.vocab_size()`
    std::size_t vocab_size() const noexcept { return vocab_size_; }

    /// Length in bytes of the longest piece, which bounds the healing search.
    ///
    /// Example: `idx.max_piece_bytes()`
    std::size_t max_piece_bytes() const noexcept { return max_piece_bytes_; }

    /// Bytes of memory the index holds.
    ///
    /// Example: `idx.memory_bytes()`
    std::size_t memory_bytes() const noexcept {
        return bytes_.capacity() + offsets_.capacity() * sizeof(std::uint32_t) + ids_.capacity() * sizeof(id_type) +
               sizeof first_;
    }

private:
    struct range {
        std::size_t first, last;
    };

    std::size_t piece_length(std::size_t i) const noexcept { return offsets_[i + 1] - offsets_[i]; }
    std::string_view piece_at(std::size_t i) const noexcept {
        return std::string_view(bytes_.data() + offsets_[i], piece_length(i));
    }

    // The run of pieces that start with `r`. Before narrowing by byte d, every piece of the run
    // starts with r[0, d), sorted, so the one of exactly d bytes (if any) comes first and the
    // others are sorted by their byte d: the run by r[d] is found by two binary searches on
    // that byte alone. `exact(i, d)` is called when piece i is exactly r[0, d).
    template <class G>
    range narrow(std::string_view r, G&& exact) const {
        if (r.empty()) return {0, ids_.size()};
        const auto* want = reinterpret_cast<const unsigned char*>(r.data());
        const auto* bytes = reinterpret_cast<const unsigned char*>(bytes_.data());
        // The first byte from the table: every query pays it, and the whole list is the widest run.
        range run{first_[want[0]], first_[want[0] + 1u]};
        if (run.first < run.last && piece_length(run.first) == 1) exact(run.first, std::size_t{1});
        for (std::size_t d = 1; d < r.size() && run.first < run.last; ++d) {
            // Key of piece i at depth d: 0 when it ends there, 1 + its byte d otherwise.
            const auto key = [&](std::size_t i) -> unsigned {
                return piece_length(i) > d ? 1u + bytes[offsets_[i] + d] : 0u;
            };
            const unsigned k = 1u + want[d];
            std::size_t lo = run.first, hi = run.last;
            while (lo < hi) {  // first with key >= k
                const std::size_t mid = lo + (hi - lo) / 2;
                if (key(mid) < k) lo = mid + 1;
                else hi = mid;
            }
            std::size_t end = run.last;
            hi = end;
            std::size_t lo2 = lo;
            while (lo2 < hi) {  // first with key > k
                const std::size_t mid = lo2 + (hi - lo2) / 2;
                if (key(mid) <= k) lo2 = mid + 1;
                else hi = mid;
            }
            run = {lo, lo2};
            if (run.first < run.last && piece_length(run.first) == d + 1) exact(run.first, d + 1);
        }
        return run;
    }

    static unsigned lowest_bit(std::uint64_t x) noexcept {
#if defined(__GNUC__) || defined(__clang__)
        return static_cast<unsigned>(__builtin_ctzll(x));
#else
        unsigned n = 0;
        while (!(x & 1u)) {
            x >>= 1;
            ++n;
        }
        return n;
#endif
    }

    void clear_mask(std::vector<std::uint64_t>& mask) const { mask.assign((vocab_size_ + 63) / 64, 0); }
    static void set_bit(std::vector<std::uint64_t>& mask, id_type id) noexcept {
        const auto i = static_cast<std::size_t>(id);
        mask[i / 64] |= std::uint64_t{1} << (i % 64);
    }

    std::string bytes_;                  // the pieces in byte order, concatenated
    std::vector<std::uint32_t> offsets_;  // piece i is bytes_[offsets_[i], offsets_[i + 1])
    std::vector<id_type> ids_;           // id of piece i
    std::uint32_t first_[257];           // see the constructor
    std::size_t vocab_size_ = 0;
    std::size_t max_piece_bytes_ = 0;
};

/// The prefix index with 32-bit ids.
using piece_prefix_index = basic_piece_prefix_index<>;

/// What `heal` returns: the prompt's ids up to a safe boundary, and the text given back.
///
/// `ids` followed by the ids of a continuation that starts with `remainder` (its first piece
/// one of `starting_with(remainder)`, or a chain of `prefixes_of` pieces spelling it) spell the
/// prompt's normalized text followed by the continuation.
template <class Id = std::uint32_t>
struct basic_healed_prompt {
    /// Ids of the kept prefix of the prompt's segmentation (after `<bos>` if the tokenizer's
    /// options add it; never `<eos>`).
    std::vector<Id> ids;
    /// Ids of the pieces given back: the rest of the prompt's segmentation.
    std::vector<Id> removed_ids;
    /// The bytes given back, in the normalized domain: what the continuation must start with.
    std::string remainder;
    /// Bytes of the normalized prompt that `ids` spell.
    std::size_t kept_bytes = 0;
};

/// The healed prompt with 32-bit ids.
using healed_prompt = basic_healed_prompt<>;

/// Token healing for a BytePiece tokenizer, with the prefix-constrained candidates that go
/// with it.
///
/// The rule, exactly. Let t be the prompt as `encode` sees it (NFC unless the tokenizer is in
/// raw-bytes mode), n its length in bytes, S the best segmentation of t (`encode`'s), L the
/// longest piece's length and c the start of t's last chunk (see `for_each_chunk`). A piece
/// can never cross a chunk boundary and appending text to t never changes the chunks before
/// c, so only the last chunk can be continued. Let p* be the smallest position p with
/// max(c, n - L + 1) <= p < n such that some piece starts with t[p, n) and is longer than it
/// (so it would run past the end of the prompt); p* = n when there is none. The cut b is the
/// largest boundary of S at or before p* (0 and c are boundaries). `ids` are the pieces of S
/// before b, `remainder` is t[b, n). Between b and p* no piece can run past the prompt's end,
/// so the pieces of S before b are exactly what the best segmentation of any text starting
/// with t[0, b) has there whenever b is one of its boundaries (Viterbi's choice at a
/// position depends only on the bytes before it).
///
/// Normalization: everything happens in the normalized domain. `remainder` is normalized
/// text, and a continuation is appended to it as bytes; NFC(prompt + continuation) can differ
/// from NFC(prompt) + continuation when the continuation starts with a combining mark, which
/// no tokenizer-side rule can undo. The healer refers to `tok`, which must outlive it.
template <class Score = double, class Id = std::uint32_t>
class basic_token_healer {
public:
    using tokenizer_type = basic_tokenizer<Score, Id>;
    using id_type = Id;
    using healed_type = basic_healed_prompt<Id>;

    /// Builds the candidate index over `tok`'s pieces (ids 3 and up; `<pad>`, `<bos>`,
    /// `<eos>` are never candidates): a sort of the pieces, about 0.12 s for a 160k vocabulary.
    ///
    /// Example: `bytepiece::token_healer healer(tok);`
    explicit basic_token_healer(const tokenizer_type& tok) : tok_(&tok), index_(pieces_of(tok), tok.vocab_size()) {}

    /// Heals `prompt` by the rule in the class comment.
    ///
    /// Example: `auto h = healer.heal("The weather in Ber");` gives back " in Ber" with
    /// `bytepiece.eu.plus.40k`.
    healed_type heal(std::string_view prompt) const {
        healed_type out;
        std::string storage;
        const std::string_view t = tok_->normalized_view(prompt, storage);
        encode_options raw;
        raw.normalize = false;
        std::vector<id_type> pieces;
        tok_->encode(t, pieces, raw);
        const std::size_t cut = unsafe_from(t);
        if (tok_->options().add_bos) out.ids.push_back(tokenizer_type::model_type::bos_id);
        std::size_t pos = 0, i = 0;
        for (; i < pieces.size(); ++i) {
            const std::size_t len = tok_->model().piece(pieces[i]).size();
            if (pos + len > cut) break;
            pos += len;
            out.ids.push_back(pieces[i]);
        }
        out.removed_ids.assign(pieces.begin() + static_cast<std::ptrdiff_t>(i), pieces.end());
        out.kept_bytes = pos;
        out.remainder.assign(t.substr(pos));
        return out;
    }

    /// The position p* of the rule (see the class comment) in the normalized text `t`: where
    /// the earliest piece that could run past the end of `t` starts, `t.size()` if none can.
    ///
    /// Example: `healer.unsafe_from("今天天")` is 6 (the last "天" starts "天气").
    std::size_t unsafe_from(std::string_view t) const {
        const std::size_t n = t.size();
        const std::size_t limit = index_.max_piece_bytes();
        std::size_t p = n >= limit ? n - limit + 1 : 0;
        p = std::max(p, last_chunk_start(t));
        // Most positions fail within a byte or two of the trie walk, one load per byte.
        const double_array_trie& trie = tok_->trie();
        const auto* bytes = reinterpret_cast<const unsigned char*>(t.data());
        for (; p < n; ++p) {
            std::uint32_t node = double_array_trie::root_node();
            std::size_t k = p;
            for (; k < n; ++k) {
                const std::uint32_t next = trie.base_at(node) + bytes[k];
                if (trie.check_at(next) != node) break;
                node = next;
            }
            if (k < n) continue;
            // Every node of the trie lies on the way to some key: a node where no piece ends
            // has a child, so a longer piece goes on from it. Only a node that is itself a
            // piece may be a leaf, which the index tells.
            if (trie.value_at(node) < 0 || index_.extends_past(t.substr(p))) return p;
        }
        return n;
    }

    /// The ids of the pieces that start with `r`, in increasing order (see
    /// `basic_piece_prefix_index::starting_with`).
    ///
    /// Example: `healer.starting_with(h.remainder)`
    std::vector<id_type> starting_with(std::string_view r) const { return index_.starting_with(r); }

    /// The ids of the pieces that are a prefix of `r`, in increasing order.
    ///
    /// Example: `healer.prefixes_of(h.remainder)`
    std::vector<id_type> prefixes_of(std::string_view r) const { return index_.prefixes_of(r); }

    /// The candidate index, for masks and callbacks.
    ///
    /// Example: `healer.index().starting_with_mask(h.remainder, mask);`
    const basic_piece_prefix_index<Id>& index() const noexcept { return index_; }

    /// The tokenizer this healer works for.
    ///
    /// Example: `healer.tokenizer().decode(h.ids)`
    const tokenizer_type& tokenizer() const noexcept { return *tok_; }

private:
    static std::vector<std::pair<std::string_view, id_type>> pieces_of(const tokenizer_type& tok) {
        std::vector<std::pair<std::string_view, id_type>> pieces;
        const auto& m = tok.model();
        pieces.reserve(m.piece_count());
        for (std::size_t id = tokenizer_type::model_type::first_piece_id; id < m.vocab_size(); ++id)
            pieces.emplace_back(m.piece(static_cast<id_type>(id)), static_cast<id_type>(id));
        return pieces;
    }

    // The start of the last chunk: a run of bytes other than '\n' and the '\n' after it.
    static std::size_t last_chunk_start(std::string_view t) noexcept {
        std::size_t i = t.size();
        while (i > 0 && t[i - 1] == '\n') --i;
        while (i > 0 && t[i - 1] != '\n') --i;
        return i;
    }

    const tokenizer_type* tok_;
    basic_piece_prefix_index<Id> index_;
};

/// The healer of `bytepiece::tokenizer`.
using token_healer = basic_token_healer<>;

BYTEPIECE_NAMESPACE_END
