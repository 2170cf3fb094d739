#pragma once
/// \file variability.hpp
/// Across-trial variability over time: for each unit and time sample, the standard
/// deviation of the rate across the trials of a group (n − 1 normalisation), averaged over
/// a set of units (typically the selective ones). Persistent activity held by discrete
/// attractors shows low variability during the delay that rises when a perturbation
/// (photoinhibition) pushes trials towards different endpoints.
///
/// \code
/// auto sel = neurodyn::selective_units(neurodyn::delay_selectivity<double>(session));
/// neurodyn::Matrix<double> sd = neurodyn::across_trial_variability<double>(rates, {right, left}, sel);
/// // sd(0, t): mean across-trial SD (Hz) of the selective units on right trials at sample t
/// \endcode
#include <cmath>
#include <span>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Mean over `units` of the across-trial SD of `rates` (trials, units, time), one row per
/// trial group (indices into axis 0); groups × time. Each group needs >= 2 trials and
/// `units` must not be empty.
template <Real T>
Matrix<T> across_trial_variability(const xt::xtensor<T, 3>& rates, const std::vector<std::vector<std::size_t>>& groups,
                                   std::span<const std::size_t> units) {
    const std::size_t ntr = rates.shape()[0], nu = rates.shape()[1];
    const auto nt = index_t(rates.shape()[2]);
    require(!units.empty(), "variability units", "empty", "needs at least one unit");
    Matrix<T> out = Matrix<T>::Zero(index_t(groups.size()), nt);
    Eigen::ArrayXd sum(nt), sumsq(nt);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto& trials = groups[g];
        require(trials.size() >= 2, "variability group " + std::to_string(g), std::to_string(trials.size()) + " trials",
                "needs at least 2 trials");
        Eigen::ArrayXd acc = Eigen::ArrayXd::Zero(nt);
        for (std::size_t u : units) {
            require(u < nu, "variability unit", u, "must be < " + std::to_string(nu));
            // Accumulate in double about the first trial (shifted data keep the sums well
            // conditioned when rates are large compared with their spread).
            sum.setZero();
            sumsq.setZero();
            for (std::size_t k : trials) {
                require(k < ntr, "variability trial", k, "must be < " + std::to_string(ntr));
                const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> r(&rates(k, u, 0), nt);
                const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> r0(&rates(trials[0], u, 0), nt);
                const Eigen::ArrayXd d = (r - r0).template cast<double>();
                sum += d;
                sumsq += d.square();
            }
            const double n = double(trials.size());
            acc += ((sumsq - sum.square() / n) / (n - 1)).max(0.0).sqrt();
        }
        out.row(index_t(g)) = (acc / double(units.size())).cast<T>().matrix().transpose();
    }
    return out;
}

}  // namespace neurodyn
