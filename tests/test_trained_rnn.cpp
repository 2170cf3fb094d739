// Tests for experiments/trained_rnn.hpp and experiments/noise_robustness.hpp: running a trained
// network's trials, judging the right/left separation, and the perturbation sweeps.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "neurodyn/experiments/network_structure.hpp"
#include "neurodyn/experiments/noise_robustness.hpp"
#include "neurodyn/experiments/rajan_training.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/experiments/synthetic_targets.hpp"
#include "neurodyn/experiments/trained_rnn.hpp"
#include "neurodyn/inputs/frozen_ou.hpp"
#include "neurodyn/learn/force_trainer.hpp"

using namespace neurodyn;

namespace {
/// Planted rates: `units` × `steps`, every column equal to `v`.
Matrix<double> flat(std::initializer_list<double> v, index_t steps) {
    Vector<double> col(index_t(v.size()));
    index_t i = 0;
    for (double x : v) col[i++] = x;
    return col.replicate(1, steps);
}

/// A network without recurrence (J = 0): x relaxes to its input, so a constant input of
/// logit(R) reproduces target rates R exactly once settled. Right: unit 0 high, unit 1 low.
TrainedRnn<double> feedforward_task(index_t steps = 400) {
    TaskEpochs ep{double(steps)};
    ep.add("presample", 0, 100).add("delay", 100, double(steps));
    xt::xtensor<double, 3> R = xt::zeros<double>({std::size_t(2), std::size_t(2), std::size_t(steps)});
    xt::xtensor<double, 3> h = R;
    for (std::size_t k = 0; k < std::size_t(steps); ++k) {
        R(0, 0, k) = 0.8; R(0, 1, k) = 0.2;
        R(1, 0, k) = 0.2; R(1, 1, k) = 0.8;
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t i = 0; i < 2; ++i) h(c, i, k) = logit(R(c, i, k));
    }
    return TrainedRnn<double>(RateNetwork<Logistic<double>>(Matrix<double>::Zero(2, 2), 10.0), h, R, ep);
}
}  // namespace

TEST_CASE("SeparationClassifier: planted trajectories") {
    const StepRange w{80, 100};
    const auto right = flat({0.9, 0.1, 0.5}, 100), left = flat({0.1, 0.9, 0.5}, 100);
    SeparationClassifier<double> judge(right, left, w);
    CHECK(judge.endpoint(right) == doctest::Approx(1.0));
    CHECK(judge.endpoint(left) == doctest::Approx(0.0));
    CHECK(judge.direction().norm() == doctest::Approx(1.0));
    // A right trial whose delay end collapsed onto the left pattern is an error …
    Matrix<double> collapsed = right;
    collapsed.middleCols(80, 20) = left.middleCols(80, 20);
    CHECK_FALSE(judge.correct(collapsed, 0));
    CHECK(judge.correct(collapsed, 1));
    // … one that dips towards left before the window but recovers is correct.
    Matrix<double> recovered = right;
    recovered.middleCols(20, 40) = left.middleCols(20, 40);
    CHECK(judge.correct(recovered, 0));
    // Three quarters of the way to the right pattern: endpoint 0.75 (the projection is linear).
    const Matrix<double> mix = 0.75 * right + 0.25 * left;
    CHECK(judge.endpoint(mix) == doctest::Approx(0.75));
    CHECK(judge.projection(mix)[10] == doctest::Approx(0.75));
    // A unit that does not separate the conditions (unit 2) does not move the endpoint.
    Matrix<double> other = right;
    other.row(2).setConstant(0.95);
    CHECK(judge.endpoint(other) == doctest::Approx(1.0));
    CHECK_THROWS_AS(SeparationClassifier<double>(right, right, w), invalid_parameter);
    // Rounding-level differences are refused too (sqrt(eps) * |rates| ~ 1.6e-8 here); a small
    // but real one (1e-6) is accepted.
    const Matrix<double> nudged = right.array() + 1e-12;
    CHECK_THROWS_AS(SeparationClassifier<double>(right, nudged, w), invalid_parameter);
    CHECK_NOTHROW(SeparationClassifier<double>(right, Matrix<double>(right.array() + 1e-6), w));
    CHECK_THROWS_AS(SeparationClassifier<double>(right, left, StepRange{90, 120}), invalid_parameter);
    CHECK_THROWS_AS(judge.endpoint(flat({0.9, 0.1}, 100)), invalid_parameter);
}

TEST_CASE("TrainedRnn: trials follow Euler from logit(R(:,0)) and reach the target") {
    const auto task = feedforward_task();
    const Matrix<double> r = task.run(0, Trial{});
    CHECK(r(0, 0) == doctest::Approx(0.8));  // x(0) = logit(R(:, 0))
    CHECK(r(0, 399) == doctest::Approx(0.8));
    CHECK(r(1, 399) == doctest::Approx(0.2));
    CHECK(task.pvar_of(r, 0) > 1 - 1e-9);
    CHECK(task.pvar_of(task.run(1, Trial{}), 0) < 0);  // the left trial does not fit the right target
    auto judge = SeparationClassifier<double>::fit(task, 100.0);
    CHECK(judge.window().first == 300);
    CHECK(judge.window().last == 400);
    CHECK(judge.correct(r, 0));
    CHECK_THROWS_AS(SeparationClassifier<double>::fit(task, 500.0), invalid_parameter);
    // Shape checks name the parameter.
    xt::xtensor<double, 3> bad = xt::zeros<double>({2, 3, 10});
    CHECK_THROWS_WITH_AS(TrainedRnn<double>(task.network, bad, bad, task.epochs), doctest::Contains("targets"),
                         invalid_parameter);
    // A constant target would make every pVar undefined (−1e28 or a division by zero).
    auto flat_left = task.targets;
    xt::view(flat_left, 1, xt::all(), xt::all()) = 0.5;
    CHECK_THROWS_WITH_AS(TrainedRnn<double>(task.network, task.inputs, flat_left, task.epochs),
                         doctest::Contains("condition 'left': constant (every value 0.5)"), invalid_parameter);
}

TEST_CASE("noise: amplitude 0 changes nothing, noise is reproducible on any thread count") {
    const auto task = feedforward_task();
    const auto judge = SeparationClassifier<double>::fit(task, 100.0);
    const auto quiet = run_noisy_trials(task, judge, 0, 0.0, NoiseWindow::whole, NoiseSharing::independent, 4, 7);
    CHECK(quiet.fraction_correct() == 1.0);
    CHECK(quiet.mean_pvar() == doctest::Approx(task.pvar_of(task.run(0, Trial{}), 0)));
    const auto one = run_noisy_trials(task, judge, 1, 3.0, NoiseWindow::delay, NoiseSharing::independent, 8, 7, 0, 1);
    const auto two = run_noisy_trials(task, judge, 1, 3.0, NoiseWindow::delay, NoiseSharing::independent, 8, 7, 0, 2);
    CHECK(one.endpoint == two.endpoint);
    CHECK(one.pvar == two.pvar);
    CHECK(one.mean_pvar() < quiet.mean_pvar());
    // Noise confined to the delay leaves the pre-delay projection untouched.
    const auto base = judge.projection(task.run(1, Trial{}));
    CHECK(one.projection(3, 5) == doctest::Approx(base[50]));
    CHECK(one.projection(3, 30) != doctest::Approx(base[300]));
}

