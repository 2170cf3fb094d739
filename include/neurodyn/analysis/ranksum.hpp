#pragma once
/// \file ranksum.hpp
/// Wilcoxon rank-sum (Mann–Whitney) test, two-sided, by the normal approximation with
/// tie correction and (by default) continuity correction — MATLAB's `ranksum(x, y,
/// 'method', 'approximate')` and SciPy's `mannwhitneyu(..., method='asymptotic')`.
///
/// W = sum of the (mid-)ranks of x in the pooled sample; under H0
///   E[W] = n₁(N+1)/2,  Var[W] = n₁n₂/12 · ((N+1) − Σ(t³−t)/(N(N−1))),
/// with t the sizes of tied groups; z = (W − E[W] ∓ ½)/√Var, p = erfc(|z|/√2).
///
/// \code
/// std::vector<double> a{1, 2, 3}, b{4, 5, 6, 7};
/// auto r = neurodyn::rank_sum<double>(a, b);   // r.w = 6, r.z ≈ −1.94, r.p ≈ 0.052
/// \endcode
#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Result of `rank_sum`.
struct RankSumResult {
    double w = 0;   ///< rank sum of the first sample
    double z = 0;   ///< standardised statistic (continuity-corrected when requested)
    double p = 1;   ///< two-sided p-value
};

/// Two-sided Wilcoxon rank-sum test of x against y. Both samples need at least one value;
/// when every value is tied the variance is 0 and p = 1.
/// \code
/// auto r = neurodyn::rank_sum<float>(right_rates, left_rates);
/// bool selective = r.p < 0.05;
/// \endcode
template <Real T>
RankSumResult rank_sum(std::span<const T> x, std::span<const T> y, bool continuity = true) {
    require(!x.empty(), "rank_sum x", "empty", "needs at least one value");
    require(!y.empty(), "rank_sum y", "empty", "needs at least one value");
    const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;
    // Pool with a flag for membership; sort once, assign mid-ranks to tied runs.
    std::vector<std::pair<T, bool>> pooled(n);
    for (std::size_t i = 0; i < n1; ++i) {
        require(!std::isnan(x[i]), "rank_sum x", x[i], "must not contain NaN");
        pooled[i] = {x[i], true};
    }
    for (std::size_t i = 0; i < n2; ++i) {
        require(!std::isnan(y[i]), "rank_sum y", y[i], "must not contain NaN");
        pooled[n1 + i] = {y[i], false};
    }
    std::sort(pooled.begin(), pooled.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    double w = 0, ties = 0;
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        while (j < n && pooled[j].first == pooled[i].first) ++j;
        const double t = double(j - i);
        const double midrank = 0.5 * double(i + 1 + j);  // mean of ranks i+1 … j
        for (std::size_t k = i; k < j; ++k)
            if (pooled[k].second) w += midrank;
        ties += t * t * t - t;
        i = j;
    }
    const double N = double(n), a = double(n1), b = double(n2);
    const double mean = a * (N + 1) / 2;
    const double var = n > 1 ? a * b / 12.0 * ((N + 1) - ties / (N * (N - 1))) : 0.0;
    RankSumResult r;
    r.w = w;
    if (var <= 0) return r;  // all values tied: no evidence either way
    double d = w - mean;
    if (continuity) d = std::copysign(std::max(std::abs(d) - 0.5, 0.0), d);
    r.z = d / std::sqrt(var);
    r.p = std::min(1.0, std::erfc(std::abs(r.z) / std::sqrt(2.0)));
    return r;
}

/// Overload for any contiguous container (std::vector, Eigen vector via .data()/.size() span).
template <Real T>
RankSumResult rank_sum(const std::vector<T>& x, const std::vector<T>& y, bool continuity = true) {
    return rank_sum<T>(std::span<const T>(x), std::span<const T>(y), continuity);
}

}  // namespace neurodyn
