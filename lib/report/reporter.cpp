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
    orderer_.set_workers(unsigned(rings_.size()));
    last_release_ = std::chrono::steady_clock::now();
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
            release_ordered(/*all=*/true);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const AlertGateCounters& g = gate_.counters();
    results_.alerts_suppressed = g.suppressed;
    results_.alerts_rate_filtered = g.rate_filtered;
    results_.threshold_table_full = g.table_full + g.unique_full;
    results_.alert_order_overflow = orderer_.overflow();
    if (eve_) std::fflush(eve_);
}

void Reporter::release_ordered(bool all) {
    AlertRecord a;
    bool any = false;
    while (all ? orderer_.next_any(a) : orderer_.next(a)) {
        on_alert(a);
        any = true;
    }
    if (!max_hold_.count()) return;
    const auto now = std::chrono::steady_clock::now();
    if (any || !orderer_.held()) last_release_ = now;
    else if (now - last_release_ >= max_hold_) release_ordered(/*all=*/true);  // an idle worker holds the order back
}

bool Reporter::drain_once() {
    Record recs[kDrainBurst];
    bool got = false;
    for (RecordRing* ring : rings_) {
        const unsigned n = ring->pop_burst(recs, kDrainBurst);
        for (unsigned i = 0; i < n; ++i) handle(recs[i]);
        got = got || n;
    }
    release_ordered(/*all=*/false);
    return got;
}

void Reporter::handle(const Record& r) {
    ++results_.records;
    switch (r.kind) {
    case RecordKind::flow_end:
        orderer_.observe(r.worker, r.flow_end.last_seen);  // the worker's time moved on
        on_flow_end(r.flow_end);
        break;
    case RecordKind::alert: {
        AlertRecord earliest;
        if (orderer_.push(r.worker, r.alert, earliest)) on_alert(earliest);  // the hold was full
        break;
    }
    }
}

void Reporter::set_rules(std::shared_ptr<const MatchDatabase> db) {
    if (!db) return;
    // Generations older than these cannot have alerts left in the rings.
    constexpr size_t kGenerationsKept = 4;
    std::vector<const rules::Rule*> rule_list;
    rule_list.reserve(db->size());
    for (const CompiledRule& r : db->rules()) rule_list.push_back(r.rule);
    auto filters = std::make_shared<const std::vector<rules::RuleFilters>>(
        rules::resolve_rule_filters(rule_list, threshold_config_.get()));
    std::lock_guard<std::mutex> lock(rules_mutex_);
    filters_[db->generation()] = std::move(filters);
    rules_[db->generation()] = std::move(db);
    while (rules_.size() > kGenerationsKept) rules_.erase(rules_.begin());
    while (filters_.size() > kGenerationsKept) filters_.erase(filters_.begin());
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
    std::shared_ptr<const MatchDatabase> db;
    std::shared_ptr<const std::vector<rules::RuleFilters>> filters;
    {
        std::lock_guard<std::mutex> lock(rules_mutex_);
        auto it = rules_.find(a.generation);
        if (it != rules_.end()) db = it->second;
        auto fit = filters_.find(a.generation);
        if (fit != filters_.end()) filters = fit->second;
    }
    if (!db || !filters || a.rule_index >= db->size() || a.rule_index >= filters->size()) {
        ++results_.alerts_unknown_rule;
        return;
    }
    const rules::Rule& rule = *db->rules()[a.rule_index].rule;
    const GateVerdict verdict = gate_.admit(rule, (*filters)[a.rule_index], a);
    if (verdict.outcome == GateVerdict::Outcome::withheld) ++results_.alerts_gated;
    if (!verdict.reported()) return;  // withheld, suppressed, or a rate_filter's pass
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
    if (a.pcap_cnt) ev["pcap_cnt"] = a.pcap_cnt;
    ev["src_ip"] = a.src.to_string();
    ev["dest_ip"] = a.dst.to_string();
    if (a.proto == kProtoTcp || a.proto == kProtoUdp) {
        ev["src_port"] = a.src_port;
        ev["dest_port"] = a.dst_port;
    }
    const char* proto = proto_name(a.proto);
    ev["proto"] = proto ? proto : std::to_string(a.proto);
    // A rate_filter's drop or reject shows as blocked; the packet's own
    // verdict was the worker's (see AlertGate).
    const bool blocked = a.dropped || (verdict.rate_action && (*verdict.rate_action == rules::Action::drop ||
                                                               *verdict.rate_action == rules::Action::reject));
    ev["alert"] = {{"action", blocked ? "blocked" : "allowed"},
                   {"gid", rule.gid},
                   {"signature_id", rule.sid},
                   {"rev", rule.rev},
                   {"signature", rule.msg},
                   {"category", db->category(rule)},
                   {"severity", rule.priority}};
    ev["safeguard"] = {{"direction", direction},
                       {"source_deployment", src_dep ? nlohmann::json(src_dep->name) : nlohmann::json()},
                       {"target_deployment", dst_dep ? nlohmann::json(dst_dep->name) : nlohmann::json()},
                       {"rules_generation", a.generation}};
    if (verdict.rate_action) ev["safeguard"]["rate_filter"] = rules::action_name(*verdict.rate_action);
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
