#pragma once
/// \file trained_rnn.hpp
/// A FORCE-trained rate network together with its task — frozen inputs and target rates per
/// condition (0 right, 1 left) — and the tools to run perturbed trials of it and to judge
/// each trial: pVar against the condition's target, and whether the delay-end activity keeps
/// the trained right/left separation.
///
/// Any trained network model works (`TrainedRnn<T, Network>`, Network a
/// learn::TrainableNetwork whose transfer function has an inverse: logistic, tanh, softplus, a
/// user's own). Trials follow the training protocol of learn::ForceTrainer: x(0) = φ⁻¹(R(:, 0)),
/// forward Euler with the trial's dt, input column k held over step k, and the rate of column
/// k is φ(x_k). Targets must lie in the transfer function's range. Hooks (window noise,
/// photoinhibition, silencing, …) are passed to simulate().
///
/// Separation: the coding direction CD = (r̄_R − r̄_L)/‖·‖ of the unperturbed network over the
/// last `window_ms` of the delay; a trial's endpoint is its mean projection over that window,
/// normalised so the unperturbed right trial is 1 and the left trial 0. A right trial keeps
/// the separation ("correct") when its endpoint is > 1/2, a left trial when it is < 1/2.
///
/// \code
/// neurodyn::TrainedRnn<double> task{net, inputs, targets, epochs};      // logistic RateNetwork
/// neurodyn::TrainedRnn tanh_task(tanh_net, inputs, 2.0 * targets - 1.0, epochs);  // any network
/// auto judge = neurodyn::SeparationClassifier<double>::fit(task);
/// neurodyn::WindowNoise<double> noise({.amplitude = 1.0, .window = {2500, 4500}});
/// auto rates = task.run(0, neurodyn::Trial{k, seed}, noise);    // units × steps
/// bool kept = judge.correct(rates, 0);
/// \endcode
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <xtensor/xtensor.hpp>

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/learn/inverse_transfer.hpp"
#include "neurodyn/learn/pvar_check.hpp"
#include "neurodyn/learn/trainable_network.hpp"
#include "neurodyn/models/rate_network.hpp"

namespace neurodyn {

/// Names of the two trial conditions, by index.
inline const char* condition_name(index_t c) { return c == 0 ? "right" : "left"; }

template <Real T = double, class Net = RateNetwork<Logistic<T>, T>>
struct TrainedRnn {
    static_assert(learn::TrainableNetwork<Net> && std::is_same_v<typename Net::scalar_type, T>,
                  "neurodyn::TrainedRnn<T, Network>: Network must be a learn::TrainableNetwork of scalar type T "
                  "(weights(), rates(x), activation(); see learn/trainable_network.hpp)");
    using Network = Net;
    using activation_type = std::decay_t<decltype(std::declval<const Net&>().activation())>;
    static_assert(InvertibleTransfer<activation_type, T>,
                  "neurodyn::TrainedRnn: trials start on the target, x(0) = phi^-1(R(:, 0)), so the network's "
                  "transfer function needs an inverse (learn/inverse_transfer.hpp)");
    using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

    Network network;
    xt::xtensor<T, 3> inputs;   ///< (2, units, steps): frozen input per condition
    xt::xtensor<T, 3> targets;  ///< (2, units, steps): target rates in (0, 1)
    TaskEpochs epochs;          ///< must contain "delay"
    double dt = 1.0;            ///< ms per step (one target column per step)

    TrainedRnn(Network net, xt::xtensor<T, 3> h, xt::xtensor<T, 3> R, TaskEpochs ep, double step_ms = 1.0)
        : network(std::move(net)), inputs(std::move(h)), targets(std::move(R)), epochs(std::move(ep)), dt(step_ms) {
        const auto n = std::size_t(network.size());
        require(targets.shape()[0] == 2 && targets.shape()[1] == n && targets.shape()[2] >= 2, "targets",
                shape_text(targets.shape()), "must have shape (2, " + std::to_string(n) + ", steps >= 2)");
        require(inputs.shape() == targets.shape(), "inputs", shape_text(inputs.shape()),
                "must have the targets' shape " + shape_text(targets.shape()));
        const TransferRange range = transfer_range(network.activation());
        for (auto v : targets)
            require(range.contains(double(v)), "targets", v,
                    "must be rates in " + range.text() + ", the range of the network's transfer function" +
                        (range.advice.empty() ? std::string() : " (" + range.advice + ")"));
        // Trials are judged by pVar against these targets: it must be defined.
        for (index_t c = 0; c < 2; ++c)
            learn::require_pvar_defined(target(c), "targets", std::string("condition '") + condition_name(c) + "'");
        require_positive("dt", dt);
        require(epochs.has("delay"), "epochs", "no 'delay' epoch", "must contain a 'delay' epoch");
    }

    index_t units() const noexcept { return network.size(); }
    index_t steps() const noexcept { return index_t(targets.shape()[2]); }
    TimeGrid grid() const { return TimeGrid(dt, steps()); }

    /// The target of condition c as a units × steps matrix view (no copy).
    Eigen::Map<const RowMajor> target(index_t c) const {
        return Eigen::Map<const RowMajor>(&targets(std::size_t(c), 0, 0), units(), steps());
    }

