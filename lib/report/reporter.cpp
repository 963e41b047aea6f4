#include "report/reporter.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include <rte_hash_crc.h>

#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "flow/flow_table.hpp"
#include "parse/packet_view.hpp"

namespace sg {

namespace {

constexpr unsigned kDrainBurst = 64;

const char* proto_name(uint8_t proto) {
    switch (proto) {
    case kProtoTcp: return "TCP";
    case kProtoUdp: return "UDP";
    case kProtoIcmp: return "ICMP";
    case kProtoIcmpv6: return "IPv6-ICMP";
    default: return nullptr;
    }
}

const char* flow_end_name(uint8_t why) {
    switch (FlowEnd(why)) {
    case FlowEnd::idle_timeout: return "timeout";
    case FlowEnd::evicted: return "evicted";
    case FlowEnd::flushed: return "shutdown";
    case FlowEnd::reused: return "reused";
    }
    return "?";
}

// Orders flows for the top list; ties broken by identity so the list is the
// same whatever the order records arrived in.
bool bigger(const FlowSummary& x, const FlowSummary& y) {
    if (x.total_bytes() != y.total_bytes()) return x.total_bytes() > y.total_bytes();
    return flow_output_id(x.record) < flow_output_id(y.record);
}

} // namespace

uint64_t flow_output_id(const FlowEndRecord& f) {
    const uint32_t lo = rte_hash_crc(&f.key, sizeof f.key, uint32_t(f.first_seen));
    const uint32_t hi = rte_hash_crc(&f.first_seen, sizeof f.first_seen, lo);
    // eve.json readers often parse flow_id as a signed 64-bit value.
    return (uint64_t(hi) << 32 | lo) & 0x7fffffffffffffffULL;
}

Reporter::~Reporter() {
    if (thread_.joinable()) finish();
}

void Reporter::start(std::vector<RecordRing*> rings) {
    rings_ = std::move(rings);
    running_.store(true);
    thread_ = std::thread([this] {
        if (has_cpus_) pthread_setaffinity_np(pthread_self(), sizeof cpus_, &cpus_);
        loop();
    });
}

void Reporter::finish() {
    running_.store(false);
    if (thread_.joinable()) thread_.join();
}

void Reporter::loop() {
    for (;;) {
        const bool got = drain_once();
        if (got) continue;
        if (!running_.load()) {
            // Workers have all returned (finish() is called after the lcores
            // were joined): one last pass empties the rings.
            while (drain_once()) {
            }
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (eve_) std::fflush(eve_);
}

bool Reporter::drain_once() {
    Record recs[kDrainBurst];
    bool got = false;
    for (RecordRing* ring : rings_) {
        const unsigned n = ring->pop_burst(recs, kDrainBurst);
        for (unsigned i = 0; i < n; ++i) handle(recs[i]);
        got = got || n;
    }
    return got;
}

void Reporter::handle(const Record& r) {
    ++results_.records;
    switch (r.kind) {
    case RecordKind::flow_end: on_flow_end(r.flow_end); break;
    case RecordKind::alert: on_alert(r.alert); break;
    }
}

const Deployment* Reporter::deployment_of(const IpAddress& ip) const {
    const Deployment* best = nullptr;
    unsigned best_len = 0;
    for (const Deployment& d : deployments_)
        for (const Prefix& p : d.prefixes)
            if (p.contains(ip) && (!best || p.length >= best_len)) {
                best = &d;
                best_len = p.length;
            }
    return best;
}

void Reporter::on_alert(const AlertRecord& a) {
    auto db_it = rules_.find(a.generation);
    if (db_it == rules_.end() || a.rule_index >= db_it->second->size()) return;
    const rules::Rule& rule = *db_it->second->rules()[a.rule_index].rule;
    if (!gate_.admit(a.rule_index, rule, a)) {
        ++results_.alerts_gated;
        return;
    }
    if (rule.noalert) return; // a drop rule with noalert: counted as a drop, not reported

    AlertCount& c = results_.alerts[rule.sid];
    c.gid = rule.gid;
    c.rev = rule.rev;
    c.msg = rule.msg;
    c.classtype = rule.classtype;
    ++c.count;

    if (!eve_) return;
    const Deployment* src_dep = deployment_of(a.src);
    const Deployment* dst_dep = deployment_of(a.dst);
    const char* direction = src_dep ? (dst_dep ? "internal" : "outbound") : (dst_dep ? "inbound" : "transit");
    nlohmann::json ev;
    ev["timestamp"] = format_timestamp(a.ts);
    if (a.has_flow) {
        FlowEndRecord f{};
        f.key = a.flow_key;
        f.first_seen = a.flow_first_seen;
        ev["flow_id"] = flow_output_id(f);
    }
    ev["event_type"] = "alert";
    ev["src_ip"] = a.src.to_string();
    ev["dest_ip"] = a.dst.to_string();
    if (a.proto == kProtoTcp || a.proto == kProtoUdp) {
        ev["src_port"] = a.src_port;
        ev["dest_port"] = a.dst_port;
    }
    const char* proto = proto_name(a.proto);
    ev["proto"] = proto ? proto : std::to_string(a.proto);
    ev["alert"] = {{"action", a.dropped ? "blocked" : "allowed"},
                   {"gid", rule.gid},
                   {"signature_id", rule.sid},
                   {"rev", rule.rev},
                   {"signature", rule.msg},
                   {"category", db_it->second->category(rule)},
                   {"severity", rule.priority}};
    ev["safeguard"] = {{"direction", direction},
                       {"source_deployment", src_dep ? nlohmann::json(src_dep->name) : nlohmann::json()},
                       {"target_deployment", dst_dep ? nlohmann::json(dst_dep->name) : nlohmann::json()},
                       {"rules_generation", a.generation}};
    const std::string line = ev.dump();
    std::fwrite(line.data(), 1, line.size(), eve_);
    std::fputc('\n', eve_);
}

void Reporter::on_flow_end(const FlowEndRecord& f) {
    if (f.why < kFlowEndReasons) ++results_.flows_ended[f.why];

    FlowSummary s{f};
    auto& top = results_.top_flows;
    if (top.size() < kTopFlows || bigger(s, top.back())) {
        top.insert(std::upper_bound(top.begin(), top.end(), s, bigger), s);
        if (top.size() > kTopFlows) top.pop_back();
    }

    if (!eve_) return;
    // Suricata's flow event: src is the initiator.
    const bool a_first = f.initiator_is_a;
    nlohmann::json ev;
    ev["timestamp"] = format_timestamp(f.last_seen);
    ev["flow_id"] = flow_output_id(f);
    ev["event_type"] = "flow";
    ev["src_ip"] = (a_first ? f.key.a : f.key.b).to_string();
    ev["dest_ip"] = (a_first ? f.key.b : f.key.a).to_string();
    const char* proto = proto_name(f.key.proto);
    if (f.key.proto == kProtoTcp || f.key.proto == kProtoUdp) {
        ev["src_port"] = a_first ? f.key.port_a : f.key.port_b;
        ev["dest_port"] = a_first ? f.key.port_b : f.key.port_a;
    }
    if (proto) ev["proto"] = proto;
    else ev["proto"] = std::to_string(f.key.proto);
    ev["flow"] = {{"pkts_toserver", f.packets[0]}, {"pkts_toclient", f.packets[1]},
                  {"bytes_toserver", f.bytes[0]}, {"bytes_toclient", f.bytes[1]},
                  {"start", format_timestamp(f.first_seen)}, {"end", format_timestamp(f.last_seen)},
                  {"reason", flow_end_name(f.why)}};
    if (f.key.proto == kProtoTcp) ev["tcp"] = {{"state", tcp_state_name(TcpState(f.tcp_state))}};
    const std::string line = ev.dump();
    std::fwrite(line.data(), 1, line.size(), eve_);
    std::fputc('\n', eve_);
}

} // namespace sg
