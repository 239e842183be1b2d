// SPDX-License-Identifier: Apache-2.0
//
// The BytePiece trainer: learns a byte-level unigram vocabulary from a corpus, producing the
// same pieces and counts as the reference `bytepiece.Trainer` (spec §5).
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/detail/count_table.hpp"
#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/train_chunker.hpp"
#include "bytepiece/detail/train_input.hpp"
#include "bytepiece/detail/train_ngram.hpp"
#include "bytepiece/detail/train_pipeline.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/model.hpp"
#include "bytepiece/tokenizer.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// The stages of training, in the order they run.
enum class train_phase {
    count_ngrams,  ///< pass 1 over the corpus: n-gram counts (`done`/`total` in input bytes)
    prune_ngrams,  ///< n-gram counts become conditional log-probabilities
    count_pieces,  ///< pass 2 over the corpus: segmentation and piece counts (input bytes)
    prune_pieces,  ///< splitting pieces with smaller vocabularies (`done`/`total` in pieces)
};

/// A progress report. For the pruning phase, `round` numbers the splitting rounds (from 1) and
/// `step` says which step of spec §5 it belongs to.
struct train_progress {
    train_phase phase = train_phase::count_ngrams;
    std::uint64_t done = 0;   ///< units done in this phase or round; equals `total` exactly once, at its end
    std::uint64_t total = 0;  ///< units in all, 0 if unknown (a range of texts in pass 1) until its end
    unsigned round = 0;       ///< pruning round, 0 outside `prune_pieces`
    std::string_view step;    ///< what the round does, empty outside `prune_pieces`
};

/// Trainer settings; the defaults are the reference's.
struct trainer_options {
    /// Longest n-gram of the language model used to propose pieces (1 to 32).
    std::size_t order = 6;
    /// Vocabulary sizes to produce, ids 0..2 included (each at least 259, no repeats). One
    /// training run gives a model per size; larger sizes are cut down to the smaller ones.
    std::vector<std::size_t> max_vocab_size{10000};
    /// Longest piece in bytes (at least 1); longer candidates are split.
    std::size_t max_piece_length = 36;
    /// Least count of a kept n-gram (length >= 2) and of a kept multi-byte piece.
    std::uint64_t min_count = 2;
    /// Cut every decimal digit (Unicode Nd) into a chunk of its own, so no piece holds one
    /// with other characters.
    bool isolate_digits = false;
    /// Never let the n-gram segmentation start a piece at a UTF-8 continuation byte, so the
    /// pieces it proposes are whole characters.
    bool ensure_unicode = true;
    /// Worker threads (0: one per hardware thread). The result does not depend on it.
    unsigned threads = 1;
    /// Called on the calling thread as training advances; may be empty.
    std::function<void(const train_progress&)> progress;
};

/// Why a trained model has fewer ids than the size asked for.
enum class shortfall {
    none,              ///< it has them all
    few_pieces,        ///< the corpus gave fewer usable pieces than that (see `min_count`, `max_piece_length`)
    unused_after_cut,  ///< the cut to a size left pieces no segmentation used any more, and the
                       ///< reference's pruning removes those (a few ids short; normal)
};

/// What came out for one requested vocabulary size.
struct vocab_outcome {
    std::size_t requested = 0;  ///< the size asked for, ids 0..2 included
    std::size_t produced = 0;   ///< the model's `vocab_size()`, never more than `requested`
    shortfall reason = shortfall::none;
    std::string explanation;    ///< why fewer, one sentence with the numbers; empty if none
};

