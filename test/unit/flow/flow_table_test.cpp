#include "flow/flow_table.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <rte_log.h>

#include "flow_test_util.hpp"

using namespace sg;
using namespace sg::test;

namespace {

constexpr Nanos kT0 = 1'700'000'000 * kNsPerSec; // a plausible capture time

const Endpoint kLow{ip4(0x0a000001), 40000};   // 10.0.0.1:40000
const Endpoint kHigh{ip4(0x0a000002), 80};     // 10.0.0.2:80

} // namespace

TEST_CASE("Both directions of a conversation are one flow, counted per direction") {
    // The initiator may be either canonical endpoint: direction must follow
    // who spoke first, not which address is lower.
    const bool client_is_low = GENERATE(true, false);
    const Endpoint client = client_is_low ? kLow : kHigh;
    const Endpoint server = client_is_low ? kHigh : kLow;
    TableHarness h;

    const Seen q1 = h.send(packet(client, server, kProtoUdp, 0, 10), kT0, 60);
    const Seen q2 = h.send(packet(client, server, kProtoUdp, 0, 12), kT0 + 1 * kNsPerMs, 62);
    const Seen r1 = h.send(packet(server, client, kProtoUdp, 0, 200), kT0 + 2 * kNsPerMs, 250);

    CHECK(q1.created);
    CHECK_FALSE(q2.created);
    CHECK_FALSE(r1.created);
    CHECK(q1.flow == r1.flow);
    CHECK(q1.dir == 0);
    CHECK(q2.dir == 0);
    CHECK(r1.dir == 1);

    const Flow& f = *r1.flow;
    CHECK(f.initiator_is_a == client_is_low);
    CHECK(f.packets[0] == 2);
    CHECK(f.packets[1] == 1);
    CHECK(f.bytes[0] == 122);
    CHECK(f.bytes[1] == 250);
    CHECK(f.payload_bytes[0] == 22);
    CHECK(f.payload_bytes[1] == 200);
    CHECK(f.first_seen == kT0);
    CHECK(f.last_seen == kT0 + 2 * kNsPerMs);
    CHECK(f.tcp_state == TcpState::none);
    CHECK(h.table->counters().created == 1);
    CHECK(h.table->counters().active == 1);
}

TEST_CASE("Both directions hash alike; different keys are different flows") {
    bool from_a = false;
    const FlowKey fwd = make_flow_key(packet(kLow, kHigh, kProtoTcp), from_a);
    CHECK(from_a);
    const FlowKey rev = make_flow_key(packet(kHigh, kLow, kProtoTcp), from_a);
    CHECK_FALSE(from_a);
    CHECK(fwd == rev);
    CHECK(FlowTable::flow_hash(fwd) == FlowTable::flow_hash(rev));

    FlowKey other_port = fwd;
    other_port.port_a += 1;
    CHECK(FlowTable::flow_hash(other_port) != FlowTable::flow_hash(fwd));

    // Same 5-tuple inside two overlays, the same ports over UDP and TCP, and
    // an IPv6 pair: five separate flows.
    TableHarness h;
    PacketView vni1 = packet(kLow, kHigh, kProtoTcp, kTcpSyn);
    vni1.tunnel.id = 1;
    PacketView vni2 = vni1;
    vni2.tunnel.id = 2;
    const Endpoint v6a{*IpAddress::parse("2001:db8::1"), 40000};
    const Endpoint v6b{*IpAddress::parse("2001:db8::2"), 80};
    std::set<Flow*> flows;
    for (const PacketView& pv : {packet(kLow, kHigh, kProtoTcp, kTcpSyn), vni1, vni2,
                                 packet(kLow, kHigh, kProtoUdp), packet(v6a, v6b, kProtoTcp, kTcpSyn)}) {
        const Seen s = h.send(pv, kT0);
        CHECK(s.created);
        flows.insert(s.flow);
    }
    CHECK(flows.size() == 5);
    CHECK(h.table->counters().active == 5);
}

