// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstring>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/chunking.hpp"
#include "bytepiece/detail/piece_automaton.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/detail/viterbi.hpp"
#include "bytepiece/detail/weight_cache.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/model.hpp"
#include "bytepiece/normalizer.hpp"
#include "bytepiece/special_tokens.hpp"
#include "bytepiece/offsets.hpp"
#include "bytepiece/trie.hpp"

BYTEPIECE_NAMESPACE_BEGIN

namespace detail {
// Declared only: a test defines it to reach the start-by-start Viterbi directly, to check it
// against the automaton on inputs of its choice.
struct tokenizer_access;
template <class Score, class Id>
class nbest_search;  // lattice.hpp: walks the automaton's rows

/// Appends the ids of a chunk's path (last piece first) to `out` in text order, `id_of`
/// turning each path element into its id: one resize per chunk rather than one push_back per
/// piece. Encode's paths hold entry offsets, the sampler's id | step << 32.
template <class Id, class P, class IdOf>
void append_path_ids(std::vector<Id>& out, const P* path, std::size_t count, IdOf id_of) {
    const std::size_t old = out.size();
    out.resize(old + count);
    Id* dst = out.data() + old;
    for (std::size_t i = 0; i < count; ++i) dst[i] = static_cast<Id>(id_of(path[count - 1 - i]));
}

/// The trie of `m`'s pieces, each mapped to its id: what a tokenizer walks.
template <class Model>
double_array_trie piece_trie(const Model& m) {
    std::vector<std::pair<std::string_view, std::int32_t>> keys;
    keys.reserve(m.piece_count());
    for (std::size_t id = Model::first_piece_id; id < m.vocab_size(); ++id)
        keys.emplace_back(m.piece(static_cast<typename Model::id_type>(id)), static_cast<std::int32_t>(id));
    return double_array_trie::build(std::move(keys));
}

/// The automaton encode runs on, over `trie` (the trie of `m`'s pieces). The special ids
/// below `first_piece_id` are in no row; they get score -inf and length 1 so that every id
/// has an entry.
template <class Score, class Model>
piece_automaton<Score> piece_automaton_for(const Model& m, const double_array_trie& trie) {
    using id_type = typename Model::id_type;
    return piece_automaton<Score>(
        trie, m.vocab_size(),
        [&](std::size_t id) {
            return id >= Model::first_piece_id ? static_cast<Score>(m.score(static_cast<id_type>(id)))
                                               : -std::numeric_limits<Score>::infinity();
        },
        [&](std::size_t id) -> std::uint64_t {
            return id >= Model::first_piece_id ? m.piece(static_cast<id_type>(id)).size() : 1;
        });
}

/// Whether a piece callback also takes whole paths of entry offsets, as
/// f.append_path(path, count).
template <class F, class = void>
struct takes_paths : std::false_type {};
template <class F>
struct takes_paths<F, std::void_t<decltype(std::declval<F&>().append_path(std::declval<const std::uint32_t*>(),
                                                                          std::size_t{}))>> : std::true_type {};
}  // namespace detail

/// How `encode` and `tokenize` treat their input and output.
struct encode_options {
    /// Put `<bos>` (id 1) before the ids of the whole text.
    bool add_bos = false;
    /// Put `<eos>` (id 2) after the ids of the whole text.
    bool add_eos = false;
    /// NFC-normalize the text first, as the reference does. Turn off for raw-bytes mode, where
    /// the pieces always concatenate to exactly the input bytes.
    bool normalize = true;
};

/// A BytePiece tokenizer: a model plus the trie its segmentations walk.
///
/// `encode` normalizes the text to NFC, cuts it into chunks (see `for_each_chunk`) and finds
/// each chunk's highest-scoring segmentation with Viterbi, breaking equal scores exactly as
/// the reference does, so the ids equal the reference's. All const member functions are safe
/// to call from many threads at once: scratch space is per thread.
template <class Score = double, class Id = std::uint32_t>
class basic_tokenizer {
    friend struct detail::tokenizer_access;
    template <class, class>
    friend class basic_sampler;  // samples on the automaton
    template <class, class>
    friend class detail::nbest_search;
    template <class, class>
    friend class basic_stream_encoder;  // runs encode's Viterbi on, block by block

public:
    using model_type = basic_model<Score, Id>;
    using score_type = Score;
    using id_type = Id;

    /// Builds the tokenizer (and its trie) from a model. Throws `model_error` if the model lacks
    /// one of the 256 single-byte pieces, because then some inputs would have no segmentation.
    ///
    /// Example: `bytepiece::tokenizer tok(bytepiece::model::load(path));`
    explicit basic_tokenizer(model_type m, encode_options options = {})
        : basic_tokenizer(std::move(m), options, std::nullopt) {}

    /// Loads a model file and builds a tokenizer from it: a BytePiece JSON model, or a binary
    /// model written by `save_binary` (told apart by its first bytes), which loads several
    /// times faster because it holds the built trie. Throws `io_error` or `model_error`
    /// (naming the file and the key, id or section at fault).
    ///
    /// Example: `auto tok = bytepiece::tokenizer::load("bytepiece.eu.plus.40k.model");`
    static basic_tokenizer load(const std::string& path, encode_options options = {});

    /// Builds a tokenizer from a binary model image already in memory (what `to_binary`
    /// returns), checking its checksum and every structure it holds; `source` names it in
    /// errors. Throws `model_error`.
    ///
    /// Example: `auto tok = bytepiece::tokenizer::from_binary(bytes, "cache.bpm");`
    static basic_tokenizer from_binary(std::string_view data, std::string_view source = "<memory>",
                                       encode_options options = {});

