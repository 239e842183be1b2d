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
#include <cstring>
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
#include "bytepiece/detail/spill_dir.hpp"
#include "bytepiece/detail/train_chunker.hpp"
#include "bytepiece/detail/train_input.hpp"
#include "bytepiece/detail/train_ngram.hpp"
#include "bytepiece/detail/train_pipeline.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/model.hpp"
#include "bytepiece/train_counts.hpp"
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
    unsigned round = 0;       ///< pruning round, 0 outside `prune_pieces` and in a merge
    /// What the round does; empty outside `prune_pieces`, except for "merge runs" (round 0),
    /// the merge of the runs `memory_limit` spilled, in `prune_ngrams` and `prune_pieces`,
    /// where `done` and `total` count bytes of runs.
    std::string_view step;
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
    /// Memory budget in bytes for the count tables of both passes (0: unbounded). When the
    /// tables reach it they are written to disk as sorted runs and cleared, and the runs are
    /// merged at the end of the pass, so that a corpus whose n-grams do not fit in memory can
    /// still be trained on; the model is the same, byte for byte. The n-gram model of pass 2 is
    /// charged against it (pass 2's tables get what it leaves, at least 64 KiB per thread);
    /// what does not count (that model's build, the kept pieces of the final pruning) is
    /// described in docs/memory_limit.md. Only `train_files`, `train` and `train_source` bound
    /// their tables with it; `train_from_counts` sizes with it the blocks in which its pruning
    /// splits the rare pieces (limit / 8).
    std::uint64_t memory_limit = 0;
    /// Folder in which `memory_limit` creates its private folder of runs (empty: $TMPDIR, else
    /// /tmp); the runs need about as much disk as the n-gram counts they hold, compressed.
    std::string temp_dir;
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
/// Training can also be spread over processes or machines, with the same result: the members
/// `count_ngrams`, `prune_ngrams`, `count_pieces` and `train_from_counts` run the passes one at
/// a time on shards of the corpus and `merge_count_files` adds their counts up (train_counts.hpp).
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

    /// Pass 1 alone, for sharded training (train_counts.hpp): counts the n-grams of files (each
    /// a text, "-" standard input) and writes them to `output` as an n-gram count file, which
    /// `merge_count_files` adds to those of other shards and `prune_ngrams` turns into the model
    /// of pass 2. With `part`, only that part of each file is read (regular files only), so
    /// that N processes can count one file without cutting it up first; the N part files merge
    /// to the counts of the whole file. Uses `order`, `isolate_digits`, `threads` and
    /// `progress` (phase `count_ngrams`). Memory is that of `train_files`' first pass.
    ///
    /// Throws `io_error` as `train_files` does (and if `output` cannot be written),
    /// `argument_error` if `output` is one of the inputs or a part is asked of standard input or
    /// a pipe, `train_error` (`errc::train_bad_option`) for a part outside 0 <= index < count <=
    /// 2^20. An empty input gives a valid file with no n-grams.
    ///
    /// Example: `t.count_ngrams({"corpus.txt"}, "part3.ngrams", {3, 8});`
    void count_ngrams(const std::vector<std::string>& paths, const std::string& output, file_part part = {}) {
        check_part(part);
        auto source = file_source(paths, output, part);
        count_ngrams_to(source.first, source.second, output);
    }

    /// `count_ngrams` over texts a callback hands over (read once): `source(emit)` calls
    /// `emit(std::string_view text)` for every text; each view need only live during its call.
    ///
    /// Example: `t.count_ngrams_source([&](auto&& emit) { for (auto& s : texts) emit(s); }, "a.ngrams");`
    template <class Source>
    void count_ngrams_source(Source&& source, const std::string& output) {
        text_source<std::remove_reference_t<Source>> wrapped{source};
        count_ngrams_to(wrapped, 0, output);
    }

    /// Keeps the n-grams of a (merged) n-gram count file counted at least `min_count` times,
    /// with the byte counts: the model pass 2 needs, written to `output` (a pruned n-gram file,
    /// usually a small fraction of the input, to be sent to every shard). Streams; memory is
    /// small. The file must have been counted with this trainer's `order` and `isolate_digits`.
    ///
    /// Throws what `read_count_file_info` throws, `train_error` with
    /// `errc::count_file_wrong_kind` if `input` holds no n-gram counts,
    /// `errc::count_file_mismatch` if it was counted with other options, and
    /// `errc::train_empty_corpus` if it counted no text; `argument_error` if `output` is `input`.
    ///
    /// Example: `t.prune_ngrams("all.ngrams", "model.pruned");`
    void prune_ngrams(const std::string& input, const std::string& output) {
        detail::refuse_output_among_inputs({input}, output, "trainer");
        detail::check_output_path(output);
        report(train_phase::prune_ngrams, 0, 1);
        detail::count_file_reader r(input);
        const detail::count_header& h = r.header();
        expect_kind(r, detail::count_format::kind_ngrams);
        expect_options(r, false);
        if (h.positions == 0)
            BYTEPIECE_THROW(train_error(errc::train_empty_corpus, input + ": the corpus holds no text (the n-gram counts count nothing)"));
        detail::count_header out_header = h;
        out_header.kind = detail::count_format::kind_pruned_ngrams;
        out_header.min_count = options_.min_count;
        out_header.ensure_unicode = options_.ensure_unicode;
        detail::count_file_writer w(output, out_header);
        for (std::size_t s = 0; s < r.sections(); ++s) {
            while (r.next())
                if (r.count() >= options_.min_count) w.add(r.key(), r.count());
            w.end_section();
        }
        r.finish();
        w.commit();
        report(train_phase::prune_ngrams, 1, 1);
    }

    /// Pass 2 alone, for sharded training: cuts files (or `part` of each) into pieces with the
    /// pruned n-gram model `pruned` (from `prune_ngrams`, with this trainer's `order`,
    /// `isolate_digits`, `ensure_unicode` and `min_count`) and writes the piece counts to
    /// `output`, a piece count file that merges with those of the other shards. Uses `threads`
    /// and `progress` (phase `count_pieces`).
    ///
    /// Throws what `count_ngrams` and `read_count_file_info` throw, `train_error` with
    /// `errc::count_file_wrong_kind` if `pruned` is not a pruned n-gram file and
    /// `errc::count_file_mismatch` if it was made with other options.
    ///
    /// Example: `t.count_pieces("model.pruned", {"corpus.txt"}, "part3.pieces", {3, 8});`
    void count_pieces(const std::string& pruned, const std::vector<std::string>& paths, const std::string& output,
                      file_part part = {}) {
        check_part(part);
        std::vector<std::string> inputs = paths;
        inputs.push_back(pruned);
        detail::refuse_output_among_inputs(inputs, output, "trainer");
        auto source = file_source(paths, output, part);
        count_pieces_to(pruned, source.first, source.second, output);
    }

    /// `count_pieces` over texts a callback hands over (read once), as `count_ngrams_source`.
    ///
    /// Example: `t.count_pieces_source("model.pruned", [&](auto&& emit) { emit(text); }, "a.pieces");`
    template <class Source>
    void count_pieces_source(const std::string& pruned, Source&& source, const std::string& output) {
        detail::refuse_output_among_inputs({pruned}, output, "trainer");
        text_source<std::remove_reference_t<Source>> wrapped{source};
        count_pieces_to(pruned, wrapped, 0, output);
    }

    /// The last step of sharded training: builds the models from a (merged) piece count file,
    /// as `train_files` would have from the whole corpus. The file must come from a pruned model
    /// of this trainer's `min_count`; then `models()`, `outcomes()` and `save` work as after
    /// `train_files`, and the saved files are byte for byte those `train_files` on the whole
    /// corpus saves.
    ///
    /// The file is read twice and never held whole: memory is the pieces kept as they are (count
    /// at least `min_count`, at most `max_piece_length` bytes) plus one block of the others,
    /// which are split in blocks of `memory_limit / 8` bytes, or of `default_pruning_block`
    /// (64 MiB) when `memory_limit` is 0 (see docs/memory_limit.md).
    ///
    /// Throws what `read_count_file_info` throws, `train_error` with
    /// `errc::count_file_wrong_kind` if the file holds no piece counts,
    /// `errc::count_file_mismatch` if its `min_count` is not this trainer's,
    /// `errc::train_empty_corpus` if it counted no text and `errc::count_file_invalid` if it
    /// changed between the two reads.
    ///
    /// Example: `t.train_from_counts("all.pieces"); t.save("out.model");`
    void train_from_counts(const std::string& pieces) {
        auto check = [&](detail::count_file_reader& r) {
            expect_kind(r, detail::count_format::kind_pieces);
            if (r.header().min_count != options_.min_count)
                BYTEPIECE_THROW(train_error(errc::count_file_mismatch, pieces + ": its pieces were counted with min count " +
                                                                           std::to_string(r.header().min_count) + ", this trainer has " +
                                                                           std::to_string(options_.min_count)));
            if (r.header().input_bytes == 0)
                BYTEPIECE_THROW(train_error(errc::train_empty_corpus, pieces + ": the corpus holds no text (the piece counts count nothing)"));
        };
        models_.clear();
        outcomes_.clear();
        std::vector<vocab_outcome> outcomes;
        std::vector<model> models;
        for (auto& kept : prune_pieces_file(pieces, pruning_block_bytes(), outcomes, check))
            models.push_back(model::from_counts(std::move(kept), true));
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
    /// Bytes of rare and long pieces that the final pruning splits at a time when reading a
    /// piece count file (`train_from_counts`) without a `memory_limit`; with one, the block is
    /// `memory_limit / 8` (at least 64 KiB). The result does not depend on it.
    static constexpr std::uint64_t default_pruning_block = std::uint64_t(64) << 20;

private:
    using piece_list = std::vector<std::pair<std::string, std::uint64_t>>;  // sorted by (length, bytes)
    using item_list = std::vector<std::pair<std::string_view, std::uint64_t>>;

    static constexpr std::size_t block_size = std::size_t(1) << 20;  // bytes read at a time
    static constexpr std::size_t batch_size = std::size_t(1) << 20;  // chunk bytes per batch
    static constexpr std::size_t merge_fan_in = 64;                   // runs merged at once
    static constexpr std::uint64_t min_piece_share = std::uint64_t(1) << 16;  // pass 2's least table budget per thread

    // The block of `prune_pieces_file`: an eighth of the limit leaves the rest to the kept
    // pieces and the tokenizer built from them.
    std::uint64_t pruning_block_bytes() const noexcept {
        return options_.memory_limit ? std::max<std::uint64_t>(options_.memory_limit / 8, 1 << 16) : default_pruning_block;
    }

    static void check_part(const file_part& part) {
        if (part.count < 1 || part.count > max_file_parts || part.index >= part.count)
            BYTEPIECE_THROW(train_error(errc::train_bad_option, "trainer: part " + std::to_string(part.index) + " of " +
                                                                    std::to_string(part.count) + " does not exist (parts are numbered 0 to count - 1, count 1 to " +
                                                                    std::to_string(max_file_parts) + ")"));
    }

    // A one-pass source over files (or the same part of each).
    struct file_parts_source {
        std::vector<std::string> paths;
        file_part part;
        template <class Data, class EndText>
        void operator()(int, Data&& data, EndText&& end_text) const {
            std::vector<char> buf(block_size);
            for (const auto& path : paths) {
                detail::read_input_part(path, part.index, part.count, buf, data);
                end_text();
            }
        }
    };

    // A one-pass source over `source(emit)`.
    template <class Source>
    struct text_source {
        Source& source;
        template <class Data, class EndText>
        void operator()(int, Data&& data, EndText&& end_text) const {
            source([&](std::string_view s) {
                for (std::size_t i = 0; i < s.size(); i += block_size) data(s.substr(i, block_size));
                end_text();
            });
        }
    };

    // The source over files and its size in bytes if known (0 if not).
    std::pair<file_parts_source, std::uint64_t> file_source(const std::vector<std::string>& paths, const std::string& output,
                                                            file_part part) const {
        if (std::count(paths.begin(), paths.end(), std::string("-")) > 1)
            BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                           "trainer: standard input ('-') is given more than once; it can be read only once"));
        detail::refuse_output_among_inputs(paths, output, "trainer");
        std::uint64_t total = 0;
        bool known = part.count == 1;
        for (const auto& path : paths) {
            const long long size = detail::train_input(path).inspect();
            if (size < 0) known = false;
            else total += static_cast<std::uint64_t>(size);
        }
        return {file_parts_source{paths, part}, known ? total : std::uint64_t(0)};
    }

    detail::count_header counts_header(std::uint8_t kind) const {
        detail::count_header h;
        h.kind = kind;
        h.order = options_.order;
        h.isolate_digits = options_.isolate_digits;
        h.chunk_chars = static_cast<std::uint32_t>(chunk_chars);
        if (kind != detail::count_format::kind_ngrams) {
            h.ensure_unicode = options_.ensure_unicode;
            h.min_count = options_.min_count;
        }
        return h;
    }

    static void expect_kind(const detail::count_file_reader& r, std::uint8_t kind) {
        if (r.header().kind != kind)
            BYTEPIECE_THROW(train_error(errc::count_file_wrong_kind, r.path() + ": holds " + detail::count_kind_name(r.header().kind) +
                                                                         ", this step needs " + detail::count_kind_name(kind)));
    }

    // The options a count file was made with must be this trainer's: other ones would give
    // another model than training on the whole corpus.
    void expect_options(const detail::count_file_reader& r, bool pruned) const {
        const detail::count_header& h = r.header();
        auto bad = [&](const std::string& what, const std::string& file, const std::string& mine) {
            BYTEPIECE_THROW(train_error(errc::count_file_mismatch, r.path() + ": was made with " + what + " " + file +
                                                                       ", this trainer has " + mine + "; use the same options in every step"));
        };
        auto on = [](bool b) { return std::string(b ? "on" : "off"); };
        if (h.order != options_.order) bad("order", std::to_string(h.order), std::to_string(options_.order));
        if (h.isolate_digits != options_.isolate_digits) bad("isolate digits", on(h.isolate_digits), on(options_.isolate_digits));
        if (h.chunk_chars != chunk_chars) bad("chunk length", std::to_string(h.chunk_chars), std::to_string(chunk_chars));
        if (pruned) {
            if (h.ensure_unicode != options_.ensure_unicode) bad("ensure unicode", on(h.ensure_unicode), on(options_.ensure_unicode));
            if (h.min_count != options_.min_count) bad("min count", std::to_string(h.min_count), std::to_string(options_.min_count));
        }
    }

    template <class Source>
    void count_ngrams_to(Source& source, std::uint64_t total, const std::string& output) {
        detail::check_output_path(output);
        const std::size_t order = options_.order;
        const unsigned shards = threads_;
        std::vector<detail::ngram_shard> counts;
        counts.reserve(shards);
        for (unsigned i = 0; i < shards; ++i) counts.emplace_back(order);
        const std::uint64_t input = pass(source, 1, total, train_phase::count_ngrams, detail::dispatch::broadcast,
                                         [&](unsigned w, const detail::text_batch& b) {
                                             detail::count_ngrams(b, counts[w], w, shards, order);
                                         });
        detail::count_header h = counts_header(detail::count_format::kind_ngrams);
        h.input_bytes = input;
        for (const auto& s : counts) {
            h.positions += s.positions;
            for (int b = 0; b < 256; ++b) h.byte_counts[b] += s.byte_counts[b];
        }
        write_ngram_tables(counts.data(), counts.size(), h, output);
    }

    // Writes the n-gram tables of `shards` (disjoint keys, or not: equal keys of two shards
    // become two records, which a merge adds up) as an n-gram count file with header `h`,
    // freeing each table once written.
    static void write_ngram_tables(detail::ngram_shard* shards, std::size_t n_shards, const detail::count_header& h,
                                   const std::string& output) {
        const std::size_t order = h.order;
        struct {
            detail::ngram_shard *first, *last;
            detail::ngram_shard* begin() const { return first; }
            detail::ngram_shard* end() const { return last; }
        } counts{shards, shards + n_shards};
        detail::count_file_writer w(output, h);
        // One length at a time, sorted by bytes; each table is freed once written.
        const std::size_t packed_max = std::min(order, detail::packed_ngram_bytes);
        std::vector<std::pair<std::uint64_t, std::uint64_t>> packed;
        for (std::size_t j = 2; j <= packed_max; ++j) {
            std::size_t n = 0;
            for (const auto& s : counts) n += s.packed[j].size();
            packed.clear();
            packed.reserve(n);
            for (auto& s : counts) {
                s.packed[j].for_each([&](std::uint64_t key, std::uint64_t c) {
                    unsigned char bytes[8];
                    std::memcpy(bytes, &key, 8);
                    std::uint64_t big = 0;  // the bytes as a big-endian number sort as the bytes do
                    for (int i = 0; i < 8; ++i) big = (big << 8) | bytes[i];
                    packed.emplace_back(big, c);
                });
                s.packed[j].clear();
            }
            std::sort(packed.begin(), packed.end());
            for (const auto& e : packed) {
                char bytes[8];
                for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((e.first >> (56 - 8 * i)) & 0xFF);
                w.add(std::string_view(bytes, j), e.second);
            }
            w.end_section();
        }
        std::vector<std::pair<std::uint64_t, std::uint64_t>>().swap(packed);
        std::vector<std::pair<std::string_view, std::uint64_t>> wide;
        for (std::size_t j = detail::packed_ngram_bytes + 1; j <= order; ++j) {
            wide.clear();
            for (const auto& s : counts) s.wide[j].for_each([&](std::string_view key, std::uint64_t c) { wide.emplace_back(key, c); });
            std::sort(wide.begin(), wide.end());
            for (const auto& e : wide) w.add(e.first, e.second);
            w.end_section();
            for (auto& s : counts) s.wide[j].clear();
        }
        w.commit();
    }

    // The model of pass 2 from a pruned n-gram file, streamed: the sections come by key length
    // with sorted keys, so the (length - 1)-prefix of each key is found in the previous section
    // by a merge-join, and only two sections' keys are held besides the model being built. A
    // kept n-gram's prefix is counted at least as often, so it is in the file (else the file
    // is damaged). The values come from the builder the in-memory pruning uses.
    detail::ngram_model load_pruned(const std::string& path, std::uint64_t& checksum) const {
        detail::count_file_reader r(path);
        expect_kind(r, detail::count_format::kind_pruned_ngrams);
        expect_options(r, true);
        const detail::count_header& h = r.header();
        if (h.positions == 0)
            BYTEPIECE_THROW(train_error(errc::train_empty_corpus, path + ": the corpus holds no text (the n-gram counts count nothing)"));
        detail::ngram_model_builder m(h.order, h.ensure_unicode, h.byte_counts, h.positions);
        // The keys of a section, end to end (all of one length), and their counts.
        struct section {
            std::size_t length = 0;
            std::string keys;
            std::vector<std::uint64_t> counts;
        } previous, current;
        for (std::size_t sec = 0; sec < r.sections(); ++sec) {
            const std::size_t j = r.key_length(sec);
            current.length = j;
            current.keys.clear();
            current.counts.clear();
            std::size_t at = 0;  // the merge-join's place in `previous`
            while (r.next()) {
                const std::string_view key = r.key();
                std::uint64_t parent = 0;
                if (j == 2) {
                    parent = m.byte_count(static_cast<unsigned char>(key[0]));
                } else {
                    const std::string_view prefix = key.substr(0, j - 1);
                    const std::size_t n = previous.counts.size();
                    if (previous.length != j - 1) at = n;
                    while (at < n && std::string_view(previous.keys).substr(at * (j - 1), j - 1) < prefix) ++at;
                    if (at == n || std::string_view(previous.keys).substr(at * (j - 1), j - 1) != prefix)
                        BYTEPIECE_THROW(train_error(errc::count_file_invalid, path + ": an n-gram of " + std::to_string(j) +
                                                                                  " bytes whose first " + std::to_string(j - 1) +
                                                                                  " bytes are not in the file (offset " +
                                                                                  std::to_string(r.offset()) + ")"));
                    parent = previous.counts[at];
                }
                if (r.count() >= h.min_count) m.add(key.data(), j, r.count(), parent);
                current.keys.append(key.data(), key.size());
                current.counts.push_back(r.count());
            }
            std::swap(previous, current);
        }
        r.finish();
        checksum = r.checksum();
        std::string().swap(previous.keys);
        std::string().swap(current.keys);
        std::vector<std::uint64_t>().swap(previous.counts);
        std::vector<std::uint64_t>().swap(current.counts);
        return m.finish();
    }

    template <class Source>
    void count_pieces_to(const std::string& pruned, Source& source, std::uint64_t total, const std::string& output) {
        detail::check_output_path(output);
        report(train_phase::prune_ngrams, 0, 1);
        std::uint64_t checksum = 0;
        const detail::ngram_model lm = load_pruned(pruned, checksum);
        report(train_phase::prune_ngrams, 1, 1);
        std::vector<detail::count_table> tables(threads_);
        std::vector<detail::segment_workspace> spaces(threads_);
        const std::uint64_t input = pass(source, 2, total, train_phase::count_pieces, detail::dispatch::share,
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
        std::vector<std::pair<std::string_view, std::uint64_t>> pieces;
        pieces.reserve(tables[0].size());
        tables[0].for_each([&](std::string_view p, std::uint64_t c) { pieces.emplace_back(p, c); });
        std::sort(pieces.begin(), pieces.end());
        detail::count_header h = counts_header(detail::count_format::kind_pieces);
        h.model_checksum = checksum;
        h.input_bytes = input;
        detail::count_file_writer w(output, h);
        for (const auto& p : pieces) w.add(p.first, p.second);
        w.end_section();
        w.commit();
    }

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
        // Tables are checked against a memory limit between batches, so a small limit takes
        // small batches (the results do not depend on the batch size).
        const std::size_t batch_bytes =
            options_.memory_limit ? static_cast<std::size_t>(std::clamp<std::uint64_t>(options_.memory_limit / 64, 4096, batch_size))
                                  : batch_size;
        report(phase, 0, total);
        detail::run_pipeline(threads_, mode, [&](auto& submit) {
            detail::text_batch batch;
            detail::text_chunker chunker(chunk_chars, options_.isolate_digits);
            auto emit = [&](std::string_view chunk) {
                batch.add(chunk);
                if (batch.bytes.size() >= batch_bytes) {
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

        // Pass 1: n-gram counts, each thread counting the keys of its hash shard. With a memory
        // limit, a thread whose tables reach its share writes them out as a sorted run; the
        // shards hold disjoint keys, so each thread spills on its own, without waiting.
        const std::uint64_t share = options_.memory_limit ? std::max<std::uint64_t>(options_.memory_limit / threads_, 1) : 0;
        detail::spill_dir spill(options_.temp_dir);
        std::vector<std::vector<std::string>> runs(threads_);
        std::vector<detail::ngram_shard> counts;
        counts.reserve(shards);
        for (unsigned i = 0; i < shards; ++i) counts.emplace_back(order);
        const std::uint64_t input = pass(source, 1, total, train_phase::count_ngrams, detail::dispatch::broadcast,
                                         [&](unsigned w, const detail::text_batch& b) {
                                             detail::count_ngrams(b, counts[w], w, shards, order);
                                             if (share && over_share(counts[w], share)) {
                                                 runs[w].push_back(spill.file("ngrams." + std::to_string(w) + "." +
                                                                              std::to_string(runs[w].size())));
                                                 write_ngram_tables(&counts[w], 1, counts_header(detail::count_format::kind_ngrams),
                                                                    runs[w].back());
                                             }
                                         });
        if (input == 0) BYTEPIECE_THROW(train_error(errc::train_empty_corpus, empty_message()));
        detail::ngram_model lm;
        if (!spill.used()) {
            report(train_phase::prune_ngrams, 0, 1);
            lm = detail::build_ngram_model(counts, order, options_.min_count, options_.ensure_unicode);
            report(train_phase::prune_ngrams, 1, 1);
        } else {
            lm = merge_ngram_runs(counts, runs, spill, input);
        }
        counts.clear();
        counts.shrink_to_fit();

        // Pass 2: segmentation with the n-gram model and piece counts, batches shared out; the
        // piece tables spill as those of pass 1 do, in what the model leaves of the limit (at
        // least a floor per thread, so that a model larger than the limit still trains).
        const std::uint64_t model_bytes = detail::memory_bytes(lm);
        const std::uint64_t piece_share =
            !options_.memory_limit ? 0
                   : std::max<std::uint64_t>(options_.memory_limit > model_bytes ? (options_.memory_limit - model_bytes) / threads_ : 0,
                                             min_piece_share);
        std::vector<detail::count_table> tables(threads_);
        std::vector<detail::segment_workspace> spaces(threads_);
        std::vector<std::vector<std::string>> piece_runs(threads_);
        pass(source, 2, input, train_phase::count_pieces, detail::dispatch::share,
             [&](unsigned w, const detail::text_batch& b) {
                 detail::count_table& table = tables[w];
                 b.for_each_chunk([&](std::string_view chunk) {
                     detail::segment(lm, chunk, spaces[w], [&](std::string_view piece) { table.add(piece); });
                 });
                 if (piece_share && 2 * table.memory_bytes() > piece_share) {
                     piece_runs[w].push_back(spill.file("pieces." + std::to_string(w) + "." + std::to_string(piece_runs[w].size())));
                     write_piece_table(table, 0, piece_runs[w].back());
                 }
             });
        spaces.clear();
        lm = detail::ngram_model{};  // the pruning does not need it: its memory goes back now
        if (spill.used()) detail::return_free_memory();
        piece_list pieces;
        bool pieces_spilled = false;
        for (const auto& r : piece_runs) pieces_spilled = pieces_spilled || !r.empty();
        if (!pieces_spilled) {
            for (std::size_t i = 1; i < tables.size(); ++i) {
                tables[0].merge(tables[i]);
                tables[i].clear();
            }
            pieces.reserve(tables[0].size() + 256);
            tables[0].for_each([&](std::string_view p, std::uint64_t c) { pieces.emplace_back(std::string(p), c); });
            tables.clear();
        }
        std::vector<vocab_outcome> outcomes;
        std::vector<piece_list> kept_lists;
        if (!pieces_spilled) {
            kept_lists = prune_pieces(std::move(pieces), outcomes);
        } else {
            const std::string merged = merge_piece_runs(tables, piece_runs, spill, input);
            kept_lists = prune_pieces_file(merged, pruning_block_bytes(), outcomes);
        }
        spill.remove_all();

        std::vector<model> models;
        for (auto& kept : kept_lists) models.push_back(model::from_counts(std::move(kept), true));
        models_.swap(models);
        outcomes_.swap(outcomes);
    }

    // Whether a thread's n-gram tables must spill before the next batch: a batch can make every
    // table grow (double) once, and a growing table holds its old slots too; so the tables are
    // kept under half the thread's share, plus one table's worth of rehash.
    static bool over_share(const detail::ngram_shard& s, std::uint64_t share) {
        std::uint64_t sum = 0, largest = 0;
        for (const auto& t : s.packed) {
            sum += t.memory_bytes();
            largest = std::max<std::uint64_t>(largest, t.memory_bytes());
        }
        for (const auto& t : s.wide) {
            sum += t.memory_bytes();
            largest = std::max<std::uint64_t>(largest, t.memory_bytes());
        }
        return 2 * sum + largest > share;
    }

    // Writes a piece table sorted by bytes as a piece count file and clears it.
    void write_piece_table(detail::count_table& table, std::uint64_t input, const std::string& path) const {
        std::vector<std::pair<std::string_view, std::uint64_t>> sorted;
        sorted.reserve(table.size());
        table.for_each([&](std::string_view p, std::uint64_t c) { sorted.emplace_back(p, c); });
        std::sort(sorted.begin(), sorted.end());
        detail::count_header h = counts_header(detail::count_format::kind_pieces);
        h.input_bytes = input;
        detail::count_file_writer w(path, h);
        for (const auto& p : sorted) w.add(p.first, p.second);
        w.end_section();
        w.commit();
        std::vector<std::pair<std::string_view, std::uint64_t>>().swap(sorted);
        table.clear();
    }

    // Merges runs in groups until at most `merge_fan_in` are left, so that the final merge
    // keeps few files open (each input holds a descriptor and a 64 kB buffer).
    void reduce_runs(std::vector<std::string>& runs, detail::spill_dir& spill, const std::string& stem) const {
        std::size_t level = 0;
        while (runs.size() > merge_fan_in) {
            std::vector<std::string> next;
            for (std::size_t i = 0; i < runs.size(); i += merge_fan_in) {
                const std::vector<std::string> group(runs.begin() + static_cast<std::ptrdiff_t>(i),
                                                     runs.begin() + static_cast<std::ptrdiff_t>(std::min(runs.size(), i + merge_fan_in)));
                next.push_back(spill.file(stem + ".merged." + std::to_string(level) + "." + std::to_string(next.size())));
                merge_count_files(group, next.back());
                for (const auto& r : group) std::remove(r.c_str());
            }
            runs.swap(next);
            ++level;
        }
    }

    // The end of a spilled pass 1: every thread's last tables become a run too (with the
    // positions and byte counts, which only the last run of each thread carries), the runs
    // are merged and pruned in one stream into a pruned n-gram file, and the model of pass 2
    // is built from that file as `count_pieces` builds it.
    detail::ngram_model merge_ngram_runs(std::vector<detail::ngram_shard>& counts, std::vector<std::vector<std::string>>& runs,
                                         detail::spill_dir& spill, std::uint64_t input) const {
        std::vector<std::string> all;
        for (std::size_t w = 0; w < counts.size(); ++w) {
            detail::count_header h = counts_header(detail::count_format::kind_ngrams);
            h.positions = counts[w].positions;
            std::copy(std::begin(counts[w].byte_counts), std::end(counts[w].byte_counts), std::begin(h.byte_counts));
            if (w == 0) h.input_bytes = input;
            runs[w].push_back(spill.file("ngrams." + std::to_string(w) + ".last"));
            write_ngram_tables(&counts[w], 1, h, runs[w].back());
            all.insert(all.end(), runs[w].begin(), runs[w].end());
        }
        reduce_runs(all, spill, "ngrams");
        const std::string pruned = spill.file("ngrams.pruned");
        std::uint64_t merged_bytes = 0;
        auto merge_progress = [&](std::uint64_t done, std::uint64_t total) {
            merged_bytes = total;
            report_partial(train_phase::prune_ngrams, done, total, 0, "merge runs");
        };
        detail::merge_counts(all, pruned, merge_progress, true, options_.min_count, options_.ensure_unicode);
        for (const auto& r : all) std::remove(r.c_str());
        report(train_phase::prune_ngrams, merged_bytes, merged_bytes, 0, "merge runs");
        std::uint64_t checksum = 0;
        detail::return_free_memory();
        detail::ngram_model lm = load_pruned(pruned, checksum);
        std::remove(pruned.c_str());
        detail::return_free_memory();
        return lm;
    }

    // The end of a spilled pass 2: the last tables become runs, the runs are merged into one
    // piece count file, whose path is returned (`prune_pieces_file` reads it).
    std::string merge_piece_runs(std::vector<detail::count_table>& tables, std::vector<std::vector<std::string>>& runs,
                                detail::spill_dir& spill, std::uint64_t input) const {
        std::vector<std::string> all;
        for (std::size_t w = 0; w < tables.size(); ++w) {
            runs[w].push_back(spill.file("pieces." + std::to_string(w) + ".last"));
            write_piece_table(tables[w], w == 0 ? input : 0, runs[w].back());
            all.insert(all.end(), runs[w].begin(), runs[w].end());
        }
        tables.clear();
        reduce_runs(all, spill, "pieces");
        const std::string merged = spill.file("pieces.merged");
        std::uint64_t merged_bytes = 0;
        auto merge_progress = [&](std::uint64_t done, std::uint64_t total) {
            merged_bytes = total;
            report_partial(train_phase::prune_pieces, done, total, 0, "merge runs");
        };
        merge_count_files(all, merged, merge_progress);
        for (const auto& r : all) std::remove(r.c_str());
        report(train_phase::prune_pieces, merged_bytes, merged_bytes, 0, "merge runs");
        return merged;
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
        return split_with(tok, vocab.size(), items, round, step, 0, items.size());
    }

    // `split` with the tokenizer built, for items that come in blocks: this block's progress
    // runs from `base` of `grand` items.
    std::vector<std::uint64_t> split_with(const tokenizer& tok, std::size_t vocab_size, const item_list& items, unsigned round,
                                          std::string_view step, std::uint64_t base, std::uint64_t grand) const {
        const std::size_t width = vocab_size + model::first_piece_id;
        std::vector<std::vector<std::uint64_t>> partial(std::min<std::size_t>(threads_, std::max<std::size_t>(items.size(), 1)));
        std::atomic<std::uint64_t> done{base};
        report_partial(train_phase::prune_pieces, base, grand, round, step);
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
                    if (w == 0) report_partial(train_phase::prune_pieces, d, grand, round, step);
                }
            });
        });
        std::vector<std::uint64_t> out(vocab_size, 0);
        for (const auto& counts : partial)
            for (std::size_t k = 0; k < out.size() && !counts.empty(); ++k) out[k] += counts[k + model::first_piece_id];
        if (base + items.size() >= grand) report(train_phase::prune_pieces, grand, grand, round, step);
        else report_partial(train_phase::prune_pieces, base + items.size(), grand, round, step);
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
            if (kept_as_is(p.first.size(), p.second))
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
        return prune_kept(std::move(keep), round, found, eligible, outcomes);
    }

    // Whether step 2 keeps a piece as it is (the others are split with the kept ones).
    bool kept_as_is(std::size_t length, std::uint64_t count) const {
        return length == 1 || (length <= options_.max_piece_length && count >= options_.min_count);
    }

    // The pruning of `prune_pieces` from a piece count file (sorted by bytes), never holding
    // the rare pieces all at once: a first read collects the kept ones (step 1 and the keeping
    // of step 2), a second read splits the others in blocks of about `block_bytes`. Counts are
    // sums, so the blocks add up to what one split of all of them gives.
    // `check` looks at the header first (a user's file).
    std::vector<piece_list> prune_pieces_file(const std::string& path, std::uint64_t block_bytes,
                                              std::vector<vocab_outcome>& outcomes,
                                              const std::function<void(detail::count_file_reader&)>& check = {}) const {
        unsigned round = 0;
        std::size_t found = 0;
        std::uint64_t dropped = 0;
        piece_list keep;
        bool have[256] = {};
        std::uint64_t first_checksum = 0;
        {
            detail::count_file_reader r(path);
            first_checksum = r.checksum();
            if (check) check(r);
            while (r.next()) {
                const std::string_view k = r.key();
                found += k.size() > 1;
                if (k.size() == 1) have[static_cast<unsigned char>(k[0])] = true;
                if (kept_as_is(k.size(), r.count())) keep.emplace_back(std::string(k), r.count());
                else ++dropped;
            }
            r.finish();
        }
        for (int b = 0; b < 256; ++b)
            if (!have[b]) keep.emplace_back(std::string(1, static_cast<char>(b)), 1);
        const std::size_t eligible = keep.size() - 256;
        std::sort(keep.begin(), keep.end(), id_order);
        ++round;
        {
            const tokenizer tok(model::from_counts(keep, true));
            std::vector<std::uint64_t> added(keep.size(), 0);
            detail::count_file_reader r(path);
            // A file given by the user (`train_from_counts`) may be rewritten between the reads.
            if (r.checksum() != first_checksum)
                BYTEPIECE_THROW(train_error(errc::count_file_invalid, path + ": the file changed between the two reads of the pruning"));
            std::string arena;  // the block's piece bytes, one after the other
            std::vector<std::pair<std::size_t, std::uint64_t>> ends;
            item_list items;
            std::uint64_t base = 0;
            auto flush = [&] {
                items.clear();
                std::size_t start = 0;
                for (const auto& e : ends) {
                    items.emplace_back(std::string_view(arena).substr(start, e.first - start), e.second);
                    start = e.first;
                }
                const std::vector<std::uint64_t> counts = split_with(tok, keep.size(), items, round, "split rare and long pieces", base, dropped);
                for (std::size_t k = 0; k < keep.size(); ++k) added[k] += counts[k];
                base += items.size();
                arena.clear();
                ends.clear();
            };
            while (r.next()) {
                const std::string_view k = r.key();
                if (kept_as_is(k.size(), r.count())) continue;
                arena.append(k.data(), k.size());
                ends.emplace_back(arena.size(), r.count());
                if (arena.size() + ends.size() * 48 >= block_bytes) flush();
            }
            r.finish();
            if (!ends.empty() || base == 0) flush();
            for (std::size_t k = 0; k < keep.size(); ++k) keep[k].second += added[k];
        }
        return prune_kept(std::move(keep), round, found, eligible, outcomes);
    }

    // Steps 3 and 4 of the pruning, from the kept pieces of step 2 (sorted by id).
    std::vector<piece_list> prune_kept(piece_list keep, unsigned round, std::size_t found, std::size_t eligible,
                                       std::vector<vocab_outcome>& outcomes) const {
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