    /// Run one trial of condition c (0 right, 1 left) with the given hooks; returns the rates,
    /// units × steps (column k = φ(x_k)).
    template <class... Hooks>
    Matrix<T> run(index_t c, const Trial& trial, Hooks&&... hooks) const {
        require(c == 0 || c == 1, "condition", c, "must be 0 (right) or 1 (left)");
        const auto cs = std::size_t(c);
        const index_t n = units(), K = steps();
        Vector<T> x(n);
        for (index_t i = 0; i < n; ++i) x[i] = transfer_inverse(network.activation(), targets(cs, std::size_t(i), 0));
        Matrix<T> rates(n, K);
        rates.col(0) = network.rates(x);
        // Input of the step starting at t: column round(t/dt) of the condition's frozen input.
        auto input = [&](double t, Vector<T>& u) {
            const auto k = std::size_t(std::llround(t / dt));
            for (index_t i = 0; i < n; ++i) u[i] = inputs(cs, std::size_t(i), k);
        };
        // Records φ(x) after each step into the next column (the last step has no column).
        struct RateColumns {
            const Network* net;
            Matrix<T>* out;
            index_t k = 0;
            void on_step(double, Vector<T>& xs) {
                if (++k < out->cols()) out->col(k) = net->rates(xs);
            }
        } recorder{&network, &rates};
        Euler<T> euler;
        simulate(trial, network, euler, x, TimeGrid(dt, K - 1), input, std::forward<Hooks>(hooks)..., recorder);
        return rates;
    }

    /// The rate of a silenced unit: 10⁻³ above the bottom of the transfer function's range
    /// (10⁻³ for the logistic, −0.999 for tanh), or 10⁻³ if the range has no bottom.
    double silent_rate() const {
        const double lo = transfer_range(network.activation()).lower;
        return std::isfinite(lo) ? lo + 1e-3 : 1e-3;
    }

    /// pVar of a trial's rates against the target of condition c.
    double pvar_of(const Matrix<T>& rates, index_t c) const { return pvar(target(c), rates); }

private:
    template <class S>
    static std::string shape_text(const S& s) {
        std::string t = "(";
        for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
        return t + ")";
    }
};

template <class Net>
TrainedRnn(Net, xt::xtensor<typename Net::scalar_type, 3>, xt::xtensor<typename Net::scalar_type, 3>, TaskEpochs,
           double = 1.0) -> TrainedRnn<typename Net::scalar_type, Net>;

/// Judges whether a trial keeps the trained right/left separation at the end of the delay.
template <Real T = double>
class SeparationClassifier {
public:
    /// From the unperturbed right and left rates (units × steps) of the network and the
    /// window (steps) over which endpoints are averaged.
    SeparationClassifier(const Matrix<T>& right, const Matrix<T>& left, StepRange window) : window_(window) {
        require(right.rows() == left.rows() && right.cols() == left.cols(), "left rates",
                std::to_string(left.rows()) + "x" + std::to_string(left.cols()), "must have the right rates' shape");
        require(window.first >= 0 && window.last <= right.cols() && window.size() > 0, "separation window",
                "[" + std::to_string(window.first) + ", " + std::to_string(window.last) + ")",
                "must be a non-empty range within the " + std::to_string(right.cols()) + " steps");
        const Vector<T> mr = mean_in_window(right), ml = mean_in_window(left);
        const Vector<T> d = mr - ml;
        const T norm = d.norm();
        // A difference at rounding level is no separation: dividing by it would blow the
        // normalised axis up to 1e10 and more (barely trained networks end right and left trials
        // ~1e-15 apart).
        const T floor = std::sqrt(std::numeric_limits<T>::epsilon()) * std::max(mr.norm(), ml.norm());
        require(norm > floor, "separation",
                "right and left delay-end activity differ by " + detail::to_text(double(norm)),
                "the unperturbed conditions must differ at the end of the delay by more than rounding (" +
                    detail::to_text(double(floor)) + "): train the network longer");
        w_ = d / norm;
        left_ref_ = w_.dot(mean_in_window(left));
        span_ = w_.dot(mean_in_window(right)) - left_ref_;  // = norm > 0
    }

    /// Fit on the unperturbed trials of a trained network, over the last `window_ms` of the delay.
    template <class Net>
    static SeparationClassifier fit(const TrainedRnn<T, Net>& task, double window_ms = 400.0) {
        require_positive("window_ms", window_ms);
        const auto delay = task.epochs.steps("delay", task.grid());
        const auto len = std::ptrdiff_t(std::llround(window_ms / task.dt));
        require(len <= delay.size(), "window_ms", window_ms, "must not exceed the delay epoch");
        const StepRange w{delay.last - len, delay.last};
        return SeparationClassifier(task.run(0, Trial{}), task.run(1, Trial{}), w);
    }

    /// Normalised projection onto the CD of the rates at every step (right reference 1, left 0).
    Vector<T> projection(const Matrix<T>& rates) const {
        require_size("rates (units)", rates.rows(), w_.size());
        return ((w_.transpose() * rates).array() - left_ref_).transpose() / span_;
    }
    /// Mean normalised projection over the window.
    T endpoint(const Matrix<T>& rates) const {
        require_size("rates (units)", rates.rows(), w_.size());
        require(rates.cols() >= window_.last, "rates (steps)", rates.cols(),
                "must cover the separation window ending at step " + std::to_string(window_.last));
        return (w_.dot(mean_in_window(rates)) - left_ref_) / span_;
    }
    /// Whether a trial of condition c (0 right, 1 left) keeps the separation.
    bool correct(const Matrix<T>& rates, index_t c) const {
        const T e = endpoint(rates);
        return c == 0 ? e > T(0.5) : e < T(0.5);
    }

    const Vector<T>& direction() const noexcept { return w_; }
    StepRange window() const noexcept { return window_; }

private:
    Vector<T> mean_in_window(const Matrix<T>& r) const {
        return r.middleCols(window_.first, window_.size()).rowwise().mean();
    }
    StepRange window_;
    Vector<T> w_;
    T left_ref_ = 0, span_ = 1;
};

}  // namespace neurodyn
