// make_report: collect the manifests the examples wrote under an output folder into one
// Markdown report (every PNG embedded with its caption, key numbers as tables). With
// --gallery DIR it also copies the figures and manifests into DIR/gallery/ and writes
// DIR/gallery.md, so the results can be read without building.
//
//   make_report --out out --report out/report.md [--gallery docs]
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/output_folder.hpp"
#include "neurodyn/io/report.hpp"
#include "support/program.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;

namespace {
/// Folders starting with '.' are temporaries of a run in progress or killed (OutputFolder).
bool hidden(const fs::path& root, const fs::path& p) {
    for (const auto& part : fs::relative(p, root))
        if (part.string().size() > 1 && part.string()[0] == '.' && part != "..") return true;
    return false;
}
}  // namespace

int main(int argc, char** argv) {
    std::string out = "out", report, gallery, intro;
    // make demo's folders, in the order of its pipeline (scripts/demo.sh).
    std::vector<std::string> order = {
        "attractors",         "attractors_two_hemi_ramp", "attractors_continuous",    "session",
        "training_raw",       "training_suppressed",      "training_seed_raw",        "training_seed_suppressed",
        "noise_robustness",   "structure",                "protocol_comparison",      "fixed_points_attractor",
        "fixed_points_raw",   "fixed_points_suppressed",  "fixed_points_seed_raw",    "fixed_points_seed_suppressed"};
    return examples::run_program(
        argc, argv, "Build the Markdown report of the example outputs",
        [&](CLI::App& app) {
            app.add_option("--out", out, "folder holding the examples' output folders")->capture_default_str();
            app.add_option("--report", report, "report file (default: OUT/report.md)");
            app.add_option("--gallery", gallery, "also copy figures to DIR/gallery/ and write DIR/gallery.md");
            app.add_option("--intro", intro, "paragraph under the title");
            app.add_option("--order", order, "output folders to put first, in order")->capture_default_str();
        },
        [&] {
            if (!fs::is_directory(out)) throw file_error(out, "", "is not a folder of example outputs");
            if (report.empty()) report = (fs::path(out) / "report.md").string();
            // The gallery is replaced as a whole; it must not be (inside) the folder it is copied from.
            std::optional<OutputFolder> dest;
            if (!gallery.empty()) dest.emplace(fs::path(gallery) / "gallery", std::vector<fs::path>{out},
                                               OutputFolder::Replace::any);
            ReportOptions opt{"neurodyn: persistent activity in ALM, reproduced", intro, order};
            const auto figures = write_report(out, report, opt);
            std::cerr << "report: " << report << " (" << figures.size() << " figures)\n";
            if (!dest) return;
            // Copy only what the report reads (manifests, PNGs, fixed-point summaries), keeping the folders.
            for (const auto& e : fs::recursive_directory_iterator(out)) {
                if (!e.is_regular_file() || hidden(out, e.path()) || !report_reads(e.path())) continue;
                const fs::path target = dest->path() / fs::relative(e.path(), out);
                fs::create_directories(target.parent_path());
                fs::copy_file(e.path(), target, fs::copy_options::overwrite_existing);
            }
            // The links of gallery.md point into DIR/gallery/: written after the folder is in place.
            dest->commit();
            const auto g = write_report(fs::path(gallery) / "gallery", fs::path(gallery) / "gallery.md", opt);
            std::cerr << "gallery: " << (fs::path(gallery) / "gallery.md").string() << " (" << g.size() << " figures)\n";
        });
}
