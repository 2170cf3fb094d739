#pragma once
/// \file gnuplot.hpp
/// Figures as PNG through gnuplot. The script is kept beside the figure (`name.gp`), so a
/// user can restyle and re-run it; the data it plots are the .csv files the example wrote.
///
/// \code
/// neurodyn::Gnuplot fig("out/cd_projection.png", 900, 600);
/// fig << "set xlabel 'time (s)'\n"
///     << "plot 'out/cd.csv' using 1:2 with lines title 'right'\n";
/// fig.caption("CD projection of correct trials, mean ± sd");
/// fig.render();   // throws neurodyn::file_error if gnuplot fails
/// \endcode
/// render() also lists the figure with its caption in the folder's manifest.json, from which
/// the report (`make demo` -> out/report.md) is built.
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/io/manifest.hpp"

namespace neurodyn {

/// True when a `gnuplot` executable is on the PATH.
inline bool gnuplot_available() {
    return std::system("command -v gnuplot > /dev/null 2>&1") == 0;
}

class Gnuplot {
public:
    Gnuplot(std::filesystem::path png, int width = 900, int height = 600) : png_(std::move(png)) {
        require(width > 0 && height > 0, "figure size", std::to_string(width) + "x" + std::to_string(height),
                "must be positive");
        script_ << "set terminal pngcairo size " << width << "," << height
                << " enhanced font 'Sans,11'\n"
                << "set output '" << png_.string() << "'\n"
                << "set datafile separator ','\n"
                << "set key noautotitle\n";
    }

    template <class V>
    Gnuplot& operator<<(const V& v) {
        script_ << v;
        return *this;
    }

    const std::filesystem::path& png() const noexcept { return png_; }

    /// One-line caption for the report.
    Gnuplot& caption(std::string text) {
        caption_ = std::move(text);
        return *this;
    }

    /// Write the script beside the PNG and run gnuplot on it.
    void render() const {
        std::filesystem::path gp = png_;
        gp.replace_extension(".gp");
        const std::string text = script_.str() + "\nunset output\n";
        write_atomically(gp, [&](std::ostream& os) { os << text; });
        const std::string cmd = "gnuplot '" + gp.string() + "' 2> '" + gp.string() + ".log'";
        if (std::system(cmd.c_str()) != 0) {
            throw file_error(png_.string(), "", "gnuplot failed on '" + gp.string() + "', see '" +
                                                    gp.string() + ".log'");
        }
        std::error_code ec;
        std::filesystem::remove(gp.string() + ".log", ec);
        const auto dir = png_.has_parent_path() ? png_.parent_path() : std::filesystem::path(".");
        auto manifest = Manifest::open(dir);
        manifest.figure(png_.filename().string(), caption_);
        manifest.save();
    }

private:
    std::filesystem::path png_;
    std::string caption_;
    std::ostringstream script_;
};

}  // namespace neurodyn
