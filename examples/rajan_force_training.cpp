// rajan_force_training: train random logistic (or, --transfer tanh, tanh) rate networks (one
// unit per recorded neuron) with all-synapse FORCE/RLS on trial-averaged right/left rates,
// Rajan, Harvey & Tank 2016 style, and keep the realisations whose delay selectivity agrees
// with the targets.
//
//   rajan_force_training [--targets FILE.npy | --session FILE.mat | --synthetic session|simple]
//                        [--variant raw|suppressed] [--realizations K] [--iterations M] [--seed S]
//                        [--data-seed D] [--checkpoint-dir D] [--protocol textbook|seed]
//                        [--transfer logistic|tanh] --out DIR [--no-figures]
//
// --transfer tanh trains tanh networks: the targets are normalised jointly and mapped into
// (-1, 1) (2 z - 1) and trained through atanh; the folder records "transfer": "tanh", and
// noise_robustness / network_structure load it as a tanh network.
//
// --protocol seed trains as the Python study did (docs/force_training.md, "The seed protocol"):
// state carried over from 0, P(0) = 10 I (unless --alpha), the double-discounted update, logit
// clip 1e-5, the study's pVar and frozen input; the folder records it, with the study's shared
// noise model for the perturbation programs.
//
// Targets: float64 .npy of shape (2, neurons, steps of 1 ms), index 0 right, 1 left, Hz or
// normalised (normalised jointly here); a MATLAB session (correct control-trial PSTHs); by
// default the correct-trial PSTHs of a synthetic ALM session generated from the Inagaki 2019
// attractor model (87 units, 300 trials, --synthetic session), or the simpler generator of
// ALM-like response types (--synthetic simple).
// Writes the training folder (experiments/rajan_training.hpp, save_training): DIR/training_setup.json,
// DIR/targets_normalised.npy, DIR/J_initial_<k>.npy, DIR/J_trained_<k>.npy, DIR/rates_<k>.npy;
// and DIR/training.csv (realization,iteration,condition,pvar), DIR/selectivity.csv,
// DIR/realizations.csv, PNG figures and DIR/manifest.json. noise_robustness and
// network_structure read the folder with --training DIR.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include "neurodyn/experiments/rajan_training.hpp"
#include "neurodyn/experiments/synthetic_targets.hpp"
#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/npy.hpp"

#ifdef NEURODYN_HAS_MATIO
#include "neurodyn/io/matlab_session.hpp"
#endif
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/output_folder.hpp"
#include "support/trained_network.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;
using examples::q;

