#pragma once
/// \file metrics.hpp
/// Fit measures and training targets for FORCE-trained networks (Rajan, Harvey & Tank 2016).
///
/// - `pvar(R, r)`: 1 − ‖R − r‖²_F / ‖R − R̄‖²_F, R̄ the mean over all entries of the target R;
///   for one target scored many times, `pvar(R, r, pvar_denominator(R))` (Eigen types).
/// - `normalise_jointly(rates)`: per neuron, (rate − min) / (max − min) with min and max taken
///   jointly over every condition (trial type) and time step, so right and left trials stay on
///   one scale; the result is clipped to [ε, 1 − ε] so its logit is finite (|logit| ≤
///   log((1−ε)/ε) ≈ 6.9 for the default ε = 1e-3). A neuron whose rate never changes maps to ε.
/// - `training_targets(rates)`: logit(normalise_jointly(rates)), the currents a logistic network
///   must produce to fire at the normalised rates.
///
/// \code
/// xt::xtensor<double, 3> psth = ...;                     // (2 conditions, neurons, time)
/// auto R = neurodyn::normalise_jointly(psth);            // in (0, 1)
/// auto f = neurodyn::training_targets(psth);             // logit(R)
/// double fit = neurodyn::pvar(xt::view(R, 0), network_rates_right);
/// \endcode
#include <cmath>
#include <string>

#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Default clipping ε of `normalise_jointly`.
inline constexpr double default_rate_epsilon = 1e-3;

/// Percentage of variance of `target` explained by `actual` (same shape), as a fraction.
/// Can be negative for a fit worse than the target's mean. Throws if the shapes differ or
/// the target has no variance.
template <class E1, class E2>
double pvar(const xt::xexpression<E1>& target, const xt::xexpression<E2>& actual) {
    const auto& R = target.derived_cast();
    const auto& r = actual.derived_cast();
    require(R.dimension() == r.dimension() &&
                std::equal(R.shape().begin(), R.shape().end(), r.shape().begin()),
            "actual", "an array of another shape", "must have the shape of the target");
    double mean = 0;
    std::size_t n = 0;
    for (auto v : R) {
        mean += double(v);
        ++n;
    }
    require(n > 0, "target", "empty", "must not be empty");
    mean /= double(n);
    double num = 0, den = 0;
    auto it = r.begin();
    for (auto v : R) {
        const double d = double(v) - double(*it++);
        num += d * d;
        den += (double(v) - mean) * (double(v) - mean);
    }
    require(den > 0, "target", "a constant array", "must vary for pVar to be defined");
    return 1.0 - num / den;
}

/// ‖R − R̄‖²_F, the denominator of pVar for Eigen matrices or vectors (throws for a target
/// without variance). For a target scored many times (a trainer's test runs), compute it once
/// and pass it to pvar(target, actual, den): half the passes over the data.
template <class D>
double pvar_denominator(const Eigen::MatrixBase<D>& target) {
    const double mean = double(target.template cast<double>().mean());
    const double den = (target.template cast<double>().array() - mean).square().sum();
    require(den > 0, "target", "a constant array", "must vary for pVar to be defined");
    return den;
}

/// pVar for Eigen matrices or vectors, given den = pvar_denominator(target): bitwise
/// pvar(target, actual).
template <class D1, class D2>
double pvar(const Eigen::MatrixBase<D1>& target, const Eigen::MatrixBase<D2>& actual, double den) {
    require(target.rows() == actual.rows() && target.cols() == actual.cols(), "actual",
            std::to_string(actual.rows()) + "x" + std::to_string(actual.cols()),
            "must have the shape of the target");
    require(den > 0, "den", den, "must be pvar_denominator(target) > 0");
    return 1.0 - (target.template cast<double>() - actual.template cast<double>()).squaredNorm() / den;
}

/// pVar for Eigen matrices or vectors.
template <class D1, class D2>
double pvar(const Eigen::MatrixBase<D1>& target, const Eigen::MatrixBase<D2>& actual) {
    return pvar(target, actual, pvar_denominator(target));
}

/// Per-neuron min–max normalisation over conditions and time, clipped to [ε, 1 − ε].
/// \param rates shape (conditions, neurons, time), finite
template <Real T>
xt::xtensor<T, 3> normalise_jointly(const xt::xtensor<T, 3>& rates, double eps = default_rate_epsilon) {
    require(eps > 0 && eps < 0.5, "eps", eps, "must be in (0, 0.5)");
    const auto C = rates.shape()[0], N = rates.shape()[1], K = rates.shape()[2];
    require(C > 0 && N > 0 && K > 0, "rates", "an empty array", "must have conditions, neurons and time steps");
    xt::xtensor<T, 3> out = xt::xtensor<T, 3>::from_shape(rates.shape());
    for (std::size_t i = 0; i < N; ++i) {
        double lo = INFINITY, hi = -INFINITY;
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t k = 0; k < K; ++k) {
                const double v = double(rates(c, i, k));
                if (!std::isfinite(v))
                    throw invalid_parameter("rates", "NaN or Inf at (condition " + std::to_string(c) + ", neuron " +
                                                         std::to_string(i) + ", step " + std::to_string(k) + ")",
                                            "must be finite");
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
        const double span = hi - lo;
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t k = 0; k < K; ++k) {
                const double z = span > 0 ? (double(rates(c, i, k)) - lo) / span : 0.0;
                out(c, i, k) = T(std::clamp(z, eps, 1.0 - eps));
            }
    }
    return out;
}

/// logit(p) = log(p / (1 − p)), element-wise.
template <Real T>
T logit(T p) noexcept {
    return std::log(p / (T(1) - p));
}

/// logit(normalise_jointly(rates)): targets for the currents of a logistic network.
template <Real T>
xt::xtensor<T, 3> training_targets(const xt::xtensor<T, 3>& rates, double eps = default_rate_epsilon) {
    xt::xtensor<T, 3> f = normalise_jointly(rates, eps);
    for (auto& v : f) v = logit(v);
    return f;
}

}  // namespace neurodyn
