#pragma once
/// \file epochs.hpp
/// Task epochs: named, half-open intervals [start, end) in ms within a trial of known length,
/// with conversion to step indices of a `TimeGrid`.
///
/// \code
/// neurodyn::TaskEpochs epochs(6000.0);             // a 6 s trial
/// epochs.add("sample", 1500, 2500).add("delay", 2500, 4500);
/// neurodyn::TimeGrid grid(1.0, 6000);
/// auto delay = epochs.steps("delay", grid);        // {2500, 4500}: steps 2500 … 4499
/// \endcode
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/time_grid.hpp"

namespace neurodyn {

/// A named interval [start_ms, end_ms).
struct Epoch {
    std::string name;
    double start_ms;
    double end_ms;
    double duration() const noexcept { return end_ms - start_ms; }
    bool contains(double t) const noexcept { return t >= start_ms && t < end_ms; }
};

/// Half-open range of step indices [first, last); empty when first == last.
struct StepRange {
    std::ptrdiff_t first;
    std::ptrdiff_t last;
    std::ptrdiff_t size() const noexcept { return last - first; }
    bool contains(std::ptrdiff_t i) const noexcept { return i >= first && i < last; }
};

/// Steps of `grid` whose times fall in [start, end), clamped to the grid.
inline StepRange steps_of(const Epoch& e, const TimeGrid& grid) {
    const auto clamp = [&](std::ptrdiff_t i) { return std::clamp<std::ptrdiff_t>(i, 0, grid.size()); };
    return {clamp(grid.index_at(e.start_ms)), clamp(grid.index_at(e.end_ms))};
}

/// The epochs of one task. Epochs may not overlap, may not be empty or negative and must lie
/// within [0, trial_ms]; violations throw `invalid_parameter` naming the epoch.
class TaskEpochs {
public:
    explicit TaskEpochs(double trial_ms) : trial_ms_(trial_ms) {
        require_positive("trial_ms", trial_ms);
    }

    /// Add an epoch; returns *this so calls chain.
    TaskEpochs& add(std::string name, double start_ms, double end_ms) {
        const std::string p = "epoch " + name;  // quoted whole by the message: 'epoch delay'
        require(std::isfinite(start_ms) && std::isfinite(end_ms), p,
                interval_text(start_ms, end_ms), "start and end must be finite");
        require(start_ms >= 0.0, p, interval_text(start_ms, end_ms), "must not start before 0 ms");
        require(end_ms > start_ms, p, interval_text(start_ms, end_ms),
                "must end after it starts");
        require(end_ms <= trial_ms_, p, interval_text(start_ms, end_ms),
                "must end within the trial (" + detail::to_text(trial_ms_) + " ms)");
        for (const auto& e : epochs_) {
            require(e.name != name, p, interval_text(start_ms, end_ms), "name already used");
            require(end_ms <= e.start_ms || start_ms >= e.end_ms, p, interval_text(start_ms, end_ms),
                    "overlaps epoch '" + e.name + "' " + interval_text(e.start_ms, e.end_ms));
        }
        epochs_.push_back({std::move(name), start_ms, end_ms});
        std::sort(epochs_.begin(), epochs_.end(),
                  [](const Epoch& a, const Epoch& b) { return a.start_ms < b.start_ms; });
        return *this;
    }

    double trial_ms() const noexcept { return trial_ms_; }
    const std::vector<Epoch>& all() const noexcept { return epochs_; }
    bool has(std::string_view name) const noexcept {
        return std::any_of(epochs_.begin(), epochs_.end(), [&](const Epoch& e) { return e.name == name; });
    }

    const Epoch& operator[](std::string_view name) const {
        for (const auto& e : epochs_)
            if (e.name == name) return e;
        std::string known;
        for (const auto& e : epochs_) known += (known.empty() ? "" : ", ") + e.name;
        throw invalid_parameter("epoch", "'" + std::string(name) + "'", "unknown; known epochs: " + known);
    }

    StepRange steps(std::string_view name, const TimeGrid& grid) const {
        return steps_of((*this)[name], grid);
    }

    /// The epoch containing time t, or nullptr between epochs.
    const Epoch* at(double t) const noexcept {
        for (const auto& e : epochs_)
            if (e.contains(t)) return &e;
        return nullptr;
    }

private:
    static std::string interval_text(double a, double b) {
        std::ostringstream os;  // not operator+ chains: GCC 12 warns falsely on those (-Wrestrict)
        os << '[' << a << ", " << b << ") ms";
        return os.str();
    }
    double trial_ms_;
    std::vector<Epoch> epochs_;
};

}  // namespace neurodyn
