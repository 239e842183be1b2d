// SPDX-License-Identifier: Apache-2.0
// The hand-written model JSON reader against the nlohmann-based one it replaced
// (model_json_oracle.hpp): the same documents accepted with the same pieces, the same ones
// refused with the same error code, byte offset and message, on hand-picked documents, on
// released models and on many mutated ones. Also what the new reader does on purpose
// differently.
#include "model_json_oracle.hpp"
#include "test_support.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace std::string_literals;
using bytepiece::errc;
using bytepiece::model;
using bytepiece::model_error;
using model_json_oracle::compare_readers;

namespace {

// The input with bytes outside printable ASCII as \xNN, for failure messages.
std::string shown(const std::string& s) {
    std::string r;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7F) {
            r += ch;
        } else {
            static const char hex[] = "0123456789abcdef";
            r += "\\x";
            r += hex[c >> 4];
            r += hex[c & 15];
        }
    }
    return r;
}

// Compares the readers on a copy of `json` in a buffer of its exact size, without the NUL a
// std::string keeps after its bytes, so that AddressSanitizer sees any read past the end.
void check_alike(const std::string& json) {
    INFO("input: " << shown(json));
    const std::unique_ptr<char[]> exact(new char[json.size()]);
    std::memcpy(exact.get(), json.data(), json.size());
    CHECK(compare_readers(std::string_view(exact.get(), json.size())) == "");
}

model_error error_of(const std::string& json) {
    try {
        bytepiece::detail::parse_model_json(json, "m.json");
    } catch (const model_error& e) {
        return e;
    }
    FAIL("accepted: " << shown(json));
    return model_error(errc::model_not_json, "unreachable");
}

}  // namespace

