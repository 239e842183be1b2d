// SPDX-License-Identifier: Apache-2.0
//
// The SentencePiece front and back ends around the shared segmentation core: SentencePiece's
// normalizer, then the piece automaton and Viterbi every format uses (detail/viterbi.hpp) with
// SentencePiece's arithmetic, then its unknown-piece rules for ids, and its decoder.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/detail/piece_automaton.hpp"
#include "bytepiece/detail/sentencepiece_decode.hpp"
#include "bytepiece/detail/text_windows.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/detail/viterbi.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/random.hpp"
#include "bytepiece/sentencepiece_model.hpp"
#include "bytepiece/offsets.hpp"
#include "bytepiece/sentencepiece_normalizer.hpp"
#include "bytepiece/trie.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// A tokenizer for SentencePiece unigram models (`.model` files) that gives exactly the ids,
/// pieces and decoded text of SentencePiece 0.1.97's `Encode`, `EncodeAsPieces` and `Decode`.
///
/// Text is normalized as SentencePiece does (its precompiled character map, user-defined
/// symbols, whitespace rules), then segmented by the same automaton and Viterbi pass as
/// BytePiece models, with SentencePiece's arithmetic (double candidates against float
/// records) and its unknown characters. All const members may be called from many threads.
///
/// Example:
/// ```
/// auto sp = bytepiece::sentencepiece_tokenizer::load("albert-30k-clean.model");
/// std::vector<std::uint32_t> ids = sp.encode("Hello world!");
/// ```
template <class Id = std::uint32_t>
class basic_sentencepiece_tokenizer {
    static_assert(std::is_integral_v<Id> && std::is_unsigned_v<Id>, "Id must be an unsigned integer type");

public:
    using id_type = Id;
    using piece_type = sentencepiece_model::piece_type;

    /// Builds the tokenizer from a model, checking it as SentencePiece does when loading
    /// (including its self-test samples); `source` names the model in errors. Throws
    /// `model_error`.
    ///
    /// Example: `bytepiece::sentencepiece_tokenizer sp(std::move(m), "spiece.model");`
    explicit basic_sentencepiece_tokenizer(sentencepiece_model m, std::string_view source = "<memory>");

    /// Loads a `.model` file. Throws `io_error` or `model_error` (naming the file and the
    /// field, byte offset or piece at fault; a BPE model is refused with `model_not_unigram`).
    ///
    /// Example: `auto sp = bytepiece::sentencepiece_tokenizer::load("spiece.model");`
    static basic_sentencepiece_tokenizer load(const std::string& path) {
        return basic_sentencepiece_tokenizer(sentencepiece_model::load(path), path);
    }

    /// The ids of `text`, as SentencePiece's `Encode(text)`: no `<s>` or `</s>` added.
    ///
    /// Example: `auto ids = sp.encode("Hello world!");`
    std::vector<id_type> encode(std::string_view text) const {
        std::vector<id_type> ids;
        encode(text, ids);
        return ids;
    }

    /// Appends the ids of `text` to `out`, so that one vector can be reused across calls.
    ///
    /// Example: `ids.clear(); sp.encode(line, ids);`
    void encode(std::string_view text, std::vector<id_type>& out) const {
        workspace_lease lease;
        workspace& ws = lease.get();
        segment(text, ws, [&](std::string_view, id_type id) { out.push_back(id); });
    }

    /// Encodes each of `count` texts as `encode` does and calls `f(index, ids, size)` with text
    /// `index`'s ids, in index order; `ids` is valid during the call only, and `f` may call
    /// this tokenizer's other members. The ids equal `encode`'s, but short texts (lines,
    /// sentences) are scanned many at once: 3-50% faster than one `encode` call each in the
    /// benchmarks (`sp_encode_texts` rows).
    ///
    /// Example: `sp.encode_texts(lines.data(), lines.size(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) { ... });`
    template <class F>
    void encode_texts(const std::string_view* texts, std::size_t count, F&& f) const {
        workspace_lease lease;
        workspace& ws = lease.get();
        std::vector<id_type> ids;
        std::size_t current = 0;  // the text whose ids `ids` collects
        // Reports the texts before `index`: `current` with what it collected, then the rest
        // (normalized to nothing) empty.
        const auto report_before = [&](std::size_t index) {
            for (; current < index; ++current) {
                f(current, static_cast<const id_type*>(ids.data()), ids.size());
                ids.clear();
            }
        };
        segment_texts(texts, count, ws, [&](std::size_t index, std::string_view, id_type id) {
            report_before(index);
            ids.push_back(id);
        });
        report_before(count);
    }