TEST_CASE("TCP handshake, data and FIN from both sides: syn_sent to closed") {
    TableHarness h;
    const Endpoint c = kHigh, s = kLow; // the client is endpoint b
    Nanos t = kT0;

    Seen p = h.send(packet(c, s, kProtoTcp, kTcpSyn), t += kNsPerMs);
    CHECK(p.created);
    CHECK(p.dir == 0);
    CHECK_FALSE(p.flow->midstream);
    CHECK_FALSE(p.flow->initiator_is_a);
    CHECK(p.flow->tcp_state == TcpState::syn_sent);

    p = h.send(packet(s, c, kProtoTcp, kTcpSyn | kTcpAck), t += kNsPerMs);
    CHECK(p.dir == 1);
    CHECK(p.flow->tcp_state == TcpState::syn_received);

    p = h.send(packet(c, s, kProtoTcp, kTcpAck), t += kNsPerMs);
    CHECK(p.flow->tcp_state == TcpState::established);

    p = h.send(packet(c, s, kProtoTcp, kTcpAck | kTcpPsh, 300), t += kNsPerMs);
    p = h.send(packet(s, c, kProtoTcp, kTcpAck | kTcpPsh, 1400), t += kNsPerMs);
    CHECK(p.flow->tcp_state == TcpState::established);

    p = h.send(packet(c, s, kProtoTcp, kTcpFin | kTcpAck), t += kNsPerMs);
    CHECK(p.flow->tcp_state == TcpState::closing);
    p = h.send(packet(s, c, kProtoTcp, kTcpAck), t += kNsPerMs);
    CHECK(p.flow->tcp_state == TcpState::closing);
    p = h.send(packet(s, c, kProtoTcp, kTcpFin | kTcpAck), t += kNsPerMs);
    CHECK(p.flow->tcp_state == TcpState::closed);
    p = h.send(packet(c, s, kProtoTcp, kTcpAck), t += kNsPerMs);
    CHECK(p.flow->tcp_state == TcpState::closed);
    CHECK_FALSE(p.created);

    const Flow& f = *p.flow;
    CHECK(f.packets[0] == 5);
    CHECK(f.packets[1] == 4);
    CHECK(f.payload_bytes[0] == 300);
    CHECK(f.payload_bytes[1] == 1400);
    CHECK(f.tcp_flags_seen[0] == (kTcpSyn | kTcpAck | kTcpPsh | kTcpFin));
    CHECK(f.tcp_flags_seen[1] == (kTcpSyn | kTcpAck | kTcpPsh | kTcpFin));
    CHECK(h.table->counters().created == 1);
    CHECK(std::string(tcp_state_name(f.tcp_state)) == "closed");
}

TEST_CASE("RST resets a TCP flow, whatever comes after") {
    TableHarness h;
    SECTION("refused connection") {
        h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), kT0);
        const Seen p = h.send(packet(kHigh, kLow, kProtoTcp, kTcpRst | kTcpAck), kT0 + 1);
        CHECK(p.dir == 1);
        CHECK(p.flow->tcp_state == TcpState::reset);
    }
    SECTION("established connection aborted; later packets do not revive it") {
        h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), kT0);
        h.send(packet(kHigh, kLow, kProtoTcp, kTcpSyn | kTcpAck), kT0 + 1);
        h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0 + 2);
        Seen p = h.send(packet(kLow, kHigh, kProtoTcp, kTcpRst), kT0 + 3);
        CHECK(p.flow->tcp_state == TcpState::reset);
        p = h.send(packet(kHigh, kLow, kProtoTcp, kTcpAck, 10), kT0 + 4);
        CHECK_FALSE(p.created);
        CHECK(p.flow->tcp_state == TcpState::reset);
        p = h.send(packet(kHigh, kLow, kProtoTcp, kTcpFin | kTcpAck), kT0 + 5);
        CHECK(p.flow->tcp_state == TcpState::reset);
    }
    CHECK(h.table->counters().created == 1);
}

TEST_CASE("A flow first seen on its SYN-ACK is initiated by the SYN-ACK's receiver") {
    TableHarness h;
    // Server kLow answers client kHigh; the SYN was not captured.
    Seen p = h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn | kTcpAck), kT0);
    CHECK(p.created);
    CHECK(p.dir == 1);
    CHECK_FALSE(p.flow->initiator_is_a); // the client, endpoint b
    CHECK_FALSE(p.flow->midstream);
    CHECK(p.flow->tcp_state == TcpState::syn_received);
    CHECK(p.flow->packets[1] == 1);
    CHECK(p.flow->tcp_flags_seen[1] == (kTcpSyn | kTcpAck));

    p = h.send(packet(kHigh, kLow, kProtoTcp, kTcpAck), kT0 + 1);
    CHECK(p.dir == 0);
    CHECK(p.flow->tcp_state == TcpState::established);
}

