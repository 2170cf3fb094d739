#pragma once
/// \file hooks.hpp
/// Hooks observe or perturb a simulation, in the manner of ensmallen callbacks: a hook is any
/// object implementing any subset of
///
///   void on_trial_begin(const neurodyn::Trial&);    // seed per-trial streams, reset state
///   void on_input(double t, X& u);                  // change the input of the step at t
///   void on_step(double t, X& x);                   // after the step to t: observe or change x
///
/// where X is the state type of the simulation (Vector<T>, or Lanes<T, N, B> for B trials).
///   void on_trial_end(const neurodyn::Trial&);
///
/// Hooks are passed to `simulate()` as a variadic pack; the calls are resolved at compile
/// time, so a hook that does not implement a method costs nothing there, and an empty pack
/// costs nothing at all.
///
/// \code
/// struct CountSteps { long n = 0; void on_step(double, neurodyn::Vector<double>&) { ++n; } };
/// CountSteps counter;
/// neurodyn::simulate(model, stepper, x, grid, input, counter);
/// \endcode
#include <cstdint>
#include <utility>

#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Identity of the trial being simulated: hooks derive their random streams from it, so a
/// trial's numbers do not depend on which thread runs it. With a lane-batched state
/// (Lanes<T, N, B>), column b is trial `index + b`: a hook that draws per trial keys lane b's
/// stream by index + b, so a trial gets the same numbers alone or in any lane.
struct Trial {
    long index = 0;
    std::uint64_t seed = 0;
};

namespace hooks {

template <class H>
void trial_begin(H& h, const Trial& trial) {
    if constexpr (requires { h.on_trial_begin(trial); }) h.on_trial_begin(trial);
}
template <class H>
void trial_end(H& h, const Trial& trial) {
    if constexpr (requires { h.on_trial_end(trial); }) h.on_trial_end(trial);
}
template <class H, class V>
void input(H& h, double t, V& u) {
    if constexpr (requires { h.on_input(t, u); }) h.on_input(t, u);
}
template <class H, class V>
void step(H& h, double t, V& x) {
    if constexpr (requires { h.on_step(t, x); }) h.on_step(t, x);
}

/// True if H implements at least one hook method for state vectors V.
template <class H, class V>
concept Hook = requires(H& h, const Trial& tr, double t, V& v) { h.on_trial_begin(tr); } ||
               requires(H& h, const Trial& tr) { h.on_trial_end(tr); } ||
               requires(H& h, double t, V& v) { h.on_input(t, v); } ||
               requires(H& h, double t, V& v) { h.on_step(t, v); };

}  // namespace hooks
}  // namespace neurodyn
