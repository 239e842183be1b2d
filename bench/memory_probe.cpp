// SPDX-License-Identifier: Apache-2.0
// bytepiece_memory_probe: resident memory of a loaded model, ours beside SentencePiece's.
//
// Each load runs in a fresh process (this program re-executed with --child), so the numbers
// are not blurred by whatever an earlier load left in the allocator. The child reads its RSS
// from /proc/self/statm before and after the load, again after malloc_trim (what the loaded
// object really keeps, without the parser's freed scratch that glibc still holds), and the
// peak from VmHWM (reset just before the load through /proc/self/clear_refs).
//
// usage: bytepiece_memory_probe [BYTEPIECE_MODEL [SENTENCEPIECE_MODEL]]
//        (default: the shared folder's bytepiece.eu.plus.160k.model and its .sp.model; the
//        BytePiece model may be JSON or binary)
#include <bytepiece/bytepiece.hpp>

#include <malloc.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#if BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace {

struct sample {
    double before = 0, after = 0, trimmed = 0, peak = 0;  // MiB
    bool ok = false;
};

double page_mib() { return static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0); }

double rss_mib() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return static_cast<double>(resident) * page_mib();
}

double hwm_mib() {
    std::ifstream f("/proc/self/status");
    std::string key;
    while (f >> key) {
        if (key == "VmHWM:") {
            double kib = 0;
            f >> kib;
            return kib / 1024.0;
        }
        std::getline(f, key);
    }
    return 0;
}

void reset_peak() {
    std::ofstream f("/proc/self/clear_refs");
    f << "5";  // "5" resets VmHWM to the current RSS (Linux 4.0 and later)
}

// The child: load one model, report, exit. The loaded object encodes a line before the last
// reading so that nothing lazily built is missed.
int child(const std::string& kind, const std::string& path) {
    sample s;
    reset_peak();
    s.before = rss_mib();
    std::size_t ids = 0;
    if (kind == "bytepiece") {
        try {
            const auto tok = bytepiece::tokenizer::load(path);
            s.after = rss_mib();
            ids = tok.encode("Hello, world! The quick brown fox.\n").size();
            malloc_trim(0);
            s.trimmed = rss_mib();
            s.peak = hwm_mib();
            s.ok = ids > 0;
        } catch (const bytepiece::error& e) {
            std::fprintf(stderr, "bytepiece_memory_probe: %s\n", e.what());
        }
#if BYTEPIECE_HAVE_SENTENCEPIECE
    } else if (kind == "sentencepiece") {
        sentencepiece::SentencePieceProcessor sp;
        s.ok = sp.Load(path).ok();
        s.after = rss_mib();
        std::vector<int> v;
        sp.Encode("Hello, world! The quick brown fox.\n", &v).IgnoreError();
        ids = v.size();
        malloc_trim(0);
        s.trimmed = rss_mib();
        s.peak = hwm_mib();
        s.ok = s.ok && ids > 0;
#endif
    } else {
        return 2;
    }
    std::printf("%d %.2f %.2f %.2f %.2f\n", s.ok ? 1 : 0, s.before, s.after, s.trimmed, s.peak);
    return s.ok ? 0 : 1;
}

std::string self_path() {
    char buf[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    return std::string(buf, static_cast<std::size_t>(n));
}

sample measure(const std::string& kind, const std::string& path) {
    sample s;
    const std::string cmd = "'" + self_path() + "' --child " + kind + " '" + path + "'";
    std::FILE* p = popen(cmd.c_str(), "r");
    if (!p) return s;
    int ok = 0;
    if (std::fscanf(p, "%d %lf %lf %lf %lf", &ok, &s.before, &s.after, &s.trimmed, &s.peak) == 5) s.ok = ok == 1;
    pclose(p);
    return s;
}

void print_row(const char* name, const std::string& path, const sample& s) {
    if (!s.ok) {
        std::printf("%-14s %-9s (failed to load %s)\n", name, "", path.c_str());
        return;
    }
    std::printf("%-14s %12.1f %14.1f %12.1f   %s\n", name, s.trimmed - s.before, s.after - s.before, s.peak - s.before,
                path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::string(argv[1]) == "--child") return child(argv[2], argv[3]);
    if (argc > 1 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
        std::printf("usage: bytepiece_memory_probe [BYTEPIECE_MODEL [SENTENCEPIECE_MODEL]]\n"
                    "  BYTEPIECE_MODEL: JSON or binary (default: the shared folder's bytepiece.eu.plus.160k.model)\n"
                    "  SENTENCEPIECE_MODEL: default BYTEPIECE_MODEL with .model replaced by .sp.model\n");
        return 0;
    }
    std::string shared = BYTEPIECE_SHARED_DIR;
    if (const char* env = std::getenv("BYTEPIECE_SHARED_DIR"); env && *env) shared = env;
    const std::string ours = argc > 1 ? argv[1] : shared + "/models/bytepiece.eu.plus.160k.model";
    std::string theirs = argc > 2 ? argv[2] : ours;
    const std::string suffix = ".model";
    if (argc <= 2) {
        const bool json_name = theirs.size() > suffix.size() && theirs.compare(theirs.size() - suffix.size(), suffix.size(), suffix) == 0;
        theirs = json_name ? theirs.insert(theirs.size() - suffix.size(), ".sp") : std::string();
    }

    std::printf("resident memory of one loaded model, MiB above a fresh process's baseline\n");
    std::printf("%-14s %12s %14s %12s   %s\n", "", "kept", "before trim", "peak", "model file");
    print_row("bytepiece", ours, measure("bytepiece", ours));
#if BYTEPIECE_HAVE_SENTENCEPIECE
    if (theirs.empty()) std::printf("sentencepiece  (no model: give its path as the second argument)\n");
    else print_row("sentencepiece", theirs, measure("sentencepiece", theirs));
#else
    std::printf("sentencepiece  (not built in: install libsentencepiece-dev)\n");
#endif
    std::printf("kept: after malloc_trim(0); before trim: right after the load; peak: VmHWM during the load\n");
    return 0;
}
