#pragma once
/// \file fixed_points.hpp
/// Fixed points and slow points of a model under a constant input condition (Sussillo & Barak
/// 2013; Golub & Sussillo 2018), with the analytic Jacobian where the model gives one.
///
/// For dx/dt = F(x) = f(x, t, u) at fixed (t, u), from each initial state:
///  1. Newton: solve DF(x) δ = −F(x) (LU with partial pivoting), backtracking on
///     q(x) = ½‖F(x)‖² (Armijo: q(x + αδ) ≤ (1 − 2·10⁻⁴α) q(x), since ∇q·δ = −2q). Near a
///     regular root the full step is taken and convergence is quadratic.
///  2. Where the Newton step does not lower q (DF singular, far from a root, or no root
///     nearby): one Levenberg–Marquardt step on q, (DFᵀDF + λ·diag(DFᵀDF)) δ = −DFᵀF, λ adapted
///     from the gain ratio (Nielsen 1999). A minimum of q with q > 0 is a *slow point*.
///  After a full Newton step the next step first reuses the factorisation (a chord step, O(n²));
///  it is kept when it at least halves ‖F‖, otherwise DF is evaluated and factorised again.
///  A start ends as a fixed point (‖F‖ ≤ residual_tolerance, or a full Newton step below the
///  rounding level), a slow point (q stationary: ‖DFᵀF‖ ≤ gradient_tolerance·‖F‖·‖DF(x₀)‖, or no
///  step lowers q, with q ≤ slow_q_max) or not converged (reported per start, not thrown).
///  A NaN or Inf from the model throws numerical_error naming the initial state (trial) and
///  the iteration (step).
/// Converged states closer than dedupe_tolerance·(1 + ‖x‖) are one point. Each point is
/// classified from the eigenvalues λ of DF: stable (all Re λ < −m), saddle (k ≥ 1 with Re λ > m,
/// some < −m or marginal), unstable (all Re λ > m), marginal (none > m, some |Re λ| ≤ m), slow
/// (a slow point; its eigenvalues are still reported), with m = marginal_tolerance·‖DF‖_F.
/// Starts run in parallel (OpenMP) and are merged in start order: the result does not depend
/// on the thread count.
///
/// \code
/// auto p = neurodyn::inagaki2019_preset("one_hemi_multi_fp_step");
/// auto model = neurodyn::make_inagaki2019_model<double>(p);
/// neurodyn::InputCondition<double> delay{"delay", neurodyn::Vector<double>::Constant(4, p.ramp_amp)};
/// neurodyn::Matrix<double> starts = neurodyn::sample_initial_states<double>({trajectory}, 256, 0.5, 7);
/// auto found = neurodyn::find_fixed_points(model, delay, starts);
/// for (const auto& fp : found.points)
///     std::cout << neurodyn::to_string(fp.kind) << " q=" << fp.q << " unstable=" << fp.n_unstable << '\n';
/// \endcode
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/resources.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/dynamics/jacobian.hpp"
#include "neurodyn/parallel/ensemble.hpp"

