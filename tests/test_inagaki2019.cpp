// Tests for the Inagaki 2019 discrete-attractor presets and task: golden trajectories of the
// authors' code, attractor statistics with noise, photoinhibition, thread-count invariance.
#include <doctest/doctest.h>

#include <cmath>
#include <array>
#include <fstream>
#include <span>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "neurodyn/experiments/inagaki2019_task.hpp"

using namespace neurodyn;

namespace {

/// One golden trajectory: rates every 10th index K = 1, 11, …, 6001.
struct Golden {
    std::vector<long> K;
    std::vector<std::array<double, 4>> r;
};
using GoldenKey = std::tuple<double, char>;  // (pv, 'R' | 'L')

std::map<GoldenKey, Golden> load_golden(const std::string& preset) {
    const std::string path = std::string(NEURODYN_TEST_REFERENCE_DIR) + "/golden_" + preset + ".csv";
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path);
    std::string line;
    std::getline(in, line);
    REQUIRE(line == "preset,pv,trial_type,step,r1,r2,r3,r4");
    std::map<GoldenKey, Golden> out;
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string name, pv, type, step;
        std::getline(ss, name, ',');
        std::getline(ss, pv, ',');
        std::getline(ss, type, ',');
        std::getline(ss, step, ',');
        REQUIRE(name == preset);
        auto& g = out[{std::stod(pv), type.at(0)}];
        g.K.push_back(std::stol(step));
        std::array<double, 4> r{};
        for (auto& v : r) {
            std::string f;
            std::getline(ss, f, ',');
            v = std::stod(f);
        }
        g.r.push_back(r);
    }
    return out;
}

/// Largest |a − b| / max(|b|, 1e-12) over a trajectory.
template <class T>
double max_rel_error(const Matrix<T>& rates, const Golden& g) {
    double worst = 0;
    for (std::size_t i = 0; i < g.K.size(); ++i)
        for (int u = 0; u < 4; ++u) {
            const double ref = g.r[i][std::size_t(u)];
            const double got = double(rates(g.K[i] - 1, u));
            worst = std::max(worst, std::abs(got - ref) / std::max(std::abs(ref), 1e-12));
        }
    return worst;
}

Inagaki2019Preset noise_free(std::string name) {
    auto p = inagaki2019_preset(name);
    p.sigma_noise = 0;
    p.stim_sigma = 0;
    return p;
}

}  // namespace

/// The rate arrays of trials run together as the lanes of one state of type X.
template <class X>
std::vector<Matrix<typename X::Scalar>> lanes_rates(const Inagaki2019Preset& p, PhotoinhibitionSide side,
                                                    const std::vector<Inagaki2019TrialSpec>& spec, bool noisy = false,
                                                    std::uint64_t seed = 0, long first = 0) {
    return inagaki2019_trial_rates<X>(p, side, std::span<const Inagaki2019TrialSpec>(spec), noisy, seed, first);
}

TEST_CASE("golden: noise-free trajectories of every preset, PV level and trial type match the authors' code") {
    // Both routes: one trial on a dynamic Vector<double> (scalar transfer function), and the
    // right and left trials of a level as the two lanes of a Lanes<double, 4, 2> state
    // (vectorised transfer function). The authors' arithmetic differs from ours only in
    // rounding; over 6000 contracting steps that stays far below 1e-12 relative.
    double worst = 0;
    for (const std::string name : {"one_hemi_multi_fp_step", "one_hemi_single_fp", "two_hemi_ramp", "two_hemi_internal"}) {
        CAPTURE(name);
        const auto golden = load_golden(name);
        const auto p = noise_free(name);
        REQUIRE(golden.size() == 2 * p.pv_levels.size());
        for (double pv : p.pv_levels) {
            CAPTURE(pv);
            const std::vector<Inagaki2019TrialSpec> spec{{TrialType::right, pv, p.stim_amp}, {TrialType::left, pv, p.stim_amp}};
            const auto lanes = lanes_rates<Lanes<double, 4, 2>>(p, PhotoinhibitionSide::bilateral, spec);
            for (int b = 0; b < 2; ++b) {
                const auto type = spec[std::size_t(b)].type;
                CAPTURE(to_string(type));
                const auto& g = golden.at({pv, type == TrialType::right ? 'R' : 'L'});
                REQUIRE(g.K.size() == 601);
                const double e_vec = max_rel_error(
                    inagaki2019_trial_rates<double>(p, PhotoinhibitionSide::bilateral, spec[std::size_t(b)]), g);
                const double e_lane = max_rel_error(lanes[std::size_t(b)], g);
                CHECK(e_vec <= 1e-12);
                CHECK(e_lane <= 1e-12);
                worst = std::max({worst, e_vec, e_lane});
            }
        }
    }
    MESSAGE("largest relative deviation from the golden trajectories: " << worst);
}

