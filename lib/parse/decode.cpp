#include "parse/decode.hpp"

#include <algorithm>

// One small function per layer. Each receives the Span of bytes its layer may
// use and checks every read against it before touching the frame, so a
// malformed or cut frame ends in an Anomaly, never in a read past the end.

namespace sg {

namespace {

// Ethertypes (also used by GRE and GENEVE as their protocol type).
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinq = 0x88A8;
constexpr uint16_t kEtherQinqLegacy = 0x9100;  // pre-802.1ad QinQ, still seen on old gear
constexpr uint16_t kEtherTeb = 0x6558;         // transparent Ethernet bridging: an Ethernet frame
constexpr uint16_t kEtherErspan2 = 0x88BE;     // ERSPAN type I (no header) and type II
constexpr uint16_t kEtherErspan3 = 0x22EB;

constexpr uint32_t kEthernetHeaderLen = 14;
constexpr uint32_t kSllHeaderLen = 16;         // Linux cooked v1: protocol in its last 2 bytes
constexpr uint32_t kSllProtocolAt = 14;
constexpr uint32_t kSll2HeaderLen = 20;        // Linux cooked v2: protocol in its first 2 bytes
constexpr uint32_t kNullHeaderLen = 4;         // BSD loopback: the address family
constexpr uint32_t kVlanTagLen = 4;            // TCI + the next ethertype
constexpr uint32_t kArpFixedLen = 8;
constexpr uint32_t kIpv4MinHeaderLen = 20;
constexpr uint32_t kIpv6HeaderLen = 40;
constexpr uint32_t kIpv6FragmentHeaderLen = 8;
constexpr uint32_t kTcpMinHeaderLen = 20;
constexpr uint32_t kUdpHeaderLen = 8;
constexpr uint32_t kIcmpHeaderLen = 8;         // type, code, checksum and 4 type-specific bytes
constexpr uint32_t kVxlanHeaderLen = 8;
constexpr uint32_t kGeneveHeaderLen = 8;
constexpr uint32_t kGreBaseHeaderLen = 4;
constexpr uint32_t kErspan2HeaderLen = 8;
constexpr uint32_t kErspan3HeaderLen = 12;
constexpr uint32_t kErspan3SubheaderLen = 8;   // platform-specific, present when O is set

// BSD address families in DLT_NULL / DLT_LOOP headers. AF_INET is 2
// everywhere; AF_INET6 differs: NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30.
constexpr uint32_t kFamilyInet = 2;
constexpr uint32_t kFamilyInet6Bsd = 24;
constexpr uint32_t kFamilyInet6FreeBsd = 28;
constexpr uint32_t kFamilyInet6Darwin = 30;

constexpr uint8_t kIpv4MoreFragments = 0x20;   // in the high byte of flags/offset
constexpr uint16_t kIpv4OffsetMask = 0x1FFF;   // in 8-byte units

constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6Auth = 51;
constexpr uint8_t kIpv6DestOptions = 60;
constexpr uint16_t kIpv6OffsetMask = 0xFFF8;   // already in bytes: 13 bits shifted by 3

constexpr uint8_t kIcmpEchoReply = 0;
constexpr uint8_t kIcmpEchoRequest = 8;
constexpr uint8_t kIcmpv6EchoRequest = 128;
constexpr uint8_t kIcmpv6EchoReply = 129;

constexpr uint8_t kVxlanFlagVni = 0x08;        // I: the VNI is valid
constexpr uint8_t kGreChecksum = 0x80;         // flag bits in the first GRE byte
constexpr uint8_t kGreRouting = 0x40;
constexpr uint8_t kGreKey = 0x20;
constexpr uint8_t kGreSequence = 0x10;
constexpr uint8_t kGreVersionMask = 0x07;      // in the second GRE byte
constexpr uint16_t kErspanSessionMask = 0x03FF;
constexpr uint8_t kErspan3FlagSubheader = 0x01;  // O, the last bit of the third word

// PacketView offsets are 16 bits wide. No frame on an Ethernet wire comes near
// this; a larger buffer (LRO, a bogus length) is decoded as its first 64 KiB.
constexpr uint32_t kMaxFrameLen = 0xFFFF;

uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t load_be24(const uint8_t* p) { return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]; }
uint32_t load_be32(const uint8_t* p) { return uint32_t(load_be16(p)) << 16 | load_be16(p + 2); }

// The bytes one layer may use: [off, end) is what the frame holds, already cut
// by every enclosing length field (so Ethernet padding never counts).
// wire_end is where the enclosing header says the layer ends; it lies past
// `end` when the capture (snaplen) cut the frame. Invariant: off <= end <= wire_end.
struct Span {
    uint32_t off;
    uint32_t end;
    uint32_t wire_end;

