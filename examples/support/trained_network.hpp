#pragma once
// The trained network of the robustness and structure programs (options declared by
// add_trained_network_options in program.hpp): realisation K of a training folder, or one
// network trained here on a synthetic session.
#include <filesystem>
#include <string>

#include "neurodyn/experiments/rajan_training.hpp"
#include "program.hpp"

namespace neurodyn::examples {

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

}  // namespace neurodyn::examples
