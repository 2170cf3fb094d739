// alm_session_analysis: the session analyses of Inagaki et al. 2019 on one ALM recording
// (a MATLAB file in the original layout) or, by default, on a synthetic session generated
// from the attractor model and written/read through the same MATLAB layout. The protocol
// (trial split, CD fit, statistics) is experiments/session_analysis.hpp; this program reads
// the session and writes the tables and figures.
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
#include <sstream>
#include <string>

#include "neurodyn/experiments/session_analysis.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/matlab_session.hpp"
#include "neurodyn/io/npy.hpp"
#include "neurodyn/io/output_folder.hpp"
#include "support/program.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;
using examples::q;

namespace {
using Analysis = SessionAnalysis<float>;

/// The session of --session, or a synthetic one written to `out` and read back through matio.
Session load_or_generate(const std::string& session_file, SyntheticSessionOptions syn, std::uint64_t seed,
                         const fs::path& out, fs::path& file) {
    file = session_file;
    if (session_file.empty()) {
        syn.seed = seed;
        std::cerr << "generating a synthetic session (" << syn.units << " units, " << syn.trials << " trials, preset "
                  << syn.preset << ") ...\n";
        syn.progress = [](long done, long total) { std::cerr << "\r  trials " << done << "/" << total << std::flush; };
        const Session generated = synthetic_session(syn);
        std::cerr << '\n';
        file = out / "synthetic_session.mat";
        save_matlab_session(generated, file);
    }
    return load_matlab_session(file);
}

/// The data files: selectivity, CD weights, endpoints, endpoint histograms, projections per
/// group, variability, targets and the example units' PSTHs.
void write_tables(const fs::path& out, const Session& s, const Analysis& a) {
    CsvWriter sel({"unit", "label", "index", "p_value"});
    for (std::size_t u = 0; u < a.selectivity.size(); ++u)
        sel.row(u + 1, std::string(to_string(a.selectivity[u].label)), a.selectivity[u].index, a.selectivity[u].p_value);
    sel.save(out / "selectivity.csv");
    CsvWriter cd({"unit", "weight"});
    for (index_t u = 0; u < a.cd.weights().size(); ++u) cd.row(u + 1, double(a.cd.weights()(u)));
    cd.save(out / "cd.csv");
    CsvWriter ep({"trial", "type", "outcome", "photostim", "set", "endpoint"});
    for (const auto& e : a.endpoints) {
        const auto& t = s.trials[e.trial];
        // "test": correct control trials held out from the fit (they set the normalisation).
        ep.row(e.trial + 1, t.right() ? "right" : "left", t.correct() ? "correct" : "error", t.photostim,
               e.test ? "test" : "other", e.endpoint);
    }
    ep.save(out / "endpoints.csv");
    CsvWriter hist({"endpoint", "right_trials", "left_trials"});
    for (std::size_t b = 0; b < a.right_histogram.counts.size(); ++b)
        hist.row(a.right_histogram.centre(b), a.right_histogram.counts[b], a.left_histogram.counts[b]);
    hist.save(out / "endpoint_histogram.csv");
    {
        // The column count depends on the session, so the rows are formatted here
        // (CsvWriter::row takes a fixed argument list).
        std::string text = "time_s";
        for (const auto& g : a.groups) text += "," + g.name() + "_mean," + g.name() + "_sem," + g.name() + "_n";
        text += '\n';
        for (std::size_t j = 0; j < a.times.size(); ++j) {
            std::ostringstream os;
            os.precision(8);
            os << a.times[j];
            for (const auto& g : a.groups) os << ',' << g.mean[j] << ',' << g.sem[j] << ',' << g.n;
            text += os.str() + '\n';
        }
        write_atomically(out / "cd_projection.csv", [&](std::ostream& o) { o << text; });
    }
    if (a.variability.size() > 0) {
        CsvWriter v({"time_s", "right_sd_hz", "left_sd_hz"});
        for (index_t j = 0; j < a.variability.cols(); ++j)
            v.row(a.times[std::size_t(j)], double(a.variability(0, j)), double(a.variability(1, j)));
        v.save(out / "variability.csv");
    }
    save_npy(out / "targets.npy", a.targets);
    const auto [r, l, none] = a.example_units;
    CsvWriter ex({"time_s", "right_sel_R", "right_sel_L", "left_sel_R", "left_sel_L", "nonsel_R", "nonsel_L"});
    for (std::size_t t = 0; t < a.target_times.size(); t += 5)
        ex.row(a.target_times[t], a.targets(0, r, t), a.targets(1, r, t), a.targets(0, l, t), a.targets(1, l, t),
               a.targets(0, none, t), a.targets(1, none, t));
    ex.save(out / "example_units.csv");
}

/// The figures: example units, CD projections and endpoints, variability, photoinhibition.
void draw_figures(const fs::path& out, const Session& s, const Analysis& a, double window_ms) {
    const std::size_t first = a.first_trial;
    const auto [best_r, best_l, none] = a.example_units;
    const auto p_text = [](double p) {
        std::ostringstream os;
        os.precision(2);
        os << p;
        return os.str();
    };
    // Cue alignment shifts trials by up to the spread of cue times: leave out the edges
    // where some trials have no data (and the smoothing window shrinks).
    const double x0 = a.times.front() + 0.15, x1 = a.times.back() - 0.15;
    const std::string xrange = "set xrange [" + std::to_string(x0) + ":" + std::to_string(x1) + "]\n";
    const double sample_rel = s.trials[first].sample_start - s.trials[first].cue_start;
    const double delay_rel = s.trials[first].delay_start - s.trials[first].cue_start;
    // The common time axis: seconds from the go cue, sample and delay shaded and labelled.
    const std::string epochs = examples::epoch_shading(sample_rel, delay_rel, 0) + xrange;
    {
        Gnuplot fig(out / "example_units.png", 1200, 400);
        const auto ex = q(out / "example_units.csv");
        fig << "set multiplot layout 1,3\nset xlabel 'time from go cue (s)'\nset ylabel 'rate (Hz)'\nset key top left\n"
            << epochs;
        const char* titles[3] = {"right-selective unit ", "left-selective unit ", "non-selective unit "};
        const std::size_t ids[3] = {best_r, best_l, none};
        for (int k = 0; k < 3; ++k)
            fig << "set title '" << titles[k] << ids[k] + 1 << " (p = " << p_text(a.selectivity[ids[k]].p_value)
                << ")'\nplot " << ex << " every ::1 using 1:" << 2 + 2 * k << " with lines lw 2 lc rgb 'blue' title 'right', "
                << ex << " every ::1 using 1:" << 3 + 2 * k << " with lines lw 2 lc rgb 'red' title 'left'\n";
        fig << "unset multiplot\n";
        fig.caption("Session: example right-selective, left-selective and non-selective units, trial-averaged "
                    "PSTHs of correct trials (rank-sum p in the titles)");
        fig.render();
    }
    // Column of a group's mean in cd_projection.csv (time, then mean, sem, n per group).
    const auto col = [&](bool right, GroupOutcome outcome, double level) {
        for (std::size_t i = 0; i < a.groups.size(); ++i)
            if (a.groups[i].right == right && a.groups[i].outcome == outcome && a.groups[i].photostim == level)
                return int(2 + 3 * i);
        return -1;
    };
    {
        Gnuplot fig(out / "cd_projection.png", 1200, 500);
        const auto pc = q(out / "cd_projection.csv");
        fig << "set multiplot layout 1,2\n" << epochs
            << "set xlabel 'time from go cue (s)'\nset ylabel 'CD projection (normalised)'\nset key top left\n"
            << "set title 'correct test trials (mean ± sem)'\nplot ";
        const int cr = col(true, GroupOutcome::correct, 0.0), cl = col(false, GroupOutcome::correct, 0.0);
        fig << pc << " every ::1 using 1:($" << cr << "-$" << cr + 1 << "):($" << cr << "+$" << cr + 1
            << ") with filledcurves lc rgb '#aaaaff' notitle, " << pc << " every ::1 using 1:" << cr
            << " with lines lw 2 lc rgb 'blue' title 'right', " << pc << " every ::1 using 1:($" << cl << "-$"
            << cl + 1 << "):($" << cl << "+$" << cl + 1 << ") with filledcurves lc rgb '#ffaaaa' notitle, " << pc
            << " every ::1 using 1:" << cl << " with lines lw 2 lc rgb 'red' title 'left'\n";
        // Endpoint histograms (endpoint_histogram.csv), correct control test trials.
        fig << "unset arrow\nunset object\nunset label\nset xrange [*:*]\nset title 'endpoints (last " << window_ms << " ms of delay)'\n"
            << "set xlabel 'normalised CD endpoint'\nset ylabel 'trials'\nset style fill transparent solid 0.5\n"
            << "set boxwidth 0.1\nplot " << q(out / "endpoint_histogram.csv")
            << " every ::1 using 1:2 with boxes lc rgb 'blue' title 'right', " << q(out / "endpoint_histogram.csv")
            << " every ::1 using 1:3 with boxes lc rgb 'red' title 'left'\n"
            << "unset multiplot\n";
        fig.caption("Session: CD projection of correct test trials (mean ± sem) and their endpoint "
                    "distributions (Inagaki et al. 2019, Fig. 1-2 style)");
        fig.render();
    }
    if (a.variability.size() > 0) {
        Gnuplot fig(out / "variability.png", 800, 500);
        const auto vc = q(out / "variability.csv");
        fig << epochs << "set xlabel 'time from go cue (s)'\nset ylabel 'across-trial SD (Hz)'\n"
            << "set title 'variability of " << a.selective.size() << " selective units'\nset key top left\n"
            << "plot " << vc << " every ::1 using 1:2 with lines lw 2 lc rgb 'blue' title 'right', " << vc
            << " every ::1 using 1:3 with lines lw 2 lc rgb 'red' title 'left'\n";
        fig.caption("Session: across-trial variability (SD) of the selective units, time from the go cue, sample "
                    "and delay shaded. See: whether variability falls during the delay (as in the recordings)");
        fig.render();
    }
    if (!a.photoinhibited.empty()) {
        Gnuplot fig(out / "cd_photoinhibition.png", 1200, 500);
        const auto pc = q(out / "cd_projection.csv");
        fig << "set multiplot layout 1,2\n" << epochs
            << "set xlabel 'time from go cue (s)'\nset ylabel 'CD projection (normalised)'\nset key bottom left opaque\n";
        const char* colours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
        for (int r = 1; r >= 0; --r) {
            fig << "set title '" << (r ? "right" : "left") << " trials: photoinhibition (all outcomes) vs control'\nplot "
                << pc << " every ::1 using 1:" << col(r != 0, GroupOutcome::correct, 0.0)
                << " with lines lw 2 lc rgb 'black' title 'control (correct)'";
            int ci = 0;
            for (const auto& g : a.groups) {
                if (g.right != (r != 0) || g.outcome != GroupOutcome::any || g.n < 2) continue;
                fig << ", " << pc << " every ::1 using 1:" << col(g.right, g.outcome, g.photostim)
                    << " with lines lw 2 lc rgb '" << colours[(ci++) % 6] << "' title 'stim condition " << g.photostim
                    << " (n=" << g.n << ")'";
            }
            fig << "\n";
        }
        fig << "unset multiplot\n";
        fig.caption("Session: CD projections of photoinhibited trials (all outcomes, one curve per stimulation "
                    "condition code of the recording, which does not store the light's timing or power) against "
                    "control correct trials; time from the go cue, sample and delay shaded. See: how far each "
                    "condition pulls the projection from the control and whether it returns before the go cue");
        fig.render();
    }
}
}  // namespace


