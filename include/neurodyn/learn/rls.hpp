#pragma once
/// \file rls.hpp
/// Recursive least squares (RLS) for FORCE learning (Sussillo & Abbott 2009; Rajan, Harvey &
/// Tank 2016): the running inverse correlation matrix P of the presynaptic rates r and the
/// rank-1 weight update it drives.
///
///   k = P r,  c = 1/(λ + rᵀ P r),  P ← (P − c k kᵀ)/λ,  P(0) = I/α,
///   W ← W − c e kᵀ   (e = W r − f, the error before the update; c k = P_new r).
///
/// λ = 1 (the default) is plain RLS; λ < 1 forgets old samples with weight λ^age. After
/// updates with r₁ … r_n, P = (λⁿ α I + Σ_t λ^{n−t} r_t r_tᵀ)⁻¹ exactly (Sherman–Morrison;
/// P(0) = I/α is the inverse of αI, the ridge term).
///
/// P is symmetric, so only its lower triangle is stored and touched: one step reads and
/// writes N²/2 numbers of P. `update_and_gain(r_next)` fuses the rank-1 update with the
/// product k_next = P_new r_next that the next step needs, so P is passed over once per step.
/// `rank1_update_and_multiply` does the same for the weights: W ← W − c e kᵀ and
/// z_next = W_new r_next in one read-modify-write pass over W.
///
/// `update_weights_and_gain` runs both passes of a FORCE step in one parallel region.
///
/// Large N (>= rls_parallel_min_size) runs the passes on OpenMP threads. The work is cut into
/// 8 pieces whose boundaries depend on N only, and partial sums are added in a fixed order, so
/// the numbers are bitwise the same on any thread count. Whether one thread or all of them
/// are used is decided by timing both (`ThreadTuner`): on a shared machine a second thread can
/// make a memory-bound pass slower. The inner loops work on eight columns at once: one
/// column at a time the passes were bound by the core, not by memory (docs/force_training.md).
///
/// \code
/// neurodyn::learn::RlsUpdater<double> rls(n, /*alpha=*/1.0);
/// double c = rls.gain(r);                                   // k = P r, c = 1/(1 + rᵀ k)
/// W.noalias() -= c * e * rls.k().transpose();               // readout update
/// rls.update();                                             // P ← P − c k kᵀ
/// \endcode
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn::learn {

namespace detail {
/// Size check for hot paths: builds the message only on failure (require_size builds it
/// eagerly, which would allocate on every step).
inline void check_size(const char* parameter, index_t seen, index_t expected) {
    if (seen != expected) require_size(parameter, seen, expected);
}
}  // namespace detail

/// Size from which the O(N²) passes are split over OpenMP threads (below it one core is
/// faster: the passes fit in cache and a fork/join costs a few microseconds).
inline constexpr index_t rls_parallel_min_size = 384;

/// Largest N for which P is kept padded (ld × ld, ld = N rounded up to 8) with its block lower
/// triangle current (8-column blocks from their diagonal block down: aligned whole-vector
/// columns, about half the bytes of the whole P) rather than as its plain lower triangle.
/// Measured (double, one core): N = 87, the whole P 3.4 us per FORCE step against 4.4 us as a
/// plain triangle (short unaligned columns and scalar heads cost more than the bytes); N = 256,
/// whole 26.1 against 23.4 us (the bytes win). The block triangle keeps the aligned columns
/// and drops most of the extra bytes (docs/force_training.md).
inline constexpr index_t rls_whole_max_size = 128;

namespace detail {
inline int rls_threads(index_t n) {
#ifdef _OPENMP
    return n >= rls_parallel_min_size ? omp_get_max_threads() : 1;
#else
    (void)n;
    return 1;
#endif
}

// The inner loops, written out so that each element of P or W is loaded and stored once per
// step. `omp simd` lets the compiler vectorise the dot-product reduction; the order of the
// additions is then fixed by the compiled code, the same for every call and thread.
template <class T>
inline void axpy(T* __restrict y, const T* __restrict x, T s, index_t n) noexcept {
    for (index_t i = 0; i < n; ++i) y[i] += s * x[i];
}
template <class T>
inline void axpy_scale(T* __restrict y, const T* __restrict x, T s, T scale, index_t n) noexcept {
    for (index_t i = 0; i < n; ++i) y[i] = (y[i] + s * x[i]) * scale;
}
/// For i in [from, n): P_i ← (P_i + s k_i)·scale; returns Σ P_i r_i; part_i += P_i·rj.
template <class T>
inline T fused_column(T* __restrict P, const T* __restrict k, const T* __restrict r, T* __restrict part, T s,
                      T scale, T rj, index_t from, index_t n) noexcept {
    T dot = T(0);
#ifdef _OPENMP
#pragma omp simd reduction(+ : dot)
#endif
    for (index_t i = from; i < n; ++i) {
        const T p = (P[i] + s * k[i]) * scale;
        P[i] = p;
        dot += p * r[i];
        part[i] += p * rj;
    }
    return dot;
}
/// Four columns j0 … j0+3 of the lower triangle below row j0+3, i in [from, n):
/// P_ci ← (P_ci + s_c k_i)·scale, dot_c += P_ci r_i, part_i += Σ_c P_ci r_c (in column order).
/// Four independent dot products keep the FMA pipes busy, and part is loaded and stored once
/// per four columns: one column at a time this pass was bound by the core, not by memory.
template <class T>
inline void fused_columns4(T* __restrict P0, T* __restrict P1, T* __restrict P2, T* __restrict P3,
                           const T* __restrict k, const T* __restrict r, T* __restrict part, const T* s, T scale,
                           const T* rj, T* dot, index_t from, index_t n) noexcept {
    const T s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    const T r0 = rj[0], r1 = rj[1], r2 = rj[2], r3 = rj[3];
    T d0 = T(0), d1 = T(0), d2 = T(0), d3 = T(0);
#ifdef _OPENMP
#pragma omp simd reduction(+ : d0, d1, d2, d3)
#endif
    for (index_t i = from; i < n; ++i) {
        const T ki = k[i], ri = r[i];
        const T p0 = (P0[i] + s0 * ki) * scale, p1 = (P1[i] + s1 * ki) * scale;
        const T p2 = (P2[i] + s2 * ki) * scale, p3 = (P3[i] + s3 * ki) * scale;
        P0[i] = p0;
        P1[i] = p1;
        P2[i] = p2;
        P3[i] = p3;
        d0 += p0 * ri;
        d1 += p1 * ri;
        d2 += p2 * ri;
        d3 += p3 * ri;
        part[i] = (((part[i] + p0 * r0) + p1 * r1) + p2 * r2) + p3 * r3;
    }
    dot[0] += d0;
    dot[1] += d1;
    dot[2] += d2;
    dot[3] += d3;
}
/// Eight columns at once, as fused_columns4: more streams in flight per core. Measured at
/// N = 2048 (double): the pass over P took 0.84 ms on one core with four columns, 0.67 ms with
/// eight (0.43 → 0.33 ms on two).
template <class T>
inline void fused_columns8(T* const* Pc, const T* __restrict k, const T* __restrict r, T* __restrict part, const T* s,
                           T scale, const T* rj, T* dot, index_t from, index_t n) noexcept {
    T* __restrict P0 = Pc[0];
    T* __restrict P1 = Pc[1];
    T* __restrict P2 = Pc[2];
    T* __restrict P3 = Pc[3];
    T* __restrict P4 = Pc[4];
    T* __restrict P5 = Pc[5];
    T* __restrict P6 = Pc[6];
    T* __restrict P7 = Pc[7];
    const T s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5], s6 = s[6], s7 = s[7];
    const T r0 = rj[0], r1 = rj[1], r2 = rj[2], r3 = rj[3], r4 = rj[4], r5 = rj[5], r6 = rj[6], r7 = rj[7];
    T d0 = T(0), d1 = T(0), d2 = T(0), d3 = T(0), d4 = T(0), d5 = T(0), d6 = T(0), d7 = T(0);
#ifdef _OPENMP
#pragma omp simd reduction(+ : d0, d1, d2, d3, d4, d5, d6, d7)
#endif
    for (index_t i = from; i < n; ++i) {
        const T ki = k[i], ri = r[i];
        const T p0 = (P0[i] + s0 * ki) * scale, p1 = (P1[i] + s1 * ki) * scale;
        const T p2 = (P2[i] + s2 * ki) * scale, p3 = (P3[i] + s3 * ki) * scale;
        const T p4 = (P4[i] + s4 * ki) * scale, p5 = (P5[i] + s5 * ki) * scale;
        const T p6 = (P6[i] + s6 * ki) * scale, p7 = (P7[i] + s7 * ki) * scale;
        P0[i] = p0;
        P1[i] = p1;
        P2[i] = p2;
        P3[i] = p3;
        P4[i] = p4;
        P5[i] = p5;
        P6[i] = p6;
        P7[i] = p7;
        d0 += p0 * ri;
        d1 += p1 * ri;
        d2 += p2 * ri;
        d3 += p3 * ri;
        d4 += p4 * ri;
        d5 += p5 * ri;
        d6 += p6 * ri;
        d7 += p7 * ri;
        part[i] = (((((((part[i] + p0 * r0) + p1 * r1) + p2 * r2) + p3 * r3) + p4 * r4) + p5 * r5) + p6 * r6) + p7 * r7;
    }
    dot[0] += d0;
    dot[1] += d1;
    dot[2] += d2;
    dot[3] += d3;
    dot[4] += d4;
    dot[5] += d5;
    dot[6] += d6;
    dot[7] += d7;
}
/// Columns [j, j + W) of the lower triangle: the W × W head (rows j … j+W−1) column by column,
/// then the W-column kernel below it.
template <int W, class T>
inline void fused_block(T* P, const T* k, const T* r, T* kn, T* part, T mc, T scale, index_t j, index_t n) noexcept {
    T* col[W];
    T s[W], dot[W];
    for (int c = 0; c < W; ++c) {
        col[c] = P + (j + c) * n;
        s[c] = mc * k[j + c];
        dot[c] = T(0);
    }
    for (int c = 0; c < W; ++c) {
        const index_t jc = j + c;
        for (index_t i = jc; i < j + W; ++i) {
            const T p = (col[c][i] + s[c] * k[i]) * scale;
            col[c][i] = p;
            dot[c] += p * r[i];
            if (i > jc) part[i] += p * r[jc];
        }
    }
    if constexpr (W == 8) fused_columns8(col, k, r, part, s, scale, r + j, dot, j + W, n);
    else fused_columns4(col[0], col[1], col[2], col[3], k, r, part, s, scale, r + j, dot, j + W, n);
    for (int c = 0; c < W; ++c) kn[j + c] = dot[c];
}
/// Columns [a, b) of the lower triangle (leading dimension n): P ← (P + s k kᵀ)·scale and
/// kn_j = Σ_{i≥j} P_ij r_i, part_i += P_ij r_j for i > j, eight columns at a time.
template <class T>
inline void fused_triangle(T* P, const T* k, const T* r, T* kn, T* part, T mc, T scale, index_t a, index_t b,
                           index_t n) noexcept {
    index_t j = a;
    // Single columns first, so that every 8-column block below has n − j ≡ 0 (mod 8): its
    // column tails (rows j+8 … n−1) are then whole SIMD vectors, with no scalar remainder
    // (at N = 87 the remainders took about half of the pass). Depends on n and a only.
    for (const index_t lead = std::min<index_t>(b - a, (n - a) % 8); j < a + lead; ++j) {
        T* cj = P + j * n;
        const T sj = mc * k[j];
        const T d = (cj[j] + sj * k[j]) * scale;
        cj[j] = d;
        kn[j] = d * r[j] + fused_column(cj, k, r, part, sj, scale, r[j], j + 1, n);
    }
    for (; j + 8 <= b; j += 8) fused_block<8>(P, k, r, kn, part, mc, scale, j, n);
    for (; j + 4 <= b; j += 4) fused_block<4>(P, k, r, kn, part, mc, scale, j, n);
    for (; j < b; ++j) {
        T* cj = P + j * n;
        const T sj = mc * k[j];
        const T d = (cj[j] + sj * k[j]) * scale;
        cj[j] = d;
        kn[j] = d * r[j] + fused_column(cj, k, r, part, sj, scale, r[j], j + 1, n);
    }
}
/// Up to rls_whole_max_size P is stored padded (ld × ld, ld = n rounded up to 8, zero rows,
/// columns, k and r beyond n) and only its **block lower triangle** is kept current: for the
/// block of columns [j, j + 8) (j a multiple of 8) the rows [j, ld), i.e. the whole 8 × 8
/// diagonal block (both of its triangles) and everything below. Every column then starts on
/// a SIMD boundary (no scalar heads, as the plain triangle has) and a step touches about
/// half the bytes of the whole P. P_ic ← (P_ic + mc·(k_i·k_c))·scale (k_i·k_c is the same
/// product for (i, c) and (c, i), so the diagonal blocks stay exactly symmetric), and, if
/// Next, k' = P_new r from both halves: kn_i += Σ_c P_ic r_c for the stored rows (the lower
/// part and the diagonal block) and kn_c += Σ_{i ≥ j+8} P_ic r_i (the upper part, by symmetry).
template <bool Next, bool Forget, class T>
inline void block_columns8(T* P, index_t ld, const T* __restrict k, const T* __restrict r, T* __restrict kn, T mc,
                           T scale, index_t j) noexcept {
    T* __restrict P0 = P + j * ld;
    T* __restrict P1 = P0 + ld;
    T* __restrict P2 = P1 + ld;
    T* __restrict P3 = P2 + ld;
    T* __restrict P4 = P3 + ld;
    T* __restrict P5 = P4 + ld;
    T* __restrict P6 = P5 + ld;
    T* __restrict P7 = P6 + ld;
    const T k0 = k[j], k1 = k[j + 1], k2 = k[j + 2], k3 = k[j + 3], k4 = k[j + 4], k5 = k[j + 5], k6 = k[j + 6],
            k7 = k[j + 7];
    const T r0 = r[j], r1 = r[j + 1], r2 = r[j + 2], r3 = r[j + 3], r4 = r[j + 4], r5 = r[j + 5], r6 = r[j + 6],
            r7 = r[j + 7];
    // always_inline: a row is the body of the SIMD loops below; left as a call (GCC may, in a
    // large translation unit) the loops do not vectorise and the pass is several times slower.
    auto row = [&](index_t i, T& p0, T& p1, T& p2, T& p3, T& p4, T& p5, T& p6, T& p7) __attribute__((always_inline)) {
        const T ki = k[i];
        p0 = P0[i] + mc * (ki * k0), p1 = P1[i] + mc * (ki * k1), p2 = P2[i] + mc * (ki * k2);
        p3 = P3[i] + mc * (ki * k3), p4 = P4[i] + mc * (ki * k4), p5 = P5[i] + mc * (ki * k5);
        p6 = P6[i] + mc * (ki * k6), p7 = P7[i] + mc * (ki * k7);
        if constexpr (Forget) {
            p0 *= scale, p1 *= scale, p2 *= scale, p3 *= scale, p4 *= scale, p5 *= scale, p6 *= scale, p7 *= scale;
        }
        P0[i] = p0;
        P1[i] = p1;
        P2[i] = p2;
        P3[i] = p3;
        P4[i] = p4;
        P5[i] = p5;
        P6[i] = p6;
        P7[i] = p7;
        if constexpr (Next)
            kn[i] = (((((((kn[i] + p0 * r0) + p1 * r1) + p2 * r2) + p3 * r3) + p4 * r4) + p5 * r5) + p6 * r6) + p7 * r7;
    };
    // The diagonal block.
#ifdef _OPENMP
#pragma omp simd
#endif
    for (index_t i = j; i < j + 8; ++i) {
        T p0, p1, p2, p3, p4, p5, p6, p7;
        row(i, p0, p1, p2, p3, p4, p5, p6, p7);
    }
    if constexpr (!Next) {
#ifdef _OPENMP
#pragma omp simd
#endif
        for (index_t i = j + 8; i < ld; ++i) {
            T p0, p1, p2, p3, p4, p5, p6, p7;
            row(i, p0, p1, p2, p3, p4, p5, p6, p7);
        }
    } else {
        T d0 = T(0), d1 = T(0), d2 = T(0), d3 = T(0), d4 = T(0), d5 = T(0), d6 = T(0), d7 = T(0);
#ifdef _OPENMP
#pragma omp simd reduction(+ : d0, d1, d2, d3, d4, d5, d6, d7)
#endif
        for (index_t i = j + 8; i < ld; ++i) {
            T p0, p1, p2, p3, p4, p5, p6, p7;
            row(i, p0, p1, p2, p3, p4, p5, p6, p7);
            const T ri = r[i];
            d0 += p0 * ri;
            d1 += p1 * ri;
            d2 += p2 * ri;
            d3 += p3 * ri;
            d4 += p4 * ri;
            d5 += p5 * ri;
            d6 += p6 * ri;
            d7 += p7 * ri;
        }
        kn[j] += d0;
        kn[j + 1] += d1;
        kn[j + 2] += d2;
        kn[j + 3] += d3;
        kn[j + 4] += d4;
        kn[j + 5] += d5;
        kn[j + 6] += d6;
        kn[j + 7] += d7;
    }
}
/// The pass over the block lower triangle of the padded P (every block has 8 columns: ld is a
/// multiple of 8 and the padding columns stay 0).
template <bool Next, bool Forget, class T>
inline void block_pass(T* P, index_t ld, const T* k, const T* r, T* kn, T mc, T scale) noexcept {
    for (index_t j = 0; j < ld; j += 8) block_columns8<Next, Forget>(P, ld, k, r, kn, mc, scale, j);
}
/// For i in [0, n): W_i += a·e_i; z_i += W_i·rj.
template <class T>
inline void update_and_accumulate(T* __restrict W, const T* __restrict e, T* __restrict z, T a, T rj,
                                  index_t n) noexcept {
#ifdef _OPENMP
#pragma omp simd
#endif
    for (index_t i = 0; i < n; ++i) {
        const T w = W[i] + a * e[i];
        W[i] = w;
        z[i] += w * rj;
    }
}
/// Four columns at once (contiguous, leading dimension ld): z is loaded and stored once per
/// four columns; the additions into z keep the column order of the one-column kernel.
template <class T>
inline void update_and_accumulate4(T* __restrict W, index_t ld, const T* __restrict e, T* __restrict z,
                                   const T* a, const T* rj, index_t n) noexcept {
    T* __restrict W0 = W;
    T* __restrict W1 = W + ld;
    T* __restrict W2 = W + 2 * ld;
    T* __restrict W3 = W + 3 * ld;
    const T a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    const T r0 = rj[0], r1 = rj[1], r2 = rj[2], r3 = rj[3];
#ifdef _OPENMP
#pragma omp simd
#endif
    for (index_t i = 0; i < n; ++i) {
        const T ei = e[i];
        const T w0 = W0[i] + a0 * ei, w1 = W1[i] + a1 * ei, w2 = W2[i] + a2 * ei, w3 = W3[i] + a3 * ei;
        W0[i] = w0;
        W1[i] = w1;
        W2[i] = w2;
        W3[i] = w3;
        z[i] = (((z[i] + w0 * r0) + w1 * r1) + w2 * r2) + w3 * r3;
    }
}
/// Eight columns at once (more streams in flight per core: at N = 2048, double, the weight
/// pass took 1.31 ms on one core with four columns, 1.11 ms with eight).
template <class T>
inline void update_and_accumulate8(T* W, index_t ld, const T* __restrict e, T* __restrict z, const T* a,
                                   const T* rj, index_t n) noexcept {
    T* __restrict W0 = W;
    T* __restrict W1 = W + ld;
    T* __restrict W2 = W + 2 * ld;
    T* __restrict W3 = W + 3 * ld;
    T* __restrict W4 = W + 4 * ld;
    T* __restrict W5 = W + 5 * ld;
    T* __restrict W6 = W + 6 * ld;
    T* __restrict W7 = W + 7 * ld;
    const T a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7];
    const T r0 = rj[0], r1 = rj[1], r2 = rj[2], r3 = rj[3], r4 = rj[4], r5 = rj[5], r6 = rj[6], r7 = rj[7];
#ifdef _OPENMP
#pragma omp simd
#endif
    for (index_t i = 0; i < n; ++i) {
        const T ei = e[i];
        const T w0 = W0[i] + a0 * ei, w1 = W1[i] + a1 * ei, w2 = W2[i] + a2 * ei, w3 = W3[i] + a3 * ei;
        const T w4 = W4[i] + a4 * ei, w5 = W5[i] + a5 * ei, w6 = W6[i] + a6 * ei, w7 = W7[i] + a7 * ei;
        W0[i] = w0;
        W1[i] = w1;
        W2[i] = w2;
        W3[i] = w3;
        W4[i] = w4;
        W5[i] = w5;
        W6[i] = w6;
        W7[i] = w7;
        z[i] = (((((((z[i] + w0 * r0) + w1 * r1) + w2 * r2) + w3 * r3) + w4 * r4) + w5 * r5) + w6 * r6) + w7 * r7;
    }
}
/// Columns [a, b) of W: W_j += (s·k_j)·e, z += W_j·r_j, eight (then four, then one) at a time.
template <class T>
inline void update_columns(T* W, index_t ld, const T* e, T* z, T s, const T* k, const T* r, index_t a, index_t b) {
    index_t j = a;
    for (; j + 8 <= b; j += 8) {
        T sk[8];
        for (int c = 0; c < 8; ++c) sk[c] = s * k[j + c];
        update_and_accumulate8(W + j * ld, ld, e, z, sk, r + j, ld);
    }
    for (; j + 4 <= b; j += 4) {
        const T sk[4] = {s * k[j], s * k[j + 1], s * k[j + 2], s * k[j + 3]};
        update_and_accumulate4(W + j * ld, ld, e, z, sk, r + j, ld);
    }
    for (; j < b; ++j) update_and_accumulate(W + j * ld, e, z, s * k[j], r[j], ld);
}
}  // namespace detail

