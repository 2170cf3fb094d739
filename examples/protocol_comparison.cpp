// protocol_comparison: the Python study's `seed` FORCE protocol beside the textbook one, raw and
// suppressed targets, and a chaotic (tanh) start, K realisations per arm on the same targets
// (experiments/protocol_comparison.hpp): iterations, final pVar, noise thresholds (shared and
// per-unit noise, whole trial and delay window), collapse direction, weights, PCA dimension,
// rank of dJ, Lyapunov exponent of the initial network and photoinhibition recovery vs switch.
//
//   protocol_comparison --targets FILE.npy | --session FILE.mat [--realizations K] [--seed S]
//                       [--threads T] [--iterations M] [--arms a,b,...] [--g-chaotic G] [--full-trial]
//                       [--allow-unconverged] [--min-final-pvar P] [--min-agreement A] --out DIR
//
// Writes DIR/summary.csv (arm, metric, over, mean, sem, median, q25, q75, n), DIR/realisations.csv
// (one row per arm × realisation: keep verdict and every metric), DIR/counts.csv (kept and
// rejected per arm), DIR/weights_log_histogram.csv, DIR/manifest.json and PNG figures.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "neurodyn/experiments/protocol_comparison.hpp"
#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/npy.hpp"
#include "neurodyn/io/output_folder.hpp"
#ifdef NEURODYN_HAS_MATIO
#include "neurodyn/io/matlab_session.hpp"
#endif
#include "support/program.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;
using examples::num;
using examples::q;

