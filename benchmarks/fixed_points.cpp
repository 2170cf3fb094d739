// Fixed points of a FORCE-trained N = 87 network from 1024 initial states (issue: ≤ 0.5 s on
// the 2-core machine, every point converged to ‖F‖ < 1e-10 and deduplicated; Newton
// iterations per start reported).
//
// Two networks, each trained in the setup (not timed, a few seconds): one realisation of the
// Rajan protocol (experiments/rajan_protocol.hpp: logistic rate network, τ = 10 ms, g = 1.2,
// raw targets, up to 50 FORCE iterations, stopping at pVar 0.85) on
//  - session: the correct-trial PSTHs of a synthetic ALM session (87 units, seed 1), what the
//    example program and rajan_force_training train on: two attractors and a saddle, no slow
//    points;
//  - targets: the synthetic ALM targets of experiments/synthetic_targets.hpp (87 units, seed 0):
//    a rougher landscape (2 stable points, ~10 saddles, ~85 slow points, ~160 of 1024 starts
//    unconverged after 100 iterations).
// Input condition: the frozen input averaged over the delay (one condition: the protocol's
// delay input is the same on both trial types). Initial states: the states of the unperturbed
// right and left trials (every 10 ms) plus Gaussian noise of sd 0.5, as the example program
// draws them (dynamics/trained_fixed_points.hpp).
//
// Compared in the same binary with a straightforward implementation: finite-difference
// Jacobian (central, 2N evaluations), plain undamped Newton, same dedupe and eigen-analysis,
// on the first 64 starts (compare time_per_start).
#include <benchmark/benchmark.h>

#include <Eigen/Eigenvalues>
#include <Eigen/LU>

#include "neurodyn/dynamics/fixed_points.hpp"
#include "neurodyn/dynamics/trained_fixed_points.hpp"
#include "neurodyn/experiments/rajan_protocol.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/experiments/synthetic_targets.hpp"
#include "neurodyn/models/rate_network.hpp"

using namespace neurodyn;

namespace {

constexpr index_t kUnits = 87;
constexpr index_t kStarts = 1024;
// The straightforward version needs ~80 s for all 1024 starts (most never converge and use all
// 100 iterations): it is timed on the first 64 and compared per start.
constexpr index_t kStraightforwardStarts = 64;

struct Problem {
    RateNetwork<Logistic<double>, double> net;
    InputCondition<double> condition;
    Matrix<double> starts;
    double pvar = 0;
};

Problem make_problem(const xt::xtensor<double, 3>& rates, const TaskEpochs& epochs) {
    RajanOptions o;
    o.realizations = 1;
    o.max_iterations = 50;
    o.progress = false;
    const auto trained = rajan_training(rates, epochs, o);
    const TrainedTask t = trained_task(trained, epochs, o, 0);
    const auto conditions = trained_input_conditions(t.task, TrainedInputChoice{});
    const std::vector<Matrix<double>> trials = {trained_trial_states(t.task, 0), trained_trial_states(t.task, 1)};
    const auto& last = trained.runs.front().pvar.back();
    return Problem{t.task.network, conditions.front(), sample_initial_states<double>(trials, kStarts, 0.5, 1),
                   std::min(last[0], last[1])};
}

/// 0: the synthetic session's PSTHs, 1: the synthetic targets.
const Problem& problem(int which) {
    static const Problem session = [] {
        SyntheticSessionOptions so;
        so.units = std::size_t(kUnits);
        const auto t = session_training_targets(synthetic_session(so));
        return make_problem(t.rates, t.epochs);
    }();
    static const Problem targets = [] {
        SyntheticTargetOptions so;
        so.neurons = kUnits;
        const auto t = synthetic_targets(so);
        return make_problem(t.rates, t.epochs);
    }();
    return which == 0 ? session : targets;
}

void report(benchmark::State& state, const Problem& p, index_t starts, long unique, long stable, long converged,
            double iterations, double factorisations, double worst) {
    state.counters["trained_pvar"] = p.pvar;
    state.counters["points"] = double(unique);
    state.counters["stable"] = double(stable);
    state.counters["converged_starts"] = double(converged);
    state.counters["newton_iterations_per_start"] = iterations;
    state.counters["factorisations_per_start"] = factorisations;
    state.counters["max_residual"] = worst;
    state.counters["time_per_start"] =
        benchmark::Counter(double(starts), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_find_fixed_points(benchmark::State& state) {
    const auto& p = problem(int(state.range(0)));
    FixedPointOptions o;
    o.threads = int(state.range(1));
    FixedPointSet<double> r;
    for (auto _ : state) {
        r = find_fixed_points(p.net, p.condition, p.starts, o);
        benchmark::DoNotOptimize(r.points.data());
    }
    // Fixed points must be converged; slow points (local minima of q with q > 0, no root
    // nearby) are counted apart.
    double worst = 0;
    for (const auto& fp : r.points)
        if (fp.kind != FixedPointKind::slow) worst = std::max(worst, double(fp.residual));
    state.counters["slow_points"] = double(r.count(FixedPointKind::slow));
    state.counters["saddles"] = double(r.count(FixedPointKind::saddle));
    state.counters["starts_not_converged"] = double(r.count(StartStatus::not_converged));
    if (worst >= 1e-10) state.SkipWithError("a returned point has |F| >= 1e-10");
    report(state, p, kStarts, long(r.points.size()), r.count(FixedPointKind::stable),
           r.count(StartStatus::fixed_point) + r.count(StartStatus::slow_point), r.mean_iterations(),
           r.mean_factorisations(), worst);
}

// Straightforward: finite-difference Jacobian, undamped Newton until ‖F‖ < 1e-10 (or 100
// iterations or a non-finite step), dedupe by the same rule, eigenvalues of each point.
void BM_straightforward(benchmark::State& state) {
    const auto& p = problem(int(state.range(0)));
    const index_t n = kUnits;
    long unique = 0, stable = 0, converged = 0;
    double iterations = 0, worst = 0;
    for (auto _ : state) {
        std::vector<Vector<double>> points;
        std::vector<int> kinds;
        converged = 0;
        iterations = 0;
        worst = 0;
        for (index_t k = 0; k < kStraightforwardStarts; ++k) {
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
    const double per = iterations / double(kStraightforwardStarts);
    report(state, p, kStraightforwardStarts, unique, stable, converged, per, per, worst);
}

}  // namespace

// Args: network (0 session, 1 targets), threads (0: OpenMP default).
BENCHMARK(BM_find_fixed_points)->Name("fixed_points/N87_1024_starts/session")->Args({0, 0})
    ->ArgNames({"net", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_find_fixed_points)->Name("fixed_points/N87_1024_starts/session/single_thread")->Args({0, 1})
    ->ArgNames({"net", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_straightforward)->Name("fixed_points_straightforward/N87_first_64_starts/session")->Args({0})
    ->ArgNames({"net"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_find_fixed_points)->Name("fixed_points/N87_1024_starts/targets")->Args({1, 0})
    ->ArgNames({"net", "threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_straightforward)->Name("fixed_points_straightforward/N87_first_64_starts/targets")->Args({1})
    ->ArgNames({"net"})->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
