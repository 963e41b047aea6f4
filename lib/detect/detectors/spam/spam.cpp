// spam: one of our hosts connects to many mail servers: spam.targets
// distinct SMTP destinations (25, 465, 587) within an activity period
// (spam.idle). A mail relay of our own talks to few servers, a spam bot to
// many. Outbound (and internal, though rarely).

#include <fmt/format.h>

#include "detect/detectors/registry.hpp"
#include "parse/packet_view.hpp"
#include "detect/detectors/spam/smtp.hpp"

namespace sg::detectors {

void spam(DetectorContext& ctx) {
    DetectionEngine& engine = ctx.engine;
    // The sweep detector (which runs before) keeps the activity of every
    // (source, port) key, SMTP included.
    engine.sweeps().for_each_touched(ctx.start, [&](auto& e) {
        const SweepKey& k = e.key;
        if (k.proto != kProtoTcp || !is_smtp_port(k.port)) return;
        const DeploymentId src = engine.deployment_of(k.src);
        if (src == kNoDeployment) return;
        const Thresholds& th = engine.thresholds(src);
        const double targets = e.stats.targets.estimate();
        if (targets < th.spam_targets) return;
        Finding f;
        f.type = "spam";
        f.detector = "spam";
        f.service = "smtp";
        f.port = k.port;
        f.source = {k.src, src};
        f.target = {std::nullopt, k.target_deployment};
        f.active_since = e.since;
        f.idle = th.spam_idle;
        f.threshold = fmt::format("distinct SMTP servers >= {:g}, pauses < {:g}s", th.spam_targets, th.spam_idle);
        f.evidence = {{"distinct_targets", uint64_t(targets + 0.5)}, {"connections", e.stats.probes},
                      {"established", e.stats.established}};
        engine.report(std::move(f));
    });
}

} // namespace sg::detectors
