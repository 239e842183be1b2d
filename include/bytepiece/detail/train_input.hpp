// SPDX-License-Identifier: Apache-2.0
//
// The trainer's input files. Training reads its corpus twice, and the second pass must see
// exactly the bytes of the first, or the piece counts of pass 2 do not match the n-gram model
// of pass 1 and the model is quietly wrong. A regular file is read again and checked against
// the length and XXH3 hash of what pass 1 read; an input that cannot be read twice (standard
// input, a pipe, a FIFO, `<(...)`, a device) is copied during pass 1 to an unnamed temporary
// file, which pass 2 reads instead.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <sys/types.h>
#if !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/hash.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Length and XXH3-64 of the bytes one pass read.
struct read_digest {
    std::uint64_t bytes = 0;
    std::uint64_t hash = 0;
    bool operator==(const read_digest& o) const noexcept { return bytes == o.bytes && hash == o.hash; }
    bool operator!=(const read_digest& o) const noexcept { return !(*this == o); }
};

/// XXH3-64 over bytes that arrive in pieces; `digest()` equals `hash_bytes` of them all.
class streaming_digest {
public:
    streaming_digest() noexcept { XXH3_64bits_reset(&state_); }
    void update(std::string_view s) noexcept {
        XXH3_64bits_update(&state_, s.data(), s.size());
        bytes_ += s.size();
    }
    std::uint64_t bytes() const noexcept { return bytes_; }
    read_digest digest() const noexcept { return {bytes_, XXH3_64bits_digest(&state_)}; }

private:
    XXH3_state_t state_;
    std::uint64_t bytes_ = 0;
};

