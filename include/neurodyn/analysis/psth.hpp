#pragma once
/// \file psth.hpp
/// Peri-stimulus time histograms: spike times → counts in the session's bins (the PSTH axis
/// of the file, 1 ms in the ALM data) → rate in Hz → boxcar smoothing over 101 ms whose
/// window shrinks symmetrically at the edges (what MATLAB's `smooth(x, 101)` does, the
/// smoothing of the original analysis).
///
/// \code
/// auto trials = session.trials_where(neurodyn::TrialFilter::analysed);
/// neurodyn::PsthOptions opt;  opt.stride = 10;           // keep every 10th 1-ms bin
/// xt::xtensor<float, 3> r = neurodyn::psth_tensor<float>(session, trials, opt);  // trials × units × time
/// std::vector<double> t = neurodyn::psth_times(session, opt);                     // s
/// \endcode
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"
#include "neurodyn/data/session.hpp"

namespace neurodyn {

/// How spike trains become rates.
struct PsthOptions {
    double window_ms = 101.0;   ///< boxcar width; rounded to an odd number of bins
    std::ptrdiff_t stride = 1;  ///< keep every stride-th bin of the smoothed rate (decimation)
    /// Shift each trial by (median cue − its cue), so the go cue falls on the same bin in
    /// every trial; the windows "before the go cue" are then common to all trials.
    bool align_to_cue = true;
};

/// Moving average over `window` (odd) points whose half-width shrinks at the edges so it
/// stays centred: out[i] = mean(in[i−k … i+k]), k = min((window−1)/2, i, n−1−i).
/// Writes every `stride`-th point: out.size() must be ceil(n / stride).
/// \code
/// std::vector<double> x{1, 2, 3, 4, 5}, y(5);
/// neurodyn::boxcar_smooth<double>(x, y, 3);   // {1, 2, 3, 4, 5}
/// \endcode
template <Real T, class In>
void boxcar_smooth(std::span<const In> in, std::span<T> out, std::ptrdiff_t window, std::ptrdiff_t stride = 1) {
    require(window >= 1 && window % 2 == 1, "window", window, "must be an odd number of points >= 1");
    require(stride >= 1, "stride", stride, "must be >= 1");
    const auto n = std::ptrdiff_t(in.size());
    require_size("boxcar_smooth output", std::ptrdiff_t(out.size()), (n + stride - 1) / stride);
    // Prefix sums in double: counts and rates are summed exactly enough in any case.
    thread_local std::vector<double> cum;
    cum.resize(std::size_t(n) + 1);
    cum[0] = 0;
    for (std::ptrdiff_t i = 0; i < n; ++i) cum[std::size_t(i) + 1] = cum[std::size_t(i)] + double(in[std::size_t(i)]);
    const std::ptrdiff_t half = (window - 1) / 2;
    for (std::ptrdiff_t i = 0, j = 0; i < n; i += stride, ++j) {
        const std::ptrdiff_t k = std::min({half, i, n - 1 - i});
        out[std::size_t(j)] = T((cum[std::size_t(i + k + 1)] - cum[std::size_t(i - k)]) / double(2 * k + 1));
    }
}

/// The binning of a session: uniform bins from `Session::t_axis` (edges, s), the smoothing
/// window in bins and the decimated output samples.
class PsthGrid {
public:
    /// \code
    /// neurodyn::PsthGrid grid(session, {});   // 1-ms bins, 101-bin window
    /// \endcode
    PsthGrid(const Session& s, const PsthOptions& opt) : opt_(opt) {
        const auto& e = s.t_axis;
        require(e.size() >= 2, "session '" + s.source + "' t_axis", e.size(), "needs at least 2 bin edges");
        e0_ = e.front();
        n_ = std::ptrdiff_t(e.size()) - 1;
        width_ = (e.back() - e.front()) / double(n_);
        for (std::size_t i = 1; i < e.size(); ++i)
            require(std::abs(e[i] - e[i - 1] - width_) <= 1e-3 * width_, "session '" + s.source + "' t_axis",
                    e[i] - e[i - 1], "bins must be uniform (width " + detail::to_text(width_) + " s)");
        require_positive("window_ms", opt.window_ms);
        require(opt.stride >= 1, "stride", opt.stride, "must be >= 1");
        window_ = std::max<std::ptrdiff_t>(1, std::ptrdiff_t(std::lround(opt.window_ms * 1e-3 / width_)));
        if (window_ % 2 == 0) ++window_;  // centred windows need an odd width
        cue_ = opt.align_to_cue ? s.median_cue() : 0.0;
    }

