// Tests for models/continuous_attractor.hpp and experiments/continuous_attractor_task.hpp:
// the line attractor of Inagaki et al. (2019), Extended Data Fig. 1.
#include <doctest/doctest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <vector>

#include "neurodyn/experiments/continuous_attractor_task.hpp"
#include "neurodyn/integrate/exponential_euler.hpp"
#include "neurodyn/models/continuous_attractor.hpp"

using namespace neurodyn;

namespace {
/// Slow mode of the Jacobian: eigenvalue λ₀ (smallest |λ|), right vector v, left vector w with w·v = 1.
struct SlowMode {
    double lambda;
    Vector<double> v, w;
    std::vector<std::complex<double>> others;
};
SlowMode slow_mode(const Matrix<double>& J) {
    Eigen::EigenSolver<Matrix<double>> right(J), left(J.transpose());
    auto smallest = [](const auto& ev) {
        index_t k = 0;
        for (index_t i = 1; i < ev.size(); ++i)
            if (std::abs(ev[i]) < std::abs(ev[k])) k = i;
        return k;
    };
    const index_t kr = smallest(right.eigenvalues()), kl = smallest(left.eigenvalues());
    SlowMode m;
    m.lambda = right.eigenvalues()[kr].real();
    m.v = right.eigenvectors().col(kr).real();
    m.w = left.eigenvectors().col(kl).real();
    m.w /= m.w.dot(m.v);
    for (index_t i = 0; i < J.rows(); ++i)
        if (i != kr) m.others.push_back(right.eigenvalues()[i]);
    return m;
}

/// Noise-free trial from x = 0 at tight tolerance; returns the states at 1-ms output times.
std::vector<Vector<double>> noiseless_trial(TrialType type, double amp, double pv) {
    ContinuousAttractorTaskOptions o;
    o.rtol = o.atol = 1e-10;
    const ContinuousAttractor<double> m(o.model);
    Vector<double> x = Vector<double>::Zero(12);
    std::vector<Vector<double>> out;
    run_continuous_attractor_trial(m, o, type, amp, pv, nullptr, x,
                                   [&](double, const Vector<double>& h) { out.push_back(h); });
    return out;
}

/// The slow-mode prediction at time t_r: x(t_r) ≈ v · ∫ e^{λ₀(t_r − s)} w·D⁻¹u(s) ds (all other
/// modes have decayed by e^{−0.01·(t_r − 2500)} < 1e-8 by t_r = 4499), by the trapezoid rule.
double slow_amplitude(const SlowMode& sm, const ContinuousAttractorTaskOptions& o, TrialType type, double amp,
                      double pv, double t_r) {
    const ContinuousAttractor<double> m(o.model);
    const ContinuousAttractorInput<double> input(o, type, amp, pv, nullptr);
    Vector<double> u(12);
    const Vector<double> wD = sm.w.cwiseProduct(m.decay_rates());
    const double h = 0.01;
    double c = 0;
    for (long k = 0; k <= std::lround(t_r / h); ++k) {
        const double s = double(k) * h;
        input(s, u);
        const double f = std::exp(sm.lambda * (t_r - s)) * wD.dot(u);
        c += (k == 0 || k == std::lround(t_r / h)) ? 0.5 * h * f : h * f;
    }
    return c;
}
}  // namespace

static_assert(Model<ContinuousAttractor<float>> && LinearDecayModel<ContinuousAttractor<double>>);
static_assert(HasTimeConstants<ContinuousAttractor<double>>);

