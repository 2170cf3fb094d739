// Tests for models/: PopulationModel, inhibition folding, the three-population model and the
// Inagaki 2019 presets.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/models/inagaki2019.hpp"
#include "neurodyn/models/inhibition.hpp"
#include "neurodyn/models/population_model.hpp"
#include "neurodyn/models/three_population.hpp"

using namespace neurodyn;

static_assert(Model<PopulationModel<Softplus<double>, double>>);
static_assert(Model<PopulationModel<Inagaki2019Transfer<float>, float>>);
static_assert(LinearDecayModel<PopulationModel<Softplus<double>, double>>);
static_assert(StochasticModel<PopulationModel<Softplus<double>, double>>);
static_assert(HasTimeConstants<PopulationModel<Softplus<double>, double>>);
static_assert(Model<ThreePopulation<Softplus<double>, double>>);

namespace {
/// Expect `f` to throw a neurodyn::invalid_parameter naming `param`.
template <class F>
void expect_invalid(F&& f, const std::string& param) {
    try {
        f();
        FAIL("expected invalid_parameter for '" << param << "'");
    } catch (const invalid_parameter& e) {
        CHECK_MESSAGE(e.parameter() == param, e.what());
        CHECK(std::string(e.what()).find(param) != std::string::npos);
    }
}
}  // namespace

TEST_CASE("fold: hand-computed effective weights and inputs (one_hemi_multi_fp_step)") {
    // J_CC = 5.8 − 5·1.08/3 = 4.0; J_CN = 0.9 − 5·1.08/3 = −0.9; I_C = 2.27 − 5·1/3.
    CHECK(fold_weight(5.8, 5.0, 1.08, 2.0) == doctest::Approx(4.0).epsilon(1e-15));
    CHECK(fold_weight(0.9, 5.0, 1.08, 2.0) == doctest::Approx(-0.9).epsilon(1e-15));
    CHECK(fold_input(2.27, 5.0, 1.0, 2.0) == doctest::Approx(0.603333333333333333).epsilon(1e-15));
    // The matrix form is the same rank-one correction, with asymmetric couplings.
    Matrix<double> J(2, 2);
    J << 5.8, 0.9, 0.7, 6.1;
    Vector<double> jEI(2), jIE(2), iE(2);
    jEI << 5.0, 4.0;
    jIE << 1.08, 1.5;
    iE << 2.27, 2.0;
    const auto f = fold_inhibition<double>(J, jEI, jIE, 2.0, iE, 1.2);
    for (int x = 0; x < 2; ++x) {
        for (int y = 0; y < 2; ++y) CHECK(f.weights(x, y) == doctest::Approx(J(x, y) - jEI[x] * jIE[y] / 3.0));
        CHECK(f.input[x] == doctest::Approx(iE[x] - jEI[x] * 1.2 / 3.0));
    }
    expect_invalid([] { (void)fold_weight(1.0, 1.0, 1.0, -1.0); }, "j_II");
    expect_invalid([&] { (void)fold_inhibition<double>(J, Vector<double>::Ones(3), jIE, 2.0, iE, 1.0); }, "j_EI");
}

TEST_CASE_TEMPLATE("STP transfer s(y)·y against hand-computed values", T, float, double) {
    // y = 4.5·log(1 + e^{h/4.5}); s(y) = (U + yUτ_f)/(1 + y²Uτ_Dτ_f + yU(τ_D + τ_f)),
    // U = 0.05, τ_f = 0.8, τ_D = 0.14; reference values to 30 digits (mpmath).
    const Inagaki2019Transfer<T> G{Softplus<T>{T(4.5)}, T(0.05), T(0.8), T(0.14)};
    const double eps = std::is_same_v<T, float> ? 2e-6 : 1e-14;
    CHECK(double(G.inner(T(1))) == doctest::Approx(3.64688312184141743739).epsilon(eps));
    CHECK(double(G.efficacy(G.inner(T(1)))) == doctest::Approx(0.157218181471208579307).epsilon(eps));
    CHECK(double(G(T(1))) == doctest::Approx(0.573356332453951634711).epsilon(eps));
    CHECK(double(G(T(-30))) == doctest::Approx(0.000287393401981832081531).epsilon(eps * 10));
    CHECK(double(G(T(40))) == doctest::Approx(5.57435004328757405479).epsilon(eps));
}

