#pragma once
/// \file atomic_file.hpp
/// Write a file atomically: the content goes to a temporary beside the target, is flushed,
/// and is renamed over the target, so a reader (or a resumed run) sees either the old file
/// or the complete new one, never a half-written one.
///
/// \code
/// neurodyn::write_atomically("out/J.npy", [&](std::ostream& os) { os << bytes; });
/// \endcode
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

#include "neurodyn/core/error.hpp"

namespace neurodyn {

/// Calls `write(std::ostream&)` on a temporary file, then renames it to `path`.
/// Throws `file_error` if the file cannot be written; the target is then left unchanged.
template <class Writer>
void write_atomically(const std::filesystem::path& path, Writer&& write) {
    namespace fs = std::filesystem;
    static std::atomic<unsigned> counter{0};
    if (path.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(path.parent_path(), ec);
        if (ec) throw file_error(path.string(), "", "cannot create directory: " + ec.message());
    }
    fs::path tmp = path;
    tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    try {
        {
            std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
            if (!os) throw file_error(tmp.string(), "", "cannot open for writing");
            write(static_cast<std::ostream&>(os));
            os.flush();
            if (!os) throw file_error(tmp.string(), "", "write failed (disk full?)");
        }
        std::error_code ec;
        fs::rename(tmp, path, ec);
        if (ec) throw file_error(path.string(), "", "cannot rename temporary into place: " + ec.message());
    } catch (...) {
        std::error_code ignore;
        fs::remove(tmp, ignore);
        throw;
    }
}

}  // namespace neurodyn
