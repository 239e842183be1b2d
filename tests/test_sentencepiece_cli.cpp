// SPDX-License-Identifier: Apache-2.0
// The `bytepiece` tool on SentencePiece `.model` files, against SentencePiece's own tools on
// the same files: `encode` must print byte for byte what `spm_encode --output_format=id`
// prints, `tokenize` what `--output_format=piece` prints, and `decode` what
// `spm_decode --input_format=id` prints, for every unigram fixture, on the small corpus and on
// SentencePiece-specific edge cases. Options that make no sense for such a model, and a BPE
// model, are refused with one clear line.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#if BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

#include "sp_test_texts.hpp"
#include "test_support.hpp"

using namespace std::string_literals;

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

const char* const bpe_fixture = "models/sp/spm-bpe2k-llama-flags.model";

// Whether SentencePiece's command-line tools are installed (Debian package `sentencepiece`);
// otherwise records why the oracle comparisons are skipped.
bool require_spm_tools() {
    if (run("command -v spm_encode >/dev/null 2>&1 && command -v spm_decode >/dev/null 2>&1").status == 0) return true;
    WARN("skipped: spm_encode / spm_decode are not installed (scripts/deps.sh test installs the Debian package "
         "'sentencepiece'), so the CLI cannot be compared with them");
    return false;
}

// The unigram fixtures: every .model in models/sp/ but the BPE one, and the three exports.
std::vector<std::string> unigram_models() {
    std::vector<std::string> out;
    for (const auto& name : scratch_folder::list(test_support::shared_path("models/sp"))) {
        if (name.size() > 6 && name.compare(name.size() - 6, 6, ".model") == 0 && "models/sp/" + name != bpe_fixture)
            out.push_back(test_support::shared_path("models/sp/" + name));
    }
    for (const char* name : {"bytepiece.plus.40k", "bytepiece.eu.plus.40k", "bytepiece.zh.id.eu.40k", "bytepiece.eu.plus.160k"}) {
        const std::string path = test_support::shared_path(std::string("models/") + name + ".sp.model");
        if (test_support::file_exists(path)) out.push_back(path);
    }
    return out;
}

// Names the first line at which two outputs differ, with both versions of it.
std::string first_difference(const std::string& got, const std::string& want) {
    std::size_t line = 1, start = 0, i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) {
        if (got[i] == '\n') {
            ++line;
            start = i + 1;
        }
        ++i;
    }
    if (i == got.size() && i == want.size()) return "identical";
    auto line_at = [start](const std::string& s) {
        const std::size_t end = s.find('\n', start);
        return s.substr(start, std::min<std::size_t>(end == std::string::npos ? s.size() - start : end - start, 300));
    };
    return "first difference on line " + std::to_string(line) + ":\n  ours: " + line_at(got) + "\n  spm:  " + line_at(want) +
           "\n  (outputs of " + std::to_string(got.size()) + " and " + std::to_string(want.size()) + " bytes)";
}

// Runs our command and SentencePiece's on the same input and requires the same bytes on
// standard output and success from both.
void check_same(const std::string& what, const std::string& ours, const std::string& theirs) {
    const auto a = run(ours + " 2>&1");
    const auto b = run(theirs);
    INFO(what << "\n  ours: " << ours << "\n  spm:  " << theirs);
    REQUIRE(b.status == 0);
    INFO(first_difference(a.out, b.out));
    CHECK(a.status == 0);
    CHECK((a.out == b.out));
}

