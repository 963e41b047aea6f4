#include "incident/manager.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/log.hpp"
#include "incident/incident_json.hpp"
#include "incident/journal.hpp"

namespace sg {

namespace {

constexpr const char* kSystem = "safeguard";
constexpr size_t kLiveEvidence = 8;       // attributions whose evidence is kept apart
constexpr size_t kSnapshotChunk = 256;    // incidents per snapshot record

bool awaits_deadline(IncidentState s) {
    return s == IncidentState::deadline_set || s == IncidentState::extended;
}

// States an exception turns into `excepted`.
bool exceptable(IncidentState s) {
    return s == IncidentState::open || s == IncidentState::notified || awaits_deadline(s) ||
           s == IncidentState::reactivated;
}

std::vector<IpAddress> hosts_of(const std::set<std::string>& hosts, const Endpoint& end) {
    std::vector<IpAddress> out;
    if (end.ip) out.push_back(*end.ip);
    for (const auto& h : hosts)
        if (auto ip = IpAddress::parse(h)) out.push_back(*ip);
    return out;
}

} // namespace

struct IncidentManager::Change {
    std::set<IncidentId> incidents;
    std::set<ExceptionId> exceptions;
    std::vector<Event> events;
};

// While deactivated the traffic is blocked, not observed: after a
// reactivation the quiet period counts from the reactivation.
static Nanos quiet_since(const Incident& inc) {
    Nanos since = inc.last_seen;
    if (inc.state == IncidentState::reactivated)
        for (auto e = inc.events.rbegin(); e != inc.events.rend(); ++e)
            if (e->kind == "reactivated") {
                since = std::max(since, e->at);
                break;
            }
    return since;
}

bool scope_matches(const ExceptionScope& scope, const Incident& inc) {
    const bool as_source = inc.key.source.deployment == scope.deployment;
    const bool as_target = inc.key.target.deployment == scope.deployment;
    if (scope.deployment.empty() || (!as_source && !as_target)) return false;
    if (scope.type && *scope.type != inc.key.type) return false;
    if (scope.direction && *scope.direction != inc.key.direction) return false;
    if (scope.port && *scope.port != inc.port) return false;
    if (!scope.peer) return true;
    // The peer is the other end; every address seen there must be inside.
    const auto peer_inside = [&](const std::set<std::string>& hosts, const Endpoint& end) {
        const auto ips = hosts_of(hosts, end);
        return !ips.empty() && std::all_of(ips.begin(), ips.end(), [&](const IpAddress& ip) {
            return scope.peer->contains(ip);
        });
    };
    return (as_source && peer_inside(inc.target_hosts, inc.key.target)) ||
           (as_target && peer_inside(inc.source_hosts, inc.key.source));
}

IncidentManager::IncidentManager(IncidentOptions options) : options_(std::move(options)) {}
IncidentManager::~IncidentManager() = default;

Result<std::unique_ptr<IncidentManager>> IncidentManager::open(IncidentOptions options) {
    std::unique_ptr<IncidentManager> m(new IncidentManager(std::move(options)));
    if (!m->options_.state_dir.empty()) {
        auto journal = Journal::open(m->options_.state_dir,
                                     [&](const nlohmann::json& r) { return m->apply_record(r); });
        if (!journal) return journal.error();
        m->journal_ = std::move(*journal);
    }
    if (m->options_.initial_records.empty()) return m;
    for (const nlohmann::json& r : m->options_.initial_records)
        if (auto ok = m->apply_record(r); !ok) return make_error(fmt::format("the state taken over: {}", ok.error().message));
    m->options_.initial_records.clear();
    if (auto ok = m->compact(); !ok) return ok.error();
    return m;
}

// --- journal ----------------------------------------------------------------------

Result<> IncidentManager::apply_record(const nlohmann::json& record) {
    try {
        if (record.at("v").get<int>() != 1) return make_error("unknown record version");
        const auto& next = record.at("next");
        next_incident_ = std::max(next_incident_, next.at("incident").get<IncidentId>());
        next_exception_ = std::max(next_exception_, next.at("exception").get<ExceptionId>());
        next_event_ = std::max(next_event_, next.at("event").get<uint64_t>());
        for (const auto& j : record.at("incidents")) {
            auto inc = incident_from_record(j);
            if (!inc) return inc.error();
            const IncidentId id = inc->id;
            if (auto old = incidents_.find(id); old != incidents_.end()) {
                auto k = open_by_key_.find(old->second.key);
                if (k != open_by_key_.end() && k->second == id) open_by_key_.erase(k);
            }
            if (!inc->final_state()) open_by_key_[inc->key] = id;
            incidents_[id] = std::move(*inc);
        }
        for (const auto& j : record.at("exceptions")) {
            auto ex = exception_from_record(j);
            if (!ex) return ex.error();
            exceptions_[ex->id] = std::move(*ex);
        }
    } catch (const std::exception& e) {
        return make_error(fmt::format("not a change record: {}", e.what()));
    }
    return {};
}

std::vector<nlohmann::json> IncidentManager::snapshot() const {
    std::vector<nlohmann::json> out;
    const nlohmann::json next = {
        {"incident", next_incident_}, {"exception", next_exception_}, {"event", next_event_}};
    nlohmann::json record = {{"v", 1}, {"next", next}, {"incidents", nlohmann::json::array()},
                             {"exceptions", nlohmann::json::array()}};
    for (const auto& [id, ex] : exceptions_) record["exceptions"].push_back(to_record(ex));
    for (const auto& [id, inc] : incidents_) {
        record["incidents"].push_back(to_record(inc));
        if (record["incidents"].size() == kSnapshotChunk) {
            out.push_back(record);
            record["incidents"] = nlohmann::json::array();
            record["exceptions"] = nlohmann::json::array();
        }
    }
    out.push_back(record);
    return out;
}

Result<> IncidentManager::commit(Change& c) {
    for (auto& e : c.events) pending_events_.push_back(std::move(e));
    const bool changed = !c.incidents.empty() || !c.exceptions.empty();
    if (!changed && !behind_) return {};
    nlohmann::json record;
    if (changed) {
        record = {{"v", 1},
                  {"next", {{"incident", next_incident_}, {"exception", next_exception_}, {"event", next_event_}}},
                  {"incidents", nlohmann::json::array()},
                  {"exceptions", nlohmann::json::array()}};
        for (IncidentId id : c.incidents) record["incidents"].push_back(to_record(incidents_.at(id)));
        for (ExceptionId id : c.exceptions) record["exceptions"].push_back(to_record(exceptions_.at(id)));
        if (options_.on_commit) options_.on_commit(record);
    }
    if (!journal_) return {};
    if (behind_) {
        // An append now would leave a gap: only a snapshot brings the journal back.
        if (changed) ++behind_;
        catch_up();
        return {};
    }
    if (auto ok = journal_->append(record); !ok) {
        ++journal_errors_;
        behind_ = 1;
        journal_error_ = ok.error().message;
        log::error("incident journal: {}; 1 change held in memory, retried at each window until the "
                   "journal can be written (nothing is lost unless the process ends first)",
                   journal_error_);
        return {};
    }
    // A snapshot near the bound would be rewritten on every change: wait
    // until the journal is twice the last snapshot.
    if (journal_->size() > std::max(options_.compact_bytes, 2 * snapshot_bytes_)) {
        // The change is appended: a failed compaction loses nothing, it waits.
        if (auto ok = compact(); !ok) {
            if (!compact_failing_) log::warn("incident journal: cannot compact: {} (retried at the next change)",
                                             ok.error().message);
            compact_failing_ = true;
        } else {
            compact_failing_ = false;
        }
    }
    return {};
}

bool IncidentManager::catch_up() {
    if (!behind_) return true;
    if (auto ok = journal_->rewrite(snapshot()); !ok) {
        ++journal_errors_;
        // The same failure again is not news (the snapshot's temp file is
        // another path, the same reason); a different reason is.
        const auto reason = [](const std::string& m) { return m.substr(m.rfind(": ") + 1); };
        if (reason(ok.error().message) != reason(journal_error_))
            log::error("incident journal: still cannot write: {}; {} changes held in memory, retried at each window",
                       ok.error().message, behind_);
        journal_error_ = ok.error().message;
        return false;
    }
    snapshot_bytes_ = journal_->size();
    log::warn("incident journal: {} written again: nothing lost ({} changes held in memory are on disk)",
              journal_->path(), behind_);
    behind_ = 0;
    journal_error_.clear();
    return true;
}

Result<> IncidentManager::sync_journal() {
    if (!journal_ || catch_up()) return {};
    return make_error(fmt::format("{}: {} changes not written: {}", journal_->path(), behind_, journal_error_));
}

Result<> IncidentManager::compact() {
    if (!journal_) return {};
    if (behind_) return sync_journal();
    if (auto ok = journal_->rewrite(snapshot()); !ok) return ok;
    snapshot_bytes_ = journal_->size();
    return {};
}

uint64_t IncidentManager::journal_bytes() const { return journal_ ? journal_->size() : 0; }

std::string IncidentManager::recovery_warning() const {
    return journal_ ? journal_->recovery().warning : std::string();
}

// --- helpers ------------------------------------------------------------------------

const Deployment* IncidentManager::deployment_named(const std::string& name) const {
    for (const auto& d : options_.deployments)
        if (d.name == name) return &d;
    return nullptr;
}

Endpoint IncidentManager::endpoint_of(const AttributionEnd& end) const {
    Endpoint e;
    if (end.deployment == kNoDeployment) {
        e.ip = end.ip;
    } else if (end.deployment < options_.deployments.size()) {
        e.deployment = options_.deployments[end.deployment].name;
    } else {
        e.deployment = fmt::format("#{}", end.deployment);
    }
    return e;
}

Event& IncidentManager::add_event(Incident& inc, Change& c, Nanos at, std::string kind,
                                  std::string who, std::string why, nlohmann::json detail) {
    Event e{next_event_++, at, inc.id, 0, std::move(kind), std::move(who), std::move(why),
            std::move(detail)};
    c.incidents.insert(inc.id);
    c.events.push_back(e);
    return inc.events.emplace_back(std::move(e));
}

Event& IncidentManager::add_event(IncidentException& ex, Change& c, Nanos at, std::string kind,
                                  std::string who, std::string why) {
    Event e{next_event_++, at, 0, ex.id, std::move(kind), std::move(who), std::move(why),
            {{"scope", scope_to_json(ex.scope)}}};
    c.exceptions.insert(ex.id);
    c.events.push_back(e);
    return ex.events.emplace_back(std::move(e));
}

void IncidentManager::set_state(Incident& inc, Change& c, IncidentState to, Nanos at,
                                const std::string& who, const std::string& why,
                                nlohmann::json detail) {
    detail["from"] = state_name(inc.state);
    inc.state = to;
    if (to == IncidentState::resolved) {
        auto k = open_by_key_.find(inc.key);
        if (k != open_by_key_.end() && k->second == inc.id) open_by_key_.erase(k);
    }
    add_event(inc, c, at, state_name(to), who, why, std::move(detail));
}

void IncidentManager::open_notifications(Incident& inc, Change& c, Nanos now) {
    const auto request = [&](Role role, const std::string& name) {
        const Deployment* d = deployment_named(name);
        if (!d || d->owner.empty()) {
            add_event(inc, c, now, "not_notified", kSystem,
                      fmt::format("deployment '{}' has no owner to tell", name),
                      {{"role", role_name(role)}, {"deployment", name}});
            return;
        }
        Notification n{role, name, d->owner, now, std::nullopt, inc.id};
        add_event(inc, c, now, "notify_requested", kSystem,
                  fmt::format("notify owner {} as {}", d->owner, role_name(role)),
                  {{"role", role_name(role)}, {"deployment", name}, {"recipient", d->owner},
                   {"message_id", n.message_id()}});
        inc.notifications.push_back(std::move(n));
    };
    if (inc.key.source.is_deployment()) request(Role::source, inc.key.source.deployment);
    if (inc.key.target.is_deployment() && inc.key.target.deployment != inc.key.source.deployment)
        request(Role::target, inc.key.target.deployment);
}

IncidentException* IncidentManager::matching_exception(const Incident& probe, Nanos now) {
    for (auto& [id, ex] : exceptions_)
        if (ex.active(now) && scope_matches(ex.scope, probe)) return &ex;
    return nullptr;
}

void IncidentManager::except(Incident& inc, const IncidentException& ex, Change& c, Nanos now,
                             const std::string& who) {
    inc.exception = ex.id;
    inc.deadline.reset();
    set_state(inc, c, IncidentState::excepted, now, who,
              fmt::format("exception {}: {}", ex.id, ex.reason), {{"exception", ex.id}});
}

Result<Incident*> IncidentManager::actionable(IncidentId id, const char* action) {
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return make_error(fmt::format("{}: no incident {}", action, id));
    if (it->second.state == IncidentState::resolved)
        return make_error(fmt::format("{}: incident {} is resolved", action, id));
    return &it->second;
}

// --- detection ----------------------------------------------------------------------

Result<IncidentId> IncidentManager::on_attribution(const Attribution& a, Nanos now) {
    Change c;
    Incident probe;
    probe.key = {a.type, a.direction, endpoint_of(a.source), endpoint_of(a.target)};
    probe.port = a.port;
    if (a.source.ip) probe.source_hosts.insert(a.source.ip->to_string());
    if (a.target.ip) probe.target_hosts.insert(a.target.ip->to_string());

    if (IncidentException* ex = matching_exception(probe, now)) {
        ++ex->hits;
        c.exceptions.insert(ex->id);
        // The incident the exception excepted stays excepted while its
        // traffic goes on; it resolves after the quiet period once that stops.
        if (auto k = open_by_key_.find(probe.key); k != open_by_key_.end()) {
            Incident& inc = incidents_.at(k->second);
            if (inc.state == IncidentState::excepted && inc.exception == ex->id) {
                inc.last_seen = std::max(inc.last_seen, now);
                ++inc.updates;
                c.incidents.insert(inc.id);
            }
        }
        if (auto ok = commit(c); !ok) return ok.error();
        return IncidentId{0};
    }

    Incident* inc = nullptr;
    if (auto k = open_by_key_.find(probe.key); k != open_by_key_.end()) {
        inc = &incidents_.at(k->second);
    } else {
        const IncidentId id = next_incident_++;
        inc = &incidents_[id];
        inc->id = id;
        inc->key = probe.key;
        inc->service = a.service;
        inc->port = a.port;
        inc->opened = now;
        inc->first_seen = a.first_seen ? a.first_seen : now;
        open_by_key_[inc->key] = id;
        add_event(*inc, c, now, "opened", kSystem,
                  fmt::format("{} {} from {} to {}: {}", a.type, direction_name(a.direction),
                              inc->key.source.to_string(), inc->key.target.to_string(),
                              a.threshold.empty() ? a.detector : a.threshold),
                  {{"attribution", a.id}});
        open_notifications(*inc, c, now);
    }
    inc->last_seen = std::max(inc->last_seen, now);
    ++inc->updates;
    if (inc->attributions.size() < Incident::kMaxAttributionIds) inc->attributions.insert(a.id);
    if (a.source.ip && inc->source_hosts.size() < Incident::kMaxHosts)
        inc->source_hosts.insert(a.source.ip->to_string());
    if (a.target.ip && inc->target_hosts.size() < Incident::kMaxHosts)
        inc->target_hosts.insert(a.target.ip->to_string());
    // An attribution's evidence is cumulative: keep its latest, fold the oldest away.
    inc->live_evidence[std::to_string(a.id)] = a.evidence;
    while (inc->live_evidence.size() > kLiveEvidence) {
        auto oldest = inc->live_evidence.begin();
        for (auto it = inc->live_evidence.begin(); it != inc->live_evidence.end(); ++it)
            if (std::stoull(it.key()) < std::stoull(oldest.key())) oldest = it;
        fold_evidence(inc->evidence, oldest.value());
        inc->live_evidence.erase(oldest.key());
    }
    c.incidents.insert(inc->id);
    if (auto ok = commit(c); !ok) return ok.error();
    return inc->id;
}

Result<> IncidentManager::tick(Nanos now, const std::set<IncidentKey>& seen) {
    return tick(now, [&](const IncidentKey& k) { return seen.count(k) > 0; });
}

Result<> IncidentManager::tick(Nanos now, const std::function<bool(const IncidentKey&)>& seen) {
    Change c;
    for (auto& [id, ex] : exceptions_) {
        if (ex.ended || now < ex.expiry) continue;
        ex.ended = now;
        ex.ended_why = "expired";
        add_event(ex, c, now, "exception_expired", kSystem,
                  fmt::format("expiry {} reached", format_timestamp(ex.expiry)));
        for (auto& [iid, inc] : incidents_)
            if (inc.state == IncidentState::excepted && inc.exception == ex.id)
                set_state(inc, c, IncidentState::resolved, now, kSystem,
                          fmt::format("exception {} expired", ex.id));
    }
    for (auto& [id, inc] : incidents_) {
        if (inc.final_state()) continue;
        const bool traffic = seen(inc.key);
        if (awaits_deadline(inc.state) && inc.deadline && now >= *inc.deadline && traffic) {
            set_state(inc, c, IncidentState::deactivated, now, kSystem,
                      fmt::format("deadline {} passed and the traffic goes on",
                                  format_timestamp(*inc.deadline)),
                      {{"deployment", inc.key.source.deployment}});
        } else if (inc.state != IncidentState::deactivated && !traffic &&
                   now >= quiet_since(inc) + options_.policy.quiet_period) {
            set_state(inc, c, IncidentState::resolved, now, kSystem,
                      fmt::format("no traffic for {}", format_duration(options_.policy.quiet_period)));
        }
    }
    return commit(c);
}

// --- notifier -----------------------------------------------------------------------

Result<> IncidentManager::mark_notified(IncidentId id, Role role, const std::string& recipient,
                                        Nanos now) {
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return make_error(fmt::format("notified: no incident {}", id));
    Incident& inc = it->second;
    auto n = std::find_if(inc.notifications.begin(), inc.notifications.end(), [&](const Notification& x) {
        return x.role == role && x.recipient == recipient;
    });
    if (n == inc.notifications.end())
        return make_error(fmt::format("notified: incident {} asked for no message to {} as {}", id,
                                      recipient, role_name(role)));
    if (n->sent_at)
        return make_error(fmt::format("notified: the message to {} as {} of incident {} was already "
                                      "recorded as sent at {}", recipient, role_name(role), id,
                                      format_timestamp(*n->sent_at)));
    Change c;
    n->sent_at = now;
    add_event(inc, c, now, "notification_sent", kSystem,
              fmt::format("told {} as {}", recipient, role_name(role)),
              {{"role", role_name(role)}, {"recipient", recipient}, {"message_id", n->message_id()}});
    if (inc.state == IncidentState::open)
        set_state(inc, c, IncidentState::notified, now, kSystem,
                  fmt::format("owner {} told", recipient));
    if (role == Role::source && inc.state == IncidentState::notified) {
        inc.deadline = now + options_.policy.deadline;
        set_state(inc, c, IncidentState::deadline_set, now, kSystem,
                  fmt::format("the source's owner has {} to stop it",
                              format_duration(options_.policy.deadline)),
                  {{"deadline", format_timestamp(*inc.deadline)}});
    }
    return commit(c);
}

std::vector<Notification> IncidentManager::pending_notifications() const {
    std::vector<Notification> out;
    for (const auto& [id, inc] : incidents_)
        for (const auto& n : inc.notifications)
            if (!n.sent_at) out.push_back(n);
    return out;
}

Result<> IncidentManager::set_evidence_file(IncidentId id, const std::string& path, Nanos now) {
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return make_error(fmt::format("evidence: no incident {}", id));
    if (path.empty()) return make_error("evidence: empty path");
    Change c;
    it->second.evidence_file = path;
    add_event(it->second, c, now, "evidence_saved", kSystem, path);
    return commit(c);
}

Result<> IncidentManager::record(IncidentId id, std::string kind, std::string why, nlohmann::json detail,
                                 Nanos now) {
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return make_error(fmt::format("{}: no incident {}", kind, id));
    Change c;
    add_event(it->second, c, now, std::move(kind), kSystem, std::move(why), std::move(detail));
    return commit(c);
}

// --- actions ------------------------------------------------------------------------

namespace {
Result<> need(const std::string& value, const char* action, const char* what) {
    if (value.empty()) return make_error(fmt::format("{}: {} is required", action, what));
    return {};
}
} // namespace

Result<> IncidentManager::acknowledge(IncidentId id, const std::string& who, Nanos now) {
    if (auto ok = need(who, "acknowledge", "who"); !ok) return ok;
    auto inc = actionable(id, "acknowledge");
    if (!inc) return inc.error();
    Incident& i = **inc;
    if (i.acknowledged_at)
        return make_error(fmt::format("acknowledge: incident {} was already acknowledged by {} at {}",
                                      id, i.acknowledged_by, format_timestamp(*i.acknowledged_at)));
    Change c;
    i.acknowledged_at = now;
    i.acknowledged_by = who;
    add_event(i, c, now, "acknowledged", who, "");
    return commit(c);
}

Result<> IncidentManager::extend(IncidentId id, Nanos by, const std::string& reason,
                                 const std::string& who, Nanos now) {
    if (auto ok = need(who, "extend", "who"); !ok) return ok;
    if (auto ok = need(reason, "extend", "a reason"); !ok) return ok;
    auto inc = actionable(id, "extend");
    if (!inc) return inc.error();
    Incident& i = **inc;
    if (!awaits_deadline(i.state) || !i.deadline)
        return make_error(fmt::format("extend: incident {} is {}: it has no deadline to extend", id,
                                      state_name(i.state)));
    if (now >= *i.deadline)
        return make_error(fmt::format("extend: the deadline of incident {} passed at {}", id,
                                      format_timestamp(*i.deadline)));
    if (by == 0) return make_error("extend: the extension must be longer than 0");
    const Nanos max = options_.policy.max_extension;
    if (by > max || i.extended_total + by > max)
        return make_error(fmt::format(
            "extend: incident {}: {} more would make {} of extensions; policy.max_extension is {} "
            "({} left)", id, format_duration(by), format_duration(i.extended_total + by),
            format_duration(max), format_duration(max - std::min(max, i.extended_total))));
    Change c;
    i.extended_total += by;
    *i.deadline += by;
    set_state(i, c, IncidentState::extended, now, who, reason,
              {{"by", format_duration(by)}, {"deadline", format_timestamp(*i.deadline)},
               {"extended_total", format_duration(i.extended_total)}});
    return commit(c);
}

Result<ExceptionId> IncidentManager::add_exception(const ExceptionScope& scope,
                                                   const std::string& reason, Nanos expiry,
                                                   const std::string& who, Nanos now) {
    if (auto ok = need(who, "exception", "who"); !ok) return ok.error();
    if (auto ok = need(reason, "exception", "a reason"); !ok) return ok.error();
    if (!deployment_named(scope.deployment))
        return make_error(fmt::format("exception: unknown deployment '{}'", scope.deployment));
    if (scope.type && scope.type->empty()) return make_error("exception: empty type");
    if (expiry <= now)
        return make_error(fmt::format("exception: the expiry {} is not in the future (now {})",
                                      format_timestamp(expiry), format_timestamp(now)));
    Change c;
    const ExceptionId id = next_exception_++;
    IncidentException& ex = exceptions_[id];
    ex.id = id;
    ex.scope = scope;
    ex.reason = reason;
    ex.created_by = who;
    ex.created = now;
    ex.expiry = expiry;
    add_event(ex, c, now, "exception_added", who, reason);
    for (auto& [iid, inc] : incidents_)
        if (exceptable(inc.state) && scope_matches(scope, inc)) except(inc, ex, c, now, who);
    if (auto ok = commit(c); !ok) return ok.error();
    return id;
}

Result<> IncidentManager::remove_exception(ExceptionId id, const std::string& who,
                                           const std::string& reason, Nanos now) {
    if (auto ok = need(who, "remove exception", "who"); !ok) return ok;
    auto it = exceptions_.find(id);
    if (it == exceptions_.end()) return make_error(fmt::format("remove exception: no exception {}", id));
    IncidentException& ex = it->second;
    if (ex.ended)
        return make_error(fmt::format("remove exception: exception {} already ended ({}) at {}", id,
                                      ex.ended_why, format_timestamp(*ex.ended)));
    Change c;
    ex.ended = now;
    ex.ended_why = reason.empty() ? "removed" : reason;
    add_event(ex, c, now, "exception_removed", who, reason);
    for (auto& [iid, inc] : incidents_)
        if (inc.state == IncidentState::excepted && inc.exception == id)
            set_state(inc, c, IncidentState::resolved, now, who,
                      fmt::format("exception {} removed", id));
    return commit(c);
}

Result<> IncidentManager::resolve(IncidentId id, const std::string& who, const std::string& reason,
                                  Nanos now) {
    if (auto ok = need(who, "resolve", "who"); !ok) return ok;
    auto inc = actionable(id, "resolve");
    if (!inc) return inc.error();
    if ((*inc)->state == IncidentState::deactivated)
        return make_error(fmt::format("resolve: incident {} is deactivated: reactivate it first", id));
    Change c;
    set_state(**inc, c, IncidentState::resolved, now, who, reason);
    return commit(c);
}

Result<> IncidentManager::deactivate(IncidentId id, const std::string& who,
                                     const std::string& reason, Nanos now) {
    if (auto ok = need(who, "deactivate", "who"); !ok) return ok;
    if (auto ok = need(reason, "deactivate", "a reason"); !ok) return ok;
    auto inc = actionable(id, "deactivate");
    if (!inc) return inc.error();
    Incident& i = **inc;
    if (!i.key.source.is_deployment())
        return make_error(fmt::format("deactivate: the source of incident {} ({}) is not a deployment",
                                      id, i.key.source.to_string()));
    if (i.state == IncidentState::deactivated)
        return make_error(fmt::format("deactivate: incident {} is already deactivated", id));
    Change c;
    set_state(i, c, IncidentState::deactivated, now, who, reason,
              {{"deployment", i.key.source.deployment}});
    return commit(c);
}

Result<> IncidentManager::reactivate(IncidentId id, const std::string& who,
                                     const std::string& reason, Nanos now) {
    if (auto ok = need(who, "reactivate", "who"); !ok) return ok;
    auto inc = actionable(id, "reactivate");
    if (!inc) return inc.error();
    Incident& i = **inc;
    if (i.state != IncidentState::deactivated)
        return make_error(fmt::format("reactivate: incident {} is {}: only a deactivated incident "
                                      "can be reactivated", id, state_name(i.state)));
    Change c;
    i.deadline.reset();
    set_state(i, c, IncidentState::reactivated, now, who, reason,
              {{"deployment", i.key.source.deployment}});
    return commit(c);
}

// --- reading ------------------------------------------------------------------------

const Incident* IncidentManager::find(IncidentId id) const {
    auto it = incidents_.find(id);
    return it == incidents_.end() ? nullptr : &it->second;
}

const IncidentException* IncidentManager::find_exception(ExceptionId id) const {
    auto it = exceptions_.find(id);
    return it == exceptions_.end() ? nullptr : &it->second;
}

std::set<std::string> IncidentManager::deactivated_deployments() const {
    std::set<std::string> out;
    for (const auto& [id, inc] : incidents_)
        if (inc.state == IncidentState::deactivated) out.insert(inc.key.source.deployment);
    return out;
}

std::vector<Event> IncidentManager::drain_events() {
    std::vector<Event> out;
    out.swap(pending_events_);
    return out;
}

} // namespace sg