/// Chooses between one thread and all threads for a memory-bound pass by timing both.
/// On a shared machine a second thread can cost more than it brings (a barrier that waits for
/// a descheduled thread costs a scheduler time slice), so the choice is measured, not
/// assumed. The numbers do not depend on the choice: the work is cut into the same pieces
/// whatever the thread count.
///
/// How it decides (it cannot stay on the slower option for long):
/// - Each option is judged by the fastest of its last few timings (the minimum ignores
///   one-off preemptions). The first timing of each option is discarded: the first parallel
///   region starts the thread pool and touches cold pages.
/// - It starts on all threads, measures one thread too, then uses the faster.
/// - Every `interval` calls it re-measures the other option afresh (up to 3 calls; stops after
///   one if that one is more than twice as slow). Old timings of the other option are
///   dropped first, so a bad period long ago cannot keep it out.
/// - The interval is 16 calls after a switch, at most 32 while the other option is within
///   25 % (re-trying it then costs < 1 %), and doubles up to 512 calls while it is clearly
///   slower (re-trying costs one slow call per interval).
/// So if all threads become faster, the tuner uses them after at most 512 + 3 calls.
///
/// \code
/// neurodyn::learn::ThreadTuner tuner;
/// const int t = tuner.choose(omp_get_max_threads());
/// // ... run the pass on t threads, timing it ...
/// tuner.record(t, seconds);
/// \endcode
class ThreadTuner {
public:
    /// Threads to use for the next call, given the most that are allowed.
    int choose(int max_threads) noexcept {
        if (max_threads <= 1) return 1;
        max_ = max_threads;
        ++calls_;
        if (trying_ == 0 && calls_ >= next_try_) {
            trying_ = 1;
            clear(1 - best_);
        }
        const int option = trying_ > 0 ? 1 - best_ : best_;
        return option == 0 ? 1 : max_;
    }
    /// Report how long the call with `threads` threads took.
    void record(int threads, double seconds) noexcept {
        if (max_ <= 1) return;
        const int i = threads == 1 ? 0 : 1;
        if (!warm_[i]) {  // thread start-up, cold pages: not representative
            warm_[i] = true;
            return;
        }
        Window& w = win_[i];
        w.t[w.next] = seconds;
        w.next = (w.next + 1) % Window::size;
        if (w.count < Window::size) ++w.count;
        if (trying_ == 0 || i == best_) return;
        // A re-measurement of the other option: finish it after 3 timings, or at once if
        // the option is clearly slower.
        const double mine = fastest(best_), other = fastest(i);
        if (mine > 0 && w.count < 3 && other <= 2.0 * mine) return;
        trying_ = 0;
        if (mine <= 0 || other < mine) {
            best_ = i;
            interval_ = 16;
        } else {
            interval_ = other <= 1.25 * mine ? std::min<long>(32, interval_ * 2) : std::min<long>(512, interval_ * 2);
        }
        next_try_ = calls_ + interval_;
    }
    /// Threads the tuner currently prefers.
    int threads_in_use() const noexcept { return best_ == 0 ? 1 : max_; }

private:
    struct Window {
        static constexpr int size = 8;
        double t[size] = {};
        int count = 0, next = 0;
    };
    void clear(int i) noexcept { win_[i] = Window{}; }
    /// Fastest recent timing of option i (0 if none yet).
    double fastest(int i) const noexcept {
        const Window& w = win_[i];
        if (w.count == 0) return 0;
        double m = w.t[0];
        for (int j = 1; j < w.count; ++j) m = std::min(m, w.t[j]);
        return m;
    }

