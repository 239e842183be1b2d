// SPDX-License-Identifier: Apache-2.0
// `bytepiece convert --to sentencepiece`: the tool writes exactly the library's export, from a
// JSON or a binary model, to a file or standard output. Whether SentencePiece runs the file as
// BytePiece does is test_sentencepiece_export's subject; what happens to OUTPUT when convert
// fails, for every format, is test_cli_output_files'.
#include <bytepiece/sentencepiece_export.hpp>


#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

// A model whose pieces include a space, a newline, a non-UTF-8 pair and NUL: each must come
// out in the byte alphabet.
bytepiece::model sample_model() {
    return test_support::make_model(
        {{"the", 50}, {" the", 30}, {"ing\n", 4}, {std::string("\xE4\xB8", 2), 3}, {std::string("a\0", 2), 2}});
}

}  // namespace

TEST_CASE("convert --to sentencepiece writes the library's export, from JSON or binary", "[cli][sentencepiece]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("convert_sp");
    const auto m = sample_model();
    const std::string json = dir / "m.json";
    const std::string bin = dir / "m.bpm";
    m.save(json);
    bytepiece::tokenizer(m).save_binary(bin);
    const std::string expected = bytepiece::to_sentencepiece(m).serialize();

    const auto with_options = run(quote(cli()) + " convert --to sentencepiece -m " + quote(json) + " -o " +
                                  quote(dir / "a.model") + " 2>&1");
    INFO(with_options.out);
    CHECK(with_options.status == 0);
    CHECK(with_options.out.empty());
    CHECK(test_support::read(dir / "a.model") == expected);

    const auto plain = run(quote(cli()) + " convert " + quote(bin) + " " + quote(dir / "b.model") + " --to=sentencepiece 2>&1");
    INFO(plain.out);
    CHECK(plain.status == 0);
    CHECK(test_support::read(dir / "b.model") == expected);

    // The file reads back as a SentencePiece model with BytePiece's ids.
    const auto back = bytepiece::sentencepiece_model::parse(test_support::read(dir / "a.model"), "a.model");
    REQUIRE(back.pieces.size() == m.vocab_size());
    CHECK(back.pieces[0].text == "<unk>");
    CHECK(back.pieces[3].text == bytepiece::to_byte_alphabet(m.piece(3)));
    CHECK(back.normalizer.precompiled_charsmap == bytepiece::byte_alphabet_charsmap());

    // Standard output works too (not a terminal here).
    const auto to_stdout = run(quote(cli()) + " convert --to sentencepiece " + quote(json) + " -");
    CHECK(to_stdout.status == 0);
    CHECK(to_stdout.out == expected);
}

TEST_CASE("convert --help documents the SentencePiece export and how to call SentencePiece on it", "[cli][sentencepiece]") {
    if (!test_support::require_cli()) return;
    const auto help = run(quote(cli()) + " convert --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("--to binary|json|sentencepiece") != std::string::npos);
    CHECK(help.out.find("NFC") != std::string::npos);
    CHECK(help.out.find("Encode once per") != std::string::npos);
}
