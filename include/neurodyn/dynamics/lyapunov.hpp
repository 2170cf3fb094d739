#pragma once
/// \file lyapunov.hpp
/// The largest Lyapunov exponent of a model under a constant input: whether nearby
/// trajectories separate (> 0: chaos, or an unstable linear flow) or converge (< 0: the flow
/// settles, e.g. on a stable fixed point, whose exponent is then the largest real part of its
/// Jacobian's eigenvalues).
///
/// Benettin et al. (1980) with the tangent map: the state x and a tangent vector v are advanced
/// together by classical Runge–Kutta 4 applied to dx/dt = F(x), dv/dt = DF(x) v (RK4 applied to
/// the variational equation is exactly the linearisation of the RK4 map, so the exponent is
/// that of the discrete map, O(dt⁴) from the flow's). DF v is the analytic Jacobian-vector
/// product where the model gives one (`jacobian_vector_product`), central differences along v
/// otherwise. Every `renormalise_every` steps (and whenever ‖v‖ leaves [1e-100, 1e100]) log ‖v‖
/// is accumulated and v set back to unit length. After a `transient` (state on its attractor,
/// v aligned with the most expanding direction) the exponent is the accumulated log-growth over
/// `duration`, divided by `duration`; the duration is also cut into `blocks` equal blocks whose
/// spread gives a standard error (blocks are not independent: treat it as a rough error bar).
///
/// Units: the model's time unit (ms for the library's models), so exponents are in 1/ms.
/// Effective gain: a random rate network τ dx/dt = −x + J φ(x), J ~ N(0, g²/N), is chaotic
/// for large N when g·max φ′ > 1 (Sompolinsky, Crisanti & Sommers 1988 for tanh, max φ′ = 1).
/// The logistic transfer has max φ′ = 1/4: g = 1.5 gives 0.375 and a stable fixed point.
///
/// \code
/// neurodyn::Rng rng(1);
/// auto net = neurodyn::RateNetwork<neurodyn::Tanh<double>>::random(500, 1.5, 10.0, rng);
/// neurodyn::InputCondition<double> none{"none", neurodyn::Vector<double>::Zero(500)};
/// neurodyn::Vector<double> x0 = neurodyn::Vector<double>::Constant(500, 0.5);
/// auto le = neurodyn::largest_lyapunov_exponent(net, none, x0, {.dt = 1, .transient = 1000, .duration = 5000});
/// bool chaotic = le.exponent > 5 * le.standard_error;   // ≈ +0.004 ± 0.0005 /ms here
/// \endcode
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/dynamics/fixed_points.hpp"
#include "neurodyn/dynamics/jacobian.hpp"

namespace neurodyn {

/// Options of largest_lyapunov_exponent; times in the model's unit (ms). Every field is checked.
struct LyapunovOptions {
    double dt = 0.5;              ///< RK4 step, > 0; small against the fastest time constant
    double transient = 1000;      ///< integrated first, not measured, ≥ 0
    double duration = 10000;      ///< measured, > 0 (at least one renormalisation interval)
    int renormalise_every = 10;   ///< steps between renormalisations, 1 … 10⁶
    int blocks = 10;              ///< blocks of the duration for the standard error, 2 … 10⁴
    std::uint64_t seed = 1;       ///< draws the initial tangent vector
    long max_steps = 1000000000;  ///< refuse (transient + duration)/dt above this

