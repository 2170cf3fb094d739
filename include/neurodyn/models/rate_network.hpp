#pragma once
/// \file rate_network.hpp
/// A random (or any) rate network: τ dx/dt = −x + J φ(x) + u(t).
///
/// \code
/// neurodyn::Rng rng(1);
/// auto net = neurodyn::RateNetwork<neurodyn::Logistic<double>>::random(87, 1.2, 10.0, rng);
/// neurodyn::Vector<double> x = neurodyn::Vector<double>::Zero(87), dxdt(87), u = x;
/// net.derivative(x, 0.0, u, dxdt);
/// \endcode
#include <cmath>
#include <string>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn {

template <class Activation = Logistic<double>, Real T = double>
class RateNetwork {
    static_assert(TransferFunction<Activation, T>,
                  "neurodyn::RateNetwork<Activation, T>: Activation must be callable as T(T), e.g. Logistic<T>, "
                  "Tanh<T> or a user function object (see models/transfer.hpp)");

public:
    using scalar_type = T;
    using activation_type = Activation;

    /// \param J   N×N weights, J(i, j) from unit j to unit i
    /// \param tau membrane time constant in ms, > 0
    RateNetwork(Matrix<T> J, double tau, Activation phi = {}) : J_(std::move(J)), tau_(tau), phi_(phi) {
        require(J_.rows() == J_.cols() && J_.rows() > 0, "J",
                std::to_string(J_.rows()) + "x" + std::to_string(J_.cols()), "must be a non-empty square matrix");
        require_positive("tau", tau);
        require(J_.allFinite(), "J", "a matrix with NaN or Inf", "all weights must be finite");
        if constexpr (requires { phi_.validate(); }) phi_.validate();
    }

    /// J ~ N(0, g²/N). The autonomous network turns chaotic when the effective gain g·φ′ at its
    /// fixed point exceeds 1 (Sompolinsky, Crisanti & Sommers 1988): g > 1 for tanh (φ′(0) = 1),
    /// but with the logistic (φ′ ≤ 1/4) g·max φ′ = g/4, so chaos needs g > 4 at the least.
    static RateNetwork random(index_t n, double g, double tau, Rng& rng, Activation phi = {}) {
        require(n > 0, "n", n, "must be >= 1");
        require_nonnegative("g", g);
        Matrix<T> J(n, n);
        const double sd = g / std::sqrt(double(n));
        // Column-major fill: the same seed gives the same matrix for float and double.
        for (index_t j = 0; j < n; ++j)
            for (index_t i = 0; i < n; ++i) J(i, j) = T(sd * rng.normal());
        return RateNetwork(std::move(J), tau, phi);
    }

    index_t size() const noexcept { return J_.rows(); }
    double tau() const noexcept { return tau_; }
    double min_time_constant() const noexcept { return tau_; }
    const Matrix<T>& weights() const noexcept { return J_; }
    /// Mutable access for learning rules (FORCE changes J in place).
    Matrix<T>& weights() noexcept { return J_; }
    const Activation& activation() const noexcept { return phi_; }

    /// φ(x), as an Eigen expression: `r.noalias() = net.rates(x)` does not allocate.
    template <class Derived>
    auto rates(const Eigen::MatrixBase<Derived>& x) const {
        return x.derived().unaryExpr(phi_);
    }

    /// dx/dt = (−x + J φ(x) + u) / τ.
    void derivative(const Vector<T>& x, double /*t*/, const Vector<T>& u, Vector<T>& dxdt) const {
        drive(x, 0.0, u, dxdt);
        dxdt = (dxdt - x) / T(tau_);
    }

    /// The value x relaxes towards: J φ(x) + u (for the exponential-Euler stepper).
    void drive(const Vector<T>& x, double /*t*/, const Vector<T>& u, Vector<T>& out) const {
        // φ(x) goes to a per-thread buffer: a product with the unevaluated expression would
        // allocate a temporary every call, and a member buffer would race between threads
        // that share one network.
        thread_local Vector<T> r;
        r.resize(x.size());  // allocates only when the size changes
        r.noalias() = x.unaryExpr(phi_);
        out.noalias() = J_ * r;
        out += u;
    }
    auto decay_rates() const { return Vector<T>::Constant(size(), T(1.0 / tau_)); }

private:
    Matrix<T> J_;
    double tau_;
    Activation phi_;
};

}  // namespace neurodyn