    bool has(uint32_t n) const { return end - off >= n; }
    // The rest after a header of n bytes; callers check has(n) first.
    Span after(uint32_t n) const { return {off + n, end, wire_end}; }
    // This span limited to `declared_len` bytes, as a length field says.
    Span limited_to(uint32_t declared_len) const {
        const uint32_t declared_end = off + declared_len;
        return {off, std::min(end, declared_end), declared_end};
    }
    bool cut() const { return wire_end > end; }
};

bool is_vlan_tpid(uint16_t type) {
    return type == kEtherVlan || type == kEtherQinq || type == kEtherQinqLegacy;
}

bool is_ipv6_extension(uint8_t next) {
    return next == kIpv6HopByHop || next == kIpv6Routing || next == kIpv6Fragment ||
           next == kIpv6Auth || next == kIpv6DestOptions;
}

// Records the bytes after an L4 header of `header_len` bytes (which the
// caller checked fits). Headers intact but bytes missing is truncated_payload.
Anomaly set_payload(Span s, uint32_t header_len, PacketView& out) {
    const uint32_t start = s.off + header_len;
    out.payload_offset = uint16_t(start);
    out.payload_len = uint16_t(s.end - start);
    out.wire_payload_len = s.wire_end - start;
    return s.cut() ? Anomaly::truncated_payload : Anomaly::none;
}

// The layers call each other downwards; tunnels call back up to Ethernet/IP.
Anomaly decode_ethernet(const uint8_t* f, Span s, PacketView& out);
Anomaly decode_l3(const uint8_t* f, Span s, uint16_t ether_type, PacketView& out);

// Starts over on the packet a tunnel carries: the inner packet is what gets
// attributed, so its decode replaces every field but the tunnel context.
// `inner` is kEtherTeb for an Ethernet frame, else the ethertype of an IP packet.
Anomaly enter_tunnel(const uint8_t* f, Span s, TunnelType type, uint32_t id, uint16_t inner,
                     PacketView& out) {
    if (out.tunnel.depth >= kMaxTunnelDepth) return Anomaly::too_many_tunnels;
    TunnelContext tunnel = out.tunnel;
    if (tunnel.depth == 0) {
        tunnel.type = type;
        tunnel.outer_src = out.src;
        tunnel.outer_dst = out.dst;
        tunnel.outer_proto = out.ip_proto;
        tunnel.outer_ipv6 = out.l3 == L3Type::ipv6;
        if (out.ip_proto == kProtoUdp) {  // the outer flow of VXLAN / GENEVE
            tunnel.outer_src_port = out.src_port;
            tunnel.outer_dst_port = out.dst_port;
        }
    }
    ++tunnel.depth;
    tunnel.id = id;
    const uint16_t vlan_count = out.vlan_count;
    const uint16_t vlan_id = out.vlan_id;
    out = PacketView{};
    out.tunnel = tunnel;
    if (inner == kEtherTeb) return decode_ethernet(f, s, out);
    // An IP packet straight inside the tunnel has no link layer of its own:
    // the last Ethernet header seen still describes the link.
    out.vlan_count = vlan_count;
    out.vlan_id = vlan_id;
    return decode_l3(f, s, inner, out);
}

bool carries_packet(uint16_t proto) {
    return proto == kEtherTeb || proto == kEtherIpv4 || proto == kEtherIpv6;
}

// ---- Tunnels -----------------------------------------------------------------

// `plain` is what the outer UDP decode returned: the answer when the payload
// turns out not to be a tunnel after all.
Anomaly decode_vxlan(const uint8_t* f, Span s, Anomaly plain, PacketView& out) {
    if (!s.has(kVxlanHeaderLen)) return Anomaly::truncated_vxlan;
    const uint8_t* v = f + s.off;
    // RFC 7348: without I the VNI means nothing; it is someone else's traffic on 4789.
    if (!(v[0] & kVxlanFlagVni)) return plain;
    return enter_tunnel(f, s.after(kVxlanHeaderLen), TunnelType::vxlan, load_be24(v + 4),
                        kEtherTeb, out);
}

Anomaly decode_geneve(const uint8_t* f, Span s, Anomaly plain, PacketView& out) {
    if (!s.has(kGeneveHeaderLen)) return Anomaly::truncated_geneve;
    const uint8_t* g = f + s.off;
    if (g[0] >> 6 != 0) return Anomaly::bad_geneve_header;  // only version 0 exists
    const uint32_t header_len = kGeneveHeaderLen + (g[0] & 0x3Fu) * 4;
    if (!s.has(header_len)) return Anomaly::truncated_geneve;
    const uint16_t proto = load_be16(g + 2);
    if (!carries_packet(proto)) return plain;
    return enter_tunnel(f, s.after(header_len), TunnelType::geneve, load_be24(g + 4), proto, out);
}

// Type I has no header (the GRE sequence bit tells them apart, as in Linux and
// Wireshark); type II has 8 bytes with the session id in its low 10 bits.
Anomaly decode_erspan2(const uint8_t* f, Span s, bool gre_has_sequence, PacketView& out) {
    if (!gre_has_sequence) return enter_tunnel(f, s, TunnelType::erspan, 0, kEtherTeb, out);
    if (!s.has(kErspan2HeaderLen)) return Anomaly::truncated_erspan;
    const uint32_t session = load_be16(f + s.off + 2) & kErspanSessionMask;
    return enter_tunnel(f, s.after(kErspan2HeaderLen), TunnelType::erspan, session, kEtherTeb, out);
}

Anomaly decode_erspan3(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kErspan3HeaderLen)) return Anomaly::truncated_erspan;
    const uint8_t* e = f + s.off;
    const uint32_t header_len =
        kErspan3HeaderLen + ((e[11] & kErspan3FlagSubheader) ? kErspan3SubheaderLen : 0);
    if (!s.has(header_len)) return Anomaly::truncated_erspan;
    const uint32_t session = load_be16(e + 2) & kErspanSessionMask;
    return enter_tunnel(f, s.after(header_len), TunnelType::erspan, session, kEtherTeb, out);
}