namespace neurodyn {

/// The constant input under which points are sought: u held fixed, t passed to derivative().
/// For a trained network whose input varies, pass the input at a chosen time or its mean over
/// an epoch.
template <Real T>
struct InputCondition {
    std::string name = "constant";
    Vector<T> u;    ///< input, size of the model
    double t = 0;   ///< time given to derivative() (models here ignore it)
};

/// What a converged point is, from the eigenvalues of the Jacobian.
enum class FixedPointKind { stable, saddle, unstable, marginal, slow };

inline std::string_view to_string(FixedPointKind k) noexcept {
    switch (k) {
        case FixedPointKind::stable: return "stable";
        case FixedPointKind::saddle: return "saddle";
        case FixedPointKind::unstable: return "unstable";
        case FixedPointKind::marginal: return "marginal";
        case FixedPointKind::slow: return "slow";
    }
    return "?";
}

/// How the search from one initial state ended.
enum class StartStatus { fixed_point, slow_point, not_converged };

inline std::string_view to_string(StartStatus s) noexcept {
    switch (s) {
        case StartStatus::fixed_point: return "fixed_point";
        case StartStatus::slow_point: return "slow_point";
        case StartStatus::not_converged: return "not_converged";
    }
    return "?";
}

/// automatic: the analytic Jacobian when the model has one; finite_difference: always central
/// differences (for models whose analytic Jacobian one wants to check).
enum class JacobianMethod { automatic, finite_difference };

/// Options of find_fixed_points. A tolerance of 0 means "the default for the scalar type"
/// (given in brackets as double / float).
struct FixedPointOptions {
    int max_iterations = 100;          ///< Newton/LM iterations per start, 1 … 10⁶
    double residual_tolerance = 0;     ///< ‖F‖ of a fixed point [1e-10 / 1e-5]
    double step_tolerance = 0;         ///< relative step at which a full Newton step has converged [10ε]
    double gradient_tolerance = 0;     ///< stationarity of q, relative to ‖F‖·‖DF(x₀)‖ [1e-9 / 1e-4]
    double slow_q_max = std::numeric_limits<double>::infinity();  ///< largest q kept as a slow point
    double dedupe_tolerance = 0;       ///< relative distance under which two points are one [1e-6 / 1.2e-3]
    double marginal_tolerance = 0;     ///< |Re λ| ≤ this·‖DF‖_F is marginal [1e-8 / 1e-5]
    double max_step = 100;             ///< a step is shortened to max_step·(1 + ‖x‖) (overshoot guard)
    JacobianMethod jacobian = JacobianMethod::automatic;
    int threads = 0;                   ///< 0: OpenMP default; 1: serial

    /// Throws invalid_parameter naming the first field out of range.
    void validate() const {
        require(max_iterations >= 1 && max_iterations <= 1000000, "FixedPointOptions.max_iterations", max_iterations,
                "must be in 1 … 1000000");
        require_nonnegative("FixedPointOptions.residual_tolerance", residual_tolerance);
        require_nonnegative("FixedPointOptions.step_tolerance", step_tolerance);
        require_nonnegative("FixedPointOptions.gradient_tolerance", gradient_tolerance);
        require(slow_q_max > 0, "FixedPointOptions.slow_q_max", slow_q_max, "must be > 0 (infinity: keep every slow point)");
        require_nonnegative("FixedPointOptions.dedupe_tolerance", dedupe_tolerance);
        require_nonnegative("FixedPointOptions.marginal_tolerance", marginal_tolerance);
        require_positive("FixedPointOptions.max_step", max_step);
        require_thread_count("FixedPointOptions.threads", threads);
    }

    /// The tolerances with the scalar type's defaults filled in.
    template <Real T>
    FixedPointOptions resolved() const {
        validate();
        FixedPointOptions o = *this;
        const bool dbl = sizeof(T) >= sizeof(double);
        const double eps = double(std::numeric_limits<T>::epsilon());
        if (o.residual_tolerance == 0) o.residual_tolerance = dbl ? 1e-10 : 1e-5;
        if (o.step_tolerance == 0) o.step_tolerance = 10 * eps;
        if (o.gradient_tolerance == 0) o.gradient_tolerance = dbl ? 1e-9 : 1e-4;
        if (o.dedupe_tolerance == 0) o.dedupe_tolerance = std::max(1e-6, 1e4 * eps);
        if (o.marginal_tolerance == 0) o.marginal_tolerance = dbl ? 1e-8 : 1e-5;
        return o;
    }
};

/// One distinct point with its linearisation.
template <Real T>
struct FixedPoint {
    Vector<T> x;                             ///< the state
    FixedPointKind kind = FixedPointKind::stable;
    T residual = 0;                          ///< ‖F(x)‖
    T q = 0;                                 ///< ½‖F(x)‖²
    int n_unstable = 0;                      ///< eigenvalues with Re λ > m
    int n_marginal = 0;                      ///< eigenvalues with |Re λ| ≤ m
    T max_real_eigenvalue = 0;
    Eigen::Matrix<std::complex<T>, Eigen::Dynamic, 1> eigenvalues;  ///< sorted by real part, largest first
    Matrix<T> jacobian;                      ///< DF(x)
    long first_start = -1;                   ///< the first initial state that found it
    long starts = 0;                         ///< how many initial states found it
    int iterations = 0;                      ///< iterations of the first start
};

/// The end of the search from one initial state.
template <Real T>
struct StartOutcome {
    StartStatus status = StartStatus::not_converged;
    int iterations = 0;   ///< Newton, chord and LM steps
    int factorisations = 0;  ///< Jacobians evaluated and factorised (the O(n³) part)
    long point = -1;      ///< index into FixedPointSet::points, −1 when not converged
    T residual = 0;       ///< ‖F‖ where it stopped
    T q = 0;
    std::string message;  ///< why it did not converge (empty otherwise)
};

/// What find_fixed_points returns.
template <Real T>
struct FixedPointSet {
    std::string condition;
    std::vector<FixedPoint<T>> points;       ///< distinct points, in order of first discovery
    std::vector<StartOutcome<T>> starts;     ///< one per initial state
    bool analytic_jacobian = false;          ///< whether DF was analytic

