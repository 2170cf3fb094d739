// Output folders written all-or-nothing: the old folder stays as it was until commit(), an
// exception leaves no temporary behind, inputs are never replaced, and temporaries of killed
// runs are cleaned by the next run.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "neurodyn/io/output_folder.hpp"

#include "support.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;

namespace {
void put(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}
fs::path output_dir(const std::string& name) { return neurodyn_test::fresh_dir(fs::path("output_folder") / name); }
/// Names in a folder, sorted.
std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}
/// An earlier output folder: a manifest and one result file.
fs::path old_output(const fs::path& root) {
    const fs::path out = root / "out";
    put(out / "manifest.json", "{}\n");
    put(out / "result.csv", "old\n");
    return out;
}
/// The PID of a process that has exited (and been reaped), so it is not alive.
pid_t dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
}
}  // namespace

TEST_CASE("OutputFolder: writes go to a hidden sibling, commit swaps it in place of the old folder") {
    const fs::path root = output_dir("commit");
    const fs::path out = old_output(root);
    {
        OutputFolder folder(out);
        CHECK(folder.path().parent_path() == fs::canonical(root));
        CHECK(folder.path().filename().string().rfind(".out.partial-", 0) == 0);
        put(folder.path() / "manifest.json", "{\"new\": 1}\n");
        put(folder.path() / "new.csv", "new\n");
        // Before the commit the old folder is whole and untouched.
        CHECK(listing(out) == std::vector<std::string>{"manifest.json", "result.csv"});
        CHECK(neurodyn_test::slurp(out / "result.csv") == "old\n");
        folder.commit();
        CHECK(folder.committed());
        CHECK(folder.target() == fs::canonical(out));
    }
    // Exactly the new run's files; the old ones and every temporary are gone.
    CHECK(listing(out) == std::vector<std::string>{"manifest.json", "new.csv"});
    CHECK(neurodyn_test::slurp(out / "new.csv") == "new\n");
    CHECK(listing(root) == std::vector<std::string>{"out"});
}

TEST_CASE("OutputFolder: a missing target (and its parents) is created by commit") {
    const fs::path root = output_dir("create");
    const fs::path out = root / "a" / "b";
    OutputFolder folder(out);
    CHECK_FALSE(fs::exists(out));
    put(folder.path() / "x.csv", "x\n");
    folder.commit();
    CHECK(neurodyn_test::slurp(out / "x.csv") == "x\n");
    CHECK(listing(root / "a") == std::vector<std::string>{"b"});
}

TEST_CASE("OutputFolder: an exception before commit leaves the old folder untouched and no temporary") {
    const fs::path root = output_dir("abort");
    const fs::path out = old_output(root);
    CHECK_THROWS_AS(
        [&] {
            OutputFolder folder(out);
            put(folder.path() / "result.csv", "half-written\n");
            put(folder.path() / "manifest.json", "{\"new\": 1}\n");
            throw std::runtime_error("a parameter rejected late");
        }(),
        std::runtime_error);
    CHECK(listing(out) == std::vector<std::string>{"manifest.json", "result.csv"});
    CHECK(neurodyn_test::slurp(out / "result.csv") == "old\n");
    CHECK(neurodyn_test::slurp(out / "manifest.json") == "{}\n");
    CHECK(listing(root) == std::vector<std::string>{"out"});
}

TEST_CASE("OutputFolder: refuses a file, a foreign folder and any overlap with an input") {
    const fs::path root = output_dir("refuse");
    put(root / "file.txt", "data\n");
    CHECK_THROWS_AS(OutputFolder(root / "file.txt"), invalid_parameter);
    CHECK(neurodyn_test::slurp(root / "file.txt") == "data\n");
    // Under a file: the parent cannot be created.
    CHECK_THROWS_AS(OutputFolder(root / "file.txt" / "sub"), error);

    // A non-empty folder that no run wrote (no manifest.json) is never replaced...
    put(root / "home" / "notes.txt", "mine\n");
    CHECK_THROWS_AS(OutputFolder(root / "home"), invalid_parameter);
    // ... unless the caller owns it whole; an empty folder is fine.
    CHECK_NOTHROW(OutputFolder(root / "home", {}, OutputFolder::Replace::any));
    fs::create_directories(root / "empty");
    CHECK_NOTHROW(OutputFolder(root / "empty"));

    // Inputs: the output may not be one, contain one or lie inside one.
    const fs::path training = old_output(root / "training");  // root/training/out
    put(training / "J_trained_0.npy", "weights\n");
    CHECK_THROWS_AS(OutputFolder(training, {training}), invalid_parameter);
    CHECK_THROWS_AS(OutputFolder(root / "training" / "." / "out/", {training}), invalid_parameter);
    CHECK_THROWS_AS(OutputFolder(root / "training", {training}), invalid_parameter);     // contains it
    CHECK_THROWS_AS(OutputFolder(training / "sub", {training}), invalid_parameter);       // inside it
    CHECK_THROWS_AS(OutputFolder(root / "training", {training / "J_trained_0.npy"}), invalid_parameter);
    try {
        OutputFolder folder(training, {training});
    } catch (const invalid_parameter& e) {
        CHECK(std::string(e.what()).find("is the input") != std::string::npos);
    }
    // A sibling of an input is fine, and an empty input (option not given) is ignored.
    CHECK_NOTHROW(OutputFolder(root / "training" / "out2", {training, ""}));
    // Nothing was created or changed by the refusals.
    CHECK(neurodyn_test::slurp(training / "J_trained_0.npy") == "weights\n");
    CHECK(listing(root / "training") == std::vector<std::string>{"out"});
    CHECK_THROWS_AS(OutputFolder(""), invalid_parameter);
}

TEST_CASE("OutputFolder: temporaries of a killed run are cleaned, those of a live process kept") {
    const fs::path root = output_dir("stale");
    const fs::path out = old_output(root);
    const pid_t dead = dead_pid();
    const fs::path stale = root / (".out.partial-" + std::to_string(dead) + "-0");
    put(stale / "result.csv", "from a killed run\n");
    const fs::path live = root / (".out.partial-" + std::to_string(::getppid()) + "-7");
    put(live / "result.csv", "a run in progress\n");
    const fs::path other = root / (".other.partial-" + std::to_string(dead) + "-0");
    fs::create_directories(other);
    {
        OutputFolder folder(out);
        CHECK_FALSE(fs::exists(stale));
        CHECK(fs::exists(live));
        CHECK(fs::exists(other));  // another folder's temporary: not this run's business
    }
    CHECK(listing(out) == std::vector<std::string>{"manifest.json", "result.csv"});

    // Killed between the two renames of a commit: the old folder is put back.
    fs::remove_all(live);
    fs::remove_all(other);
    fs::rename(out, root / (".out.old-" + std::to_string(dead) + "-0"));
    {
        OutputFolder folder(out);
        CHECK(neurodyn_test::slurp(out / "result.csv") == "old\n");
    }
    CHECK(listing(root) == std::vector<std::string>{"out"});
}
