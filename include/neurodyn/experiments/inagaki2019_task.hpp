#pragma once
/// \file inagaki2019_task.hpp
/// The delayed-response task with photoinhibition of Inagaki, Fontolan, Romani & Svoboda
/// (Nature 2019, Extended Data Figs. 1 and 9) on the discrete-attractor presets of
/// models/inagaki2019.hpp.
///
/// Per trial: a stimulus of amplitude ~ N(stim_amp, stim_sigma) onto populations (1, 3) on
/// right trials and (2, 4) on left trials, the preset's ramp, photoinhibition of strength PV
/// on the chosen side, and the authors' fast noise σ·ξ added to the input once per 1-ms step
/// (no √dt). The authors' update order is kept exactly:
///   y = softplus(h_t); input_t from s(y)·y; h_{t+1} = h_t + dt(−h_t + input_t)/τ; r_{t+1} = s(y_t)·y_t,
/// so the recorded rate lags h by one step. Rates are indexed as in the authors' arrays:
/// index K = 1 … n_steps + 1, r(1) = 0, r(K) = G(h at the start of step K − 1).
///
/// Three levels:
///  - `simulate_inagaki2019_trial_generic`: the straightforward composition of library parts
///    (PopulationModel + Euler + simulate() + input schedule + Photoinhibition hook);
///  - `Inagaki2019Simulator`: the same trial with a fixed-size 4-population state, no
///    allocation, vectorised transfer function and the ziggurat normal generator;
///  - `run_inagaki2019_task`: PV levels × trial types × N trials in parallel (deterministic on
///    any thread count), classification, fraction correct, coding direction and normalised
///    CD endpoints, and CD projections over time (mean ± sd per condition).
///
/// \code
/// auto preset = neurodyn::inagaki2019_preset("one_hemi_multi_fp_step");
/// neurodyn::Inagaki2019TaskOptions opt;
/// opt.trials_per_type = 500;
/// opt.side = neurodyn::PhotoinhibitionSide::bilateral;
/// auto res = neurodyn::run_inagaki2019_task(preset, opt);
/// double unperturbed = res.fraction_correct(0);     // ≈ 0.88
/// \endcode
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/inputs/pulses.hpp"
#include "neurodyn/inputs/ramp.hpp"
#include "neurodyn/integrate/euler.hpp"
#include "neurodyn/integrate/simulate.hpp"
#include "neurodyn/models/inagaki2019.hpp"
#include "neurodyn/parallel/ensemble.hpp"
#include "neurodyn/perturb/photoinhibition.hpp"

namespace neurodyn {

/// Right ("contra") trials stimulate populations 1 and 3; left ("ipsi") trials 2 and 4.
enum class TrialType { right = 0, left = 1 };

inline std::string_view to_string(TrialType t) noexcept { return t == TrialType::right ? "right" : "left"; }

/// Purposes of a trial's random streams: Rng(seed, trial, purpose).
enum class Inagaki2019Stream : std::uint64_t { noise = 0, stimulus = 1 };

/// The input schedule of one trial for simulate(): stimulus box × amplitude, ramp, and the
/// authors' per-step noise σ·ξ (drawn from `noise`, 4 normal_fast() per step in population
/// order — the same draws as Inagaki2019Simulator, so both paths give the same trial).
template <Real T = double>
class Inagaki2019Input {
public:
    Inagaki2019Input(const Inagaki2019Preset& p, TrialType type, double stim_amp, Rng* noise)
        : stim_(p.stim_start, p.stim_end, p.tau_ext), ramp_{p.ramp_start, p.ramp_ms, p.ramp_amp},
          sigma_(p.sigma_noise), noise_(noise) {
        p.validate();
        require_finite("stim_amp", stim_amp);
        const bool right = type == TrialType::right;
        stim_mask_ << T(right), T(!right), T(right), T(!right);
        stim_mask_ *= T(stim_amp);
        ramp_mask_.setOnes();
        if (p.withhold_ramp) ramp_mask_[right ? 1 : 0] = T(0);
    }

