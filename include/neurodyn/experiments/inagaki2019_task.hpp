#pragma once
/// \file inagaki2019_task.hpp
/// The delayed-response task with photoinhibition of Inagaki, Fontolan, Romani & Svoboda
/// (Nature 2019, Extended Data Figs. 1 and 9) on the discrete-attractor presets of
/// models/inagaki2019.hpp, composed from the library's parts:
///
///   model    make_inagaki2019_model<T>(preset)        (PopulationModel, 4 populations)
///   stepper  Euler<T, X>                              (the authors' update, dt = 1 ms)
///   inputs   AddInput hooks: stimulus box × amplitude on populations (1, 3) on right trials and
///            (2, 4) on left trials; the preset's ramp (withheld from one population on
///            one_hemi_single_fp); the light, PV × inagaki2019_light_drive on the illuminated
///            hemispheres during [pv_start, pv_end);
///   noise    InputNoise, per_step: σ·ξ added to the input once per 1-ms step (no √dt), as the
///            authors, 4 ziggurat draws per step from Rng(seed, trial, 0);
///   driver   simulate(), with X = Vector<T> (one trial) or Lanes<T, 4, B> (B trials at once,
///            bitwise the same trials: see models/population_model.hpp).
///
/// With Euler the authors' update order is kept exactly: y = softplus(h_t); input_t from
/// s(y)·y; h_{t+1} = h_t + dt(−h_t + input_t)/τ; r_{t+1} = s(y_t)·y_t, so the recorded rate
/// lags h by one step. Rates are indexed as in the authors' arrays: index K = 1 … n_steps + 1,
/// r(1) = 0, r(K) = G(h at the start of step K − 1).
///
/// `run_inagaki2019_task` is the delayed-response protocol (delayed_response.hpp) with the
/// policy `Inagaki2019Policy`: PV levels × trial types × N trials, 16 lanes per simulate() call
/// (16 rather than 8: the per-step costs of the hooks and the step loop are shared by twice the
/// trials; about 5–10 % less time per trial-step with AVX-512, no change without it).
///
/// \code
/// auto preset = neurodyn::inagaki2019_preset("one_hemi_multi_fp_step");
/// neurodyn::Inagaki2019TaskOptions opt;
/// opt.trials_per_type = 500;
/// opt.side = neurodyn::PhotoinhibitionSide::bilateral;
/// auto res = neurodyn::run_inagaki2019_task(preset, opt);
/// double unperturbed = res.fraction_correct(0);     // ≈ 0.90
/// \endcode
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "neurodyn/concepts/state.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/experiments/delayed_response.hpp"
#include "neurodyn/inputs/pulses.hpp"
#include "neurodyn/inputs/ramp.hpp"
#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/models/inagaki2019.hpp"
#include "neurodyn/parallel/ensemble.hpp"
#include "neurodyn/perturb/add_input.hpp"
#include "neurodyn/perturb/input_noise.hpp"
#include "neurodyn/perturb/photoinhibition.hpp"

namespace neurodyn {

/// Purposes of a trial's random streams: Rng(seed, trial, purpose).
enum class Inagaki2019Stream : std::uint64_t { noise = 0, stimulus = 1 };

/// The light's input change per unit PV for a photoinhibition side (ipsilateral = hemisphere 1).
template <Real T>
Vector<T> inagaki2019_light_drive(const Inagaki2019Preset& p, PhotoinhibitionSide side) {
    return inagaki2019_light_drive<T>(p, illuminated(side, 1), illuminated(side, 2));
}

/// What distinguishes one trial from another: type, photoinhibition strength, stimulus amplitude.
struct Inagaki2019TrialSpec {
    TrialType type = TrialType::right;
    double pv = 0;        ///< photoinhibition strength (0: unperturbed)
    double stim_amp = 0;  ///< this trial's stimulus amplitude
};

/// The per-trial inputs of a group of trials as hooks, for state type X (one column per trial).
template <State X>
struct Inagaki2019Hooks {
    AddInput<X, BoxPulse> stimulus;
    AddInput<X, Ramp> ramp;
    AddInput<X, BoxPulse> light;
    InputNoise<X> noise;

