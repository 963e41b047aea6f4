// After create(), the stream tracker must not allocate: connections with
// in-order, retransmitted, out-of-order and lost segments, closes and flow
// ends, more connections than buffers. Counted with the replaced global
// operator new of this test binary (alloc_counter.cpp).

#include "stream/stream_tracker.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "../alloc_counter.hpp"

namespace {

sg::PacketView segment(const sg::Flow& flow, unsigned dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len) {
    sg::PacketView pv = sg::stream_end_packet(flow, dir);
    pv.tcp_flags = flags;
    pv.tcp_seq = seq;
    pv.tcp_ack = ack;
    pv.payload_offset = 0;
    pv.payload_len = len;
    return pv;
}

} // namespace

TEST_CASE("on_packet, inspected, at_flow_end and release allocate nothing") {
    // The counting operator new must see allocations, or this test proves nothing.
    sg::test::g_counting = true;
    void* volatile probe = ::operator new(16);
    ::operator delete(probe);
    sg::test::g_counting = false;
    REQUIRE(sg::test::g_news == 1);

    sg::StreamConfig cfg;
    cfg.buffers = 8;
    cfg.buffer_size = 8192;
    auto tracker = sg::StreamTracker::create(cfg);
    REQUIRE(tracker);
    std::array<uint8_t, 1500> data{};
    data.fill('x');

    sg::test::g_news = 0;
    sg::test::g_counting = true;
    for (unsigned conn = 0; conn < 20; ++conn) { // more connections than buffers
        sg::Flow flow;
        flow.key.proto = sg::kProtoTcp;
        flow.tcp_flags_seen[0] = sg::kTcpSyn;
        const uint32_t isn[2] = {conn * 7919u, 0xfffff000u + conn};
        auto run = [&](unsigned dir, uint8_t flags, uint32_t off, uint32_t peer_off, uint16_t len) {
            const sg::PacketView pv = segment(flow, dir, flags, isn[dir] + 1 + off, isn[1 - dir] + 1 + peer_off, len);
            const sg::StreamInspection insp = (*tracker)->on_packet(flow, dir, pv, data.data());
            (*tracker)->inspected(flow, dir, insp);
        };
        run(0, sg::kTcpSyn, -1u, 0, 0);
        run(1, sg::kTcpSyn | sg::kTcpAck, -1u, 0, 0);
        for (uint32_t i = 0; i < 40; ++i) {
            const uint32_t off = i * 1400;
            if (i % 7 == 3) continue;                  // lost: a gap once ACKed
            if (i % 5 == 1) run(0, sg::kTcpAck, off, 0, 1400); // sent twice
            run(0, sg::kTcpAck | sg::kTcpPsh, off, 0, 1400);
            if (i % 2) run(1, sg::kTcpAck, 0, off + 1400, 0);
        }
        if (conn % 2) run(0, sg::kTcpAck | sg::kTcpFin, 40 * 1400, 0, 0);
        sg::StreamInspection end[2] = {(*tracker)->at_flow_end(flow, 0), (*tracker)->at_flow_end(flow, 1)};
        (*tracker)->release(flow, end);
    }
    sg::test::g_counting = false;
    CHECK(sg::test::g_news == 0);
    CHECK((*tracker)->free_buffers() == 8);
    CHECK((*tracker)->counters().gaps > 0);
    CHECK((*tracker)->counters().retransmitted > 0);
}