    Window win_[2];        // recent seconds with 1 thread, with all threads
    bool warm_[2] = {false, false};
    int best_ = 1, max_ = 1;
    int trying_ = 0;       // 1 while re-measuring the other option
    long calls_ = 0, next_try_ = 4, interval_ = 16;
};

/// Scratch space of rank1_update_and_multiply: per-piece partial products and the thread
/// choice. Keep one per weight matrix and reuse it: then nothing is allocated per step.
template <Real T>
struct Rank1Workspace {
    Matrix<T> partial;
    ThreadTuner tuner;
};

namespace detail {
/// Pieces of the weight pass: 8 equal column ranges from rls_parallel_min_size on.
inline int rank1_pieces(index_t rows, index_t cols) noexcept {
    return std::max(rows, cols) >= rls_parallel_min_size && cols >= 8 ? 8 : 1;
}
/// Piece p of the weight pass: its columns of W ← W + s·e·kᵀ and their partial W_new r.
template <class T>
inline void rank1_piece(T* W, index_t rows, index_t cols, const T* e, T s, const T* k, const T* r, T* part, int p,
                        int pieces) noexcept {
    const index_t a = cols * p / pieces, b = cols * (p + 1) / pieces;
    T* zp = part + index_t(p) * rows;
    std::fill(zp, zp + rows, T(0));
    update_columns(W, rows, e, zp, s, k, r, a, b);
}
/// z = Σ_p partial_p, in piece order.
template <class T>
inline void sum_pieces(Vector<T>& z, const Matrix<T>& partial, int pieces) {
    z = partial.col(0);
    for (int p = 1; p < pieces; ++p) z += partial.col(p);
}
inline double seconds_since(std::chrono::steady_clock::time_point t0) noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace detail

template <Real T>
void rank1_update_and_multiply(Matrix<T>& W, T s, const Vector<T>& e, const Vector<T>& k, const Vector<T>& r,
                               Vector<T>& z, Rank1Workspace<T>& ws);

/// The RLS state: P (lower triangle), the gain k = P r of the current sample and c.
template <Real T = double>
class RlsUpdater {
public:
    using scalar_type = T;

