// Tests for perturb/: WindowNoise, Silencing, Clamp (and a user-written hook, as in
// docs/integrators_and_hooks.md). Photoinhibition cases: see the section at the end.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/recorder.hpp"
#include "neurodyn/integrate/rk4.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/models/rate_network.hpp"
#include "neurodyn/perturb/clamp.hpp"
#include "neurodyn/perturb/silencing.hpp"
#include "neurodyn/perturb/window_noise.hpp"

using namespace neurodyn;

namespace {
/// Records the input u each step (placed after the hooks that change it).
template <class T>
struct InputLog {
    std::vector<double> t;
    std::vector<Vector<T>> u;
    void on_input(double s, Vector<T>& v) { t.push_back(s); u.push_back(v); }
};

template <class T>
RateNetwork<Logistic<T>, T> small_net(index_t n = 20, std::uint64_t seed = 3) {
    Rng rng(seed);
    return RateNetwork<Logistic<T>, T>::random(n, 1.5, 10.0, rng);
}
}  // namespace

static_assert(hooks::Hook<WindowNoise<double>, Vector<double>>);
static_assert(hooks::Hook<Clamp<float>, Vector<float>> && hooks::Hook<Silencing<double>, Vector<double>>);
// Compile-time dispatch: a hook without on_step is never called after a step (no cost there).
template <class H>
concept HasOnStep = requires(H& h, Vector<double>& x) { h.on_step(0.0, x); };
static_assert(!HasOnStep<WindowNoise<double>> && HasOnStep<Clamp<double>>);

// --------------------------------------------------------------------------------------------
// WindowNoise
// --------------------------------------------------------------------------------------------
TEST_CASE_TEMPLATE("WindowNoise: only inside the window - common vs independent - per_step amplitude", T, float, double) {
    auto net = small_net<T>();
    Euler<T> euler;
    const TimeGrid grid(1.0, 4000);
    WindowNoise<T> ind({.amplitude = 2.0, .window = {1000, 3000}, .sharing = NoiseSharing::independent});
    WindowNoise<T> com({.amplitude = 2.0, .window = {1000, 3000}, .sharing = NoiseSharing::common, .purpose = 99});
    InputLog<T> li, lc;
    Vector<T> x = Vector<T>::Zero(20);
    simulate(Trial{0, 1}, net, euler, x, grid, NoInput{}, ind, li);
    x.setZero();
    simulate(Trial{0, 1}, net, euler, x, grid, NoInput{}, com, lc);
    long inside = 0;
    double s2 = 0;
    for (std::size_t k = 0; k < li.t.size(); ++k) {
        const bool in = li.t[k] >= 1000 && li.t[k] < 3000;
        if (!in) {
            CHECK(li.u[k].isZero());
            CHECK(lc.u[k].isZero());
            continue;
        }
        ++inside;
        CHECK(lc.u[k].minCoeff() == lc.u[k].maxCoeff());  // one draw shared by all units
        CHECK(li.u[k].minCoeff() != li.u[k].maxCoeff());
        s2 += li.u[k].template cast<double>().squaredNorm();
    }
    CHECK(inside == 2000);
    // per_step: each entry ~ N(0, A²): sample variance over 40000 draws within 4 standard errors.
    const double m = 2000.0 * 20, var = s2 / m;
    CHECK(std::abs(var - 4.0) < 4 * 4.0 * std::sqrt(2.0 / m));
}