/// Learns BytePiece vocabularies from a corpus, exactly as the reference `Trainer` does: two
/// passes over the text (n-gram counts, then segmentation with the n-gram model), then pruning
/// of the pieces to each requested size. The corpus is streamed, never held in memory whole;
/// memory grows with the number of distinct n-grams and pieces, not with the corpus.
///
/// Each text is cut like the reference's `normalize(text, 10000, isolate_digits)`: NFC, then
/// chunks of at most 10,000 characters and 100 newlines (`detail::text_chunker`). Texts are
/// expected to be UTF-8 (the reference takes Python strings); bytes that are not well-formed
/// UTF-8 are kept as they are and count as one character each. Digits are Unicode 14's Nd, as
/// in the reference's Python 3.11.
///
/// Threads: pass 1 shards the n-gram tables by their first two bytes (each thread scans every
/// batch and counts its own keys, so memory is not multiplied by the thread count), pass 2 and
/// the splitting of pieces share the work out and add up 64-bit integer counts. The result is
/// the same for every thread count.
///
/// Example:
/// ```
/// bytepiece::trainer_options o;
/// o.max_vocab_size = {40000};
/// o.threads = 4;
/// bytepiece::trainer t(o);
/// t.check_output("my.model");                // a bad output name fails now, not after training
/// t.train_files({"corpus.txt"});             // or "-" for standard input
/// t.save("my.model");                        // reference file format
/// if (t.outcomes().front().reason != bytepiece::shortfall::none)
///     std::cerr << t.outcomes().front().explanation << "\n";
/// bytepiece::tokenizer tok(t.models().front());
/// ```
class trainer {
public:
    /// Validates the options; throws `train_error` (`errc::train_bad_option`) naming the first
    /// one out of range.
    explicit trainer(trainer_options options) : options_(std::move(options)) {
        auto bad = [](const std::string& msg) { BYTEPIECE_THROW(train_error(errc::train_bad_option, "trainer: " + msg)); };
        if (options_.order < 1 || options_.order > max_order)
            bad("order must be from 1 to " + std::to_string(max_order) + ", got " + std::to_string(options_.order));
        if (options_.max_vocab_size.empty()) bad("max_vocab_size needs at least one size");
        for (std::size_t v : options_.max_vocab_size)
            if (v < min_vocab_size || v > max_vocab_size_limit)
                bad("max_vocab_size must be at least " + std::to_string(min_vocab_size) +
                    " (3 special ids and 256 single bytes), got " + std::to_string(v));
        sizes_ = options_.max_vocab_size;
        std::sort(sizes_.begin(), sizes_.end(), std::greater<>());
        for (std::size_t i = 1; i < sizes_.size(); ++i)
            if (sizes_[i] == sizes_[i - 1]) bad("max_vocab_size " + std::to_string(sizes_[i]) + " is given twice");
        if (options_.max_piece_length < 1) bad("max_piece_length must be at least 1");
        threads_ = options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
    }

