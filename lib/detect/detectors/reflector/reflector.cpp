// reflector: one of our hosts answers spoofed requests and floods their
// forged source. It sends more responses per second from a reflection
// service's port than reflector.rate, with at least reflector.min_amplification
// times the bytes it received on that port: many small requests in, large
// responses out. The target is where most responses go (the victim).

#include <fmt/format.h>

#include "detect/detectors/registry.hpp"

namespace sg::detectors {

void reflector(DetectorContext& ctx) {
    DetectionEngine& engine = ctx.engine;
    ctx.window.hosts.for_each([&](const HostStats& h) {
        for (unsigned s = 0; s < kReflectionServices; ++s) {
            const ReflectionCounters& r = h.reflection[s];
            const double rate = double(r.responses_out.packets) / ctx.seconds;
            const Thresholds& th = engine.thresholds(h.deployment);
            if (rate < th.reflector_rate) continue;
            const double ratio = double(r.responses_out.bytes) / double(std::max<uint64_t>(1, r.requests_in.bytes));
            if (ratio < th.reflector_min_amplification) continue;
            const std::optional<Contributor> victim = engine.top_target(ctx.window, h.ip);
            Finding f;
            f.type = "reflector";
            f.detector = "reflector";
            f.service = reflection_service_name(s);
            f.port = reflection_service_port(s);
            f.source = {h.ip, h.deployment};
            if (victim) f.target = {victim->ip, engine.deployment_of(victim->ip)};
            f.idle = th.amplification_idle;
            f.threshold = fmt::format("{} responses from one host >= {:g}/s with >= {:g}x the request bytes",
                                      f.service, th.reflector_rate, th.reflector_min_amplification);
            f.evidence = {{"packets", r.responses_out.packets},
                          {"bytes", r.responses_out.bytes},
                          {"responses", r.responses_out.packets},
                          {"requests", r.requests_in.packets},
                          {"amplification", double(int(ratio * 10 + 0.5)) / 10},
                          {"peak_pps", uint64_t(rate + 0.5)},
                          {"distinct_targets", uint64_t(h.peers_out.estimate() + 0.5)}};
            engine.report(std::move(f));
        }
    });
}

} // namespace sg::detectors
