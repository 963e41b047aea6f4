// Layer by layer: Ethernet, VLAN, ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6.
#include "parse/decode.hpp"

#include <set>
#include <string>

#include "packet_builder.hpp"

using namespace sg;
using namespace sg::test;

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherArp = 0x0806;

Bytes tcp_frame(const Bytes& payload) {
    return ethernet(kEtherIpv4) + ipv4("10.0.0.1", "192.168.1.2", kProtoTcp,
                                       tcp(40000, 443, kTcpSyn | kTcpAck, payload));
}

} // namespace

TEST_CASE("Every anomaly has its enumerator's name") {
    CHECK(std::string(anomaly_name(Anomaly::none)) == "none");
    CHECK(std::string(anomaly_name(Anomaly::truncated_ethernet)) == "truncated_ethernet");
    CHECK(std::string(anomaly_name(Anomaly::too_many_vlan_tags)) == "too_many_vlan_tags");
    CHECK(std::string(anomaly_name(Anomaly::bad_ipv4_total_length)) == "bad_ipv4_total_length");
    CHECK(std::string(anomaly_name(Anomaly::too_many_ipv6_extensions)) == "too_many_ipv6_extensions");
    CHECK(std::string(anomaly_name(Anomaly::truncated_tcp)) == "truncated_tcp");
    CHECK(std::string(anomaly_name(Anomaly::bad_geneve_header)) == "bad_geneve_header");
    CHECK(std::string(anomaly_name(Anomaly::truncated_erspan)) == "truncated_erspan");
    CHECK(std::string(anomaly_name(Anomaly::too_many_tunnels)) == "too_many_tunnels");
    CHECK(std::string(anomaly_name(Anomaly::truncated_payload)) == "truncated_payload");
    CHECK(std::string(anomaly_name(Anomaly::count_)) == "invalid");

    std::set<std::string> names;
    for (unsigned i = 0; i < kAnomalyCount; ++i) {
        const std::string name = anomaly_name(Anomaly(i));
        CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
        names.insert(name);
    }
    CHECK(names.size() == kAnomalyCount);
}

TEST_CASE("Ethernet, IPv4 and TCP fill every field") {
    const Bytes frame = tcp_frame(text("hello"));
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.vlan_count == 0);
    CHECK(v.vlan_id == 0);
    CHECK(v.ether_type == kEtherIpv4);
    CHECK(v.l3 == L3Type::ipv4);
    CHECK(v.src == ip("10.0.0.1"));
    CHECK(v.dst == ip("192.168.1.2"));
    CHECK(v.ip_proto == kProtoTcp);
    CHECK(v.ttl == 64);
    CHECK(v.ip_id == 0x1234);
    CHECK_FALSE(v.fragment);
    CHECK(v.l3_offset == 14);
    CHECK(v.l3_len == 20);
    CHECK(v.ip_options_len == 0);
    REQUIRE(v.has_l4);
    CHECK(v.l4_offset == 34);
    CHECK(v.src_port == 40000);
    CHECK(v.dst_port == 443);
    CHECK(v.tcp_flags == (kTcpSyn | kTcpAck));
    CHECK(v.tcp_seq == 0x01020304);
    CHECK(v.tcp_ack == 0x05060708);
    CHECK(v.tcp_window == 29200);
    CHECK(v.payload_offset == 54);
    CHECK(v.payload_len == 5);
    CHECK(v.wire_payload_len == 5);
    CHECK(v.tunnel.type == TunnelType::none);
    CHECK(v.tunnel.depth == 0);
}

TEST_CASE("decode resets a view that held an earlier packet") {
    PacketView v;
    REQUIRE(decode_bytes(tcp_frame(text("x")), v) == Anomaly::none);
    REQUIRE(decode_bytes(ethernet(0x88CC) + zeros(40), v) == Anomaly::none);
    CHECK(v.l3 == L3Type::other);
    CHECK(v.src.is_unspecified());
    CHECK_FALSE(v.has_l4);
    CHECK(v.dst_port == 0);
    CHECK(v.payload_len == 0);
}

TEST_CASE("Short Ethernet frames are truncated_ethernet") {
    PacketView v;
    CHECK(decode(nullptr, 0, v) == Anomaly::truncated_ethernet);
    CHECK(decode_bytes(zeros(13), v) == Anomaly::truncated_ethernet);
    CHECK(v.l3 == L3Type::none);
}

