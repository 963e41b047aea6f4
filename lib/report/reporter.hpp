#pragma once
// Reporter: the thread that drains every worker's record ring, merges what
// the workers saw and writes the outputs (eve lines; later: windows,
// detectors and incidents). It never touches a worker's state: records are
// copies. Formatting happens here, late, never on a worker.
//
// Thread: start()/finish()/results on the control side; drain() on the
// reporter's own std::thread.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "queue/record_ring.hpp"

namespace sg {

inline constexpr unsigned kFlowEndReasons = 4; // FlowEnd values

// A flow as the report shows it (top talkers).
struct FlowSummary {
    FlowEndRecord record;
    uint64_t total_bytes() const { return record.bytes[0] + record.bytes[1]; }
};

struct ReporterResults {
    uint64_t records = 0;
    uint64_t flows_ended[kFlowEndReasons] = {}; // by FlowEnd
    std::vector<FlowSummary> top_flows; // by bytes, descending, at most kTopFlows
};

class Reporter {
public:
    static constexpr size_t kTopFlows = 10;

    // `eve`: where eve.json lines go (nullptr: none); the caller owns it.
    explicit Reporter(std::FILE* eve = nullptr) : eve_(eve) {}
    ~Reporter();

    void start(std::vector<RecordRing*> rings);
    // Waits until every worker finished and every ring is empty.
    void finish();

    const ReporterResults& results() const { return results_; }

private:
    void loop();
    bool drain_once();
    void handle(const Record& r);
    void on_flow_end(const FlowEndRecord& f);

    std::vector<RecordRing*> rings_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::FILE* eve_ = nullptr;
    ReporterResults results_;
};

// Stable id of a flow for outputs: the same for any number of workers.
uint64_t flow_output_id(const FlowEndRecord& f);

} // namespace sg
