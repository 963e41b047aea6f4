// The window codec: what a decoded summary holds and does (round trips,
// merges, further counting), every way a message can be refused, and the
// size of typical windows on the wire.
#include "fleet/window_codec.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "../detect/detect_harness.hpp"

using namespace sg;
using namespace sg::test;
using sg::fleet::decode_window;
using sg::fleet::encode_window;

namespace {

using Summary = std::unique_ptr<WindowSummary>;

Summary empty_summary() {
    auto s = std::make_unique<WindowSummary>();
    s->clear();
    return s;
}

Summary copy_of(const WindowSummary& w) {
    auto s = std::make_unique<WindowSummary>();
    *s = w;
    return s;
}

std::string encoded(const WindowSummary& w) {
    std::string bytes;
    encode_window(w, bytes);
    return bytes;
}

Summary decoded(const std::string& bytes) {
    auto s = std::make_unique<WindowSummary>();
    const Result<> r = decode_window(bytes, *s);
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return s;
}

Summary round_trip(const WindowSummary& w) { return decoded(encoded(w)); }

// ---- Comparing summaries ---------------------------------------------------------

std::string text(const IpAddress& a) { return a.to_string(); }
std::string text(const TrafficCounters& c) {
    return fmt::format("{}/{}/{}/{}/{}/{}/{}/{}", c.packets, c.bytes, c.syn, c.synack, c.rst, c.udp, c.icmp,
                       c.fragments);
}
std::string text(const PacketBytes& p) { return fmt::format("{}/{}", p.packets, p.bytes); }
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
std::string text(const AddressKey& k) { return text(k.ip); }
std::string text(const PairKey& k) { return text(k.src) + ">" + text(k.dst); }
std::string text(const ServiceKey& k) { return fmt::format("{}>{}:{} {}", text(k.src), text(k.dst), k.port, text(k.pad)); }
std::string text(const SweepKey& k) {
    return fmt::format("{} port {} dep {} proto {} {}", text(k.src), k.port, k.target_deployment, k.proto, text(k.pad));
}
std::string text(const TargetStats& t) { return fmt::format("{} {} {}", text(t.in), t.synack_out, text(t.sources)); }
std::string text(const NoPayload&) { return ""; }
std::string text(const ServiceStats& s) { return fmt::format("{}/{}/{}/{}", s.attempts, s.established, s.failed, s.ended); }
std::string text(const ScanStats& s) {
    return fmt::format("{}/{}/{} {}", s.probes, s.answered, s.established, text(s.ports));
}
std::string text(const SweepStats& s) {
    return fmt::format("{}/{}/{} {}", s.probes, s.answered, s.established, text(s.targets));
}
std::string text(const HostStats& h) {
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
std::vector<std::string> canonical(const WindowSummary& w) {
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
std::vector<std::string> iteration_order(const WindowSummary& w) {
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

std::string first_difference(const char* what, const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (a[i] != b[i]) return fmt::format("{}, line {}:\n  {}\n  {}", what, i, a[i].substr(0, 300), b[i].substr(0, 300));
    if (a.size() != b.size()) return fmt::format("{}: {} lines against {}", what, a.size(), b.size());
    return "";
}

// "" when a and b hold the same and iterate in the same order.
std::string differences(const WindowSummary& a, const WindowSummary& b) {
    std::string d = first_difference("contents", canonical(a), canonical(b));
    if (d.empty()) d = first_difference("iteration order", iteration_order(a), iteration_order(b));
    return d;
}

bool is_cleared(const WindowSummary& w) { return differences(w, *empty_summary()).empty(); }

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

Summary random_summary(uint64_t seed) {
    auto s = std::make_unique<WindowSummary>();
    RandomSummary(seed).fill(*s);
    return s;
}

// ---- Summaries from real counting ------------------------------------------------

// The fullest window a one-worker sensor counted from `t`.
Summary counted(const Traffic& t) {
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
Traffic quiet_traffic() {
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
Traffic syn_flood_traffic() {
    Traffic t;
    t.spread(10'000, kT0 + 10 * kMs, 900 * kMs,
             [](uint64_t i) { return tcp(spoofed(uint32_t(i)), uint16_t(1024 + i % 60000), web_host(1), 80, kTcpSyn); });
    return t;
}

// One outside source: ports 1-1000 of a web server (three open), then
// port 22 of 250 web servers (none answers).
Traffic scan_traffic() {
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
Summary worst_case_summary() {
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
Bytes header(uint16_t version = 1) {
    Bytes b;
    b.raw("SGWS").u16(version);
    for (uint64_t v : {7, 8, 2, 100, 5, 1000, 2000}) b.varint(v);
    return b;
}

enum Part { kHosts, kTargets, kPairs, kServices, kScans, kSweeps, kParts };

// A whole message whose parts are empty (varint 0, varint 0) but `part`.
std::string message(Part part = kParts, const Bytes& contents = {}) {
    Bytes b = header();
    for (int p = 0; p < kParts; ++p) {
        if (p == part) b.raw(contents.s);
        else b.varint(0).varint(0);
    }
    return b.s;
}

// Decoding into a summary that holds something must fail with a message
// containing every fragment, and leave the summary cleared.
void check_refused(const std::string& bytes, std::initializer_list<std::string_view> fragments) {
    static const Summary before = random_summary(99);
    auto out = copy_of(*before);
    const Result<> r = decode_window(bytes, *out);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    for (std::string_view f : fragments) CHECK(r.error().message.find(f) != std::string::npos);
    CHECK(is_cleared(*out));
}

} // namespace

// ---- 1. Round trips ----------------------------------------------------------------

TEST_CASE("window codec: a decoded summary holds what was encoded and iterates in the same order", "[fleet]") {
    SECTION("empty") {
        const Summary w = empty_summary();
        CHECK(differences(*round_trip(*w), *w) == "");
    }
    SECTION("random summaries: IPv4 and IPv6 keys, tables from empty to full after evictions") {
        unsigned full_tables = 0, errors = 0, v6_keys = 0, overflowed = 0;
        for (uint64_t seed = 1; seed <= 24; ++seed) {
            INFO("seed " << seed);
            const Summary w = random_summary(seed);
            full_tables += w->targets.full() + w->pairs.full() + w->services.full() + w->scans.full() + w->sweeps.full();
            w->pairs.for_each([&](const auto& e) {
                errors += e.error > 0;
                v6_keys += !e.key.src.is_v4();
            });
            overflowed += w->hosts.overflow() > 0;
            const std::string bytes = encoded(*w);
            const Summary back = decoded(bytes);
            CHECK(differences(*back, *w) == "");
            CHECK(encoded(*back) == bytes);
        }
        // The seeds reach what the test is about.
        CHECK(full_tables >= 20);
        CHECK(errors > 0);
        CHECK(v6_keys > 0);
        CHECK(overflowed > 0);
    }
    SECTION("windows from real counting: quiet, SYN flood, scan") {
        for (const Traffic& t : {quiet_traffic(), syn_flood_traffic(), scan_traffic()}) {
            const Summary w = counted(t);
            CHECK(differences(*round_trip(*w), *w) == "");
        }
    }
    SECTION("decoding replaces whatever the block held") {
        const Summary a = random_summary(5), b = random_summary(6);
        auto out = copy_of(*a);
        REQUIRE(decode_window(encoded(*b), *out).ok());
        CHECK(differences(*out, *b) == "");
    }
}

TEST_CASE("window codec: hosts whose probe runs wrap around the table's end keep their slots", "[fleet]") {
    // Hosts whose home slot is one of the last two: their run wraps to slot 0.
    auto w = empty_summary();
    std::vector<IpAddress> wrapping;
    for (uint32_t i = 0; wrapping.size() < 6; ++i) {
        const IpAddress ip = web_host(i);
        if ((uint32_t(summary_hash(ip)) & (HostTable::kCapacity - 1)) >= HostTable::kCapacity - 2)
            wrapping.push_back(ip);
    }
    // A host at home slot 0..2 inserted first would be displaced by nothing;
    // inserted last it goes behind the wrapped ones: both orders.
    for (bool home_first : {true, false}) {
        w->clear();
        std::vector<IpAddress> low;
        for (uint32_t i = 0; low.size() < 3; ++i) {
            const IpAddress ip = corp_host(i);
            if ((uint32_t(summary_hash(ip)) & (HostTable::kCapacity - 1)) < 3) low.push_back(ip);
        }
        const auto put = [&](const std::vector<IpAddress>& ips) {
            for (const IpAddress& ip : ips) w->hosts.get(ip, summary_hash(ip), kWeb)->in.packets = 1;
        };
        if (home_first) put(low);
        put(wrapping);
        if (!home_first) put(low);
        CHECK(differences(*round_trip(*w), *w) == "");
    }
}

// ---- 2. Exact merges ---------------------------------------------------------------

TEST_CASE("window codec: merging decoded summaries is merging the originals", "[fleet]") {
    // Returns whether the merged hosts overflowed (which hosts stay then
    // depends on the order merge() visits them).
    const auto check_merge = [](const WindowSummary& a, const WindowSummary& b) {
        auto direct = copy_of(a);
        direct->merge(b);
        auto via_wire = round_trip(a);
        via_wire->merge(*round_trip(b));
        CHECK(differences(*via_wire, *direct) == "");
        // The aggregator merges into what it holds: a local summary too.
        auto mixed = copy_of(a);
        mixed->merge(*round_trip(b));
        CHECK(differences(*mixed, *direct) == "");
        return direct->hosts.overflow() > a.hosts.overflow() + b.hosts.overflow();
    };
    SECTION("random pairs, hosts overflowing the merged table included") {
        unsigned overflowed = 0;
        for (uint64_t seed = 100; seed < 112; ++seed) {
            INFO("seeds " << seed << " and " << seed + 50);
            overflowed += check_merge(*random_summary(seed), *random_summary(seed + 50));
        }
        CHECK(overflowed > 0);
    }
    SECTION("two appliances' windows from real counting") {
        const Summary flood = counted(syn_flood_traffic()), scan = counted(scan_traffic());
        check_merge(*flood, *scan);
        check_merge(*scan, *flood);
        check_merge(*flood, *flood);
    }
}

TEST_CASE("window codec: counting on in a decoded summary goes exactly as in the original", "[fleet]") {
    unsigned full_pairs = 0;
    for (uint64_t seed = 200; seed < 206; ++seed) {
        INFO("seed " << seed);
        const Summary original = random_summary(seed);
        full_pairs += original->pairs.full();  // new keys evict there
        auto a = copy_of(*original);
        auto b = round_trip(*original);
        // The same further counting into both: new keys evict the minimum
        // of full tables, known keys grow, hosts join until the table is full.
        const Summary extra = random_summary(seed + 1000);
        const auto count_on = [&](WindowSummary& into) {
            std::mt19937_64 rng(seed);
            extra->pairs.for_each([&](const auto& e) { into.pairs.add(e.key, e.hash, rng() % 3); });
            extra->targets.for_each([&](const auto& e) { into.targets.add(e.key, e.hash, 1).sources.add(rng()); });
            extra->scans.for_each([&](const auto& e) {
                if (rng() % 4 == 0) into.scans.add(e.key, e.hash, 2).ports.add(rng());
            });
            extra->hosts.for_each([&](const HostStats& h) {
                if (HostStats* mine = into.hosts.get(h.ip, summary_hash(h.ip), h.deployment)) ++mine->in.packets;
            });
        };
        count_on(*a);
        count_on(*b);
        CHECK(differences(*a, *b) == "");
        // top() in the same order (it is the detectors' and the CLI's view).
        std::array<const decltype(a->pairs)::Entry*, 32> top_a{}, top_b{};
        const unsigned n = a->pairs.top(top_a);
        REQUIRE(b->pairs.top(top_b) == n);
        for (unsigned i = 0; i < n; ++i) {
            CHECK(text(top_a[i]->key) == text(top_b[i]->key));
            CHECK(top_a[i]->count == top_b[i]->count);
        }
    }
    CHECK(full_pairs > 0);
}

// ---- 3. Refused messages -----------------------------------------------------------

TEST_CASE("window codec: the documented layout, byte by byte", "[fleet]") {
    SECTION("header and window") {
        const Summary w = decoded(message());
        CHECK(w->index == 7);
        CHECK(w->next_index == 8);
        CHECK(w->workers == 2);
        CHECK(w->packets == 100);
        CHECK(w->transit_packets == 5);
        CHECK(w->first_packet == 1000);
        CHECK(w->last_packet == 2000);
        // Magic, version, five one-byte and two two-byte varints, two per part.
        CHECK(message().size() == 4 + 2 + 5 + 2 * 2 + 2 * 6);
    }
    SECTION("a host: IPv4, sparse and dense HyperLogLogs, one reflection service") {
        Bytes host;
        host.varint(3).varint(1);                    // overflow 3, one host
        host.u8(0b00101);                            // IPv4; peers_in sparse, ports_in dense, the rest sparse
        host.v4(0x0a010002).varint(1);               // 10.1.0.2, deployment 1
        for (uint64_t v : {10, 1500, 2, 0, 0, 8, 0, 0}) host.varint(v);  // in
        for (uint64_t v : {1, 60, 0, 1, 0, 0, 0, 0}) host.varint(v);     // out
        host.varint(2).u16(3 << 6 | 1).u16(63 << 6 | 59);                   // peers_in: r3 = 1, r63 = 59
        for (unsigned i = 0; i < 64; ++i) host.u8(uint8_t(i % 4 + 1));     // ports_in dense
        host.varint(0).varint(0);                                           // peers_out, ports_out empty
        host.varint(1 << 1);                                                // dns
        for (uint64_t v : {8, 480, 0, 0, 0, 0, 0, 0}) host.varint(v);
        const Summary w = decoded(message(kHosts, host));
        REQUIRE(w->hosts.size() == 1);
        CHECK(w->hosts.overflow() == 3);
        const HostStats* h = w->hosts.find(web_host(2), summary_hash(web_host(2)));
        REQUIRE(h);
        CHECK(h->deployment == 1);
        CHECK(h->in.bytes == 1500);
        CHECK(h->in.udp == 8);
        CHECK(h->out.synack == 1);
        CHECK(h->peers_in.registers()[3] == 1);
        CHECK(h->peers_in.registers()[63] == 59);
        CHECK(h->ports_in.registers()[5] == 2);
        CHECK(h->peers_out.empty());
        CHECK(h->reflection[1].requests_in.packets == 8);
        CHECK(h->reflection[1].requests_in.bytes == 480);
        CHECK(encoded(*w) == message(kHosts, host));
    }
    SECTION("a pair and a sweep: IPv6 in 16 bytes, IPv4 in 4, hashes recomputed") {
        const IpAddress v6 = addr("2001:db8::1");
        Bytes pairs;
        pairs.varint(9).varint(1).u8(0b10).raw({reinterpret_cast<const char*>(v6.bytes.data()), 16});
        pairs.v4(0x0a010005).varint(9).varint(2);
        const Summary w = decoded(message(kPairs, pairs));
        const PairKey key{v6, web_host(5)};
        const auto* e = w->pairs.find(key, summary_hash(key));
        REQUIRE(e);
        CHECK(e->count == 9);
        CHECK(e->error == 2);
        CHECK(w->pairs.total() == 9);

        Bytes sweeps;
        sweeps.varint(4).varint(1).u8(0b01).v4(0xc6120001).u16(22).varint(1).u8(6);
        sweeps.varint(4).varint(0).varint(4).varint(0).varint(0).varint(1).u16(7 << 6 | 2);
        const Summary s = decoded(message(kSweeps, sweeps));
        SweepKey k;
        k.src = outside_host(1);
        k.port = 22;
        k.target_deployment = kCorp;
        k.proto = kProtoTcp;
        const auto* sw = s->sweeps.find(k, summary_hash(k));
        REQUIRE(sw);
        CHECK(sw->value.probes == 4);
        CHECK(sw->value.targets.registers()[7] == 2);
    }
}

TEST_CASE("window codec: every malformed message is refused with its byte offset and the block cleared", "[fleet]") {
    SECTION("truncated at every byte of real encodings") {
        const Summary scan = counted(scan_traffic());
        const Summary encodings[] = {copy_of(*scan), random_summary(7)};
        for (const Summary& w : encodings) {
            const std::string bytes = encoded(*w);
            auto out = empty_summary();
            size_t bad = 0;
            for (size_t len = 0; len < bytes.size(); ++len) {
                out->hosts.get(web_host(1), summary_hash(web_host(1)), kWeb);  // something to clear
                const Result<> r = decode_window(std::string_view(bytes).substr(0, len), *out);
                const bool refused_well = !r.ok() && r.error().message.find("truncated") != std::string::npos &&
                                          out->hosts.size() == 0 && out->pairs.size() == 0 && out->packets == 0;
                if (!refused_well && bad++ < 5) {
                    INFO("cut at " << len << " of " << bytes.size() << ": " << (r.ok() ? "accepted" : r.error().message));
                    CHECK(refused_well);
                }
            }
            CHECK(bad == 0);
        }
    }
    SECTION("header") {
        std::string wrong = message();
        wrong[3] = 'X';
        check_refused(wrong, {"byte 0", "no SGWS magic"});
        check_refused(header(2).s, {"byte 4", "version 2; this build reads version 1"});
        check_refused(message() + "x", {"byte 27 (end)", "1 more byte after the summary"});
        check_refused(message() + "xyz", {"3 more bytes after the summary"});
        Bytes workers;
        workers.raw("SGWS").u16(1).varint(0).varint(0).varint(uint64_t(1) << 32);
        check_refused(workers.s, {"byte 8", "workers is 4294967296, more than 4294967295"});
        Bytes long_varint;
        long_varint.raw("SGWS").u16(1).raw("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02");
        check_refused(long_varint.s, {"byte 6", "index: a varint over 64 bits"});
        check_refused("", {"byte 0", "truncated in the magic"});
    }
    SECTION("counts over a table's capacity") {
        check_refused(message(kHosts, Bytes().varint(0).varint(769)), {"byte 16 (hosts)", "the number of hosts is 769, more than 768"});
        check_refused(message(kTargets, Bytes().varint(0).varint(257)), {"(targets)", "more than 256"});
        check_refused(message(kPairs, Bytes().varint(0).varint(1025)), {"(pairs)", "more than 1024"});
        check_refused(message(kSweeps, Bytes().varint(0).varint(513)), {"(sweeps)", "more than 512"});
        Bytes registers;
        registers.varint(1).varint(1).u8(0b011).v4(1).v4(2).varint(1).varint(0).varint(1).varint(0).varint(0);
        registers.varint(513);
        check_refused(message(kScans, registers), {"(scans entry 0)", "ports is 513, more than 512"});
    }
    SECTION("values out of range") {
        const auto pair = [](uint8_t flags, uint64_t count, uint64_t error, uint64_t total = 100) {
            return Bytes().varint(total).varint(1).u8(flags).v4(1).v4(2).varint(count).varint(error);
        };
        check_refused(message(kPairs, pair(0b111, 1, 0)), {"(pairs entry 0)", "unknown flag bits in 0x07"});
        check_refused(message(kPairs, pair(0b11, 5, 6)), {"error 6 above count 5"});
        check_refused(message(kPairs, pair(0b11, 101, 0)), {"the counts add up to more than the total 100"});
        const auto scan_with_ports = [](const Bytes& ports, uint8_t flags = 0b011) {
            Bytes b;
            b.varint(1).varint(1).u8(flags).v4(1).v4(2).varint(1).varint(0).varint(1).varint(0).varint(0);
            return message(kScans, b.raw(ports.s));
        };
        check_refused(scan_with_ports(Bytes().varint(1).u16(512 << 6 | 1)), {"ports: register 512 of 512"});
        check_refused(scan_with_ports(Bytes().varint(1).u16(3 << 6 | 57)), {"ports: register value 57 out of 1..56"});
        check_refused(scan_with_ports(Bytes().varint(1).u16(3 << 6 | 0)), {"register value 0 out of 1..56"});
        check_refused(scan_with_ports(Bytes().varint(2).u16(4 << 6 | 1).u16(4 << 6 | 2)), {"ports: registers out of order"});
        Bytes dense;
        for (unsigned i = 0; i < 512; ++i) dense.u8(i == 300 ? 57 : 1);
        check_refused(scan_with_ports(dense, 0b111), {"register value 57 out of 1..56"});

        Bytes host;
        host.varint(0).varint(1).u8(1).v4(0x0a010001).varint(0x10000);
        check_refused(message(kHosts, host), {"(hosts entry 0)", "the deployment is 65536, more than 65535"});
        Bytes reflection;
        reflection.varint(0).varint(1).u8(1).v4(0x0a010001).varint(0);
        for (int i = 0; i < 16; ++i) reflection.varint(0);
        for (int i = 0; i < 4; ++i) reflection.varint(0);
        reflection.varint(1 << 10);
        check_refused(message(kHosts, reflection), {"reflection mask 0x400 names services past the 10 known"});
        Bytes sweep;
        sweep.varint(1).varint(1).u8(1).v4(1).u16(22).varint(0x10000);
        check_refused(message(kSweeps, sweep), {"(sweeps entry 0)", "the target deployment is 65536"});
    }
    SECTION("a key or host listed twice") {
        Bytes pairs;
        pairs.varint(2).varint(2);
        for (int i = 0; i < 2; ++i) pairs.u8(0b11).v4(1).v4(2).varint(1).varint(0);
        check_refused(message(kPairs, pairs), {"(pairs entry 1)", "the key is listed twice"});
        Bytes hosts;
        hosts.varint(0).varint(2);
        for (int i = 0; i < 2; ++i) {
            hosts.u8(1).v4(0x0a010001).varint(0);
            for (int j = 0; j < 16 + 4 + 1; ++j) hosts.varint(0);
        }
        check_refused(message(kHosts, hosts), {"(hosts entry 1)", "host 10.1.0.1 listed twice"});
    }
    SECTION("random damage: refused cleanly, or accepted and stable when re-encoded") {
        const std::string good = encoded(*counted(quiet_traffic()));
        std::mt19937_64 rng(11);
        auto out = empty_summary(), again = empty_summary();
        unsigned accepted = 0;
        for (int round = 0; round < 3000; ++round) {
            std::string bytes = good;
            for (uint64_t n = 1 + rng() % 3; n > 0; --n) bytes[rng() % bytes.size()] = char(rng());
            const Result<> r = decode_window(bytes, *out);
            if (!r.ok()) {
                CHECK(r.error().message.rfind("byte ", 0) == 0);
                continue;
            }
            ++accepted;
            const std::string once = encoded(*out);
            REQUIRE(decode_window(once, *again).ok());
            CHECK(encoded(*again) == once);
        }
        CHECK(accepted > 0);  // counters changed, say: the re-encoding path ran
    }
}

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
