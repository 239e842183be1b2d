// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <mutex>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/errors.hpp"
#include "bytepiece/tokenizer.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// A fixed set of worker threads that runs one indexed loop at a time (`parallel_for`).
///
/// A pool of size N owns N - 1 threads: the thread that calls `parallel_for` takes tasks too,
/// so a pool of size 1 owns no thread at all and runs everything inline. Keep one pool and pass
/// it to every `encode_batch` call, so threads (and the tokenizer's per-thread scratch space,
/// which lives as long as its thread) are created once rather than per call. Calls from
/// several threads are served one after another; a `parallel_for` issued from inside one of
/// this pool's tasks runs inline instead of waiting for itself.
///
/// Example: `bytepiece::thread_pool pool(4); auto r = bytepiece::encode_batch(tok, texts, pool);`
class thread_pool {
public:
    /// Starts `threads - 1` workers (`threads` = 0 means `std::thread::hardware_concurrency()`,
    /// or 1 when that is unknown), so that `threads` loops can run at once with the caller's.
    ///
    /// Example: `bytepiece::thread_pool pool(0);  // one task at a time per hardware thread`
    explicit thread_pool(std::size_t threads = 0) {
        if (threads == 0) threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
        workers_.reserve(threads - 1);
        try {
            for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_main(); });
        } catch (...) {
            shut_down();
            throw;
        }
    }

    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    /// Stops and joins the workers. Must not run while a `parallel_for` on this pool is running.
    ///
    /// Example: `{ bytepiece::thread_pool pool(2); use(pool); }  // joined here`
    ~thread_pool() { shut_down(); }

    /// How many tasks can run at once: the workers plus the calling thread.
    ///
    /// Example: `std::size_t pieces = pool.size() * 4;`
    std::size_t size() const noexcept { return workers_.size() + 1; }

    /// Calls `f(i)` once for every i in [0, count), spread over the workers and the calling
    /// thread, and returns when every call has returned. Indices are handed out in increasing
    /// order as threads become free, so uneven tasks balance themselves. If calls throw, the
    /// tasks not yet started are skipped and the exception of the lowest index is rethrown
    /// here: the one a sequential loop would have thrown, whatever the timing.
    ///
    /// Example: `pool.parallel_for(parts.size(), [&](std::size_t i) { out[i] = work(parts[i]); });`
    template <class F>
    void parallel_for(std::size_t count, F&& f) {
        if (count == 0) return;
        if (workers_.empty() || count == 1 || current_pool() == this) {
            for (std::size_t i = 0; i < count; ++i) f(i);
            return;
        }
        using fn_type = std::remove_reference_t<F>;
        const job j{[](void* ctx, std::size_t i) { (*static_cast<fn_type*>(ctx))(i); },
                    const_cast<void*>(static_cast<const void*>(std::addressof(f))), count};
        // One loop at a time: the workers share a single job slot.
        std::lock_guard<std::mutex> serial(submit_mutex_);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = j;
            next_.store(0, std::memory_order_relaxed);
            failed_.store(false, std::memory_order_relaxed);
            error_ = nullptr;
            error_index_ = count;
            busy_workers_ = workers_.size();
            ++generation_;
        }
        wake_.notify_all();
        {
            const scoped_current mark(this);
            run_tasks(j);
        }
        std::exception_ptr error;
        {
            // Every worker checks out of this generation before `f` (on the caller's stack)
            // may go away, even the ones that found no task left.
            std::unique_lock<std::mutex> lock(mutex_);
            done_.wait(lock, [this] { return busy_workers_ == 0; });
            error = std::exchange(error_, nullptr);
        }
        if (error) std::rethrow_exception(error);
    }

