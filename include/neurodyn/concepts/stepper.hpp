#pragma once
/// \file stepper.hpp
/// The Stepper concept (after Boost.Odeint): a stepper advances a state of type X by one step
/// of a model it knows nothing about. It may keep workspace between calls (so it is not shared
/// between threads) and must not allocate after its first step.
///
/// `Stepper<S, M, X>` is checked against the actual model: every stepper states, as
/// `S::accepts<M, X>`, which model interface it needs (Euler: a Model; ExponentialEuler: a
/// LinearDecayModel with decay_rates() and drive(); EulerMaruyama: a StochasticModel with
/// diffusion()). simulate() checks the pairing first and the stepper's own static_assert
/// names the missing member.
///
/// \code
/// static_assert(neurodyn::Stepper<neurodyn::Euler<double>, MyModel>);
/// static_assert(!neurodyn::Stepper<neurodyn::ExponentialEuler<double>, ModelWithoutDecayRates>);
/// \endcode
#include <concepts>

#include "neurodyn/concepts/model.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// The state a stepper works on (its `state_type`, else Vector<scalar_type>).
template <class S>
struct stepper_state {
    using type = Vector<typename S::scalar_type>;
};
template <class S>
    requires requires { typename S::state_type; }
struct stepper_state<S> {
    using type = typename S::state_type;
};
template <class S>
using stepper_state_t = typename stepper_state<S>::type;

template <class S, class M, class X = stepper_state_t<S>>
concept Stepper = Model<M, X> && requires(S& s, const M& m, X& x, double t, double dt, const X& u) {
    { S::order } -> std::convertible_to<int>;
    { S::is_explicit } -> std::convertible_to<bool>;
    requires S::template accepts<M, X>;
    s.do_step(m, x, t, dt, u);
};

}  // namespace neurodyn
