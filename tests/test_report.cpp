// Tests for io/manifest.hpp and io/report.hpp: the report lists every figure the examples wrote.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/report.hpp"

#include "support.hpp"

using namespace neurodyn;
namespace fs = std::filesystem;

namespace {
void touch_png(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << "\x89PNG";
}
}  // namespace

TEST_CASE("Manifest: figures and numbers survive a save/open round trip") {
    const fs::path d = fs::path(NEURODYN_TEST_TMP_DIR) / "manifest";
    fs::remove_all(d);
    auto m = Manifest::open(d, "Attractors");
    m.figure("a.png", "first").number("fraction correct", 0.875).number("rank", 39, "");
    m.figure("a.png", "renamed");
    m.save();
    const auto back = Manifest::open(d);
    CHECK(back.title() == "Attractors");
    REQUIRE(back.figures().size() == 1);
    CHECK(back.figures()[0].caption == "renamed");
    REQUIRE(back.numbers().size() == 2);
    CHECK(back.numbers()[0].value == 0.875);
    std::ofstream(d / "manifest.json") << "{ not json";
    CHECK_THROWS_AS(Manifest::open(d), file_error);
}

TEST_CASE("write_report: every PNG appears, in the requested order, with captions and numbers") {
    const fs::path root = fs::path(NEURODYN_TEST_TMP_DIR) / "report";
    fs::remove_all(root);
    touch_png(root / "session" / "cd.png");
    touch_png(root / "attractors" / "perf.png");
    touch_png(root / "attractors" / "endpoints.png");
    touch_png(root / "stray" / "unlisted.png");  // a figure no manifest mentions
    // The temporary of an output folder still being written (or of a killed run): ignored.
    touch_png(root / ".session.partial-123-0" / "cd.png");
    Manifest::open(root / ".session.partial-123-0", "Half-written").figure("cd.png", "partial").save();
    Manifest::open(root / "session", "Session analysis").figure("cd.png", "CD projection").save();
    Manifest::open(root / "attractors", "Attractor model")
        .figure("perf.png", "Performance vs PV")
        .figure("endpoints.png", "")
        .figure("missing.png", "never written")
        .number("fraction correct, PV = 0", 0.89)
        .save();
    ReportOptions opt;
    opt.title = "Demo";
    opt.order = {"attractors", "session"};
    const auto figs = write_report(root, root / "report.md", opt);
    const std::string md = neurodyn_test::slurp(root / "report.md");
    CHECK(figs.size() == 4);
    for (const char* png : {"session/cd.png", "attractors/perf.png", "attractors/endpoints.png", "stray/unlisted.png"}) {
        CHECK(std::find(figs.begin(), figs.end(), png) != figs.end());
        CHECK(md.find(std::string("(") + png + ")") != std::string::npos);
    }
    CHECK(md.find("partial") == std::string::npos);
    CHECK(md.find("Half-written") == std::string::npos);
    CHECK(md.find("missing.png") == std::string::npos);  // listed but never written: not embedded
    CHECK(md.find("*Performance vs PV*") != std::string::npos);
    CHECK(md.find("*endpoints*") != std::string::npos);  // no caption: the file name stands in
    CHECK(md.find("| fraction correct, PV = 0 | 0.89 |") != std::string::npos);
    CHECK(md.find("## Attractor model") < md.find("## Session analysis"));
    CHECK(md.find("## Other figures") != std::string::npos);
    CHECK_THROWS_AS(write_report(root / "nope", root / "r.md"), file_error);
}

TEST_CASE("Gnuplot::render lists the figure and its caption in the folder's manifest") {
    if (!gnuplot_available()) {
        MESSAGE("gnuplot not installed; skipping");
        return;
    }
    const fs::path d = fs::path(NEURODYN_TEST_TMP_DIR) / "gnuplot_manifest";
    fs::remove_all(d);
    Gnuplot fig(d / "sine.png", 200, 150);
    fig << "plot sin(x)\n";
    fig.caption("A sine wave").render();
    const auto m = Manifest::open(d);
    REQUIRE(m.figures().size() == 1);
    CHECK(m.figures()[0].file == "sine.png");
    CHECK(m.figures()[0].caption == "A sine wave");
}

TEST_CASE("write_report: a fixed_points folder's summary becomes a table of points per realisation") {
    const fs::path root = fs::path(NEURODYN_TEST_TMP_DIR) / "report_fixed_points";
    fs::remove_all(root);
    Manifest::open(root / "fixed_points_raw", "Fixed points: trained network").number("realisations analysed", 2).save();
    // As fixed_points writes it: lists joined by ';', a note with commas quoted.
    std::ofstream(root / "fixed_points_raw" / "fixed_points_summary.csv")
        << "realization,condition,stable,stable_cd,stable_slowest_eigenvalue,saddles,saddle_cd,saddle_n_unstable,slow,"
           "other,not_converged,attractor_pair,note\n"
        << "0,delay_mean,2,0.012;1.02,-0.011;-0.016,3,-0.2;0.47;0.9,1;1;2,3,0,5,1,\n"
        << "1,,0,,,0,,,0,0,0,0,\"not analysed: right - left differ by 1e-05; train it, longer\"\n"
        << "2,delay_mean,1,0.5,-0.002,0,,,0,0,0,0,\n";
    write_report(root, root / "report.md");
    const std::string md = neurodyn_test::slurp(root / "report.md");
    CHECK(md.find("| 0 | delay_mean | 2: 0.012 (-0.011), 1.02 (-0.016) | 3 (-0.2, 0.47) | 3 | 5 | yes |") != std::string::npos);
    CHECK(md.find("| 1 | not analysed: right - left differ by 1e-05; train it, longer | | | | | |") != std::string::npos);
    CHECK(md.find("| 2 | delay_mean | 1: 0.5 (-0.002) | 0 | 0 | 0 | no |") != std::string::npos);
    // The table follows the folder's numbers, inside its section.
    CHECK(md.find("| realisations analysed | 2 |") < md.find("| 0 | delay_mean |"));
    // A summary that lost a column, or a row of the wrong length, is refused naming the file.
    std::ofstream(root / "fixed_points_raw" / "fixed_points_summary.csv") << "realization,condition\n0,delay\n";
    CHECK_THROWS_AS(write_report(root, root / "report.md"), file_error);
    std::ofstream(root / "fixed_points_raw" / "fixed_points_summary.csv")
        << "realization,condition,stable,stable_cd,stable_slowest_eigenvalue,saddles,saddle_cd,saddle_n_unstable,slow,"
           "other,not_converged,attractor_pair,note\n0,delay,2\n";
    CHECK_THROWS_AS(write_report(root, root / "report.md"), file_error);
}

TEST_CASE("report_reads: the files a gallery must copy for the report to show the same") {
    CHECK(report_reads("a/manifest.json"));
    CHECK(report_reads("a/b/figure.png"));
    CHECK(report_reads("fp/fixed_points_summary.csv"));  // rendered as a table
    CHECK_FALSE(report_reads("fp/fixed_points.csv"));
    CHECK_FALSE(report_reads("training/J_trained_0.npy"));
}
