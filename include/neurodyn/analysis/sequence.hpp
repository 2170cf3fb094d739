#pragma once
/// \file sequence.hpp
/// bVar, the sequence measure of Rajan, Harvey & Tank (Neuron 2016): how much of the
/// variance of a population's trial-averaged activity is explained by one stereotyped
/// profile ("ridge") shifted to each neuron's peak time — close to 1 for a sequence of
/// identical, time-shifted bumps, small for tonic or heterogeneous activity.
///
/// Each neuron's rate is shifted so its peak sits at time 0, the shifted rates are averaged
/// into the ridge, the ridge is shifted back to each neuron's peak, and
///   bVar = 1 − ‖r − r̂‖²_F / ‖r − r̄‖²_F   (r̄ the grand mean).
/// Shifts are circular by default (as with MATLAB's circshift); with `circular = false`
/// the ridge at each lag averages only the neurons whose data cover that lag.
///
/// \code
/// neurodyn::Matrix<double> psth = ...;              // neurons × time, one trial type
/// double b = neurodyn::bvar<double>(psth);          // e.g. 0.146 for the ALM session
/// \endcode
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// bVar of a neurons × time rate matrix (see the file comment). Needs >= 1 neuron, >= 2
/// time samples and activity that is not constant.
template <Real T>
double bvar(const Matrix<T>& rates, bool circular = true) {
    const index_t n = rates.rows(), nt = rates.cols();
    require(n >= 1 && nt >= 2, "bvar rates", std::to_string(n) + "x" + std::to_string(nt),
            "needs >= 1 neuron and >= 2 time samples");
    require(rates.allFinite(), "bvar rates", "non-finite values", "must be finite");
    std::vector<index_t> peak(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) rates.row(i).maxCoeff(&peak[std::size_t(i)]);
    // ridge over lags −(nt−1) … nt−1 (index lag + nt − 1); circular shifts use lags 0 … nt−1.
    const index_t nl = circular ? nt : 2 * nt - 1;
    Eigen::ArrayXd ridge = Eigen::ArrayXd::Zero(nl), count = Eigen::ArrayXd::Zero(nl);
    const auto lag_index = [&](index_t i, index_t t) {
        const index_t lag = t - peak[std::size_t(i)];
        return circular ? (lag % nt + nt) % nt : lag + nt - 1;
    };
    for (index_t i = 0; i < n; ++i)
        for (index_t t = 0; t < nt; ++t) {
            const index_t l = lag_index(i, t);
            ridge(l) += double(rates(i, t));
            count(l) += 1;
        }
    ridge = (count > 0).select(ridge / count.max(1.0), 0.0);
    const double mean = double(rates.template cast<double>().mean());
    double resid = 0, total = 0;
    for (index_t i = 0; i < n; ++i)
        for (index_t t = 0; t < nt; ++t) {
            const double r = double(rates(i, t));
            resid += (r - ridge(lag_index(i, t))) * (r - ridge(lag_index(i, t)));
            total += (r - mean) * (r - mean);
        }
    require(total > 0, "bvar rates", "constant", "must vary (total variance is 0)");
    return 1.0 - resid / total;
}

}  // namespace neurodyn
