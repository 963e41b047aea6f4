#include "report/reporter.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include <rte_hash_crc.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "core/time.hpp"
#include "detect/window_counter.hpp"
#include "flow/flow_table.hpp"
#include "parse/decode.hpp"
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

// Standard base64 (RFC 4648, with padding), as Suricata writes `packet`.
std::string base64(const std::string& in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
        for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
    }
    if (i < in.size()) {
        uint32_t v = uint32_t(uint8_t(in[i])) << 16;
        if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// The decoder's link type for a libpcap DLT number (dlt_of's inverse).
LinkType link_of_dlt(uint16_t dlt) {
    switch (dlt) {
    case 12: case 14: case 101: return LinkType::raw;
    case 228: return LinkType::ipv4;
    case 229: return LinkType::ipv6;
    case 113: return LinkType::linux_sll;
    case 276: return LinkType::linux_sll2;
    case 0: return LinkType::null_host;
    case 108: return LinkType::loop;
    default: return LinkType::ethernet;
    }
}

uint16_t be16(const std::string& b, size_t at) { return uint16_t(uint8_t(b[at]) << 8 | uint8_t(b[at + 1])); }

// Orders flows for the top list; ties broken by identity so the list is the
// same whatever the order records arrived in.
bool bigger(const FlowSummary& x, const FlowSummary& y) {
    if (x.total_bytes() != y.total_bytes()) return x.total_bytes() > y.total_bytes();
    return flow_output_id(x.record) < flow_output_id(y.record);
}

// The fields every event about one packet starts with (alert, drop).
nlohmann::json packet_event(const AlertRecord& a, const char* event_type) {
    nlohmann::json ev;
    ev["timestamp"] = format_timestamp(a.ts);
    if (a.has_flow) {
        FlowEndRecord f{};
        f.key = a.flow_key;
        f.first_seen = a.flow_first_seen;
        ev["flow_id"] = flow_output_id(f);
    }
    ev["event_type"] = event_type;
    if (a.pcap_cnt) ev["pcap_cnt"] = a.pcap_cnt;
    ev["src_ip"] = a.src.to_string();
    ev["dest_ip"] = a.dst.to_string();
    if (a.proto == kProtoTcp || a.proto == kProtoUdp) {
        ev["src_port"] = a.src_port;
        ev["dest_port"] = a.dst_port;
    }
    const char* proto = proto_name(a.proto);
    ev["proto"] = proto ? proto : std::to_string(a.proto);
    return ev;
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
    pending_.assign(rings_.size(), PendingAlert{});
    last_tunnel_flush_ = std::chrono::steady_clock::now();
    last_release_ = std::chrono::steady_clock::now();
    running_.store(true);
    thread_ = std::thread([this] {
        if (has_cpus_) pthread_setaffinity_np(pthread_self(), sizeof cpus_, &cpus_);
        loop();
    });
}

void Reporter::finish() {
    {
        std::lock_guard<std::mutex> lock(calls_mutex_);
        running_.store(false);
    }
    if (thread_.joinable()) thread_.join();
    run_calls();  // what came in while it stopped: on this thread, the reporter's is gone
}

bool Reporter::call(std::function<void()> fn, std::chrono::milliseconds timeout) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> ready = done->get_future();
    {
        std::lock_guard<std::mutex> lock(calls_mutex_);
        if (!running_.load()) return false;
        calls_.push_back({std::move(fn), done});
    }
    if (ready.wait_for(timeout) == std::future_status::ready) return true;
    // Too late: take it back unless it is running already.
    std::lock_guard<std::mutex> lock(calls_mutex_);
    for (auto it = calls_.begin(); it != calls_.end(); ++it)
        if (it->done == done) {
            calls_.erase(it);
            return false;
        }
    ready.wait();
    return true;
}

void Reporter::run_calls() {
    std::deque<Call> calls;
    {
        std::lock_guard<std::mutex> lock(calls_mutex_);
        calls.swap(calls_);
    }
    for (Call& c : calls) {
        c.fn();
        c.done->set_value();
    }
}

