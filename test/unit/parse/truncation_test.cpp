// Cut frames and damaged frames: every prefix of a good frame is decoded from
// a buffer of exactly that size (AddressSanitizer sees any over-read), and the
// anomaly names the layer the cut fell into.
#include "parse/decode.hpp"

#include <random>
#include <vector>

#include "packet_builder.hpp"

using namespace sg;
using namespace sg::test;

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherArp = 0x0806;

// A layer of a frame: prefixes shorter than `end` (and not shorter than the
// previous layer's end) must give `anomaly`.
struct Layer {
    size_t end;
    Anomaly anomaly;
};

// The fields a cut in the payload must not change.
void check_same_headers(const PacketView& cut, const PacketView& full) {
    CHECK(cut.l3 == full.l3);
    CHECK(cut.src == full.src);
    CHECK(cut.dst == full.dst);
    CHECK(cut.ip_proto == full.ip_proto);
    CHECK(cut.l3_offset == full.l3_offset);
    CHECK(cut.has_l4 == full.has_l4);
    CHECK(cut.src_port == full.src_port);
    CHECK(cut.dst_port == full.dst_port);
    CHECK(cut.payload_offset == full.payload_offset);
    CHECK(cut.wire_payload_len == full.wire_payload_len);
    CHECK(cut.tunnel.type == full.tunnel.type);
    CHECK(cut.tunnel.depth == full.tunnel.depth);
    CHECK(cut.tunnel.id == full.tunnel.id);
}

void check_every_prefix(const Bytes& frame, const std::vector<Layer>& layers) {
    REQUIRE(layers.back().end == frame.size());
    PacketView full;
    REQUIRE(decode_bytes(frame, full) == Anomaly::none);

    size_t layer = 0;
    for (size_t len = 0; len < frame.size(); ++len) {
        while (len >= layers[layer].end) ++layer;
        INFO("prefix of " << len << " bytes out of " << frame.size());
        PacketView cut;
        const Anomaly got = decode_prefix(frame, len, cut);
        CHECK(got == layers[layer].anomaly);
        CHECK(cut.payload_offset + cut.payload_len <= len);
        if (got == Anomaly::truncated_payload) {
            check_same_headers(cut, full);
            CHECK(cut.payload_len == len - full.payload_offset);
        }
    }
}

Bytes plain_tcp() {
    const Bytes ip_options = {0x01, 0x01, 0x01, 0x00};
    // MSS, NOP, window scale, SACK permitted, two end-of-list
    const Bytes tcp_options = {0x02, 0x04, 0x05, 0xB4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x00, 0x00};
    return ethernet(kEtherIpv4) + ipv4("10.0.0.1", "10.0.0.2", kProtoTcp,
                                       tcp(1234, 80, kTcpAck, text("0123456789"), tcp_options),
                                       {.options = ip_options});
}

Bytes ipv6_extensions_udp() {
    const Bytes chain = ipv6_extension(43, 8,
                            ipv6_extension(44, 24,
                                ipv6_fragment(60, 0, true, 1,
                                    ipv6_extension(kProtoUdp, 16, udp(5000, 6000, zeros(20))))));
    return ethernet(kEtherIpv6) + ipv6("2001:db8::1", "2001:db8::2", 0, chain);
}

Bytes vxlan_tcp() {
    const Bytes inner = ethernet(kEtherIpv4) +
                        ipv4("172.16.0.1", "172.16.0.2", kProtoTcp, tcp(40000, 22, kTcpAck, zeros(16)));
    return ethernet(kEtherIpv4) +
           ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(50000, kVxlanPort, vxlan(77, inner)));
}

Bytes gre_erspan2_udp() {
    const Bytes inner = ethernet(kEtherIpv4) +
                        ipv4("172.16.0.1", "172.16.0.2", kProtoUdp, udp(40000, 53, zeros(12)));
    return ethernet(kEtherIpv4) +
           ipv4("10.0.0.1", "10.0.0.2", kProtoGre, gre(0x88BE, erspan2(9, inner), {.sequence = 1}));
}

Bytes geneve_icmpv6() {
    const Bytes options = zeros(8);
    const Bytes inner = ipv6("fd00::1", "fd00::2", kProtoIcmpv6, icmp(128, 0, 1, 1, zeros(10)));
    return ethernet(kEtherIpv4) +
           ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(50000, kGenevePort, geneve(5, kEtherIpv6, options, inner)));
}

Bytes qinq_arp() {
    return ethernet(kEtherArp, {{0x88A8, 10}, {0x8100, 20}}) + arp_request("10.0.0.1", "10.0.0.2");
}

} // namespace