    /// Trains on files, each one a text (as if its whole content were passed as one string).
    /// "-" is standard input. Every input is read twice, once per pass: a regular file is read
    /// again and must then hold the same bytes (same length and XXH3 hash); anything that
    /// cannot be read twice (standard input, a pipe, a FIFO, `<(zcat corpus.gz)`) is copied
    /// during the first pass to an unnamed temporary file in $TMPDIR (or /tmp), which needs as
    /// much disk space as that input and is gone when the second pass is done.
    ///
    /// Throws `io_error`: `errc::io_open` if an input does not exist, is a folder or cannot be
    /// opened (checked for every input before any work; a FIFO is not opened then, so that its
    /// writer is not cut off), `errc::io_read` or `errc::io_write` if reading it or writing its
    /// copy fails, `errc::io_changed` if a file changed between the two passes. Throws
    /// `argument_error` if "-" is given more than once (standard input can be read only once),
    /// `train_error` (`errc::train_empty_corpus`, naming the files) if they hold no text.
    ///
    /// Example: `t.train_files({"a.txt", "b.txt"});`
    void train_files(const std::vector<std::string>& paths) {
        if (std::count(paths.begin(), paths.end(), std::string("-")) > 1)
            BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                           "trainer: standard input ('-') is given more than once; it can be read only once"));
        std::vector<detail::train_input> inputs;
        inputs.reserve(paths.size());
        std::uint64_t total = 0;
        bool total_known = true;
        for (const auto& path : paths) {
            inputs.emplace_back(path);
            const long long size = inputs.back().inspect();
            if (size < 0) total_known = false;
            else total += static_cast<std::uint64_t>(size);
        }
        run([&](int pass, auto&& data, auto&& end_text) {
            std::vector<char> buf(block_size);
            for (auto& input : inputs) {
                input.read(pass, buf, data);
                end_text();
            }
        }, total_known ? total : 0, [&] { return empty_files_message(paths); });
    }

    /// Trains on a range of texts (each convertible to `std::string_view`: `std::string`,
    /// `const char*`, ...), iterated twice, once per pass, so it must give the same texts the
    /// second time (a container or view, not a single-pass range). Throws `argument_error`
    /// (`errc::invalid_argument`) if the second iteration gives other bytes than the first,
    /// `train_error` if the texts hold no text.
    ///
    /// Example: `std::vector<std::string> texts = {...}; t.train(texts);`
    template <class Range>
    void train(const Range& texts) {
        train_source([&](int, auto&& emit) {
            for (const auto& text : texts) emit(std::string_view(text));
        });
    }

    /// Trains on texts that a callback hands over, for texts that come one at a time from
    /// elsewhere (a Python iterable, a database cursor) and are never held all at once.
    /// `source(pass, emit)` is called with pass 1, then again with pass 2, and calls
    /// `emit(std::string_view text)` for every text, in the same order both times; each view
    /// need only live during its call. Throws `argument_error` (`errc::invalid_argument`) if
    /// the second pass gives other bytes than the first, `train_error` if there is no text;
    /// an exception thrown by `source` stops training and is rethrown.
    ///
    /// Example: `t.train_source([&](int, auto&& emit) { for (auto& line : lines) emit(line); });`
    template <class Source>
    void train_source(Source&& source) {
        detail::read_digest first;
        run([&](int pass, auto&& data, auto&& end_text) {
            detail::streaming_digest digest;
            source(pass, [&](std::string_view s) {
                // Each length goes into the hash too: "ab" then "" is not "a" then "b".
                const std::uint64_t length = s.size();
                digest.update(s);
                digest.update(std::string_view(reinterpret_cast<const char*>(&length), sizeof length));
                for (std::size_t i = 0; i < s.size(); i += block_size) data(s.substr(i, block_size));
                end_text();
            });
            if (pass == 1) first = digest.digest();
            else if (digest.digest() != first)
                BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                               "trainer: the texts were not the same the second time they were iterated; "
                                               "train() goes over its range twice, so it needs one that can be iterated again"));
        }, 0, [] { return std::string("trainer: the corpus holds no text (the texts are empty)"); });
    }

    /// Builds the models from pieces already counted (piece bytes, count) instead of from a
    /// corpus: the pruning of spec §5 alone, as the reference's `convert_to_bytepiece` runs it
    /// on a trainer. Missing single bytes are added with count 1; pieces longer than
    /// `max_piece_length` or rarer than `min_count` are split with the kept ones; pieces that
    /// no piece encodes to are removed; then the cut to each size. A multi-byte piece with
    /// count 0 adds nothing and is left out. Throws `argument_error` (`errc::invalid_argument`)
    /// for an empty piece, a piece given twice or a single byte with count 0.
    ///
    /// Example: `t.train_counts({{"hello", 10}, {"world", 7}}); t.save("out.model");`
    void train_counts(std::vector<std::pair<std::string, std::uint64_t>> pieces) {
        auto bad = [](const std::string& msg) { BYTEPIECE_THROW(argument_error(errc::invalid_argument, "trainer: " + msg)); };
        piece_list given;
        given.reserve(pieces.size());
        for (auto& p : pieces) {
            if (p.first.empty()) bad("a piece is empty");
            if (p.second == 0) {
                if (p.first.size() == 1)
                    bad("the single byte " + std::to_string(static_cast<unsigned char>(p.first[0])) + " has count 0");
                continue;
            }
            given.push_back(std::move(p));
        }
        std::vector<std::pair<std::string, std::uint64_t>>().swap(pieces);
        std::sort(given.begin(), given.end(), id_order);
        for (std::size_t i = 1; i < given.size(); ++i)
            if (given[i].first == given[i - 1].first) bad("the piece \"" + given[i].first + "\" is given twice");
        models_.clear();
        outcomes_.clear();
        std::vector<vocab_outcome> outcomes;
        std::vector<model> models;
        for (auto& kept : prune_pieces(std::move(given), outcomes)) models.push_back(model::from_counts(std::move(kept), true));
        models_.swap(models);
        outcomes_.swap(outcomes);
    }

    /// The trained models, one per vocabulary size, largest size first (the order of
    /// `vocab_sizes()`). Empty before training.
    const std::vector<model>& models() const noexcept { return models_; }

    /// The requested vocabulary sizes, largest first.
    const std::vector<std::size_t>& vocab_sizes() const noexcept { return sizes_; }

    /// For each model (in the order of `models()`), the size asked for, the size it got and,
    /// when it got fewer, why. Empty before training.
    ///
    /// Example:
    /// ```
    /// for (const auto& o : t.outcomes())
    ///     if (o.reason == bytepiece::shortfall::few_pieces)
    ///         std::cerr << o.produced << " of " << o.requested << " ids: " << o.explanation << "\n";
    /// ```
    const std::vector<vocab_outcome>& outcomes() const noexcept { return outcomes_; }

    /// The files `save(path)` writes: `path` itself for a single size, otherwise
    /// `path.<size>` for each size, largest first (the reference's naming).
    std::vector<std::string> output_paths(const std::string& path) const {
        if (sizes_.size() == 1) return {path};
        std::vector<std::string> out;
        for (std::size_t v : sizes_) out.push_back(path + "." + std::to_string(v));
        return out;
    }

    /// Checks, creating nothing, that `save(path)` could write each of `output_paths(path)`
    /// (the folder exists and takes new files, the name is not a folder); throws `io_error`
    /// naming the first that could not be written. Call it before training, so that a bad
    /// output name fails at once rather than after hours of work.
    ///
    /// Example: `t.check_output(out); t.train_files(inputs); t.save(out);`
    void check_output(const std::string& path) const {
        for (const auto& p : output_paths(path)) detail::check_output_path(p);
    }

    /// Writes each model in BytePiece's JSON format to `output_paths(path)`. All of them are
    /// written in full to temporary files first and only then renamed over their targets, one
    /// after the other, so that a failure leaves none of them (barring a rename that fails
    /// between two others). Throws `io_error` on failure, `train_error` before training.
    ///
    /// Example: `t.save("out.model");  // or out.model.40000, out.model.20000 for two sizes`
    void save(const std::string& path) const {
        if (models_.empty()) BYTEPIECE_THROW(train_error(errc::train_bad_option, "trainer: save() before training"));
        const auto paths = output_paths(path);
        std::vector<std::unique_ptr<detail::output_file>> files;
        for (std::size_t i = 0; i < paths.size(); ++i) {
            files.push_back(std::make_unique<detail::output_file>(paths[i]));
            files.back()->write(models_[i].to_json());
        }
        for (auto& f : files) f->commit();
    }

    /// Smallest accepted vocabulary size: 3 special ids and 256 single bytes.
    static constexpr std::size_t min_vocab_size = 259;
    /// Largest accepted n-gram order.
    static constexpr std::size_t max_order = 32;
    /// Largest accepted vocabulary size.
    static constexpr std::size_t max_vocab_size_limit = std::size_t(1) << 31;
    /// The chunk length (in characters) the reference cuts training text into.
    static constexpr std::size_t chunk_chars = 10000;

