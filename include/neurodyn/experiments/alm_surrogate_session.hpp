#pragma once
/// \file alm_surrogate_session.hpp
/// A surrogate ALM recording session with the statistics of real ones, written in the layout
/// of the Inagaki et al. (2019) files (`Session`, saved by io/matlab_session.hpp).
///
/// The synthetic session of experiments/synthetic_session.hpp mixes four attractor populations
/// into every unit: its units are all alike (rates 8–30 Hz, almost all delay-selective, no
/// go-cue responses) and its across-trial variability rises during the delay. This generator
/// instead draws heterogeneous units that read out one latent choice variable. Its statistics,
/// measured with the library's analyses, are in docs/surrogate_session.md.
///
/// **Latent choice state x(t) = w·y(t)** (one per trial, 1-ms Euler–Maruyama steps):
///  - pre-sample: y is an Ornstein–Uhlenbeck process around 0 with SD `pre_sd` and correlation
///    time `pre_tau_s`, y(0) from its stationary law: the state is undecided and differs a
///    lot from trial to trial;
///  - from the sample onset: τ dy/dt = y (1 − y²) + I(t) + noise (`noise`/√s), a bistable
///    state with attractors at ±1; I = ±A during the sample (+ right, − left), A ~
///    N(`drive`, `drive_sd`) per trial, at least `drive`/2 (above the tilt 2/(3√3) that
///    removes the other attractor, so the sample decides). A share `error_fraction` of the
///    trials misperceives the sample (I of the other sign) and ends in the other attractor:
///    an error. The noise rarely carries y over the barrier (the stationary density at the
///    barrier relative to an attractor is e^(−1/(2·τ·noise²)) = e^(−13) at the defaults), so
///    the error fraction is set by `error_fraction`, not by the seed. Every trial converges to an
///    attractor during the delay, so the across-trial variability falls from its pre-sample
///    level;
///  - w, the trial's attractor depth (how strongly it commits), scales the readout state x:
///    w = `well_lo` + (`well_hi` − `well_lo`)·p^`well_skew` (1.25: more shallow than deep
///    trials), it sets the within-type spread of the end-of-delay rates and of the
///    coding-direction endpoints. Both w and the misperceived samples are stratified within
///    each (type, power) group of n trials: exactly round(error_fraction·n) misperceived
///    trials, and one p in each of n equal slices of [0, 1] (at a random place in the slice),
///    so neither depends on the seed;
///  - photoinhibition (the first `stim_s` of the delay, power P mW, s(P) = 1 − e^(−P/`stim_p0_mw`)):
///    the attractor dynamics stop and y decays towards 0 at rate `stim_leak`·s(P)/τ; after the
///    light y falls back into an attractor, sometimes the other one. Rates of regular-spiking
///    units are scaled by 1 − 0.9·s(P), those of fast-spiking units (ChR2 in PV interneurons)
///    by 1 + 2·s(P) while the light is on.
///
/// **Units**: rate = min(300 Hz, b·e^(ε + q·ζ(t) − q²v(t)/2 + σ·S(t)·κ-term + c·C(t)·(1 + χ·tanh(x/0.3)))
/// · softplus₄(1 + (a + ρ·R(t))·x)), where softplus₄(z) = log(1 + e^(4z))/4 is a smooth floor
/// at 0, so the rate is linear in x (the same sensitivity at both attractors):
///  - b: baseline, log-normal (median `rate_median_hz`, log-SD `rate_log_sd`; ×2.5 for
///    fast-spiking units, share `fast_spiking_fraction`, spike width 0.2–0.33 ms vs 0.45–0.8);
///  - ε ~ N(−σ²/2, σ²), σ = `trial_gain_sd`: a per-trial, per-unit gain of mean 1;
///  - ζ(t): a pre-sample state fluctuation shared by all units (an OU process with SD
///    `quench_sd` and correlation time `pre_tau_s`), quenched after the sample onset with time
///    constant `quench_tau_s` (v(t) its variance, so the gain has mean 1), unit susceptibility
///    q ∈ [0.5, 1.5]: the stimulus-onset quenching of variability seen across cortex
///    (Churchland et al. 2010);
///  - a: the choice readout (share `choice_fraction`, |a| log-normal with median
///    `choice_gain`; the preferred sides alternate down the units ranked by b·(|a| + |ρ|), so
///    both sides carry the same weight in every seed): the delay-selective units, which also carry the pre-sample
///    spread of x. Of them, a share `ramp_fraction` ramp: ρ (same sign, 0.3–1.2) times R(t),
///    which rises from 0 at the delay onset to 1 at the go cue (R ∝ ((t − delay)/delay)^1.5)
///    and decays with 0.3 s after it;
///  - σ: a sample-epoch response (share `sample_fraction`), an onset transient plus a
///    sustained part (S(t)), type selective or not (κ ∈ [−1, 1]: the response is
///    σ·(1 + κ·(±1))/2), excitatory or (25 %) suppressive;
///  - c: a go-cue response (share `cue_fraction`): an alpha function C(t) of the time since
///    the cue (latency 30–120 ms, time constant 0.1–0.5 s), partly choice dependent (χ ∈
///    [−0.8, 0.8]): mixed units.
///  Units drawn in none of the classes are non-selective (baseline and state fluctuation only).
/// **Spikes**: a renewal process by time rescaling of the rate (piecewise constant over 1-ms
/// bins): intervals of integrated rate Gamma(`spike_shape`) with mean 1 (1: Poisson; 1.5:
/// interspike-interval CV ≈ 0.8 like cortical neurons), plus an absolute refractory period
/// of `refractory_ms`.
///
/// **Trials**: `trials_per_type` control trials of each type and `stim_trials_per_power`
/// photoinhibition trials of each type at each power of `stim_powers_mw`, in a random order;
/// stim_trial_vector holds the power's index (1, 2, …; 0 = control). Each trial starts a
/// random whole number of ms in [0, `start_jitter_s`] earlier relative to its epochs (sample
/// onset at `sample_start_s` + jitter, delay and go cue after `sample_s` and `delay_s`), and
/// is recorded for `trial_s` in 1-ms PSTH bins. Outcome: correct (1 right / 2 left) when the
/// sign of x at the go cue matches the type, error (3 / 4) otherwise; an early lick (5) with
/// probability `early_lick_fraction`.
///
/// Reproducible: every random number comes from `Rng(seed, trial, purpose)` or
/// `Rng(seed, unit, purpose)` and trials are gathered in order, so the same options give the
/// same session on any thread count.
///
/// \code
/// neurodyn::AlmSurrogateOptions o;          // 87 units, 40 control trials per type
/// o.seed = 3;
/// neurodyn::Session s = neurodyn::alm_surrogate_session(o);
/// neurodyn::save_matlab_session(s, "surrogate.mat");     // the real files' layout
/// \endcode
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/data/session.hpp"
#include "neurodyn/parallel/ensemble.hpp"

