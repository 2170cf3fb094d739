#pragma once
/// \file matlab_session.hpp
/// Read and write ALM session files (Inagaki et al. 2019 layout) with matio.
///
/// Layout: a variable `unit`, a 1×n struct array; per unit
///   SpikeTimes (column, s), Trial_idx_of_spike (column, 1-based),
///   Behavior.{Sample_start, Delay_start, Cue_start, Trial_types_of_response_vector,
///             stim_trial_vector} (n_trials rows; stim may have several columns, the first is used),
///   Trial_info.Trial_range_to_analyze ([first last], 1-based),
///   Meta_data.parameters.T_Axis_PSTH (vector of PSTH bin edges, s), SpikeWidth (scalar, ms).
/// Numeric fields may be of any real numeric class (MATLAB writes double, SciPy's savemat may
/// write int64 for indices); char, cell, struct, complex or sparse data where numbers are
/// expected is rejected. Every field of every unit is validated before a `Session` is built,
/// because matio can return a partly read struct array from a truncated compressed file.
///
/// \code
/// neurodyn::Session s = neurodyn::load_matlab_session("data/ALM_session.mat");
/// neurodyn::save_matlab_session(s, "copy.mat", neurodyn::MatCompression::zlib);
/// \endcode
/// Link `neurodyn::matio` to use this header. The first load or save installs a silent
/// matio log handler (matio would otherwise print its own messages on malformed files; the
/// loader throws instead).
#include <matio.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "neurodyn/core/error.hpp"
#include "neurodyn/data/session.hpp"

namespace neurodyn {

namespace detail::mat {

struct VarDeleter {
    void operator()(matvar_t* v) const noexcept { Mat_VarFree(v); }
};
struct FileDeleter {
    void operator()(mat_t* m) const noexcept { Mat_Close(m); }
};
using VarPtr = std::unique_ptr<matvar_t, VarDeleter>;
using FilePtr = std::unique_ptr<mat_t, FileDeleter>;

/// Silence matio's own logging (it prints to stderr on malformed files; we throw instead).
inline void quiet_matio() {
    static const bool once = [] {
        Mat_LogInitFunc("neurodyn", [](int, char*) {});
        return true;
    }();
    (void)once;
}

inline std::size_t numel(const matvar_t* v) {
    std::size_t n = 1;
    for (int i = 0; i < v->rank; ++i) n *= v->dims[i];
    return n;
}

inline std::string shape_text(const matvar_t* v) {
    std::string s;
    for (int i = 0; i < v->rank; ++i) s += (i ? "x" : "") + std::to_string(v->dims[i]);
    return s;
}

inline const char* class_name(matio_classes c) {
    switch (c) {
        case MAT_C_EMPTY: return "empty";
        case MAT_C_CELL: return "cell";
        case MAT_C_STRUCT: return "struct";
        case MAT_C_OBJECT: return "object";
        case MAT_C_CHAR: return "char";
        case MAT_C_SPARSE: return "sparse";
        case MAT_C_DOUBLE: return "double";
        case MAT_C_SINGLE: return "single";
        case MAT_C_INT8: return "int8";
        case MAT_C_UINT8: return "uint8";
        case MAT_C_INT16: return "int16";
        case MAT_C_UINT16: return "uint16";
        case MAT_C_INT32: return "int32";
        case MAT_C_UINT32: return "uint32";
        case MAT_C_INT64: return "int64";
        case MAT_C_UINT64: return "uint64";
        case MAT_C_FUNCTION: return "function";
        default: return "opaque";
    }
}

/// Element size of a real numeric class, 0 for anything else.
inline std::size_t numeric_size(matio_classes c) {
    switch (c) {
        case MAT_C_DOUBLE: case MAT_C_INT64: case MAT_C_UINT64: return 8;
        case MAT_C_SINGLE: case MAT_C_INT32: case MAT_C_UINT32: return 4;
        case MAT_C_INT16: case MAT_C_UINT16: return 2;
        case MAT_C_INT8: case MAT_C_UINT8: return 1;
        default: return 0;
    }
}

/// Reads numeric fields out of a `unit` struct array, naming the field in every error.
class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
        throw file_error(file_, field, problem);
    }

