#pragma once
/// \file training_folder.hpp
/// The training-folder format of the Rajan-style protocol (experiments/rajan_protocol.hpp):
/// what `save_training` writes and `load_trained_rnn` reads back.
///
/// A folder holds targets_normalised.npy (the (0, 1) targets trained on), J_initial_<k>.npy,
/// J_trained_<k>.npy and rates_<k>.npy (network test rates) per realisation, and
/// training_setup.json (format 2): the options, epochs, shape, which realisations converged
/// and were kept, the best, the file names, and per realisation the hashes of its weight files
/// and of the frozen inputs training used. Every file is written atomically. The inputs are
/// not stored: `load_trained_rnn` regenerates them (`realization_inputs`) and checks them
/// against the recorded hash, so a build that rounds the generator differently fails with a
/// clear file_error rather than loading a network with other inputs.
///
/// A folder of the seed protocol (RajanOptions::protocol) records "protocol": "seed", its
/// target clip and input start, and "noise_model" (the study's shared scalar noise, for the
/// perturbation programs); the inputs are then regenerated with SeedFrozenOu. Folders without
/// "protocol" are textbook ones.
///
/// "transfer" names the networks' transfer function ("logistic" or "tanh"; folders without it
/// are logistic ones, as every folder was before it was recorded). `load_trained_rnn` builds a
/// logistic network and refuses a tanh folder naming the field; `load_trained_model<F>` loads
/// either kind as RateNetwork<F>, and `visit_trained_model` loads the recorded kind and hands it
/// to a generic callable (how the perturbation programs run on any folder).
///
/// \code
/// neurodyn::save_training("out/training", result, epochs, options);
/// auto setup = neurodyn::load_training_setup("out/training");
/// auto loaded = neurodyn::load_trained_rnn("out/training");     // best realisation
/// neurodyn::visit_trained_model("out/training", -1, [](const auto& m) { return m.task.run(0, {}); });
/// \endcode
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/analysis/targets.hpp"
#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/experiments/trained_rnn.hpp"
#include "neurodyn/inputs/frozen_ou.hpp"
#include "neurodyn/io/npy.hpp"
#include "neurodyn/io/session.hpp"
#include "neurodyn/learn/force_trainer.hpp"

#include "neurodyn/experiments/rajan_protocol.hpp"

