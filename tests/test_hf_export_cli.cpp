// SPDX-License-Identifier: Apache-2.0
// `bytepiece convert --to hf`: the tool writes exactly the library's export, from a JSON or a
// binary model, HF tokenizers runs the file with our ids, and convert keeps its promises about
// OUTPUT (checked before the model is read, never replaced on failure, devices written in
// place). The export's agreement with HF on real models is test_hf_export's subject.
#include <bytepiece/hf_export.hpp>
#include <bytepiece/tokenizer.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>

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

TEST_CASE("convert --to hf leaves OUTPUT alone when it fails", "[cli][hf_export]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("convert_hf_fail");
    const std::string out = dir / "keep.json";
    test_support::write(out, "precious");

    // A model that is not one: one line naming it, and the old output is still there.
    test_support::write(dir / "bad.json", "{\"QQ==\": [3, \"A\"");
    const auto bad = run(quote(cli()) + " convert --to hf " + quote(dir / "bad.json") + " " + quote(out) + " 2>&1");
    INFO(bad.out);
    CHECK(bad.status == 2);
    CHECK(test_support::is_one_line(bad.out));
    CHECK(bad.out.find("bad.json") != std::string::npos);
    CHECK(test_support::read(out) == "precious");
    CHECK(dir.names() == std::vector<std::string>{"bad.json", "keep.json"});  // no temporary file left

    // An OUTPUT that cannot be written is named before the model is even read.
    sample_model().save(dir / "m.json");
    const auto nowhere =
        run(quote(cli()) + " convert --to hf " + quote(dir / "m.json") + " " + quote(dir / "no_such_folder/x.json") + " 2>&1");
    INFO(nowhere.out);
    CHECK(nowhere.status == 2);
    CHECK(nowhere.out.find("no_such_folder") != std::string::npos);

    // A folder is not a file.
    const auto folder = run(quote(cli()) + " convert --to hf " + quote(dir / "m.json") + " " + quote(dir.path()) + " 2>&1");
    CHECK(folder.status == 2);
    CHECK(folder.out.find("folder") != std::string::npos);

    // A misspelt format is refused, listing the ones there are.
    const auto typo = run(quote(cli()) + " convert --to huggingface " + quote(dir / "m.json") + " " + quote(out) + " 2>&1");
    CHECK(typo.status == 2);
    CHECK(typo.out.find("'hf'") != std::string::npos);
    CHECK(test_support::read(out) == "precious");
}

TEST_CASE("convert --to hf writes into a device in place", "[cli][hf_export][output-file]") {
    if (!test_support::require_cli() || !test_support::require_root("writing to device nodes")) return;
    scratch_folder dir("convert_hf_device");
    sample_model().save(dir / "m.json");
    REQUIRE(::mknod((dir / "full").c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);  // a /dev/full
    const auto full = run(quote(cli()) + " convert --to hf " + quote(dir / "m.json") + " " + quote(dir / "full") + " 2>&1");
    INFO(full.out);
    CHECK(full.status == 2);
    CHECK(full.out.find("No space left on device") != std::string::npos);
    const auto st = test_support::status_of(dir / "full");
    CHECK((st.ok && S_ISCHR(st.st.st_mode)));
}

TEST_CASE("convert --help documents the tokenizer.json export", "[cli][hf_export]") {
    if (!test_support::require_cli()) return;
    const auto help = run(quote(cli()) + " convert --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("--to binary|json|sentencepiece|hf") != std::string::npos);
    CHECK(help.out.find("--to hf writes a HuggingFace tokenizer.json") != std::string::npos);
    CHECK(help.out.find("Unicode 9.0") != std::string::npos);
}
