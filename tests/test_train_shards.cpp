// SPDX-License-Identifier: Apache-2.0
// Sharded training (train_counts.hpp): counting shards, merging and pruning their counts gives
// the model `trainer::train_files` gives on the whole corpus, byte for byte, however the corpus
// is cut (at the end of a run of newlines), whatever the merge order and the thread count.
#include "test_support.hpp"

#include <limits>
#include <map>
#include <random>

namespace {

using test_support::read;
using test_support::scratch_folder;

// The chunk boundaries of a text: the positions just after a run of newlines.
std::vector<std::size_t> boundaries(const std::string& text) {
    std::vector<std::size_t> out;
    for (std::size_t p = 1; p < text.size(); ++p)
        if (text[p - 1] == '\n' && text[p] != '\n') out.push_back(p);
    return out;
}

// About `bytes` of mixed.txt, ending at a chunk boundary (the whole file if it is shorter).
std::string corpus_prefix(std::size_t bytes) {
    const std::string all = read(test_support::shared_path("corpus/mixed.txt"));
    std::size_t end = std::min(bytes, all.size());
    while (end < all.size() && !(all[end - 1] == '\n' && all[end] != '\n')) ++end;
    return all.substr(0, end);
}

bytepiece::trainer_options golden_options(bool isolate_digits, bool ensure_unicode, unsigned threads) {
    bytepiece::trainer_options o;
    o.order = 6;
    o.max_vocab_size = {4000, 1000};
    o.max_piece_length = 36;
    o.min_count = 2;
    o.isolate_digits = isolate_digits;
    o.ensure_unicode = ensure_unicode;
    o.threads = threads;
    return o;
}

// The model files `trainer::save` writes, concatenated with their names.
std::string saved(const bytepiece::trainer& t, const std::string& path) {
    t.save(path);
    std::string out;
    for (const auto& p : t.output_paths(path)) out += p.substr(p.rfind('.')) + "\n" + read(p);
    return out;
}

// Cuts `text` into `n` files of uneven sizes at chunk boundaries chosen by `rng`.
std::vector<std::string> cut_files(const std::string& text, std::size_t n, std::mt19937& rng, const scratch_folder& dir,
                                   const std::string& stem) {
    const std::vector<std::size_t> b = boundaries(text);
    REQUIRE(b.size() >= n);
    std::vector<std::size_t> cuts;
    // Uneven: the cut points are drawn from a skewed distribution (squares of uniforms).
    std::uniform_real_distribution<double> u(0, 1);
    while (cuts.size() < n - 1) {
        const double x = u(rng);
        const std::size_t c = b[static_cast<std::size_t>(x * x * static_cast<double>(b.size() - 1))];
        if (std::find(cuts.begin(), cuts.end(), c) == cuts.end()) cuts.push_back(c);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.insert(cuts.begin(), 0);
    cuts.push_back(text.size());
    std::vector<std::string> files;
    for (std::size_t i = 0; i < n; ++i) {
        files.push_back(dir / (stem + std::to_string(i) + ".txt"));
        test_support::write(files.back(), text.substr(cuts[i], cuts[i + 1] - cuts[i]));
    }
    return files;
}

// The whole sharded pipeline: count n-grams per shard, merge, prune, count pieces per shard
// with the pruned model, merge, train from the counts. A shard is (file, part).
std::string sharded(const bytepiece::trainer_options& o, const std::vector<std::pair<std::string, bytepiece::file_part>>& shards,
                    const scratch_folder& dir, const std::string& stem) {
    bytepiece::trainer t(o);
    std::vector<std::string> ngrams, pieces;
    for (std::size_t i = 0; i < shards.size(); ++i) {
        ngrams.push_back(dir / (stem + std::to_string(i) + ".ngrams"));
        t.count_ngrams({shards[i].first}, ngrams.back(), shards[i].second);
    }
    bytepiece::merge_count_files(ngrams, dir / (stem + ".ngrams"));
    t.prune_ngrams(dir / (stem + ".ngrams"), dir / (stem + ".pruned"));
    for (std::size_t i = 0; i < shards.size(); ++i) {
        pieces.push_back(dir / (stem + std::to_string(i) + ".pieces"));
        t.count_pieces(dir / (stem + ".pruned"), {shards[i].first}, pieces.back(), shards[i].second);
    }
    bytepiece::merge_count_files(pieces, dir / (stem + ".pieces"));
    t.train_from_counts(dir / (stem + ".pieces"));
    return saved(t, dir / (stem + ".model"));
}

}  // namespace

TEST_CASE("train shards: 1, 2 and 7 shards give the model of the whole corpus", "[train_shards]") {
    if (!test_support::require_shared("corpus/mixed.txt")) return;
    scratch_folder dir("train_shards");
    // The whole 20 MB file with the default options (about 40 s in a Release build), 300 KB
    // with the other options and under the sanitizers, where the whole file takes minutes.
#ifdef BYTEPIECE_SANITIZE
    const std::size_t default_bytes = std::size_t(300) << 10;
#else
    const std::size_t default_bytes = std::numeric_limits<std::size_t>::max();
#endif
    std::mt19937 rng(2024);
    for (const auto& [isolate, unicode] : {std::make_pair(false, true), std::make_pair(true, false)}) {
        INFO("isolate_digits " << isolate << ", ensure_unicode " << unicode);
        const std::string text = corpus_prefix(!isolate && unicode ? default_bytes : std::size_t(300) << 10);
        INFO(text.size() << " bytes of mixed.txt");
        const std::string whole = dir / "whole.txt";
        test_support::write(whole, text);
        const bytepiece::trainer_options o = golden_options(isolate, unicode, 2);
        bytepiece::trainer reference(o);
        reference.train_files({whole});
        const std::string expected = saved(reference, dir / "reference.model");
        REQUIRE(expected.size() > 10000);
        for (const std::size_t n : {std::size_t(1), std::size_t(2), std::size_t(7)}) {
            INFO(n << " files");
            std::vector<std::pair<std::string, bytepiece::file_part>> shards;
            for (const auto& f : cut_files(text, n, rng, dir, "f" + std::to_string(n) + "_")) shards.emplace_back(f, bytepiece::file_part{});
            CHECK(sharded(o, shards, dir, "files" + std::to_string(n)) == expected);
        }
        for (const std::size_t n : {std::size_t(2), std::size_t(7)}) {
            INFO(n << " parts of one file");
            std::vector<std::pair<std::string, bytepiece::file_part>> shards;
            for (std::size_t k = 0; k < n; ++k) shards.emplace_back(whole, bytepiece::file_part{k, n});
            CHECK(sharded(o, shards, dir, "parts" + std::to_string(n)) == expected);
        }
    }
}

TEST_CASE("train shards: the n-gram counts of the parts add up to those of the whole", "[train_shards]") {
    if (!test_support::require_shared("corpus/mixed.txt")) return;
    scratch_folder dir("train_shards_sum");
    const std::string text = corpus_prefix(std::size_t(200) << 10);
    const std::string whole = dir / "whole.txt";
    test_support::write(whole, text);
    bytepiece::trainer_options o = golden_options(false, true, 1);
    o.order = 10;  // n-grams longer than 8 bytes take another table
    bytepiece::trainer t(o);
    t.count_ngrams({whole}, dir / "whole.ngrams");
    const std::string expected = read(dir / "whole.ngrams");

    // Parts of the file, any merge order, any thread count: the same bytes.
    std::vector<std::string> parts;
    for (std::uint64_t k = 0; k < 5; ++k) {
        bytepiece::trainer_options ok = o;
        ok.threads = 1 + static_cast<unsigned>(k % 3);
        bytepiece::trainer tk(ok);
        parts.push_back(dir / ("part" + std::to_string(k) + ".ngrams"));
        tk.count_ngrams({whole}, parts.back(), {k, 5});
    }
    bytepiece::merge_count_files(parts, dir / "sum.ngrams");
    CHECK(read(dir / "sum.ngrams") == expected);
    std::vector<std::string> reversed(parts.rbegin(), parts.rend());
    bytepiece::merge_count_files(reversed, dir / "sum_reversed.ngrams");
    CHECK(read(dir / "sum_reversed.ngrams") == expected);
    // A tree of merges gives the same as one merge.
    bytepiece::merge_count_files({parts[0], parts[3]}, dir / "left.ngrams");
    bytepiece::merge_count_files({parts[4], parts[1], parts[2]}, dir / "right.ngrams");
    bytepiece::merge_count_files({dir / "right.ngrams", dir / "left.ngrams"}, dir / "tree.ngrams");
    CHECK(read(dir / "tree.ngrams") == expected);

    // The parts cover the file exactly, each starting just after a run of newlines.
    std::uint64_t bytes = 0;
    for (const auto& p : parts) bytes += bytepiece::read_count_file_info(p).input_bytes;
    CHECK(bytes == text.size());

    // The same text from a source, and the whole file counted with 3 threads.
    bytepiece::trainer ts(o);
    ts.count_ngrams_source([&](auto&& emit) { emit(text); }, dir / "source.ngrams");
    CHECK(read(dir / "source.ngrams") == expected);

    // The test can fail: cut in the middle of lines, the sum is not the whole's.
    std::size_t mid = text.size() / 2;
    while (text[mid - 1] == '\n' || text[mid] == '\n') ++mid;
    test_support::write(dir / "a.txt", text.substr(0, mid));
    test_support::write(dir / "b.txt", text.substr(mid));
    t.count_ngrams({dir / "a.txt"}, dir / "a.ngrams");
    t.count_ngrams({dir / "b.txt"}, dir / "b.ngrams");
    bytepiece::merge_count_files({dir / "a.ngrams", dir / "b.ngrams"}, dir / "ab.ngrams");
    CHECK(read(dir / "ab.ngrams") != expected);
}

TEST_CASE("train shards: threads and the reading of counts", "[train_shards]") {
    if (!test_support::require_shared("corpus/mixed.txt")) return;
    scratch_folder dir("train_shards_threads");
    const std::string text = corpus_prefix(std::size_t(150) << 10);
    const std::string whole = dir / "whole.txt";
    test_support::write(whole, text);
    std::string ngrams, pruned, pieces;
    for (const unsigned threads : {1u, 2u, 5u}) {
        INFO(threads << " threads");
        bytepiece::trainer t(golden_options(false, true, threads));
        t.count_ngrams({whole}, dir / "n.ngrams");
        t.prune_ngrams(dir / "n.ngrams", dir / "n.pruned");
        t.count_pieces(dir / "n.pruned", {whole}, dir / "n.pieces");
        if (threads == 1) {
            ngrams = read(dir / "n.ngrams");
            pruned = read(dir / "n.pruned");
            pieces = read(dir / "n.pieces");
        } else {
            CHECK(read(dir / "n.ngrams") == ngrams);
            CHECK(read(dir / "n.pruned") == pruned);
            CHECK(read(dir / "n.pieces") == pieces);
        }
    }
    const auto n = bytepiece::read_count_file_info(dir / "n.ngrams");
    const auto p = bytepiece::read_count_file_info(dir / "n.pruned");
    const auto c = bytepiece::read_count_file_info(dir / "n.pieces");
    CHECK(n.kind == bytepiece::count_file_kind::ngrams);
    CHECK(p.kind == bytepiece::count_file_kind::pruned_ngrams);
    CHECK(c.kind == bytepiece::count_file_kind::pieces);
    CHECK(n.input_bytes == text.size());
    CHECK(n.positions == p.positions);
    CHECK(p.entries < n.entries);
    CHECK(p.min_count == 2);
    CHECK(c.model_checksum == p.checksum);
    CHECK(n.file_bytes == read(dir / "n.ngrams").size());

    // The pruned file holds exactly the n-grams counted at least min_count times, checked
    // against counts taken here by brute force on the chunks.
    std::map<std::string, std::uint64_t> brute;
    bytepiece::detail::for_each_normalized_chunk(text, bytepiece::trainer::chunk_chars, false, [&](std::string_view chunk) {
        for (std::size_t i = 0; i < chunk.size(); ++i)
            for (std::size_t j = 2; j <= 6 && i + j <= chunk.size(); ++j) ++brute[std::string(chunk.substr(i, j))];
    });
    std::uint64_t kept = 0;
    for (const auto& e : brute) kept += e.second >= 2;
    CHECK(p.entries == kept);
    CHECK(n.entries == brute.size());
    bytepiece::detail::count_file_reader r(dir / "n.pruned");
    bool all_match = true;
    for (std::size_t s = 0; s < r.sections(); ++s)
        while (r.next()) {
            const auto it = brute.find(std::string(r.key()));
            all_match = all_match && it != brute.end() && it->second == r.count() && r.key().size() == s + 2;
        }
    r.finish();
    CHECK(all_match);
}

TEST_CASE("train shards: train_from_counts equals train_counts on the same pieces", "[train_shards]") {
    if (!test_support::require_shared("corpus/small.txt")) return;
    scratch_folder dir("train_shards_counts");
    const std::string corpus = test_support::shared_path("corpus/small.txt");
    bytepiece::trainer_options o = golden_options(false, true, 2);
    bytepiece::trainer t(o);
    t.count_ngrams({corpus}, dir / "s.ngrams");
    t.prune_ngrams(dir / "s.ngrams", dir / "s.pruned");
    t.count_pieces(dir / "s.pruned", {corpus}, dir / "s.pieces");
    t.train_from_counts(dir / "s.pieces");
    bytepiece::trainer whole(o);
    whole.train_files({corpus});
    CHECK(saved(t, dir / "a.model") == saved(whole, dir / "b.model"));
    REQUIRE(t.outcomes().size() == whole.outcomes().size());
    for (std::size_t i = 0; i < t.outcomes().size(); ++i) CHECK(t.outcomes()[i].explanation == whole.outcomes()[i].explanation);
}

TEST_CASE("train shards: parts of awkward text add up to the whole", "[train_shards]") {
    // Lines that start with combining marks (NFC must not compose them across the newline),
    // digits, invalid UTF-8, a line longer than a chunk, runs of more than 100 newlines, CRLF.
    scratch_folder dir("train_shards_awkward");
    std::string text;
    std::mt19937 rng(7);
    const char* starts[] = {"\xCC\x81" "e", "\xCC\xA3\xCC\x81" "a", "12 34", "\xFF\xFE", "\xE4\xB8\xAD", "e\xCC\x81", "\r", " "};
    for (int i = 0; i < 400; ++i) {
        text += starts[rng() % 8];
        text += "word" + std::to_string(rng() % 50) + " e\xCC\x81t\xC3\xA9";
        if (i % 97 == 0) text += std::string(10050, 'x');
        text += std::string(i % 53 == 0 ? 150 : 1 + rng() % 3, '\n');
        if (i % 5 == 0) text += "\r\n";
    }
    const std::string whole = dir / "whole.txt";
    test_support::write(whole, text);
    for (const bool isolate : {false, true}) {
        INFO("isolate_digits " << isolate);
        bytepiece::trainer_options o = golden_options(isolate, true, 2);
        o.order = 9;
        o.max_vocab_size = {600};
        bytepiece::trainer t(o);
        t.count_ngrams({whole}, dir / "whole.ngrams");
        t.prune_ngrams(dir / "whole.ngrams", dir / "whole.pruned");
        t.count_pieces(dir / "whole.pruned", {whole}, dir / "whole.pieces");
        for (const std::uint64_t n : {2, 9, 40}) {
            INFO(n << " parts");
            std::vector<std::string> ngrams, pieces;
            for (std::uint64_t k = 0; k < n; ++k) {
                ngrams.push_back(dir / ("p" + std::to_string(k) + ".ngrams"));
                pieces.push_back(dir / ("p" + std::to_string(k) + ".pieces"));
                t.count_ngrams({whole}, ngrams.back(), {k, n});
                t.count_pieces(dir / "whole.pruned", {whole}, pieces.back(), {k, n});
            }
            bytepiece::merge_count_files(ngrams, dir / "sum.ngrams");
            bytepiece::merge_count_files(pieces, dir / "sum.pieces");
            CHECK(read(dir / "sum.ngrams") == read(dir / "whole.ngrams"));
            CHECK(read(dir / "sum.pieces") == read(dir / "whole.pieces"));
        }
    }
}