    long count(FixedPointKind k) const {
        return long(std::count_if(points.begin(), points.end(), [k](const FixedPoint<T>& p) { return p.kind == k; }));
    }
    long count(StartStatus s) const {
        return long(std::count_if(starts.begin(), starts.end(), [s](const StartOutcome<T>& o) { return o.status == s; }));
    }
    /// Mean iterations over all starts.
    double mean_iterations() const {
        double s = 0;
        for (const auto& o : starts) s += o.iterations;
        return starts.empty() ? 0.0 : s / double(starts.size());
    }
    /// Mean Jacobian factorisations over all starts.
    double mean_factorisations() const {
        double s = 0;
        for (const auto& o : starts) s += o.factorisations;
        return starts.empty() ? 0.0 : s / double(starts.size());
    }
};

namespace detail {

template <VectorField M>
class FixedPointSolver {
public:
    using T = typename M::scalar_type;

    FixedPointSolver(const M& m, const InputCondition<T>& c, const FixedPointOptions& o, long start)
        : m_(m), c_(c), o_(o), start_(start), n_(m.size()), F_(n_), Ft_(n_), xt_(n_), d_(n_), g_(n_), Ad_(n_) {}

    struct Result {
        StartStatus status = StartStatus::not_converged;
        Vector<T> x;
        int iterations = 0;
        T residual = 0, q = 0;
        int factorisations = 0;
        std::string message;
    };

