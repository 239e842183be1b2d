// SPDX-License-Identifier: Apache-2.0
//
// A private temporary folder for the sorted runs a memory-bounded training spills: created on
// first use (a run that never spills touches no disk), mode 0700, and removed with everything
// in it when the training ends, also when it ends with an exception.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <dirent.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdlib.h>
#include <unistd.h>

#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Gives the pages of freed memory back to the system. glibc keeps freed blocks below its
/// mmap threshold (which rises to 32 MB as large blocks are freed) in the process, resident:
/// after pass 1's tables are spilled and freed, 140 MB of them stayed resident while the
/// model of pass 2 was built, on top of it. The memory-bounded trainer calls this between
/// phases, where a phase's tables have gone and the next one's are not yet made. Elsewhere a
/// no-op.
inline void return_free_memory() noexcept {
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

class spill_dir {
public:
    /// `parent` empty: $TMPDIR, else /tmp.
    explicit spill_dir(std::string parent) : parent_(std::move(parent)) {
        if (parent_.empty()) {
            const char* t = std::getenv("TMPDIR");
            parent_ = t && *t ? t : "/tmp";
        }
    }
    spill_dir(const spill_dir&) = delete;
    spill_dir& operator=(const spill_dir&) = delete;
    ~spill_dir() { remove_all(); }

    /// A path for a new file named `name` in the folder, creating the folder the first time.
    /// Thread-safe: the counting threads spill concurrently.
    std::string file(const std::string& name) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (path_.empty()) {
            std::string pattern = parent_ + "/bytepiece-spill-XXXXXX";
            std::vector<char> buf(pattern.begin(), pattern.end());
            buf.push_back('\0');
            if (!::mkdtemp(buf.data()))
                BYTEPIECE_THROW(io_error(errc::io_write, parent_ + ": cannot create a folder for the spill files of the memory limit (" +
                                                             std::strerror(errno) + "); set another temporary folder"));
            path_ = buf.data();
        }
        return path_ + "/" + name;
    }

    /// Whether anything was spilled (the folder exists).
    bool used() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return !path_.empty();
    }

    /// Removes the folder and whatever is in it (run files, temporary files of a failed write).
    void remove_all() noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        if (path_.empty()) return;
        if (DIR* d = ::opendir(path_.c_str())) {
            std::vector<std::string> names;
            while (const dirent* e = ::readdir(d)) {
                const std::string n = e->d_name;
                if (n != "." && n != "..") names.push_back(n);
            }
            ::closedir(d);
            for (const auto& n : names) ::unlink((path_ + "/" + n).c_str());
        }
        ::rmdir(path_.c_str());
        path_.clear();
    }

private:
    std::string parent_;
    std::string path_;
    mutable std::mutex mutex_;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