namespace {
/// The figures: pVar per iteration, example neurons and J before/after training (best realisation).
void draw_figures(const fs::path& out, const RajanResult& res, const TaskEpochs& epochs, const RajanOptions& o,
                  const std::string& variant, int converged, int kept, std::size_t best) {
    const index_t N = index_t(res.targets.shape()[1]), K = index_t(res.targets.shape()[2]);
    // ---- figure 1: pVar per iteration: median and range across realisations, each realisation
    // thin behind them, the threshold and the iteration where each converged realisation stopped.
    {
        write_atomically(out / "pvar_curves.dat", [&](std::ostream& os) {
            for (const auto& r : res.runs)
                for (std::size_t c = 0; c < 2; ++c) {
                    os << "# realization " << r.realization << (c == 0 ? " right" : " left") << '\n';
                    for (std::size_t it = 0; it < r.pvar.size(); ++it) os << it + 1 << ' ' << r.pvar[it][c] << '\n';
                    os << "\n\n";
                }
        });
        // Per iteration: median, min and max over the realisations still training then.
        std::size_t longest = 0;
        double lowest = 0;
        for (const auto& r : res.runs) {
            longest = std::max(longest, r.pvar.size());
            for (const auto& p : r.pvar) lowest = std::min({lowest, p[0], p[1]});
        }
        write_atomically(out / "pvar_summary.dat", [&](std::ostream& os) {
            os << "# iteration median_right min_right max_right median_left min_left max_left realisations\n";
            for (std::size_t it = 0; it < longest; ++it) {
                os << it + 1;
                std::size_t n = 0;
                for (std::size_t c = 0; c < 2; ++c) {
                    std::vector<double> v;
                    for (const auto& r : res.runs)
                        if (it < r.pvar.size()) v.push_back(r.pvar[it][c]);
                    std::sort(v.begin(), v.end());
                    n = v.size();
                    const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
                    os << ' ' << med << ' ' << v.front() << ' ' << v.back();
                }
                os << ' ' << n << '\n';
            }
        });
        write_atomically(out / "pvar_converged.dat", [&](std::ostream& os) {
            os << "# realization iteration min(pvar_right, pvar_left) at the stop\n";
            for (const auto& r : res.runs)
                if (r.converged) os << r.realization << ' ' << r.iterations << ' '
                                    << std::min(r.pvar.back()[0], r.pvar.back()[1]) << '\n';
        });
        // The y axis starts below the lowest value reached (never clipped), at 0 at least.
        const double ymin = std::floor(std::min(lowest, -0.05) * 10) / 10 - 0.05;
        Gnuplot fig(out / "pvar.png", 1050, 550);
        fig << "set datafile separator whitespace\n"
            << "set xlabel 'FORCE iteration'\nset ylabel 'pVar of the test run (no learning)'\n"
            << "set yrange [" << ymin << ":1.05]\nset xrange [0.5:" << double(longest) + 0.5 << "]\n"
            << "set key outside right top\nset grid\n" << (longest <= 25 ? "set xtics 1\n" : "")
            << "set arrow from graph 0, first " << o.pvar_threshold << " to graph 1, first " << o.pvar_threshold
            << " nohead dt 2 lw 2 lc rgb 'gray30'\n"
            << "set label 'threshold " << examples::num(o.pvar_threshold, 3) << "' at graph 0.01, first "
            << o.pvar_threshold << " offset 0,0.6 tc rgb 'gray30'\n"
            << "set title 'FORCE training, " << variant << " targets: " << converged << "/" << o.realizations
            << " realisations converged, " << kept << " kept" << (lowest < -1 ? " (y axis down to the lowest pVar)" : "")
            << "'\nplot ";
        const auto sum = q(out / "pvar_summary.dat"), all = q(out / "pvar_curves.dat");
        fig << sum << " using 1:3:4 with filledcurves fs transparent solid 0.2 lc rgb '#2166ac' title 'right: range', "
            << sum << " using 1:6:7 with filledcurves fs transparent solid 0.2 lc rgb '#b2182b' title 'left: range', ";
        for (const auto& r : res.runs) {
            const auto b = 2 * std::size_t(r.realization);
            fig << all << " index " << b << " with lines lw 0.7 lc rgb '#92c5de' notitle, " << all << " index " << b + 1
                << " with lines lw 0.7 lc rgb '#f4a582' notitle, ";
        }
        fig << sum << " using 1:2 with linespoints pt 7 ps 0.7 lw 3 lc rgb '#2166ac' title 'right: median', " << sum
            << " using 1:5 with linespoints pt 7 ps 0.7 lw 3 lc rgb '#b2182b' title 'left: median'";
        if (converged > 0)
            fig << ", " << q(out / "pvar_converged.dat")
                << " using 2:3 with points pt 9 ps 1.8 lc rgb 'black' title 'converged (stop)'";
        fig << "\n";
        fig.caption("pVar of the test run (no learning) after each FORCE iteration: median (thick) and range (band) "
                    "over the realisations still training at that iteration, each realisation thin; dashed line: "
                    "the " + examples::num(o.pvar_threshold, 3) + " threshold both conditions must reach; black "
                    "triangles: where converged realisations stopped. Look for the medians crossing the threshold "
                    "and for the spread between realisations");
        fig.render();
    }
    // ---- figure 2: target vs network rates for example neurons (best realisation)
    {
        const auto& r = res.runs[best];
        // Examples: the most right-selective, most left-selective, and a non-selective neuron, …
        std::vector<std::size_t> ex;
        auto pick = [&](int want) {
            double bestd = -1;
            std::size_t arg = N;
            for (std::size_t i = 0; i < std::size_t(N); ++i) {
                if (res.target_preference[i] != want || std::find(ex.begin(), ex.end(), i) != ex.end()) continue;
                double d = 0;
                for (index_t s = 0; s < K; ++s) d += std::abs(res.targets(0, i, std::size_t(s)) - res.targets(1, i, std::size_t(s)));
                if (want == 0) d = -d;
                if (d > bestd || arg == std::size_t(N)) bestd = d, arg = i;
            }
            if (arg < std::size_t(N)) ex.push_back(arg);
        };
        pick(1), pick(-1), pick(0), pick(1), pick(-1), pick(0);
        for (std::size_t i = 0; ex.size() < 6 && i < std::size_t(N); ++i)
            if (std::find(ex.begin(), ex.end(), i) == ex.end()) ex.push_back(i);
        CsvWriter ex_csv({"time_s", "neuron", "target_right", "network_right", "target_left", "network_left"});
        const index_t every = std::max<index_t>(1, K / 1200);
        for (std::size_t e = 0; e < ex.size(); ++e)
            for (index_t s = 0; s < K; s += every)
                ex_csv.row(double(s) * o.dt / 1000.0, ex[e], res.targets(0, ex[e], std::size_t(s)),
                           r.rates(0, ex[e], std::size_t(s)), res.targets(1, ex[e], std::size_t(s)),
                           r.rates(1, ex[e], std::size_t(s)));
        ex_csv.save(out / "example_neurons.csv");
        // Time axis: seconds from the go cue (the end of the delay), as in every program's figures.
        const double cue_ms = epochs["delay"].end_ms;
        Gnuplot fig(out / "example_neurons.png", 1200, 700);
        fig << "set multiplot layout 2,3 title 'Realisation " << r.realization
            << ": targets (thick, light) vs trained network (thin); blue right, red left trials'\n"
            << "set xlabel 'time from go cue (s)'\nset ylabel 'normalised rate'\nset yrange ["
            << (res.transfer == NetworkTransfer::tanh ? "-1.12" : "0") << ":1.12]\n"
            << examples::epoch_shading((epochs["sample"].start_ms - cue_ms) / 1000,
                                       (epochs["delay"].start_ms - cue_ms) / 1000, 0);
        for (std::size_t e = 0; e < ex.size(); ++e) {
            const char* lab = res.target_preference[ex[e]] > 0 ? "right-selective"
                              : res.target_preference[ex[e]] < 0 ? "left-selective" : "non-selective";
            fig << "set title 'neuron " << ex[e] << " (" << lab << ")'\n"
                << "unit = " << ex[e] << "\n"
                << "plot " << q(out / "example_neurons.csv") << " using (($2==unit) ? $1-" << cue_ms / 1000
                << " : 1/0):3 with lines lw 5 lc rgb '#9ecae1' notitle, '' using (($2==unit) ? $1-" << cue_ms / 1000
                << " : 1/0):5 with lines lw 5 lc rgb '#fcbba1' notitle, '' using (($2==unit) ? $1-" << cue_ms / 1000
                << " : 1/0):4 with lines lw 1.5 lc rgb '#08519c' notitle, '' using (($2==unit) ? $1-" << cue_ms / 1000
                << " : 1/0):6 with lines lw 1.5 lc rgb '#a50f15' notitle\n";
        }
        fig << "unset multiplot\n";
        fig.caption("Best realisation (" + std::to_string(best) + "): target rates (thick, light) and the trained "
                    "network's rates (thin) of six example neurons; blue right, red left trials; time from the go cue, sample "
                    "(yellow) and delay (grey) shaded. A good fit follows the light curves through the delay");
        fig.render();
    }
    // ---- figure 3: J before and after training (best realisation)
    {
        const auto& r = res.runs[best];
        examples::write_matrix(out / "J_initial.txt", r.J_initial);
        examples::write_matrix(out / "J_trained.txt", r.J_trained);
        const double lim = 3.0 * o.g / std::sqrt(double(N));
        const double dlim = std::max(lim, 3.0 * std::sqrt((r.J_trained).array().square().mean()));
        Gnuplot fig(out / "J_heatmaps.png", 1300, 600);
        fig << "set datafile separator whitespace\nset multiplot layout 1,2 title 'Realisation " << r.realization
            << ": J (row: postsynaptic i, column: presynaptic j)'\n"
            << "set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')\nset size ratio -1\n"
            << "set xrange [-0.5:" << N - 0.5 << "]\nset yrange [" << N - 0.5 << ":-0.5]\n"
            << "set xlabel 'presynaptic j'\nset ylabel 'postsynaptic i'\n"
            << "set cbrange [" << -lim << ":" << lim << "]\nset title 'initial J, drawn from N(0, g^2/N), g = " << o.g
            << "'\nplot " << q(out / "J_initial.txt") << " matrix with image\n"
            << "set cbrange [" << -dlim << ":" << dlim << "]\nset title 'trained J'\nplot "
            << q(out / "J_trained.txt") << " matrix with image\nunset multiplot\n";
        fig.caption("Best realisation: recurrent weights J before training (N(0, g^2/N)) and after FORCE training "
                    "(colour scale: ±3 g/sqrt(N) before, ±3 RMS of the trained weights after)");
        fig.render();
    }
}
/// The targets the options name, with their epochs; `note` says what they are.
xt::xtensor<double, 3> load_targets(const examples::TargetSourceOptions& src, TaskEpochs& epochs, std::ostream& note) {
    xt::xtensor<double, 3> rates;
    if (!src.session_file.empty()) {
#ifdef NEURODYN_HAS_MATIO
        auto t = session_training_targets(load_matlab_session(src.session_file));
        epochs = std::move(t.epochs);
        note << "targets: session " << src.session_file << ", " << t.rates.shape()[1] << " units\n";
        return std::move(t.rates);
#else
        throw invalid_parameter("--session", src.session_file,
                                "needs the MATLAB session loader (matio), which this build lacks; write the "
                                "targets to .npy and pass --targets");
#endif
    }
    if (!src.targets_file.empty()) {
        const xt::xarray<double> a = load_npy<double>(src.targets_file, 3);
        if (a.shape()[0] != 2)
            throw file_error(src.targets_file, "shape",
                             "has " + std::to_string(a.shape()[0]) + " conditions, expected 2 (right, left)");
        rates = a;
        epochs = inagaki2019_epochs(double(rates.shape()[2]));  // scaled to the file's length
        note << "targets: " << src.targets_file << ", " << rates.shape()[1] << " neurons, " << rates.shape()[2]
             << " steps\n";
        return rates;
    }
    if (src.synthetic == "session") {
        SyntheticSessionOptions so;
        so.units = src.neurons;
        so.trials = src.session_trials;
        so.seed = src.data_seed;
        auto t = session_training_targets(synthetic_session(so));
        epochs = std::move(t.epochs);
        note << "targets: correct-trial PSTHs of a synthetic ALM session (" << src.neurons << " units, "
             << src.session_trials << " trials, seed " << src.data_seed << "), " << t.rates.shape()[2] << " steps\n";
        return std::move(t.rates);
    }
    SyntheticTargetOptions syn;
    syn.neurons = src.neurons;
    syn.seed = src.data_seed;
    const auto t = synthetic_targets(syn);
    epochs = t.epochs;
    note << "targets: simple synthetic ALM-like rates, " << syn.neurons << " neurons, 6 s trials\n";
    return t.rates;
}

/// training.csv, selectivity.csv and realizations.csv.
void write_tables(const fs::path& out, const RajanResult& res) {
    CsvWriter training({"realization", "iteration", "condition", "pvar"});
    CsvWriter selectivity({"realization", "neuron", "target_preference", "network_preference", "agree", "kept"});
    CsvWriter summary({"realization", "converged", "iterations", "pvar_right", "pvar_left", "agreement", "kept",
                       "seconds"});
    for (const auto& r : res.runs) {
        for (std::size_t it = 0; it < r.pvar.size(); ++it) {
            training.row(r.realization, it + 1, "right", r.pvar[it][0]);
            training.row(r.realization, it + 1, "left", r.pvar[it][1]);
        }
        for (std::size_t i = 0; i < r.target_preference.size(); ++i)
            selectivity.row(r.realization, i, r.target_preference[i], r.network_preference[i],
                            int(r.target_preference[i] != 0 && r.target_preference[i] == r.network_preference[i]),
                            int(r.kept));
        summary.row(r.realization, int(r.converged), r.iterations, r.pvar.back()[0], r.pvar.back()[1], r.agreement,
                    int(r.kept), r.seconds);
    }
    training.save(out / "training.csv");
    selectivity.save(out / "selectivity.csv");
    summary.save(out / "realizations.csv");
}

void write_manifest(const fs::path& out, const RajanResult& res, const RajanSummary& s, const RajanOptions& o,
                    const std::string& title, double seconds) {
    const auto& b = res.runs[std::size_t(s.best)];
    auto m = Manifest::open(out, title);
    m.number("units", double(res.targets.shape()[1]))
        .number("delay-selective target neurons", s.selective_targets)
        .number("realisations trained", double(o.realizations))
        .number("realisations converged (pVar > " + std::to_string(o.pvar_threshold).substr(0, 4) + ")", s.converged)
        .number("realisations kept (selectivity agreement > " +
                    std::to_string(int(std::lround(100 * o.agreement_required))) + " %)",
                s.kept);
    if (!s.iterations_to_threshold.empty()) m.number("median iterations to threshold (converged)", s.median_iterations);
    m.number("best realisation", double(s.best))
        .number("best realisation: pVar right", b.pvar.back()[0])
        .number("best realisation: pVar left", b.pvar.back()[1])
        .number("best realisation: delay selectivity agreement", 100 * b.agreement, "%")
        .number("training wall time", seconds, "s")
        .save();
}
}  // namespace