Anomaly decode_gre(const uint8_t* f, Span s, PacketView& out) {
    // Whatever GRE carries that we do not open stays visible as IP payload.
    const Anomaly plain = set_payload(s, 0, out);
    if (!s.has(kGreBaseHeaderLen)) return Anomaly::truncated_gre;
    const uint8_t* g = f + s.off;
    const uint8_t version = g[1] & kGreVersionMask;
    if (version == 1) return plain;  // PPTP: carries PPP, not a packet we decode
    // Version 2+ does not exist; source routing (RFC 1701) is obsolete and
    // dropped by every modern stack, so its variable-length fields are not walked.
    if (version != 0 || (g[0] & kGreRouting)) return Anomaly::bad_gre_header;
    const uint32_t key_at = kGreBaseHeaderLen + ((g[0] & kGreChecksum) ? 4 : 0);
    const uint32_t header_len = key_at + ((g[0] & kGreKey) ? 4 : 0) + ((g[0] & kGreSequence) ? 4 : 0);
    if (!s.has(header_len)) return Anomaly::truncated_gre;
    const uint32_t key = (g[0] & kGreKey) ? load_be32(g + key_at) : 0;
    const uint16_t proto = load_be16(g + 2);
    const Span inner = s.after(header_len);
    if (proto == kEtherErspan2) return decode_erspan2(f, inner, (g[0] & kGreSequence) != 0, out);
    if (proto == kEtherErspan3) return decode_erspan3(f, inner, out);
    if (!carries_packet(proto)) return plain;
    return enter_tunnel(f, inner, TunnelType::gre, key, proto, out);
}

// ---- Transport -----------------------------------------------------------------

Anomaly decode_tcp(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kTcpMinHeaderLen)) return Anomaly::truncated_tcp;
    const uint8_t* t = f + s.off;
    out.has_l4 = true;
    out.l4_offset = uint16_t(s.off);
    out.src_port = load_be16(t);
    out.dst_port = load_be16(t + 2);
    out.tcp_seq = load_be32(t + 4);
    out.tcp_ack = load_be32(t + 8);
    out.tcp_flags = t[13];
    out.tcp_window = load_be16(t + 14);
    const uint32_t header_len = (t[12] >> 4) * 4u;
    if (header_len < kTcpMinHeaderLen) return Anomaly::bad_tcp_header_length;
    if (!s.has(header_len)) return Anomaly::truncated_tcp;
    return set_payload(s, header_len, out);
}

