#pragma once
/// \file inverse_transfer.hpp
/// The inverse of a transfer function, and the range of rates it can reach: what recurrent
/// FORCE needs to turn target rates R into target currents f = φ⁻¹(R) (and to start a trial on
/// the target, x(0) = φ⁻¹(R(:, 0))).
///
/// Built in: `Logistic` (logit, rates in (0, 1)), `Tanh` (atanh, (−1, 1)), `Softplus`
/// (k·log(e^{r/k} − 1), (0, ∞)). A user transfer function is invertible when it has members
/// `T inverse(T r) const` and `TransferRange range() const`, or when `inverse_transfer<F>` is
/// specialised with the static members `inverse(f, r)` and `range(f)`:
///
/// \code
/// struct Cubic {                                   // φ(h) = h³, a bijection of ℝ
///     double operator()(double h) const { return h * h * h; }
///     double inverse(double r) const { return std::cbrt(r); }
///     neurodyn::TransferRange range() const { return {-INFINITY, INFINITY, ""}; }
/// };
/// static_assert(neurodyn::InvertibleTransfer<Cubic, double>);
/// double f = neurodyn::transfer_inverse(neurodyn::Tanh<double>{}, 0.5);   // atanh(0.5)
/// \endcode
#include <cmath>
#include <limits>
#include <string>

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn {

/// The open interval (lower, upper) of rates a transfer function reaches, and what to tell a
/// user whose targets lie outside it.
struct TransferRange {
    double lower = -std::numeric_limits<double>::infinity();
    double upper = std::numeric_limits<double>::infinity();
    std::string advice;  ///< how to bring targets into the range ("" if none)

    bool contains(double r) const noexcept { return r > lower && r < upper; }
    std::string text() const {
        auto num = [](double v) {
            if (std::isinf(v)) return std::string(v < 0 ? "-inf" : "inf");
            std::string s = std::to_string(v);
            while (s.size() > 1 && s.back() == '0') s.pop_back();
            if (s.back() == '.') s.pop_back();
            return s;
        };
        return "(" + num(lower) + ", " + num(upper) + ")";
    }
};

/// Specialise for a transfer function F that cannot carry the members itself: static
/// `T inverse(const F&, T r)` and `TransferRange range(const F&)`. The primary template has
/// neither: F is then invertible only through its own members.
template <class F>
struct inverse_transfer {};

template <Real T>
struct inverse_transfer<Logistic<T>> {
    static T inverse(const Logistic<T>&, T r) noexcept { return logit(r); }
    static TransferRange range(const Logistic<T>&) {
        return {0.0, 1.0, "normalise them with normalise_jointly()"};
    }
};

template <Real T>
struct inverse_transfer<Tanh<T>> {
    static T inverse(const Tanh<T>&, T r) noexcept { return std::atanh(r); }
    static TransferRange range(const Tanh<T>&) {
        return {-1.0, 1.0, "map them into (-1, 1), e.g. 2*normalise_jointly(rates) - 1"};
    }
};

template <Real T>
struct inverse_transfer<Softplus<T>> {
    /// k·log(e^{r/k} − 1) = r + k·log(1 − e^{−r/k}) (no overflow for large r).
    static T inverse(const Softplus<T>& f, T r) noexcept { return r + f.k * std::log(-std::expm1(-r / f.k)); }
    static TransferRange range(const Softplus<T>&) {
        return {0.0, std::numeric_limits<double>::infinity(), "rates of a softplus network must be positive"};
    }
};

/// A transfer function with an inverse on its range (members, or an inverse_transfer specialisation).
template <class F, class T>
concept InvertibleTransfer = TransferFunction<F, T> &&
                             (requires(const F& f, T r) {
                                 { f.inverse(r) } -> std::convertible_to<T>;
                                 { f.range() } -> std::convertible_to<TransferRange>;
                             } || requires(const F& f, T r) {
                                 { inverse_transfer<F>::inverse(f, r) } -> std::convertible_to<T>;
                                 { inverse_transfer<F>::range(f) } -> std::convertible_to<TransferRange>;
                             });

/// φ⁻¹(r).
template <class F, Real T>
    requires InvertibleTransfer<F, T>
T transfer_inverse(const F& f, T r) {
    if constexpr (requires { f.inverse(r); }) return T(f.inverse(r));
    else return T(inverse_transfer<F>::inverse(f, r));
}

/// The open range of rates φ reaches.
template <class F>
TransferRange transfer_range(const F& f) {
    if constexpr (requires { f.range(); }) return f.range();
    else return inverse_transfer<F>::range(f);
}

}  // namespace neurodyn
