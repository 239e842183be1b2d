// SPDX-License-Identifier: Apache-2.0
// bytepiece_stream_ratio: time of the stream encoder against one-shot encode of the same text in
// the same process, on inputs built to be hostile to streaming (issue 16): long pieces, long
// runs of one byte, periodic text.
//
// usage: bytepiece_stream_ratio CASE [--model MODEL] [--text FILE] [--reps N]
//   CASE is one of
//     long-piece   the 256 bytes plus one 64 KiB piece; a 300 KB line holding copies of it
//     run          the 256 bytes plus a piece of 65,536 'a'; 2 MB of 'a'
//     trained      MODEL, a model with very long pieces (scripts/bench_stream.sh trains one
//                  with --max-piece-length 1000000); a 1 MB line of FILE, its training text,
//                  with newlines made spaces
//     ab           MODEL (default: the shared bytepiece.eu.plus.40k.model); 10 MB of "ab"
//     newlines     MODEL (default as for ab); 20 MB of "\n"
//     text, line   ordinary text for comparison: MODEL (default as for ab) on the first 10 MB
//                  of FILE (default: the shared corpus/mixed.txt), as it is and as one line
// --only stream|oneshot runs just one side (for a profiler).
//
// The stream is fed in blocks of 1 MiB through feed_chunks, as `bytepiece encode` feeds it,
// and its ids are compared with one-shot encode's (by a hash, so that no id vector inflates the
// memory figure). Times are the thread's CPU time (user and system): warm, the best of N runs
// (default 3) alternating in this process; cold, one run of each in a fresh process. The
// memory figures are the growth of the peak resident size during the cold runs: what the
// encoder holds, and what encode's scratch space takes for the whole text.
//
// Output: one line, `case bytes oneshot_s stream_s ratio oneshot_cold_s stream_cold_s
// cold_ratio forced_cuts same_ids stream_peak_mib oneshot_peak_mib`.
#include <bytepiece/bytepiece.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

double status_mib(const char* key) {
    std::ifstream f("/proc/self/status");
    std::string k;
    while (f >> k) {
        if (k == key) {
            double kib = 0;
            f >> kib;
            return kib / 1024.0;
        }
        std::getline(f, k);
    }
    return 0;
}

void reset_peak() {
    std::ofstream f("/proc/self/clear_refs");
    f << "5";
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// CPU time of this thread (user and system, page faults included): on a machine shared with
// other jobs it varies far less than wall time, which also counts the time the thread waits.
struct timing {
    double best = 1e300, first = -1;
    template <class F>
    void run(F&& f) {
        const double t0 = thread_cpu_seconds();
        f();
        const double t = thread_cpu_seconds() - t0;
        if (first < 0) first = t;
        best = std::min(best, t);
    }
};

// FNV-1a over the ids, with the count: enough to tell two id sequences apart here.
struct id_hash {
    std::uint64_t h = 14695981039346656037ull;
    std::uint64_t n = 0;
    void add(const std::uint32_t* ids, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) h = (h ^ ids[i]) * 1099511628211ull;
        n += count;
    }
    bool operator==(const id_hash& o) const { return h == o.h && n == o.n; }
};

