// noise_robustness: how robust is a FORCE-trained network's right/left memory? Input-noise
// sweeps (whole trial and delay only) and photoinhibition of the trained network (negative
// drive to all units, or silencing a random fraction, over the first 600 ms of the delay).
//
//   noise_robustness [--training DIR [--realization K]] [--trials 50] [--amplitudes a,b,c]
//                    [--chosen-amplitude A] [--chosen-trials 500] [--chosen-window delay|whole]
//                    [--sharing independent|common] [--pi-trials 50] [--drive-strengths a,b]
//                    [--silence-fractions a,b] [--seed S] [--threads n] --out DIR [--no-figures]
//
// --training DIR: a folder written by rajan_force_training (default: its best realisation).
// Without it a network is trained here first: one realisation on the correct-trial PSTHs of
// a synthetic ALM session (the rajan_force_training defaults).
// Writes DIR/noise_sweep.csv (window,amplitude,condition,n_trials,mean_pvar,fraction_selective),
// DIR/noise_chosen_projection.csv and DIR/noise_chosen_endpoints.csv (trials at the chosen
// amplitude), DIR/photoinhibition.csv (strength,mode,condition,n_trials,fraction_correct),
// DIR/photoinhibition_projection.csv, DIR/photoinhibition_endpoints.csv, PNG figures and the
// key numbers in DIR/manifest.json.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/experiments/noise_robustness.hpp"
#include "neurodyn/experiments/rajan_training.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/output_folder.hpp"
#include "support/program.hpp"
#include "support/trained_network.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;
using examples::num;
using examples::q;

