// The code of docs/tutorial.md, compiled and checked. The tutorial's code blocks appear below
// verbatim (the last test case checks that they do, so the page cannot drift from this file);
// the assertions would fail if the tutorial's claims were wrong.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// ---- tutorial, step 1: a transfer function written outside the library ------------------
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>
#include <neurodyn/neurodyn.hpp>

namespace user {

/// Naka–Rushton (hyperbolic-ratio) transfer: r = r_max·[h]₊ⁿ / ([h]₊ⁿ + c50ⁿ), in Hz.
template <neurodyn::Real T = double>
struct NakaRushton {
    T r_max = 50;  // saturation rate (Hz)
    T c50 = 10;    // input at half saturation
    T n = 2;       // exponent
    T operator()(T h) const noexcept {
        if (h <= T(0)) return T(0);
        const T hn = std::pow(h, n);
        return r_max * hn / (hn + std::pow(c50, n));
    }
    void validate() const {  // PopulationModel calls it when it exists
        neurodyn::require_positive("NakaRushton.r_max", r_max);
        neurodyn::require_positive("NakaRushton.c50", c50);
        neurodyn::require_positive("NakaRushton.n", n);
    }
};
static_assert(neurodyn::TransferFunction<NakaRushton<double>, double>);

}  // namespace user

// ---- tutorial, step 2: a perturbation hook written outside the library --------------------
namespace user {

/// Optogenetic activation of some units: full power from start_ms, ramped down linearly to
/// zero over the last ramp_down_ms before end_ms (the usual ramp that avoids rebound).
/// Acts on the steps that start in [start_ms, end_ms), like the library's input hooks.
struct OptoActivation {
    std::vector<neurodyn::index_t> units;
    double amplitude;  // input added at full power
    double start_ms, end_ms;
    double ramp_down_ms = 100;
    long steps_lit = 0;  // steps with the light on, in the last trial

    double power(double t) const {  // in [0, 1]
        if (t < start_ms || t >= end_ms) return 0.0;
        return std::min(1.0, (end_ms - t) / ramp_down_ms);
    }
    void on_trial_begin(const neurodyn::Trial&) { steps_lit = 0; }
    template <class V>
    void on_input(double t, V& u) {
        const double p = power(t);
        if (p == 0.0) return;
        for (auto i : units) u[i] += typename V::Scalar(amplitude * p);
        ++steps_lit;
    }
};

}  // namespace user

// ---- tutorial, step 4: a model of your own, batched and in parallel ----------------------
namespace user {

/// Two hemispheres, each a right- (0, 2) and a left-preferring (1, 3) population:
/// τ dh/dt = −h + W G(h) + u with the Naka–Rushton G of step 1 and a weak excitatory
/// coupling c between the same-preference populations of the two hemispheres.
/// Written once over the state type X: one trial (Vector<double>) or B trials side by side
/// (neurodyn::Lanes<double, 4, B>, column b = trial b).
struct TwoHemispheres {
    using scalar_type = double;
    Eigen::Matrix4d W;
    double tau = 50;  // ms
    NakaRushton<double> G{};

    explicit TwoHemispheres(double c) {
        W << 0.5, -0.2, c, 0,
            -0.2, 0.5, 0, c,
            c, 0, 0.5, -0.2,
            0, c, -0.2, 0.5;
    }
    neurodyn::index_t size() const { return 4; }
    template <class X>
    X rates(const X& h) const { return h.unaryExpr(G); }
    template <class X>
    void derivative(const X& h, double /*t*/, const X& u, X& dhdt) const {
        dhdt.matrix().noalias() = W * rates(h).matrix();
        dhdt = (dhdt - h + u) / tau;
    }
};
static_assert(neurodyn::Model<TwoHemispheres> && neurodyn::Model<TwoHemispheres, neurodyn::Lanes<double, 4, 8>>);

}  // namespace user

namespace {

/// What the tutorial's step 3 produces, kept for the assertions.
struct TutorialRun {
    neurodyn::Recorder<neurodyn::PopulationModel<user::NakaRushton<double>>> control, opto;
    double memory_control, memory_opto;
    long steps_lit;
};

std::vector<std::string> trimmed_lines(std::istream& in) {
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        const auto a = line.find_first_not_of(" \t");
        if (a == std::string::npos) continue;
        const auto b = line.find_last_not_of(" \t\r");
        out.push_back(line.substr(a, b - a + 1));
    }
    return out;
}

