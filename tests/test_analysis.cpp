// Tests for analysis/: PSTH, rank-sum, selectivity, coding direction, variability, targets,
// bVar, spectra, PCA dimension and numerical rank — each against a known answer (hand
// computations, planted structure, or a theorem with a tolerance from its error scale).
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/analysis/pca.hpp"
#include "neurodyn/analysis/psth.hpp"
#include "neurodyn/analysis/rank.hpp"
#include "neurodyn/analysis/ranksum.hpp"
#include "neurodyn/analysis/selectivity.hpp"
#include "neurodyn/analysis/sequence.hpp"
#include "neurodyn/analysis/spectra.hpp"
#include "neurodyn/analysis/targets.hpp"
#include "neurodyn/analysis/variability.hpp"
#include "neurodyn/core/rng.hpp"

#include <xtensor/xview.hpp>
#include <xtensor/xmath.hpp>

using namespace neurodyn;

namespace {
// A session skeleton: n_trials trials with the given codes cycling, 1-ms bins over [0, T) s,
// cue at `cue` s (plus a per-trial jitter), no units yet.
Session skeleton(std::size_t n_trials, double T, double cue = 1.5, double jitter = 0.0) {
    Session s;
    s.source = "planted";
    const auto n = std::size_t(std::lround(T * 1000));
    s.t_axis.resize(n + 1);
    for (std::size_t i = 0; i <= n; ++i) s.t_axis[i] = double(i) * 1e-3;
    for (std::size_t k = 0; k < n_trials; ++k) {
        const double c = cue + jitter * double(k % 3);
        s.trials.push_back({int(k % 2) + 1, c - 1.0, c - 0.5, c, 0.0});
    }
    return s;
}

// Poisson spikes of constant rate (Hz) on [0, T) for every trial.
SessionUnit poisson_unit(const Session& s, double rate, double T, Rng& rng) {
    std::vector<double> times;
    std::vector<std::size_t> trial;
    for (std::size_t k = 0; k < s.n_trials(); ++k)
        for (double t = -std::log(rng.uniform_open()) / rate; t < T; t += -std::log(rng.uniform_open()) / rate) {
            times.push_back(t);
            trial.push_back(k);
        }
    auto u = SessionUnit::from_spikes(times, trial, s.n_trials());
    return u;
}
}  // namespace

// ---------------------------------------------------------------------------------- PSTH

TEST_CASE_TEMPLATE("boxcar_smooth: hand values with shrinking edge windows, and decimation", T, float, double) {
    const std::vector<double> x{0, 0, 0, 9, 0, 0, 0};
    std::vector<T> y(7);
    boxcar_smooth<T, double>(x, y, 5);
    // k = min(2, i, 6 − i): windows of 1, 3, 5, 5, 5, 3, 1 points.
    const double expect[7] = {0, 0, 1.8, 1.8, 1.8, 0, 0};
    for (int i = 0; i < 7; ++i) CHECK(double(y[std::size_t(i)]) == doctest::Approx(expect[i]).epsilon(1e-6));
    std::vector<T> z(4);
    boxcar_smooth<T, double>(x, z, 5, 2);  // samples 0, 2, 4, 6
    CHECK(double(z[1]) == doctest::Approx(1.8).epsilon(1e-6));
    CHECK(double(z[3]) == 0.0);
    // Edges near a spike: x = {9, 0, 0, 0, 0}: out[1] = 3, out[2] = 9/5.
    const std::vector<double> e{9, 0, 0, 0, 0};
    std::vector<T> ye(5);
    boxcar_smooth<T, double>(e, ye, 5);
    CHECK(double(ye[0]) == doctest::Approx(9.0));
    CHECK(double(ye[1]) == doctest::Approx(3.0));
    CHECK(double(ye[2]) == doctest::Approx(1.8));
    // Against a brute-force MATLAB-style smooth on random data, window 101.
    Rng rng(1);
    std::vector<double> r(700);
    for (auto& v : r) v = rng.uniform();
    std::vector<T> out(700);
    boxcar_smooth<T, double>(r, out, 101);
    for (std::ptrdiff_t i = 0; i < 700; i += 37) {
        const std::ptrdiff_t k = std::min<std::ptrdiff_t>({50, i, 699 - i});
        double m = 0;
        for (std::ptrdiff_t j = i - k; j <= i + k; ++j) m += r[std::size_t(j)];
        CHECK(double(out[std::size_t(i)]) == doctest::Approx(m / double(2 * k + 1)).epsilon(1e-5));
    }
    std::vector<T> wrong(3);
    CHECK_THROWS_WITH_AS((boxcar_smooth<T, double>(x, y, 4)), doctest::Contains("'window' = 4"), invalid_parameter);
    CHECK_THROWS_AS((boxcar_smooth<T, double>(x, wrong, 5)), invalid_parameter);
}

