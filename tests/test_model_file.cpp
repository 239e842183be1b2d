// SPDX-License-Identifier: Apache-2.0
// `detect_model_file_format`: what kind of model file this is, from its content alone, for
// every shared model file and for files that are none of the formats.
#include <bytepiece/model_file.hpp>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using bytepiece::model_file_format;
using test_support::scratch_folder;

}  // namespace

TEST_CASE("every shared model file is told by its content", "[model][format]") {
    const std::vector<std::pair<std::string, model_file_format>> files = {
        {"models/bytepiece.plus.40k.model", model_file_format::bytepiece_json},
        {"models/bytepiece.eu.plus.40k.model", model_file_format::bytepiece_json},
        {"models/bytepiece.eu.plus.160k.model", model_file_format::bytepiece_json},
        {"models/bytepiece.zh.id.eu.40k.model", model_file_format::bytepiece_json},
        {"models/bytepiece.eu.plus.40k.sp.model", model_file_format::sentencepiece},
        {"models/bytepiece.eu.plus.160k.sp.model", model_file_format::sentencepiece},
        {"models/bytepiece.zh.id.eu.40k.sp.model", model_file_format::sentencepiece},
        {"models/sp/albert-30k-clean.model", model_file_format::sentencepiece},
        {"models/sp/spm-u2k-nmt_nfkc.model", model_file_format::sentencepiece},
        {"models/sp/spm-u2k-bytefallback.model", model_file_format::sentencepiece},
        {"models/sp/spm-bpe2k-llama-flags.model", model_file_format::sentencepiece},  // refused later, as BPE
        {"models/bytepiece.eu.plus.40k.hf.json", model_file_format::huggingface},
        {"models/hf/albert-30k-clean.from_spm.json", model_file_format::huggingface},
        {"models/hf/albert-30k-clean.transformers-albert.json", model_file_format::huggingface},
        {"models/hf/bytepiece.eu.plus.40k.bytelevel.json", model_file_format::huggingface},
    };
    for (const auto& [name, want] : files) {
        if (!test_support::require_shared(name)) continue;
        const std::string path = test_support::shared_path(name);
        INFO(name);
        CHECK(bytepiece::detect_model_file_format(path) == want);
        CHECK(bytepiece::model_file_format_of_bytes(test_support::read(path)) == want);
    }
}

TEST_CASE("a binary model, JSON with leading blanks, and files of no model format", "[model][format]") {
    scratch_folder dir("model_file_format");
    const auto model = test_support::make_model({{"hello", 5}, {" world", 3}});
    bytepiece::tokenizer(model).save_binary(dir / "m.bpm");
    CHECK(bytepiece::detect_model_file_format(dir / "m.bpm") == model_file_format::bytepiece_binary);
    // "\n" is also the first byte of every SentencePiece file: JSON after it is still JSON.
    for (const std::string lead : {"", "\n", "\n\n", " \t\r\n"}) {
        test_support::write(dir / "m.json", lead + model.to_json());
        INFO("lead of " << lead.size() << " bytes");
        CHECK(bytepiece::detect_model_file_format(dir / "m.json") == model_file_format::bytepiece_json);
    }
    // Broken JSON is left to the JSON loader, which says what is wrong with it.
    test_support::write(dir / "broken.json", "{\"aGVsbG8=\": [3, \"hello\"");
    CHECK(bytepiece::detect_model_file_format(dir / "broken.json") == model_file_format::bytepiece_json);
    const std::vector<std::pair<std::string, std::string>> others = {
        {"empty", ""},
        {"zip", std::string("PK\x03\x04\x14\x00", 6)},
        {"gzip", std::string("\x1F\x8B\x08\x00", 4)},
        {"html", "<!DOCTYPE html><html></html>"},
        {"text", "hello world\n"},
        // Looks like a protobuf field 1 but has no score: no SentencePiece file starts so.
        {"protobuf_like", std::string("\n\x05\n\x03" "abc", 6)},
        // A first piece cut off by the end of the file.
        {"cut", std::string("\n\x0e\n\x05<unk>\x15\x00\x00", 11)},
        {"magic_cut", std::string("\x89" "BPM\r\n", 6)},
    };
    for (const auto& [name, bytes] : others) {
        INFO(name);
        test_support::write(dir / name, bytes);
        CHECK(bytepiece::detect_model_file_format(dir / name) == model_file_format::unknown);
        CHECK(bytepiece::model_file_format_of_bytes(bytes) == model_file_format::unknown);
    }
    // The smallest complete first piece of a trained SentencePiece model (spec section 1.1).
    const std::string sp_head("\x0a\x0e\x0a\x05<unk>\x15\x00\x00\x00\x00\x18\x02", 16);
    CHECK(bytepiece::model_file_format_of_bytes(sp_head) == model_file_format::sentencepiece);
    CHECK(bytepiece::model_file_format_of_bytes(sp_head.substr(0, 15)) == model_file_format::unknown);
}

TEST_CASE("detect_model_file_format names a file it cannot read", "[model][format][errors]") {
    scratch_folder dir("model_file_errors");
    try {
        bytepiece::detect_model_file_format(dir / "absent.model");
        FAIL("no error for a missing file");
    } catch (const bytepiece::io_error& e) {
        CHECK(e.code() == bytepiece::errc::io_open);
        CHECK(std::string(e.what()).find(dir / "absent.model") != std::string::npos);
    }
    try {
        bytepiece::detect_model_file_format(dir.path());
        FAIL("no error for a folder");
    } catch (const bytepiece::io_error& e) {
        CHECK(e.code() == bytepiece::errc::io_read);
        CHECK(std::string(e.what()).find(dir.path()) != std::string::npos);
    }
}

TEST_CASE("model_file_format_name names every format", "[model][format]") {
    CHECK(bytepiece::model_file_format_name(model_file_format::bytepiece_json) == "BytePiece JSON");
    CHECK(bytepiece::model_file_format_name(model_file_format::bytepiece_binary) == "BytePiece binary");
    CHECK(bytepiece::model_file_format_name(model_file_format::sentencepiece) == "SentencePiece");
    CHECK(bytepiece::model_file_format_name(model_file_format::huggingface) == "Hugging Face tokenizer.json");
    CHECK(bytepiece::model_file_format_name(model_file_format::unknown) == "unknown");
}