TEST_CASE_TEMPLATE("PopulationModel: derivative, drive, diffusion", T, float, double) {
    Matrix<T> W(3, 3);
    W << T(1), T(-2), T(0.5), T(0), T(3), T(-1), T(0.25), T(0), T(2);
    Vector<T> tau(3), I(3), h(3), u(3), d(3), b(3);
    tau << T(10), T(20), T(5);
    I << T(0.1), T(-0.2), T(0.3);
    h << T(0.5), T(-1), T(2);
    u << T(1), T(0), T(-1);
    const Softplus<T> G{T(2)};
    const PopulationModel<Softplus<T>, T> m(W, tau, I, 4.0, G);
    m.derivative(h, 0.0, u, d);
    m.drive(h, 0.0, u, b);
    for (int i = 0; i < 3; ++i) {
        double sum = 0;
        for (int j = 0; j < 3; ++j) sum += double(W(i, j)) * 2.0 * std::log1p(std::exp(double(h[j]) / 2.0));
        const double expected_drive = sum + double(I[i]) + double(u[i]);
        CHECK(double(b[i]) == doctest::Approx(expected_drive).epsilon(1e-6));
        CHECK(double(d[i]) == doctest::Approx((expected_drive - double(h[i])) / double(tau[i])).epsilon(1e-6));
        CHECK(double(m.decay_rates()[i]) == doctest::Approx(1.0 / double(tau[i])));
        CHECK(double(Vector<T>(m.diffusion())[i]) == doctest::Approx(4.0 / double(tau[i])));
    }
    CHECK(m.min_time_constant() == 5.0);
    CHECK(Vector<T>(m.rates(h))[2] == doctest::Approx(double(G(T(2)))));
}

TEST_CASE("PopulationModel: invalid parameters name the parameter") {
    const Matrix<double> W = Matrix<double>::Identity(2, 2);
    const Vector<double> tau = Vector<double>::Constant(2, 10.0), I = Vector<double>::Zero(2);
    Vector<double> bad_tau = tau;
    bad_tau[1] = 0;
    expect_invalid([&] { PopulationModel<> m(W, bad_tau, I); }, "tau[1]");
    bad_tau[1] = -5;
    expect_invalid([&] { PopulationModel<> m(W, bad_tau, I); }, "tau[1]");
    bad_tau[1] = std::numeric_limits<double>::quiet_NaN();
    expect_invalid([&] { PopulationModel<> m(W, bad_tau, I); }, "tau[1]");
    Matrix<double> Wn = W;
    Wn(0, 1) = std::numeric_limits<double>::quiet_NaN();
    expect_invalid([&] { PopulationModel<> m(Wn, tau, I); }, "W");
    expect_invalid([&] { PopulationModel<> m(Matrix<double>::Zero(2, 3), tau, I); }, "W");
    expect_invalid([&] { PopulationModel<> m(W, Vector<double>::Ones(3), I); }, "tau");
    expect_invalid([&] { PopulationModel<> m(W, tau, Vector<double>::Zero(3)); }, "input");
    expect_invalid([&] { PopulationModel<> m(W, tau, I, -1.0); }, "sigma");
    expect_invalid([&] { PopulationModel<> m(W, tau, I, std::nan("")); }, "sigma");
    using STP = ShortTermPlasticity<Softplus<double>>;
    expect_invalid([&] { PopulationModel<STP> m(W, tau, I, 0.0, STP{{1.0}, 1.5, 0.8, 0.1}); },
                   "ShortTermPlasticity.U");
    // simulate() refuses an explicit step not smaller than the fastest τ.
    PopulationModel<> m(W, tau, I);
    Euler<double> euler;
    Vector<double> h = Vector<double>::Zero(2);
    expect_invalid([&] { simulate(m, euler, h, TimeGrid(10.0, 5), NoInput{}); }, "dt");
}