TEST_CASE("golden in float: the same trajectories to float rounding") {
    // Rounding of ε_float ≈ 6e-8 per operation, accumulated over 6000 steps of mostly
    // contracting dynamics: observed ≤ 3.4e-5 relative; 2e-4 leaves room for other compilers.
    for (const std::string name : {"one_hemi_multi_fp_step", "two_hemi_internal"}) {
        CAPTURE(name);
        const auto golden = load_golden(name);
        const auto p = noise_free(name);
        for (double pv : p.pv_levels) {
            const std::vector<Inagaki2019TrialSpec> spec{{TrialType::right, pv, p.stim_amp}, {TrialType::left, pv, p.stim_amp}};
            const auto lanes = lanes_rates<Lanes<float, 4, 2>>(p, PhotoinhibitionSide::bilateral, spec);
            CHECK(max_rel_error(lanes[0], golden.at({pv, 'R'})) < 2e-4);
            CHECK(max_rel_error(lanes[1], golden.at({pv, 'L'})) < 2e-4);
        }
        // The one-trial route in float, too.
        CHECK(max_rel_error(inagaki2019_trial_rates<float>(p, PhotoinhibitionSide::bilateral,
                                                           {TrialType::left, p.pv_levels[2], p.stim_amp}),
                            golden.at({p.pv_levels[2], 'L'})) < 2e-4);
    }
}

TEST_CASE("the authors' 2-s ramp of two_hemi_ramp is 3000 ms long: a 2000-ms ramp misses the golden data") {
    auto p = noise_free("two_hemi_ramp");
    CHECK(p.ramp_ms == 3000);
    p.ramp_ms = 2000;
    const auto golden = load_golden("two_hemi_ramp");
    CHECK(max_rel_error(inagaki2019_trial_rates<double>(p, PhotoinhibitionSide::bilateral,
                                                        {TrialType::right, 0.0, p.stim_amp}),
                        golden.at({0.0, 'R'})) > 0.1);
}

TEST_CASE("with noise, the one-trial Vector route and the lanes route give the same trial (same draws)") {
    const auto p = inagaki2019_preset("one_hemi_multi_fp_step");
    for (long trial : {0L, 1L, 2L}) {
        const Inagaki2019TrialSpec spec{TrialType::left, 2.0, 0.75};
        const Matrix<double> slow =
            inagaki2019_trial_rates<double>(p, PhotoinhibitionSide::ipsilateral, spec, true, 9, trial);
        const auto fast = lanes_rates<Lanes<double, 4, 1>>(p, PhotoinhibitionSide::ipsilateral, {spec}, true, 9, trial);
        // Same draws; the transfer function is evaluated by std::log1p on one route and by
        // Eigen's vectorised log on the other (a few ulp), and the noisy dynamics amplify such
        // differences only mildly over 6000 steps: far below 1e-9.
        CHECK(((fast[0] - slow).cwiseAbs().array() / (slow.cwiseAbs().array() + 1e-12)).maxCoeff() < 1e-9);
    }
}

