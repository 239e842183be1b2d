// SPDX-License-Identifier: Apache-2.0
// Training on tiny random corpora with random options: the first bytes choose the options
// (order 1..6, one or two vocabulary sizes in 259..400, min_count 1..3, isolate_digits,
// ensure_unicode, threads 1..2, max_piece_length 1..16), the rest is split at 0xFF bytes into
// 1..4 texts. Training either yields models that save and load back to the same JSON, encode
// their own corpus losslessly and whose outcomes tell their sizes, or throws
// bytepiece::train_error (an empty corpus).
#include "fuzz_common.hpp"

#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 4096) return 0;  // tiny corpora only: training is the slow part
    fuzz::reader in(data, size);
    const std::uint8_t a = in.byte(), b = in.byte(), c = in.byte();
    bytepiece::trainer_options o;
    o.order = 1 + a % 6;
    o.max_vocab_size = {std::size_t{259} + b % 142};
    if (c & 0x40) o.max_vocab_size.push_back(std::size_t{259} + (b * 7 + c) % 142);
    o.min_count = 1 + (a >> 3) % 3;
    o.isolate_digits = (a >> 5) & 1;
    o.ensure_unicode = (a >> 6) & 1;
    o.threads = 1 + ((a >> 7) & 1);
    o.max_piece_length = (c & 0x80) ? 1 + c % 16 : 36;
    const unsigned text_count = 1 + (c >> 4) % 4;

    // Split the rest into text_count texts at its first text_count - 1 separator bytes (0xFF).
    std::vector<std::string> texts;
    std::string_view rest = in.rest();
    while (texts.size() + 1 < text_count) {
        const auto cut = rest.find('\xff');
        if (cut == std::string_view::npos) break;
        texts.emplace_back(rest.substr(0, cut));
        rest.remove_prefix(cut + 1);
    }
    texts.emplace_back(rest);

    const bool duplicate_size = o.max_vocab_size.size() == 2 && o.max_vocab_size[0] == o.max_vocab_size[1];
    std::unique_ptr<bytepiece::trainer> t;
    try {
        t = std::make_unique<bytepiece::trainer>(o);
    } catch (const bytepiece::train_error& e) {
        FUZZ_CHECK_MSG(duplicate_size && e.code() == bytepiece::errc::train_bad_option, e.what());
        return 0;
    }
    FUZZ_CHECK(!duplicate_size);
    try {
        t->train(texts);
    } catch (const bytepiece::train_error& e) {
        FUZZ_CHECK_MSG(e.code() == bytepiece::errc::train_empty_corpus, e.what());
        bool empty = true;
        for (const auto& s : texts) empty &= s.empty();
        FUZZ_CHECK_MSG(empty, e.what());
        return 0;
    }
    FUZZ_CHECK(t->models().size() == o.max_vocab_size.size());
    FUZZ_CHECK(t->outcomes().size() == t->models().size());
    for (std::size_t i = 0; i < t->models().size(); ++i) {
        const bytepiece::model& m = t->models()[i];
        FUZZ_CHECK(m.vocab_size() <= t->vocab_sizes()[i]);
        // The outcome tells the model's size, and a reason exactly when it is short.
        const bytepiece::vocab_outcome& r = t->outcomes()[i];
        FUZZ_CHECK(r.requested == t->vocab_sizes()[i]);
        FUZZ_CHECK(r.produced == m.vocab_size());
        FUZZ_CHECK((r.reason == bytepiece::shortfall::none) == (r.produced == r.requested));
        FUZZ_CHECK(r.explanation.empty() == (r.reason == bytepiece::shortfall::none));
        // Short for want of pieces means no cut yet, so no larger size was cut either.
        if (i > 0 && r.reason == bytepiece::shortfall::few_pieces)
            FUZZ_CHECK(t->outcomes()[i - 1].reason == bytepiece::shortfall::few_pieces);
        FUZZ_CHECK(m.piece_count() >= 256);
        FUZZ_CHECK(m.max_piece_length() <= o.max_piece_length || m.max_piece_length() == 1);
        const std::string json = m.to_json();
        bytepiece::model again;
        try {
            again = bytepiece::model::from_json(json, "trained");
        } catch (const bytepiece::error& e) {
            FUZZ_CHECK_MSG(false, e.what());
        }
        FUZZ_CHECK(again.to_json() == json);
        const bytepiece::tokenizer tok(again);
        for (const auto& s : texts) {
            const auto ids = tok.encode(s);
            FUZZ_CHECK(tok.decode_bytes(ids.data(), ids.size()) == bytepiece::nfc(s));
        }
    }
    return 0;
}
