// SPDX-License-Identifier: Apache-2.0
//
// The count files of sharded training (train_counts.hpp): their byte layout, a buffered writer
// that checksums as it goes, and a reader that checks everything before it hands over a record.
// The layout is described in docs/count_files.md; the constants below are its source of truth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/hash.hpp"
#include "bytepiece/detail/train_input.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

namespace count_format {
inline constexpr char magic[8] = {'B', 'P', 'C', 'O', 'U', 'N', 'T', 'S'};
inline constexpr char end_magic[8] = {'B', 'P', 'C', 'E', 'N', 'D', '\r', '\n'};
inline constexpr std::uint32_t version = 1;
inline constexpr std::size_t header_bytes = 64 + 256 * 8;  // fixed part, then the 256 byte counts
inline constexpr std::size_t trailer_bytes = 24;           // content length, XXH3-64, end mark
inline constexpr std::uint8_t kind_ngrams = 1;
inline constexpr std::uint8_t kind_pruned_ngrams = 2;
inline constexpr std::uint8_t kind_pieces = 3;
inline constexpr std::uint8_t flag_isolate_digits = 1;
inline constexpr std::uint8_t flag_ensure_unicode = 2;
inline constexpr std::size_t max_order = 32;
inline constexpr std::size_t max_piece_bytes = (std::size_t(1) << 24) - 1;  // count_table's key limit
}  // namespace count_format

/// The header of a count file (docs/count_files.md). Which fields mean something depends on
/// the kind: `ensure_unicode`, `min_count` for pruned n-grams and pieces, `model_checksum` for
/// pieces, `positions` and `byte_counts` for n-grams.
struct count_header {
    std::uint8_t kind = 0;
    std::uint32_t version = count_format::version;
    std::size_t order = 0;
    bool isolate_digits = false;
    bool ensure_unicode = false;
    std::uint32_t chunk_chars = 0;
    std::uint64_t min_count = 0;
    std::uint64_t model_checksum = 0;
    std::uint64_t input_bytes = 0;
    std::uint64_t positions = 0;
    std::uint64_t byte_counts[256] = {};
};

