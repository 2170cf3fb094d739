// Tests for dynamics/jacobian.hpp and dynamics/fixed_points.hpp against what is known exactly:
// transfer derivatives and model Jacobians against finite differences; a contracting rate
// network has exactly one fixed point; a Hopfield network with orthogonal patterns has them as
// stable points with the eigenvalues of the closed form; the Inagaki 2019 multi-fixed-point
// preset's stable points are where noise-free trials end and no grid start finds another; the
// tuned continuous attractor has a line of marginal points.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <Eigen/SVD>

#include "neurodyn/dynamics/fixed_points.hpp"
#include "neurodyn/dynamics/jacobian.hpp"
#include "neurodyn/inputs/pulses.hpp"
#include "neurodyn/inputs/ramp.hpp"
#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/models/continuous_attractor.hpp"
#include "neurodyn/models/inagaki2019.hpp"
#include "neurodyn/models/population_model.hpp"
#include "neurodyn/models/rate_network.hpp"

using namespace neurodyn;

namespace {

// A user model with no Jacobian: dx/dt = a + x² (a > 0): no root, q = ½(a + x²)² has its
// minimum at x = 0, a slow point ("ghost" of the saddle-node at a = 0) with q = a²/2.
struct Ghost {
    using scalar_type = double;
    double a = 1e-3;
    index_t size() const { return 1; }
    void derivative(const Vector<double>& x, double, const Vector<double>&, Vector<double>& dxdt) const {
        dxdt[0] = a + x[0] * x[0];
    }
};

// A user model that states its Jacobian: dx/dt = −x³ + x (roots −1, 0, 1).
struct Cubic {
    using scalar_type = double;
    index_t size() const { return 1; }
    void derivative(const Vector<double>& x, double, const Vector<double>& u, Vector<double>& dxdt) const {
        dxdt[0] = -x[0] * x[0] * x[0] + x[0] + u[0];
    }
    void jacobian(const Vector<double>& x, double, const Vector<double>&, Matrix<double>& J) const {
        J.resize(1, 1);
        J(0, 0) = -3 * x[0] * x[0] + 1;
    }
};

// Returns NaN once |x| exceeds 2.
struct Poisoned {
    using scalar_type = double;
    index_t size() const { return 2; }
    void derivative(const Vector<double>& x, double, const Vector<double>&, Vector<double>& dxdt) const {
        dxdt = -x;
        if (x.norm() > 2) dxdt[0] = std::numeric_limits<double>::quiet_NaN();
    }
};

static_assert(VectorField<Ghost> && !HasAnalyticJacobian<Ghost>);
static_assert(HasAnalyticJacobian<Cubic>);
static_assert(HasAnalyticJacobian<RateNetwork<Logistic<double>, double>>);
static_assert(HasAnalyticJacobian<RateNetwork<Tanh<float>, float>>);
static_assert(HasAnalyticJacobian<decltype(make_inagaki2019_model<double>(inagaki2019_preset("two_hemi_ramp")))>);
static_assert(HasAnalyticJacobian<decltype(make_inagaki2019_model<float>(inagaki2019_preset("two_hemi_ramp")))>);
static_assert(HasAnalyticJacobian<ContinuousAttractor<double>>);

template <class T>
Vector<T> zeros(index_t n) {
    return Vector<T>::Zero(n);
}

/// Random starts N(0, sd²) per coordinate, seeded.
template <class T>
Matrix<T> random_starts(index_t n, index_t k, double sd, std::uint64_t seed) {
    Matrix<T> s(n, k);
    Rng rng(seed);
    for (index_t j = 0; j < k; ++j)
        for (index_t i = 0; i < n; ++i) s(i, j) = T(sd * rng.normal());
    return s;
}

/// Records the state after every `every`-th step as a column.
struct StateRecorder {
    std::vector<Vector<double>> states;
    long every = 10, k = 0;
    void on_step(double, Vector<double>& x) {
        if (++k % every == 0) states.push_back(x);
    }
    Matrix<double> matrix() const {
        Matrix<double> m(states.front().size(), index_t(states.size()));
        for (std::size_t j = 0; j < states.size(); ++j) m.col(index_t(j)) = states[j];
        return m;
    }
};

/// Forward Euler at constant input until ‖F‖ < tol or max_steps; returns whether it converged.
template <class M>
bool relax(const M& model, const Vector<double>& u, Vector<double>& x, double dt, long max_steps, double tol) {
    Vector<double> f(x.size());
    for (long s = 0; s < max_steps; ++s) {
        model.derivative(x, 0.0, u, f);
        if (f.norm() < tol) return true;
        x += dt * f;
    }
    return false;
}

/// Distance within which a converged point lies of the root it approximates: to first order
/// x − x* = DF⁻¹F, so ‖x − x*‖ ≤ ‖F‖/σ_min(DF); twice that covers the second-order term.
template <class T>
double root_distance_bound(const FixedPoint<T>& p) {
    const Matrix<double> J = p.jacobian.template cast<double>();
    const double smin = Eigen::JacobiSVD<Matrix<double>>(J).singularValues().minCoeff();
    return 2 * double(p.residual) / smin;
}

/// Index of the point of `kind` whose root is within `tol` of x (tol = the caller's own
/// uncertainty about x; the point's is added), or −1.
template <class T>
long nearest(const FixedPointSet<T>& set, const Vector<T>& x, double tol, FixedPointKind kind) {
    for (std::size_t p = 0; p < set.points.size(); ++p)
        if (set.points[p].kind == kind &&
            double((set.points[p].x - x).norm()) <= tol + root_distance_bound(set.points[p]))
            return long(p);
    return -1;
}

}  // namespace

