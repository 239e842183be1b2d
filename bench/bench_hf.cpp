// SPDX-License-Identifier: Apache-2.0
// tokenizer.json files on each corpus file: our `hf_tokenizer` on the same lines HF tokenizers
// encodes in scripts/bench_hf.js (the corpus cut at each \n, the newline not encoded, no
// special tokens). HF itself runs in node, so its rows come from that script; scripts/bench_hf.py
// runs both, interleaved, and compares the id checksums each prints: the label of our rows is
// the FNV-1a checksum of all the ids in line order, as bench::checksum computes it.
//
// Rows: hf_encode/<file>/<corpus>/bytepiece (one `encode` per line) and
// hf_encode_texts/<file>/<corpus>/bytepiece (all lines to one `encode_texts` call). Every timed
// run is checked against an untimed run of `encode` line by line. The files: ALBERT 30k-clean
// in tokenizers' `from_spm` shape, and the byte-level export of eu.plus.40k (the fixture, which
// is byte-identical to what `to_hf_json` writes); $BYTEPIECE_BENCH_HF_FILES (comma-separated
// tokenizer.json paths) replaces them.
#include <bytepiece/hf_tokenizer.hpp>

#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

std::vector<std::string> hf_file_paths() {
    std::vector<std::string> out = bench::env_list("BYTEPIECE_BENCH_HF_FILES");
    if (!out.empty()) return out;
    for (const char* f : {"albert-30k-clean.from_spm.json", "bytepiece.eu.plus.40k.bytelevel.json"})
        out.push_back(bench::shared_dir() + "/models/hf/" + f);
    return out;
}

// "albert-30k-clean.from_spm" from ".../albert-30k-clean.from_spm.json".
std::string file_stem(const std::string& path) {
    std::string s = path.substr(path.find_last_of('/') + 1);
    if (s.size() > 5 && s.compare(s.size() - 5, 5, ".json") == 0) s.erase(s.size() - 5);
    return s;
}

const bytepiece::hf_tokenizer& hf_tokenizer(const std::string& path) { return bench::loaded<bytepiece::hf_tokenizer>(path); }

// The ids of every line, from `encode` one line at a time, untimed: what the timed rows must
// reproduce, and whose checksum the node peer's is compared with.
const std::vector<std::uint32_t>& reference_ids(const std::string& file, const std::string& corpus_path) {
    static std::mutex m;
    static std::map<std::pair<std::string, std::string>, std::vector<std::uint32_t>> cache;
    std::lock_guard<std::mutex> lock(m);
    const auto key = std::make_pair(file, corpus_path);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    const auto& tok = hf_tokenizer(file);
    std::vector<std::uint32_t> ids, line_ids;
    for (const auto line : bench::lines(corpus_path)) {
        line_ids.clear();
        tok.encode(line, line_ids);
        ids.insert(ids.end(), line_ids.begin(), line_ids.end());
    }
    return cache.emplace(key, std::move(ids)).first->second;
}

void bm_hf(benchmark::State& state, const std::string& file, const std::string& corpus_path, bool batch) {
    const auto& reference = reference_ids(file, corpus_path);
    const auto& tok = hf_tokenizer(file);
    const auto& ls = bench::lines(corpus_path);
    const auto sums = bench::time_ids(state, reference, [&](std::vector<std::uint32_t>& ids) {
        if (batch) {
            tok.encode_texts(ls.data(), ls.size(),
                             [&](std::size_t, const std::uint32_t* p, std::size_t n) { ids.insert(ids.end(), p, p + n); });
        } else {
            for (const auto line : ls) tok.encode(line, ids);
        }
    });
    char label[32];
    std::snprintf(label, sizeof label, "ids_fnv=%016" PRIx64, sums.want);
    state.SetLabel(label);
    state.counters["lines"] = static_cast<double>(ls.size());
    bench::finish(state, bench::corpus(corpus_path).size(), sums.got, sums.want);
}

void register_hf() {
    for (const auto& f : hf_file_paths()) {
        if (!bench::file_exists(f)) continue;
        for (const auto& c : bench::corpus_paths()) {
            if (!bench::file_exists(c)) continue;
            const std::string row = file_stem(f) + "/" + bench::stem(c);
            // The peer is HF tokenizers in node (scripts/bench_hf.js), not in this binary.
            bench::register_pair(
                "hf_encode/" + row, [f, c](benchmark::State& st) { bm_hf(st, f, c, false); }, nullptr);
            bench::register_pair(
                "hf_encode_texts/" + row, [f, c](benchmark::State& st) { bm_hf(st, f, c, true); }, nullptr);
        }
    }
}

const bench::registrar hf_rows(register_hf);

}  // namespace
