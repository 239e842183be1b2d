// SPDX-License-Identifier: Apache-2.0
// The serving features on the tokenizer classes: token healing (TokenHealer, HealedPrompt,
// HFHealedPrompt),
// special tokens on Tokenizer, DecodeStream, encode_for_model and encode_with_offsets. The
// methods are added to the classes bind_tokenizer and bind_formats made, so this file must be
// bound after them.
#include <pybind11/numpy.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "batch.hpp"
#include "bindings.hpp"
#include "formats.hpp"
#include "bytepiece/decode_stream.hpp"
#include "bytepiece/hf_token_healing.hpp"
#include "bytepiece/model_batch.hpp"
#include "bytepiece/offsets.hpp"
#include "bytepiece/sentencepiece_token_healing.hpp"
#include "bytepiece/special_tokens.hpp"
#include "bytepiece/token_healing.hpp"
#include "bytepiece/tokenizer.hpp"

namespace bytepiece_py {

namespace {

using namespace pybind11::literals;
using tokenizer = bytepiece::tokenizer;

// Text given as str (its UTF-8) or bytes (as is): remainders may end inside a character.
std::string_view text_or_bytes(py::handle r, const char* what) {
    if (PyBytes_Check(r.ptr())) return bytes_view(r, what);
    return utf8_view(r, what);
}

py::array_t<std::int64_t> int64_array(std::vector<std::int64_t>&& v) {
    auto* owned = new std::vector<std::int64_t>(std::move(v));
    py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<std::int64_t>*>(p); });
    return py::array_t<std::int64_t>({owned->size()}, {sizeof(std::int64_t)}, owned->data(), owner);
}

// Ids for decoding: any value an id can hold (the decoder refuses those outside its vocabulary).
std::vector<id_type> any_ids(py::handle ids) {
    return collect_ids(ids, [](long long v, PyObject*) {
        if (v < 0 || v >= 0xFFFFFFFFll)
            raise_error("DecodeError", "decode.1", "[bytepiece.decode.1] id " + std::to_string(v) + " is not an id");
        return true;
    });
}

// ---------------------------------------------------------------------------------------------
// Token healing

// One Python class for the healers of all formats; the tokenizer is kept alive by pybind11.
struct py_healer {
    std::variant<bytepiece::token_healer, bytepiece::sentencepiece_token_healer, bytepiece::hf_token_healer> healer;

    template <class F>
    decltype(auto) visit(F&& f) const {
        return std::visit(std::forward<F>(f), healer);
    }
    const bytepiece::piece_prefix_index& index() const {
        return visit([](const auto& h) -> const bytepiece::piece_prefix_index& { return h.index(); });
    }
};

py::object remainder_str(const std::string& r) { return decode_utf8(r, "surrogateescape"); }

std::string healed_repr(const bytepiece::healed_prompt& h) {
    return "HealedPrompt(ids=" + py::repr(to_list(h.ids.data(), h.ids.size())).cast<std::string>() +
           ", removed_ids=" + py::repr(to_list(h.removed_ids.data(), h.removed_ids.size())).cast<std::string>() +
           ", remainder=" + py::repr(remainder_str(h.remainder)).cast<std::string>() +
           ", kept_bytes=" + std::to_string(h.kept_bytes) + ")";
}

// A mask over the vocabulary: NumPy bool (one per id) or uint64 words (bit i of word i // 64).
template <class ForEach>
py::object mask_of(const py_healer& h, std::string_view r, const std::string& kind, ForEach&& for_each) {
    const std::size_t vocab = h.index().vocab_size();
    if (kind == "bool") {
        py::array_t<bool> out(static_cast<py::ssize_t>(vocab));
        bool* p = out.mutable_data();
        {
            py::gil_scoped_release release;
            std::fill(p, p + vocab, false);
            for_each(r, [&](id_type id) { p[id] = true; });
        }
        return py::object(std::move(out));
    }
    if (kind == "words") {
        const std::size_t n = (vocab + 63) / 64;
        py::array_t<std::uint64_t> out(static_cast<py::ssize_t>(n));
        std::uint64_t* w = out.mutable_data();
        {
            py::gil_scoped_release release;
            std::fill(w, w + n, std::uint64_t{0});
            for_each(r, [&](id_type id) { w[id / 64] |= std::uint64_t{1} << (id % 64); });
        }
        return py::object(std::move(out));
    }
    throw py::value_error("format must be 'bool' or 'words', not '" + kind + "'");
}