    /// The binary model image of this tokenizer: its model (pieces and counts, so scores come
    /// out bit-identical) and its built trie, with a version and an XXH3 checksum. The layout
    /// is in detail/binary_model.hpp; it does not depend on `Score` or `Id`.
    ///
    /// Example: `std::string image = tok.to_binary();`
    std::string to_binary() const;

    /// Writes `to_binary()` to `path` (through a temporary file and a rename, like
    /// `basic_model::save`), for `load` to read back. JSON remains the interchange format:
    /// `model().save(path)` writes it. Throws `io_error`.
    ///
    /// Example: `tok.save_binary("bytepiece.eu.plus.160k.bpm");`
    void save_binary(const std::string& path) const { detail::write_file_atomic(path, to_binary()); }

    /// Encodes `text` to ids, identical to the reference's `Tokenizer.encode(text)`.
    ///
    /// Example: `std::vector<std::uint32_t> ids = tok.encode("Hello, world!\n");`
    std::vector<id_type> encode(std::string_view text) const {
        std::vector<id_type> ids;
        encode(text, ids);
        return ids;
    }

    /// Encodes `text` and appends the ids to `out`, so a caller can reuse one vector across
    /// calls and avoid allocating per text.
    void encode(std::string_view text, std::vector<id_type>& out) const { encode(text, out, options_); }

    /// Like `encode(text, out)`, with options given for this call instead of the tokenizer's.
    void encode(std::string_view text, std::vector<id_type>& out, const encode_options& options) const;

    /// Segments `text` and returns the pieces' bytes, lined up with `encode`: element i is
    /// `id_to_piece(encode(text)[i])`, so when the options add `<bos>`/`<eos>` the list starts
    /// with "<bos>" and ends with "<eos>". The other pieces concatenate to the normalized text.
    ///
    /// Example: `tok.tokenize("tokenization")` might give `{"token", "ization"}`.
    std::vector<std::string> tokenize(std::string_view text) const {
        std::vector<std::string> pieces;
        workspace& ws = local_workspace();
        const std::string_view normalized = normalized_view(text, ws.normalized);
        if (options_.add_bos) pieces.emplace_back(special_name(model_type::bos_id));
        segment(normalized, ws, [&](std::size_t start, std::size_t len, id_type) {
            pieces.emplace_back(normalized.substr(start, len));
        });
        if (options_.add_eos) pieces.emplace_back(special_name(model_type::eos_id));
        return pieces;
    }

    /// Segments one chunk of raw bytes (no normalization, no chunking) and appends its ids.
    /// This is the primitive the trainer uses to split pieces with a vocabulary.
    void encode_chunk(std::string_view bytes, std::vector<id_type>& out) const {
        workspace& ws = local_workspace();
        auto emit = [&](std::size_t, std::size_t, id_type id) { out.push_back(id); };
        segment_chunk(bytes, 0, ws, emit);
    }

    /// Segments each of `count` independent chunks of raw bytes (no normalization, no
    /// chunking) and calls `f(index, ids, size)` with chunk `index`'s ids, in index order; `ids`
    /// is valid during the call only. The ids equal `encode_chunk`'s, but short chunks are
    /// scanned several at once, so this is much faster for many of them (the trainer splits
    /// millions of candidate pieces this way). `f` may call this tokenizer's other members.
    ///
    /// Example: `tok.encode_chunks(views.data(), views.size(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) { ... });`
    template <class F>
    void encode_chunks(const std::string_view* chunks, std::size_t count, F&& f) const {
        std::vector<id_type> ids;
        std::vector<std::size_t> offsets, origin;
        std::string joined;
        std::size_t i = 0;
        while (i < count) {
            workspace& ws = local_workspace();
            ws.bounds.clear();
            joined.clear();
            origin.clear();
            // Gather a window of chunks into one buffer. Empty chunks (no ids) and chunks too
            // long for the window's 32-bit offsets are handled on their own, in order.
            while (i < count) {
                const std::string_view c = chunks[i];
                const bool alone = c.empty() || c.size() >= huge_chunk;
                if (alone || (!origin.empty() && joined.size() + c.size() > window_bytes)) {
                    if (!origin.empty()) break;
                    if (alone) {
                        ids.clear();
                        if (!c.empty()) encode_chunk(c, ids);
                        f(i, static_cast<const id_type*>(ids.data()), ids.size());
                        ++i;
                        continue;
                    }
                }
                ws.bounds.push_back(static_cast<std::uint32_t>(joined.size()));
                origin.push_back(i);
                joined.append(c);
                ++i;
            }
            if (origin.empty()) continue;
            ws.bounds.push_back(static_cast<std::uint32_t>(joined.size()));
            ids.clear();
            offsets.assign(1, 0);
            auto piece = [&](std::size_t, std::size_t, id_type id) { ids.push_back(id); };
            auto chunk_end = [&](std::size_t) { offsets.push_back(ids.size()); };
            segment_window(joined.data(), 0, ws, piece, chunk_end);
            // Called only now, so that f is free to use the tokenizer (and its scratch space).
            for (std::size_t k = 0; k < origin.size(); ++k)
                f(origin[k], static_cast<const id_type*>(ids.data() + offsets[k]), offsets[k + 1] - offsets[k]);
        }
    }

