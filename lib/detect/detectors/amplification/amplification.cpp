// amplification: one of our hosts is the victim of a reflection attack. It
// receives more responses per second from a reflection service's port (DNS,
// NTP, SSDP, memcached, ...) than rules/thresholds.yaml's
// amplification.rate; the senders are the reflectors, the real source is
// spoofed away. Inbound, or internal when our own hosts reflect.

#include <fmt/format.h>

#include "detect/detectors/flood.hpp"
#include "detect/detectors/registry.hpp"

namespace sg::detectors {

void amplification(DetectorContext& ctx) {
    DetectionEngine& engine = ctx.engine;
    ctx.window.hosts.for_each([&](const HostStats& h) {
        for (unsigned s = 0; s < kReflectionServices; ++s) {
            const ReflectionCounters& r = h.reflection[s];
            const double rate = double(r.responses_in.packets) / ctx.seconds;
            const Thresholds& pre = engine.thresholds(h.deployment);
            if (rate < pre.amplification_rate) continue;
            const std::vector<Contributor> top = engine.top_sources(ctx.window, h.ip, h.in.packets, 10);
            const AttributionEnd source = flood_source(engine, ctx.window, h.ip, top, h.in.packets);
            const Thresholds& th = engine.thresholds(source.deployment, h.deployment);
            if (rate < th.amplification_rate) continue;
            Finding f;
            f.type = "amplification";
            f.detector = "amplification";
            f.service = reflection_service_name(s);
            f.port = reflection_service_port(s);
            f.source = source;
            f.target = {h.ip, h.deployment};
            f.idle = th.amplification_idle;
            f.threshold = fmt::format("{} responses to one host >= {:g}/s", f.service, th.amplification_rate);
            f.evidence = {{"packets", r.responses_in.packets},
                          {"bytes", r.responses_in.bytes},
                          {"responses", r.responses_in.packets},
                          {"requests", r.requests_out.packets},
                          {"peak_pps", uint64_t(rate + 0.5)},
                          {"distinct_sources", uint64_t(h.peers_in.estimate() + 0.5)}};
            // (peers_in is a coarser sketch than a flood target's: the
            // newest window's estimate stands.)
            f.top_sources = top;
            engine.report(std::move(f));
        }
    });
}

} // namespace sg::detectors
