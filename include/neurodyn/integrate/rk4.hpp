#pragma once
/// \file rk4.hpp
/// The classical fourth-order Runge–Kutta method. The input u is held constant over the step
/// (as in simulate()); the model's explicit time dependence is evaluated at the stage times
/// t, t + dt/2, t + dt/2, t + dt. Four right-hand-side evaluations per step; global error O(dt⁴).
/// Use it when a smooth deterministic model needs accuracy at a moderate dt (for noisy or
/// piecewise-constant inputs the input, not the stepper, limits the accuracy: Euler is then
/// as good and four times cheaper). X is the state type (Vector<T> or Lanes<T, N, B>).
///
/// \code
/// neurodyn::RK4<double> stepper;
/// neurodyn::simulate(model, stepper, x, neurodyn::TimeGrid(0.5, 2000), input);
/// \endcode
#include "neurodyn/concepts/model.hpp"
#include "neurodyn/concepts/state.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

template <Real T = double, State X = Vector<T>>
class RK4 {
public:
    using scalar_type = T;
    using state_type = X;
    static constexpr int order = 4;
    static constexpr bool is_explicit = true;
    template <class M, class Y>
    static constexpr bool accepts = Model<M, Y>;

    /// x ← x + dt/6 (k1 + 2k2 + 2k3 + k4). Allocates on the first call only.
    template <class M>
    void do_step(const M& model, X& x, double t, double dt, const X& u) {
        static_assert(Model<M, X>,
                      "neurodyn::RK4 needs a Model for this state type: the model must provide scalar_type, "
                      "size() and derivative(x, t, u, dxdt) accepting the state type");
        k1_.resizeLike(x); k2_.resizeLike(x); k3_.resizeLike(x); k4_.resizeLike(x); tmp_.resizeLike(x);
        const T h = T(dt), half = T(0.5) * h;
        model.derivative(x, t, u, k1_);
        tmp_ = x + half * k1_;
        model.derivative(tmp_, t + 0.5 * dt, u, k2_);
        tmp_ = x + half * k2_;
        model.derivative(tmp_, t + 0.5 * dt, u, k3_);
        tmp_ = x + h * k3_;
        model.derivative(tmp_, t + dt, u, k4_);
        x += (h / T(6)) * (k1_ + T(2) * (k2_ + k3_) + k4_);
    }

private:
    X k1_, k2_, k3_, k4_, tmp_;
};

}  // namespace neurodyn
