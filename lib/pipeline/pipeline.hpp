#pragma once
// Pipeline: the whole data path of one appliance, wired on the control side
// and then left to its threads:
//
//   ports/queues --(HW RSS | software dispatcher on the main lcore)--> workers
//   workers --(one RecordRing each)--> reporter thread
//   workers --(inline: peer port, or tx ring via the dispatcher)--> wire
//
// Thread: every method runs on the main lcore (control side).

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "io/port.hpp"
#include "pipeline/dispatcher.hpp"
#include "pipeline/rules_slot.hpp"
#include "pipeline/worker.hpp"

struct rte_mempool;

namespace sg {
class Ownership;
}

namespace sg {

class Reporter;

inline constexpr unsigned kDispatchRingSize = 1024; // mbufs per dispatcher -> worker ring

struct PipelineInput {
    std::string name;        // port name, or the capture path in replay
    std::string device;      // DPDK device string
    uint64_t expected = 0;   // replay: records in the capture (0 = live)
    LinkType link = LinkType::ethernet;  // replay: the capture's; live ports: Ethernet
};

// One port's driver statistics (rte_eth_stats).
struct PortSnapshot {
    std::string name;
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
    uint64_t rx_missed = 0, rx_errors = 0, tx_errors = 0, rx_nombuf = 0;
};

// How full the queues between the stages are right now (gauges).
struct QueueSnapshot {
    unsigned record_used = 0, record_capacity = 0;    // worker -> reporter (sg_rec_w)
    unsigned rx_used = 0, rx_capacity = 0;            // dispatcher -> worker (sg_rx_w; 0 without)
};

struct PipelineSnapshot {
    WorkerCounters total;
    std::vector<WorkerCounters> workers;
    DispatcherCounters dispatcher;
    uint64_t rx_nombuf = 0;      // the drivers had no mbuf for a packet
    uint64_t rx_errors = 0;      // the drivers could not read a packet
    uint64_t rx_missed = 0;      // the NICs dropped for lack of descriptors
    std::vector<PortSnapshot> ports;
    std::vector<QueueSnapshot> queues;   // by worker
    unsigned mbufs_in_use = 0;           // of the pool (lcore caches count as in use)
    unsigned mbufs_total = 0;
};

class Pipeline {
public:
    // `replay` makes dispatch lossless and the run end with the input.
    // `rules` may be null (no signatures). With `ownership` (the protected
    // address space; it must outlive the pipeline) workers count behaviour
    // in windows for the reporter's detection.
    static Result<std::unique_ptr<Pipeline>> create(const Config& cfg,
                                                    const std::vector<PipelineInput>& inputs,
                                                    bool replay, Reporter& reporter,
                                                    std::shared_ptr<const MatchDatabase> rules,
                                                    const Ownership* ownership = nullptr);
    ~Pipeline();

    // Injected fault (core/faults.hpp, mempool_exhaust): start() takes every
    // free mbuf before the workers run and gives them back once the ports
    // have counted `nombuf` packets lost for want of one. Before start().
    void exhaust_mempool_at_start(uint64_t nombuf) { exhaust_until_nombuf_ = nombuf; }

    // Launches the workers on their lcores.
    Result<> start();
    // Runs the main lcore's share until the input ends (replay) or stop()
    // is called (live); then waits for the workers to finish their flows.
    void run();
    // Async-signal-safe: asks everything to stop.
    void stop() { signals_.stop.store(true, std::memory_order_relaxed); }

    // Control thread: swaps the rule set under running workers (see
    // RulesSlot); returns once the old one is freed. `db` may be null.
    Result<> reload_rules(std::shared_ptr<const MatchDatabase> db);
    uint64_t rules_generation() const;
    uint64_t rules_versions_freed() const { return rules_->versions_freed(); }
    // The blocklist and evidence watches the workers enforce (null without
    // deployments). Published from the reporter thread only.
    EnforcementSlot* enforcement() { return enforcement_.get(); }

    PipelineSnapshot snapshot() const;
    const std::vector<PortInfo>& ports() const { return ports_; }
    bool software_dispatch() const { return dispatcher_ != nullptr; }
    // A replay stopped by a signal before the end of its captures.
    bool interrupted() const { return interrupted_; }
    unsigned workers() const { return unsigned(workers_.size()); }

private:
    Pipeline() = default;
    void close();
    void hold_mempool();
    uint64_t rx_nombuf() const;

    std::vector<PortInfo> ports_;
    std::vector<uint16_t> peer_port_;          // by port id; kNoPeer when tap
    rte_mempool* pool_ = nullptr;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<RecordRing*> record_rings_;
    std::vector<rte_ring*> rx_rings_;
    std::vector<rte_ring*> tx_rings_;
    std::unique_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<RulesSlot> rules_;
    std::unique_ptr<EnforcementSlot> enforcement_;  // with ownership: blocklist and evidence watches
    WorkerSignals signals_;
    Reporter* reporter_ = nullptr;
    bool replay_ = false;
    bool interrupted_ = false;
    bool started_ = false;
    bool closed_ = false;
    uint64_t exhaust_until_nombuf_ = 0;
    std::thread mempool_holder_;  // the injected fault's, while it holds the pool
};

} // namespace sg
