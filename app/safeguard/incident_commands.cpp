#include "app/safeguard/incident_commands.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "detect/detectors/registry.hpp"
#include "core/log.hpp"
#include "incident/incident_json.hpp"

namespace sg::app {

using nlohmann::json;
using control::Args;
using control::ArgError;
using control::Caller;

namespace {

json time_or_null(Nanos t) { return t ? json(format_timestamp(t)) : json(nullptr); }

std::string endpoint_text(const Endpoint& e) {
    if (e.is_deployment()) return e.deployment;
    return e.ip ? e.ip->to_string() : "*";
}

// Seconds from the workflow's clock (packet time; live, the wall clock) to the deadline.
json deadline_in(const Incident& inc, Nanos now) {
    if (!inc.deadline) return nullptr;
    return double(*inc.deadline - now) / double(kNsPerSec);
}

} // namespace

// One line per incident: what `incidents list` and the dashboard show.
json incident_row(const Incident& inc, Nanos now) {
    json row = incident_summary_json(inc);
    row["deadline"] = time_or_null(inc.deadline.value_or(0));
    row["deadline_in_s"] = deadline_in(inc, now);
    row["acknowledged"] = inc.acknowledged_at.has_value();
    return row;
}

namespace {

std::string scope_text(const ExceptionScope& s) {
    std::string t = s.deployment;
    t += s.type ? ", type " + *s.type : ", any type";
    t += s.direction ? fmt::format(", {}", direction_name(*s.direction)) : ", any direction";
    t += s.peer ? ", peer " + s.peer->to_string() : ", any peer";
    t += s.port ? fmt::format(", port {}", *s.port) : ", any port";
    return t;
}

} // namespace

json exception_row(const IncidentException& ex, Nanos now) {
    return {{"id", ex.id},
            {"scope", scope_to_json(ex.scope)},
            {"scope_text", scope_text(ex.scope)},
            {"reason", ex.reason},
            {"created_by", ex.created_by},
            {"created", format_timestamp(ex.created)},
            {"expiry", format_timestamp(ex.expiry)},
            {"active", ex.active(now)},
            {"ended", ex.ended ? json(format_timestamp(*ex.ended)) : json(nullptr)},
            {"hits", ex.hits}};
}

namespace {

std::string actor(const Args& a, const Caller& c) {
    const auto who = a.string("who");
    if (!who || who->empty() || *who == c.user) return c.user;
    return fmt::format("{} (via {})", *who, c.user);
}

} // namespace

void register_incident_commands(control::CommandTable& table, IncidentCommandsContext context) {
    auto c = std::make_shared<const IncidentCommandsContext>(std::move(context));
    auto add = [&table](const char* name, const char* help, control::CommandFn fn) {
        if (auto ok = table.add(name, help, std::move(fn)); !ok) log::error("{}", ok.error().message);
    };
    // The incident workflow's commands need the desk (deployments configured).
    auto desk_or_error = [c]() -> Result<respond::IncidentDesk*> {
        respond::IncidentDesk* desk = c->desk();
        if (!desk) return make_error(c->no_desk);
        return desk;
    };
    // ack, extend, resolve, ... : a ScriptedAction applied now on the reporter thread.
    auto act = [c, desk_or_error](respond::ScriptedAction a) -> Result<json> {
        if (auto d = desk_or_error(); !d) return d.error();
        return c->on_owner([c, a]() -> Result<json> {
            respond::IncidentDesk* desk = c->desk();
            if (!desk) return make_error(c->no_desk);
            auto r = desk->act(a);
            if (!r) return r.error();
            const Nanos now = desk->now();
            json out;
            if (a.action == "exception") {
                const IncidentException* ex = desk->manager().find_exception(*r);
                out = json{{"exception", ex ? exception_row(*ex, now) : json(nullptr)}};
            } else if (a.action == "remove_exception") {
                const IncidentException* ex = desk->manager().find_exception(a.exception);
                out = json{{"exception", ex ? exception_row(*ex, now) : json(nullptr)}};
            } else {
                const Incident* inc = desk->manager().find(a.incident);
                out = json{{"incident", inc ? incident_row(*inc, now) : json(nullptr)}};
            }
            // Done, but not on disk yet: the operator should know.
            if (const IncidentManager& m = desk->manager(); m.journal_behind() > 0)
                out["warning"] = fmt::format("the journal cannot be written ({}): this change is held in memory "
                                             "with {} other(s) and retried at each window; lost if the daemon "
                                             "stops first", m.journal_error(), m.journal_behind() - 1);
            return out;
        });
    };
    auto incident_action = [act](const char* action, bool needs_reason) {
        return [act, action, needs_reason](const Args& args, const Caller& caller) -> Result<json> {
            respond::ScriptedAction a;
            a.action = action;
            a.incident = args.required_number("id", 1);
            a.who = actor(args, caller);
            a.reason = needs_reason ? args.required_string("reason") : args.string("reason").value_or("");
            return act(a);
        };
    };

    add("incidents list", "incidents, newest first; args: state (list), deployment, type, direction, open, limit",
        [c, desk_or_error](const Args& args, const Caller&) -> Result<json> {
            if (auto d = desk_or_error(); !d) return d.error();
            std::set<std::string> states;
            for (const std::string& s : args.strings("state")) {
                if (!parse_state(s))
                    throw ArgError{fmt::format("argument 'state': expected open, notified, deadline_set, extended, "
                                               "excepted, resolved, deactivated or reactivated, got '{}'",
                                               s)};
                states.insert(s);
            }
            const auto deployment = args.string("deployment");
            const auto type = args.string("type");
            const auto direction = args.string("direction");
            if (direction && !parse_direction(*direction))
                throw ArgError{fmt::format("argument 'direction': expected inbound, outbound or internal, got '{}'", *direction)};
            const bool open_only = args.flag("open");
            const size_t limit = args.number("limit", 1, 100000).value_or(1000);
            return c->on_owner([=]() -> Result<json> {
                const respond::IncidentDesk* desk = c->desk();
                if (!desk) return make_error(c->no_desk);
                json rows = json::array();
                const auto& all = desk->manager().incidents();
                for (auto it = all.rbegin(); it != all.rend() && rows.size() < limit; ++it) {
                    const Incident& inc = it->second;
                    if (!states.empty() && !states.count(state_name(inc.state))) continue;
                    if (open_only && inc.state == IncidentState::resolved) continue;
                    if (type && inc.key.type != *type) continue;
                    if (direction && direction_name(inc.key.direction) != *direction) continue;
                    if (deployment && inc.key.source.deployment != *deployment && inc.key.target.deployment != *deployment)
                        continue;
                    rows.push_back(incident_row(inc, desk->now()));
                }
                return json{{"clock", format_timestamp(desk->now())}, {"incidents", rows}};
            });
        });

    add("incidents show", "one incident with its evidence, notifications and events; args: id",
        [c, desk_or_error](const Args& args, const Caller&) -> Result<json> {
            if (auto d = desk_or_error(); !d) return d.error();
            const uint64_t id = args.required_number("id", 1);
            return c->on_owner([c, id]() -> Result<json> {
                const respond::IncidentDesk* desk = c->desk();
                if (!desk) return make_error(c->no_desk);
                const Incident* inc = desk->manager().find(id);
                if (!inc) return make_error(fmt::format("incident {}: no such incident", id));
                json j = to_json(*inc);
                j["deadline_in_s"] = deadline_in(*inc, desk->now());
                return j;
            });
        });

    add("ack", "acknowledge an incident; args: id, who", incident_action("ack", false));
    add("extend", "move a deadline (the extensions add up to policy.max_extension); args: id, for, reason, who",
        [act](const Args& args, const Caller& caller) -> Result<json> {
            respond::ScriptedAction a;
            a.action = "extend";
            a.incident = args.required_number("id", 1);
            const auto by = args.duration("for");
            if (!by) throw ArgError{"argument 'for' is required (how much longer, such as 24h)"};
            a.duration = *by;
            a.reason = args.required_string("reason");
            a.who = actor(args, caller);
            return act(a);
        });
    add("resolve", "close an incident by hand; args: id, reason, who", incident_action("resolve", true));
    add("deactivate", "block the source deployment of an incident now; args: id, reason, who",
        incident_action("deactivate", true));
    add("reactivate", "lift a deactivation; args: id, reason, who", incident_action("reactivate", true));

    add("exception add",
        "declare traffic expected; args: deployment, type, direction, peer, port, for, reason, who",
        [c, act](const Args& args, const Caller& caller) -> Result<json> {
            const Config& cfg = *c->cfg;
            respond::ScriptedAction a;
            a.action = "exception";
            a.scope.deployment = args.required_string("deployment");
            if (std::none_of(cfg.deployments.begin(), cfg.deployments.end(),
                             [&](const Deployment& d) { return d.name == a.scope.deployment; }))
                throw ArgError{fmt::format("argument 'deployment': no deployment named '{}'", a.scope.deployment)};
            a.scope.type = args.string("type");
            if (a.scope.type && a.scope.type->empty()) a.scope.type.reset();
            if (const auto d = args.string("direction")) {
                a.scope.direction = parse_direction(*d);
                if (!a.scope.direction || *a.scope.direction == Direction::transit)
                    throw ArgError{fmt::format("argument 'direction': expected inbound, outbound or internal, got '{}'", *d)};
            }
            if (const auto p = args.string("peer")) {
                auto prefix = Prefix::parse(*p);
                if (!prefix) throw ArgError{fmt::format("argument 'peer': {}", prefix.error().message)};
                a.scope.peer = *prefix;
            }
            if (const auto port = args.number("port", 1, 65535)) a.scope.port = uint16_t(*port);
            const auto span = args.duration("for");
            if (!span) throw ArgError{"argument 'for' is required (how long the exception holds, such as 30d)"};
            a.duration = *span;
            a.reason = args.required_string("reason");
            a.who = actor(args, caller);
            return act(a);
        });

    add("exception list", "exceptions in force; args: all (ended ones too)",
        [c, desk_or_error](const Args& args, const Caller&) -> Result<json> {
            if (auto d = desk_or_error(); !d) return d.error();
            const bool all = args.flag("all");
            return c->on_owner([c, all]() -> Result<json> {
                const respond::IncidentDesk* desk = c->desk();
                if (!desk) return make_error(c->no_desk);
                json rows = json::array();
                for (const auto& [id, ex] : desk->manager().exceptions())
                    if (all || ex.active(desk->now())) rows.push_back(exception_row(ex, desk->now()));
                return json{{"exceptions", rows}};
            });
        });

    add("exception remove", "end an exception (the incidents it excepted resolve); args: id, reason, who",
        [act](const Args& args, const Caller& caller) -> Result<json> {
            respond::ScriptedAction a;
            a.action = "remove_exception";
            a.exception = args.required_number("id", 1);
            a.reason = args.required_string("reason");
            a.who = actor(args, caller);
            return act(a);
        });

    add("blocklist", "deployments deactivated now, and the incidents that did it",
        [c, desk_or_error](const Args&, const Caller&) -> Result<json> {
            if (auto d = desk_or_error(); !d) return d.error();
            return c->on_owner([c]() -> Result<json> {
                const respond::IncidentDesk* desk = c->desk();
                if (!desk) return make_error(c->no_desk);
                json rows = json::array();
                for (const std::string& name : desk->manager().deactivated_deployments()) {
                    json ids = json::array();
                    for (const auto& [id, inc] : desk->manager().incidents())
                        if (inc.state == IncidentState::deactivated && inc.key.source.deployment == name) ids.push_back(id);
                    rows.push_back({{"deployment", name}, {"incidents", ids}});
                }
                return json{{"deployments", rows}, {"enforced", mode_name(c->cfg->mode)}};
            });
        });

    add("evidence", "an incident's evidence: the capture of its first packets and the figures; args: id",
        [c, desk_or_error](const Args& args, const Caller&) -> Result<json> {
            if (auto d = desk_or_error(); !d) return d.error();
            const uint64_t id = args.required_number("id", 1);
            return c->on_owner([c, id]() -> Result<json> {
                const respond::IncidentDesk* desk = c->desk();
                if (!desk) return make_error(c->no_desk);
                const Incident* inc = desk->manager().find(id);
                if (!inc) return make_error(fmt::format("incident {}: no such incident", id));
                json file = nullptr;
                if (!inc->evidence_file.empty()) {
                    struct stat st{};
                    const bool there = ::stat(inc->evidence_file.c_str(), &st) == 0;
                    file = {{"path", inc->evidence_file},
                            {"exists", there},
                            {"bytes", there ? json(uint64_t(st.st_size)) : json(nullptr)}};
                }
                return json{{"incident", id},
                            {"capture", file},
                            {"evidence", inc->merged_evidence()},
                            {"source_hosts", inc->source_hosts},
                            {"target_hosts", inc->target_hosts},
                            {"attributions", inc->attributions}};
            });
        });

    add("posture", "per deployment: open incidents and deadlines, inbound brute force per service, management ports "
                   "reachable from the internet, reflectors, exceptions in force; args: deployment",
        [c](const Args& args, const Caller&) -> Result<json> {
            const auto only = args.string("deployment");
            const Config& cfg = *c->cfg;
            if (only && std::none_of(cfg.deployments.begin(), cfg.deployments.end(),
                                     [&](const Deployment& d) { return d.name == *only; }))
                return make_error(fmt::format("no deployment named '{}'", *only));
            if (cfg.deployments.empty()) return json{{"deployments", json::array()}};
            return c->on_owner([c, only]() -> Result<json> {
                const Config& cfg = *c->cfg;
                const respond::IncidentDesk* desk = c->desk();
                const DetectionEngine* engine = c->engine();
                const PostureTracker* tracker = c->posture();
                const Nanos now = desk ? desk->now() : 0;
                const std::set<std::string> blocked =
                    desk ? desk->manager().deactivated_deployments() : std::set<std::string>{};
                json deps = json::array();
                for (DeploymentId i = 0; i < cfg.deployments.size(); ++i) {
                    const Deployment& dep = cfg.deployments[i];
                    if (only && dep.name != *only) continue;
                    json incidents = json::array();
                    json exceptions = json::array();
                    if (desk) {
                        for (const auto& [id, inc] : desk->manager().incidents()) {
                            if (inc.state == IncidentState::resolved) continue;
                            const bool source = inc.key.source.deployment == dep.name;
                            const bool target = inc.key.target.deployment == dep.name;
                            if (!source && !target) continue;
                            json row = incident_row(inc, now);
                            row["role"] = source ? "source" : "target";
                            row["peer"] = endpoint_text(source ? inc.key.target : inc.key.source);
                            incidents.push_back(row);
                        }
                        for (const auto& [id, ex] : desk->manager().exceptions())
                            if (ex.active(now) && ex.scope.deployment == dep.name) exceptions.push_back(exception_row(ex, now));
                    }
                    json logins = json::array();
                    json exposed = json::array();
                    if (tracker) {
                        for (const auto& [key, l] : tracker->inbound_logins()) {
                            if (key.first != i) continue;
                            const char* service = detectors::login_service(key.second);
                            logins.push_back({{"service", service ? service : "?"},
                                              {"port", key.second},
                                              {"attempts", l.attempts},
                                              {"established", l.established},
                                              {"failed", l.failed},
                                              {"ended", l.ended},
                                              {"sources", uint64_t(l.sources.estimate() + 0.5)},
                                              {"targets", uint64_t(l.targets.estimate() + 0.5)},
                                              {"first_seen", format_timestamp(l.first_seen)},
                                              {"last_seen", format_timestamp(l.last_seen)}});
                        }
                        for (const PostureTracker::Exposure* e : tracker->exposed()) {
                            if (e->deployment != i) continue;
                            const char* service = detectors::login_service(e->port);
                            exposed.push_back({{"host", e->host.to_string()},
                                               {"port", e->port},
                                               {"service", service ? json(service) : json(nullptr)},
                                               {"handshakes", e->handshakes},
                                               {"sources", uint64_t(e->sources.estimate() + 0.5)},
                                               {"last_source", e->last_source.to_string()},
                                               {"first_seen", format_timestamp(e->first_seen)},
                                               {"last_seen", format_timestamp(e->last_seen)}});
                        }
                    }
                    // Reflectors: the reflector attributions whose source is this
                    // deployment's host, the latest per host and service.
                    std::map<std::pair<IpAddress, uint16_t>, const Attribution*> reflecting;
                    if (engine)
                        for (const Attribution* a : engine->attributions())
                            if (a->type == "reflector" && a->source.deployment == i && a->source.ip)
                                reflecting[{*a->source.ip, a->port}] = a;
                    json reflectors = json::array();
                    for (const auto& [key, a] : reflecting) {
                        json incident = nullptr;
                        if (desk)
                            for (const auto& [id, inc] : desk->manager().incidents())
                                if (inc.attributions.count(a->id)) incident = id;
                        reflectors.push_back({{"host", key.first.to_string()},
                                              {"service", a->service},
                                              {"port", a->port},
                                              {"victim", a->target.ip ? json(a->target.ip->to_string()) : json(nullptr)},
                                              {"peak_pps", a->evidence.value("peak_pps", json(nullptr))},
                                              {"amplification", a->evidence.value("amplification", json(nullptr))},
                                              {"first_seen", format_timestamp(a->first_seen)},
                                              {"last_seen", format_timestamp(a->last_seen)},
                                              {"attribution", a->id},
                                              {"incident", incident}});
                    }
                    deps.push_back({{"name", dep.name},
                                    {"owner", dep.owner.empty() ? json(nullptr) : json(dep.owner)},
                                    {"blocked", blocked.count(dep.name) > 0},
                                    {"incidents", incidents},
                                    {"bruteforce_inbound", logins},
                                    {"management_exposed", exposed},
                                    {"reflectors", reflectors},
                                    {"exceptions", exceptions}});
                }
                return json{{"clock", now ? json(format_timestamp(now)) : json(nullptr)},
                            {"deployments", deps},
                            {"tracking", tracker ? json{{"windows", tracker->windows()},
                                                        {"exposure_evictions", tracker->evictions()}}
                                                 : json(nullptr)}};
            });
        });

}

} // namespace sg::app
