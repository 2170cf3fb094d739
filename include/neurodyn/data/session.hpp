#pragma once
/// \file session.hpp
/// A typed recording session: units × trials of spike times, with per-trial behaviour. It lives
/// in data/ because analyses and generators use it without any file format; io/matlab_session.hpp
/// reads and writes it.
///
/// Conventions (those of the Inagaki et al. 2019 ALM files, see docs/analysis.md):
/// - times are in seconds relative to the start of each trial (spike times, sample/delay/cue
///   onsets, and the PSTH time axis `t_axis`, which holds bin edges);
/// - trial indices are 0-based here (the file stores 1-based MATLAB indices);
/// - response codes: 1/2 correct right/left, 3/4 error right/left, >= 5 early lick or no
///   response (dropped from analyses);
/// - `photostim` is the first column of the file's `stim_trial_vector`: 0 on control trials,
///   a non-zero condition code on photoinhibition trials.
///
/// \code
/// neurodyn::Session s = neurodyn::load_matlab_session("ALM_session.mat");
/// for (std::size_t k : s.trials_where(neurodyn::TrialFilter::correct_right))
///     auto spikes = s.units[0].spikes(k);   // std::span<const double>, seconds
/// \endcode
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "neurodyn/core/error.hpp"

namespace neurodyn {

/// Behaviour of one trial.
struct SessionTrial {
    int response = 0;          ///< response code (1..4 analysed, >= 5 dropped)
    double sample_start = 0;   ///< s from trial start
    double delay_start = 0;    ///< s from trial start
    double cue_start = 0;      ///< go cue, s from trial start
    double photostim = 0;      ///< 0 = control, otherwise the stimulation condition code

    bool correct() const noexcept { return response == 1 || response == 2; }
    bool error() const noexcept { return response == 3 || response == 4; }
    /// Lick-right trial type (instructed right), whatever the outcome.
    bool right() const noexcept { return response == 1 || response == 3; }
    bool left() const noexcept { return response == 2 || response == 4; }
    /// Early lick / no response / unknown code: not analysed.
    bool dropped() const noexcept { return response < 1 || response > 4; }
    bool stimulated() const noexcept { return photostim != 0; }
};

/// Spikes of one unit, grouped by trial: the spikes of trial k are
/// `spike_times[offsets[k] .. offsets[k+1])`, sorted in time.
struct SessionUnit {
    std::vector<double> spike_times;        ///< s from the start of their trial
    std::vector<std::size_t> offsets;       ///< size n_trials + 1
    std::size_t first_trial = 0;            ///< analysed range, 0-based, inclusive
    std::size_t last_trial = 0;             ///< inclusive
    double spike_width = 0;                 ///< ms (trough-to-peak), as stored in the file

    std::size_t n_trials() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
    std::size_t n_spikes() const noexcept { return spike_times.size(); }
    /// Spike times of trial k (0-based).
    std::span<const double> spikes(std::size_t k) const {
        require(k + 1 < offsets.size(), "trial", k, "must be < the number of trials");
        return {spike_times.data() + offsets[k], offsets[k + 1] - offsets[k]};
    }
    /// Fast-spiking (putative interneuron) by spike width, the usual ALM criterion
    /// (< 0.35 ms; regular-spiking units are wider than 0.45 ms).
    bool fast_spiking() const noexcept { return spike_width < 0.35; }

    /// Build a unit from spike times and their 0-based trial indices (any order).
    /// \code
    /// auto u = neurodyn::SessionUnit::from_spikes({0.1, 0.2, 0.05}, {0, 1, 0}, 2);
    /// // u.spikes(0) == {0.05, 0.1}
    /// \endcode
    static SessionUnit from_spikes(std::span<const double> times, std::span<const std::size_t> trial_of_spike,
                                   std::size_t n_trials) {
        require_size("trial_of_spike", std::ptrdiff_t(trial_of_spike.size()), std::ptrdiff_t(times.size()));
        SessionUnit u;
        u.offsets.assign(n_trials + 1, 0);
        for (std::size_t k : trial_of_spike) {
            require(k < n_trials, "trial_of_spike", k, "must be < n_trials = " + std::to_string(n_trials));
            ++u.offsets[k + 1];
        }
        std::partial_sum(u.offsets.begin(), u.offsets.end(), u.offsets.begin());
        u.spike_times.resize(times.size());
        std::vector<std::size_t> fill(u.offsets.begin(), u.offsets.end() - 1);
        for (std::size_t i = 0; i < times.size(); ++i) u.spike_times[fill[trial_of_spike[i]]++] = times[i];
        for (std::size_t k = 0; k < n_trials; ++k)
            std::sort(u.spike_times.begin() + std::ptrdiff_t(u.offsets[k]),
                      u.spike_times.begin() + std::ptrdiff_t(u.offsets[k + 1]));
        u.last_trial = n_trials ? n_trials - 1 : 0;
        return u;
    }
};

/// Spikes of a simulated session gathered trial by trial (the reduce step of a trial
/// ensemble, which sees each trial once), then turned into SessionUnits: the shared last step
/// of the session generators.
/// \code
/// neurodyn::SessionSpikes spikes(n_units);
/// spikes.add(trial, per_unit_spike_times);           // once per trial, any order of trials
/// session.units.push_back(spikes.unit(0, n_trials, 0.5));  // unit 0, 0.5-ms spikes
/// \endcode
class SessionSpikes {
public:
    explicit SessionSpikes(std::size_t units) : times_(units), trial_of_(units) {}

