// icmp_flood: one address receives more icmp packets per second than its
// thresholds allow (rules/thresholds.yaml: icmp_flood.rate, and floods.* for
// the rate relative to the address's usual traffic). Inbound, outbound
// (our host floods an outside address) and internal.

#include "detect/detectors/flood.hpp"
#include "detect/detectors/registry.hpp"

namespace sg::detectors {

void icmp_flood(DetectorContext& ctx) { detect_flood(ctx, FloodKind::icmp); }

} // namespace sg::detectors