    /// Encodes each of `count` texts as `encode(texts[i], out, options)` would and calls
    /// `f(index, ids, size)` with text `index`'s ids (with `<bos>`/`<eos>` as `options` say), in
    /// index order; `ids` is valid during the call only. The chunks of many texts are scanned
    /// together, so for short texts (a sentence or a line each) this is much faster than calling
    /// `encode` per text. `f` may call this tokenizer's other members.
    ///
    /// Example: `tok.encode_texts(lines.data(), lines.size(), tok.options(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) { ... });`
    template <class F>
    void encode_texts(const std::string_view* texts, std::size_t count, const encode_options& options, F&& f) const {
        // Texts are taken in groups of about this many bytes: enough for full scan windows.
        constexpr std::size_t group_bytes = 4 * window_bytes;
        std::deque<std::string> normalized;  // copies for the group's texts that need NFC; a
                                              // deque, so chunks pointing into them stay valid
        std::vector<std::string_view> chunks;
        std::vector<std::size_t> owner;  // text of each chunk
        std::vector<id_type> ids;        // the current text's ids so far
        std::size_t t = 0;
        while (t < count) {
            normalized.clear();
            chunks.clear();
            owner.clear();
            const std::size_t first = t;
            std::size_t last = t;
            for (std::size_t b = 0; last < count && (last == t || b < group_bytes); ++last) b += texts[last].size();
            for (; t < last; ++t) {
                std::string_view text = texts[t];
                if (options.normalize && !is_nfc_quick(text)) {
                    normalized.emplace_back();
                    nfc_append(text, normalized.back());
                    text = normalized.back();
                }
                for_each_chunk(text, [&](std::string_view c) {
                    chunks.push_back(c);
                    owner.push_back(t);
                });
            }
            // Emits texts up to `upto` (exclusive) that have no chunks, then text `upto`'s ids.
            std::size_t next = first;
            auto emit_through = [&](std::size_t upto) {
                for (; next < upto; ++next) {
                    ids.clear();
                    if (options.add_bos) ids.push_back(model_type::bos_id);
                    if (options.add_eos) ids.push_back(model_type::eos_id);
                    f(next, static_cast<const id_type*>(ids.data()), ids.size());
                }
            };
            ids.clear();
            encode_chunks(chunks.data(), chunks.size(), [&](std::size_t k, const id_type* chunk_ids, std::size_t n) {
                const std::size_t text = owner[k];
                if (k == 0 || owner[k - 1] != text) {
                    emit_through(text);
                    ids.clear();
                    if (options.add_bos) ids.push_back(model_type::bos_id);
                }
                ids.insert(ids.end(), chunk_ids, chunk_ids + n);
                if (k + 1 == chunks.size() || owner[k + 1] != text) {
                    if (options.add_eos) ids.push_back(model_type::eos_id);
                    f(text, static_cast<const id_type*>(ids.data()), ids.size());
                    next = text + 1;
                }
            });
            emit_through(last);
        }
    }

    /// Turns ids back into text: ids 0..2 are skipped, the pieces' bytes are concatenated and
    /// any bytes that do not form valid UTF-8 are dropped (like Python's `errors='ignore'`).
    /// An id outside [0, vocab_size()) throws `decode_error` naming it and its position.
    ///
    /// Example: `tok.decode(tok.encode(text)) == bytepiece::nfc(text)` for valid UTF-8 text.
    std::string decode(const id_type* ids, std::size_t count) const {
        std::string bytes = decode_bytes(ids, count);
        std::string text;
        text.reserve(bytes.size());
        detail::utf8::append_valid(bytes, text);
        return text;
    }

    /// `decode` for a vector of ids.
    std::string decode(const std::vector<id_type>& ids) const { return decode(ids.data(), ids.size()); }

    /// Concatenates the pieces' bytes without dropping invalid UTF-8 (ids 0..2 skipped): the
    /// exact inverse of raw-bytes encoding. Throws `decode_error` on an out-of-range id.
    ///
    /// Example: `std::string bytes = tok.decode_bytes(ids.data(), ids.size());`
    std::string decode_bytes(const id_type* ids, std::size_t count) const {
        std::string bytes;
        bytes.reserve(count * 4);
        for (std::size_t i = 0; i < count; ++i) {
            check_id(ids[i], i);
            bytes += model_.piece(ids[i]);
        }
        return bytes;
    }

    /// `decode_bytes` for a vector of ids.
    ///
    /// Example: `tok.decode_bytes(raw_tok.encode(bytes)) == bytes` in raw-bytes mode.
    std::string decode_bytes(const std::vector<id_type>& ids) const { return decode_bytes(ids.data(), ids.size()); }

    /// The id of the piece with exactly these bytes; for the names "<pad>", "<bos>" and
    /// "<eos>" (what `id_to_piece` gives for ids 0, 1, 2) those ids, as BytePiece's
    /// `piece_to_id` does; `std::nullopt` for anything else. A model piece spelled like one of
    /// the names keeps its own id. To ask only whether some bytes are a model piece, use
    /// `trie().find(bytes)`.
    ///
    /// Example: `tok.piece_to_id("<bos>") == 1u`, `tok.piece_to_id(tok.id_to_piece(id)) == id`.
    std::optional<id_type> piece_to_id(std::string_view piece) const noexcept {
        const std::int32_t v = trie_.find(piece);
        if (v >= 0) return static_cast<id_type>(v);
        for (id_type id = 0; id < model_type::first_piece_id; ++id)
            if (piece == special_name(id)) return id;
        return std::nullopt;
    }

    /// The bytes of piece `id`; for ids 0, 1, 2 the names `<pad>`, `<bos>`, `<eos>`. Throws
    /// `decode_error` for an id outside [0, vocab_size()).
    ///
    /// Example: `tok.id_to_piece(1) == "<bos>"`.
    std::string_view id_to_piece(id_type id) const {
        check_id(id, 0);
        return id < model_type::first_piece_id ? special_name(id) : model_.piece(id);
    }

    /// Number of ids, `<pad>`, `<bos>` and `<eos>` included.
    std::size_t vocab_size() const noexcept { return model_.vocab_size(); }

    /// The model this tokenizer was built from.
    const model_type& model() const noexcept { return model_; }

    /// The trie over the model's pieces (values are ids), for lattice-level algorithms.
    const double_array_trie& trie() const noexcept { return trie_; }

