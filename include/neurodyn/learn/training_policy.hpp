#pragma once
/// \file training_policy.hpp
/// Training policies: what FORCE learns, as an open concept (`TrainingPolicy<P, T>`). A policy
/// answers four questions, and the trainer (learn/force_trainer.hpp) asks nothing else:
///
/// 1. **Which rows and which presynaptic units learn**: `PlasticSet resolve(index_t n, Rng&) const`.
///    P (the RLS matrix) is built over the presynaptic set; rows outside the row set keep
///    their weights. `resolve` validates the policy for a network of n units.
/// 2. **Its parameters**, for checkpoints: `void describe(ParameterList&) const` appends
///    ("policy", name) and every parameter that changes the result; resume() compares them.
/// 3. **The error** (optional): `void error(const ErrorTerms<T>&, Vector<T>& e) const` writes
///    e for the trained rows (e is zero on entry and must stay zero elsewhere). Default
///    (`rate_error`): e = y − f (+ h when `error_includes_input`), y = J r the recurrent drive,
///    f = φ⁻¹(R) the target current.
/// 4. **How the update is applied** (optional): after every rank-1 RLS update the trainer calls
///    `bool constrain(Matrix<T>& W, const PlasticSet&) const` if the policy has it (a
///    projection, e.g. sign constraints); returning true makes the trainer recompute W r.
///    A policy with `Matrix<T> readout_weights(index_t n) const` and
///    `void feed_back(const Vector<T>& y, Vector<T>& u) const` learns a separate readout
///    y = W r (rows = outputs) instead of J, adds its feedback to the network's input, and is
///    scored on y (see `Readout`); `void initial_state(index_t condition, std::uint64_t seed,
///    Vector<T>& x) const` replaces the default start on the target, x(0) = φ⁻¹(R(:, 0)).
///
/// Built in, written against the same concept:
///
/// - `AllSynapses` (default): every recurrent synapse J_ij; P is N×N (Rajan et al. 2016).
/// - `PresynapticFraction{p}`: the synapses from a random fraction p of the units onto every
///   unit (PINning, Rajan et al. 2016); P is over the trainable presynaptic set only (M×M).
/// - `Rows{set}`: only the inputs of the listed (postsynaptic) units learn; pVar and the
///   stopping rule are scored on them. P is N×N.
/// - `Readout<T>{W_out, feedback}`: classic FORCE (Sussillo & Abbott 2009): J stays fixed, the
///   readout z = W_out r learns and is fed back into the network through `feedback`.
///
/// A policy of one's own (sign-constrained rows, Dale's law on the trained rows; the full
/// version is in tests/test_learn.cpp and docs/force_training.md):
/// \code
/// struct DaleRows {
///     neurodyn::learn::Rows rows;
///     std::vector<signed char> sign;   // +1 excitatory, -1 inhibitory presynaptic unit
///     neurodyn::learn::PlasticSet resolve(neurodyn::index_t n, neurodyn::Rng& rng) const {
///         return rows.resolve(n, rng);
///     }
///     void describe(neurodyn::learn::ParameterList& p) const {   // "policy" first, then what changes results
///         p.emplace_back("policy", "DaleRows");
///         p.emplace_back("DaleRows.rows_and_signs", neurodyn::learn::hash_text(...));
///     }
///     bool constrain(neurodyn::Matrix<double>& J, const neurodyn::learn::PlasticSet& s) const {
///         for (neurodyn::index_t j = 0; j < J.cols(); ++j)
///             for (auto i : s.rows) J(i, j) = sign[j] > 0 ? std::max(J(i, j), 0.0) : std::min(J(i, j), 0.0);
///         return true;
///     }
/// };
/// neurodyn::learn::ForceTrainer<DaleRows> t(net, R, h, opts, DaleRows{{{0, 1, 2}}, signs});
/// \endcode
#include <algorithm>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/io/checkpoint.hpp"

namespace neurodyn::learn {

/// (name, value) texts of the parameters that change a training result.
using ParameterList = std::vector<std::pair<std::string, std::string>>;

/// Text of a number that reads back to the same double (shortest round-trip form), used for
/// the parameters a checkpoint records: equal texts mean bitwise equal values.
inline std::string exact_text(double v) {
    char b[64];
    const auto r = std::to_chars(b, b + sizeof b, v);
    return std::string(b, r.ptr);
}

/// FNV-1a hash of the bytes of a dense Eigen object, as 16 hex digits.
template <class Derived>
std::string hash_text(const Eigen::DenseBase<Derived>& m) {
    using S = typename Derived::Scalar;
    const Matrix<S> a = m;  // contiguous, column-major
    char b[24];
    std::snprintf(b, sizeof b, "%016llx",
                  static_cast<unsigned long long>(Checkpoint::fnv1a(std::string_view(
                      reinterpret_cast<const char*>(a.data()), std::size_t(a.size()) * sizeof(S)))));
    return b;
}

/// The plastic set a policy resolves to: which rows of the learned matrix and which
/// presynaptic units (columns) learn.
struct PlasticSet {
    std::vector<index_t> presynaptic;  ///< trainable columns, sorted (size M = size of P)
    std::vector<index_t> rows;         ///< trained rows, sorted; pVar is scored on them
    bool all_presynaptic = true;
    bool all_rows = true;

