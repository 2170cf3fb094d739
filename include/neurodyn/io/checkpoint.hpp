#pragma once
/// \file checkpoint.hpp
/// A small binary checkpoint container: named arrays (float32, float64, uint64 or int64,
/// any number of dimensions) and texts (e.g. a list of key/value strings), written atomically
/// and validated on read.
///
/// Layout (little-endian):
///   "NDCKPT\r\n" (8 bytes) | u32 format version (2) | u32 number of sections |
///   per section: u32 name length | name | u32 type (1 f32, 2 f64, 3 u64, 4 i64, 5 text) |
///                u32 ndim | u64 dims[ndim] | data (row-major, product(dims) values; a text
///                has ndim 1 and dims[0] bytes) |
///   u64 FNV-1a hash of every preceding byte.
/// Version 2 added the text type; version-1 files (arrays only) still read.
/// A truncated, corrupted (hash mismatch), foreign or newer-format file throws `file_error`
/// naming the file and the field; so does asking for a missing section or one of another
/// type or shape. Values are stored bit for bit, so a restored run continues exactly.
///
/// \code
/// neurodyn::Checkpoint ck;
/// ck.put("J", J);                         // Eigen matrix
/// ck.put_scalars<std::uint64_t>("iteration", {7});
/// ck.put_strings("parameters", {"alpha", "1", "seed", "7"});
/// ck.save("out/train.ckpt");              // atomic: old file or new file, never half
/// auto back = neurodyn::Checkpoint::load("out/train.ckpt");
/// Matrix<double> J2 = back.matrix<double>("J", 87, 87);
/// \endcode
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

class Checkpoint {
public:
    static constexpr char magic[9] = "NDCKPT\r\n";
    static constexpr std::uint32_t version = 2;

    /// Store an Eigen matrix or vector (as 2-D rows × cols, row-major on disk).
    template <class Derived>
    void put(const std::string& name, const Eigen::DenseBase<Derived>& m) {
        using S = typename Derived::Scalar;
        std::vector<S> v(std::size_t(m.rows() * m.cols()));
        for (index_t i = 0; i < m.rows(); ++i)
            for (index_t j = 0; j < m.cols(); ++j) v[std::size_t(i * m.cols() + j)] = m(i, j);
        put_array<S>(name, {std::uint64_t(m.rows()), std::uint64_t(m.cols())}, v);
    }

    /// Store a flat list of values with the given dims (their product must equal its size).
    template <class S>
    void put_array(const std::string& name, std::vector<std::uint64_t> dims, const std::vector<S>& values) {
        std::uint64_t count = 1;
        for (auto d : dims) count *= d;
        require(count == values.size(), "checkpoint section '" + name + "'", std::to_string(values.size()) + " values",
                "must match its dims (" + std::to_string(count) + ")");
        Section s{type_of<S>(), std::move(dims), {}};
        s.bytes.resize(values.size() * sizeof(S));
        if (!values.empty()) std::memcpy(s.bytes.data(), values.data(), s.bytes.size());
        sections_[name] = std::move(s);
    }

    template <class S>
    void put_scalars(const std::string& name, const std::vector<S>& values) {
        put_array<S>(name, {std::uint64_t(values.size())}, values);
    }

    /// Store a text (any bytes).
    void put_text(const std::string& name, const std::string& text) {
        sections_[name] = Section{5, {std::uint64_t(text.size())}, text};
    }

    /// Store a list of strings (each as "<length>:<bytes>", so any bytes survive).
    void put_strings(const std::string& name, const std::vector<std::string>& list) {
        std::string t;
        for (const auto& x : list) t += std::to_string(x.size()) + ":" + x;
        put_text(name, t);
    }

    /// The text of a section stored with put_text (file_error if missing or not a text).
    std::string text(const std::string& name) const {
        const Section& s = section(name);
        if (s.type != 5) throw file_error(file_, name, "stored as " + type_name(s.type) + ", expected text");
        return s.bytes;
    }

