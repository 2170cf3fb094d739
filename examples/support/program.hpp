#pragma once
// What the example programs share: a main() wrapper that turns every failure into one line on
// stderr and an exit code below 128, CLI11 validators that reject NaN, infinities, negative
// counts and absurd thread counts where the option is parsed, the option groups several
// programs repeat, and small figure/table helpers.
//
//   int main(int argc, char** argv) {
//       double window = 400;
//       neurodyn::examples::OutputOptions out;
//       return neurodyn::examples::run_program(argc, argv, "What the program does",
//           [&](CLI::App& app) {
//               app.add_option("--window-ms", window, "window, ms")->check(neurodyn::examples::finite_in(1, 2000));
//               neurodyn::examples::add_output_options(app, out);
//           },
//           [&] {
//               neurodyn::OutputFolder folder(out.dir);
//               ...                     // write into folder.path()
//               folder.commit();
//           });
//   }
// Every standard header CLI11 includes comes first, so that the pragma below applies to CLI11's
// own functions only.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <limits>
#include <locale>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
// CLI11 is header-only: at -O3 every program spent ~12 s of CPU optimising its parser, which
// runs once per process. Compiled without optimisation it costs ~5 s (GCC only).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O0")
#endif
#include <CLI/CLI.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <type_traits>

#include <unistd.h>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/output_folder.hpp"

namespace neurodyn::examples {

// ---- main() ---------------------------------------------------------------------------------

/// `message` on one line: newlines and tabs become spaces, the library's "neurodyn: " prefix
/// goes (the program's name replaces it), trailing blanks are dropped.
inline std::string one_line(std::string message) {
    for (char& c : message)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (message.rfind("neurodyn: ", 0) == 0) message.erase(0, 10);
    while (!message.empty() && message.back() == ' ') message.pop_back();
    return message.empty() ? "failed" : message;
}

/// Exit codes: 0 success (and --help), 2 a bad command line or parameter, 1 anything else.
enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

inline int report_failure(const std::string& program, const std::string& message, int code) noexcept {
    try {
        std::cerr << program << ": " << one_line(message) << std::endl;
    } catch (...) {
    }
    return code;
}

/// Runs a program: `setup(CLI::App&)` declares the options, the command line is parsed, then
/// `body()` runs (returning void or an exit code). Every exception ends here as one line
/// "program: message" on stderr and exit code 1 or 2; --help prints the usage and returns 0.
template <class Setup, class Body>
int run_program(int argc, char** argv, const std::string& description, Setup&& setup, Body&& body) noexcept {
    const std::string program =
        argc > 0 && argv[0] ? std::filesystem::path(argv[0]).filename().string() : std::string("program");
    try {
        CLI::App app{description, program};
        setup(app);
        try {
            app.parse(argc, argv);
        } catch (const CLI::Success& e) {  // --help
            return app.exit(e);
        } catch (const CLI::ParseError& e) {
            return report_failure(program, e.what(), exit_usage);
        }
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            return exit_ok;
        } else {
            return int(body());
        }
    } catch (const invalid_parameter& e) {
        return report_failure(program, e.what(), exit_usage);
    } catch (const error& e) {
        return report_failure(program, e.what(), exit_failure);
    } catch (const std::filesystem::filesystem_error& e) {
        return report_failure(program, e.what(), exit_failure);
    } catch (const std::bad_alloc&) {
        return report_failure(program, "out of memory (try fewer trials, realisations or units)", exit_failure);
    } catch (const std::exception& e) {
        return report_failure(program, e.what(), exit_failure);
    } catch (...) {
        return report_failure(program, "unknown error", exit_failure);
    }
}

// ---- validators -----------------------------------------------------------------------------
// CLI11 runs validators on each element of a list option (delimiter ','), before converting.

/// A finite number in [lo, hi] (CLI::Range lets NaN through: every comparison with NaN is false).
inline CLI::Validator finite_in(double lo, double hi, const std::string& name = "") {
    std::ostringstream d;
    d << "finite number in [" << lo << ", " << hi << "]";
    return CLI::Validator(
        [lo, hi](std::string& input) -> std::string {
            double v = 0;
            if (!CLI::detail::lexical_cast(input, v)) return input + " is not a number";
            if (!std::isfinite(v)) return input + " is not a finite number";
            if (v < lo || v > hi) {
                std::ostringstream os;
                os << input << " is outside [" << lo << ", " << hi << "]";
                return os.str();
            }
            return {};
        },
        name.empty() ? d.str() : name);
}
/// Any finite number.
inline CLI::Validator finite() {
    constexpr double big = std::numeric_limits<double>::max();
    return finite_in(-big, big, "FINITE");
}
/// A finite number >= 0.
inline CLI::Validator non_negative() { return finite_in(0, std::numeric_limits<double>::max(), "FINITE >= 0"); }
/// A finite number > 0.
inline CLI::Validator positive() {
    return finite_in(std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(), "FINITE > 0");
}

