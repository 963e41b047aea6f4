#pragma once
// StreamTracker: one per worker. Reassembles each TCP flow direction into a
// buffer from a fixed pool and decides, packet by packet, when its bytes are
// due for raw-stream matching, as Suricata 7's stream engine does in IDS mode:
//
// - A direction gets a buffer on its first payload, if the flow began with
//   the initiator's SYN (Suricata does not pick up connections mid-stream by
//   default). Its stream starts at the direction's SYN (else at that first
//   payload). With the pool empty it stays block-mode only, counted.
// - Its bytes are inspected on a packet of that same direction once the peer
//   ACKed at least `chunk_size` bytes beyond the last inspection, or at once
//   after the initiator's FIN, an RST, or the final ACK of a close the
//   responder began (Suricata's CLOSE_WAIT .. CLOSED states); an inspection
//   covers everything ACKed and not yet inspected. At flow end the rest,
//   ACKed or not.
//
// Thread: create() on the control side; everything else on the owning worker,
// without allocating.

#include <cstdint>
#include <memory>
#include <vector>

#include "core/result.hpp"
#include "flow/flow_table.hpp"
#include "parse/packet_view.hpp"
#include "stream/tcp_stream.hpp"

namespace sg {

struct StreamConfig {
    uint32_t buffers = 1024;       // stream buffers per worker; 0 = block mode only
    uint32_t buffer_size = 65536;  // bytes per buffer (one flow direction)
    uint32_t chunk_size = 2560;    // ACKed bytes that make an inspection due
                                   // (Suricata's stream.reassembly.*-chunk-size)
};

struct StreamCounters {
    uint64_t attached = 0;         // flow directions given a buffer
    uint64_t pool_exhausted = 0;   // flow directions left block-mode: no buffer free
    uint64_t inspections = 0;      // raw-stream inspections
    uint64_t bytes_inspected = 0;
    uint64_t retransmitted = 0;    // payload bytes already held (not appended again)
    uint64_t gaps = 0;             // holes the peer ACKed: the stream restarted after them
    uint64_t skipped = 0;          // bytes never inspected in stream mode (full buffer, gaps)
    uint64_t ooo_dropped = 0;      // out-of-order bytes that could not be held
};

// What the matcher sees of the stream on one packet (or at flow end).
struct StreamInspection {
    StreamChunks chunks;            // due for inspection now (count 0: none)
    bool payload_in_stream = false; // the packet's payload went into a stream:
                                    // stream-only rules do not look at it alone
    bool flow_end = false;          // no packet: the flow ended, only stream rules apply
};

class StreamTracker {
public:
    static Result<std::unique_ptr<StreamTracker>> create(const StreamConfig& cfg);

    // A TCP packet of `flow` from `dir`, before matching: accounts its ACK
    // and payload and says what is due.
    StreamInspection on_packet(Flow& flow, unsigned dir, const PacketView& pv, const uint8_t* frame);
    // After matching `insp`: marks it inspected; a direction whose FIN was
    // seen and whose bytes are all inspected gives its buffer back.
    void inspected(Flow& flow, unsigned dir, const StreamInspection& insp);

    // Flow end: what direction `dir` still holds, ACKed or not.
    StreamInspection at_flow_end(const Flow& flow, unsigned dir);
    // Flow end, after at_flow_end() for both directions: counts and frees.
    void release(const Flow& flow, const StreamInspection (&inspected)[2]);

    // An application-layer parser's view of direction `dir` of `flow`
    // (TcpStream::app_bytes); empty when the direction has no buffer (no
    // payload yet, block mode, or given back after its FIN).
    StreamSpan app_bytes(const Flow& flow, unsigned dir, uint64_t from, bool eof, bool& lost) const;

    const StreamCounters& counters() const { return counters_; }
    uint32_t free_buffers() const { return uint32_t(free_.size()); }

private:
    StreamTracker() = default;
    TcpStream& stream(uint32_t slot) { return streams_[slot]; }
    void count_inspection(const StreamInspection& insp);

    StreamConfig cfg_;
    std::unique_ptr<uint8_t[]> memory_;   // buffers * buffer_size bytes
    std::vector<TcpStream> streams_;      // one per buffer
    std::vector<uint32_t> free_;          // free slots (a stack; capacity = buffers)
    StreamCounters counters_;
};

// The packet a flow-end inspection stands for: the flow's addresses and
// ports as sent from `dir`, TCP, no payload (Suricata's pseudo packet).
PacketView stream_end_packet(const Flow& flow, unsigned dir);

} // namespace sg
