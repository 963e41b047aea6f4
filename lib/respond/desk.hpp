#pragma once
// IncidentDesk: the incident workflow around IncidentManager, on the
// reporter thread. Per analysed window it
//   1. applies the scripted owner/operator actions that are due (replay),
//   2. folds the window's attributions into incidents, then ticks the
//      manager (deadlines, quiet periods, exception expiry),
//   3. acts on the manager's events: an eve `incident` line for each; the
//      e-mail of each "notify_requested" (composed here, delivered by the
//      notifier thread through the outbox); the blocklist and the hook for
//      "deactivated"/"reactivated"; evidence watches for new incidents,
//   4. records deliveries (mark_notified) and hook results in the journal.
//
// Replay waits at each window for the notifier and the hook (packet time is
// the clock: a delivery is recorded at the window that asked for it); live,
// both run in the background and their results are picked up by poll().
//
// Without a state directory (a replay that names none) the workflow runs in
// memory: incidents are reported, but nothing is sent, written or run.
//
// A state directory that stops taking writes (disk full, read-only, I/O
// errors) loses nothing while the process runs: the manager holds the
// changes the journal refused and retries (IncidentManager); an e-mail the
// outbox cannot store stays with the notifier thread and is stored again at
// each of its passes (every second live, every window in replay); evidence
// packets that cannot be written are skipped and counted. Each is logged once
// when it starts failing and once when it works again. finish() names what
// would be lost if the process ended still behind (counters_json():
// journal_behind, messages_unstored), and the daemon exits with status 1.
//
// Thread: open(), set_*(), start() on the control side; everything else on
// the reporter thread. The notifier and hook threads are internal.

#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attrib/enforcement.hpp"
#include "attrib/ownership.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "detect/attribution.hpp"
#include "incident/manager.hpp"
#include "notify/evidence.hpp"
#include "notify/outbox.hpp"
#include "queue/record.hpp"
#include "respond/actions.hpp"
#include "respond/background.hpp"
#include "respond/hook.hpp"

namespace sg::respond {

struct DeskOptions {
    IncidentPolicy policy;
    std::vector<Deployment> deployments;  // in DeploymentId order
    std::string state_dir;                // "" = in memory only
    NotifyConfig notify;
    EnforcementConfig enforcement;
    bool replay = false;                  // wait for deliveries and hooks at each window
    std::vector<ScriptedAction> actions;  // replay only
    notify::Backoff backoff;
    notify::Sender sender;                // null: SMTP to notify.smtp_url
    // Fleet aggregator (docs/fleet.md): the state taken over from the bus
    // (IncidentOptions::initial_records), every committed change to mirror
    // back (IncidentOptions::on_commit), and the deactivated deployments each
    // time they change (and once at start), for the appliances.
    std::vector<nlohmann::json> initial_records;
    std::function<void(const nlohmann::json& record)> on_commit;
    std::function<void(const std::set<std::string>& deactivated)> on_blocklist;
};

struct DeskCounters {
    uint64_t messages_queued = 0;         // e-mails composed and stored in the outbox
    uint64_t messages_sent = 0;           // accepted by the relay (this run)
    uint64_t delivery_failures = 0;       // attempts that failed (the messages stay pending)
    uint64_t compose_errors = 0;
    uint64_t hooks_run = 0;
    uint64_t hook_failures = 0;           // non-zero exit, killed, timed out, not started
    uint64_t evidence_packets = 0;        // written to evidence captures
    uint64_t evidence_skipped = 0;        // not Ethernet, or past N
    uint64_t evidence_errors = 0;         // packets the evidence capture could not take (disk)
    uint64_t actions_applied = 0;         // scripted actions (replay)
    uint64_t actions_refused = 0;
    uint64_t blocklist_versions = 0;      // blocklist/evidence watch versions published
};

class IncidentDesk {
public:
    // Opens the journal (replaying it), and with a state directory the
    // outbox and the evidence directory. Errors name the path and why.
    static Result<std::unique_ptr<IncidentDesk>> open(DeskOptions options, const Ownership& ownership,
                                                      std::FILE* eve);
    ~IncidentDesk();
    IncidentDesk(const IncidentDesk&) = delete;
    IncidentDesk& operator=(const IncidentDesk&) = delete;

    // Control side, before start(): where the blocklist and evidence
    // watches go (null: nowhere, e.g. no workers). Publishes the blocklist
    // the journal restored (deployments still deactivated).
    void set_enforcement(EnforcementSlot* slot);
    // Control side, before start(): the msg of a rule by sid, for e-mails.
    void set_rule_names(std::function<std::string(uint32_t)> fn) { rule_name_ = std::move(fn); }
    // Starts the notifier and hook threads; messages a previous run left
    // pending are tried at once.
    void start();