    void validate() const {
        require_positive("LyapunovOptions.dt", dt);
        require_nonnegative("LyapunovOptions.transient", transient);
        require_positive("LyapunovOptions.duration", duration);
        require(renormalise_every >= 1 && renormalise_every <= 1000000, "LyapunovOptions.renormalise_every",
                renormalise_every, "must be in 1 … 1000000");
        require(blocks >= 2 && blocks <= 10000, "LyapunovOptions.blocks", blocks, "must be in 2 … 10000");
        require(max_steps >= 1, "LyapunovOptions.max_steps", max_steps, "must be >= 1");
        const double steps = (transient + duration) / dt;
        require(std::isfinite(steps) && steps <= double(max_steps), "LyapunovOptions.duration",
                detail::to_text(transient + duration) + " (with transient, at dt = " + detail::to_text(dt) + ")",
                "must take at most max_steps = " + std::to_string(max_steps) + " steps");
        require(duration / dt >= double(renormalise_every) * double(blocks), "LyapunovOptions.duration",
                duration, "must hold at least blocks × renormalise_every steps of dt");
    }
};

/// What largest_lyapunov_exponent returns.
template <Real T>
struct LyapunovResult {
    double exponent = 0;                 ///< largest Lyapunov exponent, 1/(time unit)
    double standard_error = 0;           ///< SD of the block exponents / √blocks
    std::vector<double> block_exponents; ///< the exponent over each block
    long steps = 0;                      ///< RK4 steps taken, transient included
    double measured_time = 0;            ///< time the exponent is averaged over (≈ duration)
    Vector<T> final_state;               ///< x at the end
    double final_speed = 0;              ///< ‖F(x)‖ at the end: ≈ 0 when the flow settled on a fixed point
};

/// DF(x) v, the Jacobian-vector product: O(n²) without forming DF for RateNetwork,
/// DF then the product for other analytic Jacobians, central differences along v otherwise
/// (step ε^{1/3}·(1 + ‖x‖)/‖v‖: 2 evaluations of the model). `work` is scratch space.
/// \code
/// neurodyn::Vector<double> Jv, work;
/// neurodyn::jacobian_vector_product(net, x, 0.0, u, v, Jv, work);
/// \endcode
template <class A, class T, class... Rest>
    requires HasTransferDerivative<A, T>
void jacobian_vector_product(const RateNetwork<A, T, Rest...>& net, const Vector<T>& x, double /*t*/,
                             const Vector<T>& /*u*/, const Vector<T>& v, Vector<T>& out, Vector<T>& work) {
    // DF v = (−v + J (φ'(x) ⊙ v)) / τ
    work.resize(x.size());
    for (index_t j = 0; j < x.size(); ++j) work[j] = transfer_derivative(net.activation(), x[j]) * v[j];
    out.resize(x.size());
    out.noalias() = net.weights() * work;
    out = (out - v) * T(1.0 / net.tau());
}

template <VectorField M>
void jacobian_vector_product(const M& m, const Vector<typename M::scalar_type>& x, double t,
                             const Vector<typename M::scalar_type>& u, const Vector<typename M::scalar_type>& v,
                             Vector<typename M::scalar_type>& out, Vector<typename M::scalar_type>& work) {
    using T = typename M::scalar_type;
    if constexpr (HasAnalyticJacobian<M>) {
        thread_local Matrix<T> J;
        model_jacobian(m, x, t, u, J);
        out.resize(x.size());
        out.noalias() = J * v;
    } else {
        const T vn = v.norm();
        out.setZero(x.size());
        if (vn == T(0)) return;
        const T h = std::cbrt(std::numeric_limits<T>::epsilon()) * (T(1) + x.norm()) / vn;
        Vector<T> fm(x.size());
        work = x + h * v;
        m.derivative(work, t, u, out);
        work = x - h * v;
        m.derivative(work, t, u, fm);
        out = (out - fm) / (T(2) * h);
    }
}

/// The largest Lyapunov exponent of `model` under the constant input `input`, from the
/// state `x0` (see the file comment). Invalid options, or an input or state of the wrong size
/// or not finite, throw invalid_parameter; a NaN/Inf in the state or tangent vector throws
/// numerical_error with the step (trial 0).
template <VectorField M>
LyapunovResult<typename M::scalar_type> largest_lyapunov_exponent(const M& model,
                                                                  const InputCondition<typename M::scalar_type>& input,
                                                                  const Vector<typename M::scalar_type>& x0,
                                                                  const LyapunovOptions& o = {}) {
    using T = typename M::scalar_type;
    o.validate();
    detail::check_condition(model, input);
    const index_t n = model.size();
    require_size("x0", x0.size(), n);
    require(x0.allFinite(), "x0", "a state with NaN or Inf", "must be finite");

    const long transient_steps = long(std::llround(o.transient / o.dt));
    const long block_intervals =
        std::max(1L, long(std::llround(o.duration / o.dt)) / (long(o.renormalise_every) * long(o.blocks)));
    const long k = o.renormalise_every;
    const T h = T(o.dt);
    const double t = input.t;
    const Vector<T>& u = input.u;

    Vector<T> x = x0, v(n);
    Rng rng(o.seed, 0, 0);
    for (index_t i = 0; i < n; ++i) v[i] = T(rng.normal());
    v /= v.norm();
    Vector<T> k1(n), k2(n), k3(n), k4(n), l1(n), l2(n), l3(n), l4(n), xs(n), vs(n), work(n);
    long step = 0;
    // One RK4 step of (x, v); returns whether both stayed finite.
    auto rk4 = [&] {
        model.derivative(x, t, u, k1);
        jacobian_vector_product(model, x, t, u, v, l1, work);
        xs.noalias() = x + (h / 2) * k1;
        vs.noalias() = v + (h / 2) * l1;
        model.derivative(xs, t, u, k2);
        jacobian_vector_product(model, xs, t, u, vs, l2, work);
        xs.noalias() = x + (h / 2) * k2;
        vs.noalias() = v + (h / 2) * l2;
        model.derivative(xs, t, u, k3);
        jacobian_vector_product(model, xs, t, u, vs, l3, work);
        xs.noalias() = x + h * k3;
        vs.noalias() = v + h * l3;
        model.derivative(xs, t, u, k4);
        jacobian_vector_product(model, xs, t, u, vs, l4, work);
        x.noalias() += (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
        v.noalias() += (h / 6) * (l1 + 2 * l2 + 2 * l3 + l4);
        ++step;
        if (!x.allFinite())
            throw numerical_error("largest_lyapunov_exponent: the state became NaN or Inf (dt = " +
                                      detail::to_text(o.dt) + " too large for the model?)",
                                  step, 0);
    };
    // log of ‖v‖, then v back to unit length; the tangent flow is linear, so the logs add up.
    auto renormalise = [&]() -> double {
        const T vn = v.norm();
        if (!(vn > T(0)) || !std::isfinite(double(vn)))
            throw numerical_error("largest_lyapunov_exponent: the tangent vector became " +
                                      std::string(vn > T(0) ? "infinite" : "zero or NaN") +
                                      " (lower renormalise_every)",
                                  step, 0);
        v /= vn;
        return std::log(double(vn));
    };
    const T big = T(std::is_same_v<T, float> ? 1e30 : 1e100);
    auto advance = [&](long steps) -> double {
        double log_growth = 0;
        for (long s = 0; s < steps; ++s) {
            rk4();
            const T vn = v.norm();
            if (!(vn < big && vn > T(1) / big)) log_growth += renormalise();
        }
        return log_growth + renormalise();
    };
    for (long s = 0; s < transient_steps; s += k) advance(std::min(k, transient_steps - s));

    LyapunovResult<T> r;
    double total = 0;
    const double block_time = double(block_intervals * k) * o.dt;
    for (int b = 0; b < o.blocks; ++b) {
        double g = 0;
        for (long i = 0; i < block_intervals; ++i) g += advance(k);
        r.block_exponents.push_back(g / block_time);
        total += g;
    }
    r.measured_time = block_time * o.blocks;
    r.exponent = total / r.measured_time;
    double ss = 0;
    for (double e : r.block_exponents) ss += (e - r.exponent) * (e - r.exponent);
    r.standard_error = std::sqrt(ss / double(o.blocks - 1) / double(o.blocks));
    r.steps = step;
    model.derivative(x, t, u, k1);
    r.final_speed = double(k1.norm());
    r.final_state = std::move(x);
    return r;
}

}  // namespace neurodyn
