#pragma once
/// \file delayed_response.hpp
/// One delayed-response protocol with photoinhibition, for any model: the model is a *policy*
/// that simulates a group of trials; the protocol owns everything else —
///
///  - trial enumeration: every PV level × trial type (right, left) × N trials; trial k of
///    (level p, type y) has global index g = (p·2 + y)·N + k, its stimulus amplitude is drawn
///    from Rng(seed, g, 1) and the policy keys its own streams by (seed, g, purpose), so any
///    thread count and any grouping of trials into lanes gives the same numbers;
///  - reduction in trial order: fraction correct per (level, type); correct on right trials
///    when x₁ > x₂ at the readout, on left trials when x₁ < x₂ (x = the two read-out
///    variables, e.g. the rates of populations 1 and 2);
///  - the coding direction (CD): the unit vector along the mean over the CD window of
///    x̄_R − x̄_L on unperturbed correct trials; projections normalised so that the median
///    window endpoint of unperturbed correct right trials is 1 and of left trials 0;
///  - mean ± sd of the normalised projection over time per (level, type, outcome), from
///    per-record moment sums (no per-trial trajectories kept).
///
/// Samples: the policy reports the read-out pair at sample indices s = 0 … samples() − 1 (time
/// s·sample_ms()); records are taken every `record_every` samples, the readout at
/// readout_sample(), the CD window is [readout − window_samples(), readout].
///
/// A policy provides:
/// \code
/// struct MyPolicy {
///     static constexpr int lanes = 8;                       // trials simulated together
///     long samples() const;  long readout_sample() const;  long window_samples() const;
///     double sample_ms() const;
///     neurodyn::StimulusAmplitude stimulus_amplitude() const;
///     // Simulate lanes trials (spec[b].index = global index of lane b; sink.wants(s) says
///     // which samples are needed, sink.put(s, b, x1, x2, aux) receives them).
///     template <class Sink>
///     neurodyn::AdaptiveStats run(const std::array<neurodyn::DelayedResponseSpec, lanes>& spec,
///                                 std::uint64_t seed, Sink& sink) const;
/// };
/// auto res = neurodyn::run_delayed_response(MyPolicy{...}, {.trials_per_type = 500});
/// \endcode
/// The discrete attractors (inagaki2019_task.hpp), the continuous attractor
/// (continuous_attractor_task.hpp) and user models (tests/test_tutorial.cpp) are such policies.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/inputs/pulses.hpp"
#include "neurodyn/integrate/dormand_prince.hpp"
#include "neurodyn/parallel/ensemble.hpp"