TEST_CASE("noise sweep: one row per (window, amplitude, condition) - thresholds") {
    const auto task = feedforward_task(300);
    const auto judge = SeparationClassifier<double>::fit(task, 100.0);
    NoiseSweepOptions o;
    o.amplitudes = {0.0, 2.0};
    o.trials = 6;
    const auto rows = run_noise_sweep(task, judge, o);
    REQUIRE(rows.size() == 2 * 2 * 2);
    CHECK(rows[0].window == NoiseWindow::whole);
    CHECK(rows[0].amplitude == 0.0);
    CHECK(rows[0].fraction_selective == 1.0);
    CHECK(rows[1].condition == 1);
    CHECK(rows[2].mean_pvar < rows[0].mean_pvar);
    std::vector<NoiseSweepRow> planted = {{NoiseWindow::delay, 0.5, 0, 10, 0.95, 1.0},
                                          {NoiseWindow::delay, 1.0, 0, 10, 0.80, 0.6},
                                          {NoiseWindow::delay, 1.0, 1, 10, 0.90, 0.9},
                                          {NoiseWindow::delay, 2.0, 0, 10, 0.50, 0.3}};
    auto pv = [](const NoiseSweepRow& r) { return r.mean_pvar; };
    auto sel = [](const NoiseSweepRow& r) { return r.fraction_selective; };
    CHECK(noise_threshold(planted, NoiseWindow::delay, 0.85, pv) == 1.0);
    CHECK(noise_threshold(planted, NoiseWindow::delay, 0.5, sel) == 2.0);
    CHECK(std::isnan(noise_threshold(planted, NoiseWindow::whole, 0.5, sel)));
    // The detailed run's amplitude: the first where a condition's fraction selective < 0.9
    // (1.0: 0.6 for right), or the largest swept when none does.
    CHECK(chosen_noise_amplitude(planted, NoiseWindow::delay, 0.9) == 1.0);
    CHECK(chosen_noise_amplitude(planted, NoiseWindow::delay, 0.2) == 2.0);
    CHECK(chosen_noise_amplitude(planted, NoiseWindow::whole) == 2.0);
    CHECK_THROWS_AS(chosen_noise_amplitude({}, NoiseWindow::delay), invalid_parameter);
}

TEST_CASE("run_noisy_conditions: right and left trials on disjoint noise streams") {
    const auto task = feedforward_task(300);
    const auto judge = SeparationClassifier<double>::fit(task, 100.0);
    const auto [right, left] =
        run_noisy_conditions(task, judge, 2.0, NoiseWindow::delay, NoiseSharing::independent, 5, 9);
    CHECK(right.condition == 0);
    CHECK(left.condition == 1);
    // Right trial k is Trial{k, 9}, left trial k is Trial{5 + k, 9}: bitwise the single runs.
    const auto r = run_noisy_trials(task, judge, 0, 2.0, NoiseWindow::delay, NoiseSharing::independent, 5, 9, 0);
    const auto l = run_noisy_trials(task, judge, 1, 2.0, NoiseWindow::delay, NoiseSharing::independent, 5, 9, 5);
    CHECK(right.endpoint == r.endpoint);
    CHECK(left.endpoint == l.endpoint);
    CHECK(left.pvar == l.pvar);
    // Left trials do not reuse the right trials' noise: the left run with the right trials'
    // indices differs.
    const auto same = run_noisy_trials(task, judge, 1, 2.0, NoiseWindow::delay, NoiseSharing::independent, 5, 9, 0);
    CHECK(same.endpoint != left.endpoint);
    CHECK_THROWS_AS(run_noisy_conditions(task, judge, -1.0, NoiseWindow::delay, NoiseSharing::independent, 5, 9),
                    invalid_parameter);
}

TEST_CASE("photoinhibition of the trained network: drive and silencing") {
    const auto task = feedforward_task(400);
    const auto judge = SeparationClassifier<double>::fit(task, 100.0);
    PhotoinhibitionOptions o;
    o.trials = 4;
    o.background_noise = 0.0;
    o.duration_ms = 100;  // light over [100, 200); the feed-forward net recovers by 300–400
    const auto none = run_photoinhibited_trials(task, judge, 0, InhibitionMode::drive, 0.0, o);
    const auto strong = run_photoinhibited_trials(task, judge, 0, InhibitionMode::drive, 8.0, o);
    // The input-driven net recovers: 100 ms = 10 τ after the light, the endpoint is back to
    // within e^{-10}·(drive) of the unperturbed one.
    for (std::size_t k = 0; k < none.endpoint.size(); ++k)
        CHECK(strong.endpoint[k] == doctest::Approx(none.endpoint[k]).epsilon(1e-3));
    CHECK(strong.fraction_correct() == 1.0);
    const auto base = judge.projection(task.run(0, Trial{}));
    // During the light both units are pushed down equally: the separation shrinks.
    CHECK(std::abs(strong.projection(0, 15)) < std::abs(base[150]));
    const auto silenced = run_photoinhibited_trials(task, judge, 0, InhibitionMode::silence, 1.0, o);
    CHECK(silenced.projection(0, 15) == doctest::Approx(0.5).epsilon(0.01));  // all silent: no separation
    CHECK(silenced.fraction_correct() == 1.0);
    CHECK_THROWS_AS(run_photoinhibited_trials(task, judge, 0, InhibitionMode::silence, 1.5, o), invalid_parameter);
    const auto rows = run_photoinhibition_sweep(task, judge, o);
    CHECK(rows.size() == 2 * (o.drive_strengths.size() + o.silence_fractions.size()));
}

