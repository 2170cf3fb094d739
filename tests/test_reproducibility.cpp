// What the library regenerates from a seed must come out bit for bit the same in every build:
// a training folder written by a -march=native build is reloaded by a portable one (and CI
// builds this file both ways and runs it in each). The hashes below were recorded from a
// portable build; a generator whose multiply-adds the compiler may fuse (or not) fails here
// in a -march=native build.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "neurodyn/core/epochs.hpp"
#include "neurodyn/core/rng.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/inputs/frozen_ou.hpp"

using namespace neurodyn;

namespace {
/// FNV-1a over the bytes of the values (the checkpoint and training-folder hash).
template <class V>
std::uint64_t hash_bits(const V& values) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (double v : values) {
        unsigned char b[8];
        std::memcpy(b, &v, 8);
        for (unsigned char c : b) h = (h ^ c) * 0x100000001b3ULL;
    }
    return h;
}
}  // namespace

TEST_CASE("Rng: normal() and normal_fast() streams are the same bits in every build") {
    // 10^5 polar draws: the accept/reject of u² + v² < 1 hinges on how u·u + v·v is rounded.
    Rng polar(2024, 3, 5);
    std::vector<double> a(100000);
    for (auto& v : a) v = polar.normal();
    // The ziggurat's wedge test (≈1 % of draws) contains the other multiply-adds.
    Rng zig(2024, 3, 6);
    std::vector<double> b(100000);
    zig.normal_fast(b.data(), b.size());
    Rng shifted(2024, 3, 7);
    std::vector<double> c(1000);
    for (auto& v : c) v = shifted.normal(0.25, 3.0);
    CHECK(hash_bits(a) == 2573611529898138843ULL);
    CHECK(hash_bits(b) == 11303293043546696346ULL);
    CHECK(hash_bits(c) == 2196237960851267418ULL);
}

TEST_CASE("FrozenOu: the inputs of a training run are the same bits in every build") {
    TaskEpochs ep(1000.0);
    ep.add("presample", 0, 250).add("sample", 250, 500).add("delay", 500, 750).add("response", 750, 1000);
    const auto h = FrozenOu{1000.0, 10.0}.generate<double>(87, 2, TimeGrid(1.0, 1000), ep, {"presample", "delay"}, 77);
    CHECK(hash_bits(h) == 11714343420140127718ULL);
}
