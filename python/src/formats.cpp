// SPDX-License-Identifier: Apache-2.0
// bytepiece_cpp.SentencePieceTokenizer, bytepiece_cpp.HFTokenizer and bytepiece_cpp.load(): the
// other model formats the library reads, with the same batch machinery as Tokenizer.
#include <memory>
#include <string>
#include <vector>

#include "batch.hpp"
#include "bindings.hpp"
#include "formats.hpp"
#include "bytepiece/detail/file.hpp"
#include "bytepiece/hf_tokenizer.hpp"
#include "bytepiece/model_file.hpp"
#include "bytepiece/sentencepiece_tokenizer.hpp"
#include "bytepiece/tokenizer.hpp"

namespace bytepiece_py {

namespace {

using namespace pybind11::literals;

std::string path_string(py::handle path) {
    return py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>();
}

template <class Tok>
std::vector<id_type> model_ids(const Tok& tok, py::handle ids) {
    const long long vocab = static_cast<long long>(tok.vocab_size());
    return collect_ids(ids, [&](long long v, PyObject*) {
        if (v < 0 || v >= vocab)
            raise_error("DecodeError", "decode.1",
                        "[bytepiece.decode.1] id " + std::to_string(v) + " is outside the vocabulary [0, " +
                            std::to_string(vocab) + ")");
        return true;
    });
}

py::list str_list(const std::vector<std::string>& items) {
    py::list out(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) out[i] = decode_utf8(items[i], "surrogateescape");
    return out;
}

// encode_texts of SentencePiece and HF models over a batch, in ranges on a pool.
template <class EncodeTexts>
flat_ids texts_batch(py::handle texts, const py::object& threads, EncodeTexts&& encode_texts) {
    const text_batch b = collect_texts(texts);
    const std::size_t n_threads = thread_count(threads);
    py::gil_scoped_release release;
    pool_lease lease(n_threads);
    return run_ranges(b.views, b.bytes, lease.pool(),
                      [&](std::size_t first, std::size_t last, std::vector<id_type>& ids, std::vector<std::size_t>& counts) {
                          encode_texts(b.views.data() + first, last - first,
                                       [&](std::size_t, const id_type* p, std::size_t n) {
                                           ids.insert(ids.end(), p, p + n);
                                           counts.push_back(n);
                                       });
                      });
}

template <class Tok, class Decode>
py::list decode_many(const Tok& tok, py::iterable batch, const py::object& threads, Decode&& decode) {
    std::vector<std::vector<id_type>> ids;
    for (py::handle one : batch) ids.push_back(model_ids(tok, one));
    std::vector<std::string> texts(ids.size());
    {
        py::gil_scoped_release release;
        pool_lease lease(thread_count(threads));
        lease.pool().parallel_for(ids.size(), [&](std::size_t i) { texts[i] = decode(ids[i]); });
    }
    py::list out(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) out[i] = decode_utf8(texts[i], "replace");
    return out;
}

void bind_sentencepiece(py::module_& m) {
    py::class_<sp_tokenizer>(m, "SentencePieceTokenizer", R"doc(A SentencePiece unigram model (.model file).

``SentencePieceTokenizer(path)``. Gives the ids, pieces and text of SentencePiece's Encode,
EncodeAsPieces and Decode (no <s>/</s> added). Thread safety as Tokenizer: every method may run
in several threads at once; the batch methods release the GIL. Pickles as the file's bytes.)doc")
        .def(py::init([](py::handle path) {
                 const std::string p = path_string(path);
                 return std::make_unique<sp_tokenizer>(bytepiece::detail::read_file(p), p);
             }),
             "path"_a)
        .def_static(
            "from_bytes",
            [](py::handle data) { return std::make_unique<sp_tokenizer>(std::string(bytes_view(data)), "<bytes>"); },
            "data"_a, "A tokenizer from the bytes of a .model file (a serialized ModelProto).")
        .def("serialized_model_proto", [](const sp_tokenizer& t) { return py::bytes(t.bytes); },
             "The bytes of the .model file this tokenizer was made from.")
        .def_property_readonly("vocab_size", [](const sp_tokenizer& t) { return t.tok.vocab_size(); },
                               "Number of pieces (ids).")
        .def(
            "encode",
            [](const sp_tokenizer& t, py::handle text, double alpha) {
                const std::string_view v = utf8_view(text);
                std::vector<id_type> ids;
                if (alpha < 0) {
                    ids = t.tok.encode(v);
                } else {
                    ids = t.tok.sample(v, alpha, global_generator());
                }
                return to_list(ids.data(), ids.size());
            },
            "text"_a, "alpha"_a = -1.0,
            "The ids of text as SentencePiece's Encode; alpha >= 0 samples as its SampleEncode(text, -1, alpha), "
            "from the generator set_seed seeds.")
        .def(
            "encode_batch",
            [](const sp_tokenizer& t, py::handle texts, double alpha, py::object seed, py::object threads, bool numpy) {
                if (alpha < 0)
                    return batch_to_python(
                        texts_batch(texts, threads,
                                    [&](const std::string_view* v, std::size_t n, auto&& f) { t.tok.encode_texts(v, n, f); }),
                        numpy);
                const std::uint64_t s = batch_seed(seed);
                const text_batch b = collect_texts(texts);
                const std::size_t n_threads = thread_count(threads);
                flat_ids r;
                {
                    py::gil_scoped_release release;
                    pool_lease lease(n_threads);
                    r = run_ranges(b.views, b.bytes, lease.pool(),
                                   [&](std::size_t first, std::size_t last, std::vector<id_type>& ids,
                                       std::vector<std::size_t>& counts) {
                                       for (std::size_t i = first; i < last; ++i) {
                                           bytepiece::splitmix64 g = text_generator(s, i);
                                           const std::vector<id_type> one = t.tok.sample(b.views[i], alpha, g);
                                           ids.insert(ids.end(), one.begin(), one.end());
                                           counts.push_back(one.size());
                                       }
                                   });
                }
                return batch_to_python(std::move(r), numpy);
            },
            "texts"_a, "alpha"_a = -1.0, "seed"_a = py::none(), "threads"_a = py::none(), "numpy"_a = false,
            "encode() of every text on threads with the GIL released: a list of lists, or (ids, offsets) NumPy "
            "arrays with numpy=True (see Tokenizer.encode_batch).")
        .def(
            "tokenize", [](const sp_tokenizer& t, py::handle text) { return str_list(t.tok.tokenize(utf8_view(text))); },
            "text"_a, "The pieces (str) of text, as SentencePiece's EncodeAsPieces.")
        .def(
            "decode",
            [](const sp_tokenizer& t, py::handle ids) {
                return decode_utf8(t.tok.decode(model_ids(t.tok, ids)), "replace");
            },
            "ids"_a, "The text of ids, as SentencePiece's Decode. An id outside the vocabulary raises DecodeError.")
        .def(
            "decode_batch",
            [](const sp_tokenizer& t, py::iterable batch, py::object threads) {
                return decode_many(t.tok, batch, threads, [&](const std::vector<id_type>& ids) { return t.tok.decode(ids); });
            },
            "batch"_a, "threads"_a = py::none(), "decode() of every sequence of ids.")
        .def(
            "id_to_piece",
            [](const sp_tokenizer& t, std::uint32_t id) { return decode_utf8(t.tok.id_to_piece(id), "surrogateescape"); },
            "id"_a, "The piece of id (str). Outside the vocabulary: DecodeError.")
        .def(
            "piece_to_id",
            [](const sp_tokenizer& t, py::handle piece) {
                const auto id = t.tok.piece_to_id(utf8_view(piece, "piece"));
                return id ? static_cast<std::size_t>(*id) : t.tok.model().unknown_id();
            },
            "piece"_a, "The id of piece; the unknown id for a piece the model lacks, as SentencePiece answers.")
        .def("normalize", [](const sp_tokenizer& t, py::handle text) { return t.tok.normalize(utf8_view(text)); },
             "text"_a, "text normalized as SentencePiece does before segmenting.")
        .def("__repr__",
             [](const sp_tokenizer& t) {
                 return "<bytepiece_cpp.SentencePieceTokenizer vocab_size=" + std::to_string(t.tok.vocab_size()) + ">";
             })
        .def(py::pickle([](const sp_tokenizer& t) { return py::bytes(t.bytes); },
                        [](py::bytes data) { return std::make_unique<sp_tokenizer>(std::string(bytes_view(data)), "<pickle>"); }));
}

void bind_hf(py::module_& m) {
    py::class_<hf_tokenizer>(m, "HFTokenizer", R"doc(A Hugging Face tokenizer.json with a Unigram model.

``HFTokenizer(path)``. Gives the ids, tokens and text of HF tokenizers' encode(text,
add_special_tokens) and decode(ids, skip_special_tokens). Thread safety as Tokenizer. Pickles as
the file's JSON text.)doc")
        .def(py::init([](py::handle path) {
                 const std::string p = path_string(path);
                 return std::make_unique<hf_tokenizer>(bytepiece::detail::read_file(p), p);
             }),
             "path"_a)
        .def_static(
            "from_str", [](py::handle json) { return std::make_unique<hf_tokenizer>(std::string(utf8_view(json, "json")), "<str>"); },
            "json"_a, "A tokenizer from the text of a tokenizer.json.")
        .def("to_str", [](const hf_tokenizer& t) { return decode_utf8(t.json, "surrogateescape"); },
             "The tokenizer.json text this tokenizer was made from.")
        .def_property_readonly("vocab_size", [](const hf_tokenizer& t) { return t.tok.vocab_size(); },
                               "One past the highest id (model vocabulary and added tokens).")
        .def(
            "encode",
            [](const hf_tokenizer& t, py::handle text, bool add_special_tokens) {
                const std::vector<id_type> ids = t.tok.encode(utf8_view(text), add_special_tokens);
                return to_list(ids.data(), ids.size());
            },
            "text"_a, "add_special_tokens"_a = false, "The ids of text, as HF's encode(text, add_special_tokens).ids.")
        .def(
            "encode_batch",
            [](const hf_tokenizer& t, py::handle texts, bool add_special_tokens, py::object threads, bool numpy) {
                return batch_to_python(texts_batch(texts, threads,
                                                   [&](const std::string_view* v, std::size_t n, auto&& f) {
                                                       t.tok.encode_texts(v, n, f, add_special_tokens);
                                                   }),
                                       numpy);
            },
            "texts"_a, "add_special_tokens"_a = false, "threads"_a = py::none(), "numpy"_a = false,
            "encode() of every text on threads with the GIL released (see Tokenizer.encode_batch).")
        .def(
            "tokenize",
            [](const hf_tokenizer& t, py::handle text, bool add_special_tokens) {
                return str_list(t.tok.tokenize(utf8_view(text), add_special_tokens));
            },
            "text"_a, "add_special_tokens"_a = false, "The tokens (str) of text, as HF's encode(...).tokens.")
        .def(
            "decode",
            [](const hf_tokenizer& t, py::handle ids, bool skip_special_tokens) {
                return decode_utf8(t.tok.decode(model_ids(t.tok, ids), skip_special_tokens), "replace");
            },
            "ids"_a, "skip_special_tokens"_a = true, "The text of ids, as HF's decode(ids, skip_special_tokens).")
        .def(
            "decode_batch",
            [](const hf_tokenizer& t, py::iterable batch, bool skip_special_tokens, py::object threads) {
                return decode_many(t.tok, batch, threads, [&](const std::vector<id_type>& ids) {
                    return t.tok.decode(ids, skip_special_tokens);
                });
            },
            "batch"_a, "skip_special_tokens"_a = true, "threads"_a = py::none(), "decode() of every sequence of ids.")
        .def(
            "id_to_token",
            [](const hf_tokenizer& t, std::uint32_t id) { return decode_utf8(t.tok.id_to_token(id), "surrogateescape"); },
            "id"_a, "The token of id. Outside the vocabulary: DecodeError.")
        .def(
            "token_to_id",
            [](const hf_tokenizer& t, py::handle token) -> py::object {
                const auto id = t.tok.token_to_id(utf8_view(token, "token"));
                if (!id) return py::none();
                return py::int_(*id);
            },
            "token"_a, "The id of token, or None (as HF).")
        .def("__repr__",
             [](const hf_tokenizer& t) {
                 return "<bytepiece_cpp.HFTokenizer vocab_size=" + std::to_string(t.tok.vocab_size()) + ">";
             })
        .def(py::pickle([](const hf_tokenizer& t) { return decode_utf8(t.json, "surrogateescape"); },
                        [](py::str json) {
                            return std::make_unique<hf_tokenizer>(std::string(utf8_view(json)), "<pickle>");
                        }));
}

}  // namespace

void bind_formats(py::module_& m) {
    bind_sentencepiece(m);
    bind_hf(m);
    m.def(
        "load",
        [](py::handle path) -> py::object {
            const std::string p = path_string(path);
            switch (bytepiece::detect_model_file_format(p)) {
                case bytepiece::model_file_format::sentencepiece:
                    return py::cast(std::make_unique<sp_tokenizer>(bytepiece::detail::read_file(p), p));
                case bytepiece::model_file_format::huggingface:
                    return py::cast(std::make_unique<hf_tokenizer>(bytepiece::detail::read_file(p), p));
                default:
                    // BytePiece JSON or binary; anything else gets the JSON reader's error.
                    return py::cast(bytepiece::tokenizer::load(p));
            }
        },
        "path"_a,
        R"doc(The tokenizer of any model file the library reads, told by its content: a Tokenizer for
BytePiece JSON or binary models, a SentencePieceTokenizer for a SentencePiece .model, an
HFTokenizer for a Hugging Face tokenizer.json.)doc");
}

}  // namespace bytepiece_py
