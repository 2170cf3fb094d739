#pragma once
/// \file synthetic_session.hpp
/// A synthetic ALM recording session built from the Inagaki 2019 attractor model, so every
/// session analysis runs end to end without the real files.
///
/// Per trial (seeded streams, so any thread count gives the same session):
///  - a trial type (right/left, 50 %), a photoinhibition level (control on
///    1 − `photoinhibition_fraction` of trials, otherwise one of the preset's non-zero PV
///    levels), and an early-lick outcome with probability `early_lick_fraction`;
///  - one simulated trial of the four attractor populations (the model's own noise and
///    stimulus-amplitude variability make the trial-to-trial dynamics real; photoinhibition
///    trials really are perturbed); the outcome is correct when the end-of-delay state matches
///    the trial type (code 1/2), an error otherwise (3/4), early lick 5;
///  - for every unit, rate_i(t) = max(0, b_i + g_i · Σ_p m_ip r_p(t)) Hz, mixing the
///    "right" (1, 3) and "left" (2, 4) populations of one hemisphere with weights
///    m_i = (a_i, 1 − a_i), a_i ~ U(0, 1); regular-spiking units (spike width 0.5–0.8 ms)
///    have baselines 1–6 Hz and gains 2–8 Hz, fast-spiking ones (0.2–0.33 ms, share
///    `fast_spiking_fraction`) baselines 8–20 Hz, gains 4–12 Hz and less selective mixes;
///  - Poisson spikes of that rate (exact for the piecewise-constant 1-ms rate, by time
///    rescaling), times in s from the trial start; each trial starts a random whole number
///    of ms in 0 … `trial_start_jitter_s` before the model's t = 0 (real trials do not start
///    at the same time relative to the sample cue), showing the model's initial rate there;
///    every trial is recorded for n_steps ms.
/// The epochs are the preset's (sample 1.5–2.5 s, delay to 4.5 s, go cue at 4.5 s after
/// the model's t = 0); stim_trial_vector holds the PV level index (0 = control).
///
/// \code
/// neurodyn::SyntheticSessionOptions o;         // 87 units, 300 trials
/// o.seed = 7;
/// neurodyn::Session s = neurodyn::synthetic_session(o);
/// neurodyn::save_matlab_session(s, "synthetic.mat");   // same layout as the real files
/// \endcode
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/experiments/inagaki2019_task.hpp"
#include "neurodyn/inputs/pulses.hpp"
#include "neurodyn/data/session.hpp"
#include "neurodyn/models/inagaki2019.hpp"
#include "neurodyn/parallel/ensemble.hpp"

namespace neurodyn {

/// What a rate source is asked to simulate.
struct SyntheticTrialRequest {
    long trial = 0;            ///< global trial index (seeds the trial's streams)
    std::uint64_t seed = 0;
    TrialType type = TrialType::right;
    double pv = 0;             ///< photoinhibition strength (0 = control)
};

/// Rates of the four Inagaki populations for whole trials: `operator()` fills an
/// n_steps × 4 matrix (row j = rates during the 1-ms bin [j, j+1) ms) and returns whether
/// the trial ended the delay in the state of its type (a correct trial). Thread-safe.
/// \code
/// neurodyn::Inagaki2019RateSource src(neurodyn::inagaki2019_preset("two_hemi_internal"));
/// neurodyn::Matrix<double> r(src.n_steps(), 4);
/// bool correct = src({.trial = 0, .seed = 1, .type = neurodyn::TrialType::left}, r);
/// \endcode
class Inagaki2019RateSource {
public:
    explicit Inagaki2019RateSource(const Inagaki2019Preset& p,
                                   PhotoinhibitionSide side = PhotoinhibitionSide::bilateral)
        : p_(p), side_(side), model_(make_inagaki2019_model<double>(p)) {}

    long n_steps() const noexcept { return p_.n_steps; }
    const Inagaki2019Preset& preset() const noexcept { return p_; }

