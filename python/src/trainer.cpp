// SPDX-License-Identifier: Apache-2.0
// bytepiece_cpp.Trainer: the reference's Trainer (same constructor, train, save, pieces) on the
// C++ trainer. Texts are pulled from the Python iterable in batches while holding the GIL and
// trained on with the GIL released; the corpus is never held whole.
#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "bytepiece/detail/byte_size.hpp"
#include "bytepiece/trainer.hpp"

namespace bytepiece_py {

namespace {

constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

// A reference that may be dropped on a thread without the GIL (an exception unwinding out of
// the released section): its release takes the GIL.
class gil_safe_ref {
public:
    explicit gil_safe_ref(PyObject* p = nullptr) noexcept : p_(p) {}
    gil_safe_ref(const gil_safe_ref&) = delete;
    gil_safe_ref& operator=(const gil_safe_ref&) = delete;
    ~gil_safe_ref() { reset(nullptr); }
    PyObject* get() const noexcept { return p_; }
    PyObject* release() noexcept {
        PyObject* p = p_;
        p_ = nullptr;
        return p;
    }
    void reset(PyObject* p) {
        if (p_) {
            py::gil_scoped_acquire gil;
            Py_DECREF(p_);
        }
        p_ = p;
    }

private:
    PyObject* p_;
};

[[noreturn]] void bad_option(const std::string& message) {
    raise_error("TrainError", "train.2", "[bytepiece.train.2] trainer: " + message);
}

// A non-negative Python int (or __index__ object) for option `name`; a float is refused, as a
// count or a length in bytes has no fractional part.
std::uint64_t option_int(py::handle v, const char* name) {
    if (PyBool_Check(v.ptr()) || PyFloat_Check(v.ptr()) || !PyIndex_Check(v.ptr()))
        throw py::type_error(std::string("Trainer: ") + name + " must be an int, not " + Py_TYPE(v.ptr())->tp_name);
    py::int_ n = py::reinterpret_steal<py::int_>(PyNumber_Index(v.ptr()));
    if (!n) throw py::error_already_set();
    if (PyObject_RichCompareBool(n.ptr(), py::int_(0).ptr(), Py_LT) == 1)
        bad_option(std::string(name) + " must not be negative, got " + py::repr(n).cast<std::string>());
    const unsigned long long x = PyLong_AsUnsignedLongLong(n.ptr());
    if (x == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
        PyErr_Clear();
        bad_option(std::string(name) + " is too large: " + py::repr(n).cast<std::string>());
    }
    return static_cast<std::uint64_t>(x);
}

std::size_t option_size(py::handle v, const char* name) {
    const std::uint64_t x = option_int(v, name);
    if (x > std::numeric_limits<std::size_t>::max()) bad_option(std::string(name) + " is too large");
    return static_cast<std::size_t>(x);
}

const char* phase_label(bytepiece::train_phase p) {
    switch (p) {
        case bytepiece::train_phase::count_ngrams: return "Count Ngrams";
        case bytepiece::train_phase::prune_ngrams: return "Prune Ngrams";
        case bytepiece::train_phase::count_pieces: return "Count Pieces";
        case bytepiece::train_phase::prune_pieces: return "Prune Pieces";
    }
    return "";
}

// A progress line on stderr, redrawn in place at most ten times a second, one line per phase
// (and per pruning round). Runs without the GIL: it writes to the C stream.
class progress_line {
public:
    void operator()(const bytepiece::train_progress& p) {
        using clock = std::chrono::steady_clock;
        const auto now = clock::now();
        std::string label = phase_label(p.phase);
        if (p.phase == bytepiece::train_phase::prune_pieces)
            label += " #" + std::to_string(p.round) + " (" + std::string(p.step) + ")";
        if (label != label_) {
            end();
            label_ = label;
            start_ = now;
        }
        const bool finished = p.total != 0 && p.done >= p.total;
        if (!finished && shown_ && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const bool bytes = p.phase == bytepiece::train_phase::count_ngrams || p.phase == bytepiece::train_phase::count_pieces;
        const double secs = std::chrono::duration<double>(now - start_).count();
        char line[256];
        if (bytes)
            std::snprintf(line, sizeof line, "%.1f MB%s%.1f MB, %.1fs", static_cast<double>(p.done) / 1e6,
                          p.total ? " of " : "", p.total ? static_cast<double>(p.total) / 1e6 : 0.0, secs);
        else
            std::snprintf(line, sizeof line, "%llu/%llu, %.1fs", static_cast<unsigned long long>(p.done),
                          static_cast<unsigned long long>(p.total), secs);
        // " of 0.0 MB" is not shown when the total is unknown.
        std::string text = line;
        if (bytes && !p.total) text = text.substr(0, text.find("0.0 MB")) + text.substr(text.find("0.0 MB") + 6);
        std::fprintf(stderr, "\r%s: %s\033[K", label_.c_str(), text.c_str());
        std::fflush(stderr);
        shown_ = true;
        if (finished) end();
    }
    ~progress_line() { end(); }

private:
    void end() {
        if (shown_) {
            std::fputc('\n', stderr);
            std::fflush(stderr);
        }
        shown_ = false;
        label_.clear();
    }

    std::string label_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_, last_;
};

// Appends the UTF-8 form of a str to `out`. ASCII strings are read in place; others are encoded
// into a temporary, because PyUnicode_AsUTF8AndSize would keep a UTF-8 copy inside every
// string of the corpus for as long as the caller keeps it.
void append_utf8(PyObject* s, std::string& out) {
    if (PyUnicode_IS_ASCII(s)) {
        Py_ssize_t n = 0;
        const char* data = PyUnicode_AsUTF8AndSize(s, &n);
        if (!data) throw py::error_already_set();
        out.append(data, static_cast<std::size_t>(n));
        return;
    }
    py::object b = py::reinterpret_steal<py::object>(PyUnicode_AsUTF8String(s));
    if (!b) throw py::error_already_set();
    out.append(PyBytes_AS_STRING(b.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(b.ptr())));
}

// memory_limit: None or 0 (unbounded), bytes as an int, or a text as `bytepiece train --memory`
// takes it ("256M", "2G"); the same parser, so the same texts are accepted.
std::uint64_t memory_size(py::handle v) {
    if (v.is_none()) return 0;
    if (PyUnicode_Check(v.ptr())) {
        const std::string text = v.cast<std::string>();
        std::uint64_t n = 0;
        if (const char* why = bytepiece::detail::parse_byte_size(text, n))
            bad_option("memory_limit '" + text + "' " + why + " (give bytes as an int, or a text with a K, M or G suffix, at least 1M, e.g. '256M')");
        return n;
    }
    return option_int(v, "memory_limit");
}

// temp_dir: None (the default folder) or a path.
std::string folder_option(py::handle v) {
    if (v.is_none()) return std::string();
    py::object path = py::module_::import("os").attr("fspath")(v);
    if (!PyUnicode_Check(path.ptr())) throw py::type_error("Trainer: temp_dir must be a str path or None");
    return path.cast<std::string>();
}

struct py_trainer {
    std::size_t order = 6;
    std::vector<std::size_t> max_vocab_size{10000};  // largest first, as the reference stores it
    std::size_t max_piece_length = 36;               // `unlimited` for math.inf
    std::uint64_t min_count = 2;
    bool isolate_digits = false;
    bool ensure_unicode = true;
    std::uint64_t memory_limit = 0;  // 0: unbounded
    std::string temp_dir;            // empty: $TMPDIR, else /tmp