    /// The list stored with put_strings; a malformed encoding is a file_error.
    std::vector<std::string> strings(const std::string& name) const {
        const std::string t = text(name);
        std::vector<std::string> out;
        std::size_t pos = 0;
        while (pos < t.size()) {
            const auto colon = t.find(':', pos);
            if (colon == std::string::npos || colon == pos || colon - pos > 12)
                throw file_error(file_, name, "is not a list of strings (bad length prefix)");
            std::uint64_t len = 0;
            for (auto i = pos; i < colon; ++i) {
                if (t[i] < '0' || t[i] > '9') throw file_error(file_, name, "is not a list of strings (bad length prefix)");
                len = len * 10 + std::uint64_t(t[i] - '0');
            }
            if (len > t.size() - colon - 1) throw file_error(file_, name, "is not a list of strings (entry runs past the end)");
            out.push_back(t.substr(colon + 1, std::size_t(len)));
            pos = colon + 1 + std::size_t(len);
        }
        return out;
    }

    bool has(const std::string& name) const { return sections_.count(name) != 0; }

    /// The dims of a section (throws file_error if missing).
    const std::vector<std::uint64_t>& dims(const std::string& name) const { return section(name).dims; }

    /// The values of a section of type S with exactly `expected` dims (empty: any dims).
    template <class S>
    std::vector<S> array(const std::string& name, const std::vector<std::uint64_t>& expected = {}) const {
        const Section& s = section(name);
        if (s.type != type_of<S>())
            throw file_error(file_, name, "stored as " + type_name(s.type) + ", expected " + type_name(type_of<S>()));
        if (!expected.empty() && s.dims != expected)
            throw file_error(file_, name, "has shape " + dims_text(s.dims) + ", expected " + dims_text(expected));
        std::vector<S> v(s.bytes.size() / sizeof(S));
        if (!v.empty()) std::memcpy(v.data(), s.bytes.data(), s.bytes.size());
        return v;
    }

    /// A rows × cols matrix of scalar T.
    template <Real T>
    Matrix<T> matrix(const std::string& name, index_t rows, index_t cols) const {
        const auto v = array<T>(name, {std::uint64_t(rows), std::uint64_t(cols)});
        Matrix<T> m(rows, cols);
        for (index_t i = 0; i < rows; ++i)
            for (index_t j = 0; j < cols; ++j) m(i, j) = v[std::size_t(i * cols + j)];
        return m;
    }

    /// Write atomically (a crash leaves the previous checkpoint intact).
    void save(const std::filesystem::path& path) const {
        std::string out(magic, 8);
        append(out, version);
        append(out, std::uint32_t(sections_.size()));
        for (const auto& [name, s] : sections_) {
            append(out, std::uint32_t(name.size()));
            out += name;
            append(out, s.type);
            append(out, std::uint32_t(s.dims.size()));
            for (auto d : s.dims) append(out, d);
            out.append(s.bytes.begin(), s.bytes.end());
        }
        append(out, fnv1a(out));
        write_atomically(path, [&](std::ostream& os) { os.write(out.data(), std::streamsize(out.size())); });
    }

