#pragma once
/// \file trainable_network.hpp
/// What FORCE needs of a network model (`TrainableNetwork<M>`), and how the trainer hands a
/// stepper the recurrent product it already has.
///
/// A trainable network is a `Model` (concepts/model.hpp) on `Vector<T>` that exposes its
/// recurrent weights (`Matrix<T>& weights()` and its const overload, J(i, j) from unit j to unit i, changed in place
/// by learning), its rates (`rates(x)`, an expression) and its transfer function
/// (`activation()`, whose inverse turns target rates into target currents). `RateNetwork`
/// is one; a model with adaptation, another leak or extra inputs is another.
///
/// The fast path. Every FORCE step already computes the recurrent product z = J r in the same
/// pass that updates J (rls.hpp), so the trainer does not want the stepper to compute J φ(x)
/// again. A model may say how its right-hand side depends on that product:
///
///     void recurrent_derivative(const Vector<T>& x, double t, const Vector<T>& Jr, const Vector<T>& u,
///                               Vector<T>& dxdt) const;     // dx/dt given Jr = J φ(x)
///     void recurrent_drive(...same...) const;               // b given Jr (ExponentialEuler)
///
/// (or `recurrent_form<M>` is specialised; it is for RateNetwork: dx/dt = (Jr + u − x)/τ).
/// With it, and a stepper that evaluates the model once at the current state
/// (`single_evaluation_stepper<S>`: Euler and ExponentialEuler), the stepper is handed a view
/// of the model that uses the trainer's z (`RecurrentView`). Otherwise the trainer applies the
/// weight update first and lets the stepper call the model itself (any stepper, e.g. RK4;
/// one more N² product per step).
///
/// \code
/// static_assert(neurodyn::learn::TrainableNetwork<neurodyn::RateNetwork<neurodyn::Tanh<double>>>);
/// static_assert(neurodyn::learn::has_recurrent_form<neurodyn::RateNetwork<>>);
/// \endcode
#include <concepts>
#include <type_traits>

#include "neurodyn/concepts/model.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/exponential_euler.hpp"
#include "neurodyn/models/rate_network.hpp"

