#pragma once
/// \file pca.hpp
/// Principal-component dimension: the number of components needed to reach a fraction of
/// the total variance (95 % by default). Rows are observations (time points, conditions ×
/// time), columns are variables (neurons); each column is centred.
///
/// \code
/// neurodyn::Matrix<double> X = ...;                           // time × neurons
/// auto ratio = neurodyn::explained_variance_ratio<double>(X); // descending, sums to 1
/// auto d     = neurodyn::pca_dimension<double>(X, 0.95);
/// \endcode
#include <Eigen/SVD>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Fractions of variance along the principal components, in descending order. Computed
/// from the singular values of the centred data (σ² ∝ covariance eigenvalues), which is
/// better conditioned than forming the covariance.
template <Real T>
Vector<T> explained_variance_ratio(const Matrix<T>& data) {
    require(data.rows() >= 2 && data.cols() >= 1, "PCA data",
            std::to_string(data.rows()) + "x" + std::to_string(data.cols()),
            "needs >= 2 observations (rows) and >= 1 variable (columns)");
    require(data.allFinite(), "PCA data", "non-finite values", "must be finite");
    const Matrix<T> centred = data.rowwise() - data.colwise().mean();
    // JacobiSVD (QR-preconditioned for tall data): same values, a quarter of BDCSVD's compile time.
    Eigen::JacobiSVD<Matrix<T>> svd(centred);
    const Vector<T> var = svd.singularValues().array().square();
    const T total = var.sum();
    require(total > T(0), "PCA data", "constant columns", "must have non-zero variance");
    return var / total;
}

/// Smallest number of components whose cumulative variance fraction reaches `threshold`.
template <Real T>
index_t pca_dimension(const Matrix<T>& data, double threshold = 0.95) {
    require(threshold > 0 && threshold <= 1, "threshold", threshold, "must be in (0, 1]");
    const Vector<T> r = explained_variance_ratio<T>(data);
    double cum = 0;
    for (index_t k = 0; k < r.size(); ++k) {
        cum += double(r(k));
        // A tiny slack: the ratios sum to 1 only up to rounding.
        if (cum >= threshold - 16 * double(Eigen::NumTraits<T>::epsilon())) return k + 1;
    }
    return r.size();
}

}  // namespace neurodyn