Anomaly decode_udp(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kUdpHeaderLen)) return Anomaly::truncated_udp;
    const uint8_t* u = f + s.off;
    out.has_l4 = true;
    out.l4_offset = uint16_t(s.off);
    out.src_port = load_be16(u);
    out.dst_port = load_be16(u + 2);
    const uint16_t udp_len = load_be16(u + 4);
    if (udp_len < kUdpHeaderLen) return Anomaly::bad_udp_length;
    // The UDP length may end the datagram before the IP length does; a UDP
    // length beyond it is left to the IP bound (a first fragment has one).
    Span datagram = s;
    datagram.wire_end = std::min(s.wire_end, s.off + udp_len);
    datagram.end = std::min(s.end, datagram.wire_end);
    const Anomaly plain = set_payload(datagram, kUdpHeaderLen, out);
    const Span payload = datagram.after(kUdpHeaderLen);
    if (out.dst_port == kVxlanPort) return decode_vxlan(f, payload, plain, out);
    if (out.dst_port == kGenevePort) return decode_geneve(f, payload, plain, out);
    return plain;
}

// ICMP and ICMPv6 share the layout of their first 8 bytes.
Anomaly decode_icmp(const uint8_t* f, Span s, Anomaly truncated, PacketView& out) {
    if (!s.has(kIcmpHeaderLen)) return truncated;
    const uint8_t* c = f + s.off;
    out.has_l4 = true;
    out.l4_offset = uint16_t(s.off);
    out.icmp_type = c[0];
    out.icmp_code = c[1];
    const bool echo = out.ip_proto == kProtoIcmp
                          ? (c[0] == kIcmpEchoRequest || c[0] == kIcmpEchoReply)
                          : (c[0] == kIcmpv6EchoRequest || c[0] == kIcmpv6EchoReply);
    if (echo) {
        out.icmp_id = load_be16(c + 4);
        out.icmp_seq = load_be16(c + 6);
    }
    return set_payload(s, kIcmpHeaderLen, out);
}

// `s` is the IP payload: after the IPv4 header or the IPv6 extension headers.
Anomaly decode_ip_payload(const uint8_t* f, Span s, PacketView& out) {
    // A later fragment starts mid-datagram: its bytes are payload, not headers.
    if (out.later_fragment) return set_payload(s, 0, out);
    switch (out.ip_proto) {
    case kProtoTcp: return decode_tcp(f, s, out);
    case kProtoUdp: return decode_udp(f, s, out);
    case kProtoIcmp: return decode_icmp(f, s, Anomaly::truncated_icmp, out);
    case kProtoIcmpv6: return decode_icmp(f, s, Anomaly::truncated_icmpv6, out);
    case kProtoGre: return decode_gre(f, s, out);
    default: return set_payload(s, 0, out);  // a protocol we do not decode: no L4 header
    }
}

// ---- Network -------------------------------------------------------------------

Anomaly decode_ipv4(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kIpv4MinHeaderLen)) return Anomaly::truncated_ipv4;
    const uint8_t* ip = f + s.off;
    if (ip[0] >> 4 != 4) return Anomaly::bad_ipv4_version;
    out.l3 = L3Type::ipv4;
    out.l3_offset = uint16_t(s.off);
    out.ip_tos = ip[1];
    out.ip_id = load_be16(ip + 4);
    out.ttl = ip[8];
    out.ip_proto = ip[9];
    out.src = IpAddress::from_v4(ip + 12);
    out.dst = IpAddress::from_v4(ip + 16);
    const uint16_t flags_offset = load_be16(ip + 6);
    out.frag_offset = uint16_t((flags_offset & kIpv4OffsetMask) * 8u);
    out.fragment = (ip[6] & kIpv4MoreFragments) || out.frag_offset != 0;
    out.later_fragment = out.frag_offset != 0;

    const uint32_t header_len = (ip[0] & 0x0Fu) * 4;
    if (header_len < kIpv4MinHeaderLen) return Anomaly::bad_ipv4_header_length;
    if (!s.has(header_len)) return Anomaly::truncated_ipv4;
    out.l3_len = uint16_t(header_len);
    out.ip_options_len = uint16_t(header_len - kIpv4MinHeaderLen);
    // A total length past the captured bytes is a snaplen cut, not malformed:
    // the payload is bounded below and flagged once the L4 header is complete.
    const uint16_t total_len = load_be16(ip + 2);
    if (total_len < header_len) return Anomaly::bad_ipv4_total_length;
    return decode_ip_payload(f, s.limited_to(total_len).after(header_len), out);
}

