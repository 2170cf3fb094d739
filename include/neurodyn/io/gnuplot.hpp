#pragma once
/// \file gnuplot.hpp
/// Figures as PNG through gnuplot. The script is kept beside the figure (`name.gp`), so a
/// user can restyle and re-run it (`cd DIR && gnuplot name.gp`); the data it plots are the
/// .csv files the example wrote into the same folder.
///
/// gnuplot is started without a shell (posix_spawn with an argument vector) in the figure's
/// folder, so a script names its data files by their bare file names and no path the user
/// chose is ever interpreted by a shell or by gnuplot. Text that goes into the script inside
/// quotes goes through `gnuplot_quote`, which escapes it for gnuplot's single-quoted strings
/// and refuses control characters.
///
/// \code
/// neurodyn::Gnuplot fig("out/cd_projection.png", 900, 600);
/// fig << "set xlabel 'time (s)'\n"
///     << "plot " << neurodyn::gnuplot_quote("cd.csv") << " using 1:2 with lines title 'right'\n";
/// fig.caption("CD projection of correct trials, mean ± sd");
/// fig.render();   // throws neurodyn::file_error if gnuplot fails
/// \endcode
/// render() also lists the figure with its caption in the folder's manifest.json, from which
/// the report (`make demo` -> out/report.md) is built.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/error.hpp"
#include "neurodyn/io/manifest.hpp"

extern char** environ;

namespace neurodyn {

/// `text` as a gnuplot single-quoted string literal: quotes included, an embedded `'` doubled
/// (gnuplot's only escape inside single quotes). Control characters (newline, carriage
/// return, NUL, …), which would end the command, throw invalid_parameter naming `what`.
inline std::string gnuplot_quote(std::string_view text, std::string_view what = "gnuplot string") {
    std::string out = "'";
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            throw invalid_parameter(what, std::string(text), "must not contain control characters (newline, tab, ...)");
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

/// The full path of an executable named `name` on the PATH, found without a shell.
inline std::optional<std::filesystem::path> find_program(std::string_view name) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const auto colon = rest.find(':');
        std::string_view dir = rest.substr(0, colon);
        if (dir.empty()) dir = ".";
        std::filesystem::path candidate = std::filesystem::path(dir) / name;
        std::error_code ec;
        if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        if (colon == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(colon + 1);
    }
}

/// True when a `gnuplot` executable is on the PATH.
inline bool gnuplot_available() { return find_program("gnuplot").has_value(); }

class Gnuplot {
public:
    Gnuplot(std::filesystem::path png, int width = 900, int height = 600) : png_(std::move(png)) {
        require(width > 0 && height > 0, "figure size", std::to_string(width) + "x" + std::to_string(height),
                "must be positive");
        require(png_.has_filename(), "figure file", png_.string(), "must name a file");
        // gnuplot runs in the figure's folder: only the bare file name enters the script.
        script_ << "set terminal pngcairo size " << width << "," << height << " enhanced font 'Sans,11'\n"
                << "set output " << gnuplot_quote(png_.filename().string(), "figure file") << "\n"
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

    /// Write the script beside the PNG and run gnuplot on it in that folder.
    void render() const {
        namespace fs = std::filesystem;
        const fs::path dir = png_.has_parent_path() ? png_.parent_path() : fs::path(".");
        fs::path gp = png_.filename();
        gp.replace_extension(".gp");
        const std::string log = gp.string() + ".log";
        const std::string text = script_.str() + "\nunset output\n";
        write_atomically(dir / gp, [&](std::ostream& os) { os << text; });
        const auto program = find_program("gnuplot");
        if (!program) throw file_error(png_.string(), "", "cannot draw the figure: gnuplot is not on the PATH");
        const int status = spawn_in(dir, *program, gp.string(), log);
        if (status != 0) {
            // The message carries gnuplot's own complaint: a failed program discards its
            // output folder, script and log included.
            std::string said;
            {
                std::ifstream in(dir / log);
                for (std::string line; std::getline(in, line);)
                    if (!line.empty() && line.find_first_not_of(" ^") != std::string::npos) said = line;
            }
            if (said.size() > 300) said = said.substr(0, 300) + "...";
            throw file_error(png_.string(), "", "gnuplot failed (" + describe(status) + ") on '" + gp.string() +
                                                    "' (log '" + (dir / log).string() + "')" +
                                                    (said.empty() ? std::string() : ": " + said));
        }
        std::error_code ec;
        fs::remove(dir / log, ec);
        auto manifest = Manifest::open(dir);
        manifest.figure(png_.filename().string(), caption_);
        manifest.save();
    }

private:
    /// Run `program script` with the working directory `dir`, stdin and stdout on /dev/null and
    /// stderr into `log` (relative to `dir`); returns the wait status (-1 if it cannot start).
    static int spawn_in(const std::filesystem::path& dir, const std::filesystem::path& program,
                        const std::string& script, const std::string& log) {
        posix_spawn_file_actions_t fa;
        if (posix_spawn_file_actions_init(&fa) != 0) return -1;
        struct Guard {
            posix_spawn_file_actions_t* fa;
            ~Guard() { posix_spawn_file_actions_destroy(fa); }
        } guard{&fa};
        const std::string d = dir.string();
        if (posix_spawn_file_actions_addchdir_np(&fa, d.c_str()) != 0 ||
            posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
            posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
            posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644) != 0)
            return -1;
        const std::string prog = program.string();
        std::string arg0 = "gnuplot", arg1 = script;
        char* argv[] = {arg0.data(), arg1.data(), nullptr};
        pid_t pid = 0;
        if (posix_spawn(&pid, prog.c_str(), &fa, nullptr, argv, environ) != 0) return -1;
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) return -1;
        return status;
    }

    static std::string describe(int status) {
        if (status == -1) return "could not be started";
        if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
        return "status " + std::to_string(status);
    }

    std::filesystem::path png_;
    std::string caption_;
    std::ostringstream script_;
};

}  // namespace neurodyn
