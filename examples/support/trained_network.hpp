#pragma once
// The trained network of the robustness and structure programs (options declared by
// add_trained_network_options in program.hpp): realisation K of a training folder, or one
// network trained here on a synthetic session.
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>

#include "neurodyn/experiments/rajan_training.hpp"
#include "program.hpp"

namespace neurodyn::examples {

/// The training options of the protocol (--realizations, --iterations, --seed, --g, --alpha,
/// --protocol, --transfer, --threshold, --train-every, --tau-wn, --h0, --selectivity-threshold,
/// --checkpoint-dir, --variant). Apply them with `finish()` after parsing.
struct TrainingOptions {
    RajanOptions o;
    std::string variant = "raw", protocol = "textbook", transfer = "logistic", checkpoint_dir;
    double tau_wn = o.inputs.tau_wn, h0 = o.inputs.h0;
    CLI::Option* alpha = nullptr;
    /// The options as parsed, with the protocol's defaults; validated.
    RajanOptions finish() {
        o.variant = variant == "suppressed" ? TargetVariant::suppressed : TargetVariant::raw;
        select_protocol(o, protocol, alpha->count() > 0);
        o.transfer = parse_transfer(transfer, "--transfer");
        o.inputs = FrozenOu{tau_wn, h0};
        o.checkpoint_dir = checkpoint_dir;
        o.validate();
        return o;
    }
};
inline void add_training_options(CLI::App& app, TrainingOptions& t) {
    RajanOptions& o = t.o;
    app.add_option("--variant", t.variant, "raw or suppressed (zero selective neurons' non-preferred trials)")
        ->check(CLI::IsMember({"raw", "suppressed"}));
    app.add_option("--realizations", o.realizations, "random networks to train")->check(count_in(1, 1'000'000));
    app.add_option("--iterations", o.max_iterations, "iteration cap per realisation")->check(count_in(1, 100'000));
    app.add_option("--seed", o.seed, "seed of networks and inputs");
    app.add_option("--g", o.g, "gain of the initial random J")->check(non_negative());
    t.alpha = app.add_option("--alpha", o.alpha, "RLS regulariser: P(0) = I/alpha (seed protocol: 0.1)")->check(positive());
    app.add_option("--protocol", t.protocol,
                   "textbook (Rajan et al.) or seed (the Python study's conventions: state carried over from 0, "
                   "P(0) = 10 I, update with the updated P, logit clip 1e-5, its pVar and input)")
        ->check(CLI::IsMember({"textbook", "seed"}));
    // Checked by finish() (parse_transfer), which names --transfer and the allowed values.
    app.add_option("--transfer", t.transfer,
                   "logistic (default; targets normalised into (0, 1), logit) or tanh (targets mapped into "
                   "(-1, 1), atanh)");
    app.add_option("--threshold", o.pvar_threshold, "pVar to reach on both conditions")->check(finite_in(-1e6, 1));
    app.add_option("--train-every", o.train_every, "RLS update every this many steps")->check(count_in(1, 1'000'000));
    app.add_option("--tau-wn", t.tau_wn, "OU input correlation time, ms")->check(positive());
    app.add_option("--h0", t.h0, "OU input amplitude")->check(non_negative());
    app.add_option("--selectivity-threshold", o.selectivity_threshold,
                   "|R-L|/(R+L) of delay means for a target neuron to count as selective")
        ->check(non_negative());
    app.add_option("--checkpoint-dir", t.checkpoint_dir,
                   "checkpoint every iteration there; an interrupted run given the same flags resumes");
}

/// Checks made before anything runs: --realization needs --training, which must be a folder.
inline void check_trained_network_options(const TrainedNetworkOptions& o) {
    if (o.training_dir.empty()) {
        require(o.realization < 0, "--realization", o.realization, "needs --training (a training folder)");
        return;
    }
    if (!std::filesystem::is_directory(o.training_dir))
        throw file_error(o.training_dir, "", "is not a folder (--training takes a folder written by rajan_force_training)");
}

/// The network; `source` says where it came from.
inline TrainedTask trained_network(const TrainedNetworkOptions& o, std::string& source) {
    OnTheFlyTraining fly;
    fly.neurons = o.neurons;
    fly.data_seed = o.data_seed;
    fly.options.realizations = 1;
    fly.options.max_iterations = o.iterations;
    fly.options.seed = o.train_seed;
    return obtain_trained_task(o.training_dir, o.realization, fly, source);
}

/// The network with the transfer function its folder records (logistic or tanh; trained on
/// the fly: logistic), handed to `f` as a TrainedModel<F>: `f` is a generic callable.
/// \code
/// std::string source;
/// examples::with_trained_network(options, source, [&](const auto& m) { run_experiment(m.task); });
/// \endcode
template <class Fn>
decltype(auto) with_trained_network(const TrainedNetworkOptions& o, std::string& source, Fn&& f) {
    if (!o.training_dir.empty())
        return visit_trained_model(o.training_dir, o.realization, [&](const auto& m) -> decltype(auto) {
            using Net = typename std::decay_t<decltype(m)>::Network;
            source = "realisation " + std::to_string(m.realization) + " of " + o.training_dir +
                     (std::is_same_v<Net, RateNetwork<Tanh<double>, double>> ? " (tanh network)" : "");
            return f(m);
        });
    TrainedTask t = trained_network(o, source);
    return f(TrainedModel<Logistic<double>>{std::move(t.task), std::move(t.J_initial), t.realization});
}

}  // namespace neurodyn::examples
