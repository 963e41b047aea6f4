#include "defrag/ipv4_defrag.hpp"

#include <catch2/catch.hpp>

#include "fragments.hpp"

using namespace sg;
using namespace sg::test;

namespace {

Bytes add(Ipv4Defrag& d, const Bytes& frame, Nanos now = kNsPerSec, LinkType link = LinkType::ipv4) {
    const PacketView pv = decoded(frame, link);
    REQUIRE(pv.fragment);
    const auto out = d.add(frame.data(), uint32_t(frame.size()), pv, now);
    return Bytes(out.begin(), out.end());
}

// The TCP SYN of suricata-verify defrag/bug-6887 (1.1.1.1:12345 -> 2.2.2.2:8080,
// window scale 14), cut by scapy into three 8-byte fragments.
const Bytes kSynTcp = {0x30, 0x39, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0x20, 0x00,
                       0x19, 0x0c, 0, 0, 0x03, 0x03, 0x0e, 0x00};
// What Suricata logs as the reassembled packet (the test's `packet`, base64-decoded).
const Bytes kSynReassembled = {0x45, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x74, 0xc6,
                               1, 1, 1, 1, 2, 2, 2, 2, 0x30, 0x39, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0,
                               0x60, 0x02, 0x20, 0x00, 0x19, 0x0c, 0, 0, 0x03, 0x03, 0x0e, 0x00};

Bytes slice(const Bytes& b, size_t from, size_t n) { return Bytes(b.begin() + long(from), b.begin() + long(from + n)); }

} // namespace

TEST_CASE("defrag: three fragments of a TCP SYN give Suricata's reassembled packet") {
    Ipv4Defrag d;
    CHECK(add(d, ipv4_fragment(1, 0, true, slice(kSynTcp, 0, 8))).empty());
    CHECK(add(d, ipv4_fragment(1, 8, true, slice(kSynTcp, 8, 8))).empty());
    CHECK(d.in_use() == 1);
    const Bytes out = add(d, ipv4_fragment(1, 16, false, slice(kSynTcp, 16, 8)));
    CHECK(out == kSynReassembled);
    CHECK(d.counters().fragments == 3);
    CHECK(d.counters().reassembled == 1);
    CHECK(d.in_use() == 0);
    // The result decodes as a whole TCP packet.
    const PacketView pv = decoded(out);
    CHECK_FALSE(pv.fragment);
    CHECK(pv.has_l4);
    CHECK(pv.tcp_flags == kTcpSyn);
    CHECK(pv.dst_port == 8080);
}

TEST_CASE("defrag: any arrival order; the first fragment's link header is kept") {
    Ipv4Defrag d;
    const Bytes eth = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
    auto framed = [&](const Bytes& ip) {
        Bytes f = eth;
        f.insert(f.end(), ip.begin(), ip.end());
        return f;
    };
    CHECK(add(d, framed(ipv4_fragment(7, 16, false, slice(kSynTcp, 16, 8))), kNsPerSec, LinkType::ethernet).empty());
    CHECK(add(d, framed(ipv4_fragment(7, 0, true, slice(kSynTcp, 0, 8))), kNsPerSec, LinkType::ethernet).empty());
    const Bytes out = add(d, framed(ipv4_fragment(7, 8, true, slice(kSynTcp, 8, 8))), kNsPerSec, LinkType::ethernet);
    REQUIRE(out.size() == eth.size() + 44);
    CHECK(slice(out, 0, eth.size()) == eth);
    const PacketView pv = decoded(out, LinkType::ethernet);
    CHECK(pv.tcp_flags == kTcpSyn);
    CHECK(pv.ip_id == 7);
}

TEST_CASE("defrag: overlaps follow the bsd policy") {
    Ipv4Defrag d;
    // Block 1 first from a fragment at offset 8, then a fragment from 0 over
    // blocks 0-1: it starts lower, so it wins block 1.
    add(d, ipv4_fragment(3, 8, true, bytes("XXXXXXXX"), 17));
    add(d, ipv4_fragment(3, 0, true, bytes("AAAAAAAAAAAAAAAA"), 17));
    // A later fragment at offset 8 starts after the owner (0): the data stays.
    add(d, ipv4_fragment(3, 8, true, bytes("YYYYYYYY"), 17));
    const Bytes out = add(d, ipv4_fragment(3, 16, false, bytes("ZZ"), 17));
    REQUIRE(out.size() == 20 + 18);
    CHECK(slice(out, 20, 18) == bytes("AAAAAAAAAAAAAAAAZZ"));
    CHECK(d.counters().overlaps == 2);
}

TEST_CASE("defrag: the same offset twice keeps the first data") {
    Ipv4Defrag d;
    add(d, ipv4_fragment(4, 0, true, bytes("11111111"), 17));
    add(d, ipv4_fragment(4, 0, true, bytes("22222222"), 17));
    const Bytes out = add(d, ipv4_fragment(4, 8, false, bytes("3"), 17));
    CHECK(slice(out, 20, 9) == bytes("111111113"));
}

