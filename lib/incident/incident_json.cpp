#include "incident/incident_json.hpp"

#include <fmt/format.h>

namespace sg {
namespace {

using nlohmann::json;

json time_or_null(const std::optional<Nanos>& t) {
    return t ? json(format_timestamp(*t)) : json(nullptr);
}

json endpoint_record(const Endpoint& e) {
    return {{"deployment", e.deployment}, {"ip", e.ip ? json(e.ip->to_string()) : json(nullptr)}};
}

Endpoint endpoint_from(const json& j) {
    Endpoint e;
    e.deployment = j.at("deployment").get<std::string>();
    if (!j.at("ip").is_null()) {
        auto ip = IpAddress::parse(j.at("ip").get<std::string>());
        if (!ip) throw std::runtime_error("bad address " + j.at("ip").dump());
        e.ip = *ip;
    }
    return e;
}

json event_record(const Event& e) {
    return {{"seq", e.seq},   {"at", e.at},   {"incident", e.incident}, {"exception", e.exception},
            {"kind", e.kind}, {"who", e.who}, {"why", e.why},           {"detail", e.detail}};
}

Event event_from(const json& j) {
    Event e;
    e.seq = j.at("seq").get<uint64_t>();
    e.at = j.at("at").get<Nanos>();
    e.incident = j.at("incident").get<IncidentId>();
    e.exception = j.at("exception").get<ExceptionId>();
    e.kind = j.at("kind").get<std::string>();
    e.who = j.at("who").get<std::string>();
    e.why = j.at("why").get<std::string>();
    e.detail = j.at("detail");
    return e;
}

json opt_nanos(const std::optional<Nanos>& t) { return t ? json(*t) : json(nullptr); }
std::optional<Nanos> nanos_from(const json& j) {
    if (j.is_null()) return std::nullopt;
    return j.get<Nanos>();
}

Direction direction_from(const json& j) {
    const auto d = parse_direction(j.get<std::string>());
    if (!d) throw std::runtime_error("bad direction " + j.dump());
    return *d;
}

json notification_json(const Notification& n, bool record) {
    json j = {{"role", role_name(n.role)}, {"deployment", n.deployment}, {"recipient", n.recipient}};
    if (record) {
        j["requested_at"] = n.requested_at;
        j["sent_at"] = opt_nanos(n.sent_at);
    } else {
        j["message_id"] = n.message_id();
        j["requested"] = format_timestamp(n.requested_at);
        j["sent"] = time_or_null(n.sent_at);
    }
    return j;
}

} // namespace

std::optional<Direction> parse_direction(std::string_view name) {
    for (Direction d : {Direction::inbound, Direction::outbound, Direction::internal, Direction::transit})
        if (name == direction_name(d)) return d;
    return std::nullopt;
}

json to_json(const Endpoint& e) {
    return {{"deployment", e.is_deployment() ? json(e.deployment) : json(nullptr)},
            {"ip", e.ip ? json(e.ip->to_string()) : json(nullptr)}};
}

json to_json(const Event& e) {
    json j = {{"seq", e.seq},   {"timestamp", format_timestamp(e.at)}, {"kind", e.kind},
              {"who", e.who},   {"why", e.why}};
    if (e.incident) j["incident"] = e.incident;
    if (e.exception) j["exception"] = e.exception;
    if (!e.detail.empty()) j["detail"] = e.detail;
    return j;
}

json incident_summary_json(const Incident& inc) {
    return {{"id", inc.id},
            {"state", state_name(inc.state)},
            {"type", inc.key.type},
            {"direction", direction_name(inc.key.direction)},
            {"service", inc.service.empty() ? json(nullptr) : json(inc.service)},
            {"port", inc.port ? json(inc.port) : json(nullptr)},
            {"source", to_json(inc.key.source)},
            {"target", to_json(inc.key.target)},
            {"deployments", inc.deployments()},
            {"opened", format_timestamp(inc.opened)},
            {"last_seen", format_timestamp(inc.last_seen)},
            {"updates", inc.updates},
            {"exception", inc.exception ? json(inc.exception) : json(nullptr)}};
}

json to_json(const Incident& inc) {
    json notifications = json::array();
    for (const auto& n : inc.notifications) notifications.push_back(notification_json(n, false));
    json events = json::array();
    for (const auto& e : inc.events) events.push_back(to_json(e));
    json j = incident_summary_json(inc);
    j.update(json{
        {"source_hosts", inc.source_hosts},
        {"target_hosts", inc.target_hosts},
        {"first_seen", format_timestamp(inc.first_seen)},
        {"attributions", inc.attributions},
        {"evidence", inc.merged_evidence()},
        {"deadline", time_or_null(inc.deadline)},
        {"extended", inc.extended_total ? json(format_duration(inc.extended_total)) : json(nullptr)},
        {"acknowledged", inc.acknowledged_at
                             ? json{{"by", inc.acknowledged_by},
                                    {"at", format_timestamp(*inc.acknowledged_at)}}
                             : json(nullptr)},
        {"evidence_file", inc.evidence_file.empty() ? json(nullptr) : json(inc.evidence_file)},
        {"notifications", notifications},
        {"events", events},
    });
    return j;
}

json scope_to_json(const ExceptionScope& s) {
    return {{"deployment", s.deployment},
            {"type", s.type ? json(*s.type) : json(nullptr)},
            {"direction", s.direction ? json(direction_name(*s.direction)) : json(nullptr)},
            {"peer", s.peer ? json(s.peer->to_string()) : json(nullptr)},
            {"port", s.port ? json(*s.port) : json(nullptr)}};
}

json to_json(const IncidentException& ex) {
    json events = json::array();
    for (const auto& e : ex.events) events.push_back(to_json(e));
    return {{"id", ex.id},
            {"scope", scope_to_json(ex.scope)},
            {"reason", ex.reason},
            {"created_by", ex.created_by},
            {"created", format_timestamp(ex.created)},
            {"expiry", format_timestamp(ex.expiry)},
            {"hits", ex.hits},
            {"ended", time_or_null(ex.ended)},
            {"ended_why", ex.ended ? json(ex.ended_why) : json(nullptr)},
            {"events", events}};
}

json to_eve_json(const Event& e, const Incident* inc, const IncidentException* ex) {
    json j = {{"timestamp", format_timestamp(e.at)}, {"event_type", "incident"}};
    json ev = to_json(e);
    ev.erase("timestamp");
    j["event"] = ev;
    if (inc)
        j["incident"] = {{"id", inc->id},
                         {"state", state_name(inc->state)},
                         {"type", inc->key.type},
                         {"direction", direction_name(inc->key.direction)},
                         {"source", to_json(inc->key.source)},
                         {"target", to_json(inc->key.target)},
                         {"deadline", time_or_null(inc->deadline)}};
    if (ex)
        j["exception"] = {{"id", ex->id}, {"scope", scope_to_json(ex->scope)},
                          {"expiry", format_timestamp(ex->expiry)}, {"hits", ex->hits}};
    return j;
}

// --- journal records ----------------------------------------------------------

json to_record(const Incident& inc) {
    json notifications = json::array();
    for (const auto& n : inc.notifications) notifications.push_back(notification_json(n, true));
    json events = json::array();
    for (const auto& e : inc.events) events.push_back(event_record(e));
    return {{"id", inc.id},
            {"type", inc.key.type},
            {"direction", direction_name(inc.key.direction)},
            {"source", endpoint_record(inc.key.source)},
            {"target", endpoint_record(inc.key.target)},
            {"state", state_name(inc.state)},
            {"service", inc.service},
            {"port", inc.port},
            {"opened", inc.opened},
            {"first_seen", inc.first_seen},
            {"last_seen", inc.last_seen},
            {"updates", inc.updates},
            {"attributions", inc.attributions},
            {"source_hosts", inc.source_hosts},
            {"target_hosts", inc.target_hosts},
            {"evidence", inc.evidence},
            {"live_evidence", inc.live_evidence},
            {"deadline", opt_nanos(inc.deadline)},
            {"extended_total", inc.extended_total},
            {"exception", inc.exception},
            {"acknowledged_at", opt_nanos(inc.acknowledged_at)},
            {"acknowledged_by", inc.acknowledged_by},
            {"evidence_file", inc.evidence_file},
            {"notifications", notifications},
            {"events", events}};
}

Result<Incident> incident_from_record(const json& j) {
    try {
        Incident inc;
        inc.id = j.at("id").get<IncidentId>();
        inc.key.type = j.at("type").get<std::string>();
        inc.key.direction = direction_from(j.at("direction"));
        inc.key.source = endpoint_from(j.at("source"));
        inc.key.target = endpoint_from(j.at("target"));
        const auto state = parse_state(j.at("state").get<std::string>());
        if (!state) throw std::runtime_error("bad state " + j.at("state").dump());
        inc.state = *state;
        inc.service = j.at("service").get<std::string>();
        inc.port = j.at("port").get<uint16_t>();
        inc.opened = j.at("opened").get<Nanos>();
        inc.first_seen = j.at("first_seen").get<Nanos>();
        inc.last_seen = j.at("last_seen").get<Nanos>();
        inc.updates = j.at("updates").get<uint64_t>();
        inc.attributions = j.at("attributions").get<std::set<uint64_t>>();
        inc.source_hosts = j.at("source_hosts").get<std::set<std::string>>();
        inc.target_hosts = j.at("target_hosts").get<std::set<std::string>>();
        inc.evidence = j.at("evidence");
        inc.live_evidence = j.at("live_evidence");
        inc.deadline = nanos_from(j.at("deadline"));
        inc.extended_total = j.at("extended_total").get<Nanos>();
        inc.exception = j.at("exception").get<ExceptionId>();
        inc.acknowledged_at = nanos_from(j.at("acknowledged_at"));
        inc.acknowledged_by = j.at("acknowledged_by").get<std::string>();
        inc.evidence_file = j.at("evidence_file").get<std::string>();
        for (const auto& n : j.at("notifications")) {
            Notification x;
            const std::string role = n.at("role").get<std::string>();
            if (role != "source" && role != "target") throw std::runtime_error("bad role " + role);
            x.role = role == "source" ? Role::source : Role::target;
            x.deployment = n.at("deployment").get<std::string>();
            x.recipient = n.at("recipient").get<std::string>();
            x.requested_at = n.at("requested_at").get<Nanos>();
            x.sent_at = nanos_from(n.at("sent_at"));
            x.incident = inc.id;
            inc.notifications.push_back(std::move(x));
        }
        for (const auto& e : j.at("events")) inc.events.push_back(event_from(e));
        return inc;
    } catch (const std::exception& e) {
        return make_error(fmt::format("not an incident record: {}", e.what()));
    }
}

json to_record(const IncidentException& ex) {
    json events = json::array();
    for (const auto& e : ex.events) events.push_back(event_record(e));
    json j = scope_to_json(ex.scope);
    return {{"id", ex.id},
            {"scope", j},
            {"reason", ex.reason},
            {"created_by", ex.created_by},
            {"created", ex.created},
            {"expiry", ex.expiry},
            {"hits", ex.hits},
            {"ended", opt_nanos(ex.ended)},
            {"ended_why", ex.ended_why},
            {"events", events}};
}

Result<IncidentException> exception_from_record(const json& j) {
    try {
        IncidentException ex;
        ex.id = j.at("id").get<ExceptionId>();
        const json& s = j.at("scope");
        ex.scope.deployment = s.at("deployment").get<std::string>();
        if (!s.at("type").is_null()) ex.scope.type = s.at("type").get<std::string>();
        if (!s.at("direction").is_null()) ex.scope.direction = direction_from(s.at("direction"));
        if (!s.at("peer").is_null()) {
            auto p = Prefix::parse(s.at("peer").get<std::string>());
            if (!p) throw std::runtime_error(p.error().message);
            ex.scope.peer = *p;
        }
        if (!s.at("port").is_null()) ex.scope.port = s.at("port").get<uint16_t>();
        ex.reason = j.at("reason").get<std::string>();
        ex.created_by = j.at("created_by").get<std::string>();
        ex.created = j.at("created").get<Nanos>();
        ex.expiry = j.at("expiry").get<Nanos>();
        ex.hits = j.at("hits").get<uint64_t>();
        ex.ended = nanos_from(j.at("ended"));
        ex.ended_why = j.at("ended_why").get<std::string>();
        for (const auto& e : j.at("events")) ex.events.push_back(event_from(e));
        return ex;
    } catch (const std::exception& e) {
        return make_error(fmt::format("not an exception record: {}", e.what()));
    }
}

} // namespace sg
