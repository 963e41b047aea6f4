// signature: rule hits grouped per rule class, initiator and responder.
// The first hit of a class whose priority is at most
// signature.max_priority (1 high .. 4 low; policy and informational
// classes are 3 and 4) opens an attribution; later hits extend it.
// Reconnaissance classes open none: they are what port_scan, sweep and
// bruteforce measure, and their sids join those attributions instead.
// The flow's initiator is the source: the miner that connects to its pool,
// the exploit's sender, the infected host calling home — whichever side the
// rule itself watched.

#include <fmt/format.h>

#include "detect/detectors/registry.hpp"

namespace sg::detectors {

namespace {

bool is_recon_class(const std::string& c) {
    return c == "attempted-recon" || c == "network-scan" || c == "successful-recon-limited" ||
           c == "successful-recon-largescale";
}

} // namespace

void signature(DetectionEngine& engine, const AlertFacts& alert) {
    const DeploymentId src = engine.deployment_of(alert.attacker);
    const DeploymentId dst = engine.deployment_of(alert.victim);
    if (src == kNoDeployment && dst == kNoDeployment) return;
    const Thresholds& th = engine.thresholds(src, dst);
    if (double(alert.priority) > th.signature_max_priority) return;
    if (alert.classtype && is_recon_class(*alert.classtype)) {
        // Scanning and login probing are judged by behaviour (port_scan,
        // sweep, bruteforce), which counts them; the rule only adds its
        // sid to what behaviour found about the same pair.
        engine.add_sid(alert.attacker, alert.victim, alert.sid);
        return;
    }
    Finding f;
    f.type = "signature";
    f.detector = "signature";
    f.source = {alert.attacker, src};
    f.target = {alert.victim, dst};
    f.group = alert.classtype ? *alert.classtype : std::string();
    f.idle = th.signature_idle;
    f.threshold = fmt::format("a rule of priority <= {:g} matched", th.signature_max_priority);
    f.evidence = {{"alerts", 1}, {"class", f.group}, {"priority", alert.priority}};
    f.sid = alert.sid;
    engine.report(std::move(f));
}

} // namespace sg::detectors
