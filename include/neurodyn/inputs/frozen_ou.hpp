#pragma once
/// \file frozen_ou.hpp
/// Frozen Ornstein–Uhlenbeck inputs for FORCE-trained RNNs (Rajan, Harvey & Tank 2016):
/// τ_WN dh/dt = −h + h₀ η(t), η unit white noise, one independent process per neuron, drawn
/// once ("frozen") and replayed on every training iteration.
///
/// Across conditions (trial types) the input is identical in the shared epochs (pre-sample and
/// delay by default) and diverges in the others (sample and response): a shared path S(t) is
/// drawn for all conditions, and in a divergent epoch condition c follows its own process D_c,
/// which starts from S at the epoch's first step and is driven by the condition's own noise.
/// On re-entering a shared epoch the input returns to S (a step of typical size h₀/√τ_WN,
/// smoothed by the network's τ). The discretisation is exact for the OU process:
///   h_{t+1} = h_t·e^{−dt/τ_WN} + h₀·√((1 − e^{−2dt/τ_WN}) / (2τ_WN))·ξ_t,
/// so the stationary standard deviation is h₀/√(2τ_WN) (0.22 for h₀ = 10, τ_WN = 1000 ms),
/// and S(0) is drawn from the stationary law. Streams: Rng(seed, 0, 0xF0) for S and
/// Rng(seed, 1 + c, 0xF0) for condition c, so the numbers depend on the seed only.
///
/// \code
/// neurodyn::TaskEpochs ep(6000.0);
/// ep.add("presample", 0, 1500).add("sample", 1500, 2500).add("delay", 2500, 4500).add("response", 4500, 6000);
/// neurodyn::FrozenOu ou{1000.0, 10.0};
/// auto h = ou.generate<double>(87, 2, neurodyn::TimeGrid(1.0, 6000), ep, {"presample", "delay"}, seed);
/// // h: (2 conditions, 87 neurons, 6000 steps)
/// \endcode
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

/// Parameters of the frozen OU input.
struct FrozenOu {
    double tau_wn = 1000.0;  ///< correlation time τ_WN in ms
    double h0 = 10.0;        ///< noise amplitude h₀

    void validate() const {
        require_positive("tau_wn", tau_wn);
        require_nonnegative("h0", h0);
    }

    /// Stationary standard deviation h₀/√(2τ_WN).
    double stationary_sd() const { return h0 / std::sqrt(2.0 * tau_wn); }

    /// Inputs of shape (conditions, neurons, grid.size()). Steps whose time falls in one of
    /// `shared_epochs` get the shared path; every other step the condition's own path.
    template <Real T = double>
    xt::xtensor<T, 3> generate(index_t neurons, index_t conditions, const TimeGrid& grid, const TaskEpochs& epochs,
                               const std::vector<std::string>& shared_epochs, std::uint64_t seed) const {
        validate();
        require(neurons >= 1, "neurons", neurons, "must be >= 1");
        require(conditions >= 1, "conditions", conditions, "must be >= 1");
        std::vector<char> shared(std::size_t(grid.size()), 0);
        for (const auto& name : shared_epochs) {
            const auto s = epochs.steps(name, grid);  // throws for an unknown epoch
            for (auto i = s.first; i < s.last; ++i) shared[std::size_t(i)] = 1;
        }
        const double a = std::exp(-grid.dt() / tau_wn);
        // Every multiply-add below is an explicit std::fma: the same bits in every build (with
        // or without -march=native), so a training folder regenerates its inputs exactly.
        const double b = h0 * std::sqrt(std::fma(-a, a, 1.0) / (2.0 * tau_wn));
        const auto K = std::size_t(grid.size()), N = std::size_t(neurons), C = std::size_t(conditions);
        // The shared path, all steps.
        std::vector<double> S(N * K);
        {
            Rng rng(seed, 0, 0xF0);
            std::vector<double> h(N);
            for (auto& v : h) v = stationary_sd() * rng.normal();
            for (std::size_t k = 0; k < K; ++k)
                for (std::size_t i = 0; i < N; ++i) {
                    S[i * K + k] = h[i];
                    h[i] = std::fma(a, h[i], b * rng.normal());
                }
        }
        xt::xtensor<T, 3> out = xt::xtensor<T, 3>::from_shape({C, N, K});
        for (std::size_t c = 0; c < C; ++c) {
            Rng rng(seed, 1 + c, 0xF0);
            std::vector<double> h(N);
            for (std::size_t k = 0; k < K; ++k) {
                const bool enter = !shared[k] && (k == 0 || shared[k - 1]);
                for (std::size_t i = 0; i < N; ++i) {
                    if (shared[k]) {
                        out(c, i, k) = T(S[i * K + k]);
                        continue;
                    }
                    if (enter) h[i] = S[i * K + k];
                    out(c, i, k) = T(h[i]);
                    h[i] = std::fma(a, h[i], b * rng.normal());
                }
            }
        }
        return out;
    }
};

