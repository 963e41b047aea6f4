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

struct Record {
    Record() : flow_end() {}

    RecordKind kind = RecordKind::flow_end;
    uint8_t worker = 0;
    uint8_t reserved[6] = {};
    union {
        FlowEndRecord flow_end;
    };
};
static_assert(sizeof(Record) % 4 == 0, "rte_ring elements must be a multiple of 4 bytes");
static_assert(sizeof(Record) <= 160, "keep records small: they are copied per event");

} // namespace sg
