#pragma once
/// \file force_trainer.hpp
/// FORCE training with recursive least squares, over any trainable network, stepper and
/// training policy:
///
///     learn::BasicForceTrainer<Network, Policy = AllSynapses, Stepper = Euler<T>>
///     learn::ForceTrainer<Policy, T, Activation>   // = the above on RateNetwork<Activation, T>
///
/// - `Network`: a `TrainableNetwork` (learn/trainable_network.hpp): a Model exposing its
///   recurrent weights, rates and transfer function, e.g. `RateNetwork<Tanh<T>, T>`.
/// - `Policy`: a `TrainingPolicy` (learn/training_policy.hpp): which rows and presynaptic
///   units learn, the error, how the update is applied. The four built-ins and a user's own
///   are treated alike.
/// - `Stepper`: a stepper from integrate/ (Euler, ExponentialEuler, RK4, …). The trainer has no
///   integrator of its own.
///
/// Recurrent policies (Rajan, Harvey & Tank 2016): the network is trained so that its rates
/// φ(x) follow target rates R(t) in the range of φ (`transfer_range`: (0, 1) for the logistic,
/// (−1, 1) for tanh, …). Each learning step the recurrent drive y = J r (+ h) is compared with
/// f = φ⁻¹(R) (learn/inverse_transfer.hpp: logit, atanh, …), e = y − f on the trained rows, and
/// the plastic synapses move by ΔJ = −c·e·(P r)ᵀ (RLS, see rls.hpp). The drive counts the
/// input h (as in Rajan et al.'s code) because x relaxes towards J r + h;
/// `error_includes_input = false` gives y = J r. A transfer function without an inverse is a
/// compile-time error for these policies.
///
/// Readout policies (`Readout<T>`, Sussillo & Abbott 2009): the readout y = W_out r learns the
/// target signals f, and the network receives W_fb y: τ dx/dt = −x + J r + W_fb y + h.
///
/// One training step at step t (r = φ(x_t), k = P r already known), fast path:
///   e = y − f_t;  y⁺ = y − c·(rᵀPr)·e  (= W_new r, from the rank-1 form);
///   the stepper advances x with the updated recurrent product (u = h_t [+ W_fb y⁺]);
///   W ← W − c e kᵀ and y = W_new r_{t+1} in one pass over W;
///   P ← P − c k kᵀ and k = P_new r_{t+1} in one pass over the lower triangle of P
///   (both passes in one parallel region when every presynaptic unit learns).
/// With a stepper that evaluates the model more than once per step (RK4), or a model without
/// a recurrent form, W is updated first and the stepper calls the model itself. When n is not
/// a multiple of 8 the fast path of a recurrent policy without `constrain` works on a row-padded
/// copy of J (aligned SIMD columns): `network()` receives the weights at the end of every trial
/// (after a numerical_error it still holds those of the trial's start).
///
/// An iteration trains on every condition (trial type) in turn, then runs every condition
/// without learning and scores it with pVar on the **trained rows** (rates against R; outputs
/// against f for a readout); pVar over all units is reported beside it (`pvar_all`). Training
/// stops when every condition's scored pVar reaches `pvar_threshold` or after
/// `max_iterations`. After each iteration the state (weights, P, RNG state, iteration, pVar
/// history) and every parameter that changes the result (`parameters()`: options, policy,
/// network, hashes of the targets, inputs and initial weights, plus the caller's
/// `run_parameters`) are checkpointed atomically when `checkpoint` is set; `resume()` refuses
/// a checkpoint of a different run, naming the first parameter that differs, and otherwise
/// continues a stopped run to bitwise the same result as an uninterrupted one in the same
/// build (across builds only to rounding: the compiler may contract a·b + c into FMA
/// differently). A run whose P stops being positive definite (rᵀPr < 0), whose state becomes
/// non-finite or whose pVar is NaN throws `numerical_error` naming the step and the
/// condition; the last good checkpoint is left untouched.
///
/// Two protocols (`ForceOptions::protocol`): `textbook`, all of the above, and `seed`, the
/// Python study's conventions (learn/seed_protocol.hpp; `ForceOptions::seed_protocol()`): one
/// state per condition from 0, carried between training run, test run and iterations; steps
/// 1 … T−1; e = J r − φ⁻¹(clip(R)) after the step; P updated first and the weights moved with
/// the gain of the updated P (`RlsUpdater::update_then_gain`), P over all units; the study's
/// pVar (`seed_pvar`) and strict stopping rule; the carried states are checkpointed. Policies,
/// networks and steppers are the same; readout policies are refused.
///
/// Callbacks (ensmallen-style, any subset, detected at compile time):
///   void on_step(const StepInfo<T>&);             // every step of every trial
///   bool on_iteration(const IterationInfo&);      // or void; return false to stop
///
/// \code
/// using namespace neurodyn;
/// Rng rng(seed);
/// auto net = RateNetwork<Logistic<double>>::random(87, 1.2, 10.0, rng);
/// auto R = normalise_jointly(psth);                         // (2, 87, T) in (0, 1)
/// auto h = FrozenOu{}.generate<double>(87, 2, grid, epochs, {"presample", "delay"}, seed);
/// learn::ForceOptions opts;
/// opts.checkpoint = "out/train.ckpt";
/// learn::ForceTrainer trainer(net, R, h, opts);             // AllSynapses, Euler
/// auto result = trainer.train();
/// const Matrix<double>& J = trainer.network().weights();
/// // Any network, policy and stepper:
/// auto tnet = RateNetwork<Tanh<double>>::random(87, 1.2, 10.0, rng);
/// learn::BasicForceTrainer<RateNetwork<Tanh<double>>, learn::Rows, ExponentialEuler<double>>
///     rows(tnet, 2.0 * R - 1.0, h, opts, learn::Rows{{0, 1, 2}});
/// \endcode
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unistd.h>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/concepts/stepper.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/io/checkpoint.hpp"
#include "neurodyn/learn/inverse_transfer.hpp"
#include "neurodyn/learn/pvar_check.hpp"
#include "neurodyn/learn/rls.hpp"
#include "neurodyn/learn/seed_protocol.hpp"
#include "neurodyn/learn/trainable_network.hpp"
#include "neurodyn/learn/training_policy.hpp"
#include "neurodyn/models/rate_network.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn::learn {

namespace detail {
/// out = A r as two products over the column halves, the right half first when `flip`. A
/// trial's steps alternate `flip`: the half a step reads last is still in L1 when the next
/// step starts with it (at N = 87, J's 61 KB do not fit a 32–48 KB L1; in one order every
/// step misses it everywhere; measured 0.48 → 0.36 µs per product). Each half has fewer than
/// 128 columns, so Eigen's product sums it whole and adds it to `out` once: out_i is
/// left_i + right_i in either order, bitwise the same (tested). Above rls_whole_max_size
/// columns one product.
template <class M, class V, class O>
void halves_product(const M& A, const V& r, O& out, bool flip) {
    const index_t cols = A.cols(), h = cols / 2;
    if (cols > rls_whole_max_size) {
        out.noalias() = A * r;
    } else if (!flip) {
        out.noalias() = A.leftCols(h) * r.head(h);
        out.noalias() += A.rightCols(cols - h) * r.tail(cols - h);
    } else {
        out.noalias() = A.rightCols(cols - h) * r.tail(cols - h);
        out.noalias() += A.leftCols(h) * r.head(h);
    }
}
}  // namespace detail

/// When to draw the progress bar on stderr.
enum class Progress { off, on, if_terminal };

