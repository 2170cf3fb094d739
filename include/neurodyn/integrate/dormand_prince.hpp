#pragma once
/// \file dormand_prince.hpp
/// The Dormand–Prince 4(5) Runge–Kutta pair (Dormand & Prince 1980; MATLAB's ode45), as
///
///  - a **controlled stepper** `DormandPrince45::try_step(system, x, t, dt)`: one attempt with
///    local error control. The 5th-order solution is propagated (local extrapolation), the
///    embedded 4th-order one gives the error estimate e. A step is accepted when
///        err = ‖ e_i / (atol + rtol·max(|x_i|, |x_new,i|)) ‖ ≤ 1
///    (RMS norm over units as in Hairer, Nørsett & Wanner, or max norm, see ErrorNorm), and the
///    next step is dt·min(fac_max, max(fac_min, safety·err^(−1/5))); after a rejection the
///    step may not grow on the following attempt. First-same-as-last: the last stage of an
///    accepted step is the first stage of the next one (6 evaluations per accepted step);
///  - a fixed-step **Stepper** `do_step(model, x, t, dt, u)` (order 5, explicit) for simulate();
///  - `integrate_adaptive(trial, model, stepper, x, grid, input, hooks...)`: the adaptive
///    integration with the same calling convention as simulate(): it integrates from each grid
///    point to the next with as many controlled steps as needed (the last one shortened to land
///    on the grid point) and calls on_step(t_{i+1}, x) there.
///
/// Adaptive integration evaluates the input at arbitrary times, and rejected attempts evaluate
/// it more than once: the input schedule and the hooks' on_input must be deterministic functions
/// of t (a frozen noise, not one drawn per call). Hooks that draw random numbers per call
/// (WindowNoise) belong with fixed-step simulate().
///
/// \code
/// neurodyn::DormandPrince45<double> dp({.rtol = 1e-3, .atol = 1e-3});   // MATLAB ode45 settings
/// auto stats = neurodyn::integrate_adaptive(neurodyn::Trial{k, seed}, model, dp, x,
///                                           neurodyn::TimeGrid(1.0, 5000), input, recorder);
/// \endcode
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/integrate/hooks.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/concepts/model.hpp"

namespace neurodyn {

/// How the scaled local errors of the units are combined into one number.
enum class ErrorNorm {
    rms,  ///< sqrt(mean((e_i/sc_i)²)) — Hairer, Nørsett & Wanner; Boost.Odeint uses max
    max,  ///< max |e_i/sc_i| — MATLAB ode45's criterion, |e_i| ≤ max(rtol·|x_i|, atol)
};

/// Error-control settings of an adaptive stepper. Times in ms.
struct AdaptiveOptions {
    double rtol = 1e-6;
    double atol = 1e-6;
    double safety = 0.9;     ///< fraction of the optimal step actually taken
    double fac_min = 0.2;    ///< the step shrinks at most 5× per attempt
    double fac_max = 10.0;   ///< and grows at most 10× per step
    double dt_initial = 0.0; ///< first trial step; 0 = the output grid's dt
    double dt_max = std::numeric_limits<double>::infinity();
    double dt_min = 1e-12;   ///< below this the integration stops with numerical_error
    long max_steps = 1'000'000;  ///< attempts per output interval before numerical_error
    ErrorNorm norm = ErrorNorm::rms;