    /// The options `encode(text)` and `tokenize(text)` use.
    const encode_options& options() const noexcept { return options_; }

    /// Normalizes `text` as `encode` would (NFC unless raw mode) and returns a view of the
    /// result: `text` itself when it is already NFC, otherwise `storage`.
    std::string_view normalized_view(std::string_view text, std::string& storage) const {
        return normalize_into(text, options_.normalize, storage);
    }

    // --- special tokens (special_tokens.hpp) ---

    /// The special tokens this tokenizer carries, stored in its binary image (`to_binary`,
    /// `save_binary`, `load`). `encode` never matches them: pass them to
    /// `encode_with_specials` with the tokens a call allows.
    ///
    /// Example: `auto ids = bytepiece::encode_with_specials(tok, text, tok.specials(), bytepiece::allowed_special::all());`
    const special_tokens& specials() const noexcept { return specials_; }

    /// Replaces the special tokens this tokenizer carries.
    ///
    /// Example: `bytepiece::special_tokens sp; sp.append({"<|endoftext|>"}, tok.vocab_size()); tok.set_specials(sp);`
    void set_specials(special_tokens specials) { specials_ = std::move(specials); }

    // --- BEGIN sampling and lattice members (owned by sampler.hpp / lattice.hpp) ---
    // These members delegate to sampler.hpp and lattice.hpp (included at the end of this
    // file) through argument-dependent calls, so this header needs no declarations of theirs.
private:
    template <class G>
    using if_generator_ = std::enable_if_t<std::is_unsigned_v<std::decay_t<decltype(std::declval<G&>()())>> &&
                                               (G::min() < G::max()),
                                           int>;

public:
    /// A sampler bound to this tokenizer and `alpha` (a `basic_sampler`). A negative alpha
    /// means deterministic encoding, as in BytePiece. Throws `argument_error` if alpha is NaN,
    /// +infinity or above 1e6.
    ///
    /// Example: `auto s = tok.sampler(0.1); auto ids = s.sample(text, g);`
    auto sampler(double alpha) const { return make_sampler(*this, alpha); }

    /// Draws a segmentation of `text` with probability proportional to exp(alpha * total
    /// score), each chunk independently, and returns its ids (with `<bos>`/`<eos>` as the
    /// options say). `g` is any UniformRandomBitGenerator; one `uniform_double(g)` is drawn per
    /// piece. The same ids as `sampler(alpha).sample(text, g)`, at about the same cost: the
    /// per-piece weights of the last four alphas are kept in the tokenizer. A negative alpha
    /// means deterministic encoding (`encode(text)`, nothing drawn), as in BytePiece. Throws
    /// `argument_error` if alpha is NaN, +infinity or above 1e6.
    ///
    /// Example: `bytepiece::splitmix64 g(42); auto ids = tok.sample("Hello", 0.1, g);`
    template <class URBG, if_generator_<URBG> = 0>
    std::vector<id_type> sample(std::string_view text, double alpha, URBG& g) const {
        return make_sampler(*this, alpha).sample(text, g);
    }

    /// `sample` with a fresh `splitmix64(seed)`: the same seed gives the same ids everywhere.
    ///
    /// Example: `auto ids = tok.sample("Hello", 0.1, 42);`
    std::vector<id_type> sample(std::string_view text, double alpha, std::uint64_t seed) const {
        return make_sampler(*this, alpha).sample(text, seed);
    }

    /// Like `sample`, but returns the pieces' bytes (the stochastic twin of `tokenize`).
    ///
    /// Example: `auto pieces = tok.sample_pieces("tokenization", 0.5, g);`
    template <class URBG, if_generator_<URBG> = 0>
    std::vector<std::string> sample_pieces(std::string_view text, double alpha, URBG& g) const {
        return make_sampler(*this, alpha).sample_pieces(text, g);
    }

    /// `sample_pieces` with a fresh `splitmix64(seed)`.
    ///
    /// Example: `auto pieces = tok.sample_pieces("tokenization", 0.5, 42);`
    std::vector<std::string> sample_pieces(std::string_view text, double alpha, std::uint64_t seed) const {
        return make_sampler(*this, alpha).sample_pieces(text, seed);
    }

    /// The segmentation lattice of `text` under `alpha` (a `basic_lattice`), filtered once so
    /// that several analytics on the same text share the work. Throws `argument_error` if
    /// alpha is negative (deterministic encoding has no distribution to analyse), NaN,
    /// +infinity or above 1e6; so do the analytics below that take an alpha.
    ///
    /// Example: `auto lat = tok.lattice(text, 1.0); double h = lat.entropy();`
    auto lattice(std::string_view text, double alpha) const { return make_lattice(make_sampler(*this, alpha), text); }

    /// The `k` highest-scoring segmentations of the whole `text` (a vector of
    /// `scored_segmentation`), best first, exactly; the first equals `encode`'s. Over several
    /// chunks these are the k best combinations. Fewer when the text has fewer; throws
    /// `argument_error` if k is 0.
    ///
    /// Example: `for (auto& s : tok.nbest("banana", 5)) std::cout << s.score << "\n";`
    auto nbest(std::string_view text, std::size_t k) const { return nbest_segmentations(*this, text, k); }

    /// `nbest`, but hands each segmentation to `f(scored_segmentation<id_type>& s)` in turn,
    /// best first, instead of collecting them, and returns how many there were: memory stays
    /// within a few MB for any text plus about 150 bytes per segmentation asked for (see
    /// `for_each_nbest`).
    ///
    /// Example: `tok.nbest(line, 1000, [&](auto& s) { print(s.score, s.ids); });`
    template <class F>
    std::size_t nbest(std::string_view text, std::size_t k, F&& f) const {
        return for_each_nbest(*this, text, k, std::forward<F>(f));
    }

