#pragma once
// Reporter: the thread that drains every worker's record ring, merges what
// the workers saw and writes the outputs (eve lines; later: windows,
// detectors and incidents). It never touches a worker's state: records are
// copies. Formatting happens here, late, never on a worker.
//
// Thread: start()/finish()/results() on the control side; loop() on the
// reporter's own std::thread.

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <map>
#include <memory>

#include "config/config.hpp"
#include "match/database.hpp"
#include "queue/record_ring.hpp"
#include "report/alert_gate.hpp"

namespace sg {

inline constexpr unsigned kFlowEndReasons = 4; // FlowEnd values

// A flow as the report shows it (top talkers).
struct FlowSummary {
    FlowEndRecord record;
    uint64_t total_bytes() const { return record.bytes[0] + record.bytes[1]; }
};

struct AlertCount {
    uint32_t gid = 1;
    uint32_t rev = 0;
    std::string msg;
    std::string classtype;
    uint64_t count = 0;
};

struct ReporterResults {
    uint64_t records = 0;
    std::map<uint32_t, AlertCount> alerts;  // by sid, after threshold/detection_filter
    uint64_t alerts_gated = 0;               // matches a threshold or detection_filter held back
    uint64_t flows_ended[kFlowEndReasons] = {}; // by FlowEnd
    std::vector<FlowSummary> top_flows; // by bytes, descending, at most kTopFlows
};

class Reporter {
public:
    static constexpr size_t kTopFlows = 10;

    // `eve`: where eve.json lines go (nullptr: none); the caller owns it.
    explicit Reporter(std::FILE* eve = nullptr) : eve_(eve) {}
    ~Reporter();

    // The CPUs the reporter thread may use. EAL pins the main lcore (and
    // any thread it starts) to one CPU; the reporter must not share it with
    // the dispatcher, so the caller passes the set it had before EAL.
    void set_cpus(const cpu_set_t& cpus) {
        cpus_ = cpus;
        has_cpus_ = true;
    }
    void start(std::vector<RecordRing*> rings);
    // Control side, before start(): the rules whose alerts will arrive, and
    // the deployments that name the two ends of an alert.
    void set_rules(std::shared_ptr<const MatchDatabase> db) { rules_[db->generation()] = std::move(db); }
    void set_deployments(std::vector<Deployment> deployments) { deployments_ = std::move(deployments); }
    // Empties the rings and joins the thread. Call it after the worker lcores
    // were joined: records pushed after it returns are never read.
    void finish();

    const ReporterResults& results() const { return results_; }

private:
    void loop();
    bool drain_once();
    void handle(const Record& r);
    void on_flow_end(const FlowEndRecord& f);
    void on_alert(const AlertRecord& a);
    const Deployment* deployment_of(const IpAddress& ip) const;

    std::vector<RecordRing*> rings_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::FILE* eve_ = nullptr;
    cpu_set_t cpus_{};
    bool has_cpus_ = false;
    ReporterResults results_;
    std::map<uint64_t, std::shared_ptr<const MatchDatabase>> rules_; // by generation
    std::vector<Deployment> deployments_;
    AlertGate gate_;
};

// Stable id of a flow for outputs: the same for any number of workers.
uint64_t flow_output_id(const FlowEndRecord& f);

} // namespace sg
