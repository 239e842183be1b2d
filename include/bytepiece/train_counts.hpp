// SPDX-License-Identifier: Apache-2.0
//
// Mergeable counts of the trainer's two passes, so that training can be spread over shards of
// a corpus (other processes, other machines) and still give the model `trainer::train_files`
// gives on the whole corpus, byte for byte. The steps themselves are members of `trainer`
// (`count_ngrams`, `prune_ngrams`, `count_pieces`, `train_from_counts`); this header holds what
// they share: the parts of a file, the description of a count file, and the merge.
//
// Why the sum of the shards is exact: pass 1 counts n-grams within chunks and pass 2 segments
// each chunk on its own, so both are sums over chunks; pruning only ever sees totals. A chunk
// always ends where a run of newlines ends (the chunking expression ends its match there and NFC
// never composes across a newline), so a corpus cut at such places, or split into files, has
// the chunks of the whole. The file format is described in docs/count_files.md.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bytepiece/detail/count_file.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// What a count file holds.
enum class count_file_kind {
    ngrams,         ///< pass 1: every n-gram (2 to order bytes) of the chunks, with the byte counts
    pruned_ngrams,  ///< the n-grams counted at least `min_count` times: the model pass 2 needs
    pieces,         ///< pass 2: the pieces the pruned model cut the chunks into
};

/// Part `index` of `count` of a file (0 <= index < count <= 2^20): the bytes from the first
/// chunk boundary at or after `index * size / count` to the first at or after `(index + 1) *
/// size / count`, where a chunk boundary is the end of a run of newlines (or the file's start or
/// end). The parts of a file cover it exactly, so a cluster can split one huge file without
/// writing the pieces out; a file without newlines is all in part 0.
///
/// Example: `bytepiece::file_part{2, 8}` is the third eighth of each file.
struct file_part {
    std::uint64_t index = 0;
    std::uint64_t count = 1;
};

/// The largest `file_part::count`.
inline constexpr std::uint64_t max_file_parts = std::uint64_t(1) << 20;

/// What a count file says about itself (`read_count_file_info`).
struct count_file_info {
    count_file_kind kind = count_file_kind::ngrams;
    std::uint32_t version = 0;          ///< format version
    std::size_t order = 0;              ///< the trainer's `order`
    bool isolate_digits = false;        ///< the trainer's `isolate_digits`
    bool ensure_unicode = false;        ///< pruned n-grams and pieces: the trainer's `ensure_unicode`
    std::uint64_t min_count = 0;        ///< pruned n-grams and pieces: the trainer's `min_count`
    std::uint64_t model_checksum = 0;   ///< pieces: the checksum of the pruned n-gram file that cut them
    std::uint64_t input_bytes = 0;      ///< corpus bytes counted (before normalization)
    std::uint64_t positions = 0;        ///< n-grams: chunk bytes counted (after normalization)
    std::uint64_t entries = 0;          ///< records: n-grams or pieces
    std::uint64_t checksum = 0;         ///< XXH3-64 of the content (what piece files record of a pruned model)
    std::uint64_t file_bytes = 0;       ///< size of the file
};

/// Reads and checks a whole count file and describes it. Throws `io_error` if it cannot be
/// read, `train_error` if it is not a count file (`errc::count_file_not_counts`), of another
/// version (`count_file_version`), cut short (`count_file_truncated`), damaged
/// (`count_file_damaged`) or malformed (`count_file_invalid`); the message names the file, what
/// is wrong and the byte offset.
///
/// Example: `auto info = bytepiece::read_count_file_info("shard3.ngrams"); info.entries;`
inline count_file_info read_count_file_info(const std::string& path) {
    detail::count_file_reader r(path);
    const detail::count_header& h = r.header();
    count_file_info info;
    info.kind = h.kind == detail::count_format::kind_ngrams          ? count_file_kind::ngrams
                : h.kind == detail::count_format::kind_pruned_ngrams ? count_file_kind::pruned_ngrams
                                                                     : count_file_kind::pieces;
    info.version = h.version;
    info.order = h.order;
    info.isolate_digits = h.isolate_digits;
    info.ensure_unicode = h.ensure_unicode;
    info.min_count = h.min_count;
    info.model_checksum = h.model_checksum;
    info.input_bytes = h.input_bytes;
    info.positions = h.positions;
    info.checksum = r.checksum();
    info.file_bytes = r.size();
    for (std::size_t s = 0; s < r.sections(); ++s)
        while (r.next()) ++info.entries;
    r.finish();
    return info;
}

