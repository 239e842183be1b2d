// SPDX-License-Identifier: Apache-2.0
// Serving features against their plain peers, in the same run: model batches (truncated to
// 512, padded to the longest row, with their masks) against `encode_batch` of the same texts on
// the same 2-thread pool, both over the corpus's chunks in batches of 64 texts, as a server
// sees them ("vs_encode_batch": the model batches' bytes/s over encode_batch's);
// special-token matching (all allowed) against plain encode; incremental decoding one id at a
// time against one decode of the whole sequence.
#include <bytepiece/decode_stream.hpp>
#include <bytepiece/model_batch.hpp>
#include <bytepiece/special_tokens.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr std::size_t batch_threads = 2;
constexpr std::size_t batch_texts = 64;

// The corpus's chunks in batches of `batch_texts`.
std::vector<std::vector<std::string_view>> batches_of(const std::vector<std::string_view>& lines) {
    std::vector<std::vector<std::string_view>> out;
    for (std::size_t i = 0; i < lines.size(); i += batch_texts)
        out.emplace_back(lines.begin() + static_cast<std::ptrdiff_t>(i),
                         lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), i + batch_texts)));
    return out;
}

std::string row(const std::string& what, const std::string& model, const std::string& corpus) {
    return "serving_" + what + "/" + bench::stem(model) + "/" + bench::stem(corpus);
}

// The lines of a corpus (chunks, as encode_batch rows use them).
void bm_encode_batch(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const auto& lines = bench::chunks(corpus_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto reference = tok.encode(text);  // chunks encode independently: their ids concatenate to this
    const auto batches = batches_of(lines);
    bytepiece::thread_pool pool(batch_threads);
    std::vector<decltype(bytepiece::encode_batch(tok, lines, pool))> r(batches.size());
    for (auto _ : state) {
        for (std::size_t k = 0; k < batches.size(); ++k) r[k] = bytepiece::encode_batch(tok, batches[k], pool);
        benchmark::DoNotOptimize(r.data());
    }
    std::uint64_t got = bench::checksum(reference.begin(), reference.begin());
    for (const auto& part : r) got = bench::checksum(part.ids.begin(), part.ids.end(), got);
    bench::finish(state, text.size(), got, bench::checksum(reference.begin(), reference.end()));
}

void bm_model_batch(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const auto& lines = bench::chunks(corpus_path);
    const std::string& text = bench::corpus(corpus_path);
    bytepiece::model_batch_options o;
    o.max_length = 512;
    o.pad_to_multiple_of = 8;
    // The reference: each line's ids, cut to 512, concatenated; the batch's masked ids must match.
    std::vector<std::uint32_t> reference;
    for (const auto& l : lines) {
        const auto ids = tok.encode(l);
        reference.insert(reference.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(ids.size(), 512)));
    }
    const auto batches = batches_of(lines);
    bytepiece::thread_pool pool(batch_threads);
    std::vector<bytepiece::model_batch> r(batches.size());
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        for (std::size_t k = 0; k < batches.size(); ++k) r[k] = bytepiece::encode_for_model(tok, batches[k], pool, o);
        benchmark::DoNotOptimize(r.data());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<std::uint32_t> got;
    std::size_t cells = 0;
    for (const auto& b : r) {
        for (std::size_t i = 0; i < b.rows; ++i)
            got.insert(got.end(), b.row(i) + b.token_begin(i), b.row(i) + b.token_begin(i) + b.lengths[i]);
        cells += b.ids.size();
    }
    state.counters["padding"] = cells ? 1.0 - static_cast<double>(got.size()) / static_cast<double>(cells) : 0;
    const auto rates = bench::results::get().rates();
    const auto base = rates.find(row("encode_batch_2t", model_path, corpus_path));
    if (base != rates.end() && base->second > 0 && seconds > 0)
        state.counters["vs_encode_batch"] =
            static_cast<double>(state.iterations()) * static_cast<double>(text.size()) / seconds / base->second;
    bench::finish(state, text.size(), bench::checksum(got.begin(), got.end()), bench::checksum(reference.begin(), reference.end()));
}

void bm_encode_specials(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    bytepiece::special_tokens sp;
    sp.append({"<|endoftext|>", "<|im_start|>", "<|im_end|>", "[MASK]"}, tok.vocab_size());
    // No token occurs in the corpus, so the ids equal encode's: the row measures the matcher's cost.
    const auto reference = tok.encode(text);
    const auto r = bench::time_ids(state, reference, [&](std::vector<std::uint32_t>& ids) {
        bytepiece::encode_with_specials(tok, text, sp, bytepiece::allowed_special::all(), ids);
    });
    bench::finish(state, text.size(), r.got, r.want);
}

void bm_encode_plain(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto reference = tok.encode(text);
    const auto r = bench::time_ids(state, reference, [&](std::vector<std::uint32_t>& ids) { tok.encode(text, ids); });
    bench::finish(state, text.size(), r.got, r.want);
}

void bm_decode_stream(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto ids = tok.encode(text.substr(0, std::min<std::size_t>(text.size(), 1 << 18)));
    const std::string whole = tok.decode(ids);
    bytepiece::decode_stream ds(tok);
    std::string out;
    for (auto _ : state) {
        out.clear();
        for (const auto id : ids) ds.put(id, out);
        out += ds.flush();
        benchmark::DoNotOptimize(out.data());
    }
    const std::uint64_t want = bench::checksum(whole.begin(), whole.end());
    bench::finish(state, whole.size(), bench::checksum(out.begin(), out.end()), want);
    state.counters["ids"] = static_cast<double>(ids.size());
}

void bm_decode_whole(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto ids = tok.encode(text.substr(0, std::min<std::size_t>(text.size(), 1 << 18)));
    const std::string whole = tok.decode(ids);
    std::string out;
    for (auto _ : state) {
        out = tok.decode(ids);
        benchmark::DoNotOptimize(out.data());
    }
    bench::finish(state, whole.size(), bench::checksum(out.begin(), out.end()), bench::checksum(whole.begin(), whole.end()));
}

void register_serving() {
    bench::for_each_model_and_corpus([](const std::string& m, const std::string& c) {
        // encode_batch first, so the model batch row finds its rate.
        benchmark::RegisterBenchmark(row("encode_batch_2t", m, c).c_str(), bm_encode_batch, m, c)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark(row("model_batch_2t", m, c).c_str(), bm_model_batch, m, c)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark(row("encode_plain", m, c).c_str(), bm_encode_plain, m, c)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(row("encode_specials", m, c).c_str(), bm_encode_specials, m, c)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(row("decode_whole", m, c).c_str(), bm_decode_whole, m, c)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(row("decode_stream", m, c).c_str(), bm_decode_stream, m, c)->Unit(benchmark::kMillisecond);
    });
}

const bench::registrar serving_rows(register_serving);

}  // namespace
