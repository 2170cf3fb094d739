#pragma once
/// \file synthetic_targets.hpp
/// Synthetic trial-averaged ALM-like PSTHs for FORCE training, until (and besides) the
/// synthetic session generator: rates in Hz of `neurons` units in right (index 0) and left
/// (index 1) trials, one column per 1-ms step, with the response types seen in anterior
/// lateral motor cortex during a delayed-response task (Guo et al. 2014; Inagaki et al. 2019):
///
/// | type                 | share | shape                                                       |
/// |----------------------|-------|-------------------------------------------------------------|
/// | sample transient     | 20 %  | phasic response to the sample cue, larger for one side      |
/// | delay ramp           | 25 %  | ramps up through the delay for one side, flat/down for other |
/// | persistent           | 15 %  | steps up at the sample and stays up through the delay       |
/// | mixed                | 10 %  | prefers one side in the sample, the other in the delay      |
/// | response             | 15 %  | go-cue (lick-direction) response, larger for one side       |
/// | non-selective        | 15 %  | ramp and/or go-cue response, the same for both sides        |
///
/// Baselines are 2–10 Hz, peak modulations 5–25 Hz; every unit carries a slow (≈150 ms)
/// frozen fluctuation of ≈0.7 Hz per condition, as a trial-averaged PSTH of ~50 trials would.
/// Rates are kept positive by a smooth floor. Preferences are 60 % right (contralateral).
/// Everything depends on the seed only.
///
/// \code
/// neurodyn::SyntheticTargetOptions o;      // 87 units, 6 s trials, Inagaki epochs
/// o.seed = 3;
/// auto t = neurodyn::synthetic_targets(o);
/// // t.rates: (2, 87, 6000) in Hz; t.delay_preference[i] = +1 right, −1 left, 0 none
/// \endcode
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

struct SyntheticTargetOptions {
    index_t neurons = 87;
    double dt = 1.0;             ///< ms per step
    double presample_ms = 1500;  ///< epoch durations: defaults give the Inagaki 2019 trial
    double sample_ms = 1000;
    double delay_ms = 2000;
    double response_ms = 1500;
    std::uint64_t seed = 0;

    double trial_ms() const { return presample_ms + sample_ms + delay_ms + response_ms; }
    void validate() const {
        require(neurons >= 1, "neurons", neurons, "must be >= 1");
        require_positive("dt", dt);
        require_positive("presample_ms", presample_ms);
        require_positive("sample_ms", sample_ms);
        require_positive("delay_ms", delay_ms);
        require_positive("response_ms", response_ms);
    }
};

/// The generated targets and their ground truth.
struct SyntheticTargets {
    xt::xtensor<double, 3> rates;     ///< (2, neurons, steps), Hz; 0 right, 1 left
    std::vector<int> delay_preference;  ///< +1 right, −1 left, 0 not delay-selective (by design)
    std::vector<std::string> kind;      ///< response type per unit
    TaskEpochs epochs{1.0};             ///< presample, sample, delay, response
};