TEST_CASE("analyse_structure: planted weight change of known rank, random spectrum") {
    // A random network as the "initial" one and a planted rank-3 change as "training".
    Rng rng(3);
    const index_t n = 60;
    auto net = RateNetwork<Logistic<double>>::random(n, 1.2, 10.0, rng);
    const Matrix<double> J0 = net.weights();
    Matrix<double> U(n, 3), V(n, 3);
    for (index_t i = 0; i < U.size(); ++i) U.data()[i] = rng.normal() / std::sqrt(double(n));
    for (index_t i = 0; i < V.size(); ++i) V.data()[i] = rng.normal();
    net.weights() += U * V.transpose();
    TaskEpochs ep{300.0};
    ep.add("delay", 100, 300);
    xt::xtensor<double, 3> R = xt::zeros<double>({std::size_t(2), std::size_t(n), std::size_t(300)});
    xt::xtensor<double, 3> h = R;
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t i = 0; i < std::size_t(n); ++i)
            for (std::size_t k = 0; k < 300; ++k) {
                R(c, i, k) = 0.5 + 0.3 * std::sin(0.01 * double(k * (i + 1)) + double(c));
                h(c, i, k) = 0.0;
            }
    const TrainedRnn<double> task(net, h, R, ep);
    const auto s = analyse_structure(task, J0);
    CHECK(s.dJ.rank == 3);
    CHECK(s.dJ.singular_values[3] < 1e-10 * s.dJ.singular_values[0]);
    // The three planted directions carry comparable weight (|u_k| ~ 1, |v_k| ~ sqrt(60)): all
    // above 1 % of the largest; the rest is rounding.
    CHECK(s.dJ_effective_rank == 3);
    CHECK(effective_rank(s.dJ, 1e-12) == 3);
    CHECK(effective_rank(s.dJ, 1.0) == 0);
    index_t outside = 0;
    for (index_t i = 0; i < s.eig_trained.size(); ++i) outside += std::abs(s.eig_trained[i]) > s.radius_initial;
    CHECK(s.outliers_trained == outside);
    // Circular law: the spectral radius of N(0, g²/N) is g up to O(N^{-1/2}) fluctuations.
    CHECK(s.radius_initial == doctest::Approx(1.2).epsilon(0.15));
    CHECK(s.eig_initial.size() == n);
    CHECK(s.var_ratio_targets.sum() == doctest::Approx(1.0));
    CHECK(s.pca_dim_targets >= 1);
    CHECK(s.pca_dim_targets <= n);
    CHECK(s.weight_sd_initial == doctest::Approx(1.2 / std::sqrt(double(n))).epsilon(0.1));
    CHECK_THROWS_AS(analyse_structure(task, Matrix<double>(Matrix<double>::Zero(3, 3))), invalid_parameter);
}

namespace {
namespace fs = std::filesystem;

/// A tiny training run: 10 units, 500-ms trials, 2 realisations of 2 iterations.
struct TinyTraining {
    SyntheticTargets targets;
    RajanOptions options;
    RajanResult result;
    fs::path dir;
};

TinyTraining tiny_training(const std::string& name) {
    SyntheticTargetOptions so;
    so.neurons = 10;
    so.presample_ms = 100, so.sample_ms = 100, so.delay_ms = 200, so.response_ms = 100;
    so.seed = 4;
    TinyTraining t{synthetic_targets(so), {}, {}, fs::path(NEURODYN_TEST_TMP_DIR) / ("training_" + name)};
    t.options.realizations = 2;
    t.options.max_iterations = 2;
    t.options.seed = 11;
    t.options.inputs = FrozenOu{200.0, 3.0};
    t.options.progress = false;
    t.result = rajan_training(t.targets.rates, t.targets.epochs, t.options);
    fs::remove_all(t.dir);
    save_training(t.dir, t.result, t.targets.epochs, t.options);
    return t;
}

nlohmann::json read_json(const fs::path& p) {
    std::ifstream in(p);
    nlohmann::json j;
    in >> j;
    return j;
}
void write_json(const fs::path& p, const nlohmann::json& j) { std::ofstream(p) << j.dump(2); }
}  // namespace

TEST_CASE("training folder: save_training then load_trained_rnn gives bitwise the same task") {
    const auto t = tiny_training("roundtrip");
    const index_t N = 10, K = 500;
    for (index_t k = 0; k < 2; ++k) {
        const auto loaded = load_trained_rnn(t.dir, k);
        const auto& run = t.result.runs[std::size_t(k)];
        CHECK(loaded.realization == k);
        CHECK(loaded.task.network.weights() == run.J_trained);
        CHECK(loaded.J_initial == run.J_initial);
        CHECK(loaded.task.targets == t.result.targets);
        CHECK(loaded.task.network.tau() == t.options.tau);
        CHECK(loaded.task.dt == t.options.dt);
        // The documented input contract, written out independently of realization_inputs:
        // FrozenOu with seed·1000003 + k, shared in presample and delay.
        const auto h = FrozenOu{200.0, 3.0}.generate<double>(N, 2, TimeGrid(1.0, K), t.targets.epochs,
                                                            {"presample", "delay"}, 11ULL * 1000003ULL + std::uint64_t(k));
        CHECK(loaded.task.inputs == h);
        REQUIRE(loaded.task.epochs.all().size() == t.targets.epochs.all().size());
        for (std::size_t e = 0; e < t.targets.epochs.all().size(); ++e) {
            CHECK(loaded.task.epochs.all()[e].name == t.targets.epochs.all()[e].name);
            CHECK(loaded.task.epochs.all()[e].start_ms == t.targets.epochs.all()[e].start_ms);
            CHECK(loaded.task.epochs.all()[e].end_ms == t.targets.epochs.all()[e].end_ms);
        }
        // The initial network is realisation k's draw.
        CHECK(realization_network(t.options, N, k).weights() == run.J_initial);
        // The loaded network replays the trainer's test run: same Euler steps, same inputs (the
        // two codes group the update differently, so agreement is to rounding, amplified over
        // 500 steps of a network with gain ~1).
        for (index_t c = 0; c < 2; ++c) {
            const Matrix<double> r = loaded.task.run(c, Trial{});
            double worst = 0;
            for (index_t i = 0; i < N; ++i)
                for (index_t s = 0; s < K; ++s)
                    worst = std::max(worst, std::abs(r(i, s) - run.rates(std::size_t(c), std::size_t(i), std::size_t(s))));
            CHECK(worst < 1e-9);
        }
        // trained_task gives the same task without the folder.
        const auto direct = trained_task(t.result, t.targets.epochs, t.options, k);
        CHECK(direct.task.inputs == loaded.task.inputs);
        CHECK(direct.task.network.weights() == loaded.task.network.weights());
    }
    // Default: the best realisation, as recorded.
    const auto setup = load_training_setup(t.dir);
    CHECK(setup.best_realization == best_realization(t.result));
    CHECK(load_trained_rnn(t.dir).realization == best_realization(t.result));
    CHECK(setup.units == N);
    CHECK(setup.steps == K);
    CHECK(setup.options.seed == 11);
    CHECK(setup.options.inputs.tau_wn == 200.0);
    CHECK(setup.json.at("files").at("J_trained").at(1) == "J_trained_1.npy");
    CHECK_THROWS_AS(load_trained_rnn(t.dir, 2), invalid_parameter);
}

