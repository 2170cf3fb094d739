// Tests for experiments/session_analysis.hpp: the whole protocol on a session whose answer is
// known by construction. Units fire regular spike trains (no noise), so every trial of a kind
// is identical: the rank-sum p-value follows from the tie-corrected normal approximation, the
// coding direction is exactly (1, -1, 0)/sqrt(2) by the right/left symmetry of the two
// selective units, held-out right/left endpoints are exactly 1/0, error trials land on the
// other type's endpoint, and photoinhibited trials whose selective units are silent around the
// CD window land exactly half-way (0.5).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <span>
#include <vector>

#include "neurodyn/core/rng.hpp"
#include "neurodyn/experiments/alm_surrogate_session.hpp"
#include "neurodyn/experiments/session_analysis.hpp"

using namespace neurodyn;

namespace {
// Regular spikes at `rate` Hz on [0, 3) s starting at half a period, none in [off_begin, off_end).
void add_regular(std::vector<double>& times, std::vector<std::size_t>& trial, std::size_t k, double rate,
                 double off_begin = 0, double off_end = 0) {
    const double period = 1.0 / rate;
    for (int i = 0;; ++i) {
        const double t = (i + 0.5) * period;
        if (t >= 3.0) break;
        if (t >= off_begin && t < off_end) continue;
        times.push_back(t);
        trial.push_back(k);
    }
}

/// Trial kinds of the planted session, in trial order.
enum Kind { correct_right, correct_left, error_right, error_left, stim_right, dropped };

/// Unit 0 fires 20 Hz on "right-like" trials (correct right, and error left: the animal licked
/// right) and 5 Hz on left-like ones; unit 1 the reverse; unit 2 fires 10 Hz always. On
/// photoinhibited (right) trials units 0 and 1 are silent in [1.0, 2.5) s. Sample 0.5 s, delay
/// 1.0 s, go cue 2.0 s on every trial; 1-ms bins over [0, 3) s.
Session planted(int n_correct = 10) {
    std::vector<Kind> kinds;
    for (int i = 0; i < n_correct; ++i) kinds.insert(kinds.end(), {correct_right, correct_left});
    kinds.insert(kinds.end(), {error_right, error_left, error_right, error_left, stim_right, stim_right, stim_right,
                               stim_right, dropped});
    Session s;
    s.source = "planted";
    for (int i = 0; i <= 3000; ++i) s.t_axis.push_back(i * 1e-3);
    std::vector<double> t[3];
    std::vector<std::size_t> k[3];
    for (std::size_t n = 0; n < kinds.size(); ++n) {
        const Kind kind = kinds[n];
        const int code = kind == correct_right || kind == stim_right ? 1
                         : kind == correct_left                      ? 2
                         : kind == error_right                       ? 3
                         : kind == error_left                        ? 4
                                                                     : 5;
        s.trials.push_back({code, 0.5, 1.0, 2.0, kind == stim_right ? 1.0 : 0.0});
        const bool right_like = kind == correct_right || kind == error_left || kind == stim_right;
        const double off0 = kind == stim_right ? 1.0 : 0.0, off1 = kind == stim_right ? 2.5 : 0.0;
        add_regular(t[0], k[0], n, right_like ? 20 : 5, off0, off1);
        add_regular(t[1], k[1], n, right_like ? 5 : 20, off0, off1);
        add_regular(t[2], k[2], n, 10);
    }
    for (int u = 0; u < 3; ++u) s.units.push_back(SessionUnit::from_spikes(t[u], k[u], kinds.size()));
    return s;
}

/// Two-sided rank-sum p of two fully separated samples of n tied values each (normal
/// approximation, tie and continuity corrections), from the formula.
double separated_p(double n) {
    const double N = 2 * n, w = n * (3 * n + 1) / 2;  // the first sample holds ranks n+1 … 2n
    const double mean = n * (N + 1) / 2, ties = 2 * (n * n * n - n);
    const double var = n * n / 12 * ((N + 1) - ties / (N * (N - 1)));
    return std::erfc((w - mean - 0.5) / std::sqrt(var) / std::sqrt(2.0));
}
}  // namespace