    void validate() const {
        require_positive("AdaptiveOptions.rtol", rtol);
        require_nonnegative("AdaptiveOptions.atol", atol);
        require(safety > 0.0 && safety <= 1.0, "AdaptiveOptions.safety", safety, "must be in (0, 1]");
        require(fac_min > 0.0 && fac_min < 1.0, "AdaptiveOptions.fac_min", fac_min, "must be in (0, 1)");
        require(fac_max > 1.0 && std::isfinite(fac_max), "AdaptiveOptions.fac_max", fac_max, "must be a finite number > 1");
        require_nonnegative("AdaptiveOptions.dt_initial", dt_initial);
        require(dt_max > 0.0, "AdaptiveOptions.dt_max", dt_max, "must be > 0");
        require_positive("AdaptiveOptions.dt_min", dt_min);
        require(max_steps >= 1, "AdaptiveOptions.max_steps", max_steps, "must be >= 1");
    }
};

/// Outcome of one controlled attempt.
enum class StepOutcome { accepted, rejected };

/// A system for a controlled stepper: f(x, t, dxdt) writes dx/dt.
template <class F, class T>
concept OdeSystem = requires(F& f, const Vector<T>& x, double t, Vector<T>& dxdt) { f(x, t, dxdt); };

namespace detail {
/// The Butcher tableau of Dormand & Prince (1980), RK5(4)7FM.
struct DormandPrinceTableau {
    static constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
    static constexpr double a21 = 1.0 / 5;
    static constexpr double a31 = 3.0 / 40, a32 = 9.0 / 40;
    static constexpr double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
    static constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729;
    static constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176,
                            a65 = -5103.0 / 18656;
    // 5th-order weights (= the 7th stage's row: FSAL)
    static constexpr double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784, b6 = 11.0 / 84;
    // b − b̂ (5th minus embedded 4th order weights)
    static constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200,
                            e6 = 22.0 / 525, e7 = -1.0 / 40;
};
}  // namespace detail

/// Dormand–Prince 4(5): controlled stepper (try_step) and fixed-step Stepper (do_step).
template <Real T = double>
class DormandPrince45 {
public:
    using scalar_type = T;
    using state_type = Vector<T>;  ///< adaptive control is per trial: one trial per stepper
    template <class M, class Y>
    static constexpr bool accepts = Model<M, Y>;
    static constexpr int order = 5;          ///< of the propagated solution
    static constexpr int error_order = 4;    ///< of the embedded solution
    static constexpr bool is_explicit = true;

    explicit DormandPrince45(AdaptiveOptions options = {}) : opt_(options) { opt_.validate(); }

    const AdaptiveOptions& options() const noexcept { return opt_; }

    /// One controlled attempt from (t, x) with step dt. Accepted: x and t advance, dt becomes
    /// the proposal for the next step. Rejected: x and t are unchanged, dt is reduced.
    /// If x is changed between calls at the same t (a hook), call reset() to drop the FSAL stage.
    template <class System>
    StepOutcome try_step(System&& f, Vector<T>& x, double& t, double& dt) {
        static_assert(OdeSystem<std::remove_reference_t<System>, T>,
                      "neurodyn::DormandPrince45::try_step: the system must be callable as f(x, t, dxdt)");
        ensure_size(x.size());
        if (!fsal_valid_ || fsal_t_ != t) {
            f(x, t, k1_);
            ++evaluations_;
        }
        stages(f, x, t, dt);  // fills k2…k7 and xnew_ (5th order)
        // error estimate e = dt·Σ e_i k_i and its scaled norm
        using D = detail::DormandPrinceTableau;
        const T h = T(dt);
        err_.noalias() = h * (T(D::e1) * k1_ + T(D::e3) * k3_ + T(D::e4) * k4_ + T(D::e5) * k5_ +
                              T(D::e6) * k6_ + T(D::e7) * k7_);
        double err = 0.0;
        const double atol = opt_.atol, rtol = opt_.rtol;
        for (index_t i = 0; i < x.size(); ++i) {
            const double sc = atol + rtol * std::max(std::abs(double(x[i])), std::abs(double(xnew_[i])));
            const double r = double(err_[i]) / sc;
            err = opt_.norm == ErrorNorm::rms ? err + r * r : std::max(err, std::abs(r));
        }
        if (opt_.norm == ErrorNorm::rms) err = std::sqrt(err / double(std::max<index_t>(1, x.size())));
        if (!std::isfinite(err)) err = std::numeric_limits<double>::infinity();

        if (err <= 1.0) {
            const double grow = err == 0.0 ? opt_.fac_max : opt_.safety * std::pow(err, -0.2);
            const double fac_max = last_rejected_ ? 1.0 : opt_.fac_max;
            x.swap(xnew_);
            k1_.swap(k7_);  // FSAL: f(x_new, t + dt)
            t += dt;
            fsal_valid_ = true;
            fsal_t_ = t;
            dt = std::min(opt_.dt_max, dt * std::min(fac_max, std::max(opt_.fac_min, grow)));
            last_rejected_ = false;
            ++accepted_;
            return StepOutcome::accepted;
        }
        const double shrink = std::isfinite(err) ? opt_.safety * std::pow(err, -0.2) : opt_.fac_min;
        dt *= std::max(opt_.fac_min, std::min(shrink, 1.0));
        last_rejected_ = true;
        ++rejected_;
        return StepOutcome::rejected;
    }

