// SPDX-License-Identifier: Apache-2.0
// One const tokenizer (and one const sampler) shared by several threads: every thread's
// encode, tokenize, decode and sample results equal the single-threaded ones. Meant to run
// under ThreadSanitizer as well (scripts/tsan.sh), where a data race fails the run.
#include <bytepiece/bytepiece.hpp>
#include <bytepiece/sentencepiece_tokenizer.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

struct expected_results {
    std::vector<std::vector<std::uint32_t>> ids, raw_ids, sampled, sampled_by_sampler;
    std::vector<std::vector<std::string>> pieces;
    std::vector<std::string> decoded;
};

std::vector<std::string> texts() {
    static const char raw_bytes[] = "raw \xff\xfe bytes and a NUL \0 here";
    std::vector<std::string> t = {
        "Hello, world!\n",
        "the thing and the other thing\n\nand then some more",
        "\xe4\xb8\xad\xe6\x96\x87\xe6\xb5\x8b\xe8\xaf\x95\xef\xbc\x8c\xe4\xb8\xad\xe6\x96\x87\xe3\x80\x82",
        "e\xcc\x81 caf\xc3\xa9 \xe1\x84\x80\xe1\x85\xa1 needs NFC",
        std::string(raw_bytes, sizeof raw_bytes - 1),
        "",
    };
    std::string longer;
    for (int i = 0; i < 200; ++i) longer += "line " + std::to_string(i) + " of a longer text, with the usual words\n";
    t.push_back(longer);
    std::string one_chunk(20000, 'a');  // one long chunk: large per-thread scratch buffers
    t.push_back(one_chunk);
    return t;
}

constexpr double alpha = 0.3;

expected_results single_threaded(const bytepiece::tokenizer& tok, const bytepiece::sampler& s,
                                 const std::vector<std::string>& input) {
    expected_results r;
    bytepiece::encode_options raw;
    raw.normalize = false;
    for (std::size_t i = 0; i < input.size(); ++i) {
        r.ids.push_back(tok.encode(input[i]));
        std::vector<std::uint32_t> raw_ids;
        tok.encode(input[i], raw_ids, raw);
        r.raw_ids.push_back(raw_ids);
        r.pieces.push_back(tok.tokenize(input[i]));
        r.decoded.push_back(tok.decode(r.ids.back()));
        r.sampled.push_back(tok.sample(input[i], alpha, std::uint64_t{1000 + i}));
        r.sampled_by_sampler.push_back(s.sample(input[i], std::uint64_t{2000 + i}));
    }
    return r;
}

void run_threads(const bytepiece::tokenizer& tok) {
    const auto input = texts();
    const bytepiece::sampler s = tok.sampler(alpha);
    const expected_results want = single_threaded(tok, s, input);
    const unsigned thread_count = 4;
    const int rounds = 6;
    std::atomic<int> mismatches{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) std::this_thread::yield();
            bytepiece::encode_options raw;
            raw.normalize = false;
            for (int round = 0; round < rounds; ++round) {
                // Each thread walks the texts in its own order, so different threads work on
                // different lengths at the same moment.
                for (std::size_t k = 0; k < input.size(); ++k) {
                    const std::size_t i = (k * (t + 1) + static_cast<std::size_t>(round)) % input.size();
                    if (tok.encode(input[i]) != want.ids[i]) ++mismatches;
                    std::vector<std::uint32_t> raw_ids;
                    tok.encode(input[i], raw_ids, raw);
                    if (raw_ids != want.raw_ids[i]) ++mismatches;
                    if (tok.tokenize(input[i]) != want.pieces[i]) ++mismatches;
                    if (tok.decode(want.ids[i]) != want.decoded[i]) ++mismatches;
                    if (tok.sample(input[i], alpha, std::uint64_t{1000 + i}) != want.sampled[i]) ++mismatches;
                    if (s.sample(input[i], std::uint64_t{2000 + i}) != want.sampled_by_sampler[i]) ++mismatches;
                    bytepiece::splitmix64 g(2000 + i);
                    bytepiece::sampler::workspace ws;
                    std::vector<std::uint32_t> out;
                    s.sample(input[i], g, out, ws);
                    if (out != want.sampled_by_sampler[i]) ++mismatches;
                }
            }
        });
    }
    go = true;
    for (auto& th : threads) th.join();
    CHECK(mismatches.load() == 0);
}

}  // namespace