    /// The pieces of `text`, as SentencePiece's `EncodeAsPieces(text)`: pieces are spans of
    /// the normalized text (a run of unknown characters is one piece), or `<0xXX>` for the
    /// bytes of an unknown character when the model has byte fallback.
    ///
    /// Example: `sp.tokenize("Hello")` gives `{"▁", "H", "ello"}` with ALBERT's model.
    std::vector<std::string> tokenize(std::string_view text) const {
        std::vector<std::string> pieces;
        workspace_lease lease;
        workspace& ws = lease.get();
        segment(text, ws, [&](std::string_view piece, id_type) { pieces.emplace_back(piece); });
        return pieces;
    }

    /// The text of `ids`, as SentencePiece's `Decode`. Throws `decode_error` for an id
    /// outside [0, vocab_size()).
    ///
    /// Example: `std::string text = sp.decode(sp.encode("Hello world!"));`
    std::string decode(const std::vector<id_type>& ids) const { return decode(ids.data(), ids.size()); }

    /// Like `decode(ids)`, for `n` ids at `ids`.
    ///
    /// Example: `std::string text = sp.decode(ids.data(), ids.size());`
    std::string decode(const id_type* ids, std::size_t n) const {
        std::string out;
        decoder_.decode(ids, n, out);
        return out;
    }

    /// `text` normalized as SentencePiece normalizes it before segmenting.
    ///
    /// Example: `sp.normalize("  Hello   world ")` gives "▁Hello▁world" with nmt_nfkc rules.
    std::string normalize(std::string_view text) const { return normalizer_.normalize(text); }

    /// Number of ids (pieces of every type).
    ///
    /// Example: `sp.vocab_size()` is 30000 for ALBERT.
    std::size_t vocab_size() const noexcept { return model_.pieces.size(); }

