#include "pipeline/worker.hpp"

#include <sched.h>
#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "io/port.hpp"
#include "parse/decode.hpp"

namespace sg {

namespace {

// Polls in a row that found nothing before a worker gives its CPU away.
// Replay and tests often run more lcores than CPUs; a real appliance pins
// one worker per core and then sched_yield() returns at once.
constexpr unsigned kIdleSpinsBeforeYield = 64;
// Idle flows ended per housekeeping pass: bounded work between polls.
constexpr unsigned kExpireBudget = 64;
// Outer tunnel flows (VTEP to VTEP) per worker: few, but each carries many
// inner flows.
constexpr uint32_t kTunnelFlows = 4096;

uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// Suricata decodes no transport header in an IP fragment: rules see a
// fragment at the IP level only (its payload is the IP payload), and it
// belongs to no flow. The reassembled datagram is what gets the transport
// layer. Called for outermost IPv4 fragments, which go to reassembly.
void ip_level_only(PacketView& pv, const uint8_t* frame, uint32_t frame_len) {
    pv.has_l4 = false;
    pv.l4_offset = 0;
    pv.src_port = pv.dst_port = 0;
    pv.tcp_flags = 0;
    pv.tcp_seq = pv.tcp_ack = 0;
    pv.tcp_window = 0;
    pv.icmp_type = pv.icmp_code = 0;
    pv.icmp_id = pv.icmp_seq = 0;
    const uint32_t total_len = load_be16(frame + pv.l3_offset + 2);
    const uint32_t start = uint32_t(pv.l3_offset) + pv.l3_len;
    const uint32_t end = std::min(frame_len, uint32_t(pv.l3_offset) + total_len);
    pv.payload_offset = uint16_t(start);
    pv.payload_len = uint16_t(end > start ? end - start : 0);
    pv.wire_payload_len = total_len > pv.l3_len ? total_len - pv.l3_len : 0;
}

Nanos wall_clock_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return Nanos(ts.tv_sec) * kNsPerSec + Nanos(ts.tv_nsec);
}

// CPU time of the calling thread: what a worker cost, not counting the time
// other threads had its CPU (benchmarks on shared machines).
Nanos thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return Nanos(ts.tv_sec) * kNsPerSec + Nanos(ts.tv_nsec);
}

} // namespace

Result<std::unique_ptr<Worker>> Worker::create(unsigned id, const WorkerIo& io,
                                               const FlowTableConfig& flows, RecordRing* out,
                                               WorkerSignals* signals, uint32_t burst,
                                               const StreamConfig& streams) {
    std::unique_ptr<Worker> w(new Worker(id, io, out, signals, burst));
    auto table = FlowTable::create(flows, &Worker::on_flow_end, w.get());
    if (!table) return table.error();
    w->flows_ = std::move(*table);
    FlowTableConfig outer = flows;
    outer.capacity = kTunnelFlows;
    const std::string outer_name = "sg_tunnels_" + std::to_string(id);
    outer.name = outer_name.c_str();
    auto tunnels = FlowTable::create(outer, &Worker::on_tunnel_flow_end, w.get());
    if (!tunnels) return tunnels.error();
    w->tunnel_flows_ = std::move(*tunnels);
    w->defrag_ = std::make_unique<Ipv4Defrag>();
    auto tracker = StreamTracker::create(streams);
    if (!tracker) return tracker.error();
    w->streams_ = std::move(*tracker);
    w->flow_capacity_ = std::max<uint32_t>(flows.capacity, 8);  // the table's slots (FlowTable)
    return w;
}

Result<> Worker::enable_http(uint32_t sessions) {
    HttpConfig cfg;
    cfg.sessions = sessions;
    cfg.flow_capacity = flow_capacity_;
    auto tracker = HttpTracker::create(cfg);
    if (!tracker) return tracker.error();
    http_ = std::move(*tracker);
    return {};
}

