// Tests for io/matlab_session.hpp: round trips in the layouts MATLAB (v5/v7 compressed) and
// SciPy's savemat (v5 uncompressed, doubles or int64) write, and every malformed-file case:
// each must throw a neurodyn::file_error naming the file and the field, never crash.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#ifdef NEURODYN_HAS_MATIO
#include <cstring>

#include "neurodyn/core/rng.hpp"
#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/analysis/psth.hpp"
#include "neurodyn/analysis/selectivity.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/matlab_session.hpp"

#include "support.hpp"

using namespace neurodyn;
namespace fs = std::filesystem;
namespace mat = neurodyn::detail::mat;

namespace {

// A small session with known content: 3 units, 6 trials, unit 2 silent on some trials,
// unit 3 recorded only on trials 2..5.
Session small_session() {
    Session s;
    s.source = "test";
    s.t_axis.resize(6001);
    for (std::size_t i = 0; i < s.t_axis.size(); ++i) s.t_axis[i] = double(i) * 1e-3;
    const int codes[6] = {1, 2, 3, 4, 5, 1};
    for (int k = 0; k < 6; ++k)
        s.trials.push_back({codes[k], 1.5 + 0.01 * k, 2.5 + 0.01 * k, 4.5 + 0.01 * k, k == 5 ? 2.0 : 0.0});
    const std::vector<double> t1{0.1, 0.2, 1.0, 0.3, 5.9, 2.2, 4.4};
    const std::vector<std::size_t> k1{0, 0, 1, 2, 3, 4, 5};
    const std::vector<double> t2{3.0, 3.5};
    const std::vector<std::size_t> k2{2, 2};
    const std::vector<double> t3{0.5, 0.25, 1.75};
    const std::vector<std::size_t> k3{1, 1, 4};
    s.units.push_back(SessionUnit::from_spikes(t1, k1, 6));
    s.units.push_back(SessionUnit::from_spikes(t2, k2, 6));
    s.units.push_back(SessionUnit::from_spikes(t3, k3, 6));
    s.units[0].spike_width = 0.6;
    s.units[1].spike_width = 0.3;
    s.units[2].spike_width = 0.5;
    s.units[2].first_trial = 1;
    s.units[2].last_trial = 4;
    return s;
}

void check_equal(const Session& a, const Session& b) {
    REQUIRE(a.n_units() == b.n_units());
    REQUIRE(a.n_trials() == b.n_trials());
    CHECK(a.t_axis == b.t_axis);
    for (std::size_t k = 0; k < a.n_trials(); ++k) {
        CHECK(a.trials[k].response == b.trials[k].response);
        CHECK(a.trials[k].sample_start == b.trials[k].sample_start);
        CHECK(a.trials[k].delay_start == b.trials[k].delay_start);
        CHECK(a.trials[k].cue_start == b.trials[k].cue_start);
        CHECK(a.trials[k].photostim == b.trials[k].photostim);
    }
    for (std::size_t u = 0; u < a.n_units(); ++u) {
        CHECK(a.units[u].spike_times == b.units[u].spike_times);
        CHECK(a.units[u].offsets == b.units[u].offsets);
        CHECK(a.units[u].first_trial == b.units[u].first_trial);
        CHECK(a.units[u].last_trial == b.units[u].last_trial);
        CHECK(a.units[u].spike_width == b.units[u].spike_width);
    }
}

void write_unit(const fs::path& p, matvar_t* unit, matio_compression c = MAT_COMPRESSION_NONE) {
    mat::write_mat_v5(p, {unit}, c);
}

// A copy of struct `s` without field `drop` (matio cannot remove a field in place).
matvar_t* without(matvar_t* s, const char* drop) {
    const unsigned nf = Mat_VarGetNumberOfFields(s);
    char* const* names = Mat_VarGetStructFieldnames(s);
    std::vector<const char*> keep;
    for (unsigned f = 0; f < nf; ++f)
        if (std::string(names[f]) != drop) keep.push_back(names[f]);
    const std::size_t n = mat::numel(s);
    std::vector<const char*> list = keep;
    list.push_back(nullptr);
    matvar_t* out = Mat_VarCreateStruct2(s->name, s->rank, s->dims, list.data());
    for (const char* f : keep)
        for (std::size_t i = 0; i < n; ++i)
            Mat_VarSetStructFieldByName(out, f, i, Mat_VarDuplicate(Mat_VarGetStructFieldByName(s, f, i), 1));
    return out;
}

matvar_t* char_var(const char* text) {
    std::size_t dims[2] = {1, std::strlen(text)};
    return Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UINT8, 2, dims, const_cast<char*>(text), 0);
}

