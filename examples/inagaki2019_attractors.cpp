// inagaki2019_attractors: the delayed-response task with photoinhibition on the discrete
// attractor models of Inagaki, Fontolan, Romani & Svoboda (Nature 2019, Extended Data Figs. 1
// and 9), or on their continuous attractor (--preset continuous).
//
//   inagaki2019_attractors --preset NAME --pv-type bilateral|ipsilateral|contralateral
//                          --trials N --seed S --out DIR [--no-figures]
//
// DIR is replaced as a whole when the run succeeds (and left as it was when it fails).
//
// Writes DIR/performance.csv, DIR/endpoints.csv, CD projections over time (.npy and .csv) and
// PNG figures (see docs/attractor_models.md for how each maps onto the paper).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/experiments/continuous_attractor_task.hpp"
#include "neurodyn/experiments/inagaki2019_task.hpp"
#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/npy.hpp"
#include "neurodyn/io/output_folder.hpp"
#include "support/program.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;

namespace {

/// One run of the task, for either model: what the writers below need.
template <class Result>
struct Run {
    std::string pv_type;
    Result res;
};

std::string tag(double pv) {
    std::ostringstream os;
    os << pv;
    return os.str();
}

template <class Result>
void add_performance(CsvWriter& csv, const std::string& preset, const Run<Result>& run) {
    for (std::size_t p = 0; p < run.res.pv_levels.size(); ++p)
        for (auto t : {TrialType::right, TrialType::left})
            csv.row(preset, run.pv_type, run.res.pv_levels[p], std::string(to_string(t)), run.res.trials_per_type,
                    run.res.fraction_correct(p, t));
}

template <class Result>
void add_endpoints(CsvWriter& csv, const std::string& preset, const Run<Result>& run) {
    for (const auto& t : run.res.trials)
        csv.row(preset, run.pv_type, run.res.pv_levels[std::size_t(t.pv_index)], std::string(to_string(t.type)),
                t.trial, int(t.correct), t.stim_amp, t.endpoint, t.endpoint_window);
}

/// CD projections: .npy of shape (pv, type, outcome, mean|sd, time) and a wide CSV for gnuplot
/// (time_s, then per pv: R correct mean, sd, L correct mean, sd, R error mean, sd, L error mean, sd).
template <class Result>
void write_projections(const fs::path& out, const Run<Result>& run, double delay_end_ms) {
    const auto& r = run.res;
    const std::size_t n_pv = r.pv_levels.size(), n_t = r.time_ms.size();
    xt::xtensor<double, 5> proj = xt::zeros<double>({n_pv, std::size_t(2), std::size_t(2), std::size_t(2), n_t});
    std::vector<std::string> header{"time_s"};
    for (std::size_t p = 0; p < n_pv; ++p)
        for (const char* g : {"R_correct", "L_correct", "R_error", "L_error"})
            for (const char* m : {"mean", "sd"}) header.push_back("pv" + tag(r.pv_levels[p]) + "_" + g + "_" + m);
    for (std::size_t p = 0; p < n_pv; ++p)
        for (int y = 0; y < 2; ++y)
            for (int c = 0; c < 2; ++c) {
                const auto& pr = r.projection(p, TrialType(y), c == 0);
                for (std::size_t j = 0; j < n_t; ++j) {
                    proj(p, std::size_t(y), std::size_t(c), 0, j) = pr.n > 0 ? pr.mean[j] : NAN;
                    proj(p, std::size_t(y), std::size_t(c), 1, j) = pr.n > 1 ? pr.sd[j] : NAN;
                }
            }
    save_npy(out / ("cd_projection_" + run.pv_type + ".npy"), proj);
    xt::xtensor<double, 1> t = xt::zeros<double>({n_t});
    for (std::size_t j = 0; j < n_t; ++j) t(j) = (r.time_ms[j] - delay_end_ms) / 1000.0;
    save_npy(out / "cd_projection_time_s.npy", t);
    // A wide, all-numeric table: written directly (NaN marks empty groups; gnuplot skips it).
    std::ostringstream text;
    text.precision(8);
    for (std::size_t i = 0; i < header.size(); ++i) text << (i ? "," : "") << header[i];
    text << "\n";
    for (std::size_t j = 0; j < n_t; ++j) {
        text << t(j);
        for (std::size_t p = 0; p < n_pv; ++p)
            for (int c = 0; c < 2; ++c)
                for (int y = 0; y < 2; ++y)
                    for (int m = 0; m < 2; ++m) text << "," << proj(p, std::size_t(y), std::size_t(c), std::size_t(m), j);
        text << "\n";
    }
    const std::string body = text.str();
    write_atomically(out / ("cd_projection_" + run.pv_type + ".csv"), [&](std::ostream& os) { os << body; });
}

/// Column of a group in the projection CSV (1-based for gnuplot).
int column(std::size_t p, bool right, bool correct, bool sd) {
    return 2 + int(p) * 8 + (correct ? 0 : 4) + (right ? 0 : 2) + (sd ? 1 : 0);
}

/// Level colour: from light to dark with the PV index (blue for right, red for left).
std::string level_colour(bool right, std::size_t p, std::size_t n) {
    const double f = double(p) / double(std::max<std::size_t>(1, n - 1));
    const int a = int(std::lround(40 + 160 * (1 - f)));
    char buf[16];
    if (right)
        std::snprintf(buf, sizeof buf, "#%02x%02x%02x", a / 2, a, 255);
    else
        std::snprintf(buf, sizeof buf, "#%02x%02x%02x", 255, a / 2, a);
    return buf;
}

template <class Result>
void figures(const fs::path& out, const std::string& preset, const Run<Result>& run, double sample_ms,
             double delay_ms, double delay_end_ms, double light_from_ms, double light_to_ms) {
    const auto& r = run.res;
    const std::string csv = gnuplot_quote("cd_projection_" + run.pv_type + ".csv");
    // Time from the go cue (s); sample and delay shaded, the light window too on perturbed trials.
    const double s0 = (sample_ms - delay_end_ms) / 1000, d0 = (delay_ms - delay_end_ms) / 1000;
    const std::string epochs = examples::epoch_shading(s0, d0, 0);
    const std::string lit = examples::epoch_shading(s0, d0, 0, (light_from_ms - delay_end_ms) / 1000,
                                                    (light_to_ms - delay_end_ms) / 1000);
    const std::string title = preset + ", " + run.pv_type + " photoinhibition";
    const std::size_t n_pv = r.pv_levels.size();
    std::size_t p0 = 0;
    while (p0 < n_pv && r.pv_levels[p0] != 0) ++p0;

    {  // 1. unperturbed correct trials: mean ± sd
        Gnuplot g(out / ("cd_unperturbed_" + run.pv_type + ".png"), 800, 550);
        g << "set termoption noenhanced\n";
        g << "set title '" << title << ": unperturbed correct trials (mean ± sd)'\n"
          << "set xlabel 'time from go cue (s)'\nset ylabel 'projection to CD (normalised)'\n"
          << "set xrange [-4.6:1.6]\nset yrange [-0.6:1.6]\nset key top left\n" << epochs
          << "set style fill transparent solid 0.25 noborder\n"
          << "plot " << csv << " every ::1 using 1:($" << column(p0, true, true, false) << "-$"
          << column(p0, true, true, true) << "):($" << column(p0, true, true, false) << "+$"
          << column(p0, true, true, true) << ") with filledcurves lc rgb '#3060ff' notitle, "
          << "'' every ::1 using 1:($" << column(p0, false, true, false) << "-$" << column(p0, false, true, true)
          << "):($" << column(p0, false, true, false) << "+$" << column(p0, false, true, true)
          << ") with filledcurves lc rgb '#ff3030' notitle, "
          << "'' every ::1 using 1:" << column(p0, true, true, false)
          << " with lines lw 3 lc rgb '#0030d0' title sprintf('right (n = %d)', " << r.projection(p0, TrialType::right, true).n
          << "), '' every ::1 using 1:" << column(p0, false, true, false)
          << " with lines lw 3 lc rgb '#d00000' title sprintf('left (n = %d)', " << r.projection(p0, TrialType::left, true).n
          << ")\n";
        g.caption(title + ": CD projection of unperturbed correct trials, mean ± sd, time from the go cue, sample "
                          "(yellow) and delay (grey) shaded (EDF 9, top left): the two trial types separate during "
                          "the sample and stay apart through the delay");
        g.render();
    }
    // Endpoint histograms (fraction of trials of each type per 0.1 bin), as the authors' bins.
    auto hist_csv = [&](const std::string& name, bool perturbed, bool correct) {
        std::vector<double> right, left;
        for (const auto& t : r.trials) {
            const bool pert = r.pv_levels[std::size_t(t.pv_index)] != 0;
            if (pert != perturbed || t.correct != correct) continue;
            (t.type == TrialType::right ? right : left).push_back(t.endpoint);
        }
        const auto hr = histogram<double>(std::span<const double>(right), -1.45, 2.55, 40);
        const auto hl = histogram<double>(std::span<const double>(left), -1.45, 2.55, 40);
        CsvWriter w({"endpoint", "fraction_right", "fraction_left"});
        for (std::size_t b = 0; b < hr.counts.size(); ++b)
            w.row(hr.centre(b), right.empty() ? 0.0 : double(hr.counts[b]) / double(right.size()),
                  left.empty() ? 0.0 : double(hl.counts[b]) / double(left.size()));
        const fs::path path = out / (name + "_" + run.pv_type + ".csv");
        w.save(path);
        return std::make_tuple(gnuplot_quote(path.filename().string()), right.size(), left.size());
    };
    {  // 2. endpoint distributions: unperturbed correct, perturbed correct, perturbed error
        Gnuplot g(out / ("endpoints_" + run.pv_type + ".png"), 1300, 420);
        g << "set termoption noenhanced\n";
        g << "set multiplot layout 1,3 title '" << title << ": CD endpoints at the end of the delay'\n"
          << "set xlabel 'projection to CD'\nset ylabel 'fraction of trials'\nset xrange [-0.6:1.6]\nset key top center\n"
          << "set offsets 0, 0, graph 0.3, 0\n";  // headroom for the key
        const char* names[3] = {"unperturbed correct", "perturbed correct (PV > 0)", "perturbed error (PV > 0)"};
        const bool pert[3] = {false, true, true}, corr[3] = {true, true, false};
        const char* files[3] = {"endpoint_hist_unperturbed_correct", "endpoint_hist_perturbed_correct",
                                "endpoint_hist_perturbed_error"};
        for (int k = 0; k < 3; ++k) {
            auto [path, nr, nl] = hist_csv(files[k], pert[k], corr[k]);
            g << "set title '" << names[k] << "'\n"
              << "plot " << path << " every ::1 using 1:2 with histeps lw 2 lc rgb '#0030d0' title 'right (n = " << nr
              << ")', '' every ::1 using 1:3 with histeps lw 2 lc rgb '#d00000' title 'left (n = " << nl << ")'\n";
        }
        g << "unset multiplot\n";
        g.caption(title + ": endpoint distributions of unperturbed correct, perturbed correct and perturbed error "
                          "trials (EDF 9, right column)");
        g.render();
    }
    for (bool correct : {true, false}) {  // 3, 4. perturbed correct / error trials per level
        Gnuplot g(out / (std::string(correct ? "cd_perturbed_correct_" : "cd_perturbed_error_") + run.pv_type + ".png"),
                  1000, 550);
        g << "set termoption noenhanced\n";
        g << "set title '" << title << ": perturbed " << (correct ? "correct" : "error")
          << " trials (mean; dashed: unperturbed correct)'\n"
          << "set xlabel 'time from go cue (s)'\nset ylabel 'projection to CD (normalised)'\n"
          << "set xrange [-4.6:1.6]\nset yrange [-0.6:1.6]\nset key outside right\n" << lit;
        g << "plot " << csv << " every ::1 using 1:" << column(p0, true, true, false)
          << " with lines dt 2 lw 2 lc rgb '#0030d0' title 'unperturbed R', '' every ::1 using 1:"
          << column(p0, false, true, false) << " with lines dt 2 lw 2 lc rgb '#d00000' title 'unperturbed L'";
        for (std::size_t p = 0; p < n_pv; ++p) {
            if (p == p0) continue;
            for (bool right : {true, false}) {
                const long n = r.projection(p, right ? TrialType::right : TrialType::left, correct).n;
                if (n == 0) continue;
                g << ", '' every ::1 using 1:" << column(p, right, correct, false) << " with lines lw 2 lc rgb '"
                  << level_colour(right, p, n_pv) << "' title '" << (right ? "R" : "L") << " PV " << tag(r.pv_levels[p])
                  << " (n = " << n << ")'";
            }
        }
        g << "\n";
        g.caption(title + ": mean CD projection of perturbed " + (correct ? "correct" : "error") +
                  " trials per photoinhibition level (darker: stronger light), time from the go cue, light window "
                  "shaded blue (EDF 9). Look for whether the projection returns to its own side after the light "
                  "(recovery) or crosses to the other (switch)");
        g.render();
    }
}

template <class Result>
void performance_figure(const fs::path& out, const std::string& preset, const std::vector<Run<Result>>& all,
                        bool merged) {
    // Identical sides (one-hemisphere presets: the second hemisphere's light has no target) are drawn once.
    const std::vector<Run<Result>> runs(all.begin(), all.begin() + std::ptrdiff_t(merged ? 1 : all.size()));
    Gnuplot g(out / "performance.png", 800, 550);
        g << "set termoption noenhanced\n";
    g << "set title '" << preset << ": performance vs photoinhibition strength (± binomial s.e.)'\n"
      << "set xlabel 'photoinhibition strength PV (light input = PV x the preset drive per unit; 0: control)'\n"
      << "set ylabel 'fraction correct (both trial types)'\n"
      << "set yrange [0.3:1.05]\nset key bottom left\nset arrow from graph 0, first 0.5 to graph 1, first 0.5 nohead dt 2\n"
      << "$data << EOD\n";
    for (std::size_t k = 0; k < runs.size(); ++k) {
        for (std::size_t p = 0; p < runs[k].res.pv_levels.size(); ++p) {
            const double f = runs[k].res.fraction_correct(p);
            const double se = std::sqrt(f * (1 - f) / double(2 * runs[k].res.trials_per_type));
            g << runs[k].res.pv_levels[p] << "," << f << "," << se << "\n";
        }
        g << "\n\n";
    }
    g << "EOD\nplot ";
    const char* colours[3] = {"#d06000", "#202020", "#2080a0"};
    // Distinct line and point styles: the sides coincide where hemisphere 2 does not matter
    // (one-hemisphere presets, JH = 0, under ipsilateral vs bilateral light).
    const int points[3] = {7, 6, 5}, dashes[3] = {1, 2, 4};
    for (std::size_t k = 0; k < runs.size(); ++k)
        g << (k ? ", " : "") << "$data index " << k << " using 1:2:3 with yerrorlines lw 2 ps 1.5 pt "
          << points[k % 3] << " dt " << dashes[k % 3] << " lc rgb '" << colours[k % 3] << "' title '" << runs[k].pv_type
          << (merged ? " = " + all[1].pv_type + " (identical)" : std::string()) << "'";
    g << "\n";
    g.caption(preset + ": fraction correct vs photoinhibition strength PV (the light's input is PV times the "
              "preset's per-unit drive), " +
              (merged ? "ipsilateral and bilateral light give identical trials here (a one-hemisphere model: the "
                        "second hemisphere has no units), so one curve and one set of figures is drawn"
                      : std::string("ipsilateral and bilateral")) +
              " (EDF 9 performance); dashed: chance");
    g.render();
}

template <class Result>
void write_all(const fs::path& out, const std::string& preset, const std::vector<Run<Result>>& runs,
               const examples::OutputOptions& options, double sample_ms, double delay_ms, double delay_end_ms,
               double light_from_ms, double light_to_ms) {
    CsvWriter perf({"preset", "pv_type", "pv", "trial_type", "n_trials", "fraction_correct"});
    CsvWriter ends({"preset", "pv_type", "pv", "trial_type", "trial", "correct", "stim_amp", "endpoint",
                    "endpoint_window"});
    for (const auto& run : runs) {
        add_performance(perf, preset, run);
        add_endpoints(ends, preset, run);
        write_projections(out, run, delay_end_ms);
    }
    perf.save(out / "performance.csv");
    ends.save(out / "endpoints.csv");
    // Key numbers for the report: fraction correct (both trial types) per side and level.
    auto manifest = Manifest::open(out, "Attractor model (Inagaki et al. 2019): " + preset);
    for (const auto& run : runs)
        for (std::size_t k = 0; k < run.res.pv_levels.size(); ++k)
            manifest.number("fraction correct, " + run.pv_type + " PV = " + detail::to_text(run.res.pv_levels[k]),
                            run.res.fraction_correct(k));
    manifest.save();
    if (!examples::figures_wanted(options)) return;
    // Two sides with bitwise identical trials (one-hemisphere presets) get one set of figures.
    bool merged = runs.size() == 2 && runs[0].res.trials.size() == runs[1].res.trials.size();
    for (std::size_t i = 0; merged && i < runs[0].res.trials.size(); ++i)
        merged = runs[0].res.trials[i].endpoint == runs[1].res.trials[i].endpoint &&
                 runs[0].res.trials[i].correct == runs[1].res.trials[i].correct;
    if (merged)
        std::cerr << runs[0].pv_type << " and " << runs[1].pv_type
                  << " photoinhibition gave identical trials (one-hemisphere model): figures drawn once, for "
                  << runs[0].pv_type << "\n";
    for (std::size_t k = 0; k < (merged ? 1 : runs.size()); ++k)
        figures(out, preset, runs[k], sample_ms, delay_ms, delay_end_ms, light_from_ms, light_to_ms);
    performance_figure(out, preset, runs, merged);
}

}  // namespace

