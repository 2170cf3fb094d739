#pragma once
/// \file output_folder.hpp
/// An output folder written all-or-nothing. Everything goes into a temporary sibling folder
/// (`.NAME.partial-PID-N` beside `NAME`); `commit()` swaps it into place. Until then the old
/// folder is untouched, so a rejected parameter, an exception or a kill never leaves old and
/// new results mixed. Without `commit()` the destructor removes the temporary; a temporary
/// left by a killed run (its PID no longer alive) is removed by the next OutputFolder made
/// beside it.
///
/// The constructor checks the target before any work is done: it must not be an existing
/// file, its parent must be writable, it must not be, contain or lie inside one of the
/// `inputs` (a training folder read by the run, a session file, a checkpoint folder), and an
/// existing non-empty folder is replaced only if it holds a `manifest.json`, i.e. it is an
/// earlier output folder, never a folder of the user's other files.
///
/// \code
/// neurodyn::OutputFolder out("results/noise", {"results/training"});  // throws if refused
/// neurodyn::CsvWriter csv({"x", "y"});
/// csv.row(1.0, 2.0);
/// csv.save(out.path() / "table.csv");   // written into the temporary folder
/// out.commit();                          // results/noise now holds exactly this run's files
/// \endcode
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include "neurodyn/core/error.hpp"

namespace neurodyn {

class OutputFolder {
public:
    /// Name of the file whose presence marks a folder as an earlier output folder.
    static constexpr const char* marker = "manifest.json";

    /// What an existing non-empty target may be: only an earlier output folder (one holding
    /// `marker`), or any folder (for a folder the caller owns whole, e.g. a report gallery).
    enum class Replace { outputs_only, any };

    /// Checks `target` (see the file comment), removes stale temporaries of dead runs beside
    /// it and creates the temporary folder. Throws `file_error` (or `invalid_parameter` for an
    /// empty path, a file, a foreign folder or an overlap with an input) naming the folder and
    /// the reason.
    explicit OutputFolder(const std::filesystem::path& target, const std::vector<std::filesystem::path>& inputs = {},
                          Replace replace = Replace::outputs_only) {
        namespace fs = std::filesystem;
        require(!target.empty(), "output folder", "''", "must name a folder");
        std::error_code ec;
        fs::path t = fs::weakly_canonical(fs::absolute(target, ec), ec);
        if (ec) throw file_error(target.string(), "", "cannot resolve the output folder: " + ec.message());
        if (!t.has_filename()) t = t.parent_path();  // a trailing '/'
        require(t.has_filename() && t != t.root_path(), "output folder", target.string(),
                "must not be the root directory");
        target_ = t;
        const fs::file_status st = fs::symlink_status(target_, ec);
        if (fs::exists(st) && !fs::is_directory(st))
            throw invalid_parameter("output folder", target.string(), "exists and is not a folder; choose another one");
        for (const auto& in : inputs) check_not_overlapping(target, in);
        if (fs::is_directory(st) && replace == Replace::outputs_only) check_replaceable(target);
        const fs::path parent = target_.parent_path();
        fs::create_directories(parent, ec);
        if (ec) throw file_error(target.string(), "", "cannot create its parent folder: " + ec.message());
        if (::access(parent.c_str(), W_OK) != 0)
            throw file_error(target.string(), "", "its parent folder is not writable: " + std::string(std::strerror(errno)));
        clean_stale(parent, target_.filename().string(), target_);
        static std::atomic<unsigned> counter{0};  // several folders per process, any thread
        for (int attempt = 0;; ++attempt) {
            temp_ = parent / (prefix(target_.filename().string(), "partial") + std::to_string(::getpid()) + "-" +
                              std::to_string(counter++));
            if (fs::create_directory(temp_, ec)) break;
            if (ec || attempt > 100)
                throw file_error(target.string(), "",
                                 "cannot create the temporary folder '" + temp_.string() + "': " +
                                     (ec ? ec.message() : std::string("name taken")));
        }
    }

    OutputFolder(const OutputFolder&) = delete;
    OutputFolder& operator=(const OutputFolder&) = delete;

    /// Removes the temporary folder unless committed: the old folder stays as it was.
    ~OutputFolder() {
        if (committed_) return;
        std::error_code ec;
        std::filesystem::remove_all(temp_, ec);
    }

    /// Where to write: the temporary folder (gnuplot runs there too, with bare file names).
    const std::filesystem::path& path() const noexcept { return temp_; }
    /// The folder that commit() fills (absolute, symbolic links resolved).
    const std::filesystem::path& target() const noexcept { return target_; }
    bool committed() const noexcept { return committed_; }