    /// The piece of `id` as the model spells it. Throws `decode_error` if out of range.
    ///
    /// Example: `sp.id_to_piece(1)` is "<unk>" for ALBERT.
    std::string_view id_to_piece(id_type id) const {
        if (id >= model_.pieces.size())
            BYTEPIECE_THROW(decode_error(errc::decode_bad_id, "id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                                                  std::to_string(model_.pieces.size()) + ")"));
        return model_.pieces[id].text;
    }

    /// The id of `piece`, or nothing if the model has no such piece.
    ///
    /// Example: `sp.piece_to_id("<unk>")` is 1 for ALBERT.
    std::optional<id_type> piece_to_id(std::string_view piece) const {
        const auto it = std::lower_bound(by_text_.begin(), by_text_.end(), piece, [&](id_type id, std::string_view p) {
            return std::string_view(model_.pieces[id].text) < p;
        });
        // Control, unknown and byte pieces first, as SentencePiece looks them up first.
        std::optional<id_type> found;
        for (auto i = it; i != by_text_.end() && model_.pieces[*i].text == piece; ++i)
            if (!found || is_reserved(model_.pieces[*i].type)) found = *i;
        return found;
    }

    /// A segmentation with its score: the sum, in double, of SentencePiece's lattice scores
    /// of its pieces (unknown characters score the lowest NORMAL score minus 10 each).
    struct scored_segmentation {
        std::vector<id_type> ids;  ///< as `encode` gives them (unknown runs merged, or bytes)
        double score = 0;
    };

    /// A segmentation of `text` drawn with probability proportional to
    /// `exp(alpha * score)` over all paths of SentencePiece's lattice of the normalized text,
    /// exactly (forward sums in double, then sampling backwards), as SentencePiece's
    /// `SampleEncode(text, -1, alpha)`; alpha 0 is uniform over segmentations. Ids follow
    /// `encode`'s unknown rules. Throws `argument_error` if alpha is negative or not finite.
    ///
    /// Example: `bytepiece::splitmix64 g(7); auto ids = sp.sample("Hello world", 0.1, g);`
    template <class URBG, detail::enable_if_generator_t<URBG> = 0>
    std::vector<id_type> sample(std::string_view text, double alpha, URBG& g) const;

    /// `sample(text, alpha, g)` with `g` a `splitmix64` seeded with `seed`: the same ids for
    /// the same seed on every platform.
    ///
    /// Example: `auto ids = sp.sample("Hello world", 0.1, 42);`
    std::vector<id_type> sample(std::string_view text, double alpha, std::uint64_t seed) const {
        splitmix64 g(seed);
        return sample(text, alpha, g);
    }

    /// The `k` best segmentations of `text` (fewer if it has fewer), best first, exactly (a
    /// k-best Viterbi pass in double). Equal scores: the one whose last piece is longer comes
    /// first, then the same rule for what precedes it, as `encode` breaks ties; so
    /// `nbest(text, 1)` is `encode(text)` except where `encode`'s float records round two
    /// scores together (SentencePiece's `NBestEncode(text, 1)` is its `Encode`). An empty
    /// normalized text has one segmentation, empty, of score 0.
    ///
    /// Example: `for (auto& s : sp.nbest("Hello world", 5)) use(s.ids, s.score);`
    std::vector<scored_segmentation> nbest(std::string_view text, std::size_t k) const;

    /// `log(sum over segmentations of exp(alpha * score))` in nats, in double: the normalizer
    /// of `sample`'s distribution. Throws `argument_error` as `sample` does.
    ///
    /// Example: `double log_z = sp.log_partition("Hello world", 1.0);`
    double log_partition(std::string_view text, double alpha) const;

    /// The entropy in nats of `sample`'s distribution over the segmentations of `text`
    /// (`log` of their number when alpha is 0). Throws `argument_error` as `sample` does.
    ///
    /// Example: `double h = sp.entropy("Hello world", 0.5);`
    double entropy(std::string_view text, double alpha) const;

    /// The model this tokenizer was built from.
    ///
    /// Example: `sp.model().trainer.byte_fallback`
    const sentencepiece_model& model() const noexcept { return model_; }

    // --- BEGIN offsets members (offsets.hpp) ---
    /// Encodes `text` as `encode(text, out)` does, appending the ids to `ids` and, for each,
    /// the byte range it covers in `text` itself (before normalization) to `offsets`: pieces
    /// of a stretch the charsmap rewrote (or a space escaped to U+2581) get the whole stretch,
    /// a piece that is only the dummy prefix gets the empty range where it was inserted, a
    /// byte piece of an unknown character (byte fallback) the original of its one byte, and
    /// spaces the normalizer removed belong to no piece. See offsets.hpp.
    ///
    /// Example: `sp.encode_with_offsets("Hello  world", ids, offsets);`
    void encode_with_offsets(std::string_view text, std::vector<id_type>& ids, std::vector<byte_range>& offsets) const {
        workspace_lease lease;
        workspace& ws = lease.get();
        static thread_local alignment align;
        ws.normalized.clear();
        ws.bounds.assign(1, 0);
        normalizer_.normalize(text, ws.scratch, align);
        if (ws.scratch.empty()) return;
        append_normalized(ws);
        alignment::mapper map(align);
        const auto base = reinterpret_cast<std::uintptr_t>(ws.normalized.data());
        const std::size_t size = ws.normalized.size();
        std::size_t next = 0;  // normalized position after the last piece
        segment_window(ws, [&](std::size_t, std::string_view piece, id_type id) {
            // A piece is a view of the normalized text, or a byte piece's name for the next
            // byte of an unknown character.
            const auto at = reinterpret_cast<std::uintptr_t>(piece.data());
            const bool inside = at >= base && at < base + size;
            const std::size_t start = inside ? static_cast<std::size_t>(at - base) : next;
            next = start + (inside ? piece.size() : 1);
            ids.push_back(id);
            offsets.push_back(map(start, next));
        });
    }

    /// `encode_with_offsets`, returning ids and offsets together.
    ///
    /// Example: `auto e = sp.encode_with_offsets("Hello world"); // e.ids, e.offsets`
    basic_encoding<id_type> encode_with_offsets(std::string_view text) const {
        basic_encoding<id_type> e;
        encode_with_offsets(text, e.ids, e.offsets);
        return e;
    }
    // --- END offsets members ---

private:
    using automaton_type = detail::piece_automaton<double, float>;
    using info_type = automaton_type::piece_info;

    struct workspace {
        std::string scratch;                 // one text normalized
        std::string normalized;              // the window's texts normalized, one after the other
        std::vector<std::uint32_t> bounds;   // where each of them starts, then the end
        std::vector<std::size_t> owners;     // the index of each in the caller's texts
        detail::window_workspace<float> window;
    };

    // The calling thread's scratch space, or a fresh one while the thread's is in use: a
    // callback of encode_texts may call encode or tokenize on the same tokenizer.
    using workspace_lease = detail::workspace_lease<workspace>;

    static bool is_reserved(piece_type t) noexcept {
        return t == piece_type::unknown || t == piece_type::control || t == piece_type::byte;
    }

    // Pieces a text can match, as SentencePiece's trie holds them: NORMAL and USER_DEFINED
    // (UNUSED pieces are in its trie but skipped wherever matched, so leaving them out is the
    // same).
    static bool is_matchable(piece_type t) noexcept { return t == piece_type::normal || t == piece_type::user_defined; }

    // The byte length SentencePiece gives the character starting with `lead`: from the lead
    // byte alone (continuation bytes count as one).
    static std::size_t char_length(unsigned char lead) noexcept {
        return lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    }

    // Normalizes `text`, segments it and calls f(piece, id) for each output piece in order,
    // with SentencePiece's unknown rules applied.
    template <class F>
    void segment(std::string_view text, workspace& ws, F&& f) const {
        ws.normalized.clear();
        ws.bounds.assign(1, 0);
        normalizer_.normalize(text, ws.scratch);
        if (ws.scratch.empty()) return;
        append_normalized(ws);
        segment_window(ws, [&](std::size_t, std::string_view piece, id_type id) { f(piece, id); });
    }

    // Segments texts[0, count) as `segment` does each, calling f(i, piece, id) for the pieces
    // of text i in order, texts in order. Texts are normalized into windows of many, each
    // window scanned by the automaton at once (independent texts fill its lanes), then each
    // text gets its Viterbi pass. Empty results call nothing.
    template <class F>
    void segment_texts(const std::string_view* texts, std::size_t count, workspace& ws, F&& f) const {
        ws.normalized.clear();
        ws.bounds.assign(1, 0);
        ws.owners.clear();
        const auto flush = [&] {
            if (ws.owners.empty()) return;
            segment_window(ws, [&](std::size_t c, std::string_view piece, id_type id) { f(ws.owners[c], piece, id); });
            ws.normalized.clear();
            ws.bounds.assign(1, 0);
            ws.owners.clear();
        };
        for (std::size_t i = 0; i < count; ++i) {
            normalizer_.normalize(texts[i], ws.scratch);
            if (ws.scratch.empty()) continue;
            if (!ws.owners.empty() && ws.normalized.size() + ws.scratch.size() > detail::text_window_bytes) flush();
            append_normalized(ws);
            ws.owners.push_back(i);
        }
        flush();
    }

    // Moves ws.scratch (one text's normalized bytes, not empty) to the end of the window.
    static void append_normalized(workspace& ws) {
        // Positions are 32-bit in the automaton's passes (SentencePiece's own are int).
        if (ws.normalized.size() + ws.scratch.size() >= detail::text_window_limit)
            BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                           "sentencepiece_tokenizer: a text of 2 GiB or more after normalization"));
        ws.normalized += ws.scratch;
        ws.bounds.push_back(static_cast<std::uint32_t>(ws.normalized.size()));
    }

    // The window's texts (ws.normalized cut at ws.bounds) segmented: f(c, piece, id) for the
    // pieces of window text c in order.
    template <class F>
    void segment_window(workspace& ws, F&& f) const {
        const std::string_view s = ws.normalized;
        const info_type* info = automaton_.info();
        const std::size_t vocab = model_.pieces.size();
        detail::window_workspace<float>& w = ws.window;
        detail::segment_window<detail::float_records, detail::lead_byte_length>(
            automaton_, trie_, chars_, s, ws.bounds.data(), ws.bounds.size() - 1, w, [&, s, info, vocab](std::size_t c) {
                std::size_t pos = ws.bounds[c];
                const std::uint32_t* const path = w.path.data();
                std::size_t unknown_start = 0, unknown_length = 0;  // a run of unknown characters
                const auto flush_unknown = [&] {
                    if (unknown_length == 0) return;
                    f(c, s.substr(unknown_start, unknown_length), unk_id_);
                    unknown_length = 0;
                };
                for (std::size_t i = w.path.size(); i-- > 0;) {
                    const std::uint32_t id = automaton_type::id_of(path[i]);
                    const std::size_t len = automaton_type::entry(info, path[i]).length();
                    if (id < vocab) {
                        flush_unknown();
                        f(c, s.substr(pos, len), static_cast<id_type>(id));
                    } else if (byte_fallback_) {
                        // An unknown character becomes the byte pieces of its normalized bytes.
                        for (std::size_t k = 0; k < len; ++k) {
                            const auto b = static_cast<unsigned char>(s[pos + k]);
                            f(c, model_.pieces[byte_ids_[b]].text, static_cast<id_type>(byte_ids_[b]));
                        }
                    } else {
                        // Consecutive unknown characters become one unknown piece.
                        if (unknown_length == 0) unknown_start = pos;
                        unknown_length += len;
                    }
                    pos += len;
                }
                flush_unknown();
            });
    }

    void build(std::string_view source);

    // SentencePiece's lattice of one normalized text (sentencepiece_lattice.hpp).
    struct lattice_node {
        std::uint32_t begin, end;  // byte offsets in the normalized text
        std::uint32_t id;          // vocab size for an unknown character
        double score;
    };
    struct lattice {
        std::string text;                  // normalized
        std::vector<lattice_node> nodes;   // ordered by end
        std::vector<std::uint32_t> first;  // nodes ending at byte e: [first[e], first[e + 1])
        std::vector<std::uint32_t> ends;   // character ends, increasing
    };
    void build_lattice(std::string_view text, lattice& l) const;
    static double check_alpha(double alpha, const char* who);
    std::vector<double> forward(const lattice& l, double alpha, const char* who) const;
    std::vector<id_type> path_ids(const lattice& l, const std::vector<std::uint32_t>& reversed_nodes) const;

    sentencepiece_model model_;
    sentencepiece_normalizer normalizer_;
    detail::sentencepiece_decoder decoder_;
    double_array_trie trie_;       // matchable pieces, and every single byte (see build)
    automaton_type automaton_;     // what segmentation runs on
    detail::character_pieces chars_;  // which characters are pieces, the unknown candidates
    std::array<std::uint32_t, 256> byte_ids_{};  // <0xXX> ids, with byte fallback
    bool byte_fallback_ = false;
    float unknown_score_ = 0;  // of an unknown character in the lattice
    float max_score_ = 0;      // highest NORMAL score (from FLT_MIN), for user-defined symbols
    id_type unk_id_ = 0;
    std::vector<id_type> by_text_;  // ids ordered by piece text, for piece_to_id
};

