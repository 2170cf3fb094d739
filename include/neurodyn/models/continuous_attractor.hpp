#pragma once
/// \file continuous_attractor.hpp
/// The linear continuous (line) attractor of Inagaki, Fontolan, Romani & Svoboda (2019),
/// Extended Data Fig. 1 (authors' code: fontolanl/ALM_attractors, cont_attractor.m). Twelve
/// state variables, in the authors' order:
///
///   x = (h_C, h_N, h_I, s_CC, s_CN, s_NC, s_NN, s_CI, s_IC, s_NI, s_IN, s_II)
///
/// three currents and nine first-order synaptic filters τ_XY ds_XY/dt = −s_XY + h_Y. Currents:
///   τ_C dh_C/dt = −h_C + j_CC s_CC + j_CN s_CN − j_CI s_CI + u_C
///   τ_N dh_N/dt = −h_N + j_NC s_NC + j_NN s_NN − j_NI s_NI + u_N
///   τ_I dh_I/dt = −h_I + j_IC s_IC + j_IN s_IN − j_II s_II + u_I
/// i.e. τ ⊙ dx/dt = −x + W x + u with the authors' 12×12 matrix W. The input u (size 12) enters
/// every variable the same way; the task puts the stimulus on u_C, the photoinhibition drive on
/// u_I and Ornstein–Uhlenbeck noise on the three currents (experiments/continuous_attractor_task.hpp).
/// Times in ms. The model is linear, so rates(x) is the state itself.
///
/// With the published weights the effective current-to-current gain (all s at steady state)
/// has an eigenvalue ≈ 1: the Jacobian D⁻¹(W − I) has one eigenvalue near zero (the line
/// attractor, slightly detuned by j_IC = 300 − 1.5 and j_NI = 300 + 1.99) and all others clearly
/// negative.
///
/// \code
/// neurodyn::ContinuousAttractor<double> ca;                   // published parameters
/// neurodyn::Matrix<double> jac = ca.jacobian();              // 12×12, for eigen-analysis
/// neurodyn::DormandPrince45<double> dp({.rtol = 1e-3, .atol = 1e-3});
/// neurodyn::integrate_adaptive(ca, dp, x, neurodyn::TimeGrid(1.0, 5000), input);
/// \endcode
#include <array>
#include <string>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Weights and time constants (ms) of the continuous attractor; defaults are the published ones.
struct ContinuousAttractorParameters {
    double j_CC = 150, j_CN = 150, j_NC = 150, j_NN = 150;
    double j_II = 600, j_CI = 300, j_IC = 298.5, j_NI = 301.99, j_IN = 550;
    double tau_C = 20, tau_N = 20, tau_I = 10;
    double tau_CC = 100, tau_CN = 100, tau_NC = 100, tau_NN = 100;
    double tau_CI = 10, tau_IC = 25, tau_NI = 10, tau_IN = 25, tau_II = 10;

    /// The twelve time constants in state order.
    std::array<double, 12> time_constants() const {
        return {tau_C, tau_N, tau_I, tau_CC, tau_CN, tau_NC, tau_NN, tau_CI, tau_IC, tau_NI, tau_IN, tau_II};
    }
    void validate() const {
        static const char* names[12] = {"tau_C",  "tau_N",  "tau_I",  "tau_CC", "tau_CN", "tau_NC",
                                        "tau_NN", "tau_CI", "tau_IC", "tau_NI", "tau_IN", "tau_II"};
        const auto taus = time_constants();
        for (int i = 0; i < 12; ++i) require_positive(std::string("ContinuousAttractorParameters.") + names[i], taus[i]);
        for (double j : {j_CC, j_CN, j_NC, j_NN, j_II, j_CI, j_IC, j_NI, j_IN})
            require_finite("ContinuousAttractorParameters.j", j);
    }
};

template <Real T = double>
class ContinuousAttractor {
public:
    using scalar_type = T;
    /// Indices of the state variables.
    enum Index : index_t { hC = 0, hN, hI, sCC, sCN, sNC, sNN, sCI, sIC, sNI, sIN, sII, n_state };

    explicit ContinuousAttractor(const ContinuousAttractorParameters& p = {}) : p_(p) {
        p.validate();
        W_.setZero(n_state, n_state);
        W_(hC, sCC) = T(p.j_CC); W_(hC, sCN) = T(p.j_CN); W_(hC, sCI) = T(-p.j_CI);
        W_(hN, sNC) = T(p.j_NC); W_(hN, sNN) = T(p.j_NN); W_(hN, sNI) = T(-p.j_NI);
        W_(hI, sIC) = T(p.j_IC); W_(hI, sIN) = T(p.j_IN); W_(hI, sII) = T(-p.j_II);
        // s_XY filters h_Y
        W_(sCC, hC) = 1; W_(sCN, hN) = 1; W_(sNC, hC) = 1; W_(sNN, hN) = 1; W_(sCI, hI) = 1;
        W_(sIC, hC) = 1; W_(sNI, hI) = 1; W_(sIN, hN) = 1; W_(sII, hI) = 1;
        inv_tau_.resize(n_state);
        const auto taus = p.time_constants();
        for (index_t i = 0; i < n_state; ++i) inv_tau_[i] = T(1.0 / taus[std::size_t(i)]);
        min_tau_ = taus[0];
        for (double t : taus) min_tau_ = t < min_tau_ ? t : min_tau_;
    }

    index_t size() const noexcept { return n_state; }
    const ContinuousAttractorParameters& parameters() const noexcept { return p_; }
    /// The coupling matrix W (τ ⊙ dx/dt = −x + W x + u).
    const Matrix<T>& weights() const noexcept { return W_; }
    double min_time_constant() const noexcept { return min_tau_; }

    /// dx/dt = (−x + W x + u) / τ.
    void derivative(const Vector<T>& x, double /*t*/, const Vector<T>& u, Vector<T>& dxdt) const {
        dxdt.noalias() = W_ * x;
        dxdt.array() = (dxdt - x + u).array() * inv_tau_.array();
    }
    /// Linear model: the "rates" are the state variables themselves.
    template <class Derived>
    auto rates(const Eigen::MatrixBase<Derived>& x) const { return x.derived(); }

    /// LinearDecayModel interface: a = 1/τ, b = W x + u.
    const Vector<T>& decay_rates() const noexcept { return inv_tau_; }
    void drive(const Vector<T>& x, double /*t*/, const Vector<T>& u, Vector<T>& out) const {
        out.noalias() = W_ * x;
        out += u;
    }

    /// The Jacobian D⁻¹(W − I) of the (linear) flow, D = diag(τ).
    Matrix<T> jacobian() const {
        Matrix<T> J = W_ - Matrix<T>::Identity(n_state, n_state);
        return inv_tau_.asDiagonal() * J;
    }

private:
    ContinuousAttractorParameters p_;
    Matrix<T> W_;
    Vector<T> inv_tau_;
    double min_tau_ = 0;
};

}  // namespace neurodyn