inline void put_u64(char* p, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline void put_u32(char* p, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline std::uint64_t get_u64(const char* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}
inline std::uint32_t get_u32(const char* p) noexcept {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

/// The header's bytes, as written.
inline std::string encode_count_header(const count_header& h) {
    std::string out(count_format::header_bytes, '\0');
    char* p = &out[0];
    std::memcpy(p, count_format::magic, 8);
    put_u32(p + 8, h.version);
    p[12] = static_cast<char>(h.kind);
    p[13] = static_cast<char>(h.order);
    p[14] = static_cast<char>((h.isolate_digits ? count_format::flag_isolate_digits : 0) |
                              (h.ensure_unicode ? count_format::flag_ensure_unicode : 0));
    put_u32(p + 16, h.chunk_chars);
    put_u64(p + 24, h.min_count);
    put_u64(p + 32, h.model_checksum);
    put_u64(p + 40, h.input_bytes);
    put_u64(p + 48, h.positions);
    for (int b = 0; b < 256; ++b) put_u64(p + 64 + 8 * b, h.byte_counts[b]);
    return out;
}

/// Writes a count file through `output_file` (temporary file + rename): the header, then the
/// records of each section in increasing byte order (`add`, closed by `end_section`), then
/// the trailer (`commit`). Keys are stored as (bytes shared with the previous key, the rest).
///
/// Example:
///     detail::count_file_writer w("a.counts", header);
///     w.add("ab", 3); w.add("ac", 1); w.end_section();
///     w.commit();
class count_file_writer {
public:
    count_file_writer(const std::string& path, const count_header& h) : out_(path), pieces_(h.kind == count_format::kind_pieces) {
        put(encode_count_header(h));
    }

    /// Adds a record; `key` must be greater than the previous one of the section, `count` > 0.
    void add(std::string_view key, std::uint64_t count) {
        std::size_t shared = 0;
        const std::size_t limit = std::min(key.size(), previous_.size());
        while (shared < limit && key[shared] == previous_[shared]) ++shared;
        char tmp[30];
        std::size_t n = varint(tmp, count);
        n += varint(tmp + n, shared);
        if (pieces_) n += varint(tmp + n, key.size() - shared);
        put(std::string_view(tmp, n));
        put(key.substr(shared));
        previous_.assign(key.data(), key.size());
    }

    /// Closes the current section (a count of 0).
    void end_section() {
        put(std::string_view("\0", 1));
        previous_.clear();
    }

    /// Writes the trailer and renames the file into place; returns the content checksum (the
    /// fingerprint of the file).
    std::uint64_t commit() {
        flush();
        const std::uint64_t checksum = digest_.digest().hash;
        char trailer[count_format::trailer_bytes];
        put_u64(trailer, digest_.bytes());
        put_u64(trailer + 8, checksum);
        std::memcpy(trailer + 16, count_format::end_magic, 8);
        out_.write(std::string_view(trailer, sizeof trailer));
        out_.commit();
        return checksum;
    }

private:
    static std::size_t varint(char* p, std::uint64_t v) noexcept {
        std::size_t n = 0;
        while (v >= 0x80) {
            p[n++] = static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        p[n++] = static_cast<char>(v);
        return n;
    }

    void put(std::string_view s) {
        buffer_.append(s.data(), s.size());
        if (buffer_.size() >= (std::size_t(1) << 20)) flush();
    }

    void flush() {
        digest_.update(buffer_);
        out_.write(buffer_);
        buffer_.clear();
    }

    output_file out_;
    bool pieces_;
    std::string buffer_;
    std::string previous_;
    streaming_digest digest_;
};

/// Reads a count file, checking first (at open) its magic, version, end mark, length and
/// checksum, then each record as it is read (sorted, well formed). Every failure throws
/// `train_error` naming the file, what is wrong and the byte offset.
///
/// Example:
///     detail::count_file_reader r("a.counts");
///     for (std::size_t s = 0; s < r.sections(); ++s)
///         while (r.next()) use(r.key(), r.count());
///     r.finish();
class count_file_reader {
public:
    explicit count_file_reader(std::string path) : path_(std::move(path)) {
        file_ = std::fopen(path_.c_str(), "rb");
        if (!file_) BYTEPIECE_THROW(io_error(errc::io_open, path_ + ": cannot open: " + errno_text(errno)));
        start();
    }

    /// Reads an open file (which must be seekable, from its start), named `name` in messages;
    /// takes ownership of it.
    count_file_reader(std::FILE* file, std::string name) : path_(std::move(name)), file_(file) { start(); }

private:
    void start() {
        try {
            open();
        } catch (...) {
            std::fclose(file_);
            file_ = nullptr;
            throw;
        }
    }

public:
    count_file_reader(const count_file_reader&) = delete;
    count_file_reader& operator=(const count_file_reader&) = delete;
    ~count_file_reader() {
        if (file_) std::fclose(file_);
    }

    const std::string& path() const noexcept { return path_; }
    const count_header& header() const noexcept { return header_; }
    /// The content checksum (the fingerprint that piece files record of their pruned model).
    std::uint64_t checksum() const noexcept { return checksum_; }
    /// The file's size in bytes.
    std::uint64_t size() const noexcept { return content_ + count_format::trailer_bytes; }
    /// Bytes of the content read so far (for progress).
    std::uint64_t offset() const noexcept { return offset_; }

    /// Sections of records: one per n-gram length 2..order, one for pieces.
    std::size_t sections() const noexcept {
        return header_.kind == count_format::kind_pieces ? 1 : (header_.order >= 2 ? header_.order - 1 : 0);
    }
    /// The length of the keys of section `s` (n-grams), 0 for pieces (any length).
    std::size_t key_length(std::size_t s) const noexcept {
        return header_.kind == count_format::kind_pieces ? 0 : s + 2;
    }

    /// Reads the next record of the current section; false at the section's end (after which
    /// the next call reads the next section). Throws `train_error` for a malformed record.
    bool next() {
        if (section_ >= sections()) fail(errc::count_file_invalid, "a record past the last section", offset_);
        const std::uint64_t at = offset_;
        const std::uint64_t c = read_varint();
        if (c == 0) {
            ++section_;
            key_.clear();
            first_ = true;
            return false;
        }
        const std::uint64_t shared = read_varint();
        const std::size_t fixed = key_length(section_);
        std::uint64_t rest;
        if (fixed) {
            if (shared >= fixed) fail(errc::count_file_invalid, "a record shares " + std::to_string(shared) + " bytes with the one before, but its n-grams have " + std::to_string(fixed), at);
            rest = fixed - shared;
        } else {
            rest = read_varint();
            if (rest > count_format::max_piece_bytes || shared + rest > count_format::max_piece_bytes || shared + rest == 0)
                fail(errc::count_file_invalid, "a piece of " + std::to_string(shared + rest) + " bytes", at);
        }
        if (shared > key_.size()) fail(errc::count_file_invalid, "a record shares more bytes than the record before has", at);
        if (first_ && shared) fail(errc::count_file_invalid, "the first record of a section shares bytes with nothing", at);
        previous_.assign(key_);
        key_.resize(static_cast<std::size_t>(shared));
        const std::size_t old = key_.size();
        key_.resize(old + static_cast<std::size_t>(rest));
        read_bytes(&key_[old], static_cast<std::size_t>(rest));
        if (!first_ && shared < previous_.size() && rest && key_[static_cast<std::size_t>(shared)] == previous_[static_cast<std::size_t>(shared)])
            fail(errc::count_file_invalid, "a record shares fewer bytes with the one before than it could", at);
        if (!first_ && !(previous_ < key_)) fail(errc::count_file_invalid, "records out of order (each must be greater than the one before)", at);
        if (header_.kind == count_format::kind_pruned_ngrams && c < header_.min_count)
            fail(errc::count_file_invalid, "a pruned n-gram with count " + std::to_string(c) + ", below the min count " + std::to_string(header_.min_count), at);
        first_ = false;
        count_ = c;
        return true;
    }

    std::string_view key() const noexcept { return key_; }
    std::uint64_t count() const noexcept { return count_; }
    std::size_t section() const noexcept { return section_; }

    /// Checks that every section was read and nothing follows them.
    void finish() {
        if (section_ != sections()) fail(errc::count_file_invalid, "finish() before the last section", offset_);
        if (offset_ != content_) fail(errc::count_file_invalid, std::to_string(content_ - offset_) + " bytes follow the last section", offset_);
    }

    /// Throws `train_error` with `code`: "<path>: <what> (at byte <offset>)".
    [[noreturn]] void fail(errc code, const std::string& what, std::uint64_t at) const {
        BYTEPIECE_THROW(train_error(code, path_ + ": " + what + " (at byte " + std::to_string(at) + ")"));
    }

private:
    void open() {
        std::string head(count_format::header_bytes, '\0');
        const std::size_t got = std::fread(&head[0], 1, head.size(), file_);
        if (std::ferror(file_)) BYTEPIECE_THROW(io_error(errc::io_read, path_ + ": read failed: " + errno_text(errno)));
        const std::size_t magic_seen = std::min<std::size_t>(got, 8);
        if (std::memcmp(head.data(), count_format::magic, magic_seen) != 0 || got == 0)
            fail(errc::count_file_not_counts, "not a bytepiece count file (it does not start with \"BPCOUNTS\")", 0);
        if (got < 12) fail(errc::count_file_truncated, "truncated: " + std::to_string(got) + " bytes, less than a header", got);
        header_.version = get_u32(head.data() + 8);
        if (header_.version != count_format::version)
            fail(errc::count_file_version, "count file format version " + std::to_string(header_.version) +
                                               ", this library reads version " + std::to_string(count_format::version), 8);
        if (std::fseek(file_, 0, SEEK_END) != 0) BYTEPIECE_THROW(io_error(errc::io_read, path_ + ": cannot seek: " + errno_text(errno)));
        const long end = std::ftell(file_);
        if (end < 0) BYTEPIECE_THROW(io_error(errc::io_read, path_ + ": cannot seek: " + errno_text(errno)));
        const auto size = static_cast<std::uint64_t>(end);
        if (size < count_format::header_bytes + count_format::trailer_bytes)
            fail(errc::count_file_truncated, "truncated: " + std::to_string(size) + " bytes, less than a header and trailer", size);
        char trailer[count_format::trailer_bytes];
        if (std::fseek(file_, static_cast<long>(size - count_format::trailer_bytes), SEEK_SET) != 0 ||
            std::fread(trailer, 1, sizeof trailer, file_) != sizeof trailer)
            BYTEPIECE_THROW(io_error(errc::io_read, path_ + ": read failed: " + errno_text(errno)));
        if (std::memcmp(trailer + 16, count_format::end_magic, 8) != 0)
            fail(errc::count_file_truncated, "truncated: it does not end with the end mark (not completely written, or cut off)", size);
        content_ = size - count_format::trailer_bytes;
        if (get_u64(trailer) != content_)
            fail(errc::count_file_damaged, "damaged: its trailer gives " + std::to_string(get_u64(trailer)) +
                                               " bytes of content, the file holds " + std::to_string(content_), content_);
        // The checksum first, over everything: a damaged file must not be half merged.
        if (std::fseek(file_, 0, SEEK_SET) != 0) BYTEPIECE_THROW(io_error(errc::io_read, path_ + ": cannot seek: " + errno_text(errno)));
        {
            streaming_digest digest;
            std::vector<char> block(std::size_t(1) << 20);
            std::uint64_t left = content_;
            while (left) {
                const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, block.size()));
                if (std::fread(block.data(), 1, want, file_) != want)
                    BYTEPIECE_THROW(io_error(errc::io_read, path_ + ": read failed: " + errno_text(errno)));
                digest.update(std::string_view(block.data(), want));
                left -= want;
            }
            checksum_ = digest.digest().hash;
        }
        if (checksum_ != get_u64(trailer + 8))
            fail(errc::count_file_damaged, "damaged: the checksum of its content does not match the one written", content_ + 8);
        if (std::fseek(file_, static_cast<long>(count_format::header_bytes), SEEK_SET) != 0)
            BYTEPIECE_THROW(io_error(errc::io_read, path_ + ": cannot seek: " + errno_text(errno)));
        offset_ = count_format::header_bytes;
        const char* p = head.data();
        header_.kind = static_cast<std::uint8_t>(p[12]);
        header_.order = static_cast<unsigned char>(p[13]);
        const auto flags = static_cast<std::uint8_t>(p[14]);
        header_.isolate_digits = flags & count_format::flag_isolate_digits;
        header_.ensure_unicode = flags & count_format::flag_ensure_unicode;
        header_.chunk_chars = get_u32(p + 16);
        header_.min_count = get_u64(p + 24);
        header_.model_checksum = get_u64(p + 32);
        header_.input_bytes = get_u64(p + 40);
        header_.positions = get_u64(p + 48);
        for (int b = 0; b < 256; ++b) header_.byte_counts[b] = get_u64(p + 64 + 8 * b);
        if (header_.kind < count_format::kind_ngrams || header_.kind > count_format::kind_pieces)
            fail(errc::count_file_invalid, "unknown kind " + std::to_string(header_.kind), 12);
        if (header_.order < 1 || header_.order > count_format::max_order)
            fail(errc::count_file_invalid, "order " + std::to_string(header_.order) + " (must be from 1 to 32)", 13);
        if (flags & ~(count_format::flag_isolate_digits | count_format::flag_ensure_unicode))
            fail(errc::count_file_invalid, "unknown flags " + std::to_string(flags), 14);
        // One file, one encoding: what a kind does not use is zero, so that a file that reads
        // is exactly what the writer would write for its records.
        for (const std::size_t at : {std::size_t(15), std::size_t(20), std::size_t(21), std::size_t(22), std::size_t(23)})
            if (p[at] != 0) fail(errc::count_file_invalid, "a reserved byte is not 0", at);
        if (get_u64(p + 56) != 0) fail(errc::count_file_invalid, "reserved bytes are not 0", 56);
        if (header_.kind == count_format::kind_ngrams && (header_.ensure_unicode || header_.min_count))
            fail(errc::count_file_invalid, "n-gram counts with a min count or ensure unicode", 14);
        if (header_.kind != count_format::kind_pieces && header_.model_checksum)
            fail(errc::count_file_invalid, "n-gram counts with a model checksum", 32);
        if (header_.kind == count_format::kind_pieces && header_.positions)
            fail(errc::count_file_invalid, "piece counts with positions", 48);
        std::uint64_t bytes = 0;
        for (std::size_t b = 0; b < 256; ++b) {
            if (header_.byte_counts[b] > UINT64_MAX - bytes) fail(errc::count_file_invalid, "byte counts overflow", 64 + 8 * b);
            bytes += header_.byte_counts[b];
        }
        if (bytes != header_.positions)
            fail(errc::count_file_invalid, "the byte counts add up to " + std::to_string(bytes) + ", not the " +
                                               std::to_string(header_.positions) + " positions it gives",
                 48);
    }

    std::uint64_t read_varint() {
        const std::uint64_t at = offset_;
        std::uint64_t v = 0;
        for (int shift = 0;; shift += 7) {
            const int c = get();
            if (shift == 63 && (c & 0xFE)) fail(errc::count_file_invalid, "a number above 2^64 - 1", at);
            v |= static_cast<std::uint64_t>(c & 0x7F) << shift;
            if (!(c & 0x80)) {
                if (c == 0 && shift) fail(errc::count_file_invalid, "a number written with needless bytes", at);
                return v;
            }
        }
    }

    int get() {
        if (pos_ == buffer_.size()) refill(1);
        ++offset_;
        return static_cast<unsigned char>(buffer_[pos_++]);
    }

    void read_bytes(char* out, std::size_t n) {
        while (n) {
            if (pos_ == buffer_.size()) refill(n);
            const std::size_t take = std::min(n, buffer_.size() - pos_);
            std::memcpy(out, buffer_.data() + pos_, take);
            out += take;
            pos_ += take;
            offset_ += take;
            n -= take;
        }
    }

    void refill(std::uint64_t wanted) {
        const std::uint64_t file_offset = offset_;
        const std::uint64_t left = content_ - file_offset;
        if (left == 0)
            fail(errc::count_file_invalid, "the content ends inside a record (" + std::to_string(wanted) + " more bytes wanted)", offset_);
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, std::size_t(1) << 16));
        buffer_.resize(want);
        if (std::fread(&buffer_[0], 1, want, file_) != want)
            BYTEPIECE_THROW(io_error(errc::io_read, path_ + ": read failed: " + errno_text(errno)));
        pos_ = 0;
    }

    std::string path_;
    std::FILE* file_ = nullptr;
    count_header header_;
    std::uint64_t checksum_ = 0;
    std::uint64_t content_ = 0;  // bytes before the trailer
    std::uint64_t offset_ = 0;   // bytes of the file consumed by the parser
    std::string buffer_;
    std::size_t pos_ = 0;
    std::string key_, previous_;
    std::uint64_t count_ = 0;
    std::size_t section_ = 0;
    bool first_ = true;
};