/// Options of ForceTrainer; the defaults are the Rajan-style setup of the design notes.
struct ForceOptions {
    double alpha = 1.0;            ///< P(0) = I/α
    double forgetting = 1.0;       ///< RLS forgetting factor λ ∈ (0, 1]
    index_t train_every = 1;       ///< RLS update every this many steps
    double dt = 1.0;               ///< Euler step (ms); the targets have one column per step
    double pvar_threshold = 0.85;  ///< stop when every condition's test pVar reaches it
    int max_iterations = 50;       ///< iteration cap
    bool error_includes_input = true;         ///< z = J r + h (true) or J r (false)
    std::vector<std::string> condition_names; ///< default: right, left for 2 conditions
    std::filesystem::path checkpoint;         ///< empty: no checkpoints
    Progress progress = Progress::if_terminal;
    std::uint64_t seed = 0;  ///< presynaptic subset (PINning), readout initial states
    /// SD of a fresh N(0, σ²) jitter added to the initial state of every trial (training and
    /// test), drawn from the trainer's RNG stream (checkpointed). 0: every trial starts on
    /// the target, as in Rajan et al.
    double initial_state_noise = 0.0;
    /// Parameters of the caller's protocol that change the result but that the trainer cannot
    /// see (e.g. the seed and gain the network and inputs were drawn with), as (name, value)
    /// pairs. They are recorded in the checkpoint ahead of the trainer's own parameters and
    /// compared on resume(), so a different protocol run is refused naming them.
    std::vector<std::pair<std::string, std::string>> run_parameters;
    /// Which protocol: `textbook` (the default, above) or `seed`, the Python study's
    /// conventions (learn/seed_protocol.hpp: state per condition from 0 and carried over, the
    /// double-discounted update, the study's pVar and strict stopping rule). Use
    /// `seed_protocol()` for the study's option values as well.
    ForceProtocol protocol = ForceProtocol::textbook;
    /// ε > 0: target rates are clipped to [lower + ε, upper − ε] of the transfer's range before
    /// φ⁻¹ (the study: logit(clip(R, 1e-5, 1 − 1e-5))), and rates on the closed range (e.g. 0
    /// for a suppressed target) are accepted; pVar still compares with the unclipped R.
    /// 0 (default): no clipping, targets must lie in the open range.
    double target_clip = 0.0;
    /// Run the test trials of an iteration on two threads at once (the second on a copy of the
    /// trainer that shares its targets and inputs) when that is possible: textbook protocol, two
    /// or more conditions, no initial-state noise, no on_step callback, OpenMP with two or more
    /// threads and not already inside a parallel region (realisations trained in parallel keep
    /// one thread each). Each test trial is computed exactly as on one thread: the results do
    /// not depend on this option. Turn it off for trainers that run on threads of one's own
    /// (std::thread): each would start a second thread of its own.
    bool concurrent_tests = true;

    /// The Python study's conventions in full: protocol seed, P(0) = 10·I (α = 0.1), error
    /// J r − φ⁻¹(R) without the input, targets clipped at 1e-5, threshold 0.85.
    /// \code
    /// auto o = neurodyn::learn::ForceOptions::seed_protocol();
    /// o.max_iterations = 500;
    /// neurodyn::learn::ForceTrainer trainer(net, R, h, o);
    /// \endcode
    static ForceOptions seed_protocol() {
        ForceOptions o;
        o.protocol = ForceProtocol::seed;
        o.alpha = 0.1;
        o.error_includes_input = false;
        o.target_clip = 1e-5;
        o.pvar_threshold = 0.85;
        return o;
    }

    void validate() const {
        require_positive("alpha", alpha);
        require(forgetting > 0.0 && forgetting <= 1.0, "forgetting", forgetting, "must be in (0, 1]");
        require(train_every >= 1, "train_every", train_every, "must be >= 1");
        require_positive("dt", dt);
        require(pvar_threshold <= 1.0 && std::isfinite(pvar_threshold), "pvar_threshold", pvar_threshold,
                "must be a finite number <= 1");
        require(max_iterations >= 0, "max_iterations", max_iterations, "must be >= 0");
        require_nonnegative("initial_state_noise", initial_state_noise);
        require(target_clip >= 0.0 && target_clip < 0.5, "target_clip", target_clip, "must be in [0, 0.5)");
        require(protocol != ForceProtocol::seed || train_every == 1, "train_every", train_every,
                "must be 1 under the seed protocol (the study updates on every step)");
        require(protocol != ForceProtocol::seed || initial_state_noise == 0.0, "initial_state_noise",
                initial_state_noise, "must be 0 under the seed protocol (its state is carried over, never reset)");
        for (std::size_t i = 0; i < run_parameters.size(); ++i) {
            require(!run_parameters[i].first.empty(), "run_parameters", "an empty name", "every entry needs a name");
            for (std::size_t j = 0; j < i; ++j)
                require(run_parameters[j].first != run_parameters[i].first, "run_parameters", run_parameters[i].first,
                        "names must be unique");
        }
    }
};


/// What an on_step callback sees.
template <Real T>
struct StepInfo {
    int iteration;
    index_t condition;
    index_t step;
    bool learning;           ///< training trial (true) or test trial
    const Vector<T>& x;      ///< state after the step
    const Vector<T>& error;  ///< e of the step (zero when not a learning step)
};

/// What an on_iteration callback sees.
struct IterationInfo {
    int iteration;                     ///< 1-based
    std::vector<double> pvar;          ///< test pVar per condition, on the trained rows (decides convergence)
    const std::vector<std::string>* condition_names;
    bool converged;
    std::vector<double> pvar_all = {}; ///< test pVar per condition over every unit (or output)
};

/// Outcome of train().
struct TrainingResult {
    bool converged = false;
    int iterations = 0;                       ///< iterations done in total (resumes included)
    std::vector<std::vector<double>> pvar;    ///< [iteration][condition] test pVar on the trained rows
    std::vector<std::vector<double>> pvar_all;///< [iteration][condition] test pVar over all units
};

/// pVar of `actual` against `target` on the listed rows (all rows when `all`).
template <class T>
double pvar_rows(const Matrix<T>& target, const Matrix<T>& actual, const std::vector<index_t>& rows, bool all) {
    if (all) return pvar(target, actual);
    Matrix<T> a(index_t(rows.size()), target.cols()), b(index_t(rows.size()), target.cols());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        a.row(index_t(i)) = target.row(rows[i]);
        b.row(index_t(i)) = actual.row(rows[i]);
    }
    return pvar(a, b);
}