TEST_CASE("presets: the published parameter table, folded weights, lookup by name") {
    const auto names = inagaki2019_preset_names();
    CHECK(names.size() == 5);
    for (const auto& n : names) {
        const auto p = inagaki2019_preset(n);
        CHECK(p.name == n);
        p.validate();
        CHECK(p.tau == 100);
        CHECK(p.dt == 1);
        CHECK(p.n_steps == 6000);
        CHECK(p.h0 == 1);
        CHECK(p.pv_levels.front() == 0);
    }
    const auto m = inagaki2019_preset("one_hemi_multi_fp_step");
    CHECK(m.stim_amp == 0.8);
    CHECK(m.sigma_noise == 9);
    CHECK(m.pv_levels == std::vector<double>{0, 1, 2, 6});
    const auto W = inagaki2019_weights<double>(m);
    CHECK(W(0, 0) == doctest::Approx(4.0));    // J_CC
    CHECK(W(0, 1) == doctest::Approx(-0.9));   // J_CN
    CHECK(W(2, 3) == doctest::Approx(-0.9));   // hemisphere 2 (N, C): J_NC
    CHECK(W(3, 3) == doctest::Approx(4.0));
    CHECK(W(0, 2) == 0.0);                      // JH = 0
    const auto I = inagaki2019_inputs<double>(m);
    CHECK(I[0] == doctest::Approx(2.27 - 5.0 / 3.0));
    CHECK(inagaki2019_photoinhibition_drive<double>(m)[3] == doctest::Approx(-5.0 / 3.0));
    const auto s = inagaki2019_preset("one_hemi_single_fp");
    CHECK(s.withhold_ramp);
    CHECK(s.j_CC == 16);
    CHECK(s.tau_D == 0);
    const auto r = inagaki2019_preset("two_hemi_ramp");
    CHECK(r.ramp_ms == 3000);  // sample + delay, as the authors' code (labelled "2 s ramp")
    CHECK(r.pv_levels == std::vector<double>{0, 0.5, 1, 3.2});
    const auto Wr = inagaki2019_weights<double>(r);
    CHECK(Wr(0, 2) == 0.58);  // JH between 1 ↔ 3 and 2 ↔ 4
    CHECK(Wr(1, 3) == 0.58);
    CHECK(Wr(2, 0) == 0.58);
    CHECK(Wr(3, 1) == 0.58);
    CHECK(Wr(0, 3) == 0.0);
    const auto st = inagaki2019_preset("two_hemi_ramp_step");
    CHECK(st.stim_amp == 1);
    CHECK(st.ramp_ms == 10);
    CHECK(st.pv_levels.size() == 5);
    const auto in = inagaki2019_preset("two_hemi_internal");
    CHECK(in.alpha == 2.5);
    CHECK(in.ramp_amp == 3.15);
    const auto model = make_inagaki2019_model<float>(in);
    CHECK(model.size() == 4);
    CHECK(model.sigma() == 9.0);
    try {
        (void)inagaki2019_preset("two_hemi");
        FAIL("expected invalid_parameter");
    } catch (const invalid_parameter& e) {
        CHECK(e.parameter() == "preset");
        const std::string what = e.what();
        CHECK(what.find("two_hemi") != std::string::npos);
        for (const auto& n : names) CHECK(what.find(n) != std::string::npos);
    }
    auto bad = m;
    bad.tau = 0;
    expect_invalid([&] { bad.validate(); }, "tau");
    bad = m;
    bad.j_CC = std::nan("");
    expect_invalid([&] { (void)inagaki2019_weights<double>(bad); }, "j_CC");
    bad = m;
    bad.pv_levels = {0, -1};
    expect_invalid([&] { bad.validate(); }, "pv_levels");
    bad = m;
    bad.U = 0;
    expect_invalid([&] { bad.validate(); }, "U");
}

TEST_CASE("three populations: on the slow manifold the excitatory derivative is the folded model's") {
    using G = Inagaki2019Transfer<double>;
    const G g{Softplus<double>{4.5}, 0.05, 0.8, 0.14};
    const ThreePopulation<G> net({}, g);
    const auto folded = net.folded();
    for (double hC : {-2.0, 0.5, 3.0})
        for (double hN : {-1.0, 1.0, 6.0}) {
            Vector<double> h3(3), u3 = Vector<double>::Zero(3), d3(3), h2(2), u2 = Vector<double>::Zero(2), d2(2);
            h3 << hC, hN, net.inhibitory_fixed_point(hC, hN);
            h2 << hC, hN;
            net.derivative(h3, 0.0, u3, d3);
            folded.derivative(h2, 0.0, u2, d2);
            CHECK(d3[2] == doctest::Approx(0.0).scale(1.0).epsilon(1e-14));  // h_I at its fixed point
            CHECK(d3[0] == doctest::Approx(d2[0]).epsilon(1e-12));
            CHECK(d3[1] == doctest::Approx(d2[1]).epsilon(1e-12));
        }
}

