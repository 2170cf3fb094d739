#pragma once
/// \file session_analysis.hpp
/// The session-analysis protocol of Inagaki et al. (2019) on one ALM recording (a `Session`,
/// real or synthetic), in one call:
///
/// 1. **delay selectivity** of every unit: mean rate in [delay onset, go cue) on correct
///    control trials, right vs left, two-sided rank-sum test (analysis/selectivity.hpp);
/// 2. **single-trial PSTHs** of every analysed trial (control first, then photoinhibited),
///    cue-aligned and kept every `stride` bins (analysis/psth.hpp);
/// 3. **coding direction**: correct control trials of each type split in half at random
///    (`Rng(seed, 0, 11)`, right first); CD = (r̄_R − r̄_L)/‖·‖ fitted on the training halves
///    over the last `window_ms` before the go cue, normalised so the median endpoint of the
///    held-out right trials is 1 and of the held-out left trials 0 (analysis/coding_direction.hpp);
/// 4. **endpoints and projections** of every analysed trial not used for the fit, and the
///    mean ± sem of the projections per group (trial type, outcome, photostim level), the
///    photoinhibited trials also pooled over outcomes;
/// 5. **across-trial variability** (SD, ddof 1) of the selective units on correct control
///    trials of each type (analysis/variability.hpp);
/// 6. **FORCE targets**: trial-averaged PSTHs of correct control trials at the session's bin
///    width (analysis/targets.hpp), their bVar per trial type (analysis/sequence.hpp), and
///    three example units (most right-selective, most left-selective, least selective).
///
/// The result holds numbers only; writing files and figures is the caller's business.
///
/// \code
/// neurodyn::Session s = neurodyn::load_matlab_session("ALM_session.mat");
/// neurodyn::SessionAnalysisOptions o;          // 400-ms CD window, 10-bin stride, seed 1
/// auto a = neurodyn::run_session_analysis(s, o);
/// std::cout << a.selective.size() << " selective units; CD weight of unit 0: " << a.cd.weights()(0) << '\n';
/// for (const auto& g : a.groups) std::cout << g.name() << ": " << g.n << " trials\n";
/// \endcode
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/analysis/psth.hpp"
#include "neurodyn/analysis/selectivity.hpp"
#include "neurodyn/analysis/sequence.hpp"
#include "neurodyn/analysis/targets.hpp"
#include "neurodyn/analysis/variability.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/data/session.hpp"

namespace neurodyn {

/// Parameters of `run_session_analysis`.
struct SessionAnalysisOptions {
    double window_ms = 400;       ///< CD window: the last window_ms before the go cue
    std::ptrdiff_t stride = 10;   ///< bins between kept samples of the single-trial PSTHs (CD, variability)
    std::uint64_t seed = 1;       ///< seed of the train/test split
    double alpha = 0.05;          ///< rank-sum level of the delay selectivity
    double histogram_lo = -0.5;   ///< endpoint histograms of the held-out correct trials: range …
    double histogram_hi = 1.5;
    std::size_t histogram_bins = 20;  ///< … and bins

    void validate() const {
        require(std::isfinite(window_ms) && window_ms > 0, "window_ms", window_ms, "must be a finite number > 0");
        require(stride >= 1, "stride", stride, "must be >= 1");
        require(alpha > 0 && alpha < 1, "alpha", alpha, "must be in (0, 1)");
        require(histogram_bins >= 1, "histogram_bins", histogram_bins, "must be >= 1");
        require(std::isfinite(histogram_lo) && std::isfinite(histogram_hi) && histogram_hi > histogram_lo,
                "histogram range", "[" + detail::to_text(histogram_lo) + ", " + detail::to_text(histogram_hi) + "]",
                "must be finite with hi > lo");
    }
};

/// Outcome part of a projection group's key.
enum class GroupOutcome : int { error = 0, correct = 1, any = 2 };

/// Mean ± sem (over trials, ddof 1; sem 0 for one trial) of the normalised CD projection of one
/// group of held-out trials, at every sample of `SessionAnalysis::times`.
struct ProjectionGroup {
    bool right = true;                          ///< trial type (instructed lick direction)
    GroupOutcome outcome = GroupOutcome::correct;  ///< `any`: photoinhibited trials pooled over outcomes
    double photostim = 0;                       ///< photostim condition code, 0 control
    long n = 0;                                 ///< trials
    std::vector<double> mean, sem;

