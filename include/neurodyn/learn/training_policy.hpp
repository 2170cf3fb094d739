#pragma once
/// \file training_policy.hpp
/// Which synapses FORCE learns (mlpack-style policy classes, passed to `ForceTrainer`):
///
/// - `AllSynapses` (default): every recurrent synapse J_ij; P is N×N (Rajan et al. 2016).
/// - `PresynapticFraction{p}`: the synapses from a random fraction p of the units onto every
///   unit (PINning, Rajan et al. 2016); P is built over the trainable presynaptic set only
///   (M = round(p·N) units), so it is M×M.
/// - `Rows{set}`: only the inputs of the listed (postsynaptic) units learn; the error of the
///   other units is ignored. P is N×N.
/// - `Readout<T>{W_out, feedback}`: classic FORCE (Sussillo & Abbott 2009): J stays fixed, the
///   readout z = W_out r learns and is fed back into the network through `feedback` (N × outputs).
///
/// \code
/// neurodyn::learn::ForceTrainer<neurodyn::learn::PresynapticFraction> t(net, R, h, opts, {0.2});
/// neurodyn::learn::Readout<double> ro{Matrix<double>::Zero(1, N), feedback};
/// \endcode
#include <algorithm>
#include <cmath>
#include <concepts>
#include <string>
#include <type_traits>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn::learn {

/// Every recurrent synapse learns.
struct AllSynapses {
    void validate(index_t) const {}
};

/// The synapses from a random fraction p ∈ (0, 1] of the presynaptic units learn.
struct PresynapticFraction {
    double p = 1.0;
    void validate(index_t) const {
        require(p > 0.0 && p <= 1.0 && std::isfinite(p), "PresynapticFraction.p", p, "must be in (0, 1]");
    }
};

/// Only the synapses onto the listed postsynaptic units learn.
struct Rows {
    std::vector<index_t> set;
    void validate(index_t n) const {
        require(!set.empty(), "Rows.set", "empty", "must list at least one unit");
        for (auto i : set)
            require(i >= 0 && i < n, "Rows.set", i, "unit indices must be in [0, " + std::to_string(n) + ")");
        auto s = set;
        std::sort(s.begin(), s.end());
        require(std::adjacent_find(s.begin(), s.end()) == s.end(), "Rows.set", "a list with repeats",
                "must list each unit once");
    }
};

/// Classic FORCE: a trained linear readout z = W_out r with feedback W_fb z into the network.
template <Real T = double>
struct Readout {
    Matrix<T> W_out;     ///< outputs × N, initial readout (zeros in Sussillo & Abbott)
    Matrix<T> feedback;  ///< N × outputs, fixed feedback weights
    void validate(index_t n) const {
        require(W_out.rows() >= 1 && W_out.cols() == n, "Readout.W_out",
                std::to_string(W_out.rows()) + "x" + std::to_string(W_out.cols()),
                "must be outputs x " + std::to_string(n));
        require(feedback.rows() == n && feedback.cols() == W_out.rows(), "Readout.feedback",
                std::to_string(feedback.rows()) + "x" + std::to_string(feedback.cols()),
                "must be " + std::to_string(n) + " x " + std::to_string(W_out.rows()));
        require(W_out.allFinite() && feedback.allFinite(), "Readout", "NaN or Inf weights", "must be finite");
    }
};

template <class P>
struct is_readout : std::false_type {};
template <Real T>
struct is_readout<Readout<T>> : std::true_type {};

/// A training policy: one of the four above (checked with a readable message in ForceTrainer).
template <class P>
concept TrainingPolicy = std::same_as<P, AllSynapses> || std::same_as<P, PresynapticFraction> ||
                         std::same_as<P, Rows> || is_readout<P>::value;

/// The plastic set a recurrent policy resolves to for a network of n units.
struct PlasticSet {
    std::vector<index_t> presynaptic;  ///< trainable columns of J, sorted (size M = size of P)
    std::vector<index_t> rows;         ///< trained rows of J, sorted
    bool all_presynaptic = true;
    bool all_rows = true;
};

/// Resolve a recurrent policy. The random presynaptic subset of PresynapticFraction comes from
/// `rng` (a partial Fisher–Yates shuffle), so it is fixed by the trainer's seed.
inline PlasticSet resolve(const AllSynapses&, index_t n, Rng&) {
    PlasticSet s;
    for (index_t i = 0; i < n; ++i) s.presynaptic.push_back(i), s.rows.push_back(i);
    return s;
}
inline PlasticSet resolve(const PresynapticFraction& p, index_t n, Rng& rng) {
    p.validate(n);
    PlasticSet s;
    const auto m = std::clamp<index_t>(index_t(std::llround(p.p * double(n))), 1, n);
    std::vector<index_t> all(std::size_t(n), 0);
    for (index_t i = 0; i < n; ++i) all[std::size_t(i)] = i;
    for (index_t i = 0; i < m; ++i) {
        const auto j = i + index_t(rng.below(std::uint64_t(n - i)));
        std::swap(all[std::size_t(i)], all[std::size_t(j)]);
    }
    s.presynaptic.assign(all.begin(), all.begin() + m);
    std::sort(s.presynaptic.begin(), s.presynaptic.end());
    for (index_t i = 0; i < n; ++i) s.rows.push_back(i);
    s.all_presynaptic = m == n;
    return s;
}
inline PlasticSet resolve(const Rows& r, index_t n, Rng&) {
    r.validate(n);
    PlasticSet s;
    for (index_t i = 0; i < n; ++i) s.presynaptic.push_back(i);
    s.rows = r.set;
    std::sort(s.rows.begin(), s.rows.end());
    s.all_rows = index_t(s.rows.size()) == n;
    return s;
}

}  // namespace neurodyn::learn