    void operator()(double t, Vector<T>& u) {
        u.resize(4);
        if (noise_ && sigma_ > 0)
            for (index_t i = 0; i < 4; ++i) u[i] = T(sigma_) * noise_->normal_fast<T>();
        else
            u.setZero();
        u += T(stim_(t)) * stim_mask_ + T(ramp_(t)) * ramp_mask_;
    }

private:
    BoxPulse stim_;
    Ramp ramp_;
    double sigma_;
    Rng* noise_;
    FixedVector<T, 4> stim_mask_, ramp_mask_;
};

namespace detail {
/// Records the authors' lagged rate array: row K−1 holds r(K), K = 1 … n+1.
template <class M>
struct LaggedRates {
    using T = typename M::scalar_type;
    const M* model;
    Matrix<T>* out;
    void begin(const Vector<T>& h0) {
        out->row(0).setZero();
        if (out->rows() > 1) out->row(1) = model->rates(h0).transpose();
        k = 2;
    }
    void on_step(double, Vector<T>& h) {
        if (k < out->rows()) out->row(k) = model->rates(h).transpose();
        ++k;
    }
    index_t k = 2;
};
}  // namespace detail

/// One trial by the straightforward route: make_inagaki2019_model() + Euler + simulate() with
/// an Inagaki2019Input and a Photoinhibition hook. Returns the (n_steps + 1) × 4 rate array in
/// the authors' indexing (row K − 1 = r(K)). `noise` = nullptr gives the noise-free trial.
/// \code
/// Matrix<double> r = neurodyn::simulate_inagaki2019_trial_generic<double>(
///     preset, neurodyn::TrialType::right, /*pv=*/2.0, neurodyn::PhotoinhibitionSide::bilateral,
///     preset.stim_amp, nullptr);
/// \endcode
template <Real T = double>
Matrix<T> simulate_inagaki2019_trial_generic(const Inagaki2019Preset& p, TrialType type, double pv,
                                             PhotoinhibitionSide side, double stim_amp, Rng* noise,
                                             long trial_index = 0) {
    const auto model = make_inagaki2019_model<T>(p);
    Euler<T> euler;
    Vector<T> h = Vector<T>::Constant(4, T(p.h0));
    Inagaki2019Input<T> input(p, type, stim_amp, noise);
    // The authors' box is on steps whose start time lies in [pv_start, pv_end).
    Photoinhibition<T> light(inagaki2019_photoinhibition_drive<T>(p), inagaki2019_hemispheres(), side, pv, p.pv_start,
                             p.pv_end);
    Matrix<T> r(p.n_steps + 1, 4);
    detail::LaggedRates<decltype(model)> rec{&model, &r};
    rec.begin(h);
    if (p.tau_ext > 0) {
        // Smoothed light: add the pulse shape instead of the sharp window.
        const BoxPulse pulse(p.pv_start, p.pv_end, p.tau_ext);
        const Vector<T> change = Photoinhibition<T>(inagaki2019_photoinhibition_drive<T>(p),
                                                    inagaki2019_hemispheres(), side, pv, 0.0, 0.0)
                                     .input_change();
        auto smooth_light = [&](double t, Vector<T>& u) {
            input(t, u);
            u += T(pulse(t)) * change;
        };
        simulate(Trial{trial_index, 0}, model, euler, h, TimeGrid(p.dt, p.n_steps), smooth_light, rec);
    } else {
        simulate(Trial{trial_index, 0}, model, euler, h, TimeGrid(p.dt, p.n_steps), input, light, rec);
    }
    return r;
}

/// What distinguishes one trial from another: type, photoinhibition strength, stimulus amplitude.
struct Inagaki2019TrialSpec {
    TrialType type = TrialType::right;
    double pv = 0;        ///< photoinhibition strength (0: unperturbed)
    double stim_amp = 0;  ///< this trial's stimulus amplitude
};

/// Fast simulator of Inagaki 2019 trials for one preset and photoinhibition side.
/// Fixed-size state, per-step input waveforms precomputed once (shared read-only between
/// threads), nothing allocated per trial; thread-safe (run() is const). `run_lanes<B>` advances
/// B trials together as the columns of 4×B arrays: one trial's step is a latency-bound chain
/// (exp → log → division → mat-vec), B independent chains keep the vector units busy. Each
/// lane draws from its own trial's stream, so a trial's numbers do not depend on its lane.
template <Real T = double>
class Inagaki2019Simulator {
public:
    template <int B>
    using Lanes = Eigen::Array<T, 4, B>;
    using Array4 = Lanes<1>;
    using Matrix4 = Eigen::Matrix<T, 4, 4>;