TEST_CASE("transfer_derivative matches central differences for every library transfer") {
    // Central differences with h = 1e-5: truncation h²|f'''|/6 ≲ 1e-11, rounding ε|f|/h ≲ 1e-10.
    const Logistic<double> lg;
    const Tanh<double> th;
    const Softplus<double> sp{4.5};
    const ShortTermPlasticity<Softplus<double>, double> stp{{4.5}, 0.05, 0.8, 0.14};
    const ShortTermPlasticity<Softplus<double>, double> stp2{{2.5}, 0.1, 0.1, 0.12};
    const double h = 1e-5;
    for (double x = -30; x <= 30; x += 0.37) {
        auto fd = [&](const auto& f) { return (f(x + h) - f(x - h)) / (2 * h); };
        CHECK(transfer_derivative(lg, x) == doctest::Approx(fd(lg)).epsilon(1e-8).scale(1e-3));
        CHECK(transfer_derivative(th, x) == doctest::Approx(fd(th)).epsilon(1e-8).scale(1e-3));
        CHECK(transfer_derivative(sp, x) == doctest::Approx(fd(sp)).epsilon(1e-8).scale(1e-3));
        CHECK(transfer_derivative(stp, x) == doctest::Approx(fd(stp)).epsilon(1e-8).scale(1e-3));
        CHECK(transfer_derivative(stp2, x) == doctest::Approx(fd(stp2)).epsilon(1e-8).scale(1e-3));
    }
    // Far tails stay finite (no overflow in e^{h/k}).
    CHECK(transfer_derivative(sp, 1e4) == 1.0);
    CHECK(transfer_derivative(sp, -1e4) == 0.0);
    CHECK(std::isfinite(transfer_derivative(stp, 1e4)));
}

TEST_CASE("analytic Jacobians of RateNetwork, PopulationModel and a member jacobian match finite differences") {
    Rng rng(3);
    auto net = RateNetwork<Logistic<double>>::random(40, 1.5, 10.0, rng);
    const Vector<double> x = random_starts<double>(40, 1, 2.0, 5).col(0), u = random_starts<double>(40, 1, 1.0, 6).col(0);
    Matrix<double> Ja, Jf;
    model_jacobian(net, x, 0.0, u, Ja);
    finite_difference_jacobian(net, x, 0.0, u, Jf);
    // central differences: error ≈ ε^{2/3}·|f'''|·scale ≈ 1e-10 relative
    CHECK((Ja - Jf).norm() <= 1e-8 * Ja.norm());

    const auto p = inagaki2019_preset("two_hemi_internal");
    const auto model = make_inagaki2019_model<double>(p);
    Vector<double> h(4);
    h << 3.0, -1.0, 0.5, 12.0;
    const Vector<double> u4 = Vector<double>::Constant(4, 2.0);
    model_jacobian(model, h, 0.0, u4, Ja);
    finite_difference_jacobian(model, h, 0.0, u4, Jf);
    CHECK((Ja - Jf).norm() <= 1e-8 * Ja.norm());

    ContinuousAttractor<double> ca;
    const Vector<double> x12 = random_starts<double>(12, 1, 1.0, 8).col(0), u12 = zeros<double>(12);
    model_jacobian(ca, x12, 0.0, u12, Ja);
    finite_difference_jacobian(ca, x12, 0.0, u12, Jf);
    CHECK((Ja - ca.jacobian()).norm() == 0.0);
    CHECK((Ja - Jf).norm() <= 1e-8 * Ja.norm());
}

TEST_CASE_TEMPLATE("a contracting rate network (g < 1 effective gain) has exactly one stable fixed point", T, double,
                   float) {
    // Logistic φ' ≤ 1/4, so x ↦ Jφ(x) + u is a contraction when ‖J‖₂/4 < 1: exactly one fixed
    // point, and it is stable (every eigenvalue of J diag φ' lies in the disc of radius ‖J‖₂/4).
    const index_t n = 87;
    Rng rng(11);
    auto net = RateNetwork<Logistic<T>, T>::random(n, 0.8, 10.0, rng);
    const double norm2 = Eigen::JacobiSVD<Matrix<double>>(net.weights().template cast<double>()).singularValues()[0];
    const double gain = norm2 / 4;
    REQUIRE(gain < 1);
    InputCondition<T> c{"u", random_starts<T>(n, 1, 1.0, 12).col(0)};
    const Matrix<T> starts = random_starts<T>(n, 64, 5.0, 13);
    FixedPointOptions opt;
    const auto found = find_fixed_points(net, c, starts, opt);
    CHECK(found.analytic_jacobian);
    CHECK(found.count(StartStatus::fixed_point) == 64);
    REQUIRE(found.points.size() == 1);
    const auto& fp = found.points[0];
    CHECK(fp.kind == FixedPointKind::stable);
    CHECK(fp.starts == 64);
    const double ftol = std::is_same_v<T, double> ? 1e-10 : 1e-5;
    CHECK(double(fp.residual) <= ftol);
    // every eigenvalue of (−I + J D)/τ has Re λ ≤ (−1 + gain)/τ
    CHECK(double(fp.max_real_eigenvalue) <= (-1 + gain) / 10.0 + 1e-5);
    // The contraction's own iteration x ← Jφ(x) + u reaches the same point: error ≤ gain^k.
    Vector<double> x = Vector<double>::Zero(n);
    const Matrix<double> J = net.weights().template cast<double>();
    const Vector<double> u = c.u.template cast<double>();
    for (int k = 0; k < 200; ++k) x = J * x.unaryExpr(Logistic<double>{}) + u;
    // For a contraction g with constant c, ‖x − x*‖ ≤ ‖x − g(x)‖/(1 − c) = τ‖F(x)‖/(1 − c); in
    // float, F itself is only known to its rounding level (≈ 1e-6 here).
    const double rounding = std::is_same_v<T, double> ? 1e-13 : 1e-5;
    CHECK((fp.x.template cast<double>() - x).norm() <= 10.0 * (double(fp.residual) + rounding) / (1 - gain));
    // Newton converges in a few factorisations from N(0, 5²) starts (chord steps in between).
    CHECK(found.mean_factorisations() <= 6);
    CHECK(found.mean_iterations() <= 30);
}

