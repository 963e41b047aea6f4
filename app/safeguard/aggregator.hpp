#pragma once
// Aggregator: `safeguard aggregate`, the fleet's incident desk (docs/fleet.md).
//
// One thread does everything that belongs together: it holds or waits for
// the lease (fleet/lease.hpp); while active it reads the appliances' window
// messages from the windows stream through the durable consumer, merges
// them per window with the same DetectionEngine an appliance uses for its
// workers (one "worker" per appliance: a window is complete once every
// appliance sent it, said bye, or stayed silent for fleet.appliance_timeout),
// runs the detectors, the posture and the incident workflow (IncidentDesk:
// e-mails, deadlines, exceptions, the hook), mirrors every incident change to
// the state bucket, and publishes deactivations to the decisions bucket.
// Control commands run on that thread too (call()).
//
// Exactly once, across a takeover: the lease's value carries the cursor,
// the stream sequence of the first message not yet part of an analysed
// window, the first window not yet analysed, and a warm-up cursor about two
// minutes of windows earlier. A new holder restores the incidents from the
// state bucket and starts the consumer at the warm-up cursor: it analyses
// the windows its predecessor already analysed with the desk detached, so
// that the detectors' lasting state (activity periods of sweeps, scans and
// brute force, baselines, open attributions) is rebuilt, and acts from the
// first window not yet analysed. Only a window analysed in the last second
// before a crash can be acted on twice; it adds to the same incidents (no
// second e-mail: the notification is recorded in the incident).
//
// Thread: open()/start()/stop() and status() on the main or control thread;
// the rest on the aggregator's thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "attrib/ownership.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "detect/engine.hpp"
#include "detect/posture.hpp"
#include "fleet/bus.hpp"
#include "fleet/lease.hpp"
#include "respond/desk.hpp"

namespace sg::app {

class Aggregator {
public:
    // Connects to the bus (waiting for it is part of running, not an error
    // here) and checks what can be checked before running.
    static Result<std::unique_ptr<Aggregator>> open(const Config& cfg, const Ownership& ownership,
                                                    DetectionSetup detection, std::FILE* eve);
    ~Aggregator();

    void start();
    // Stops the thread: an active aggregator finishes its desk, writes its
    // cursor and gives the lease up so that a standby takes over at once.
    void stop();

    // Control thread: runs fn on the aggregator's thread and waits (10 s).
    Result<nlohmann::json> call(const std::function<Result<nlohmann::json>()>& fn);
    // Aggregator thread (inside call()): the active term's desk, engine and
    // posture; null while standing by.
    respond::IncidentDesk* desk() { return desk_.get(); }
    const DetectionEngine* engine() const { return engine_.get(); }
    const PostureTracker* posture() const { return posture_.get(); }
    // Any thread.
    nlohmann::json status();
    // After stop(): the report (outputs.report) of the last active term, with the status.
    nlohmann::json final_report();

private:
    struct Appliance {
        std::string name;
        std::string run;               // the run its latest message came from
        uint64_t last_index = 0;       // the latest window merged from that run
        bool any = false;
        bool silent = false;           // given up (bye or timeout): windows complete without it
        std::chrono::steady_clock::time_point heard{};
        uint64_t windows = 0, duplicates = 0, late = 0, rejected = 0, attributions = 0;
        uint64_t bytes = 0;
    };
    struct Unacked {
        uint64_t seq = 0;
        uint64_t index = 0;
        fleet::Fetched msg;
    };
    struct Call {
        std::function<void()> fn;
        std::shared_ptr<std::promise<void>> done;
    };

    Aggregator(const Config& cfg, const Ownership& ownership, DetectionSetup detection, std::FILE* eve);
    void loop();
    void run_calls();
    Result<> connect_buckets();
    Result<> become_active(const nlohmann::json& taken);
    void step_down(const char* why);
    void active_step();
    void process(fleet::Fetched msg);
    void ack_analysed();
    void check_silence();
    void renew();
    nlohmann::json cursor_json() const;
    nlohmann::json report();
    // Incident state <-> the state bucket.
    Result<std::vector<nlohmann::json>> restore_incidents();
    void mirror(const nlohmann::json& record);
    void resync_mirror();
    void publish_blocklist(const std::set<std::string>& deactivated);
    void flush_blocklist();

    Config cfg_;
    const Ownership& ownership_;
    DetectionSetup detection_;
    std::FILE* eve_;
    std::unique_ptr<fleet::Bus> bus_;
    std::unique_ptr<fleet::Kv> state_;
    std::unique_ptr<fleet::Kv> decisions_;
    std::unique_ptr<fleet::Lease> lease_;

    // The active term.
    std::unique_ptr<respond::IncidentDesk> desk_;
    std::unique_ptr<DetectionEngine> engine_;
    std::unique_ptr<PostureTracker> posture_;
    std::unique_ptr<fleet::PullConsumer> consumer_;
    std::unique_ptr<WindowSummary> block_;         // decode target, reused
    std::vector<Appliance> appliances_;
    std::deque<Unacked> unacked_;                   // merged, their window not analysed yet (stream order)
    uint64_t next_seq_ = 1;                         // past the last message taken
    uint64_t skip_below_ = 0;                       // windows the previous holder analysed (warm-up below)
    bool warming_ = false;                          // the engine analyses a warm-up window
    uint64_t warmup_windows_ = 0, unknown_ = 0, rejected_ = 0;
    std::deque<std::pair<uint64_t, uint64_t>> history_;  // (analysed_up_to, cursor) at renewals
    bool mirror_behind_ = false;
    bool blocklist_dirty_ = false;
    std::map<std::string, nlohmann::json> blocklist_;
    std::chrono::steady_clock::time_point renewed_{};
    uint64_t terms_ = 0;
    std::set<std::string> warned_;                  // one log line per kind of trouble and appliance

    std::mutex calls_mutex_;
    std::deque<Call> calls_;
    std::atomic<bool> stop_{false};
    bool running_ = false;                          // under calls_mutex_
    std::thread thread_;

    mutable std::mutex status_mutex_;
    nlohmann::json status_;                         // refreshed by the thread
};

} // namespace sg::app
