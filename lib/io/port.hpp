#pragma once
// Ports and packet buffers (control side): attaching a device by name,
// configuring its queues, symmetric RSS where the NIC has it, and packet
// timestamps. Workers only see the resulting port ids and queue numbers.

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"

#include <rte_mbuf_dyn.h>
#include "parse/decode.hpp"

struct rte_mempool;
struct rte_mbuf;

namespace sg {

struct PortInfo {
    std::string name;          // operator's name for it ("wire0", or the capture path)
    std::string device;        // PCI address or vdev string
    uint16_t port_id = 0;
    std::string driver;
    uint16_t rx_queues = 0;
    uint16_t tx_queues = 0;
    bool rss = false;          // hardware spreads flows over rx_queues symmetrically
    bool timestamps = false;   // the driver stamps each mbuf with its capture time
};

struct PortRequest {
    std::string name;
    std::string device;
    uint16_t rx_queues = 1;     // wanted; a device that cannot RSS gets its natural count
    uint16_t tx_queues = 1;
    uint32_t rx_descriptors = 1024;
    uint32_t tx_descriptors = 1024;
    // What the port's frames start with. NICs give Ethernet; a net_pcap
    // rx_pcap= port passes capture records on as they are, so replay sets
    // the capture's link type here. `run` leaves Ethernet (config ports
    // have no link-type key: an rx_pcap file there must be Ethernet).
    LinkType link = LinkType::ethernet;
};

// One mbuf pool for the process (on the caller's NUMA socket).
Result<rte_mempool*> create_mbuf_pool(uint32_t mbufs, uint32_t cache);

// Probes the device (PCI address or vdev string, e.g.
// "net_pcap0,rx_pcap=in.pcap"), configures and starts it.
// PCI NICs with several queues get symmetric RSS (one Toeplitz key that maps
// both directions of a flow to the same queue). Virtual devices keep the
// queue count their arguments give (net_pcap: one per rx_pcap=).
Result<PortInfo> open_port(const PortRequest& req, rte_mempool* pool);

// Stops and closes the port: net_pcap flushes its tx_pcap file here.
void close_port(const PortInfo& port);

// Registers the mbuf timestamp dynamic field (once, before open_port);
// false when the registration failed (packet time then comes from the TSC).
bool register_timestamp_field();

namespace detail {
extern int timestamp_offset;
extern uint64_t timestamp_flag;
extern uint32_t timestamp_scale[];   // by port id: nanoseconds per timestamp unit
extern int pcap_cnt_offset;
extern LinkType link_type[];         // by port id: what its frames start with (open_port)
} // namespace detail

// Replay: the packet's number in the input (1-based, across the captures in
// the order they are read), as Suricata's pcap_cnt. Registered once by
// register_pcap_cnt_field(); stamped by the dispatcher, read by workers.
bool register_pcap_cnt_field();
inline void set_pcap_cnt(rte_mbuf* m, uint64_t n);
inline uint64_t pcap_cnt(const rte_mbuf* m);

// Capture time of a packet in packet-time nanoseconds, or 0 when the driver
// did not stamp it. Worker side.
Nanos mbuf_timestamp(const rte_mbuf* m);

// The link type of the port a packet was received on (rte_mbuf::port), for
// decode(). Worker and dispatcher side.
inline LinkType link_type_of(uint16_t port_id) { return detail::link_type[port_id]; }

inline void set_pcap_cnt(rte_mbuf* m, uint64_t n) {
    if (detail::pcap_cnt_offset >= 0) *RTE_MBUF_DYNFIELD(m, detail::pcap_cnt_offset, uint64_t*) = n;
}
inline uint64_t pcap_cnt(const rte_mbuf* m) {
    return detail::pcap_cnt_offset >= 0 ? *RTE_MBUF_DYNFIELD(m, detail::pcap_cnt_offset, const uint64_t*) : 0;
}

} // namespace sg