Worker::Worker(unsigned id, const WorkerIo& io, RecordRing* out, WorkerSignals* signals,
               uint32_t burst)
    : id_(id), io_(io), out_(out), signals_(signals),
      burst_(burst > kMaxBurst ? kMaxBurst : burst) {
    tsc_base_ = rte_rdtsc();
    wall_base_ = wall_clock_ns();
    ns_per_tsc_ = double(kNsPerSec) / double(rte_get_tsc_hz());
}

Nanos Worker::live_now() const {
    return wall_base_ + Nanos(double(rte_rdtsc() - tsc_base_) * ns_per_tsc_);
}

unsigned Worker::receive(rte_mbuf** pkts) {
    if (io_.rx_ring)
        return rte_ring_sc_dequeue_burst(io_.rx_ring, reinterpret_cast<void**>(pkts), burst_, nullptr);
    unsigned n = 0;
    for (unsigned i = 0; i < io_.nb_rx && n < burst_; ++i)
        n += rte_eth_rx_burst(io_.rx[i].port, io_.rx[i].queue, pkts + n, uint16_t(burst_ - n));
    return n;
}

int Worker::run() {
    rte_mbuf* pkts[kMaxBurst];
    unsigned idle = 0;
    if (rules_) rules_->online(id_);
    if (enforcement_slot_) enforcement_slot_->online(id_);
    for (;;) {
        const unsigned n = receive(pkts);
        if (n) {
            process_burst(pkts, n);
            idle = 0;
            // A port that never runs dry (a flood; net_pcap's infinite_rx)
            // must not keep the worker from stopping.
            if (signals_->stop.load(std::memory_order_relaxed)) break;
            continue;
        }
        flush_tx();
        if (signals_->stop.load(std::memory_order_relaxed)) break;
        if (signals_->input_done.load(std::memory_order_acquire)) {
            // The dispatcher raised the flag after its last enqueue: one more
            // empty poll after seeing it means everything was processed.
            const unsigned rest = receive(pkts);
            if (rest == 0) break;
            process_burst(pkts, rest);
            continue;
        }
        // Live, idle flows are swept in the background. Replay leaves expiry
        // to track() (a flow found idle past its timeout starts over) and
        // to eviction: a sweep there would depend on how far this worker's
        // clock happened to run ahead, and results must not.
        if (!signals_->lossless && clock_) {
            matcher_ = rules_ ? rules_->matcher(id_) : nullptr; // for the flows' last stream inspection
            flows_->expire(clock_, kExpireBudget);
            matcher_ = nullptr;
        }
        if (!signals_->lossless && clock_) tunnel_flows_->expire(clock_, kExpireBudget);
        // Live, hardware RSS: an idle worker still ends its windows on time,
        // so the reporter is not held back waiting for it.
        if (counter_ && !window_ticks_ && !signals_->lossless) on_window(live_now() / window_);
        sync_flow_counters();
        if (rules_) rules_->quiescent(id_);
        if (enforcement_slot_) enforcement_slot_->quiescent(id_);
        if (++idle >= kIdleSpinsBeforeYield) {
            sched_yield();
            idle = 0;
        } else {
            rte_pause();
        }
    }
    flush_tx();
    matcher_ = rules_ ? rules_->matcher(id_) : nullptr; // for the flows' last stream inspection
    flows_->flush();
    tunnel_flows_->flush();
    matcher_ = nullptr;
    // The last window, with the flows the flush just ended.
    if (counter_) {
        if (WindowSummary* last = counter_->take_final()) hand_over(last);
    }
    sync_flow_counters();
    counters_.ring_drops = out_->drops();
    if (first_burst_tsc_) {
        counters_.active_ns = uint64_t(double(rte_rdtsc() - first_burst_tsc_) * ns_per_tsc_);
        counters_.cpu_ns = thread_cpu_ns() - first_burst_cpu_;
    }
    if (rules_) rules_->offline(id_);
    if (enforcement_slot_) enforcement_slot_->offline(id_);
    finished_.store(true, std::memory_order_release);
    return 0;
}

void Worker::set_detection(std::unique_ptr<WindowCounter> counter, Nanos window, bool ticks) {
    counter_ = std::move(counter);
    window_ = window ? window : kNsPerSec;
    window_ticks_ = ticks;
}

