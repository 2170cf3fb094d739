#pragma once
/// \file selectivity.hpp
/// Trial-type selectivity per unit: epoch-mean rates on right vs left correct trials, the
/// Wilcoxon rank-sum test, the index (R − L)/(R + L) and a right/left/none label.
///
/// \code
/// auto sel = neurodyn::delay_selectivity<double>(session);   // correct control trials, delay epoch
/// for (auto& u : sel) std::cout << neurodyn::to_string(u.label) << ' ' << u.p_value << '\n';
/// \endcode
#include <span>
#include <string_view>
#include <vector>

#include "neurodyn/analysis/psth.hpp"
#include "neurodyn/analysis/ranksum.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/data/session.hpp"

namespace neurodyn {

/// Which trial type a unit prefers.
enum class Preference { none, right, left };

inline std::string_view to_string(Preference p) noexcept {
    return p == Preference::right ? "right" : p == Preference::left ? "left" : "none";
}

/// Selectivity of one unit.
struct UnitSelectivity {
    Preference label = Preference::none;  ///< right/left when p < alpha, by the sign of R − L
    double index = 0;                     ///< (R − L)/(R + L) of the mean rates; 0 when both are 0
    double p_value = 1;                   ///< two-sided rank-sum p-value
    double mean_right = 0, mean_left = 0; ///< Hz
};

/// Selectivity of every column (unit) of two trials × units rate matrices.
/// \code
/// neurodyn::Matrix<double> R = ..., L = ...;          // trials × units, Hz
/// auto sel = neurodyn::selectivity<double>(R, L);     // one entry per unit
/// \endcode
template <Real T>
std::vector<UnitSelectivity> selectivity(const Matrix<T>& right, const Matrix<T>& left, double alpha = 0.05) {
    require_size("selectivity: units of left trials", left.cols(), right.cols());
    require(right.rows() > 0 && left.rows() > 0, "selectivity trials",
            std::to_string(right.rows()) + " right, " + std::to_string(left.rows()) + " left",
            "needs at least one trial of each type");
    require(alpha > 0 && alpha < 1, "alpha", alpha, "must be in (0, 1)");
    std::vector<UnitSelectivity> out(std::size_t(right.cols()));
    for (index_t u = 0; u < right.cols(); ++u) {
        // Columns of a column-major matrix are contiguous: test them in place.
        const std::span<const T> r(right.col(u).data(), std::size_t(right.rows()));
        const std::span<const T> l(left.col(u).data(), std::size_t(left.rows()));
        auto& o = out[std::size_t(u)];
        o.mean_right = double(right.col(u).mean());
        o.mean_left = double(left.col(u).mean());
        const double sum = o.mean_right + o.mean_left;
        o.index = sum > 0 ? (o.mean_right - o.mean_left) / sum : 0.0;
        o.p_value = rank_sum<T>(r, l).p;
        if (o.p_value < alpha)
            o.label = o.mean_right > o.mean_left ? Preference::right
                      : o.mean_right < o.mean_left ? Preference::left : Preference::none;
    }
    return out;
}

/// Delay-epoch selectivity of a session: mean rate in [Delay_start, Cue_start) on correct
/// control (non-photostimulated) trials, right (code 1) vs left (code 2).
template <Real T>
std::vector<UnitSelectivity> delay_selectivity(const Session& s, double alpha = 0.05) {
    const auto r = s.trials_where(TrialFilter::correct_right);
    const auto l = s.trials_where(TrialFilter::correct_left);
    return selectivity<T>(delay_rates<T>(s, r), delay_rates<T>(s, l), alpha);
}

/// Indices of the units whose label is not `none`.
inline std::vector<std::size_t> selective_units(const std::vector<UnitSelectivity>& sel) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < sel.size(); ++i)
        if (sel[i].label != Preference::none) out.push_back(i);
    return out;
}

}  // namespace neurodyn
