#pragma once
// Ipv4Defrag: IPv4 fragment reassembly for one worker. Fragments are copied
// into a preallocated tracker as they come; the fragment that completes a
// datagram gets the whole datagram back, which the worker then decodes,
// tracks and matches like any packet (Suricata's reassembled pseudo-packet).
//
// Why here: a signature split over fragments (or a TCP SYN whose header is
// cut in 8-byte pieces, suricata-verify bug-6887) is invisible per fragment.
// Every fragment of a datagram reaches the same worker because the software
// dispatcher and hardware RSS spread packets by IP pair (docs/architecture.md).
//
// What comes back: the link header of the first fragment (the bytes before
// its IP header, as Suricata keeps them), then its IP header with the total
// length set, MF and the offset cleared and the checksum recomputed, then
// the payload. Only fragments whose IP header is the outermost one are
// reassembled; fragments inside a tunnel are left as they are (the outer
// length fields would no longer describe the reassembled packet).
//
// Overlaps follow Suricata's default policy "bsd": where fragments overlap,
// the data already there stays unless the new fragment starts at a lower
// offset than the one that wrote it. Data is owned per 8-byte block (every
// fragment but the last is a multiple of 8 bytes long, and all start on one).
//
// Bounded: `trackers` datagrams at once, each at most `max_payload` bytes of
// IP payload, all allocated by the constructor (control side). A datagram
// that was not completed within `timeout` of packet time after its last
// fragment is dropped (timed_out); when every tracker is busy, the oldest
// one that timed out is reused, else the fragment is not reassembled
// (table_full). Nothing is allocated per packet.
//
// Thread: construction on the control side; everything else on the owning
// worker only.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/ip_address.hpp"
#include "core/time.hpp"
#include "parse/packet_view.hpp"

namespace sg {

struct DefragConfig {
    uint32_t trackers = 512;            // datagrams in reassembly at once, per worker
    uint32_t max_payload = 16384;       // bytes of IP payload per datagram (the worker's frame view)
    Nanos timeout = 60 * kNsPerSec;     // Suricata's defrag.timeout default
};

struct DefragCounters {
    uint64_t fragments = 0;     // IPv4 fragments offered
    uint64_t reassembled = 0;   // datagrams completed
    uint64_t timed_out = 0;     // datagrams dropped incomplete after the timeout
    uint64_t table_full = 0;    // fragments not reassembled: every tracker busy
    uint64_t too_large = 0;     // fragments past max_payload (or a link header past the headroom)
    uint64_t invalid = 0;       // not reassemblable: MF with a length not a multiple of 8, cut by the
                                // capture, an IPv4 header the decoder could not read, a second
                                // different last fragment, data past the end
    uint64_t overlaps = 0;      // fragments that overlapped data already there
    uint64_t tunnelled = 0;     // fragments inside a tunnel: left alone
};

class Ipv4Defrag {
public:
    // Bytes reserved in front of the payload for the link header and the IP
    // header of the first fragment.
    static constexpr uint32_t kHeadroom = 256;

    explicit Ipv4Defrag(const DefragConfig& config = {});

    // Worker: one IPv4 fragment (pv.l3 == ipv4, pv.fragment), decoded from
    // `frame` (`len` bytes). Returns the reassembled packet when this
    // fragment completed a datagram (valid until the next call), else an
    // empty span.
    std::span<const uint8_t> add(const uint8_t* frame, uint32_t len, const PacketView& pv, Nanos now);

    const DefragCounters& counters() const { return counters_; }
    uint32_t in_use() const { return in_use_; }

private:
    static constexpr uint32_t kNone = UINT32_MAX;

    struct Tracker {
        IpAddress src;
        IpAddress dst;
        uint16_t ip_id = 0;
        uint16_t vlan_id = 0;
        uint8_t proto = 0;
        bool in_use = false;
        bool have_first = false;
        bool have_last = false;
        uint16_t prefix_len = 0;    // link header + IP header of the first fragment
        uint8_t ip_header_len = 0;  // the IP header's part of it
        uint32_t bucket = 0;        // its hash chain
        uint32_t payload_len = 0;   // known once the last fragment was seen
        uint32_t data_end = 0;      // the furthest end of any fragment so far
        uint32_t blocks_covered = 0;
        Nanos last_seen = 0;
        uint32_t hash_next = kNone; // bucket chain
        uint32_t lru_prev = kNone;  // least recently used first
        uint32_t lru_next = kNone;
    };

    uint32_t bucket_of(const PacketView& pv) const;
    uint32_t find(const PacketView& pv, uint32_t bucket) const;
    uint32_t acquire(const PacketView& pv, uint32_t bucket, Nanos now);
    void release(uint32_t t);
    void lru_unlink(uint32_t t);
    void lru_push_back(uint32_t t);
    bool timed_out(const Tracker& tr, Nanos now) const { return now > tr.last_seen + config_.timeout; }
    uint8_t* buffer(uint32_t t) { return &buffers_[size_t(t) * buffer_size_]; }
    uint16_t* owners(uint32_t t) { return &owners_[size_t(t) * blocks_per_tracker_]; }
    std::span<const uint8_t> complete(uint32_t t);

    DefragConfig config_;
    uint32_t buffer_size_;
    uint32_t blocks_per_tracker_;
    std::vector<Tracker> trackers_;
    std::vector<uint8_t> buffers_;   // kHeadroom + max_payload per tracker
    std::vector<uint16_t> owners_;   // per 8-byte block: offset in blocks + 1 of its owner, 0: empty
    std::vector<uint32_t> buckets_;  // heads of the hash chains
    uint32_t free_head_ = kNone;     // free trackers, chained through hash_next
    uint32_t lru_head_ = kNone;
    uint32_t lru_tail_ = kNone;
    uint32_t in_use_ = 0;
    DefragCounters counters_;
};

} // namespace sg