    bool operator()(const SyntheticTrialRequest& q, Matrix<double>& rates) const {
        require_size("rates rows", rates.rows(), p_.n_steps);
        require_size("rates cols", rates.cols(), 4);
        Rng stim = trial_rng(q.seed, q.trial, std::uint64_t(Inagaki2019Stream::stimulus));
        const double amp = StimulusAmplitude{p_.stim_amp, p_.stim_sigma}.draw(stim);
        using X = Eigen::Array<double, 4, 1>;  // one trial, fixed size: no allocation per step
        // The authors' r(K) is the rate from h at the start of 1-based step K − 1, i.e. the
        // rate during the 1-ms bin K − 2 (0-based): bin j shows G(h_j).
        rates.row(0) = model_.rates(X::Constant(p_.h0)).matrix().transpose();
        struct Watch {
            const Inagaki2019Model<double>* model;
            Matrix<double>* rates;
            long j = 0;
            void on_step(double, X& h) {
                if (++j < rates->rows()) rates->row(j) = model->rates(h).matrix().transpose();
            }
        } watch{&model_, &rates};
        const Inagaki2019TrialSpec spec{q.type, q.pv, amp};
        X h;
        run_inagaki2019_trials(model_, p_, side_, std::span<const Inagaki2019TrialSpec>(&spec, 1), q.seed, q.trial,
                               true, h, watch);
        // End of the delay: the authors' r(delay_end_index) = bin delay_end_index − 2.
        const long j_end = std::clamp(p_.delay_end_index - 2, 0L, p_.n_steps - 1);
        const double r1 = rates(j_end, 0), r2 = rates(j_end, 1);
        return q.type == TrialType::right ? r1 > r2 : r1 < r2;
    }

private:
    Inagaki2019Preset p_;
    PhotoinhibitionSide side_;
    Inagaki2019Model<double> model_;
};

/// Options of `synthetic_session`.
struct SyntheticSessionOptions {
    std::size_t units = 87;
    long trials = 300;
    std::uint64_t seed = 1;
    std::string preset = "one_hemi_multi_fp_step";
    PhotoinhibitionSide side = PhotoinhibitionSide::bilateral;
    double photoinhibition_fraction = 0.25;  ///< share of trials with PV > 0
    double early_lick_fraction = 0.05;       ///< share of trials coded 5 (dropped)
    double fast_spiking_fraction = 0.15;
    double trial_start_jitter_s = 0.1;
    int threads = 0;                         ///< 0: OpenMP default
    std::function<void(long, long)> progress = {};

