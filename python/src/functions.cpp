// SPDX-License-Identifier: Apache-2.0
// bytepiece_cpp.normalize and bytepiece_cpp.convert_to_bytepiece: the reference's module-level
// functions, with its argument conventions and exception types.
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "bytepiece/detail/train_chunker.hpp"
#include "bytepiece/trainer.hpp"

namespace bytepiece_py {

namespace {

// A piece count: a Python int (or anything with __index__, such as numpy integers) from 0 up.
// The reference adds counts up as Python numbers; a float count is refused rather than
// truncated, and a negative one has no meaning.
std::uint64_t count_of(py::handle value, const std::string& piece_repr) {
    if (PyFloat_Check(value.ptr()) || !PyIndex_Check(value.ptr()))
        throw py::type_error("convert_to_bytepiece: the count of " + piece_repr + " must be an int, not " +
                             Py_TYPE(value.ptr())->tp_name);
    py::int_ n = py::reinterpret_steal<py::int_>(PyNumber_Index(value.ptr()));
    if (!n) throw py::error_already_set();
    if (PyObject_RichCompareBool(n.ptr(), py::int_(0).ptr(), Py_LT) == 1)
        throw py::value_error("convert_to_bytepiece: the count of " + piece_repr + " is negative");
    const unsigned long long v = PyLong_AsUnsignedLongLong(n.ptr());
    if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) throw py::error_already_set();
    return static_cast<std::uint64_t>(v);
}

}  // namespace

void bind_functions(py::module_& m) {
    // The reference's signatures for inspect.signature and help() (the text before "--").
    py::options signatures;
    signatures.disable_function_signatures();
    m.def(
        "normalize",
        [](py::handle text, long long maxlen, bool isolate_digits) {
            // str only: the reference's unicodedata.normalize refuses bytes with TypeError, and
            // encoding a lone surrogate raises UnicodeEncodeError, as its final .encode() does.
            const std::string_view s = utf8_view(text, "normalize() argument 'text'");
            // Chunks may point into the normalizer's own buffers, which change as it goes: they
            // are copied out back to back as they come.
            std::string storage;
            std::vector<std::pair<std::size_t, std::size_t>> spans;
            {
                py::gil_scoped_release release;
                bytepiece::detail::for_each_normalized_chunk(
                    s, maxlen > 0 ? static_cast<std::size_t>(maxlen) : 0, isolate_digits, [&](std::string_view c) {
                        spans.emplace_back(storage.size(), c.size());
                        storage.append(c.data(), c.size());
                    });
            }
            py::list out(spans.size());
            for (std::size_t i = 0; i < spans.size(); ++i)
                PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i),
                                py::bytes(storage.data() + spans[i].first, spans[i].second).release().ptr());
            return out;
        },
        py::arg("text"), py::arg("maxlen") = 0, py::arg("isolate_digits") = false,
        R"doc(normalize(text, maxlen=0, isolate_digits=False)
--

The reference's normalize: NFC, then the chunks of its regular expression, UTF-8 encoded.

Without maxlen the chunks are the lines (text up to and with a run of newlines, or the
final text without one); maxlen > 0 caps each chunk at maxlen characters plus at most 100
newlines; isolate_digits puts every decimal digit (Unicode Nd) in a chunk of its own. These are
exactly the matches of the reference's expressions ``.*\n+|.+``, ``.{,M}\n{1,100}|.{1,M}``,
``\d|[^\n\d]*\n+|[^\n\d]+`` and ``\d|[^\n\d]{,M}\n{1,100}|[^\n\d]{1,M}``.

Returns a list of bytes ([] for ''). Raises TypeError for anything but str (bytes included) and
UnicodeEncodeError for a lone surrogate.

Example: normalize('ab\n\ncd') == [b'ab\n\n', b'cd'])doc");

    m.def(
        "convert_to_bytepiece",
        [](py::handle pieces, py::object path) {
            // Keys as the reference takes them: bytes as they are, str UTF-8 encoded; a later key
            // with the same bytes replaces an earlier one, as in its dict comprehension.
            std::map<std::string, std::uint64_t> merged;
            py::object items = pieces.attr("items")();
            for (py::handle item : items) {
                py::tuple kv = py::reinterpret_borrow<py::object>(item);
                if (kv.size() != 2) throw py::type_error("convert_to_bytepiece: items() must give (piece, count) pairs");
                py::handle key = kv[0];
                std::string piece;
                if (PyBytes_Check(key.ptr()))
                    piece = std::string(bytes_view(key));
                else if (PyUnicode_Check(key.ptr()))
                    piece = std::string(utf8_view(key));
                else
                    throw py::type_error(std::string("convert_to_bytepiece: a piece must be str or bytes, not ") +
                                         Py_TYPE(key.ptr())->tp_name);
                if (piece.empty()) throw py::value_error("convert_to_bytepiece: a piece is empty");
                merged[piece] = count_of(kv[1], py::repr(key).cast<std::string>());
            }
            // The file name: str or os.PathLike (the reference's open() takes both).
            const std::string target = py::module_::import("os").attr("fspath")(path).cast<std::string>();
            std::vector<std::pair<std::string, std::uint64_t>> given(merged.begin(), merged.end());
            merged.clear();
            bytepiece::trainer_options o;
            o.max_vocab_size = {given.size() + bytepiece::trainer::min_vocab_size};
            o.max_piece_length = std::numeric_limits<std::size_t>::max();
            o.min_count = 1;
            o.threads = 0;  // the result does not depend on it
            py::gil_scoped_release release;
            bytepiece::trainer t(o);
            t.check_output(target);
            t.train_counts(std::move(given));
            t.save(target);
        },
        py::arg("pieces"), py::arg("path"),
        R"doc(convert_to_bytepiece(pieces, path)
--

Writes a BytePiece model built from piece counts, as the reference's convert_to_bytepiece.

pieces maps each piece (bytes, or str taken as UTF-8) to its count (an int >= 0). As in the
reference, the 256 single bytes are added with count 1 where missing, and pieces that the
others encode better are split into them (their counts go to those pieces) until no piece is
left unused; nothing is cut for size. The file (path: str or os.PathLike) is written atomically
in the reference's JSON layout. Returns None.

Raises TypeError for a piece that is neither str nor bytes or a count that is not an int,
ValueError for an empty piece, a negative count or a single byte with count 0 (the reference
would give it the score log(0)), OSError if the file cannot be written.

Example: convert_to_bytepiece({'hello': 10, b'wor': 3}, 'out.model'))doc");
}

}  // namespace bytepiece_py
