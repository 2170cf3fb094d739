#pragma once
/// \file time_grid.hpp
/// A uniform time grid: step i sits at t_i = t0 + i·dt, i = 0 … n_steps−1 (times in ms).
///
/// \code
/// neurodyn::TimeGrid grid(1.0, 6000);   // dt = 1 ms, 6000 steps
/// double t = grid.time(1500);           // 1500 ms
/// auto i   = grid.index_at(2500.0);     // 2500
/// \endcode
#include <cmath>
#include <cstddef>

#include "neurodyn/core/error.hpp"

namespace neurodyn {

class TimeGrid {
public:
    /// \param dt      step in ms, > 0
    /// \param n_steps number of grid points, >= 1
    /// \param t0      time of the first grid point in ms
    TimeGrid(double dt, std::ptrdiff_t n_steps, double t0 = 0.0) : dt_(dt), n_(n_steps), t0_(t0) {
        require_positive("dt", dt);
        require(n_steps >= 1, "n_steps", n_steps, "must be >= 1");
        require_finite("t0", t0);
    }

    double dt() const noexcept { return dt_; }
    std::ptrdiff_t size() const noexcept { return n_; }
    double t0() const noexcept { return t0_; }
    /// Time of the last grid point.
    double t_end() const noexcept { return t0_ + dt_ * double(n_ - 1); }
    /// Duration covered by the steps, n_steps·dt (the trial length).
    double duration() const noexcept { return dt_ * double(n_); }
    double time(std::ptrdiff_t i) const noexcept { return t0_ + dt_ * double(i); }

    /// First grid index whose time is >= t (times within 1e-9·dt of a grid point count as on
    /// it, so 0.1-ms grids do not lose steps to rounding). May return size() or a negative
    /// index for times outside the grid: callers clamp.
    std::ptrdiff_t index_at(double t) const noexcept {
        const double x = (t - t0_) / dt_;
        return static_cast<std::ptrdiff_t>(std::ceil(x - 1e-9));
    }

private:
    double dt_;
    std::ptrdiff_t n_;
    double t0_;
};

}  // namespace neurodyn
