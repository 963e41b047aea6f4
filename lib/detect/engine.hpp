#pragma once
// DetectionEngine: the reporter's half of behavioural detection. It merges
// the workers' summaries of each window (a window is complete once every
// worker has moved past it), keeps what must outlive a window (activity
// periods of sources, per-host baselines, open attributions), runs every
// detector of the registry on each complete window in order, and turns
// what they find into attributions: opened when a threshold is crossed,
// extended while the behaviour goes on, closed after a quiet period.
//
// Memory is bounded: merged windows are reused, and every table that
// outlives a window has a fixed capacity (the least active entries make
// room). Nothing here grows with the number of sources.
//
// Thread: the reporter thread only (construction on the control side).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "attrib/ownership.hpp"
#include "config/thresholds.hpp"
#include "detect/attribution.hpp"
#include "detect/summary.hpp"

namespace sg {

struct DetectionSetup {
    const Ownership* ownership = nullptr;
    Thresholds thresholds;                      // the file's (or built-in) values
    std::vector<Thresholds> per_deployment;     // by DeploymentId: thresholds with that deployment's overrides
    Nanos window = kNsPerSec;
    unsigned workers = 1;
};

// What the signature detector needs of an alert that passed the gate.
struct AlertFacts {
    Nanos ts = 0;
    IpAddress attacker;                         // the rule's `target:` opposite, else the flow's initiator
    IpAddress victim;
    uint32_t sid = 0;
    uint32_t priority = 3;
    const std::string* classtype = nullptr;
};

struct DetectionCounters {
    uint64_t windows = 0;                       // complete windows analysed
    uint64_t summaries = 0;                     // worker summaries merged
    uint64_t late_summaries = 0;                // for a window already analysed (live only)
    uint64_t hosts_overflow = 0;                // protected hosts beyond a window's table
    uint64_t activity_evictions = 0;            // activity entries dropped to make room
    uint64_t attributions = 0;
    uint64_t transit_packets = 0;
};

// An attribution a detector proposes for the current window.
struct Finding {
    const char* type = nullptr;
    const char* detector = nullptr;
    AttributionEnd source;
    AttributionEnd target;
    std::string service;
    uint16_t port = 0;
    Nanos active_since = 0;                     // 0: this window
    double idle = 10;                           // seconds without findings that close it
    std::string threshold;
    nlohmann::json evidence = nlohmann::json::object();
    std::vector<Contributor> top_sources;
    uint32_t sid = 0;
    std::string group;                          // more identity (the rule class of a signature finding)
    const Hll<8>* sources = nullptr;            // floods: this window's distinct sources
};

struct IpAddressHash {
    size_t operator()(const IpAddress& ip) const { return size_t(sketch_hash(&ip, sizeof ip)); }
};

class DetectionEngine;

// What a detector sees: one merged window and the engine's lasting state.
struct DetectorContext {
    DetectionEngine& engine;
    const WindowSummary& window;
    Nanos start;                                // window start, packet time
    double seconds;                             // window length
};

using DetectorFn = void (*)(DetectorContext& ctx);

struct DetectorInfo {
    const char* name;
    DetectorFn run;
    const char* directions;                     // where it applies (documentation)
};

// Every detector, in the order they run (lib/detect/detectors/registry.cpp).
const std::vector<DetectorInfo>& detector_registry();

class DetectionEngine {
public:
    explicit DetectionEngine(DetectionSetup setup);
    ~DetectionEngine();

    // A worker's summary of window s->index (the worker's windows arrive in
    // order). The engine merges it and is done with it on return.
    void add_window(unsigned worker, const WindowSummary& s);
    // A worker will send no more windows (end of input), or, for the fleet
    // aggregator, an appliance went silent: windows complete without it
    // until it sends one again.
    void worker_done(unsigned worker);
    // An alert that passed the gate: the signature detector.
    void on_alert(const AlertFacts& alert);
    // Analyses every window still pending and closes the attributions.
    void finish();

    // New attributions as they open (eve lines).
    void set_on_open(std::function<void(const Attribution&)> fn) { on_open_ = std::move(fn); }
    // After each analysed window: its end (packet time); until when nothing
    // more happened (the start of the next window with packets; = end when
    // not known yet); the attributions it opened or extended, in the order
    // they were applied.
    using WindowFn = std::function<void(uint64_t index, Nanos end, Nanos quiet_until,
                                        const std::vector<const Attribution*>& touched)>;
    void set_on_window(WindowFn fn) { on_window_ = std::move(fn); }
    // Each merged window before the detectors run on it, with its start
    // (packet time) and length: for what outlives the detectors' view
    // (the posture, lib/detect/posture.hpp). Reporter thread.
    using MergedFn = std::function<void(const WindowSummary& w, Nanos start, Nanos length)>;
    void set_on_merged(MergedFn fn) { on_merged_ = std::move(fn); }
    // Windows below this index are analysed (and on_window has run for them).
    uint64_t analysed_up_to() const { return analysed_up_to_; }
    Nanos window() const { return setup_.window; }
    // Every attribution so far, sorted (first_seen, type, direction, ends).
    std::vector<const Attribution*> attributions() const;
    const DetectionCounters& counters() const { return counters_; }
    const Ownership& ownership() const { return *setup_.ownership; }