    Result run(Vector<T> x) {
        const T ftol = T(o_.residual_tolerance), xtol = T(o_.step_tolerance), gtol = T(o_.gradient_tolerance);
        eval(x, F_, 0);
        T q = T(0.5) * F_.squaredNorm();
        T jscale = 0, lambda = -1, nu = 2;
        Result r;
        auto finish = [&](StartStatus s, int it, std::string msg = {}) {
            r.status = s;
            r.x = x;
            r.iterations = it;
            r.q = q;
            r.residual = std::sqrt(T(2) * q);
            r.factorisations = factorisations_;
            r.message = std::move(msg);
            return r;
        };
        auto stationary = [&](int it) {
            if (std::sqrt(T(2) * q) <= ftol) return finish(StartStatus::fixed_point, it);
            if (double(q) <= o_.slow_q_max) return finish(StartStatus::slow_point, it);
            return finish(StartStatus::not_converged, it,
                          "stopped at a local minimum of q = " + detail::to_text(q) + " above slow_q_max = " +
                              detail::to_text(o_.slow_q_max));
        };
        bool lu_current = false;  // lu_ holds DF at a recent Newton iterate
        T jnorm = 0;              // ‖DF‖_F at the last factorisation
        // A step below the rounding level ends the search only where ‖F‖ is at its rounding
        // floor too (≈ ε‖DF‖‖x‖): far out (a diverged start, x ~ 1e150) the step can be tiny
        // relative to ‖x‖ while F is not, and Newton must go on.
        auto at_floor = [&](T xn) {
            return std::sqrt(T(2) * q) <= T(1e3) * std::numeric_limits<T>::epsilon() * jnorm * (T(1) + xn);
        };
        for (int it = 1; it <= o_.max_iterations; ++it) {
            if (std::sqrt(T(2) * q) <= ftol) return finish(StartStatus::fixed_point, it - 1);
            // stableNorm: x.norm() overflows to inf for entries ~1e155 and every relative test
            // would pass. A start whose ‖x‖ or q overflow is out of reach.
            const T xnorm = x.stableNorm();
            if (!std::isfinite(double(xnorm)) || !std::isfinite(double(q)))
                return finish(StartStatus::not_converged, it - 1,
                              "diverged: |x| = " + detail::to_text(xnorm) + ", q = " + detail::to_text(q) +
                                  " overflow the scalar type");
            const T cap = T(o_.max_step) * (T(1) + xnorm);
            if (lu_current) {
                // Chord step with the last factorisation (Shamanskii): costs O(n²) instead of the
                // O(n³) factorisation; kept only if it at least halves ‖F‖, else DF is refreshed.
                d_.noalias() = lu_.solve(F_);
                d_ = -d_;
                const T dn = d_.stableNorm();
                if (d_.allFinite() && dn <= cap) {
                    xt_.noalias() = x + d_;
                    eval(xt_, Ft_, it);
                    const T qt = T(0.5) * Ft_.squaredNorm();
                    if (std::isfinite(double(qt)) && qt <= T(0.25) * q) {
                        x.swap(xt_);
                        F_.swap(Ft_);
                        q = qt;
                        if (dn <= xtol * (T(1) + xnorm) && at_floor(xnorm)) return finish(StartStatus::fixed_point, it);
                        continue;
                    }
                }
            }
            lu_current = false;
            jacobian(x, it);
            ++factorisations_;
            jnorm = J_.norm();
            if (jscale == 0) jscale = std::max(jnorm, std::numeric_limits<T>::min());
            // Newton with backtracking.
            lu_.compute(J_);
            d_.noalias() = lu_.solve(F_);
            d_ = -d_;
            bool newton_ok = false;
            if (d_.allFinite()) {
                T dn = d_.stableNorm();
                if (dn > cap) {
                    d_ *= cap / dn;
                    dn = cap;
                }
                T alpha = 1;
                for (int ls = 0; ls < 10; ++ls, alpha /= 2) {
                    xt_.noalias() = x + alpha * d_;
                    eval(xt_, Ft_, it);
                    const T qt = T(0.5) * Ft_.squaredNorm();
                    if (std::isfinite(double(qt)) && qt <= (T(1) - T(2e-4) * alpha) * q) {
                        x.swap(xt_);
                        F_.swap(Ft_);
                        q = qt;
                        // A full step at the rounding level: Newton has converged (‖F‖ may sit on
                        // its rounding floor above a tolerance chosen too small).
                        if (alpha == T(1) && dn <= xtol * (T(1) + xnorm) && at_floor(xnorm))
                            return finish(StartStatus::fixed_point, it);
                        newton_ok = true;
                        lu_current = alpha == T(1);
                        break;
                    }
                }
            }
            if (!newton_ok) {
                // Levenberg–Marquardt step on q.
                g_.noalias() = J_.transpose() * F_;
                if (g_.norm() <= gtol * std::sqrt(T(2) * q) * jscale) return stationary(it);
                A_.noalias() = J_.transpose() * J_;
                const T dmax = A_.diagonal().maxCoeff();
                const T floor = std::max(dmax * std::numeric_limits<T>::epsilon(), std::numeric_limits<T>::min());
                if (lambda < 0) lambda = T(1e-3);
                bool accepted = false;
                for (int tries = 0; tries < 40; ++tries) {
                    Al_ = A_;
                    Al_.diagonal().array() += lambda * A_.diagonal().array().max(floor);
                    ldlt_.compute(Al_);
                    d_.noalias() = ldlt_.solve(g_);
                    d_ = -d_;
                    if (!d_.allFinite()) {
                        lambda *= nu;
                        nu *= 2;
                        continue;
                    }
                    T dn = d_.stableNorm();
                    if (dn > cap) d_ *= cap / dn;
                    xt_.noalias() = x + d_;
                    eval(xt_, Ft_, it);
                    const T qt = T(0.5) * Ft_.squaredNorm();
                    // predicted decrease of the Gauss–Newton model: −δᵀg − ½δᵀAδ
                    Ad_.noalias() = A_ * d_;
                    const T pred = -d_.dot(g_) - T(0.5) * d_.dot(Ad_);
                    const T rho = pred > 0 ? (q - qt) / pred : T(-1);
                    if (qt < q && rho > 0) {
                        const T step = d_.norm();
                        x.swap(xt_);
                        F_.swap(Ft_);
                        q = qt;
                        const T c = T(2) * rho - T(1);
                        lambda *= std::max(T(1) / T(3), T(1) - c * c * c);
                        nu = 2;
                        accepted = true;
                        if (step <= xtol * (T(1) + xnorm)) return stationary(it);
                        break;
                    }
                    lambda *= nu;
                    nu *= 2;
                    if (!(lambda < std::numeric_limits<T>::max() / 4)) break;
                }
                // No step lowers q any more: a minimum of q to working precision.
                if (!accepted) return stationary(it);
            }
        }
        if (std::sqrt(T(2) * q) <= ftol) return finish(StartStatus::fixed_point, o_.max_iterations);
        return finish(StartStatus::not_converged, o_.max_iterations,
                      "no fixed point within max_iterations = " + std::to_string(o_.max_iterations) +
                          " (|F| = " + detail::to_text(std::sqrt(T(2) * q)) + ")");
    }

