// SPDX-License-Identifier: Apache-2.0
// The `bytepiece` command-line tool, run as a user would run it.
#include <sys/wait.h>

#include <algorithm>

#include <cstdio>
#include <string>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::command_result;
using test_support::quote;
using test_support::run;

}  // namespace

TEST_CASE("encode through the CLI reproduces the golden files byte for byte", "[cli][golden]") {
    if (cli().empty()) {
        WARN("skipped: the bytepiece tool is not built (BYTEPIECE_BUILD_TOOLS=OFF)");
        return;
    }
    for (const std::string name : {"bytepiece.plus.40k", "bytepiece.eu.plus.40k", "bytepiece.zh.id.eu.40k", "bytepiece.eu.plus.160k"}) {
        if (!test_support::require_shared("golden/" + name + ".small.ids")) return;
        const auto r = run(quote(cli()) + " encode -m " + quote(test_support::shared_path("models/" + name + ".model")) + " " +
                           quote(test_support::shared_path("corpus/small.txt")));
        const std::string want = test_support::read(test_support::shared_path("golden/" + name + ".small.ids"));
        std::size_t line = 1, i = 0;
        while (i < r.out.size() && i < want.size() && r.out[i] == want[i]) line += r.out[i++] == '\n';
        INFO(name << ": output and golden file first differ on line " << line);
        CHECK(r.status == 0);
        CHECK((r.out == want));
    }
}

TEST_CASE("encode, tokenize and decode through the CLI on a tiny model", "[cli]") {
    if (cli().empty()) return;
    const std::string model = test_support::scratch_path("cli.model");
    test_support::make_model({{"hello", 50}, {" world", 40}, {"\n\n", 30}}).save(model);
    const std::string input = test_support::scratch_path("cli_input.txt");
    test_support::write(input, "hello world\n\nhello\tw\\\xff\n");

    const auto enc = run(quote(cli()) + " encode -m " + quote(model) + " " + quote(input));
    REQUIRE(enc.status == 0);
    CHECK(std::count(enc.out.begin(), enc.out.end(), '\n') == 2);  // two chunks, two lines

    const auto tok = run(quote(cli()) + " tokenize -m " + quote(model) + " < " + quote(input));
    REQUIRE(tok.status == 0);
    CHECK(tok.out == "hello \\sworld \\n\\n\nhello \\t w \\\\ \\xFF \\n\n");

    const std::string ids = test_support::scratch_path("cli_ids.txt");
    test_support::write(ids, enc.out);
    const auto dec = run(quote(cli()) + " decode -m " + quote(model) + " " + quote(ids));
    REQUIRE(dec.status == 0);
    CHECK(dec.out == "hello world\n\nhello\tw\\\n");  // the invalid byte is dropped on decode

    const auto raw = run(quote(cli()) + " encode --raw -m " + quote(model) + " " + quote(input));
    CHECK(raw.status == 0);
}

TEST_CASE("CLI errors are one line with exit status 2", "[cli][errors]") {
    if (cli().empty()) return;
    const std::string model = test_support::scratch_path("cli_err.model");
    test_support::make_model({}).save(model);
    auto one_line = [](const command_result& r) {
        return !r.out.empty() && r.out.find('\n') == r.out.size() - 1;
    };
    const auto missing_model = run(quote(cli()) + " encode -m /nonexistent.model 2>&1 </dev/null");
    CHECK(missing_model.status == 2);
    CHECK(one_line(missing_model));
    CHECK(missing_model.out.find("/nonexistent.model") != std::string::npos);

    const auto missing_input = run(quote(cli()) + " encode -m " + quote(model) + " /nonexistent.txt 2>&1");
    CHECK(missing_input.status == 2);
    CHECK(one_line(missing_input));
    CHECK(missing_input.out.find("/nonexistent.txt") != std::string::npos);

    const std::string bad = test_support::scratch_path("cli_bad.model");
    test_support::write(bad, "{\"AA==\": [3, \"\", 0]}");
    const auto bad_model = run(quote(cli()) + " encode -m " + quote(bad) + " 2>&1 </dev/null");
    CHECK(bad_model.status == 2);
    CHECK(bad_model.out.find("[bytepiece.model.7]") != std::string::npos);

    const std::string bad_ids = test_support::scratch_path("cli_bad_ids.txt");
    test_support::write(bad_ids, "5 6\n7 x\n");
    const auto bad_decode = run(quote(cli()) + " decode -m " + quote(model) + " " + quote(bad_ids) + " 2>&1");
    CHECK(bad_decode.status == 2);
    CHECK(bad_decode.out.find(":2:") != std::string::npos);

    const auto unknown = run(quote(cli()) + " encode --bogus 2>&1");
    CHECK(unknown.status == 2);
    CHECK(run(quote(cli()) + " frobnicate 2>&1").status == 2);
}