std::filesystem::path source_dir() { return std::filesystem::path(NEURODYN_TEST_REFERENCE_DIR).parent_path(); }

}  // namespace

// ---- tutorial, step 3: run it with a library hook and the Recorder ----------------------
TutorialRun run_tutorial() {
    using namespace neurodyn;
    using G = user::NakaRushton<double>;

    // Two populations, right- (0) and left-preferring (1): self-excitation, mutual inhibition.
    Matrix<double> W(2, 2);
    W << 0.5, -0.2,
        -0.2, 0.5;
    const Vector<double> tau = Vector<double>::Constant(2, 50.0);  // ms
    const Vector<double> baseline = Vector<double>::Zero(2);
    PopulationModel<G> model(W, tau, baseline, /*sigma=*/0.0, G{});

    // A 3-s "right" trial: sample 500-1000 ms onto population 0, delay until 2500 ms.
    const TimeGrid grid(1.0, 3000);
    const BoxPulse sample(500.0, 1000.0);
    auto stimulus = [&](double t, Vector<double>& u) { u << 15.0 * sample(t), 0.0; };

    WindowNoise<double> noise({.amplitude = 3.0});  // independent per unit, whole trial
    user::OptoActivation opto{.units = {1}, .amplitude = 30.0, .start_ms = 1500, .end_ms = 2000};
    Euler<double> euler;

    Recorder control(model, grid, 10);  // rates every 10 ms
    Vector<double> h = Vector<double>::Zero(2);
    simulate(Trial{7, 42}, model, euler, h, grid, stimulus, noise, control);

    Recorder perturbed(model, grid, 10);
    h.setZero();
    simulate(Trial{7, 42}, model, euler, h, grid, stimulus, noise, opto, perturbed);

    // Record k holds the rates at t = 10·(k + 1) ms: the delay ends at k = 249.
    const double memory_control = control.data()(249, 0) - control.data()(249, 1);
    const double memory_opto = perturbed.data()(249, 0) - perturbed.data()(249, 1);
    std::printf("r_right - r_left at the end of the delay: %.1f Hz (control), %.1f Hz (light)\n",
                memory_control, memory_opto);
    return {control, perturbed, memory_control, memory_opto, opto.steps_lit};
}


// ---- tutorial, step 4 (continued): 64 trials, 8 per simulate() call, on two threads --------
std::vector<double> run_two_hemispheres() {
    using namespace neurodyn;
    using X = Lanes<double, 4, 8>;  // 8 trials per state
    const user::TwoHemispheres model(0.05);
    const TimeGrid grid(1.0, 3000);
    X sample = X::Zero(), light = X::Zero();
    sample.row(0).setConstant(15.0);  // "right" sample onto both hemispheres
    sample.row(2).setConstant(15.0);
    light.row(1).setConstant(30.0);   // light on the left population of hemisphere 1 only

    std::vector<X> slot_rates(2);                       // one result slot per trial group in flight
    std::vector<double> memory(2 * 64);                 // per trial: r0 − r1, r2 − r3 at the end
    for_each_trial(8, slot_rates.size(),                // 8 groups of 8 trials
        [&](long group, std::size_t slot) {             // runs in parallel: everything stateful is local
            Euler<double, X> euler;
            AddInput<X> stimulus(sample, BoxPulse(500.0, 1000.0));
            AddInput<X> opto(light, BoxPulse(1500.0, 2000.0));
            InputNoise<X> noise({.sigma = 3.0});        // per step; lane b = trial 8·group + b
            X h = X::Zero();
            simulate(Trial{8 * group, 42}, model, euler, h, grid, NoInput{}, stimulus, noise, opto);
            slot_rates[slot] = model.rates(h);
        },
        [&](long group, std::size_t slot) {             // serial, in trial order
            const X& r = slot_rates[slot];
            for (int b = 0; b < 8; ++b) {
                memory[std::size_t(2 * (8 * group + b))] = r(0, b) - r(1, b);
                memory[std::size_t(2 * (8 * group + b) + 1)] = r(2, b) - r(3, b);
            }
        },
        {.threads = 2});
    return memory;
}

// ---- tutorial, step 5: a training policy of your own ------------------------------------
#include <string>
#include <neurodyn/analysis/delay_selectivity.hpp>