    /// DF at x, analytic or finite differences as the options say; checked finite.
    void jacobian(const Vector<T>& x, int it) {
        if (o_.jacobian == JacobianMethod::finite_difference)
            finite_difference_jacobian(m_, x, c_.t, c_.u, J_);
        else
            model_jacobian(m_, x, c_.t, c_.u, J_);
        if (!J_.allFinite())
            throw numerical_error("find_fixed_points: the model's Jacobian has NaN or Inf (|x| = " +
                                      detail::to_text(x.norm()) + ") in the search from initial state " +
                                      std::to_string(start_),
                                  it, start_);
    }
    const Matrix<T>& last_jacobian() const noexcept { return J_; }

private:
    void eval(const Vector<T>& x, Vector<T>& out, int it) {
        m_.derivative(x, c_.t, c_.u, out);
        if (!out.allFinite())
            throw numerical_error("find_fixed_points: the model's derivative is NaN or Inf (|x| = " +
                                      detail::to_text(x.norm()) + ") in the search from initial state " +
                                      std::to_string(start_) + " (condition '" + c_.name + "')",
                                  it, start_);
    }

    const M& m_;
    const InputCondition<T>& c_;
    const FixedPointOptions& o_;
    long start_;
    int factorisations_ = 0;
    index_t n_;
    Vector<T> F_, Ft_, xt_, d_, g_, Ad_;
    Matrix<T> J_, A_, Al_;
    Eigen::PartialPivLU<Matrix<T>> lu_;
    Eigen::LDLT<Matrix<T>> ldlt_;
};

template <VectorField M>
void check_condition(const M& model, const InputCondition<typename M::scalar_type>& c) {
    require_size("InputCondition.u of condition " + c.name, c.u.size(), model.size());
    require(c.u.allFinite(), "InputCondition.u of condition " + c.name, "a vector with NaN or Inf",
            "the input must be finite");
    require_finite("InputCondition.t", c.t);
}

}  // namespace detail

/// Linearise `model` at x under condition c: F, q, DF, its eigenvalues and the kind
/// (stable / saddle / unstable / marginal from the eigenvalues; `slow` is left to the caller).
/// \code
/// auto fp = neurodyn::linearise(model, delay, x_end);   // e.g. the end of a simulated trial
/// bool attracting = fp.kind == neurodyn::FixedPointKind::stable;
/// \endcode
template <VectorField M>
FixedPoint<typename M::scalar_type> linearise(const M& model, const InputCondition<typename M::scalar_type>& c,
                                              const Vector<typename M::scalar_type>& x,
                                              const FixedPointOptions& options = {}) {
    using T = typename M::scalar_type;
    const FixedPointOptions o = options.resolved<T>();
    detail::check_condition(model, c);
    require_size("x", x.size(), model.size());
    require(x.allFinite(), "x", "a state with NaN or Inf", "must be finite");
    FixedPoint<T> p;
    p.x = x;
    Vector<T> F(model.size());
    model.derivative(x, c.t, c.u, F);
    if (!F.allFinite())
        throw numerical_error("linearise: the model's derivative is NaN or Inf at the given state", 0, 0);
    p.residual = F.norm();
    p.q = T(0.5) * F.squaredNorm();
    if (o.jacobian == JacobianMethod::finite_difference)
        finite_difference_jacobian(model, x, c.t, c.u, p.jacobian);
    else
        model_jacobian(model, x, c.t, c.u, p.jacobian);
    if (!p.jacobian.allFinite()) throw numerical_error("linearise: the model's Jacobian has NaN or Inf", 0, 0);
    Eigen::EigenSolver<Matrix<T>> es(p.jacobian, false);
    if (es.info() != Eigen::Success)
        throw numerical_error("linearise: the eigenvalues of the Jacobian did not converge", 0, 0);
    p.eigenvalues = es.eigenvalues();
    std::sort(p.eigenvalues.data(), p.eigenvalues.data() + p.eigenvalues.size(),
              [](const std::complex<T>& a, const std::complex<T>& b) { return a.real() > b.real(); });
    const T m = T(o.marginal_tolerance) * p.jacobian.norm();
    for (const auto& l : p.eigenvalues) {
        if (l.real() > m) ++p.n_unstable;
        else if (l.real() >= -m) ++p.n_marginal;
    }
    p.max_real_eigenvalue = p.eigenvalues.size() ? p.eigenvalues[0].real() : T(0);
    const int n = int(p.eigenvalues.size());
    if (p.n_unstable == n) p.kind = FixedPointKind::unstable;
    else if (p.n_unstable > 0) p.kind = FixedPointKind::saddle;
    else if (p.n_marginal > 0) p.kind = FixedPointKind::marginal;
    else p.kind = FixedPointKind::stable;
    return p;
}

/// Fixed points and slow points of `model` under `condition`, searched from each column of
/// `initial_states` (size() × K). See the file comment for the method and the classification.
/// Invalid options, a condition or initial state of the wrong size or with NaN throw
/// invalid_parameter; a NaN/Inf from the model throws numerical_error naming the initial state.
template <VectorField M>
FixedPointSet<typename M::scalar_type> find_fixed_points(const M& model,
                                                         const InputCondition<typename M::scalar_type>& condition,
                                                         const Matrix<typename M::scalar_type>& initial_states,
                                                         const FixedPointOptions& options = {}) {
    using T = typename M::scalar_type;
    const FixedPointOptions o = options.resolved<T>();
    detail::check_condition(model, condition);
    const index_t n = model.size();
    require(n >= 1, "model.size()", n, "must be >= 1");
    require_size("initial_states (rows)", initial_states.rows(), n);
    require(initial_states.cols() >= 1, "initial_states (columns)", initial_states.cols(),
            "needs at least one initial state");
    for (index_t k = 0; k < initial_states.cols(); ++k)
        require(initial_states.col(k).allFinite(), "initial_states column " + std::to_string(k),
                "a state with NaN or Inf", "every initial state must be finite");

    const long K = long(initial_states.cols());
    using Solver = detail::FixedPointSolver<M>;
    std::vector<typename Solver::Result> results(static_cast<std::size_t>(K));
    for_each_trial(
        K, std::size_t(K),
        [&](long k, std::size_t slot) {
            Solver s(model, condition, o, k);
            results[slot] = s.run(initial_states.col(k));
        },
        [](long, std::size_t) {}, {.threads = o.threads});

    FixedPointSet<T> out;
    out.condition = condition.name;
    out.analytic_jacobian = HasAnalyticJacobian<M> && o.jacobian == JacobianMethod::automatic;
    out.starts.resize(std::size_t(K));
    // Merge in start order (deterministic on any thread count).
    for (long k = 0; k < K; ++k) {
        auto& r = results[std::size_t(k)];
        auto& s = out.starts[std::size_t(k)];
        s.status = r.status;
        s.iterations = r.iterations;
        s.factorisations = r.factorisations;
        s.residual = r.residual;
        s.q = r.q;
        s.message = std::move(r.message);
        if (r.status == StartStatus::not_converged) continue;
        const T xn = r.x.norm();
        long found = -1;
        for (std::size_t p = 0; p < out.points.size(); ++p) {
            const auto& P = out.points[p];
            const T scale = T(1) + std::max(xn, P.x.norm());
            if ((P.x - r.x).norm() <= T(o.dedupe_tolerance) * scale) {
                found = long(p);
                break;
            }
        }
        if (found < 0) {
            FixedPoint<T> P;
            P.x = std::move(r.x);
            P.kind = r.status == StartStatus::slow_point ? FixedPointKind::slow : FixedPointKind::stable;
            P.first_start = k;
            P.iterations = r.iterations;
            out.points.push_back(std::move(P));
            found = long(out.points.size()) - 1;
        } else if (r.status == StartStatus::fixed_point && out.points[std::size_t(found)].kind == FixedPointKind::slow) {
            // A true root beats a slow point at the same place.
            out.points[std::size_t(found)].x = std::move(r.x);
            out.points[std::size_t(found)].kind = FixedPointKind::stable;
        }
        out.points[std::size_t(found)].starts += 1;
        s.point = found;
    }
    // Linearise every distinct point (few; eigen-decompositions in parallel).
    for_each_trial(
        long(out.points.size()), std::max<std::size_t>(1, out.points.size()),
        [&](long p, std::size_t) {
            auto& P = out.points[std::size_t(p)];
            const bool slow = P.kind == FixedPointKind::slow;
            auto L = linearise(model, condition, P.x, o);
            L.first_start = P.first_start;
            L.starts = P.starts;
            L.iterations = P.iterations;
            if (slow) L.kind = FixedPointKind::slow;
            P = std::move(L);
        },
        [](long, std::size_t) {}, {.threads = o.threads});
    return out;
}

/// Initial states for find_fixed_points: `count` states drawn uniformly (with replacement)
/// from the columns of the given trajectories (each size × steps, columns are states), plus
/// isotropic Gaussian noise of standard deviation `noise_sd`. Sample k uses its own stream
/// Rng(seed, k, 0), so the draw does not depend on anything else.
/// \code
/// neurodyn::Matrix<double> starts = neurodyn::sample_initial_states<double>({right, left}, 1024, 0.2, 42);
/// \endcode
template <Real T>
Matrix<T> sample_initial_states(const std::vector<Matrix<T>>& trajectories, index_t count, double noise_sd,
                                std::uint64_t seed) {
    require(!trajectories.empty(), "trajectories", "none", "needs at least one trajectory");
    const index_t n = trajectories.front().rows();
    require(n >= 1, "trajectories[0] (rows)", n, "must have at least one state variable");
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < trajectories.size(); ++i) {
        const auto& tr = trajectories[i];
        require_size("trajectories[" + std::to_string(i) + "] (rows)", tr.rows(), n);
        require(tr.allFinite(), "trajectories[" + std::to_string(i) + "]", "a matrix with NaN or Inf",
                "states must be finite");
        total += std::uint64_t(tr.cols());
    }
    require(total >= 1, "trajectories", "no columns", "need at least one state");
    require(count >= 1, "count", count, "must be >= 1");
    require_nonnegative("noise_sd", noise_sd);
    require_allocation("count", count, {std::uint64_t(count), std::uint64_t(n)}, sizeof(T));
    Matrix<T> out(n, count);
    for (index_t k = 0; k < count; ++k) {
        Rng rng(seed, std::uint64_t(k), 0);
        std::uint64_t c = rng.below(total);
        std::size_t i = 0;
        while (c >= std::uint64_t(trajectories[i].cols())) c -= std::uint64_t(trajectories[i++].cols());
        out.col(k) = trajectories[i].col(index_t(c));
        if (noise_sd > 0)
            for (index_t j = 0; j < n; ++j) out(j, k) += T(noise_sd * rng.normal());
    }
    return out;
}

}  // namespace neurodyn
