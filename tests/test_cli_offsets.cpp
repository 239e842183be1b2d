// SPDX-License-Identifier: Apache-2.0
// `encode --offsets`: each id as ID@BEGIN:END, byte offsets into the whole input, the lines as
// without the option.
#include <string>
#include <vector>

#include <bytepiece/hf_tokenizer.hpp>
#include <bytepiece/sentencepiece_tokenizer.hpp>

#include "offsets_texts.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (std::size_t at; (at = text.find(sep, pos)) != std::string::npos; pos = at + 1) out.push_back(text.substr(pos, at - pos));
    if (pos < text.size()) out.push_back(text.substr(pos));
    return out;
}

struct token {
    std::uint32_t id;
    std::size_t begin, end;
};

// One output line of ID@BEGIN:END items.
std::vector<token> parse_line(const std::string& line) {
    std::vector<token> out;
    for (const auto& item : split(line, ' ')) {
        const auto at = item.find('@'), colon = item.find(':');
        REQUIRE(at != std::string::npos);
        REQUIRE(colon != std::string::npos);
        out.push_back({static_cast<std::uint32_t>(std::stoul(item.substr(0, at))), std::stoul(item.substr(at + 1, colon - at - 1)),
                       std::stoul(item.substr(colon + 1))});
    }
    return out;
}

// The ids of every output line, without offsets, to compare with the plain output.
std::string ids_only(const std::string& output) {
    std::string s;
    for (const auto& line : split(output, '\n')) {
        bool first = true;
        for (const auto& t : parse_line(line)) {
            s += (first ? "" : " ") + std::to_string(t.id);
            first = false;
        }
        s += '\n';
    }
    return s;
}

}  // namespace

TEST_CASE("encode --offsets: ids as without it, offsets into the whole input of several files", "[cli][offsets]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    scratch_folder dir("cli_offsets");
    const std::string model = test_support::shared_path("models/bytepiece.eu.plus.40k.model");
    const std::string a = "Cafe\xCC\x81 costs 5\xE2\x82\xAC\nsecond line\r\n\n\xE1\x84\x80\xE1\x85\xA1 end\n";
    const std::string b = "more \xFF text\nlast line without newline";
    test_support::write(dir / "a.txt", a);
    test_support::write(dir / "b.txt", b);
    const std::string input = a + b;
    const bytepiece::tokenizer tok = bytepiece::tokenizer::load(model);
    for (const char* mode : {"", " --lines", " --raw"}) {
        INFO("mode" << mode);
        const std::string files = " " + quote(dir / "a.txt") + " " + quote(dir / "b.txt");
        const auto plain = run(quote(cli()) + " encode" + mode + " -m " + quote(model) + files);
        const auto with = run(quote(cli()) + " encode --offsets" + mode + " -m " + quote(model) + files);
        REQUIRE(plain.status == 0);
        REQUIRE(with.status == 0);
        CHECK(ids_only(with.out) == plain.out);
        // Offsets are into a + b: the concatenated ranges of a line never decrease, and each
        // range is what the library gives for that piece.
        std::size_t last_end = 0;
        for (const auto& line : split(with.out, '\n')) {
            for (const auto& t : parse_line(line)) {
                CHECK(t.begin <= t.end);
                CHECK(t.end <= input.size());
                CHECK(t.end >= last_end);
                last_end = t.end;
            }
        }
        // Every id's range in the whole input equals the library's range in its unit.
        if (std::string(mode) == " --raw") {
            std::string rebuilt;
            for (const auto& line : split(with.out, '\n'))
                for (const auto& t : parse_line(line)) {
                    CHECK(input.substr(t.begin, t.end - t.begin) == tok.model().piece(t.id));
                    rebuilt += input.substr(t.begin, t.end - t.begin);
                }
            CHECK(rebuilt == input);
        }
    }
    // Hand-checked positions: the last line of b.txt starts at a.size() + 12.
    const auto last = run(quote(cli()) + " encode --offsets --lines -m " + quote(model) + " " + quote(dir / "a.txt") + " " +
                          quote(dir / "b.txt"));
    const auto lines = split(last.out, '\n');
    const auto tokens = parse_line(lines.back());
    REQUIRE(!tokens.empty());
    CHECK(tokens.front().begin == a.size() + 12);
    CHECK(tokens.back().end == input.size());
    // The é of the first line (NFD, bytes 3..6) is covered whole by the piece that holds it.
    const auto first = parse_line(lines.front());
    bool covered = false;
    for (const auto& t : first) covered |= t.begin <= 3 && t.end >= 6;
    CHECK(covered);
}

