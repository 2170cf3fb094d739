#pragma once
/// \file npy.hpp
/// NumPy .npy files through xtensor, with the checks xtensor leaves out: a missing,
/// truncated or non-.npy file, or an unexpected dtype or shape, throws `neurodyn::file_error`
/// naming the file. Files are written atomically.
///
/// \code
/// xt::xarray<double> targets = neurodyn::load_npy<double>("targets.npy", 3);  // expect 3-D
/// neurodyn::save_npy("out/J.npy", J);   // an Eigen matrix or any xtensor expression
/// \endcode
#include <filesystem>
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

/// Read a .npy file of float64 or float32 into an xarray<T> (row-major).
/// \param expected_dim number of dimensions required, or -1 for any.
template <Real T>
xt::xarray<T> load_npy(const std::filesystem::path& path, int expected_dim = -1) {
    const std::string file = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(file, "", "cannot open for reading");
    char magic[6] = {};
    in.read(magic, 6);
    if (!in || std::string(magic, 6) != std::string("\x93NUMPY", 6))
        throw file_error(file, "", "not a .npy file (bad magic string)");
    in.seekg(0);
    xt::detail::npy_file f = [&] {
        try {
            return xt::detail::load_npy_file(in);
        } catch (const std::exception& e) {
            throw file_error(file, "header", std::string("malformed .npy header: ") + e.what());
        }
    }();
    std::size_t count = 1;
    for (auto s : f.m_shape) count *= s;
    if (!in || std::size_t(in.gcount()) != f.m_n_bytes || f.m_n_bytes != count * f.m_word_size)
        throw file_error(file, "data", "truncated: expected " + std::to_string(count * f.m_word_size) +
                                           " bytes of data");
    if (expected_dim >= 0 && int(f.m_shape.size()) != expected_dim) {
        std::string shape = "(";
        for (std::size_t i = 0; i < f.m_shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(f.m_shape[i]);
        throw file_error(file, "shape", "has shape " + shape + "), expected " + std::to_string(expected_dim) +
                                            " dimensions");
    }
    const std::string type = f.m_typestring;
    const bool is_f8 = type == xt::detail::build_typestring<double>();
    const bool is_f4 = type == xt::detail::build_typestring<float>();
    if (!is_f8 && !is_f4)
        throw file_error(file, "dtype", "is '" + type + "', expected float64 ('<f8') or float32 ('<f4')");
    xt::xarray<T> out;
    const auto fortran = f.m_fortran_order;
    if (is_f8) {
        auto a = std::move(f).template cast<double, xt::layout_type::dynamic>();
        out = xt::cast<T>(a);
    } else {
        auto a = std::move(f).template cast<float, xt::layout_type::dynamic>();
        out = xt::cast<T>(a);
    }
    (void)fortran;  // xtensor adapts Fortran-ordered data with the right strides
    return out;
}

}  // namespace neurodyn