TEST_CASE_TEMPLATE("a Hopfield network with orthogonal patterns has ±patterns as stable points", T, double, float) {
    // J = (β/N) Σ_μ ξ^μ ξ^μᵀ with orthogonal ±1 patterns (rows of a Sylvester–Hadamard matrix),
    // φ = tanh. x = a ξ^μ is a fixed point iff a = β tanh(a); the Jacobian there is
    // (−I + (1 − tanh² a) J)/τ with eigenvalues (−1 + β(1 − tanh² a))/τ (×P) and −1/τ (×(N − P)).
    const index_t n = 64, P = 3;
    const double beta = 2.0, tau = 10.0;
    Matrix<double> H(1, 1);
    H(0, 0) = 1;
    while (H.rows() < n) {
        Matrix<double> H2(2 * H.rows(), 2 * H.rows());
        H2 << H, H, H, -H;
        H = H2;
    }
    Matrix<double> xi(n, P);
    for (index_t m = 0; m < P; ++m) xi.col(m) = H.row(m + 1).transpose();  // rows 1..3: balanced patterns
    const Matrix<double> Jd = (beta / double(n)) * xi * xi.transpose();
    RateNetwork<Tanh<T>, T> net(Jd.cast<T>(), tau);
    double a = 2;  // a = β tanh(a) by fixed-point iteration (contraction near the root)
    for (int k = 0; k < 200; ++k) a = beta * std::tanh(a);
    const double s = 1 - std::tanh(a) * std::tanh(a);
    const double lambda_pattern = (-1 + beta * s) / tau;

    // Starts: each ±pattern corrupted by noise, plus small random states near the origin.
    Matrix<T> starts(n, 2 * P * 8 + 8);
    Rng rng(21);
    index_t k = 0;
    for (index_t m = 0; m < P; ++m)
        for (int sign : {1, -1})
            for (int r = 0; r < 8; ++r, ++k)
                for (index_t i = 0; i < n; ++i) starts(i, k) = T(sign * a * xi(i, m) + 0.5 * rng.normal());
    for (int r = 0; r < 8; ++r, ++k)
        for (index_t i = 0; i < n; ++i) starts(i, k) = T(0.05 * rng.normal());
    InputCondition<T> c{"none", zeros<T>(n)};
    const auto found = find_fixed_points(net, c, starts);
    const bool dbl = std::is_same_v<T, double>;
    const T tol = T(dbl ? 1e-9 : 1e-3);
    for (index_t m = 0; m < P; ++m)
        for (int sign : {1, -1}) {
            const Vector<T> target = (sign * a * xi.col(m)).cast<T>();
            // a ξ rounded to T is the float model's root up to ε_T·a·√N·cond (≈ 1e-5 in float)
            const long idx =
                nearest(found, target, (dbl ? 1e-12 : 1e-4) * a * std::sqrt(double(n)), FixedPointKind::stable);
            REQUIRE_MESSAGE(idx >= 0, "pattern " << m << " sign " << sign << " not found as a stable point");
            const auto& fp = found.points[std::size_t(idx)];
            CHECK(fp.n_unstable == 0);
            CHECK(double(fp.max_real_eigenvalue) == doctest::Approx(lambda_pattern).epsilon(tol));
            // P eigenvalues at the pattern value, the rest at −1/τ
            int at_pattern = 0, at_leak = 0;
            for (const auto& l : fp.eigenvalues) {
                if (std::abs(double(l.real()) - lambda_pattern) <= 1e-4) ++at_pattern;
                if (std::abs(double(l.real()) + 1 / tau) <= 1e-4) ++at_leak;
            }
            CHECK(at_pattern == P);
            CHECK(at_leak == n - P);
        }
    // The origin is a fixed point with P unstable directions ((β − 1)/τ each).
    const long origin = nearest(found, zeros<T>(n), 0.0, FixedPointKind::saddle);  // F(0) = 0 exactly
    REQUIRE(origin >= 0);
    CHECK(found.points[std::size_t(origin)].n_unstable == P);
    CHECK(double(found.points[std::size_t(origin)].max_real_eigenvalue) ==
          doctest::Approx((beta - 1) / tau).epsilon(1e-4));
}

