#pragma once
/// \file state.hpp
/// State types. A state is an Eigen plain object (Matrix or Array) whose **rows are the units**
/// of a model and whose **columns are trials carried side by side** ("lanes"):
///
///  - `Vector<T>`                dynamic size, one trial (the default everywhere);
///  - `FixedVector<T, N>`, `Eigen::Array<T, N, 1>`  fixed size, one trial, no allocation;
///  - `Lanes<T, N, B>` = `Eigen::Array<T, N, B>`     B trials at once: lane b is trial
///    `trial.index + b` of the Trial passed to simulate().
///
/// Models written with Eigen array operations that act column-wise (`.colwise()`, products
/// `W * x.matrix()`, element-wise functions) then run one trial or a SIMD batch unchanged.
///
/// \code
/// neurodyn::Lanes<double, 4, 8> h = neurodyn::Lanes<double, 4, 8>::Constant(1.0);  // 8 trials
/// static_assert(neurodyn::State<decltype(h)> && neurodyn::state_lanes<decltype(h)> == 8);
/// \endcode
#include <Eigen/Core>
#include <concepts>

#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// B trials of N units, side by side (column b = lane b).
template <Real T, int N, int B>
using Lanes = Eigen::Array<T, N, B>;

/// An Eigen plain object (Matrix or Array) of floating-point scalars: a state type.
template <class X>
concept State = std::derived_from<X, Eigen::PlainObjectBase<X>> && Real<typename X::Scalar>;

/// Number of lanes (trials) a state type carries, known at compile time (Eigen::Dynamic if not).
template <State X>
inline constexpr int state_lanes = X::ColsAtCompileTime;

/// True when the state has a compile-time size (no allocation for temporaries).
template <State X>
inline constexpr bool fixed_size_state = X::SizeAtCompileTime != Eigen::Dynamic;

/// A zero state with the shape of x.
template <State X>
X zero_like(const X& x) {
    X z;
    z.resizeLike(x);
    z.setZero();
    return z;
}

}  // namespace neurodyn