    /// \param n          number of presynaptic inputs (size of r), >= 1
    /// \param alpha      regulariser: P(0) = I/α, > 0 (small α: fast, aggressive learning)
    /// \param forgetting λ in (0, 1]; 1 keeps every sample
    RlsUpdater(index_t n, double alpha, double forgetting = 1.0) : alpha_(alpha), lambda_(forgetting) {
        require(n >= 1, "n", n, "must be >= 1");
        require_positive("alpha", alpha);
        require(forgetting > 0.0 && forgetting <= 1.0, "forgetting", forgetting, "must be in (0, 1]");
        n_ = n;
        whole_ = n <= rls_whole_max_size;
        ld_ = whole_ ? (n + 7) / 8 * 8 : n;
        P_.resize(ld_, ld_);  // whole_: ld × ld, padding rows and columns 0
        k_.setZero(n);
        k_next_.setZero(n);
        if (whole_) {
            kp_.setZero(ld_);
            rp_.setZero(ld_);
            kn_.setZero(ld_);
        }
        // Pieces of about equal area of the lower triangle (column j holds n − j entries).
        const int pieces = n >= rls_parallel_min_size ? 8 : 1;
        bounds_.assign(1, 0);
        const double area = 0.5 * double(n) * double(n + 1);
        index_t j = 0;
        double done = 0;
        for (int p = 1; p < pieces; ++p) {
            const double goal = area * p / pieces;
            while (j < n && done + double(n - j) <= goal) done += double(n - j++);
            bounds_.push_back(j);
        }
        bounds_.push_back(n);
        partial_.setZero(n, pieces);
        reset();
    }

