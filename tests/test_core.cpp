// Tests for core/: RNG streams, time grid, epochs, errors, atomic files.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "neurodyn/core.hpp"

using namespace neurodyn;

namespace {
template <class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const error& e) {
        return e.what();
    }
    return "";
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("Rng: a stream is fully determined by (seed, stream, substream)") {
    Rng a(42, 7), b(42, 7);
    for (int i = 0; i < 1000; ++i) REQUIRE(a() == b());
    Rng c(42, 7, 1), d(43, 7), e(42, 8);
    Rng a2(42, 7);
    int same_c = 0, same_d = 0, same_e = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto x = a2();
        same_c += (x == c());
        same_d += (x == d());
        same_e += (x == e());
    }
    CHECK(same_c == 0);
    CHECK(same_d == 0);
    CHECK(same_e == 0);
}

TEST_CASE("Rng: streams of neighbouring trial indices are uncorrelated") {
    // Pearson correlation of n pairs of independent normals has sd 1/sqrt(n); 5 sd bound.
    const int n = 20000;
    for (std::uint64_t trial = 0; trial < 4; ++trial) {
        Rng x(1, trial), y(1, trial + 1);
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; ++i) {
            const double u = x.normal(), v = y.normal();
            sxy += u * v;
            sxx += u * u;
            syy += v * v;
        }
        CHECK(std::abs(sxy / std::sqrt(sxx * syy)) < 5.0 / std::sqrt(double(n)));
    }
}