/// The noise-free trial of the Inagaki 2019 protocol (stimulus box × stim_amp onto populations
/// (1, 3) on right trials, (2, 4) on left trials; the preset's ramp; no noise, no light) by the
/// library's Euler + simulate(); records h every 10 ms and returns h at `t_end`.
struct Inagaki2019NoiseFree {
    Matrix<double> trajectory;
    Vector<double> end;
};
template <class M>
Inagaki2019NoiseFree inagaki2019_noise_free(const M& model, const Inagaki2019Preset& p, bool right, double t_end) {
    const BoxPulse stim(p.stim_start, p.stim_end, p.tau_ext);
    const Ramp ramp{p.ramp_start, p.ramp_ms, p.ramp_amp};
    Vector<double> mask(4), ramp_mask = Vector<double>::Ones(4);
    mask << double(right), double(!right), double(right), double(!right);
    if (p.withhold_ramp) ramp_mask[right ? 1 : 0] = 0;
    auto input = [&](double t, Vector<double>& u) { u = (p.stim_amp * stim(t)) * mask + ramp(t) * ramp_mask; };
    Vector<double> h = Vector<double>::Constant(4, p.h0);
    StateRecorder rec;
    Euler<double> euler;
    simulate(model, euler, h, TimeGrid(p.dt, long(std::llround(t_end / p.dt))), input, rec);
    return {rec.matrix(), h};
}

/// h at the end of the delay per trial type, the delay input, the stable points they relax to.
struct MultiFpSetup {
    Inagaki2019Preset p = inagaki2019_preset("one_hemi_multi_fp_step");
    decltype(make_inagaki2019_model<double>(p)) model = make_inagaki2019_model<double>(p);
    Vector<double> u_delay = Vector<double>::Constant(4, p.ramp_amp);  // stimulus off, ramp on its plateau
    std::vector<Matrix<double>> trajectories;
    std::vector<Vector<double>> ends;  ///< right, left: where the noise-free trials settle
};

