#pragma once
/// \file targets.hpp
/// Training targets from a session: trial-averaged smoothed PSTHs (Hz) of correct control
/// trials, index 0 right (code 1) and 1 left (code 2): a (2, units, time) tensor at the
/// session's bin width (1 ms for the ALM files). The normalisation to (0, 1) and the logit
/// used by FORCE training live in metrics.hpp; these are the raw rates.
///
/// \code
/// xt::xtensor<double, 3> R = neurodyn::session_targets<double>(session);
/// neurodyn::save_npy("targets.npy", R);    // what the FORCE example reads
/// \endcode
#include <xtensor/xtensor.hpp>

#include "neurodyn/analysis/psth.hpp"
#include "neurodyn/data/session.hpp"

namespace neurodyn {

/// Trial-averaged targets (see the file comment). Throws when a trial type has no correct
/// control trial.
template <Real T>
xt::xtensor<T, 3> session_targets(const Session& s, const PsthOptions& opt = {}) {
    return trial_average_psth<T>(s, {s.trials_where(TrialFilter::correct_right), s.trials_where(TrialFilter::correct_left)},
                                 opt);
}

}  // namespace neurodyn