    /// log of the partition function, log of the sum over all segmentations S of `text` of
    /// exp(alpha * score(S)); a sum over chunks. At alpha = 0 it is log(number of segmentations).
    ///
    /// Example: `double log_z = tok.log_partition("banana", 0.5);`
    double log_partition(std::string_view text, double alpha) const {
        return make_lattice(make_sampler(*this, alpha), text).log_partition();
    }

    /// Entropy in nats of the segmentation distribution of `text` under `alpha` (a sum over
    /// chunks).
    ///
    /// Example: `double h = tok.entropy("banana", 0.0);  // log(#segmentations)`
    double entropy(std::string_view text, double alpha) const {
        return make_lattice(make_sampler(*this, alpha), text).entropy();
    }

    /// Expected number of occurrences of every piece, indexed by id, when a segmentation of
    /// `text` is drawn with `alpha`: the E-step of EM training.
    ///
    /// Example: `std::vector<double> counts = tok.expected_counts(text, 1.0);`
    std::vector<double> expected_counts(std::string_view text, double alpha) const {
        return make_lattice(make_sampler(*this, alpha), text).expected_counts();
    }

    /// The total score (sum of `model().score(id)`) of a segmentation given as ids; ids 0..2
    /// count 0. Throws `decode_error` for an id outside the vocabulary.
    ///
    /// Example: `double s = tok.score(tok.encode("banana"));`
    double score(const id_type* ids, std::size_t count) const {
        double total = 0.0;
        for (std::size_t i = 0; i < count; ++i) {
            check_id(ids[i], i);
            if (ids[i] >= model_type::first_piece_id) total += static_cast<double>(model_.score(ids[i]));
        }
        return total;
    }

    /// `score` for a vector of ids.
    ///
    /// Example: `double s = tok.score(ids);`
    double score(const std::vector<id_type>& ids) const { return score(ids.data(), ids.size()); }

    /// log of the probability that sampling `text` with `alpha` yields exactly the pieces
    /// `ids` (ids 0..2 are ignored): alpha * score - log_partition, or -infinity if the ids do
    /// not spell the normalized text chunk by chunk.
    ///
    /// Example: `double lp = tok.log_probability("banana", tok.encode("banana"), 1.0);`
    double log_probability(std::string_view text, const std::vector<id_type>& ids, double alpha) const {
        return make_lattice(make_sampler(*this, alpha), text).log_probability(ids);
    }

    /// `k` distinct segmentations of `text` drawn without replacement with `alpha` (Gumbel-top-k
    /// over the lattice), most likely key first, each with its log-probability and inclusion
    /// probability; see `basic_lattice::sample_without_replacement`.
    ///
    /// Example: `auto draws = tok.sample_without_replacement("banana", 3, 0.5, g);`
    template <class URBG, if_generator_<URBG> = 0>
    auto sample_without_replacement(std::string_view text, std::size_t k, double alpha, URBG& g) const {
        return make_lattice(make_sampler(*this, alpha), text).sample_without_replacement(k, g);
    }
    // --- END sampling and lattice members ---

    // --- BEGIN offsets members (offsets.hpp) ---
    /// Encodes `text` as `encode(text, ids, options)` does, appending the ids to `ids` and, for
    /// each, the byte range it covers in `text` itself (before normalization) to `offsets`.
    /// Pieces inside a stretch NFC rewrote get the whole stretch; in raw mode the ranges
    /// partition `text` exactly; `<bos>` gets {0, 0} and `<eos>` {size, size}. See offsets.hpp.
    ///
    /// Example: `tok.encode_with_offsets("Cafe\xCC\x81", ids, offsets, tok.options());`
    void encode_with_offsets(std::string_view text, std::vector<id_type>& ids, std::vector<byte_range>& offsets,
                             const encode_options& options) const;

    /// `encode_with_offsets` with the tokenizer's options, returning ids and offsets together.
    ///
    /// Example: `auto e = tok.encode_with_offsets("Hello"); // e.ids, e.offsets`
    basic_encoding<id_type> encode_with_offsets(std::string_view text) const {
        basic_encoding<id_type> e;
        encode_with_offsets(text, e.ids, e.offsets, options_);
        return e;
    }
    // --- END offsets members ---

private:
    // The back-pointer of an end position, packed as (trie node << 32) | length so that
    // choosing between two of them is one integer select; the node becomes an id only on
    // the final path. Length 0 marks "not reached".
    using back_pointer = std::uint64_t;
    static constexpr back_pointer make_back(std::size_t length, std::uint32_t node) noexcept {
        return (static_cast<std::uint64_t>(node) << 32) | static_cast<std::uint32_t>(length);
    }
    static constexpr std::size_t back_length(back_pointer b) noexcept { return static_cast<std::uint32_t>(b); }
    id_type back_id(back_pointer b) const noexcept {
        return static_cast<id_type>(trie_.value_at(static_cast<std::uint32_t>(b >> 32)));
    }

    // The ids-only piece callback: whole paths from the automaton in one go.
    struct id_appender {
        std::vector<id_type>& out;
        void operator()(std::size_t, std::size_t, id_type id) const { out.push_back(id); }
        void append_path(const std::uint32_t* path, std::size_t count) const {
            detail::append_path_ids(out, path, count, [](std::uint32_t offset) {
                return detail::piece_automaton<score_type>::id_of(offset);
            });
        }
    };

