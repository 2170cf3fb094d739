#pragma once
/// \file delay_selectivity.hpp
/// Delay selectivity of trial-averaged right/left rates (Rajan-style protocol, split out of
/// experiments/rajan_training.hpp): the preferred trial type of each neuron over the delay
/// epoch, and the "suppressed" target variant that silences each selective neuron in its
/// non-preferred trial type.
///
/// - `delay_preference(rates, delay, threshold)`: +1 right, −1 left, 0 not selective, by the
///   sign of mean(right) − mean(left) over the delay; selective when |R − L|/(R + L) ≥ threshold
///   (threshold 0: only the sign counts, for network rates).
/// - `suppress_nonpreferred(rates, pref)`: each selective neuron's rate set to 0 in its
///   non-preferred condition (the whole trial).
///
/// \code
/// auto pref = neurodyn::delay_preference(t.rates, epochs.steps("delay", grid), 0.1);
/// auto suppressed = neurodyn::suppress_nonpreferred(t.rates, pref);
/// \endcode
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Delay preference per neuron: +1 right, −1 left, 0 not selective (|R−L|/(R+L) < threshold).
/// With threshold 0 only the sign counts (for network rates in (0, 1)).
template <class T>
std::vector<int> delay_preference(const xt::xtensor<T, 3>& rates, StepRange delay, double threshold) {
    require(rates.shape()[0] == 2, "rates", rates.shape()[0], "must have 2 conditions (right, left)");
    require(delay.first >= 0 && delay.last <= std::ptrdiff_t(rates.shape()[2]) && delay.size() > 0, "delay",
            "[" + std::to_string(delay.first) + ", " + std::to_string(delay.last) + ")",
            "must be a non-empty step range inside the trial");
    std::vector<int> pref(rates.shape()[1], 0);
    for (std::size_t i = 0; i < pref.size(); ++i) {
        double r = 0, l = 0;
        for (auto k = delay.first; k < delay.last; ++k) {
            r += double(rates(0, i, std::size_t(k)));
            l += double(rates(1, i, std::size_t(k)));
        }
        r /= double(delay.size());
        l /= double(delay.size());
        const double d = r - l;
        const bool selective = threshold <= 0 ? d != 0 : (r + l > 0 && std::abs(d) / (r + l) >= threshold);
        pref[i] = selective ? (d > 0 ? 1 : -1) : 0;
    }
    return pref;
}

/// The suppressed variant: rates of each selective neuron set to 0 in its non-preferred condition.
template <class T>
xt::xtensor<T, 3> suppress_nonpreferred(xt::xtensor<T, 3> rates, const std::vector<int>& pref) {
    require(pref.size() == rates.shape()[1], "preferences", pref.size(), "must have one entry per neuron");
    for (std::size_t i = 0; i < pref.size(); ++i) {
        if (pref[i] == 0) continue;
        const std::size_t other = pref[i] > 0 ? 1 : 0;
        xt::view(rates, other, i, xt::all()) = T(0);
    }
    return rates;
}

}  // namespace neurodyn
