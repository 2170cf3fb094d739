// Figures without a shell: gnuplot is spawned with an argument vector in the figure's folder,
// and text quoted into a script cannot end the command it sits in.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "neurodyn/io/gnuplot.hpp"

#include "support.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;

namespace {
}  // namespace

TEST_CASE("gnuplot_quote doubles single quotes and refuses control characters") {
    CHECK(gnuplot_quote("a.csv") == "'a.csv'");
    CHECK(gnuplot_quote("it's") == "'it''s'");
    CHECK(gnuplot_quote("$(touch x)") == "'$(touch x)'");  // no shell reads it: nothing to escape
    CHECK_THROWS_AS(gnuplot_quote("a\nsystem 'touch x'"), invalid_parameter);
    CHECK_THROWS_AS(gnuplot_quote(std::string("a\0b", 3)), invalid_parameter);
    CHECK_THROWS_AS(gnuplot_quote("tab\there"), invalid_parameter);
}

TEST_CASE("find_program searches the PATH without a shell") {
    CHECK(find_program("sh").has_value());
    CHECK_FALSE(find_program("neurodyn-no-such-program-x7").has_value());
}

TEST_CASE("Gnuplot: a hostile output path runs no command and still gets its figure") {
    REQUIRE_MESSAGE(gnuplot_available(), "gnuplot is a dependency (scripts/install-deps.sh installs it)");
    const fs::path root = neurodyn_test::fresh_dir("gnuplot_hostile");
    const fs::path pwned = root / "PWNED";
    // The folder name of the issue report: a quote, a space and a command substitution. With
    // the old std::system route this created root/PWNED.
    const fs::path dir = root / "a b'$(touch PWNED)";
    fs::create_directories(dir);
    {
        std::ofstream(dir / "line.csv") << "0,0\n1,1\n";
    }
    const fs::path cwd = fs::current_path();
    fs::current_path(root);  // a relative command substitution would land here
    Gnuplot fig(fs::path("a b'$(touch PWNED)") / "fig's.png", 200, 150);
    fig << "plot " << gnuplot_quote("line.csv") << " using 1:2 with lines\n";
    fig.caption("line");
    fig.render();
    fs::current_path(cwd);
    CHECK_FALSE(fs::exists(pwned));
    CHECK_FALSE(fs::exists(dir / "PWNED"));
    const std::string png = neurodyn_test::slurp(dir / "fig's.png");
    REQUIRE(png.size() > 8);
    CHECK(png.substr(1, 3) == "PNG");
    // The script kept beside the figure names only the bare file name, so it re-runs in place.
    const std::string gp = neurodyn_test::slurp(dir / "fig's.gp");
    CHECK(gp.find("set output 'fig''s.png'") != std::string::npos);
    CHECK(gp.find("PWNED") == std::string::npos);
}

TEST_CASE("Gnuplot: a newline in the figure name is refused before anything runs") {
    const fs::path root = neurodyn_test::fresh_dir("gnuplot_newline");
    CHECK_THROWS_AS(Gnuplot(root / "x\nsystem 'touch PWNED'\n.png"), invalid_parameter);
    CHECK(fs::is_empty(root));
}

TEST_CASE("Gnuplot: a failing script is a file_error naming the log and quoting gnuplot, and leaves no manifest entry") {
    REQUIRE(gnuplot_available());
    const fs::path root = neurodyn_test::fresh_dir("gnuplot_fail");
    Gnuplot bad(root / "bad.png", 200, 150);
    bad << "plot this is not gnuplot\n";
    try {
        bad.render();
        FAIL("render() should have thrown");
    } catch (const file_error& e) {
        const std::string what = e.what();
        CHECK(what.find("exit code") != std::string::npos);
        CHECK(what.find("bad.gp.log") != std::string::npos);
        // gnuplot's own complaint ("bad.gp" line N: ...), since a failed program's folder is discarded
        CHECK(what.find("\"bad.gp\" line") != std::string::npos);
    }
    CHECK(fs::exists(root / "bad.gp.log"));
    CHECK_FALSE(fs::exists(root / "manifest.json"));
}
