// SPDX-License-Identifier: Apache-2.0
// A model file in another format is refused as what it is (errc::model_wrong_format, naming
// the file), by the library's load and so by every command, instead of a JSON parser's
// complaint about its first byte; and no real BytePiece model is ever taken for one.
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using bytepiece::errc;
using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

// The error `tokenizer::load` and `model::load` throw for `path`; both must agree.
bytepiece::model_error load_error(const std::string& path) {
    errc model_code = errc::model_not_json;
    try {
        bytepiece::model::load(path);
        FAIL("model::load accepted " << path);
    } catch (const bytepiece::model_error& e) {
        model_code = e.code();
    }
    try {
        bytepiece::tokenizer::load(path);
    } catch (const bytepiece::model_error& e) {
        CHECK(e.code() == model_code);
        return e;
    }
    FAIL("tokenizer::load accepted " << path);
    return bytepiece::model_error(errc::model_not_json, "");
}

// `by_cli`: whether the tool refuses the file too. It reads SentencePiece models and
// tokenizer.json files itself (test_sentencepiece_cli.cpp, test_hf_cli.cpp), so for those only
// the BytePiece loaders' refusal is checked.
void check_refused(const std::string& path, const std::vector<std::string>& words, bool by_cli = true) {
    const auto e = load_error(path);
    const std::string what = e.what();
    INFO(what);
    CHECK(e.code() == errc::model_wrong_format);
    CHECK(what.find(path) != std::string::npos);
    for (const auto& w : words) CHECK(what.find(w) != std::string::npos);
    if (cli().empty() || !by_cli) return;
    const auto r = run(quote(cli()) + " encode -m " + quote(path) + " 2>&1 </dev/null");
    CHECK(r.status == 2);
    CHECK(test_support::is_one_line(r.out));
    CHECK(r.out.find("[bytepiece.model.15]") != std::string::npos);
    CHECK(r.out.find(path) != std::string::npos);
}

}  // namespace

TEST_CASE("SentencePiece models and Hugging Face tokenizer.json files are named as such", "[model][format]") {
    for (const std::string name : {"models/bytepiece.eu.plus.40k.sp.model", "models/sp/albert-30k-clean.model",
                                   "models/sp/spm-bpe2k-llama-flags.model"}) {
        if (!test_support::require_shared(name)) continue;
        check_refused(test_support::shared_path(name), {"SentencePiece model", "not a BytePiece model"}, false);
    }
    for (const std::string name : {"models/bytepiece.eu.plus.40k.hf.json", "models/hf/albert-30k-clean.from_spm.json",
                                   "models/hf/bytepiece.eu.plus.40k.bytelevel.json"}) {
        if (!test_support::require_shared(name)) continue;
        check_refused(test_support::shared_path(name), {"Hugging Face", "tokenizer.json"}, false);
    }
    // Written by other tools the keys may come in another order: any top-level key of theirs.
    scratch_folder dir("format_hf");
    test_support::write(dir / "sorted.json", "{\n  \"added_tokens\": [],\n  \"model\": {\"type\": \"Unigram\"}\n}");
    check_refused(dir / "sorted.json", {"Hugging Face"}, false);
}

TEST_CASE("archives and compressed files are named, with what to do", "[model][format]") {
    scratch_folder dir("format_archives");
    const auto model = test_support::make_model({{"hello", 5}});
    model.save(dir / "m.model");
    // Real archives from Python's standard library, as the released models are shipped.
    const auto made = run("/usr/bin/python3 -c \"import zipfile, gzip, bz2, lzma, shutil, sys\n"
                          "d = sys.argv[1]\n"
                          "zipfile.ZipFile(d + '/m.zip', 'w').write(d + '/m.model', 'm.model')\n"
                          "for ext, mod in (('gz', gzip), ('bz2', bz2), ('xz', lzma)):\n"
                          "    with open(d + '/m.model', 'rb') as f, mod.open(d + '/m.' + ext, 'wb') as g: shutil.copyfileobj(f, g)\n"
                          "\" " + quote(dir.path()) + " 2>&1");
    if (made.status != 0) {
        WARN("skipped: python3 could not make the archives: " << made.out);
        return;
    }
    check_refused(dir / "m.zip", {"zip archive", "unzip"});
    check_refused(dir / "m.gz", {"gzip"});
    check_refused(dir / "m.bz2", {"bzip2"});
    check_refused(dir / "m.xz", {"xz"});
    test_support::write(dir / "m.zst", std::string("\x28\xB5\x2F\xFD\x00\x58", 6));
    check_refused(dir / "m.zst", {"zstd"});
    test_support::write(dir / "lfs.model", "version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 42\n");
    check_refused(dir / "lfs.model", {"Git LFS pointer", "git lfs pull"});
    test_support::write(dir / "page.model", "\n<!DOCTYPE html>\n<html><body>Not Found</body></html>\n");
    check_refused(dir / "page.model", {"HTML"});
}

TEST_CASE("a BytePiece model is never taken for another format", "[model][format]") {
    scratch_folder dir("format_valid");
    const auto model = test_support::make_model({{"hello", 5}, {" world", 3}});
    const std::string json = model.to_json();
    // Leading whitespace is valid JSON; "\n" is also the first byte of a SentencePiece file.
    for (const std::string lead : {"", "\n", "\n\n\n", " \t\r\n"}) {
        test_support::write(dir / "m.json", lead + json);
        const auto loaded = bytepiece::model::load(dir / "m.json");
        CHECK(loaded.vocab_size() == model.vocab_size());
    }
    for (const std::string name : {"models/bytepiece.plus.40k.model", "models/bytepiece.eu.plus.40k.model"}) {
        if (!test_support::require_shared(name)) continue;
        CHECK(bytepiece::model::load(test_support::shared_path(name)).vocab_size() > 39000);
    }
    // Broken JSON is still reported by the JSON parser, not as some other format.
    test_support::write(dir / "broken.json", "\n\n{\"aGVsbG8=\": [3, \"hello\", 5]");
    CHECK(load_error(dir / "broken.json").code() != errc::model_wrong_format);
    test_support::write(dir / "protobuf_like.json", std::string("\n\x05\n\x03" "abc", 6));
    CHECK(load_error(dir / "protobuf_like.json").code() != errc::model_wrong_format);  // no score field
}
