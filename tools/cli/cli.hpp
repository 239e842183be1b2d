// SPDX-License-Identifier: Apache-2.0
// Shared plumbing of the `bytepiece` command-line tool: subcommand registry, argument
// parsing, input reading and the one-line error convention (exit status 2).
#pragma once

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

/// Reads a file ("-" for standard input) in blocks of `block_size` bytes as they come, calling
/// `f(block)` for each; throws `failure` naming the file if it cannot be opened or read.
void for_each_raw_block(const std::string& name, std::size_t block_size, const std::function<void(std::string_view)>& f);

/// Reads input in blocks that end on a chunk boundary (after a run of `\n`, before other
/// text), so that a file of any size is processed in bounded memory except for single lines.
/// `name` is "-" for standard input. Calls `f(block)`; throws `failure` naming the file.
void for_each_block(const std::string& name, const std::function<void(std::string_view)>& f);

/// Buffered stdout writer: one fwrite per megabyte instead of per token.
class output {
public:
    output() { buf_.reserve(1 << 20); }
    ~output() { flush(); }
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
    void flush() {
        if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size())
            throw failure("cannot write to standard output");
        buf_.clear();
    }

private:
    std::string buf_;
};

/// Writes a piece escaped so that a line of pieces splits back unambiguously at spaces: `\\`,
/// `\s`, `\n`, `\t`, `\r`, and `\xHH` for bytes that are not valid UTF-8 (cmd_encode.cpp).
void append_escaped(std::string_view piece, output& out);

}  // namespace bytepiece_cli
