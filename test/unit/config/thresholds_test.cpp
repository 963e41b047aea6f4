#include "config/thresholds.hpp"

#include <catch2/catch.hpp>

#include "../temp_dir.hpp"

#include <fstream>
#include <set>
#include <sstream>

using sg::parse_thresholds;
using sg::Thresholds;
using sg::threshold_params;

namespace {

const char* kShippedFile = SG_SOURCE_ROOT "/rules/thresholds.yaml";

std::string error_of(const std::string& yaml) {
    const auto r = parse_thresholds(yaml, "t.yaml");
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

// "section.key" of every key the file writes (two-level YAML, block style).
std::set<std::string> keys_in(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::set<std::string> keys;
    std::string line, section;
    while (std::getline(in, line)) {
        const auto text = line.substr(0, line.find('#'));
        const auto colon = text.find(':');
        if (colon == std::string::npos) continue;
        const auto first = text.find_first_not_of(' ');
        if (first == 0) section = text.substr(0, colon);
        else keys.insert(section + "." + text.substr(first, colon - first));
    }
    return keys;
}

} // namespace

TEST_CASE("rules/thresholds.yaml holds exactly the built-in defaults, every one written out") {
    const auto loaded = sg::load_thresholds(kShippedFile);
    INFO((loaded.ok() ? "" : loaded.error().message));
    REQUIRE(loaded.ok());
    const Thresholds built_in;
    const std::set<std::string> written = keys_in(kShippedFile);
    REQUIRE(!threshold_params().empty());
    for (const sg::ThresholdParam& p : threshold_params()) {
        const std::string key = std::string(p.detector) + "." + p.name;
        INFO(key);
        CHECK(written.count(key) == 1);
        CHECK((*loaded).*(p.member) == built_in.*(p.member));
    }
    CHECK(written.size() == threshold_params().size());
}

TEST_CASE("Threshold values: rates with or without /s, durations with a unit, ratios up to 1") {
    const auto t = parse_thresholds("syn_flood:\n  rate: 250/s\n  max_answered: 1\n"
                                    "udp_flood: {rate: 20000}\n"
                                    "bruteforce:\n  idle: 5m\n  attempts: 4\n"
                                    "port_scan: {idle: 1500ms, max_established: 0}\n",
                                    "t.yaml");
    INFO((t.ok() ? "" : t.error().message));
    REQUIRE(t.ok());
    CHECK(t->syn_flood_rate == 250);
    CHECK(t->syn_flood_max_answered == 1);
    CHECK(t->udp_flood_rate == 20000);
    CHECK(t->bruteforce_idle == 300);
    CHECK(t->bruteforce_attempts == 4);
    CHECK(t->port_scan_idle == 1.5);
    CHECK(t->port_scan_max_established == 0);
    // Everything not named keeps its default.
    CHECK(t->icmp_flood_rate == Thresholds{}.icmp_flood_rate);
    CHECK(t->port_scan_ports == Thresholds{}.port_scan_ports);
    // An empty file is the defaults.
    const auto empty = parse_thresholds("# nothing\n", "t.yaml");
    REQUIRE(empty.ok());
    CHECK(empty->sweep_targets == Thresholds{}.sweep_targets);
}

TEST_CASE("Threshold errors name the file, the line and the key") {
    const std::string unknown_detector = error_of("syn_flood:\n  rate: 5\nport_scna:\n  ports: 10\n");
    CHECK(unknown_detector.starts_with("t.yaml:3: unknown detector 'port_scna' (expected one of: syn_flood, "));
    CHECK(unknown_detector.ends_with("; did you mean 'port_scan'?"));

    CHECK(error_of("port_scan:\n  idle: 30s\n  port: 10\n") ==
          "t.yaml:3: port_scan: unknown threshold 'port' (expected one of: ports, max_established, idle); "
          "did you mean 'ports'?");
    CHECK(error_of("udp_flood:\n  rate: fast\n") == "t.yaml:2: udp_flood.rate: expected a number >= 0, got 'fast'");
    CHECK(error_of("udp_flood:\n  rate: -5\n") == "t.yaml:2: udp_flood.rate: expected a number >= 0, got '-5'");
    CHECK(error_of("bruteforce:\n  attempts: 10x\n") ==
          "t.yaml:2: bruteforce.attempts: expected a number >= 0, got '10x'");
    CHECK(error_of("\nsyn_flood:\n  max_answered: 1.5\n") ==
          "t.yaml:3: syn_flood.max_answered: expected a ratio between 0 and 1, got '1.5'");
    CHECK(error_of("bruteforce:\n  idle: two minutes\n") ==
          "t.yaml:2: bruteforce.idle: expected a duration such as 30s or 5m, got 'two minutes'");
    CHECK(error_of("bruteforce:\n  idle: 0s\n") ==
          "t.yaml:2: bruteforce.idle: expected a duration such as 30s or 5m, got '0s'");
    CHECK(error_of("sweep:\n  targets: 10\n  targets: 20\n") == "t.yaml:3: sweep.targets: repeated key");
    CHECK(error_of("sweep: 10\n").starts_with("t.yaml:1: sweep: expected a map of thresholds"));
    CHECK(error_of("- sweep\n").starts_with("t.yaml:1: expected a map of detectors"));
    CHECK(error_of("sweep: {targets: [1, 2]}\n").starts_with("t.yaml:1: sweep.targets: expected a number"));
}

TEST_CASE("load_thresholds names the file it read") {
    sg::test::TempDir dir;
    const std::string path = dir.write("mine.yaml", "# ours\nspam:\n  targets: many\n");
    const auto bad = sg::load_thresholds(path);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == path + ":3: spam.targets: expected a number >= 0, got 'many'");
    const auto missing = sg::load_thresholds(dir.path.string() + "/none.yaml");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == dir.path.string() + "/none.yaml: cannot read the thresholds file");
    const auto good = sg::load_thresholds(dir.write("ok.yaml", "spam:\n  targets: 40\n"));
    REQUIRE(good.ok());
    CHECK(good->spam_targets == 40);
}

TEST_CASE("Overrides apply the named parameters only, and format as the docs write them") {
    Thresholds t;
    sg::apply_overrides(t, {{0, 42}});
    CHECK(t.*(threshold_params()[0].member) == 42);
    CHECK(t.udp_flood_rate == Thresholds{}.udp_flood_rate);
    for (const sg::ThresholdParam& p : threshold_params()) {
        const std::string text = sg::format_threshold(p, Thresholds{}.*(p.member));
        INFO(p.detector << "." << p.name << " = " << text);
        // What format_threshold writes, the file format reads back.
        const auto back = parse_thresholds(std::string(p.detector) + ":\n  " + p.name + ": " + text + "\n", "t.yaml");
        REQUIRE(back.ok());
        CHECK((*back).*(p.member) == Thresholds{}.*(p.member));
    }
}