private:
    struct job {
        void (*invoke)(void*, std::size_t) = nullptr;
        void* context = nullptr;
        std::size_t count = 0;
    };

    static const thread_pool*& current_pool() noexcept {
        static thread_local const thread_pool* current = nullptr;
        return current;
    }

    struct scoped_current {
        explicit scoped_current(const thread_pool* p) noexcept : previous(current_pool()) { current_pool() = p; }
        ~scoped_current() { current_pool() = previous; }
        scoped_current(const scoped_current&) = delete;
        scoped_current& operator=(const scoped_current&) = delete;
        const thread_pool* previous;
    };

    void run_tasks(const job& j) {
        for (;;) {
            if (failed_.load(std::memory_order_relaxed)) return;
            const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
            if (i >= j.count) return;
            try {
                j.invoke(j.context, i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (i < error_index_) {
                    error_index_ = i;
                    error_ = std::current_exception();
                }
                failed_.store(true, std::memory_order_relaxed);
            }
        }
    }

    void worker_main() {
        const scoped_current mark(this);
        std::uint64_t seen = 0;
        for (;;) {
            job j;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
                if (stop_) return;
                seen = generation_;
                j = job_;
            }
            run_tasks(j);
            std::lock_guard<std::mutex> lock(mutex_);
            if (--busy_workers_ == 0) done_.notify_one();
        }
    }

    void shut_down() noexcept {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        for (auto& t : workers_)
            if (t.joinable()) t.join();
        workers_.clear();
    }

    std::vector<std::thread> workers_;
    std::mutex submit_mutex_;
    std::mutex mutex_;  // guards everything below except the two atomics
    std::condition_variable wake_;
    std::condition_variable done_;
    job job_;
    std::uint64_t generation_ = 0;
    std::size_t busy_workers_ = 0;
    std::exception_ptr error_;
    std::size_t error_index_ = 0;
    bool stop_ = false;
    std::atomic<std::size_t> next_{0};
    std::atomic<bool> failed_{false};
};

/// How `encode_batch` and `encode_parallel` cut the work into tasks.
struct batch_options {
    /// Tasks per thread of the pool. More tasks even out uneven texts and busy cores; fewer
    /// save a little merging. The default, 4, keeps the slowest thread within about a quarter
    /// of a task of the others.
    std::size_t tasks_per_thread = 4;
    /// No task is made smaller than this many bytes (except the last), so that small inputs
    /// are not scattered over threads for less work than waking one costs.
    std::size_t min_task_bytes = 64 * 1024;
};

/// The ids of many texts in one flat buffer: text i's ids are `ids[offsets[i], offsets[i+1])`.
template <class Id = std::uint32_t>
struct basic_batch_result {
    std::vector<Id> ids;
    /// One more than the number of texts; `offsets.front() == 0`, `offsets.back() == ids.size()`.
    std::vector<std::size_t> offsets;

    /// The number of texts.
    ///
    /// Example: `for (std::size_t i = 0; i < r.size(); ++i) use(r.begin(i), r.end(i));`
    std::size_t size() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }

    /// Pointer to the first id of text `i` (requires i < size()).
    ///
    /// Example: `std::vector<std::uint32_t> ids_of_2(r.begin(2), r.end(2));`
    const Id* begin(std::size_t i) const noexcept { return ids.data() + offsets[i]; }

    /// Pointer past the last id of text `i` (requires i < size()).
    ///
    /// Example: `std::size_t n = r.end(i) - r.begin(i);`
    const Id* end(std::size_t i) const noexcept { return ids.data() + offsets[i + 1]; }
};

/// The batch result of the default tokenizer (32-bit ids).
using batch_result = basic_batch_result<std::uint32_t>;

