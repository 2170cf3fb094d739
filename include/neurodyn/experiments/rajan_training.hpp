#pragma once
/// \file rajan_training.hpp
/// The Rajan, Harvey & Tank (2016)-style protocol: train K random realisations of a chaotic
/// logistic rate network (one unit per recorded neuron, all synapses plastic) on trial-averaged
/// right/left rates, and keep the realisations whose delay-epoch selectivity agrees with the
/// targets' for more than half of the selective neurons.
///
/// - Targets: rates (2, neurons, steps) in Hz or any unit, index 0 right, 1 left, 1-ms steps;
///   they are normalised jointly to (0, 1) (`normalise_jointly`).
/// - `suppressed` variant: each delay-selective neuron's rate is set to 0 in its non-preferred
///   trial type (the whole trial) before normalisation.
/// - Realisation k draws J ~ N(0, g²/N) from Rng(seed, k, 0xA1) and its frozen OU inputs from
///   seed·1000003 + k, so realisations are independent and each is reproducible on its own.
/// - Delay selectivity of a neuron: the sign of mean(right) − mean(left) over the delay epoch;
///   a neuron counts as selective when |R − L| / (R + L) ≥ `selectivity_threshold` (delay means
///   of the raw target rates, which must then be ≥ 0). Network preferences use the same
///   sign on the network's test rates.
///
/// \code
/// auto t = neurodyn::synthetic_targets({});
/// neurodyn::RajanOptions o;
/// o.realizations = 2;
/// auto runs = neurodyn::rajan_training(t.rates, t.epochs, o);
/// \endcode
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/inputs/frozen_ou.hpp"
#include "neurodyn/learn/force_trainer.hpp"

namespace neurodyn {

enum class TargetVariant { raw, suppressed };

struct RajanOptions {
    index_t realizations = 10;
    int max_iterations = 50;
    double g = 1.2;
    double tau = 10.0;  ///< ms
    double dt = 1.0;    ///< ms, one target column per step
    FrozenOu inputs{1000.0, 10.0};
    std::vector<std::string> shared_epochs{"presample", "delay"};
    std::string delay_epoch = "delay";
    double pvar_threshold = 0.85;
    double alpha = 1.0;
    index_t train_every = 1;
    double selectivity_threshold = 0.1;
    double agreement_required = 0.5;  ///< keep a realisation above this agreement
    TargetVariant variant = TargetVariant::raw;
    std::uint64_t seed = 1;
    bool progress = true;  ///< one line per finished realisation on stderr
    /// If set, realisation k checkpoints to <dir>/realization_<k>.ckpt after every iteration
    /// and resumes from that file when it exists (an interrupted run continues exactly).
    std::filesystem::path checkpoint_dir;