TEST_CASE("training folder: missing or inconsistent files name the file and field") {
    const auto t = tiny_training("broken");
    const fs::path setup = t.dir / "training_setup.json";
    const auto good = read_json(setup);
    auto expect_field = [&](const std::string& file, const std::string& field) {
        try {
            (void)load_trained_rnn(t.dir, 0);
            FAIL("no error for a broken " << file);
        } catch (const file_error& e) {
            CHECK(e.file().find(file) != std::string::npos);
            CHECK(e.field() == field);
        }
    };
    SUBCASE("missing field") {
        auto j = good;
        j.erase("h0");
        write_json(setup, j);
        expect_field("training_setup.json", "h0");
    }
    SUBCASE("wrong type") {
        auto j = good;
        j["g"] = "large";
        write_json(setup, j);
        expect_field("training_setup.json", "g");
    }
    SUBCASE("unknown variant") {
        auto j = good;
        j["variant"] = "shuffled";
        write_json(setup, j);
        expect_field("training_setup.json", "variant");
    }
    SUBCASE("shared epoch that is not an epoch") {
        auto j = good;
        j["shared_epochs"] = {"presample", "iti"};
        write_json(setup, j);
        expect_field("training_setup.json", "epochs");
    }
    SUBCASE("wrong N") {
        auto j = good;
        j["N"] = 11;
        write_json(setup, j);
        expect_field("targets_normalised.npy", "shape");
    }
    SUBCASE("missing weights") {
        fs::remove(t.dir / "J_trained_0.npy");
        CHECK_THROWS_WITH_AS(load_trained_rnn(t.dir, 0), doctest::Contains("J_trained_0.npy"), file_error);
    }
    SUBCASE("J_initial of another run") {
        fs::copy_file(t.dir / "J_initial_1.npy", t.dir / "J_initial_0.npy", fs::copy_options::overwrite_existing);
        expect_field("J_initial_0.npy", "");
    }
    SUBCASE("a different seed no longer matches J_initial") {
        auto j = good;
        j["seed"] = 12;
        write_json(setup, j);
        expect_field("J_initial_0.npy", "");
    }
    SUBCASE("no folder") {
        CHECK_THROWS_WITH_AS(load_trained_rnn(t.dir / "nowhere"), doctest::Contains("training_setup.json"),
                             file_error);
    }
    SUBCASE("inputs regenerated differently from training (tampered hash)") {
        auto j = good;
        std::string h = j["runs"][0]["inputs_hash"];
        h[0] = h[0] == '0' ? '1' : '0';
        j["runs"][0]["inputs_hash"] = h;
        write_json(setup, j);
        expect_field("training_setup.json", "inputs_hash");
        try {
            (void)load_trained_rnn(t.dir, 0);
        } catch (const file_error& e) {
            const std::string w = e.what();
            CHECK(w.find("realisation 0: the frozen inputs regenerated by this build") != std::string::npos);
            CHECK(w.find("differ from those used in training (hash " + h + ")") != std::string::npos);
            CHECK(w.find("retrain with this build") != std::string::npos);
        }
        CHECK_NOTHROW(load_trained_rnn(t.dir, 1));  // realisation 1 is untouched
    }
    SUBCASE("J_trained of another run") {
        fs::copy_file(t.dir / "J_trained_1.npy", t.dir / "J_trained_0.npy", fs::copy_options::overwrite_existing);
        expect_field("J_trained_0.npy", "");
        CHECK_THROWS_WITH_AS(load_trained_rnn(t.dir, 0), doctest::Contains("J_trained_hash"), file_error);
    }
    SUBCASE("J_initial of another run is caught by its hash first") {
        fs::copy_file(t.dir / "J_initial_1.npy", t.dir / "J_initial_0.npy", fs::copy_options::overwrite_existing);
        CHECK_THROWS_WITH_AS(load_trained_rnn(t.dir, 0), doctest::Contains("J_initial_hash"), file_error);
    }
    SUBCASE("missing hash") {
        auto j = good;
        j["runs"][0].erase("inputs_hash");
        write_json(setup, j);
        expect_field("training_setup.json", "inputs_hash");
    }
    SUBCASE("unknown format") {
        auto j = good;
        j["format"] = "neurodyn training setup 9";
        write_json(setup, j);
        expect_field("training_setup.json", "format");
    }
    SUBCASE("a format-1 folder (no hashes) still loads, unchecked") {
        auto j = good;
        j["format"] = "neurodyn training setup 1";
        for (auto& r : j["runs"]) r.erase("inputs_hash"), r.erase("J_initial_hash"), r.erase("J_trained_hash");
        write_json(setup, j);
        const auto loaded = load_trained_rnn(t.dir, 1);
        CHECK(loaded.task.network.weights() == t.result.runs[1].J_trained);
        CHECK(inputs_hash(loaded.task.inputs) == good["runs"][1]["inputs_hash"].get<std::string>());
    }
}

TEST_CASE("training folder: realisation -1 is the best, anything else outside 0 .. count-1 is refused") {
    const auto t = tiny_training("realization");
    CHECK(load_trained_rnn(t.dir, -1).realization == best_realization(t.result));
    for (index_t bad : {index_t(-2), index_t(-100), index_t(2), index_t(1000)})
        CHECK_THROWS_WITH_AS(load_trained_rnn(t.dir, bad), doctest::Contains("must be -1 (the best) or a realisation in [0, 2)"),
                             invalid_parameter);
    std::string what;
    CHECK_THROWS_WITH_AS(obtain_trained_task("", -2, {}, what), doctest::Contains("'realization' = -2"), invalid_parameter);
    // The recorded inputs hash is that of the inputs training used.
    const auto setup = load_training_setup(t.dir);
    for (index_t k = 0; k < 2; ++k) {
        CHECK(setup.json["runs"][std::size_t(k)]["inputs_hash"] == t.result.runs[std::size_t(k)].inputs_hash);
        CHECK(inputs_hash(realization_inputs<double>(t.options, 10, 500, t.targets.epochs, k)) ==
              t.result.runs[std::size_t(k)].inputs_hash);
    }
    CHECK(t.result.runs[0].inputs_hash != t.result.runs[1].inputs_hash);
}

TEST_CASE("rajan_training checkpoints: a different seed, g or lower cap is refused, the same run resumes bitwise") {
    SyntheticTargetOptions so;
    so.neurons = 10;
    so.presample_ms = 100, so.sample_ms = 100, so.delay_ms = 200, so.response_ms = 100;
    so.seed = 4;
    const auto targets = synthetic_targets(so);
    RajanOptions o;
    o.realizations = 1;
    o.max_iterations = 2;
    o.pvar_threshold = 1.0;  // runs the cap
    o.seed = 6;
    o.inputs = FrozenOu{200.0, 3.0};
    o.progress = false;
    const auto full = rajan_training(targets.rates, targets.epochs, o);  // no checkpoints

    const fs::path dir = fs::path(NEURODYN_TEST_TMP_DIR) / "training_checkpoints";
    fs::remove_all(dir);
    fs::create_directories(dir);
    RajanOptions first = o;
    first.checkpoint_dir = dir;
    first.max_iterations = 1;  // "interrupted" after one iteration
    (void)rajan_training(targets.rates, targets.epochs, first);
    REQUIRE(fs::exists(dir / "realization_0.ckpt"));

    auto refused = [&](RajanOptions r, const std::string& field, const std::string& text) {
        r.checkpoint_dir = dir;
        try {
            (void)rajan_training(targets.rates, targets.epochs, r);
            FAIL("resumed a checkpoint of another run (" << field << ")");
        } catch (const file_error& e) {
            CHECK(e.field() == field);
            CHECK(std::string(e.what()).find(text) != std::string::npos);
        }
    };
    RajanOptions r = o;
    r.seed = 7;
    refused(r, "RajanOptions.seed", "checkpoint was written with RajanOptions.seed = 6, this run has RajanOptions.seed = 7");
    r = o;
    r.g = 1.5;
    refused(r, "RajanOptions.g", "checkpoint was written with RajanOptions.g = 1.2, this run has RajanOptions.g = 1.5");
    r = o;
    r.alpha = 0.5;
    refused(r, "alpha", "checkpoint was written with alpha = 1, this run has alpha = 0.5");
    r = o;
    r.variant = TargetVariant::suppressed;
    refused(r, "RajanOptions.variant", "RajanOptions.variant = raw, this run has RajanOptions.variant = suppressed");
    r = o;
    r.inputs.h0 = 2.0;
    refused(r, "RajanOptions.inputs.h0", "RajanOptions.inputs.h0 = 3, this run has RajanOptions.inputs.h0 = 2");
    r = o;
    r.transfer = NetworkTransfer::tanh;  // a logistic checkpoint never resumes as a tanh network
    refused(r, "RajanOptions.transfer", "this run has RajanOptions.transfer = tanh");

    // Same run, raised cap: continues from iteration 1 to bitwise the uninterrupted result.
    RajanOptions same = o;
    same.checkpoint_dir = dir;
    const auto resumed = rajan_training(targets.rates, targets.epochs, same);
    CHECK(resumed.runs[0].iterations == 2);
    CHECK(resumed.runs[0].J_trained == full.runs[0].J_trained);
    CHECK(resumed.runs[0].pvar == full.runs[0].pvar);
    // Now the checkpoint holds 2 iterations: a run capped at 1 would have stopped earlier.
    RajanOptions lower = o;
    lower.max_iterations = 1;
    refused(lower, "max_iterations", "after 2 iterations, this run has max_iterations = 1");
}

