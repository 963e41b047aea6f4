#pragma once
// TcpStream: one direction of a TCP connection, reassembled into a fixed
// buffer for raw-stream signature matching (Suricata's "raw" reassembly).
//
// Byte positions are stream offsets (0 = the first payload byte seen), never
// raw sequence numbers, so wrap-around is handled once, in offset_of().
// The buffer is a window over the stream: data[0] holds offset `base`. It
// keeps the bytes not yet inspected; inspected bytes are dropped when room
// is needed.
//
// Thread: the owning worker only. Nothing here allocates: the buffer comes
// from the StreamTracker's pool.

#include <cstdint>

namespace sg {

// A contiguous run of stream bytes handed to the matcher.
struct StreamSpan {
    const uint8_t* data = nullptr;
    uint32_t len = 0;
};

// What a stream offers the matcher at one inspection: at most two spans,
// because a gap (bytes the capture never saw) splits the data and a match
// must not cross it.
struct StreamChunks {
    StreamSpan span[2];
    unsigned count = 0;
    uint64_t limit = 0;   // stream offset the inspection reaches (internal)
};

// What happened to a segment offered to add_segment().
struct SegmentResult {
    uint32_t added = 0;          // new in-order or held bytes
    uint32_t retransmitted = 0;  // bytes already held: first data wins, not stored again
    uint32_t dropped = 0;        // out-of-order bytes that could not be held
    uint32_t skipped = 0;        // uninspected bytes pushed out to make room
};

class TcpStream {
public:
    // Out-of-order segments held at once (as byte ranges past the in-order end).
    static constexpr unsigned kMaxHeldRanges = 4;

    // Starts an empty stream whose first byte has sequence number `seq`, over
    // `capacity` bytes at `buffer`.
    void start(uint8_t* buffer, uint32_t capacity, uint32_t seq);

    // The stream offset of sequence number `seq`, taken relative to the
    // in-order end (so within 2 GiB of it); negative before the stream.
    int64_t offset_of(uint32_t seq) const;

    // A segment of this direction. Bytes already held are kept (first data
    // wins); a segment past the in-order end is held when it fits, and the
    // hole is filled by a later retransmission or declared a gap.
    SegmentResult add_segment(uint32_t seq, const uint8_t* bytes, uint32_t len);

    // An ACK from the peer for this direction's bytes.
    void ack(uint32_t ack_seq);

    // When the peer acknowledged bytes the capture never had, the hole will
    // not be filled: restart the stream after it (the bytes before it are
    // still inspected, apart). Returns true when a gap was declared; counts
    // uninspected bytes it had to give up in `skipped`.
    bool resolve_gap(uint32_t& skipped);

    // Bytes not yet inspected (in order, before or after a pending gap).
    bool has_uninspected() const { return end_ > inspected_ || gap_pending_; }
    // ACKed bytes not yet inspected.
    uint64_t acked_uninspected() const { return acked_ > inspected_ ? acked_ - inspected_ : 0; }

    // What to inspect now: the ACKed bytes not yet inspected, or with `eof`
    // everything held in order (the connection or the flow ended).
    StreamChunks chunks(bool eof) const;
    // Marks `c` inspected (raw progress moves to c.limit).
    void mark_inspected(const StreamChunks& c);

    // For an application-layer parser (lib/http), which keeps its own
    // progress: the contiguous bytes from offset `from` up to what the peer
    // ACKed (with `eof`: all held in order). `lost`: bytes at `from` are no
    // longer held (pushed out of the buffer, or inside a gap); the parser
    // cannot go on.
    StreamSpan app_bytes(uint64_t from, bool eof, bool& lost) const;

    uint64_t end() const { return end_; }
    uint64_t acked() const { return acked_; }
    uint64_t inspected() const { return inspected_; }
    unsigned held_ranges() const { return held_count_; }
    bool fin() const { return fin_; }
    void set_fin() { fin_ = true; }

private:
    struct Range {
        uint64_t from = 0;
        uint64_t to = 0;
    };
    // Makes [from, to) writable in the buffer if possible; returns the first
    // writable offset >= from (bytes before it did not fit) and counts pushed
    // out uninspected bytes in `skipped`.
    uint64_t make_room(uint64_t from, uint64_t to, bool may_skip, uint32_t& skipped);
    void write(uint64_t from, const uint8_t* bytes, uint64_t len);
    void hold(uint64_t from, uint64_t to);
    void advance_over_held();
    void restart_at(uint64_t offset);

    uint8_t* data_ = nullptr;
    uint32_t capacity_ = 0;
    uint64_t base_ = 0;          // stream offset of data_[0]
    uint64_t end_ = 0;           // after the last in-order byte
    uint32_t end_seq_ = 0;       // sequence number of end_
    uint64_t acked_ = 0;         // the peer acknowledged up to here (may pass end_ by the FIN)
    uint64_t inspected_ = 0;     // raw progress: bytes before it were inspected
    // After a gap: the old block [inspected_, gap_at_) is still to be
    // inspected, apart from the new block that starts at block_start_.
    bool gap_pending_ = false;
    uint64_t gap_at_ = 0;
    uint64_t block_start_ = 0;
    // The latest gap: stream offsets [gap_from_, gap_to_) never held bytes.
    uint64_t gap_from_ = 0;
    uint64_t gap_to_ = 0;
    Range held_[kMaxHeldRanges];
    unsigned held_count_ = 0;
    bool fin_ = false;
};

} // namespace sg