TEST_CASE("802.1Q and QinQ tags are counted and the innermost id kept") {
    PacketView v;
    SECTION("one 802.1Q tag") {
        const Bytes frame = ethernet(kEtherIpv4, {{0x8100, 100}}) +
                            ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(1, 53, text("q")));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.vlan_count == 1);
        CHECK(v.vlan_id == 100);
        CHECK(v.ether_type == kEtherIpv4);
        CHECK(v.l3_offset == 18);
        CHECK(v.dst_port == 53);
    }
    SECTION("802.1ad outer, 802.1Q inner") {
        const Bytes frame = ethernet(kEtherIpv4, {{0x88A8, 7}, {0x8100, 4000}}) +
                            ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(1, 53, text("q")));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.vlan_count == 2);
        CHECK(v.vlan_id == 4000);
        CHECK(v.l3_offset == 22);
        CHECK(v.src == ip("10.0.0.1"));
    }
    SECTION("legacy 0x9100 outer tag") {
        const Bytes frame = ethernet(kEtherIpv6, {{0x9100, 5}, {0x8100, 6}}) +
                            ipv6("2001:db8::1", "2001:db8::2", kProtoUdp, udp(1, 53, text("q")));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.vlan_count == 2);
        CHECK(v.vlan_id == 6);
        CHECK(v.l3 == L3Type::ipv6);
    }
    SECTION("a third tag is one too many") {
        const Bytes frame = ethernet(kEtherIpv4, {{0x88A8, 1}, {0x8100, 2}, {0x8100, 3}}) +
                            ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(1, 53, {}));
        CHECK(decode_bytes(frame, v) == Anomaly::too_many_vlan_tags);
        CHECK(v.vlan_count == 2);
        CHECK(v.l3 == L3Type::none);
    }
    SECTION("a tag cut short") {
        const Bytes frame = ethernet(kEtherIpv4, {{0x8100, 100}});
        CHECK(decode_prefix(frame, 17, v) == Anomaly::truncated_vlan);
        CHECK(decode_prefix(frame, 18, v) == Anomaly::truncated_ipv4);
    }
}

TEST_CASE("ARP yields sender and target addresses") {
    const Bytes frame = ethernet(kEtherArp) + arp_request("10.0.0.1", "10.0.0.254");
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.l3 == L3Type::arp);
    CHECK(v.ether_type == kEtherArp);
    CHECK(v.src == ip("10.0.0.1"));
    CHECK(v.dst == ip("10.0.0.254"));
    CHECK_FALSE(v.has_l4);

    CHECK(decode_prefix(frame, frame.size() - 1, v) == Anomaly::truncated_arp);
    CHECK(v.l3 == L3Type::none);
    // Padding after the 28-byte body is fine.
    CHECK(decode_bytes(frame + zeros(18), v) == Anomaly::none);
}

TEST_CASE("IPv4 options move the L4 header") {
    const Bytes options = {0x01, 0x01, 0x07, 0x07, 0x04, 0, 0, 0};  // NOP NOP, empty record route
    const Bytes frame = ethernet(kEtherIpv4) +
                        ipv4("10.0.0.1", "10.0.0.2", kProtoTcp, tcp(1, 2, kTcpAck, text("abc")),
                             {.options = options, .ttl = 3, .tos = 0xB8});
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.l3_len == 28);
    CHECK(v.ip_options_len == 8);
    CHECK(v.ttl == 3);
    CHECK(v.ip_tos == 0xB8);
    CHECK(v.l4_offset == 42);
    CHECK(v.src_port == 1);
    CHECK(v.payload_offset == 62);
    CHECK(v.payload_len == 3);
}

