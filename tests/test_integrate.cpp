// Tests for integrate/: steppers, simulate(), hooks, recorder.
#include <doctest/doctest.h>

#include <cmath>

#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/recorder.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/models/rate_network.hpp"

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
static_assert(Stepper<Euler<double>, double>);
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
