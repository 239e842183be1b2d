// SPDX-License-Identifier: Apache-2.0
// The operations around encode, each beside SentencePiece where it has one:
//   tokenize/<model>/<corpus>      pieces as strings instead of ids
//   decode/<model>/<corpus>        ids of the whole corpus back to text (bytes = text produced)
//   nfc_chunking/<corpus>          NFC (or its quick check) plus for_each_chunk alone, i.e. the
//                                  part of encode before Viterbi; "encode_share_<model>" is its
//                                  time over encode's when that row ran earlier in this run
//   load/<model>                   model file to ready tokenizer (bytes = the model file's)
//   load_binary/<model>            the same from the binary model it converts to
// Resident memory of a loaded model is measured by bytepiece_memory_probe (memory_probe.cpp),
// in fresh processes, because RSS inside this long-lived process says little.
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr std::uint64_t fnv_basis = 1469598103934665603ull;

// A segmentation is fixed by its piece lengths once the pieces are known to spell the text, so
// the timed loop hashes lengths only and the spelling is checked once, untimed.
template <class Pieces>
std::uint64_t length_checksum(const Pieces& pieces, std::uint64_t h = fnv_basis) {
    for (const auto& p : pieces) {
        h ^= static_cast<std::uint64_t>(p.size());
        h *= 1099511628211ull;
    }
    return h;
}

void bm_tokenize(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto reference = tok.tokenize(text);
    std::string joined;
    for (const auto& p : reference) joined += p;
    if (joined != bytepiece::nfc(text)) {
        state.SkipWithError("the pieces do not spell the normalized text");
        return;
    }
    const std::uint64_t want = length_checksum(reference);
    std::uint64_t got = 0;
    for (auto _ : state) {
        const auto pieces = tok.tokenize(text);
        got = length_checksum(pieces);
        benchmark::DoNotOptimize(got);
    }
    state.counters["pieces"] = static_cast<double>(reference.size());
    bench::finish(state, text.size(), got, want);
}

void bm_decode(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const std::string& text = bench::corpus(corpus_path);
    const auto ids = tok.encode(text);
    const std::string reference = tok.decode(ids);
    const std::uint64_t want = std::hash<std::string_view>{}(reference);
    std::uint64_t got = 0;
    for (auto _ : state) {
        const std::string out = tok.decode(ids);
        got = std::hash<std::string_view>{}(out);
        benchmark::DoNotOptimize(got);
    }
    // 1 when decode(encode(text)) is the NFC of the text: always, for valid UTF-8.
    state.counters["roundtrip"] = reference == bytepiece::nfc(text) ? 1 : 0;
    state.counters["ids"] = static_cast<double>(ids.size());
    bench::finish(state, reference.size(), got, want);
}

void bm_nfc_chunking(benchmark::State& state, std::string corpus_path) {
    const std::string& text = bench::corpus(corpus_path);
    // What encode does before Viterbi, step for step: the quick check, NFC only when it says
    // so, and the chunk walk.
    std::string storage;
    auto run = [&] {
        std::string_view normalized = text;
        if (!bytepiece::is_nfc_quick(text)) {
            storage.clear();
            bytepiece::nfc_append(text, storage);
            normalized = storage;
        }
        std::uint64_t h = fnv_basis;
        bytepiece::for_each_chunk(normalized, [&](std::string_view c) {
            h ^= static_cast<std::uint64_t>(c.size());
            h *= 1099511628211ull;
        });
        return h;
    };
    const std::uint64_t want = run();
    std::uint64_t got = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        got = run();
        benchmark::DoNotOptimize(got);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.counters["already_nfc"] = bytepiece::is_nfc_quick(text) ? 1 : 0;
    const double bytes = static_cast<double>(state.iterations()) * static_cast<double>(text.size());
    bench::set_encode_shares(state, seconds, bytes, corpus_path, bench::model_paths());
    bench::finish(state, text.size(), got, want);
}

// What a loaded tokenizer must reproduce: its vocabulary size and the ids of a fixed text.
template <class Encode>
std::uint64_t probe_checksum(std::size_t vocab, Encode&& encode) {
    static const std::vector<std::string> probes = {"Hello, \xE4\xB8\x96\xE7\x95\x8C!\n",
                                                    "the quick brown fox jumps over the lazy dog\n",
                                                    "int main(void) { return 0; }\n"};
    std::uint64_t h = bench::checksum(&vocab, &vocab + 1);
    for (const auto& p : probes) {
        const auto ids = encode(p);
        h = bench::checksum(ids.begin(), ids.end(), h);
    }
    return h;
}

// load/<model>: the JSON model file; load_binary/<model>: the binary model that the JSON
// one converts to (written to the temporary folder first, removed after).
void bm_load(benchmark::State& state, std::string model_path, bool binary) {
    const auto& cached = bench::tokenizer(model_path);
    std::string path = model_path;
    if (binary) {
        path = (std::filesystem::temp_directory_path() / ("bytepiece_bench_" + bench::stem(model_path) + ".bpm")).string();
        cached.save_binary(path);
    }
    const std::size_t bytes = bytepiece::detail::read_file(path).size();
    const std::uint64_t want = probe_checksum(cached.vocab_size(), [&](const std::string& s) { return cached.encode(s); });
    std::uint64_t got = 0;
    for (auto _ : state) {
        const auto tok = bytepiece::tokenizer::load(path);
        state.PauseTiming();
        got = probe_checksum(tok.vocab_size(), [&](const std::string& s) { return tok.encode(s); });
        state.ResumeTiming();
    }
    if (binary) std::filesystem::remove(path);
    state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
    bench::finish(state, bytes, got, want);
}

