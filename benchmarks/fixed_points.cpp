// Fixed points of a trained-like N = 87 rate network from 1024 initial states (issue: ≤ 0.5 s
// on the 2-core machine, every point converged to ‖F‖ < 1e-10 and deduplicated).
//
// The network: logistic rate network, τ = 10 ms, J = J₀ + ΔJ with J₀ ~ N(0, g²/N), g = 1.2
// (Rajan-style chaotic initial network) and a rank-2 ΔJ that plants two prescribed states as
// fixed points, x^μ = J φ(x^μ) + u: the least-norm correction in the span of their rates, the
// structure FORCE training leaves behind (a low-rank ΔJ in the span of the trained rates).
// Initial states: states along 10 trajectories (500 ms from random states) plus noise 0.3.
//
// Compared in the same binary with a straightforward implementation: finite-difference
// Jacobian (central, 2N evaluations), plain undamped Newton, same dedupe and eigen-analysis.
#include <benchmark/benchmark.h>

#include <Eigen/Eigenvalues>
#include <Eigen/LU>

#include "neurodyn/dynamics/fixed_points.hpp"
#include "neurodyn/models/rate_network.hpp"

using namespace neurodyn;

namespace {

constexpr index_t kUnits = 87;
constexpr index_t kStarts = 1024;

struct Problem {
    RateNetwork<Logistic<double>, double> net;
    InputCondition<double> condition;
    Matrix<double> starts;
};

const Problem& problem() {
    static const Problem p = [] {
        Rng rng(2024);
        const index_t n = kUnits;
        Matrix<double> J = RateNetwork<Logistic<double>>::random(n, 1.2, 10.0, rng).weights();
        Vector<double> u = Vector<double>::Constant(n, -0.5);
        // Plant two states: X = J Φ + U with Φ = φ(X), by ΔJ = R (ΦᵀΦ)⁻¹ Φᵀ, R = X − JΦ − U.
        Matrix<double> X(n, 2);
        for (index_t j = 0; j < 2; ++j)
            for (index_t i = 0; i < n; ++i) X(i, j) = 2.0 * rng.normal();
        const Matrix<double> Phi = X.unaryExpr(Logistic<double>{});
        const Matrix<double> R = X - J * Phi - u.replicate(1, 2);
        J += R * (Phi.transpose() * Phi).ldlt().solve(Phi.transpose());
        RateNetwork<Logistic<double>, double> net(J, 10.0);
        // Trajectories: Euler, dt = 1 ms, 500 ms from 10 random states; every 5th state kept.
        std::vector<Matrix<double>> traj;
        Vector<double> f(n);
        for (int k = 0; k < 10; ++k) {
            Vector<double> x(n);
            for (index_t i = 0; i < n; ++i) x[i] = 2.0 * rng.normal();
            Matrix<double> t(n, 100);
            for (int s = 0; s < 500; ++s) {
                net.derivative(x, 0.0, u, f);
                x += 1.0 * f;
                if (s % 5 == 4) t.col(s / 5) = x;
            }
            traj.push_back(t);
        }
        return Problem{net, InputCondition<double>{"constant", u}, sample_initial_states<double>(traj, kStarts, 0.3, 7)};
    }();
    return p;
}

void report(benchmark::State& state, long unique, long stable, long converged, double iterations, double factorisations,
            double worst) {
    state.counters["points"] = double(unique);
    state.counters["stable"] = double(stable);
    state.counters["converged_starts"] = double(converged);
    state.counters["newton_iterations_per_start"] = iterations;
    state.counters["factorisations_per_start"] = factorisations;
    state.counters["max_residual"] = worst;
    state.counters["time_per_start"] =
        benchmark::Counter(double(kStarts), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_find_fixed_points(benchmark::State& state) {
    const auto& p = problem();
    FixedPointOptions o;
    o.threads = int(state.range(0));
    FixedPointSet<double> r;
    for (auto _ : state) {
        r = find_fixed_points(p.net, p.condition, p.starts, o);
        benchmark::DoNotOptimize(r.points.data());
    }
    double worst = 0;
    for (const auto& fp : r.points) worst = std::max(worst, double(fp.residual));
    if (worst >= 1e-10) state.SkipWithError("a returned point has |F| >= 1e-10");
    report(state, long(r.points.size()), r.count(FixedPointKind::stable),
           r.count(StartStatus::fixed_point) + r.count(StartStatus::slow_point), r.mean_iterations(),
           r.mean_factorisations(), worst);
}

// Straightforward: finite-difference Jacobian, undamped Newton until ‖F‖ < 1e-10 (or 100
// iterations or a non-finite step), dedupe by the same rule, eigenvalues of each point.
void BM_straightforward(benchmark::State& state) {
    const auto& p = problem();
    const index_t n = kUnits;
    long unique = 0, stable = 0, converged = 0;
    double iterations = 0, worst = 0;
    for (auto _ : state) {
        std::vector<Vector<double>> points;
        std::vector<int> kinds;
        converged = 0;
        iterations = 0;
        worst = 0;
        for (index_t k = 0; k < kStarts; ++k) {
            Vector<double> x = p.starts.col(k), F(n);
            Matrix<double> J;
            bool ok = false;
            for (int it = 0; it < 100; ++it) {
                p.net.derivative(x, 0.0, p.condition.u, F);
                if (!F.allFinite()) break;
                if (F.norm() < 1e-10) {
                    ok = true;
                    break;
                }
                iterations += 1;
                finite_difference_jacobian(p.net, x, 0.0, p.condition.u, J);
                const Vector<double> d = J.partialPivLu().solve(F);
                if (!d.allFinite()) break;
                x -= d;
            }
            if (!ok) continue;
            ++converged;
            worst = std::max(worst, F.norm());
            bool seen = false;
            for (const auto& q : points)
                if ((q - x).norm() <= 1e-6 * (1 + std::max(q.norm(), x.norm()))) seen = true;
            if (seen) continue;
            points.push_back(x);
            finite_difference_jacobian(p.net, x, 0.0, p.condition.u, J);
            Eigen::EigenSolver<Matrix<double>> es(J, false);
            kinds.push_back((es.eigenvalues().real().array() < 0).all() ? 1 : 0);
        }
        benchmark::DoNotOptimize(points.data());
        unique = long(points.size());
        stable = long(std::count(kinds.begin(), kinds.end(), 1));
    }
    report(state, unique, stable, converged, iterations / double(kStarts), iterations / double(kStarts), worst);
}

}  // namespace

BENCHMARK(BM_find_fixed_points)->Name("fixed_points/N87_1024_starts")->Arg(0)->ArgName("threads")
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_find_fixed_points)->Name("fixed_points/N87_1024_starts/single_thread")->Arg(1)->ArgName("threads")
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_straightforward)->Name("fixed_points_straightforward/N87_1024_starts")
    ->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
