#include "app/safeguard/control.hpp"

#include "app/safeguard/incident_commands.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "config/config_json.hpp"
#include "control/dashboard.hpp"
#include "control/prometheus.hpp"
#include "core/log.hpp"
#include "detect/detectors/registry.hpp"
#include "incident/incident_json.hpp"
#include "respond/desk.hpp"

#ifndef SG_VERSION
#define SG_VERSION "unknown"
#endif

namespace sg::app {

namespace {

using nlohmann::json;
using control::Args;
using control::ArgError;
using control::Caller;

constexpr auto kReporterTimeout = std::chrono::seconds(10);

Nanos wall_now() {
    return Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
}

json worker_counters_json(const WorkerCounters& c) {
    json j;
#define SG_COUNTER_JSON(name, help) j[#name] = c.name;
    SG_WORKER_COUNTERS(SG_COUNTER_JSON)
#undef SG_COUNTER_JSON
    json anomalies = json::object();
    for (unsigned i = 1; i < kAnomalyCount; ++i)
        if (c.anomalies[i]) anomalies[anomaly_name(Anomaly(i))] = c.anomalies[i];
    j["anomalies"] = anomalies;
    return j;
}

json port_json(const PortSnapshot& p) {
    return {{"name", p.name},           {"rx_packets", p.rx_packets}, {"rx_bytes", p.rx_bytes},
            {"tx_packets", p.tx_packets}, {"tx_bytes", p.tx_bytes},   {"rx_missed", p.rx_missed},
            {"rx_errors", p.rx_errors},   {"tx_errors", p.tx_errors}, {"rx_nombuf", p.rx_nombuf}};
}

// Packets that were lost, not dropped by policy (rules, the blocklist).
uint64_t lost_packets(const PipelineSnapshot& s) {
    return s.rx_missed + s.rx_nombuf + s.rx_errors + s.dispatcher.ring_full_drops + s.total.tx_drops +
           s.dispatcher.tx_drops;
}

json flow_row(const FlowSummary& s) {
    const FlowEndRecord& f = s.record;
    const bool a_first = f.initiator_is_a;
    json j = {{"src_ip", (a_first ? f.key.a : f.key.b).to_string()},
              {"dest_ip", (a_first ? f.key.b : f.key.a).to_string()},
              {"proto", f.key.proto},
              {"packets", f.packets[0] + f.packets[1]},
              {"bytes", s.total_bytes()},
              {"start", format_timestamp(f.first_seen)},
              {"end", format_timestamp(f.last_seen)}};
    if (f.key.proto == 6 || f.key.proto == 17) {
        j["src_port"] = a_first ? f.key.port_a : f.key.port_b;
        j["dest_port"] = a_first ? f.key.port_b : f.key.port_a;
    }
    return j;
}

} // namespace

DaemonControl::DaemonControl(ControlSetup setup) : setup_(std::move(setup)) {
    started_ = std::chrono::steady_clock::now();
    started_wall_ = wall_now();
    base_.at = started_;
}

Result<std::unique_ptr<DaemonControl>> DaemonControl::open(ControlSetup setup) {
    std::unique_ptr<DaemonControl> c(new DaemonControl(std::move(setup)));
    c->register_commands();
    const Config& cfg = *c->setup_.cfg;
    if (!cfg.control.socket.empty()) {
        control::ServerOptions o;
        o.path = cfg.control.socket;
        o.group = cfg.control.group;
        auto server = control::ControlServer::open(o, c->table_);
        if (!server) return server.error();
        c->server_ = std::move(*server);
    }
    if (cfg.metrics.enabled) {
        DaemonControl* self = c.get();
        control::HttpRoutes routes;
        routes.metrics = [self] { return self->metrics(); };
        routes.dashboard = [self] { return control::render_dashboard(self->dashboard_data()); };
        routes.api = [self](const std::string& name) -> Result<json> {
            if (name == "dashboard") return self->dashboard_data();
            if (name == "status") return self->status();
            if (name == "stats") return self->stats(false);
            const control::Command* cmd = self->table_.find(name);
            if (name == "posture" && cmd) return cmd->run(Args(json::object()), Caller{0, 0, 0, "http"});
            return make_error(fmt::format("no API named '{}' (dashboard, status, stats, posture)", name));
        };
        auto http = control::HttpListener::start(cfg.metrics.host, cfg.metrics.port, routes);
        if (!http) return http.error();
        c->http_ = std::move(*http);
        log::info("metrics and dashboard on http://{}/", cfg.metrics.listen());
    }
    return c;
}

DaemonControl::~DaemonControl() { stop(); }

void DaemonControl::start() {
    if (!server_) return;
    server_->start();
    log::info("control socket {} (safeguardctl --socket {})", server_->path(), server_->path());
}

void DaemonControl::stop() {
    if (server_) server_->stop();
    if (http_) http_->stop();
}

Result<json> DaemonControl::on_reporter(const std::function<Result<json>()>& fn) {
    Result<json> out = make_error("not run");
    const bool ran = setup_.reporter->call(
        [&] {
            try {
                out = fn();
            } catch (const std::exception& e) {
                out = make_error(fmt::format("failed: {}", e.what()));
            }
        },
        kReporterTimeout);
    if (!ran) return make_error("the reporter thread did not take the request in time (or has stopped); nothing was done");
    return out;
}

PipelineSnapshot DaemonControl::snapshot() {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    return setup_.pipeline->snapshot();
}

json DaemonControl::rates(const PipelineSnapshot& s) {
    std::lock_guard<std::mutex> lock(rates_mutex_);
    const auto now = std::chrono::steady_clock::now();
    Sample cur{now, s.total.packets, s.total.bytes, s.total.alerts, lost_packets(s)};
    const double dt = std::chrono::duration<double>(now - base_.at).count();
    // Rates over intervals of at least a second; until the first one ends,
    // since the start.
    if (dt >= 1.0 || last_rates_.is_null()) {
        const double d = std::max(dt, 1e-3);
        last_rates_ = {{"packets_per_s", double(cur.packets - base_.packets) / d},
                       {"bits_per_s", 8.0 * double(cur.bytes - base_.bytes) / d},
                       {"alerts_per_s", double(cur.alerts - base_.alerts) / d},
                       {"drops_per_s", double(cur.drops - base_.drops) / d},
                       {"interval_s", d}};
        if (dt >= 1.0) base_ = cur;
    }
    return last_rates_;
}

json DaemonControl::status() {
    const Config& cfg = *setup_.cfg;
    Pipeline& p = *setup_.pipeline;
    json ports = json::array();
    for (const PortInfo& port : p.ports())
        ports.push_back({{"name", port.name},
                         {"device", port.device},
                         {"driver", port.driver},
                         {"port_id", port.port_id},
                         {"rx_queues", port.rx_queues},
                         {"tx_queues", port.tx_queues},
                         {"rss", port.rss}});
    const auto db = setup_.reloader->running();
    json j = {
        {"version", SG_VERSION},
        {"pid", getpid()},
        {"command", setup_.replay ? "replay" : "run"},
        {"mode", mode_name(cfg.mode)},
        {"started", format_timestamp(started_wall_)},
        {"uptime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()},
        {"ports", ports},
        {"workers", p.workers()},
        {"dispatch", p.software_dispatch() ? "software" : "hardware RSS"},
        {"rules", {{"generation", setup_.reloader->generation()},
                   {"rules", db ? db->size() : 0},
                   {"reloads", setup_.reloader->reloads()},
                   {"reload_errors", setup_.reloader->errors()},
                   {"files", cfg.rules.files}}},
        // The configuration is read once, at start: generation 1 for the life of the process.
        {"config", {{"generation", 1}, {"source", cfg.source.empty() ? json(nullptr) : json(cfg.source)}}},
        {"deployments", cfg.deployments.size()},
        {"control", {{"socket", cfg.control.socket.empty() ? json(nullptr) : json(cfg.control.socket)},
                     {"requests", server_ ? server_->counters().requests.load() : 0},
                     {"refused", server_ ? server_->counters().refused.load() : 0}}},
        {"metrics", cfg.metrics.enabled ? json(cfg.metrics.listen()) : json(nullptr)},
    };
    if (setup_.reporter->incidents()) {
        auto counts = on_reporter([&]() -> Result<json> {
            const respond::IncidentDesk* desk = setup_.reporter->incidents();
            json by_state = json::object();
            uint64_t open = 0;
            for (const auto& [id, inc] : desk->manager().incidents()) {
                by_state[state_name(inc.state)] = by_state.value(state_name(inc.state), 0) + 1;
                if (inc.state != IncidentState::resolved) ++open;
            }
            return json{{"open", open}, {"total", desk->manager().incidents().size()}, {"by_state", by_state},
                        {"clock", format_timestamp(desk->now())}};
        });
        j["incidents"] = counts ? *counts : json{{"error", counts.error().message}};
    } else {
        j["incidents"] = nullptr;
    }
    j["fleet"] = setup_.fleet_status ? setup_.fleet_status() : json(nullptr);
    return j;
}

Result<json> DaemonControl::stats(bool sum) {
    const PipelineSnapshot s = snapshot();
    json ports = json::array();
    PortSnapshot port_total{"total"};
    for (const PortSnapshot& p : s.ports) {
        ports.push_back(port_json(p));
        port_total.rx_packets += p.rx_packets;
        port_total.rx_bytes += p.rx_bytes;
        port_total.tx_packets += p.tx_packets;
        port_total.tx_bytes += p.tx_bytes;
        port_total.rx_missed += p.rx_missed;
        port_total.rx_errors += p.rx_errors;
        port_total.tx_errors += p.tx_errors;
        port_total.rx_nombuf += p.rx_nombuf;
    }
    json workers = json::array();
    for (size_t w = 0; w < s.workers.size(); ++w) {
        json row = worker_counters_json(s.workers[w]);
        row["id"] = w;
        if (w < s.queues.size()) {
            row["record_ring"] = {{"used", s.queues[w].record_used}, {"capacity", s.queues[w].record_capacity}};
            if (s.queues[w].rx_capacity)
                row["rx_ring"] = {{"used", s.queues[w].rx_used}, {"capacity", s.queues[w].rx_capacity}};
        }
        workers.push_back(row);
    }
    const WorkerCounters& t = s.total;
    json stages = {
        {"receive", {{"rx_packets", port_total.rx_packets}, {"rx_missed", s.rx_missed}, {"rx_errors", s.rx_errors},
                     {"rx_nombuf", s.rx_nombuf}}},
        {"dispatch", setup_.pipeline->software_dispatch()
                         ? json{{"received", s.dispatcher.received},
                                {"ring_full_drops", s.dispatcher.ring_full_drops},
                                {"ring_full_waits", s.dispatcher.ring_full_waits},
                                {"lockstep_waits", s.dispatcher.lockstep_waits},
                                {"tx_sent", s.dispatcher.tx_sent},
                                {"tx_drops", s.dispatcher.tx_drops}}
                         : json(nullptr)},
        {"workers", {{"packets", t.packets}, {"bytes", t.bytes}, {"flows_active", t.flows_active},
                     {"flows_created", t.flows_created}, {"flows_evicted", t.flows_evicted},
                     {"alerts", t.alerts}, {"ring_drops", t.ring_drops}, {"windows", t.windows},
                     {"windows_dropped", t.windows_dropped}, {"rule_drops", t.rule_drops},
                     {"blocked", t.blocked}, {"forwarded", t.forwarded}, {"tx_drops", t.tx_drops}}},
    };
    auto reporter_part = on_reporter([&]() -> Result<json> {
        Reporter& r = *setup_.reporter;
        r.refresh_counters();
        const ReporterResults& res = r.results();
        uint64_t alerts = 0;
        for (const auto& [sid, c] : res.alerts) alerts += c.count;
        json out = {{"reporter", {{"records", res.records},
                                  {"alerts", alerts},
                                  {"alerts_gated", res.alerts_gated},
                                  {"alerts_suppressed", res.alerts_suppressed},
                                  {"alerts_rate_filtered", res.alerts_rate_filtered},
                                  {"alert_order_overflow", res.alert_order_overflow},
                                  {"drops", res.drops},
                                  {"http_transactions", res.http_transactions}}}};
        if (r.detection()) {
            const DetectionCounters& d = r.detection()->counters();
            out["detection"] = {{"windows", d.windows},           {"summaries", d.summaries},
                                {"late_summaries", d.late_summaries}, {"hosts_overflow", d.hosts_overflow},
                                {"activity_evictions", d.activity_evictions}, {"attributions", d.attributions}};
        }
        if (r.incidents()) out["incidents"] = r.incidents()->counters_json();
        return out;
    });
    if (reporter_part) {
        for (const auto& [k, v] : reporter_part->items()) stages[k] = v;
    } else {
        stages["reporter"] = {{"error", reporter_part.error().message}};
    }
    const json drops = {{"rx_missed", s.rx_missed},
                        {"rx_errors", s.rx_errors},
                        {"rx_nombuf", s.rx_nombuf},
                        {"dispatch_ring_full", s.dispatcher.ring_full_drops},
                        {"record_ring_full", t.ring_drops},
                        {"windows_lost", t.windows_dropped},
                        {"tx", t.tx_drops + s.dispatcher.tx_drops},
                        {"rules", t.rule_drops},
                        {"blocklist", t.blocked},
                        {"lost_packets", lost_packets(s)}};
    json out = {{"stages", stages},
                {"drops", drops},
                {"mempool", {{"in_use", s.mbufs_in_use}, {"total", s.mbufs_total}}},
                {"summed", sum}};
    if (sum) {
        out["ports"] = port_json(port_total);
        json total = worker_counters_json(t);
        unsigned rec_used = 0, rec_cap = 0;
        for (const QueueSnapshot& q : s.queues) {
            rec_used += q.record_used;
            rec_cap += q.record_capacity;
        }
        total["record_ring"] = {{"used", rec_used}, {"capacity", rec_cap}};
        out["workers"] = total;
    } else {
        out["ports"] = ports;
        out["workers"] = workers;
    }
    return out;
}

void DaemonControl::register_commands() {
    auto add = [this](const char* name, const char* help, control::CommandFn fn) {
        if (auto ok = table_.add(name, help, std::move(fn)); !ok) log::error("{}", ok.error().message);
    };
    IncidentCommandsContext incidents;
    incidents.cfg = setup_.cfg;
    incidents.on_owner = [this](const std::function<Result<json>()>& fn) { return on_reporter(fn); };
    incidents.desk = [this] { return setup_.reporter->incidents(); };
    incidents.engine = [this]() -> const DetectionEngine* { return setup_.reporter->detection(); };
    incidents.posture = [this] { return static_cast<const PostureTracker*>(setup_.posture); };
    if (!setup_.no_desk.empty()) incidents.no_desk = setup_.no_desk;
    register_incident_commands(table_, std::move(incidents));
    add("status", "uptime, mode, ports, workers, rules and config generations, incident counts",
        [this](const Args&, const Caller&) -> Result<json> { return status(); });

    add("stats", "counters per port, worker and stage, with drops and ring-full; args: sum",
        [this](const Args& args, const Caller&) -> Result<json> { return stats(args.flag("sum")); });

    add("top hosts", "the protected hosts with the most bytes over the last minute; args: n",
        [this](const Args& args, const Caller&) -> Result<json> {
            const size_t n = args.number("n", 1, 1000).value_or(10);
            if (!setup_.posture) return make_error("no deployments are configured, so no protected hosts are counted");
            return on_reporter([this, n]() -> Result<json> {
                const Config& cfg = *setup_.cfg;
                json rows = json::array();
                for (const auto& h : setup_.posture->top_hosts(n))
                    rows.push_back({{"ip", h.ip.to_string()},
                                    {"deployment", h.deployment < cfg.deployments.size()
                                                       ? json(cfg.deployments[h.deployment].name)
                                                       : json(nullptr)},
                                    {"packets_in", h.packets_in},
                                    {"bytes_in", h.bytes_in},
                                    {"packets_out", h.packets_out},
                                    {"bytes_out", h.bytes_out}});
                return json{{"span_s", double(setup_.posture->recent_span()) / double(kNsPerSec)}, {"hosts", rows}};
            });
        });

    add("top flows", "the largest ended flows by bytes, and the busiest source/target pairs of the last minute; args: n",
        [this](const Args& args, const Caller&) -> Result<json> {
            const size_t n = args.number("n", 1, 1000).value_or(10);
            return on_reporter([this, n]() -> Result<json> {
                json ended = json::array();
                for (const FlowSummary& f : setup_.reporter->results().top_flows) {
                    if (ended.size() >= n) break;
                    ended.push_back(flow_row(f));
                }
                json pairs = json::array();
                if (setup_.posture)
                    for (const auto& p : setup_.posture->top_pairs(n))
                        pairs.push_back({{"source", p.source.to_string()},
                                         {"target", p.target.to_string()},
                                         {"packets", p.packets}});
                return json{{"ended", ended}, {"active_pairs", pairs}};
            });
        });

    add("rules reload", "re-read the rule files; a file with errors is rejected (its errors returned) and the running rules stay",
        [this](const Args&, const Caller& caller) -> Result<json> {
            log::info("rules reload asked by {} (pid {})", caller.user, caller.pid);
            auto r = setup_.reloader->reload();
            if (!r) return r.error();
            const auto db = setup_.reloader->running();
            return json{{"generation", *r}, {"rules", db ? db->size() : 0}};
        });

    add("rules list", "the running rules with their alert counts; args: sid",
        [this](const Args& args, const Caller&) -> Result<json> {
            const auto only = args.number("sid", 1, UINT32_MAX);
            const auto db = setup_.reloader->running();
            std::map<uint32_t, uint64_t> alerts;
            auto counted = on_reporter([&]() -> Result<json> {
                for (const auto& [sid, c] : setup_.reporter->results().alerts) alerts[sid] = c.count;
                return json();
            });
            json rows = json::array();
            if (db)
                for (const CompiledRule& c : db->rules()) {
                    const rules::Rule& r = *c.rule;
                    if (only && r.sid != *only) continue;
                    rows.push_back({{"sid", r.sid},
                                    {"gid", r.gid},
                                    {"rev", r.rev},
                                    {"action", rules::action_name(r.action)},
                                    {"msg", r.msg},
                                    {"classtype", r.classtype},
                                    {"priority", r.priority},
                                    {"alerts", counted ? json(alerts.count(r.sid) ? alerts[r.sid] : 0) : json(nullptr)}});
                }
            if (only && rows.empty()) return make_error(fmt::format("no running rule has sid {}", *only));
            return json{{"generation", setup_.reloader->generation()}, {"files", setup_.cfg->rules.files}, {"rules", rows}};
        });

    add("config show", "the effective configuration, defaults included",
        [this](const Args&, const Caller&) -> Result<json> { return config_to_json(*setup_.cfg); });

    add("shutdown", "stop the daemon as SIGTERM does (the report is written)",
        [this](const Args&, const Caller& caller) -> Result<json> {
            log::info("shutdown asked by {} (pid {})", caller.user, caller.pid);
            if (setup_.stop) setup_.stop();
            return json{{"stopping", true}};
        });
}

nlohmann::json DaemonControl::dashboard_data() {
    const PipelineSnapshot s = snapshot();
    json data = {{"status", status()}, {"rates", rates(s)}};
    const control::Command* posture = table_.find("posture");
    auto p = posture->run(Args(json::object()), Caller{0, 0, 0, "dashboard"});
    data["posture"] = p ? *p : json{{"error", p.error().message}};
    json incidents = json::array();
    if (setup_.reporter->incidents()) {
        auto rows = on_reporter([this]() -> Result<json> {
            const respond::IncidentDesk* desk = setup_.reporter->incidents();
            json out = json::array();
            json resolved = json::array();
            const auto& all = desk->manager().incidents();
            for (auto it = all.rbegin(); it != all.rend(); ++it) {
                if (it->second.state != IncidentState::resolved) out.push_back(incident_row(it->second, desk->now()));
                else if (resolved.size() < 20) resolved.push_back(incident_row(it->second, desk->now()));
            }
            for (auto& r : resolved) out.push_back(std::move(r));
            return out;
        });
        if (rows) incidents = *rows;
    }
    data["incidents"] = incidents;
    return data;
}

std::string DaemonControl::metrics() {
    using control::PromText;
    const PipelineSnapshot s = snapshot();
    PromText m;
    m.single("safeguard_up", "gauge", "1 while the daemon runs.", 1);
    m.family("safeguard_uptime_seconds", "gauge", "Seconds since the control side started.");
    m.sample("safeguard_uptime_seconds", {},
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());

    m.family("safeguard_port_packets_total", "counter", "Packets the driver received (rx) or sent (tx), per port.");
    for (const PortSnapshot& p : s.ports) {
        m.sample("safeguard_port_packets_total", {{"port", p.name}, {"direction", "rx"}}, p.rx_packets);
        m.sample("safeguard_port_packets_total", {{"port", p.name}, {"direction", "tx"}}, p.tx_packets);
    }
    m.family("safeguard_port_bytes_total", "counter", "Bytes the driver received (rx) or sent (tx), per port.");
    for (const PortSnapshot& p : s.ports) {
        m.sample("safeguard_port_bytes_total", {{"port", p.name}, {"direction", "rx"}}, p.rx_bytes);
        m.sample("safeguard_port_bytes_total", {{"port", p.name}, {"direction", "tx"}}, p.tx_bytes);
    }
    m.family("safeguard_packets_total", "counter", "Frames the workers received, per worker.");
    for (size_t w = 0; w < s.workers.size(); ++w)
        m.sample("safeguard_packets_total", {{"worker", std::to_string(w)}}, s.workers[w].packets);
    m.family("safeguard_bytes_total", "counter", "Bytes the workers received, per worker.");
    for (size_t w = 0; w < s.workers.size(); ++w)
        m.sample("safeguard_bytes_total", {{"worker", std::to_string(w)}}, s.workers[w].bytes);

    const WorkerCounters& t = s.total;
    m.family("safeguard_drops_total", "counter", "Packets (or records) dropped, by the stage that dropped them.");
    const std::pair<const char*, uint64_t> drops[] = {
        {"nic_missed", s.rx_missed},
        {"nic_errors", s.rx_errors},
        {"no_mbuf", s.rx_nombuf},
        {"dispatch_ring_full", s.dispatcher.ring_full_drops},
        {"record_ring_full", t.ring_drops},
        {"window_lost", t.windows_dropped},
        {"tx", t.tx_drops + s.dispatcher.tx_drops},
        {"rule", t.rule_drops},
        {"blocklist", t.blocked},
    };
    for (const auto& [stage, n] : drops) m.sample("safeguard_drops_total", {{"stage", stage}}, n);

    m.family("safeguard_flows_active", "gauge", "Flows in the flow tables, per worker.");
    for (size_t w = 0; w < s.workers.size(); ++w)
        m.sample("safeguard_flows_active", {{"worker", std::to_string(w)}}, s.workers[w].flows_active);
    m.single("safeguard_flows_created_total", "counter", "Flows created.", t.flows_created);
    m.single("safeguard_flows_evicted_total", "counter", "Flows evicted because a table was full.", t.flows_evicted);
    m.single("safeguard_flows_expired_total", "counter", "Flows ended by idle timeout.", t.flows_expired);
    m.family("safeguard_anomalies_total", "counter", "Malformed or unusual frames, by reason.");
    for (unsigned i = 1; i < kAnomalyCount; ++i)
        m.sample("safeguard_anomalies_total", {{"reason", anomaly_name(Anomaly(i))}}, t.anomalies[i]);

    m.family("safeguard_ring_used", "gauge", "Entries waiting in a ring between stages, per worker.");
    m.family("safeguard_ring_capacity", "gauge", "Capacity of a ring between stages, per worker.");
    for (size_t w = 0; w < s.queues.size(); ++w) {
        const std::string id = std::to_string(w);
        m.sample("safeguard_ring_used", {{"ring", "record"}, {"worker", id}}, uint64_t(s.queues[w].record_used));
        m.sample("safeguard_ring_capacity", {{"ring", "record"}, {"worker", id}}, uint64_t(s.queues[w].record_capacity));
        if (s.queues[w].rx_capacity) {
            m.sample("safeguard_ring_used", {{"ring", "dispatch"}, {"worker", id}}, uint64_t(s.queues[w].rx_used));
            m.sample("safeguard_ring_capacity", {{"ring", "dispatch"}, {"worker", id}}, uint64_t(s.queues[w].rx_capacity));
        }
    }
    m.single("safeguard_mempool_mbufs_in_use", "gauge", "Packet buffers in use (lcore caches included).", s.mbufs_in_use);
    m.single("safeguard_mempool_mbufs", "gauge", "Packet buffers in the pool.", s.mbufs_total);

    const auto db = setup_.reloader->running();
    m.single("safeguard_rules_generation", "gauge", "The rule set generation the workers run.",
             setup_.reloader->generation());
    m.single("safeguard_rules_loaded", "gauge", "Rules in the running set.", db ? db->size() : 0);
    m.single("safeguard_rules_reloads_total", "counter", "Rule reloads that succeeded.", setup_.reloader->reloads());
    m.single("safeguard_rules_reload_errors_total", "counter", "Rule reloads rejected.", setup_.reloader->errors());
    if (server_) {
        m.single("safeguard_control_requests_total", "counter", "Control socket requests.",
                 server_->counters().requests.load());
        m.single("safeguard_control_refused_total", "counter", "Control socket connections refused (credentials).",
                 server_->counters().refused.load());
    }

    // What the reporter thread owns: alerts by class, attributions, incidents.
    auto part = on_reporter([this]() -> Result<json> {
        Reporter& r = *setup_.reporter;
        std::map<std::string, uint64_t> by_class;
        for (const auto& [sid, c] : r.results().alerts) by_class[c.classtype.empty() ? "none" : c.classtype] += c.count;
        std::map<std::pair<std::string, std::string>, uint64_t> attributions;
        if (r.detection())
            for (const Attribution* a : r.detection()->attributions())
                ++attributions[{a->type, direction_name(a->direction)}];
        std::map<std::string, uint64_t> states;
        for (IncidentState st : {IncidentState::open, IncidentState::notified, IncidentState::deadline_set,
                                 IncidentState::extended, IncidentState::excepted, IncidentState::resolved,
                                 IncidentState::deactivated, IncidentState::reactivated})
            states[state_name(st)] = 0;
        uint64_t exceptions = 0, blocked = 0;
        json counters = json::object();
        if (const respond::IncidentDesk* desk = r.incidents()) {
            for (const auto& [id, inc] : desk->manager().incidents()) ++states[state_name(inc.state)];
            for (const auto& [id, ex] : desk->manager().exceptions()) exceptions += ex.active(desk->now());
            blocked = desk->manager().deactivated_deployments().size();
            counters = desk->counters_json();
        }
        json a = json::array();
        for (const auto& [key, n] : attributions) a.push_back({key.first, key.second, n});
        return json{{"alerts", by_class}, {"attributions", a}, {"incidents", states}, {"exceptions", exceptions},
                    {"blocked", blocked}, {"desk", r.incidents() != nullptr}, {"counters", counters}};
    });
    if (part) {
        const json& j = *part;
        m.family("safeguard_alerts_total", "counter", "Alerts reported (after thresholds and suppression), by classtype.");
        for (const auto& [cls, n] : j["alerts"].items())
            m.sample("safeguard_alerts_total", {{"class", cls}}, n.get<uint64_t>());
        m.family("safeguard_attributions_total", "counter", "Attributions opened, by type and direction.");
        for (const auto& row : j["attributions"])
            m.sample("safeguard_attributions_total",
                     {{"type", row[0].get<std::string>()}, {"direction", row[1].get<std::string>()}},
                     row[2].get<uint64_t>());
        if (j["desk"].get<bool>()) {
            m.family("safeguard_incidents", "gauge", "Incidents by state.");
            for (const auto& [state, n] : j["incidents"].items())
                m.sample("safeguard_incidents", {{"state", state}}, n.get<uint64_t>());
            m.single("safeguard_exceptions_active", "gauge", "Exceptions in force.", j["exceptions"].get<uint64_t>());
            m.single("safeguard_deployments_deactivated", "gauge", "Deployments on the blocklist.",
                     j["blocked"].get<uint64_t>());
            // The state directory's health (disk full, read-only): what waits in memory.
            const json& c = j["counters"];
            m.single("safeguard_incident_journal_errors_total", "counter",
                     "Incident journal writes that failed (appends and catch-up snapshots).",
                     c.value("journal_errors", uint64_t(0)));
            m.single("safeguard_incident_journal_behind", "gauge",
                     "Incident changes held in memory only, retried until the journal takes them.",
                     c.value("journal_behind", uint64_t(0)));
            m.single("safeguard_outbox_store_errors_total", "counter", "Attempts to store an e-mail in the outbox that failed.",
                     c.value("outbox_errors", uint64_t(0)));
            m.single("safeguard_messages_unstored", "gauge", "E-mails held in memory until the outbox can store them.",
                     c.value("messages_unstored", uint64_t(0)));
            m.single("safeguard_evidence_errors_total", "counter", "Evidence packets that could not be written.",
                     c.value("evidence_errors", uint64_t(0)));
        }
    }
    m.single("safeguard_rule_matches_total", "counter", "Rule matches the workers sent to the reporter.", t.alerts);
    return m.text();
}

} // namespace sg::app
