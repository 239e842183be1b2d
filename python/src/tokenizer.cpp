// SPDX-License-Identifier: Apache-2.0
// bytepiece_cpp.Tokenizer (the reference's Tokenizer on bytepiece::tokenizer, plus batches,
// sampling, lattice functions, the binary format and pickling), bytepiece_cpp.Sampler, and the
// batch machinery of batch.hpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <pybind11/eval.h>

#include "batch.hpp"
#include "bindings.hpp"
#include "bytepiece/lattice.hpp"
#include "bytepiece/sampler.hpp"
#include "bytepiece/tokenizer.hpp"

namespace bytepiece_py {

using tokenizer = bytepiece::tokenizer;

// ---------------------------------------------------------------------------------------------
// batch.hpp

text_batch collect_texts(py::handle texts) {
    if (PyUnicode_Check(texts.ptr()) || PyBytes_Check(texts.ptr()))
        throw py::type_error("texts must be an iterable of str, not a single " +
                             std::string(Py_TYPE(texts.ptr())->tp_name));
    text_batch b;
    b.keep = py::reinterpret_steal<py::object>(PySequence_Fast(texts.ptr(), "texts must be an iterable of str"));
    if (!b.keep) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(b.keep.ptr());
    PyObject** items = PySequence_Fast_ITEMS(b.keep.ptr());
    b.views.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
        b.views.push_back(utf8_view(items[i], "each text"));
        b.bytes += b.views.back().size();
    }
    return b;
}

namespace {

struct pool_cache {
    std::mutex mutex;
    std::vector<std::unique_ptr<bytepiece::thread_pool>> idle;
};
pool_cache& pools() {
    // Never destroyed: worker threads must not be joined while the interpreter shuts down.
    static pool_cache* c = new pool_cache;
    return *c;
}

}  // namespace

pool_lease::pool_lease(std::size_t threads) {
    if (threads == 0) threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
    pool_cache& c = pools();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        for (auto it = c.idle.begin(); it != c.idle.end(); ++it)
            if ((*it)->size() == threads) {
                pool_ = std::move(*it);
                c.idle.erase(it);
                return;
            }
    }
    pool_ = std::make_unique<bytepiece::thread_pool>(threads);
}

pool_lease::~pool_lease() {
    if (pool_->size() == 1) return;  // no threads to keep
    pool_cache& c = pools();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.idle.size() < 4) c.idle.push_back(std::move(pool_));
}

std::size_t thread_count(const py::object& threads) {
    if (threads.is_none()) return 0;
    const long long n = threads.cast<long long>();
    if (n < 0) throw py::value_error("threads must be >= 0 (0 or None: one per hardware thread)");
    return static_cast<std::size_t>(n);
}

// A new reference to the Python int `id`. Ids are made into ints once each and kept: a list of
// ids then costs a reference count per id rather than an allocation, which was most of the
// time of a list-returning encode on short texts. Python itself keeps 0..256 this way. Called
// with the GIL held, which guards the table; ids of 2^20 and above (no vocabulary is that large)
// are made each time.
PyObject* id_object(id_type id) {
    static std::vector<PyObject*> made;
    constexpr id_type kept = id_type{1} << 20;
    if (id >= kept) return PyLong_FromUnsignedLong(id);
    if (id >= made.size()) made.resize(std::min<std::size_t>(kept, std::max<std::size_t>(std::size_t{id} + 1, made.size() * 2)), nullptr);
    PyObject*& slot = made[id];
    if (!slot) {
        slot = PyLong_FromUnsignedLong(id);
        if (!slot) return nullptr;
    }
    Py_INCREF(slot);
    return slot;
}

py::list to_list(const id_type* ids, std::size_t n) {
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(n));
    if (!list) throw py::error_already_set();
    py::list result = py::reinterpret_steal<py::list>(list);
    for (std::size_t i = 0; i < n; ++i) {
        PyObject* v = id_object(ids[i]);
        if (!v) throw py::error_already_set();
        PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), v);
    }
    return result;
}

