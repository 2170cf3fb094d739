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
/// Large N (>= rls_parallel_min_size) runs the passes on OpenMP threads. The work is cut into
/// 8 pieces whose boundaries depend on N only, and partial sums are added in a fixed order, so
/// the numbers are bitwise the same on any thread count. Whether one thread or all of them
/// are used is decided by timing both (`ThreadTuner`): on a shared machine a second thread can
/// make a memory-bound pass slower.
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
/// Columns [a, b) of W: W_j += (s·k_j)·e, z += W_j·r_j, four at a time.
template <class T>
inline void update_columns(T* W, index_t ld, const T* e, T* z, T s, const T* k, const T* r, index_t a, index_t b) {
    index_t j = a;
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
/// assumed. The other option is re-tried after 16 calls, then after exponentially longer
/// intervals (up to 1024) while it keeps losing. The numbers do not depend on the choice: the
/// work is cut into the same pieces whatever the thread count.
class ThreadTuner {
public:
    /// Threads to use for the next call, given the most that are allowed.
    int choose(int max_threads) noexcept {
        if (max_threads <= 1) return 1;
        max_ = max_threads;
        ++calls_;
        const int other = 1 - best_;
        if (mean_[other] < 0 || calls_ >= next_try_) {
            trying_ = true;
            return other == 0 ? 1 : max_;
        }
        trying_ = false;
        return best_ == 0 ? 1 : max_;
    }
    /// Report how long the call with `threads` threads took.
    void record(int threads, double seconds) noexcept {
        if (max_ <= 1) return;
        const int i = threads == 1 ? 0 : 1;
        mean_[i] = mean_[i] < 0 ? seconds : 0.75 * mean_[i] + 0.25 * seconds;
        const int before = best_;
        if (mean_[0] >= 0 && mean_[1] >= 0) best_ = mean_[0] <= mean_[1] ? 0 : 1;
        if (trying_) {
            interval_ = best_ != before ? 16 : std::min<long>(1024, interval_ * 2);
            next_try_ = calls_ + interval_;
        }
    }
    /// Threads the tuner currently prefers.
    int threads_in_use() const noexcept { return best_ == 0 ? 1 : max_; }

private:
    double mean_[2] = {-1.0, -1.0};  // mean seconds with 1 thread, with all threads
    int best_ = 1, max_ = 1;
    long calls_ = 0, next_try_ = 16, interval_ = 16;
    bool trying_ = false;
};

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
        P_.resize(n, n);
        k_.setZero(n);
        k_next_.setZero(n);
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

    index_t size() const noexcept { return P_.rows(); }
    double alpha() const noexcept { return alpha_; }
    double forgetting() const noexcept { return lambda_; }

    /// P(0) = I/α; forgets the prepared gain.
    void reset() {
        P_.setZero();
        P_.diagonal().setConstant(T(1.0 / alpha_));
        prepared_ = false;
    }

    /// The full symmetric P (allocates: for checks and checkpoints, not for hot loops).
    Matrix<T> P() const { return Matrix<T>(P_.template selfadjointView<Eigen::Lower>()); }

    /// Replace P (e.g. from a checkpoint). Must be square of size n and symmetric in the sense
    /// that only its lower triangle is used.
    void set_P(const Matrix<T>& P) {
        require(P.rows() == size() && P.cols() == size(), "P",
                std::to_string(P.rows()) + "x" + std::to_string(P.cols()),
                "must be " + std::to_string(size()) + "x" + std::to_string(size()));
        require(P.allFinite(), "P", "a matrix with NaN or Inf", "must be finite");
        P_.template triangularView<Eigen::Lower>() = P;
        prepared_ = false;
    }

    /// Compute the gain of sample r: k = P r, rᵀPr and c = 1/(λ + rᵀPr). Returns c.
    template <class D>
    T gain(const Eigen::MatrixBase<D>& r) {
        detail::check_size("r", r.size(), size());
        k_.noalias() = P_.template selfadjointView<Eigen::Lower>() * r;
        set_gain(r);
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

    bool prepared() const noexcept { return prepared_; }
    /// k = P r of the prepared sample.
    const Vector<T>& k() const noexcept { return k_; }
    /// c = 1/(λ + rᵀPr) of the prepared sample.
    T c() const noexcept { return c_; }
    /// rᵀPr of the prepared sample (≥ 0 while P is positive definite).
    T rPr() const noexcept { return rPr_; }

    /// The stored matrix: only the lower triangle is meaningful.
    const Matrix<T>& lower() const noexcept { return P_; }

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
        const index_t n = size();
        const int pieces = int(bounds_.size()) - 1;
        const T mc = -c_;
        const T il = T(1.0 / lambda_);
        const bool forget = lambda_ != 1.0;
        T* P = P_.data();
        const T* k = k_.data();
        T* kn = k_next_.data();
        T* part_base = partial_.data();
        const int threads = pieces > 1 ? tuner_.choose(std::min(detail::rls_threads(n), pieces)) : 1;
        const auto t0 = std::chrono::steady_clock::now();
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
        for (int p = 0; p < pieces; ++p) {
            const index_t a = bounds_[std::size_t(p)], b = bounds_[std::size_t(p) + 1];
            T* part = part_base + index_t(p) * n;
            if constexpr (Next) std::fill(part + a, part + n, T(0));
            for (index_t j = a; j < b; ++j) {
                T* col = P + j * n;
                const T s = mc * k[j];
                if constexpr (!Next) {
                    if (forget) detail::axpy_scale(col + j, k + j, s, il, n - j);
                    else detail::axpy(col + j, k + j, s, n - j);
                } else {
                    // Diagonal, then one fused loop over the rest of the column: update,
                    // accumulate Σ P_ij r_i (column dot) and P_ij r_j into the partial.
                    T d = col[j] + s * k[j];
                    if (forget) d *= il;
                    col[j] = d;
                    kn[j] = d * rn[j] + detail::fused_column(col, k, rn, part, s, forget ? il : T(1), rn[j], j + 1, n);
                }
            }
        }
        if (pieces > 1) tuner_.record(threads, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if constexpr (Next) {
            for (int p = 0; p < pieces; ++p) {
                const index_t a = bounds_[std::size_t(p)];
                if (a + 1 < n)
                    k_next_.tail(n - a - 1) += partial_.col(p).tail(n - a - 1);
            }
            k_.swap(k_next_);
        }
    }

    double alpha_, lambda_;
    Matrix<T> P_;
    Vector<T> k_, k_next_;
    Matrix<T> partial_;
    std::vector<index_t> bounds_;
    ThreadTuner tuner_;
    T c_ = T(0), rPr_ = T(0);
    bool prepared_ = false;
};

/// Scratch space of rank1_update_and_multiply: per-piece partial products and the thread
/// choice. Keep one per weight matrix and reuse it: then nothing is allocated per step.
template <Real T>
struct Rank1Workspace {
    Matrix<T> partial;
    ThreadTuner tuner;
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
    const index_t big = std::max(rows, cols);
    const int pieces = big >= rls_parallel_min_size && cols >= 8 ? 8 : 1;
    if (pieces == 1) {
        z.setZero();
        detail::update_columns(W.data(), rows, e.data(), z.data(), s, k.data(), r.data(), 0, cols);
        return;
    }
    if (ws.partial.rows() != rows || ws.partial.cols() != pieces) ws.partial.resize(rows, pieces);
    const int threads = ws.tuner.choose(std::min(detail::rls_threads(big), pieces));
    const auto t0 = std::chrono::steady_clock::now();
    T* Wd = W.data();
    T* part = ws.partial.data();
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
    for (int p = 0; p < pieces; ++p) {
        const index_t a = cols * p / pieces, b = cols * (p + 1) / pieces;
        T* zp = part + index_t(p) * rows;
        std::fill(zp, zp + rows, T(0));
        detail::update_columns(Wd, rows, e.data(), zp, s, k.data(), r.data(), a, b);
    }
    ws.tuner.record(threads, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    z = ws.partial.col(0);
    for (int p = 1; p < pieces; ++p) z += ws.partial.col(p);
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