TEST_CASE("three populations: trajectories converge to the folded model as τ_I → 0, first order") {
    using G = Inagaki2019Transfer<double>;
    const G g{Softplus<double>{4.5}, 0.05, 0.8, 0.14};
    // A transient from an asymmetric start with a step input onto C: 300 ms.
    auto input3 = [](double t, Vector<double>& u) { u << (t >= 50 ? 1.0 : 0.0), 0.0, 0.0; };
    auto input2 = [](double t, Vector<double>& u) { u << (t >= 50 ? 1.0 : 0.0), 0.0; };
    const double dt = 0.01;
    const TimeGrid grid(dt, 30000);
    Vector<double> h2(2);
    h2 << 1.0, 3.0;
    {
        Euler<double> e;
        const ThreePopulation<G> ref({}, g);
        simulate(ref.folded(), e, h2, grid, input2);
    }
    auto error_at = [&](double tau_I) {
        ThreePopulationParameters<double> q;
        q.tau_I = tau_I;
        const ThreePopulation<G> net(q, g);
        Vector<double> h3(3);
        h3 << 1.0, 3.0, net.inhibitory_fixed_point(1.0, 3.0);
        Euler<double> e;
        simulate(net, e, h3, grid, input3);
        return std::max(std::abs(h3[0] - h2[0]), std::abs(h3[1] - h2[1]));
    };
    const double e1 = error_at(1.0), e05 = error_at(0.5), e025 = error_at(0.25);
    CHECK(e1 < 0.05);                                          // already close at τ_I = τ_E/100
    CHECK(e1 / e05 == doctest::Approx(2.0).epsilon(0.05));     // O(τ_I): halving τ_I halves the gap
    CHECK(e05 / e025 == doctest::Approx(2.0).epsilon(0.05));
    expect_invalid([] { ThreePopulationParameters<double> q; q.tau_I = 0; ThreePopulation<> n(q); }, "tau_I");
    expect_invalid([] { ThreePopulationParameters<double> q; q.j_II = -2; ThreePopulation<> n(q); }, "j_II");
}

TEST_CASE_TEMPLATE("PopulationModel on any state type: lanes equal single trials, vectorised transfer", T, float, double) {
    const auto p = inagaki2019_preset("two_hemi_internal");
    const auto m = make_inagaki2019_model<T>(p);
    using L = Lanes<T, 4, 8>;
    const L h = L::Random() * T(20), u = L::Random();
    L d8;
    m.derivative(h, 0.0, u, d8);
    for (int b = 0; b < 8; ++b) {
        CAPTURE(b);
        // A fixed one-column state does the same operations as lane b: bitwise equal.
        const Eigen::Array<T, 4, 1> hb = h.col(b), ub = u.col(b);
        Eigen::Array<T, 4, 1> db;
        m.derivative(hb, 0.0, ub, db);
        CHECK((db == d8.col(b)).all());
        // A dynamic vector uses the scalar transfer function (std::log1p): equal to rounding.
        const Vector<T> hv = hb.matrix(), uv = ub.matrix();
        Vector<T> dv(4);
        m.derivative(hv, 0.0, uv, dv);
        // Rounding bound: a few ε times the size of the terms of (W r + I + u − h)/τ.
        const T eps = std::numeric_limits<T>::epsilon();
        const Eigen::Array<T, 4, 1> r = m.rates(hb);
        const Eigen::Array<T, 4, 1> terms = ((m.weights().cwiseAbs() * r.abs().matrix()).array() +
                                             m.baseline_input().array().abs() + ub.abs() + hb.abs()) /
                                            T(p.tau);
        CHECK(((dv.array() - db).abs() <= T(64) * eps * terms).all());
    }
    // The vectorised softplus and Tsodyks–Markram factor against the scalar ones. The scalar
    // form divides h/k, the vectorised one multiplies by 1/k: a 1-ulp difference in x = h/k
    // that e^{x} turns into |x| ulp of the result, so the bound is a few (1 + |x|)·ε. Range: far
    // beyond what the model visits, short of results below the smallest normal number.
    const T range = sizeof(T) == 4 ? T(150) : T(700);
    const Softplus<T> sp{T(4.5)};
    const auto G = inagaki2019_transfer<T>(p);
    Eigen::Array<T, Eigen::Dynamic, 1> x = Eigen::Array<T, Eigen::Dynamic, 1>::LinSpaced(2801, -range, range), y1, y2;
    y1.resizeLike(x);
    y2.resizeLike(x);
    sp.apply(x, y1);
    G.apply(x, y2);
    double worst_sp = 0, worst_g = 0;  // in units of (1 + |x|)·ε
    const double eps = double(std::numeric_limits<T>::epsilon());
    for (index_t i = 0; i < x.size(); ++i) {
        const double s = double(sp(x[i])), g = double(G(x[i]));
        worst_sp = std::max(worst_sp, std::abs(double(y1[i]) - s) / s / ((1 + std::abs(double(x[i])) / 4.5) * eps));
        worst_g = std::max(worst_g, std::abs(double(y2[i]) - g) / g / ((1 + std::abs(double(x[i])) / p.alpha) * eps));
    }
    CHECK(worst_sp <= 8);
    CHECK(worst_g <= 16);
    // A compile-time population count is checked against the weights.
    CHECK_THROWS_AS((PopulationModel<Softplus<T>, T, 4>(Matrix<T>::Zero(3, 3), Vector<T>::Ones(3), Vector<T>::Zero(3))),
                    invalid_parameter);
}

