#pragma once
// The detectors, one folder each under lib/detect/detectors/, all listed in
// registry.cpp. A detector reads one merged window (and the engine's
// activity tables) and reports findings; the engine turns findings into
// attributions.

#include "detect/engine.hpp"

namespace sg::detectors {

void syn_flood(DetectorContext& ctx);
void udp_flood(DetectorContext& ctx);
void icmp_flood(DetectorContext& ctx);
void fragment_flood(DetectorContext& ctx);
void amplification(DetectorContext& ctx);
void reflector(DetectorContext& ctx);
void bruteforce(DetectorContext& ctx);
void port_scan(DetectorContext& ctx);
void sweep(DetectorContext& ctx);
void spam(DetectorContext& ctx);
// Signature hits arrive as alerts, not in windows (DetectionEngine::on_alert).
void signature(DetectionEngine& engine, const AlertFacts& alert);

// The service name of a TCP port whose logins are counted ("ssh"), or nullptr.
const char* login_service(uint16_t port);
// Bit p set for every such port (65536 bits), for the workers' counting.
const uint64_t* login_service_ports();

} // namespace sg::detectors