void Worker::on_window(uint64_t index) {
    if (!counter_) return;
    if (signals_->lossless) {
        // Replay: every window reaches the reporter; wait for a free block
        // rather than fold two windows into one.
        while (index > counter_->current_index() && !counter_->can_advance()) rte_pause();
    }
    if (WindowSummary* done = counter_->advance(index)) hand_over(done);
    counters_.window_overruns = counter_->overruns();
}

void Worker::hand_over(WindowSummary* s) {
    Record rec;
    rec.kind = RecordKind::window;
    rec.worker = uint8_t(id_);
    rec.window = WindowRecord{s, counter_.get()};
    if (signals_->lossless) {
        out_->push_wait(rec);
        ++counters_.windows;
    } else if (out_->push(rec)) {
        ++counters_.windows;
    } else {
        counter_->give_back(s);  // the reporter is behind: this window is lost to detection
        ++counters_.windows_dropped;
    }
}

void Worker::process_burst(rte_mbuf** pkts, unsigned n) {
    // Packets without a driver timestamp (live NICs) share one TSC reading.
    const uint64_t started = rte_rdtsc();
    if (!first_burst_tsc_) [[unlikely]] {
        // Benchmarks: the worker's time and CPU time count from here.
        first_burst_tsc_ = started;
        first_burst_cpu_ = thread_cpu_ns();
    }
    const Nanos fallback_now = wall_base_ + Nanos(double(started - tsc_base_) * ns_per_tsc_);
    // The rule set is read once per burst; the quiescent point after the
    // burst tells a reload that this worker no longer uses the old one.
    matcher_ = rules_ ? rules_->matcher(id_) : nullptr;
    // So is the enforcement; a new version restarts the evidence counts of
    // incidents it no longer watches.
    if (enforcement_slot_) {
        const Enforcement* e = enforcement_slot_->current();
        if (e && e != enforcement_) {
            EvidenceCount kept[Enforcement::kMaxWatches];
            for (size_t k = 0; k < e->watches.size(); ++k) {
                kept[k] = {e->watches[k].incident, 0};
                for (const EvidenceCount& c : evidence_sent_)
                    if (c.incident == kept[k].incident) kept[k].sent = c.sent;
            }
            std::copy(kept, kept + Enforcement::kMaxWatches, evidence_sent_);
        }
        enforcement_ = e;
    }
    for (unsigned i = 0; i < n; ++i) {
        if (is_window_tick(pkts[i])) {
            // The dispatcher's cut between two windows, in-band.
            on_window(window_tick_index(pkts[i]));
            continue;
        }
        if (i + 1 < n && !is_window_tick(pkts[i + 1])) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
        process_packet(pkts[i], fallback_now);
    }
    // Hardware RSS: this worker's own clock ends windows.
    if (counter_ && !window_ticks_ && clock_) on_window(clock_ / window_);
    sync_flow_counters();
    counters_.ring_drops = out_->drops();
    matcher_ = nullptr;
    if (rules_) rules_->quiescent(id_);
    if (enforcement_slot_) enforcement_slot_->quiescent(id_);
}

