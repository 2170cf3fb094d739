#pragma once
/// \file protocol_comparison.hpp
/// The side-by-side study: the Python study's `seed` training protocol beside the textbook
/// default, raw and suppressed targets, plus a truly chaotic start, ≥ 10 random realisations
/// per arm on the same targets, each trained network measured the same way.
///
/// **Arms** (`ComparisonArm`): protocol {seed, textbook} × targets {raw, suppressed} × start
/// {study, chaotic}. The study's start is its own setting, a logistic network with J ~ N(0, g²/N),
/// g = 1.2: its effective gain g·max φ′ = 0.3 < 1, so it is **not chaotic** (it decays to a
/// fixed point; the Lyapunov exponent below says so). The chaotic start is a **tanh** network
/// with g = 3 (g·max φ′ = 3 > 1), trained on 2R − 1. Why 3 and not just above 1: g > 1 is the
/// large-N criterion; at N = 87 a random tanh network with g = 1.5 mostly settles on a fixed
/// point or a limit cycle (measured: 0 of 10 realisations with a positive exponent, mean
/// −0.004/ms), with g = 3 half are chaotic (5 of 10, mean +0.007/ms). Each record carries its
/// own exponent, so results can be split by it. Tanh rather than a logistic with g
/// scaled by 4: the logistic's offset (φ = ½ + ½ tanh(x/2)) gives every unit a static drive
/// ½ Σ_j J_ij of SD g/2 = 3 at g = 6, which saturates units and kills the chaos the gain was
/// meant to create; tanh has no offset. Both pVar definitions are invariant under R → 2R − 1,
/// so the scores stay comparable; weights are not (a tanh unit has 4× the logistic's slope).
///
/// **Same targets, same draws.** Realisation k of every arm starts from the normals of
/// Rng(seed, k, 0xA1) (`realization_network`; the chaotic arm scales the same draws to its g)
/// and trains on the frozen inputs of `realization_inputs(·, k)` of its protocol; its noise and
/// light trials use streams keyed by (seed, k, level, condition, trial), the same in every arm.
/// Every job (arm, realisation) writes only its own record, so the numbers are bitwise the same
/// on any thread count.
///
/// **Per realisation** (`ComparisonRecord`): iterations and final pVar (the arm's own pVar:
/// the study's `seed_pvar` under seed, the textbook pVar otherwise), the replay (the trained
/// network run unperturbed from its target's initial state, `TrainedRnn`: textbook pVar and
/// delay-selectivity agreement), noise thresholds, collapse direction, weight statistics, PCA
/// dimension and participation ratio of the replay activity, rank of ΔJ, the largest
/// Lyapunov exponent of the initial network and photoinhibition outcomes.
///
/// - Noise: amplitude A in the study's units, added as A·√(1/(2τ))·ξ per 1-ms step (held over
///   the step) to the input current, either **shared** (one ξ per step for every unit, the
///   study's model) or **independent** per unit; over the whole trial or the first
///   `delay_noise_ms` (600) of the delay. A is swept upwards over `noise_amplitudes`,
///   `noise_trials` trials per condition and level; the **threshold** is the first A at which
///   the fraction of trials keeping the right/left separation (`SeparationClassifier`: the
///   end-of-delay coding-direction endpoint on the trained side of ½) falls below
///   `collapse_fraction` (½) in either condition; NaN when it never does. The **collapse
///   direction** at that A: R→L (+1) when right trials lose more often than left ones (they
///   end on the left side), L→R (−1) the reverse, 0 on a tie.
/// - Photoinhibition (the study's framing): a drive of −L on every unit during the first
///   `light_ms` (600) of the delay at each light level L, `photo_trials` trials per condition
///   with independent background noise `photo_noise` (default 0: none, so the controls are
///   the unperturbed replay); each trial either **recovers** (endpoint back on its trained
///   side) or **switches**.
/// - Weights: max |J|, quantiles of |J| (50, 90, 99, 99.9 %), SD, the number of "dominant"
///   weights |J_ij| > 10·SD(J), and the histogram of log10 |J_ij| on [−4, 2.5] (values outside
///   fall in the end bins).
/// - PCA of the replay (both conditions concatenated in time, units as variables): components
///   for `pca_variance` (90 %, the study's) and the participation ratio (Σλ)²/Σλ².
/// - Rank of ΔJ = J − J0 at the study's tolerance, NumPy's `matrix_rank` default
///   σ_max·max(m, n)·ε (`numerical_rank`), and the count above 1 % of σ_max.
/// - Lyapunov exponent of the initial network, autonomous (u = 0), from x0 ~ N(0, 1)
///   (`largest_lyapunov_exponent`, 1/ms); `chaotic` = exponent > 0 and > 4 standard errors.
///
/// **Keep criteria** (`KeepCriteria`, every one documented in the reason of a rejection): the
/// run converged (the arm's stopping rule met within `max_iterations`); its final pVar is
/// ≥ `min_final_pvar` on both conditions; the replay's pVar is ≥ `min_replay_pvar` on both
/// conditions (the network that is perturbed does the task when run alone); and the replay's
/// delay preference agrees with the targets' for ≥ `min_agreement` of the selective units.
/// Rejected realisations keep their training and weight numbers but are not perturbed and
/// are left out of the summaries; `summarise` reports kept and rejected counts per arm.
///
/// \code
/// auto t = neurodyn::session_training_targets(neurodyn::synthetic_session({}));
/// neurodyn::ProtocolComparisonOptions o;            // 10 realisations, 6 arms
/// auto result = neurodyn::run_protocol_comparison(t.rates, t.epochs, o);
/// auto summary = neurodyn::summarise(result);       // per arm × metric: mean, SEM, n
/// \endcode
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/analysis/delay_selectivity.hpp"
#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/analysis/pca.hpp"
#include "neurodyn/analysis/rank.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/dynamics/lyapunov.hpp"
#include "neurodyn/experiments/network_structure.hpp"
#include "neurodyn/experiments/noise_robustness.hpp"
#include "neurodyn/experiments/rajan_protocol.hpp"
#include "neurodyn/learn/force_trainer.hpp"
#include "neurodyn/learn/seed_protocol.hpp"
#include "neurodyn/parallel/ensemble.hpp"

