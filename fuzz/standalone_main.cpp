// SPDX-License-Identifier: Apache-2.0
// A stand-in for libFuzzer's main, so that any compiler can replay a fuzz target's corpus:
//   fuzz_x_replay FILE_OR_DIR...
// runs LLVMFuzzerTestOneInput once on every file given, and on every regular file below every
// directory given (in sorted order). Arguments starting with '-' are ignored, so libFuzzer
// flags do no harm. Exits 1 if a path cannot be read or nothing was run; an invariant that
// fails aborts inside the target, naming the input on stderr first.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (!arg.empty() && arg[0] == '-') continue;
        std::error_code ec;
        const fs::path p(arg);
        if (fs::is_directory(p, ec)) {
            std::vector<fs::path> found;
            for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
                 it.increment(ec))
                if (it->is_regular_file(ec)) found.push_back(it->path());
            if (ec) {
                std::fprintf(stderr, "%s: cannot list: %s\n", arg.c_str(), ec.message().c_str());
                return 1;
            }
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else if (!fs::exists(p, ec)) {
            // A target may have no regressions yet: a missing directory is not an error.
            std::fprintf(stderr, "%s: does not exist, skipped\n", arg.c_str());
        } else {
            std::fprintf(stderr, "%s: not a file or directory\n", arg.c_str());
            return 1;
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "usage: %s FILE_OR_DIR...  (no input files found)\n", argv[0]);
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.eof() && in.fail()) {
            std::fprintf(stderr, "%s: cannot read\n", path.string().c_str());
            return 1;
        }
        std::fprintf(stderr, "running %s (%zu bytes)\n", path.string().c_str(), bytes.size());
        std::fflush(stderr);
        // A copy in a buffer of exactly the input's size, as libFuzzer does, so that ASan
        // catches reads past the end.
        std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
        LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "ran %zu inputs in %.2f s\n", files.size(), seconds);
    return 0;
}