    struct workspace {
        std::string normalized;
        std::vector<score_type> best;
        std::vector<back_pointer> back;
        std::vector<std::pair<std::size_t, back_pointer>> path;  // (start, back-pointer)
        // The automaton path (see `segment`).
        std::vector<std::uint32_t> bounds;   // chunk starts in the window, then its end
        std::vector<std::uint32_t> states;   // automaton state after each byte of the window
        std::vector<std::uint32_t> winners;  // best last piece ending at each byte of the window (entry offset)
        std::vector<std::uint32_t> paths;    // each chunk's winners path, last piece first, from its start
    };

    // One scratch area per thread: no allocation per call once it has grown to the longest
    // chunk seen, and no sharing between threads.
    static workspace& local_workspace() {
        static thread_local workspace ws;
        return ws;
    }

    // Normalizes into `storage` only when needed: already-NFC text (most text) is used as is.
    static std::string_view normalize_into(std::string_view text, bool normalize, std::string& storage) {
        if (!normalize || is_nfc_quick(text)) return text;
        storage.clear();
        nfc_append(text, storage);
        return storage;
    }

    // The names of ids 0, 1, 2, as BytePiece spells them.
    static std::string_view special_name(id_type id) noexcept {
        switch (id) {
            case model_type::pad_id: return "<pad>";
            case model_type::bos_id: return "<bos>";
            default: return "<eos>";
        }
    }

    void check_id(id_type id, std::size_t position) const {
        if (id >= model_.vocab_size())
            BYTEPIECE_THROW(decode_error(errc::decode_bad_id,
                                         "id " + std::to_string(id) + " at position " + std::to_string(position) +
                                             " is outside the vocabulary [0, " + std::to_string(model_.vocab_size()) + ")"));
    }

    // Viterbi over byte positions, start by start: the path for windows of a few words (see
    // segment_window) and for chunks too long for the automaton's 32-bit offsets (2 GiB and
    // more). Edges are relaxed start by start, so the
    // edges into an end position arrive longest piece first; replacing only on a strictly
    // greater score then keeps, among equal scores, the segmentation whose last piece is
    // longest, which is the reference's tie rule. Sums are formed as best[start] + score, in
    // the reference's order.
    std::size_t viterbi(std::string_view chunk, workspace& ws) const {
        const std::size_t n = chunk.size();
        // Sized one by one: `best` is shared with the automaton path, `back` is not.
        if (ws.best.size() < n + 1) ws.best.resize(n + 1);
        if (ws.back.size() < n + 1) ws.back.resize(n + 1);
        score_type* best = ws.best.data();
        back_pointer* back = ws.back.data();
        const score_type neg_inf = -std::numeric_limits<score_type>::infinity();
        best[0] = 0;
        for (std::size_t i = 1; i <= n; ++i) best[i] = neg_inf;
        const auto* bytes = reinterpret_cast<const unsigned char*>(chunk.data());
        // Scores by id; the padding entry scores -inf and stands for "no piece ends here".
        const auto* info = automaton_.info();
        const std::uint32_t pad = automaton_.padding();
        for (std::size_t s = 0; s < n; ++s) {
            const score_type base = best[s];
            std::uint32_t node = double_array_trie::root_node();
            // The trie's units hold base, parent and value together: one load per step.
            for (std::size_t k = s; k < n; ++k) {
                const std::uint32_t next = trie_.base_at(node) + bytes[k];
                if (trie_.check_at(next) != node) break;
                node = next;
                const std::int32_t v = trie_.value_at(node);
                // Branch-free on purpose: which candidate wins is data-dependent and would
                // mispredict often. std::max keeps the old value on ties (strictly greater
                // wins, the reference's rule) and the mask picks the matching back-pointer.
                const score_type old = best[k + 1];
                const score_type candidate = base + info[v >= 0 ? static_cast<std::uint32_t>(v) : pad].score;
                const std::uint64_t mask = std::uint64_t{0} - static_cast<std::uint64_t>(candidate > old);
                back[k + 1] = (make_back(k + 1 - s, node) & mask) | (back[k + 1] & ~mask);
                best[k + 1] = std::max(old, candidate);
            }
        }
        return n;
    }

    // Bytes of text per automaton pass: enough chunks for the scan's lanes to stay busy, few
    // enough that the states stay in cache for the Viterbi pass that follows.
    static constexpr std::size_t window_bytes = std::size_t{1} << 16;
    static constexpr std::uint32_t prefetch_distance = detail::viterbi_prefetch_distance;
    // Windows with fewer chunks than this, and at most walk_max_bytes long, use the
    // start-by-start walk (see segment_window): for a few words the scan's setup costs more
    // than the walk. Longer, a scan split over its lanes (see piece_automaton::scan) is
    // faster: a line encoded by itself gained 9-34% over the walk (A/B on lines of mixed.txt,
    // en.txt, zh.txt), 24-65% on 48-128-byte texts. The byte bound also keeps encoding O(n):
    // a walk costs up to the longest matching piece per position, the automaton does not.
    static constexpr std::size_t walk_below_chunks = 4;
    static constexpr std::size_t walk_max_bytes = 24;
    // Chunks whose paths are walked back together (see segment_window).
    static constexpr std::size_t backtrack_lanes = 4;
    // Chunks this long or longer do not fit the automaton path's 32-bit offsets.
    static constexpr std::size_t huge_chunk = std::size_t{1} << 31;

    // One chunk on its own, reported with starts offset by `start`.
    template <class F>
    void segment_chunk(std::string_view chunk, std::size_t start, workspace& ws, F& f) const {
        if (chunk.empty()) return;
        if (chunk.size() >= huge_chunk) {
            const std::size_t n = viterbi(chunk, ws);
            append_path(n, ws, [&](std::size_t s, std::size_t len, id_type id) { f(start + s, len, id); });
            return;
        }
        ws.bounds.assign({0u, static_cast<std::uint32_t>(chunk.size())});
        segment_window(chunk.data(), start, ws, f);
    }

