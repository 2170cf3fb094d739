#pragma once
/// \file clamp.hpp
/// `Clamp`: hold the state of some units at given values during a time window. After every step
/// whose end time lies in (start, end] the clamped units' state is overwritten, so the other
/// units see the clamped values throughout the window; afterwards the units evolve freely from
/// them. Works with any model under simulate() or integrate_adaptive().
///
/// \code
/// neurodyn::Clamp<double> hold(net.size(), {0, 5, 9}, neurodyn::Vector<double>::Constant(3, 0.5),
///                              {1000, 1500});
/// neurodyn::simulate(net, euler, x, grid, input, hold);
/// \endcode
#include <algorithm>
#include <string>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/perturb/window.hpp"

namespace neurodyn {

namespace detail {
inline void validate_units(const std::vector<index_t>& units, index_t n, const std::string& name) {
    require(n >= 1, name + " (model size)", n, "must be >= 1");
    std::vector<index_t> sorted = units;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t k = 0; k < sorted.size(); ++k) {
        require(sorted[k] >= 0 && sorted[k] < n, name, sorted[k],
                "every unit must be in [0, " + std::to_string(n) + ")");
        require(k == 0 || sorted[k] != sorted[k - 1], name, sorted[k], "units must not repeat");
    }
}
}  // namespace detail

template <Real T = double>
class Clamp {
public:
    /// \param n      the model's size (state length)
    /// \param units  indices of the clamped units (distinct, in [0, n))
    /// \param values their values, one per unit
    Clamp(index_t n, std::vector<index_t> units, Vector<T> values, TimeWindow window = TimeWindow::whole_trial())
        : n_(n), units_(std::move(units)), values_(std::move(values)), window_(window) {
        detail::validate_units(units_, n_, "Clamp.units");
        require_size("Clamp.values", values_.size(), index_t(units_.size()));
        require(values_.allFinite(), "Clamp.values", "non-finite", "must be finite");
        window_.validate("Clamp.window");
    }

    void on_step(double t, Vector<T>& x) {
        if (!window_.holds_state_at(t)) return;
        require_size("Clamp: state", x.size(), n_);
        for (std::size_t k = 0; k < units_.size(); ++k) x[units_[k]] = values_[index_t(k)];
    }

    const std::vector<index_t>& units() const noexcept { return units_; }
    const Vector<T>& values() const noexcept { return values_; }
    const TimeWindow& window() const noexcept { return window_; }

private:
    index_t n_;
    std::vector<index_t> units_;
    Vector<T> values_;
    TimeWindow window_;
};

}  // namespace neurodyn
