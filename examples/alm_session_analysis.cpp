// alm_session_analysis: the session analyses of Inagaki et al. 2019 on one ALM recording
// (a MATLAB file in the original layout) or, by default, on a synthetic session generated
// from the attractor model and written/read through the same MATLAB layout.
//
//   alm_session_analysis [--session FILE.mat] [--window-ms 400] [--seed S] --out DIR [--no-figures]
//
// Writes DIR/selectivity.csv (unit,label,index,p_value), DIR/cd.csv (unit,weight),
// DIR/endpoints.csv, DIR/cd_projection.csv, DIR/variability.csv, DIR/example_units.csv,
// DIR/targets.npy (float64, (2, units, time) at 1 ms: right, left correct-trial averages, Hz)
// and PNG figures.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/analysis/psth.hpp"
#include "neurodyn/analysis/selectivity.hpp"
#include "neurodyn/analysis/sequence.hpp"
#include "neurodyn/analysis/targets.hpp"
#include "neurodyn/analysis/variability.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/matlab_session.hpp"
#include "neurodyn/io/npy.hpp"
#include "neurodyn/io/output_folder.hpp"
#include "support/program.hpp"

#include <xtensor/xview.hpp>

namespace fs = std::filesystem;
using namespace neurodyn;
using examples::q;

