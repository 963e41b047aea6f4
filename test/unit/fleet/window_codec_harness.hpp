#pragma once
// What the window codec's tests share (test/unit/fleet/window_codec_*_test.cpp):
// summaries empty, copied, random, counted from real traffic (detect_harness)
// and worst-case; a canonical text form that two summaries compare by (their
// contents and their iteration order); hand-made messages for the refusals.

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "../detect/detect_harness.hpp"
#include "fleet/window_codec.hpp"

namespace sg::fleet::codec_test {
using namespace sg;
using namespace sg::test;
using sg::fleet::decode_window;
using sg::fleet::encode_window;
} // namespace sg::fleet::codec_test

namespace sg::fleet::codec_test {

using Summary = std::unique_ptr<WindowSummary>;

inline Summary empty_summary() {
    auto s = std::make_unique<WindowSummary>();
    s->clear();
    return s;
}

inline Summary copy_of(const WindowSummary& w) {
    auto s = std::make_unique<WindowSummary>();
    *s = w;
    return s;
}

inline std::string encoded(const WindowSummary& w) {
    std::string bytes;
    encode_window(w, bytes);
    return bytes;
}

inline Summary decoded(const std::string& bytes) {
    auto s = std::make_unique<WindowSummary>();
    const Result<> r = decode_window(bytes, *s);
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return s;
}

inline Summary round_trip(const WindowSummary& w) { return decoded(encoded(w)); }

// ---- Comparing summaries ---------------------------------------------------------

inline std::string text(const IpAddress& a) { return a.to_string(); }
inline std::string text(const TrafficCounters& c) {
    return fmt::format("{}/{}/{}/{}/{}/{}/{}/{}", c.packets, c.bytes, c.syn, c.synack, c.rst, c.udp, c.icmp,
                       c.fragments);
}
inline std::string text(const PacketBytes& p) { return fmt::format("{}/{}", p.packets, p.bytes); }
template <unsigned P> std::string text(const Hll<P>& h) {
    std::string out = "hll:";
    for (uint8_t r : h.registers()) out += fmt::format("{:02x}", r);
    return out;
}
template <size_t N> std::string text(const uint8_t (&pad)[N]) {
    std::string out = "pad:";
    for (uint8_t b : pad) out += fmt::format("{:02x}", b);
    return out;
}
inline std::string text(const AddressKey& k) { return text(k.ip); }
inline std::string text(const PairKey& k) { return text(k.src) + ">" + text(k.dst); }
inline std::string text(const ServiceKey& k) { return fmt::format("{}>{}:{} {}", text(k.src), text(k.dst), k.port, text(k.pad)); }
inline std::string text(const SweepKey& k) {
    return fmt::format("{} port {} dep {} proto {} {}", text(k.src), k.port, k.target_deployment, k.proto, text(k.pad));
}
inline std::string text(const TargetStats& t) { return fmt::format("{} {} {}", text(t.in), t.synack_out, text(t.sources)); }
inline std::string text(const NoPayload&) { return ""; }
inline std::string text(const ServiceStats& s) { return fmt::format("{}/{}/{}/{}", s.attempts, s.established, s.failed, s.ended); }
inline std::string text(const ScanStats& s) {
    return fmt::format("{}/{}/{} {}", s.probes, s.answered, s.established, text(s.ports));
}
inline std::string text(const SweepStats& s) {
    return fmt::format("{}/{}/{} {}", s.probes, s.answered, s.established, text(s.targets));
}
inline std::string text(const HostStats& h) {
    std::string out = fmt::format("host {} dep {} in {} out {} {} {} {} {}", text(h.ip), h.deployment, text(h.in),
                                  text(h.out), text(h.peers_in), text(h.ports_in), text(h.peers_out),
                                  text(h.ports_out));
    for (const ReflectionCounters& r : h.reflection)
        out += fmt::format(" [{} {} {} {}]", text(r.requests_in), text(r.responses_out), text(r.responses_in),
                           text(r.requests_out));
    return out;
}

template <class Table> void add_table(std::vector<std::string>& lines, const char* name, const Table& t) {
    lines.push_back(fmt::format("{} total {} size {} min_count {}", name, t.total(), t.size(), t.min_count()));
    std::vector<std::string> entries;
    t.for_each([&](const auto& e) {
        entries.push_back(fmt::format("{} {} hash {:016x} count {} error {} {}", name, text(e.key), e.hash, e.count,
                                      e.error, text(e.value)));
    });
    std::sort(entries.begin(), entries.end());
    lines.insert(lines.end(), entries.begin(), entries.end());
}

// Everything a summary holds, one line per part: the window's fields, the
// hosts by address, each table's total, size, min_count() and entries by
// key with hash, count, error and payload.
inline std::vector<std::string> canonical(const WindowSummary& w) {
    std::vector<std::string> lines;
    lines.push_back(fmt::format("window {} next {} workers {} packets {} transit {} first {} last {}", w.index,
                                w.next_index, w.workers, w.packets, w.transit_packets, w.first_packet,
                                w.last_packet));
    lines.push_back(fmt::format("hosts {} overflow {}", w.hosts.size(), w.hosts.overflow()));
    std::vector<std::string> hosts;
    w.hosts.for_each([&](const HostStats& h) { hosts.push_back(text(h)); });
    std::sort(hosts.begin(), hosts.end());
    lines.insert(lines.end(), hosts.begin(), hosts.end());
    add_table(lines, "targets", w.targets);
    add_table(lines, "pairs", w.pairs);
    add_table(lines, "services", w.services);
    add_table(lines, "scans", w.scans);
    add_table(lines, "sweeps", w.sweeps);
    return lines;
}

// The order the detectors see hosts and entries in (for_each).
inline std::vector<std::string> iteration_order(const WindowSummary& w) {
    std::vector<std::string> keys;
    w.hosts.for_each([&](const HostStats& h) { keys.push_back("host " + text(h.ip)); });
    const auto add = [&](const char* name, const auto& table) {
        table.for_each([&](const auto& e) { keys.push_back(fmt::format("{} {}", name, text(e.key))); });
    };
    add("targets", w.targets);
    add("pairs", w.pairs);
    add("services", w.services);
    add("scans", w.scans);
    add("sweeps", w.sweeps);
    return keys;
}

inline std::string first_difference(const char* what, const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (a[i] != b[i]) return fmt::format("{}, line {}:\n  {}\n  {}", what, i, a[i].substr(0, 300), b[i].substr(0, 300));
    if (a.size() != b.size()) return fmt::format("{}: {} lines against {}", what, a.size(), b.size());
    return "";
}

// "" when a and b hold the same and iterate in the same order.
inline std::string differences(const WindowSummary& a, const WindowSummary& b) {
    std::string d = first_difference("contents", canonical(a), canonical(b));
    if (d.empty()) d = first_difference("iteration order", iteration_order(a), iteration_order(b));
    return d;
}

inline bool is_cleared(const WindowSummary& w) { return differences(w, *empty_summary()).empty(); }

// ---- Random summaries ------------------------------------------------------------

// Summaries filled through the tables' own add() and get() with random keys
// (IPv4 and IPv6), weights and payloads: tables from empty to full with
// evictions, counters from 0 to 2^64 - 1, sparse and dense HyperLogLogs.
class RandomSummary {
public:
    explicit RandomSummary(uint64_t seed) : rng_(seed) {}