TEST_CASE("WindowNoise: white scaling, subsets of units, seeding by trial, bad options") {
    auto net = small_net<double>();
    Euler<double> euler;
    const double dt = 0.25;
    WindowNoise<double> w({.amplitude = 1.0, .units = {2, 5}, .scaling = WindowNoiseScaling::white, .dt = dt});
    InputLog<double> log;
    Vector<double> x = Vector<double>::Zero(20);
    simulate(Trial{4, 8}, net, euler, x, TimeGrid(dt, 8000), NoInput{}, w, log);
    double s2 = 0;
    for (const auto& u : log.u) {
        CHECK(u[0] == 0.0);
        CHECK(u[3] == 0.0);
        s2 += u[2] * u[2] + u[5] * u[5];
    }
    // white: u = A ξ/√dt, variance A²/dt = 4
    const double m = 16000, var = s2 / m;
    CHECK(std::abs(var - 1.0 / dt) < 4 * (1.0 / dt) * std::sqrt(2.0 / m));
    // The stream is keyed by (seed, trial index, purpose) only: trial 4 gives the same draws
    // whether or not other trials ran before it (as on another thread).
    InputLog<double> again;
    x.setZero();
    simulate(Trial{9, 8}, net, euler, x, TimeGrid(dt, 100), NoInput{}, w);
    x.setZero();
    simulate(Trial{4, 8}, net, euler, x, TimeGrid(dt, 8000), NoInput{}, w, again);
    CHECK(again.u.back() == log.u.back());
    CHECK_THROWS_WITH_AS(WindowNoise<double>({.amplitude = -1}), doctest::Contains("amplitude"), invalid_parameter);
    CHECK_THROWS_WITH_AS(WindowNoise<double>({.amplitude = 1, .scaling = WindowNoiseScaling::white}),
                         doctest::Contains("dt"), invalid_parameter);
    CHECK_THROWS_WITH_AS(WindowNoise<double>({.amplitude = 1, .window = {5, 1}}), doctest::Contains("window"),
                         invalid_parameter);
}

TEST_CASE("WindowNoise over the delay only: the trajectory is untouched before the window") {
    auto net = small_net<double>(30, 5);
    Euler<double> euler;
    const TimeGrid grid(1.0, 3000);
    Recorder clean_rec(net, grid, 1, Record::state), noisy_rec(net, grid, 1, Record::state);
    WindowNoise<double> noise({.amplitude = 1.0, .window = {1500, 3000}});
    Vector<double> x = Vector<double>::Constant(30, 0.1);
    simulate(Trial{0, 2}, net, euler, x, grid, NoInput{}, clean_rec);
    x.setConstant(0.1);
    simulate(Trial{0, 2}, net, euler, x, grid, NoInput{}, noise, noisy_rec);
    // record k = state at t = k + 1: identical up to t = 1500, different after.
    auto row_equal = [&](std::size_t k) {
        for (std::size_t i = 0; i < 30; ++i)
            if (clean_rec.data()(k, i) != noisy_rec.data()(k, i)) return false;
        return true;
    };
    CHECK(row_equal(1499));
    CHECK(!row_equal(1500));
}

// --------------------------------------------------------------------------------------------
// Clamp and Silencing
// --------------------------------------------------------------------------------------------
TEST_CASE_TEMPLATE("Clamp: held after steps inside the window, free before and after", T, float, double) {
    auto net = small_net<T>();
    RK4<T> rk4;
    const TimeGrid grid(0.5, 400);
    Vector<T> values(2);
    values << T(0.7), T(-0.3);
    Clamp<T> hold(20, {3, 11}, values, {50, 150});
    Recorder rec(net, grid, 1, Record::state);
    Vector<T> x = Vector<T>::Constant(20, T(0.2));
    simulate(net, rk4, x, grid, NoInput{}, hold, rec);
    for (std::size_t k = 0; k < 400; ++k) {
        const double t = 0.5 * double(k + 1);
        const bool in = t > 50 && t <= 150;
        CHECK((rec.data()(k, 3) == values[0]) == in);
        CHECK((rec.data()(k, 11) == values[1]) == in);
    }
    CHECK_THROWS_WITH_AS(Clamp<T>(20, {3, 20}, values, {}), doctest::Contains("Clamp.units"), invalid_parameter);
    CHECK_THROWS_WITH_AS(Clamp<T>(20, {3, 3}, values, {}), doctest::Contains("repeat"), invalid_parameter);
    CHECK_THROWS_WITH_AS(Clamp<T>(20, {3}, values, {}), doctest::Contains("Clamp.values"), invalid_parameter);
}

