#pragma once
// Attribution: who attacks whom. The only thing that crosses from detection
// into incident handling; in the report's `attributions` list and as
// `event_type: "attribution"` eve lines (docs/detection.md shows both).
//
// Thread: made and updated by the reporter's DetectionEngine; read by the
// reporter for its outputs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attrib/ownership.hpp"
#include "core/ip_address.hpp"
#include "core/time.hpp"
#include "detect/sketch.hpp"

namespace sg {

struct AttributionEnd {
    std::optional<IpAddress> ip;        // none: spoofed or distributed (source), many (target of a sweep)
    DeploymentId deployment = kNoDeployment;
};

struct Contributor {
    IpAddress ip;
    uint64_t packets = 0;
};

struct Attribution {
    uint64_t id = 0;                    // order of opening, from 1
    std::string type;                   // "bruteforce", "syn_flood", ...
    Direction direction = Direction::transit;
    std::string service;                // "ssh", "dns"; empty when none applies
    uint16_t port = 0;                  // the service port; 0 when none applies
    AttributionEnd source;
    AttributionEnd target;
    Nanos first_seen = 0;               // the window in which the threshold was crossed
    Nanos last_seen = 0;                // the latest window that still showed it
    Nanos active_since = 0;             // start of the activity that led to it
    std::string detector;
    std::string threshold;              // the rule that fired, as text: "attempts >= 10 ..."
    nlohmann::json evidence = nlohmann::json::object();
    std::vector<Contributor> top_sources;
    std::vector<uint32_t> sids;         // signature ids (signature detector)
    uint64_t updates = 0;               // windows (or alerts) that confirmed it
    // Floods: the distinct sources of every window it spans (a union, so
    // evidence.distinct_sources counts an address seen twice once).
    Hll<8> sources;
};

// The JSON form (report and eve), deployments by name.
nlohmann::json to_json(const Attribution& a, const Ownership& ownership);

} // namespace sg
