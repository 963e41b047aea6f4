#pragma once
// IncidentManager: turns attributions into incidents and carries them through
// their states (docs/incidents.md): suppression of repeats, exceptions,
// notification requests, deadlines, deactivation, quiet-period resolution,
// and the owner and operator actions. Every committed change is written to
// the journal (journal.hpp) and fsync'd before the call returns, so that a
// restart rebuilds the same state.
//
// When the journal cannot be written (disk full, read-only, I/O error) the
// change still takes effect, in memory: the manager is then "behind" the
// journal. Every later commit and every tick retries by writing the whole
// state as a snapshot (Journal::rewrite), until one succeeds; the first
// failure and the recovery are logged once each. journal_behind() counts the
// changes that are in memory only (0: the journal has everything).
//
// Thread: single-threaded. The reporter thread creates and owns it and makes
// every call; the control thread's commands reach it as messages to the
// reporter. Not for workers: it allocates, formats and does file I/O.
//
// Outputs to the integration: events (drain_events()). A "notify_requested"
// event asks for a message to an owner; deliver it, then call
// mark_notified() — only then is it recorded as sent, so a crash in between
// makes pending_notifications() offer it again (with the same Message-ID)
// and a recorded delivery is never offered twice. "deactivated" and
// "reactivated" events ask for the deployment's blocklist entry and the hook.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/result.hpp"
#include "detect/attribution.hpp"
#include "incident/incident.hpp"

namespace sg {

class Journal;

struct IncidentOptions {
    IncidentPolicy policy;
    std::vector<Deployment> deployments;   // in DeploymentId order (names and owners)
    std::string state_dir;                 // "" = in memory only (nothing survives a restart)
    uint64_t compact_bytes = 64ull << 20;  // rewrite the journal as a snapshot past this size
    // Change records (the journal's format) applied after the journal, as if
    // they were its last records: the state a fleet aggregator takes over
    // from the bus. The journal is then rewritten as a snapshot.
    std::vector<nlohmann::json> initial_records;
    // Called with every committed change record (the changed incidents and
    // exceptions, whole, and the id counters), journal or not: the fleet
    // aggregator mirrors them to the bus.
    std::function<void(const nlohmann::json& record)> on_commit;
};

class IncidentManager {
public:
    // Replays the journal in options.state_dir (creating it when absent); a
    // torn or corrupt tail is cut off with a warning. Errors: the directory or
    // journal cannot be read or written, a journal of another version, a
    // record that does not describe an incident.
    static Result<std::unique_ptr<IncidentManager>> open(IncidentOptions options);
    ~IncidentManager();
    IncidentManager(const IncidentManager&) = delete;
    IncidentManager& operator=(const IncidentManager&) = delete;

    // --- from detection -----------------------------------------------------
    // An attribution opened or updated. A matching active exception counts a
    // hit and keeps the incident it excepted (same key) from resolving as
    // quiet; otherwise the unresolved incident with the same key is updated,
    // or a new one opens (and asks to notify the owners). Returns the
    // incident (0 when suppressed by an exception).
    Result<IncidentId> on_attribution(const Attribution& a, Nanos now);

    // Once per window (after on_attribution for that window). `seen` tells
    // whether an incident's traffic was in the latest window. Fires
    // deadlines (deactivates when the traffic goes on), resolves incidents
    // quiet for policy.quiet_period, ends expired exceptions.
    Result<> tick(Nanos now, const std::function<bool(const IncidentKey&)>& seen);
    Result<> tick(Nanos now, const std::set<IncidentKey>& seen);

    // --- from the notifier --------------------------------------------------
    // The message for (id, role, recipient) was delivered.
    Result<> mark_notified(IncidentId id, Role role, const std::string& recipient, Nanos now);
    // Requested and not yet recorded as sent (after a restart: resend these).
    std::vector<Notification> pending_notifications() const;

    // The pcap of the first packets, written by the integration.
    Result<> set_evidence_file(IncidentId id, const std::string& path, Nanos now);
    // Something the integration did for an incident, for the audit trail
    // (e.g. "hook_ran" with the enforcement hook's exit status); no state change.
    Result<> record(IncidentId id, std::string kind, std::string why, nlohmann::json detail, Nanos now);

