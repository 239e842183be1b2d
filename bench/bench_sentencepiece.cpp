// SPDX-License-Identifier: Apache-2.0
// SentencePiece `.model` files (ALBERT's 30k-clean by default) on each corpus file: our
// `sentencepiece_tokenizer::encode` beside libsentencepiece's `Encode`, both on the same lines
// (the corpus cut at each \n, the newline not encoded, as spm_encode does), in the same run.
// Before any timing, every line's ids from both are compared: a row whose ids disagree fails
// with the first line that differs instead of showing a speed. A third row times our
// normalizer alone, with its share of our encode time.
//
// Rows: sp_encode/<model>/<corpus>/{bytepiece,sentencepiece}, sp_encode_texts/<model>/<corpus>/bytepiece
// (all lines to one encode_texts call; its peer is sp_encode's SentencePiece row) and
// sp_normalize/<model>/<corpus>/bytepiece.
// $BYTEPIECE_BENCH_SP_MODELS (comma-separated .model paths) replaces the default model.
#include <bytepiece/sentencepiece_tokenizer.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

std::vector<std::string> sp_model_paths() {
    std::vector<std::string> out = bench::env_list("BYTEPIECE_BENCH_SP_MODELS");
    if (out.empty()) out.push_back(bench::shared_dir() + "/models/sp/albert-30k-clean.model");
    return out;
}

// The benchmarked corpora, and the small one too unless the list was given explicitly.
std::vector<std::string> sp_corpus_paths() {
    std::vector<std::string> out = bench::corpus_paths();
    if (bench::env_list("BYTEPIECE_BENCH_CORPORA").empty()) out.push_back(bench::shared_dir() + "/corpus/small.txt");
    return out;
}

const bytepiece::sentencepiece_tokenizer& sp_tokenizer(const std::string& path) { return bench::loaded<bytepiece::sentencepiece_tokenizer>(path); }

#if BYTEPIECE_HAVE_SENTENCEPIECE

const sentencepiece::SentencePieceProcessor& processor(const std::string& path) {
    static std::mutex m;
    static std::map<std::string, std::unique_ptr<sentencepiece::SentencePieceProcessor>> cache;
    std::lock_guard<std::mutex> lock(m);
    auto& slot = cache[path];
    if (!slot) {
        slot = std::make_unique<sentencepiece::SentencePieceProcessor>();
        if (const auto status = slot->Load(path); !status.ok()) {
            std::fprintf(stderr, "bench: libsentencepiece cannot load %s: %s\n", path.c_str(), status.ToString().c_str());
            std::exit(1);
        }
    }
    return *slot;
}

// What an untimed comparison of both tokenizers on every line found: libsentencepiece's ids
// (the reference both timed rows are checked against) and, if some line differs, which.
struct agreement {
    std::vector<std::uint32_t> ids;
    std::string error;  // empty when every line agrees
};

const agreement& compare(const std::string& model_path, const std::string& corpus_path) {
    static std::mutex m;
    static std::map<std::pair<std::string, std::string>, agreement> cache;
    std::lock_guard<std::mutex> lock(m);
    const auto key = std::make_pair(model_path, corpus_path);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    agreement a;
    const auto& tok = sp_tokenizer(model_path);
    const auto& sp = processor(model_path);
    std::vector<int> theirs;
    std::vector<std::uint32_t> ours;
    std::vector<std::string> pieces;
    const auto& ls = bench::lines(corpus_path);
    for (std::size_t i = 0; i < ls.size(); ++i) {
        sp.Encode(ls[i], &theirs).IgnoreError();
        ours.clear();
        tok.encode(ls[i], ours);
        const bool same_ids = ours.size() == theirs.size() && std::equal(ours.begin(), ours.end(), theirs.begin(),
                                                                         [](std::uint32_t o, int t) { return t >= 0 && o == static_cast<std::uint32_t>(t); });
        // The normalized text is what the pieces spell out (ALBERT has no byte fallback).
        sp.Encode(ls[i], &pieces).IgnoreError();
        std::string joined;
        for (const auto& p : pieces) joined += p;
        if ((!same_ids || tok.normalize(ls[i]) != joined) && a.error.empty())
            a.error = std::string(same_ids ? "normalized text" : "ids") + " differ from SentencePiece's on line " +
                      std::to_string(i + 1) + " of " + corpus_path;
        for (int t : theirs) a.ids.push_back(static_cast<std::uint32_t>(t));
    }
    if (!a.error.empty()) std::fprintf(stderr, "bench: %s: %s\n", model_path.c_str(), a.error.c_str());
    return cache.emplace(key, std::move(a)).first->second;
}

