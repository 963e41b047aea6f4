#pragma once
// What the four flood detectors share: one destination receiving more of
// one kind of packet per second than its thresholds allow, absolutely or
// relative to its usual rate. They differ only in the kind they count.

#include "detect/engine.hpp"

namespace sg::detectors {

enum class FloodKind : uint8_t { syn, udp, icmp, fragment };

void detect_flood(DetectorContext& ctx, FloodKind kind);

// Who is behind traffic to one target: a single source when one sends at
// least half of it, else nobody in particular (spoofed or distributed);
// the source side is protected when protected hosts send most of it.
// `total`: the packets `target` received in window `w`.
AttributionEnd flood_source(const DetectionEngine& engine, const WindowSummary& w, const IpAddress& target,
                            const std::vector<Contributor>& top, uint64_t total);

nlohmann::json contributors_json(const std::vector<Contributor>& top);

} // namespace sg::detectors
