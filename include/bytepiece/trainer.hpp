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
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/detail/count_table.hpp"
#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/train_chunker.hpp"
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
/// t.train_files({"corpus.txt"});
/// t.save("my.model");                        // reference file format
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

    /// Trains on files, each one a text (as if its whole content were passed as one string),
    /// streamed from disk twice. Throws `io_error` if a file cannot be opened or read (before
    /// any work for a file that cannot be opened), `train_error` if the files hold no text.
    ///
    /// Example: `t.train_files({"a.txt", "b.txt"});`
    void train_files(const std::vector<std::string>& paths) {
        std::uint64_t total = 0;
        for (const auto& path : paths) {
            std::FILE* f = std::fopen(path.c_str(), "rb");
            if (!f) BYTEPIECE_THROW(io_error(errc::io_open, path + ": cannot open: " + detail::errno_text(errno)));
            if (std::fseek(f, 0, SEEK_END) == 0) {
                const long size = std::ftell(f);
                if (size > 0) total += static_cast<std::uint64_t>(size);
            }
            std::fclose(f);
        }
        run([&](auto&& data, auto&& end_text) {
            std::vector<char> buf(block_size);
            for (const auto& path : paths) {
                std::FILE* f = std::fopen(path.c_str(), "rb");
                if (!f) BYTEPIECE_THROW(io_error(errc::io_open, path + ": cannot open: " + detail::errno_text(errno)));
                struct closer {
                    std::FILE* f;
                    ~closer() { std::fclose(f); }
                } guard{f};
                for (;;) {
                    const std::size_t n = std::fread(buf.data(), 1, buf.size(), f);
                    if (n) data(std::string_view(buf.data(), n));
                    if (n < buf.size()) {
                        if (std::ferror(f))
                            BYTEPIECE_THROW(io_error(errc::io_read, path + ": read failed: " + detail::errno_text(errno)));
                        break;
                    }
                }
                end_text();
            }
        }, total);
    }

    /// Trains on a range of texts (each convertible to `std::string_view`: `std::string`,
    /// `const char*`, ...), iterated twice, once per pass. Throws `train_error` if they hold no
    /// text.
    ///
    /// Example: `std::vector<std::string> texts = {...}; t.train(texts);`
    template <class Range>
    void train(const Range& texts) {
        run([&](auto&& data, auto&& end_text) {
            for (const auto& text : texts) {
                const std::string_view s(text);
                for (std::size_t i = 0; i < s.size(); i += block_size) data(s.substr(i, block_size));
                end_text();
            }
        }, 0);
    }

    /// The trained models, one per vocabulary size, largest size first (the order of
    /// `vocab_sizes()`). Empty before training.
    const std::vector<model>& models() const noexcept { return models_; }

    /// The requested vocabulary sizes, largest first.
    const std::vector<std::size_t>& vocab_sizes() const noexcept { return sizes_; }

    /// The files `save(path)` writes: `path` itself for a single size, otherwise
    /// `path.<size>` for each size, largest first (the reference's naming).
    std::vector<std::string> output_paths(const std::string& path) const {
        if (sizes_.size() == 1) return {path};
        std::vector<std::string> out;
        for (std::size_t v : sizes_) out.push_back(path + "." + std::to_string(v));
        return out;
    }

    /// Writes each model in BytePiece's JSON format to `output_paths(path)`, each through a
    /// temporary file and a rename. Throws `io_error` on failure, `train_error` before training.
    ///
    /// Example: `t.save("out.model");  // or out.model.40000, out.model.20000 for two sizes`
    void save(const std::string& path) const {
        if (models_.empty()) BYTEPIECE_THROW(train_error(errc::train_bad_option, "trainer: save() before training"));
        const auto paths = output_paths(path);
        for (std::size_t i = 0; i < paths.size(); ++i) models_[i].save(paths[i]);
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
    std::uint64_t pass(Source& source, std::uint64_t total, train_phase phase, detail::dispatch mode, Consume&& consume) {
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
            source([&](std::string_view raw) {
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

    template <class Source>
    void run(Source&& source, std::uint64_t total) {
        models_.clear();
        const std::size_t order = options_.order;
        const unsigned shards = threads_;

        // Pass 1: n-gram counts, each thread counting the keys of its hash shard.
        std::vector<detail::ngram_shard> counts;
        counts.reserve(shards);
        for (unsigned i = 0; i < shards; ++i) counts.emplace_back(order);
        const std::uint64_t input = pass(source, total, train_phase::count_ngrams, detail::dispatch::broadcast,
                                         [&](unsigned w, const detail::text_batch& b) {
                                             detail::count_ngrams(b, counts[w], w, shards, order);
                                         });
        report(train_phase::prune_ngrams, 0, 1);
        const detail::ngram_model lm =
            detail::build_ngram_model(counts, order, options_.min_count, options_.ensure_unicode);
        report(train_phase::prune_ngrams, 1, 1);

        // Pass 2: segmentation with the n-gram model and piece counts, batches shared out.
        std::vector<detail::count_table> tables(threads_);
        std::vector<detail::segment_workspace> spaces(threads_);
        pass(source, input, train_phase::count_pieces, detail::dispatch::share,
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

        for (auto& kept : prune_pieces(std::move(pieces))) models_.push_back(model::from_counts(std::move(kept), true));
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

    // Spec §5 "Pruning pieces", steps 1 to 4; returns the kept pieces for each size.
    std::vector<piece_list> prune_pieces(piece_list pieces) const {
        unsigned round = 0;
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
        std::sort(keep.begin(), keep.end(), id_order);
        {
            const std::vector<std::uint64_t> counts = split(keep, items_of(drop), ++round, "split rare and long pieces");
            for (std::size_t k = 0; k < keep.size(); ++k) keep[k].second += counts[k];
        }
        piece_list().swap(drop);
        // 3. Remove pieces no piece encodes to.
        remove_wasted(keep, round);
        // 4. Cut down to each size, largest first.
        std::vector<piece_list> out;
        for (const std::size_t size : sizes_) {
            const std::size_t limit = size - model::first_piece_id;
            if (keep.size() > limit) {
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
        }
        return out;
    }

    trainer_options options_;
    std::vector<std::size_t> sizes_;
    unsigned threads_ = 1;
    std::vector<model> models_;
};

BYTEPIECE_NAMESPACE_END
