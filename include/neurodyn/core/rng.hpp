#pragma once
/// \file rng.hpp
/// Seeded random streams. A stream is identified by (seed, stream, substream) — typically
/// (user seed, trial index, purpose) — and its numbers depend on nothing else, so a trial
/// ensemble gives the same numbers whichever thread runs which trial.
///
/// The generator is xoshiro256++ (Blackman & Vigna), its state set from the key by
/// SplitMix64 hashing. Normal deviates use the Marsaglia polar method implemented here,
/// not `std::normal_distribution`, whose output differs between standard libraries.
///
/// \code
/// neurodyn::Rng noise(seed, trial);          // the noise stream of one trial
/// double xi = noise.normal<double>();
/// neurodyn::Rng stim(seed, trial, 1);        // an independent stream for the stimulus
/// \endcode
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

#include "neurodyn/core/types.hpp"

namespace neurodyn {

namespace detail {
constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
__extension__ typedef unsigned __int128 uint128;  // GCC/Clang extension, for Lemire's method
constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
}  // namespace detail

/// Complete generator state, for checkpoints: restoring it continues the stream exactly.
struct RngState {
    std::array<std::uint64_t, 4> s{};
    double spare = 0.0;     ///< cached second polar-method deviate
    bool has_spare = false;
    friend bool operator==(const RngState&, const RngState&) = default;
};

/// A seeded random stream; satisfies std::uniform_random_bit_generator.
class Rng {
public:
    using result_type = std::uint64_t;

    explicit Rng(std::uint64_t seed = 0, std::uint64_t stream = 0, std::uint64_t substream = 0) noexcept {
        // Hash the key in three rounds so that nearby keys give unrelated states.
        std::uint64_t h = seed;
        std::uint64_t k = detail::splitmix64(h);
        h = k ^ (stream * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
        k = detail::splitmix64(h);
        h = k ^ (substream * 0xaf251af3b0f025b5ULL + 0x8cb92ba72f3d8dd7ULL);
        for (auto& w : st_.s) w = detail::splitmix64(h);
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    result_type operator()() noexcept {
        auto& s = st_.s;
        const std::uint64_t result = detail::rotl(s[0] + s[3], 23) + s[0];
        const std::uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = detail::rotl(s[3], 45);
        return result;
    }

    /// Uniform on [0, 1) with 53 random bits.
    double uniform() noexcept { return double((*this)() >> 11) * 0x1.0p-53; }

    /// Uniform on (0, 1): never 0, so log() of it is finite.
    double uniform_open() noexcept { return (double((*this)() >> 11) + 0.5) * 0x1.0p-53; }

    /// Standard normal deviate (computed in double, returned as T).
    template <Real T = double>
    T normal() noexcept {
        if (st_.has_spare) {
            st_.has_spare = false;
            return static_cast<T>(st_.spare);
        }
        double u, v, s;
        do {
            u = 2.0 * uniform() - 1.0;
            v = 2.0 * uniform() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double f = std::sqrt(-2.0 * std::log(s) / s);
        st_.spare = v * f;
        st_.has_spare = true;
        return static_cast<T>(u * f);
    }

    /// Normal deviate with the given mean and standard deviation.
    template <Real T = double>
    T normal(T mean, T sd) noexcept { return mean + sd * normal<T>(); }

    /// Integer uniform on [0, n), without modulo bias (Lemire's method).
    std::uint64_t below(std::uint64_t n) noexcept {
        if (n == 0) return 0;
        const std::uint64_t threshold = (0 - n) % n;
        for (;;) {
            const detail::uint128 m = static_cast<detail::uint128>((*this)()) * n;
            if (static_cast<std::uint64_t>(m) >= threshold) return static_cast<std::uint64_t>(m >> 64);
        }
    }

    /// Fill a vector with standard normal deviates.
    template <class Derived>
    void fill_normal(Eigen::DenseBase<Derived>& out) noexcept {
        using T = typename Derived::Scalar;
        for (Eigen::Index i = 0; i < out.size(); ++i) out.derived().coeffRef(i) = normal<T>();
    }

    const RngState& state() const noexcept { return st_; }
    void set_state(const RngState& s) noexcept { st_ = s; }

private:
    RngState st_;
};

}  // namespace neurodyn
