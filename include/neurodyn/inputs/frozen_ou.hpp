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

}  // namespace neurodyn