TEST_CASE("one_hemi_multi_fp_step in the delay: stable points are where noise-free trials end, saddles between them") {
    MultiFpSetup s;
    const auto& p = s.p;
    REQUIRE(p.ramp_ms < p.sample_end - p.ramp_start);  // the ramp is on its plateau in the delay
    const InputCondition<double> delay{"delay", s.u_delay};
    for (bool right : {true, false}) {
        // r(4501) of the authors' arrays = G(h at t = 4499 ms), the end-of-delay state.
        auto run = inagaki2019_noise_free(s.model, p, right, p.delay_end - p.dt);
        // The authors' noise-free r(4501) (tests/reference/golden_one_hemi_multi_fp_step.csv):
        // this is the protocol's trial.
        const Vector<double> r = s.model.rates(run.end);
        const double hi_r = 3.3227637949533722, lo_r = 0.94389859392350961;
        CHECK(r[0] == doctest::Approx(right ? hi_r : lo_r).epsilon(1e-9));
        CHECK(r[1] == doctest::Approx(right ? lo_r : hi_r).epsilon(1e-9));
        CHECK(r[2] == doctest::Approx(right ? hi_r : lo_r).epsilon(1e-9));
        CHECK(r[3] == doctest::Approx(right ? lo_r : hi_r).epsilon(1e-9));
        s.trajectories.push_back(run.trajectory);
        Vector<double> h = run.end;
        // Where the trial is heading: keep the delay input until the flow stops (‖F‖ < 1e-12).
        REQUIRE(relax(s.model, s.u_delay, h, 1.0, 200000, 1e-12));
        s.ends.push_back(h);
    }
    REQUIRE((s.ends[0] - s.ends[1]).norm() > 1.0);  // right and left end in different states

    // Noise of 3 (a quarter of the states' spread) reaches the mixed states (one hemisphere right,
    // the other left) that the trials themselves never visit; each point gets ≥ 30 starts.
    const Matrix<double> starts = sample_initial_states<double>(s.trajectories, 512, 3.0, 2019);
    const auto found = find_fixed_points(s.model, delay, starts);
    CHECK(found.count(StartStatus::not_converged) == 0);
    for (const auto& fp : found.points) CHECK(double(fp.residual) <= 1e-10);
    // The endpoints are stable points of the finder: ‖h_end − h*‖ ≤ ‖F‖/σ_min ≤ 1e-12/1.4e-3.
    std::vector<long> end_points;
    for (const auto& e : s.ends) {
        const long idx = nearest(found, e, 1e-9, FixedPointKind::stable);
        CHECK_MESSAGE(idx >= 0, "trial end " << e.transpose() << " is not a stable point of the finder");
        end_points.push_back(idx);
    }
    REQUIRE(end_points[0] >= 0);
    REQUIRE(end_points[1] >= 0);

    // Saddles between them. The hemispheres are uncoupled here (JH = 0), each with two stable
    // states and a saddle, so the 4-d system has 2·2 stable points, 2·2 saddles with one unstable
    // direction (one hemisphere on its saddle) and one with two (both on the saddle).
    CHECK(found.count(FixedPointKind::stable) == 4);
    CHECK(found.count(FixedPointKind::saddle) == 5);
    const auto relax_from = [&](Vector<double> h) {
        REQUIRE(relax(s.model, s.u_delay, h, 1.0, 400000, 1e-12));
        return h;
    };
    int two_saddles = 0;
    for (const auto& fp : found.points) {
        if (fp.kind != FixedPointKind::saddle) continue;
        // The unstable eigenspace (real: Re λ > 0 eigenvalues are real here).
        Eigen::EigenSolver<Matrix<double>> es(fp.jacobian, true);
        Matrix<double> U(4, 0);
        for (index_t i = 0; i < 4; ++i)
            if (es.eigenvalues()[i].real() > 0) {
                REQUIRE(std::abs(es.eigenvalues()[i].imag()) == 0.0);
                U.conservativeResize(4, U.cols() + 1);
                U.col(U.cols() - 1) = es.eigenvectors().col(i).real().normalized();
            }
        REQUIRE(U.cols() == fp.n_unstable);
        // Leaving along ± a direction of the unstable space: the two branches end in two
        // different stable points of the finder. For the 2-saddle, the direction is the
        // right − left difference projected on the unstable space: its branches are the trials.
        Vector<double> d = U.col(0);
        if (fp.n_unstable == 2) {
            ++two_saddles;
            const Vector<double> diff = s.ends[0] - s.ends[1];
            d = (U * (U.transpose() * U).ldlt().solve(U.transpose() * diff)).normalized();
        }
        const Vector<double> plus = relax_from(fp.x + 1e-3 * d), minus = relax_from(fp.x - 1e-3 * d);
        const long a = nearest(found, plus, 1e-9, FixedPointKind::stable);
        const long b = nearest(found, minus, 1e-9, FixedPointKind::stable);
        CHECK(a >= 0);
        CHECK(b >= 0);
        CHECK(a != b);
        if (fp.n_unstable == 2) {
            CHECK(((a == end_points[0] && b == end_points[1]) || (a == end_points[1] && b == end_points[0])));
            // on the coding direction it sits half-way between the right and left end states
            const Vector<double> cd = s.ends[0] - s.ends[1];
            CHECK(cd.dot(fp.x - s.ends[1]) / cd.squaredNorm() == doctest::Approx(0.5).epsilon(1e-9));
        }
    }
    CHECK(two_saddles == 1);

    // Dense grid search: relax from every node of a 8⁴ grid over the trajectories' range ± 5
    // (forward Euler with dt = 5 ms: the Euler map has exactly the zeros of F as fixed points,
    // and |1 + dt·λ| < 1 for the stable ones); every node that settles (‖F‖ < 1e-10) settles on a
    // stable point of the finder.
    Vector<double> lo = Vector<double>::Constant(4, 1e300), hi = -lo;
    for (const auto& tr : s.trajectories) {
        lo = lo.cwiseMin(tr.rowwise().minCoeff());
        hi = hi.cwiseMax(tr.rowwise().maxCoeff());
    }
    lo.array() -= 5;
    hi.array() += 5;
    const int G = 8;
    long settled = 0, missed = 0;
    std::vector<long> hits(found.points.size(), 0);
    for (int i0 = 0; i0 < G; ++i0)
        for (int i1 = 0; i1 < G; ++i1)
            for (int i2 = 0; i2 < G; ++i2)
                for (int i3 = 0; i3 < G; ++i3) {
                    const int idx[4] = {i0, i1, i2, i3};
                    Vector<double> h(4);
                    // Offsets differ per population so that no node lies on the C ↔ N mirror plane
                    // of a hemisphere (an invariant set whose points flow to the saddles).
                    for (int k = 0; k < 4; ++k) h[k] = lo[k] + (hi[k] - lo[k]) * (idx[k] + 0.13 * (k + 1)) / G;
                    if (!relax(s.model, s.u_delay, h, 5.0, 20000, 1e-10)) continue;
                    // Only stable end states count (a node on a stable manifold reaches a saddle).
                    if (linearise(s.model, delay, h).kind != FixedPointKind::stable) continue;
                    ++settled;
                    const long at = nearest(found, h, 1e-7, FixedPointKind::stable);  // 1e-10/1.4e-3
                    if (at < 0) {
                        if (missed < 5) MESSAGE("grid start settled at " << h.transpose() << " not found by the finder");
                        ++missed;
                    } else ++hits[std::size_t(at)];
                }
    CHECK(settled >= G * G * G * G * 9 / 10);
    CHECK(missed == 0);
    for (std::size_t k = 0; k < found.points.size(); ++k)
        if (found.points[k].kind == FixedPointKind::stable) CHECK(hits[k] > 0);
}

