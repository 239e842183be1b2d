// SPDX-License-Identifier: Apache-2.0
// Batches for a model: every row checked against the tokenizer's own encode of its text,
// truncated and padded by hand, for each side and length rule, each tokenizer type, and any
// number of threads; decode_batch against decode.
#include <bytepiece/hf_tokenizer.hpp>
#include <bytepiece/model_batch.hpp>
#include <bytepiece/sentencepiece_tokenizer.hpp>

#include "test_support.hpp"

namespace {

using bytepiece::model_batch_options;
using bytepiece::row_side;

std::vector<std::string> sample_lines(std::size_t count, std::uint32_t seed, std::size_t max_bytes = 300) {
    std::vector<std::string> lines;
    const std::string corpus = test_support::read(test_support::shared_path("corpus/mixed.txt"));
    std::mt19937 rng(seed);
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t b = rng() % corpus.size();
        while (b > 0 && (static_cast<unsigned char>(corpus[b]) & 0xC0) == 0x80) --b;
        std::size_t e = std::min(corpus.size(), b + rng() % max_bytes);
        while (e < corpus.size() && (static_cast<unsigned char>(corpus[e]) & 0xC0) == 0x80) ++e;
        lines.push_back(i % 17 == 3 ? std::string() : corpus.substr(b, e - b));
    }
    return lines;
}

// The oracle for one row: the text's ids truncated and padded by hand.
std::vector<std::uint32_t> expected_row(std::vector<std::uint32_t> ids, const model_batch_options& o, std::size_t width) {
    if (o.max_length && ids.size() > o.max_length) {
        if (o.truncation_side == row_side::right) ids.resize(o.max_length);
        else ids.erase(ids.begin(), ids.end() - static_cast<std::ptrdiff_t>(o.max_length));
    }
    const std::vector<std::uint32_t> pad(width - ids.size(), o.pad_id);
    if (o.padding_side == row_side::right) ids.insert(ids.end(), pad.begin(), pad.end());
    else ids.insert(ids.begin(), pad.begin(), pad.end());
    return ids;
}

template <class Tokenizer, class Encode>
void check_batches(const Tokenizer& tok, const std::vector<std::string>& lines, Encode&& encode_one) {
    std::vector<std::vector<std::uint32_t>> ids;
    std::size_t longest = 0;
    for (const auto& l : lines) {
        ids.push_back(encode_one(l));
        longest = std::max(longest, ids.back().size());
    }
    for (const std::size_t threads : {1u, 2u, 3u}) {
        bytepiece::thread_pool pool(threads);
        bytepiece::batch_options small_tasks;
        small_tasks.min_task_bytes = 512;  // several tasks even for a small batch
        for (const std::size_t max_length : {std::size_t{0}, std::size_t{7}, longest + 3}) {
            for (const std::size_t pad_to : {std::size_t{0}, longest + 5}) {
                for (const auto trunc : {row_side::right, row_side::left}) {
                    for (const auto padding : {row_side::right, row_side::left}) {
                        model_batch_options o;
                        o.max_length = max_length;
                        o.truncation_side = trunc;
                        o.pad_to = pad_to;
                        o.padding_side = padding;
                        o.pad_id = 3;
                        o.pad_to_multiple_of = pad_to ? 1 : 8;
                        const auto b = bytepiece::encode_for_model(tok, lines, pool, o, small_tasks);
                        std::size_t cap = max_length ? std::min(longest, max_length) : longest;
                        std::size_t width = pad_to ? pad_to : (cap + 7) / 8 * 8;
                        INFO("threads " << threads << " max_length " << max_length << " pad_to " << pad_to);
                        REQUIRE(b.rows == lines.size());
                        REQUIRE(b.width == width);
                        REQUIRE(b.ids.size() == b.rows * b.width);
                        REQUIRE(b.attention_mask.size() == b.rows * b.width);
                        for (std::size_t i = 0; i < b.rows; ++i) {
                            const auto want = expected_row(ids[i], o, width);
                            REQUIRE(std::vector<std::uint32_t>(b.row(i), b.row(i) + b.width) == want);
                            CHECK(b.full_lengths[i] == ids[i].size());
                            const std::size_t n = max_length ? std::min(ids[i].size(), max_length) : ids[i].size();
                            CHECK(b.lengths[i] == n);
                            const std::size_t first = padding == row_side::left ? width - n : 0;
                            CHECK(b.token_begin(i) == first);
                            for (std::size_t j = 0; j < width; ++j)
                                CHECK(b.mask_row(i)[j] == (j >= first && j < first + n ? 1 : 0));
                        }
                        if (max_length == 0) {
                            const auto texts = bytepiece::decode_batch(tok, b, pool);
                            for (std::size_t i = 0; i < b.rows; ++i)
                                CHECK(texts[i] == bytepiece::detail::decode_ordinary(tok, ids[i].data(), ids[i].size(), true));
                        }
                    }
                }
            }
        }
    }
}

}  // namespace

