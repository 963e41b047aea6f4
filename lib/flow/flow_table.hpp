#pragma once
// FlowTable: one per worker, preallocated at start, never grows.
//
// Lookup is DPDK's rte_hash (single writer: the owning worker) keyed by the
// canonical FlowKey, with twice as many entries as live flows so that inserts
// never meet a full hash; entries live in a fixed array of `capacity` flows
// (the slot is the key's data in the rte_hash, taken from a free list) and
// sit on intrusive LRU lists, one per timeout class, ordered by
// last packet time, so expiry walks only idle flows and, when the table is
// full, the least recently seen flow is evicted (counted).
//
// Thread: the owning worker only, for everything except create() and the
// destructor (control side, after rte_eal_init). Nothing here allocates,
// throws, locks or logs after create(). See lib/flow/README.md for the
// timeout and eviction policy.

#include <cstdint>
#include <memory>

#include "core/result.hpp"
#include "core/time.hpp"
#include "flow/flow_key.hpp"
#include "parse/packet_view.hpp"

struct rte_hash;

namespace sg {

enum class TcpState : uint8_t {
    none = 0,      // not TCP
    syn_sent,      // SYN seen, no SYN-ACK yet (half-open)
    syn_received,  // SYN-ACK seen
    established,   // handshake completed (or picked up mid-stream)
    closing,       // FIN from one side
    closed,        // FIN from both sides
    reset,         // RST seen
};
const char* tcp_state_name(TcpState s);

enum class FlowEnd : uint8_t {
    idle_timeout = 0, // idle past its timeout (found by expire(), track() or eviction)
    evicted,          // table full: the least recently seen flow made room
    flushed,          // flush(): end of input or shutdown
    reused,           // a new SYN on a closed or reset TCP flow: the 5-tuple starts over
};

// A flow's TCP raw-stream state, kept by lib/stream's StreamTracker: the
// pool buffer of each direction's stream and how far the connection closed,
// in the terms Suricata's stream engine uses to decide when to inspect.
struct FlowStreams {
    static constexpr uint32_t kNoSlot = UINT32_MAX;
    enum class Mode : uint8_t {
        none = 0,    // no payload yet (or not TCP, or picked up mid-stream)
        attached,    // payload goes into the stream in slot[dir]
        block_only,  // the pool was empty: this direction is matched per packet only
        finished,    // FIN and everything inspected: the buffer went back to the pool
    };
    enum class Close : uint8_t {
        open = 0,
        responder_fin,  // the responder closed first (Suricata: FIN_WAIT)
        both_fin,       // then the initiator too (TIME_WAIT)
        flushing,       // initiator closed first, RST, or closed for good: inspect at once
    };
    uint32_t slot[2] = {kNoSlot, kNoSlot};
    Mode mode[2] = {Mode::none, Mode::none};
    Close close = Close::open;
    bool syn_seen[2] = {};        // the direction's SYN was seen: its stream starts at
    uint32_t first_seq[2] = {};   // first_seq (ISN + 1), else at its first payload
};

// Direction of a packet relative to the flow: 0 = from the initiator
// (first packet's sender; for TCP the SYN sender, so a flow first seen on a
// SYN-ACK is initiated by that packet's receiver), 1 = from the responder.
struct Flow {
    FlowKey key;
    Nanos first_seen = 0;
    Nanos last_seen = 0;
    uint64_t packets[2] = {};
    uint64_t bytes[2] = {};
    uint64_t payload_bytes[2] = {};
    bool initiator_is_a = true;   // which canonical endpoint initiated
    TcpState tcp_state = TcpState::none;
    uint8_t tcp_flags_seen[2] = {};
    bool midstream = false;       // TCP picked up without seeing the SYN
    uint8_t lru_list = 0;         // internal: which timeout list the flow is on
    uint32_t index = 0;           // slot in the table (stable while the flow lives)
    uint32_t lru_prev = 0;
    uint32_t lru_next = 0;
    uint64_t id = 0;              // worker-unique flow id, never reused
    uint64_t flowbits = 0;        // rule flowbits, one bit per name (the matcher's numbering)
    // Packets (both directions) the flow had when its TCP handshake
    // completed; 0 while it has not. Rules' flow:established holds from the
    // packet after that on, also once the connection closes or resets.
    uint64_t established_at = 0;
    FlowStreams streams;          // raw-stream reassembly (lib/stream)
    // Deployments of endpoints a and b (attrib's DeploymentId; 0xffff:
    // not protected), looked up once by the worker when the flow starts.
    uint16_t deployment[2] = {0xffff, 0xffff};
};

struct FlowTableConfig {
    uint32_t capacity = 1u << 16;     // live flows, never exceeded (1 .. 2^30)
    Nanos tcp_idle = 3600 * kNsPerSec; // established TCP
    Nanos tcp_closed_idle = 30 * kNsPerSec; // after FIN/RST or unanswered SYN
    Nanos udp_idle = 120 * kNsPerSec;
    Nanos other_idle = 60 * kNsPerSec;
    int socket_id = -1;               // NUMA socket for the memory (SOCKET_ID_ANY)
    const char* name = "flows";       // unique per process (rte_hash names are global),
                                      // at most 21 characters; only read by create()
};

struct FlowTableCounters {
    uint64_t created = 0;
    uint64_t expired = 0;   // idle timeout
    uint64_t evicted = 0;   // table full: the least recently seen flow made room
    uint64_t reused = 0;    // ended by a new SYN on a closed/reset TCP flow
    uint64_t insert_failed = 0; // rte_hash refused a key: packet accounted in a
                                // scratch flow that is never ended (must stay 0)
    uint64_t active = 0;
};

// Called for every flow that leaves the table, before its slot is reused.
// Runs on the owning worker inside track()/expire()/flush(): it must not call
// back into the table, and must not allocate, lock or block.
using FlowEndFn = void (*)(void* ctx, const Flow& flow, FlowEnd why);

class FlowTable {
public:
    static Result<std::unique_ptr<FlowTable>> create(const FlowTableConfig& cfg, FlowEndFn on_end,
                                                     void* ctx);
    // Frees the memory without calling on_end: flush() first to see the flows.
    ~FlowTable();
    FlowTable(const FlowTable&) = delete;
    FlowTable& operator=(const FlowTable&) = delete;

