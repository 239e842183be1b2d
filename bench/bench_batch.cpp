// SPDX-License-Identifier: Apache-2.0
// Batch encoding throughput: each corpus as a batch of texts (its lines, as the tokenizer's
// chunks), encoded with `encode_batch` on a kept thread pool of 1 and 2 threads, beside
// SentencePiece's Encode over the same lines spread over the same pool the same way (it has
// no batch API of its own in C++). The 2-thread rows carry "vs_1t", their speed divided by the
// 1-thread row's measured earlier in this run: the scaling of the batch path on this machine.
#include <chrono>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

// The 2-thread rows divide their own rate, from the wall time of the timed loop, by the
// 1-thread row's as the reporter recorded it: both are real-time rates, so the quotient is the
// scaling a caller sees. Absent when the 1-thread row did not run first.
void add_scaling_counter(benchmark::State& state, const std::string& one_thread_row, std::size_t threads,
                         std::size_t bytes, double seconds) {
    if (threads == 1 || seconds <= 0) return;
    const auto rates = bench::results::get().rates();
    const auto base = rates.find(one_thread_row);
    if (base != rates.end() && base->second > 0)
        state.counters["vs_1t"] = static_cast<double>(state.iterations()) * static_cast<double>(bytes) / seconds / base->second;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string row_name(std::size_t threads, const std::string& model, const std::string& corpus) {
    return "batch_encode_" + std::to_string(threads) + "t/" + bench::stem(model) + "/" + bench::stem(corpus);
}

void bm_batch(benchmark::State& state, std::string model_path, std::string corpus_path, std::size_t threads) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto& lines = bench::chunks(corpus_path);
    // Chunks are encoded independently, so the batch's ids concatenate to the text's.
    const auto reference = tok.encode(text);
    const std::uint64_t want = bench::checksum(reference.begin(), reference.end());
    bytepiece::thread_pool pool(threads);
    // As in every other row, the checksum is taken after the timed loop, of the last result.
    decltype(bytepiece::encode_batch(tok, lines, pool)) r;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        r = bytepiece::encode_batch(tok, lines, pool);
        benchmark::DoNotOptimize(r.ids.data());
    }
    const std::uint64_t got = r.offsets.size() == lines.size() + 1 ? bench::checksum(r.ids.begin(), r.ids.end()) : 0;
    state.counters["threads"] = static_cast<double>(threads);
    state.counters["texts"] = static_cast<double>(lines.size());
    add_scaling_counter(state, row_name(1, model_path, corpus_path) + "/bytepiece", threads, text.size(), seconds_since(start));
    bench::finish(state, text.size(), got, want);
}

#if BYTEPIECE_HAVE_SENTENCEPIECE
void bm_batch_sentencepiece(benchmark::State& state, const sentencepiece::SentencePieceProcessor* sp,
                            std::string model_path, std::string corpus_path, std::size_t threads) {
    const std::string& text = bench::corpus(corpus_path);
    const auto& lines = bench::chunks(corpus_path);
    // The same split by bytes as encode_batch's: contiguous runs of lines, four per thread.
    std::vector<std::size_t> starts{0};
    const std::size_t target = text.size() / (threads * 4) + 1;
    std::size_t filled = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        filled += lines[i].size();
        if (filled >= target) {
            starts.push_back(i + 1);
            filled = 0;
        }
    }
    if (starts.back() != lines.size()) starts.push_back(lines.size());
    const std::size_t tasks = starts.size() - 1;
    std::vector<std::vector<int>> task_ids(tasks);
    auto run = [&](std::size_t k) {
        std::vector<int> ids;
        task_ids[k].clear();
        for (std::size_t i = starts[k]; i < starts[k + 1]; ++i) {
            sp->Encode(lines[i], &ids).IgnoreError();
            task_ids[k].insert(task_ids[k].end(), ids.begin(), ids.end());
        }
    };
    auto sum = [&] {
        std::uint64_t h = 1469598103934665603ull;
        for (const auto& v : task_ids) h = bench::checksum(v.begin(), v.end(), h);
        return h;
    };
    for (std::size_t k = 0; k < tasks; ++k) run(k);
    const std::uint64_t want = sum();
    bytepiece::thread_pool pool(threads);
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        pool.parallel_for(tasks, run);
        benchmark::DoNotOptimize(task_ids.data());
    }
    const std::uint64_t got = sum();
    state.counters["threads"] = static_cast<double>(threads);
    state.counters["texts"] = static_cast<double>(lines.size());
    add_scaling_counter(state, row_name(1, model_path, corpus_path) + "/sentencepiece", threads, text.size(), seconds_since(start));
    bench::finish(state, text.size(), got, want);
}
#endif

void register_batch() {
    bench::for_each_model_and_corpus([](const std::string& m, const std::string& c) {
        // 1 thread before 2, so the 2-thread rows find the 1-thread rates.
        for (std::size_t threads : {1, 2}) {
            const std::string row = row_name(threads, m, c);
            benchmark::RegisterBenchmark((row + "/bytepiece").c_str(), bm_batch, m, c, threads)
                ->Unit(benchmark::kMillisecond)->UseRealTime();
#if BYTEPIECE_HAVE_SENTENCEPIECE
            if (const auto* sp = bench::sentencepiece_for(m))
                benchmark::RegisterBenchmark((row + "/sentencepiece").c_str(), bm_batch_sentencepiece, sp, m, c, threads)
                    ->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
        }
    });
}

const bench::registrar batch_rows(register_batch);

}  // namespace
