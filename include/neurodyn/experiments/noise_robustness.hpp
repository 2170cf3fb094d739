#pragma once
/// \file noise_robustness.hpp
/// Robustness of a FORCE-trained network (experiments/trained_rnn.hpp) to perturbations:
///
/// - **noise sweep**: trials with independent (or common) input noise of amplitude A, over the
///   whole trial or only the delay, for a list of A; per (window, A, condition) the mean pVar
///   against the target and the fraction of trials that keep the trained right/left separation;
/// - **photoinhibition**: during the first 600 ms of the delay, a negative drive to all units
///   (`drive`, the Photoinhibition hook) or a random fraction of units silenced (`silence`, the
///   Silencing hook), at several strengths; per (strength, mode, condition) the fraction of
///   trials that recover (keep the separation) rather than switch.
///
/// Trial k of a condition draws its noise from Rng(seed, k', purpose) with k' unique per
/// (level, condition, trial), so results do not depend on the thread count.
///
/// \code
/// auto judge = neurodyn::SeparationClassifier<double>::fit(task);
/// neurodyn::NoiseSweepOptions o;            // A = 0 … 4, 50 trials, both windows
/// auto rows = neurodyn::run_noise_sweep(task, judge, o);
/// \endcode
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "neurodyn/core/resources.hpp"
#include "neurodyn/experiments/trained_rnn.hpp"
#include "neurodyn/parallel/ensemble.hpp"
#include "neurodyn/perturb/photoinhibition.hpp"
#include "neurodyn/perturb/silencing.hpp"
#include "neurodyn/perturb/window_noise.hpp"

namespace neurodyn {

/// Outcome of a set of trials of one condition under one perturbation.
template <Real T = double>
struct PerturbedTrials {
    index_t condition = 0;
    std::vector<double> pvar;      ///< per trial, against the condition's target
    std::vector<double> endpoint;  ///< per trial, normalised CD endpoint (right 1, left 0)
    std::vector<std::uint8_t> correct;  ///< per trial: keeps the separation (not vector<bool>: written in parallel)
    Matrix<T> projection;          ///< trials × (steps / decimate): normalised CD projection