namespace neurodyn {

/// Where a realisation starts: the study's logistic network (g = 1.2, not chaotic) or a
/// tanh network with g·max φ′ > 1 (g = 3 by default).
enum class StartNetwork { study, chaotic };

/// One arm of the comparison.
struct ComparisonArm {
    learn::ForceProtocol protocol = learn::ForceProtocol::textbook;
    TargetVariant variant = TargetVariant::raw;
    StartNetwork start = StartNetwork::study;

    /// "seed/raw", "textbook/suppressed", "seed/raw/chaotic", …
    std::string name() const {
        return std::string(learn::protocol_name(protocol)) + "/" +
               (variant == TargetVariant::suppressed ? "suppressed" : "raw") +
               (start == StartNetwork::chaotic ? "/chaotic" : "");
    }
    /// Parse a name as `name()` writes it.
    static ComparisonArm parse(const std::string& text) {
        ComparisonArm a;
        std::vector<std::string> parts;
        std::size_t p = 0;
        while (true) {
            const auto q = text.find('/', p);
            parts.push_back(text.substr(p, q == std::string::npos ? std::string::npos : q - p));
            if (q == std::string::npos) break;
            p = q + 1;
        }
        const std::string allowed = "must be protocol/targets[/chaotic]: seed|textbook / raw|suppressed, e.g. seed/raw/chaotic";
        require(parts.size() == 2 || parts.size() == 3, "arm", text, allowed);
        require(parts[0] == "seed" || parts[0] == "textbook", "arm", text, allowed);
        require(parts[1] == "raw" || parts[1] == "suppressed", "arm", text, allowed);
        require(parts.size() == 2 || parts[2] == "chaotic", "arm", text, allowed);
        a.protocol = learn::parse_protocol(parts[0]);
        a.variant = parts[1] == "raw" ? TargetVariant::raw : TargetVariant::suppressed;
        a.start = parts.size() == 3 ? StartNetwork::chaotic : StartNetwork::study;
        return a;
    }
};

/// The default arms: {seed, textbook} × {raw, suppressed} from the study's start, and both
/// protocols on raw targets from a chaotic start.
inline std::vector<ComparisonArm> default_comparison_arms() {
    using learn::ForceProtocol;
    return {{ForceProtocol::seed, TargetVariant::raw, StartNetwork::study},
            {ForceProtocol::seed, TargetVariant::suppressed, StartNetwork::study},
            {ForceProtocol::textbook, TargetVariant::raw, StartNetwork::study},
            {ForceProtocol::textbook, TargetVariant::suppressed, StartNetwork::study},
            {ForceProtocol::seed, TargetVariant::raw, StartNetwork::chaotic},
            {ForceProtocol::textbook, TargetVariant::raw, StartNetwork::chaotic}};
}

/// Which trained realisations count (see the file comment).
struct KeepCriteria {
    bool require_converged = true;
    double min_final_pvar = 0.85;   ///< the arm's own pVar at the last iteration, both conditions
    double min_replay_pvar = 0.5;   ///< textbook pVar of the unperturbed replay, both conditions
    double min_agreement = 0.9;     ///< delay-preference agreement of the replay with the targets
};

struct ProtocolComparisonOptions {
    index_t realizations = 10;   ///< per arm
    std::uint64_t seed = 1;
    int threads = 0;             ///< 0: OpenMP default; jobs (arm, realisation) run in parallel
    std::vector<ComparisonArm> arms = default_comparison_arms();
    int max_iterations = 30;
    double pvar_threshold = 0.85;  ///< training stops when every condition's pVar reaches it (seed: exceeds it)
    double g = 1.2;              ///< the study's logistic start (not chaotic)
    double g_chaotic = 3.0;      ///< the tanh start (g·max φ′ = 3; at N = 87, g = 1.5 is rarely chaotic)
    double tau = 10.0;           ///< ms
    double selectivity_threshold = 0.1;  ///< |R − L|/(R + L) of delay means for a selective target unit
    std::vector<double> noise_amplitudes = {0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0};  ///< ascending, study units
    long noise_trials = 6;       ///< per condition and level
    double collapse_fraction = 0.5;
    double delay_noise_ms = 600; ///< the delay-window noise covers the first this many ms of the delay
    std::vector<double> light_levels = {0.0, 2.0, 4.0, 8.0};
    double light_ms = 600;
    double photo_noise = 0.0;    ///< background noise of the light trials (per-step amplitude, per unit)
    long photo_trials = 1;       ///< per condition and light level (> 1 needs photo_noise > 0 to differ)
    double pca_variance = 0.9;
    double separation_window_ms = 400;  ///< end-of-delay window of the endpoints
    LyapunovOptions lyapunov{.dt = 0.5, .transient = 500, .duration = 3000, .renormalise_every = 10, .blocks = 10};
    KeepCriteria keep;
    /// Called after each finished job with (jobs done, total), serially.
    std::function<void(long, long)> progress = {};