TEST_CASE("continuous attractor: with exact tuning a line of marginal points, published: one very slow stable point") {
    // The currents' steady state h = W_eff h is a line when det(W_eff − I) = 0, W_eff the 3×3
    // current-to-current gain (every s at its steady state). det is linear in j_IN: tune it.
    auto det_at = [](double jIN) {
        ContinuousAttractorParameters q;
        q.j_IN = jIN;
        Matrix<double> A(3, 3);
        A << q.j_CC - 1, q.j_CN, -q.j_CI, q.j_NC, q.j_NN - 1, -q.j_NI, q.j_IC, q.j_IN, -q.j_II - 1;
        return A.determinant();
    };
    ContinuousAttractorParameters tuned;
    const double d0 = det_at(550), d1 = det_at(551);
    tuned.j_IN = 550 - d0 / (d1 - d0);
    const ContinuousAttractor<double> ca(tuned);
    const InputCondition<double> none{"none", zeros<double>(12)};
    const Matrix<double> starts = random_starts<double>(12, 40, 1.0, 31);
    const auto found = find_fixed_points(ca, none, starts);
    CHECK(found.analytic_jacobian);
    CHECK(found.count(StartStatus::not_converged) == 0);
    // The null direction of DF (the line).
    Eigen::FullPivLU<Matrix<double>> lu(ca.jacobian());
    lu.setThreshold(1e-10);
    REQUIRE(lu.dimensionOfKernel() == 1);
    const Vector<double> v = lu.kernel().col(0).normalized();
    CHECK(found.points.size() >= 10);  // distinct points spread along the line
    double lo = 1e300, hi = -1e300;
    for (const auto& fp : found.points) {
        CHECK(fp.kind == FixedPointKind::marginal);
        CHECK(fp.n_marginal == 1);
        CHECK(fp.n_unstable == 0);
        CHECK(double(fp.residual) <= 1e-10);
        // on the line: the part of x off the null direction is rounding-sized
        CHECK((fp.x - v.dot(fp.x) * v).norm() <= 1e-9 * (1 + fp.x.norm()));
        CHECK(std::abs(double(fp.eigenvalues[0].real())) <= 1e-12);
        lo = std::min(lo, v.dot(fp.x));
        hi = std::max(hi, v.dot(fp.x));
    }
    CHECK(hi - lo > 1.0);

    // Published weights (j_IC = 298.5, j_NI = 301.99): one fixed point, stable, its slowest
    // eigenvalue ≈ −3.9e-5 /ms (a 26-s time constant against a 2-s delay).
    const ContinuousAttractor<double> pub;
    const auto one = find_fixed_points(pub, none, starts);
    REQUIRE(one.points.size() == 1);
    CHECK(one.points[0].kind == FixedPointKind::stable);
    // x* = 0; for a linear F, x − x* = DF⁻¹F, so ‖x‖ ≤ ‖F‖/σ_min(DF)
    const double smin = Eigen::JacobiSVD<Matrix<double>>(pub.jacobian()).singularValues()(11);
    CHECK(one.points[0].x.norm() <= 1.01 * double(one.points[0].residual) / smin);
    CHECK(double(one.points[0].max_real_eigenvalue) == doctest::Approx(-3.8548e-5).epsilon(1e-4));

    // A start so far out that ‖x‖² overflows (entries 1e160): x.norm() = inf once made every
    // relative step test pass, and a "fixed point" at |x| = 6e151 with q = 1e293 came back.
    // Now: not converged, with the reason, and no point.
    Matrix<double> far = starts.leftCols(2);
    far.col(1) *= 1e160;
    const auto out = find_fixed_points(pub, none, far);
    REQUIRE(out.points.size() == 1);
    CHECK(out.points[0].x.norm() <= 1e-6);
    CHECK(out.starts[1].status == StartStatus::not_converged);
    CHECK(out.starts[1].point == -1);
    CHECK(out.starts[1].message.find("diverged") != std::string::npos);
}

TEST_CASE("slow point: the ghost of a saddle-node (no root, minimum of q) through finite differences") {
    const Ghost g{1e-3};
    const InputCondition<double> c{"none", zeros<double>(1)};
    Matrix<double> starts(1, 3);
    starts << 1.0, -0.7, 0.2;
    const auto found = find_fixed_points(g, c, starts);
    CHECK_FALSE(found.analytic_jacobian);
    CHECK(found.count(StartStatus::slow_point) == 3);
    REQUIRE(found.points.size() == 1);
    const auto& sp = found.points[0];
    CHECK(sp.kind == FixedPointKind::slow);
    // ∇q = 2x(a + x²) stops at |x| ≤ gradient_tolerance·|x₀|-ish: q = ½(a + x²)² = a²/2 to 1e-9
    CHECK(std::abs(sp.x[0]) <= 1e-6);
    CHECK(double(sp.q) == doctest::Approx(0.5e-6).epsilon(1e-9));
    // a slow point whose q is above slow_q_max is reported as not converged, with the reason
    FixedPointOptions strict;
    strict.slow_q_max = 1e-7;
    const auto none = find_fixed_points(g, c, starts, strict);
    CHECK(none.points.empty());
    CHECK(none.count(StartStatus::not_converged) == 3);
    CHECK(none.starts[0].message.find("slow_q_max") != std::string::npos);
}