py::object batch_to_python(flat_ids&& r, bool numpy) {
    const std::size_t n = r.offsets.size() - 1;
    if (numpy) {
        auto* ids = new std::vector<id_type>(std::move(r.ids));
        py::capsule ids_owner(ids, [](void* p) { delete static_cast<std::vector<id_type>*>(p); });
        py::array_t<id_type> ids_array({ids->size()}, {sizeof(id_type)}, ids->data(), ids_owner);
        auto* offsets = new std::vector<std::int64_t>(r.offsets.begin(), r.offsets.end());
        py::capsule offsets_owner(offsets, [](void* p) { delete static_cast<std::vector<std::int64_t>*>(p); });
        py::array_t<std::int64_t> offsets_array({offsets->size()}, {sizeof(std::int64_t)}, offsets->data(),
                                                offsets_owner);
        return py::make_tuple(ids_array, offsets_array);
    }
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(n));
    if (!list) throw py::error_already_set();
    py::list result = py::reinterpret_steal<py::list>(list);
    for (std::size_t i = 0; i < n; ++i)
        PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i),
                        to_list(r.ids.data() + r.offsets[i], r.offsets[i + 1] - r.offsets[i]).release().ptr());
    return result;
}

void add_bos_eos(flat_ids& r, bool add_bos, id_type bos, bool add_eos, id_type eos) {
    if (!add_bos && !add_eos) return;
    const std::size_t n = r.offsets.size() - 1;
    const std::size_t extra = n * (static_cast<std::size_t>(add_bos) + static_cast<std::size_t>(add_eos));
    std::vector<id_type> ids;
    ids.reserve(r.ids.size() + extra);
    std::vector<std::size_t> offsets{0};
    offsets.reserve(n + 1);
    for (std::size_t i = 0; i < n; ++i) {
        if (add_bos) ids.push_back(bos);
        ids.insert(ids.end(), r.ids.begin() + static_cast<std::ptrdiff_t>(r.offsets[i]),
                   r.ids.begin() + static_cast<std::ptrdiff_t>(r.offsets[i + 1]));
        if (add_eos) ids.push_back(eos);
        offsets.push_back(ids.size());
    }
    r.ids = std::move(ids);
    r.offsets = std::move(offsets);
}

py::str decode_utf8(std::string_view bytes, const char* errors) {
    PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), errors);
    if (!s) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(s);
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

bytepiece::splitmix64& global_generator() {
    static bytepiece::splitmix64 g([] {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }());
    return g;
}

std::uint64_t seed_value(const py::handle& seed) {
    py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(seed.ptr()));
    if (!index) throw py::error_already_set();
    const unsigned long long v = PyLong_AsUnsignedLongLong(index.ptr());
    if (PyErr_Occurred()) throw py::error_already_set();  // negative or too large: OverflowError
    return v;
}

void set_global_seed(const py::object& seed) {
    if (!seed.is_none()) global_generator().seed(seed_value(seed));
}

std::uint64_t batch_seed(const py::object& seed) {
    return seed.is_none() ? global_generator()() : seed_value(seed);
}

bytepiece::splitmix64 text_generator(std::uint64_t seed, std::size_t index) {
    bytepiece::splitmix64 g(seed);
    g.discard(static_cast<std::uint64_t>(index) << 40);
    return g;
}