int main(int argc, char** argv) {
    std::string preset = "one_hemi_multi_fp_step", pv_type = "bilateral";
    long trials = 500;
    std::uint64_t seed = 1;
    examples::OutputOptions out;
    std::string presets = "continuous";
    for (const auto& n : inagaki2019_preset_names()) presets += ", " + n;
    return examples::run_program(
        argc, argv, "Inagaki et al. 2019 attractor models: delayed response with photoinhibition",
        [&](CLI::App& app) {
            app.add_option("--preset", preset, "model: " + presets)->capture_default_str();
            app.add_option("--pv-type", pv_type, "photoinhibition side: bilateral, ipsilateral or contralateral")
                ->capture_default_str();
            app.add_option("--trials", trials, "trials per trial type and photoinhibition level")
                ->capture_default_str()
                ->check(examples::count_in(1, 100'000'000));
            app.add_option("--seed", seed, "random seed")->capture_default_str();
            examples::add_output_options(app, out, "inagaki2019_out");
        },
        [&] {
            const auto side = parse_photoinhibition_side(pv_type, "--pv-type");
            const auto names = inagaki2019_preset_names();
            require(preset == "continuous" || std::find(names.begin(), names.end(), preset) != names.end(),
                    "--preset", "'" + preset + "'", "unknown; known presets: " + presets);
            // The trial records of both sides and every level must fit in memory.
            const std::size_t levels = preset == "continuous" ? ContinuousAttractorTaskOptions{}.pv_levels.size()
                                                              : inagaki2019_preset(preset).pv_levels.size();
            require_allocation("--trials", trials, {std::uint64_t(trials), 2, 2 * levels},
                               std::max(sizeof(Inagaki2019Trial), sizeof(ContinuousAttractorTrial)));
            OutputFolder folder(out.dir);
            const examples::Stopwatch elapsed;
            if (preset == "continuous") {
                // One hemisphere, light on h_I: the side does not apply.
                ContinuousAttractorTaskOptions opt;
                opt.trials_per_type = trials;
                opt.seed = seed;
                opt.progress = examples::progress_printer("continuous");
                std::vector<Run<ContinuousAttractorTaskResult>> runs{{"unilateral", run_continuous_attractor_task(opt)}};
                write_all(folder.path(), preset, runs, out, opt.stim_start, opt.stim_end, opt.readout_ms + 1, opt.pv_start,
                          opt.pv_end);
            } else {
                const auto p = inagaki2019_preset(preset);
                // The performance figure compares ipsilateral with bilateral: run the requested side
                // first, then whichever of the two is missing.
                std::vector<PhotoinhibitionSide> sides{side};
                for (auto s : {PhotoinhibitionSide::ipsilateral, PhotoinhibitionSide::bilateral})
                    if (s != side) sides.push_back(s);
                std::vector<Run<Inagaki2019TaskResult>> runs;
                for (auto s : sides) {
                    Inagaki2019TaskOptions opt;
                    opt.trials_per_type = trials;
                    opt.seed = seed;
                    opt.side = s;
                    opt.progress = examples::progress_printer(preset + " " + std::string(to_string(s)));
                    runs.push_back({std::string(to_string(s)), run_inagaki2019_task(p, opt)});
                    const auto& r = runs.back().res;
                    for (std::size_t k = 0; k < r.pv_levels.size(); ++k)
                        std::cerr << "  PV " << r.pv_levels[k] << ": fraction correct " << r.fraction_correct(k) << "\n";
                }
                write_all(folder.path(), preset, runs, out, p.sample_start, p.sample_end, p.delay_end, p.pv_start, p.pv_end);
            }
            folder.commit();
            std::cerr << "done in " << elapsed() << " s; output in " << folder.target().string() << "\n";
        });
}
