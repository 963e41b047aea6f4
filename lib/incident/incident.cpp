#include "incident/incident.hpp"

#include <zlib.h>

#include <fmt/format.h>

namespace sg {
namespace {

constexpr std::pair<IncidentState, const char*> kStates[] = {
    {IncidentState::open, "open"},
    {IncidentState::notified, "notified"},
    {IncidentState::deadline_set, "deadline_set"},
    {IncidentState::extended, "extended"},
    {IncidentState::excepted, "excepted"},
    {IncidentState::resolved, "resolved"},
    {IncidentState::deactivated, "deactivated"},
    {IncidentState::reactivated, "reactivated"},
};

// Evidence values that do not add up over attributions: peaks, ratios and
// distinct counts (a union, not a sum) keep the largest.
bool keeps_maximum(const std::string& name) {
    return name.rfind("peak_", 0) == 0 || name.rfind("distinct_", 0) == 0 ||
           name == "amplification" || name == "priority";
}

void fold(nlohmann::json& into, const nlohmann::json& from) {
    if (!from.is_object()) return;
    for (const auto& [name, value] : from.items()) {
        auto it = into.find(name);
        if (it == into.end() || !value.is_number() || !it->is_number()) {
            into[name] = value;
        } else if (keeps_maximum(name)) {
            if (value > *it) *it = value;
        } else if (value.is_number_float() || it->is_number_float()) {
            *it = it->get<double>() + value.get<double>();
        } else {
            *it = it->get<uint64_t>() + value.get<uint64_t>();
        }
    }
}

} // namespace

const char* state_name(IncidentState s) {
    for (const auto& [state, name] : kStates)
        if (state == s) return name;
    return "?";
}

std::optional<IncidentState> parse_state(std::string_view name) {
    for (const auto& [state, n] : kStates)
        if (name == n) return state;
    return std::nullopt;
}

const char* role_name(Role r) { return r == Role::source ? "source" : "target"; }

std::string Endpoint::to_string() const {
    if (is_deployment()) return "dep:" + deployment;
    return ip ? ip->to_string() : "*";
}

std::string message_id_for(IncidentId id, Role role, const std::string& recipient) {
    const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(recipient.data()), uInt(recipient.size()));
    return fmt::format("<incident-{}.{}.{:08x}@safeguard>", id, role_name(role), uint32_t(crc));
}

std::string Notification::message_id() const { return message_id_for(incident, role, recipient); }

nlohmann::json Incident::merged_evidence() const {
    nlohmann::json out = evidence;
    for (const auto& [id, ev] : live_evidence.items()) fold(out, ev);
    return out;
}

std::vector<std::string> Incident::deployments() const {
    std::vector<std::string> out;
    if (key.source.is_deployment()) out.push_back(key.source.deployment);
    if (key.target.is_deployment() && key.target.deployment != key.source.deployment)
        out.push_back(key.target.deployment);
    return out;
}

// Used by the manager when an attribution's live evidence is retired.
void fold_evidence(nlohmann::json& into, const nlohmann::json& from) { fold(into, from); }

} // namespace sg
