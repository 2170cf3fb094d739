#pragma once
/// \file inagaki2019.hpp
/// The published discrete-attractor configurations of Inagaki, Fontolan, Romani & Svoboda,
/// Nature 566:212 (2019), Extended Data Figs. 1 and 9 (authors' code:
/// fontolanl/ALM_attractors, discrete_attractors.m).
///
/// Four excitatory populations — hemisphere 1: (C, N), hemisphere 2: (N, C) — with fast
/// inhibition folded in (inhibition.hpp), cross-hemisphere coupling JH between populations
/// 1↔3 and 2↔4, transfer r = s(y)·y with y = α·log(1 + e^{h/α}) and the stationary
/// Tsodyks–Markram factor s(y):
///   τ dh/dt = −h + W r + I + stim(t) + ramp(t) + photoinhibition(t) + σ ξ,
/// τ = 100 ms, dt = 1 ms, 6000 steps, h(0) = 1.
///
/// Times. The authors index 1-ms steps from 1; step k (1-based) starts at t = (k − 1) ms.
/// All windows below are stored as half-open [start, end) in ms on that clock:
///   stimulus   steps 1522–2480 → [1521, 2480) ms (sample epoch 1501–2500 trimmed by τ_ext);
///   photoinh.  steps 2502–3080 → [2501, 3080) ms (first 600 ms of the delay, trimmed);
///   ramp       starts at step 1501 → 1500 ms, linear for ramp_ms, then constant;
///   the end-of-delay state is the authors' rate at index 4500 (= G(h) at the start of step 4499).
///
/// \code
/// auto p = neurodyn::inagaki2019_preset("one_hemi_multi_fp_step");
/// auto model = neurodyn::make_inagaki2019_model<double>(p);      // a PopulationModel<…, 4>
/// for (const auto& name : neurodyn::inagaki2019_preset_names()) std::cout << name << '\n';
/// \endcode
#include <array>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/inhibition.hpp"
#include "neurodyn/models/population_model.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn {

/// Parameters of one Inagaki 2019 discrete-attractor configuration plus its task protocol.
/// Weights are the un-folded j's of the paper; fold them with inagaki2019_weights/inputs.
struct Inagaki2019Preset {
    std::string name;
    // stimulus and noise
    double stim_amp = 0, stim_sigma = 0;  ///< per-trial amplitude ~ N(stim_amp, stim_sigma)
    double sigma_noise = 0;               ///< σ of the fast noise added to the input each step
    // couplings (X ← Y written j_XY) and inputs
    double j_CC = 0, j_NN = 0, j_CN = 0, j_NC = 0;
    double j_CI = 0, j_NI = 0, j_IC = 0, j_IN = 0, j_II = 0;
    double i_C = 0, i_N = 0, i_I = 0;
    double JH = 0;  ///< cross-hemisphere excitation
    // transfer function
    double tau_D = 0, tau_f = 0, U = 0, alpha = 4.5;
    // ramp
    double ramp_amp = 0, ramp_ms = 10;
    /// one_hemi_single_fp: the ramp is withheld from population 2 on right trials and from
    /// population 1 on left trials.
    bool withhold_ramp = false;
    std::vector<double> pv_levels;  ///< photoinhibition strengths; 0 = unperturbed
    // protocol (ms; see the file comment)
    double tau = 100, dt = 1;
    long n_steps = 6000;
    double h0 = 1;
    double sample_start = 1500, sample_end = 2500, delay_end = 4500;
    double stim_start = 1521, stim_end = 2480;
    double pv_start = 2501, pv_end = 3080;
    double ramp_start = 1500;
    /// τ_ext of the exponential smoothing of stimulus and photoinhibition boxes; the authors'
    /// helper received dt in the wrong unit, so their boxes are sharp: 0 here.
    double tau_ext = 0;
    /// 1-based index into the authors' rate array read as the end-of-delay state.
    long delay_end_index = 4500;
    /// Samples (1-based rate indices delay_end_index − cd_window … delay_end_index) averaged
    /// for the coding direction and the CD endpoint: the last 400 ms of the delay.
    long cd_window = 400;

    /// Throws invalid_parameter naming the first field that is out of range.
    void validate() const;
};

/// Names of the presets known to inagaki2019_preset().
inline std::vector<std::string> inagaki2019_preset_names() {
    return {"one_hemi_multi_fp_step", "one_hemi_single_fp", "two_hemi_ramp", "two_hemi_ramp_step",
            "two_hemi_internal"};
}

