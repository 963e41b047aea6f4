#pragma once
// Dispatcher: software RSS for devices that cannot spread flows over queues
// themselves (capture files, virtual devices, single-queue NICs). It runs on
// the main lcore, receives from every input queue, decodes each frame just
// far enough to find its (inner) IP pair, and hands it to the worker that
// pair hashes to (addresses only, both directions alike, plus the tunnel
// id), so both directions of a flow and every fragment of a datagram meet
// on the same worker and the results do not depend on the number of workers.
//
// In replay it is lossless: when a worker's ring is full it waits (the file
// can wait too). Live, a full ring drops and counts.
// Inline, it also transmits what workers forwarded (their tx rings).
// With behavioural detection on, it also cuts the stream into windows of
// packet time: a tick (lib/detect/window_counter.hpp) goes to every worker
// between the last packet of a window and the first of the next.
//
// Thread: run() on the main lcore only.

#include <atomic>
#include <cstdint>
#include <vector>

#include "pipeline/worker.hpp"

namespace sg {

struct DispatchInput {
    RxQueueRef queue;
    bool bounded = false;    // replay: the input ends after `expected` records
    uint64_t expected = 0;
};

struct DispatcherCounters {
    uint64_t received = 0;
    uint64_t ring_full_drops = 0;   // live: worker ring full
    uint64_t ring_full_waits = 0;   // replay: times it had to wait for a worker
    uint64_t lockstep_waits = 0;    // replay: windows it waited for the reporter to analyse
    uint64_t tx_sent = 0;
    uint64_t tx_drops = 0;
};

class Dispatcher {
public:
    Dispatcher(std::vector<DispatchInput> inputs, std::vector<rte_ring*> worker_rings,
               std::vector<rte_ring*> tx_rings, uint32_t burst, bool lossless, Nanos window = 0);

    // Runs until every replayed input is exhausted (returns true) or
    // `stop` is raised (returns false).
    bool run(const std::atomic<bool>& stop);
    // Inline: transmits what workers forwarded until they are done.
    void drain_tx();
    // Replay in lockstep with the reporter (before run()): after cutting a
    // window, wait until the reporter has analysed it (`analysed` is the
    // index past the last analysed window), so that what the reporter
    // decides at a window's end (a deactivation, an evidence watch) applies
    // from the next window's first packet, whatever the timing.
    void set_lockstep(const std::atomic<uint64_t>* analysed) { lockstep_ = analysed; }

    const DispatcherCounters& counters() const { return counters_; }

private:
    bool input_exhausted(size_t i);
    void spread(rte_mbuf** pkts, unsigned n);
    void flush_staged();
    // Sends every worker the end of the window before `now`'s, once.
    void tick(Nanos now);
    static Nanos wall_now();
    void enqueue(unsigned worker, rte_mbuf** pkts, unsigned n);
    void transmit();

    std::vector<DispatchInput> inputs_;
    std::vector<uint64_t> delivered_;   // per input
    std::vector<bool> done_;
    std::vector<rte_ring*> worker_rings_;
    std::vector<rte_ring*> tx_rings_;
    std::vector<rte_mbuf*> staging_;        // kMaxBurst slots per worker
    std::vector<unsigned> staged_;          // used slots per worker
    uint32_t burst_;
    bool lossless_;
    // Behavioural windows (0: none): the dispatcher cuts the packet stream
    // into windows in-band, so every worker ends a window at the same packet.
    Nanos window_ = 0;
    uint64_t window_index_ = 0;
    bool window_started_ = false;
    const std::atomic<uint64_t>* lockstep_ = nullptr;
    const std::atomic<bool>* stop_ = nullptr;  // run()'s
    DispatcherCounters counters_;
    uint64_t read_ = 0;                      // packets read so far (replay: pcap_cnt)
    uint8_t frame_buf_[kFrameView];          // for chained frames
};

} // namespace sg