    /// Every row and column of an outputs × n matrix.
    static PlasticSet all(index_t outputs, index_t n) {
        PlasticSet s;
        for (index_t i = 0; i < n; ++i) s.presynaptic.push_back(i);
        for (index_t i = 0; i < outputs; ++i) s.rows.push_back(i);
        return s;
    }
};

/// What a policy's error() sees at one learning step.
template <Real T>
struct ErrorTerms {
    const Vector<T>& y;          ///< the learned product W r before the update (J r, or the readout)
    const T* f;                  ///< target column: φ⁻¹(R(:, k)) for rates, the output signal for a readout
    const T* h;                  ///< external input of the step (one per unit)
    const Vector<T>& x;          ///< state at the start of the step
    const PlasticSet& plastic;
    bool error_includes_input;   ///< ForceOptions::error_includes_input
};

/// The default error: e_i = y_i − f_i (+ h_i) on the trained rows.
template <Real T>
void rate_error(const ErrorTerms<T>& t, Vector<T>& e) {
    const T* y = t.y.data();
    if (t.plastic.all_rows) {
        const index_t n = e.size();
        if (t.error_includes_input)
            for (index_t i = 0; i < n; ++i) e[i] = (y[i] - t.f[i]) + t.h[i];
        else
            for (index_t i = 0; i < n; ++i) e[i] = y[i] - t.f[i];
    } else {
        for (auto i : t.plastic.rows) e[i] = y[i] - t.f[i] + (t.error_includes_input ? t.h[i] : T(0));
    }
}

/// A training policy for scalar type T (see the file comment for the optional members).
template <class P, class T>
concept TrainingPolicy = Real<T> && requires(const P& p, index_t n, Rng& rng, ParameterList& out) {
    { p.resolve(n, rng) } -> std::same_as<PlasticSet>;
    p.describe(out);
};

/// A policy that learns a separate readout fed back into the network (instead of J).
template <class P, class T>
concept ReadoutPolicy = TrainingPolicy<P, T> && requires(const P& p, index_t n, const Vector<T>& y, Vector<T>& u) {
    { p.readout_weights(n) } -> std::convertible_to<Matrix<T>>;
    p.feed_back(y, u);
};

/// Every recurrent synapse learns.
struct AllSynapses {
    void validate(index_t) const {}
    PlasticSet resolve(index_t n, Rng&) const { return PlasticSet::all(n, n); }
    void describe(ParameterList& p) const { p.emplace_back("policy", "AllSynapses"); }
};

/// The synapses from a random fraction p ∈ (0, 1] of the presynaptic units learn.
struct PresynapticFraction {
    double p = 1.0;
    void validate(index_t) const {
        require(p > 0.0 && p <= 1.0 && std::isfinite(p), "PresynapticFraction.p", p, "must be in (0, 1]");
    }
    /// The random subset comes from `rng` (a partial Fisher–Yates shuffle), so it is fixed by
    /// the trainer's seed.
    PlasticSet resolve(index_t n, Rng& rng) const {
        validate(n);
        PlasticSet s;
        const auto m = std::clamp<index_t>(index_t(std::llround(p * double(n))), 1, n);
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
    void describe(ParameterList& out) const {
        out.emplace_back("policy", "PresynapticFraction");
        out.emplace_back("PresynapticFraction.p", exact_text(p));
    }
};

/// Only the synapses onto the listed postsynaptic units learn; pVar is scored on them.
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
    PlasticSet resolve(index_t n, Rng&) const {
        validate(n);
        PlasticSet s;
        for (index_t i = 0; i < n; ++i) s.presynaptic.push_back(i);
        s.rows = set;
        std::sort(s.rows.begin(), s.rows.end());
        s.all_rows = index_t(s.rows.size()) == n;
        return s;
    }
    void describe(ParameterList& out) const {
        out.emplace_back("policy", "Rows");
        auto s = set;
        std::sort(s.begin(), s.end());
        std::string rows;
        for (auto i : s) rows += (rows.empty() ? "" : " ") + std::to_string(i);
        out.emplace_back("Rows.set", rows);
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
    PlasticSet resolve(index_t n, Rng&) const {
        validate(n);
        return PlasticSet::all(W_out.rows(), n);
    }
    void describe(ParameterList& out) const {
        out.emplace_back("policy", "Readout");
        out.emplace_back("Readout.outputs", std::to_string(W_out.rows()));
        out.emplace_back("Readout.W_out_initial_hash", hash_text(W_out));
        out.emplace_back("Readout.feedback_hash", hash_text(feedback));
    }
    Matrix<T> readout_weights(index_t) const { return W_out; }
    /// u += W_fb y.
    void feed_back(const Vector<T>& y, Vector<T>& u) const { u.noalias() += feedback * y; }
    /// e = y − f: the output error (the input h is not part of a readout).
    void error(const ErrorTerms<T>& t, Vector<T>& e) const {
        for (index_t i = 0; i < e.size(); ++i) e[i] = t.y[i] - t.f[i];
    }
    /// A fixed random start per condition (x ~ N(0, 0.25)), so training and test trials start alike.
    void initial_state(index_t condition, std::uint64_t seed, Vector<T>& x) const {
        Rng r0(seed, std::uint64_t(condition), 0xF2);
        for (index_t i = 0; i < x.size(); ++i) x[i] = T(0.5 * r0.normal());
    }
};

/// Resolve a policy for a network of n units (kept for callers of the earlier free functions).
template <class P>
PlasticSet resolve(const P& policy, index_t n, Rng& rng) {
    return policy.resolve(n, rng);
}

}  // namespace neurodyn::learn
