#pragma once
/// \file rajan_training.hpp
/// The Rajan, Harvey & Tank (2016)-style protocol: train K random realisations of a chaotic
/// logistic rate network (one unit per recorded neuron, all synapses plastic) on trial-averaged
/// right/left rates, and keep the realisations whose delay-epoch selectivity agrees with the
/// targets' for more than half of the selective neurons.
///
/// - Targets: rates (2, neurons, steps) in Hz or any unit, index 0 right, 1 left, 1-ms steps;
///   they are normalised jointly to (0, 1) (`normalise_jointly`).
/// - `suppressed` variant: each delay-selective neuron's rate is set to 0 in its non-preferred
///   trial type (the whole trial) before normalisation.
/// - Realisation k draws J ~ N(0, g²/N) from Rng(seed, k, 0xA1) and its frozen OU inputs from
///   seed·1000003 + k, so realisations are independent and each is reproducible on its own.
/// - Delay selectivity of a neuron: the sign of mean(right) − mean(left) over the delay epoch;
///   a neuron counts as selective when |R − L| / (R + L) ≥ `selectivity_threshold` (delay means
///   of the raw target rates, which must then be ≥ 0). Network preferences use the same
///   sign on the network's test rates.
///
/// - A training folder (`save_training`) holds the normalised targets, J_initial_<k>.npy,
///   J_trained_<k>.npy, rates_<k>.npy and `training_setup.json` with every parameter needed to
///   rebuild realisation k's task elsewhere (`load_trained_rnn`): the frozen inputs are not
///   stored but regenerated bitwise by `realization_inputs`, the function training itself uses.
///
/// \code
/// auto t = neurodyn::synthetic_targets({});
/// neurodyn::RajanOptions o;
/// o.realizations = 2;
/// auto runs = neurodyn::rajan_training(t.rates, t.epochs, o);
/// neurodyn::save_training("out/training", runs, t.epochs, o);
/// auto loaded = neurodyn::load_trained_rnn("out/training");   // best realisation
/// auto rates = loaded.task.run(0, neurodyn::Trial{});
/// \endcode
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/analysis/targets.hpp"
#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/experiments/trained_rnn.hpp"
#include "neurodyn/inputs/frozen_ou.hpp"
#include "neurodyn/io/npy.hpp"
#include "neurodyn/io/session.hpp"
#include "neurodyn/learn/force_trainer.hpp"

namespace neurodyn {

enum class TargetVariant { raw, suppressed };

struct RajanOptions {
    index_t realizations = 10;
    int max_iterations = 50;
    double g = 1.2;
    double tau = 10.0;  ///< ms
    double dt = 1.0;    ///< ms, one target column per step
    FrozenOu inputs{1000.0, 10.0};
    std::vector<std::string> shared_epochs{"presample", "delay"};
    std::string delay_epoch = "delay";
    double pvar_threshold = 0.85;
    double alpha = 1.0;
    index_t train_every = 1;
    double selectivity_threshold = 0.1;
    double agreement_required = 0.5;  ///< keep a realisation above this agreement
    TargetVariant variant = TargetVariant::raw;
    std::uint64_t seed = 1;
    bool progress = true;  ///< one line per finished realisation on stderr
    /// If set, realisation k checkpoints to <dir>/realization_<k>.ckpt after every iteration
    /// and resumes from that file when it exists (an interrupted run continues exactly).
    std::filesystem::path checkpoint_dir;

