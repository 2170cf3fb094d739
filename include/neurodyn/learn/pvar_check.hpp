#pragma once
/// \file pvar_check.hpp
/// `require_pvar_defined`: the check, before training or judging, that pVar against a target
/// is defined (the target varies by more than rounding), shared by learn::ForceTrainer,
/// rajan_training and TrainedRnn.
///
/// \code
/// neurodyn::learn::require_pvar_defined(R_left, "targets", "condition 'left'");
/// \endcode
#include <cmath>
#include <string>

#include <Eigen/Core>

#include "neurodyn/core/error.hpp"

namespace neurodyn::learn {

/// Throw `invalid_parameter` unless pVar against `target` (outputs × steps) is defined: the
/// target must be finite and vary about its mean by more than the rounding of that mean can
/// fake. pVar = 1 − ‖R − r‖² / ‖R − R̄‖²; for a constant R the denominator is 0, or — R̄ being
/// rounded — a few ulps² (n·δ² with δ ≲ n·u·max|R|), and pVar comes out as −1e28 instead of
/// failing. So a target is refused when it is constant or when its SD about the mean is at
/// most n·u·max|R| (u = 2⁻⁵³, n entries), far below any real signal.
/// \code
/// neurodyn::learn::require_pvar_defined(R_right, "targets", "condition 'right'");
/// \endcode
template <class Derived>
void require_pvar_defined(const Eigen::MatrixBase<Derived>& target, const std::string& parameter,
                          const std::string& where) {
    const auto R = target.template cast<double>().eval();
    const double n = double(R.size());
    if (R.size() == 0) throw invalid_parameter(parameter, where + ": empty", "must have entries");
    if (!R.allFinite()) throw invalid_parameter(parameter, where + ": NaN or Inf", "must be finite");
    const double mean = R.mean(), amax = R.cwiseAbs().maxCoeff();
    const double var = (R.array() - mean).square().sum() / n;
    const double noise = n * std::ldexp(1.0, -53) * amax;
    if (R.maxCoeff() == R.minCoeff() || !(var > noise * noise))
        throw invalid_parameter(parameter,
                                where + (R.maxCoeff() == R.minCoeff() ? ": constant (every value " +
                                                                            neurodyn::detail::to_text(R(0, 0)) + ")"
                                                                      : ": variance " + neurodyn::detail::to_text(var) +
                                                                            " about the mean " +
                                                                            neurodyn::detail::to_text(mean)),
                                "must vary over units and time: pVar = 1 - |R - r|^2 / |R - mean(R)|^2 is undefined "
                                "for a target without variance (all-zero or constant rates normalise to a constant; "
                                "leave out a condition or neurons that never fire)");
}

}  // namespace neurodyn::learn
