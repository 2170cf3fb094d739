// Tests for io/: .npy round trips and malformed files, CSV writing, gnuplot figures.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/npy.hpp"

using namespace neurodyn;
namespace fs = std::filesystem;

namespace {
fs::path tmpdir(const char* name) {
    const fs::path d = fs::path(NEURODYN_TEST_TMP_DIR) / name;
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE_TEMPLATE("npy: 3-D round trip keeps shape and values", T, float, double) {
    const auto d = tmpdir("npy_roundtrip");
    xt::xarray<T> a = xt::zeros<T>({2, 3, 4});
    for (std::size_t i = 0; i < a.size(); ++i) a.flat(i) = T(0.5) * T(i) - T(3);
    save_npy(d / "a.npy", a);
    const auto b = load_npy<T>(d / "a.npy", 3);
    REQUIRE(b.shape() == a.shape());
    CHECK(b == a);
    // A float32 file reads as double too.
    const auto c = load_npy<double>(d / "a.npy");
    CHECK(c(1, 2, 3) == doctest::Approx(double(a(1, 2, 3))));
}

TEST_CASE("npy: Eigen matrices are written in C order") {
    const auto d = tmpdir("npy_eigen");
    Matrix<double> m(2, 3);
    m << 1, 2, 3, 4, 5, 6;
    save_npy(d / "m.npy", m);
    const auto a = load_npy<double>(d / "m.npy", 2);
    REQUIRE(a.shape()[0] == 2);
    REQUIRE(a.shape()[1] == 3);
    CHECK(a(0, 2) == 3.0);
    CHECK(a(1, 0) == 4.0);
    Vector<float> v(3);
    v << 1, 2, 3;
    save_npy(d / "v.npy", v);
    CHECK(load_npy<float>(d / "v.npy", 1)(2) == 3.0f);
}

TEST_CASE("npy: a header written by numpy loads (Fortran order too)") {
    const auto d = tmpdir("npy_numpy");
    // The exact bytes np.save writes for np.asfortranarray([[1., 2.], [3., 4.]]).
    std::string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }";
    header.append(128 - 10 - header.size() - 1, ' ');
    header += '\n';
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
    bytes += char(header.size() & 0xff);
    bytes += char(header.size() >> 8);
    bytes += header;
    const double data[4] = {1, 3, 2, 4};  // column-major
    bytes.append(reinterpret_cast<const char*>(data), sizeof data);
    std::ofstream(d / "f.npy", std::ios::binary) << bytes;
    const auto a = load_npy<double>(d / "f.npy", 2);
    CHECK(a(0, 1) == 2.0);
    CHECK(a(1, 0) == 3.0);
}

TEST_CASE("npy: malformed files throw file_error naming the file") {
    const auto d = tmpdir("npy_bad");
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "missing.npy"), doctest::Contains("missing.npy"), file_error);
    std::ofstream(d / "text.npy") << "hello world, not numpy";
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "text.npy"), doctest::Contains("not a .npy"), file_error);
    xt::xarray<double> a = xt::ones<double>({4, 5});
    save_npy(d / "full.npy", a);
    const std::string full = slurp(d / "full.npy");
    std::ofstream(d / "cut.npy", std::ios::binary) << full.substr(0, full.size() - 9);
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "cut.npy"), doctest::Contains("truncated"), file_error);
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "full.npy", 3), doctest::Contains("shape"), file_error);
    xt::xarray<int> ints = xt::ones<int>({3});
    save_npy(d / "int.npy", ints);
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "int.npy"), doctest::Contains("dtype"), file_error);
}

TEST_CASE("CsvWriter: header, rows, quoting, column count") {
    const auto d = tmpdir("csv");
    CsvWriter csv({"name", "x", "y"});
    csv.row("a", 1, 0.25).row(std::string("b,c"), -2, 1e-3);
    CHECK(csv.rows() == 2);
    CHECK_THROWS_AS(csv.row("too", "few"), invalid_parameter);
    csv.save(d / "t.csv");
    CHECK(slurp(d / "t.csv") == "name,x,y\na,1,0.25\n\"b,c\",-2,0.001\n");
}

TEST_CASE("Gnuplot: renders a PNG and reports a broken script") {
    if (!gnuplot_available()) {
        MESSAGE("gnuplot not installed; skipping");
        return;
    }
    const auto d = tmpdir("gnuplot");
    Gnuplot ok(d / "ok.png", 300, 200);
    ok << "plot sin(x)\n";
    ok.render();
    const std::string png = slurp(d / "ok.png");
    REQUIRE(png.size() > 8);
    CHECK(png.substr(1, 3) == "PNG");
    Gnuplot bad(d / "bad.png");
    bad << "plot this is not gnuplot\n";
    CHECK_THROWS_AS(bad.render(), file_error);
}
