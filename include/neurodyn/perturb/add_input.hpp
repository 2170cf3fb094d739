#pragma once
/// \file add_input.hpp
/// The two input hooks a user reaches for first; both work on any state type (a `Vector<T>`
/// for one trial, `Lanes<T, N, B>` for B trials: give the vector one column per lane).
///
///  - `AddInput<X, Shape>`: adds shape(t)·v to the input of the step starting at t. The shape
///    is any `double(double t)` waveform: a `BoxPulse` (a window, sharp or smoothed; the
///    default), a `Ramp`, or a user lambda. "Add this vector during this window":
///    `AddInput<Vector<double>>(v, BoxPulse(2500, 3100))`.
///  - `ScaleInput<X>`: multiplies the input by a per-unit gain g during a window (u ← g ⊙ u on
///    the steps that start in [start, end)). Hooks run in the order given to simulate(): put it
///    after the hooks whose input it should scale.
///
/// \code
/// neurodyn::Vector<double> light(2);
/// light << -1.5, 0.0;                                          // inhibit population 0 only
/// neurodyn::AddInput<neurodyn::Vector<double>> opto(light, neurodyn::BoxPulse(2500, 3100));
/// neurodyn::ScaleInput<neurodyn::Vector<double>> half(neurodyn::Vector<double>::Constant(2, 0.5), {1500, 2500});
/// neurodyn::simulate(model, euler, x, grid, input, opto, half);
/// \endcode
#include <string>
#include <utility>

#include "neurodyn/concepts/state.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/inputs/pulses.hpp"
#include "neurodyn/perturb/window.hpp"

namespace neurodyn {

template <State X, class Shape = BoxPulse>
class AddInput {
public:
    using T = typename X::Scalar;

    /// \param v     what is added at full amplitude (the state's shape; one column per lane)
    /// \param shape the waveform, shape(t) for the step starting at t
    AddInput(X v, Shape shape) : v_(std::move(v)), shape_(std::move(shape)) {
        require(v_.allFinite(), "AddInput vector", "non-finite", "must be finite");
    }

    const X& vector() const noexcept { return v_; }
    X& vector() noexcept { return v_; }
    const Shape& shape() const noexcept { return shape_; }

    void on_input(double t, X& u) const {
        const double a = shape_(t);
        if (a == 0.0) return;
        if (a == 1.0)
            u += v_;
        else
            u += T(a) * v_;
    }

private:
    X v_;
    Shape shape_;
};

template <State X>
class ScaleInput {
public:
    using T = typename X::Scalar;

    /// \param gain   per-unit gain (a column vector of the model's size; it applies to every lane)
    /// \param window the steps that start in [start, end)
    ScaleInput(Vector<T> gain, TimeWindow window) : gain_(gain.array()), window_(window) {
        require(gain_.allFinite(), "ScaleInput gain", "non-finite", "must be finite");
        window_.validate("ScaleInput.window");
    }

    void on_input(double t, X& u) const {
        if (!window_.holds_step_from(t)) return;
        require_size("ScaleInput: input rows", u.rows(), gain_.size());
        u.array().colwise() *= gain_;
    }

    const TimeWindow& window() const noexcept { return window_; }

private:
    Eigen::Array<T, Eigen::Dynamic, 1> gain_;
    TimeWindow window_;
};

}  // namespace neurodyn