    /// "right_correct", "left_error", "right_all_stim2", …
    std::string name() const {
        return std::string(right ? "right" : "left") +
               (outcome == GroupOutcome::any ? "_all" : outcome == GroupOutcome::correct ? "_correct" : "_error") +
               (photostim != 0 ? "_stim" + detail::to_text(photostim) : "");
    }
};

/// One held-out trial's normalised CD endpoint.
struct TrialEndpoint {
    std::size_t trial = 0;  ///< 0-based session trial
    bool test = false;      ///< a correct control trial held out from the fit (these set the normalisation)
    double endpoint = 0;
};

/// What `run_session_analysis` computes (see the file comment). Trial indices are 0-based
/// session trials.
template <Real T = float>
struct SessionAnalysis {
    std::size_t first_trial = 0, last_trial = 0;  ///< the session's common analysed range, inclusive
    std::vector<UnitSelectivity> selectivity;     ///< per unit, delay epoch
    std::vector<std::size_t> selective;           ///< units labelled right or left
    std::size_t right_preferring = 0, left_preferring = 0;
    std::vector<std::size_t> correct_right, correct_left;  ///< correct control trials
    std::vector<std::size_t> photoinhibited;               ///< analysed photoinhibition trials
    std::vector<std::size_t> train_right, train_left, test_right, test_left;  ///< the CD split

    std::vector<double> times;  ///< s from the aligned go cue, per kept PSTH sample
    CodingDirection<T> cd;      ///< fitted and normalised
    std::vector<TrialEndpoint> endpoints;  ///< every analysed trial not used for the fit
    Histogram right_histogram, left_histogram;  ///< endpoints of the held-out correct control trials
    std::vector<ProjectionGroup> groups;   ///< sorted by (type: left first, outcome, photostim)
    Matrix<T> variability;                 ///< 2 × times (right, left) SD in Hz; empty without selective units