/// The name of a count file kind, for messages: "n-gram counts", "pruned n-gram counts",
/// "piece counts".
///
/// Example: `std::cout << bytepiece::count_file_kind_name(info.kind);`
inline std::string count_file_kind_name(count_file_kind kind) {
    switch (kind) {
        case count_file_kind::ngrams: return "n-gram counts";
        case count_file_kind::pruned_ngrams: return "pruned n-gram counts";
        case count_file_kind::pieces: return "piece counts";
    }
    return "counts";
}

namespace detail {
inline std::string count_kind_name(std::uint8_t kind) {
    return count_file_kind_name(kind == count_format::kind_ngrams          ? count_file_kind::ngrams
                                : kind == count_format::kind_pruned_ngrams ? count_file_kind::pruned_ngrams
                                                                           : count_file_kind::pieces);
}

inline void add_checked(std::uint64_t& total, std::uint64_t n, const std::string& output, const std::string& what) {
    if (n > UINT64_MAX - total)
        BYTEPIECE_THROW(train_error(errc::count_overflow, output + ": adding up " + what + " exceeds 2^64 - 1"));
    total += n;
}

inline std::string printable_key(std::string_view key) {
    std::string out = "\"";
    static const char hex[] = "0123456789abcdef";
    for (const char ch : key.substr(0, 40)) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') out += ch;
        else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    if (key.size() > 40) out += "...";
    return out + "\"";
}
}  // namespace detail