TEST_CASE("a member jacobian is used, roots of a cubic are classified") {
    const Cubic m;
    const InputCondition<double> c{"none", zeros<double>(1)};
    Matrix<double> starts(1, 6);
    starts << -2.0, -0.9, 0.1, -0.1, 0.8, 3.0;
    const auto found = find_fixed_points(m, c, starts);
    CHECK(found.analytic_jacobian);
    REQUIRE(found.points.size() == 3);
    for (const auto& fp : found.points) {
        const double x = fp.x[0];
        if (std::abs(x) < 0.5) {
            CHECK(std::abs(x) <= 1e-10);  // |x − 0| ≈ |F|/|F'(0)|, F'(0) = 1
            CHECK(fp.kind == FixedPointKind::unstable);  // F'(0) = 1: the only direction is unstable
            CHECK(fp.max_real_eigenvalue == doctest::Approx(1.0));
        } else {
            CHECK(std::abs(std::abs(x) - 1) <= 1e-10 / 2);  // |x − x*| ≈ |F|/|F'(x*)|, F' = −2
            CHECK(fp.kind == FixedPointKind::stable);
            CHECK(fp.max_real_eigenvalue == doctest::Approx(-2.0));
        }
    }
}

TEST_CASE("finite-difference Jacobians find the same points, results do not depend on the thread count") {
    Rng rng(41);
    auto net = RateNetwork<Tanh<double>>::random(30, 1.6, 10.0, rng);
    const InputCondition<double> c{"none", zeros<double>(30)};
    const Matrix<double> starts = random_starts<double>(30, 48, 1.0, 42);
    FixedPointOptions one, two, fd;
    one.threads = 1;
    two.threads = 2;
    fd.jacobian = JacobianMethod::finite_difference;
    fd.threads = 2;
    const auto a = find_fixed_points(net, c, starts, one);
    const auto b = find_fixed_points(net, c, starts, two);
    const auto f = find_fixed_points(net, c, starts, fd);
    CHECK_FALSE(f.analytic_jacobian);
    REQUIRE(a.points.size() >= 2);
    REQUIRE(a.points.size() == b.points.size());
    for (std::size_t k = 0; k < a.points.size(); ++k) {
        CHECK((a.points[k].x - b.points[k].x).norm() == 0.0);
        CHECK(a.points[k].kind == b.points[k].kind);
    }
    for (std::size_t k = 0; k < a.starts.size(); ++k) CHECK(a.starts[k].iterations == b.starts[k].iterations);
    // every analytic point is found with finite differences too (the same roots, Newton's
    // accuracy is set by F, not by the Jacobian), with the same classification
    for (const auto& p : a.points) {
        if (p.kind == FixedPointKind::slow) continue;
        const long k = nearest(f, p.x, root_distance_bound(p), p.kind);
        CHECK_MESSAGE(k >= 0, to_string(p.kind) << " point missing with finite differences");
        if (k >= 0) CHECK(f.points[std::size_t(k)].n_unstable == p.n_unstable);
    }
}