    void validate() const {
        require(units >= 1, "units", units, "must be >= 1");
        require(trials >= 2, "trials", trials, "must be >= 2");
        require(photoinhibition_fraction >= 0 && photoinhibition_fraction <= 1, "photoinhibition_fraction",
                photoinhibition_fraction, "must be in [0, 1]");
        require(early_lick_fraction >= 0 && early_lick_fraction < 1, "early_lick_fraction", early_lick_fraction,
                "must be in [0, 1)");
        require(fast_spiking_fraction >= 0 && fast_spiking_fraction <= 1, "fast_spiking_fraction",
                fast_spiking_fraction, "must be in [0, 1]");
        require_nonnegative("trial_start_jitter_s", trial_start_jitter_s);
    }
};

/// Per-unit mixing of the populations into a rate in Hz (see the file comment).
struct SyntheticUnitParams {
    double baseline = 0;          ///< Hz
    double gain = 0;              ///< Hz per model rate unit
    Eigen::Vector4d mix = Eigen::Vector4d::Zero();
    double spike_width = 0;       ///< ms
};

/// The unit parameters `synthetic_session` uses (stream Rng(seed, unit, 7)).
inline std::vector<SyntheticUnitParams> synthetic_unit_params(const SyntheticSessionOptions& o) {
    std::vector<SyntheticUnitParams> out(o.units);
    for (std::size_t i = 0; i < o.units; ++i) {
        Rng rng(o.seed, i, 7);
        auto& u = out[i];
        const bool fs = rng.uniform() < o.fast_spiking_fraction;
        const int hemi = rng.uniform() < 0.5 ? 0 : 2;  // populations (1, 2) or (3, 4)
        // Fast-spiking interneurons pool broadly: mixes closer to even.
        const double a = fs ? 0.25 + 0.5 * rng.uniform() : rng.uniform();
        u.mix[hemi] = a;
        u.mix[hemi + 1] = 1 - a;
        u.baseline = fs ? 8 + 12 * rng.uniform() : 1 + 5 * rng.uniform();
        u.gain = fs ? 4 + 8 * rng.uniform() : 2 + 6 * rng.uniform();
        u.spike_width = fs ? 0.2 + 0.13 * rng.uniform() : 0.5 + 0.3 * rng.uniform();
    }
    return out;
}

/// Generate a session from any rate source with the interface of `Inagaki2019RateSource`
/// (n_steps(), operator()(request, rates) → correct). `pv_levels[0]` must be 0 (control).
template <class RateSource>
Session synthetic_session_from(const RateSource& source, const std::vector<double>& pv_levels,
                               const SyntheticSessionOptions& o, const TaskEpochs& epochs) {
    o.validate();
    require(!pv_levels.empty() && pv_levels[0] == 0, "pv_levels", pv_levels.empty() ? 0.0 : pv_levels[0],
            "must start with the control level 0");
    const long n_steps = source.n_steps();
    const double dt = 1e-3;  // s per step: the sources run on 1-ms steps
    (void)ensemble_threads(o.threads);  // a bad thread count is refused before anything is allocated
    require_allocation("trials", o.trials, {std::uint64_t(o.trials)}, sizeof(SessionTrial));
    require_allocation("units", o.units, {32, std::uint64_t(n_steps), std::uint64_t(o.units) + 4}, sizeof(double));
    const auto params = synthetic_unit_params(o);
    Eigen::Matrix<double, 4, Eigen::Dynamic> M(4, index_t(o.units));
    Vector<double> base(index_t(o.units)), gain(index_t(o.units));
    for (std::size_t i = 0; i < o.units; ++i) {
        M.col(index_t(i)) = params[i].mix;
        base(index_t(i)) = params[i].baseline;
        gain(index_t(i)) = params[i].gain;
    }

    Session s;
    s.source = "synthetic (" + o.preset + ", seed " + std::to_string(o.seed) + ")";
    s.t_axis.resize(std::size_t(n_steps) + 1);
    for (long j = 0; j <= n_steps; ++j) s.t_axis[std::size_t(j)] = double(j) * dt;
    s.trials.resize(std::size_t(o.trials));

    struct Slot {
        Matrix<double> pop, rate;                    // n_steps × 4, n_steps × units
        std::vector<std::vector<double>> spikes;     // per unit
        SessionTrial trial;
    };
    const std::size_t batch = 32;
    std::vector<Slot> slots(batch);
    for (auto& sl : slots) {
        sl.pop.resize(n_steps, 4);
        sl.spikes.resize(o.units);
    }
    SessionSpikes spikes(o.units);
    const double sample = epochs["sample"].start_ms * 1e-3, delay = epochs["delay"].start_ms * 1e-3,
                 cue = epochs["delay"].end_ms * 1e-3;

    auto simulate = [&](long k, std::size_t slot) {
        Slot& sl = slots[slot];
        Rng task(o.seed, std::uint64_t(k), 2);
        const TrialType type = task.uniform() < 0.5 ? TrialType::right : TrialType::left;
        std::size_t level = 0;
        if (pv_levels.size() > 1 && task.uniform() < o.photoinhibition_fraction)
            level = 1 + std::size_t(task.below(pv_levels.size() - 1));
        const bool early = task.uniform() < o.early_lick_fraction;
        // Model t = 0 falls `off` whole bins after the trial start.
        const long off = std::lround(o.trial_start_jitter_s * task.uniform() / dt);
        const double start = double(off) * dt;
        const bool correct = source(SyntheticTrialRequest{k, o.seed, type, pv_levels[level]}, sl.pop);
        const bool right = type == TrialType::right;
        const int code = early ? 5 : correct ? (right ? 1 : 2) : (right ? 3 : 4);
        sl.trial = {code, sample + start, delay + start, cue + start, double(level)};
        // All units' rates at once: (n_steps × 4)(4 × units), then the floor at 0.
        sl.rate.noalias() = sl.pop * M;
        sl.rate = ((sl.rate.array().rowwise() * gain.transpose().array()).rowwise() + base.transpose().array())
                      .max(0.0);
        Rng spk(o.seed, std::uint64_t(k), 3);
        const double t_max = double(n_steps) * dt;
        for (std::size_t u = 0; u < o.units; ++u) {
            auto& out = sl.spikes[u];
            out.clear();
            // Time rescaling: spikes where the integrated rate crosses successive Exp(1) draws.
            double e = -std::log(spk.uniform_open());
            const double* lam = sl.rate.col(index_t(u)).data();
            // Trial bin b shows model bin b − off: the model's first rate before its t = 0
            // (the pre-trial baseline), and the recording ends with the trial's 6 s.
            for (long b = 0; b < n_steps; ++b) {
                const double m = lam[std::clamp(b - off, 0L, n_steps - 1)] * dt;  // expected count in this bin
                double pos = 0;                                                    // fraction of the bin used
                while (m > 0 && e <= m * (1 - pos)) {
                    pos += e / m;
                    out.push_back(std::min((double(b) + pos) * dt, t_max - 1e-9));
                    e = -std::log(spk.uniform_open());
                }
                e -= m * (1 - pos);
            }
        }
    };
    auto reduce = [&](long k, std::size_t slot) {
        Slot& sl = slots[slot];
        s.trials[std::size_t(k)] = sl.trial;
        spikes.add(std::size_t(k), sl.spikes);
    };
    for_each_trial(o.trials, batch, simulate, reduce, EnsembleOptions{.threads = o.threads, .progress = o.progress});

    s.units.reserve(o.units);
    for (std::size_t u = 0; u < o.units; ++u) s.units.push_back(spikes.unit(u, std::size_t(o.trials), params[u].spike_width));
    return s;
}

/// The synthetic session of the file comment, from the named Inagaki 2019 preset.
inline Session synthetic_session(const SyntheticSessionOptions& o = {}) {
    o.validate();
    const Inagaki2019Preset p = inagaki2019_preset(o.preset);
    require(p.dt == 1.0, "preset dt", p.dt, "must be 1 ms (sessions use 1-ms bins)");
    std::vector<double> levels{0.0};
    for (double pv : p.pv_levels)
        if (pv > 0) levels.push_back(pv);
    TaskEpochs epochs(double(p.n_steps) * p.dt);
    epochs.add("sample", p.sample_start, p.sample_end).add("delay", p.sample_end, p.delay_end);
    return synthetic_session_from(Inagaki2019RateSource(p, o.side), levels, o, epochs);
}

}  // namespace neurodyn
