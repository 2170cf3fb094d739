#pragma once
/// \file input_noise.hpp
/// `InputNoise<X>`: independent Gaussian noise on the input of every unit, for any state type,
/// one random stream per trial (lane b of a batch is trial trial.index + b, so a trial draws
/// the same numbers alone or in any lane).
///
/// Scaling — what the amplitude σ means (`InputNoiseScaling`):
///  - `per_step`: u += σ·ξ with ξ ~ N(0, 1) drawn every step and held over it. Under Euler the
///    state gets dt/τ·σ·ξ per step: the effect depends on dt (the convention of the Inagaki et
///    al. 2019 code, which adds σ·ξ inside τ dh/dt once per 1-ms step).
///  - `white`: u += σ·ξ/√dt: u is white noise of intensity σ (input units·√ms); under Euler the
///    state gets √dt·σ/τ·ξ per step, so the statistics of x do not depend on dt (Itô).
/// The noise acts on the steps that start inside `window` (default: the whole trial).
///
/// Draws: `normal_fast()` (ziggurat), `rows` numbers per step per lane, unit order, from
/// Rng(trial.seed, trial.index + lane, purpose), reset in on_trial_begin. Not for adaptive
/// integration (it draws anew at every call).
///
/// \code
/// neurodyn::InputNoise<neurodyn::Vector<double>> noise({.sigma = 9.0});      // per step
/// neurodyn::InputNoise<neurodyn::Vector<double>> white({.sigma = 2.0, .scaling =
///     neurodyn::InputNoiseScaling::white, .dt = 0.1});
/// neurodyn::simulate(neurodyn::Trial{k, seed}, model, euler, x, grid, input, noise);
/// \endcode
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "neurodyn/concepts/state.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/perturb/window.hpp"

namespace neurodyn {

enum class InputNoiseScaling { per_step, white };

struct InputNoiseOptions {
    double sigma = 0;                                  ///< σ >= 0 (see the file comment for units)
    InputNoiseScaling scaling = InputNoiseScaling::per_step;
    double dt = 0;                                     ///< the grid's dt, needed for `white`
    TimeWindow window = TimeWindow::whole_trial();
    std::uint64_t purpose = 0;                         ///< third key of the stream

    void validate() const {
        require_nonnegative("InputNoise.sigma", sigma);
        if (scaling == InputNoiseScaling::white) require_positive("InputNoise.dt (needed for white scaling)", dt);
        window.validate("InputNoise.window");
    }
};

template <State X>
class InputNoise {
public:
    using T = typename X::Scalar;
    static constexpr int lanes_at_compile_time = X::ColsAtCompileTime;

    explicit InputNoise(InputNoiseOptions o) : o_(o) {
        o_.validate();
        scale_ = T(o_.scaling == InputNoiseScaling::white ? o_.sigma / std::sqrt(o_.dt) : o_.sigma);
    }

    const InputNoiseOptions& options() const noexcept { return o_; }

    template <class TrialLike>
    void on_trial_begin(const TrialLike& trial) {
        first_ = long(trial.index);
        seed_ = trial.seed;
        started_ = false;
    }

    void on_input(double t, X& u) {
        if (o_.sigma == 0 || !o_.window.holds_step_from(t)) return;
        if (!started_) start(u.cols());
        xi_.resizeLike(u);
        // Column-major: lane b's draws are contiguous, in unit order.
        for (index_t b = 0; b < u.cols(); ++b) rng_[std::size_t(b)].normal_fast(&xi_(0, b), std::size_t(u.rows()));
        u += scale_ * xi_;
    }

private:
    void start(index_t lanes) {
        rng_.resize(std::size_t(lanes));
        for (index_t b = 0; b < lanes; ++b)
            rng_[std::size_t(b)] = Rng(seed_, std::uint64_t(first_ + long(b)), o_.purpose);
        started_ = true;
    }

    InputNoiseOptions o_;
    T scale_ = 0;
    long first_ = 0;
    std::uint64_t seed_ = 0;
    bool started_ = false;
    std::vector<Rng> rng_;
    X xi_;
};

}  // namespace neurodyn