void Worker::process_packet(rte_mbuf* m, Nanos fallback_now) {
    const uint32_t len = rte_pktmbuf_pkt_len(m);
    ++counters_.packets;
    counters_.bytes += len;
    if (outputs_.stage == PipelineStage::null) [[unlikely]] {
        rte_pktmbuf_free(m);  // benchmarks: the receive path alone
        return;
    }

    Nanos now = mbuf_timestamp(m);
    if (!now) now = fallback_now;
    if (now > clock_) clock_ = now;

    // The decoder wants one contiguous frame: rte_pktmbuf_read returns the
    // data in place when the first segment holds it, else copies the chain.
    uint32_t view_len = len;
    if (view_len > sizeof frame_buf_) {
        view_len = sizeof frame_buf_;
        ++counters_.oversize;
    }
    const auto* frame = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, view_len, frame_buf_));

    PacketView pv;
    const Anomaly anomaly = frame ? decode(frame, view_len, pv, link_type_of(m->port)) : Anomaly::truncated_ethernet;
    if (anomaly != Anomaly::none) ++counters_.anomalies[unsigned(anomaly)];
    if (pv.vlan_count) ++counters_.vlan;
    if (pv.tunnel.type != TunnelType::none) ++counters_.tunnelled[unsigned(pv.tunnel.type)];
    if (pv.tunnel.depth) track_tunnel_flow(pv, len, now);

    switch (pv.l3) {
    case L3Type::ipv4: ++counters_.ipv4; break;
    case L3Type::ipv6: ++counters_.ipv6; break;
    case L3Type::arp: ++counters_.arp; break;
    case L3Type::other: ++counters_.other_l3; break;
    case L3Type::none: break;
    }
    if ((pv.l3 == L3Type::ipv4 || pv.l3 == L3Type::ipv6) && enforcement_ && enforcement_->active() &&
        enforce(pv, frame, view_len, len, now, dlt_of(link_type_of(m->port)))) {
        rte_pktmbuf_free(m);
        return;
    }
    if (pv.l3 == L3Type::ipv4 || pv.l3 == L3Type::ipv6) {
        if (pv.fragment) ++counters_.fragments;
        switch (pv.ip_proto) {
        case kProtoTcp: ++counters_.tcp; break;
        case kProtoUdp: ++counters_.udp; break;
        case kProtoIcmp: ++counters_.icmp; break;
        case kProtoIcmpv6: ++counters_.icmpv6; break;
        default: ++counters_.other_l4; break;
        }
        // Outermost IPv4 fragments go to reassembly; the fragment itself is
        // matched at the IP level, and the datagram it completes (if any)
        // right after it, as a packet of its own.
        std::span<const uint8_t> reassembled;
        if (pv.l3 == L3Type::ipv4 && pv.fragment) {
            reassembled = defrag_->add(frame, view_len, pv, now);
            if (pv.tunnel.depth == 0) ip_level_only(pv, frame, view_len);
        }
        const uint64_t packet_number = signals_->lossless ? pcap_cnt(m) : 0;
        alert_link_ = dlt_of(link_type_of(m->port));
        bool drop = inspect_ip(pv, frame, view_len, len, now, packet_number);
        if (!reassembled.empty()) {
            PacketView whole;
            const auto whole_len = uint32_t(reassembled.size());
            decode(reassembled.data(), whole_len, whole, link_type_of(m->port));
            drop = inspect_ip(whole, reassembled.data(), whole_len, whole_len, now, packet_number, true) || drop;
        }
        if (drop && !io_.peer_port && outputs_.simulate_ips) ++counters_.rule_drops;
        if (drop && io_.peer_port) {
            ++counters_.rule_drops;
            rte_pktmbuf_free(m);
            return;
        }
    }
    forward_or_free(m);
}

