#pragma once
/// \file rank.hpp
/// Numerical rank of a matrix (e.g. the weight change ΔJ = J_trained − J_initial of FORCE
/// training): the number of singular values above tol = max(m, n)·eps·σ_max (the
/// convention of MATLAB's rank and NumPy's matrix_rank).
///
/// \code
/// auto r = neurodyn::numerical_rank<double>(J_trained - J_initial);
/// std::cout << r.rank << " of " << r.singular_values.size() << '\n';
/// \endcode
#include <Eigen/SVD>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

template <Real T>
struct RankResult {
    index_t rank = 0;
    Vector<T> singular_values;  ///< descending
    T tolerance = 0;            ///< the threshold used
};

/// Rank with the default tolerance, or with `tolerance` when it is >= 0.
template <Real T>
RankResult<T> numerical_rank(const Matrix<T>& m, T tolerance = T(-1)) {
    require(m.size() > 0, "matrix", "empty", "must have at least one element");
    require(m.allFinite(), "matrix", "non-finite entries", "must be finite");
    // JacobiSVD: as accurate as BDCSVD for the small singular values that decide the rank, fast
    // enough for weight matrices of a few hundred units, and a quarter of BDCSVD's compile time.
    Eigen::JacobiSVD<Matrix<T>> svd(m);
    RankResult<T> r;
    r.singular_values = svd.singularValues();
    const T smax = r.singular_values.size() ? r.singular_values(0) : T(0);
    r.tolerance = tolerance >= T(0) ? tolerance
                                    : T(std::max(m.rows(), m.cols())) * Eigen::NumTraits<T>::epsilon() * smax;
    r.rank = (r.singular_values.array() > r.tolerance).count();
    return r;
}

}  // namespace neurodyn