matvar_t* doubles(std::size_t rows, std::size_t cols, double fill) {
    std::vector<double> d(rows * cols, fill);
    return mat::make_double(nullptr, rows, cols, d.data());
}

// Write the small session after `edit(unit)` and expect a file_error naming `field`, the
// file, and containing `problem`.
template <class Edit>
void expect_bad(const fs::path& dir, const char* name, Edit edit, const std::string& field, const std::string& problem) {
    const std::string case_name = name;
    CAPTURE(case_name);
    const fs::path p = dir / (std::string(name) + ".mat");
    auto unit = mat::session_to_matvar(small_session());
    edit(unit);
    write_unit(p, unit.get());
    try {
        (void)load_matlab_session(p);
        FAIL("no exception for ", name);
    } catch (const file_error& e) {
        CHECK(e.file() == p.string());
        CHECK(e.field() == field);
        CHECK(std::string(e.what()).find(problem) != std::string::npos);
        CHECK(std::string(e.what()).find(p.string()) != std::string::npos);
    }
}
}  // namespace

TEST_CASE("matlab session: round trip, v5 uncompressed (SciPy layout) and zlib-compressed (MATLAB v7)") {
    const auto d = neurodyn_test::fresh_dir("mat_roundtrip");
    const Session s = small_session();
    for (auto c : {MatCompression::none, MatCompression::zlib}) {
        const fs::path p = d / (c == MatCompression::none ? "plain.mat" : "zlib.mat");
        save_matlab_session(s, p, c);
        const Session back = load_matlab_session(p);
        check_equal(s, back);
        CHECK(back.source == p.string());
        CHECK(back.units[0].spikes(0).size() == 2);
        CHECK(back.units[0].spikes(0)[1] == 0.2);
        CHECK(back.units[1].spikes(0).empty());
        CHECK(back.units[1].fast_spiking());
        CHECK_FALSE(back.units[0].fast_spiking());
        CHECK(back.trials[5].stimulated());
        // Common range = intersection of the units' ranges: trials 2..5 (0-based 1..4).
        CHECK(back.common_range() == std::pair<std::size_t, std::size_t>{1, 4});
        CHECK(back.trials_where(TrialFilter::correct_left) == std::vector<std::size_t>{1});
        CHECK(back.trials_where(TrialFilter::analysed) == std::vector<std::size_t>{1, 2, 3});
    }
}

