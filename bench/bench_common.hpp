// SPDX-License-Identifier: Apache-2.0
// Shared fixtures of the benchmark binary: where the data is, cached corpora and models,
// SentencePiece side-by-side support, id checksums, and the ratio table printed at the end.
#pragma once

#include <benchmark/benchmark.h>

#include <bytepiece/bytepiece.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace bench {

/// The shared data folder: $BYTEPIECE_SHARED_DIR if set, else the one CMake was given.
inline std::string shared_dir() {
    if (const char* env = std::getenv("BYTEPIECE_SHARED_DIR"); env && *env) return env;
    return BYTEPIECE_SHARED_DIR;
}

/// The comma-separated paths in environment variable `name`; empty if unset or empty.
inline std::vector<std::string> env_list(const char* name) {
    std::vector<std::string> out;
    const char* env = std::getenv(name);
    if (!env) return out;
    const std::string s = env;
    for (std::size_t p = 0; p <= s.size();) {
        std::size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        if (q > p) out.push_back(s.substr(p, q - p));
        p = q + 1;
    }
    return out;
}

/// The models benchmarked by default; $BYTEPIECE_BENCH_MODELS (comma-separated paths to JSON
/// models) replaces them, which is how the README's main job benchmarks a freshly trained model.
inline std::vector<std::string> model_paths() {
    std::vector<std::string> out = env_list("BYTEPIECE_BENCH_MODELS");
    if (!out.empty()) return out;
    for (const char* m : {"bytepiece.eu.plus.40k", "bytepiece.eu.plus.160k"})
        out.push_back(shared_dir() + "/models/" + m + ".model");
    return out;
}

/// Corpus files benchmarked; $BYTEPIECE_BENCH_CORPORA (comma-separated paths) replaces them.
inline std::vector<std::string> corpus_paths() {
    std::vector<std::string> out = env_list("BYTEPIECE_BENCH_CORPORA");
    if (!out.empty()) return out;
    for (const char* c : {"zh", "en", "code", "mixed"}) out.push_back(shared_dir() + "/corpus/" + c + ".txt");
    return out;
}

/// "bytepiece.eu.plus.40k" from ".../bytepiece.eu.plus.40k.model"; "mixed" from ".../mixed.txt".
inline std::string stem(const std::string& path) {
    std::string s = path.substr(path.find_last_of('/') + 1);
    for (const char* ext : {".model", ".txt"})
        if (s.size() > std::string(ext).size() && s.compare(s.size() - std::string(ext).size(), std::string::npos, ext) == 0)
            s.erase(s.size() - std::string(ext).size());
    return s;
}

inline bool file_exists(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f) std::fclose(f);
    return f != nullptr;
}

/// Calls `f(model_path, corpus_path)` for every benchmarked model and corpus that exist, in
/// order: the row grid every throughput benchmark registers.
template <class F>
void for_each_model_and_corpus(F&& f) {
    for (const auto& m : model_paths()) {
        if (!file_exists(m)) continue;
        for (const auto& c : corpus_paths())
            if (file_exists(c)) f(m, c);
    }
}

/// Registers `<row>/bytepiece` and, when `peer` is non-null, `<row>/sentencepiece`, both in
/// milliseconds of wall time, so every file names its rows the way the ratio table pairs them.
template <class Ours, class Peer>
void register_pair(const std::string& row, Ours&& ours, Peer&& peer) {
    benchmark::RegisterBenchmark((row + "/bytepiece").c_str(), std::forward<Ours>(ours))
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    if constexpr (!std::is_same_v<std::decay_t<Peer>, std::nullptr_t>)
        benchmark::RegisterBenchmark((row + "/sentencepiece").c_str(), std::forward<Peer>(peer))
            ->Unit(benchmark::kMillisecond)->UseRealTime();
}

/// Loads (once) and returns a corpus file's bytes.
inline const std::string& corpus(const std::string& path) {
    static std::mutex m;
    static std::map<std::string, std::string> cache;
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(path);
    if (it == cache.end()) it = cache.emplace(path, bytepiece::detail::read_file(path)).first;
    return it->second;
}

/// The chunks of a corpus (lines with their trailing newlines), as the tokenizer cuts them.
inline const std::vector<std::string_view>& chunks(const std::string& path) {
    static std::mutex m;
    static std::map<std::string, std::vector<std::string_view>> cache;
    const std::string& text = corpus(path);
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(path);
    if (it == cache.end()) {
        std::vector<std::string_view> v;
        bytepiece::for_each_chunk(text, [&](std::string_view c) { v.push_back(c); });
        it = cache.emplace(path, std::move(v)).first;
    }
    return it->second;
}

/// A corpus cut into lines without their \n (a last line without \n counts), as spm_encode and
/// the HF peer (scripts/bench_hf.js) cut it.
inline const std::vector<std::string_view>& lines(const std::string& path) {
    static std::mutex m;
    static std::map<std::string, std::vector<std::string_view>> cache;
    const std::string& text = corpus(path);
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(path);
    if (it == cache.end()) {
        std::vector<std::string_view> v;
        const std::string_view all(text);
        for (std::size_t p = 0; p < all.size();) {
            std::size_t nl = all.find('\n', p);
            if (nl == std::string_view::npos) nl = all.size();
            v.push_back(all.substr(p, nl - p));
            p = nl + 1;
        }
        it = cache.emplace(path, std::move(v)).first;
    }
    return it->second;
}