int main(int argc, char** argv) {
    std::string session_file;
    SessionAnalysisOptions ao;  // window_ms 400, stride 10, seed 1
    examples::OutputOptions options;
    SyntheticSessionOptions syn;
    long stride = ao.stride;
    const auto setup = [&](CLI::App& app) {
        app.add_option("--session", session_file, "session .mat file (default: a synthetic session)");
        app.add_option("--window-ms", ao.window_ms, "CD window before the go cue, ms")->check(examples::finite_in(1, 2000));
        app.add_option("--seed", ao.seed, "seed of the train/test split (and of the synthetic session)");
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
        ao.stride = stride;
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
        fs::path file;
        const Session s = load_or_generate(session_file, syn, ao.seed, out, file);
        std::cerr << "session " << file.string() << ": " << s.n_units() << " units, " << s.n_trials()
                  << " trials (analysed range " << s.common_range().first + 1 << "-" << s.common_range().second + 1
                  << "), loaded in " << seconds() << " s\n";

        const Analysis a = run_session_analysis<float>(s, ao);
        write_tables(out, s, a);
        std::cerr << "selective units: " << a.selective.size() << " of " << s.n_units() << " (" << a.right_preferring
                  << " right, " << a.left_preferring << " left); correct trials right " << a.correct_right.size()
                  << ", left " << a.correct_left.size() << "; photoinhibition trials " << a.photoinhibited.size() << "\n"
                  << "bVar right " << a.bvar_right << ", left " << a.bvar_left << "; analysis done in " << seconds()
                  << " s\n";
        Manifest::open(out, "ALM session analysis")
            .number("units", double(s.n_units()))
            .number("selective units (delay, rank-sum p < 0.05)", double(a.selective.size()))
            .number("right-preferring units", double(a.right_preferring))
            .number("left-preferring units", double(a.left_preferring))
            .number("bVar right", a.bvar_right)
            .number("bVar left", a.bvar_left)
            .save();
        if (examples::figures_wanted(options)) draw_figures(out, s, a, ao.window_ms);
        folder.commit();
        std::cerr << "output in " << folder.target().string() << '\n';
    });
}
