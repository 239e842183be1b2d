// SPDX-License-Identifier: Apache-2.0
// Quick start: load a BytePiece model, encode a text, show its pieces, decode it back.
//
//   bytepiece_quickstart MODEL ["text to encode"]
#include <bytepiece/bytepiece.hpp>

#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " MODEL [TEXT]\n";
        return 2;
    }
    const std::string text = argc > 2 ? argv[2]
                                      : "BytePiece segments bytes, not characters.\n"
                                        "字节级分词：任何输入都能编码。\n"
                                        "int main() { return 0; }\n";
    try {
        const auto tok = bytepiece::tokenizer::load(argv[1]);
        const std::vector<std::uint32_t> ids = tok.encode(text);
        const std::vector<std::string> pieces = tok.tokenize(text);

        std::cout << "model: " << argv[1] << " (" << tok.vocab_size() << " ids)\n";
        std::cout << "text:  " << text.size() << " bytes -> " << ids.size() << " ids ("
                  << static_cast<double>(text.size()) / static_cast<double>(ids.size()) << " bytes/token)\n";
        std::cout << "ids:  ";
        for (auto id : ids) std::cout << ' ' << id;
        std::cout << "\npieces:";
        for (const auto& p : pieces) {
            std::cout << " [";
            for (char c : p) {
                if (c == '\n') std::cout << "\\n";
                else std::cout << c;
            }
            std::cout << ']';
        }
        const std::string back = tok.decode(ids);
        std::cout << "\ndecoded == NFC(text): " << (back == bytepiece::nfc(text) ? "yes" : "NO") << "\n";
        return back == bytepiece::nfc(text) ? 0 : 1;
    } catch (const bytepiece::error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
}