    void validate() const {
        require(realizations >= 1, "realizations", realizations, "must be >= 1");
        require(max_iterations >= 1, "max_iterations", max_iterations, "must be >= 1");
        require_nonnegative("g", g);
        require_positive("tau", tau);
        require_positive("dt", dt);
        require_nonnegative("selectivity_threshold", selectivity_threshold);
        require(agreement_required >= 0 && agreement_required < 1, "agreement_required", agreement_required,
                "must be in [0, 1)");
    }
};

/// Delay preference per neuron: +1 right, −1 left, 0 not selective (|R−L|/(R+L) < threshold).
/// With threshold 0 only the sign counts (for network rates in (0, 1)).
template <class T>
std::vector<int> delay_preference(const xt::xtensor<T, 3>& rates, StepRange delay, double threshold) {
    require(rates.shape()[0] == 2, "rates", rates.shape()[0], "must have 2 conditions (right, left)");
    require(delay.first >= 0 && delay.last <= std::ptrdiff_t(rates.shape()[2]) && delay.size() > 0, "delay",
            "[" + std::to_string(delay.first) + ", " + std::to_string(delay.last) + ")",
            "must be a non-empty step range inside the trial");
    std::vector<int> pref(rates.shape()[1], 0);
    for (std::size_t i = 0; i < pref.size(); ++i) {
        double r = 0, l = 0;
        for (auto k = delay.first; k < delay.last; ++k) {
            r += double(rates(0, i, std::size_t(k)));
            l += double(rates(1, i, std::size_t(k)));
        }
        r /= double(delay.size());
        l /= double(delay.size());
        const double d = r - l;
        const bool selective = threshold <= 0 ? d != 0 : (r + l > 0 && std::abs(d) / (r + l) >= threshold);
        pref[i] = selective ? (d > 0 ? 1 : -1) : 0;
    }
    return pref;
}

/// The suppressed variant: rates of each selective neuron set to 0 in its non-preferred condition.
template <class T>
xt::xtensor<T, 3> suppress_nonpreferred(xt::xtensor<T, 3> rates, const std::vector<int>& pref) {
    require(pref.size() == rates.shape()[1], "preferences", pref.size(), "must have one entry per neuron");
    for (std::size_t i = 0; i < pref.size(); ++i) {
        if (pref[i] == 0) continue;
        const std::size_t other = pref[i] > 0 ? 1 : 0;
        xt::view(rates, other, i, xt::all()) = T(0);
    }
    return rates;
}

/// One trained realisation.
struct RealizationResult {
    index_t realization = 0;
    bool converged = false;
    int iterations = 0;
    std::vector<std::vector<double>> pvar;  ///< [iteration][condition]
    Matrix<double> J_initial, J_trained;
    xt::xtensor<double, 3> rates;           ///< network test rates (2, N, steps) after training
    std::vector<int> target_preference, network_preference;
    double agreement = 0;                   ///< fraction of selective neurons whose sign agrees
    bool kept = false;
    double seconds = 0;
};

/// Everything the protocol produced.
struct RajanResult {
    xt::xtensor<double, 3> targets;  ///< normalised (0, 1) targets actually trained on
    std::vector<int> target_preference;
    std::vector<RealizationResult> runs;
};

/// The initial random network of realisation k: J ~ N(0, g²/N) from Rng(seed, k, 0xA1).
/// \code
/// auto net = neurodyn::realization_network(options, 87, 3);   // what realisation 3 started from
/// \endcode
inline RateNetwork<Logistic<double>, double> realization_network(const RajanOptions& o, index_t units, index_t k) {
    require(k >= 0, "realization", k, "must be >= 0");
    Rng rng(o.seed, std::uint64_t(k), 0xA1);
    return RateNetwork<Logistic<double>, double>::random(units, o.g, o.tau, rng);
}

/// The frozen OU inputs (2, units, steps) of realisation k, exactly as `rajan_training` draws
/// them: `o.inputs` with seed·1000003 + k, shared in `o.shared_epochs`, on a grid of `o.dt`.
/// \code
/// auto h = neurodyn::realization_inputs<double>(options, 87, 6000, epochs, 3);
/// \endcode
template <Real T = double>
xt::xtensor<T, 3> realization_inputs(const RajanOptions& o, index_t units, index_t steps, const TaskEpochs& epochs,
                                     index_t k) {
    require(k >= 0, "realization", k, "must be >= 0");
    return o.inputs.generate<T>(units, 2, TimeGrid(o.dt, steps), epochs, o.shared_epochs,
                                o.seed * 1000003ULL + std::uint64_t(k));
}

/// Run the protocol (realisations in parallel with OpenMP; each is deterministic on its own).
inline RajanResult rajan_training(const xt::xtensor<double, 3>& rates, const TaskEpochs& epochs,
                                  const RajanOptions& o) {
    o.validate();
    require(rates.shape()[0] == 2, "targets", "shape with " + std::to_string(rates.shape()[0]) + " conditions",
            "must be (2, neurons, steps): index 0 right, 1 left");
    const auto N = index_t(rates.shape()[1]);
    const auto K = index_t(rates.shape()[2]);
    const TimeGrid grid(o.dt, K);
    const StepRange delay = epochs.steps(o.delay_epoch, grid);
    RajanResult out;
    out.target_preference = delay_preference(rates, delay, o.selectivity_threshold);
    const auto trained_rates =
        o.variant == TargetVariant::suppressed ? suppress_nonpreferred(rates, out.target_preference) : rates;
    out.targets = normalise_jointly(trained_rates);
    out.runs.resize(std::size_t(o.realizations));
    std::exception_ptr failure;
    std::mutex io;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (index_t k = 0; k < o.realizations; ++k) {
        try {
            const auto t0 = std::chrono::steady_clock::now();
            auto net = realization_network(o, N, k);
            const auto h = realization_inputs<double>(o, N, K, epochs, k);
            learn::ForceOptions fo;
            fo.alpha = o.alpha;
            fo.train_every = o.train_every;
            fo.dt = o.dt;
            fo.pvar_threshold = o.pvar_threshold;
            fo.max_iterations = o.max_iterations;
            fo.progress = learn::Progress::off;
            if (!o.checkpoint_dir.empty())
                fo.checkpoint = o.checkpoint_dir / ("realization_" + std::to_string(k) + ".ckpt");
            learn::ForceTrainer trainer(net, out.targets, h, fo);
            if (!fo.checkpoint.empty() && std::filesystem::exists(fo.checkpoint)) trainer.resume(fo.checkpoint);
            RealizationResult& r = out.runs[std::size_t(k)];
            r.realization = k;
            r.J_initial = net.weights();
            const auto res = trainer.train();
            r.converged = res.converged;
            r.iterations = res.iterations;
            r.pvar = res.pvar;
            r.J_trained = trainer.network().weights();
            r.rates = xt::xtensor<double, 3>::from_shape({2, std::size_t(N), std::size_t(K)});
            for (index_t c = 0; c < 2; ++c) {
                const Matrix<double>& x = trainer.test(c);
                for (index_t i = 0; i < N; ++i)
                    for (index_t s = 0; s < K; ++s) r.rates(std::size_t(c), std::size_t(i), std::size_t(s)) = x(i, s);
            }
            r.target_preference = out.target_preference;
            r.network_preference = delay_preference(r.rates, delay, 0.0);
            int sel = 0, agree = 0;
            for (std::size_t i = 0; i < r.target_preference.size(); ++i) {
                if (r.target_preference[i] == 0) continue;
                ++sel;
                agree += r.network_preference[i] == r.target_preference[i];
            }
            r.agreement = sel > 0 ? double(agree) / sel : 0.0;
            r.kept = r.agreement > o.agreement_required;
            r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (o.progress) {
                std::lock_guard<std::mutex> lock(io);
                std::fprintf(stderr, "realisation %ld: %s after %d iterations, pVar right %.3f left %.3f, "
                                     "delay selectivity agrees for %.0f%% (%s), %.1f s\n",
                             long(k), r.converged ? "converged" : "not converged", r.iterations,
                             r.pvar.empty() ? NAN : r.pvar.back()[0], r.pvar.empty() ? NAN : r.pvar.back()[1],
                             100 * r.agreement, r.kept ? "kept" : "dropped", r.seconds);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(io);
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
    return out;
}

/// The best realisation: the highest min(final pVar right, left) among the kept realisations,
/// or among all when none was kept.
inline index_t best_realization(const RajanResult& r) {
    require(!r.runs.empty(), "training result", "0 realisations", "needs at least one realisation");
    const bool any_kept = std::any_of(r.runs.begin(), r.runs.end(), [](const auto& x) { return x.kept; });
    auto score = [](const RealizationResult& x) {
        return x.pvar.empty() ? -1e300 : std::min(x.pvar.back()[0], x.pvar.back()[1]);
    };
    const RealizationResult* best = nullptr;
    for (const auto& x : r.runs)
        if ((x.kept || !any_kept) && (!best || score(x) > score(*best))) best = &x;
    return best->realization;
}

/// Task epochs of a recording session on its PSTH axis (ms from the axis start): presample,
/// sample, delay and response, from the median sample, delay and go-cue times.
/// \code
/// auto ep = neurodyn::session_epochs(session, 6000, 1.0);
/// \endcode
inline TaskEpochs session_epochs(const Session& s, index_t steps, double dt_ms) {
    require(!s.trials.empty(), "session '" + s.source + "'", "0 trials", "needs at least one trial");
    require(!s.t_axis.empty(), "session '" + s.source + "' t_axis", "empty", "needs the PSTH bin edges");
    auto median = [&](auto get) {
        std::vector<double> v;
        for (const auto& t : s.trials) v.push_back(get(t));
        std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
        return v[v.size() / 2];
    };
    const double t0 = s.t_axis.front();
    const double ms = 1000.0;
    const double sample = (median([](const SessionTrial& t) { return t.sample_start; }) - t0) * ms;
    const double delay = (median([](const SessionTrial& t) { return t.delay_start; }) - t0) * ms;
    const double cue = (s.median_cue() - t0) * ms;
    const double end = double(steps) * dt_ms;
    TaskEpochs e(end);
    e.add("presample", 0, sample).add("sample", sample, delay).add("delay", delay, cue).add("response", cue, end);
    return e;
}

/// Training targets of a session: correct control-trial PSTHs (Hz, `session_targets`) and
/// the session's epochs. The PSTH bins must be 1 ms (one target column per network step).
struct SessionTrainingTargets {
    xt::xtensor<double, 3> rates;  ///< (2, units, steps): right, left
    TaskEpochs epochs;
};

/// \code
/// auto t = neurodyn::session_training_targets(neurodyn::synthetic_session({}));
/// auto res = neurodyn::rajan_training(t.rates, t.epochs, options);
/// \endcode
inline SessionTrainingTargets session_training_targets(const Session& s) {
    require(s.t_axis.size() >= 2, "session '" + s.source + "' t_axis", s.t_axis.size(), "needs at least 2 bin edges");
    const double bin_ms = (s.t_axis[1] - s.t_axis[0]) * 1000.0;
    require(std::abs(bin_ms - 1.0) < 1e-6, "session PSTH bin (ms)", bin_ms, "must be 1 ms");
    auto rates = session_targets<double>(s);
    auto epochs = session_epochs(s, index_t(rates.shape()[2]), 1.0);
    return {std::move(rates), std::move(epochs)};
}

/// A trained realisation ready for perturbation experiments: the trained network with its
/// frozen inputs, targets and epochs, and the initial weights it started from.
struct TrainedTask {
    TrainedRnn<double> task;
    Matrix<double> J_initial;
    index_t realization = 0;
};

/// Realisation k of a training result as a TrainedTask (the inputs are regenerated).
/// \code
/// auto t = neurodyn::trained_task(result, epochs, options, neurodyn::best_realization(result));
/// \endcode
inline TrainedTask trained_task(const RajanResult& r, const TaskEpochs& epochs, const RajanOptions& o, index_t k) {
    require(k >= 0 && k < index_t(r.runs.size()), "realization", k,
            "must be in [0, " + std::to_string(r.runs.size()) + ")");
    const auto& run = r.runs[std::size_t(k)];
    const auto N = index_t(r.targets.shape()[1]), K = index_t(r.targets.shape()[2]);
    RateNetwork<Logistic<double>, double> net(run.J_trained, o.tau);
    return TrainedTask{TrainedRnn<double>(std::move(net), realization_inputs<double>(o, N, K, epochs, k), r.targets,
                                          epochs, o.dt),
                       run.J_initial, k};
}

/// File names inside a training folder.
namespace training_files {
inline constexpr const char* setup = "training_setup.json";
inline constexpr const char* targets = "targets_normalised.npy";
inline std::string J_initial(index_t k) { return "J_initial_" + std::to_string(k) + ".npy"; }
inline std::string J_trained(index_t k) { return "J_trained_" + std::to_string(k) + ".npy"; }
inline std::string rates(index_t k) { return "rates_" + std::to_string(k) + ".npy"; }
}  // namespace training_files

/// Write a training folder: targets_normalised.npy, J_initial_<k>.npy, J_trained_<k>.npy,
/// rates_<k>.npy (network test rates) per realisation, and training_setup.json (options,
/// epochs, shape, which realisations converged / were kept, the best, the file names), all
/// atomically.
/// \code
/// neurodyn::save_training("out/training", result, epochs, options);
/// \endcode
inline void save_training(const std::filesystem::path& dir, const RajanResult& r, const TaskEpochs& epochs,
                          const RajanOptions& o) {
    require(!r.runs.empty(), "training result", "0 realisations", "needs at least one realisation");
    std::filesystem::create_directories(dir);
    save_npy(dir / training_files::targets, r.targets);
    nlohmann::json j;
    j["format"] = "neurodyn training setup 1";
    j["seed"] = o.seed;
    j["g"] = o.g;
    j["tau"] = o.tau;
    j["dt"] = o.dt;
    j["tau_wn"] = o.inputs.tau_wn;
    j["h0"] = o.inputs.h0;
    j["shared_epochs"] = o.shared_epochs;
    j["delay_epoch"] = o.delay_epoch;
    j["variant"] = o.variant == TargetVariant::suppressed ? "suppressed" : "raw";
    j["alpha"] = o.alpha;
    j["train_every"] = o.train_every;
    j["pvar_threshold"] = o.pvar_threshold;
    j["max_iterations"] = o.max_iterations;
    j["selectivity_threshold"] = o.selectivity_threshold;
    j["agreement_required"] = o.agreement_required;
    j["N"] = r.targets.shape()[1];
    j["steps"] = r.targets.shape()[2];
    j["trial_ms"] = epochs.trial_ms();
    j["epochs"] = nlohmann::json::array();
    for (const auto& e : epochs.all()) j["epochs"].push_back({{"name", e.name}, {"start", e.start_ms}, {"end", e.end_ms}});
    j["realizations"] = r.runs.size();
    j["converged"] = nlohmann::json::array();
    j["kept"] = nlohmann::json::array();
    j["runs"] = nlohmann::json::array();
    j["files"] = {{"targets", training_files::targets},
                  {"J_initial", nlohmann::json::array()},
                  {"J_trained", nlohmann::json::array()},
                  {"rates", nlohmann::json::array()}};
    for (const auto& run : r.runs) {
        const index_t k = run.realization;
        save_npy(dir / training_files::J_initial(k), run.J_initial);
        save_npy(dir / training_files::J_trained(k), run.J_trained);
        save_npy(dir / training_files::rates(k), run.rates);
        if (run.converged) j["converged"].push_back(k);
        if (run.kept) j["kept"].push_back(k);
        j["runs"].push_back({{"realization", k},
                             {"converged", run.converged},
                             {"iterations", run.iterations},
                             {"pvar_right", run.pvar.empty() ? 0.0 : run.pvar.back()[0]},
                             {"pvar_left", run.pvar.empty() ? 0.0 : run.pvar.back()[1]},
                             {"agreement", run.agreement},
                             {"kept", run.kept}});
        j["files"]["J_initial"].push_back(training_files::J_initial(k));
        j["files"]["J_trained"].push_back(training_files::J_trained(k));
        j["files"]["rates"].push_back(training_files::rates(k));
    }
    j["best_realization"] = best_realization(r);
    const std::string text = j.dump(2) + "\n";
    write_atomically(dir / training_files::setup, [&](std::ostream& os) { os << text; });
}

namespace detail {
/// Field `key` of a JSON object as V; file_error naming the file and field otherwise.
template <class V>
V setup_field(const nlohmann::json& j, const std::string& file, const std::string& key) {
    const auto it = j.find(key);
    if (it == j.end()) throw file_error(file, key, "is missing");
    try {
        return it->template get<V>();
    } catch (const nlohmann::json::exception& e) {
        throw file_error(file, key, std::string("has the wrong type (") + e.what() + ")");
    }
}

/// A square N×N weight matrix from a .npy file of the training folder.
inline Matrix<double> load_weights(const std::filesystem::path& path, index_t N) {
    const xt::xarray<double> a = load_npy<double>(path, 2);
    if (a.shape()[0] != std::size_t(N) || a.shape()[1] != std::size_t(N))
        throw file_error(path.string(), "shape",
                         "is (" + std::to_string(a.shape()[0]) + ", " + std::to_string(a.shape()[1]) +
                             "), training_setup.json says N = " + std::to_string(N));
    Matrix<double> M(N, N);
    for (index_t i = 0; i < N; ++i)
        for (index_t c = 0; c < N; ++c) M(i, c) = a(std::size_t(i), std::size_t(c));
    return M;
}
}  // namespace detail

/// The options, epochs and shape recorded in a training folder's training_setup.json.
struct TrainingSetup {
    RajanOptions options;
    TaskEpochs epochs{1.0};
    index_t units = 0, steps = 0;
    index_t best_realization = 0;
    std::vector<index_t> converged, kept;
    nlohmann::json json;  ///< the whole file (per-realisation summaries, file names)
};

/// Read DIR/training_setup.json; a missing file, field or an inconsistent value throws
/// file_error naming the file and field.
/// \code
/// auto setup = neurodyn::load_training_setup("out/training");
/// \endcode
inline TrainingSetup load_training_setup(const std::filesystem::path& dir) {
    const auto path = dir / training_files::setup;
    const std::string file = path.string();
    std::ifstream in(path);
    if (!in) throw file_error(file, "", "cannot be opened (is '" + dir.string() + "' a training output folder?)");
    TrainingSetup s;
    try {
        in >> s.json;
    } catch (const nlohmann::json::exception& e) {
        throw file_error(file, "", std::string("is not valid JSON: ") + e.what());
    }
    const auto& j = s.json;
    if (!j.is_object()) throw file_error(file, "", "must hold a JSON object");
    using detail::setup_field;
    RajanOptions& o = s.options;
    o.seed = setup_field<std::uint64_t>(j, file, "seed");
    o.g = setup_field<double>(j, file, "g");
    o.tau = setup_field<double>(j, file, "tau");
    o.dt = setup_field<double>(j, file, "dt");
    o.inputs.tau_wn = setup_field<double>(j, file, "tau_wn");
    o.inputs.h0 = setup_field<double>(j, file, "h0");
    o.shared_epochs = setup_field<std::vector<std::string>>(j, file, "shared_epochs");
    o.delay_epoch = setup_field<std::string>(j, file, "delay_epoch");
    const auto variant = setup_field<std::string>(j, file, "variant");
    if (variant != "raw" && variant != "suppressed")
        throw file_error(file, "variant", "is '" + variant + "', expected 'raw' or 'suppressed'");
    o.variant = variant == "raw" ? TargetVariant::raw : TargetVariant::suppressed;
    o.alpha = setup_field<double>(j, file, "alpha");
    o.train_every = setup_field<index_t>(j, file, "train_every");
    o.pvar_threshold = setup_field<double>(j, file, "pvar_threshold");
    o.max_iterations = setup_field<int>(j, file, "max_iterations");
    o.selectivity_threshold = setup_field<double>(j, file, "selectivity_threshold");
    o.agreement_required = setup_field<double>(j, file, "agreement_required");
    o.realizations = setup_field<index_t>(j, file, "realizations");
    o.progress = false;
    try {
        o.validate();
        o.inputs.validate();
    } catch (const error& e) {
        throw file_error(file, "", std::string("holds invalid training options: ") + e.what());
    }
    s.units = setup_field<index_t>(j, file, "N");
    s.steps = setup_field<index_t>(j, file, "steps");
    if (s.units < 1) throw file_error(file, "N", "is " + std::to_string(s.units) + ", must be >= 1");
    if (s.steps < 2) throw file_error(file, "steps", "is " + std::to_string(s.steps) + ", must be >= 2");
    try {
        s.epochs = TaskEpochs(setup_field<double>(j, file, "trial_ms"));
        const auto ep = j.find("epochs");
        if (ep == j.end() || !ep->is_array()) throw file_error(file, "epochs", "is missing or not an array");
        for (const auto& e : *ep)
            s.epochs.add(setup_field<std::string>(e, file, "name"), setup_field<double>(e, file, "start"),
                         setup_field<double>(e, file, "end"));
        for (const auto& name : o.shared_epochs) (void)s.epochs[name];
        (void)s.epochs[o.delay_epoch];
    } catch (const file_error&) {
        throw;
    } catch (const error& e) {
        throw file_error(file, "epochs", e.what());
    }
    s.best_realization = setup_field<index_t>(j, file, "best_realization");
    if (s.best_realization < 0 || s.best_realization >= o.realizations)
        throw file_error(file, "best_realization",
                         "is " + std::to_string(s.best_realization) + ", not one of the " +
                             std::to_string(o.realizations) + " realisations");
    s.converged = setup_field<std::vector<index_t>>(j, file, "converged");
    s.kept = setup_field<std::vector<index_t>>(j, file, "kept");
    return s;
}

/// Load realisation k (default: the best) of a training folder written by `save_training`
/// as a TrainedTask: trained weights and targets from the .npy files, the frozen inputs
/// regenerated exactly as training drew them. J_initial_<k>.npy is checked against the
/// network the recorded seed and g draw, so a folder mixing runs is caught. Anything missing
/// or inconsistent throws file_error naming the file and field.
/// \code
/// auto t = neurodyn::load_trained_rnn("out/training");          // best realisation
/// auto judge = neurodyn::SeparationClassifier<double>::fit(t.task);
/// \endcode
inline TrainedTask load_trained_rnn(const std::filesystem::path& dir, index_t realization = -1) {
    const TrainingSetup s = load_training_setup(dir);
    const std::string setup_file = (dir / training_files::setup).string();
    const index_t k = realization < 0 ? s.best_realization : realization;
    if (k >= s.options.realizations)
        throw invalid_parameter("realization", std::to_string(k),
                                "must be below the " + std::to_string(s.options.realizations) +
                                    " realisations recorded in " + setup_file);
    const index_t N = s.units, K = s.steps;
    // Targets.
    const auto targets_path = dir / training_files::targets;
    const xt::xarray<double> a = load_npy<double>(targets_path, 3);
    if (a.shape()[0] != 2 || a.shape()[1] != std::size_t(N) || a.shape()[2] != std::size_t(K))
        throw file_error(targets_path.string(), "shape",
                         "is (" + std::to_string(a.shape()[0]) + ", " + std::to_string(a.shape()[1]) + ", " +
                             std::to_string(a.shape()[2]) + "), training_setup.json says (2, " + std::to_string(N) +
                             ", " + std::to_string(K) + ")");
    xt::xtensor<double, 3> targets = a;
    // Weights.
    Matrix<double> J_initial = detail::load_weights(dir / training_files::J_initial(k), N);
    Matrix<double> J_trained = detail::load_weights(dir / training_files::J_trained(k), N);
    if (J_initial != realization_network(s.options, N, k).weights())
        throw file_error((dir / training_files::J_initial(k)).string(), "",
                         "is not the network realisation " + std::to_string(k) + " draws from the seed " +
                             std::to_string(s.options.seed) + " and g in " + setup_file +
                             " (does the folder mix files of different runs?)");
    if (!J_trained.allFinite())
        throw file_error((dir / training_files::J_trained(k)).string(), "", "holds non-finite weights");
    auto inputs = realization_inputs<double>(s.options, N, K, s.epochs, k);
    try {
        return TrainedTask{TrainedRnn<double>(RateNetwork<Logistic<double>, double>(std::move(J_trained), s.options.tau),
                                              std::move(inputs), std::move(targets), s.epochs, s.options.dt),
                           std::move(J_initial), k};
    } catch (const file_error&) {
        throw;
    } catch (const error& e) {
        throw file_error(targets_path.string(), "", e.what());
    }
}

/// How to get a trained network when no training folder is given: train one network on the
/// correct-trial PSTHs of a synthetic ALM session.
struct OnTheFlyTraining {
    std::size_t neurons = 87;     ///< units of the synthetic session
    std::uint64_t data_seed = 1;  ///< seed of the synthetic session
    RajanOptions options;         ///< training options (realisation 0 is trained)
};

/// Realisation `realization` (−1: the best) of the training folder `dir`, or — when `dir` is
/// empty — one network trained on the fly as `fly` says. `description` says which it was.
/// \code
/// std::string what;
/// auto t = neurodyn::obtain_trained_task(dir, -1, {}, what);
/// \endcode
inline TrainedTask obtain_trained_task(const std::string& dir, index_t realization, const OnTheFlyTraining& fly,
                                       std::string& description) {
    if (!dir.empty()) {
        auto t = load_trained_rnn(dir, realization);
        description = "realisation " + std::to_string(t.realization) + " of " + dir;
        return t;
    }
    require(realization < 0, "realization", realization, "needs a training folder");
    SyntheticSessionOptions so;
    so.units = fly.neurons;
    so.seed = fly.data_seed;
    std::fprintf(stderr, "no training folder: training one network on a synthetic ALM session (%zu units)\n",
                 fly.neurons);
    const auto targets = session_training_targets(synthetic_session(so));
    RajanOptions o = fly.options;
    o.realizations = 1;
    const auto res = rajan_training(targets.rates, targets.epochs, o);
    description = "a network trained on the fly (synthetic session, seed " + std::to_string(fly.data_seed) + ")";
    return trained_task(res, targets.epochs, o, 0);
}

}  // namespace neurodyn