    // Finds the best segmentation of every chunk of `text` and reports its pieces in text
    // order as f(start, length, id), start counted from the beginning of `text`. Chunks are
    // gathered into windows; each window is scanned by the automaton (several chunks at
    // once), then each chunk gets its Viterbi pass. A window of a few words, or a chunk too
    // long for 32-bit offsets, takes the start-by-start path instead.
    template <class F>
    void segment(std::string_view text, workspace& ws, F&& f) const {
        detail::for_each_window(
            text, ws.bounds, window_bytes, huge_chunk,
            [&](const char* window, std::size_t offset, const std::vector<std::uint32_t>&) {
                segment_window(window, offset, ws, f);
            },
            [&](std::string_view chunk, std::size_t offset) { segment_chunk(chunk, offset, ws, f); });
    }

    // One window of text at `data`: ws.bounds holds its chunk starts and, last, its size.
    // Pieces are reported with starts offset by `window_start`, and chunk_end(c) after the
    // pieces of the window's chunk c.
    template <class F, class G = void (*)(std::size_t)>
    void segment_window(const char* data, std::size_t window_start, workspace& ws, F& f,
                        G&& chunk_end = [](std::size_t) {}) const {
        const std::size_t chunks = ws.bounds.size() - 1;
        const std::size_t size = ws.bounds.back();
        if (chunks < walk_below_chunks && size <= walk_max_bytes) {
            // A few words: start-by-start walks beat the scan's setup.
            for (std::size_t c = 0; c < chunks; ++c) {
                const std::uint32_t begin = ws.bounds[c], end = ws.bounds[c + 1];
                const std::size_t n = viterbi(std::string_view(data + begin, end - begin), ws);
                append_path(n, ws, [&](std::size_t s, std::size_t len, id_type id) { f(window_start + begin + s, len, id); });
                chunk_end(c);
            }
            return;
        }
        // Padding at the end: the Viterbi pass prefetches rows a few states ahead.
        if (ws.states.size() < size + prefetch_distance) ws.states.resize(size + prefetch_distance);
        std::fill(ws.states.begin() + static_cast<std::ptrdiff_t>(size),
                  ws.states.begin() + static_cast<std::ptrdiff_t>(size + prefetch_distance), 0u);
        const auto* bytes = reinterpret_cast<const unsigned char*>(data);
        automaton_.scan(bytes, ws.bounds.data(), chunks, ws.states.data());
        if (ws.winners.size() < std::size_t{size} + 1) ws.winners.resize(std::size_t{size} + 1);
        if (ws.paths.size() < size) ws.paths.resize(size);
        using automaton = detail::piece_automaton<score_type>;
        const auto* info = automaton_.info();
        const std::uint32_t* bounds = ws.bounds.data();
        std::uint32_t* winners = ws.winners.data();
        std::uint32_t* paths = ws.paths.data();
        for (std::size_t first = 0; first < chunks; first += backtrack_lanes) {
            const std::size_t last = std::min(chunks, first + backtrack_lanes);
            for (std::size_t c = first; c < last; ++c)
                best_last_pieces(ws.states.data() + bounds[c], bounds[c + 1] - bounds[c], ws, winners + bounds[c]);
            // Back from the end of each chunk to its start. A step is two dependent loads
            // (the winner, then its length), so the chunks of a group walk back together,
            // their chains overlapping. Chunk c's path (last piece first) goes to
            // paths[bounds[c], ...): it has at most as many pieces as bytes.
            std::uint32_t at[backtrack_lanes], stop[backtrack_lanes], out[backtrack_lanes];
            std::size_t lane_chunk[backtrack_lanes];
            std::size_t count[backtrack_lanes];
            std::size_t live = 0;
            for (std::size_t c = first; c < last; ++c, ++live) {
                at[live] = bounds[c + 1];
                stop[live] = out[live] = bounds[c];
                lane_chunk[live] = c - first;
            }
            while (live > 0) {
                for (std::size_t l = 0; l < live; ++l) {
                    const std::uint32_t w = winners[at[l]];
                    paths[out[l]++] = w;
                    at[l] -= static_cast<std::uint32_t>(automaton::entry(info, w).length());
                }
                for (std::size_t l = 0; l < live;) {
                    if (at[l] != stop[l]) {
                        ++l;
                        continue;
                    }
                    count[lane_chunk[l]] = out[l] - stop[l];
                    --live;
                    at[l] = at[live];
                    stop[l] = stop[live];
                    out[l] = out[live];
                    lane_chunk[l] = lane_chunk[live];
                }
            }
            for (std::size_t c = first; c < last; ++c) {
                const std::uint32_t* path = paths + bounds[c];
                const std::size_t pieces = count[c - first];
                if constexpr (detail::takes_paths<F>::value) {
                    f.append_path(path, pieces);
                } else {
                    std::size_t pos = window_start + bounds[c];
                    for (std::size_t i = pieces; i-- > 0;) {
                        const std::size_t len = automaton::entry(info, path[i]).length();
                        f(pos, len, static_cast<id_type>(automaton::id_of(path[i])));
                        pos += len;
                    }
                }
                chunk_end(c);
            }
        }
    }

    // best, at = c, p if c > best (strictly: the earlier candidate keeps a tie), branch-free.
    template <class P>
    static void take_if_greater(score_type& best, P*& at, score_type c, P* p) noexcept {
        detail::exact_records<score_type>::take(best, at, c, p);
    }