/// The frozen input as the Python study generates it (the `seed` training protocol,
/// learn/seed_protocol.hpp), beside FrozenOu's exact OU: an Euler recursion on 1-ms steps,
///   h_t = h_{t−1} + (−h_{t−1} + h₀·ξ_t)/τ_WN,   h_0 = `start` (0.5) for every unit,
/// with ξ ~ N(0, 1) for the common path S and ξ ~ N(0, `condition_sd`²) (0.5²) for a
/// condition's own path. S runs through the whole trial; in the shared epochs (pre-sample and
/// delay) every condition's input is S; in the others (sample, response) condition c
/// continues from its own previous value (S at the last shared step) with its own noise, and
/// on re-entering a shared epoch it jumps back to S. The process starts at 0.5, far from its
/// stationary law (SD h₀/√(2τ_WN) ≈ 0.22 about 0), and relaxes over τ_WN: the study's inputs
/// drift from 0.5 towards 0 over the trial. Streams: Rng(seed, 0, 0xF5) for S, Rng(seed, 1 + c,
/// 0xF5) for condition c. `generate_from` applies the same recursion to given normals (to
/// replay another generator's numbers, e.g. the study's own).
/// \code
/// neurodyn::TaskEpochs ep(1650.0);
/// ep.add("presample", 0, 300).add("sample", 300, 800).add("delay", 800, 1400).add("response", 1400, 1650);
/// auto h = neurodyn::SeedFrozenOu{}.generate<double>(12, 2, neurodyn::TimeGrid(1.0, 1650), ep,
///                                                    {"presample", "delay"}, seed);
/// \endcode
struct SeedFrozenOu {
    double tau_wn = 1000.0;     ///< τ_WN (ms)
    double h0 = 10.0;           ///< amplitude h₀
    double start = 0.5;         ///< value of every unit at step 0
    double condition_sd = 0.5;  ///< SD of the normals that drive a condition's own path

    void validate() const {
        require_positive("tau_wn", tau_wn);
        require_nonnegative("h0", h0);
        require(std::isfinite(start), "start", start, "must be finite");
        require_nonnegative("condition_sd", condition_sd);
    }

    /// Inputs (conditions, neurons, grid.size()); the grid must have 1-ms steps (the study's
    /// recursion is defined per step).
    template <Real T = double>
    xt::xtensor<T, 3> generate(index_t neurons, index_t conditions, const TimeGrid& grid, const TaskEpochs& epochs,
                               const std::vector<std::string>& shared_epochs, std::uint64_t seed) const {
        validate();
        require(neurons >= 1, "neurons", neurons, "must be >= 1");
        require(conditions >= 1, "conditions", conditions, "must be >= 1");
        require(grid.dt() == 1.0, "dt", grid.dt(), "must be 1 ms for the seed protocol's input (one Euler step per ms)");
        const index_t K = grid.size();
        const std::vector<char> shared = shared_steps(grid, epochs, shared_epochs);
        Matrix<double> common(neurons, K);
        common.col(0).setZero();
        {
            Rng rng(seed, 0, 0xF5);
            for (index_t k = 1; k < K; ++k)
                for (index_t i = 0; i < neurons; ++i) common(i, k) = rng.normal();
        }
        std::vector<Matrix<double>> own(std::size_t(conditions), Matrix<double>::Zero(neurons, K));
        for (index_t c = 0; c < conditions; ++c) {
            Rng rng(seed, std::uint64_t(1 + c), 0xF5);
            for (index_t k = 1; k < K; ++k)
                if (!shared[std::size_t(k)])
                    for (index_t i = 0; i < neurons; ++i) own[std::size_t(c)](i, k) = condition_sd * rng.normal();
        }
        return generate_from<T>(common, own, shared);
    }

    /// The steps (of `grid`) that fall in one of `shared_epochs` (1) or not (0).
    static std::vector<char> shared_steps(const TimeGrid& grid, const TaskEpochs& epochs,
                                          const std::vector<std::string>& shared_epochs) {
        std::vector<char> shared(std::size_t(grid.size()), 0);
        for (const auto& name : shared_epochs) {
            const auto s = epochs.steps(name, grid);  // throws for an unknown epoch
            for (auto i = s.first; i < s.last; ++i) shared[std::size_t(i)] = 1;
        }
        return shared;
    }

    /// The recursion on given normals: `common` (neurons × steps) drives S, `own[c]` (same
    /// shape, already scaled by condition_sd) drives condition c on the steps that are not
    /// shared; column 0 is unused (every unit starts at `start`).
    template <Real T = double>
    xt::xtensor<T, 3> generate_from(const Matrix<double>& common, const std::vector<Matrix<double>>& own,
                                    const std::vector<char>& shared) const {
        validate();
        const index_t N = common.rows(), K = common.cols();
        require(K >= 1 && N >= 1, "common", "an empty matrix", "must be neurons x steps");
        require(index_t(shared.size()) == K, "shared", shared.size(), "must have one entry per step (" + std::to_string(K) + ")");
        require(!own.empty(), "own", "no conditions", "must hold one matrix per condition");
        for (const auto& m : own)
            require(m.rows() == N && m.cols() == K, "own", std::to_string(m.rows()) + "x" + std::to_string(m.cols()),
                    "must be " + std::to_string(N) + "x" + std::to_string(K) + " like `common`");
        const auto C = own.size();
        xt::xtensor<T, 3> out = xt::xtensor<T, 3>::from_shape({C, std::size_t(N), std::size_t(K)});
        std::vector<double> S(std::size_t(N), start);
        std::vector<std::vector<double>> h(C, std::vector<double>(std::size_t(N), start));
        for (std::size_t c = 0; c < C; ++c)
            for (index_t i = 0; i < N; ++i) out(c, std::size_t(i), 0) = T(start);
        for (index_t k = 1; k < K; ++k) {
            const bool sh = shared[std::size_t(k)] != 0;
            for (index_t i = 0; i < N; ++i) {
                // Explicit fma: the same bits in every build (a training folder regenerates its inputs).
                const auto si = std::size_t(i);
                S[si] = S[si] + std::fma(h0, common(i, k), -S[si]) / tau_wn;
                for (std::size_t c = 0; c < C; ++c) {
                    double& v = h[c][si];
                    v = sh ? S[si] : v + std::fma(h0, own[c](i, k), -v) / tau_wn;
                    out(c, si, std::size_t(k)) = T(v);
                }
            }
        }
        return out;
    }
};

}  // namespace neurodyn
