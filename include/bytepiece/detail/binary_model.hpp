// SPDX-License-Identifier: Apache-2.0
//
// The binary model format: a model together with its built trie, so that loading skips what
// dominates a JSON load (parsing, base64, sorting, and placing 160k keys in the double array).
// JSON stays the interchange format; this one is a cache of it that any tokenizer can write.
//
// Version 1. Integers are little-endian and fixed-width; each section starts at a multiple of
// 64 bytes, so the file can be mapped and its arrays read where they lie.
//
//   offset  bytes  field
//   0       8      magic 89 42 50 4D 0D 0A 1A 0A ("\x89" "BPM\r\n\x1a\n"; no JSON starts with 0x89,
//                  and a transfer that rewrites line ends breaks it visibly)
//   8       8      XXH3-64 of bytes [16, file size)
//   16      4      format version (1)
//   20      4      header size (64)
//   24      8      file size
//   32      8      N, the number of pieces (ids 3 .. N+2)
//   40      8      U, the number of trie units
//   48      8      B, the pieces' total bytes
//   56      8      zero in version 1; in version 2, S, the special tokens' section bytes (> 0)
//   then, each at the next multiple of 64 (zero padding between):
//   counts   N x u64                        the count of id 3 + i
//   offsets  (N + 1) x u32                  id 3 + i is bytes [offsets[i], offsets[i + 1])
//   trie     U x (u32 base, u32 check, i32 value)   the double array as double_array_trie has it
//   bytes    B                              the pieces back to back in id order
//   and a version 1 file ends there. Version 2 adds, at the next multiple of 64:
//   specials S bytes: u32 K (> 0), u32 zero, K x (u32 id, u32 length), then the K contents
//            back to back; the special tokens of special_tokens.hpp, in the order added.
//   A tokenizer without special tokens writes version 1, so older readers still read it.
//
// The checksum catches damage; it cannot vouch for a file written with intent. So the reader
// also checks everything a loaded tokenizer relies on to stay inside its arrays: every base
// leaves room for 256 children, each piece's walk through the trie ends on a node holding its
// id, and every used unit lies on some piece's walk (so the trie holds exactly the model's
// pieces, no more, and the automaton built on it is the one the JSON model would give).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/hash.hpp"
#include "bytepiece/detail/model_format.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/special_tokens.hpp"
#include "bytepiece/trie.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

namespace binary_format {

inline constexpr unsigned char magic[8] = {0x89, 'B', 'P', 'M', '\r', '\n', 0x1A, '\n'};
inline constexpr std::uint32_t version = 1;
inline constexpr std::uint32_t version_with_specials = 2;
inline constexpr std::size_t header_bytes = 64;
inline constexpr std::size_t unit_bytes = 12;
inline constexpr std::size_t checksum_from = 16;

/// Whether `data` starts with the binary model's magic (JSON models never do).
inline bool has_magic(std::string_view data) noexcept {
    return data.size() >= sizeof magic && std::memcmp(data.data(), magic, sizeof magic) == 0;
}

constexpr bool big_endian_host() noexcept {
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return true;
#else
    return false;
#endif
}

// The unsigned little-endian integer at `p`, whatever the host's byte order.
template <class T>
T load(const char* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (big_endian_host()) {
        T r = 0;
        for (std::size_t i = 0; i < sizeof v; ++i) r = static_cast<T>((r << 8) | ((v >> (8 * i)) & 0xFF));
        v = r;
    }
    return v;
}

// Writes `v` at `p` as a little-endian integer of sizeof(T) bytes.
template <class T>
void store(char* p, T v) noexcept {
    for (std::size_t i = 0; i < sizeof v; ++i) p[i] = static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF);
}

// `count` little-endian values at `src` into `dst`: one memcpy on little-endian hosts.
template <class T>
void load_array(T* dst, const char* src, std::size_t count) noexcept {
    if constexpr (big_endian_host()) {
        for (std::size_t i = 0; i < count; ++i) dst[i] = load<T>(src + i * sizeof(T));
    } else if (count) {
        std::memcpy(dst, src, count * sizeof(T));
    }
}

inline std::uint64_t align64(std::uint64_t x) noexcept { return (x + 63) & ~std::uint64_t{63}; }

