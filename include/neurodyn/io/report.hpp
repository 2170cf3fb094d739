#pragma once
/// \file report.hpp
/// Build a Markdown report from the manifests the examples wrote: one section per output
/// folder (its title, its key numbers as a table, each figure embedded with its caption).
/// PNGs that no manifest lists are still embedded, under "Other figures", so the report
/// always shows every figure that was written.
///
/// \code
/// neurodyn::ReportOptions opt{"neurodyn demo", "Synthetic session, seed 1."};
/// opt.order = {"attractors", "session", "training_raw"};
/// auto figures = neurodyn::write_report("out", "out/report.md", opt);
/// \endcode
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/io/manifest.hpp"

namespace neurodyn {

struct ReportOptions {
    std::string title = "neurodyn report";
    std::string intro;
    /// Folder names (relative to the output root) to put first, in this order.
    std::vector<std::string> order;
};

/// Writes the report to `report_path` (links relative to its folder) and returns the PNG
/// files it embedded, relative to `root`.
inline std::vector<std::string> write_report(const std::filesystem::path& root,
                                             const std::filesystem::path& report_path,
                                             const ReportOptions& options = {}) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(root)) throw file_error(root.string(), "", "is not a directory of example outputs");
    const fs::path report_dir = fs::absolute(report_path).parent_path();
    const auto link = [&](const fs::path& p) { return fs::relative(fs::absolute(p), report_dir).generic_string(); };

    std::vector<fs::path> manifests;
    std::set<std::string> pngs;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        const auto& e = *it;
        // Hidden folders hold the temporaries of an output folder being written (or of a
        // killed run): never part of the report.
        if (e.path().filename().string().starts_with(".")) {
            if (e.is_directory()) it.disable_recursion_pending();
            continue;
        }
        if (!e.is_regular_file()) continue;
        if (e.path().filename() == Manifest::file_name) manifests.push_back(e.path().parent_path());
        if (e.path().extension() == ".png") pngs.insert(fs::relative(e.path(), root).generic_string());
    }
    const auto rank = [&](const fs::path& dir) {
        const std::string rel = fs::relative(dir, root).generic_string();
        const auto it = std::find(options.order.begin(), options.order.end(), rel);
        return std::make_pair(std::size_t(it - options.order.begin()), rel);
    };
    std::sort(manifests.begin(), manifests.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });

    std::ostringstream md;
    md << "# " << options.title << "\n\n";
    if (!options.intro.empty()) md << options.intro << "\n\n";
    std::vector<std::string> embedded;
    std::set<std::string> listed;
    for (const auto& dir : manifests) {
        const auto m = Manifest::open(dir);
        const std::string rel = fs::relative(dir, root).generic_string();
        md << "## " << (m.title().empty() ? rel : m.title()) << "\n\n";
        md << "Output folder: `" << rel << "/`\n\n";
        if (!m.numbers().empty()) {
            md << "| quantity | value |\n|---|---|\n";
            for (const auto& n : m.numbers()) {
                std::ostringstream v;
                v.precision(4);
                v << n.value;
                md << "| " << n.name << " | " << v.str() << (n.unit.empty() ? "" : " " + n.unit) << " |\n";
            }
            md << "\n";
        }
        for (const auto& f : m.figures()) {
            const fs::path png = dir / f.file;
            const std::string key = fs::relative(png, root).generic_string();
            if (!fs::exists(png) || listed.count(key)) continue;
            listed.insert(key);
            embedded.push_back(key);
            const std::string caption = f.caption.empty() ? fs::path(f.file).stem().string() : f.caption;
            md << "![" << caption << "](" << link(png) << ")\n\n*" << caption << "*\n\n";
        }
    }
    bool other = false;
    for (const auto& p : pngs) {
        if (listed.count(p)) continue;
        if (!other) md << "## Other figures\n\n";
        other = true;
        embedded.push_back(p);
        md << "![" << p << "](" << link(root / p) << ")\n\n*" << p << "*\n\n";
    }
    const std::string text = md.str();
    write_atomically(report_path, [&](std::ostream& os) { os << text; });
    return embedded;
}

}  // namespace neurodyn