TEST_CASE("TCP picked up mid-stream is established and keeps the established timeout") {
    FlowTableConfig cfg = config();
    cfg.tcp_idle = 100 * kNsPerSec;
    cfg.tcp_closed_idle = 5 * kNsPerSec;
    TableHarness h(cfg);
    Seen p = h.send(packet(kHigh, kLow, kProtoTcp, kTcpAck | kTcpPsh, 500), kT0);
    CHECK(p.created);
    CHECK(p.dir == 0); // no SYN: the first sender is taken as initiator
    CHECK(p.flow->midstream);
    CHECK(p.flow->tcp_state == TcpState::established);

    p = h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0 + 50 * kNsPerSec);
    CHECK_FALSE(p.created);
    CHECK(p.dir == 1);

    SECTION("a mid-stream FIN or RST still moves the state") {
        PacketView fin = packet(kLow, kHigh, kProtoTcp, kTcpFin | kTcpAck);
        p = h.send(fin, kT0 + 51 * kNsPerSec);
        CHECK(p.flow->tcp_state == TcpState::closing);
    }
}

TEST_CASE("The client's ACK completes a handshake whose SYN-ACK the tap did not see") {
    // Asymmetric routing: only the client side passes this sensor.
    TableHarness h;
    h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), kT0);
    const Seen p = h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck, 100), kT0 + 1);
    CHECK(p.flow->tcp_state == TcpState::established);
}

TEST_CASE("A new SYN on a closed or reset flow ends it and starts a new flow (port reuse)") {
    TableHarness h;
    Nanos t = kT0;
    const Seen first = h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), t++);
    const uint64_t first_id = first.flow->id;
    SECTION("after FIN both ways") {
        h.send(packet(kHigh, kLow, kProtoTcp, kTcpSyn | kTcpAck), t++);
        h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), t++);
        h.send(packet(kLow, kHigh, kProtoTcp, kTcpFin | kTcpAck), t++);
        const Seen p = h.send(packet(kHigh, kLow, kProtoTcp, kTcpFin | kTcpAck), t++);
        REQUIRE(p.flow->tcp_state == TcpState::closed);
    }
    SECTION("after RST") {
        const Seen p = h.send(packet(kHigh, kLow, kProtoTcp, kTcpRst | kTcpAck), t++);
        REQUIRE(p.flow->tcp_state == TcpState::reset);
    }
    // The client's retry comes from the same port.
    const Seen again = h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), t++);
    CHECK(again.created);
    CHECK(again.flow->id != first_id);
    CHECK(again.flow->tcp_state == TcpState::syn_sent);
    CHECK(again.flow->packets[0] == 1);
    CHECK(again.flow->packets[1] == 0);
    CHECK(again.flow->first_seen == t - 1);
    REQUIRE(h.ended.size() == 1);
    CHECK(h.ended[0].why == FlowEnd::reused);
    CHECK(h.ended[0].flow.id == first_id);
    CHECK(h.table->counters().reused == 1);
    CHECK(h.table->counters().created == 2);
    CHECK(h.table->counters().active == 1);
}

TEST_CASE("A retransmitted SYN or a SYN on a live flow does not start a new flow") {
    TableHarness h;
    h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), kT0);
    Seen p = h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), kT0 + kNsPerSec);
    CHECK_FALSE(p.created);
    CHECK(p.flow->tcp_state == TcpState::syn_sent);
    h.send(packet(kHigh, kLow, kProtoTcp, kTcpSyn | kTcpAck), kT0 + 2 * kNsPerSec);
    h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0 + 3 * kNsPerSec);
    p = h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), kT0 + 4 * kNsPerSec);
    CHECK_FALSE(p.created);
    CHECK(p.flow->tcp_state == TcpState::established);
    CHECK(h.ended.empty());
}