/// The published configuration `name`: one of inagaki2019_preset_names(). Unknown names
/// throw invalid_parameter naming 'preset' and listing the known ones.
/// \code
/// auto p = neurodyn::inagaki2019_preset("two_hemi_ramp");   // 3-s ramp over sample + delay
/// \endcode
inline Inagaki2019Preset inagaki2019_preset(std::string_view name) {
    Inagaki2019Preset p;
    p.name = std::string(name);
    // Argument order (as the published parameter table): stim_amp, stim_sigma, σ_noise, j_CC = j_NN,
    // j_CI = j_NI, j_IC = j_IN, j_CN = j_NC, j_II, i_C = i_N, i_I, JH, τ_D, τ_f, U, α,
    // ramp_amp, ramp length (ms).
    auto set = [&p](double stim_amp, double stim_sigma, double sigma_noise, double jEE, double jEI, double jIE,
                    double jCN, double jII, double iE, double iI, double JH, double tauD, double tauf, double U,
                    double alpha, double ramp_amp, double ramp_ms) {
        p.stim_amp = stim_amp;
        p.stim_sigma = stim_sigma;
        p.sigma_noise = sigma_noise;
        p.j_CC = p.j_NN = jEE;
        p.j_CI = p.j_NI = jEI;
        p.j_IC = p.j_IN = jIE;
        p.j_CN = p.j_NC = jCN;
        p.j_II = jII;
        p.i_C = p.i_N = iE;
        p.i_I = iI;
        p.JH = JH;
        p.tau_D = tauD;
        p.tau_f = tauf;
        p.U = U;
        p.alpha = alpha;
        p.ramp_amp = ramp_amp;
        p.ramp_ms = ramp_ms;
    };
    if (name == "one_hemi_multi_fp_step") {
        set(0.8, 0.1, 9, 5.8, 5, 1.08, 0.9, 2, 2.27, 1, 0, 0.14, 0.8, 0.05, 4.5, 2, 10);
        p.pv_levels = {0, 1, 2, 6};
    } else if (name == "one_hemi_single_fp") {
        set(0.5, 0.05, 14, 16, 8, 4, 1, 1.13, 16, 1.07, 0, 0, 0.05, 0.05, 4.5, 2, 10);
        p.withhold_ramp = true;
        p.pv_levels = {0, 0.4, 2, 12};
    } else if (name == "two_hemi_ramp") {
        // The authors' ramp_type '2s' ramps over sample + delay: t_ramp_end = t_ramp_start +
        // t_dur_delay + t_dur_stim, i.e. 3000 ms (the golden trajectories confirm it).
        set(0.6, 0.05, 8, 6.9, 5, 2.64, 2.2, 2, 1, 1.2, 0.58, 0.1, 0.8, 0.1, 4.5, 4, 3000);
        p.pv_levels = {0, 0.5, 1, 3.2};
    } else if (name == "two_hemi_ramp_step") {
        set(1, 0.01, 8, 6.9, 5, 2.64, 2.2, 2, 1, 1.2, 0.58, 0.1, 0.8, 0.1, 4.5, 4, 10);
        p.pv_levels = {0, 1.5, 2.5, 3.8, 6.8};
    } else if (name == "two_hemi_internal") {
        set(0.4, 0.01, 9, 9.75, 2.5, 4, 2.5, 1, 2.3, 1, 0.4, 0.12, 0.1, 0.1, 2.5, 3.15, 10);
        p.pv_levels = {0, 1.3, 2.3, 7};
    } else {
        std::string known;
        for (const auto& n : inagaki2019_preset_names()) known += (known.empty() ? "" : ", ") + n;
        throw invalid_parameter("preset", "'" + std::string(name) + "'", "unknown; known presets: " + known);
    }
    return p;
}

inline void Inagaki2019Preset::validate() const {
    const std::array<std::pair<const char*, double>, 20> finite{{{"stim_amp", stim_amp},
                                                                 {"j_CC", j_CC},
                                                                 {"j_NN", j_NN},
                                                                 {"j_CN", j_CN},
                                                                 {"j_NC", j_NC},
                                                                 {"j_CI", j_CI},
                                                                 {"j_NI", j_NI},
                                                                 {"j_IC", j_IC},
                                                                 {"j_IN", j_IN},
                                                                 {"i_C", i_C},
                                                                 {"i_N", i_N},
                                                                 {"i_I", i_I},
                                                                 {"JH", JH},
                                                                 {"ramp_amp", ramp_amp},
                                                                 {"h0", h0},
                                                                 {"sample_start", sample_start},
                                                                 {"stim_start", stim_start},
                                                                 {"pv_start", pv_start},
                                                                 {"ramp_start", ramp_start},
                                                                 {"delay_end", delay_end}}};
    for (const auto& [field, value] : finite) require_finite(field, value);
    require_nonnegative("stim_sigma", stim_sigma);
    require_nonnegative("sigma_noise", sigma_noise);
    detail::require_inhibitory_self_coupling(j_II);
    require_nonnegative("tau_D", tau_D);
    require_nonnegative("tau_f", tau_f);
    require(U > 0 && U <= 1, "U", U, "must be in (0, 1]");
    require_positive("alpha", alpha);
    require_nonnegative("ramp_ms", ramp_ms);
    require_positive("tau", tau);
    require_positive("dt", dt);
    require(dt < tau, "dt", dt, "must be smaller than tau (" + detail::to_text(tau) + " ms) for the Euler update");
    require(n_steps >= 1, "n_steps", n_steps, "must be >= 1");
    require(stim_end >= stim_start, "stim_end", stim_end, "must be >= stim_start");
    require(pv_end >= pv_start, "pv_end", pv_end, "must be >= pv_start");
    require_nonnegative("tau_ext", tau_ext);
    require(delay_end_index >= 1 && delay_end_index <= n_steps + 1, "delay_end_index", delay_end_index,
            "must index the rate array 1 … n_steps + 1");
    require(cd_window >= 0 && cd_window < delay_end_index, "cd_window", cd_window,
            "must be >= 0 and end inside the trial");
    require(!pv_levels.empty(), "pv_levels", "empty", "needs at least one photoinhibition level");
    for (double pv : pv_levels) require(std::isfinite(pv) && pv >= 0, "pv_levels", pv, "must be finite and >= 0");
}

