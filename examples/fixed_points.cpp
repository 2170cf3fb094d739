// fixed_points: fixed points and slow points of an Inagaki 2019 attractor preset in the delay
// epoch, or of a FORCE-trained rate network under its delay input, linearised and classified
// (include/neurodyn/dynamics/fixed_points.hpp; docs/fixed_points.md).
//
//   fixed_points --preset NAME [--pv LEVEL] [--pv-type SIDE] --out DIR [--starts 512] [--noise 3]
//   fixed_points [--training DIR [--realization K | --realizations all|0-4,7]] [--epoch NAME | --time MS]
//                --out DIR [--starts 1024]
//
// Discrete presets (one_hemi_*, two_hemi_*): the delay input (stimulus off, ramp at the end of
// the delay, no noise) plus photoinhibition of strength PV as a constant input, on both
// hemispheres or one (--pv-type bilateral | ipsilateral = hemisphere 1 | contralateral =
// hemisphere 2); conditions: --pv LEVEL, or the preset's PV levels and a sweep of 61 strengths
// from 0 to the largest level. `continuous` (published weights) and `continuous_tuned` (j_IN
// set so that the current-to-current gain has an eigenvalue exactly 1: a line of marginal
// points) are the line attractor: the delay input is 0 and the light drives h_I with +PV (the
// right-trial sign; left trials mirror it). Starts: states of the noise-free right and left
// trials plus Gaussian noise. Trained network (a training folder, or one network trained here
// on a synthetic session): the frozen input averaged over an epoch (--epoch, default delay) or
// at a time (--time MS from the trial start); starts from the states of the unperturbed trials.
// Any transfer function the folder records (logistic, tanh). --realizations analyses several
// realisations of the folder in one run: their conditions are named r<K>/<condition>, and one
// that does not separate the trial types is listed as not analysed rather than failing the run.
//
// Writes DIR/fixed_points.csv (condition, point, kind, q, n_unstable, max_real_eigenvalue,
// cd_projection, then the state), DIR/eigenvalues.csv, DIR/starts.csv (how each start ended),
// DIR/trajectories.csv, DIR/pv_sweep.csv (presets without --pv), DIR/fixed_points_summary.csv
// (per realisation and condition: stable points with their CD projections and slowest
// eigenvalues, saddles, slow points, unconverged starts), figures (points over the
// trajectories, Jacobian spectra, points against PV, points per realisation) and DIR/manifest.json.
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <Eigen/Eigenvalues>

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/dynamics/fixed_points.hpp"
#include "neurodyn/dynamics/trained_fixed_points.hpp"
#include "neurodyn/experiments/rajan_training.hpp"
#include "neurodyn/experiments/trained_rnn.hpp"
#include "neurodyn/inputs/pulses.hpp"
#include "neurodyn/inputs/ramp.hpp"
#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/output_folder.hpp"
#include "neurodyn/io/training_folder.hpp"
#include "neurodyn/experiments/continuous_attractor_task.hpp"
#include "neurodyn/experiments/inagaki2019_task.hpp"
#include "neurodyn/models/continuous_attractor.hpp"
#include "neurodyn/models/inagaki2019.hpp"
#include "support/program.hpp"
#include "support/trained_network.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;
using examples::num;
using examples::q;

