#pragma once
/// \file euler_maruyama.hpp
/// Euler–Maruyama for stochastic models dx = f(x, t, u) dt + g ⊙ dW with a diagonal,
/// state-independent diffusion g = model.diffusion() (StochasticModel). Per step, with
/// ξ ~ N(0, I) drawn from the stepper's own stream:
///
///  - `NoiseScaling::sqrt_dt` (default, Itô-correct): x ← x + dt·f + √dt · g ⊙ ξ.
///    The law of x(t) converges as dt → 0 (weak order 1; strong order 1 for additive noise).
///  - `NoiseScaling::per_step`: x ← x + dt·(f + g ⊙ ξ). The noise is a forcing term that is
///    redrawn every step and held over it, so its effect on x per unit time scales with dt and
///    vanishes as dt → 0: the result is only meaningful at the dt it was tuned for. This is the
///    convention of Inagaki et al.'s (2019) code, where σ·ξ is added inside τ dh/dt every 1 ms
///    step: h ← h + dt/τ·(−h + … + σξ), i.e. g = σ/τ. At dt = 1 the two conventions coincide.
///
/// Randomness: the stream is Rng(trial.seed, trial.index, purpose), reset by
/// on_trial_begin(trial), which simulate() calls on the stepper before each trial. The numbers
/// therefore depend only on (seed, trial index, purpose), not on the thread that runs the trial.
/// Without simulate(), call on_trial_begin yourself or set the stream with reseed().
///
/// The third template parameter is the state type (concepts/state.hpp): `Vector<T>` by default,
/// `Lanes<T, N, B>` for B trials at once. Lane b is trial trial.index + b and draws from its
/// own stream Rng(trial.seed, trial.index + b, purpose), unit by unit as a single trial does,
/// so a lane gets the numbers of that trial run alone: bitwise in a portable build, for a model
/// whose columns are computed alike (PopulationModel; tested); with -march=native the compiler
/// may fuse multiply-adds differently in the two instantiations, and a lane then agrees with
/// its trial alone to rounding (tested: 1e-11 relative in double over 400 steps).
///
/// \code
/// neurodyn::EulerMaruyama<double> em;                                   // √dt scaling
/// neurodyn::EulerMaruyama<double, neurodyn::NoiseScaling::per_step> authors;
/// neurodyn::simulate(neurodyn::Trial{trial, seed}, noisy_model, em, x, grid, input);
/// neurodyn::EulerMaruyama<double, neurodyn::NoiseScaling::sqrt_dt, neurodyn::Lanes<double, 4, 8>> em8;
/// \endcode
#include <cmath>
#include <cstdint>
#include <vector>

#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/concepts/model.hpp"
#include "neurodyn/concepts/state.hpp"

namespace neurodyn {

/// How the Gaussian increment of a stochastic step scales with dt (see euler_maruyama.hpp).
enum class NoiseScaling {
    sqrt_dt,   ///< √dt·g·ξ: Itô-correct white noise of intensity g
    per_step,  ///< dt·g·ξ: σ·ξ added per step inside τ dx/dt (Inagaki et al. 2019 code)
};

template <Real T = double, NoiseScaling Scaling = NoiseScaling::sqrt_dt, State X = Vector<T>>
class EulerMaruyama {
public:
    using scalar_type = T;
    using state_type = X;  ///< one column per trial (lane), each with its own stream
    template <class M, class Y>
    static constexpr bool accepts = StochasticModel<M, Y>;
    static constexpr int order = 1;  ///< weak order; strong order 1/2 (1 for additive noise)
    static constexpr bool is_explicit = true;
    static constexpr NoiseScaling scaling = Scaling;
    /// Default purpose key of the stream, distinct from the keys used by perturbation hooks.
    static constexpr std::uint64_t default_purpose = 0x45554c4552ULL;  // "EULER"

    /// \param purpose third key of the random stream, so several noise sources in one trial
    ///                stay independent.
    explicit EulerMaruyama(std::uint64_t purpose = default_purpose) : purpose_(purpose) {}

    /// Reseed from the trial: called by simulate() before each trial (lane b: trial.index + b).
    template <class TrialLike>
    void on_trial_begin(const TrialLike& trial) {
        seed_ = trial.seed;
        first_ = std::uint64_t(trial.index);
        rng_.assign(1, Rng(seed_, first_, purpose_));
    }
    /// Use an explicitly given stream for lane 0 (e.g. outside simulate()); further lanes, if
    /// any, draw from Rng(seed, first + b, purpose) of the last on_trial_begin (seed 0 before).
    void reseed(const Rng& rng) { rng_.assign(1, rng); }
    /// Lane 0's stream.
    const Rng& rng() const noexcept { return rng_.front(); }

    template <class M>
    void do_step(const M& model, X& x, double t, double dt, const X& u) {
        static_assert(StochasticModel<M, X>,
                      "neurodyn::EulerMaruyama needs a StochasticModel: the model must provide diffusion(), "
                      "the per-unit noise amplitude g in dx = f dt + g dW, and derivative() for this state type");
        if constexpr (StochasticModel<M, X>) step(model, x, t, dt, u);  // no error cascade after the message
    }

private:
    template <class M>
    void step(const M& model, X& x, double t, double dt, const X& u) {
        f_.resizeLike(x);  // no-ops after the first step
        xi_.resizeLike(x);
        model.derivative(x, t, u, f_);
        for (auto b = index_t(rng_.size()); b < x.cols(); ++b)
            rng_.emplace_back(seed_, first_ + std::uint64_t(b), purpose_);
        // Lane by lane, unit by unit: a lane's draws are those of its trial alone.
        for (index_t b = 0; b < x.cols(); ++b)
            for (index_t i = 0; i < x.rows(); ++i) xi_(i, b) = rng_[std::size_t(b)].template normal<T>();
        const T h = T(dt);
        // Each sum has at most one product to fuse with (fewer ways for FMA contraction to differ).
        if constexpr (Scaling == NoiseScaling::sqrt_dt) {
            sg_ = T(std::sqrt(dt)) * model.diffusion().array();  // √dt·g (resized once)
            x.array() += h * f_.array();
            x.array() += xi_.array().colwise() * sg_;
        } else {
            sg_ = model.diffusion().array();
            f_.array() += xi_.array().colwise() * sg_;
            x.array() += h * f_.array();
        }
    }

    std::uint64_t purpose_;
    std::uint64_t seed_ = 0, first_ = 0;
    std::vector<Rng> rng_{Rng{}};
    X f_, xi_;
    Eigen::Array<T, X::RowsAtCompileTime, 1> sg_;
};

}  // namespace neurodyn
