// The DetectionEngine over real counting: the same traffic gives the same
// attributions whatever the number of workers; attributions are dated by
// the window that crossed the threshold; per-deployment thresholds apply to
// that deployment only; floods relative to a host's usual rate; memory stays
// bounded under a flood of spoofed sources.

#include <malloc.h>

#include <catch2/catch.hpp>

#include "detect_harness.hpp"

namespace sg::test {
namespace {

using Outcome = Traffic::Outcome;

// A bit of everything, over 20 s: a SYN flood from spoofed sources (1500/s
// for two windows from `flood_at`), a brute force, a port scan (windows 0
// to 10), a sweep (windows 5 to 9), and ordinary web traffic.
Traffic mixed_attacks(Nanos flood_at) {
    Traffic t;
    t.spread(3000, flood_at, 2 * kSec, [](uint64_t i) {
        return tcp(spoofed(uint32_t(i)), uint16_t(1024 + i % 60000), web_host(10), 80, kTcpSyn);
    });
    // Brute force on ssh of web .22: 15 failed logins, one every 1.1 s.
    for (uint32_t i = 0; i < 15; ++i)
        t.connection(kT0 + 200 * kMs + i * 1100 * kMs, outside_host(20), uint16_t(40000 + i), web_host(22), 22,
                     Outcome::short_login);
    // Port scan of web .31: 40 ports, 4 a second.
    for (uint32_t i = 0; i < 40; ++i)
        t.connection(kT0 + 300 * kMs + i * 250 * kMs, outside_host(30), uint16_t(50000 + i), web_host(31),
                     uint16_t(1000 + i * 7), i % 10 == 0 ? Outcome::open_probe : Outcome::refused);
    // Sweep of port 8443 over 90 corp hosts from a web host (internal).
    for (uint32_t i = 0; i < 90; ++i)
        t.connection(kT0 + 5 * kSec + i * 50 * kMs, web_host(40), uint16_t(30000 + i), corp_host(i + 1), 8443,
                     Outcome::refused);
    // Clients of web .80: completed sessions, no attack.
    for (uint32_t i = 0; i < 200; ++i)
        t.connection(kT0 + i * 90 * kMs, outside_host(1000 + i % 37), uint16_t(20000 + i), web_host(80), 443,
                     Outcome::long_session);
    return t;
}

struct Runs {
    std::unique_ptr<Sensor> one, two;
};

// The traffic through one worker, and split by flow over two.
Runs one_and_two_workers(const Traffic& traffic) {
    Runs r{std::make_unique<Sensor>(default_setup(1)), std::make_unique<Sensor>(default_setup(2))};
    r.one->feed(traffic);
    r.one->finish();
    r.two->feed(traffic);
    r.two->finish();
    INFO("one worker: " << r.one->types());
    INFO("two workers: " << r.two->types());
    // The traffic has each attack, once.
    CHECK(r.one->count("syn_flood") == 1);
    CHECK(r.one->count("bruteforce") == 1);
    CHECK(r.one->count("port_scan") == 1);
    CHECK(r.one->count("sweep") == 1);
    CHECK(r.one->attributions().size() == 4);
    CHECK(r.two->engine().counters().summaries == 2 * r.one->engine().counters().summaries);
    CHECK(r.two->engine().counters().windows == r.one->engine().counters().windows);
    REQUIRE(r.one->attributions().size() == r.two->attributions().size());
    return r;
}

TEST_CASE("Merge invariance: one worker or two split by flow give the same attributions") {
    // The flood (windows 12 and 13) overflows the windows' scan and sweep
    // tables while the brute force and the clients go on.
    const Runs r = one_and_two_workers(mixed_attacks(kT0 + 12 * kSec));
    const nlohmann::json a = r.one->json(), b = r.two->json();
    for (size_t i = 0; i < a.size(); ++i) {
        INFO("attribution " << i);
        CHECK(a[i].dump(2) == b[i].dump(2));
    }
}

TEST_CASE("Merge invariance under overflow: a scan during a spoofed flood is found alike, its counts within the error") {
    // The flood (windows 3 and 4) fills the scan table with one-probe
    // sources while the port scan goes on: a space-saving table may then
    // let the scanner's entry go between two of its probes, and which
    // probes it forgets depends on how the traffic was split.
    const Runs r = one_and_two_workers(mixed_attacks(kT0 + 3 * kSec));
    const nlohmann::json a = r.one->json(), b = r.two->json();
    for (size_t i = 0; i < a.size(); ++i) {
        INFO("attribution " << i << ": " << a[i].dump() << " vs " << b[i].dump());
        nlohmann::json x = a[i], y = b[i];
        for (auto it = x["evidence"].begin(); it != x["evidence"].end(); ++it)
            CHECK(it->get<double>() == Approx(y["evidence"].at(it.key()).get<double>()).epsilon(0.1));
        CHECK(r.one->attributions()[i]->first_seen / kSec == r.two->attributions()[i]->first_seen / kSec);
        x.erase("evidence"), y.erase("evidence");
        x.erase("first_seen"), y.erase("first_seen");
        CHECK(x.dump(2) == y.dump(2));
    }
}

TEST_CASE("first_seen lies in the window where the threshold was crossed") {
    SECTION("a SYN flood that grows: 100/s for five windows, then 1500/s") {
        Traffic t;
        for (uint64_t w = 0; w < 5; ++w)
            t.spread(100, kT0 + w * kSec, kSec, [&](uint64_t i) {
                return tcp(spoofed(uint32_t(w * 100 + i)), uint16_t(1024 + i), web_host(10), 80, kTcpSyn);
            });
        t.spread(1500, kT0 + 5 * kSec + 250 * kMs, 700 * kMs, [](uint64_t i) {
            return tcp(spoofed(uint32_t(10000 + i)), uint16_t(1024 + i), web_host(10), 80, kTcpSyn);
        });
        Sensor s;
        s.feed(t);
        s.finish();
        const Attribution* a = s.find("syn_flood");
        REQUIRE(a);
        CHECK(a->first_seen >= kT0 + 5 * kSec + 250 * kMs);  // packet time, not the window's start
        CHECK(a->first_seen < kT0 + 6 * kSec);
        CHECK(to_json(*a, ownership())["first_seen"] == format_timestamp(a->first_seen));
    }
    SECTION("a port scan of 10 new ports a window crosses 25 ports in its third window") {
        Traffic t;
        for (uint32_t w = 0; w < 4; ++w)
            for (uint32_t i = 0; i < 10; ++i)
                t.connection(kT0 + w * kSec + 300 * kMs + i * 20 * kMs, outside_host(30), uint16_t(50000 + w * 10 + i),
                             web_host(31), uint16_t(3000 + w * 10 + i), Outcome::refused);
        Sensor s;
        s.feed(t);
        s.finish();
        INFO(s.types());
        REQUIRE(s.attributions().size() == 1);
        const Attribution& a = *s.attributions()[0];
        CHECK(a.type == "port_scan");
        CHECK(a.first_seen >= kT0 + 2 * kSec + 300 * kMs);
        CHECK(a.first_seen < kT0 + 3 * kSec);
        CHECK(a.active_since == kT0);             // the scan began in window 0
        CHECK(a.last_seen >= kT0 + 3 * kSec);     // and went on in window 3
        CHECK(a.evidence.at("probes") == 40);
    }
}

// Thresholds for web and corp: web's port_scan.ports 200 and syn_flood.rate
// 5000 (its CI scans it, its load balancers take bursts), corp's
// syn_flood.rate 500.
DetectionSetup with_overrides() {
    DetectionSetup setup = default_setup();
    Thresholds web, corp;
    web.port_scan_ports = 200;
    web.syn_flood_rate = 5000;
    corp.syn_flood_rate = 500;
    setup.per_deployment = {web, corp};
    return setup;
}

Traffic scan_of(IpAddress src, IpAddress dst, uint32_t ports) {
    Traffic t;
    for (uint32_t i = 0; i < ports; ++i)
        t.connection(kT0 + 100 * kMs + i * 10 * kMs, src, uint16_t(50000 + i), dst, uint16_t(2000 + i),
                     Outcome::refused);
    return t;
}

Traffic syns_to(IpAddress dst, uint64_t n) {
    Traffic t;
    t.spread(n, kT0 + 100 * kMs, 800 * kMs, [&](uint64_t i) {
        return tcp(spoofed(uint32_t(i)), uint16_t(1024 + i), dst, 80, kTcpSyn);
    });
    return t;
}

size_t attributions_of(const Traffic& t, DetectionSetup setup) {
    Sensor s(std::move(setup));
    s.feed(t);
    s.finish();
    return s.attributions().size();
}

TEST_CASE("Per-deployment thresholds change the decision for that deployment only") {
    SECTION("a 30-port scan: on web (ports 200) nothing, on corp a port_scan") {
        CHECK(attributions_of(scan_of(outside_host(30), web_host(31), 30), with_overrides()) == 0);
        CHECK(attributions_of(scan_of(outside_host(30), corp_host(31), 30), with_overrides()) == 1);
        // Without overrides both are scans.
        CHECK(attributions_of(scan_of(outside_host(30), web_host(31), 30), default_setup()) == 1);
    }
    SECTION("a scan from web's hosts is judged by web's thresholds too (outbound)") {
        CHECK(attributions_of(scan_of(web_host(30), outside_host(31), 30), with_overrides()) == 0);
        CHECK(attributions_of(scan_of(corp_host(30), outside_host(31), 30), with_overrides()) == 1);
    }
    SECTION("600 SYN/s: a flood on corp (rate 500), not on web (5000) nor by default (1000)") {
        Sensor s(with_overrides());
        Traffic t = syns_to(corp_host(10), 600);
        t.append(syns_to(web_host(10), 1200));
        s.feed(t);
        s.finish();
        INFO(s.types());
        REQUIRE(s.attributions().size() == 1);
        CHECK(s.attributions()[0]->type == "syn_flood");
        CHECK(s.attributions()[0]->target.ip == corp_host(10));
        CHECK(s.attributions()[0]->threshold == "SYN to one address >= 500/s");
        CHECK(attributions_of(syns_to(corp_host(10), 600), default_setup()) == 0);
    }
}

TEST_CASE("Relative floods: 30x a host's long, steady usual rate is a flood below the absolute rate") {
    // Web .60 and .62 get 10 UDP packets a second for 400 s; web .70 only for
    // the last 100 s (its usual rate is not known long enough: floods.
    // baseline_half_life, 300 s). Then, in window 400, a burst of UDP from
    // spoofed sources: 310/s (31x) on .60, 290/s (29x) on .62, 400/s on .70;
    // all far below udp_flood.rate (10000/s).
    Traffic t;
    for (uint64_t w = 0; w < 400; ++w)
        for (uint64_t i = 0; i < 10; ++i) {
            const Nanos at = kT0 + w * kSec + i * 100 * kMs + 10 * kMs;
            t.add(at, udp(outside_host(61), 4000, web_host(60), 5000));
            t.add(at + kMs, udp(outside_host(61), 4000, web_host(62), 5000));
            if (w >= 300) t.add(at + 2 * kMs, udp(outside_host(71), 4000, web_host(70), 5000));
        }
    uint32_t next = 0;
    auto burst = [&](IpAddress target, uint64_t n) {
        t.spread(n, kT0 + 400 * kSec + 100 * kMs, 800 * kMs, [&](uint64_t i) {
            return udp(spoofed(next++), uint16_t(1024 + i), target, 5000);
        });
    };
    burst(web_host(60), 310);
    burst(web_host(62), 290);
    burst(web_host(70), 400);
    Sensor s;
    s.feed(t);
    s.finish();
    INFO(s.types());
    REQUIRE(s.attributions().size() == 1);
    const Attribution& a = *s.attributions()[0];
    CHECK(a.type == "udp_flood");
    CHECK(a.target.ip == web_host(60));
    CHECK(a.first_seen >= kT0 + 400 * kSec);
    CHECK(a.threshold.find("30x the target's usual 10 packets/s") != std::string::npos);
    CHECK(a.evidence.at("packets") == 310);
    CHECK(s.engine().baseline_rate(web_host(62)) < 12);
}

TEST_CASE("Bounded memory: a million spoofed sources do not grow the engine's tables") {
    // 10,000 SYN/s on one host from a new spoofed address each, for 100 s.
    // Every source is a new flow, a new scan pair and a new sweep key.
    constexpr uint64_t kSources = 1'000'000, kPerWindow = 10'000;
    // DetectionEngine's activity tables (lib/detect/engine.cpp) hold this
    // many keys each; scans and sweeps both see every source.
    constexpr uint64_t kActivityCapacity = 16384;
    Sensor s(default_setup(), 1u << 16);
    uint64_t keys = 0;   // scan and sweep keys the windows brought, all new
    s.on_summary = [&](const WindowSummary& w) { keys += w.scans.size() + w.sweeps.size(); };
    s.count_allocations = true;
    g_news = 0;
    size_t heap_at_half = 0;
    for (uint64_t i = 0; i < kSources; ++i) {
        Packet p;
        p.ts = kT0 + i * (kNsPerSec / kPerWindow);
        p.pv = tcp(spoofed(uint32_t(i)), uint16_t(1024 + i % 60000), web_host(10), 80, kTcpSyn);
        s.packet(p);
        if (i == kSources / 2) heap_at_half = mallinfo2().uordblks;
    }
    s.count_allocations = false;
    CHECK(g_news == 0);  // WindowCounter::observe never allocated
    const size_t heap_at_end = mallinfo2().uordblks;
    s.finish();

    const DetectionCounters& c = s.engine().counters();
    CHECK(c.windows == kSources / kPerWindow);
    // Keys came in far beyond the capacity; the least active made room.
    REQUIRE(keys > 4 * kActivityCapacity);
    CHECK(c.activity_evictions > 0);
    CHECK(keys - c.activity_evictions <= 2 * kActivityCapacity);
    // The heap did not grow with the sources: once the tables were full
    // (after 32 windows), 500,000 more sources left it within a few MiB
    // (an activity entry per source would be ~300 MiB).
    INFO("heap after 500k sources " << heap_at_half << ", after 1M " << heap_at_end);
    CHECK(heap_at_end < heap_at_half + 4 * 1024 * 1024);
    // And it is one SYN flood, with every source counted.
    REQUIRE(s.attributions().size() == 1);
    const Attribution& a = *s.attributions()[0];
    CHECK(a.type == "syn_flood");
    CHECK(a.evidence.at("packets") == kSources);
    CHECK(a.evidence.at("distinct_sources").get<double>() == Approx(double(kSources)).epsilon(0.2));
    CHECK(a.top_sources.empty());
}

} // namespace
} // namespace sg::test