    index_t size() const noexcept { return n_; }
    double alpha() const noexcept { return alpha_; }
    double forgetting() const noexcept { return lambda_; }

    /// P(0) = I/α; forgets the prepared gain.
    void reset() {
        P_.setZero();
        P_.topRows(n_).diagonal().setConstant(T(1.0 / alpha_));
        prepared_ = false;
    }

    /// The full symmetric P (allocates: for checks and checkpoints, not for hot loops).
    Matrix<T> P() const {
        if (whole_) return Matrix<T>(P_.topLeftCorner(n_, n_).template selfadjointView<Eigen::Lower>());
        return Matrix<T>(P_.template selfadjointView<Eigen::Lower>());
    }

    /// Replace P (e.g. from a checkpoint). Must be square of size n and symmetric in the sense
    /// that only its lower triangle is used.
    void set_P(const Matrix<T>& P) {
        require(P.rows() == size() && P.cols() == size(), "P",
                std::to_string(P.rows()) + "x" + std::to_string(P.cols()),
                "must be " + std::to_string(size()) + "x" + std::to_string(size()));
        require(P.allFinite(), "P", "a matrix with NaN or Inf", "must be finite");
        if (whole_) P_.topLeftCorner(n_, n_) = P.template selfadjointView<Eigen::Lower>();  // exactly symmetric
        else P_.template triangularView<Eigen::Lower>() = P;
        prepared_ = false;
    }

