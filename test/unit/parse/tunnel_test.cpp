// Tunnels: the view describes the innermost packet, `tunnel` the way in.
#include "parse/decode.hpp"

#include <string>

#include "packet_builder.hpp"

using namespace sg;
using namespace sg::test;

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherTeb = 0x6558;

// The tenant's packet every tunnel below carries: 172.16.0.5:51000 -> 172.16.0.9:80.
Bytes inner_ip() {
    return ipv4("172.16.0.5", "172.16.0.9", kProtoTcp, tcp(51000, 80, kTcpPsh | kTcpAck, text("GET /")));
}
Bytes inner_frame(std::vector<VlanTag> tags = {}) { return ethernet(kEtherIpv4, tags) + inner_ip(); }

Bytes over_udp(uint16_t dport, const Bytes& udp_payload) {
    return ethernet(kEtherIpv4) + ipv4("10.1.1.1", "10.2.2.2", kProtoUdp, udp(33333, dport, udp_payload));
}

Bytes over_gre(const Bytes& gre_packet) {
    return ethernet(kEtherIpv4) + ipv4("10.1.1.1", "10.2.2.2", kProtoGre, gre_packet);
}

void check_inner_tcp(const PacketView& v) {
    CHECK(v.l3 == L3Type::ipv4);
    CHECK(v.src == ip("172.16.0.5"));
    CHECK(v.dst == ip("172.16.0.9"));
    CHECK(v.ip_proto == kProtoTcp);
    REQUIRE(v.has_l4);
    CHECK(v.src_port == 51000);
    CHECK(v.dst_port == 80);
    CHECK(v.tcp_flags == (kTcpPsh | kTcpAck));
    CHECK(v.payload_len == 5);
    CHECK(v.payload_offset == v.l4_offset + 20);
    CHECK(v.l4_offset == v.l3_offset + 20);
}

void check_outer(const PacketView& v) {
    CHECK(v.tunnel.outer_src == ip("10.1.1.1"));
    CHECK(v.tunnel.outer_dst == ip("10.2.2.2"));
}

} // namespace

TEST_CASE("VXLAN: inner addresses and ports, outer addresses and VNI as context") {
    const Bytes frame = over_udp(kVxlanPort, vxlan(0xABCDEF, inner_frame({{0x8100, 42}})));
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    check_inner_tcp(v);
    CHECK(v.l3_offset == 14 + 20 + 8 + 8 + 18);
    CHECK(v.vlan_count == 1);  // the inner frame's tag
    CHECK(v.vlan_id == 42);
    CHECK(v.tunnel.type == TunnelType::vxlan);
    CHECK(v.tunnel.depth == 1);
    CHECK(v.tunnel.id == 0xABCDEF);
    check_outer(v);
    // The outer UDP flow (VTEP to VTEP), for eve's tunnel object and the outer flow.
    CHECK(v.tunnel.outer_proto == kProtoUdp);
    CHECK(v.tunnel.outer_dst_port == kVxlanPort);
    CHECK(v.tunnel.outer_src_port == 33333);
    CHECK_FALSE(v.tunnel.outer_ipv6);
}

TEST_CASE("UDP to 4789 without the VXLAN I flag stays plain UDP") {
    const Bytes frame = over_udp(kVxlanPort, vxlan(5, inner_frame(), 0x00));
    PacketView v;
    REQUIRE(decode_bytes(frame, v) == Anomaly::none);
    CHECK(v.tunnel.type == TunnelType::none);
    CHECK(v.src == ip("10.1.1.1"));
    CHECK(v.dst_port == kVxlanPort);
    CHECK(v.payload_offset == 42);
    CHECK(v.payload_len == frame.size() - 42);

    CHECK(decode_bytes(over_udp(kVxlanPort, zeros(7)), v) == Anomaly::truncated_vxlan);
    CHECK(v.dst_port == kVxlanPort);  // the outer view stays
}

