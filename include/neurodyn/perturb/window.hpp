#pragma once
/// \file window.hpp
/// The time window of a perturbation, and the convention shared by the perturbation hooks:
///  - an input perturbation (on_input(t, u), t = start of the step) acts on the steps that
///    start in [start, end);
///  - a state perturbation (on_step(t, x), t = end of the step) acts on the states at times in
///    (start, end], i.e. after exactly those same steps.
///
/// \code
/// neurodyn::TimeWindow delay{2500, 4500};
/// neurodyn::TimeWindow always = neurodyn::TimeWindow::whole_trial();
/// \endcode
#include <limits>
#include <string>

#include "neurodyn/core/error.hpp"

namespace neurodyn {

struct TimeWindow {
    double start_ms = -std::numeric_limits<double>::infinity();
    double end_ms = std::numeric_limits<double>::infinity();

    static TimeWindow whole_trial() noexcept { return {}; }
    /// For on_input: does the step starting at t lie in the window?
    bool holds_step_from(double t) const noexcept { return t >= start_ms && t < end_ms; }
    /// For on_step: is the state at t (end of a step) inside the window?
    bool holds_state_at(double t) const noexcept { return t > start_ms && t <= end_ms; }

    void validate(const std::string& name = "window") const {
        require(!(start_ms != start_ms) && !(end_ms != end_ms), name, "NaN", "start and end must be numbers");
        require(end_ms >= start_ms, name,
                "[" + detail::to_text(start_ms) + ", " + detail::to_text(end_ms) + ") ms", "end must be >= start");
    }
};

}  // namespace neurodyn
