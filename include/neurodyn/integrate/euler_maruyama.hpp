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
/// \code
/// neurodyn::EulerMaruyama<double> em;                                   // √dt scaling
/// neurodyn::EulerMaruyama<double, neurodyn::NoiseScaling::per_step> authors;
/// neurodyn::simulate(neurodyn::Trial{trial, seed}, noisy_model, em, x, grid, input);
/// \endcode
#include <cmath>
#include <cstdint>

#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/concepts/model.hpp"

namespace neurodyn {

/// How the Gaussian increment of a stochastic step scales with dt (see euler_maruyama.hpp).
enum class NoiseScaling {
    sqrt_dt,   ///< √dt·g·ξ: Itô-correct white noise of intensity g
    per_step,  ///< dt·g·ξ: σ·ξ added per step inside τ dx/dt (Inagaki et al. 2019 code)
};

template <Real T = double, NoiseScaling Scaling = NoiseScaling::sqrt_dt>
class EulerMaruyama {
public:
    using scalar_type = T;
    using state_type = Vector<T>;  ///< one trial per stream: lanes would share it
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

    /// Reseed from the trial: called by simulate() before each trial.
    template <class TrialLike>
    void on_trial_begin(const TrialLike& trial) {
        rng_ = Rng(trial.seed, std::uint64_t(trial.index), purpose_);
    }
    /// Use an explicitly given stream (e.g. outside simulate()).
    void reseed(const Rng& rng) { rng_ = rng; }
    const Rng& rng() const noexcept { return rng_; }

    template <class M>
    void do_step(const M& model, Vector<T>& x, double t, double dt, const Vector<T>& u) {
        static_assert(StochasticModel<M>,
                      "neurodyn::EulerMaruyama needs a StochasticModel: the model must provide diffusion(), "
                      "the per-unit noise amplitude g in dx = f dt + g dW");
        if constexpr (StochasticModel<M>) step(model, x, t, dt, u);  // no error cascade after the message
    }

private:
    template <class M>
    void step(const M& model, Vector<T>& x, double t, double dt, const Vector<T>& u) {
        const index_t n = x.size();
        f_.resize(n);
        xi_.resize(n);
        model.derivative(x, t, u, f_);
        rng_.fill_normal(xi_);
        const T h = T(dt);
        if constexpr (Scaling == NoiseScaling::sqrt_dt)
            x.array() += h * f_.array() + T(std::sqrt(dt)) * model.diffusion().array() * xi_.array();
        else
            x.array() += h * (f_.array() + model.diffusion().array() * xi_.array());
    }

    std::uint64_t purpose_;
    Rng rng_{};
    Vector<T> f_, xi_;
};

}  // namespace neurodyn
