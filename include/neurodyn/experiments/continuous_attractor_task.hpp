#pragma once
/// \file continuous_attractor_task.hpp
/// The delayed-response task with photoinhibition on the continuous (line) attractor of
/// Inagaki, Fontolan, Romani & Svoboda (2019), Extended Data Fig. 1 — the comparison model for
/// the discrete attractors of inagaki2019_task.hpp, with the same result layout.
///
/// One trial, as in the authors' cont_attractor.m (times in ms, trial 0 … 5000):
///  - stimulus on h_C: sign·a·pulse(t), a ~ N(3, 0.05) per trial, sign +1 on right and −1 on
///    left trials, pulse = 1 − e^{−(t−1500)/20} on (1500, 2500], then e^{−(t−2500)/20}·(1 − e^{−50});
///  - photoinhibition drive on h_I: **sign·PV**·pulse over (2500, 3100] with the same 20 ms
///    smoothing. In the authors' code the drive carries the trial's sign (+PV on right, −PV on
///    left trials): the published levels are ±{0, 150, 300, 600}. The linear model is then exactly odd-
///    symmetric, and on both trial types the light pushes the memory towards the other side
///    (onto h_I, +PV moves the line state towards h_C < h_N);
///  - noise on h_C, h_N, h_I: a frozen Ornstein–Uhlenbeck process drawn per trial on a 1 ms
///    grid exactly as the authors do, n_{k+1} = n_k + Δ(−n_k + σξ_k)/τ_n (σ = 5, τ_n = 5 ms,
///    Δ = 1 ms, σξ added per grid step — not √Δ-scaled; stationary sd σ·√(Δ/τ_n)/√(2 − Δ/τ_n)
///    ≈ 1.67), n_0 = 0, and linearly interpolated in between: a deterministic function of t
///    that the adaptive stepper may evaluate anywhere (and again after a rejected step);
///  - initial state: 12 independent N(0, (5·0.00175)²) values, as the authors;
///  - integration: Dormand–Prince 4(5), rtol = atol = 1e-3 (MATLAB ode45 in the authors'
///    code), output every 1 ms; the state is read at the output times.
///
/// Readout, as in the authors' ALM_attractor_figs.m: the trial is correct when, at the end of
/// the delay, h_C > h_N on right trials and h_C < h_N on left trials. The end of the delay is
/// the authors' array index t_delay_end = 4500 of t_vec = 0:5000, i.e. **t = 4499 ms**
/// (`readout_ms`). The coding direction is the unit vector along the mean over the last 400 ms
/// (t = 4099 … 4499, 401 samples) of (h̄_R − h̄_L) over (h_C, h_N) on unperturbed correct trials
/// (the authors first smooth the mean traces with a 100 ms moving average, which changes the
/// window mean only at its edges; we do not); a trial's window endpoint is its mean projection
/// over that window; projections are normalised so that the median window endpoint of
/// unperturbed correct right trials is 1 and left is 0. The endpoint histograms use the
/// projection at t = readout_ms (as the authors' histograms).
///
/// Random streams: trial k of (PV index p, type y) has global index g = (p·2 + y)·N + k and
/// draws from Rng(seed, g, purpose) with purposes noise (0), stimulus (1), initial state (2):
/// the same numbers on any thread count.
///
/// `run_continuous_attractor_task` is the delayed-response protocol (delayed_response.hpp) with
/// the policy `ContinuousAttractorPolicy` (one trial per call: adaptive steps are per trial).
///
/// \code
/// neurodyn::ContinuousAttractorTaskOptions opt;
/// opt.trials_per_type = 500;
/// auto res = neurodyn::run_continuous_attractor_task(opt);
/// double unperturbed = res.fraction_correct(0);              // both trial types
/// auto hist = res.endpoint_histogram(3, neurodyn::TrialType::right);
/// \endcode
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/experiments/delayed_response.hpp"
#include "neurodyn/inputs/pulses.hpp"
#include "neurodyn/integrate/dormand_prince.hpp"
#include "neurodyn/models/continuous_attractor.hpp"
#include "neurodyn/parallel/ensemble.hpp"