namespace {

// Texts at least this long are encoded with the GIL released; for shorter ones releasing and
// taking it back costs more than it frees.
constexpr std::size_t release_gil_bytes = 16 * 1024;

tokenizer make_tokenizer(py::handle pieces) {
    if (PyUnicode_Check(pieces.ptr())) return tokenizer::load(pieces.cast<std::string>());
    if (py::isinstance(pieces, py::module_::import("os").attr("PathLike")))
        return tokenizer::load(py::str(py::module_::import("os").attr("fspath")(pieces)).cast<std::string>());
    if (!PyDict_Check(pieces.ptr()))
        throw py::type_error("pieces must be a model path (str) or the model dict, not " +
                             std::string(Py_TYPE(pieces.ptr())->tp_name));
    // The parsed model dict: serialized again and read by the same validating reader as files.
    const std::string json = py::module_::import("json").attr("dumps")(pieces).cast<std::string>();
    return tokenizer(bytepiece::model::from_json(json, "<dict>"));
}

// The reference's KeyError for an unknown piece or id: its only argument is the key.
[[noreturn]] void raise_key_error(py::handle key) {
    py::object e = error_class("DecodeError")(key);
    e.attr("id") = "decode.1";
    e.attr("code") = 301;
    PyErr_SetObject(error_class("DecodeError").ptr(), e.ptr());
    throw py::error_already_set();
}

// The encoding of one text with the reference's arguments, ids only.
void encode_ids(const tokenizer& tok, std::string_view text, bool add_bos, bool add_eos, double alpha,
                std::vector<id_type>& ids) {
    if (add_bos) ids.push_back(tokenizer::model_type::bos_id);
    if (alpha < 0) {  // NaN goes to the sampler, which refuses it
        if (text.size() >= release_gil_bytes) {
            py::gil_scoped_release release;
            tok.encode(text, ids);
        } else {
            tok.encode(text, ids);
        }
    } else {
        const bytepiece::sampler s(tok, alpha);
        s.sample(text, global_generator(), ids);
    }
    if (add_eos) ids.push_back(tokenizer::model_type::eos_id);
}

std::vector<id_type> encode_ids(const tokenizer& tok, std::string_view text, bool add_bos, bool add_eos, double alpha) {
    std::vector<id_type> ids;
    encode_ids(tok, text, add_bos, add_eos, alpha, ids);
    return ids;
}

py::bytes piece_bytes(const tokenizer& tok, id_type id) {
    const std::string_view p = tok.model().piece(id);
    return py::bytes(p.data(), p.size());
}

py::object piece_object(const tokenizer& tok, id_type id) {
    if (id < tokenizer::model_type::first_piece_id) return py::str(std::string(tok.id_to_piece(id)));
    return piece_bytes(tok, id);
}

py::list pieces_of(const tokenizer& tok, const std::vector<id_type>& ids) {
    py::list out(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) out[i] = piece_object(tok, ids[i]);
    return out;
}

py::object chain_of(py::list items) { return py::module_::import("itertools").attr("chain")(items); }

py::object generator_of(py::list items) {
    // A real generator, as the reference's encode(iter=True) returns.
    static PyObject* make = [] {
        py::dict ns;
        py::exec("def _generator(items):\n    yield from items\n", ns);
        return py::object(ns["_generator"]).release().ptr();
    }();
    return py::reinterpret_borrow<py::object>(make)(items);
}

// raise_key_error for an id from collect_ids (`item` null: an array element, made an int here).
[[noreturn]] void raise_bad_id(PyObject* item, long long value) {
    if (item) raise_key_error(item);
    raise_key_error(py::int_(value));
}

long long id_of(py::handle i) {
    py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(i.ptr()));
    if (!index) {
        PyErr_Clear();
        raise_key_error(i);
    }
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (overflow) raise_key_error(i);
    return v;
}

py::object id_to_piece(const tokenizer& tok, py::handle i) {
    const long long v = id_of(i);
    if (v < 0 || static_cast<unsigned long long>(v) >= tok.vocab_size()) raise_key_error(i);
    return piece_object(tok, static_cast<id_type>(v));
}

id_type piece_to_id(const tokenizer& tok, py::handle p) {
    if (PyBytes_Check(p.ptr())) {
        const auto id = tok.piece_to_id(bytes_view(p));
        // "<pad>" and friends are str keys in the reference, never bytes.
        if (id && *id >= tokenizer::model_type::first_piece_id) return *id;
    } else if (PyUnicode_Check(p.ptr())) {
        const std::string_view s = utf8_view(p);
        if (s == "<pad>") return tokenizer::model_type::pad_id;
        if (s == "<bos>") return tokenizer::model_type::bos_id;
        if (s == "<eos>") return tokenizer::model_type::eos_id;
    }
    raise_key_error(p);
}

std::vector<id_type> decode_ids(const tokenizer& tok, py::handle ids) {
    const long long vocab = static_cast<long long>(tok.vocab_size());
    return collect_ids(ids, [&](long long v, PyObject* item) {
        if (v <= 2) return false;  // the reference skips ids <= 2, negative ones too
        if (v >= vocab) raise_bad_id(item, v);
        return true;
    });
}

std::string decode_bytes(const tokenizer& tok, const std::vector<id_type>& ids) {
    std::string bytes;
    for (id_type id : ids) bytes += tok.model().piece(id);
    return bytes;
}

flat_ids sample_batch(const bytepiece::sampler& s, const text_batch& b, std::size_t threads, std::uint64_t seed) {
    py::gil_scoped_release release;
    pool_lease lease(threads);
    return run_ranges(b.views, b.bytes, lease.pool(),
                      [&](std::size_t first, std::size_t last, std::vector<id_type>& ids, std::vector<std::size_t>& counts) {
                          for (std::size_t i = first; i < last; ++i) {
                              const std::size_t before = ids.size();
                              bytepiece::splitmix64 g = text_generator(seed, i);
                              s.sample(b.views[i], g, ids);
                              counts.push_back(ids.size() - before);
                          }
                      });
}