// Ours: one `encode` per line, or (`each`) all lines to one `encode_texts` call.
void bm_ours(benchmark::State& state, const std::string& model_path, const std::string& corpus_path, bool each) {
    const agreement& a = compare(model_path, corpus_path);
    if (!a.error.empty()) {
        state.SkipWithError(a.error.c_str());
        return;
    }
    const auto& tok = sp_tokenizer(model_path);
    const auto& ls = bench::lines(corpus_path);
    const auto sums = bench::time_ids(state, a.ids, [&](std::vector<std::uint32_t>& ids) {
        if (each) {
            tok.encode_texts(ls.data(), ls.size(),
                            [&](std::size_t, const std::uint32_t* p, std::size_t n) { ids.insert(ids.end(), p, p + n); });
        } else {
            for (const auto line : ls) tok.encode(line, ids);
        }
    });
    bench::finish(state, bench::corpus(corpus_path).size(), sums.got, sums.want);
}

void bm_theirs(benchmark::State& state, const std::string& model_path, const std::string& corpus_path) {
    const agreement& a = compare(model_path, corpus_path);
    if (!a.error.empty()) {
        state.SkipWithError(a.error.c_str());
        return;
    }
    const auto& sp = processor(model_path);
    const auto& ls = bench::lines(corpus_path);
    std::vector<int> line_ids;
    // Appending each line's ids costs a copy SentencePiece's API forces; it is tiny beside
    // Encode and lets the timed output be checked as ours is.
    const auto sums = bench::time_ids(state, a.ids, [&](std::vector<std::uint32_t>& ids) {
        for (const auto line : ls) {
            sp.Encode(line, &line_ids).IgnoreError();
            ids.insert(ids.end(), line_ids.begin(), line_ids.end());
        }
    });
    bench::finish(state, bench::corpus(corpus_path).size(), sums.got, sums.want);
}

#endif  // BYTEPIECE_HAVE_SENTENCEPIECE

// Our normalizer alone on the same lines; with libsentencepiece its output was compared in
// the untimed pass. scripts/bench_table.py gives its time as a share of our encode's.
void bm_normalize(benchmark::State& state, const std::string& model_path, const std::string& corpus_path) {
#if BYTEPIECE_HAVE_SENTENCEPIECE
    if (const agreement& a = compare(model_path, corpus_path); !a.error.empty()) {
        state.SkipWithError(a.error.c_str());
        return;
    }
#endif
    const auto& tok = sp_tokenizer(model_path);
    const auto& ls = bench::lines(corpus_path);
    // The timed runs must give every line the length an untimed run gave it (the text itself
    // is compared with SentencePiece's above).
    auto lengths = [&] {
        std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the lengths, as bench::checksum
        for (const auto line : ls) h = (h ^ tok.normalize(line).size()) * 1099511628211ull;
        return h;
    };
    const std::uint64_t want = lengths();
    std::uint64_t got = 0;
    for (auto _ : state) {
        got = lengths();
        benchmark::DoNotOptimize(got);
    }
    bench::finish(state, bench::corpus(corpus_path).size(), got, want);
}

void register_sentencepiece() {
    for (const auto& m : sp_model_paths()) {
        if (!bench::file_exists(m)) continue;
        for (const auto& c : sp_corpus_paths()) {
            if (!bench::file_exists(c)) continue;
            const std::string row = "sp_encode/" + bench::stem(m) + "/" + bench::stem(c);
#if BYTEPIECE_HAVE_SENTENCEPIECE
            bench::register_pair(
                row, [m, c](benchmark::State& st) { bm_ours(st, m, c, false); }, [m, c](benchmark::State& st) { bm_theirs(st, m, c); });
            // SentencePiece has no batch call: this row's peer is sp_encode's (the ratio
            // table pairs them), not a second run of the same thing.
            bench::register_pair(
                "sp_encode_texts/" + bench::stem(m) + "/" + bench::stem(c), [m, c](benchmark::State& st) { bm_ours(st, m, c, true); },
                nullptr);
#else
            // No peer to agree with: the timed ids are checked against an untimed run of ours.
            bench::register_pair(
                row,
                [m, c](benchmark::State& st) {
                    const auto& tok = sp_tokenizer(m);
                    const auto& ls = bench::lines(c);
                    std::vector<std::uint32_t> reference;
                    for (const auto line : ls) tok.encode(line, reference);
                    const auto sums = bench::time_ids(st, reference, [&](std::vector<std::uint32_t>& ids) {
                        for (const auto line : ls) tok.encode(line, ids);
                    });
                    bench::finish(st, bench::corpus(c).size(), sums.got, sums.want);
                },
                nullptr);
#endif
        }
        for (const auto& c : sp_corpus_paths()) {
            if (!bench::file_exists(c)) continue;
            benchmark::RegisterBenchmark(("sp_normalize/" + bench::stem(m) + "/" + bench::stem(c) + "/bytepiece").c_str(),
                                         [m, c](benchmark::State& st) { bm_normalize(st, m, c); })
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
        }
    }
}

const bench::registrar sentencepiece_rows(register_sentencepiece);

}  // namespace