TEST_CASE_TEMPLATE("psth: planted spikes land in their 1-ms bins - rates in Hz - cue alignment", T, float, double) {
    Session s = skeleton(3, 2.0, 1.5, 0.010);  // cues at 1.50, 1.51, 1.52 s: median 1.51
    // One spike per trial, 0.5 s before that trial's cue, plus one at 0.0105 s in trial 0.
    const std::vector<double> t{1.0005, 0.0105, 1.0105, 1.0205};
    const std::vector<std::size_t> k{0, 0, 1, 2};
    s.units.push_back(SessionUnit::from_spikes(t, k, 3));
    PsthOptions raw;
    raw.window_ms = 1;
    raw.align_to_cue = false;
    auto r = psth_tensor<T>(s, std::vector<std::size_t>{0, 1, 2}, raw);
    REQUIRE(r.shape()[0] == 3);
    REQUIRE(r.shape()[1] == 1);
    REQUIRE(r.shape()[2] == 2000);
    CHECK(double(r(0, 0, 1000)) == doctest::Approx(1000.0));  // one spike in a 1-ms bin = 1000 Hz
    CHECK(double(r(0, 0, 10)) == doctest::Approx(1000.0));
    CHECK(double(r(1, 0, 1010)) == doctest::Approx(1000.0));
    CHECK(double(r(2, 0, 1020)) == doctest::Approx(1000.0));
    CHECK(double(xt::sum(r)()) == doctest::Approx(4000.0));
    // Aligned to the median cue (1.51 s): every pre-cue spike moves to bin 1010.
    PsthOptions al = raw;
    al.align_to_cue = true;
    auto a = psth_tensor<T>(s, std::vector<std::size_t>{0, 1, 2}, al);
    for (std::size_t i = 0; i < 3; ++i) CHECK(double(a(i, 0, 1010)) == doctest::Approx(1000.0));
    // 101-ms boxcar: the spike spreads to 1000/101 Hz over bins 950 … 1050 (trial 0, unaligned).
    PsthOptions sm;
    sm.align_to_cue = false;
    auto b = psth_tensor<T>(s, std::vector<std::size_t>{0}, sm);
    CHECK(double(b(0, 0, 950)) == doctest::Approx(1000.0 / 101).epsilon(1e-5));
    CHECK(double(b(0, 0, 1050)) == doctest::Approx(1000.0 / 101).epsilon(1e-5));
    CHECK(double(b(0, 0, 949)) == 0.0);
    CHECK(double(b(0, 0, 1051)) == 0.0);
    // The spike at bin 10 sits inside the shrinking edge: bins 0..9 average fewer points;
    // bin 5 averages bins 0..10 (11 points) and sees the spike.
    CHECK(double(b(0, 0, 5)) == doctest::Approx(1000.0 / 11).epsilon(1e-5));
    CHECK(double(b(0, 0, 4)) == 0.0);  // bins 0..8
    // Decimation keeps every 10th sample of the same smoothed rate.
    sm.stride = 10;
    auto c = psth_tensor<T>(s, std::vector<std::size_t>{0}, sm);
    REQUIRE(c.shape()[2] == 200);
    CHECK(double(c(0, 0, 95)) == doctest::Approx(double(b(0, 0, 950))));
    CHECK(psth_times(s, sm)[95] == doctest::Approx(0.9505));
}

