#pragma once
// Alert records for the reporter's tests: a packet time, two endpoints and
// the flow they make.

#include <string_view>

#include "core/ip_address.hpp"
#include "core/time.hpp"
#include "flow/flow_key.hpp"
#include "queue/record.hpp"

namespace sg::test {

// An alert at `seconds` (packet time) from src:sport to dst:dport (TCP), in
// the flow of those endpoints.
inline AlertRecord alert_at(double seconds, std::string_view src, std::string_view dst, uint16_t sport = 40000,
                            uint16_t dport = 80, uint32_t rule_index = 0) {
    AlertRecord a{};
    a.ts = Nanos(seconds * double(kNsPerSec));
    a.src = *IpAddress::parse(src);
    a.dst = *IpAddress::parse(dst);
    a.src_port = sport;
    a.dst_port = dport;
    a.proto = kProtoTcp;
    a.rule_index = rule_index;
    a.generation = 1;
    a.has_flow = true;
    const bool src_low = a.src < a.dst || (a.src == a.dst && sport <= dport);
    FlowKey& k = a.flow_key;
    k.a = src_low ? a.src : a.dst;
    k.b = src_low ? a.dst : a.src;
    k.port_a = src_low ? sport : dport;
    k.port_b = src_low ? dport : sport;
    k.proto = kProtoTcp;
    k.ip_version = a.src.is_v4() ? 4 : 6;
    a.dir = src_low ? 0 : 1;
    a.flow_first_seen = 1;
    return a;
}

} // namespace sg::test