TEST_CASE("Malformed IPv4 headers are named") {
    const Bytes l4 = udp(1, 2, text("data"));
    PacketView v;
    SECTION("version") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, l4,
                                                       {.version_ihl = 0x55});
        CHECK(decode_bytes(frame, v) == Anomaly::bad_ipv4_version);
        CHECK(v.l3 == L3Type::none);
    }
    SECTION("header length below 20") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, l4,
                                                       {.version_ihl = 0x44});
        CHECK(decode_bytes(frame, v) == Anomaly::bad_ipv4_header_length);
        CHECK(v.l3 == L3Type::ipv4);  // addresses were already read
        CHECK(v.src == ip("10.0.0.1"));
    }
    SECTION("header length past the frame") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, {},
                                                       {.version_ihl = 0x4F});
        CHECK(decode_bytes(frame + zeros(20), v) == Anomaly::truncated_ipv4);
    }
    SECTION("total length shorter than the header") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, l4,
                                                       {.total_length = 19});
        CHECK(decode_bytes(frame, v) == Anomaly::bad_ipv4_total_length);
    }
    SECTION("total length cutting the UDP header") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, l4,
                                                       {.total_length = 24});
        CHECK(decode_bytes(frame, v) == Anomaly::truncated_udp);
    }
}

TEST_CASE("A total length past the capture bounds the payload by the captured bytes") {
    const Bytes full = tcp_frame(text("0123456789"));
    PacketView v;
    REQUIRE(decode_prefix(full, full.size() - 4, v) == Anomaly::truncated_payload);
    CHECK(v.has_l4);
    CHECK(v.dst_port == 443);
    CHECK(v.payload_len == 6);
    CHECK(v.wire_payload_len == 10);
}

TEST_CASE("Ethernet padding is not payload") {
    PacketView v;
    SECTION("TCP without payload padded to 60 bytes") {
        Bytes frame = tcp_frame({});
        REQUIRE(frame.size() == 54);
        frame = frame + Bytes{0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.payload_len == 0);
        CHECK(v.wire_payload_len == 0);
    }
    SECTION("UDP with 2 bytes, padding and a trailing FCS") {
        const Bytes frame = ethernet(kEtherIpv4) +
                            ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(5, 6, text("hi"))) +
                            zeros(16) + Bytes{1, 2, 3, 4};
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.payload_offset == 42);
        CHECK(v.payload_len == 2);
        CHECK(v.wire_payload_len == 2);
    }
}

TEST_CASE("IPv4 fragments: the first keeps its L4 header, later ones carry none") {
    const Bytes l4 = udp(5353, 53, text("first part"));
    PacketView v;
    SECTION("first fragment") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, l4,
                                                       {.flags_offset = 0x2000, .id = 77});
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.fragment);
        CHECK_FALSE(v.later_fragment);
        CHECK(v.frag_offset == 0);
        CHECK(v.ip_id == 77);
        CHECK(v.has_l4);
        CHECK(v.dst_port == 53);
    }
    SECTION("a middle fragment") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, l4,
                                                       {.flags_offset = 0x2000 | 185});
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.fragment);
        CHECK(v.later_fragment);
        CHECK(v.frag_offset == 1480);
        CHECK_FALSE(v.has_l4);
        CHECK(v.dst_port == 0);
        CHECK(v.ip_proto == kProtoUdp);
        // Its bytes are still inspectable as payload.
        CHECK(v.payload_offset == 34);
        CHECK(v.payload_len == l4.size());
    }
    SECTION("the last fragment (MF clear)") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, l4,
                                                       {.flags_offset = 0x4000 | 3});
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.fragment);
        CHECK(v.later_fragment);
        CHECK(v.frag_offset == 24);
        CHECK_FALSE(v.has_l4);
    }
    SECTION("don't-fragment alone is not a fragment") {
        const Bytes frame = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, l4,
                                                       {.flags_offset = 0x4000});
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK_FALSE(v.fragment);
        CHECK(v.has_l4);
    }
}

TEST_CASE("IPv6 walks hop-by-hop, routing, fragment and destination options") {
    const Bytes l4 = udp(546, 547, text("dhcpv6"));
    const Bytes chain =
        ipv6_extension(43, 8,
            ipv6_extension(44, 24,
                ipv6_fragment(60, 0, true, 0xCAFE0042,
                    ipv6_extension(kProtoUdp, 16, l4))));
    const Bytes frame = ethernet(kEtherIpv6) + ipv6("2001:db8::1", "2001:db8::2", 0, chain, 7);
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.l3 == L3Type::ipv6);
    CHECK(v.src == ip("2001:db8::1"));
    CHECK(v.dst == ip("2001:db8::2"));
    CHECK(v.ttl == 7);
    CHECK(v.ip_tos == 0xAB);
    CHECK(v.l3_offset == 14);
    CHECK(v.l3_len == 40 + 8 + 24 + 8 + 16);
    CHECK(v.ip_proto == kProtoUdp);
    CHECK(v.fragment);
    CHECK_FALSE(v.later_fragment);
    CHECK(v.ip_id == 0x0042);
    REQUIRE(v.has_l4);
    CHECK(v.l4_offset == 14 + 96);
    CHECK(v.src_port == 546);
    CHECK(v.dst_port == 547);
    CHECK(v.payload_len == 6);
}

