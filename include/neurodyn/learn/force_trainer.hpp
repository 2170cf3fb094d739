#pragma once
/// \file force_trainer.hpp
/// FORCE training of a rate network with recursive least squares.
///
/// Recurrent policies (`AllSynapses`, `PresynapticFraction`, `Rows`; Rajan, Harvey & Tank
/// 2016): the network τ dx/dt = −x + J φ(x) + h(t) is trained so that its rates φ(x) follow
/// target rates R(t) ∈ (0, 1) (e.g. `normalise_jointly` of recorded PSTHs). Each step the
/// drive z = J r + h is compared with f = logit(R), e = z − f, and the plastic synapses move by
/// ΔJ = −c·e·(P r)ᵀ (RLS, see rls.hpp). The drive counts the input h (as in Rajan et al.'s code)
/// because x relaxes towards J r + h; `error_includes_input = false` gives z = J r.
///
/// `Readout<T>` (Sussillo & Abbott 2009): the readout z = W_out r learns the target signals f,
/// and the network receives W_fb z: τ dx/dt = −x + J r + W_fb z + h.
///
/// One training step at step t (r = φ(x_t), k = P r already known):
///   e = z − f_t;  z⁺ = z − c·(rᵀPr)·e  (= J_new r, from the rank-1 form);
///   x_{t+1} = x_t + dt/τ·(−x_t + z⁺ [+ h_t]) (forward Euler with the updated weights);
///   J ← J − c e kᵀ and z = J_new r_{t+1} in one pass over J;
///   P ← P − c k kᵀ and k = P_new r_{t+1} in one pass over the lower triangle of P.
///
/// An iteration trains on every condition (trial type) in turn, then runs every condition
/// without learning and scores it with pVar (rates against R; outputs against f for a readout).
/// Training stops when every condition reaches `pvar_threshold` or after `max_iterations`.
/// After each iteration the state (weights, P, RNG state, iteration, pVar history) and every
/// parameter that changes the result (`parameters()`: options, policy, network, hashes of the
/// targets, inputs and initial weights, plus the caller's `run_parameters`) are checkpointed
/// atomically when `checkpoint` is set; `resume()` refuses a checkpoint of a different run,
/// naming the first parameter that differs, and otherwise continues a stopped run to bitwise
/// the same result as an uninterrupted one in the same build (across builds only to rounding:
/// the compiler may contract a·b + c into FMA differently). A run whose P stops being positive definite (rᵀPr < 0), whose
/// state becomes non-finite or whose pVar is NaN throws `numerical_error` naming the step and
/// the condition; the last good checkpoint is left untouched.
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
/// learn::ForceTrainer trainer(net, R, h, opts);             // AllSynapses
/// auto result = trainer.train();
/// const Matrix<double>& J = trainer.network().weights();
/// \endcode
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/io/checkpoint.hpp"
#include "neurodyn/learn/pvar_check.hpp"
#include "neurodyn/learn/rls.hpp"
#include "neurodyn/learn/training_policy.hpp"
#include "neurodyn/models/rate_network.hpp"
#include "neurodyn/models/transfer.hpp"

namespace neurodyn::learn {

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

    void validate() const {
        require_positive("alpha", alpha);
        require(forgetting > 0.0 && forgetting <= 1.0, "forgetting", forgetting, "must be in (0, 1]");
        require(train_every >= 1, "train_every", train_every, "must be >= 1");
        require_positive("dt", dt);
        require(pvar_threshold <= 1.0 && std::isfinite(pvar_threshold), "pvar_threshold", pvar_threshold,
                "must be a finite number <= 1");
        require(max_iterations >= 0, "max_iterations", max_iterations, "must be >= 0");
        require_nonnegative("initial_state_noise", initial_state_noise);
        for (std::size_t i = 0; i < run_parameters.size(); ++i) {
            require(!run_parameters[i].first.empty(), "run_parameters", "an empty name", "every entry needs a name");
            for (std::size_t j = 0; j < i; ++j)
                require(run_parameters[j].first != run_parameters[i].first, "run_parameters", run_parameters[i].first,
                        "names must be unique");
        }
    }
};

