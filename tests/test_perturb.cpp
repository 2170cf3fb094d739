// Tests for perturb/: WindowNoise, Silencing, Clamp, AddInput, ScaleInput, InputNoise (and a
// user-written hook, as in docs/integrators_and_hooks.md).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/recorder.hpp"
#include "neurodyn/integrate/rk4.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/models/rate_network.hpp"
#include "neurodyn/perturb/add_input.hpp"
#include "neurodyn/perturb/clamp.hpp"
#include "neurodyn/perturb/input_noise.hpp"
#include "neurodyn/inputs/ramp.hpp"
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
// AddInput, ScaleInput, InputNoise (generic input hooks, any state type)
// --------------------------------------------------------------------------------------------
namespace {
/// The input each step, for any state type.
template <class X>
struct AnyInputLog {
    std::vector<double> t;
    std::vector<X> u;
    void on_input(double s, X& v) { t.push_back(s); u.push_back(v); }
};
/// dx/dt = 0: the hooks alone shape what the log sees.
struct Still {
    using scalar_type = double;
    index_t n = 3;
    index_t size() const { return n; }
    template <class X>
    void derivative(const X&, double, const X&, X& d) const { d.setZero(); }
};
}  // namespace

TEST_CASE("AddInput: a vector added during a window, sharp or smoothed, ScaleInput: a gain in a window") {
    Vector<double> v(3);
    v << 1.0, -2.0, 0.5;
    AddInput<Vector<double>> box(v, BoxPulse(2.0, 5.0));
    AddInput<Vector<double>> smooth(v, BoxPulse(2.0, 5.0, 1.0));
    AddInput<Vector<double>, Ramp> ramp(v, Ramp{0.0, 4.0, 2.0});
    ScaleInput<Vector<double>> half(Vector<double>::Constant(3, 0.5), {3.0, 4.0});
    AnyInputLog<Vector<double>> a, b, c;
    Euler<double> eu;
    Vector<double> x = Vector<double>::Zero(3);
    const TimeGrid grid(1.0, 8);
    simulate(Still{}, eu, x, grid, NoInput{}, box, half, a);
    simulate(Still{}, eu, x, grid, NoInput{}, smooth, b);
    simulate(Still{}, eu, x, grid, NoInput{}, ramp, c);
    REQUIRE(a.u.size() == 8);
    for (std::size_t i = 0; i < 8; ++i) {
        const double t = a.t[i];
        CAPTURE(t);
        // Steps starting in [2, 5) get v; those in [3, 4) at half gain.
        const double gain = t >= 2 && t < 5 ? (t >= 3 && t < 4 ? 0.5 : 1.0) : 0.0;
        CHECK((a.u[i] - gain * v).cwiseAbs().maxCoeff() == 0.0);
        // Smoothed: 1 − e^{−(t−2)} inside, (1 − e^{−3}) e^{−(t−5)} after.
        const double s = t < 2 ? 0 : t < 5 ? 1 - std::exp(-(t - 2)) : (1 - std::exp(-3.0)) * std::exp(-(t - 5));
        CHECK((b.u[i] - s * v).cwiseAbs().maxCoeff() <= 1e-15);
        // Ramp: 2·t/4 up to t = 4, then 2.
        CHECK((c.u[i] - std::min(2.0, 0.5 * t) * v).cwiseAbs().maxCoeff() <= 1e-15);
    }
    CHECK_THROWS_AS(AddInput<Vector<double>>(Vector<double>::Constant(2, NAN), BoxPulse(0, 1)), invalid_parameter);
    CHECK_THROWS_AS(ScaleInput<Vector<double>>(Vector<double>::Ones(3), {5.0, 1.0}), invalid_parameter);
}

