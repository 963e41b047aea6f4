#pragma once
// JSON forms of incidents, exceptions and events.
//   - report: the report's `incidents` and `exceptions` lists (timestamps
//     formatted, deployments by name);
//   - eve: one `event_type: "incident"` line per event;
//   - record: the journal's lossless form (nanoseconds, every field), read
//     back by *_from_record().
//
// Thread: any (pure functions).

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "incident/incident.hpp"

namespace sg {

nlohmann::json to_json(const Event& e);
nlohmann::json to_json(const Incident& inc);           // report form
// What identifies an incident and where it stands (id, state, type,
// direction, service, port, ends, deployments, opened, last_seen, updates,
// exception): the head of to_json(), and of the control socket's rows.
nlohmann::json incident_summary_json(const Incident& inc);
nlohmann::json to_json(const IncidentException& ex);   // report form
nlohmann::json to_json(const Endpoint& e);
nlohmann::json scope_to_json(const ExceptionScope& s);
// The eve line for `e`; `inc` is the incident it concerns (null for an
// exception event), `ex` the exception (null when none).
nlohmann::json to_eve_json(const Event& e, const Incident* inc, const IncidentException* ex);

nlohmann::json to_record(const Incident& inc);
nlohmann::json to_record(const IncidentException& ex);
Result<Incident> incident_from_record(const nlohmann::json& j);
Result<IncidentException> exception_from_record(const nlohmann::json& j);

std::optional<Direction> parse_direction(std::string_view name);

} // namespace sg