    // --- for detectors ---
    // The thresholds that protect `dep` (the defaults for kNoDeployment).
    const Thresholds& thresholds(DeploymentId dep) const;
    // The thresholds of the protected side: target for inbound and internal, source for outbound.
    const Thresholds& thresholds(DeploymentId source, DeploymentId target) const;
    DeploymentId deployment_of(const IpAddress& ip) const { return setup_.ownership->lookup(ip); }
    // Opens or extends the attribution this finding describes (once every
    // detector has run on the window, in a fixed order).
    void report(Finding f);
    // A reconnaissance rule's sid, joined at finish() to the attributions of
    // this source and target.
    void add_sid(const IpAddress& source, const IpAddress& target, uint32_t sid);
    // The main sources of traffic to `target` in this window, by packets.
    // Only sources above 1 % of `total` (the target's packets) and above
    // what the pair table may have dropped.
    std::vector<Contributor> top_sources(const WindowSummary& w, const IpAddress& target, uint64_t total,
                                         size_t n) const;
    // The main destination of traffic from `source` in this window.
    std::optional<Contributor> top_target(const WindowSummary& w, const IpAddress& source) const;
    // A host's usual inbound packet rate (EWMA), and for how long it has been observed.
    double baseline_rate(const IpAddress& host, Nanos* observed_for = nullptr) const;

    // Activity periods: per key, what a source did while it kept going.
    // touch() restarts the period when the key was quiet longer than `idle`.
    template <class Key, class Stats> class Activity;
    Activity<ServiceKey, ServiceStats>& logins() { return *logins_; }
    Activity<PairKey, ScanStats>& scans() { return *scans_; }
    Activity<SweepKey, SweepStats>& sweeps() { return *sweeps_; }

private:
    void complete_ready();
    void analyse(WindowSummary& w);
    void update_baselines(const WindowSummary& w, Nanos start);
    void apply_findings(Nanos at);
    void close_quiet(Nanos now);
    void touch(const Attribution* a);                    // into touched_, once
    WindowSummary* merge_block(uint64_t index);

    DetectionSetup setup_;
    std::map<uint64_t, WindowSummary*> pending_;          // by window index
    std::vector<std::unique_ptr<WindowSummary>> blocks_;  // merge blocks, reused
    std::vector<WindowSummary*> free_blocks_;
    std::vector<uint64_t> worker_index_;                  // latest window each worker sent
    std::vector<bool> worker_sent_;                       // ... once it sent any
    std::vector<bool> worker_done_;
    uint64_t analysed_up_to_ = 0;                         // windows below this are done
    bool any_analysed_ = false;

    std::unique_ptr<Activity<ServiceKey, ServiceStats>> logins_;
    std::unique_ptr<Activity<PairKey, ScanStats>> scans_;
    std::unique_ptr<Activity<SweepKey, SweepStats>> sweeps_;

    struct Baseline {
        double rate = 0;
        Nanos since = 0;
        Nanos updated = 0;
    };
    std::unordered_map<IpAddress, Baseline, IpAddressHash> baselines_;

    // Attributions: all of them (report), and the open ones by identity.
    std::vector<std::unique_ptr<Attribution>> all_;
    std::vector<Finding> findings_;                       // of the window being analysed
    struct Open {
        Attribution* a;
        double idle;
    };
    std::map<std::string, Open> open_;
    std::map<std::pair<IpAddress, IpAddress>, std::vector<uint32_t>> recon_sids_;
    std::function<void(const Attribution&)> on_open_;
    WindowFn on_window_;
    MergedFn on_merged_;
    std::vector<const Attribution*> touched_;            // opened or extended since the last on_window
    DetectionCounters counters_;
    Nanos now_ = 0;                                       // start of the window being analysed
};

// Activity periods of keys (bounded; see DetectionEngine).
template <class Key, class Stats>
class DetectionEngine::Activity {
public:
    struct Entry {
        Key key;
        Stats stats;
        Nanos since = 0;
        Nanos last = 0;
    };
    explicit Activity(size_t capacity) : capacity_(capacity) {}
    Entry& touch(const Key& key, Nanos now, double idle_s);
    template <class Fn> void for_each_touched(Nanos now, Fn&& fn) {
        for (auto& [h, e] : entries_)
            if (e.last == now) fn(e);
    }
    uint64_t evictions() const { return evictions_; }

private:
    struct KeyHash {
        size_t operator()(const Key& k) const { return size_t(sketch_hash(&k, sizeof k)); }
    };
    std::unordered_map<Key, Entry, KeyHash> entries_;
    size_t capacity_;
    uint64_t evictions_ = 0;
};

} // namespace sg
