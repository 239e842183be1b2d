// SPDX-License-Identifier: Apache-2.0
// The steps of sharded training: `bytepiece count-ngrams`, `merge`, `prune-ngrams` and
// `count-pieces`; `bytepiece train --from-counts` is the last one (cmd_train.cpp).
#include <bytepiece/train_counts.hpp>
#include <bytepiece/trainer.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "train_common.hpp"

namespace bytepiece_cli {
namespace {

// "K/N" for --part: part K (from 0) of N.
bytepiece::file_part parse_part(const std::string& text) {
    if (text.empty()) return {};
    const auto slash = text.find('/');
    if (slash == std::string::npos) throw usage_error("--part wants K/N (part K of N, K from 0), got '" + text + "'");
    bytepiece::file_part part;
    part.count = static_cast<std::uint64_t>(
        parse_integer(text.substr(slash + 1), "--part (N)", 1, static_cast<long long>(bytepiece::max_file_parts)));
    part.index = static_cast<std::uint64_t>(parse_integer(text.substr(0, slash), "--part (K)", 0, static_cast<long long>(part.count) - 1));
    return part;
}

struct step_arguments {
    std::vector<std::string> inputs;
    std::string output;
    training_options training;
};

step_arguments parse_step(std::vector<std::string>& argv, bool want_part, bytepiece::file_part* part, std::string* model) {
    arguments args(argv);
    step_arguments s;
    s.inputs = args.values({"-i", "--input"});
    s.output = args.value({"-o", "--output"});
    const std::string part_text = want_part ? args.value({"--part"}) : std::string();
    if (model) *model = args.value({"-m", "--model"});
    s.training = parse_training_options(args);
    for (auto& p : args.positional()) s.inputs.push_back(p);
    if (s.inputs.empty()) throw usage_error("missing -i FILE (the input)");
    if (s.output.empty()) throw usage_error("missing -o FILE (where to write the counts)");
    if (part) *part = parse_part(part_text);
    return s;
}

void say_wrote(const step_arguments& s) {
    if (!s.training.show_progress || s.output == "-") return;
    const auto info = bytepiece::read_count_file_info(s.output);
    std::fprintf(stderr, "wrote %s (%s: %llu entries, %s)\n", s.output.c_str(), bytepiece::count_file_kind_name(info.kind).c_str(),
                 static_cast<unsigned long long>(info.entries), human_bytes(static_cast<double>(info.file_bytes)).c_str());
}

int run_count_ngrams(std::vector<std::string>& argv) {
    bytepiece::file_part part;
    step_arguments s = parse_step(argv, true, &part, nullptr);
    progress_bar bar(isatty(2) != 0);
    if (s.training.show_progress) s.training.options.progress = [&bar](const bytepiece::train_progress& p) { bar(p); };
    bytepiece::trainer t(s.training.options);
    t.count_ngrams(s.inputs, s.output, part);
    say_wrote(s);
    return 0;
}

int run_prune_ngrams(std::vector<std::string>& argv) {
    step_arguments s = parse_step(argv, false, nullptr, nullptr);
    if (s.inputs.size() != 1) throw usage_error("prune-ngrams takes one n-gram count file (merge them first)");
    progress_bar bar(isatty(2) != 0);
    if (s.training.show_progress) s.training.options.progress = [&bar](const bytepiece::train_progress& p) { bar(p); };
    bytepiece::trainer t(s.training.options);
    t.prune_ngrams(s.inputs.front(), s.output);
    say_wrote(s);
    return 0;
}

int run_count_pieces(std::vector<std::string>& argv) {
    bytepiece::file_part part;
    std::string model;
    step_arguments s = parse_step(argv, true, &part, &model);
    if (model.empty()) throw usage_error("missing -m PRUNED (the pruned n-gram file from prune-ngrams)");
    progress_bar bar(isatty(2) != 0);
    if (s.training.show_progress) s.training.options.progress = [&bar](const bytepiece::train_progress& p) { bar(p); };
    bytepiece::trainer t(s.training.options);
    t.count_pieces(model, s.inputs, s.output, part);
    say_wrote(s);
    return 0;
}

int run_merge(std::vector<std::string>& argv) {
    arguments args(argv);
    std::vector<std::string> inputs = args.values({"-i", "--input"});
    const std::string output = args.value({"-o", "--output"});
    const bool force_progress = args.flag({"--progress"});
    const bool quiet = args.flag({"-q", "--quiet"});
    const bool no_progress = args.flag({"--no-progress"}) || quiet;
    for (auto& p : args.positional()) inputs.push_back(p);
    if (inputs.empty()) throw usage_error("missing count files to merge");
    if (output.empty()) throw usage_error("missing -o FILE (where to write the sum)");
    const bool show = !no_progress && (force_progress || isatty(2));
    progress_bar bar(isatty(2) != 0);
    std::function<void(std::uint64_t, std::uint64_t)> progress;
    if (show) progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.update("merge", done, total, progress_bar::unit::bytes); };
    bytepiece::merge_count_files(inputs, output, progress);
    if (show && output != "-") {
        const auto info = bytepiece::read_count_file_info(output);
        std::fprintf(stderr, "wrote %s (%s: %llu entries, %s)\n", output.c_str(), bytepiece::count_file_kind_name(info.kind).c_str(),
                     static_cast<unsigned long long>(info.entries), human_bytes(static_cast<double>(info.file_bytes)).c_str());
    }
    return 0;
}

const char* const shared_options =
    "  --order N               n-gram order, 1-32 (default 6)\n"
    "  --min-count N           least count of kept n-grams and pieces (default 2)\n"
    "  --isolate-digits        every decimal digit (Unicode Nd) is a piece of its own\n"
    "  --no-ensure-unicode     allow pieces that start inside a UTF-8 character\n"
    "  --max-piece-length N    accepted for symmetry with train; used only by train\n"
    "  -t, --threads N         worker threads, 0 = one per CPU (default 1); the counts do not\n"
    "                          depend on it\n"
    "  --progress              show progress on stderr even when it is not a terminal\n"
    "  --no-progress, -q       never show progress\n"
    "  -h, --help              this text\n\n";

const char* const pipeline =
    "Sharded training, on one machine or many (each step may run anywhere the files are):\n\n"
    "  bytepiece count-ngrams -i corpus.txt --part K/N -o K.ngrams   # for K = 0..N-1, anywhere\n"
    "  bytepiece merge -o all.ngrams 0.ngrams 1.ngrams ...            # in any order, or in a tree\n"
    "  bytepiece prune-ngrams -i all.ngrams -o all.pruned             # small: send it to every shard\n"
    "  bytepiece count-pieces -m all.pruned -i corpus.txt --part K/N -o K.pieces\n"
    "  bytepiece merge -o all.pieces 0.pieces 1.pieces ...\n"
    "  bytepiece train --from-counts all.pieces -o my.model --vocab-size 40000\n\n"
    "The model is byte for byte the one 'bytepiece train -i corpus.txt' writes with the same\n"
    "options, however the corpus is split: into files (each a text, as in train) or into parts of\n"
    "a file (--part K/N: the bytes from the first end of a run of newlines at or after K/N of the\n"
    "file to the first at or after (K+1)/N, so the parts cover the file exactly; a file without\n"
    "newlines is all in part 0). Give every step the same --order, --isolate-digits, --min-count\n"
    "and --no-ensure-unicode; the count files record them and a step refuses files made with other\n"
    "ones. The count files are versioned and checksummed (docs/count_files.md); a truncated,\n"
    "damaged or foreign file is refused with a one-line error naming it and the byte offset.\n\n";

const char* const errors_text =
    "Errors (unreadable or damaged files, files from other options, an output that is one of the\n"
    "inputs) are one line on stderr and exit status 2; the output is written through a temporary\n"
    "file and a rename, so it is never left half written.\n";

const registrar count_ngrams_command("count-ngrams", {
    "sharded training, step 1: count the n-grams of text files",
    std::string("usage: bytepiece count-ngrams -i FILE [-i FILE...] -o NGRAMS [--part K/N] [options]\n\n"
                "Counts the n-grams of the text files (each a text; '-' is standard input) as the first pass\n"
                "of 'bytepiece train' does, and writes them to NGRAMS, an n-gram count file to merge with\n"
                "those of the other shards. Reads its input once.\n\n") +
        pipeline +
        "options:\n"
        "  -i, --input FILE        text file (repeatable; plain arguments are inputs too)\n"
        "  -o, --output NGRAMS     n-gram count file to write\n"
        "  --part K/N              count only part K (0 to N-1) of N of each file (regular files)\n" +
        shared_options + errors_text,
    [](std::vector<std::string>& a) { return run_count_ngrams(a); }});

const registrar merge_command("merge", {
    "sharded training: add up count files (n-grams or pieces)",
    std::string("usage: bytepiece merge -o OUT COUNTS COUNTS...\n\n"
                "Adds up n-gram count files (from count-ngrams) or piece count files (from count-pieces)\n"
                "into OUT. A streaming merge: memory holds one record per input, never a whole file. The\n"
                "order of the inputs does not matter, and merged files merge again (a tree of reductions).\n"
                "Files from other options, or piece counts cut with another pruned model, are refused.\n\n"
                "options:\n"
                "  -i, --input COUNTS      count file (repeatable; plain arguments are inputs too)\n"
                "  -o, --output OUT        count file to write (not one of the inputs)\n"
                "  --progress              show progress on stderr even when it is not a terminal\n"
                "  --no-progress, -q       never show progress\n"
                "  -h, --help              this text\n\n") +
        errors_text,
    [](std::vector<std::string>& a) { return run_merge(a); }});

const registrar prune_ngrams_command("prune-ngrams", {
    "sharded training, step 2: keep the n-grams pass 2 needs",
    std::string("usage: bytepiece prune-ngrams -i NGRAMS -o PRUNED [options]\n\n"
                "Keeps the n-grams of a merged n-gram count file counted at least --min-count times: the\n"
                "n-gram model the second pass of training cuts text with. PRUNED is usually a small part of\n"
                "NGRAMS; send it to every shard for count-pieces.\n\n") +
        "options:\n"
        "  -i, --input NGRAMS      merged n-gram count file\n"
        "  -o, --output PRUNED     pruned n-gram file to write\n" +
        shared_options + errors_text,
    [](std::vector<std::string>& a) { return run_prune_ngrams(a); }});

const registrar count_pieces_command("count-pieces", {
    "sharded training, step 3: count the pieces of text files",
    std::string("usage: bytepiece count-pieces -m PRUNED -i FILE [-i FILE...] -o PIECES [--part K/N] [options]\n\n"
                "Cuts the text files into pieces with the pruned n-gram model, as the second pass of\n"
                "'bytepiece train' does, and writes the piece counts to PIECES, to merge with those of the\n"
                "other shards and give to 'bytepiece train --from-counts'. Reads its input once.\n\n"
                "options:\n"
                "  -m, --model PRUNED      pruned n-gram file (from prune-ngrams)\n"
                "  -i, --input FILE        text file (repeatable; plain arguments are inputs too)\n"
                "  -o, --output PIECES     piece count file to write\n"
                "  --part K/N              count only part K (0 to N-1) of N of each file (regular files)\n") +
        shared_options + errors_text,
    [](std::vector<std::string>& a) { return run_count_pieces(a); }});

}  // namespace
}  // namespace bytepiece_cli