    /// The spike times (s from the trial start) of every unit in trial k.
    void add(std::size_t k, const std::vector<std::vector<double>>& per_unit) {
        require_size("spikes per unit", std::ptrdiff_t(per_unit.size()), std::ptrdiff_t(times_.size()));
        for (std::size_t u = 0; u < times_.size(); ++u) {
            times_[u].insert(times_[u].end(), per_unit[u].begin(), per_unit[u].end());
            trial_of_[u].insert(trial_of_[u].end(), per_unit[u].size(), k);
        }
    }

    /// Unit u over trials 0 … n_trials − 1, all analysed, with the given spike width (ms);
    /// releases the unit's buffers.
    SessionUnit unit(std::size_t u, std::size_t n_trials, double spike_width) {
        SessionUnit out = SessionUnit::from_spikes(times_.at(u), trial_of_.at(u), n_trials);
        std::vector<double>().swap(times_[u]);
        std::vector<std::size_t>().swap(trial_of_[u]);
        out.spike_width = spike_width;  // from_spikes analyses every trial
        return out;
    }

private:
    std::vector<std::vector<double>> times_;
    std::vector<std::vector<std::size_t>> trial_of_;
};

/// Which trials `Session::trials_where` selects.
enum class TrialFilter {
    correct_right,   ///< code 1
    correct_left,    ///< code 2
    error_right,     ///< code 3
    error_left,      ///< code 4
    analysed,        ///< codes 1–4
};

/// One recording session: units × trials with trial metadata.
struct Session {
    std::string source;                 ///< file it came from (for messages), or "synthetic"
    std::vector<SessionTrial> trials;
    std::vector<SessionUnit> units;
    std::vector<double> t_axis;         ///< PSTH bin edges, s from trial start

    std::size_t n_units() const noexcept { return units.size(); }
    std::size_t n_trials() const noexcept { return trials.size(); }

    /// The trials every unit was recorded on: the intersection of the units' analysed
    /// ranges, as [first, last] (0-based, inclusive). Throws when it is empty.
    std::pair<std::size_t, std::size_t> common_range() const {
        require(!units.empty(), "session '" + source + "'", "0 units", "needs at least one unit");
        std::size_t a = 0, b = trials.empty() ? 0 : trials.size() - 1;
        for (const auto& u : units) {
            a = std::max(a, u.first_trial);
            b = std::min(b, u.last_trial);
        }
        require(a <= b && !trials.empty(), "session '" + source + "' trial ranges",
                "[" + std::to_string(a + 1) + ", " + std::to_string(b + 1) + "]",
                "the units' Trial_range_to_analyze must overlap");
        return {a, b};
    }

    /// Trials in the common range matching `filter`; `stimulated` selects control trials
    /// (false, the default), photoinhibition trials (true).
    std::vector<std::size_t> trials_where(TrialFilter filter, bool stimulated = false) const {
        const auto [a, b] = common_range();
        std::vector<std::size_t> out;
        for (std::size_t k = a; k <= b; ++k) {
            const auto& t = trials[k];
            if (t.stimulated() != stimulated) continue;
            const bool keep = (filter == TrialFilter::correct_right && t.response == 1) ||
                              (filter == TrialFilter::correct_left && t.response == 2) ||
                              (filter == TrialFilter::error_right && t.response == 3) ||
                              (filter == TrialFilter::error_left && t.response == 4) ||
                              (filter == TrialFilter::analysed && !t.dropped());
            if (keep) out.push_back(k);
        }
        return out;
    }

    /// Median go-cue time over all trials (s): the reference for cue alignment.
    double median_cue() const {
        require(!trials.empty(), "session '" + source + "'", "0 trials", "needs at least one trial");
        std::vector<double> c(trials.size());
        std::transform(trials.begin(), trials.end(), c.begin(), [](const SessionTrial& t) { return t.cue_start; });
        std::nth_element(c.begin(), c.begin() + std::ptrdiff_t(c.size() / 2), c.end());
        return c[c.size() / 2];
    }

    /// Throws `invalid_parameter` naming the first inconsistency (sizes, ranges, axis).
    void validate() const {
        const std::string s = "session '" + source + "'";
        require(t_axis.size() >= 2, s + " t_axis", t_axis.size(), "needs at least 2 bin edges");
        for (std::size_t i = 1; i < t_axis.size(); ++i)
            require(std::isfinite(t_axis[i]) && t_axis[i] > t_axis[i - 1], s + " t_axis", t_axis[i],
                    "must be finite and strictly increasing");
        for (std::size_t i = 0; i < units.size(); ++i) {
            const auto& u = units[i];
            const std::string p = s + " unit " + std::to_string(i);
            require_size(p + " offsets", std::ptrdiff_t(u.offsets.size()), std::ptrdiff_t(trials.size() + 1));
            require(u.offsets.front() == 0 && u.offsets.back() == u.spike_times.size(), p + " offsets",
                    u.offsets.back(), "must run from 0 to the number of spikes");
            require(u.first_trial <= u.last_trial && u.last_trial < trials.size(), p + " trial range",
                    "[" + std::to_string(u.first_trial) + ", " + std::to_string(u.last_trial) + "]",
                    "must satisfy first <= last < n_trials");
        }
    }
};

}  // namespace neurodyn
