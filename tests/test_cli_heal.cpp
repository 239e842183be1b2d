// SPDX-License-Identifier: Apache-2.0
// `bytepiece heal`: one tab-separated line per prompt, equal to the library's token_healer,
// --candidates, --pieces, --whole, tokenizer.json files, and its refusals.
#include <bytepiece/hf_token_healing.hpp>
#include <bytepiece/sentencepiece_token_healing.hpp>
#include <bytepiece/token_healing.hpp>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;
using test_support::split;

std::string join(const std::vector<std::uint32_t>& ids) {
    std::string s;
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s;
}

}  // namespace

TEST_CASE("heal prints the kept ids, the given-back ids, the remainder and the candidates", "[cli][heal]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const std::string model = test_support::shared_path("models/bytepiece.eu.plus.40k.model");
    const auto tok = bytepiece::tokenizer::load(model);
    const bytepiece::token_healer healer(tok);
    scratch_folder dir("cli_heal");
    const std::vector<std::string> prompts{"The weather in Ber", "Hello, wor", "int main(", "", "a b "};
    std::string input;
    for (const auto& p : prompts) input += p + "\n";
    test_support::write(dir / "in.txt", input);

    const auto r = run(quote(cli()) + " heal -m " + quote(model) + " --candidates " + quote(dir / "in.txt"));
    REQUIRE(r.status == 0);
    auto lines = split(r.out, '\n');
    REQUIRE(lines.size() == prompts.size() + 1);
    CHECK(lines.back().empty());
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        INFO("prompt '" << prompts[i] << "'");
        const auto h = healer.heal(prompts[i]);
        const auto f = split(lines[i], '\t');
        REQUIRE(f.size() == 5);
        CHECK(f[0] == join(h.ids));
        CHECK(f[1] == join(h.removed_ids));
        // The remainder is escaped as pieces are: spaces become \s.
        std::string escaped;
        for (char c : h.remainder) escaped += c == ' ' ? std::string("\\s") : std::string(1, c);
        CHECK(f[2] == escaped);
        CHECK(f[3] == join(healer.starting_with(h.remainder)));
        CHECK(f[4] == join(healer.prefixes_of(h.remainder)));
    }
    // The example, spelled out: " in B" and "er" are given back.
    const auto pieces = run(quote(cli()) + " heal -m " + quote(model) + " --pieces < " + quote(dir / "in.txt"));
    REQUIRE(pieces.status == 0);
    const auto first = split(split(pieces.out, '\n')[0], '\t');
    REQUIRE(first.size() == 3);
    CHECK(first[1] == "\\sin\\sB er");
    CHECK(first[2] == "\\sin\\sBer");
}

TEST_CASE("heal --whole takes a file as one prompt, newlines included", "[cli][heal]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/bytepiece.zh.id.eu.40k.model")) return;
    const std::string model = test_support::shared_path("models/bytepiece.zh.id.eu.40k.model");
    const auto tok = bytepiece::tokenizer::load(model);
    const bytepiece::token_healer healer(tok);
    scratch_folder dir("cli_heal_whole");
    const std::string prompt = "今天天气很好\n今天天";
    test_support::write(dir / "p.txt", prompt);
    const auto r = run(quote(cli()) + " heal -m " + quote(model) + " --whole " + quote(dir / "p.txt"));
    REQUIRE(r.status == 0);
    const auto h = healer.heal(prompt);
    CHECK(h.remainder == "天");
    CHECK(r.out == join(h.ids) + "\t" + join(h.removed_ids) + "\t天\n");
}

