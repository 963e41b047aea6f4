#pragma once
// Worker: one per worker lcore. It owns everything it touches on the packet
// path, in one cache-aligned object: its input (NIC queues, or the ring the
// software dispatcher fills), its flow table, its counters and the producer
// end of its ring to the reporter. Nothing is shared with other workers.
//
// Thread: run() on the worker's own lcore. The control side reads counters()
// as statistics and sets the shared stop/input-done flags.

#include <atomic>
#include <cstdint>
#include <memory>

#include <rte_config.h>

#include "core/time.hpp"
#include "flow/flow_table.hpp"
#include "match/matcher.hpp"
#include "pipeline/rules_slot.hpp"
#include "pipeline/counters.hpp"
#include "queue/record_ring.hpp"

struct rte_mbuf;
struct rte_ring;

namespace sg {

inline constexpr unsigned kMaxBurst = 256;
inline constexpr unsigned kFrameView = 16384; // bytes of a frame the decoder sees
inline constexpr unsigned kMaxQueuesPerWorker = 16;
inline constexpr uint16_t kNoPeer = 0xffff;

struct RxQueueRef {
    uint16_t port = 0;
    uint16_t queue = 0;
};

// Where a worker's packets come from and where forwarded ones go.
struct WorkerIo {
    // Direct mode: the NIC queues this worker polls itself (hardware RSS).
    RxQueueRef rx[kMaxQueuesPerWorker];
    unsigned nb_rx = 0;
    // Dispatch mode: mbufs spread over workers by the software dispatcher.
    rte_ring* rx_ring = nullptr;
    // Inline mode: peer_port[in_port] is where a packet leaves (kNoPeer: tap).
    const uint16_t* peer_port = nullptr;
    // Inline, direct mode: this worker's own tx queue on every peer port.
    uint16_t tx_queue = 0;
    // Inline, dispatch mode: forwarded mbufs go back to the dispatcher.
    rte_ring* tx_ring = nullptr;
};

// Flags the control side raises; workers read them only when idle.
struct WorkerSignals {
    std::atomic<bool> stop{false};        // live mode: finish now
    std::atomic<bool> input_done{false};  // replay: no more input will arrive
    bool lossless = false;                // replay: wait for the reporter, never drop
};

class alignas(RTE_CACHE_LINE_SIZE) Worker {
public:
    // Control side: builds the worker and its flow table (named per worker).
    static Result<std::unique_ptr<Worker>> create(unsigned id, const WorkerIo& io,
                                                  const FlowTableConfig& flows, RecordRing* out,
                                                  WorkerSignals* signals, uint32_t burst);

    // lcore entry point: polls until stopped or the input is done, then ends
    // every flow (their records go to the reporter) and returns.
    int run();
    static int lcore_entry(void* self) { return static_cast<Worker*>(self)->run(); }

    // Accounts and processes a burst. Public for tests that inject mbufs.
    void process_burst(rte_mbuf** pkts, unsigned n);

    // Control side, before run(): the signature rules this worker applies.
    void set_rules(RulesSlot* rules) { rules_ = rules; }

    unsigned id() const { return id_; }
    const WorkerCounters& counters() const { return counters_; }
    bool finished() const { return finished_.load(std::memory_order_acquire); }
    RecordRing* ring() const { return out_; }

    static void on_flow_end(void* self, const Flow& flow, FlowEnd why);

private:
    Worker(unsigned id, const WorkerIo& io, RecordRing* out, WorkerSignals* signals, uint32_t burst);
    unsigned receive(rte_mbuf** pkts);
    void process_packet(rte_mbuf* m, Nanos fallback_now);
    void forward_or_free(rte_mbuf* m);
    void send_alert(const RuleHit& hit, const PacketView& pv, const Flow* flow, unsigned dir, Nanos now,
                    uint64_t packet_number);
    void flush_tx();
    void sync_flow_counters();
    Nanos live_now() const;

    unsigned id_;
    WorkerIo io_;
    std::unique_ptr<FlowTable> flows_;
    RulesSlot* rules_ = nullptr;     // the current rule set (hot-reloadable)
    Matcher* matcher_ = nullptr;     // this worker's matcher of it, during a burst
    RecordRing* out_;
    WorkerSignals* signals_;
    uint32_t burst_;
    Nanos clock_ = 0;                // latest packet time this worker saw
    uint64_t tsc_base_ = 0;          // live clock: TSC at start ...
    Nanos wall_base_ = 0;            // ... and the wall time it stood for
    double ns_per_tsc_ = 1.0;
    WorkerCounters counters_;
    std::atomic<bool> finished_{false};

    rte_mbuf* tx_pending_[kMaxBurst];
    unsigned nb_tx_pending_ = 0;
    uint16_t tx_pending_port_ = kNoPeer;

    alignas(RTE_CACHE_LINE_SIZE) uint8_t frame_buf_[kFrameView]; // for chained frames
};

} // namespace sg