/// Throws `argument_error` (`errc::invalid_argument`) if `output` names the same file as one
/// of `inputs`: a step must never overwrite what it reads.
inline void refuse_output_among_inputs(const std::vector<std::string>& inputs, const std::string& output, const char* who) {
    if (output == "-") return;
    for (const auto& in : inputs) {
        std::error_code ec;
        if (in == output || (in != "-" && std::filesystem::equivalent(in, output, ec) && !ec))
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, std::string(who) + ": the output " + output +
                                                                       " is one of the inputs; write it to another file"));
    }
}

/// The first chunk boundary at or after byte `x` of a file of `size` bytes: the position just
/// after a run of newlines (or 0, or the end). The trainer's chunks never cross one (see
/// `trainer::count_ngrams`).
inline std::uint64_t chunk_boundary_at_or_after(std::FILE* f, const std::string& path, std::uint64_t size, std::uint64_t x) {
    if (x == 0) return 0;
    if (x >= size) return size;
    if (std::fseek(f, static_cast<long>(x - 1), SEEK_SET) != 0)
        BYTEPIECE_THROW(io_error(errc::io_read, path + ": cannot seek: " + errno_text(errno)));
    std::vector<char> block(std::size_t(1) << 16);
    std::uint64_t p = x - 1;  // position of block[0]
    int prev = -1;
    for (;;) {
        const std::size_t n = std::fread(block.data(), 1, block.size(), f);
        if (n == 0) {
            if (std::ferror(f)) BYTEPIECE_THROW(io_error(errc::io_read, path + ": read failed: " + errno_text(errno)));
            return size;
        }
        for (std::size_t i = 0; i < n; ++i, ++p) {
            const int c = static_cast<unsigned char>(block[i]);
            if (prev == '\n' && c != '\n' && p >= x) return p;
            prev = c;
        }
        if (p >= size) return size;
    }
}

