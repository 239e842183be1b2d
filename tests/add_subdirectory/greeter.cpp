// SPDX-License-Identifier: Apache-2.0
// Includes every public header and instantiates the library's class templates (all their
// members) and its main function templates, so that all of it is compiled under the
// consumer's strict warning flags.
#include "greeter.hpp"

#include <bytepiece/bytepiece.hpp>
#include <bytepiece/sentencepiece_export.hpp>
#include <bytepiece/sentencepiece_tokenizer.hpp>

#include <random>
#include <string_view>

// Every non-template member, for a score and id type other than the defaults (which the
// compiled mode instantiates in its own library).
template class bytepiece::basic_model<float, std::uint16_t>;
template class bytepiece::basic_tokenizer<float, std::uint16_t>;
template class bytepiece::basic_sampler<float, std::uint16_t>;
template class bytepiece::basic_lattice<float, std::uint16_t>;
template class bytepiece::basic_stream_encoder<float, std::uint16_t>;
template class bytepiece::basic_sentencepiece_tokenizer<std::uint16_t>;

namespace greeter {

std::vector<std::uint32_t> greet(const bytepiece::tokenizer& tok, const std::string& name) {
    return tok.encode("hello " + name);
}

// Never called: it exists to instantiate member and function templates.
[[maybe_unused]] void instantiate(const bytepiece::basic_tokenizer<float, std::uint16_t>& tok) {
    std::mt19937_64 g(1);
    bytepiece::splitmix64 s(2);
    const std::string_view views[] = {"a", "b"};
    tok.encode_chunks(views, 2, [](std::size_t, const std::uint16_t*, std::size_t) {});
    tok.encode_texts(views, 2, tok.options(), [](std::size_t, const std::uint16_t*, std::size_t) {});
    (void)tok.sample("text", 0.5, g);
    (void)tok.sample_pieces("text", 0.5, s);
    (void)tok.sample_without_replacement("text", 2, 0.5, g);
    const auto sampler = tok.sampler(0.1);
    std::vector<std::uint16_t> ids;
    sampler.sample("text", g, ids);
    sampler.sample_chunk("text", s, ids);
    (void)tok.lattice("text", 1.0).sample_without_replacement(3, s);
    bytepiece::basic_stream_encoder<float, std::uint16_t> stream(tok);
    stream.feed_chunks("text", [](const std::uint16_t*, std::size_t, bool) {});
    stream.finish_chunks([](const std::uint16_t*, std::size_t, bool) {});
    bytepiece::thread_pool pool(1);
    (void)bytepiece::encode_batch(tok, std::vector<std::string>{"a", "b"}, pool);
    (void)bytepiece::encode_parallel(tok, "text", pool);
    const bytepiece::basic_sentencepiece_tokenizer<std::uint16_t> sp(bytepiece::to_sentencepiece(tok.model()));
    sp.encode_texts(views, 2, [](std::size_t, const std::uint16_t*, std::size_t) {});
    (void)sp.sample("text", 0.5, g);
    (void)sp.nbest("text", 2);
}

}  // namespace greeter
