// safeguard replay: the offline job. Captures go through DPDK's own pcap
// driver into the same pipeline as live traffic, in packet time.

#include <fmt/format.h>

#include "app/safeguard/commands.hpp"
#include "app/safeguard/session.hpp"
#include "core/log.hpp"

namespace sg::app {

int replay_main(const ReplayOptions& opts) {
    auto cfg = effective_config(opts.common);
    if (!cfg) {
        log::error("{}", cfg.error().message);
        return kExitBadInput;
    }
    // Replay reads captures, not the configured ports, and only observes.
    cfg->mode = Mode::tap;
    cfg->ports.clear();
    cfg->inline_pairs.clear();
    cfg->simulate_ips = opts.simulate_ips;
    cfg->stage = opts.common.stage;

    std::vector<CaptureInfo> captures;
    std::vector<PipelineInput> inputs;
    for (const std::string& path : opts.captures) {
        // DPDK device arguments are comma-separated key=value pairs.
        if (path.find(',') != std::string::npos) {
            log::error("{}: capture paths with a comma cannot be handed to DPDK's pcap driver; "
                       "rename or link the file",
                       path);
            return kExitBadInput;
        }
        auto info = probe_capture(path);
        if (!info) {
            log::error("{}", info.error().message);
            return kExitBadInput;
        }
        if (info->damaged)
            log::warn("{}: damaged capture: {} readable records, then: {}", path, info->packets,
                      info->damage);
        inputs.push_back({path, fmt::format("net_pcap{},rx_pcap={}", inputs.size(), path), info->packets,
                          info->link});
        captures.push_back(std::move(*info));
    }

    if (!opts.inline_out.empty()) {
        if (opts.inline_out.find(',') != std::string::npos) {
            log::error("--inline-out {}: a path with a comma cannot be handed to DPDK's pcap driver", opts.inline_out);
            return kExitBadInput;
        }
        // As an inline appliance: what passes leaves through the first
        // capture's port, written to the file, whichever capture it came from.
        cfg->mode = Mode::inline_;
        inputs[0].device += ",tx_pcap=" + opts.inline_out;
        for (size_t i = 1; i < inputs.size(); ++i) cfg->inline_pairs.emplace_back(inputs[i].name, inputs[0].name);
        cfg->inline_pairs.emplace_back(inputs[0].name, inputs[0].name);
    }
    if (!opts.state_dir.empty()) {
        cfg->state_dir = opts.state_dir;
        cfg->state_dir_set = true;
    }
    RunExtras extras;
    extras.actions = opts.actions;

    if (auto ok = start_eal(*cfg, opts.common.eal); !ok) {
        log::error("{}", ok.error().message);
        return kExitFailure;
    }
    return run_pipeline(*cfg, inputs, /*replay=*/true, captures, extras);
}

} // namespace sg::app
