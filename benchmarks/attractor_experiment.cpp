// Benchmark of the Inagaki 2019 discrete-attractor experiment: 4 photoinhibition levels ×
// 1000 trials (500 right + 500 left, as the authors' N_trials = 1000 per level) × 6000 steps ×
// 4 populations, next to the straightforward route (PopulationModel + Euler + simulate() with
// dynamic vectors and hooks, one trial at a time) measured in the same binary.
//
// Counters: items_per_second = trials/s; time_per_trial_step (s, with SI prefix); bytes_per_second counts the
// state read and written per step (4 currents + 4 rates, 2 × 4 × 8 bytes).
#include <benchmark/benchmark.h>

#include "neurodyn/experiments/inagaki2019_task.hpp"
#include "neurodyn/parallel/ensemble.hpp"

using namespace neurodyn;

namespace {

void report(benchmark::State& state, long trials_per_iteration, long steps) {
    const double trials = double(trials_per_iteration) * double(state.iterations());
    state.SetItemsProcessed(int64_t(trials));
    state.SetBytesProcessed(int64_t(trials * double(steps) * 2 * 4 * sizeof(double)));
    state.counters["time_per_trial_step"] =
        benchmark::Counter(trials * double(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// The full experiment (run_inagaki2019_task): OpenMP over trials, 8 interleaved lanes per
/// kernel call, fixed-size state, ziggurat normals. Arg: threads (0 = OpenMP default).
void BM_experiment(benchmark::State& state) {
    const auto preset = inagaki2019_preset("one_hemi_multi_fp_step");
    Inagaki2019TaskOptions opt;
    opt.trials_per_type = 500;
    opt.threads = int(state.range(0));
    opt.seed = 11;
    double f = 0;
    for (auto _ : state) {
        const auto res = run_inagaki2019_task(preset, opt);
        f = res.fraction_correct(0);
        benchmark::DoNotOptimize(f);
    }
    state.counters["threads"] = ensemble_threads(opt.threads);
    state.counters["fraction_correct_pv0"] = f;
    report(state, long(preset.pv_levels.size()) * 2 * opt.trials_per_type, preset.n_steps);
}

/// The straightforward route, one trial at a time on one thread: what a user composing the
/// generic parts gets. Arg: trials per (level, type).
void BM_straightforward(benchmark::State& state) {
    const auto preset = inagaki2019_preset("one_hemi_multi_fp_step");
    const long n = state.range(0);
    long correct = 0;
    for (auto _ : state) {
        correct = 0;
        long g = 0;
        for (double pv : preset.pv_levels)
            for (auto type : {TrialType::right, TrialType::left})
                for (long k = 0; k < n; ++k, ++g) {
                    Rng stim = trial_rng(11, g, 1), noise = trial_rng(11, g, 0);
                    const Matrix<double> r = simulate_inagaki2019_trial_generic<double>(
                        preset, type, pv, PhotoinhibitionSide::bilateral, preset.stim_amp + preset.stim_sigma * stim.normal(),
                        &noise, g);
                    const auto& end = r.row(preset.delay_end_index - 1);
                    correct += (type == TrialType::right) == (end[0] > end[1]);
                }
        benchmark::DoNotOptimize(correct);
    }
    report(state, long(preset.pv_levels.size()) * 2 * n, preset.n_steps);
}

/// The fast kernel alone, one thread: 1, 4 or 8 interleaved trials (lanes) per call.
template <int B>
void BM_kernel_lanes(benchmark::State& state) {
    const auto preset = inagaki2019_preset("one_hemi_multi_fp_step");
    const Inagaki2019Simulator<double> sim(preset, PhotoinhibitionSide::bilateral);
    std::array<Inagaki2019TrialSpec, B> spec;
    spec.fill({TrialType::right, 1.0, preset.stim_amp});
    long k = 0;
    double acc = 0;
    for (auto _ : state) {
        std::array<Rng, B> noise;
        std::array<Rng*, B> ptr;
        for (int b = 0; b < B; ++b) {
            noise[std::size_t(b)] = trial_rng(3, k++, 0);
            ptr[std::size_t(b)] = &noise[std::size_t(b)];
        }
        sim.template run_lanes<B>(spec, ptr, [&](long K, const auto& r) {
            if (K == preset.delay_end_index) acc += r(0, 0);
        });
    }
    benchmark::DoNotOptimize(acc);
    report(state, B, preset.n_steps);
}

void BM_normal(benchmark::State& state) {
    Rng rng(5);
    double s = 0;
    for (auto _ : state) s += rng.normal();
    benchmark::DoNotOptimize(s);
    state.SetItemsProcessed(state.iterations());
}

void BM_normal_fast(benchmark::State& state) {
    Rng rng(5);
    double s = 0;
    for (auto _ : state) s += rng.normal_fast();
    benchmark::DoNotOptimize(s);
    state.SetItemsProcessed(state.iterations());
}

/// Batched ziggurat draws (4 per call, as the kernel): the state stays in registers.
void BM_normal_fast_batch4(benchmark::State& state) {
    Rng rng(5);
    double s = 0, b[4];
    for (auto _ : state) {
        rng.normal_fast(b, 4);
        s += b[0] + b[1] + b[2] + b[3];
    }
    benchmark::DoNotOptimize(s);
    state.SetItemsProcessed(4 * state.iterations());
}

}  // namespace

BENCHMARK(BM_experiment)->Name("attractor_experiment/one_hemi_multi_fp_step")->Arg(0)->ArgName("threads")
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_experiment)->Name("attractor_experiment/one_hemi_multi_fp_step/single_thread")->Arg(1)->ArgName("threads")
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_straightforward)->Name("attractor_experiment_straightforward/one_hemi_multi_fp_step")->Arg(10)
    ->ArgName("trials_per_type")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK_TEMPLATE(BM_kernel_lanes, 1)->Name("attractor_kernel/lanes:1")->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_kernel_lanes, 4)->Name("attractor_kernel/lanes:4")->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_kernel_lanes, 8)->Name("attractor_kernel/lanes:8")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_normal)->Name("rng/normal_polar");
BENCHMARK(BM_normal_fast)->Name("rng/normal_fast_ziggurat");
BENCHMARK(BM_normal_fast_batch4)->Name("rng/normal_fast_ziggurat_batch4");

BENCHMARK_MAIN();
