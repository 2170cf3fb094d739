#pragma once
/// \file session_statistics.hpp
/// Summary statistics of an ALM session, each measured with the library's own analyses, to
/// say how close a session (real, synthetic or surrogate) is to the recordings. Delay
/// selectivity, the across-trial variability, bVar and the CD endpoints are those of
/// `run_session_analysis` (experiments/session_analysis.hpp, the protocol of
/// alm_session_analysis), called once with the options below; this file adds the window
/// averages and the summary numbers:
///
/// | statistic | how |
/// |---|---|
/// | error fraction | codes 3–4 among the analysed (codes 1–4) control trials |
/// | unit rates | mean rate of each unit over the whole trial, control trials (5th/50th/95th percentile) |
/// | delay-selective units | `delay_selectivity` (rank-sum p < alpha, correct control trials) |
/// | across-trial variability | `SessionAnalysis::variability`: `across_trial_variability` of the selective units on `psth_tensor` rates (101-ms boxcar, cue-aligned, every `stride` bins) of correct control trials per type, averaged over a pre-sample window [sample − 600 ms, sample − 100 ms) and an end-of-delay window [cue − 250 ms, cue − 50 ms) |
/// | bVar | `SessionAnalysis::bvar_right/left`: `bvar` of `session_targets` (1-ms trial averages of correct control trials), per type |
/// | CD endpoints | `SessionAnalysis::endpoints` of the held-out trials (`test_right`, `test_left`): correct control trials split in half (`Rng(seed, 0, 11)`), `CodingDirection` fitted on the training halves over the last `cd_window_ms` before the cue, normalised on the held-out halves (median right 1, left 0); SD of the held-out endpoints per type, Ashman's D between the types, and the bimodality coefficient of the pooled held-out endpoints |
/// | go-cue responses | rank-sum test (p < alpha) of the mean rate in [cue, cue + 300 ms) against [cue − 300 ms, cue) over correct control trials of both types |
///
/// Sample onsets and go cues are taken from the trials (their median offsets after cue
/// alignment). Bimodality coefficient (SAS): BC = (G1² + 1)/(G2 + 3(n−1)²/((n−2)(n−3))) with
/// G1, G2 the bias-corrected skewness and excess kurtosis; BC > 5/9 suggests two modes (a
/// balanced mixture of two normals one unit apart with SD σ has BC > 5/9 for σ < ≈ 0.27).
/// Ashman's D = √2 |m_R − m_L| / √(s_R² + s_L²); D > 2 means cleanly separated modes.
///
/// \code
/// neurodyn::Session s = neurodyn::load_matlab_session("ALM_session.mat");
/// neurodyn::SessionStatistics st = neurodyn::session_statistics(s);
/// std::cout << st.selective_fraction << " of units delay-selective, bVar " << st.bvar[0] << '\n';
/// \endcode
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "neurodyn/analysis/psth.hpp"
#include "neurodyn/analysis/ranksum.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/data/session.hpp"
#include "neurodyn/experiments/session_analysis.hpp"

namespace neurodyn {

/// Parameters of `session_statistics` (the defaults are alm_session_analysis's; the first
/// four are passed to `run_session_analysis` as window_ms, stride, seed and alpha).
struct SessionStatisticsOptions {
    double cd_window_ms = 400;     ///< CD window: the last cd_window_ms before the go cue
    std::ptrdiff_t stride = 10;    ///< bins between the kept samples of the single-trial PSTHs
    std::uint64_t seed = 1;        ///< seed of the CD train/test split
    double alpha = 0.05;           ///< rank-sum level (delay selectivity, go-cue responses)
    double cue_window_ms = 300;    ///< go-cue test: this long after vs before the cue