namespace detail::batch {

// The first position at or after `from` where `text` may be cut without changing its ids:
// right after a run of '\n' that a non-'\n' byte follows. That is a chunk boundary, and NFC
// cannot reach across it either, since '\n' is a starter that composes with nothing and
// blocks canonical reordering, and is never part of a multi-byte UTF-8 sequence. Returns
// text.size() when there is none.
inline std::size_t safe_cut(std::string_view text, std::size_t from) noexcept {
    const std::size_t n = text.size();
    std::size_t p = from == 0 ? 0 : from - 1;  // a '\n' just before `from` counts
    while (p < n) {
        const void* hit = std::memchr(text.data() + p, '\n', n - p);
        if (!hit) return n;
        std::size_t q = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
        while (q < n && text[q] == '\n') ++q;
        if (q >= from) return q;  // q < n here means text[q] != '\n'
        p = q;
    }
    return n;
}

// A byte range of one text; each task encodes a contiguous run of segments.
struct segment {
    std::size_t text;
    std::size_t begin;
    std::size_t end;
};

struct plan {
    std::vector<segment> segments;
    std::vector<std::size_t> task_starts;  // first segment of each task, then segments.size()
};

// Cuts the texts into tasks of about `target` bytes each, splitting a long text at safe
// points, so that a batch with one huge text among many small ones still spreads evenly.
inline plan make_plan(const std::string_view* texts, std::size_t count, std::size_t target) {
    plan p;
    p.segments.reserve(count);
    p.task_starts.push_back(0);
    std::size_t filled = 0;
    for (std::size_t t = 0; t < count; ++t) {
        const std::string_view text = texts[t];
        std::size_t pos = 0;
        do {  // at least one segment per text, so even empty texts get <bos>/<eos>
            const std::size_t room = target - filled;
            const std::size_t cut = text.size() - pos <= room ? text.size() : safe_cut(text, pos + room);
            p.segments.push_back({t, pos, cut});
            filled += cut - pos;
            pos = cut;
            if (filled >= target) {
                p.task_starts.push_back(p.segments.size());
                filled = 0;
            }
        } while (pos < text.size());
    }
    if (p.task_starts.back() != p.segments.size()) p.task_starts.push_back(p.segments.size());
    return p;
}

// The ids of a batch as its tasks left them, before they are gathered anywhere: task k's
// buffer holds the ids of segments [task_starts[k], task_starts[k + 1]) back to back, and every
// text has at least one segment, its segments consecutive and in order. Gathering them once,
// straight into their final layout (a flat result, or padded rows), costs one copy instead of two.
template <class Id>
struct batch_parts {
    std::size_t texts = 0;
    std::vector<std::vector<Id>> ids;      // per task
    std::vector<std::size_t> text;         // per segment: the text it belongs to
    std::vector<std::size_t> size;         // per segment: its number of ids
    std::vector<std::size_t> task_starts;  // per task: its first segment; then the number of segments
};

template <class Score, class Id>
batch_parts<Id> encode_parts(const basic_tokenizer<Score, Id>& tok, const std::string_view* texts, std::size_t count,
                             thread_pool& pool, const batch_options& options) {
    using tokenizer_type = basic_tokenizer<Score, Id>;
    batch_parts<Id> parts;
    parts.texts = count;
    std::size_t total = 0;
    for (std::size_t t = 0; t < count; ++t) total += texts[t].size();

    const std::size_t tasks_wanted = pool.size() * std::max<std::size_t>(1, options.tasks_per_thread);
    const std::size_t target = std::max<std::size_t>({1, options.min_task_bytes, (total + tasks_wanted - 1) / tasks_wanted});
    if (pool.size() == 1 || total <= target) {
        // Nothing to share: one task, each text one segment, encoded on the calling thread.
        parts.ids.resize(1);
        parts.text.resize(count);
        parts.size.reserve(count);
        parts.task_starts = {0, count};
        std::vector<Id>& out = parts.ids[0];
        out.reserve(total / 3 + 16);
        tok.encode_texts(texts, count, tok.options(), [&](std::size_t i, const Id* ids, std::size_t n) {
            out.insert(out.end(), ids, ids + n);
            parts.text[i] = i;
            parts.size.push_back(n);
        });
        return parts;
    }

    const plan p = make_plan(texts, count, target);
    const std::size_t tasks = p.task_starts.size() - 1;
    encode_options per_segment = tok.options();
    const bool bos = per_segment.add_bos, eos = per_segment.add_eos;
    per_segment.add_bos = per_segment.add_eos = false;

    parts.size.assign(p.segments.size(), 0);
    parts.text.resize(p.segments.size());
    for (std::size_t s = 0; s < p.segments.size(); ++s) parts.text[s] = p.segments[s].text;
    parts.task_starts = p.task_starts;
    parts.ids.resize(tasks);
    pool.parallel_for(tasks, [&](std::size_t k) {
        std::vector<Id>& out = parts.ids[k];
        // Roughly one id per three bytes on natural text: one allocation in the common case.
        std::size_t bytes = 0;
        for (std::size_t s = p.task_starts[k]; s < p.task_starts[k + 1]; ++s) bytes += p.segments[s].end - p.segments[s].begin;
        out.reserve(bytes / 3 + 16);
        // The task's segments go through encode_texts together, which scans many at once.
        const std::size_t first = p.task_starts[k], last = p.task_starts[k + 1];
        std::vector<std::string_view> views;
        views.reserve(last - first);
        for (std::size_t s = first; s < last; ++s)
            views.push_back(texts[p.segments[s].text].substr(p.segments[s].begin, p.segments[s].end - p.segments[s].begin));
        tok.encode_texts(views.data(), views.size(), per_segment, [&](std::size_t i, const Id* ids, std::size_t n) {
            const segment& seg = p.segments[first + i];
            const std::size_t before = out.size();
            if (bos && seg.begin == 0) out.push_back(tokenizer_type::model_type::bos_id);
            out.insert(out.end(), ids, ids + n);
            if (eos && seg.end == texts[seg.text].size()) out.push_back(tokenizer_type::model_type::eos_id);
            parts.size[first + i] = out.size() - before;
        });
    });
    return parts;
}

// Gathers parts into one flat result (moving the buffer when there is a single task).
template <class Id>
basic_batch_result<Id> gather(batch_parts<Id>&& parts, thread_pool& pool) {
    basic_batch_result<Id> result;
    result.offsets.reserve(parts.texts + 1);
    result.offsets.push_back(0);
    std::size_t running = 0;
    const std::size_t segments = parts.size.size();
    for (std::size_t s = 0; s < segments; ++s) {
        running += parts.size[s];
        if (s + 1 == segments || parts.text[s + 1] != parts.text[s]) result.offsets.push_back(running);
    }
    const std::size_t tasks = parts.ids.size();
    if (tasks == 1) {
        result.ids = std::move(parts.ids[0]);
        return result;
    }
    std::vector<std::size_t> task_offsets(tasks + 1, 0);
    for (std::size_t k = 0; k < tasks; ++k) task_offsets[k + 1] = task_offsets[k] + parts.ids[k].size();
    result.ids.resize(task_offsets[tasks]);
    pool.parallel_for(tasks, [&](std::size_t k) {
        std::copy(parts.ids[k].begin(), parts.ids[k].end(), result.ids.begin() + static_cast<std::ptrdiff_t>(task_offsets[k]));
        std::vector<Id>().swap(parts.ids[k]);  // give memory back while others still copy
    });
    return result;
}

template <class Score, class Id>
basic_batch_result<Id> encode(const basic_tokenizer<Score, Id>& tok, const std::string_view* texts, std::size_t count,
                              thread_pool& pool, const batch_options& options) {
    return gather(encode_parts(tok, texts, count, pool, options), pool);
}

template <class Range>
std::vector<std::string_view> views(const Range& texts) {
    std::vector<std::string_view> v;
    using std::begin;
    using std::end;
    for (auto it = begin(texts); it != end(texts); ++it) v.emplace_back(*it);
    return v;
}

}  // namespace detail::batch

