#pragma once
/// \file simulate.hpp
/// `simulate()`: run a model on a time grid with a stepper, an input schedule and any number
/// of hooks (see hooks.hpp). Per trial: stepper.on_trial_begin(trial) if the stepper has one
/// (steppers that draw random numbers, like EulerMaruyama, reseed their stream there), then
/// hooks.on_trial_begin(trial). Per step i (t = grid.time(i)):
///   input(t, u); hooks.on_input(t, u); stepper.do_step(model, x, t, dt, u);
///   check x is finite; hooks.on_step(t + dt, x).
/// The input is held constant over a step. A non-finite state throws `numerical_error` with
/// the step and trial.
///
/// \code
/// neurodyn::Euler<double> euler;
/// neurodyn::TimeGrid grid(1.0, 6000);
/// auto input = [&](double t, neurodyn::Vector<double>& u) { u.setConstant(t > 1500 ? 1.0 : 0.0); };
/// neurodyn::simulate(neurodyn::Trial{trial, seed}, model, euler, x, grid, input, recorder, inhibition);
/// \endcode
#include <type_traits>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/integrate/hooks.hpp"
#include "neurodyn/integrate/stepper.hpp"
#include "neurodyn/models/concepts.hpp"

namespace neurodyn {

/// An input schedule: fills u (size of the model) for the step starting at time t.
template <class I, class T>
concept InputSchedule = requires(I& in, double t, Vector<T>& u) { in(t, u); };

/// No external input (u = 0).
struct NoInput {
    template <class V>
    void operator()(double, V& u) const { u.setZero(); }
};

template <Model M, class S, class Input, class... Hooks>
    requires Stepper<S, typename M::scalar_type> && InputSchedule<Input, typename M::scalar_type>
void simulate(const Trial& trial, const M& model, S& stepper, Vector<typename M::scalar_type>& x,
              const TimeGrid& grid, Input&& input, Hooks&&... hooks) {
    using T = typename M::scalar_type;
    static_assert((hooks::Hook<std::remove_reference_t<Hooks>, Vector<T>> && ...),
                  "neurodyn::simulate: every hook must implement at least one of on_trial_begin(const Trial&), "
                  "on_input(double, Vector<T>&), on_step(double, Vector<T>&), on_trial_end(const Trial&)");
    require_size("x (initial state)", x.size(), model.size());
    if constexpr (HasTimeConstants<M> && S::is_explicit) {
        require(grid.dt() < model.min_time_constant(), "dt", grid.dt(),
                "must be smaller than the model's fastest time constant (" +
                    detail::to_text(model.min_time_constant()) + " ms) for an explicit stepper");
    }
    Vector<T> u(model.size());
    // A stepper that owns a random stream (EulerMaruyama) reseeds it from the trial here.
    hooks::trial_begin(stepper, trial);
    (hooks::trial_begin(hooks, trial), ...);
    const double dt = grid.dt();
    for (std::ptrdiff_t i = 0; i < grid.size(); ++i) {
        const double t = grid.time(i);
        input(t, u);
        (hooks::input(hooks, t, u), ...);
        stepper.do_step(model, x, t, dt, u);
        if (!x.allFinite()) throw numerical_error("non-finite state", long(i), trial.index);
        (hooks::step(hooks, t + dt, x), ...);
    }
    (hooks::trial_end(hooks, trial), ...);
}

/// Same, for trial 0 with seed 0.
template <Model M, class S, class Input, class... Hooks>
    requires Stepper<S, typename M::scalar_type> && InputSchedule<Input, typename M::scalar_type>
void simulate(const M& model, S& stepper, Vector<typename M::scalar_type>& x, const TimeGrid& grid,
              Input&& input, Hooks&&... hooks) {
    simulate(Trial{}, model, stepper, x, grid, std::forward<Input>(input), std::forward<Hooks>(hooks)...);
}

}  // namespace neurodyn