    /// Compute the gain of sample r: k = P r, rᵀPr and c = 1/(λ + rᵀPr). Returns c.
    template <class D>
    T gain(const Eigen::MatrixBase<D>& r) {
        detail::check_size("r", r.size(), size());
        if (whole_) k_.noalias() = P_.topLeftCorner(n_, n_).template selfadjointView<Eigen::Lower>() * r;
        else k_.noalias() = P_.template selfadjointView<Eigen::Lower>() * r;
        set_gain(r);
        backward_ = false;
        return c_;
    }

    /// P ← (P − c k kᵀ)/λ for the sample of the last gain() call.
    void update() {
        require(prepared_, "RlsUpdater::update", "without a gain", "call gain(r) or update_and_gain first");
        pass<false>(nullptr);
        prepared_ = false;
    }

    /// P ← (P − c k kᵀ)/λ and, in the same pass over P, the gain of the next sample r_next.
    /// Returns the new c.
    template <class D>
    T update_and_gain(const Eigen::MatrixBase<D>& r_next) {
        require(prepared_, "RlsUpdater::update_and_gain", "without a gain", "call gain(r) first");
        detail::check_size("r_next", r_next.size(), size());
        const auto& rn = r_next.derived();
        if constexpr (std::is_same_v<std::decay_t<decltype(rn)>, Vector<T>>) {
            pass<true>(rn.data());
            set_gain(rn);
        } else {
            const Vector<T> tmp = rn;  // only for expressions: callers in hot loops pass vectors
            pass<true>(tmp.data());
            set_gain(tmp);
        }
        return c_;
    }

    /// One whole FORCE weight step in one parallel region: W ← W + s·e·kᵀ with the prepared k
    /// and z = W_new r_next (as rank1_update_and_multiply), then P ← (P − c k kᵀ)/λ and the
    /// gain of r_next (as update_and_gain). The two passes read only k and r_next, so their
    /// pieces are independent: the 8 weight pieces and the 8 pieces of P go to the threads as
    /// one list, alternating, so the threads mix the weight pass (bound by memory) with the
    /// pass over P (four streams per column block, closer to bound by the core); one fork/join
    /// per step and no barrier between the passes (measured 1–4 % faster than two calls). The
    /// numbers are bitwise those of the two separate calls, except up to rls_whole_max_size:
    /// there the single loop runs through the columns backwards on every second call after a
    /// gain() (see whole_weights_and_gain), which reorders the sums W r and P r: rounding
    /// differences only, and the same in every run of the same calls. W must
    /// have size() columns. Returns the new c.
    ///
    /// \code
    /// // J ← J − c e kᵀ, z = J_new r_next, P ← P − c k kᵀ, k = P_new r_next
    /// const double c_next = rls.update_weights_and_gain(J, -rls.c(), e, r_next, z, ws);
    /// \endcode
    T update_weights_and_gain(Matrix<T>& W, T s, const Vector<T>& e, const Vector<T>& r_next, Vector<T>& z,
                              Rank1Workspace<T>& ws) {
        require(prepared_, "RlsUpdater::update_weights_and_gain", "without a gain", "call gain(r) first");
        const index_t rows = W.rows(), cols = W.cols();
        detail::check_size("W columns", cols, size());
        detail::check_size("e", e.size(), rows);
        detail::check_size("r_next", r_next.size(), size());
        detail::check_size("z", z.size(), rows);
        const int wp = detail::rank1_pieces(rows, cols), pp = int(bounds_.size()) - 1;  // 8 and 8
        if (whole_ && rows == ld_ && wp == 1) {  // small, W row-padded like P: one loop for both
            whole_weights_and_gain(W, s, e, r_next, z);
            return c_;
        }
        if (wp != pp || wp == 1) {  // small (or few columns): the two calls, same numbers
            rank1_update_and_multiply(W, s, e, k_, r_next, z, ws);
            return update_and_gain(r_next);
        }
        if (ws.partial.rows() != rows || ws.partial.cols() != wp) ws.partial.resize(rows, wp);
        ThreadTuner& tuner = tuners_[2];
        const int threads = tuner.choose(std::min(detail::rls_threads(std::max(rows, cols)), wp + pp));
        const auto t0 = std::chrono::steady_clock::now();
        T* Wd = W.data();
        T* part = ws.partial.data();
        const T* rn = r_next.data();
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
        for (int t = 0; t < wp + pp; ++t) {
            if (t % 2 == 0) detail::rank1_piece(Wd, rows, cols, e.data(), s, k_.data(), rn, part, t / 2, wp);
            else piece<true>(t / 2, rn);
        }
        tuner.record(threads, detail::seconds_since(t0));
        detail::sum_pieces(z, ws.partial, wp);
        finish_gain();
        set_gain(r_next);
        return c_;
    }

