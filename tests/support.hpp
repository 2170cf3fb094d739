// Helpers shared by the test files. The files of a suite are compiled as one translation unit
// (tests/CMakeLists.txt), so a helper needed by several lives here, once.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace neurodyn_test {

/// An empty folder NEURODYN_TEST_TMP_DIR/name (whatever was there is removed first).
inline std::filesystem::path fresh_dir(const std::filesystem::path& name) {
    const std::filesystem::path d = std::filesystem::path(NEURODYN_TEST_TMP_DIR) / name;
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
}

/// The bytes of a file.
inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace neurodyn_test
