// Tests for learn/: RLS updater, fused weight update, training policies, ForceTrainer,
// checkpoints (io/checkpoint.hpp) and the synthetic targets it trains on.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <filesystem>
#include <fstream>
#include <thread>

#include <Eigen/Dense>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "neurodyn/analysis/metrics.hpp"
#include "neurodyn/experiments/synthetic_targets.hpp"
#include "neurodyn/inputs/frozen_ou.hpp"
#include "neurodyn/io/checkpoint.hpp"
#include "neurodyn/io/npy.hpp"
#include "neurodyn/learn/force_trainer.hpp"
#include "neurodyn/learn/rls.hpp"
#include "neurodyn/learn/training_policy.hpp"
#include "neurodyn/integrate/rk4.hpp"
#include "neurodyn/integrate/exponential_euler.hpp"

#include "support.hpp"

using namespace neurodyn;
using namespace neurodyn::learn;

namespace {
namespace fs = std::filesystem;

fs::path tmp_dir(const std::string& name) { return neurodyn_test::fresh_dir("learn_" + name); }

/// Logistic-like positive samples, as FORCE sees them.
template <class T>
Matrix<T> samples(index_t n, index_t count, std::uint64_t seed) {
    Rng rng(seed);
    Matrix<T> X(n, count);
    for (index_t t = 0; t < count; ++t)
        for (index_t i = 0; i < n; ++i) X(i, t) = T(1.0 / (1.0 + std::exp(-1.5 * rng.normal())));
    return X;
}

double rel(const Matrix<double>& a, const Matrix<double>& b) { return (a - b).norm() / b.norm(); }

/// A short task for training tests: 87 units, 500 ms trials (epochs 100/100/200/100 ms).
struct ShortTask {
    SyntheticTargetOptions o;
    SyntheticTargets t;
    TimeGrid grid;
    explicit ShortTask(std::uint64_t seed, index_t n = 87)
        : o{n, 1.0, 100, 100, 200, 100, seed}, t(synthetic_targets(o)), grid(1.0, index_t(t.rates.shape()[2])) {}
    template <class T>
    xt::xtensor<T, 3> rates() const {
        xt::xtensor<T, 3> r = xt::cast<T>(normalise_jointly(t.rates));
        return r;
    }
    template <class T>
    xt::xtensor<T, 3> inputs(std::uint64_t seed) const {
        return FrozenOu{1000.0, 10.0}.generate<T>(o.neurons, 2, grid, t.epochs, {"presample", "delay"}, seed);
    }
};

template <class T>
RateNetwork<Logistic<T>, T> random_net(index_t n, std::uint64_t seed, double g = 1.2) {
    Rng rng(seed, 0, 0xAB);
    return RateNetwork<Logistic<T>, T>::random(n, g, 10.0, rng);
}

/// ALM-like targets of n units with short epochs (800 steps): for tests that train whole iterations.
SyntheticTargets short_task(index_t n) {
    SyntheticTargetOptions so;
    so.neurons = int(n);
    so.presample_ms = 200, so.sample_ms = 200, so.delay_ms = 300, so.response_ms = 200;
    return synthetic_targets(so);
}

/// `o` for exactly two quiet iterations (a pVar threshold no run reaches).
ForceOptions two_iterations(ForceOptions o = {}) {
    o.max_iterations = 2;
    o.pvar_threshold = 1.0;
    o.progress = Progress::off;
    return o;
}
}  // namespace

// ---------------------------------------------------------------------------------------
// RLS: exact algebra
// ---------------------------------------------------------------------------------------

TEST_CASE("RlsUpdater: P equals (λ^k αI + Σ λ^(k−t) r rᵀ)⁻¹ after k updates (double, 1e-8)") {
    for (index_t n : {7, 30, 400}) {  // 400 runs the multi-piece (OpenMP) pass
        for (double lambda : {1.0, 0.98}) {
            CAPTURE(n);
            CAPTURE(lambda);
            const double alpha = 0.5;
            const index_t K = 60;
            const Matrix<double> X = samples<double>(n, K, 11 + std::uint64_t(n));
            RlsUpdater<double> a(n, alpha, lambda), b(n, alpha, lambda);
            Matrix<double> A = Matrix<double>::Identity(n, n) * alpha;  // P(0)⁻¹ = αI
            b.gain(X.col(0));
            for (index_t t = 0; t < K; ++t) {
                a.gain(X.col(t));
                a.update();  // plain path
                if (t + 1 < K) b.update_and_gain(Vector<double>(X.col(t + 1)));  // fused path
                else b.update();
                A = lambda * A + X.col(t) * X.col(t).transpose();
            }
            const Matrix<double> ref = A.inverse();
            CHECK(rel(a.P(), ref) < 1e-8);
            CHECK(rel(b.P(), ref) < 1e-8);
            // The fused gain equals P_new r computed directly.
            RlsUpdater<double> c(n, alpha, lambda);
            c.gain(X.col(0));
            c.update_and_gain(Vector<double>(X.col(1)));
            const Vector<double> k_direct = c.P() * X.col(1);
            CHECK((c.k() - k_direct).norm() / k_direct.norm() < 1e-12);
            CHECK(double(c.c()) == doctest::Approx(1.0 / (lambda + X.col(1).dot(k_direct))).epsilon(1e-12));
        }
    }
}

TEST_CASE("RlsUpdater: float agrees with double to single precision") {
    const index_t n = 50, K = 40;
    const Matrix<double> X = samples<double>(n, K, 5);
    RlsUpdater<float> f(n, 1.0);
    RlsUpdater<double> d(n, 1.0);
    for (index_t t = 0; t < K; ++t) {
        f.gain(Vector<float>(X.col(t).cast<float>()));
        f.update();
        d.gain(X.col(t));
        d.update();
    }
    CHECK(rel(f.P().cast<double>(), d.P()) < 1e-4);
}

TEST_CASE("RLS readout equals the ridge-regression solution (double, 1e-8)") {
    // W_k = F Rᵀ (αI + R Rᵀ)⁻¹ when every update uses the a-priori error e = W r − f.
    const index_t n = 40, outputs = 3, K = 200;
    const double alpha = 2.0;
    const Matrix<double> X = samples<double>(n, K, 21);
    Rng rng(3);
    Matrix<double> F(outputs, K);
    for (index_t t = 0; t < K; ++t)
        for (index_t o = 0; o < outputs; ++o) F(o, t) = std::sin(0.05 * double(t) * double(o + 1)) + 0.1 * rng.normal();
    RlsUpdater<double> rls(n, alpha);
    Matrix<double> W = Matrix<double>::Zero(outputs, n);
    Vector<double> z = W * X.col(0), e(outputs);
    rls.gain(X.col(0));
    for (index_t t = 0; t < K; ++t) {
        e = z - F.col(t);
        const double c = rls.c();
        if (t + 1 < K) {
            const Vector<double> next = X.col(t + 1);
            Vector<double> k = rls.k();
            rank1_update_and_multiply(W, -c, e, k, next, z);  // W ← W − c e kᵀ, z = W_new r_next
            rls.update_and_gain(next);
            CHECK((z - W * next).norm() <= 1e-12 * (1 + z.norm()));
        } else {
            W.noalias() -= c * e * rls.k().transpose();
            rls.update();
        }
    }
    const Matrix<double> ridge =
        F * X.transpose() * (alpha * Matrix<double>::Identity(n, n) + X * X.transpose()).inverse();
    CHECK(rel(W, ridge) < 1e-8);
}

TEST_CASE("RlsUpdater: the whole (small N) and the triangle (large N) P agree, and the whole P stays exactly symmetric") {
    for (double lambda : {1.0, 0.97}) {
        const index_t n = 100;  // whole below rls_whole_max_size; compare with the triangle form of 2n
        REQUIRE(n <= rls_whole_max_size);
        REQUIRE(2 * n > rls_whole_max_size);
        const Matrix<double> X = samples<double>(n, 60, 21);
        RlsUpdater<double> whole(n, 0.5, lambda), tri(2 * n, 0.5, lambda);
        // The 2n-unit updater sees the samples padded with zeros: its top-left n×n block is the
        // same RLS recursion, computed by the triangle pass.
        Matrix<double> X2 = Matrix<double>::Zero(2 * n, 60);
        X2.topRows(n) = X;
        whole.gain(X.col(0));
        tri.gain(X2.col(0));
        for (index_t t = 1; t < 60; ++t) {
            whole.update_and_gain(Vector<double>(X.col(t)));
            tri.update_and_gain(Vector<double>(X2.col(t)));
        }
        const Matrix<double> Pw = whole.P(), Pt = tri.P().topLeftCorner(n, n);
        CAPTURE(lambda);
        CHECK(Pw == Pw.transpose());  // exactly: k_i k_j is the same product for (i, j) and (j, i)
        CHECK((Pw - Pt).norm() / Pt.norm() < 1e-12);
        CHECK((whole.k() - tri.k().head(n)).norm() / tri.k().norm() < 1e-12);
        // A checkpoint round trip of P gives the same gains bitwise.
        RlsUpdater<double> back(n, 0.5, lambda);
        back.set_P(Pw);
        back.gain(X.col(5));
        whole.gain(X.col(5));
        CHECK(back.k() == whole.k());
    }
}