TEST_CASE("psth: Poisson trains average to their rate - the trial average equals the mean of trials") {
    Rng rng(7);
    const double T = 2.0;
    Session s = skeleton(200, T);
    s.units.push_back(poisson_unit(s, 20.0, T, rng));
    s.units.push_back(poisson_unit(s, 5.0, T, rng));
    std::vector<std::size_t> all(200);
    std::iota(all.begin(), all.end(), 0);
    auto avg = trial_average_psth<double>(s, {all});
    // Mean over [0.2, 1.8) s: total count ~ Poisson(rate · 1.6 s · 200 trials); for 20 Hz its
    // relative sd is 1/sqrt(6400) = 1.25 %, so 5 sd = 6.25 % → ±1.25 Hz (±0.63 Hz at 5 Hz).
    const auto mean = [&](std::size_t u) { return double(xt::mean(xt::view(avg, 0, u, xt::range(200, 1800)))()); };
    CHECK(std::abs(mean(0) - 20.0) < 1.25);
    CHECK(std::abs(mean(1) - 5.0) < 0.63);
    // Smoothing is linear: averaging smoothed single trials gives the same tensor.
    auto single = psth_tensor<double>(s, all);
    xt::xtensor<double, 2> m = xt::mean(single, {0});
    CHECK(xt::allclose(m, xt::view(avg, 0), 1e-9, 1e-9));
    // Spike counts over a window: delay_rates uses [delay_start, cue_start) = [1.0, 1.5) s.
    auto d = delay_rates<double>(s, all);
    REQUIRE(d.rows() == 200);
    REQUIRE(d.cols() == 2);
    const auto sp = s.units[0].spikes(3);
    const auto n = std::count_if(sp.begin(), sp.end(), [](double x) { return x >= 1.0 && x < 1.5; });
    CHECK(d(3, 0) == doctest::Approx(double(n) / 0.5));
    // 20 Hz × 0.5 s × 200 trials = 2000 spikes: sd of the mean rate = sqrt(2000)/100 = 0.45 Hz.
    CHECK(std::abs(d.col(0).mean() - 20.0) < 5 * 0.45);
}

TEST_CASE("window_rates: equal counts in equally long windows give equal rates, whatever the event times") {
    // Delays of 1.7 s starting at different times: end − begin is 1.6999999999999997,
    // 1.7 and 1.7000000000000002 s in double. The same count must give the same rate, or the
    // rank-sum test would order rounding noise instead of counting ties.
    const double start[4] = {1.1, 2.3, 1.7, 3.3};
    REQUIRE((start[0] + 1.7) - start[0] != (start[1] + 1.7) - start[1]);  // what made the rates differ
    Session s = skeleton(4, 6.0);
    std::vector<double> times;
    std::vector<std::size_t> trial;
    for (std::size_t k = 0; k < 4; ++k) {
        s.trials[k].delay_start = start[k];
        s.trials[k].cue_start = start[k] + 1.7;
        for (double t : {0.4, 0.9, 1.4}) {
            times.push_back(start[k] + t);
            trial.push_back(k);
        }
    }
    s.units.push_back(SessionUnit::from_spikes(times, trial, 4));
    const std::vector<std::size_t> all{0, 1, 2, 3};
    const auto d = delay_rates<double>(s, all);
    for (index_t k = 0; k < 4; ++k) CHECK(d(k, 0) == 3.0 / 1.7);
    // Right (trials 0, 2) against left (1, 3): all four values tie, so no difference at all.
    const auto sel = delay_selectivity<double>(s);
    CHECK(sel[0].p_value == doctest::Approx(1.0));
    CHECK(sel[0].label == Preference::none);
    CHECK(delay_selectivity<float>(s)[0].p_value == sel[0].p_value);
}

// ------------------------------------------------------------------------------ rank-sum