    uint64_t below(uint64_t n) { return n ? rng_() % n : 0; }
    bool chance(unsigned percent) { return below(100) < percent; }
    // Mostly small, some up to 64 bits: every varint length.
    uint64_t counter() {
        const unsigned bits = unsigned(below(65));
        return bits == 64 ? rng_() : rng_() & ((uint64_t(1) << bits) - 1);
    }
    IpAddress address() {
        if (chance(70)) return IpAddress::from_v4_host(uint32_t(rng_()));
        IpAddress a;
        for (auto& b : a.bytes) b = uint8_t(rng_());
        a.bytes[0] = 0x20;  // never IPv4-mapped
        return a;
    }
    template <unsigned P> void hll(Hll<P>& h) {
        const uint64_t items = chance(30) ? 0 : chance(60) ? below(8) : below(4 << P);
        for (uint64_t i = 0; i < items; ++i) h.add(rng_());
    }
    void traffic(TrafficCounters& c) {
        for (uint64_t* v : {&c.packets, &c.bytes, &c.syn, &c.synack, &c.rst, &c.udp, &c.icmp, &c.fragments})
            *v = counter();
    }

    void fill(WindowSummary& w) {
        w.clear();
        w.index = counter();
        w.next_index = counter();
        w.workers = uint32_t(counter());
        w.packets = counter();
        w.transit_packets = counter();
        w.first_packet = counter();
        w.last_packet = counter();
        fill_hosts(w.hosts);
        fill_table(w.targets, [&] { return AddressKey{address()}; }, [&](TargetStats& t) {
            if (chance(20)) traffic(t.in);
            else ++t.in.packets;
            t.synack_out += below(2);
            t.sources.add(rng_());
        });
        fill_table(w.pairs, [&] { return PairKey{address(), address()}; }, [](NoPayload&) {});
        fill_table(w.services, [&] {
            ServiceKey k;
            k.src = address();
            k.dst = address();
            k.port = uint16_t(rng_());
            return k;
        }, [&](ServiceStats& s) {
            ++s.attempts;
            if (chance(10)) s.failed = counter();
        });
        fill_table(w.scans, [&] { return PairKey{address(), address()}; }, [&](ScanStats& s) {
            ++s.probes;
            s.answered += below(2);
            s.ports.add(rng_());
            if (chance(2)) hll(s.ports);
        });
        fill_table(w.sweeps, [&] {
            SweepKey k;
            k.src = address();
            k.port = uint16_t(rng_());
            k.proto = uint8_t(rng_());
            k.target_deployment = chance(30) ? kNoDeployment : DeploymentId(below(3));
            return k;
        }, [&](SweepStats& s) {
            ++s.probes;
            s.established += below(2);
            s.targets.add(rng_());
            if (chance(2)) hll(s.targets);
        });
    }