TEST_CASE("rajan_training: degenerate targets and absurd realisation counts are refused before training") {
    SyntheticTargetOptions so;
    so.neurons = 10;
    so.presample_ms = 100, so.sample_ms = 100, so.delay_ms = 200, so.response_ms = 100;
    so.seed = 4;
    auto targets = synthetic_targets(so);
    RajanOptions o;
    o.realizations = 1;
    o.max_iterations = 1;
    o.progress = false;
    // Every neuron silent in left trials: the left target is the constant ε after normalisation.
    auto silent = targets.rates;
    xt::view(silent, 1, xt::all(), xt::all()) = 0.0;
    CHECK_THROWS_WITH_AS(rajan_training(silent, targets.epochs, o), doctest::Contains("condition 'left'"),
                         invalid_parameter);
    CHECK_THROWS_WITH_AS(rajan_training(silent, targets.epochs, o), doctest::Contains("pVar"), invalid_parameter);
    // All-zero targets: both conditions constant.
    auto zero = targets.rates;
    zero.fill(0.0);
    CHECK_THROWS_WITH_AS(rajan_training(zero, targets.epochs, o), doctest::Contains("condition 'right' after normalise_jointly: constant"),
                         invalid_parameter);
    auto nan = targets.rates;
    nan(0, 2, 3) = std::nan("");
    CHECK_THROWS_AS(rajan_training(nan, targets.epochs, o), invalid_parameter);
    // 10^12 realisations of ~80 kB each cannot fit: refused up front, naming the count.
    o.realizations = 1000000000000;
    CHECK_THROWS_WITH_AS(rajan_training(targets.rates, targets.epochs, o),
                         doctest::Contains("'realizations' = 1000000000000: needs"), invalid_parameter);
}

TEST_CASE("noise and photoinhibition sweeps: absurd trial counts and bad levels are refused before any trial") {
    const auto task = feedforward_task(300);
    const auto judge = SeparationClassifier<double>::fit(task, 100.0);
    long calls = 0;
    NoiseSweepOptions n;
    n.trials = 99999999999;
    n.progress = [&](long, long) { ++calls; };
    CHECK_THROWS_WITH_AS(run_noise_sweep(task, judge, n), doctest::Contains("'trials' = 99999999999: needs"),
                         invalid_parameter);
    CHECK_THROWS_WITH_AS(run_noisy_trials(task, judge, 0, 1.0, NoiseWindow::whole, NoiseSharing::independent,
                                          99999999999, 1),
                         doctest::Contains("'trials'"), invalid_parameter);
    n.trials = 2;
    n.amplitudes = {0.0, 1.0, -1.0};
    CHECK_THROWS_WITH_AS(run_noise_sweep(task, judge, n), doctest::Contains("'amplitude' = -1"), invalid_parameter);
    n.amplitudes = {0.0};
    n.threads = 100000;
    CHECK_THROWS_WITH_AS(run_noise_sweep(task, judge, n), doctest::Contains("'threads'"), invalid_parameter);
    PhotoinhibitionOptions p;
    p.trials = 2;
    p.silence_fractions = {0.0, 2.0};  // the last level: used to fail only after the others ran
    p.progress = [&](long, long) { ++calls; };
    CHECK_THROWS_WITH_AS(run_photoinhibition_sweep(task, judge, p), doctest::Contains("'silenced fraction' = 2"),
                         invalid_parameter);
    p.silence_fractions = {0.0};
    p.trials = 99999999999;
    CHECK_THROWS_WITH_AS(run_photoinhibition_sweep(task, judge, p), doctest::Contains("'trials'"), invalid_parameter);
    CHECK(calls == 0);  // nothing ran
}

TEST_CASE("session_training_targets: PSTHs and epochs of a synthetic session") {
    SyntheticSessionOptions so;
    so.units = 6;
    so.trials = 40;
    so.seed = 3;
    const auto t = session_training_targets(synthetic_session(so));
    REQUIRE(t.rates.shape()[0] == 2);
    CHECK(t.rates.shape()[1] == 6);
    CHECK(t.epochs.trial_ms() == doctest::Approx(double(t.rates.shape()[2])));
    // The preset's epochs: sample 1 s, delay 2 s; every trial has the same event spacing, so
    // the medians keep it to rounding.
    CHECK(t.epochs["sample"].duration() == doctest::Approx(1000.0).epsilon(1e-9));
    CHECK(t.epochs["delay"].duration() == doctest::Approx(2000.0).epsilon(1e-9));
    CHECK(t.epochs["presample"].start_ms == 0.0);
    CHECK(t.epochs["response"].end_ms == t.epochs.trial_ms());
}

TEST_CASE("projection_summary: mean and SD over the selected trials") {
    PerturbedTrials<double> t;
    t.projection.resize(3, 2);
    t.projection << 1, 2, 3, 4, 5, 6;
    const auto s = projection_summary(t, [](long k) { return k != 1; });
    CHECK(s.n == 2);
    REQUIRE(s.mean.size() == 2);
    CHECK(s.mean[0] == doctest::Approx(3.0));
    CHECK(s.mean[1] == doctest::Approx(4.0));
    CHECK(s.sd[0] == doctest::Approx(std::sqrt(8.0)));  // ((1−3)² + (5−3)²) / (2 − 1)
    const auto one = projection_summary(t, [](long k) { return k == 2; });
    CHECK(one.n == 1);
    CHECK(one.sd[1] == 0.0);
    const auto none = projection_summary(t, [](long) { return false; });
    CHECK(none.n == 0);
    CHECK(none.mean.empty());
}

