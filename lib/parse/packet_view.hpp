#pragma once
// PacketView: what the decoder learned about one frame. Filled by decode()
// on a worker's packet path: plain data, no allocation, no pointers that
// outlive the frame. For tunnelled traffic the fields describe the innermost
// packet (what gets attributed); the outer headers stay as `tunnel` context.

#include <cstdint>

#include "core/ip_address.hpp"

namespace sg {

// Why a frame could not be decoded completely. Malformed traffic is data:
// workers count these per reason and carry on.
enum class Anomaly : uint8_t {
    none = 0,
    truncated_ethernet,
    truncated_vlan,
    too_many_vlan_tags,
    truncated_arp,
    truncated_ipv4,
    bad_ipv4_version,
    bad_ipv4_header_length,
    bad_ipv4_total_length,
    truncated_ipv6,
    bad_ipv6_version,
    truncated_ipv6_extension,
    too_many_ipv6_extensions,
    truncated_tcp,
    bad_tcp_header_length,
    truncated_udp,
    bad_udp_length,
    truncated_icmp,
    truncated_icmpv6,
    truncated_vxlan,
    truncated_geneve,
    bad_geneve_header,
    truncated_gre,
    bad_gre_header,
    truncated_erspan,
    too_many_tunnels,
    truncated_payload,   // headers intact, the capture cut the payload (snaplen)
    truncated_link_header, // a Linux cooked or BSD loopback header does not fit
    count_               // not a reason: the number of reasons
};

inline constexpr unsigned kAnomalyCount = unsigned(Anomaly::count_);
// Stable snake_case name used in reports and metrics ("truncated_tcp").
const char* anomaly_name(Anomaly a);

enum class L3Type : uint8_t { none = 0, ipv4, ipv6, arp, other };
enum class TunnelType : uint8_t { none = 0, vxlan, geneve, gre, erspan };

// IP protocol numbers the pipeline branches on.
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoGre = 47;
inline constexpr uint8_t kProtoIcmpv6 = 58;

// TCP flag bits as on the wire.
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;
inline constexpr uint8_t kTcpEce = 0x40;
inline constexpr uint8_t kTcpCwr = 0x80;

struct TunnelContext {
    TunnelType type = TunnelType::none;  // outermost tunnel that was decapsulated
    uint8_t depth = 0;                   // number of tunnel layers removed
    uint32_t id = 0;                     // VXLAN/GENEVE VNI, GRE key, ERSPAN session id
    IpAddress outer_src;                 // outermost IP header's addresses
    IpAddress outer_dst;
    uint16_t outer_src_port = 0;         // outermost UDP ports (VXLAN, GENEVE); 0 for GRE
    uint16_t outer_dst_port = 0;
    uint8_t outer_proto = 0;             // outermost IP protocol: UDP, or GRE
    bool outer_ipv6 = false;             // the outermost IP header is IPv6
};

struct PacketView {
    // Link layer (of the innermost Ethernet header).
    uint16_t vlan_count = 0;      // 802.1Q / QinQ tags on the outer frame
    uint16_t vlan_id = 0;         // innermost tag's VLAN id (0 when untagged)
    uint16_t ether_type = 0;      // after tags

    // Network layer.
    L3Type l3 = L3Type::none;
    IpAddress src;
    IpAddress dst;
    uint8_t ip_proto = 0;         // L4 protocol (after IPv6 extension headers)
    uint8_t ttl = 0;              // IPv4 TTL or IPv6 hop limit
    uint8_t ip_tos = 0;
    bool fragment = false;        // any fragment (IPv4 MF/offset, IPv6 fragment header)
    bool later_fragment = false;  // offset != 0: carries no L4 header
    uint16_t frag_offset = 0;     // in bytes
    uint16_t ip_id = 0;
    uint16_t l3_offset = 0;       // offset of the innermost IP header in the frame
    uint16_t l3_len = 0;          // IP header length incl. options / extension headers
    uint16_t ip_options_len = 0;  // IPv4 options bytes

    // Transport layer (valid when has_l4).
    bool has_l4 = false;
    uint16_t l4_offset = 0;
    uint16_t src_port = 0;        // TCP/UDP ports; 0 otherwise
    uint16_t dst_port = 0;
    uint8_t tcp_flags = 0;
    uint32_t tcp_seq = 0;
    uint32_t tcp_ack = 0;
    uint16_t tcp_window = 0;
    uint8_t icmp_type = 0;        // ICMP or ICMPv6
    uint8_t icmp_code = 0;
    uint16_t icmp_id = 0;         // echo request / reply only
    uint16_t icmp_seq = 0;

    // Application payload: bytes after the L4 header that the frame holds,
    // bounded by the IP length (Ethernet padding excluded).
    uint16_t payload_offset = 0;
    uint16_t payload_len = 0;
    uint32_t wire_payload_len = 0; // what the IP header says, even if the capture cut it

    TunnelContext tunnel;
};

} // namespace sg
