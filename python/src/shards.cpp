// SPDX-License-Identifier: Apache-2.0
// The steps of sharded training (include/bytepiece/train_counts.hpp) for bytepiece_cpp.shards
// and bytepiece_cpp.dask: plain paths in, count files out, each step a function that a worker
// process can run on its own. The options arrive already checked and normalized by shards.py;
// the C++ trainer checks their ranges again. Every step runs without the GIL, so that a Dask
// worker's other threads (its heartbeat among them) go on while it counts.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "bytepiece/train_counts.hpp"
#include "bytepiece/trainer.hpp"

namespace bytepiece_py {

namespace {

bytepiece::trainer_options make_options(std::size_t order, std::vector<std::size_t> max_vocab_size,
                                        std::size_t max_piece_length, std::uint64_t min_count, bool isolate_digits,
                                        bool ensure_unicode, unsigned threads, std::uint64_t memory_limit,
                                        std::string temp_dir) {
    bytepiece::trainer_options o;
    o.order = order;
    o.max_vocab_size = std::move(max_vocab_size);
    o.max_piece_length = max_piece_length;
    o.min_count = min_count;
    o.isolate_digits = isolate_digits;
    o.ensure_unicode = ensure_unicode;
    o.threads = threads;
    o.memory_limit = memory_limit;
    o.temp_dir = std::move(temp_dir);
    return o;
}

// The keyword arguments every step takes, in the order of make_options.
#define BYTEPIECE_PY_OPTION_ARGS                                                                                      \
    py::arg("order"), py::arg("max_vocab_size"), py::arg("max_piece_length"), py::arg("min_count"),                 \
        py::arg("isolate_digits"), py::arg("ensure_unicode"), py::arg("threads"), py::arg("memory_limit"),          \
        py::arg("temp_dir")

py::dict info_dict(const bytepiece::count_file_info& i) {
    py::dict d;
    d["kind"] = bytepiece::count_file_kind_name(i.kind);
    d["version"] = i.version;
    d["order"] = i.order;
    d["isolate_digits"] = i.isolate_digits;
    d["ensure_unicode"] = i.ensure_unicode;
    d["min_count"] = i.min_count;
    d["model_checksum"] = i.model_checksum;
    d["input_bytes"] = i.input_bytes;
    d["positions"] = i.positions;
    d["entries"] = i.entries;
    d["checksum"] = i.checksum;
    d["file_bytes"] = i.file_bytes;
    return d;
}

}  // namespace

void bind_shards(py::module_& m) {
    const auto release = py::call_guard<py::gil_scoped_release>();

    m.def(
        "_count_ngrams",
        [](const std::vector<std::string>& paths, const std::string& output, std::uint64_t part_index,
           std::uint64_t part_count, std::size_t order, std::vector<std::size_t> sizes, std::size_t max_piece_length,
           std::uint64_t min_count, bool isolate_digits, bool ensure_unicode, unsigned threads,
           std::uint64_t memory_limit, std::string temp_dir) {
            bytepiece::trainer t(make_options(order, std::move(sizes), max_piece_length, min_count, isolate_digits,
                                              ensure_unicode, threads, memory_limit, std::move(temp_dir)));
            t.count_ngrams(paths, output, bytepiece::file_part{part_index, part_count});
        },
        py::arg("paths"), py::arg("output"), py::arg("part_index"), py::arg("part_count"), BYTEPIECE_PY_OPTION_ARGS,
        release);

    m.def(
        "_merge_count_files",
        [](const std::vector<std::string>& inputs, const std::string& output) {
            bytepiece::merge_count_files(inputs, output);
        },
        py::arg("inputs"), py::arg("output"), release);

    m.def(
        "_prune_ngrams",
        [](const std::string& input, const std::string& output, std::size_t order, std::vector<std::size_t> sizes,
           std::size_t max_piece_length, std::uint64_t min_count, bool isolate_digits, bool ensure_unicode,
           unsigned threads, std::uint64_t memory_limit, std::string temp_dir) {
            bytepiece::trainer t(make_options(order, std::move(sizes), max_piece_length, min_count, isolate_digits,
                                              ensure_unicode, threads, memory_limit, std::move(temp_dir)));
            t.prune_ngrams(input, output);
        },
        py::arg("input"), py::arg("output"), BYTEPIECE_PY_OPTION_ARGS, release);

    m.def(
        "_count_pieces",
        [](const std::string& pruned, const std::vector<std::string>& paths, const std::string& output,
           std::uint64_t part_index, std::uint64_t part_count, std::size_t order, std::vector<std::size_t> sizes,
           std::size_t max_piece_length, std::uint64_t min_count, bool isolate_digits, bool ensure_unicode,
           unsigned threads, std::uint64_t memory_limit, std::string temp_dir) {
            bytepiece::trainer t(make_options(order, std::move(sizes), max_piece_length, min_count, isolate_digits,
                                              ensure_unicode, threads, memory_limit, std::move(temp_dir)));
            t.count_pieces(pruned, paths, output, bytepiece::file_part{part_index, part_count});
        },
        py::arg("pruned"), py::arg("paths"), py::arg("output"), py::arg("part_index"), py::arg("part_count"),
        BYTEPIECE_PY_OPTION_ARGS, release);

    // Both trainings end the same way: the models saved where `bytepiece train -o output` saves
    // them, the paths written and the shortfall explanations returned.
    m.def(
        "_train_from_counts",
        [](const std::string& pieces, const std::string& output, std::size_t order, std::vector<std::size_t> sizes,
           std::size_t max_piece_length, std::uint64_t min_count, bool isolate_digits, bool ensure_unicode,
           unsigned threads, std::uint64_t memory_limit, std::string temp_dir) {
            bytepiece::trainer t(make_options(order, std::move(sizes), max_piece_length, min_count, isolate_digits,
                                              ensure_unicode, threads, memory_limit, std::move(temp_dir)));
            t.check_output(output);
            t.train_from_counts(pieces);
            t.save(output);
            std::vector<std::string> notes;
            for (const auto& o : t.outcomes()) notes.push_back(o.explanation);
            return std::make_pair(t.output_paths(output), notes);
        },
        py::arg("pieces"), py::arg("output"), BYTEPIECE_PY_OPTION_ARGS, release);

    m.def(
        "_train_files",
        [](const std::vector<std::string>& paths, const std::string& output, std::size_t order,
           std::vector<std::size_t> sizes, std::size_t max_piece_length, std::uint64_t min_count, bool isolate_digits,
           bool ensure_unicode, unsigned threads, std::uint64_t memory_limit, std::string temp_dir) {
            bytepiece::trainer t(make_options(order, std::move(sizes), max_piece_length, min_count, isolate_digits,
                                              ensure_unicode, threads, memory_limit, std::move(temp_dir)));
            t.check_output(output);
            t.train_files(paths);
            t.save(output);
            std::vector<std::string> notes;
            for (const auto& o : t.outcomes()) notes.push_back(o.explanation);
            return std::make_pair(t.output_paths(output), notes);
        },
        py::arg("paths"), py::arg("output"), BYTEPIECE_PY_OPTION_ARGS, release);

    // What a training run checks before it starts: the options' ranges and the output's folder.
    m.def(
        "_check_train",
        [](const std::string& output, std::size_t order, std::vector<std::size_t> sizes, std::size_t max_piece_length,
           std::uint64_t min_count, bool isolate_digits, bool ensure_unicode, unsigned threads,
           std::uint64_t memory_limit, std::string temp_dir) {
            bytepiece::trainer t(make_options(order, std::move(sizes), max_piece_length, min_count, isolate_digits,
                                              ensure_unicode, threads, memory_limit, std::move(temp_dir)));
            t.check_output(output);
        },
        py::arg("output"), BYTEPIECE_PY_OPTION_ARGS, release);

    m.def(
        "_count_file_info",
        [](const std::string& path) {
            bytepiece::count_file_info i;
            {
                py::gil_scoped_release unlocked;
                i = bytepiece::read_count_file_info(path);
            }
            return info_dict(i);
        },
        py::arg("path"));
}

}  // namespace bytepiece_py