// One extension header at s.off; advances `s` and `next` past it.
Anomaly decode_ipv6_extension(const uint8_t* f, Span& s, uint8_t& next, PacketView& out) {
    if (!s.has(2)) return Anomaly::truncated_ipv6_extension;
    const uint8_t* h = f + s.off;
    uint32_t len = (h[1] + 1u) * 8;
    if (next == kIpv6Auth) len = (h[1] + 2u) * 4;  // AH counts 4-byte words (RFC 4302)
    if (next == kIpv6Fragment) len = kIpv6FragmentHeaderLen;
    if (!s.has(len)) return Anomaly::truncated_ipv6_extension;
    if (next == kIpv6Fragment) {
        out.fragment = true;
        out.frag_offset = load_be16(h + 2) & kIpv6OffsetMask;
        out.later_fragment = out.frag_offset != 0;
        out.ip_id = uint16_t(load_be32(h + 4));  // the low half of the 32-bit identification
    }
    next = h[0];
    s = s.after(len);
    return Anomaly::none;
}

Anomaly decode_ipv6(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kIpv6HeaderLen)) return Anomaly::truncated_ipv6;
    const uint8_t* ip = f + s.off;
    if (ip[0] >> 4 != 6) return Anomaly::bad_ipv6_version;
    out.l3 = L3Type::ipv6;
    out.l3_offset = uint16_t(s.off);
    out.ip_tos = uint8_t((ip[0] & 0x0F) << 4 | ip[1] >> 4);
    out.ttl = ip[7];
    out.src = IpAddress::from_v6(ip + 8);
    out.dst = IpAddress::from_v6(ip + 24);

    Span rest = s.limited_to(kIpv6HeaderLen + load_be16(ip + 4)).after(kIpv6HeaderLen);
    uint8_t next = ip[6];
    // Bounded walk: a chain of tiny headers must not cost unbounded time.
    for (unsigned count = 0; is_ipv6_extension(next) && !out.later_fragment; ++count) {
        if (count == kMaxIpv6Extensions) return Anomaly::too_many_ipv6_extensions;
        if (const Anomaly a = decode_ipv6_extension(f, rest, next, out); a != Anomaly::none) return a;
    }
    out.ip_proto = next;
    out.l3_len = uint16_t(rest.off - s.off);
    return decode_ip_payload(f, rest, out);
}

Anomaly decode_arp(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kArpFixedLen)) return Anomaly::truncated_arp;
    const uint8_t* a = f + s.off;
    const uint32_t hw_len = a[4];
    const uint32_t proto_len = a[5];
    const uint32_t body_len = kArpFixedLen + 2 * (hw_len + proto_len);  // 28 for IPv4 over Ethernet
    if (!s.has(body_len)) return Anomaly::truncated_arp;
    out.l3 = L3Type::arp;
    out.l3_offset = uint16_t(s.off);
    out.l3_len = uint16_t(body_len);
    // Sender and target protocol addresses, so ARP can be attributed to hosts.
    if (load_be16(a + 2) == kEtherIpv4 && proto_len == 4) {
        out.src = IpAddress::from_v4(a + kArpFixedLen + hw_len);
        out.dst = IpAddress::from_v4(a + kArpFixedLen + 2 * hw_len + proto_len);
    }
    return Anomaly::none;
}

Anomaly decode_l3(const uint8_t* f, Span s, uint16_t ether_type, PacketView& out) {
    out.ether_type = ether_type;
    switch (ether_type) {
    case kEtherIpv4: return decode_ipv4(f, s, out);
    case kEtherIpv6: return decode_ipv6(f, s, out);
    case kEtherArp: return decode_arp(f, s, out);
    default: out.l3 = L3Type::other; return Anomaly::none;  // not ours to judge
    }
}

// ---- Link ----------------------------------------------------------------------