    /// Put the temporary folder in place of the target. Where the file system allows it the
    /// two are exchanged in one atomic step; otherwise the old folder is renamed away first
    /// and restored if the second rename fails. The old contents are then removed.
    void commit() {
        namespace fs = std::filesystem;
        require(!committed_, "output folder", target_.string(), "is already committed");
        std::error_code ec;
        const bool had_old = fs::exists(fs::symlink_status(target_, ec));
        const fs::path old = target_.parent_path() /
                             (prefix(target_.filename().string(), "old") + std::to_string(::getpid()) + "-0");
        if (had_old) {
            fs::remove_all(old, ec);
#if defined(RENAME_EXCHANGE)
            if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) == 0) {
                // temp_ now holds the old folder.
                fs::rename(temp_, old, ec);
                fs::remove_all(ec ? temp_ : old, ec);
                committed_ = true;
                return;
            }
#endif
            fs::rename(target_, old, ec);
            if (ec) throw file_error(target_.string(), "", "cannot move the old folder aside: " + ec.message());
        }
        fs::rename(temp_, target_, ec);
        if (ec) {
            std::error_code ignore;
            if (had_old) fs::rename(old, target_, ignore);
            throw file_error(target_.string(), "", "cannot move the new folder into place: " + ec.message());
        }
        committed_ = true;
        if (had_old) fs::remove_all(old, ec);
    }

private:
    static std::string prefix(const std::string& name, const char* kind) {
        return "." + name + "." + kind + "-";
    }

    static std::filesystem::path resolved(const std::filesystem::path& p) {
        std::error_code ec;
        auto r = std::filesystem::weakly_canonical(std::filesystem::absolute(p, ec), ec);
        if (!r.has_filename()) r = r.parent_path();
        return r;
    }

    /// True when `a` equals `b` or lies inside it (component-wise, both resolved).
    static bool within(const std::filesystem::path& a, const std::filesystem::path& b) {
        auto ia = a.begin(), ib = b.begin();
        for (; ib != b.end(); ++ia, ++ib)
            if (ia == a.end() || *ia != *ib) return false;
        return true;
    }

    void check_not_overlapping(const std::filesystem::path& given, const std::filesystem::path& input) const {
        if (input.empty()) return;
        const auto in = resolved(input);
        const char* how = target_ == in              ? "is"
                          : within(in, target_)      ? "contains"
                          : within(target_, in)      ? "is inside"
                                                     : nullptr;
        if (how)
            throw invalid_parameter("output folder", given.string(),
                                    std::string(how) + " the input '" + input.string() +
                                        "', which replacing the output folder would destroy; choose another one");
    }

    void check_replaceable(const std::filesystem::path& given) const {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (fs::is_empty(target_, ec) || fs::exists(target_ / marker, ec)) return;
        throw invalid_parameter("output folder", given.string(),
                                std::string("is a non-empty folder without ") + marker +
                                    ", not an earlier output folder; refusing to replace it (choose a new folder "
                                    "or empty it)");
    }

    static bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

    /// Remove `.NAME.partial-PID-N` folders of dead processes; a `.NAME.old-PID-N` of a dead
    /// process is the old folder of a commit killed between its two renames: put it back if
    /// the target is missing, otherwise remove it.
    static void clean_stale(const std::filesystem::path& parent, const std::string& name,
                            const std::filesystem::path& target) {
        namespace fs = std::filesystem;
        for (const char* kind : {"partial", "old"}) {
            const std::string pre = prefix(name, kind);
            std::vector<fs::path> stale;  // collected first: the folder is not changed while listed
            std::error_code ec;
            for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
                const std::string f = it->path().filename().string();
                if (f.rfind(pre, 0) != 0) continue;
                const std::string rest = f.substr(pre.size());
                char* stop = nullptr;
                const long pid = std::strtol(rest.c_str(), &stop, 10);
                if (stop != rest.c_str() && *stop == '-' && !alive(pid_t(pid))) stale.push_back(it->path());
            }
            for (const auto& p : stale) {
                std::error_code e2;
                if (std::string(kind) == "old" && !fs::exists(fs::symlink_status(target, e2)))
                    fs::rename(p, target, e2);
                else
                    fs::remove_all(p, e2);
            }
        }
    }

    std::filesystem::path target_, temp_;
    bool committed_ = false;
};

}  // namespace neurodyn
