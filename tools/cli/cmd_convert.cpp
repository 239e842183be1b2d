// SPDX-License-Identifier: Apache-2.0
// `bytepiece convert`: a model file to the binary format that loads several times faster, or
// back to BytePiece's JSON.
#include <bytepiece/tokenizer.hpp>

#include <string>
#include <vector>

#include "cli.hpp"

namespace bytepiece_cli {
namespace {

int run_convert(std::vector<std::string>& argv) {
    arguments args(argv);
    const std::string to = args.value({"--to"}, "binary");
    const std::vector<std::string> files = args.positional();
    if (to != "binary" && to != "json") throw usage_error("--to must be 'binary' or 'json', got '" + to + "'");
    if (files.size() != 2) throw usage_error("needs two file names, MODEL and OUTPUT; got " + std::to_string(files.size()));
    if (to == "json") {
        // A model alone: JSON has no place for the trie, and building one would be wasted.
        bytepiece::model::load(files[0]).save(files[1]);
    } else {
        bytepiece::tokenizer::load(files[0]).save_binary(files[1]);
    }
    return 0;
}

const registrar convert_command("convert", {
    "write a model in the binary format (or back to JSON)",
    "usage: bytepiece convert MODEL OUTPUT [--to binary|json]\n\n"
    "Reads MODEL (BytePiece JSON or binary; the format is told by the file's first bytes) and\n"
    "writes it to OUTPUT, through a temporary file and a rename. The binary format holds the\n"
    "pieces, their counts and the built trie, with a version and an XXH3 checksum; every command\n"
    "that takes -m MODEL reads it, and loads it several times faster than the JSON. Ids and\n"
    "scores are the same from either file. Converting back to JSON gives the file the reference\n"
    "would save (a released model comes back byte-identical).\n\n"
    "options:\n"
    "  --to FORMAT   'binary' (default) or 'json'\n"
    "  -h, --help    this text\n",
    [](std::vector<std::string>& a) { return run_convert(a); }});

}  // namespace
}  // namespace bytepiece_cli