TEST_CASE("update_weights_and_gain, small N with W padded like P: the two separate calls, to rounding") {
    // The one-loop pass runs through the columns forwards after gain() and backwards on every
    // second call (cache reuse). The updates of W and P are element by element, the same in
    // either direction; the sums z = W r and k = P r change order, so they and everything
    // computed from them later differ from the separate calls by rounding only: reordering a
    // sum of n products moves it by at most 2(n − 1)ε Σ|terms| (Higham's γ bound), and five
    // steps pass such differences on through c and k a few times: 64·n·ε relative is ample.
    for (index_t n : {64, 87}) {
        for (double lambda : {1.0, 0.98}) {
            const index_t ld = (n + 7) / 8 * 8;  // the trainer's padded J
            const Matrix<double> X = samples<double>(n, 6, 31);
            Matrix<double> W0 = Matrix<double>::Zero(ld, n);
            W0.topRows(n) = Matrix<double>::Random(n, n) * 0.1;
            Vector<double> e = Vector<double>::Zero(ld);
            e.head(n) = Vector<double>::LinSpaced(n, -1, 1);
            RlsUpdater<double> a(n, 1.0, lambda), b(n, 1.0, lambda);
            Matrix<double> Wa = W0, Wb = W0;
            Vector<double> za(ld), zb(ld);
            Rank1Workspace<double> ws;
            a.gain(X.col(0));
            b.gain(X.col(0));
            CAPTURE(n);
            CAPTURE(lambda);
            for (index_t t = 1; t < 6; ++t) {
                const Vector<double> next = X.col(t);
                a.update_weights_and_gain(Wa, -a.c(), e, next, za, ws);  // one loop over W and P
                const Vector<double> k = b.k();
                rank1_update_and_multiply(Wb, -b.c(), e, k, next, zb, ws);
                b.update_and_gain(next);
                if (t == 1) {  // the first call after gain() runs forwards: bitwise the separate calls
                    CHECK(Wa == Wb);
                    CHECK(za == zb);
                    CHECK(a.P() == b.P());
                    CHECK(a.k() == b.k());
                }
            }
            const double tol = 64.0 * double(n) * std::numeric_limits<double>::epsilon();
            auto close = [&](const auto& x, const auto& y) {
                return (x - y).cwiseAbs().maxCoeff() <= tol * y.cwiseAbs().maxCoeff();
            };
            CHECK(close(Wa, Wb));
            CHECK(close(za, zb));
            CHECK(close(a.P(), b.P()));
            CHECK(close(a.k(), b.k()));
            CHECK(Wa != Wb);                            // the backward calls did run in another order
            CHECK(Wa.bottomRows(ld - n).isZero(0.0));  // padding rows stay zero

            // gain() restarts the alternation: after an odd number of calls, a gain() and the next
            // call runs forwards again (bitwise the separate calls from the same state).
            RlsUpdater<double> c(n, 1.0, lambda);
            Matrix<double> Wc = W0;
            c.gain(X.col(0));
            const Vector<double> x1 = X.col(1);
            c.update_weights_and_gain(Wc, -c.c(), e, x1, za, ws);  // the next call would run backwards
            RlsUpdater<double> d = c;
            Matrix<double> Wd = Wc;
            c.gain(X.col(2));
            d.gain(X.col(2));
            c.update_weights_and_gain(Wc, -c.c(), e, Vector<double>(X.col(3)), za, ws);
            const Vector<double> k = d.k(), x3 = X.col(3);
            rank1_update_and_multiply(Wd, -d.c(), e, k, x3, zb, ws);
            d.update_and_gain(x3);
            CHECK(za == zb);
            CHECK(c.k() == d.k());
        }
    }
}

TEST_CASE_TEMPLATE("halves_product: either half first gives bitwise the same product", T, double, float) {
    // The trainer's test steps alternate the order; the numbers must not depend on it.
    for (index_t cols : {7, 87, 88, 120, 128, 200}) {
        CAPTURE(cols);
        const Matrix<T> A = Matrix<T>::Random(cols + 1, cols);
        const Vector<T> r = Vector<T>::Random(cols);
        Vector<T> a(cols + 1), b(cols + 1);
        learn::detail::halves_product(A, r, a, false);
        learn::detail::halves_product(A, r, b, true);
        CHECK(a == b);
        const Vector<T> ref = A * r;  // and it is the product, to rounding (γ_n bound)
        const double tol = 4.0 * double(cols) * double(std::numeric_limits<T>::epsilon());
        CHECK(double((a - ref).cwiseAbs().maxCoeff()) <= tol * double((A.cwiseAbs() * r.cwiseAbs()).maxCoeff()));
    }
}

TEST_CASE("RLS passes give bitwise the same numbers on 1 and 2 threads") {
#ifdef _OPENMP
    const int before = omp_get_max_threads();
    const index_t n = 600;  // above rls_parallel_min_size
    const Matrix<double> X = samples<double>(n, 4, 8);
    auto run = [&](int threads) {
        omp_set_num_threads(threads);
        RlsUpdater<double> rls(n, 1.0);
        Matrix<double> J = Matrix<double>::Constant(n, n, 0.01);
        Vector<double> z(n), e = Vector<double>::LinSpaced(n, -1, 1);
        rls.gain(X.col(0));
        for (index_t t = 0; t + 1 < 4; ++t) {
            Vector<double> k = rls.k(), next = X.col(t + 1);
            rank1_update_and_multiply(J, -rls.c(), e, k, next, z);
            rls.update_and_gain(next);
        }
        return std::tuple{Matrix<double>(rls.lower()), J, z, Vector<double>(rls.k())};
    };
    const auto one = run(1), two = run(2);
    omp_set_num_threads(before);
    CHECK(std::get<0>(one).triangularView<Eigen::Lower>().toDenseMatrix() ==
          std::get<0>(two).triangularView<Eigen::Lower>().toDenseMatrix());
    CHECK(std::get<1>(one) == std::get<1>(two));
    CHECK(std::get<2>(one) == std::get<2>(two));
    CHECK(std::get<3>(one) == std::get<3>(two));
#else
    MESSAGE("built without OpenMP: one thread only");
#endif
}

TEST_CASE("update_weights_and_gain: bitwise the two separate calls, on 1 and 2 threads") {
    const index_t n = 600;  // multi-piece passes; 600 = 8 pieces with ragged 4-column blocks
    const Matrix<double> X = samples<double>(n, 5, 21);
    for (double lambda : {1.0, 0.97}) {
        CAPTURE(lambda);
        // fused: one parallel region; otherwise rank1_update_and_multiply + update_and_gain.
        auto run = [&](bool fused, int threads) {
#ifdef _OPENMP
            omp_set_num_threads(threads);
#else
            (void)threads;
#endif
            RlsUpdater<double> rls(n, 0.7, lambda);
            Matrix<double> J = Matrix<double>::Constant(n, n, 0.01);
            Vector<double> z(n), e = Vector<double>::LinSpaced(n, -1, 1);
            Rank1Workspace<double> ws;
            rls.gain(X.col(0));
            for (index_t t = 0; t + 1 < X.cols(); ++t) {
                const Vector<double> next = X.col(t + 1);
                if (fused) {
                    rls.update_weights_and_gain(J, -rls.c(), e, next, z, ws);
                } else {
                    rank1_update_and_multiply(J, -rls.c(), e, rls.k(), next, z, ws);
                    rls.update_and_gain(next);
                }
            }
            return std::tuple{Matrix<double>(rls.P()), J, z, Vector<double>(rls.k()), double(rls.c())};
        };
#ifdef _OPENMP
        const int before = omp_get_max_threads();
#endif
        const auto ref = run(false, 1);
        for (int threads : {1, 2}) {
            CAPTURE(threads);
            const auto got = run(true, threads);
            CHECK(std::get<0>(got) == std::get<0>(ref));
            CHECK(std::get<1>(got) == std::get<1>(ref));
            CHECK(std::get<2>(got) == std::get<2>(ref));
            CHECK(std::get<3>(got) == std::get<3>(ref));
            CHECK(std::get<4>(got) == std::get<4>(ref));
        }
#ifdef _OPENMP
        omp_set_num_threads(before);
#endif
        // And the numbers are the algebra's: z = J_new r_last, k = P_new r_last, with
        // P = (λ⁴ αI + Σ λ^(4−t) r rᵀ)⁻¹ and J_new = J₀ − Σ_t c_t e k_tᵀ.
        Matrix<double> A = Matrix<double>::Identity(n, n) * 0.7;
        for (index_t t = 0; t + 1 < X.cols(); ++t) A = lambda * A + X.col(t) * X.col(t).transpose();
        const Matrix<double> P = A.inverse();
        CHECK(rel(std::get<0>(ref), P) < 1e-8);
        const Vector<double> r_last = X.col(X.cols() - 1);
        CHECK((std::get<2>(ref) - std::get<1>(ref) * r_last).norm() / std::get<2>(ref).norm() < 1e-12);
        const Vector<double> k_direct = std::get<0>(ref) * r_last;
        CHECK((std::get<3>(ref) - k_direct).norm() / k_direct.norm() < 1e-12);
    }
    RlsUpdater<double> rls(n, 1.0);
    Matrix<double> J(n, n - 1);
    Vector<double> z(n), e(n), r(n);
    Rank1Workspace<double> ws;
    CHECK_THROWS_AS(rls.update_weights_and_gain(J, 1.0, e, r, z, ws), invalid_parameter);  // no gain yet
    rls.gain(Vector<double>::Ones(n));
    CHECK_THROWS_WITH_AS(rls.update_weights_and_gain(J, 1.0, e, r, z, ws), doctest::Contains("W columns"),
                         invalid_parameter);
}