TEST_CASE("the reader agrees with nlohmann on hand-picked documents") {
    const std::vector<std::string> docs = {
        // accepted forms
        R"({"QQ==": [3, "A", 1]})",
        "\xEF\xBB\xBF{\"QQ==\":[3,\"A\",1]}",
        " \t\r\n{ \n\"QQ==\"\r:\t[ 3 ,\n\"A\" , 1 ] \n} \r\n\t",
        R"({"\u0051Q\u003d=": [3, "\"\\\/\b\f\n\r\t\u0000\u00e9\u20AC\uD83D\uDE00\udbff\udfff", 1]})",
        "{\"QQ==\": [3, \"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf \xee\x80\x80\", 1]}",
        R"({"QQ==": [3, "A", 18446744073709551615], "Qg==": [18446744073709551615, "B", 7]})",
        R"({"QQ==": [3, "A", 1], "QQ==": [3, "A", 1]})",
        R"({})",
        R"({"QQ==": [3, "", 1]})",
        "{\"QQ==\": [3, \"A\", 1]}\n\n",
        // not JSON
        "", " ", "\n\n  ", "\xEF", "\xEF\xBB", "\xEF\xBB\xBF", "\xEF\x00", "\xEF\xBB\xBE{}", "\x01\x02garbage", "x",
        "{", "{\"", "{\"QQ==", "{\"QQ==\"", "{\"QQ==\" 3", "{\"QQ==\":", "{\"QQ==\":[", "{\"QQ==\":[3",
        "{\"QQ==\":[3,", "{\"QQ==\":[3,\"A\",1", "{\"QQ==\":[3,\"A\",1]", "{\"QQ==\":[3,\"A\",1],", "{\"QQ==\":[3,\"A\",1]}x",
        "{\"QQ==\":[3,\"A\",1]}{}", "{\"QQ==\":[3,\"A\",1]} 1", "{\"QQ==\":[3,\"A\",1],}", "{,}", "{:}", "{\"QQ==\"::",
        "{\"QQ==\":[3,\"A\" 1]}", "{\"QQ==\":[3 \"A\",1]}", "{\"QQ==\" [3,\"A\",1]}", "{\"QQ==\":[3,\"A\",1] \"Qg==\"}",
        "{\"QQ==\":[3,\"A\",01]}", "{\"QQ==\":[3,\"A\",1.]}", "{\"QQ==\":[3,\"A\",.5]}", "{\"QQ==\":[3,\"A\",-]}",
        "{\"QQ==\":[3,\"A\",1e]}", "{\"QQ==\":[3,\"A\",1e+]}", "{\"QQ==\":[3,\"A\",+1]}", "{\"QQ==\":[3,\"A\",1E+x]}",
        "{\"QQ==\":[3,\"A\",tru]}", "{\"QQ==\":[3,\"A\",nul]}", "{\"QQ==\":[3,\"A\",falsy]}", "{\"QQ==\":[3,\"A\",NaN]}",
        "{\"QQ==\":[3,\"A\",Infinity]}", "{'QQ==':[3,\"A\",1]}", "{\"QQ==\":[3,\"A\",1]}/* comment */",
        "{\"QQ==\":[3,\"\\x\",1]}", "{\"QQ==\":[3,\"\\u12\",1]}", "{\"QQ==\":[3,\"\\u12G4\",1]}",
        "{\"QQ==\":[3,\"\\uD800\",1]}", "{\"QQ==\":[3,\"\\uD800x\",1]}", "{\"QQ==\":[3,\"\\uD800\\n\",1]}",
        "{\"QQ==\":[3,\"\\uD800\\u0041\",1]}", "{\"QQ==\":[3,\"\\uD800\\uD800\",1]}", "{\"QQ==\":[3,\"\\uDC00\",1]}",
        "{\"QQ==\":[3,\"\\uD800\\u12\",1]}", "{\"QQ==\":[3,\"a\tb\",1]}", "{\"QQ==\":[3,\"a\nb\",1]}",
        "{\"QQ==\":[3,\"a\x1f\",1]}", "{\"QQ==\":[3,\"a\x7f\",1]}", "{\"QQ==\":[3,\"\x80\",1]}", "{\"QQ==\":[3,\"\xc1\xbf\",1]}",
        "{\"QQ==\":[3,\"\xc3\",1]}", "{\"QQ==\":[3,\"\xc3(\",1]}", "{\"QQ==\":[3,\"\xe0\x80\x80\",1]}",
        "{\"QQ==\":[3,\"\xed\xa0\x80\",1]}", "{\"QQ==\":[3,\"\xf0\x80\x80\x80\",1]}", "{\"QQ==\":[3,\"\xf4\x90\x80\x80\",1]}",
        "{\"QQ==\":[3,\"\xf5\x80\x80\x80\",1]}", "{\"QQ==\":[3,\"\xff\",1]}", "{\"QQ==\":[3,\"\xe2\x82\",1]}",
        "{\"QQ==\":[3,\"A", "{\"QQ==\":[3,\"A\\", "{\"QQ==\":[3,\"A\\u00", "{\"QQ==\":[3,\"\xf0\x9f\x98",
        "{\"\xc3\":[3,\"A\",1]}", "{\"QQ==\":[1e400,\"A\",1]}", "{\"QQ==\":[3,\"A\",-1e400]}", "[1e400]", "1e400",
        "{\"QQ==\":[3,\"A\",1]}1e400",
        // a number followed by a line feed (nlohmann reports column 0 there)
        "{\"QQ==\":[3,\"A\",1]\n,\n 5\n}", "{\"QQ==\":[3,\"A\",1]}\n7\n", "{\"QQ==\":[3\n\"A\"]}", "5\n\n",
        "{\"QQ==\":[3,\"A\",1e400\n]}", "{\"QQ==\":[3,\"A\",1\r\n2]}", "{\"QQ==\" 1", "{\"QQ==\":[3,\"A\",-0.5e+7",
        // JSON of the wrong shape
        "[1, 2, 3]", "1", "-1", "\"s\"", "true", "null", "[]", "{\"QQ==\": 5}", "{\"QQ==\": {}}", "{\"QQ==\": []}",
        "{\"QQ==\": [3]}", "{\"QQ==\": [3, \"A\"]}", "{\"QQ==\": [3, \"A\", 1, 2]}", "{\"QQ==\": [\"x\", \"A\", 1]}",
        "{\"QQ==\": [3, 4, 1]}", "{\"QQ==\": [3, \"A\", \"1\"]}", "{\"QQ==\": [3, \"A\", null]}", "{\"QQ==\": [3, \"A\", true]}",
        "{\"QQ==\": [3, \"A\", [1]]}", "{\"QQ==\": [[3], \"A\", 1]}", "{\"QQ==\": [3, \"A\", 1]]", "{\"QQ==\": [3, \"A\", 1]}]",
        "{\"QQ==\": [3, \"A\", 1.5]}", "{\"QQ==\": [3.0, \"A\", 1]}", "{\"QQ==\": [3e0, \"A\", 1]}", "{\"QQ==\": [3, \"A\", 1E2]}",
        "{\"QQ==\": [-0, \"A\", 1]}", "{\"QQ==\": [3, \"A\", -0]}", "{\"QQ==\": [-4, \"A\", 1]}", "{\"QQ==\": [3, \"A\", -5]}",
        "{\"QQ==\": [3, \"A\", 0]}", "{\"QQ==\": [3, \"A\", 0.0]}", "{\"QQ==\": [3, \"A\", 18446744073709551616]}",
        "{\"QQ==\": [18446744073709551616, \"A\", 1]}", "{\"QQ==\": [-9223372036854775808, \"A\", 1]}",
        "{\"QQ==\": [-9223372036854775809, \"A\", 1]}", "{\"QQ==\": [3, \"A\", -9223372036854775808]}",
        "{\"QQ==\": [3, \"A\", 1e-400]}", "{\"QQ==\": [3, \"A\", 99999999999999999999999]}",
        // keys
        "{\"Y!I=\": [3, \"A\", 1]}", "{\"YWJ=\": [3, \"A\", 1]}", "{\"\": [3, \"A\", 1]}", "{\"Q\\u0000==\": [3, \"A\", 1]}",
        "{\"QQ=\": [3, \"A\", 1]}", "{\"Q===\": [3, \"A\", 1]}", "{\"QQ==QQ==\": [3, \"A\", 1]}", "{\"Y!I=\" x",
        "{\"\\u0059!I=\": 5}", "{\"QQ==\": [3, \"A\", 1], \"Y!I=\"", "{\"QQ==\": [3, \"A\", 1], 5",
        // NUL bytes inside the document end it early in both readers
        "{\0}"s, "{\"QQ==\"\0"s, "{\"QQ==\":[3,\0"s, "\0"s, " \0"s, "\xEF\xBB\xBF\0"s, "{\"QQ==\":[3,\"A\0\",1]}"s,
        // ... and after it, only nlohmann accepts (compare_readers allows exactly this)
        "{\"QQ==\":[3,\"A\",1]}\0"s, "{\"QQ==\":[3,\"A\",1]} \0 junk"s,
    };
    for (const auto& d : docs) check_alike(d);
}