namespace neurodyn {

/// Purposes of a trial's random streams: Rng(seed, trial, purpose).
enum class ContinuousAttractorStream : std::uint64_t { noise = 0, stimulus = 1, initial_state = 2 };

/// Options of the continuous-attractor task; defaults are the authors'.
struct ContinuousAttractorTaskOptions {
    ContinuousAttractorParameters model{};
    double stim_amp = 3.0, stim_sigma = 0.05;      ///< per-trial amplitude ~ N(stim_amp, stim_sigma)
    double stim_start = 1500, stim_end = 2500;     ///< ms
    double pv_start = 2500, pv_end = 3100;         ///< ms
    double tau_ext = 20;                           ///< rise/decay of stimulus and light, ms
    std::vector<double> pv_levels = {0, 150, 300, 600};  ///< must contain 0
    double noise_sigma = 5, noise_tau = 5;         ///< OU noise on h_C, h_N, h_I (per-step σ)
    double noise_dt = 1;                           ///< grid of the frozen noise, ms
    double init_sigma = 5 * 0.00175;               ///< sd of the initial state
    double trial_ms = 5000;
    double readout_ms = 4499;                      ///< authors' index 4500 of t_vec = 0:5000
    double cd_window_ms = 400;                     ///< CD / endpoint window ending at readout_ms
    double rtol = 1e-3, atol = 1e-3;               ///< Dormand–Prince tolerances (ode45's)
    long trials_per_type = 500;                    ///< N per trial type and PV level
    std::uint64_t seed = 1;
    int threads = 0;                               ///< 0: OpenMP default
    long record_every = 10;                        ///< ms between recorded CD projections
    bool record_projections = true;
    bool keep_trials = true;
    std::size_t batch = 256;                       ///< trials in flight
    std::function<void(long, long)> progress = {};

