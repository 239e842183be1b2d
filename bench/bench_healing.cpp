// SPDX-License-Identifier: Apache-2.0
// Token healing (token_healing.hpp) on prompts cut from the corpora:
//   heal/<model>/<corpus>/bytepiece            heal() of every prompt; "us_per_prompt"
//   heal/<model>/<corpus>/encode               encode() of the same prompts, the peer: heal is
//                                              encode plus the search at the prompt's end
//   candidates/<model>/<corpus>/bytepiece      starting_with(remainder), sorted ids, for the
//                                              non-empty remainders healing gave; "us_per_lookup"
//   candidates/<model>/<corpus>/scan           the same sets by a scan of the vocabulary, the
//                                              peer a logits processor would use without the index
//   candidates_mask/<model>/<corpus>/bytepiece starting_with_mask(remainder) into one reused mask
//   prefixes/<model>/<corpus>/bytepiece        prefixes_of(remainder)
// and for a tokenizer.json (hf_token_healing.hpp; ALBERT's, as transformers converts it):
//   heal/<file>/<corpus>/hf_encode             the tokenizer.json's encode() of the prompts
//   heal/<file>/<corpus>/hf_heal               heal() of the prompts (those it does not refuse)
//   candidates/<file>/<corpus>/hf_scan         starting_with by a scan of the vocabulary
//   candidates/<file>/<corpus>/hf_index        starting_with(remainder), the index's sorted ids
//   candidates_mask/<file>/<corpus>/hf_index   starting_with_mask(remainder)
// Bytes are the prompts' (heal) or the remainders' (lookups); every row checks a checksum of
// its ids against an untimed reference run. The peers run first, and our rows report
// "x_vs_encode" (heal's speed over encode's: below 1, the share of extra work) and
// "x_vs_scan" (the index's speed-up over scanning the vocabulary).
#include <bytepiece/hf_token_healing.hpp>
#include <bytepiece/token_healing.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr std::size_t prompt_count = 2000;

// Sets counter `name` to this row's bytes/s over the peer row's, when the peer ran earlier.
void set_ratio(benchmark::State& state, const std::string& name, const std::string& peer_row, double seconds,
               double bytes) {
    const auto rates = bench::results::get().rates();
    const auto peer = rates.find(peer_row);
    if (peer == rates.end() || peer->second <= 0 || seconds <= 0) return;
    state.counters[name] = bytes / seconds / peer->second;
}

// Prompts: lines of the corpus cut at a pseudo-random byte (splitmix64, fixed seed), at most
// 256 bytes, the shape of a prompt that ends mid-word.
const std::vector<std::string>& prompts(const std::string& corpus_path) {
    static std::map<std::string, std::vector<std::string>> cache;
    auto it = cache.find(corpus_path);
    if (it != cache.end()) return it->second;
    std::vector<std::string> out;
    const auto& lines = bench::lines(corpus_path);
    bytepiece::splitmix64 g(7);
    const std::size_t stride = std::max<std::size_t>(1, lines.size() / prompt_count);
    for (std::size_t i = 0; i < lines.size() && out.size() < prompt_count; i += stride) {
        const std::string_view line = lines[i].substr(0, 256);
        if (line.size() < 2) continue;
        out.emplace_back(line.substr(0, 1 + g() % (line.size() - 1)));
    }
    return cache.emplace(corpus_path, std::move(out)).first->second;
}

const bytepiece::token_healer& healer(const std::string& model_path) {
    static std::map<std::string, std::unique_ptr<bytepiece::token_healer>> cache;
    auto& h = cache[model_path];
    if (!h) h = std::make_unique<bytepiece::token_healer>(bench::tokenizer(model_path));
    return *h;
}

// The non-empty remainders healing gives for the prompts: what a logits processor is asked
// about (an empty remainder puts no constraint on the continuation).
std::vector<std::string> remainders(const std::string& model_path, const std::string& corpus_path) {
    std::vector<std::string> out;
    for (const auto& p : prompts(corpus_path)) {
        std::string r = healer(model_path).heal(p).remainder;
        if (!r.empty()) out.push_back(std::move(r));
    }
    return out;
}