    /// Every check run_protocol_comparison makes, before anything runs.
    void validate(index_t units, index_t steps) const {
        require(realizations >= 1 && realizations <= 100000, "realizations", realizations, "must be in 1 … 100000");
        require_thread_count("threads", threads);
        require(!arms.empty(), "arms", "an empty list", "needs at least one arm");
        for (std::size_t i = 0; i < arms.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                require(arms[i].name() != arms[j].name(), "arms", arms[i].name(), "listed twice");
        require(max_iterations >= 1, "max_iterations", max_iterations, "must be >= 1");
        require(std::isfinite(pvar_threshold) && pvar_threshold <= 1, "pvar_threshold", pvar_threshold,
                "must be a finite number <= 1");
        require_nonnegative("g", g);
        require_nonnegative("g_chaotic", g_chaotic);
        require_positive("tau", tau);
        require_nonnegative("selectivity_threshold", selectivity_threshold);
        require(!noise_amplitudes.empty() && noise_amplitudes.size() <= 64, "noise_amplitudes",
                noise_amplitudes.size(), "needs 1 … 64 amplitudes");
        for (std::size_t i = 0; i < noise_amplitudes.size(); ++i) {
            require(std::isfinite(noise_amplitudes[i]) && noise_amplitudes[i] > 0, "noise amplitude",
                    noise_amplitudes[i], "must be finite and > 0");
            require(i == 0 || noise_amplitudes[i] > noise_amplitudes[i - 1], "noise_amplitudes",
                    noise_amplitudes[i], "must be strictly ascending (the sweep stops at the threshold)");
        }
        require(noise_trials >= 1 && noise_trials <= 1000, "noise_trials", noise_trials, "must be in 1 … 1000");
        require(collapse_fraction > 0 && collapse_fraction <= 1, "collapse_fraction", collapse_fraction,
                "must be in (0, 1]");
        require_positive("delay_noise_ms", delay_noise_ms);
        require(!light_levels.empty() && light_levels.size() <= 64, "light_levels", light_levels.size(),
                "needs 1 … 64 levels");
        for (double l : light_levels) require(std::isfinite(l) && l >= 0, "light level", l, "must be finite and >= 0");
        require_positive("light_ms", light_ms);
        require_nonnegative("photo_noise", photo_noise);
        require(photo_trials >= 1 && photo_trials <= 1000, "photo_trials", photo_trials, "must be in 1 … 1000");
        require(pca_variance > 0 && pca_variance <= 1, "pca_variance", pca_variance, "must be in (0, 1]");
        require_positive("separation_window_ms", separation_window_ms);
        lyapunov.validate();
        require(std::isfinite(keep.min_final_pvar) && keep.min_final_pvar <= 1, "keep.min_final_pvar",
                keep.min_final_pvar, "must be a finite number <= 1");
        require(std::isfinite(keep.min_replay_pvar) && keep.min_replay_pvar <= 1, "keep.min_replay_pvar",
                keep.min_replay_pvar, "must be a finite number <= 1");
        require(keep.min_agreement >= 0 && keep.min_agreement <= 1, "keep.min_agreement", keep.min_agreement,
                "must be in [0, 1]");
        require(units >= 2, "targets (units)", units, "needs at least 2 units");
        require(steps >= 2, "targets (steps)", steps, "needs at least 2 steps");
        // Per job: J0, J (N² each), replay and targets (a few N·K); refuse before training.
        const auto jobs = std::uint64_t(realizations) * arms.size();
        require_allocation("realizations", realizations,
                           {jobs, 2 * std::uint64_t(units) * std::uint64_t(units) + 64}, sizeof(double));
    }
};

/// Noise models and windows of the thresholds, as indices of ComparisonRecord's arrays.
enum ComparisonNoise : int { noise_shared = 0, noise_independent = 1 };
enum ComparisonWindow : int { window_whole = 0, window_delay = 1 };
inline const char* comparison_noise_name(int m) { return m == noise_shared ? "shared" : "independent"; }
inline const char* comparison_window_name(int w) { return w == window_whole ? "whole" : "delay"; }

/// Bins of the log10 |J| histogram.
inline constexpr double weight_log_lo = -4.0, weight_log_hi = 2.5;
inline constexpr std::size_t weight_log_bins = 65;

/// What one realisation of one arm measured (NaN: not measured, e.g. a rejected run's noise).
struct ComparisonRecord {
    std::string arm;
    index_t arm_index = 0, realization = 0;
    bool converged = false;
    int iterations = 0;
    double final_pvar[2] = {NAN, NAN};   ///< the arm's own pVar, last iteration, right/left
    double replay_pvar[2] = {NAN, NAN};  ///< textbook pVar of the unperturbed replay
    double agreement = NAN;              ///< delay-preference agreement of the replay
    bool kept = false;
    std::string reject_reason;           ///< empty when kept
    double threshold[2][2] = {{NAN, NAN}, {NAN, NAN}};  ///< [noise model][window]; NaN: no collapse
    int collapse[2][2] = {{0, 0}, {0, 0}};              ///< +1 R→L, −1 L→R, 0 none or tie
    double max_abs_J = NAN, weight_sd = NAN, abs_J_q50 = NAN, abs_J_q90 = NAN, abs_J_q99 = NAN, abs_J_q999 = NAN;
    double dominant_weights = NAN;       ///< |J_ij| > 10·SD(J)
    std::vector<double> weight_log_density;  ///< density of log10 |J| per bin (weight_log_bins)
    double pca_dim = NAN, participation_ratio = NAN;
    double rank_dJ = NAN, rank_dJ_1pct = NAN, rank_tolerance = NAN;
    double lyapunov = NAN, lyapunov_se = NAN;
    std::vector<double> photo_recovery[2];   ///< [condition][light level]: fraction of trials recovering
    std::vector<double> photo_endpoint[2];   ///< [condition][light level]: mean endpoint (right 1, left 0)
    double train_seconds = 0, total_seconds = 0;  ///< wall time of the training and of the whole job (not a metric)
};

/// Everything the comparison produced.
struct ProtocolComparisonResult {
    ProtocolComparisonOptions options;
    std::vector<std::string> arms;           ///< names, in option order
    index_t units = 0, steps = 0, selective_units = 0;
    std::vector<ComparisonRecord> records;   ///< arm-major: arm a, realisation k at a·K + k
};

/// Why a record fails the keep criteria; empty when it passes. A pure function of the record,
/// so a planted failed run can be checked.
/// \code
/// std::string why = neurodyn::keep_verdict(record, options.keep);
/// \endcode
inline std::string keep_verdict(const ComparisonRecord& r, const KeepCriteria& k) {
    auto txt = [](double v) { return detail::to_text(v); };
    if (k.require_converged && !r.converged)
        return "not converged after " + std::to_string(r.iterations) + " iterations";
    for (int c = 0; c < 2; ++c)
        if (!(r.final_pvar[c] >= k.min_final_pvar))
            return std::string("final pVar ") + condition_name(c) + " " + txt(r.final_pvar[c]) + " < " +
                   txt(k.min_final_pvar);
    for (int c = 0; c < 2; ++c)
        if (!(r.replay_pvar[c] >= k.min_replay_pvar))
            return std::string("replay pVar ") + condition_name(c) + " " + txt(r.replay_pvar[c]) + " < " +
                   txt(k.min_replay_pvar);
    if (!(r.agreement >= k.min_agreement))
        return "delay selectivity agrees for " + txt(r.agreement) + " < " + txt(k.min_agreement) + " of the selective units";
    return {};
}

/// The metrics of a record as (name, value) pairs, in a fixed order: the columns of the
/// per-realisation table and the rows of the summary.
inline std::vector<std::pair<std::string, double>> comparison_metrics(const ComparisonRecord& r,
                                                                      const std::vector<double>& light_levels) {
    std::vector<std::pair<std::string, double>> m;
    m.emplace_back("converged", r.converged ? 1.0 : 0.0);
    m.emplace_back("iterations", double(r.iterations));
    m.emplace_back("final_pvar_right", r.final_pvar[0]);
    m.emplace_back("final_pvar_left", r.final_pvar[1]);
    m.emplace_back("final_pvar_min", std::min(r.final_pvar[0], r.final_pvar[1]));
    m.emplace_back("replay_pvar_right", r.replay_pvar[0]);
    m.emplace_back("replay_pvar_left", r.replay_pvar[1]);
    m.emplace_back("agreement", r.agreement);
    for (int n = 0; n < 2; ++n)
        for (int w = 0; w < 2; ++w) {
            const std::string s = std::string(comparison_noise_name(n)) + "_" + comparison_window_name(w);
            m.emplace_back("threshold_" + s, r.threshold[n][w]);
            m.emplace_back("collapsed_" + s, r.kept ? (std::isnan(r.threshold[n][w]) ? 0.0 : 1.0) : NAN);
            const bool has = r.kept && !std::isnan(r.threshold[n][w]);
            m.emplace_back("collapse_R_to_L_" + s, has ? (r.collapse[n][w] > 0 ? 1.0 : 0.0) : NAN);
            m.emplace_back("collapse_L_to_R_" + s, has ? (r.collapse[n][w] < 0 ? 1.0 : 0.0) : NAN);
        }
    m.emplace_back("max_abs_J", r.max_abs_J);
    m.emplace_back("weight_sd", r.weight_sd);
    m.emplace_back("abs_J_q50", r.abs_J_q50);
    m.emplace_back("abs_J_q90", r.abs_J_q90);
    m.emplace_back("abs_J_q99", r.abs_J_q99);
    m.emplace_back("abs_J_q999", r.abs_J_q999);
    m.emplace_back("dominant_weights", r.dominant_weights);
    m.emplace_back("pca_dim", r.pca_dim);
    m.emplace_back("participation_ratio", r.participation_ratio);
    m.emplace_back("rank_dJ", r.rank_dJ);
    m.emplace_back("rank_dJ_1pct", r.rank_dJ_1pct);
    m.emplace_back("lyapunov_initial", r.lyapunov);
    m.emplace_back("chaotic_initial", std::isnan(r.lyapunov) ? NAN : (r.lyapunov > 0 && r.lyapunov > 4 * r.lyapunov_se ? 1.0 : 0.0));
    for (std::size_t l = 0; l < light_levels.size(); ++l) {
        const std::string s = "light_" + detail::to_text(light_levels[l]);
        const bool has = r.photo_recovery[0].size() == light_levels.size();
        const double rr = has ? r.photo_recovery[0][l] : NAN, rl = has ? r.photo_recovery[1][l] : NAN;
        m.emplace_back("recovery_right_" + s, rr);
        m.emplace_back("recovery_left_" + s, rl);
        m.emplace_back("recovery_" + s, has ? 0.5 * (rr + rl) : NAN);
        m.emplace_back("switch_" + s, has ? 1.0 - 0.5 * (rr + rl) : NAN);
    }
    return m;
}

/// One summary row: a metric over the kept (or all) realisations of an arm (NaN values left out).
struct ComparisonSummaryRow {
    std::string arm, metric;
    std::string over = "kept";  ///< "kept" or "all" realisations
    double mean = NAN, sem = NAN, median = NAN, q25 = NAN, q75 = NAN;
    long n = 0;
};

/// Mean, SEM (SD with ddof 1 over √n; 0 for n = 1), median and quartiles (linear
/// interpolation, NumPy's default) of the finite values.
inline ComparisonSummaryRow summarise_values(std::vector<double> v) {
    ComparisonSummaryRow s;
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
    s.n = long(v.size());
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / double(v.size());
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sem = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1) / double(v.size())) : 0.0;
    auto q = [&](double p) {
        const double pos = p * double(v.size() - 1);
        const auto i = std::size_t(std::floor(pos));
        const double f = pos - double(i);
        return i + 1 < v.size() ? v[i] + f * (v[i + 1] - v[i]) : v[i];
    };
    s.median = q(0.5);
    s.q25 = q(0.25);
    s.q75 = q(0.75);
    return s;
}

