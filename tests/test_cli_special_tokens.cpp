// SPDX-License-Identifier: Apache-2.0
// `bytepiece encode --special / --special-file / --allow-special / --refuse-special`: tokens are
// matched only with the opt-in, ids after the vocabulary or given in the file, the output
// checked against the library's encode_with_specials, for BytePiece, SentencePiece and HF.
#include <bytepiece/hf_tokenizer.hpp>
#include <bytepiece/sentencepiece_tokenizer.hpp>
#include <bytepiece/special_tokens.hpp>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

std::string joined(const std::vector<std::uint32_t>& ids) {
    std::string s;
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s;
}

}  // namespace

TEST_CASE("encode --special matches tokens only with --allow-special", "[cli][special]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("cli_special");
    const auto model = test_support::make_model({{"hello", 50}, {" world", 40}, {"<|", 30}, {"\n", 300}});
    model.save(dir / "m.json");
    const bytepiece::tokenizer tok(model);
    const std::string input = "hello<|end|> world\n<|end|><|im|>hello";
    test_support::write(dir / "in.txt", input);
    test_support::write(dir / "specials.txt", "<|im|>\r\n\n<|eos|>\t2\n");
    const std::string base = quote(cli()) + " encode -m " + quote(dir / "m.json");

    bytepiece::special_tokens sp;
    sp.append({"<|im|>"}, tok.vocab_size());
    sp.add("<|eos|>", 2);
    sp.append({"<|end|>"}, tok.vocab_size() + 1);

    // Without the opt-in: ordinary text, the same output as without --special.
    const auto plain = run(base + " " + quote(dir / "in.txt"));
    const auto ignored = run(base + " --special '<|end|>' --special-file " + quote(dir / "specials.txt") + " " + quote(dir / "in.txt"));
    REQUIRE(plain.status == 0);
    REQUIRE(ignored.status == 0);
    CHECK(ignored.out == plain.out);

    // With it: the chunk lines as before, a token's id on the line it follows.
    const auto allowed = run(base + " --allow-special --special-file " + quote(dir / "specials.txt") + " --special='<|end|>' " +
                             quote(dir / "in.txt"));
    REQUIRE(allowed.status == 0);
    const auto end_id = std::to_string(tok.vocab_size() + 1), im_id = std::to_string(tok.vocab_size());
    const std::string expected = joined(tok.encode("hello")) + " " + end_id + " " + joined(tok.encode(" world\n")) + "\n" + end_id +
                                 " " + im_id + " " + joined(tok.encode("hello")) + "\n";
    CHECK(allowed.out == expected);

    // --lines: each line alone, as encode_with_specials gives it.
    const auto lines = run(base + " --lines --allow-special --special-file " + quote(dir / "specials.txt") + " --special '<|end|>' " +
                           quote(dir / "in.txt"));
    REQUIRE(lines.status == 0);
    CHECK(lines.out == joined(bytepiece::encode_with_specials(tok, "hello<|end|> world", sp, bytepiece::allowed_special::all())) +
                           "\n" +
                           joined(bytepiece::encode_with_specials(tok, "<|end|><|im|>hello", sp, bytepiece::allowed_special::all())) +
                           "\n");

    // tokenize prints a token's content.
    const auto pieces = run(quote(cli()) + " tokenize --lines --allow-special --special '<|end|>' -m " + quote(dir / "m.json") + " " +
                            quote(dir / "in.txt"));
    REQUIRE(pieces.status == 0);
    CHECK(pieces.out.find("hello <|end|> \\sworld") == 0);

    // --refuse-special: an error naming the file and line.
    const auto refused =
        run(base + " --lines --refuse-special --special '<|im|>' " + quote(dir / "in.txt") + " 2>&1");
    CHECK(refused.status != 0);
    CHECK(refused.out.find("in.txt:2") != std::string::npos);
    CHECK(refused.out.find("<|im|>") != std::string::npos);
}