namespace {

/// One condition's input and the points found under it.
struct Condition {
    InputCondition<double> input;
    double pv = 0;
    bool main = true;      ///< listed in fixed_points.csv (false: sweep only)
    bool in_plane = true;  ///< drawn over the trajectories
    FixedPointSet<double> found;
};

/// What the writers share: trajectories (states, columns) with their plane coordinates, the
/// conditions, and the map from a state to the plane (a, b) and to the CD projection.
struct Analysis {
    std::string title, a_label, b_label, state_prefix;
    std::vector<std::string> trajectory_names;
    std::vector<Matrix<double>> trajectories;  ///< states, size × samples
    std::vector<Vector<double>> times;         ///< s
    std::vector<Condition> conditions;
    std::function<double(const Vector<double>&)> cd;      ///< normalised CD projection (right 1, left 0)
    std::function<double(const Vector<double>&)> second;  ///< second plane coordinate
    std::string light;                                    ///< where the light acts (presets)
    bool sweep = false;
    index_t realization = -1;  ///< trained network: the realisation of its folder
    std::string prefix;        ///< "r3/" before condition and trial names when realisations are listed
    std::string refused;       ///< why the realisation was not analysed (empty: it was)
};

// ---- presets --------------------------------------------------------------------------------

/// The noise-free trial of the preset's protocol (stimulus box × stim_amp on populations (1, 3)
/// on right trials, (2, 4) on left ones, the ramp; no noise, no light), forward Euler with the
/// preset's dt up to the end of the delay; states every 10 ms.
template <class M>
Matrix<double> noise_free_trial(const M& model, const Inagaki2019Preset& p, bool right, Vector<double>& times) {
    const BoxPulse stim(p.stim_start, p.stim_end, p.tau_ext);
    const Ramp ramp{p.ramp_start, p.ramp_ms, p.ramp_amp};
    Vector<double> mask(4), ramp_mask = Vector<double>::Ones(4);
    mask << double(right), double(!right), double(right), double(!right);
    if (p.withhold_ramp) ramp_mask[right ? 1 : 0] = 0;
    const long steps = long(std::llround(p.delay_end / p.dt)), every = std::max(1L, long(std::llround(10 / p.dt)));
    Vector<double> h = Vector<double>::Constant(4, p.h0), f(4), u(4);
    Matrix<double> out(4, steps / every);
    times.resize(out.cols());
    for (long k = 0; k < steps; ++k) {
        const double t = double(k) * p.dt;
        u = (p.stim_amp * stim(t)) * mask + ramp(t) * ramp_mask;
        model.derivative(h, t, u, f);
        h += p.dt * f;
        if ((k + 1) % every == 0 && (k + 1) / every - 1 < out.cols()) {
            out.col((k + 1) / every - 1) = h;
            times[(k + 1) / every - 1] = (t + p.dt - p.delay_end) / 1000.0;  // s to the end of the delay
        }
    }
    return out;
}

/// Normalised projection of rates r onto d: (d·r − left)/(right − left).
struct Projection {
    Eigen::Vector2d d;
    double left = 0, span = 1;
    index_t first = 0;  ///< populations first, first + 1
    double operator()(const Vector<double>& r) const { return (d.dot(r.segment<2>(first)) - left) / span; }
};

/// What the preset programs choose on the command line.
struct PresetChoice {
    std::string name;
    std::vector<double> pv;  ///< empty: the preset's levels and a sweep
    PhotoinhibitionSide side = PhotoinhibitionSide::bilateral;
    int starts = 512;
    double noise = 3;
    std::uint64_t seed = 1;
};

/// The names --preset accepts: the line attractor (published and tuned) and the discrete presets.
std::vector<std::string> preset_names() {
    std::vector<std::string> names = {"continuous", "continuous_tuned"};
    for (const auto& n : inagaki2019_preset_names()) names.push_back(n);
    return names;
}

void check_preset_name(const std::string& name) {
    const auto names = preset_names();
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    require(std::find(names.begin(), names.end(), name) != names.end(), "--preset", name, "must be one of: " + known);
}

/// Solves every condition: one per PV level (listed; the first drawn over the trajectories)
/// and per base input, plus, without --pv, a sweep of 61 strengths up to the largest level.
/// `bases` are (name, input without light) pairs, `drive` the light's input per unit PV.
template <class M>
void solve_conditions(Analysis& a, const M& model, const std::vector<std::pair<std::string, Vector<double>>>& bases,
                      const Vector<double>& drive, const PresetChoice& c, const std::vector<double>& preset_levels,
                      const FixedPointOptions& fpo) {
    const std::vector<double> levels = c.pv.empty() ? preset_levels : c.pv;
    std::vector<std::pair<double, bool>> all;
    for (double pv : levels) all.push_back({pv, true});
    if (c.pv.empty()) {
        a.sweep = true;
        const double top = *std::max_element(levels.begin(), levels.end());
        for (int k = 0; k <= 60; ++k) all.push_back({top * k / 60.0, false});
    }
    const Matrix<double> x0 = sample_initial_states<double>(a.trajectories, c.starts, c.noise, c.seed);
    for (const auto& [pv, main] : all)
        for (const auto& [name, u] : bases) {
            Condition cond;
            cond.pv = pv;
            cond.main = main;
            cond.in_plane = main && pv == levels.front();  // the light's points are in pv_sweep.png
            cond.input.name = name + " pv=" + num(pv, 4);
            cond.input.u = u + pv * drive;
            cond.found = find_fixed_points(model, cond.input, x0, fpo);
            a.conditions.push_back(std::move(cond));
        }
}

/// The discrete-attractor presets (four populations, two hemispheres).
Analysis discrete_analysis(const PresetChoice& c, const FixedPointOptions& fpo) {
    const auto p = inagaki2019_preset(c.name);
    const auto model = make_inagaki2019_model<double>(p);
    Analysis a;
    a.title = c.name + ", delay epoch";
    a.state_prefix = "h";
    for (bool right : {true, false}) {
        Vector<double> t;
        a.trajectories.push_back(noise_free_trial(model, p, right, t));
        a.times.push_back(t);
        a.trajectory_names.push_back(right ? "right" : "left");
    }
    // Coding directions of each hemisphere over the last cd_window ms of the delay (populations
    // 1, 2 and 3, 4), normalised so that the right trial is 1 and the left trial 0.
    auto window_rates = [&](int tr) {
        const Matrix<double>& S = a.trajectories[std::size_t(tr)];
        const index_t n = std::max<index_t>(1, index_t(double(p.cd_window) / 10.0));
        Vector<double> m = Vector<double>::Zero(4);
        for (index_t k = S.cols() - n; k < S.cols(); ++k) m += model.rates(S.col(k));
        return Vector<double>(m / double(n));
    };
    const Vector<double> rR = window_rates(0), rL = window_rates(1);
    auto make = [&](index_t first) {
        Projection pr;
        pr.first = first;
        pr.d = (rR.segment<2>(first) - rL.segment<2>(first)).normalized();
        pr.left = pr.d.dot(rL.segment<2>(first));
        pr.span = pr.d.dot(rR.segment<2>(first)) - pr.left;
        return pr;
    };
    const Projection h1 = make(0), h2 = make(2);
    require(std::abs(h1.span) > 1e-12, "preset", c.name, "right and left noise-free trials end in the same state");
    a.cd = [h1, model](const Vector<double>& x) { return h1(model.rates(x)); };
    const bool two = std::abs(h2.span) > 1e-12;
    a.second = [h2, two, model](const Vector<double>& x) { return two ? h2(model.rates(x)) : 0.0; };
    a.a_label = "CD projection, hemisphere 1 (populations 1, 2)";
    a.b_label = "CD projection, hemisphere 2 (populations 3, 4)";
    a.light = std::string(to_string(c.side));

    const Ramp ramp{p.ramp_start, p.ramp_ms, p.ramp_amp};
    const double ramp_end = ramp(p.delay_end - p.dt);
    std::vector<std::pair<std::string, Vector<double>>> bases;
    for (int k = 0; k < (p.withhold_ramp ? 2 : 1); ++k) {
        Vector<double> rm = Vector<double>::Ones(4);
        if (p.withhold_ramp) rm[k == 0 ? 1 : 0] = 0;
        bases.push_back({p.withhold_ramp ? (k == 0 ? "delay_right" : "delay_left") : "delay", ramp_end * rm});
    }
    solve_conditions(a, model, bases, inagaki2019_light_drive<double>(p, c.side), c, p.pv_levels, fpo);
    return a;
}

/// Published weights, or j_IN set so that det(W_eff − I) = 0 for the 3×3 current-to-current
/// gain W_eff (every filter s at its steady state): then h = W_eff h is a line of fixed points.
/// det is linear in j_IN, so two evaluations give the root.
ContinuousAttractorParameters continuous_parameters(bool tuned) {
    ContinuousAttractorParameters q;
    if (!tuned) return q;
    auto det_at = [](double jIN) {
        ContinuousAttractorParameters r;
        r.j_IN = jIN;
        Eigen::Matrix3d A;
        A << r.j_CC - 1, r.j_CN, -r.j_CI, r.j_NC, r.j_NN - 1, -r.j_NI, r.j_IC, r.j_IN, -r.j_II - 1;
        return A.determinant();
    };
    const double d0 = det_at(550), d1 = det_at(551);
    q.j_IN = 550 - d0 / (d1 - d0);
    return q;
}

/// The line attractor (experiments/continuous_attractor_task.hpp): noise-free right and left
/// trials (stimulus ±3 on h_C, 20-ms edges) to the end of the delay; Euler with dt = 0.01 ms (the
/// fastest eigenvalue, ≈ −60 /ms, makes Euler unstable above dt ≈ 0.03 ms).
Analysis continuous_analysis(const PresetChoice& c, const FixedPointOptions& fpo) {
    const ContinuousAttractorTaskOptions task;
    const ContinuousAttractor<double> model(continuous_parameters(c.name == "continuous_tuned"));
    Analysis a;
    a.title = c.name + " (line attractor), delay epoch";
    a.state_prefix = "x";
    const double dt = 0.01, end = task.readout_ms;
    auto pulse = [&](double t) {
        if (t <= task.stim_start) return 0.0;
        if (t <= task.stim_end) return 1 - std::exp(-(t - task.stim_start) / task.tau_ext);
        return std::exp(-(t - task.stim_end) / task.tau_ext) * (1 - std::exp(-(task.stim_end - task.stim_start) / task.tau_ext));
    };
    for (double sign : {1.0, -1.0}) {
        Vector<double> x = Vector<double>::Zero(12), u = x, f(12);
        const long steps = long(std::llround(end / dt)), every = long(std::llround(10 / dt));
        Matrix<double> out(12, steps / every);
        Vector<double> times(out.cols());
        for (long k = 0; k < steps; ++k) {
            u[ContinuousAttractor<double>::hC] = sign * task.stim_amp * pulse(double(k) * dt);
            model.derivative(x, 0.0, u, f);
            x += dt * f;
            if ((k + 1) % every == 0 && (k + 1) / every - 1 < out.cols()) {
                out.col((k + 1) / every - 1) = x;
                times[(k + 1) / every - 1] = (double(k + 1) * dt - end) / 1000.0;  // s to the end of the delay
            }
        }
        a.trajectories.push_back(out);
        a.times.push_back(times);
        a.trajectory_names.push_back(sign > 0 ? "right" : "left");
    }
    // CD: h_C − h_N, normalised so that the right trial's end is 1 and the left's 0.
    const auto hC = ContinuousAttractor<double>::hC, hN = ContinuousAttractor<double>::hN;
    const double right = a.trajectories[0](hC, a.trajectories[0].cols() - 1) - a.trajectories[0](hN, a.trajectories[0].cols() - 1);
    const double left = a.trajectories[1](hC, a.trajectories[1].cols() - 1) - a.trajectories[1](hN, a.trajectories[1].cols() - 1);
    require(std::abs(right - left) > 1e-12, "preset", c.name, "right and left noise-free trials end in the same state");
    a.cd = [=](const Vector<double>& x) { return (x[hC] - x[hN] - left) / (right - left); };
    a.second = [](const Vector<double>& x) { return x[ContinuousAttractor<double>::hI]; };
    a.a_label = "CD projection (h_C - h_N; right trial 1, left 0)";
    a.b_label = "inhibitory current h_I";
    a.light = "on h_I";
    Vector<double> drive = Vector<double>::Zero(12);
    drive[ContinuousAttractor<double>::hI] = 1;
    solve_conditions(a, model, {{"delay", Vector<double>::Zero(12)}}, drive, c, task.pv_levels, fpo);
    return a;
}

// ---- trained networks -------------------------------------------------------------------------

/// What the trained analyses share: the input choice and the search.
struct TrainedSearch {
    TrainedInputChoice input;
    int starts = 1024;
    double noise = 0.5;
    std::uint64_t seed = 1;
    FixedPointOptions fpo;
    bool tolerate_refusal = false;  ///< record a network that does not separate the trials instead of failing
};

/// The fixed points of one trained network (a TrainedModel of any transfer function).
template <class Model>
Analysis trained_analysis(const Model& m, const std::string& source, const TrainedSearch& s) {
    const auto& task = m.task;
    std::cerr << "network: " << source << ", N = " << task.units() << "\n";
    // Refused here, before any search: an unknown epoch or a time outside the trial.
    const std::vector<InputCondition<double>> conditions = trained_input_conditions(task, s.input);
    Analysis a;
    a.title = "trained network, N = " + std::to_string(task.units()) + ", input: " + s.input.stem();
    a.state_prefix = "x";
    a.realization = m.realization;
    // Trials that end alike to rounding are refused by the classifier itself; with
    // tolerate_refusal the realisation is listed as not analysed instead.
    std::optional<SeparationClassifier<double>> fitted;
    try {
        fitted.emplace(SeparationClassifier<double>::fit(task));
    } catch (const invalid_parameter& e) {
        if (!s.tolerate_refusal) throw;
        std::string what = e.what();
        if (what.rfind("neurodyn: ", 0) == 0) what.erase(0, 10);
        a.refused = "not analysed: " + what;
        std::cerr << source << ": " << a.refused << "\n";
        return a;
    }
    const SeparationClassifier<double>& judge = *fitted;
    {
        // The CD axis is normalised by the right-left difference at the end of the delay: a
        // barely trained network whose trials end (almost) alike would give nonsense scales.
        const StepRange w = judge.window();
        const Matrix<double> d = task.run(0, Trial{}) - task.run(1, Trial{});
        const double diff = (d.middleCols(w.first, w.size()).rowwise().mean()).norm();
        // 1e-3 (rates in (0, 1)): below it the normalised axis magnifies rounding-level
        // differences into values of 1e6 and more.
        const std::string why = "the network must separate the trial types (by > 1e-3) for a coding direction";
        require(diff > 1e-3 || s.tolerate_refusal, "--training",
                source + ": right - left delay-end rates differ by " + num(diff), why + ": train it longer");
        if (!(diff > 1e-3)) {
            a.refused = "not analysed: right - left delay-end rates differ by " + num(diff) + "; " + why;
            std::cerr << source << ": " << a.refused << "\n";
            return a;
        }
    }
    Matrix<double> all_rates(task.units(), 0);
    for (index_t c = 0; c < 2; ++c) {
        const Matrix<double> x = trained_trial_states(task, c, 10);
        Vector<double> times(x.cols());
        for (index_t k = 0; k < x.cols(); ++k) times[k] = double(10 * k) * task.dt / 1000.0;
        a.trajectories.push_back(x);
        a.times.push_back(times);
        a.trajectory_names.push_back(condition_name(c));
        all_rates.conservativeResize(Eigen::NoChange, all_rates.cols() + x.cols());
        all_rates.rightCols(x.cols()) = task.network.rates(x);
    }
    // Second axis: the first principal component of the rates with the CD removed.
    const Vector<double> w = judge.direction();
    const Vector<double> mean = all_rates.rowwise().mean();
    Matrix<double> centred = all_rates.colwise() - mean;
    centred -= w * (w.transpose() * centred);
    Eigen::SelfAdjointEigenSolver<Matrix<double>> es(centred * centred.transpose());
    const Vector<double> pc = es.eigenvectors().col(es.eigenvectors().cols() - 1);
    const auto network = task.network;
    a.cd = [judge, network](const Vector<double>& x) {
        const Matrix<double> r = network.rates(x);
        return double(judge.projection(r)[0]);
    };
    a.second = [pc, mean, network](const Vector<double>& x) {
        return double(pc.dot(Vector<double>(network.rates(x)) - mean));
    };
    a.a_label = "CD projection (right 1, left 0)";
    a.b_label = "PC 1 of the rates orthogonal to the CD";

    const Matrix<double> x0 = sample_initial_states<double>(a.trajectories, s.starts, s.noise, s.seed);
    for (const auto& in : conditions) {
        Condition cond;
        cond.input = in;
        cond.found = find_fixed_points(task.network, cond.input, x0, s.fpo);
        a.conditions.push_back(std::move(cond));
    }
    return a;
}

/// The ranges `spec` names: "all" (0 to `count` − 1), or numbers and ranges such as "0-4,7";
/// with `count` < 0 only the syntax is checked (before the folder is read).
std::vector<index_t> realization_list(const std::string& spec, index_t count) {
    const std::string allowed = "must be 'all' or realisation numbers and ranges such as 0-4,7" +
                                (count < 0 ? std::string() : ", each below the " + std::to_string(count) +
                                                                 " realisations of the folder");
    std::vector<std::pair<index_t, index_t>> ranges;
    if (spec == "all") ranges.push_back({0, count - 1});
    std::stringstream items(spec == "all" ? "" : spec);
    for (std::string item; std::getline(items, item, ',');) {
        const auto dash = item.find('-', 1);
        const std::string lo = item.substr(0, dash), hi = dash == std::string::npos ? lo : item.substr(dash + 1);
        const auto digits = [](const std::string& t) {
            return !t.empty() && t.size() <= 9 &&
                   std::all_of(t.begin(), t.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
        };
        require(digits(lo) && digits(hi) && std::stol(lo) <= std::stol(hi), "--realizations", spec, allowed);
        ranges.push_back({std::stol(lo), std::stol(hi)});
    }
    require(!ranges.empty(), "--realizations", spec, allowed);
    std::vector<index_t> out;
    if (count < 0) return out;
    for (const auto& [lo, hi] : ranges) {
        require(hi < count, "--realizations", spec, allowed);
        for (index_t k = lo; k <= hi; ++k)
            if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
    }
    require(!out.empty(), "--realizations", spec, allowed);
    return out;
}

/// One analysis (--realization K, the best, or a network trained here), or one per realisation
/// of `spec`; realisations that do not separate the trial types are kept as refused entries, but
/// at least one must be analysed.
std::vector<Analysis> trained_analyses(examples::TrainedNetworkOptions net, const std::string& spec, TrainedSearch s) {
    const auto analyse = [&] {
        std::string source;
        return examples::with_trained_network(net, source, [&](const auto& m) { return trained_analysis(m, source, s); });
    };
    if (spec.empty()) return {analyse()};
    const index_t count = load_training_setup(net.training_dir).options.realizations;
    s.tolerate_refusal = true;
    std::vector<Analysis> out;
    for (index_t k : realization_list(spec, count)) {
        net.realization = k;
        out.push_back(analyse());
        out.back().prefix = "r" + std::to_string(k) + "/";
    }
    require(std::any_of(out.begin(), out.end(), [](const Analysis& a) { return a.refused.empty(); }), "--training",
            net.training_dir, "has no realisation among --realizations " + spec +
                                  " that separates the trial types, nothing to analyse (realisation " +
                                  std::to_string(out.front().realization) + ": " + out.front().refused + ")");
    return out;
}

// ---- output ---------------------------------------------------------------------------------

/// A listed condition with its analysis: the rows of every per-condition file, in this order.
struct Listed {
    const Analysis* a;
    const Condition* c;
    std::string name() const { return a->prefix + c->input.name; }
};

std::vector<Listed> listed(const std::vector<Analysis>& all) {
    std::vector<Listed> out;
    for (const auto& a : all)
        for (const auto& c : a.conditions)
            if (c.main) out.push_back({&a, &c});
    return out;
}

void write_data(const fs::path& out, const std::vector<Analysis>& all) {
    const std::vector<Listed> rows = listed(all);
    const Analysis& first = *std::find_if(all.begin(), all.end(), [](const Analysis& a) { return a.refused.empty(); });
    const index_t n = first.trajectories.front().rows();
    write_atomically(out / "fixed_points.csv", [&](std::ostream& os) {
        os.precision(10);
        os << "condition,point,kind,q,n_unstable,max_real_eigenvalue,cd_projection";
        for (index_t i = 0; i < n; ++i) os << ',' << first.state_prefix << i + 1;
        os << '\n';
        for (const auto& l : rows)
            for (std::size_t k = 0; k < l.c->found.points.size(); ++k) {
                const auto& p = l.c->found.points[k];
                os << l.name() << ',' << k << ',' << to_string(p.kind) << ',' << p.q << ',' << p.n_unstable << ','
                   << p.max_real_eigenvalue << ',' << l.a->cd(p.x);
                for (index_t i = 0; i < n; ++i) os << ',' << p.x[i];
                os << '\n';
            }
    });
    CsvWriter eig({"condition", "point", "kind", "index", "real", "imag"});
    CsvWriter plane({"condition_index", "condition", "point", "kind", "cd_projection", "second_axis", "realization"});
    CsvWriter st({"condition", "start", "status", "iterations", "factorisations", "residual", "q", "point", "message"});
    for (std::size_t ci = 0; ci < rows.size(); ++ci) {
        const Analysis* a = rows[ci].a;
        const Condition* c = rows[ci].c;
        for (std::size_t k = 0; k < c->found.points.size(); ++k) {
            const auto& p = c->found.points[k];
            for (index_t e = 0; e < p.eigenvalues.size(); ++e)
                eig.row(rows[ci].name(), k, std::string(to_string(p.kind)), e, p.eigenvalues[e].real(),
                        p.eigenvalues[e].imag());
            plane.row(ci, rows[ci].name(), k, std::string(to_string(p.kind)), a->cd(p.x), a->second(p.x),
                      a->realization);
        }
        for (std::size_t k = 0; k < c->found.starts.size(); ++k) {
            const auto& o = c->found.starts[k];
            st.row(rows[ci].name(), k, std::string(to_string(o.status)), o.iterations, o.factorisations, o.residual,
                   o.q, o.point, o.message);
        }
    }
    eig.save(out / "eigenvalues.csv");
    st.save(out / "starts.csv");
    plane.save(out / "points_plane.csv");
    CsvWriter tr({"trajectory", "time_s", "cd_projection", "second_axis"});
    for (const auto& a : all)
        for (std::size_t j = 0; j < a.trajectories.size(); ++j)
            for (index_t k = 0; k < a.trajectories[j].cols(); ++k)
                tr.row(a.prefix + a.trajectory_names[j], a.times[j][k], a.cd(a.trajectories[j].col(k)),
                       a.second(a.trajectories[j].col(k)));
    tr.save(out / "trajectories.csv");
    if (first.sweep) {
        CsvWriter sw({"pv", "condition", "point", "kind", "n_unstable", "cd_projection", "second_axis"});
        for (const auto& c : first.conditions) {
            if (c.main) continue;
            for (std::size_t k = 0; k < c.found.points.size(); ++k) {
                const auto& p = c.found.points[k];
                sw.row(c.pv, c.input.name, k, std::string(to_string(p.kind)), p.n_unstable, first.cd(p.x),
                       first.second(p.x));
            }
        }
        sw.save(out / "pv_sweep.csv");
    }
}

/// The points of one kind in order of CD projection: "cd;cd;…", their slowest eigenvalues and
/// their numbers of unstable directions.
std::array<std::string, 3> point_lists(const Listed& l, FixedPointKind kind) {
    std::vector<std::tuple<double, double, int>> v;
    for (const auto& p : l.c->found.points)
        if (p.kind == kind) v.push_back({l.a->cd(p.x), double(p.max_real_eigenvalue), p.n_unstable});
    std::sort(v.begin(), v.end());
    std::array<std::string, 3> out;
    for (const auto& [x, e, k] : v) {
        const std::string sep = out[0].empty() ? "" : ";";
        out[0] += sep + num(x, 3);
        out[1] += sep + num(e, 3);
        out[2] += sep + std::to_string(k);
    }
    return out;
}

/// The attractor presets' picture: stable points within 0.25 of CD 0 and of CD 1 and, between
/// them, a saddle with one unstable direction (whose stable manifold separates the two basins).
bool attractor_pair(const Listed& l) {
    bool pair = false;
    for (const auto& s0 : l.c->found.points)
        for (const auto& s1 : l.c->found.points)
            for (const auto& m : l.c->found.points) {
                if (s0.kind != FixedPointKind::stable || s1.kind != FixedPointKind::stable ||
                    m.kind != FixedPointKind::saddle || m.n_unstable != 1)
                    continue;
                const double a = l.a->cd(s0.x), b = l.a->cd(s1.x), c = l.a->cd(m.x);
                pair = pair || (std::abs(a) <= 0.25 && std::abs(b - 1) <= 0.25 && a < c && c < b);
            }
    return pair;
}

/// fixed_points_summary.csv: one row per listed condition (and per refused realisation).
void write_summary(const fs::path& out, const std::vector<Analysis>& all) {
    CsvWriter s({"realization", "condition", "stable", "stable_cd", "stable_slowest_eigenvalue", "saddles", "saddle_cd",
                 "saddle_n_unstable", "slow", "other", "not_converged", "attractor_pair", "note"});
    for (const auto& a : all) {
        const std::string r = a.realization < 0 ? "" : std::to_string(a.realization);
        if (!a.refused.empty()) s.row(r, "", 0, "", "", 0, "", "", 0, 0, 0, 0, a.refused);
        for (const auto& c : a.conditions) {
            if (!c.main) continue;
            const Listed l{&a, &c};
            const auto stable = point_lists(l, FixedPointKind::stable), saddle = point_lists(l, FixedPointKind::saddle);
            const long other = c.found.count(FixedPointKind::marginal) + c.found.count(FixedPointKind::unstable);
            s.row(r, c.input.name, c.found.count(FixedPointKind::stable), stable[0], stable[1],
                  c.found.count(FixedPointKind::saddle), saddle[0], saddle[2], c.found.count(FixedPointKind::slow),
                  other, c.found.count(StartStatus::not_converged), int(attractor_pair(l)), "");
        }
    }
    s.save(out / "fixed_points_summary.csv");
}

void write_manifest(const fs::path& out, const std::vector<Analysis>& all, const std::string& title) {
    auto m = Manifest::open(out, title);
    int analysed = 0, pairs = 0, two_stable = 0;
    for (const auto& a : all) {
        analysed += a.refused.empty();
        bool pair = false, two = false;
        for (const auto& c : a.conditions) {
            if (!c.main) continue;
            pair = pair || attractor_pair({&a, &c});
            two = two || c.found.count(FixedPointKind::stable) == 2;
            if (all.size() > 1) continue;  // per realisation: fixed_points_summary.csv (the report's table)
            const std::string name = a.prefix + c.input.name;
            m.number("stable points, " + name, double(c.found.count(FixedPointKind::stable)))
                .number("saddles, " + name, double(c.found.count(FixedPointKind::saddle)))
                .number("slow points, " + name, double(c.found.count(FixedPointKind::slow)))
                .number("starts not converged, " + name, double(c.found.count(StartStatus::not_converged)));
        }
        pairs += pair;
        two_stable += a.refused.empty() && two;
    }
    if (all.size() > 1)
        m.number("realisations analysed", analysed)
            .number("realisations with stable points at CD 0 and 1 and a 1-unstable-direction saddle between", pairs)
            .number("realisations with exactly two stable points", two_stable);
    m.save();
}

/// gnuplot point style per kind: stable filled circle, saddle open triangle, slow cross, others open square.
std::string kind_style(const std::string& kind, double size = 1.8) {
    const std::string ps = " ps " + num(size, 3);
    if (kind == "stable") return "pt 7" + ps;
    if (kind == "saddle") return "pt 8" + ps + " lw 2";
    if (kind == "slow") return "pt 2" + ps + " lw 2";
    return "pt 4" + ps + " lw 2";
}

/// Whether any point of the given conditions is of `kind`.
bool has_kind(const std::vector<const Condition*>& cs, const std::string& kind) {
    for (const auto* c : cs)
        for (const auto& p : c->found.points)
            if (to_string(p.kind) == kind) return true;
    return false;
}

void draw_figures(const fs::path& out, const std::vector<Analysis>& all) {
    const char* colours[6] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
    // The plane is drawn for the first analysed realisation (each has its own axes).
    const Analysis& a = *std::find_if(all.begin(), all.end(), [](const Analysis& x) { return x.refused.empty(); });
    // Conditions as numbered in points_plane.csv, and which of them are drawn in the plane.
    const std::vector<Listed> rows = listed(all);
    std::vector<const Condition*> main;
    for (const auto& l : rows) main.push_back(l.c);
    std::vector<int> shown;
    for (std::size_t c = 0; c < rows.size() && shown.size() < 6; ++c)
        if (rows[c].a == &a && rows[c].c->in_plane) shown.push_back(int(c));
    const std::vector<std::string> kinds = {"stable", "saddle", "slow", "marginal", "unstable"};
    const std::string which = a.prefix.empty() ? "" : ", realisation " + std::to_string(a.realization);
    {
        Gnuplot fig(out / "fixed_points.png", 1000, 800);
        fig << "set datafile separator ','\nset key outside right top\nset grid\n"
            << "set xlabel " << gnuplot_quote(a.a_label) << "\nset ylabel " << gnuplot_quote(a.b_label) << "\n"
            << "set title " << gnuplot_quote("Fixed points over the trials, " + a.title + which) << " noenhanced\n"
            << "plot " << q(out / "trajectories.csv") << " using (strcol(1) eq " << gnuplot_quote(a.prefix + "right")
            << " ? $3 : 1/0):4 with lines lw 2 lc rgb '#2166ac' title 'right trial', '' using (strcol(1) eq "
            << gnuplot_quote(a.prefix + "left") << " ? $3 : 1/0):4 with lines lw 2 lc rgb '#b2182b' title 'left trial'";
        for (std::size_t j = 0; j < shown.size(); ++j)
            for (const auto& k : kinds) {
                const Listed& l = rows[std::size_t(shown[j])];
                if (!has_kind({l.c}, k)) continue;
                fig << ", " << q(out / "points_plane.csv") << " using ($1 == " << shown[j] << " && strcol(4) eq '" << k
                    << "' ? $5 : 1/0):6 with points " << kind_style(k) << " lc rgb '" << colours[j] << "' title "
                    << gnuplot_quote(k + ", " + l.name()) << " noenhanced";
            }
        fig << "\n";
        fig.caption("Fixed points (filled circles stable, triangles saddles, crosses slow points) of the "
                    "unperturbed delay over the noise-free right and left trials" + which + ", in the plane of " +
                    a.a_label + " and " + a.b_label);
        fig.render();
    }
    bool any_point = false;
    for (const auto* c : main) any_point = any_point || !c->found.points.empty();
    if (any_point) {
        Gnuplot fig(out / "spectra.png", 1000, 700);
        fig << "set datafile separator ','\nset key outside right top\nset grid\nset xlabel 'Re {/Symbol l} (1/ms)'\n"
            << "set ylabel 'Im {/Symbol l} (1/ms)'\nset xzeroaxis\nset yzeroaxis\n"
            << "set title " << gnuplot_quote("Jacobian eigenvalues at the fixed points, " + a.title) << " noenhanced\n"
            << "plot ";
        bool first = true;
        for (std::size_t c = 0; c < std::min<std::size_t>(main.size(), 6); ++c)
            for (const auto& k : kinds) {
                if (!has_kind({main[c]}, k)) continue;
                // Later conditions drawn smaller: identical spectra (a linear model) stay visible as rings.
                const double size = 1.2 + 0.6 * double(std::min<std::size_t>(main.size(), 6) - 1 - c);
                fig << (first ? "" : ", ") << q(out / "eigenvalues.csv") << " using (strcol(1) eq "
                    << gnuplot_quote(rows[c].name()) << " && strcol(3) eq '" << k << "' ? $5 : 1/0):6 with points "
                    << kind_style(k, size) << " lc rgb '" << colours[c] << "' title "
                    << gnuplot_quote(k + ", " + rows[c].name()) << " noenhanced";
                first = false;
            }
        fig << "\n";
        fig.caption("Eigenvalues of the Jacobian at every point found (symbol: the point's kind; colour: condition" +
                    std::string(main.size() > 6 ? ", the first 6" : "") + "); a positive real part is an unstable "
                    "direction");
        fig.render();
    }
    if (all.size() > 1 && any_point) {
        // The answer at a glance: where each realisation's points lie on its own coding direction.
        const char* kc[5] = {"#1a1a1a", "#d95f02", "#7570b3", "#1b9e77", "#e7298a"};
        // Every listed realisation keeps its place on the axis, analysed or not.
        index_t lo = all.front().realization, hi = lo;
        std::string skipped;
        for (const auto& r : all) {
            lo = std::min(lo, r.realization), hi = std::max(hi, r.realization);
            if (!r.refused.empty()) skipped += (skipped.empty() ? "" : ", ") + std::to_string(r.realization);
        }
        Gnuplot fig(out / "realizations.png", 1000, 700);
        fig << "set datafile separator ','\nset key outside right top\nset grid\nset xlabel 'realisation'\n"
            << "set ylabel 'CD projection (right trial 1, left 0)'\nset xtics 1\nset xrange [" << num(lo - 0.5, 3)
            << ":" << num(hi + 0.5, 3) << "]\n"
            << "set title " << gnuplot_quote("Fixed points of each realisation, " + a.title) << " noenhanced\nplot ";
        bool first = true;
        for (std::size_t k = kinds.size(); k-- > 0;) {  // stable points last: drawn on top
            if (!has_kind(main, kinds[k])) continue;
            fig << (first ? "" : ", ") << q(out / "points_plane.csv") << " using 7:(strcol(4) eq '" << kinds[k]
                << "' ? $5 : 1/0) with points " << kind_style(kinds[k], k == 0 ? 2.2 : 1.4) << " lc rgb '" << kc[k]
                << "' title '" << kinds[k] << "'";
            first = false;
        }
        fig << "\n";
        fig.caption("Every point found, per realisation, on that realisation's coding direction: discrete attractors "
                    "are stable points at 0 and 1 with a saddle between" +
                    (skipped.empty() ? std::string()
                                     : "; not analysed (right and left trials end alike, no coding direction): " +
                                           skipped));
        fig.render();
    }
    if (a.sweep) {
        // Two panels, one per plane coordinate: with light on one hemisphere the other one's
        // CD (bottom) shows what is left to restore the memory.
        Gnuplot fig(out / "pv_sweep.png", 1000, 900);
        fig << "set datafile separator ','\nset key outside right top\nset grid\n"
            << "set multiplot layout 2,1 title "
            << gnuplot_quote("Fixed points against photoinhibition strength (" + a.light + "), " + a.title)
            << " noenhanced\n";
        const char* kc[5] = {"#1a1a1a", "#d95f02", "#7570b3", "#1b9e77", "#e7298a"};
        std::vector<const Condition*> sweep;
        for (const auto& c : a.conditions)
            if (!c.main) sweep.push_back(&c);
        for (int panel = 0; panel < 2; ++panel) {
            fig << "set ylabel " << gnuplot_quote(panel == 0 ? a.a_label : a.b_label) << "\n"
                << (panel == 1 ? "set xlabel 'photoinhibition strength PV'\n" : "unset xlabel\n") << "plot ";
            bool first = true;
            for (std::size_t k = 0; k < kinds.size(); ++k) {
                if (!has_kind(sweep, kinds[k])) continue;
                fig << (first ? "" : ", ") << q(out / "pv_sweep.csv") << " using 1:(strcol(4) eq '" << kinds[k]
                    << "' ? $" << (panel == 0 ? 6 : 7) << " : 1/0) with points " << kind_style(kinds[k], 1.4)
                    << " lc rgb '" << kc[k] << "' title '" << kinds[k] << "'";
                first = false;
            }
            fig << "\n";
        }
        fig << "unset multiplot\n";
        fig.caption("Every point found at each photoinhibition strength (" + a.light + "): top " + a.a_label +
                    ", bottom " + a.b_label + "; where the attractors and the saddles between them merge, and "
                    "where the light leaves one point");
        fig.render();
    }
}

}  // namespace

int main(int argc, char** argv) {
    PresetChoice preset;
    std::string pv_type, epoch, realizations;
    int starts = 0, threads = 0;
    double noise = -1, time_ms = -1;
    std::uint64_t seed = 1;
    examples::OutputOptions options;
    examples::TrainedNetworkOptions net;
    const auto setup = [&](CLI::App& app) {
        std::string names;
        for (const auto& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
        app.add_option("--preset", preset.name, "attractor model instead of a trained network: " + names);
        app.add_option("--pv", preset.pv, "photoinhibition strength(s) (default: the preset's levels and a sweep)")
            ->check(examples::finite_in(0, 1000))
            ->delimiter(',');
        app.add_option("--pv-type", pv_type, "discrete presets: bilateral (default), ipsilateral (hemisphere 1) or "
                                             "contralateral (hemisphere 2) light");
        examples::add_trained_network_options(app, net);
        app.add_option("--realizations", realizations,
                       "analyse these realisations of the training folder: all, or numbers and ranges (0-4,7)");
        app.add_option("--epoch", epoch, "trained network: input averaged over this epoch (default delay)");
        app.add_option("--time", time_ms, "trained network: input at this time, ms from the trial start")
            ->check(examples::finite_in(0, 1e9));
        app.add_option("--starts", starts, "initial states (default 512 for a preset, 1024 for a network)")
            ->check(examples::count_in(1, 1000000));
        app.add_option("--noise", noise, "sd of the noise added to the sampled states (default 3 preset, 0.5 network)")
            ->check(examples::non_negative());
        app.add_option("--seed", seed, "seed of the initial states");
        app.add_option("--threads", threads, "threads (0: OpenMP default)")->check(examples::thread_count());
        examples::add_output_options(app, options);
    };
    const std::string about = "Fixed points and slow points of an attractor preset or a trained network, classified";
    return examples::run_program(argc, argv, about, setup, [&] {
        const examples::Stopwatch elapsed;
        const bool is_preset = !preset.name.empty();
        if (is_preset) {
            require(net.training_dir.empty(), "--training", net.training_dir, "cannot be combined with --preset");
            require(net.realization < 0, "--realization", net.realization, "cannot be combined with --preset");
            require(epoch.empty() && time_ms < 0, "--epoch/--time", epoch.empty() ? num(time_ms) : epoch,
                    "are for trained networks, not with --preset");
            check_preset_name(preset.name);  // unknown names fail here, before any output
            if (!pv_type.empty()) {
                require(preset.name.rfind("continuous", 0) != 0, "--pv-type", pv_type,
                        "is for the discrete presets (the line attractor's light acts on h_I)");
                preset.side = parse_photoinhibition_side(pv_type, "--pv-type");
            }
        } else {
            require(preset.pv.empty(), "--pv", preset.pv.empty() ? 0.0 : preset.pv.front(), "needs --preset");
            require(pv_type.empty(), "--pv-type", pv_type, "needs --preset");
            require(epoch.empty() || time_ms < 0, "--epoch", epoch, "cannot be combined with --time");
            examples::check_trained_network_options(net);
        }
        require(realizations.empty() || !net.training_dir.empty(), "--realizations", realizations,
                "needs --training (a training folder)");
        require(realizations.empty() || net.realization < 0, "--realizations", realizations,
                "cannot be combined with --realization");
        if (!realizations.empty()) realization_list(realizations, -1);  // the syntax, before any output
        FixedPointOptions fpo;
        fpo.threads = threads;
        preset.starts = starts ? starts : (is_preset ? 512 : 1024);
        preset.noise = noise >= 0 ? noise : (is_preset ? 3.0 : 0.5);
        preset.seed = seed;
        TrainedSearch search{{}, preset.starts, preset.noise, seed, fpo};
        if (!epoch.empty()) search.input.epoch = epoch;
        search.input.time_ms = time_ms;
        OutputFolder folder(options.dir, {net.training_dir});
        const fs::path& out = folder.path();
        const std::vector<Analysis> all = !is_preset ? trained_analyses(net, realizations, search)
                                          : preset.name.rfind("continuous", 0) == 0
                                              ? std::vector{continuous_analysis(preset, fpo)}
                                              : std::vector{discrete_analysis(preset, fpo)};
        for (const auto& l : listed(all))
            std::cerr << l.name() << ": " << l.c->found.count(FixedPointKind::stable) << " stable, "
                      << l.c->found.count(FixedPointKind::saddle) << " saddles, "
                      << l.c->found.count(FixedPointKind::marginal) << " marginal, "
                      << l.c->found.count(FixedPointKind::slow) << " slow, "
                      << l.c->found.count(StartStatus::not_converged) << " starts not converged\n";
        const Analysis& a = all.front();
        const std::string title = "Fixed points: " + a.title + (a.light.empty() ? "" : ", light " + a.light) +
                                  (realizations.empty() ? "" : ", realisations " + realizations);
        write_data(out, all);
        write_summary(out, all);
        write_manifest(out, all, title);
        if (examples::figures_wanted(options)) draw_figures(out, all);
        folder.commit();
        std::cerr << "output in " << folder.target().string() << " (" << elapsed() << " s)\n";
    });
}