    /// \param spec  one entry per column of X
    /// \param noisy false: no fast noise (σ = 0), e.g. for the golden trajectories
    Inagaki2019Hooks(const Inagaki2019Preset& p, PhotoinhibitionSide side, std::span<const Inagaki2019TrialSpec> spec,
                     bool noisy)
        : stimulus(columns(spec, [](const Inagaki2019TrialSpec& s, int i) {
                       const bool right = s.type == TrialType::right;
                       return (i % 2 == 0) == right ? s.stim_amp : 0.0;
                   }),
                   BoxPulse(p.stim_start, p.stim_end, p.tau_ext)),
          ramp(columns(spec, [&p](const Inagaki2019TrialSpec& s, int i) {
                   const int withheld = s.type == TrialType::right ? 1 : 0;
                   return p.withhold_ramp && i == withheld ? 0.0 : 1.0;
               }),
               Ramp{p.ramp_start, p.ramp_ms, p.ramp_amp}),
          light(columns(spec, [d = inagaki2019_light_drive<double>(p, side)](const Inagaki2019TrialSpec& s, int i) {
                    return s.pv * d[i];
                }),
                BoxPulse(p.pv_start, p.pv_end, p.tau_ext)),
          noise(InputNoiseOptions{.sigma = noisy ? p.sigma_noise : 0.0,
                                  .purpose = std::uint64_t(Inagaki2019Stream::noise)}) {}

private:
    template <class F>
    static X columns(std::span<const Inagaki2019TrialSpec> spec, F&& f) {
        for (const auto& s : spec) {
            require(std::isfinite(s.pv) && s.pv >= 0, "pv", s.pv, "must be finite and >= 0");
            require_finite("stim_amp", s.stim_amp);
        }
        X v(4, index_t(spec.size()));
        for (std::size_t b = 0; b < spec.size(); ++b)
            for (int i = 0; i < 4; ++i) v(i, index_t(b)) = typename X::Scalar(f(spec[b], i));
        return v;
    }
};

/// Simulate the trials `spec` (one per column of X; trial indices first, first + 1, …) from
/// h(0) = h0 with Euler and the hooks of Inagaki2019Hooks, plus the caller's hooks (observers).
/// Throws numerical_error with step and trial if a current becomes non-finite.
/// \code
/// neurodyn::Lanes<double, 4, 8> h;   // filled by the call: the state after the last step
/// neurodyn::run_inagaki2019_trials(model, preset, side, specs, seed, first, true, h, watcher);
/// \endcode
template <State X, class... Hooks>
void run_inagaki2019_trials(const Inagaki2019Model<typename X::Scalar>& model, const Inagaki2019Preset& p,
                            PhotoinhibitionSide side, std::span<const Inagaki2019TrialSpec> spec, std::uint64_t seed,
                            long first, bool noisy, X& h, Hooks&&... hooks) {
    using T = typename X::Scalar;
    if constexpr (X::ColsAtCompileTime != Eigen::Dynamic)
        require_size("trial specs", index_t(spec.size()), index_t(X::ColsAtCompileTime));
    Inagaki2019Hooks<X> in(p, side, spec, noisy);
    h.resize(4, index_t(spec.size()));
    h.setConstant(T(p.h0));
    Euler<T, X> euler;
    simulate(Trial{first, seed}, model, euler, h, TimeGrid(p.dt, p.n_steps), NoInput{}, in.noise, in.stimulus,
             in.ramp, in.light, std::forward<Hooks>(hooks)...);
}

namespace detail {
/// Records the authors' lagged rate array of every column: rows[b].row(K − 1) = r(K).
template <class Model, State X>
struct LaggedRates {
    using T = typename X::Scalar;
    const Model* model;
    std::vector<Matrix<T>>* out;
    index_t k = 1;
    void on_step(double, X& h) {
        ++k;
        const auto r = model->rates(h.array()).eval();
        for (std::size_t b = 0; b < out->size(); ++b)
            if (k < (*out)[b].rows()) (*out)[b].row(k) = r.col(index_t(b)).matrix().transpose();
    }
};
}  // namespace detail

/// The (n_steps + 1) × 4 rate arrays (row K − 1 = r(K), the authors' indexing) of the trials
/// `spec`, simulated together with state type X: `Vector<T>` for one trial (the straightforward
/// route), `Lanes<T, 4, B>` for B trials at once (the route of run_inagaki2019_task).
/// \code
/// auto r = neurodyn::inagaki2019_trial_rates<neurodyn::Vector<double>>(
///     preset, neurodyn::PhotoinhibitionSide::bilateral, {{{neurodyn::TrialType::right, 2.0, preset.stim_amp}}});
/// \endcode
template <State X>
std::vector<Matrix<typename X::Scalar>> inagaki2019_trial_rates(const Inagaki2019Preset& p, PhotoinhibitionSide side,
                                                               std::span<const Inagaki2019TrialSpec> spec,
                                                               bool noisy = false, std::uint64_t seed = 0,
                                                               long first = 0) {
    using T = typename X::Scalar;
    p.validate();
    require_allocation("n_steps", p.n_steps, {std::uint64_t(spec.size()), std::uint64_t(p.n_steps + 1), 4}, sizeof(T));
    const auto model = make_inagaki2019_model<T>(p);
    std::vector<Matrix<T>> out(spec.size(), Matrix<T>::Zero(p.n_steps + 1, 4));
    // r(2) = G(h0): the rate of the first step.
    const Eigen::Array<T, 4, 1> r0 = model.rates(Eigen::Array<T, 4, 1>::Constant(T(p.h0)));
    for (auto& m : out)
        if (m.rows() > 1) m.row(1) = r0.matrix().transpose();
    X h;
    detail::LaggedRates<Inagaki2019Model<T>, X> rec{&model, &out};
    run_inagaki2019_trials(model, p, side, spec, seed, first, noisy, h, rec);
    return out;
}

/// One trial's rate array (see inagaki2019_trial_rates), by the straightforward route.
template <Real T = double>
Matrix<T> inagaki2019_trial_rates(const Inagaki2019Preset& p, PhotoinhibitionSide side, const Inagaki2019TrialSpec& spec,
                                  bool noisy = false, std::uint64_t seed = 0, long trial_index = 0) {
    return inagaki2019_trial_rates<Vector<T>>(p, side, std::span<const Inagaki2019TrialSpec>(&spec, 1), noisy, seed,
                                              trial_index)[0];
}

/// The discrete attractors as a policy of the delayed-response protocol: B trials per
/// simulate() call as the lanes of a Lanes<double, 4, B> state; the read-out pair is the rates
/// of populations 1 and 2 in the authors' indexing (sample s = K − 1).
/// \code
/// neurodyn::Inagaki2019Policy<> policy(preset, neurodyn::PhotoinhibitionSide::bilateral);  // 16 lanes
/// auto res = neurodyn::run_delayed_response(policy, {.trials_per_type = 100, .pv_levels = preset.pv_levels});
/// \endcode
template <int B = 16>
class Inagaki2019Policy {
public:
    static constexpr int lanes = B;
    using state_type = Lanes<double, 4, B>;

