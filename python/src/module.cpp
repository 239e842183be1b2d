// SPDX-License-Identifier: Apache-2.0
// The extension module bytepiece_cpp._core: each binding file adds its part. This file also
// holds the error classes and the text helpers every binding file shares (it includes none of
// the big library headers, so it compiles quickly).
#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "bindings.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/version.hpp"

namespace bytepiece_py {

namespace {

// The classes live as long as the interpreter (the module holds them too); raw pointers,
// because a static py::object would be released after the interpreter is gone.
struct error_classes {
    PyObject* base = nullptr;
    PyObject* model = nullptr;
    PyObject* file = nullptr;
    PyObject* missing = nullptr;
    PyObject* decode = nullptr;
    PyObject* argument = nullptr;
    PyObject* train = nullptr;
};
error_classes& classes() {
    static error_classes c;
    return c;
}

PyObject* make_class(py::module_& m, const char* name, py::tuple bases, const char* doc) {
    py::dict ns;
    ns["__module__"] = "bytepiece_cpp";
    ns["__doc__"] = doc;
    py::object type = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&PyType_Type));
    py::object cls = type(name, bases, ns);
    m.attr(name) = cls;
    return cls.release().ptr();
}

PyObject* class_of(bytepiece::errc code) {
    const error_classes& c = classes();
    switch (static_cast<int>(code) / 100) {
        case 1: return c.model;
        case 2: return c.file;
        case 3: return c.decode;
        case 4: return c.argument;
        case 5: return c.train;
        default: return c.base;
    }
}

// "model.20" for errc 120: the id the C++ message shows as [bytepiece.model.20].
std::string stable_id(bytepiece::errc code) {
    return std::string(bytepiece::errc_category(code)) + "." + std::to_string(static_cast<int>(code) % 100);
}

void set_error(PyObject* cls, const std::string& id, int code, const std::string& message) {
    py::object e = py::reinterpret_borrow<py::object>(cls)(message);
    e.attr("id") = id;
    e.attr("code") = code;
    PyErr_SetObject(cls, e.ptr());
}

}  // namespace

void bind_errors(py::module_& m) {
    error_classes& c = classes();
    py::object exception = py::reinterpret_borrow<py::object>(PyExc_Exception);
    c.base = make_class(m, "Error", py::make_tuple(exception),
                        "Base of every error bytepiece_cpp raises. `id` is the stable identifier "
                        "(\"model.8\", \"io.1\", ...) that the message shows as [bytepiece.<id>]; `code` is its number "
                        "(108, 201, ...).");
    py::object base = py::reinterpret_borrow<py::object>(c.base);
    auto derived = [&](PyObject* builtin) {
        return py::make_tuple(base, py::reinterpret_borrow<py::object>(builtin));
    };
    c.model = make_class(m, "ModelError", derived(PyExc_ValueError),
                         "A model file or model data is not acceptable (also a ValueError).");
    c.file = make_class(m, "FileError", derived(PyExc_OSError),
                        "A file could not be opened, read or written (also an OSError).");
    c.missing = make_class(m, "MissingFileError",
                           py::make_tuple(py::reinterpret_borrow<py::object>(c.file),
                                          py::reinterpret_borrow<py::object>(PyExc_FileNotFoundError)),
                           "A file that does not exist (also a FileNotFoundError, as open() raises).");
    c.decode = make_class(m, "DecodeError", derived(PyExc_KeyError),
                          "An id outside the vocabulary, or an unknown piece (also a KeyError, as the reference "
                          "raises).");
    c.argument = make_class(m, "ArgumentError", derived(PyExc_ValueError),
                            "An argument outside its documented domain (also a ValueError).");
    c.train = make_class(m, "TrainError", derived(PyExc_ValueError),
                         "The trainer cannot produce a model from what it was given (also a ValueError).");

    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const bytepiece::error&) {
            set_python_error(std::current_exception());
        }
    });
}

void set_python_error(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (py::error_already_set& err) {
        err.restore();
    } catch (const py::builtin_exception& err) {
        err.set_error();
    } catch (const bytepiece::error& err) {
        PyObject* cls = class_of(err.code());
        // The library's message carries strerror's text; a missing file is the one case
        // scripts commonly catch by type (FileNotFoundError), so it gets its own class.
        if (err.code() == bytepiece::errc::io_open && std::strstr(err.what(), std::strerror(ENOENT)))
            cls = classes().missing;
        set_error(cls, stable_id(err.code()), static_cast<int>(err.code()), err.what());
    } catch (const std::bad_alloc&) {
        PyErr_NoMemory();
    } catch (const std::exception& err) {
        PyErr_SetString(PyExc_RuntimeError, err.what());
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
    }
}

py::handle error_class(const char* name) {
    const error_classes& c = classes();
    const std::string n = name;
    if (n == "ModelError") return c.model;
    if (n == "FileError") return c.file;
    if (n == "MissingFileError") return c.missing;
    if (n == "DecodeError") return c.decode;
    if (n == "ArgumentError") return c.argument;
    if (n == "TrainError") return c.train;
    return c.base;
}

void raise_error(const char* cls, const char* id, const std::string& message) {
    py::handle c = error_class(cls);
    const std::string i = id;
    int code = 0;
    const auto dot = i.find('.');
    if (dot != std::string::npos) {
        const std::string category = i.substr(0, dot);
        const int base = category == "model" ? 100 : category == "io" ? 200 : category == "decode" ? 300
                         : category == "argument" ? 400 : category == "train" ? 500 : 0;
        code = base + std::stoi(i.substr(dot + 1));
    }
    set_error(c.ptr(), i, code, message);
    throw py::error_already_set();
}

std::string_view utf8_view(py::handle text, const char* what) {
    if (!PyUnicode_Check(text.ptr()))
        throw py::type_error(std::string(what) + " must be str, not " + Py_TYPE(text.ptr())->tp_name);
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
    if (!data) throw py::error_already_set();
    return {data, static_cast<std::size_t>(size)};
}

std::string_view bytes_view(py::handle data, const char* what) {
    if (!PyBytes_Check(data.ptr()))
        throw py::type_error(std::string(what) + " must be bytes, not " + Py_TYPE(data.ptr())->tp_name);
    return {PyBytes_AS_STRING(data.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr()))};
}

}  // namespace bytepiece_py

PYBIND11_MODULE(_core, m) {
    m.doc() = "C++ core of bytepiece_cpp: byte-level unigram tokenization (BytePiece-compatible).";
    m.attr("library_version") = BYTEPIECE_VERSION_STRING;
    bytepiece_py::bind_errors(m);
    bytepiece_py::bind_tokenizer(m);
    bytepiece_py::bind_formats(m);
    bytepiece_py::bind_serving(m);
    bytepiece_py::bind_trainer(m);
    bytepiece_py::bind_shards(m);
    bytepiece_py::bind_functions(m);
}
