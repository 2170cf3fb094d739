#pragma once
/// \file silencing.hpp
/// `Silencing`: silence a set of units during a time window. For a generic rate model
/// (state x, rate φ(x)) "silent" is defined as **holding the unit's state at a value x_off whose
/// rate is ~0**: a Clamp of the units to x_off. The unit then sends (almost) nothing to the
/// others for the whole window, and resumes from x_off afterwards. x_off is either given or
/// computed with `silent_state(model, rate_floor)`: the largest state in [lo, hi] whose rate is
/// at most rate_floor, by bisection on the model's rates() (assumed element-wise and
/// non-decreasing in the unit's own state, as for RateNetwork's activations and the population
/// models' transfer functions). For the logistic, rate 1e-3 gives x_off = logit(1e-3) ≈ −6.9;
/// for a softplus or tanh network choose the floor accordingly (tanh has no zero-rate state at
/// −∞: its "silent" state is x = 0, pass it directly).
///
/// `random_units(n, fraction, rng)` draws round(fraction·n) distinct units, for silencing a
/// random fraction (key the rng by (seed, purpose) for a fixed set, or by trial for a new set
/// per trial).
///
/// \code
/// neurodyn::Rng pick(seed, 0, 7);
/// auto units = neurodyn::random_units(net.size(), 0.2, pick);
/// neurodyn::Silencing<double> off(net.size(), units, neurodyn::silent_state(net, 1e-3), {2500, 4500});
/// neurodyn::simulate(net, euler, x, grid, input, off, recorder);
/// \endcode
#include <cmath>
#include <algorithm>
#include <numeric>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/perturb/clamp.hpp"
#include "neurodyn/perturb/window.hpp"

namespace neurodyn {

/// The largest state x in [lo, hi] with rate(x) ≤ rate_floor for every unit of `model`, by
/// bisection to relative precision 1e-12 of the interval. Throws when even rate(lo) exceeds the
/// floor (no silent state in the bracket).
template <class M>
typename M::scalar_type silent_state(const M& model, double rate_floor, double lo = -100.0, double hi = 100.0) {
    using T = typename M::scalar_type;
    require(hi > lo, "silent_state: hi", hi, "must be > lo");
    const index_t n = model.size();
    auto rate = [&](double v) { return double(Vector<T>(model.rates(Vector<T>::Constant(n, T(v)))).maxCoeff()); };
    require(rate(lo) <= rate_floor, "rate_floor", rate_floor,
            "is below the model's rate at the state " + detail::to_text(lo) + " (" + detail::to_text(rate(lo)) +
                "): no silent state in [lo, hi]");
    if (rate(hi) <= rate_floor) return T(hi);
    double a = lo, b = hi;
    while (b - a > 1e-12 * (hi - lo)) {
        const double m = 0.5 * (a + b);
        (rate(m) <= rate_floor ? a : b) = m;
    }
    return T(a);
}

/// round(fraction·n) distinct units out of n, in increasing order (partial Fisher–Yates on rng).
inline std::vector<index_t> random_units(index_t n, double fraction, Rng& rng) {
    require(n >= 1, "n", n, "must be >= 1");
    require(fraction >= 0 && fraction <= 1, "fraction", fraction, "must be in [0, 1]");
    std::vector<index_t> all(static_cast<std::size_t>(n));
    std::iota(all.begin(), all.end(), index_t(0));
    const auto k = static_cast<std::size_t>(std::llround(fraction * double(n)));
    for (std::size_t i = 0; i < k; ++i) std::swap(all[i], all[i + std::size_t(rng.below(std::uint64_t(n) - i))]);
    all.resize(k);
    std::sort(all.begin(), all.end());
    return all;
}

template <Real T = double>
class Silencing {
public:
    /// \param n     the model's size
    /// \param units the silenced units
    /// \param x_off the state held during the window (rate ~0; see silent_state)
    Silencing(index_t n, std::vector<index_t> units, T x_off, TimeWindow window = TimeWindow::whole_trial())
        : clamp_(n, units, Vector<T>::Constant(index_t(units.size()), x_off), window), x_off_(x_off) {}

    void on_step(double t, Vector<T>& x) { clamp_.on_step(t, x); }

    const std::vector<index_t>& units() const noexcept { return clamp_.units(); }
    T silent_state() const noexcept { return x_off_; }
    const TimeWindow& window() const noexcept { return clamp_.window(); }

private:
    Clamp<T> clamp_;
    T x_off_;
};

}  // namespace neurodyn
