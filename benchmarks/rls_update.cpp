// Cost of one FORCE training step (Euler update, RLS update of P, update of J) for the
// library's fused implementation and a straightforward Eigen one, in the same binary.
//
//   force_step/<impl>/<scalar>/<policy>/<N>   impl: neurodyn | straightforward
//                                             scalar: double | float, policy: all | readout
//
// One benchmark iteration is one training trial of K steps (K = 2000, 200 or 40 by N), timed
// manually. Counters: per_step (time per step), bytes_per_second
// (the bytes each implementation must move per step, see below), `speedup` (straightforward
// time / neurodyn time, on neurodyn rows), `bound` (best-trial time per step / (bytes of
// the fused step at the machine's bandwidth); 1 = as fast as memory allows), `allocs` (heap
// allocations per step), `per_step_best` (fastest trial, per step) and `triad_GBps` (the
// bandwidth `bound` uses), `cpu_per_step` (CPU time of the benchmark thread per step: on a
// loaded machine the figure to compare for single-threaded steps, N < 384) and `cpu_speedup`
// (straightforward / neurodyn CPU time).
//
// Bytes per step (s = sizeof(scalar)):
//   neurodyn all:             P lower triangle read+write (N²·s) + J read+write (2N²·s) = 3N²·s
//                             (= 24·N² bytes in double); up to rls_whole_max_size (128) P is
//                             stored whole (2N²·s): 4N²·s
//   straightforward all:      P·r (N²s) + P rank-1 (2N²s) + J·r (N²s) + J rank-1 (2N²s) + J·r (N²s) = 7N²·s
//   neurodyn readout:         P lower triangle read+write (N²s) + J·r for the dynamics (N²s) = 2N²·s
//                             (3N²·s up to rls_whole_max_size)
//   straightforward readout:  P·r (N²s) + P rank-1 (2N²s) + J·r (N²s) = 4N²·s
// The bandwidth is a STREAM triad a = b + s·c over 3 × 64 MiB arrays, counting 4 × 8 bytes
// per element (two reads, one write and the write-allocate read), best of 1 and 2 threads,
// measured at start-up (reported as stream_triad/threads:<t>; `rmw_pass/<N>/threads:<t>` is a
// plain read-modify-write pass over the same 24·N² bytes as the double step, against the best
// of a second triad measurement: the most a fused step could reach; `rmw_pass/87/threads:1` is
// the same pass over the 182 KB of the N = 87 step, which stay in L2: that step's floor) and
// again right before each force_step benchmark (`triad_GBps`), because on a shared VM host the
// bandwidth drifts from one second to the next. Both sides of `bound` are best-of figures: the fastest triad
// repetition against the fastest trial. The triad's 192 MiB far exceed the 32 MiB L3; the
// steps' working sets do from N = 2048 on (48 MiB there).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "neurodyn/learn/force_trainer.hpp"

using namespace neurodyn;
using namespace neurodyn::learn;