TEST_CASE_TEMPLATE("Logistic and Tanh: vectorised apply against the scalar operator()", T, float, double) {
    // Relative difference in units of ε. Logistic: Eigen's packet exp is within ~1 ulp of
    // std::exp and its error reaches the result damped (factor e^{−h}/(1 + e^{−h}) ≤ 1), plus
    // two roundings (the sum and the reciprocal) on each side: ≤ 4ε. Range: down to where the
    // result is still a normal number. Tanh: float uses Eigen's rational approximation (a few
    // ulp, clamped to ±tanh(7.9) ≈ ±(1 − 4ε)); double uses Kahan's expm1 (u − 1)·x/log u,
    // a few ulp per factor: ≤ 8ε both (the ranges cover both signs: the double form is not
    // computed on |h|, so oddness holds within this bound only).
    using A = Eigen::Array<T, Eigen::Dynamic, 1>;
    const double eps = double(std::numeric_limits<T>::epsilon());
    const T lo = sizeof(T) == 4 ? T(-87) : T(-708);
    A h(5003);
    h.head(4001) = A::LinSpaced(4001, lo, T(40));
    h.segment(4001, 1000) = A::LinSpaced(1000, T(-6), T(6)).sign() * Eigen::pow(T(10), A::LinSpaced(1000, T(-12), T(0.6)));
    h[5001] = T(0);
    h[5002] = T(-1e-30);
    A y(h.size());
    const Logistic<T> lg;
    lg.apply(h, y);
    double worst = 0;
    for (index_t i = 0; i < h.size(); ++i) {
        const double s = double(lg(h[i]));
        worst = std::max(worst, std::abs(double(y[i]) - s) / s / eps);
    }
    MESSAGE("Logistic worst relative difference: " << worst << " eps");
    CHECK(worst <= 4);
    CHECK(y[5001] == T(0.5));

    const Tanh<T> th;
    A x(3000);
    x.head(1000) = A::LinSpaced(1000, T(-30), T(30));
    x.segment(1000, 1000) = Eigen::pow(T(10), A::LinSpaced(1000, T(-30), T(1.5)));  // tiny to large
    x.tail(1000) = -x.segment(1000, 1000);
    A t(x.size());
    th.apply(x, t);
    worst = 0;
    for (index_t i = 0; i < x.size(); ++i) {
        const double s = double(th(x[i]));
        worst = std::max(worst, std::abs(double(t[i]) - s) / std::abs(s) / eps);
    }
    MESSAGE("Tanh worst relative difference: " << worst << " eps");
    CHECK(worst <= 8);
    // Zero, infinities and NaN pass through as the scalar form gives them.
    A z(4);
    z << T(0), std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(), std::numeric_limits<T>::quiet_NaN();
    A tz(4), lz(4);
    th.apply(z, tz);
    lg.apply(z, lz);
    CHECK(tz[0] == T(0));
    CHECK(tz[1] == T(1));
    CHECK(tz[2] == T(-1));
    CHECK(std::isnan(tz[3]));
    CHECK(lz[1] == T(1));
    CHECK(lz[2] == T(0));
    CHECK(std::isnan(lz[3]));
    // Fixed-size lane batches take the same path.
    Eigen::Array<T, 4, 8> hb, rb;
    hb.reshaped() = Eigen::Array<T, 32, 1>::LinSpaced(32, T(-5), T(5));
    th.apply(hb, rb);
    for (int i = 0; i < 32; ++i) CHECK(std::abs(double(rb(i)) - std::tanh(double(hb(i)))) <= 8 * eps * std::abs(std::tanh(double(hb(i)))) + 1e-300);
}
