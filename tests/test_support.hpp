// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the test programs: where the shared data is, and small builders.
#pragma once

#include <bytepiece/bytepiece.hpp>

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

/// The shared data folder given to CMake (BYTEPIECE_SHARED_DIR).
inline std::string shared_dir() { return BYTEPIECE_SHARED_DIR; }

inline bool file_exists(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f) std::fclose(f);
    return f != nullptr;
}

/// True if `path` (below the shared folder) exists; otherwise records a warning that says
/// which file is missing and why the test is skipped.
inline bool require_shared(const std::string& relative) {
    const std::string path = shared_dir() + "/" + relative;
    if (file_exists(path)) return true;
    WARN("skipped: " << path << " is absent (set the CMake cache variable BYTEPIECE_SHARED_DIR to the "
                                "folder that holds corpus/, models/ and golden/)");
    return false;
}

inline std::string shared_path(const std::string& relative) { return shared_dir() + "/" + relative; }

/// True when BYTEPIECE_TEST_FULL=1: the corpus-wide oracle checks then compare every line of
/// every corpus file (tens of minutes, the figures in the closing notes come from such runs).
/// By default they compare a fixed sample, so that the whole suite fits the CI's budget on two
/// cores; the sample spans every file and every source in it, and runs repeat exactly.
inline bool full_run() {
    const char* v = std::getenv("BYTEPIECE_TEST_FULL");
    return v && v[0] == '1' && v[1] == '\0';
}

/// The line stride of a corpus-wide check: 1 in a full run, `sample` otherwise.
inline std::size_t corpus_stride(std::size_t sample) { return full_run() ? 1 : sample; }

inline std::string read(const std::string& path) { return bytepiece::detail::read_file(path); }

/// `text` cut at every `sep` (n separators give n + 1 parts, empty ones included).
inline std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (std::size_t at; (at = text.find(sep, pos)) != std::string::npos; pos = at + 1) out.push_back(text.substr(pos, at - pos));
    out.push_back(text.substr(pos));
    return out;
}

/// A model with all 256 single bytes (count `byte_count`) plus the given pieces.
inline bytepiece::model make_model(const std::vector<std::pair<std::string, std::uint64_t>>& extra,
                                   std::uint64_t byte_count = 1) {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) {
        std::string p(1, static_cast<char>(b));
        bool overridden = false;
        for (const auto& e : extra) overridden |= e.first == p;
        if (!overridden) counts.emplace_back(p, byte_count);
    }
    counts.insert(counts.end(), extra.begin(), extra.end());
    return bytepiece::model::from_counts(counts);
}

/// `count` random pieces for a `make_model`, duplicates dropped: each 2 to 1 + `length_span`
/// bytes long, drawn from the `letters` letters from `first` on, with a count in 1..`max_count`.
inline std::vector<std::pair<std::string, std::uint64_t>> random_pieces(std::mt19937& rng, int count, unsigned length_span,
                                                                        char first, unsigned letters, unsigned max_count) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (int i = 0; i < count; ++i) {
        std::string p(2 + rng() % length_span, first);
        for (auto& c : p) c = static_cast<char>(first + static_cast<int>(rng() % letters));
        bool duplicate = false;
        for (const auto& e : out) duplicate |= e.first == p;
        if (!duplicate) out.emplace_back(p, 1 + rng() % max_count);
    }
    return out;
}

/// A unique scratch path in the build tree.
inline std::string scratch_path(const std::string& name) {
    return std::string(BYTEPIECE_BINARY_DIR) + "/tests/scratch_" + name;
}

inline void write(const std::string& path, const std::string& data) { bytepiece::detail::write_file_atomic(path, data); }

/// The exit status and standard output of a shell command line.
struct command_result {
    int status;
    std::string out;
};

