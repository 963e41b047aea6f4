#include "report/report.hpp"

#include <fmt/format.h>

#include "flow/flow_table.hpp"

namespace sg {

namespace {

nlohmann::json counters_json(const WorkerCounters& c) {
    nlohmann::json j;
#define SG_COUNTER_JSON(name, help) j[#name] = c.name;
    SG_WORKER_COUNTERS(SG_COUNTER_JSON)
#undef SG_COUNTER_JSON
    return j;
}

nlohmann::json flow_json(const FlowSummary& s) {
    const FlowEndRecord& f = s.record;
    const bool a_first = f.initiator_is_a;
    nlohmann::json j = {
        {"flow_id", flow_output_id(f)},
        {"src_ip", (a_first ? f.key.a : f.key.b).to_string()},
        {"dest_ip", (a_first ? f.key.b : f.key.a).to_string()},
        {"proto", f.key.proto},
        {"packets", f.packets[0] + f.packets[1]},
        {"bytes", s.total_bytes()},
        {"start", format_timestamp(f.first_seen)},
        {"end", format_timestamp(f.last_seen)},
    };
    if (f.key.proto == kProtoTcp || f.key.proto == kProtoUdp) {
        j["src_port"] = a_first ? f.key.port_a : f.key.port_b;
        j["dest_port"] = a_first ? f.key.port_b : f.key.port_a;
    }
    if (f.key.proto == kProtoTcp) j["tcp_state"] = tcp_state_name(TcpState(f.tcp_state));
    if (f.key.tunnel_id) j["tunnel_id"] = f.key.tunnel_id;
    return j;
}

} // namespace

nlohmann::json build_report(const ReportContext& ctx, const PipelineSnapshot& snap,
                            const ReporterResults& results) {
    const WorkerCounters& t = snap.total;
    nlohmann::json r;
    r["mode"] = ctx.mode;
    if (ctx.interrupted) r["interrupted"] = true;

    nlohmann::json inputs = nlohmann::json::array();
    for (const CaptureInfo& c : ctx.captures) {
        nlohmann::json in = {{"file", c.path}, {"packets", c.packets}};
        if (c.damaged) in["damaged"] = c.damage;
        inputs.push_back(in);
    }
    r["inputs"] = inputs;

    r["packets"] = t.packets;
    r["bytes"] = t.bytes;
    r["flows"] = t.flows_created;
    r["tunnel_flows"] = results.tunnel_flows;  // outer flows of tunnels, merged over the workers
    r["drops"] = results.drops;                // inline, or simulated (--simulate-ips)
    // Each datagram's fragments meet on one worker, so these do not depend
    // on the number of workers; timeouts and a full table do (runtime).
    r["defrag"] = {{"reassembled", t.defrag_reassembled}, {"overlaps", t.defrag_overlaps},
                   {"invalid", t.defrag_invalid}, {"too_large", t.defrag_too_large},
                   {"tunnelled", t.defrag_tunnelled}};
    r["protocols"] = {{"ipv4", t.ipv4}, {"ipv6", t.ipv6}, {"arp", t.arp}, {"other_l3", t.other_l3},
                      {"tcp", t.tcp}, {"udp", t.udp}, {"icmp", t.icmp}, {"icmpv6", t.icmpv6},
                      {"other_l4", t.other_l4}, {"vlan", t.vlan}, {"fragments", t.fragments}};
    nlohmann::json tunnels = nlohmann::json::object();
    for (unsigned i = 1; i < kTunnelTypes; ++i)
        if (t.tunnelled[i]) tunnels[tunnel_type_name(TunnelType(i))] = t.tunnelled[i];
    r["protocols"]["tunnels"] = tunnels;

    nlohmann::json anomalies = nlohmann::json::object();
    for (unsigned i = 1; i < kAnomalyCount; ++i)
        if (t.anomalies[i]) anomalies[anomaly_name(Anomaly(i))] = t.anomalies[i];
    r["anomalies"] = anomalies;

    nlohmann::json top = nlohmann::json::array();
    for (const FlowSummary& s : results.top_flows) top.push_back(flow_json(s));
    r["top_flows"] = top;

    nlohmann::json alerts = nlohmann::json::array();
    for (const auto& [sid, c] : results.alerts)
        alerts.push_back({{"sid", sid}, {"gid", c.gid}, {"rev", c.rev}, {"msg", c.msg},
                          {"classtype", c.classtype}, {"count", c.count}});
    r["alerts"] = alerts;
    // Logged with eve output only (the HTTP parser runs for it).
    r["http"] = {{"transactions", results.http_transactions}, {"files", results.http_files}};
    r["attributions"] = results.attributions;
    const DetectionCounters& d = results.detection;
    r["detection"] = {{"windows", d.windows},
                      {"attributions", d.attributions},
                      {"transit_packets", d.transit_packets},
                      {"hosts_overflow", d.hosts_overflow},
                      {"activity_evictions", d.activity_evictions},
                      {"late_summaries", d.late_summaries}};
    r["incidents"] = results.incidents;
    r["exceptions"] = results.exceptions;

    // Figures that depend on the number of workers or on timing.
    nlohmann::json workers = nlohmann::json::array();
    for (size_t i = 0; i < snap.workers.size(); ++i) {
        nlohmann::json w = counters_json(snap.workers[i]);
        w["id"] = i;
        workers.push_back(w);
    }
    r["runtime"] = {
        {"workers", workers},
        {"software_dispatch", ctx.software_dispatch},
        {"flows_expired", t.flows_expired},
        {"flows_evicted", t.flows_evicted},
        {"defrag_timed_out", t.defrag_timed_out},
        {"defrag_table_full", t.defrag_table_full},
        {"tunnel_flow_parts", results.tunnel_flow_parts},
        {"alert_packets_lost", results.alert_packets_lost},
        {"flow_records", results.records},
        {"window_summaries", results.detection.summaries},
        {"alerts_gated", results.alerts_gated},
        {"alerts_suppressed", results.alerts_suppressed},
        {"alerts_rate_filtered", results.alerts_rate_filtered},
        {"threshold_table_full", results.threshold_table_full},
        {"alert_order_overflow", results.alert_order_overflow},
        {"alerts_unknown_rule", results.alerts_unknown_rule},
        {"rules", {{"generation", ctx.rules_generation},
                   {"reloads", ctx.rules_reloads},
                   {"reload_errors", ctx.rules_reload_errors},
                   {"versions_freed", ctx.rules_versions_freed}}},
        {"ring_drops", t.ring_drops},
        {"oversize", t.oversize},
        // In dispatch mode workers hand packets to the dispatcher, which may
        // still fail to send some: those are not forwarded.
        {"forwarded", t.forwarded - snap.dispatcher.tx_drops},
        {"tx_drops", t.tx_drops + snap.dispatcher.tx_drops},
        {"rx_nombuf", snap.rx_nombuf},
        {"rx_errors", snap.rx_errors},
        {"rx_missed", snap.rx_missed},
        {"dispatch_ring_full_drops", snap.dispatcher.ring_full_drops},
        {"dispatch_ring_full_waits", snap.dispatcher.ring_full_waits},
        {"dispatch_lockstep_waits", snap.dispatcher.lockstep_waits},
        {"blocked", t.blocked},
        {"evidence_packets", t.evidence_packets},
        {"incidents", results.incident_counters},
    };
    return r;
}

nlohmann::json stats_event(const nlohmann::json& r, double uptime_seconds, Nanos timestamp) {
    const auto& p = r["protocols"];
    const auto& rt = r["runtime"];
    auto tunnel = [&](const char* name) -> uint64_t {
        return p["tunnels"].contains(name) ? p["tunnels"][name].get<uint64_t>() : 0;
    };
    uint64_t alerts = 0;
    for (const auto& a : r["alerts"]) alerts += a["count"].get<uint64_t>();
    nlohmann::json decoder = {
        {"pkts", r["packets"]}, {"bytes", r["bytes"]}, {"ipv4", p["ipv4"]}, {"ipv6", p["ipv6"]},
        {"tcp", p["tcp"]}, {"udp", p["udp"]}, {"icmpv4", p["icmp"]}, {"icmpv6", p["icmpv6"]},
        {"vlan", p["vlan"]}, {"vxlan", tunnel("vxlan")}, {"geneve", tunnel("geneve")},
        {"gre", tunnel("gre")}, {"erspan", tunnel("erspan")}, {"event", r["anomalies"]}};
    nlohmann::json stats = {
        {"uptime", uint64_t(uptime_seconds)},
        {"capture", {{"kernel_packets", r["packets"]}, {"kernel_drops", rt["rx_missed"]}}},
        {"decoder", decoder},
        {"flow", {{"total", r["flows"]}, {"evicted", rt["flows_evicted"]}, {"timeout", rt["flows_expired"]}}},
        {"detect", {{"alert", alerts}, {"alerts_suppressed", rt["alerts_gated"]}}},
    };
    return {{"timestamp", format_timestamp(timestamp)}, {"event_type", "stats"}, {"stats", stats}};
}

std::string human_summary(const nlohmann::json& r) {
    std::string out;
    auto line = [&](std::string s) { out += s + '\n'; };
    if (r.contains("interrupted"))
        line("Interrupted before the end of the input: the figures cover what was read.");
    line(fmt::format("Safeguard {}: {} packets, {} bytes, {} flows", r["mode"].get<std::string>(),
                     r["packets"].get<uint64_t>(), r["bytes"].get<uint64_t>(), r["flows"].get<uint64_t>()));
    const auto& p = r["protocols"];
    line(fmt::format("  protocols: IPv4 {}, IPv6 {}, ARP {}, other {} | TCP {}, UDP {}, ICMP {}, ICMPv6 {}",
                     p["ipv4"].get<uint64_t>(), p["ipv6"].get<uint64_t>(), p["arp"].get<uint64_t>(),
                     p["other_l3"].get<uint64_t>(), p["tcp"].get<uint64_t>(), p["udp"].get<uint64_t>(),
                     p["icmp"].get<uint64_t>(), p["icmpv6"].get<uint64_t>()));
    if (!p["tunnels"].empty()) {
        std::string t;
        for (const auto& [k, v] : p["tunnels"].items()) t += fmt::format(" {} {}", k, v.get<uint64_t>());
        line("  tunnels:" + t);
    }
    if (r["anomalies"].empty()) {
        line("  anomalies: none");
    } else {
        std::string a;
        for (const auto& [k, v] : r["anomalies"].items()) a += fmt::format(" {} {}", k, v.get<uint64_t>());
        line("  anomalies:" + a);
    }
    for (const auto& in : r["inputs"])
        if (in.contains("damaged"))
            line(fmt::format("  {}: damaged capture, read up to the broken record ({})",
                             in["file"].get<std::string>(), in["damaged"].get<std::string>()));
    const auto& top = r["top_flows"];
    for (size_t i = 0; i < top.size() && i < 3; ++i) {
        const auto& f = top[i];
        auto endpoint = [&](const char* ip, const char* port) {
            return f.contains(port) ? fmt::format("{}:{}", f[ip].get<std::string>(), f[port].get<unsigned>())
                                    : f[ip].get<std::string>();
        };
        line(fmt::format("  top flow: {} -> {} proto {}: {} packets, {} bytes", endpoint("src_ip", "src_port"),
                         endpoint("dest_ip", "dest_port"), f["proto"].get<unsigned>(),
                         f["packets"].get<uint64_t>(), f["bytes"].get<uint64_t>()));
    }
    uint64_t alert_total = 0;
    for (const auto& a : r["alerts"]) alert_total += a["count"].get<uint64_t>();
    for (size_t i = 0; i < r["alerts"].size() && i < 5; ++i) {
        const auto& a = r["alerts"][i];
        line(fmt::format("  alert: [{}:{}] {} x{}", a["gid"].get<uint32_t>(), a["sid"].get<uint32_t>(),
                         a["msg"].get<std::string>(), a["count"].get<uint64_t>()));
    }
    // Who attacks whom: the first few attributions, one line each.
    auto end = [](const nlohmann::json& e) {
        const std::string ip = e["ip"].is_null() ? std::string("many") : e["ip"].get<std::string>();
        return e["deployment"].is_null() ? ip : fmt::format("{} ({})", ip, e["deployment"].get<std::string>());
    };
    for (size_t i = 0; i < r["attributions"].size() && i < 5; ++i) {
        const auto& a = r["attributions"][i];
        const std::string service = a["service"].is_null() ? "" : fmt::format(" {}", a["service"].get<std::string>());
        line(fmt::format("  attribution: {}{} {}: {} -> {}", a["type"].get<std::string>(), service,
                         a["direction"].get<std::string>(), end(a["source"]), end(a["target"])));
    }
    // The incidents: state, and what comes next (deadline, blocklist).
    for (size_t i = 0; i < r["incidents"].size() && i < 5; ++i) {
        const auto& inc = r["incidents"][i];
        auto side = [](const nlohmann::json& e) {
            if (!e["deployment"].is_null()) return e["deployment"].get<std::string>();
            return e["ip"].is_null() ? std::string("many") : e["ip"].get<std::string>();
        };
        std::string more;
        if (!inc["deadline"].is_null()) more = ", deadline " + inc["deadline"].get<std::string>();
        size_t sent = 0;
        for (const auto& n : inc["notifications"]) sent += !n["sent"].is_null();
        line(fmt::format("  incident {}: {} {} {} -> {}: {} ({} of {} owner e-mails sent{})", inc["id"].get<uint64_t>(),
                         inc["type"].get<std::string>(), inc["direction"].get<std::string>(), side(inc["source"]),
                         side(inc["target"]), inc["state"].get<std::string>(), sent, inc["notifications"].size(),
                         more));
    }
    line(fmt::format("  found: {} alerts, {} attributions, {} incidents", alert_total,
                     r["attributions"].size(), r["incidents"].size()));
    return out;
}

} // namespace sg
