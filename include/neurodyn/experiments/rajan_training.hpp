#pragma once
/// \file rajan_training.hpp
/// The Rajan, Harvey & Tank (2016)-style training protocol and everything around it, by concern:
///
/// | header | what |
/// |---|---|
/// | experiments/rajan_protocol.hpp | `RajanOptions`, `rajan_training`, realisation networks and inputs, `best_realization`, `trained_task`, session targets |
/// | analysis/delay_selectivity.hpp | `delay_preference`, `suppress_nonpreferred` |
/// | io/training_folder.hpp | `save_training`, `load_training_setup`, `load_trained_rnn` |
///
/// This header includes all three (existing programs keep compiling) and adds what a program
/// around the protocol needs: `select_protocol` (a protocol by name, as --protocol gives it),
/// `inagaki2019_epochs` (the task epochs scaled to a target file's length), `summarise` (the
/// counts a report states) and `obtain_trained_task` (a training folder if one is given, else
/// one network trained on the fly).
///
/// \code
/// auto t = neurodyn::synthetic_targets({});
/// neurodyn::RajanOptions o;
/// o.realizations = 2;
/// auto runs = neurodyn::rajan_training(t.rates, t.epochs, o);
/// neurodyn::save_training("out/training", runs, t.epochs, o);
/// auto loaded = neurodyn::load_trained_rnn("out/training");   // best realisation
/// \endcode
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "neurodyn/analysis/delay_selectivity.hpp"
#include "neurodyn/experiments/rajan_protocol.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/training_folder.hpp"

namespace neurodyn {

/// Options for the protocol named `name` ("textbook" or "seed", learn::parse_protocol): the
/// seed protocol takes the study's target clip and, unless `alpha_given` (the user chose
/// alpha), its alpha (RajanOptions::seed_protocol()); the textbook protocol keeps `o` as is.
/// \code
/// neurodyn::RajanOptions o;
/// neurodyn::select_protocol(o, "seed", false);   // P(0) = 10 I, clip 1e-5
/// \endcode
inline void select_protocol(RajanOptions& o, const std::string& name, bool alpha_given) {
    o.protocol = learn::parse_protocol(name);
    if (o.protocol != learn::ForceProtocol::seed) return;
    const RajanOptions s = RajanOptions::seed_protocol();
    o.target_clip = s.target_clip;
    if (!alpha_given) o.alpha = s.alpha;
}

/// The Inagaki 2019 task epochs (presample 0–1.5 s, sample 1.5–2.5 s, delay 2.5–4.5 s,
/// response to the end of a 6 s trial) scaled to a trial of `trial_ms`: the epochs of a
/// target file that carries none.
/// \code
/// auto ep = neurodyn::inagaki2019_epochs(6000);   // the task as recorded
/// \endcode
inline TaskEpochs inagaki2019_epochs(double trial_ms) {
    require_positive("trial_ms", trial_ms);
    const double T = trial_ms, f = T / 6000.0;
    TaskEpochs epochs(T);
    epochs.add("presample", 0, 1500 * f).add("sample", 1500 * f, 2500 * f).add("delay", 2500 * f, 4500 * f)
        .add("response", 4500 * f, T);
    return epochs;
}

/// The counts a report of the protocol states.
struct RajanSummary {
    int converged = 0, kept = 0;
    int selective_targets = 0;               ///< delay-selective target neurons
    std::vector<double> iterations_to_threshold;  ///< of the converged realisations
    double median_iterations = std::numeric_limits<double>::quiet_NaN();  ///< NaN: none converged
    index_t best = 0;                        ///< best_realization
};

/// \code
/// auto s = neurodyn::summarise(result);   // s.converged, s.kept, s.median_iterations, s.best
/// \endcode
inline RajanSummary summarise(const RajanResult& r) {
    RajanSummary s;
    for (const auto& run : r.runs) {
        s.kept += run.kept;
        s.converged += run.converged;
        if (run.converged) s.iterations_to_threshold.push_back(run.iterations);
    }
    for (int p : r.target_preference) s.selective_targets += p != 0;
    if (!s.iterations_to_threshold.empty()) {
        auto v = s.iterations_to_threshold;
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        s.median_iterations = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
    s.best = best_realization(r);
    return s;
}

/// How to get a trained network when no training folder is given: train one network on the
/// correct-trial PSTHs of a synthetic ALM session.
struct OnTheFlyTraining {
    std::size_t neurons = 87;     ///< units of the synthetic session
    std::uint64_t data_seed = 1;  ///< seed of the synthetic session
    RajanOptions options;         ///< training options (realisation 0 is trained)
};

/// Realisation `realization` (−1: the best) of the training folder `dir`, or — when `dir` is
/// empty — one network trained on the fly as `fly` says. `description` says which it was.
/// \code
/// std::string what;
/// auto t = neurodyn::obtain_trained_task(dir, -1, {}, what);
/// \endcode
inline TrainedTask obtain_trained_task(const std::string& dir, index_t realization, const OnTheFlyTraining& fly,
                                       std::string& description) {
    if (!dir.empty()) {
        auto t = load_trained_rnn(dir, realization);
        description = "realisation " + std::to_string(t.realization) + " of " + dir;
        return t;
    }
    require(realization == -1, "realization", realization,
            "must be -1 without a training folder (the network trained on the fly is the only one)");
    SyntheticSessionOptions so;
    so.units = fly.neurons;
    so.seed = fly.data_seed;
    std::fprintf(stderr, "no training folder: training one network on a synthetic ALM session (%zu units)\n",
                 fly.neurons);
    const auto targets = session_training_targets(synthetic_session(so));
    RajanOptions o = fly.options;
    o.realizations = 1;
    const auto res = rajan_training(targets.rates, targets.epochs, o);
    description = "a network trained on the fly (synthetic session, seed " + std::to_string(fly.data_seed) + ")";
    return trained_task(res, targets.epochs, o, 0);
}

}  // namespace neurodyn