bool Worker::inspect_ip(PacketView& pv, const uint8_t* frame, uint32_t frame_len, uint32_t wire_len, Nanos now,
                        uint64_t packet_number, bool reassembled) {
    // Later fragments carry no ports: they are counted, not tracked.
    // A packet whose transport header is broken is not tracked either.
    const bool l4_expected = pv.ip_proto == kProtoTcp || pv.ip_proto == kProtoUdp ||
                             pv.ip_proto == kProtoIcmp || pv.ip_proto == kProtoIcmpv6;
    Flow* flow = nullptr;
    unsigned dir = 0;
    bool created = false;
    if (!pv.later_fragment && (pv.has_l4 || !l4_expected)) {
        bool from_a = true;
        const FlowKey key = make_flow_key(pv, from_a);
        flow = &flows_->track(key, FlowTable::flow_hash(key), from_a, pv, wire_len, now, dir, created);
    }
    if (outputs_.stage == PipelineStage::parse) [[unlikely]] return false;  // benchmarks
    // Detectors count what crossed the wire: the fragments, not the
    // datagram rebuilt from them (its flow is still classified).
    if (counter_ && reassembled) {
        if (created) counter_->classify_flow(*flow);
    } else if (counter_) {
        if (created) counter_->classify_flow(*flow);
        counter_->observe(pv, flow, dir, created, wire_len, now);
    }
    if (outputs_.stage == PipelineStage::detect) [[unlikely]] return false;  // benchmarks
    bool drop = false;
    alert_frame_ = frame;
    alert_frame_len_ = frame_len;
    // The stream is reassembled for the rules and for HTTP; the HTTP parser
    // reads it before the rules run (Suricata's app layer runs before
    // detection), so an alert can name the transaction its packet completed.
    const bool track_stream = flow && (matcher_ || http_);
    const StreamInspection stream = track_stream ? streams_->on_packet(*flow, dir, pv, frame) : StreamInspection{};
    if (http_ && flow) {
        http_ts_ = now;
        http_pcap_cnt_ = packet_number;
        http_->on_packet(*flow, dir, pv, frame, *streams_, *this);
    }
    if (matcher_) {
        matcher_->inspect(pv, frame, flow, dir, stream, [&](const RuleHit& hit) {
            drop = drop || hit.drop;
            send_alert(hit, pv, flow, dir, now, packet_number);
        });
    }
    if (track_stream) streams_->inspected(*flow, dir, stream);
    if (http_ && flow) http_->after_detect(*flow, dir);
    alert_frame_ = nullptr;  // stream pseudo-packets (flow end) carry no packet
    alert_frame_len_ = 0;
    return drop;
}

// The outer flow of a tunnelled frame (VTEP to VTEP), in a table of its own:
// it is not one of the flows the inner packets make, and its share on this
// worker is merged with the other workers' by the reporter.
void Worker::track_tunnel_flow(const PacketView& pv, uint32_t wire_len, Nanos now) {
    PacketView outer;
    outer.l3 = pv.tunnel.outer_ipv6 ? L3Type::ipv6 : L3Type::ipv4;
    outer.src = pv.tunnel.outer_src;
    outer.dst = pv.tunnel.outer_dst;
    outer.ip_proto = pv.tunnel.outer_proto;
    outer.has_l4 = pv.tunnel.outer_proto == kProtoUdp;
    outer.src_port = pv.tunnel.outer_src_port;
    outer.dst_port = pv.tunnel.outer_dst_port;
    bool from_a = true;
    const FlowKey key = make_flow_key(outer, from_a);
    unsigned dir = 0;
    bool created = false;
    tunnel_flows_->track(key, FlowTable::flow_hash(key), from_a, outer, wire_len, now, dir, created);
    if (created) ++counters_.tunnel_flows_created;
}

void Worker::send_alert(const RuleHit& hit, const PacketView& pv, const Flow* flow, unsigned dir, Nanos now,
                        uint64_t packet_number) {
    Record rec;
    rec.kind = RecordKind::alert;
    rec.worker = uint8_t(id_);
    rec.alert = AlertRecord{};  // the union starts as a flow_end: clear every alert field
    AlertRecord& a = rec.alert;
    a.ts = now;
    a.has_flow = flow != nullptr;
    a.flow_key = flow ? flow->key : FlowKey{};
    a.flow_first_seen = flow ? flow->first_seen : 0;
    a.src = pv.src;
    a.dst = pv.dst;
    a.src_port = pv.src_port;
    a.dst_port = pv.dst_port;
    a.proto = pv.ip_proto;
    a.dir = uint8_t(dir);
    a.app_proto = uint8_t(AppProto::none);
    a.http_tx = kNoHttpTx;
    if (http_ && flow) {
        const HttpAlertTx tx = http_->alert_tx(*flow, dir, *this);
        if (tx.http) a.app_proto = uint8_t(AppProto::http);
        if (tx.has_tx && tx.tx < kNoHttpTx) a.http_tx = tx.tx;
    }
    a.generation = matcher_->database()->generation();
    a.rule_index = hit.rule_index;
    a.dropped = hit.drop && (io_.peer_port != nullptr || outputs_.simulate_ips);
    a.pcap_cnt = packet_number;
    a.tunnel_depth = pv.tunnel.depth;
    if (pv.tunnel.depth) {
        a.outer_src = pv.tunnel.outer_src;
        a.outer_dst = pv.tunnel.outer_dst;
        a.outer_src_port = pv.tunnel.outer_src_port;
        a.outer_dst_port = pv.tunnel.outer_dst_port;
        a.outer_proto = pv.tunnel.outer_proto;
    }
    a.link_type = alert_link_;
    ++counters_.alerts;
    // The packet goes along only when the reporter will write it: every
    // alert's with eve packet logging, a drop's for eve's drop event.
    const bool attach = alert_frame_ && (outputs_.packet_bytes == WorkerOutputs::PacketBytes::all ||
                                         (outputs_.packet_bytes == WorkerOutputs::PacketBytes::drops && hit.drop));
    unsigned n = 1;
    if (attach) {
        const uint32_t len = std::min<uint32_t>(alert_frame_len_, kFrameView);
        a.packet_len = uint16_t(len);
        n += packet_chunks(alert_frame_, len);
    }
    alert_batch_[0] = rec;
    out_->push_all(alert_batch_, n, signals_->lossless);
}