    void validate() const {
        require(std::isfinite(cd_window_ms) && cd_window_ms > 0, "cd_window_ms", cd_window_ms, "must be > 0");
        require(stride >= 1, "stride", stride, "must be >= 1");
        require(alpha > 0 && alpha < 1, "alpha", alpha, "must be in (0, 1)");
        require(std::isfinite(cue_window_ms) && cue_window_ms > 0, "cue_window_ms", cue_window_ms, "must be > 0");
    }
};

/// What `session_statistics` measures (index 0: right trials, 1: left trials).
struct SessionStatistics {
    std::size_t units = 0;
    std::size_t correct_trials[2] = {0, 0};      ///< correct control trials per type
    std::size_t error_trials[2] = {0, 0};        ///< error control trials per type
    double error_fraction = 0;                   ///< errors / analysed control trials
    /// Error fraction of the photoinhibition trials per stim condition code (code, fraction, trials).
    std::vector<std::array<double, 3>> stim_error_fraction;
    double rate_p5 = 0, rate_p50 = 0, rate_p95 = 0;  ///< percentiles of the units' mean rates, Hz
    std::size_t selective_units = 0;
    double selective_fraction = 0;
    double variability_pre[2] = {0, 0};          ///< mean across-trial SD (Hz), pre-sample window
    double variability_end[2] = {0, 0};          ///< … end-of-delay window
    double variability_ratio[2] = {0, 0};        ///< end / pre
    double bvar[2] = {0, 0};
    double endpoint_sd[2] = {0, 0};              ///< SD of the held-out correct endpoints (normalised)
    double ashman_d = 0;
    double bimodality = 0;                       ///< bimodality coefficient of the pooled endpoints
    std::size_t cue_units = 0;                   ///< units responding to the go cue
    double cue_fraction = 0;
};

namespace detail {
/// q-quantile (linear interpolation between order statistics) of a non-empty vector.
inline double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const auto lo = std::size_t(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}
inline double mean_of(std::span<const double> v) {
    double s = 0;
    for (double x : v) s += x;
    return s / double(v.size());
}
inline double sd_of(std::span<const double> v) {
    const double m = mean_of(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size() - 1));
}
}  // namespace detail

/// SAS bimodality coefficient of a sample (needs >= 4 values that are not all equal).
inline double bimodality_coefficient(std::span<const double> v) {
    const double n = double(v.size());
    require(v.size() >= 4, "bimodality sample", v.size(), "needs at least 4 values");
    const double m = detail::mean_of(v);
    double m2 = 0, m3 = 0, m4 = 0;
    for (double x : v) {
        const double d = x - m;
        m2 += d * d;
        m3 += d * d * d;
        m4 += d * d * d * d;
    }
    m2 /= n, m3 /= n, m4 /= n;
    require(m2 > 0, "bimodality sample", "constant", "must vary");
    const double g1 = m3 / std::pow(m2, 1.5), g2 = m4 / (m2 * m2) - 3;
    const double G1 = g1 * std::sqrt(n * (n - 1)) / (n - 2);
    const double G2 = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6);
    return (G1 * G1 + 1) / (G2 + 3 * (n - 1) * (n - 1) / ((n - 2) * (n - 3)));
}