    // Viterbi in pull form over one chunk of n bytes whose automaton states are `states`
    // (detail/viterbi.hpp, the pass every format shares): winners[e] is the entry offset of
    // the last piece of the best segmentation of the chunk's first e bytes, the longest among
    // equal scores, which is the reference's tie rule.
    void best_last_pieces(const std::uint32_t* states, std::uint32_t n, workspace& ws, std::uint32_t* winners) const {
        if (ws.best.size() < std::size_t{n} + 1) ws.best.resize(std::size_t{n} + 1);
        ws.best[0] = 0;
        detail::best_last_pieces<detail::exact_records<score_type>>(automaton_, states, n, ws.best.data(), winners);
    }

    // Walks the back-pointers from the end and reports the pieces in text order as
    // f(start, length, id).
    template <class F>
    void append_path(std::size_t n, workspace& ws, F&& f) const {
        ws.path.clear();
        for (std::size_t e = n; e > 0;) {
            const back_pointer bp = ws.back[e];
            e -= back_length(bp);
            ws.path.emplace_back(e, bp);
        }
        for (std::size_t i = ws.path.size(); i-- > 0;)
            f(ws.path[i].first, back_length(ws.path[i].second), back_id(ws.path[i].second));
    }

    // Builds the trie from the model's pieces, or takes `trie` (already checked to hold
    // exactly those pieces) from a binary model, then the automaton encode runs on.
    basic_tokenizer(model_type m, encode_options options, std::optional<double_array_trie> trie);

    model_type model_;
    double_array_trie trie_;
    detail::piece_automaton<score_type> automaton_;  // what encode runs on
    encode_options options_;
    detail::weight_cache weight_cache_;  // the sampling weights of recent alphas (sampler.hpp)
    special_tokens specials_;            // carried for the caller and the binary image; encode ignores them
};

// Loading and encoding are defined out of the class, so that they are not inline: with
// BYTEPIECE_COMPILED, the extern template at the end of this file then keeps every translation
// unit from compiling them (and the trie, automaton and Viterbi code they reach) again;
// src/bytepiece.cpp compiles them once.

template <class Score, class Id>
basic_tokenizer<Score, Id> basic_tokenizer<Score, Id>::load(const std::string& path, encode_options options) {
    special_tokens specials;
    auto [m, trie] = detail::binary_model_access::load_file<model_type>(path, specials);
    basic_tokenizer tok(std::move(m), options, std::move(trie));
    tok.specials_ = std::move(specials);
    return tok;
}

template <class Score, class Id>
basic_tokenizer<Score, Id> basic_tokenizer<Score, Id>::from_binary(std::string_view data, std::string_view source,
                                                                   encode_options options) {
    special_tokens specials;
    auto [m, trie] = detail::binary_model_access::read<model_type>(data, std::string(source), specials);
    basic_tokenizer tok(std::move(m), options, std::move(trie));
    tok.specials_ = std::move(specials);
    return tok;
}

template <class Score, class Id>
std::string basic_tokenizer<Score, Id>::to_binary() const {
    return detail::binary_model_access::write(model_, trie_, specials_);
}

template <class Score, class Id>
void basic_tokenizer<Score, Id>::encode(std::string_view text, std::vector<id_type>& out,
                                        const encode_options& options) const {
    workspace& ws = local_workspace();
    if (options.add_bos) out.push_back(model_type::bos_id);
    segment(normalize_into(text, options.normalize, ws.normalized), ws, id_appender{out});
    if (options.add_eos) out.push_back(model_type::eos_id);
}

template <class Score, class Id>
void basic_tokenizer<Score, Id>::encode_with_offsets(std::string_view text, std::vector<id_type>& ids,
                                                     std::vector<byte_range>& offsets,
                                                     const encode_options& options) const {
    workspace& ws = local_workspace();
    if (options.add_bos) {
        ids.push_back(model_type::bos_id);
        offsets.push_back({0, 0});
    }
    if (!options.normalize || is_nfc_quick(text)) {
        // The normalized text is the text: offsets are the pieces' own positions.
        segment(text, ws, [&](std::size_t start, std::size_t len, id_type id) {
            ids.push_back(id);
            offsets.push_back({start, start + len});
        });
    } else {
        static thread_local alignment align;
        align.clear();
        ws.normalized.clear();
        nfc_append(text, ws.normalized, align);
        alignment::mapper map(align);
        segment(std::string_view(ws.normalized), ws, [&](std::size_t start, std::size_t len, id_type id) {
            ids.push_back(id);
            offsets.push_back(map(start, start + len));
        });
    }
    if (options.add_eos) {
        ids.push_back(model_type::eos_id);
        offsets.push_back({text.size(), text.size()});
    }
}

template <class Score, class Id>
basic_tokenizer<Score, Id>::basic_tokenizer(model_type m, encode_options options, std::optional<double_array_trie> trie)
    : model_(std::move(m)), options_(options) {
    trie_ = trie ? std::move(*trie) : detail::piece_trie(model_);
    for (int b = 0; b < 256; ++b) {
        const char byte = static_cast<char>(b);
        if (trie_.find(std::string_view(&byte, 1)) < 0)
            BYTEPIECE_THROW(model_error(errc::model_missing_byte,
                                        "tokenizer: the model lacks the single-byte piece " + std::to_string(b) +
                                            ", so some inputs could not be encoded"));
    }
    automaton_ = detail::piece_automaton_for<score_type>(model_, trie_);
}

/// The tokenizer with double scores and 32-bit ids: bit-exact with the reference.
using tokenizer = basic_tokenizer<>;

BYTEPIECE_NAMESPACE_END

// The sampling and lattice members above are defined in these headers.
#include "bytepiece/sampler.hpp"
#include "bytepiece/lattice.hpp"

#ifdef BYTEPIECE_COMPILED
BYTEPIECE_NAMESPACE_BEGIN
// Compiled once in src/bytepiece.cpp (see there).
extern template class basic_tokenizer<double, std::uint32_t>;
BYTEPIECE_NAMESPACE_END
#endif