TEST_CASE_TEMPLATE("rank_sum: textbook values computed by hand", T, float, double) {
    // x = {1,2,3}, y = {4,5,6,7}: W = 1+2+3 = 6, E[W] = 3·8/2 = 12, Var = 3·4/12·8 = 8.
    const std::vector<T> x{1, 2, 3}, y{4, 5, 6, 7};
    auto r = rank_sum(x, y);
    CHECK(r.w == 6.0);
    CHECK(r.z == doctest::Approx(-5.5 / std::sqrt(8.0)));    // continuity: |6 − 12| − ½
    CHECK(r.p == doctest::Approx(0.051829927217909716));      // erfc(1.94454/√2)
    auto r0 = rank_sum(x, y, false);
    CHECK(r0.z == doctest::Approx(-6.0 / std::sqrt(8.0)));
    CHECK(r0.p == doctest::Approx(0.0338948535246893));
    // Swapping the samples mirrors z and keeps p: W' = 4+5+6+7 = 22 = 3·… (N(N+1)/2 − W).
    auto rs = rank_sum(y, x);
    CHECK(rs.w == 22.0);
    CHECK(rs.z == doctest::Approx(-r.z));
    CHECK(rs.p == doctest::Approx(r.p));

    // Ties: x = {1,2,2,3}, y = {2,3,4,5}. Pooled ranks: 1 → 1; the three 2s share 2,3,4 → 3;
    // the two 3s share 5,6 → 5.5; 4 → 7; 5 → 8. W = 1 + 3 + 3 + 5.5 = 12.5, E[W] = 18.
    // Tie correction Σ(t³ − t) = 24 + 6 = 30: Var = 16/12 · (9 − 30/56) = 11.2857142857.
    const std::vector<T> a{1, 2, 2, 3}, b{2, 3, 4, 5};
    auto t = rank_sum(a, b);
    CHECK(t.w == 12.5);
    CHECK(t.z == doctest::Approx(-5.0 / std::sqrt(11.285714285714285)));
    CHECK(t.p == doctest::Approx(0.13665824773814753));
    auto t0 = rank_sum(a, b, false);
    CHECK(t0.p == doctest::Approx(0.1015914998616528));

    // Everything tied: no evidence, p = 1.
    const std::vector<T> c{3, 3, 3}, e{3, 3};
    CHECK(rank_sum(c, e).p == 1.0);
    CHECK_THROWS_WITH_AS(rank_sum(std::vector<T>{}, e), doctest::Contains("rank_sum x"), invalid_parameter);
}

TEST_CASE("rank_sum: the normal approximation tracks the exact null distribution (n = 10, 12)") {
    // Exact distribution of W: number of 10-subsets of {1..22} with each sum (dynamic programming).
    const int n1 = 10, n2 = 12, N = n1 + n2, smax = N * (N + 1) / 2;
    std::vector<std::vector<double>> dp(n1 + 1, std::vector<double>(std::size_t(smax) + 1, 0.0));
    dp[0][0] = 1;
    for (int r = 1; r <= N; ++r)
        for (int k = std::min(n1, r); k >= 1; --k)
            for (int s = smax; s >= r; --s) dp[std::size_t(k)][std::size_t(s)] += dp[std::size_t(k - 1)][std::size_t(s - r)];
    const auto& dist = dp[n1];
    const double total = std::accumulate(dist.begin(), dist.end(), 0.0);
    for (int w : {60, 70, 80, 90, 100, 115}) {
        // x-ranks: start from {1..10} (sum 55) and push the largest up until the sum is w.
        std::vector<int> xr(10);
        std::iota(xr.begin(), xr.end(), 1);
        int extra = w - 55;
        for (int i = 9; i >= 0 && extra > 0; --i) {
            const int room = (N - (9 - i)) - xr[std::size_t(i)];
            const int step = std::min(extra, room);
            xr[std::size_t(i)] += step;
            extra -= step;
        }
        std::vector<double> x, y;
        for (int v = 1; v <= N; ++v) (std::find(xr.begin(), xr.end(), v) != xr.end() ? x : y).push_back(v);
        REQUIRE(x.size() == 10);
        const auto r = rank_sum(x, y);
        CHECK(r.w == double(w));
        double cdf = 0;
        for (int s = 0; s <= w; ++s) cdf += dist[std::size_t(s)];
        const double exact = std::min(1.0, 2 * cdf / total);
        CAPTURE(w);
        // The continuity-corrected normal approximation is within 0.03 of the exact p for
        // these sample sizes (its error is O(1/N)); in the tail it is much closer.
        CHECK(std::abs(r.p - exact) < 0.03);
        if (exact < 0.01) CHECK(std::abs(r.p - exact) < 0.003);
    }
}

// --------------------------------------------------------------------------- selectivity