    // Finds the flow of this packet, or creates it (evicting the least
    // recently seen flow when full). A flow found idle past its timeout is
    // ended first and a new one created, so results do not depend on when
    // expire() last ran. `hash` is flow_hash(key). Then accounts the packet:
    // counts, timestamps, TCP state. Returns the flow and its direction
    // (0 = from initiator, 1 = from responder) in `dir`.
    Flow& track(const FlowKey& key, uint32_t hash, bool from_a, const PacketView& pv,
                uint32_t frame_len, Nanos now, unsigned& dir, bool& created);

    // Ends flows idle past their timeout at `now`, oldest first, at most
    // `budget` of them (bounded work per call).
    unsigned expire(Nanos now, unsigned budget);
    // Ends every flow (end of input, shutdown).
    void flush();

    const FlowTableCounters& counters() const { return counters_; }
    uint32_t capacity() const { return capacity_; }

    // CRC32-C of the 48 key bytes: the same function the rte_hash uses.
    static uint32_t flow_hash(const FlowKey& key);

private:
    static constexpr uint32_t kNone = UINT32_MAX;
    // One LRU list per timeout class: within a list every flow has the same
    // idle limit, so the head is always the next one to time out.
    enum LruClass : uint8_t { kTcpOpen = 0, kTcpShort, kUdp, kOther, kLruClasses };
    struct LruList {
        uint32_t head = kNone;
        uint32_t tail = kNone;
    };

    FlowTable() = default;
    Nanos idle_limit(const Flow& f) const;
    bool idle_at(const Flow& f, Nanos now) const;
    static uint8_t lru_class(const Flow& f);
    void init_flow(Flow& f, const FlowKey& key, uint32_t index, bool from_a, const PacketView& pv,
                   Nanos now);
    void restart_flow(Flow& f, bool from_a, const PacketView& pv, Nanos now, FlowEnd why);
    void end_flow(Flow& f, FlowEnd why);   // unlinked already; frees the slot
    void count_end(const Flow& f, FlowEnd why);
    uint32_t oldest_head(Nanos now, bool only_idle) const;
    void make_room(Nanos now);
    void lru_unlink(Flow& f);
    void lru_push_back(Flow& f);

    FlowTableConfig cfg_{};
    rte_hash* hash_ = nullptr;
    Flow* flows_ = nullptr;          // capacity_ entries; a flow's slot is its rte_hash data
    uint32_t* free_ = nullptr;       // stack of free slots of flows_, free_count_ of them
    uint32_t free_count_ = 0;
    uint32_t capacity_ = 0;          // live flow limit (cfg.capacity) = slots in flows_
    uint32_t hash_entries_ = 0;      // rte_hash entries: 2 * capacity_ (at least 8)
    LruList lru_[kLruClasses];
    uint64_t next_id_ = 1;
    FlowTableCounters counters_{};
    FlowEndFn on_end_ = nullptr;
    void* on_end_ctx_ = nullptr;
    Flow overflow_{};                // scratch for the (unreachable) insert failure
};

} // namespace sg
