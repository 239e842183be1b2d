// SPDX-License-Identifier: Apache-2.0
// Shared plumbing of the `bytepiece` command-line tool: subcommand registry, argument
// parsing, input reading and the one-line error convention (exit status 2).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bytepiece_cli {

/// A usage error: printed as one line with a hint to `--help`, exit status 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Any other failure the tool reports as one line, exit status 2.
struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct command {
    std::string summary;                                    // one line for `bytepiece --help`
    std::string help;                                       // full text for `bytepiece CMD --help`
    std::function<int(std::vector<std::string>&)> run;  // arguments after the command name
};

inline std::map<std::string, command>& registry() {
    static std::map<std::string, command> commands;
    return commands;
}

/// Registers a subcommand at static-initialization time.
struct registrar {
    registrar(const std::string& name, command c) { registry()[name] = std::move(c); }
};

/// A tiny declarative option parser: flags, options with a value, repeated options and
/// positional arguments, with `--opt=value` and `--opt value` both accepted.
class arguments {
public:
    explicit arguments(std::vector<std::string> args) : args_(std::move(args)) {}

    bool flag(std::initializer_list<std::string_view> names) {
        bool found = false;
        for (std::size_t i = 0; i < args_.size();) {
            if (args_[i] == "--") break;  // what follows is file names, even "--raw"
            if (matches(args_[i], names)) {
                found = true;
                args_.erase(args_.begin() + static_cast<std::ptrdiff_t>(i));
            } else {
                ++i;
            }
        }
        return found;
    }

    std::vector<std::string> values(std::initializer_list<std::string_view> names) {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < args_.size();) {
            const std::string& a = args_[i];
            if (a == "--") break;
            bool taken = false;
            for (std::string_view n : names) {
                if (a == n) {
                    if (i + 1 >= args_.size()) throw usage_error("option " + a + " needs a value");
                    out.push_back(args_[i + 1]);
                    args_.erase(args_.begin() + static_cast<std::ptrdiff_t>(i), args_.begin() + static_cast<std::ptrdiff_t>(i) + 2);
                    taken = true;
                    break;
                }
                if (n.size() > 2 && a.size() > n.size() && a.compare(0, n.size(), n) == 0 && a[n.size()] == '=') {
                    out.push_back(a.substr(n.size() + 1));
                    args_.erase(args_.begin() + static_cast<std::ptrdiff_t>(i));
                    taken = true;
                    break;
                }
            }
            if (!taken) ++i;
        }
        return out;
    }

    std::string value(std::initializer_list<std::string_view> names, const std::string& fallback = {}) {
        auto v = values(names);
        if (v.size() > 1) throw usage_error("option " + std::string(*names.begin()) + " given more than once");
        return v.empty() ? fallback : v.front();
    }

    /// What is left after options were taken: positional arguments. Unknown options are errors.
    std::vector<std::string> positional() {
        std::vector<std::string> out;
        bool rest = false;
        for (const auto& a : args_) {
            if (!rest && a == "--") { rest = true; continue; }
            if (!rest && a.size() > 1 && a[0] == '-') throw usage_error("unknown option " + a);
            out.push_back(a);
        }
        return out;
    }

private:
    static bool matches(const std::string& a, std::initializer_list<std::string_view> names) {
        for (auto n : names) if (a == n) return true;
        return false;
    }
    std::vector<std::string> args_;
};

/// Parses a whole decimal number in [lo, hi] or throws a usage error naming the option.
long long parse_integer(const std::string& text, const std::string& option, long long lo, long long hi);
/// Parses a finite decimal floating-point number or throws a usage error naming the option.
double parse_double(const std::string& text, const std::string& option);

/// An input file opened for reading in blocks as they arrive: "-" is standard input.
///
/// Example:
///     input_file in("-");
///     char buf[4096];
///     while (std::size_t n = in.read(buf, sizeof buf)) use(buf, n);
class input_file {
public:
    /// Opens `name`; throws `failure` naming it when it cannot be opened or is a folder.
    explicit input_file(const std::string& name);
    ~input_file();
    input_file(const input_file&) = delete;
    input_file& operator=(const input_file&) = delete;