/// The size of an open regular file from its current position on, or -1 when it is something
/// else (a pipe, a terminal, a device) or cannot tell.
inline long long remaining_regular_bytes(std::FILE* f) {
#if defined(_WIN32)
    struct _stat64 st {};
    if (_fstat64(_fileno(f), &st) != 0 || !(st.st_mode & _S_IFREG)) return -1;
#else
    struct stat st {};
    if (::fstat(::fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
#endif
    const long position = std::ftell(f);
    if (position < 0) return -1;
    return st.st_size > position ? static_cast<long long>(st.st_size - position) : 0;
}

/// An unnamed temporary file in $TMPDIR (or /tmp), read and written, gone when closed or when
/// the process dies. `what` names the input it will hold, for the error message.
inline std::FILE* open_spool(const std::string& what) {
#if defined(_WIN32)
    std::FILE* f = std::tmpfile();
    if (!f) BYTEPIECE_THROW(io_error(errc::io_write, what + ": cannot create a temporary file to hold it for the second pass: " + errno_text(errno)));
    return f;
#else
    const char* env = std::getenv("TMPDIR");
    const std::string dir = env && *env ? env : "/tmp";
    int fd = -1;
#if defined(O_TMPFILE)
    fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {  // no O_TMPFILE here, or a file system without it: a named file, unlinked at once
        std::string name = dir + "/bytepiece-spool-XXXXXX";
        fd = ::mkstemp(&name[0]);
        if (fd >= 0) {
            ::unlink(name.c_str());
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    std::FILE* f = fd >= 0 ? ::fdopen(fd, "w+b") : nullptr;
    if (!f) {
        const int e = errno;
        if (fd >= 0) ::close(fd);
        BYTEPIECE_THROW(io_error(errc::io_write, what + ": cannot create a temporary file in " + dir +
                                                     " to hold it for the second pass: " + errno_text(e) +
                                                     " (set TMPDIR to another folder)"));
    }
    return f;
#endif
}

/// One input of `trainer::train_files`: a path, or "-" for standard input. `read(1, ...)` and
/// then `read(2, ...)` hand over the same bytes, or the second throws `io_error`
/// (`errc::io_changed`) naming the file.
///
/// Example:
///     detail::train_input in("corpus.txt");
///     in.inspect();
///     std::vector<char> buffer(1 << 20);
///     in.read(1, buffer, [](std::string_view block) { ... });
///     in.read(2, buffer, [](std::string_view block) { ... });
class train_input {
public:
    explicit train_input(std::string path) : path_(std::move(path)) {}
    train_input(train_input&& o) noexcept
        : path_(std::move(o.path_)), first_(o.first_), spool_(std::exchange(o.spool_, nullptr)),
          stdin_start_(o.stdin_start_), read_once_(o.read_once_) {}
    train_input(const train_input&) = delete;
    train_input& operator=(const train_input&) = delete;
    train_input& operator=(train_input&&) = delete;
    ~train_input() {
        if (spool_) std::fclose(spool_);
    }

    /// The name for messages: the path, or "standard input".
    std::string name() const { return path_ == "-" ? std::string("standard input") : path_; }

    /// Checks, before any work, that the input exists and is not a folder, and opens a regular
    /// file once to see that it may be read. Anything else is left unopened: opening a FIFO
    /// waits for its writer, and closing it again would cut the writer off. Returns the size in
    /// bytes if known (a regular file), else -1. Throws `io_error` (`errc::io_open`).
    long long inspect() const {
        if (path_ == "-") return remaining_regular_bytes(stdin);
        std::error_code ec;
        const auto status = std::filesystem::status(path_, ec);
        if (ec || !std::filesystem::exists(status))
            BYTEPIECE_THROW(io_error(errc::io_open, path_ + ": cannot open: " + (ec ? ec.message() : errno_text(ENOENT))));
        if (std::filesystem::is_directory(status)) BYTEPIECE_THROW(io_error(errc::io_open, path_ + ": is a folder, not a file"));
        if (!std::filesystem::is_regular_file(status)) return -1;
        std::FILE* f = std::fopen(path_.c_str(), "rb");
        if (!f) BYTEPIECE_THROW(io_error(errc::io_open, path_ + ": cannot open: " + errno_text(errno)));
        const long long size = remaining_regular_bytes(f);
        std::fclose(f);
        return size;
    }

    /// Pass `pass` (1 or 2) over the input: calls `data(std::string_view)` with each block read
    /// into `buffer`. Pass 1 copies an input that cannot be read again to a temporary file;
    /// pass 2 reads that copy, or the input again, and throws `io_error` (`errc::io_changed`)
    /// when it differs from what pass 1 read, before handing over a byte past pass 1's length.
    template <class Data>
    void read(int pass, std::vector<char>& buffer, Data&& data) {
        std::FILE* f = pass == 1 ? open_first() : open_second();
        struct closer {
            std::FILE* f;
            ~closer() {
                if (f) std::fclose(f);
            }
        } guard{f == stdin || f == spool_ ? nullptr : f};
        streaming_digest digest;
        for (;;) {
            const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), f);
            if (n) {
                const std::string_view block(buffer.data(), n);
                digest.update(block);
                if (pass == 1 && spool_ && std::fwrite(block.data(), 1, n, spool_) != n) spool_failed();
                if (pass == 2 && digest.bytes() > first_.bytes) changed(digest.digest());
                data(block);
            }
            if (n < buffer.size()) {
                if (std::ferror(f))
                    BYTEPIECE_THROW(io_error(errc::io_read, from() + ": read failed: " + errno_text(errno)));
                break;
            }
        }
        if (pass == 1) {
            first_ = digest.digest();
            read_once_ = true;
            if (spool_ && std::fflush(spool_) != 0) spool_failed();
            return;
        }
        if (digest.digest() != first_) changed(digest.digest());
        if (spool_) {  // the copy is no longer needed: give its disk space back now
            std::fclose(spool_);
            spool_ = nullptr;
        }
    }

private:
    std::FILE* open_first() {
        std::FILE* f = path_ == "-" ? stdin : std::fopen(path_.c_str(), "rb");
        if (!f) BYTEPIECE_THROW(io_error(errc::io_open, path_ + ": cannot open: " + errno_text(errno)));
        if (remaining_regular_bytes(f) >= 0) {
            // Standard input redirected from a file is read again from where it started.
            if (f == stdin) stdin_start_ = std::ftell(stdin);
            return f;
        }
        try {
            spool_ = open_spool(name());
        } catch (...) {
            if (f != stdin) std::fclose(f);
            throw;
        }
        return f;
    }

    std::FILE* open_second() {
        if (!read_once_) BYTEPIECE_THROW(io_error(errc::io_read, name() + ": the second pass came before the first"));
        if (spool_) {
            if (std::fseek(spool_, 0, SEEK_SET) != 0)
                BYTEPIECE_THROW(io_error(errc::io_read, from() + ": cannot go back to its start: " + errno_text(errno)));
            return spool_;
        }
        if (path_ == "-") {
            std::clearerr(stdin);
            if (std::fseek(stdin, stdin_start_, SEEK_SET) != 0)
                BYTEPIECE_THROW(io_error(errc::io_read, name() + ": cannot go back to its start for the second pass: " + errno_text(errno)));
            return stdin;
        }
        std::FILE* f = std::fopen(path_.c_str(), "rb");
        if (!f) BYTEPIECE_THROW(io_error(errc::io_open, path_ + ": cannot open for the second pass: " + errno_text(errno)));
        return f;
    }

    // What a read error names: the input, or the temporary copy of it.
    std::string from() const { return spool_ ? name() + " (its temporary copy)" : name(); }

    [[noreturn]] void spool_failed() const {
        BYTEPIECE_THROW(io_error(errc::io_write, name() + ": cannot write its temporary copy for the second pass: " +
                                                     errno_text(errno) + " (it needs as much room as the input; set TMPDIR to a folder with room)"));
    }

    [[noreturn]] void changed(const read_digest& second) const {
        std::string how = second.bytes == first_.bytes
                              ? std::to_string(first_.bytes) + " bytes both times, but not the same bytes"
                              : std::to_string(first_.bytes) + " bytes the first time, " +
                                    (second.bytes > first_.bytes ? "more than that" : std::to_string(second.bytes)) + " the second";
        BYTEPIECE_THROW(io_error(errc::io_changed, from() + ": changed while it was being trained on (" + how +
                                                       "); training reads its input twice and needs it unchanged"));
    }

    std::string path_;
    read_digest first_;
    std::FILE* spool_ = nullptr;  // the copy of an input that cannot be read twice
    long stdin_start_ = 0;
    bool read_once_ = false;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
