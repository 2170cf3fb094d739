#pragma once
/// \file npy.hpp
/// NumPy .npy files: written through xtensor (atomically), read with the checks xtensor leaves
/// out. A missing, truncated or non-.npy file, a malformed header, an unexpected dtype or
/// shape, or a shape declaring more data than the file holds (checked before allocating)
/// throws `neurodyn::file_error` naming the file and the header field.
///
/// \code
/// xt::xarray<double> targets = neurodyn::load_npy<double>("targets.npy", 3);  // expect 3-D
/// neurodyn::save_npy("out/J.npy", J);   // an Eigen matrix or any xtensor expression
/// \endcode
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Write an xtensor expression as .npy (C order), atomically.
template <class E>
void save_npy(const std::filesystem::path& path, const xt::xexpression<E>& e) {
    const std::string bytes = xt::dump_npy(e);
    write_atomically(path, [&](std::ostream& os) { os.write(bytes.data(), std::streamsize(bytes.size())); });
}

/// Write an Eigen matrix or vector as a 2-D (rows, cols) or 1-D .npy array in C order.
template <class Derived>
void save_npy(const std::filesystem::path& path, const Eigen::DenseBase<Derived>& m) {
    using T = typename Derived::Scalar;
    const auto& d = m.derived();
    if constexpr (Derived::ColsAtCompileTime == 1) {
        xt::xarray<T> a = xt::zeros<T>({std::size_t(d.rows())});
        for (Eigen::Index i = 0; i < d.rows(); ++i) a(i) = d(i);
        save_npy(path, a);
    } else {
        xt::xarray<T> a = xt::zeros<T>({std::size_t(d.rows()), std::size_t(d.cols())});
        for (Eigen::Index i = 0; i < d.rows(); ++i)
            for (Eigen::Index j = 0; j < d.cols(); ++j) a(i, j) = d(i, j);
        save_npy(path, a);
    }
}

namespace detail {
/// The value of `key` in a .npy header dictionary: a quoted string without its quotes, or the
/// bare word (True, False) up to the next comma or brace.
inline std::string npy_header_value(const std::string& file, const std::string& header, const std::string& key) {
    auto p = header.find("'" + key + "'");
    if (p == std::string::npos) throw file_error(file, key, "missing from the .npy header");
    p = header.find(':', p);
    if (p == std::string::npos) throw file_error(file, key, "has no value in the .npy header");
    ++p;
    while (p < header.size() && header[p] == ' ') ++p;
    if (p < header.size() && (header[p] == '\'' || header[p] == '"')) {
        const auto q = header.find(header[p], p + 1);
        if (q == std::string::npos) throw file_error(file, key, "has an unterminated string in the .npy header");
        return header.substr(p + 1, q - p - 1);
    }
    const auto q = header.find_first_of(",}", p);
    std::string v = header.substr(p, q == std::string::npos ? std::string::npos : q - p);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\n')) v.pop_back();
    return v;
}

/// The 'shape' tuple of a .npy header as unsigned 64-bit numbers; anything but a tuple of
/// non-negative integers (e.g. a negative or out-of-range dimension) is a file_error.
inline std::vector<std::uint64_t> npy_shape(const std::string& file, const std::string& header) {
    const auto key = header.find("'shape'");
    const auto open = key == std::string::npos ? key : header.find('(', key);
    const auto close = open == std::string::npos ? open : header.find(')', open);
    if (close == std::string::npos) throw file_error(file, "shape", "missing from the header (no 'shape': (...) tuple)");
    std::vector<std::uint64_t> shape;
    std::string tok;
    auto flush = [&](bool last) {
        std::string t;
        for (char c : tok)
            if (c != ' ') t += c;
        tok.clear();
        if (t.empty()) {
            if (last) return;  // (3,) or ()
            throw file_error(file, "shape", "is not a tuple of integers: '" + header.substr(open, close - open + 1) + "'");
        }
        std::uint64_t v = 0;
        const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec != std::errc() || p != t.data() + t.size())
            throw file_error(file, "shape", "has the dimension '" + t + "': must be an integer in [0, 2^64)");
        shape.push_back(v);
    };
    for (auto i = open + 1; i < close; ++i) {
        if (header[i] == ',') flush(false);
        else tok += header[i];
    }
    flush(true);
    return shape;
}
}  // namespace detail

