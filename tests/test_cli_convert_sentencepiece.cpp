// SPDX-License-Identifier: Apache-2.0
// `bytepiece convert --to sentencepiece`: the tool writes exactly the library's export, from a
// JSON or a binary model, and keeps convert's promises about OUTPUT (checked before the model
// is read, never replaced on failure, devices written in place). Whether SentencePiece runs
// the file as BytePiece does is test_sentencepiece_export's subject.
#include <bytepiece/sentencepiece_export.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>

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

TEST_CASE("convert --to sentencepiece leaves OUTPUT alone when it fails", "[cli][sentencepiece]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("convert_sp_fail");
    const std::string out = dir / "keep.model";
    test_support::write(out, "precious");

    // A model that is not one: one line naming it, and the old output is still there.
    test_support::write(dir / "bad.json", "{\"QQ==\": [3, \"A\"");
    const auto bad = run(quote(cli()) + " convert --to sentencepiece " + quote(dir / "bad.json") + " " + quote(out) + " 2>&1");
    INFO(bad.out);
    CHECK(bad.status == 2);
    CHECK(test_support::is_one_line(bad.out));
    CHECK(bad.out.find("bad.json") != std::string::npos);
    CHECK(test_support::read(out) == "precious");
    CHECK(dir.names() == std::vector<std::string>{"bad.json", "keep.model"});  // no temporary file left

    // An OUTPUT that cannot be written is named before the model is even read.
    sample_model().save(dir / "m.json");
    const auto nowhere = run(quote(cli()) + " convert --to sentencepiece " + quote(dir / "m.json") + " " +
                             quote(dir / "no_such_folder/x.model") + " 2>&1");
    INFO(nowhere.out);
    CHECK(nowhere.status == 2);
    CHECK(nowhere.out.find("no_such_folder") != std::string::npos);

    // A misspelt format is refused, listing the ones there are.
    const auto typo = run(quote(cli()) + " convert --to sentencepeice " + quote(dir / "m.json") + " " + quote(out) + " 2>&1");
    CHECK(typo.status == 2);
    CHECK(typo.out.find("'sentencepiece'") != std::string::npos);
    CHECK(test_support::read(out) == "precious");
}

TEST_CASE("convert --to sentencepiece writes into a device in place", "[cli][sentencepiece][output-file]") {
    if (!test_support::require_cli() || !test_support::require_root("writing to device nodes")) return;
    scratch_folder dir("convert_sp_device");
    sample_model().save(dir / "m.json");
    REQUIRE(::mknod((dir / "full").c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);  // a /dev/full
    const auto full = run(quote(cli()) + " convert --to sentencepiece " + quote(dir / "m.json") + " " + quote(dir / "full") + " 2>&1");
    INFO(full.out);
    CHECK(full.status == 2);
    CHECK(full.out.find("No space left on device") != std::string::npos);
    const auto st = test_support::status_of(dir / "full");
    CHECK((st.ok && S_ISCHR(st.st.st_mode)));
}

TEST_CASE("convert --help documents the SentencePiece export and how to call SentencePiece on it", "[cli][sentencepiece]") {
    if (!test_support::require_cli()) return;
    const auto help = run(quote(cli()) + " convert --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("--to binary|json|sentencepiece") != std::string::npos);
    CHECK(help.out.find("NFC") != std::string::npos);
    CHECK(help.out.find("Encode once per") != std::string::npos);
}
