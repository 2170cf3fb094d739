#pragma once
/// \file rk4.hpp
/// The classical fourth-order Runge–Kutta method. The input u is held constant over the step
/// (as in simulate()); the model's explicit time dependence is evaluated at the stage times
/// t, t + dt/2, t + dt/2, t + dt. Four right-hand-side evaluations per step; global error O(dt⁴).
/// Use it when a smooth deterministic model needs accuracy at a moderate dt (for noisy or
/// piecewise-constant inputs the input, not the stepper, limits the accuracy: Euler is then
/// as good and four times cheaper).
///
/// \code
/// neurodyn::RK4<double> stepper;
/// neurodyn::simulate(model, stepper, x, neurodyn::TimeGrid(0.5, 2000), input);
/// \endcode
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/concepts.hpp"

namespace neurodyn {

template <Real T = double>
class RK4 {
public:
    using scalar_type = T;
    static constexpr int order = 4;
    static constexpr bool is_explicit = true;

    /// x ← x + dt/6 (k1 + 2k2 + 2k3 + k4). Allocates on the first call only.
    template <Model M>
    void do_step(const M& model, Vector<T>& x, double t, double dt, const Vector<T>& u) {
        const index_t n = x.size();
        k1_.resize(n); k2_.resize(n); k3_.resize(n); k4_.resize(n); tmp_.resize(n);  // no-ops after step 1
        const T h = T(dt), half = T(0.5) * h;
        model.derivative(x, t, u, k1_);
        tmp_.noalias() = x + half * k1_;
        model.derivative(tmp_, t + 0.5 * dt, u, k2_);
        tmp_.noalias() = x + half * k2_;
        model.derivative(tmp_, t + 0.5 * dt, u, k3_);
        tmp_.noalias() = x + h * k3_;
        model.derivative(tmp_, t + dt, u, k4_);
        x.noalias() += (h / T(6)) * (k1_ + T(2) * (k2_ + k3_) + k4_);
    }

private:
    Vector<T> k1_, k2_, k3_, k4_, tmp_;
};

}  // namespace neurodyn