    std::shared_ptr<const bytepiece::trainer> trained;
    py::object pieces_cache;

    bytepiece::trainer_options options(unsigned threads) const {
        bytepiece::trainer_options o;
        o.order = order;
        o.max_vocab_size = max_vocab_size;
        o.max_piece_length = max_piece_length;
        o.min_count = min_count;
        o.isolate_digits = isolate_digits;
        o.ensure_unicode = ensure_unicode;
        o.threads = threads;
        o.memory_limit = memory_limit;
        o.temp_dir = temp_dir;
        return o;
    }

    // The C++ trainer's own checks, run now so that a bad option fails where it is set.
    void validate() const { bytepiece::trainer check(options(1)); }

    void set_vocab_sizes(py::handle v) {
        std::vector<std::size_t> sizes;
        if (PyList_Check(v.ptr()) || PyTuple_Check(v.ptr())) {
            for (py::handle x : py::reinterpret_borrow<py::sequence>(v)) sizes.push_back(option_size(x, "max_vocab_size"));
        } else {
            sizes.push_back(option_size(v, "max_vocab_size"));
        }
        std::sort(sizes.begin(), sizes.end(), std::greater<>());
        max_vocab_size = std::move(sizes);
    }

    void set_piece_length(py::handle v) {
        if (PyFloat_Check(v.ptr()) && std::isinf(PyFloat_AS_DOUBLE(v.ptr())) && PyFloat_AS_DOUBLE(v.ptr()) > 0)
            max_piece_length = unlimited;
        else
            max_piece_length = option_size(v, "max_piece_length");
    }