TEST_CASE("ThreadTuner: follows the faster option and cannot stay on the slower one") {
    // Synthetic timings: `one` seconds with 1 thread, `all` with 2 (4 allowed calls per burst).
    ThreadTuner tuner;
    long calls_on_slow = 0;
    bool only_1_or_2 = true;
    auto drive = [&](double one, double all, long calls) {
        calls_on_slow = 0;
        for (long i = 0; i < calls; ++i) {
            const int t = tuner.choose(2);
            only_1_or_2 = only_1_or_2 && (t == 1 || t == 2);
            if ((t == 1) != (one < all)) ++calls_on_slow;
            tuner.record(t, t == 1 ? one : all);
        }
    };
    CHECK(tuner.choose(1) == 1);  // one thread allowed: nothing to choose
    // Two threads three times as fast: after the start-up comparison (1 discarded warm-up call
    // + 1 timed call, which is > 2× slower and ends the comparison) it stays on 2 and re-tries 1
    // thread for one call after 32, 64, 128, 256, 512 calls: at most 2 + 5 slow calls in 1000.
    drive(3.0, 1.0, 1000);
    CHECK(tuner.threads_in_use() == 2);
    CHECK(calls_on_slow >= 2);  // it did measure one thread
    CHECK(calls_on_slow <= 2 + 5);
    // The second thread becomes useless (another process on the other core): 1 thread wins
    // at the next re-try, at most 512 + 3 calls later.
    drive(1.0, 30.0, 520);
    CHECK(tuner.threads_in_use() == 1);
    // Two threads are fast again, after a long bad period: the old slow timings are dropped,
    // so the tuner goes back to 2 threads within the longest interval.
    drive(2.0, 1.0, 520);
    CHECK(tuner.threads_in_use() == 2);
    // A single preempted call on the better option does not flip the choice (fastest of the
    // recent timings, not the last one).
    for (int i = 0; i < 40; ++i) {
        const int t = tuner.choose(2);
        tuner.record(t, t == 1 ? 2.0 : (i == 20 ? 100.0 : 1.0));
    }
    CHECK(tuner.threads_in_use() == 2);
    CHECK(only_1_or_2);
}

TEST_CASE("RlsUpdater and policies reject bad parameters") {
    CHECK_THROWS_AS(RlsUpdater<double>(10, 0.0), neurodyn::error);
    CHECK_THROWS_WITH_AS(RlsUpdater<double>(10, -1.0), doctest::Contains("'alpha'"), invalid_parameter);
    CHECK_THROWS_WITH_AS(RlsUpdater<double>(10, 1.0, 1.5), doctest::Contains("'forgetting'"), invalid_parameter);
    CHECK_THROWS_AS(RlsUpdater<double>(10, 1.0, 0.0), neurodyn::error);
    RlsUpdater<double> rls(4, 1.0);
    CHECK_THROWS_AS(rls.gain(Vector<double>::Ones(5)), invalid_parameter);
    CHECK_THROWS_AS(rls.update(), invalid_parameter);  // no gain yet
    for (double p : {0.0, -0.1, 1.01, std::nan("")})
        CHECK_THROWS_WITH_AS(PresynapticFraction{p}.validate(10), doctest::Contains("PresynapticFraction.p"),
                             invalid_parameter);
    CHECK_NOTHROW(PresynapticFraction{1.0}.validate(10));
    CHECK_THROWS_AS((Rows{{0, 10}}.validate(10)), invalid_parameter);
    CHECK_THROWS_AS((Rows{{1, 1}}.validate(10)), invalid_parameter);
    CHECK_THROWS_AS((Readout<double>{Matrix<double>::Zero(1, 9), Matrix<double>::Zero(10, 1)}.validate(10)),
                    invalid_parameter);
}

TEST_CASE("PresynapticFraction: P over the trainable set only, other columns fixed") {
    ShortTask task(4, 40);
    auto net = random_net<double>(40, 2);
    const Matrix<double> J0 = net.weights();
    ForceOptions opt;
    opt.max_iterations = 1;
    opt.progress = Progress::off;
    opt.seed = 9;
    ForceTrainer<PresynapticFraction> tr(net, task.rates<double>(), task.inputs<double>(1), opt, {0.25});
    REQUIRE(tr.rls().size() == 10);  // round(0.25 · 40)
    const auto& S = tr.plastic_set().presynaptic;
    CHECK(S.size() == 10);
    tr.train();
    const Matrix<double> dJ = tr.network().weights() - J0;
    for (index_t j = 0; j < 40; ++j) {
        const bool plastic = std::find(S.begin(), S.end(), j) != S.end();
        CAPTURE(j);
        CHECK((dJ.col(j).norm() > 0) == plastic);
    }
    // Rows: only the listed rows change.
    ForceTrainer<Rows> rows(net, task.rates<double>(), task.inputs<double>(1), opt, Rows{{3, 5, 7}});
    rows.train();
    const Matrix<double> dR = rows.network().weights() - J0;
    for (index_t i = 0; i < 40; ++i) CHECK((dR.row(i).norm() > 0) == (i == 3 || i == 5 || i == 7));
}

// ---------------------------------------------------------------------------------------
// FORCE training
// ---------------------------------------------------------------------------------------

TEST_CASE("Readout FORCE with feedback learns a sine wave (pVar > 0.95)") {
    // Sussillo & Abbott 2009: tanh network, g = 1.5, z = W_out r fed back through W_fb.
    const index_t n = 300, K = 1200;
    Rng rng(17);
    auto net = RateNetwork<Tanh<double>, double>::random(n, 1.5, 10.0, rng);
    Matrix<double> fb(n, 1);
    for (index_t i = 0; i < n; ++i) fb(i, 0) = 2.0 * rng.uniform() - 1.0;
    xt::xtensor<double, 3> f = xt::zeros<double>({std::size_t(1), std::size_t(1), std::size_t(K)});
    for (index_t k = 0; k < K; ++k) f(0, 0, std::size_t(k)) = std::sin(2 * M_PI * double(k) / 200.0);
    const xt::xtensor<double, 3> h = xt::zeros<double>({std::size_t(1), std::size_t(n), std::size_t(K)});
    ForceOptions opt;
    opt.alpha = 1.0;
    opt.pvar_threshold = 0.95;
    opt.max_iterations = 20;
    opt.progress = Progress::off;
    ForceTrainer<Readout<double>, double, Tanh<double>> tr(net, f, h, opt,
                                                           Readout<double>{Matrix<double>::Zero(1, n), fb});
    const Matrix<double> J0 = tr.network().weights();
    const double untrained = pvar(tr.targets(0), Matrix<double>(tr.test(0)));
    const auto res = tr.train();
    MESSAGE("readout FORCE: pVar " << res.pvar.back()[0] << " after " << res.iterations << " iterations");
    CHECK(res.converged);
    CHECK(res.pvar.back()[0] > 0.95);
    CHECK(tr.network().weights() == J0);  // J is not trained
    // The untrained readout (zeros) explains nothing: pVar = 1 − Σf²/Σ(f − f̄)² ≈ 0.
    CHECK(untrained == doctest::Approx(0.0).epsilon(0.01));
}