namespace {

/// Targets (2, units, 1-ms steps) and epochs of --targets (Inagaki epochs scaled to the file's
/// length, as rajan_force_training reads it) or --session (correct-trial PSTHs).
CutTargets load_targets(const std::string& targets_file, const std::string& session_file) {
    require(targets_file.empty() != session_file.empty(), "--targets/--session",
            targets_file.empty() ? "neither given" : "both given", "give exactly one of them");
    if (!session_file.empty()) {
#ifdef NEURODYN_HAS_MATIO
        auto t = session_training_targets(load_matlab_session(session_file));
        return {std::move(t.rates), std::move(t.epochs)};
#else
        throw invalid_parameter("--session", session_file, "needs the MATLAB loader (matio), which this build lacks; use --targets");
#endif
    }
    const xt::xarray<double> a = load_npy<double>(targets_file, 3);
    if (a.shape()[0] != 2)
        throw file_error(targets_file, "shape", "has " + std::to_string(a.shape()[0]) + " conditions, expected 2 (right, left)");
    xt::xtensor<double, 3> rates = a;
    const double T = double(rates.shape()[2]), f = T / 6000.0;
    TaskEpochs e(T);
    e.add("presample", 0, 1500 * f).add("sample", 1500 * f, 2500 * f).add("delay", 2500 * f, 4500 * f).add("response", 4500 * f, T);
    return {std::move(rates), std::move(e)};
}

using Summary = std::map<std::pair<std::string, std::string>, ComparisonSummaryRow>;  // (arm|over, metric)
std::string key(const std::string& arm, const std::string& over) { return arm + "|" + over; }

/// summary.csv, realisations.csv, counts.csv, weights_log_histogram.csv.
void write_tables(const fs::path& out, const ProtocolComparisonResult& r, const std::vector<ComparisonSummaryRow>& rows) {
    CsvWriter s({"arm", "metric", "over", "mean", "sem", "median", "q25", "q75", "n"});
    for (const auto& x : rows) s.row(x.arm, x.metric, x.over, x.mean, x.sem, x.median, x.q25, x.q75, x.n);
    s.save(out / "summary.csv");
    std::vector<std::string> header{"arm", "realization", "kept", "reject_reason", "train_seconds", "total_seconds"};
    for (const auto& [n, v] : comparison_metrics(ComparisonRecord{}, r.options.light_levels)) header.push_back(n);
    // Rows of varying width: written as text (the reject reason quoted like CsvWriter does).
    std::ostringstream per;
    for (std::size_t i = 0; i < header.size(); ++i) per << (i ? "," : "") << header[i];
    per << '\n';
    for (const auto& rec : r.records) {
        std::string why = rec.reject_reason;
        for (std::size_t p = 0; (p = why.find('"', p)) != std::string::npos; p += 2) why.insert(p, "\"");
        per << rec.arm << ',' << rec.realization << ',' << (rec.kept ? 1 : 0) << ",\"" << why << "\"," << num(rec.train_seconds, 4)
            << ',' << num(rec.total_seconds, 4);
        for (const auto& [n, v] : comparison_metrics(rec, r.options.light_levels)) per << ',' << num(v, 10);
        per << '\n';
    }
    const std::string text = per.str();
    write_atomically(out / "realisations.csv", [&](std::ostream& os) { os << text; });
    CsvWriter c({"arm", "realizations", "kept", "rejected"});
    for (const auto& x : arm_counts(r)) c.row(x.arm, x.realizations, x.kept, x.rejected);
    c.save(out / "counts.csv");
    // Mean ± SEM of the log10 |J| density over the kept realisations of each arm, one block per arm.
    CsvWriter h({"arm_index", "log10_abs_J", "density_mean", "density_sem", "n"});
    const double w = (weight_log_hi - weight_log_lo) / double(weight_log_bins);
    for (std::size_t a = 0; a < r.arms.size(); ++a)
        for (std::size_t b = 0; b < weight_log_bins; ++b) {
            std::vector<double> v;
            for (const auto& rec : r.records)
                if (rec.arm_index == index_t(a) && rec.kept) v.push_back(rec.weight_log_density[b]);
            const auto st = summarise_values(v);
            h.row(a, weight_log_lo + (double(b) + 0.5) * w, st.mean, st.sem, st.n);
        }
    h.save(out / "weights_log_histogram.csv");
}

/// One panel of bars: per arm, one bar per metric (mean ± SEM) and the realisations as dots.
struct Panel {
    std::string title, ylabel;
    std::vector<std::string> metrics, labels;
    std::string over = "kept", extra;  ///< extra gnuplot lines (ranges, reference lines)
};

void bar_figure(const fs::path& out, const std::string& file, const std::string& title, const ProtocolComparisonResult& r,
                const Summary& sum, const std::vector<Panel>& panels, const std::string& caption, int width = 1400) {
    const char* colours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a"};
    const auto A = r.arms.size();
    Gnuplot fig(out / (file + ".png"), width, 520 * int((panels.size() + 1) / 2));
    fig << "set multiplot layout " << (panels.size() + 1) / 2 << "," << std::min<std::size_t>(2, panels.size())
        << " title '" << title << "'\nset grid ytics\nset key tmargin horizontal center\nset style fill solid 0.35 border -1\n"
        << "set xrange [-0.6:" << double(A) - 0.4 << "]\nset xtics rotate by 20 right (";
    for (std::size_t a = 0; a < A; ++a) fig << (a ? ", " : "") << "'" << r.arms[a] << "' " << a;
    fig << ")\nset bmargin 6\n";
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const auto& P = panels[p];
        const double bw = 0.8 / double(P.metrics.size());
        CsvWriter bars({"x", "mean", "sem", "series"}), dots({"x", "value", "series"});
        for (std::size_t m = 0; m < P.metrics.size(); ++m)
            for (std::size_t a = 0; a < A; ++a) {
                const double x = double(a) + (double(m) - 0.5 * double(P.metrics.size() - 1)) * bw;
                const auto it = sum.find({key(r.arms[a], P.over), P.metrics[m]});
                if (it != sum.end() && it->second.n > 0) bars.row(x, it->second.mean, it->second.sem, m);
                for (const auto& rec : r.records) {
                    if (rec.arm_index != index_t(a) || (P.over == "kept" && !rec.kept)) continue;
                    for (const auto& [n, v] : comparison_metrics(rec, r.options.light_levels))
                        if (n == P.metrics[m] && std::isfinite(v))
                            dots.row(x + bw * 0.5 * (double(rec.realization) / std::max<double>(1, double(r.options.realizations - 1)) - 0.5), v, m);
                }
            }
        const fs::path bf = out / (file + "_" + std::to_string(p) + "_bars.csv"), df = out / (file + "_" + std::to_string(p) + "_dots.csv");
        bars.save(bf);
        dots.save(df);
        fig << "set datafile separator ','\nset title '" << P.title << "'\nset ylabel '" << P.ylabel << "'\nset boxwidth " << bw * 0.9 << "\n";
        if (bars.rows() == 0) {  // nothing to draw (e.g. no kept realisation collapsed): say so, not a gnuplot error
            fig << "set yrange [0:1]\nset label 1 'no " << P.over << " realisation has a value' at graph 0.5, graph 0.5 center\n"
                << "plot 1/0 notitle\nunset label 1\nunset arrow\nset autoscale y\n";
            continue;
        }
        fig << P.extra << "\nplot ";
        for (std::size_t m = 0; m < P.metrics.size(); ++m)
            fig << (m ? ", " : "") << q(bf) << " skip 1 using ($4==" << m << "?$1:1/0):2:3 with boxerrorbars lc rgb '" << colours[m % 4]
                << "' title '" << P.labels[m] << " (mean ± SEM)', " << q(df) << " skip 1 using ($3==" << m
                << "?$1:1/0):2 with points pt 7 ps 0.5 lc rgb 'black' notitle";
        fig << "\nunset arrow\nunset logscale y\nset autoscale y\n";
    }
    fig << "unset multiplot\n";
    fig.caption(caption);
    fig.render();
}

