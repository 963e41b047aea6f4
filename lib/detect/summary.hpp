#pragma once
// WindowSummary: what one worker saw in one window of packet time, in fixed
// size. Workers fill it on the packet path (WindowCounter), hand it to the
// reporter by pointer at the window boundary, and the reporter merges the
// workers' summaries of a window into one (DetectionEngine) before the
// detectors read it. Every part merges exactly: counters add, HyperLogLogs
// take the register-wise maximum, space-saving tables follow the
// mergeable-summaries rule. So the merged window is what one worker seeing
// all the traffic would have produced, whatever the number of workers.
//
// Nothing here allocates: a summary is one flat block allocated at start
// and reused window after window. Memory does not depend on traffic.
//
// Thread: filled by one worker, then owned by the reporter until it gives
// the block back (see WindowCounter).

#include <array>
#include <cstdint>
#include <cstring>

#include "attrib/ownership.hpp"
#include "core/ip_address.hpp"
#include "core/time.hpp"
#include "detect/sketch.hpp"

namespace sg {

// UDP services abused for reflection and amplification: requests are small,
// responses large, and the source address of a request is not checked.
enum class ReflectionService : uint8_t {
    chargen, dns, ntp, snmp, cldap, isakmp, ssdp, ws_discovery, ipsec_nat_t, memcached, count_
};
inline constexpr unsigned kReflectionServices = unsigned(ReflectionService::count_);
const char* reflection_service_name(unsigned service);
// The service whose well-known UDP port this is, or kReflectionServices.
unsigned reflection_service_of_port(uint16_t port);
uint16_t reflection_service_port(unsigned service);

// Packet counts of one direction of a protected host.
struct TrafficCounters {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t syn = 0;        // SYN without ACK: connection attempts
    uint64_t synack = 0;
    uint64_t rst = 0;
    uint64_t udp = 0;
    uint64_t icmp = 0;
    uint64_t fragments = 0;

    void merge(const TrafficCounters& o) {
        packets += o.packets; bytes += o.bytes; syn += o.syn; synack += o.synack;
        rst += o.rst; udp += o.udp; icmp += o.icmp; fragments += o.fragments;
    }
};

struct PacketBytes {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    void add(uint64_t len) { ++packets; bytes += len; }
    void merge(const PacketBytes& o) { packets += o.packets; bytes += o.bytes; }
};

// Reflection traffic of a protected host on one service.
struct ReflectionCounters {
    PacketBytes requests_in;    // to the host's service port (it may act as a reflector)
    PacketBytes responses_out;  // from the host's service port
    PacketBytes responses_in;   // from someone's service port to the host (it may be a victim)
    PacketBytes requests_out;   // from the host to someone's service port
    void merge(const ReflectionCounters& o) {
        requests_in.merge(o.requests_in); responses_out.merge(o.responses_out);
        responses_in.merge(o.responses_in); requests_out.merge(o.requests_out);
    }
};

// One protected host (an address inside a deployment).
struct HostStats {
    IpAddress ip;
    DeploymentId deployment = kNoDeployment;
    TrafficCounters in;          // traffic to the host
    TrafficCounters out;         // traffic from the host
    Hll<6> peers_in;             // distinct sources that sent to it
    Hll<6> ports_in;             // distinct destination ports it was sent to
    Hll<6> peers_out;            // distinct destinations it sent to
    Hll<6> ports_out;
    std::array<ReflectionCounters, kReflectionServices> reflection{};

    void merge(const HostStats& o);
};

// The hash of a host's address (HostTable) and of the space-saving tables'
// keys. One definition for the workers, merge() and lib/fleet's decoder,
// which recomputes the hashes of the keys it receives: a table whose keys
// were hashed otherwise would not find them when merged. (An AddressKey
// has its address's bytes, so it hashes as the address: the workers use one
// hash for a destination's host entry and its target entry.)
template <class Key> uint64_t summary_hash(const Key& key) { return sketch_hash_of(key); }

// A fixed-capacity open-addressing table of protected hosts. A window with
// more distinct protected hosts than the capacity counts the rest in
// `overflow` (their packets still count for floods and scans).
class HostTable {
public:
    static constexpr uint32_t kCapacity = 1024;   // power of two
    // Hosts kept at most: a quarter stays free so that probe runs stay short.
    static constexpr uint32_t kMaxHosts = kCapacity - kCapacity / 4;