    /// Field `name` of element `index` of struct `parent` (named `where`), checked to exist.
    matvar_t* field(matvar_t* parent, const std::string& where, const char* name, std::size_t index = 0) const {
        matvar_t* f = Mat_VarGetStructFieldByName(parent, name, index);
        if (!f) {
            // Distinguish "no such field" from "field present but unread" (truncated file).
            bool exists = false;
            const unsigned nf = Mat_VarGetNumberOfFields(parent);
            char* const* names = Mat_VarGetStructFieldnames(parent);
            for (unsigned i = 0; names && i < nf; ++i)
                if (names[i] && std::strcmp(names[i], name) == 0) exists = true;
            fail(where + "." + name, exists ? "has no data (truncated or corrupt file?)" : "is missing");
        }
        return f;
    }

    /// A 1×1 struct field.
    matvar_t* substruct(matvar_t* parent, const std::string& where, const char* name, std::size_t index = 0) const {
        matvar_t* f = field(parent, where, name, index);
        const std::string p = where + "." + name;
        if (f->class_type != MAT_C_STRUCT)
            fail(p, std::string("is of class ") + class_name(f->class_type) + ", expected a struct");
        if (numel(f) != 1) fail(p, "is a " + shape_text(f) + " struct array, expected a 1x1 struct");
        return f;
    }

    /// Numeric data converted to double; `p` names the field. Checks class, data presence
    /// and that the buffer is as large as the dimensions say.
    std::vector<double> numbers(const matvar_t* v, const std::string& p) const {
        if (v->isComplex) fail(p, "is complex, expected real numbers");
        const std::size_t es = numeric_size(v->class_type);
        if (es == 0)
            fail(p, std::string("is of class ") + class_name(v->class_type) + ", expected a real numeric array");
        if (v->rank < 2 || v->dims == nullptr) fail(p, "has no dimensions (corrupt file?)");
        const std::size_t n = numel(v);
        if (n == 0) return {};
        if (v->data == nullptr) fail(p, "has no data (truncated or corrupt file?)");
        if (std::size_t(v->data_size) != es || v->nbytes < n * es)
            fail(p, "holds " + std::to_string(v->nbytes) + " bytes for " + std::to_string(n) + " " +
                        class_name(v->class_type) + " values (truncated or corrupt file?)");
        std::vector<double> out(n);
        const auto conv = [&](const auto* d) { std::transform(d, d + n, out.begin(), [](auto x) { return double(x); }); };
        switch (v->class_type) {
            case MAT_C_DOUBLE: conv(static_cast<const double*>(v->data)); break;
            case MAT_C_SINGLE: conv(static_cast<const float*>(v->data)); break;
            case MAT_C_INT8: conv(static_cast<const std::int8_t*>(v->data)); break;
            case MAT_C_UINT8: conv(static_cast<const std::uint8_t*>(v->data)); break;
            case MAT_C_INT16: conv(static_cast<const std::int16_t*>(v->data)); break;
            case MAT_C_UINT16: conv(static_cast<const std::uint16_t*>(v->data)); break;
            case MAT_C_INT32: conv(static_cast<const std::int32_t*>(v->data)); break;
            case MAT_C_UINT32: conv(static_cast<const std::uint32_t*>(v->data)); break;
            case MAT_C_INT64: conv(static_cast<const std::int64_t*>(v->data)); break;
            case MAT_C_UINT64: conv(static_cast<const std::uint64_t*>(v->data)); break;
            default: break;
        }
        for (std::size_t i = 0; i < n; ++i)
            if (!std::isfinite(out[i])) fail(p, "element " + std::to_string(i + 1) + " is not finite");
        return out;
    }

    /// A vector (n×1 or 1×n, or empty when `allow_empty`).
    std::vector<double> vector(matvar_t* parent, const std::string& where, const char* name,
                               std::size_t index = 0, bool allow_empty = false) const {
        const matvar_t* v = field(parent, where, name, index);
        const std::string p = where + "." + name;
        auto out = numbers(v, p);
        const bool is_vector = v->rank == 2 && (v->dims[0] == 1 || v->dims[1] == 1);
        if (out.empty() && !allow_empty) fail(p, "is empty (" + shape_text(v) + "), expected a vector");
        if (!out.empty() && !is_vector) fail(p, "has shape " + shape_text(v) + ", expected a vector");
        return out;
    }