    double mean_pvar() const {
        double s = 0;
        for (double p : pvar) s += p;
        return pvar.empty() ? 0.0 : s / double(pvar.size());
    }
    double fraction_correct() const {
        long n = 0;
        for (auto c : correct) n += c;
        return correct.empty() ? 0.0 : double(n) / double(correct.size());
    }
};

/// Mean and SD (over trials, ddof 1; 0 for a single trial) of the normalised CD projection at
/// every kept time point, over the trials of a PerturbedTrials set that `keep(k)` selects
/// (e.g. the correct ones). n = 0 leaves mean and sd empty.
struct ProjectionSummary {
    long n = 0;
    std::vector<double> mean, sd;
};

/// \code
/// auto errors = neurodyn::projection_summary(trials, [&](long k) { return !trials.correct[k]; });
/// \endcode
template <Real T, class Keep>
ProjectionSummary projection_summary(const PerturbedTrials<T>& t, Keep&& keep) {
    ProjectionSummary s;
    const index_t cols = t.projection.cols();
    std::vector<double> sum(std::size_t(cols), 0.0), sq(std::size_t(cols), 0.0);
    // Two passes (mean, then squared deviations): no cancellation for the tight bands of
    // unperturbed trials.
    for (index_t k = 0; k < t.projection.rows(); ++k)
        if (keep(long(k))) {
            ++s.n;
            for (index_t j = 0; j < cols; ++j) sum[std::size_t(j)] += double(t.projection(k, j));
        }
    if (s.n == 0) return s;
    s.mean.resize(std::size_t(cols));
    for (index_t j = 0; j < cols; ++j) s.mean[std::size_t(j)] = sum[std::size_t(j)] / double(s.n);
    for (index_t k = 0; k < t.projection.rows(); ++k)
        if (keep(long(k)))
            for (index_t j = 0; j < cols; ++j) {
                const double d = double(t.projection(k, j)) - s.mean[std::size_t(j)];
                sq[std::size_t(j)] += d * d;
            }
    s.sd.resize(std::size_t(cols));
    for (index_t j = 0; j < cols; ++j) s.sd[std::size_t(j)] = s.n > 1 ? std::sqrt(sq[std::size_t(j)] / double(s.n - 1)) : 0.0;
    return s;
}

/// Refuse (invalid_parameter "trials") a trial count whose per-trial results — the projection
/// (steps / decimate values) and pVar, endpoint and outcome — cannot fit in memory, before
/// anything is allocated (`--trials 99999999999` was a bad_alloc).
inline void require_trial_memory(long trials, index_t steps, index_t decimate, std::size_t scalar_bytes) {
    require(trials >= 1, "trials", trials, "must be >= 1");
    require(steps >= 1 && decimate >= 1, "steps", steps, "must be >= 1 (with decimate >= 1)");
    const auto cols = std::uint64_t((steps + decimate - 1) / decimate);
    require_allocation("trials", trials, {std::uint64_t(trials), cols * scalar_bytes + 2 * sizeof(double) + 1}, 1);
}

/// Run `n` trials of condition c: `run_trial(k)` returns the rates (units × steps) of trial k;
/// every trial is judged with `judge` and its projection kept every `decimate` steps.
template <Real T, class Net, class RunTrial>
PerturbedTrials<T> judge_trials(const TrainedRnn<T, Net>& task, const SeparationClassifier<T>& judge, index_t c, long n,
                                RunTrial&& run_trial, index_t decimate = 10, int threads = 0) {
    require(n >= 1, "trials", n, "must be >= 1");
    require(decimate >= 1, "decimate", decimate, "must be >= 1");
    require_trial_memory(n, task.steps(), decimate, sizeof(T));
    PerturbedTrials<T> out;
    out.condition = c;
    out.pvar.resize(std::size_t(n));
    out.endpoint.resize(std::size_t(n));
    out.correct.resize(std::size_t(n));
    const index_t cols = (task.steps() + decimate - 1) / decimate;
    out.projection.resize(n, cols);
    for_each_trial(
        n, std::size_t(n),
        [&](long k, std::size_t) {
            const Matrix<T> r = run_trial(k);
            const auto i = std::size_t(k);
            out.pvar[i] = task.pvar_of(r, c);
            out.endpoint[i] = double(judge.endpoint(r));
            out.correct[i] = judge.correct(r, c);
            const Vector<T> p = judge.projection(r);
            for (index_t j = 0; j < cols; ++j) out.projection(index_t(k), j) = p[j * decimate];
        },
        [](long, std::size_t) {}, {.threads = threads});
    return out;
}

enum class NoiseWindow { whole, delay };
inline const char* to_string(NoiseWindow w) { return w == NoiseWindow::whole ? "whole" : "delay"; }

struct NoiseSweepOptions {
    std::vector<double> amplitudes = {0.0, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0};
    std::vector<NoiseWindow> windows = {NoiseWindow::whole, NoiseWindow::delay};
    NoiseSharing sharing = NoiseSharing::independent;
    long trials = 50;           ///< per (window, amplitude, condition)
    std::uint64_t seed = 1;
    int threads = 0;            ///< 0: OpenMP default
    /// Called after each (window, amplitude) with (levels done, total).
    std::function<void(long, long)> progress = {};

