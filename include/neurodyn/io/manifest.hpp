#pragma once
/// \file manifest.hpp
/// What an example produced, for the report: `DIR/manifest.json` lists the figures (file and
/// one-line caption) and the key numbers of one output folder. `Gnuplot::render()` adds a
/// figure with its caption automatically; examples add numbers with `Manifest::number`.
///
/// \code
/// auto m = neurodyn::Manifest::open("out/attractors", "Attractor model");  // loads or creates
/// m.number("fraction correct, PV = 0", 0.89);
/// m.save();
/// \endcode
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "neurodyn/core/atomic_file.hpp"
#include "neurodyn/core/error.hpp"

namespace neurodyn {

class Manifest {
public:
    struct Figure {
        std::string file;     ///< PNG file name, relative to the manifest's folder
        std::string caption;  ///< one line
    };
    struct Number {
        std::string name;
        double value;
        std::string unit;
    };

    static constexpr const char* file_name = "manifest.json";

    /// Load DIR/manifest.json if it exists, or start an empty one. `title` (if not empty)
    /// replaces the stored title.
    static Manifest open(const std::filesystem::path& dir, const std::string& title = "") {
        Manifest m(dir);
        const auto path = dir / file_name;
        if (std::filesystem::exists(path)) m.load(path);
        if (!title.empty()) m.title_ = title;
        return m;
    }

    const std::filesystem::path& dir() const noexcept { return dir_; }
    const std::string& title() const noexcept { return title_; }
    const std::vector<Figure>& figures() const noexcept { return figures_; }
    const std::vector<Number>& numbers() const noexcept { return numbers_; }

    /// Add a figure, or replace the caption of one already listed.
    Manifest& figure(const std::string& file, const std::string& caption) {
        for (auto& f : figures_)
            if (f.file == file) {
                f.caption = caption;
                return *this;
            }
        figures_.push_back({file, caption});
        return *this;
    }

    /// Add a key number, or replace the value of one with the same name.
    Manifest& number(const std::string& name, double value, const std::string& unit = "") {
        for (auto& n : numbers_)
            if (n.name == name) {
                n.value = value;
                n.unit = unit;
                return *this;
            }
        numbers_.push_back({name, value, unit});
        return *this;
    }

    void save() const {
        nlohmann::json j;
        j["title"] = title_;
        j["figures"] = nlohmann::json::array();
        for (const auto& f : figures_) j["figures"].push_back({{"file", f.file}, {"caption", f.caption}});
        j["numbers"] = nlohmann::json::array();
        for (const auto& n : numbers_)
            j["numbers"].push_back({{"name", n.name}, {"value", n.value}, {"unit", n.unit}});
        const std::string text = j.dump(2) + "\n";
        write_atomically(dir_ / file_name, [&](std::ostream& os) { os << text; });
    }

private:
    explicit Manifest(std::filesystem::path dir) : dir_(std::move(dir)) {}

    void load(const std::filesystem::path& path) {
        std::ifstream in(path);
        nlohmann::json j;
        try {
            in >> j;
            title_ = j.value("title", "");
            for (const auto& f : j.at("figures"))
                figures_.push_back({f.at("file").get<std::string>(), f.value("caption", "")});
            for (const auto& n : j.at("numbers"))
                numbers_.push_back({n.at("name").get<std::string>(), n.at("value").get<double>(), n.value("unit", "")});
        } catch (const nlohmann::json::exception& e) {
            throw file_error(path.string(), "", std::string("malformed manifest: ") + e.what());
        }
    }

    std::filesystem::path dir_;
    std::string title_;
    std::vector<Figure> figures_;
    std::vector<Number> numbers_;
};

}  // namespace neurodyn