void bind_healing(py::module_& m) {
    py::class_<bytepiece::healed_prompt>(m, "HealedPrompt", R"doc(What TokenHealer.heal returns.

``ids``: the kept prefix of the prompt's segmentation; ``removed_ids``: the pieces given back
(``ids + removed_ids`` is the prompt's encoding); ``remainder``: the text given back, which the
continuation must start with (normalized; a str with surrogate escapes where it cuts a character,
see ``remainder_bytes``); ``kept_bytes``: bytes of the normalized prompt that ``ids`` spell.
Unpacks as the tuple (ids, removed_ids, remainder, kept_bytes).)doc")
        .def_property_readonly("ids", [](const bytepiece::healed_prompt& h) { return to_list(h.ids.data(), h.ids.size()); })
        .def_property_readonly("removed_ids", [](const bytepiece::healed_prompt& h) {
            return to_list(h.removed_ids.data(), h.removed_ids.size());
        })
        .def_property_readonly("remainder", [](const bytepiece::healed_prompt& h) { return remainder_str(h.remainder); })
        .def_property_readonly("remainder_bytes", [](const bytepiece::healed_prompt& h) { return py::bytes(h.remainder); })
        .def_readonly("kept_bytes", &bytepiece::healed_prompt::kept_bytes)
        .def("__iter__",
             [](const bytepiece::healed_prompt& h) {
                 py::tuple t = py::make_tuple(to_list(h.ids.data(), h.ids.size()),
                                              to_list(h.removed_ids.data(), h.removed_ids.size()),
                                              remainder_str(h.remainder), h.kept_bytes);
                 return py::iter(t);
             })
        .def("__repr__", &healed_repr);

    py::class_<bytepiece::hf_healed_prompt, bytepiece::healed_prompt>(m, "HFHealedPrompt", R"doc(What TokenHealer.heal returns
for an HFTokenizer: a HealedPrompt whose ``remainder`` and ``kept_bytes`` are in the model's text of the
prompt's last pre-token (U+2581 for Metaspace's spaces, ByteLevel's characters for bytes: what the
candidates are spelled in), plus the same cut in the prompt itself: ``text_remainder`` (the prompt's
text given back) and ``text_kept_bytes`` (bytes of the prompt's UTF-8 that ``ids`` stand for).)doc")
        .def_property_readonly("text_remainder",
                               [](const bytepiece::hf_healed_prompt& h) { return remainder_str(h.text_remainder); })
        .def_readonly("text_kept_bytes", &bytepiece::hf_healed_prompt::text_kept_bytes)
        .def("__repr__", [](const bytepiece::hf_healed_prompt& h) {
            std::string r = healed_repr(h);
            r.pop_back();
            return "HF" + r + ", text_remainder=" + py::repr(remainder_str(h.text_remainder)).cast<std::string>() +
                   ", text_kept_bytes=" + std::to_string(h.text_kept_bytes) + ")";
        });

    py::class_<py_healer>(m, "TokenHealer", R"doc(Token healing and prefix-constrained candidates for a Tokenizer,
SentencePieceTokenizer or HFTokenizer (which it keeps alive).

heal(prompt) backs the prompt up to a safe boundary of its segmentation (the rule is in
docs/token_healing.md): generate after ``ids``, constrained so that the continuation starts with
``remainder`` -- its first piece one of ``starting_with(remainder)``, or a chain of
``prefixes_of`` pieces. Building the candidate index sorts the vocabulary (about 0.1 s for 160k
pieces): make one healer per tokenizer and reuse it. Thread-safe; calls release the GIL.)doc")
        .def(py::init([](const tokenizer& tok) {
                 py::gil_scoped_release release;
                 return py_healer{bytepiece::token_healer(tok)};
             }),
             "tokenizer"_a, py::keep_alive<1, 2>())
        .def(py::init([](const sp_tokenizer& sp) {
                 py::gil_scoped_release release;
                 return py_healer{bytepiece::sentencepiece_token_healer(sp.tok)};
             }),
             "tokenizer"_a, py::keep_alive<1, 2>())
        .def(py::init([](const hf_tokenizer& hf) {
                 py::gil_scoped_release release;
                 return py_healer{bytepiece::hf_token_healer(hf.tok)};
             }),
             "tokenizer"_a, py::keep_alive<1, 2>())
        .def(
            "heal",
            [](const py_healer& h, py::handle prompt) -> py::object {
                const std::string_view p = utf8_view(prompt, "prompt");
                if (const auto* hf = std::get_if<bytepiece::hf_token_healer>(&h.healer)) {
                    bytepiece::hf_healed_prompt r;
                    {
                        py::gil_scoped_release release;
                        r = hf->heal(p);
                    }
                    return py::cast(std::move(r));
                }
                bytepiece::healed_prompt r;
                {
                    py::gil_scoped_release release;
                    r = h.visit([&](const auto& x) { return bytepiece::healed_prompt(x.heal(p)); });
                }
                return py::cast(std::move(r));
            },
            "prompt"_a,
            "heal(self, prompt)\n--\n\n"
            "The HealedPrompt of prompt (a str): ids, removed_ids, remainder, kept_bytes; for an HFTokenizer an "
            "HFHealedPrompt, which adds text_remainder and text_kept_bytes. SentencePiece and HF models raise "
            "ArgumentError (argument.10) where the rule is not defined (for HF also when building the healer, "
            "for a pre-tokenizer the rule does not cover).")
        .def(
            "starting_with",
            [](const py_healer& h, py::handle r) {
                const std::string_view v = text_or_bytes(r, "remainder");
                std::vector<id_type> ids;
                {
                    py::gil_scoped_release release;
                    ids = h.index().starting_with(v);
                }
                return to_list(ids.data(), ids.size());
            },
            "remainder"_a,
            "starting_with(self, remainder)\n--\n\n"
            "The ids of the pieces that start with remainder (str or bytes), increasing: the allowed first "
            "pieces of the continuation. An empty remainder gives every piece.")
        .def(
            "prefixes_of",
            [](const py_healer& h, py::handle r) {
                const std::string_view v = text_or_bytes(r, "remainder");
                std::vector<id_type> ids;
                {
                    py::gil_scoped_release release;
                    ids = h.index().prefixes_of(v);
                }
                return to_list(ids.data(), ids.size());
            },
            "remainder"_a,
            "prefixes_of(self, remainder)\n--\n\n"
            "The ids of the pieces that are a prefix of remainder (str or bytes), increasing.")
        .def(
            "starting_with_mask",
            [](const py_healer& h, py::handle r, const std::string& format) {
                const std::string_view v = text_or_bytes(r, "remainder");
                return mask_of(h, v, format, [&](std::string_view x, auto&& set) {
                    h.index().for_each_starting_with(x, [&](id_type id, std::string_view) { set(id); });
                });
            },
            "remainder"_a, "format"_a = "bool",
            "starting_with_mask(self, remainder, format='bool')\n--\n\n"
            "starting_with as a mask over the vocabulary for a logits processor: a NumPy bool array of "
            "vocab_size (format='bool') or uint64 words, bit i % 64 of word i // 64 (format='words').")
        .def(
            "prefixes_of_mask",
            [](const py_healer& h, py::handle r, const std::string& format) {
                const std::string_view v = text_or_bytes(r, "remainder");
                return mask_of(h, v, format, [&](std::string_view x, auto&& set) {
                    h.index().for_each_prefix_of(x, [&](id_type id, std::size_t) { set(id); });
                });
            },
            "remainder"_a, "format"_a = "bool",
            "prefixes_of_mask(self, remainder, format='bool')\n--\n\n"
            "prefixes_of as a mask over the vocabulary (see starting_with_mask).")
        .def_property_readonly("vocab_size", [](const py_healer& h) { return h.index().vocab_size(); })
        .def_property_readonly("max_piece_bytes", [](const py_healer& h) { return h.index().max_piece_bytes(); });
}

// ---------------------------------------------------------------------------------------------
// Special tokens (BytePiece Tokenizer)

bytepiece::allowed_special allowed_of(py::handle allowed) {
    if (allowed.is_none()) return bytepiece::allowed_special::none();
    if (PyUnicode_Check(allowed.ptr())) {
        if (allowed.cast<std::string>() == "all") return bytepiece::allowed_special::all();
        throw py::value_error("allowed_special must be 'all' or a set of special token strings");
    }
    std::vector<std::string> names;
    for (py::handle n : allowed) names.emplace_back(utf8_view(n, "allowed_special item"));
    return bytepiece::allowed_special::only(names);
}

bytepiece::disallowed_special policy_of(const std::string& policy) {
    if (policy == "text") return bytepiece::disallowed_special::encode_as_text;
    if (policy == "raise") return bytepiece::disallowed_special::raise;
    throw py::value_error("disallowed_special must be 'text' or 'raise', not '" + policy + "'");
}

bytepiece::special_tokens specials_of(const tokenizer& tok, py::handle tokens) {
    bytepiece::special_tokens s;
    if (PyDict_Check(tokens.ptr())) {
        for (auto item : py::reinterpret_borrow<py::dict>(tokens))
            s.add(std::string(utf8_view(item.first, "special token")), item.second.cast<std::uint32_t>());
        return s;
    }
    if (PyUnicode_Check(tokens.ptr())) throw py::type_error("special tokens must be a list of str or a dict, not a str");
    std::vector<std::string> contents;
    for (py::handle t : tokens) contents.emplace_back(utf8_view(t, "special token"));
    s.append(contents, tok.vocab_size());
    return s;
}

py::dict specials_dict(const bytepiece::special_tokens& s) {
    py::dict d;
    for (const auto& t : s.tokens()) d[decode_utf8(t.content, "strict")] = t.id;
    return d;
}

void bind_specials(py::module_& m) {
    auto cls = py::reinterpret_borrow<py::class_<tokenizer>>(m.attr("Tokenizer"));
    cls.def_property(
           "special_tokens", [](const tokenizer& tok) { return specials_dict(tok.specials()); },
           [](tokenizer& tok, py::handle tokens) { tok.set_specials(specials_of(tok, tokens)); },
           "The special tokens this tokenizer carries, as {content: id}. Assign a list of str (ids after the "
           "vocabulary, in order) or a dict {content: id}; save_binary and pickling keep them. encode() never "
           "matches them: use encode_with_specials. Do not assign while other threads encode.")
        .def(
            "encode_with_specials",
            [](const tokenizer& tok, py::handle text, py::handle allowed_special, const std::string& disallowed_special) {
                const std::string_view t = utf8_view(text);
                const auto allowed = allowed_of(allowed_special);
                const auto policy = policy_of(disallowed_special);
                std::vector<id_type> ids;
                {
                    py::gil_scoped_release release;
                    bytepiece::encode_with_specials(tok, t, tok.specials(), allowed, ids, policy);
                }
                return to_list(ids.data(), ids.size());
            },
            "text"_a, "allowed_special"_a = py::none(), "disallowed_special"_a = "text",
            "encode_with_specials(self, text, allowed_special=None, disallowed_special='text')\n--\n\n"
            "The ids of text where the special tokens that allowed_special allows ('all', or a set of their "
            "strings; None: none, as tiktoken's set()) are matched whole in the original text, leftmost and then "
            "longest, each one id; the text between them is encoded as encode() does. A special token that is "
            "not allowed is ordinary text (disallowed_special='text') or raises ArgumentError argument.20 "
            "('raise').")
        .def(
            "decode_with_specials",
            [](const tokenizer& tok, py::handle id_list, bool skip_special_tokens) {
                const std::vector<id_type> ids = any_ids(id_list);
                std::string text;
                {
                    py::gil_scoped_release release;
                    text = bytepiece::decode_with_specials(tok, ids.data(), ids.size(), tok.specials(),
                                                           skip_special_tokens);
                }
                return decode_utf8(text, "replace");
            },
            "ids"_a, "skip_special_tokens"_a = false,
            "decode_with_specials(self, ids, skip_special_tokens=False)\n--\n\n"
            "The text of ids where a special token's id gives its string (nothing with skip_special_tokens) and "
            "the other ids decode as the C++ decode does.");
}

// ---------------------------------------------------------------------------------------------
// DecodeStream

struct py_decode_stream {
    bytepiece::decode_stream stream;
};

void bind_decode_stream(py::module_& m) {
    py::class_<py_decode_stream>(m, "DecodeStream", R"doc(A decoder fed one id at a time, for any tokenizer (kept alive).

put(id) returns the text that became complete (never half a UTF-8 character; often ''), flush()
the rest at the end of the sequence; together they equal the tokenizer's decode of the whole
sequence (the C++ decode: for a Tokenizer, with its special tokens as text unless
skip_special_tokens; an HFTokenizer's stream skips its special tokens, as its decode does by
default; a SentencePieceTokenizer takes no skip_special_tokens). One stream per sequence; not
thread-safe.)doc")
        .def(py::init([](const tokenizer& tok, bool skip_special_tokens) {
                 return py_decode_stream{bytepiece::decode_stream(tok, tok.specials(), skip_special_tokens)};
             }),
             "tokenizer"_a, "skip_special_tokens"_a = false, py::keep_alive<1, 2>())
        .def(py::init([](const sp_tokenizer& sp) { return py_decode_stream{bytepiece::decode_stream(sp.tok)}; }),
             "tokenizer"_a, py::keep_alive<1, 2>())
        .def(py::init([](const hf_tokenizer& hf, bool skip_special_tokens) {
                 // The C++ stream decodes as HF's decode does by default; keeping the special
                 // tokens would need another decoder, so it is refused rather than ignored.
                 if (!skip_special_tokens)
                     throw py::value_error("DecodeStream of an HFTokenizer skips its special tokens, as decode() "
                                           "does by default: skip_special_tokens=False is not supported");
                 return py_decode_stream{bytepiece::decode_stream(hf.tok)};
             }),
             "tokenizer"_a, "skip_special_tokens"_a = true, py::keep_alive<1, 2>())
        .def(
            "put", [](py_decode_stream& d, id_type id) { return decode_utf8(d.stream.put(id), "replace"); }, "id"_a,
            "put(self, id)\n--\n\nFeeds one id; returns the text that became complete (often '').")
        .def(
            "put_many",
            [](py_decode_stream& d, py::handle id_list) {
                const std::vector<id_type> ids = any_ids(id_list);
                std::string out;
                for (id_type id : ids) d.stream.put(id, out);
                return decode_utf8(out, "replace");
            },
            "ids"_a, "put_many(self, ids)\n--\n\nFeeds ids in order; returns the text that became complete.")
        .def(
            "flush", [](py_decode_stream& d) { return decode_utf8(d.stream.flush(), "replace"); },
            "flush(self)\n--\n\nEnds the sequence: the text not given out yet; the stream starts afresh.")
        .def(
            "reset", [](py_decode_stream& d) { d.stream.reset(); },
            "reset(self)\n--\n\nForgets the sequence fed so far.");
}

// ---------------------------------------------------------------------------------------------
// encode_for_model

bytepiece::row_side side_of(const std::string& side, const char* what) {
    if (side == "right") return bytepiece::row_side::right;
    if (side == "left") return bytepiece::row_side::left;
    throw py::value_error(std::string(what) + " must be 'left' or 'right', not '" + side + "'");
}

template <class Tok>
py::dict encode_for_model(const Tok& tok, py::handle texts, const py::object& max_length, const std::string& truncation_side,
                          const py::object& padding, const py::object& pad_to_multiple_of,
                          const std::string& padding_side, id_type pad_id, const py::object& threads) {
    bytepiece::model_batch_options o;
    if (!max_length.is_none()) {
        const long long n = max_length.cast<long long>();
        if (n <= 0) throw py::value_error("max_length must be > 0 or None");
        o.max_length = static_cast<std::size_t>(n);
    }
    o.truncation_side = side_of(truncation_side, "truncation_side");
    o.padding_side = side_of(padding_side, "padding_side");
    o.pad_id = pad_id;
    bool ragged = false;
    if (padding.is_none() || (PyBool_Check(padding.ptr()) && !padding.cast<bool>())) {
        ragged = true;
    } else if (PyLong_Check(padding.ptr()) && !PyBool_Check(padding.ptr())) {
        const long long n = padding.cast<long long>();
        if (n <= 0) throw py::value_error("padding as a length must be > 0");
        o.pad_to = static_cast<std::size_t>(n);
    } else if (PyBool_Check(padding.ptr()) || padding.cast<std::string>() == "longest") {
        o.pad_to = 0;
    } else if (padding.cast<std::string>() == "max_length") {
        if (o.max_length == 0) throw py::value_error("padding='max_length' needs max_length");
        o.pad_to = o.max_length;
    } else {
        throw py::value_error("padding must be 'longest', 'max_length', a length, True, False or None");
    }
    if (!pad_to_multiple_of.is_none()) {
        const long long k = pad_to_multiple_of.cast<long long>();
        if (k <= 0) throw py::value_error("pad_to_multiple_of must be > 0 or None");
        o.pad_to_multiple_of = static_cast<std::size_t>(k);
    }
    const text_batch b = collect_texts(texts);
    const std::size_t n_threads = thread_count(threads);
    bytepiece::model_batch r;
    {
        py::gil_scoped_release release;
        pool_lease lease(n_threads);
        r = bytepiece::encode_for_model(tok, b.views, lease.pool(), o);
    }
    py::dict out;
    std::vector<std::int64_t> lengths(r.lengths.begin(), r.lengths.end());
    if (ragged) {
        py::list ids(r.rows), mask(r.rows);
        for (std::size_t i = 0; i < r.rows; ++i) {
            ids[i] = to_list(r.row(i) + r.token_begin(i), r.lengths[i]);
            py::list ones(r.lengths[i]);
            for (std::size_t j = 0; j < r.lengths[i]; ++j) ones[j] = 1;
            mask[i] = ones;
        }
        out["input_ids"] = ids;
        out["attention_mask"] = mask;
    } else {
        py::array_t<std::int64_t> ids({r.rows, r.width});
        py::array_t<std::int64_t> mask({r.rows, r.width});
        std::int64_t* pi = ids.mutable_data();
        std::int64_t* pm = mask.mutable_data();
        {
            py::gil_scoped_release release;
            for (std::size_t i = 0; i < r.ids.size(); ++i) {
                pi[i] = r.ids[i];
                pm[i] = r.attention_mask[i];
            }
        }
        out["input_ids"] = ids;
        out["attention_mask"] = mask;
    }
    out["length"] = int64_array(std::move(lengths));
    out["full_length"] = int64_array(std::vector<std::int64_t>(r.full_lengths.begin(), r.full_lengths.end()));
    return out;
}

const char* const encode_for_model_doc =
    "encode_for_model(self, texts, max_length=None, truncation_side='right', padding='longest', "
    "pad_to_multiple_of=None, padding_side='right', pad_id=0, threads=None)\n--\n\n"
    "Encodes texts (as encode_batch, in threads without the GIL) for a model: each row truncated to max_length "
    "ids (dropping the last ones with truncation_side='right', the first with 'left'), padded with pad_id to the "
    "longest row ('longest' or True), to max_length ('max_length'), to a given length (an int; a longer row raises "
    "ArgumentError argument.22), or not at all (None or False), rounded up to "
    "pad_to_multiple_of, on padding_side. Returns a dict: 'input_ids' and 'attention_mask' (NumPy int64 arrays "
    "of shape (len(texts), width); lists of lists without padding), 'length' (ids per row) and 'full_length' "
    "(ids before truncation), NumPy int64 arrays.";

template <class Cls, class Tok, class Get>
void def_encode_for_model(Cls& cls, Get&& get) {
    cls.def(
        "encode_for_model",
        [get](const typename Cls::type& self, py::handle texts, const py::object& max_length,
              const std::string& truncation_side, const py::object& padding, const py::object& pad_to_multiple_of,
              const std::string& padding_side, id_type pad_id, const py::object& threads) {
            return encode_for_model<Tok>(get(self), texts, max_length, truncation_side, padding, pad_to_multiple_of,
                                         padding_side, pad_id, threads);
        },
        "texts"_a, "max_length"_a = py::none(), "truncation_side"_a = "right", "padding"_a = "longest",
        "pad_to_multiple_of"_a = py::none(), "padding_side"_a = "right", "pad_id"_a = 0, "threads"_a = py::none(),
        encode_for_model_doc);
}

// ---------------------------------------------------------------------------------------------
// Offsets

py::object offsets_result(std::vector<id_type>&& ids, std::vector<bytepiece::byte_range>&& offsets, bool numpy) {
    if (numpy) {
        py::array_t<id_type> a(static_cast<py::ssize_t>(ids.size()));
        std::copy(ids.begin(), ids.end(), a.mutable_data());
        py::array_t<std::int64_t> o({offsets.size(), std::size_t{2}});
        std::int64_t* p = o.mutable_data();
        for (std::size_t i = 0; i < offsets.size(); ++i) {
            p[2 * i] = static_cast<std::int64_t>(offsets[i].begin);
            p[2 * i + 1] = static_cast<std::int64_t>(offsets[i].end);
        }
        return py::make_tuple(a, o);
    }
    py::list o(offsets.size());
    for (std::size_t i = 0; i < offsets.size(); ++i) o[i] = py::make_tuple(offsets[i].begin, offsets[i].end);
    return py::make_tuple(to_list(ids.data(), ids.size()), o);
}

const char* const offsets_doc_tail =
    " Returns (ids, offsets): offsets[i] = (begin, end), the byte range of id i in text's UTF-8 bytes before "
    "normalization (pieces inside characters that normalization rewrote together get all of them); with "
    "numpy=True a uint32 array and an int64 array of shape (n, 2). Byte offsets: for str indices, map with "
    "len(text.encode()[:begin].decode()) or use bytes.";

void bind_offsets(py::module_& m) {
    auto cls = py::reinterpret_borrow<py::class_<tokenizer>>(m.attr("Tokenizer"));
    cls.def(
        "encode_with_offsets",
        [](const tokenizer& tok, py::handle text, bool add_bos, bool add_eos, bool numpy) {
            const std::string_view t = utf8_view(text);
            std::vector<id_type> ids;
            std::vector<bytepiece::byte_range> offsets;
            {
                py::gil_scoped_release release;
                bytepiece::encode_options o = tok.options();
                o.add_bos = add_bos;
                o.add_eos = add_eos;
                tok.encode_with_offsets(t, ids, offsets, o);
            }
            return offsets_result(std::move(ids), std::move(offsets), numpy);
        },
        "text"_a, "add_bos"_a = false, "add_eos"_a = false, "numpy"_a = false,
        (std::string("encode_with_offsets(self, text, add_bos=False, add_eos=False, numpy=False)\n--\n\n"
                     "The ids of encode(text) with their offsets. <bos> gets (0, 0), <eos> (n, n); in raw mode the "
                     "ranges partition the text.") +
         offsets_doc_tail)
            .c_str());
    auto sp = py::reinterpret_borrow<py::class_<sp_tokenizer>>(m.attr("SentencePieceTokenizer"));
    sp.def(
        "encode_with_offsets",
        [](const sp_tokenizer& s, py::handle text, bool numpy) {
            const std::string_view t = utf8_view(text);
            std::vector<id_type> ids;
            std::vector<bytepiece::byte_range> offsets;
            {
                py::gil_scoped_release release;
                s.tok.encode_with_offsets(t, ids, offsets);
            }
            return offsets_result(std::move(ids), std::move(offsets), numpy);
        },
        "text"_a, "numpy"_a = false,
        (std::string("encode_with_offsets(self, text, numpy=False)\n--\n\n"
                     "The ids of encode(text) with their offsets. A piece that is only the dummy prefix gets the "
                     "empty range where it was inserted; removed spaces belong to no piece.") +
         offsets_doc_tail)
            .c_str());
    auto hf = py::reinterpret_borrow<py::class_<hf_tokenizer>>(m.attr("HFTokenizer"));
    hf.def(
        "encode_with_offsets",
        [](const hf_tokenizer& h, py::handle text, bool add_special_tokens, bool numpy) {
            const std::string_view t = utf8_view(text);
            std::vector<id_type> ids;
            std::vector<bytepiece::byte_range> offsets;
            {
                py::gil_scoped_release release;
                h.tok.encode_with_offsets(t, ids, offsets, add_special_tokens);
            }
            return offsets_result(std::move(ids), std::move(offsets), numpy);
        },
        "text"_a, "add_special_tokens"_a = false, "numpy"_a = false,
        (std::string("encode_with_offsets(self, text, add_special_tokens=False, numpy=False)\n--\n\n"
                     "The ids of encode(text, add_special_tokens) with their offsets. An added token gets the bytes "
                     "it matched; the post-processor's tokens get the empty range at the start or end; with "
                     "ByteLevel a piece may hold part of a character.") +
         offsets_doc_tail)
            .c_str());
}

}  // namespace

void bind_serving(py::module_& m) {
    bind_healing(m);
    bind_specials(m);
    bind_decode_stream(m);
    bind_offsets(m);
    auto bp = py::reinterpret_borrow<py::class_<tokenizer>>(m.attr("Tokenizer"));
    def_encode_for_model<decltype(bp), tokenizer>(bp, [](const tokenizer& t) -> const tokenizer& { return t; });
    auto sp = py::reinterpret_borrow<py::class_<sp_tokenizer>>(m.attr("SentencePieceTokenizer"));
    def_encode_for_model<decltype(sp), bytepiece::sentencepiece_tokenizer>(
        sp, [](const sp_tokenizer& t) -> const bytepiece::sentencepiece_tokenizer& { return t.tok; });
    auto hf = py::reinterpret_borrow<py::class_<hf_tokenizer>>(m.attr("HFTokenizer"));
    def_encode_for_model<decltype(hf), bytepiece::hf_tokenizer>(
        hf, [](const hf_tokenizer& t) -> const bytepiece::hf_tokenizer& { return t.tok; });
}

}  // namespace bytepiece_py
