#pragma once
/// \file pulses.hpp
/// Task epochs → input waveforms: box pulses, optionally low-pass filtered with time constant
/// τ_ext, and the per-trial stimulus amplitude ~ N(mean, sd).
///
/// A box on [start, end) filtered by τ_ext dx/dt = −x + box(t) (x = 0 before the box) is
///   x(t) = 1 − e^{−(t − start)/τ_ext}                          for start <= t < end,
///   x(t) = (1 − e^{−(end − start)/τ_ext}) e^{−(t − end)/τ_ext}  for t >= end.
/// τ_ext = 0 gives the sharp box. (The Inagaki 2019 code meant to apply this smoothing but its
/// helper gets dt in seconds where it expects ms, so its boxes are sharp; presets keep them
/// sharp, smoothing is available here.)
///
/// \code
/// neurodyn::BoxPulse stim(1521.0, 2480.0);          // sharp box
/// neurodyn::BoxPulse smooth(1500.0, 2500.0, 20.0);  // 20-ms exponential rise and decay
/// double a = smooth(1600.0);                         // ≈ 1 − e^{−5}
/// neurodyn::StimulusAmplitude amp{0.8, 0.1};
/// neurodyn::Rng rng(seed, trial, 1);
/// double s = amp.draw(rng);                          // this trial's amplitude
/// \endcode
#include <cmath>

#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"

namespace neurodyn {

/// A unit box on [start_ms, end_ms), sharp or exponentially smoothed with tau_ext_ms.
class BoxPulse {
public:
    BoxPulse(double start_ms, double end_ms, double tau_ext_ms = 0.0)
        : start_(start_ms), end_(end_ms), tau_(tau_ext_ms) {
        require_finite("pulse start", start_ms);
        require_finite("pulse end", end_ms);
        require(end_ms >= start_ms, "pulse end", end_ms, "must be >= the pulse start (" + detail::to_text(start_ms) + ")");
        require_nonnegative("tau_ext", tau_ext_ms);
    }
    /// The pulse of an epoch of a TaskEpochs.
    explicit BoxPulse(const Epoch& e, double tau_ext_ms = 0.0) : BoxPulse(e.start_ms, e.end_ms, tau_ext_ms) {}

    double start() const noexcept { return start_; }
    double end() const noexcept { return end_; }
    double tau_ext() const noexcept { return tau_; }
    bool sharp() const noexcept { return tau_ == 0.0; }

    /// Value at time t (ms).
    double operator()(double t) const noexcept {
        if (t < start_) return 0.0;
        if (sharp()) return t < end_ ? 1.0 : 0.0;
        if (t < end_) return -std::expm1(-(t - start_) / tau_);
        return -std::expm1(-(end_ - start_) / tau_) * std::exp(-(t - end_) / tau_);
    }

private:
    double start_, end_, tau_;
};

/// Per-trial stimulus amplitude ~ N(mean, sd).
struct StimulusAmplitude {
    double mean = 1.0;
    double sd = 0.0;
    void validate() const {
        require_finite("stim_amp", mean);
        require_nonnegative("stim_sigma", sd);
    }
    /// One draw from `rng` (the trial's stimulus stream).
    double draw(Rng& rng) const { return mean + sd * rng.normal(); }
};

}  // namespace neurodyn
