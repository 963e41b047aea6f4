#pragma once
// Per-worker counters: plain integers owned and written by one worker, read
// by others only as statistics (summed on request). No atomics, no locks.
//
// The scalar counters are listed once, in SG_WORKER_COUNTERS, so that summing,
// reports and metrics can never forget one.

#include <cstdint>

#include "parse/packet_view.hpp"

namespace sg {

inline constexpr unsigned kTunnelTypes = 5; // TunnelType values (index 0 = none)

// X(name, help)
#define SG_WORKER_COUNTERS(X)                                                          \
    X(packets, "frames received")                                                      \
    X(bytes, "bytes received (captured length)")                                       \
    X(ipv4, "IPv4 packets (innermost)")                                                \
    X(ipv6, "IPv6 packets (innermost)")                                                \
    X(arp, "ARP frames")                                                               \
    X(other_l3, "frames with another ethertype")                                      \
    X(tcp, "TCP segments")                                                             \
    X(udp, "UDP datagrams")                                                            \
    X(icmp, "ICMP messages")                                                           \
    X(icmpv6, "ICMPv6 messages")                                                       \
    X(other_l4, "IP packets of another protocol")                                     \
    X(vlan, "frames with at least one 802.1Q tag")                                     \
    X(fragments, "IP fragments")                                                       \
    X(defrag_reassembled, "IPv4 datagrams reassembled from fragments")                \
    X(defrag_timed_out, "IPv4 datagrams dropped incomplete after the defrag timeout")  \
    X(defrag_table_full, "IPv4 fragments not reassembled: every defrag tracker busy")  \
    X(defrag_too_large, "IPv4 fragments past the reassembly buffer")                   \
    X(defrag_invalid, "IPv4 fragments that cannot be reassembled (bad length, cut, conflicting end)") \
    X(defrag_overlaps, "IPv4 fragments overlapping data already held")                \
    X(defrag_tunnelled, "IPv4 fragments inside a tunnel (not reassembled)")           \
    X(tunnel_flows_created, "outer tunnel flows started (this worker's share)")       \
    X(flows_created, "flows created")                                                  \
    X(flows_expired, "flows ended by idle timeout")                                    \
    X(flows_evicted, "flows evicted because the table was full")                       \
    X(flows_active, "flows in the table")                                              \
    X(stream_attached, "TCP flow directions given a stream buffer")                   \
    X(stream_pool_exhausted, "TCP flow directions matched per packet only: no buffer free") \
    X(stream_inspections, "raw-stream inspections (stream chunks matched)")           \
    X(stream_bytes_inspected, "stream bytes matched in stream mode")                  \
    X(stream_retransmitted_bytes, "TCP payload bytes already held (not appended again)") \
    X(stream_gaps, "holes in a stream the peer ACKed: the stream restarted after them") \
    X(stream_bytes_skipped, "stream bytes never matched in stream mode (buffer full, gaps)") \
    X(stream_ooo_dropped_bytes, "out-of-order TCP bytes a stream could not hold")     \
    X(http_sessions, "flows whose client spoke HTTP (eve output only)")               \
    X(http_pool_exhausted, "HTTP flows not parsed: every parser busy")                \
    X(http_transactions, "HTTP transactions logged")                                  \
    X(http_lost, "HTTP directions given up: bytes missing (gap, full buffer)")        \
    X(http_malformed, "HTTP directions given up: not parseable as HTTP")              \
    X(alerts, "rule matches sent to the reporter")                                     \
    X(windows, "window summaries handed to the reporter")                             \
    X(windows_dropped, "window summaries lost: the reporter's ring was full (live)")   \
    X(window_overruns, "window ends passed with no free summary: two windows counted as one") \
    X(rule_drops, "packets discarded by drop rules (inline)")                          \
    X(blocked, "packets to or from a deactivated deployment, discarded (inline)")     \
    X(evidence_packets, "packets sent to the reporter as incident evidence")          \
    X(oversize, "frames longer than the decode buffer")                                \
    X(active_ns, "wall time from the first burst to the worker's stop")              \
    X(cpu_ns, "CPU time of the worker's thread from the first burst to its stop")     \
    X(ring_drops, "records dropped because the reporter ring was full")                \
    X(forwarded, "packets forwarded to the peer port (inline)")                        \
    X(tx_drops, "packets the peer port could not take (inline)")

struct WorkerCounters {
#define SG_DECLARE_COUNTER(name, help) uint64_t name = 0;
    SG_WORKER_COUNTERS(SG_DECLARE_COUNTER)
#undef SG_DECLARE_COUNTER
    uint64_t tunnelled[kTunnelTypes] = {}; // by TunnelType
    uint64_t anomalies[kAnomalyCount] = {}; // by Anomaly

    WorkerCounters& operator+=(const WorkerCounters& o) {
#define SG_ADD_COUNTER(name, help) name += o.name;
        SG_WORKER_COUNTERS(SG_ADD_COUNTER)
#undef SG_ADD_COUNTER
        for (unsigned i = 0; i < kTunnelTypes; ++i) tunnelled[i] += o.tunnelled[i];
        for (unsigned i = 0; i < kAnomalyCount; ++i) anomalies[i] += o.anomalies[i];
        return *this;
    }
};

inline const char* tunnel_type_name(TunnelType t) {
    static constexpr const char* names[kTunnelTypes] = {"none", "vxlan", "geneve", "gre", "erspan"};
    return unsigned(t) < kTunnelTypes ? names[unsigned(t)] : "?";
}

} // namespace sg