    /// Reads up to `n` bytes, returning as soon as any are there (a pipe gives what has been
    /// written so far); 0 at the end. Throws `failure` naming the file on a read error.
    std::size_t read(char* buf, std::size_t n);

    /// Whether the input is a pipe, terminal or socket rather than a regular file: then a
    /// writer on the other side may wait for each answer before sending more (a co-process),
    /// so output must leave as soon as each piece of it is complete.
    bool interactive() const noexcept { return interactive_; }

    const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
    int fd_ = -1;
    bool interactive_ = false;
};

/// Reads `in` in blocks of at most `block_size` bytes as they arrive, calling `f(block)` for each.
void for_each_raw_block(input_file& in, std::size_t block_size, const std::function<void(std::string_view)>& f);

/// Opens `name` ("-" for standard input) and reads it as the overload above does.
void for_each_raw_block(const std::string& name, std::size_t block_size, const std::function<void(std::string_view)>& f);

/// Reads `in` in blocks that end on a chunk boundary (after a run of `\n`, before other
/// text), so that a file of any size is processed in bounded memory except for single lines.
/// Calls `f(block)` as soon as a block is complete; throws `failure` naming the file.
void for_each_block(input_file& in, const std::function<void(std::string_view)>& f);

/// Opens `name` ("-" for standard input) and reads it as the overload above does.
void for_each_block(const std::string& name, const std::function<void(std::string_view)>& f);

/// Reads `in` line by line: `line(text, line_number)` for every line without its `\n` (a
/// last line without one counts too), and `block_done()` after the lines of each block read,
/// which is where a co-process gets its answers flushed. Only `\n` ends a line; a line is
/// held whole in memory.
void for_each_line(input_file& in, const std::function<void(std::string_view, std::size_t)>& line,
                   const std::function<void()>& block_done);

/// Buffered standard output: one fwrite per megabyte instead of per token. A command calls
/// `finish()` when done, which reports a failed write (a full disk, say) as a
/// `failure`; the destructor never throws, since it may run while another error unwinds.
///
/// Example:
///     output out;
///     out.put("hello");
///     out.put('\n');
///     out.finish();
class output {
public:
    output() { buf_.reserve(1 << 20); }
    ~output() {
        // Unwinding from another error: what was produced before it still goes out, and a
        // failed write is left for main()'s final check of stdout.
        if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size()) note_error();
    }
    output(const output&) = delete;
    output& operator=(const output&) = delete;

    void put(std::string_view s) {
        buf_ += s;
        if (buf_.size() >= (1 << 20)) flush();
    }
    void put(char c) { buf_ += c; }
    void put_uint(unsigned long long v) {
        char tmp[24];
        int n = 0;
        do { tmp[n++] = static_cast<char>('0' + v % 10); v /= 10; } while (v);
        while (n) buf_ += tmp[--n];
    }
    /// Hands everything written so far to the system; throws `failure` if it refuses.
    void flush();
    /// `flush()` at the end of a command: afterwards nothing is left to write.
    void finish() { flush(); }

    /// The system's reason for the first failed write to standard output (an errno value), 0
    /// when none failed. main() uses it to explain a failure found only at exit.
    static int& first_error() noexcept {
        static int e = 0;
        return e;
    }

private:
    static void note_error() noexcept {
        if (first_error() == 0) first_error() = errno != 0 ? errno : EIO;
    }
    std::string buf_;
};

/// Writes a piece escaped so that a line of pieces splits back unambiguously at spaces: `\\`,
/// `\s`, `\n`, `\t`, `\r`, and `\xHH` for bytes that are not valid UTF-8 (cmd_encode.cpp).
/// With `escape_controls`, the other ASCII control characters (NUL, ..., DEL) are `\xHH` too,
/// for listings that a terminal or a text tool must show intact.
void append_escaped(std::string_view piece, output& out, bool escape_controls = false);

/// Reads one line of `decode`'s input into `ids`: whole decimal numbers separated by spaces,
/// tabs or carriage returns. Throws `failure` naming `file` and `line_no` for anything that
/// is not an id, or an id of `vocab_size` or more (cmd_encode.cpp).
void parse_id_line(std::string_view line, const std::string& file, std::size_t line_no, std::size_t vocab_size,
                   std::vector<std::uint32_t>& ids);

}  // namespace bytepiece_cli
