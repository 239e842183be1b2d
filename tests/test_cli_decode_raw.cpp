// SPDX-License-Identifier: Apache-2.0
// `decode --raw` writes the pieces' bytes exactly, so raw encoding round-trips any bytes;
// plain `decode` keeps the reference's behaviour of dropping bytes that are not valid UTF-8.
#include <string>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

}  // namespace

TEST_CASE("encode --raw | decode --raw gives back the input byte for byte", "[cli][decode]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("decode_raw");
    const auto model = test_support::make_model({{"hello", 50}, {" world", 40}, {"\n", 30}, {"\xc3\xa9", 20}});
    model.save(dir / "m.json");
    // Invalid UTF-8 of several kinds, a NUL, a decomposed character (kept as is by --raw),
    // CRLF, and no final newline.
    std::string input = "hello\xff\xfe world\n\xc3(\x80\n";
    input += std::string("nul\0byte\r\n", 10);
    input += "e\xcc\x81 \xed\xa0\x80 \xf4\x90\x80\x80 \xc3\xa9\n\n\nend\xe4\xb8";
    test_support::write(dir / "in.bin", input);
    const std::string m = " -m " + quote(dir / "m.json");

    const auto exact = run(quote(cli()) + " encode --raw" + m + " " + quote(dir / "in.bin") + " | " + quote(cli()) + " decode --raw" + m);
    CHECK(exact.status == 0);
    CHECK((exact.out == input));

    // The same ids through plain decode: the reference's text, invalid bytes dropped.
    const auto ids = run(quote(cli()) + " encode --raw" + m + " " + quote(dir / "in.bin"));
    REQUIRE(ids.status == 0);
    test_support::write(dir / "ids", ids.out);
    const auto text = run(quote(cli()) + " decode" + m + " " + quote(dir / "ids"));
    CHECK(text.status == 0);
    const bytepiece::tokenizer tok(model, [] {
        bytepiece::encode_options o;
        o.normalize = false;
        return o;
    }());
    CHECK((text.out == tok.decode(tok.encode(input))));
    CHECK(text.out.find('\xff') == std::string::npos);

    // Per line too: --lines --raw both ways restores every line.
    const auto lines = run(quote(cli()) + " encode --raw --lines" + m + " " + quote(dir / "in.bin") + " | " + quote(cli()) +
                           " decode --raw --lines" + m);
    CHECK(lines.status == 0);
    CHECK((lines.out == input + "\n"));  // the last line had no newline
}
