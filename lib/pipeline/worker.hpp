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

#include "attrib/enforcement.hpp"
#include "config/config.hpp"
#include "core/time.hpp"
#include "detect/window_counter.hpp"
#include "defrag/ipv4_defrag.hpp"
#include "flow/flow_table.hpp"
#include "http/http_tracker.hpp"
#include "match/matcher.hpp"
#include "pipeline/rules_slot.hpp"
#include "pipeline/counters.hpp"
#include "queue/record_ring.hpp"
#include "stream/stream_tracker.hpp"

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

// What a worker sends with its alerts (control side, before run()).
struct WorkerOutputs {
    enum class PacketBytes : uint8_t {
        none,   // no eve output: the reporter needs no packet bytes
        drops,  // the packets of drop / reject rule matches (eve's drop events)
        all,    // every alert's packet (eve `packet`, Suricata's alert `packet: yes`)
    };
    PacketBytes packet_bytes = PacketBytes::none;
    // Replay as if inline (Suricata's --simulate-ips): drop rules count as
    // drops, though there is no peer port to withhold the packet from.
    bool simulate_ips = false;
    // Benchmarks: the part of the path that runs (PipelineStage).
    PipelineStage stage = PipelineStage::full;
};

// Flags the control side raises; workers read them only when idle.
struct WorkerSignals {
    std::atomic<bool> stop{false};        // live mode: finish now
    std::atomic<bool> input_done{false};  // replay: no more input will arrive
    bool lossless = false;                // replay: wait for the reporter, never drop
};

class alignas(RTE_CACHE_LINE_SIZE) Worker : private HttpSink {
public:
    // Control side: builds the worker, its flow table (named per worker) and
    // its pool of TCP stream buffers.
    static Result<std::unique_ptr<Worker>> create(unsigned id, const WorkerIo& io,
                                                  const FlowTableConfig& flows, RecordRing* out,
                                                  WorkerSignals* signals, uint32_t burst,
                                                  const StreamConfig& streams = StreamConfig{});

    // lcore entry point: polls until stopped or the input is done, then ends
    // every flow (their records go to the reporter) and returns.
    int run();
    static int lcore_entry(void* self) { return static_cast<Worker*>(self)->run(); }

    // Accounts and processes a burst. Public for tests that inject mbufs.
    void process_burst(rte_mbuf** pkts, unsigned n);

    // Control side, before run(): the signature rules this worker applies.
    void set_rules(RulesSlot* rules) { rules_ = rules; }
    // Control side, before run(): behavioural counting in windows of
    // `window` packet time. With `ticks` the dispatcher says in-band when a
    // window ends (software dispatch); else the worker's own clock does.
    void set_detection(std::unique_ptr<WindowCounter> counter, Nanos window, bool ticks);
    // Control side, before run(): the incident workflow's blocklist and
    // evidence watches (attrib/enforcement.hpp), and the ownership that
    // names the deployment of each address.
    void set_enforcement(EnforcementSlot* slot, const Ownership* ownership) {
        enforcement_slot_ = slot;
        ownership_ = ownership;
    }
    // Control side, before run(): what alerts carry (WorkerOutputs).
    void set_outputs(const WorkerOutputs& outputs) { outputs_ = outputs; }
    // Control side, before run(), only with eve output: HTTP transactions
    // of up to `sessions` flows at once are parsed and sent to the reporter.
    Result<> enable_http(uint32_t sessions);

    unsigned id() const { return id_; }
    const WorkerCounters& counters() const { return counters_; }
    bool finished() const { return finished_.load(std::memory_order_acquire); }
    RecordRing* ring() const { return out_; }

    static void on_flow_end(void* self, const Flow& flow, FlowEnd why);
    static void on_tunnel_flow_end(void* self, const Flow& flow, FlowEnd why);

private:
    Worker(unsigned id, const WorkerIo& io, RecordRing* out, WorkerSignals* signals, uint32_t burst);
    unsigned receive(rte_mbuf** pkts);
    void process_packet(rte_mbuf* m, Nanos fallback_now);
    void forward_or_free(rte_mbuf* m);
    void send_alert(const RuleHit& hit, const PacketView& pv, const Flow* flow, unsigned dir, Nanos now,
                    uint64_t packet_number);
    void flush_tx();
    // The IP part of process_packet: flow, signatures; true: drop the packet.
    // `reassembled`: a datagram rebuilt from fragments (not a wire packet).
    bool inspect_ip(PacketView& pv, const uint8_t* frame, uint32_t frame_len, uint32_t wire_len, Nanos now,
                    uint64_t packet_number, bool reassembled = false);
    void track_tunnel_flow(const PacketView& pv, uint32_t wire_len, Nanos now);
    void send_flow_end(const Flow& flow, FlowEnd why, bool tunnel_outer);
    void sync_flow_counters();
    void inspect_stream_end(const Flow& flow);
    Nanos live_now() const;