TEST_CASE("errors are placed at nlohmann's byte, line and column") {
    // Spelled out once here, so that the offsets do not rest on the oracle alone.
    const std::string two_lines = "{\"QQ==\": [3, \"A\", 1],\n  \"Qg==\": [4, \"B\", 2]\n  x";
    check_alike(two_lines);
    model_error e = error_of(two_lines);
    CHECK(e.code() == errc::model_not_json);
    CHECK(std::string(e.what()) ==
          "[bytepiece.model.1] m.json: not valid JSON at byte 47: parse error at line 3, column 3: syntax error while "
          "parsing object - invalid literal; last read: '2]<U+000A>  x'; expected '}'");
    e = error_of("{\"QQ==\": [3, \"A\", 1]");
    CHECK(std::string(e.what()).find("at byte 21: parse error at line 1, column 21: syntax error while parsing object "
                                     "- unexpected end of input; expected '}'") != std::string::npos);
    check_alike("{\"QQ==\": [3, \"A\", 1e400]}");
    e = error_of("{\"QQ==\": [3, \"A\", 1e400]}");
    CHECK(std::string(e.what()).find("at byte 23: number overflow parsing '1e400'") != std::string::npos);
    e = error_of("");
    CHECK(std::string(e.what()).find("at byte 1: parse error at line 1, column 1: syntax error while parsing value - "
                                     "unexpected end of input") != std::string::npos);
}

TEST_CASE("numbers at the edge of double range are told apart as strtod does") {
    // 2^1024 - 2^970, the midpoint between DBL_MAX and 2^1024: from there on strtod gives inf.
    const std::string midpoint =
        "1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775872070963"
        "3028641669288791094655554785194040263065748867150582068190890200070838367627385484581771153176447573027"
        "0069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
    std::string below = midpoint;
    below.back() = '1';
    std::string below_midpoint_fraction = midpoint;
    below_midpoint_fraction.back() = '1';
    below_midpoint_fraction += ".999999999";
    const std::vector<std::pair<std::string, bool>> counts = {
        {"1.7976931348623157e308", true}, {"1.7976931348623158e308", true}, {"1.7976931348623159e308", false},
        {below_midpoint_fraction, true},
        {midpoint, false}, {below, true}, {midpoint + "0", false}, {"0." + midpoint + "e309", false},
        {"0.0000" + midpoint + "e313", false}, {"0.0000" + below + "e313", true}, {"-" + midpoint, false},
        {"1e308", true}, {"10e308", false}, {"0.1e309", true}, {"0e999999999999999999999", true},
        {"1e-99999999999999999999999", true}, {"1e99999999999999999999999", false}, {"0.000e400", true},
        {"1e-9223372036854775809", true}, {"1e9223372036854775808", false}, {"111E+11111111111111111115", false},
        {"0." + std::string(100, '0') + "1e400", true}, {"0." + std::string(80, '0') + "1e400", false},
        {"00", true}};
    for (const auto& [number, finite] : counts) {
        const std::string doc = "{\"QQ==\": [3, \"A\", " + number + "]}";
        check_alike(doc);
        if (number == "00") continue;  // not a number at all: checked against nlohmann only
        INFO(number);
        CHECK(error_of(doc).code() == (finite ? errc::model_bad_count : errc::model_not_json));
    }
}

