#pragma once
// The packet decoder: link header (Ethernet, raw IP, Linux cooked, BSD
// loopback) -> 802.1Q/QinQ -> IPv4/IPv6 (+ extension headers) ->
// TCP/UDP/ICMP/ICMPv6, decapsulating VXLAN (udp/4789), GENEVE (udp/6081) and
// GRE (incl. transparent Ethernet bridging and ERSPAN II/III).
//
// Thread: any; called by workers on the packet path. It never allocates,
// never throws, and reads only within [frame, frame + len).

#include <cstdint>

#include "parse/packet_view.hpp"

namespace sg {

inline constexpr unsigned kMaxVlanTags = 2;       // QinQ
inline constexpr unsigned kMaxIpv6Extensions = 8;
inline constexpr unsigned kMaxTunnelDepth = 3;

inline constexpr uint16_t kVxlanPort = 4789;
inline constexpr uint16_t kGenevePort = 6081;

// What a frame starts with: the link type of the port (or capture) it came
// from. A NIC always gives Ethernet; DPDK's pcap driver hands over capture
// records as they are, so replay tells the decoder the capture's link type.
enum class LinkType : uint8_t {
    ethernet = 0,  // DLT_EN10MB
    raw,           // DLT_RAW (12, 14 on some BSDs): IPv4 or IPv6, by the version nibble
    ipv4,          // LINKTYPE_IPV4 (228)
    ipv6,          // LINKTYPE_IPV6 (229)
    linux_sll,     // LINUX_SLL (113): 16-byte header, protocol (an ethertype) at offset 14
    linux_sll2,    // LINUX_SLL2 (276): 20-byte header, protocol at offset 0
    null_host,     // DLT_NULL (0): 4-byte address family in the capturing host's byte order
    loop,          // DLT_LOOP (108): 4-byte address family in network byte order
};

// The libpcap DLT number of a link type (what pcap_datalink() returns, and
// what Suricata logs as packet_info.linktype). Raw IP is DLT_RAW as on Linux.
constexpr uint16_t dlt_of(LinkType link) {
    switch (link) {
    case LinkType::ethernet: return 1;
    case LinkType::raw: return 12;
    case LinkType::ipv4: return 228;
    case LinkType::ipv6: return 229;
    case LinkType::linux_sll: return 113;
    case LinkType::linux_sll2: return 276;
    case LinkType::null_host: return 0;
    case LinkType::loop: return 108;
    }
    return 1;
}

// Decodes `frame` (a linear copy of the whole captured frame) into `out`,
// which it resets first. Returns Anomaly::none when every header present was
// well formed. On an anomaly `out` keeps what was decoded before the fault:
// l3 != none means the addresses are valid, has_l4 means ports/flags are.
// The frame starts with an Ethernet header.
Anomaly decode(const uint8_t* frame, uint32_t len, PacketView& out);
// The same for a frame that starts with the link header `link`.
Anomaly decode(const uint8_t* frame, uint32_t len, PacketView& out, LinkType link);

} // namespace sg