    // --- owner and operator actions ------------------------------------------
    // Each refuses with a message naming the incident and why (unknown id,
    // wrong state, over the bound, ...); a refused action changes nothing.
    Result<> acknowledge(IncidentId id, const std::string& who, Nanos now);
    // Moves the deadline by `by`; the extensions of one incident add up to at
    // most policy.max_extension; only before the deadline.
    Result<> extend(IncidentId id, Nanos by, const std::string& reason, const std::string& who,
                    Nanos now);
    // Expected behaviour: matching attributions are suppressed until `expiry`,
    // and matching unresolved incidents become excepted (no deadline).
    Result<ExceptionId> add_exception(const ExceptionScope& scope, const std::string& reason,
                                      Nanos expiry, const std::string& who, Nanos now);
    Result<> remove_exception(ExceptionId id, const std::string& who, const std::string& reason,
                              Nanos now);
    Result<> resolve(IncidentId id, const std::string& who, const std::string& reason, Nanos now);
    Result<> deactivate(IncidentId id, const std::string& who, const std::string& reason, Nanos now);
    Result<> reactivate(IncidentId id, const std::string& who, const std::string& reason, Nanos now);

    // --- reading ----------------------------------------------------------------
    const Incident* find(IncidentId id) const;
    const IncidentException* find_exception(ExceptionId id) const;
    const std::map<IncidentId, Incident>& incidents() const { return incidents_; }
    const std::map<ExceptionId, IncidentException>& exceptions() const { return exceptions_; }
    // Deployments deactivated now (for the blocklist at start).
    std::set<std::string> deactivated_deployments() const;
    // Events since the last call, in order (for eve lines and the integration).
    std::vector<Event> drain_events();
    const IncidentPolicy& policy() const { return options_.policy; }

    // The journal's size in bytes (0 in memory); rewritten by compact().
    uint64_t journal_bytes() const;
    // Failed journal writes (appends, and snapshots while catching up).
    uint64_t journal_errors() const { return journal_errors_; }
    // Changes in memory only, waiting for the journal to be writable again.
    uint64_t journal_behind() const { return behind_; }
    // The latest write error while behind ("" when the journal is complete).
    const std::string& journal_error() const { return journal_error_; }
    // Catches up now when behind (a snapshot); an error when it still cannot.
    Result<> sync_journal();
    const std::string& state_dir() const { return options_.state_dir; }
    // Snapshot + new journal, atomically (done by itself past compact_bytes).
    Result<> compact();
    // The whole state as change records (what a compaction writes).
    std::vector<nlohmann::json> snapshot() const;
    // What open() had to cut off a damaged journal ("" when nothing).
    std::string recovery_warning() const;

private:
    explicit IncidentManager(IncidentOptions options);

    struct Change;  // what one call changed, to journal at its end
    Endpoint endpoint_of(const AttributionEnd& end) const;
    const Deployment* deployment_named(const std::string& name) const;
    IncidentException* matching_exception(const Incident& probe, Nanos now);
    Event& add_event(Incident& inc, Change& c, Nanos at, std::string kind, std::string who,
                     std::string why, nlohmann::json detail = nlohmann::json::object());
    Event& add_event(IncidentException& ex, Change& c, Nanos at, std::string kind,
                     std::string who, std::string why);
    void set_state(Incident& inc, Change& c, IncidentState to, Nanos at, const std::string& who,
                   const std::string& why, nlohmann::json detail = nlohmann::json::object());
    void open_notifications(Incident& inc, Change& c, Nanos now);
    void except(Incident& inc, const IncidentException& ex, Change& c, Nanos now,
                const std::string& who);
    Result<Incident*> actionable(IncidentId id, const char* action);
    // Journals the change. A write the disk refuses leaves the change in
    // memory and the manager behind (logged, counted, retried): the caller's
    // change took effect all the same, so that is not an error to it.
    Result<> commit(Change& c);
    bool catch_up();
    Result<> apply_record(const nlohmann::json& record);

    IncidentOptions options_;
    std::unique_ptr<Journal> journal_;
    std::map<IncidentId, Incident> incidents_;
    std::map<ExceptionId, IncidentException> exceptions_;
    std::map<IncidentKey, IncidentId> open_by_key_;  // unresolved incidents
    IncidentId next_incident_ = 1;
    ExceptionId next_exception_ = 1;
    uint64_t next_event_ = 1;
    uint64_t snapshot_bytes_ = 0;  // journal size after the last compaction
    uint64_t behind_ = 0;          // changes not in the journal (see journal_behind())
    uint64_t journal_errors_ = 0;
    std::string journal_error_;    // the latest failure while behind
    bool compact_failing_ = false; // a compaction failed (logged once until one works)
    std::vector<Event> pending_events_;
};

// Does the scope cover this incident (deployment at either end, type,
// direction, the other end's address, the service port)?
bool scope_matches(const ExceptionScope& scope, const Incident& inc);

} // namespace sg