void draw_figures(const fs::path& out, const ProtocolComparisonResult& r, const std::vector<ComparisonSummaryRow>& rows) {
    Summary sum;
    for (const auto& x : rows) sum[{key(x.arm, x.over), x.metric}] = x;
    const auto& o = r.options;
    const std::string thr = "set arrow from graph 0, first " + num(o.keep.min_final_pvar) + " to graph 1, first " +
                            num(o.keep.min_final_pvar) + " nohead dt 2 lc rgb 'red'";
    bar_figure(out, "training", "Training: all realisations (dots), mean ± SEM", r, sum,
               {{"iterations (cap " + std::to_string(o.max_iterations) + ")", "iterations", {"iterations"}, {"iterations"}, "all", "set yrange [0:" + num(1.1 * o.max_iterations) + "]"},
                {"final pVar (each protocol by its own definition), dashed: threshold", "final pVar", {"final_pvar_right", "final_pvar_left"}, {"right", "left"}, "all", thr}},
               "Iterations to converge and final pVar of every realisation (dots; not converged ones sit at the cap); bars: mean ± SEM. "
               "Seed arms use the study's pVar, textbook arms the textbook pVar");
    std::vector<Panel> noise;
    for (const char* m : {"shared", "independent"})
        noise.push_back({std::string(m) + " noise", "threshold amplitude (study units)",
                         {std::string("threshold_") + m + "_whole", std::string("threshold_") + m + "_delay"},
                         {"whole trial", "first " + num(o.delay_noise_ms) + " ms of delay"}, "kept", "set logscale y"});
    bar_figure(out, "noise_thresholds", "Noise thresholds (kept realisations that collapsed)", r, sum, noise,
               "Smallest noise amplitude A (added as A*sqrt(1/(2 tau)) per 1-ms step) at which fewer than half of the trials of a "
               "condition keep the right/left separation. Realisations that never collapsed up to A = " + num(o.noise_amplitudes.back()) +
               " are left out (collapsed_* in summary.csv gives their share)");
    std::vector<Panel> dir;
    for (const char* m : {"shared", "independent"})
        for (const char* w : {"whole", "delay"}) {
            const std::string s = std::string(m) + "_" + w;
            dir.push_back({std::string(m) + " noise, " + w, "fraction of realisations", {"collapse_R_to_L_" + s, "collapse_L_to_R_" + s},
                           {"R→L", "L→R"}, "kept", "set yrange [0:1.05]"});
        }
    bar_figure(out, "collapse_direction", "Collapse direction at the noise threshold", r, sum, dir,
               "Which condition loses its separation first at the threshold: R→L (right trials end on the left side) or L→R; "
               "fractions over the kept realisations that collapsed (a tie counts in neither)");
    bar_figure(out, "weights_summary", "Trained weights", r, sum,
               {{"largest |J_{ij}| and the 99.9 % quantile", "|J|", {"max_abs_J", "abs_J_q999"}, {"max |J|", "99.9 % of |J|"}, "kept", "set logscale y"},
                {"dominant weights: |J_{ij}| > 10 SD(J)", "count", {"dominant_weights"}, {"dominant"}, "kept", "set yrange [0:*]"}},
               "Weight statistics of the trained J per kept realisation (dots) and mean ± SEM (bars). Tanh arms need about 4x smaller "
               "weights for the same drive (slope 1 vs 1/4)");
    bar_figure(out, "pca_rank", "Dimension of the trained activity and rank of dJ", r, sum,
               {{"PCA of the replay", "components", {"pca_dim", "participation_ratio"}, {num(100 * o.pca_variance) + " % variance", "participation ratio"}, "kept", "set yrange [0:*]"},
                {"rank of dJ = J - J0 (N = " + std::to_string(r.units) + ")", "rank", {"rank_dJ", "rank_dJ_1pct"}, {"NumPy tolerance", "above 1 % of max"}, "kept", "set yrange [0:*]"}},
               "Left: principal components for " + num(100 * o.pca_variance) + " % of the variance and participation ratio of the "
               "unperturbed replay (both conditions). Right: rank of the weight change at NumPy's matrix_rank tolerance "
               "(sigma_max * N * eps) and the number of singular values above 1 % of the largest");
    bar_figure(out, "lyapunov", "Chaos of the initial network", r, sum,
               {{"largest Lyapunov exponent (autonomous), dashed: 0", "1/ms", {"lyapunov_initial"}, {"exponent"}, "all",
                 "set arrow from graph 0, first 0 to graph 1, first 0 nohead dt 2 lc rgb 'red'"},
                {"fraction chaotic (exponent > 0 and > 4 SE)", "fraction", {"chaotic_initial"}, {"chaotic"}, "all", "set yrange [0:1.05]"}},
               "Largest Lyapunov exponent of each realisation's initial network without input: the study's logistic start "
               "(g = " + num(o.g) + ", effective gain g/4) decays to a fixed point; the tanh start (g = " + num(o.g_chaotic) + ") is chaotic");
    // Photoinhibition: recovery vs light, one line per arm.
    CsvWriter p({"arm_index", "light", "recovery_right", "sem_right", "recovery_left", "sem_left", "n"});
    for (std::size_t a = 0; a < r.arms.size(); ++a)
        for (double l : o.light_levels) {
            const auto& R = sum[{key(r.arms[a], "kept"), "recovery_right_light_" + detail::to_text(l)}];
            const auto& L = sum[{key(r.arms[a], "kept"), "recovery_left_light_" + detail::to_text(l)}];
            p.row(a, l, R.mean, R.sem, L.mean, L.sem, R.n);
        }
    p.save(out / "photoinhibition.csv");
    Gnuplot fig(out / "photoinhibition.png", 1700, 560);
    fig << "set datafile separator ','\nset multiplot layout 1,2 title 'Photoinhibition of the trained networks: drive -L on every unit, first "
        << num(o.light_ms) << " ms of the delay, background noise " << num(o.photo_noise) << "'\nset grid\nset key outside right top vertical\n"
        << "set xlabel 'light level L (input units)'\nset ylabel 'fraction recovering (1 - fraction switching)'\nset yrange [-0.05:1.05]\n"
        << "set offsets 0.3, 0.3, 0, 0\n";
    for (int c = 0; c < 2; ++c) {
        fig << "set title '" << (c == 0 ? "right" : "left") << " trials'\nplot ";
        for (std::size_t a = 0; a < r.arms.size(); ++a)
            fig << (a ? ", " : "") << q(out / "photoinhibition.csv") << " skip 1 using ($1==" << a << "?$2+" << 0.06 * double(a) << ":1/0):"
                << 3 + 2 * c << ":" << 4 + 2 * c << " with yerrorlines lw 2 pt 7 title '" << r.arms[a] << "'";
        fig << "\n";
    }
    fig << "unset multiplot\n";
    fig.caption("Trained networks under photoinhibition: fraction of trials whose end-of-delay endpoint returns to the trained "
                "side (recovery) rather than the other (switch), mean ± SEM over kept realisations; arms slightly offset in L");
    fig.render();
    Gnuplot w(out / "weights_distribution.png", 1000, 560);
    // Log density: a single weight of N² in a bin is 1/(N²·0.1), so the tail of a few dominant weights shows.
    w << "set datafile separator ','\nset grid\nset key top left\nset xlabel 'log_{10} |J_{ij}|'\nset ylabel 'density (mean ± SEM), log scale'\n"
      << "set logscale y\nset yrange [" << 0.5 / (double(r.units) * double(r.units) * 0.1 * double(o.realizations)) << ":3]\n"
      << "set title 'Distribution of trained weights (kept realisations)'\nplot ";
    for (std::size_t a = 0; a < r.arms.size(); ++a)
        w << (a ? ", " : "") << q(out / "weights_log_histogram.csv") << " skip 1 using ($1==" << a << " && $3>0?$2:1/0):3:4 with yerrorlines pt 7 ps 0.4 title '" << r.arms[a] << "'";
    w << "\n";
    w.caption("Density of log10 |J_ij| of the trained networks per arm (mean ± SEM over kept realisations): the scale of the weights and its tail");
    w.render();
}

}  // namespace

