// SPDX-License-Identifier: Apache-2.0
// Token healing: a prompt that ends mid-piece is backed up to a safe boundary, and the text
// given back becomes a constraint on the first generated pieces. Shows the ids before and after
// healing for a Chinese and an English prompt, and the candidates for the continuation.
//
//   bytepiece_token_healing ZH_MODEL EN_MODEL ["zh prompt" "en prompt"]
//   e.g. bytepiece.zh.id.eu.40k.model bytepiece.eu.plus.40k.model
#include <bytepiece/token_healing.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace {

// A piece for the terminal: a lone byte of a multi-byte character as <0xXX>.
std::string label(const bytepiece::tokenizer& tok, std::uint32_t id) {
    const std::string_view p = tok.id_to_piece(id);
    if (p.size() != 1 || static_cast<unsigned char>(p[0]) < 0x80) return "[" + std::string(p) + "]";
    const char* hex = "0123456789ABCDEF";
    const auto b = static_cast<unsigned char>(p[0]);
    return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

void show_pieces(const bytepiece::tokenizer& tok, const std::vector<std::uint32_t>& ids) {
    for (auto id : ids) std::cout << " " << id << ":" << label(tok, id);
    std::cout << "\n";
}

void demo(const std::string& model, const std::string& prompt, const std::string& full) {
    const auto tok = bytepiece::tokenizer::load(model);
    const bytepiece::token_healer healer(tok);  // builds the candidate index once
    std::cout << "model " << model << "\nprompt \"" << prompt << "\"\n";
    if (!full.empty()) {
        std::cout << "  the text it was cut from, \"" << full << "\":";
        show_pieces(tok, tok.encode(full));
    }
    std::cout << "  before healing:";
    show_pieces(tok, tok.encode(prompt));
    const auto h = healer.heal(prompt);
    std::cout << "  after healing: ";
    show_pieces(tok, h.ids);
    std::cout << "  given back:    ";
    show_pieces(tok, h.removed_ids);
    std::cout << "  the continuation must start with \"" << h.remainder << "\"\n";
    // The first generated piece: one that starts with the remainder, or (multi-step) one that
    // is a prefix of it.
    const auto first = healer.starting_with(h.remainder);
    const auto prefixes = healer.prefixes_of(h.remainder);
    std::cout << "  " << first.size() << " pieces start with it, e.g.";
    for (std::size_t i = 0; i < first.size() && i < 8; ++i) std::cout << " " << label(tok, first[i]);
    std::cout << "\n  " << prefixes.size() << " pieces are a prefix of it:";
    for (auto id : prefixes) std::cout << " " << label(tok, id);
    std::vector<std::uint64_t> mask;  // for a logits processor: bit id is set for allowed ids
    healer.index().starting_with_mask(h.remainder, mask);
    std::cout << "\n  mask: " << mask.size() << " words of 64 bits\n\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 5) {
        std::cerr << "usage: " << argv[0] << " ZH_MODEL EN_MODEL [ZH_PROMPT EN_PROMPT]\n";
        return 2;
    }
    try {
        if (argc == 5) {
            demo(argv[1], argv[3], "");
            demo(argv[2], argv[4], "");
        } else {
            demo(argv[1], "今天天", "今天天气很好");
            demo(argv[2], "The weather in Ber", "The weather in Berlin");
        }
        return 0;
    } catch (const bytepiece::error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
}