// Microseconds per item, of wall time and of process CPU time (the machine may be shared: CPU
// time then says more about the code).
struct stopwatch {
    std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    void report(benchmark::State& state, const char* name, std::size_t items) const {
        if (state.iterations() == 0 || items == 0) return;
        const double per = 1e6 / static_cast<double>(state.iterations()) / static_cast<double>(items);
        const std::chrono::duration<double> w = std::chrono::steady_clock::now() - wall;
        state.counters[name] = w.count() * per;
        state.counters[std::string(name) + "_cpu"] =
            static_cast<double>(std::clock() - cpu) / static_cast<double>(CLOCKS_PER_SEC) * per;
    }
};

std::size_t total_bytes(const std::vector<std::string>& texts) {
    std::size_t n = 0;
    for (const auto& t : texts) n += t.size();
    return n;
}

// A model's name in row names: its file name without ".model" or ".json".
std::string hf_stem(const std::string& path) {
    std::string s = bench::stem(path);
    if (s.size() > 5 && s.compare(s.size() - 5, 5, ".json") == 0) s.erase(s.size() - 5);
    return s;
}

std::string row(const char* op, const std::string& model_path, const std::string& corpus_path, const char* who) {
    return std::string(op) + "/" + hf_stem(model_path) + "/" + bench::stem(corpus_path) + "/" + who;
}

double seconds_per_iteration(const benchmark::State& state, double total_seconds) {
    return state.iterations() ? total_seconds / static_cast<double>(state.iterations()) : 0;
}

void bm_heal(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& h = healer(model_path);
    const auto& ps = prompts(corpus_path);
    std::vector<std::uint32_t> reference;
    for (const auto& p : ps) {
        const auto r = h.heal(p);
        reference.insert(reference.end(), r.ids.begin(), r.ids.end());
    }
    const auto start = std::chrono::steady_clock::now();
    const stopwatch watch;
    const auto sums = bench::time_ids(state, reference, [&](std::vector<std::uint32_t>& ids) {
        for (const auto& p : ps) {
            const auto r = h.heal(p);
            ids.insert(ids.end(), r.ids.begin(), r.ids.end());
        }
    });
    watch.report(state, "us_per_prompt", ps.size());
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    set_ratio(state, "x_vs_encode", row("heal", model_path, corpus_path, "encode"),
              seconds_per_iteration(state, took.count()), static_cast<double>(total_bytes(ps)));
    state.counters["prompts"] = static_cast<double>(ps.size());
    bench::finish(state, total_bytes(ps), sums.got, sums.want);
}

void bm_heal_peer_encode(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& tok = bench::tokenizer(model_path);
    const auto& ps = prompts(corpus_path);
    std::vector<std::uint32_t> reference;
    for (const auto& p : ps) tok.encode(p, reference);
    const stopwatch watch;
    const auto sums = bench::time_ids(state, reference, [&](std::vector<std::uint32_t>& ids) {
        for (const auto& p : ps) tok.encode(p, ids);
    });
    watch.report(state, "us_per_prompt", ps.size());
    bench::finish(state, total_bytes(ps), sums.got, sums.want);
}

enum class lookup { sorted, mask, prefixes, scan };

