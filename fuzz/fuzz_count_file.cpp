// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a count file of sharded training (train_counts.hpp), read twice: as they
// are, and with a valid trailer (length, checksum, end mark) put on them, or nearly every input
// would stop at the checksum and the header and record checks behind it would go unexplored.
// The reader either throws a train_error naming the file or reads records; a file it reads
// whole is canonical: writing its header and records again gives the same bytes.
#include <bytepiece/train_counts.hpp>

#include <cstdio>
#include <filesystem>

#include <unistd.h>

#include "fuzz_common.hpp"

namespace {

namespace cf = bytepiece::detail::count_format;

// Reads `bytes` as a count file; returns true if it was read whole.
bool read_all(const std::string& bytes) {
    std::FILE* f = fmemopen(const_cast<char*>(bytes.data()), bytes.size(), "rb");
    if (!f) return false;  // fmemopen refuses size 0
    std::optional<bytepiece::detail::count_file_reader> r;
    std::string rewritten;
    try {
        r.emplace(f, "fuzz.counts");
        bytepiece::detail::count_header h = r->header();
        rewritten = bytepiece::detail::encode_count_header(h);
        std::vector<std::pair<std::string, std::uint64_t>> records;
        std::vector<std::size_t> ends;
        for (std::size_t s = 0; s < r->sections(); ++s) {
            while (r->next()) {
                FUZZ_CHECK(r->count() > 0);
                FUZZ_CHECK(r->key_length(s) == 0 || r->key().size() == r->key_length(s));
                records.emplace_back(std::string(r->key()), r->count());
            }
            ends.push_back(records.size());
        }
        r->finish();
        // The same records through the writer (to a scratch file) give the same bytes.
        static const std::string path =
            (std::filesystem::temp_directory_path() / ("fuzz_count_file." + std::to_string(::getpid()))).string();
        {
            bytepiece::detail::count_file_writer w(path, h);
            std::size_t i = 0;
            for (const std::size_t end : ends) {
                for (; i < end; ++i) w.add(records[i].first, records[i].second);
                w.end_section();
            }
            FUZZ_CHECK(w.commit() == r->checksum());
        }
        const std::string again = bytepiece::detail::read_file(path);
        std::remove(path.c_str());
        FUZZ_CHECK_MSG(again == bytes, "a count file that reads is not what the writer writes for its records");
        return true;
    } catch (const bytepiece::train_error& e) {
        const std::string what = e.what();
        FUZZ_CHECK_MSG(what.rfind("[bytepiece.train.", 0) == 0, what);
        FUZZ_CHECK_MSG(what.find("fuzz.counts") != std::string::npos, what);
        FUZZ_CHECK_MSG(what.find("at byte") != std::string::npos, what);
        return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > (std::size_t(1) << 20)) return 0;
    const std::string input(reinterpret_cast<const char*>(data), size);
    read_all(input);
    std::string content = input;
    if (content.size() >= cf::trailer_bytes &&
        content.compare(content.size() - 8, 8, std::string(cf::end_magic, 8)) == 0)
        content.resize(content.size() - cf::trailer_bytes);
    char trailer[cf::trailer_bytes];
    bytepiece::detail::put_u64(trailer, content.size());
    bytepiece::detail::put_u64(trailer + 8, bytepiece::detail::hash_bytes(content));
    std::memcpy(trailer + 16, cf::end_magic, 8);
    read_all(content + std::string(trailer, sizeof trailer));
    return 0;
}
