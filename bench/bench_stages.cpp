// SPDX-License-Identifier: Apache-2.0
// Encode's first pass alone, so that the table shows where encode's time goes:
//   scan/<model>/<corpus>   the piece automaton run over every chunk of the corpus, six chunks
//                           at a time, writing the state after each byte (what encode does
//                           before its Viterbi pass); "encode_share_<model>" is its time over
//                           encode's when that row ran earlier in this run
// The automaton is built here from the model by the functions the tokenizer builds its own
// with (the tokenizer keeps it private), and the row's states are checked against the
// portable scan's.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "bench_common.hpp"

namespace {

void bm_scan(benchmark::State& state, std::string model_path, std::string corpus_path) {
    const auto& m = bench::tokenizer(model_path).model();
    const auto a = bytepiece::detail::piece_automaton_for<double>(m, bytepiece::detail::piece_trie(m));
    // What encode scans: the corpus after NFC (the shared corpora are NFC already).
    const std::string text = bytepiece::nfc(bench::corpus(corpus_path));
    // Encode's windows: 64 KiB of whole chunks, as basic_tokenizer groups them.
    constexpr std::size_t window_bytes = std::size_t{1} << 16;
    std::vector<std::uint32_t> bounds, states;
    // Checked and portable runs hash every state, in order; a timed run reads one state per
    // window, so that nothing but the scan is timed (hashing every state cost a fifth of the
    // scan's time). The scan is deterministic: the checked run after the timed loop stands
    // for the timed ones.
    enum class mode { timed, checked, portable };
    auto run = [&](mode how) {
        std::uint64_t h = 1469598103934665603ull;
        bytepiece::detail::for_each_window(
            text, bounds, window_bytes, std::numeric_limits<std::uint32_t>::max(),
            [&](const char* window, std::size_t, const std::vector<std::uint32_t>& b) {
                const auto* bytes = reinterpret_cast<const unsigned char*>(window);
                if (states.size() < b.back()) states.resize(b.back());
                if (how == mode::portable) a.scan_portable(bytes, b.data(), b.size() - 1, states.data());
                else a.scan(bytes, b.data(), b.size() - 1, states.data());
                if (how == mode::timed) h += states[b.back() - 1];
                else h = bench::checksum(states.begin(), states.begin() + b.back(), h);
            },
            [&](std::string_view, std::size_t) { state.SkipWithError("a chunk of 4 GiB or more"); });
        return h;
    };
    const std::uint64_t want = run(mode::portable);
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) benchmark::DoNotOptimize(run(mode::timed));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::uint64_t got = run(mode::checked);
    const double bytes = static_cast<double>(state.iterations()) * static_cast<double>(text.size());
    bench::set_encode_shares(state, seconds, bytes, corpus_path, {model_path});
    bench::finish(state, text.size(), got, want);
}

void register_stages() {
    bench::for_each_model_and_corpus([](const std::string& m, const std::string& c) {
        benchmark::RegisterBenchmark(("scan/" + bench::stem(m) + "/" + bench::stem(c) + "/bytepiece").c_str(), bm_scan,
                                     m, c)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    });
}

const bench::registrar stage_rows(register_stages);

}  // namespace
