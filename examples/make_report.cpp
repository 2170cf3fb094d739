// make_report: collect the manifests the examples wrote under an output folder into one
// Markdown report (every PNG embedded with its caption, key numbers as tables). With
// --gallery DIR it also copies the figures and manifests into DIR/gallery/ and writes
// DIR/gallery.md, so the results can be read without building.
//
//   make_report --out out --report out/report.md [--gallery docs]
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/report.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;

int main(int argc, char** argv) {
    CLI::App app{"Build the Markdown report of the example outputs"};
    std::string out = "out", report, gallery, intro;
    std::vector<std::string> order = {"attractors", "attractors_two_hemi_ramp", "attractors_continuous", "session",
                                      "training_raw", "training_suppressed", "noise_robustness", "structure"};
    app.add_option("--out", out, "folder holding the examples' output folders")->capture_default_str();
    app.add_option("--report", report, "report file (default: OUT/report.md)");
    app.add_option("--gallery", gallery, "also copy figures to DIR/gallery/ and write DIR/gallery.md");
    app.add_option("--intro", intro, "paragraph under the title");
    app.add_option("--order", order, "output folders to put first, in order")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    try {
        if (report.empty()) report = (fs::path(out) / "report.md").string();
        ReportOptions opt{"neurodyn: persistent activity in ALM, reproduced", intro, order};
        const auto figures = write_report(out, report, opt);
        std::cerr << "report: " << report << " (" << figures.size() << " figures)\n";
        if (!gallery.empty()) {
            // Copy only what the report shows: the manifests and PNGs, keeping the folders.
            const fs::path dest = fs::path(gallery) / "gallery";
            fs::remove_all(dest);
            for (const auto& e : fs::recursive_directory_iterator(out)) {
                if (!e.is_regular_file()) continue;
                const auto name = e.path().filename();
                if (e.path().extension() != ".png" && name != Manifest::file_name) continue;
                const fs::path target = dest / fs::relative(e.path(), out);
                fs::create_directories(target.parent_path());
                fs::copy_file(e.path(), target, fs::copy_options::overwrite_existing);
            }
            const auto g = write_report(dest, fs::path(gallery) / "gallery.md", opt);
            std::cerr << "gallery: " << (fs::path(gallery) / "gallery.md").string() << " (" << g.size() << " figures)\n";
        }
    } catch (const neurodyn::error& e) {
        std::cerr << e.what() << '\n';
        return 1;
    } catch (const fs::filesystem_error& e) {
        std::cerr << "neurodyn: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