bytepiece::model bytes_plus(const std::vector<std::pair<std::string, std::uint64_t>>& extra) {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), 1);
    counts.insert(counts.end(), extra.begin(), extra.end());
    return bytepiece::model::from_counts(counts);
}

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "bytepiece_stream_ratio: %s\nusage: bytepiece_stream_ratio long-piece|run|trained|ab|newlines|text|line "
                 "[--model MODEL] [--text FILE] [--reps N] [--only stream|oneshot]\n",
                 why.c_str());
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("missing CASE");
    const std::string name = argv[1];
    std::string model_path, text_path, only;
    int reps = 3;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage("missing value after " + a);
        if (a == "--model") model_path = argv[++i];
        else if (a == "--text") text_path = argv[++i];
        else if (a == "--reps") reps = std::atoi(argv[++i]);
        else if (a == "--only") only = argv[++i];
        else usage("unknown option " + a);
    }
    if (reps < 1) usage("--reps must be at least 1");
    const std::string eu = std::string(BYTEPIECE_SHARED_DIR) + "/models/bytepiece.eu.plus.40k.model";

    std::mt19937_64 g(16);
    auto letters = [&](std::size_t n) {
        std::string s(n, 'a');
        for (auto& c : s) c = static_cast<char>('a' + g() % 26);
        return s;
    };
    std::optional<bytepiece::tokenizer> tok;
    std::string text;
    if (name == "long-piece") {
        const std::string piece = letters(65536);
        tok.emplace(bytes_plus({{piece, 5}}));
        while (text.size() < 300000) text += letters(g() % 20000) + piece;
        text.resize(300000);
    } else if (name == "run") {
        tok.emplace(bytes_plus({{std::string(65536, 'a'), 1}}));
        text.assign(2000000, 'a');
    } else if (name == "trained") {
        if (model_path.empty() || text_path.empty()) usage("trained needs --model and --text");
        tok.emplace(bytepiece::tokenizer::load(model_path));
        text = bytepiece::detail::read_file(text_path);
        text.resize(std::min<std::size_t>(text.size(), 1000000));
        std::replace(text.begin(), text.end(), '\n', ' ');
    } else if (name == "text" || name == "line") {
        tok.emplace(bytepiece::tokenizer::load(model_path.empty() ? eu : model_path));
        text = bytepiece::detail::read_file(text_path.empty() ? std::string(BYTEPIECE_SHARED_DIR) + "/corpus/mixed.txt"
                                                              : text_path);
        text.resize(std::min<std::size_t>(text.size(), 10000000));
        if (name == "line") std::replace(text.begin(), text.end(), '\n', ' ');
    } else if (name == "ab" || name == "newlines") {
        tok.emplace(bytepiece::tokenizer::load(model_path.empty() ? eu : model_path));
        if (name == "ab") {
            for (int i = 0; i < 5000000; ++i) text += "ab";
        } else {
            text.assign(20000000, '\n');
        }
    } else {
        usage("unknown case " + name);
    }

    auto stream_once = [&](bytepiece::stream_encoder& enc, id_hash& h) {
        auto sink = [&](const std::uint32_t* ids, std::size_t n, bool) { h.add(ids, n); };
        constexpr std::size_t block = std::size_t{1} << 20;
        for (std::size_t i = 0; i < text.size(); i += block) enc.feed_chunks(std::string_view(text).substr(i, block), sink);
        enc.finish_chunks(sink);
    };

    // Cold: one run of each side in a fresh process of its own (a fork of this one, which has
    // run neither), as `bytepiece encode` runs once per process; the stream's child also
    // measures the growth of its peak resident size, the encoder's own memory.
    struct cold_result {
        double cpu = 0, peak_mib = 0;
        unsigned long long forced = 0;
    };
    auto cold = [&](bool stream) {
        int fd[2];
        cold_result r;
        if (pipe(fd) != 0) return r;
        const pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            cold_result c;
            const double rss0 = status_mib("VmRSS:");
            reset_peak();
            timing t;
            if (stream) {
                bytepiece::stream_encoder enc(*tok);
                id_hash h;
                t.run([&] { stream_once(enc, h); });
                c.forced = enc.forced_cuts();
            } else {
                std::vector<std::uint32_t> ids;
                t.run([&] { tok->encode(text, ids); });
            }
            c.peak_mib = status_mib("VmHWM:") - rss0;
            c.cpu = t.best;
            if (write(fd[1], &c, sizeof c) != static_cast<ssize_t>(sizeof c)) _exit(1);
            _exit(0);
        }
        close(fd[1]);
        if (pid > 0) {
            if (read(fd[0], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) r = cold_result{};
            waitpid(pid, nullptr, 0);
        }
        close(fd[0]);
        return r;
    };
    const cold_result stream_cold = only == "oneshot" ? cold_result{} : cold(true);
    const cold_result oneshot_cold = only == "stream" ? cold_result{} : cold(false);

    // Warm: one encoder for every run, as `bytepiece encode` keeps one for all its files (and
    // as encode keeps its scratch space per thread); stream and one-shot runs alternate, so
    // that a burst of load on the machine hits both.
    bytepiece::stream_encoder enc(*tok);
    timing stream_t, oneshot_t;
    id_hash streamed, whole;
    for (int r = 0; r < reps; ++r) {
        id_hash h;
        if (only != "oneshot") stream_t.run([&] { stream_once(enc, h); });
        streamed = h;
        std::vector<std::uint32_t> ids;
        if (only != "stream") oneshot_t.run([&] { tok->encode(text, ids); });
        whole = id_hash{};
        whole.add(ids.data(), ids.size());
    }
    std::printf("%-10s %9zu %9.4f %9.4f %6.2f %9.4f %9.4f %6.2f %6llu %4s %8.1f %8.1f\n", name.c_str(), text.size(),
                oneshot_t.best, stream_t.best, stream_t.best / oneshot_t.best, oneshot_cold.cpu, stream_cold.cpu,
                stream_cold.cpu / oneshot_cold.cpu, stream_cold.forced, streamed == whole ? "yes" : "no",
                stream_cold.peak_mib, oneshot_cold.peak_mib);
    return 0;
}