// SentencePiece-specific edge cases, one per line: the text reaches both tools unchanged
// because neither ever sees a \n. The file ends without a newline on purpose.
std::string edge_case_lines() {
    std::vector<std::string> lines = {
        "",
        "   ",
        "  leading and trailing spaces  ",
        "whitespace   runs     inside",
        "tabs\tbetween\t\twords\t",
        "\t",
        "\xE2\x96\x81" "already escaped \xE2\x96\x81 and ab\xE2\x96\x81",
        "\xE2\x96\x81",
        "nul\x00inside"s,
        std::string("\x00", 1),
        "\xEF\xBB\xBF" "BOM at the start",
        "BOM\xEF\xBB\xBFinside",
        "invalid a\xFF\xFE" "b",
        "overlong \xC0\xAF and \xE0\x80\xAF",
        "surrogate \xED\xA0\x80 and beyond \xF4\x90\x80\x80",
        "cut short \xE4\xB8",
        "\x80\x80 lone continuation bytes",
        "x<mask>y https://a.b [CLS] inside<sep>words",
        "<cls> <s> </s> <unk> <pad> <0x41> <eod> <|endoftext|>",
        "wordhttps://inside",
        "\xF0\xA0\x80\x80\xF0\xA0\x80\x81x unknown run",
        "\xF0\x9F\x98\x80\xF0\x9F\x98\x81\xF0\x9F\x98\x82 emoji run",
        "\xE1\x9A\xA0\xE1\x9B\x87\xE1\x9A\xBB runes",
        "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 \xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A\xD8\xA9 \xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82",
        "\xEF\xAC\x81 \xE2\x91\xA0 \xEF\xBC\xA1 compatibility forms",
        "e\xCC\x81 combining, \xC7\x85 titlecase, Stra\xC3\x9F" "e, \xC4\xB0stanbul, \xCE\xA3\xCE\xA3",
        "controls \x01 and \x7F and \x1B",
        "ideographic\xE3\x80\x80space, no-break\xC2\xA0space, zero\xE2\x80\x8Bwidth, \xE2\x80\xA8 line sep",
        "cr\rinside",
        "crlf at the end\r",
        "1,000,000.50 and 3.14159 and 2024-01-01",
        "MiXeD CaSe WORDS",
        std::string(3000, 'a'),
        std::string(500, ' ') + "x" + std::string(500, ' '),
        "\xE4\xB8\xAD\xE6\x96\x87\xE5\x92\x8C English \xE6\xB7\xB7\xE5\x90\x88",
    };
    // The texts of the shared edge cases too (a text with newlines becomes several lines).
    const std::string golden = test_support::shared_path("golden/edge_cases.jsonl");
    if (test_support::file_exists(golden)) {
        std::ifstream in(golden);
        std::set<std::string> seen;
        for (std::string record; std::getline(in, record);) {
            const auto rec = nlohmann::json::parse(record);
            std::string text;
            REQUIRE(bytepiece::detail::base64_decode(rec["text_b64"].get<std::string>(), text));
            if (seen.insert(text).second) lines.push_back(text);
        }
    }
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
    return out;
}

}  // namespace

TEST_CASE("encode, tokenize and decode of SentencePiece models print what spm_encode and spm_decode print",
          "[cli][sentencepiece]") {
    if (!test_support::require_cli() || !require_spm_tools() || !test_support::require_shared("corpus/small.txt")) return;
    const auto models = unigram_models();
    REQUIRE(models.size() >= 4);
    scratch_folder dir("sp_cli_oracle");
    // small.txt and the edge cases in one file: every tool run loads the model (over a second
    // for spm_encode on the 160k models), so fewer, larger inputs keep the test quick.
    test_support::write(dir / "edge.txt",
                        test_support::read(test_support::shared_path("corpus/small.txt")) + "\n" + edge_case_lines());
    test_support::write(dir / "crlf.txt", "windows\r\nline endings\r\n\r\n  \r\nlast\r");
    for (const auto& model : models) {
        for (const std::string& input : {dir / "edge.txt", dir / "crlf.txt"}) {
            const std::string m = quote(model), in = quote(input);
            check_same("encode", quote(cli()) + " encode -m " + m + " " + in, "spm_encode --model=" + m + " --output_format=id " + in);
            check_same("tokenize", quote(cli()) + " tokenize -m " + m + " " + in,
                       "spm_encode --model=" + m + " --output_format=piece " + in);
            // Asked for, <s> and </s> come as spm_encode's extra options add them (ALBERT has
            // neither: that refusal is checked below).
            if (model.find("albert") == std::string::npos) {
                check_same("encode --bos --eos", quote(cli()) + " encode --bos --eos -m " + m + " " + in,
                           "spm_encode --model=" + m + " --output_format=id --extra_options=bos:eos " + in);
                check_same("tokenize --eos", quote(cli()) + " tokenize --eos -m " + m + " " + in,
                           "spm_encode --model=" + m + " --output_format=piece --extra_options=eos " + in);
            }
            // decode reads what spm_encode wrote, so both decoders see the same ids.
            const auto ids = run("spm_encode --model=" + m + " --output_format=id " + in);
            REQUIRE(ids.status == 0);
            test_support::write(dir / "ids.txt", ids.out);
            check_same("decode", quote(cli()) + " decode -m " + m + " " + quote(dir / "ids.txt"),
                       "spm_decode --model=" + m + " --input_format=id " + quote(dir / "ids.txt"));
        }
    }
}