// The lookup rows of both healers, timed alike. `h` has `starting_with`, `prefixes_of` and
// `index()`; `scan(r, ids)` is the row's brute force over the vocabulary; `scan_row` names that
// row, the denominator of `x_vs_scan`.
template <class Healer, class Scan>
void time_lookups(benchmark::State& state, const Healer& h, const std::vector<std::string>& rs, lookup kind, Scan&& scan,
                  const std::string& scan_row) {
    // The answer a row gives for one remainder, as ids appended to `ids`.
    std::vector<std::uint64_t> mask;
    const auto answer = [&](const std::string& r, std::vector<std::uint32_t>& ids, lookup k) {
        switch (k) {
            case lookup::sorted: {
                const auto c = h.starting_with(r);
                ids.insert(ids.end(), c.begin(), c.end());
                break;
            }
            case lookup::mask: {
                h.index().starting_with_mask(r, mask);
                // A fold of the words stands for the mask (a pass over it, as a consumer makes).
                std::uint64_t fold = 0;
                for (const auto w : mask) fold = (fold ^ w) * 0x100000001b3ull;
                ids.push_back(static_cast<std::uint32_t>(fold ^ (fold >> 32)));
                break;
            }
            case lookup::prefixes: {
                const auto c = h.prefixes_of(r);
                ids.insert(ids.end(), c.begin(), c.end());
                break;
            }
            case lookup::scan:
                scan(r, ids);
                break;
        }
    };
    std::vector<std::uint32_t> reference;
    for (const auto& r : rs) answer(r, reference, kind == lookup::scan ? lookup::sorted : kind);
    const auto start = std::chrono::steady_clock::now();
    const stopwatch watch;
    const auto sums = bench::time_ids(state, reference, [&](std::vector<std::uint32_t>& ids) {
        for (const auto& r : rs) answer(r, ids, kind);
    });
    watch.report(state, "us_per_lookup", rs.size());
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (kind != lookup::scan)
        set_ratio(state, "x_vs_scan", scan_row, seconds_per_iteration(state, took.count()), static_cast<double>(total_bytes(rs)));
    state.counters["lookups"] = static_cast<double>(rs.size());
    if (kind == lookup::sorted || kind == lookup::scan)
        state.counters["candidates_per_lookup"] = static_cast<double>(reference.size()) / static_cast<double>(rs.size());
    if (kind != lookup::scan) {
        // The distribution per lookup, untimed by the row: a few remainders (a lone space or
        // "\u2581", a lone byte) have thousands of candidates and weigh on the mean; the median
        // is the typical lookup. Each lookup's time is its best of 5 runs.
        std::vector<double> each(rs.size(), 1e300);
        std::vector<std::size_t> sizes;
        std::vector<std::uint32_t> scratch;
        for (int rep = 0; rep < 5; ++rep)
            for (std::size_t i = 0; i < rs.size(); ++i) {
                scratch.clear();
                const auto t0 = std::chrono::steady_clock::now();
                answer(rs[i], scratch, kind);
                const std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
                each[i] = std::min(each[i], d.count() * 1e6);
                if (rep == 0) sizes.push_back(kind == lookup::mask ? h.index().count_starting_with(rs[i]) : scratch.size());
            }
        std::sort(each.begin(), each.end());
        std::sort(sizes.begin(), sizes.end());
        state.counters["us_p50"] = each[each.size() / 2];
        state.counters["us_p90"] = each[each.size() * 9 / 10];
        state.counters["answer_p50"] = static_cast<double>(sizes[sizes.size() / 2]);
    }
    bench::finish(state, total_bytes(rs), sums.got, sums.want);
}

void bm_lookup(benchmark::State& state, std::string model_path, std::string corpus_path, lookup kind) {
    const auto& h = healer(model_path);
    const auto& tok = bench::tokenizer(model_path);
    const auto scan = [&](const std::string& r, std::vector<std::uint32_t>& ids) {
        for (std::uint32_t id = 3; id < tok.vocab_size(); ++id) {
            const std::string_view p = tok.model().piece(id);
            if (p.size() >= r.size() && p.compare(0, r.size(), r) == 0) ids.push_back(id);
        }
    };
    time_lookups(state, h, remainders(model_path, corpus_path), kind, scan, row("candidates", model_path, corpus_path, "scan"));
}

// --- tokenizer.json ----------------------------------------------------------------------

struct hf_state {
    bytepiece::hf_tokenizer tok;
    bytepiece::hf_token_healer healer;
    explicit hf_state(const std::string& path) : tok(bytepiece::hf_tokenizer::load(path)), healer(tok) {}
};

const hf_state& hf(const std::string& path) {
    static std::map<std::string, std::unique_ptr<hf_state>> cache;
    auto& h = cache[path];
    if (!h) h = std::make_unique<hf_state>(path);
    return *h;
}

// The prompts the healer does not refuse (a prompt may end inside an added token, "[CL").
std::vector<std::string> hf_prompts(const std::string& model_path, const std::string& corpus_path) {
    std::vector<std::string> out;
    for (const auto& p : prompts(corpus_path)) {
        try {
            (void)hf(model_path).healer.heal(p);
            out.push_back(p);
        } catch (const bytepiece::argument_error&) {
        }
    }
    return out;
}

