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
/// After each iteration the state (weights, P, inputs, RNG state, iteration, pVar history)
/// is checkpointed atomically when `checkpoint` is set; `resume()` continues a stopped run to
/// bitwise the same result. A run whose P stops being positive definite (rᵀPr < 0), whose
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

    void validate() const {
        require_positive("alpha", alpha);
        require(forgetting > 0.0 && forgetting <= 1.0, "forgetting", forgetting, "must be in (0, 1]");
        require(train_every >= 1, "train_every", train_every, "must be >= 1");
        require_positive("dt", dt);
        require(pvar_threshold <= 1.0 && std::isfinite(pvar_threshold), "pvar_threshold", pvar_threshold,
                "must be a finite number <= 1");
        require(max_iterations >= 0, "max_iterations", max_iterations, "must be >= 0");
        require_nonnegative("initial_state_noise", initial_state_noise);
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
        targets_hash_ = hash_targets();
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

    /// Write the training state (weights, P, readout, inputs, RNG state, iteration, history).
    void save_checkpoint(const std::filesystem::path& path) const {
        Checkpoint ck;
        ck.put_scalars<std::uint64_t>("format", {std::uint64_t(sizeof(T)), std::uint64_t(readout ? 1 : 0)});
        ck.put_scalars<std::uint64_t>("iteration", {std::uint64_t(iteration_), std::uint64_t(converged_ ? 1 : 0)});
        ck.put("J", net_.weights());
        ck.put("P", rls_.P());
        if constexpr (readout) ck.put("W_out", W_out_);
        std::vector<T> h;
        h.reserve(std::size_t(conditions() * net_.size() * steps_));
        for (const auto& H : H_)
            for (index_t i = 0; i < H.rows(); ++i)
                for (index_t k = 0; k < steps_; ++k) h.push_back(H(i, k));
        ck.put_array<T>("inputs", {std::uint64_t(conditions()), std::uint64_t(net_.size()), std::uint64_t(steps_)}, h);
        const auto& s = rng_.state();
        std::uint64_t spare = 0;
        std::memcpy(&spare, &s.spare, 8);
        ck.put_scalars<std::uint64_t>("rng", {s.s[0], s.s[1], s.s[2], s.s[3], spare, std::uint64_t(s.has_spare)});
        std::vector<double> hist;
        for (const auto& row : history_) hist.insert(hist.end(), row.begin(), row.end());
        ck.put_array<double>("pvar", {std::uint64_t(history_.size()), std::uint64_t(conditions())}, hist);
        ck.put_scalars<double>("settings", {opt_.alpha, opt_.forgetting, double(opt_.train_every), opt_.dt});
        ck.put_scalars<std::uint64_t>("targets_hash", {targets_hash_});
        ck.save(path);
    }

    /// Restore the state written by save_checkpoint(); the trainer must have been built with the
    /// same network size, targets, policy and RLS settings. Throws file_error naming the field
    /// that does not match.
    void resume(const std::filesystem::path& path) {
        const Checkpoint ck = Checkpoint::load(path);
        const auto fmt = ck.array<std::uint64_t>("format", {2});
        if (fmt[0] != sizeof(T))
            throw file_error(ck.file(), "format", "holds " + std::string(fmt[0] == 4 ? "float" : "double") +
                                                      " weights, the trainer uses " + (sizeof(T) == 4 ? "float" : "double"));
        if (fmt[1] != (readout ? 1u : 0u))
            throw file_error(ck.file(), "format", "was written for another training policy (readout vs recurrent)");
        if (ck.array<std::uint64_t>("targets_hash", {1})[0] != targets_hash_)
            throw file_error(ck.file(), "targets_hash", "was written for other targets");
        const auto set = ck.array<double>("settings", {4});
        if (set[0] != opt_.alpha || set[1] != opt_.forgetting || set[2] != double(opt_.train_every) || set[3] != opt_.dt)
            throw file_error(ck.file(), "settings", "alpha, forgetting, train_every or dt differ from this trainer's");
        const index_t n = net_.size(), m = rls_.size();
        const auto it = ck.array<std::uint64_t>("iteration", {2});
        Matrix<T> J = ck.matrix<T>("J", n, n);
        Matrix<T> P = ck.matrix<T>("P", m, m);
        Matrix<T> W;
        if constexpr (readout) W = ck.matrix<T>("W_out", W_out_.rows(), n);
        const auto h = ck.array<T>("inputs", {std::uint64_t(conditions()), std::uint64_t(n), std::uint64_t(steps_)});
        const auto rs = ck.array<std::uint64_t>("rng", {6});
        const auto& pd = ck.dims("pvar");
        if (pd.size() != 2 || pd[1] != std::uint64_t(conditions()) || pd[0] != it[0])
            throw file_error(ck.file(), "pvar", "does not have one row per iteration and one column per condition");
        const auto hist = ck.array<double>("pvar");
        if (!J.allFinite()) throw file_error(ck.file(), "J", "contains NaN or Inf");
        if (!P.allFinite()) throw file_error(ck.file(), "P", "contains NaN or Inf");
        // Everything validated: commit.
        net_.weights() = J;
        rls_.set_P(P);
        if constexpr (readout) W_out_ = W;
        std::size_t q = 0;
        for (auto& H : H_)
            for (index_t i = 0; i < n; ++i)
                for (index_t k = 0; k < steps_; ++k) H(i, k) = h[q++];
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
    int iteration_ = 0;
    bool converged_ = false;
    std::vector<std::vector<double>> history_;
};

}  // namespace neurodyn::learn
