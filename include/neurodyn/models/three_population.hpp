#pragma once
/// \file three_population.hpp
/// One hemisphere of the Inagaki 2019 network with its inhibitory population kept explicit:
/// two excitatory populations C (right/contra-preferring) and N (left/ipsi-preferring) and an
/// inhibitory population I with its own time constant τ_I and linear rate r_I = h_I:
///   τ_E dh_C/dt = −h_C + j_CC G(h_C) + j_CN G(h_N) − j_CI h_I + i_C + u_C
///   τ_E dh_N/dt = −h_N + j_NC G(h_C) + j_NN G(h_N) − j_NI h_I + i_N + u_N
///   τ_I dh_I/dt = −h_I + j_IC G(h_C) + j_IN G(h_N) − j_II h_I + i_I + u_I
/// As τ_I → 0, h_I follows its fixed point and the model reduces to the two-population
/// PopulationModel of folded() (inhibition.hpp), with an O(τ_I/τ_E) difference.
///
/// \code
/// neurodyn::ThreePopulationParameters<double> q;    // one_hemi_multi_fp_step couplings
/// q.tau_I = 1.0;
/// neurodyn::ThreePopulation<neurodyn::ShortTermPlasticity<neurodyn::Softplus<double>>> net(q, G);
/// auto reduced = net.folded();                       // 2-population fast-inhibition limit
/// \endcode
#include <algorithm>
#include <string>
#include <utility>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/inhibition.hpp"
#include "neurodyn/models/population_model.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn {

/// Couplings (X ← Y as j_XY; inhibitory weights j_XI >= 0 enter with a minus sign), inputs
/// and time constants (ms). Defaults: the one_hemi_multi_fp_step preset, τ_I = 10 ms.
template <Real T = double>
struct ThreePopulationParameters {
    T j_CC = T(5.8), j_CN = T(0.9), j_NC = T(0.9), j_NN = T(5.8);
    T j_CI = T(5), j_NI = T(5), j_IC = T(1.08), j_IN = T(1.08), j_II = T(2);
    T i_C = T(2.27), i_N = T(2.27), i_I = T(1);
    double tau_E = 100, tau_I = 10;

    void validate() const {
        const std::pair<const char*, T> v[] = {{"j_CC", j_CC}, {"j_CN", j_CN}, {"j_NC", j_NC}, {"j_NN", j_NN},
                                               {"j_CI", j_CI}, {"j_NI", j_NI}, {"j_IC", j_IC}, {"j_IN", j_IN},
                                               {"i_C", i_C},   {"i_N", i_N},   {"i_I", i_I}};
        for (const auto& [name, value] : v) require_finite(name, value);
        detail::require_inhibitory_self_coupling(double(j_II));
        require_positive("tau_E", tau_E);
        require_positive("tau_I", tau_I);
    }
};

template <class Transfer = Softplus<double>, Real T = double>
class ThreePopulation {
    static_assert(TransferFunction<Transfer, T>,
                  "neurodyn::ThreePopulation<Transfer, T>: Transfer must be callable as T(T)");

public:
    using scalar_type = T;
    enum Index : index_t { C = 0, N = 1, I = 2 };

    explicit ThreePopulation(ThreePopulationParameters<T> q = {}, Transfer G = {}) : q_(q), G_(std::move(G)) {
        q_.validate();
        if constexpr (requires { G_.validate(); }) G_.validate();
    }

    index_t size() const noexcept { return 3; }
    const ThreePopulationParameters<T>& parameters() const noexcept { return q_; }
    double min_time_constant() const noexcept { return std::min(q_.tau_E, q_.tau_I); }

    /// (G(h_C), G(h_N), h_I).
    Vector<T> rates(const Vector<T>& h) const {
        Vector<T> r(3);
        r << G_(h[C]), G_(h[N]), h[I];
        return r;
    }

    void derivative(const Vector<T>& h, double, const Vector<T>& u, Vector<T>& dhdt) const {
        const T rC = G_(h[C]), rN = G_(h[N]), rI = h[I];
        dhdt.resize(3);
        dhdt[C] = (-h[C] + q_.j_CC * rC + q_.j_CN * rN - q_.j_CI * rI + q_.i_C + u[C]) / T(q_.tau_E);
        dhdt[N] = (-h[N] + q_.j_NC * rC + q_.j_NN * rN - q_.j_NI * rI + q_.i_N + u[N]) / T(q_.tau_E);
        dhdt[I] = (-h[I] + q_.j_IC * rC + q_.j_IN * rN - q_.j_II * rI + q_.i_I + u[I]) / T(q_.tau_I);
    }

    /// The fixed point of h_I for given excitatory currents: (j_IC r_C + j_IN r_N + i_I)/(1 + j_II).
    T inhibitory_fixed_point(T hC, T hN) const {
        return (q_.j_IC * G_(hC) + q_.j_IN * G_(hN) + q_.i_I) / (T(1) + q_.j_II);
    }

    /// The fast-inhibition limit: a 2-population PopulationModel over (h_C, h_N).
    PopulationModel<Transfer, T> folded() const {
        Matrix<T> J(2, 2);
        J << q_.j_CC, q_.j_CN, q_.j_NC, q_.j_NN;
        Vector<T> jEI(2), jIE(2), iE(2);
        jEI << q_.j_CI, q_.j_NI;
        jIE << q_.j_IC, q_.j_IN;
        iE << q_.i_C, q_.i_N;
        auto f = fold_inhibition<T>(J, jEI, jIE, q_.j_II, iE, q_.i_I);
        return PopulationModel<Transfer, T>(std::move(f.weights), Vector<T>::Constant(2, T(q_.tau_E)),
                                            std::move(f.input), 0.0, G_);
    }

private:
    ThreePopulationParameters<T> q_;
    Transfer G_;
};

}  // namespace neurodyn
