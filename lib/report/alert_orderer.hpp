#pragma once
// AlertOrderer: puts the alerts of several workers back into packet-time
// order before the reporter counts them, so that thresholds, detection
// filters and rate filters see the same sequence for any number of workers
// and whatever the timing of the rings.
//
// Each worker sends its records in its own packet-time order. The orderer
// holds alerts and releases one only when its time is below the watermark:
// the smallest, over the workers, of the latest time each has sent (an
// alert's ts, a flow_end's last_seen; a flow ends at or after its last
// packet, so that time is a lower bound for what the worker sends next).
// Whatever a worker sends later has at least its latest time, so an alert
// released can never be overtaken. Released alerts come in the order
// (packet time, flow, worker, arrival): one flow stays on one worker, so
// alerts at the same time are ordered the same way for 1 worker or 8.
//
// An idle worker holds the watermark back: nothing newer than its latest
// record is released until it sends again. In replay that is harmless, the
// rest is released in order at the end (next_any until false). Live, the
// reporter releases everything held once it waited longer than its hold
// limit (Reporter::set_max_hold), and those alerts follow arrival order.
// A worker whose packet times go backwards (a capture out of order, the
// clock of a live NIC stepping back) keeps its own order: an alert is
// placed at the latest time its worker had reached, not before it. Its
// `ts` is unchanged; the gate measures windows in it.
//
// Bounded: at most `capacity` alerts are held; one more releases the
// earliest first (counted: overflow). Memory is reserved up front.
//
// Thread: the reporter only.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/time.hpp"
#include "queue/record.hpp"

namespace sg {

class AlertOrderer {
public:
    explicit AlertOrderer(size_t capacity = size_t(1) << 16);

    // The number of workers whose records arrive (ids 0..n-1). An id at or
    // above it later counts as one more worker.
    void set_workers(unsigned n);

    // Any record's time from `worker`: moves that worker's watermark.
    void observe(unsigned worker, Nanos t);
    // Holds an alert (observing its time). When the hold was full, returns
    // true with the earliest held alert in `released`: report it first.
    bool push(unsigned worker, const AlertRecord& a, AlertRecord& released);
    // The next alert below the watermark, in order; false when none is.
    bool next(AlertRecord& out);
    // The next held alert, in order, watermark or not (end of input, hold limit).
    bool next_any(AlertRecord& out);

    size_t held() const { return heap_.size(); }
    uint64_t overflow() const { return overflow_; }
    // The smallest latest time over the workers; 0 while one has sent nothing.
    Nanos watermark() const;

private:
    struct Held {
        AlertRecord alert;
        Nanos at;         // its place in time: ts, or its worker's latest time when later
        uint64_t seq;     // arrival order
        unsigned worker;
    };
    // Heap order: true when x comes after y.
    static bool after(const Held& x, const Held& y);
    void pop(AlertRecord& out);

    std::vector<Held> heap_;
    std::vector<Nanos> latest_;   // by worker; 0: nothing yet
    size_t capacity_;
    uint64_t seq_ = 0;
    uint64_t overflow_ = 0;
};

} // namespace sg
