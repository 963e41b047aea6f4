// After create(), the flow table must not allocate: a flood of new flows,
// evictions, timeouts and flushes run on memory reserved at start. Counted
// two ways: the C++ heap (global operator new, replaced in alloc_counter.cpp for this test
// binary) and DPDK's heap (rte_malloc statistics of every socket).

#include <cstdlib>
#include <new>

#include <catch2/catch.hpp>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "flow_test_util.hpp"
#include "../alloc_counter.hpp"

using namespace sg;
using namespace sg::test;

namespace {

size_t dpdk_heap_bytes_in_use() {
    size_t total = 0;
    for (unsigned i = 0; i < rte_socket_count(); ++i) {
        rte_malloc_socket_stats st{};
        if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
            total += st.heap_allocsz_bytes;
    }
    return total;
}

struct EndCounts {
    unsigned long idle = 0, evicted = 0, flushed = 0, reused = 0;
};

void count_end(void* ctx, const Flow&, FlowEnd why) {
    auto* c = static_cast<EndCounts*>(ctx);
    switch (why) {
    case FlowEnd::idle_timeout: ++c->idle; break;
    case FlowEnd::evicted: ++c->evicted; break;
    case FlowEnd::flushed: ++c->flushed; break;
    case FlowEnd::reused: ++c->reused; break;
    }
}

} // namespace

TEST_CASE("track, expire and flush allocate nothing, whatever the traffic") {
    // The counting operator new must see allocations, or this test proves nothing.
    g_counting = true;
    void* volatile probe = ::operator new(16);
    ::operator delete(probe);
    g_counting = false;
    REQUIRE(g_news == 1);
    g_news = 0;

    EndCounts ends;
    FlowTableConfig cfg;
    cfg.capacity = 4096;
    cfg.udp_idle = 10 * kNsPerSec;
    cfg.tcp_closed_idle = kNsPerSec;
    const std::string name = unique_table_name();
    cfg.name = name.c_str();
    auto made = FlowTable::create(cfg, &count_end, &ends);
    REQUIRE(made.ok());
    FlowTable& table = *made.value();

    const size_t dpdk_before = dpdk_heap_bytes_in_use();
    uint64_t max_active = 0;
    Nanos t = 1'000 * kNsPerSec;
    const Endpoint server{ip4(0x0a000002), 443};

    g_counting = true;
    for (uint32_t i = 0; i < 200'000; ++i) {
        // A spoofed-source flood (always new flows), interleaved with a
        // handful of recurring sessions that open, reset and reuse ports.
        // 2,500 new flows a second: half-open TCP (1 s) times out before
        // the table fills, UDP (10 s) fills it and is evicted.
        const bool flood = i % 4 != 0;
        const Endpoint src{ip4(flood ? 0x20000000 + i : 0x0a0000c8 + i % 16), uint16_t(1024 + i % 7)};
        const uint8_t proto = i % 3 == 0 ? kProtoUdp : kProtoTcp;
        const uint8_t flags = flood ? kTcpSyn : uint8_t(i % 5 == 0 ? kTcpRst : kTcpSyn);
        const PacketView pv = packet(src, server, proto, flags, 64);
        bool from_a = false;
        const FlowKey key = make_flow_key(pv, from_a);
        unsigned dir = 0;
        bool created = false;
        table.track(key, FlowTable::flow_hash(key), from_a, pv, 128, t, dir, created);
        max_active = std::max(max_active, table.counters().active);
        t += 300 * kNsPerUs;
        if (i % 1000 == 0) table.expire(t, 64);
        if (i % 50'000 == 49'999) table.flush();
    }
    g_counting = false;

    CHECK(g_news == 0);
    CHECK(dpdk_heap_bytes_in_use() == dpdk_before);
    CHECK(max_active <= cfg.capacity);
    CHECK(max_active == cfg.capacity); // the flood did fill the table
    const FlowTableCounters& c = table.counters();
    CHECK(c.evicted > 0);
    CHECK(c.expired > 0);
    CHECK(c.insert_failed == 0);
    CHECK(ends.evicted == c.evicted);
    CHECK(ends.idle == c.expired);
    CHECK(ends.reused == c.reused);
    // Every flow created either ended or is still in the table.
    CHECK(c.created == ends.idle + ends.evicted + ends.flushed + ends.reused + c.active);
}