TEST_CASE("a trial gives bitwise the same numbers alone and as any of eight lanes") {
    const auto p = inagaki2019_preset("two_hemi_internal");
    constexpr int B = 8;  // as run_inagaki2019_task
    std::vector<Inagaki2019TrialSpec> spec(B);
    for (int b = 0; b < B; ++b)
        spec[std::size_t(b)] = {b % 2 ? TrialType::left : TrialType::right, std::array{0.0, 1.3, 2.3, 7.0}[b % 4],
                                0.4 + 0.01 * (b - 4)};
    const long first = 40;
    const auto lanes = lanes_rates<Lanes<double, 4, B>>(p, PhotoinhibitionSide::bilateral, spec, true, 2, first);
    for (int b = 0; b < B; ++b) {
        CAPTURE(b);
        // Lane b is trial first + b: alone, it is trial first + b with the same streams.
        const auto alone = lanes_rates<Lanes<double, 4, 1>>(p, PhotoinhibitionSide::bilateral, {spec[std::size_t(b)]},
                                                            true, 2, first + b);
        CHECK((alone[0].array() == lanes[std::size_t(b)].array()).all());
    }
    // In float too.
    const auto lanes_f = lanes_rates<Lanes<float, 4, B>>(p, PhotoinhibitionSide::bilateral, spec, true, 2, first);
    const auto alone_f = lanes_rates<Lanes<float, 4, 1>>(p, PhotoinhibitionSide::bilateral, {spec[5]}, true, 2, first + 5);
    CHECK((alone_f[0].array() == lanes_f[5].array()).all());
}

TEST_CASE("one_hemi_multi_fp_step with noise: two separated attractors, ~85-92 % correct, chance at PV = 6") {
    Inagaki2019TaskOptions opt;
    opt.trials_per_type = 400;
    opt.seed = 2019;
    opt.pv_levels = {0, 6};
    opt.record_projections = false;
    const auto res = run_inagaki2019_task(inagaki2019_preset("one_hemi_multi_fp_step"), opt);
    const double n = 2.0 * double(opt.trials_per_type);
    // Unperturbed: the paper's model performs at 85-92 %; allow 3 binomial s.e. around the band.
    const double f0 = res.fraction_correct(0);
    const double se0 = std::sqrt(0.885 * 0.115 / n);
    CHECK(f0 > 0.85 - 3 * se0);
    CHECK(f0 < 0.92 + 3 * se0);
    // Both trial types perform alike (the model is symmetric): difference within 3 s.e.
    const double se_diff = std::sqrt(2 * 0.885 * 0.115 / double(opt.trials_per_type));
    CHECK(std::abs(res.fraction_correct(0, TrialType::right) - res.fraction_correct(0, TrialType::left)) < 3 * se_diff);
    // PV = 6 removes the memory: chance within 3 s.e.
    const double f6 = res.fraction_correct(1);
    CHECK(std::abs(f6 - 0.5) < 3 * std::sqrt(0.25 / n));
    // Two attractors: the unperturbed correct endpoints (window means, normalised so the
    // medians are 1 and 0) form two clusters whose distance is many times their spread
    // (d' > 4), and the density of all unperturbed endpoints (correct or not) dips between them:
    // the central bin (0.4, 0.6) holds under a quarter of the trials of the bin around either
    // attractor.
    std::array<double, 2> sum{}, sum2{};
    std::array<long, 2> cnt{};
    long centre = 0, at_right = 0, at_left = 0;
    for (const auto& t : res.trials) {
        if (t.pv_index != 0) continue;
        const double x = t.endpoint_window;
        centre += x > 0.4 && x < 0.6;
        at_right += x > 0.9 && x < 1.1;
        at_left += x > -0.1 && x < 0.1;
        if (!t.correct) continue;
        const auto y = std::size_t(t.type);
        sum[y] += x;
        sum2[y] += x * x;
        ++cnt[y];
    }
    std::array<double, 2> mean{}, var{};
    for (std::size_t y = 0; y < 2; ++y) {
        mean[y] = sum[y] / double(cnt[y]);
        var[y] = sum2[y] / double(cnt[y]) - mean[y] * mean[y];
    }
    CHECK(std::abs(mean[0] - 1.0) < 0.1);
    CHECK(std::abs(mean[1]) < 0.1);
    CHECK((mean[0] - mean[1]) / std::sqrt(0.5 * (var[0] + var[1])) > 4.0);
    CHECK(4 * centre < std::min(at_right, at_left));
}

