// SPDX-License-Identifier: Apache-2.0
// `bytepiece convert`: a model file to the binary format that loads several times faster,
// back to BytePiece's JSON, or to a SentencePiece `.model` or a HuggingFace `tokenizer.json`
// that SentencePiece or HF tokenizers can run.
#include <bytepiece/detail/file.hpp>
#include <bytepiece/hf_export.hpp>
#include <bytepiece/sentencepiece_export.hpp>
#include <bytepiece/tokenizer.hpp>

#include <unistd.h>

#include <string>
#include <vector>

#include "cli.hpp"

namespace bytepiece_cli {
namespace {

int run_convert(std::vector<std::string>& argv) {
    arguments args(argv);
    const std::string to = args.value({"--to"}, "binary");
    std::string model = args.value({"-m", "--model"});
    std::string out = args.value({"-o", "--output"});
    std::vector<std::string> files = args.positional();
    if (to != "binary" && to != "json" && to != "sentencepiece" && to != "hf")
        throw usage_error("--to must be 'binary', 'json', 'sentencepiece' or 'hf', got '" + to + "'");
    // MODEL and OUTPUT may each be given by option or in that order as plain arguments.
    std::size_t next = 0;
    if (model.empty() && next < files.size()) model = files[next++];
    if (out.empty() && next < files.size()) out = files[next++];
    if (model.empty()) throw usage_error("missing MODEL (convert MODEL OUTPUT, or -m MODEL -o OUTPUT)");
    if (out.empty()) throw usage_error("missing OUTPUT, where to write the converted model");
    if (next != files.size()) throw usage_error("one MODEL and one OUTPUT only; '" + files[next] + "' is one too many");
    // Binary bytes on a terminal are of no use to anyone and can garble it.
    if (to == "binary" || to == "sentencepiece") {
        const int fd = bytepiece::detail::descriptor_named(out);
        if (fd >= 0 && ::isatty(fd))
            throw usage_error("will not write a binary model to a terminal; redirect the output or name a file");
    }
    // Before the model is read, so that a bad OUTPUT fails at once and with its own name.
    bytepiece::detail::check_output_path(out);
    if (to == "json") {
        // A model alone: JSON has no place for the trie, and building one would be wasted.
        bytepiece::model::load(model).save(out);
    } else if (to == "sentencepiece") {
        bytepiece::to_sentencepiece(bytepiece::model::load(model)).save(out);
    } else if (to == "hf") {
        bytepiece::save_hf_json(bytepiece::model::load(model), out);
    } else {
        bytepiece::tokenizer::load(model).save_binary(out);
    }
    return 0;
}

const registrar convert_command("convert", {
    "write a model in the binary format (or JSON, SentencePiece, tokenizer.json)",
    "usage: bytepiece convert [-m] MODEL [-o] OUTPUT [--to binary|json|sentencepiece|hf]\n\n"
    "Reads MODEL (BytePiece JSON or binary; the format is told by the file's first bytes) and\n"
    "writes it to OUTPUT. The binary format holds the pieces, their counts and the built trie,\n"
    "with a version and an XXH3 checksum; every command that takes -m MODEL reads it, and loads\n"
    "it several times faster than the JSON. Ids and scores are the same from either file.\n"
    "Converting back to JSON gives the file the reference would save (a released model comes\n"
    "back byte-identical).\n\n"
    "--to sentencepiece writes a SentencePiece unigram .model that SentencePiece loads and that\n"
    "gives BytePiece's ids (ids 0-2 are <unk>, <s>, </s>; pieces keep their ids, written one\n"
    "character per byte in the GPT-2 byte alphabet, with a normalizer that maps each input byte\n"
    "to its character). To get BytePiece's ids from SentencePiece, NFC-normalize the text, cut\n"
    "it after each run of newlines and call Encode once per piece of text so cut. Then ids agree\n"
    "on about 99-99.7% of such chunks; the rest hold the same pieces in another order (equal\n"
    "scores, which SentencePiece's float32 arithmetic orders differently) or, rarely in long\n"
    "chunks, other pieces scoring within its rounding error. A NUL byte always becomes <unk>.\n\n"
    "--to hf writes a HuggingFace tokenizer.json with which HF tokenizers gives exactly\n"
    "BytePiece's ids for any text, with no preparation: an NFC normalizer, a Split into\n"
    "BytePiece's chunks and a ByteLevel pre-tokenizer (one character per byte, GPT-2's byte\n"
    "alphabet), and a Unigram model with unk_id null whose ids 0-2 are <pad>, <s>, </s> (never\n"
    "chosen) and whose pieces keep their ids, written in the byte alphabet with their scores\n"
    "times a power of two as exact integers. The one known difference: HF's NFC tables are\n"
    "Unicode 9.0, so a combining mark newer than that after a base it composes with can\n"
    "normalize otherwise. No post-processor: HF adds no <s> or </s>.\n\n"
    "OUTPUT: a regular file (or a new one) is written to a temporary file beside it, created\n"
    "exclusively under an unpredictable name, flushed to disk and renamed over it, so it is\n"
    "never seen half written and keeps its permissions; on failure it is left as it was. A\n"
    "symbolic link is followed: the link stays and its target is replaced that way. A device\n"
    "or FIFO is written in place. '-' is standard output, and /dev/stdout, /dev/fd/N are\n"
    "written through the open descriptor (binary or SentencePiece output to a terminal is\n"
    "refused; JSON and tokenizer.json are text).\n\n"
    "options:\n"
    "  -m, --model MODEL   the model to read (or the first plain argument)\n"
    "  -o, --output FILE   where to write it (or the next plain argument)\n"
    "  --to FORMAT         'binary' (default), 'json', 'sentencepiece' or 'hf'\n"
    "  -h, --help          this text\n",
    [](std::vector<std::string>& a) { return run_convert(a); }});

}  // namespace
}  // namespace bytepiece_cli