namespace {
/// Vertical dotted lines at the sample onset, delay onset and go cue (s).
std::string epoch_lines(const TaskEpochs& ep) {
    const double cue = ep["delay"].end_ms;
    return examples::epoch_shading((ep["sample"].start_ms - cue) / 1000, (ep["delay"].start_ms - cue) / 1000, 0);
}

/// Endpoint histogram bins covering [0, 1] and every endpoint.
std::pair<double, double> endpoint_range(const std::vector<const std::vector<double>*>& sets) {
    double lo = -0.25, hi = 1.25;
    for (const auto* v : sets)
        for (double e : *v)
            if (std::isfinite(e)) lo = std::min(lo, e), hi = std::max(hi, e);
    const double pad = 0.02 * (hi - lo);
    return {lo - pad, hi + pad};
}

/// Trials of one (condition, outcome) group at one level, for the figures.
struct Level {
    PerturbedTrials<double> right, left;
};

/// What the figures show: the run's options and results.
struct Results {
    const TaskEpochs& epochs;
    const NoiseSweepOptions& ns;
    const PhotoinhibitionOptions& pi;
    const std::string& sharing;
    const std::string& chosen_window;
    double chosen_amplitude;
    long chosen_trials;
    double step_s;  ///< time step of the stored projections, s
    const std::vector<NoiseSweepRow>& rows;
    const Level& chosen;
    const std::vector<PhotoinhibitionRow>& pi_rows;
    const std::map<std::pair<int, double>, Level>& pi_levels;
};

/// The figures: the noise sweep, the chosen amplitude, photoinhibition (fraction correct, and
/// projections and endpoints per strength for each mode).
void draw_figures(const fs::path& out, const Results& res) {
    const TaskEpochs& epochs = res.epochs;
    const NoiseSweepOptions& ns = res.ns;
    const PhotoinhibitionOptions& pi = res.pi;
    const std::string& sharing = res.sharing;
    const std::string& chosen_window = res.chosen_window;
    const double chosen_amplitude = res.chosen_amplitude;
    const long chosen_trials = res.chosen_trials;
    const double step_s = res.step_s;
    const auto& rows = res.rows;
    const Level& chosen = res.chosen;
    const auto& pi_rows = res.pi_rows;
    const auto& pi_levels = res.pi_levels;
    const std::string ep = epoch_lines(epochs);
    // Time axis: seconds from the go cue (the end of the delay), as in every program's figures.
    const std::string t = "($1-" + num(epochs["delay"].end_ms / 1000, 10) + ")";
    // ---- figure 1: the sweep
    {
        Gnuplot fig(out / "noise_sweep.png", 1300, 520);
        fig << "set multiplot layout 1,2 title 'Input noise (" << sharing << " per unit), " << ns.trials
            << " trials per point; solid: whole trial, dashed: delay only; blue right, red left'\n"
            << "set xlabel 'noise amplitude A'\nset grid\nset key bottom left\n";
        // One block per (window, condition), so gnuplot joins the points of a curve.
        const fs::path dat = out / "noise_sweep.dat";
        write_atomically(dat, [&](std::ostream& os) {
            os.precision(8);
            for (NoiseWindow w : ns.windows)
                for (index_t c = 0; c < 2; ++c) {
                    os << "# " << to_string(w) << ' ' << condition_name(c) << ": amplitude,mean_pvar,fraction_selective\n";
                    for (const auto& r : rows)
                        if (r.window == w && r.condition == c)
                            os << r.amplitude << ',' << r.mean_pvar << ',' << r.fraction_selective << '\n';
                    os << "\n\n";
                }
        });
        auto lines = [&](int col) {
            fig << "plot ";
            const char* colours[2] = {"#2166ac", "#b2182b"};
            int block = 0;
            for (NoiseWindow w : ns.windows)
                for (int c = 0; c < 2; ++c, ++block)
                    fig << q(dat) << " index " << block << " using 1:" << col
                        << " with linespoints pt 7 ps 0.7 lw 2 lc rgb '" << colours[c] << "'"
                        << (w == NoiseWindow::delay ? " dt 2" : "") << " title '" << condition_name(c) << ", "
                        << to_string(w) << "', ";
            fig << "1/0 notitle\n";
        };
        fig << "set ylabel 'mean pVar (trial vs target)'\nset title 'fit to the targets'\n"
            << "set arrow from graph 0, first 0.85 to graph 1, first 0.85 nohead dt 3 lc rgb 'gray40'\n";
        lines(2);
        fig << "unset arrow\nset ylabel 'fraction of trials keeping the separation'\nset yrange [-0.02:1.02]\n"
            << "set title 'right/left separation at the end of the delay'\n"
            << "set arrow from graph 0, first 0.5 to graph 1, first 0.5 nohead dt 3 lc rgb 'gray40'\n";
        lines(3);
        fig << "unset multiplot\n";
        fig.caption("Noise sweep of the trained network: mean pVar (left) and fraction of trials that keep the "
                    "right/left separation at the end of the delay (right) versus input-noise amplitude, noise "
                    "over the whole trial (solid) or the delay only (dashed)");
        fig.render();
    }
    // ---- figure 2: the chosen amplitude
    {
        const auto [lo, hi] = endpoint_range({&chosen.right.endpoint, &chosen.left.endpoint});
        const std::size_t bins = 40;
        std::vector<Histogram> h;
        for (const auto* t : {&chosen.right, &chosen.left})
            for (int want : {1, 0}) {
                std::vector<double> e;
                for (std::size_t k = 0; k < t->endpoint.size(); ++k)
                    if (int(t->correct[k]) == want) e.push_back(t->endpoint[k]);
                h.push_back(histogram<double>(e, lo, hi, bins));
            }
        CsvWriter hist({"endpoint", "right_correct", "right_error", "left_correct", "left_error"});
        for (std::size_t b = 0; b < bins; ++b)
            hist.row(h[0].centre(b), h[0].counts[b], h[1].counts[b], h[2].counts[b], h[3].counts[b]);
        hist.save(out / "noise_chosen_histogram.csv");
        const fs::path pc = out / "noise_chosen_projection.csv", hc = out / "noise_chosen_histogram.csv";
        const long re = chosen_trials - long(std::lround(chosen.right.fraction_correct() * double(chosen_trials)));
        const long le = chosen_trials - long(std::lround(chosen.left.fraction_correct() * double(chosen_trials)));
        Gnuplot fig(out / "noise_chosen.png", 1400, 560);
        fig << "set multiplot layout 1,2 title 'A = " << chosen_amplitude << " (" << chosen_window << " noise, "
            << sharing << "), " << chosen_trials << " trials per condition: right errors " << re << ", left errors "
            << le << "'\n"
            << "set grid\nset key top left\nset style fill transparent solid 0.18 noborder\n" << ep
            << "set xlabel 'time from go cue (s)'\nset ylabel 'CD projection (right 1, left 0)'\n"
            << "set title 'CD projection, mean ± sd'\nplot ";
        // columns: 1 time, then per group (n, mean, sd): right_correct 2-4, right_error 5-7,
        // left_correct 8-10, left_error 11-13
        const char* names[4] = {"right correct", "right error", "left correct", "left error"};
        const char* colours[4] = {"#08519c", "#6baed6", "#a50f15", "#fc9272"};
        for (int g = 0; g < 4; ++g) {
            const int n = 2 + 3 * g;
            fig << q(pc) << " using " << t << ":($" << n + 1 << "-$" << n + 2 << "):($" << n + 1 << "+$" << n + 2
                << ") with filledcurves lc rgb '" << colours[g] << "' notitle, " << q(pc) << " using " << t << ":" << n + 1
                << " with lines lw 2 lc rgb '" << colours[g] << "'" << (g % 2 ? " dt 2" : "") << " title '"
                << names[g] << "', ";
        }
        fig << "1/0 notitle\n"
            << "unset arrow\nunset object\nunset label\nset style fill transparent solid 0.55 border\nset xlabel 'endpoint (mean CD projection, last "
               "400 ms of the delay)'\nset ylabel 'trials'\nset title 'endpoints'\nset boxwidth "
            << 0.9 * (hi - lo) / double(bins) << "\n"
            << "set arrow from 0.5, graph 0 to 0.5, graph 1 nohead dt 2 lc rgb 'gray30'\n"
            << "set key top center\nplot ";
        for (int g = 0; g < 4; ++g)
            fig << q(hc) << " using 1:" << 2 + g << " with boxes lc rgb '" << colours[g] << "' title '" << names[g]
                << "', ";
        fig << "1/0 notitle\nunset multiplot\n";
        fig.caption("At A = " + num(chosen_amplitude) + " (" + chosen_window +
                    " noise): CD projections (mean ± sd) of correct and error trials of each condition, and "
                    "the endpoint distributions; errors are trials whose endpoint crossed 0.5 (right 1, left 0)");
        fig.render();
    }
    // ---- figure 3: photoinhibition, fraction correct
    {
        Gnuplot fig(out / "photoinhibition.png", 1300, 500);
        fig << "set multiplot layout 1,2 title 'Photoinhibition of the trained network over the first "
            << pi.duration_ms << " ms of the delay, " << pi.trials << " trials per point'\n"
            << "set grid\nset yrange [-0.02:1.02]\nset ylabel 'fraction correct (separation kept)'\nset key bottom left\n";
        // One block per (mode, condition), so gnuplot joins the points of a curve.
        const fs::path dat = out / "photoinhibition.dat";
        write_atomically(dat, [&](std::ostream& os) {
            for (InhibitionMode mode : {InhibitionMode::drive, InhibitionMode::silence})
                for (index_t c = 0; c < 2; ++c) {
                    os << "# " << to_string(mode) << ' ' << condition_name(c) << ": strength,fraction_correct\n";
                    for (const auto& r : pi_rows)
                        if (r.mode == mode && r.condition == c) os << r.strength << ',' << r.fraction_correct << '\n';
                    os << "\n\n";
                }
        });
        int block = 0;
        for (const char* mode : {"drive", "silence"}) {
            fig << "set xlabel '" << (std::string(mode) == "drive" ? "negative drive to every unit (input units, as the OU input h_0)"
                                                          : "fraction of units silenced (rate held at the bottom of the range)")
                << "'\nset title '" << (std::string(mode) == "drive" ? "drive" : "silencing") << "'\nplot ";
            const char* colours[2] = {"#2166ac", "#b2182b"};
            for (int c = 0; c < 2; ++c, ++block)
                fig << q(dat) << " index " << block << " using 1:2 with linespoints pt 7 lw 2 lc rgb '" << colours[c]
                    << "' title '" << condition_name(c) << "', ";
            fig << "1/0 notitle\n";
        }
        fig << "unset multiplot\n";
        fig.caption("Photoinhibition of the trained network (first " + num(pi.duration_ms) +
                    " ms of the delay): fraction of trials that recover the right/left separation by the end of "
                    "the delay, versus the negative drive to all units (left) and the fraction of units silenced "
                    "(right)");
        fig.render();
    }
    // ---- figures 4, 5: photoinhibition, CD projections and endpoints per strength
    for (InhibitionMode mode : {InhibitionMode::drive, InhibitionMode::silence}) {
        const auto& strengths = mode == InhibitionMode::drive ? pi.drive_strengths : pi.silence_fractions;
        if (strengths.empty()) continue;
        const std::string mn = to_string(mode);
        // One data block per strength (gnuplot 'index'): projections, then histograms.
        const fs::path dat = out / ("photoinhibition_" + mn + ".dat");
        std::vector<const std::vector<double>*> all;
        for (const auto& [key, l] : pi_levels)
            if (key.first == int(mode)) all.insert(all.end(), {&l.right.endpoint, &l.left.endpoint});
        const auto [lo, hi] = endpoint_range(all);
        const std::size_t bins = 30;
        write_atomically(dat, [&](std::ostream& os) {
            os.precision(7);
            for (double s : strengths) {
                const Level& l = pi_levels.at({int(mode), s});
                const auto r = projection_summary(l.right, [](long) { return true; });
                const auto lf = projection_summary(l.left, [](long) { return true; });
                os << "# " << mn << " " << s << ": time_s,right_mean,right_sd,left_mean,left_sd\n";
                for (std::size_t j = 0; j < r.mean.size(); ++j)
                    os << double(j) * step_s << ',' << r.mean[j] << ',' << r.sd[j] << ',' << lf.mean[j] << ','
                       << lf.sd[j] << '\n';
                os << "\n\n";
            }
            for (double s : strengths) {
                const Level& l = pi_levels.at({int(mode), s});
                const auto hr = histogram<double>(l.right.endpoint, lo, hi, bins);
                const auto hl = histogram<double>(l.left.endpoint, lo, hi, bins);
                os << "# " << mn << " " << s << ": endpoint,right,left\n";
                for (std::size_t b = 0; b < bins; ++b) os << hr.centre(b) << ',' << hr.counts[b] << ',' << hl.counts[b] << '\n';
                os << "\n\n";
            }
        });
        const auto& d = epochs["delay"];
        const double on = (d.start_ms - d.end_ms) / 1000, off = std::min(0.0, on + pi.duration_ms / 1000);
        const std::size_t S = strengths.size();
        Gnuplot fig(out / ("photoinhibition_" + mn + ".png"), int(std::max<std::size_t>(2, S) * 330), 640);
        fig << "set multiplot layout 2," << S << " title '"
            << (mode == InhibitionMode::drive ? "Negative drive to all units" : "Silencing a random fraction of units")
            << " during the first " << pi.duration_ms << " ms of the delay (shaded): blue right, red left trials, "
            << pi.trials << " each'\n"
            << "set grid\nset style fill transparent solid 0.2 noborder\n";
        for (std::size_t i = 0; i < S; ++i) {
            fig << "set title '" << (mode == InhibitionMode::drive ? "drive " : "fraction ") << strengths[i]
                << "'\nset xlabel 'time from go cue (s)'\n" << (i == 0 ? "set ylabel 'CD projection'\n" : "unset ylabel\n")
                << "set yrange [-1:2]\nset xrange [*:*]\n"
                << examples::epoch_shading((epochs["sample"].start_ms - d.end_ms) / 1000, on, 0, on, off)
                << "plot " << q(dat) << " index " << i << " using " << t << ":($2-$3):($2+$3) with filledcurves lc rgb '#2166ac', '' index "
                << i << " using " << t << ":2 with lines lw 1.5 lc rgb '#08519c', '' index " << i
                << " using " << t << ":($4-$5):($4+$5) with filledcurves lc rgb '#b2182b', '' index " << i
                << " using " << t << ":4 with lines lw 1.5 lc rgb '#a50f15'\n";
        }
        fig << "unset object\nunset arrow 101\nunset label\n"
            << "set style fill transparent solid 0.5 border\nset boxwidth " << 0.9 * (hi - lo) / double(bins) << "\n"
            << "set yrange [0:*]\nset xrange [" << lo << ":" << hi << "]\n";
        for (std::size_t i = 0; i < S; ++i) {
            fig << "set title 'endpoints'\nset xlabel 'endpoint'\n"
                << (i == 0 ? "set ylabel 'trials'\n" : "unset ylabel\n")
                << "set arrow 1 from 0.5, graph 0 to 0.5, graph 1 nohead dt 2 lc rgb 'gray30'\n"
                << "plot " << q(dat) << " index " << S + i << " using 1:2 with boxes lc rgb '#2166ac', '' index "
                << S + i << " using 1:3 with boxes lc rgb '#b2182b'\n";
        }
        fig << "unset multiplot\n";
        fig.caption(std::string(mode == InhibitionMode::drive ? "Negative drive to all units"
                                                              : "Silencing a random fraction of units") +
                    " over the first " + num(pi.duration_ms) +
                    " ms of the delay: CD projections (mean ± sd, top) and end-of-delay endpoints (bottom) of "
                    "right (blue) and left (red) trials at each strength");
        fig.render();
    }
}

/// The options of the run (what the figures and the manifest quote).
struct Run {
    NoiseSweepOptions ns;
    PhotoinhibitionOptions pi;
    std::string sharing = "independent", chosen_window = "delay";
    double chosen_amplitude = -1;  // -1: chosen from the sweep (the option takes only >= 0)
    long chosen_trials = 500;
    std::uint64_t seed = 1;
    int threads = 0;
};

/// Refuse trial counts whose kept projections (every 10th step per trial) cannot fit in
/// memory, naming the flag, before any output.
void check_memory(const Run& run, index_t steps) {
    const std::uint64_t cols = std::uint64_t(steps / 10 + 1);
    require_allocation("--chosen-trials", run.chosen_trials, {2, std::uint64_t(run.chosen_trials), cols}, sizeof(double));
    require_allocation("--pi-trials", run.pi.trials,
                       {2 * (run.pi.drive_strengths.size() + run.pi.silence_fractions.size()), std::uint64_t(run.pi.trials),
                        cols},
                       sizeof(double));
    require_allocation("--trials", run.ns.trials, {2, std::uint64_t(run.ns.trials), cols}, sizeof(double));
}

void write_sweep(const fs::path& out, const std::vector<NoiseSweepRow>& rows) {
    CsvWriter sweep({"window", "amplitude", "condition", "n_trials", "mean_pvar", "fraction_selective"});
    for (const auto& r : rows)
        sweep.row(to_string(r.window), r.amplitude, condition_name(r.condition), r.n_trials, r.mean_pvar,
                  r.fraction_selective);
    sweep.save(out / "noise_sweep.csv");
}

/// noise_chosen_endpoints.csv and noise_chosen_projection.csv (mean and SD of correct and
/// error trials of each condition).
void write_chosen(const fs::path& out, const Level& chosen, double step_s) {
    CsvWriter ends({"condition", "trial", "endpoint", "correct", "pvar"});
    for (const auto* t : {&chosen.right, &chosen.left})
        for (std::size_t k = 0; k < t->endpoint.size(); ++k)
            ends.row(condition_name(t->condition), k, t->endpoint[k], int(t->correct[k]), t->pvar[k]);
    ends.save(out / "noise_chosen_endpoints.csv");
    std::vector<std::string> head{"time_s"};
    std::vector<ProjectionSummary> groups;
    for (const auto* t : {&chosen.right, &chosen.left})
        for (int want : {1, 0}) {
            groups.push_back(projection_summary(*t, [&](long k) { return int(t->correct[std::size_t(k)]) == want; }));
            const std::string g = std::string(condition_name(t->condition)) + (want ? "_correct" : "_error");
            head.insert(head.end(), {g + "_n", g + "_mean", g + "_sd"});
        }
    CsvWriter proj(head);
    const index_t cols = chosen.right.projection.cols();
    const auto mean = [&](std::size_t g, index_t j) { return groups[g].n ? groups[g].mean[std::size_t(j)] : NAN; };
    const auto sd = [&](std::size_t g, index_t j) { return groups[g].n ? groups[g].sd[std::size_t(j)] : NAN; };
    for (index_t j = 0; j < cols; ++j)
        proj.row(double(j) * step_s, groups[0].n, mean(0, j), sd(0, j), groups[1].n, mean(1, j), sd(1, j), groups[2].n,
                 mean(2, j), sd(2, j), groups[3].n, mean(3, j), sd(3, j));
    proj.save(out / "noise_chosen_projection.csv");
}

/// photoinhibition.csv, photoinhibition_endpoints.csv and photoinhibition_projection.csv.
void write_photoinhibition(const fs::path& out, const std::vector<PhotoinhibitionRow>& pi_rows,
                           const std::map<std::pair<int, double>, Level>& pi_levels, double step_s) {
    CsvWriter csv({"strength", "mode", "condition", "n_trials", "fraction_correct"});
    for (const auto& r : pi_rows)
        csv.row(r.strength, to_string(r.mode), condition_name(r.condition), r.n_trials, r.fraction_correct);
    csv.save(out / "photoinhibition.csv");
    CsvWriter ends({"mode", "strength", "condition", "trial", "endpoint", "correct"});
    CsvWriter proj({"mode", "strength", "time_s", "right_mean", "right_sd", "left_mean", "left_sd"});
    for (const auto& [key, l] : pi_levels) {
        const char* mode = to_string(InhibitionMode(key.first));
        for (const auto* t : {&l.right, &l.left})
            for (std::size_t k = 0; k < t->endpoint.size(); ++k)
                ends.row(mode, key.second, condition_name(t->condition), k, t->endpoint[k], int(t->correct[k]));
        const auto r = projection_summary(l.right, [](long) { return true; });
        const auto lf = projection_summary(l.left, [](long) { return true; });
        for (std::size_t j = 0; j < r.mean.size(); ++j)
            proj.row(mode, key.second, double(j) * step_s, r.mean[j], r.sd[j], lf.mean[j], lf.sd[j]);
    }
    ends.save(out / "photoinhibition_endpoints.csv");
    proj.save(out / "photoinhibition_projection.csv");
}

/// The key numbers in manifest.json (and the thresholds on stderr).
void write_manifest(const fs::path& out, const Run& run, const std::vector<NoiseSweepRow>& rows, const Level& chosen,
                    const std::vector<PhotoinhibitionRow>& pi_rows, double pvar_right, double pvar_left,
                    double wall_s) {
    auto m = Manifest::open(out, "Noise robustness and photoinhibition of the trained network");
    m.number("unperturbed pVar, right", pvar_right).number("unperturbed pVar, left", pvar_left);
    auto pv = [](const NoiseSweepRow& r) { return r.mean_pvar; };
    auto sel = [](const NoiseSweepRow& r) { return r.fraction_selective; };
    for (NoiseWindow w : run.ns.windows) {
        const std::string wn = w == NoiseWindow::whole ? "whole-trial noise" : "delay noise";
        const double a_pv = noise_threshold(rows, w, 0.85, pv), a_sel = noise_threshold(rows, w, 0.5, sel);
        // Never NaN in the manifest: "not reached" says so in the name.
        if (std::isnan(a_pv))
            m.number("noise threshold for pVar < 0.85 (" + wn + "): not reached up to A", run.ns.amplitudes.back());
        else
            m.number("noise threshold for pVar < 0.85 (" + wn + ")", a_pv, "A");
        if (std::isnan(a_sel))
            m.number("noise threshold for fraction selective < 0.5 (" + wn + "): not reached up to A",
                     run.ns.amplitudes.back());
        else
            m.number("noise threshold for fraction selective < 0.5 (" + wn + ")", a_sel, "A");
        std::cerr << wn << ": pVar < 0.85 from A = " << a_pv << ", fraction selective < 0.5 from A = " << a_sel << "\n";
    }
    m.number("chosen amplitude (" + run.chosen_window + " noise)", run.chosen_amplitude, "A")
        .number("fraction correct at the chosen amplitude, right", chosen.right.fraction_correct())
        .number("fraction correct at the chosen amplitude, left", chosen.left.fraction_correct());
    for (InhibitionMode mode : {InhibitionMode::drive, InhibitionMode::silence}) {
        const auto& strengths = mode == InhibitionMode::drive ? run.pi.drive_strengths : run.pi.silence_fractions;
        if (strengths.empty()) continue;
        const double s = *std::max_element(strengths.begin(), strengths.end());
        for (const auto& r : pi_rows)
            if (r.mode == mode && r.strength == s)
                m.number(std::string(mode == InhibitionMode::drive ? "photoinhibition drive " : "silenced fraction ") +
                             num(s) + " (strongest): fraction correct, " + condition_name(r.condition),
                         r.fraction_correct);
    }
    m.number("wall time", wall_s, "s");
    m.save();
}
}  // namespace

