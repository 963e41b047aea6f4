#pragma once
// Reporter: the thread that drains every worker's record ring, merges what
// the workers saw and writes the outputs (eve lines; later: windows,
// detectors and incidents). It never touches a worker's state: records are
// copies. Formatting happens here, late, never on a worker.
//
// Alerts go through an AlertOrderer (back into packet-time order across the
// workers), then the AlertGate (suppress, threshold, detection_filter,
// rate_filter), so what is reported does not depend on the number of
// workers or on timing. Flow records are handled as they arrive.
//
// Thread: start()/finish()/results() on the control side; loop() on the
// reporter's own std::thread.

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <map>
#include <mutex>
#include <memory>

#include "config/config.hpp"
#include "match/database.hpp"
#include "queue/record_ring.hpp"
#include "match/threshold_config.hpp"
#include "report/alert_gate.hpp"
#include "report/alert_orderer.hpp"

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
    std::map<uint32_t, AlertCount> alerts;  // by sid, after suppress/threshold/detection_filter/rate_filter
    uint64_t alerts_gated = 0;
    uint64_t alerts_unknown_rule = 0;        // generation already forgotten (should stay 0)               // matches a threshold or detection_filter held back
    uint64_t alerts_suppressed = 0;          // matches a threshold.config suppress held back
    uint64_t alerts_rate_filtered = 0;       // alerts a rate_filter gave its new_action (pass: not reported)
    uint64_t threshold_table_full = 0;       // alerts that passed unfiltered: the gate's tables were full
    uint64_t alert_order_overflow = 0;       // alerts released early: the orderer's hold was full
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
    // Also on reload, from the control thread, before the workers switch.
    void set_rules(std::shared_ptr<const MatchDatabase> db);
    void set_deployments(std::vector<Deployment> deployments) { deployments_ = std::move(deployments); }
    // Control side, before set_rules(): threshold.config (suppress,
    // threshold, rate_filter), applied to the rules of every set_rules().
    void set_threshold_config(std::shared_ptr<const rules::ThresholdConfig> config) {
        threshold_config_ = std::move(config);
    }
    // Control side, before start(). Live: alerts held for packet-time order
    // longer than this (wall time; an idle worker holds the order back) are
    // released as they are. 0 (replay): held until every worker has moved
    // past them, or until finish().
    void set_max_hold(std::chrono::milliseconds hold) { max_hold_ = hold; }
    // Empties the rings and joins the thread. Call it after the worker lcores
    // were joined: records pushed after it returns are never read.
    void finish();

    const ReporterResults& results() const { return results_; }

private:
    void loop();
    bool drain_once();
    void handle(const Record& r);
    void on_flow_end(const FlowEndRecord& f);
    // An alert in packet-time order (from the orderer): gate, count, eve.
    void on_alert(const AlertRecord& a);
    void release_ordered(bool all);
    const Deployment* deployment_of(const IpAddress& ip) const;

    std::vector<RecordRing*> rings_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::FILE* eve_ = nullptr;
    cpu_set_t cpus_{};
    bool has_cpus_ = false;
    ReporterResults results_;
    // By generation: the newest few, so that alerts still in the rings when
    // a reload happens find their rule. Written by the control thread.
    std::map<uint64_t, std::shared_ptr<const MatchDatabase>> rules_;
    // The filters of each rule of a generation (threshold.config applied),
    // made by set_rules() on the control thread; under rules_mutex_ too.
    std::map<uint64_t, std::shared_ptr<const std::vector<rules::RuleFilters>>> filters_;
    mutable std::mutex rules_mutex_;
    std::shared_ptr<const rules::ThresholdConfig> threshold_config_;
    std::vector<Deployment> deployments_;
    AlertOrderer orderer_;
    AlertGate gate_;
    std::chrono::milliseconds max_hold_{0};
    std::chrono::steady_clock::time_point last_release_{};
};

// Stable id of a flow for outputs: the same for any number of workers.
uint64_t flow_output_id(const FlowEndRecord& f);

} // namespace sg