    /// Every check run_noise_sweep makes, before anything runs: call it before writing any
    /// output. `steps`: trial length of the task (for the memory check of `trials`).
    void validate(index_t steps) const {
        require(!amplitudes.empty(), "amplitudes", "an empty list", "needs at least one amplitude");
        for (double a : amplitudes) require_nonnegative("amplitude", a);
        require(!windows.empty(), "windows", "an empty list", "needs at least one window");
        require_thread_count("threads", threads);
        require_trial_memory(trials, steps, 10, sizeof(double));
    }
};

struct NoiseSweepRow {
    NoiseWindow window;
    double amplitude;
    index_t condition;
    long n_trials;
    double mean_pvar;
    double fraction_selective;  ///< fraction of trials that keep the right/left separation
};

/// The noise window of a task: the whole trial or its delay epoch.
inline TimeWindow noise_window(NoiseWindow w, const TaskEpochs& epochs) {
    if (w == NoiseWindow::whole) return TimeWindow::whole_trial();
    const auto& d = epochs["delay"];
    return TimeWindow{d.start_ms, d.end_ms};
}

/// Trials of condition c with input noise of amplitude A in `window`.
template <Real T, class Net>
PerturbedTrials<T> run_noisy_trials(const TrainedRnn<T, Net>& task, const SeparationClassifier<T>& judge, index_t c,
                                    double amplitude, NoiseWindow window, NoiseSharing sharing, long trials,
                                    std::uint64_t seed, long first_trial_index = 0, int threads = 0) {
    const TimeWindow w = noise_window(window, task.epochs);
    return judge_trials(task, judge, c, trials, [&](long k) {
        WindowNoise<T> noise({.amplitude = amplitude, .window = w, .sharing = sharing});
        return task.run(c, Trial{first_trial_index + k, seed}, noise);
    }, 10, threads);
}

/// The sweep of `options.amplitudes` × windows × conditions.
template <Real T, class Net>
std::vector<NoiseSweepRow> run_noise_sweep(const TrainedRnn<T, Net>& task, const SeparationClassifier<T>& judge,
                                           const NoiseSweepOptions& o) {
    o.validate(task.steps());
    std::vector<NoiseSweepRow> rows;
    long level = 0;
    const long levels = long(o.windows.size() * o.amplitudes.size());
    for (NoiseWindow w : o.windows)
        for (double a : o.amplitudes) {
            for (index_t c = 0; c < 2; ++c) {
                // Disjoint trial indices per (level, condition): independent noise everywhere.
                const long first = (level * 2 + c) * o.trials;
                const auto res = run_noisy_trials(task, judge, c, a, w, o.sharing, o.trials, o.seed, first, o.threads);
                rows.push_back({w, a, c, o.trials, res.mean_pvar(), res.fraction_correct()});
            }
            ++level;
            if (o.progress) o.progress(level, levels);
        }
    return rows;
}

/// The smallest amplitude at which `value(row)` of some condition falls below `threshold`
/// in the given window; NaN when it never does.
template <class Value>
double noise_threshold(const std::vector<NoiseSweepRow>& rows, NoiseWindow window, double threshold, Value&& value) {
    double best = std::numeric_limits<double>::quiet_NaN();
    for (const auto& r : rows)
        if (r.window == window && value(r) < threshold && !(r.amplitude >= best)) best = r.amplitude;
    return best;
}

/// The amplitude of the detailed run of the robustness protocol: the smallest amplitude at
/// which the fraction of trials keeping the separation in `window` falls below `threshold`
/// (noise_threshold on `fraction_selective`), or the largest amplitude swept when it never does.
/// \code
/// double a = neurodyn::chosen_noise_amplitude(rows, neurodyn::NoiseWindow::delay, 0.9);
/// \endcode
inline double chosen_noise_amplitude(const std::vector<NoiseSweepRow>& rows, NoiseWindow window, double threshold = 0.9) {
    require(!rows.empty(), "noise sweep rows", "none", "needs at least one row");
    const double a = noise_threshold(rows, window, threshold, [](const NoiseSweepRow& r) { return r.fraction_selective; });
    if (!std::isnan(a)) return a;
    double top = rows.front().amplitude;
    for (const auto& r : rows) top = std::max(top, r.amplitude);
    return top;
}

/// Both conditions at one noise level, `trials` each: right trials are Trial{k, seed}, left
/// trials Trial{trials + k, seed} (disjoint noise streams), as the detailed run of the
/// robustness protocol draws them.
/// \code
/// auto [right, left] = neurodyn::run_noisy_conditions(task, judge, 0.5, neurodyn::NoiseWindow::delay,
///                                                     neurodyn::NoiseSharing::independent, 500, seed);
/// \endcode
template <Real T, class Net>
std::array<PerturbedTrials<T>, 2> run_noisy_conditions(const TrainedRnn<T, Net>& task, const SeparationClassifier<T>& judge,
                                                       double amplitude, NoiseWindow window, NoiseSharing sharing,
                                                       long trials, std::uint64_t seed, int threads = 0) {
    require_nonnegative("amplitude", amplitude);
    return {run_noisy_trials(task, judge, 0, amplitude, window, sharing, trials, seed, 0, threads),
            run_noisy_trials(task, judge, 1, amplitude, window, sharing, trials, seed, trials, threads)};
}

enum class InhibitionMode { drive, silence };
inline const char* to_string(InhibitionMode m) { return m == InhibitionMode::drive ? "drive" : "silence"; }

struct PhotoinhibitionOptions {
    /// Negative drive added to every unit's input (input units), one level per value.
    std::vector<double> drive_strengths = {0.0, 1.0, 2.0, 4.0, 8.0};
    /// Fraction of units silenced (a new random set per trial).
    std::vector<double> silence_fractions = {0.0, 0.1, 0.2, 0.4, 0.6};
    double duration_ms = 600;       ///< from the start of the delay
    double background_noise = 0.2;  ///< independent input noise over the whole trial, so trials differ
    long trials = 50;
    std::uint64_t seed = 2;
    int threads = 0;
    std::function<void(long, long)> progress = {};

