// SPDX-License-Identifier: Apache-2.0
// Entry point of the `bytepiece` tool: dispatches to the registered subcommands and turns
// every failure into one line on stderr and exit status 2.
#include <bytepiece/errors.hpp>
#include <bytepiece/version.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

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

void for_each_raw_block(const std::string& name, std::size_t block_size, const std::function<void(std::string_view)>& f) {
    std::FILE* in = name == "-" ? stdin : std::fopen(name.c_str(), "rb");
    if (!in) throw failure(name + ": cannot open: " + std::strerror(errno));
    struct closer {
        std::FILE* f;
        ~closer() { if (f != stdin) std::fclose(f); }
    } guard{in};
    std::string buf(block_size, '\0');
    for (;;) {
        const std::size_t got = std::fread(&buf[0], 1, buf.size(), in);
        if (got) f(std::string_view(buf.data(), got));
        if (got < buf.size()) {
            if (std::ferror(in)) throw failure(name + ": read failed: " + std::strerror(errno));
            return;
        }
    }
}

void for_each_block(const std::string& name, const std::function<void(std::string_view)>& f) {
    std::string buf;
    for_each_raw_block(name, std::size_t{1} << 22, [&](std::string_view block) {
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

}  // namespace bytepiece_cli

namespace {

void print_overview() {
    std::cout << "bytepiece " BYTEPIECE_VERSION_STRING " - byte-level unigram tokenizer (BytePiece-compatible)\n\n"
                 "usage: bytepiece COMMAND [OPTIONS] [FILE...]\n\ncommands:\n";
    for (const auto& [name, c] : bytepiece_cli::registry()) {
        std::string pad(name.size() < 10 ? 10 - name.size() : 1, ' ');
        std::cout << "  " << name << pad << c.summary << "\n";
    }
    std::cout << "\nRun 'bytepiece COMMAND --help' for a command's options. Errors: one line on stderr, exit status 2.\n";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace bytepiece_cli;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        print_overview();
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::cout << "bytepiece " BYTEPIECE_VERSION_STRING "\n";
        return 0;
    }
    const std::string name = args[0];
    auto it = registry().find(name);
    if (it == registry().end()) {
        std::cerr << "bytepiece: unknown command '" << name << "' (see 'bytepiece --help')\n";
        return 2;
    }
    args.erase(args.begin());
    for (const auto& a : args) {
        if (a == "--") break;
        if (a == "--help" || a == "-h") {
            std::cout << it->second.help;
            return 0;
        }
    }
    try {
        return it->second.run(args);
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