/// Loads (once, with `Tokenizer::load(path)`) and returns a tokenizer of any format, so that
/// the rows of one model share one load.
///
/// Example: `const auto& sp = bench::loaded<bytepiece::sentencepiece_tokenizer>(path);`
template <class Tokenizer>
const Tokenizer& loaded(const std::string& path) {
    static std::mutex m;
    static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
    std::lock_guard<std::mutex> lock(m);
    auto& slot = cache[path];
    if (!slot) slot = std::make_unique<Tokenizer>(Tokenizer::load(path));
    return *slot;
}

/// Loads (once) and returns a BytePiece tokenizer.
inline const bytepiece::tokenizer& tokenizer(const std::string& path) { return loaded<bytepiece::tokenizer>(path); }

/// Order-sensitive checksum of ids (FNV-1a over the 32-bit values): a benchmark compares the
/// checksum of what it timed against an untimed reference run, so a broken fast path fails
/// loudly instead of looking fast.
template <class It>
std::uint64_t checksum(It first, It last, std::uint64_t h = 1469598103934665603ull) {
    for (; first != last; ++first) {
        h ^= static_cast<std::uint64_t>(*first);
        h *= 1099511628211ull;
    }
    return h;
}

/// Records bytes/s per benchmark name, so the ratio table can pair our rows with peers'.
class results {
public:
    static results& get() {
        static results r;
        return r;
    }
    void record(const std::string& name, double bytes_per_second) {
        std::lock_guard<std::mutex> lock(m_);
        rates_[name] = bytes_per_second;
    }
    std::map<std::string, double> rates() const {
        std::lock_guard<std::mutex> lock(m_);
        return rates_;
    }

private:
    mutable std::mutex m_;
    std::map<std::string, double> rates_;
};

/// "40k" from ".../bytepiece.eu.plus.40k.model": the suffix of counters named per model.
inline std::string model_short_name(const std::string& model_path) {
    const std::string s = stem(model_path);
    return s.substr(s.find_last_of('.') + 1);
}

/// Sets counter "encode_share_<model>" of a row that did part of encode's work on
/// `corpus_path`, for every model whose `encode` row ran earlier in this run: the row's time
/// per byte over encode's, i.e. the fraction of encode that part costs.
inline void set_encode_shares(benchmark::State& state, double seconds, double bytes, const std::string& corpus_path,
                              const std::vector<std::string>& models) {
    const auto rates = results::get().rates();
    for (const auto& m : models) {
        const auto encode = rates.find("encode/" + stem(m) + "/" + stem(corpus_path) + "/bytepiece");
        if (encode == rates.end() || encode->second <= 0 || bytes <= 0) continue;
        state.counters["encode_share_" + model_short_name(m)] = seconds / bytes * encode->second;
    }
}

#if BYTEPIECE_HAVE_SENTENCEPIECE
/// The SentencePiece model with the same vocabulary as a BytePiece model (`X.model` ->
/// `X.sp.model`), loaded once; nullptr when there is none.
inline const sentencepiece::SentencePieceProcessor* sentencepiece_for(const std::string& bytepiece_model) {
    static std::mutex m;
    static std::map<std::string, std::unique_ptr<sentencepiece::SentencePieceProcessor>> cache;
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(bytepiece_model);
    if (it != cache.end()) return it->second.get();
    std::string sp = bytepiece_model;
    if (sp.size() > 6 && sp.compare(sp.size() - 6, 6, ".model") == 0) sp.insert(sp.size() - 6, ".sp");
    std::unique_ptr<sentencepiece::SentencePieceProcessor> p;
    if (file_exists(sp)) {
        p = std::make_unique<sentencepiece::SentencePieceProcessor>();
        if (!p->Load(sp).ok()) p.reset();
    }
    return cache.emplace(bytepiece_model, std::move(p)).first->second.get();
}
#endif

}  // namespace bench

namespace bench {

/// Benchmarks are registered at run time (the model and corpus lists come from the
/// environment), so each bench_*.cpp adds a registration function here.
inline std::vector<void (*)()>& registrations() {
    static std::vector<void (*)()> r;
    return r;
}
struct registrar {
    explicit registrar(void (*f)()) { registrations().push_back(f); }
};

/// The checksums of a row's ids: of the untimed reference run, and of the last timed run.
struct id_checksums {
    std::uint64_t got;
    std::uint64_t want;
};

/// Runs the timed loop of a row whose output is ids: each iteration clears `ids` and calls
/// `run(ids)`. The checksum of the last iteration's ids is taken after the loop, so only the
/// operation is timed; it is compared with `reference`'s by `finish`. Sets the "ids" counter.
template <class Run>
id_checksums time_ids(benchmark::State& state, const std::vector<std::uint32_t>& reference, Run&& run) {
    std::vector<std::uint32_t> ids;
    ids.reserve(reference.size());
    for (auto _ : state) {
        ids.clear();
        run(ids);
        benchmark::DoNotOptimize(ids.data());
    }
    state.counters["ids"] = static_cast<double>(reference.size());
    return {checksum(ids.begin(), ids.end()), checksum(reference.begin(), reference.end())};
}

/// Marks the end of a timed loop: sets bytes processed, records the rate for the ratio
/// table, and fails the row if the checksum of what was timed differs from the reference.
inline void finish(benchmark::State& state, std::size_t bytes_per_iteration, std::uint64_t got, std::uint64_t want) {
    if (got != want) {
        state.SkipWithError("checksum of the ids differs from the reference run");
        return;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes_per_iteration));
}

}  // namespace bench