    /// An n×k matrix, returned with its row count; used for stim_trial_vector.
    std::vector<double> matrix(matvar_t* parent, const std::string& where, const char* name, std::size_t& rows,
                               std::size_t& cols, std::size_t index = 0) const {
        const matvar_t* v = field(parent, where, name, index);
        const std::string p = where + "." + name;
        auto out = numbers(v, p);
        if (v->rank != 2 || out.empty()) fail(p, "has shape " + shape_text(v) + ", expected an n x k matrix");
        rows = v->dims[0];
        cols = v->dims[1];
        return out;
    }

    double scalar(matvar_t* parent, const std::string& where, const char* name, std::size_t index = 0) const {
        const matvar_t* v = field(parent, where, name, index);
        const std::string p = where + "." + name;
        auto out = numbers(v, p);
        if (out.size() != 1) fail(p, "has shape " + shape_text(v) + ", expected a scalar");
        return out[0];
    }

    const std::string& file() const noexcept { return file_; }

private:
    std::string file_;
};

/// Before matio parses a v5 file, check that each top-level element's byte count fits in the
/// file: a truncated file then fails here with a clear message instead of matio returning a
/// partial struct. Files that are not v5 (v7.3 / HDF5, v4) are left to matio.
inline void check_v5_framing(const std::filesystem::path& path, const std::string& file) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(file, "", "cannot open for reading");
    in.seekg(0, std::ios::end);
    const auto size = std::uint64_t(in.tellg());
    if (size < 128) throw file_error(file, "", "is " + std::to_string(size) + " bytes long: not a MATLAB file");
    in.seekg(0);
    unsigned char hdr[128];
    in.read(reinterpret_cast<char*>(hdr), 128);
    const bool same = hdr[126] == 'I' && hdr[127] == 'M';
    const bool swapped = hdr[126] == 'M' && hdr[127] == 'I';
    if (!same && !swapped) {
        // A MATLAB v4 file has no such header; anything else is not a MATLAB file.
        if (std::memcmp(hdr, "MATLAB", 6) == 0)
            throw file_error(file, "", "has a MATLAB header but no endian indicator (corrupt header)");
        return;  // possibly v4: matio decides
    }
    const unsigned version = same ? unsigned(hdr[124]) | unsigned(hdr[125]) << 8 : unsigned(hdr[125]) | unsigned(hdr[124]) << 8;
    if (version != 0x0100) return;  // v7.3 (HDF5) and others: matio's business
    const auto rd32 = [&](const unsigned char* b) {
        return same ? std::uint32_t(b[0]) | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]) << 16 | std::uint32_t(b[3]) << 24
                    : std::uint32_t(b[3]) | std::uint32_t(b[2]) << 8 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[0]) << 24;
    };
    std::uint64_t pos = 128;
    while (pos < size) {
        if (size - pos < 8) throw file_error(file, "", "truncated: " + std::to_string(size - pos) + " stray bytes at the end");
        unsigned char tag[8];
        in.seekg(std::streamoff(pos));
        in.read(reinterpret_cast<char*>(tag), 8);
        if (!in) throw file_error(file, "", "cannot read element tag at byte " + std::to_string(pos));
        const std::uint32_t type = rd32(tag), nbytes = rd32(tag + 4);
        if (type != MAT_T_MATRIX && type != MAT_T_COMPRESSED)
            throw file_error(file, "", "unexpected top-level element type " + std::to_string(type) + " at byte " +
                                           std::to_string(pos) + " (corrupt file?)");
        if (pos + 8 + nbytes > size)
            throw file_error(file, "", "truncated: the variable at byte " + std::to_string(pos) + " needs " +
                                           std::to_string(nbytes) + " bytes, the file has " +
                                           std::to_string(size - pos - 8) + " left");
        pos += 8 + std::uint64_t(nbytes);
        if (type == MAT_T_MATRIX) pos = (pos + 7) / 8 * 8;  // uncompressed elements are 8-byte aligned
    }
}

