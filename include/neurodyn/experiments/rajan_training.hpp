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
/// This header includes all three (existing programs keep compiling) and adds the program
/// support `obtain_trained_task`: a training folder if one is given, else one network trained
/// on the fly.
///
/// \code
/// auto t = neurodyn::synthetic_targets({});
/// neurodyn::RajanOptions o;
/// o.realizations = 2;
/// auto runs = neurodyn::rajan_training(t.rates, t.epochs, o);
/// neurodyn::save_training("out/training", runs, t.epochs, o);
/// auto loaded = neurodyn::load_trained_rnn("out/training");   // best realisation
/// \endcode
#include <cstdio>
#include <string>

#include "neurodyn/analysis/delay_selectivity.hpp"
#include "neurodyn/experiments/rajan_protocol.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/training_folder.hpp"

namespace neurodyn {

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