template <class Id>
basic_sentencepiece_tokenizer<Id>::basic_sentencepiece_tokenizer(sentencepiece_model m, std::string_view source)
    : model_(std::move(m)), normalizer_(model_, source), decoder_(model_) {
    build(source);
}

template <class Id>
void basic_sentencepiece_tokenizer<Id>::build(std::string_view source) {
    model_.check(source);
    const std::size_t vocab = model_.pieces.size();
    if (vocab > std::size_t{std::numeric_limits<id_type>::max()} || vocab >= (std::size_t{1} << 26))
        BYTEPIECE_THROW(model_error(errc::model_too_large, std::string(source) + ": " + std::to_string(vocab) +
                                                               " pieces are more than this tokenizer can number"));
    const auto invalid = [&](std::size_t id, const std::string& why) {
        BYTEPIECE_THROW(model_error(errc::model_sentencepiece_invalid,
                                    std::string(source) + ": piece " + std::to_string(id) + " (\"" +
                                        model_.pieces[id].text + "\") " + why));
    };

    // SentencePiece's scores: the unknown score is the lowest NORMAL score minus 10, in float;
    // a user-defined symbol scores its length times the highest NORMAL score (which starts
    // from FLT_MIN, so with the usual negative scores it is FLT_MIN) minus 0.1, in double.
    float min_score = std::numeric_limits<float>::max();
    float max_score = std::numeric_limits<float>::min();
    for (const auto& p : model_.pieces)
        if (p.type == piece_type::normal) {
            min_score = std::min(min_score, p.score);
            max_score = std::max(max_score, p.score);
        }
    const float unknown_score = min_score - 10.0f;
    unknown_score_ = unknown_score;
    max_score_ = max_score;

    // The trie: matchable pieces cut at their first NUL, as SentencePiece builds its trie from
    // C strings. Pieces starting with a UTF-8 continuation byte are left out: normalized text
    // is valid UTF-8, segments start only at character starts, so they could never match.
    // Every single byte a piece does not cover becomes the key of a piece scoring -inf, so
    // that the automaton's root has every byte as a child.
    std::vector<std::pair<std::string_view, std::int32_t>> keys;
    std::vector<std::uint64_t> key_length(vocab + 6, 1);
    std::array<bool, 256> single{};
    for (std::size_t id = 0; id < vocab; ++id) {
        const auto& p = model_.pieces[id];
        if (!is_matchable(p.type)) continue;
        if (p.type == piece_type::user_defined && !detail::utf8::is_valid(p.text))
            invalid(id, "is a user-defined symbol that is not valid UTF-8, which this tokenizer does not support");
        std::string_view key = p.text;
        key = key.substr(0, key.find('\0'));
        if (key.empty()) continue;
        const auto lead = static_cast<unsigned char>(key[0]);
        if (lead >= 0x80 && lead < 0xC0) continue;
        keys.emplace_back(key, static_cast<std::int32_t>(id));
        key_length[id] = key.size();
        if (key.size() == 1) single[lead] = true;
    }
    // Two pieces equal up to a NUL would be one key; SentencePiece's trie cannot hold both.
    std::sort(keys.begin(), keys.end());
    for (std::size_t i = 1; i < keys.size(); ++i)
        if (keys[i].first == keys[i - 1].first)
            invalid(static_cast<std::size_t>(keys[i].second),
                    "is the same as piece " + std::to_string(keys[i - 1].second) + " up to a NUL byte");
    for (int b = 0; b < 128; ++b) chars_.ascii_piece[static_cast<std::size_t>(b)] = single[static_cast<std::size_t>(b)];
    chars_.vocab = vocab;
    // Ids past the vocabulary: the absent single bytes, then the unknown candidates of 1-4 bytes.
    const std::size_t absent = vocab;
    static const std::array<char, 256> all_bytes = [] {
        std::array<char, 256> a{};
        for (int b = 0; b < 256; ++b) a[static_cast<std::size_t>(b)] = static_cast<char>(b);
        return a;
    }();
    for (int b = 0; b < 256; ++b)
        if (!single[static_cast<std::size_t>(b)])
            keys.emplace_back(std::string_view(&all_bytes[static_cast<std::size_t>(b)], 1), static_cast<std::int32_t>(absent));
    for (std::size_t len = 1; len <= 4; ++len) key_length[absent + len] = len;
    trie_ = double_array_trie::build(std::move(keys));

    automaton_ = automaton_type(
        trie_, vocab + 5,
        [&](std::size_t id) -> double {
            if (id == absent) return -std::numeric_limits<double>::infinity();
            if (id > absent) return unknown_score;
            const auto& p = model_.pieces[id];
            if (p.type == piece_type::user_defined)
                return static_cast<double>(static_cast<float>(key_length[id]) * max_score) - 0.1;
            return p.score;
        },
        [&](std::size_t id) -> std::uint64_t { return key_length[id]; });
    for (std::uint32_t len = 1; len <= 4; ++len)
        chars_.unknown_entry[len] = static_cast<std::uint32_t>(absent + len) << automaton_type::entry_shift;
    chars_.pad_entry = automaton_.padding() << automaton_type::entry_shift;

    unk_id_ = static_cast<id_type>(model_.unknown_id());
    byte_fallback_ = model_.trainer.byte_fallback;
    if (byte_fallback_) {
        // check() has made sure all 256 exist, spelled <0xXX>.
        for (std::size_t id = 0; id < vocab; ++id) {
            const auto& p = model_.pieces[id];
            if (p.type != piece_type::byte) continue;
            const auto hex = [](char c) { return c <= '9' ? c - '0' : c - 'A' + 10; };
            byte_ids_[static_cast<std::size_t>(hex(p.text[3]) * 16 + hex(p.text[4]))] = static_cast<std::uint32_t>(id);
        }
    }

    by_text_.resize(vocab);
    for (std::size_t id = 0; id < vocab; ++id) by_text_[id] = static_cast<id_type>(id);
    std::stable_sort(by_text_.begin(), by_text_.end(),
                     [&](id_type a, id_type b) { return model_.pieces[a].text < model_.pieces[b].text; });

    // SentencePiece refuses a model whose own samples do not encode as recorded, or at least
    // as a segmentation of the same score: it sums each side's scores in float (a piece looked
    // up as `PieceToId` does: unknown when absent) and allows 1e-7 between them.
    const auto total_score = [&](std::string_view joined) {
        float total = 0;
        std::size_t from = 0;
        for (;;) {
            const std::size_t to = std::min(joined.find(' ', from), joined.size());
            const std::string_view piece = joined.substr(from, to - from);
            const std::optional<id_type> found = piece_to_id(piece);
            const id_type id = found ? *found : unk_id_;
            const auto& entry = model_.pieces[id];
            if (id == unk_id_)
                total += unknown_score;
            else if (entry.type == piece_type::user_defined)
                total = static_cast<float>(total + (static_cast<double>(static_cast<float>(piece.size()) * max_score) - 0.1));
            else
                total += entry.score;
            if (to == joined.size()) return total;
            from = to + 1;
        }
    };
    for (std::size_t i = 0; i < model_.self_test.size(); ++i) {
        const auto& sample = model_.self_test[i];
        std::string joined;
        for (const auto& piece : tokenize(sample.input)) {
            if (!joined.empty()) joined += ' ';
            joined += piece;
        }
        if (joined != sample.expected && std::abs(total_score(joined) - total_score(sample.expected)) > 1e-7f)
            BYTEPIECE_THROW(model_error(errc::model_sentencepiece_invalid,
                                        std::string(source) + ": self-test sample " + std::to_string(i) + " (\"" +
                                            sample.input + "\") encodes as \"" + joined + "\", the model records \"" +
                                            sample.expected + "\""));
    }
}

/// The SentencePiece tokenizer with 32-bit ids.
using sentencepiece_tokenizer = basic_sentencepiece_tokenizer<>;

BYTEPIECE_NAMESPACE_END

#include "bytepiece/sentencepiece_lattice.hpp"