#if BYTEPIECE_HAVE_SENTENCEPIECE
void bm_tokenize_sentencepiece(benchmark::State& state, const sentencepiece::SentencePieceProcessor* sp,
                               std::string corpus_path) {
    const std::string& text = bench::corpus(corpus_path);
    const auto& chunks = bench::chunks(corpus_path);
    std::vector<std::string> pieces;
    auto run = [&] {
        std::uint64_t h = fnv_basis, count = 0;
        for (auto c : chunks) {
            sp->Encode(c, &pieces).IgnoreError();
            count += pieces.size();
            h = length_checksum(pieces, h);
        }
        return std::make_pair(h, count);
    };
    const auto [want, count] = run();
    std::uint64_t got = 0;
    for (auto _ : state) {
        got = run().first;
        benchmark::DoNotOptimize(got);
    }
    state.counters["pieces"] = static_cast<double>(count);
    bench::finish(state, text.size(), got, want);
}

void bm_decode_sentencepiece(benchmark::State& state, const sentencepiece::SentencePieceProcessor* sp,
                             std::string corpus_path) {
    const auto& chunks = bench::chunks(corpus_path);
    std::vector<std::vector<int>> ids(chunks.size());
    std::size_t count = 0;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        sp->Encode(chunks[i], &ids[i]).IgnoreError();
        count += ids[i].size();
    }
    std::string out;
    auto run = [&](std::size_t& produced) {
        std::uint64_t h = fnv_basis;
        produced = 0;
        for (const auto& v : ids) {
            sp->Decode(v, &out).IgnoreError();
            produced += out.size();
            h = h * 31 + std::hash<std::string_view>{}(out);
        }
        return h;
    };
    std::size_t bytes = 0;
    const std::uint64_t want = run(bytes);
    std::uint64_t got = 0;
    for (auto _ : state) {
        std::size_t produced = 0;
        got = run(produced);
        benchmark::DoNotOptimize(got);
    }
    state.counters["ids"] = static_cast<double>(count);
    bench::finish(state, bytes, got, want);
}

void bm_load_sentencepiece(benchmark::State& state, std::string sp_path, const sentencepiece::SentencePieceProcessor* cached) {
    const std::size_t bytes = bytepiece::detail::read_file(sp_path).size();
    auto encode_with = [](const sentencepiece::SentencePieceProcessor& p) {
        return [&p](const std::string& s) {
            std::vector<int> ids;
            p.Encode(s, &ids).IgnoreError();
            return ids;
        };
    };
    const std::uint64_t want = probe_checksum(static_cast<std::size_t>(cached->GetPieceSize()), encode_with(*cached));
    std::uint64_t got = 0;
    for (auto _ : state) {
        sentencepiece::SentencePieceProcessor sp;
        if (!sp.Load(sp_path).ok()) {
            state.SkipWithError("SentencePiece failed to load the model");
            return;
        }
        state.PauseTiming();
        got = probe_checksum(static_cast<std::size_t>(sp.GetPieceSize()), encode_with(sp));
        state.ResumeTiming();
    }
    state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
    bench::finish(state, bytes, got, want);
}
#endif

void register_misc() {
    for (const auto& m : bench::model_paths()) {
        if (!bench::file_exists(m)) continue;
#if BYTEPIECE_HAVE_SENTENCEPIECE
        const auto* sp = bench::sentencepiece_for(m);
#endif
        for (const auto& c : bench::corpus_paths()) {
            if (!bench::file_exists(c)) continue;
            const std::string suffix = "/" + bench::stem(m) + "/" + bench::stem(c);
            benchmark::RegisterBenchmark(("tokenize" + suffix + "/bytepiece").c_str(), bm_tokenize, m, c)
                ->Unit(benchmark::kMillisecond)->UseRealTime();
            benchmark::RegisterBenchmark(("decode" + suffix + "/bytepiece").c_str(), bm_decode, m, c)
                ->Unit(benchmark::kMillisecond)->UseRealTime();
#if BYTEPIECE_HAVE_SENTENCEPIECE
            if (sp) {
                benchmark::RegisterBenchmark(("tokenize" + suffix + "/sentencepiece").c_str(), bm_tokenize_sentencepiece, sp, c)
                    ->Unit(benchmark::kMillisecond)->UseRealTime();
                benchmark::RegisterBenchmark(("decode" + suffix + "/sentencepiece").c_str(), bm_decode_sentencepiece, sp, c)
                    ->Unit(benchmark::kMillisecond)->UseRealTime();
            }
#endif
        }
    }
    for (const auto& c : bench::corpus_paths()) {
        if (!bench::file_exists(c)) continue;
        benchmark::RegisterBenchmark(("nfc_chunking/" + bench::stem(c) + "/bytepiece").c_str(), bm_nfc_chunking, c)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
    for (const auto& m : bench::model_paths()) {
        if (!bench::file_exists(m)) continue;
        benchmark::RegisterBenchmark(("load/" + bench::stem(m) + "/bytepiece").c_str(), bm_load, m, false)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark(("load_binary/" + bench::stem(m) + "/bytepiece").c_str(), bm_load, m, true)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
#if BYTEPIECE_HAVE_SENTENCEPIECE
        if (const auto* sp = bench::sentencepiece_for(m)) {
            std::string sp_path = m;
            sp_path.insert(sp_path.size() - 6, ".sp");  // sentencepiece_for found X.sp.model for X.model
            benchmark::RegisterBenchmark(("load/" + bench::stem(m) + "/sentencepiece").c_str(), bm_load_sentencepiece,
                                         sp_path, sp)
                ->Unit(benchmark::kMillisecond)->UseRealTime();
        }
#endif
    }
}

const bench::registrar misc_rows(register_misc);

}  // namespace
