#pragma once
// RecordRing: one bounded single-producer / single-consumer rte_ring of
// Records per worker. The worker pushes and never waits: when the ring is
// full the record is dropped and counted. The reporter pops in bursts.
//
// Thread: push() on the owning worker only; pop_burst() on the reporter only;
// create/destroy on the control side.

#include <cstdint>
#include <string>

#include <sched.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "core/result.hpp"
#include "queue/record.hpp"

namespace sg {

class RecordRing {
public:
    static Result<RecordRing*> create(const std::string& name, uint32_t size, int socket);
    static void destroy(RecordRing* r);

    // Worker side. Returns false (and counts the drop) when the ring is full.
    bool push(const Record& rec) {
        // DPDK's enqueue takes a non-const pointer but only reads the element.
        if (rte_ring_sp_enqueue_elem(ring_, const_cast<Record*>(&rec), sizeof(Record)) == 0) return true;
        ++drops_;
        return false;
    }
    // Worker side, replay only: waits for room instead of dropping. A capture
    // can wait for the reporter; a wire cannot, so live mode never calls this.
    void push_wait(const Record& rec) {
        while (rte_ring_sp_enqueue_elem(ring_, const_cast<Record*>(&rec), sizeof(Record)) != 0)
            sched_yield();
    }
    // Several records that must stay together (an alert and its packet):
    // all are enqueued or none. Live: false and each counted as dropped
    // when they do not fit; replay (wait): waits for room.
    bool push_all(const Record* recs, unsigned n, bool wait) {
        for (;;) {
            if (rte_ring_sp_enqueue_bulk_elem(ring_, const_cast<Record*>(recs), sizeof(Record), n, nullptr) == n)
                return true;
            if (!wait || n > capacity()) break;
            sched_yield();
        }
        drops_ += n;
        return false;
    }
    // Reporter side.
    unsigned pop_burst(Record* out, unsigned n) {
        return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(Record), n, nullptr);
    }
    unsigned count() const { return rte_ring_count(ring_); }
    unsigned capacity() const { return rte_ring_get_capacity(ring_); }
    // Written by the worker only; read by others as a statistic.
    uint64_t drops() const { return drops_; }

private:
    rte_ring* ring_ = nullptr;
    uint64_t drops_ = 0;
};

} // namespace sg
