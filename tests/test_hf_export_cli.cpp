// SPDX-License-Identifier: Apache-2.0
// `bytepiece convert --to hf`: the tool writes exactly the library's export, from a JSON or a
// binary model, and HF tokenizers runs the file with our ids. The export's agreement with HF on
// real models is test_hf_export's subject; what happens to OUTPUT when convert fails, for every
// format, is test_cli_output_files'.
#include <bytepiece/hf_export.hpp>
#include <bytepiece/tokenizer.hpp>


#include <string>
#include <vector>

#include "hf_oracle.hpp"
#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

// Pieces with a space, a newline, a quote, a backslash, a non-UTF-8 pair and NUL: each must
// come out in the byte alphabet, JSON-escaped where needed.
bytepiece::model sample_model() {
    return test_support::make_model({{"the", 50},
                                     {" the", 30},
                                     {"ing\n", 4},
                                     {"\"\\", 6},
                                     {std::string("\xE4\xB8", 2), 3},
                                     {std::string("a\0", 2), 2}});
}

}  // namespace

TEST_CASE("convert --to hf writes the library's export, from JSON or binary", "[cli][hf_export]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("convert_hf");
    const auto m = sample_model();
    const std::string json = dir / "m.json";
    const std::string bin = dir / "m.bpm";
    m.save(json);
    bytepiece::tokenizer(m).save_binary(bin);
    const std::string expected = bytepiece::to_hf_json(m);

    const auto with_options =
        run(quote(cli()) + " convert --to hf -m " + quote(json) + " -o " + quote(dir / "a.json") + " 2>&1");
    INFO(with_options.out);
    CHECK(with_options.status == 0);
    CHECK(with_options.out.empty());
    CHECK(test_support::read(dir / "a.json") == expected);

    const auto plain = run(quote(cli()) + " convert " + quote(bin) + " " + quote(dir / "b.json") + " --to=hf 2>&1");
    INFO(plain.out);
    CHECK(plain.status == 0);
    CHECK(test_support::read(dir / "b.json") == expected);

    // Standard output works too.
    const auto to_stdout = run(quote(cli()) + " convert --to hf " + quote(json) + " -");
    CHECK(to_stdout.status == 0);
    CHECK(to_stdout.out == expected);

    // An existing file is replaced whole (through a temporary file and a rename).
    test_support::write(dir / "c.json", std::string(5000000, 'x'));
    const auto replace = run(quote(cli()) + " convert --to hf " + quote(json) + " " + quote(dir / "c.json") + " 2>&1");
    CHECK(replace.status == 0);
    CHECK(test_support::read(dir / "c.json") == expected);
}

TEST_CASE("convert --to hf: HF tokenizers gives our ids with the file written", "[cli][hf_export][oracle]") {
    if (!test_support::require_cli() || !hf_oracle::available()) return;
    scratch_folder dir("convert_hf_oracle");
    const auto m = sample_model();
    m.save(dir / "m.json");
    const auto converted = run(quote(cli()) + " convert --to hf " + quote(dir / "m.json") + " " + quote(dir / "t.json") + " 2>&1");
    INFO(converted.out);
    REQUIRE(converted.status == 0);
    const std::vector<std::string> texts = {"the thing\n\n the\"\\ the",
                                            std::string("a\0a\0\xE4\xB8\x80 \xE4\xB8\x8A</s>", 16),
                                            "e\xCC\x81 \xC3\xA9\r\n\n \n", ""};
    const auto hf = hf_oracle::encode(dir / "t.json", texts, false);
    const bytepiece::tokenizer tok(m);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        INFO("text " << i);
        CHECK(hf[i] == tok.encode(texts[i]));
    }
}

TEST_CASE("convert --help documents the tokenizer.json export", "[cli][hf_export]") {
    if (!test_support::require_cli()) return;
    const auto help = run(quote(cli()) + " convert --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("--to binary|json|sentencepiece|hf") != std::string::npos);
    CHECK(help.out.find("--to hf writes a HuggingFace tokenizer.json") != std::string::npos);
    CHECK(help.out.find("Unicode 9.0") != std::string::npos);
}
