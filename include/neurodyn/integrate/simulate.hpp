#pragma once
/// \file simulate.hpp
/// `simulate()`: run a model on a time grid with a stepper, an input schedule and any number
/// of hooks (see hooks.hpp). The state type X is whatever x is (concepts/state.hpp): a
/// `Vector<T>` for one trial, or `Lanes<T, N, B>` for B trials advanced together (column b =
/// trial trial.index + b); the stepper must work on the same X (`Euler<T, X>`).
///
/// Per trial: stepper.on_trial_begin(trial) if the stepper has one (steppers that draw random
/// numbers, like EulerMaruyama, reseed their stream there), then hooks.on_trial_begin(trial).
/// Per step i (t = grid.time(i)):
///   input(t, u); hooks.on_input(t, u); stepper.do_step(model, x, t, dt, u);
///   check x is finite; hooks.on_step(t + dt, x).
/// The input is held constant over a step. A non-finite state throws `numerical_error` with
/// the step and trial (for lanes, the first non-finite lane's trial).
///
/// \code
/// neurodyn::Euler<double> euler;
/// neurodyn::TimeGrid grid(1.0, 6000);
/// auto input = [&](double t, neurodyn::Vector<double>& u) { u.setConstant(t > 1500 ? 1.0 : 0.0); };
/// neurodyn::simulate(neurodyn::Trial{trial, seed}, model, euler, x, grid, input, recorder, inhibition);
/// \endcode
#include <type_traits>

#include "neurodyn/concepts/model.hpp"
#include "neurodyn/concepts/state.hpp"
#include "neurodyn/concepts/stepper.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/integrate/hooks.hpp"

namespace neurodyn {

/// An input schedule: fills u (the state's shape) for the step starting at time t.
template <class I, class X>
concept InputSchedule = requires(I& in, double t, X& u) { in(t, u); };

/// No external input (u = 0): the input of every step is then made by the hooks alone.
struct NoInput {
    template <class V>
    void operator()(double, V& u) const { u.setZero(); }
};

namespace detail {
/// True when every coefficient of x is finite, as one vectorised reduction: x − x is 0 for a
/// finite x and NaN for ±inf and NaN, and a NaN survives the sum. (Eigen's allFinite() tests
/// coefficient by coefficient; on a 4×16 state that was ~8 % of a whole Euler step.)
template <State X>
bool all_finite(const X& x) {
#ifdef __FAST_MATH__
    return x.allFinite();  // -ffast-math may fold x − x to 0
#else
    return (x.array() - x.array()).sum() == typename X::Scalar(0);
#endif
}
}  // namespace detail

template <class M, class S, State X, class Input, class... Hooks>
void simulate(const Trial& trial, const M& model, S& stepper, X& x, const TimeGrid& grid, Input&& input,
              Hooks&&... hooks) {
    static_assert(Model<M, X>,
                  "neurodyn::simulate: the model must provide scalar_type (the state's scalar), size() and "
                  "derivative(x, t, u, dxdt) for this state type (see concepts/model.hpp)");
    static_assert(std::is_same_v<stepper_state_t<S>, X>,
                  "neurodyn::simulate: the stepper's state_type differs from the state passed (use e.g. "
                  "Euler<T, Lanes<T, N, B>> for a batched state)");
    static_assert(InputSchedule<std::remove_reference_t<Input>, X>,
                  "neurodyn::simulate: the input schedule must be callable as input(t, u) with u of the state type");
    static_assert((hooks::Hook<std::remove_reference_t<Hooks>, X> && ...),
                  "neurodyn::simulate: every hook must implement at least one of on_trial_begin(const Trial&), "
                  "on_input(double, X&), on_step(double, X&), on_trial_end(const Trial&) for the state type X");
    require_size("x (initial state)", x.rows(), model.size());
    if constexpr (HasTimeConstants<M, X> && S::is_explicit) {
        require(grid.dt() < model.min_time_constant(), "dt", grid.dt(),
                "must be smaller than the model's fastest time constant (" +
                    detail::to_text(model.min_time_constant()) + " ms) for an explicit stepper");
    }
    X u = zero_like(x);
    // A stepper that owns a random stream (EulerMaruyama) reseeds it from the trial here.
    hooks::trial_begin(stepper, trial);
    (hooks::trial_begin(hooks, trial), ...);
    const double dt = grid.dt();
    for (std::ptrdiff_t i = 0; i < grid.size(); ++i) {
        const double t = grid.time(i);
        input(t, u);
        (hooks::input(hooks, t, u), ...);
        stepper.do_step(model, x, t, dt, u);
        if (!detail::all_finite(x)) [[unlikely]] {
            index_t lane = 0;
            while (lane + 1 < x.cols() && x.col(lane).allFinite()) ++lane;
            throw numerical_error("non-finite state", long(i), trial.index + long(lane));
        }
        (hooks::step(hooks, t + dt, x), ...);
    }
    (hooks::trial_end(hooks, trial), ...);
}

/// Same, for trial 0 with seed 0.
template <class M, class S, State X, class Input, class... Hooks>
void simulate(const M& model, S& stepper, X& x, const TimeGrid& grid, Input&& input, Hooks&&... hooks) {
    simulate(Trial{}, model, stepper, x, grid, std::forward<Input>(input), std::forward<Hooks>(hooks)...);
}

}  // namespace neurodyn
