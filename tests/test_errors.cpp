// SPDX-License-Identifier: Apache-2.0
#include <bytepiece/errors.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("error messages carry a stable id", "[errors]") {
    const bytepiece::model_error e(bytepiece::errc::model_bad_base64, "m.json: key \"x\"");
    CHECK(std::string(e.what()) == "[bytepiece.model.3] m.json: key \"x\"");
    CHECK(e.code() == bytepiece::errc::model_bad_base64);
    const bytepiece::io_error io(bytepiece::errc::io_write, "out: disk full");
    CHECK(std::string(io.what()) == "[bytepiece.io.3] out: disk full");
    const bytepiece::decode_error d(bytepiece::errc::decode_bad_id, "id 5");
    CHECK(std::string(d.what()).rfind("[bytepiece.decode.1]", 0) == 0);
    const bytepiece::train_error t(bytepiece::errc::train_bad_option, "order");
    CHECK(std::string(t.what()).rfind("[bytepiece.train.2]", 0) == 0);
    const bytepiece::argument_error a(bytepiece::errc::invalid_argument, "alpha");
    CHECK(std::string(a.what()).rfind("[bytepiece.argument.1]", 0) == 0);
    // The binary model's ids, as the README's table lists them.
    CHECK(std::string(bytepiece::model_error(bytepiece::errc::model_binary_version, "m").what()) == "[bytepiece.model.12] m");
    CHECK(std::string(bytepiece::model_error(bytepiece::errc::model_binary_damaged, "m").what()) == "[bytepiece.model.13] m");
    CHECK(std::string(bytepiece::model_error(bytepiece::errc::model_binary_invalid, "m").what()) == "[bytepiece.model.14] m");
}

TEST_CASE("every library exception is a bytepiece::error and a std::runtime_error", "[errors]") {
    try {
        throw bytepiece::model_error(bytepiece::errc::model_empty, "x");
    } catch (const bytepiece::error& e) {
        CHECK(e.code() == bytepiece::errc::model_empty);
    }
    CHECK_THROWS_AS(throw bytepiece::io_error(bytepiece::errc::io_open, "x"), std::runtime_error);
}
