// SPDX-License-Identifier: Apache-2.0
// main() of bytepiece_bench: registers every row, runs them, then prints each of our rows
// beside its peer's (SentencePiece on the same vocabulary and text) as a ratio.
#include <cstdio>
#include <iostream>

#include "bench_common.hpp"

namespace {

class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs) {
            // Single runs, or with --benchmark_repetitions the median of the repetitions.
            const bool usable = r.run_type == Run::RT_Iteration || (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median");
            if (r.error_occurred || !usable) continue;
            auto it = r.counters.find("bytes_per_second");
            if (it != r.counters.end()) bench::results::get().record(r.run_name.function_name, it->second.value);
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

// Pairs "<op>/<model>/<corpus>/bytepiece" with "<op>/<model>/<corpus>/sentencepiece".
void print_ratios() {
    const auto rates = bench::results::get().rates();
    bool header = false;
    for (const auto& [name, ours] : rates) {
        const std::string suffix = "/bytepiece";
        if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
        const std::string base = name.substr(0, name.size() - suffix.size());
        // Model files differ in size between formats (JSON vs protobuf), so MB/s says nothing
        // there; scripts/bench_table.py compares load rows by time instead.
        if (base.rfind("load/", 0) == 0) continue;
        auto peer = rates.find(base + "/sentencepiece");
        // SentencePiece has no batch call: its per-line row is the peer of our batched one.
        if (peer == rates.end() && base.rfind("sp_encode_texts/", 0) == 0)
            peer = rates.find("sp_encode/" + base.substr(15) + "/sentencepiece");
        if (peer == rates.end() || peer->second <= 0) continue;
        if (!header) {
            std::printf("\n%-52s %12s %12s %8s\n", "row (op/model/corpus)", "ours MB/s", "spm MB/s", "ratio");
            header = true;
        }
        std::printf("%-52s %12.1f %12.1f %7.1fx\n", base.c_str(), ours / 1e6, peer->second / 1e6, ours / peer->second);
    }
    if (!header)
        std::printf("\n(no side-by-side ratios in this run: they need libsentencepiece-dev at build time and a "
                    "SentencePiece model X.sp.model beside each benchmarked X.model)\n");
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    for (auto f : bench::registrations()) f();
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    print_ratios();
    benchmark::Shutdown();
    return 0;
}