TEST_CASE_TEMPLATE("All-synapse FORCE trains N = 87 to pVar > 0.85 on both conditions", T, double, float) {
    ShortTask task(1);
    auto net = random_net<T>(87, 1);
    ForceOptions opt;
    opt.max_iterations = 50;
    opt.progress = Progress::off;
    ForceTrainer<AllSynapses, T> tr(net, task.rates<T>(), task.inputs<T>(1), opt);
    // Before training the chaotic network does not follow the targets.
    CHECK(pvar(tr.targets(0), Matrix<T>(tr.test(0))) < 0.5);
    const auto res = tr.train();
    MESSAGE("N = 87 (" << std::string(sizeof(T) == 8 ? "double" : "float") << "): converged after " << res.iterations
                       << " iterations, pVar right " << res.pvar.back()[0] << ", left " << res.pvar.back()[1]);
    CHECK(res.converged);
    CHECK(res.iterations <= opt.max_iterations);
    CHECK(res.pvar.back()[0] > 0.85);
    CHECK(res.pvar.back()[1] > 0.85);
    // The reported pVar is that of an independent test run of the trained network.
    CHECK(pvar(tr.targets(1), Matrix<T>(tr.test(1))) == doctest::Approx(res.pvar.back()[1]));
}

TEST_CASE("ForceTrainer: callbacks see every step and can stop training") {
    ShortTask task(2, 30);
    auto net = random_net<double>(30, 3);
    ForceOptions opt;
    opt.max_iterations = 5;
    opt.pvar_threshold = 1.0;
    opt.progress = Progress::off;
    opt.train_every = 2;
    ForceTrainer tr(net, task.rates<double>(), task.inputs<double>(2), opt);
    struct Counter {
        long learning = 0, testing = 0;
        void on_step(const StepInfo<double>& s) { (s.learning ? learning : testing)++; }
    } counter;
    struct StopAfter2 {
        int seen = 0;
        bool on_iteration(const IterationInfo& i) {
            seen = i.iteration;
            return i.iteration < 2;
        }
    } stopper;
    const auto res = tr.train(counter, stopper);
    const long K = long(tr.steps());
    CHECK(res.iterations == 2);
    CHECK(stopper.seen == 2);
    CHECK(counter.learning == 2 * 2 * (K / 2));  // train_every = 2: learning on even steps
    CHECK(counter.testing == 2 * 2 * K + 2 * 2 * (K - K / 2));
}

TEST_CASE("ForceTrainer: a stopped run resumed from its checkpoint ends with bitwise the same J") {
    ShortTask task(3, 50);
    auto net = random_net<double>(50, 4);
    const auto R = task.rates<double>();
    const auto h = task.inputs<double>(3);
    const auto dir = tmp_dir("resume");
    ForceOptions opt;
    opt.max_iterations = 4;
    opt.pvar_threshold = 1.0;  // never converges: runs the cap
    opt.progress = Progress::off;
    opt.initial_state_noise = 0.05;  // uses the trainer's RNG, so its state must be restored
    ForceTrainer full(net, R, h, opt);
    full.train();

    opt.checkpoint = dir / "run.ckpt";
    opt.max_iterations = 2;
    ForceTrainer first(net, R, h, opt);
    first.train();  // "stopped" after 2 iterations
    REQUIRE(fs::exists(opt.checkpoint));

    opt.max_iterations = 4;
    ForceTrainer second(net, R, h, opt);
    second.resume(opt.checkpoint);
    CHECK(second.iteration() == 2);
    const auto res = second.train();
    CHECK(res.iterations == 4);
    CHECK(second.network().weights() == full.network().weights());
    CHECK(second.rls().P() == full.rls().P());
    CHECK(res.pvar == full.history());

    // A checkpoint from other targets or another scalar type is refused, naming the field.
    ShortTask other(99, 50);
    ForceTrainer wrong(net, other.rates<double>(), h, opt);
    CHECK_THROWS_WITH_AS(wrong.resume(opt.checkpoint), doctest::Contains("targets_hash"), file_error);
    ForceTrainer<AllSynapses, float> single(random_net<float>(50, 4), task.rates<float>(), task.inputs<float>(3), opt);
    CHECK_THROWS_WITH_AS(single.resume(opt.checkpoint), doctest::Contains("format"), file_error);
}

TEST_CASE("ForceTrainer: a checkpoint of a different run is refused, naming the first parameter that differs") {
    ShortTask task(3, 30);
    auto net = random_net<double>(30, 4);
    const auto R = task.rates<double>();
    const auto h = task.inputs<double>(3);
    const auto dir = tmp_dir("refuse");
    ForceOptions opt;
    opt.max_iterations = 2;
    opt.pvar_threshold = 1.0;
    opt.progress = Progress::off;
    opt.checkpoint = dir / "run.ckpt";
    opt.run_parameters = {{"g", "1.2"}, {"realization", "0"}};
    ForceTrainer first(net, R, h, opt);
    first.train();
    REQUIRE(fs::exists(opt.checkpoint));

    // Resume `o` on `n`, `inputs`; expect file_error with field `field` and the two values.
    auto refused = [&](const ForceOptions& o, const std::string& field, const std::string& text,
                       const RateNetwork<Logistic<double>, double>& n, const xt::xtensor<double, 3>& inputs) {
        ForceTrainer t(n, R, inputs, o);
        try {
            t.resume(opt.checkpoint);
            FAIL("resumed a run with another " << field);
        } catch (const file_error& e) {
            CHECK(e.field() == field);
            CHECK(std::string(e.what()).find(text) != std::string::npos);
        }
        CHECK(t.iteration() == 0);  // nothing restored
        CHECK(t.network().weights() == n.weights());
    };
    ForceOptions o = opt;
    o.seed = 7;
    refused(o, "seed", "checkpoint was written with seed = 0, this run has seed = 7", net, h);
    o = opt;
    o.alpha = 2.5;
    refused(o, "alpha", "checkpoint was written with alpha = 1, this run has alpha = 2.5", net, h);
    o = opt;
    o.run_parameters[0].second = "1.5";
    refused(o, "g", "checkpoint was written with g = 1.2, this run has g = 1.5", net, h);
    o = opt;
    o.run_parameters.push_back({"variant", "suppressed"});
    refused(o, "variant", "does not record variant", net, h);
    o = opt;
    o.run_parameters.pop_back();
    refused(o, "realization", "this run does not set realization", net, h);
    o = opt;
    o.initial_state_noise = 0.1;
    refused(o, "initial_state_noise", "initial_state_noise = 0.1", net, h);
    o = opt;
    o.condition_names = {"R", "L"};
    refused(o, "condition_names", "\"right\", \"left\"", net, h);
    // The trainer's own ingredients: another initial network or other inputs.
    refused(opt, "initial_weights_hash", "initial_weights_hash", random_net<double>(30, 5), h);
    refused(opt, "inputs_hash", "inputs_hash", net, task.inputs<double>(4));
    // Another network time constant is named before the weights.
    refused(opt, "tau", "tau = 10, this run has tau = 12",
            RateNetwork<Logistic<double>, double>(net.weights(), 12.0), h);
    // A cap below the iterations already done: a fresh run would stop earlier, elsewhere.
    o = opt;
    o.max_iterations = 1;
    refused(o, "max_iterations", "after 2 iterations, this run has max_iterations = 1", net, h);
    // Other policies record their parameters.
    {
        ForceOptions po = opt;
        po.checkpoint = dir / "pin.ckpt";
        ForceTrainer<PresynapticFraction>(net, R, h, po, {0.5}).train();
        ForceTrainer<PresynapticFraction> other(net, R, h, po, {0.6});
        CHECK_THROWS_WITH_AS(other.resume(po.checkpoint), doctest::Contains("PresynapticFraction.p = 0.5, this run has PresynapticFraction.p = 0.6"), file_error);
        ForceTrainer<AllSynapses> all(net, R, h, po);
        CHECK_THROWS_WITH_AS(all.resume(po.checkpoint), doctest::Contains("policy = PresynapticFraction"), file_error);
    }

    // The same run resumes; an equal or larger cap is allowed (same states up to the old cap).
    ForceTrainer same(net, R, h, opt);
    same.resume(opt.checkpoint);
    CHECK(same.iteration() == 2);
    CHECK(same.train().iterations == 2);  // already at the cap: nothing more to do
    CHECK(same.network().weights() == first.network().weights());

    // A checkpoint of the earlier format, which recorded no parameters, is refused clearly.
    Checkpoint old;
    old.put_scalars<std::uint64_t>("format", {8, 0});
    old.put_scalars<std::uint64_t>("iteration", {2, 0});
    old.save(dir / "old.ckpt");
    ForceTrainer fresh(net, R, h, opt);
    CHECK_THROWS_WITH_AS(fresh.resume(dir / "old.ckpt"), doctest::Contains("older neurodyn"), file_error);
}

