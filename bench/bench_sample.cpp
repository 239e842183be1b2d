// SPDX-License-Identifier: Apache-2.0
// Sampling throughput at alpha = 0.1: ours on whole corpus files (NFC, chunking, forward
// filtering and sampling included) beside SentencePiece's SampleEncode(chunk, -1, 0.1) on the
// same chunks with the same vocabulary. The "vs_encode" column is our sampling speed divided by
// our deterministic encode speed on the same model and corpus, measured earlier in this run.
//
// sample_call/<model>: one call of tok.sample(text, alpha, seed), the convenience form, on a
// 12-byte text. "bound_us" and "call_us" are the times per call of a sampler bound once and of
// the convenience form, measured side by side here; "vs_bound" is their ratio (the target is
// at most 3: the tokenizer keeps the weights of recent alphas, so the call does not rebuild
// them). The row fails if the two forms give different ids for a seed.
#include <algorithm>
#include <chrono>
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

// Best of three timed runs of `calls` calls of f(seed), in seconds per call.
template <class F>
double seconds_per_call(F&& f, int calls) {
    double best = 1e30;
    std::size_t sink = 0;
    for (int rep = 0; rep < 3; ++rep) {
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) sink += f(static_cast<std::uint64_t>(i));
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls);
    }
    benchmark::DoNotOptimize(sink);
    return best;
}

void bm_sample_call(benchmark::State& state, std::string model_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string text = "Hello world!";
    const auto bound = tok.sampler(alpha);
    for (std::uint64_t s = 0; s < 100; ++s) {
        if (tok.sample(text, alpha, s) != bound.sample(text, s)) {
            state.SkipWithError("tok.sample and the bound sampler differ");
            return;
        }
    }
    const auto call = [&](std::uint64_t s) { return tok.sample(text, alpha, s).size(); };
    const double bound_s = seconds_per_call([&](std::uint64_t s) { return bound.sample(text, s).size(); }, 20000);
    const double call_s = seconds_per_call(call, 20000);
    std::uint64_t s = 0;
    std::size_t sink = 0;
    for (auto _ : state) sink += call(s++);
    benchmark::DoNotOptimize(sink);
    state.counters["bound_us"] = bound_s * 1e6;
    state.counters["call_us"] = call_s * 1e6;
    state.counters["vs_bound"] = call_s / bound_s;
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
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
    for (const auto& m : bench::model_paths()) {
        if (!bench::file_exists(m)) continue;
        benchmark::RegisterBenchmark(("sample_call/" + bench::stem(m) + "/bytepiece").c_str(),
                                     [m](benchmark::State& st) { bm_sample_call(st, m); })
            ->Unit(benchmark::kMicrosecond);
    }
}

const bench::registrar sample_rows(register_sample);

}  // namespace
