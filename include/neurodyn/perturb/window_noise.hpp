#pragma once
/// \file window_noise.hpp
/// `WindowNoise`: adds Gaussian noise of amplitude A to the input u during a time window —
/// common to all (selected) units (one draw per step, shared) or independent per unit. Works
/// with any model (it only touches the input vector) under simulate().
///
/// Scaling (WindowNoiseScaling):
///  - `per_step` (default): u_i += A·ξ at every step: the input of each step carries an N(0, A²)
///    perturbation, held over the step (Euler: x gets dt/τ·A·ξ). This is the convention of the
///    Inagaki et al. code and of the input-noise robustness sweeps (amplitude in input units);
///    its effect depends on dt.
///  - `white`: u_i += A·ξ/√dt (dt given in the options): u is white noise of intensity A
///    (units of u·√ms); under Euler the state gets √dt·A/τ·ξ per step, so the statistics of x
///    do not depend on dt (Itô).
///
/// Randomness: the stream is Rng(trial.seed, trial.index, purpose), reset in on_trial_begin,
/// and draws are made only inside the window, in unit order: a trial's noise depends only on
/// (seed, trial index, purpose), not on the thread or on other trials. Give two WindowNoise
/// hooks of one simulation different purposes. Not for adaptive integration (it draws anew at
/// every call of on_input).
///
/// \code
/// neurodyn::WindowNoise<double> noise({.amplitude = 1.5, .window = {2500, 4500},
///                                      .sharing = neurodyn::NoiseSharing::independent});
/// neurodyn::simulate(neurodyn::Trial{k, seed}, net, euler, x, grid, input, noise, recorder);
/// \endcode
#include <cmath>
#include <cstdint>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/perturb/window.hpp"

namespace neurodyn {

enum class NoiseSharing { common, independent };
enum class WindowNoiseScaling { per_step, white };

struct WindowNoiseOptions {
    double amplitude = 0;                        ///< A >= 0, in input units (per_step) or input·√ms (white)
    TimeWindow window = TimeWindow::whole_trial();
    NoiseSharing sharing = NoiseSharing::independent;
    std::vector<index_t> units = {};             ///< empty: all units
    WindowNoiseScaling scaling = WindowNoiseScaling::per_step;
    double dt = 0;                               ///< the grid's dt, needed for `white`
    std::uint64_t purpose = 0x574e4f495345ULL;   ///< third key of the stream ("WNOISE")
};

template <Real T = double>
class WindowNoise {
public:
    explicit WindowNoise(WindowNoiseOptions o) : o_(std::move(o)) {
        require_nonnegative("WindowNoise.amplitude", o_.amplitude);
        o_.window.validate("WindowNoise.window");
        for (index_t i : o_.units) require(i >= 0, "WindowNoise.units", i, "must be >= 0");
        if (o_.scaling == WindowNoiseScaling::white) {
            require_positive("WindowNoise.dt (needed for white scaling)", o_.dt);
            scale_ = T(o_.amplitude / std::sqrt(o_.dt));
        } else {
            scale_ = T(o_.amplitude);
        }
    }

    const WindowNoiseOptions& options() const noexcept { return o_; }

    template <class TrialLike>
    void on_trial_begin(const TrialLike& trial) {
        rng_ = Rng(trial.seed, std::uint64_t(trial.index), o_.purpose);
    }

    void on_input(double t, Vector<T>& u) {
        if (!o_.window.holds_step_from(t) || o_.amplitude == 0) return;
        if (o_.units.empty()) {
            if (o_.sharing == NoiseSharing::common) {
                u.array() += scale_ * rng_.normal<T>();
            } else {
                for (index_t i = 0; i < u.size(); ++i) u[i] += scale_ * rng_.normal<T>();
            }
            return;
        }
        const T common = o_.sharing == NoiseSharing::common ? scale_ * rng_.normal<T>() : T(0);
        for (index_t i : o_.units) {
            require(i < u.size(), "WindowNoise.units", i, "must be < the model size " + std::to_string(u.size()));
            u[i] += o_.sharing == NoiseSharing::common ? common : scale_ * rng_.normal<T>();
        }
    }

private:
    WindowNoiseOptions o_;
    T scale_ = 0;
    Rng rng_{};
};

}  // namespace neurodyn
