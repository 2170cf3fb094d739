#pragma once
/// \file ramp.hpp
/// A linear ramp: 0 before `start`, rising linearly to `amplitude` over `duration`, constant
/// afterwards (the non-selective "urgency" ramp of Inagaki et al. 2019; duration 10 ms makes
/// it a step, the two_hemi_ramp preset ramps over sample + delay, 3000 ms).
///
/// \code
/// neurodyn::Ramp ramp{1500.0, 3000.0, 4.0};
/// double r = ramp(3000.0);   // 2.0: halfway
/// \endcode
#include <algorithm>

#include "neurodyn/core/error.hpp"

namespace neurodyn {

struct Ramp {
    double start = 0.0;      ///< ms
    double duration = 0.0;   ///< ms; 0 = step at `start`
    double amplitude = 0.0;

    void validate() const {
        require_finite("ramp start", start);
        require_nonnegative("ramp duration", duration);
        require_finite("ramp amplitude", amplitude);
    }

    double operator()(double t) const noexcept {
        if (t < start) return 0.0;
        if (t >= start + duration) return amplitude;
        return amplitude * (t - start) / duration;
    }
};

}  // namespace neurodyn
