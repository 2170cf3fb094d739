#pragma once
/// \file inhibition.hpp
/// Folding a fast inhibitory population into effective excitatory weights and inputs.
///
/// With an inhibitory population of linear rate r_I = h_I,
///   τ_I dh_I/dt = −h_I + Σ_Y j_IY r_Y − j_II r_I + i_I,
/// whose time constant is short against the excitatory ones, h_I follows its fixed point
///   r_I = (Σ_Y j_IY r_Y + i_I) / (1 + j_II),
/// and the inhibition −j_XI r_I onto excitatory population X becomes
///   J_XY = j_XY − j_XI·j_IY / (1 + j_II),      I_X = i_X − j_XI·i_I / (1 + j_II),
/// i.e. W = J_EE − j_EI j_IEᵀ / (1 + j_II): a rank-one correction (Inagaki, Fontolan, Romani
/// & Svoboda 2019, Methods; their code folds exactly this way). `ThreePopulation`
/// (three_population.hpp) keeps the inhibitory population explicit; its τ_I → 0 limit is
/// this fold.
///
/// \code
/// double JCC = neurodyn::fold_weight(5.8, /*j_CI=*/5.0, /*j_IC=*/1.08, /*j_II=*/2.0);  // 4.0
/// double IC  = neurodyn::fold_input(2.27, /*j_CI=*/5.0, /*i_I=*/1.0, /*j_II=*/2.0);     // 0.6033…
/// \endcode
#include <cmath>
#include <string>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

namespace detail {
inline void require_inhibitory_self_coupling(double j_II) {
    require(std::isfinite(j_II) && j_II > -1.0, "j_II", j_II,
            "must be finite and > -1 (1 + j_II is the inhibitory population's effective leak)");
}
}  // namespace detail

/// Effective weight from Y to X: j_XY − j_XI·j_IY/(1 + j_II).
/// \code
/// double J = neurodyn::fold_weight(j_XY, j_XI, j_IY, j_II);
/// \endcode
template <Real T>
T fold_weight(T j_XY, T j_XI, T j_IY, T j_II) {
    detail::require_inhibitory_self_coupling(double(j_II));
    return j_XY - j_XI * j_IY / (T(1) + j_II);
}

/// Effective baseline input of X: i_X − j_XI·i_I/(1 + j_II).
/// \code
/// double I = neurodyn::fold_input(i_X, j_XI, i_I, j_II);
/// \endcode
template <Real T>
T fold_input(T i_X, T j_XI, T i_I, T j_II) {
    detail::require_inhibitory_self_coupling(double(j_II));
    return i_X - j_XI * i_I / (T(1) + j_II);
}

/// Effective weights and inputs of the excitatory populations after folding.
template <Real T>
struct FoldedInhibition {
    Matrix<T> weights;  ///< W = J_EE − j_EI j_IEᵀ/(1 + j_II)
    Vector<T> input;    ///< I = i_E − j_EI i_I/(1 + j_II)
};

/// Fold one fast inhibitory population into n excitatory ones.
/// \param J_EE n×n excitatory weights, J_EE(x, y) from y to x
/// \param j_EI n weights from the inhibitory population onto each excitatory one (>= 0:
///             the sign of inhibition is applied here)
/// \param j_IE n weights from each excitatory population onto the inhibitory one
/// \param j_II inhibitory self-coupling (> −1)
/// \param i_E  n excitatory baseline inputs; \param i_I inhibitory baseline input
/// \code
/// auto f = neurodyn::fold_inhibition<double>(J_EE, j_EI, j_IE, 2.0, i_E, 1.0);
/// neurodyn::PopulationModel<G> m(f.weights, tau, f.input);
/// \endcode
template <Real T>
FoldedInhibition<T> fold_inhibition(const Matrix<T>& J_EE, const Vector<T>& j_EI, const Vector<T>& j_IE, T j_II,
                                    const Vector<T>& i_E, T i_I) {
    const index_t n = J_EE.rows();
    require(n > 0 && J_EE.cols() == n, "J_EE", std::to_string(J_EE.rows()) + "x" + std::to_string(J_EE.cols()),
            "must be a non-empty square matrix");
    require_size("j_EI", j_EI.size(), n);
    require_size("j_IE", j_IE.size(), n);
    require_size("i_E", i_E.size(), n);
    require(J_EE.allFinite() && j_EI.allFinite() && j_IE.allFinite() && i_E.allFinite() && std::isfinite(double(i_I)),
            "J_EE, j_EI, j_IE, i_E, i_I", "values with NaN or Inf", "all couplings and inputs must be finite");
    detail::require_inhibitory_self_coupling(double(j_II));
    const T g = T(1) / (T(1) + j_II);
    FoldedInhibition<T> f;
    f.weights = J_EE - g * j_EI * j_IE.transpose();
    f.input = i_E - (g * i_I) * j_EI;
    return f;
}

}  // namespace neurodyn
