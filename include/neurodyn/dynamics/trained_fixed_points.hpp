#pragma once
/// \file trained_fixed_points.hpp
/// Fixed points of a FORCE-trained network (experiments/trained_rnn.hpp): which constant
/// input stands for its time-varying frozen input, and the states of its unperturbed trials to
/// start the search from.
///
/// The input condition is the frozen input of trial type c averaged over an epoch (default the
/// delay) or taken at one time; when both trial types give the same vector (the Rajan
/// protocol's shared epochs) there is one condition, else one per trial type.
///
/// \code
/// auto t = neurodyn::load_trained_rnn("out/training");            // a TrainedTask
/// auto conditions = neurodyn::trained_input_conditions(t.task, {.epoch = "delay"});
/// std::vector<neurodyn::Matrix<double>> trials = {neurodyn::trained_trial_states(t.task, 0),
///                                                 neurodyn::trained_trial_states(t.task, 1)};
/// auto starts = neurodyn::sample_initial_states(trials, 1024, 0.5, 1);
/// auto found = neurodyn::find_fixed_points(t.task.network, conditions[0], starts);
/// \endcode
#include <cmath>
#include <string>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/dynamics/fixed_points.hpp"
#include "neurodyn/experiments/trained_rnn.hpp"

namespace neurodyn {

/// Which constant input stands for a trained network's frozen input.
struct TrainedInputChoice {
    std::string epoch = "delay";  ///< averaged over this epoch of the task (when time_ms < 0)
    double time_ms = -1;          ///< ≥ 0: the input at this time (ms from the trial start) instead

    /// "delay_mean", "t=3000ms", … (the condition names' stem).
    std::string stem() const {
        if (time_ms < 0) return epoch + "_mean";
        return "t=" + detail::to_text(time_ms) + "ms";
    }
};

/// The constant input of trial type c (0 right, 1 left) as `choice` says. An unknown epoch,
/// an empty one, or a time outside the trial throw invalid_parameter.
template <Real T, class Net>
InputCondition<T> trained_input_condition(const TrainedRnn<T, Net>& task, index_t c, const TrainedInputChoice& choice) {
    require(c == 0 || c == 1, "condition", c, "must be 0 (right) or 1 (left)");
    const index_t n = task.units(), K = task.steps();
    InputCondition<T> out;
    out.u = Vector<T>::Zero(n);
    out.name = choice.stem() + "_" + condition_name(c);
    const auto cs = std::size_t(c);
    if (choice.time_ms >= 0) {
        require_finite("time (ms)", choice.time_ms);
        const double last = double(K - 1) * task.dt;
        require(choice.time_ms <= last, "time (ms)", choice.time_ms,
                "must be within the trial, 0 … " + detail::to_text(last) + " ms");
        const auto k = std::size_t(std::llround(choice.time_ms / task.dt));
        for (index_t i = 0; i < n; ++i) out.u[i] = task.inputs(cs, std::size_t(i), k);
        out.t = choice.time_ms;
        return out;
    }
    require(task.epochs.has(choice.epoch), "epoch", "'" + choice.epoch + "'", "is not an epoch of the task");
    const StepRange r = task.epochs.steps(choice.epoch, task.grid());
    require(r.size() >= 1, "epoch", "'" + choice.epoch + "'", "has no time step");
    for (auto k = r.first; k < r.last; ++k)
        for (index_t i = 0; i < n; ++i) out.u[i] += task.inputs(cs, std::size_t(i), std::size_t(k));
    out.u /= T(r.size());
    return out;
}

/// One condition when both trial types give the same input (named without the trial type),
/// else one per trial type.
template <Real T, class Net>
std::vector<InputCondition<T>> trained_input_conditions(const TrainedRnn<T, Net>& task,
                                                        const TrainedInputChoice& choice) {
    auto right = trained_input_condition(task, 0, choice), left = trained_input_condition(task, 1, choice);
    if (right.u == left.u) {
        right.name = choice.stem();
        return {right};
    }
    return {right, left};
}

/// The states x of the unperturbed trial of type c (the network's own variable, not the
/// rates), every `every` steps from x(0): units × ⌈steps/every⌉.
template <Real T, class Net>
Matrix<T> trained_trial_states(const TrainedRnn<T, Net>& task, index_t c, index_t every = 10) {
    require(every >= 1, "every", every, "must be >= 1");
    struct Recorder {
        std::vector<Vector<T>>* out;
        index_t every, k = 0;
        void on_step(double, Vector<T>& x) {
            if (++k % every == 0) out->push_back(x);
        }
    };
    std::vector<Vector<T>> states;
    Vector<T> x0(task.units());
    for (index_t i = 0; i < task.units(); ++i)
        x0[i] = transfer_inverse(task.network.activation(), task.targets(std::size_t(c), std::size_t(i), 0));
    states.push_back(x0);
    task.run(c, Trial{}, Recorder{&states, every});
    Matrix<T> m(task.units(), index_t(states.size()));
    for (std::size_t j = 0; j < states.size(); ++j) m.col(index_t(j)) = states[j];
    return m;
}

}  // namespace neurodyn