TEST_CASE("a shared const tokenizer gives every thread the single-threaded results", "[threads]") {
    const bytepiece::tokenizer tok(test_support::make_model({{"th", 40},
                                                            {"the", 30},
                                                            {"he", 20},
                                                            {"and", 12},
                                                            {"aa", 9},
                                                            {"aaaa", 5},
                                                            {"ine", 7},
                                                            {"\xe4\xb8\xad", 8},
                                                            {"\xe4\xb8\xad\xe6\x96\x87", 6},
                                                            {"\xc3\xa9", 5},
                                                            {"\xea\xb0\x80", 3}}));
    run_threads(tok);
}

TEST_CASE("a shared const released model gives every thread the single-threaded results", "[threads][shared]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const auto tok = bytepiece::tokenizer::load(test_support::shared_path("models/bytepiece.eu.plus.40k.model"));
    run_threads(tok);
}

TEST_CASE("a shared const SentencePiece tokenizer gives every thread the single-threaded results", "[threads][sentencepiece]") {
    // Each thread encodes, batch-encodes (whose callback re-enters the tokenizer), tokenizes,
    // samples and decodes the same texts; all must equal what one thread got first.
    if (!test_support::require_shared("models/sp/spm-u2k-bytefallback.model")) return;
    const auto sp = bytepiece::sentencepiece_tokenizer::load(test_support::shared_path("models/sp/spm-u2k-bytefallback.model"));
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i)
        texts.push_back("Line " + std::to_string(i) + ":  caf\xC3\xA9 <mask> \xE4\xB8\xAD\xE6\x96\x87\xF0\xA0\x80\x80 https://x.y");
    const std::vector<std::string_view> views(texts.begin(), texts.end());
    std::vector<std::vector<std::uint32_t>> expected;
    for (const auto& t : texts) expected.push_back(sp.encode(t));
    const auto sampled = sp.sample(texts[3], 0.2, 7);
    std::atomic<int> mismatches{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            while (!go) std::this_thread::yield();
            for (int round = 0; round < 3; ++round) {
                sp.encode_texts(views.data(), views.size(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) {
                    if (std::vector<std::uint32_t>(ids, ids + n) != expected[i] || sp.encode(views[i]) != expected[i])
                        ++mismatches;
                });
                for (std::size_t i = 0; i < texts.size(); i += 17) {
                    if (sp.tokenize(texts[i]).empty() || sp.decode(expected[i]).empty()) ++mismatches;
                }
                if (sp.sample(texts[3], 0.2, 7) != sampled) ++mismatches;
            }
        });
    go = true;
    for (auto& th : threads) th.join();
    CHECK(mismatches.load() == 0);
}

TEST_CASE("several threads train with one trainer each and agree", "[threads][trainer]") {
    // The trainer's own worker threads (threads = 2) run inside each of two outer threads.
    std::vector<std::string> corpus;
    for (int i = 0; i < 50; ++i) corpus.push_back("the cat sat on the mat " + std::to_string(i % 7) + "\nthe end\n");
    auto train = [&] {
        bytepiece::trainer_options o;
        o.max_vocab_size = {300};
        o.min_count = 2;
        o.threads = 2;
        bytepiece::trainer t(o);
        t.train(corpus);
        return t.models().front().to_json();
    };
    const std::string want = train();
    std::string got[2];
    std::thread a([&] { got[0] = train(); });
    std::thread b([&] { got[1] = train(); });
    a.join();
    b.join();
    CHECK(got[0] == want);
    CHECK(got[1] == want);
}