int main(int argc, char** argv) {
    Run run;
    run.ns.amplitudes = {0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 2.0, 3.0};
    auto& [ns, pi, sharing, chosen_window, chosen_amplitude, chosen_trials, seed, threads] = run;
    examples::OutputOptions options;
    examples::TrainedNetworkOptions net;
    const auto setup = [&](CLI::App& app) {
        using namespace examples;
        const long max_trials = 10'000'000;
        add_trained_network_options(app, net);
        app.add_option("--trials", ns.trials, "trials per (window, amplitude, condition) of the sweep")
            ->check(count_in(1, max_trials));
        app.add_option("--amplitudes", ns.amplitudes, "noise amplitudes A (input units, per 1-ms step)")
            ->delimiter(',')
            ->check(non_negative());
        app.add_option("--chosen-amplitude", chosen_amplitude,
                       "amplitude of the detailed run (default: the first where the fraction of selective trials "
                       "drops below 0.9 with delay noise)")
            ->check(non_negative());
        app.add_option("--chosen-trials", chosen_trials, "trials per condition at the chosen amplitude")
            ->check(count_in(1, max_trials));
        app.add_option("--chosen-window", chosen_window, "noise window of the detailed run")
            ->check(CLI::IsMember({"delay", "whole"}));
        app.add_option("--sharing", sharing, "noise independent per unit or common to all units")
            ->check(CLI::IsMember({"independent", "common"}));
        app.add_option("--pi-trials", pi.trials, "photoinhibition trials per (mode, strength, condition)")
            ->check(count_in(1, max_trials));
        app.add_option("--drive-strengths", pi.drive_strengths, "negative drive to all units (input units)")
            ->delimiter(',')
            ->check(non_negative());
        app.add_option("--silence-fractions", pi.silence_fractions, "fractions of units silenced")
            ->delimiter(',')
            ->check(finite_in(0, 1));
        app.add_option("--pi-duration", pi.duration_ms, "photoinhibition from the delay onset, ms")->check(positive());
        app.add_option("--pi-noise", pi.background_noise, "independent input noise during photoinhibition trials")
            ->check(non_negative());
        app.add_option("--seed", seed, "seed of the noise and the silenced sets");
        add_threads_option(app, threads);
        add_output_options(app, options);
    };
    const std::string about = "Noise robustness and photoinhibition of a FORCE-trained rate network";
    return examples::run_program(argc, argv, about, setup, [&] {
        const examples::Stopwatch elapsed;
        examples::check_trained_network_options(net);
        require(!ns.amplitudes.empty(), "--amplitudes", "empty", "needs at least one amplitude");
        std::sort(ns.amplitudes.begin(), ns.amplitudes.end());
        ns.sharing = sharing == "common" ? NoiseSharing::common : NoiseSharing::independent;
        ns.seed = seed, ns.threads = threads;
        pi.seed = seed + 1, pi.threads = threads;
        OutputFolder folder(options.dir, {net.training_dir});
        const fs::path& out = folder.path();

        // ---- the trained network
        std::string source;
        examples::with_trained_network(net, source, [&](const auto& loaded) {  // logistic or tanh
            const auto& task = loaded.task;
            check_memory(run, task.steps());
            ns.validate(task.steps());
            pi.validate(task.steps());
            const auto judge = SeparationClassifier<double>::fit(task);
            const double pvar_right = task.pvar_of(task.run(0, Trial{}), 0), pvar_left = task.pvar_of(task.run(1, Trial{}), 1);
            std::cerr << "network: " << source << ", N = " << task.units() << ", " << task.steps()
                      << " steps; unperturbed pVar right " << pvar_right << ", left " << pvar_left << "\n";
            const double step_s = 10 * task.dt / 1000.0;  // judge_trials keeps every 10th step
            const auto progress = [&](const char* what, long trials) {
                return [&elapsed, what, trials](long done, long total) {
                    std::cerr << "\r" << what << ": " << done << "/" << total << " levels (" << trials
                              << " trials per condition), " << long(elapsed()) << " s" << (done == total ? "\n" : "")
                              << std::flush;
                };
            };

            // ---- 1. noise sweep
            ns.progress = progress("noise sweep", ns.trials);
            const auto rows = run_noise_sweep(task, judge, ns);
            write_sweep(out, rows);
            if (chosen_amplitude < 0) chosen_amplitude = chosen_noise_amplitude(rows, NoiseWindow::delay, 0.9);

            // ---- 2. many trials at the chosen amplitude
            const NoiseWindow cw = chosen_window == "whole" ? NoiseWindow::whole : NoiseWindow::delay;
            std::cerr << "chosen amplitude A = " << chosen_amplitude << " (" << chosen_window << " noise): "
                      << chosen_trials << " trials per condition\n";
            auto [right, left] = run_noisy_conditions(task, judge, chosen_amplitude, cw, ns.sharing, chosen_trials, seed + 7,
                                                      threads);
            const Level chosen{std::move(right), std::move(left)};
            write_chosen(out, chosen, step_s);
            std::cerr << "  fraction correct: right " << chosen.right.fraction_correct() << ", left "
                      << chosen.left.fraction_correct() << " (" << long(elapsed()) << " s)\n";

            // ---- 3. photoinhibition
            std::map<std::pair<int, double>, Level> pi_levels;
            pi.progress = progress("photoinhibition", pi.trials);
            const auto pi_rows = run_photoinhibition_sweep(task, judge, pi,
                                                           [&](InhibitionMode m, double s, const PerturbedTrials<double>& t) {
                                                               auto& l = pi_levels[{int(m), s}];
                                                               (t.condition == 0 ? l.right : l.left) = t;
                                                           });
            write_photoinhibition(out, pi_rows, pi_levels, step_s);
            write_manifest(out, run, rows, chosen, pi_rows, pvar_right, pvar_left, elapsed());
            std::cerr << "data written (" << elapsed() << " s)\n";

            if (examples::figures_wanted(options))
                draw_figures(out, {task.epochs, ns, pi, sharing, chosen_window, chosen_amplitude, chosen_trials, step_s, rows, chosen,
                                   pi_rows, pi_levels});
        });
        folder.commit();
        std::cerr << "output in " << folder.target().string() << " (" << elapsed() << " s)\n";
    });
}
