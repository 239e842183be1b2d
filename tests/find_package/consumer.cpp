// A consumer that knows bytepiece only through find_package: builds a tiny model in memory,
// saves and reloads it, and checks an encode/decode round trip.
#include <bytepiece/bytepiece.hpp>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

int main(int argc, char** argv) {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), 1);
    counts.emplace_back("hello", 50);
    counts.emplace_back(" world", 40);
    const std::string path = argc > 1 ? argv[1] : "consumer.model";
    bytepiece::model::from_counts(counts).save(path);
    const auto tok = bytepiece::tokenizer::load(path);
    const auto ids = tok.encode("hello world");
    if (ids.size() != 2 || tok.decode(ids) != "hello world") {
        std::fprintf(stderr, "unexpected result: %zu ids\n", ids.size());
        return 1;
    }
    std::printf("consumer ok: %zu ids, vocab %zu\n", ids.size(), tok.vocab_size());
    return 0;
}