/// Runs a shell command line and captures its standard output (append `2>&1` for stderr).
inline command_result run(const std::string& command) {
    command_result r{-1, {}};
    std::FILE* p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    const int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

/// Whether `text` is exactly one non-empty line ending in a newline: the CLI's error format.
inline bool is_one_line(const std::string& text) {
    return text.size() > 1 && text.find('\n') == text.size() - 1;
}

/// Path of the built `bytepiece` tool, or empty when tools are not built. The environment
/// variable BYTEPIECE_TEST_CLI names another build of it to test instead (an older one, to
/// show that a new test fails there).
inline std::string cli() {
    if (const char* other = std::getenv("BYTEPIECE_TEST_CLI"); other && *other) return other;
#ifdef BYTEPIECE_CLI_PATH
    return BYTEPIECE_CLI_PATH;
#else
    return "";
#endif
}

/// True when the tool is built; otherwise records why the calling test does nothing.
inline bool require_cli() {
    if (!cli().empty()) return true;
    WARN("skipped: the bytepiece tool is not built (BYTEPIECE_BUILD_TOOLS=OFF)");
    return false;
}

/// Whether the tests run as root, which mknod and mount need; otherwise records a warning
/// saying what is skipped.
inline bool require_root(const std::string& what) {
    if (::geteuid() == 0) return true;
    WARN("skipped: " << what << " needs root (mknod or mount)");
    return false;
}

/// A fresh empty folder below the build tree, removed with all it holds when destroyed, so
/// that devices, FIFOs and links a test makes never touch the system's own.
class scratch_folder {
public:
    explicit scratch_folder(const std::string& name) : path_(scratch_path(name + ".d")) {
        remove_all();
        REQUIRE(::mkdir(path_.c_str(), 0777) == 0);
    }
    ~scratch_folder() { remove_all(); }
    scratch_folder(const scratch_folder&) = delete;
    scratch_folder& operator=(const scratch_folder&) = delete;

    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

    /// The names it holds (hidden ones included), sorted.
    std::vector<std::string> names() const { return list(path_); }

    static std::vector<std::string> list(const std::string& dir) {
        std::vector<std::string> out;
        if (DIR* d = ::opendir(dir.c_str())) {
            while (const dirent* e = ::readdir(d)) {
                const std::string n = e->d_name;
                if (n != "." && n != "..") out.push_back(n);
            }
            ::closedir(d);
        }
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    void remove_all() {
        // Unmount first whatever a test mounted here, then delete without following links.
        const int ignored = std::system(("umount -q " + quote_path(path_) + "/* 2>/dev/null; rm -rf " + quote_path(path_)).c_str());
        (void)ignored;
    }
    static std::string quote_path(const std::string& s) { return "'" + s + "'"; }
    std::string path_;
};

/// The `stat` of a path without following a final symlink (`lstat`); `ok` false if absent.
struct file_status {
    bool ok = false;
    struct stat st {};
};
inline file_status status_of(const std::string& path) {
    file_status r;
    r.ok = ::lstat(path.c_str(), &r.st) == 0;
    return r;
}

/// A command run by the shell with pipes to its standard input and output, so that a test can
/// talk to it line by line as a co-process. Reads give up after a timeout, so a tool that
/// holds its answers back fails the test instead of hanging it.
class coprocess {
public:
    explicit coprocess(const std::string& command) {
        int in[2], out[2];
        REQUIRE(::pipe(in) == 0);
        REQUIRE(::pipe(out) == 0);
        // Not inherited by other commands a test starts: one holding the input's write end
        // would keep the tool from ever seeing its end. (dup2 below clears the flag on 0 and 1.)
        for (int fd : {in[0], in[1], out[0], out[1]}) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::close(in[0]);
            ::close(in[1]);
            ::close(out[0]);
            ::close(out[1]);
            ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        to_ = in[1];
        from_ = out[0];
    }
    ~coprocess() {
        close_input();
        if (from_ >= 0) ::close(from_);
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    coprocess(const coprocess&) = delete;
    coprocess& operator=(const coprocess&) = delete;

    /// Writes `text` to the command's standard input (the pipe stays open).
    bool send(const std::string& text) {
        // A tool that died must fail a check, not kill the test with SIGPIPE; ignored only
        // here, since an ignored signal would be inherited by every command run later.
        void (*old)(int) = ::signal(SIGPIPE, SIG_IGN);
        std::size_t done = 0;
        while (done < text.size()) {
            const ::ssize_t n = ::write(to_, text.data() + done, text.size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        ::signal(SIGPIPE, old);
        return done == text.size();
    }

    /// What the command wrote until `lines` newlines have come, the output ended, or
    /// `timeout_ms` passed.
    std::string receive_lines(std::size_t lines, int timeout_ms = 20000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        std::string got;
        while (static_cast<std::size_t>(std::count(got.begin(), got.end(), '\n')) < lines) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0) break;
            pollfd p{from_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
            char buf[4096];
            const ::ssize_t n = ::read(from_, buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got;
    }

    /// Closes the command's standard input: end of input for it.
    void close_input() {
        if (to_ >= 0) ::close(to_);
        to_ = -1;
    }

    /// Waits for the command to end (killing it after `timeout_ms`) and returns its exit
    /// status, -1 if it was killed.
    int wait(int timeout_ms = 20000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        int st = 0;
        for (;;) {
            const ::pid_t r = ::waitpid(pid_, &st, WNOHANG);
            if (r == pid_) break;
            if (r < 0 || std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &st, 0);
                pid_ = -1;
                return -1;
            }
            ::usleep(10000);
        }
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }

private:
    ::pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
};

/// Lines of whole characters spread evenly over the first MiB of a corpus file: at most `count`
/// of them, each cut at a character boundary to at most `max_bytes`, among the non-empty lines
/// `keep(line)` accepts. Prompts for properties that cut a text at every character.
template <class Keep>
std::vector<std::string> sample_corpus_lines(const std::string& file, std::size_t count, std::size_t max_bytes, Keep keep) {
    std::ifstream in(shared_path("corpus/" + file), std::ios::binary);
    std::string head(1 << 20, '\0');
    in.read(&head[0], static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0u) == 0x80u; };
    std::vector<std::string> lines;
    for (std::size_t start = 0, end; (end = head.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string line = head.substr(start, end - start);
        while (line.size() > max_bytes || (!line.empty() && continuation(line.back()))) line.pop_back();
        // A lead byte left alone at the end starts a character that was cut off.
        while (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0u) == 0xC0u) line.pop_back();
        if (!line.empty() && keep(line)) lines.push_back(line);
    }
    std::vector<std::string> out;
    const std::size_t stride = std::max<std::size_t>(1, lines.size() / count);
    for (std::size_t i = 0; i < lines.size() && out.size() < count; i += stride) out.push_back(lines[i]);
    return out;
}

/// The byte offsets at which a character of `s` starts, and `s.size()`.
inline std::vector<std::size_t> char_starts(const std::string& s) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || (static_cast<unsigned char>(s[i]) & 0xC0u) != 0x80u) out.push_back(i);
    return out;
}

/// Single-quotes a path for the shell (test paths never contain quotes).
inline std::string quote(const std::string& s) { return "'" + s + "'"; }

/// Regularized upper incomplete gamma Q(a, x), for chi-square p-values (Q(k/2, x/2)): the
/// power series of P below a + 1, Legendre's continued fraction (modified Lentz) above it.
inline double gamma_q(double a, double x) {
    if (x <= 0) return 1.0;
    const double log_prefix = -x + a * std::log(x) - std::lgamma(a);
    if (x < a + 1) {
        double term = 1.0 / a, sum = term;
        for (int n = 1; n < 1000000; ++n) {
            term *= x / (a + n);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return 1.0 - sum * std::exp(log_prefix);
    }
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 1000000; ++i) {
        const double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (std::abs(d) < tiny) d = tiny;
        c = b + an / c;
        if (std::abs(c) < tiny) c = tiny;
        d = 1 / d;
        const double delta = d * c;
        h *= delta;
        if (std::abs(delta - 1) < 1e-16) break;
    }
    return std::exp(log_prefix) * h;
}

}  // namespace test_support