int main(int argc, char** argv) {
    std::string targets_file, session_file;
    std::vector<std::string> arms;
    bool full_trial = false, allow_unconverged = false;
    ProtocolComparisonOptions o;
    examples::OutputOptions out;
    const auto setup = [&](CLI::App& app) {
        app.add_option("--targets", targets_file, "float64 .npy, shape (2, units, 1-ms steps): right, left (Hz)");
        app.add_option("--session", session_file, "ALM session .mat file (targets: correct-trial PSTHs)");
        app.add_option("--realizations", o.realizations, "realisations per arm")->check(examples::count_in(1, 100000))->capture_default_str();
        app.add_option("--seed", o.seed, "seed of networks, inputs and noise")->capture_default_str();
        examples::add_threads_option(app, o.threads);
        app.add_option("--iterations", o.max_iterations, "iteration cap per realisation")->check(examples::count_in(1, 100000))->capture_default_str();
        app.add_option("--arms", arms, "arms, e.g. seed/raw,textbook/suppressed,seed/raw/chaotic (default: six)")->delimiter(',');
        app.add_option("--noise-trials", o.noise_trials, "trials per condition and noise level")->check(examples::count_in(1, 1000))->capture_default_str();
        app.add_option("--g-chaotic", o.g_chaotic, "gain of the tanh start")->check(examples::finite_in(0, 100))->capture_default_str();
        app.add_flag("--allow-unconverged", allow_unconverged, "keep runs that did not converge (by the other criteria)");
        app.add_option("--min-final-pvar", o.keep.min_final_pvar, "keep: final pVar on both conditions")->check(examples::finite_in(-1e6, 1))->capture_default_str();
        app.add_option("--min-agreement", o.keep.min_agreement, "keep: delay-selectivity agreement")->check(examples::finite_in(0, 1))->capture_default_str();
        app.add_flag("--full-trial", full_trial, "train on the whole trial (default: the study's, 1 s before the sample to 250 ms after the go cue)");
        examples::add_output_options(app, out);
    };
    return examples::run_program(argc, argv, "The seed and textbook FORCE protocols side by side", setup, [&] {
        const examples::Stopwatch elapsed;
        o.keep.require_converged = !allow_unconverged;
        if (!arms.empty()) {
            o.arms.clear();
            for (const auto& a : arms) o.arms.push_back(ComparisonArm::parse(a));
        }
        OutputFolder folder(out.dir, {targets_file, session_file});
        auto t = load_targets(targets_file, session_file);
        if (!full_trial) t = study_trial(t.rates, t.epochs);
        o.validate(index_t(t.rates.shape()[1]), index_t(t.rates.shape()[2]));
        std::cerr << "targets: " << t.rates.shape()[1] << " units, " << t.rates.shape()[2] << " steps; " << o.arms.size() << " arms x "
                  << o.realizations << " realisations\n";
        o.progress = examples::progress_printer("protocol comparison", "realisations");
        const auto r = run_protocol_comparison(t.rates, t.epochs, o);
        auto rows = summarise(r, true);
        for (auto& x : summarise(r, false)) rows.push_back(std::move(x));
        write_tables(folder.path(), r, rows);
        auto m = Manifest::open(folder.path(), "Seed vs textbook FORCE protocols, side by side");
        m.number("units", double(r.units)).number("steps (1 ms)", double(r.steps)).number("delay-selective target units", double(r.selective_units));
        m.number("realisations per arm", double(o.realizations)).number("seed", double(o.seed));
        for (const auto& c : arm_counts(r)) {
            m.number(c.arm + ": kept", double(c.kept)).number(c.arm + ": rejected", double(c.rejected));
            std::cerr << c.arm << ": " << c.kept << " kept, " << c.rejected << " rejected\n";
        }
        for (const auto& x : rows)
            if (x.over == "kept" && x.n > 0)
                for (const char* k : {"iterations", "final_pvar_min", "threshold_shared_whole", "threshold_shared_delay", "max_abs_J", "pca_dim",
                                      "participation_ratio", "rank_dJ", "lyapunov_initial"})
                    if (x.metric == k) m.number(x.arm + ": " + x.metric + " (mean of kept)", x.mean);
        m.number("run time", elapsed(), "s");
        m.save();
        if (examples::figures_wanted(out)) draw_figures(folder.path(), r, rows);
        folder.commit();
        std::cerr << "output in " << folder.target().string() << " (" << elapsed() << " s)\n";
    });
}