TEST_CASE("Rng: normal deviates have mean 0 and variance 1") {
    Rng r(2024, 0);
    const int n = 200000;
    double s = 0, s2 = 0, s4 = 0;
    for (int i = 0; i < n; ++i) {
        const double z = r.normal();
        s += z;
        s2 += z * z;
        s4 += z * z * z * z;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    CHECK(std::abs(mean) < 5.0 / std::sqrt(double(n)));            // sd of the mean: 1/sqrt(n)
    CHECK(std::abs(var - 1.0) < 5.0 * std::sqrt(2.0 / double(n)));  // sd of the variance: sqrt(2/n)
    CHECK(std::abs(s4 / n - 3.0) < 5.0 * std::sqrt(96.0 / double(n)));  // Var(z^4) = 96
}

TEST_CASE("Rng: uniform stays in range and below() is unbiased") {
    Rng r(5);
    std::vector<int> counts(6, 0);
    const int n = 60000;
    for (int i = 0; i < n; ++i) {
        const double u = r.uniform(), w = r.uniform_open();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        REQUIRE(w > 0.0);
        REQUIRE(w < 1.0);
        ++counts[r.below(6)];
    }
    // Each count ~ Binomial(n, 1/6): sd = sqrt(n p (1-p)); 5 sd bound.
    const double sd = std::sqrt(n * (1.0 / 6) * (5.0 / 6));
    for (int c : counts) CHECK(std::abs(c - n / 6.0) < 5 * sd);
}

TEST_CASE("Rng: saving and restoring the state continues the stream exactly") {
    Rng r(9, 3);
    for (int i = 0; i < 11; ++i) r.normal();  // leaves a cached spare deviate
    const RngState saved = r.state();
    std::vector<double> first;
    for (int i = 0; i < 50; ++i) first.push_back(r.normal());
    Rng other(0);
    other.set_state(saved);
    for (int i = 0; i < 50; ++i) CHECK(other.normal() == first[i]);
}

TEST_CASE_TEMPLATE("Rng: fill_normal works for float and double", T, float, double) {
    Rng a(1, 2), b(1, 2);
    Vector<T> v(10);
    a.fill_normal(v);
    for (int i = 0; i < 10; ++i) CHECK(v[i] == b.normal<T>());
}

TEST_CASE("TimeGrid: times and indices") {
    TimeGrid g(0.5, 100, 10.0);
    CHECK(g.time(0) == 10.0);
    CHECK(g.time(4) == 12.0);
    CHECK(g.index_at(12.0) == 4);
    CHECK(g.index_at(12.1) == 5);
    CHECK(g.duration() == 50.0);
    CHECK(g.t_end() == doctest::Approx(59.5));
    CHECK_THROWS_AS(TimeGrid(0.0, 10), invalid_parameter);
    CHECK_THROWS_AS(TimeGrid(1.0, 0), invalid_parameter);
    CHECK(contains(message_of([] { TimeGrid(-1.0, 10); }), "'dt' = -1"));
}

TEST_CASE("TaskEpochs: conversion to steps at the edges") {
    TaskEpochs ep(6000);
    ep.add("sample", 1500, 2500).add("delay", 2500, 4500).add("response", 4500, 6000).add("presample", 0, 1500);
    SUBCASE("1 ms grid: steps [start, end)") {
        TimeGrid g(1.0, 6000);
        CHECK(ep.steps("presample", g).first == 0);
        CHECK(ep.steps("sample", g).first == 1500);
        CHECK(ep.steps("sample", g).last == 2500);
        CHECK(ep.steps("delay", g).size() == 2000);
        CHECK(ep.steps("response", g).last == 6000);
        // adjacent epochs share no step and leave no gap
        CHECK(ep.steps("sample", g).last == ep.steps("delay", g).first);
    }
    SUBCASE("0.1 ms grid: no step lost to rounding") {
        TimeGrid g(0.1, 60000);
        CHECK(ep.steps("sample", g).first == 15000);
        CHECK(ep.steps("sample", g).last == 25000);
        CHECK(ep.steps("delay", g).size() == 20000);
    }
    SUBCASE("coarse grid: a step belongs to the epoch containing its time") {
        TimeGrid g(3.0, 2000);
        const auto s = ep.steps("sample", g);  // times 1500 … 2499 -> steps 500 … 833
        CHECK(s.first == 500);
        CHECK(s.last == 834);
        CHECK(g.time(s.last - 1) < 2500.0);
        CHECK(g.time(s.last) >= 2500.0);
    }
    SUBCASE("lookup") {
        CHECK(ep.all().front().name == "presample");
        CHECK(ep.at(2499.9)->name == "sample");
        CHECK(ep.at(2500.0)->name == "delay");
        CHECK(ep["delay"].duration() == 2000.0);
        CHECK(contains(message_of([&] { (void)ep["go"]; }), "'go'"));
    }
}

TEST_CASE("TaskEpochs: invalid epochs name the epoch") {
    TaskEpochs ep(5000);
    ep.add("sample", 1000, 2000);
    const auto negative = message_of([&] { ep.add("baseline", -10, 1000); });
    CHECK(contains(negative, "'epoch baseline'"));
    CHECK(contains(negative, "before 0"));
    const auto overlap = message_of([&] { ep.add("delay", 1900, 3000); });
    CHECK(contains(overlap, "'epoch delay'"));
    CHECK(contains(overlap, "overlaps epoch 'sample'"));
    const auto beyond = message_of([&] { ep.add("response", 4000, 5200); });
    CHECK(contains(beyond, "'epoch response'"));
    CHECK(contains(beyond, "within the trial"));
    CHECK(contains(message_of([&] { ep.add("empty", 3000, 3000); }), "'epoch empty'"));
    CHECK(contains(message_of([&] { ep.add("sample", 3000, 3100); }), "already used"));
    CHECK(contains(message_of([&] { ep.add("nan", std::nan(""), 3100); }), "'epoch nan'"));
    // Touching intervals are fine: [2000, 3000) starts where sample ends.
    CHECK_NOTHROW(ep.add("delay", 2000, 3000));
    CHECK_THROWS_AS(TaskEpochs(0), invalid_parameter);
}

TEST_CASE("errors: messages name parameter, value and what is allowed") {
    const auto m = message_of([] { require_positive("tau", -2.5); });
    CHECK(contains(m, "'tau'"));
    CHECK(contains(m, "-2.5"));
    CHECK(contains(m, "> 0"));
    CHECK(contains(message_of([] { require_positive("tau", std::nan("")); }), "'tau' = nan"));
    CHECK(contains(message_of([] { require_size("x0", 3, 4); }), "must have size 4"));
    numerical_error ne("NaN in state", 123, 4);
    CHECK(contains(ne.what(), "step 123"));
    CHECK(contains(ne.what(), "trial 4"));
    file_error fe("a.mat", "unit(3).SpikeTimes", "missing");
    CHECK(contains(fe.what(), "a.mat"));
    CHECK(contains(fe.what(), "unit(3).SpikeTimes"));
}

TEST_CASE("write_atomically: complete file or untouched target") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(NEURODYN_TEST_TMP_DIR) / "atomic";
    fs::remove_all(dir);
    const fs::path target = dir / "x.txt";
    write_atomically(target, [](std::ostream& os) { os << "first"; });
    std::string content;
    std::getline(std::ifstream(target), content);
    CHECK(content == "first");
    // A writer that throws leaves the old content and no temporary behind.
    CHECK_THROWS(write_atomically(target, [](std::ostream& os) {
        os << "partial";
        throw std::runtime_error("interrupted");
    }));
    std::getline(std::ifstream(target), content);
    CHECK(content == "first");
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
    CHECK(files == 1);
}
