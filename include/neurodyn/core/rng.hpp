#pragma once
/// \file rng.hpp
/// Seeded random streams. A stream is identified by (seed, stream, substream) — typically
/// (user seed, trial index, purpose) — and its numbers depend on nothing else, so a trial
/// ensemble gives the same numbers whichever thread runs which trial.
///
/// The generator is xoshiro256++ (Blackman & Vigna), its state set from the key by
/// SplitMix64 hashing. Normal deviates use the Marsaglia polar method implemented here,
/// not `std::normal_distribution`, whose output differs between standard libraries;
/// `normal_fast()` is a faster ziggurat generator for hot noise loops (its own sequence).
/// Every multiply-add in the generators is an explicit `std::fma`, so the same key gives the
/// same bits in every build, with or without `-march=native` (sqrt is correctly rounded;
/// log and exp come from the C library, so two machines agree when their libm does).
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

/// Layer edges x[0..128] of the 128-layer normal ziggurat (Doornik 2005: r = 3.442619855899,
/// layer area v = 9.91256303526217e-3; x[0] = v/φ(r), x[1] = r, x[i] = √(−2 log(v/x[i−1] + φ(x[i−1])))),
/// as exact hexadecimal literals so that every platform uses the same table and the hot path
/// needs no initialisation guard.
inline constexpr double ziggurat_x[129] = {
    0x1.db4668fe7e4a4p+1, 0x1.b8a7c476d2be8p+1, 0x1.9c8e0c7c8098fp+1, 0x1.8aa73e440ffbcp+1,
    0x1.7d45eb36eb842p+1, 0x1.7279dd4ac3f9dp+1, 0x1.695c2be68edc9p+1, 0x1.616dff7c8f54ap+1,
    0x1.5a61edf7e8f32p+1, 0x1.54052012a04a4p+1, 0x1.4e3456b0e3a1bp+1, 0x1.48d61806d6010p+1,
    0x1.43d75b60bca1dp+1, 0x1.3f29848d3b416p+1, 0x1.3ac11b8e206d6p+1, 0x1.3694f3a3740d9p+1,
    0x1.329d9725e32f7p+1, 0x1.2ed4df8099571p+1, 0x1.2b35aa5ebee3ep+1, 0x1.27bba2b5dbc92p+1,
    0x1.246317a6b53c0p+1, 0x1.2128dd36bdf09p+1, 0x1.1e0a342cf08f6p+1, 0x1.1b04b731f6bccp+1,
    0x1.18164be0c1c39p+1, 0x1.153d16d45743dp+1, 0x1.12777201834f3p+1, 0x1.0fc3e4d95f278p+1,
    0x1.0d211dd28b00fp+1, 0x1.0a8ded0ec371ap+1, 0x1.08093fe3e40e1p+1, 0x1.05921d1c4d769p+1,
    0x1.0327a1cc4cf5ep+1, 0x1.00c8fea1720d4p+1, 0x1.fceaeb2ca5f17p+0, 0x1.f858aff31cbf0p+0,
    0x1.f3da097460823p+0, 0x1.ef6dcddc7d392p+0, 0x1.eb12e91486bbcp+0, 0x1.e6c85a849b015p+0,
    0x1.e28d331c6723cp+0, 0x1.de609397e09b9p+0, 0x1.da41aaf79a344p+0, 0x1.d62fb52580b86p+0,
    0x1.d229f9bfeefdbp+0, 0x1.ce2fcb05f8c34p+0, 0x1.ca4084e091e34p+0, 0x1.c65b8c04dbac2p+0,
    0x1.c2804d2c6b16fp+0, 0x1.beae3c60cd0e4p+0, 0x1.bae4d457ee119p+0, 0x1.b72395df5b73bp+0,
    0x1.b36a075498d64p+0, 0x1.afb7b428fe7a1p+0, 0x1.ac0c2c6fc6382p+0, 0x1.a867047516e4fp+0,
    0x1.a4c7d45d01a31p+0, 0x1.a12e37c983369p+0, 0x1.9d99cd86b58b4p+0, 0x1.9a0a373c73f21p+0,
    0x1.967f1924c7b06p+0, 0x1.92f819c682bf5p+0, 0x1.8f74e1b37c6b8p+0, 0x1.8bf51b49ef337p+0,
    0x1.88787278810a6p+0, 0x1.84fe9484873b9p+0, 0x1.81872fd21db73p+0, 0x1.7e11f3adaeb92p+0,
    0x1.7a9e90168b8eep+0, 0x1.772cb58a39dd6p+0, 0x1.73bc14d01a2c9p+0, 0x1.704c5ec50cb81p+0,
    0x1.6cdd4426b88a5p+0, 0x1.696e755e16b84p+0, 0x1.65ffa248e016dp+0, 0x1.62907a0176ebfp+0,
    0x1.5f20aaa4dfc1ap+0, 0x1.5bafe11654817p+0, 0x1.583dc8bff3219p+0, 0x1.54ca0b4ffd349p+0,
    0x1.515450720f455p+0, 0x1.4ddc3d83a5b84p+0, 0x1.4a617543306ccp+0, 0x1.46e39778de063p+0,
    0x1.436240982ad9dp+0, 0x1.3fdd09591d2a4p+0, 0x1.3c538647ef792p+0, 0x1.38c54749b9033p+0,
    0x1.3531d7146a43ep+0, 0x1.3198ba982d911p+0, 0x1.2df97057e7efbp+0, 0x1.2a536fae30e33p+0,
    0x1.26a627fb9d120p+0, 0x1.22f0ffbaa1e55p+0, 0x1.1f335374a10f8p+0, 0x1.1b6c7492c9735p+0,
    0x1.179ba80463fecp+0, 0x1.13c024b2c7ec6p+0, 0x1.0fd911b97f236p+0, 0x1.0be58456ff4aep+0,
    0x1.07e47d87a40f6p+0, 0x1.03d4e7391c5b7p+0, 0x1.ff6b21fffe31ap-1, 0x1.f70a5866c8f46p-1,
    0x1.ee848e956826fp-1, 0x1.e5d6909f51b6ap-1, 0x1.dcfccc51c59f0p-1, 0x1.d3f340dda611cp-1,
    0x1.cab56ac6a38d3p-1, 0x1.c13e2b014e85cp-1, 0x1.b787a7c516f3bp-1, 0x1.ad8b2506a137cp-1,
    0x1.a340d1baf5b18p-1, 0x1.989f85c753b2cp-1, 0x1.8d9c6a9d35e3dp-1, 0x1.822a858af0e7dp-1,
    0x1.763a1600eec74p-1, 0x1.69b7b213f3f69p-1, 0x1.5c8afdbf0217bp-1, 0x1.4e94c08c0bab7p-1,
    0x1.3fabee1911cd7p-1, 0x1.2f98d6bb4f41fp-1, 0x1.1e0ce6b5969b3p-1, 0x1.0a936da5e55adp-1,
    0x1.e8e576e43fbefp-2, 0x1.b4c8fece48e83p-2, 0x1.73949184db9dfp-2, 0x1.16db47e193e1ap-2,
    0x0.0p+0};

