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

namespace bytepiece_cli {
namespace {

const char* phase_name(bytepiece::train_phase p) {
    switch (p) {
        case bytepiece::train_phase::count_ngrams: return "count n-grams";
        case bytepiece::train_phase::prune_ngrams: return "prune n-grams";
        case bytepiece::train_phase::count_pieces: return "segment";
        case bytepiece::train_phase::prune_pieces: return "prune pieces";
    }
    return "";
}

std::string human_bytes(double b) {
    char buf[32];
    if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
    else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
    else if (b >= 1e3) std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f B", b);
    return buf;
}

std::string human_seconds(double s) {
    char buf[32];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
    else if (s >= 60) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
    else std::snprintf(buf, sizeof buf, "%.1fs", s);
    return buf;
}

// One progress line per phase (and per pruning round) on stderr. On a terminal it is redrawn
// in place at most ten times a second; elsewhere only the finished line is written.
class progress_bar {
public:
    explicit progress_bar(bool terminal) : terminal_(terminal) {}
    ~progress_bar() { end_line(); }

    void operator()(const bytepiece::train_progress& p) {
        using clock = std::chrono::steady_clock;
        const auto now = clock::now();
        std::string label = phase_name(p.phase);
        if (p.phase == bytepiece::train_phase::prune_pieces)
            label += " #" + std::to_string(p.round) + " (" + std::string(p.step) + ")";
        if (label != label_) {
            end_line();
            label_ = label;
            start_ = now;
            shown_ = false;
        }
        const bool finished = p.total != 0 && p.done >= p.total;
        if (!finished && (!terminal_ || (shown_ && now - last_ < std::chrono::milliseconds(100)))) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        const bool bytes = p.phase == bytepiece::train_phase::count_ngrams || p.phase == bytepiece::train_phase::count_pieces;
        const double rate = secs > 0 ? static_cast<double>(p.done) / secs : 0;
        std::string line = label_ + ": ";
        if (p.total) {
            const double frac = static_cast<double>(p.done) / static_cast<double>(p.total);
            const int width = 24, fill = static_cast<int>(frac * width + 0.5);
            line += "[" + std::string(static_cast<std::size_t>(fill), '#') + std::string(static_cast<std::size_t>(width - fill), '.') + "] ";
            char pct[16];
            std::snprintf(pct, sizeof pct, "%3d%% ", static_cast<int>(frac * 100 + 0.5));
            line += pct;
        }
        if (bytes) {
            line += human_bytes(static_cast<double>(p.done));
            if (p.total) line += "/" + human_bytes(static_cast<double>(p.total));
            if (rate > 0) line += "  " + human_bytes(rate) + "/s";
        } else if (p.phase == bytepiece::train_phase::prune_pieces) {
            line += std::to_string(p.done) + "/" + std::to_string(p.total) + " pieces";
        }
        if (finished) {
            line += "  " + human_seconds(secs);
        } else if (p.total && rate > 0) {
            line += "  ETA " + human_seconds(static_cast<double>(p.total - p.done) / rate);
        }
        if (terminal_) {
            std::fprintf(stderr, "\r%s\033[K", line.c_str());
            shown_ = true;
            if (finished) end_line();
        } else if (finished) {
            std::fprintf(stderr, "%s\n", line.c_str());
            label_.clear();
        }
        std::fflush(stderr);
    }

private:
    void end_line() {
        if (terminal_ && shown_) std::fputc('\n', stderr);
        shown_ = false;
        if (terminal_) label_.clear();
    }

    bool terminal_;
    bool shown_ = false;
    std::string label_;
    std::chrono::steady_clock::time_point start_, last_;
};

int run_train(std::vector<std::string>& argv) {
    arguments args(argv);
    std::vector<std::string> inputs = args.values({"-i", "--input"});
    const std::string output = args.value({"-o", "--output"});
    const std::vector<std::string> sizes = args.values({"--vocab-size", "-v"});
    const std::string order = args.value({"--order"}, "6");
    const std::string min_count = args.value({"--min-count"}, "2");
    const std::string max_piece_length = args.value({"--max-piece-length"}, "36");
    const std::string threads = args.value({"--threads", "-t"}, "1");
    const bool isolate_digits = args.flag({"--isolate-digits"});
    const bool no_ensure_unicode = args.flag({"--no-ensure-unicode"});
    const bool force_progress = args.flag({"--progress"});
    const bool quiet = args.flag({"-q", "--quiet"});
    const bool no_progress = args.flag({"--no-progress"}) || quiet;
    for (auto& p : args.positional()) inputs.push_back(p);

    if (inputs.empty()) throw usage_error("missing -i FILE (the training text)");
    if (output.empty()) throw usage_error("missing -o MODEL (where to write the model)");
    if (sizes.empty()) throw usage_error("missing --vocab-size N");

    bytepiece::trainer_options o;
    o.max_vocab_size.clear();
    for (const auto& s : sizes)
        o.max_vocab_size.push_back(static_cast<std::size_t>(
            parse_integer(s, "--vocab-size", static_cast<long long>(bytepiece::trainer::min_vocab_size),
                          static_cast<long long>(bytepiece::trainer::max_vocab_size_limit))));
    o.order = static_cast<std::size_t>(parse_integer(order, "--order", 1, bytepiece::trainer::max_order));
    o.min_count = static_cast<std::uint64_t>(parse_integer(min_count, "--min-count", 0, 1LL << 62));
    o.max_piece_length = static_cast<std::size_t>(parse_integer(max_piece_length, "--max-piece-length", 1, 1LL << 30));
    o.threads = static_cast<unsigned>(parse_integer(threads, "--threads", 0, 1024));
    o.isolate_digits = isolate_digits;
    o.ensure_unicode = !no_ensure_unicode;

    const bool show = !no_progress && (force_progress || isatty(2));
    progress_bar bar(isatty(2) != 0);
    if (show) o.progress = [&bar](const bytepiece::train_progress& p) { bar(p); };

    bytepiece::trainer t(o);
    // Refuse before reading any input what would only fail at the end, after all the work.
    t.check_output(output);
    t.train_files(inputs);
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
        "usage: bytepiece train -i FILE [-i FILE...] -o MODEL --vocab-size N [--vocab-size M...] [options]\n\n"
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
        "options:\n"
        "  -i, --input FILE        training text (repeatable; plain arguments are inputs too; '-' is\n"
        "                          standard input)\n"
        "  -o, --output MODEL      model file to write (through a temporary file and a rename; with\n"
        "                          several sizes all files are written before any is renamed)\n"
        "  -v, --vocab-size N      vocabulary size, ids 0-2 included, at least 259 (repeatable)\n"
        "  --order N               n-gram order of the segmentation model, 1-32 (default 6)\n"
        "  --min-count N           least count of kept n-grams and pieces (default 2)\n"
        "  --max-piece-length N    longest piece in bytes (default 36)\n"
        "  --isolate-digits        every decimal digit (Unicode Nd) is a piece of its own\n"
        "  --no-ensure-unicode     allow pieces that start inside a UTF-8 character\n"
        "  -t, --threads N         worker threads, 0 = one per CPU (default 1); the model does not\n"
        "                          depend on it\n"
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