TEST_CASE_TEMPLATE("Silencing: rates ~0 during the window, recovery afterwards", T, float, double) {
    auto net = small_net<T>(40, 11);
    // Logistic: the largest state with rate ≤ 1e-3 is logit(1e-3).
    const T off = silent_state(net, 1e-3);
    CHECK(double(off) == doctest::Approx(std::log(1e-3 / (1 - 1e-3))).epsilon(std::is_same_v<T, float> ? 1e-5 : 1e-9));
    Rng pick(1, 0, 7);
    const auto units = random_units(40, 0.25, pick);
    REQUIRE(units.size() == 10);
    Silencing<T> silence(40, units, off, {100, 300});
    Euler<T> euler;
    const TimeGrid grid(1.0, 500);
    Recorder rec(net, grid);  // rates
    Vector<T> x = Vector<T>::Zero(40);
    simulate(net, euler, x, grid, NoInput{}, silence, rec);
    for (index_t u : units) {
        for (std::size_t k = 100; k < 300; ++k) CHECK(double(rec.data()(k, std::size_t(u))) <= 1e-3 + 1e-7);
        // Afterwards the unit is driven by the network again (from the silent state upwards).
        CHECK(double(rec.data()(499, std::size_t(u))) > 1e-3);
    }
    CHECK_THROWS_WITH_AS(silent_state(net, -1.0), doctest::Contains("rate_floor"), invalid_parameter);
}

TEST_CASE("random_units: exact count, distinct, sorted, reproducible") {
    Rng a(5, 1, 2), b(5, 1, 2);
    const auto u = random_units(87, 0.3, a), v = random_units(87, 0.3, b);
    REQUIRE(u.size() == 26);  // round(0.3·87) = 26
    CHECK(u == v);
    for (std::size_t k = 1; k < u.size(); ++k) CHECK(u[k] > u[k - 1]);
    CHECK(u.back() < 87);
    CHECK_THROWS_WITH_AS(random_units(10, 1.5, a), doctest::Contains("fraction"), invalid_parameter);
    // Every unit equally likely: over 2000 draws of 3 of 10, each count ~ Binomial(2000, 0.3).
    std::vector<int> count(10, 0);
    Rng r(77);
    for (int k = 0; k < 2000; ++k)
        for (index_t i : random_units(10, 0.3, r)) ++count[std::size_t(i)];
    for (int c : count) CHECK(std::abs(c - 600) < 4 * std::sqrt(2000 * 0.3 * 0.7));
}

// --------------------------------------------------------------------------------------------
// A user-written hook, exactly as in docs/integrators_and_hooks.md ("Writing a hook")
// --------------------------------------------------------------------------------------------
namespace user {
/// Adds a constant current to one unit while the state of another unit is above a threshold
/// (a closed-loop perturbation), and counts how often it fired.
struct ClosedLoopKick {
    neurodyn::index_t sensor, target;
    double threshold, kick;
    bool armed = false;
    long fired = 0;

    void on_trial_begin(const neurodyn::Trial&) { armed = false; fired = 0; }
    void on_input(double, neurodyn::Vector<double>& u) {
        if (armed) { u[target] += kick; ++fired; }
    }
    void on_step(double, neurodyn::Vector<double>& x) { armed = x[sensor] > threshold; }
};
}  // namespace user

TEST_CASE("a user-written hook composes with library hooks") {
    auto net = small_net<double>(10, 2);
    neurodyn::Euler<double> euler;
    user::ClosedLoopKick kick{.sensor = 0, .target = 1, .threshold = 0.0, .kick = 5.0};
    neurodyn::WindowNoise<double> noise({.amplitude = 0.5});
    neurodyn::Vector<double> x = neurodyn::Vector<double>::Zero(10);
    x[0] = 1.0;  // sensor above threshold at the start
    InputLog<double> log;
    neurodyn::simulate(neurodyn::Trial{1, 2}, net, euler, x, neurodyn::TimeGrid(1.0, 200), neurodyn::NoInput{}, noise,
                       kick, log);
    CHECK(kick.fired > 0);
    // Whenever the kick fired, unit 1's input exceeds the noise-only inputs by 5 on that step.
    long seen = 0;
    for (const auto& u : log.u) seen += u[1] - 5.0 > -2.5 && std::abs(u[1]) > 2.5;  // noise sd 0.5: |ξ| > 5 sd never
    CHECK(seen == kick.fired);
}

// --------------------------------------------------------------------------------------------
// Photoinhibition (perturb/photoinhibition.hpp, owned by H1a): cases may be added here.
// --------------------------------------------------------------------------------------------
