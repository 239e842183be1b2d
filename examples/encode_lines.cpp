// SPDX-License-Identifier: Apache-2.0
// Encoding a corpus line by line, the way data preparation does: every line of FILE (or stdin),
// without its newline, becomes one line of ids. The lines go to `encode_texts` in blocks, which scans the chunks of
// many lines together; calling `encode` once per short line is slower (see the README).
//
//   bytepiece_encode_lines MODEL [FILE] > ids.txt
#include <bytepiece/bytepiece.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: " << argv[0] << " MODEL [FILE]\n";
        return 2;
    }
    try {
        const auto tok = bytepiece::tokenizer::load(argv[1]);
        std::ifstream file;
        if (argc == 3) {
            file.open(argv[2], std::ios::binary);
            if (!file) {
                std::cerr << argv[2] << ": cannot open\n";
                return 2;
            }
        }
        std::istream& in = argc == 3 ? static_cast<std::istream&>(file) : std::cin;

        const auto start = std::chrono::steady_clock::now();
        std::size_t bytes = 0, lines = 0, tokens = 0;
        std::vector<std::string> block;
        std::vector<std::string_view> views;
        std::string out;
        auto flush = [&] {
            views.assign(block.begin(), block.end());
            out.clear();
            tok.encode_texts(views.data(), views.size(), tok.options(), [&](std::size_t, const std::uint32_t* ids, std::size_t n) {
                for (std::size_t i = 0; i < n; ++i) {
                    if (i) out += ' ';
                    out += std::to_string(ids[i]);
                }
                out += '\n';
                tokens += n;
            });
            std::fwrite(out.data(), 1, out.size(), stdout);
            block.clear();
        };
        for (std::string line; std::getline(in, line);) {
            bytes += line.size() + 1;
            ++lines;
            block.push_back(std::move(line));
            if (block.size() == 4096) flush();
        }
        flush();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cerr << lines << " lines, " << bytes << " bytes -> " << tokens << " ids in " << seconds << " s\n";
    } catch (const bytepiece::error& e) {
        std::cerr << e.what() << '\n';
        return 2;
    }
    return 0;
}