TEST_CASE("the task gives identical results on 1 and 2 threads") {
    Inagaki2019TaskOptions opt;
    opt.trials_per_type = 23;  // not a multiple of the 16 lanes: groups straddle conditions
    opt.seed = 77;
    opt.batch = 16;
    opt.side = PhotoinhibitionSide::contralateral;
    const auto p = inagaki2019_preset("two_hemi_internal");
    opt.threads = 1;
    const auto a = run_inagaki2019_task(p, opt);
    opt.threads = 2;
    const auto b = run_inagaki2019_task(p, opt);
    CHECK(a.n_correct == b.n_correct);
    REQUIRE(a.trials.size() == b.trials.size());
    REQUIRE(a.trials.size() == std::size_t(4 * 2 * 23));
    bool same = true;
    for (std::size_t i = 0; i < a.trials.size(); ++i)
        same = same && a.trials[i].end == b.trials[i].end && a.trials[i].window == b.trials[i].window &&
               a.trials[i].stim_amp == b.trials[i].stim_amp && a.trials[i].endpoint == b.trials[i].endpoint;
    CHECK(same);
    CHECK(a.coding_direction == b.coding_direction);
    for (std::size_t g = 0; g < a.projections.size(); ++g) {
        CHECK(a.projections[g].n == b.projections[g].n);
        CHECK(a.projections[g].mean == b.projections[g].mean);
        CHECK(a.projections[g].sd == b.projections[g].sd);
    }
    // Trials are reported in global order: (pv, type, k).
    CHECK(a.trials[23].type == TrialType::left);
    CHECK(a.trials[23].trial == 0);
    CHECK(a.trials[46].pv_index == 1);
}

TEST_CASE("a trial of the protocol is bitwise the trial run alone, in the authors' indexing") {
    Inagaki2019TaskOptions opt;
    opt.trials_per_type = 5;  // groups of 16 lanes straddle trial types and levels
    opt.seed = 31;
    opt.record_projections = false;
    const auto p = inagaki2019_preset("one_hemi_multi_fp_step");
    const auto res = run_inagaki2019_task(p, opt);
    REQUIRE(res.trials.size() == 40);
    const long K_end = p.delay_end_index, K_w0 = K_end - p.cd_window;
    for (long g : {0L, 7L, 8L, 13L, 26L, 39L}) {
        CAPTURE(g);
        const auto& t = res.trials[std::size_t(g)];
        const Matrix<double> r =
            lanes_rates<Lanes<double, 4, 1>>(p, opt.side, {{t.type, res.pv_levels[std::size_t(t.pv_index)], t.stim_amp}},
                                             true, opt.seed, g)[0];
        CHECK(t.end[0] == r(K_end - 1, 0));  // r(4500) = row 4499
        CHECK(t.end[1] == r(K_end - 1, 1));
        double w1 = 0, w2 = 0;
        for (long K = K_w0; K <= K_end; ++K) {
            w1 += r(K - 1, 0);
            w2 += r(K - 1, 1);
        }
        CHECK(t.window[0] == doctest::Approx(w1 / double(K_end - K_w0 + 1)).epsilon(1e-15));
        CHECK(t.window[1] == doctest::Approx(w2 / double(K_end - K_w0 + 1)).epsilon(1e-15));
    }
}