    void fill_hosts(HostTable& hosts) {
        const uint64_t shape = below(4);
        const uint64_t n = shape == 0 ? 0 : shape == 1 ? below(20) : shape == 2 ? below(700) : 700 + below(300);
        for (uint64_t i = 0; i < n; ++i) {
            const IpAddress ip = address();
            HostStats* h = hosts.get(ip, summary_hash(ip), chance(90) ? DeploymentId(below(3)) : DeploymentId(rng_()));
            if (!h) continue;  // counted as overflow
            traffic(h->in);
            traffic(h->out);
            hll(h->peers_in);
            hll(h->ports_in);
            hll(h->peers_out);
            hll(h->ports_out);
            for (ReflectionCounters& r : h->reflection) {
                if (!chance(15)) continue;
                for (PacketBytes* p : {&r.requests_in, &r.responses_out, &r.responses_in, &r.requests_out})
                    if (chance(50)) *p = {counter(), counter()};
            }
        }
    }

    // A table from empty to four times over full: heavy keys and a long
    // tail, weights mostly 1, some 0 (an outcome counted late) or large.
    template <class Key, class Value, unsigned K, class MakeKey, class Touch>
    void fill_table(SpaceSaving<Key, Value, K>& table, MakeKey&& make_key, Touch&& touch) {
        const uint64_t shape = below(4);
        const uint64_t pool = shape == 0 ? 0 : shape == 1 ? 1 + below(K / 2) : K + below(3 * K);
        std::vector<Key> keys;
        for (uint64_t i = 0; i < pool; ++i) keys.push_back(make_key());
        const uint64_t adds = pool * (1 + below(4));
        for (uint64_t i = 0; i < adds; ++i) {
            const Key& k = keys[std::min(below(pool), below(pool))];  // skewed towards the first keys
            const uint64_t weight = chance(5) ? 0 : chance(5) ? below(1000) : 1;
            touch(table.add(k, summary_hash(k), weight));
        }
    }

private:
    std::mt19937_64 rng_;
};

inline Summary random_summary(uint64_t seed) {
    auto s = std::make_unique<WindowSummary>();
    RandomSummary(seed).fill(*s);
    return s;
}

// ---- Summaries from real counting ------------------------------------------------

// The fullest window a one-worker sensor counted from `t`.
inline Summary counted(const Traffic& t) {
    Sensor sensor;
    Summary busiest;
    sensor.on_summary = [&](const WindowSummary& w) {
        if (!busiest || w.packets > busiest->packets) busiest = copy_of(w);
    };
    sensor.feed(t);
    sensor.finish();
    REQUIRE(busiest);
    return busiest;
}

// Ten web servers with a few clients each: HTTPS sessions, DNS, a ping.
inline Traffic quiet_traffic() {
    Traffic t;
    for (uint32_t h = 0; h < 10; ++h) {
        const Nanos at = kT0 + 50 * kMs + h * 60 * kMs;
        t.connection(at, outside_host(h), uint16_t(40000 + h), web_host(h + 1), 443, Traffic::Outcome::long_session);
        t.connection(at + 20 * kMs, outside_host(100 + h), uint16_t(41000 + h), web_host(h + 1), 443,
                     Traffic::Outcome::short_login);
        t.add(at + 5 * kMs, udp(web_host(h + 1), uint16_t(50000 + h), outside_host(53), 53, 40));
        t.add(at + 6 * kMs, udp(outside_host(53), 53, web_host(h + 1), uint16_t(50000 + h), 120), 162);
        t.add(at + 7 * kMs, icmp_echo(outside_host(200), web_host(h + 1), uint16_t(h)));
    }
    return t;
}

// 10,000 spoofed sources, one SYN each, at one web server's port 80.
inline Traffic syn_flood_traffic() {
    Traffic t;
    t.spread(10'000, kT0 + 10 * kMs, 900 * kMs,
             [](uint64_t i) { return tcp(spoofed(uint32_t(i)), uint16_t(1024 + i % 60000), web_host(1), 80, kTcpSyn); });
    return t;
}

// One outside source: ports 1-1000 of a web server (three open), then
// port 22 of 250 web servers (none answers).
inline Traffic scan_traffic() {
    Traffic t;
    const IpAddress scanner = outside_host(7);
    for (uint16_t port = 1; port <= 1000; ++port) {
        const bool open = port == 22 || port == 80 || port == 443;
        t.connection(kT0 + 10 * kMs + port * 400'000, scanner, uint16_t(30000 + port), web_host(1), port,
                     open ? Traffic::Outcome::open_probe : Traffic::Outcome::refused);
    }
    for (uint32_t h = 0; h < 250; ++h)
        t.connection(kT0 + 500 * kMs + h * kMs, scanner, uint16_t(20000 + h), web_host(100 + h), 22,
                     Traffic::Outcome::unanswered);
    return t;
}

// Close to the largest summary there can be: every host and table entry
// used, every counter and host overflow 2^64 - 1, every HyperLogLog dense
// with its largest values, every reflection service counted, IPv6 keys.
// Only the table counts are smaller (2^52 each, 8 bytes): they must add up
// to at most the total.
inline Summary worst_case_summary() {
    auto w = empty_summary();
    const uint64_t big = ~uint64_t(0);
    w->index = w->next_index = w->packets = w->transit_packets = w->first_packet = w->last_packet = big;
    w->workers = UINT32_MAX;
    const auto saturate = [](auto& hll) {
        constexpr unsigned p = std::remove_reference_t<decltype(hll)>::kPrecision;
        for (uint64_t i = 0; i < (uint64_t(1) << p); ++i) hll.add(i << (64 - p));  // no 1-bit after the index
    };
    const auto fill = [&](TrafficCounters& c) { c = {big, big, big, big, big, big, big, big}; };
    uint32_t next = 0;
    const auto v6 = [&] {
        IpAddress a;
        a.bytes[0] = 0x20;
        const uint32_t n = next++;
        std::memcpy(&a.bytes[12], &n, 4);
        return a;
    };
    while (w->hosts.size() < HostTable::kMaxHosts) {
        const IpAddress ip = v6();
        HostStats* h = w->hosts.get(ip, summary_hash(ip), 40000);
        fill(h->in);
        fill(h->out);
        saturate(h->peers_in);
        saturate(h->ports_in);
        saturate(h->peers_out);
        saturate(h->ports_out);
        for (ReflectionCounters& r : h->reflection)
            r.requests_in = r.responses_out = r.responses_in = r.requests_out = {big, big};
    }
    w->hosts.restore_overflow(big);
    const uint64_t weight = uint64_t(1) << 52;
    const auto add = [&](auto& table, const auto& key) -> auto& { return table.add(key, summary_hash(key), weight); };
    for (unsigned i = 0; i < kTargetEntries; ++i) {
        TargetStats& t = add(w->targets, AddressKey{v6()});
        fill(t.in);
        t.synack_out = big;
        saturate(t.sources);
    }
    for (unsigned i = 0; i < kPairEntries; ++i) add(w->pairs, PairKey{v6(), v6()});
    for (unsigned i = 0; i < kServiceEntries; ++i) {
        ServiceKey k;
        k.src = v6();
        k.dst = v6();
        k.port = 65535;
        add(w->services, k) = {big, big, big, big};
    }
    for (unsigned i = 0; i < kScanEntries; ++i) {
        ScanStats& s = add(w->scans, PairKey{v6(), v6()});
        s.probes = s.answered = s.established = big;
        saturate(s.ports);
    }
    for (unsigned i = 0; i < kSweepEntries; ++i) {
        SweepKey k;
        k.src = v6();
        k.target_deployment = 40000;
        SweepStats& s = add(w->sweeps, k);
        s.probes = s.answered = s.established = big;
        saturate(s.targets);
    }
    return w;
}

// ---- Hand-made messages ------------------------------------------------------------

struct Bytes {
    std::string s;
    Bytes& raw(std::string_view v) {
        s += v;
        return *this;
    }
    Bytes& u8(uint8_t v) {
        s.push_back(char(v));
        return *this;
    }
    Bytes& u16(uint16_t v) { return u8(uint8_t(v)).u8(uint8_t(v >> 8)); }
    Bytes& varint(uint64_t v) {
        for (; v >= 0x80; v >>= 7) u8(uint8_t(v | 0x80));
        return u8(uint8_t(v));
    }
    Bytes& v4(uint32_t host_order) {
        return u8(uint8_t(host_order >> 24)).u8(uint8_t(host_order >> 16)).u8(uint8_t(host_order >> 8)).u8(uint8_t(host_order));
    }
};

// The header and window fields: version, then index 7, next_index 8,
// workers 2, packets 100, transit 5, first and last packet 1000 and 2000.
inline Bytes header(uint16_t version = 1) {
    Bytes b;
    b.raw("SGWS").u16(version);
    for (uint64_t v : {7, 8, 2, 100, 5, 1000, 2000}) b.varint(v);
    return b;
}

enum Part { kHosts, kTargets, kPairs, kServices, kScans, kSweeps, kParts };

// A whole message whose parts are empty (varint 0, varint 0) but `part`.
inline std::string message(Part part = kParts, const Bytes& contents = {}) {
    Bytes b = header();
    for (int p = 0; p < kParts; ++p) {
        if (p == part) b.raw(contents.s);
        else b.varint(0).varint(0);
    }
    return b.s;
}

// Decoding into a summary that holds something must fail with a message
// containing every fragment, and leave the summary cleared.
inline void check_refused(const std::string& bytes, std::initializer_list<std::string_view> fragments) {
    static const Summary before = random_summary(99);
    auto out = copy_of(*before);
    const Result<> r = decode_window(bytes, *out);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    for (std::string_view f : fragments) CHECK(r.error().message.find(f) != std::string::npos);
    CHECK(is_cleared(*out));
}

} // namespace sg::fleet::codec_test