TEST_CASE("matlab session: the file holds what MATLAB writes (doubles, columns, nested 1x1 structs)") {
    const auto d = neurodyn_test::fresh_dir("mat_layout");
    save_matlab_session(small_session(), d / "s.mat");
    mat::FilePtr f(Mat_Open((d / "s.mat").string().c_str(), MAT_ACC_RDONLY));
    REQUIRE(f);
    mat::VarPtr unit(Mat_VarRead(f.get(), "unit"));
    REQUIRE(unit);
    CHECK(unit->class_type == MAT_C_STRUCT);
    CHECK(unit->dims[0] == 1);
    CHECK(unit->dims[1] == 3);
    matvar_t* st = Mat_VarGetStructFieldByName(unit.get(), "SpikeTimes", 0);
    CHECK(st->class_type == MAT_C_DOUBLE);
    CHECK(st->dims[0] == 7);
    CHECK(st->dims[1] == 1);
    matvar_t* beh = Mat_VarGetStructFieldByName(unit.get(), "Behavior", 2);
    matvar_t* cue = Mat_VarGetStructFieldByName(beh, "Cue_start", 0);
    CHECK(cue->dims[0] == 6);
    CHECK(cue->dims[1] == 1);
    matvar_t* params = Mat_VarGetStructFieldByName(Mat_VarGetStructFieldByName(unit.get(), "Meta_data", 1), "parameters", 0);
    matvar_t* axis = Mat_VarGetStructFieldByName(params, "T_Axis_PSTH", 0);
    CHECK(axis->dims[0] == 1);
    CHECK(axis->dims[1] == 6001);
    matvar_t* range = Mat_VarGetStructFieldByName(Mat_VarGetStructFieldByName(unit.get(), "Trial_info", 2),
                                                  "Trial_range_to_analyze", 0);
    REQUIRE(range->class_type == MAT_C_DOUBLE);
    CHECK(static_cast<double*>(range->data)[0] == 2.0);  // 1-based in the file
    CHECK(static_cast<double*>(range->data)[1] == 5.0);
}

TEST_CASE("matlab session: SciPy-style integer indices, multi-column stim vector and empty spike trains load") {
    const auto d = neurodyn_test::fresh_dir("mat_scipy");
    auto unit = mat::session_to_matvar(small_session());
    // SciPy writes numpy int64 arrays as int64; indices as 1-D arrays become 1 x n rows.
    {
        std::vector<std::int64_t> idx{1, 1, 2, 3, 4, 5, 6};
        std::size_t dims[2] = {1, idx.size()};
        mat::set_field(unit.get(), "Trial_idx_of_spike", 0,
                       Mat_VarCreate(nullptr, MAT_C_INT64, MAT_T_INT64, 2, dims, idx.data(), 0));
        matvar_t* st = Mat_VarGetStructFieldByName(unit.get(), "SpikeTimes", 0);
        std::swap(st->dims[0], st->dims[1]);  // a 1 x n row, as savemat writes 1-D arrays
    }
    // stim_trial_vector with two columns: the first is the condition code.
    {
        matvar_t* beh = Mat_VarGetStructFieldByName(unit.get(), "Behavior", 0);
        std::vector<double> stim{0, 0, 0, 0, 0, 2, 9, 9, 9, 9, 9, 9};
        mat::set_field(beh, "stim_trial_vector", 0, mat::make_double(nullptr, 6, 2, stim.data()));
    }
    // A silent unit stored as 0x0 empty arrays.
    mat::set_field(unit.get(), "SpikeTimes", 1, doubles(0, 0, 0));
    mat::set_field(unit.get(), "Trial_idx_of_spike", 1, doubles(0, 0, 0));
    write_unit(d / "scipy.mat", unit.get());
    const Session s = load_matlab_session(d / "scipy.mat");
    Session expect = small_session();
    expect.units[1] = SessionUnit::from_spikes({}, {}, 6);
    expect.units[1].spike_width = 0.3;
    check_equal(expect, s);
}

TEST_CASE("matlab session: files that are not MATLAB files") {
    const auto d = neurodyn_test::fresh_dir("mat_notmat");
    CHECK_THROWS_WITH_AS(load_matlab_session(d / "missing.mat"), doctest::Contains("does not exist"), file_error);
    std::ofstream(d / "empty.mat").close();
    CHECK_THROWS_WITH_AS(load_matlab_session(d / "empty.mat"), doctest::Contains("empty.mat"), file_error);
    {
        std::ofstream os(d / "text.mat");
        for (int i = 0; i < 40; ++i) os << "this is a text file, not a MATLAB file\n";
    }
    CHECK_THROWS_AS(load_matlab_session(d / "text.mat"), file_error);
    {
        std::ofstream os(d / "noise.mat", std::ios::binary);
        Rng rng(3);
        for (int i = 0; i < 4096; ++i) os.put(char(rng.below(256)));
    }
    CHECK_THROWS_AS(load_matlab_session(d / "noise.mat"), file_error);
    // A directory is not a file.
    CHECK_THROWS_AS(load_matlab_session(d), file_error);
}

