// SPDX-License-Identifier: Apache-2.0
#include <bytepiece/model.hpp>

#include <cmath>
#include <string>

#include "test_support.hpp"

using bytepiece::errc;
using bytepiece::model;
using bytepiece::model_error;

namespace {

// A valid model as JSON text: all 256 single bytes with count 1, plus optional extras.
std::string valid_json(const std::string& extra_entries = "", std::size_t skip_byte = 256) {
    std::string s = "{";
    std::size_t id = 3;
    for (int b = 0; b < 256; ++b) {
        if (static_cast<std::size_t>(b) == skip_byte) continue;
        std::string key;
        bytepiece::detail::base64_encode_append(std::string(1, static_cast<char>(b)), key);
        if (id > 3) s += ",";
        s += "\"" + key + "\": [" + std::to_string(id++) + ", \"\", 1]";
    }
    s += extra_entries;
    s += "}";
    return s;
}

model_error load_error(const std::string& json) {
    try {
        model::from_json(json, "m.json");
    } catch (const model_error& e) {
        return e;
    }
    FAIL("no model_error thrown");
    return model_error(errc::model_empty, "");
}

void check_error(const std::string& json, errc code, const std::string& must_mention) {
    const model_error e = load_error(json);
    INFO(e.what());
    CHECK(e.code() == code);
    const std::string what = e.what();
    CHECK(what.find("m.json") != std::string::npos);
    CHECK(what.find(must_mention) != std::string::npos);
    CHECK(what.find("[bytepiece.model.") == 0);
}

}  // namespace

TEST_CASE("scores are ln(count) - ln(total)", "[model]") {
    const auto m = test_support::make_model({{"ab", 100}, {"abc", 50}});
    REQUIRE(m.vocab_size() == 3 + 256 + 2);
    CHECK(m.total_count() == 256 + 150);
    const auto id = static_cast<model::id_type>(m.vocab_size() - 1);  // "abc" sorts last
    CHECK(m.piece(id) == "abc");
    CHECK(m.count(id) == 50);
    CHECK(m.score(id) == Approx(std::log(50.0) - std::log(406.0)));
    CHECK(std::isinf(m.score(model::pad_id)));
    CHECK(m.piece(model::bos_id).empty());
    CHECK(m.max_piece_length() == 3);
}

TEST_CASE("from_counts orders pieces by (length, bytes) like the reference", "[model]") {
    const auto m = test_support::make_model({{"b", 5}, {"zz", 2}, {"ab", 3}, {"\xff\x01", 4}});
    CHECK(m.piece(3) == std::string(1, '\0'));
    CHECK(m.piece(3 + 255) == "\xff");
    CHECK(m.piece(3 + 256) == "ab");
    CHECK(m.piece(3 + 257) == "zz");
    CHECK(m.piece(3 + 258) == "\xff\x01");
}

TEST_CASE("save writes the reference's format and loads back unchanged", "[model]") {
    const auto m = test_support::make_model({{"h\xc3\xa9llo", 7}, {"\"q\\\n\t", 3}, {"\xe4\xb8", 2}});
    const std::string json = m.to_json();
    CHECK(json.find("\n    \"aMOpbGxv\": [\n        261,\n        \"h\xc3\xa9llo\",\n        7\n    ]") != std::string::npos);
    CHECK(json.find("\"\\\"q\\\\\\n\\t\"") != std::string::npos);  // JSON escapes as Python writes them
    CHECK(json.find("\"\\u0000\"") != std::string::npos);         // control bytes as \u00XX, lowercase
    CHECK(json.find("\"\x7f\"") != std::string::npos);             // DEL is not escaped
    CHECK(json.back() == '}');
    const auto again = model::from_json(json);
    REQUIRE(again.vocab_size() == m.vocab_size());
    for (std::size_t id = 3; id < m.vocab_size(); ++id) {
        CHECK(again.piece(static_cast<model::id_type>(id)) == m.piece(static_cast<model::id_type>(id)));
        CHECK(again.count(static_cast<model::id_type>(id)) == m.count(static_cast<model::id_type>(id)));
    }
    CHECK(again.to_json() == json);
    const std::string path = test_support::scratch_path("model_roundtrip.json");
    m.save(path);
    CHECK(test_support::read(path) == json);
    CHECK(model::load(path).to_json() == json);
    std::remove(path.c_str());
}

TEST_CASE("released models load and save back byte-identical", "[model][golden]") {
    for (const char* name : {"bytepiece.plus.40k", "bytepiece.eu.plus.40k", "bytepiece.zh.id.eu.40k", "bytepiece.eu.plus.160k"}) {
        const std::string rel = std::string("models/") + name + ".model";
        if (!test_support::require_shared(rel)) return;
        const std::string text = test_support::read(test_support::shared_path(rel));
        const auto m = model::from_json(text, rel);
        INFO(name);
        CHECK(m.to_json() == text);
    }
}