TEST_CASE("ForceTrainer: constant or all-zero targets are refused before training (pVar undefined)") {
    ShortTask task(6, 20);
    auto net = random_net<double>(20, 6);
    const auto h = task.inputs<double>(6);
    ForceOptions opt;
    opt.progress = Progress::off;
    // All-zero rates of the left trials normalise to the clipping floor ε: a constant target,
    // which used to "train" with pVar ≈ −1.6e28.
    auto hz = task.t.rates;
    xt::view(hz, 1, xt::all(), xt::all()) = 0.0;
    for (std::size_t i = 0; i < hz.shape()[1]; ++i) hz(0, i, 0) = 0.0;  // so that min = 0 for every neuron
    const auto R = normalise_jointly(hz);
    REQUIRE(R(1, 4, 17) == doctest::Approx(default_rate_epsilon));
    CHECK_THROWS_WITH_AS(ForceTrainer(net, R, h, opt), doctest::Contains("condition 'left': constant"),
                         invalid_parameter);
    CHECK_THROWS_WITH_AS(ForceTrainer(net, R, h, opt), doctest::Contains("pVar"), invalid_parameter);
    // Varying only by a rounding error of the mean is as undefined.
    auto almost = R;
    almost(1, 2, 3) = std::nextafter(almost(1, 2, 3), 1.0);
    CHECK_THROWS_WITH_AS(ForceTrainer(net, almost, h, opt), doctest::Contains("condition 'left': variance"),
                         invalid_parameter);
    // Readout targets: an all-zero output signal.
    Readout<double> ro{Matrix<double>::Zero(1, 20), Matrix<double>::Ones(20, 1)};
    xt::xtensor<double, 3> zero = xt::zeros<double>({std::size_t(2), std::size_t(1), h.shape()[2]});
    xt::view(zero, 0, 0, xt::all()) = 1.0;
    zero(0, 0, 5) = 0.5;  // condition 0 varies, condition 1 is all zero
    CHECK_THROWS_WITH_AS((ForceTrainer<Readout<double>>(net, zero, h, opt, ro)),
                         doctest::Contains("condition 'left': constant (every value 0)"), invalid_parameter);
    // An infinite target.
    auto inf = normalise_jointly(task.t.rates);
    inf(0, 1, 2) = INFINITY;
    CHECK_THROWS_WITH_AS(ForceTrainer(net, inf, h, opt), doctest::Contains("NaN or Inf"), invalid_parameter);
    // A real target passes.
    CHECK_NOTHROW(ForceTrainer(net, normalise_jointly(task.t.rates), h, opt));
    // The helper on its own: the threshold is relative to the scale of the target.
    Matrix<double> small = Matrix<double>::Random(20, 100) * 1e-12;
    CHECK_NOTHROW(require_pvar_defined(small, "targets", "condition 'x'"));
    Matrix<double> flat = Matrix<double>::Constant(20, 100, 0.3);
    CHECK_THROWS_AS(require_pvar_defined(flat, "targets", "condition 'x'"), invalid_parameter);
}

TEST_CASE("ForceTrainer: a diverging run names the step and condition and keeps the last checkpoint") {
    ShortTask task(5, 30);
    auto net = random_net<double>(30, 5);
    const auto dir = tmp_dir("diverge");
    ForceOptions opt;
    opt.max_iterations = 1;
    opt.pvar_threshold = 1.0;
    opt.progress = Progress::off;
    opt.checkpoint = dir / "run.ckpt";
    ForceTrainer tr(net, task.rates<double>(), task.inputs<double>(5), opt);
    tr.train();
    const Matrix<double> J1 = tr.network().weights();
    std::ifstream before(opt.checkpoint, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(before)), std::istreambuf_iterator<char>());
    // Corrupt P so that it is no longer positive definite.
    tr.rls().set_P(-Matrix<double>::Identity(30, 30));
    tr.options().max_iterations = 2;
    try {
        tr.train();
        FAIL("expected numerical_error");
    } catch (const numerical_error& e) {
        CHECK(e.step() == 0);
        CHECK(e.trial() == 0);
        CHECK(std::string(e.what()).find("'right'") != std::string::npos);
        CHECK(std::string(e.what()).find("positive definite") != std::string::npos);
    }
    std::ifstream after(opt.checkpoint, std::ios::binary);
    const std::string bytes2((std::istreambuf_iterator<char>(after)), std::istreambuf_iterator<char>());
    CHECK(bytes == bytes2);  // the last good checkpoint is intact
    ForceTrainer again(net, task.rates<double>(), task.inputs<double>(5), opt);
    again.resume(opt.checkpoint);
    CHECK(again.network().weights() == J1);
    CHECK(again.iteration() == 1);
}

TEST_CASE("ForceTrainer rejects mismatched sizes, NaN targets and bad options") {
    ShortTask task(6, 20);
    auto net = random_net<double>(20, 6);
    const auto R = task.rates<double>();
    const auto h = task.inputs<double>(6);
    ForceOptions opt;
    opt.progress = Progress::off;
    auto net21 = random_net<double>(21, 6);
    CHECK_THROWS_WITH_AS(ForceTrainer(net21, R, task.inputs<double>(6), opt), doctest::Contains("'targets'"),
                         neurodyn::error);
    xt::xtensor<double, 3> h_short = xt::view(h, xt::all(), xt::all(), xt::range(0, 100));
    CHECK_THROWS_WITH_AS(ForceTrainer(net, R, h_short, opt), doctest::Contains("'inputs'"), neurodyn::error);
    auto bad = R;
    bad(1, 3, 7) = std::nan("");
    CHECK_THROWS_WITH_AS(ForceTrainer(net, bad, h, opt), doctest::Contains("unit 3, step 7"), neurodyn::error);
    auto hz = task.t.rates;  // rates in Hz are not in (0, 1)
    CHECK_THROWS_WITH_AS(ForceTrainer(net, hz, h, opt), doctest::Contains("normalise_jointly"), neurodyn::error);
    ForceOptions a = opt;
    a.alpha = 0;
    CHECK_THROWS_WITH_AS(ForceTrainer(net, R, h, a), doctest::Contains("'alpha'"), neurodyn::error);
    a.alpha = -2;
    CHECK_THROWS_AS(ForceTrainer(net, R, h, a), neurodyn::error);
    CHECK_THROWS_WITH_AS((ForceTrainer<PresynapticFraction>(net, R, h, opt, {1.5})),
                         doctest::Contains("PresynapticFraction.p"), neurodyn::error);
    CHECK_THROWS_AS((ForceTrainer<PresynapticFraction>(net, R, h, opt, {0.0})), neurodyn::error);
    a = opt;
    a.train_every = 0;
    CHECK_THROWS_AS(ForceTrainer(net, R, h, a), neurodyn::error);
}

// ---------------------------------------------------------------------------------------
// Checkpoint container
// ---------------------------------------------------------------------------------------

