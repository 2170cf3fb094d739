// alm_surrogate_session: write a surrogate ALM recording session (heterogeneous units reading a
// latent choice state that converges to one of two attractors during the delay; correct,
// error and photoinhibition trials) as a MATLAB file in the layout of the Inagaki et al. 2019
// recordings, which alm_session_analysis --session and rajan_force_training --session read.
//
//   alm_surrogate_session --units 87 --trials-per-type 40 --seed 1 --out FILE.mat
//                         [--stim-trials-per-power 5] [--threads 0] [--statistics] [--uncompressed]
//
// The model is include/neurodyn/experiments/alm_surrogate_session.hpp. --statistics reads the
// written file back through the MATLAB loader and prints the statistics of
// experiments/session_statistics.hpp (delay-selective units, variability, bVar, CD endpoints,
// go-cue responses); docs/surrogate_session.md lists them for the default sizes.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <string>

#include "neurodyn/experiments/session_statistics.hpp"
#include "neurodyn/experiments/alm_surrogate_session.hpp"
#ifdef NEURODYN_HAS_MATIO
#include "neurodyn/io/matlab_session.hpp"
#endif
#include "support/program.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;

namespace {
/// The statistics as "name value" lines (two values: right and left trials).
void print_statistics(const SessionStatistics& st, std::ostream& os) {
    const auto both = [&](const char* name, const double (&v)[2]) {
        os << std::left << std::setw(40) << name << v[0] << " (right) " << v[1] << " (left)\n";
    };
    const auto one = [&](const char* name, double v) { os << std::left << std::setw(40) << name << v << '\n'; };
    os << std::setprecision(3);
    one("units", double(st.units));
    os << std::left << std::setw(40) << "correct control trials" << st.correct_trials[0] << " (right) "
       << st.correct_trials[1] << " (left)\n";
    one("error fraction (control)", st.error_fraction);
    for (const auto& [code, frac, n] : st.stim_error_fraction)
        os << std::left << std::setw(40) << ("error fraction (stim code " + examples::num(code) + ")") << frac
           << " (" << n << " trials)\n";
    os << std::left << std::setw(40) << "unit rates p5 / p50 / p95 (Hz)" << st.rate_p5 << " / " << st.rate_p50
       << " / " << st.rate_p95 << '\n';
    one("delay-selective fraction", st.selective_fraction);
    both("variability pre-sample (Hz)", st.variability_pre);
    both("variability end of delay (Hz)", st.variability_end);
    both("variability end / pre-sample", st.variability_ratio);
    both("bVar", st.bvar);
    both("CD endpoint SD (held-out correct)", st.endpoint_sd);
    one("CD endpoints Ashman's D", st.ashman_d);
    one("CD endpoints bimodality coefficient", st.bimodality);
    one("go-cue responsive fraction", st.cue_fraction);
}
}  // namespace

int main(int argc, char** argv) {
    AlmSurrogateOptions o;
    std::string out;
    bool statistics = false, uncompressed = false;
    const auto setup = [&](CLI::App& app) {
        app.add_option("--units", o.units, "units")->capture_default_str()->check(examples::count_in(1, 100000));
        app.add_option("--trials-per-type", o.trials_per_type, "control trials of each type (right, left)")
            ->capture_default_str()
            ->check(examples::count_in(1, 1000000));
        app.add_option("--stim-trials-per-power", o.stim_trials_per_power,
                       "photoinhibition trials of each type at each of the light powers")
            ->capture_default_str()
            ->check(examples::count_in(0, 1000000));
        app.add_option("--seed", o.seed, "seed of every random stream")->capture_default_str();
        app.add_option("--threads", o.threads, "threads (0: OpenMP default); the file does not depend on it")
            ->check(examples::thread_count());
        app.add_option("--out", out, "the .mat file to write (atomically)")->required();
        app.add_flag("--statistics", statistics, "read the file back and print its statistics");
        app.add_flag("--uncompressed", uncompressed, "plain MAT v5 (as SciPy writes) instead of zlib-compressed");
    };
    const std::string about = "Write a surrogate ALM session (MATLAB file, Inagaki 2019 layout)";
    return examples::run_program(argc, argv, about, setup, [&] {
#ifndef NEURODYN_HAS_MATIO
        (void)statistics, (void)uncompressed;
        throw error("built without matio (libmatio-dev): cannot write '" + out + "'");
#else
        require(!out.empty(), "--out", "''", "must name a file");
        if (fs::is_directory(out)) throw file_error(out, "", "is a directory; --out names the .mat file to write");
        o.validate();  // every size is checked before anything is allocated
        o.progress = examples::progress_printer("surrogate session");
        const examples::Stopwatch seconds;
        const Session s = alm_surrogate_session(o);
        save_matlab_session(s, out, uncompressed ? MatCompression::none : MatCompression::zlib);
        std::cerr << "wrote " << out << ": " << s.n_units() << " units, " << s.n_trials() << " trials in "
                  << examples::num(seconds(), 3) << " s\n";
        if (statistics) print_statistics(session_statistics(load_matlab_session(out)), std::cout);
#endif
    });
}