    /// Fixed step of the 5th-order solution (no error control): the Stepper interface.
    template <class M>
    void do_step(const M& model, Vector<T>& x, double t, double dt, const Vector<T>& u) {
        auto f = [&](const Vector<T>& y, double s, Vector<T>& d) { model.derivative(y, s, u, d); };
        ensure_size(x.size());
        f(x, t, k1_);
        stages(f, x, t, dt);
        x.swap(xnew_);
        fsal_valid_ = false;
    }

    /// Forget the first-same-as-last stage and the rejection memory (new trial, or x changed).
    void reset() noexcept {
        fsal_valid_ = false;
        last_rejected_ = false;
    }
    /// Counters since construction or reset_counters().
    long accepted_steps() const noexcept { return accepted_; }
    long rejected_steps() const noexcept { return rejected_; }
    long evaluations() const noexcept { return evaluations_; }
    void reset_counters() noexcept { accepted_ = rejected_ = evaluations_ = 0; }

private:
    void ensure_size(index_t n) {  // no-ops after the first call
        k1_.resize(n); k2_.resize(n); k3_.resize(n); k4_.resize(n); k5_.resize(n); k6_.resize(n); k7_.resize(n);
        tmp_.resize(n); xnew_.resize(n); err_.resize(n);
    }

    template <class F>
    void stages(F& f, const Vector<T>& x, double t, double dt) {
        using D = detail::DormandPrinceTableau;
        const T h = T(dt);
        tmp_.noalias() = x + h * T(D::a21) * k1_;
        f(tmp_, t + D::c2 * dt, k2_);
        tmp_.noalias() = x + h * (T(D::a31) * k1_ + T(D::a32) * k2_);
        f(tmp_, t + D::c3 * dt, k3_);
        tmp_.noalias() = x + h * (T(D::a41) * k1_ + T(D::a42) * k2_ + T(D::a43) * k3_);
        f(tmp_, t + D::c4 * dt, k4_);
        tmp_.noalias() = x + h * (T(D::a51) * k1_ + T(D::a52) * k2_ + T(D::a53) * k3_ + T(D::a54) * k4_);
        f(tmp_, t + D::c5 * dt, k5_);
        tmp_.noalias() =
            x + h * (T(D::a61) * k1_ + T(D::a62) * k2_ + T(D::a63) * k3_ + T(D::a64) * k4_ + T(D::a65) * k5_);
        f(tmp_, t + dt, k6_);
        xnew_.noalias() = x + h * (T(D::b1) * k1_ + T(D::b3) * k3_ + T(D::b4) * k4_ + T(D::b5) * k5_ + T(D::b6) * k6_);
        f(xnew_, t + dt, k7_);
        evaluations_ += 6;
    }