TEST_CASE("Checkpoint: round trip bit for bit - truncated, corrupted and foreign files are refused") {
    const auto dir = tmp_dir("ckpt");
    Matrix<double> A = Matrix<double>::Random(5, 3);
    Matrix<float> B = Matrix<float>::Random(2, 2);
    Checkpoint ck;
    ck.put("A", A);
    ck.put("B", B);
    ck.put_scalars<std::uint64_t>("it", {42});
    ck.save(dir / "c.ckpt");
    const auto back = Checkpoint::load(dir / "c.ckpt");
    CHECK(back.matrix<double>("A", 5, 3) == A);
    CHECK(back.matrix<float>("B", 2, 2) == B);
    CHECK(back.array<std::uint64_t>("it", {1})[0] == 42);
    CHECK_THROWS_WITH_AS(back.matrix<double>("A", 3, 5), doctest::Contains("field 'A'"), file_error);
    CHECK_THROWS_WITH_AS(back.matrix<double>("B", 2, 2), doctest::Contains("float32"), file_error);
    CHECK_THROWS_WITH_AS(back.array<double>("missing"), doctest::Contains("missing"), file_error);

    std::ifstream in(dir / "c.ckpt", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto write = [&](const std::string& name, const std::string& b) {
        std::ofstream(dir / name, std::ios::binary).write(b.data(), std::streamsize(b.size()));
        return dir / name;
    };
    CHECK_THROWS_AS(Checkpoint::load(write("t.ckpt", bytes.substr(0, bytes.size() / 2))), file_error);
    std::string flipped = bytes;
    flipped[40] = char(flipped[40] ^ 0x10);
    CHECK_THROWS_WITH_AS(Checkpoint::load(write("f.ckpt", flipped)), doctest::Contains("checksum"), file_error);
    std::string newer = bytes;
    newer[8] = 3;
    CHECK_THROWS_WITH_AS(Checkpoint::load(write("v.ckpt", newer)), doctest::Contains("version"), file_error);
    CHECK_THROWS_WITH_AS(Checkpoint::load(write("x.ckpt", "hello world, not a checkpoint")),
                         doctest::Contains("bad magic"), file_error);
    CHECK_THROWS_AS(Checkpoint::load(dir / "absent.ckpt"), file_error);

    // Texts and lists of strings (any bytes) round trip; a broken list is refused.
    Checkpoint t;
    t.put_strings("params", {"alpha", "1", "names", std::string("a:b\n\0c", 6), "", "x"});
    t.put_text("note", "hello");
    t.save(dir / "t2.ckpt");
    const auto tb = Checkpoint::load(dir / "t2.ckpt");
    CHECK(tb.strings("params") == std::vector<std::string>{"alpha", "1", "names", std::string("a:b\n\0c", 6), "", "x"});
    CHECK(tb.text("note") == "hello");
    CHECK_THROWS_WITH_AS(tb.array<double>("note"), doctest::Contains("text"), file_error);
    CHECK_THROWS_WITH_AS(tb.text("A"), doctest::Contains("missing"), file_error);
    Checkpoint bad;
    bad.put_text("params", "5:abc");
    CHECK_THROWS_WITH_AS(bad.strings("params"), doctest::Contains("runs past the end"), file_error);
    bad.put_text("params", "x:abc");
    CHECK_THROWS_WITH_AS(bad.strings("params"), doctest::Contains("length prefix"), file_error);
    // A truncated text section is caught like any other.
    std::ifstream in2(dir / "t2.ckpt", std::ios::binary);
    const std::string tbytes((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
    CHECK_THROWS_AS(Checkpoint::load(write("t3.ckpt", tbytes.substr(0, tbytes.size() - 12))), file_error);
}

// ---------------------------------------------------------------------------------------
// Inputs and targets
// ---------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("FrozenOu: shared in pre-sample and delay, divergent in sample and response", T, float, double) {
    TaskEpochs ep(3000.0);
    ep.add("presample", 0, 500).add("sample", 500, 1000).add("delay", 1000, 2500).add("response", 2500, 3000);
    const TimeGrid grid(1.0, 3000);
    const FrozenOu ou{1000.0, 10.0};
    const auto h = ou.generate<T>(40, 2, grid, ep, {"presample", "delay"}, 7);
    const auto again = ou.generate<T>(40, 2, grid, ep, {"presample", "delay"}, 7);
    CHECK(h == again);
    const auto other = ou.generate<T>(40, 2, grid, ep, {"presample", "delay"}, 8);
    CHECK(h != other);
    for (std::size_t i = 0; i < 40; ++i) {
        for (std::size_t k : {0, 499, 1000, 1800, 2499}) CHECK(h(0, i, k) == h(1, i, k));
        // Divergent epochs start from the shared path and then separate.
        CHECK(h(0, i, 500) == h(1, i, 500));
        CHECK(h(0, i, 990) != h(1, i, 990));
        CHECK(h(0, i, 2900) != h(1, i, 2900));
    }
    // Stationary SD h0/sqrt(2 tau): pooled over units at well-separated times (≥ 3 τ apart
    // is not possible in 3 s, so use many units at one time: 4000 independent values).
    const auto many = ou.generate<double>(4000, 1, TimeGrid(1.0, 10), ep, {}, 3);
    double ss = 0;
    for (std::size_t i = 0; i < 4000; ++i) ss += many(0, i, 9) * many(0, i, 9);
    const double sd = std::sqrt(ss / 4000), expect = 10.0 / std::sqrt(2000.0);
    CHECK(std::abs(sd - expect) < 4 * expect / std::sqrt(2.0 * 4000));  // SE of an SD estimate
    CHECK_THROWS_AS(ou.generate<T>(4, 2, grid, ep, {"nope"}, 1), invalid_parameter);
    CHECK_THROWS_AS((FrozenOu{0.0, 1.0}.generate<T>(4, 2, grid, ep, {}, 1)), invalid_parameter);
}

TEST_CASE("synthetic_targets: ALM-like rates with the designed delay preferences") {
    SyntheticTargetOptions o;
    o.seed = 12;
    const auto t = synthetic_targets(o);
    REQUIRE(t.rates.shape()[0] == 2);
    REQUIRE(t.rates.shape()[1] == 87);
    REQUIRE(t.rates.shape()[2] == 6000);
    CHECK(xt::amin(t.rates)() >= 0.0);
    CHECK(xt::amax(t.rates)() < 80.0);
    CHECK(synthetic_targets(o).rates == t.rates);
    // Delay preference by design shows in the delay means (last half of the delay).
    int agree = 0, selective = 0;
    for (std::size_t i = 0; i < 87; ++i) {
        if (t.delay_preference[i] == 0) continue;
        ++selective;
        double d = 0;
        for (std::size_t k = 3500; k < 4500; ++k) d += t.rates(0, i, k) - t.rates(1, i, k);
        agree += (d > 0) == (t.delay_preference[i] > 0);
    }
    CHECK(selective > 30);
    CHECK(agree == selective);
    // Sizes are checked before allocating.
    SyntheticTargetOptions huge;
    huge.neurons = 4000000000000;
    CHECK_THROWS_WITH_AS(synthetic_targets(huge), doctest::Contains("'neurons' = 4000000000000: needs"),
                         invalid_parameter);
    SyntheticTargetOptions fine;
    fine.dt = 1e-12;
    CHECK_THROWS_WITH_AS(synthetic_targets(fine), doctest::Contains("'dt'"), invalid_parameter);
}

TEST_CASE("Targets written by numpy's np.save load as (2, neurons, steps) and train") {
    // The exact bytes np.save writes for a float64 C-order array of shape (2, 3, 40):
    // magic, version 1.0, little-endian header length, the dict padded with spaces to a
    // 64-byte boundary and ended by a newline, then the data.
    const std::size_t C = 2, N = 3, K = 40;
    std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 40), }";
    while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
    dict += '\n';
    std::string bytes("\x93NUMPY\x01\x00", 8);
    bytes += char(dict.size() & 0xff);
    bytes += char(dict.size() >> 8);
    bytes += dict;
    std::vector<double> v(C * N * K);
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t i = 0; i < N; ++i)
            for (std::size_t k = 0; k < K; ++k) v[(c * N + i) * K + k] = 5.0 + double(c) + std::sin(0.1 * double(k * (i + 1)));
    bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
    const auto dir = tmp_dir("npy");
    std::ofstream(dir / "targets.npy", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    const xt::xarray<double> a = load_npy<double>(dir / "targets.npy", 3);
    REQUIRE(a.shape()[0] == C);
    REQUIRE(a.shape()[1] == N);
    REQUIRE(a.shape()[2] == K);
    CHECK(a(1, 2, 7) == v[(1 * N + 2) * K + 7]);
    const xt::xtensor<double, 3> R = normalise_jointly(xt::xtensor<double, 3>(a));
    const xt::xtensor<double, 3> h = xt::zeros<double>({C, N, K});
    ForceOptions opt;
    opt.progress = Progress::off;
    opt.max_iterations = 1;
    ForceTrainer tr(random_net<double>(3, 1), R, h, opt);
    CHECK(tr.steps() == index_t(K));
    CHECK(tr.targets(1)(2, 7) == R(1, 2, 7));
}

// ---------------------------------------------------------------------------------------
// Open learning: user policies, any transfer, network and stepper
// ---------------------------------------------------------------------------------------

