// Built against an installed neurodyn through find_package; exits non-zero on a wrong answer.
#include <cstdio>
#include <neurodyn/neurodyn.hpp>

int main() {
    neurodyn::TaskEpochs epochs(6000.0);
    epochs.add("sample", 1500, 2500).add("delay", 2500, 4500);
    const neurodyn::TimeGrid grid(1.0, 6000);
    const auto delay = epochs.steps("delay", grid);
    neurodyn::Rng a(1, 2), b(1, 2);
    const bool ok = delay.first == 2500 && delay.size() == 2000 && a.normal() == b.normal();
    std::printf("downstream: delay steps [%td, %td) %s\n", delay.first, delay.last, ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