TEST_CASE("IPv6 authentication header counts 4-byte words") {
    const Bytes frame = ethernet(kEtherIpv6) +
                        ipv6("2001:db8::1", "2001:db8::2", 51,
                             ipv6_auth(kProtoTcp, 24, tcp(22, 50000, kTcpAck, text("ssh"))));
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.l3_len == 64);
    CHECK(v.ip_proto == kProtoTcp);
    CHECK(v.src_port == 22);
    CHECK(v.payload_len == 3);
}

TEST_CASE("An IPv6 later fragment carries no L4 header") {
    const Bytes frame = ethernet(kEtherIpv6) +
                        ipv6("2001:db8::1", "2001:db8::2", 44,
                             ipv6_fragment(kProtoTcp, 1232, false, 9, zeros(40)));
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.fragment);
    CHECK(v.later_fragment);
    CHECK(v.frag_offset == 1232);
    CHECK(v.ip_proto == kProtoTcp);
    CHECK_FALSE(v.has_l4);
    CHECK(v.payload_offset == 14 + 48);
    CHECK(v.payload_len == 40);
}

TEST_CASE("The IPv6 extension walk is bounded") {
    auto chain_of = [](unsigned n) {
        Bytes b = udp(1, 2, text("x"));
        for (unsigned i = 0; i < n; ++i) b = ipv6_extension(i == 0 ? kProtoUdp : 60, 8, b);
        return ethernet(kEtherIpv6) + ipv6("2001:db8::1", "2001:db8::2", 60, b);
    };
    PacketView v;
    CHECK(decode_bytes(chain_of(kMaxIpv6Extensions), v) == Anomaly::none);
    CHECK(v.dst_port == 2);
    CHECK(decode_bytes(chain_of(kMaxIpv6Extensions + 1), v) == Anomaly::too_many_ipv6_extensions);
    CHECK(v.l3 == L3Type::ipv6);
    CHECK_FALSE(v.has_l4);
}

TEST_CASE("Malformed IPv6 is named") {
    PacketView v;
    const Bytes good = ethernet(kEtherIpv6) + ipv6("2001:db8::1", "2001:db8::2", 59, {});
    CHECK(decode_bytes(good, v) == Anomaly::none);
    CHECK(v.ip_proto == 59);  // no next header
    CHECK_FALSE(v.has_l4);

    Bytes bad_version = good;
    bad_version[14] = 0x4A;
    CHECK(decode_bytes(bad_version, v) == Anomaly::bad_ipv6_version);

    CHECK(decode_prefix(good, 53, v) == Anomaly::truncated_ipv6);

    // A hop-by-hop header claiming 16 bytes where the payload length allows 8.
    Bytes short_ext = ethernet(kEtherIpv6) +
                      ipv6("2001:db8::1", "2001:db8::2", 0, ipv6_extension(59, 8, {}));
    short_ext[54 + 1] = 1;
    CHECK(decode_bytes(short_ext + zeros(8), v) == Anomaly::truncated_ipv6_extension);
}

TEST_CASE("TCP options and bad data offsets") {
    // MSS, SACK permitted, timestamps, NOP, window scale: 20 bytes.
    const Bytes options = {0x02, 0x04, 0x05, 0xB4, 0x04, 0x02, 0x08, 0x0A, 0, 0,
                           0,    1,    0,    0,    0,    0,    0x01, 0x03, 0x03, 0x07};
    const Bytes frame = ethernet(kEtherIpv4) +
                        ipv4("10.0.0.1", "10.0.0.2", kProtoTcp, tcp(1, 2, kTcpSyn, text("p"), options));
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.l4_offset == 34);
    CHECK(v.payload_offset == 34 + 40);
    CHECK(v.payload_len == 1);

    Bytes bad_offset = frame;
    bad_offset[34 + 12] = 0x40;
    CHECK(decode_bytes(bad_offset, v) == Anomaly::bad_tcp_header_length);
    CHECK(v.has_l4);  // the ports were read before the fault
    CHECK(v.dst_port == 2);

    Bytes long_offset = frame;
    long_offset[34 + 12] = 0xF0;  // 60 bytes of header, 41 present
    CHECK(decode_bytes(long_offset, v) == Anomaly::truncated_tcp);
}