TEST_CASE_TEMPLATE("selectivity: planted right, left and non-selective units", T, float, double) {
    const index_t nr = 40, nl = 40;
    Matrix<T> R(nr, 3), L(nl, 3);
    for (index_t i = 0; i < nr; ++i) {
        // Unit 0: right 10 Hz vs left 5 Hz (fully separated); unit 1 the reverse; unit 2
        // identical samples on both sides.
        R(i, 0) = T(10 + 0.01 * double(i));
        L(i, 0) = T(5 + 0.01 * double(i));
        R(i, 1) = T(2 + 0.01 * double(i));
        L(i, 1) = T(6 + 0.01 * double(i));
        R(i, 2) = L(i, 2) = T(3 + 0.1 * double(i % 7));
    }
    auto sel = selectivity<T>(R, L);
    REQUIRE(sel.size() == 3);
    CHECK(sel[0].label == Preference::right);
    CHECK(sel[1].label == Preference::left);
    CHECK(sel[2].label == Preference::none);
    // Full separation with n = 40 + 40: W = 41 + … + 80 = 2420, E = 1620, Var = 10800.
    CHECK(sel[0].p_value == doctest::Approx(std::erfc((800 - 0.5) / std::sqrt(10800.0) / std::sqrt(2.0))));
    CHECK(sel[2].p_value == doctest::Approx(1.0));
    const double mr = 10 + 0.01 * 19.5, ml = 5 + 0.01 * 19.5;
    CHECK(sel[0].index == doctest::Approx((mr - ml) / (mr + ml)).epsilon(1e-5));
    CHECK(sel[1].index < 0);
    CHECK(selective_units(sel) == std::vector<std::size_t>{0, 1});
    CHECK(to_string(sel[1].label) == "left");
    Matrix<T> bad(nl, 2);
    CHECK_THROWS_WITH_AS(selectivity<T>(R, bad), doctest::Contains("units of left trials"), invalid_parameter);
}

// ----------------------------------------------------------------------- coding direction

TEST_CASE_TEMPLATE("coding direction: recovers a planted direction - endpoints normalised to 1 and 0", T, float, double) {
    const std::size_t nu = 30, nt = 60, ntr = 200;
    Rng rng(11);
    Vector<T> d(nu);
    rng.fill_normal(d);
    d.normalize();
    Vector<T> base(nu);
    for (auto& b : base) b = T(5 + 3 * rng.uniform());
    // Right trials: base + a(t)·d + noise, left: base − a(t)·d + noise, a(t) ramps to 1 at t = 40.
    xt::xtensor<T, 3> rates = xt::zeros<T>({ntr, nu, nt});
    std::vector<std::size_t> right, left;
    for (std::size_t k = 0; k < ntr; ++k) {
        const T sign = k % 2 ? T(-1) : T(1);
        (k % 2 ? left : right).push_back(k);
        for (std::size_t u = 0; u < nu; ++u)
            for (std::size_t t = 0; t < nt; ++t) {
                const T a = T(std::min(1.0, double(t) / 40.0));
                rates(k, u, t) = base(index_t(u)) + sign * a * d(index_t(u)) + rng.normal<T>();
            }
    }
    auto [train_r, test_r] = split_half(right, rng);
    auto [train_l, test_l] = split_half(left, rng);
    CHECK(train_r.size() == 50);
    CHECK(test_l.size() == 50);
    const StepRange window{40, 50};
    auto cd = CodingDirection<T>::fit(rates, train_r, train_l, window);
    // Window means of 50 trials × 10 samples of unit-variance noise: each unit of r̄_R − r̄_L
    // has sd sqrt(2/500) = 0.063, the planted difference has norm 2, so cos ≈ 0.985; 0.95
    // would need the noise norm to be twice its expectation.
    const double cosine = double(cd.weights().dot(d));
    CHECK(cosine > 0.95);
    CHECK(double(cd.weights().norm()) == doctest::Approx(1.0).epsilon(1e-5));

    cd.normalise(cd.endpoints(cd.project(rates, test_r)), cd.endpoints(cd.project(rates, test_l)));
    const Vector<T> er = cd.endpoints(cd.project(rates, test_r));
    const Vector<T> el = cd.endpoints(cd.project(rates, test_l));
    const auto vec = [](const Vector<T>& v) { return std::vector<T>(v.data(), v.data() + v.size()); };
    CHECK(double(median(vec(er))) == doctest::Approx(1.0).epsilon(1e-4));
    CHECK(double(median(vec(el))) == doctest::Approx(0.0).scale(1.0).epsilon(1e-4));
    // Bimodal endpoints: per-trial endpoint noise is 1/sqrt(10) raw ≈ 0.16 normalised, so
    // crossing 0.5 is a 3-sd event (expected count 0.07 of 50).
    auto hr = histogram<T>(std::span<const T>(er.data(), std::size_t(er.size())), -0.5, 1.5, 4);
    auto hl = histogram<T>(std::span<const T>(el.data(), std::size_t(el.size())), -0.5, 1.5, 4);
    CHECK(hr.counts[2] + hr.counts[3] >= 48);  // bins [0.5, 1), [1, 1.5]
    CHECK(hl.counts[0] + hl.counts[1] >= 48);
    CHECK(std::accumulate(hr.counts.begin(), hr.counts.end(), std::size_t(0)) == 50);
    // Early in the trial (a = 0) both types project to the midpoint 0.5 on average.
    const Matrix<T> pr = cd.project(rates, test_r);
    CHECK(double(pr.col(0).mean()) == doctest::Approx(0.5).epsilon(0.1));

    // Exact projection with a planted unit direction: rates = c(t)·w gives c(t).
    auto pure = CodingDirection<T>::from_weights(d, window);
    xt::xtensor<T, 3> one = xt::zeros<T>({std::size_t(1), nu, nt});
    for (std::size_t u = 0; u < nu; ++u)
        for (std::size_t t = 0; t < nt; ++t) one(0, u, t) = T(t) * d(index_t(u));
    const Matrix<T> p = pure.project(one, std::vector<std::size_t>{0});
    CHECK(double(p(0, 37)) == doctest::Approx(37.0).epsilon(1e-4));
    CHECK_THROWS_WITH_AS(CodingDirection<T>::fit(rates, train_r, train_l, StepRange{50, 70}),
                         doctest::Contains("CD window"), invalid_parameter);
}

