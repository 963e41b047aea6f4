#include "detect/summary.hpp"

namespace sg {

namespace {

struct ReflectionPort {
    const char* name;
    uint16_t port;
};

// In ReflectionService order.
constexpr ReflectionPort kReflectionPorts[kReflectionServices] = {
    {"chargen", 19}, {"dns", 53},   {"ntp", 123},          {"snmp", 161},      {"cldap", 389},
    {"isakmp", 500}, {"ssdp", 1900}, {"ws_discovery", 3702}, {"ipsec_nat_t", 4500}, {"memcached", 11211},
};

} // namespace

const char* reflection_service_name(unsigned service) {
    return service < kReflectionServices ? kReflectionPorts[service].name : "?";
}

unsigned reflection_service_of_port(uint16_t port) {
    // Nine ports: a linear scan beats anything cleverer, and most UDP
    // packets leave at the first comparisons' misses.
    for (unsigned i = 0; i < kReflectionServices; ++i)
        if (kReflectionPorts[i].port == port) return i;
    return kReflectionServices;
}

uint16_t reflection_service_port(unsigned service) {
    return service < kReflectionServices ? kReflectionPorts[service].port : 0;
}

void HostStats::merge(const HostStats& o) {
    in.merge(o.in);
    out.merge(o.out);
    peers_in.merge(o.peers_in);
    ports_in.merge(o.ports_in);
    peers_out.merge(o.peers_out);
    ports_out.merge(o.ports_out);
    for (unsigned i = 0; i < kReflectionServices; ++i) reflection[i].merge(o.reflection[i]);
}

HostStats* HostTable::get(const IpAddress& ip, uint64_t hash, DeploymentId dep) {
    constexpr uint32_t mask = kCapacity - 1;
    for (uint32_t i = uint32_t(hash) & mask, probes = 0; probes < kCapacity; i = (i + 1) & mask, ++probes) {
        if (!occupied_[i]) {
            if (used_ >= kMaxHosts) break;
            occupied_[i] = true;
            ++used_;
            hosts_[i] = HostStats{};
            hosts_[i].ip = ip;
            hosts_[i].deployment = dep;
            return &hosts_[i];
        }
        if (hosts_[i].ip == ip) return &hosts_[i];
    }
    ++overflow_;
    return nullptr;
}

const HostStats* HostTable::find(const IpAddress& ip, uint64_t hash) const {
    constexpr uint32_t mask = kCapacity - 1;
    for (uint32_t i = uint32_t(hash) & mask, probes = 0; probes < kCapacity; i = (i + 1) & mask, ++probes) {
        if (!occupied_[i]) return nullptr;
        if (hosts_[i].ip == ip) return &hosts_[i];
    }
    return nullptr;
}

void HostTable::merge(const HostTable& o) {
    overflow_ += o.overflow_;
    o.for_each([&](const HostStats& h) {
        if (HostStats* mine = get(h.ip, summary_hash(h.ip), h.deployment)) mine->merge(h);
    });
}

void HostTable::clear() {
    // Only the entries in use are reset (get() resets on reuse): clearing
    // stays cheap for the usual window with few hosts.
    occupied_.fill(false);
    used_ = 0;
    overflow_ = 0;
}

void WindowSummary::clear() {
    index = 0;
    next_index = 0;
    workers = 1;
    packets = 0;
    transit_packets = 0;
    first_packet = 0;
    last_packet = 0;
    hosts.clear();
    targets.clear();
    pairs.clear();
    services.clear();
    scans.clear();
    sweeps.clear();
}

void WindowSummary::merge(const WindowSummary& o) {
    if (o.next_index && (!next_index || o.next_index < next_index)) next_index = o.next_index;
    workers += o.workers;
    packets += o.packets;
    transit_packets += o.transit_packets;
    if (o.first_packet && (!first_packet || o.first_packet < first_packet)) first_packet = o.first_packet;
    if (o.last_packet > last_packet) last_packet = o.last_packet;
    hosts.merge(o.hosts);
    targets.merge(o.targets);
    pairs.merge(o.pairs);
    services.merge(o.services);
    scans.merge(o.scans);
    sweeps.merge(o.sweeps);
}

} // namespace sg