TEST_CASE("A flow found idle past its timeout is ended and a new one starts") {
    FlowTableConfig cfg = config();
    cfg.udp_idle = 10 * kNsPerSec;
    TableHarness h(cfg);
    const PacketView q = packet(kLow, kHigh, kProtoUdp, 0, 20);
    const Seen a = h.send(q, kT0);
    const uint64_t old_id = a.flow->id;
    // Exactly at the limit: still the same flow.
    const Seen b = h.send(q, kT0 + 10 * kNsPerSec);
    CHECK_FALSE(b.created);
    CHECK(b.flow->id == old_id);

    // The reply comes one nanosecond past the limit: a new flow, and its
    // sender is the new initiator.
    const Nanos late = kT0 + 20 * kNsPerSec + 1;
    const Seen c = h.send(packet(kHigh, kLow, kProtoUdp, 0, 5), late);
    CHECK(c.created);
    CHECK(c.dir == 0);
    CHECK(c.flow->id != old_id);
    CHECK(c.flow->first_seen == late);
    CHECK(c.flow->packets[0] == 1);
    CHECK(c.flow->packets[1] == 0);
    REQUIRE(h.ended.size() == 1);
    CHECK(h.ended[0].why == FlowEnd::idle_timeout);
    CHECK(h.ended[0].flow.id == old_id);
    CHECK(h.ended[0].flow.packets[0] == 2);
    CHECK(h.ended[0].flow.last_seen == kT0 + 10 * kNsPerSec);
    CHECK(h.table->counters().expired == 1);
    CHECK(h.table->counters().created == 2);
    CHECK(h.table->counters().active == 1);
}

TEST_CASE("Idle limits depend on protocol and TCP state") {
    FlowTableConfig cfg = config();
    cfg.tcp_idle = 100 * kNsPerSec;
    cfg.tcp_closed_idle = 5 * kNsPerSec;
    cfg.udp_idle = 20 * kNsPerSec;
    cfg.other_idle = 40 * kNsPerSec;
    TableHarness h(cfg);
    const Nanos gap = GENERATE(as<Nanos>{}, 6, 30, 60, 120);
    const Nanos g = gap * kNsPerSec;

    // Established TCP: 100 s.
    h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), kT0);
    h.send(packet(kHigh, kLow, kProtoTcp, kTcpSyn | kTcpAck), kT0);
    h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0);
    CHECK(h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0 + g).created == (g > cfg.tcp_idle));

    // Unanswered SYN: 5 s.
    const Endpoint c2{ip4(0x0a000003), 1234};
    h.send(packet(c2, kHigh, kProtoTcp, kTcpSyn), kT0);
    CHECK(h.send(packet(c2, kHigh, kProtoTcp, kTcpSyn), kT0 + g).created == (g > cfg.tcp_closed_idle));

    // UDP: 20 s.
    h.send(packet(kLow, kHigh, kProtoUdp), kT0);
    CHECK(h.send(packet(kLow, kHigh, kProtoUdp), kT0 + g).created == (g > cfg.udp_idle));

    // ICMP echo: 40 s.
    PacketView ping = packet({kLow.ip, 0}, {kHigh.ip, 0}, kProtoIcmp);
    ping.icmp_id = 7;
    h.send(ping, kT0);
    CHECK(h.send(ping, kT0 + g).created == (g > cfg.other_idle));
}

TEST_CASE("Out-of-order timestamps never move last_seen back or expire a flow") {
    FlowTableConfig cfg = config();
    cfg.udp_idle = 10 * kNsPerSec;
    TableHarness h(cfg);
    const PacketView q = packet(kLow, kHigh, kProtoUdp);
    h.send(q, kT0 + 5 * kNsPerSec);
    const Seen older = h.send(q, kT0); // from another queue, delivered late
    CHECK_FALSE(older.created);
    CHECK(older.flow->last_seen == kT0 + 5 * kNsPerSec);
    CHECK(older.flow->first_seen == kT0 + 5 * kNsPerSec);
    CHECK(h.table->expire(kT0 + 14 * kNsPerSec, 100) == 0);
    CHECK(h.table->expire(kT0 + 16 * kNsPerSec, 100) == 1);
}

