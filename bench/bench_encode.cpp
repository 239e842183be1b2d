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
    const auto sums = bench::time_ids(state, tok.encode(text), [&](std::vector<std::uint32_t>& ids) { tok.encode(text, ids); });
    bench::finish(state, text.size(), sums.got, sums.want);
}

// The corpus one chunk at a time: `encode` per chunk, or all chunks to `encode_texts`.
void bm_encode_chunks(benchmark::State& state, std::string model_path, std::string corpus_path, bool batched) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto& chunks = bench::chunks(corpus_path);
    // Chunk by chunk gives the same ids as the whole text.
    const auto sums = bench::time_ids(state, tok.encode(text), [&](std::vector<std::uint32_t>& ids) {
        if (batched) {
            tok.encode_texts(chunks.data(), chunks.size(), tok.options(),
                             [&](std::size_t, const std::uint32_t* p, std::size_t n) { ids.insert(ids.end(), p, p + n); });
        } else {
            for (auto c : chunks) tok.encode(c, ids);
        }
    });
    bench::finish(state, text.size(), sums.got, sums.want);
}

#if BYTEPIECE_HAVE_SENTENCEPIECE
void bm_encode_sentencepiece(benchmark::State& state, const sentencepiece::SentencePieceProcessor* sp,
                             std::string corpus_path) {
    const std::string& text = bench::corpus(corpus_path);
    const auto& chunks = bench::chunks(corpus_path);
    std::vector<int> ids;
    // As for our rows, nothing but encoding is timed; the timed runs must give as many ids
    // as an untimed one.
    std::uint64_t want = 0, count = 0;
    for (auto c : chunks) {
        sp->Encode(c, &ids).IgnoreError();
        want += ids.size();
    }
    for (auto _ : state) {
        count = 0;
        for (auto c : chunks) {
            sp->Encode(c, &ids).IgnoreError();
            count += ids.size();
        }
        benchmark::DoNotOptimize(count);
    }
    const std::uint64_t got = count;
    state.counters["ids"] = static_cast<double>(count);
    bench::finish(state, text.size(), got, want);
}
#endif

void register_encode() {
    // Three ways to encode a corpus, each beside SentencePiece's Encode on the same chunks.
    enum class way { whole, per_chunk, texts };
    for (const way w : {way::whole, way::per_chunk, way::texts}) {
        const char* op = w == way::whole ? "encode/" : w == way::per_chunk ? "encode_per_chunk/" : "encode_texts/";
        bench::for_each_model_and_corpus([w, op](const std::string& m, const std::string& c) {
            const std::string row = op + bench::stem(m) + "/" + bench::stem(c);
            auto ours = [m, c, w](benchmark::State& st) {
                if (w == way::whole) bm_encode(st, m, c);
                else bm_encode_chunks(st, m, c, w == way::texts);
            };
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