    // --- reporter thread ----------------------------------------------------
    // A window [start, end) was analysed; `touched`: the attributions it
    // opened or extended. No packet came before `quiet_until` (>= end):
    // actions due by then apply now, so that they take effect at the next
    // packet.
    void on_window(Nanos start, Nanos end, Nanos quiet_until, const std::vector<const Attribution*>& touched);
    void on_evidence(const EvidenceRecord& r, const std::string& bytes);
    // Live: picks up deliveries and hook results.
    void poll();
    // End of the run: one last delivery attempt for what is due, results
    // recorded, threads stopped; one last try to write what the journal and
    // the outbox refused, and an error naming the state directory and what
    // is lost when that fails too (state_lost()).
    void finish();
    // After finish(): incident changes or e-mails that never reached the disk.
    bool state_lost() const;

    // Control socket: an owner's or operator's action (ScriptedAction's
    // fields; `at` is ignored) now, at the latest window's time; what it
    // causes (blocklist, hook, eve) is acted on before it returns. Returns
    // the new exception's id for "exception", else 0.
    Result<uint64_t> act(const ScriptedAction& a);
    Nanos now() const { return now_; }

    nlohmann::json incidents_json() const;
    nlohmann::json exceptions_json() const;
    nlohmann::json counters_json() const;
    const IncidentManager& manager() const { return *manager_; }
    const DeskCounters& counters() const { return counters_; }

private:
    struct PendingMessage {
        IncidentId incident = 0;
        Role role = Role::source;
        std::string recipient;
    };
    struct HookDone {
        IncidentId incident = 0;
        std::string action;
        HookResult result;
    };

    IncidentDesk(DeskOptions options, const Ownership& ownership, std::FILE* eve);
    void apply_actions(Nanos until);
    Result<uint64_t> apply(const ScriptedAction& a, Nanos at);
    // Drains the manager's events until none are left: eve lines, e-mails,
    // enforcement, evidence watches. Waits for the background work in replay.
    void process_events();
    void handle(const Event& e);
    void request_notification(const Incident& inc, const Event& e);
    Result<notify::Message> compose_for(const Incident& inc, Role role, const std::string& deployment,
                                        const std::string& recipient, Nanos now) const;
    void run_hook_for(const Incident& inc, const Event& e);
    void collect_results();
    void publish_enforcement();
    EndpointSelector selector(const Endpoint& end, const std::set<std::string>& hosts) const;
    void write_eve(const Event& e);
    void note_journal(const Result<>& r, const char* what);
    // Notifier thread: stores the held e-mails in order, until one fails.
    void store_unstored();

    DeskOptions options_;
    const Ownership& ownership_;
    std::FILE* eve_;
    std::unique_ptr<IncidentManager> manager_;
    std::optional<notify::Outbox> outbox_;             // with a state directory; the notifier's after start()
    std::optional<notify::EvidenceWriter> evidence_;
    std::unique_ptr<Background> notifier_;
    std::unique_ptr<Background> hooks_;
    EnforcementSlot* slot_ = nullptr;
    std::function<std::string(uint32_t)> rule_name_;
    std::map<std::string, PendingMessage> awaiting_;   // outbox id -> notification
    std::map<IncidentId, EvidenceWatch> watches_;
    std::set<std::string> blocked_;                    // deployments on the blocklist
    std::optional<std::set<std::string>> blocklist_told_; // what on_blocklist last heard
    bool enforcement_dirty_ = false;
    Nanos now_ = 0;                                    // the latest window end (packet time)
    std::optional<Nanos> base_;                        // the first window's start (actions' 0)
    size_t next_action_ = 0;
    bool first_pass_ = true;                           // the notifier's first pass retries everything
    // Filled by the background threads, taken by the reporter.
    std::mutex results_mutex_;
    std::vector<std::string> delivered_;
    uint64_t failures_ = 0;
    std::vector<HookDone> hook_results_;
    // The notifier thread's (open() before start()): e-mails the outbox could
    // not store yet, in the order they were requested.
    std::vector<notify::Message> unstored_;
    bool store_failing_ = false;                       // logged; the next success is logged too
    std::atomic<uint64_t> unstored_count_{0};          // unstored_.size(), for the reporter
    std::atomic<uint64_t> store_errors_{0};            // failed attempts to store an e-mail
    bool evidence_failing_ = false;
    DeskCounters counters_;
};

} // namespace sg::respond