/// Generate ALM-like trial-averaged rates (see the file comment).
inline SyntheticTargets synthetic_targets(const SyntheticTargetOptions& o) {
    o.validate();
    // Sizes before allocating: the step count must be a sane integer, the rates must fit.
    const double steps = o.trial_ms() / o.dt;
    require(steps >= 2 && steps < 1e12, "dt", o.dt,
            "gives " + detail::to_text(steps) + " steps for a " + detail::to_text(o.trial_ms()) +
                "-ms trial: must give between 2 and 10^12");
    const auto K = std::size_t(std::llround(steps));
    const auto N = std::size_t(o.neurons);
    require_allocation("neurons", o.neurons, {2, std::uint64_t(N), std::uint64_t(K)}, sizeof(double));
    SyntheticTargets out;
    out.epochs = TaskEpochs(o.trial_ms());
    const double ts = o.presample_ms, td = ts + o.sample_ms, tg = td + o.delay_ms;
    out.epochs.add("presample", 0, ts).add("sample", ts, td).add("delay", td, tg).add("response", tg, o.trial_ms());
    out.rates = xt::xtensor<double, 3>::from_shape({2, N, K});
    out.delay_preference.assign(N, 0);
    out.kind.assign(N, "");
    // Time scale of the shapes follows the epochs, so shortened trials keep their look.
    const double rise = std::min(40.0, 0.1 * o.sample_ms);
    auto sig = [](double t, double t0, double w) { return 1.0 / (1.0 + std::exp(-(t - t0) / w)); };
    auto pulse = [&](double t, double t0, double dur, double w_on, double w_off) {
        return sig(t, t0, w_on) * (1.0 - sig(t, t0 + dur, w_off));
    };
    auto ramp = [&](double t) {  // 0 before the delay, rises to 1 at the go cue, decays after
        if (t < td) return 0.0;
        const double u = std::min(1.0, (t - td) / o.delay_ms);
        const double after = t > tg ? std::exp(-(t - tg) / (0.2 * o.response_ms)) : 1.0;
        return u * u * (3.0 - 2.0 * u) * after;
    };
    auto persistent = [&](double t) {
        return sig(t, ts + 0.15 * o.sample_ms, rise) * (1.0 - sig(t, tg + 0.1 * o.response_ms, 2 * rise));
    };
    auto go = [&](double t) { return pulse(t, tg + 0.03 * o.response_ms, 0.3 * o.response_ms, 0.5 * rise, 3 * rise); };
    auto sample_tr = [&](double t) { return pulse(t, ts + 0.03 * o.sample_ms, 0.25 * o.sample_ms, 0.5 * rise, 4 * rise); };

    Rng rng(o.seed, 0, 0x5A);
    std::vector<double> shape(2 * K);
    for (std::size_t i = 0; i < N; ++i) {
        const double u = rng.uniform();
        const int pref = rng.uniform() < 0.6 ? +1 : -1;  // +1: right preferred
        const double base = 2.0 + 8.0 * rng.uniform();
        const double amp = 5.0 + 20.0 * rng.uniform();
        const double other = -0.3 + 0.6 * rng.uniform();  // non-preferred response, relative
        const double slow = -0.3 + 0.6 * rng.uniform();   // slow drift across the trial, Hz
        std::string kind;
        int dpref = 0;
        for (std::size_t c = 0; c < 2; ++c) {
            const bool preferred = (c == 0) == (pref > 0);
            const double g = preferred ? 1.0 : other;
            for (std::size_t k = 0; k < K; ++k) {
                const double t = double(k) * o.dt;
                double v = base + slow * t / o.trial_ms();
                if (u < 0.20) {
                    kind = "sample transient";
                    v += amp * g * sample_tr(t) + 0.15 * amp * go(t);
                } else if (u < 0.45) {
                    kind = "delay ramp";
                    dpref = pref;
                    v += amp * g * ramp(t) + 0.2 * amp * sample_tr(t);
                } else if (u < 0.60) {
                    kind = "persistent";
                    dpref = pref;
                    v += 0.6 * amp * g * persistent(t) + 0.3 * amp * g * sample_tr(t);
                } else if (u < 0.70) {
                    kind = "mixed";
                    dpref = -pref;  // the delay prefers the side the sample did not
                    const double gd = preferred ? other : 1.0;
                    v += amp * g * sample_tr(t) + 0.6 * amp * gd * ramp(t);
                } else if (u < 0.85) {
                    kind = "response";
                    v += amp * g * go(t) + 0.1 * amp * ramp(t);
                } else {
                    kind = "non-selective";
                    v += 0.5 * amp * ramp(t) + 0.5 * amp * go(t);
                }
                shape[c * K + k] = v;
            }
        }
        // A slow frozen fluctuation per condition: an OU process (τ = 150 ms) smoothed by a
        // second exponential filter of the same τ, which halves its variance: SD ≈ 0.7 Hz.
        for (std::size_t c = 0; c < 2; ++c) {
            const double a = std::exp(-o.dt / 150.0), sd1 = 0.7 * std::sqrt(2.0);
            double y1 = sd1 * rng.normal(), y2 = y1;
            for (std::size_t k = 0; k < K; ++k) {
                y1 = a * y1 + sd1 * std::sqrt(1 - a * a) * rng.normal();
                y2 = a * y2 + (1 - a) * y1;
                shape[c * K + k] += y2;
            }
        }
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t k = 0; k < K; ++k) {
                const double v = shape[c * K + k];
                out.rates(c, i, k) = 0.5 * std::log1p(std::exp(2.0 * v));  // smooth floor at 0 Hz
            }
        out.kind[i] = kind;
        out.delay_preference[i] = dpref;
    }
    return out;
}

}  // namespace neurodyn
