// One FORCE protocol iteration as rajan_training runs it, for the library and a straightforward
// Eigen implementation in the same binary:
//
//   force_training/iteration/<impl>/87     impl: neurodyn | straightforward
//       2 conditions × (training trial + test trial) × 6000 steps, an RLS update on every
//       training step, each test trial scored with pVar (N = 87, the ALM-like synthetic
//       targets, frozen OU inputs, g = 1.2). The library's row is one call of train() per
//       iteration (its test trials run on two threads at once, ForceOptions::concurrent_tests);
//       the straightforward one runs everything in turn on one thread. Wall time.
//       Counters: per_iteration (s), per_step (per_iteration / 24000), bytes_per_second
//       (bytes each implementation must move: a fused training step 3N²·s, a test step N²·s;
//       straightforward 7N²·s and N²·s), speedup (straightforward / neurodyn, neurodyn rows),
//       best_iteration, cpu_main_thread (CPU time of the calling thread per iteration), and
//       train_step / test_step: the fastest of three single training and test trials, per step
//       (one thread).
//   force_training/iteration/seed/87
//       the same iteration under the seed protocol (learn/seed_protocol.hpp; its test trials
//       continue the carried states, so they run in turn).
//   force_training/realizations/<mode>/87/2   mode: sequential | concurrent
//       two realisations (independent networks and inputs) one iteration each (training and
//       test trials called one by one, on the calling thread), one after the other or one per
//       core (std::thread); `identical` = 1 when the concurrent weights are bitwise the
//       sequential ones.
//
// Wall time throughout: on a shared, loaded machine compare ratios from one run and repeat.
// Build with -DNEURODYN_BUILD_BENCHMARKS=ON -DNEURODYN_NATIVE=ON.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <thread>

#include <time.h>

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/experiments/synthetic_targets.hpp"
#include "neurodyn/inputs/frozen_ou.hpp"
#include "neurodyn/learn/force_trainer.hpp"

using namespace neurodyn;
using namespace neurodyn::learn;