TEST_CASE("errors: invalid options and inputs are named, NaN from the model names the initial state") {
    Rng rng(1);
    auto net = RateNetwork<Logistic<double>>::random(5, 0.5, 10.0, rng);
    const InputCondition<double> c{"u", zeros<double>(5)};
    const Matrix<double> starts = random_starts<double>(5, 3, 1.0, 2);
    auto message = [&](const FixedPointOptions& o) {
        try {
            find_fixed_points(net, c, starts, o);
        } catch (const invalid_parameter& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    FixedPointOptions o;
    o.max_iterations = 0;
    CHECK(message(o).find("max_iterations") != std::string::npos);
    o = {};
    o.residual_tolerance = -1;
    CHECK(message(o).find("residual_tolerance") != std::string::npos);
    o = {};
    o.dedupe_tolerance = std::numeric_limits<double>::quiet_NaN();
    CHECK(message(o).find("dedupe_tolerance") != std::string::npos);
    o = {};
    o.slow_q_max = 0;
    CHECK(message(o).find("slow_q_max") != std::string::npos);
    o = {};
    o.threads = -3;
    CHECK(message(o).find("threads") != std::string::npos);
    o = {};
    o.max_step = 0;
    CHECK(message(o).find("max_step") != std::string::npos);

    const InputCondition<double> wrong{"wrong", zeros<double>(4)};
    CHECK_THROWS_WITH_AS(find_fixed_points(net, wrong, starts), doctest::Contains("InputCondition.u"), invalid_parameter);
    InputCondition<double> nan_u = c;
    nan_u.u[2] = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(find_fixed_points(net, nan_u, starts), invalid_parameter);
    Matrix<double> bad = starts;
    bad(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(find_fixed_points(net, c, bad), doctest::Contains("initial_states column 2"), invalid_parameter);
    CHECK_THROWS_WITH_AS(find_fixed_points(net, c, Matrix<double>(4, 3)), doctest::Contains("initial_states (rows)"),
                         invalid_parameter);
    CHECK_THROWS_AS(find_fixed_points(net, c, Matrix<double>(5, 0)), invalid_parameter);

    // The model's NaN: an error naming the initial state (trial) it came from.
    const Poisoned poisoned;
    Matrix<double> ps(2, 3);
    ps << 0.1, 0.2, 5.0, 0.1, 0.0, 0.0;
    try {
        find_fixed_points(poisoned, InputCondition<double>{"none", zeros<double>(2)}, ps);
        FAIL("no error for a NaN derivative");
    } catch (const numerical_error& e) {
        CHECK(e.trial() == 2);
        CHECK(std::string(e.what()).find("initial state 2") != std::string::npos);
    }

    // Non-convergence is reported per start, not thrown.
    FixedPointOptions few;
    few.max_iterations = 1;
    auto wide = RateNetwork<Tanh<double>>::random(30, 1.6, 10.0, rng);
    const auto r = find_fixed_points(wide, InputCondition<double>{"none", zeros<double>(30)},
                                     random_starts<double>(30, 8, 3.0, 9), few);
    CHECK(r.count(StartStatus::not_converged) >= 1);
    for (const auto& st : r.starts)
        if (st.status == StartStatus::not_converged) {
            CHECK(st.point == -1);
            CHECK(st.message.find("max_iterations") != std::string::npos);
        }
}

TEST_CASE("sample_initial_states: trajectory columns plus seeded noise") {
    Matrix<double> a(3, 4), b(3, 2);
    a.setRandom();
    b.setRandom();
    const Matrix<double> s0 = sample_initial_states<double>({a, b}, 50, 0.0, 7);
    REQUIRE(s0.cols() == 50);
    for (index_t k = 0; k < 50; ++k) {
        bool found = false;
        for (index_t j = 0; j < 4; ++j) found = found || (s0.col(k) - a.col(j)).norm() == 0.0;
        for (index_t j = 0; j < 2; ++j) found = found || (s0.col(k) - b.col(j)).norm() == 0.0;
        CHECK(found);
    }
    // The same seed gives the same draw; noise has the requested sd (3·2000 deviates: ±4 %).
    const Matrix<double> s1 = sample_initial_states<double>({a, b}, 2000, 0.5, 7);
    CHECK((s1 - sample_initial_states<double>({a, b}, 2000, 0.5, 7)).norm() == 0.0);
    const Matrix<double> s2 = sample_initial_states<double>({a, b}, 2000, 0.0, 7);
    const double sd = std::sqrt((s1 - s2).squaredNorm() / double(s1.size()));
    CHECK(sd == doctest::Approx(0.5).epsilon(0.04));
    CHECK_THROWS_AS(sample_initial_states<double>({}, 5, 0.1, 1), invalid_parameter);
    CHECK_THROWS_AS(sample_initial_states<double>({a, Matrix<double>(2, 2)}, 5, 0.1, 1), invalid_parameter);
    CHECK_THROWS_AS(sample_initial_states<double>({a}, 0, 0.1, 1), invalid_parameter);
    CHECK_THROWS_AS(sample_initial_states<double>({a}, 5, -0.1, 1), invalid_parameter);
    CHECK_THROWS_AS(sample_initial_states<double>({a}, index_t(1) << 50, 0.1, 1), invalid_parameter);
}

// The example of docs/fixed_points.md, compiled and checked here.
TEST_CASE("docs example: the delay-epoch fixed points of one_hemi_multi_fp_step") {
    const auto p = inagaki2019_preset("one_hemi_multi_fp_step");
    const auto model = make_inagaki2019_model<double>(p);
    // The delay: stimulus off, ramp on its plateau, no noise; photoinhibition of strength pv.
    const double pv = 0.0;
    const InputCondition<double> delay{
        "delay", Vector<double>::Constant(4, p.ramp_amp) + pv * inagaki2019_photoinhibition_drive<double>(p)};
    // Starts: states along the diagonal h = (c, c, c, c), c = −5 … 20, plus noise of sd 5.
    Matrix<double> diagonal(4, 26);
    for (index_t k = 0; k < 26; ++k) diagonal.col(k).setConstant(-5.0 + double(k));
    const Matrix<double> starts = sample_initial_states<double>({diagonal}, 512, 5.0, /*seed=*/1);
    const FixedPointSet<double> found = find_fixed_points(model, delay, starts);
    CHECK(found.count(FixedPointKind::stable) == 4);
    CHECK(found.count(FixedPointKind::saddle) == 5);
    CHECK(found.count(StartStatus::not_converged) == 0);
}

TEST_CASE("float: the Inagaki population model's points agree with double within the float error bound") {
    const auto p = inagaki2019_preset("one_hemi_multi_fp_step");
    Matrix<double> diagonal(4, 26);
    for (index_t k = 0; k < 26; ++k) diagonal.col(k).setConstant(-5.0 + double(k));
    const Matrix<double> starts = sample_initial_states<double>({diagonal}, 256, 5.0, 1);
    const auto d = find_fixed_points(make_inagaki2019_model<double>(p), {"delay", Vector<double>::Constant(4, p.ramp_amp)},
                                     starts);
    const auto f = find_fixed_points(make_inagaki2019_model<float>(p),
                                     {"delay", Vector<float>::Constant(4, float(p.ramp_amp))}, starts.cast<float>());
    CHECK(f.analytic_jacobian);
    CHECK(f.count(FixedPointKind::stable) == d.count(FixedPointKind::stable));
    CHECK(f.count(FixedPointKind::saddle) == d.count(FixedPointKind::saddle));
    for (const auto& fp : f.points) {
        CHECK(double(fp.residual) <= 1e-5);
        // the double root is within the float point's own bound (‖F‖/σ_min) plus float rounding of h
        const long k = nearest(d, Vector<double>(fp.x.cast<double>()), root_distance_bound(fp) + 1e-5 * fp.x.norm(),
                               fp.kind);
        CHECK_MESSAGE(k >= 0, to_string(fp.kind) << " float point " << fp.x.transpose() << " has no double twin");
        if (k >= 0) CHECK(fp.n_unstable == d.points[std::size_t(k)].n_unstable);
    }
}