TEST_CASE_TEMPLATE("ContinuousAttractor: the authors' equations, float and double", T, float, double) {
    ContinuousAttractor<T> m;
    REQUIRE(m.size() == 12);
    CHECK(m.min_time_constant() == 10.0);
    Vector<T> x(12), u = Vector<T>::Zero(12), d(12);
    for (int i = 0; i < 12; ++i) x[i] = T(0.1 * (i + 1));
    u[0] = T(2);
    u[2] = T(-1);
    m.derivative(x, 0.0, u, d);
    // τ_C dh_C/dt = −h_C + 150 s_CC + 150 s_CN − 300 s_CI + u_C, with s_CC = x[3], s_CN = x[4], s_CI = x[7]
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
    CHECK(double(d[0]) == doctest::Approx((-0.1 + 150 * 0.4 + 150 * 0.5 - 300 * 0.8 + 2) / 20).epsilon(tol));
    // τ_N dh_N/dt = −h_N + 150 s_NC + 150 s_NN − 301.99 s_NI (x[5], x[6], x[9])
    CHECK(double(d[1]) == doctest::Approx((-0.2 + 150 * 0.6 + 150 * 0.7 - 301.99 * 1.0) / 20).epsilon(tol));
    // τ_I dh_I/dt = −h_I + 298.5 s_IC + 550 s_IN − 600 s_II − 1 (x[8], x[10], x[11])
    CHECK(double(d[2]) == doctest::Approx((-0.3 + 298.5 * 0.9 + 550 * 1.1 - 600 * 1.2 - 1) / 10).epsilon(tol));
    // filters: τ_CI ds_CI/dt = −s_CI + h_I (τ 10); τ_IN ds_IN/dt = −s_IN + h_N (τ 25)
    CHECK(double(d[7]) == doctest::Approx((-0.8 + 0.3) / 10).epsilon(tol));
    CHECK(double(d[10]) == doctest::Approx((-1.1 + 0.2) / 25).epsilon(tol));
    // Jacobian · x = f(x, u = 0) for a linear model
    Vector<T> d0(12);
    m.derivative(x, 0.0, Vector<T>::Zero(12), d0);
    CHECK((m.jacobian() * x - d0).norm() <= T(tol) * d0.norm() * T(10));
    ContinuousAttractorParameters bad;
    bad.tau_IN = 0;
    CHECK_THROWS_WITH_AS(ContinuousAttractor<T>{bad}, doctest::Contains("tau_IN"), invalid_parameter);
}