TEST_CASE("split_half: disjoint halves covering the input, reproducible from the seed") {
    std::vector<std::size_t> v{3, 5, 8, 13, 21, 34, 55};
    Rng a(5), b(5);
    auto [x1, y1] = split_half(v, a);
    auto [x2, y2] = split_half(v, b);
    CHECK(x1 == x2);
    CHECK(x1.size() == 4);
    CHECK(y1.size() == 3);
    std::vector<std::size_t> all = x1;
    all.insert(all.end(), y1.begin(), y1.end());
    std::sort(all.begin(), all.end());
    CHECK(all == v);
    CHECK(median(std::vector<double>{4, 1, 3, 2}) == 2.5);
}

// ----------------------------------------------------------------------------- variability

TEST_CASE_TEMPLATE("variability: across-trial SD of planted spreads", T, float, double) {
    // Two trials with values a and b: the sample SD is |a − b|/sqrt(2).
    xt::xtensor<T, 3> two = xt::zeros<T>({2, 1, 3});
    two(0, 0, 0) = 1; two(1, 0, 0) = 3;
    two(0, 0, 1) = 5; two(1, 0, 1) = 5;
    two(0, 0, 2) = 100; two(1, 0, 2) = 90;
    const std::vector<std::size_t> unit0{0};
    auto v = across_trial_variability<T>(two, {{0, 1}}, unit0);
    CHECK(double(v(0, 0)) == doctest::Approx(std::sqrt(2.0)));
    CHECK(double(v(0, 1)) == 0.0);
    CHECK(double(v(0, 2)) == doctest::Approx(10 / std::sqrt(2.0)).epsilon(1e-5));

    // 100 trials, 20 units: rate = 50 + s(t)·z with s(t) = 1 + t/10. The sample SD has
    // relative sd 1/sqrt(2·99) = 0.071 per unit, 0.016 averaged over 20 units: ±8 % is 5 sd.
    Rng rng(2);
    const std::size_t ntr = 100, nu = 20, nt = 20;
    xt::xtensor<T, 3> r = xt::zeros<T>({ntr, nu, nt});
    for (std::size_t k = 0; k < ntr; ++k)
        for (std::size_t u = 0; u < nu; ++u) {
            const T z = rng.normal<T>();
            for (std::size_t t = 0; t < nt; ++t) r(k, u, t) = T(50) + T(1 + double(t) / 10) * z;
        }
    std::vector<std::size_t> all(ntr), units(nu);
    std::iota(all.begin(), all.end(), 0);
    std::iota(units.begin(), units.end(), 0);
    auto sd = across_trial_variability<T>(r, {all}, units);
    for (index_t t = 0; t < index_t(nt); ++t) CHECK(double(sd(0, t)) / (1 + double(t) / 10) == doctest::Approx(1.0).epsilon(0.08));
    CHECK_THROWS_AS(across_trial_variability<T>(r, {{0}}, units), invalid_parameter);
}

// --------------------------------------------------------------------------------- targets

