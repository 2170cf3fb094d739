#pragma once
/// \file photoinhibition.hpp
/// Photoinhibition of one or both hemispheres as a hook: during [start, end) it adds
/// strength·drive to the input of the populations of the illuminated hemisphere(s). What
/// `drive` is comes from the model (for the Inagaki 2019 presets: inagaki2019_light_drive in
/// models/inagaki2019.hpp); this hook only knows hemispheres and a window. For a model without
/// hemispheres use `AddInput` (perturb/add_input.hpp): a vector added during a window.
///
/// Sides: `ipsilateral` illuminates hemisphere 1, `contralateral` hemisphere 2, `bilateral` both.
///
/// \code
/// neurodyn::Photoinhibition<double> pv(drive, {1, 1, 2, 2}, neurodyn::PhotoinhibitionSide::ipsilateral,
///                                      /*strength=*/2.0, /*start=*/2501.0, /*end=*/3080.0);
/// neurodyn::simulate(trial, model, euler, h, grid, input, pv);
/// \endcode
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/types.hpp"

namespace neurodyn {

enum class PhotoinhibitionSide { bilateral, ipsilateral, contralateral };

/// "bilateral", "ipsilateral" or "contralateral".
inline std::string_view to_string(PhotoinhibitionSide s) noexcept {
    switch (s) {
        case PhotoinhibitionSide::ipsilateral: return "ipsilateral";
        case PhotoinhibitionSide::contralateral: return "contralateral";
        default: return "bilateral";
    }
}

/// Parse a side name; anything else throws invalid_parameter naming `parameter`.
inline PhotoinhibitionSide parse_photoinhibition_side(std::string_view name, std::string_view parameter = "pv_type") {
    if (name == "bilateral") return PhotoinhibitionSide::bilateral;
    if (name == "ipsilateral") return PhotoinhibitionSide::ipsilateral;
    if (name == "contralateral") return PhotoinhibitionSide::contralateral;
    throw invalid_parameter(parameter, "'" + std::string(name) + "'", "must be bilateral, ipsilateral or contralateral");
}

/// True when hemisphere `h` (1 or 2) is illuminated on side `s`.
inline bool illuminated(PhotoinhibitionSide s, int h) noexcept {
    return s == PhotoinhibitionSide::bilateral || (s == PhotoinhibitionSide::ipsilateral && h == 1) ||
           (s == PhotoinhibitionSide::contralateral && h == 2);
}

template <Real T = double>
class Photoinhibition {
public:
    /// \param drive      input change per unit strength, one per population
    /// \param hemisphere hemisphere (1 or 2) of each population
    /// \param side       which hemisphere(s) the light reaches
    /// \param strength   PV >= 0 (0: no effect)
    /// \param start_ms, end_ms  the light is on for start <= t < end
    Photoinhibition(Vector<T> drive, std::vector<int> hemisphere, PhotoinhibitionSide side, double strength,
                    double start_ms, double end_ms)
        : side_(side), strength_(strength), start_(start_ms), end_(end_ms) {
        require(drive.size() > 0 && drive.allFinite(), "photoinhibition drive", "size " + std::to_string(drive.size()),
                "must be a non-empty finite vector");
        require_size("photoinhibition hemisphere", index_t(hemisphere.size()), drive.size());
        for (std::size_t i = 0; i < hemisphere.size(); ++i)
            require(hemisphere[i] == 1 || hemisphere[i] == 2, "hemisphere[" + std::to_string(i) + "]", hemisphere[i],
                    "must be 1 or 2");
        require(std::isfinite(strength) && strength >= 0, "photoinhibition strength", strength, "must be finite and >= 0");
        require_finite("photoinhibition start", start_ms);
        require_finite("photoinhibition end", end_ms);
        require(end_ms >= start_ms, "photoinhibition end", end_ms, "must be >= the start (" + detail::to_text(start_ms) + ")");
        delta_ = Vector<T>::Zero(drive.size());
        for (index_t i = 0; i < drive.size(); ++i)
            if (illuminated(side, hemisphere[std::size_t(i)])) delta_[i] = T(strength) * drive[i];
    }

    PhotoinhibitionSide side() const noexcept { return side_; }
    double strength() const noexcept { return strength_; }
    double start() const noexcept { return start_; }
    double end() const noexcept { return end_; }
    bool active(double t) const noexcept { return t >= start_ && t < end_; }
    /// strength·drive on illuminated populations, 0 elsewhere: what is added while active.
    const Vector<T>& input_change() const noexcept { return delta_; }

    /// Hook: add the input change while the light is on.
    template <class V>
    void on_input(double t, V& u) const {
        if (active(t)) u += delta_;
    }

private:
    PhotoinhibitionSide side_;
    double strength_, start_, end_;
    Vector<T> delta_;
};

}  // namespace neurodyn