template <TrainableNetwork Net, class Policy = AllSynapses, class Stepper = Euler<typename Net::scalar_type>>
class BasicForceTrainer {
public:
    using Network = Net;
    using scalar_type = typename Net::scalar_type;
    using T = scalar_type;
    using stepper_type = Stepper;
    using policy_type = Policy;
    using activation_type = std::decay_t<decltype(std::declval<const Net&>().activation())>;

private:
    static_assert(TrainingPolicy<Policy, T>,
                  "neurodyn::learn::ForceTrainer: Policy must be a TrainingPolicy: members "
                  "`PlasticSet resolve(index_t n, Rng&) const` and `void describe(ParameterList&) const` "
                  "(see learn/training_policy.hpp)");
    /// The policy learns a separate readout (else the recurrent weights).
    static constexpr bool separate = ReadoutPolicy<Policy, T>;
    static_assert(separate || InvertibleTransfer<activation_type, T>,
                  "neurodyn::learn::ForceTrainer: recurrent FORCE turns target rates into target currents "
                  "through the inverse of the network's transfer function, and this transfer function has "
                  "none: give it members `T inverse(T) const` and `TransferRange range() const`, or "
                  "specialise neurodyn::inverse_transfer<F> (learn/inverse_transfer.hpp)");
    static constexpr bool fast = has_recurrent_form<Net> && single_evaluation_stepper<Stepper>;
    static constexpr bool has_constrain = requires(const Policy& p, Matrix<T>& W, const PlasticSet& s) {
        { p.constrain(W, s) } -> std::convertible_to<bool>;
    };
    /// During a trial the fast path may work on a padded copy of J (see run_trial).
    static constexpr bool paddable = fast && !separate && !has_constrain;
    using StepModel = std::conditional_t<fast, RecurrentView<Net>, Net>;
    static_assert(neurodyn::Stepper<Stepper, StepModel, Vector<T>>,
                  "neurodyn::learn::ForceTrainer: Stepper must be a stepper (integrate/) on Vector<T> that accepts "
                  "the network model");

public:
    /// \param net     the network to train (copied; `network()` returns the trained one)
    /// \param targets (conditions, units, steps): rates in the range of the transfer function for
    ///                recurrent policies, one per unit; output signals (conditions, outputs, steps)
    ///                for a readout policy
    /// \param inputs  (conditions, units, steps): external input h
    BasicForceTrainer(Network net, const xt::xtensor<T, 3>& targets, const xt::xtensor<T, 3>& inputs,
                      ForceOptions options = {}, Policy policy = {}, Stepper stepper = {})
        : net_(std::move(net)), opt_(std::move(options)), policy_(std::move(policy)), stepper_(std::move(stepper)),
          rng_(opt_.seed, 0, 0xF1), rls_(1, 1.0) {
        opt_.validate();
        if constexpr (separate)
            require(opt_.protocol != ForceProtocol::seed, "protocol", "seed",
                    "is defined for recurrent policies only (the study trains J, not a readout)");
        const index_t n = net_.size();
        {
            Rng pick(opt_.seed, 0, 0xF3);
            plastic_ = policy_.resolve(n, pick);  // validates the policy
        }
        index_t outputs = n;
        if constexpr (separate) {
            W_out_ = policy_.readout_weights(n);
            outputs = W_out_.rows();
        }
        const auto C = targets.shape()[0], K = targets.shape()[2];
        require(C >= 1 && K >= 2, "targets", shape_text(targets.shape()),
                "must have shape (conditions >= 1, units, steps >= 2)");
        require(index_t(targets.shape()[1]) == outputs, "targets", shape_text(targets.shape()),
                std::string("must have ") + (separate ? "one row per readout output (" : "one row per unit (") +
                    std::to_string(outputs) + ")");
        require(inputs.shape()[0] == C && index_t(inputs.shape()[1]) == n && inputs.shape()[2] == K, "inputs",
                shape_text(inputs.shape()),
                "must have shape (" + std::to_string(C) + ", " + std::to_string(n) + ", " + std::to_string(K) +
                    "), like the targets with one row per unit");
        if (opt_.condition_names.empty()) {
            if (C == 2) opt_.condition_names = {"right", "left"};
            else
                for (std::size_t c = 0; c < C; ++c) opt_.condition_names.push_back("condition " + std::to_string(c));
        }
        require(opt_.condition_names.size() == C, "condition_names", opt_.condition_names.size(),
                "must name each of the " + std::to_string(C) + " conditions");
        if constexpr (Stepper::is_explicit && HasTimeConstants<Net>)
            require(opt_.dt < net_.min_time_constant(), "dt", opt_.dt,
                    "must be smaller than the network's tau (" + neurodyn::detail::to_text(net_.min_time_constant()) +
                        ") for an explicit stepper");
        steps_ = index_t(K);
        for (std::size_t c = 0; c < C; ++c) {
            Matrix<T> R(outputs, steps_), F(outputs, steps_), H(n, steps_);
            for (index_t i = 0; i < outputs; ++i)
                for (index_t k = 0; k < steps_; ++k) {
                    const T v = targets(c, std::size_t(i), std::size_t(k));
                    if (!std::isfinite(v))
                        throw invalid_parameter("targets",
                                                "NaN or Inf at (condition " + std::to_string(c) + ", unit " +
                                                    std::to_string(i) + ", step " + std::to_string(k) + ")",
                                                "must be finite");
                    R(i, k) = v;
                    F(i, k) = target_current(v, c, i, k);
                }
            for (index_t i = 0; i < n; ++i)
                for (index_t k = 0; k < steps_; ++k) {
                    H(i, k) = inputs(c, std::size_t(i), std::size_t(k));
                    require(std::isfinite(H(i, k)), "inputs", "NaN or Inf", "must be finite");
                }
            task_->R.push_back(std::move(R));
            task_->F.push_back(std::move(F));
            task_->H.push_back(std::move(H));
        }
        // Before anything is trained: pVar must be defined for every condition, on the rows it is scored on.
        for (std::size_t c = 0; c < C; ++c) {
            if (plastic_.all_rows) {
                require_pvar_defined(task_->R[c], "targets", "condition '" + opt_.condition_names[c] + "'");
            } else {
                Matrix<T> s(index_t(plastic_.rows.size()), steps_);
                for (std::size_t i = 0; i < plastic_.rows.size(); ++i) s.row(index_t(i)) = task_->R[c].row(plastic_.rows[i]);
                require_pvar_defined(s, "targets", "condition '" + opt_.condition_names[c] + "' (trained rows)");
            }
            // Over all rows (a superset of the trained ones, so it varies too): scored on every test run.
            if (!seed()) task_->pvar_den.push_back(pvar_denominator(task_->R[c]));
        }
        targets_hash_ = hash_targets();
        {
            // What the trainer was built from, recorded in checkpoints (resume() overwrites J).
            std::string h;
            for (const auto& H : task_->H) h.append(reinterpret_cast<const char*>(H.data()), std::size_t(H.size()) * sizeof(T));
            char b[24];
            std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(Checkpoint::fnv1a(h)));
            inputs_hash_ = b;
            initial_weights_hash_ = hash_text(net_.weights());
        }
        for (std::size_t c = 0; c < C; ++c) {
            Vector<T> x0(n);
            if constexpr (requires { policy_.initial_state(index_t(c), opt_.seed, x0); })
                policy_.initial_state(index_t(c), opt_.seed, x0);
            else
                x0 = task_->F[c].col(0);  // start on the target
            task_->x0.push_back(std::move(x0));
        }
        // The seed protocol keeps P over every unit (the study's P is N x N whatever the
        // trainable set; the weight gain is then P[cols, cols] r[cols]).
        const index_t m = seed() ? n : index_t(plastic_.presynaptic.size());
        rls_ = RlsUpdater<T>(m, opt_.alpha, opt_.forgetting);
        if (seed()) {
            xs_.assign(C, Vector<T>::Zero(n));
            r0_.assign(C, Vector<T>::Zero(n));
        }
        x_.setZero(n);
        r_.setZero(n);
        z_.setZero(n);
        u_.setZero(n);
        e_.setZero(outputs);
        kfull_.setZero(n);
        rs_.setZero(m);
        if constexpr (separate) y_.setZero(outputs);
        rates_.resize(outputs, steps_);
        last_test_.assign(C, Matrix<T>());
        if constexpr (paddable) {
            // Rows rounded up to a multiple of 8, zero below n: every column of the working copy
            // starts on a SIMD boundary and the weight pass has no scalar tail. At N = 87 a
            // product with J took 0.98 us against 0.48 us at N = 88 (the 87-row columns straddle
            // cache lines). The pass works row by row, so the numbers are those of the unpadded J.
            const index_t ld = (n + 7) / 8 * 8;
            if (ld != n) {
                Jp_.setZero(ld, n);
                zp_.setZero(ld);
                ep_.setZero(ld);
            }
        }
    }

    const Network& network() const noexcept { return net_; }
    Network& network() noexcept { return net_; }
    const Policy& policy() const noexcept { return policy_; }
    const RlsUpdater<T>& rls() const noexcept { return rls_; }
    /// Mutable access, e.g. to inspect or (in tests) corrupt P.
    RlsUpdater<T>& rls() noexcept { return rls_; }
    const ForceOptions& options() const noexcept { return opt_; }
    ForceOptions& options() noexcept { return opt_; }
    /// The trained readout (readout policies only; empty otherwise).
    const Matrix<T>& readout_weights() const noexcept { return W_out_; }
    const PlasticSet& plastic_set() const noexcept { return plastic_; }
    int iteration() const noexcept { return iteration_; }
    /// [iteration][condition] test pVar on the trained rows, and over all units.
    const std::vector<std::vector<double>>& history() const noexcept { return history_; }
    const std::vector<std::vector<double>>& history_all() const noexcept { return history_all_; }
    index_t steps() const noexcept { return steps_; }
    index_t conditions() const noexcept { return index_t(task_->R.size()); }
    /// Inputs of condition c (units × steps).
    const Matrix<T>& inputs(index_t c) const { return task_->H.at(std::size_t(c)); }
    /// Target rates (or outputs) of condition c.
    const Matrix<T>& targets(index_t c) const { return task_->R.at(std::size_t(c)); }
    /// Target currents φ⁻¹(R) (or outputs) of condition c.
    const Matrix<T>& target_currents(index_t c) const { return task_->F.at(std::size_t(c)); }

    /// True under the seed protocol (ForceOptions::protocol).
    bool seed() const noexcept { return opt_.protocol == ForceProtocol::seed; }

    /// The protocol's pVar of `actual` against condition c's targets, on the trained rows
    /// (`all` = false) or over every row: `pvar` (textbook) or `seed_pvar` (seed).
    double protocol_pvar(index_t c, const Matrix<T>& actual, bool all) const {
        const Matrix<T>& R = task_->R.at(std::size_t(c));
        const bool every = all || plastic_.all_rows;
        if (seed()) return seed_pvar(R, actual, plastic_.rows, every);
        return every ? pvar(R, actual, task_->pvar_den[std::size_t(c)]) : pvar_rows(R, actual, plastic_.rows, false);
    }

    /// pVar of a test run of condition c on the trained rows and over all rows.
    std::pair<double, double> score(index_t c) {
        const Matrix<T>& out = test(c);
        return {protocol_pvar(c, out, false), protocol_pvar(c, out, true)};
    }

    /// Run condition c without learning; returns its rates (units × steps) for recurrent
    /// policies or its outputs for a readout. Textbook: column k is read before the step from
    /// t_k, the trial starts as training trials do. Seed: a test of the (trained) network as
    /// the study runs it: x = 0, column 0 left at 0, columns 1 … T−1 the rates after each
    /// step; the training state of the conditions is not touched.
    const Matrix<T>& test(index_t c) {
        check_condition(c);
        if (seed()) run_trial_seed<false>(c, 0, nullptr, true);
        else run_trial<false>(c);
        return rates_;
    }

    /// As test(c), with `noise[k]` added to every unit's input current on step k (one scalar
    /// per step shared by all units: the study's noise model, `shared_noise`). `noise` has one
    /// entry per step (zeros outside the noise window).
    /// \code
    /// neurodyn::Rng rng(3);
    /// auto xi = neurodyn::learn::shared_noise<double>(1.0, 10.0, trainer.steps(), {0, trainer.steps()}, rng);
    /// double p = neurodyn::learn::seed_pvar(trainer.targets(0), trainer.test(0, xi));
    /// \endcode
    const Matrix<T>& test(index_t c, const Vector<T>& noise) {
        check_condition(c);
        require(noise.size() == steps_, "noise", noise.size(), "must have one entry per step (" + std::to_string(steps_) + ")");
        require(noise.allFinite(), "noise", "NaN or Inf", "must be finite");
        if (seed()) {
            run_trial_seed<false>(c, 0, noise.data(), true);
        } else {
            noise_ = noise.data();
            try {
                run_trial<false>(c);
            } catch (...) {
                noise_ = nullptr;
                throw;
            }
            noise_ = nullptr;
        }
        return rates_;
    }

    /// One training trial of condition c (learning on every `train_every`-th step), outside
    /// the iteration loop: for benchmarks and custom schedules. Does not count as an iteration.
    /// Under the seed protocol it continues condition c's carried state.
    void train_trial(index_t c) {
        check_condition(c);
        if (seed()) run_trial_seed<true>(c, 0, nullptr, false);
        else run_trial<true>(c);
    }

    /// The rates (or outputs) of condition c's test run in the last iteration train() ran
    /// (empty before the first). Under the seed protocol this is the study's record: column 0
    /// the rate at the start of that iteration.
    const Matrix<T>& last_test_rates(index_t c) const {
        check_condition(c);
        return last_test_[std::size_t(c)];
    }

    /// The carried state of condition c (seed protocol; empty under textbook).
    const Vector<T>& carried_state(index_t c) const {
        static const Vector<T> none;
        return seed() ? xs_.at(std::size_t(c)) : none;
    }

    /// Train until every condition reaches the threshold or the iteration cap.
    template <class... Callbacks>
    TrainingResult train(Callbacks&&... callbacks) {
        TrainingResult res;
        bool stop = converged_;
        while (!stop && iteration_ < opt_.max_iterations) {
            const int it = iteration_ + 1;
            if (seed())  // the rate each condition starts the iteration with: column 0 of its test record
                for (std::size_t c = 0; c < xs_.size(); ++c) fast_rates<Net>::compute(net_, xs_[c], r0_[c]);
            for (index_t c = 0; c < conditions(); ++c) {
                if (seed()) run_trial_seed<true>(c, it, nullptr, false, callbacks...);
                else run_trial<true>(c, it, callbacks...);
            }
            std::vector<double> pv(static_cast<std::size_t>(conditions())), pa = pv;
            constexpr bool step_callbacks = (has_on_step<std::remove_cvref_t<Callbacks>> || ...);
            bool tested = false;
            if constexpr (!step_callbacks && copyable_worker) {
                if (test_concurrently()) {
                    run_tests_concurrently(it, pv, pa);
                    tested = true;
                }
            }
            if (!tested) {
                for (index_t c = 0; c < conditions(); ++c) {
                    if (seed()) run_trial_seed<false>(c, it, nullptr, false, callbacks...);
                    else run_trial<false>(c, it, callbacks...);
                    keep_test(c, *this, pv, pa);
                }
            }
            for (index_t c = 0; c < conditions(); ++c) {
                const auto cs = std::size_t(c);
                if (!std::isfinite(pv[cs]))
                    throw numerical_error("pVar is NaN in iteration " + std::to_string(it) + " (test trial of condition '" +
                                              name(c) + "')",
                                          long(steps_ - 1), long(c));
            }
            history_.push_back(pv);
            history_all_.push_back(pa);
            iteration_ = it;
            converged_ = true;  // textbook: reaches the threshold; seed: exceeds it (the study's test)
            for (double v : pv) converged_ = converged_ && (seed() ? v > opt_.pvar_threshold : v >= opt_.pvar_threshold);
            if (!opt_.checkpoint.empty()) save_checkpoint(opt_.checkpoint);
            progress(pv);
            IterationInfo info{it, pv, &opt_.condition_names, converged_, pa};
            bool go_on = true;
            (call_iteration(callbacks, info, go_on), ...);
            stop = converged_ || !go_on;
        }
        if (show_progress() && iteration_ > 0) std::fputc('\n', stderr);
        res.converged = converged_;
        res.iterations = iteration_;
        res.pvar = history_;
        res.pvar_all = history_all_;
        return res;
    }

    /// Every parameter that changes the result of train(), as (name, value) texts in the order
    /// a checkpoint records and resume() compares them: the caller's `run_parameters` first,
    /// then the scalar type, policy (and its parameters), network (size, τ, activation),
    /// stepper, task shape, the options, and hashes of the targets, the inputs and the initial
    /// weights the trainer was built with. Numbers are written exactly (shortest round-trip text).
    ParameterList parameters() const {
        ParameterList p = opt_.run_parameters;
        auto add = [&](std::string k, std::string v) { p.emplace_back(std::move(k), std::move(v)); };
        add("scalar", sizeof(T) == 4 ? "float" : "double");
        add("protocol", protocol_name(opt_.protocol));
        policy_.describe(p);
        add("units", std::to_string(net_.size()));
        if constexpr (requires { net_.tau(); }) add("tau", exact_text(double(net_.tau())));
        {
            // The activation, by its values at a few points (type and parameters in one).
            std::string a;
            for (double v : {-2.0, -0.5, 0.0, 0.5, 2.0})
                a += (a.empty() ? "" : " ") + exact_text(double(net_.activation()(T(v))));
            add("activation", "phi(-2, -0.5, 0, 0.5, 2) = " + a);
        }
        if constexpr (!std::is_same_v<Stepper, Euler<T>>) add("stepper", stepper_name());
        add("conditions", std::to_string(conditions()));
        add("steps", std::to_string(steps_));
        std::string names;
        for (const auto& n : opt_.condition_names) names += (names.empty() ? "\"" : ", \"") + n + "\"";
        add("condition_names", names);
        add("alpha", exact_text(opt_.alpha));
        add("forgetting", exact_text(opt_.forgetting));
        add("train_every", std::to_string(opt_.train_every));
        add("dt", exact_text(opt_.dt));
        add("pvar_threshold", exact_text(opt_.pvar_threshold));
        add("pvar_scored_on", "trained rows");
        add("pvar_formula", seed() ? "1 - (sum|R - r|)^2 / (sum|R - mean over units of R|)^2"
                                   : "1 - |R - r|^2 / |R - mean(R)|^2");
        add("target_clip", exact_text(opt_.target_clip));
        add("max_iterations", std::to_string(opt_.max_iterations));
        add("error_includes_input", opt_.error_includes_input ? "true" : "false");
        add("seed", std::to_string(opt_.seed));
        add("initial_state_noise", exact_text(opt_.initial_state_noise));
        char b[24];
        std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(targets_hash_));
        add("targets_hash", b);
        add("inputs_hash", inputs_hash_);
        add("initial_weights_hash", initial_weights_hash_);
        return p;
    }

    /// Write the training state (weights, P, readout, RNG state, iteration, pVar history) and
    /// the run's parameters().
    void save_checkpoint(const std::filesystem::path& path) const {
        Checkpoint ck;
        ck.put_scalars<std::uint64_t>("format", {std::uint64_t(sizeof(T)), std::uint64_t(separate ? 1 : 0)});
        ck.put_scalars<std::uint64_t>("iteration", {std::uint64_t(iteration_), std::uint64_t(converged_ ? 1 : 0)});
        ck.put("J", net_.weights());
        ck.put("P", rls_.P());
        if (seed()) {  // the carried state of every condition
            Matrix<T> X(conditions(), net_.size());
            for (std::size_t c = 0; c < xs_.size(); ++c) X.row(index_t(c)) = xs_[c].transpose();
            ck.put("state", X);
        }
        if constexpr (separate) ck.put("W_out", W_out_);
        const auto& s = rng_.state();
        std::uint64_t spare = 0;
        std::memcpy(&spare, &s.spare, 8);
        ck.put_scalars<std::uint64_t>("rng", {s.s[0], s.s[1], s.s[2], s.s[3], spare, std::uint64_t(s.has_spare)});
        auto flat = [](const std::vector<std::vector<double>>& h) {
            std::vector<double> v;
            for (const auto& row : h) v.insert(v.end(), row.begin(), row.end());
            return v;
        };
        ck.put_array<double>("pvar", {std::uint64_t(history_.size()), std::uint64_t(conditions())}, flat(history_));
        ck.put_array<double>("pvar_all", {std::uint64_t(history_all_.size()), std::uint64_t(conditions())},
                             flat(history_all_));
        std::vector<std::string> params;
        for (const auto& [k, v] : parameters()) params.push_back(k), params.push_back(v);
        ck.put_strings("parameters", params);
        ck.save(path);
    }

    /// Restore the state written by save_checkpoint(), refusing a checkpoint of another run.
    /// Every entry of parameters() must equal the recorded one, except max_iterations: the
    /// checkpoint may not have gone beyond this run's cap (a run with cap M passes through
    /// the same states as one with a larger cap, up to M), so a stopped run continues under a
    /// raised cap. The first difference throws file_error with field = the parameter's name:
    /// "checkpoint was written with seed = 6, this run has seed = 7". A checkpoint of an older
    /// format, which did not record its parameters, is refused too.
    void resume(const std::filesystem::path& path) {
        const Checkpoint ck = Checkpoint::load(path);
        const auto fmt = ck.array<std::uint64_t>("format", {2});
        if (fmt[0] != sizeof(T))
            throw file_error(ck.file(), "format", "holds " + std::string(fmt[0] == 4 ? "float" : "double") +
                                                      " weights, the trainer uses " + (sizeof(T) == 4 ? "float" : "double"));
        if (fmt[1] != (separate ? 1u : 0u))
            throw file_error(ck.file(), "format", "was written for another training policy (readout vs recurrent)");
        if (!ck.has("parameters"))
            throw file_error(ck.file(), "parameters",
                             "is missing: the checkpoint was written by an older neurodyn that did not record the "
                             "run's parameters, so it cannot be checked to belong to this run; delete it to train afresh");
        const auto recorded = ck.strings("parameters");
        if (recorded.size() % 2 != 0) throw file_error(ck.file(), "parameters", "is not a list of (name, value) pairs");
        auto find = [&](const std::string& key) -> const std::string* {
            for (std::size_t i = 0; i < recorded.size(); i += 2)
                if (recorded[i] == key) return &recorded[i + 1];
            return nullptr;
        };
        const std::string fix = "; delete the checkpoint (or use another checkpoint folder) to train this run afresh";
        const auto mine = parameters();
        for (const auto& [key, value] : mine) {
            if (key == "max_iterations") continue;  // checked against the iteration below
            const std::string* theirs = find(key);
            if (!theirs)
                throw file_error(ck.file(), key, "the checkpoint does not record " + key + ", this run has " + key +
                                                     " = " + value + fix);
            if (*theirs != value)
                throw file_error(ck.file(), key, "checkpoint was written with " + key + " = " + *theirs +
                                                     ", this run has " + key + " = " + value + fix);
        }
        for (std::size_t i = 0; i < recorded.size(); i += 2) {
            const bool known = std::any_of(mine.begin(), mine.end(), [&](const auto& kv) { return kv.first == recorded[i]; });
            if (!known)
                throw file_error(ck.file(), recorded[i], "checkpoint was written with " + recorded[i] + " = " +
                                                             recorded[i + 1] + ", this run does not set " + recorded[i] + fix);
        }
        const index_t n = net_.size(), m = rls_.size();
        const auto it = ck.array<std::uint64_t>("iteration", {2});
        if (it[0] > std::uint64_t(opt_.max_iterations))
            throw file_error(ck.file(), "max_iterations",
                             "checkpoint was written after " + std::to_string(it[0]) +
                                 " iterations, this run has max_iterations = " + std::to_string(opt_.max_iterations) +
                                 " (a fresh run would stop earlier, with other weights)" + fix);
        Matrix<T> J = ck.matrix<T>("J", n, n);
        Matrix<T> P = ck.matrix<T>("P", m, m);
        Matrix<T> W;
        if constexpr (separate) W = ck.matrix<T>("W_out", W_out_.rows(), n);
        Matrix<T> X;
        if (seed()) {
            X = ck.matrix<T>("state", conditions(), n);
            if (!X.allFinite()) throw file_error(ck.file(), "state", "contains NaN or Inf");
        }
        const auto rs = ck.array<std::uint64_t>("rng", {6});
        for (const char* key : {"pvar", "pvar_all"}) {
            const auto& pd = ck.dims(key);
            if (pd.size() != 2 || pd[1] != std::uint64_t(conditions()) || pd[0] != it[0])
                throw file_error(ck.file(), key, "does not have one row per iteration and one column per condition");
        }
        const auto hist = ck.array<double>("pvar");
        const auto hist_all = ck.array<double>("pvar_all");
        if (!J.allFinite()) throw file_error(ck.file(), "J", "contains NaN or Inf");
        if (!P.allFinite()) throw file_error(ck.file(), "P", "contains NaN or Inf");
        // Everything validated: commit. The inputs are the constructor's (equal by inputs_hash).
        net_.weights() = J;
        rls_.set_P(P);
        if constexpr (separate) W_out_ = W;
        for (std::size_t c = 0; c < xs_.size(); ++c) xs_[c] = X.row(index_t(c)).transpose();
        RngState st;
        for (int i = 0; i < 4; ++i) st.s[std::size_t(i)] = rs[std::size_t(i)];
        std::memcpy(&st.spare, &rs[4], 8);
        st.has_spare = rs[5] != 0;
        rng_.set_state(st);
        iteration_ = int(it[0]);
        converged_ = it[1] != 0;
        const auto C = std::size_t(conditions());
        history_.assign(std::size_t(iteration_), std::vector<double>(C));
        history_all_ = history_;
        for (std::size_t i = 0; i < history_.size(); ++i)
            for (std::size_t c = 0; c < C; ++c) {
                history_[i][c] = hist[i * C + c];
                history_all_[i][c] = hist_all[i * C + c];
            }
    }

