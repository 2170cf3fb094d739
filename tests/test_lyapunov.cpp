// Tests for dynamics/lyapunov.hpp against what is known exactly: a linear network
// τ dx/dt = −x + W x has largest exponent (max Re eig(W) − 1)/τ; a flow that settles on a
// stable fixed point has the largest real eigenvalue of the Jacobian there (a logistic network
// with g = 1.5: effective gain g·max φ′ = 0.375 < 1, not chaotic); a tanh network with
// g = 1.5 and N = 500 is chaotic (positive exponent), and a logistic network is exactly a tanh
// network (state halved, gain quartered) once its offset ½·J·1 is cancelled by the input.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <Eigen/Eigenvalues>

#include "neurodyn/dynamics/fixed_points.hpp"
#include "neurodyn/dynamics/lyapunov.hpp"
#include "neurodyn/models/rate_network.hpp"

using namespace neurodyn;

namespace {

// The identity transfer (a linear network), stating its derivative.
template <class T>
struct Linear {
    T operator()(T h) const { return h; }
    T derivative(T) const { return T(1); }
};

// A user model without a Jacobian (finite differences along the tangent vector): the linear
// flow dx/dt = A x.
struct LinearFlow {
    using scalar_type = double;
    Matrix<double> A;
    index_t size() const { return A.rows(); }
    void derivative(const Vector<double>& x, double, const Vector<double>&, Vector<double>& dxdt) const {
        dxdt.noalias() = A * x;
    }
};

static_assert(!HasAnalyticJacobian<LinearFlow>);
static_assert(HasAnalyticJacobian<RateNetwork<Linear<double>, double>>);

template <class T>
Vector<T> normal_state(index_t n, double sd, std::uint64_t seed) {
    Rng rng(seed);
    Vector<T> x(n);
    for (index_t i = 0; i < n; ++i) x[i] = T(sd * rng.normal());
    return x;
}

/// The largest real part of the eigenvalues of A and the condition number of its eigenvector
/// matrix (which bounds how far a finite-time growth rate can be from it: see below).
std::pair<double, double> top_eigenvalue(const Matrix<double>& A) {
    Eigen::EigenSolver<Matrix<double>> es(A);
    double top = -1e300;
    for (index_t i = 0; i < A.rows(); ++i) top = std::max(top, es.eigenvalues()[i].real());
    const Eigen::JacobiSVD<Eigen::MatrixXcd> svd(es.eigenvectors());
    return {top, svd.singularValues()(0) / svd.singularValues()(A.rows() - 1)};
}

}  // namespace

TEST_CASE("linear network: exponent (max Re eig(W) - 1)/tau, stable and unstable, analytic and finite differences") {
    // For A = V Λ V⁻¹ the growth ‖e^{At}v‖/‖v‖ lies in [e^{αt}·|c|/κ, κ·e^{αt}], κ = cond(V),
    // c the start's weight on the top mode: the rate over time T errs by at most
    // (log κ + |log |c||)/T. With T = 20 000 ms and κ, 1/|c| ≤ e^5 that is 5e-4 /ms; the
    // transient (2000 ms) makes c the top mode's share after it, close to 1 when α is separated.
    const index_t n = 60;
    const double tau = 10;
    LyapunovOptions o;
    o.dt = 0.5;
    o.transient = 2000;
    o.duration = 20000;
    const InputCondition<double> none{"none", Vector<double>::Zero(n)};
    const Vector<double> x0 = Vector<double>::Zero(n);  // the fixed point: only the tangent moves
    for (double g : {0.8, 1.6}) {
        CAPTURE(g);
        Rng rng(3);
        const auto net = RateNetwork<Linear<double>, double>::random(n, g, tau, rng);
        const auto [alpha, kappa] = top_eigenvalue(net.weights());
        const double expected = (alpha - 1) / tau;
        CHECK(std::log(kappa) <= 5.0);
        const auto r = largest_lyapunov_exponent(net, none, x0, o);
        const double bound = (std::log(kappa) + 5.0) / r.measured_time;
        CHECK(std::abs(r.exponent - expected) <= bound);
        MESSAGE("g = " << g << ": exponent " << r.exponent << " /ms, expected " << expected << ", |error| "
                       << std::abs(r.exponent - expected) << " (bound " << bound << ")");
        CHECK(r.steps == long(std::llround((o.transient + o.duration) / o.dt)));
        // The same flow as a user model without a Jacobian: central differences along v are
        // exact for a linear flow up to rounding.
        LinearFlow flow{(net.weights() - Matrix<double>::Identity(n, n)) / tau};
        const auto f = largest_lyapunov_exponent(flow, none, x0, o);
        CHECK(f.exponent == doctest::Approx(r.exponent).epsilon(1e-9));
    }
}

