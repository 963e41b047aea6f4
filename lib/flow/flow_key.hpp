#pragma once
// FlowKey: the bidirectional identity of a flow. Both directions of a
// conversation produce the same key: the (address, port) pair that compares
// lower is always endpoint `a`. 48 bytes, a size rte_hash compares fast.
//
// Thread: any; built by workers (and by the software dispatcher) per packet.

#include <cstdint>
#include <cstring>

#include "core/ip_address.hpp"
#include "parse/packet_view.hpp"

namespace sg {

struct FlowKey {
    IpAddress a;            // the lower endpoint
    IpAddress b;            // the higher endpoint
    uint16_t port_a = 0;
    uint16_t port_b = 0;
    uint8_t proto = 0;
    uint8_t ip_version = 0; // 4 or 6: ::ffff:a.b.c.d in IPv6 is not the IPv4 host
    uint8_t reserved[2] = {};
    uint32_t tunnel_id = 0; // overlay id (VNI / GRE key): overlays may reuse addresses
    uint32_t pad = 0;

    bool operator==(const FlowKey& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
};
static_assert(sizeof(FlowKey) == 48, "FlowKey must stay 48 bytes (rte_hash key length)");

// Builds the canonical key for a decoded packet and tells which endpoint sent
// it: `from_a` is true when the packet's source is endpoint a.
// Only meaningful when pv.l3 is ipv4 or ipv6. Later fragments and non
// TCP/UDP protocols use ports 0; ICMP echo uses its identifier as both ports
// so that separate ping sessions stay separate flows.
inline FlowKey make_flow_key(const PacketView& pv, bool& from_a) {
    FlowKey k;
    uint16_t sport = pv.src_port, dport = pv.dst_port;
    if (pv.has_l4 && (pv.ip_proto == kProtoIcmp || pv.ip_proto == kProtoIcmpv6)) sport = dport = pv.icmp_id;
    from_a = pv.src < pv.dst || (pv.src == pv.dst && sport <= dport);
    if (from_a) {
        k.a = pv.src; k.b = pv.dst; k.port_a = sport; k.port_b = dport;
    } else {
        k.a = pv.dst; k.b = pv.src; k.port_a = dport; k.port_b = sport;
    }
    k.proto = pv.ip_proto;
    k.ip_version = pv.l3 == L3Type::ipv6 ? 6 : 4;
    k.tunnel_id = pv.tunnel.id;
    return k;
}

} // namespace sg
