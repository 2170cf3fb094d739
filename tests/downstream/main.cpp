// Built against an installed neurodyn through find_package, with -Werror and the whole umbrella
// header: a wrong answer or a header that warns in a user's build fails CI.
#include <cstdio>
#include <neurodyn/neurodyn.hpp>

int main() {
    using namespace neurodyn;
    TaskEpochs epochs(6000.0);
    epochs.add("sample", 1500, 2500).add("delay", 2500, 4500);
    const TimeGrid grid(1.0, 6000);
    const auto delay = epochs.steps("delay", grid);

    // The published model, noise-free: a right trial ends the delay in the right attractor.
    const auto preset = inagaki2019_preset("one_hemi_multi_fp_step");
    const Matrix<double> r = inagaki2019_trial_rates<double>(preset, PhotoinhibitionSide::bilateral,
                                                             Inagaki2019TrialSpec{TrialType::right, 0.0, preset.stim_amp});

    // A random rate network run through simulate() with a hook.
    Rng rng(1);
    auto net = RateNetwork<Logistic<double>>::random(50, 1.2, 10.0, rng);
    Vector<double> x = Vector<double>::Zero(50);
    Euler<double> euler;
    WindowNoise<double> noise({.amplitude = 0.5, .window = {0, 100}});
    simulate(Trial{0, 1}, net, euler, x, TimeGrid(1.0, 200), NoInput{}, noise);

    const bool ok = delay.first == 2500 && delay.size() == 2000 && x.allFinite() && r.cols() > 0;
    std::printf("downstream: delay steps [%td, %td), rates %td x %td %s\n", delay.first, delay.last, r.rows(), r.cols(),
                ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
