#pragma once
// FlowTable: one per worker, preallocated at start, never grows.
//
// Lookup is DPDK's rte_hash (single writer: the owning worker) keyed by the
// canonical FlowKey; entries live in a fixed array and sit on an intrusive
// LRU list ordered by last packet time, so expiry walks only idle flows and,
// when the table is full, the least recently seen flow is evicted (counted).
//
// Thread: the owning worker only, for everything except the constructor
// (control side, after rte_eal_init). Nothing here allocates after create().

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

enum class FlowEnd : uint8_t { idle_timeout = 0, evicted, flushed };

// Direction of a packet relative to the flow: 0 = from the initiator
// (first packet's sender, or the SYN sender), 1 = from the responder.
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
    uint32_t index = 0;           // slot in the table (stable while the flow lives)
    uint32_t lru_prev = 0;
    uint32_t lru_next = 0;
    uint64_t id = 0;              // worker-unique flow id, never reused
};

struct FlowTableConfig {
    uint32_t capacity = 1u << 16;     // flows; rounded as rte_hash requires
    Nanos tcp_idle = 3600 * kNsPerSec; // established TCP
    Nanos tcp_closed_idle = 30 * kNsPerSec; // after FIN/RST or unanswered SYN
    Nanos udp_idle = 120 * kNsPerSec;
    Nanos other_idle = 60 * kNsPerSec;
    int socket_id = -1;               // NUMA socket for the memory (SOCKET_ID_ANY)
    const char* name = "flows";       // unique per process (rte_hash names are global)
};

struct FlowTableCounters {
    uint64_t created = 0;
    uint64_t expired = 0;   // idle timeout
    uint64_t evicted = 0;   // table full: the least recently seen flow made room
    uint64_t active = 0;
};

// Called for every flow that leaves the table, before its slot is reused.
using FlowEndFn = void (*)(void* ctx, const Flow& flow, FlowEnd why);

class FlowTable {
public:
    static Result<std::unique_ptr<FlowTable>> create(const FlowTableConfig& cfg, FlowEndFn on_end,
                                                     void* ctx);
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

    static uint32_t flow_hash(const FlowKey& key);

private:
    FlowTable() = default;
    Nanos idle_limit(const Flow& f) const;
    void end_flow(Flow& f, FlowEnd why);
    void lru_unlink(Flow& f);
    void lru_push_back(Flow& f);

    FlowTableConfig cfg_{};
    rte_hash* hash_ = nullptr;
    Flow* flows_ = nullptr;          // capacity_ slots, allocated once
    uint32_t capacity_ = 0;
    uint32_t lru_head_ = 0;          // sentinel-free list; kNone when empty
    uint32_t lru_tail_ = 0;
    uint32_t free_head_ = 0;         // singly linked through lru_next
    uint64_t next_id_ = 1;
    FlowTableCounters counters_{};
    FlowEndFn on_end_ = nullptr;
    void* on_end_ctx_ = nullptr;
};

} // namespace sg
