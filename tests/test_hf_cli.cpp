// SPDX-License-Identifier: Apache-2.0
// The `bytepiece` tool on tokenizer.json files against HF tokenizers 0.23.2: `encode` prints one
// line of HF's ids per input line (with --add-special, the post-processor's), `tokenize` HF's
// tokens, `decode` HF's decoded text; bad files and refused options give one error line.
#include "hf_oracle.hpp"
#include "hf_test_texts.hpp"
#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;

// The ids as the CLI prints them: one line per list, single spaces.
std::string id_lines(const std::vector<hf_oracle::ids>& lists) {
    std::string out;
    for (const auto& l : lists) {
        for (std::size_t i = 0; i < l.size(); ++i) {
            if (i) out += ' ';
            out += std::to_string(l[i]);
        }
        out += '\n';
    }
    return out;
}

// The texts without '\n' (a line of input is a text), as one input file.
std::vector<std::string> line_texts() {
    std::vector<std::string> out;
    for (const auto& t : hf_test::edge_texts())
        if (t.find('\n') == std::string::npos) out.push_back(t);
    return out;
}

}  // namespace

TEST_CASE("bytepiece encode / tokenize / decode on tokenizer.json files, as HF tokenizers") {
    if (!test_support::require_cli() || !hf_oracle::available()) return;
    const auto texts = line_texts();
    std::string input;
    for (const auto& t : texts) input += t + "\n";
    const std::string input_path = test_support::scratch_path("hf_cli_input.txt");
    test_support::write(input_path, input);
    for (const auto& f : hf_test::fixtures()) {
        if (!test_support::require_shared("models/hf/" + f)) return;
        const std::string path = test_support::shared_path("models/hf/" + f);
        INFO(f);
        for (const bool special : {false, true}) {
            const auto expected = hf_oracle::encode(path, texts, special);
            const auto r = run(quote(cli()) + " encode -m " + quote(path) + (special ? " --add-special " : " ") + quote(input_path));
            CHECK(r.status == 0);
            CHECK(r.out == id_lines(expected));
        }
        // tokenize and decode against hf_decode.js.
        std::vector<nlohmann::json> requests;
        const auto ids = hf_oracle::encode(path, texts, true);
        for (std::size_t i = 0; i < texts.size(); ++i) {
            requests.push_back({{"tokens", texts[i]}});
            requests.push_back({{"decode", ids[i]}, {"skip", true}});
            requests.push_back({{"decode", ids[i]}, {"skip", false}});
        }
        const auto answers = hf_test::oracle_requests(path, requests);
        const std::string ids_path = test_support::scratch_path("hf_cli_ids.txt");
        test_support::write(ids_path, id_lines(ids));
        const auto decoded = run(quote(cli()) + " decode -m " + quote(path) + " " + quote(ids_path));
        const auto kept = run(quote(cli()) + " decode --keep-special -m " + quote(path) + " " + quote(ids_path));
        CHECK(decoded.status == 0);
        CHECK(kept.status == 0);
        std::string want_decoded, want_kept;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            want_decoded += answers[3 * i + 1].get<std::string>() + "\n";
            want_kept += answers[3 * i + 2].get<std::string>() + "\n";
        }
        CHECK(decoded.out == want_decoded);
        CHECK(kept.out == want_kept);
        // tokenize: escaped tokens; compare after escaping HF's the same way (\\ \s \n \t \r).
        const auto tokens = run(quote(cli()) + " tokenize -m " + quote(path) + " " + quote(input_path));
        CHECK(tokens.status == 0);
        std::string want_tokens;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            bool first = true;
            for (const auto& t : answers[3 * i]) {
                if (!first) want_tokens += ' ';
                first = false;
                for (const char c : t.get<std::string>()) {
                    switch (c) {
                        case '\\': want_tokens += "\\\\"; break;
                        case ' ': want_tokens += "\\s"; break;
                        case '\n': want_tokens += "\\n"; break;
                        case '\t': want_tokens += "\\t"; break;
                        case '\r': want_tokens += "\\r"; break;
                        default: want_tokens += c;
                    }
                }
            }
            want_tokens += '\n';
        }
        CHECK(tokens.out == want_tokens);
    }
}