    void validate() const {
        model.validate();
        require_finite("stim_amp", stim_amp);
        require_nonnegative("stim_sigma", stim_sigma);
        require(stim_end > stim_start, "stim_end", stim_end, "must be > stim_start");
        require(pv_end > pv_start, "pv_end", pv_end, "must be > pv_start");
        require_nonnegative("tau_ext", tau_ext);
        require(!pv_levels.empty(), "pv_levels", "{}", "must not be empty");
        for (double pv : pv_levels) require(std::isfinite(pv) && pv >= 0, "pv_levels", pv, "must be finite and >= 0");
        require_nonnegative("noise_sigma", noise_sigma);
        require_positive("noise_tau", noise_tau);
        require_positive("noise_dt", noise_dt);
        require(noise_dt < noise_tau, "noise_dt", noise_dt, "must be < noise_tau (explicit OU recursion)");
        require_nonnegative("init_sigma", init_sigma);
        require_positive("trial_ms", trial_ms);
        require(std::abs(trial_ms - std::round(trial_ms)) < 1e-9, "trial_ms", trial_ms, "must be a whole number of ms");
        require(readout_ms > 0 && readout_ms <= trial_ms && std::abs(readout_ms - std::round(readout_ms)) < 1e-9,
                "readout_ms", readout_ms, "must be a whole number of ms in (0, trial_ms]");
        require(cd_window_ms >= 0 && cd_window_ms < readout_ms, "cd_window_ms", cd_window_ms,
                "must be in [0, readout_ms)");
        require_positive("rtol", rtol);
        require_nonnegative("atol", atol);
        require(trials_per_type >= 1, "trials_per_type", trials_per_type, "must be >= 1");
        require(record_every >= 1, "record_every", record_every, "must be >= 1");
        require(batch >= 1, "batch", batch, "must be >= 1");
    }
};

/// A frozen noise on the three currents: values on a uniform grid, linearly interpolated.
/// Generated by the authors' per-step OU recursion (see the file comment).
class ContinuousAttractorNoise {
public:
    ContinuousAttractorNoise() = default;
    /// Draw the noise of one trial from `rng` on [0, t_end]: 3 normal draws per grid step,
    /// in the order (C, N, I).
    ContinuousAttractorNoise(double sigma, double tau, double dt, double t_end, Rng& rng) : dt_(dt) {
        const auto n = std::size_t(std::ceil(t_end / dt - 1e-9)) + 1;
        v_.assign(3 * n, 0.0);
        for (std::size_t k = 0; k + 1 < n; ++k)
            for (std::size_t c = 0; c < 3; ++c)
                v_[3 * (k + 1) + c] = v_[3 * k + c] + dt * (-v_[3 * k + c] + sigma * rng.normal()) / tau;
    }
    bool empty() const noexcept { return v_.empty(); }
    std::size_t points() const noexcept { return v_.size() / 3; }
    /// Grid value of channel c (0 = C, 1 = N, 2 = I) at grid index k.
    double at(std::size_t k, int c) const { return v_[3 * k + std::size_t(c)]; }
    /// Linear interpolation at time t (clamped to the grid).
    double operator()(double t, int c) const {
        const double x = t / dt_;
        if (x <= 0) return v_[std::size_t(c)];
        const auto k = std::size_t(x);
        if (k + 1 >= points()) return v_[3 * (points() - 1) + std::size_t(c)];
        const double f = x - double(k);
        return (1 - f) * v_[3 * k + std::size_t(c)] + f * v_[3 * (k + 1) + std::size_t(c)];
    }

private:
    double dt_ = 1;
    std::vector<double> v_;
};

/// The input schedule of one trial: stimulus on u_C, light on u_I, frozen noise on u_C, u_N, u_I.
/// A deterministic function of t (usable by adaptive steppers). `noise` may be null (noise-free).
template <Real T = double>
class ContinuousAttractorInput {
public:
    ContinuousAttractorInput(const ContinuousAttractorTaskOptions& o, TrialType type, double stim_amp, double pv,
                             const ContinuousAttractorNoise* noise)
        : stim_(o.stim_start, o.stim_end, o.tau_ext), light_(o.pv_start, o.pv_end, o.tau_ext),
          sign_(type == TrialType::right ? 1.0 : -1.0), amp_(stim_amp), pv_(pv), noise_(noise) {
        require_finite("stim_amp", stim_amp);
        require(std::isfinite(pv) && pv >= 0, "pv", pv, "must be finite and >= 0");
    }
    void operator()(double t, Vector<T>& u) const {
        u.setZero(ContinuousAttractor<T>::n_state);
        u[0] = T(sign_ * amp_ * stim_(t));
        u[2] = T(sign_ * pv_ * light_(t));  // the light drive carries the trial's sign (authors' code)
        if (noise_ && !noise_->empty())
            for (int c = 0; c < 3; ++c) u[c] += T((*noise_)(t, c));
    }

private:
    BoxPulse stim_, light_;
    double sign_, amp_, pv_;
    const ContinuousAttractorNoise* noise_;
};

using ContinuousAttractorTrial = DelayedResponseTrial;  ///< aux_end holds h_I at the readout

/// The protocol's result plus the options it ran with.
struct ContinuousAttractorTaskResult : DelayedResponseResult {
    ContinuousAttractorTaskOptions options;
};

/// Simulate one trial and call `observe(t, x)` at t = 0, 1, …, trial_ms (x: the 12-state).
/// `noise` may be null (noise-free); `x` holds the initial state and ends with the final one.
template <class Observer>
AdaptiveStats run_continuous_attractor_trial(const ContinuousAttractor<double>& model,
                                             const ContinuousAttractorTaskOptions& o, TrialType type,
                                             double stim_amp, double pv, const ContinuousAttractorNoise* noise,
                                             Vector<double>& x, Observer&& observe, long trial_index = 0) {
    require_size("x (initial state)", x.size(), model.size());
    AdaptiveOptions ao;
    ao.rtol = o.rtol;
    ao.atol = o.atol;
    ao.norm = ErrorNorm::max;  // ode45's criterion
    DormandPrince45<double> dp(ao);
    const ContinuousAttractorInput<double> input(o, type, stim_amp, pv, noise);
    struct Watch {
        Observer* f;
        void on_step(double t, Vector<double>& s) { (*f)(t, static_cast<const Vector<double>&>(s)); }
    } watch{&observe};
    observe(0.0, static_cast<const Vector<double>&>(x));
    return integrate_adaptive(Trial{trial_index, o.seed}, model, dp, x, TimeGrid(1.0, std::lround(o.trial_ms)), input,
                              watch);
}

/// The continuous attractor as a policy of the delayed-response protocol: one trial per call,
/// Dormand–Prince on the 12-state; the read-out pair is (h_C, h_N) at 1-ms samples.
/// \code
/// neurodyn::ContinuousAttractorPolicy policy(opt);
/// auto res = neurodyn::run_delayed_response(policy, {.trials_per_type = 100, .pv_levels = opt.pv_levels});
/// \endcode
class ContinuousAttractorPolicy {
public:
    static constexpr int lanes = 1;

