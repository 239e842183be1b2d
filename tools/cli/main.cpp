// SPDX-License-Identifier: Apache-2.0
// Entry point of the `bytepiece` tool: dispatches to the registered subcommands and turns
// every failure into one line on stderr and exit status 2.
#include <bytepiece/errors.hpp>
#include <bytepiece/version.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.hpp"

namespace bytepiece_cli {

long long parse_integer(const std::string& text, const std::string& option, long long lo, long long hi) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        throw usage_error(option + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                          ", got '" + text + "'");
    return v;
}

double parse_double(const std::string& text, const std::string& option) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v))
        throw usage_error(option + " must be a finite number, got '" + text + "'");
    return v;
}

input_file::input_file(const std::string& name) : name_(name) {
    if (name == "-") {
        fd_ = 0;
    } else {
        do fd_ = ::open(name.c_str(), O_RDONLY | O_CLOEXEC); while (fd_ < 0 && errno == EINTR);
        if (fd_ < 0) throw failure(name + ": cannot open: " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        const int e = errno;
        if (name != "-") ::close(fd_);
        throw failure((name == "-" ? std::string("standard input") : name) + ": cannot read: " + std::strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        if (name != "-") ::close(fd_);
        throw failure(name + ": is a folder, not a file");
    }
    interactive_ = !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
}

input_file::~input_file() {
    if (name_ != "-") ::close(fd_);  // a file opened while stdin was closed may have fd 0
}

std::size_t input_file::read(char* buf, std::size_t n) {
    for (;;) {
        // read(), not fread(): fread waits until the whole buffer is full, so a co-process
        // would never see the answer to the line it just wrote.
        const ::ssize_t got = ::read(fd_, buf, n);
        if (got >= 0) return static_cast<std::size_t>(got);
        if (errno != EINTR)
            throw failure((name_ == "-" ? std::string("standard input") : name_) + ": read failed: " + std::strerror(errno));
    }
}

void for_each_raw_block(input_file& in, std::size_t block_size, const std::function<void(std::string_view)>& f) {
    std::string buf(block_size, '\0');
    while (const std::size_t got = in.read(&buf[0], buf.size())) f(std::string_view(buf.data(), got));
}

void for_each_raw_block(const std::string& name, std::size_t block_size, const std::function<void(std::string_view)>& f) {
    input_file in(name);
    for_each_raw_block(in, block_size, f);
}

void for_each_block(const std::string& name, const std::function<void(std::string_view)>& f) {
    input_file in(name);
    for_each_block(in, f);
}

void for_each_block(input_file& in, const std::function<void(std::string_view)>& f) {
    std::string buf;
    for_each_raw_block(in, std::size_t{1} << 22, [&](std::string_view block) {
        const std::size_t old = buf.size();
        buf.append(block);
        // Cut after the last "\n" that is followed by something else: chunks and NFC never
        // reach across such a point, so each block is encoded exactly as the whole would be.
        std::size_t cut = std::string::npos;
        for (std::size_t i = buf.size() - 1; i > 0 && i >= old; --i) {  // only the new bytes: linear overall
            if (buf[i - 1] == '\n' && buf[i] != '\n') {
                cut = i;
                break;
            }
        }
        if (cut == std::string::npos) return;  // one long line so far: keep reading
        f(std::string_view(buf).substr(0, cut));
        buf.erase(0, cut);
    });
    if (!buf.empty()) f(buf);
}

void for_each_line(input_file& in, const std::function<void(std::string_view, std::size_t)>& line,
                   const std::function<void()>& block_done) {
    std::string pending;  // the start of a line that continues in the next block
    std::size_t line_no = 0;
    for_each_raw_block(in, std::size_t{1} << 20, [&](std::string_view block) {
        std::size_t pos = 0;
        for (std::size_t nl; (nl = block.find('\n', pos)) != std::string_view::npos; pos = nl + 1) {
            if (pending.empty()) {
                line(block.substr(pos, nl - pos), ++line_no);
            } else {
                pending.append(block.substr(pos, nl - pos));
                line(pending, ++line_no);
                pending.clear();
            }
        }
        pending.append(block.substr(pos));
        block_done();
    });
    if (!pending.empty()) {
        line(pending, ++line_no);
        block_done();
    }
}

void output::flush() {
    errno = 0;
    bool ok = buf_.empty() || std::fwrite(buf_.data(), 1, buf_.size(), stdout) == buf_.size();
    buf_.clear();  // written or lost: the destructor must not try again
    ok = ok && std::fflush(stdout) == 0;
    if (!ok) {
        note_error();
        throw failure(std::string("cannot write to standard output: ") + std::strerror(first_error()));
    }
}

}  // namespace bytepiece_cli

namespace {

// Writes `text` to standard output and keeps the reason if that fails: a text longer than the
// stream's buffer is written while it is put, and afterwards the stream only says that it failed.
void put_text(const std::string& text) {
    using bytepiece_cli::output;
    errno = 0;
    std::cout << text;
    if (!std::cout && output::first_error() == 0) output::first_error() = errno != 0 ? errno : EIO;
}

void print_overview() {
    std::string text = "bytepiece " BYTEPIECE_VERSION_STRING " - byte-level unigram tokenizer (BytePiece-compatible)\n\n"
                       "usage: bytepiece COMMAND [OPTIONS] [FILE...]\n\ncommands:\n";
    std::size_t width = 0;
    for (const auto& entry : bytepiece_cli::registry()) width = std::max(width, entry.first.size() + 2);
    for (const auto& [name, c] : bytepiece_cli::registry()) {
        std::string pad(width - name.size(), ' ');
        text += "  " + name + pad + c.summary + "\n";
    }
    text += "\nRun 'bytepiece COMMAND --help' for a command's options. Errors: one line on stderr, exit status 2.\n";
    put_text(text);
}
}  // namespace

namespace {

// Standard output is buffered, so a full disk or a closed pipe may only show when it is
// flushed at the very end: a command whose output was lost must not exit 0. Returns the exit
// status; `status` is the command's own, and its error (if any) was already printed.
int finish_standard_output(const std::string& who, int status) {
    using bytepiece_cli::output;
    errno = 0;
    std::cout.flush();
    if (!std::cout && output::first_error() == 0) output::first_error() = errno != 0 ? errno : EIO;
    errno = 0;
    if ((std::fflush(stdout) != 0 || std::ferror(stdout)) && output::first_error() == 0)
        output::first_error() = errno != 0 ? errno : EIO;
    if (output::first_error() == 0 || status != 0) return status;
    std::cerr << who << ": cannot write to standard output: " << std::strerror(output::first_error()) << "\n";
    return 2;
}

int run_command(const std::string& name, const bytepiece_cli::command& c, std::vector<std::string>& args) {
    using namespace bytepiece_cli;
    for (const auto& a : args) {
        if (a == "--") break;
        if (a == "--help" || a == "-h") {
            put_text(c.help);
            return 0;
        }
    }
    try {
        return c.run(args);
    } catch (const usage_error& e) {
        std::cerr << "bytepiece " << name << ": " << e.what() << " (see 'bytepiece " << name << " --help')\n";
    } catch (const bytepiece::error& e) {
        std::cerr << "bytepiece " << name << ": " << e.what() << "\n";
    } catch (const failure& e) {
        std::cerr << "bytepiece " << name << ": " << e.what() << "\n";
    } catch (const std::bad_alloc&) {
        std::cerr << "bytepiece " << name << ": out of memory\n";
    } catch (const std::exception& e) {
        std::cerr << "bytepiece " << name << ": " << e.what() << "\n";
    }
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace bytepiece_cli;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        print_overview();
        return finish_standard_output("bytepiece", args.empty() ? 2 : 0);
    }
    if (args[0] == "--version") {
        std::cout << "bytepiece " BYTEPIECE_VERSION_STRING "\n";
        return finish_standard_output("bytepiece", 0);
    }
    const std::string name = args[0];
    auto it = registry().find(name);
    if (it == registry().end()) {
        std::cerr << "bytepiece: unknown command '" << name << "' (see 'bytepiece --help')\n";
        return 2;
    }
    args.erase(args.begin());
    const int status = run_command(name, it->second, args);
    return finish_standard_output("bytepiece " + name, status);
}