TEST_CASE("a NUL byte after the model is refused, not taken for the end of the input") {
    // nlohmann read a NUL as the end of the input, so whatever followed one was ignored.
    const std::string valid = model::from_counts({{"A", 1}}, false).to_json();
    for (const std::string& tail : {"\0"s, "\0{\"Qg==\": [4, \"B\", 1]}"s, " \0garbage"s}) {
        const model_error e = error_of(valid + tail);
        CHECK(e.code() == errc::model_not_json);
        CHECK(std::string(e.what()).find("unexpected NUL byte after the top-level value") != std::string::npos);
        CHECK(std::string(e.what()).find("at byte " + std::to_string(valid.size() + tail.find('\0') + 1)) !=
              std::string::npos);
    }
}

TEST_CASE("mutated documents read alike") {
    const std::vector<std::string> seeds = {
        "{\"QQ==\": [3, \"A\", 1], \"Qg==\": [4, \"B\\u00e9\\ud83d\\ude00\", 20]}",
        "\xEF\xBB\xBF{ \"QUI=\" : [ 5 , \"AB\" , 7 ] }",
        "{\"Q\\u0051==\": [3, \"x\\n\", 1e2], \"QUJD\": [-0, \"\xc3\xa9\", 0.5e-3]}",
        " [1, -0, 0.5e-3, true, false, null, \"s\", {}, []] ",
        model::from_counts({{"A", 3}, {"\xc3\xa9", 2}, {"\n\"\\", 1}}, false).to_json(),
    };
    const std::vector<std::string> snippets = {
        "\"", "\\", "\\u", "\\ud800", "\\udc00", "\\uDBFF\\uDFFF", "D800", "1e400", "-1e400", "1.7976931348623159e308",
        "-", ".", "e", "E+", "0", "9", "18446744073709551616", "-9223372036854775809", "{", "}", "[", "]", ",", ":",
        "\0"s, "\xEF\xBB\xBF", "\xC3", "\xA9", "\xED\xA0\x80", "\xF4\x90", "true", "fals", "null", " ", "\n", "\t",
        "\r", "\x01", "\x7f", "QQ==", "\"QQ==\":[3,\"A\",1]", "[3,\"A\",1]", "\"Y!I=\"", "\"\"", "1\n", "\n\n",
        "1.5", "-0", "1E-2", "\\n", "\\\"", "\\/", "\\b\\f", "\\u0000", "\\u00e9",
        // longer than the excerpts in messages
        std::string(70, 'x'), std::string(90, '1'), "\"" + std::string(90, 'Q') + "\"",
    };
    std::mt19937_64 rng(20240611);
    const auto below = [&](std::size_t n) { return n ? static_cast<std::size_t>(rng() % n) : std::size_t{0}; };
    std::size_t checked = 0, accepted = 0;
    for (int round = 0; round < 60000; ++round) {
        std::string doc = seeds[below(seeds.size())];
        const std::size_t edits = 1 + below(4);
        for (std::size_t k = 0; k < edits; ++k) {
            const std::size_t at = below(doc.size() + 1);
            switch (below(5)) {
                case 0: if (at < doc.size()) doc[at] = static_cast<char>(rng()); break;
                case 1: doc.insert(at, snippets[below(snippets.size())]); break;
                case 2: doc.erase(at, 1 + below(8)); break;
                case 3: doc.resize(at); break;
                default: doc.insert(at, doc.substr(below(doc.size() + 1), below(16))); break;
            }
        }
        const std::string diff = compare_readers(doc);
        if (!diff.empty()) {
            INFO("input: " << shown(doc));
            FAIL(diff);
        }
        accepted += model_json_oracle::run_old(doc).ok;
        ++checked;
    }
    INFO(accepted << " of " << checked << " accepted");
    CHECK(accepted > 100);  // the mutations must also reach documents that load
}

TEST_CASE("released models read alike") {
    for (const char* name : {"models/bytepiece.eu.plus.40k.model", "models/bytepiece.plus.40k.model",
                             "models/bytepiece.zh.id.eu.40k.model", "models/bytepiece.eu.plus.160k.model"}) {
        if (!test_support::require_shared(name)) continue;
        const std::string json = test_support::read(test_support::shared_path(name));
        INFO(name);
        CHECK(compare_readers(json) == "");
    }
}