TEST_CASE("GENEVE with options, with Ethernet or IP inside") {
    const Bytes options = {0x01, 0x02, 0x80, 0x01, 0xAA, 0xBB, 0xCC, 0xDD};  // one 4-byte option
    PacketView v;
    SECTION("Ethernet inside") {
        const Bytes frame = over_udp(kGenevePort, geneve(0x123456, kEtherTeb, options, inner_frame()));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.l3_offset == 14 + 20 + 8 + 16 + 14);
        CHECK(v.tunnel.type == TunnelType::geneve);
        CHECK(v.tunnel.id == 0x123456);
        check_outer(v);
    }
    SECTION("IPv4 inside, no inner Ethernet") {
        const Bytes frame = over_udp(kGenevePort, geneve(9, kEtherIpv4, options, inner_ip()));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.ether_type == kEtherIpv4);
        CHECK(v.l3_offset == 14 + 20 + 8 + 16);
        CHECK(v.tunnel.id == 9);
    }
    SECTION("a version other than 0") {
        const Bytes frame = over_udp(kGenevePort, geneve(9, kEtherTeb, {}, inner_frame(), 1));
        CHECK(decode_bytes(frame, v) == Anomaly::bad_geneve_header);
        CHECK(v.tunnel.type == TunnelType::none);
    }
    SECTION("options longer than the packet") {
        Bytes frame = over_udp(kGenevePort, geneve(9, kEtherTeb, {}, zeros(12)));
        frame[42] = 0x3F;  // 252 bytes of options
        CHECK(decode_bytes(frame, v) == Anomaly::truncated_geneve);
    }
    SECTION("a protocol that is not a packet stays UDP payload") {
        const Bytes frame = over_udp(kGenevePort, geneve(9, 0x894F, {}, zeros(20)));  // NSH
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.tunnel.type == TunnelType::none);
        CHECK(v.dst_port == kGenevePort);
        CHECK(v.payload_len == 28);
    }
}

TEST_CASE("GRE: transparent Ethernet bridging, keys, IP inside") {
    PacketView v;
    SECTION("TEB without key") {
        REQUIRE(decode_bytes(over_gre(gre(kEtherTeb, inner_frame())), v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.l3_offset == 14 + 20 + 4 + 14);
        CHECK(v.tunnel.type == TunnelType::gre);
        CHECK(v.tunnel.id == 0);
        check_outer(v);
    }
    SECTION("checksum, key and sequence before an IPv4 packet") {
        const Bytes frame = over_gre(
            gre(kEtherIpv4, inner_ip(), {.checksum = true, .key = 0x01020304, .sequence = 9}));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.ether_type == kEtherIpv4);
        CHECK(v.l3_offset == 14 + 20 + 16);
        CHECK(v.tunnel.id == 0x01020304);
    }
    SECTION("over IPv6, carrying IPv6") {
        const Bytes inner6 = ipv6("fd00::5", "fd00::9", kProtoUdp, udp(1, 53, text("q")));
        const Bytes frame = ethernet(kEtherIpv6) +
                            ipv6("2001:db8::a", "2001:db8::b", kProtoGre, gre(kEtherIpv6, inner6, {.key = 7}));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.l3 == L3Type::ipv6);
        CHECK(v.src == ip("fd00::5"));
        CHECK(v.dst_port == 53);
        CHECK(v.tunnel.outer_src == ip("2001:db8::a"));
        CHECK(v.tunnel.outer_dst == ip("2001:db8::b"));
        CHECK(v.tunnel.id == 7);
    }
    SECTION("PPTP (version 1) is reported as GRE, not opened") {
        const Bytes frame = over_gre(gre(0x880B, zeros(20), {.key = 0x00100020, .version = 1}));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.src == ip("10.1.1.1"));
        CHECK(v.ip_proto == kProtoGre);
        CHECK_FALSE(v.has_l4);
        CHECK(v.tunnel.type == TunnelType::none);
    }
    SECTION("an unknown protocol is reported as GRE, not opened") {
        const Bytes frame = over_gre(gre(0x880B, zeros(20)));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        CHECK(v.ip_proto == kProtoGre);
        CHECK_FALSE(v.has_l4);
        CHECK(v.tunnel.depth == 0);
    }
    SECTION("versions above 1 and source routing are malformed") {
        CHECK(decode_bytes(over_gre(gre(kEtherTeb, inner_frame(), {.version = 2})), v) ==
              Anomaly::bad_gre_header);
        CHECK(decode_bytes(over_gre(gre(kEtherTeb, inner_frame(), {.routing = true})), v) ==
              Anomaly::bad_gre_header);
    }
    SECTION("optional fields cut short") {
        const Bytes frame = over_gre(gre(kEtherTeb, {}, {.key = 1, .sequence = 2}));
        CHECK(decode_prefix(frame, frame.size() - 1, v) == Anomaly::truncated_gre);
        CHECK(v.src == ip("10.1.1.1"));
    }
}

