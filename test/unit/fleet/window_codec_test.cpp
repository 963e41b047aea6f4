// The window codec: what a decoded summary holds and does (round trips,
// merges, further counting). Refusals: window_codec_refusals_test.cpp;
// sizes and costs: window_codec_sizes_test.cpp.
#include "fleet/window_codec.hpp"

#include "window_codec_harness.hpp"

using namespace sg;
using namespace sg::fleet::codec_test;

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