flat_ids encode_batch(const tokenizer& tok, py::handle texts, bool add_bos, bool add_eos, double alpha,
                      const py::object& seed, const py::object& threads) {
    const text_batch b = collect_texts(texts);
    const std::size_t n_threads = thread_count(threads);
    flat_ids r;
    if (!(alpha < 0)) {  // NaN included: the sampler refuses it
        const std::uint64_t s = batch_seed(seed);
        const bytepiece::sampler sampler(tok, alpha);
        r = sample_batch(sampler, b, n_threads, s);
    } else {
        py::gil_scoped_release release;
        pool_lease lease(n_threads);
        bytepiece::batch_result br = bytepiece::encode_batch(tok, b.views, lease.pool());
        r.ids = std::move(br.ids);
        r.offsets = std::move(br.offsets);
    }
    add_bos_eos(r, add_bos, tokenizer::model_type::bos_id, add_eos, tokenizer::model_type::eos_id);
    return r;
}

py::list pieces_batch(const tokenizer& tok, const flat_ids& r) {
    const std::size_t n = r.offsets.size() - 1;
    py::list out(n);
    for (std::size_t i = 0; i < n; ++i) {
        py::list pieces(r.offsets[i + 1] - r.offsets[i]);
        for (std::size_t k = r.offsets[i]; k < r.offsets[i + 1]; ++k)
            pieces[k - r.offsets[i]] = piece_object(tok, r.ids[k]);
        out[i] = pieces;
    }
    return out;
}

// The Sampler: a tokenizer, an alpha and a generator of its own.
struct py_sampler {
    py::object owner;  // the Tokenizer, kept alive as long as the sampler refers to it
    bytepiece::sampler sampler;
    bytepiece::splitmix64 generator;

    py_sampler(py::object tok, double alpha, std::uint64_t seed)
        : owner(std::move(tok)), sampler(owner.cast<const tokenizer&>(), alpha), generator(seed) {}
};

// Tokenizer.encode, the per-call hot path, as a vectorcall method: pybind11's generic argument
// dispatch costs about as much as encoding a short line, so the arguments are parsed here
// directly (same names, defaults and truthiness as the reference's Python function).
PyObject* fast_encode(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"text", "add_bos", "add_eos", "alpha", "iter"};
    constexpr Py_ssize_t n_names = 5;
    PyObject* values[n_names] = {nullptr, nullptr, nullptr, nullptr, nullptr};
    if (nargs > n_names) {
        PyErr_Format(PyExc_TypeError, "encode() takes at most 5 arguments (%zd given)", nargs);
        return nullptr;
    }
    for (Py_ssize_t i = 0; i < nargs; ++i) values[i] = args[i];
    const Py_ssize_t n_kw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < n_kw; ++k) {
        PyObject* name = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t slot = -1;
        for (Py_ssize_t j = 0; j < n_names; ++j)
            if (PyUnicode_CompareWithASCIIString(name, names[j]) == 0) slot = j;
        if (slot < 0) {
            PyErr_Format(PyExc_TypeError, "encode() got an unexpected keyword argument '%U'", name);
            return nullptr;
        }
        if (values[slot]) {
            PyErr_Format(PyExc_TypeError, "encode() got multiple values for argument '%s'", names[slot]);
            return nullptr;
        }
        values[slot] = args[nargs + k];
    }
    if (!values[0]) {
        PyErr_SetString(PyExc_TypeError, "encode() missing required argument: 'text'");
        return nullptr;
    }
    auto truth = [](PyObject* v, int& out) {
        out = v ? PyObject_IsTrue(v) : 0;
        return out >= 0;
    };
    int add_bos = 0, add_eos = 0, iter = 0;
    if (!truth(values[1], add_bos) || !truth(values[2], add_eos) || !truth(values[4], iter)) return nullptr;
    double alpha = -1;
    if (values[3]) {
        alpha = PyFloat_AsDouble(values[3]);
        if (alpha == -1.0 && PyErr_Occurred()) return nullptr;
    }
    try {
        const tokenizer& tok = py::handle(self).cast<const tokenizer&>();
        static thread_local std::vector<id_type> ids;
        ids.clear();
        encode_ids(tok, utf8_view(values[0]), add_bos != 0, add_eos != 0, alpha, ids);
        py::list list = to_list(ids.data(), ids.size());
        if (ids.capacity() > (1u << 20)) std::vector<id_type>().swap(ids);  // keep no huge buffer
        if (iter) return generator_of(list).release().ptr();
        return list.release().ptr();
    } catch (...) {
        set_python_error(std::current_exception());
        return nullptr;
    }
}