TEST_CASE("targets: trial-averaged correct-trial PSTHs, right then left, in Hz") {
    Rng rng(3);
    Session s = skeleton(120, 1.0, 0.8);   // codes alternate 1, 2
    s.trials[4].response = 3;              // an error trial: excluded
    s.trials[6].photostim = 1;             // a photoinhibition trial: excluded
    // Unit 0 fires at 30 Hz on right trials and 10 Hz on left trials; unit 1 at 4 Hz.
    std::vector<double> times;
    std::vector<std::size_t> trial;
    for (std::size_t k = 0; k < s.n_trials(); ++k) {
        const double rate = s.trials[k].right() ? 30.0 : 10.0;
        for (double t = -std::log(rng.uniform_open()) / rate; t < 1.0; t += -std::log(rng.uniform_open()) / rate) {
            times.push_back(t);
            trial.push_back(k);
        }
    }
    s.units.push_back(SessionUnit::from_spikes(times, trial, s.n_trials()));
    s.units.push_back(poisson_unit(s, 4.0, 1.0, rng));
    auto R = session_targets<double>(s);
    REQUIRE(R.shape()[0] == 2);
    REQUIRE(R.shape()[1] == 2);
    REQUIRE(R.shape()[2] == 1000);
    // ~59 right trials over 1 s at 30 Hz: 1770 spikes, relative sd 2.4 %, 5 sd → ±3.6 Hz.
    CHECK(std::abs(double(xt::mean(xt::view(R, 0, 0))()) - 30.0) < 3.6);
    CHECK(std::abs(double(xt::mean(xt::view(R, 1, 0))()) - 10.0) < 2.1);   // 600 spikes: 4.1 %
    CHECK(std::abs(double(xt::mean(xt::view(R, 1, 1))()) - 4.0) < 1.3);    // 240 spikes: 6.5 %
    // Exactly the average of the selected trials.
    auto right = s.trials_where(TrialFilter::correct_right);
    CHECK(std::find(right.begin(), right.end(), 4) == right.end());
    CHECK(std::find(right.begin(), right.end(), 6) == right.end());
    auto direct = trial_average_psth<double>(s, {right});
    CHECK(xt::allclose(xt::view(direct, 0), xt::view(R, 0)));
}

// ------------------------------------------------------------------------------------ bVar