    Inagaki2019Simulator(const Inagaki2019Preset& p, PhotoinhibitionSide side) : p_(p), side_(side) {
        p.validate();
        W_ = inagaki2019_weights<T>(p);
        I0_ = inagaki2019_inputs<T>(p).array();
        light_drive_ =
            Photoinhibition<T>(inagaki2019_photoinhibition_drive<T>(p), inagaki2019_hemispheres(), side, 1.0, 0.0, 0.0)
                .input_change()
                .array();
        const BoxPulse stim(p.stim_start, p.stim_end, p.tau_ext), light(p.pv_start, p.pv_end, p.tau_ext);
        const Ramp ramp{p.ramp_start, p.ramp_ms, p.ramp_amp};
        const TimeGrid grid(p.dt, p.n_steps);
        stim_.resize(std::size_t(p.n_steps));
        light_.resize(std::size_t(p.n_steps));
        ramp_.resize(std::size_t(p.n_steps));
        for (long i = 0; i < p.n_steps; ++i) {
            const double t = grid.time(i);
            stim_[std::size_t(i)] = T(stim(t));
            light_[std::size_t(i)] = T(light(t));
            ramp_[std::size_t(i)] = T(ramp(t));
        }
    }

    const Inagaki2019Preset& preset() const noexcept { return p_; }
    PhotoinhibitionSide side() const noexcept { return side_; }
    long n_steps() const noexcept { return p_.n_steps; }

    /// Run B trials together. `observe(K, r)` is called for K = 2 … n_steps + 1 with the
    /// authors' rates r(K) as a 4×B array (column b = trial b; r(1) = 0 is not reported).
    /// noise[b] = nullptr: lane b is noise-free. Throws numerical_error (step, trial
    /// first_trial + b) if a current becomes non-finite.
    template <int B, class Observer>
    void run_lanes(const std::array<Inagaki2019TrialSpec, B>& spec, const std::array<Rng*, B>& noise,
                   Observer&& observe, long first_trial = 0) const {
        Lanes<B> stim_vec, ramp_mask = Lanes<B>::Ones(), light;
        for (int b = 0; b < B; ++b) {
            const auto& s = spec[std::size_t(b)];
            require(std::isfinite(s.pv) && s.pv >= 0, "pv", s.pv, "must be finite and >= 0");
            require_finite("stim_amp", s.stim_amp);
            const bool right = s.type == TrialType::right;
            stim_vec.col(b) << T(right), T(!right), T(right), T(!right);
            stim_vec.col(b) *= T(s.stim_amp);
            if (p_.withhold_ramp) ramp_mask(right ? 1 : 0, b) = T(0);
            light.col(b) = T(s.pv) * light_drive_;
        }
        bool any_noise = false;
        for (int b = 0; b < B; ++b) any_noise = any_noise || noise[std::size_t(b)] != nullptr;
        if (any_noise && p_.sigma_noise > 0)
            loop<true, B>(stim_vec, ramp_mask, light, noise, observe, first_trial);
        else
            loop<false, B>(stim_vec, ramp_mask, light, noise, observe, first_trial);
    }

    /// Run one trial; `observe(K, r)` receives an Array4.
    template <class Observer>
    void run(const Inagaki2019TrialSpec& spec, Rng* noise, Observer&& observe, long trial_index = 0) const {
        run_lanes<1>({spec}, {noise}, observe, trial_index);
    }