// One 802.1Q/802.1ad tag at s.off (after its TPID); advances `s`.
Anomaly decode_vlan(const uint8_t* f, Span& s, uint16_t& ether_type, PacketView& out) {
    if (out.vlan_count == kMaxVlanTags) return Anomaly::too_many_vlan_tags;
    if (!s.has(kVlanTagLen)) return Anomaly::truncated_vlan;
    out.vlan_id = load_be16(f + s.off) & 0x0FFF;
    ++out.vlan_count;
    ether_type = load_be16(f + s.off + 2);
    s = s.after(kVlanTagLen);
    return Anomaly::none;
}

// What follows a link header's ethertype: VLAN tags, then the network layer.
Anomaly decode_ether_type(const uint8_t* f, Span s, uint16_t ether_type, PacketView& out) {
    while (is_vlan_tpid(ether_type)) {
        if (const Anomaly a = decode_vlan(f, s, ether_type, out); a != Anomaly::none) return a;
    }
    return decode_l3(f, s, ether_type, out);
}

Anomaly decode_ethernet(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kEthernetHeaderLen)) return Anomaly::truncated_ethernet;
    const uint16_t ether_type = load_be16(f + s.off + 12);
    return decode_ether_type(f, s.after(kEthernetHeaderLen), ether_type, out);
}

// Raw IP has no link header: the version nibble says which IP it is. An empty
// record or any version but 6 is decoded as IPv4 and fails there
// (truncated_ipv4, bad_ipv4_version): no anomaly of its own for a raw record.
Anomaly decode_raw(const uint8_t* f, Span s, PacketView& out) {
    const bool v6 = s.has(1) && f[s.off] >> 4 == 6;
    return decode_l3(f, s, v6 ? kEtherIpv6 : kEtherIpv4, out);
}

// Linux cooked captures carry the ethertype the kernel saw (protocol values
// below 0x0600, such as 802.2 LLC, decode as l3 = other like 802.3 frames).
Anomaly decode_sll(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kSllHeaderLen)) return Anomaly::truncated_link_header;
    const uint16_t proto = load_be16(f + s.off + kSllProtocolAt);
    return decode_ether_type(f, s.after(kSllHeaderLen), proto, out);
}

Anomaly decode_sll2(const uint8_t* f, Span s, PacketView& out) {
    if (!s.has(kSll2HeaderLen)) return Anomaly::truncated_link_header;
    const uint16_t proto = load_be16(f + s.off);
    return decode_ether_type(f, s.after(kSll2HeaderLen), proto, out);
}

// BSD loopback: an address family instead of an ethertype. DLT_LOOP writes it
// in network order; DLT_NULL in the byte order of the host that captured,
// which need not be ours: families are small numbers, so a value with bits in
// its upper half was written little-endian (tcpdump and Wireshark do the same).
// Other families (not IP) decode as l3 = other, no anomaly.
Anomaly decode_null(const uint8_t* f, Span s, bool host_order, PacketView& out) {
    if (!s.has(kNullHeaderLen)) return Anomaly::truncated_link_header;
    uint32_t family = load_be32(f + s.off);
    if (host_order && (family & 0xFFFF0000u)) family = __builtin_bswap32(family);
    uint16_t ether_type = 0;
    if (family == kFamilyInet) ether_type = kEtherIpv4;
    if (family == kFamilyInet6Bsd || family == kFamilyInet6FreeBsd || family == kFamilyInet6Darwin)
        ether_type = kEtherIpv6;
    return decode_l3(f, s.after(kNullHeaderLen), ether_type, out);
}

} // namespace

Anomaly decode(const uint8_t* frame, uint32_t len, PacketView& out) {
    return decode(frame, len, out, LinkType::ethernet);
}

Anomaly decode(const uint8_t* frame, uint32_t len, PacketView& out, LinkType link) {
    out = PacketView{};
    len = std::min(len, kMaxFrameLen);
    const Span s{0, len, len};
    switch (link) {
    case LinkType::ethernet: return decode_ethernet(frame, s, out);
    case LinkType::raw: return decode_raw(frame, s, out);
    case LinkType::ipv4: return decode_l3(frame, s, kEtherIpv4, out);
    case LinkType::ipv6: return decode_l3(frame, s, kEtherIpv6, out);
    case LinkType::linux_sll: return decode_sll(frame, s, out);
    case LinkType::linux_sll2: return decode_sll2(frame, s, out);
    case LinkType::null_host: return decode_null(frame, s, true, out);
    case LinkType::loop: return decode_null(frame, s, false, out);
    }
    return decode_ethernet(frame, s, out);  // not reached: every LinkType is handled above
}

} // namespace sg