/// Text of a number that reads back to the same double (shortest round-trip form), used for
/// the parameters a checkpoint records: equal texts mean bitwise equal values.
inline std::string exact_text(double v) {
    char b[64];
    const auto r = std::to_chars(b, b + sizeof b, v);
    return std::string(b, r.ptr);
}

/// FNV-1a hash of the bytes of a dense Eigen object, as 16 hex digits.
template <class Derived>
std::string hash_text(const Eigen::DenseBase<Derived>& m) {
    using S = typename Derived::Scalar;
    const Matrix<S> a = m;  // contiguous, column-major
    char b[24];
    std::snprintf(b, sizeof b, "%016llx",
                  static_cast<unsigned long long>(Checkpoint::fnv1a(std::string_view(
                      reinterpret_cast<const char*>(a.data()), std::size_t(a.size()) * sizeof(S)))));
    return b;
}

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
    std::vector<double> pvar;          ///< test pVar per condition
    const std::vector<std::string>* condition_names;
    bool converged;
};

/// Outcome of train().
struct TrainingResult {
    bool converged = false;
    int iterations = 0;                       ///< iterations done in total (resumes included)
    std::vector<std::vector<double>> pvar;    ///< [iteration][condition] test pVar
};

template <class Policy = AllSynapses, Real T = double, class Activation = Logistic<T>>
class ForceTrainer {
    static_assert(TrainingPolicy<Policy>,
                  "neurodyn::learn::ForceTrainer: Policy must be AllSynapses, PresynapticFraction, Rows or "
                  "Readout<T> (see learn/training_policy.hpp)");
    static constexpr bool readout = is_readout<Policy>::value;
    static_assert(!readout || std::is_same_v<Policy, Readout<T>>,
                  "neurodyn::learn::ForceTrainer: Readout<S> must use the trainer's scalar type T");

public:
    using Network = RateNetwork<Activation, T>;
    using scalar_type = T;

