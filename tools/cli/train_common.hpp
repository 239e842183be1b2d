// SPDX-License-Identifier: Apache-2.0
// What the training commands (`train` and the steps of sharded training) share: their options
// and their progress lines on stderr.
#pragma once

#include <bytepiece/detail/byte_size.hpp>
#include <bytepiece/trainer.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli.hpp"

namespace bytepiece_cli {

inline const char* phase_name(bytepiece::train_phase p) {
    switch (p) {
        case bytepiece::train_phase::count_ngrams: return "count n-grams";
        case bytepiece::train_phase::prune_ngrams: return "prune n-grams";
        case bytepiece::train_phase::count_pieces: return "segment";
        case bytepiece::train_phase::prune_pieces: return "prune pieces";
    }
    return "";
}

inline std::string human_bytes(double b) {
    char buf[32];
    if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
    else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
    else if (b >= 1e3) std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f B", b);
    return buf;
}

inline std::string human_seconds(double s) {
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
        std::string label = phase_name(p.phase);
        // Round 0 with a step: the merge of the runs a memory limit spilled (in bytes of runs).
        const bool merge = p.round == 0 && !p.step.empty();
        if (merge) label += " (" + std::string(p.step) + ")";
        else if (p.phase == bytepiece::train_phase::prune_pieces)
            label += " #" + std::to_string(p.round) + " (" + std::string(p.step) + ")";
        const bool bytes = merge || p.phase == bytepiece::train_phase::count_ngrams || p.phase == bytepiece::train_phase::count_pieces;
        update(label, p.done, p.total, bytes ? unit::bytes : p.phase == bytepiece::train_phase::prune_pieces ? unit::pieces : unit::none);
    }

    /// What the numbers of `update` count.
    enum class unit { none, bytes, pieces };

    /// One report of a phase named `label`: `done` of `total` (0: unknown) units.
    void update(const std::string& label, std::uint64_t done, std::uint64_t total, unit what) {
        using clock = std::chrono::steady_clock;
        const auto now = clock::now();
        if (label != label_) {
            end_line();
            label_ = label;
            start_ = now;
            shown_ = false;
        }
        const bool finished = total != 0 && done >= total;
        if (!finished && (!terminal_ || (shown_ && now - last_ < std::chrono::milliseconds(100)))) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
        std::string line = label_ + ": ";
        if (total) {
            const double frac = static_cast<double>(done) / static_cast<double>(total);
            const int width = 24, fill = static_cast<int>(frac * width + 0.5);
            line += "[" + std::string(static_cast<std::size_t>(fill), '#') + std::string(static_cast<std::size_t>(width - fill), '.') + "] ";
            char pct[16];
            std::snprintf(pct, sizeof pct, "%3d%% ", static_cast<int>(frac * 100 + 0.5));
            line += pct;
        }
        if (what == unit::bytes) {
            line += human_bytes(static_cast<double>(done));
            if (total) line += "/" + human_bytes(static_cast<double>(total));
            if (rate > 0) line += "  " + human_bytes(rate) + "/s";
        } else if (what == unit::pieces) {
            line += std::to_string(done) + "/" + std::to_string(total) + " pieces";
        }
        if (finished) {
            line += "  " + human_seconds(secs);
        } else if (total && rate > 0) {
            line += "  ETA " + human_seconds(static_cast<double>(total - done) / rate);
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

/// The options that shape a model, as every training command takes them: `--order`,
/// `--min-count`, `--max-piece-length`, `--isolate-digits`, `--no-ensure-unicode`, `--threads`,
/// and the progress flags. `given_min_count` says whether `--min-count` was given.
struct training_options {
    bytepiece::trainer_options options;
    bool given_min_count = false;
    bool show_progress = false;
    bool quiet = false;
};

/// `--memory LIMIT`: a number of bytes with an optional suffix K, M or G (powers of 1024,
/// upper or lower case, an optional trailing B), at least 1M: "256M", "1G", "1536k". Anything
/// else is a usage error that names the option and the text.
inline std::uint64_t parse_memory_size(const std::string& text) {
    std::uint64_t n = 0;
    if (const char* why = bytepiece::detail::parse_byte_size(text, n))
        throw usage_error("--memory: '" + text + "' " + why + " (give bytes with an optional K, M or G suffix, at least 1M, e.g. 256M or 2G)");
    return n;
}

inline training_options parse_training_options(arguments& args) {
    training_options t;
    bytepiece::trainer_options& o = t.options;
    const std::string order = args.value({"--order"}, "6");
    const std::string min_count = args.value({"--min-count"});
    const std::string max_piece_length = args.value({"--max-piece-length"}, "36");
    const std::string threads = args.value({"--threads", "-t"}, "1");
    o.isolate_digits = args.flag({"--isolate-digits"});
    o.ensure_unicode = !args.flag({"--no-ensure-unicode"});
    const bool force_progress = args.flag({"--progress"});
    t.quiet = args.flag({"-q", "--quiet"});
    const bool no_progress = args.flag({"--no-progress"}) || t.quiet;
    o.order = static_cast<std::size_t>(parse_integer(order, "--order", 1, bytepiece::trainer::max_order));
    t.given_min_count = !min_count.empty();
    o.min_count = static_cast<std::uint64_t>(parse_integer(t.given_min_count ? min_count : "2", "--min-count", 0, 1LL << 62));
    o.max_piece_length = static_cast<std::size_t>(parse_integer(max_piece_length, "--max-piece-length", 1, 1LL << 30));
    o.threads = static_cast<unsigned>(parse_integer(threads, "--threads", 0, 1024));
    t.show_progress = !no_progress && (force_progress || isatty(2));
    return t;
}

}  // namespace bytepiece_cli
