// Frames that do not start with Ethernet: raw IP, Linux cooked (SLL, SLL2)
// and BSD loopback (NULL, LOOP), as capture files of those link types hold
// them. Each link header is cut at every offset from a buffer of exactly that
// size (AddressSanitizer sees any over-read).
#include "parse/decode.hpp"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "packet_builder.hpp"

using namespace sg;
using namespace sg::test;

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kEtherVlan = 0x8100;

// Linux cooked v1: packet type, ARPHRD type, address length, 8 address bytes, protocol.
Bytes sll(uint16_t proto) {
    Bytes b;
    put16(b, 0);       // sent to us
    put16(b, 1);       // ARPHRD_ETHER
    put16(b, 6);
    b = b + Bytes{0x02, 0, 0, 0, 0, 0x01, 0, 0};
    put16(b, proto);
    return b;
}

// Linux cooked v2: protocol, reserved, interface index, ARPHRD type, packet
// type, address length, 8 address bytes.
Bytes sll2(uint16_t proto) {
    Bytes b;
    put16(b, proto);
    put16(b, 0);
    put32(b, 3);       // interface index
    put16(b, 1);       // ARPHRD_ETHER
    b.push_back(4);    // outgoing
    b.push_back(6);
    return b + Bytes{0x02, 0, 0, 0, 0, 0x01, 0, 0};
}

// DLT_NULL as a little-endian host writes it.
Bytes null_le(uint32_t family) {
    return {uint8_t(family), uint8_t(family >> 8), uint8_t(family >> 16), uint8_t(family >> 24)};
}

// DLT_LOOP, and DLT_NULL from a big-endian host.
Bytes family_be(uint32_t family) {
    Bytes b;
    put32(b, family);
    return b;
}

Bytes tcp_v4() {
    return ipv4("10.0.0.1", "192.168.1.2", kProtoTcp, tcp(40000, 443, kTcpSyn, text("hello")));
}

Bytes udp_v6() {
    return ipv6("2001:db8::1", "2001:db8::2", kProtoUdp, udp(5353, 53, text("query")));
}

Anomaly decode_prefix_as(const Bytes& frame, size_t len, LinkType link, PacketView& out) {
    const auto copy = std::make_unique<uint8_t[]>(len);
    if (len) std::memcpy(copy.get(), frame.data(), len);
    return decode(copy.get(), uint32_t(len), out, link);
}

Anomaly decode_as(const Bytes& frame, LinkType link, PacketView& out) {
    return decode_prefix_as(frame, frame.size(), link, out);
}

// The IPv4 TCP packet of tcp_v4(), found `at` bytes into the frame.
void check_tcp_v4(const PacketView& v, size_t at) {
    CHECK(v.l3 == L3Type::ipv4);
    CHECK(v.ether_type == kEtherIpv4);
    CHECK(v.src == ip("10.0.0.1"));
    CHECK(v.dst == ip("192.168.1.2"));
    CHECK(v.l3_offset == at);
    CHECK(v.ip_proto == kProtoTcp);
    CHECK(v.has_l4);
    CHECK(v.src_port == 40000);
    CHECK(v.dst_port == 443);
    CHECK(v.tcp_flags == kTcpSyn);
    CHECK(v.payload_offset == at + 40);
    CHECK(v.payload_len == 5);
}

void check_udp_v6(const PacketView& v, size_t at) {
    CHECK(v.l3 == L3Type::ipv6);
    CHECK(v.ether_type == kEtherIpv6);
    CHECK(v.src == ip("2001:db8::1"));
    CHECK(v.dst == ip("2001:db8::2"));
    CHECK(v.l3_offset == at);
    CHECK(v.ip_proto == kProtoUdp);
    CHECK(v.src_port == 5353);
    CHECK(v.dst_port == 53);
    CHECK(v.payload_offset == at + 48);
    CHECK(v.payload_len == 5);
}

struct Framed {
    const char* what;
    LinkType link;
    Bytes header;
};

} // namespace

namespace Catch {
template <>
struct StringMaker<sg::LinkType> {
    static std::string convert(sg::LinkType t) { return std::to_string(int(t)); }
};
} // namespace Catch

TEST_CASE("The link type's name for the new anomaly") {
    CHECK(std::string(anomaly_name(Anomaly::truncated_link_header)) == "truncated_link_header");
}

