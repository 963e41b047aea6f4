#include "stream/stream_tracker.hpp"

#include <new>

#include <fmt/format.h>

namespace sg {

namespace {

using Mode = FlowStreams::Mode;
using Close = FlowStreams::Close;

// Suricata's TCP states, named from the server's side: the initiator's FIN
// moves an established session to CLOSE_WAIT, the responder's to FIN_WAIT1;
// in CLOSE_WAIT, LAST_ACK, CLOSING and CLOSED (and after an RST) raw data is
// inspected on every packet, in FIN_WAIT and TIME_WAIT only by chunks.
void update_close(FlowStreams& fs, uint8_t flags, unsigned dir) {
    if (flags & kTcpRst) {
        fs.close = Close::flushing;
        return;
    }
    const bool fin = flags & kTcpFin;
    switch (fs.close) {
    case Close::open:
        if (fin) fs.close = dir == 0 ? Close::flushing : Close::responder_fin;
        break;
    case Close::responder_fin:
        if (fin && dir == 0) fs.close = Close::both_fin;
        break;
    case Close::both_fin:
        if (dir == 1) fs.close = Close::flushing; // the responder's last ACK: CLOSED
        break;
    case Close::flushing: break;
    }
}

} // namespace

Result<std::unique_ptr<StreamTracker>> StreamTracker::create(const StreamConfig& cfg) {
    if (cfg.buffers && cfg.buffer_size < 2 * cfg.chunk_size)
        return make_error(fmt::format("stream buffers of {} bytes cannot hold two chunks of {}", cfg.buffer_size,
                                      cfg.chunk_size));
    std::unique_ptr<StreamTracker> t(new StreamTracker);
    t->cfg_ = cfg;
    const size_t bytes = size_t(cfg.buffers) * cfg.buffer_size;
    if (bytes) {
        t->memory_.reset(new (std::nothrow) uint8_t[bytes]);
        if (!t->memory_) return make_error(fmt::format("cannot reserve {} bytes of stream buffers", bytes));
    }
    t->streams_.resize(cfg.buffers);
    t->free_.reserve(cfg.buffers);
    for (uint32_t i = cfg.buffers; i-- > 0;) t->free_.push_back(i);
    return t;
}

StreamInspection StreamTracker::on_packet(Flow& flow, unsigned dir, const PacketView& pv, const uint8_t* frame) {
    StreamInspection insp;
    // Only connections whose SYN was seen (Suricata's default, midstream: false).
    if (!pv.has_l4 || pv.ip_proto != kProtoTcp || flow.midstream || !(flow.tcp_flags_seen[0] & kTcpSyn))
        return insp;
    FlowStreams& fs = flow.streams;
    update_close(fs, pv.tcp_flags, dir);

    const unsigned peer = 1 - dir;
    if ((pv.tcp_flags & kTcpAck) && fs.mode[peer] == Mode::attached) stream(fs.slot[peer]).ack(pv.tcp_ack);

    if (pv.tcp_flags & kTcpSyn) {
        fs.syn_seen[dir] = true;
        fs.first_seq[dir] = pv.tcp_seq + 1;
    }
    // A SYN's payload is not stream data (Suricata does not add it either).
    if (pv.payload_len && !(pv.tcp_flags & kTcpSyn)) {
        if (fs.mode[dir] == Mode::none) {
            if (free_.empty()) {
                fs.mode[dir] = Mode::block_only;
                ++counters_.pool_exhausted;
            } else {
                const uint32_t slot = free_.back();
                free_.pop_back();
                fs.slot[dir] = slot;
                fs.mode[dir] = Mode::attached;
                // From the SYN when it was seen, so that a first segment
                // arriving out of order is held, not taken as the start.
                const uint32_t start_seq = fs.syn_seen[dir] ? fs.first_seq[dir] : pv.tcp_seq;
                stream(slot).start(memory_.get() + size_t(slot) * cfg_.buffer_size, cfg_.buffer_size, start_seq);
                ++counters_.attached;
            }
        }
        if (fs.mode[dir] == Mode::attached) {
            const SegmentResult r =
                stream(fs.slot[dir]).add_segment(pv.tcp_seq, frame + pv.payload_offset, pv.payload_len);
            counters_.retransmitted += r.retransmitted;
            counters_.ooo_dropped += r.dropped;
            counters_.skipped += r.skipped;
        }
        // A late retransmission after the direction finished is stream data too.
        insp.payload_in_stream = fs.mode[dir] == Mode::attached || fs.mode[dir] == Mode::finished;
    }
    if (fs.mode[dir] != Mode::attached) return insp;

    TcpStream& s = stream(fs.slot[dir]);
    if (pv.tcp_flags & kTcpFin) s.set_fin();
    // A segment past a hole the peer already ACKed was held above; the hole
    // will never be filled, so the stream goes on after it.
    uint32_t skipped = 0;
    if (s.resolve_gap(skipped)) ++counters_.gaps;
    counters_.skipped += skipped;
    const bool due = s.has_uninspected() && (fs.close == Close::flushing || s.acked_uninspected() >= cfg_.chunk_size);
    if (due) insp.chunks = s.chunks(false);
    return insp;
}

void StreamTracker::count_inspection(const StreamInspection& insp) {
    if (!insp.chunks.count) return;
    ++counters_.inspections;
    for (unsigned i = 0; i < insp.chunks.count; ++i) counters_.bytes_inspected += insp.chunks.span[i].len;
}

void StreamTracker::inspected(Flow& flow, unsigned dir, const StreamInspection& insp) {
    FlowStreams& fs = flow.streams;
    if (fs.mode[dir] != Mode::attached) return;
    TcpStream& s = stream(fs.slot[dir]);
    if (insp.chunks.count) {
        s.mark_inspected(insp.chunks);
        count_inspection(insp);
    }
    // Nothing more can come after the FIN (retransmissions only): give the
    // buffer back early, so short connections do not hold the pool until
    // their flow times out.
    if (s.fin() && !s.has_uninspected() && s.held_ranges() == 0) {
        free_.push_back(fs.slot[dir]);
        fs.slot[dir] = FlowStreams::kNoSlot;
        fs.mode[dir] = Mode::finished;
    }
}

StreamSpan StreamTracker::app_bytes(const Flow& flow, unsigned dir, uint64_t from, bool eof, bool& lost) const {
    const FlowStreams& fs = flow.streams;
    if (fs.mode[dir] != Mode::attached) return {};
    return streams_[fs.slot[dir]].app_bytes(from, eof, lost);
}

StreamInspection StreamTracker::at_flow_end(const Flow& flow, unsigned dir) {
    StreamInspection insp;
    insp.flow_end = true;
    insp.payload_in_stream = true;
    const FlowStreams& fs = flow.streams;
    if (fs.mode[dir] != Mode::attached) return insp;
    TcpStream& s = stream(fs.slot[dir]);
    uint32_t skipped = 0;
    if (s.resolve_gap(skipped)) ++counters_.gaps;
    counters_.skipped += skipped;
    if (s.has_uninspected()) insp.chunks = s.chunks(true);
    return insp;
}

void StreamTracker::release(const Flow& flow, const StreamInspection (&inspected)[2]) {
    const FlowStreams& fs = flow.streams;
    for (unsigned dir = 0; dir < 2; ++dir) {
        if (fs.mode[dir] != Mode::attached) continue;
        count_inspection(inspected[dir]);
        free_.push_back(fs.slot[dir]);
    }
}

PacketView stream_end_packet(const Flow& flow, unsigned dir) {
    PacketView pv;
    const bool from_a = (dir == 0) == flow.initiator_is_a;
    const FlowKey& k = flow.key;
    pv.l3 = k.ip_version == 6 ? L3Type::ipv6 : L3Type::ipv4;
    pv.src = from_a ? k.a : k.b;
    pv.dst = from_a ? k.b : k.a;
    pv.src_port = from_a ? k.port_a : k.port_b;
    pv.dst_port = from_a ? k.port_b : k.port_a;
    pv.ip_proto = k.proto;
    pv.has_l4 = true;
    pv.tcp_flags = kTcpAck;
    return pv;
}

} // namespace sg
