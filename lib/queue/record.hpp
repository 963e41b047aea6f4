#pragma once
// Records: the plain, fixed-size values workers hand to the reporter.
// They are copied into the ring by value (rte_ring "elem" API), so a record
// never points into worker memory that could change after it was sent.

#include <cstdint>

#include "core/time.hpp"
#include "flow/flow_key.hpp"

namespace sg {

enum class RecordKind : uint8_t {
    flow_end = 1,   // a flow left a worker's table
    alert,          // a signature rule matched a packet
};

// A finished flow, as the reporter needs it (flow log, top talkers).
struct FlowEndRecord {
    FlowKey key;
    Nanos first_seen;
    Nanos last_seen;
    uint64_t packets[2];     // [0] from initiator, [1] from responder
    uint64_t bytes[2];
    uint64_t flow_id;        // unique within its worker
    uint8_t tcp_state;       // TcpState
    uint8_t tcp_flags[2];
    uint8_t why;             // FlowEnd
    bool initiator_is_a;
    bool midstream;
};

// A rule match, with what eve.json needs about the packet. The rule itself
// is looked up by the reporter (rule_index in the database of `generation`).
struct AlertRecord {
    Nanos ts;                // packet time
    FlowKey flow_key;        // for flow_id (zeroed when the packet had no flow)
    Nanos flow_first_seen;
    IpAddress src;           // as in the packet
    IpAddress dst;
    uint64_t generation;     // rules generation that matched
    uint32_t rule_index;
    uint16_t src_port;
    uint16_t dst_port;
    uint8_t proto;
    uint8_t dir;             // 0: from the flow's initiator
    bool has_flow;
    bool dropped;            // inline: the packet was discarded
    uint64_t pcap_cnt;       // replay: the packet's number in the input (0: live)
};

struct Record {
    Record() : flow_end() {}

    RecordKind kind = RecordKind::flow_end;
    uint8_t worker = 0;
    uint8_t reserved[6] = {};
    union {
        FlowEndRecord flow_end;
        AlertRecord alert;
    };
};
static_assert(sizeof(Record) % 4 == 0, "rte_ring elements must be a multiple of 4 bytes");
static_assert(sizeof(Record) <= 192, "keep records small: they are copied per event");

} // namespace sg