TEST_CASE_TEMPLATE("InputNoise: lanes advanced side by side draw bitwise Rng::normal_fast of each trial's stream", T,
                   float, double) {
    // 3 units × 700 steps per lane: ~2100 draws, ~25 of them off the ziggurat's fast path
    // (wedge, tail, redraw), which the batched generator hands back to Rng::normal_fast.
    // Fixed 8 lanes, and a dynamic 21 (one full chunk of 16 and a partial one).
    auto check = [](auto u) {
        using X = decltype(u);
        const index_t lanes = u.cols();
        const T sigma = T(1.5);
        InputNoise<X> noise({.sigma = 1.5, .purpose = 4});
        noise.on_trial_begin(Trial{40, 77});
        std::vector<Rng> ref;
        for (index_t b = 0; b < lanes; ++b) ref.emplace_back(77, std::uint64_t(40 + b), 4);
        long mismatches = 0, rare = 0;
        for (int step = 0; step < 700; ++step) {
            u.setZero();
            noise.on_input(double(step), u);
            for (index_t b = 0; b < lanes; ++b)
                for (index_t r = 0; r < 3; ++r) {
                    const double xi = ref[std::size_t(b)].template normal_fast<double>();
                    rare += std::abs(xi) > 3.4 || std::abs(xi) < 1e-3;  // a few tail / near-zero draws at least
                    mismatches += u(r, b) != T(0) + sigma * T(xi);
                }
        }
        CHECK(mismatches == 0);
        CHECK(rare > 0);
    };
    check(Lanes<T, 3, 8>());
    check(Eigen::Array<T, 3, Eigen::Dynamic>(3, 21));
    check(Vector<T>(3));
}

TEST_CASE("InputNoise: per-step and white scaling, window, the same draws alone and in lanes") {
    const int n = 20000;
    const TimeGrid grid(0.25, n);
    auto sample_sd = [](const std::vector<Vector<double>>& u) {
        double s = 0, s2 = 0, k = 0;
        for (const auto& v : u)
            for (double e : v) {
                s += e;
                s2 += e * e;
                ++k;
            }
        const double m = s / k;
        return std::make_pair(m, std::sqrt(s2 / k - m * m));
    };
    Euler<double> eu;
    Vector<double> x = Vector<double>::Zero(3);
    InputNoise<Vector<double>> per_step({.sigma = 2.0});
    InputNoise<Vector<double>> white({.sigma = 2.0, .scaling = InputNoiseScaling::white, .dt = grid.dt()});
    AnyInputLog<Vector<double>> a, b;
    simulate(Trial{3, 9}, Still{}, eu, x, grid, NoInput{}, per_step, a);
    simulate(Trial{3, 9}, Still{}, eu, x, grid, NoInput{}, white, b);
    const auto [ma, sa] = sample_sd(a.u);
    const auto [mb, sb] = sample_sd(b.u);
    // 60000 draws: the sd of a sample sd is σ/√(2·60000) ≈ 0.003σ; 4 s.e. below.
    CHECK(std::abs(ma) < 4 * 2.0 / std::sqrt(3.0 * n));
    CHECK(std::abs(sa - 2.0) < 4 * 2.0 / std::sqrt(6.0 * n));
    // White noise of intensity σ: per-step sd σ/√dt = 4 at dt = 0.25 — the same ξ, scaled.
    CHECK(sb == doctest::Approx(sa / std::sqrt(grid.dt())).epsilon(1e-12));
    // The window: only steps starting in [100, 200) are noisy.
    InputNoise<Vector<double>> windowed({.sigma = 1.0, .window = {100.0, 200.0}});
    AnyInputLog<Vector<double>> w;
    simulate(Trial{3, 9}, Still{}, eu, x, TimeGrid(1.0, 300), NoInput{}, windowed, w);
    for (std::size_t i = 0; i < w.u.size(); ++i) CHECK((w.u[i].array() != 0.0).all() == (w.t[i] >= 100 && w.t[i] < 200));
    // Lane b of a batch starting at trial 3 draws what trial 3 + b draws alone.
    using X = Lanes<double, 3, 4>;
    Euler<double, X> eu4;
    X x4 = X::Zero();
    InputNoise<X> batched({.sigma = 2.0});
    AnyInputLog<X> l;
    simulate(Trial{3, 9}, Still{}, eu4, x4, TimeGrid(1.0, 50), NoInput{}, batched, l);
    for (int lane = 0; lane < 4; ++lane) {
        InputNoise<Vector<double>> alone({.sigma = 2.0});
        AnyInputLog<Vector<double>> one;
        simulate(Trial{3 + lane, 9}, Still{}, eu, x, TimeGrid(1.0, 50), NoInput{}, alone, one);
        bool same = true;
        for (std::size_t i = 0; i < 50; ++i) same = same && (one.u[i].array() == l.u[i].col(lane)).all();
        CHECK(same);
    }
    CHECK_THROWS_AS(InputNoise<Vector<double>>({.sigma = -1.0}), invalid_parameter);
    CHECK_THROWS_AS(InputNoise<Vector<double>>({.sigma = 1.0, .scaling = InputNoiseScaling::white}), invalid_parameter);
}
