#pragma once
/// \file jacobian.hpp
/// The Jacobian DF(x) = ∂f/∂x of a model's right-hand side dx/dt = f(x, t, u), for
/// linearising it at a fixed point. Analytic where the model gives it for free, central finite
/// differences otherwise:
///  - a model with a member `jacobian(x, t, u, J)` (or, for a linear model, `jacobian()`),
///  - RateNetwork (τ dx/dt = −x + J φ(x) + u): DF = (−I + J diag φ'(x)) / τ,
///  - PopulationModel (τᵢ dhᵢ/dt = −hᵢ + Σⱼ Wᵢⱼ G(hⱼ) + Iᵢ + uᵢ): DF = diag(1/τ)(−I + W diag G'(h)),
/// both when the transfer function's derivative is known (`transfer_derivative`: Logistic,
/// Tanh, Softplus, ShortTermPlasticity of those, or any transfer with a member
/// `derivative(h)`); any other model or transfer falls back to finite differences.
///
/// Only the narrow surface is used: size(), derivative(x, t, u, dxdt) and the models' public
/// accessors (weights(), tau(), time_constants(), activation(), transfer()).
///
/// \code
/// neurodyn::Rng rng(1);
/// auto net = neurodyn::RateNetwork<neurodyn::Tanh<double>>::random(50, 0.8, 10.0, rng);
/// neurodyn::Vector<double> x = neurodyn::Vector<double>::Zero(50), u = x;
/// neurodyn::Matrix<double> J;
/// neurodyn::model_jacobian(net, x, 0.0, u, J);                  // analytic here
/// static_assert(neurodyn::HasAnalyticJacobian<decltype(net)>);
/// \endcode
#include <algorithm>
#include <cmath>
#include <limits>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/population_model.hpp"
#include "neurodyn/models/rate_network.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn {

/// What the fixed-point tools need of a model: a scalar type, a size and the right-hand side
/// `derivative(x, t, u, dxdt)` (no rates(), no steppers).
template <class M>
concept VectorField = requires(const M& m, const Vector<typename M::scalar_type>& x, double t,
                               const Vector<typename M::scalar_type>& u, Vector<typename M::scalar_type>& dxdt) {
    requires Real<typename M::scalar_type>;
    { m.size() } -> std::convertible_to<index_t>;
    m.derivative(x, t, u, dxdt);
};

// --- derivatives of the transfer functions -------------------------------------------------

/// φ'(h) = σ(h)(1 − σ(h)).
template <Real T>
T transfer_derivative(const Logistic<T>& f, T h) noexcept {
    const T s = f(h);
    return s * (T(1) - s);
}

/// 1 − tanh²(h).
template <Real T>
T transfer_derivative(const Tanh<T>&, T h) noexcept {
    const T th = std::tanh(h);
    return T(1) - th * th;
}

/// d/dh k·log(1 + e^{h/k}) = 1/(1 + e^{−h/k}), written so neither branch overflows.
template <Real T>
T transfer_derivative(const Softplus<T>& f, T h) noexcept {
    const T z = h / f.k;
    if (z >= T(0)) return T(1) / (T(1) + std::exp(-z));
    const T e = std::exp(z);
    return e / (T(1) + e);
}

/// A user transfer function that states its own derivative: `T derivative(T h) const`.
template <class F, class T>
concept HasMemberTransferDerivative = requires(const F& f, T h) {
    { f.derivative(h) } -> std::convertible_to<T>;
};

template <class F, Real T>
    requires HasMemberTransferDerivative<F, T>
T transfer_derivative(const F& f, T h) noexcept(noexcept(f.derivative(h))) {
    return T(f.derivative(h));
}

/// Whether transfer_derivative(f, h) is known for F.
template <class F, class T>
concept HasTransferDerivative = requires(const F& f, T h) {
    { transfer_derivative(f, h) } -> std::convertible_to<T>;
};

/// r = s(y)·y with y = inner(h): dr/dh = (s(y) + y·s'(y))·inner'(h),
/// s = N/D, N = U(1 + y τ_f), D = 1 + y²Uτ_Dτ_f + yU(τ_D + τ_f).
template <class Inner, Real T>
    requires HasTransferDerivative<Inner, T>
T transfer_derivative(const ShortTermPlasticity<Inner, T>& f, T h) noexcept {
    const T y = f.inner(h);
    const T N = f.U + y * f.U * f.tau_f;
    const T D = T(1) + y * y * f.U * f.tau_D * f.tau_f + y * f.U * (f.tau_D + f.tau_f);
    const T dN = f.U * f.tau_f;
    const T dD = T(2) * y * f.U * f.tau_D * f.tau_f + f.U * (f.tau_D + f.tau_f);
    const T s = N / D, ds = (dN * D - N * dD) / (D * D);
    return (s + y * ds) * transfer_derivative(f.inner, h);
}