    // The host's entry, created on first use; nullptr when the table is full.
    HostStats* get(const IpAddress& ip, uint64_t hash, DeploymentId dep);
    const HostStats* find(const IpAddress& ip, uint64_t hash) const;
    void merge(const HostTable& o);
    void clear();
    uint32_t size() const { return used_; }
    uint64_t overflow() const { return overflow_; }
    // Calls fn(const HostStats&) for every host in slot order.
    template <class Fn> void for_each(Fn&& fn) const {
        for (uint32_t i = 0; i < kCapacity; ++i)
            if (occupied_[i]) fn(hosts_[i]);
    }
    // The same hosts in slot order rotated to start at the first free slot.
    // Without deletions, get() of these hosts in this order on an empty
    // table puts each back into its slot (no probe run wraps around the
    // start), so a copy rebuilt that way (lib/fleet) iterates and merges
    // exactly like the original.
    template <class Fn> void for_each_from_free(Fn&& fn) const {
        uint32_t start = 0;
        while (start < kCapacity && occupied_[start]) ++start;
        for (uint32_t n = 0; n < kCapacity; ++n) {
            const uint32_t i = (start + n) & (kCapacity - 1);
            if (occupied_[i]) fn(hosts_[i]);
        }
    }
    // The overflow of a copy being rebuilt from its hosts (lib/fleet).
    void restore_overflow(uint64_t overflow) { overflow_ = overflow; }

private:
    std::array<HostStats, kCapacity> hosts_{};
    std::array<bool, kCapacity> occupied_{};
    uint32_t used_ = 0;
    uint64_t overflow_ = 0;
};

// Keys of the space-saving tables. Plain bytes (compared with memcmp).
struct AddressKey {
    IpAddress ip;
    bool operator==(const AddressKey& o) const { return ip == o.ip; }
};
struct PairKey {
    IpAddress src;
    IpAddress dst;
    bool operator==(const PairKey& o) const { return src == o.src && dst == o.dst; }
};
struct ServiceKey {
    IpAddress src;
    IpAddress dst;
    uint16_t port = 0;
    uint8_t pad[6] = {};
    bool operator==(const ServiceKey& o) const { return src == o.src && dst == o.dst && port == o.port; }
};
// One source probing many targets on one "port" (a TCP/UDP port, or the
// ICMP type with proto ICMP), split by the targets' deployment (a sweep
// across two deployments is two sweeps, each judged by its own thresholds).
struct SweepKey {
    IpAddress src;
    uint16_t port = 0;
    DeploymentId target_deployment = kNoDeployment;
    uint8_t proto = 0;
    uint8_t pad[3] = {};
    bool operator==(const SweepKey& o) const {
        return src == o.src && port == o.port && proto == o.proto && target_deployment == o.target_deployment;
    }
};

// Flood evidence about one destination address (protected or not).
struct TargetStats {
    TrafficCounters in;
    uint64_t synack_out = 0;     // SYN-ACKs the target sent back
    Hll<8> sources;
    void merge(const TargetStats& o) { in.merge(o.in); synack_out += o.synack_out; sources.merge(o.sources); }
    void clear() { *this = TargetStats{}; }
};

// Connection attempts to a service (brute force).
struct ServiceStats {
    uint64_t attempts = 0;       // new connections (first SYN)
    uint64_t established = 0;    // handshakes completed
    uint64_t failed = 0;         // ended rejected, reset, or with little data
    uint64_t ended = 0;          // connections that ended
    void merge(const ServiceStats& o) {
        attempts += o.attempts; established += o.established; failed += o.failed; ended += o.ended;
    }
    void clear() { *this = ServiceStats{}; }
};

// One source against one target: how many ports it tried (vertical scan).
struct ScanStats {
    uint64_t probes = 0;         // new flows the source opened to the target
    uint64_t answered = 0;       // ... that the target answered (SYN-ACK, a UDP or ICMP reply)
    uint64_t established = 0;    // ... whose TCP handshake completed
    Hll<9> ports;
    void merge(const ScanStats& o) {
        probes += o.probes; answered += o.answered; established += o.established; ports.merge(o.ports);
    }
    void clear() { *this = ScanStats{}; }
};

// One source on one port against many targets (sweep, spam).
struct SweepStats {
    uint64_t probes = 0;
    uint64_t answered = 0;
    uint64_t established = 0;
    Hll<9> targets;
    void merge(const SweepStats& o) {
        probes += o.probes; answered += o.answered; established += o.established; targets.merge(o.targets);
    }
    void clear() { *this = SweepStats{}; }
};

// Table sizes: the heavy hitters of a window. A key that does not make it
// into a table is one whose count stays below the smallest entry's, which
// bounds the error (lib/detect/README.md).
inline constexpr unsigned kTargetEntries = 256;
inline constexpr unsigned kPairEntries = 1024;
inline constexpr unsigned kServiceEntries = 512;
inline constexpr unsigned kScanEntries = 512;
inline constexpr unsigned kSweepEntries = 512;

struct WindowSummary {
    uint64_t index = 0;          // window number: start = index * window length
    uint64_t next_index = 0;     // the window the worker moved on to: those between had no packets (0: none yet)
    uint32_t workers = 0;        // summaries merged into this one
    uint64_t packets = 0;        // every packet the window counted
    uint64_t transit_packets = 0; // neither end protected: counted, not analysed
    Nanos first_packet = 0;      // packet time of the first and last packet counted
    Nanos last_packet = 0;
    HostTable hosts;
    SpaceSaving<AddressKey, TargetStats, kTargetEntries> targets;   // by packets to the address
    SpaceSaving<PairKey, NoPayload, kPairEntries> pairs;            // by packets source -> target
    SpaceSaving<ServiceKey, ServiceStats, kServiceEntries> services; // by connection attempts
    SpaceSaving<PairKey, ScanStats, kScanEntries> scans;            // by new flows
    SpaceSaving<SweepKey, SweepStats, kSweepEntries> sweeps;        // by new flows

    void clear();
    // Adds another worker's summary of the same window.
    void merge(const WindowSummary& o);
};

} // namespace sg