TEST_CASE("photoinhibition sweep: the visitor sees every level, in row order") {
    const auto task = feedforward_task(400);
    const auto judge = SeparationClassifier<double>::fit(task, 100.0);
    PhotoinhibitionOptions o;
    o.trials = 3;
    o.duration_ms = 100;
    o.drive_strengths = {0.0, 4.0};
    o.silence_fractions = {0.5};
    std::vector<std::tuple<InhibitionMode, double, index_t, double, long>> seen;
    const auto rows = run_photoinhibition_sweep(task, judge, o,
                                                [&](InhibitionMode m, double s, const PerturbedTrials<double>& t) {
                                                    seen.emplace_back(m, s, t.condition, t.fraction_correct(),
                                                                      long(t.endpoint.size()));
                                                });
    REQUIRE(seen.size() == rows.size());
    REQUIRE(rows.size() == 6);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(std::get<0>(seen[i]) == rows[i].mode);
        CHECK(std::get<1>(seen[i]) == rows[i].strength);
        CHECK(std::get<2>(seen[i]) == rows[i].condition);
        CHECK(std::get<3>(seen[i]) == rows[i].fraction_correct);
        CHECK(std::get<4>(seen[i]) == 3);
    }
    // The plain overload gives the same rows (same seeds, same trials).
    const auto plain = run_photoinhibition_sweep(task, judge, o);
    for (std::size_t i = 0; i < rows.size(); ++i) CHECK(plain[i].fraction_correct == rows[i].fraction_correct);
}

TEST_CASE("A trained tanh network: trials, noise sweep and photoinhibition work for any trained model") {
    // Train a tanh network on ALM-like targets mapped into (-1, 1), then judge it like the
    // logistic ones. Its trials follow the trainer's protocol: the unperturbed run reproduces
    // the trainer's own test run (to rounding: the trainer reuses its fused J r).
    SyntheticTargetOptions so;
    so.neurons = 60;
    so.presample_ms = 100, so.sample_ms = 100, so.delay_ms = 300, so.response_ms = 100;
    so.seed = 3;
    const auto t = synthetic_targets(so);
    const xt::xtensor<double, 3> R = 2.0 * normalise_jointly(t.rates) - 1.0;
    const auto K = R.shape()[2];
    const auto h = FrozenOu{1000.0, 10.0}.generate<double>(60, 2, TimeGrid(1.0, index_t(K)), t.epochs,
                                                            {"presample", "delay"}, 5);
    Rng rng(2, 0, 0xAB);
    auto net = RateNetwork<Tanh<double>, double>::random(60, 1.2, 10.0, rng);
    learn::ForceOptions fo;
    fo.max_iterations = 20;
    fo.progress = learn::Progress::off;
    learn::ForceTrainer<learn::AllSynapses, double, Tanh<double>> trainer(net, R, h, fo);
    const auto res = trainer.train();
    REQUIRE(res.converged);
    TrainedRnn task(trainer.network(), h, R, t.epochs);  // TrainedRnn<double, RateNetwork<Tanh<double>>>
    static_assert(std::is_same_v<decltype(task)::Network, RateNetwork<Tanh<double>, double>>);
    for (index_t c = 0; c < 2; ++c) {
        const Matrix<double> run = task.run(c, Trial{});
        const Matrix<double> ref = trainer.test(c);
        CHECK((run - ref).cwiseAbs().maxCoeff() < 1e-9);
        CHECK(task.pvar_of(run, c) == doctest::Approx(res.pvar.back()[std::size_t(c)]).epsilon(1e-9));
    }
    // Targets outside tanh's range are refused with its range.
    auto bad = R;
    bad(0, 1, 2) = 1.2;
    CHECK_THROWS_WITH_AS(TrainedRnn(trainer.network(), h, bad, t.epochs), doctest::Contains("(-1, 1)"),
                         invalid_parameter);
    const auto judge = SeparationClassifier<double>::fit(task, 100.0);
    // Zero noise changes nothing; strong noise lowers pVar.
    NoiseSweepOptions no;
    no.amplitudes = {0.0, 5.0};
    no.windows = {NoiseWindow::whole};
    no.trials = 4;
    const auto rows = run_noise_sweep(task, judge, no);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].mean_pvar == doctest::Approx(res.pvar.back()[0]).epsilon(1e-9));
    CHECK(rows[0].fraction_selective == 1.0);
    CHECK(rows[2].mean_pvar < rows[0].mean_pvar);
    // Silencing clamps units at the bottom of tanh's range (rate -0.999), not at logit(1e-3).
    CHECK(task.silent_rate() == doctest::Approx(-0.999));
    PhotoinhibitionOptions po;
    po.drive_strengths = {0.0};
    po.silence_fractions = {1.0};
    po.background_noise = 0.0;
    po.trials = 2;
    std::vector<double> silenced_rates;
    run_photoinhibition_sweep(task, judge, po, [&](InhibitionMode m, double, const PerturbedTrials<double>& p) {
        if (m == InhibitionMode::silence) silenced_rates.push_back(p.mean_pvar());
    });
    REQUIRE(silenced_rates.size() == 2);
    // All units silenced through the delay: the rates sit at -0.999 there, far from the targets.
    for (double v : silenced_rates) CHECK(v < res.pvar.back()[0] - 0.2);
    // The structure analysis runs the tanh network too (its random counterpart with the
    // initial weights): FORCE changed J, and the initial spectrum follows the circular law of
    // radius g = 1.2 up to O(N^-1/2) fluctuations.
    const auto st = analyse_structure(task, net.weights());
    CHECK(st.dJ.rank >= 1);
    CHECK(st.dJ_effective_rank >= 1);
    CHECK(st.radius_initial == doctest::Approx(1.2).epsilon(0.15));
    CHECK(st.pca_dim_trained >= 1);
    CHECK(st.pca_dim_trained <= 60);
}