TEST_CASE_TEMPLATE("run_session_analysis: selectivity, CD, endpoints, groups, variability and targets of a planted session",
                   T, float, double) {
    const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-11;
    const Session s = planted();
    const auto a = run_session_analysis<T>(s, {});
    CHECK(a.first_trial == 0);
    CHECK(a.last_trial == s.n_trials() - 1);

    // Delay selectivity: 20 vs 5 spikes in the 1-s delay on every correct trial.
    REQUIRE(a.selectivity.size() == 3);
    CHECK(a.selectivity[0].label == Preference::right);
    CHECK(a.selectivity[1].label == Preference::left);
    CHECK(a.selectivity[2].label == Preference::none);
    CHECK(a.selectivity[0].mean_right == doctest::Approx(20).epsilon(1e-12));
    CHECK(a.selectivity[0].mean_left == doctest::Approx(5).epsilon(1e-12));
    CHECK(a.selectivity[0].index == doctest::Approx(0.6).epsilon(1e-12));  // (20 - 5)/(20 + 5)
    CHECK(a.selectivity[1].index == doctest::Approx(-0.6).epsilon(1e-12));
    CHECK(a.selectivity[2].index == 0.0);
    CHECK(a.selectivity[2].p_value == 1.0);  // every value tied
    CHECK(a.selectivity[0].p_value == doctest::Approx(separated_p(10)).epsilon(1e-9));
    CHECK(a.selectivity[0].p_value == doctest::Approx(1.59e-5).epsilon(0.02));  // z = 49.5/sqrt(131.58) = 4.315
    CHECK(a.selective == std::vector<std::size_t>{0, 1});
    CHECK(a.right_preferring == 1);
    CHECK(a.left_preferring == 1);
    CHECK(a.example_units == std::array<std::size_t, 3>{0, 1, 2});

    // Trial sets: the dropped trial and the photoinhibited ones are not correct control trials.
    CHECK(a.correct_right.size() == 10);
    CHECK(a.correct_left.size() == 10);
    CHECK(a.photoinhibited == std::vector<std::size_t>{24, 25, 26, 27});
    CHECK(a.train_right.size() == 5);
    CHECK(a.test_right.size() == 5);
    CHECK(a.train_left.size() == 5);
    CHECK(a.test_left.size() == 5);
    std::set<std::size_t> right(a.train_right.begin(), a.train_right.end());
    right.insert(a.test_right.begin(), a.test_right.end());
    CHECK(right == std::set<std::size_t>(a.correct_right.begin(), a.correct_right.end()));

    // Time axis: 10-ms samples at bin centres, relative to the 2.0-s cue.
    CHECK(a.times.size() == 300);
    CHECK(a.times[200] == doctest::Approx(0.0005).epsilon(1e-9));

    // CD = (r_R - r_L)/|.|: unit 0 and 1 are mirror images, unit 2 does not differ at all.
    const Vector<T>& w = a.cd.weights();
    CHECK(double(w(0)) == doctest::Approx(1 / std::sqrt(2.0)).epsilon(tol));
    CHECK(double(w(1)) == doctest::Approx(-1 / std::sqrt(2.0)).epsilon(tol));
    CHECK(w(2) == T(0));

    // Endpoints of every analysed trial not used for the fit: 28 analysed - 10 fitted.
    REQUIRE(a.endpoints.size() == 18);
    int tests = 0;
    for (const auto& e : a.endpoints) {
        const auto& tr = s.trials[e.trial];
        const double want = tr.stimulated() ? 0.5 : (tr.response == 1 || tr.response == 4) ? 1.0 : 0.0;
        INFO("trial " << e.trial << " code " << tr.response);
        CHECK(e.endpoint == doctest::Approx(want).epsilon(tol).scale(1));
        CHECK(e.test == (tr.correct() && !tr.stimulated()));
        tests += e.test;
    }
    CHECK(tests == 10);
    // Histograms of the held-out correct trials: everything at 1 (right) or 0 (left), which
    // sit on bin edges (-0.5 + 0.1 b), so either neighbouring bin under rounding.
    CHECK(a.right_histogram.counts[14] + a.right_histogram.counts[15] == 5);
    CHECK(a.left_histogram.counts[4] + a.left_histogram.counts[5] == 5);

    // Projection groups, sorted by (type: left first, outcome, photostim level).
    REQUIRE(a.groups.size() == 6);
    const char* names[6] = {"left_error", "left_correct", "right_error", "right_correct", "right_correct_stim1",
                            "right_all_stim1"};
    const long ns[6] = {2, 5, 2, 5, 4, 4};
    const double ends[6] = {1, 0, 0, 1, 0.5, 0.5};
    const StepRange win = a.cd.window();
    CHECK(win.size() == 40);  // 400 ms at 10 ms
    for (int g = 0; g < 6; ++g) {
        const auto& grp = a.groups[std::size_t(g)];
        INFO("group " << grp.name());
        CHECK(grp.name() == names[g]);
        CHECK(grp.n == ns[g]);
        REQUIRE(grp.mean.size() == a.times.size());
        double m = 0, sem = 0;
        for (auto j = win.first; j < win.last; ++j) m += grp.mean[std::size_t(j)], sem = std::max(sem, grp.sem[std::size_t(j)]);
        CHECK(m / double(win.size()) == doctest::Approx(ends[g]).epsilon(tol).scale(1));
        CHECK(sem < 1e-6);  // identical trials
    }

    // Variability of the selective units over identical correct trials: exactly 0 (error
    // trials, which look like the other type, would make it positive).
    REQUIRE(a.variability.rows() == 2);
    CHECK(a.variability.cols() == 300);
    CHECK(a.variability.cwiseAbs().maxCoeff() == T(0));

    // Targets at 1 ms: unit 0 on right trials is unit 1 on left trials, bit for bit; bVar is
    // symmetric under that relabelling.
    REQUIRE(a.targets.shape()[0] == 2);
    REQUIRE(a.targets.shape()[1] == 3);
    REQUIRE(a.targets.shape()[2] == 3000);
    for (std::size_t j = 0; j < 3000; ++j) {
        REQUIRE(a.targets(0, 0, j) == a.targets(1, 1, j));
        REQUIRE(a.targets(0, 2, j) == a.targets(1, 2, j));
    }
    double mean20 = 0;  // interior mean of the smoothed 20-Hz train (1.1-1.9 s, 16 periods)
    for (std::size_t j = 1100; j < 1900; ++j) mean20 += a.targets(0, 0, j) / 800.0;
    CHECK(mean20 == doctest::Approx(20).epsilon(0.02));
    CHECK(a.bvar_right == doctest::Approx(a.bvar_left).epsilon(1e-12));
    CHECK(a.target_times[2000] == doctest::Approx(0.0005).epsilon(1e-9));
}