namespace neurodyn {

/// Options of `alm_surrogate_session` (see the file comment for the model).
struct AlmSurrogateOptions {
    // ---- sizes and streams
    std::size_t units = 87;
    long trials_per_type = 40;               ///< control trials of each type (right, left)
    long stim_trials_per_power = 5;          ///< photoinhibition trials per type and power
    std::vector<double> stim_powers_mw = {0.5, 1.5, 4.0};
    std::uint64_t seed = 1;
    int threads = 0;                         ///< 0: OpenMP default
    std::function<void(long, long)> progress = {};

    // ---- task timing (s, from the trial start)
    double trial_s = 6.0;                    ///< recorded length of every trial (1-ms bins)
    double sample_start_s = 1.5;             ///< nominal sample onset (plus the start jitter)
    double sample_s = 1.0;
    double delay_s = 2.0;
    double start_jitter_s = 0.1;
    double early_lick_fraction = 0.03;

    // ---- latent choice state
    double pre_sd = 2.5;                     ///< pre-sample SD of y (attractors at ±1)
    double pre_tau_s = 0.5;                  ///< pre-sample correlation time
    double tau_s = 0.15;                     ///< time constant of the bistable dynamics
    double noise = 0.5;                      ///< diffusion of y after sample onset, 1/√s (barrier crossings are rare)
    double well_lo = 0.05;                   ///< attractor depths w span [well_lo, well_hi] (see well_skew)
    double well_hi = 2.4;
    double well_skew = 1.25;                 ///< w = well_lo + (well_hi − well_lo)·p^well_skew, p stratified uniform
    double error_fraction = 0.25;            ///< misperceived samples: this share of each (type, power) group
    double drive = 1.5;                      ///< mean sample input A
    double drive_sd = 0.3;                   ///< its trial-to-trial SD (A >= drive/2)
    double stim_s = 0.5;                     ///< photoinhibition: first stim_s of the delay
    double stim_leak = 0.8;                  ///< decay rate of x under full light, /τ
    double stim_p0_mw = 1.0;                 ///< saturation power of the light's effect

