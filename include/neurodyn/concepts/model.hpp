#pragma once
/// \file model.hpp
/// The Model concepts: a right-hand side dx/dt = f(x, t, u) for a state type X (concepts/state.hpp),
/// plus optional interfaces some steppers need. X defaults to `Vector<scalar_type>`; a model
/// whose members are templates over the state type satisfies `Model<M, X>` for several X, so
/// one definition runs a single trial (`Vector<T>`) or a batch of B lanes (`Lanes<T, N, B>`):
///
/// \code
/// struct Leaky {                         // τ dx/dt = −x + u
///     using scalar_type = double;
///     double tau = 10;
///     neurodyn::index_t size() const { return 1; }
///     template <class X>
///     void derivative(const X& x, double, const X& u, X& dxdt) const { dxdt = (u - x) / tau; }
/// };
/// static_assert(neurodyn::Model<Leaky>);                                // one trial
/// static_assert(neurodyn::Model<Leaky, neurodyn::Lanes<double, 1, 8>>); // eight at once
/// \endcode
#include <concepts>

#include "neurodyn/concepts/state.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// The default state of a model: a dynamic vector of its scalar type (void for non-models).
template <class M>
struct default_state {
    using type = void;
};
template <class M>
    requires Real<typename M::scalar_type>
struct default_state<M> {
    using type = Vector<typename M::scalar_type>;
};
template <class M>
using default_state_t = typename default_state<M>::type;

/// A dynamical system with state X (size() rows), input u of the same shape, and
/// `derivative(x, t, u, dxdt)` writing f(x, t, u) into dxdt without allocating.
template <class M, class X = default_state_t<M>>
concept Model = State<X> && requires(const M& m, const X& x, double t, const X& u, X& dxdt) {
    requires Real<typename M::scalar_type>;
    requires std::same_as<typename M::scalar_type, typename X::Scalar>;
    { m.size() } -> std::convertible_to<index_t>;
    m.derivative(x, t, u, dxdt);
};

/// A model with a read-out `rates(x)` (an Eigen expression of x's shape): what recorders use.
template <class M, class X = default_state_t<M>>
concept RateModel = Model<M, X> && requires(const M& m, const X& x) { m.rates(x); };

/// A model that can state its fastest time constant, so explicit steppers can refuse
/// dt >= τ_min (where explicit Euler is no longer a faithful integrator).
template <class M, class X = default_state_t<M>>
concept HasTimeConstants = Model<M, X> && requires(const M& m) {
    { m.min_time_constant() } -> std::convertible_to<double>;
};

/// A model of the form τ dx/dt = −x + g(x, t, u), written as dx/dt = a ⊙ (b(x, t, u) − x) with a
/// fixed per-unit rate a = 1/τ: what the exponential-Euler stepper needs.
template <class M, class X = default_state_t<M>>
concept LinearDecayModel = Model<M, X> && requires(const M& m, const X& x, double t, const X& u, X& out) {
    { m.decay_rates() };           ///< a = 1/τ per unit (vector expression)
    m.drive(x, t, u, out);         ///< b(x, t, u): the value x relaxes towards
};

/// A stochastic model dx = f dt + diffusion ⊙ dW with a diagonal, state-independent diffusion.
template <class M, class X = default_state_t<M>>
concept StochasticModel = Model<M, X> && requires(const M& m) {
    { Vector<typename M::scalar_type>(m.diffusion()) };
};

}  // namespace neurodyn
