#pragma once
/// \file types.hpp
/// Scalar, vector and matrix aliases. Every numerical class of the library takes its scalar
/// type `T` as a template parameter; `float` and `double` are both supported and tested.
///
/// \code
/// neurodyn::Vector<double> x = neurodyn::Vector<double>::Zero(87);
/// neurodyn::Matrix<float>  J(87, 87);
/// \endcode
#include <Eigen/Core>
#include <concepts>

namespace neurodyn {

/// The floating-point types the library is instantiated with.
template <class T>
concept Real = std::floating_point<T>;

/// Index type shared with Eigen.
using index_t = Eigen::Index;

template <Real T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Column-major dense matrix (Eigen's default), e.g. weights J(i, j): from j to i.
template <Real T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <Real T>
using VectorRef = Eigen::Ref<Vector<T>>;
template <Real T>
using ConstVectorRef = Eigen::Ref<const Vector<T>>;

/// Vectors that live in a fixed-size state (e.g. the four Inagaki populations).
template <Real T, int N>
using FixedVector = Eigen::Matrix<T, N, 1>;

}  // namespace neurodyn