    /// Every check run_photoinhibition_sweep makes, before any trial runs (a bad silenced
    /// fraction used to surface only when its level came up): call it before writing any
    /// output. `steps`: trial length of the task (for the memory check of `trials`).
    void validate(index_t steps) const {
        for (double s : drive_strengths) require_nonnegative("drive strength", s);
        for (double f : silence_fractions)
            require(f >= 0 && f <= 1, "silenced fraction", f, "must be in [0, 1]");
        require_positive("duration_ms", duration_ms);
        require_nonnegative("background_noise", background_noise);
        require_thread_count("threads", threads);
        require_trial_memory(trials, steps, 10, sizeof(double));
    }
};

struct PhotoinhibitionRow {
    double strength;
    InhibitionMode mode;
    index_t condition;
    long n_trials;
    double fraction_correct;  ///< recovered: the separation is kept at the end of the delay
};

/// Trials of condition c photoinhibited at one strength (drive) or silenced fraction (silence).
template <Real T, class Net>
PerturbedTrials<T> run_photoinhibited_trials(const TrainedRnn<T, Net>& task, const SeparationClassifier<T>& judge, index_t c,
                                             InhibitionMode mode, double strength, const PhotoinhibitionOptions& o,
                                             long first_trial_index = 0) {
    require_positive("duration_ms", o.duration_ms);
    const auto& d = task.epochs["delay"];
    const TimeWindow light{d.start_ms, std::min(d.end_ms, d.start_ms + o.duration_ms)};
    const index_t n = task.units();
    const T x_off = T(silent_state(task.network, task.silent_rate()));  // 1e-3 for the logistic
    return judge_trials(task, judge, c, o.trials, [&](long k) {
        const long index = first_trial_index + k;
        WindowNoise<T> noise({.amplitude = o.background_noise, .window = TimeWindow::whole_trial()});
        if (mode == InhibitionMode::drive) {
            require_nonnegative("drive strength", strength);
            // The light's drive is −1 per unit of strength on every unit (one "hemisphere").
            Photoinhibition<T> light_on(Vector<T>::Constant(n, T(-1)), std::vector<int>(std::size_t(n), 1),
                                        PhotoinhibitionSide::bilateral, strength, light.start_ms, light.end_ms);
            return task.run(c, Trial{index, o.seed}, noise, light_on);
        }
        require(strength >= 0 && strength <= 1, "silenced fraction", strength, "must be in [0, 1]");
        Rng pick(o.seed, std::uint64_t(index), 0x51);  // the silenced set of this trial
        Silencing<T> off(n, random_units(n, strength, pick), x_off, light);
        return task.run(c, Trial{index, o.seed}, noise, off);
    }, 10, o.threads);
}

/// Both modes at every strength, both conditions. `visit(mode, strength, trials)` sees every
/// level's PerturbedTrials (endpoints, projections) before they are dropped, in sweep order.
/// \code
/// auto rows = neurodyn::run_photoinhibition_sweep(task, judge, o,
///     [&](neurodyn::InhibitionMode m, double s, const neurodyn::PerturbedTrials<double>& t) { keep(m, s, t); });
/// \endcode
template <Real T, class Net, class Visit>
std::vector<PhotoinhibitionRow> run_photoinhibition_sweep(const TrainedRnn<T, Net>& task,
                                                          const SeparationClassifier<T>& judge,
                                                          const PhotoinhibitionOptions& o, Visit&& visit) {
    static_assert(std::is_invocable_v<Visit&, InhibitionMode, double, const PerturbedTrials<T>&>,
                  "run_photoinhibition_sweep: visit must be callable as visit(InhibitionMode, double strength, "
                  "const PerturbedTrials<T>&)");
    o.validate(task.steps());
    std::vector<PhotoinhibitionRow> rows;
    long level = 0;
    const long levels = long(o.drive_strengths.size() + o.silence_fractions.size());
    for (InhibitionMode mode : {InhibitionMode::drive, InhibitionMode::silence}) {
        const auto& strengths = mode == InhibitionMode::drive ? o.drive_strengths : o.silence_fractions;
        for (double s : strengths) {
            for (index_t c = 0; c < 2; ++c) {
                const auto res = run_photoinhibited_trials(task, judge, c, mode, s, o, (level * 2 + c) * o.trials);
                rows.push_back({s, mode, c, o.trials, res.fraction_correct()});
                visit(mode, s, res);
            }
            ++level;
            if (o.progress) o.progress(level, levels);
        }
    }
    return rows;
}

/// Both modes at every strength, both conditions.
template <Real T, class Net>
std::vector<PhotoinhibitionRow> run_photoinhibition_sweep(const TrainedRnn<T, Net>& task,
                                                          const SeparationClassifier<T>& judge,
                                                          const PhotoinhibitionOptions& o) {
    return run_photoinhibition_sweep(task, judge, o, [](InhibitionMode, double, const PerturbedTrials<T>&) {});
}

}  // namespace neurodyn
