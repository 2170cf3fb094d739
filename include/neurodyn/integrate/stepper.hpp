#pragma once
/// \file stepper.hpp
/// The Stepper concept (after Boost.Odeint): a stepper advances a state by one step of a
/// model it knows nothing about. It may keep workspace between calls (so it is not shared
/// between threads) and must not allocate after its first step.
///
/// \code
/// template <neurodyn::Stepper<double> S> void run(S& s);   // accepts Euler, RK4, …
/// \endcode
#include <concepts>

#include "neurodyn/core/types.hpp"
#include "neurodyn/models/concepts.hpp"

namespace neurodyn {

namespace detail {
/// A minimal model used only to state the Stepper concept: dx/dt = −x. It also offers the
/// optional interfaces (LinearDecayModel: a = 1, b = 0; StochasticModel: zero diffusion) so
/// that steppers needing them (ExponentialEuler, EulerMaruyama) satisfy the concept too.
template <Real T>
struct ProbeModel {
    using scalar_type = T;
    index_t size() const { return 1; }
    void derivative(const Vector<T>& x, double, const Vector<T>&, Vector<T>& d) const { d = -x; }
    auto rates(const Vector<T>& x) const { return x; }
    auto decay_rates() const { return Vector<T>::Ones(1); }
    void drive(const Vector<T>&, double, const Vector<T>&, Vector<T>& out) const { out.setZero(1); }
    auto diffusion() const { return Vector<T>::Zero(1); }
};
}  // namespace detail

template <class S, class T>
concept Stepper = Real<T> && requires(S& s, const detail::ProbeModel<T>& m, Vector<T>& x, double t, double dt,
                                      const Vector<T>& u) {
    { S::order } -> std::convertible_to<int>;
    { S::is_explicit } -> std::convertible_to<bool>;
    s.do_step(m, x, t, dt, u);
};

}  // namespace neurodyn
