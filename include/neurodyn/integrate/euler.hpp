#pragma once
/// \file euler.hpp
/// Forward Euler: x ← x + dt·f(x, t, u). First order. With dt = 1 ms and τ = 100 ms it is
/// exactly the update of the authors' code for the Inagaki 2019 model.
///
/// \code
/// neurodyn::Euler<double> stepper;
/// stepper.do_step(model, x, t, dt, u);
/// \endcode
#include "neurodyn/core/types.hpp"
#include "neurodyn/models/concepts.hpp"

namespace neurodyn {

template <Real T = double>
class Euler {
public:
    using scalar_type = T;
    static constexpr int order = 1;
    static constexpr bool is_explicit = true;

    template <Model M>
    void do_step(const M& model, Vector<T>& x, double t, double dt, const Vector<T>& u) {
        k_.resize(x.size());  // no-op after the first step
        model.derivative(x, t, u, k_);
        x += T(dt) * k_;
    }

private:
    Vector<T> k_;
};

}  // namespace neurodyn
