// SPDX-License-Identifier: Apache-2.0
//
// The trainer's producer/consumer plumbing: the calling thread reads and chunks the corpus into
// batches, worker threads consume them. Memory stays bounded by a small ring of batches.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "bytepiece/errors.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Chunks stored back to back. After `seal()` the bytes are followed by 8 zero bytes, so that
/// 8-byte loads at any chunk position stay inside the buffer.
struct text_batch {
    static constexpr std::size_t padding = 8;

    std::string bytes;
    std::vector<std::uint32_t> ends;  // end offset of each chunk in `bytes`
    std::uint64_t input_done = 0;     // input bytes consumed when the batch was sealed (progress)

    std::size_t chunk_bytes() const noexcept { return ends.empty() ? 0 : ends.back(); }
    void add(std::string_view chunk) {
        bytes.append(chunk.data(), chunk.size());
        ends.push_back(static_cast<std::uint32_t>(bytes.size()));
    }
    void seal() { bytes.append(padding, '\0'); }
    void clear() noexcept {
        bytes.clear();
        ends.clear();
    }
    /// Calls `f(std::string_view chunk)` for each chunk.
    template <class F>
    void for_each_chunk(F&& f) const {
        std::size_t start = 0;
        for (const std::uint32_t end : ends) {
            f(std::string_view(bytes.data() + start, end - start));
            start = end;
        }
    }
};

/// Starts `std::thread(f, args...)` at the end of `threads`. The system refuses threads (a
/// process or memory limit) with `std::system_error`, whose message names nothing; this throws
/// `train_error` (`errc::train_threads`) saying how many of the `wanted` threads started.
///
/// Example: `for (unsigned i = 0; i < n; ++i) start_thread(threads, n, work, i);`
template <class F, class... Args>
void start_thread(std::vector<std::thread>& threads, unsigned wanted, F&& f, Args&&... args) {
    try {
        threads.emplace_back(std::forward<F>(f), std::forward<Args>(args)...);
    } catch (const std::system_error& e) {
        BYTEPIECE_THROW(train_error(errc::train_threads,
                                    "trainer: cannot start worker thread " + std::to_string(threads.size() + 1) + " of " +
                                        std::to_string(wanted) + ": " + e.what() + " (use fewer threads)"));
    }
}

/// How batches are handed to the workers.
enum class dispatch {
    broadcast,  ///< every worker sees every batch (each does its own share of the keys)
    share,      ///< each batch goes to one worker, whichever is free
};

/// Runs `produce(submit)` on the calling thread and `consume(worker, const text_batch&)` on
/// `workers` threads (inline when `workers` is 1). `produce` calls `submit(text_batch&)` with a
/// sealed batch and gets back an empty one whose memory it may reuse. An exception in a worker
/// stops everything and is rethrown here; so is one thrown by `produce`.
template <class Produce, class Consume>
void run_pipeline(unsigned workers, dispatch mode, Produce&& produce, Consume&& consume) {
    if (workers <= 1) {
        auto submit = [&](text_batch& b) {
            consume(0u, static_cast<const text_batch&>(b));
            b.clear();
        };
        produce(submit);
        return;
    }
    struct stop_signal {};
    const std::size_t ring = 2 * static_cast<std::size_t>(workers) + 2;
    std::vector<text_batch> slots(ring);
    std::vector<unsigned> pending(ring, 0);
    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t produced = 0, claimed = 0;
    bool done = false, failed = false;
    std::exception_ptr error;

    auto work = [&](unsigned index) {
        try {
            std::uint64_t seq = 0;
            for (;;) {
                {
                    std::unique_lock<std::mutex> lock(mu);
                    if (mode == dispatch::broadcast) {
                        cv.wait(lock, [&] { return failed || seq < produced || done; });
                        if (failed || seq >= produced) return;
                    } else {
                        cv.wait(lock, [&] { return failed || claimed < produced || done; });
                        if (failed || claimed >= produced) return;
                        seq = claimed++;
                    }
                }
                consume(index, static_cast<const text_batch&>(slots[seq % ring]));
                {
                    std::lock_guard<std::mutex> lock(mu);
                    if (--pending[seq % ring] == 0) cv.notify_all();
                }
                ++seq;
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(mu);
            if (!error) error = std::current_exception();
            failed = true;
            cv.notify_all();
        }
    };

    std::vector<std::thread> threads;
    threads.reserve(workers);
    auto finish = [&](bool producer_failed) {
        {
            std::lock_guard<std::mutex> lock(mu);
            done = true;
            if (producer_failed) failed = true;
            cv.notify_all();
        }
        for (auto& t : threads) t.join();
    };
    try {
        for (unsigned i = 0; i < workers; ++i) start_thread(threads, workers, work, i);
        auto submit = [&](text_batch& b) {
            std::unique_lock<std::mutex> lock(mu);
            const std::size_t s = produced % ring;
            cv.wait(lock, [&] { return failed || pending[s] == 0; });
            if (failed) throw stop_signal{};
            std::swap(slots[s], b);
            pending[s] = mode == dispatch::broadcast ? workers : 1;
            ++produced;
            cv.notify_all();
            lock.unlock();
            b.clear();
        };
        produce(submit);
    } catch (const stop_signal&) {
        finish(true);
        std::rethrow_exception(error);
    } catch (...) {
        finish(true);
        throw;
    }
    finish(false);
    if (error) std::rethrow_exception(error);
}

/// Runs `f(begin, end, worker)` over [0, count) cut into `workers` contiguous ranges, one
/// thread each; range 0 runs on the calling thread (so it may report progress). Rethrows the
/// first exception.
template <class F>
void parallel_ranges(std::size_t count, unsigned workers, F&& f) {
    if (workers > count) workers = count ? static_cast<unsigned>(count) : 1u;
    if (workers <= 1) {
        f(std::size_t(0), count, 0u);
        return;
    }
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(workers);
    auto body = [&](unsigned w) {
        try {
            f(count * w / workers, count * (w + 1) / workers, w);
        } catch (...) {
            errors[w] = std::current_exception();
        }
    };
    try {
        for (unsigned w = 1; w < workers; ++w) start_thread(threads, workers, body, w);
    } catch (...) {
        for (auto& t : threads) t.join();
        throw;
    }
    body(0);
    for (auto& t : threads) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