TEST_CASE("UDP payload is bounded by the UDP length") {
    PacketView v;
    const Bytes frame = ethernet(kEtherIpv4) +
                        ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(1000, 2000, text("abcdef"), 11));
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.src_port == 1000);
    CHECK(v.dst_port == 2000);
    CHECK(v.payload_offset == 42);
    CHECK(v.payload_len == 3);
    CHECK(v.wire_payload_len == 3);

    const Bytes bad = ethernet(kEtherIpv4) +
                      ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(1000, 2000, text("abcdef"), 7));
    CHECK(decode_bytes(bad, v) == Anomaly::bad_udp_length);
    CHECK(v.dst_port == 2000);
}

TEST_CASE("ICMP echo carries id and sequence, other types do not") {
    PacketView v;
    const Bytes echo = ethernet(kEtherIpv4) +
                       ipv4("10.0.0.1", "10.0.0.2", kProtoIcmp, icmp(8, 0, 0x4242, 7, zeros(32)));
    REQUIRE(decode_bytes(echo, v) == Anomaly::none);
    CHECK(v.has_l4);
    CHECK(v.icmp_type == 8);
    CHECK(v.icmp_code == 0);
    CHECK(v.icmp_id == 0x4242);
    CHECK(v.icmp_seq == 7);
    CHECK(v.src_port == 0);
    CHECK(v.payload_offset == 42);
    CHECK(v.payload_len == 32);

    const Bytes unreachable = ethernet(kEtherIpv4) +
                              ipv4("10.0.0.1", "10.0.0.2", kProtoIcmp, icmp(3, 3, 0x1111, 2, zeros(28)));
    REQUIRE(decode_bytes(unreachable, v) == Anomaly::none);
    CHECK(v.icmp_type == 3);
    CHECK(v.icmp_code == 3);
    CHECK(v.icmp_id == 0);
    CHECK(v.icmp_seq == 0);

    CHECK(decode_prefix(echo, 34 + 7, v) == Anomaly::truncated_icmp);
}

TEST_CASE("ICMPv6 echo carries id and sequence") {
    PacketView v;
    const Bytes reply = ethernet(kEtherIpv6) +
                        ipv6("2001:db8::1", "2001:db8::2", kProtoIcmpv6, icmp(129, 0, 99, 3, zeros(8)));
    REQUIRE(decode_bytes(reply, v) == Anomaly::none);
    CHECK(v.ip_proto == kProtoIcmpv6);
    CHECK(v.icmp_type == 129);
    CHECK(v.icmp_id == 99);
    CHECK(v.icmp_seq == 3);

    const Bytes solicit = ethernet(kEtherIpv6) +
                          ipv6("fe80::1", "ff02::1:ff00:2", kProtoIcmpv6, icmp(135, 0, 0, 0, zeros(16)));
    REQUIRE(decode_bytes(solicit, v) == Anomaly::none);
    CHECK(v.icmp_type == 135);
    CHECK(v.icmp_id == 0);

    CHECK(decode_prefix(reply, 54 + 4, v) == Anomaly::truncated_icmpv6);
}

TEST_CASE("Protocols and ethertypes the decoder does not know are not anomalies") {
    PacketView v;
    const Bytes sctp = ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", 132, zeros(12));
    REQUIRE(decode_bytes(sctp, v) == Anomaly::none);
    CHECK(v.l3 == L3Type::ipv4);
    CHECK(v.ip_proto == 132);
    CHECK(v.src == ip("10.0.0.1"));
    CHECK_FALSE(v.has_l4);
    CHECK(v.payload_offset == 34);
    CHECK(v.payload_len == 12);

    const Bytes lldp = ethernet(0x88CC) + zeros(30);
    REQUIRE(decode_bytes(lldp, v) == Anomaly::none);
    CHECK(v.l3 == L3Type::other);
    CHECK(v.ether_type == 0x88CC);
}