namespace {
/// What the figures need from the analysis.
struct FigureInputs {
    const Session& session;
    std::size_t first;  ///< first analysed trial (its epoch times mark the figures)
    const PsthGrid& grid;
    double cue;                       ///< aligned go cue, s
    std::size_t example_units[3];     ///< the most right-, most left- and least selective unit
    double example_p[3];              ///< their rank-sum p-values
    std::vector<std::tuple<int, int, double>> keys;  ///< groups of cd_projection.csv, in column order
    std::vector<long> group_n;                       ///< trials per group
    std::size_t selective_units;
    bool has_variability, has_photoinhibition;
    double window_ms;
};

/// The figures: example units, CD projections and endpoints, variability, photoinhibition.
void draw_figures(const fs::path& out, const FigureInputs& in) {
    const Session& s = in.session;
    const std::size_t first = in.first;
    const PsthGrid& grid = in.grid;
    const double cue = in.cue;
    const std::size_t best_r = in.example_units[0], best_l = in.example_units[1], none = in.example_units[2];
    const auto& keys = in.keys;
    const double window_ms = in.window_ms;
    const auto p_text = [](double p) {
        std::ostringstream os;
        os.precision(2);
        os << p;
        return os.str();
    };
    // Cue alignment shifts trials by up to the spread of cue times: leave out the edges
    // where some trials have no data (and the smoothing window shrinks).
    const double x0 = grid.time(0) - cue + 0.15, x1 = grid.time(grid.n_out() - 1) - cue - 0.15;
    const std::string xrange = "set xrange [" + std::to_string(x0) + ":" + std::to_string(x1) + "]\n";
    const double sample_rel = s.trials[first].sample_start - s.trials[first].cue_start;
    const double delay_rel = s.trials[first].delay_start - s.trials[first].cue_start;
    const std::string epochs = "set arrow from " + std::to_string(sample_rel) + ", graph 0 to " +
                               std::to_string(sample_rel) + ", graph 1 nohead dt 2 lc rgb 'gray'\n" +
                               "set arrow from " + std::to_string(delay_rel) + ", graph 0 to " +
                               std::to_string(delay_rel) + ", graph 1 nohead dt 2 lc rgb 'gray'\n" +
                               "set arrow from 0, graph 0 to 0, graph 1 nohead dt 2 lc rgb 'gray'\n" + xrange;
    {
        Gnuplot fig(out / "example_units.png", 1200, 400);
        const auto ex = q(out / "example_units.csv");
        fig << "set multiplot layout 1,3\nset xlabel 'time from go cue (s)'\nset ylabel 'rate (Hz)'\nset key top left\n"
            << epochs;
        const char* titles[3] = {"right-selective unit ", "left-selective unit ", "non-selective unit "};
        const std::size_t ids[3] = {best_r, best_l, none};
        for (int k = 0; k < 3; ++k)
            fig << "set title '" << titles[k] << ids[k] + 1 << " (p = " << p_text(in.example_p[k])
                << ")'\nplot " << ex << " every ::1 using 1:" << 2 + 2 * k << " with lines lw 2 lc rgb 'blue' title 'right', "
                << ex << " every ::1 using 1:" << 3 + 2 * k << " with lines lw 2 lc rgb 'red' title 'left'\n";
        fig << "unset multiplot\n";
        fig.caption("Session: example right-selective, left-selective and non-selective units, trial-averaged "
                    "PSTHs of correct trials (rank-sum p in the titles)");
        fig.render();
    }
    const auto col = [&](const std::tuple<int, int, double>& key) {
        const auto it = std::find(keys.begin(), keys.end(), key);
        return it == keys.end() ? -1 : int(2 + 3 * (it - keys.begin()));
    };
    {
        Gnuplot fig(out / "cd_projection.png", 1200, 500);
        const auto pc = q(out / "cd_projection.csv");
        fig << "set multiplot layout 1,2\n" << epochs
            << "set xlabel 'time from go cue (s)'\nset ylabel 'CD projection (normalised)'\nset key top left\n"
            << "set title 'correct test trials (mean ± sem)'\nplot ";
        const int cr = col({1, 1, 0.0}), cl = col({0, 1, 0.0});
        fig << pc << " every ::1 using 1:($" << cr << "-$" << cr + 1 << "):($" << cr << "+$" << cr + 1
            << ") with filledcurves lc rgb '#aaaaff' notitle, " << pc << " every ::1 using 1:" << cr
            << " with lines lw 2 lc rgb 'blue' title 'right', " << pc << " every ::1 using 1:($" << cl << "-$"
            << cl + 1 << "):($" << cl << "+$" << cl + 1 << ") with filledcurves lc rgb '#ffaaaa' notitle, " << pc
            << " every ::1 using 1:" << cl << " with lines lw 2 lc rgb 'red' title 'left'\n";
        // Endpoint histograms (endpoint_histogram.csv), correct control test trials.
        fig << "unset arrow\nset xrange [*:*]\nset title 'endpoints (last " << window_ms << " ms of delay)'\n"
            << "set xlabel 'normalised CD endpoint'\nset ylabel 'trials'\nset style fill transparent solid 0.5\n"
            << "set boxwidth 0.1\nplot " << q(out / "endpoint_histogram.csv")
            << " every ::1 using 1:2 with boxes lc rgb 'blue' title 'right', " << q(out / "endpoint_histogram.csv")
            << " every ::1 using 1:3 with boxes lc rgb 'red' title 'left'\n"
            << "unset multiplot\n";
        fig.caption("Session: CD projection of correct test trials (mean ± sem) and their endpoint "
                    "distributions (Inagaki et al. 2019, Fig. 1-2 style)");
        fig.render();
    }
    if (in.has_variability) {
        Gnuplot fig(out / "variability.png", 800, 500);
        const auto vc = q(out / "variability.csv");
        fig << epochs << "set xlabel 'time from go cue (s)'\nset ylabel 'across-trial SD (Hz)'\n"
            << "set title 'variability of " << in.selective_units << " selective units'\nset key top left\n"
            << "plot " << vc << " every ::1 using 1:2 with lines lw 2 lc rgb 'blue' title 'right', " << vc
            << " every ::1 using 1:3 with lines lw 2 lc rgb 'red' title 'left'\n";
        fig.caption("Session: across-trial variability (SD) of the selective units over the trial");
        fig.render();
    }
    if (in.has_photoinhibition) {
        Gnuplot fig(out / "cd_photoinhibition.png", 1200, 500);
        const auto pc = q(out / "cd_projection.csv");
        fig << "set multiplot layout 1,2\n" << epochs
            << "set xlabel 'time from go cue (s)'\nset ylabel 'CD projection (normalised)'\nset key bottom left opaque\n";
        const char* colours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
        for (int r = 1; r >= 0; --r) {
            fig << "set title '" << (r ? "right" : "left") << " trials: photoinhibition (all outcomes) vs control'\nplot "
                << pc << " every ::1 using 1:" << col({r, 1, 0.0}) << " with lines lw 2 lc rgb 'black' title 'control (correct)'";
            int ci = 0;
            for (const auto& key : keys) {
                const auto [kr, c, lvl] = key;
                if (kr != r || c != 2 || in.group_n[std::size_t(std::find(keys.begin(), keys.end(), key) - keys.begin())] < 2) continue;
                fig << ", " << pc << " every ::1 using 1:" << col(key) << " with lines lw 2 lc rgb '"
                    << colours[(ci++) % 6] << "' title 'stim condition " << lvl << " (n=" << in.group_n[std::size_t(std::find(keys.begin(), keys.end(), key) - keys.begin())] << ")'";
            }
            fig << "\n";
        }
        fig << "unset multiplot\n";
        fig.caption("Session: CD projections of photoinhibited trials against control correct trials");
        fig.render();
    }
}
}  // namespace