TEST_CASE("ERSPAN type I, II and III") {
    PacketView v;
    SECTION("type II: session id in the low 10 bits") {
        const Bytes frame = over_gre(gre(0x88BE, erspan2(0x2AB, inner_frame()), {.sequence = 1}));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.l3_offset == 14 + 20 + 8 + 8 + 14);
        CHECK(v.tunnel.type == TunnelType::erspan);
        CHECK(v.tunnel.id == 0x2AB);
        check_outer(v);
    }
    SECTION("type I: no sequence number, no ERSPAN header") {
        const Bytes frame = over_gre(gre(0x88BE, inner_frame()));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.l3_offset == 14 + 20 + 4 + 14);
        CHECK(v.tunnel.type == TunnelType::erspan);
    }
    SECTION("type III without the platform subheader") {
        const Bytes frame = over_gre(gre(0x22EB, erspan3(0x155, false, inner_frame()), {.sequence = 1}));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.l3_offset == 14 + 20 + 8 + 12 + 14);
        CHECK(v.tunnel.type == TunnelType::erspan);
        CHECK(v.tunnel.id == 0x155);
    }
    SECTION("type III with the platform subheader (O set)") {
        const Bytes frame = over_gre(gre(0x22EB, erspan3(0x3FF, true, inner_frame()), {.sequence = 1}));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.l3_offset == 14 + 20 + 8 + 20 + 14);
        CHECK(v.tunnel.id == 0x3FF);
    }
    SECTION("a header cut short") {
        const Bytes frame = over_gre(gre(0x22EB, erspan3(1, true, {}), {.sequence = 1}));
        CHECK(decode_prefix(frame, frame.size() - 1, v) == Anomaly::truncated_erspan);
        CHECK(v.tunnel.type == TunnelType::none);
    }
}

TEST_CASE("Nested tunnels: outermost type and addresses, innermost id") {
    PacketView v;
    SECTION("VXLAN in VXLAN") {
        const Bytes inner_vxlan = ethernet(kEtherIpv4) +
                                  ipv4("192.168.0.1", "192.168.0.2", kProtoUdp,
                                       udp(4444, kVxlanPort, vxlan(222, inner_frame())));
        const Bytes frame = over_udp(kVxlanPort, vxlan(111, inner_vxlan));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.tunnel.type == TunnelType::vxlan);
        CHECK(v.tunnel.depth == 2);
        CHECK(v.tunnel.id == 222);
        check_outer(v);
    }
    SECTION("VXLAN inside GRE") {
        const Bytes inner_vxlan = ipv4("192.168.0.1", "192.168.0.2", kProtoUdp,
                                       udp(4444, kVxlanPort, vxlan(333, inner_frame())));
        const Bytes frame = over_gre(gre(kEtherIpv4, inner_vxlan, {.key = 5}));
        REQUIRE(decode_bytes(frame, v) == Anomaly::none);
        check_inner_tcp(v);
        CHECK(v.tunnel.type == TunnelType::gre);
        CHECK(v.tunnel.depth == 2);
        CHECK(v.tunnel.id == 333);
        check_outer(v);
    }
}

TEST_CASE("Tunnels deeper than kMaxTunnelDepth stop with the last opened packet") {
    // depth 0 is the outer frame; each level wraps the previous in VXLAN.
    auto nest = [](unsigned levels) {
        Bytes frame = inner_frame();
        for (unsigned i = levels; i > 0; --i) {
            const std::string src = "10.0.0." + std::to_string(i);
            frame = ethernet(kEtherIpv4) +
                    ipv4(src.c_str(), "10.9.9.9", kProtoUdp, udp(1000, kVxlanPort, vxlan(i, frame)));
        }
        return frame;
    };
    PacketView v;
    REQUIRE(decode_bytes(nest(kMaxTunnelDepth), v) == Anomaly::none);
    check_inner_tcp(v);
    CHECK(v.tunnel.depth == kMaxTunnelDepth);
    CHECK(v.tunnel.id == kMaxTunnelDepth);
    CHECK(v.tunnel.outer_src == ip("10.0.0.1"));

    REQUIRE(decode_bytes(nest(kMaxTunnelDepth + 1), v) == Anomaly::too_many_tunnels);
    CHECK(v.tunnel.depth == kMaxTunnelDepth);
    CHECK(v.tunnel.outer_src == ip("10.0.0.1"));
    // The view is the deepest packet opened: the one carrying the refused tunnel.
    CHECK(v.src == ip("10.0.0." + std::to_string(kMaxTunnelDepth + 1)));
    CHECK(v.dst_port == kVxlanPort);
}

TEST_CASE("An anomaly inside a tunnel is returned as that anomaly") {
    PacketView v;
    Bytes bad_inner = inner_frame();
    bad_inner[14] = 0x55;  // inner IPv4 version 5
    REQUIRE(decode_bytes(over_udp(kVxlanPort, vxlan(7, bad_inner)), v) == Anomaly::bad_ipv4_version);
    CHECK(v.tunnel.type == TunnelType::vxlan);
    CHECK(v.tunnel.id == 7);
    check_outer(v);
    CHECK(v.l3 == L3Type::none);

    const Bytes whole = inner_frame();
    const Bytes short_inner(whole.begin(), whole.begin() + 10);
    CHECK(decode_bytes(over_gre(gre(kEtherTeb, short_inner)), v) == Anomaly::truncated_ethernet);
    CHECK(v.tunnel.type == TunnelType::gre);
}