TEST_CASE("run_session_analysis: Poisson units with planted rates - the CD points along the rate difference") {
    // 6 units firing Poisson spikes at constant planted rates; 40 correct right and 40 correct
    // left trials. The CD fitted on 20 + 20 trials estimates d = r_R - r_L = (20, -20, 0, 0, -10,
    // 10) Hz; each window mean counts spikes over ~0.5 s (400-ms window + the 101-ms boxcar), so
    // the error of d_u has variance ~(r_R + r_L)/(0.5 * 20): summed over units 12.5 Hz^2, against
    // |d|^2 = 1000. The expected cosine is ~1 - 12.5/2000 = 0.994; 0.95 is several SD away.
    const double rate_r[6] = {30, 10, 20, 20, 5, 15}, rate_l[6] = {10, 30, 20, 20, 15, 5};
    Session s;
    s.source = "poisson";
    for (int i = 0; i <= 3000; ++i) s.t_axis.push_back(i * 1e-3);
    const std::size_t n_trials = 80;
    for (std::size_t k = 0; k < n_trials; ++k) s.trials.push_back({int(k % 2) + 1, 0.5, 1.0, 2.0, 0.0});
    Rng rng(5);
    for (int u = 0; u < 6; ++u) {
        std::vector<double> times;
        std::vector<std::size_t> trial;
        for (std::size_t k = 0; k < n_trials; ++k) {
            const double rate = k % 2 == 0 ? rate_r[u] : rate_l[u];
            for (double t = -std::log(rng.uniform_open()) / rate; t < 3.0; t += -std::log(rng.uniform_open()) / rate) {
                times.push_back(t);
                trial.push_back(k);
            }
        }
        s.units.push_back(SessionUnit::from_spikes(times, trial, n_trials));
    }
    const auto a = run_session_analysis<double>(s, {});
    Vector<double> d(6);
    for (int u = 0; u < 6; ++u) d(u) = rate_r[u] - rate_l[u];
    const double cosine = a.cd.weights().dot(d) / d.norm();
    MESSAGE("cos(CD, planted r_R - r_L) = " << cosine);
    CHECK(cosine > 0.95);
    // Delay selectivity of the strongly tuned units: 30 vs 10 spikes/s over 1 s on 40 vs 40
    // trials (z ~ 7) and 15 vs 5 (z ~ 6.5): p far below 0.05, labels from the planted sign.
    CHECK(a.selectivity[0].label == Preference::right);
    CHECK(a.selectivity[1].label == Preference::left);
    CHECK(a.selectivity[4].label == Preference::left);
    CHECK(a.selectivity[5].label == Preference::right);
    CHECK(a.selectivity[0].p_value < 1e-6);
    // Normalisation: the median held-out endpoint is 1 (right) and 0 (left) by definition.
    std::vector<double> right, left;
    for (const auto& e : a.endpoints)
        if (e.test) (s.trials[e.trial].right() ? right : left).push_back(e.endpoint);
    REQUIRE(right.size() == 20);
    REQUIRE(left.size() == 20);
    CHECK(median(right) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(median(left) == doctest::Approx(0.0).epsilon(1e-12).scale(1));
}

TEST_CASE("run_session_analysis: the split follows the seed, the planted answer does not") {
    const Session s = planted();
    SessionAnalysisOptions o;
    o.seed = 2;
    const auto a = run_session_analysis<double>(s, {}), b = run_session_analysis<double>(s, o);
    CHECK(a.train_right != b.train_right);  // 252 ways to choose 5 of 10
    CHECK((a.cd.weights() - b.cd.weights()).cwiseAbs().maxCoeff() < 1e-14);
    // The same seed gives the same split and the same numbers.
    const auto c = run_session_analysis<double>(s, {});
    CHECK(a.train_right == c.train_right);
    CHECK(a.train_left == c.train_left);
    for (std::size_t i = 0; i < a.endpoints.size(); ++i) CHECK(a.endpoints[i].endpoint == c.endpoints[i].endpoint);
}

TEST_CASE("run_session_analysis: bad options and sessions too small are refused by name") {
    const Session s = planted();
    SessionAnalysisOptions o;
    o.window_ms = 0;
    CHECK_THROWS_WITH_AS(run_session_analysis<float>(s, o), doctest::Contains("window_ms"), invalid_parameter);
    o = {};
    o.window_ms = std::nan("");
    CHECK_THROWS_WITH_AS(run_session_analysis<float>(s, o), doctest::Contains("window_ms"), invalid_parameter);
    o = {};
    o.stride = 0;
    CHECK_THROWS_WITH_AS(run_session_analysis<float>(s, o), doctest::Contains("stride"), invalid_parameter);
    o = {};
    o.alpha = 1;
    CHECK_THROWS_WITH_AS(run_session_analysis<float>(s, o), doctest::Contains("alpha"), invalid_parameter);
    // A window longer than the time before the go cue is refused, not cut to the axis.
    o = {};
    o.window_ms = 1e5;
    CHECK_THROWS_WITH_AS(run_session_analysis<float>(s, o), doctest::Contains("'window_ms' = 100000: must fit"),
                         invalid_parameter);
    // A stride that leaves no sample in the window names the stride too.
    o = {};
    o.stride = 100000;
    CHECK_THROWS_WITH_AS(run_session_analysis<float>(s, o), doctest::Contains("with stride = 100000"),
                         invalid_parameter);
    // One correct trial of each type cannot both fit and normalise a CD.
    CHECK_THROWS_WITH_AS(run_session_analysis<float>(planted(1), {}), doctest::Contains("at least 2 correct"),
                         invalid_parameter);
}

TEST_CASE("the building blocks of docs/analysis.md give run_session_analysis's CD and endpoints bit for bit") {
    AlmSurrogateOptions so;  // 87 units, 40 control trials per type, seed 1
    const Session s = alm_surrogate_session(so);
    // ---- the code of docs/analysis.md, "Building blocks, step by step"
    const std::vector<std::size_t> right = s.trials_where(TrialFilter::correct_right);
    const std::vector<std::size_t> left = s.trials_where(TrialFilter::correct_left);
    const std::vector<UnitSelectivity> sel = delay_selectivity<double>(s);
    const std::vector<std::size_t> selective = selective_units(sel);
    std::vector<std::size_t> trials = right;
    trials.insert(trials.end(), left.begin(), left.end());
    PsthOptions popt;
    popt.stride = 10;
    const xt::xtensor<double, 3> rates = psth_tensor<double>(s, trials, popt);
    const PsthGrid grid(s, popt);
    const double cue = grid.aligned_cue();
    std::vector<std::size_t> rows_right(right.size()), rows_left(left.size());
    std::iota(rows_right.begin(), rows_right.end(), std::size_t(0));
    std::iota(rows_left.begin(), rows_left.end(), right.size());
    Rng rng(1, 0, 11);
    const auto [train_r, test_r] = split_half(rows_right, rng);
    const auto [train_l, test_l] = split_half(rows_left, rng);
    const StepRange window{grid.index_at(cue - 0.4), grid.index_at(cue)};
    auto cd = CodingDirection<double>::fit(rates, train_r, train_l, window);
    cd.normalise(cd.endpoints(cd.project(rates, test_r)), cd.endpoints(cd.project(rates, test_l)));
    const Matrix<double> proj = cd.project(rates, test_r);
    const Vector<double> ends = cd.endpoints(proj);
    const Histogram h = histogram<double>(std::span<const double>(ends.data(), std::size_t(ends.size())), -0.5, 1.5, 20);
    const Matrix<double> sd = across_trial_variability<double>(rates, {rows_right, rows_left}, selective);
    // ---- against the one call
    const auto a = run_session_analysis<double>(s, {});
    REQUIRE(selective == a.selective);
    CHECK(s.median_cue() == cue);
    REQUIRE(cd.weights().size() == a.cd.weights().size());
    CHECK((cd.weights() - a.cd.weights()).cwiseAbs().maxCoeff() == 0.0);
    CHECK(cd.offset() == a.cd.offset());
    CHECK(cd.scale() == a.cd.scale());
    REQUIRE(std::size_t(ends.size()) == test_r.size());
    for (std::size_t i = 0; i < test_r.size(); ++i) {
        const std::size_t trial = trials[test_r[i]];
        const auto it = std::find_if(a.endpoints.begin(), a.endpoints.end(), [&](const TrialEndpoint& e) { return e.trial == trial; });
        REQUIRE(it != a.endpoints.end());
        CHECK(it->test);
        CHECK(it->endpoint == ends(index_t(i)));
    }
    CHECK(h.counts == a.right_histogram.counts);
    // The variability of the one call is over all analysed control trials' PSTHs of each type:
    // the same rows, so the same numbers.
    REQUIRE(sd.rows() == 2);
    REQUIRE(sd.cols() == a.variability.cols());
    CHECK((sd - a.variability).cwiseAbs().maxCoeff() == 0.0);
}