    /// The seed protocol's step (the Python study's update): P ← (P − c k kᵀ)/λ for the
    /// prepared sample r, then the gain of the *same* sample under the updated P,
    /// k = P_new r and c = 1/(λ + rᵀ P_new r), in the same pass over P. The weights then move
    /// by −c e kᵀ with these: the sample is discounted twice (k_new = c_old·k_old in exact
    /// arithmetic, so the step is c_new·c_old times the textbook one, which uses the k and c of
    /// before the update once). `r` must be the sample of the last gain() call. Returns the
    /// new c.
    /// \code
    /// rls.gain(r);                              // k = P r (P of before the update)
    /// const double c = rls.update_then_gain(r); // P updated; k = P_new r, c = 1/(1 + rᵀk)
    /// J.noalias() -= c * e * rls.k().transpose();
    /// \endcode
    template <class D>
    T update_then_gain(const Eigen::MatrixBase<D>& r) {
        require(prepared_, "RlsUpdater::update_then_gain", "without a gain", "call gain(r) first");
        return update_and_gain(r);
    }

    /// out_m = Σ_m' P(cols[m], cols[m']) r[cols[m']]: the gain restricted to a subset of the
    /// inputs, P[cols, cols] r[cols] (the seed protocol's gain when only some presynaptic
    /// units learn; it is not (P r)[cols]). `out` is resized to cols.size().
    void sub_gain(const std::vector<index_t>& cols, const Vector<T>& r, Vector<T>& out) const {
        detail::check_size("r", r.size(), size());
        out.resize(index_t(cols.size()));
        for (std::size_t a = 0; a < cols.size(); ++a) {
            const index_t i = cols[a];
            require(i >= 0 && i < n_, "cols", i, "must be in [0, " + std::to_string(n_) + ")");
            T s = T(0);
            for (std::size_t b = 0; b < cols.size(); ++b) {
                const index_t j = cols[b];
                // The lower triangle is current in both storages: read P(max, min).
                const T p = i >= j ? P_(i, j) : P_(j, i);
                s += p * r[j];
            }
            out[index_t(a)] = s;
        }
    }

    bool prepared() const noexcept { return prepared_; }
    /// k = P r of the prepared sample.
    const Vector<T>& k() const noexcept { return k_; }
    /// c = 1/(λ + rᵀPr) of the prepared sample.
    T c() const noexcept { return c_; }
    /// rᵀPr of the prepared sample (≥ 0 while P is positive definite).
    T rPr() const noexcept { return rPr_; }

    /// The stored matrix: only the lower triangle is meaningful.
    /// Up to rls_whole_max_size it is padded to ld × ld (ld a multiple of 8) and its block
    /// lower triangle is current (diagonal 8 × 8 blocks whole).
    const Matrix<T>& lower() const noexcept { return P_; }
    /// The thread choice of update_and_gain (see ThreadTuner).
    const ThreadTuner& tuner() const noexcept { return tuners_[1]; }
    /// The thread choice of update_weights_and_gain.
    const ThreadTuner& fused_tuner() const noexcept { return tuners_[2]; }

private:
    template <class D>
    void set_gain(const Eigen::MatrixBase<D>& r) {
        rPr_ = r.dot(k_);
        c_ = T(1) / (T(lambda_) + rPr_);
        prepared_ = true;
    }

    /// One pass over the lower triangle: P ← (P − c k kᵀ)/λ and, if Next, k_next = P_new r_next.
    /// Piece p owns columns [bounds_[p], bounds_[p+1]): for each column j it computes
    /// Σ_{i≥j} P_ij r_i exactly and adds P_ij r_j (i > j) into its own partial vector; the
    /// partials are summed in piece order afterwards, so the result is thread-count independent.
    template <bool Next>
    void pass(const T* rn) {
        if (whole_) {
            whole_pass<Next>(rn);
            return;
        }
        const int pieces = int(bounds_.size()) - 1;
        ThreadTuner& tuner = tuners_[Next ? 1 : 0];
        const int threads = pieces > 1 ? tuner.choose(std::min(detail::rls_threads(size()), pieces)) : 1;
        const auto t0 = std::chrono::steady_clock::now();
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
        for (int p = 0; p < pieces; ++p) piece<Next>(p, rn);
        if (pieces > 1) tuner.record(threads, detail::seconds_since(t0));
        if constexpr (Next) finish_gain();
    }

    /// Piece p of the pass over P.
    template <bool Next>
    void piece(int p, const T* rn) noexcept {
        const index_t n = size();
        const T mc = -c_;
        const T il = T(1.0 / lambda_);
        const bool forget = lambda_ != 1.0;
        T* P = P_.data();
        const T* k = k_.data();
        const index_t a = bounds_[std::size_t(p)], b = bounds_[std::size_t(p) + 1];
        if constexpr (!Next) {
            for (index_t j = a; j < b; ++j) {
                T* col = P + j * n;
                const T s = mc * k[j];
                if (forget) detail::axpy_scale(col + j, k + j, s, il, n - j);
                else detail::axpy(col + j, k + j, s, n - j);
            }
        } else {
            T* part = partial_.data() + index_t(p) * n;
            std::fill(part + a, part + n, T(0));
            // Update, accumulate Σ_i P_ij r_i (column dot) and P_ij r_j into the partial.
            detail::fused_triangle(P, k, rn, k_next_.data(), part, mc, forget ? il : T(1), a, b, n);
        }
    }

    /// The pass over the whole padded P (up to rls_whole_max_size, one thread).
    template <bool Next>
    void whole_pass(const T* rn) {
        const T mc = -c_, il = T(1.0 / lambda_);
        std::copy(k_.data(), k_.data() + n_, kp_.data());  // rows n … ld−1 stay 0
        if constexpr (Next) {
            std::copy(rn, rn + n_, rp_.data());
            kn_.setZero();
        }
        if (lambda_ != 1.0)
            detail::block_pass<Next, true>(P_.data(), ld_, kp_.data(), rp_.data(), kn_.data(), mc, il);
        else
            detail::block_pass<Next, false>(P_.data(), ld_, kp_.data(), rp_.data(), kn_.data(), mc, il);
        if constexpr (Next) k_ = kn_.head(n_);
    }