private:
    using piece_list = std::vector<std::pair<std::string, std::uint64_t>>;  // sorted by (length, bytes)
    using item_list = std::vector<std::pair<std::string_view, std::uint64_t>>;

    static constexpr std::size_t block_size = std::size_t(1) << 20;  // bytes read at a time
    static constexpr std::size_t batch_size = std::size_t(1) << 20;  // chunk bytes per batch

    void report(train_phase phase, std::uint64_t done, std::uint64_t total, unsigned round = 0,
                std::string_view step = {}) const {
        if (!options_.progress) return;
        train_progress p;
        p.phase = phase;
        p.done = done;
        p.total = total;
        p.round = round;
        p.step = step;
        options_.progress(p);
    }

    // A report from inside a phase: `done == total` is kept for the one report at its end.
    void report_partial(train_phase phase, std::uint64_t done, std::uint64_t total, unsigned round = 0,
                        std::string_view step = {}) const {
        report(phase, total && done >= total ? total - 1 : done, total, round, step);
    }

    // One pass over the corpus: `source(data, end_text)` hands over raw text; it is normalized,
    // chunked, batched and consumed by `consume(worker, batch)` on the worker threads.
    template <class Source, class Consume>
    std::uint64_t pass(Source& source, int number, std::uint64_t total, train_phase phase, detail::dispatch mode,
                       Consume&& consume) {
        std::uint64_t consumed = 0;
        report(phase, 0, total);
        detail::run_pipeline(threads_, mode, [&](auto& submit) {
            detail::text_batch batch;
            detail::text_chunker chunker(chunk_chars, options_.isolate_digits);
            auto emit = [&](std::string_view chunk) {
                batch.add(chunk);
                if (batch.bytes.size() >= batch_size) {
                    batch.input_done = consumed;
                    batch.seal();
                    submit(batch);
                    report_partial(phase, consumed, total);
                }
            };
            source(number, [&](std::string_view raw) {
                consumed += raw.size();
                chunker.feed(raw, emit);
            }, [&] { chunker.finish(emit); });
            if (!batch.ends.empty()) {
                batch.seal();
                submit(batch);
            }
        }, consume);
        report(phase, consumed, total ? total : consumed);
        return consumed;
    }

    // What an empty corpus of files is told: the files, by name.
    static std::string empty_files_message(const std::vector<std::string>& paths) {
        if (paths.empty()) return "trainer: the corpus holds no text (no files were given)";
        const std::size_t shown = std::min<std::size_t>(paths.size(), 3);
        std::string names;
        for (std::size_t i = 0; i < shown; ++i) {
            if (i) names += ", ";
            names += paths[i] == "-" ? std::string("standard input") : paths[i];
        }
        if (paths.size() > shown) names += " and " + std::to_string(paths.size() - shown) + " more";
        return names + ": the corpus holds no text (" +
               (paths.size() == 1 ? std::string("the file is empty") : "all " + std::to_string(paths.size()) + " files are empty") + ")";
    }

    // `source(pass, data, end_text)` hands over the corpus once for pass 1 and once for pass 2;
    // `empty_message()` is the error when it holds nothing.
    template <class Source, class EmptyMessage>
    void run(Source&& source, std::uint64_t total, EmptyMessage&& empty_message) {
        models_.clear();
        outcomes_.clear();
        const std::size_t order = options_.order;
        const unsigned shards = threads_;

        // Pass 1: n-gram counts, each thread counting the keys of its hash shard.
        std::vector<detail::ngram_shard> counts;
        counts.reserve(shards);
        for (unsigned i = 0; i < shards; ++i) counts.emplace_back(order);
        const std::uint64_t input = pass(source, 1, total, train_phase::count_ngrams, detail::dispatch::broadcast,
                                         [&](unsigned w, const detail::text_batch& b) {
                                             detail::count_ngrams(b, counts[w], w, shards, order);
                                         });
        if (input == 0) BYTEPIECE_THROW(train_error(errc::train_empty_corpus, empty_message()));
        report(train_phase::prune_ngrams, 0, 1);
        const detail::ngram_model lm =
            detail::build_ngram_model(counts, order, options_.min_count, options_.ensure_unicode);
        report(train_phase::prune_ngrams, 1, 1);

        // Pass 2: segmentation with the n-gram model and piece counts, batches shared out.
        std::vector<detail::count_table> tables(threads_);
        std::vector<detail::segment_workspace> spaces(threads_);
        pass(source, 2, input, train_phase::count_pieces, detail::dispatch::share,
             [&](unsigned w, const detail::text_batch& b) {
                 detail::count_table& table = tables[w];
                 b.for_each_chunk([&](std::string_view chunk) {
                     detail::segment(lm, chunk, spaces[w], [&](std::string_view piece) { table.add(piece); });
                 });
             });
        spaces.clear();
        for (std::size_t i = 1; i < tables.size(); ++i) {
            tables[0].merge(tables[i]);
            tables[i].clear();
        }
        piece_list pieces;
        pieces.reserve(tables[0].size() + 256);
        tables[0].for_each([&](std::string_view p, std::uint64_t c) { pieces.emplace_back(std::string(p), c); });
        tables.clear();

        std::vector<vocab_outcome> outcomes;
        std::vector<model> models;
        for (auto& kept : prune_pieces(std::move(pieces), outcomes)) models.push_back(model::from_counts(std::move(kept), true));
        models_.swap(models);
        outcomes_.swap(outcomes);
    }

    static bool id_order(const std::pair<std::string, std::uint64_t>& a, const std::pair<std::string, std::uint64_t>& b) {
        if (a.first.size() != b.first.size()) return a.first.size() < b.first.size();
        return a.first < b.first;
    }

    // "Splitting": encodes each item's bytes with the Viterbi of a tokenizer built from
    // `vocab` (sorted by length and bytes, so index k is id k + 3) and adds the item's count to
    // every resulting piece. Returns the added counts, indexed like `vocab`.
    std::vector<std::uint64_t> split(const piece_list& vocab, const item_list& items, unsigned round,
                                     std::string_view step) const {
        const tokenizer tok(model::from_counts(vocab, true));
        const std::size_t width = vocab.size() + model::first_piece_id;
        std::vector<std::vector<std::uint64_t>> partial(std::min<std::size_t>(threads_, std::max<std::size_t>(items.size(), 1)));
        std::atomic<std::uint64_t> done{0};
        report(train_phase::prune_pieces, 0, items.size(), round, step);
        detail::parallel_ranges(items.size(), threads_, [&](std::size_t lo, std::size_t hi, unsigned w) {
            std::vector<std::uint64_t>& counts = partial[w];
            counts.assign(width, 0);
            std::vector<std::string_view> views;
            views.reserve(hi - lo);
            for (std::size_t i = lo; i < hi; ++i) views.emplace_back(items[i].first);
            // Items are short and many: encode_chunks scans several at once.
            tok.encode_chunks(views.data(), views.size(), [&](std::size_t k, const std::uint32_t* ids, std::size_t n) {
                for (std::size_t j = 0; j < n; ++j) counts[ids[j]] += items[lo + k].second;
                if ((k & 0xFFFF) == 0xFFFF) {
                    const std::uint64_t d = done.fetch_add(0x10000) + 0x10000;
                    if (w == 0) report_partial(train_phase::prune_pieces, d, items.size(), round, step);
                }
            });
        });
        std::vector<std::uint64_t> out(vocab.size(), 0);
        for (const auto& counts : partial)
            for (std::size_t k = 0; k < out.size() && !counts.empty(); ++k) out[k] += counts[k + model::first_piece_id];
        report(train_phase::prune_pieces, items.size(), items.size(), round, step);
        return out;
    }

    static item_list items_of(const piece_list& pieces) {
        item_list items;
        items.reserve(pieces.size());
        for (const auto& p : pieces) items.emplace_back(p.first, p.second);
        return items;
    }

    // Spec §5 step 3: split every kept piece with the kept vocabulary itself; the result is the
    // new kept set; repeat until its size stops changing (the last result is kept too).
    void remove_wasted(piece_list& keep, unsigned& round) const {
        for (;;) {
            const std::size_t before = keep.size();
            const std::vector<std::uint64_t> counts = split(keep, items_of(keep), ++round, "remove wasted pieces");
            piece_list next;
            next.reserve(keep.size());
            for (std::size_t k = 0; k < keep.size(); ++k)
                if (counts[k]) next.emplace_back(std::move(keep[k].first), counts[k]);
            keep.swap(next);
            if (keep.size() == before) return;
        }
    }

    // Spec §5 "Pruning pieces", steps 1 to 4; returns the kept pieces for each size and says in
    // `outcomes` why a size got fewer.
    std::vector<piece_list> prune_pieces(piece_list pieces, std::vector<vocab_outcome>& outcomes) const {
        unsigned round = 0;
        std::size_t found = 0;  // multi-byte pieces the segmentation produced
        for (const auto& p : pieces) found += p.first.size() > 1;
        // 1. Every single byte is a piece.
        bool have[256] = {};
        for (const auto& p : pieces)
            if (p.first.size() == 1) have[static_cast<unsigned char>(p.first[0])] = true;
        for (int b = 0; b < 256; ++b)
            if (!have[b]) pieces.emplace_back(std::string(1, static_cast<char>(b)), 1);
        // 2. Keep by length and count; split the others with the kept ones.
        piece_list keep, drop;
        for (auto& p : pieces) {
            if (p.first.size() == 1 || (p.first.size() <= options_.max_piece_length && p.second >= options_.min_count))
                keep.push_back(std::move(p));
            else
                drop.push_back(std::move(p));
        }
        piece_list().swap(pieces);
        const std::size_t eligible = keep.size() - 256;  // multi-byte pieces that pass the count and length rules
        std::sort(keep.begin(), keep.end(), id_order);
        {
            const std::vector<std::uint64_t> counts = split(keep, items_of(drop), ++round, "split rare and long pieces");
            for (std::size_t k = 0; k < keep.size(); ++k) keep[k].second += counts[k];
        }
        piece_list().swap(drop);
        // 3. Remove pieces no piece encodes to.
        remove_wasted(keep, round);
        const std::size_t usable = keep.size() - 256;  // of those, the ones still used after splitting
        // 4. Cut down to each size, largest first.
        std::vector<piece_list> out;
        std::size_t last_cut = 0;  // the last size that cut pieces away, 0 while none did
        for (const std::size_t size : sizes_) {
            const std::size_t limit = size - model::first_piece_id;
            if (keep.size() > limit) {
                last_cut = size;
                std::vector<std::size_t> order(keep.size());
                for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
                // (length > 1, -count, -length, bytes): single bytes, then frequent, then long.
                std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
                    const auto& a = keep[x];
                    const auto& b = keep[y];
                    const bool ma = a.first.size() > 1, mb = b.first.size() > 1;
                    if (ma != mb) return !ma;
                    if (a.second != b.second) return a.second > b.second;
                    if (a.first.size() != b.first.size()) return a.first.size() > b.first.size();
                    return a.first < b.first;
                });
                std::vector<char> chosen(keep.size(), 0);
                for (std::size_t i = 0; i < limit; ++i) chosen[order[i]] = 1;
                piece_list kept, dropped;
                kept.reserve(limit);
                for (std::size_t k = 0; k < keep.size(); ++k) (chosen[k] ? kept : dropped).push_back(std::move(keep[k]));
                const std::string step = "cut to " + std::to_string(size);
                const std::vector<std::uint64_t> counts = split(kept, items_of(dropped), ++round, step);
                for (std::size_t k = 0; k < kept.size(); ++k) kept[k].second += counts[k];
                dropped.clear();
                remove_wasted(kept, round);
                keep.swap(kept);
            }
            out.push_back(keep);
            outcomes.push_back(outcome_of(size, keep.size(), last_cut, found, eligible, usable));
        }
        return out;
    }

    // Why `pieces` pieces came out for `size` ids; see `vocab_outcome`.
    vocab_outcome outcome_of(std::size_t size, std::size_t pieces, std::size_t last_cut, std::size_t found,
                             std::size_t eligible, std::size_t usable) const {
        vocab_outcome o;
        o.requested = size;
        o.produced = pieces + model::first_piece_id;
        if (o.produced >= size) return o;
        if (last_cut == 0) {
            o.reason = shortfall::few_pieces;
            o.explanation = "only " + std::to_string(usable) + " multi-byte pieces were left to choose from: the segmentation found " +
                            std::to_string(found) + ", " + std::to_string(eligible) + " of them occur at least " +
                            std::to_string(options_.min_count) + " times (min count) within " +
                            std::to_string(options_.max_piece_length) + " bytes (max piece length)";
            if (usable != eligible) o.explanation += ", and " + std::to_string(usable) + " of those are still used after splitting";
            o.explanation += "; a lower min count or more text gives more";
        } else {
            o.reason = shortfall::unused_after_cut;
            const std::size_t removed = last_cut - model::first_piece_id - pieces;
            o.explanation = last_cut == size
                                ? "after the cut to " + std::to_string(size) + " ids, " + std::to_string(removed) +
                                      (removed == 1 ? " piece that no segmentation used any more was" : " pieces that no segmentation used any more were") +
                                      " removed, as the reference trainer does"
                                : "the cut to " + std::to_string(last_cut) + " ids left only " + std::to_string(pieces) +
                                      " pieces once those no segmentation used any more were removed, as the reference trainer does";
        }
        return o;
    }

    trainer_options options_;
    std::vector<std::size_t> sizes_;
    unsigned threads_ = 1;
    std::vector<model> models_;
    std::vector<vocab_outcome> outcomes_;
};

BYTEPIECE_NAMESPACE_END
