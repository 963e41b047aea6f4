// port_scan (vertical): one source tries many ports of one target and few
// of the connections complete: port_scan.ports distinct ports within an
// activity period (port_scan.idle), at most port_scan.max_established of
// the probes completed. Inbound, outbound and internal.

#include <fmt/format.h>

#include "detect/detectors/activity.hpp"
#include "detect/detectors/registry.hpp"

namespace sg::detectors {

void port_scan(DetectorContext& ctx) {
    DetectionEngine& engine = ctx.engine;
    auto& scans = engine.scans();
    accumulate(ctx.window.scans, scans, ctx.start, [&](const PairKey& k) -> std::optional<double> {
        const DeploymentId src = engine.deployment_of(k.src);
        const DeploymentId dst = engine.deployment_of(k.dst);
        if (src == kNoDeployment && dst == kNoDeployment) return std::nullopt;
        return engine.thresholds(src, dst).port_scan_idle;
    });
    scans.for_each_touched(ctx.start, [&](auto& e) {
        const ScanStats& s = e.stats;
        const DeploymentId src = engine.deployment_of(e.key.src);
        const DeploymentId dst = engine.deployment_of(e.key.dst);
        const Thresholds& th = engine.thresholds(src, dst);
        const double ports = s.ports.estimate();
        if (ports < th.port_scan_ports) return;
        if (double(s.established) > th.port_scan_max_established * double(s.probes)) return;
        Finding f;
        f.type = "port_scan";
        f.detector = "port_scan";
        f.source = {e.key.src, src};
        f.target = {e.key.dst, dst};
        f.active_since = e.since;
        f.idle = th.port_scan_idle;
        f.threshold = fmt::format("distinct ports >= {:g}, <= {:g}% completed, pauses < {:g}s", th.port_scan_ports,
                                  th.port_scan_max_established * 100, th.port_scan_idle);
        f.evidence = {{"distinct_ports", uint64_t(ports + 0.5)}, {"probes", s.probes},
                      {"answered", s.answered}, {"established", s.established}};
        engine.report(std::move(f));
    });
}

} // namespace sg::detectors