unsigned Worker::packet_chunks(const uint8_t* bytes, uint32_t len) {
    unsigned n = 0;
    for (uint32_t off = 0; off < len; off += kAlertPacketChunk) {
        Record& c = alert_batch_[1 + n++];
        c.kind = RecordKind::alert_packet;
        c.worker = uint8_t(id_);
        c.alert_packet.len = uint16_t(std::min<uint32_t>(kAlertPacketChunk, len - off));
        std::memcpy(c.alert_packet.bytes, bytes + off, c.alert_packet.len);
    }
    return n;
}

bool Worker::enforce(const PacketView& pv, const uint8_t* frame, uint32_t frame_len, uint32_t wire_len, Nanos now,
                     uint16_t link) {
    // The inner addresses decide, as for attribution.
    const DeploymentId src = ownership_ ? ownership_->lookup(pv.src) : kNoDeployment;
    const DeploymentId dst = ownership_ ? ownership_->lookup(pv.dst) : kNoDeployment;
    const Enforcement& e = *enforcement_;
    for (size_t k = 0; k < e.watches.size(); ++k) {
        const EvidenceWatch& w = e.watches[k];
        if (evidence_sent_[k].sent >= w.packets || !w.matches(pv.src, src, pv.dst, dst)) continue;
        ++evidence_sent_[k].sent;
        send_evidence(w.incident, frame, frame_len, wire_len, now, link);
    }
    if (!e.is_blocked(src) && !e.is_blocked(dst)) return false;
    // A tap cannot withhold a packet; a replay as if inline counts what it would have.
    if (!io_.peer_port && !outputs_.simulate_ips) return false;
    ++counters_.blocked;
    return io_.peer_port != nullptr;
}

void Worker::send_evidence(uint64_t incident, const uint8_t* frame, uint32_t frame_len, uint32_t wire_len,
                           Nanos now, uint16_t link) {
    Record rec;
    rec.kind = RecordKind::evidence;
    rec.worker = uint8_t(id_);
    rec.evidence = EvidenceRecord{};
    const uint32_t len = std::min<uint32_t>(frame_len, kFrameView);
    rec.evidence.incident = incident;
    rec.evidence.ts = now;
    rec.evidence.wire_len = wire_len;
    rec.evidence.packet_len = uint16_t(len);
    rec.evidence.link_type = link;
    const unsigned n = 1 + packet_chunks(frame, len);
    alert_batch_[0] = rec;
    // Evidence is best effort live: a full ring loses it (counted as ring drops).
    if (out_->push_all(alert_batch_, n, signals_->lossless)) ++counters_.evidence_packets;
}

void Worker::forward_or_free(rte_mbuf* m) {
    const uint16_t peer = io_.peer_port ? io_.peer_port[m->port] : kNoPeer;
    if (peer == kNoPeer) {
        rte_pktmbuf_free(m);
        return;
    }
    if (nb_tx_pending_ && (peer != tx_pending_port_ || nb_tx_pending_ == kMaxBurst)) flush_tx();
    tx_pending_port_ = peer;
    tx_pending_[nb_tx_pending_++] = m;
    m->port = peer; // the dispatcher's tx path reads the destination from here
}