namespace neurodyn {

/// Right ("contra") and left ("ipsi") trials.
enum class TrialType { right = 0, left = 1 };

inline std::string_view to_string(TrialType t) noexcept { return t == TrialType::right ? "right" : "left"; }

/// What distinguishes one trial from another.
struct DelayedResponseSpec {
    long index = 0;                    ///< global trial index (keys the trial's random streams)
    TrialType type = TrialType::right;
    double pv = 0;                     ///< photoinhibition strength (0: unperturbed)
    double stim_amp = 0;               ///< this trial's stimulus amplitude
};

/// Options of run_delayed_response.
struct DelayedResponseOptions {
    long trials_per_type = 500;          ///< N trials per trial type and PV level
    std::uint64_t seed = 1;
    std::vector<double> pv_levels = {};  ///< must contain 0 (the unperturbed level)
    int threads = 0;                     ///< 0: OpenMP default
    long record_every = 10;              ///< samples between recorded CD projections
    bool record_projections = true;      ///< accumulate CD projections over time
    bool keep_trials = true;             ///< keep per-trial outcomes
    std::size_t batch = 256;             ///< trials in flight (bounds memory)
    std::function<void(long, long)> progress = {};
};
/// The protocol fields of a task's own options struct (same names: trials_per_type, seed,
/// pv_levels, threads, record_every, record_projections, keep_trials, batch, progress).
template <class TaskOptions>
DelayedResponseOptions delayed_response_options(const TaskOptions& t) {
    DelayedResponseOptions o;
    o.trials_per_type = t.trials_per_type;
    o.seed = t.seed;
    o.pv_levels = t.pv_levels;
    o.threads = t.threads;
    o.record_every = t.record_every;
    o.record_projections = t.record_projections;
    o.keep_trials = t.keep_trials;
    o.batch = t.batch;
    o.progress = t.progress;
    return o;
}


/// One trial's outcome.
struct DelayedResponseTrial {
    int pv_index = 0;
    TrialType type = TrialType::right;
    long trial = 0;                 ///< index within (pv, type)
    bool correct = false;
    double stim_amp = 0;
    std::array<double, 2> end{};    ///< the read-out pair at the readout sample
    std::array<double, 2> window{}; ///< the read-out pair averaged over the CD window
    double aux_end = 0;             ///< a third read-out at the readout, if the policy has one (h_I)
    double endpoint = 0;            ///< normalised CD projection of `end`
    double endpoint_window = 0;     ///< normalised CD projection of `window` (the authors' endpoint)
};

/// Mean and sd over trials of the normalised CD projection, at the record times.
struct DelayedResponseProjection {
    long n = 0;
    std::vector<double> mean, sd;
};

/// Fractions of trials per endpoint bin.
struct EndpointHistogram {
    std::vector<double> centre;    ///< bin centres
    std::vector<double> fraction;  ///< count / trials of that type and level
};

/// The result of the protocol, for any policy.
struct DelayedResponseResult {
    std::vector<double> pv_levels;
    long trials_per_type = 0;
    std::uint64_t seed = 0;
    std::vector<long> n_correct;                 ///< [pv_index·2 + type]
    std::vector<DelayedResponseTrial> trials;    ///< when keep_trials, in global-index order
    Vector<double> coding_direction;             ///< unit vector over the read-out pair
    double offset = 0, scale = 1;                ///< normalised = (CD·x − offset)/scale
    std::vector<double> time_ms;                 ///< record times
    std::vector<DelayedResponseProjection> projections;  ///< [(pv_index·2 + type)·2 + (correct ? 0 : 1)]
    AdaptiveStats integration;                   ///< summed over trials (adaptive policies)