TEST_CASE("matlab session: truncated files (compressed and not) are rejected, at every cut") {
    const auto d = neurodyn_test::fresh_dir("mat_truncated");
    for (auto c : {MatCompression::zlib, MatCompression::none}) {
        const fs::path whole = d / "whole.mat";
        save_matlab_session(small_session(), whole, c);
        std::ifstream in(whole, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // Cuts in the header, in the element tag, inside the data and one byte short.
        for (std::size_t cut : {std::size_t(10), std::size_t(128), std::size_t(133), bytes.size() / 3,
                                bytes.size() / 2, bytes.size() - 9, bytes.size() - 1}) {
            CAPTURE(cut);
            const fs::path p = d / "cut.mat";
            std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(cut));
            CHECK_THROWS_WITH_AS(load_matlab_session(p), doctest::Contains("cut.mat"), file_error);
        }
    }
}

TEST_CASE("matlab session: a corrupt compressed stream (length intact) is rejected, not half-read") {
    // The element tag still claims the full length, so the framing check passes and matio
    // inflates a damaged zlib stream: whatever it hands back must fail validation.
    const auto d = neurodyn_test::fresh_dir("mat_corrupt");
    save_matlab_session(small_session(), d / "whole.mat", MatCompression::zlib);
    std::ifstream in(d / "whole.mat", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (double where : {0.2, 0.5, 0.8}) {
        std::string bad = bytes;
        const std::size_t at = 136 + std::size_t(where * double(bytes.size() - 136 - 64));
        for (std::size_t i = at; i < at + 48; ++i) bad[i] = char(0x5a ^ bad[i]);
        const fs::path p = d / "corrupt.mat";
        std::ofstream(p, std::ios::binary).write(bad.data(), std::streamsize(bad.size()));
        CAPTURE(where);
        CHECK_THROWS_WITH_AS(load_matlab_session(p), doctest::Contains("corrupt.mat"), file_error);
    }
}

TEST_CASE("matlab session: a partly read struct array (fields without data) names the unit and field") {
    // What matio hands back for a truncated compressed struct array: later units' fields
    // are present in the field list but have no data.
    auto unit = mat::session_to_matvar(small_session());
    {
        // matio's setter refuses a null field, so blank the slot in the struct's data:
        // fields are stored unit-major, SpikeTimes is field 0.
        auto** slots = static_cast<matvar_t**>(unit->data);
        const unsigned nf = Mat_VarGetNumberOfFields(unit.get());
        Mat_VarFree(slots[2 * nf + 0]);
        slots[2 * nf + 0] = nullptr;
    }
    CHECK_THROWS_WITH_AS(mat::session_from_matvar("f.mat", unit.get()),
                         doctest::Contains("field 'unit(3).SpikeTimes': has no data"), file_error);
    auto unit2 = mat::session_to_matvar(small_session());
    std::size_t dims[2] = {6, 1};
    mat::set_field(Mat_VarGetStructFieldByName(unit2.get(), "Behavior", 1), "Cue_start", 0,
                   Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, nullptr, MAT_F_DONT_COPY_DATA));
    CHECK_THROWS_WITH_AS(mat::session_from_matvar("f.mat", unit2.get()),
                         doctest::Contains("field 'unit(2).Behavior.Cue_start': has no data"), file_error);
}

