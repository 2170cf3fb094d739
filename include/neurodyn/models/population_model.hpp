#pragma once
/// \file population_model.hpp
/// A population (mean-field) rate model with per-population time constants:
///   τᵢ dhᵢ/dt = −hᵢ + Σⱼ Wᵢⱼ G(hⱼ) + Iᵢ + uᵢ(t) + σ ξᵢ(t),
/// h the populations' input currents, G the transfer function (rate = G(h)), W the
/// effective weights, I a constant baseline input, u(t) the time-dependent input of the
/// step (stimulus, ramp, perturbations) and ξ white noise of amplitude σ. The noise is not
/// part of derivative(): stochastic steppers read it through diffusion() = σ/τ, so that
/// dh = f dt + (σ/τ) dW. (The Inagaki 2019 code instead adds σ·ξ to the input once per
/// 1-ms step; with dt = 1 ms both give the same numbers, see docs/attractor_models.md.)
///
/// \code
/// using G = neurodyn::ShortTermPlasticity<neurodyn::Softplus<double>>;
/// neurodyn::Matrix<double> W(2, 2);
/// W << 3.9, -0.9, -0.9, 3.9;
/// neurodyn::Vector<double> tau = neurodyn::Vector<double>::Constant(2, 100.0);
/// neurodyn::Vector<double> I = neurodyn::Vector<double>::Constant(2, 0.6);
/// neurodyn::PopulationModel<G> m(W, tau, I, /*sigma=*/9.0, G{{4.5}, 0.05, 0.8, 0.14});
/// neurodyn::Vector<double> h = neurodyn::Vector<double>::Ones(2), u = neurodyn::Vector<double>::Zero(2), dh(2);
/// m.derivative(h, 0.0, u, dh);
/// \endcode
#include <cmath>
#include <string>
#include <utility>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn {

template <class Transfer = Softplus<double>, Real T = double>
class PopulationModel {
    static_assert(TransferFunction<Transfer, T>,
                  "neurodyn::PopulationModel<Transfer, T>: Transfer must be callable as T(T) "
                  "(e.g. Softplus<T>, ShortTermPlasticity<Softplus<T>, T>)");

public:
    using scalar_type = T;
    using transfer_type = Transfer;

    /// \param W     n×n effective weights, W(i, j) from population j to population i
    /// \param tau   n time constants in ms, each > 0
    /// \param input n baseline inputs Iᵢ
    /// \param sigma noise amplitude σ >= 0 (used only by stochastic steppers via diffusion())
    /// \param G     transfer function (validated when it has validate())
    PopulationModel(Matrix<T> W, Vector<T> tau, Vector<T> input, double sigma = 0.0, Transfer G = {})
        : W_(std::move(W)), tau_(std::move(tau)), input_(std::move(input)), sigma_(sigma), G_(std::move(G)) {
        require(W_.rows() == W_.cols() && W_.rows() > 0, "W",
                std::to_string(W_.rows()) + "x" + std::to_string(W_.cols()), "must be a non-empty square matrix");
        require(W_.allFinite(), "W", "a matrix with NaN or Inf", "all weights must be finite");
        require_size("tau", tau_.size(), W_.rows());
        for (index_t i = 0; i < tau_.size(); ++i)
            require_positive("tau[" + std::to_string(i) + "]", double(tau_[i]));
        require_size("input", input_.size(), W_.rows());
        require(input_.allFinite(), "input", "a vector with NaN or Inf", "all baseline inputs must be finite");
        require_nonnegative("sigma", sigma_);
        if constexpr (requires { G_.validate(); }) G_.validate();
        inv_tau_ = tau_.cwiseInverse();
    }

    index_t size() const noexcept { return W_.rows(); }
    const Matrix<T>& weights() const noexcept { return W_; }
    const Vector<T>& time_constants() const noexcept { return tau_; }
    const Vector<T>& baseline_input() const noexcept { return input_; }
    double sigma() const noexcept { return sigma_; }
    const Transfer& transfer() const noexcept { return G_; }
    double min_time_constant() const noexcept { return double(tau_.minCoeff()); }

    /// G(h) element-wise, as an Eigen expression.
    template <class Derived>
    auto rates(const Eigen::MatrixBase<Derived>& h) const {
        return h.derived().unaryExpr(G_);
    }

    /// dh/dt = (−h + W G(h) + I + u) / τ.
    void derivative(const Vector<T>& h, double t, const Vector<T>& u, Vector<T>& dhdt) const {
        drive(h, t, u, dhdt);
        dhdt.array() = (dhdt.array() - h.array()) * inv_tau_.array();
    }

    /// The value h relaxes towards, W G(h) + I + u (for the exponential-Euler stepper).
    void drive(const Vector<T>& h, double /*t*/, const Vector<T>& u, Vector<T>& out) const {
        // Evaluate G(h) once into a per-thread buffer: a product with the unary expression
        // would allocate a temporary on every call; the buffer is resized only when the
        // population count changes.
        thread_local Vector<T> r;
        r.resize(h.size());
        r.noalias() = h.unaryExpr(G_);
        out.noalias() = W_ * r;
        out += input_ + u;
    }

    /// 1/τ per population.
    const Vector<T>& decay_rates() const noexcept { return inv_tau_; }

    /// Noise amplitude on dh per √ms: σ/τ per population.
    auto diffusion() const { return (T(sigma_) * inv_tau_.array()).matrix(); }

private:
    Matrix<T> W_;
    Vector<T> tau_;
    Vector<T> input_;
    double sigma_;
    Transfer G_;
    Vector<T> inv_tau_;
};

}  // namespace neurodyn