/// Reads `path` ("-": standard input) once, or only the bytes of part `index` of `count` of
/// it (a regular file then), calling `data(std::string_view)` with each block.
template <class Data>
void read_input_part(const std::string& path, std::uint64_t index, std::uint64_t count, std::vector<char>& buffer, Data&& data) {
    const bool whole = count <= 1;
    if (!whole && path == "-")
        BYTEPIECE_THROW(argument_error(errc::invalid_argument, "standard input cannot be cut into parts; give a file"));
    std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (!f) BYTEPIECE_THROW(io_error(errc::io_open, path + ": cannot open: " + errno_text(errno)));
    struct closer {
        std::FILE* f;
        ~closer() {
            if (f && f != stdin) std::fclose(f);
        }
    } guard{f};
    std::uint64_t left = UINT64_MAX;
    if (!whole) {
        const long long size = remaining_regular_bytes(f);
        if (size < 0) BYTEPIECE_THROW(argument_error(errc::invalid_argument, path + ": is not a regular file, so it cannot be cut into parts"));
        const auto total = static_cast<std::uint64_t>(size);
        // floor(k * total / count) without overflow (count is at most 2^20, checked by the caller).
        auto at = [&](std::uint64_t k) { return total / count * k + total % count * k / count; };
        const std::uint64_t begin = chunk_boundary_at_or_after(f, path, total, at(index));
        const std::uint64_t end = chunk_boundary_at_or_after(f, path, total, at(index + 1));
        left = end > begin ? end - begin : 0;
        if (std::fseek(f, static_cast<long>(begin), SEEK_SET) != 0)
            BYTEPIECE_THROW(io_error(errc::io_read, path + ": cannot seek: " + errno_text(errno)));
    }
    while (left) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
        const std::size_t n = std::fread(buffer.data(), 1, want, f);
        if (n) data(std::string_view(buffer.data(), n));
        if (!whole) left -= n;
        if (n < want) {
            if (std::ferror(f)) BYTEPIECE_THROW(io_error(errc::io_read, path + ": read failed: " + errno_text(errno)));
            if (!whole) BYTEPIECE_THROW(io_error(errc::io_changed, path + ": shorter than when its part was measured"));
            break;
        }
    }
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