    void require_trained(const char* what) const {
        if (!trained) throw py::attribute_error(std::string("Trainer.") + what + ": the trainer has not been trained yet (call train() first)");
    }

    py::object pieces() {
        require_trained("pieces");
        if (!pieces_cache) {
            py::list out;
            for (const auto& model : trained->models()) {
                py::dict d;
                for (std::size_t id = bytepiece::model::first_piece_id; id < model.vocab_size(); ++id) {
                    const auto i = static_cast<bytepiece::model::id_type>(id);
                    const std::string_view p = model.piece(i);
                    d[py::bytes(p.data(), p.size())] = py::int_(model.count(i));
                }
                out.append(d);
            }
            pieces_cache = out;
        }
        return pieces_cache;
    }

    // Runs `body(trainer&)` without the GIL, with a progress line if `show`, Ctrl-C honoured
    // between batches, and keeps the trained trainer.
    template <class Body>
    void run(long long workers, py::object progress, Body&& body) {
        const unsigned threads = workers > 1 ? static_cast<unsigned>(std::min<long long>(workers, 1024)) : 1u;
        bool show = false;
        py::object err = py::module_::import("sys").attr("stderr");
        if (progress.is_none())
            show = !err.is_none() && py::hasattr(err, "isatty") && err.attr("isatty")().cast<bool>();
        else
            show = progress.cast<bool>();
        if (show && !err.is_none()) err.attr("flush")();
        bytepiece::trainer_options o = options(threads);
        auto line = std::make_shared<progress_line>();
        auto last_check = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
        // Reports come on the training thread: they draw the line and look for Ctrl-C.
        o.progress = [show, line, last_check](const bytepiece::train_progress& p) {
            if (show) (*line)(p);
            const auto now = std::chrono::steady_clock::now();
            if (now - *last_check < std::chrono::milliseconds(100)) return;
            *last_check = now;
            py::gil_scoped_acquire gil;
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        };
        std::shared_ptr<bytepiece::trainer> result;
        {
            py::gil_scoped_release release;
            result = std::make_shared<bytepiece::trainer>(std::move(o));
            body(*result);
        }
        trained = std::move(result);
        pieces_cache = py::object();
    }
};

// Hands the texts of a Python iterable to the C++ trainer: `batch` of them at a time are
// converted under the GIL, then given to the trainer without it.
void train_on_iterable(bytepiece::trainer& t, PyObject* texts, gil_safe_ref& first, std::size_t batch) {
    t.train_source([&](int pass, auto&& emit) {
        gil_safe_ref it;
        std::string buf;
        std::vector<std::size_t> ends;
        std::size_t index = 0;
        bool done = false;
        {
            py::gil_scoped_acquire gil;
            if (pass == 1) {
                it.reset(first.release());
            } else {
                PyObject* i = PyObject_GetIter(texts);
                if (!i) throw py::error_already_set();
                it.reset(i);
            }
        }
        while (!done) {
            buf.clear();
            ends.clear();
            {
                py::gil_scoped_acquire gil;
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();
                while (ends.size() < batch) {
                    PyObject* item = PyIter_Next(it.get());
                    if (!item) {
                        if (PyErr_Occurred()) throw py::error_already_set();
                        done = true;
                        break;
                    }
                    py::object text = py::reinterpret_steal<py::object>(item);
                    if (!PyUnicode_Check(item))
                        throw py::type_error("Trainer.train: the texts must be str; text " + std::to_string(index) + " is " +
                                             Py_TYPE(item)->tp_name);
                    append_utf8(item, buf);
                    ends.push_back(buf.size());
                    ++index;
                }
            }
            std::size_t start = 0;
            for (const std::size_t end : ends) {
                emit(std::string_view(buf.data() + start, end - start));
                start = end;
            }
        }
    });
}

}  // namespace

void bind_trainer(py::module_& m) {
    m.def(
        "_memory_size", [](py::handle v) { return memory_size(v); }, py::arg("value"),
        "memory_limit as bytes (None: 0), as Trainer reads it (for bytepiece_cpp.shards).");

    // The members carry Python signatures (the text before "--"), so that inspect.signature and
    // help() show the reference's parameters and defaults, not pybind11's C++ types.
    py::options signatures;
    signatures.disable_function_signatures();
    py::class_<py_trainer> cls(m, "Trainer", R"doc(Learns a BytePiece vocabulary from texts, as the reference's Trainer.

Trainer(order=6, max_vocab_size=10000, max_piece_length=36, min_count=2, isolate_digits=False,
ensure_unicode=True, memory_limit=None, temp_dir=None): the reference's options and defaults,
then two of this library's. max_vocab_size is an int or a list of ints (one model per size,
stored largest first); max_piece_length may be math.inf. memory_limit bounds the count tables
of training (bytes as an int, or a text as `bytepiece train --memory` takes it: '256M', '2G'):
they spill to sorted runs in a private folder under temp_dir (default $TMPDIR, else /tmp) and
the model is byte for byte the same (docs/memory_limit.md). An option out of range raises
TrainError (a ValueError, id "train.2"), a value of the wrong type TypeError.

train(texts, workers=1, batch_size=1000) trains on an iterable of str, which it goes over twice
(as the reference does); save(path) writes the model file(s) byte for byte as the reference
does. The models are the same for any number of workers.

Example:
    t = Trainer(max_vocab_size=8000, min_count=32)
    t.train(texts, workers=4)
    t.save('my.model'))doc");

