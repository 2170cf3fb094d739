// Loading and analysing one ALM session (87 units, 300 trials, synthetic, written in the
// original MATLAB layout, zlib-compressed): the time to read the file, the time of the
// analyses (delay selectivity, cue-aligned single-trial PSTHs at 10 ms, coding direction
// fit/projection/normalisation, variability of selective units, 1-ms FORCE targets), and
// both together — the issue asks for < 2 s.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/analysis/psth.hpp"
#include "neurodyn/analysis/selectivity.hpp"
#include "neurodyn/analysis/targets.hpp"
#include "neurodyn/analysis/variability.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/matlab_session.hpp"

using namespace neurodyn;
namespace fs = std::filesystem;

namespace {
const fs::path& session_file() {
    static const fs::path file = [] {
        const fs::path p = fs::temp_directory_path() / "neurodyn_bench_session.mat";
        SyntheticSessionOptions o;  // 87 units, 300 trials
        o.seed = 5;
        save_matlab_session(synthetic_session(o), p, MatCompression::zlib);
        return p;
    }();
    return file;
}

// Everything alm_session_analysis computes (without writing files).
double analyse(const Session& s) {
    const auto sel = delay_selectivity<double>(s);
    const auto selective = selective_units(sel);
    const auto trials = s.trials_where(TrialFilter::analysed);
    PsthOptions opt;
    opt.stride = 10;
    const PsthGrid grid(s, opt);
    const auto rates = psth_tensor<float>(s, trials, opt);
    std::vector<std::size_t> right, left;
    for (std::size_t a = 0; a < trials.size(); ++a) {
        if (s.trials[trials[a]].response == 1) right.push_back(a);
        if (s.trials[trials[a]].response == 2) left.push_back(a);
    }
    Rng rng(1);
    auto [train_r, test_r] = split_half(right, rng);
    auto [train_l, test_l] = split_half(left, rng);
    const double cue = grid.aligned_cue();
    auto cd = CodingDirection<float>::fit(rates, train_r, train_l, {grid.index_at(cue - 0.4), grid.index_at(cue)});
    cd.normalise(cd.endpoints(cd.project(rates, test_r)), cd.endpoints(cd.project(rates, test_l)));
    std::vector<std::size_t> all(trials.size());
    for (std::size_t a = 0; a < all.size(); ++a) all[a] = a;
    const Matrix<float> proj = cd.project(rates, all);
    double check = double(proj.sum());
    if (!selective.empty()) check += double(across_trial_variability<float>(rates, {right, left}, selective).sum());
    const auto targets = session_targets<double>(s);
    return check + targets(0, 0, 0);
}
}  // namespace

static void BM_ReadSessionFile(benchmark::State& state) {
    const auto& f = session_file();
    for (auto _ : state) {
        Session s = load_matlab_session(f);
        benchmark::DoNotOptimize(s.units.data());
    }
    state.counters["file_MB"] = double(fs::file_size(f)) / 1e6;
}
BENCHMARK(BM_ReadSessionFile)->Unit(benchmark::kMillisecond);

static void BM_AnalyseSession(benchmark::State& state) {
    const Session s = load_matlab_session(session_file());
    for (auto _ : state) benchmark::DoNotOptimize(analyse(s));
    state.counters["units"] = double(s.n_units());
    state.counters["trials"] = double(s.n_trials());
}
BENCHMARK(BM_AnalyseSession)->Unit(benchmark::kMillisecond);

static void BM_LoadAndAnalyseSession(benchmark::State& state) {
    const auto& f = session_file();
    for (auto _ : state) benchmark::DoNotOptimize(analyse(load_matlab_session(f)));
}
BENCHMARK(BM_LoadAndAnalyseSession)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