    /// The whole (n_steps + 1) × 4 rate array of one trial (row K − 1 = r(K)), as
    /// simulate_inagaki2019_trial_generic returns it.
    Matrix<T> rates(const Inagaki2019TrialSpec& spec, Rng* noise, long trial_index = 0) const {
        Matrix<T> r = Matrix<T>::Zero(p_.n_steps + 1, 4);
        run(spec, noise, [&](long K, const Array4& rk) { r.row(K - 1) = rk.matrix().transpose(); }, trial_index);
        return r;
    }

private:
    template <bool Noisy, int B, class Observer>
    void loop(const Lanes<B>& stim_vec, const Lanes<B>& ramp_mask, const Lanes<B>& light,
              const std::array<Rng*, B>& noise, Observer& observe, long first_trial) const {
        const T alpha = T(p_.alpha), inv_alpha = T(1) / alpha, U = T(p_.U), tf = T(p_.tau_f), tD = T(p_.tau_D);
        const T a1 = U * tf, a2 = U * tD * tf, a3 = U * (tD + tf);
        const T tau = T(p_.tau), dt = T(p_.dt), sigma = T(p_.sigma_noise);
        Lanes<B> h = Lanes<B>::Constant(T(p_.h0));
        Lanes<B> base;
        for (int b = 0; b < B; ++b) base.col(b) = I0_;
        for (long i = 0; i < p_.n_steps; ++i) {
            const auto si = std::size_t(i);
            // y = α log(1 + e^{h/α}) as α(max(x,0) + log1p(e^{−|x|})); log1p by Kahan's
            // log(u)·z/(u − 1): accurate to a few ulp and vectorisable.
            const Lanes<B> x = h * inv_alpha;
            const Lanes<B> z = (-x.abs()).exp();
            const Lanes<B> u = T(1) + z;
            const Lanes<B> l = (u == T(1)).select(z, u.log() * z / (u - T(1)));
            const Lanes<B> y = alpha * (x.max(T(0)) + l);
            const Lanes<B> r = (U + y * a1) / (T(1) + y * y * a2 + y * a3) * y;
            Lanes<B> in = (W_ * r.matrix()).array() + (base + light_[si] * light);
            if constexpr (Noisy) {
                Lanes<B> xi;  // column-major: lane b's four draws are contiguous
                for (int b = 0; b < B; ++b) {
                    if (Rng* g = noise[std::size_t(b)])
                        g->normal_fast(&xi(0, b), 4);
                    else
                        xi.col(b).setZero();
                }
                in += sigma * xi;
            }
            in += stim_[si] * stim_vec + ramp_[si] * ramp_mask;
            h += (in - h) / tau * dt;
            if (!h.isFinite().all()) {
                int b = 0;
                while (b < B - 1 && h.col(b).isFinite().all()) ++b;
                throw numerical_error("non-finite current h", i, first_trial + b);
            }
            observe(i + 2, r);
        }
    }

    Inagaki2019Preset p_;
    PhotoinhibitionSide side_;
    Matrix4 W_;
    Array4 I0_, light_drive_;
    std::vector<T> stim_, light_, ramp_;
};

/// Options of run_inagaki2019_task.
struct Inagaki2019TaskOptions {
    long trials_per_type = 500;           ///< N trials per trial type and PV level
    std::uint64_t seed = 1;
    PhotoinhibitionSide side = PhotoinhibitionSide::bilateral;
    std::vector<double> pv_levels = {};   ///< empty: the preset's; must contain 0
    int threads = 0;                      ///< 0: OpenMP default
    long record_every = 10;               ///< CD projections every this many ms (rate indices 1, 1+e, …)
    bool record_projections = true;       ///< accumulate CD projections over time
    bool keep_trials = true;              ///< keep per-trial endpoints (endpoints.csv)
    std::size_t batch = 256;              ///< trials in flight (bounds memory)
    std::function<void(long, long)> progress = {};
};

/// One trial's outcome.
struct Inagaki2019Trial {
    int pv_index = 0;
    TrialType type = TrialType::right;
    long trial = 0;                       ///< index within (pv, type)
    bool correct = false;
    double stim_amp = 0;
    std::array<double, 2> end{};          ///< (r1, r2) at the end of the delay (rate index delay_end_index)
    std::array<double, 2> window{};       ///< (r1, r2) averaged over the CD window
    double endpoint = 0;                  ///< normalised CD projection of `end`
    double endpoint_window = 0;           ///< normalised CD projection of `window` (the authors' endpoint)
};

/// Mean and sd over trials of the normalised CD projection, at the record times.
struct Inagaki2019Projection {
    long n = 0;
    std::vector<double> mean, sd;
};

/// Add one trial's recorded (r₁, r₂) pairs (2 numbers per record) to the per-record sums of
/// (r₁, r₂, r₁², r₂², r₁r₂) that summarise_projections reads.
inline void accumulate_moments(std::vector<double>& sums, const double* r, long n_rec) {
    double* m = sums.data();
    for (long j = 0; j < n_rec; ++j) {
        const double a = r[2 * j], b = r[2 * j + 1];
        m[5 * j] += a;
        m[5 * j + 1] += b;
        m[5 * j + 2] += a * a;
        m[5 * j + 3] += b * b;
        m[5 * j + 4] += a * b;
    }
}

/// Mean ± sd over time of the normalised CD projection of each trial group, from per-record
/// sums over the group's trials of (r₁, r₂, r₁², r₂², r₁r₂) (5 numbers per record):
/// mean = CD·E[r], var = CDᵀ Cov(r) CD, then the affine normalisation (x − offset)/scale.
/// Shared by the discrete and the continuous attractor protocols.
inline std::vector<Inagaki2019Projection> summarise_projections(const std::vector<std::vector<double>>& moments,
                                                                const std::vector<long>& group_n, long n_rec,
                                                                double c1, double c2, double offset, double scale) {
    std::vector<Inagaki2019Projection> out(moments.size());
    for (std::size_t gi = 0; gi < moments.size(); ++gi) {
        auto& pr = out[gi];
        pr.n = group_n[gi];
        if (n_rec == 0 || pr.n == 0) continue;
        pr.mean.resize(std::size_t(n_rec));
        pr.sd.resize(std::size_t(n_rec));
        const double n = double(pr.n);
        for (long j = 0; j < n_rec; ++j) {
            const double* m = &moments[gi][std::size_t(5 * j)];
            const double m1 = m[0] / n, m2 = m[1] / n;
            double var = 0;
            if (pr.n > 1) {
                const double v11 = (m[2] - n * m1 * m1) / (n - 1), v22 = (m[3] - n * m2 * m2) / (n - 1),
                             v12 = (m[4] - n * m1 * m2) / (n - 1);
                var = std::max(0.0, c1 * c1 * v11 + c2 * c2 * v22 + 2 * c1 * c2 * v12);
            }
            pr.mean[std::size_t(j)] = (c1 * m1 + c2 * m2 - offset) / scale;
            pr.sd[std::size_t(j)] = std::sqrt(var) / std::abs(scale);
        }
    }
    return out;
}

struct Inagaki2019TaskResult {
    Inagaki2019Preset preset;
    PhotoinhibitionSide side = PhotoinhibitionSide::bilateral;
    std::vector<double> pv_levels;
    long trials_per_type = 0;
    std::uint64_t seed = 0;
    std::vector<long> n_correct;                    ///< [pv_index·2 + type]
    std::vector<Inagaki2019Trial> trials;           ///< when keep_trials
    Vector<double> coding_direction;                ///< unit vector over (r1, r2)
    double offset = 0, scale = 1;                   ///< normalised = (CD·r − offset)/scale
    std::vector<double> time_ms;                    ///< record times: authors' t = K − 1 ms
    std::vector<Inagaki2019Projection> projections; ///< [(pv_index·2 + type)·2 + (correct ? 0 : 1)]