inline std::size_t as_index(const Reader& r, double x, const std::string& p, std::size_t lo, std::size_t hi) {
    if (x != std::floor(x) || x < double(lo) || x > double(hi))
        r.fail(p, "value " + detail::to_text(x) + " must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
    return std::size_t(x);
}

/// Build a `Session` from the `unit` variable; `file` names it in errors. Every field of
/// every unit is validated first.
inline Session session_from_matvar(const std::string& file, matvar_t* unit) {
    Reader r(file);
    if (unit->class_type != MAT_C_STRUCT)
        r.fail("unit", std::string("is of class ") + class_name(unit->class_type) + ", expected a struct array");
    if (unit->rank != 2 || (unit->dims[0] != 1 && unit->dims[1] != 1))
        r.fail("unit", "has shape " + shape_text(unit) + ", expected a 1 x n struct array");
    const std::size_t n_units = numel(unit);
    if (n_units == 0) r.fail("unit", "is an empty struct array: no units");

    Session s;
    s.source = file;
    s.units.reserve(n_units);
    std::size_t n_trials = 0;
    for (std::size_t i = 0; i < n_units; ++i) {
        const std::string u = "unit(" + std::to_string(i + 1) + ")";
        matvar_t* beh = r.substruct(unit, u, "Behavior", i);
        const std::string b = u + ".Behavior";
        const auto sample = r.vector(beh, b, "Sample_start");
        const auto delay = r.vector(beh, b, "Delay_start");
        const auto cue = r.vector(beh, b, "Cue_start");
        const auto codes = r.vector(beh, b, "Trial_types_of_response_vector");
        std::size_t srows = 0, scols = 0;
        const auto stim = r.matrix(beh, b, "stim_trial_vector", srows, scols);
        const std::size_t nt = codes.size();
        const auto same_length = [&](std::size_t n, const char* name) {
            if (n != nt)
                r.fail(b + "." + name, "has " + std::to_string(n) + " trials, Trial_types_of_response_vector has " +
                                           std::to_string(nt));
        };
        same_length(sample.size(), "Sample_start");
        same_length(delay.size(), "Delay_start");
        same_length(cue.size(), "Cue_start");
        same_length(srows, "stim_trial_vector");
        if (i == 0) {
            n_trials = nt;
        } else if (nt != n_trials) {
            r.fail(b + ".Trial_types_of_response_vector",
                   "has " + std::to_string(nt) + " trials, unit(1) has " + std::to_string(n_trials));
        }
        for (std::size_t k = 0; k < nt; ++k) {
            if (codes[k] != std::floor(codes[k]) || codes[k] < 0)
                r.fail(b + ".Trial_types_of_response_vector",
                       "trial " + std::to_string(k + 1) + " has code " + detail::to_text(codes[k]) +
                           ", expected a non-negative integer");
            if (!(sample[k] <= delay[k] && delay[k] <= cue[k]))
                r.fail(b, "trial " + std::to_string(k + 1) + ": Sample_start " + detail::to_text(sample[k]) +
                              ", Delay_start " + detail::to_text(delay[k]) + ", Cue_start " + detail::to_text(cue[k]) +
                              " must be in increasing order");
        }

        matvar_t* info = r.substruct(unit, u, "Trial_info", i);
        const auto range = r.vector(info, u + ".Trial_info", "Trial_range_to_analyze");
        const std::string rp = u + ".Trial_info.Trial_range_to_analyze";
        if (range.size() != 2) r.fail(rp, "has " + std::to_string(range.size()) + " elements, expected [first last]");
        const std::size_t first = as_index(r, range[0], rp, 1, nt);
        const std::size_t last = as_index(r, range[1], rp, first, nt);

        matvar_t* meta = r.substruct(unit, u, "Meta_data", i);
        matvar_t* params = r.substruct(meta, u + ".Meta_data", "parameters");
        const auto axis = r.vector(params, u + ".Meta_data.parameters", "T_Axis_PSTH");
        const std::string ap = u + ".Meta_data.parameters.T_Axis_PSTH";
        if (axis.size() < 2) r.fail(ap, "has " + std::to_string(axis.size()) + " elements, expected >= 2 bin edges");
        for (std::size_t k = 1; k < axis.size(); ++k)
            if (!(axis[k] > axis[k - 1])) r.fail(ap, "is not strictly increasing at element " + std::to_string(k + 1));

        const double width = r.scalar(unit, u, "SpikeWidth", i);

        const auto times = r.vector(unit, u, "SpikeTimes", i, true);
        const auto tidx = r.vector(unit, u, "Trial_idx_of_spike", i, true);
        if (tidx.size() != times.size())
            r.fail(u + ".Trial_idx_of_spike", "has " + std::to_string(tidx.size()) + " elements, SpikeTimes has " +
                                                  std::to_string(times.size()));
        std::vector<std::size_t> trial0(tidx.size());
        for (std::size_t k = 0; k < tidx.size(); ++k)
            trial0[k] = as_index(r, tidx[k], u + ".Trial_idx_of_spike", 1, nt) - 1;

        SessionUnit unit_out = SessionUnit::from_spikes(times, trial0, nt);
        unit_out.first_trial = first - 1;
        unit_out.last_trial = last - 1;
        unit_out.spike_width = width;
        s.units.push_back(std::move(unit_out));

        if (i == 0) {
            s.t_axis = axis;
            s.trials.resize(nt);
            for (std::size_t k = 0; k < nt; ++k)
                s.trials[k] = {int(std::min(codes[k], 1e9)), sample[k], delay[k], cue[k], stim[k]};  // column-major: column 1
        } else if (axis.size() != s.t_axis.size()) {
            r.fail(ap, "has " + std::to_string(axis.size()) + " elements, unit(1) has " + std::to_string(s.t_axis.size()));
        }
    }
    return s;
}

/// Build a numeric (double) matlab variable; `rows`×`cols`.
inline matvar_t* make_double(const char* name, std::size_t rows, std::size_t cols, const double* data) {
    std::size_t dims[2] = {rows, cols};
    // matio copies the data (no MAT_F_DONT_COPY_DATA), so `data` may be a temporary.
    return Mat_VarCreate(name, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, const_cast<double*>(data), 0);
}

inline matvar_t* make_struct(const char* name, std::size_t n, std::vector<const char*> fields) {
    std::size_t dims[2] = {1, n};
    fields.push_back(nullptr);  // matio wants a null-terminated list
    return Mat_VarCreateStruct2(name, 2, dims, fields.data());
}

inline void set_field(matvar_t* s, const char* field, std::size_t index, matvar_t* value) {
    if (!value) throw error("matio could not create field '" + std::string(field) + "'");
    Mat_VarFree(Mat_VarSetStructFieldByName(s, field, index, value));
}

/// The `unit` variable of a session, in the layout MATLAB writes: doubles, column vectors
/// for per-spike and per-trial data, a 1×2 row for the trial range, a 1×n row for the
/// PSTH axis, nested 1×1 structs.
inline VarPtr session_to_matvar(const Session& s) {
    s.validate();
    VarPtr unit(make_struct("unit", s.n_units(),
                            {"SpikeTimes", "Trial_idx_of_spike", "Behavior", "Trial_info", "Meta_data", "SpikeWidth"}));
    if (!unit) throw error("matio could not create the 'unit' struct array");
    const std::size_t nt = s.n_trials();
    std::vector<double> sample(nt), delay(nt), cue(nt), codes(nt), stim(nt);
    for (std::size_t k = 0; k < nt; ++k) {
        const auto& t = s.trials[k];
        sample[k] = t.sample_start;
        delay[k] = t.delay_start;
        cue[k] = t.cue_start;
        codes[k] = t.response;
        stim[k] = t.photostim;
    }
    for (std::size_t i = 0; i < s.n_units(); ++i) {
        const auto& u = s.units[i];
        std::vector<double> tidx(u.n_spikes());
        for (std::size_t k = 0; k < nt; ++k)
            std::fill(tidx.begin() + std::ptrdiff_t(u.offsets[k]), tidx.begin() + std::ptrdiff_t(u.offsets[k + 1]),
                      double(k + 1));
        set_field(unit.get(), "SpikeTimes", i, make_double(nullptr, u.n_spikes(), 1, u.spike_times.data()));
        set_field(unit.get(), "Trial_idx_of_spike", i, make_double(nullptr, u.n_spikes(), 1, tidx.data()));

        matvar_t* beh = make_struct(nullptr, 1, {"Sample_start", "Delay_start", "Cue_start",
                                                 "Trial_types_of_response_vector", "stim_trial_vector"});
        set_field(unit.get(), "Behavior", i, beh);
        set_field(beh, "Sample_start", 0, make_double(nullptr, nt, 1, sample.data()));
        set_field(beh, "Delay_start", 0, make_double(nullptr, nt, 1, delay.data()));
        set_field(beh, "Cue_start", 0, make_double(nullptr, nt, 1, cue.data()));
        set_field(beh, "Trial_types_of_response_vector", 0, make_double(nullptr, nt, 1, codes.data()));
        set_field(beh, "stim_trial_vector", 0, make_double(nullptr, nt, 1, stim.data()));

        matvar_t* info = make_struct(nullptr, 1, {"Trial_range_to_analyze"});
        set_field(unit.get(), "Trial_info", i, info);
        const double range[2] = {double(u.first_trial + 1), double(u.last_trial + 1)};
        set_field(info, "Trial_range_to_analyze", 0, make_double(nullptr, 1, 2, range));

        matvar_t* meta = make_struct(nullptr, 1, {"parameters"});
        set_field(unit.get(), "Meta_data", i, meta);
        matvar_t* params = make_struct(nullptr, 1, {"T_Axis_PSTH"});
        set_field(meta, "parameters", 0, params);
        set_field(params, "T_Axis_PSTH", 0, make_double(nullptr, 1, s.t_axis.size(), s.t_axis.data()));

        set_field(unit.get(), "SpikeWidth", i, make_double(nullptr, 1, 1, &u.spike_width));
    }
    return unit;
}

/// Write variables to a MAT v5 file at `path`, atomically (temporary + rename).
inline void write_mat_v5(const std::filesystem::path& path, std::initializer_list<matvar_t*> vars,
                         matio_compression compression) {
    namespace fs = std::filesystem;
    quiet_matio();
    const std::string file = path.string();
    if (path.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(path.parent_path(), ec);
        if (ec) throw file_error(file, "", "cannot create directory: " + ec.message());
    }
    static std::atomic<unsigned> counter{0};
    fs::path tmp = path;
    tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    {
        FilePtr mat(Mat_CreateVer(tmp.string().c_str(), "MATLAB 5.0 MAT-file, written by neurodyn", MAT_FT_MAT5));
        if (!mat) throw file_error(file, "", "cannot create MAT file");
        for (matvar_t* v : vars) {
            if (Mat_VarWrite(mat.get(), v, compression) != 0) {
                mat.reset();
                std::error_code ig;
                fs::remove(tmp, ig);
                throw file_error(file, v->name ? v->name : "", "matio failed to write the variable");
            }
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        std::error_code ig;
        fs::remove(tmp, ig);
        throw file_error(file, "", "cannot rename temporary into place: " + ec.message());
    }
}

}  // namespace detail::mat

/// Compression of a written MAT v5 file.
enum class MatCompression {
    none,  ///< plain v5, what SciPy's savemat writes by default
    zlib,  ///< v7-style compressed elements, what MATLAB's save writes by default
};

/// Load an ALM session file. Throws `file_error` naming the file and the field (e.g.
/// `unit(3).Behavior.Cue_start`) when the file is missing, not a MATLAB file, truncated, or
/// when a field is missing, of the wrong class or shape, or inconsistent.
/// \code
/// auto s = neurodyn::load_matlab_session("ALM_session.mat");
/// std::cout << s.n_units() << " units, " << s.n_trials() << " trials\n";
/// \endcode
inline Session load_matlab_session(const std::filesystem::path& path) {
    const std::string file = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw file_error(file, "", "does not exist or is not a file");
    detail::mat::check_v5_framing(path, file);
    detail::mat::quiet_matio();
    detail::mat::FilePtr mat(Mat_Open(file.c_str(), MAT_ACC_RDONLY));
    if (!mat) throw file_error(file, "", "is not a MATLAB file matio can read");
    detail::mat::VarPtr unit(Mat_VarRead(mat.get(), "unit"));
    if (!unit) throw file_error(file, "unit", "is missing (or unreadable)");
    return detail::mat::session_from_matvar(file, unit.get());
}

/// Write a session in the same layout (MAT v5; zlib-compressed like MATLAB's default, or
/// uncompressed like SciPy's savemat). The file is written atomically.
/// \code
/// neurodyn::save_matlab_session(session, "out/synthetic.mat");
/// \endcode
inline void save_matlab_session(const Session& s, const std::filesystem::path& path,
                                MatCompression compression = MatCompression::zlib) {
    auto unit = detail::mat::session_to_matvar(s);
    detail::mat::write_mat_v5(path, {unit.get()},
                              compression == MatCompression::zlib ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE);
}

}  // namespace neurodyn