TEST_CASE("encode special token options are checked", "[cli][special][errors]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("cli_special_errors");
    test_support::make_model({}).save(dir / "m.json");
    test_support::write(dir / "in.txt", "a\n");
    test_support::write(dir / "dup.txt", "<a>\n<a>\n");
    test_support::write(dir / "badid.txt", "<a>\tx\n");
    const std::string base = quote(cli()) + " encode -m " + quote(dir / "m.json") + " ";
    const auto expect_error = [&](const std::string& args, const std::string& phrase) {
        const auto r = run(base + args + " " + quote(dir / "in.txt") + " 2>&1");
        INFO(args << ": " << r.out);
        CHECK(r.status != 0);
        CHECK(test_support::is_one_line(r.out));
        CHECK(r.out.find(phrase) != std::string::npos);
    };
    expect_error("--allow-special", "needs special tokens");
    expect_error("--special '<a>' --allow-special --refuse-special", "exclude each other");
    expect_error("--special-file " + quote(dir / "dup.txt"), "dup.txt:2");
    expect_error("--special-file " + quote(dir / "badid.txt"), "badid.txt:1");
    expect_error("--special ''", "empty");
    expect_error("--special '<a>' --bos", "--bos");
}

TEST_CASE("encode --special with SentencePiece and tokenizer.json models", "[cli][special]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("cli_special_formats");
    test_support::write(dir / "in.txt", "hello<|sep|>world\n<|sep|>\n");
    if (test_support::require_shared("models/sp/albert-30k-clean.model")) {
        const std::string path = test_support::shared_path("models/sp/albert-30k-clean.model");
        const auto tok = bytepiece::sentencepiece_tokenizer::load(path);
        bytepiece::special_tokens sp;
        sp.append({"<|sep|>"}, tok.vocab_size());
        const auto r = run(quote(cli()) + " encode --allow-special --special '<|sep|>' -m " + quote(path) + " " + quote(dir / "in.txt"));
        REQUIRE(r.status == 0);
        CHECK(r.out == joined(bytepiece::encode_with_specials(tok, "hello<|sep|>world", sp, bytepiece::allowed_special::all())) + "\n" +
                           std::to_string(tok.vocab_size()) + "\n");
        const auto bos = run(quote(cli()) + " encode --bos --special '<|sep|>' -m " + quote(path) + " " + quote(dir / "in.txt") + " 2>&1");
        CHECK(bos.status != 0);
    }
    if (test_support::require_shared("models/hf/albert-30k-clean.transformers-albert.json")) {
        const std::string path = test_support::shared_path("models/hf/albert-30k-clean.transformers-albert.json");
        const auto tok = bytepiece::hf_tokenizer::load(path);
        const auto r = run(quote(cli()) + " encode --special '<|sep|>' -m " + quote(path) + " " + quote(dir / "in.txt"));
        REQUIRE(r.status == 0);
        CHECK(r.out == joined(tok.encode("hello<|sep|>world")) + "\n" + joined(tok.encode("<|sep|>")) + "\n");
    }
}

TEST_CASE("decode takes the special tokens encode was given", "[cli][special]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("cli_special_decode");
    test_support::make_model({{"hello", 50}}).save(dir / "m.json");
    test_support::write(dir / "in.txt", "hello<|end|>hello\n<|im|>x\n");
    const std::string m = " -m " + quote(dir / "m.json");
    const std::string specials = " --special '<|end|>' --special '<|im|>'";
    const auto enc = run(quote(cli()) + " encode --allow-special" + m + specials + " " + quote(dir / "in.txt") + " > " + quote(dir / "ids.txt"));
    REQUIRE(enc.status == 0);
    const auto kept = run(quote(cli()) + " decode --keep-special" + m + specials + " " + quote(dir / "ids.txt"));
    REQUIRE(kept.status == 0);
    CHECK(kept.out == "hello<|end|>hello\n<|im|>x\n");
    const auto skipped = run(quote(cli()) + " decode" + m + specials + " " + quote(dir / "ids.txt"));
    REQUIRE(skipped.status == 0);
    CHECK(skipped.out == "hellohello\nx\n");
    const auto raw = run(quote(cli()) + " decode --raw --keep-special" + m + specials + " " + quote(dir / "ids.txt"));
    CHECK(raw.out == kept.out);
    // Without the tokens, their ids are outside the vocabulary.
    const auto plain = run(quote(cli()) + " decode" + m + " " + quote(dir / "ids.txt") + " 2>&1");
    CHECK(plain.status != 0);
    CHECK(plain.out.find("outside the vocabulary") != std::string::npos);
    const auto no_tokens = run(quote(cli()) + " decode --keep-special" + m + " " + quote(dir / "ids.txt") + " 2>&1");
    CHECK(no_tokens.status != 0);
}