    AdaptiveOptions opt_;
    Vector<T> k1_, k2_, k3_, k4_, k5_, k6_, k7_, tmp_, xnew_, err_;
    bool fsal_valid_ = false, last_rejected_ = false;
    double fsal_t_ = 0.0;
    long accepted_ = 0, rejected_ = 0, evaluations_ = 0;
};

namespace detail {
template <class H, class V>
concept HasOnStep = requires(H& h, V& v) { h.on_step(0.0, v); };
}  // namespace detail

/// A controlled stepper: try_step(system, x, t, dt) -> StepOutcome, reset(), options().
template <class S, class T>
concept ControlledStepper = Real<T> && requires(S& s, Vector<T>& x, double& t, double& dt) {
    { s.try_step([](const Vector<T>&, double, Vector<T>&) {}, x, t, dt) } -> std::same_as<StepOutcome>;
    s.reset();
    { s.options() } -> std::convertible_to<const AdaptiveOptions&>;
};

/// What an adaptive integration did.
struct AdaptiveStats {
    long accepted = 0;     ///< accepted steps
    long rejected = 0;     ///< rejected attempts
    long evaluations = 0;  ///< right-hand-side evaluations
};

/// Adaptive integration on an output grid, with simulate()'s calling convention: the input
/// schedule fills u at any time t (then the hooks' on_input), the model's derivative uses it,
/// and at each grid time t_{i+1} = grid.time(i) + dt the hooks' on_step(t_{i+1}, x) is called,
/// so a Recorder records exactly what it records under simulate(). The stepper carries its
/// step size across output points (a step shortened to land on a grid point does not shrink the
/// next one). Throws numerical_error (naming the time, step and trial) when the step size falls
/// below dt_min, max_steps attempts do not reach the next grid point, or x becomes non-finite.
template <Model M, class S, class Input, class... Hooks>
    requires ControlledStepper<S, typename M::scalar_type> && InputSchedule<Input, Vector<typename M::scalar_type>>
AdaptiveStats integrate_adaptive(const Trial& trial, const M& model, S& stepper, Vector<typename M::scalar_type>& x,
                                 const TimeGrid& grid, Input&& input, Hooks&&... hooks) {
    using T = typename M::scalar_type;
    static_assert((hooks::Hook<std::remove_reference_t<Hooks>, Vector<T>> && ...),
                  "neurodyn::integrate_adaptive: every hook must implement at least one of "
                  "on_trial_begin(const Trial&), on_input(double, Vector<T>&), on_step(double, Vector<T>&), "
                  "on_trial_end(const Trial&)");
    require_size("x (initial state)", x.size(), model.size());
    constexpr bool changes_state = (detail::HasOnStep<std::remove_reference_t<Hooks>, Vector<T>> || ...);
    Vector<T> u(model.size());
    auto system = [&](const Vector<T>& y, double t, Vector<T>& dydt) {
        input(t, u);
        (hooks::input(hooks, t, u), ...);
        model.derivative(y, t, u, dydt);
    };
    stepper.reset();
    (hooks::trial_begin(hooks, trial), ...);
    const AdaptiveOptions& opt = stepper.options();
    long evaluations0 = 0;
    if constexpr (requires { stepper.evaluations(); }) evaluations0 = stepper.evaluations();
    Vector<T> x_seen;  // to detect hooks that change x (then the FSAL stage is stale)
    if constexpr (changes_state) x_seen.resize(x.size());
    double dt = std::min(opt.dt_max, opt.dt_initial > 0.0 ? opt.dt_initial : grid.dt());
    double t = grid.time(0);
    AdaptiveStats stats;
    const auto fail = [&](const std::string& what, double at, std::ptrdiff_t i) {
        throw numerical_error("Dormand-Prince: " + what + " at t = " + detail::to_text(at) + " ms", long(i),
                              trial.index);
    };
    for (std::ptrdiff_t i = 0; i < grid.size(); ++i) {
        const double t_next = grid.time(i) + grid.dt();
        long attempts = 0;
        while (t < t_next) {
            const double remaining = t_next - t;
            // Land exactly on the grid point; a tail shorter than 1e-12·dt is not worth a step.
            if (remaining <= 1e-12 * grid.dt()) { t = t_next; break; }
            const bool clipped = dt >= remaining;
            const double dt_before = dt;
            double h = clipped ? remaining : dt;
            const StepOutcome r = stepper.try_step(system, x, t, h);
            if (r == StepOutcome::accepted) {
                ++stats.accepted;
                if (!x.allFinite()) fail("non-finite state", t, i);
                if (clipped) {
                    t = t_next;  // exact, whatever the rounding of t + remaining
                    // The step was cut to land on the grid: unless the controller asks for a step
                    // shorter than the one just taken, keep the earlier (longer) proposal.
                    dt = h >= remaining ? std::max(h, dt_before) : h;
                } else {
                    dt = h;
                }
            } else {
                ++stats.rejected;
                dt = h;
            }
            if (dt < opt.dt_min) fail("step size " + detail::to_text(dt) + " ms below dt_min", t, i);
            if (++attempts > opt.max_steps)
                fail("more than " + std::to_string(opt.max_steps) + " attempts in one output interval", t, i);
        }
        if constexpr (changes_state) {
            x_seen = x;
            (hooks::step(hooks, t_next, x), ...);
            if (x != x_seen) stepper.reset();  // a hook changed x: drop the FSAL stage
        }
    }
    (hooks::trial_end(hooks, trial), ...);
    if constexpr (requires { stepper.evaluations(); }) stats.evaluations = stepper.evaluations() - evaluations0;
    return stats;
}

/// Same, for trial 0 with seed 0.
template <Model M, class S, class Input, class... Hooks>
    requires ControlledStepper<S, typename M::scalar_type> && InputSchedule<Input, Vector<typename M::scalar_type>>
AdaptiveStats integrate_adaptive(const M& model, S& stepper, Vector<typename M::scalar_type>& x, const TimeGrid& grid,
                                 Input&& input, Hooks&&... hooks) {
    return integrate_adaptive(Trial{}, model, stepper, x, grid, std::forward<Input>(input),
                              std::forward<Hooks>(hooks)...);
}

}  // namespace neurodyn