void Reporter::loop() {
    if (stall_.count() > 0) {
        // Stuck, as on a disk that does not answer: not even a stop ends it.
        log::warn("injected fault: the reporter stalls for {} ms", stall_.count());
        std::this_thread::sleep_for(stall_);
        log::warn("injected fault: the reporter goes on");
    }
    for (;;) {
        run_calls();
        const bool got = drain_once();
        if (got) continue;
        if (!running_.load()) {
            // Workers have all returned (finish() is called after the lcores
            // were joined): one last pass empties the rings.
            while (drain_once()) {
            }
            release_ordered(/*all=*/true);
            flush_tunnel_flows(/*all=*/true);
            break;
        }
        if (desk_) desk_->poll();
        // Live: outer tunnel flows idle long enough are reported, once a second.
        if (max_hold_.count() && std::chrono::steady_clock::now() - last_tunnel_flush_ >= std::chrono::seconds(1)) {
            last_tunnel_flush_ = std::chrono::steady_clock::now();
            flush_tunnel_flows(/*all=*/false);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (detection_) {
        detection_->finish();
        for (const Attribution* a : detection_->attributions())
            results_.attributions.push_back(to_json(*a, detection_->ownership()));
    }
    if (desk_) {
        desk_->finish();
        results_.incidents = desk_->incidents_json();
        results_.exceptions = desk_->exceptions_json();
        results_.incident_counters = desk_->counters_json();
    }
    refresh_counters();
    if (eve_) std::fflush(eve_);
}

void Reporter::refresh_counters() {
    if (detection_) results_.detection = detection_->counters();
    const AlertGateCounters& g = gate_.counters();
    results_.alerts_suppressed = g.suppressed;
    results_.alerts_rate_filtered = g.rate_filtered;
    results_.threshold_table_full = g.table_full + g.unique_full;
    results_.alert_order_overflow = orderer_.overflow();
    results_.http_transactions = http_log_.transactions();
    results_.http_files = http_log_.files();
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
    case RecordKind::window:
        if (detection_) {
            // The worker is past every packet before the next window: its
            // alerts up to there (they came first in its ring) reach the
            // signature detector before the window is analysed, so they
            // count in the window of their packet, whatever the timing.
            const WindowSummary& w = *r.window.summary;
            const uint64_t next = w.next_index > w.index ? w.next_index : w.index + 1;
            orderer_.observe(r.worker, next * detection_->window() - 1);
            release_ordered(/*all=*/false);
            detection_->add_window(r.worker, w);
        }
        r.window.owner->give_back(r.window.summary);  // merged: the worker may reuse it
        if (detection_) analysed_.store(detection_->analysed_up_to(), std::memory_order_release);
        break;
    case RecordKind::evidence:
        if (r.worker < pending_.size()) {
            PendingAlert& p = pending_[r.worker];
            if (p.active) ++results_.alert_packets_lost;  // cannot happen: enqueued together
            p.active = true;
            p.evidence = true;
            p.packet = r.evidence;
            p.bytes.clear();
        }
        break;
    case RecordKind::alert:
        if (r.worker < pending_.size() && pending_[r.worker].active) {
            ++results_.alert_packets_lost;  // cannot happen: an alert and its packet are enqueued at once
            if (!pending_[r.worker].evidence) hold_alert(r.worker, pending_[r.worker].alert);
            pending_[r.worker].active = false;
        }
        if (r.alert.packet_len && r.worker < pending_.size()) {
            PendingAlert& p = pending_[r.worker];
            p.active = true;
            p.evidence = false;
            p.alert = r.alert;
            p.bytes.clear();
            break;
        }
        hold_alert(r.worker, r.alert);
        break;
    case RecordKind::alert_packet:
        on_alert_packet(r.worker, r.alert_packet);
        break;
    case RecordKind::http: {
        FlowEndRecord f{};
        f.key = r.http.flow_key;
        f.first_seen = r.http.flow_first_seen;
        http_log_.add(flow_output_id(f), r.http, eve_);
        break;
    }
    }
}

void Reporter::hold_alert(unsigned worker, AlertRecord a) {
    if (a.has_flow && a.http_tx != kNoHttpTx) {
        // The transaction as the worker knew it at the alert: the records
        // before the alert in its ring, all handled by now.
        FlowEndRecord f{};
        f.key = a.flow_key;
        f.first_seen = a.flow_first_seen;
        nlohmann::json http = http_log_.http_object(flow_output_id(f), a.http_tx);
        if (!http.is_null()) {
            if (!a.packet_ref) a.packet_ref = keep_held({});
            alert_http_[a.packet_ref - 1] = std::move(http);
        }
    }
    AlertRecord earliest;
    if (orderer_.push(worker, a, earliest)) on_alert(earliest);  // the hold was full
}

void Reporter::on_alert_packet(unsigned worker, const AlertPacketRecord& chunk) {
    if (worker >= pending_.size() || !pending_[worker].active) {
        ++results_.alert_packets_lost;
        return;
    }
    PendingAlert& p = pending_[worker];
    p.bytes.append(reinterpret_cast<const char*>(chunk.bytes), std::min<size_t>(chunk.len, kAlertPacketChunk));
    if (p.evidence) {
        if (p.bytes.size() < p.packet.packet_len) return;
        p.active = false;
        if (desk_) desk_->on_evidence(p.packet, p.bytes);
        return;
    }
    if (p.bytes.size() < p.alert.packet_len) return;
    // Complete: keep the bytes while the orderer holds the alert.
    p.alert.packet_ref = keep_held(std::move(p.bytes));
    p.active = false;
    hold_alert(worker, p.alert);
}

uint32_t Reporter::keep_held(std::string bytes) {
    uint32_t slot;
    if (!free_packets_.empty()) {
        slot = free_packets_.back();
        free_packets_.pop_back();
        packets_[slot] = std::move(bytes);
    } else {
        slot = uint32_t(packets_.size());
        packets_.push_back(std::move(bytes));
        alert_http_.emplace_back();
    }
    return slot + 1;
}

nlohmann::json Reporter::take_http(uint32_t ref) {
    if (ref == 0 || ref > alert_http_.size()) return nullptr;
    nlohmann::json http = std::move(alert_http_[ref - 1]);
    alert_http_[ref - 1] = nullptr;
    return http;
}

std::string Reporter::take_packet(uint32_t ref) {
    if (ref == 0 || ref > packets_.size()) return {};
    std::string bytes = std::move(packets_[ref - 1]);
    packets_[ref - 1].clear();
    free_packets_.push_back(ref - 1);
    return bytes;
}

void Reporter::set_detection(std::unique_ptr<DetectionEngine> engine) {
    detection_ = std::move(engine);
    if (!detection_) return;
    detection_->set_on_open([this](const Attribution& a) {
        if (!eve_) return;
        nlohmann::json ev;
        ev["timestamp"] = format_timestamp(a.first_seen);
        ev["event_type"] = "attribution";
        ev["attribution"] = to_json(a, detection_->ownership());
        const std::string line = ev.dump();
        std::fwrite(line.data(), 1, line.size(), eve_);
        std::fputc('\n', eve_);
    });
}

void Reporter::set_incidents(std::unique_ptr<respond::IncidentDesk> desk) {
    desk_ = std::move(desk);
    if (!desk_ || !detection_) return;
    detection_->set_on_window(
        [this](uint64_t, Nanos end, Nanos quiet_until, const std::vector<const Attribution*>& touched) {
            desk_->on_window(end - detection_->window(), end, quiet_until, touched);
        });
    desk_->set_rule_names([this](uint32_t sid) {
        std::lock_guard<std::mutex> lock(rules_mutex_);
        if (rules_.empty()) return std::string();
        for (const CompiledRule& r : rules_.rbegin()->second->rules())
            if (r.rule->sid == sid) return r.rule->msg;
        return std::string();
    });
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
    nlohmann::json http = take_http(a.packet_ref);
    const std::string packet = take_packet(a.packet_ref);
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
    if (detection_) {
        // The attacker: the side the rule names with `target:` as the
        // other one, else the flow's initiator (the exploit's sender, the
        // miner that connects to its pool, the infected host calling home).
        const bool from_initiator = !a.has_flow || a.dir == 0;
        AlertFacts facts;
        facts.ts = a.ts;
        facts.attacker = from_initiator ? a.src : a.dst;
        facts.victim = from_initiator ? a.dst : a.src;
        if (rule.target == rules::Target::dest_ip) {
            facts.attacker = a.src;
            facts.victim = a.dst;
        } else if (rule.target == rules::Target::src_ip) {
            facts.attacker = a.dst;
            facts.victim = a.src;
        }
        facts.sid = rule.sid;
        facts.priority = rule.priority;
        facts.classtype = &rule.classtype;
        detection_->on_alert(facts);
    }

    const bool verdict_drop = (options_.inline_mode || options_.simulate_ips) &&
                              (options_.simulate_ips
                                   ? (verdict.rate_action ? (*verdict.rate_action == rules::Action::drop ||
                                                             *verdict.rate_action == rules::Action::reject)
                                                          : a.dropped)
                                   : a.dropped);
    if (verdict_drop) ++results_.drops;
    if (!eve_) return;
    const Deployment* src_dep = deployment_of(a.src);
    const Deployment* dst_dep = deployment_of(a.dst);
    const char* direction = src_dep ? (dst_dep ? "internal" : "outbound") : (dst_dep ? "inbound" : "transit");
    nlohmann::json ev = packet_event(a, "alert");
    // A rate_filter's drop or reject shows as blocked; the packet's own
    // verdict was the worker's (see AlertGate). Simulated IPS has no
    // packet to withhold, so its verdict is the alert's final action, as
    // Suricata decides it: a rate_filter's new action replaces the rule's.
    const bool rate_drop = verdict.rate_action && (*verdict.rate_action == rules::Action::drop ||
                                                   *verdict.rate_action == rules::Action::reject);
    const bool dropped = options_.simulate_ips ? (verdict.rate_action ? rate_drop : a.dropped) : a.dropped;
    const bool blocked = options_.simulate_ips ? dropped : a.dropped || rate_drop;
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
    if (a.tunnel_depth) {
        // The outermost headers of a tunnelled packet, as Suricata's `tunnel`.
        const char* outer = proto_name(a.outer_proto);
        ev["tunnel"] = {{"src_ip", a.outer_src.to_string()},
                        {"src_port", a.outer_src_port},
                        {"dest_ip", a.outer_dst.to_string()},
                        {"dest_port", a.outer_dst_port},
                        {"proto", outer ? outer : (a.outer_proto == kProtoGre ? "GRE" : std::to_string(a.outer_proto))},
                        {"depth", a.tunnel_depth}};
        if (a.pcap_cnt) ev["tunnel"]["pcap_cnt"] = a.pcap_cnt;
    }
    // HTTP flows: the app-layer protocol, and the transaction the alert
    // belongs to (Suricata guesses it for stream and packet rules).
    if (a.app_proto == uint8_t(AppProto::http)) ev["app_proto"] = "http";
    if (!http.is_null()) {
        ev["tx_id"] = a.http_tx;
        ev["tx_guessed"] = true;
        ev["http"] = std::move(http);
    }
    if (options_.eve_packet && !packet.empty()) {
        ev["packet"] = base64(packet);
        ev["packet_info"] = {{"linktype", a.link_type}};
    }
    const std::string line = ev.dump();
    std::fwrite(line.data(), 1, line.size(), eve_);
    std::fputc('\n', eve_);
    if (dropped && (options_.inline_mode || options_.simulate_ips)) write_drop_event(a, rule, *db, packet);
}

// Suricata 7's drop event for a packet a rule dropped: the packet's header
// fields (read from its bytes, when the worker sent them) and the alert
// that dropped it.
void Reporter::write_drop_event(const AlertRecord& a, const rules::Rule& rule, const MatchDatabase& db,
                                const std::string& packet) {
    nlohmann::json ev = packet_event(a, "drop");
    if (a.has_flow) ev["direction"] = a.dir == 0 ? "to_server" : "to_client";
    nlohmann::json drop = nlohmann::json::object();
    PacketView pv;
    if (!packet.empty())
        decode(reinterpret_cast<const uint8_t*>(packet.data()), uint32_t(packet.size()), pv, link_of_dlt(a.link_type));
    const size_t ip = pv.l3_offset;
    if (pv.l3 == L3Type::ipv4) {
        drop["len"] = be16(packet, ip + 2);
        drop["tos"] = pv.ip_tos;
        drop["ttl"] = pv.ttl;
        drop["ipid"] = pv.ip_id;
    } else if (pv.l3 == L3Type::ipv6) {
        drop["len"] = be16(packet, ip + 4);
        drop["tc"] = pv.ip_tos;
        drop["hoplimit"] = pv.ttl;
    }
    if (pv.has_l4 && (pv.l3 == L3Type::ipv4 || pv.l3 == L3Type::ipv6)) {
        const size_t l4 = pv.l4_offset;
        if (pv.ip_proto == kProtoTcp) {
            drop["tcpseq"] = pv.tcp_seq;
            drop["tcpack"] = pv.tcp_ack;
            drop["tcpwin"] = pv.tcp_window;
            drop["syn"] = (pv.tcp_flags & kTcpSyn) != 0;
            drop["ack"] = (pv.tcp_flags & kTcpAck) != 0;
            drop["psh"] = (pv.tcp_flags & kTcpPsh) != 0;
            drop["rst"] = (pv.tcp_flags & kTcpRst) != 0;
            drop["urg"] = (pv.tcp_flags & kTcpUrg) != 0;
            drop["fin"] = (pv.tcp_flags & kTcpFin) != 0;
            drop["tcpres"] = uint8_t(packet[l4 + 12]) & 0x0F;
            drop["tcpurgp"] = be16(packet, l4 + 18);
        } else if (pv.ip_proto == kProtoUdp) {
            drop["udplen"] = be16(packet, l4 + 4);
        } else if (pv.ip_proto == kProtoIcmp || pv.ip_proto == kProtoIcmpv6) {
            drop["icmp_id"] = pv.icmp_id;
            drop["icmp_seq"] = pv.icmp_seq;
        }
    }
    drop["reason"] = "rules";
    ev["drop"] = drop;
    ev["alert"] = {{"action", "blocked"},
                   {"gid", rule.gid},
                   {"signature_id", rule.sid},
                   {"rev", rule.rev},
                   {"signature", rule.msg},
                   {"category", db.category(rule)},
                   {"severity", rule.priority}};
    const std::string line = ev.dump();
    std::fwrite(line.data(), 1, line.size(), eve_);
    std::fputc('\n', eve_);
}

void Reporter::on_flow_end(const FlowEndRecord& f) {
    if (f.tunnel_outer) {
        tunnel_parts_[f.key].push_back(f);
        ++results_.tunnel_flow_parts;
        // Bounded: far more parts than outer flows means a flood of VTEP
        // ports; report what is held rather than grow.
        if (++tunnel_parts_held_ > (size_t(1) << 16)) flush_tunnel_flows(/*all=*/true);
        return;
    }
    if (f.why < kFlowEndReasons) ++results_.flows_ended[f.why];

    FlowSummary s{f};
    auto& top = results_.top_flows;
    if (top.size() < kTopFlows || bigger(s, top.back())) {
        top.insert(std::upper_bound(top.begin(), top.end(), s, bigger), s);
        if (top.size() > kTopFlows) top.pop_back();
    }

    write_flow_event(f);
    if (f.app_proto == uint8_t(AppProto::http)) http_log_.flow_ended(flow_output_id(f));
}

void Reporter::flush_tunnel_flows(bool all) {
    const Nanos watermark = orderer_.watermark();
    const Nanos idle = options_.tunnel_flow_idle;
    for (auto it = tunnel_parts_.begin(); it != tunnel_parts_.end();) {
        std::vector<FlowEndRecord>& parts = it->second;
        // Earliest first; ties by end, then by side, so the merge does not
        // depend on which worker's part arrived first.
        std::sort(parts.begin(), parts.end(), [](const FlowEndRecord& x, const FlowEndRecord& y) {
            if (x.first_seen != y.first_seen) return x.first_seen < y.first_seen;
            if (x.last_seen != y.last_seen) return x.last_seen < y.last_seen;
            return x.initiator_is_a > y.initiator_is_a;
        });
        size_t used = 0;
        while (used < parts.size()) {
            // One flow: the parts that follow each other within `idle`.
            FlowEndRecord m = parts[used];
            uint64_t from_a[2] = {m.initiator_is_a ? m.packets[0] : m.packets[1],
                                  m.initiator_is_a ? m.bytes[0] : m.bytes[1]};
            uint64_t from_b[2] = {m.initiator_is_a ? m.packets[1] : m.packets[0],
                                  m.initiator_is_a ? m.bytes[1] : m.bytes[0]};
            size_t next = used + 1;
            for (; next < parts.size() && parts[next].first_seen <= m.last_seen + idle; ++next) {
                const FlowEndRecord& p = parts[next];
                from_a[0] += p.initiator_is_a ? p.packets[0] : p.packets[1];
                from_a[1] += p.initiator_is_a ? p.bytes[0] : p.bytes[1];
                from_b[0] += p.initiator_is_a ? p.packets[1] : p.packets[0];
                from_b[1] += p.initiator_is_a ? p.bytes[1] : p.bytes[0];
                if (p.last_seen > m.last_seen || (p.last_seen == m.last_seen && p.why > m.why)) {
                    m.last_seen = p.last_seen;
                    m.why = p.why;
                }
            }
            // The last flow of a key may still grow until it has been idle long enough.
            if (!all && next == parts.size() && m.last_seen + 2 * idle >= watermark) break;
            m.packets[0] = m.initiator_is_a ? from_a[0] : from_b[0];
            m.packets[1] = m.initiator_is_a ? from_b[0] : from_a[0];
            m.bytes[0] = m.initiator_is_a ? from_a[1] : from_b[1];
            m.bytes[1] = m.initiator_is_a ? from_b[1] : from_a[1];
            ++results_.tunnel_flows;
            write_flow_event(m);
            used = next;
        }
        tunnel_parts_held_ -= used;
        parts.erase(parts.begin(), parts.begin() + long(used));
        it = parts.empty() ? tunnel_parts_.erase(it) : std::next(it);
    }
}

void Reporter::write_flow_event(const FlowEndRecord& f) {
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
    if (f.app_proto == uint8_t(AppProto::http)) ev["app_proto"] = "http";
    if (f.key.proto == kProtoTcp) {
        // Suricata's tcp object: the flags seen (both directions, to server,
        // to client, as hex) and one true entry per flag seen.
        const uint8_t ts = f.tcp_flags[0], tc = f.tcp_flags[1], all = uint8_t(ts | tc);
        nlohmann::json tcp;
        tcp["tcp_flags"] = fmt::format("{:02x}", all);
        tcp["tcp_flags_ts"] = fmt::format("{:02x}", ts);
        tcp["tcp_flags_tc"] = fmt::format("{:02x}", tc);
        static constexpr std::pair<uint8_t, const char*> kFlagNames[] = {
            {kTcpFin, "fin"}, {kTcpSyn, "syn"}, {kTcpRst, "rst"}, {kTcpPsh, "psh"},
            {kTcpAck, "ack"}, {kTcpUrg, "urg"}, {0x40, "ecn"}, {0x80, "cwr"}};
        for (const auto& [bit, name] : kFlagNames)
            if (all & bit) tcp[name] = true;
        tcp["state"] = tcp_state_name(TcpState(f.tcp_state));
        ev["tcp"] = tcp;
    }
    const std::string line = ev.dump();
    std::fwrite(line.data(), 1, line.size(), eve_);
    std::fputc('\n', eve_);
}

} // namespace sg