    cls.def(py::init([](py::handle order, py::handle max_vocab_size, py::handle max_piece_length, py::handle min_count,
                        bool isolate_digits, bool ensure_unicode, py::handle memory_limit, py::handle temp_dir) {
                py_trainer t;
                t.order = option_size(order, "order");
                t.set_vocab_sizes(max_vocab_size);
                t.set_piece_length(max_piece_length);
                t.min_count = option_int(min_count, "min_count");
                t.isolate_digits = isolate_digits;
                t.ensure_unicode = ensure_unicode;
                t.memory_limit = memory_size(memory_limit);
                t.temp_dir = folder_option(temp_dir);
                t.validate();
                return t;
            }),
            py::arg("order") = 6, py::arg("max_vocab_size") = 10000, py::arg("max_piece_length") = 36,
            py::arg("min_count") = 2, py::arg("isolate_digits") = false, py::arg("ensure_unicode") = true,
            py::arg("memory_limit") = py::none(), py::arg("temp_dir") = py::none(),
            "__init__(self, order=6, max_vocab_size=10000, max_piece_length=36, min_count=2, isolate_digits=False, "
            "ensure_unicode=True, memory_limit=None, temp_dir=None)\n--\n\nChecks and keeps the options (see the class doc).");

    cls.def(
        "train",
        [](py_trainer& self, py::object texts, long long workers, long long batch_size, py::object progress) {
            if (PyUnicode_Check(texts.ptr()) || PyBytes_Check(texts.ptr()))
                throw py::type_error(std::string("Trainer.train: texts must be an iterable of str, not a single ") +
                                     Py_TYPE(texts.ptr())->tp_name + " (put it in a list)");
            if (batch_size < 1) bad_option("batch_size must be at least 1, got " + std::to_string(batch_size));
            self.validate();  // attributes may have been changed since the constructor
            // Pass 1 uses this iterator; pass 2 asks for a new one.
            gil_safe_ref first(PyObject_GetIter(texts.ptr()));
            if (!first.get()) throw py::error_already_set();
            if (first.get() == texts.ptr())
                throw py::type_error(
                    std::string("Trainer.train: texts is a one-shot iterator (") + Py_TYPE(texts.ptr())->tp_name +
                    "), but training goes over the texts twice, as the reference does (whose second pass would "
                    "find it empty and give a model of single bytes); pass a list, or an object whose __iter__ "
                    "starts over (for a file: a class whose __iter__ opens it again), or use train_files()");
            self.run(workers, progress, [&](bytepiece::trainer& t) {
                train_on_iterable(t, texts.ptr(), first, static_cast<std::size_t>(batch_size));
            });
        },
        py::arg("texts"), py::arg("workers") = 1, py::arg("batch_size") = 1000, py::arg("progress") = py::none(),
        R"doc(train(self, texts, workers=1, batch_size=1000, progress=None)
--

Trains on texts, an iterable of str that is gone over twice (n-gram counts, then pieces).

Each text is cut as normalize(text, 10000, isolate_digits) cuts it. The texts are streamed:
batch_size of them at a time are taken from the iterable, with the GIL released while they are
worked on. workers is the number of threads (the model does not depend on it). A one-shot
iterator (a generator, an open file) raises TypeError before any work: the reference would
train on an empty second pass; an iterable that gives other texts the second time raises
ArgumentError (a ValueError). progress: None (a line on stderr if it is a terminal), True or False.

Example: Trainer(max_vocab_size=1000).train(['some text\n', 'more text\n'] * 100, workers=2))doc");