int main(int argc, char** argv) {
    examples::TargetSourceOptions src;
    examples::TrainingOptions training;
    examples::OutputOptions options;
    const auto setup = [&](CLI::App& app) {
        examples::add_target_source_options(app, src);
        examples::add_training_options(app, training);
        examples::add_output_options(app, options);
    };
    const std::string about = "All-synapse FORCE training of random rate networks on trial-averaged ALM activity";
    return examples::run_program(argc, argv, about, setup, [&] {
        require(src.targets_file.empty() || src.session_file.empty(), "--targets/--session", "both given",
                "give one of them");
        const RajanOptions o = training.finish();
        // The checkpoints must survive the output folder being replaced: it may not hold them.
        OutputFolder folder(options.dir, {src.targets_file, src.session_file, training.checkpoint_dir});
        const fs::path& out = folder.path();
        const examples::Stopwatch elapsed;

        TaskEpochs epochs(1.0);
        std::ostringstream note;  // printed once the sizes are checked
        const xt::xtensor<double, 3> rates = load_targets(src, epochs, note);
        const index_t N = index_t(rates.shape()[1]), K = index_t(rates.shape()[2]);
        // Kept per realisation: J_initial, J_trained (N x N) and the test rates (2 x N x K).
        require_allocation("--realizations", o.realizations,
                           {std::uint64_t(o.realizations), 2 * std::uint64_t(N) * std::uint64_t(N + K)}, sizeof(double));
        std::cerr << note.str() << "training " << o.realizations << " realisation(s) of N = " << N << ", up to "
                  << o.max_iterations << " iterations, variant " << training.variant << ", " << training.protocol
                  << " protocol" << (o.transfer == NetworkTransfer::logistic ? "" : ", " + training.transfer + " networks")
                  << "\n";

        const RajanResult res = rajan_training(rates, epochs, o);
        save_training(out, res, epochs, o, transfer_name(res.transfer));
        write_tables(out, res);
        const RajanSummary s = summarise(res);
        const double seconds = elapsed();
        std::cerr << s.converged << "/" << o.realizations << " realisations converged, " << s.kept
                  << " kept (delay selectivity agrees for > " << 100 * o.agreement_required << "% of neurons); best "
                  << s.best << "; " << seconds << " s\n";
        write_manifest(out, res, s, o,
                       "FORCE training (" + training.variant + " targets, " + training.protocol + " protocol" +
                           (o.transfer == NetworkTransfer::logistic ? "" : ", " + training.transfer + " networks") + ")",
                       seconds);
        if (examples::figures_wanted(options))
            draw_figures(out, res, epochs, o, training.variant, s.converged, s.kept, std::size_t(s.best));
        folder.commit();
        std::cerr << "output in " << folder.target().string() << '\n';
    });
}