TEST_CASE("encode --offsets with a SentencePiece model: line by line, <s> and </s> get empty ranges", "[cli][offsets]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/sp/spm-u2k-nmt_nfkc.model")) return;
    scratch_folder dir("cli_offsets_sp");
    const std::string model = test_support::shared_path("models/sp/spm-u2k-nmt_nfkc.model");
    const std::string input = "  Hello   world\nsecond \xEF\xBC\xA1 line\n";
    test_support::write(dir / "in.txt", input);
    const auto sp = bytepiece::sentencepiece_tokenizer::load(model);
    const auto plain = run(quote(cli()) + " encode --bos --eos -m " + quote(model) + " " + quote(dir / "in.txt"));
    const auto with = run(quote(cli()) + " encode --offsets --bos --eos -m " + quote(model) + " " + quote(dir / "in.txt"));
    REQUIRE(plain.status == 0);
    REQUIRE(with.status == 0);
    CHECK(ids_only(with.out) == plain.out);
    const auto lines = split(with.out, '\n');
    REQUIRE(lines.size() == 2);
    const std::size_t starts[] = {0, 16}, ends[] = {15, input.size() - 1};
    for (std::size_t l = 0; l < 2; ++l) {
        const auto tokens = parse_line(lines[l]);
        const auto e = sp.encode_with_offsets(split(input, '\n')[l]);
        REQUIRE(tokens.size() == e.ids.size() + 2);
        CHECK(tokens.front().begin == starts[l]);
        CHECK(tokens.front().end == starts[l]);
        CHECK(tokens.back().begin == ends[l]);
        CHECK(tokens.back().end == ends[l]);
        for (std::size_t i = 0; i < e.ids.size(); ++i) {
            CHECK(tokens[i + 1].id == e.ids[i]);
            CHECK(tokens[i + 1].begin == starts[l] + e.offsets[i].begin);
            CHECK(tokens[i + 1].end == starts[l] + e.offsets[i].end);
        }
    }
}

TEST_CASE("encode --offsets refuses what it cannot do, by name", "[cli][offsets]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const std::string model = test_support::shared_path("models/bytepiece.eu.plus.40k.model");
    const auto sampled = run("echo hi | " + quote(cli()) + " encode --offsets --alpha 0.1 -m " + quote(model) + " 2>&1");
    CHECK(sampled.status != 0);
    CHECK(sampled.out.find("--offsets") != std::string::npos);
    if (!test_support::require_shared("models/hf/albert-30k-clean.from_spm.json")) return;
    const auto hf = run("printf 'ok\\n\\377\\n' | " + quote(cli()) + " encode --offsets -m " +
                        quote(test_support::shared_path("models/hf/albert-30k-clean.from_spm.json")) + " 2>&1");
    CHECK(hf.status != 0);
    CHECK(hf.out.find("line 2") != std::string::npos);
    CHECK(hf.out.find("UTF-8") != std::string::npos);
}

TEST_CASE("encode --offsets with a tokenizer.json: line by line, the post-processor's tokens get empty ranges",
          "[cli][offsets]") {
    const char* relative = "models/hf/albert-30k-clean.transformers-albert.json";
    if (!test_support::require_cli() || !test_support::require_shared(relative)) return;
    scratch_folder dir("cli_offsets_hf");
    const std::string model = test_support::shared_path(relative);
    const std::string input = "Hello   world (x) [MASK]\nsecond caf\xC3\xA9 line\n";
    test_support::write(dir / "in.txt", input);
    const auto tok = bytepiece::hf_tokenizer::load(model);
    const auto plain = run(quote(cli()) + " encode --add-special -m " + quote(model) + " " + quote(dir / "in.txt"));
    const auto with = run(quote(cli()) + " encode --offsets --add-special -m " + quote(model) + " " + quote(dir / "in.txt"));
    REQUIRE(plain.status == 0);
    REQUIRE(with.status == 0);
    CHECK(ids_only(with.out) == plain.out);
    const auto lines = split(with.out, '\n');
    REQUIRE(lines.size() == 2);
    const std::size_t starts[] = {0, 25}, ends[] = {24, input.size() - 1};
    for (std::size_t l = 0; l < 2; ++l) {
        const auto tokens = parse_line(lines[l]);
        const auto e = tok.encode_with_offsets(split(input, '\n')[l], true);
        REQUIRE(tokens.size() == e.ids.size());
        CHECK(tokens.front().begin == starts[l]);  // [CLS]
        CHECK(tokens.front().end == starts[l]);
        CHECK(tokens.back().begin == ends[l]);  // [SEP]
        CHECK(tokens.back().end == ends[l]);
        for (std::size_t i = 0; i < e.ids.size(); ++i) {
            CHECK(tokens[i].id == e.ids[i]);
            CHECK(tokens[i].begin == starts[l] + e.offsets[i].begin);
            CHECK(tokens[i].end == starts[l] + e.offsets[i].end);
        }
    }
    // tokenize --offsets: the tokens as `tokenize` prints them, each with its range.
    const auto pieces = run(quote(cli()) + " tokenize --offsets -m " + quote(model) + " " + quote(dir / "in.txt"));
    REQUIRE(pieces.status == 0);
    const auto first = split(split(pieces.out, '\n')[0], ' ');
    REQUIRE(!first.empty());
    CHECK(first[0] == "\xE2\x96\x81hello@0:5");
}