TEST_CASE("training folder: a tanh network round trip, the transfer field is checked") {
    // A tanh result in the folder's conventions: realisation k starts from realization_network's
    // draw and trains on realization_inputs, as rajan_training does for logistic networks.
    SyntheticTargetOptions so;
    so.neurons = 10;
    so.presample_ms = 100, so.sample_ms = 100, so.delay_ms = 200, so.response_ms = 100;
    so.seed = 4;
    const auto t = synthetic_targets(so);
    RajanOptions o;
    o.realizations = 1;
    o.max_iterations = 2;
    o.seed = 12;
    o.inputs = FrozenOu{200.0, 3.0};
    o.progress = false;
    const index_t N = 10, K = index_t(t.rates.shape()[2]);
    RajanResult res;
    res.transfer = NetworkTransfer::tanh;
    res.targets = normalise_jointly(t.rates);  // (0, 1): inside tanh's range (-1, 1)
    res.target_preference = delay_preference(t.rates, t.epochs.steps("delay", TimeGrid(1.0, K)), 0.1);
    const auto h = realization_inputs<double>(o, N, K, t.epochs, 0);
    RateNetwork<Tanh<double>, double> net(realization_network(o, N, 0).weights(), o.tau);
    learn::ForceOptions fo;
    fo.max_iterations = 2;
    fo.progress = learn::Progress::off;
    learn::ForceTrainer<learn::AllSynapses, double, Tanh<double>> trainer(net, res.targets, h, fo);
    const auto tr = trainer.train();
    RealizationResult run;
    run.pvar = tr.pvar;
    run.iterations = tr.iterations;
    run.J_initial = net.weights();
    run.J_trained = trainer.network().weights();
    run.rates = xt::zeros<double>({std::size_t(2), std::size_t(N), std::size_t(K)});
    res.runs.push_back(run);
    const fs::path dir = fs::path(NEURODYN_TEST_TMP_DIR) / "training_tanh";
    fs::remove_all(dir);
    CHECK_THROWS_WITH_AS(save_training(dir, res, t.epochs, o, "relu"), doctest::Contains("transfer"),
                         invalid_parameter);
    // A name other than the result's own transfer would mislabel the folder: refused.
    CHECK_THROWS_WITH_AS(save_training(dir, res, t.epochs, o, "logistic"), doctest::Contains("transfer"),
                         invalid_parameter);
    save_training(dir, res, t.epochs, o);  // the result's own transfer is recorded
    CHECK(load_training_setup(dir).transfer == "tanh");
    CHECK(load_training_setup(dir).options.transfer == NetworkTransfer::tanh);

    const auto m = load_trained_model<Tanh<double>>(dir);
    static_assert(std::is_same_v<decltype(m.task)::Network, RateNetwork<Tanh<double>, double>>);
    CHECK(m.task.network.weights() == run.J_trained);
    CHECK(m.J_initial == run.J_initial);
    CHECK(m.task.inputs == h);
    CHECK(m.task.targets == res.targets);
    // The loaded tanh network replays the trainer's test run (to rounding: the trainer fuses J r).
    for (index_t c = 0; c < 2; ++c) {
        const Matrix<double> r = m.task.run(c, Trial{});
        CHECK((r - trainer.test(c)).cwiseAbs().maxCoeff() < 1e-9);
    }
    // visit_trained_model builds the recorded kind.
    const bool is_tanh = visit_trained_model(dir, -1, [](const auto& x) {
        return std::is_same_v<typename std::decay_t<decltype(x)>::Network, RateNetwork<Tanh<double>, double>>;
    });
    CHECK(is_tanh);
    // The logistic loader refuses it naming the field (a logistic network on tanh weights would
    // run silently wrong).
    CHECK_THROWS_WITH_AS(load_trained_rnn(dir), doctest::Contains("transfer"), file_error);
    CHECK_THROWS_WITH_AS(load_trained_model<Logistic<double>>(dir), doctest::Contains("'tanh'"), file_error);

    // An unknown or mistyped transfer names the field and the value.
    const fs::path setup = dir / "training_setup.json";
    auto j = read_json(setup);
    j["transfer"] = "relu";
    write_json(setup, j);
    CHECK_THROWS_WITH_AS(load_training_setup(dir), doctest::Contains("transfer"), file_error);
    CHECK_THROWS_WITH_AS(load_trained_model<Tanh<double>>(dir), doctest::Contains("'relu'"), file_error);
    j["transfer"] = 3;
    write_json(setup, j);
    CHECK_THROWS_WITH_AS(load_training_setup(dir), doctest::Contains("transfer"), file_error);
    // Folders written before the field existed hold logistic networks.
    j.erase("transfer");
    write_json(setup, j);
    CHECK(load_training_setup(dir).transfer == "logistic");
    CHECK_THROWS_WITH_AS(load_trained_model<Tanh<double>>(dir), doctest::Contains("'logistic'"), file_error);
    CHECK(visit_trained_model(dir, -1, [](const auto& x) { return x.realization; }) == 0);
}

namespace {
/// What rajan_training does for realisation k, written out on the trainer's own API: the
/// network drawn by realization_network, the inputs of realization_inputs, the protocol's
/// trainer options. The protocol must give bitwise this trainer's weights and pVar history.
template <class F>
std::pair<Matrix<double>, std::vector<std::vector<double>>> train_by_hand(const RajanOptions& o, const TaskEpochs& ep,
                                                                           const xt::xtensor<double, 3>& R, index_t k) {
    const auto N = index_t(R.shape()[1]), K = index_t(R.shape()[2]);
    RateNetwork<F, double> net(realization_network(o, N, k).weights(), o.tau);
    const auto h = realization_inputs<double>(o, N, K, ep, k);
    learn::ForceOptions fo =
        o.protocol == learn::ForceProtocol::seed ? learn::ForceOptions::seed_protocol() : learn::ForceOptions{};
    fo.target_clip = o.target_clip;
    fo.alpha = o.alpha;
    fo.max_iterations = o.max_iterations;
    fo.pvar_threshold = o.pvar_threshold;
    fo.progress = learn::Progress::off;
    learn::ForceTrainer<learn::AllSynapses, double, F> trainer(net, R, h, fo);
    const auto res = trainer.train();
    return {trainer.network().weights(), res.pvar};
}
}  // namespace