// ---- allocation counter ------------------------------------------------------------------
// Replacing the global operators is allowed; GCC cannot see that new and delete match here.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<long> g_allocs{0};
void* operator new(std::size_t n) {
    ++g_allocs;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

/// CPU time of the calling thread (s): on a loaded machine it leaves out the time the thread
/// waits for a core (meaningful for single-threaded steps, N < rls_parallel_min_size).
double thread_cpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
std::map<std::string, double> g_straightforward_cpu;

std::map<std::string, double> g_straightforward_seconds;

/// STREAM triad with `threads` threads; returns bytes/s (best of reps − 1: the first
/// repetition starts the threads and faults the pages in, and is not counted).
double triad(int threads, int reps = 21) {
    const std::size_t n = std::size_t(8) << 20;  // 8 Mi doubles = 64 MiB per array
    std::vector<double> a(n, 0.0), b(n, 1.0), c(n, 2.0);
    double best = 0;
    for (int rep = 0; rep < reps; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
        for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + 3.0 * c[i];
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        benchmark::DoNotOptimize(a.data());
        if (rep > 0) best = std::max(best, 4.0 * 8.0 * double(n) / s);
    }
    (void)threads;
    return best;
}

int g_threads_max = 1;

/// Best triad bandwidth over 1 … g_threads_max threads, measured now.
double best_bandwidth() {
    double bw = 0;
    for (int t = 1; t <= g_threads_max; ++t) bw = std::max(bw, triad(t, 9));
    return bw;
}

/// The floor of a fused step: one read-modify-write pass y ← 0.999·y + 0.001 over the same
/// number of bytes as the double step at N (1.5·N² doubles, 24·N² bytes read + written),
/// `threads` threads, static split. Returns seconds (best of reps − 1).
double rmw_pass(int threads, index_t n, int reps = 21) {
    const std::size_t m = std::size_t(3 * n * n / 2);
    std::vector<double> y(m, 1.0);
    // Cache-resident sizes (N = 87: 182 KB, in L2) repeat the pass to time more than a
    // microsecond; the best mean pass of the repetitions is kept.
    const int inner = n <= 256 ? 2000 : 1;
    double best = 1e300;
    for (int rep = 0; rep < reps; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < inner; ++k) {
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
#endif
            for (std::size_t i = 0; i < m; ++i) y[i] = 0.999 * y[i] + 0.001;
            benchmark::DoNotOptimize(y.data());
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / inner;
        if (rep > 0) best = std::min(best, s);
    }
    (void)threads;
    return best;
}

void BM_rmw(benchmark::State& state, int threads, index_t n, double seconds, double triad_bytes_per_s) {
    for (auto _ : state) benchmark::DoNotOptimize(seconds);
    const double bytes = 24.0 * double(n) * double(n);
    state.counters["threads"] = threads;
    state.counters["per_pass"] = seconds;
    state.counters["bandwidth_GBps"] = bytes / seconds / 1e9;
    state.counters["vs_triad"] = bytes / seconds / triad_bytes_per_s;  // fraction of best triad
    state.counters["bound"] = seconds / (bytes / triad_bytes_per_s);   // as force_step's bound
}

void BM_triad(benchmark::State& state, int threads, double bytes_per_s) {
    for (auto _ : state) benchmark::DoNotOptimize(bytes_per_s);
    state.counters["threads"] = threads;
    state.counters["bandwidth_GBps"] = bytes_per_s / 1e9;
}

/// Steps per timed trial: the per-trial start (x reset, one J·r, one P·r) is amortised over them.
index_t steps_for(index_t n) { return n <= 256 ? 2000 : n <= 1024 ? 200 : 40; }

template <class T>
struct Problem {
    index_t n, K;
    RateNetwork<Logistic<T>, T> net;
    xt::xtensor<T, 3> R, h;
    Matrix<T> feedback;
    explicit Problem(index_t n_)
        : n(n_), K(steps_for(n_)), net([&] {
              Rng rng(1);
              return RateNetwork<Logistic<T>, T>::random(n_, 1.2, 10.0, rng);
          }()) {
        R = xt::xtensor<T, 3>::from_shape({1, std::size_t(n), std::size_t(K)});
        h = xt::zeros<T>({std::size_t(1), std::size_t(n), std::size_t(K)});
        Rng rng(2);
        for (index_t i = 0; i < n; ++i)
            for (index_t k = 0; k < K; ++k)
                R(0, std::size_t(i), std::size_t(k)) =
                    T(0.5 + 0.4 * std::sin(0.01 * double(k) + double(i)) + 0.01 * rng.normal());
        feedback = Matrix<T>::Random(n, 1);
    }
};

template <class T>
const char* scalar_name() {
    return sizeof(T) == 8 ? "double" : "float";
}

std::string key(const char* scalar, const char* policy, index_t n) {
    return std::string(scalar) + "/" + policy + "/" + std::to_string(n);
}

template <class T, bool Readout>
void finish(benchmark::State& state, bool fused, index_t n, long allocs, index_t steps, double best,
            double bandwidth) {
    const double s = double(sizeof(T)), N2 = double(n) * double(n);
    // Up to rls_whole_max_size P is stored whole (read + written: 2N²·s instead of N²·s).
    const double p_bytes = n <= rls_whole_max_size ? 2.0 : 1.0;
    const double fused_bytes = (Readout ? 1.0 + p_bytes : 2.0 + p_bytes) * N2 * s;
    const double bytes = fused ? fused_bytes : (Readout ? 4.0 : 7.0) * N2 * s;
    const double per_iteration = double(steps) / double(std::max<int64_t>(1, state.iterations()));
    state.SetBytesProcessed(int64_t(bytes * double(steps)));
    state.counters["per_step"] = benchmark::Counter(per_iteration, benchmark::Counter::kIsIterationInvariantRate |
                                                                       benchmark::Counter::kInvert);
    state.counters["allocs"] = benchmark::Counter(double(allocs) / double(steps));
    state.counters["N"] = double(n);
    state.counters["per_step_best"] = best;
    state.counters["triad_GBps"] = bandwidth / 1e9;
    if (bandwidth > 0 && state.iterations() > 0) state.counters["bound"] = best / (fused_bytes / bandwidth);
}

/// The library: a training trial of K steps per outer loop, timed per step.
template <class T, bool Readout>
void BM_neurodyn(benchmark::State& state, index_t n) {
    const double bandwidth = best_bandwidth();
    Problem<T> p(n);
    ForceOptions opt;
    opt.progress = Progress::off;
    long allocs = 0;
    index_t steps = 0;
    double total = 0, best = 1e300, cpu = 0;
    auto timed = [&](auto& trainer) {
        trainer.train_trial(0);
        for (auto _ : state) {
            const long a0 = g_allocs.load();
            const double c0 = thread_cpu();
            const auto t0 = std::chrono::steady_clock::now();
            trainer.train_trial(0);
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            cpu += thread_cpu() - c0;
            allocs += g_allocs.load() - a0;
            steps += p.K;
            total += sec / double(p.K);
            best = std::min(best, sec / double(p.K));
            state.SetIterationTime(sec);
        }
        if constexpr (!Readout) state.counters["threads"] = trainer.rls().fused_tuner().threads_in_use();
    };
    if constexpr (Readout) {
        learn::Readout<T> ro{Matrix<T>::Zero(1, n), p.feedback};
        xt::xtensor<T, 3> f = xt::view(p.R, xt::all(), xt::range(0, 1), xt::all());
        ForceTrainer<learn::Readout<T>, T> trainer(p.net, f, p.h, opt, ro);
        timed(trainer);
    } else {
        ForceTrainer<AllSynapses, T> trainer(p.net, p.R, p.h, opt);
        timed(trainer);
    }
    finish<T, Readout>(state, true, n, allocs, steps, best, bandwidth);
    if (steps > 0) state.counters["cpu_per_step"] = cpu / double(steps);
    const auto it = g_straightforward_seconds.find(key(scalar_name<T>(), Readout ? "readout" : "all", n));
    if (it != g_straightforward_seconds.end() && state.iterations() > 0)
        state.counters["speedup"] = it->second / (total / double(state.iterations()));
    const auto ic = g_straightforward_cpu.find(key(scalar_name<T>(), Readout ? "readout" : "all", n));
    if (ic != g_straightforward_cpu.end() && steps > 0) state.counters["cpu_speedup"] = ic->second / (cpu / double(steps));
}

/// The straightforward Eigen step, as written from the equations.
template <class T, bool Readout>
void BM_straightforward(benchmark::State& state, index_t n) {
    const double bandwidth = best_bandwidth();
    Problem<T> p(n);
    Matrix<T> J = p.net.weights();
    Matrix<T> P = Matrix<T>::Identity(n, n);  // α = 1
    Matrix<T> W = Matrix<T>::Zero(1, n);
    Vector<T> x(n), r(n), k(n), z(n), e(n), zo(1), eo(1);
    const T a = T(0.1);
    long allocs = 0;
    index_t steps = 0;
    double total = 0, best = 1e300;
    auto trial = [&] {
        for (index_t i = 0; i < n; ++i) x[i] = std::log(p.R(0, std::size_t(i), 0) / (1 - p.R(0, std::size_t(i), 0)));
        for (index_t t = 0; t < p.K; ++t) {
            r = x.unaryExpr(Logistic<T>{});
            k.noalias() = P * r;
            const T c = T(1) / (T(1) + r.dot(k));
            P.noalias() -= (c * k) * k.transpose();
            if constexpr (Readout) {
                zo.noalias() = W * r;
                eo[0] = zo[0] - T(p.R(0, 0, std::size_t(t)));
                W.noalias() -= (c * eo) * k.transpose();
                zo.noalias() = W * r;
                z.noalias() = J * r;
                z.noalias() += p.feedback * zo;
            } else {
                z.noalias() = J * r;
                for (index_t i = 0; i < n; ++i)
                    e[i] = z[i] - std::log(p.R(0, std::size_t(i), std::size_t(t)) /
                                           (1 - p.R(0, std::size_t(i), std::size_t(t))));
                J.noalias() -= (c * e) * k.transpose();
                z.noalias() = J * r;
            }
            x += a * (z - x);
        }
    };
    trial();
    double cpu = 0;
    for (auto _ : state) {
        const long a0 = g_allocs.load();
        const double c0 = thread_cpu();
        const auto t0 = std::chrono::steady_clock::now();
        trial();
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        cpu += thread_cpu() - c0;
        allocs += g_allocs.load() - a0;
        steps += p.K;
        total += sec / double(p.K);
        best = std::min(best, sec / double(p.K));
        state.SetIterationTime(sec);
    }
    finish<T, Readout>(state, false, n, allocs, steps, best, bandwidth);
    if (steps > 0) {
        state.counters["cpu_per_step"] = cpu / double(steps);
        g_straightforward_cpu[key(scalar_name<T>(), Readout ? "readout" : "all", n)] = cpu / double(steps);
    }
    if (state.iterations() > 0)
        g_straightforward_seconds[key(scalar_name<T>(), Readout ? "readout" : "all", n)] =
            total / double(state.iterations());
}

template <class T, bool Readout>
void register_pair(index_t n) {
    const std::string tail = std::string(scalar_name<T>()) + "/" + (Readout ? "readout" : "all") + "/" + std::to_string(n);
    const double min_time = n >= 2048 ? 1.0 : 0.3;
    benchmark::RegisterBenchmark(("force_step/straightforward/" + tail).c_str(),
                                 [n](benchmark::State& s) { BM_straightforward<T, Readout>(s, n); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(min_time);
    benchmark::RegisterBenchmark(("force_step/neurodyn/" + tail).c_str(),
                                 [n](benchmark::State& s) { BM_neurodyn<T, Readout>(s, n); })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(min_time);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
#ifdef _OPENMP
    g_threads_max = std::min(2, omp_get_max_threads());
#endif
    for (int t = 1; t <= g_threads_max; ++t) {
        const double bw = triad(t);
        benchmark::RegisterBenchmark(("stream_triad/threads:" + std::to_string(t)).c_str(),
                                     [t, bw](benchmark::State& s) { BM_triad(s, t, bw); })
            ->Iterations(1);
    }
    double triad_best = 0;
    for (int t = 1; t <= g_threads_max; ++t) triad_best = std::max(triad_best, triad(t));
    {  // The floor of the N = 87 step (one thread, L2-resident): as the steps, 24·N² bytes.
        const double sec = rmw_pass(1, 87);
        benchmark::RegisterBenchmark("rmw_pass/87/threads:1", [sec, triad_best](benchmark::State& s) {
            BM_rmw(s, 1, 87, sec, triad_best);
        })->Iterations(1);
    }
    for (int t = 1; t <= g_threads_max; ++t)
        for (index_t n : {2048, 4096}) {
            const double sec = rmw_pass(t, n);
            benchmark::RegisterBenchmark(("rmw_pass/" + std::to_string(n) + "/threads:" + std::to_string(t)).c_str(),
                                         [t, n, sec, triad_best](benchmark::State& s) { BM_rmw(s, t, n, sec, triad_best); })
                ->Iterations(1);
        }
    for (index_t n : {87, 256, 512, 1024, 2048, 4096}) {
        register_pair<double, false>(n);
        register_pair<float, false>(n);
        register_pair<double, true>(n);
        register_pair<float, true>(n);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