namespace neurodyn {

/// File names inside a training folder.
namespace training_files {
inline constexpr const char* setup = "training_setup.json";
inline constexpr const char* targets = "targets_normalised.npy";
inline std::string J_initial(index_t k) { return "J_initial_" + std::to_string(k) + ".npy"; }
inline std::string J_trained(index_t k) { return "J_trained_" + std::to_string(k) + ".npy"; }
inline std::string rates(index_t k) { return "rates_" + std::to_string(k) + ".npy"; }
}  // namespace training_files

/// The name a training folder records for transfer function F ("transfer" in
/// training_setup.json): "logistic" or "tanh", the two the folder format knows.
template <class F>
constexpr const char* training_transfer_name() {
    if constexpr (std::is_same_v<F, Logistic<double>>) return "logistic";
    else if constexpr (std::is_same_v<F, Tanh<double>>) return "tanh";
    else static_assert(sizeof(F) == 0, "neurodyn: a training folder records Logistic<double> or Tanh<double> networks");
}

namespace detail {
inline void require_transfer_name(const std::string& name) {
    require(name == "logistic" || name == "tanh", "transfer", name, "must be 'logistic' or 'tanh'");
}
}  // namespace detail

/// Write a training folder: targets_normalised.npy, J_initial_<k>.npy, J_trained_<k>.npy,
/// rates_<k>.npy (network test rates) per realisation, and training_setup.json (options,
/// epochs, shape, which realisations converged / were kept, the best, the file names), all
/// atomically. The folder records the transfer function the result was trained with
/// (`r.transfer`); `transfer`, when given, must name the same one ("logistic" or "tanh").
/// \code
/// neurodyn::save_training("out/training", result, epochs, options);
/// \endcode
inline void save_training(const std::filesystem::path& dir, const RajanResult& r, const TaskEpochs& epochs,
                          const RajanOptions& o, std::string transfer = "") {
    require(!r.runs.empty(), "training result", "0 realisations", "needs at least one realisation");
    if (transfer.empty()) transfer = transfer_name(r.transfer);
    detail::require_transfer_name(transfer);
    require(transfer == transfer_name(r.transfer), "transfer", transfer,
            "must be the result's own transfer function ('" + transfer_name(r.transfer) + "')");
    std::filesystem::create_directories(dir);
    save_npy(dir / training_files::targets, r.targets);
    nlohmann::json j;
    // Format 2 adds per-realisation hashes (inputs, J_initial, J_trained) to "runs".
    j["format"] = "neurodyn training setup 2";
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
    j["protocol"] = learn::protocol_name(o.protocol);
    j["target_clip"] = o.target_clip;
    j["input_start"] = o.input_start;
    j["noise_model"] = o.protocol == learn::ForceProtocol::seed
                           ? "shared: amplitude * sqrt(1 / (2 tau)) * N(0, 1), one scalar per step for every unit"
                           : "independent per unit";
    j["transfer"] = transfer;
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
        const std::string h_hash =
            !run.inputs_hash.empty()
                ? run.inputs_hash
                : inputs_hash(realization_inputs<double>(o, index_t(r.targets.shape()[1]),
                                                         index_t(r.targets.shape()[2]), epochs, k));
        j["runs"].push_back({{"realization", k},
                             {"converged", run.converged},
                             {"iterations", run.iterations},
                             {"pvar_right", run.pvar.empty() ? 0.0 : run.pvar.back()[0]},
                             {"pvar_left", run.pvar.empty() ? 0.0 : run.pvar.back()[1]},
                             {"agreement", run.agreement},
                             {"kept", run.kept},
                             {"inputs_hash", h_hash},
                             {"J_initial_hash", learn::hash_text(run.J_initial)},
                             {"J_trained_hash", learn::hash_text(run.J_trained)}});
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
    int format = 2;  ///< 1: written before the per-realisation hashes were recorded
    RajanOptions options;
    TaskEpochs epochs{1.0};
    index_t units = 0, steps = 0;
    index_t best_realization = 0;
    std::vector<index_t> converged, kept;
    std::string transfer = "logistic";  ///< the networks' transfer function ("logistic" or "tanh")
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
    const auto format = setup_field<std::string>(j, file, "format");
    if (format == "neurodyn training setup 1") s.format = 1;
    else if (format == "neurodyn training setup 2") s.format = 2;
    else
        throw file_error(file, "format", "is '" + format + "', this library reads 'neurodyn training setup 1' and '2'");
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
    // Written since the seed protocol exists; older folders are textbook ones.
    if (j.contains("protocol")) {
        const auto protocol = setup_field<std::string>(j, file, "protocol");
        try {
            o.protocol = learn::parse_protocol(protocol);
        } catch (const error&) {
            throw file_error(file, "protocol", "is '" + protocol + "', expected 'seed' or 'textbook'");
        }
    }
    // Recorded since tanh networks can be stored; older folders hold logistic ones.
    if (j.contains("transfer")) {
        s.transfer = setup_field<std::string>(j, file, "transfer");
        if (s.transfer != "logistic" && s.transfer != "tanh")
            throw file_error(file, "transfer", "is '" + s.transfer + "', expected 'logistic' or 'tanh'");
    }
    o.transfer = parse_transfer(s.transfer);
    if (j.contains("target_clip")) o.target_clip = setup_field<double>(j, file, "target_clip");
    if (j.contains("input_start")) o.input_start = setup_field<double>(j, file, "input_start");
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

/// A trained realisation of a folder with the network type it records: RateNetwork<F>.
template <class F = Logistic<double>>
struct TrainedModel {
    using Network = RateNetwork<F, double>;
    TrainedRnn<double, Network> task;
    Matrix<double> J_initial;
    index_t realization = 0;
};

/// Load realisation k (−1: the best; anything else below −1 or beyond the recorded count is
/// an invalid_parameter) of a training folder written by `save_training` as a RateNetwork<F>
/// task (F: the transfer function recorded in the folder, else file_error naming "transfer"):
/// trained weights and targets from the .npy files, the frozen inputs regenerated as training
/// drew them. Checks (format 2 folders): the weight files against their recorded hashes
/// (a folder mixing runs), J_initial against the draw of the recorded seed and g (to
/// rounding), and the regenerated inputs against the recorded `inputs_hash` — a build that
/// rounds the generator differently throws file_error (field "inputs_hash") saying so, rather
/// than loading a network with inputs it was not trained on. Folders of format 1 (no hashes)
/// load with only the J_initial draw check. Anything missing or inconsistent throws
/// file_error naming the file and field.
/// \code
/// auto m = neurodyn::load_trained_model<neurodyn::Tanh<double>>("out/tanh_training");
/// \endcode
template <class F>
TrainedModel<F> load_trained_model(const std::filesystem::path& dir, index_t realization = -1) {
    const TrainingSetup s = load_training_setup(dir);
    const std::string setup_file = (dir / training_files::setup).string();
    if (s.transfer != training_transfer_name<F>())
        throw file_error(setup_file, "transfer",
                         "is '" + s.transfer + "', but a " + training_transfer_name<F>() +
                             " network was asked for (load the folder with visit_trained_model, which builds the "
                             "recorded kind)");
    if (realization < -1 || realization >= s.options.realizations)
        throw invalid_parameter("realization", std::to_string(realization),
                                "must be -1 (the best) or a realisation in [0, " +
                                    std::to_string(s.options.realizations) + ") of the " +
                                    std::to_string(s.options.realizations) + " recorded in " + setup_file);
    const index_t k = realization == -1 ? s.best_realization : realization;
    // Format 2: the hashes recorded for realisation k (format 1 folders load unchecked).
    const nlohmann::json* entry = nullptr;
    if (s.format >= 2) {
        const auto runs = s.json.find("runs");
        if (runs == s.json.end() || !runs->is_array()) throw file_error(setup_file, "runs", "is missing or not an array");
        for (const auto& e : *runs)
            if (e.is_object() && e.contains("realization") && e["realization"].is_number_integer() &&
                e["realization"].get<index_t>() == k)
                entry = &e;
        if (!entry) throw file_error(setup_file, "runs", "has no entry for realisation " + std::to_string(k));
    }
    auto recorded = [&](const std::string& key) { return detail::setup_field<std::string>(*entry, setup_file, key); };
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
    if (entry) {
        for (const auto& [file, key, M] : {std::tuple{training_files::J_initial(k), "J_initial_hash", &J_initial},
                                           std::tuple{training_files::J_trained(k), "J_trained_hash", &J_trained}})
            if (learn::hash_text(*M) != recorded(key))
                throw file_error((dir / file).string(), "",
                                 std::string("does not match the ") + key + " recorded for realisation " +
                                     std::to_string(k) + " in " + setup_file +
                                     " (does the folder mix files of different runs, or was the file changed?)");
    }
    // J_initial is loaded, not regenerated: the draw from the recorded seed and g only
    // confirms that the setup belongs to the weights, so it may differ by rounding (a build
    // that rounds the Gaussian draw differently), never by more.
    {
        const Matrix<double> drawn = realization_network(s.options, N, k).weights();
        const double scale = drawn.cwiseAbs().maxCoeff();
        if (J_initial != drawn && !((J_initial - drawn).cwiseAbs().maxCoeff() <= 1e-12 * scale))
            throw file_error((dir / training_files::J_initial(k)).string(), "",
                             "is not the network realisation " + std::to_string(k) + " draws from the seed " +
                                 std::to_string(s.options.seed) + " and g in " + setup_file +
                                 " (does the folder mix files of different runs?)");
    }
    if (!J_trained.allFinite())
        throw file_error((dir / training_files::J_trained(k)).string(), "", "holds non-finite weights");
    // The inputs are regenerated, so they must be bitwise those training used.
    auto inputs = realization_inputs<double>(s.options, N, K, s.epochs, k);
    if (entry) {
        const std::string now = inputs_hash(inputs), then = recorded("inputs_hash");
        if (now != then)
            throw file_error(setup_file, "inputs_hash",
                             "realisation " + std::to_string(k) + ": the frozen inputs regenerated by this build (hash " +
                                 now + ") differ from those used in training (hash " + then +
                                 "): this build rounds the input generator differently from the one that trained "
                                 "(another compiler, flags such as -march=native or -ffp-contract, or CPU), so the "
                                 "network would run on inputs it was not trained on. Load the folder with the build "
                                 "that wrote it, or retrain with this build");
    }
    try {
        return TrainedModel<F>{TrainedRnn<double, RateNetwork<F, double>>(
                                   RateNetwork<F, double>(std::move(J_trained), s.options.tau), std::move(inputs),
                                   std::move(targets), s.epochs, s.options.dt),
                               std::move(J_initial), k};
    } catch (const file_error&) {
        throw;
    } catch (const error& e) {
        throw file_error(targets_path.string(), "", e.what());
    }
}

/// Load realisation k (−1: the best) of a logistic training folder as a TrainedTask (see
/// `load_trained_model` for the checks; a tanh folder throws file_error naming "transfer").
/// \code
/// auto t = neurodyn::load_trained_rnn("out/training");          // best realisation
/// \endcode
inline TrainedTask load_trained_rnn(const std::filesystem::path& dir, index_t realization = -1) {
    auto m = load_trained_model<Logistic<double>>(dir, realization);
    return TrainedTask{std::move(m.task), std::move(m.J_initial), m.realization};
}

/// Load realisation k (−1: the best) with the transfer function the folder records and call
/// `f(model)` with the TrainedModel<Logistic<double>> or TrainedModel<Tanh<double>>: `f` is a
/// generic callable returning the same type for both.
/// \code
/// double p = neurodyn::visit_trained_model(dir, -1, [](const auto& m) {
///     return m.task.pvar_of(m.task.run(0, neurodyn::Trial{}), 0);
/// });
/// \endcode
template <class Fn>
decltype(auto) visit_trained_model(const std::filesystem::path& dir, index_t realization, Fn&& f) {
    if (load_training_setup(dir).transfer == "tanh")
        return std::forward<Fn>(f)(load_trained_model<Tanh<double>>(dir, realization));
    return std::forward<Fn>(f)(load_trained_model<Logistic<double>>(dir, realization));
}

}  // namespace neurodyn
