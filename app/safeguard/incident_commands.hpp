#pragma once
// The incident workflow's control commands (incidents list/show, ack,
// extend, resolve, deactivate, reactivate, exceptions, blocklist, evidence,
// posture), shared by the appliance daemon (control.cpp: the reporter thread
// owns the desk) and the fleet aggregator (aggregate.cpp: its own thread).
// docs/operations.md lists them.
//
// Thread: the commands run on the control server's thread and reach the
// desk, the detection engine and the posture only through on_owner.

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "control/command_table.hpp"
#include "core/result.hpp"
#include "detect/engine.hpp"
#include "detect/posture.hpp"
#include "incident/incident.hpp"
#include "respond/desk.hpp"

namespace sg::app {

struct IncidentCommandsContext {
    const Config* cfg = nullptr;
    // Runs fn on the thread that owns the desk, the engine and the posture,
    // and waits for it (with a bound; an error when it did not run).
    std::function<Result<nlohmann::json>(const std::function<Result<nlohmann::json>()>&)> on_owner;
    // On that thread: the desk (null: no incidents here, see no_desk), the
    // detection engine and the posture (null: none).
    std::function<respond::IncidentDesk*()> desk;
    std::function<const DetectionEngine*()> engine;
    std::function<const PostureTracker*()> posture;
    std::string no_desk = "no deployments are configured, so there are no incidents";
};

void register_incident_commands(control::CommandTable& table, IncidentCommandsContext context);

// One line per incident or exception, as `incidents list`, `exception list`
// and the dashboard show them; `now` is the workflow's clock.
nlohmann::json incident_row(const Incident& inc, Nanos now);
nlohmann::json exception_row(const IncidentException& ex, Nanos now);

} // namespace sg::app