/// Where the sections lie for N pieces, U units, B bytes and S bytes of special tokens. The
/// header's N, U, B and S are bounded before this is called, so no sum overflows.
struct layout {
    std::uint64_t counts, offsets, trie, bytes, specials, end;
    layout(std::uint64_t n, std::uint64_t units, std::uint64_t piece_bytes, std::uint64_t special_bytes = 0) noexcept
        : counts(header_bytes),
          offsets(align64(counts + 8 * n)),
          trie(align64(offsets + 4 * (n + 1))),
          bytes(align64(trie + unit_bytes * units)),
          specials(special_bytes ? align64(bytes + piece_bytes) : bytes + piece_bytes),
          end(specials + special_bytes) {}
};

/// The bytes of the special tokens' section for `specials` (0 when there are none).
inline std::uint64_t special_section_bytes(const special_tokens& specials) noexcept {
    if (specials.empty()) return 0;
    std::uint64_t s = 8 + 8 * std::uint64_t{specials.size()};
    for (const auto& t : specials.tokens()) s += t.content.size();
    return s;
}

/// The checksum of a whole image (of at least the header's size).
inline std::uint64_t checksum(std::string_view file) noexcept {
    return hash_bytes(file.size() > checksum_from ? file.substr(checksum_from) : std::string_view());
}

}  // namespace binary_format