namespace {
/// A user's policy: the listed rows learn under Dale's law (each presynaptic unit keeps the
/// sign of its initial outgoing weights in the trained rows): the rank-1 update, then a
/// projection onto the sign constraints.
struct DaleRows {
    Rows rows;
    std::vector<signed char> sign;  // +1 excitatory, -1 inhibitory presynaptic unit
    PlasticSet resolve(index_t n, Rng& rng) const {
        require_size("DaleRows.sign", index_t(sign.size()), n);
        return rows.resolve(n, rng);
    }
    void describe(ParameterList& p) const {
        p.emplace_back("policy", "DaleRows");
        ParameterList r;
        rows.describe(r);
        p.push_back(r[1]);  // Rows.set
        std::string s;
        for (auto v : sign) s += v > 0 ? '+' : '-';
        p.emplace_back("DaleRows.sign", s);
    }
    bool constrain(Matrix<double>& J, const PlasticSet& set) const {
        for (index_t j = 0; j < J.cols(); ++j)
            for (auto i : set.rows) J(i, j) = sign[std::size_t(j)] > 0 ? std::max(J(i, j), 0.0) : std::min(J(i, j), 0.0);
        return true;
    }
};
static_assert(TrainingPolicy<DaleRows, double>);
static_assert(!ReadoutPolicy<DaleRows, double>);
static_assert(ReadoutPolicy<Readout<double>, double>);

/// A user's network model: τ dx/dt = −x + J φ(x) + u with its own code and no recurrent form,
/// so the trainer applies each update before the stepper evaluates the model.
struct PlainNet {
    using scalar_type = double;
    Matrix<double> J;
    double tau = 10;
    Logistic<double> phi;
    index_t size() const { return J.rows(); }
    Matrix<double>& weights() { return J; }
    const Matrix<double>& weights() const { return J; }
    const Logistic<double>& activation() const { return phi; }
    auto rates(const Vector<double>& x) const { return x.unaryExpr(phi); }
    void derivative(const Vector<double>& x, double, const Vector<double>& u, Vector<double>& dxdt) const {
        dxdt = (J * rates(x) + u - x) / tau;
    }
};
static_assert(TrainableNetwork<PlainNet> && !has_recurrent_form<PlainNet>);
static_assert(TrainableNetwork<RateNetwork<Tanh<float>, float>> && has_recurrent_form<RateNetwork<Tanh<float>, float>>);
// The short-term-plasticity transfer has no inverse: recurrent policies refuse it at compile time.
static_assert(!InvertibleTransfer<ShortTermPlasticity<Softplus<double>>, double>);
static_assert(InvertibleTransfer<Softplus<double>, double> && InvertibleTransfer<Tanh<float>, float>);
}  // namespace

TEST_CASE("Inverse transfer: logit, atanh and the softplus inverse undo their transfer functions") {
    for (double r : {0.01, 0.3, 0.5, 0.97}) {
        CHECK(Logistic<double>{}(transfer_inverse(Logistic<double>{}, r)) == doctest::Approx(r).epsilon(1e-14));
        CHECK(transfer_inverse(Logistic<double>{}, r) == logit(r));
    }
    for (double r : {-0.9, -0.2, 0.0, 0.6}) CHECK(std::tanh(transfer_inverse(Tanh<double>{}, r)) == doctest::Approx(r).epsilon(1e-14));
    const Softplus<double> sp{4.5};
    for (double r : {1e-3, 0.7, 30.0, 800.0}) CHECK(sp(transfer_inverse(sp, r)) == doctest::Approx(r).epsilon(1e-12));
    CHECK(transfer_range(Tanh<double>{}).text() == "(-1, 1)");
    CHECK(transfer_range(Logistic<double>{}).text() == "(0, 1)");
    CHECK(!transfer_range(sp).contains(0.0));
}

TEST_CASE("A user-written policy (Dale's law on trained rows) trains through the trainer's own loop") {
    ShortTask task(8, 40);
    auto net = random_net<double>(40, 8);
    const Matrix<double> J0 = net.weights();
    std::vector<signed char> sign(40);
    for (index_t j = 0; j < 40; ++j) sign[std::size_t(j)] = j % 5 == 0 ? -1 : 1;
    // Start the trained rows on the constraint, as Dale's law requires.
    for (index_t j = 0; j < 40; ++j)
        for (index_t i = 0; i < 20; ++i) net.weights()(i, j) = sign[std::size_t(j)] * std::abs(J0(i, j));
    const Matrix<double> Jd = net.weights();
    std::vector<index_t> first(20);
    for (index_t i = 0; i < 20; ++i) first[std::size_t(i)] = i;
    ForceOptions opt;
    opt.max_iterations = 3;
    opt.pvar_threshold = 1.0;
    opt.progress = Progress::off;
    const auto dir = tmp_dir("dale");
    opt.checkpoint = dir / "dale.ckpt";
    ForceTrainer<DaleRows> tr(net, task.rates<double>(), task.inputs<double>(8), opt, DaleRows{Rows{first}, sign});
    const double before = tr.score(0).first;
    const auto res = tr.train();
    const Matrix<double>& J = tr.network().weights();
    MESSAGE("Dale rows: trained-row pVar " << before << " -> " << res.pvar.back()[0] << " (all units "
                                           << res.pvar_all.back()[0] << ")");
    int moved = 0;
    for (index_t j = 0; j < 40; ++j)
        for (index_t i = 0; i < 40; ++i) {
            if (i < 20) {
                CHECK(J(i, j) * sign[std::size_t(j)] >= 0.0);  // the projection ran after every update
                moved += J(i, j) != Jd(i, j);
            } else {
                CHECK(J(i, j) == Jd(i, j));  // untrained rows untouched
            }
        }
    CHECK(moved > 400);
    // (The projection is not an RLS step: with one unit in five inhibitory, these rows do not
    // fit their targets; the point here is that a user's rule runs inside the trainer.)
    // Scored on the trained rows, reported for all units beside it.
    const Matrix<double> out = tr.test(0);
    std::vector<index_t> rows = first;
    CHECK(res.pvar.back()[0] == doctest::Approx(pvar_rows(tr.targets(0), out, rows, false)));
    CHECK(res.pvar_all.back()[0] == doctest::Approx(pvar(tr.targets(0), out)));
    // Its parameters are checkpointed like a built-in's: another sign vector is refused.
    auto other = sign;
    other[3] = -1;
    ForceTrainer<DaleRows> wrong(net, task.rates<double>(), task.inputs<double>(8), opt, DaleRows{Rows{first}, other});
    CHECK_THROWS_WITH_AS(wrong.resume(opt.checkpoint), doctest::Contains("DaleRows.sign"), file_error);
    ForceTrainer<DaleRows> same(net, task.rates<double>(), task.inputs<double>(8), opt, DaleRows{Rows{first}, sign});
    same.resume(opt.checkpoint);
    CHECK(same.network().weights() == J);
}

TEST_CASE("Rows{0..49}: pVar and the stopping rule are scored on the trained rows") {
    ShortTask task(1);
    auto net = random_net<double>(87, 1);
    std::vector<index_t> rows(50);
    for (index_t i = 0; i < 50; ++i) rows[std::size_t(i)] = i;
    ForceOptions opt;
    opt.max_iterations = 30;
    opt.progress = Progress::off;
    ForceTrainer<Rows> tr(net, task.rates<double>(), task.inputs<double>(1), opt, Rows{rows});
    const auto res = tr.train();
    MESSAGE("Rows{0..49}: " << res.iterations << " iterations, trained-row pVar " << res.pvar.back()[0] << " / "
                            << res.pvar.back()[1] << ", all units " << res.pvar_all.back()[0] << " / "
                            << res.pvar_all.back()[1]);
    CHECK(res.converged);
    CHECK(res.pvar.back()[0] >= 0.85);
    CHECK(res.pvar.back()[1] >= 0.85);
    // The 37 untrained (chaotic) units pull the all-unit score below the trained rows'.
    CHECK(res.pvar_all.back()[0] < res.pvar.back()[0]);
    for (index_t c = 0; c < 2; ++c) {
        const auto [trained, all] = tr.score(c);
        CHECK(trained == doctest::Approx(res.pvar.back()[std::size_t(c)]));
        CHECK(all == doctest::Approx(res.pvar_all.back()[std::size_t(c)]));
    }
}

TEST_CASE_TEMPLATE("A tanh network trains on targets in (-1, 1) through atanh", T, double, float) {
    ShortTask task(1);
    Rng rng(1, 0, 0xAB);
    auto net = RateNetwork<Tanh<T>, T>::random(87, 1.2, 10.0, rng);
    xt::xtensor<T, 3> R = T(2) * task.rates<T>() - T(1);  // (0, 1) -> (-1, 1)
    ForceOptions opt;
    opt.max_iterations = 30;
    opt.progress = Progress::off;
    ForceTrainer<AllSynapses, T, Tanh<T>> tr(net, R, task.inputs<T>(1), opt);
    // The trainer's currents are atanh of the targets, and trials start on them.
    CHECK(tr.target_currents(1)(4, 17) == doctest::Approx(std::atanh(double(R(1, 4, 17)))).epsilon(1e-5));
    const auto res = tr.train();
    MESSAGE("tanh N = 87: " << res.iterations << " iterations, pVar " << res.pvar.back()[0] << " / " << res.pvar.back()[1]);
    CHECK(res.converged);
    CHECK(res.pvar.back()[0] > 0.85);
    CHECK(res.pvar.back()[1] > 0.85);
    // The valid range and the message follow the transfer function.
    auto bad = R;
    bad(0, 2, 3) = T(1.5);
    CHECK_THROWS_WITH_AS((ForceTrainer<AllSynapses, T, Tanh<T>>(net, bad, task.inputs<T>(1), opt)),
                         doctest::Contains("must lie in (-1, 1)"), invalid_parameter);
}