    long correct(std::size_t pv_index, TrialType t) const { return n_correct.at(pv_index * 2 + std::size_t(t)); }
    double fraction_correct(std::size_t pv_index, TrialType t) const {
        return double(correct(pv_index, t)) / double(trials_per_type);
    }
    /// Both trial types together.
    double fraction_correct(std::size_t pv_index) const {
        return double(correct(pv_index, TrialType::right) + correct(pv_index, TrialType::left)) /
               double(2 * trials_per_type);
    }
    const Inagaki2019Projection& projection(std::size_t pv_index, TrialType t, bool correct_trials) const {
        return projections.at((pv_index * 2 + std::size_t(t)) * 2 + (correct_trials ? 0 : 1));
    }
    /// Normalised projection of a rate pair onto the CD.
    double normalise(double r1, double r2) const {
        return (coding_direction[0] * r1 + coding_direction[1] * r2 - offset) / scale;
    }
};

/// Run the task: for every PV level and trial type, N trials; classify each (right: r1 > r2 at
/// the end of the delay; left: r1 < r2); the coding direction from unperturbed correct trials
/// (CD = mean over the last 400 ms of the delay of r̄_R − r̄_L over populations 1, 2, as in the
/// authors' analysis, unit length); endpoints normalised so that the median window endpoint of
/// unperturbed correct right trials is 1 and left is 0. Trial k of (pv index p, type y) has
/// global index g = (p·2 + y)·N + k and streams Rng(seed, g, noise/stimulus).
inline Inagaki2019TaskResult run_inagaki2019_task(const Inagaki2019Preset& preset,
                                                  const Inagaki2019TaskOptions& opt = {}) {
    preset.validate();
    require(opt.trials_per_type >= 1, "trials_per_type", opt.trials_per_type, "must be >= 1");
    require(opt.record_every >= 1, "record_every", opt.record_every, "must be >= 1");
    require(opt.batch >= 1, "batch", opt.batch, "must be >= 1");
    Inagaki2019TaskResult res;
    res.preset = preset;
    res.side = opt.side;
    res.pv_levels = opt.pv_levels.empty() ? preset.pv_levels : opt.pv_levels;
    res.trials_per_type = opt.trials_per_type;
    res.seed = opt.seed;
    std::size_t p0 = res.pv_levels.size();
    for (std::size_t p = 0; p < res.pv_levels.size(); ++p) {
        require(std::isfinite(res.pv_levels[p]) && res.pv_levels[p] >= 0, "pv_levels", res.pv_levels[p],
                "must be finite and >= 0");
        if (res.pv_levels[p] == 0 && p0 == res.pv_levels.size()) p0 = p;
    }
    require(p0 < res.pv_levels.size(), "pv_levels", "no 0 level",
            "must include 0: unperturbed trials define the coding direction");

    const std::size_t n_pv = res.pv_levels.size();
    const Inagaki2019Simulator<double> sim(preset, opt.side);

    const long N = opt.trials_per_type;
    const long n_total = long(n_pv) * 2 * N;
    const long e = opt.record_every;
    const long n_rec = opt.record_projections ? preset.n_steps / e + 1 : 0;  // indices K = 1 + j·e <= n_steps + 1
    const long K_end = preset.delay_end_index, K_w0 = K_end - preset.cd_window;
    const StimulusAmplitude amplitude{preset.stim_amp, preset.stim_sigma};

    // Trials run in groups of L consecutive global indices, the lanes of one kernel call.
    // Grouping depends only on the trial index, never on the thread count.
    constexpr int L = 8;
    const long n_groups = (n_total + L - 1) / L;
    const std::size_t group_batch = std::max<std::size_t>(1, opt.batch / L);
    struct Slot {
        std::array<std::vector<double>, L> traj;  // n_rec × 2 per lane
        std::array<Inagaki2019Trial, L> t;
    };
    std::vector<Slot> slots(group_batch);
    for (auto& s : slots)
        for (auto& tr : s.traj) tr.assign(std::size_t(2 * n_rec), 0.0);

    // Per (pv, type, outcome): Σr1, Σr2, Σr1², Σr2², Σr1r2 at each record time.
    std::vector<std::vector<double>> moments(n_pv * 4, std::vector<double>(std::size_t(5 * n_rec), 0.0));
    std::vector<long> group_n(n_pv * 4, 0);
    res.n_correct.assign(n_pv * 2, 0);
    std::array<std::array<double, 2>, 2> unperturbed_window_sum{};
    std::array<long, 2> unperturbed_correct{0, 0};
    if (opt.keep_trials) res.trials.reserve(std::size_t(n_total));
    // Unperturbed correct endpoints (window means) are needed for the median normalisation.
    std::array<std::vector<std::array<double, 2>>, 2> unperturbed_windows;

    auto simulate_group = [&](long group, std::size_t slot) {
        Slot& s = slots[slot];
        std::array<Inagaki2019TrialSpec, L> spec;
        std::array<Rng, L> noise;
        std::array<Rng*, L> noise_ptr;
        std::array<double, L> w1{}, w2{};
        std::array<double*, L> traj;
        for (int b = 0; b < L; ++b) {
            // Lanes past the last trial repeat it and are discarded.
            const long g = std::min(group * L + b, n_total - 1);
            const long cell = g / N;
            Inagaki2019Trial& t = s.t[std::size_t(b)];
            t = Inagaki2019Trial{};
            t.pv_index = int(cell / 2);
            t.type = TrialType(cell % 2);
            t.trial = g % N;
            Rng stim = trial_rng(opt.seed, g, std::uint64_t(Inagaki2019Stream::stimulus));
            t.stim_amp = amplitude.draw(stim);
            noise[std::size_t(b)] = trial_rng(opt.seed, g, std::uint64_t(Inagaki2019Stream::noise));
            noise_ptr[std::size_t(b)] = &noise[std::size_t(b)];
            spec[std::size_t(b)] = {t.type, res.pv_levels[std::size_t(t.pv_index)], t.stim_amp};
            traj[std::size_t(b)] = s.traj[std::size_t(b)].data();
        }
        sim.run_lanes<L>(
            spec, noise_ptr,
            [&](long K, const Eigen::Array<double, 4, L>& r) {
                if (n_rec > 0 && (K - 1) % e == 0) {
                    const long j = (K - 1) / e;
                    for (int b = 0; b < L; ++b) {
                        traj[std::size_t(b)][2 * j] = r(0, b);
                        traj[std::size_t(b)][2 * j + 1] = r(1, b);
                    }
                }
                if (K >= K_w0 && K <= K_end) {
                    for (int b = 0; b < L; ++b) {
                        w1[std::size_t(b)] += r(0, b);
                        w2[std::size_t(b)] += r(1, b);
                    }
                    if (K == K_end)
                        for (int b = 0; b < L; ++b) s.t[std::size_t(b)].end = {r(0, b), r(1, b)};
                }
            },
            group * L);
        const double nw = double(K_end - K_w0 + 1);
        for (int b = 0; b < L; ++b) {
            Inagaki2019Trial& t = s.t[std::size_t(b)];
            if (n_rec > 0) traj[std::size_t(b)][0] = traj[std::size_t(b)][1] = 0.0;  // r(1) = 0
            t.window = {w1[std::size_t(b)] / nw, w2[std::size_t(b)] / nw};
            t.correct = t.type == TrialType::right ? t.end[0] > t.end[1] : t.end[0] < t.end[1];
        }
    };

    auto reduce_group = [&](long group, std::size_t slot) {
        const Slot& s = slots[slot];
        for (int b = 0; b < L && group * L + b < n_total; ++b) {
            const Inagaki2019Trial& t = s.t[std::size_t(b)];
            const auto p = std::size_t(t.pv_index);
            const auto y = std::size_t(t.type);
            if (t.correct) ++res.n_correct[p * 2 + y];
            if (p == p0 && t.correct) {
                unperturbed_window_sum[y][0] += t.window[0];
                unperturbed_window_sum[y][1] += t.window[1];
                ++unperturbed_correct[y];
                unperturbed_windows[y].push_back(t.window);
            }
            const std::size_t gi = (p * 2 + y) * 2 + (t.correct ? 0 : 1);
            ++group_n[gi];
            accumulate_moments(moments[gi], s.traj[std::size_t(b)].data(), n_rec);
            if (opt.keep_trials) res.trials.push_back(t);
        }
    };

    EnsembleOptions eo;
    eo.threads = opt.threads;
    if (opt.progress) eo.progress = [&](long done, long) { opt.progress(std::min(done * L, n_total), n_total); };
    for_each_trial(n_groups, group_batch, simulate_group, reduce_group, eo);

    // Coding direction from unperturbed correct trials, normalised by the medians.
    if (unperturbed_correct[0] == 0 || unperturbed_correct[1] == 0)
        throw numerical_error("no correct unperturbed " + std::string(unperturbed_correct[0] == 0 ? "right" : "left") +
                                  " trial: the coding direction is undefined",
                              K_end - 1, -1);
    Vector<double> d(2);
    for (int i = 0; i < 2; ++i)
        d[i] = unperturbed_window_sum[0][std::size_t(i)] / double(unperturbed_correct[0]) -
               unperturbed_window_sum[1][std::size_t(i)] / double(unperturbed_correct[1]);
    auto cd = CodingDirection<double>::from_weights(d, StepRange{K_w0 - 1, K_end});
    res.coding_direction = cd.weights();
    std::array<Vector<double>, 2> raw;
    for (int y = 0; y < 2; ++y) {
        raw[std::size_t(y)].resize(index_t(unperturbed_windows[std::size_t(y)].size()));
        for (std::size_t k = 0; k < unperturbed_windows[std::size_t(y)].size(); ++k)
            raw[std::size_t(y)][index_t(k)] = res.coding_direction[0] * unperturbed_windows[std::size_t(y)][k][0] +
                                               res.coding_direction[1] * unperturbed_windows[std::size_t(y)][k][1];
    }
    cd.normalise(raw[0], raw[1]);
    res.offset = cd.offset();
    res.scale = cd.scale();
    for (auto& t : res.trials) {
        t.endpoint = res.normalise(t.end[0], t.end[1]);
        t.endpoint_window = res.normalise(t.window[0], t.window[1]);
    }

    // Projections: mean = CD·E[r], var = CDᵀ Cov(r) CD, then the affine normalisation.
    res.time_ms.resize(std::size_t(n_rec));
    for (long j = 0; j < n_rec; ++j) res.time_ms[std::size_t(j)] = double(j * e) * preset.dt;
    res.projections = summarise_projections(moments, group_n, n_rec, res.coding_direction[0],
                                            res.coding_direction[1], res.offset, res.scale);
    return res;
}

}  // namespace neurodyn
