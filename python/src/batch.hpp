// SPDX-License-Identifier: Apache-2.0
// Machinery the tokenizer bindings share: Python sequences of texts as string views, thread
// pools reused across calls, batches run with the GIL released, and flat id buffers turned
// into Python lists or NumPy arrays.
#pragma once

#include <pybind11/numpy.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "bytepiece/batch.hpp"
#include "bytepiece/random.hpp"

namespace bytepiece_py {

using id_type = std::uint32_t;

/// A batch's ids in one buffer: text i's are ids[offsets[i], offsets[i+1]).
struct flat_ids {
    std::vector<id_type> ids;
    std::vector<std::size_t> offsets{0};
};

/// The texts of a Python iterable of `str` as UTF-8 views. `keep` holds the objects (a list
/// made from any iterable, or the list/tuple itself), so the views stay valid while it lives.
struct text_batch {
    py::object keep;
    std::vector<std::string_view> views;
    std::size_t bytes = 0;
};
text_batch collect_texts(py::handle texts);

/// A thread pool of a given size borrowed from a process-wide cache for one batch call, so
/// that threads are made once, not per call; two calls at once get two pools. `threads` 0 or
/// None means one per hardware thread.
class pool_lease {
public:
    explicit pool_lease(std::size_t threads);
    ~pool_lease();
    pool_lease(const pool_lease&) = delete;
    pool_lease& operator=(const pool_lease&) = delete;
    bytepiece::thread_pool& pool() { return *pool_; }

private:
    std::unique_ptr<bytepiece::thread_pool> pool_;
};

/// The thread count a `threads=` argument asks for (None: every hardware thread). Raises
/// ValueError for a negative count.
std::size_t thread_count(const py::object& threads);

/// A Python list of ints.
py::list to_list(const id_type* ids, std::size_t n);

/// A batch as a list of lists of ints, or with `numpy` as the tuple (ids, offsets): a uint32
/// array of all ids and an int64 array of len(texts) + 1 offsets into it. The buffers are
/// moved into the arrays, not copied.
py::object batch_to_python(flat_ids&& r, bool numpy);

/// Runs `encode(first, last, out_ids, out_counts)` over contiguous ranges of `texts` of about
/// equal bytes on `pool`, then joins their results in text order. `encode` appends the ids of
/// texts [first, last) and each text's id count; it runs without the GIL.
template <class F>
flat_ids run_ranges(const std::vector<std::string_view>& texts, std::size_t total_bytes, bytepiece::thread_pool& pool,
                    F&& encode) {
    const std::size_t n = texts.size();
    const std::size_t tasks_wanted = pool.size() == 1 ? 1 : pool.size() * 4;
    const std::size_t target = std::max<std::size_t>(16 * 1024, total_bytes / std::max<std::size_t>(1, tasks_wanted));
    std::vector<std::size_t> bounds{0};
    for (std::size_t i = 0, filled = 0; i < n; ++i) {
        filled += texts[i].size() + 16;  // a text costs something even when empty
        if (filled >= target && i + 1 < n) {
            bounds.push_back(i + 1);
            filled = 0;
        }
    }
    bounds.push_back(n);
    const std::size_t tasks = bounds.size() - 1;
    std::vector<std::vector<id_type>> ids(tasks);
    std::vector<std::vector<std::size_t>> counts(tasks);
    pool.parallel_for(tasks, [&](std::size_t k) { encode(bounds[k], bounds[k + 1], ids[k], counts[k]); });
    flat_ids r;
    std::size_t total = 0;
    for (const auto& v : ids) total += v.size();
    r.ids.reserve(total);
    r.offsets.reserve(n + 1);
    for (std::size_t k = 0; k < tasks; ++k) {
        r.ids.insert(r.ids.end(), ids[k].begin(), ids[k].end());
        for (std::size_t c : counts[k]) r.offsets.push_back(r.offsets.back() + c);
    }
    return r;
}

/// Puts `bos` before and `eos` after every text's ids of `r` (when asked).
void add_bos_eos(flat_ids& r, bool add_bos, id_type bos, bool add_eos, id_type eos);

/// The ids of a Python sequence (or iterable) of ints, or of a NumPy integer array, each through
/// `accept(value, item)` which returns whether to keep it (for ids that are skipped) and raises
/// for bad ones; `item` is the Python object (null for an array element: make one from the
/// value). Values beyond the range of `long long` go to `accept` as LLONG_MAX/LLONG_MIN.
template <class Accept>
std::vector<id_type> collect_ids(py::handle ids, Accept&& accept) {
    std::vector<id_type> out;
    if (py::isinstance<py::array>(ids)) {
        const py::array a = py::reinterpret_borrow<py::array>(ids);
        const char kind = a.dtype().kind();
        if ((kind == 'i' || kind == 'u') && a.ndim() == 1) {
            // Read as int64 (uint64 values above 2^63 cannot be ids anyway: clamped).
            const auto v = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(ids);
            if (!v) throw py::error_already_set();
            const long long* p = v.data();
            const std::size_t n = static_cast<std::size_t>(v.size());
            out.reserve(n);
            for (std::size_t i = 0; i < n; ++i)
                if (accept(p[i], nullptr)) out.push_back(static_cast<id_type>(p[i]));
            return out;
        }
    }
    py::object seq = py::reinterpret_steal<py::object>(PySequence_Fast(ids.ptr(), "ids must be an iterable of ints"));
    if (!seq) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
    PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
    out.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* item = items[i];
        long long v;
        if (PyLong_CheckExact(item)) {
            int overflow = 0;
            v = PyLong_AsLongLongAndOverflow(item, &overflow);
            if (overflow) v = overflow > 0 ? LLONG_MAX : LLONG_MIN;
        } else {
            py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(item));
            if (!index) throw py::error_already_set();
            int overflow = 0;
            v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
            if (overflow) v = overflow > 0 ? LLONG_MAX : LLONG_MIN;
        }
        if (accept(v, item)) out.push_back(static_cast<id_type>(v));
    }
    return out;
}

/// The generator behind the reference's process-wide C `rand()`: `set_seed` and
/// `Tokenizer(seed=)` reseed it, as they call `srand`. Use it only with the GIL held, which
/// serializes it.
bytepiece::splitmix64& global_generator();

/// A seed argument as an unsigned 64-bit value (OverflowError if negative or too large).
std::uint64_t seed_value(const py::handle& seed);

/// Reseeds global_generator() unless `seed` is None.
void set_global_seed(const py::object& seed);

/// The seed of a batch: the one given, else one drawn from global_generator(), so that
/// set_seed makes batches reproducible too.
std::uint64_t batch_seed(const py::object& seed);

/// Text `index` of a batch samples from splitmix64(seed) advanced by index * 2^40: disjoint
/// streams, so that its ids depend on the seed and its index only, not on the threads.
bytepiece::splitmix64 text_generator(std::uint64_t seed, std::size_t index);

/// A `str` from UTF-8 bytes, with invalid sequences handled as `errors` says ("ignore",
/// "replace", "strict", "surrogateescape").
py::str decode_utf8(std::string_view bytes, const char* errors);

}  // namespace bytepiece_py