TEST_CASE_TEMPLATE("bvar: a sequence of shifted identical bumps is fully explained - noise is not", T, float, double) {
    const index_t n = 40, nt = 200;
    Matrix<T> seq(n, nt);
    for (index_t i = 0; i < n; ++i)
        for (index_t t = 0; t < nt; ++t) {
            const double c = 20 + 4 * double(i);  // peaks at 20 … 176, bumps well inside
            seq(i, t) = T(std::exp(-0.5 * (double(t) - c) * (double(t) - c) / 16.0));
        }
    CHECK(bvar<T>(seq) == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(bvar<T>(seq, false) == doctest::Approx(1.0).epsilon(1e-5));
    // I.i.d. noise: only each neuron's maximum is "explained" — about (E max)²/nt of the
    // variance, (2.75)²/200 ≈ 0.04 for 200 standard normals; 0.1 bounds it generously.
    Rng rng(4);
    Matrix<T> noise(100, nt);
    rng.fill_normal(noise);
    const double b = bvar<T>(noise);
    CHECK(b < 0.1);
    CHECK(b > -0.1);
    CHECK_THROWS_AS(bvar<T>(Matrix<T>::Ones(3, 10)), invalid_parameter);
}

// --------------------------------------------------------------------- spectra, PCA, rank

TEST_CASE_TEMPLATE("spectra: eigenvalues of N(0, g²/N) fill the disc of radius g (circular law)", T, float, double) {
    Matrix<T> rot(2, 2);
    rot << 0, -2, 2, 0;  // eigenvalues ±2i
    auto ev = eigenvalues<T>(rot);
    CHECK(double(std::abs(ev(0).imag())) == doctest::Approx(2.0));
    CHECK(double(ev(0).real()) == doctest::Approx(0.0));

    const index_t N = 300;
    const double g = 1.5;
    Rng rng(9);
    Matrix<T> J(N, N);
    rng.fill_normal(J);
    J *= T(g / std::sqrt(double(N)));
    const auto lambda = eigenvalues<T>(J);
    const double rho = double(spectral_radius<T>(J));
    // Finite-N spectral radius ≈ g(1 + sqrt(log(N/2π)/(4N))) ≈ 1.06 g, fluctuating by ~0.03 g.
    CHECK(rho / g > 0.95);
    CHECK(rho / g < 1.15);
    // Uniform density on the disc: a fraction 1/4 lies within g/2. Eigenvalues repel, so
    // the count fluctuates less than a binomial (sd 0.025); ±0.075 is 3 binomial sd.
    const double inner = double((lambda.array().abs() < T(g / 2)).count()) / double(N);
    CHECK(std::abs(inner - 0.25) < 0.075);
    CHECK_THROWS_AS(eigenvalues<T>(Matrix<T>(2, 3)), invalid_parameter);
}

TEST_CASE_TEMPLATE("pca: dimension of planted low-rank data", T, float, double) {
    Rng rng(6);
    const index_t n = 500, p = 50, k = 3;
    Matrix<T> latent(n, k), loading(k, p), noise(n, p);
    rng.fill_normal(latent);
    rng.fill_normal(loading);
    rng.fill_normal(noise);
    // Orthonormal loadings make the planted variances equal (one per latent).
    Eigen::HouseholderQR<Matrix<T>> qr(loading.transpose());
    const Matrix<T> Q = qr.householderQ() * Matrix<T>::Identity(p, k);
    const Matrix<T> X = latent * Q.transpose() + T(0.01) * noise;  // noise: 50 × 1e-4 of 3
    CHECK(pca_dimension<T>(X, 0.95) == 3);
    const auto r = explained_variance_ratio<T>(X);
    CHECK(double(r.sum()) == doctest::Approx(1.0).epsilon(1e-4));
    CHECK(double(r.head(3).sum()) > 0.99);
    // Two orthogonal directions with variances 9 : 1 (rows ±3e₁, ±e₂).
    Matrix<T> two = Matrix<T>::Zero(4, 2);
    two << 3, 0, -3, 0, 0, 1, 0, -1;
    const auto r2 = explained_variance_ratio<T>(two);
    CHECK(double(r2(0)) == doctest::Approx(0.9));
    CHECK(pca_dimension<T>(two, 0.9) == 1);
    CHECK(pca_dimension<T>(two, 0.95) == 2);
    CHECK_THROWS_WITH_AS(pca_dimension<T>(X, 1.5), doctest::Contains("'threshold' = 1.5"), invalid_parameter);
}

TEST_CASE_TEMPLATE("rank: numerical rank of a planted low-rank weight change", T, float, double) {
    Rng rng(8);
    Matrix<T> A(60, 7), B(7, 50);
    rng.fill_normal(A);
    rng.fill_normal(B);
    const auto r = numerical_rank<T>(Matrix<T>(A * B));
    CHECK(r.rank == 7);
    REQUIRE(r.singular_values.size() == 50);
    CHECK(r.singular_values(0) >= r.singular_values(1));
    CHECK(double(r.tolerance) == doctest::Approx(60 * double(Eigen::NumTraits<T>::epsilon()) * double(r.singular_values(0))));
    CHECK(numerical_rank<T>(Matrix<T>::Identity(5, 5)).rank == 5);
    CHECK(numerical_rank<T>(Matrix<T>::Zero(4, 6)).rank == 0);
}

TEST_CASE("SessionSpikes: trials gathered in any order give the units from_spikes builds") {
    // Two units, three trials delivered out of order (as a parallel ensemble may reduce them).
    SessionSpikes g(2);
    g.add(2, {{0.3, 0.1}, {}});
    g.add(0, {{0.5}, {1.5, 1.25}});
    g.add(1, {{}, {0.75}});
    const SessionUnit u0 = g.unit(0, 3, 0.6), u1 = g.unit(1, 3, 0.3);
    const SessionUnit e0 = SessionUnit::from_spikes(std::vector<double>{0.5, 0.3, 0.1}, std::vector<std::size_t>{0, 2, 2}, 3);
    CHECK(u0.spike_times == e0.spike_times);
    CHECK(u0.offsets == e0.offsets);
    CHECK(u0.spikes(2).size() == 2);
    CHECK(u0.spikes(2)[0] == 0.1);  // sorted within the trial
    CHECK(u1.spikes(0).size() == 2);
    CHECK(u1.spikes(0)[0] == 1.25);
    CHECK(u1.spikes(1)[0] == 0.75);
    CHECK(u0.spike_width == 0.6);
    CHECK(u1.spike_width == 0.3);
    CHECK(u1.first_trial == 0);
    CHECK(u1.last_trial == 2);
    CHECK_THROWS_WITH_AS(g.add(0, {{0.1}}), doctest::Contains("spikes per unit"), invalid_parameter);
}