    long correct(std::size_t pv_index, TrialType t) const { return n_correct.at(pv_index * 2 + std::size_t(t)); }
    double fraction_correct(std::size_t pv_index, TrialType t) const {
        return double(correct(pv_index, t)) / double(trials_per_type);
    }
    /// Both trial types together.
    double fraction_correct(std::size_t pv_index) const {
        return double(correct(pv_index, TrialType::right) + correct(pv_index, TrialType::left)) /
               double(2 * trials_per_type);
    }
    const DelayedResponseProjection& projection(std::size_t pv_index, TrialType t, bool correct_trials) const {
        return projections.at((pv_index * 2 + std::size_t(t)) * 2 + (correct_trials ? 0 : 1));
    }
    /// Normalised projection of a read-out pair onto the CD.
    double normalise(double x1, double x2) const {
        return (coding_direction[0] * x1 + coding_direction[1] * x2 - offset) / scale;
    }
    /// Histogram of the normalised endpoints (at the readout) of one level and trial type: bins
    /// of width `width` centred on lo, lo + width, …, hi; fractions of all trials of that type
    /// (so correct-only fractions sum to the fraction correct). Needs keep_trials.
    EndpointHistogram endpoint_histogram(std::size_t pv_index, TrialType t, bool correct_only = true,
                                         double lo = -1.4, double hi = 2.5, double width = 0.1) const {
        require(!trials.empty(), "keep_trials", "false", "must be true to histogram endpoints");
        require(pv_index < pv_levels.size(), "pv_index", pv_index, "must be < the number of PV levels");
        require_positive("width", width);
        require(hi >= lo, "hi", hi, "must be >= lo");
        const auto bins = std::size_t(std::lround((hi - lo) / width)) + 1;
        EndpointHistogram h;
        h.centre.resize(bins);
        h.fraction.assign(bins, 0.0);
        for (std::size_t b = 0; b < bins; ++b) h.centre[b] = lo + width * double(b);
        for (const auto& tr : trials) {
            if (std::size_t(tr.pv_index) != pv_index || tr.type != t || (correct_only && !tr.correct)) continue;
            const double x = std::round((tr.endpoint - lo) / width);
            if (x < 0 || x >= double(bins)) continue;  // outside the plotted range, as histcounts
            h.fraction[std::size_t(x)] += 1.0 / double(trials_per_type);
        }
        return h;
    }
};

/// Add one trial's recorded pairs (2 numbers per record) to the per-record sums of
/// (x₁, x₂, x₁², x₂², x₁x₂) that summarise_projections reads.
inline void accumulate_moments(std::vector<double>& sums, const double* r, long n_rec) {
    double* m = sums.data();
    for (long j = 0; j < n_rec; ++j) {
        const double a = r[2 * j], b = r[2 * j + 1];
        m[5 * j] += a;
        m[5 * j + 1] += b;
        m[5 * j + 2] += a * a;
        m[5 * j + 3] += b * b;
        m[5 * j + 4] += a * b;
    }
}

/// Mean ± sd over time of the normalised CD projection of each trial group, from per-record
/// sums over the group's trials of (x₁, x₂, x₁², x₂², x₁x₂) (5 numbers per record):
/// mean = CD·E[x], var = CDᵀ Cov(x) CD, then the affine normalisation (x − offset)/scale.
inline std::vector<DelayedResponseProjection> summarise_projections(const std::vector<std::vector<double>>& moments,
                                                            const std::vector<long>& group_n, long n_rec, double c1,
                                                            double c2, double offset, double scale) {
    std::vector<DelayedResponseProjection> out(moments.size());
    for (std::size_t gi = 0; gi < moments.size(); ++gi) {
        auto& pr = out[gi];
        pr.n = group_n[gi];
        if (n_rec == 0 || pr.n == 0) continue;
        pr.mean.resize(std::size_t(n_rec));
        pr.sd.resize(std::size_t(n_rec));
        const double n = double(pr.n);
        for (long j = 0; j < n_rec; ++j) {
            const double* m = &moments[gi][std::size_t(5 * j)];
            const double m1 = m[0] / n, m2 = m[1] / n;
            double var = 0;
            if (pr.n > 1) {
                const double v11 = (m[2] - n * m1 * m1) / (n - 1), v22 = (m[3] - n * m2 * m2) / (n - 1),
                             v12 = (m[4] - n * m1 * m2) / (n - 1);
                var = std::max(0.0, c1 * c1 * v11 + c2 * c2 * v22 + 2 * c1 * c2 * v12);
            }
            pr.mean[std::size_t(j)] = (c1 * m1 + c2 * m2 - offset) / scale;
            pr.sd[std::size_t(j)] = std::sqrt(var) / std::abs(scale);
        }
    }
    return out;
}

namespace detail {
/// Receives a group's samples: the recorded pairs, the CD-window sums and the readout.
struct DelayedResponseSink {
    long every = 1, n_rec = 0, s_w0 = 0, s_end = 0;
    double* traj[64] = {};               ///< per lane: n_rec × 2
    double w1[64] = {}, w2[64] = {};
    DelayedResponseTrial* t[64] = {};