TEST_CASE("expire() ends idle flows oldest first, within its budget") {
    FlowTableConfig cfg = config();
    cfg.udp_idle = 10 * kNsPerSec;
    TableHarness h(cfg);
    std::vector<uint64_t> ids;
    for (uint16_t i = 0; i < 5; ++i)
        ids.push_back(h.send(packet({kLow.ip, uint16_t(1000 + i)}, kHigh, kProtoUdp),
                             kT0 + (i + 1) * kNsPerSec).flow->id);
    // Touching the first flow again makes it the most recent.
    h.send(packet({kLow.ip, 1000}, kHigh, kProtoUdp), kT0 + 6 * kNsPerSec);

    const Nanos now = kT0 + 15 * kNsPerSec + 500 * kNsPerMs; // flows seen at 2..5 s are idle
    CHECK(h.table->expire(now, 0) == 0);
    CHECK(h.table->expire(now, 2) == 2);
    REQUIRE(h.ended.size() == 2);
    CHECK(h.ended[0].flow.id == ids[1]);
    CHECK(h.ended[1].flow.id == ids[2]);
    CHECK(h.table->expire(now, 100) == 2);
    REQUIRE(h.ended.size() == 4);
    CHECK(h.ended[2].flow.id == ids[3]);
    CHECK(h.ended[3].flow.id == ids[4]);
    for (const Ended& e : h.ended) CHECK(e.why == FlowEnd::idle_timeout);
    CHECK(h.table->expire(now, 100) == 0);
    CHECK(h.table->counters().expired == 4);
    CHECK(h.table->counters().active == 1);

    // The survivor is still the same flow.
    const Seen s = h.send(packet({kLow.ip, 1000}, kHigh, kProtoUdp), now);
    CHECK_FALSE(s.created);
    CHECK(s.flow->id == ids[0]);
}

TEST_CASE("expire() is not held up by an older flow with a longer timeout") {
    FlowTableConfig cfg = config();
    cfg.tcp_idle = 3600 * kNsPerSec;
    cfg.udp_idle = 10 * kNsPerSec;
    TableHarness h(cfg);
    // A quiet established TCP session is the oldest flow of all.
    h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0);
    for (uint16_t i = 0; i < 3; ++i)
        h.send(packet({kLow.ip, uint16_t(2000 + i)}, kHigh, kProtoUdp), kT0 + kNsPerSec);
    CHECK(h.table->expire(kT0 + 60 * kNsPerSec, 100) == 3);
    CHECK(h.table->counters().active == 1);
    for (const Ended& e : h.ended) CHECK(e.flow.key.proto == kProtoUdp);
}

TEST_CASE("A full table evicts the least recently seen flows and never grows") {
    FlowTableConfig cfg = config(64);
    TableHarness h(cfg);
    REQUIRE(h.table->capacity() == 64);
    constexpr unsigned kFlows = 640;
    const Endpoint hot{ip4(0xc0a80001), 53};
    uint64_t hot_id = 0;
    std::vector<uint64_t> created_ids;
    Nanos t = kT0;
    for (unsigned i = 0; i < kFlows; ++i) {
        // Spoofed-looking sources, each a new flow.
        const Endpoint src{ip4(0x0b000000 + i), uint16_t(1024 + i % 50000)};
        const Seen s = h.send(packet(src, kHigh, kProtoUdp), t += kNsPerMs);
        REQUIRE(s.created);
        created_ids.push_back(s.flow->id);
        REQUIRE(h.table->counters().active <= 64);
        if (i % 8 == 0) {
            const Seen keep = h.send(packet(hot, kHigh, kProtoUdp), t += kNsPerMs);
            if (i == 0) hot_id = keep.flow->id;
            CHECK(keep.flow->id == hot_id); // busy flows are never the victim
        }
    }
    const FlowTableCounters& c = h.table->counters();
    CHECK(c.active == 64);
    CHECK(c.created == kFlows + 1);
    CHECK(c.evicted == kFlows + 1 - 64);
    CHECK(c.expired == 0);
    REQUIRE(h.ended.size() == c.evicted);
    for (const Ended& e : h.ended) CHECK(e.why == FlowEnd::evicted);

    // Victims went oldest first: the evicted ones are exactly the oldest
    // spoofed flows, in creation order.
    for (size_t i = 0; i < h.ended.size(); ++i) CHECK(h.ended[i].flow.id == created_ids[i]);

    // The 63 most recent flows (plus the hot one) survived.
    const size_t before = h.ended.size();
    for (unsigned i = kFlows - 63; i < kFlows; ++i) {
        const Endpoint src{ip4(0x0b000000 + i), uint16_t(1024 + i % 50000)};
        CHECK_FALSE(h.send(packet(src, kHigh, kProtoUdp), t += kNsPerMs).created);
    }
    CHECK_FALSE(h.send(packet(hot, kHigh, kProtoUdp), t += kNsPerMs).created);
    CHECK(h.ended.size() == before);
}