    cls.def(
        "train_files",
        [](py_trainer& self, py::iterable files, long long workers, py::object progress) {
            if (PyUnicode_Check(files.ptr()) || PyBytes_Check(files.ptr()))
                throw py::type_error("Trainer.train_files: paths must be a list of file names, not a single name (put it in a list)");
            std::vector<std::string> paths;
            py::object fspath = py::module_::import("os").attr("fspath");
            for (py::handle f : files) paths.push_back(fspath(f).cast<std::string>());
            self.validate();
            self.run(workers, progress, [&](bytepiece::trainer& t) { t.train_files(paths); });
        },
        py::arg("paths"), py::arg("workers") = 1, py::arg("progress") = py::none(),
        R"doc(train_files(self, paths, workers=1, progress=None)
--

Trains on files, each one a text as if its whole content were passed to train().

Beyond the reference. Files are read twice; '-' is standard input (copied to a temporary file for
the second pass). Raises FileError (an OSError) for a file that cannot be read.

Example: t.train_files(['corpus.txt'], workers=2))doc");

    cls.def(
        "save",
        [](const py_trainer& self, py::object path) {
            self.require_trained("save");
            const std::string target = py::module_::import("os").attr("fspath")(path).cast<std::string>();
            std::shared_ptr<const bytepiece::trainer> t = self.trained;
            py::gil_scoped_release release;
            t->save(target);
        },
        py::arg("path"),
        R"doc(save(self, path)
--

Writes the model: to path for one vocabulary size, to path.<size> for each of several.

Byte for byte the reference's file (JSON, indent 4, ids from 3 in (length, bytes) order). Each
file is written whole to a temporary file and renamed; a failure leaves none of them.

Example: t.save('my.model'))doc");

    cls.def(
        "prune_pieces",
        [](const py_trainer& self, py::handle pieces, long long workers, long long) {
            std::vector<std::pair<std::string, std::uint64_t>> given;
            for (py::handle item : pieces.attr("items")()) {
                py::tuple kv = py::reinterpret_borrow<py::object>(item);
                given.emplace_back(std::string(bytes_view(kv[0], "a piece")), option_int(kv[1], "a piece count"));
            }
            bytepiece::trainer_options o = self.options(workers > 1 ? static_cast<unsigned>(std::min<long long>(workers, 1024)) : 1u);
            std::shared_ptr<bytepiece::trainer> t;
            {
                py::gil_scoped_release release;
                t = std::make_shared<bytepiece::trainer>(std::move(o));
                t->train_counts(std::move(given));
            }
            py_trainer view;
            view.trained = t;
            return view.pieces();
        },
        py::arg("pieces"), py::arg("workers") = 1, py::arg("batch_size") = 1000,
        R"doc(prune_pieces(self, pieces, workers=1, batch_size=1000)
--

The reference's pruning alone, on a dict of piece bytes -> count: single bytes added where
missing (count 1), pieces rarer than min_count or longer than max_piece_length split into the
others, pieces no piece encodes to removed, then the cut to each max_vocab_size. Returns one
dict per size, as `pieces` after train(). Does not change the trainer.

Example: Trainer(max_vocab_size=300, min_count=1).prune_pieces({b'ab': 5, b'abc': 1}))doc");

