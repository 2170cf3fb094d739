#pragma once
/// \file csv.hpp
/// A small CSV writer: a fixed header, rows of numbers and strings, written atomically.
///
/// \code
/// neurodyn::CsvWriter csv({"preset", "pv", "fraction_correct"});
/// csv.row("one_hemi_multi_fp_step", 2.0, 0.71);
/// csv.save("out/performance.csv");
/// \endcode
#include <filesystem>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/error.hpp"

namespace neurodyn {

class CsvWriter {
public:
    explicit CsvWriter(std::vector<std::string> header, int precision = 10) : columns_(header.size()) {
        require(!header.empty(), "header", "empty", "a CSV file needs at least one column");
        body_.precision(precision);
        for (std::size_t i = 0; i < header.size(); ++i) body_ << (i ? "," : "") << header[i];
        body_ << '\n';
    }

    /// Append one row; the number of values must match the header.
    template <class... V>
    CsvWriter& row(const V&... values) {
        require(sizeof...(V) == columns_, "row", std::to_string(sizeof...(V)) + " values",
                "must have " + std::to_string(columns_) + " values, one per column");
        std::size_t i = 0;
        ((body_ << (i++ ? "," : "") << field(values)), ...);
        body_ << '\n';
        ++rows_;
        return *this;
    }

    std::size_t rows() const noexcept { return rows_; }
    std::string str() const { return body_.str(); }

    void save(const std::filesystem::path& path) const {
        const std::string s = body_.str();
        write_atomically(path, [&](std::ostream& os) { os << s; });
    }

private:
    template <class V>
    static const V& field(const V& v) { return v; }
    static std::string field(std::string_view s) {
        if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
        std::string q = "\"";
        for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
    }
    static std::string field(const std::string& s) { return field(std::string_view(s)); }
    static std::string field(const char* s) { return field(std::string_view(s)); }

    std::size_t columns_;
    std::size_t rows_ = 0;
    std::ostringstream body_;
};

}  // namespace neurodyn