    void validate() const {
        require(realizations >= 1, "realizations", realizations, "must be >= 1");
        require(max_iterations >= 1, "max_iterations", max_iterations, "must be >= 1");
        require_nonnegative("g", g);
        require_positive("tau", tau);
        require_positive("dt", dt);
        require_nonnegative("selectivity_threshold", selectivity_threshold);
        require(agreement_required >= 0 && agreement_required < 1, "agreement_required", agreement_required,
                "must be in [0, 1)");
    }
};

/// Delay preference per neuron: +1 right, −1 left, 0 not selective (|R−L|/(R+L) < threshold).
/// With threshold 0 only the sign counts (for network rates in (0, 1)).
template <class T>
std::vector<int> delay_preference(const xt::xtensor<T, 3>& rates, StepRange delay, double threshold) {
    require(rates.shape()[0] == 2, "rates", rates.shape()[0], "must have 2 conditions (right, left)");
    require(delay.first >= 0 && delay.last <= std::ptrdiff_t(rates.shape()[2]) && delay.size() > 0, "delay",
            "[" + std::to_string(delay.first) + ", " + std::to_string(delay.last) + ")",
            "must be a non-empty step range inside the trial");
    std::vector<int> pref(rates.shape()[1], 0);
    for (std::size_t i = 0; i < pref.size(); ++i) {
        double r = 0, l = 0;
        for (auto k = delay.first; k < delay.last; ++k) {
            r += double(rates(0, i, std::size_t(k)));
            l += double(rates(1, i, std::size_t(k)));
        }
        r /= double(delay.size());
        l /= double(delay.size());
        const double d = r - l;
        const bool selective = threshold <= 0 ? d != 0 : (r + l > 0 && std::abs(d) / (r + l) >= threshold);
        pref[i] = selective ? (d > 0 ? 1 : -1) : 0;
    }
    return pref;
}

/// The suppressed variant: rates of each selective neuron set to 0 in its non-preferred condition.
template <class T>
xt::xtensor<T, 3> suppress_nonpreferred(xt::xtensor<T, 3> rates, const std::vector<int>& pref) {
    require(pref.size() == rates.shape()[1], "preferences", pref.size(), "must have one entry per neuron");
    for (std::size_t i = 0; i < pref.size(); ++i) {
        if (pref[i] == 0) continue;
        const std::size_t other = pref[i] > 0 ? 1 : 0;
        xt::view(rates, other, i, xt::all()) = T(0);
    }
    return rates;
}

/// One trained realisation.
struct RealizationResult {
    index_t realization = 0;
    bool converged = false;
    int iterations = 0;
    std::vector<std::vector<double>> pvar;  ///< [iteration][condition]
    Matrix<double> J_initial, J_trained;
    xt::xtensor<double, 3> rates;           ///< network test rates (2, N, steps) after training
    std::vector<int> target_preference, network_preference;
    double agreement = 0;                   ///< fraction of selective neurons whose sign agrees
    bool kept = false;
    double seconds = 0;
};

/// Everything the protocol produced.
struct RajanResult {
    xt::xtensor<double, 3> targets;  ///< normalised (0, 1) targets actually trained on
    std::vector<int> target_preference;
    std::vector<RealizationResult> runs;
};

/// Run the protocol (realisations in parallel with OpenMP; each is deterministic on its own).
inline RajanResult rajan_training(const xt::xtensor<double, 3>& rates, const TaskEpochs& epochs,
                                  const RajanOptions& o) {
    o.validate();
    require(rates.shape()[0] == 2, "targets", "shape with " + std::to_string(rates.shape()[0]) + " conditions",
            "must be (2, neurons, steps): index 0 right, 1 left");
    const auto N = index_t(rates.shape()[1]);
    const auto K = index_t(rates.shape()[2]);
    const TimeGrid grid(o.dt, K);
    const StepRange delay = epochs.steps(o.delay_epoch, grid);
    RajanResult out;
    out.target_preference = delay_preference(rates, delay, o.selectivity_threshold);
    const auto trained_rates =
        o.variant == TargetVariant::suppressed ? suppress_nonpreferred(rates, out.target_preference) : rates;
    out.targets = normalise_jointly(trained_rates);
    out.runs.resize(std::size_t(o.realizations));
    std::exception_ptr failure;
    std::mutex io;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (index_t k = 0; k < o.realizations; ++k) {
        try {
            const auto t0 = std::chrono::steady_clock::now();
            Rng rng(o.seed, std::uint64_t(k), 0xA1);
            auto net = RateNetwork<Logistic<double>, double>::random(N, o.g, o.tau, rng);
            const auto h = o.inputs.generate<double>(N, 2, grid, epochs, o.shared_epochs,
                                                      o.seed * 1000003ULL + std::uint64_t(k));
            learn::ForceOptions fo;
            fo.alpha = o.alpha;
            fo.train_every = o.train_every;
            fo.dt = o.dt;
            fo.pvar_threshold = o.pvar_threshold;
            fo.max_iterations = o.max_iterations;
            fo.progress = learn::Progress::off;
            if (!o.checkpoint_dir.empty())
                fo.checkpoint = o.checkpoint_dir / ("realization_" + std::to_string(k) + ".ckpt");
            learn::ForceTrainer trainer(net, out.targets, h, fo);
            if (!fo.checkpoint.empty() && std::filesystem::exists(fo.checkpoint)) trainer.resume(fo.checkpoint);
            RealizationResult& r = out.runs[std::size_t(k)];
            r.realization = k;
            r.J_initial = net.weights();
            const auto res = trainer.train();
            r.converged = res.converged;
            r.iterations = res.iterations;
            r.pvar = res.pvar;
            r.J_trained = trainer.network().weights();
            r.rates = xt::xtensor<double, 3>::from_shape({2, std::size_t(N), std::size_t(K)});
            for (index_t c = 0; c < 2; ++c) {
                const Matrix<double>& x = trainer.test(c);
                for (index_t i = 0; i < N; ++i)
                    for (index_t s = 0; s < K; ++s) r.rates(std::size_t(c), std::size_t(i), std::size_t(s)) = x(i, s);
            }
            r.target_preference = out.target_preference;
            r.network_preference = delay_preference(r.rates, delay, 0.0);
            int sel = 0, agree = 0;
            for (std::size_t i = 0; i < r.target_preference.size(); ++i) {
                if (r.target_preference[i] == 0) continue;
                ++sel;
                agree += r.network_preference[i] == r.target_preference[i];
            }
            r.agreement = sel > 0 ? double(agree) / sel : 0.0;
            r.kept = r.agreement > o.agreement_required;
            r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (o.progress) {
                std::lock_guard<std::mutex> lock(io);
                std::fprintf(stderr, "realisation %ld: %s after %d iterations, pVar right %.3f left %.3f, "
                                     "delay selectivity agrees for %.0f%% (%s), %.1f s\n",
                             long(k), r.converged ? "converged" : "not converged", r.iterations,
                             r.pvar.empty() ? NAN : r.pvar.back()[0], r.pvar.empty() ? NAN : r.pvar.back()[1],
                             100 * r.agreement, r.kept ? "kept" : "dropped", r.seconds);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(io);
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
    return out;
}

}  // namespace neurodyn