    std::ptrdiff_t n_bins() const noexcept { return n_; }
    std::ptrdiff_t n_out() const noexcept { return (n_ + opt_.stride - 1) / opt_.stride; }
    double bin_width() const noexcept { return width_; }
    std::ptrdiff_t window_bins() const noexcept { return window_; }
    std::ptrdiff_t stride() const noexcept { return opt_.stride; }
    /// Time (s) of output sample j: the centre of bin j·stride.
    double time(std::ptrdiff_t j) const noexcept { return e0_ + (double(j * opt_.stride) + 0.5) * width_; }
    /// First output sample whose time is >= t (clamped to [0, n_out]).
    std::ptrdiff_t index_at(double t) const noexcept {
        const double x = ((t - e0_) / width_ - 0.5) / double(opt_.stride);
        return std::clamp<std::ptrdiff_t>(std::ptrdiff_t(std::ceil(x - 1e-9)), 0, n_out());
    }
    /// Shift (s) added to the spike times of a trial.
    double shift(const SessionTrial& t) const noexcept { return opt_.align_to_cue ? cue_ - t.cue_start : 0.0; }
    /// The go cue on the (aligned) time axis, s.
    double aligned_cue() const noexcept { return cue_; }

    /// Add the spike counts of `spikes` (s, shifted by `shift`) to `counts` (size n_bins()).
    void add_counts(std::span<const double> spikes, double shift, std::span<double> counts) const {
        for (double t : spikes) {
            const double x = std::floor((t + shift - e0_) / width_);
            if (x >= 0 && x < double(n_)) counts[std::size_t(x)] += 1.0;
        }
    }

private:
    PsthOptions opt_;
    double e0_ = 0, width_ = 0, cue_ = 0;
    std::ptrdiff_t n_ = 0, window_ = 1;
};

/// Times (s) of the samples `psth_tensor` returns: bin centres, every stride-th bin.
inline std::vector<double> psth_times(const Session& s, const PsthOptions& opt = {}) {
    const PsthGrid g(s, opt);
    std::vector<double> t(std::size_t(g.n_out()));
    for (std::ptrdiff_t j = 0; j < g.n_out(); ++j) t[std::size_t(j)] = g.time(j);
    return t;
}

/// Smoothed single-trial rates (Hz) of every unit: a (trials, units, time) tensor.
/// Memory is trials × units × n_bins/stride; use `stride` for long sessions.
/// \code
/// auto r = neurodyn::psth_tensor<double>(session, {0, 1, 2});   // r(1, 5, 2000): trial 1, unit 5, bin 2000
/// \endcode
template <Real T>
xt::xtensor<T, 3> psth_tensor(const Session& s, std::span<const std::size_t> trials, const PsthOptions& opt = {}) {
    const PsthGrid g(s, opt);
    const std::size_t nu = s.n_units(), nb = std::size_t(g.n_bins()), no = std::size_t(g.n_out());
    xt::xtensor<T, 3> out = xt::zeros<T>({trials.size(), nu, no});
    std::vector<double> counts(nb);
    const double hz = 1.0 / g.bin_width();
    for (std::size_t a = 0; a < trials.size(); ++a) {
        require(trials[a] < s.n_trials(), "trials", trials[a], "must be < n_trials = " + std::to_string(s.n_trials()));
        const double shift = g.shift(s.trials[trials[a]]);
        for (std::size_t u = 0; u < nu; ++u) {
            std::fill(counts.begin(), counts.end(), 0.0);
            g.add_counts(s.units[u].spikes(trials[a]), shift, counts);
            for (double& c : counts) c *= hz;
            boxcar_smooth<T, double>(counts, std::span<T>(&out(a, u, 0), no), g.window_bins(), g.stride());
        }
    }
    return out;
}

/// Trial-averaged smoothed rates (Hz): a (groups, units, time) tensor, one row per trial
/// group. Smoothing is linear, so the counts are averaged first and smoothed once.
/// \code
/// auto R = neurodyn::trial_average_psth<double>(session,
///     {session.trials_where(neurodyn::TrialFilter::correct_right),
///      session.trials_where(neurodyn::TrialFilter::correct_left)});
/// \endcode
template <Real T>
xt::xtensor<T, 3> trial_average_psth(const Session& s, const std::vector<std::vector<std::size_t>>& groups,
                                     const PsthOptions& opt = {}) {
    const PsthGrid g(s, opt);
    const std::size_t nu = s.n_units(), nb = std::size_t(g.n_bins()), no = std::size_t(g.n_out());
    xt::xtensor<T, 3> out = xt::zeros<T>({groups.size(), nu, no});
    std::vector<double> counts(nb);
    for (std::size_t c = 0; c < groups.size(); ++c) {
        require(!groups[c].empty(), "trial group " + std::to_string(c), "empty", "needs at least one trial");
        const double scale = 1.0 / (g.bin_width() * double(groups[c].size()));
        for (std::size_t u = 0; u < nu; ++u) {
            std::fill(counts.begin(), counts.end(), 0.0);
            for (std::size_t k : groups[c]) {
                require(k < s.n_trials(), "trials", k, "must be < n_trials = " + std::to_string(s.n_trials()));
                g.add_counts(s.units[u].spikes(k), g.shift(s.trials[k]), counts);
            }
            for (double& x : counts) x *= scale;
            boxcar_smooth<T, double>(counts, std::span<T>(&out(c, u, 0), no), g.window_bins(), g.stride());
        }
    }
    return out;
}

/// Mean rate (Hz) of every unit in a per-trial window [begin, end) (s from trial start):
/// a trials × units matrix. `window(const SessionTrial&)` returns the pair {begin, end}.
/// Spike counts are used directly (no smoothing), so epoch boundaries are exact. The window's
/// length is rounded to 1 ns before dividing: end − begin of equally long windows differs by a
/// few ulps between trials whose events sit at different times (a 2 s delay gives
/// 2 ± 4e-16 s), and equal counts must give equal rates, which the rank-sum test counts as ties.
/// \code
/// auto delay = neurodyn::window_rates<double>(session, trials,
///     [](const neurodyn::SessionTrial& t) { return std::pair{t.delay_start, t.cue_start}; });
/// \endcode
template <Real T, class Window>
Matrix<T> window_rates(const Session& s, std::span<const std::size_t> trials, Window&& window) {
    Matrix<T> out(index_t(trials.size()), index_t(s.n_units()));
    for (std::size_t a = 0; a < trials.size(); ++a) {
        require(trials[a] < s.n_trials(), "trials", trials[a], "must be < n_trials = " + std::to_string(s.n_trials()));
        const auto [b, e] = window(s.trials[trials[a]]);
        const double length = std::round((e - b) * 1e9) / 1e9;
        require(length > 0, "rate window", "[" + detail::to_text(b) + ", " + detail::to_text(e) + ") s",
                "must end at least 1 ns after it begins");
        for (std::size_t u = 0; u < s.n_units(); ++u) {
            const auto sp = s.units[u].spikes(trials[a]);
            const auto n = std::lower_bound(sp.begin(), sp.end(), e) - std::lower_bound(sp.begin(), sp.end(), b);
            out(index_t(a), index_t(u)) = T(double(n) / length);
        }
    }
    return out;
}

/// Mean delay-epoch rate (Hz): [Delay_start, Cue_start) of each trial; trials × units.
template <Real T>
Matrix<T> delay_rates(const Session& s, std::span<const std::size_t> trials) {
    return window_rates<T>(s, trials, [](const SessionTrial& t) { return std::pair{t.delay_start, t.cue_start}; });
}

}  // namespace neurodyn