/// Writes and reads binary models; a friend of the model and the trie, whose arrays it fills.
struct binary_model_access {
    /// The binary image of `m` with its trie `t` (built from exactly m's pieces).
    /// With special tokens, the image is of version 2 and holds them after the pieces.
    template <class Model>
    static std::string write(const Model& m, const double_array_trie& t, const special_tokens& specials = {}) {
        namespace bf = binary_format;
        const std::uint64_t n = m.piece_count();
        const std::uint64_t units = t.units_.size();
        const std::uint64_t piece_bytes = m.bytes_.size();
        const std::uint64_t special_bytes = bf::special_section_bytes(specials);
        const bf::layout at(n, units, piece_bytes, special_bytes);
        std::string out(static_cast<std::size_t>(at.end), '\0');
        char* p = &out[0];
        std::memcpy(p, bf::magic, sizeof bf::magic);
        bf::store<std::uint32_t>(p + 16, special_bytes ? bf::version_with_specials : bf::version);
        bf::store<std::uint64_t>(p + 56, special_bytes);
        if (special_bytes) {
            char* q = p + at.specials;
            bf::store<std::uint32_t>(q, static_cast<std::uint32_t>(specials.size()));
            char* text = q + 8 + 8 * specials.size();
            for (const auto& sp : specials.tokens()) {
                q += 8;
                bf::store<std::uint32_t>(q, sp.id);
                bf::store<std::uint32_t>(q + 4, static_cast<std::uint32_t>(sp.content.size()));
                std::memcpy(text, sp.content.data(), sp.content.size());
                text += sp.content.size();
            }
        }
        bf::store<std::uint32_t>(p + 20, static_cast<std::uint32_t>(bf::header_bytes));
        bf::store<std::uint64_t>(p + 24, at.end);
        bf::store<std::uint64_t>(p + 32, n);
        bf::store<std::uint64_t>(p + 40, units);
        bf::store<std::uint64_t>(p + 48, piece_bytes);
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::size_t id = static_cast<std::size_t>(Model::first_piece_id + i);
            bf::store<std::uint64_t>(p + at.counts + 8 * i, m.counts_[id]);
            bf::store<std::uint32_t>(p + at.offsets + 4 * i, m.offsets_[id]);
        }
        bf::store<std::uint32_t>(p + at.offsets + 4 * n, static_cast<std::uint32_t>(piece_bytes));
        for (std::uint64_t i = 0; i < units; ++i) {
            const auto& u = t.units_[static_cast<std::size_t>(i)];
            char* q = p + at.trie + bf::unit_bytes * i;
            bf::store<std::uint32_t>(q, u.base);
            bf::store<std::uint32_t>(q + 4, u.check);
            bf::store<std::uint32_t>(q + 8, static_cast<std::uint32_t>(u.value));
        }
        if (piece_bytes) std::memcpy(p + at.bytes, m.bytes_.data(), static_cast<std::size_t>(piece_bytes));
        bf::store<std::uint64_t>(p + 8, bf::checksum(out));
        return out;
    }

    /// Reads a binary model, validating it completely; `source` names it in errors.
    template <class Model>
    static std::pair<Model, double_array_trie> read(std::string_view file, const std::string& source) {
        special_tokens ignored;
        return read<Model>(file, source, ignored);
    }

    /// `read`, also giving the special tokens a version 2 image holds (none for version 1).
    template <class Model>
    static std::pair<Model, double_array_trie> read(std::string_view file, const std::string& source,
                                                    special_tokens& specials) {
        namespace bf = binary_format;
        using id_type = typename Model::id_type;
        const char* p = file.data();
        auto fail = [&](errc code, const std::string& what) { BYTEPIECE_THROW(model_error(code, source + ": " + what)); };

        if (!bf::has_magic(file)) fail(errc::model_binary_invalid, "not a binary model (its first 8 bytes are not the magic)");
        if (file.size() < bf::header_bytes)
            fail(errc::model_binary_damaged, "truncated: " + std::to_string(file.size()) +
                                                  " bytes, shorter than the 64-byte header of a binary model");
        const auto version = bf::load<std::uint32_t>(p + 16);
        if (version != bf::version && version != bf::version_with_specials)
            fail(errc::model_binary_version, "binary model format version " + std::to_string(version) +
                                                  "; this library reads versions 1 and 2" +
                                                  " (convert the JSON model again with this version)");
        const auto header = bf::load<std::uint32_t>(p + 20);
        const auto size = bf::load<std::uint64_t>(p + 24);
        if (size != file.size())
            fail(errc::model_binary_damaged, "the header gives a size of " + std::to_string(size) +
                                                  " bytes but the file has " + std::to_string(file.size()) +
                                                  " (truncated, or something was appended)");
        const auto stored = bf::load<std::uint64_t>(p + 8);
        const auto actual = bf::checksum(file);
        if (stored != actual)
            fail(errc::model_binary_damaged, "checksum mismatch (stored " + hex(stored) + ", computed " + hex(actual) +
                                                  "): the file was altered after it was written");

        const auto n = bf::load<std::uint64_t>(p + 32);
        const auto units = bf::load<std::uint64_t>(p + 40);
        const auto piece_bytes = bf::load<std::uint64_t>(p + 48);
        const auto special_bytes = bf::load<std::uint64_t>(p + 56);
        if (header != bf::header_bytes || (version == bf::version) != (special_bytes == 0))
            fail(errc::model_binary_invalid, "header: size " + std::to_string(header) + " or its reserved word (" +
                                                  std::to_string(special_bytes) + ") is not that of version " +
                                                  std::to_string(version));
        if (special_bytes >= (std::uint64_t{1} << 32))
            fail(errc::model_binary_invalid, "header: a special tokens' section of " + std::to_string(special_bytes) + " bytes");
        if (n == 0) fail(errc::model_empty, "the model has no pieces");
        if (n > std::numeric_limits<id_type>::max() - Model::first_piece_id || n >= (std::uint64_t{1} << 27))
            fail(errc::model_too_large, std::to_string(n) + " pieces do not fit the id type");
        // Bounds that keep the layout's sums far from overflow; a real file is much smaller.
        if (units < 257 || units >= (std::uint64_t{1} << 30))
            fail(errc::model_binary_invalid, "header: a trie of " + std::to_string(units) + " units (must be 257 to 2^30 - 1)");
        if (piece_bytes > std::numeric_limits<std::uint32_t>::max())
            fail(errc::model_too_large, "pieces total more than 4 GiB");
        const bf::layout at(n, units, piece_bytes, special_bytes);
        if (at.end != size)
            fail(errc::model_binary_invalid, "header: " + std::to_string(n) + " pieces, " + std::to_string(units) +
                                                  " trie units, " + std::to_string(piece_bytes) + " piece bytes and " +
                                                  std::to_string(special_bytes) + " special bytes make " +
                                                  std::to_string(at.end) + " bytes, not the file's " + std::to_string(size));

        // Zero padding keeps the image canonical: a file that loads is the one to_binary writes.
        const std::uint64_t gaps[4][2] = {{at.counts + 8 * n, at.offsets},
                                          {at.offsets + 4 * (n + 1), at.trie},
                                          {at.trie + bf::unit_bytes * units, at.bytes},
                                          {at.bytes + piece_bytes, at.specials}};
        for (const auto& gap : gaps)
            for (std::uint64_t i = gap[0]; i < gap[1]; ++i)
                if (p[i] != 0) fail(errc::model_binary_invalid, "byte " + std::to_string(i) + " of the padding between sections is not zero");

        Model m;
        const std::size_t vocab = static_cast<std::size_t>(n) + Model::first_piece_id;
        m.counts_.assign(vocab, 0);
        m.offsets_.assign(vocab + 1, 0);
        bf::load_array(m.counts_.data() + Model::first_piece_id, p + at.counts, static_cast<std::size_t>(n));
        bf::load_array(m.offsets_.data() + Model::first_piece_id, p + at.offsets, static_cast<std::size_t>(n) + 1);
        m.bytes_.assign(p + at.bytes, static_cast<std::size_t>(piece_bytes));

        std::uint64_t total = 0;
        std::size_t max_len = 0;
        bool have_byte[256] = {};
        if (m.offsets_[Model::first_piece_id] != 0)
            fail(errc::model_binary_invalid, "offsets: the first piece starts at " +
                                                  std::to_string(m.offsets_[Model::first_piece_id]) + ", not 0");
        if (m.offsets_[vocab] != piece_bytes)
            fail(errc::model_binary_invalid, "offsets: the last piece ends at " + std::to_string(m.offsets_[vocab]) +
                                                  ", not at the " + std::to_string(piece_bytes) + " piece bytes");
        for (std::size_t id = Model::first_piece_id; id < vocab; ++id) {
            const std::uint32_t lo = m.offsets_[id], hi = m.offsets_[id + 1];
            if (hi <= lo)
                fail(errc::model_empty_piece, "id " + std::to_string(id) + ": offsets " + std::to_string(lo) + " to " +
                                                   std::to_string(hi) + " give no bytes");
            // Increasing offsets end at piece_bytes only when all are checked; until then a
            // jump past the end must be caught here, before the piece's bytes are read.
            if (hi > piece_bytes)
                fail(errc::model_binary_invalid, "id " + std::to_string(id) + ": offsets " + std::to_string(lo) + " to " +
                                                      std::to_string(hi) + " run past the " + std::to_string(piece_bytes) +
                                                      " piece bytes");
            const std::uint64_t c = m.counts_[id];
            if (c == 0) fail(errc::model_bad_count, "id " + std::to_string(id) + ": count 0 is not positive");
            if (total + c < total) fail(errc::model_bad_count, "id " + std::to_string(id) + ": the sum of counts overflows 64 bits");
            total += c;
            max_len = std::max<std::size_t>(max_len, hi - lo);
            if (hi - lo == 1) have_byte[static_cast<unsigned char>(m.bytes_[lo])] = true;
        }
        for (int b = 0; b < 256; ++b)
            if (!have_byte[b])
                fail(errc::model_missing_byte, "the single-byte piece 0x" + hex(static_cast<std::uint64_t>(b)).substr(14) +
                                                    " is missing; all 256 bytes must be pieces so every input encodes");

        double_array_trie t;
        t.units_.resize(static_cast<std::size_t>(units));
        std::size_t valued = 0;
        for (std::size_t i = 0; i < t.units_.size(); ++i) {
            const char* q = p + at.trie + bf::unit_bytes * i;
            auto& u = t.units_[i];
            u.base = bf::load<std::uint32_t>(q);
            u.check = bf::load<std::uint32_t>(q + 4);
            u.value = static_cast<std::int32_t>(bf::load<std::uint32_t>(q + 8));
            // Walks index base + byte without a bounds check.
            if (u.base > units - 256)
                fail(errc::model_binary_invalid, "trie unit " + std::to_string(i) + ": base " + std::to_string(u.base) +
                                                      " leaves no room for 256 children in " + std::to_string(units) + " units");
            if (u.value != double_array_trie::no_value && (u.value < static_cast<std::int64_t>(Model::first_piece_id) ||
                                                           static_cast<std::uint64_t>(u.value) >= vocab))
                fail(errc::model_binary_invalid, "trie unit " + std::to_string(i) + ": value " + std::to_string(u.value) +
                                                      " is not a piece id");
            valued += u.value != double_array_trie::no_value;
        }
        if (t.units_[0].check != double_array_trie::root_check)
            fail(errc::model_binary_invalid, "trie unit 0 is not marked as the root");

        // Each piece must walk to a node holding its own id. That also rules out repeated
        // pieces (they would walk to one node), and with the count below, values off the walks.
        std::vector<unsigned char> on_walk(t.units_.size(), 0);
        if (valued != n)
            fail(errc::model_binary_invalid, "the trie holds " + std::to_string(valued) + " values for " +
                                                  std::to_string(n) + " pieces");
        for (std::size_t id = Model::first_piece_id; id < vocab; ++id) {
            std::uint32_t node = 0;
            for (std::uint32_t k = m.offsets_[id]; k < m.offsets_[id + 1]; ++k) {
                const std::uint32_t next = t.units_[node].base + static_cast<unsigned char>(m.bytes_[k]);
                if (t.units_[next].check != node)
                    fail(errc::model_binary_invalid, "id " + std::to_string(id) + ": the trie has no path for the piece");
                node = next;
                on_walk[node] = 1;
            }
            if (t.units_[node].value != static_cast<std::int64_t>(id))
                fail(errc::model_binary_invalid,
                     "id " + std::to_string(id) + ": the trie gives the piece the value " + std::to_string(t.units_[node].value) +
                         (t.units_[node].value >= 0 ? " (a repeated piece?)" : ""));
        }
        // A used cell off every walk would be a node no piece explains, which the automaton
        // would have to give a row for.
        for (std::size_t i = 1; i < t.units_.size(); ++i)
            if (t.units_[i].check != double_array_trie::free_check && !on_walk[i])
                fail(errc::model_binary_invalid, "trie unit " + std::to_string(i) + " is used but lies on no piece's path");

        if (special_bytes) specials = read_specials(p + at.specials, special_bytes, fail);

        m.total_ = total;
        m.max_len_ = max_len;
        m.rescore();
        return {std::move(m), std::move(t)};
    }

    /// A model file of either format, told apart by the binary magic: the model, and the trie
    /// when the file holds one. A file of a known other format (a SentencePiece model, a zip,
    /// ...) is refused as `errc::model_wrong_format` naming what it is. The file's bytes are freed on return, before a caller builds
    /// anything more, so that they do not add to a load's peak memory.
    template <class Model>
    static std::pair<Model, std::optional<double_array_trie>> load_file(const std::string& path) {
        special_tokens ignored;
        return load_file<Model>(path, ignored);
    }

    /// `load_file`, also giving the special tokens of a binary model (none for JSON).
    template <class Model>
    static std::pair<Model, std::optional<double_array_trie>> load_file(const std::string& path, special_tokens& specials) {
        const std::string data = read_file(path);
        if (!binary_format::has_magic(data)) {
            if (const foreign_format f = sniff_foreign_format(data); !f.what.empty())
                BYTEPIECE_THROW(model_error(errc::model_wrong_format, path + ": this is " + std::string(f.what) +
                                                                         ", not a BytePiece model; " + std::string(f.hint)));
            return {Model::from_json(data, path), std::nullopt};
        }
        auto [m, t] = read<Model>(data, path, specials);
        return {std::move(m), std::move(t)};
    }