TEST_CASE("matlab session: missing or wrong variable 'unit'") {
    const auto d = neurodyn_test::fresh_dir("mat_unitvar");
    {
        mat::VarPtr other(doubles(2, 2, 1.0));
        other->name = strdup("units");
        write_unit(d / "nounit.mat", other.get());
        CHECK_THROWS_WITH_AS(load_matlab_session(d / "nounit.mat"), doctest::Contains("field 'unit': is missing"),
                             file_error);
    }
    {
        mat::VarPtr u(doubles(1, 3, 1.0));
        u->name = strdup("unit");
        write_unit(d / "double.mat", u.get());
        CHECK_THROWS_WITH_AS(load_matlab_session(d / "double.mat"), doctest::Contains("class double"), file_error);
    }
}

TEST_CASE("matlab session: missing fields") {
    const auto d = neurodyn_test::fresh_dir("mat_missing");
    using U = mat::VarPtr;
    expect_bad(d, "no_spiketimes", [](U& u) { u.reset(without(u.get(), "SpikeTimes")); }, "unit(1).SpikeTimes",
               "is missing");
    expect_bad(d, "no_trial_idx", [](U& u) { u.reset(without(u.get(), "Trial_idx_of_spike")); },
               "unit(1).Trial_idx_of_spike", "is missing");
    expect_bad(d, "no_behavior", [](U& u) { u.reset(without(u.get(), "Behavior")); }, "unit(1).Behavior",
               "is missing");
    expect_bad(d, "no_spikewidth", [](U& u) { u.reset(without(u.get(), "SpikeWidth")); }, "unit(1).SpikeWidth",
               "is missing");
    expect_bad(d, "no_meta", [](U& u) { u.reset(without(u.get(), "Meta_data")); }, "unit(1).Meta_data", "is missing");
    for (const char* f : {"Sample_start", "Delay_start", "Cue_start", "Trial_types_of_response_vector",
                          "stim_trial_vector"}) {
        expect_bad(d, f,
                   [&](U& u) {
                       matvar_t* beh = Mat_VarGetStructFieldByName(u.get(), "Behavior", 1);
                       mat::set_field(u.get(), "Behavior", 1, without(beh, f));
                   },
                   std::string("unit(2).Behavior.") + f, "is missing");
    }
    expect_bad(d, "no_range",
               [](U& u) {
                   matvar_t* info = Mat_VarGetStructFieldByName(u.get(), "Trial_info", 2);
                   mat::set_field(u.get(), "Trial_info", 2, without(info, "Trial_range_to_analyze"));
               },
               "unit(3).Trial_info.Trial_range_to_analyze", "is missing");
    expect_bad(d, "no_axis",
               [](U& u) {
                   matvar_t* meta = Mat_VarGetStructFieldByName(u.get(), "Meta_data", 2);
                   matvar_t* params = Mat_VarGetStructFieldByName(meta, "parameters", 0);
                   mat::set_field(meta, "parameters", 0, without(params, "T_Axis_PSTH"));
               },
               "unit(3).Meta_data.parameters.T_Axis_PSTH", "is missing");
}

