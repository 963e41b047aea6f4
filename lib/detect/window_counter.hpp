#pragma once
// WindowCounter: a worker's behavioural counting. Per packet it updates the
// current WindowSummary (hosts, targets, pairs, services, scans, sweeps);
// at a window boundary the worker hands the filled summary to the reporter
// (a pointer in a record) and carries on with a fresh one from its pool.
// The reporter gives summaries back through a ring once merged.
//
// Windows are numbered by packet time: window k covers
// [k * length, (k + 1) * length). Who decides that a window is over
// depends on the input: with software dispatch the dispatcher sends every
// worker a tick in-band, between the packets (so the cut is the same for
// any number of workers); with hardware RSS each worker follows its own
// clock.
//
// Thread: observe()/flow_ended()/advance()/take() on the owning worker;
// give_back() on the reporter; create() on the control side.

#include <cstdint>
#include <memory>

#include "attrib/ownership.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "detect/summary.hpp"
#include "flow/flow_table.hpp"
#include "parse/packet_view.hpp"

struct rte_ring;

namespace sg {

// What the counting needs to know, fixed at start.
struct CountingParams {
    Nanos window = kNsPerSec;
    const Ownership* ownership = nullptr;
    // Bit p set: TCP port p is a service whose logins are counted (brute force).
    const uint64_t* service_ports = nullptr;   // 65536 bits
    // A connection to a service with fewer payload bytes (both directions)
    // than this counts as failed, like one refused or reset.
    uint64_t short_connection_bytes = 8192;
    unsigned pool = 4;                         // summaries per worker (>= 2)
};

class WindowCounter {
public:
    static Result<std::unique_ptr<WindowCounter>> create(unsigned worker, const CountingParams& params);
    ~WindowCounter();
    WindowCounter(const WindowCounter&) = delete;
    WindowCounter& operator=(const WindowCounter&) = delete;

    // Accounts one packet. `flow` may be null (later fragments, broken L4);
    // `created` says the packet opened the flow; `dir` 0 = from the initiator.
    void observe(const PacketView& pv, const Flow* flow, unsigned dir, bool created, uint32_t len, Nanos now);
    // A flow left the table: brute-force outcome of service connections.
    void flow_ended(const Flow& flow);

    // The window now is `index`. When that ends the current one, the filled
    // summary is returned for the reporter (and a fresh one takes its
    // place); nullptr otherwise. Also nullptr while no fresh summary is
    // free: the current one then keeps counting (see overruns()).
    WindowSummary* advance(uint64_t index);
    // End of input: the current summary, whatever it holds (nullptr when a
    // previous take() emptied the counter).
    WindowSummary* take_final();
    // Whether a fresh summary is free (the reporter gave one back).
    bool can_advance() const;

    // Reporter thread: a summary it is done with.
    void give_back(WindowSummary* s);

    uint64_t current_index() const { return current_ ? current_->index : 0; }
    uint64_t overruns() const { return overruns_; }
    // Ownership of both endpoints of a flow, looked up once when it is created.
    void classify_flow(Flow& flow) const;

private:
    WindowCounter() = default;
    WindowSummary* fresh();

    CountingParams params_;
    std::unique_ptr<WindowSummary[]> blocks_;
    rte_ring* free_ = nullptr;       // summaries the reporter gave back
    WindowSummary* current_ = nullptr;
    bool started_ = false;           // the first advance() set the window index
    uint64_t overruns_ = 0;          // boundaries passed without a free summary
};

// In-band window ticks: the dispatcher puts them into a worker's mbuf ring
// between packets. An mbuf pointer is always even, so an odd value can
// carry the index of the window that begins.
inline void* make_window_tick(uint64_t index) { return reinterpret_cast<void*>(uintptr_t(index << 1 | 1)); }
inline bool is_window_tick(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 1) != 0; }
inline uint64_t window_tick_index(const void* p) { return uint64_t(reinterpret_cast<uintptr_t>(p) >> 1); }

} // namespace sg
