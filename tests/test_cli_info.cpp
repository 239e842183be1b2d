// SPDX-License-Identifier: Apache-2.0
// `bytepiece info`: a model's facts, and with --vocab its whole vocabulary, one escaped piece
// per line that reads back to the model's exact bytes, score and count.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;
using test_support::split;

// The inverse of the documented escaping.
std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        REQUIRE(i + 1 < s.size());
        const char c = s[++i];
        if (c == '\\') out += '\\';
        else if (c == 's') out += ' ';
        else if (c == 'n') out += '\n';
        else if (c == 't') out += '\t';
        else if (c == 'r') out += '\r';
        else if (c == 'x') {
            REQUIRE(i + 2 < s.size());
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            FAIL("unknown escape \\" << c);
        }
    }
    return out;
}

std::map<std::string, std::string> facts(const std::string& text) {
    std::map<std::string, std::string> out;
    for (const auto& line : split(text, '\n')) {
        if (line.empty()) continue;
        const auto colon = line.find(": ");
        REQUIRE(colon != std::string::npos);
        out[line.substr(0, colon)] = line.substr(colon + 2);
    }
    return out;
}

bytepiece::model tricky_model() {
    // Pieces with every escaped character, an invalid byte sequence and a NUL.
    return test_support::make_model({{"a b", 9}, {"tab\there", 8}, {"back\\slash", 7}, {"\xe4\xb8\xad\xe6\x96\x87", 6},
                                     {"\xff\xfe", 5}, {std::string("nul\0x", 5), 4}, {"cr\r\n", 3}, {"\x7f\x01", 2}},
                                    11);
}

}  // namespace

TEST_CASE("info lists a model's facts, for JSON and binary files alike", "[cli][info]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("info_facts");
    const auto model = tricky_model();
    model.save(dir / "m.json");
    bytepiece::tokenizer(model).save_binary(dir / "m.bpm");
    for (const std::string name : {"m.json", "m.bpm"}) {
        for (const std::string form : {" ", " -m "}) {
            const auto r = run(quote(cli()) + " info" + form + quote(dir / name));
            INFO(name << form << r.out);
            REQUIRE(r.status == 0);
            auto f = facts(r.out);
            CHECK(f["file"] == dir / name);
            CHECK(f["format"] == (name == "m.json" ? "json" : "binary, version 1"));
            CHECK(f["vocab_size"] == std::to_string(model.vocab_size()));
            CHECK(f["pieces"] == std::to_string(model.piece_count()));
            CHECK(f["total_count"] == std::to_string(model.total_count()));
            CHECK(f["max_piece_bytes"] == std::to_string(model.max_piece_length()));
            CHECK(f["multibyte_pieces_not_utf8"] == "1");  // only \xff\xfe: NUL and DEL are valid UTF-8
            const auto range = split(f["score_range"], ' ');
            REQUIRE(range.size() == 2);
            CHECK(std::strtod(range[0].c_str(), nullptr) <= std::strtod(range[1].c_str(), nullptr));
        }
    }
    const auto none = run(quote(cli()) + " info 2>&1");
    CHECK(none.status == 2);
    CHECK(none.out.find("MODEL") != std::string::npos);
}

TEST_CASE("info --vocab lists every piece with its id, escaped bytes, exact score and count", "[cli][info]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("info_vocab");
    const auto model = tricky_model();
    model.save(dir / "m.json");
    const auto r = run(quote(cli()) + " info --vocab " + quote(dir / "m.json"));
    REQUIRE(r.status == 0);
    REQUIRE(!r.out.empty());
    REQUIRE(r.out.back() == '\n');
    const auto lines = split(r.out.substr(0, r.out.size() - 1), '\n');
    REQUIRE(lines.size() == model.piece_count());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto id = static_cast<std::uint32_t>(i + bytepiece::model::first_piece_id);
        INFO("line " << i + 1 << ": " << lines[i]);
        const auto cols = split(lines[i], '\t');
        REQUIRE(cols.size() == 4);
        CHECK(cols[0] == std::to_string(id));
        CHECK(unescape(cols[1]) == model.piece(id));
        for (unsigned char c : cols[1]) CHECK((c >= 0x20 && c != 0x7F));  // no raw control bytes
        CHECK(std::strtod(cols[2].c_str(), nullptr) == model.score(id));
        CHECK(cols[3] == std::to_string(model.count(id)));
    }
}

TEST_CASE("info on a real model counts the pieces that are not UTF-8", "[cli][info]") {
    if (!test_support::require_cli()) return;
    for (const std::string name : {"bytepiece.plus.40k", "bytepiece.eu.plus.40k"}) {
        if (!test_support::require_shared("models/" + name + ".model")) return;
        const std::string path = test_support::shared_path("models/" + name + ".model");
        const auto model = bytepiece::model::load(path);
        std::size_t not_utf8 = 0;
        for (std::size_t id = bytepiece::model::first_piece_id; id < model.vocab_size(); ++id) {
            const auto p = model.piece(static_cast<std::uint32_t>(id));
            std::string valid;
            bytepiece::detail::utf8::append_valid(p, valid);
            not_utf8 += p.size() > 1 && valid.size() != p.size();
        }
        const auto r = run(quote(cli()) + " info " + quote(path));
        REQUIRE(r.status == 0);
        CHECK(facts(r.out)["multibyte_pieces_not_utf8"] == std::to_string(not_utf8));
        CHECK(facts(r.out)["vocab_size"] == std::to_string(model.vocab_size()));
    }
}