namespace {

std::map<std::string, double> g_reference;  // straightforward seconds per iteration

/// CPU time of the calling thread (s).
double thread_cpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Task {
    SyntheticTargets t = synthetic_targets(SyntheticTargetOptions{});
    xt::xtensor<double, 3> R = normalise_jointly(t.rates);
    index_t n = index_t(R.shape()[1]), K = index_t(R.shape()[2]);
    xt::xtensor<double, 3> inputs(std::uint64_t seed) const {
        return FrozenOu{1000.0, 10.0}.generate<double>(n, 2, TimeGrid(1.0, K), t.epochs, {"presample", "delay"}, seed);
    }
    RateNetwork<Logistic<double>> network(std::uint64_t seed) const {
        Rng rng(seed, 0, 0xA1);
        return RateNetwork<Logistic<double>>::random(n, 1.2, 10.0, rng);
    }
};

const Task& task() {
    static const Task t;
    return t;
}

ForceOptions options() {
    ForceOptions o;
    o.progress = Progress::off;
    return o;
}

/// One protocol iteration with the library's trainer.
template <class Trainer>
void iteration(Trainer& tr) {
    for (index_t c = 0; c < 2; ++c) tr.train_trial(c);
    for (index_t c = 0; c < 2; ++c) benchmark::DoNotOptimize(tr.test(c).data());
}

void counters(benchmark::State& st, double seconds, bool fused) {
    const double n = double(task().n), K = double(task().K), s = 8.0;
    const double bytes = 2 * K * ((fused ? 3.0 : 7.0) * n * n * s) + 2 * K * (n * n * s);
    st.counters["per_iteration"] = seconds;
    st.counters["per_step"] = seconds / (4 * K);
    st.counters["bytes_per_second"] = bytes / seconds;
}

void BM_neurodyn(benchmark::State& st, ForceProtocol protocol) {
    const Task& t = task();
    ForceOptions o = protocol == ForceProtocol::seed ? ForceOptions::seed_protocol() : ForceOptions{};
    o.progress = Progress::off;
    o.pvar_threshold = 1.0;  // never reached: every train() below runs one whole iteration
    ForceTrainer tr(t.network(1), t.R, t.inputs(1), o);
    auto one_iteration = [&] {  // what train() does per iteration: train, test (concurrently), score
        tr.options().max_iterations = tr.iteration() + 1;
        tr.train();
    };
    one_iteration();  // warm: the first iteration touches every page and makes the test worker
    double total = 0, best = 1e300, cpu = 0;
    for (auto _ : st) {
        const double c0 = thread_cpu();
        const auto t0 = std::chrono::steady_clock::now();
        one_iteration();
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        cpu += thread_cpu() - c0;
        st.SetIterationTime(sec);
        total += sec;
        best = std::min(best, sec);
    }
    const double iterations = double(std::max<int64_t>(1, st.iterations()));
    counters(st, total / iterations, true);
    st.counters["best_iteration"] = best;
    st.counters["cpu_main_thread"] = cpu / iterations;
    // The parts on one thread, as a step costs: the fastest of three training and test trials.
    double train = 1e300, test = 1e300;
    for (int rep = 0; rep < 3; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        tr.train_trial(rep % 2);
        auto t1 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(tr.test(rep % 2).data());
        auto t2 = std::chrono::steady_clock::now();
        train = std::min(train, std::chrono::duration<double>(t1 - t0).count());
        test = std::min(test, std::chrono::duration<double>(t2 - t1).count());
    }
    st.counters["train_step"] = train / double(t.K);
    st.counters["test_step"] = test / double(t.K);
    if (protocol == ForceProtocol::textbook && g_reference.count("iteration")) st.counters["speedup"] = g_reference["iteration"] / (total / iterations);
}

/// The same iteration written straight from the equations with Eigen (what a user would write).
void BM_straightforward(benchmark::State& st) {
    const Task& t = task();
    const index_t n = t.n, K = t.K;
    Matrix<double> J = t.network(1).weights(), P = Matrix<double>::Identity(n, n);
    const auto h = t.inputs(1);
    Matrix<double> F[2], H[2];
    for (int c = 0; c < 2; ++c) {
        F[c].resize(n, K);
        H[c].resize(n, K);
        for (index_t i = 0; i < n; ++i)
            for (index_t k = 0; k < K; ++k) {
                F[c](i, k) = logit(t.R(std::size_t(c), std::size_t(i), std::size_t(k)));
                H[c](i, k) = h(std::size_t(c), std::size_t(i), std::size_t(k));
            }
    }
    Vector<double> x(n), r(n), k(n), z(n), e(n);
    Matrix<double> rates(n, K);
    auto trial = [&](int c, bool learn) {
        x = F[c].col(0);
        for (index_t s = 0; s < K; ++s) {
            r = x.unaryExpr(Logistic<double>{});
            if (!learn) rates.col(s) = r;
            z.noalias() = J * r;
            if (learn) {
                k.noalias() = P * r;
                const double cc = 1.0 / (1.0 + r.dot(k));
                P.noalias() -= (cc * k) * k.transpose();
                e = z + H[c].col(s) - F[c].col(s);
                J.noalias() -= (cc * e) * k.transpose();
                z.noalias() = J * r;
            }
            x += 0.1 * (z + H[c].col(s) - x);
        }
    };
    Matrix<double> R[2];
    for (int c = 0; c < 2; ++c) {
        R[c].resize(n, K);
        for (index_t i = 0; i < n; ++i)
            for (index_t k = 0; k < K; ++k) R[c](i, k) = t.R(std::size_t(c), std::size_t(i), std::size_t(k));
    }
    auto it = [&] {  // train both conditions, then test and score each with pVar
        for (int c = 0; c < 2; ++c) trial(c, true);
        for (int c = 0; c < 2; ++c) {
            trial(c, false);
            const double d = (R[c] - rates).squaredNorm(), v = (R[c].array() - R[c].mean()).square().sum();
            benchmark::DoNotOptimize(1.0 - d / v);
        }
    };
    it();
    double total = 0;
    for (auto _ : st) {
        const auto t0 = std::chrono::steady_clock::now();
        it();
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        st.SetIterationTime(sec);
        total += sec;
    }
    counters(st, total / double(st.iterations()), false);
    g_reference["iteration"] = total / double(st.iterations());
}

/// Two realisations, one iteration each: sequentially or one thread per realisation.
void BM_realizations(benchmark::State& st, bool concurrent) {
    const Task& t = task();
    const auto h0 = t.inputs(1), h1 = t.inputs(2);
    const auto n0 = t.network(1), n1 = t.network(2);
    // Reference weights: one iteration each, sequentially.
    Matrix<double> ref[2];
    {
        ForceTrainer a(n0, t.R, h0, options()), b(n1, t.R, h1, options());
        iteration(a);
        iteration(b);
        ref[0] = a.network().weights();
        ref[1] = b.network().weights();
    }
    bool identical = true;
    double total = 0;
    for (auto _ : st) {
        ForceTrainer a(n0, t.R, h0, options()), b(n1, t.R, h1, options());
        const auto t0 = std::chrono::steady_clock::now();
        if (concurrent) {
            std::thread other([&] { iteration(b); });
            iteration(a);
            other.join();
        } else {
            iteration(a);
            iteration(b);
        }
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        st.SetIterationTime(sec);
        total += sec;
        identical = identical && a.network().weights() == ref[0] && b.network().weights() == ref[1];
    }
    st.counters["per_realization_iteration"] = total / double(st.iterations()) / 2;
    st.counters["identical"] = identical ? 1 : 0;
    if (concurrent && g_reference.count("sequential"))
        st.counters["speedup"] = g_reference["sequential"] / (total / double(st.iterations()));
    if (!concurrent) g_reference["sequential"] = total / double(st.iterations());
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::RegisterBenchmark("force_training/iteration/straightforward/87", BM_straightforward)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    benchmark::RegisterBenchmark("force_training/iteration/87",
                                 [](benchmark::State& s) { BM_neurodyn(s, ForceProtocol::textbook); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    // The seed protocol: two passes over P per learning step (its gain of the updated P).
    benchmark::RegisterBenchmark("force_training/iteration/seed/87",
                                 [](benchmark::State& s) { BM_neurodyn(s, ForceProtocol::seed); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    benchmark::RegisterBenchmark("force_training/realizations/sequential/87/2",
                                 [](benchmark::State& s) { BM_realizations(s, false); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    benchmark::RegisterBenchmark("force_training/realizations/concurrent/87/2",
                                 [](benchmark::State& s) { BM_realizations(s, true); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(1.0);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
