// Tests for analysis/metrics.hpp: pVar, joint normalisation, logit targets.
#include <doctest/doctest.h>

#include <cmath>

#include "neurodyn/analysis/metrics.hpp"

using namespace neurodyn;

TEST_CASE_TEMPLATE("pvar: perfect fit, mean fit, and a known value", T, float, double) {
    xt::xtensor<T, 2> R = {{1, 2, 3}, {4, 5, 6}};  // mean 3.5, Σ(R−R̄)² = 17.5
    CHECK(pvar(R, R) == 1.0);
    xt::xtensor<T, 2> flat = xt::xtensor<T, 2>::from_shape({2, 3});
    flat.fill(T(3.5));
    CHECK(pvar(R, flat) == doctest::Approx(0.0));
    xt::xtensor<T, 2> off = R + T(1);  // Σ err² = 6
    CHECK(pvar(R, off) == doctest::Approx(1.0 - 6.0 / 17.5));
    Matrix<T> A(2, 3), B(2, 3);
    A << 1, 2, 3, 4, 5, 6;
    B = A.array() + T(1);
    CHECK(pvar(A, B) == doctest::Approx(1.0 - 6.0 / 17.5));
    CHECK_THROWS_AS(pvar(R, xt::xtensor<T, 2>::from_shape({3, 2})), invalid_parameter);
    CHECK_THROWS_AS(pvar(flat, R), invalid_parameter);
}

TEST_CASE_TEMPLATE("pvar with the target's denominator computed once is bitwise pvar", T, float, double) {
    Matrix<T> R(7, 300), r(7, 300);
    for (index_t i = 0; i < R.rows(); ++i)
        for (index_t k = 0; k < R.cols(); ++k) {
            R(i, k) = T(std::sin(0.05 * double(k) + double(i)));
            r(i, k) = R(i, k) + T(0.1 * std::cos(0.3 * double(k * i)));
        }
    const double den = pvar_denominator(R);
    CHECK(den == doctest::Approx((R.template cast<double>().array() - R.template cast<double>().mean()).square().sum()));
    CHECK(pvar(R, r, den) == pvar(R, r));  // the same operations in the same order
    CHECK(pvar(R, R, den) == 1.0);
    CHECK_THROWS_AS(pvar(R, r, 0.0), invalid_parameter);
    CHECK_THROWS_AS(pvar(R, Matrix<T>(7, 299), den), invalid_parameter);
    CHECK_THROWS_AS(pvar_denominator(Matrix<T>::Constant(3, 4, T(2))), invalid_parameter);
}

TEST_CASE("normalise_jointly: one scale across conditions, per neuron") {
    xt::xtensor<double, 3> r = xt::zeros<double>({2, 2, 3});
    // neuron 0: right 0..10, left 5 constant -> joint min 0, max 10
    r(0, 0, 0) = 0; r(0, 0, 1) = 5; r(0, 0, 2) = 10;
    r(1, 0, 0) = 5; r(1, 0, 1) = 5; r(1, 0, 2) = 5;
    // neuron 1: constant -> eps
    r(0, 1, 0) = r(0, 1, 1) = r(0, 1, 2) = r(1, 1, 0) = r(1, 1, 1) = r(1, 1, 2) = 7;
    const auto n = normalise_jointly(r, 1e-3);
    CHECK(n(0, 0, 0) == 1e-3);
    CHECK(n(0, 0, 1) == 0.5);
    CHECK(n(0, 0, 2) == 1 - 1e-3);
    CHECK(n(1, 0, 2) == 0.5);  // the left trial stays on the right trial's scale
    CHECK(n(1, 1, 1) == 1e-3);
    const auto f = training_targets(r, 1e-3);
    CHECK(f(0, 0, 1) == doctest::Approx(0.0));
    CHECK(f(0, 0, 2) == doctest::Approx(std::log(0.999 / 0.001)));
    r(1, 1, 2) = std::nan("");
    CHECK_THROWS_WITH_AS(normalise_jointly(r), doctest::Contains("neuron 1, step 2"), invalid_parameter);
    CHECK_THROWS_AS(normalise_jointly(r, 0.6), invalid_parameter);
}