TEST_CASE("every subcommand has --help", "[cli]") {
    if (cli().empty()) return;
    for (const char* cmd : {"encode", "tokenize", "decode", "nbest", "train", "convert", "info"}) {
        const auto r = run(quote(cli()) + " " + cmd + " --help");
        CHECK(r.status == 0);
        CHECK(r.out.find("usage: bytepiece") != std::string::npos);
    }
    const auto r = run(quote(cli()) + " --help");
    CHECK(r.status == 0);
    CHECK(r.out.find("encode") != std::string::npos);
}

TEST_CASE("convert writes a binary model that every command reads, and JSON back", "[cli][binary]") {
    if (cli().empty()) return;
    const std::string json = test_support::scratch_path("cli_convert.model");
    const std::string bin = test_support::scratch_path("cli_convert.bpm");
    const std::string back = test_support::scratch_path("cli_convert_back.model");
    test_support::make_model({{"hello", 50}, {" world", 40}, {"\n\n", 30}, {"wor", 7}}).save(json);
    const std::string input = test_support::scratch_path("cli_convert_input.txt");
    test_support::write(input, "hello world\n\nhello\tworld \xc3\xa9\n");

    const auto conv = run(quote(cli()) + " convert " + quote(json) + " " + quote(bin) + " 2>&1");
    REQUIRE(conv.status == 0);
    CHECK(conv.out.empty());
    CHECK(bytepiece::detail::binary_format::has_magic(test_support::read(bin)));
    for (const char* cmd : {"encode", "tokenize", "nbest"}) {
        const auto from_json = run(quote(cli()) + " " + cmd + " -m " + quote(json) + " " + quote(input));
        const auto from_bin = run(quote(cli()) + " " + cmd + " -m " + quote(bin) + " " + quote(input));
        INFO(cmd);
        CHECK(from_json.status == 0);
        CHECK(from_bin.status == 0);
        CHECK(from_bin.out == from_json.out);
    }
    REQUIRE(run(quote(cli()) + " convert --to json " + quote(bin) + " " + quote(back)).status == 0);
    CHECK(test_support::read(back) == test_support::read(json));

    const auto bad_to = run(quote(cli()) + " convert --to yaml " + quote(json) + " " + quote(back) + " 2>&1");
    CHECK(bad_to.status == 2);
    CHECK(bad_to.out.find("--to") != std::string::npos);
    CHECK(run(quote(cli()) + " convert " + quote(json) + " 2>&1").status == 2);

    // A damaged binary model is one line naming the file, and no output file appears.
    std::string damaged = test_support::read(bin);
    damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 1);
    test_support::write(bin, damaged);
    const std::string out = test_support::scratch_path("cli_convert_never.model");
    std::remove(out.c_str());
    const auto bad = run(quote(cli()) + " convert --to json " + quote(bin) + " " + quote(out) + " 2>&1");
    CHECK(bad.status == 2);
    CHECK(bad.out.find("[bytepiece.model.13]") != std::string::npos);
    CHECK(bad.out.find("cli_convert.bpm") != std::string::npos);
    CHECK(!test_support::file_exists(out));
}
