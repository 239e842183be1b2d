// SPDX-License-Identifier: Apache-2.0
// Token healing of a Hugging Face tokenizer.json (Unigram): the ids before and after healing,
// the text given back in the model's spelling (what the candidates are spelled in) and as the
// prompt had it, and the candidates for the first generated piece.
//
//   bytepiece_hf_token_healing TOKENIZER_JSON [PROMPT...]
//   e.g. albert-30k-clean.transformers-albert.json "The weather in Ber"
//        bytepiece.zh.id.eu.40k.bytelevel.json "今天天"
#include <bytepiece/hf_token_healing.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace {

void show(const bytepiece::hf_tokenizer& tok, const std::vector<std::uint32_t>& ids) {
    for (auto id : ids) std::cout << " " << id << ":[" << tok.id_to_token(id) << "]";
    std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " TOKENIZER_JSON [PROMPT...]\n";
        return 2;
    }
    try {
        const auto tok = bytepiece::hf_tokenizer::load(argv[1]);
        const bytepiece::hf_token_healer healer(tok);  // refuses pre-tokenizers it cannot bound
        std::vector<std::string> prompts(argv + 2, argv + argc);
        if (prompts.empty()) prompts = {"The weather in Ber", "今天天"};
        for (const auto& prompt : prompts) {
            std::cout << "prompt \"" << prompt << "\"\n  before healing:";
            show(tok, tok.encode(prompt));
            const auto h = healer.heal(prompt);
            std::cout << "  after healing: ";
            show(tok, h.ids);
            std::cout << "  given back:    ";
            show(tok, h.removed_ids);
            std::cout << "  the continuation's pieces must spell \"" << h.remainder << "\" (model's text), i.e. \""
                      << h.text_remainder << "\" of the prompt\n";
            const auto first = healer.starting_with(h.remainder);
            std::cout << "  " << first.size() << " pieces start with it, e.g.";
            for (std::size_t i = 0; i < first.size() && i < 8; ++i) std::cout << " [" << tok.id_to_token(first[i]) << "]";
            std::cout << "\n  " << healer.prefixes_of(h.remainder).size() << " pieces are a prefix of it\n\n";
        }
        return 0;
    } catch (const bytepiece::error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
}