    // ---- units
    double rate_median_hz = 3.5;             ///< median baseline
    double rate_log_sd = 0.9;                ///< log-SD of baselines
    double fast_spiking_fraction = 0.15;
    double trial_gain_sd = 0.1;              ///< per-trial, per-unit log-gain SD
    double quench_sd = 1.0;                  ///< pre-sample state fluctuation: log-gain SD
    double quench_tau_s = 0.3;               ///< its decay after the sample onset
    double choice_fraction = 0.5;            ///< units reading out x
    double choice_gain = 1.5;                ///< median |a|
    double ramp_fraction = 0.5;              ///< share of the choice units that ramp
    double sample_fraction = 0.35;
    double sample_gain = 1.5;                ///< median |σ| (log-rate at the response's peak)
    double cue_fraction = 0.6;
    double cue_gain = 2.5;                   ///< median c (log-rate at the response's peak)
    double refractory_ms = 2.0;
    double spike_shape = 1.5;                ///< gamma shape of the rescaled intervals (1: Poisson)

    /// Throws `invalid_parameter` naming the first bad option.
    void validate() const {
        require(units >= 1, "units", units, "must be >= 1");
        require(trials_per_type >= 1, "trials_per_type", trials_per_type, "must be >= 1");
        require(stim_trials_per_power >= 0, "stim_trials_per_power", stim_trials_per_power, "must be >= 0");
        for (double p : stim_powers_mw) require_positive("stim_powers_mw", p);
        require_thread_count("threads", threads);
        for (auto [name, v] : {std::pair{"trial_s", trial_s}, {"sample_s", sample_s}, {"delay_s", delay_s},
                               {"pre_tau_s", pre_tau_s}, {"tau_s", tau_s}, {"stim_p0_mw", stim_p0_mw},
                               {"rate_median_hz", rate_median_hz}, {"quench_tau_s", quench_tau_s}})
            require_positive(name, v);
        for (auto [name, v] :
             {std::pair{"sample_start_s", sample_start_s}, {"start_jitter_s", start_jitter_s}, {"pre_sd", pre_sd},
              {"noise", noise}, {"well_lo", well_lo}, {"well_skew", well_skew}, {"drive", drive}, {"drive_sd", drive_sd}, {"stim_s", stim_s},
              {"stim_leak", stim_leak}, {"rate_log_sd", rate_log_sd}, {"trial_gain_sd", trial_gain_sd}, {"quench_sd", quench_sd},
              {"choice_gain", choice_gain}, {"sample_gain", sample_gain}, {"cue_gain", cue_gain},
              {"refractory_ms", refractory_ms}})
            require_nonnegative(name, v);
        for (auto [name, v] : {std::pair{"early_lick_fraction", early_lick_fraction},
                               {"fast_spiking_fraction", fast_spiking_fraction}, {"choice_fraction", choice_fraction},
                               {"ramp_fraction", ramp_fraction}, {"sample_fraction", sample_fraction},
                               {"cue_fraction", cue_fraction}, {"error_fraction", error_fraction}})
            require(v >= 0 && v <= 1, name, v, "must be in [0, 1]");
        require(std::isfinite(well_hi) && well_hi >= well_lo && well_lo > 0, "well_hi", well_hi,
                "must be finite with well_hi >= well_lo > 0 (well_lo = " + detail::to_text(well_lo) + ")");
        require(early_lick_fraction < 1, "early_lick_fraction", early_lick_fraction, "must be < 1");
        require(sample_start_s + start_jitter_s + sample_s + delay_s < trial_s, "trial_s", trial_s,
                "must be longer than sample_start_s + start_jitter_s + sample_s + delay_s = " +
                    detail::to_text(sample_start_s + start_jitter_s + sample_s + delay_s));
        require(spike_shape >= 1 && spike_shape <= 20, "spike_shape", spike_shape, "must be in [1, 20]");
        require(stim_s <= delay_s, "stim_s", stim_s, "must be <= delay_s = " + detail::to_text(delay_s));
        require(refractory_ms < 1000.0 / 300.0, "refractory_ms", refractory_ms,
                "must be shorter than the interval at the rate ceiling (300 Hz: 3.33 ms)");
    }