namespace detail {
// The merge of `merge_count_files`; with `prune`, the n-gram sum goes out as a pruned n-gram
// file of those counted at least `min_count` times, as `trainer::prune_ngrams` would write it
// from the merged file (the memory-bounded trainer merges its runs this way, never writing the
// whole sum).
inline void merge_counts(const std::vector<std::string>& inputs, const std::string& output,
                         const std::function<void(std::uint64_t done, std::uint64_t total)>& progress, bool prune,
                         std::uint64_t min_count, bool ensure_unicode) {
    if (inputs.empty()) BYTEPIECE_THROW(argument_error(errc::invalid_argument, "merge: no count files were given"));
    refuse_output_among_inputs(inputs, output, "merge");
    check_output_path(output);
    std::vector<std::unique_ptr<count_file_reader>> readers;
    readers.reserve(inputs.size());
    std::uint64_t total = 0;
    for (const auto& path : inputs) {
        readers.push_back(std::make_unique<count_file_reader>(path));
        total += readers.back()->size();
    }
    const count_header& first = readers.front()->header();
    if (first.kind == count_format::kind_pruned_ngrams)
        BYTEPIECE_THROW(train_error(errc::count_file_wrong_kind,
                                    inputs.front() + ": holds pruned n-gram counts, which are not merged; merge the n-gram counts, then prune the sum"));
    count_header sum = first;
    sum.input_bytes = 0;
    sum.positions = 0;
    std::fill(std::begin(sum.byte_counts), std::end(sum.byte_counts), std::uint64_t(0));
    auto mismatch = [&](std::size_t i, const std::string& what, const std::string& a, const std::string& b) {
        BYTEPIECE_THROW(train_error(errc::count_file_mismatch, inputs[i] + ": " + what + " " + b + ", but " + inputs.front() +
                                                                   " has " + a + "; only counts of the same options merge"));
    };
    for (std::size_t i = 0; i < readers.size(); ++i) {
        const count_header& h = readers[i]->header();
        if (h.kind != first.kind)
            BYTEPIECE_THROW(train_error(errc::count_file_wrong_kind, inputs[i] + ": holds " + count_kind_name(h.kind) + ", but " +
                                                                         inputs.front() + " holds " + count_kind_name(first.kind) +
                                                                         "; only files of one kind merge"));
        if (h.order != first.order) mismatch(i, "has order", std::to_string(first.order), std::to_string(h.order));
        if (h.isolate_digits != first.isolate_digits)
            mismatch(i, "has isolate digits", first.isolate_digits ? "on" : "off", h.isolate_digits ? "on" : "off");
        if (h.chunk_chars != first.chunk_chars)
            mismatch(i, "has chunk length", std::to_string(first.chunk_chars), std::to_string(h.chunk_chars));
        if (first.kind == count_format::kind_pieces) {
            if (h.ensure_unicode != first.ensure_unicode)
                mismatch(i, "has ensure unicode", first.ensure_unicode ? "on" : "off", h.ensure_unicode ? "on" : "off");
            if (h.min_count != first.min_count) mismatch(i, "has min count", std::to_string(first.min_count), std::to_string(h.min_count));
            if (h.model_checksum != first.model_checksum)
                BYTEPIECE_THROW(train_error(errc::count_file_mismatch,
                                            inputs[i] + ": its pieces were cut with another pruned n-gram model than those of " +
                                                inputs.front() + "; piece counts merge only when all shards used the same model"));
        }
        add_checked(sum.input_bytes, h.input_bytes, output, "the input bytes");
        add_checked(sum.positions, h.positions, output, "the positions");
        for (int b = 0; b < 256; ++b) add_checked(sum.byte_counts[b], h.byte_counts[b], output, "the byte counts");
    }

    if (prune) {
        sum.kind = count_format::kind_pruned_ngrams;
        sum.min_count = min_count;
        sum.ensure_unicode = ensure_unicode;
    }
    count_file_writer out(output, sum);
    std::vector<std::size_t> heap;
    heap.reserve(readers.size());
    auto later = [&](std::size_t a, std::size_t b) { return readers[a]->key() > readers[b]->key(); };
    std::string current;
    std::uint64_t records = 0;
    auto report = [&] {
        if (!progress) return;
        std::uint64_t done = 0;
        for (const auto& r : readers) done += r->offset();
        progress(std::min(done, total), total);
    };
    report();
    const std::size_t sections = readers.front()->sections();
    for (std::size_t s = 0; s < sections; ++s) {
        heap.clear();
        for (std::size_t i = 0; i < readers.size(); ++i)
            if (readers[i]->next()) heap.push_back(i);
        std::make_heap(heap.begin(), heap.end(), later);
        bool have = false;
        std::uint64_t count = 0;
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), later);
            const std::size_t i = heap.back();
            heap.pop_back();
            const std::string_view key = readers[i]->key();
            if (have && key == current) {
                if (readers[i]->count() > UINT64_MAX - count)
                    BYTEPIECE_THROW(train_error(errc::count_overflow, output + ": the count of " + printable_key(key) +
                                                                          " exceeds 2^64 - 1 when added up"));
                count += readers[i]->count();
            } else {
                if (have && (!prune || count >= min_count)) out.add(current, count);
                current.assign(key.data(), key.size());
                count = readers[i]->count();
                have = true;
            }
            if (readers[i]->next()) {
                heap.push_back(i);
                std::push_heap(heap.begin(), heap.end(), later);
            }
            if ((++records & 0xFFFFF) == 0) report();
        }
        if (have && (!prune || count >= min_count)) out.add(current, count);
        out.end_section();
    }
    for (auto& r : readers) r->finish();
    out.commit();
    if (progress) progress(total, total);
}
}  // namespace detail

/// Merges count files of one kind into one, adding up the counts: n-gram counts (pass 1) of
/// shards counted with the same `order` and `isolate_digits`, or piece counts (pass 2) of shards
/// cut with the same pruned n-gram model. A streaming k-way merge: memory holds one record per
/// input, never a whole file; the output is written to a temporary file and renamed into place.
/// The order of the inputs does not matter. Merges of merges are fine (a tree of reductions).
/// `progress(done, total)`, if given, is called now and then with the bytes of input read.
///
/// Throws what `read_count_file_info` throws for each input, and `train_error`:
/// `errc::count_file_wrong_kind` for a pruned n-gram file or inputs of different kinds,
/// `errc::count_file_mismatch` for inputs from other options or another pruned model (naming
/// both files and the option), `errc::count_overflow` if a sum exceeds 2^64 - 1;
/// `argument_error` if there is no input or the output is one of the inputs; `io_error` if the
/// output cannot be written.
///
/// Example: `bytepiece::merge_count_files({"a.ngrams", "b.ngrams"}, "all.ngrams");`
inline void merge_count_files(const std::vector<std::string>& inputs, const std::string& output,
                              const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {}) {
    detail::merge_counts(inputs, output, progress, false, 0, false);
}

BYTEPIECE_NAMESPACE_END
