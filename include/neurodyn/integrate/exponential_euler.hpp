#pragma once
/// \file exponential_euler.hpp
/// Exponential Euler for models of the form τ dx/dt = −x + b(x, t, u) (LinearDecayModel:
/// dx/dt = a ⊙ (b − x), a = decay_rates() = 1/τ): with b frozen at the start of the step,
///
///     x ← b + (x − b) ⊙ e^{−a·dt}.
///
/// The leak is integrated exactly, so the update is exact for constant drive (any dt) and
/// stable for any dt; for drive that depends on x or t it is first order, like Euler.
/// Because the stiff linear part cannot blow up, it is *not* flagged `is_explicit`:
/// simulate() lets it take dt ≥ τ (whether such a step resolves the recurrent dynamics is the
/// user's judgement). Use it for networks with a wide spread of time constants or when a
/// coarse dt is wanted for fast-relaxing units.
///
/// The factors e^{−a·dt} are cached for the last (model, dt) pair: decay_rates() must not
/// change during the stepper's life (call reset() if they do). X is the state type; with
/// lanes the same factors apply to every column.
///
/// \code
/// neurodyn::ExponentialEuler<double> stepper;          // net: RateNetwork, a LinearDecayModel
/// neurodyn::simulate(net, stepper, x, neurodyn::TimeGrid(5.0, 400), input);
/// \endcode
#include <cmath>

#include "neurodyn/concepts/model.hpp"
#include "neurodyn/concepts/state.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

template <Real T = double, State X = Vector<T>>
class ExponentialEuler {
public:
    using scalar_type = T;
    using state_type = X;
    static constexpr int order = 1;
    static constexpr bool is_explicit = false;  ///< the leak is exact: no dt < τ restriction
    template <class M, class Y>
    static constexpr bool accepts = LinearDecayModel<M, Y>;

    template <class M>
    void do_step(const M& model, X& x, double t, double dt, const X& u) {
        static_assert(LinearDecayModel<M, X>,
                      "neurodyn::ExponentialEuler needs a LinearDecayModel: the model must provide "
                      "decay_rates() (a = 1/tau per unit) and drive(x, t, u, out) (b, the value x relaxes to)");
        if constexpr (LinearDecayModel<M, X>) step(model, x, t, dt, u);  // no error cascade after the message
    }

    /// Forget the cached decay factors (after the model's time constants changed).
    void reset() noexcept { cached_model_ = nullptr; }

private:
    template <class M>
    void step(const M& model, X& x, double t, double dt, const X& u) {
        const index_t n = x.rows();
        if (cached_model_ != static_cast<const void*>(&model) || cached_dt_ != dt || decay_.size() != n) {
            decay_ = (-T(dt) * Vector<T>(model.decay_rates()).array()).exp();  // once per (model, dt)
            cached_model_ = &model;
            cached_dt_ = dt;
        }
        b_.resizeLike(x);
        model.drive(x, t, u, b_);
        x.array() = b_.array() + (x.array() - b_.array()).colwise() * decay_;
    }

    X b_;
    Eigen::Array<T, Eigen::Dynamic, 1> decay_;
    const void* cached_model_ = nullptr;
    double cached_dt_ = 0.0;
};

}  // namespace neurodyn