/// An integer in [lo, hi]. Checked on the text, so "-1" for an unsigned option is refused
/// instead of wrapping around to 2^64 - 1.
inline CLI::Validator count_in(long long lo, long long hi) {
    return CLI::Validator(
        [lo, hi](std::string& input) -> std::string {
            long long v = 0;
            if (!CLI::detail::lexical_cast(input, v)) return input + " is not an integer";
            if (v < lo || v > hi)
                return input + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
            return {};
        },
        "integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}
/// A thread count: 0 (the OpenMP default) up to the library's bound (8 per hardware thread).
inline CLI::Validator thread_count() { return count_in(0, max_thread_count()); }
/// An index: an integer >= 0 (an option left out keeps its default, e.g. "the best").
inline CLI::Validator index() {
    return CLI::Validator(
        [](std::string& input) -> std::string {
            long long v = 0;
            if (!CLI::detail::lexical_cast(input, v)) return input + " is not an integer";
            if (v < 0 || v > std::numeric_limits<int>::max())
                return input + " must be an index >= 0 (leave the option out for the default)";
            return {};
        },
        "INDEX >= 0");
}

// ---- option groups --------------------------------------------------------------------------

/// --out and --no-figures.
struct OutputOptions {
    std::string dir;
    bool no_figures = false;
};
/// `default_dir` empty: --out is required.
inline void add_output_options(CLI::App& app, OutputOptions& o, const std::string& default_dir = "") {
    auto* out = app.add_option("--out", o.dir, "output folder (replaced as a whole when the run succeeds)");
    if (default_dir.empty())
        out->required();
    else
        o.dir = default_dir, out->capture_default_str();
    app.add_flag("--no-figures", o.no_figures, "write data only");
}

/// --threads: OpenMP threads, 0 (the default) for the OpenMP default, up to the library's bound.
inline CLI::Option* add_threads_option(CLI::App& app, int& threads, const std::string& what = "OpenMP threads (0: default)") {
    return app.add_option("--threads", threads, what)->check(thread_count());
}

/// The trained network of the robustness and structure programs: a training folder, or one
/// network trained on the fly on a synthetic session.
struct TrainedNetworkOptions {
    std::string training_dir;
    index_t realization = -1;  ///< -1: the folder's best (the option takes only >= 0)
    std::size_t neurons = 87;
    std::uint64_t data_seed = 1;
    int iterations = 50;
    std::uint64_t train_seed = 1;
};
inline void add_trained_network_options(CLI::App& app, TrainedNetworkOptions& o) {
    app.add_option("--training", o.training_dir, "training folder written by rajan_force_training");
    app.add_option("--realization", o.realization, "realisation of the training folder (default: its best)")
        ->check(index());
    auto* fly = app.add_option_group("training on the fly (without --training)");
    fly->add_option("--iterations", o.iterations, "iteration cap")->check(count_in(1, 100000));
    fly->add_option("--neurons", o.neurons, "units of the synthetic session")->check(count_in(1, 100000));
    fly->add_option("--data-seed", o.data_seed, "seed of the synthetic session");
    fly->add_option("--train-seed", o.train_seed, "seed of the network and its inputs");
}

/// Where training targets come from: a .npy file, a MATLAB session, or a synthetic session
/// (--synthetic session|simple with --neurons, --session-trials, --data-seed).
struct TargetSourceOptions {
    std::string targets_file, session_file;
    std::string synthetic = "session";
    std::size_t neurons = 87;
    long session_trials = 300;
    std::uint64_t data_seed = 1;
};
inline void add_target_source_options(CLI::App& app, TargetSourceOptions& o) {
    app.add_option("--targets", o.targets_file, "float64 .npy, shape (2, neurons, 1-ms steps): right, left");
    app.add_option("--session", o.session_file, "ALM session .mat file (targets: correct-trial PSTHs)");
    auto* syn = app.add_option_group("synthetic targets");
    syn->add_option("--synthetic", o.synthetic,
                    "without --targets/--session: 'session' (PSTHs of a synthetic ALM session from the attractor "
                    "model) or 'simple' (generator of ALM-like response types)")
        ->check(CLI::IsMember({"session", "simple"}));
    syn->add_option("--neurons", o.neurons, "synthetic targets: units")->check(count_in(1, 100'000));
    syn->add_option("--session-trials", o.session_trials, "synthetic session: trials")->check(count_in(2, 100'000));
    syn->add_option("--data-seed", o.data_seed, "seed of the synthetic data (the networks use --seed)");
}

// ---- small helpers --------------------------------------------------------------------------

/// Seconds since construction.
struct Stopwatch {
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    double operator()() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
};

/// A number as text, shortest form (for titles and captions).
inline std::string num(double v, int precision = 6) {
    std::ostringstream os;
    os.precision(precision);
    os << v;
    return os.str();
}

/// A data file of the figure's folder, as gnuplot (run in that folder) names it.
inline std::string q(const std::filesystem::path& p) { return gnuplot_quote(p.filename().string()); }

/// True when figures are wanted and gnuplot can draw them (says so on stderr otherwise).
inline bool figures_wanted(const OutputOptions& o) {
    if (o.no_figures) return false;
    if (gnuplot_available()) return true;
    std::cerr << "gnuplot not found: figures skipped\n";
    return false;
}

/// gnuplot commands for a time-course figure on the common axis of the programs: seconds from
/// the go cue (0). Shades the sample (light yellow) and delay (light grey) epochs behind the
/// data, labels sample, delay and response at the top, draws the go cue, and — when
/// light_from_s < light_to_s — shades the light window in blue and labels it "light". Uses
/// objects and labels 101.. so that a figure's own ones stay untouched.
inline std::string epoch_shading(double sample_s, double delay_s, double cue_s, double light_from_s = 0,
                                 double light_to_s = 0) {
    std::ostringstream g;
    g << "set object 101 rect from first " << sample_s << ", graph 0 to first " << delay_s
      << ", graph 1 behind fc rgb '#fff3c4' fs solid 1.0 noborder\n"
      << "set object 102 rect from first " << delay_s << ", graph 0 to first " << cue_s
      << ", graph 1 behind fc rgb '#ececec' fs solid 1.0 noborder\n"
      << "set arrow 101 from first " << cue_s << ", graph 0 to first " << cue_s
      << ", graph 1 nohead lw 1.5 lc rgb 'gray40'\n"
      << "set label 101 'sample' at first " << 0.5 * (sample_s + delay_s) << ", graph 0.97 center front tc rgb 'gray30'\n"
      << "set label 102 'delay' at first " << 0.5 * (delay_s + cue_s) << ", graph 0.97 center front tc rgb 'gray30'\n"
      << "set label 103 'response' at first " << cue_s << ", graph 0.97 left offset 0.5,0 front tc rgb 'gray30'\n";
    if (light_from_s < light_to_s)
        g << "set object 103 rect from first " << light_from_s << ", graph 0 to first " << light_to_s
          << ", graph 1 behind fc rgb '#6baed6' fs transparent solid 0.3 noborder\n"
          << "set label 104 'light' at first " << 0.5 * (light_from_s + light_to_s)
          << ", graph 0.04 center front tc rgb '#08519c'\n";
    return g.str();
}

/// A matrix as whitespace-separated text (gnuplot's `matrix with image`).
template <class M>
void write_matrix(const std::filesystem::path& p, const M& m) {
    write_atomically(p, [&](std::ostream& os) {
        os.precision(6);
        for (index_t i = 0; i < m.rows(); ++i) {
            for (index_t j = 0; j < m.cols(); ++j) os << (j ? " " : "") << m(i, j);
            os << '\n';
        }
    });
}

/// Progress on stderr: an updating line on a terminal, a line per quarter otherwise.
inline std::function<void(long, long)> progress_printer(const std::string& what, const std::string& unit = "trials") {
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    auto last = std::make_shared<long>(-1);
    return [what, unit, last, tty](long done, long total) {
        const long step = tty ? 5 : 25;
        const long pct = 100 * done / std::max(1L, total);
        if (pct / step == *last / step && done != total) return;
        *last = pct;
        std::cerr << (tty ? "\r" : "") << what << ": " << done << "/" << total << " " << unit
                  << (tty && done != total ? "" : "\n") << std::flush;
    };
}

}  // namespace neurodyn::examples