/// Kept and rejected realisations of one arm.
struct ArmCounts {
    std::string arm;
    long realizations = 0, kept = 0, rejected = 0;
};

inline std::vector<ArmCounts> arm_counts(const ProtocolComparisonResult& r) {
    std::vector<ArmCounts> out;
    for (std::size_t a = 0; a < r.arms.size(); ++a) {
        ArmCounts c{r.arms[a]};
        for (const auto& rec : r.records)
            if (rec.arm_index == index_t(a)) {
                ++c.realizations;
                rec.kept ? ++c.kept : ++c.rejected;
            }
        out.push_back(c);
    }
    return out;
}

/// Per arm × metric over the kept realisations (`comparison_metrics`), arm by arm; with
/// `kept_only = false` over every realisation (the training numbers of rejected runs too).
/// \code
/// for (const auto& s : neurodyn::summarise(result)) std::cout << s.arm << ' ' << s.metric << ' ' << s.mean << '\n';
/// \endcode
inline std::vector<ComparisonSummaryRow> summarise(const ProtocolComparisonResult& r, bool kept_only = true) {
    std::vector<ComparisonSummaryRow> out;
    for (std::size_t a = 0; a < r.arms.size(); ++a) {
        std::vector<std::string> names;
        std::vector<std::vector<double>> values;
        for (const auto& rec : r.records) {
            if (rec.arm_index != index_t(a) || (kept_only && !rec.kept)) continue;
            const auto m = comparison_metrics(rec, r.options.light_levels);
            if (names.empty()) {
                for (const auto& [n, v] : m) names.push_back(n);
                values.resize(names.size());
            }
            for (std::size_t i = 0; i < m.size(); ++i) values[i].push_back(m[i].second);
        }
        if (names.empty())  // no kept realisation: the metric names with n = 0
            for (const auto& [n, v] : comparison_metrics(ComparisonRecord{}, r.options.light_levels)) names.push_back(n);
        values.resize(names.size());
        for (std::size_t i = 0; i < names.size(); ++i) {
            auto s = summarise_values(values[i]);
            s.arm = r.arms[a];
            s.metric = names[i];
            s.over = kept_only ? "kept" : "all";
            out.push_back(std::move(s));
        }
    }
    return out;
}

