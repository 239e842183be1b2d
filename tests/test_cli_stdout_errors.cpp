// SPDX-License-Identifier: Apache-2.0
// Every command that writes to standard output, with output of any size, reports a failed
// write as one line on stderr and exit status 2: never exit 0 with the output lost, never an
// abort. Standard output is a full device made in a scratch folder (a copy of /dev/full).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

// Pieces of four letters from a..p and all their three-letter prefixes: enough that the
// vocabulary listing and the binary model pass the tool's 1 MiB output buffer.
std::vector<std::pair<std::string, std::uint64_t>> many_pieces() {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (int len = 3; len <= 4; ++len) {
        int n = 1;
        for (int k = 0; k < len; ++k) n *= 16;
        for (int i = 0; i < n; ++i) {
            std::string p;
            for (int v = i, k = 0; k < len; ++k, v /= 16) p += static_cast<char>('a' + v % 16);
            out.emplace_back(p, 1 + static_cast<std::uint64_t>(i % 1000));
        }
    }
    return out;
}

}  // namespace

TEST_CASE("every command reports a full standard output as one line and exit status 2", "[cli][stdout]") {
    if (!test_support::require_cli() || !test_support::require_root("making a full device with mknod")) return;
    scratch_folder dir("stdout_full");
    REQUIRE(::mknod((dir / "full").c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);

    const std::string small_model = dir / "small.json";
    test_support::make_model({{"hello", 50}, {" world", 40}, {"\n", 30}}).save(small_model);
    const std::string big_model = dir / "big.bpm";
    const bytepiece::tokenizer big(test_support::make_model(many_pieces()));
    big.save_binary(big_model);
    REQUIRE(big.to_binary().size() > (std::size_t{1} << 20));  // and its vocabulary listing is larger still

    // Small outputs fit any buffer; large ones (several MiB) fill the tool's own buffer and
    // used to throw from a destructor while unwinding.
    test_support::write(dir / "small.txt", "hello world\n");
    std::string text, ids;
    for (int i = 0; i < 300000; ++i) text += "hello world\n";
    for (int i = 0; i < 300000; ++i) ids += "259 260 13\n";
    test_support::write(dir / "large.txt", text);
    test_support::write(dir / "small.ids", "259 260 13\n");
    test_support::write(dir / "large.ids", ids);

    const std::string m = " -m " + quote(small_model) + " ";
    const std::vector<std::pair<std::string, std::string>> commands = {
        {"encode small", "encode" + m + quote(dir / "small.txt")},
        {"encode large", "encode" + m + quote(dir / "large.txt")},
        {"encode --lines large", "encode --lines" + m + quote(dir / "large.txt")},
        {"encode sampling large", "encode --alpha 0.5" + m + quote(dir / "large.txt")},
        {"tokenize small", "tokenize" + m + quote(dir / "small.txt")},
        {"tokenize large", "tokenize" + m + quote(dir / "large.txt")},
        {"decode small", "decode" + m + quote(dir / "small.ids")},
        {"decode large", "decode" + m + quote(dir / "large.ids")},
        {"nbest small", "nbest" + m + quote(dir / "small.txt")},
        {"nbest large", "nbest -k 2" + m + quote(dir / "large.txt")},
        {"info small", "info " + quote(small_model)},
        {"info large", "info --vocab " + quote(big_model)},
        {"convert small", "convert " + quote(small_model) + " -"},
        {"convert large", "convert " + quote(big_model) + " -"},
        {"help", "encode --help"},
        {"version", "--version"},
    };
    for (const auto& [what, args] : commands) {
        // stderr to the pipe, then stdout to the full device.
        const auto r = run(quote(cli()) + " " + args + " 2>&1 >" + quote(dir / "full"));
        INFO(what << ": " << r.out);
        CHECK(r.status == 2);
        CHECK(test_support::is_one_line(r.out));
        CHECK(r.out.find("standard output") != std::string::npos);
        CHECK(r.out.find("No space left on device") != std::string::npos);
    }
}

TEST_CASE("a failing command still writes the output it made before the error", "[cli][stdout]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("stdout_partial");
    const std::string model = dir / "m.json";
    test_support::make_model({{"hello", 50}}).save(model);
    test_support::write(dir / "ids", "259\n259\n99999999\n259\n");
    const auto r = run(quote(cli()) + " decode -m " + quote(model) + " " + quote(dir / "ids") + " 2>" + quote(dir / "err"));
    CHECK(r.status == 2);
    CHECK(r.out == "hellohello");
    CHECK(test_support::is_one_line(test_support::read(dir / "err")));
}
