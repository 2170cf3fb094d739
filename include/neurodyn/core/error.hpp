#pragma once
/// \file error.hpp
/// The library's exception hierarchy. Every message names the offending parameter (or file
/// field), the value that was seen and what is allowed, so a user can fix the call without
/// reading library code.
///
/// \code
/// try { neurodyn::require_positive("tau", tau); }
/// catch (const neurodyn::invalid_parameter& e) { std::cerr << e.what() << '\n'; }
/// // -> "neurodyn: parameter 'tau' = -1: must be > 0"
/// \endcode
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace neurodyn {

/// Base class of every exception thrown by neurodyn.
class error : public std::runtime_error {
public:
    explicit error(const std::string& what) : std::runtime_error("neurodyn: " + what) {}
};

/// A parameter outside its allowed range (or of the wrong size).
class invalid_parameter : public error {
public:
    invalid_parameter(std::string_view parameter, std::string_view value, std::string_view allowed)
        : error("parameter '" + std::string(parameter) + "' = " + std::string(value) + ": " +
                std::string(allowed)),
          parameter_(parameter) {}
    const std::string& parameter() const noexcept { return parameter_; }

private:
    std::string parameter_;
};

/// A file that cannot be read or written, or a file whose content is malformed.
/// `field()` is empty when the problem is with the file as a whole.
class file_error : public error {
public:
    file_error(std::string_view file, std::string_view field, std::string_view problem)
        : error("file '" + std::string(file) + "'" +
                (field.empty() ? std::string() : ", field '" + std::string(field) + "'") + ": " +
                std::string(problem)),
          file_(file), field_(field) {}
    const std::string& file() const noexcept { return file_; }
    const std::string& field() const noexcept { return field_; }

private:
    std::string file_, field_;
};

/// NaN, infinity or divergence during a simulation or training run. Carries the step and
/// trial (or condition) at which it was detected.
class numerical_error : public error {
public:
    numerical_error(std::string_view what, long step, long trial)
        : error(std::string(what) + " at step " + std::to_string(step) + " of trial " +
                std::to_string(trial)),
          step_(step), trial_(trial) {}
    long step() const noexcept { return step_; }
    long trial() const noexcept { return trial_; }

private:
    long step_, trial_;
};

namespace detail {
template <class V>
std::string to_text(const V& v) {
    std::ostringstream os;
    os.precision(10);
    os << v;
    return os.str();
}
}  // namespace detail

/// Throw `invalid_parameter` unless `ok`.
template <class V>
void require(bool ok, std::string_view parameter, const V& value, std::string_view allowed) {
    if (!ok) throw invalid_parameter(parameter, detail::to_text(value), allowed);
}

/// The value must be a finite number.
template <std::floating_point V>
void require_finite(std::string_view parameter, V value) {
    require(std::isfinite(value), parameter, value, "must be a finite number");
}

/// The value must be finite and strictly positive.
template <class V>
void require_positive(std::string_view parameter, V value) {
    require(value > V(0) && !(value != value) && value < std::numeric_limits<V>::infinity(),
            parameter, value, "must be a finite number > 0");
}

/// The value must be finite and >= 0.
template <class V>
void require_nonnegative(std::string_view parameter, V value) {
    require(value >= V(0) && value < std::numeric_limits<V>::infinity(), parameter, value,
            "must be a finite number >= 0");
}

/// A vector or matrix dimension must equal the expected one.
inline void require_size(std::string_view parameter, std::ptrdiff_t seen, std::ptrdiff_t expected) {
    require(seen == expected, parameter, "size " + std::to_string(seen),
            "must have size " + std::to_string(expected));
}

}  // namespace neurodyn
