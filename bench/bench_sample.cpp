// SPDX-License-Identifier: Apache-2.0
// Sampling throughput at alpha = 0.1: ours on whole corpus files (NFC, chunking, forward
// filtering and sampling included) beside SentencePiece's SampleEncode(chunk, -1, 0.1) on the
// same chunks with the same vocabulary. The "vs_encode" column is our sampling speed divided by
// our deterministic encode speed on the same model and corpus, measured earlier in this run.
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr double alpha = 0.1;
constexpr std::uint64_t seed = 2024;

void bm_sample(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto sampler = tok.sampler(alpha);  // the per-piece weights, once
    // The same seed every iteration, so the timed ids can be checked against a reference.
    const auto sums = bench::time_ids(state, sampler.sample(text, seed), [&](std::vector<std::uint32_t>& ids) {
        bytepiece::splitmix64 g(seed);
        sampler.sample(text, g, ids);
    });
    const auto rates = bench::results::get().rates();
    const auto encode = rates.find("encode/" + bench::stem(model_path) + "/" + bench::stem(corpus_path) + "/bytepiece");
    if (encode != rates.end() && encode->second > 0)
        state.counters["vs_encode"] = benchmark::Counter(
            static_cast<double>(state.iterations()) * static_cast<double>(text.size()) / encode->second,
            benchmark::Counter::kIsRate);
    bench::finish(state, text.size(), sums.got, sums.want);
}

#if BYTEPIECE_HAVE_SENTENCEPIECE
void bm_sample_sentencepiece(benchmark::State& state, const sentencepiece::SentencePieceProcessor* sp,
                             std::string corpus_path) {
    const std::string& text = bench::corpus(corpus_path);
    const auto& chunks = bench::chunks(corpus_path);
    sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(seed));
    std::vector<int> ids;
    std::uint64_t count = 0, pieces_ok = 0;
    for (auto _ : state) {
        count = 0;
        for (auto c : chunks) {
            sp->SampleEncode(c, -1, static_cast<float>(alpha), &ids).IgnoreError();
            count += ids.size();
        }
        benchmark::DoNotOptimize(count);
    }
    // SentencePiece draws from its own generator, so the ids differ between runs and cannot be
    // checksummed; check instead that every chunk produced pieces.
    for (auto c : chunks) {
        sp->SampleEncode(c, -1, static_cast<float>(alpha), &ids).IgnoreError();
        pieces_ok += !ids.empty();
    }
    state.counters["ids"] = static_cast<double>(count);
    bench::finish(state, text.size(), pieces_ok, chunks.size());
}
#endif

void register_sample() {
    bench::for_each_model_and_corpus([](const std::string& m, const std::string& c) {
        const std::string row = "sample/" + bench::stem(m) + "/" + bench::stem(c);
        auto ours = [m, c](benchmark::State& st) { bm_sample(st, m, c); };
#if BYTEPIECE_HAVE_SENTENCEPIECE
        if (const auto* sp = bench::sentencepiece_for(m)) {
            bench::register_pair(row, ours, [sp, c](benchmark::State& st) { bm_sample_sentencepiece(st, sp, c); });
            return;
        }
#endif
        bench::register_pair(row, ours, nullptr);
    });
}

const bench::registrar sample_rows(register_sample);

}  // namespace