    explicit ContinuousAttractorPolicy(const ContinuousAttractorTaskOptions& o) : o_(o), model_(o.model) { o.validate(); }

    long samples() const noexcept { return std::lround(o_.trial_ms) + 1; }
    long readout_sample() const noexcept { return std::lround(o_.readout_ms); }
    long window_samples() const noexcept { return std::lround(o_.cd_window_ms); }
    double sample_ms() const noexcept { return 1.0; }
    StimulusAmplitude stimulus_amplitude() const noexcept { return {o_.stim_amp, o_.stim_sigma}; }

    template <class Sink>
    AdaptiveStats run(const std::array<DelayedResponseSpec, 1>& spec, std::uint64_t seed, Sink& sink) const {
        const DelayedResponseSpec& s = spec[0];
        Rng noise_rng = trial_rng(seed, s.index, std::uint64_t(ContinuousAttractorStream::noise));
        Rng init_rng = trial_rng(seed, s.index, std::uint64_t(ContinuousAttractorStream::initial_state));
        const ContinuousAttractorNoise noise(o_.noise_sigma, o_.noise_tau, o_.noise_dt, o_.trial_ms, noise_rng);
        Vector<double> x(model_.size());
        for (index_t i = 0; i < x.size(); ++i) x[i] = o_.init_sigma * init_rng.normal();
        return run_continuous_attractor_trial(
            model_, o_, s.type, s.stim_amp, s.pv, &noise, x,
            [&](double time, const Vector<double>& h) {
                const long k = std::lround(time);
                if (sink.wants(k)) sink.put(k, 0, h[0], h[1], h[2]);
            },
            s.index);
    }

private:
    ContinuousAttractorTaskOptions o_;
    ContinuousAttractor<double> model_;
};

/// Run the task: every PV level × trial type × N trials, in parallel and deterministic on any
/// thread count; classification, fraction correct, coding direction, normalised endpoints and
/// mean ± sd CD projections over time per (level, type, outcome).
inline ContinuousAttractorTaskResult run_continuous_attractor_task(const ContinuousAttractorTaskOptions& opt = {}) {
    opt.validate();
    const DelayedResponseOptions o = delayed_response_options(opt);
    ContinuousAttractorTaskResult res;
    static_cast<DelayedResponseResult&>(res) = run_delayed_response(ContinuousAttractorPolicy(opt), o);
    res.options = opt;
    return res;
}

}  // namespace neurodyn