    /// \param net     the network to train (copied; `network()` returns the trained one)
    /// \param targets (conditions, units, steps): rates in (0, 1) for recurrent policies, one per
    ///                unit; output signals (conditions, outputs, steps) for Readout
    /// \param inputs  (conditions, units, steps): external input h
    ForceTrainer(Network net, const xt::xtensor<T, 3>& targets, const xt::xtensor<T, 3>& inputs,
                 ForceOptions options = {}, Policy policy = {})
        : net_(std::move(net)), opt_(std::move(options)), policy_(std::move(policy)), rng_(opt_.seed, 0, 0xF1),
          rls_(1, 1.0) {
        opt_.validate();
        const index_t n = net_.size();
        policy_.validate(n);
        const auto C = targets.shape()[0], K = targets.shape()[2];
        index_t outputs = n;
        if constexpr (readout) outputs = policy_.W_out.rows();
        require(C >= 1 && K >= 2, "targets", shape_text(targets.shape()),
                "must have shape (conditions >= 1, units, steps >= 2)");
        require(index_t(targets.shape()[1]) == outputs, "targets", shape_text(targets.shape()),
                std::string("must have ") + (readout ? "one row per readout output (" : "one row per unit (") +
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
        require(opt_.dt < net_.tau(), "dt", opt_.dt, "must be smaller than the network's tau for Euler steps");
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
                    if constexpr (!readout) {
                        if (!(v > T(0) && v < T(1)))
                            throw invalid_parameter("targets",
                                                    neurodyn::detail::to_text(v) + " at (condition " + std::to_string(c) +
                                                        ", unit " + std::to_string(i) + ", step " +
                                                        std::to_string(k) + ")",
                                                    "target rates must lie in (0, 1): normalise them with "
                                                    "normalise_jointly()");
                        R(i, k) = v;
                        F(i, k) = logit(v);
                    } else {
                        R(i, k) = v;
                        F(i, k) = v;
                    }
                }
            for (index_t i = 0; i < n; ++i)
                for (index_t k = 0; k < steps_; ++k) {
                    H(i, k) = inputs(c, std::size_t(i), std::size_t(k));
                    require(std::isfinite(H(i, k)), "inputs", "NaN or Inf", "must be finite");
                }
            R_.push_back(std::move(R));
            F_.push_back(std::move(F));
            H_.push_back(std::move(H));
        }
        // Before anything is trained: pVar must be defined for every condition.
        for (std::size_t c = 0; c < C; ++c)
            require_pvar_defined(R_[c], "targets", "condition '" + opt_.condition_names[c] + "'");
        targets_hash_ = hash_targets();
        {
            // What the trainer was built from, recorded in checkpoints (resume() overwrites J).
            std::string h;
            for (const auto& H : H_) h.append(reinterpret_cast<const char*>(H.data()), std::size_t(H.size()) * sizeof(T));
            char b[24];
            std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(Checkpoint::fnv1a(h)));
            inputs_hash_ = b;
            initial_weights_hash_ = hash_text(net_.weights());
        }
        if constexpr (readout) {
            plastic_.all_presynaptic = plastic_.all_rows = true;
            W_out_ = policy_.W_out;
            // Fixed initial states, one per condition, so training and test trials start alike.
            for (std::size_t c = 0; c < C; ++c) {
                Rng r0(opt_.seed, c, 0xF2);
                Vector<T> x0(n);
                for (index_t i = 0; i < n; ++i) x0[i] = T(0.5 * r0.normal());
                x0_.push_back(std::move(x0));
            }
        } else {
            Rng pick(opt_.seed, 0, 0xF3);
            plastic_ = resolve(policy_, n, pick);
            for (std::size_t c = 0; c < C; ++c) x0_.push_back(F_[c].col(0));  // start on the target
        }
        const index_t m = readout ? n : index_t(plastic_.presynaptic.size());
        rls_ = RlsUpdater<T>(m, opt_.alpha, opt_.forgetting);
        x_.setZero(n);
        r_.setZero(n);
        z_.setZero(n);
        e_.setZero(n);
        kfull_.setZero(n);
        rs_.setZero(m);
        drive_.setZero(n);
        if constexpr (readout) {
            zo_.setZero(W_out_.rows());
            eo_.setZero(W_out_.rows());
        }
        rates_.resize(outputs, steps_);
    }

    const Network& network() const noexcept { return net_; }
    Network& network() noexcept { return net_; }
    const RlsUpdater<T>& rls() const noexcept { return rls_; }
    /// Mutable access, e.g. to inspect or (in tests) corrupt P.
    RlsUpdater<T>& rls() noexcept { return rls_; }
    const ForceOptions& options() const noexcept { return opt_; }
    ForceOptions& options() noexcept { return opt_; }
    /// The trained readout (Readout policy only).
    const Matrix<T>& readout_weights() const noexcept { return W_out_; }
    const PlasticSet& plastic_set() const noexcept { return plastic_; }
    int iteration() const noexcept { return iteration_; }
    const std::vector<std::vector<double>>& history() const noexcept { return history_; }
    index_t steps() const noexcept { return steps_; }
    index_t conditions() const noexcept { return index_t(R_.size()); }
    /// Inputs of condition c (units × steps).
    const Matrix<T>& inputs(index_t c) const { return H_.at(std::size_t(c)); }
    /// Target rates (or outputs) of condition c.
    const Matrix<T>& targets(index_t c) const { return R_.at(std::size_t(c)); }

    /// Run condition c without learning; returns its rates (units × steps) for recurrent
    /// policies or its outputs for Readout. Column k is read before the step from t_k.
    const Matrix<T>& test(index_t c) {
        if (c < 0 || c >= conditions())
            throw invalid_parameter("condition", std::to_string(c), "must be in [0, " + std::to_string(conditions()) + ")");
        run_trial<false>(c);
        return rates_;
    }

    /// One training trial of condition c (learning on every `train_every`-th step), outside
    /// the iteration loop: for benchmarks and custom schedules. Does not count as an iteration.
    void train_trial(index_t c) {
        if (c < 0 || c >= conditions())
            throw invalid_parameter("condition", std::to_string(c), "must be in [0, " + std::to_string(conditions()) + ")");
        run_trial<true>(c);
    }

    /// Train until every condition reaches the threshold or the iteration cap.
    template <class... Callbacks>
    TrainingResult train(Callbacks&&... callbacks) {
        TrainingResult res;
        bool stop = converged_;
        while (!stop && iteration_ < opt_.max_iterations) {
            const int it = iteration_ + 1;
            for (index_t c = 0; c < conditions(); ++c) run_trial<true>(c, it, callbacks...);
            std::vector<double> pv(static_cast<std::size_t>(conditions()));
            for (index_t c = 0; c < conditions(); ++c) {
                run_trial<false>(c, it, callbacks...);
                pv[std::size_t(c)] = pvar(R_[std::size_t(c)], rates_);
                if (!std::isfinite(pv[std::size_t(c)]))
                    throw numerical_error("pVar is NaN in iteration " + std::to_string(it) + " (test trial of condition '" +
                                              name(c) + "')",
                                          long(steps_ - 1), long(c));
            }
            history_.push_back(pv);
            iteration_ = it;
            converged_ = true;
            for (double v : pv) converged_ = converged_ && v >= opt_.pvar_threshold;
            if (!opt_.checkpoint.empty()) save_checkpoint(opt_.checkpoint);
            progress(pv);
            IterationInfo info{it, pv, &opt_.condition_names, converged_};
            bool go_on = true;
            (call_iteration(callbacks, info, go_on), ...);
            stop = converged_ || !go_on;
        }
        if (show_progress() && iteration_ > 0) std::fputc('\n', stderr);
        res.converged = converged_;
        res.iterations = iteration_;
        res.pvar = history_;
        return res;
    }

    /// Every parameter that changes the result of train(), as (name, value) texts in the order
    /// a checkpoint records and resume() compares them: the caller's `run_parameters` first,
    /// then the scalar type, policy (and its parameters), network (size, τ, activation),
    /// task shape, the options, and hashes of the targets, the inputs and the initial weights
    /// the trainer was built with. Numbers are written exactly (shortest round-trip text).
    std::vector<std::pair<std::string, std::string>> parameters() const {
        std::vector<std::pair<std::string, std::string>> p = opt_.run_parameters;
        auto add = [&](std::string k, std::string v) { p.emplace_back(std::move(k), std::move(v)); };
        add("scalar", sizeof(T) == 4 ? "float" : "double");
        if constexpr (std::is_same_v<Policy, AllSynapses>) add("policy", "AllSynapses");
        else if constexpr (std::is_same_v<Policy, PresynapticFraction>) {
            add("policy", "PresynapticFraction");
            add("PresynapticFraction.p", exact_text(policy_.p));
        } else if constexpr (std::is_same_v<Policy, Rows>) {
            add("policy", "Rows");
            std::string rows;
            for (auto i : plastic_.rows) rows += (rows.empty() ? "" : " ") + std::to_string(i);
            add("Rows.set", rows);
        } else {
            add("policy", "Readout");
            add("Readout.outputs", std::to_string(policy_.W_out.rows()));
            add("Readout.W_out_initial_hash", hash_text(policy_.W_out));
            add("Readout.feedback_hash", hash_text(policy_.feedback));
        }
        add("units", std::to_string(net_.size()));
        add("tau", exact_text(net_.tau()));
        {
            // The activation, by its values at a few points (type and parameters in one).
            std::string a;
            for (double v : {-2.0, -0.5, 0.0, 0.5, 2.0})
                a += (a.empty() ? "" : " ") + exact_text(double(net_.activation()(T(v))));
            add("activation", "phi(-2, -0.5, 0, 0.5, 2) = " + a);
        }
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
        ck.put_scalars<std::uint64_t>("format", {std::uint64_t(sizeof(T)), std::uint64_t(readout ? 1 : 0)});
        ck.put_scalars<std::uint64_t>("iteration", {std::uint64_t(iteration_), std::uint64_t(converged_ ? 1 : 0)});
        ck.put("J", net_.weights());
        ck.put("P", rls_.P());
        if constexpr (readout) ck.put("W_out", W_out_);
        const auto& s = rng_.state();
        std::uint64_t spare = 0;
        std::memcpy(&spare, &s.spare, 8);
        ck.put_scalars<std::uint64_t>("rng", {s.s[0], s.s[1], s.s[2], s.s[3], spare, std::uint64_t(s.has_spare)});
        std::vector<double> hist;
        for (const auto& row : history_) hist.insert(hist.end(), row.begin(), row.end());
        ck.put_array<double>("pvar", {std::uint64_t(history_.size()), std::uint64_t(conditions())}, hist);
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
        if (fmt[1] != (readout ? 1u : 0u))
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
        if constexpr (readout) W = ck.matrix<T>("W_out", W_out_.rows(), n);
        const auto rs = ck.array<std::uint64_t>("rng", {6});
        const auto& pd = ck.dims("pvar");
        if (pd.size() != 2 || pd[1] != std::uint64_t(conditions()) || pd[0] != it[0])
            throw file_error(ck.file(), "pvar", "does not have one row per iteration and one column per condition");
        const auto hist = ck.array<double>("pvar");
        if (!J.allFinite()) throw file_error(ck.file(), "J", "contains NaN or Inf");
        if (!P.allFinite()) throw file_error(ck.file(), "P", "contains NaN or Inf");
        // Everything validated: commit. The inputs are the constructor's (equal by inputs_hash).
        net_.weights() = J;
        rls_.set_P(P);
        if constexpr (readout) W_out_ = W;
        RngState st;
        for (int i = 0; i < 4; ++i) st.s[std::size_t(i)] = rs[std::size_t(i)];
        std::memcpy(&st.spare, &rs[4], 8);
        st.has_spare = rs[5] != 0;
        rng_.set_state(st);
        iteration_ = int(it[0]);
        converged_ = it[1] != 0;
        history_.assign(std::size_t(iteration_), std::vector<double>(std::size_t(conditions())));
        for (std::size_t i = 0; i < history_.size(); ++i)
            for (std::size_t c = 0; c < std::size_t(conditions()); ++c)
                history_[i][c] = hist[i * std::size_t(conditions()) + c];
    }

