#pragma once
// Scripted owner and operator actions for a replay: what the control socket
// would receive live, at given packet times, so that a capture can show a
// whole workflow (an exception declared before the deadline, an extension,
// a reactivation) in one deterministic run.
//
//   - at: 12s               # packet time after the start of the first window
//     do: exception         # exception | remove_exception | extend | ack | resolve | deactivate | reactivate
//     who: owner@web.example
//     reason: nightly inventory scan of our own hosts
//     deployment: web        # exception: the scope (type, direction, peer, port optional)
//     type: port_scan
//     direction: outbound
//     for: 7d                # exception: expiry = at + for
//   - at: 40s
//     do: reactivate
//     incident: 1
//
// Thread: any (parsing); the desk applies them on the reporter thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "incident/incident.hpp"

namespace sg::respond {

struct ScriptedAction {
    Nanos at = 0;                     // after the first window's start
    std::string action;               // as written ("exception", "extend", ...)
    std::string who;
    std::string reason;
    IncidentId incident = 0;          // extend, ack, resolve, deactivate, reactivate
    ExceptionId exception = 0;        // remove_exception
    ExceptionScope scope;             // exception
    Nanos duration = 0;               // exception: for; extend: by
    int line = 0;                     // where it was written
};

// Errors: "FILE:LINE: what was expected".
Result<std::vector<ScriptedAction>> load_actions(const std::string& path);
Result<std::vector<ScriptedAction>> parse_actions(const std::string& text, const std::string& name);

} // namespace sg::respond
