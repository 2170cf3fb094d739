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
#include <type_traits>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

// GCC 12 reports its own AVX-512 intrinsics (the undefined-vector idiom inside Eigen's
// vectorised exp for 8 doubles) as "used uninitialized" when inlined into these functions in
// -march=native builds with -Werror: a false positive, silenced for this header only.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define NEURODYN_TRANSFER_DIAGNOSTICS_PUSHED
#endif

namespace neurodyn {

/// A transfer function for scalar type T.
template <class F, class T>
concept TransferFunction = Real<T> && requires(const F& f, T h) {
    { f(h) } -> std::convertible_to<T>;
};

/// A transfer function that also has a vectorised form `apply(h, out)` on Eigen arrays
/// (out = f(h) element-wise, with the packet math of Eigen's array functions).
template <class F, class A>
concept ArrayTransfer = requires(const F& f, const A& h, A& out) { f.apply(h, out); };

/// out = f(h) element-wise for arrays: the vectorised apply() when F has one, else f per element.
/// \code
/// Eigen::Array<double, 4, 8> h = Eigen::Array<double, 4, 8>::Random(), r;
/// neurodyn::apply_transfer(neurodyn::Softplus<double>{4.5}, h, r);
/// \endcode
template <class F, class A, class O>
void apply_transfer(const F& f, const Eigen::ArrayBase<A>& h, Eigen::ArrayBase<O>& out) {
    if constexpr (requires { f.apply(h, out); })
        f.apply(h, out);
    else
        out = h.unaryExpr(f);
}

/// Logistic sigmoid 1/(1 + e^{−h}); the Rajan-style RNN activation (rates in (0, 1)).
template <Real T = double>
struct Logistic {
    T operator()(T h) const noexcept { return T(1) / (T(1) + std::exp(-h)); }
    /// Vectorised: the same formula with Eigen's packet exp. Within a few ulp of operator()
    /// (the relative error of e^{−h} enters the result damped by e^{−h}/(1 + e^{−h}) ≤ 1) while
    /// the result is a normal number; below that (h < −87 in float, −708 in double) Eigen
    /// clamps the exponent, so the result is off by less than the smallest normal number.
    template <class A, class O>
    void apply(const Eigen::ArrayBase<A>& h, Eigen::ArrayBase<O>& out) const {
        out = (T(1) + (-h).exp()).inverse();
    }
};

/// Hyperbolic tangent (Sussillo–Abbott FORCE networks).
template <Real T = double>
struct Tanh {
    T operator()(T h) const noexcept { return std::tanh(h); }
    /// Vectorised. float: Eigen's packet tanh (a rational approximation, a few ulp from
    /// std::tanh). double: Eigen 3.4 has no packet tanh for double, so tanh h = m/(m + 2) with
    /// m = e^{x} − 1, x = 2h clamped to [−40, 40] (beyond, tanh rounds to ±1). m is taken from
    /// u = e^{x} (Eigen's packet exp) as (u − 1) + u·(x − log u): u − 1 = e^{x′} − 1 for x′ = log u
    /// (exactly when u is near 1) and u·(x − x′) the first-order correction from x′ to x, so no
    /// cancellation for small h (u == 1 gives m = x), and m + 2 ≥ 1. A few ulp. No select():
    /// Eigen 3.4 evaluates it one coefficient at a time (see Softplus::apply).
    template <class A, class O>
    void apply(const Eigen::ArrayBase<A>& h, Eigen::ArrayBase<O>& out) const {
        if constexpr (std::is_same_v<T, float>) {
            out = h.tanh();
        } else {
            using P = typename A::PlainObject;
            const P x = (T(2) * h).min(T(40)).max(T(-40));  // NaN stays NaN (first operand)
            const P u = x.exp();
            const P m = (u - T(1)) + u * (x - u.log());
            out = m / (m + T(2));
        }
    }
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
    /// Vectorised: k·(max(x, 0) + log1p(e^{−|x|})), x = h/k. Eigen 3.4 vectorises exp and log
    /// but not log1p for double, so log1p(z), z ∈ (0, 1], is taken as log(w) − ((w − 1) − z)/w
    /// with w = 1 + z rounded: w − 1 is exact, ((w − 1) − z) is the rounding error δ of w, and
    /// log(1 + z) = log(w − δ) = log w − δ/w + O(δ²), within a few ulp of log1p; when 1 + z
    /// rounds to 1 it gives z. No select(): Eigen 3.4 evaluates select() one coefficient at a
    /// time with scalar log, which cost this function its vectorisation.
    template <class A, class O>
    void apply(const Eigen::ArrayBase<A>& h, Eigen::ArrayBase<O>& out) const {
        using P = typename A::PlainObject;
        const P x = h * (T(1) / k);
        const P z = (-x.abs()).exp();
        const P w = T(1) + z;
        out = k * (x.max(T(0)) + (w.log() - ((w - T(1)) - z) / w));
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
    /// Vectorised on Eigen arrays (the inner function's apply() when it has one).
    template <class A, class O>
    void apply(const Eigen::ArrayBase<A>& h, Eigen::ArrayBase<O>& out) const {
        typename A::PlainObject y;
        y.resizeLike(h.derived());
        apply_transfer(inner, h, y);
        const T a1 = U * tau_f, a2 = U * tau_D * tau_f, a3 = U * (tau_D + tau_f);
        out = (U + y * a1) / (T(1) + y * y * a2 + y * a3) * y;
    }
    void validate() const {
        require(U > T(0) && U <= T(1), "ShortTermPlasticity.U", U, "must be in (0, 1]");
        require_nonnegative("ShortTermPlasticity.tau_f", tau_f);
        require_nonnegative("ShortTermPlasticity.tau_D", tau_D);
    }
};

}  // namespace neurodyn

#ifdef NEURODYN_TRANSFER_DIAGNOSTICS_PUSHED
#pragma GCC diagnostic pop
#undef NEURODYN_TRANSFER_DIAGNOSTICS_PUSHED
#endif