/// Targets cut to the study's trial: from `before_sample_ms` before the sample to
/// `after_cue_ms` after the go cue (the end of the delay), with the epochs shifted to match.
/// \code
/// auto cut = neurodyn::study_trial(t.rates, t.epochs);   // 1 s before the sample … 250 ms after the cue
/// \endcode
struct CutTargets {
    xt::xtensor<double, 3> rates;
    TaskEpochs epochs;
};
inline CutTargets study_trial(const xt::xtensor<double, 3>& rates, const TaskEpochs& epochs, double dt = 1.0,
                              double before_sample_ms = 1000, double after_cue_ms = 250) {
    for (const char* e : {"presample", "sample", "delay"})
        require(epochs.has(e), "epochs", std::string("no '") + e + "' epoch",
                "must contain presample, sample and delay to cut the study's trial");
    require_nonnegative("before_sample_ms", before_sample_ms);
    require_nonnegative("after_cue_ms", after_cue_ms);
    const auto K = std::ptrdiff_t(rates.shape()[2]);
    const double start_ms = std::max(0.0, epochs["sample"].start_ms - before_sample_ms);
    const double end_ms = std::min(double(K) * dt, epochs["delay"].end_ms + after_cue_ms);
    const auto first = std::ptrdiff_t(std::llround(start_ms / dt)), last = std::ptrdiff_t(std::llround(end_ms / dt));
    require(last - first >= 2, "study trial", "[" + detail::to_text(start_ms) + ", " + detail::to_text(end_ms) + ") ms",
            "must hold at least 2 steps");
    CutTargets c{xt::xtensor<double, 3>::from_shape({2, rates.shape()[1], std::size_t(last - first)}),
                 TaskEpochs(double(last - first) * dt)};
    for (std::size_t a = 0; a < 2; ++a)
        for (std::size_t i = 0; i < rates.shape()[1]; ++i)
            for (std::ptrdiff_t s = first; s < last; ++s) c.rates(a, i, std::size_t(s - first)) = rates(a, i, std::size_t(s));
    const double T = double(last - first) * dt;
    for (const auto& e : epochs.all()) {
        const double s = std::clamp(e.start_ms - start_ms, 0.0, T), f = std::clamp(e.end_ms - start_ms, 0.0, T);
        if (f > s) c.epochs.add(e.name, s, f);
    }
    require(c.epochs.has("delay"), "study trial", "no delay left", "must keep the delay epoch");
    return c;
}

