#pragma once
/// \file euler.hpp
/// Forward Euler: x ← x + dt·f(x, t, u). First order. With dt = 1 ms and τ = 100 ms it is
/// exactly the update of the authors' code for the Inagaki 2019 model.
///
/// The second template parameter is the state type (concepts/state.hpp): `Vector<T>` by
/// default, `Lanes<T, N, B>` to advance B trials at once.
///
/// \code
/// neurodyn::Euler<double> stepper;                               // one trial, Vector<double>
/// stepper.do_step(model, x, t, dt, u);
/// neurodyn::Euler<double, neurodyn::Lanes<double, 4, 8>> batched;  // eight trials per step
/// \endcode
#include "neurodyn/concepts/model.hpp"
#include "neurodyn/concepts/state.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

template <Real T = double, State X = Vector<T>>
class Euler {
public:
    using scalar_type = T;
    using state_type = X;
    static constexpr int order = 1;
    static constexpr bool is_explicit = true;
    template <class M, class Y>
    static constexpr bool accepts = Model<M, Y>;

    template <class M>
    void do_step(const M& model, X& x, double t, double dt, const X& u) {
        static_assert(Model<M, X>,
                      "neurodyn::Euler needs a Model for this state type: the model must provide scalar_type, "
                      "size() and derivative(x, t, u, dxdt) accepting the state type");
        k_.resizeLike(x);  // no-op after the first step
        model.derivative(x, t, u, k_);
        x += T(dt) * k_;
    }

private:
    X k_;
};

}  // namespace neurodyn
