// Tests for integrate/: steppers, simulate(), hooks, recorder.
// Eigen checks for heap allocations while set_is_malloc_allowed(false) (hot-loop checks); its
// asserts throw here, so the check also works in release builds (NDEBUG).
#include <stdexcept>
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) \
    if (!(x)) throw std::runtime_error("eigen_assert failed: " #x)
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "neurodyn/integrate/dormand_prince.hpp"
#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/euler_maruyama.hpp"
#include "neurodyn/integrate/exponential_euler.hpp"
#include "neurodyn/integrate/rk4.hpp"
#include "neurodyn/integrate/recorder.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/models/population_model.hpp"
#include "neurodyn/models/rate_network.hpp"
#include "neurodyn/perturb/add_input.hpp"

using namespace neurodyn;

namespace {
/// τ dx/dt = −x + u: closed form x(t) = u + (x0 − u) e^{−t/τ}.
template <class T>
struct Leak {
    using scalar_type = T;
    double tau = 10;
    index_t size() const { return 1; }
    double min_time_constant() const { return tau; }
    void derivative(const Vector<T>& x, double, const Vector<T>& u, Vector<T>& d) const { d = (u - x) / T(tau); }
    auto rates(const Vector<T>& x) const { return x; }
};

struct CountingHook {
    int begins = 0, inputs = 0, steps = 0, ends = 0;
    double last_t = -1;
    void on_trial_begin(const Trial&) { ++begins; }
    void on_input(double, Vector<double>&) { ++inputs; }
    void on_step(double t, Vector<double>&) { ++steps; last_t = t; }
    void on_trial_end(const Trial&) { ++ends; }
};
struct OnlyStep {
    int steps = 0;
    void on_step(double, Vector<double>&) { ++steps; }
};
struct Clamp0 {  // pins unit 0 at 0.5
    void on_step(double, Vector<double>& x) { x[0] = 0.5; }
};
}  // namespace

static_assert(Model<Leak<double>>);
static_assert(Model<RateNetwork<Logistic<float>, float>>);
static_assert(Stepper<Euler<double>, Leak<double>>);
static_assert(!Model<int>);

TEST_CASE_TEMPLATE("Euler on the leak: first order in dt", T, float, double) {
    Leak<T> m;
    auto error_at = [&](double dt) {
        Euler<T> s;
        Vector<T> x = Vector<T>::Constant(1, T(1));
        const auto n = std::ptrdiff_t(std::lround(20.0 / dt));
        simulate(m, s, x, TimeGrid(dt, n), NoInput{});
        return std::abs(double(x[0]) - std::exp(-20.0 / m.tau));
    };
    const double ratio = error_at(0.2) / error_at(0.1);
    CHECK(ratio == doctest::Approx(2.0).epsilon(0.05));  // error ∝ dt for a first-order method
}

TEST_CASE("simulate: every hook method is called once per step or trial") {
    Leak<double> m;
    Euler<double> s;
    Vector<double> x = Vector<double>::Zero(1);
    CountingHook all;
    OnlyStep only;
    simulate(Trial{3, 1}, m, s, x, TimeGrid(1.0, 50), NoInput{}, all, only);
    CHECK(all.begins == 1);
    CHECK(all.inputs == 50);
    CHECK(all.steps == 50);
    CHECK(all.ends == 1);
    CHECK(all.last_t == 50.0);
    CHECK(only.steps == 50);
}

TEST_CASE("simulate: input schedule and hooks change the dynamics") {
    Leak<double> m;
    Euler<double> s;
    Vector<double> x = Vector<double>::Zero(1);
    auto step_input = [](double t, Vector<double>& u) { u.setConstant(t >= 100 ? 2.0 : 0.0); };
    simulate(m, s, x, TimeGrid(0.1, 3000), step_input);
    CHECK(x[0] == doctest::Approx(2.0 * (1 - std::exp(-200.0 / 10))).epsilon(1e-2));
    Clamp0 clamp;
    simulate(m, s, x, TimeGrid(0.1, 100), step_input, clamp);
    CHECK(x[0] == 0.5);
}

TEST_CASE("simulate: bad input and divergence are reported") {
    Leak<double> m;
    Euler<double> s;
    Vector<double> x = Vector<double>::Zero(2);
    CHECK_THROWS_WITH_AS(simulate(m, s, x, TimeGrid(1.0, 5), NoInput{}), doctest::Contains("x (initial state)"),
                         invalid_parameter);
    x = Vector<double>::Zero(1);
    CHECK_THROWS_WITH_AS(simulate(m, s, x, TimeGrid(10.0, 5), NoInput{}), doctest::Contains("'dt'"),
                         invalid_parameter);
    auto nan_at_7 = [](double t, Vector<double>& u) { u.setConstant(t >= 7 ? std::nan("") : 0.0); };
    try {
        simulate(Trial{12, 0}, m, s, x, TimeGrid(1.0, 20), nan_at_7);
        FAIL("expected numerical_error");
    } catch (const numerical_error& e) {
        CHECK(e.step() == 7);
        CHECK(e.trial() == 12);
    }
}

TEST_CASE_TEMPLATE("RateNetwork: derivative and recorder", T, float, double) {
    Matrix<T> J(2, 2);
    J << 0, 1, -1, 0;
    RateNetwork<Logistic<T>, T> net(J, 10.0);
    Vector<T> x(2), u(2), d(2);
    x << 0, 1;
    u << 0.5, 0;
    net.derivative(x, 0.0, u, d);
    const double r0 = 0.5, r1 = 1 / (1 + std::exp(-1.0));
    CHECK(double(d[0]) == doctest::Approx((0 + r1 + 0.5) / 10).epsilon(1e-6));
    CHECK(double(d[1]) == doctest::Approx((-1 - r0) / 10).epsilon(1e-6));
    Euler<T> s;
    Recorder rec(net, TimeGrid(1.0, 100), 10);
    simulate(net, s, x, TimeGrid(1.0, 100), NoInput{}, rec);
    REQUIRE(rec.data().shape()[0] == 10);
    const Vector<T> r = net.rates(x);
    CHECK(rec.data()(9, 1) == r[1]);
    CHECK_THROWS_AS((RateNetwork<Logistic<T>, T>(Matrix<T>::Zero(2, 3), 10.0)), invalid_parameter);
    CHECK_THROWS_AS((RateNetwork<Logistic<T>, T>(J, 0.0)), invalid_parameter);
}

TEST_CASE("RateNetwork::random: variance g²/N and determinism") {
    Rng a(7), b(7);
    auto net = RateNetwork<>::random(400, 1.5, 10.0, a);
    auto same = RateNetwork<>::random(400, 1.5, 10.0, b);
    CHECK(net.weights() == same.weights());
    const double n = 400.0 * 400.0;
    const double var = net.weights().array().square().mean();
    // sample variance of n normals: sd = σ²·sqrt(2/n)
    CHECK(std::abs(var - 1.5 * 1.5 / 400) < 5 * (1.5 * 1.5 / 400) * std::sqrt(2 / n));
}

// ---------------------------------------------------------------------------------------------
// RK4, exponential Euler, Euler–Maruyama, Dormand–Prince 4(5)
// ---------------------------------------------------------------------------------------------
namespace {
/// dx/dt = −x/τ + A sin(ωt): explicitly time dependent, so stage times are exercised.
/// Closed form x(t) = x_p(t) + (x0 − x_p(0)) e^{−t/τ}, x_p = A (a sin ωt − ω cos ωt)/(a² + ω²), a = 1/τ.
/// Written as a LinearDecayModel too: a = 1/τ, b = τ·A sin(ωt).
template <class T>
struct Forced {
    using scalar_type = T;
    double tau = 10, A = 0.3, omega = 0.2;
    index_t size() const { return 1; }
    double min_time_constant() const { return tau; }
    void derivative(const Vector<T>& x, double t, const Vector<T>&, Vector<T>& d) const {
        d[0] = T(-double(x[0]) / tau + A * std::sin(omega * t));
    }
    auto rates(const Vector<T>& x) const { return x; }
    auto decay_rates() const { return Vector<T>::Constant(1, T(1 / tau)); }
    void drive(const Vector<T>&, double t, const Vector<T>&, Vector<T>& b) const {
        b[0] = T(tau * A * std::sin(omega * t));
    }
    double exact(double t, double x0) const {
        const double a = 1 / tau;
        auto xp = [&](double s) { return A * (a * std::sin(omega * s) - omega * std::cos(omega * s)) / (a * a + omega * omega); };
        return xp(t) + (x0 - xp(0)) * std::exp(-a * t);
    }
};

/// Ornstein–Uhlenbeck dx = −θx dt + s dW (θ = 1/τ).
template <class T>
struct OU {
    using scalar_type = T;
    double tau = 10, s = 0.5;
    Vector<T> g = Vector<T>::Constant(1, T(0.5));
    index_t size() const { return 1; }
    double min_time_constant() const { return tau; }
    void derivative(const Vector<T>& x, double, const Vector<T>& u, Vector<T>& d) const { d = (u - x) / T(tau); }
    auto rates(const Vector<T>& x) const { return x; }
    const Vector<T>& diffusion() const { return g; }
};

/// τ dh/dt = −h + I + σξ with τ = 100, σ = 9 as a StochasticModel (g = σ/τ).
template <class T>
struct AuthorsUpdate {
    using scalar_type = T;
    Vector<T> g = Vector<T>::Constant(1, T(9.0 / 100));
    index_t size() const { return 1; }
    void derivative(const Vector<T>& x, double, const Vector<T>& u, Vector<T>& d) const { d = (u - x) / T(100); }
    auto rates(const Vector<T>& x) const { return x; }
    const Vector<T>& diffusion() const { return g; }
};

template <class T>
struct LeakDecay : Leak<T> {
    auto decay_rates() const { return Vector<T>::Constant(1, T(1 / this->tau)); }
    void drive(const Vector<T>&, double, const Vector<T>& u, Vector<T>& b) const { b = u; }
};

struct Blowup {
    using scalar_type = double;
    index_t size() const { return 1; }
    void derivative(const Vector<double>& x, double, const Vector<double>&, Vector<double>& d) const { d = x.array().square(); }
    auto rates(const Vector<double>& x) const { return x; }
};

/// Global error at t_end of a fixed-step stepper on Forced, from x0 = 1.
template <class S, class T>
double forced_error(double dt, double t_end = 20.0) {
    Forced<T> m;
    S s;
    Vector<T> x = Vector<T>::Constant(1, T(1));
    simulate(m, s, x, TimeGrid(dt, std::lround(t_end / dt)), NoInput{});
    return std::abs(double(x[0]) - m.exact(t_end, 1.0));
}
}  // namespace

static_assert(Stepper<RK4<double>, Forced<double>>);
static_assert(Stepper<ExponentialEuler<float>, Forced<float>>);
static_assert(Stepper<EulerMaruyama<double>, OU<double>>);
static_assert(Stepper<EulerMaruyama<float, NoiseScaling::per_step>, OU<float>>);
static_assert(Stepper<DormandPrince45<double>, Forced<double>>);
// The pairing is checked against the actual model: a model without decay_rates()/drive() is
// not a partner of ExponentialEuler, one without diffusion() not of EulerMaruyama (simulate()
// would stop at the stepper's static_assert naming the missing member).
static_assert(!Stepper<ExponentialEuler<double>, Leak<double>>);
static_assert(!Stepper<EulerMaruyama<double>, Leak<double>>);
static_assert(!Stepper<Euler<float>, Leak<double>>);  // scalar types differ
static_assert(ControlledStepper<DormandPrince45<float>, float>);
static_assert(LinearDecayModel<Forced<double>> && StochasticModel<OU<float>>);

// Order of accuracy: e(dt) ≈ C dt^p (1 + O(dt)), so e(dt)/e(dt/2) = 2^p (1 + O(dt)). The dt
// below are in the asymptotic regime: the relative correction is ~ dt/τ_eff (τ_eff = the faster
// of τ = 10 ms and 1/ω = 5 ms); tolerances are a few times that. Float runs use coarser dt so
// that the error stays far above rounding (~1e-6 relative after a few hundred steps).
TEST_CASE_TEMPLATE("Euler and RK4 on a forced leak: orders 1 and 4", T, float, double) {
    const double r1 = forced_error<Euler<T>, T>(0.1) / forced_error<Euler<T>, T>(0.05);
    CHECK(r1 == doctest::Approx(2.0).epsilon(0.05));
    if constexpr (std::is_same_v<T, double>) {
        // The ratio approaches 16 as 16·(1 + c·dt) with c ≈ 0.2/ms here (ω = 0.2/ms sets the
        // scale): at dt = 0.25 ms the correction is ≈ 4 %, so 8 % is the tolerance.
        const double r4 = forced_error<RK4<T>, T>(0.25) / forced_error<RK4<T>, T>(0.125);
        CHECK(r4 == doctest::Approx(16.0).epsilon(0.08));
    } else {
        // In float, RK4's error reaches rounding (~1e-7) before the asymptotic regime: check
        // instead that the float instantiation computes the same numbers as the double one.
        CHECK(std::abs(forced_error<RK4<float>, float>(2.0) - forced_error<RK4<double>, double>(2.0)) < 5e-7);
    }
}

TEST_CASE_TEMPLATE("RK4 on a pure leak equals the stability polynomial R(z)^n", T, float, double) {
    // For dx/dt = −x/τ, one RK4 step multiplies x by R(z) = 1 + z + z²/2 + z³/6 + z⁴/24, z = −dt/τ.
    Leak<T> m;
    RK4<T> s;
    Vector<T> x = Vector<T>::Constant(1, T(1));
    simulate(m, s, x, TimeGrid(2.0, 10), NoInput{});
    const double z = -0.2, R = 1 + z + z * z / 2 + z * z * z / 6 + z * z * z * z / 24;
    CHECK(double(x[0]) == doctest::Approx(std::pow(R, 10)).epsilon(std::is_same_v<T, float> ? 1e-5 : 1e-13));
}

TEST_CASE_TEMPLATE("ExponentialEuler: exact for constant drive at any dt, first order otherwise", T, float, double) {
    // Constant drive u = 2: x(t) = 2 + (x0 − 2) e^{−t/τ} exactly, even with dt = 2.5 τ.
    LeakDecay<T> m;
    static_assert(LinearDecayModel<LeakDecay<T>>);
    ExponentialEuler<T> s;
    Vector<T> x = Vector<T>::Constant(1, T(-1));
    auto two = [](double, Vector<T>& u) { u.setConstant(T(2)); };
    simulate(m, s, x, TimeGrid(25.0, 4), two);  // dt ≥ τ is allowed: not an explicit stepper
    CHECK(double(x[0]) == doctest::Approx(2.0 - 3.0 * std::exp(-10.0)).epsilon(std::is_same_v<T, float> ? 1e-6 : 1e-14));
    // Time-dependent drive frozen over the step: first order.
    const double r = forced_error<ExponentialEuler<T>, T>(0.1) / forced_error<ExponentialEuler<T>, T>(0.05);
    CHECK(r == doctest::Approx(2.0).epsilon(0.05));
}

TEST_CASE("DormandPrince45 as a fixed-step stepper: order 5") {
    const double r = forced_error<DormandPrince45<double>, double>(1.0) / forced_error<DormandPrince45<double>, double>(0.5);
    CHECK(r == doctest::Approx(32.0).epsilon(0.1));
}

TEST_CASE("explicit steppers refuse dt >= the model's fastest time constant") {
    Leak<double> m;  // τ = 10 ms
    Vector<double> x = Vector<double>::Zero(1);
    const TimeGrid coarse(10.0, 5);
    auto refused = [&](auto stepper) {
        CHECK_THROWS_WITH_AS(simulate(m, stepper, x, coarse, NoInput{}), doctest::Contains("'dt' = 10"), invalid_parameter);
    };
    refused(Euler<double>{});
    refused(RK4<double>{});
    refused(DormandPrince45<double>{});
    OU<double> ou;
    EulerMaruyama<double> em;
    CHECK_THROWS_WITH_AS(simulate(ou, em, x, coarse, NoInput{}), doctest::Contains("'dt' = 10"), invalid_parameter);
    EulerMaruyama<double, NoiseScaling::per_step> em1;
    CHECK_THROWS_AS(simulate(ou, em1, x, coarse, NoInput{}), invalid_parameter);
}

TEST_CASE_TEMPLATE("EulerMaruyama sqrt_dt: OU mean and variance at t match the closed form", T, float, double) {
    // dx = −θ x dt + s dW, x0 = 2: E x(t) = x0 e^{−θt}, Var x(t) = s²/(2θ)(1 − e^{−2θt}).
    // EM's own bias: mean x0 (1−θdt)^n, variance s² dt (1 − (1−θdt)^{2n}) / (1 − (1−θdt)²).
    // Tolerance: 4 sample standard errors plus that (exactly known) discretisation bias.
    OU<T> m;
    const double theta = 1 / m.tau, s = m.s, x0 = 2, dt = 0.05, t_end = 10;
    const auto n = std::lround(t_end / dt);
    const int paths = 3000;
    EulerMaruyama<T> em;
    std::vector<double> end(paths);
    for (int k = 0; k < paths; ++k) {
        Vector<T> x = Vector<T>::Constant(1, T(x0));
        simulate(Trial{k, 11}, m, em, x, TimeGrid(dt, n), NoInput{});
        end[k] = double(x[0]);
    }
    double mean = 0, var = 0;
    for (double v : end) mean += v / paths;
    for (double v : end) var += (v - mean) * (v - mean) / (paths - 1);
    const double mean_exact = x0 * std::exp(-theta * t_end);
    const double var_exact = s * s / (2 * theta) * (1 - std::exp(-2 * theta * t_end));
    const double q = 1 - theta * dt;
    const double mean_em = x0 * std::pow(q, double(n));
    const double var_em = s * s * dt * (1 - std::pow(q, 2.0 * double(n))) / (1 - q * q);
    const double se_mean = std::sqrt(var_exact / paths), se_var = var_exact * std::sqrt(2.0 / (paths - 1));
    CHECK(std::abs(mean - mean_exact) < 4 * se_mean + std::abs(mean_em - mean_exact));
    CHECK(std::abs(var - var_exact) < 4 * se_var + std::abs(var_em - var_exact));
    // The √dt scaling matters: with per_step the variance would be dt·var_em ≈ 0.05·var — far outside.
    CHECK(std::abs(var - dt * var_exact) > 10 * se_var);
}

TEST_CASE_TEMPLATE("EulerMaruyama: hand-computed steps, both conventions, seeded per trial", T, float, double) {
    // The Inagaki et al. update h ← h + dt/τ·(−h + I + σξ) with τ = 100, I = 1, σ = 9, dt = 1 is
    // per_step with f = (I − h)/τ and g = σ/τ.
    AuthorsUpdate<T> m;
    auto one = [](double, Vector<T>& u) { u.setConstant(T(1)); };
    const Trial trial{5, 42};
    Rng ref(42, 5, EulerMaruyama<T>::default_purpose);
    const double xi1 = double(ref.normal<T>()), xi2 = double(ref.normal<T>());
    const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
    {
        EulerMaruyama<T, NoiseScaling::per_step> em;
        Vector<T> h = Vector<T>::Constant(1, T(1.5));
        simulate(trial, m, em, h, TimeGrid(1.0, 2), one);
        double e = 1.5;
        e = e + 1.0 / 100 * (-e + 1 + 9 * xi1);
        e = e + 1.0 / 100 * (-e + 1 + 9 * xi2);
        CHECK(double(h[0]) == doctest::Approx(e).epsilon(tol));
    }
    {   // at dt = 0.5 the conventions differ: per_step dt·g·ξ, sqrt_dt √dt·g·ξ
        EulerMaruyama<T, NoiseScaling::per_step> a;
        EulerMaruyama<T> b;
        Vector<T> ha = Vector<T>::Constant(1, T(1.5)), hb = ha;
        simulate(trial, m, a, ha, TimeGrid(0.5, 1), one);
        simulate(trial, m, b, hb, TimeGrid(0.5, 1), one);
        const double f = (1 - 1.5) / 100;
        CHECK(double(ha[0]) == doctest::Approx(1.5 + 0.5 * (f + 0.09 * xi1)).epsilon(tol));
        CHECK(double(hb[0]) == doctest::Approx(1.5 + 0.5 * f + std::sqrt(0.5) * 0.09 * xi1).epsilon(tol));
    }
    {   // same trial -> same path; another trial index -> another path
        EulerMaruyama<T> em;
        Vector<T> a = Vector<T>::Zero(1), b = a, c = a;
        simulate(Trial{3, 9}, m, em, a, TimeGrid(1.0, 20), one);
        simulate(Trial{3, 9}, m, em, b, TimeGrid(1.0, 20), one);
        simulate(Trial{4, 9}, m, em, c, TimeGrid(1.0, 20), one);
        CHECK(a[0] == b[0]);
        CHECK(a[0] != c[0]);
    }
}

TEST_CASE_TEMPLATE("DormandPrince45 adaptive: error below tolerance, fewer steps when looser", T, float, double) {
    Forced<T> m;
    const bool is_float = std::is_same_v<T, float>;
    auto run = [&](double tol, AdaptiveStats& stats) {
        AdaptiveOptions o;
        o.rtol = o.atol = tol;
        DormandPrince45<T> dp(o);
        Vector<T> x = Vector<T>::Constant(1, T(1));
        stats = integrate_adaptive(m, dp, x, TimeGrid(50.0, 4), NoInput{});  // output every 50 ms, to 200 ms
        return std::abs(double(x[0]) - m.exact(200.0, 1.0));
    };
    // The controller keeps each step's (4th-order) local error estimate below tol·scale; the
    // propagated 5th-order solution is more accurate still, and the leak (τ = 10 ms) damps
    // earlier errors, so the global error stays below tol·(atol-scale 1 + |x| ≲ 1.5).
    AdaptiveStats tight, mid, loose;
    const double tols[3] = {is_float ? 1e-5 : 1e-9, is_float ? 1e-3 : 1e-7, is_float ? 1e-1 : 1e-5};
    CHECK(run(tols[0], tight) < 2 * tols[0]);
    CHECK(run(tols[1], mid) < 2 * tols[1]);
    CHECK(run(tols[2], loose) < 2 * tols[2]);
    // Steps ∝ tol^{-1/5} asymptotically: 100× looser -> 100^{0.2} ≈ 2.5× fewer steps.
    CHECK(tight.accepted > mid.accepted);
    CHECK(mid.accepted > loose.accepted);
    if (!is_float) CHECK(double(tight.accepted) / double(mid.accepted) == doctest::Approx(2.51).epsilon(0.25));
    CHECK(tight.evaluations >= 6 * tight.accepted);
}

TEST_CASE("DormandPrince45: FSAL, rejection, hooks at grid points and failure guard") {
    Forced<double> m;
    DormandPrince45<double> dp({.rtol = 1e-6, .atol = 1e-6});
    // A first step far too large is rejected and x, t stay put.
    Vector<double> x = Vector<double>::Constant(1, 1.0);
    double t = 0, dt = 200;
    auto sys = [&](const Vector<double>& y, double s, Vector<double>& d) { m.derivative(y, s, y, d); };
    CHECK(dp.try_step(sys, x, t, dt) == StepOutcome::rejected);
    CHECK(t == 0.0);
    CHECK(x[0] == 1.0);
    CHECK(dt == doctest::Approx(40.0));  // shrunk by at most fac_min = 0.2
    while (dp.try_step(sys, x, t, dt) != StepOutcome::accepted) {}
    // Accepted steps after the first reuse the last stage: 6 evaluations each.
    const long ev = dp.evaluations();
    REQUIRE(dp.try_step(sys, x, t, dt) == StepOutcome::accepted);
    CHECK(dp.evaluations() - ev == 6);

    // Hooks see every grid time, in order, and the recorder-like hook can change x.
    struct Times { std::vector<double> t; void on_step(double s, Vector<double>&) { t.push_back(s); } } seen;
    Vector<double> y = Vector<double>::Constant(1, 1.0);
    integrate_adaptive(Trial{1, 2}, m, dp, y, TimeGrid(0.7, 30, 5.0), NoInput{}, seen);
    REQUIRE(seen.t.size() == 30);
    CHECK(seen.t.front() == doctest::Approx(5.7));
    CHECK(seen.t.back() == doctest::Approx(5.0 + 30 * 0.7));

    // A right-hand side that blows up in finite time: the step size collapses -> numerical_error with the time.
    Blowup b;  // x' = x², x0 = 1: x = 1/(1 − t), singular at t = 1
    DormandPrince45<double> dp2({.rtol = 1e-8, .atol = 1e-8, .dt_min = 1e-9});
    Vector<double> z = Vector<double>::Constant(1, 1.0);
    try {
        integrate_adaptive(Trial{7, 0}, b, dp2, z, TimeGrid(0.5, 4), NoInput{});
        FAIL("expected numerical_error");
    } catch (const numerical_error& e) {
        CHECK(e.trial() == 7);
        CHECK(e.step() == 1);  // the interval (0.5, 1.0]
        CHECK(std::string(e.what()).find("t = 0.99") != std::string::npos);
    }
    CHECK_THROWS_WITH_AS(DormandPrince45<double>({.rtol = -1}), doctest::Contains("rtol"), invalid_parameter);
}

TEST_CASE("RateNetwork: derivative allocates nothing after the first call") {
    Rng rng(4);
    auto net = RateNetwork<Logistic<double>>::random(64, 1.2, 10.0, rng);
    Vector<double> x = Vector<double>::Constant(64, 0.1), u = Vector<double>::Zero(64), d(64);
    net.derivative(x, 0.0, u, d);  // the first call sizes the per-thread buffer
    Eigen::internal::set_is_malloc_allowed(false);
    CHECK_NOTHROW(net.derivative(x, 0.0, u, d));
    Eigen::internal::set_is_malloc_allowed(true);
    CHECK(d.allFinite());
}

// ---------------------------------------------------------------------------------------------
// State types: one model definition on one trial or on lanes
// ---------------------------------------------------------------------------------------------
namespace {
/// τ dx/dt = −x + W x + u on two units, written once over the state type X.
struct Pair {
    using scalar_type = double;
    double tau = 10;
    Eigen::Matrix2d W = (Eigen::Matrix2d() << 0.2, -0.1, 0.3, 0.1).finished();
    index_t size() const { return 2; }
    template <class X>
    void derivative(const X& x, double t, const X& u, X& d) const {
        d.matrix().noalias() = W * x.matrix();
        d.array() = (d.array() - x.array() + u.array() + 0.1 * std::sin(0.05 * t)) / tau;
    }
};
}  // namespace

static_assert(Model<Pair> && Model<Pair, Lanes<double, 2, 4>> && Model<Pair, FixedVector<double, 2>>);
static_assert(Stepper<Euler<double, Lanes<double, 2, 4>>, Pair> && Stepper<RK4<double, Lanes<double, 2, 4>>, Pair>);
static_assert(state_lanes<Lanes<double, 2, 4>> == 4 && state_lanes<Vector<double>> == 1);

TEST_CASE("lanes: Euler and RK4 advance four trials as columns, each as it runs alone") {
    const Pair m;
    Lanes<double, 2, 4> x0;
    x0 << 1.0, -0.5, 0.25, 2.0,  //
        0.0, 0.5, -1.0, 0.75;
    // A per-lane input: lane b gets u = (b, −b) during [5, 15).
    Lanes<double, 2, 4> v;
    v << 0, 1, 2, 3, 0, -1, -2, -3;
    const TimeGrid grid(0.1, 300);
    auto run_rk4 = [&](auto x, auto add) {
        using X = decltype(x);
        RK4<double, X> rk;
        AddInput<X> in(add, BoxPulse(5.0, 15.0));
        simulate(m, rk, x, grid, NoInput{}, in);
        return x;
    };
    auto run_euler = [&](auto x, auto add) {
        using X = decltype(x);
        Euler<double, X> eu;
        AddInput<X> in(add, BoxPulse(5.0, 15.0));
        simulate(m, eu, x, grid, NoInput{}, in);
        return x;
    };
    const Lanes<double, 2, 4> xr = run_rk4(x0, v), xe = run_euler(x0, v);
    for (int b = 0; b < 4; ++b) {
        CAPTURE(b);
        const Vector<double> c0 = x0.col(b).matrix(), cv = v.col(b).matrix();
        // Same operations on every element: the lanes are bitwise the single-trial runs.
        CHECK((run_rk4(c0, cv).array() == xr.col(b)).all());
        CHECK((run_euler(c0, cv).array() == xe.col(b)).all());
        // And Euler (first order, dt/τ = 0.01) is within 1e-2 relative of RK4.
        CHECK((xe.col(b) - xr.col(b)).abs().maxCoeff() <= 1e-2 * (1 + xr.col(b).abs().maxCoeff()));
    }
}

namespace {
struct Square {  // dx/dt = x²
    using scalar_type = double;
    index_t size() const { return 1; }
    template <class X>
    void derivative(const X& x, double, const X&, X& d) const { d = x.square(); }
};
}  // namespace

TEST_CASE("lanes: a non-finite lane is reported with its own trial index") {
    Lanes<double, 1, 3> x;
    x << 0.1, 0.2, 5.0;  // lane 2 blows up first (dx/dt = x², finite-time blow-up at 1/x0)
    Euler<double, Lanes<double, 1, 3>> eu;
    try {
        simulate(Trial{100, 1}, Square{}, eu, x, TimeGrid(0.05, 100), NoInput{});
        FAIL("expected numerical_error");
    } catch (const numerical_error& e) {
        CHECK(e.trial() == 102);
    }
}

TEST_CASE_TEMPLATE("simulate's finiteness test: every kind of non-finite coefficient, in any position", T, float, double) {
    // detail::all_finite sums x − x: 0 for finite coefficients (also the largest, the smallest
    // subnormal and −0), NaN as soon as one is ±inf or NaN.
    using L = Lanes<T, 4, 16>;
    const T lim[] = {std::numeric_limits<T>::max(), -std::numeric_limits<T>::max(), std::numeric_limits<T>::denorm_min(),
                     T(-0.0), T(1e-30), T(3)};
    L x = L::Constant(T(1));
    for (T v : lim) {
        x(2, 5) = v;
        CHECK(detail::all_finite(x));
    }
    x = L::Constant(std::numeric_limits<T>::max());  // the sum of x − x cannot overflow: all 0
    CHECK(detail::all_finite(x));
    const T bad[] = {std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(),
                     std::numeric_limits<T>::quiet_NaN()};
    for (T v : bad)
        for (index_t k = 0; k < x.size(); k += 7) {
            L y = L::Constant(T(0.5));
            y(k) = v;
            CHECK_FALSE(detail::all_finite(y));
        }
    Vector<T> v = Vector<T>::Zero(0);
    CHECK(detail::all_finite(v));  // nothing to test
    v = Vector<T>::Ones(3);
    v[2] = std::numeric_limits<T>::quiet_NaN();
    CHECK_FALSE(detail::all_finite(v));
}

TEST_CASE_TEMPLATE("EulerMaruyama on lanes: each lane is its trial run alone (bitwise without FMA), both scalings", T,
                   float, double) {
    // Four coupled softplus populations with noise (PopulationModel: columns computed alike, see
    // population_model.hpp; four rows fill a SIMD packet for float and double, so one column
    // takes the same vectorised transfer as a batch). Lane b of a batch from trial 100 is trial
    // 100 + b: its own stream Rng(7, 100 + b, purpose), drawn unit by unit, and the same
    // arithmetic as one lane alone.
    Matrix<T> W(4, 4);
    W << T(1.2), T(-0.8), T(0.1), T(0), T(-0.8), T(1.2), T(0), T(0.1), T(0.1), T(0), T(1.2), T(-0.8), T(0), T(0.1),
        T(-0.8), T(1.2);
    const PopulationModel<Softplus<T>, T, 4> m(W, Vector<T>::Constant(4, T(20)), Vector<T>::Constant(4, T(0.3)), 2.0,
                                               Softplus<T>{T(1)});
    const TimeGrid grid(0.5, 400);
    auto run = [&](auto scaling) {
        constexpr NoiseScaling S = decltype(scaling)::value;
        using X8 = Lanes<T, 4, 8>;
        using X1 = Lanes<T, 4, 1>;
        EulerMaruyama<T, S, X8> em8;
        X8 x8 = X8::Constant(T(0.5));
        simulate(Trial{100, 7}, m, em8, x8, grid, NoInput{});
        bool same = true;
        for (int b = 0; b < 8; ++b) {
            EulerMaruyama<T, S, X1> em1;
            X1 x1 = X1::Constant(T(0.5));
            simulate(Trial{100 + b, 7}, m, em1, x1, grid, NoInput{});
            same = same && (x1.col(0) == x8.col(b)).all();
            // The Vector route draws the same numbers; its scalar softplus differs by rounding.
            EulerMaruyama<T, S> emv;
            Vector<T> xv = Vector<T>::Constant(4, T(0.5));
            simulate(Trial{100 + b, 7}, m, emv, xv, grid, NoInput{});
            const T tol = std::is_same_v<T, float> ? T(1e-4) : T(1e-11);
            CHECK(((xv.array() - x8.col(b)).abs() <= tol * (T(1) + xv.array().abs())).all());
        }
#if defined(__FMA__)
        // -march=native: GCC may fuse multiply-adds differently in the 8-lane and the 1-lane
        // instantiation (seen: some lanes an ulp apart after a few steps); the bound above holds.
        (void)same;
#else
        CHECK(same);
#endif
        CHECK((x8.col(0) != x8.col(1)).any());  // lanes are different trials
    };
    run(std::integral_constant<NoiseScaling, NoiseScaling::sqrt_dt>{});
    run(std::integral_constant<NoiseScaling, NoiseScaling::per_step>{});
}