TEST_CASE("When full, a flow already past its timeout makes room before a live one is evicted") {
    FlowTableConfig cfg = config(2);
    cfg.tcp_idle = 3600 * kNsPerSec;
    cfg.udp_idle = 10 * kNsPerSec;
    TableHarness h(cfg);
    const Seen tcp = h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0); // oldest, long timeout
    h.send(packet({kLow.ip, 53}, kHigh, kProtoUdp), kT0 + kNsPerSec);      // newer, idle by now
    h.send(packet({kLow.ip, 54}, kHigh, kProtoUdp), kT0 + 20 * kNsPerSec);
    REQUIRE(h.ended.size() == 1);
    CHECK(h.ended[0].why == FlowEnd::idle_timeout);
    CHECK(h.ended[0].flow.key.port_a == 53);
    CHECK(h.table->counters().expired == 1);
    CHECK(h.table->counters().evicted == 0);
    CHECK_FALSE(h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0 + 21 * kNsPerSec).created);
    (void)tcp;
}

TEST_CASE("Eviction takes the least recently seen flow, whatever its protocol or state") {
    TableHarness h(config(3));
    const Endpoint c{ip4(0x0a000009), 5555};
    h.send(packet(c, kHigh, kProtoUdp), kT0 + 1);             // oldest: the victim
    h.send(packet(c, kHigh, kProtoTcp, kTcpAck), kT0 + 2);    // established TCP
    h.send(packet(kLow, kHigh, kProtoTcp, kTcpSyn), kT0 + 3); // half-open TCP
    h.send(packet({kLow.ip, 1}, kHigh, kProtoUdp), kT0 + 4);
    REQUIRE(h.ended.size() == 1);
    CHECK(h.ended[0].why == FlowEnd::evicted);
    CHECK(h.ended[0].flow.key.proto == kProtoUdp);
    CHECK(h.ended[0].flow.last_seen == kT0 + 1);
    h.send(packet({kLow.ip, 2}, kHigh, kProtoUdp), kT0 + 5);
    REQUIRE(h.ended.size() == 2);
    CHECK(h.ended[1].flow.tcp_state == TcpState::established);
}

TEST_CASE("A table of capacity 1 holds exactly one flow") {
    TableHarness h(config(1));
    h.send(packet(kLow, kHigh, kProtoUdp), kT0);
    h.send(packet(kHigh, kLow, kProtoUdp), kT0 + 1);
    CHECK(h.table->counters().active == 1);
    h.send(packet({kLow.ip, 9}, kHigh, kProtoUdp), kT0 + 2);
    CHECK(h.table->counters().active == 1);
    CHECK(h.table->counters().evicted == 1);
    REQUIRE(h.ended.size() == 1);
    CHECK(h.ended[0].flow.packets[0] == 1);
    CHECK(h.ended[0].flow.packets[1] == 1);
}