// --- analytic Jacobians of the library's models ----------------------------------------------
// Overloads take the class templates with a trailing pack (types for RateNetwork, values for
// PopulationModel's compile-time population count) so they keep matching those parameters.
// test_fixed_points static_asserts HasAnalyticJacobian for both, so a silent fall-back to
// finite differences after a change of the templates does not go unnoticed.

/// RateNetwork: DF = (−I + J diag φ'(x)) / τ.
template <class A, class T, class... Rest>
    requires HasTransferDerivative<A, T>
void analytic_jacobian(const RateNetwork<A, T, Rest...>& net, const Vector<T>& x, double /*t*/,
                       const Vector<T>& /*u*/, Matrix<T>& jac) {
    const index_t n = net.size();
    const T inv_tau = T(1.0 / net.tau());
    jac.resize(n, n);
    const auto& W = net.weights();
    for (index_t j = 0; j < n; ++j) jac.col(j) = W.col(j) * (inv_tau * transfer_derivative(net.activation(), x[j]));
    jac.diagonal().array() -= inv_tau;
}

/// PopulationModel: DF = diag(1/τ)(−I + W diag G'(h)).
template <class G, class T, auto... Rest>
    requires HasTransferDerivative<G, T>
void analytic_jacobian(const PopulationModel<G, T, Rest...>& m, const Vector<T>& h, double /*t*/,
                       const Vector<T>& /*u*/, Matrix<T>& jac) {
    const index_t n = m.size();
    jac.resize(n, n);
    const auto& W = m.weights();
    for (index_t j = 0; j < n; ++j) jac.col(j) = W.col(j) * transfer_derivative(m.transfer(), h[j]);
    jac.diagonal().array() -= T(1);
    jac = m.time_constants().cwiseInverse().asDiagonal() * jac;
}

/// A model with a member Jacobian: `jacobian(x, t, u, J)` (state-dependent) or `jacobian()`
/// returning a matrix (linear models such as ContinuousAttractor).
template <class M>
concept HasMemberJacobian =
    requires(const M& m, const Vector<typename M::scalar_type>& x, double t, const Vector<typename M::scalar_type>& u,
             Matrix<typename M::scalar_type>& J) { m.jacobian(x, t, u, J); } ||
    requires(const M& m) { Matrix<typename M::scalar_type>(m.jacobian()); };

/// A model whose Jacobian is known analytically (member or free analytic_jacobian overload).
template <class M>
concept HasAnalyticJacobian =
    VectorField<M> &&
    (HasMemberJacobian<M> ||
     requires(const M& m, const Vector<typename M::scalar_type>& x, double t, const Vector<typename M::scalar_type>& u,
              Matrix<typename M::scalar_type>& J) { analytic_jacobian(m, x, t, u, J); });

/// Central finite differences, column j from f(x ± h_j e_j) with h_j = ε^{1/3}·max(1, |x_j|)
/// (the step that balances truncation O(h²) against rounding O(ε/h)): error ≈ ε^{2/3}·scale.
/// 2n evaluations of the model.
template <VectorField M>
void finite_difference_jacobian(const M& m, const Vector<typename M::scalar_type>& x, double t,
                                const Vector<typename M::scalar_type>& u, Matrix<typename M::scalar_type>& jac) {
    using T = typename M::scalar_type;
    const index_t n = m.size();
    jac.resize(n, n);
    Vector<T> xp = x, fp(n), fm(n);
    const T c = std::cbrt(std::numeric_limits<T>::epsilon());
    for (index_t j = 0; j < n; ++j) {
        const T xj = x[j];
        const T h = c * std::max(T(1), std::abs(xj));
        xp[j] = xj + h;
        const T hp = xp[j] - xj;  // the step actually taken (representable)
        m.derivative(xp, t, u, fp);
        xp[j] = xj - h;
        const T hm = xj - xp[j];
        m.derivative(xp, t, u, fm);
        xp[j] = xj;
        jac.col(j) = (fp - fm) / (hp + hm);
    }
}

/// DF(x) at (t, u): analytic when HasAnalyticJacobian<M>, else central finite differences.
template <VectorField M>
void model_jacobian(const M& m, const Vector<typename M::scalar_type>& x, double t,
                    const Vector<typename M::scalar_type>& u, Matrix<typename M::scalar_type>& jac) {
    using T = typename M::scalar_type;
    if constexpr (requires { m.jacobian(x, t, u, jac); }) {
        m.jacobian(x, t, u, jac);
    } else if constexpr (requires { Matrix<T>(m.jacobian()); }) {
        jac = m.jacobian();
    } else if constexpr (requires { analytic_jacobian(m, x, t, u, jac); }) {
        analytic_jacobian(m, x, t, u, jac);
    } else {
        finite_difference_jacobian(m, x, t, u, jac);
    }
}

}  // namespace neurodyn