TEST_CASE("matlab session: fields of the wrong class") {
    const auto d = neurodyn_test::fresh_dir("mat_class");
    using U = mat::VarPtr;
    expect_bad(d, "char_spikes", [](U& u) { mat::set_field(u.get(), "SpikeTimes", 2, char_var("abc")); },
               "unit(3).SpikeTimes", "class char");
    expect_bad(d, "double_behavior", [](U& u) { mat::set_field(u.get(), "Behavior", 0, doubles(6, 1, 0.0)); },
               "unit(1).Behavior", "expected a struct");
    expect_bad(d, "struct_width",
               [](U& u) {
                   const char* f[] = {"x", nullptr};
                   std::size_t dims[2] = {1, 1};
                   mat::set_field(u.get(), "SpikeWidth", 1, Mat_VarCreateStruct2(nullptr, 2, dims, f));
               },
               "unit(2).SpikeWidth", "class struct");
    expect_bad(d, "cell_codes",
               [](U& u) {
                   std::size_t dims[2] = {6, 1};
                   matvar_t* cell = Mat_VarCreate(nullptr, MAT_C_CELL, MAT_T_CELL, 2, dims, nullptr, 0);
                   for (int i = 0; i < 6; ++i) Mat_VarSetCell(cell, i, doubles(1, 1, 1.0));
                   mat::set_field(Mat_VarGetStructFieldByName(u.get(), "Behavior", 0), "Trial_types_of_response_vector",
                                  0, cell);
               },
               "unit(1).Behavior.Trial_types_of_response_vector", "class cell");
    expect_bad(d, "complex_spikes",
               [](U& u) {
                   std::vector<double> re(7, 0.5), im(7, 0.1);
                   mat_complex_split_t z{re.data(), im.data()};
                   std::size_t dims[2] = {7, 1};
                   mat::set_field(u.get(), "SpikeTimes", 0,
                                  Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, &z, MAT_F_COMPLEX));
               },
               "unit(1).SpikeTimes", "complex");
    expect_bad(d, "struct_array_info",
               [](U& u) {
                   const char* f[] = {"Trial_range_to_analyze", nullptr};
                   std::size_t dims[2] = {1, 2};
                   matvar_t* s = Mat_VarCreateStruct2(nullptr, 2, dims, f);
                   mat::set_field(s, "Trial_range_to_analyze", 0, doubles(1, 2, 1.0));
                   mat::set_field(s, "Trial_range_to_analyze", 1, doubles(1, 2, 1.0));
                   mat::set_field(u.get(), "Trial_info", 0, s);
               },
               "unit(1).Trial_info", "1x2 struct array");
}

