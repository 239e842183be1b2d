// SPDX-License-Identifier: Apache-2.0
// bytepiece_cpp.Tokenizer: the reference's Tokenizer on bytepiece::tokenizer.
#include <cstdint>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "bytepiece/tokenizer.hpp"

namespace bytepiece_py {

namespace {

using id_type = bytepiece::tokenizer::id_type;

bytepiece::tokenizer make_tokenizer(py::handle pieces) {
    if (PyUnicode_Check(pieces.ptr())) return bytepiece::tokenizer::load(pieces.cast<std::string>());
    // The parsed model dict, as the reference accepts it: serialized again and parsed by the
    // same validating reader as files.
    py::object dumps = py::module_::import("json").attr("dumps");
    const std::string json = dumps(pieces).cast<std::string>();
    return bytepiece::tokenizer(bytepiece::model::from_json(json, "<dict>"));
}

}  // namespace

void bind_tokenizer(py::module_& m) {
    py::class_<bytepiece::tokenizer>(m, "Tokenizer", "A BytePiece tokenizer (drop-in for bytepiece.Tokenizer).")
        .def(py::init([](py::handle pieces, py::object) { return make_tokenizer(pieces); }), py::arg("pieces"),
             py::arg("seed") = py::none())
        .def_property_readonly("vocab_size", &bytepiece::tokenizer::vocab_size)
        .def("encode",
             [](const bytepiece::tokenizer& tok, py::handle text) {
                 const std::string_view t = utf8_view(text);
                 std::vector<id_type> ids;
                 {
                     py::gil_scoped_release release;
                     ids = tok.encode(t);
                 }
                 return ids;
             },
             py::arg("text"));
}

}  // namespace bytepiece_py