TEST_CASE("Ethernet is the default link type") {
    const Bytes frame = ethernet(kEtherIpv4) + tcp_v4();
    PacketView plain, explicit_ethernet;
    REQUIRE(decode_bytes(frame, plain) == Anomaly::none);
    REQUIRE(decode_as(frame, LinkType::ethernet, explicit_ethernet) == Anomaly::none);
    check_tcp_v4(plain, 14);
    check_tcp_v4(explicit_ethernet, 14);
    CHECK(LinkType{} == LinkType::ethernet);  // a port nobody set up decodes Ethernet
}

TEST_CASE("Every link type reaches the same IPv4 and IPv6 packets") {
    const std::vector<Framed> v4 = {
        {"ethernet", LinkType::ethernet, ethernet(kEtherIpv4)},
        {"raw", LinkType::raw, {}},
        {"ipv4", LinkType::ipv4, {}},
        {"linux_sll", LinkType::linux_sll, sll(kEtherIpv4)},
        {"linux_sll2", LinkType::linux_sll2, sll2(kEtherIpv4)},
        {"null, little-endian host", LinkType::null_host, null_le(2)},
        {"null, big-endian host", LinkType::null_host, family_be(2)},
        {"loop", LinkType::loop, family_be(2)},
    };
    for (const Framed& f : v4) {
        INFO(f.what);
        PacketView v;
        REQUIRE(decode_as(f.header + tcp_v4(), f.link, v) == Anomaly::none);
        check_tcp_v4(v, f.header.size());
    }
    const std::vector<Framed> v6 = {
        {"ethernet", LinkType::ethernet, ethernet(kEtherIpv6)},
        {"raw", LinkType::raw, {}},
        {"ipv6", LinkType::ipv6, {}},
        {"linux_sll", LinkType::linux_sll, sll(kEtherIpv6)},
        {"linux_sll2", LinkType::linux_sll2, sll2(kEtherIpv6)},
        {"null, NetBSD/OpenBSD AF_INET6", LinkType::null_host, null_le(24)},
        {"null, FreeBSD AF_INET6", LinkType::null_host, null_le(28)},
        {"null, Darwin AF_INET6", LinkType::null_host, null_le(30)},
        {"null, Darwin AF_INET6 from a big-endian host", LinkType::null_host, family_be(30)},
        {"loop, OpenBSD AF_INET6", LinkType::loop, family_be(24)},
        {"loop, FreeBSD AF_INET6", LinkType::loop, family_be(28)},
        {"loop, Darwin AF_INET6", LinkType::loop, family_be(30)},
    };
    for (const Framed& f : v6) {
        INFO(f.what);
        PacketView v;
        REQUIRE(decode_as(f.header + udp_v6(), f.link, v) == Anomaly::none);
        check_udp_v6(v, f.header.size());
    }
}

TEST_CASE("Raw IP: the version nibble picks the decoder, the link type fixes it") {
    PacketView v;
    // A version raw IP cannot carry: decoded as IPv4, which says why it failed.
    Bytes v5 = tcp_v4();
    v5[0] = 0x55;
    CHECK(decode_as(v5, LinkType::raw, v) == Anomaly::bad_ipv4_version);
    CHECK(v.l3 == L3Type::none);
    CHECK(decode_as({}, LinkType::raw, v) == Anomaly::truncated_ipv4);
    CHECK(decode_as({0x60}, LinkType::raw, v) == Anomaly::truncated_ipv6);
    // LINKTYPE_IPV4 / IPV6 promise one version: the other is malformed.
    CHECK(decode_as(udp_v6(), LinkType::ipv4, v) == Anomaly::bad_ipv4_version);
    CHECK(decode_as(tcp_v4(), LinkType::ipv6, v) == Anomaly::bad_ipv6_version);
}