TEST_CASE("matlab session: fields of the wrong shape or inconsistent content") {
    const auto d = neurodyn_test::fresh_dir("mat_shape");
    using U = mat::VarPtr;
    const auto beh = [](U& u, std::size_t i) { return Mat_VarGetStructFieldByName(u.get(), "Behavior", i); };
    expect_bad(d, "matrix_spikes", [](U& u) { mat::set_field(u.get(), "SpikeTimes", 0, doubles(2, 4, 0.1)); },
               "unit(1).SpikeTimes", "expected a vector");
    expect_bad(d, "short_trial_idx", [](U& u) { mat::set_field(u.get(), "Trial_idx_of_spike", 0, doubles(6, 1, 1.0)); },
               "unit(1).Trial_idx_of_spike", "has 6 elements, SpikeTimes has 7");
    expect_bad(d, "trial_idx_zero", [](U& u) { mat::set_field(u.get(), "Trial_idx_of_spike", 0, doubles(7, 1, 0.0)); },
               "unit(1).Trial_idx_of_spike", "must be an integer in [1, 6]");
    expect_bad(d, "trial_idx_big", [](U& u) { mat::set_field(u.get(), "Trial_idx_of_spike", 1, doubles(2, 1, 7.0)); },
               "unit(2).Trial_idx_of_spike", "value 7 must be an integer in [1, 6]");
    expect_bad(d, "trial_idx_frac", [](U& u) { mat::set_field(u.get(), "Trial_idx_of_spike", 1, doubles(2, 1, 1.5)); },
               "unit(2).Trial_idx_of_spike", "value 1.5");
    expect_bad(d, "nan_spikes",
               [](U& u) { mat::set_field(u.get(), "SpikeTimes", 1, doubles(2, 1, std::nan(""))); },
               "unit(2).SpikeTimes", "not finite");
    expect_bad(d, "range_3", [](U& u) {
        mat::set_field(Mat_VarGetStructFieldByName(u.get(), "Trial_info", 1), "Trial_range_to_analyze", 0,
                       doubles(1, 3, 1.0));
    }, "unit(2).Trial_info.Trial_range_to_analyze", "expected [first last]");
    expect_bad(d, "range_reversed", [](U& u) {
        const double r[2] = {5, 2};
        mat::set_field(Mat_VarGetStructFieldByName(u.get(), "Trial_info", 1), "Trial_range_to_analyze", 0,
                       mat::make_double(nullptr, 1, 2, r));
    }, "unit(2).Trial_info.Trial_range_to_analyze", "value 2 must be an integer in [5, 6]");
    expect_bad(d, "width_pair", [](U& u) { mat::set_field(u.get(), "SpikeWidth", 2, doubles(1, 2, 0.5)); },
               "unit(3).SpikeWidth", "expected a scalar");
    expect_bad(d, "short_cue", [&](U& u) { mat::set_field(beh(u, 0), "Cue_start", 0, doubles(5, 1, 4.5)); },
               "unit(1).Behavior.Cue_start", "has 5 trials, Trial_types_of_response_vector has 6");
    expect_bad(d, "fewer_trials_unit2", [&](U& u) {
        for (const char* f : {"Sample_start", "Delay_start", "Cue_start", "Trial_types_of_response_vector",
                              "stim_trial_vector"})
            mat::set_field(beh(u, 1), f, 0, doubles(5, 1, 1.0));
    }, "unit(2).Behavior.Trial_types_of_response_vector", "has 5 trials, unit(1) has 6");
    expect_bad(d, "code_frac", [&](U& u) { mat::set_field(beh(u, 0), "Trial_types_of_response_vector", 0,
                                                          doubles(6, 1, 1.5)); },
               "unit(1).Behavior.Trial_types_of_response_vector", "code 1.5");
    expect_bad(d, "cue_before_delay", [&](U& u) { mat::set_field(beh(u, 2), "Cue_start", 0, doubles(6, 1, 2.0)); },
               "unit(3).Behavior", "must be in increasing order");
    expect_bad(d, "axis_decreasing", [](U& u) {
        const double a[3] = {0, 2e-3, 1e-3};
        matvar_t* meta = Mat_VarGetStructFieldByName(u.get(), "Meta_data", 0);
        mat::set_field(Mat_VarGetStructFieldByName(meta, "parameters", 0), "T_Axis_PSTH", 0,
                       mat::make_double(nullptr, 1, 3, a));
    }, "unit(1).Meta_data.parameters.T_Axis_PSTH", "not strictly increasing");
    expect_bad(d, "empty_codes", [&](U& u) {
        mat::set_field(beh(u, 0), "Trial_types_of_response_vector", 0, doubles(0, 0, 0.0));
    }, "unit(1).Behavior.Trial_types_of_response_vector", "is empty");
}

// ------------------------------------------------------------------- synthetic sessions

namespace {
// A rate source with known rates: population p fires at 10·(p+1) model units on every
// step, and trials are "correct" unless the trial index is divisible by 4.
struct ConstantSource {
    long n_steps() const { return 2000; }
    bool operator()(const SyntheticTrialRequest& q, Matrix<double>& r) const {
        for (index_t p = 0; p < 4; ++p) r.col(p).setConstant(q.pv > 0 ? 0.0 : 10.0 * double(p + 1));
        return q.trial % 4 != 0;
    }
};
}  // namespace