void bm_hf_heal(benchmark::State& state, std::string model_path, std::string corpus_path, bool encode_only) {
    const auto& h = hf(model_path);
    const auto ps = hf_prompts(model_path, corpus_path);
    // Both rows give the prompts' full ids (heal: kept + given back), so one checksum serves.
    std::vector<std::uint32_t> reference;
    for (const auto& p : ps) h.tok.encode(p, reference);
    const auto start = std::chrono::steady_clock::now();
    const stopwatch watch;
    const auto sums = bench::time_ids(state, reference, [&](std::vector<std::uint32_t>& ids) {
        for (const auto& p : ps) {
            if (encode_only) {
                h.tok.encode(p, ids);
                continue;
            }
            const auto r = h.healer.heal(p);
            ids.insert(ids.end(), r.ids.begin(), r.ids.end());
            ids.insert(ids.end(), r.removed_ids.begin(), r.removed_ids.end());
        }
    });
    watch.report(state, "us_per_prompt", ps.size());
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (!encode_only)
        set_ratio(state, "x_vs_encode", row("heal", model_path, corpus_path, "hf_encode"),
                  seconds_per_iteration(state, took.count()), static_cast<double>(total_bytes(ps)));
    state.counters["prompts"] = static_cast<double>(ps.size());
    bench::finish(state, total_bytes(ps), sums.got, sums.want);
}

void bm_hf_lookup(benchmark::State& state, std::string model_path, std::string corpus_path, lookup kind) {
    const auto& h = hf(model_path);
    std::vector<std::string> rs;
    for (const auto& p : hf_prompts(model_path, corpus_path)) {
        std::string r = h.healer.heal(p).remainder;
        if (!r.empty()) rs.push_back(std::move(r));
    }
    // The candidates as the healer defines them, for the scan: pieces listed in the index.
    std::vector<std::pair<std::string_view, std::uint32_t>> pieces;
    h.healer.index().for_each_starting_with("", [&](std::uint32_t id, std::string_view p) { pieces.emplace_back(p, id); });
    std::sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    const auto scan = [&](const std::string& r, std::vector<std::uint32_t>& ids) {
        for (const auto& [p, id] : pieces)
            if (p.size() >= r.size() && p.compare(0, r.size(), r) == 0) ids.push_back(id);
    };
    time_lookups(state, h.healer, rs, kind, scan, row("candidates", model_path, corpus_path, "hf_scan"));
}

void register_healing() {
    const std::string albert = bench::shared_dir() + "/models/hf/albert-30k-clean.transformers-albert.json";
    if (bench::file_exists(albert)) {
        for (const auto& c : bench::corpus_paths()) {
            if (!bench::file_exists(c)) continue;
            const std::string suffix = "/" + hf_stem(albert) + "/" + bench::stem(c);
            benchmark::RegisterBenchmark(("heal" + suffix + "/hf_encode").c_str(), bm_hf_heal, albert, c, true)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("heal" + suffix + "/hf_heal").c_str(), bm_hf_heal, albert, c, false)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("candidates" + suffix + "/hf_scan").c_str(), bm_hf_lookup, albert, c, lookup::scan)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("candidates" + suffix + "/hf_index").c_str(), bm_hf_lookup, albert, c, lookup::sorted)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("candidates_mask" + suffix + "/hf_index").c_str(), bm_hf_lookup, albert, c,
                                         lookup::mask)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
        }
    }

    for (const auto& m : bench::model_paths()) {
        if (!bench::file_exists(m)) continue;
        for (const auto& c : bench::corpus_paths()) {
            if (!bench::file_exists(c)) continue;
            const std::string suffix = "/" + bench::stem(m) + "/" + bench::stem(c);
            benchmark::RegisterBenchmark(("heal" + suffix + "/encode").c_str(), bm_heal_peer_encode, m, c)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("heal" + suffix + "/bytepiece").c_str(), bm_heal, m, c)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("candidates" + suffix + "/scan").c_str(), bm_lookup, m, c, lookup::scan)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("candidates" + suffix + "/bytepiece").c_str(), bm_lookup, m, c, lookup::sorted)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("candidates_mask" + suffix + "/bytepiece").c_str(), bm_lookup, m, c, lookup::mask)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
            benchmark::RegisterBenchmark(("prefixes" + suffix + "/bytepiece").c_str(), bm_lookup, m, c, lookup::prefixes)
                ->Unit(benchmark::kMicrosecond)->UseRealTime();
        }
    }
}

const bench::registrar healing_registrar(register_healing);

}  // namespace