TEST_CASE("bytepiece with a tokenizer.json: refused options and bad files give one error line") {
    if (!test_support::require_cli()) return;
    if (!test_support::require_shared("models/hf/spm-u2k-identity.from_spm.json")) return;
    const std::string path = test_support::shared_path("models/hf/spm-u2k-identity.from_spm.json");
    for (const char* options : {"encode --raw", "encode --alpha 0.1", "encode --bos", "tokenize --eos", "decode --raw"}) {
        INFO(options);
        const auto r = run("echo a | " + quote(cli()) + " " + options + " -m " + quote(path) + " 2>&1");
        CHECK(r.status != 0);
        CHECK(test_support::is_one_line(r.out));
    }
    const auto nbest = run("echo a | " + quote(cli()) + " nbest -m " + quote(path) + " 2>&1");
    CHECK(nbest.status != 0);
    CHECK(test_support::is_one_line(nbest.out));
    // Files the library refuses, each with its typed error id.
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"{\"version\":\"1.0\",\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}", "[bytepiece.model.18]"},
        {"{\"version\":\"1.0\",\"truncation\":{\"max_length\":3},\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0]]}}",
         "[bytepiece.model.21]"},
        {"{\"version\":\"1.0\",\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0]]},\"normalizer\":{\"type\":\"Foo\"}}",
         "[bytepiece.model.22]"},  // a type HF does not know either: it refuses the file
        {"{\"version\":\"1.0\",\"model\":{\"type\":\"Unigram\",\"unk_id\":5,\"vocab\":[[\"a\",0]]}}", "[bytepiece.model.22]"},
        {"{\"version\":\"1.0\",\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\"]]}}", "[bytepiece.model.20]"},
    };
    int n = 0;
    for (const auto& [text, id] : bad) {
        const std::string file = test_support::scratch_path("hf_cli_bad" + std::to_string(n++) + ".json");
        test_support::write(file, text);
        for (const char* command : {"encode", "decode", "info"}) {
            INFO(command << " " << text);
            const auto r = run("echo 1 | " + quote(cli()) + " " + command + " -m " + quote(file) + " 2>&1");
            CHECK(r.status != 0);
            CHECK(test_support::is_one_line(r.out));
            CHECK(r.out.find(id) != std::string::npos);
            CHECK(r.out.find(file) != std::string::npos);
        }
    }
    // A needed unknown with unk_id null, an id outside the vocabulary, and a line that is not UTF-8.
    const std::string strict = test_support::scratch_path("hf_cli_strict.json");
    test_support::write(strict, "{\"version\":\"1.0\",\"model\":{\"type\":\"Unigram\",\"unk_id\":null,\"vocab\":[[\"a\",0]]}}");
    const auto unk = run("echo ab | " + quote(cli()) + " encode -m " + quote(strict) + " 2>&1");
    CHECK(unk.status != 0);
    CHECK(unk.out.find("[bytepiece.argument.2]") != std::string::npos);
    const auto bad_id = run("echo 7 | " + quote(cli()) + " decode -m " + quote(strict) + " 2>&1");
    CHECK(bad_id.status != 0);
    CHECK(test_support::is_one_line(bad_id.out));
    const auto bad_utf8 = run("printf 'a\\377\\n' | " + quote(cli()) + " encode -m " + quote(path) + " 2>&1");
    CHECK(bad_utf8.status != 0);
    CHECK(test_support::is_one_line(bad_utf8.out));
    // info names the format and the size.
    const auto info = run(quote(cli()) + " info " + quote(path));
    CHECK(info.status == 0);
    CHECK(info.out.find("format: huggingface\n") != std::string::npos);
    CHECK(info.out.find("vocab_size: 2000\n") != std::string::npos);
}

TEST_CASE("--add-special on SentencePiece and BytePiece models") {
    if (!test_support::require_cli()) return;
    if (!test_support::require_shared("models/sp/spm-u2k-identity.model")) return;
    const std::string sp = test_support::shared_path("models/sp/spm-u2k-identity.model");
    const auto with = run("echo hello | " + quote(cli()) + " encode --add-special -m " + quote(sp));
    const auto bos_eos = run("echo hello | " + quote(cli()) + " encode --bos --eos -m " + quote(sp));
    CHECK(with.status == 0);
    CHECK(with.out == bos_eos.out);
    if (!test_support::require_shared("models/bytepiece.plus.40k.model")) return;
    const std::string bp = test_support::shared_path("models/bytepiece.plus.40k.model");
    const auto plain = run("echo hello | " + quote(cli()) + " encode -m " + quote(bp));
    const auto special = run("echo hello | " + quote(cli()) + " encode --add-special -m " + quote(bp));
    CHECK(special.status == 0);
    CHECK(special.out == plain.out);
}

TEST_CASE("bytepiece encode on whole corpus files with a tokenizer.json, as HF tokenizers") {
    if (!test_support::require_cli() || !hf_oracle::available()) return;
    // Every line of every corpus file with the benchmark's file (sanitizer builds: small.txt
    // only), and the post-processor's ids on small.txt.
#if defined(BYTEPIECE_SANITIZE) || !defined(NDEBUG)
    const std::vector<std::string> corpora = {"small.txt"};
#else
    const std::vector<std::string> corpora = {"small.txt", "en.txt", "mixed.txt", "zh.txt", "code.txt"};
#endif
    struct job {
        const char* file;
        std::string corpus;
        bool special;
    };
    std::vector<job> jobs;
    for (const auto& c : corpora) jobs.push_back({"albert-30k-clean.from_spm.json", c, false});
    jobs.push_back({"albert-30k-clean.transformers-albert.json", "small.txt", true});
    for (const auto& j : jobs) {
        if (!test_support::require_shared(std::string("models/hf/") + j.file) ||
            !test_support::require_shared("corpus/" + j.corpus))
            continue;
        const std::string model = test_support::shared_path(std::string("models/hf/") + j.file);
        const std::string corpus = test_support::shared_path("corpus/" + j.corpus);
        const auto expected = hf_oracle::encode_lines(model, corpus, j.special);
        const auto r = run(quote(cli()) + " encode -m " + quote(model) + (j.special ? " --add-special " : " ") + quote(corpus));
        INFO(j.file << " on " << j.corpus << (j.special ? " with --add-special" : ""));
        CHECK(r.status == 0);
        // Compared line by line, so that a failure names the first line that differs.
        const std::string want = id_lines(expected);
        std::size_t line = 0, a = 0, b = 0, differing = 0;
        for (; a < r.out.size() && b < want.size(); ++line) {
            const std::size_t ea = r.out.find('\n', a), eb = want.find('\n', b);
            if (ea == std::string::npos || eb == std::string::npos) break;  // caught by the size check
            if (r.out.compare(a, ea - a, want, b, eb - b) != 0 && differing++ == 0) UNSCOPED_INFO("first difference at line " << line + 1);
            a = ea + 1;
            b = eb + 1;
        }
        CHECK(differing == 0);
        CHECK(line == expected.size());
        CHECK(r.out.size() == want.size());
    }
}
