// Tests for io/: .npy round trips and malformed files, CSV writing, gnuplot figures.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/npy.hpp"

#include "support.hpp"

using namespace neurodyn;
namespace fs = std::filesystem;

namespace {
}  // namespace

TEST_CASE_TEMPLATE("npy: 3-D round trip keeps shape and values", T, float, double) {
    // One folder per scalar type: ctest runs the float and double cases in parallel.
    const auto d = neurodyn_test::fresh_dir(sizeof(T) == 4 ? "npy_roundtrip_float" : "npy_roundtrip_double");
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
    const auto d = neurodyn_test::fresh_dir("npy_eigen");
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
    const auto d = neurodyn_test::fresh_dir("npy_numpy");
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
    const auto d = neurodyn_test::fresh_dir("npy_bad");
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "missing.npy"), doctest::Contains("missing.npy"), file_error);
    std::ofstream(d / "text.npy") << "hello world, not numpy";
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "text.npy"), doctest::Contains("not a .npy"), file_error);
    xt::xarray<double> a = xt::ones<double>({4, 5});
    save_npy(d / "full.npy", a);
    const std::string full = neurodyn_test::slurp(d / "full.npy");
    std::ofstream(d / "cut.npy", std::ios::binary) << full.substr(0, full.size() - 9);
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "cut.npy"), doctest::Contains("truncated"), file_error);
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "full.npy", 3), doctest::Contains("shape"), file_error);
    xt::xarray<int> ints = xt::ones<int>({3});
    save_npy(d / "int.npy", ints);
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "int.npy"), doctest::Contains("dtype"), file_error);
}

namespace {
/// A .npy file with a hand-written version-1 header and `data_bytes` zero bytes of data.
fs::path hand_written_npy(const fs::path& d, const std::string& name, const std::string& dict, std::size_t data_bytes) {
    std::string header = dict;
    header.append(64 - (10 + header.size() + 1) % 64, ' ');
    header += '\n';
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
    bytes += char(header.size() & 0xff);
    bytes += char(header.size() >> 8);
    bytes += header;
    bytes.append(data_bytes, '\0');
    std::ofstream(d / name, std::ios::binary) << bytes;
    return d / name;
}
}  // namespace

TEST_CASE("npy: a header declaring more data than the file holds is refused before allocating") {
    const auto d = neurodyn_test::fresh_dir("npy_shape");
    // (2, 2^62, 4) float64: 2^68 bytes, more than 64 bits can count (xtensor threw length_error).
    const auto huge = hand_written_npy(d, "huge.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4611686018427387904, 4), }", 64);
    try {
        (void)load_npy<double>(huge, 3);
        FAIL("no error for a header declaring 2^68 bytes");
    } catch (const file_error& e) {
        CHECK(e.field() == "shape");
        const std::string w = e.what();
        CHECK(w.find("(2, 4611686018427387904, 4)") != std::string::npos);
        CHECK(w.find("more than 2^64") != std::string::npos);
        CHECK(w.find("only 64 bytes after its header") != std::string::npos);
    }
    // (1000, 1000) float32 fits in 64 bits (4e6 bytes) but not in a 64-byte file.
    const auto big = hand_written_npy(d, "big.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", 64);
    CHECK_THROWS_WITH_AS(load_npy<float>(big), doctest::Contains("(4000000 bytes of data), but the file has only 64"),
                         file_error);
    // Exactly the declared bytes: loads (a hand-written header is read the way numpy writes it).
    const auto ok = hand_written_npy(d, "ok.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 64);
    const auto a = load_npy<double>(ok, 2);
    CHECK(a.shape()[0] == 4);
    CHECK(a.shape()[1] == 4);
    CHECK(a(3, 3) == 0.0);
    // Empty arrays are fine; negative or non-numeric dimensions are not.
    CHECK(load_npy<double>(hand_written_npy(d, "empty.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", 0)).size() == 0);
    CHECK_THROWS_WITH_AS(load_npy<double>(hand_written_npy(d, "neg.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 3), }", 64)),
                         doctest::Contains("'-1'"), file_error);
    CHECK_THROWS_WITH_AS(load_npy<double>(hand_written_npy(d, "text.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", 64)),
                         doctest::Contains("field 'shape'"), file_error);
    CHECK_THROWS_WITH_AS(load_npy<double>(hand_written_npy(d, "order.npy", "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", 64)),
                         doctest::Contains("fortran_order"), file_error);
    // A header length pointing past the end of the file.
    std::string cut("\x93NUMPY\x01\x00", 8);
    cut += char(0xff);
    cut += char(0x7f);
    cut += "{'descr'";
    std::ofstream(d / "cut_header.npy", std::ios::binary) << cut;
    CHECK_THROWS_WITH_AS(load_npy<double>(d / "cut_header.npy"), doctest::Contains("32767 header bytes"), file_error);
}

TEST_CASE("CsvWriter: header, rows, quoting, column count") {
    const auto d = neurodyn_test::fresh_dir("csv");
    CsvWriter csv({"name", "x", "y"});
    csv.row("a", 1, 0.25).row(std::string("b,c"), -2, 1e-3);
    CHECK(csv.rows() == 2);
    CHECK_THROWS_AS(csv.row("too", "few"), invalid_parameter);
    csv.save(d / "t.csv");
    CHECK(neurodyn_test::slurp(d / "t.csv") == "name,x,y\na,1,0.25\n\"b,c\",-2,0.001\n");
}

TEST_CASE("Gnuplot: renders a PNG and reports a broken script") {
    if (!gnuplot_available()) {
        MESSAGE("gnuplot not installed; skipping");
        return;
    }
    const auto d = neurodyn_test::fresh_dir("gnuplot");
    Gnuplot ok(d / "ok.png", 300, 200);
    ok << "plot sin(x)\n";
    ok.render();
    const std::string png = neurodyn_test::slurp(d / "ok.png");
    REQUIRE(png.size() > 8);
    CHECK(png.substr(1, 3) == "PNG");
    Gnuplot bad(d / "bad.png");
    bad << "plot this is not gnuplot\n";
    CHECK_THROWS_AS(bad.render(), file_error);
}