private:
    template <class Shape>
    static std::string shape_text(const Shape& s) {
        std::string t = "shape (";
        for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
        return t + ")";
    }

    static std::string stepper_name() {
        if constexpr (requires { Stepper::name; }) return std::string(Stepper::name);
        else return std::string("order ") + std::to_string(Stepper::order) + (Stepper::is_explicit ? " explicit" : " implicit") +
                    " (" + typeid(Stepper).name() + ")";
    }

    /// The target current of target value v: φ⁻¹(v) for rates (checked against φ's range),
    /// v itself for a readout's output signal.
    T target_current(T v, std::size_t c, index_t i, index_t k) const {
        if constexpr (separate) {
            return v;
        } else {
            const auto& phi = net_.activation();
            const TransferRange range = transfer_range(phi);
            const double clip = opt_.target_clip;
            const bool inside = range.contains(double(v)) ||
                                (clip > 0 && double(v) >= range.lower && double(v) <= range.upper);
            if (!inside)
                throw invalid_parameter("targets",
                                        neurodyn::detail::to_text(v) + " at (condition " + std::to_string(c) + ", unit " +
                                            std::to_string(i) + ", step " + std::to_string(k) + ")",
                                        "target rates must lie in " + range.text() +
                                            ", the open range of the network's transfer function" +
                                            (range.advice.empty() ? std::string() : ": " + range.advice));
            if (clip > 0) {
                if (std::isfinite(range.lower)) v = std::max(v, T(range.lower + clip));
                if (std::isfinite(range.upper)) v = std::min(v, T(range.upper - clip));
            }
            const T f = transfer_inverse(phi, v);
            if (!std::isfinite(f))
                throw invalid_parameter("targets",
                                        neurodyn::detail::to_text(v) + " at (condition " + std::to_string(c) + ", unit " +
                                            std::to_string(i) + ", step " + std::to_string(k) + ")",
                                        "has no finite inverse under the transfer function (too close to the edge of " +
                                            range.text() + ")");
            return f;
        }
    }

    std::string name(index_t c) const { return opt_.condition_names[std::size_t(c)]; }

    template <class CB>
    static constexpr bool has_on_step = requires(CB& cb, const StepInfo<T>& info) { cb.on_step(info); };
    /// The test worker is a copy of the trainer, kept in step by assignment: with a network,
    /// policy or stepper that cannot be copied the test trials run in turn.
    static constexpr bool copyable_worker = std::is_copy_constructible_v<Net> && std::is_copy_assignable_v<Net> &&
                                            std::is_copy_constructible_v<Policy> &&
                                            std::is_copy_assignable_v<Policy> &&
                                            std::is_copy_constructible_v<Stepper>;

    /// Whether this iteration's test trials can run on two threads (ForceOptions::concurrent_tests).
    bool test_concurrently() const {
#ifdef _OPENMP
        return opt_.concurrent_tests && !seed() && conditions() >= 2 && opt_.initial_state_noise == 0.0 &&
               omp_get_max_threads() >= 2 && !omp_in_parallel();
#else
        return false;
#endif
    }
    /// Keep the test trial of condition c that `runner` (this trainer or its test worker) just
    /// ran as last_test_[c] (by swapping buffers: no copy) and score it.
    void keep_test(index_t c, BasicForceTrainer& runner, std::vector<double>& pv, std::vector<double>& pa) {
        const auto cs = std::size_t(c);
        last_test_[cs].swap(runner.rates_);
        runner.rates_.resize(last_test_[cs].rows(), last_test_[cs].cols());  // no-op after the first iteration
        pv[cs] = protocol_pvar(c, last_test_[cs], false);
        pa[cs] = plastic_.all_rows ? pv[cs] : protocol_pvar(c, last_test_[cs], true);
    }
    /// The test trials of iteration `it`: the first half of the conditions here, the rest on the
    /// test worker (a copy of this trainer with the current weights), at the same time. A test
    /// trial reads the weights, targets and inputs and writes only its runner's buffers, so
    /// each gives what it gives on one thread; each thread keeps and scores its own conditions.
    void run_tests_concurrently(int it, std::vector<double>& pv, std::vector<double>& pa) {
        if (!tester_.p) tester_.p = std::make_unique<BasicForceTrainer>(*this);
        BasicForceTrainer& w = *tester_.p;
        // Everything a test trial reads that the caller may have changed since the last
        // iteration (options(), network()); the targets and inputs are shared and never change.
        w.net_ = net_;
        w.opt_ = opt_;
        w.policy_ = policy_;
        if constexpr (separate) w.W_out_ = W_out_;
        const index_t C = conditions(), half = (C + 1) / 2;
        std::exception_ptr failed[2];
#ifdef _OPENMP
#pragma omp parallel num_threads(2)
#endif
        {
#ifdef _OPENMP
            const int part = omp_get_thread_num(), team = omp_get_num_threads();
#else
            const int part = 0, team = 1;
#endif
            BasicForceTrainer& runner = part == 0 ? *this : w;
            // If the runtime grants one thread (a thread limit), it runs every condition.
            const index_t from = part == 0 ? 0 : half, to = part == 0 ? (team > 1 ? half : C) : part == 1 ? C : half;
            try {
                for (index_t c = from; c < to; ++c) {
                    runner.template run_trial<false>(c, it);
                    keep_test(c, runner, pv, pa);
                }
            } catch (...) {
                failed[part] = std::current_exception();
            }
        }
        for (const auto& e : failed)
            if (e) std::rethrow_exception(e);
    }

    void check_condition(index_t c) const {
        if (c < 0 || c >= conditions())
            throw invalid_parameter("condition", std::to_string(c), "must be in [0, " + std::to_string(conditions()) + ")");
    }

    std::uint64_t hash_targets() const {
        std::string bytes;
        for (const auto& R : task_->R) bytes.append(reinterpret_cast<const char*>(R.data()), std::size_t(R.size()) * sizeof(T));
        return Checkpoint::fnv1a(bytes);
    }

    template <class CB>
    static void call_iteration(CB& cb, const IterationInfo& info, bool& go_on) {
        if constexpr (requires { { cb.on_iteration(info) } -> std::convertible_to<bool>; }) {
            if (!cb.on_iteration(info)) go_on = false;
        } else if constexpr (requires { cb.on_iteration(info); }) {
            cb.on_iteration(info);
        }
    }
    template <class CB>
    static void call_step(CB& cb, const StepInfo<T>& info) {
        if constexpr (requires { cb.on_step(info); }) cb.on_step(info);
    }

    bool show_progress() const {
        return opt_.progress == Progress::on || (opt_.progress == Progress::if_terminal && ::isatty(2));
    }

    void progress(const std::vector<double>& pv) const {
        if (!show_progress()) return;
        const int width = 30;
        const int filled = opt_.max_iterations > 0 ? width * iteration_ / opt_.max_iterations : width;
        std::string bar(std::size_t(filled), '#');
        bar.resize(std::size_t(width), '.');
        std::string text;
        for (std::size_t c = 0; c < pv.size(); ++c) {
            char b[64];
            std::snprintf(b, sizeof b, " %s %.3f", opt_.condition_names[c].c_str(), pv[c]);
            text += b;
        }
        std::fprintf(stderr, "\r[%s] iteration %d/%d pVar%s%s", bar.c_str(), iteration_, opt_.max_iterations,
                     text.c_str(), converged_ ? " (converged)" : "");
        std::fflush(stderr);
    }

    // --- the pieces a policy decides, each in one place ---------------------------------

    /// The learned matrix W: the readout, or the recurrent weights.
    Matrix<T>& learned() noexcept {
        if constexpr (separate) return W_out_;
        else return net_.weights();
    }
    /// y = W r, the product compared with the target current.
    Vector<T>& product() noexcept {
        if constexpr (separate) return y_;
        else return z_;
    }
    /// What a test trial records and pVar scores: the readout, or the rates.
    const Vector<T>& observed() const noexcept {
        if constexpr (separate) return y_;
        else return r_;
    }
    /// u = h (+ the policy's feedback of y).
    void input(const T* h, const Vector<T>& y) {
        u_ = Eigen::Map<const Vector<T>>(h, u_.size());
        if constexpr (separate) policy_.feed_back(y, u_);
    }
    /// e for the trained rows (the policy's error, else rate_error).
    void error(index_t k, const T* f, const T* h) {
        const ErrorTerms<T> t{product(), f, h, x_, plastic_, opt_.error_includes_input};
        (void)k;
        if constexpr (requires { policy_.error(t, e_); }) policy_.error(t, e_);
        else rate_error(t, e_);
    }
    /// The policy's projection after a weight update; recomputes y (and z) if it changed W.
    void constrain() {
        if constexpr (requires { { policy_.constrain(learned(), plastic_) } -> std::convertible_to<bool>; }) {
            if (policy_.constrain(learned(), plastic_)) {
                product().noalias() = learned() * r_;
                if constexpr (separate) (void)0;  // z = J r is unchanged: J does not learn
            }
        }
    }
    /// Advance x by one step of the stepper (u_ set), then r = φ(x).
    void advance(index_t k) {
        const double t = double(k) * opt_.dt;
        if constexpr (fast) {
            const RecurrentView<Net> view(net_, z_);  // J φ(x) is z_, kept by the weight passes
            stepper_.do_step(view, x_, t, opt_.dt, u_);
        } else {
            stepper_.do_step(net_, x_, t, opt_.dt, u_);
        }
        fast_rates<Net>::compute(net_, x_, r_);
    }

    /// Gather the trainable presynaptic rates.
    const Vector<T>& sample(const Vector<T>& r) {
        if (plastic_.all_presynaptic) return r;
        for (std::size_t m = 0; m < plastic_.presynaptic.size(); ++m) rs_[index_t(m)] = r[plastic_.presynaptic[m]];
        return rs_;
    }
    /// k over all columns (zeros on fixed presynaptic units).
    const Vector<T>& full_gain() {
        if (plastic_.all_presynaptic) return rls_.k();
        for (std::size_t m = 0; m < plastic_.presynaptic.size(); ++m) kfull_[plastic_.presynaptic[m]] = rls_.k()[index_t(m)];
        return kfull_;
    }

    /// One trial of condition c, learning or not. Test trials record rates_ (or outputs).
    template <bool Learn, class... Callbacks>
    void run_trial(index_t c, int it = 0, Callbacks&... callbacks) {
        const auto cs = std::size_t(c);
        const Matrix<T>& F = task_->F[cs];
        const Matrix<T>& H = task_->H[cs];
        Matrix<T>& J = net_.weights();
        Matrix<T>& W = learned();
        Vector<T>& y = product();
        const index_t n = J.rows();
        // The padded working copy of J (paddable policies, n not a multiple of 8): taken from
        // the network at the start of the trial and written back at its end.
        const bool pad = paddable && Jp_.size() > 0;
        if (pad) Jp_.topRows(n) = J;
        auto multiply = [&](index_t k) {  // z = J r
            if (pad) {
                detail::halves_product(Jp_, r_, zp_, k % 2 == 1);
                z_ = zp_.head(n);
            } else {
                detail::halves_product(J, r_, z_, k % 2 == 1);
            }
        };
        x_ = task_->x0[cs];
        if (opt_.initial_state_noise > 0)
            for (index_t i = 0; i < x_.size(); ++i) x_[i] += T(opt_.initial_state_noise * rng_.normal());
        fast_rates<Net>::compute(net_, x_, r_);
        e_.setZero();
        multiply(1);
        if constexpr (separate) y_.noalias() = W * r_;
        bool prepared = false;
        for (index_t k = 0; k < steps_; ++k) {
            if constexpr (!Learn) rates_.col(k) = observed();
            const T* h = H.col(k).data();
            const bool learn_now = Learn && (k % opt_.train_every == 0);
            if (learn_now) {
                if (!prepared) rls_.gain(sample(r_));
                const T rPr = rls_.rPr(), cc = rls_.c();
                if (!(rPr >= T(0)) || !std::isfinite(rPr))
                    throw numerical_error("P is no longer positive definite (r'Pr = " + neurodyn::detail::to_text(rPr) +
                                              ") in iteration " + std::to_string(it) + ", training condition '" +
                                              name(c) + "'",
                                          long(k), long(c));
                error(k, F.col(k).data(), h);
                const bool next = k + 1 < steps_ && (k + 1) % opt_.train_every == 0;
                if constexpr (fast) {
                    y -= (cc * rPr) * e_;  // W_new r, from the rank-1 form
                    input(h, y);
                    advance(k);            // the view's J r is z_ (= y for recurrent policies)
                    if (pad) {
                        ep_.head(n) = e_;
                        if (plastic_.all_presynaptic && next) {
                            rls_.update_weights_and_gain(Jp_, T(-cc), ep_, r_, zp_, work_);
                        } else {
                            rank1_update_and_multiply(Jp_, T(-cc), ep_, full_gain(), r_, zp_, work_);
                            if (next) rls_.update_and_gain(sample(r_));
                            else rls_.update();
                        }
                        z_ = zp_.head(n);
                    } else if (plastic_.all_presynaptic && next) {
                        // Both passes in one parallel region (bitwise the same numbers as two calls).
                        rls_.update_weights_and_gain(W, T(-cc), e_, r_, y, work_);
                    } else {
                        rank1_update_and_multiply(W, T(-cc), e_, full_gain(), r_, y, work_);
                        if (next) rls_.update_and_gain(sample(r_));
                        else rls_.update();
                    }
                    if constexpr (separate) z_.noalias() = J * r_;
                    constrain();
                } else {
                    // Update W first, then let the stepper evaluate the model with it.
                    rank1_update_and_multiply(W, T(-cc), e_, full_gain(), r_, y, work_);
                    constrain();
                    input(h, y);
                    advance(k);
                    z_.noalias() = J * r_;
                    if constexpr (separate) y_.noalias() = W * r_;
                    if (next) rls_.update_and_gain(sample(r_));
                    else rls_.update();
                }
                prepared = next;
            } else {
                input(h, y);
                if (noise_) u_.array() += noise_[k];
                advance(k);
                multiply(k);
                if constexpr (separate) y_.noalias() = W * r_;
            }
            if (!neurodyn::detail::all_finite(x_))
                throw numerical_error(std::string("non-finite state in iteration ") + std::to_string(it) + ", " +
                                          (Learn ? "training" : "test") + " trial of condition '" + name(c) + "'",
                                      long(k), long(c));
            if constexpr (sizeof...(Callbacks) > 0) {
                const StepInfo<T> info{it, c, k, learn_now, x_, e_};
                (call_step(callbacks, info), ...);
            }
        }
        if (Learn && pad) J = Jp_.topRows(n);
    }

    /// One run of condition c under the seed protocol (the study's evolve_choice): steps
    /// k = 1 … T−1, each x ← x + dt·(J r + h_k (+ noise_k) − x)/τ (the stepper, with J r of the
    /// state before the step), r = φ(x); test runs record r in column k. Learning steps then
    /// take e = J r − f_k (the policy's error, J before the update), P ← P − c k kᵀ with
    /// k = P r, then k' = P_new r, c' = 1/(1 + rᵀk') (RlsUpdater::update_then_gain), and
    /// J[rows, cols] −= c' e k'[cols]ᵀ (k'[cols] = P_new[cols, cols] r[cols] when only some
    /// presynaptic units learn). `fresh`: start from x = 0 with column 0 left at 0 and the
    /// carried state untouched (a test of the trained network); otherwise continue condition
    /// c's carried state, record column 0 as the rate at the start of the iteration, and
    /// carry the final state on.
    template <bool Learn, class... Callbacks>
    void run_trial_seed(index_t c, int it, const T* noise, bool fresh, Callbacks&... callbacks) {
        const auto cs = std::size_t(c);
        const Matrix<T>& F = task_->F[cs];
        const Matrix<T>& H = task_->H[cs];
        Matrix<T>& J = net_.weights();
        if (fresh) x_.setZero();
        else x_ = xs_[cs];
        fast_rates<Net>::compute(net_, x_, r_);
        if constexpr (!Learn) {
            if (fresh) rates_.col(0).setZero();
            else rates_.col(0) = r0_[cs];
        }
        z_.noalias() = J * r_;
        e_.setZero();
        for (index_t k = 1; k < steps_; ++k) {
            const T* h = H.col(k).data();
            u_ = Eigen::Map<const Vector<T>>(h, u_.size());
            if (noise) u_.array() += noise[k];
            advance(k);  // the fast path's view reads J r of the state before the step from z_
            if constexpr (!Learn) rates_.col(k) = r_;
            z_.noalias() = J * r_;
            if constexpr (Learn) {
                error(k, F.col(k).data(), h);
                rls_.gain(r_);
                const T rPr = rls_.rPr();
                if (!(rPr >= T(0)) || !std::isfinite(rPr))
                    throw numerical_error("P is no longer positive definite (r'Pr = " + neurodyn::detail::to_text(rPr) +
                                              ") in iteration " + std::to_string(it) + ", training condition '" +
                                              name(c) + "'",
                                          long(k), long(c));
                const T cc = rls_.update_then_gain(r_);
                const Vector<T>* g = &rls_.k();
                if (!plastic_.all_presynaptic) {
                    rls_.sub_gain(plastic_.presynaptic, r_, rs_);
                    kfull_.setZero();
                    for (std::size_t m = 0; m < plastic_.presynaptic.size(); ++m)
                        kfull_[plastic_.presynaptic[m]] = rs_[index_t(m)];
                    g = &kfull_;
                }
                rank1_update_and_multiply(J, T(-cc), e_, *g, r_, z_, work_);  // and z = J_new r
                constrain();
            }
            if (!neurodyn::detail::all_finite(x_))
                throw numerical_error(std::string("non-finite state in iteration ") + std::to_string(it) + ", " +
                                          (Learn ? "training" : "test") + " run of condition '" + name(c) + "'",
                                      long(k), long(c));
            if constexpr (sizeof...(Callbacks) > 0) {
                const StepInfo<T> info{it, c, k, Learn, x_, e_};
                (call_step(callbacks, info), ...);
            }
        }
        if (!fresh) xs_[cs] = x_;
    }

    Network net_;
    ForceOptions opt_;
    Policy policy_;
    Stepper stepper_;
    Rng rng_;
    RlsUpdater<T> rls_;
    PlasticSet plastic_;
    index_t steps_ = 0;
    /// What the trainer was built from: target rates R, target currents F = φ⁻¹(R), inputs H and
    /// initial states, per condition. Never changed after construction, so copies of the
    /// trainer (the test worker) share it.
    struct Task {
        std::vector<Matrix<T>> R, F, H;
        std::vector<Vector<T>> x0;
        std::vector<double> pvar_den;  // pvar_denominator(R[c]), computed once (textbook protocol)
    };
    std::shared_ptr<Task> task_ = std::make_shared<Task>();
    Matrix<T> W_out_;
    Vector<T> x_, r_, z_, y_, u_, e_, kfull_, rs_;
    Matrix<T> Jp_;       // padded working copy of J (empty when unused)
    Vector<T> zp_, ep_;  // z and e on the padded rows
    Matrix<T> rates_;
    Rank1Workspace<T> work_;
    std::vector<Matrix<T>> last_test_;
    std::vector<Vector<T>> xs_, r0_;  // seed protocol: carried state, rate at the iteration's start
    const T* noise_ = nullptr;        // shared noise of a textbook test(c, noise) run
    std::uint64_t targets_hash_ = 0;
    std::string inputs_hash_, initial_weights_hash_;
    int iteration_ = 0;
    bool converged_ = false;
    std::vector<std::vector<double>> history_, history_all_;
    /// The test worker of run_tests_concurrently, made on first use. A copy of the trainer
    /// starts without one (two trainers never share a worker).
    struct Worker {
        std::unique_ptr<BasicForceTrainer> p;
        Worker() = default;
        Worker(const Worker&) {}
        Worker& operator=(const Worker&) { return *this; }
        Worker(Worker&&) noexcept = default;
        Worker& operator=(Worker&&) noexcept = default;
    };
    Worker tester_;
};

/// FORCE on a `RateNetwork<Activation, T>` with forward Euler steps: the trainer of the
/// design notes (Rajan et al. 2016), and the one the protocols use.
/// \code
/// neurodyn::learn::ForceTrainer trainer(net, R, h, opts);                            // AllSynapses
/// neurodyn::learn::ForceTrainer<neurodyn::learn::PresynapticFraction> pin(net, R, h, opts, {0.2});
/// \endcode
template <class Policy = AllSynapses, Real T = double, class Activation = Logistic<T>>
class ForceTrainer : public BasicForceTrainer<RateNetwork<Activation, T>, Policy, Euler<T>> {
    using Base = BasicForceTrainer<RateNetwork<Activation, T>, Policy, Euler<T>>;

public:
    ForceTrainer(RateNetwork<Activation, T> net, const xt::xtensor<T, 3>& targets, const xt::xtensor<T, 3>& inputs,
                 ForceOptions options = {}, Policy policy = {})
        : Base(std::move(net), targets, inputs, std::move(options), std::move(policy)) {}
};

}  // namespace neurodyn::learn