TEST_CASE("a SentencePiece model is told by its content, from a file, a pipe or standard input",
          "[cli][sentencepiece]") {
    if (!test_support::require_cli() || !require_spm_tools() ||
        !test_support::require_shared("models/sp/spm-u2k-bytefallback.model"))
        return;
    scratch_folder dir("sp_cli_sources");
    const std::string model = test_support::shared_path("models/sp/spm-u2k-bytefallback.model");
    // The name says nothing: a copy named like a BytePiece JSON model is still read as what it is.
    test_support::write(dir / "renamed.json", test_support::read(model));
    test_support::write(dir / "in.txt", edge_case_lines());
    const std::string want = run("spm_encode --model=" + quote(model) + " --output_format=id " + quote(dir / "in.txt")).out;
    REQUIRE(!want.empty());
    const std::string tool = quote(cli());
    // Several files are read one after the other, as spm_encode reads them: the second file's
    // first line does not continue the first file's unterminated last line.
    test_support::write(dir / "two.txt", "two files");
    const std::string want_two =
        run("spm_encode --model=" + quote(model) + " --output_format=id " + quote(dir / "in.txt") + " " + quote(dir / "two.txt")).out;
    const std::vector<std::pair<std::string, std::string>> runs = {
        {"renamed", tool + " encode -m " + quote(dir / "renamed.json") + " " + quote(dir / "in.txt")},
        {"stdin from a file", tool + " encode -m " + quote(model) + " < " + quote(dir / "in.txt")},
        {"stdin from a pipe", "cat " + quote(dir / "in.txt") + " | " + tool + " encode -m " + quote(model)},
        {"'-' and --lines", tool + " encode --lines -m " + quote(model) + " - < " + quote(dir / "in.txt")},
        {"model through a pipe", "bash -c \"" + tool + " encode -m <(cat " + quote(model) + ") " + quote(dir / "in.txt") + "\""},
    };
    for (const auto& [what, command] : runs) {
        const auto r = run(command + " 2>&1");
        INFO(what << ": " << command << "\n" << first_difference(r.out, want));
        CHECK(r.status == 0);
        CHECK((r.out == want));
    }
    const auto two = run(tool + " encode -m " + quote(model) + " " + quote(dir / "in.txt") + " " + quote(dir / "two.txt") + " 2>&1");
    INFO(first_difference(two.out, want_two));
    CHECK(two.status == 0);
    CHECK((two.out == want_two));
}

TEST_CASE("SentencePiece mode answers a co-process line by line", "[cli][sentencepiece][coprocess]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/sp/spm-u2k-nmt_nfkc.model")) return;
    const std::string model = quote(test_support::shared_path("models/sp/spm-u2k-nmt_nfkc.model"));
    // The answers the tool gives for the same lines from a file.
    const auto whole = run("printf 'Hello world\\n\\nagain\\n' | " + quote(cli()) + " encode -m " + model);
    REQUIRE(whole.status == 0);
    const std::size_t first_end = whole.out.find('\n') + 1;
    test_support::coprocess p(quote(cli()) + " encode -m " + model);
    REQUIRE(p.send("Hello world\n"));
    CHECK(p.receive_lines(1) == whole.out.substr(0, first_end));
    REQUIRE(p.send("\nagain\n"));
    CHECK(p.receive_lines(2) == whole.out.substr(first_end));
    p.close_input();
    CHECK(p.receive_lines(1).empty());
    CHECK(p.wait() == 0);
}

