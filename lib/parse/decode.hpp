#pragma once
// The packet decoder: Ethernet -> 802.1Q/QinQ -> IPv4/IPv6 (+ extension
// headers) -> TCP/UDP/ICMP/ICMPv6, decapsulating VXLAN (udp/4789), GENEVE
// (udp/6081) and GRE (incl. transparent Ethernet bridging and ERSPAN II/III).
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

// Decodes `frame` (a linear copy of the whole captured frame) into `out`,
// which it resets first. Returns Anomaly::none when every header present was
// well formed. On an anomaly `out` keeps what was decoded before the fault:
// l3 != none means the addresses are valid, has_l4 means ports/flags are.
Anomaly decode(const uint8_t* frame, uint32_t len, PacketView& out);

} // namespace sg