    bool wants(long s) const noexcept { return (n_rec > 0 && s % every == 0 && s / every < n_rec) || (s >= s_w0 && s <= s_end); }
    void put(long s, int b, double x1, double x2, double aux = 0) noexcept {
        if (n_rec > 0 && s % every == 0 && s / every < n_rec) {
            traj[b][2 * (s / every)] = x1;
            traj[b][2 * (s / every) + 1] = x2;
        }
        if (s >= s_w0 && s <= s_end) {
            w1[b] += x1;
            w2[b] += x2;
            if (s == s_end) {
                t[b]->end = {x1, x2};
                t[b]->aux_end = aux;
            }
        }
    }
};
}  // namespace detail

/// Run the protocol of the file comment with `policy`. Throws invalid_parameter for bad
/// options (naming them; sizes are checked before anything is allocated), numerical_error
/// when a trial diverges (its step and trial) or no unperturbed trial is correct.
template <class Policy>
DelayedResponseResult run_delayed_response(const Policy& policy, const DelayedResponseOptions& opt) {
    constexpr int L = Policy::lanes;
    static_assert(L >= 1 && L <= 64, "neurodyn::run_delayed_response: Policy::lanes must be in [1, 64]");
    require(opt.trials_per_type >= 1, "trials_per_type", opt.trials_per_type, "must be >= 1");
    require(opt.record_every >= 1, "record_every", opt.record_every, "must be >= 1");
    require(opt.batch >= 1, "batch", opt.batch, "must be >= 1");
    require(!opt.pv_levels.empty(), "pv_levels", "{}", "must not be empty");
    const int threads = ensemble_threads(opt.threads);  // validates the count
    (void)threads;
    DelayedResponseResult res;
    res.pv_levels = opt.pv_levels;
    res.trials_per_type = opt.trials_per_type;
    res.seed = opt.seed;
    std::size_t p0 = res.pv_levels.size();
    for (std::size_t p = 0; p < res.pv_levels.size(); ++p) {
        require(std::isfinite(res.pv_levels[p]) && res.pv_levels[p] >= 0, "pv_levels", res.pv_levels[p],
                "must be finite and >= 0");
        if (res.pv_levels[p] == 0 && p0 == res.pv_levels.size()) p0 = p;
    }
    require(p0 < res.pv_levels.size(), "pv_levels", "no 0 level",
            "must include 0: unperturbed trials define the coding direction");

    const std::size_t n_pv = res.pv_levels.size();
    const long N = opt.trials_per_type;
    require(N <= std::numeric_limits<long>::max() / long(2 * n_pv) - L, "trials_per_type", N,
            "is too large: the trial count overflows");
    const long n_total = long(n_pv) * 2 * N;
    const long e = opt.record_every;
    const long n_samples = policy.samples();
    const long n_rec = opt.record_projections ? (n_samples - 1) / e + 1 : 0;
    const long s_end = policy.readout_sample(), s_w0 = s_end - policy.window_samples();
    require(s_end >= 0 && s_end < n_samples && s_w0 >= 0, "readout sample", s_end,
            "must lie in the trial with its whole CD window");
    const StimulusAmplitude amplitude = policy.stimulus_amplitude();
    amplitude.validate();

    // Sizes before allocating: kept trials, per-slot trajectories, per-group moments.
    const long n_groups = (n_total + L - 1) / L;
    const std::size_t group_batch = std::max<std::size_t>(1, opt.batch / std::size_t(L));
    if (opt.keep_trials)
        require_allocation("trials_per_type", N, {std::uint64_t(n_total)}, sizeof(DelayedResponseTrial));
    require_allocation("batch", opt.batch, {std::uint64_t(group_batch), std::uint64_t(L), std::uint64_t(2 * n_rec)},
                       sizeof(double));
    require_allocation("record_every", e, {std::uint64_t(n_pv * 4), std::uint64_t(5 * n_rec)}, sizeof(double));

    struct Slot {
        std::array<std::vector<double>, L> traj;  // n_rec × 2 per lane
        std::array<DelayedResponseTrial, L> t;
        AdaptiveStats stats;
    };
    std::vector<Slot> slots(group_batch);
    for (auto& s : slots)
        for (auto& tr : s.traj) tr.assign(std::size_t(2 * n_rec), 0.0);

    std::vector<std::vector<double>> moments(n_pv * 4, std::vector<double>(std::size_t(5 * n_rec), 0.0));
    std::vector<long> group_n(n_pv * 4, 0);
    res.n_correct.assign(n_pv * 2, 0);
    std::array<std::array<double, 2>, 2> window_sum{};
    std::array<std::vector<std::array<double, 2>>, 2> unperturbed_windows;
    if (opt.keep_trials) res.trials.reserve(std::size_t(n_total));

    auto simulate_group = [&](long group, std::size_t slot) {
        Slot& s = slots[slot];
        std::array<DelayedResponseSpec, L> spec;
        detail::DelayedResponseSink sink;
        sink.every = e;
        sink.n_rec = n_rec;
        sink.s_w0 = s_w0;
        sink.s_end = s_end;
        for (int b = 0; b < L; ++b) {
            const long g = group * L + b;
            // Lanes past the last trial simulate a copy of it under their own index; discarded.
            const long gc = std::min(g, n_total - 1);
            const long cell = gc / N;
            DelayedResponseTrial& t = s.t[std::size_t(b)];
            t = DelayedResponseTrial{};
            t.pv_index = int(cell / 2);
            t.type = TrialType(cell % 2);
            t.trial = gc % N;
            Rng stim = trial_rng(opt.seed, gc, 1);
            t.stim_amp = amplitude.draw(stim);
            spec[std::size_t(b)] = {g, t.type, res.pv_levels[std::size_t(t.pv_index)], t.stim_amp};
            sink.traj[b] = s.traj[std::size_t(b)].data();
            sink.t[b] = &t;
        }
        s.stats = policy.run(spec, opt.seed, sink);
        const double nw = double(s_end - s_w0 + 1);
        for (int b = 0; b < L; ++b) {
            DelayedResponseTrial& t = s.t[std::size_t(b)];
            t.window = {sink.w1[b] / nw, sink.w2[b] / nw};
            t.correct = t.type == TrialType::right ? t.end[0] > t.end[1] : t.end[0] < t.end[1];
        }
    };

    auto reduce_group = [&](long group, std::size_t slot) {
        const Slot& s = slots[slot];
        res.integration.accepted += s.stats.accepted;
        res.integration.rejected += s.stats.rejected;
        res.integration.evaluations += s.stats.evaluations;
        for (int b = 0; b < L && group * L + b < n_total; ++b) {
            const DelayedResponseTrial& t = s.t[std::size_t(b)];
            const auto p = std::size_t(t.pv_index);
            const auto y = std::size_t(t.type);
            if (t.correct) ++res.n_correct[p * 2 + y];
            if (p == p0 && t.correct) {
                window_sum[y][0] += t.window[0];
                window_sum[y][1] += t.window[1];
                unperturbed_windows[y].push_back(t.window);
            }
            const std::size_t gi = (p * 2 + y) * 2 + (t.correct ? 0 : 1);
            ++group_n[gi];
            accumulate_moments(moments[gi], s.traj[std::size_t(b)].data(), n_rec);
            if (opt.keep_trials) res.trials.push_back(t);
        }
    };

    EnsembleOptions eo;
    eo.threads = opt.threads;
    if (opt.progress) eo.progress = [&](long done, long) { opt.progress(std::min(done * L, n_total), n_total); };
    for_each_trial(n_groups, group_batch, simulate_group, reduce_group, eo);

    // Coding direction from unperturbed correct trials, normalised by the medians.
    const std::array<std::size_t, 2> n_unp{unperturbed_windows[0].size(), unperturbed_windows[1].size()};
    if (n_unp[0] == 0 || n_unp[1] == 0)
        throw numerical_error("no correct unperturbed " + std::string(n_unp[0] == 0 ? "right" : "left") +
                                  " trial: the coding direction is undefined",
                              s_end, -1);
    Vector<double> d(2);
    for (std::size_t i = 0; i < 2; ++i)
        d[index_t(i)] = window_sum[0][i] / double(n_unp[0]) - window_sum[1][i] / double(n_unp[1]);
    auto cd = CodingDirection<double>::from_weights(d, StepRange{s_w0, s_end + 1});
    res.coding_direction = cd.weights();
    std::array<Vector<double>, 2> raw;
    for (std::size_t y = 0; y < 2; ++y) {
        raw[y].resize(index_t(n_unp[y]));
        for (std::size_t k = 0; k < n_unp[y]; ++k)
            raw[y][index_t(k)] = res.coding_direction[0] * unperturbed_windows[y][k][0] +
                                 res.coding_direction[1] * unperturbed_windows[y][k][1];
    }
    cd.normalise(raw[0], raw[1]);
    res.offset = cd.offset();
    res.scale = cd.scale();
    for (auto& t : res.trials) {
        t.endpoint = res.normalise(t.end[0], t.end[1]);
        t.endpoint_window = res.normalise(t.window[0], t.window[1]);
    }

    res.time_ms.resize(std::size_t(n_rec));
    for (long j = 0; j < n_rec; ++j) res.time_ms[std::size_t(j)] = double(j * e) * policy.sample_ms();
    res.projections = summarise_projections(moments, group_n, n_rec, res.coding_direction[0],
                                            res.coding_direction[1], res.offset, res.scale);
    return res;
}

}  // namespace neurodyn