    /// Trials of the session: 2 · (trials_per_type + powers · stim_trials_per_power).
    long n_trials() const noexcept {
        return 2 * (trials_per_type + long(stim_powers_mw.size()) * stim_trials_per_power);
    }
};

/// One unit's parameters (what `alm_surrogate_session` planted; for tests and docs).
struct AlmSurrogateUnit {
    double baseline_hz = 0;
    bool fast_spiking = false;
    double spike_width_ms = 0;
    double quench = 0;            ///< susceptibility to the pre-sample state fluctuation
    double choice = 0;            ///< a: readout gain of x (0: no choice readout)
    double ramp = 0;              ///< ρ
    double sample = 0;            ///< σ (negative: suppressed)
    double sample_selectivity = 0;///< κ in [−1, 1] (+1: right trials only)
    double cue = 0;               ///< c (0: no go-cue response)
    double cue_latency_s = 0;
    double cue_tau_s = 0;
    double cue_choice = 0;        ///< χ
};

/// The units of `alm_surrogate_session(o)` (stream `Rng(o.seed, unit, 21)`).
inline std::vector<AlmSurrogateUnit> alm_surrogate_units(const AlmSurrogateOptions& o) {
    o.validate();
    require_allocation("units", o.units, {std::uint64_t(o.units)}, sizeof(AlmSurrogateUnit));
    std::vector<AlmSurrogateUnit> out(o.units);
    for (std::size_t i = 0; i < o.units; ++i) {
        Rng rng(o.seed, i, 21);
        auto& u = out[i];
        // Draw every number whatever the class, so one option does not shift the others' draws.
        double d[18];
        for (double& v : d) v = rng.uniform();
        d[1] = rng.normal();  // the log-baseline and the log-gain are normal deviates
        d[4] = rng.normal();
        u.fast_spiking = d[0] < o.fast_spiking_fraction;
        u.quench = 0.5 + d[17];
        u.spike_width_ms = u.fast_spiking ? 0.2 + 0.13 * d[15] : 0.45 + 0.35 * d[15];
        u.baseline_hz = o.rate_median_hz * std::exp(o.rate_log_sd * d[1]) * (u.fast_spiking ? 2.5 : 1.0);
        if (d[2] < o.choice_fraction) {  // signs below
            u.choice = o.choice_gain * std::exp(0.3 * d[4]);
            if (d[5] < o.ramp_fraction) u.ramp = 0.3 + 0.9 * d[6];  // a ramping choice unit
        }
        if (d[7] < o.sample_fraction) {
            u.sample = (d[8] < 0.25 ? -1.0 : 1.0) * o.sample_gain * (0.5 + d[9]);
            u.sample_selectivity = 2 * d[10] - 1;
        }
        if (d[11] < o.cue_fraction) {
            u.cue = o.cue_gain * (0.5 + d[12]);
            u.cue_latency_s = 0.03 + 0.09 * d[13];
            u.cue_tau_s = 0.1 + 0.4 * d[14];
            u.cue_choice = 1.6 * d[16] - 0.8;
        }
    }
    // Preferred sides alternate down the choice units ranked by their end-of-delay weight
    // b·(|a| + ρ): with heavy-tailed rates a few units dominate the coding direction, and
    // independent signs would leave one side's endpoints set by few units in one seed and
    // many in another. The first sign is random.
    std::vector<std::size_t> choice_units;
    for (std::size_t i = 0; i < o.units; ++i)
        if (out[i].choice != 0) choice_units.push_back(i);
    const auto weight = [&](std::size_t i) { return out[i].baseline_hz * (out[i].choice + out[i].ramp); };
    std::stable_sort(choice_units.begin(), choice_units.end(),
                     [&](std::size_t a, std::size_t b) { return weight(a) > weight(b); });
    const bool first_right = Rng(o.seed, 0, 27).uniform() < 0.5;
    for (std::size_t r = 0; r < choice_units.size(); ++r) {
        const double sign = (r % 2 == 0) == first_right ? 1.0 : -1.0;
        out[choice_units[r]].choice *= sign;
        out[choice_units[r]].ramp *= sign;
    }
    return out;
}

namespace detail {
/// Gamma(shape, 1/shape) deviate (mean 1) by Marsaglia & Tsang; shape >= 1.
inline double unit_gamma(double shape, Rng& rng) {
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9 * d);
    while (true) {
        const double x = rng.normal();
        const double v = (1 + c * x) * (1 + c * x) * (1 + c * x);
        if (v <= 0) continue;
        if (std::log(rng.uniform_open()) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v / shape;
    }
}

/// A renewal spike train by time rescaling: spikes where the integrated rate (`rate[b]` Hz,
/// constant over bin b of width `dt`) has grown by successive Gamma(shape) intervals of mean 1
/// (shape 1: Poisson; larger: more regular), with an absolute refractory period `dead_s`
/// during which no rate is integrated. Appends spike times (s) to `out`.
inline void renewal_spikes(const double* rate, long n_bins, double dt, double shape, double dead_s, Rng& rng,
                           std::vector<double>& out) {
    double e = unit_gamma(shape, rng);  // integrated rate left until the next spike
    double dead = 0;                    // refractory time left, s
    const double t_max = double(n_bins) * dt;
    for (long b = 0; b < n_bins; ++b) {
        const double lam = rate[b];
        double pos = 0;  // seconds of this bin already used
        while (true) {
            if (dead > 0) {
                const double skip = std::min(dead, dt - pos);
                dead -= skip;
                pos += skip;
                if (pos >= dt) break;
            }
            const double m = lam * (dt - pos);
            if (e > m) {
                e -= m;
                break;
            }
            pos += e / lam;
            out.push_back(std::min(double(b) * dt + pos, t_max - 1e-9));
            e = unit_gamma(shape, rng);
            dead = dead_s;
        }
    }
}
}  // namespace detail

/// The surrogate session of the file comment.
inline Session alm_surrogate_session(const AlmSurrogateOptions& o) {
    o.validate();
    const double dt = 1e-3;
    const long n_steps = std::lround(o.trial_s / dt);
    const long n_trials = o.n_trials();
    // Sizes before anything is allocated: the trial table, the per-unit spike buffers of the
    // batch slots, and the spikes (a generous 100 Hz average: times and trial indices).
    (void)ensemble_threads(o.threads);
    require_allocation("trials_per_type", o.trials_per_type, {std::uint64_t(n_trials)}, sizeof(SessionTrial) + 64);
    const std::size_t batch = 32;
    require_allocation("units", o.units, {batch + 2, std::uint64_t(o.units)}, sizeof(std::vector<double>));
    require_allocation("units x trials", std::to_string(o.units) + " x " + std::to_string(n_trials),
                       {std::uint64_t(o.units), std::uint64_t(n_trials), std::uint64_t(o.trial_s * 100) + 1},
                       2 * sizeof(double));
    const auto units = alm_surrogate_units(o);

    // Trial list: (type, power index) in a seeded random order.
    struct Spec {
        bool right;
        std::size_t power;  // 0 control, else 1-based index into stim_powers_mw
        bool wrong;         // a misperceived sample (input of the other type's sign)
        double well;        // attractor position w
    };
    std::vector<Spec> specs;
    specs.reserve(std::size_t(n_trials));
    {
        // Stratified within each (type, power) group of n trials, so neither the error share
        // nor the spread of w depends on the seed: exactly round(error_fraction · n) trials
        // misperceive the sample, and w takes one value in each of n equal slices of its range.
        Rng strata(o.seed, 0, 26);
        const auto group = [&](bool right, std::size_t power, long n) {
            const auto un = std::size_t(n);
            std::vector<long> rank(un), wrong(un);
            for (long i = 0; i < n; ++i) rank[std::size_t(i)] = wrong[std::size_t(i)] = i;
            for (std::size_t i = rank.size(); i > 1; --i) std::swap(rank[i - 1], rank[strata.below(i)]);
            for (std::size_t i = wrong.size(); i > 1; --i) std::swap(wrong[i - 1], wrong[strata.below(i)]);
            const long n_wrong = std::lround(o.error_fraction * double(n));
            for (long i = 0; i < n; ++i) {
                const double p = (double(rank[std::size_t(i)]) + strata.uniform()) / double(n);
                specs.push_back({right, power, wrong[std::size_t(i)] < n_wrong, o.well_lo + (o.well_hi - o.well_lo) * std::pow(p, o.well_skew)});
            }
        };
        for (int r = 1; r >= 0; --r) {
            group(r == 1, 0, o.trials_per_type);
            for (std::size_t p = 0; p < o.stim_powers_mw.size(); ++p) group(r == 1, p + 1, o.stim_trials_per_power);
        }
    }
    {
        Rng order(o.seed, 0, 20);
        for (std::size_t i = specs.size(); i > 1; --i) std::swap(specs[i - 1], specs[order.below(i)]);
    }

    Session s;
    s.source = "surrogate ALM session (seed " + std::to_string(o.seed) + ")";
    s.t_axis.resize(std::size_t(n_steps) + 1);
    for (long j = 0; j <= n_steps; ++j) s.t_axis[std::size_t(j)] = double(j) * dt;
    s.trials.resize(std::size_t(n_trials));

    struct Slot {
        std::vector<double> x;                       // latent per bin
        std::vector<double> z, zvar;                 // pre-sample state term (log-gain) and its variance
        std::vector<double> rate;                    // one unit's rate per bin
        std::vector<std::vector<double>> spikes;     // per unit
        SessionTrial trial;
    };
    std::vector<Slot> slots(batch);
    for (auto& sl : slots) {
        sl.x.resize(std::size_t(n_steps));
        sl.z.resize(std::size_t(n_steps));
        sl.zvar.resize(std::size_t(n_steps));
        sl.rate.resize(std::size_t(n_steps));
        sl.spikes.resize(o.units);
    }
    SessionSpikes spikes(o.units);

    auto simulate = [&](long k, std::size_t slot) {
        Slot& sl = slots[slot];
        const Spec spec = specs[std::size_t(k)];
        Rng task(o.seed, std::uint64_t(k), 22), noise(o.seed, std::uint64_t(k), 23),
            gains(o.seed, std::uint64_t(k), 24), spk(o.seed, std::uint64_t(k), 25);
        const double jitter = std::round(o.start_jitter_s * task.uniform() / dt) * dt;
        const double t_sample = o.sample_start_s + jitter, t_delay = t_sample + o.sample_s,
                     t_cue = t_delay + o.delay_s;
        const double w = spec.well;
        const double amp = std::max(0.5 * o.drive, o.drive + o.drive_sd * task.normal());
        const bool early = task.uniform() < o.early_lick_fraction;
        const double power = spec.power ? o.stim_powers_mw[spec.power - 1] : 0.0;
        const double light = power > 0 ? 1 - std::exp(-power / o.stim_p0_mw) : 0.0;  // s(P)
        const double sgn = spec.right ? 1.0 : -1.0;
        const double heard = spec.wrong ? -sgn : sgn;  // the sample as perceived

        // ---- latent state x = w·y, bin j holds x at time (j + ½) dt
        double y = o.pre_sd * noise.normal();
        double z = noise.normal();  // the pre-sample state fluctuation, stationary N(0, 1)
        const double pre_kick = o.pre_sd * std::sqrt(2 * dt / o.pre_tau_s), kick = o.noise * std::sqrt(dt);
        long j_cue = n_steps - 1;
        for (long j = 0; j < n_steps; ++j) {
            const double t = (double(j) + 0.5) * dt;
            const double xi = noise.normal();
            if (t < t_sample) {
                y += -y / o.pre_tau_s * dt + pre_kick * xi;
            } else {
                const bool lit = light > 0 && t >= t_delay && t < t_delay + o.stim_s;
                const double input = t < t_delay ? heard * amp : 0.0;
                // The cubic drift is stiff far from the attractors (a pre-sample state of 3 at
                // the sample onset): enough Euler sub-steps that h·|f'(y)| <= 1/6.
                const int sub = 1 + int(std::min(1000.0, 6 * (1 + 3 * y * y) * dt / o.tau_s));
                const double h = dt / sub / o.tau_s;
                for (int m = 0; m < sub; ++m) y += h * (lit ? -o.stim_leak * light * y : y * (1 - y * y) + input);
                y += kick * xi;
            }
            if (!std::isfinite(y)) throw numerical_error("surrogate session: latent state diverged", j, k);
            const double x = w * y;
            z += -z / o.pre_tau_s * dt + std::sqrt(2 * dt / o.pre_tau_s) * noise.normal();
            sl.x[std::size_t(j)] = x;
            const double q = o.quench_sd * (t < t_sample ? 1.0 : std::exp(-(t - t_sample) / o.quench_tau_s));
            sl.z[std::size_t(j)] = q * z;
            sl.zvar[std::size_t(j)] = q * q;
            if (t < t_cue) j_cue = j;
        }
        const bool correct = (sl.x[std::size_t(j_cue)] > 0) == spec.right;
        const int code = early ? 5 : correct ? (spec.right ? 1 : 2) : (spec.right ? 3 : 4);
        sl.trial = {code, t_sample, t_delay, t_cue, double(spec.power)};

        // ---- rates and spikes of every unit
        for (std::size_t i = 0; i < o.units; ++i) {
            const auto& u = units[i];
            const double log_b =
                std::log(u.baseline_hz) + o.trial_gain_sd * gains.normal() - 0.5 * o.trial_gain_sd * o.trial_gain_sd;
            const double stim_scale = u.fast_spiking ? 1 + 2 * light : 1 - 0.9 * light;
            const double sample_term = u.sample * 0.5 * (1 + u.sample_selectivity * sgn);
            for (long j = 0; j < n_steps; ++j) {
                const double t = (double(j) + 0.5) * dt, xj = sl.x[std::size_t(j)];
                const double choice = std::tanh(xj / 0.3);
                // Mean-preserving log-normal gain: the fluctuation changes no trial average.
                double L = log_b + u.quench * sl.z[std::size_t(j)] - 0.5 * u.quench * u.quench * sl.zvar[std::size_t(j)];
                double gain = u.choice;  // the choice readout, growing with the ramp in the delay
                if (u.ramp != 0 && t >= t_delay)
                    gain += u.ramp * (t < t_cue ? std::pow((t - t_delay) / o.delay_s, 1.5) : std::exp(-(t - t_cue) / 0.3));
                if (u.sample != 0 && t >= t_sample + 0.03) {
                    // Onset transient plus a sustained part, decaying after the sample ends.
                    const double since = t - t_sample - 0.03;
                    double S = 0.6 * std::exp(-since / 0.15) + 0.4;
                    if (t >= t_delay) S *= std::exp(-(t - t_delay) / 0.1);
                    L += sample_term * S;
                }
                if (u.cue != 0 && t >= t_cue + u.cue_latency_s) {
                    const double a = (t - t_cue - u.cue_latency_s) / u.cue_tau_s;
                    L += u.cue * a * std::exp(1 - a) * (1 + u.cue_choice * choice);
                }
                // Linear in x (a smooth floor at 0): the same sensitivity at both attractors.
                const double z = 1 + gain * xj;
                const double readout = z > 5 ? z : std::log1p(std::exp(4 * z)) / 4;
                double r = std::min(300.0, std::exp(L) * readout);
                if (light > 0 && t >= t_delay && t < t_delay + o.stim_s) r *= stim_scale;
                sl.rate[std::size_t(j)] = r;
            }
            auto& out = sl.spikes[i];
            out.clear();
            detail::renewal_spikes(sl.rate.data(), n_steps, dt, o.spike_shape, o.refractory_ms * 1e-3, spk, out);
        }
    };
    auto reduce = [&](long k, std::size_t slot) {
        Slot& sl = slots[slot];
        s.trials[std::size_t(k)] = sl.trial;
        spikes.add(std::size_t(k), sl.spikes);
    };
    for_each_trial(n_trials, batch, simulate, reduce, EnsembleOptions{.threads = o.threads, .progress = o.progress});

    s.units.reserve(o.units);
    for (std::size_t u = 0; u < o.units; ++u) s.units.push_back(spikes.unit(u, std::size_t(n_trials), units[u].spike_width_ms));
    return s;
}

}  // namespace neurodyn