/// The statistics of the file comment. Needs at least 4 correct control trials of each type
/// and at least one delay-selective unit (for the variability).
inline SessionStatistics session_statistics(const Session& s, const SessionStatisticsOptions& o = {}) {
    o.validate();
    s.validate();
    SessionStatistics st;
    st.units = s.n_units();
    const auto right = s.trials_where(TrialFilter::correct_right), left = s.trials_where(TrialFilter::correct_left);
    require(right.size() >= 4 && left.size() >= 4, "session '" + s.source + "' correct control trials",
            std::to_string(right.size()) + " right, " + std::to_string(left.size()) + " left",
            "needs at least 4 of each type");
    st.correct_trials[0] = right.size();
    st.correct_trials[1] = left.size();
    st.error_trials[0] = s.trials_where(TrialFilter::error_right).size();
    st.error_trials[1] = s.trials_where(TrialFilter::error_left).size();
    st.error_fraction = double(st.error_trials[0] + st.error_trials[1]) /
                        double(st.error_trials[0] + st.error_trials[1] + right.size() + left.size());
    {
        std::map<double, std::array<double, 2>> by_code;  // code → (errors, trials)
        for (std::size_t k : s.trials_where(TrialFilter::analysed, true)) {
            auto& c = by_code[s.trials[k].photostim];
            c[0] += s.trials[k].error();
            c[1] += 1;
        }
        for (const auto& [code, c] : by_code) st.stim_error_fraction.push_back({code, c[0] / c[1], c[1]});
    }

    // Mean rate of every unit over the whole recorded trial, control trials.
    const auto control = s.trials_where(TrialFilter::analysed);
    const double t0 = s.t_axis.front(), t1 = s.t_axis.back();
    const Matrix<double> whole = window_rates<double>(s, control, [&](const SessionTrial&) { return std::pair{t0, t1}; });
    {
        std::vector<double> r(std::size_t(whole.cols()));
        for (index_t u = 0; u < whole.cols(); ++u) r[std::size_t(u)] = whole.col(u).mean();
        st.rate_p5 = detail::quantile(r, 0.05);
        st.rate_p50 = detail::quantile(r, 0.5);
        st.rate_p95 = detail::quantile(r, 0.95);
    }

    // Selectivity, the CD split and fit, the variability and bVar: alm_session_analysis's protocol.
    SessionAnalysisOptions ao;
    ao.window_ms = o.cd_window_ms;
    ao.stride = o.stride;
    ao.seed = o.seed;
    ao.alpha = o.alpha;
    const SessionAnalysis<float> a = run_session_analysis<float>(s, ao);
    st.selective_units = a.selective.size();
    st.selective_fraction = double(a.selective.size()) / double(s.n_units());
    st.bvar[0] = a.bvar_right;
    st.bvar[1] = a.bvar_left;

    // Across-trial variability of the selective units, averaged over the windows (s from the
    // aligned cue; the sample onset at the trials' median offset).
    require(!a.selective.empty(), "session '" + s.source + "'", "no delay-selective unit",
            "the variability needs at least one");
    std::vector<std::size_t> trials(right);
    trials.insert(trials.end(), left.begin(), left.end());
    std::vector<double> sample_offset;
    for (std::size_t k : trials) sample_offset.push_back(s.trials[k].sample_start - s.trials[k].cue_start);
    const double sample = detail::quantile(sample_offset, 0.5);
    const auto window_mean = [&](index_t g, double from, double to) {
        const auto at = [&](double t) {  // first kept sample at or after t
            return index_t(std::lower_bound(a.times.begin(), a.times.end(), t - 1e-9) - a.times.begin());
        };
        const index_t i0 = at(from), i1 = std::max(at(to), i0 + 1);
        require(i1 <= a.variability.cols(), "statistics window",
                "[" + detail::to_text(from) + ", " + detail::to_text(to) + ") s from the cue",
                "must lie inside the session's time axis");
        return double(a.variability.row(g).segment(i0, i1 - i0).mean());
    };
    for (index_t g = 0; g < 2; ++g) {
        st.variability_pre[g] = window_mean(g, sample - 0.6, sample - 0.1);
        st.variability_end[g] = window_mean(g, -0.25, -0.05);
        st.variability_ratio[g] = st.variability_end[g] / st.variability_pre[g];
    }

    // CD endpoints of the held-out correct control trials.
    {
        std::map<std::size_t, double> end_of;
        for (const auto& e : a.endpoints)
            if (e.test) end_of[e.trial] = e.endpoint;
        const auto ends = [&](const std::vector<std::size_t>& ks) {
            std::vector<double> v;
            for (std::size_t k : ks) v.push_back(end_of.at(k));
            return v;
        };
        const std::vector<double> vr = ends(a.test_right), vl = ends(a.test_left);
        st.endpoint_sd[0] = detail::sd_of(vr);
        st.endpoint_sd[1] = detail::sd_of(vl);
        st.ashman_d = std::sqrt(2.0) * std::abs(detail::mean_of(vr) - detail::mean_of(vl)) /
                      std::sqrt(st.endpoint_sd[0] * st.endpoint_sd[0] + st.endpoint_sd[1] * st.endpoint_sd[1]);
        std::vector<double> pooled(vr);
        pooled.insert(pooled.end(), vl.begin(), vl.end());
        st.bimodality = bimodality_coefficient(pooled);
    }

    // Go-cue responses.
    {
        const double w = o.cue_window_ms * 1e-3;
        const Matrix<double> after =
            window_rates<double>(s, trials, [w](const SessionTrial& t) { return std::pair{t.cue_start, t.cue_start + w}; });
        const Matrix<double> before =
            window_rates<double>(s, trials, [w](const SessionTrial& t) { return std::pair{t.cue_start - w, t.cue_start}; });
        for (index_t u = 0; u < after.cols(); ++u) {
            const std::span<const double> a(after.col(u).data(), std::size_t(after.rows()));
            const std::span<const double> b(before.col(u).data(), std::size_t(before.rows()));
            st.cue_units += rank_sum<double>(a, b).p < o.alpha;
        }
        st.cue_fraction = double(st.cue_units) / double(s.n_units());
    }
    return st;
}

}  // namespace neurodyn
