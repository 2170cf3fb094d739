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
/// The state type is a template parameter of derivative()/drive(): a `Vector<T>` (one trial)
/// or an Eigen array `Lanes<T, N, B>` holding B trials as columns. With N fixed at compile time
/// (third template parameter) and a fixed-size state, nothing is allocated and the transfer
/// function runs vectorised (its apply(), see transfer.hpp). W G(h) is accumulated lane by
/// lane, one population at a time (out_b += W(:, j) G(h_jb)), so every lane performs the same
/// operations in the same order: a trial gives bitwise the same numbers alone (a fixed
/// one-column state) or in any lane of a batch, in portable and -march=native builds (tested).
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
#include "neurodyn/concepts/state.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn {

template <class Transfer = Softplus<double>, Real T = double, int N = Eigen::Dynamic>
class PopulationModel {
    static_assert(TransferFunction<Transfer, T>,
                  "neurodyn::PopulationModel<Transfer, T>: Transfer must be callable as T(T) "
                  "(e.g. Softplus<T>, ShortTermPlasticity<Softplus<T>, T>)");

public:
    using scalar_type = T;
    using transfer_type = Transfer;
    using weights_type = Eigen::Matrix<T, N, N>;
    using vector_type = Eigen::Matrix<T, N, 1>;
    static constexpr int populations = N;  ///< compile-time population count (Eigen::Dynamic if not fixed)

    /// \param W     n×n effective weights, W(i, j) from population j to population i
    /// \param tau   n time constants in ms, each > 0
    /// \param input n baseline inputs Iᵢ
    /// \param sigma noise amplitude σ >= 0 (used only by stochastic steppers via diffusion())
    /// \param G     transfer function (validated when it has validate())
    PopulationModel(const Matrix<T>& W, const Vector<T>& tau, const Vector<T>& input, double sigma = 0.0,
                    Transfer G = {})
        : sigma_(sigma), G_(std::move(G)) {
        require(W.rows() == W.cols() && W.rows() > 0, "W",
                std::to_string(W.rows()) + "x" + std::to_string(W.cols()), "must be a non-empty square matrix");
        if constexpr (N != Eigen::Dynamic)
            require(W.rows() == N, "W", std::to_string(W.rows()) + "x" + std::to_string(W.cols()),
                    "must be " + std::to_string(N) + "x" + std::to_string(N) + " for this model type");
        require(W.allFinite(), "W", "a matrix with NaN or Inf", "all weights must be finite");
        require_size("tau", tau.size(), W.rows());
        for (index_t i = 0; i < tau.size(); ++i)
            require_positive("tau[" + std::to_string(i) + "]", double(tau[i]));
        require_size("input", input.size(), W.rows());
        require(input.allFinite(), "input", "a vector with NaN or Inf", "all baseline inputs must be finite");
        require_nonnegative("sigma", sigma_);
        if constexpr (requires { G_.validate(); }) G_.validate();
        W_ = W;
        tau_ = tau;
        input_ = input;
        inv_tau_ = tau_.cwiseInverse();
    }

    index_t size() const noexcept { return W_.rows(); }
    const weights_type& weights() const noexcept { return W_; }
    const vector_type& time_constants() const noexcept { return tau_; }
    const vector_type& baseline_input() const noexcept { return input_; }
    double sigma() const noexcept { return sigma_; }
    const Transfer& transfer() const noexcept { return G_; }
    double min_time_constant() const noexcept { return double(tau_.minCoeff()); }

    /// G(h) element-wise, as an Eigen expression (vectors).
    template <class Derived>
    auto rates(const Eigen::MatrixBase<Derived>& h) const {
        return h.derived().unaryExpr(G_);
    }
    /// G(h) element-wise for arrays (lanes), vectorised when the transfer has apply().
    template <class Derived>
    typename Derived::PlainObject rates(const Eigen::ArrayBase<Derived>& h) const {
        typename Derived::PlainObject r;
        r.resizeLike(h.derived());
        apply_transfer(G_, h, r);
        return r;
    }

    /// dh/dt = (−h + W G(h) + I + u) / τ, for every column (lane) of h.
    template <State X>
    void derivative(const X& h, double t, const X& u, X& dhdt) const {
        drive(h, t, u, dhdt);
        dhdt.array() = (dhdt.array() - h.array()).colwise() * inv_tau_.array();
    }

    /// The value h relaxes towards, W G(h) + I + u (for the exponential-Euler stepper).
    template <State X>
    void drive(const X& h, double /*t*/, const X& u, X& out) const {
        if constexpr (fixed_size_state<X>) {
            Eigen::Array<T, X::RowsAtCompileTime, X::ColsAtCompileTime> r;
            apply_transfer(G_, h.array(), r);
            accumulate_product(r, out);
        } else {
            // G(h) into a per-thread buffer: a product with the unary expression would allocate
            // a temporary on every call; the buffer is resized only when the shape changes.
            thread_local Matrix<T> r;
            r.resize(h.rows(), h.cols());
            r.noalias() = h.matrix().unaryExpr(G_);
            if (h.cols() == 1)
                out.matrix().noalias() = W_ * r;
            else
                accumulate_product(r.array(), out);
        }
        out.array() = (out.array().colwise() + input_.array()) + u.array();
    }

    /// 1/τ per population.
    const vector_type& decay_rates() const noexcept { return inv_tau_; }

    /// Noise amplitude on dh per √ms: σ/τ per population.
    auto diffusion() const { return (T(sigma_) * inv_tau_.array()).matrix(); }

private:
    /// out = W r, one lane (column of r) at a time and within it one population (column of W)
    /// at a time: every lane runs the same instructions on its own column, so a lane is
    /// bitwise the trial alone even where the compiler fuses multiply-adds (-march=native with
    /// FMA; Eigen's outer-product form did not give that: 1–2 lanes of 8 differed by an ulp).
    template <class R, class X>
    void accumulate_product(const R& r, X& out) const {
        auto&& o = out.matrix();
        for (index_t c = 0; c < o.cols(); ++c) {
            o.col(c).noalias() = W_.col(0) * r(0, c);
            for (index_t j = 1; j < W_.cols(); ++j) o.col(c).noalias() += W_.col(j) * r(j, c);
        }
    }

    weights_type W_;
    vector_type tau_;
    vector_type input_;
    double sigma_;
    Transfer G_;
    vector_type inv_tau_;
};

}  // namespace neurodyn
