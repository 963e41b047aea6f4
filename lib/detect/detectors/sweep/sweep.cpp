// sweep (horizontal): one source probes one port (or pings) on many
// addresses and few of the connections complete: sweep.targets distinct
// targets within an activity period (sweep.idle). The targets are many, so
// the attribution's target address is null; its deployment is the swept one.
// SMTP is left to the spam detector. Inbound, outbound and internal.

#include <algorithm>

#include <fmt/format.h>

#include "detect/detectors/activity.hpp"
#include "detect/detectors/registry.hpp"
#include "parse/packet_view.hpp"
#include "detect/detectors/spam/smtp.hpp"

namespace sg::detectors {

void sweep(DetectorContext& ctx) {
    DetectionEngine& engine = ctx.engine;
    auto& sweeps = engine.sweeps();
    // One activity table for sweeps and spam: the longer pause of the two.
    accumulate(ctx.window.sweeps, sweeps, ctx.start, [&](const SweepKey& k) -> std::optional<double> {
        const DeploymentId src = engine.deployment_of(k.src);
        if (src == kNoDeployment && k.target_deployment == kNoDeployment) return std::nullopt;
        const Thresholds& th = engine.thresholds(src, k.target_deployment);
        return std::max(th.sweep_idle, th.spam_idle);
    });
    sweeps.for_each_touched(ctx.start, [&](auto& e) {
        const SweepKey& k = e.key;
        if (k.proto == kProtoTcp && is_smtp_port(k.port)) return;
        const SweepStats& s = e.stats;
        const DeploymentId src = engine.deployment_of(k.src);
        const Thresholds& th = engine.thresholds(src, k.target_deployment);
        const double targets = s.targets.estimate();
        if (targets < th.sweep_targets) return;
        if (double(s.established) > th.sweep_max_established * double(s.probes)) return;
        Finding f;
        f.type = "sweep";
        f.detector = "sweep";
        const bool icmp = k.proto == kProtoIcmp || k.proto == kProtoIcmpv6;
        f.service = icmp ? "icmp" : "";
        f.port = icmp ? 0 : k.port;
        f.source = {k.src, src};
        f.target = {std::nullopt, k.target_deployment};
        f.active_since = e.since;
        f.idle = th.sweep_idle;
        f.threshold = fmt::format("distinct targets >= {:g}, <= {:g}% completed, pauses < {:g}s", th.sweep_targets,
                                  th.sweep_max_established * 100, th.sweep_idle);
        f.evidence = {{"distinct_targets", uint64_t(targets + 0.5)}, {"probes", s.probes},
                      {"answered", s.answered}, {"established", s.established}};
        engine.report(std::move(f));
    });
}

} // namespace sg::detectors