TEST_CASE("task summaries agree with the per-trial records") {
    Inagaki2019TaskOptions opt;
    opt.trials_per_type = 40;
    opt.seed = 5;
    opt.record_every = 1;  // record j holds rate index K = j + 1: the endpoint K = 4500 is record 4499
    const auto res = run_inagaki2019_task(inagaki2019_preset("one_hemi_multi_fp_step"), opt);
    REQUIRE(res.time_ms.size() == 6001);
    for (std::size_t p = 0; p < res.pv_levels.size(); ++p)
        for (auto y : {TrialType::right, TrialType::left})
            for (bool correct : {true, false}) {
                long n = 0;
                double sum = 0, sum2 = 0;
                for (const auto& t : res.trials)
                    if (std::size_t(t.pv_index) == p && t.type == y && t.correct == correct) {
                        ++n;
                        sum += t.endpoint;
                        sum2 += t.endpoint * t.endpoint;
                    }
                if (correct) CHECK(res.correct(p, y) == n);
                const auto& pr = res.projection(p, y, correct);
                REQUIRE(pr.n == n);
                if (n < 2) continue;
                // Mean and sd of the projection at the endpoint, from the moment sums, equal
                // those of the per-trial endpoints (up to rounding of the two routes).
                const double mean = sum / double(n);
                const double sd = std::sqrt(std::max(0.0, (sum2 - double(n) * mean * mean) / double(n - 1)));
                CHECK(pr.mean[4499] == doctest::Approx(mean).scale(1.0).epsilon(1e-9));
                CHECK(pr.sd[4499] == doctest::Approx(sd).scale(1.0).epsilon(1e-6));
            }
    // Medians of unperturbed correct window endpoints are 1 (right) and 0 (left).
    std::vector<double> right, left;
    for (const auto& t : res.trials)
        if (t.pv_index == 0 && t.correct) (t.type == TrialType::right ? right : left).push_back(t.endpoint_window);
    CHECK(median(right) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(median(left) == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
    // r(1) = 0 on every trial: its normalised projection is −offset/scale, with no spread.
    for (auto y : {TrialType::right, TrialType::left}) {
        CHECK(res.projection(0, y, true).mean[0] == doctest::Approx(-res.offset / res.scale).epsilon(1e-12));
        CHECK(res.projection(0, y, true).sd[0] == 0.0);
    }
}

TEST_CASE("photoinhibition: window and side") {
    const auto p = noise_free("one_hemi_multi_fp_step");  // JH = 0: hemispheres independent
    auto rates = [&](PhotoinhibitionSide side, double pv) {
        return lanes_rates<Lanes<double, 4, 1>>(p, side, {{TrialType::right, pv, p.stim_amp}})[0];
    };
    const Matrix<double> r0 = rates(PhotoinhibitionSide::bilateral, 0.0);
    const Matrix<double> rb = rates(PhotoinhibitionSide::bilateral, 2.0);
    const Matrix<double> ri = rates(PhotoinhibitionSide::ipsilateral, 2.0);
    const Matrix<double> rc = rates(PhotoinhibitionSide::contralateral, 2.0);
    // Light starts on step 2502 (1-based); its first effect is on h after that step, i.e. on
    // r(2504) = G(h(2503)). Everything before is untouched.
    CHECK(rb.topRows(2503) == r0.topRows(2503));
    CHECK((rb.row(2503) - r0.row(2503)).cwiseAbs().minCoeff() > 0);
    // Ipsilateral = hemisphere 1 only: populations 3, 4 as unperturbed, 1, 2 as bilateral.
    CHECK(ri.rightCols(2) == r0.rightCols(2));
    CHECK(ri.leftCols(2) == rb.leftCols(2));
    // Contralateral = hemisphere 2 only.
    CHECK(rc.leftCols(2) == r0.leftCols(2));
    CHECK(rc.rightCols(2) == rb.rightCols(2));
    // After the light (steps 2502-3080) the input is back to baseline: the drive on h is
    // −j_CI·i_I·PV/(1+j_II) per step inside the window only (generic hook, exact values).
    Photoinhibition<double> hook(inagaki2019_photoinhibition_drive<double>(p), inagaki2019_hemispheres(),
                                 PhotoinhibitionSide::ipsilateral, 2.0, p.pv_start, p.pv_end);
    Vector<double> u = Vector<double>::Zero(4);
    hook.on_input(2500.0, u);
    CHECK(u.isZero());
    hook.on_input(2501.0, u);  // step 2502 (1-based) starts at 2501 ms
    CHECK(u[0] == doctest::Approx(-5.0 * 1.0 * 2.0 / 3.0));
    CHECK(u[1] == doctest::Approx(-5.0 * 1.0 * 2.0 / 3.0));
    CHECK(u[2] == 0.0);
    CHECK(u[3] == 0.0);
    u.setZero();
    hook.on_input(3079.0, u);  // step 3080: last lit step
    CHECK(u[0] < 0);
    u.setZero();
    hook.on_input(3080.0, u);
    CHECK(u.isZero());
    CHECK_THROWS_AS(parse_photoinhibition_side("both"), invalid_parameter);
    CHECK(parse_photoinhibition_side("contralateral") == PhotoinhibitionSide::contralateral);
}

TEST_CASE("ensemble: trial order of reduction, thread-count independence, exceptions") {
    std::vector<double> slots(8);
    auto run = [&](int threads) {
        std::vector<long> order;
        double total = 0;
        EnsembleOptions eo;
        eo.threads = threads;
        for_each_trial(
            37, slots.size(), [&](long k, std::size_t s) { slots[s] = trial_rng(4, k, 0).normal(); },
            [&](long k, std::size_t s) {
                order.push_back(k);
                total += slots[s] * double(k + 1);  // order-sensitive in floating point
            },
            eo);
        return std::make_pair(order, total);
    };
    const auto [o1, t1] = run(1);
    const auto [o2, t2] = run(2);
    REQUIRE(o1.size() == 37);
    for (long k = 0; k < 37; ++k) CHECK(o1[std::size_t(k)] == k);
    CHECK(o1 == o2);
    CHECK(t1 == t2);
    EnsembleOptions eo;
    eo.threads = 2;
    CHECK_THROWS_AS(for_each_trial(
                        10, 4,
                        [](long k, std::size_t) {
                            if (k == 6) throw numerical_error("boom", 1, k);
                        },
                        [](long, std::size_t) {}, eo),
                    numerical_error);
}

TEST_CASE("task: invalid options and numerical failure name what is wrong") {
    const auto p = inagaki2019_preset("one_hemi_multi_fp_step");
    Inagaki2019TaskOptions opt;
    opt.trials_per_type = 4;
    opt.pv_levels = {1, 2};
    try {
        (void)run_inagaki2019_task(p, opt);
        FAIL("expected invalid_parameter");
    } catch (const invalid_parameter& e) {
        CHECK(e.parameter() == "pv_levels");
    }
    opt.pv_levels = {0, -1};
    CHECK_THROWS_AS((void)run_inagaki2019_task(p, opt), invalid_parameter);
    opt.pv_levels = {};
    opt.trials_per_type = 0;
    CHECK_THROWS_AS((void)run_inagaki2019_task(p, opt), invalid_parameter);
    // Sizes are checked before allocating: 8·10^11 trials kept do not fit in memory (was bad_alloc).
    opt.trials_per_type = 99999999999;
    try {
        (void)run_inagaki2019_task(p, opt);
        FAIL("expected invalid_parameter");
    } catch (const invalid_parameter& e) {
        CHECK(e.parameter() == "trials_per_type");
    }
    opt.trials_per_type = 4;
    opt.threads = -3;
    try {
        (void)run_inagaki2019_task(p, opt);
        FAIL("expected invalid_parameter");
    } catch (const invalid_parameter& e) {
        CHECK(e.parameter() == "threads");
    }
    opt.threads = 0;
    // The lanes of the batched route report the diverging trial's own index.
    auto lane_bad = p;
    lane_bad.j_CC = 1e308;
    lane_bad.i_C = 1.7e308;
    try {
        (void)inagaki2019_trial_rates<Lanes<double, 4, 2>>(lane_bad, PhotoinhibitionSide::bilateral,
                                                           std::vector<Inagaki2019TrialSpec>(2), false, 0, 30);
        FAIL("expected numerical_error");
    } catch (const numerical_error& e) {
        CHECK(e.trial() == 30);
    }
    // A diverging configuration stops with the step and trial.
    auto bad = p;
    // Finite parameters whose sum overflows: W·r + I = 1e308·r + 1.7e308 > DBL_MAX at step 0.
    bad.j_CC = 1e308;
    bad.i_C = 1.7e308;
    try {
        (void)inagaki2019_trial_rates<double>(bad, PhotoinhibitionSide::bilateral, {TrialType::right, 0.0, 0.8}, false,
                                              0, 17);
        FAIL("expected numerical_error");
    } catch (const numerical_error& e) {
        CHECK(e.trial() == 17);
        CHECK(e.step() >= 0);
    }
}

TEST_CASE("inputs: box pulses, smoothing, ramps and stimulus amplitudes") {
    BoxPulse sharp(1521.0, 2480.0);
    CHECK(sharp(1520.0) == 0.0);
    CHECK(sharp(1521.0) == 1.0);
    CHECK(sharp(2479.0) == 1.0);
    CHECK(sharp(2480.0) == 0.0);
    BoxPulse smooth(1500.0, 2500.0, 20.0);
    CHECK(smooth(1500.0) == 0.0);
    CHECK(smooth(1520.0) == doctest::Approx(1 - std::exp(-1.0)));
    CHECK(smooth(2520.0) == doctest::Approx((1 - std::exp(-50.0)) * std::exp(-1.0)));
    CHECK_THROWS_AS(BoxPulse(10.0, 5.0), invalid_parameter);
    CHECK_THROWS_AS(BoxPulse(0.0, 5.0, -1.0), invalid_parameter);
    // The authors' step ramp: 0 at step 1501 (t = 1500), ramp_amp from step 1511 (t = 1510) on.
    Ramp step{1500.0, 10.0, 2.0};
    CHECK(step(1499.0) == 0.0);
    CHECK(step(1500.0) == 0.0);
    CHECK(step(1505.0) == doctest::Approx(1.0));
    CHECK(step(1510.0) == 2.0);
    CHECK(step(5999.0) == 2.0);
    // Stimulus amplitude: mean and sd of many draws within 4 s.e.
    StimulusAmplitude amp{0.8, 0.1};
    double s = 0, s2 = 0;
    const int n = 20000;
    for (int k = 0; k < n; ++k) {
        Rng rng = trial_rng(1, k, 1);
        const double a = amp.draw(rng);
        s += a;
        s2 += a * a;
    }
    const double mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
    CHECK(std::abs(mean - 0.8) < 4 * 0.1 / std::sqrt(double(n)));
    CHECK(std::abs(sd - 0.1) < 4 * 0.1 / std::sqrt(2.0 * n));
}

TEST_CASE("normal_fast: standard normal moments and tails, reproducible per stream") {
    Rng a(3, 1, 0), b(3, 1, 0);
    const int n = 400000;
    double s = 0, s2 = 0, s4 = 0;
    long beyond2 = 0, beyond3p5 = 0;
    bool same = true;
    for (int k = 0; k < n; ++k) {
        const double x = a.normal_fast();
        same = same && x == b.normal_fast();  // identical streams, identical numbers
        s += x;
        s2 += x * x;
        s4 += x * x * x * x;
        beyond2 += std::abs(x) > 2;
        beyond3p5 += std::abs(x) > 3.5;  // exercises the tail algorithm (r = 3.44)
    }
    CHECK(same);
    CHECK(std::abs(s / n) < 4 / std::sqrt(double(n)));
    CHECK(std::abs(s2 / n - 1) < 4 * std::sqrt(2.0 / n));
    CHECK(std::abs(s4 / n - 3) < 4 * std::sqrt(96.0 / n));
    const double p2 = 0.0455002638963584, p35 = 4.652581580710e-4;
    CHECK(std::abs(double(beyond2) / n - p2) < 4 * std::sqrt(p2 * (1 - p2) / n));
    CHECK(std::abs(double(beyond3p5) / n - p35) < 4 * std::sqrt(p35 * (1 - p35) / n));
    // The batched form draws exactly the sequence of single calls, rare path included.
    Rng single(8, 2, 0), batched(8, 2, 0);
    std::vector<double> buf(100003);
    batched.normal_fast(buf.data(), buf.size());
    bool same_batch = true;
    for (double v : buf) same_batch = same_batch && v == single.normal_fast();
    CHECK(same_batch);
    CHECK(single.state() == batched.state());
    // normal() is unchanged by the addition: the polar method's first value for this key.
    Rng c(3, 1, 0), d(3, 1, 0);
    (void)c.normal_fast();
    CHECK(Rng(3, 1, 0).normal() == d.normal());
}