void Worker::flush_tx() {
    if (!nb_tx_pending_) return;
    unsigned sent;
    if (io_.tx_ring)
        sent = rte_ring_sp_enqueue_burst(io_.tx_ring, reinterpret_cast<void**>(tx_pending_),
                                         nb_tx_pending_, nullptr);
    else
        sent = rte_eth_tx_burst(tx_pending_port_, io_.tx_queue, tx_pending_, uint16_t(nb_tx_pending_));
    counters_.forwarded += sent;
    for (unsigned i = sent; i < nb_tx_pending_; ++i) {
        rte_pktmbuf_free(tx_pending_[i]);
        ++counters_.tx_drops;
    }
    nb_tx_pending_ = 0;
}

void Worker::sync_flow_counters() {
    const FlowTableCounters& c = flows_->counters();
    counters_.flows_created = c.created;
    counters_.flows_expired = c.expired;
    counters_.flows_evicted = c.evicted;
    counters_.flows_active = c.active;
    const DefragCounters& d = defrag_->counters();
    counters_.defrag_reassembled = d.reassembled;
    counters_.defrag_timed_out = d.timed_out;
    counters_.defrag_table_full = d.table_full;
    counters_.defrag_too_large = d.too_large;
    counters_.defrag_invalid = d.invalid;
    counters_.defrag_overlaps = d.overlaps;
    counters_.defrag_tunnelled = d.tunnelled;
    const StreamCounters& s = streams_->counters();
    counters_.stream_attached = s.attached;
    counters_.stream_pool_exhausted = s.pool_exhausted;
    counters_.stream_inspections = s.inspections;
    counters_.stream_bytes_inspected = s.bytes_inspected;
    counters_.stream_retransmitted_bytes = s.retransmitted;
    counters_.stream_gaps = s.gaps;
    counters_.stream_bytes_skipped = s.skipped;
    counters_.stream_ooo_dropped_bytes = s.ooo_dropped;
    if (http_) {
        const HttpCounters& h = http_->counters();
        counters_.http_sessions = h.sessions;
        counters_.http_pool_exhausted = h.pool_exhausted;
        counters_.http_transactions = h.transactions;
        counters_.http_lost = h.lost;
        counters_.http_malformed = h.malformed;
    }
}

// The flow ends: what its TCP streams still hold is inspected now, ACKed or
// not (Suricata does the same with pseudo packets), then the buffers go back
// to the pool. Alerts carry the flow's addresses as sent from that direction.
void Worker::inspect_stream_end(const Flow& flow) {
    StreamInspection inspected[2];
    if (matcher_) {
        Flow scratch = flow; // matching may set flowbits: the flow is over, keep them apart
        for (unsigned dir = 0; dir < 2; ++dir) {
            inspected[dir] = streams_->at_flow_end(flow, dir);
            if (!inspected[dir].chunks.count) continue;
            const PacketView pv = stream_end_packet(flow, dir);
            matcher_->inspect(pv, nullptr, &scratch, dir, inspected[dir],
                              // Stamped with the flow's last packet: the worker's clock at the
                              // end depends on which other flows it carried (and so on the
                              // number of workers).
                              [&](const RuleHit& hit) { send_alert(hit, pv, &flow, dir, flow.last_seen, 0); });
        }
    }
    streams_->release(flow, inspected);
}

void Worker::on_flow_end(void* self, const Flow& flow, FlowEnd why) {
    auto* w = static_cast<Worker*>(self);
    if (w->counter_) w->counter_->flow_ended(flow);
    if (w->http_) {
        // The app layer sees the end of both directions first (Suricata's
        // pseudo packets), at the flow's last packet time: the same for
        // any number of workers.
        w->http_ts_ = flow.last_seen;
        w->http_pcap_cnt_ = 0;
        w->http_->flow_end(flow, *w->streams_, *w);
    }
    w->inspect_stream_end(flow);
    w->send_flow_end(flow, why, /*tunnel_outer=*/false);
    if (w->http_) w->http_->forget(flow);
}