TEST_CASE("malformed models are rejected with the file and the key or id", "[model][errors]") {
    SECTION("not JSON") { check_error("{\"AA==\": [3, \"\", 1", errc::model_not_json, "not valid JSON"); }
    SECTION("garbage") { check_error("\x01\x02garbage", errc::model_not_json, "byte"); }
    SECTION("top level not an object") { check_error("[1, 2, 3]", errc::model_bad_shape, "top level"); }
    SECTION("value not an array") { check_error(valid_json(", \"YWI=\": 5"), errc::model_bad_shape, "YWI="); }
    SECTION("array too short") { check_error(valid_json(", \"YWI=\": [259, \"ab\"]"), errc::model_bad_shape, "YWI="); }
    SECTION("array too long") { check_error(valid_json(", \"YWI=\": [259, \"ab\", 1, 2]"), errc::model_bad_shape, "exactly 3"); }
    SECTION("id not a number") { check_error(valid_json(", \"YWI=\": [\"x\", \"ab\", 1]"), errc::model_bad_shape, "YWI="); }
    SECTION("deep nesting") { check_error(std::string(100000, '[') , errc::model_bad_shape, "top level"); }
    SECTION("nested value") { check_error(valid_json(", \"YWI=\": [[[[1]]], \"ab\", 1]"), errc::model_bad_shape, "YWI="); }
    SECTION("bad base64") { check_error(valid_json(", \"Y!I=\": [259, \"ab\", 1]"), errc::model_bad_base64, "Y!I="); }
    SECTION("non-canonical base64") { check_error(valid_json(", \"YWJ=\": [259, \"ab\", 1]"), errc::model_bad_base64, "YWJ="); }
    SECTION("empty key") { check_error(valid_json(", \"\": [259, \"\", 1]"), errc::model_empty_piece, "empty piece"); }
    SECTION("duplicate piece") {
        check_error(valid_json(", \"YWI=\": [259, \"ab\", 1], \"YWI=\": [260, \"ab\", 1]"), errc::model_duplicate_piece, "YWI=");
    }
    SECTION("duplicate id") { check_error(valid_json(", \"YWI=\": [258, \"ab\", 1]"), errc::model_duplicate_id, "258"); }
    SECTION("gap in ids") { check_error(valid_json(", \"YWI=\": [260, \"ab\", 1]"), errc::model_bad_ids, "259"); }
    SECTION("id far out of range") {
        check_error(valid_json(", \"YWI=\": [18446744073709551615, \"ab\", 1]"), errc::model_bad_ids, "259");
    }
    SECTION("negative id") { check_error(valid_json(", \"YWI=\": [-4, \"ab\", 1]"), errc::model_bad_ids, "-4"); }
    SECTION("zero count") { check_error(valid_json(", \"YWI=\": [259, \"ab\", 0]"), errc::model_bad_count, "count 0"); }
    SECTION("negative count") { check_error(valid_json(", \"YWI=\": [259, \"ab\", -5]"), errc::model_bad_count, "-5"); }
    SECTION("fractional count") { check_error(valid_json(", \"YWI=\": [259, \"ab\", 1.5]"), errc::model_bad_count, "1.5"); }
    SECTION("count overflows 64 bits") {
        check_error(valid_json(", \"YWI=\": [259, \"ab\", 99999999999999999999999]"), errc::model_bad_count, "64 bits");
    }
    SECTION("sum of counts overflows") {
        check_error(valid_json(", \"YWI=\": [259, \"ab\", 18446744073709551615]"), errc::model_bad_count, "overflows");
    }
    SECTION("missing single byte") { check_error(valid_json("", 0x41), errc::model_missing_byte, "0x41"); }
    SECTION("empty model") { check_error("{}", errc::model_empty, "no pieces"); }
    SECTION("trailing garbage") { check_error(valid_json() + "x", errc::model_not_json, "not valid JSON"); }
}

TEST_CASE("a file that cannot be read is an io_error naming it", "[model][errors]") {
    try {
        model::load("/nonexistent/dir/m.model");
        FAIL("no exception");
    } catch (const bytepiece::io_error& e) {
        CHECK(e.code() == errc::io_open);
        CHECK(std::string(e.what()).find("/nonexistent/dir/m.model") != std::string::npos);
    }
}

TEST_CASE("a model can be built without all bytes when asked", "[model]") {
    const auto m = model::from_counts({{"a", 1}, {"b", 2}}, false);
    CHECK(m.piece_count() == 2);
    CHECK_THROWS_AS(model::from_counts({{"a", 1}, {"b", 2}}), model_error);
    CHECK_THROWS_AS(model::from_counts({{"a", 1}, {"a", 2}}, false), model_error);
    CHECK_THROWS_AS(model::from_counts({{"a", 0}}, false), model_error);
}