/// Read a .npy file of float64 or float32 into an xarray<T> (row-major).
/// The header is parsed here, and the declared shape checked against the bytes the file
/// holds (an overflow-safe product), before anything is allocated: a header declaring
/// (2, 2^62, 4) is a file_error naming the shape and the file size, not a length_error.
/// Bytes after the data are ignored, as numpy does.
/// \param expected_dim number of dimensions required, or -1 for any.
template <Real T>
xt::xarray<T> load_npy(const std::filesystem::path& path, int expected_dim = -1) {
    const std::string file = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(file, "", "cannot open for reading");
    in.seekg(0, std::ios::end);
    const auto end = in.tellg();
    in.seekg(0);
    if (end < 0) throw file_error(file, "", "cannot determine the file size");
    const std::uint64_t file_size = std::uint64_t(end);
    char magic[8] = {};
    in.read(magic, 8);
    if (!in || std::string(magic, 6) != std::string("\x93NUMPY", 6))
        throw file_error(file, "", "not a .npy file (bad magic string)");
    const auto major = static_cast<unsigned char>(magic[6]);
    if (major != 1 && major != 2 && major != 3)
        throw file_error(file, "version", "is " + std::to_string(major) + ", expected a .npy format version 1, 2 or 3");
    // Header length: little-endian u16 (version 1) or u32 (versions 2, 3), read unsigned.
    unsigned char len_bytes[4] = {};
    const int len_size = major == 1 ? 2 : 4;
    in.read(reinterpret_cast<char*>(len_bytes), len_size);
    if (!in) throw file_error(file, "header", "truncated: the file ends inside the header length");
    std::uint64_t header_len = 0;
    for (int i = len_size - 1; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
    const std::uint64_t data_offset = 8 + std::uint64_t(len_size) + header_len;
    if (data_offset > file_size)
        throw file_error(file, "header", "declares " + std::to_string(header_len) + " header bytes, but the file has " +
                                             std::to_string(file_size) + " bytes in all (truncated?)");
    std::string header(std::size_t(header_len), '\0');
    in.read(header.data(), std::streamsize(header_len));
    if (!in) throw file_error(file, "header", "truncated");
    if (header.empty() || header.back() != '\n' || header.find('{') == std::string::npos)
        throw file_error(file, "header", "malformed .npy header (not a newline-terminated dictionary)");
    const std::string type = detail::npy_header_value(file, header, "descr");
    const std::string order = detail::npy_header_value(file, header, "fortran_order");
    if (order != "True" && order != "False")
        throw file_error(file, "fortran_order", "is '" + order + "', expected True or False");
    const bool fortran = order == "True";
    const std::vector<std::uint64_t> shape = detail::npy_shape(file, header);
    std::string shape_text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) shape_text += (i ? ", " : "") + std::to_string(shape[i]);
    shape_text += shape.size() == 1 ? ",)" : ")";
    if (expected_dim >= 0 && int(shape.size()) != expected_dim)
        throw file_error(file, "shape", "is " + shape_text + ", expected " + std::to_string(expected_dim) + " dimensions");
    const bool is_f8 = type == xt::detail::build_typestring<double>();
    const bool is_f4 = type == xt::detail::build_typestring<float>();
    if (!is_f8 && !is_f4)
        throw file_error(file, "dtype", "is '" + type + "', expected float64 ('<f8') or float32 ('<f4')");
    const std::uint64_t word = is_f8 ? 8 : 4;
    // Overflow-safe count × word, compared with what the file holds after the header.
    const std::uint64_t available = file_size - data_offset;
    std::uint64_t bytes = word;
    bool overflow = false;
    for (auto d : shape) {
        if (d != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / d) overflow = true;
        else bytes *= d;
        if (overflow) break;
    }
    if (overflow || bytes > available)
        throw file_error(file, "shape",
                         "declares " + shape_text + " of " + std::to_string(word) + "-byte values (" +
                             (overflow ? std::string("more than 2^64") : std::to_string(bytes)) +
                             " bytes of data), but the file has only " + std::to_string(available) +
                             " bytes after its header (file size " + std::to_string(file_size) + " bytes): truncated or a corrupt header");
    std::vector<std::size_t> sh(shape.begin(), shape.end());
    auto read_as = [&]<class S>(S) -> xt::xarray<T> {
        // The data fit in the file, so this allocation is bounded by the file size.
        if (fortran) {
            xt::xarray<S, xt::layout_type::column_major> a = xt::xarray<S, xt::layout_type::column_major>::from_shape(sh);
            if (bytes) in.read(reinterpret_cast<char*>(a.data()), std::streamsize(bytes));
            if (!in) throw file_error(file, "data", "truncated: expected " + std::to_string(bytes) + " bytes of data");
            return xt::cast<T>(a);
        }
        xt::xarray<S> a = xt::xarray<S>::from_shape(sh);
        if (bytes) in.read(reinterpret_cast<char*>(a.data()), std::streamsize(bytes));
        if (!in) throw file_error(file, "data", "truncated: expected " + std::to_string(bytes) + " bytes of data");
        return xt::cast<T>(a);
    };
    return is_f8 ? read_as(double{}) : read_as(float{});
}

}  // namespace neurodyn