    // HttpSink: the tracker's transactions become http records.
    void http_field(const Flow& flow, uint32_t tx, HttpField field, std::string_view value) override;
    void http_status(const Flow& flow, uint32_t tx, uint16_t status) override;
    void http_length(const Flow& flow, uint32_t tx, uint64_t length) override;
    void http_file(const Flow& flow, uint32_t tx, HttpSide side, uint64_t size, bool complete) override;
    void http_transaction(const Flow& flow, uint32_t tx) override;
    Record& http_record(const Flow& flow, uint32_t tx, HttpRecord::What what);
    void push_http(unsigned n);

    // Blocklist and evidence watches for one IP packet; true: drop it.
    bool enforce(const PacketView& pv, const uint8_t* frame, uint32_t frame_len, uint32_t wire_len, Nanos now,
                 uint16_t link);
    // A packet's bytes as alert_packet records after alert_batch_[0]; how many.
    unsigned packet_chunks(const uint8_t* bytes, uint32_t len);
    void send_evidence(uint64_t incident, const uint8_t* frame, uint32_t frame_len, uint32_t wire_len, Nanos now,
                       uint16_t link);

    void on_window(uint64_t index);
    void hand_over(WindowSummary* s);

    unsigned id_;
    WorkerIo io_;
    std::unique_ptr<FlowTable> flows_;
    std::unique_ptr<StreamTracker> streams_; // raw-stream reassembly of the TCP flows
    std::unique_ptr<HttpTracker> http_;      // HTTP transactions (eve output only; else null)
    uint32_t flow_capacity_ = 0;
    Nanos http_ts_ = 0;                      // the packet the tracker is working for ...
    uint64_t http_pcap_cnt_ = 0;             // ... and its number in the input
    RulesSlot* rules_ = nullptr;     // the current rule set (hot-reloadable)
    Matcher* matcher_ = nullptr;     // this worker's matcher of it, during a burst
    std::unique_ptr<WindowCounter> counter_; // behavioural counting (null: no deployments)
    Nanos window_ = kNsPerSec;
    bool window_ticks_ = false;
    RecordRing* out_;
    WorkerSignals* signals_;
    uint32_t burst_;
    Nanos clock_ = 0;                // latest packet time this worker saw
    uint64_t tsc_base_ = 0;          // live clock: TSC at start ...
    Nanos wall_base_ = 0;            // ... and the wall time it stood for
    double ns_per_tsc_ = 1.0;
    uint64_t first_burst_tsc_ = 0;   // benchmarks: when the first burst began,
    Nanos first_burst_cpu_ = 0;      // and the thread's CPU time then (active_ns, cpu_ns)
    WorkerCounters counters_;
    std::atomic<bool> finished_{false};
    std::unique_ptr<Ipv4Defrag> defrag_;        // IPv4 fragments being reassembled
    std::unique_ptr<FlowTable> tunnel_flows_;   // this worker's share of the outer tunnel flows
    WorkerOutputs outputs_;
    EnforcementSlot* enforcement_slot_ = nullptr;
    const Ownership* ownership_ = nullptr;
    const Enforcement* enforcement_ = nullptr;   // during a burst
    // Evidence packets sent per incident (this worker's share), for the
    // watches of the current enforcement version.
    struct EvidenceCount {
        uint64_t incident = 0;
        uint32_t sent = 0;
    };
    EvidenceCount evidence_sent_[Enforcement::kMaxWatches];
    // The packet send_alert() attaches (set around inspect: the frame, or a
    // reassembled datagram; null for stream pseudo-packets).
    const uint8_t* alert_frame_ = nullptr;
    uint32_t alert_frame_len_ = 0;
    uint16_t alert_link_ = 1;  // its libpcap link type (dlt_of)
    // An alert and the records carrying its packet, enqueued together.
    Record alert_batch_[1 + (kFrameView + kAlertPacketChunk - 1) / kAlertPacketChunk];
    // An HTTP field's records (a long text takes several), enqueued together.
    Record http_batch_[(HttpParser::kLineMax + kHttpTextChunk - 1) / kHttpTextChunk + 1];

    rte_mbuf* tx_pending_[kMaxBurst];
    unsigned nb_tx_pending_ = 0;
    uint16_t tx_pending_port_ = kNoPeer;

    alignas(RTE_CACHE_LINE_SIZE) uint8_t frame_buf_[kFrameView]; // for chained frames
};

} // namespace sg