/// Encodes every text of `texts` (any range whose elements convert to `std::string_view`) on
/// `pool`, into one flat buffer: the ids of text i equal `tok.encode(texts[i])`, whatever the
/// pool's size. Work is shared by bytes, not by count of texts, and a long text is itself cut
/// at chunk boundaries, so one huge document among small ones does not serialize the batch.
/// Exceptions from encoding are rethrown here; the tokenizer's options (NFC, `<bos>`/`<eos>`
/// per text) apply.
///
/// Example: `bytepiece::thread_pool pool(4); auto r = bytepiece::encode_batch(tok, lines, pool);`
template <class Score, class Id, class Range>
basic_batch_result<Id> encode_batch(const basic_tokenizer<Score, Id>& tok, const Range& texts, thread_pool& pool,
                                    const batch_options& options = {}) {
    const std::vector<std::string_view> v = detail::batch::views(texts);
    return detail::batch::encode(tok, v.data(), v.size(), pool, options);
}

/// `encode_batch` on a pool of `threads` made for this call (0: one per hardware thread;
/// 1: runs inline on the calling thread). Keep a `thread_pool` instead when calling often.
///
/// Example: `auto r = bytepiece::encode_batch(tok, std::vector<std::string>{"a\n", "b"}, 2);`
template <class Score, class Id, class Range>
basic_batch_result<Id> encode_batch(const basic_tokenizer<Score, Id>& tok, const Range& texts, std::size_t threads,
                                    const batch_options& options = {}) {
    thread_pool pool(threads);
    return encode_batch(tok, texts, pool, options);
}

/// Encodes one large `text` on `pool` and returns exactly `tok.encode(text)`: the text is cut
/// into about `pool.size() * options.tasks_per_thread` pieces of equal bytes, each right after
/// a run of `\n` (where neither NFC nor chunking can tell the difference), the pieces are
/// encoded in parallel and their ids concatenated. A text without such a point is encoded on
/// one thread. Exceptions from encoding are rethrown here.
///
/// Example: `bytepiece::thread_pool pool(4); auto ids = bytepiece::encode_parallel(tok, book, pool);`
template <class Score, class Id>
std::vector<Id> encode_parallel(const basic_tokenizer<Score, Id>& tok, std::string_view text, thread_pool& pool,
                                const batch_options& options = {}) {
    return detail::batch::encode(tok, &text, 1, pool, options).ids;
}

/// `encode_parallel` on a pool of `threads` made for this call (0: one per hardware thread;
/// 1: runs inline on the calling thread).
///
/// Example: `auto ids = bytepiece::encode_parallel(tok, book, 2);`
template <class Score, class Id>
std::vector<Id> encode_parallel(const basic_tokenizer<Score, Id>& tok, std::string_view text, std::size_t threads,
                                const batch_options& options = {}) {
    thread_pool pool(threads);
    return encode_parallel(tok, text, pool, options);
}

BYTEPIECE_NAMESPACE_END
