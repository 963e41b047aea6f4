// safeguard run: appliance mode. Ports come from the config (PCI NICs in
// production, any DPDK vdev in tests); runs until SIGINT or SIGTERM.

#include "app/safeguard/commands.hpp"
#include "app/safeguard/session.hpp"
#include "core/log.hpp"

namespace sg::app {

int run_main(const RunOptions& opts) {
    if (opts.common.config.empty()) {
        log::error("run: --config FILE is required (it names the ports)");
        return kExitBadInput;
    }
    auto cfg = effective_config(opts.common);
    if (!cfg) {
        log::error("{}", cfg.error().message);
        return kExitBadInput;
    }
    cfg->stage = opts.common.stage;
    if (cfg->ports.empty()) {
        log::error("{}: no ports configured; appliance mode needs at least one", cfg->source);
        return kExitBadInput;
    }
    // Config ports decode as Ethernet, whatever the device: a net_pcap
    // rx_pcap= file given here must be an Ethernet capture (replay is the
    // way to read captures of other link types).
    std::vector<PipelineInput> inputs;
    for (const PortConfig& port : cfg->ports) inputs.push_back({port.name, port.device, 0});

    if (auto ok = start_eal(*cfg, opts.common.eal); !ok) {
        log::error("{}", ok.error().message);
        return kExitFailure;
    }
    return run_pipeline(*cfg, inputs, /*replay=*/false, {});
}

} // namespace sg::app