TEST_CASE("Linux cooked captures continue as after an ethertype") {
    PacketView v;
    SECTION("an 802.1Q tag") {
        const Bytes frame = sll(kEtherVlan) + Bytes{0x20, 0x2A} + Bytes{0x08, 0x00} + tcp_v4();
        REQUIRE(decode_as(frame, LinkType::linux_sll, v) == Anomaly::none);
        CHECK(v.vlan_count == 1);
        CHECK(v.vlan_id == 42);
        check_tcp_v4(v, 20);
    }
    SECTION("a cut 802.1Q tag") {
        const Bytes frame = sll2(kEtherVlan) + Bytes{0x20, 0x2A};
        CHECK(decode_as(frame, LinkType::linux_sll2, v) == Anomaly::truncated_vlan);
    }
    SECTION("ARP") {
        REQUIRE(decode_as(sll(kEtherArp) + arp_request("10.0.0.1", "10.0.0.2"), LinkType::linux_sll, v) ==
                Anomaly::none);
        CHECK(v.l3 == L3Type::arp);
        CHECK(v.src == ip("10.0.0.1"));
        CHECK(v.dst == ip("10.0.0.2"));
    }
    SECTION("802.2 LLC (protocol 0x0004) and other protocols are not IP, not malformed") {
        REQUIRE(decode_as(sll(0x0004) + zeros(20), LinkType::linux_sll, v) == Anomaly::none);
        CHECK(v.l3 == L3Type::other);
        REQUIRE(decode_as(sll2(0x88CC) + zeros(20), LinkType::linux_sll2, v) == Anomaly::none);
        CHECK(v.l3 == L3Type::other);
        CHECK(v.ether_type == 0x88CC);
    }
    SECTION("the protocol is read where each version keeps it") {
        // SLL2's first bytes are SLL's packet type: 0x0800 there is not IPv4.
        REQUIRE(decode_as(sll2(kEtherIpv4) + tcp_v4(), LinkType::linux_sll, v) == Anomaly::none);
        CHECK(v.l3 != L3Type::ipv4);
    }
}

TEST_CASE("BSD loopback: families that are not IP decode as other") {
    PacketView v;
    REQUIRE(decode_as(null_le(7) + tcp_v4(), LinkType::null_host, v) == Anomaly::none);
    CHECK(v.l3 == L3Type::other);
    REQUIRE(decode_as(family_be(0) + tcp_v4(), LinkType::loop, v) == Anomaly::none);
    CHECK(v.l3 == L3Type::other);
    // DLT_LOOP is network order by definition: a little-endian 2 is not AF_INET.
    REQUIRE(decode_as(null_le(2) + tcp_v4(), LinkType::loop, v) == Anomaly::none);
    CHECK(v.l3 == L3Type::other);
}

TEST_CASE("A link header cut at every offset is truncated_link_header") {
    const std::vector<Framed> framed = {
        {"linux_sll", LinkType::linux_sll, sll(kEtherIpv4)},
        {"linux_sll2", LinkType::linux_sll2, sll2(kEtherIpv4)},
        {"null", LinkType::null_host, null_le(2)},
        {"loop", LinkType::loop, family_be(2)},
    };
    for (const Framed& f : framed) {
        const Bytes frame = f.header + tcp_v4();
        for (size_t len = 0; len < f.header.size(); ++len) {
            INFO(f.what << ": prefix of " << len << " bytes");
            PacketView v;
            CHECK(decode_prefix_as(frame, len, f.link, v) == Anomaly::truncated_link_header);
            CHECK(v.l3 == L3Type::none);
            CHECK(v.payload_len == 0);
        }
        // The whole link header and nothing more: the cut is in the IP header.
        INFO(f.what << ": the link header alone");
        PacketView v;
        CHECK(decode_prefix_as(frame, f.header.size(), f.link, v) == Anomaly::truncated_ipv4);
    }
}

TEST_CASE("Raw IP cut at every offset fails in the layer the cut fell into") {
    const Bytes v4 = tcp_v4();
    const Bytes v6 = udp_v6();
    for (const LinkType link : {LinkType::raw, LinkType::ipv4}) {
        for (size_t len = 0; len < v4.size(); ++len) {
            INFO("IPv4, link " << int(link) << ", prefix of " << len << " bytes");
            PacketView v;
            const Anomaly want = len < 20   ? Anomaly::truncated_ipv4
                                 : len < 40 ? Anomaly::truncated_tcp
                                            : Anomaly::truncated_payload;
            CHECK(decode_prefix_as(v4, len, link, v) == want);
        }
    }
    for (const LinkType link : {LinkType::raw, LinkType::ipv6}) {
        // The empty prefix has no version nibble: raw IP calls it a cut IPv4 header.
        for (size_t len = link == LinkType::raw ? 1 : 0; len < v6.size(); ++len) {
            INFO("IPv6, link " << int(link) << ", prefix of " << len << " bytes");
            PacketView v;
            const Anomaly want = len < 40   ? Anomaly::truncated_ipv6
                                 : len < 48 ? Anomaly::truncated_udp
                                            : Anomaly::truncated_payload;
            CHECK(decode_prefix_as(v6, len, link, v) == want);
        }
    }
}
