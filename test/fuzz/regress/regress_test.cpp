// Every committed fuzz input goes through its target's entry point again:
// test/fuzz/regressions/<target>/ holds the inputs that once crashed or broke
// an invariant (kept after the fix), test/fuzz/seeds/<target>/ the small seeds.
// An entry returns "" when every invariant held; a crash fails the binary.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fuzz_entries.hpp"

namespace {

namespace fs = std::filesystem;
using Entry = std::string (*)(const uint8_t*, size_t);

// Sorted, so a failure names the same file first every time.
std::vector<fs::path> inputs_of(const std::string& target) {
    std::vector<fs::path> out;
    for (const char* kind : {"regressions", "seeds"}) {
        const fs::path dir = fs::path(SG_SOURCE_ROOT) / "test/fuzz" / kind / target;
        if (!fs::is_directory(dir)) continue;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_regular_file() && e.path().filename().string().front() != '.') out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

size_t replay(const std::string& target, Entry entry) {
    const auto files = inputs_of(target);
    for (const fs::path& f : files) {
        std::ifstream in(f, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        INFO(f.string());
        CHECK(entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == "");
    }
    return files.size();
}

} // namespace

// Each target has committed seeds: an empty folder would make its test vacuous.
TEST_CASE("fuzz inputs of the packet path replay cleanly", "[fuzz]") {
    CHECK(replay("packet", sg::fuzz::packet) > 0);
}
TEST_CASE("fuzz inputs of the rule parser replay cleanly", "[fuzz]") {
    CHECK(replay("rules", sg::fuzz::rules) > 0);
}
TEST_CASE("fuzz inputs of rule compilation and matching replay cleanly", "[fuzz]") {
    CHECK(replay("rule_match", sg::fuzz::rule_match) > 0);
}
TEST_CASE("fuzz inputs of classification.config replay cleanly", "[fuzz]") {
    CHECK(replay("classification", sg::fuzz::classification) > 0);
}
TEST_CASE("fuzz inputs of threshold.config replay cleanly", "[fuzz]") {
    CHECK(replay("threshold_config", sg::fuzz::threshold_config) > 0);
}
TEST_CASE("fuzz inputs of the configuration replay cleanly", "[fuzz]") {
    CHECK(replay("config", sg::fuzz::config) > 0);
}
TEST_CASE("fuzz inputs of the thresholds file replay cleanly", "[fuzz]") {
    CHECK(replay("thresholds", sg::fuzz::thresholds) > 0);
}
TEST_CASE("fuzz inputs of the incident journal replay cleanly", "[fuzz]") {
    CHECK(replay("journal", sg::fuzz::journal) > 0);
}
TEST_CASE("fuzz inputs of the control socket replay cleanly", "[fuzz]") {
    CHECK(replay("control_request", sg::fuzz::control_request) > 0);
}
TEST_CASE("fuzz inputs of the fleet window codec replay cleanly", "[fuzz]") {
    CHECK(replay("window_decode", sg::fuzz::window_decode) > 0);
}