namespace user {

/// FORCE learns only the inputs of the units that are delay-selective in the targets; every
/// unit's rate still feeds them (all presynaptic units learn). The other units keep their
/// initial weights, and pVar and the stopping rule are scored on the trained units.
struct DelaySelectiveRows {
    std::vector<int> preference;  // per unit: +1 right, -1 left, 0 not selective (delay_preference)

    neurodyn::learn::PlasticSet resolve(neurodyn::index_t n, neurodyn::Rng&) const {
        neurodyn::require_size("DelaySelectiveRows.preference", neurodyn::index_t(preference.size()), n);
        neurodyn::learn::PlasticSet s;
        for (neurodyn::index_t i = 0; i < n; ++i) {
            s.presynaptic.push_back(i);
            if (preference[std::size_t(i)] != 0) s.rows.push_back(i);
        }
        neurodyn::require(!s.rows.empty(), "DelaySelectiveRows.preference", "no selective unit",
                          "needs at least one delay-selective unit");
        s.all_rows = neurodyn::index_t(s.rows.size()) == n;
        return s;
    }
    void describe(neurodyn::learn::ParameterList& p) const {  // recorded in checkpoints
        std::string pref;
        for (int v : preference) pref += v > 0 ? '+' : v < 0 ? '-' : '0';
        p.emplace_back("policy", "DelaySelectiveRows");
        p.emplace_back("DelaySelectiveRows.preference", pref);
    }
};
static_assert(neurodyn::learn::TrainingPolicy<DelaySelectiveRows, double>);

}  // namespace user

struct SelectiveTraining {
    std::vector<int> preference;
    neurodyn::Matrix<double> J_before, J_after;
    xt::xtensor<double, 3> R;                       // the targets
    std::vector<neurodyn::Matrix<double>> rates;     // test run of each condition after training
    neurodyn::learn::TrainingResult result;
};

SelectiveTraining train_delay_selective() {
    using namespace neurodyn;
    SyntheticTargetOptions so;  // ALM-like right/left rates of 60 units, a short trial
    so.neurons = 60;
    so.presample_ms = 100, so.sample_ms = 100, so.delay_ms = 300, so.response_ms = 100;
    so.seed = 3;
    const auto t = synthetic_targets(so);
    SelectiveTraining out;
    out.R = normalise_jointly(t.rates);  // rates in (0, 1), the logistic's range
    const TimeGrid grid(1.0, index_t(out.R.shape()[2]));
    out.preference = delay_preference(out.R, t.epochs.steps("delay", grid), 0.1);
    const auto h = FrozenOu{1000.0, 10.0}.generate<double>(60, 2, grid, t.epochs, {"presample", "delay"}, 5);
    Rng rng(2, 0, 0xAB);
    const auto net = RateNetwork<Logistic<double>, double>::random(60, 1.2, 10.0, rng);
    out.J_before = net.weights();
    learn::ForceOptions opts;
    opts.max_iterations = 10;
    opts.progress = learn::Progress::off;
    learn::ForceTrainer<user::DelaySelectiveRows> trainer(net, out.R, h, opts, user::DelaySelectiveRows{out.preference});
    out.result = trainer.train();  // checkpoints, callbacks and the fast path work as for the built-ins
    out.J_after = trainer.network().weights();
    for (index_t c = 0; c < 2; ++c) out.rates.push_back(trainer.test(c));
    return out;
}

using namespace neurodyn;

TEST_CASE_TEMPLATE("tutorial: NakaRushton gives the hand-computed rates and validates its parameters", T, float,
                   double) {
    const user::NakaRushton<T> f{};
    CHECK(f(T(10)) == doctest::Approx(25.0).epsilon(1e-6));  // 50·100/(100 + 100)
    CHECK(f(T(20)) == doctest::Approx(40.0).epsilon(1e-6));  // 50·400/(400 + 100)
    CHECK(f(T(5)) == doctest::Approx(10.0).epsilon(1e-6));   // 50·25/125
    CHECK(f(T(-3)) == T(0));
    CHECK(f(T(0)) == T(0));
    const user::NakaRushton<T> cubic{T(100), T(2), T(3)};
    CHECK(cubic(T(4)) == doctest::Approx(100.0 * 64 / 72).epsilon(1e-6));

    // PopulationModel runs validate(): a bad parameter is reported by name.
    Matrix<T> W = Matrix<T>::Zero(2, 2);
    const Vector<T> tau = Vector<T>::Constant(2, T(50)), I = Vector<T>::Zero(2);
    using M = PopulationModel<user::NakaRushton<T>, T>;
    CHECK_THROWS_WITH_AS(M(W, tau, I, 0.0, user::NakaRushton<T>{T(50), T(0), T(2)}),
                         doctest::Contains("NakaRushton.c50"), invalid_parameter);
    // The model's rates are the transfer function applied element-wise.
    const M m(W, tau, I, 0.0, {});
    Vector<T> h(2);
    h << T(10), T(-1);
    const Vector<T> r = m.rates(h);
    CHECK(r[0] == doctest::Approx(25.0).epsilon(1e-6));
    CHECK(r[1] == T(0));
}