TEST_CASE("flush() ends every flow, and the table is usable afterwards") {
    TableHarness h;
    for (uint16_t i = 0; i < 100; ++i) {
        h.send(packet({kLow.ip, uint16_t(3000 + i)}, kHigh, i % 2 ? kProtoUdp : kProtoTcp, kTcpSyn), kT0 + i);
    }
    h.send(packet(kLow, kHigh, kProtoTcp, kTcpAck), kT0); // a third class: established TCP
    REQUIRE(h.table->counters().active == 101);
    h.table->flush();
    CHECK(h.table->counters().active == 0);
    REQUIRE(h.ended.size() == 101);
    std::set<uint64_t> ids;
    for (const Ended& e : h.ended) {
        CHECK(e.why == FlowEnd::flushed);
        ids.insert(e.flow.id);
    }
    CHECK(ids.size() == 101);
    CHECK(h.table->counters().expired == 0);
    CHECK(h.table->counters().evicted == 0);

    h.table->flush(); // nothing left: nothing ends
    CHECK(h.ended.size() == 101);

    const Seen again = h.send(packet({kLow.ip, 3000}, kHigh, kProtoTcp, kTcpSyn), kT0 + 1000);
    CHECK(again.created);
    CHECK(ids.count(again.flow->id) == 0);
    CHECK(h.table->counters().active == 1);
    CHECK(h.table->counters().created == 102);
}

TEST_CASE("Flow ids are unique and never reused within a table") {
    FlowTableConfig cfg = config(16);
    cfg.udp_idle = kNsPerSec;
    TableHarness h(cfg);
    std::set<uint64_t> ids;
    uint64_t creations = 0;
    Nanos t = kT0;
    for (unsigned round = 0; round < 5; ++round) {
        for (uint16_t i = 0; i < 40; ++i) { // evictions
            const Seen s = h.send(packet({kLow.ip, uint16_t(100 + i)}, kHigh, kProtoUdp), t += 1000);
            if (s.created) {
                ++creations;
                ids.insert(s.flow->id);
            }
        }
        t += 5 * kNsPerSec; // idle restarts of the survivors
        const Seen s = h.send(packet({kLow.ip, 139}, kHigh, kProtoUdp), t);
        CHECK(s.created);
        ++creations;
        ids.insert(s.flow->id);
        h.table->flush();
    }
    CHECK(ids.size() == creations);
    CHECK(h.table->counters().created == creations);
    CHECK(ids.count(0) == 0);
}

TEST_CASE("create() refuses bad configurations with a clear message") {
    auto noop = [](void*, const Flow&, FlowEnd) {};
    FlowTableConfig cfg;

    SECTION("capacity 0") {
        cfg.capacity = 0;
        cfg.name = "ut_cap0";
        const auto r = FlowTable::create(cfg, noop, nullptr);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains("capacity must be at least 1"));
        CHECK_THAT(r.error().message, Catch::Contains("ut_cap0"));
    }
    SECTION("capacity above rte_hash's maximum") {
        cfg.capacity = (1u << 30) + 1;
        cfg.name = "ut_capmax";
        const auto r = FlowTable::create(cfg, noop, nullptr);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains("maximum"));
    }
    SECTION("a name already used by another table") {
        cfg.capacity = 64;
        cfg.name = "ut_dup";
        const auto first = FlowTable::create(cfg, noop, nullptr);
        REQUIRE(first.ok());
        const auto second = FlowTable::create(cfg, noop, nullptr);
        REQUIRE_FALSE(second.ok());
        CHECK_THAT(second.error().message, Catch::Contains("already in use"));
    }
    SECTION("no name, or one too long for rte_hash's ring names") {
        cfg.capacity = 64;
        cfg.name = "";
        CHECK_FALSE(FlowTable::create(cfg, noop, nullptr).ok());
        cfg.name = nullptr;
        CHECK_FALSE(FlowTable::create(cfg, noop, nullptr).ok());
        cfg.name = "a_name_far_too_long_for_dpdk";
        const auto r = FlowTable::create(cfg, noop, nullptr);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains("longer than"));
    }
    SECTION("more flows than EAL memory holds") {
        cfg.capacity = 1u << 30;
        cfg.name = "ut_huge";
        const uint32_t log_level = rte_log_get_global_level();
        rte_log_set_global_level(RTE_LOG_CRIT); // DPDK logs the expected failure
        const auto r = FlowTable::create(cfg, noop, nullptr);
        rte_log_set_global_level(log_level);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains("ut_huge"));
    }
    SECTION("a destroyed table frees its name") {
        cfg.capacity = 64;
        cfg.name = "ut_reuse_name";
        { REQUIRE(FlowTable::create(cfg, noop, nullptr).ok()); }
        CHECK(FlowTable::create(cfg, noop, nullptr).ok());
    }
}
