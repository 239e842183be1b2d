// SPDX-License-Identifier: Apache-2.0
// Deterministic encoding throughput: ours on whole corpus files (NFC, chunking and Viterbi
// included) beside SentencePiece's Encode on the same chunks with the same vocabulary. Two more
// rows encode the corpus one chunk (line) at a time: `encode_per_chunk` calls `encode` per
// chunk, `encode_texts` hands all chunks to one `encode_texts` call.
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

void bm_encode(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto reference = tok.encode(text);
    const std::uint64_t want = bench::checksum(reference.begin(), reference.end());
    std::vector<std::uint32_t> ids;
    ids.reserve(reference.size());
    std::uint64_t got = 0;
    for (auto _ : state) {
        ids.clear();
        tok.encode(text, ids);
        benchmark::DoNotOptimize(ids.data());
        got = bench::checksum(ids.begin(), ids.end());
    }
    state.counters["ids"] = static_cast<double>(reference.size());
    bench::finish(state, text.size(), got, want);
}

// The corpus one chunk at a time: `encode` per chunk, or all chunks to `encode_texts`.
void bm_encode_chunks(benchmark::State& state, std::string model_path, std::string corpus_path, bool batched) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto& chunks = bench::chunks(corpus_path);
    const auto reference = tok.encode(text);  // chunk by chunk gives the same ids
    const std::uint64_t want = bench::checksum(reference.begin(), reference.end());
    std::vector<std::uint32_t> ids;
    ids.reserve(reference.size());
    std::uint64_t got = 0;
    for (auto _ : state) {
        ids.clear();
        if (batched) {
            tok.encode_texts(chunks.data(), chunks.size(), tok.options(),
                             [&](std::size_t, const std::uint32_t* p, std::size_t n) { ids.insert(ids.end(), p, p + n); });
        } else {
            for (auto c : chunks) tok.encode(c, ids);
        }
        benchmark::DoNotOptimize(ids.data());
        got = bench::checksum(ids.begin(), ids.end());
    }
    state.counters["ids"] = static_cast<double>(reference.size());
    bench::finish(state, text.size(), got, want);
}

#if BYTEPIECE_HAVE_SENTENCEPIECE
void bm_encode_sentencepiece(benchmark::State& state, const sentencepiece::SentencePieceProcessor* sp,
                             std::string corpus_path) {
    const std::string& text = bench::corpus(corpus_path);
    const auto& chunks = bench::chunks(corpus_path);
    std::vector<int> ids;
    std::uint64_t want = 0, got = 0, count = 0;
    for (auto c : chunks) {
        sp->Encode(c, &ids).IgnoreError();
        want = bench::checksum(ids.begin(), ids.end(), want ? want : 1469598103934665603ull);
    }
    for (auto _ : state) {
        got = 0;
        count = 0;
        for (auto c : chunks) {
            sp->Encode(c, &ids).IgnoreError();
            count += ids.size();
            got = bench::checksum(ids.begin(), ids.end(), got ? got : 1469598103934665603ull);
        }
        benchmark::DoNotOptimize(got);
    }
    state.counters["ids"] = static_cast<double>(count);
    bench::finish(state, text.size(), got, want);
}
#endif

void register_encode() {
    bench::for_each_model_and_corpus([](const std::string& m, const std::string& c) {
        const std::string row = "encode/" + bench::stem(m) + "/" + bench::stem(c);
        auto ours = [m, c](benchmark::State& st) { bm_encode(st, m, c); };
#if BYTEPIECE_HAVE_SENTENCEPIECE
        if (const auto* sp = bench::sentencepiece_for(m)) {
            bench::register_pair(row, ours, [sp, c](benchmark::State& st) { bm_encode_sentencepiece(st, sp, c); });
            return;
        }
#endif
        bench::register_pair(row, ours, nullptr);
    });
    for (const bool batched : {false, true}) {
        bench::for_each_model_and_corpus([batched](const std::string& m, const std::string& c) {
            const std::string row = std::string(batched ? "encode_texts/" : "encode_per_chunk/") + bench::stem(m) + "/" + bench::stem(c);
            auto ours = [m, c, batched](benchmark::State& st) { bm_encode_chunks(st, m, c, batched); };
#if BYTEPIECE_HAVE_SENTENCEPIECE
            if (const auto* sp = bench::sentencepiece_for(m)) {
                bench::register_pair(row, ours, [sp, c](benchmark::State& st) { bm_encode_sentencepiece(st, sp, c); });
                return;
            }
#endif
            bench::register_pair(row, ours, nullptr);
        });
    }
}

const bench::registrar encode_rows(register_encode);

}  // namespace
