// SPDX-License-Identifier: Apache-2.0
// Builds a model in memory, saves it as JSON and as a binary model, loads both back and
// checks that they encode and decode alike.
#include "greeter.hpp"

#include <bytepiece/model.hpp>
#include <bytepiece/tokenizer.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

int main(int argc, char** argv) {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), 1);
    counts.emplace_back("hello", 50);
    counts.emplace_back(" world", 40);
    const std::string path = argc > 1 ? argv[1] : "app.model";
    bytepiece::model::from_counts(counts).save(path);
    const auto tok = bytepiece::tokenizer::load(path);
    tok.save_binary(path + ".bpm");
    const auto binary = bytepiece::tokenizer::load(path + ".bpm");
    const auto ids = greeter::greet(tok, "world");
    if (ids.size() != 2 || tok.decode(ids) != "hello world" || binary.encode("hello world") != ids) {
        std::fprintf(stderr, "unexpected result: %zu ids\n", ids.size());
        return 1;
    }
    std::printf("consumer ok: %zu ids, vocab %zu\n", ids.size(), tok.vocab_size());
    return 0;
}