TEST_CASE("rajan_training trains tanh networks: targets in (-1, 1) through atanh, the folder reloads as tanh") {
    SyntheticTargetOptions so;
    so.neurons = 40;
    so.presample_ms = 100, so.sample_ms = 100, so.delay_ms = 300, so.response_ms = 100;
    so.seed = 3;
    const auto t = synthetic_targets(so);
    const index_t N = 40, K = index_t(t.rates.shape()[2]);
    RajanOptions o;
    o.realizations = 2;
    o.max_iterations = 30;
    o.seed = 5;
    o.progress = false;
    o.transfer = NetworkTransfer::tanh;
    const auto res = rajan_training(t.rates, t.epochs, o);
    REQUIRE(res.transfer == NetworkTransfer::tanh);

    // Targets: the logistic ones mapped affinely onto tanh's range, 2 z - 1; each unit spans
    // [-1 + 2e-3, 1 - 2e-3] (joint min-max normalisation, clipped at the default eps 1e-3).
    const xt::xtensor<double, 3> z = normalise_jointly(t.rates);
    CHECK(res.targets == xt::xtensor<double, 3>(2.0 * z - 1.0));
    CHECK(xt::amin(res.targets)() == doctest::Approx(-1.0 + 2e-3));
    CHECK(xt::amax(res.targets)() == doctest::Approx(1.0 - 2e-3));

    for (const auto& run : res.runs) {
        // It learns. pVar is unchanged by the affine map R -> 2R - 1 applied to targets and
        // rates alike, so the logistic protocol's stopping threshold (0.85) means the same fit
        // here; a network that had not learned scores far below it (the first iteration).
        CHECK(run.converged);
        CHECK(run.pvar.back()[0] >= o.pvar_threshold);
        CHECK(run.pvar.back()[1] >= o.pvar_threshold);
        CHECK(std::min(run.pvar.front()[0], run.pvar.front()[1]) < o.pvar_threshold);
        // Its test rates are a tanh network's: they go negative, which no logistic rate can.
        CHECK(xt::amin(run.rates)() < -0.5);
        // Bitwise the trainer on RateNetwork<Tanh> with the same draws (atanh targets: the
        // trainer's inverse-transfer trait).
        const auto [J, pv] = train_by_hand<Tanh<double>>(o, t.epochs, res.targets, run.realization);
        CHECK(run.J_trained == J);
        CHECK(run.pvar == pv);
        CHECK(run.J_initial == realization_network(o, N, run.realization).weights());
    }

    // The folder records the transfer; loaders rebuild a tanh network that replays the test run.
    const fs::path dir = fs::path(NEURODYN_TEST_TMP_DIR) / "training_rajan_tanh";
    fs::remove_all(dir);
    save_training(dir, res, t.epochs, o, transfer_name(res.transfer));
    CHECK(load_training_setup(dir).transfer == "tanh");
    const bool is_tanh = visit_trained_model(dir, -1, [](const auto& m) {
        return std::is_same_v<typename std::decay_t<decltype(m)>::Network, RateNetwork<Tanh<double>, double>>;
    });
    CHECK(is_tanh);
    for (index_t k = 0; k < 2; ++k) {
        const auto m = load_trained_model<Tanh<double>>(dir, k);
        const auto& run = res.runs[std::size_t(k)];
        CHECK(m.task.network.weights() == run.J_trained);
        CHECK(m.task.targets == res.targets);
        for (index_t c = 0; c < 2; ++c) {
            const Matrix<double> r = m.task.run(c, Trial{});
            double worst = 0;
            for (index_t i = 0; i < N; ++i)
                for (index_t s = 0; s < K; ++s)
                    worst = std::max(worst, std::abs(r(i, s) - run.rates(std::size_t(c), std::size_t(i), std::size_t(s))));
            CHECK(worst < 1e-9);  // the two codes group J r differently: rounding only
        }
        // Without the folder: trained_rnn<Tanh> gives the same task; the logistic trained_task refuses.
        const auto direct = trained_rnn<Tanh<double>>(res, t.epochs, o, k);
        CHECK(direct.network.weights() == m.task.network.weights());
        CHECK(direct.inputs == m.task.inputs);
    }
    CHECK_THROWS_WITH_AS(trained_task(res, t.epochs, o, 0), doctest::Contains("tanh"), invalid_parameter);
    CHECK_THROWS_WITH_AS(load_trained_rnn(dir), doctest::Contains("transfer"), file_error);
}

TEST_CASE("rajan_training: the logistic default is unchanged, transfer names, ranges and the seed protocol") {
    SyntheticTargetOptions so;
    so.neurons = 12;
    so.presample_ms = 100, so.sample_ms = 100, so.delay_ms = 200, so.response_ms = 100;
    so.seed = 4;
    const auto t = synthetic_targets(so);
    RajanOptions o;
    o.realizations = 2;
    o.max_iterations = 3;
    o.seed = 9;
    o.progress = false;
    CHECK(o.transfer == NetworkTransfer::logistic);
    // Logistic (the default): targets normalise_jointly(rates) and bitwise the trainer on
    // RateNetwork<Logistic> with the draws the protocol has always used, as before the choice.
    const auto res = rajan_training(t.rates, t.epochs, o);
    CHECK(res.transfer == NetworkTransfer::logistic);
    CHECK(res.targets == normalise_jointly(t.rates));
    for (const auto& run : res.runs) {
        const auto [J, pv] = train_by_hand<Logistic<double>>(o, t.epochs, res.targets, run.realization);
        CHECK(run.J_trained == J);
        CHECK(run.pvar == pv);
    }
    // Logistic checkpoints record the protocol parameters they always did (they still resume).
    CHECK(rajan_run_parameters(o, 0).size() == 8);
    RajanOptions tanh_o = o;
    tanh_o.transfer = NetworkTransfer::tanh;
    CHECK(rajan_run_parameters(tanh_o, 0).back() == std::pair<std::string, std::string>("RajanOptions.transfer", "tanh"));
    // The same draws on either transfer: realization_network's weights do not depend on F.
    CHECK(realization_network<Tanh<double>>(o, 12, 1).weights() == realization_network(o, 12, 1).weights());

    // Names: parsed and printed; anything else is refused naming the option and the choices.
    CHECK(parse_transfer("tanh") == NetworkTransfer::tanh);
    CHECK(transfer_name(NetworkTransfer::logistic) == "logistic");
    // The message of the invalid_parameter `f` throws ("" if none).
    auto refusal = [](auto&& f) {
        try {
            f();
        } catch (const invalid_parameter& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string relu = refusal([] { (void)parse_transfer("relu", "--transfer"); });
    CHECK(relu.find("--transfer") != std::string::npos);
    CHECK(relu.find("relu") != std::string::npos);
    CHECK(relu.find("'logistic' or 'tanh'") != std::string::npos);
    RajanOptions bad = o;
    bad.transfer = NetworkTransfer(7);
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("transfer"), invalid_parameter);

    // Ranges follow the transfer and the error names it: a logistic target must lie in (0, 1),
    // a tanh target in (-1, 1).
    auto R = res.targets;
    R(1, 3, 7) = -0.5;
    const std::string low = refusal([&] { require_targets_in_range(R, NetworkTransfer::logistic); });
    CHECK(low.find("(0, 1)") != std::string::npos);
    CHECK(low.find("logistic transfer") != std::string::npos);
    CHECK_NOTHROW(require_targets_in_range(R, NetworkTransfer::tanh));
    R(1, 3, 7) = 1.2;
    const std::string high = refusal([&] { require_targets_in_range(R, NetworkTransfer::tanh); });
    CHECK(high.find("(-1, 1)") != std::string::npos);
    CHECK(high.find("tanh transfer") != std::string::npos);
    CHECK(high.find("unit 3, step 7") != std::string::npos);
    R(1, 3, 7) = -1.0;  // the edge: refused open, accepted when the trainer clips
    CHECK_THROWS_AS(require_targets_in_range(R, NetworkTransfer::tanh), invalid_parameter);
    CHECK_NOTHROW(require_targets_in_range(R, NetworkTransfer::tanh, 1e-5));

    // The seed protocol on tanh: the study's conventions with atanh for logit. The targets are
    // 2 z - 1 with z normalised at eps 1e-5, so inside [-1 + 1e-5, 1 - 1e-5] where the trainer
    // clips before atanh (the clip never binds, as for the logistic); the run is bitwise the
    // trainer's seed protocol on RateNetwork<Tanh>.
    RajanOptions seed_o = RajanOptions::seed_protocol();
    seed_o.realizations = 1;
    seed_o.max_iterations = 3;
    seed_o.seed = 9;
    seed_o.progress = false;
    seed_o.transfer = NetworkTransfer::tanh;
    const auto sres = rajan_training(t.rates, t.epochs, seed_o);
    CHECK(sres.targets == xt::xtensor<double, 3>(2.0 * normalise_jointly(t.rates, 1e-5) - 1.0));
    CHECK(xt::amin(sres.targets)() == doctest::Approx(-1.0 + 2e-5));
    const auto [J, pv] = train_by_hand<Tanh<double>>(seed_o, t.epochs, sres.targets, 0);
    CHECK(sres.runs[0].J_trained == J);
    CHECK(sres.runs[0].pvar == pv);
}
