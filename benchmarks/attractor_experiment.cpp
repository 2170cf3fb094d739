// Benchmark of the Inagaki 2019 discrete-attractor experiment as users call it: 4
// photoinhibition levels × 1000 trials (500 right + 500 left, as the authors' N_trials = 1000
// per level) × 6000 steps × 4 populations.
//
//  - attractor_experiment/one_hemi_multi_fp_step: run_inagaki2019_task, i.e. the delayed-
//    response protocol over the built-in preset model (PopulationModel + Euler<Lanes> +
//    simulate() + AddInput/InputNoise hooks), OpenMP over groups of 16 lanes;
//  - attractor_experiment/user_model: the same equations written below as a user would
//    (a model struct and a policy, outside include/), run through the same public API
//    (run_delayed_response, simulate, the library's hooks), with the same 16 lanes;
//  - attractor_experiment_straightforward: one trial at a time on a dynamic Vector<double>
//    (inagaki2019_trial_rates), one thread.
//
// Counters: items_per_second = trials/s; time_per_trial_step = wall time per trial-step (s,
// with SI prefix); cpu_per_trial_step = CPU time of the whole process (all threads) per
// trial-step, the figure to compare on a shared machine (wall time there depends on the load;
// on P free cores the wall time is about cpu_per_trial_step × trial-steps / P); bytes_per_second
// counts the state read and written per step (4 currents + 4 rates, 2 × 4 × 8 bytes).
// Run: make bench, then
//   build/native/benchmarks/bench_attractor_experiment --benchmark_filter=attractor
// GCC 12 with -march=native on AVX-512 reports its own intrinsics inside Eigen's vectorised exp
// (the undefined-vector idiom) as "used uninitialized": a false positive, silenced before Eigen
// is included (a user's -Werror build does the same, or passes -Wno-uninitialized).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <benchmark/benchmark.h>

#include <array>
#include <ctime>
#include <span>

#include "neurodyn/experiments/delayed_response.hpp"
#include "neurodyn/experiments/inagaki2019_task.hpp"
#include "neurodyn/parallel/ensemble.hpp"

using namespace neurodyn;

namespace user {

/// The Inagaki et al. 2019 four-population model as a user writes it from the paper:
/// τ dh/dt = −h + W r(h) + I + u, r = s(y)·y, y = α log(1 + e^{h/α}) (the authors' formula),
/// s(y) = (U + y U τ_f)/(1 + y² U τ_D τ_f + y U (τ_D + τ_f)). Any state type X (lanes as columns).
/// Divisions by the constants τ and α are written as products with their inverses (a
/// division costs several multiplications on every element), and e^{h/α} is evaluated into
/// its own array (Eigen evaluates log(1 + exp(·)) nested in one expression more slowly).
struct FourPopulations {
    using scalar_type = double;
    Eigen::Matrix4d W;
    Eigen::Array4d I;
    double tau, alpha, U, tf, tD;
    index_t size() const { return 4; }
    template <class X>
    X rates(const X& h) const {
        const X e = (h * (1 / alpha)).exp();
        const X y = alpha * (1 + e).log();
        return (U + y * (U * tf)) / (1 + y * y * (U * tD * tf) + y * (U * (tD + tf))) * y;
    }
    template <class X>
    void derivative(const X& h, double, const X& u, X& dh) const {
        const X r = rates(h);
        dh.matrix().noalias() = W * r.matrix();
        dh = ((dh.colwise() + I) + u - h) * (1 / tau);
    }
};

/// The task for it: stimulus, ramp, light and noise from the library's hooks; 16 lanes.
struct Policy {
    static constexpr int lanes = 16;
    using X = Lanes<double, 4, lanes>;
    Inagaki2019Preset p;
    FourPopulations m{inagaki2019_weights<double>(p), inagaki2019_inputs<double>(p).array(), p.tau, p.alpha, p.U,
                      p.tau_f, p.tau_D};
    long samples() const { return p.n_steps + 1; }
    long readout_sample() const { return p.delay_end_index - 1; }
    long window_samples() const { return p.cd_window; }
    double sample_ms() const { return p.dt; }
    StimulusAmplitude stimulus_amplitude() const { return {p.stim_amp, p.stim_sigma}; }

    template <class Sink>
    AdaptiveStats run(const std::array<DelayedResponseSpec, lanes>& spec, std::uint64_t seed, Sink& sink) const {
        X stim = X::Zero(), ramp = X::Ones(), light;
        const Vector<double> drive = inagaki2019_photoinhibition_drive<double>(p);
        for (int b = 0; b < lanes; ++b) {
            const int first = spec[b].type == TrialType::right ? 0 : 1;
            stim(first, b) = stim(first + 2, b) = spec[b].stim_amp;
            light.col(b) = spec[b].pv * drive.array();
        }
        AddInput<X> s(stim, BoxPulse(p.stim_start, p.stim_end)), l(light, BoxPulse(p.pv_start, p.pv_end));
        AddInput<X, Ramp> r(ramp, Ramp{p.ramp_start, p.ramp_ms, p.ramp_amp});
        InputNoise<X> noise({.sigma = p.sigma_noise});
        struct Watch {  // sample k = the authors' rate index K − 1: r(K) = G(h after K − 2 steps)
            const FourPopulations* m;
            Sink* sink;
            long k = 1;
            void on_step(double, X& h) {
                if (!sink->wants(++k)) return;
                const X rt = m->rates(h);
                for (int b = 0; b < lanes; ++b) sink->put(k, b, rt(0, b), rt(1, b));
            }
        } watch{&m, &sink};
        X h = X::Constant(p.h0);
        const X r0 = m.rates(h);
        for (int b = 0; b < lanes; ++b) {
            sink.put(0, b, 0.0, 0.0);
            sink.put(1, b, r0(0, b), r0(1, b));
        }
        Euler<double, X> euler;
        simulate(Trial{spec[0].index, seed}, m, euler, h, TimeGrid(p.dt, p.n_steps), NoInput{}, noise, s, r, l, watch);
        return {};
    }
};

}  // namespace user