std::string tokenizer_repr(const tokenizer& tok) {
    return "<bytepiece_cpp.Tokenizer vocab_size=" + std::to_string(tok.vocab_size()) + ">";
}

}  // namespace

void bind_tokenizer(py::module_& m) {
    using namespace pybind11::literals;
    py::class_<tokenizer> cls(m, "Tokenizer", R"doc(A BytePiece tokenizer: a drop-in for ``bytepiece.Tokenizer``.

``Tokenizer(pieces, seed=None)``: ``pieces`` is the path of a model file (BytePiece JSON, or the
binary format of ``save_binary``) or the model dict ``{base64(piece): [id, text, count]}``;
``seed``, if given, reseeds the process-wide generator of sampling (as the reference's srand).

Pieces are ``bytes``; the special pieces of ids 0, 1, 2 are the ``str`` ``'<pad>'``, ``'<bos>'``,
``'<eos>'``. Unknown ids and pieces raise ``DecodeError``, a ``KeyError``; ``bytes`` text raises
``TypeError``, as in the reference.

Thread safety: every method may be called from several threads at once on one Tokenizer. The
batch methods and long texts release the GIL while they encode, so threads run in parallel.
Sampling without an explicit seed draws from one process-wide generator (guarded by the GIL).)doc");
    {
    // The reference's members carry Python signatures (the text before "--"), so that
    // inspect.signature and help() show them exactly as the reference declares them. Plain
    // `self`, not `$self`: pybind11's functions look bound to inspect, which would then drop
    // `$self` and, for an instance's method, the first real parameter too.
    py::options reference_signatures;
    reference_signatures.disable_function_signatures();
    cls.def(py::init([](py::handle pieces, py::object seed) {
                tokenizer tok = make_tokenizer(pieces);
                set_global_seed(seed);
                return tok;
            }),
            "pieces"_a, "seed"_a = py::none(), "__init__(self, pieces, seed=None)\n--\n\nLoads a model (see the class doc).")
        .def_property_readonly("vocab_size", &tokenizer::vocab_size,
                               "Number of ids: the pieces plus the three special ids 0, 1, 2.")
        .def("set_seed", [](const tokenizer&, py::object seed) { set_global_seed(seed); }, "seed"_a,
             "set_seed(self, seed)\n--\n\n"
             "Reseeds the process-wide generator sampling draws from (alpha >= 0), if seed is not None, as the "
             "reference's srand: the same seed gives the same samples.")
        .def(
            "tokenize",
            [](const tokenizer& tok, py::handle text, double alpha, bool iter) -> py::object {
                py::list pieces = pieces_of(tok, encode_ids(tok, utf8_view(text), false, false, alpha));
                if (iter) return chain_of(pieces);
                return std::move(pieces);
            },
            "text"_a, "alpha"_a = -1.0, "iter"_a = false,
            "tokenize(self, text, alpha=-1, iter=False)\n--\n\n"
            "The pieces (bytes) of text: NFC, cut into chunks (a line with the newlines after it), each chunk "
            "segmented with the best score (alpha < 0) or drawn at random with weights exp(alpha * score) "
            "(alpha >= 0). iter=True returns an iterator.")
        .def(
            "decode",
            [](const tokenizer& tok, py::handle ids) {
                return decode_utf8(decode_bytes(tok, decode_ids(tok, ids)), "ignore");
            },
            "ids"_a,
            "decode(self, ids)\n--\n\n"
            "The text of ids: ids <= 2 skipped, the pieces joined and decoded as UTF-8 with errors='ignore'. "
            "An unknown id raises DecodeError (a KeyError).")
        .def("piece_to_id", &piece_to_id, "p"_a,
             "piece_to_id(self, p)\n--\n\n"
             "The id of a piece (bytes) or of '<pad>', '<bos>', '<eos>' (str). Unknown: DecodeError (a KeyError).")
        .def("id_to_piece", &id_to_piece, "i"_a,
             "id_to_piece(self, i)\n--\n\n"
             "The piece of an id: bytes for ids >= 3, '<pad>', '<bos>', '<eos>' for 0, 1, 2. Unknown: DecodeError "
             "(a KeyError).")
        .def(
            "pieces_to_ids",
            [](const tokenizer& tok, py::iterable pieces) {
                py::list out;
                for (py::handle p : pieces) out.append(piece_to_id(tok, p));
                return out;
            },
            "pieces"_a, "pieces_to_ids(self, pieces)\n--\n\n[piece_to_id(p) for p in pieces]")
        .def(
            "ids_to_pieces",
            [](const tokenizer& tok, py::iterable ids) {
                py::list out;
                for (py::handle i : ids) out.append(id_to_piece(tok, i));
                return out;
            },
            "ids"_a, "ids_to_pieces(self, ids)\n--\n\n[id_to_piece(i) for i in ids]")
        .def(
            "convert_to_sentencepiece",
            [](py::object self, py::object path) {
                py::module_::import("bytepiece_cpp._convert").attr("convert_to_sentencepiece")(self, path);
            },
            "path"_a,
            "convert_to_sentencepiece(self, path)\n--\n\n"
            "Writes the model as a SentencePiece ModelProto, as the reference does: <unk>, <s>, </s> at ids 0-2, "
            "every piece at its id with its score (spaces as U+2581), single bytes as BYTE pieces <0xXX>, byte "
            "fallback on, identity normalizer. Raises UnicodeDecodeError for a multi-byte piece that is not "
            "UTF-8. Does not need the sentencepiece package.")
        ;
    }
    {
        static PyMethodDef encode_def = {
            "encode", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast_encode)),
            METH_FASTCALL | METH_KEYWORDS,
            "encode($self, /, text, add_bos=False, add_eos=False, alpha=-1, iter=False)\n--\n\n"
            "The ids of tokenize(text, alpha), with 1 (<bos>) in front and 2 (<eos>) at the end if asked. "
            "iter=True returns a generator."};
        py::object descr = py::reinterpret_steal<py::object>(
            PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &encode_def));
        if (!descr) throw py::error_already_set();
        cls.attr("encode") = descr;
    }
    // Beyond the reference.
    cls.def(
            "encode_batch",
            [](const tokenizer& tok, py::handle texts, bool add_bos, bool add_eos, double alpha, py::object seed,
               py::object threads, bool numpy) {
                return batch_to_python(encode_batch(tok, texts, add_bos, add_eos, alpha, seed, threads), numpy);
            },
            "texts"_a, "add_bos"_a = false, "add_eos"_a = false, "alpha"_a = -1.0, "seed"_a = py::none(),
            "threads"_a = py::none(), "numpy"_a = false,
            R"doc(encode() of every text of ``texts`` (an iterable of str), on ``threads`` threads
(None or 0: one per hardware thread) with the GIL released. Returns a list of lists of ids, or
with ``numpy=True`` the tuple ``(ids, offsets)``: a uint32 array of all ids and an int64 array
where text i's ids are ``ids[offsets[i]:offsets[i+1]]``. With ``alpha >= 0`` text i is sampled
from a generator seeded with ``seed`` and i, so the result depends on the seed only, not on the
threads (``seed=None`` draws a seed from the generator ``set_seed`` seeds).)doc")
        .def(
            "tokenize_batch",
            [](const tokenizer& tok, py::handle texts, double alpha, py::object seed, py::object threads) {
                const flat_ids r = encode_batch(tok, texts, false, false, alpha, seed, threads);
                return pieces_batch(tok, r);
            },
            "texts"_a, "alpha"_a = -1.0, "seed"_a = py::none(), "threads"_a = py::none(),
            "tokenize() of every text, as encode_batch: a list of lists of pieces.")
        .def(
            "decode_batch",
            [](const tokenizer& tok, py::iterable batch, py::object threads) {
                std::vector<std::vector<id_type>> ids;
                for (py::handle one : batch) ids.push_back(decode_ids(tok, one));
                std::vector<std::string> bytes(ids.size());
                {
                    py::gil_scoped_release release;
                    pool_lease lease(thread_count(threads));
                    lease.pool().parallel_for(ids.size(), [&](std::size_t i) { bytes[i] = decode_bytes(tok, ids[i]); });
                }
                py::list out(bytes.size());
                for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = decode_utf8(bytes[i], "ignore");
                return out;
            },
            "batch"_a, "threads"_a = py::none(), "decode() of every sequence of ids in batch.")
        .def(
            "nbest",
            [](const tokenizer& tok, py::handle text, std::size_t k) {
                const std::string_view t = utf8_view(text);
                std::vector<bytepiece::scored_segmentation<id_type>> best;
                {
                    py::gil_scoped_release release;
                    best = tok.nbest(t, k);
                }
                py::list out;
                for (const auto& s : best) out.append(py::make_tuple(to_list(s.ids.data(), s.ids.size()), s.score));
                return out;
            },
            "text"_a, "k"_a,
            "The k highest-scoring segmentations of text, best first, as (ids, score) tuples; the first is "
            "encode(text). Fewer when the text has fewer segmentations.")
        .def(
            "entropy",
            [](const tokenizer& tok, py::handle text, double alpha) {
                const std::string_view t = utf8_view(text);
                py::gil_scoped_release release;
                return tok.entropy(t, alpha);
            },
            "text"_a, "alpha"_a,
            "Entropy (nats) of the distribution encode(text, alpha=alpha) samples from, computed exactly.")
        .def(
            "log_partition",
            [](const tokenizer& tok, py::handle text, double alpha) {
                const std::string_view t = utf8_view(text);
                py::gil_scoped_release release;
                return tok.log_partition(t, alpha);
            },
            "text"_a, "alpha"_a,
            "log of the sum over all segmentations of exp(alpha * score); at alpha 0 the log of their number.")
        .def(
            "log_probability",
            [](const tokenizer& tok, py::handle text, py::handle ids, double alpha) {
                const std::string_view t = utf8_view(text);
                const std::vector<id_type> v = collect_ids(ids, [&](long long x, PyObject* item) {
                    if (x < 0 || static_cast<unsigned long long>(x) >= tok.vocab_size()) raise_bad_id(item, x);
                    return true;
                });
                py::gil_scoped_release release;
                return tok.log_probability(t, v, alpha);
            },
            "text"_a, "ids"_a, "alpha"_a,
            "log of the probability that encode(text, alpha=alpha) gives exactly ids (-inf if they do not spell "
            "the text).")
        .def(
            "expected_counts",
            [](const tokenizer& tok, py::handle text, double alpha) {
                const std::string_view t = utf8_view(text);
                auto* counts = new std::vector<double>;
                py::capsule owner(counts, [](void* p) { delete static_cast<std::vector<double>*>(p); });
                {
                    py::gil_scoped_release release;
                    *counts = tok.expected_counts(t, alpha);
                }
                return py::array_t<double>({counts->size()}, {sizeof(double)}, counts->data(), owner);
            },
            "text"_a, "alpha"_a,
            "The expected number of occurrences of each piece (a float64 array indexed by id) when sampling text.")
        .def(
            "score",
            [](const tokenizer& tok, py::handle ids) {
                const std::vector<id_type> v = collect_ids(ids, [&](long long x, PyObject* item) {
                    if (x < 0 || static_cast<unsigned long long>(x) >= tok.vocab_size()) raise_bad_id(item, x);
                    return true;
                });
                return tok.score(v);
            },
            "ids"_a, "The sum of the pieces' scores (log-probabilities); ids 0..2 count 0.")
        .def(
            "piece_score",
            [](const tokenizer& tok, py::handle i) {
                const long long v = id_of(i);
                if (v < 0 || static_cast<unsigned long long>(v) >= tok.vocab_size()) raise_key_error(i);
                return static_cast<double>(tok.model().score(static_cast<id_type>(v)));
            },
            "i"_a, "The score of a piece, log(count / total count), as the reference computes it (-inf for 0..2).")
        .def(
            "piece_count",
            [](const tokenizer& tok, py::handle i) {
                const long long v = id_of(i);
                if (v < 0 || static_cast<unsigned long long>(v) >= tok.vocab_size()) raise_key_error(i);
                return tok.model().count(static_cast<id_type>(v));
            },
            "i"_a, "The count of a piece in the model (0 for ids 0..2).")
        .def("sampler", [](py::object self, double alpha, py::object seed) {
                return py_sampler(self, alpha, batch_seed(seed));
            },
            "alpha"_a, "seed"_a = py::none(), "A Sampler for this tokenizer: Sampler(self, alpha, seed).")
        .def(
            "to_binary",
            [](const tokenizer& tok) {
                std::string image;
                {
                    py::gil_scoped_release release;
                    image = tok.to_binary();
                }
                return py::bytes(image);
            },
            "The binary model image (bytes): pieces, counts and the built trie, checksummed; from_binary reads it.")
        .def_static(
            "from_binary",
            [](py::handle data) {
                const std::string_view d = bytes_view(data);
                py::gil_scoped_release release;
                return tokenizer::from_binary(d);
            },
            "data"_a, "A Tokenizer from to_binary()'s bytes. Raises ModelError if they are damaged.")
        .def(
            "save_binary",
            [](const tokenizer& tok, py::object path) {
                const std::string p = py::str(py::module_::import("os").attr("fspath")(path));
                py::gil_scoped_release release;
                tok.save_binary(p);
            },
            "path"_a, "Writes to_binary() to path (atomically); Tokenizer(path) loads it several times faster than JSON.")
        .def(
            "save",
            [](const tokenizer& tok, py::object path) {
                const std::string p = py::str(py::module_::import("os").attr("fspath")(path));
                py::gil_scoped_release release;
                tok.model().save(p);
            },
            "path"_a, "Writes the model as BytePiece JSON (byte-identical to what the reference's Trainer saves).")
        .def("to_json", [](const tokenizer& tok) { return tok.model().to_json(); },
             "The model as BytePiece JSON text.")
        .def_static(
            "load", [](py::object path) {
                return tokenizer::load(py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>());
            },
            "path"_a, "A Tokenizer from a BytePiece JSON or binary model file.")
        .def("__repr__", &tokenizer_repr)
        .def(py::pickle([](const tokenizer& tok) { return py::bytes(tok.to_binary()); },
                        [](py::bytes data) { return tokenizer::from_binary(bytes_view(data)); }));

    py::class_<py_sampler>(m, "Sampler", R"doc(Draws segmentations from a Tokenizer for one alpha, with a generator of its own.

``Sampler(tokenizer, alpha, seed=None)``: segmentation S of each chunk has probability
proportional to exp(alpha * score(S)); alpha 0 is uniform, large alphas approach encode().
The weights are computed once per sampler. The same seed gives the same draws on every
platform. A Sampler is not meant to be shared by threads without a lock (its generator
advances with every draw); sample_batch releases the GIL and is reproducible per seed.)doc")
        .def(py::init([](py::object tok, double alpha, py::object seed) {
                 tok.cast<const tokenizer&>();  // TypeError for anything else
                 return py_sampler(tok, alpha, batch_seed(seed));
             }),
             "tokenizer"_a, "alpha"_a, "seed"_a = py::none())
        .def_property_readonly("alpha", [](const py_sampler& s) { return s.sampler.alpha(); })
        .def_property_readonly("tokenizer", [](const py_sampler& s) { return s.owner; })
        .def("seed", [](py_sampler& s, py::handle seed) { s.generator.seed(seed_value(seed)); }, "seed"_a,
             "Restarts the generator from seed.")
        .def(
            "sample",
            [](py_sampler& s, py::handle text, bool add_bos, bool add_eos) {
                std::vector<id_type> ids;
                if (add_bos) ids.push_back(tokenizer::model_type::bos_id);
                s.sampler.sample(utf8_view(text), s.generator, ids);
                if (add_eos) ids.push_back(tokenizer::model_type::eos_id);
                return to_list(ids.data(), ids.size());
            },
            "text"_a, "add_bos"_a = false, "add_eos"_a = false, "One draw: the ids of a random segmentation of text.")
        .def(
            "sample_pieces",
            [](py_sampler& s, py::handle text) {
                std::vector<id_type> ids;
                s.sampler.sample(utf8_view(text), s.generator, ids);
                return pieces_of(s.sampler.tokenizer(), ids);
            },
            "text"_a, "One draw, as pieces (bytes).")
        .def(
            "sample_batch",
            [](py_sampler& s, py::handle texts, py::object threads, bool numpy) {
                const text_batch b = collect_texts(texts);
                const std::uint64_t seed = s.generator();
                return batch_to_python(sample_batch(s.sampler, b, thread_count(threads), seed), numpy);
            },
            "texts"_a, "threads"_a = py::none(), "numpy"_a = false,
            "One draw per text, on threads with the GIL released (see Tokenizer.encode_batch); the results depend "
            "on this sampler's generator state only, not on the threads.");
}

}  // namespace bytepiece_py