TEST_CASE("synthetic session: Poisson spikes at the mixed rates, codes and photostim as requested") {
    SyntheticSessionOptions o;
    o.units = 12;
    o.trials = 400;
    o.seed = 3;
    o.photoinhibition_fraction = 0.25;
    o.early_lick_fraction = 0.1;
    o.trial_start_jitter_s = 0.0;
    TaskEpochs epochs(2000);
    epochs.add("sample", 500, 1000).add("delay", 1000, 1600);
    const Session s = synthetic_session_from(ConstantSource{}, {0.0, 2.0}, o, epochs);
    REQUIRE(s.n_units() == 12);
    REQUIRE(s.n_trials() == 400);
    s.validate();
    const auto params = synthetic_unit_params(o);
    long stim = 0, early = 0, errors = 0;
    for (long k = 0; k < 400; ++k) {
        const auto& t = s.trials[std::size_t(k)];
        stim += t.stimulated();
        early += t.response == 5;
        if (t.response != 5) {
            errors += t.error();
            CHECK(t.error() == (k % 4 == 0));
        }
        CHECK(t.cue_start == doctest::Approx(1.6));
        CHECK(t.delay_start == doctest::Approx(1.0));
    }
    CHECK(errors > 50);  // trials k % 4 == 0, about 90 of the non-early ones
    // Binomial(400, p): sd 8.7 (p = 0.25), 6 (p = 0.1); 5 sd bounds.
    CHECK(std::abs(double(stim) - 100) < 44);
    CHECK(std::abs(double(early) - 40) < 30);
    // Spike counts: unit u fires at max(0, b + g·(m·(10, 20, 30, 40))) Hz on control trials and
    // at its baseline under "photoinhibition" (rates 0). Over ~300 control trials × 2 s the
    // count is Poisson with mean λ·600 s: 5 sd relative error ≤ 5/sqrt(600 λ).
    for (std::size_t u = 0; u < 12; ++u) {
        const auto& pu = params[u];
        const double lam = std::max(0.0, pu.baseline + pu.gain * pu.mix.dot(Eigen::Vector4d(10, 20, 30, 40)));
        double n = 0, n_stim = 0, T = 0, T_stim = 0;
        for (std::size_t k = 0; k < 400; ++k) {
            (s.trials[k].stimulated() ? n_stim : n) += double(s.units[u].spikes(k).size());
            (s.trials[k].stimulated() ? T_stim : T) += 2.0;
        }
        CAPTURE(u);
        CHECK(std::abs(n / T - lam) < 5 * std::sqrt(lam / T));
        CHECK(std::abs(n_stim / T_stim - pu.baseline) < 5 * std::sqrt(pu.baseline / T_stim));
        CHECK(s.units[u].fast_spiking() == (pu.spike_width < 0.35));
    }
}

TEST_CASE("synthetic session from the Inagaki model: loader round trip, same on any thread count, analyses work") {
    const auto d = neurodyn_test::fresh_dir("mat_synthetic");
    SyntheticSessionOptions o;
    o.units = 16;
    o.trials = 80;
    o.seed = 2;
    o.threads = 1;
    const Session a = synthetic_session(o);
    o.threads = 2;
    const Session b = synthetic_session(o);
    check_equal(a, b);  // per-trial streams: thread count does not matter
    save_matlab_session(a, d / "synthetic.mat");
    const Session back = load_matlab_session(d / "synthetic.mat");
    check_equal(a, back);
    // Most control trials are correct (the attractor holds the stimulus), so both types exist.
    const auto r = back.trials_where(TrialFilter::correct_right), l = back.trials_where(TrialFilter::correct_left);
    CHECK(r.size() >= 10);
    CHECK(l.size() >= 10);
    // Units mixing mostly the "right" populations prefer right trials: every selective unit
    // with a clear mix agrees. (Near an even mix the preference depends on the asymmetric
    // attractor rates, so those units are not checked.)
    const auto params = synthetic_unit_params(o);
    const auto sel = delay_selectivity<double>(back);
    int selective = 0;
    for (std::size_t u = 0; u < sel.size(); ++u) {
        if (sel[u].label == Preference::none) continue;
        ++selective;
        const auto& m = params[u].mix;
        const double right_weight = m[0] + m[2];
        if (std::abs(right_weight - 0.5) < 0.15) continue;
        CAPTURE(u);
        CHECK((sel[u].label == Preference::right) == (right_weight > 0.5));
    }
    CHECK(selective >= 8);
}

#else
TEST_CASE("matlab session: matio not available") { MESSAGE("built without matio: loader tests skipped"); }
#endif
