// bruteforce: one source opens connection after connection to a login
// service (ssh, rdp, smb, mssql, ...) of one target, and most of them fail:
// refused, reset, or closed after little data. Counted over an activity
// period that lasts while the source keeps trying (bruteforce.idle), so a
// slow guesser (a few attempts a minute) is caught like a fast one.
// Inbound, outbound and internal.

#include <fmt/format.h>

#include "detect/detectors/activity.hpp"
#include "detect/detectors/registry.hpp"

namespace sg::detectors {

void bruteforce(DetectorContext& ctx) {
    DetectionEngine& engine = ctx.engine;
    auto& logins = engine.logins();
    accumulate(ctx.window.services, logins, ctx.start, [&](const ServiceKey& k) -> std::optional<double> {
        const DeploymentId src = engine.deployment_of(k.src);
        const DeploymentId dst = engine.deployment_of(k.dst);
        if (src == kNoDeployment && dst == kNoDeployment) return std::nullopt;
        return engine.thresholds(src, dst).bruteforce_idle;
    });
    logins.for_each_touched(ctx.start, [&](auto& e) {
        const ServiceKey& k = e.key;
        const ServiceStats& s = e.stats;
        const DeploymentId src = engine.deployment_of(k.src);
        const DeploymentId dst = engine.deployment_of(k.dst);
        const Thresholds& th = engine.thresholds(src, dst);
        if (double(s.attempts) < th.bruteforce_attempts || s.ended == 0) return;
        if (double(s.failed) < th.bruteforce_min_failed * double(s.ended)) return;
        const char* service = login_service(k.port);
        Finding f;
        f.type = "bruteforce";
        f.detector = "bruteforce";
        f.service = service ? service : "";
        f.port = k.port;
        f.source = {k.src, src};
        f.target = {k.dst, dst};
        f.active_since = e.since;
        f.idle = th.bruteforce_idle;
        f.threshold = fmt::format("attempts >= {:g} with >= {:g}% failed, pauses < {:g}s", th.bruteforce_attempts,
                                  th.bruteforce_min_failed * 100, th.bruteforce_idle);
        f.evidence = {{"attempts", s.attempts}, {"failed", s.failed}, {"ended", s.ended},
                      {"established", s.established}, {"distinct_ports", 1}};
        engine.report(std::move(f));
    });
}

} // namespace sg::detectors
