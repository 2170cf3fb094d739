#pragma once
/// \file spectra.hpp
/// Eigenvalues of a (non-symmetric) weight matrix. For J with i.i.d. N(0, g²/N) entries the
/// eigenvalues fill the disc of radius g (Girko's circular law); FORCE training adds
/// outliers and deforms the bulk.
///
/// \code
/// auto lambda = neurodyn::eigenvalues<double>(J);          // complex vector
/// double rho  = neurodyn::spectral_radius<double>(J);      // ≈ g before training
/// \endcode
#include <complex>

#include <Eigen/Eigenvalues>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// All eigenvalues of a square matrix (Eigen::EigenSolver, no eigenvectors).
template <Real T>
Eigen::Matrix<std::complex<T>, Eigen::Dynamic, 1> eigenvalues(const Matrix<T>& J) {
    require(J.rows() == J.cols() && J.rows() > 0, "J", std::to_string(J.rows()) + "x" + std::to_string(J.cols()),
            "must be a non-empty square matrix");
    require(J.allFinite(), "J", "non-finite entries", "must be finite");
    Eigen::EigenSolver<Matrix<T>> es(J, /*computeEigenvectors=*/false);
    require(es.info() == Eigen::Success, "J", "eigenvalue iteration", "did not converge");
    return es.eigenvalues();
}

/// Largest eigenvalue modulus.
template <Real T>
T spectral_radius(const Matrix<T>& J) {
    return eigenvalues<T>(J).cwiseAbs().maxCoeff();
}

}  // namespace neurodyn
