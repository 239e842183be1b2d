// SPDX-License-Identifier: Apache-2.0
// `bytepiece train`: learn a BytePiece vocabulary from text files.
#include <bytepiece/trainer.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "train_common.hpp"

namespace bytepiece_cli {
namespace {

int run_train(std::vector<std::string>& argv) {
    arguments args(argv);
    std::vector<std::string> inputs = args.values({"-i", "--input"});
    const std::string output = args.value({"-o", "--output"});
    const std::vector<std::string> sizes = args.values({"--vocab-size", "-v"});
    const std::string from_counts = args.value({"--from-counts"});
    const std::string memory = args.value({"--memory"});
    const std::string temp_dir = args.value({"--temp-dir"});
    training_options parsed = parse_training_options(args);
    for (auto& p : args.positional()) inputs.push_back(p);

    if (!from_counts.empty() && !inputs.empty())
        throw usage_error("--from-counts PIECES takes the place of the input files; give one or the other");
    if (inputs.empty() && from_counts.empty()) throw usage_error("missing -i FILE (the training text)");
    // Silently ignored, they would promise what does not happen. (--memory with --from-counts
    // sizes the blocks its pruning splits pieces in.)
    if (!from_counts.empty() && !temp_dir.empty())
        throw usage_error("--temp-dir is where --memory writes the runs of the counting passes, which --from-counts skips; drop --temp-dir");
    if (!temp_dir.empty() && memory.empty())
        throw usage_error("--temp-dir is where --memory writes its runs; give --memory too, or drop --temp-dir");
    if (output.empty()) throw usage_error("missing -o MODEL (where to write the model)");
    if (sizes.empty()) throw usage_error("missing --vocab-size N");

    bytepiece::trainer_options& o = parsed.options;
    if (!memory.empty()) o.memory_limit = parse_memory_size(memory);
    o.temp_dir = temp_dir;
    o.max_vocab_size.clear();
    for (const auto& s : sizes)
        o.max_vocab_size.push_back(static_cast<std::size_t>(
            parse_integer(s, "--vocab-size", static_cast<long long>(bytepiece::trainer::min_vocab_size),
                          static_cast<long long>(bytepiece::trainer::max_vocab_size_limit))));
    // The piece counts record the min count their n-grams were pruned with; the pieces must be
    // pruned with the same one to give `train`'s model, so it is the default.
    if (!from_counts.empty() && !parsed.given_min_count) o.min_count = bytepiece::read_count_file_info(from_counts).min_count;
    const bool show = parsed.show_progress;
    const bool quiet = parsed.quiet;
    progress_bar bar(isatty(2) != 0);
    if (show) o.progress = [&bar](const bytepiece::train_progress& p) { bar(p); };

    bytepiece::trainer t(o);
    // Refuse before reading any input what would only fail at the end, after all the work.
    t.check_output(output);
    if (from_counts.empty()) t.train_files(inputs);
    else t.train_from_counts(from_counts);
    t.save(output);
    const auto paths = t.output_paths(output);
    if (show)
        for (std::size_t i = 0; i < paths.size(); ++i)
            std::fprintf(stderr, "wrote %s (%zu ids)\n", paths[i].c_str(), t.models()[i].vocab_size());
    // A smaller model than asked for is said even without progress: nothing else shows it.
    if (!quiet)
        for (std::size_t i = 0; i < paths.size(); ++i) {
            const bytepiece::vocab_outcome& r = t.outcomes()[i];
            if (r.reason == bytepiece::shortfall::none) continue;
            std::fprintf(stderr, "bytepiece train: %s: %s has %zu ids, not the %zu asked for: %s\n",
                         r.reason == bytepiece::shortfall::few_pieces ? "warning" : "note", paths[i].c_str(), r.produced,
                         r.requested, r.explanation.c_str());
        }
    return 0;
}

const registrar train_command("train", {
    "learn a BytePiece vocabulary from text files",
    std::string(
        "usage: bytepiece train -i FILE [-i FILE...] -o MODEL --vocab-size N [--vocab-size M...] [options]\n"
        "       bytepiece train --from-counts PIECES -o MODEL --vocab-size N [options]\n\n"
        "Trains a BytePiece model exactly as the reference Trainer does and writes it in BytePiece's\n"
        "JSON format. Each FILE is one text (streamed, never loaded whole); '-' is standard input.\n"
        "With several sizes, one model is written per size, to MODEL.N (the reference's naming).\n\n"
        "Training reads its input twice. A regular file is read again and must not change in between\n"
        "(same length and hash, or the training fails). Standard input, a pipe, a FIFO or <(zcat ...)\n"
        "cannot be read twice: it is copied to an unnamed temporary file in $TMPDIR (or /tmp) during\n"
        "the first pass, which takes as much disk space as that input until the second pass is done.\n\n"
        "A model can come out smaller than the size asked for: a line on stderr then says so and why\n"
        "(a 'warning' when the corpus has too few pieces that pass --min-count and --max-piece-length,\n"
        "a 'note' when the reference's pruning removed a few pieces after the cut).\n\n"
        "With --from-counts, the model is built from the merged piece counts of sharded training\n"
        "(see 'bytepiece count-ngrams --help') instead of from text: the same model, byte for byte,\n"
        "as training on the whole corpus with the same options. --min-count then defaults to the\n"
        "one the counts were made with, and must equal it.\n\n"
        "options:\n"
        "  -i, --input FILE        training text (repeatable; plain arguments are inputs too; '-' is\n"
        "                          standard input)\n"
        "  -o, --output MODEL      model file to write (through a temporary file and a rename; with\n"
        "                          several sizes all files are written before any is renamed)\n"
        "  --from-counts PIECES    build the model from a piece count file instead of text files\n"
        "  -v, --vocab-size N      vocabulary size, ids 0-2 included, at least 259 (repeatable)\n"
        "  --order N               n-gram order of the segmentation model, 1-32 (default 6)\n"
        "  --min-count N           least count of kept n-grams and pieces (default 2)\n"
        "  --max-piece-length N    longest piece in bytes (default 36)\n"
        "  --isolate-digits        every decimal digit (Unicode Nd) is a piece of its own\n"
        "  --no-ensure-unicode     allow pieces that start inside a UTF-8 character\n"
        "  -t, --threads N         worker threads, 0 = one per CPU (default 1); the model does not\n"
        "                          depend on it\n"
        "  --memory LIMIT          keep the count tables under LIMIT (K, M or G suffix, e.g. 256M):\n"
        "                          they are spilled to disk as sorted runs and merged; the same\n"
        "                          model; pass 2's n-gram model counts against LIMIT, its build\n"
        "                          and the pieces the final pruning keeps come on top\n"
        "                          (see docs/memory_limit.md); with --from-counts, the pruning\n"
        "                          splits rare pieces in blocks of LIMIT/8 (default 64M)\n"
        "  --temp-dir DIR          where --memory writes its runs (default $TMPDIR, else /tmp);\n"
        "                          removed at the end\n"
        "  --progress              show progress on stderr even when it is not a terminal\n"
        "  --no-progress           never show progress\n"
        "  -q, --quiet             never show progress, nor the line about a smaller model\n"
        "  -h, --help              this text\n\n"
        "Errors (missing or unreadable file, a file that changed between the passes, empty corpus,\n"
        "bad option, an output that cannot be written, threads that cannot be started) are one line\n"
        "on stderr and exit status 2; no model file is left behind. The output is checked before the\n"
        "input is read.\n"),
    [](std::vector<std::string>& a) { return run_train(a); }});

}  // namespace
}  // namespace bytepiece_cli
