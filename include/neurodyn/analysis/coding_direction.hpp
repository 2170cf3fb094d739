#pragma once
/// \file coding_direction.hpp
/// Coding direction (Li et al. 2016; Inagaki et al. 2019): the unit-space direction that
/// separates right from left correct trials just before the go cue,
///   CD = (r̄_R − r̄_L) / ‖r̄_R − r̄_L‖,
/// with r̄ the mean rate over a window (default the last 400 ms of the delay) on a training
/// half of the correct trials. Test trials are projected and normalised so the median right
/// endpoint is 1 and the median left endpoint is 0; the endpoint of a trial is its mean
/// projection over the same window.
///
/// \code
/// neurodyn::Rng rng(seed);
/// auto [train_r, test_r] = neurodyn::split_half(right_trials, rng);
/// auto [train_l, test_l] = neurodyn::split_half(left_trials, rng);
/// auto cd = neurodyn::CodingDirection<double>::fit(rates, train_r, train_l, window);
/// cd.normalise(cd.endpoints(cd.project(rates, test_r)), cd.endpoints(cd.project(rates, test_l)));
/// neurodyn::Matrix<double> proj = cd.project(rates, test_r);   // trials × time, right ≈ 1 at the end
/// \endcode
#include <algorithm>
#include <cmath>
#include <span>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Randomly split `items` into two halves (the first gets the extra item when odd); the
/// order within each half is the original order. Uses `rng` (Fisher–Yates).
/// \code
/// auto [train, test] = neurodyn::split_half(correct_right, rng);
/// \endcode
inline std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_half(std::vector<std::size_t> items,
                                                                                 Rng& rng) {
    std::vector<std::size_t> perm(items.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
    const std::size_t h = (items.size() + 1) / 2;
    std::vector<std::size_t> first(perm.begin(), perm.begin() + std::ptrdiff_t(h));
    std::vector<std::size_t> second(perm.begin() + std::ptrdiff_t(h), perm.end());
    std::sort(first.begin(), first.end());
    std::sort(second.begin(), second.end());
    for (auto& i : first) i = items[i];
    for (auto& i : second) i = items[i];
    return {std::move(first), std::move(second)};
}

/// Median of a vector (mean of the two middle values when the size is even).
template <Real T>
T median(std::vector<T> v) {
    require(!v.empty(), "median", "empty", "needs at least one value");
    const auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    if (v.size() % 2) return *mid;
    return (*mid + *std::max_element(v.begin(), mid)) / T(2);
}

/// Counts of values in `bins` equal bins on [lo, hi]; values outside go to the end bins
/// (so no trial disappears from an endpoint histogram).
struct Histogram {
    std::vector<double> edges;          ///< bins + 1 edges
    std::vector<std::size_t> counts;    ///< per bin
    double centre(std::size_t b) const { return 0.5 * (edges[b] + edges[b + 1]); }
};

/// \code
/// auto h = neurodyn::histogram<double>(endpoints, -0.5, 1.5, 20);
/// \endcode
template <Real T>
Histogram histogram(std::span<const T> values, double lo, double hi, std::size_t bins) {
    require(bins >= 1, "bins", bins, "must be >= 1");
    require(std::isfinite(lo) && std::isfinite(hi) && hi > lo, "histogram range",
            "[" + detail::to_text(lo) + ", " + detail::to_text(hi) + "]", "must be finite with hi > lo");
    Histogram h;
    h.edges.resize(bins + 1);
    for (std::size_t b = 0; b <= bins; ++b) h.edges[b] = lo + (hi - lo) * double(b) / double(bins);
    h.counts.assign(bins, 0);
    for (T v : values) {
        if (std::isnan(v)) continue;
        const double x = std::floor((double(v) - lo) / (hi - lo) * double(bins));
        h.counts[std::size_t(std::clamp(x, 0.0, double(bins - 1)))]++;
    }
    return h;
}

/// The coding direction of a (trials, units, time) rate tensor.
template <Real T>
class CodingDirection {
public:
    using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

    /// Fit on the training trials (indices into axis 0 of `rates`) over the time samples
    /// `window` = [first, last). Throws when a set is empty, the window is outside the time
    /// axis, or the two means coincide (no direction).
    static CodingDirection fit(const xt::xtensor<T, 3>& rates, std::span<const std::size_t> right,
                               std::span<const std::size_t> left, StepRange window) {
        const auto nt = std::ptrdiff_t(rates.shape()[2]);
        require(window.first >= 0 && window.last <= nt && window.size() > 0, "CD window",
                "[" + std::to_string(window.first) + ", " + std::to_string(window.last) + ")",
                "must be a non-empty range of time samples within [0, " + std::to_string(nt) + ")");
        require(!right.empty() && !left.empty(), "CD training trials",
                std::to_string(right.size()) + " right, " + std::to_string(left.size()) + " left",
                "needs at least one trial of each type");
        CodingDirection cd;
        cd.window_ = window;
        const Vector<T> d = window_mean(rates, right, window) - window_mean(rates, left, window);
        const T norm = d.norm();
        require(norm > T(0) && std::isfinite(double(norm)), "CD", "r_R - r_L = 0",
                "right and left training means must differ in the window");
        cd.w_ = d / norm;
        return cd;
    }

    /// Fit from a planted or precomputed direction (normalised here).
    static CodingDirection from_weights(Vector<T> w, StepRange window) {
        const T n = w.norm();
        require(n > T(0), "CD weights", "zero vector", "must be non-zero");
        CodingDirection cd;
        cd.w_ = w / n;
        cd.window_ = window;
        return cd;
    }

    const Vector<T>& weights() const noexcept { return w_; }
    StepRange window() const noexcept { return window_; }
    T offset() const noexcept { return offset_; }
    T scale() const noexcept { return scale_; }

    /// Projections (normalised when `normalise` was called) of the given trials: a
    /// trials × time matrix; projection(a, t) = (Σᵤ wᵤ r(trial a, u, t) − offset) / scale.
    Matrix<T> project(const xt::xtensor<T, 3>& rates, std::span<const std::size_t> trials) const {
        const auto nu = index_t(rates.shape()[1]), nt = index_t(rates.shape()[2]);
        require_size("CD projection: units", nu, w_.size());
        Matrix<T> out(index_t(trials.size()), nt);
        for (std::size_t a = 0; a < trials.size(); ++a) {
            require(trials[a] < rates.shape()[0], "trials", trials[a], "must index axis 0 of the rate tensor");
            // One trial is a contiguous units × time block: map it, no copy.
            const Eigen::Map<const RowMajor> m(&rates(trials[a], 0, 0), nu, nt);
            out.row(index_t(a)) = ((w_.transpose() * m).array() - offset_) / scale_;
        }
        return out;
    }

    /// Mean projection over the CD window, per row of `projections`.
    Vector<T> endpoints(const Matrix<T>& projections) const {
        require(window_.last <= projections.cols(), "CD window end", window_.last,
                "must be within the projection's " + std::to_string(projections.cols()) + " time samples");
        return projections.middleCols(window_.first, window_.size()).rowwise().mean();
    }

    /// Set the normalisation so the median of `right_endpoints` maps to 1 and that of
    /// `left_endpoints` to 0 (endpoints computed with the current normalisation).
    void normalise(const Vector<T>& right_endpoints, const Vector<T>& left_endpoints) {
        const T mr = median(std::vector<T>(right_endpoints.data(), right_endpoints.data() + right_endpoints.size()));
        const T ml = median(std::vector<T>(left_endpoints.data(), left_endpoints.data() + left_endpoints.size()));
        require(mr != ml, "CD normalisation", "median right = median left = " + detail::to_text(mr),
                "the medians must differ");
        // Endpoints given are (raw − offset)/scale; compose the new map with the old one.
        offset_ = offset_ + ml * scale_;
        scale_ = (mr - ml) * scale_;
    }

private:
    static Vector<T> window_mean(const xt::xtensor<T, 3>& rates, std::span<const std::size_t> trials, StepRange w) {
        const auto nu = index_t(rates.shape()[1]), nt = index_t(rates.shape()[2]);
        Vector<T> sum = Vector<T>::Zero(nu);
        for (std::size_t k : trials) {
            require(k < rates.shape()[0], "trials", k, "must index axis 0 of the rate tensor");
            const Eigen::Map<const RowMajor> m(&rates(k, 0, 0), nu, nt);
            sum += m.middleCols(w.first, w.size()).rowwise().mean();
        }
        return sum / T(trials.size());
    }

    Vector<T> w_;
    StepRange window_{0, 0};
    T offset_ = 0, scale_ = 1;
};

}  // namespace neurodyn
