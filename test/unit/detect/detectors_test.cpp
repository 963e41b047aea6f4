// Every detector of the registry, through real counting and the engine:
// traffic just above its default threshold opens an attribution, traffic
// just below opens none, in each direction the detector applies to
// (inbound, outbound, internal); transit traffic never yields one.

#include <catch2/catch.hpp>

#include "detect_harness.hpp"

namespace sg::test {
namespace {

struct Ends {
    IpAddress src;
    IpAddress dst;
};

// One source and one target for a direction (s, t: host numbers).
Ends ends(Direction d, uint32_t s, uint32_t t) {
    switch (d) {
    case Direction::inbound: return {outside_host(s), web_host(t)};
    case Direction::outbound: return {web_host(s), outside_host(t)};
    case Direction::internal: return {corp_host(s), web_host(t)};
    case Direction::transit: break;
    }
    return {outside_host(s), outside_host(t)};
}

// Many targets, numbered 1..n, on the receiving side of a direction.
IpAddress nth_target(Direction d, uint32_t i) {
    return d == Direction::inbound || d == Direction::internal ? web_host(i) : outside_host(i);
}

DeploymentId owner(const IpAddress& ip) { return ownership().lookup(ip); }

std::unique_ptr<Sensor> played(const Traffic& t, DetectionSetup setup = default_setup()) {
    auto s = std::make_unique<Sensor>(std::move(setup));
    s->feed(t);
    s->finish();
    return s;
}

// The run produced exactly one attribution, of this type and direction.
const Attribution& only(const Sensor& s, const char* type, Direction dir) {
    INFO("attributions: " << s.types());
    const auto all = s.attributions();
    REQUIRE(all.size() == 1);
    CHECK(all[0]->type == type);
    CHECK(all[0]->direction == dir);
    return *all[0];
}

void none(const Sensor& s) {
    INFO("attributions: " << s.types());
    CHECK(s.attributions().empty());
}

const char* name(Direction d) { return direction_name(d); }

// ---- Floods ----------------------------------------------------------------------

enum class Flood { syn, udp, icmp, fragment };

// n packets of a kind to one target within window 1. Inbound and transit
// floods come from spoofed sources (one packet each), the others from one host.
Traffic flood(Flood kind, Direction dir, uint64_t n) {
    const Ends e = ends(dir, 5, 10);
    const bool spoof = dir == Direction::inbound || dir == Direction::transit;
    Traffic t;
    t.spread(n, kT0 + kSec + 100 * kMs, 800 * kMs, [&](uint64_t i) {
        const IpAddress src = spoof ? spoofed(uint32_t(i)) : e.src;
        const auto sport = uint16_t(1024 + i % 60000);
        switch (kind) {
        case Flood::syn: return tcp(src, sport, e.dst, 80, kTcpSyn);
        case Flood::udp: return udp(src, sport, e.dst, 5000);
        case Flood::icmp: return icmp_echo(src, e.dst, uint16_t(i));
        case Flood::fragment: break;
        }
        return later_fragment(src, e.dst, uint16_t(i));
    });
    return t;
}

struct FloodCase {
    Flood kind;
    const char* type;
    uint64_t rate;   // the default threshold, per 1 s window
};

TEST_CASE("Floods: just above the default rate opens one attribution, just below none, in every direction") {
    const FloodCase c = GENERATE(FloodCase{Flood::syn, "syn_flood", 1000}, FloodCase{Flood::udp, "udp_flood", 10000},
                                 FloodCase{Flood::icmp, "icmp_flood", 2000},
                                 FloodCase{Flood::fragment, "fragment_flood", 1000});
    const Direction dir = GENERATE(Direction::inbound, Direction::outbound, Direction::internal, Direction::transit);
    INFO(c.type << " " << name(dir));
    const Ends e = ends(dir, 5, 10);

    const auto above = played(flood(c.kind, dir, c.rate + 1));
    if (dir == Direction::transit) {
        none(*above);
    } else {
        const Attribution& a = only(*above, c.type, dir);
        CHECK(a.detector == c.type);
        CHECK(a.target.ip == e.dst);
        CHECK(a.target.deployment == owner(e.dst));
        if (dir == Direction::inbound) {
            // Spoofed: nobody stands out.
            CHECK_FALSE(a.source.ip.has_value());
            CHECK(a.source.deployment == kNoDeployment);
            CHECK(a.top_sources.empty());
            CHECK(a.evidence.at("distinct_sources").get<double>() == Approx(c.rate + 1).epsilon(0.2));
        } else {
            CHECK(a.source.ip == e.src);
            CHECK(a.source.deployment == owner(e.src));
        }
        CHECK(a.evidence.at("packets") == c.rate + 1);
        CHECK(a.evidence.at("peak_pps") == c.rate + 1);
    }
    none(*played(flood(c.kind, dir, c.rate - 1)));
}

TEST_CASE("syn_flood: a flash crowd the server answers is not a flood (max_answered 0.5)") {
    // 1500 clients' SYNs in one window; the server answers `answered` of them.
    auto crowd = [](uint64_t answered) {
        Traffic t;
        const IpAddress server = web_host(10);
        for (uint64_t i = 0; i < 1500; ++i) {
            const Nanos at = kT0 + kSec + 100 * kMs + i * 500'000;
            const auto port = uint16_t(20000 + i);
            t.add(at, tcp(spoofed(uint32_t(i)), port, server, 443, kTcpSyn));
            if (i < answered) t.add(at + 100'000, tcp(server, 443, spoofed(uint32_t(i)), port, kTcpSyn | kTcpAck));
        }
        return t;
    };
    none(*played(crowd(1500)));
    none(*played(crowd(760)));  // just over half answered
    const auto flood = played(crowd(740));
    const Attribution& a = only(*flood, "syn_flood", Direction::inbound);
    CHECK(a.evidence.at("synack_replies") == 740);
}

// ---- Reflection -----------------------------------------------------------------

// n DNS responses (1200 bytes) to one victim from 5 reflectors, in window 1.
Traffic dns_responses(Direction dir, uint64_t n) {
    Traffic t;
    const IpAddress victim = nth_target(dir, 10);
    t.spread(n, kT0 + kSec + 100 * kMs, 800 * kMs, [&](uint64_t i) {
        const auto r = uint32_t(100 + i % 5);
        const IpAddress reflector = dir == Direction::internal ? corp_host(r)
                                    : dir == Direction::outbound ? web_host(r)
                                                                 : outside_host(r);
        return udp(reflector, 53, victim, uint16_t(1024 + i % 60000), 1150);
    }, 1200);
    return t;
}

TEST_CASE("amplification: responses from a reflection port to one of our hosts, inbound and internal") {
    const Direction dir = GENERATE(Direction::inbound, Direction::outbound, Direction::internal, Direction::transit);
    INFO(name(dir));
    const auto above = played(dns_responses(dir, 1001));
    if (dir == Direction::inbound || dir == Direction::internal) {
        const Attribution& a = only(*above, "amplification", dir);
        CHECK(a.service == "dns");
        CHECK(a.port == 53);
        CHECK(a.target.ip == web_host(10));
        CHECK(a.target.deployment == kWeb);
        // 5 reflectors, none with half: the source is no one address, but
        // internal reflection comes from our corp deployment.
        CHECK_FALSE(a.source.ip.has_value());
        CHECK(a.source.deployment == (dir == Direction::internal ? kCorp : kNoDeployment));
        CHECK(a.evidence.at("responses") == 1001);
    } else {
        // The victim is outside: not ours to see as amplification (and 5
        // reflectors at 200/s each are below reflector.rate).
        none(*above);
    }
    none(*played(dns_responses(dir, 999)));
}

// n spoofed DNS requests (80 bytes) to our resolver and its responses of
// `response_len` bytes to the forged source, in window 1.
Traffic reflection(Direction dir, uint64_t n, uint32_t response_len) {
    // The reflector is ours for outbound and internal; inbound: an outside one
    // answering requests forged with our host's address.
    const bool ours = dir == Direction::outbound || dir == Direction::internal;
    const IpAddress resolver = ours ? web_host(53) : outside_host(53);
    const IpAddress victim = dir == Direction::internal ? corp_host(9)
                             : dir == Direction::inbound ? web_host(9)
                                                         : outside_host(9);
    Traffic t;
    for (uint64_t i = 0; i < n; ++i) {
        const Nanos at = kT0 + kSec + 100 * kMs + i * kMs;
        const auto port = uint16_t(1024 + i);
        t.add(at, udp(victim, port, resolver, 53, 40), 80);
        t.add(at + 100'000, udp(resolver, 53, victim, port, uint16_t(response_len - 42)), response_len);
    }
    return t;
}

TEST_CASE("reflector: our host answering forged requests with amplified responses, outbound and internal") {
    const Direction dir = GENERATE(Direction::inbound, Direction::outbound, Direction::internal, Direction::transit);
    INFO(name(dir));
    const auto above = played(reflection(dir, 501, 1400));
    if (dir == Direction::outbound || dir == Direction::internal) {
        const Attribution& a = only(*above, "reflector", dir);
        CHECK(a.service == "dns");
        CHECK(a.source.ip == web_host(53));
        CHECK(a.source.deployment == kWeb);
        // The victim: where the responses went.
        const IpAddress victim = dir == Direction::internal ? corp_host(9) : outside_host(9);
        CHECK(a.target.ip == victim);
        CHECK(a.target.deployment == owner(victim));
        CHECK(a.evidence.at("responses") == 501);
        CHECK(a.evidence.at("amplification").get<double>() == Approx(1400.0 / 80).epsilon(0.01));
    } else {
        // Inbound our host is the victim at 501/s: below amplification.rate.
        none(*above);
    }
    none(*played(reflection(dir, 499, 1400)));
}

TEST_CASE("reflector: the byte ratio matters (min_amplification 3)") {
    // 600 responses a second, 80-byte requests: 250 bytes is 3.1x, 230 is 2.9x.
    only(*played(reflection(Direction::outbound, 600, 250)), "reflector", Direction::outbound);
    none(*played(reflection(Direction::outbound, 600, 230)));
}

// ---- Brute force ----------------------------------------------------------------

using Outcome = Traffic::Outcome;

// Login attempts to ssh, one per `gap`, from one source to one target.
Traffic logins(const Ends& e, const std::vector<Outcome>& attempts, Nanos gap, Nanos start = kT0 + 100 * kMs,
               uint16_t first_port = 40000) {
    Traffic t;
    for (size_t i = 0; i < attempts.size(); ++i)
        t.connection(start + i * gap, e.src, uint16_t(first_port + i), e.dst, 22, attempts[i]);
    return t;
}

std::vector<Outcome> repeat(size_t n, Outcome o) { return std::vector<Outcome>(n, o); }

TEST_CASE("bruteforce: ten failed logins to one service open an attribution, nine do not") {
    const Direction dir = GENERATE(Direction::inbound, Direction::outbound, Direction::internal, Direction::transit);
    INFO(name(dir));
    const Ends e = ends(dir, 20, 22);
    const auto above = played(logins(e, repeat(10, Outcome::short_login), 2 * kSec));
    if (dir == Direction::transit) {
        none(*above);
    } else {
        const Attribution& a = only(*above, "bruteforce", dir);
        CHECK(a.service == "ssh");
        CHECK(a.port == 22);
        CHECK(a.source.ip == e.src);
        CHECK(a.source.deployment == owner(e.src));
        CHECK(a.target.ip == e.dst);
        CHECK(a.target.deployment == owner(e.dst));
        CHECK(a.evidence.at("attempts") == 10);
        CHECK(a.evidence.at("failed") == 10);
        CHECK(a.active_since == kT0);
    }
    none(*played(logins(e, repeat(9, Outcome::short_login), 2 * kSec)));
    // Refused connections fail too.
    if (dir != Direction::transit)
        only(*played(logins(e, repeat(10, Outcome::refused), 2 * kSec)), "bruteforce", dir);
}

TEST_CASE("bruteforce: the share of failed logins matters (min_failed 0.5)") {
    const Ends e = ends(Direction::inbound, 20, 22);
    // 12 attempts: 6 failed is half, 5 is less.
    std::vector<Outcome> six = repeat(6, Outcome::long_session), five = repeat(7, Outcome::long_session);
    for (int i = 0; i < 6; ++i) six.push_back(Outcome::short_login);
    for (int i = 0; i < 5; ++i) five.push_back(Outcome::short_login);
    const auto half = played(logins(e, six, 2 * kSec));
    const Attribution& a = only(*half, "bruteforce", Direction::inbound);
    CHECK(a.evidence.at("failed") == 6);
    CHECK(a.evidence.at("established") == 12);
    none(*played(logins(e, five, 2 * kSec)));
}

TEST_CASE("bruteforce: a slow guesser counts across windows while its pauses stay below idle (120s)") {
    const Ends e = ends(Direction::inbound, 20, 22);
    SECTION("one attempt a minute: the tenth crosses the threshold") {
        const auto s = played(logins(e, repeat(12, Outcome::short_login), 60 * kSec));
        const Attribution& a = only(*s, "bruteforce", Direction::inbound);
        CHECK(a.active_since == kT0);
        // The tenth attempt (at 540 s) meets nine ended ones.
        CHECK(a.first_seen >= kT0 + 540 * kSec);
        CHECK(a.first_seen < kT0 + 541 * kSec);
    }
    // Six attempts a minute apart, a pause, six more.
    auto paused = [&](Nanos pause) {
        Traffic t = logins(e, repeat(6, Outcome::short_login), 60 * kSec);
        t.append(logins(e, repeat(6, Outcome::short_login), 60 * kSec, kT0 + 100 * kMs + 5 * 60 * kSec + pause,
                        41000));
        return t;
    };
    SECTION("a pause of 100 s keeps the count") {
        only(*played(paused(100 * kSec)), "bruteforce", Direction::inbound);
    }
    SECTION("a pause of 200 s starts a new count: six and six open nothing") {
        none(*played(paused(200 * kSec)));
    }
}

// ---- Scans ----------------------------------------------------------------------

// One source probes ports 2000.. of one target, 10 ms apart, from window 0;
// the first `open` probes find an open port, the others a closed one.
Traffic port_probes(const Ends& e, uint32_t ports, uint32_t open = 0, Nanos start = kT0 + 100 * kMs) {
    Traffic t;
    for (uint32_t i = 0; i < ports; ++i)
        t.connection(start + i * 10 * kMs, e.src, uint16_t(50000 + i), e.dst, uint16_t(2000 + i),
                     i < open ? Outcome::open_probe : Outcome::refused);
    return t;
}

TEST_CASE("port_scan: 25 ports of one target, mostly closed, in every direction") {
    const Direction dir = GENERATE(Direction::inbound, Direction::outbound, Direction::internal, Direction::transit);
    INFO(name(dir));
    const Ends e = ends(dir, 30, 31);
    const auto above = played(port_probes(e, 28));
    if (dir == Direction::transit) {
        none(*above);
    } else {
        const Attribution& a = only(*above, "port_scan", dir);
        CHECK(a.source.ip == e.src);
        CHECK(a.target.ip == e.dst);
        CHECK(a.target.deployment == owner(e.dst));
        CHECK(a.evidence.at("probes") == 28);
        CHECK(a.evidence.at("established") == 0);
        CHECK(a.evidence.at("distinct_ports").get<double>() == Approx(28).margin(1));
    }
    none(*played(port_probes(e, 22)));
}

TEST_CASE("port_scan: a client of many open services is not a scan (max_established 0.5)") {
    const Ends e = ends(Direction::inbound, 30, 31);
    const auto scan = played(port_probes(e, 30, 14));
    CHECK(only(*scan, "port_scan", Direction::inbound).evidence.at("established") == 14);
    none(*played(port_probes(e, 30, 16)));
}

// One source probes one port on targets 1..n, 5 ms apart, in window 0.
Traffic sweep_probes(Direction dir, uint32_t n, uint16_t port, uint32_t open = 0) {
    const Ends e = ends(dir, 40, 0);
    Traffic t;
    for (uint32_t i = 0; i < n; ++i)
        t.connection(kT0 + 100 * kMs + i * 5 * kMs, e.src, uint16_t(50000 + i), nth_target(dir, i + 1), port,
                     i < open ? Outcome::open_probe : Outcome::refused);
    return t;
}

TEST_CASE("sweep: one port on 64 targets; the target is many addresses of one deployment") {
    const Direction dir = GENERATE(Direction::inbound, Direction::outbound, Direction::internal, Direction::transit);
    INFO(name(dir));
    const Ends e = ends(dir, 40, 0);
    const auto above = played(sweep_probes(dir, 70, 8080));
    if (dir == Direction::transit) {
        none(*above);
    } else {
        const Attribution& a = only(*above, "sweep", dir);
        CHECK(a.source.ip == e.src);
        CHECK_FALSE(a.target.ip.has_value());
        CHECK(a.target.deployment == owner(nth_target(dir, 1)));
        CHECK(a.port == 8080);
        CHECK(a.evidence.at("probes") == 70);
        const nlohmann::json j = to_json(a, ownership());
        CHECK(j["target"]["ip"].is_null());
        CHECK(j["target"]["deployment"] == (dir == Direction::outbound ? nlohmann::json() : nlohmann::json("web")));
    }
    none(*played(sweep_probes(dir, 58, 8080)));
}

TEST_CASE("sweep: mostly completed connections are no sweep (max_established 0.5)") {
    none(*played(sweep_probes(Direction::inbound, 70, 8080, 36)));
    only(*played(sweep_probes(Direction::inbound, 70, 8080, 34)), "sweep", Direction::inbound);
}

TEST_CASE("spam: one of our hosts connecting to 20 mail servers; never from outside") {
    const Direction dir = GENERATE(Direction::inbound, Direction::outbound, Direction::internal, Direction::transit);
    INFO(name(dir));
    auto mail = [&](uint32_t servers) {
        const IpAddress sender = dir == Direction::inbound || dir == Direction::transit ? outside_host(50) : web_host(50);
        Traffic t;
        for (uint32_t i = 0; i < servers; ++i) {
            const IpAddress server = dir == Direction::internal ? corp_host(i + 1) : nth_target(dir, i + 1);
            t.connection(kT0 + 100 * kMs + i * 20 * kMs, sender, uint16_t(50000 + i), server, 25, Outcome::short_login);
        }
        return t;
    };
    const auto above = played(mail(22));
    if (dir == Direction::outbound || dir == Direction::internal) {
        const Attribution& a = only(*above, "spam", dir);
        CHECK(a.service == "smtp");
        CHECK(a.port == 25);
        CHECK(a.source.ip == web_host(50));
        CHECK_FALSE(a.target.ip.has_value());
        CHECK(a.target.deployment == (dir == Direction::internal ? kCorp : kNoDeployment));
    } else {
        // From outside to our mail servers: mail, not spam (and no sweep either).
        none(*above);
    }
    none(*played(mail(18)));
}

// ---- Signatures ------------------------------------------------------------------

AlertFacts alert(const Ends& e, uint32_t sid, uint32_t priority, const std::string* classtype, Nanos ts) {
    AlertFacts a;
    a.ts = ts;
    a.attacker = e.src;
    a.victim = e.dst;
    a.sid = sid;
    a.priority = priority;
    a.classtype = classtype;
    return a;
}

TEST_CASE("signature: alerts of priority <= 2 open an attribution per class and pair, in every direction") {
    const Direction dir = GENERATE(Direction::inbound, Direction::outbound, Direction::internal, Direction::transit);
    INFO(name(dir));
    const Ends e = ends(dir, 60, 61);
    static const std::string trojan = "trojan-activity", policy = "policy-violation";
    Sensor s;
    s.engine().on_alert(alert(e, 2000001, 1, &trojan, kT0 + 2 * kSec));
    s.engine().on_alert(alert(e, 2000002, 1, &trojan, kT0 + 3 * kSec));
    s.engine().on_alert(alert(e, 2000003, 3, &policy, kT0 + 4 * kSec));  // priority 3: nothing
    s.finish();
    if (dir == Direction::transit) {
        none(s);
        return;
    }
    const Attribution& a = only(s, "signature", dir);
    CHECK(a.source.ip == e.src);
    CHECK(a.target.ip == e.dst);
    CHECK(a.sids == std::vector<uint32_t>{2000001, 2000002});
    CHECK(a.evidence.at("alerts") == 2);
    CHECK(a.evidence.at("class") == "trojan-activity");
    CHECK(a.first_seen == kT0 + 2 * kSec);
    CHECK(a.last_seen == kT0 + 3 * kSec);
}

TEST_CASE("signature: priority 2 opens, priority 3 does not (max_priority 2)") {
    static const std::string mining = "coin-mining";
    const Ends e = ends(Direction::outbound, 60, 61);
    Sensor two;
    two.engine().on_alert(alert(e, 3000001, 2, &mining, kT0));
    two.finish();
    only(two, "signature", Direction::outbound);
    Sensor three;
    three.engine().on_alert(alert(e, 3000001, 3, &mining, kT0));
    three.finish();
    none(three);
}

TEST_CASE("signature: reconnaissance rules open nothing; their sid joins the scan of the same pair") {
    static const std::string recon = "attempted-recon";
    const Ends scanner = ends(Direction::inbound, 30, 31);
    const Ends other = ends(Direction::inbound, 30, 99);  // same source, a target it did not scan
    Sensor s;
    s.engine().on_alert(alert(scanner, 2010935, 2, &recon, kT0 + 50 * kMs));
    s.engine().on_alert(alert(other, 2010936, 2, &recon, kT0 + 60 * kMs));
    SECTION("alone") {
        s.finish();
        none(s);
    }
    SECTION("with the port scan it describes") {
        s.feed(port_probes(scanner, 28));
        s.finish();
        const Attribution& a = only(s, "port_scan", Direction::inbound);
        CHECK(a.sids == std::vector<uint32_t>{2010935});
        CHECK(to_json(a, ownership())["sids"] == nlohmann::json::array({2010935}));
    }
}

} // namespace
} // namespace sg::test
