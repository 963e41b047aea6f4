// PostureTracker: inbound login attempts per service, management ports
// reachable from outside, top hosts and pairs over the recent windows, and
// the bounds that keep it small.

#include <catch2/catch.hpp>

#include <memory>

#include "detect/posture.hpp"

using namespace sg;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// 10.1.0.0/16 is deployment 0 ("web"), 10.2.0.0/16 deployment 1; the rest is outside.
DeploymentId lookup(const IpAddress& a) {
    if (!a.is_v4()) return kNoDeployment;
    const uint32_t v = a.v4_host();
    if ((v >> 16) == 0x0a01) return 0;
    if ((v >> 16) == 0x0a02) return 1;
    return kNoDeployment;
}

ServiceStats& service(WindowSummary& w, const char* src, const char* dst, uint16_t port) {
    ServiceKey k;
    k.src = ip(src);
    k.dst = ip(dst);
    k.port = port;
    return w.services.add(k, sketch_hash(&k, sizeof k), 1);
}

std::unique_ptr<WindowSummary> window() {
    auto w = std::make_unique<WindowSummary>();
    w->clear();
    return w;
}

constexpr Nanos kSec = kNsPerSec;

} // namespace

TEST_CASE("Inbound login attempts add up per deployment and service; outbound and internal ones do not count") {
    PostureTracker t(lookup);
    auto w = window();
    ServiceStats& rdp = service(*w, "203.0.113.9", "10.1.0.10", 3389);
    rdp.attempts = 40;
    rdp.failed = 38;
    rdp.ended = 40;
    rdp.established = 40;
    service(*w, "198.51.100.7", "10.1.0.11", 3389).attempts = 2;
    service(*w, "10.1.0.12", "198.51.100.77", 22).attempts = 75;     // outbound
    service(*w, "10.1.0.13", "10.2.0.20", 3389).attempts = 75;       // internal
    w->last_packet = 100 * kSec + 5;
    t.add_window(*w, 100 * kSec, kSec);
    auto w2 = window();
    service(*w2, "203.0.113.9", "10.1.0.10", 3389).attempts = 10;
    t.add_window(*w2, 101 * kSec, kSec);

    const auto& logins = t.inbound_logins();
    REQUIRE(logins.size() == 1);
    const auto& [key, l] = *logins.begin();
    CHECK(key == std::make_pair(DeploymentId(0), uint16_t(3389)));
    CHECK(l.attempts == 52);
    CHECK(l.failed == 38);
    CHECK(l.established == 40);
    CHECK(l.sources.estimate() == Approx(2).margin(0.5));
    CHECK(l.targets.estimate() == Approx(2).margin(0.5));
    CHECK(l.first_seen == 100 * kSec + 5);
    CHECK(l.last_seen == 101 * kSec);
    CHECK(t.windows() == 2);
}

TEST_CASE("A management port is exposed once a handshake from outside completed; other ports are not") {
    PostureTracker t(lookup);
    auto w = window();
    service(*w, "203.0.113.9", "10.1.0.10", 3389).established = 3;
    service(*w, "203.0.113.10", "10.1.0.10", 3389).established = 1;
    service(*w, "203.0.113.9", "10.1.0.20", 22).attempts = 5;        // never answered: not reachable
    service(*w, "203.0.113.9", "10.1.0.21", 6379).established = 4;   // redis: a login service, not management
    service(*w, "10.2.0.5", "10.1.0.22", 22).established = 1;        // internal: not from the internet
    t.add_window(*w, 7 * kSec, kSec);

    const auto exposed = t.exposed();
    REQUIRE(exposed.size() == 1);
    CHECK(exposed[0]->host == ip("10.1.0.10"));
    CHECK(exposed[0]->port == 3389);
    CHECK(exposed[0]->deployment == 0);
    CHECK(exposed[0]->handshakes == 4);
    CHECK(exposed[0]->sources.estimate() == Approx(2).margin(0.5));
    CHECK(exposed[0]->first_seen == 7 * kSec);
    for (uint16_t p : {22, 3389, 5985, 5986, 445, 1433, 3306, 5900}) CHECK(is_management_port(p));
    for (uint16_t p : {21, 23, 80, 443, 6379, 27017}) CHECK_FALSE(is_management_port(p));
}

TEST_CASE("Exposure is bounded: the pair seen least recently makes room, and is counted") {
    PostureTracker t(lookup);
    Nanos at = 0;
    // One window per host (a window's services table holds 512 keys).
    for (size_t i = 0; i < PostureTracker::kMaxExposed + 10; ++i) {
        auto w = window();
        const std::string host = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
        service(*w, "203.0.113.9", host.c_str(), 22).established = 1;
        t.add_window(*w, at, kSec);
        at += kSec;
    }
    CHECK(t.exposed().size() == PostureTracker::kMaxExposed);
    CHECK(t.evictions() == 10);
    for (const auto* e : t.exposed()) CHECK(e->first_seen >= 10 * kSec);   // the first ten went
}

TEST_CASE("Top hosts and pairs sum the recent windows; older windows drop out") {
    PostureTracker t(lookup);
    auto busy = window();
    HostStats* web = busy->hosts.get(ip("10.1.0.10"), 1, 0);
    web->in.packets = 100;
    web->in.bytes = 100000;
    HostStats* db = busy->hosts.get(ip("10.2.0.5"), 2, 1);
    db->out.packets = 10;
    db->out.bytes = 5000;
    const PairKey pair{ip("203.0.113.9"), ip("10.1.0.10")};
    busy->pairs.add(pair, sketch_hash(&pair, sizeof pair), 100);
    t.add_window(*busy, 0, kSec);
    t.add_window(*busy, kSec, kSec);

    auto hosts = t.top_hosts(10);
    REQUIRE(hosts.size() == 2);
    CHECK(hosts[0].ip == ip("10.1.0.10"));
    CHECK(hosts[0].bytes_in == 200000);
    CHECK(hosts[1].ip == ip("10.2.0.5"));
    CHECK(hosts[1].bytes_out == 10000);
    CHECK(t.top_hosts(1).size() == 1);
    auto pairs = t.top_pairs(5);
    REQUIRE(pairs.size() == 1);
    CHECK(pairs[0].source == ip("203.0.113.9"));
    CHECK(pairs[0].packets == 200);

    // A minute of quiet windows pushes them out.
    auto quiet = window();
    for (unsigned i = 0; i < PostureTracker::kRecentWindows; ++i) t.add_window(*quiet, (2 + i) * kSec, kSec);
    CHECK(t.top_hosts(10).empty());
    CHECK(t.top_pairs(10).empty());
    CHECK(t.recent_span() == PostureTracker::kRecentWindows * kSec);
}