private:
    // The special tokens' section of `bytes` bytes at `p`, checked whole: its count, lengths
    // and contents must fill it exactly and make a valid set (`special_tokens` refuses empty,
    // repeated or invalid UTF-8 contents, and repeated ids).
    template <class Fail>
    static special_tokens read_specials(const char* p, std::uint64_t bytes, Fail& fail) {
        namespace bf = binary_format;
        const std::uint64_t k = bf::load<std::uint32_t>(p);
        if (k == 0 || bf::load<std::uint32_t>(p + 4) != 0 || 8 + 8 * k > bytes)
            fail(errc::model_binary_invalid, "special tokens: a count of " + std::to_string(k) + " in a section of " +
                                                  std::to_string(bytes) + " bytes");
        std::uint64_t text = 8 + 8 * k;
        special_tokens specials;
        for (std::uint64_t i = 0; i < k; ++i) {
            const auto id = bf::load<std::uint32_t>(p + 8 + 8 * i);
            const std::uint64_t length = bf::load<std::uint32_t>(p + 12 + 8 * i);
            if (length > bytes - text)
                fail(errc::model_binary_invalid, "special token " + std::to_string(i) + " (id " + std::to_string(id) +
                                                      "): its " + std::to_string(length) + " bytes run past the section");
            try {
                specials.add(std::string(p + text, static_cast<std::size_t>(length)), id);
            } catch (const argument_error& e) {
                fail(errc::model_binary_invalid, "special token " + std::to_string(i) + ": " + e.what());
            }
            text += length;
        }
        if (text != bytes)
            fail(errc::model_binary_invalid, "special tokens: " + std::to_string(bytes - text) +
                                                  " bytes at the end of the section belong to no token");
        return specials;
    }

    static std::string hex(std::uint64_t v) {
        static const char digits[] = "0123456789abcdef";
        std::string s(16, '0');
        for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 15];
        return s;
    }
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