    /// update_weights_and_gain for a padded P (block lower triangle) and a W padded to the same
    /// rows: each block of 8 columns updates W and then P (one pass over the step's data
    /// instead of two). Every number is computed as in update_columns and block_columns8; the
    /// first call after gain() runs forwards and is bitwise the two separate calls. Later calls
    /// alternate direction: at N = 87 the step's ~95 KB do not fit L1 (32–48 KB), and in one
    /// direction every block misses it; turning round, a call starts on the blocks the previous
    /// one left in L1 (one FORCE step 3.2 → 2.3 µs, docs/force_training.md). The element-wise
    /// updates of W and P are the same either way; the sums z and k_next change order.
    void whole_weights_and_gain(Matrix<T>& W, T s, const Vector<T>& e, const Vector<T>& r_next, Vector<T>& z) {
        const T mc = -c_, il = T(1.0 / lambda_);
        const bool forget = lambda_ != 1.0;
        std::copy(k_.data(), k_.data() + n_, kp_.data());
        std::copy(r_next.data(), r_next.data() + n_, rp_.data());
        kn_.setZero();
        z.setZero();
        const index_t ld = ld_, n = n_;
        T* Wd = W.data();
        T* P = P_.data();
        auto unit = [&](index_t j) {  // the columns [j, j + 8) of W and of P
            if (j + 8 <= n) {
                T sk[8];
                for (int c = 0; c < 8; ++c) sk[c] = s * k_[j + c];
                detail::update_and_accumulate8(Wd + j * ld, ld, e.data(), z.data(), sk, rp_.data() + j, ld);
            } else {
                detail::update_columns(Wd, ld, e.data(), z.data(), s, k_.data(), rp_.data(), j, n);  // W: the rest
            }
            if (forget) detail::block_columns8<true, true>(P, ld, kp_.data(), rp_.data(), kn_.data(), mc, il, j);
            else detail::block_columns8<true, false>(P, ld, kp_.data(), rp_.data(), kn_.data(), mc, il, j);
        };
        // Successive calls run through the columns in opposite directions (see above).
        if (!backward_)
            for (index_t j = 0; j < ld; j += 8) unit(j);
        else
            for (index_t j = ld; j > 0; j -= 8) unit(j - 8);
        backward_ = !backward_;
        k_ = kn_.head(n_);
        set_gain(r_next);
    }

    /// k_next += the partials in piece order; k ← k_next.
    void finish_gain() noexcept {
        const index_t n = size();
        for (std::size_t p = 0; p + 1 < bounds_.size(); ++p) {
            const index_t a = bounds_[p];
            if (a + 1 < n) k_next_.tail(n - a - 1) += partial_.col(index_t(p)).tail(n - a - 1);
        }
        k_.swap(k_next_);
    }

    double alpha_, lambda_;
    Matrix<T> P_;  // whole and row-padded (n ≤ rls_whole_max_size), else its lower triangle
    Vector<T> k_, k_next_;
    Vector<T> kp_, rp_, kn_;  // padded k, r_next and k_next of the whole pass
    index_t n_ = 0, ld_ = 0;
    bool whole_ = false;
    Matrix<T> partial_;
    std::vector<index_t> bounds_;
    ThreadTuner tuners_[3];  // update(), update_and_gain(), update_weights_and_gain(): each
                             // times its own kind of call, so the timings compare like with like
    T c_ = T(0), rPr_ = T(0);
    bool prepared_ = false;
    bool backward_ = false;  // direction of the next whole pass (alternates; gain() restarts it)
};

/// W ← W + s·e·kᵀ and z = W_new r in the same read-modify-write pass over W (column-major):
/// the fused weight update of a FORCE step. From rls_parallel_min_size on, the columns are
/// cut into 8 pieces (by size only, never by thread count), each piece accumulates its own
/// partial z, and the partials are added in piece order: the result is bitwise the same on
/// any number of threads.
///
/// \code
/// neurodyn::learn::Rank1Workspace<double> ws;
/// // J ← J − c e kᵀ, z = J r_next
/// neurodyn::learn::rank1_update_and_multiply(J, -c, e, k, r_next, z, ws);
/// \endcode
template <Real T>
void rank1_update_and_multiply(Matrix<T>& W, T s, const Vector<T>& e, const Vector<T>& k, const Vector<T>& r,
                               Vector<T>& z, Rank1Workspace<T>& ws) {
    const index_t rows = W.rows(), cols = W.cols();
    detail::check_size("e", e.size(), rows);
    detail::check_size("k", k.size(), cols);
    detail::check_size("r", r.size(), cols);
    detail::check_size("z", z.size(), rows);
    const int pieces = detail::rank1_pieces(rows, cols);
    if (pieces == 1) {
        z.setZero();
        detail::update_columns(W.data(), rows, e.data(), z.data(), s, k.data(), r.data(), 0, cols);
        return;
    }
    if (ws.partial.rows() != rows || ws.partial.cols() != pieces) ws.partial.resize(rows, pieces);
    const int threads = ws.tuner.choose(std::min(detail::rls_threads(std::max(rows, cols)), pieces));
    const auto t0 = std::chrono::steady_clock::now();
    T* Wd = W.data();
    T* part = ws.partial.data();
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
    for (int p = 0; p < pieces; ++p) detail::rank1_piece(Wd, rows, cols, e.data(), s, k.data(), r.data(), part, p, pieces);
    ws.tuner.record(threads, detail::seconds_since(t0));
    detail::sum_pieces(z, ws.partial, pieces);
}

/// Same, with a temporary workspace (allocates from rls_parallel_min_size on: hot loops keep
/// their own Rank1Workspace).
template <Real T>
void rank1_update_and_multiply(Matrix<T>& W, T s, const Vector<T>& e, const Vector<T>& k, const Vector<T>& r,
                               Vector<T>& z) {
    Rank1Workspace<T> ws;
    rank1_update_and_multiply(W, s, e, k, r, z, ws);
}

}  // namespace neurodyn::learn