TEST_CASE("Any network and stepper: ExponentialEuler, RK4 and a user's model without a recurrent form") {
    ShortTask task(2, 30);
    auto net = random_net<double>(30, 3);
    const auto R = task.rates<double>();
    const auto h = task.inputs<double>(2);
    ForceOptions opt;
    opt.max_iterations = 2;
    opt.pvar_threshold = 1.0;
    opt.progress = Progress::off;
    ForceTrainer fast(net, R, h, opt);
    fast.train();
    // The same equations through the user's model: the update is applied before the stepper
    // evaluates the model, so J and the trajectory agree with the fast path to rounding.
    BasicForceTrainer<PlainNet> plain(PlainNet{net.weights(), 10.0, {}}, R, h, opt);
    plain.train();
    const double d = (plain.network().weights() - fast.network().weights()).norm() / fast.network().weights().norm();
    MESSAGE("user model vs RateNetwork fast path: relative difference of J " << d);
    CHECK(d < 1e-9);
    CHECK(plain.history().back()[0] == doctest::Approx(fast.history().back()[0]).epsilon(1e-8));
    // Other steppers train the 87-unit task too, and are recorded in the checkpoint's parameters.
    ShortTask big(1);
    auto net87 = random_net<double>(87, 1);
    ForceOptions o87;
    o87.max_iterations = 20;
    o87.progress = Progress::off;
    BasicForceTrainer<RateNetwork<Logistic<double>>, AllSynapses, ExponentialEuler<double>> ee(
        net87, big.rates<double>(), big.inputs<double>(1), o87);
    BasicForceTrainer<RateNetwork<Logistic<double>>, AllSynapses, RK4<double>> rk(net87, big.rates<double>(),
                                                                                  big.inputs<double>(1), o87);
    const auto a = ee.train(), b = rk.train();
    MESSAGE("exponential Euler: " << a.iterations << " iterations, pVar " << a.pvar.back()[0] << "; RK4: "
                                  << b.iterations << " iterations, pVar " << b.pvar.back()[0]);
    CHECK(a.converged);
    CHECK(b.converged);
    const auto params = rk.parameters();
    CHECK(std::any_of(params.begin(), params.end(), [](const auto& kv) { return kv.first == "stepper"; }));
}

TEST_CASE("A user-written policy: only the delay-selective units learn") {
    // The units whose designed delay preference is non-zero, from the targets' own metadata.
    struct DelaySelective {
        std::vector<int> preference;
        PlasticSet resolve(index_t n, Rng& rng) const {
            std::vector<index_t> set;
            for (index_t i = 0; i < n; ++i)
                if (preference.at(std::size_t(i)) != 0) set.push_back(i);
            return Rows{set}.resolve(n, rng);
        }
        void describe(ParameterList& p) const {
            std::string s;
            for (int v : preference) s += std::to_string(v) + " ";
            p.emplace_back("policy", "DelaySelective");
            p.emplace_back("DelaySelective.preference", s);
        }
    };
    ShortTask task(1);
    auto net = random_net<double>(87, 1);
    const Matrix<double> J0 = net.weights();
    std::vector<int> pref(task.t.delay_preference.begin(), task.t.delay_preference.end());
    ForceOptions opt;
    opt.max_iterations = 30;
    opt.progress = Progress::off;
    ForceTrainer<DelaySelective> tr(net, task.rates<double>(), task.inputs<double>(1), opt, DelaySelective{pref});
    const auto res = tr.train();
    const auto& rows = tr.plastic_set().rows;
    MESSAGE(rows.size() << " delay-selective units: " << res.iterations << " iterations, pVar on them "
                        << res.pvar.back()[0] << " / " << res.pvar.back()[1] << ", all units " << res.pvar_all.back()[0]);
    REQUIRE(rows.size() > 30);
    CHECK(res.converged);
    for (index_t i = 0; i < 87; ++i)
        CHECK(((tr.network().weights().row(i) - J0.row(i)).norm() > 0) == (pref[std::size_t(i)] != 0));
}

TEST_CASE("test trials of an iteration on two threads: bitwise the iteration on one") {
    // train() runs the test trials of an iteration concurrently (ForceOptions::concurrent_tests);
    // the worker copy of the trainer must give exactly the one-thread results, for 2 and 3
    // conditions and for an n that is and one that is not a multiple of 8 (padded J).
#ifdef _OPENMP
    const int before = omp_get_max_threads();
    omp_set_num_threads(2);
#endif
    for (index_t n : {24, 27}) {
        const auto t = short_task(n);
        const xt::xtensor<double, 3> R2 = normalise_jointly(t.rates);
        const index_t K = index_t(R2.shape()[2]);
        for (std::size_t C : {2, 3}) {
            CAPTURE(n);
            CAPTURE(C);
            xt::xtensor<double, 3> R = xt::zeros<double>({C, std::size_t(n), std::size_t(K)});
            for (std::size_t c = 0; c < C; ++c) xt::view(R, c) = xt::view(R2, c % 2);
            auto run = [&](bool concurrent) {
                Rng rng(5);
                auto net = RateNetwork<Logistic<double>>::random(n, 1.2, 10.0, rng);
                const auto h = FrozenOu{}.generate<double>(n, C, TimeGrid(1.0, K), t.epochs, {"presample", "delay"}, 5);
                ForceOptions o = two_iterations();
                o.concurrent_tests = concurrent;
                ForceTrainer tr(net, R, h, o);
                tr.train();
                return tr;
            };
            const auto one = run(false), two = run(true);
            CHECK(two.network().weights() == one.network().weights());
            CHECK(two.history() == one.history());
            CHECK(two.history_all() == one.history_all());
            for (index_t c = 0; c < index_t(C); ++c) CHECK(two.last_test_rates(c) == one.last_test_rates(c));
            CHECK(one.last_test_rates(0) != one.last_test_rates(1));
        }
    }
#ifdef _OPENMP
    omp_set_num_threads(before);
#endif
}

TEST_CASE("a policy that cannot be copied trains too (its test trials run in turn)") {
    // The concurrent test trials need a copy of the trainer; without one they run in turn,
    // with the same numbers.
    struct MoveOnly {
        std::unique_ptr<int> state = std::make_unique<int>(0);
        PlasticSet resolve(index_t n, Rng& rng) const { return AllSynapses{}.resolve(n, rng); }
        void describe(ParameterList& p) const { p.emplace_back("policy", "MoveOnly"); }
    };
    const index_t n = 16;
    const auto t = short_task(n);
    const auto R = normalise_jointly(t.rates);
    const index_t K = index_t(R.shape()[2]);
    const auto net = random_net<double>(n, 3);
    const auto h = FrozenOu{}.generate<double>(n, 2, TimeGrid(1.0, K), t.epochs, {"presample", "delay"}, 3);
    const ForceOptions o = two_iterations();
    ForceTrainer<MoveOnly> a(net, R, h, o);
    ForceTrainer<AllSynapses> b(net, R, h, o);
    a.train();
    b.train();
    CHECK(a.network().weights() == b.network().weights());
    CHECK(a.history() == b.history());
}

TEST_CASE("independent realisations trained concurrently give bitwise the sequential results") {
    // Two trainers share nothing (each owns its network copy, P, workspaces and RNG; the
    // logistic's thread_local buffer is per thread), so one per core must give the same bits
    // as one after the other: what rajan_training relies on when it trains realisations in
    // parallel, and what the force_training/realizations benchmark times.
    const index_t n = 24;
    const auto t = short_task(n);
    const auto R = normalise_jointly(t.rates);
    const index_t K = index_t(R.shape()[2]);
    auto make = [&](std::uint64_t seed, ForceProtocol protocol) {
        Rng rng(seed);
        auto net = RateNetwork<Logistic<double>>::random(n, 1.2, 10.0, rng);
        const auto h = FrozenOu{}.generate<double>(n, 2, TimeGrid(1.0, K), t.epochs, {"presample", "delay"}, seed);
        return ForceTrainer(net, R, h,
                            two_iterations(protocol == ForceProtocol::seed ? ForceOptions::seed_protocol() : ForceOptions{}));
    };
    for (auto protocol : {ForceProtocol::textbook, ForceProtocol::seed}) {
        auto a = make(1, protocol), b = make(2, protocol);
        a.train();
        b.train();
        auto c = make(1, protocol), d = make(2, protocol);
        std::thread other([&] { d.train(); });
        c.train();
        other.join();
        CHECK(c.network().weights() == a.network().weights());
        CHECK(d.network().weights() == b.network().weights());
        CHECK(c.history() == a.history());
        CHECK(d.history() == b.history());
        CHECK(a.network().weights() != b.network().weights());
    }
}
