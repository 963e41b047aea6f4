#pragma once
// HttpTracker: one per worker, only when eve output is on. Runs an
// HttpParser over each TCP flow whose client speaks HTTP/1.x, reading the
// in-order bytes lib/stream reassembled, when Suricata 7's app layer would
// (IDS mode): a direction's bytes once the peer ACKed them, everything once
// the connection closed (RST, or both FINs with the close completed) or the
// flow ended; an RST that Suricata accepts (its sequence number is the one
// expected) ends its sender's direction only. It says when a transaction is
// done and should be logged, and
// which transaction an alert on the flow belongs to.
//
// Bounded: a fixed pool of sessions (one parser each) and one small slot per
// flow-table entry, all reserved by create(); a flow that finds the pool
// empty is not parsed (counted).
//
// Thread: create() on the control side; everything else on the owning
// worker, from Worker::inspect_ip and the flow-end callback, without
// allocating.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "flow/flow_table.hpp"
#include "http/http_parser.hpp"
#include "parse/packet_view.hpp"
#include "stream/stream_tracker.hpp"

namespace sg {

struct HttpConfig {
    uint32_t sessions = 1024;      // flows parsed at once per worker
    uint32_t flow_capacity = 1u << 16; // the flow table's capacity (slots indexed by Flow::index)
};

struct HttpCounters {
    uint64_t sessions = 0;         // flows whose client spoke HTTP
    uint64_t pool_exhausted = 0;   // flows not parsed: no session free
    uint64_t transactions = 0;     // transactions handed to the output
    uint64_t lost = 0;             // directions given up: bytes missing (gap, buffer)
    uint64_t malformed = 0;        // directions given up: not parseable as HTTP
};

// Where transactions go (the worker turns these into records).
class HttpSink {
public:
    virtual void http_field(const Flow& flow, uint32_t tx, HttpField field, std::string_view value) = 0;
    virtual void http_status(const Flow& flow, uint32_t tx, uint16_t status) = 0;
    // The response of `tx` is `length` bytes long so far (eve's http length).
    virtual void http_length(const Flow& flow, uint32_t tx, uint64_t length) = 0;
    // A body of `tx` (a file, in Suricata's terms) of `size` bytes ended on
    // `side` (complete: as announced; else cut short), logged as Suricata
    // logs it: at the next packet of that direction after it closed.
    virtual void http_file(const Flow& flow, uint32_t tx, HttpSide side, uint64_t size, bool complete) = 0;
    // `tx` is complete in both directions (or the connection ended): log it.
    virtual void http_transaction(const Flow& flow, uint32_t tx) = 0;

protected:
    ~HttpSink() = default;
};

// What an alert on a flow carries of its HTTP state.
struct HttpAlertTx {
    bool http = false;        // the flow's app-layer protocol is HTTP
    bool has_tx = false;      // the alert belongs to transaction `tx`
    uint32_t tx = 0;
};

class HttpTracker {
public:
    static Result<std::unique_ptr<HttpTracker>> create(const HttpConfig& cfg);

    // A TCP packet of `flow` from `dir`, after StreamTracker::on_packet:
    // parses what became available and reports finished transactions.
    void on_packet(const Flow& flow, unsigned dir, const PacketView& pv, const uint8_t* frame,
                   const StreamTracker& streams, HttpSink& sink);
    // An alert on `flow` from `dir`, before after_detect(): Suricata gives a
    // stream or packet rule's alert the flow's newest transaction when it is
    // the only one not yet inspected in that direction (at most 4 alerts
    // per transaction). Sends the body length it shows first.
    HttpAlertTx alert_tx(const Flow& flow, unsigned dir, HttpSink& sink);
    // After matching a packet from `dir`: that direction's inspection moves
    // past the transactions complete in it.
    void after_detect(const Flow& flow, unsigned dir);
    // The flow ends: the rest of both directions (ACKed or not), the end of
    // both, the last transactions; before the stream buffers go back.
    void flow_end(const Flow& flow, const StreamTracker& streams, HttpSink& sink);
    // After flow_end() and the flow's last alerts: the session goes back to
    // the pool (is_http() still answers until the slot is reused).
    void forget(const Flow& flow);
    // The flow's app-layer protocol is HTTP (flow_end() keeps this answer
    // until the flow's slot is reused).
    bool is_http(const Flow& flow) const;

    const HttpCounters& counters() const { return counters_; }
    uint32_t free_sessions() const { return uint32_t(free_.size()); }

private:
    static constexpr uint32_t kNone = UINT32_MAX;
    static constexpr unsigned kStreamLogLimit = 4;  // Suricata's stream_tx_log_limit
    static constexpr unsigned kFilesQueued = 8;     // closed bodies awaiting their direction's packet

    struct File {
        uint32_t tx = 0;
        uint64_t size = 0;
        bool complete = false;
    };
    // A direction's bodies: the one being received, and those closed but
    // not yet logged.
    struct Files {
        uint32_t tx = 0;
        uint64_t size = 0;          // data bytes of the open body (0: none open)
        File closed[kFilesQueued];
        unsigned count = 0;
    };

    struct Session {
        HttpParser parser;
        uint64_t parsed[2] = {};   // stream offset each direction's parser reached
        bool eof[2] = {};
        bool fin[2] = {};          // the direction's FIN was seen ...
        uint32_t fin_seq[2] = {};  // ... at this sequence number
        bool fin_acked[2] = {};
        bool ended[2] = {};        // the app layer saw this direction's end: Suricata's CLOSING/CLOSED
                                   // (both), a valid RST (its sender's), the flow's end (both)
        uint32_t next_seq[2] = {}; // the sequence number each direction sends next ...
        bool has_seq[2] = {};      // ... once known
        uint32_t logged = 0;       // transactions handed to the sink
        uint32_t inspect_id[2] = {};
        uint32_t guessed_tx = UINT32_MAX; // the transaction alerts were last given ...
        uint32_t guessed = 0;      // ... and how many
        uint64_t body = 0;         // message length of the current response ...
        uint64_t body_sent = 0;    // ... and what the sink was told of it
        uint32_t body_tx = 0;
        Files files[2];            // by side
    };
    // One per flow-table slot: which flow holds it, and its session.
    struct FlowSlot {
        uint64_t flow_id = 0;
        uint32_t session = kNone;
        bool seen = false;         // this flow was looked at (no new session for it)
        bool http = false;
    };
    class Events;

    HttpTracker() = default;
    Session* session_of(const Flow& flow);
    void parse(Session& s, const Flow& flow, const StreamTracker& streams, HttpSink& sink);
    void report_done(Session& s, const Flow& flow, HttpSink& sink);
    static void close_file(Session& s, const Flow& flow, HttpSide side, bool complete, HttpSink& sink);
    static void log_files(Session& s, const Flow& flow, unsigned side, HttpSink& sink);
    void release(FlowSlot& slot);

    HttpConfig cfg_;
    std::vector<Session> sessions_;
    std::vector<uint32_t> free_;
    std::vector<FlowSlot> flows_;
    HttpCounters counters_;
};

} // namespace sg
