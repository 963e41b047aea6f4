#include "parse/packet_view.hpp"

#include <iterator>

namespace sg {

namespace {

// Indexed by the enumerator's value. These strings are the names operators see
// in reports and metrics, so they equal the enumerator names and never change.
constexpr const char* kAnomalyNames[] = {
    "none",
    "truncated_ethernet",
    "truncated_vlan",
    "too_many_vlan_tags",
    "truncated_arp",
    "truncated_ipv4",
    "bad_ipv4_version",
    "bad_ipv4_header_length",
    "bad_ipv4_total_length",
    "truncated_ipv6",
    "bad_ipv6_version",
    "truncated_ipv6_extension",
    "too_many_ipv6_extensions",
    "truncated_tcp",
    "bad_tcp_header_length",
    "truncated_udp",
    "bad_udp_length",
    "truncated_icmp",
    "truncated_icmpv6",
    "truncated_vxlan",
    "truncated_geneve",
    "bad_geneve_header",
    "truncated_gre",
    "bad_gre_header",
    "truncated_erspan",
    "too_many_tunnels",
    "truncated_payload",
    "truncated_link_header",
};

// A reason added to the enum without a name here would shift every later name.
static_assert(std::size(kAnomalyNames) == kAnomalyCount, "one name per Anomaly, in enum order");

} // namespace

const char* anomaly_name(Anomaly a) {
    const auto index = unsigned(a);
    // A value outside the enum can only come from a corrupted record; say so
    // rather than index past the table.
    return index < kAnomalyCount ? kAnomalyNames[index] : "invalid";
}

} // namespace sg