TEST_CASE("Every prefix of a TCP frame names the layer it cut") {
    check_every_prefix(plain_tcp(), {{14, Anomaly::truncated_ethernet},
                                     {38, Anomaly::truncated_ipv4},   // incl. the 4 option bytes
                                     {70, Anomaly::truncated_tcp},    // incl. 12 option bytes
                                     {80, Anomaly::truncated_payload}});
}

TEST_CASE("Every prefix of an IPv6 frame with extension headers names the layer it cut") {
    check_every_prefix(ipv6_extensions_udp(), {{14, Anomaly::truncated_ethernet},
                                               {54, Anomaly::truncated_ipv6},
                                               {110, Anomaly::truncated_ipv6_extension},
                                               {118, Anomaly::truncated_udp},
                                               {138, Anomaly::truncated_payload}});
}

TEST_CASE("Every prefix of a VXLAN frame names the layer it cut") {
    check_every_prefix(vxlan_tcp(), {{14, Anomaly::truncated_ethernet},
                                     {34, Anomaly::truncated_ipv4},
                                     {42, Anomaly::truncated_udp},
                                     {50, Anomaly::truncated_vxlan},
                                     {64, Anomaly::truncated_ethernet},
                                     {84, Anomaly::truncated_ipv4},
                                     {104, Anomaly::truncated_tcp},
                                     {120, Anomaly::truncated_payload}});
}

TEST_CASE("Every prefix of a GRE/ERSPAN II frame names the layer it cut") {
    check_every_prefix(gre_erspan2_udp(), {{14, Anomaly::truncated_ethernet},
                                           {34, Anomaly::truncated_ipv4},
                                           {42, Anomaly::truncated_gre},
                                           {50, Anomaly::truncated_erspan},
                                           {64, Anomaly::truncated_ethernet},
                                           {84, Anomaly::truncated_ipv4},
                                           {92, Anomaly::truncated_udp},
                                           {104, Anomaly::truncated_payload}});
}

TEST_CASE("Every prefix of a GENEVE frame names the layer it cut") {
    check_every_prefix(geneve_icmpv6(), {{14, Anomaly::truncated_ethernet},
                                         {34, Anomaly::truncated_ipv4},
                                         {42, Anomaly::truncated_udp},
                                         {58, Anomaly::truncated_geneve},
                                         {98, Anomaly::truncated_ipv6},
                                         {106, Anomaly::truncated_icmpv6},
                                         {116, Anomaly::truncated_payload}});
}

TEST_CASE("Every prefix of a QinQ ARP frame names the layer it cut") {
    check_every_prefix(qinq_arp(), {{14, Anomaly::truncated_ethernet},
                                    {22, Anomaly::truncated_vlan},
                                    {50, Anomaly::truncated_arp}});
}

TEST_CASE("Damaged frames never read out of bounds and keep the view consistent") {
    // Every byte of every frame above set to a few telling values, then random
    // bytes: under AddressSanitizer an out-of-bounds read fails the run.
    const std::vector<Bytes> frames = {plain_tcp(), ipv6_extensions_udp(), vxlan_tcp(),
                                       gre_erspan2_udp(), geneve_icmpv6(), qinq_arp()};
    std::mt19937 random(20240601);
    PacketView v;
    size_t decoded = 0;
    for (const Bytes& good : frames) {
        for (size_t at = 0; at < good.size(); ++at) {
            const uint8_t values[] = {0x00, 0x01, 0x0F, 0x3F, 0x45, 0x80, 0xFF, uint8_t(random())};
            for (const uint8_t value : values) {
                Bytes bad = good;
                bad[at] = value;
                for (const size_t len : {bad.size(), size_t(random() % bad.size())}) {
                    decode_prefix(bad, len, v);
                    ++decoded;
                    REQUIRE(v.payload_offset + v.payload_len <= len);
                    REQUIRE(v.tunnel.depth <= kMaxTunnelDepth);
                    REQUIRE(v.vlan_count <= kMaxVlanTags);
                    if (v.has_l4) REQUIRE(v.l4_offset < len);
                }
            }
        }
    }
    for (int i = 0; i < 20000; ++i) {
        Bytes noise(random() % 200);
        for (uint8_t& b : noise) b = uint8_t(random());
        if (noise.size() > 13 && i % 2) {  // reach the IPv4 decoder
            noise[12] = 0x08;
            noise[13] = 0x00;
        }
        decode_bytes(noise, v);
        REQUIRE(v.payload_offset + v.payload_len <= noise.size());
        ++decoded;
    }
    CHECK(decoded > 20000);
}
