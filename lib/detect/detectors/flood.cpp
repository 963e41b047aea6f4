#include "detect/detectors/flood.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace sg::detectors {

namespace {

struct FloodSpec {
    const char* type;
    const char* unit;                  // what is counted, for the threshold text
    double Thresholds::*rate;
};

constexpr FloodSpec kSpecs[] = {
    {"syn_flood", "SYN", &Thresholds::syn_flood_rate},
    {"udp_flood", "UDP packets", &Thresholds::udp_flood_rate},
    {"icmp_flood", "ICMP packets", &Thresholds::icmp_flood_rate},
    {"fragment_flood", "fragments", &Thresholds::fragment_flood_rate},
};

uint64_t counted(const TrafficCounters& c, FloodKind kind) {
    switch (kind) {
    case FloodKind::syn: return c.syn;
    case FloodKind::udp: return c.udp;
    case FloodKind::icmp: return c.icmp;
    case FloodKind::fragment: return c.fragments;
    }
    return 0;
}

} // namespace

AttributionEnd flood_source(const DetectionEngine& engine, const WindowSummary& w, const IpAddress& target,
                            const std::vector<Contributor>& top, uint64_t total) {
    AttributionEnd src;
    if (total == 0) return src;
    if (!top.empty() && top.front().packets * 2 >= total) {
        src.ip = top.front().ip;
        src.deployment = engine.deployment_of(top.front().ip);
        return src;
    }
    // Many senders: the side is ours when protected hosts sent most of it,
    // counted over every pair the table kept (the reflectors of an internal
    // amplification need not be among the top few). Named after the
    // deployment that sent the most.
    uint64_t from_protected = 0;
    uint64_t best = 0;
    IpAddress best_ip;
    w.pairs.for_each([&](const auto& e) {
        if (!(e.key.dst == target)) return;
        const DeploymentId d = engine.deployment_of(e.key.src);
        if (d == kNoDeployment) return;
        const uint64_t lower = e.count - e.error;
        from_protected += lower;
        if (lower > best || (lower == best && e.key.src < best_ip)) {
            best = lower;
            best_ip = e.key.src;
            src.deployment = d;
        }
    });
    if (from_protected * 2 < total) src.deployment = kNoDeployment;
    return src;
}

nlohmann::json contributors_json(const std::vector<Contributor>& top) {
    nlohmann::json j = nlohmann::json::array();
    for (const Contributor& c : top) j.push_back({{"ip", c.ip.to_string()}, {"packets", c.packets}});
    return j;
}

void detect_flood(DetectorContext& ctx, FloodKind kind) {
    const FloodSpec& spec = kSpecs[unsigned(kind)];
    DetectionEngine& engine = ctx.engine;
    ctx.window.targets.for_each([&](const auto& entry) {
        const AddressKey& key = entry.key;
        const TargetStats& t = entry.value;
        const uint64_t n = counted(t.in, kind);
        const double rate = double(n) / ctx.seconds;
        const DeploymentId target_dep = engine.deployment_of(key.ip);
        // A first, cheap test with the target's thresholds; the source's
        // deployment (outbound floods) is only known after looking at the pairs.
        const Thresholds& pre = engine.thresholds(target_dep);
        if (rate < std::min(pre.*spec.rate, pre.flood_relative_min_rate)) return;

        const std::vector<Contributor> top = engine.top_sources(ctx.window, key.ip, t.in.packets, 10);
        const AttributionEnd source = flood_source(engine, ctx.window, key.ip, top, t.in.packets);
        const Thresholds& th = engine.thresholds(source.deployment, target_dep);
        if (kind == FloodKind::syn && double(t.synack_out) > th.syn_flood_max_answered * double(n)) return;

        std::string why;
        if (rate >= th.*spec.rate) {
            why = fmt::format("{} to one address >= {:g}/s", spec.unit, th.*spec.rate);
        } else if (target_dep != kNoDeployment && rate >= th.flood_relative_min_rate) {
            Nanos observed = 0;
            const double normal = engine.baseline_rate(key.ip, &observed);
            if (double(observed) < th.baseline_half_life * double(kNsPerSec) || rate < th.flood_relative_factor * normal)
                return;
            why = fmt::format("{} >= {:g}x the target's usual {:.0f} packets/s (and >= {:g}/s)", spec.unit,
                              th.flood_relative_factor, normal, th.flood_relative_min_rate);
        } else {
            return;
        }
        Finding f;
        f.type = spec.type;
        f.detector = spec.type;
        f.source = source;
        f.target = {key.ip, target_dep};
        f.idle = th.flood_idle;
        f.threshold = std::move(why);
        f.evidence = {{"packets", n},
                      {"bytes", t.in.bytes},
                      {"peak_pps", uint64_t(rate + 0.5)},
                      {"distinct_sources", uint64_t(t.sources.estimate() + 0.5)}};
        if (kind == FloodKind::syn) f.evidence["synack_replies"] = t.synack_out;
        f.top_sources = top;
        f.sources = &t.sources;
        engine.report(std::move(f));
    });
}

} // namespace sg::detectors