TEST_CASE("heal refuses what it cannot do, in one line with status 2", "[cli][heal]") {
    if (!test_support::require_cli()) return;
    const auto no_model = run(quote(cli()) + " heal 2>&1 < /dev/null");
    CHECK(no_model.status == 2);
    CHECK(test_support::is_one_line(no_model.out));
    CHECK(no_model.out.find("-m") != std::string::npos);
    if (test_support::require_shared("models/hf/albert-30k-clean.transformers-albert.json")) {
        // A prompt that ends inside a possible added token ("[CL" of "[CLS]").
        const auto inside = run("printf 'Hello [CL\\n' | " + quote(cli()) + " heal -m " +
                                quote(test_support::shared_path("models/hf/albert-30k-clean.transformers-albert.json")) + " 2>&1");
        CHECK(inside.status == 2);
        CHECK(test_support::is_one_line(inside.out));
        CHECK(inside.out.find("argument.10") != std::string::npos);
        CHECK(inside.out.find("[CLS]") != std::string::npos);
    }
    if (test_support::require_shared("models/sp/spm-u2k-ws-suffix.model")) {
        const auto suffix = run("printf 'Hello wor\\n' | " + quote(cli()) + " heal -m " +
                                quote(test_support::shared_path("models/sp/spm-u2k-ws-suffix.model")) + " 2>&1");
        CHECK(suffix.status == 2);
        CHECK(test_support::is_one_line(suffix.out));
        CHECK(suffix.out.find("argument.10") != std::string::npos);
    }
    const auto help = run(quote(cli()) + " heal --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("--candidates") != std::string::npos);
}

TEST_CASE("heal works on SentencePiece models in their normalized text", "[cli][heal]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/sp/spm-u2k-nmt_nfkc.model")) return;
    const std::string model = test_support::shared_path("models/sp/spm-u2k-nmt_nfkc.model");
    const auto sp = bytepiece::sentencepiece_tokenizer::load(model);
    const bytepiece::sentencepiece_token_healer healer(sp);
    scratch_folder dir("cli_heal_sp");
    const std::vector<std::string> prompts{"Hello wor", "Hello ", "The weather in Ber"};
    std::string input;
    for (const auto& p : prompts) input += p + "\n";
    test_support::write(dir / "in.txt", input);
    const auto r = run(quote(cli()) + " heal -m " + quote(model) + " --candidates " + quote(dir / "in.txt"));
    REQUIRE(r.status == 0);
    const auto lines = split(r.out, '\n');
    REQUIRE(lines.size() == prompts.size() + 1);
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        INFO("prompt '" << prompts[i] << "'");
        const auto h = healer.heal(prompts[i]);
        const auto f = split(lines[i], '\t');
        REQUIRE(f.size() == 5);
        CHECK(f[0] == join(h.ids));
        CHECK(f[1] == join(h.removed_ids));
        CHECK(f[2] == h.remainder);  // U+2581 needs no escape
        CHECK(f[3] == join(healer.starting_with(h.remainder)));
        CHECK(f[4] == join(healer.prefixes_of(h.remainder)));
    }
}

TEST_CASE("heal works on tokenizer.json files, with the prompt's text given back last", "[cli][heal]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/hf/albert-30k-clean.from_spm.json")) return;
    const std::string model = test_support::shared_path("models/hf/albert-30k-clean.from_spm.json");
    const auto hf = bytepiece::hf_tokenizer::load(model);
    const bytepiece::hf_token_healer healer(hf);
    scratch_folder dir("cli_heal_hf");
    const std::vector<std::string> prompts{"The weather in Ber", "Hello ", "int main(", ""};
    std::string input;
    for (const auto& p : prompts) input += p + "\n";
    test_support::write(dir / "in.txt", input);
    const auto r = run(quote(cli()) + " heal -m " + quote(model) + " --candidates " + quote(dir / "in.txt"));
    REQUIRE(r.status == 0);
    const auto lines = split(r.out, '\n');
    REQUIRE(lines.size() == prompts.size() + 1);
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        INFO("prompt '" << prompts[i] << "'");
        const auto h = healer.heal(prompts[i]);
        const auto f = split(lines[i], '\t');
        REQUIRE(f.size() == 6);
        CHECK(f[0] == join(h.ids));
        CHECK(f[1] == join(h.removed_ids));
        CHECK(f[2] == h.remainder);  // U+2581 needs no escape
        CHECK(f[3] == join(healer.starting_with(h.remainder)));
        CHECK(f[4] == join(healer.prefixes_of(h.remainder)));
        std::string escaped;
        for (char c : h.text_remainder) escaped += c == ' ' ? std::string("\\s") : std::string(1, c);
        CHECK(f[5] == escaped);
    }
    // --raw has no meaning for a tokenizer.json.
    const auto raw = run(quote(cli()) + " heal --raw -m " + quote(model) + " 2>&1 < /dev/null");
    CHECK(raw.status == 2);
    CHECK(test_support::is_one_line(raw.out));
}