TEST_CASE("ContinuousAttractor: one eigenvalue near zero, the rest clearly stable") {
    const SlowMode sm = slow_mode(ContinuousAttractor<double>().jacobian());
    // Near zero: a memory time constant 1/|λ₀| far beyond the 2 s delay and the 100 ms synaptic
    // time scale (|λ₀| ≈ 3.9e-5/ms: ≈ 26 s).
    CHECK(std::abs(sm.lambda) < 1e-4);
    // Every other mode decays about as fast as the slowest synaptic filter (τ = 100 ms) or faster
    // (the slowest are −1/100 ms up to rounding in the eigen-solver: allow 1 %).
    for (const auto& l : sm.others) CHECK(l.real() <= -0.99 / 100);
    // The line: h_C and h_I move together (h_I ≈ h_C/2), h_N hardly, and every s_XY ≈ h_Y.
    CHECK(sm.v[2] / sm.v[0] == doctest::Approx(0.5).epsilon(0.01));
    CHECK(std::abs(sm.v[1] / sm.v[0]) < 0.01);
    CHECK(sm.v[3] / sm.v[0] == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("ContinuousAttractor: graded memory along the line (noise-free)") {
    const ContinuousAttractorTaskOptions o;
    const SlowMode sm = slow_mode(ContinuousAttractor<double>(o.model).jacobian());
    const auto a1 = noiseless_trial(TrialType::right, 1.0, 0), a3 = noiseless_trial(TrialType::right, 3.0, 0);
    const auto l2 = noiseless_trial(TrialType::left, 2.0, 0);
    REQUIRE(a1.size() == 5001);
    const Vector<double>& x1 = a1[4499];
    const Vector<double>& x3 = a3[4499];
    // Linear in the amplitude and odd in the trial type: a graded memory, not a binary one.
    CHECK((x3 - 3 * x1).norm() < 1e-7 * x3.norm());
    CHECK((l2[4499] + 2 * x1).norm() < 1e-7 * x3.norm());
    // It lies on the line (the slow eigenvector): |cos| = 1 up to the decayed fast modes.
    CHECK(std::abs(x1.dot(sm.v)) / (x1.norm() * sm.v.norm()) == doctest::Approx(1.0).epsilon(1e-8));
    // Its size is the slow-mode integral of the input ...
    const double c = slow_amplitude(sm, o, TrialType::right, 1.0, 0, 4499);
    CHECK(x1[0] == doctest::Approx(c * sm.v[0]).epsilon(1e-5));
    CHECK(x1[0] > 0);
    CHECK(x1[0] > x1[1]);  // right trial: h_C > h_N, correct
    // ... and it persists: between 3999 and 4499 ms it decays only by e^{500 λ₀} (the other modes,
    // |λ| ≥ 0.01/ms, are below e^{−15} ≈ 3e-7 of their size at the end of the sample by 3999 ms).
    CHECK(x1.norm() / a1[3999].norm() == doctest::Approx(std::exp(500 * sm.lambda)).epsilon(1e-5));
}

TEST_CASE("ContinuousAttractor: photoinhibition shifts the memory, which does not recover") {
    const ContinuousAttractorTaskOptions o;
    const SlowMode sm = slow_mode(ContinuousAttractor<double>(o.model).jacobian());
    const auto base = noiseless_trial(TrialType::right, 3.0, 0);
    std::vector<double> shift;
    for (double pv : {150.0, 300.0, 600.0}) {
        const auto tr = noiseless_trial(TrialType::right, 3.0, pv);
        const Vector<double> d_end = tr[4499] - base[4499], d_mid = tr[3999] - base[3999];
        shift.push_back(d_end[0]);
        // The shift lies along the line and is the slow-mode integral of the light drive.
        CHECK(d_end[0] == doctest::Approx(slow_amplitude(sm, o, TrialType::right, 0.0, pv, 4499) * sm.v[0]).epsilon(1e-5));
        // No return to a discrete attractor: from 0.9 to 1.4 s after the light the shift decays only
        // by e^{500 λ₀} (fast modes: < e^{−0.01·899} ≈ 1.2e-4 of their size at the light's end).
        CHECK(d_end.norm() / d_mid.norm() == doctest::Approx(std::exp(500 * sm.lambda)).epsilon(1e-3));
    }
    CHECK(shift[0] < 0);  // +PV on a right trial pushes towards the left side
    CHECK(shift[1] == doctest::Approx(2 * shift[0]).epsilon(1e-7));
    CHECK(shift[2] == doctest::Approx(4 * shift[0]).epsilon(1e-7));
    // At PV = 600 the memory is almost erased (≈ 94 % of it), as the left eigenvector predicts.
    const double frac = -shift[2] / base[4499][0];
    CHECK(frac == doctest::Approx(-slow_amplitude(sm, o, TrialType::right, 0.0, 600, 4499) /
                                  slow_amplitude(sm, o, TrialType::right, 3.0, 0, 4499)).epsilon(1e-5));
    CHECK(frac > 0.5);
    CHECK(frac < 1.0);
}

TEST_CASE("ContinuousAttractorNoise: the authors' per-step OU recursion and linear interpolation") {
    Rng a(3, 4, 0), b(3, 4, 0);
    const ContinuousAttractorNoise n(5, 5, 1, 10, a);
    REQUIRE(n.points() == 11);
    std::vector<double> c(3, 0.0);
    for (std::size_t k = 1; k < 11; ++k)
        for (int ch = 0; ch < 3; ++ch) {
            c[std::size_t(ch)] += 1.0 * (-c[std::size_t(ch)] + 5 * b.normal()) / 5;
            CHECK(n.at(k, ch) == c[std::size_t(ch)]);
        }
    CHECK(n(0.0, 1) == 0.0);
    CHECK(n(3.25, 2) == doctest::Approx(0.75 * n.at(3, 2) + 0.25 * n.at(4, 2)));
    CHECK(n(100.0, 0) == n.at(10, 0));
    // Stationary variance of n_{k+1} = (1 − Δ/τ) n_k + (Δσ/τ) ξ: (Δσ/τ)² / (1 − (1 − Δ/τ)²) = 1/0.36.
    Rng r(9, 0, 0);
    const ContinuousAttractorNoise long_run(5, 5, 1, 200000, r);
    double s2 = 0;
    for (std::size_t k = 1000; k < long_run.points(); ++k) s2 += long_run.at(k, 0) * long_run.at(k, 0);
    const double m = double(long_run.points() - 1000), var = 1 / 0.36;
    // Correlated samples (ρ = 0.8 per step): effective n ≈ m (1 − ρ²)/(1 + ρ²) for the variance estimate.
    const double se = var * std::sqrt(2.0 / (m * (1 - 0.64) / (1 + 0.64)));
    CHECK(std::abs(s2 / m - var) < 4 * se);
}

TEST_CASE("continuous-attractor task: endpoints follow the noise-free line, fraction correct falls with PV") {
    ContinuousAttractorTaskOptions o;
    o.trials_per_type = 40;
    o.seed = 5;
    o.record_every = 50;
    const auto res = run_continuous_attractor_task(o);
    REQUIRE(res.trials.size() == std::size_t(4 * 2 * 40));
    CHECK(res.coding_direction.norm() == doctest::Approx(1.0));
    const double N = 40;
    for (std::size_t p = 0; p < 4; ++p) {
        for (TrialType y : {TrialType::right, TrialType::left}) {
            // Linear model, zero-mean noise and initial state, mean amplitude 3: the mean endpoint
            // is the noise-free trial's. Tolerance: 4 standard errors + the adaptive integration
            // error (rtol = atol = 1e-3 on h ~ 10, i.e. ~1e-3 in normalised units; 0.01 allowed).
            double m = 0, m2 = 0;
            for (const auto& t : res.trials)
                if (std::size_t(t.pv_index) == p && t.type == y) {
                    m += t.endpoint / N;
                    m2 += t.endpoint * t.endpoint / N;
                }
            const double se = std::sqrt((m2 - m * m) * N / (N - 1) / N);
            const auto clean = noiseless_trial(y, 3.0, res.pv_levels[p]);
            const double expected = res.normalise(clean[4499][0], clean[4499][1]);
            CHECK(std::abs(m - expected) < 4 * se + 0.01);
        }
        // Odd symmetry of the model and the protocol: right and left perform alike (binomial SE).
        const double fr = res.fraction_correct(p, TrialType::right), fl = res.fraction_correct(p, TrialType::left);
        const double f = 0.5 * (fr + fl);
        CHECK(std::abs(fr - fl) <= 4 * std::sqrt(std::max(f * (1 - f), 1 / N) * 2 / N));
    }
    // Unperturbed trials are (almost) all correct; at PV = 600 the memory is nearly erased.
    const double f0 = res.fraction_correct(0), f3 = res.fraction_correct(3);
    CHECK(f0 > 0.95);
    CHECK(f3 < f0 - 4 * std::sqrt(0.25 / (2 * N)));
    // Histogram fractions of correct trials add up to the fraction correct (all endpoints in range here).
    const auto h = res.endpoint_histogram(0, TrialType::right);
    double sum = 0;
    for (double v : h.fraction) sum += v;
    CHECK(sum == doctest::Approx(res.fraction_correct(0, TrialType::right)));
    // Normalisation: median window endpoint of unperturbed correct right trials = 1.
    CHECK(res.projection(0, TrialType::right, true).mean.size() == res.time_ms.size());
    CHECK(res.integration.accepted > 0);
}

TEST_CASE("continuous-attractor task: same numbers on any thread count - bad options named") {
    ContinuousAttractorTaskOptions o;
    o.trials_per_type = 4;
    o.pv_levels = {0, 300};
    o.batch = 3;
    o.record_projections = false;
    o.threads = 1;
    const auto a = run_continuous_attractor_task(o);
    o.threads = 2;
    const auto b = run_continuous_attractor_task(o);
    REQUIRE(a.trials.size() == b.trials.size());
    for (std::size_t k = 0; k < a.trials.size(); ++k) {
        CHECK(a.trials[k].end == b.trials[k].end);
        CHECK(a.trials[k].stim_amp == b.trials[k].stim_amp);
    }
    o.pv_levels = {150, 300};
    CHECK_THROWS_WITH_AS(run_continuous_attractor_task(o), doctest::Contains("pv_levels"), invalid_parameter);
    o.pv_levels = {0};
    o.readout_ms = 6000;
    CHECK_THROWS_WITH_AS(run_continuous_attractor_task(o), doctest::Contains("readout_ms"), invalid_parameter);
}

TEST_CASE("ContinuousAttractor with ExponentialEuler: agrees with Dormand-Prince on the noise-free trial") {
    // A cross-check of two independent integrators on the same model. The coupling (j up to 600,
    // eigenvalues −0.11 ± 2.24i /ms) is treated explicitly by exponential Euler, which is then
    // stable only for |1 + λ dt| < 1, dt < 0.045 ms: take dt = 0.02 ms (first order, error ~1e-3).
    const ContinuousAttractorTaskOptions o;
    const ContinuousAttractor<double> m(o.model);
    ExponentialEuler<double> ee;
    Vector<double> x = Vector<double>::Zero(12);
    const ContinuousAttractorInput<double> input(o, TrialType::right, 3.0, 0.0, nullptr);
    simulate(m, ee, x, TimeGrid(0.02, 224950), input);
    const auto dp = noiseless_trial(TrialType::right, 3.0, 0);
    CHECK(x[0] == doctest::Approx(dp[4499][0]).epsilon(1e-2));
}