TEST_CASE("logistic network, g = 1.5: not chaotic, exponent = top eigenvalue at the fixed point it settles on") {
    // Effective gain g·max φ′ = 1.5/4 < 1: the flow contracts to a fixed point x*. There the
    // tangent flow is linear with DF(x*), so the exponent is max Re eig DF(x*), to the same
    // (log κ + |log c|)/T as above once the state has settled (transient 1000 ms ≫ τ/0.07).
    const index_t n = 200;
    Rng rng(11);
    const auto net = RateNetwork<Logistic<double>, double>::random(n, 1.5, 10.0, rng);
    const InputCondition<double> none{"none", Vector<double>::Zero(n)};
    LyapunovOptions o;
    o.dt = 1;
    o.transient = 1000;
    o.duration = 5000;
    const auto r = largest_lyapunov_exponent(net, none, normal_state<double>(n, 1.0, 5), o);
    CHECK(r.final_speed < 1e-10);
    CHECK(r.exponent < 0);
    const auto fp = linearise(net, none, r.final_state);
    CHECK(fp.kind == FixedPointKind::stable);
    const double kappa = top_eigenvalue(fp.jacobian).second;
    const double bound = (std::log(kappa) + 5.0) / r.measured_time;
    CHECK(std::abs(r.exponent - double(fp.max_real_eigenvalue)) <= bound);
    MESSAGE("logistic g = 1.5: exponent " << r.exponent << " /ms, top eigenvalue at the fixed point "
                                          << fp.max_real_eigenvalue << " (bound on the difference " << bound << ")");

    // float: the same run in single precision. Each step's log-growth carries a relative
    // rounding of ~1e-7, 6000 steps over T = 5000 ms: ≲ 1e-7 /ms; 1e-5 leaves a factor 100.
    const RateNetwork<Logistic<float>, float> netf(net.weights().cast<float>(), 10.0);
    const InputCondition<float> nonef{"none", Vector<float>::Zero(n)};
    const auto rf = largest_lyapunov_exponent(netf, nonef, normal_state<float>(n, 1.0, 5), o);
    CHECK(std::abs(rf.exponent - r.exponent) <= 1e-5);
}

TEST_CASE("tanh network, g = 1.5, N = 500: chaotic, and a logistic network with the offset cancelled is the same network") {
    // Sompolinsky, Crisanti & Sommers (1988): chaos for g·max φ′ > 1 as N → ∞. At finite N
    // some realisations sit on a limit cycle (exponent 0) instead; this one (seed 1) is chaotic.
    const index_t n = 500;
    Rng rng(1);
    const auto net = RateNetwork<Tanh<double>, double>::random(n, 1.5, 10.0, rng);
    const Vector<double> x0 = normal_state<double>(n, 1.0, 99);
    const InputCondition<double> none{"none", Vector<double>::Zero(n)};
    LyapunovOptions o;
    o.dt = 1;
    o.transient = 1000;
    o.duration = 5000;
    const auto r = largest_lyapunov_exponent(net, none, x0, o);
    MESSAGE("tanh g = 1.5, N = 500: exponent " << r.exponent << " ± " << r.standard_error << " /ms");
    CHECK(r.exponent > 5 * r.standard_error);
    CHECK(r.exponent > 1e-3);
    CHECK(r.final_speed > 0.05);  // still moving: no fixed point

    // Logistic with J' = 4J and u = −½·J'·1: with y = x/2, τ dy/dt = −y + J tanh(y), since
    // σ(x) − ½ = ½ tanh(x/2). Same dynamics (state doubled): the same exponent, up to the
    // statistics of two chaotic runs that part after a few hundred ms (4 joint standard errors).
    const RateNetwork<Logistic<double>, double> logistic(4 * net.weights(), 10.0);
    const InputCondition<double> offset{"offset cancelled", -0.5 * logistic.weights() * Vector<double>::Ones(n)};
    const auto l = largest_lyapunov_exponent(logistic, offset, Vector<double>(2 * x0), o);
    MESSAGE("logistic g = 6 with offset cancelled: exponent " << l.exponent << " ± " << l.standard_error << " /ms");
    CHECK(std::abs(l.exponent - r.exponent) <=
          4 * std::sqrt(l.standard_error * l.standard_error + r.standard_error * r.standard_error));
    CHECK(l.exponent > 5 * l.standard_error);
}

TEST_CASE("largest_lyapunov_exponent refuses bad options and states, NaN stops with the step") {
    Rng rng(1);
    const auto net = RateNetwork<Tanh<double>, double>::random(10, 1.5, 10.0, rng);
    const InputCondition<double> none{"none", Vector<double>::Zero(10)};
    const Vector<double> x0 = Vector<double>::Ones(10);
    auto with = [](auto change) {
        LyapunovOptions o;
        o.duration = 1000;
        change(o);
        return o;
    };
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, x0, with([](auto& o) { o.dt = 0; })), invalid_parameter);
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, x0, with([](auto& o) { o.dt = std::nan(""); })),
                    invalid_parameter);
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, x0, with([](auto& o) { o.transient = -1; })),
                    invalid_parameter);
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, x0, with([](auto& o) { o.renormalise_every = 0; })),
                    invalid_parameter);
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, x0, with([](auto& o) { o.blocks = 1; })), invalid_parameter);
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, x0, with([](auto& o) { o.duration = 1e300; })),
                    invalid_parameter);
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, x0, with([](auto& o) { o.duration = 1; })),
                    invalid_parameter);  // fewer steps than blocks × renormalise_every
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, Vector<double>(Vector<double>::Ones(9)), with([](auto&) {})),
                    invalid_parameter);
    Vector<double> bad = x0;
    bad[3] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(largest_lyapunov_exponent(net, none, bad, with([](auto&) {})), invalid_parameter);
    // An unstable linear flow with a step far too large for RK4 blows up: numerical_error.
    const auto lin = RateNetwork<Linear<double>, double>::random(10, 1.0, 10.0, rng);
    try {
        largest_lyapunov_exponent(lin, none, x0, with([](auto& o) {
            o.dt = 1000;
            o.duration = 1e6;
        }));
        FAIL("no error");
    } catch (const numerical_error& e) {
        CHECK(e.step() > 0);
        CHECK(std::string(e.what()).find("NaN or Inf") != std::string::npos);
    }
}