TEST_CASE_TEMPLATE("tutorial: OptoActivation light power and input change, hand values", T, float, double) {
    user::OptoActivation opto{.units = {1}, .amplitude = 30.0, .start_ms = 1500, .end_ms = 2000};
    CHECK(opto.power(1499.0) == 0.0);
    CHECK(opto.power(1500.0) == 1.0);
    CHECK(opto.power(1900.0) == 1.0);                          // ramp starts at end − 100 ms
    CHECK(opto.power(1950.0) == doctest::Approx(0.5));          // halfway down
    CHECK(opto.power(1999.0) == doctest::Approx(0.01));
    CHECK(opto.power(2000.0) == 0.0);                            // half-open window
    Vector<T> u = Vector<T>::Constant(2, T(1));
    opto.on_input(1950.0, u);
    CHECK(u[0] == T(1));                                         // unit 0 untouched
    CHECK(u[1] == doctest::Approx(1.0 + 15.0));
    opto.on_input(2000.0, u);
    CHECK(u[1] == doctest::Approx(16.0));
    CHECK(opto.steps_lit == 1);
    static_assert(hooks::Hook<user::OptoActivation, Vector<T>>);
}

TEST_CASE("tutorial: the light changes the trajectory exactly from its first step and flips the memory") {
    const TutorialRun run = run_tutorial();
    // Steps starting in [1500, 2000): 500 steps lit.
    CHECK(run.steps_lit == 500);
    // Same trial identity, same noise: records up to t = 1500 ms (k = 149) are identical...
    for (std::size_t k = 0; k <= 149; ++k)
        for (std::size_t i = 0; i < 2; ++i) REQUIRE(run.control.data()(k, i) == run.opto.data()(k, i));
    // ...and both remember "right" before the light: population 0 at its high fixed point
    // (h = 20, r = 40 Hz), population 1 silent.
    CHECK(run.control.data()(149, 0) == doctest::Approx(40.0).epsilon(0.05));
    CHECK(run.control.data()(149, 1) < 1.0);
    // Population 1 sits below the threshold of G (h ≈ −8, rate 0): the light has to lift its
    // input above 0 first (≈ 14 steps at 0.6 per step), so its rate rises within 100 ms.
    CHECK(run.opto.data()(159, 1) > 1.0);
    CHECK(run.control.data()(159, 1) < 1.0);
    // The delay-end memory: right in control (≈ +40 Hz), flipped to left by the light (≈ −40 Hz).
    CHECK(run.memory_control == doctest::Approx(40.0).epsilon(0.05));
    CHECK(run.memory_opto == doctest::Approx(-40.0).epsilon(0.05));

    // The same check at every step, on the state: identical after the step ending at 1500 ms,
    // different after the step ending at 1501 ms (the first lit step starts at 1500 ms).
    using G = user::NakaRushton<double>;
    Matrix<double> W(2, 2);
    W << 0.5, -0.2, -0.2, 0.5;
    const PopulationModel<G> model(W, Vector<double>::Constant(2, 50.0), Vector<double>::Zero(2), 0.0, G{});
    const TimeGrid grid(1.0, 3000);
    const BoxPulse sample(500.0, 1000.0);
    auto stimulus = [&](double t, Vector<double>& u) { u << 15.0 * sample(t), 0.0; };
    WindowNoise<double> noise({.amplitude = 3.0});
    user::OptoActivation opto{.units = {1}, .amplitude = 30.0, .start_ms = 1500, .end_ms = 2000};
    Euler<double> euler;
    Recorder a(model, grid, 1, Record::state), b(model, grid, 1, Record::state);
    Vector<double> h = Vector<double>::Zero(2);
    simulate(Trial{7, 42}, model, euler, h, grid, stimulus, noise, a);
    h.setZero();
    simulate(Trial{7, 42}, model, euler, h, grid, stimulus, noise, opto, b);
    // Record k = state at t = k + 1 ms.
    for (std::size_t k = 0; k < 1500; ++k) REQUIRE(a.data()(k, 1) == b.data()(k, 1));
    CHECK(a.data()(1499, 0) == b.data()(1499, 0));
    // First lit step: h1 gains dt/τ·30 = 0.6 exactly (same noise draw on both runs).
    CHECK(b.data()(1500, 1) - a.data()(1500, 1) == doctest::Approx(0.6).epsilon(1e-9));
    // Population 0 feels the light only through r1 = G(h1), which is 0 while h1 <= 0: its state
    // first differs one step after the lit population's input crosses the threshold.
    std::size_t cross = 1500, differ = 1500;
    while (cross < 2000 && !(b.data()(cross, 1) > 0.0)) ++cross;
    while (differ < 3000 && b.data()(differ, 0) == a.data()(differ, 0)) ++differ;
    CHECK(cross > 1505);
    CHECK(cross < 1530);
    CHECK(differ == cross + 1);

    // Reproducible: the same trial gives the same numbers; another trial index other noise.
    const TutorialRun again = run_tutorial();
    CHECK(again.memory_control == run.memory_control);
    CHECK(again.memory_opto == run.memory_opto);
    Recorder c(model, grid, 1, Record::state);
    h.setZero();
    simulate(Trial{8, 42}, model, euler, h, grid, stimulus, noise, c);
    CHECK(c.data()(10, 0) != a.data()(10, 0));
}