TEST_CASE("model batches of a BytePiece tokenizer", "[model_batch]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model") || !test_support::require_shared("corpus/mixed.txt"))
        return;
    bytepiece::encode_options opt;
    opt.add_bos = opt.add_eos = true;
    const auto tok = bytepiece::tokenizer::load(test_support::shared_path("models/bytepiece.eu.plus.40k.model"), opt);
    const auto lines = sample_lines(60, 1);
    check_batches(tok, lines, [&](const std::string& s) { return tok.encode(s); });
    // decode_batch of a flat batch.
    bytepiece::thread_pool pool(2);
    const auto flat = bytepiece::encode_batch(tok, lines, pool);
    const auto texts = bytepiece::decode_batch(tok, flat, pool);
    for (std::size_t i = 0; i < lines.size(); ++i) CHECK(texts[i] == tok.decode(tok.encode(lines[i])));
}

TEST_CASE("model batches of long texts that the tasks cut in pieces", "[model_batch]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model") || !test_support::require_shared("corpus/mixed.txt"))
        return;
    bytepiece::encode_options opt;
    opt.add_bos = opt.add_eos = true;
    const auto tok = bytepiece::tokenizer::load(test_support::shared_path("models/bytepiece.eu.plus.40k.model"), opt);
    // A few texts of many lines: each is cut at line ends into segments of different tasks,
    // and a row gathers its ids from several task buffers, truncation windows crossing them.
    const auto lines = sample_lines(6, 3, 6000);
    {
        bytepiece::thread_pool pool(3);
        bytepiece::batch_options small_tasks;
        small_tasks.min_task_bytes = 512;
        const std::vector<std::string_view> views(lines.begin(), lines.end());
        const auto parts = bytepiece::detail::batch::encode_parts(tok, views.data(), views.size(), pool, small_tasks);
        std::size_t cut = 0;  // texts with more than one segment
        for (std::size_t s = 1; s < parts.text.size(); ++s) cut += parts.text[s] == parts.text[s - 1];
        REQUIRE(cut > 3);
    }
    check_batches(tok, lines, [&](const std::string& s) { return tok.encode(s); });
}

TEST_CASE("model batches of SentencePiece and HF tokenizers", "[model_batch]") {
    if (!test_support::require_shared("corpus/mixed.txt")) return;
    const auto lines = sample_lines(40, 2);
    if (test_support::require_shared("models/sp/albert-30k-clean.model")) {
        const auto tok = bytepiece::sentencepiece_tokenizer::load(test_support::shared_path("models/sp/albert-30k-clean.model"));
        check_batches(tok, lines, [&](const std::string& s) { return tok.encode(s); });
    }
    if (test_support::require_shared("models/hf/albert-30k-clean.transformers-albert.json")) {
        const auto tok = bytepiece::hf_tokenizer::load(test_support::shared_path("models/hf/albert-30k-clean.transformers-albert.json"));
        check_batches(tok, lines, [&](const std::string& s) { return tok.encode(s); });
    }
}

TEST_CASE("model batch options that cannot be met are refused", "[model_batch][errors]") {
    const bytepiece::tokenizer tok(test_support::make_model({}));
    model_batch_options o;
    o.pad_to = 3;
    const std::vector<std::string> lines = {"abcdef", "a"};
    try {
        (void)bytepiece::encode_for_model(tok, lines, 1, o);
        FAIL("no exception");
    } catch (const bytepiece::argument_error& e) {
        CHECK(e.code() == bytepiece::errc::batch_bad_option);
        CHECK(std::string(e.what()).find("pad_to") != std::string::npos);
    }
    o.max_length = 3;
    const auto b = bytepiece::encode_for_model(tok, lines, 1, o);
    CHECK(b.width == 3);
    o.pad_to_multiple_of = 0;
    CHECK_THROWS_AS(bytepiece::encode_for_model(tok, lines, 1, o), bytepiece::argument_error);
    const auto empty = bytepiece::encode_for_model(tok, std::vector<std::string>{}, 2);
    CHECK(empty.rows == 0);
    CHECK(empty.ids.empty());
}
