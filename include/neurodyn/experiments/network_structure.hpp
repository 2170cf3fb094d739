#pragma once
/// \file network_structure.hpp
/// The structure of a FORCE-trained network compared with its initial random network:
/// eigenvalue spectra (circular law of radius g before training; outliers after), weight
/// statistics, PCA dimension of the activity of the random network, of the targets and of
/// the trained network (both conditions, concatenated in time), and the singular values and
/// numerical rank of the weight change ΔJ = J_trained − J_initial.
///
/// \code
/// auto s = neurodyn::analyse_structure(task, J_initial);     // task: TrainedRnn
/// std::cout << s.pca_dim_trained << " dims, rank ΔJ = " << s.dJ.rank << " (" << s.dJ_effective_rank
///           << " above 1 % of the largest), " << s.outliers_trained << " outlier eigenvalues\n";
/// \endcode
#include <cmath>
#include <complex>

#include "neurodyn/analysis/pca.hpp"
#include "neurodyn/analysis/rank.hpp"
#include "neurodyn/analysis/spectra.hpp"
#include "neurodyn/experiments/trained_rnn.hpp"

namespace neurodyn {

template <Real T = double>
struct NetworkStructure {
    using Spectrum = Eigen::Matrix<std::complex<T>, Eigen::Dynamic, 1>;
    Spectrum eig_initial, eig_trained;
    double radius_initial = 0, radius_trained = 0;  ///< spectral radii
    double max_real_trained = 0;                    ///< largest real part after training
    double min_real_trained = 0;                    ///< most negative real part after training
    double weight_sd_initial = 0, weight_sd_trained = 0;
    index_t outliers_trained = 0;                   ///< trained eigenvalues outside the initial spectral radius
    double pca_threshold = 0.95;
    index_t pca_dim_random = 0, pca_dim_targets = 0, pca_dim_trained = 0;
    Vector<T> var_ratio_random, var_ratio_targets, var_ratio_trained;  ///< explained-variance ratios
    RankResult<T> dJ;                                                   ///< singular values and rank of ΔJ
    /// Singular values of ΔJ above 1 % of the largest: the rank that matters at the scale of
    /// the change (dJ.rank counts everything above rounding).
    index_t dJ_effective_rank = 0;
};

/// Singular values above `fraction` of the largest.
template <Real T>
index_t effective_rank(const RankResult<T>& r, double fraction = 0.01) {
    index_t n = 0;
    for (index_t k = 0; k < r.singular_values.size(); ++k)
        n += double(r.singular_values[k]) > fraction * double(r.singular_values[0]);
    return n;
}

/// Time × units matrix of both conditions' rates, concatenated in time (for PCA).
template <Real T>
Matrix<T> concatenate_conditions(const Matrix<T>& right, const Matrix<T>& left) {
    require(right.rows() == left.rows(), "left rates (units)", left.rows(), "must match the right rates");
    Matrix<T> X(right.cols() + left.cols(), right.rows());
    X.topRows(right.cols()) = right.transpose();
    X.bottomRows(left.cols()) = left.transpose();
    return X;
}

template <Real T, class Net>
NetworkStructure<T> analyse_structure(const TrainedRnn<T, Net>& task, const Matrix<T>& J_initial, double pca_threshold = 0.95) {
    const Matrix<T>& J = task.network.weights();
    require(J_initial.rows() == J.rows() && J_initial.cols() == J.cols(), "J_initial",
            std::to_string(J_initial.rows()) + "x" + std::to_string(J_initial.cols()),
            "must have the trained weights' shape " + std::to_string(J.rows()) + "x" + std::to_string(J.cols()));
    NetworkStructure<T> s;
    s.pca_threshold = pca_threshold;
    s.eig_initial = eigenvalues<T>(J_initial);
    s.eig_trained = eigenvalues<T>(J);
    s.radius_initial = double(s.eig_initial.cwiseAbs().maxCoeff());
    s.radius_trained = double(s.eig_trained.cwiseAbs().maxCoeff());
    s.max_real_trained = double(s.eig_trained.real().maxCoeff());
    for (index_t i = 0; i < s.eig_trained.size(); ++i) s.outliers_trained += double(std::abs(s.eig_trained[i])) > s.radius_initial;
    s.min_real_trained = double(s.eig_trained.real().minCoeff());
    const auto sd = [](const Matrix<T>& m) {
        const double mean = double(m.mean());
        return std::sqrt((m.template cast<double>().array() - mean).square().mean());
    };
    s.weight_sd_initial = sd(J_initial);
    s.weight_sd_trained = sd(J);

    // The random network: same inputs and initial states, initial weights.
    TrainedRnn<T, Net> random = task;
    random.network.weights() = J_initial;
    const Matrix<T> X_random = concatenate_conditions<T>(random.run(0, Trial{}), random.run(1, Trial{}));
    const Matrix<T> X_trained = concatenate_conditions<T>(task.run(0, Trial{}), task.run(1, Trial{}));
    const Matrix<T> X_targets = concatenate_conditions<T>(task.target(0), task.target(1));
    s.var_ratio_random = explained_variance_ratio<T>(X_random);
    s.var_ratio_trained = explained_variance_ratio<T>(X_trained);
    s.var_ratio_targets = explained_variance_ratio<T>(X_targets);
    s.pca_dim_random = pca_dimension<T>(X_random, pca_threshold);
    s.pca_dim_trained = pca_dimension<T>(X_trained, pca_threshold);
    s.pca_dim_targets = pca_dimension<T>(X_targets, pca_threshold);
    s.dJ = numerical_rank<T>(J - J_initial);
    s.dJ_effective_rank = effective_rank(s.dJ);
    return s;
}

}  // namespace neurodyn
