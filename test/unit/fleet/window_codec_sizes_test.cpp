// The window codec: the size of typical windows on the wire, and what
// encoding, decoding and merging them costs (printed, never asserted).
#include "fleet/window_codec.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "window_codec_harness.hpp"

using namespace sg;
using namespace sg::fleet::codec_test;

// ---- 4. Sizes ----------------------------------------------------------------------

// Prints the encoded size of typical windows (figures for the docs); with
// SG_WINDOW_SEEDS=DIR also writes their encodings there (the committed fuzz
// seeds of test/fuzz/seeds/window_decode were made so).
TEST_CASE("window codec: encoded sizes of typical windows", "[fleet][sizes]") {
    struct Case {
        const char* name;
        Summary summary;
    };
    std::vector<Case> cases;
    cases.push_back({"empty", empty_summary()});
    cases.push_back({"quiet", counted(quiet_traffic())});
    cases.push_back({"syn-flood", counted(syn_flood_traffic())});
    cases.push_back({"scan", counted(scan_traffic())});
    cases.push_back({"worst-case", worst_case_summary()});
    const char* seeds = std::getenv("SG_WINDOW_SEEDS");
    std::string report;
    for (const Case& c : cases) {
        const std::string bytes = encoded(*c.summary);
        const WindowSummary& w = *c.summary;
        report += fmt::format("{:>10}: {:>9} bytes  ({} packets, {} hosts, targets {}, pairs {}, services {}, scans {}, sweeps {})\n",
                              c.name, bytes.size(), w.packets, w.hosts.size(), w.targets.size(), w.pairs.size(),
                              w.services.size(), w.scans.size(), w.sweeps.size());
        if (seeds) {
            std::filesystem::create_directories(seeds);
            std::ofstream(std::filesystem::path(seeds) / c.name, std::ios::binary) << bytes;
        }
    }
    // What each costs (printed, never asserted: this machine is shared): the
    // appliance's reporter encodes once per window; the aggregator decodes
    // and merges once per appliance and window.
    report += "  per window, mean of 20 (µs): encode, decode, merge into a window block\n";
    auto block = std::make_unique<WindowSummary>();
    auto decoded_block = std::make_unique<WindowSummary>();
    for (const Case& c : cases) {
        using Clock = std::chrono::steady_clock;
        constexpr int kRuns = 20;
        const auto us = [](Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count() / kRuns; };
        std::string bytes;
        auto t0 = Clock::now();
        for (int i = 0; i < kRuns; ++i) {
            bytes.clear();
            encode_window(*c.summary, bytes);
        }
        const double enc = us(Clock::now() - t0);
        t0 = Clock::now();
        for (int i = 0; i < kRuns; ++i) REQUIRE(decode_window(bytes, *decoded_block));
        const double dec = us(Clock::now() - t0);
        t0 = Clock::now();
        for (int i = 0; i < kRuns; ++i) {
            block->clear();
            block->merge(*decoded_block);
        }
        const double mrg = us(Clock::now() - t0);
        report += fmt::format("{:>10}: {:>9.0f} {:>9.0f} {:>9.0f}\n", c.name, enc, dec, mrg);
    }
    WARN(report);
    const auto size_of = [&](size_t i) { return encoded(*cases[i].summary).size(); };
    CHECK(size_of(0) == 25);
    CHECK(size_of(1) < 4096);
    // A flood or a scan fills the tables; it must stay far below NATS's
    // default max_payload (1 MiB).
    CHECK(size_of(2) < 128 * 1024);
    CHECK(size_of(3) < 128 * 1024);
    CHECK(size_of(4) < 2 * 1024 * 1024);
}