/// Hemisphere (1 or 2) of each of the four populations.
inline std::vector<int> inagaki2019_hemispheres() { return {1, 1, 2, 2}; }

/// Folded 4×4 weights: [[J_CC, J_CN],[J_NC, J_NN]] for hemisphere 1, [[J_NN, J_NC],[J_CN, J_CC]]
/// for hemisphere 2, and JH between populations 1↔3 and 2↔4.
/// \code
/// neurodyn::Matrix<double> W = neurodyn::inagaki2019_weights<double>(p);
/// \endcode
template <Real T>
Matrix<T> inagaki2019_weights(const Inagaki2019Preset& p) {
    p.validate();
    const double JCC = fold_weight(p.j_CC, p.j_CI, p.j_IC, p.j_II);
    const double JNN = fold_weight(p.j_NN, p.j_NI, p.j_IN, p.j_II);
    const double JCN = fold_weight(p.j_CN, p.j_CI, p.j_IN, p.j_II);
    const double JNC = fold_weight(p.j_NC, p.j_NI, p.j_IC, p.j_II);
    Matrix<T> W(4, 4);
    W << T(JCC), T(JCN), T(p.JH), T(0),  //
        T(JNC), T(JNN), T(0), T(p.JH),   //
        T(p.JH), T(0), T(JNN), T(JNC),   //
        T(0), T(p.JH), T(JCN), T(JCC);
    return W;
}

/// Folded baseline inputs (I_C, I_N, I_N, I_C).
template <Real T>
Vector<T> inagaki2019_inputs(const Inagaki2019Preset& p) {
    p.validate();
    const double IC = fold_input(p.i_C, p.j_CI, p.i_I, p.j_II);
    const double IN = fold_input(p.i_N, p.j_NI, p.i_I, p.j_II);
    Vector<T> I(4);
    I << T(IC), T(IN), T(IN), T(IC);
    return I;
}

/// Change of each population's folded input per unit photoinhibition strength PV:
/// i_I → i_I(1 + PV) gives ΔI_X = −j_XI·i_I/(1 + j_II) per unit PV.
template <Real T>
Vector<T> inagaki2019_photoinhibition_drive(const Inagaki2019Preset& p) {
    p.validate();
    const double dC = -p.j_CI * p.i_I / (1.0 + p.j_II);
    const double dN = -p.j_NI * p.i_I / (1.0 + p.j_II);
    Vector<T> d(4);
    d << T(dC), T(dN), T(dN), T(dC);
    return d;
}

/// The transfer r = s(y)·y, y = α·log(1 + e^{h/α}).
template <Real T>
using Inagaki2019Transfer = ShortTermPlasticity<Softplus<T>, T>;

template <Real T>
Inagaki2019Transfer<T> inagaki2019_transfer(const Inagaki2019Preset& p) {
    return Inagaki2019Transfer<T>{Softplus<T>{T(p.alpha)}, T(p.U), T(p.tau_f), T(p.tau_D)};
}

/// The light's input change per unit PV on the illuminated hemispheres (1: populations 1, 2;
/// 2: populations 3, 4), zero on the others: what photoinhibition adds to the input.
template <Real T>
Vector<T> inagaki2019_light_drive(const Inagaki2019Preset& p, bool hemisphere1, bool hemisphere2) {
    Vector<T> d = inagaki2019_photoinhibition_drive<T>(p);
    for (index_t i = 0; i < 4; ++i)  // element-wise: head(2).setZero() trips a GCC 12 false -Wstringop-overflow
        if (!(i < 2 ? hemisphere1 : hemisphere2)) d[i] = T(0);
    return d;
}

/// The model type of the presets: four populations, known at compile time.
template <Real T>
using Inagaki2019Model = PopulationModel<Inagaki2019Transfer<T>, T, 4>;

/// The preset as a PopulationModel (folded weights, baseline inputs, τ, σ = sigma_noise) with
/// four populations fixed at compile time, so it runs on `Vector<T>`, `Eigen::Array<T, 4, 1>`
/// or lanes `Lanes<T, 4, B>`. Time-dependent inputs (stimulus, ramp, photoinhibition, the
/// authors' per-step noise) are hooks, added per trial by experiments/inagaki2019_task.hpp.
template <Real T>
Inagaki2019Model<T> make_inagaki2019_model(const Inagaki2019Preset& p) {
    return Inagaki2019Model<T>(inagaki2019_weights<T>(p), Vector<T>::Constant(4, T(p.tau)), inagaki2019_inputs<T>(p),
                               p.sigma_noise, inagaki2019_transfer<T>(p));
}

}  // namespace neurodyn
