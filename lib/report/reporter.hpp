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

#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <memory>

#include "config/config.hpp"
#include "detect/engine.hpp"
#include "match/database.hpp"
#include "queue/record_ring.hpp"
#include "match/threshold_config.hpp"
#include "report/alert_gate.hpp"
#include "report/alert_orderer.hpp"
#include "report/http_log.hpp"
#include "respond/desk.hpp"

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
    uint64_t tunnel_flows = 0;               // outer tunnel flows reported (merged over workers)
    uint64_t tunnel_flow_parts = 0;          // workers' shares of them that were merged
    uint64_t drops = 0;                      // packets dropped (inline) or that would be (simulated IPS)
    uint64_t alert_packets_lost = 0;         // alert packets incomplete in the ring (should stay 0)
    uint64_t http_transactions = 0;          // HTTP transactions logged (eve http events)
    uint64_t http_files = 0;                 // response bodies logged (eve fileinfo events)
    std::vector<FlowSummary> top_flows; // by bytes, descending, at most kTopFlows
    std::vector<nlohmann::json> attributions;   // sorted (DetectionEngine::attributions)
    DetectionCounters detection;
    nlohmann::json incidents = nlohmann::json::array();   // the desk's (respond/desk.hpp), by id
    nlohmann::json exceptions = nlohmann::json::array();
    nlohmann::json incident_counters;                     // null without a desk
};

// What the reporter writes beyond alerts and flows (control side, before start()).
struct ReporterOptions {
    bool eve_packet = false;      // alerts carry `packet` and `packet_info` (the worker sends the bytes)
    bool inline_mode = false;     // packets of drop rules were discarded: eve drop events
    bool simulate_ips = false;    // replay as if inline (--simulate-ips): the verdict is the alert's
                                  // final action, rate_filter included, and gets a drop event
    Nanos tunnel_flow_idle = 120 * kNsPerSec;  // outer tunnel flows: parts further apart are two flows
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
    void set_options(const ReporterOptions& options) { options_ = options; }
    // Control side, before start(): behavioural detection (null: none). The
    // workers' window summaries are merged and analysed on this thread.
    void set_detection(std::unique_ptr<DetectionEngine> engine);
    // Control side, after set_detection(), before start(): the incident
    // workflow, fed by each analysed window.
    void set_incidents(std::unique_ptr<respond::IncidentDesk> desk);
    respond::IncidentDesk* incidents() { return desk_.get(); }
    // Reporter thread (inside call()): the detection engine (null: none).
    DetectionEngine* detection() { return detection_.get(); }
    // Reporter thread (inside call()): brings the counters results() only
    // gets at the end (gate, orderer, HTTP, detection) up to date, for
    // live statistics.
    void refresh_counters();
    // Replay in lockstep (Dispatcher::set_lockstep): the index past the last
    // window analysed and acted on; null when there is no incident workflow.
    const std::atomic<uint64_t>* lockstep_progress() const { return desk_ ? &analysed_ : nullptr; }
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
    // Injected fault (core/faults.hpp, reporter_stall): the thread sleeps this
    // long before it first reads the rings or runs a call. Before start().
    void inject_stall(std::chrono::milliseconds stall) { stall_ = stall; }
    // Control thread (the control socket): runs `fn` on the reporter thread,
    // between records, and waits for it up to `timeout`. `fn` may use
    // incidents() and the detection state: they belong to that thread.
    // False when the reporter is not running or did not get to it in time
    // (then it will not run).
    bool call(std::function<void()> fn, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Empties the rings and joins the thread. Call it after the worker lcores
    // were joined: records pushed after it returns are never read.
    void finish();

    const ReporterResults& results() const { return results_; }

private:
    void loop();
    bool drain_once();
    void run_calls();
    void handle(const Record& r);
    void on_flow_end(const FlowEndRecord& f);
    void write_flow_event(const FlowEndRecord& f);
    // An alert's packet bytes (alert_packet records) are collected per
    // worker until complete, then kept in packets_ while the alert is held.
    void on_alert_packet(unsigned worker, const AlertPacketRecord& chunk);
    void hold_alert(unsigned worker, AlertRecord a);
    std::string take_packet(uint32_t ref);
    // What else an alert keeps while it is held: its transaction's http
    // object as it stood when the alert arrived (in the packet_ref slot).
    uint32_t keep_held(std::string bytes);
    nlohmann::json take_http(uint32_t ref);
    void write_drop_event(const AlertRecord& a, const rules::Rule& rule, const MatchDatabase& db,
                          const std::string& packet);
    // Outer tunnel flows: each worker's share of one is merged here
    // (tunnel_parts_), so it is reported once, the same for any number of
    // workers. Parts of a key further apart than tunnel_flow_idle are
    // separate flows. `all`: report everything (end of input); else only
    // flows idle (by the alerts' watermark) for twice that.
    void flush_tunnel_flows(bool all);
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
    std::unique_ptr<DetectionEngine> detection_;
    std::unique_ptr<respond::IncidentDesk> desk_;
    struct Call {
        std::function<void()> fn;
        std::shared_ptr<std::promise<void>> done;
    };
    std::mutex calls_mutex_;
    std::deque<Call> calls_;
    std::atomic<uint64_t> analysed_{0};
    AlertOrderer orderer_;
    AlertGate gate_;
    std::chrono::milliseconds max_hold_{0};
    std::chrono::milliseconds stall_{0};
    ReporterOptions options_;
    // An alert, or an evidence packet, whose bytes are arriving.
    struct PendingAlert {
        bool active = false;
        bool evidence = false;
        AlertRecord alert{};
        EvidenceRecord packet{};
        std::string bytes;
    };
    std::vector<PendingAlert> pending_;       // by worker
    std::vector<std::string> packets_;        // packet_ref - 1 -> bytes
    std::vector<nlohmann::json> alert_http_;  // packet_ref - 1 -> http object (null: none)
    HttpLog http_log_;                        // HTTP transactions being assembled
    std::vector<uint32_t> free_packets_;
    struct FlowKeyLess {
        bool operator()(const FlowKey& x, const FlowKey& y) const { return std::memcmp(&x, &y, sizeof x) < 0; }
    };
    std::map<FlowKey, std::vector<FlowEndRecord>, FlowKeyLess> tunnel_parts_;
    size_t tunnel_parts_held_ = 0;
    std::chrono::steady_clock::time_point last_tunnel_flush_{};
    std::chrono::steady_clock::time_point last_release_{};
};

// Stable id of a flow for outputs: the same for any number of workers.
uint64_t flow_output_id(const FlowEndRecord& f);

} // namespace sg