private:
    template <class Shape>
    static std::string shape_text(const Shape& s) {
        std::string t = "shape (";
        for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
        return t + ")";
    }

    std::string name(index_t c) const { return opt_.condition_names[std::size_t(c)]; }

    std::uint64_t hash_targets() const {
        std::string bytes;
        for (const auto& R : R_) bytes.append(reinterpret_cast<const char*>(R.data()), std::size_t(R.size()) * sizeof(T));
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

    /// Gather the trainable presynaptic rates.
    void gather(const Vector<T>& r) {
        if (plastic_.all_presynaptic) return;  // rs_ unused: r itself is the sample
        for (std::size_t m = 0; m < plastic_.presynaptic.size(); ++m) rs_[index_t(m)] = r[plastic_.presynaptic[m]];
    }
    const Vector<T>& sample(const Vector<T>& r) const { return plastic_.all_presynaptic ? r : rs_; }

    /// One trial of condition c, learning or not. Test trials record rates_ (or outputs).
    template <bool Learn, class... Callbacks>
    void run_trial(index_t c, int it = 0, Callbacks&... callbacks) {
        const auto cs = std::size_t(c);
        const Matrix<T>& F = F_[cs];
        const Matrix<T>& H = H_[cs];
        Matrix<T>& J = net_.weights();
        const Activation& phi = net_.activation();
        const T a = T(opt_.dt / net_.tau());
        x_ = x0_[cs];
        if (opt_.initial_state_noise > 0)
            for (index_t i = 0; i < x_.size(); ++i) x_[i] += T(opt_.initial_state_noise * rng_.normal());
        r_ = x_.unaryExpr(phi);
        e_.setZero();
        if constexpr (readout) {
            eo_.setZero();
            zo_.noalias() = W_out_ * r_;
            z_.noalias() = J * r_;
        } else {
            z_.noalias() = J * r_;
        }
        bool prepared = false;
        for (index_t k = 0; k < steps_; ++k) {
            if constexpr (!Learn) {
                if constexpr (readout) rates_.col(k) = zo_;
                else rates_.col(k) = r_;
            }
            const auto h = H.col(k);
            const bool learn_now = Learn && (k % opt_.train_every == 0);
            if (learn_now) {
                gather(r_);
                if (!prepared) rls_.gain(sample(r_));
                const T rPr = rls_.rPr(), cc = rls_.c();
                if (!(rPr >= T(0)) || !std::isfinite(rPr))
                    throw numerical_error("P is no longer positive definite (r'Pr = " + neurodyn::detail::to_text(rPr) +
                                              ") in iteration " + std::to_string(it) + ", training condition '" +
                                              name(c) + "'",
                                          long(k), long(c));
                if constexpr (readout) {
                    eo_ = zo_ - F.col(k);
                    zo_ -= (cc * rPr) * eo_;  // W_new r
                    drive_.noalias() = policy_.feedback * zo_;
                    drive_ += z_ + h;
                } else {
                    if (plastic_.all_rows) {
                        e_ = z_ - F.col(k);
                        if (opt_.error_includes_input) e_ += h;
                    } else {
                        for (auto i : plastic_.rows)
                            e_[i] = z_[i] - F(i, k) + (opt_.error_includes_input ? h[i] : T(0));
                    }
                    drive_ = z_ - (cc * rPr) * e_ + h;  // J_new r + h
                }
                x_ += a * (drive_ - x_);
                r_ = x_.unaryExpr(phi);
                const bool next = k + 1 < steps_ && (k + 1) % opt_.train_every == 0;
                if constexpr (readout) {
                    W_out_.noalias() -= (cc * eo_) * rls_.k().transpose();
                    zo_.noalias() = W_out_ * r_;
                    z_.noalias() = J * r_;
                    if (next) rls_.update_and_gain(r_);
                    else rls_.update();
                } else if (plastic_.all_presynaptic && next) {
                    // Both weight passes in one parallel region (bitwise the same numbers).
                    rls_.update_weights_and_gain(J, T(-cc), e_, r_, z_, work_);
                } else {
                    const Vector<T>* kf = &rls_.k();
                    if (!plastic_.all_presynaptic) {
                        for (std::size_t m = 0; m < plastic_.presynaptic.size(); ++m)
                            kfull_[plastic_.presynaptic[m]] = rls_.k()[index_t(m)];
                        kf = &kfull_;
                    }
                    rank1_update_and_multiply(J, T(-cc), e_, *kf, r_, z_, work_);
                    if (next) {
                        gather(r_);
                        rls_.update_and_gain(sample(r_));
                    } else {
                        rls_.update();
                    }
                }
                prepared = next;
            } else {
                if constexpr (readout) {
                    drive_.noalias() = policy_.feedback * zo_;
                    drive_ += z_ + h;
                } else {
                    drive_ = z_ + h;
                }
                x_ += a * (drive_ - x_);
                r_ = x_.unaryExpr(phi);
                z_.noalias() = J * r_;
                if constexpr (readout) zo_.noalias() = W_out_ * r_;
            }
            if (!x_.allFinite())
                throw numerical_error(std::string("non-finite state in iteration ") + std::to_string(it) + ", " +
                                          (Learn ? "training" : "test") + " trial of condition '" + name(c) + "'",
                                      long(k), long(c));
            if constexpr (sizeof...(Callbacks) > 0) {
                const StepInfo<T> info{it, c, k, learn_now, x_, readout ? eo_ : e_};
                (call_step(callbacks, info), ...);
            }
        }
    }

    Network net_;
    ForceOptions opt_;
    Policy policy_;
    Rng rng_;
    RlsUpdater<T> rls_;
    PlasticSet plastic_;
    index_t steps_ = 0;
    std::vector<Matrix<T>> R_, F_, H_;
    std::vector<Vector<T>> x0_;
    Matrix<T> W_out_;
    Vector<T> x_, r_, z_, e_, kfull_, rs_, drive_, zo_, eo_;
    Matrix<T> rates_;
    Rank1Workspace<T> work_;
    std::uint64_t targets_hash_ = 0;
    std::string inputs_hash_, initial_weights_hash_;
    int iteration_ = 0;
    bool converged_ = false;
    std::vector<std::vector<double>> history_;
};

}  // namespace neurodyn::learn
