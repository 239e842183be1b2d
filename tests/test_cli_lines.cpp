// SPDX-License-Identifier: Apache-2.0
// `--lines`: one output line per input line, each line encoded on its own without its
// newline, and `decode --lines` adding the newline back.
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (std::size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) out.push_back(text.substr(pos, nl - pos));
    if (pos < text.size()) out.push_back(text.substr(pos));
    return out;
}

std::string joined(const std::vector<std::uint32_t>& ids) {
    std::string s;
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s;
}

// The model knows "\n" and "o\n" well, so chunk mode would put newline ids in the output.
bytepiece::model lines_model() {
    return test_support::make_model({{"hello", 50}, {" world", 40}, {"\n", 300}, {"o\n", 200}, {"\n\n", 100}, {"wor", 7}, {"ld", 9}});
}

}  // namespace

TEST_CASE("encode --lines gives one line per input line, each encoded on its own", "[cli][lines]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("lines_encode");
    const auto model = lines_model();
    model.save(dir / "m.json");
    const bytepiece::tokenizer tok(model);
    // Empty lines, a \r that stays text, an invalid byte, a composed-to-be character (NFC
    // applies per line), and a last line without newline.
    const std::string input = "hello world\n\n\nhello\r\nwor\xff ld\ne\xcc\x81t\xc3\xa9\nlast hello";
    test_support::write(dir / "in.txt", input);
    const auto lines = split_lines(input);
    REQUIRE(lines.size() == 7);

    const auto enc = run(quote(cli()) + " encode --lines -m " + quote(dir / "m.json") + " " + quote(dir / "in.txt"));
    REQUIRE(enc.status == 0);
    const auto got = split_lines(enc.out);
    REQUIRE(got.size() == lines.size());
    CHECK(enc.out.back() == '\n');
    const std::string newline_ids[] = {std::to_string(*tok.piece_to_id("\n")), std::to_string(*tok.piece_to_id("o\n"))};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        INFO("line " << i + 1);
        CHECK(got[i] == joined(tok.encode(lines[i])));
        for (const auto& nl : newline_ids) CHECK((" " + got[i] + " ").find(" " + nl + " ") == std::string::npos);
    }
    CHECK(got[1].empty());
    CHECK(got[2].empty());

    // tokenize --lines: the same segmentation, as escaped pieces.
    const auto pieces = run(quote(cli()) + " tokenize --lines -m " + quote(dir / "m.json") + " " + quote(dir / "in.txt"));
    REQUIRE(pieces.status == 0);
    const auto piece_lines = split_lines(pieces.out);
    REQUIRE(piece_lines.size() == lines.size());
    CHECK(piece_lines[0] == "hello \\sworld");
    CHECK(piece_lines[3] == "hello \\r");

    // Raw mode keeps the bytes as they are: the decomposed é stays two code points.
    const auto raw = run(quote(cli()) + " encode --raw --lines -m " + quote(dir / "m.json") + " " + quote(dir / "in.txt"));
    REQUIRE(raw.status == 0);
    const auto raw_lines = split_lines(raw.out);
    REQUIRE(raw_lines.size() == lines.size());
    std::vector<std::uint32_t> ids;
    tok.encode_chunk(lines[5], ids);
    CHECK(raw_lines[5] == joined(ids));
}

TEST_CASE("encode --lines with sampling draws each line from one generator in order", "[cli][lines][sampling]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("lines_sample");
    const auto model = lines_model();
    model.save(dir / "m.json");
    const bytepiece::tokenizer tok(model);
    std::string input;
    for (int i = 0; i < 40; ++i) input += i % 5 == 0 ? "\n" : "hello world hello\n";
    test_support::write(dir / "in.txt", input);
    const auto r = run(quote(cli()) + " encode --lines --alpha 0.3 --seed 11 -m " + quote(dir / "m.json") + " " + quote(dir / "in.txt"));
    REQUIRE(r.status == 0);
    const auto got = split_lines(r.out);
    const auto lines = split_lines(input);
    REQUIRE(got.size() == lines.size());
    bytepiece::sampler s(tok, 0.3);
    bytepiece::splitmix64 g(11);
    std::vector<std::uint32_t> ids;
    std::set<std::string> distinct;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        ids.clear();
        if (!lines[i].empty()) s.sample_chunk(lines[i], g, ids);
        INFO("line " << i + 1);
        CHECK(got[i] == joined(ids));
        if (!lines[i].empty()) distinct.insert(got[i]);
    }
    CHECK(distinct.size() > 1);  // it did sample
}

TEST_CASE("decode --lines ends each line with a newline: encode --lines | decode --lines round-trips", "[cli][lines]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("lines_decode");
    lines_model().save(dir / "m.json");
    const std::string input = "hello world\n\nhello\n  hello wor ld\n";
    test_support::write(dir / "in.txt", input);
    const std::string m = " -m " + quote(dir / "m.json");
    const auto back = run(quote(cli()) + " encode --lines" + m + " " + quote(dir / "in.txt") + " | " + quote(cli()) + " decode --lines" + m);
    CHECK(back.status == 0);
    CHECK(back.out == input);
    // A last line without newline comes back with one.
    test_support::write(dir / "in2.txt", "hello\nworld");
    const auto back2 = run(quote(cli()) + " encode --lines" + m + " " + quote(dir / "in2.txt") + " | " + quote(cli()) + " decode --lines" + m);
    CHECK(back2.out == "hello\nworld\n");
    // Without --lines the decoded lines run together, as each line of ids has no newline id.
    const auto joined_text = run(quote(cli()) + " encode --lines" + m + " " + quote(dir / "in.txt") + " | " + quote(cli()) + " decode" + m);
    CHECK(joined_text.out == "hello worldhello  hello wor ld");
}