    cls.def(
        "dump",
        [](const py_trainer&, py::handle pieces) {
            std::vector<std::pair<std::string, py::object>> items;
            for (py::handle item : pieces.attr("items")()) {
                py::tuple kv = py::reinterpret_borrow<py::object>(item);
                items.emplace_back(std::string(bytes_view(kv[0], "a piece")), py::reinterpret_borrow<py::object>(kv[1]));
            }
            std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
                return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
            });
            py::object b64 = py::module_::import("base64").attr("b64encode");
            py::dict out;
            std::size_t id = bytepiece::model::first_piece_id;
            for (const auto& [piece, count] : items) {
                py::bytes raw(piece.data(), piece.size());
                py::str text = py::reinterpret_steal<py::str>(
                    PyUnicode_DecodeUTF8(piece.data(), static_cast<Py_ssize_t>(piece.size()), "ignore"));
                if (!text) throw py::error_already_set();
                py::list entry;
                entry.append(id++);
                entry.append(text);
                entry.append(count);
                out[b64(raw).attr("decode")()] = entry;
            }
            return out;
        },
        py::arg("pieces"),
        R"doc(dump(self, pieces)
--

The model dict of pieces (piece bytes -> count), as the reference writes it and as Tokenizer() takes it:
{base64(piece): [id, piece decoded as UTF-8 with errors dropped, count]}, ids from 3 in
(length, bytes) order.

Example: Tokenizer(t.dump(t.pieces[0])))doc");

    cls.def_property_readonly(
        "pieces", [](py_trainer& self) { return self.pieces(); },
        "The trained pieces: one dict (piece bytes -> count) per vocabulary size, in the order of max_vocab_size.");
    cls.def_property_readonly(
        "outcomes",
        [](const py_trainer& self) {
            self.require_trained("outcomes");
            py::list out;
            for (const auto& o : self.trained->outcomes()) {
                py::dict d;
                d["requested"] = o.requested;
                d["produced"] = o.produced;
                d["reason"] = o.reason == bytepiece::shortfall::none         ? "none"
                              : o.reason == bytepiece::shortfall::few_pieces ? "few_pieces"
                                                                             : "unused_after_cut";
                d["explanation"] = o.explanation;
                out.append(d);
            }
            return out;
        },
        "Per vocabulary size: the size asked for, the size produced and, when smaller, why (beyond the reference).");

    cls.def_property(
        "order", [](const py_trainer& self) { return self.order; },
        [](py_trainer& self, py::handle v) { self.order = option_size(v, "order"); });
    cls.def_property(
        "max_vocab_size",
        [](const py_trainer& self) {
            py::list out;
            for (std::size_t v : self.max_vocab_size) out.append(v);
            return out;
        },
        [](py_trainer& self, py::handle v) { self.set_vocab_sizes(v); },
        "The vocabulary sizes, largest first (an int given is stored as a one-element list).");
    cls.def_property(
        "max_piece_length",
        [](const py_trainer& self) -> py::object {
            if (self.max_piece_length == unlimited) return py::float_(std::numeric_limits<double>::infinity());
            return py::int_(self.max_piece_length);
        },
        [](py_trainer& self, py::handle v) { self.set_piece_length(v); });
    cls.def_property(
        "min_count", [](const py_trainer& self) { return self.min_count; },
        [](py_trainer& self, py::handle v) { self.min_count = option_int(v, "min_count"); });
    cls.def_readwrite("isolate_digits", &py_trainer::isolate_digits);
    cls.def_readwrite("ensure_unicode", &py_trainer::ensure_unicode);
    cls.def_property(
        "memory_limit", [](const py_trainer& self) { return self.memory_limit; },
        [](py_trainer& self, py::handle v) { self.memory_limit = memory_size(v); },
        "The bound on the count tables in bytes, 0 for none (set: an int, a text such as '256M', or None).");
    cls.def_property(
        "temp_dir", [](const py_trainer& self) -> py::object { return self.temp_dir.empty() ? py::object(py::none()) : py::str(self.temp_dir); },
        [](py_trainer& self, py::handle v) { self.temp_dir = folder_option(v); },
        "Where memory_limit spills its runs (None: $TMPDIR, else /tmp).");
    cls.def("__repr__", [](const py_trainer& self) {
        std::string sizes;
        for (std::size_t v : self.max_vocab_size) sizes += (sizes.empty() ? "" : ", ") + std::to_string(v);
        return "Trainer(order=" + std::to_string(self.order) + ", max_vocab_size=[" + sizes + "], max_piece_length=" +
               (self.max_piece_length == unlimited ? std::string("inf") : std::to_string(self.max_piece_length)) +
               ", min_count=" + std::to_string(self.min_count) + ", isolate_digits=" +
               (self.isolate_digits ? "True" : "False") + ", ensure_unicode=" + (self.ensure_unicode ? "True" : "False") +
               (self.memory_limit ? ", memory_limit=" + std::to_string(self.memory_limit) : std::string()) +
               (self.temp_dir.empty() ? std::string() : ", temp_dir=" + py::repr(py::str(self.temp_dir)).cast<std::string>()) + ")";
    });
}

}  // namespace bytepiece_py