namespace neurodyn::learn {

/// A network FORCE can train (see the file comment).
template <class M>
concept TrainableNetwork = Model<M> && requires(M& m, const M& cm, const Vector<typename M::scalar_type>& x) {
    { m.weights() } -> std::same_as<Matrix<typename M::scalar_type>&>;
    { cm.weights() } -> std::convertible_to<const Matrix<typename M::scalar_type>&>;
    { cm.rates(x) };
    { cm.activation() };
};

/// How a model's right-hand side depends on the recurrent product Jr (specialise, or give the
/// model the members recurrent_derivative / recurrent_drive). The primary template has none.
template <class M>
struct recurrent_form {};

template <class A, Real T>
struct recurrent_form<RateNetwork<A, T>> {
    using V = Vector<T>;
    static void derivative(const RateNetwork<A, T>& m, const V& x, double, const V& Jr, const V& u, V& dxdt) {
        dxdt = (Jr + u - x) / T(m.tau());
    }
    static void drive(const RateNetwork<A, T>&, const V&, double, const V& Jr, const V& u, V& out) {
        out = Jr + u;
    }
};

template <class M>
concept has_recurrent_form =
    requires(const M& m, const Vector<typename M::scalar_type>& x, Vector<typename M::scalar_type>& o) {
        m.recurrent_derivative(x, 0.0, x, x, o);
    } || requires(const M& m, const Vector<typename M::scalar_type>& x, Vector<typename M::scalar_type>& o) {
        recurrent_form<M>::derivative(m, x, 0.0, x, x, o);
    };

/// r = the network's rates at x, as fast as the network allows: for a `RateNetwork` whose
/// transfer function has a vectorised `apply(h, out)` (models/transfer.hpp: the logistic and
/// tanh with Eigen's packet exp, a few ulp from the scalar operator()), that on every unit;
/// otherwise the model's `rates(x)` expression. At N = 87 the 87 scalar exponentials of the logistic took
/// about a third of a FORCE step. Specialise `fast_rates<M>` for a model of one's own.
template <class M>
struct fast_rates {
    template <class V>
    static void compute(const M& m, const V& x, V& r) {
        r.noalias() = m.rates(x);
    }
};
template <class A, Real T>
struct fast_rates<RateNetwork<A, T>> {
    template <class V>
    static void compute(const RateNetwork<A, T>& m, const V& x, V& r) {
        if constexpr (requires(const A& a, const V& v, Eigen::ArrayWrapper<V>& o) { a.apply(v.array(), o); }) {
            // Whole 64-byte chunks, then the last n mod C units padded to one chunk: Eigen
            // leaves the tail of a dynamic array to the scalar libm function (at N = 87, 7
            // calls of exp per step, ~5 % of a FORCE step); this way every unit goes through
            // the same packet function.
            constexpr index_t C = index_t(64 / sizeof(T));
            const index_t n = x.size(), bulk = n / C * C;
            auto head = r.head(bulk).array();
            m.activation().apply(x.head(bulk).array(), head);
            if (bulk < n) {
                Eigen::Array<T, C, 1> xt = Eigen::Array<T, C, 1>::Zero(), rt;
                xt.head(n - bulk) = x.tail(n - bulk).array();
                m.activation().apply(xt, rt);
                r.tail(n - bulk) = rt.head(n - bulk).matrix();
            }
        } else {
            r.noalias() = m.rates(x);
        }
    }
};

/// True for steppers that evaluate the model exactly once per step, at the state they are
/// given (so a cached J φ(x) of that state is the right one). Specialise for your own.
template <class S>
inline constexpr bool single_evaluation_stepper = false;
template <Real T>
inline constexpr bool single_evaluation_stepper<Euler<T, Vector<T>>> = true;
template <Real T>
inline constexpr bool single_evaluation_stepper<ExponentialEuler<T, Vector<T>>> = true;

/// The model as a stepper sees it on the trainer's fast path: the right-hand side with the
/// recurrent product taken from `Jr` (= J φ(x) of the state being stepped, kept up to date by
/// the trainer) instead of recomputed.
template <class M>
class RecurrentView {
public:
    using scalar_type = typename M::scalar_type;
    using V = Vector<scalar_type>;

    RecurrentView(const M& m, const V& Jr) : m_(&m), Jr_(&Jr) {}
    index_t size() const { return m_->size(); }
    double min_time_constant() const
        requires requires(const M& m) { m.min_time_constant(); }
    {
        return m_->min_time_constant();
    }
    void derivative(const V& x, double t, const V& u, V& dxdt) const {
        if constexpr (requires { m_->recurrent_derivative(x, t, *Jr_, u, dxdt); })
            m_->recurrent_derivative(x, t, *Jr_, u, dxdt);
        else
            recurrent_form<M>::derivative(*m_, x, t, *Jr_, u, dxdt);
    }
    auto decay_rates() const
        requires requires(const M& m) { m.decay_rates(); }
    {
        return m_->decay_rates();
    }
    void drive(const V& x, double t, const V& u, V& out) const
        requires(requires(const M& m, const V& v, V& o) { m.recurrent_drive(v, 0.0, v, v, o); } ||
                 requires(const M& m, const V& v, V& o) { recurrent_form<M>::drive(m, v, 0.0, v, v, o); })
    {
        if constexpr (requires { m_->recurrent_drive(x, t, *Jr_, u, out); })
            m_->recurrent_drive(x, t, *Jr_, u, out);
        else
            recurrent_form<M>::drive(*m_, x, t, *Jr_, u, out);
    }

private:
    const M* m_;
    const V* Jr_;
};

}  // namespace neurodyn::learn