TEST_CASE("options a SentencePiece model does not support are refused by name", "[cli][sentencepiece][errors]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/sp/albert-30k-clean.model")) return;
    const std::string model = quote(test_support::shared_path("models/sp/albert-30k-clean.model"));
    const std::string tool = quote(cli());
    const std::vector<std::pair<std::string, std::string>> refused = {
        {tool + " encode --raw -m " + model, "--raw"},
        {tool + " tokenize --raw -m " + model, "--raw"},
        {tool + " encode --alpha 0.1 -m " + model, "--alpha"},
        {tool + " encode --alpha=-1 -m " + model, "--alpha"},
        {tool + " tokenize --alpha 0.5 --seed 3 -m " + model, "--alpha"},
        {tool + " decode --raw -m " + model, "--raw"},
        {tool + " nbest -k 2 -m " + model, "SentencePiece"},
        {tool + " encode --bos -m " + model, "--bos"},
        {tool + " tokenize --eos -m " + model, "--eos"},
    };
    for (const auto& [command, option] : refused) {
        const auto r = run("echo hello | " + command + " 2>&1");
        INFO(command << "\n" << r.out);
        CHECK(r.status == 2);
        CHECK(test_support::is_one_line(r.out));
        CHECK(r.out.find(option) != std::string::npos);
        CHECK(r.out.find("SentencePiece") != std::string::npos);
    }
    // --bos and --eos name SentencePiece's pieces: a BytePiece model has no such thing.
    if (test_support::require_shared("models/bytepiece.plus.40k.model")) {
        const auto r = run("echo hello | " + tool + " encode --bos -m " + quote(test_support::shared_path("models/bytepiece.plus.40k.model")) +
                           " 2>&1");
        CHECK(r.status == 2);
        CHECK(test_support::is_one_line(r.out));
        CHECK(r.out.find("--bos is for SentencePiece models") != std::string::npos);
    }
    // decode: anything but an id is an error naming the line, never an id read as 0.
    for (const std::string bad : {"5 x 7", "12abc", "-1", "30000", "99999999999"}) {
        const auto r = run("printf '5\\n" + bad + "\\n' | " + tool + " decode -m " + model + " 2>&1");
        INFO(bad << ": " << r.out);
        CHECK(r.status == 2);
        CHECK(r.out.find("-:2:") != std::string::npos);
    }
}

TEST_CASE("a BPE .model is refused by every command with the typed error", "[cli][sentencepiece][errors]") {
    if (!test_support::require_cli() || !test_support::require_shared(bpe_fixture)) return;
    const std::string model = test_support::shared_path(bpe_fixture);
    for (const std::string command : {"encode", "tokenize", "decode", "info", "nbest"}) {
        const auto r = run("echo 1 | " + quote(cli()) + " " + command + " -m " + quote(model) + " 2>&1");
        INFO(command << ": " << r.out);
        CHECK(r.status == 2);
        CHECK(test_support::is_one_line(r.out));
        if (command == "nbest") continue;  // refused before the model is read: no SentencePiece model yet
        CHECK(r.out.find("[bytepiece.model.18]") != std::string::npos);
        CHECK(r.out.find(model) != std::string::npos);
    }
}