namespace detail {

inline double quantile_sorted(const std::vector<double>& v, double p) {
    const double pos = p * double(v.size() - 1);
    const auto i = std::size_t(std::floor(pos));
    const double f = pos - double(i);
    return i + 1 < v.size() ? v[i] + f * (v[i + 1] - v[i]) : v[i];
}

/// Weight statistics of J into the record.
inline void weight_statistics(const Matrix<double>& J, ComparisonRecord& r) {
    std::vector<double> a(std::size_t(J.size()));
    for (index_t i = 0; i < J.size(); ++i) a[std::size_t(i)] = std::abs(J.data()[i]);
    std::sort(a.begin(), a.end());
    r.max_abs_J = a.back();
    r.abs_J_q50 = quantile_sorted(a, 0.5);
    r.abs_J_q90 = quantile_sorted(a, 0.9);
    r.abs_J_q99 = quantile_sorted(a, 0.99);
    r.abs_J_q999 = quantile_sorted(a, 0.999);
    const double mean = J.mean();
    r.weight_sd = std::sqrt((J.array() - mean).square().mean());
    r.dominant_weights = double(std::count_if(a.begin(), a.end(), [&](double x) { return x > 10 * r.weight_sd; }));
    std::vector<double> lg(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) lg[i] = a[i] > 0 ? std::log10(a[i]) : weight_log_lo;
    const auto h = histogram<double>(std::span<const double>(lg), weight_log_lo, weight_log_hi, weight_log_bins);
    const double width = (weight_log_hi - weight_log_lo) / double(weight_log_bins);
    r.weight_log_density.resize(weight_log_bins);
    for (std::size_t b = 0; b < weight_log_bins; ++b)
        r.weight_log_density[b] = double(h.counts[b]) / (double(a.size()) * width);
}

/// The inputs of one job, shared by every arm (built once).
struct ComparisonTargets {
    xt::xtensor<double, 3> logistic;  ///< normalised targets in (0, 1)
    xt::xtensor<double, 3> tanh;      ///< 2R − 1
};

/// Train, replay, perturb and measure one realisation of one arm.
template <class Activation>
void run_comparison_job(const ProtocolComparisonOptions& o, const ComparisonArm& arm, index_t k,
                        const xt::xtensor<double, 3>& targets, const std::vector<int>& target_pref,
                        const TaskEpochs& epochs, ComparisonRecord& rec) {
    using Net = RateNetwork<Activation, double>;
    const auto N = index_t(targets.shape()[1]), K = index_t(targets.shape()[2]);
    const bool seed = arm.protocol == learn::ForceProtocol::seed;
    RajanOptions ro;  // (not a ?: of the two: g++ 12 crashes on it, an internal compiler error)
    if (seed) ro = RajanOptions::seed_protocol();
    ro.seed = o.seed;
    ro.tau = o.tau;
    ro.g = arm.start == StartNetwork::chaotic ? o.g_chaotic : o.g;
    // Realisation k's draws: Rng(seed, k, 0xA1), as realization_network; scaled to this arm's g.
    Rng rng(o.seed, std::uint64_t(k), 0xA1);
    Net net = Net::random(N, ro.g, o.tau, rng);
    const auto h = realization_inputs<double>(ro, N, K, epochs, k);
    learn::ForceOptions fo = seed ? learn::ForceOptions::seed_protocol() : learn::ForceOptions{};
    fo.alpha = ro.alpha;
    fo.target_clip = ro.target_clip;
    fo.max_iterations = o.max_iterations;
    fo.pvar_threshold = o.pvar_threshold;
    fo.progress = learn::Progress::off;
    const Matrix<double> J0 = net.weights();
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    learn::BasicForceTrainer<Net> trainer(net, targets, h, fo);
    const auto res = trainer.train();
    rec.train_seconds = seconds();
    rec.converged = res.converged;
    rec.iterations = res.iterations;
    if (!res.pvar.empty())
        for (int c = 0; c < 2; ++c) rec.final_pvar[c] = res.pvar.back()[std::size_t(c)];
    const Matrix<double> J = trainer.network().weights();

    // Weights and ΔJ (every realisation, kept or not).
    weight_statistics(J, rec);
    const auto rank = numerical_rank<double>(J - J0);
    rec.rank_dJ = double(rank.rank);
    rec.rank_dJ_1pct = double(effective_rank(rank, 0.01));
    rec.rank_tolerance = double(rank.tolerance);

    // Chaos of the initial network: autonomous, from x0 ~ N(0, 1).
    {
        Net start(J0, o.tau);
        Rng xr(o.seed, std::uint64_t(k), 0x1A);
        Vector<double> x0(N);
        for (index_t i = 0; i < N; ++i) x0[i] = xr.normal();
        InputCondition<double> none{"none", Vector<double>::Zero(N)};
        LyapunovOptions lo = o.lyapunov;
        lo.seed = o.seed * 1000003ULL + std::uint64_t(k);
        const auto le = largest_lyapunov_exponent(start, none, x0, lo);
        rec.lyapunov = le.exponent;
        rec.lyapunov_se = le.standard_error;
    }

    // The replay: the trained network run alone from its target's initial state.
    TrainedRnn<double, Net> task(Net(J, o.tau), h, targets, epochs, 1.0);
    const Matrix<double> right = task.run(0, Trial{}), left = task.run(1, Trial{});
    rec.replay_pvar[0] = task.pvar_of(right, 0);
    rec.replay_pvar[1] = task.pvar_of(left, 1);
    {
        auto replay = xt::xtensor<double, 3>::from_shape({2, std::size_t(N), std::size_t(K)});
        for (index_t i = 0; i < N; ++i)
            for (index_t s = 0; s < K; ++s) {
                replay(0, std::size_t(i), std::size_t(s)) = right(i, s);
                replay(1, std::size_t(i), std::size_t(s)) = left(i, s);
            }
        const auto pref = delay_preference(replay, epochs.steps("delay", task.grid()), 0.0);
        int sel = 0, agree = 0;
        for (std::size_t i = 0; i < pref.size(); ++i)
            if (target_pref[i] != 0) ++sel, agree += pref[i] == target_pref[i];
        rec.agreement = sel > 0 ? double(agree) / sel : NAN;
        const Matrix<double> X = concatenate_conditions<double>(right, left);
        const Vector<double> ratio = explained_variance_ratio<double>(X);
        rec.pca_dim = double(pca_dimension<double>(X, o.pca_variance));
        rec.participation_ratio = 1.0 / ratio.squaredNorm();
    }
    rec.reject_reason = keep_verdict(rec, o.keep);
    rec.kept = rec.reject_reason.empty();
    rec.total_seconds = seconds();
    if (!rec.kept) return;

    // Noise thresholds and collapse direction.
    const auto judge = SeparationClassifier<double>::fit(task, o.separation_window_ms);
    const auto& d = epochs["delay"];
    const TimeWindow windows[2] = {TimeWindow::whole_trial(), TimeWindow{d.start_ms, std::min(d.end_ms, d.start_ms + o.delay_noise_ms)}};
    const double scale = std::sqrt(1.0 / (2.0 * o.tau));  // the study's amplitude → per-step input SD
    const std::uint64_t noise_seed = o.seed * 0x9E3779B97F4A7C15ULL + 0x4E4F;
    for (int m = 0; m < 2; ++m)
        for (int w = 0; w < 2; ++w)
            for (std::size_t l = 0; l < o.noise_amplitudes.size(); ++l) {
                double frac[2];
                for (index_t c = 0; c < 2; ++c) {
                    const long first =
                        long(k) * 1000000L + ((long(m) * 2 + w) * 64 + long(l)) * 2000L + long(c) * 1000L;
                    const auto t = judge_trials(task, judge, c, o.noise_trials, [&](long j) {
                        WindowNoise<double> noise({.amplitude = o.noise_amplitudes[l] * scale, .window = windows[w],
                                                   .sharing = m == noise_shared ? NoiseSharing::common
                                                                                : NoiseSharing::independent});
                        return task.run(c, Trial{first + j, noise_seed}, noise);
                    }, 10, 1);
                    frac[c] = t.fraction_correct();
                }
                if (std::min(frac[0], frac[1]) < o.collapse_fraction) {
                    rec.threshold[m][w] = o.noise_amplitudes[l];
                    rec.collapse[m][w] = frac[0] < frac[1] ? 1 : (frac[1] < frac[0] ? -1 : 0);
                    break;
                }
            }

    // Photoinhibition of the trained network.
    PhotoinhibitionOptions po;
    po.duration_ms = o.light_ms;
    po.background_noise = o.photo_noise;
    po.trials = o.photo_trials;
    po.seed = o.seed * 0x9E3779B97F4A7C15ULL + 0x5048;
    po.threads = 1;
    for (int c = 0; c < 2; ++c) {
        rec.photo_recovery[c].assign(o.light_levels.size(), NAN);
        rec.photo_endpoint[c].assign(o.light_levels.size(), NAN);
    }
    for (std::size_t l = 0; l < o.light_levels.size(); ++l)
        for (index_t c = 0; c < 2; ++c) {
            const long first = long(k) * 1000000L + (long(l) * 2 + long(c)) * 1000L;
            const auto t = run_photoinhibited_trials(task, judge, c, InhibitionMode::drive, o.light_levels[l], po, first);
            rec.photo_recovery[c][l] = t.fraction_correct();
            double e = 0;
            for (double v : t.endpoint) e += v;
            rec.photo_endpoint[c][l] = e / double(t.endpoint.size());
        }
    rec.total_seconds = seconds();
}

}  // namespace detail

