#include "config/config_json.hpp"

namespace sg {

namespace {

using nlohmann::json;

json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

} // namespace

json config_to_json(const Config& c) {
    json ports = json::array();
    for (const PortConfig& p : c.ports) ports.push_back({{"name", p.name}, {"device", p.device}});
    json pairs = json::array();
    for (const auto& [a, b] : c.inline_pairs) pairs.push_back({a, b});
    json deployments = json::array();
    for (const Deployment& d : c.deployments) {
        json prefixes = json::array();
        for (const Prefix& p : d.prefixes) prefixes.push_back(p.to_string());
        json thresholds = json::object();
        const auto params = threshold_params();
        for (const ThresholdOverride& o : d.thresholds)
            if (o.param < params.size()) thresholds[params[o.param].detector][params[o.param].name] = o.value;
        deployments.push_back({{"name", d.name}, {"owner", text_or_null(d.owner)}, {"prefixes", prefixes},
                               {"thresholds", thresholds}});
    }
    const Sizes& s = c.sizes;
    return {
        {"source", text_or_null(c.source)},
        {"mode", mode_name(c.mode)},
        {"workers", c.workers},
        {"ports", ports},
        {"inline_pairs", pairs},
        {"sizes", {{"mbufs", s.mbufs}, {"mbuf_cache", s.mbuf_cache}, {"rx_descriptors", s.rx_descriptors},
                   {"tx_descriptors", s.tx_descriptors}, {"flow_table", s.flow_table}, {"ring", s.ring},
                   {"burst", s.burst}, {"stream_buffers", s.stream_buffers},
                   {"stream_buffer_size", s.stream_buffer_size}, {"stream_chunk", s.stream_chunk}}},
        {"flow_timeout", {{"tcp", format_duration(c.flow_timeout.tcp)},
                          {"tcp_closed", format_duration(c.flow_timeout.tcp_closed)},
                          {"udp", format_duration(c.flow_timeout.udp)},
                          {"other", format_duration(c.flow_timeout.other)}}},
        {"outputs", {{"report", text_or_null(c.outputs.report)}, {"eve", text_or_null(c.outputs.eve)}}},
        {"deployments", deployments},
        {"control", {{"socket", text_or_null(c.control.socket)}, {"group", text_or_null(c.control.group)}}},
        {"metrics", c.metrics.enabled ? json{{"listen", c.metrics.listen()}} : json(nullptr)},
        {"rules", {{"files", c.rules.files},
                   {"classification", text_or_null(c.rules.classification)},
                   {"threshold_file", text_or_null(c.rules.threshold_file)},
                   {"address_vars", c.rules.address_vars},
                   {"port_vars", c.rules.port_vars}}},
        {"detect", {{"window", format_duration(c.detect.window)}, {"thresholds", text_or_null(c.detect.thresholds)}}},
        {"notify", {{"smtp_url", text_or_null(c.notify.smtp_url)}, {"from", text_or_null(c.notify.from)},
                    {"reply_to", text_or_null(c.notify.reply_to)}}},
        {"policy", {{"deadline", format_duration(c.policy.deadline)},
                    {"max_extension", format_duration(c.policy.max_extension)},
                    {"quiet_period", format_duration(c.policy.quiet_period)},
                    {"evidence_packets", c.policy.evidence_packets}}},
        {"enforcement", {{"hook", text_or_null(c.enforcement.hook)},
                         {"hook_timeout", format_duration(c.enforcement.hook_timeout)}}},
        {"fleet", c.fleet.enabled ? nlohmann::json{{"servers", c.fleet.servers},
                                                   {"site", c.fleet.site},
                                                   {"name", c.fleet.name},
                                                   {"appliances", c.fleet.appliances},
                                                   {"replicas", c.fleet.replicas},
                                                   {"backlog_mib", c.fleet.backlog_mib},
                                                   {"lease", format_duration(c.fleet.lease)},
                                                   {"appliance_timeout", format_duration(c.fleet.appliance_timeout)}}
                                  : nlohmann::json(nullptr)},
        {"state_dir", c.state_dir},
        {"eal", c.eal},
    };
}

} // namespace sg