TEST_CASE("info describes a SentencePiece model", "[cli][sentencepiece][info]") {
    if (!test_support::require_cli() || !test_support::require_shared("models/sp/albert-30k-clean.model")) return;
    const std::string model = test_support::shared_path("models/sp/albert-30k-clean.model");
    const auto r = run(quote(cli()) + " info " + quote(model) + " 2>&1");
    REQUIRE(r.status == 0);
    std::map<std::string, std::string> f;
    for (std::size_t p = 0; p < r.out.size();) {
        const std::size_t nl = r.out.find('\n', p), colon = r.out.find(": ", p);
        REQUIRE(nl != std::string::npos);
        REQUIRE(colon < nl);
        f[r.out.substr(p, colon - p)] = r.out.substr(colon + 2, nl - colon - 2);
        p = nl + 1;
    }
    INFO(r.out);
    // The fixture's facts, as its README and the spec (section 7) state them.
    CHECK(f["format"] == "sentencepiece");
    CHECK(f["vocab_size"] == "30000");
    CHECK(f["pieces_normal"] == "29987");
    CHECK(f["pieces_control"] == "4");
    CHECK(f["pieces_user_defined"] == "8");
    CHECK(f["pieces_unknown"] == "1");
    CHECK(f["pieces_byte"] == "0");
    CHECK(f["unknown_id"] == "1");
    CHECK(f["bos_id"] == "-1");
    CHECK(f["eos_id"] == "-1");
    CHECK(f["pad_id"] == "0");
    CHECK(f["normalizer"] == "nmt_nfkc");
    CHECK(f["charsmap_bytes"] == "237539");
    CHECK(f["add_dummy_prefix"] == "true");
    CHECK(f["remove_extra_whitespaces"] == "true");
    CHECK(f["escape_whitespaces"] == "true");
    CHECK(f["byte_fallback"] == "false");
    // Spec section 7 gives the range rounded to six digits; below it must equal the vocabulary's.
    const std::string range = f["normal_score_range"];
    const float lowest = std::strtof(range.c_str(), nullptr), highest = std::strtof(range.c_str() + range.find(' '), nullptr);
    CHECK(std::fabs(lowest - -13.5323f) < 1e-4f);
    CHECK(std::fabs(highest - -2.18897f) < 1e-5f);

    const auto v = run(quote(cli()) + " info --vocab " + quote(model) + " 2>&1");
    REQUIRE(v.status == 0);
    std::vector<std::string> lines;
    for (std::size_t p = 0; p < v.out.size();) {
        const std::size_t nl = v.out.find('\n', p);
        REQUIRE(nl != std::string::npos);
        lines.push_back(v.out.substr(p, nl - p));
        p = nl + 1;
    }
    REQUIRE(lines.size() == 30000);
    CHECK(lines[0] == "0\t<pad>\t0\tcontrol");
    CHECK(lines[1] == "1\t<unk>\t0\tunknown");
    float vocab_lowest = 0, vocab_highest = -1e30f;
    std::map<std::string, std::size_t> types;
    for (const auto& line : lines) {
        const std::size_t t2 = line.rfind('\t'), t1 = line.rfind('\t', t2 - 1);
        const std::string type = line.substr(t2 + 1);
        ++types[type];
        if (type != "normal") continue;
        const float score = std::strtof(line.c_str() + t1 + 1, nullptr);
        vocab_lowest = std::min(vocab_lowest, score);
        vocab_highest = std::max(vocab_highest, score);
    }
    CHECK(vocab_lowest == lowest);
    CHECK(vocab_highest == highest);
    CHECK(types["normal"] == 29987);
    CHECK(types["user_defined"] == 8);
#if BYTEPIECE_HAVE_SENTENCEPIECE
    // Every piece and score as libsentencepiece reads them.
    sentencepiece::SentencePieceProcessor sp;
    REQUIRE(sp.Load(model).ok());
    for (int id = 0; id < sp.GetPieceSize(); ++id) {
        const std::string& line = lines[static_cast<std::size_t>(id)];
        const std::size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1), t3 = line.find('\t', t2 + 1);
        REQUIRE(t3 != std::string::npos);
        // ALBERT's pieces are printable UTF-8 without spaces or backslashes: no escapes.
        CHECK(line.substr(t1 + 1, t2 - t1 - 1) == sp.IdToPiece(id));
        CHECK(std::strtof(line.substr(t2 + 1, t3 - t2 - 1).c_str(), nullptr) == sp.GetScore(id));
        const std::string type = line.substr(t3 + 1);
        CHECK((type == "control") == sp.IsControl(id));
        CHECK((type == "unknown") == sp.IsUnknown(id));
    }
#endif
}

// The whole file in a full run (BYTEPIECE_TEST_FULL=1), every 5th line by default.
TEST_CASE("ALBERT through the CLI on the mixed corpus equals spm_encode", "[cli][sentencepiece][large]") {
    if (!test_support::require_cli() || !require_spm_tools() || !test_support::require_shared("models/sp/albert-30k-clean.model") ||
        !test_support::require_shared("corpus/mixed.txt"))
        return;
    scratch_folder dir("sp_cli_large");
    const std::string model = quote(test_support::shared_path("models/sp/albert-30k-clean.model"));
    std::string corpus = quote(test_support::shared_path("corpus/mixed.txt"));
    if (const std::size_t stride = test_support::corpus_stride(5); stride > 1) {
        std::string sample;
        for (const auto& line : sp_test::corpus_lines("mixed.txt", stride)) sample.append(line) += '\n';
        test_support::write(dir / "sample.txt", sample);
        corpus = quote(dir / "sample.txt");
    }
    // Outputs go to files and are compared there, so neither is held by a pipe reader.
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(run(quote(cli()) + " encode -m " + model + " " + corpus + " > " + quote(dir / "ours.txt")).status == 0);
    const auto t1 = std::chrono::steady_clock::now();
    REQUIRE(run("spm_encode --model=" + model + " --output_format=id " + corpus + " > " + quote(dir / "spm.txt")).status == 0);
    const auto t2 = std::chrono::steady_clock::now();
    using ms = std::chrono::milliseconds;
    // Not a speed check (the benchmark is), only a record of what the comparison cost.
    WARN("mixed.txt through the CLI: ours " << std::chrono::duration_cast<ms>(t1 - t0).count() << " ms, spm_encode "
                                            << std::chrono::duration_cast<ms>(t2 - t1).count() << " ms");
    const std::string ours = test_support::read(dir / "ours.txt"), theirs = test_support::read(dir / "spm.txt");
    INFO(first_difference(ours, theirs));
    CHECK((ours == theirs));
}