int main(int argc, char** argv) {
    std::string session_file;
    double window_ms = 400;
    std::uint64_t seed = 1;
    examples::OutputOptions options;
    SyntheticSessionOptions syn;
    long stride = 10;
    const auto setup = [&](CLI::App& app) {
        app.add_option("--session", session_file, "session .mat file (default: a synthetic session)");
        app.add_option("--window-ms", window_ms, "CD window before the go cue, ms")->check(examples::finite_in(1, 2000));
        app.add_option("--seed", seed, "seed of the train/test split (and of the synthetic session)");
        examples::add_output_options(app, options);
        app.add_option("--units", syn.units, "synthetic session: units")->check(examples::count_in(1, 100000));
        app.add_option("--trials", syn.trials, "synthetic session: trials")->check(examples::count_in(2, 100000));
        app.add_option("--preset", syn.preset, "synthetic session: Inagaki 2019 preset");
        app.add_option("--stride-ms", stride, "time step of the single-trial PSTHs used for CD/variability")
            ->check(examples::count_in(1, 100));
    };
    const std::string about = "Coding direction, selectivity, variability and FORCE targets of an ALM session";
    return examples::run_program(argc, argv, about, setup, [&] {
        const examples::Stopwatch seconds;
        if (!session_file.empty() && !fs::is_regular_file(session_file))
            throw file_error(session_file, "", "does not exist or is not a file");
        if (session_file.empty()) {
            const auto names = inagaki2019_preset_names();
            require(std::find(names.begin(), names.end(), syn.preset) != names.end(), "--preset", syn.preset,
                    "unknown Inagaki 2019 preset");
            // The single-trial PSTHs of a 6-s trial at the PSTH stride, as floats.
            require_allocation("--units x --trials", std::to_string(syn.units) + " x " + std::to_string(syn.trials),
                               {std::uint64_t(syn.units), std::uint64_t(syn.trials), std::uint64_t(7000 / stride)},
                               sizeof(float));
        }
        OutputFolder folder(options.dir, {session_file});
        const fs::path& out = folder.path();

        // ---- the session: real file, or synthetic written and read back through matio
        fs::path file = session_file;
        if (session_file.empty()) {
            syn.seed = seed;
            std::cerr << "generating a synthetic session (" << syn.units << " units, " << syn.trials
                      << " trials, preset " << syn.preset << ") ...\n";
            syn.progress = [](long done, long total) { std::cerr << "\r  trials " << done << "/" << total << std::flush; };
            const Session generated = synthetic_session(syn);
            std::cerr << '\n';
            file = out / "synthetic_session.mat";
            save_matlab_session(generated, file);
        }
        const Session s = load_matlab_session(file);
        const auto [first, last] = s.common_range();
        std::cerr << "session " << file.string() << ": " << s.n_units() << " units, " << s.n_trials()
                  << " trials (analysed range " << first + 1 << "-" << last + 1 << "), loaded in "
                  << seconds() << " s\n";

        // ---- delay selectivity
        const auto sel = delay_selectivity<double>(s);
        CsvWriter sel_csv({"unit", "label", "index", "p_value"});
        for (std::size_t u = 0; u < sel.size(); ++u)
            sel_csv.row(u + 1, std::string(to_string(sel[u].label)), sel[u].index, sel[u].p_value);
        sel_csv.save(out / "selectivity.csv");
        const auto selective = selective_units(sel);

        // ---- single-trial PSTHs (cue-aligned, decimated) of every analysed trial
        const auto right = s.trials_where(TrialFilter::correct_right);
        const auto left = s.trials_where(TrialFilter::correct_left);
        auto stim = s.trials_where(TrialFilter::analysed, true);
        std::vector<std::size_t> trials = s.trials_where(TrialFilter::analysed);
        trials.insert(trials.end(), stim.begin(), stim.end());
        PsthOptions opt;
        opt.stride = stride;
        const PsthGrid grid(s, opt);
        const auto rates = psth_tensor<float>(s, trials, opt);
        std::map<std::size_t, std::size_t> row_of;  // session trial → row of `rates`
        for (std::size_t a = 0; a < trials.size(); ++a) row_of[trials[a]] = a;
        const auto rows = [&](const std::vector<std::size_t>& ks) {
            std::vector<std::size_t> r;
            for (auto k : ks) r.push_back(row_of.at(k));
            return r;
        };

        // ---- coding direction: train on half the correct control trials, test on the rest
        Rng rng(seed, 0, 11);
        auto [train_r, test_r] = split_half(rows(right), rng);
        auto [train_l, test_l] = split_half(rows(left), rng);
        const double cue = grid.aligned_cue();
        const StepRange window{grid.index_at(cue - window_ms * 1e-3), grid.index_at(cue)};
        auto cd = CodingDirection<float>::fit(rates, train_r, train_l, window);
        cd.normalise(cd.endpoints(cd.project(rates, test_r)), cd.endpoints(cd.project(rates, test_l)));
        CsvWriter cd_csv({"unit", "weight"});
        for (index_t u = 0; u < cd.weights().size(); ++u) cd_csv.row(u + 1, double(cd.weights()(u)));
        cd_csv.save(out / "cd.csv");

        // Endpoints of every analysed trial that was not used for training.
        CsvWriter ep_csv({"trial", "type", "outcome", "photostim", "set", "endpoint"});
        std::vector<char> is_train(trials.size(), 0);
        for (auto a : train_r) is_train[a] = 1;
        for (auto a : train_l) is_train[a] = 1;
        std::vector<std::size_t> eval;
        for (std::size_t a = 0; a < trials.size(); ++a)
            if (!is_train[a]) eval.push_back(a);
        const Matrix<float> proj = cd.project(rates, eval);
        const Vector<float> ends = cd.endpoints(proj);
        for (std::size_t i = 0; i < eval.size(); ++i) {
            const auto& t = s.trials[trials[eval[i]]];
            // "test": correct control trials held out from the fit (they set the normalisation).
            ep_csv.row(trials[eval[i]] + 1, t.right() ? "right" : "left", t.correct() ? "correct" : "error", t.photostim,
                       t.correct() && !t.stimulated() ? "test" : "other", double(ends(index_t(i))));
        }
        ep_csv.save(out / "endpoints.csv");
        {
            // Endpoint histograms of correct control test trials (the figure's right panel).
            const auto hist = [&](const std::vector<std::size_t>& test) {
                const Vector<float> e = cd.endpoints(cd.project(rates, test));
                return histogram<float>(std::span<const float>(e.data(), std::size_t(e.size())), -0.5, 1.5, 20);
            };
            const Histogram hr = hist(test_r), hl = hist(test_l);
            CsvWriter h_csv({"endpoint", "right_trials", "left_trials"});
            for (std::size_t b = 0; b < hr.counts.size(); ++b) h_csv.row(hr.centre(b), hr.counts[b], hl.counts[b]);
            h_csv.save(out / "endpoint_histogram.csv");
        }

        // Mean ± sem of the projections per condition: (type, outcome, photostim level).
        struct Acc {
            Eigen::ArrayXd sum, sumsq;
            long n = 0;
            std::vector<double> endpoints;
        };
        std::map<std::tuple<int, int, double>, Acc> groups;  // (right?, correct?, level)
        for (std::size_t i = 0; i < eval.size(); ++i) {
            const auto& t = s.trials[trials[eval[i]]];
            auto& g = groups[{t.right(), t.correct(), t.photostim}];
            const Eigen::ArrayXd p = proj.row(index_t(i)).transpose().cast<double>().array();
            if (g.n == 0) g.sum = g.sumsq = Eigen::ArrayXd::Zero(p.size());
            g.sum += p;
            g.sumsq += p.square();
            ++g.n;
            g.endpoints.push_back(double(ends(index_t(i))));
            if (t.stimulated()) {
                // Photoinhibited trials pooled over outcomes (outcome key 2 = all).
                auto& a = groups[{t.right(), 2, t.photostim}];
                if (a.n == 0) a.sum = a.sumsq = Eigen::ArrayXd::Zero(p.size());
                a.sum += p;
                a.sumsq += p.square();
                ++a.n;
            }
        }
        std::vector<std::string> header{"time_s"};
        std::vector<std::tuple<int, int, double>> keys;
        for (auto& [key, g] : groups) {
            const auto [r, c, lvl] = key;
            std::string name = std::string(r ? "right" : "left") + (c == 2 ? "_all" : c ? "_correct" : "_error") +
                               (lvl != 0 ? "_stim" + detail::to_text(lvl) : "");
            header.push_back(name + "_mean");
            header.push_back(name + "_sem");
            header.push_back(name + "_n");
            keys.push_back(key);
        }
        {
            // The column count depends on the session, so the rows are formatted here
            // (CsvWriter::row takes a fixed argument list).
            std::string text;
            for (const auto& h : header) text += (text.empty() ? "" : ",") + h;
            text += '\n';
            for (index_t j = 0; j < proj.cols(); ++j) {
                std::ostringstream os;
                os.precision(8);
                os << grid.time(j) - cue;
                for (const auto& key : keys) {
                    const auto& g = groups[key];
                    const double n = double(g.n), m = g.sum(j) / n;
                    const double var = g.n > 1 ? std::max(0.0, (g.sumsq(j) - n * m * m) / (n - 1)) : 0.0;
                    os << ',' << m << ',' << std::sqrt(var / n) << ',' << g.n;
                }
                text += os.str() + '\n';
            }
            write_atomically(out / "cd_projection.csv", [&](std::ostream& o) { o << text; });
        }

        // ---- across-trial variability of the selective units (all correct control trials)
        Matrix<float> var;
        if (!selective.empty()) {
            var = across_trial_variability<float>(rates, {rows(right), rows(left)}, selective);
            CsvWriter v_csv({"time_s", "right_sd_hz", "left_sd_hz"});
            for (index_t j = 0; j < var.cols(); ++j) v_csv.row(grid.time(j) - cue, double(var(0, j)), double(var(1, j)));
            v_csv.save(out / "variability.csv");
        }

        // ---- FORCE targets: trial-averaged 1-ms PSTHs of correct control trials
        const auto targets = session_targets<double>(s);
        save_npy(out / "targets.npy", targets);
        const PsthGrid fine(s, PsthOptions{});
        const auto nt = index_t(targets.shape()[2]);
        // bVar of each trial type (neurons × time, Rajan 2016).
        double bv[2];
        for (std::size_t c = 0; c < 2; ++c) {
            Matrix<double> m(index_t(s.n_units()), nt);
            for (index_t u = 0; u < m.rows(); ++u)
                for (index_t t = 0; t < nt; ++t) m(u, t) = targets(c, std::size_t(u), std::size_t(t));
            bv[c] = bvar<double>(m);
        }

        // Example units: the most right- and left-selective and the least selective.
        std::size_t best_r = 0, best_l = 0, none = 0;
        double pr = 2, pl = 2, pn = -1;
        for (std::size_t u = 0; u < sel.size(); ++u) {
            if (sel[u].label == Preference::right && sel[u].p_value < pr) pr = sel[u].p_value, best_r = u;
            if (sel[u].label == Preference::left && sel[u].p_value < pl) pl = sel[u].p_value, best_l = u;
            if (sel[u].p_value > pn) pn = sel[u].p_value, none = u;
        }
        CsvWriter ex_csv({"time_s", "right_sel_R", "right_sel_L", "left_sel_R", "left_sel_L", "nonsel_R", "nonsel_L"});
        for (index_t t = 0; t < nt; t += 5)
            ex_csv.row(fine.time(t) - fine.aligned_cue(), targets(0, best_r, std::size_t(t)), targets(1, best_r, std::size_t(t)),
                       targets(0, best_l, std::size_t(t)), targets(1, best_l, std::size_t(t)), targets(0, none, std::size_t(t)),
                       targets(1, none, std::size_t(t)));
        ex_csv.save(out / "example_units.csv");

        std::size_t n_right = 0, n_left = 0;
        for (const auto& x : sel) {
            n_right += x.label == Preference::right;
            n_left += x.label == Preference::left;
        }
        std::cerr << "selective units: " << selective.size() << " of " << s.n_units() << " (" << n_right << " right, "
                  << n_left << " left); correct trials right " << right.size() << ", left " << left.size()
                  << "; photoinhibition trials " << stim.size() << "\n"
                  << "bVar right " << bv[0] << ", left " << bv[1] << "; analysis done in " << seconds() << " s\n";

        Manifest::open(out, "ALM session analysis")
            .number("units", double(s.n_units()))
            .number("selective units (delay, rank-sum p < 0.05)", double(selective.size()))
            .number("right-preferring units", double(n_right))
            .number("left-preferring units", double(n_left))
            .number("bVar right", bv[0])
            .number("bVar left", bv[1])
            .save();

        if (examples::figures_wanted(options)) {
            std::vector<long> group_n;
            for (const auto& key : keys) group_n.push_back(groups[key].n);
            draw_figures(out, {s, first, grid, cue, {best_r, best_l, none},
                               {sel[best_r].p_value, sel[best_l].p_value, sel[none].p_value}, keys, group_n,
                               selective.size(), var.size() > 0, !stim.empty(), window_ms});
        }
        folder.commit();
        std::cerr << "output in " << folder.target().string() << '\n';
    });
}
