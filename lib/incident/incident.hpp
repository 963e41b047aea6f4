#pragma once
// The incident record: one attack between one source and one target, with its
// state, counters, deadline, notifications and audit trail (events). Plain
// data; IncidentManager (manager.hpp) owns and changes them.
//
// Thread: the reporter thread (IncidentManager's owner); copies may go anywhere.

#include <compare>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attrib/ownership.hpp"
#include "core/ip_address.hpp"
#include "core/time.hpp"

namespace sg {

using IncidentId = uint64_t;
using ExceptionId = uint64_t;

// One end of an incident: a deployment (by name, so that a journal survives a
// reordered deployment list) or an external address; neither when the source
// is spoofed or distributed.
struct Endpoint {
    std::string deployment;          // "" = external
    std::optional<IpAddress> ip;     // only when external

    bool is_deployment() const { return !deployment.empty(); }
    std::string to_string() const;   // "dep:web", "198.51.100.7", "*"
    auto operator<=>(const Endpoint&) const = default;
};

// What makes two attributions the same incident.
struct IncidentKey {
    std::string type;
    Direction direction = Direction::transit;
    Endpoint source;
    Endpoint target;
    auto operator<=>(const IncidentKey&) const = default;
};

enum class IncidentState : uint8_t {
    open,          // opened, nobody told yet
    notified,      // an owner was told (delivery recorded)
    deadline_set,  // the source deployment's owner was told: fix it by the deadline
    extended,      // the deadline was moved (bounded by policy.max_extension)
    excepted,      // declared expected behaviour: no deadline
    resolved,      // no traffic for policy.quiet_period, or resolved by hand (final)
    deactivated,   // the deadline passed with the traffic going on, or by hand
    reactivated,   // the deployment is back after a deactivation
};
const char* state_name(IncidentState s);
std::optional<IncidentState> parse_state(std::string_view name);

enum class Role : uint8_t { source, target };
const char* role_name(Role r);

// One audit-trail entry. Every state change, notification request and
// delivery, action and exception change is one.
struct Event {
    uint64_t seq = 0;                // global order, from 1
    Nanos at = 0;
    IncidentId incident = 0;         // 0: an exception event
    ExceptionId exception = 0;       // the exception concerned, if any
    std::string kind;                // "opened", "notify_requested", "deactivated", ... (docs/incidents.md)
    std::string who;                 // "safeguard" for automatic changes, else the actor
    std::string why;
    nlohmann::json detail = nlohmann::json::object();
};

// The outbox entry of one message: requested when decided, sent when the
// notifier says it was delivered. Message-ID is derived from incident, role
// and recipient, so a redelivery after a crash is recognisably the same mail.
struct Notification {
    Role role = Role::source;
    std::string deployment;
    std::string recipient;
    Nanos requested_at = 0;
    std::optional<Nanos> sent_at;
    IncidentId incident = 0;
    std::string message_id() const;  // "<incident-7.source.HASH@safeguard>"
};
std::string message_id_for(IncidentId id, Role role, const std::string& recipient);

struct Incident {
    IncidentId id = 0;
    IncidentKey key;
    IncidentState state = IncidentState::open;
    std::string service;
    uint16_t port = 0;
    Nanos opened = 0;                // `now` when it opened
    Nanos first_seen = 0;
    Nanos last_seen = 0;             // latest attribution window (or `now`) that showed it
    uint64_t updates = 0;            // attribution updates folded in
    std::set<uint64_t> attributions; // attribution ids (bounded: kMaxAttributionIds)
    std::set<std::string> source_hosts, target_hosts; // bounded: kMaxHosts
    nlohmann::json evidence = nlohmann::json::object();      // totals over closed attributions
    nlohmann::json live_evidence = nlohmann::json::object(); // attribution id -> its latest evidence
    std::optional<Nanos> deadline;
    Nanos extended_total = 0;
    ExceptionId exception = 0;       // the exception that excepted it
    std::optional<Nanos> acknowledged_at;
    std::string acknowledged_by;
    std::string evidence_file;       // set by the integration (pcap of the first packets)
    std::vector<Notification> notifications;
    std::vector<Event> events;

    static constexpr size_t kMaxAttributionIds = 64;
    static constexpr size_t kMaxHosts = 16;

    // Evidence over the whole incident: counts add, peaks and ratios take the maximum.
    nlohmann::json merged_evidence() const;
    std::vector<std::string> deployments() const;
    bool final_state() const { return state == IncidentState::resolved; }
};

// Adds an attribution's evidence into totals (counts add, peaks keep the maximum).
void fold_evidence(nlohmann::json& into, const nlohmann::json& from);

// Where an exception applies. `deployment` is required; every other field
// left unset matches anything.
struct ExceptionScope {
    std::string deployment;
    std::optional<std::string> type;
    std::optional<Direction> direction;
    std::optional<Prefix> peer;      // the other end's address
    std::optional<uint16_t> port;    // the attribution's service port
};

struct IncidentException {
    ExceptionId id = 0;
    ExceptionScope scope;
    std::string reason;
    std::string created_by;
    Nanos created = 0;
    Nanos expiry = 0;
    uint64_t hits = 0;               // attributions suppressed
    std::optional<Nanos> ended;      // removed or expired
    std::string ended_why;
    std::vector<Event> events;
    bool active(Nanos now) const { return !ended && now < expiry; }
};

} // namespace sg