TEST_CASE("tutorial: the user's two-hemisphere model, batched and in parallel") {
    const std::vector<double> memory = run_two_hemispheres();
    // Every trial: the lit hemisphere flips to "left" (≈ −40 Hz), the other keeps "right"
    // (≈ +40 Hz): with c = 0.05 the flipped hemisphere moves the other's inputs by
    // 0.05·40 = 2, far from its threshold at h = 5. Noise sd on h ≈ 3·√(dt/2τ) = 0.3: no
    // spontaneous switches.
    for (std::size_t k = 0; k < 64; ++k) {
        CAPTURE(k);
        CHECK(memory[2 * k] == doctest::Approx(-40.0).epsilon(0.05));
        CHECK(memory[2 * k + 1] == doctest::Approx(40.0).epsilon(0.05));
    }
    // Trial 13 alone (a one-column state, trial index 13) is lane 5 of group 1: same draws, same operations
    // up to the order of the 4-term sums in W·G(h) (rounding, < 1e-9 relative).
    using X1 = Lanes<double, 4, 1>;
    const user::TwoHemispheres model(0.05);
    X1 sample = X1::Zero(), light = X1::Zero();
    sample(0) = sample(2) = 15.0;
    light(1) = 30.0;
    Euler<double, X1> euler;
    AddInput<X1> stimulus(sample, BoxPulse(500.0, 1000.0)), opto(light, BoxPulse(1500.0, 2000.0));
    InputNoise<X1> noise({.sigma = 3.0});
    X1 h = X1::Zero();
    simulate(Trial{13, 42}, model, euler, h, TimeGrid(1.0, 3000), NoInput{}, stimulus, noise, opto);
    const X1 r = model.rates(h);
    CHECK(r(0) - r(1) == doctest::Approx(memory[26]).epsilon(1e-9));
    CHECK(r(2) - r(3) == doctest::Approx(memory[27]).epsilon(1e-9));
    // A wrong pairing is refused at compile time: the model has no decay_rates()/drive().
    static_assert(!Stepper<ExponentialEuler<double, Lanes<double, 4, 8>>, user::TwoHemispheres>);
    static_assert(Stepper<RK4<double, Lanes<double, 4, 8>>, user::TwoHemispheres>);
}