void Worker::on_tunnel_flow_end(void* self, const Flow& flow, FlowEnd why) {
    static_cast<Worker*>(self)->send_flow_end(flow, why, /*tunnel_outer=*/true);
}

void Worker::send_flow_end(const Flow& flow, FlowEnd why, bool tunnel_outer) {
    Record rec;
    rec.kind = RecordKind::flow_end;
    rec.worker = uint8_t(id_);
    FlowEndRecord& r = rec.flow_end;
    r.key = flow.key;
    r.first_seen = flow.first_seen;
    r.last_seen = flow.last_seen;
    r.packets[0] = flow.packets[0];
    r.packets[1] = flow.packets[1];
    r.bytes[0] = flow.bytes[0];
    r.bytes[1] = flow.bytes[1];
    r.flow_id = flow.id;
    r.tcp_state = uint8_t(flow.tcp_state);
    r.tcp_flags[0] = flow.tcp_flags_seen[0];
    r.tcp_flags[1] = flow.tcp_flags_seen[1];
    r.why = uint8_t(why);
    r.initiator_is_a = flow.initiator_is_a;
    r.midstream = flow.midstream;
    r.tunnel_outer = tunnel_outer;
    r.app_proto = uint8_t(!tunnel_outer && http_ && http_->is_http(flow) ? AppProto::http : AppProto::none);
    if (signals_->lossless) out_->push_wait(rec);
    else out_->push(rec);
}

} // namespace sg

namespace sg {

Record& Worker::http_record(const Flow& flow, uint32_t tx, HttpRecord::What what) {
    Record& rec = http_batch_[0];
    rec.kind = RecordKind::http;
    rec.worker = uint8_t(id_);
    rec.http = HttpRecord{};
    HttpRecord& h = rec.http;
    h.flow_key = flow.key;
    h.flow_first_seen = flow.first_seen;
    h.ts = http_ts_;
    h.pcap_cnt = http_pcap_cnt_;
    h.tx = tx;
    h.what = what;
    h.initiator_is_a = flow.initiator_is_a;
    return rec;
}

void Worker::push_http(unsigned n) {
    // Lossless replay waits for the reporter; live, a full ring drops the
    // batch (counted with the ring's drops) and the transaction loses it.
    out_->push_all(http_batch_, n, signals_->lossless);
}

void Worker::http_field(const Flow& flow, uint32_t tx, HttpField field, std::string_view value) {
    const Record head = http_record(flow, tx, HttpRecord::What::field);
    // The parser keeps at most a line of kLineMax bytes: the batch holds it.
    value = value.substr(0, size_t(HttpParser::kLineMax));
    unsigned n = 0;
    size_t off = 0;
    do {
        Record& rec = http_batch_[n++];
        rec = head;
        const size_t len = std::min<size_t>(kHttpTextChunk, value.size() - off);
        rec.http.field = uint8_t(field);
        rec.http.text_len = uint8_t(len);
        rec.http.continued = off > 0;
        std::memcpy(rec.http.text, value.data() + off, len);
        off += len;
    } while (off < value.size());
    push_http(n);
}

void Worker::http_status(const Flow& flow, uint32_t tx, uint16_t status) {
    http_record(flow, tx, HttpRecord::What::status).http.number = status;
    push_http(1);
}

void Worker::http_length(const Flow& flow, uint32_t tx, uint64_t length) {
    http_record(flow, tx, HttpRecord::What::length).http.number = length;
    push_http(1);
}

void Worker::http_file(const Flow& flow, uint32_t tx, HttpSide side, uint64_t size, bool complete) {
    HttpRecord& h = http_record(flow, tx, HttpRecord::What::file).http;
    h.number = size;
    h.side = uint8_t(side);
    h.complete = complete;
    push_http(1);
}

void Worker::http_transaction(const Flow& flow, uint32_t tx) {
    http_record(flow, tx, HttpRecord::What::transaction);
    push_http(1);
}

} // namespace sg
