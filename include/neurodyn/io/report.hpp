#pragma once
/// \file report.hpp
/// Build a Markdown report from the manifests the examples wrote: one section per output
/// folder (its title, its key numbers as a table, each figure embedded with its caption).
/// PNGs that no manifest lists are still embedded, under "Other figures", so the report
/// always shows every figure that was written. A folder of the fixed_points program also gets
/// its summary (fixed_points_summary.csv) as a table: stable points and saddles per realisation.
///
/// \code
/// neurodyn::ReportOptions opt{"neurodyn demo", "Synthetic session, seed 1."};
/// opt.order = {"attractors", "session", "training_raw"};
/// auto figures = neurodyn::write_report("out", "out/report.md", opt);
/// \endcode
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/io/manifest.hpp"

namespace neurodyn {

namespace detail {

/// The fields of one CSV line as CsvWriter writes them (a field holding a comma, quote or
/// newline is quoted, with "" for a quote).
inline std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
            out.back() += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    return out;
}

/// The fixed_points program's summary (fixed_points_summary.csv: per realisation and input
/// condition the stable points' CD projections and slowest eigenvalues, saddles, slow points,
/// unconverged starts) as a Markdown table, so that the trained networks' attractors can be
/// read beside the attractor presets'. A missing column or a row of the wrong length throws
/// file_error naming the file.
inline std::string fixed_point_summary_table(const std::filesystem::path& csv) {
    std::ifstream in(csv);
    if (!in) throw file_error(csv.string(), "", "cannot be read");
    std::string line;
    std::getline(in, line);
    const auto header = csv_fields(line);
    const auto column = [&](const std::string& name) {
        const auto it = std::find(header.begin(), header.end(), name);
        if (it == header.end()) throw file_error(csv.string(), name, "column is missing from the header");
        return std::size_t(it - header.begin());
    };
    const std::size_t r = column("realization"), cond = column("condition"), ns = column("stable"),
                      scd = column("stable_cd"), sev = column("stable_slowest_eigenvalue"), nsad = column("saddles"),
                      sadcd = column("saddle_cd"), sadk = column("saddle_n_unstable"), slow = column("slow"),
                      nc = column("not_converged"),
                      pair = column("attractor_pair"), note = column("note");
    const auto split = [](const std::string& s) {
        std::vector<std::string> v;
        std::stringstream ss(s);
        for (std::string x; std::getline(ss, x, ';');) v.push_back(x);
        return v;
    };
    std::ostringstream md;
    md << "| realisation | condition | stable points: CD projection (slowest Re λ, 1/ms) | saddles (with one unstable "
          "direction: CD projection) | slow points | starts not converged | stable at CD 0 and 1, saddle between |\n"
          "|---|---|---|---|---|---|---|\n";
    for (long row = 2; std::getline(in, line); ++row) {
        if (line.empty()) continue;
        const auto f = csv_fields(line);
        if (f.size() != header.size())
            throw file_error(csv.string(), "line " + std::to_string(row),
                             "has " + std::to_string(f.size()) + " fields, the header " + std::to_string(header.size()));
        md << "| " << (f[r].empty() ? "—" : f[r]) << " | ";
        if (!f[note].empty()) {
            md << f[note] << " | | | | | |\n";
            continue;
        }
        const auto cds = split(f[scd]), eigs = split(f[sev]);
        std::string stable = f[ns] + (cds.empty() ? "" : ": ");
        for (std::size_t k = 0; k < cds.size(); ++k)
            stable += (k ? ", " : "") + cds[k] + (k < eigs.size() ? " (" + eigs[k] + ")" : "");
        // Saddles with one unstable direction are the ones whose stable manifold can separate two basins.
        const auto scds = split(f[sadcd]), ks = split(f[sadk]);
        std::string index1;
        for (std::size_t k = 0; k < scds.size() && k < ks.size(); ++k)
            if (ks[k] == "1") index1 += (index1.empty() ? "" : ", ") + scds[k];
        md << f[cond] << " | " << stable << " | " << f[nsad] << (index1.empty() ? "" : " (" + index1 + ")") << " | " << f[slow]
           << " | " << f[nc] << " | " << (f[pair] == "1" ? "yes" : "no") << " |\n";
    }
    return md.str() + "\n";
}

inline constexpr const char* fixed_point_summary_file = "fixed_points_summary.csv";
}  // namespace detail

/// Whether `write_report` reads this file of an output folder: the manifests, the figures and
/// the fixed-point summaries (a gallery copies exactly these).
inline bool report_reads(const std::filesystem::path& file) {
    const auto name = file.filename();
    return file.extension() == ".png" || name == Manifest::file_name || name == detail::fixed_point_summary_file;
}

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
        if (fs::exists(dir / detail::fixed_point_summary_file))
            md << "Fixed points per realisation and input condition:\n\n"
               << detail::fixed_point_summary_table(dir / detail::fixed_point_summary_file);
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