    xt::xtensor<double, 3> targets;   ///< (2, units, bins): right, left trial-averaged PSTHs, Hz
    std::vector<double> target_times; ///< s from the aligned go cue, per target bin
    double bvar_right = 0, bvar_left = 0;
    /// The most right-selective, most left-selective (smallest p of each label) and least
    /// selective (largest p) unit; 0 where no unit has the label.
    std::array<std::size_t, 3> example_units{};
};

/// Runs the protocol of the file comment on `s`. Throws `invalid_parameter` for bad options,
/// a session without correct control trials of both types (at least 2 of each: one to fit,
/// one to normalise), or a CD window that does not fit before the go cue; the single-trial
/// PSTH tensor is size-checked before it is allocated.
template <Real T = float>
SessionAnalysis<T> run_session_analysis(const Session& s, const SessionAnalysisOptions& o = {}) {
    o.validate();
    s.validate();
    SessionAnalysis<T> a;
    std::tie(a.first_trial, a.last_trial) = s.common_range();
    a.correct_right = s.trials_where(TrialFilter::correct_right);
    a.correct_left = s.trials_where(TrialFilter::correct_left);
    a.photoinhibited = s.trials_where(TrialFilter::analysed, true);
    require(a.correct_right.size() >= 2 && a.correct_left.size() >= 2, "session '" + s.source + "' correct trials",
            std::to_string(a.correct_right.size()) + " right, " + std::to_string(a.correct_left.size()) + " left",
            "needs at least 2 correct control trials of each type (half fit the CD, half normalise it)");

    // ---- 1. delay selectivity
    a.selectivity = delay_selectivity<double>(s, o.alpha);
    a.selective = selective_units(a.selectivity);
    for (const auto& x : a.selectivity) {
        a.right_preferring += x.label == Preference::right;
        a.left_preferring += x.label == Preference::left;
    }

    // ---- 2. single-trial PSTHs: control trials first, then photoinhibited ones
    std::vector<std::size_t> trials = s.trials_where(TrialFilter::analysed);
    trials.insert(trials.end(), a.photoinhibited.begin(), a.photoinhibited.end());
    PsthOptions popt;
    popt.stride = o.stride;
    const PsthGrid grid(s, popt);
    require_allocation("single-trial PSTHs (trials x units x samples)",
                       std::to_string(trials.size()) + " x " + std::to_string(s.n_units()) + " x " +
                           std::to_string(grid.n_out()),
                       {std::uint64_t(trials.size()), std::uint64_t(s.n_units()), std::uint64_t(grid.n_out())},
                       sizeof(T));
    const auto rates = psth_tensor<T>(s, trials, popt);
    std::map<std::size_t, std::size_t> row_of;  // session trial → row of `rates`
    for (std::size_t r = 0; r < trials.size(); ++r) row_of[trials[r]] = r;
    const auto rows = [&](const std::vector<std::size_t>& ks) {
        std::vector<std::size_t> r;
        r.reserve(ks.size());
        for (auto k : ks) r.push_back(row_of.at(k));
        return r;
    };
    const auto session_trials = [&](const std::vector<std::size_t>& rs) {
        std::vector<std::size_t> k;
        k.reserve(rs.size());
        for (auto r : rs) k.push_back(trials[r]);
        return k;
    };
    const double cue = grid.aligned_cue();
    a.times.resize(std::size_t(grid.n_out()));
    for (std::ptrdiff_t j = 0; j < grid.n_out(); ++j) a.times[std::size_t(j)] = grid.time(j) - cue;

    // ---- 3. coding direction: fit on half the correct control trials, normalise on the rest
    Rng rng(o.seed, 0, 11);
    const auto [train_r, test_r] = split_half(rows(a.correct_right), rng);
    const auto [train_l, test_l] = split_half(rows(a.correct_left), rng);
    // A window reaching before the start of the axis would be cut silently: refuse it.
    const double axis_start = grid.time(0) - 0.5 * grid.bin_width(), window_start = cue - o.window_ms * 1e-3;
    require(window_start >= axis_start - 1e-9, "window_ms", o.window_ms,
            "must fit between the start of the trial axis (" + detail::to_text(axis_start) +
                " s) and the go cue (" + detail::to_text(cue) + " s on the aligned axis): at most " +
                detail::to_text((cue - axis_start) * 1e3) + " ms");
    const StepRange window{grid.index_at(window_start), grid.index_at(cue)};
    require(window.size() > 0, "window_ms", o.window_ms,
            "contains no kept PSTH sample before the go cue (" + detail::to_text(cue) +
                " s on the aligned axis) with stride = " + std::to_string(o.stride) + " bins of " +
                detail::to_text(grid.bin_width() * 1e3) + " ms: use a longer window or a smaller stride");
    a.cd = CodingDirection<T>::fit(rates, train_r, train_l, window);
    a.cd.normalise(a.cd.endpoints(a.cd.project(rates, test_r)), a.cd.endpoints(a.cd.project(rates, test_l)));
    a.train_right = session_trials(train_r), a.test_right = session_trials(test_r);
    a.train_left = session_trials(train_l), a.test_left = session_trials(test_l);

    // ---- 4. endpoints and projections of every trial not used for the fit
    std::vector<char> is_train(trials.size(), 0);
    for (auto r : train_r) is_train[r] = 1;
    for (auto r : train_l) is_train[r] = 1;
    std::vector<std::size_t> eval;
    for (std::size_t r = 0; r < trials.size(); ++r)
        if (!is_train[r]) eval.push_back(r);
    const Matrix<T> proj = a.cd.project(rates, eval);
    const Vector<T> ends = a.cd.endpoints(proj);
    for (std::size_t i = 0; i < eval.size(); ++i) {
        const auto& t = s.trials[trials[eval[i]]];
        a.endpoints.push_back({trials[eval[i]], t.correct() && !t.stimulated(), double(ends(index_t(i)))});
    }
    const auto hist = [&](const std::vector<std::size_t>& test) {
        const Vector<T> e = a.cd.endpoints(a.cd.project(rates, test));
        return histogram<T>(std::span<const T>(e.data(), std::size_t(e.size())), o.histogram_lo, o.histogram_hi,
                            o.histogram_bins);
    };
    a.right_histogram = hist(test_r);
    a.left_histogram = hist(test_l);

    struct Acc {
        Eigen::ArrayXd sum, sumsq;
        long n = 0;
        void add(const Eigen::ArrayXd& p) {
            if (n++ == 0) sum = sumsq = Eigen::ArrayXd::Zero(p.size());
            sum += p;
            sumsq += p.square();
        }
    };
    std::map<std::tuple<int, int, double>, Acc> acc;  // (right?, outcome, level), sorted
    for (std::size_t i = 0; i < eval.size(); ++i) {
        const auto& t = s.trials[trials[eval[i]]];
        const Eigen::ArrayXd p = proj.row(index_t(i)).transpose().template cast<double>().array();
        acc[{t.right(), t.correct(), t.photostim}].add(p);
        if (t.stimulated()) acc[{t.right(), int(GroupOutcome::any), t.photostim}].add(p);
    }
    for (const auto& [key, g] : acc) {
        ProjectionGroup pg;
        pg.right = std::get<0>(key) != 0;
        pg.outcome = GroupOutcome(std::get<1>(key));
        pg.photostim = std::get<2>(key);
        pg.n = g.n;
        const double n = double(g.n);
        for (index_t j = 0; j < g.sum.size(); ++j) {
            const double m = g.sum(j) / n;
            const double var = g.n > 1 ? std::max(0.0, (g.sumsq(j) - n * m * m) / (n - 1)) : 0.0;
            pg.mean.push_back(m);
            pg.sem.push_back(std::sqrt(var / n));
        }
        a.groups.push_back(std::move(pg));
    }

    // ---- 5. across-trial variability of the selective units
    if (!a.selective.empty())
        a.variability = across_trial_variability<T>(rates, {rows(a.correct_right), rows(a.correct_left)}, a.selective);

    // ---- 6. FORCE targets, bVar, example units
    a.targets = session_targets<double>(s);
    const PsthGrid fine(s, PsthOptions{});
    const auto nt = index_t(a.targets.shape()[2]);
    a.target_times.resize(std::size_t(nt));
    for (index_t t = 0; t < nt; ++t) a.target_times[std::size_t(t)] = fine.time(t) - fine.aligned_cue();
    double bv[2];
    for (std::size_t c = 0; c < 2; ++c) {
        Matrix<double> m(index_t(s.n_units()), nt);
        for (index_t u = 0; u < m.rows(); ++u)
            for (index_t t = 0; t < nt; ++t) m(u, t) = a.targets(c, std::size_t(u), std::size_t(t));
        bv[c] = bvar<double>(m);
    }
    a.bvar_right = bv[0], a.bvar_left = bv[1];
    double pr = 2, pl = 2, pn = -1;
    for (std::size_t u = 0; u < a.selectivity.size(); ++u) {
        const auto& x = a.selectivity[u];
        if (x.label == Preference::right && x.p_value < pr) pr = x.p_value, a.example_units[0] = u;
        if (x.label == Preference::left && x.p_value < pl) pl = x.p_value, a.example_units[1] = u;
        if (x.p_value > pn) pn = x.p_value, a.example_units[2] = u;
    }
    return a;
}

}  // namespace neurodyn