TEST_CASE("tutorial: a user-written policy trains only the delay-selective units") {
    const SelectiveTraining run = train_delay_selective();
    std::vector<index_t> rows;
    for (std::size_t i = 0; i < run.preference.size(); ++i)
        if (run.preference[i] != 0) rows.push_back(index_t(i));
    MESSAGE(rows.size() << " of 60 units delay-selective; pVar on them " << run.result.pvar.back()[0] << " / "
                        << run.result.pvar.back()[1] << ", over all units " << run.result.pvar_all.back()[0] << " / "
                        << run.result.pvar_all.back()[1] << " after " << run.result.iterations << " iterations");
    // Both kinds of unit exist, so the checks below can tell a policy that was ignored.
    REQUIRE(rows.size() >= 5);
    REQUIRE(rows.size() <= 55);
    // Scored on the trained units, the run reaches pVar 0.85 and stops early; over all units
    // (the untrained ones included) it would not.
    CHECK(run.result.converged);
    CHECK(run.result.iterations < 10);
    for (std::size_t c = 0; c < 2; ++c) CHECK(run.result.pvar_all.back()[c] < 0.85);
    // The inputs of selective units learned; those of the others are bit for bit the initial ones.
    for (index_t i = 0; i < 60; ++i) {
        CAPTURE(i);
        const double change = (run.J_after.row(i) - run.J_before.row(i)).cwiseAbs().maxCoeff();
        if (run.preference[std::size_t(i)] != 0)
            CHECK(change > 0);
        else
            CHECK(change == 0);
    }
    // pVar is scored on the trained units: recompute it from the test runs on those rows only,
    // and over all units for pvar_all.
    for (std::size_t c = 0; c < 2; ++c) {
        const Matrix<double>& r = run.rates[c];
        Matrix<double> target(60, r.cols());
        for (index_t i = 0; i < 60; ++i)
            for (index_t k = 0; k < r.cols(); ++k) target(i, k) = run.R(c, std::size_t(i), std::size_t(k));
        Matrix<double> t_rows(index_t(rows.size()), r.cols()), r_rows(index_t(rows.size()), r.cols());
        for (std::size_t j = 0; j < rows.size(); ++j) {
            t_rows.row(index_t(j)) = target.row(rows[j]);
            r_rows.row(index_t(j)) = r.row(rows[j]);
        }
        const double trained = 1 - (t_rows - r_rows).squaredNorm() / (t_rows.array() - t_rows.mean()).square().sum();
        const double all = 1 - (target - r).squaredNorm() / (target.array() - target.mean()).square().sum();
        CHECK(run.result.pvar.back()[c] == doctest::Approx(trained).epsilon(1e-9));
        CHECK(run.result.pvar_all.back()[c] == doctest::Approx(all).epsilon(1e-9));
    }
    // The policy's parameters are part of the run's identity (a checkpoint of another
    // selection is refused on resume).
    learn::ParameterList p;
    const user::DelaySelectiveRows three{{1, 0, -1}};
    three.describe(p);
    REQUIRE(p.size() == 2);
    CHECK(p[0] == std::pair<std::string, std::string>{"policy", "DelaySelectiveRows"});
    CHECK(p[1].second == "+0-");
    Rng rng(1);
    const user::DelaySelectiveRows none{std::vector<int>(2, 0)}, short_list{std::vector<int>(2, 1)};
    CHECK_THROWS_WITH_AS(none.resolve(2, rng), doctest::Contains("no selective unit"), invalid_parameter);
    CHECK_THROWS_WITH_AS(short_list.resolve(3, rng), doctest::Contains("DelaySelectiveRows.preference"),
                         invalid_parameter);
}

TEST_CASE("tutorial: docs/tutorial.md shows exactly the code of this file") {
    const auto root = source_dir().parent_path();
    std::ifstream doc(root / "docs" / "tutorial.md"), src(source_dir() / "test_tutorial.cpp");
    REQUIRE(doc.good());
    REQUIRE(src.good());
    std::stringstream all;
    all << src.rdbuf();
    std::istringstream src_in(all.str());
    const auto code = trimmed_lines(src_in);
    // Every ```cpp block of the page, compared line by line (indentation ignored) with a
    // contiguous run of lines here.
    std::string line;
    std::vector<std::vector<std::string>> blocks;
    bool in = false;
    std::stringstream block;
    while (std::getline(doc, line)) {
        if (!in && line.rfind("```cpp", 0) == 0) {
            in = true;
            block.str("");
            block.clear();
        } else if (in && line.rfind("```", 0) == 0) {
            in = false;
            std::istringstream b(block.str());
            blocks.push_back(trimmed_lines(b));
        } else if (in) {
            block << line << '\n';
        }
    }
    REQUIRE(blocks.size() >= 3);
    for (const auto& b : blocks) {
        REQUIRE(!b.empty());
        bool found = false;
        for (std::size_t i = 0; i + b.size() <= code.size() && !found; ++i)
            found = std::equal(b.begin(), b.end(), code.begin() + std::ptrdiff_t(i));
        INFO("tutorial block starting with: " << b.front());
        CHECK(found);
    }
}
