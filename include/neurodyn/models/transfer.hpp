#pragma once
/// \file transfer.hpp
/// Activation / transfer functions: small function objects `T operator()(T h) const`.
/// They know nothing of the network they sit in; models apply them element-wise.
///
/// \code
/// neurodyn::Softplus<double> f{4.5};                 // 4.5·log(1 + e^{h/4.5})
/// neurodyn::ShortTermPlasticity<neurodyn::Softplus<double>> g{{4.5}, 0.05, 0.8, 0.14};
/// double r = g(1.0);                                 // s(y)·y with y = f(1)
/// \endcode
#include <cmath>
#include <concepts>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// A transfer function for scalar type T.
template <class F, class T>
concept TransferFunction = Real<T> && requires(const F& f, T h) {
    { f(h) } -> std::convertible_to<T>;
};

/// Logistic sigmoid 1/(1 + e^{−h}); the Rajan-style RNN activation (rates in (0, 1)).
template <Real T = double>
struct Logistic {
    T operator()(T h) const noexcept { return T(1) / (T(1) + std::exp(-h)); }
};

/// Hyperbolic tangent (Sussillo–Abbott FORCE networks).
template <Real T = double>
struct Tanh {
    T operator()(T h) const noexcept { return std::tanh(h); }
};

/// Softplus with sharpness k: k·log(1 + e^{h/k}). Written as max(h,0) + k·log1p(e^{−|h|/k})
/// so large |h| neither overflows nor loses precision.
template <Real T = double>
struct Softplus {
    T k = T(1);
    T operator()(T h) const noexcept {
        const T a = std::abs(h) / k;
        return (h > T(0) ? h : T(0)) + k * std::log1p(std::exp(-a));
    }
    void validate() const { require_positive("Softplus.k", k); }
};

/// Stationary Tsodyks–Markram short-term plasticity applied to an inner transfer function:
/// y = inner(h), s(y) = (U + y·U·τ_f) / (1 + y²·U·τ_D·τ_f + y·U·(τ_D + τ_f)), rate = s(y)·y.
/// τ_f and τ_D are in the units of 1/y (seconds when y is in Hz, as in Inagaki et al. 2019).
template <class Inner, Real T = double>
struct ShortTermPlasticity {
    Inner inner{};
    T U = T(0.05);     ///< release probability
    T tau_f = T(0.8);  ///< facilitation time constant
    T tau_D = T(0.14); ///< depression time constant

    /// The synaptic efficacy factor s(y) for presynaptic rate y.
    T efficacy(T y) const noexcept {
        return (U + y * U * tau_f) / (T(1) + y * y * U * tau_D * tau_f + y * U * (tau_D + tau_f));
    }
    T operator()(T h) const noexcept {
        const T y = inner(h);
        return efficacy(y) * y;
    }
    void validate() const {
        require(U > T(0) && U <= T(1), "ShortTermPlasticity.U", U, "must be in (0, 1]");
        require_nonnegative("ShortTermPlasticity.tau_f", tau_f);
        require_nonnegative("ShortTermPlasticity.tau_D", tau_D);
    }
};

}  // namespace neurodyn
