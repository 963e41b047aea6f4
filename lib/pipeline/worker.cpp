#include "pipeline/worker.hpp"

#include <sched.h>
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

Nanos wall_clock_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return Nanos(ts.tv_sec) * kNsPerSec + Nanos(ts.tv_nsec);
}

} // namespace

Result<std::unique_ptr<Worker>> Worker::create(unsigned id, const WorkerIo& io,
                                               const FlowTableConfig& flows, RecordRing* out,
                                               WorkerSignals* signals, uint32_t burst) {
    std::unique_ptr<Worker> w(new Worker(id, io, out, signals, burst));
    auto table = FlowTable::create(flows, &Worker::on_flow_end, w.get());
    if (!table) return table.error();
    w->flows_ = std::move(*table);
    return w;
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
    for (;;) {
        const unsigned n = receive(pkts);
        if (n) {
            process_burst(pkts, n);
            idle = 0;
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
        if (!signals_->lossless && clock_) flows_->expire(clock_, kExpireBudget);
        sync_flow_counters();
        if (rules_) rules_->quiescent(id_);
        if (++idle >= kIdleSpinsBeforeYield) {
            sched_yield();
            idle = 0;
        } else {
            rte_pause();
        }
    }
    flush_tx();
    flows_->flush();
    sync_flow_counters();
    counters_.ring_drops = out_->drops();
    if (rules_) rules_->offline(id_);
    finished_.store(true, std::memory_order_release);
    return 0;
}

void Worker::process_burst(rte_mbuf** pkts, unsigned n) {
    // Packets without a driver timestamp (live NICs) share one TSC reading.
    const Nanos fallback_now = live_now();
    // The rule set is read once per burst; the quiescent point after the
    // burst tells a reload that this worker no longer uses the old one.
    matcher_ = rules_ ? rules_->matcher(id_) : nullptr;
    for (unsigned i = 0; i < n; ++i) {
        if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
        process_packet(pkts[i], fallback_now);
    }
    sync_flow_counters();
    counters_.ring_drops = out_->drops();
    matcher_ = nullptr;
    if (rules_) rules_->quiescent(id_);
}

void Worker::process_packet(rte_mbuf* m, Nanos fallback_now) {
    const uint32_t len = rte_pktmbuf_pkt_len(m);
    ++counters_.packets;
    counters_.bytes += len;

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

    switch (pv.l3) {
    case L3Type::ipv4: ++counters_.ipv4; break;
    case L3Type::ipv6: ++counters_.ipv6; break;
    case L3Type::arp: ++counters_.arp; break;
    case L3Type::other: ++counters_.other_l3; break;
    case L3Type::none: break;
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
        // Later fragments carry no ports: they are counted, not tracked.
        // A packet whose transport header is broken is not tracked either.
        const bool l4_expected = pv.ip_proto == kProtoTcp || pv.ip_proto == kProtoUdp ||
                                 pv.ip_proto == kProtoIcmp || pv.ip_proto == kProtoIcmpv6;
        Flow* flow = nullptr;
        unsigned dir = 0;
        if (!pv.later_fragment && (pv.has_l4 || !l4_expected)) {
            bool from_a = true;
            const FlowKey key = make_flow_key(pv, from_a);
            bool created = false;
            flow = &flows_->track(key, FlowTable::flow_hash(key), from_a, pv, len, now, dir, created);
        }
        bool drop = false;
        if (matcher_)
            matcher_->inspect(pv, frame, flow, dir, [&](const RuleHit& hit) {
                drop = drop || hit.drop;
                send_alert(hit, pv, flow, dir, now, signals_->lossless ? pcap_cnt(m) : 0);
            });
        if (drop && io_.peer_port) {
            ++counters_.rule_drops;
            rte_pktmbuf_free(m);
            return;
        }
    }
    forward_or_free(m);
}

void Worker::send_alert(const RuleHit& hit, const PacketView& pv, const Flow* flow, unsigned dir, Nanos now,
                        uint64_t packet_number) {
    Record rec;
    rec.kind = RecordKind::alert;
    rec.worker = uint8_t(id_);
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
    a.generation = matcher_->database()->generation();
    a.rule_index = hit.rule_index;
    a.dropped = hit.drop && io_.peer_port != nullptr;
    a.pcap_cnt = packet_number;
    ++counters_.alerts;
    if (signals_->lossless) out_->push_wait(rec);
    else out_->push(rec);
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
}

void Worker::on_flow_end(void* self, const Flow& flow, FlowEnd why) {
    auto* w = static_cast<Worker*>(self);
    Record rec;
    rec.kind = RecordKind::flow_end;
    rec.worker = uint8_t(w->id_);
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
    if (w->signals_->lossless) w->out_->push_wait(rec);
    else w->out_->push(rec);
}

} // namespace sg
