#pragma once
/// \file seed_protocol.hpp
/// Pieces of the `seed` training protocol: the conventions of the Python study this library
/// grew from, kept beside the textbook ones so that its numbers can be reproduced and compared.
/// The trainer selects the protocol with `ForceOptions::protocol` (learn/force_trainer.hpp;
/// `ForceOptions::seed_protocol()` sets every convention at once); this header holds what is
/// useful outside the trainer:
///
/// - `seed_pvar(R, r)`: the study's score, 1 − (Σ|R − r|)² / (Σ|R − R̄|)², sums of absolute
///   values over units and steps, R̄ the mean of R **over units at each step** (not the grand
///   mean of the textbook pVar). It can be negative and is not a fraction of variance.
/// - `shared_noise(...)`: the study's noise model, amplitude·√(1/(2τ))·N(0, 1), **one scalar
///   per step shared by every unit**, added to the input current on the steps of a window
///   (the whole trial, or e.g. the first 600 ms of the delay) and 0 elsewhere. The library's
///   textbook noise is independent per unit; this one moves every unit together.
///
/// \code
/// neurodyn::Rng rng(7);
/// auto xi = neurodyn::learn::shared_noise<double>(1.0, 10.0, 1650, {0, 1650}, rng);
/// const auto& rates = trainer.test(0, xi);                    // a noisy test run (seed protocol)
/// double score = neurodyn::learn::seed_pvar(trainer.targets(0), rates);
/// \endcode
#include <cmath>
#include <vector>

#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn::learn {

/// Which training protocol the trainer runs (see ForceOptions::protocol).
enum class ForceProtocol {
    /// Rajan et al. (2016) as the design notes describe it: every trial starts on the target,
    /// P(0) = I/α, the update uses k and c of before the P update, pVar = 1 − ‖R − r‖²/‖R − R̄‖².
    textbook,
    /// The Python study as it was run: one state per condition, 0 when training starts and
    /// carried over between training run, test run and iterations; steps 1 … T−1 of each run
    /// (column 0 of a recorded test run is the rate at the start of the iteration, or 0 for a
    /// test of a trained network, which starts at x = 0); error J r − φ⁻¹(R) after the step;
    /// P updated first, then the gain of the same sample under the updated P (double
    /// discount, RlsUpdater::update_then_gain); `seed_pvar`; stop when every pVar > threshold.
    seed
};

inline const char* protocol_name(ForceProtocol p) noexcept { return p == ForceProtocol::seed ? "seed" : "textbook"; }

/// Parse "seed" or "textbook" (command lines, training folders).
inline ForceProtocol parse_protocol(const std::string& text) {
    if (text == "seed") return ForceProtocol::seed;
    if (text == "textbook") return ForceProtocol::textbook;
    throw invalid_parameter("protocol", text, "must be 'seed' or 'textbook'");
}

/// The study's pVar of `actual` against `target` (units × steps) on the listed rows (all rows
/// when `all`): 1 − (Σ|R − r|)² / (Σ_i Σ_t |R_it − R̄_t|)², R̄_t the mean over those rows at step t.
template <class D1, class D2>
double seed_pvar(const Eigen::MatrixBase<D1>& target, const Eigen::MatrixBase<D2>& actual,
                 const std::vector<index_t>& rows = {}, bool all = true) {
    require(target.rows() == actual.rows() && target.cols() == actual.cols(), "actual",
            std::to_string(actual.rows()) + "x" + std::to_string(actual.cols()), "must have the shape of the target");
    std::vector<index_t> use;
    if (all)
        for (index_t i = 0; i < target.rows(); ++i) use.push_back(i);
    else
        use = rows;
    require(!use.empty() && target.cols() > 0, "target", "empty", "must have rows and steps");
    double nom = 0, den = 0;
    for (index_t t = 0; t < target.cols(); ++t) {
        double mean = 0;
        for (auto i : use) mean += double(target(i, t));
        mean /= double(use.size());
        for (auto i : use) {
            nom += std::abs(double(target(i, t)) - double(actual(i, t)));
            den += std::abs(double(target(i, t)) - mean);
        }
    }
    require(den > 0, "target", "the same value on every scored unit at every step",
            "must differ across units for the seed pVar to be defined");
    return 1.0 - (nom * nom) / (den * den);
}

/// The study's noise: `steps` values amplitude·√(1/(2τ))·ξ_k, ξ_k ~ N(0, 1) from `rng` (one
/// per step, drawn for every step as the study does), set to 0 outside `window`. Passed to
/// `BasicForceTrainer::test(c, noise)` (or added to every unit's input by hand) it is one
/// scalar per step shared by all units.
/// \code
/// neurodyn::Rng rng(seed, realisation, 0xB7);
/// auto noise = neurodyn::learn::shared_noise<double>(1.5, 10.0, T, epochs.steps("delay", grid), rng);
/// \endcode
template <Real T = double>
Vector<T> shared_noise(double amplitude, double tau, index_t steps, StepRange window, Rng& rng) {
    require_nonnegative("amplitude", amplitude);
    require_positive("tau", tau);
    require(steps >= 1, "steps", steps, "must be >= 1");
    require(window.first >= 0 && window.first <= window.last && window.last <= steps, "window",
            "[" + std::to_string(window.first) + ", " + std::to_string(window.last) + ")",
            "must lie in [0, " + std::to_string(steps) + "]");
    const double scale = amplitude * std::sqrt(1.0 / (2.0 * tau));
    Vector<T> out(steps);
    for (index_t k = 0; k < steps; ++k) {
        const double v = scale * rng.normal();
        out[k] = (k >= window.first && k < window.last) ? T(v) : T(0);
    }
    return out;
}

}  // namespace neurodyn::learn