    Inagaki2019Policy(const Inagaki2019Preset& p, PhotoinhibitionSide side)
        : p_(p), side_(side), model_(make_inagaki2019_model<double>(p)) {}

    long samples() const noexcept { return p_.n_steps + 1; }
    long readout_sample() const noexcept { return p_.delay_end_index - 1; }
    long window_samples() const noexcept { return p_.cd_window; }
    double sample_ms() const noexcept { return p_.dt; }
    StimulusAmplitude stimulus_amplitude() const noexcept { return {p_.stim_amp, p_.stim_sigma}; }
    const Inagaki2019Preset& preset() const noexcept { return p_; }

    template <class Sink>
    AdaptiveStats run(const std::array<DelayedResponseSpec, B>& spec, std::uint64_t seed, Sink& sink) const {
        std::array<Inagaki2019TrialSpec, B> ts;
        for (int b = 0; b < B; ++b)
            ts[std::size_t(b)] = {spec[std::size_t(b)].type, spec[std::size_t(b)].pv, spec[std::size_t(b)].stim_amp};
        // Sample s = K − 1 holds the authors' r(K) = G(h after K − 2 steps): r(1) = 0, r(2) = G(h0).
        if (sink.wants(0))
            for (int b = 0; b < B; ++b) sink.put(0, b, 0.0, 0.0);
        if (sink.wants(1)) {
            const state_type r0 = model_.rates(state_type::Constant(p_.h0));
            for (int b = 0; b < B; ++b) sink.put(1, b, r0(0, b), r0(1, b));
        }
        struct Watch {
            const Inagaki2019Model<double>* model;
            Sink* sink;
            long s = 1;
            void on_step(double, state_type& h) {  // after step i: s = i + 2, G(h_{i+1})
                ++s;
                if (!sink->wants(s)) return;  // rates only where the protocol reads them
                const state_type r = model->rates(h);
                for (int b = 0; b < B; ++b) sink->put(s, b, r(0, b), r(1, b));
            }
        } watch{&model_, &sink};
        state_type h;
        run_inagaki2019_trials(model_, p_, side_, std::span<const Inagaki2019TrialSpec>(ts), seed, spec[0].index, true,
                               h, watch);
        return {};
    }

private:
    Inagaki2019Preset p_;
    PhotoinhibitionSide side_;
    Inagaki2019Model<double> model_;
};

/// Options of run_inagaki2019_task.
struct Inagaki2019TaskOptions {
    long trials_per_type = 500;           ///< N trials per trial type and PV level
    std::uint64_t seed = 1;
    PhotoinhibitionSide side = PhotoinhibitionSide::bilateral;
    std::vector<double> pv_levels = {};   ///< empty: the preset's; must contain 0
    int threads = 0;                      ///< 0: OpenMP default
    long record_every = 10;               ///< CD projections every this many ms (rate indices 1, 1+e, …)
    bool record_projections = true;       ///< accumulate CD projections over time
    bool keep_trials = true;              ///< keep per-trial endpoints (endpoints.csv)
    std::size_t batch = 256;              ///< trials in flight (bounds memory)
    std::function<void(long, long)> progress = {};
};

using Inagaki2019Trial = DelayedResponseTrial;
using Inagaki2019Projection = DelayedResponseProjection;

/// The protocol's result plus the preset and side it ran.
struct Inagaki2019TaskResult : DelayedResponseResult {
    Inagaki2019Preset preset;
    PhotoinhibitionSide side = PhotoinhibitionSide::bilateral;
};

/// Run the task: for every PV level and trial type, N trials; classify each (right: r1 > r2 at
/// the end of the delay; left: r1 < r2); the coding direction from unperturbed correct trials
/// (CD = mean over the last 400 ms of the delay of r̄_R − r̄_L over populations 1, 2, as in the
/// authors' analysis, unit length); endpoints normalised so that the median window endpoint of
/// unperturbed correct right trials is 1 and left is 0. Trial k of (pv index p, type y) has
/// global index g = (p·2 + y)·N + k and streams Rng(seed, g, noise/stimulus).
inline Inagaki2019TaskResult run_inagaki2019_task(const Inagaki2019Preset& preset,
                                                  const Inagaki2019TaskOptions& opt = {}) {
    preset.validate();
    DelayedResponseOptions o = delayed_response_options(opt);
    if (o.pv_levels.empty()) o.pv_levels = preset.pv_levels;
    Inagaki2019TaskResult res;
    static_cast<DelayedResponseResult&>(res) = run_delayed_response(Inagaki2019Policy<>(preset, opt.side), o);
    res.preset = preset;
    res.side = opt.side;
    return res;
}

}  // namespace neurodyn