namespace {

/// Process CPU time (all threads), seconds.
double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

void report(benchmark::State& state, long trials_per_iteration, long steps, double cpu_seconds) {
    const double trials = double(trials_per_iteration) * double(state.iterations());
    state.counters["cpu_per_trial_step"] = cpu_seconds / (trials * double(steps));
    state.SetItemsProcessed(int64_t(trials));
    state.SetBytesProcessed(int64_t(trials * double(steps) * 2 * 4 * sizeof(double)));
    state.counters["time_per_trial_step"] =
        benchmark::Counter(trials * double(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// The full experiment (run_inagaki2019_task). Arg: threads (0 = OpenMP default).
void BM_experiment(benchmark::State& state) {
    const auto preset = inagaki2019_preset("one_hemi_multi_fp_step");
    Inagaki2019TaskOptions opt;
    opt.trials_per_type = 500;
    opt.threads = int(state.range(0));
    opt.seed = 11;
    double f = 0;
    const double c0 = process_cpu_seconds();
    for (auto _ : state) {
        const auto res = run_inagaki2019_task(preset, opt);
        f = res.fraction_correct(0);
        benchmark::DoNotOptimize(f);
    }
    state.counters["threads"] = ensemble_threads(opt.threads);
    state.counters["fraction_correct_pv0"] = f;
    report(state, long(preset.pv_levels.size()) * 2 * opt.trials_per_type, preset.n_steps, process_cpu_seconds() - c0);
}

/// The same experiment with the user's model and policy above. Arg: threads.
void BM_user_model(benchmark::State& state) {
    const user::Policy policy{inagaki2019_preset("one_hemi_multi_fp_step")};
    DelayedResponseOptions opt;
    opt.trials_per_type = 500;
    opt.threads = int(state.range(0));
    opt.seed = 11;
    opt.pv_levels = policy.p.pv_levels;
    double f = 0;
    const double c0 = process_cpu_seconds();
    for (auto _ : state) {
        const auto res = run_delayed_response(policy, opt);
        f = res.fraction_correct(0);
        benchmark::DoNotOptimize(f);
    }
    state.counters["threads"] = ensemble_threads(opt.threads);
    state.counters["fraction_correct_pv0"] = f;
    report(state, long(opt.pv_levels.size()) * 2 * opt.trials_per_type, policy.p.n_steps, process_cpu_seconds() - c0);
}

/// The straightforward route, one trial at a time on one thread (dynamic Vector<double>).
/// Arg: trials per (level, type).
void BM_straightforward(benchmark::State& state) {
    const auto preset = inagaki2019_preset("one_hemi_multi_fp_step");
    const long n = state.range(0);
    long correct = 0;
    const double c0 = process_cpu_seconds();
    for (auto _ : state) {
        correct = 0;
        long g = 0;
        for (double pv : preset.pv_levels)
            for (auto type : {TrialType::right, TrialType::left})
                for (long k = 0; k < n; ++k, ++g) {
                    Rng stim = trial_rng(11, g, 1);
                    const Inagaki2019TrialSpec spec{type, pv, preset.stim_amp + preset.stim_sigma * stim.normal()};
                    const Matrix<double> r =
                        inagaki2019_trial_rates<double>(preset, PhotoinhibitionSide::bilateral, spec, true, 11, g);
                    const auto& end = r.row(preset.delay_end_index - 1);
                    correct += (type == TrialType::right) == (end[0] > end[1]);
                }
        benchmark::DoNotOptimize(correct);
    }
    report(state, long(preset.pv_levels.size()) * 2 * n, preset.n_steps, process_cpu_seconds() - c0);
}

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
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_user_model)->Name("attractor_experiment/user_model")->Arg(0)->ArgName("threads")
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_experiment)->Name("attractor_experiment/one_hemi_multi_fp_step/single_thread")->Arg(1)->ArgName("threads")
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_user_model)->Name("attractor_experiment/user_model/single_thread")->Arg(1)->ArgName("threads")
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_straightforward)->Name("attractor_experiment_straightforward/one_hemi_multi_fp_step")->Arg(10)
    ->ArgName("trials_per_type")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_normal_fast_batch4)->Name("rng/normal_fast_ziggurat_batch4");

BENCHMARK_MAIN();