TEST_CASE("defrag: a datagram not completed within the timeout is dropped") {
    DefragConfig c;
    c.timeout = 10 * kNsPerSec;
    Ipv4Defrag d(c);
    add(d, ipv4_fragment(5, 0, true, bytes("AAAAAAAA"), 17), 1 * kNsPerSec);
    // 20 s later the same id starts a new datagram: the old part is gone.
    CHECK(add(d, ipv4_fragment(5, 8, false, bytes("B"), 17), 21 * kNsPerSec).empty());
    CHECK(d.counters().timed_out == 1);
    const Bytes out = add(d, ipv4_fragment(5, 0, true, bytes("CCCCCCCC"), 17), 22 * kNsPerSec);
    CHECK(slice(out, 20, 9) == bytes("CCCCCCCCB"));
}

TEST_CASE("defrag: bounded; a full table refuses and counts, timed-out trackers are reused") {
    DefragConfig c;
    c.trackers = 2;
    c.timeout = 10 * kNsPerSec;
    Ipv4Defrag d(c);
    add(d, ipv4_fragment(1, 0, true, bytes("AAAAAAAA"), 17), kNsPerSec);
    add(d, ipv4_fragment(2, 0, true, bytes("AAAAAAAA"), 17), kNsPerSec);
    add(d, ipv4_fragment(3, 0, true, bytes("AAAAAAAA"), 17), 2 * kNsPerSec);
    CHECK(d.counters().table_full == 1);
    CHECK(d.in_use() == 2);
    add(d, ipv4_fragment(3, 0, true, bytes("AAAAAAAA"), 17), 30 * kNsPerSec);
    CHECK(d.counters().timed_out == 2);  // both reclaimed, the third datagram got one
    CHECK(d.in_use() == 1);
}

TEST_CASE("defrag: fragments it cannot use are counted, not reassembled") {
    DefragConfig c;
    c.max_payload = 64;
    Ipv4Defrag d(c);
    // MF set, but 5 bytes: only the last fragment may end off an 8-byte boundary.
    CHECK(add(d, ipv4_fragment(9, 0, true, bytes("AAAAA"), 17)).empty());
    CHECK(d.counters().invalid == 1);
    // Past max_payload.
    CHECK(add(d, ipv4_fragment(9, 64, false, bytes("A"), 17)).empty());
    CHECK(d.counters().too_large == 1);
    // Two different ends.
    add(d, ipv4_fragment(10, 8, false, bytes("A"), 17));
    add(d, ipv4_fragment(10, 16, false, bytes("A"), 17));
    CHECK(d.counters().invalid == 2);
    // Cut by the capture (the header says more than the frame holds).
    Bytes cut = ipv4_fragment(11, 0, true, bytes("AAAAAAAA"), 17);
    cut.erase(cut.end() - 3, cut.end());  // not resize(): GCC 12 -O1 with sanitizers warns falsely (stringop-overflow)
    CHECK(add(d, cut).empty());
    CHECK(d.counters().invalid == 3);
    CHECK(d.in_use() == 1);
}

TEST_CASE("defrag: data past the last fragment's end makes the datagram invalid, never a hole") {
    Ipv4Defrag d;
    // Blocks 0 and 3 arrive, then a last fragment ending at block 3: three
    // blocks held for three needed, but block 1 was never seen.
    CHECK(add(d, ipv4_fragment(20, 0, true, bytes("AAAAAAAA"), 17)).empty());
    CHECK(add(d, ipv4_fragment(20, 24, true, bytes("DDDDDDDD"), 17)).empty());
    CHECK(add(d, ipv4_fragment(20, 16, false, bytes("CCCCCCCC"), 17)).empty());
    CHECK(d.counters().invalid == 1);
    CHECK(d.counters().reassembled == 0);
    // The missing block changes nothing: the datagram stays incomplete.
    CHECK(add(d, ipv4_fragment(20, 8, true, bytes("BBBBBBBB"), 17)).empty());
    CHECK(d.counters().reassembled == 0);
}

TEST_CASE("defrag: a fragment whose IPv4 header the decoder could not read is not reassembled") {
    Ipv4Defrag d;
    // IHL 4 (16 bytes): the decoder stops with bad_ipv4_header_length, l3_len 0.
    Bytes bad = ipv4_fragment(21, 0, false, bytes("AAAAAAAA"), 17);
    bad[0] = 0x44;
    // What the decoder knows of such a packet: a fragment, and no IPv4 header length.
    PacketView pv = decoded(bad);
    pv.fragment = true;
    pv.l3_len = 0;
    CHECK(d.add(bad.data(), uint32_t(bad.size()), pv, kNsPerSec).empty());
    CHECK(d.counters().invalid == 1);
    CHECK(d.in_use() == 0);
}
