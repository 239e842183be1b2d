// SPDX-License-Identifier: Apache-2.0
// The tool as a co-process: with its input a pipe that stays open, each answer must come out
// as soon as it is complete, before any more input (or its end) arrives. Reads give up after
// a timeout, so a tool that holds its output back fails these tests instead of hanging them.
#include <algorithm>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::coprocess;
using test_support::quote;
using test_support::scratch_folder;

std::string joined(const std::vector<std::uint32_t>& ids) {
    std::string s;
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s;
}

bytepiece::model small_model() { return test_support::make_model({{"hello", 50}, {" world", 40}, {"\n", 30}}); }

}  // namespace

TEST_CASE("encode --lines answers each line as it arrives", "[cli][coprocess]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("coprocess_lines");
    small_model().save(dir / "m.json");
    const bytepiece::tokenizer tok(small_model());
    coprocess p(quote(cli()) + " encode --lines -m " + quote(dir / "m.json"));
    REQUIRE(p.send("hello world\n"));
    CHECK(p.receive_lines(1) == joined(tok.encode("hello world")) + "\n");
    REQUIRE(p.send("world hello\n\n"));
    CHECK(p.receive_lines(2) == joined(tok.encode("world hello")) + "\n\n");
    p.close_input();
    CHECK(p.receive_lines(1).empty());
    CHECK(p.wait() == 0);
}

TEST_CASE("tokenize --lines and sampling answer each line as it arrives", "[cli][coprocess]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("coprocess_tokenize");
    small_model().save(dir / "m.json");
    coprocess p(quote(cli()) + " tokenize --lines -m " + quote(dir / "m.json"));
    REQUIRE(p.send("hello world\n"));
    CHECK(p.receive_lines(1) == "hello \\sworld\n");
    p.close_input();
    CHECK(p.wait() == 0);

    coprocess s(quote(cli()) + " encode --lines --alpha 0.1 --seed 3 -m " + quote(dir / "m.json"));
    REQUIRE(s.send("hello world\n"));
    const std::string line = s.receive_lines(1);
    CHECK(!line.empty());
    CHECK(line.back() == '\n');
    s.close_input();
    CHECK(s.wait() == 0);
}

TEST_CASE("encode in chunk mode answers a chunk once the next line begins", "[cli][coprocess]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("coprocess_chunks");
    small_model().save(dir / "m.json");
    const bytepiece::tokenizer tok(small_model());
    for (const std::string extra : {"", " --alpha 0.5"}) {
        INFO("options:" << extra);
        coprocess p(quote(cli()) + " encode" + extra + " -m " + quote(dir / "m.json"));
        // "hello world\n" could still take more newlines, so only text after it ends the
        // chunk; a whole line more leaves the encoder no reason to hold it back (how much
        // more it needs before it is sure is the stream encoder's business, not the tool's).
        REQUIRE(p.send("hello world\nworld hello\nhello"));
        const std::string first = p.receive_lines(1);
        CHECK(first.size() > 1);
        if (extra.empty()) CHECK(first.substr(0, first.find('\n') + 1) == joined(tok.encode("hello world\n")) + "\n");
        p.close_input();
        const std::string rest = p.receive_lines(3 - static_cast<std::size_t>(std::count(first.begin(), first.end(), '\n')));
        if (extra.empty()) CHECK(first + rest == joined(tok.encode("hello world\n")) + "\n" + joined(tok.encode("world hello\n")) + "\n" + joined(tok.encode("hello")) + "\n");
        CHECK(p.wait() == 0);
    }
}

TEST_CASE("decode answers each line of ids as it arrives", "[cli][coprocess]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("coprocess_decode");
    small_model().save(dir / "m.json");
    const bytepiece::tokenizer tok(small_model());
    coprocess p(quote(cli()) + " decode --lines -m " + quote(dir / "m.json"));
    REQUIRE(p.send(joined(tok.encode("hello world")) + "\n"));
    CHECK(p.receive_lines(1) == "hello world\n");
    // Without --lines the text carries its own newline ids.
    coprocess q(quote(cli()) + " decode -m " + quote(dir / "m.json"));
    REQUIRE(q.send(joined(tok.encode("world hello\n")) + "\n"));
    CHECK(q.receive_lines(1) == "world hello\n");
    p.close_input();
    q.close_input();
    CHECK(p.wait() == 0);
    CHECK(q.wait() == 0);
}
