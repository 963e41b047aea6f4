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
    alert_packet,   // a piece of the packet of the alert just before (AlertRecord::packet_len)
    window,         // a worker's filled window summary (behavioural detection)
    http,           // an HTTP transaction's field, status, length or end (HttpRecord)
    evidence,       // a packet of an incident's evidence; its bytes follow as alert_packet records
};

// A flow's application-layer protocol, as eve's app_proto names it.
enum class AppProto : uint8_t { none = 0, http };

struct WindowSummary;
class WindowCounter;

// A window summary changes hands: the reporter merges it, then gives the
// block back to its owner. The pointer is the point: summaries are large.
struct WindowRecord {
    WindowSummary* summary;
    WindowCounter* owner;
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
    bool tunnel_outer;       // the outer flow of a tunnel (VXLAN/GENEVE over UDP, GRE): a
                             // worker's share of it, merged by the reporter across workers
    uint8_t app_proto;       // AppProto
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
    // The flow's app layer (AppProto) and the HTTP transaction the alert
    // belongs to (kNoHttpTx: none); they fill what was padding.
    uint32_t app_proto : 8;
    uint32_t http_tx : 24;
    uint64_t pcap_cnt;       // replay: the packet's number in the input (0: live)
    // Tunnelled packet (tunnel_depth > 0): the outermost headers, for eve's `tunnel`.
    IpAddress outer_src;
    IpAddress outer_dst;
    uint16_t outer_src_port;
    uint16_t outer_dst_port;
    uint8_t outer_proto;
    uint8_t tunnel_depth;
    // The packet itself follows in ceil(packet_len / kAlertPacketChunk)
    // alert_packet records (0: not sent), as link type `link_type` (a libpcap
    // DLT number, Suricata's packet_info.linktype).
    uint16_t packet_len;
    uint16_t link_type;
    uint32_t packet_ref;     // set by the reporter: where it keeps those bytes (0: none)
};

// Bytes of the packet of an alert, in order; the worker enqueues the alert
// and all of these at once, so they are never separated by a drop.
inline constexpr unsigned kAlertPacketChunk = 176;
struct AlertPacketRecord {
    uint16_t len;            // bytes used in `bytes`
    uint8_t bytes[kAlertPacketChunk];
};

// A packet an evidence watch (attrib/enforcement.hpp) selected; the worker
// enqueues it with its alert_packet chunks at once, like an alert.
struct EvidenceRecord {
    uint64_t incident;
    Nanos ts;
    uint32_t wire_len;       // the packet's length on the wire
    uint16_t packet_len;     // bytes that follow in alert_packet records
    uint16_t link_type;      // libpcap DLT of the bytes
};

inline constexpr uint32_t kNoHttpTx = 0xffffff;

// One piece of an HTTP transaction of a flow, in the order the worker parsed
// it; the reporter assembles them and writes the http (and fileinfo) event
// at `transaction`, fileinfo at `file`. A text longer than kHttpTextChunk comes in several
// `field` records, the later ones `continued`.
inline constexpr unsigned kHttpTextChunk = 93;
struct HttpRecord {
    enum class What : uint8_t {
        field,        // text of `field` (HttpField), `text_len` bytes
        status,       // response status `number`
        length,       // response body length so far: `number`
        file,         // a body of `number` bytes ended on `side`: log it (fileinfo) at `ts`
        transaction,  // the transaction is done: log it (at `ts`, `pcap_cnt`)
    };
    FlowKey flow_key;
    Nanos flow_first_seen;
    Nanos ts;                // the packet that completed it (transaction)
    uint64_t pcap_cnt;       // its number in the input (0: live, or flow end)
    uint64_t number;
    uint32_t tx;
    What what;
    uint8_t field;
    uint8_t text_len;
    bool initiator_is_a;     // the client is the flow key's endpoint a
    bool continued;          // field: appends to the previous record's text (a long value)
    uint8_t side;            // file: 0 request body, 1 response body (HttpSide)
    bool complete;           // file: it ended as announced (else cut short)
    char text[kHttpTextChunk];
};

struct Record {
    Record() : flow_end() {}

    RecordKind kind = RecordKind::flow_end;
    uint8_t worker = 0;
    uint8_t reserved[6] = {};
    union {
        FlowEndRecord flow_end;
        AlertRecord alert;
        AlertPacketRecord alert_packet;
        WindowRecord window;
        HttpRecord http;
        EvidenceRecord evidence;
    };
};
static_assert(sizeof(Record) % 4 == 0, "rte_ring elements must be a multiple of 4 bytes");
static_assert(sizeof(Record) <= 192, "keep records small: they are copied per event");

} // namespace sg