/// Run every arm × realisation (see the file comment). `rates`: (2, units, 1-ms steps), right
/// and left, any non-negative unit (normalised here per protocol, as `rajan_training` does);
/// `epochs` must contain "delay" (and "presample" for the frozen inputs' shared epochs).
/// Cut to the study's trial first with `study_trial` if wanted.
inline ProtocolComparisonResult run_protocol_comparison(const xt::xtensor<double, 3>& rates, const TaskEpochs& epochs,
                                                        const ProtocolComparisonOptions& o) {
    require(rates.shape()[0] == 2, "targets", "shape with " + std::to_string(rates.shape()[0]) + " conditions",
            "must be (2, units, steps): index 0 right, 1 left");
    const auto N = index_t(rates.shape()[1]), K = index_t(rates.shape()[2]);
    o.validate(N, K);
    for (double v : rates)
        require(std::isfinite(v) && v >= 0, "targets", v, "must be finite rates >= 0");
    require(epochs.has("delay") && epochs.has("presample"), "epochs", "no 'delay' or 'presample' epoch",
            "must contain presample and delay");
    require(std::abs(epochs.trial_ms() - double(K)) < 1e-6, "epochs", epochs.trial_ms(),
            "must span the targets' " + std::to_string(K) + " 1-ms steps");
    ProtocolComparisonResult out;
    out.options = o;
    out.options.progress = {};
    out.units = N;
    out.steps = K;
    const StepRange delay = epochs.steps("delay", TimeGrid(1.0, K));
    const auto pref = delay_preference(rates, delay, o.selectivity_threshold);
    for (int p : pref) out.selective_units += p != 0;
    require(out.selective_units > 0, "targets", "no delay-selective unit",
            "need at least one unit with |R - L|/(R + L) >= selectivity_threshold over the delay");
    // Targets per (protocol, variant): normalised as rajan_training does (seed: ε = 1e-5).
    auto targets_for = [&](const ComparisonArm& a) {
        const auto r = a.variant == TargetVariant::suppressed ? suppress_nonpreferred(rates, pref) : rates;
        const double clip = a.protocol == learn::ForceProtocol::seed ? RajanOptions::seed_protocol().target_clip : 0.0;
        xt::xtensor<double, 3> t = clip > 0 ? normalise_jointly(r, clip) : normalise_jointly(r);
        if (a.start == StartNetwork::chaotic) t = 2.0 * t - 1.0;
        return t;
    };
    std::vector<xt::xtensor<double, 3>> targets;
    for (const auto& a : o.arms) {
        out.arms.push_back(a.name());
        targets.push_back(targets_for(a));
    }
    const long jobs = long(o.arms.size()) * long(o.realizations);
    out.records.resize(std::size_t(jobs));
    std::mutex io;
    long done = 0;
    for_each_trial(
        jobs, std::size_t(jobs),
        [&](long j, std::size_t) {
            const auto a = std::size_t(j / o.realizations);
            const index_t k = index_t(j % o.realizations);
            ComparisonRecord& rec = out.records[std::size_t(j)];
            rec.arm = out.arms[a];
            rec.arm_index = index_t(a);
            rec.realization = k;
            try {
                if (o.arms[a].start == StartNetwork::chaotic)
                    detail::run_comparison_job<Tanh<double>>(o, o.arms[a], k, targets[a], pref, epochs, rec);
                else
                    detail::run_comparison_job<Logistic<double>>(o, o.arms[a], k, targets[a], pref, epochs, rec);
            } catch (const numerical_error& e) {
                // A run that diverges is a failed run, not a failed study.
                rec.kept = false;
                rec.reject_reason = std::string("numerical failure: ") + e.what();
            }
            std::lock_guard<std::mutex> lock(io);
            ++done;
            if (o.progress) o.progress(done, jobs);
        },
        [](long, std::size_t) {}, {.threads = o.threads});
    return out;
}

}  // namespace neurodyn