/// Tables of the ziggurat: edges and the ratios x[i+1]/x[i] below which a point is accepted
/// without evaluating the density.
struct Ziggurat {
    static constexpr int layers = 128;
    static constexpr double r = 3.442619855899;  // base-strip edge
    static constexpr const double* x = ziggurat_x;
    static constexpr std::array<double, layers> ratio = [] {
        std::array<double, layers> q{};
        for (int i = 0; i < layers; ++i) q[std::size_t(i)] = ziggurat_x[i + 1] / ziggurat_x[i];
        return q;
    }();
    /// The density at the edges, exp(−x[i]²/2), so that the wedge test needs one exp.
    inline static const std::array<double, layers + 1> density = [] {
        std::array<double, layers + 1> f{};
        for (int i = 0; i <= layers; ++i) f[std::size_t(i)] = std::exp(-0.5 * ziggurat_x[i] * ziggurat_x[i]);
        return f;
    }();
};
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
            // Explicit fma: the compiler may not choose whether to fuse u·u + v·v (it does with
            // -march=native, not without), which would change the accept/reject decision and
            // with it every later draw. std::fma rounds the same in every build.
            s = std::fma(u, u, v * v);
        } while (s >= 1.0 || s == 0.0);
        const double f = std::sqrt(-2.0 * std::log(s) / s);
        st_.spare = v * f;
        st_.has_spare = true;
        return static_cast<T>(u * f);
    }

    /// Normal deviate with the given mean and standard deviation.
    template <Real T = double>
    T normal(T mean, T sd) noexcept { return std::fma(sd, normal<T>(), mean); }

    /// Standard normal deviate by the ziggurat method (Marsaglia & Tsang 2000, in Doornik's
    /// 2005 128-layer form): one 64-bit draw and no transcendental function in ~98.8 % of
    /// calls, several times faster than normal(). A different (equally seeded, equally
    /// reproducible) sequence from normal(); it does not touch normal()'s cached spare.
    ///
    /// \code
    /// neurodyn::Rng noise(seed, trial);
    /// double xi = noise.normal_fast();
    /// \endcode
    template <Real T = double>
    T normal_fast() noexcept {
        T v;
        normal_fast(&v, 1);
        return v;
    }

    /// n ziggurat deviates into out[0..n): the same numbers as n calls of normal_fast(). The
    /// generator state is copied into locals for the batch so that it stays in registers (kept
    /// in the object, the compiler spills it around the rare path on every draw: ~3× slower).
    /// \code
    /// double xi[4];
    /// noise.normal_fast(xi, 4);
    /// \endcode
    template <Real T>
    void normal_fast(T* out, std::size_t n) noexcept {
        using z = detail::Ziggurat;
        std::uint64_t s0 = st_.s[0], s1 = st_.s[1], s2 = st_.s[2], s3 = st_.s[3];
        for (std::size_t k = 0; k < n; ++k) {
            const std::uint64_t bits = detail::rotl(s0 + s3, 23) + s0;
            const std::uint64_t t = s1 << 17;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = detail::rotl(s3, 45);
            const unsigned i = unsigned(bits & 0x7F);
            const double u = 2.0 * (double(bits >> 11) * 0x1.0p-53) - 1.0;
            if (std::abs(u) < z::ratio[i]) [[likely]] {
                out[k] = static_cast<T>(u * z::x[i]);
                continue;
            }
            st_.s = {s0, s1, s2, s3};
            out[k] = static_cast<T>(normal_fast_rare(i, u));
            s0 = st_.s[0], s1 = st_.s[1], s2 = st_.s[2], s3 = st_.s[3];
        }
        st_.s = {s0, s1, s2, s3};
    }

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
    // The ~1.2 % of ziggurat draws outside a layer's inner rectangle: the wedge test, the tail
    // and redraws. Out of line so that the hot path keeps the generator state in registers.
    [[gnu::noinline, gnu::cold]] double normal_fast_rare(unsigned i, double u) noexcept {
        using z = detail::Ziggurat;
        for (;;) {
            if (i == 0) return tail(z::r, u < 0);
            const double x = u * z::x[i];
            // The wedge: accept when a uniform point of the layer's strip lies under the
            // density, U·(f(x_i) − f(x_{i+1})) + f(x_{i+1}) < f(x) (one exp; the multiply-add
            // is a std::fma so that every build rounds it alike).
            const double f0 = z::density[i], f1 = z::density[i + 1];
            if (std::fma(uniform(), f0 - f1, f1) < std::exp(-0.5 * x * x)) return x;
            const std::uint64_t bits = (*this)();
            i = unsigned(bits & 0x7F);
            u = 2.0 * (double(bits >> 11) * 0x1.0p-53) - 1.0;
            if (std::abs(u) < z::ratio[i]) return u * z::x[i];
        }
    }

    // Marsaglia's tail algorithm beyond the ziggurat's base radius r.
    double tail(double r, bool negative) noexcept {
        double x, y;
        do {
            x = std::log(uniform_open()) / r;
            y = std::log(uniform_open());
        } while (-2.0 * y < x * x);
        return negative ? x - r : r - x;
    }

    RngState st_;
};

}  // namespace neurodyn