    /// Read and validate a checkpoint.
    static Checkpoint load(const std::filesystem::path& path) {
        static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");
        Checkpoint ck;
        ck.file_ = path.string();
        std::ifstream in(path, std::ios::binary);
        if (!in) throw file_error(ck.file_, "", "cannot open for reading");
        const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (data.size() < 8 || data.compare(0, 8, std::string(magic, 8)) != 0)
            throw file_error(ck.file_, "", "not a neurodyn checkpoint (bad magic)");
        if (data.size() < 8 + 8 + 8) throw file_error(ck.file_, "", "truncated");
        std::uint64_t stored = 0;
        std::memcpy(&stored, data.data() + data.size() - 8, 8);
        const std::string_view body(data.data(), data.size() - 8);
        std::size_t pos = 8;
        auto need = [&](std::size_t n, const std::string& field) {
            if (pos + n > body.size()) throw file_error(ck.file_, field, "truncated");
        };
        auto read = [&]<class V>(V& v, const std::string& field) {
            need(sizeof(V), field);
            std::memcpy(&v, body.data() + pos, sizeof(V));
            pos += sizeof(V);
        };
        std::uint32_t ver = 0, count = 0;
        read(ver, "version");
        if (ver < 1 || ver > version)
            throw file_error(ck.file_, "version", "is " + std::to_string(ver) + ", this library reads versions 1 to " +
                                                      std::to_string(version));
        if (fnv1a(body) != stored) throw file_error(ck.file_, "", "corrupted (checksum mismatch) or truncated");
        read(count, "header");
        for (std::uint32_t k = 0; k < count; ++k) {
            std::uint32_t len = 0, type = 0, ndim = 0;
            read(len, "section name");
            need(len, "section name");
            std::string name(body.data() + pos, len);
            pos += len;
            read(type, name);
            if (type < 1 || type > (ver >= 2 ? 5u : 4u)) throw file_error(ck.file_, name, "unknown type code " + std::to_string(type));
            read(ndim, name);
            if (ndim > 8) throw file_error(ck.file_, name, "has " + std::to_string(ndim) + " dimensions (max 8)");
            if (type == 5 && ndim != 1) throw file_error(ck.file_, name, "is a text with " + std::to_string(ndim) + " dimensions (must be 1)");
            Section s{type, std::vector<std::uint64_t>(ndim), {}};
            std::uint64_t n = 1;
            for (auto& d : s.dims) {
                read(d, name);
                if (d != 0 && n > (std::uint64_t(1) << 40) / d) throw file_error(ck.file_, name, "implausible size");
                n *= d;
            }
            const std::size_t bytes = std::size_t(n) * type_size(type);
            need(bytes, name);
            s.bytes.assign(body.data() + pos, body.data() + pos + bytes);
            pos += bytes;
            ck.sections_[name] = std::move(s);
        }
        if (pos != body.size()) throw file_error(ck.file_, "", "has trailing bytes after the last section");
        return ck;
    }

    /// File the checkpoint was loaded from (empty for one built in memory).
    const std::string& file() const noexcept { return file_; }

    static std::uint64_t fnv1a(std::string_view s) noexcept {
        std::uint64_t h = 0xcbf29ce484222325ULL;
        for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
        return h;
    }

private:
    struct Section {
        std::uint32_t type;
        std::vector<std::uint64_t> dims;
        std::string bytes;
    };

    template <class S>
    static constexpr std::uint32_t type_of() {
        if constexpr (std::is_same_v<S, float>) return 1;
        else if constexpr (std::is_same_v<S, double>) return 2;
        else if constexpr (std::is_same_v<S, std::uint64_t>) return 3;
        else {
            static_assert(std::is_same_v<S, std::int64_t>, "Checkpoint stores float, double, uint64_t or int64_t");
            return 4;
        }
    }
    static std::size_t type_size(std::uint32_t t) { return t == 1 ? 4 : t == 5 ? 1 : 8; }
    static std::string type_name(std::uint32_t t) {
        switch (t) {
            case 1: return "float32";
            case 2: return "float64";
            case 3: return "uint64";
            case 5: return "text";
            default: return "int64";
        }
    }
    static std::string dims_text(const std::vector<std::uint64_t>& d) {
        std::string s = "(";
        for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
        return s + ")";
    }
    template <class V>
    static void append(std::string& out, V v) {
        char b[sizeof(V)];
        std::memcpy(b, &v, sizeof(V));
        out.append(b, sizeof(V));
    }
    const Section& section(const std::string& name) const {
        auto it = sections_.find(name);
        if (it == sections_.end()) throw file_error(file_, name, "missing from the checkpoint");
        return it->second;
    }

    std::map<std::string, Section> sections_;
    std::string file_;
};

}  // namespace neurodyn
