#pragma once
/// \file concepts.hpp
/// The Model concept: a right-hand side dx/dt = f(x, t, u) plus a read-out of firing rates.
/// Steppers and `simulate()` accept any type that satisfies it, including user types:
///
/// \code
/// struct Leaky {                         // τ dx/dt = −x + u
///     using scalar_type = double;
///     double tau = 10;
///     neurodyn::index_t size() const { return 1; }
///     void derivative(const neurodyn::Vector<double>& x, double, const neurodyn::Vector<double>& u,
///                     neurodyn::Vector<double>& dxdt) const { dxdt = (u - x) / tau; }
///     auto rates(const neurodyn::Vector<double>& x) const { return x; }
/// };
/// static_assert(neurodyn::Model<Leaky>);
/// \endcode
#include <concepts>

#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// A dynamical system with state x (size()), input u (same size) and rates(x).
/// `derivative` writes f(x, t, u) into dxdt without allocating; `rates` returns an Eigen
/// expression (or vector) assignable to Vector<scalar_type>.
template <class M>
concept Model = requires(const M& m, const Vector<typename M::scalar_type>& x, double t,
                         const Vector<typename M::scalar_type>& u, Vector<typename M::scalar_type>& dxdt) {
    requires Real<typename M::scalar_type>;
    { m.size() } -> std::convertible_to<index_t>;
    m.derivative(x, t, u, dxdt);
    { Vector<typename M::scalar_type>(m.rates(x)) };
};

/// A model that can state its fastest time constant, so explicit steppers can refuse
/// dt >= τ_min (where explicit Euler is no longer a faithful integrator).
template <class M>
concept HasTimeConstants = Model<M> && requires(const M& m) {
    { m.min_time_constant() } -> std::convertible_to<double>;
};

/// A model of the form τ dx/dt = −x + g(x, t, u), written as dx/dt = a ⊙ (b(x, t, u) − x) with a
/// fixed per-unit rate a = 1/τ: what the exponential-Euler stepper needs.
template <class M>
concept LinearDecayModel = Model<M> && requires(const M& m, const Vector<typename M::scalar_type>& x, double t,
                                               const Vector<typename M::scalar_type>& u,
                                               Vector<typename M::scalar_type>& out) {
    { m.decay_rates() };           ///< a = 1/τ per unit (vector expression)
    m.drive(x, t, u, out);         ///< b(x, t, u): the value x relaxes towards
};

/// A stochastic model dx = f dt + diffusion ⊙ dW with a diagonal, state-independent diffusion.
template <class M>
concept StochasticModel = Model<M> && requires(const M& m) {
    { Vector<typename M::scalar_type>(m.diffusion()) };
};

}  // namespace neurodyn
