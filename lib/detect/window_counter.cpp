#include "detect/window_counter.hpp"

#include <rte_errno.h>
#include <rte_ring.h>

#include <fmt/format.h>

namespace sg {

namespace {

bool is_service_port(const uint64_t* bits, uint16_t port) {
    return bits && (bits[port >> 6] >> (port & 63) & 1);
}

// The "port" an ICMP probe is counted under: the echo request's type, which
// is what a ping sweep sends (the reply's type differs).
uint16_t first_probe_port(uint8_t proto) { return proto == kProtoIcmp ? 8 : 128; }

// The "port" a probe is aimed at: the destination port, or the ICMP type.
uint16_t probe_port(const PacketView& pv) {
    if (pv.ip_proto == kProtoIcmp || pv.ip_proto == kProtoIcmpv6) return pv.icmp_type;
    return pv.dst_port;
}

void count_packet(TrafficCounters& c, const PacketView& pv, uint32_t len) {
    ++c.packets;
    c.bytes += len;
    if (pv.fragment) ++c.fragments;
    switch (pv.ip_proto) {
    case kProtoTcp:
        if (pv.has_l4) {
            const uint8_t f = pv.tcp_flags & (kTcpSyn | kTcpAck | kTcpRst);
            if (f == kTcpSyn) ++c.syn;
            else if (f == (kTcpSyn | kTcpAck)) ++c.synack;
            if (f & kTcpRst) ++c.rst;
        }
        break;
    case kProtoUdp: ++c.udp; break;
    case kProtoIcmp:
    case kProtoIcmpv6: ++c.icmp; break;
    default: break;
    }
}

} // namespace

Result<std::unique_ptr<WindowCounter>> WindowCounter::create(unsigned worker, const CountingParams& params) {
    if (params.pool < 2) return make_error("a window counter needs at least 2 summaries");
    if (!params.ownership) return make_error("a window counter needs the deployments' ownership table");
    std::unique_ptr<WindowCounter> c(new WindowCounter);
    c->params_ = params;
    c->blocks_ = std::make_unique<WindowSummary[]>(params.pool);
    const std::string name = fmt::format("sg_win_{}", worker);
    // One slot more than the pool: the ring never refuses a block.
    c->free_ = rte_ring_create(name.c_str(), rte_align32pow2(params.pool + 1), SOCKET_ID_ANY,
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!c->free_) return make_error(fmt::format("cannot create ring {}: {}", name, rte_strerror(rte_errno)));
    c->current_ = &c->blocks_[0];
    c->current_->clear();
    for (unsigned i = 1; i < params.pool; ++i) {
        WindowSummary* s = &c->blocks_[i];
        rte_ring_sp_enqueue(c->free_, s);
    }
    return c;
}

WindowCounter::~WindowCounter() {
    if (free_) rte_ring_free(free_);
}

void WindowCounter::classify_flow(Flow& flow) const {
    flow.deployment[0] = params_.ownership->lookup(flow.key.a);
    flow.deployment[1] = params_.ownership->lookup(flow.key.b);
}

void WindowCounter::observe(const PacketView& pv, const Flow* flow, unsigned dir, bool created, uint32_t len,
                            Nanos now) {
    WindowSummary& w = *current_;
    ++w.packets;
    if (!w.first_packet || now < w.first_packet) w.first_packet = now;
    if (now > w.last_packet) w.last_packet = now;

    DeploymentId src_dep, dst_dep;
    if (flow) {
        const bool src_is_a = pv.src == flow->key.a;
        src_dep = flow->deployment[src_is_a ? 0 : 1];
        dst_dep = flow->deployment[src_is_a ? 1 : 0];
    } else {
        src_dep = params_.ownership->lookup(pv.src);
        dst_dep = params_.ownership->lookup(pv.dst);
    }
    if (src_dep == kNoDeployment && dst_dep == kNoDeployment) {
        ++w.transit_packets;
        return;
    }

    const uint64_t src_hash = summary_hash(pv.src);
    const uint64_t dst_hash = summary_hash(pv.dst);
    const uint64_t port_hash = pv.has_l4 ? sketch_hash(&pv.dst_port, sizeof pv.dst_port) : 0;
    const bool udp = pv.ip_proto == kProtoUdp && pv.has_l4;
    const unsigned refl_dst = udp ? reflection_service_of_port(pv.dst_port) : kReflectionServices;
    const unsigned refl_src = udp ? reflection_service_of_port(pv.src_port) : kReflectionServices;

    // Per protected host, both ends.
    if (dst_dep != kNoDeployment) {
        if (HostStats* h = w.hosts.get(pv.dst, dst_hash, dst_dep)) {
            count_packet(h->in, pv, len);
            h->peers_in.add(src_hash);
            if (pv.has_l4) h->ports_in.add(port_hash);
            if (refl_dst < kReflectionServices) h->reflection[refl_dst].requests_in.add(len);
            if (refl_src < kReflectionServices) h->reflection[refl_src].responses_in.add(len);
        }
    }
    if (src_dep != kNoDeployment) {
        if (HostStats* h = w.hosts.get(pv.src, src_hash, src_dep)) {
            count_packet(h->out, pv, len);
            h->peers_out.add(dst_hash);
            if (pv.has_l4) h->ports_out.add(port_hash);
            if (refl_src < kReflectionServices) h->reflection[refl_src].responses_out.add(len);
            if (refl_dst < kReflectionServices) h->reflection[refl_dst].requests_out.add(len);
        }
    }

    // Floods: every destination, and who sends to it.
    TargetStats& t = w.targets.add(AddressKey{pv.dst}, dst_hash, 1);
    count_packet(t.in, pv, len);
    t.sources.add(src_hash);
    if (pv.ip_proto == kProtoTcp && pv.has_l4 && (pv.tcp_flags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck)) {
        // A SYN-ACK answers SYNs sent to its source.
        if (TargetStats* answered = w.targets.find_value(AddressKey{pv.src}, src_hash)) ++answered->synack_out;
    }
    const PairKey pair{pv.src, pv.dst};
    w.pairs.add(pair, summary_hash(pair), 1);

    if (!flow) return;
    // Flow events: a new flow from its initiator is a probe (scans, sweeps,
    // login attempts); the first answer and the completed handshake tell
    // open from closed.
    const bool tcp = flow->key.proto == kProtoTcp;
    // A datagram from a reflection service's port that opens a flow answers
    // a request we did not see (reflected at a forged source): a response,
    // not a probe. Counted as probes, the reflectors of an amplification
    // attack would each look like a port scanner of its victim.
    if (created && dir == 0 && refl_src < kReflectionServices) return;
    if (created && dir == 0) {
        const PairKey scan{pv.src, pv.dst};
        ScanStats& s = w.scans.add(scan, summary_hash(scan), 1);
        ++s.probes;
        const uint16_t port = probe_port(pv);
        s.ports.add(sketch_hash(&port, sizeof port));
        SweepKey sk;
        sk.src = pv.src;
        sk.port = port;
        sk.proto = pv.ip_proto;
        sk.target_deployment = dst_dep;
        SweepStats& sw = w.sweeps.add(sk, summary_hash(sk), 1);
        ++sw.probes;
        sw.targets.add(dst_hash);
        if (tcp && is_service_port(params_.service_ports, pv.dst_port)) {
            ServiceKey k;
            k.src = pv.src;
            k.dst = pv.dst;
            k.port = pv.dst_port;
            ++w.services.add(k, summary_hash(k), 1).attempts;
        }
        return;
    }
    // From the responder, its first packet: its source is the flow's target.
    if (dir == 1 && flow->packets[1] == 1 && !(tcp && (pv.tcp_flags & kTcpRst))) {
        const PairKey scan{pv.dst, pv.src};
        if (ScanStats* s = w.scans.find_value(scan, summary_hash(scan))) ++s->answered;
        SweepKey sk;
        sk.src = pv.dst;
        sk.port = tcp || udp ? pv.src_port : first_probe_port(flow->key.proto);
        sk.proto = flow->key.proto;
        sk.target_deployment = src_dep;
        if (SweepStats* s = w.sweeps.find_value(sk, summary_hash(sk))) ++s->answered;
    }
    const bool completes_handshake =
        tcp && flow->established_at && flow->established_at == flow->packets[0] + flow->packets[1];
    if (completes_handshake) {
        // The handshake completed with this packet. The initiator is the
        // endpoint that is not this packet's sender when dir is 1.
        const IpAddress& client = dir == 0 ? pv.src : pv.dst;
        const IpAddress& server = dir == 0 ? pv.dst : pv.src;
        const uint16_t server_port = dir == 0 ? pv.dst_port : pv.src_port;
        const PairKey scan{client, server};
        if (ScanStats* s = w.scans.find_value(scan, summary_hash(scan))) ++s->established;
        SweepKey sk;
        sk.src = client;
        sk.port = server_port;
        sk.proto = kProtoTcp;
        sk.target_deployment = dir == 0 ? dst_dep : src_dep;
        if (SweepStats* s = w.sweeps.find_value(sk, summary_hash(sk))) ++s->established;
        if (is_service_port(params_.service_ports, server_port)) {
            ServiceKey k;
            k.src = client;
            k.dst = server;
            k.port = server_port;
            if (ServiceStats* s = w.services.find_value(k, summary_hash(k))) ++s->established;
        }
    }
}

void WindowCounter::flow_ended(const Flow& flow) {
    if (flow.key.proto != kProtoTcp) return;
    const IpAddress& client = flow.initiator_is_a ? flow.key.a : flow.key.b;
    const IpAddress& server = flow.initiator_is_a ? flow.key.b : flow.key.a;
    const uint16_t port = flow.initiator_is_a ? flow.key.port_b : flow.key.port_a;
    if (!is_service_port(params_.service_ports, port) || flow.midstream) return;
    if (flow.deployment[0] == kNoDeployment && flow.deployment[1] == kNoDeployment) return;
    ServiceKey k;
    k.src = client;
    k.dst = server;
    k.port = port;
    // Counted in the window where the connection ended, which may not be
    // the one it started in: the key may have left the table meanwhile,
    // and then the outcome enters with weight 0 (the attempt was counted).
    ServiceStats& s = current_->services.add(k, summary_hash(k), 0);
    ++s.ended;
    const uint64_t payload = flow.payload_bytes[0] + flow.payload_bytes[1];
    const bool rejected = !flow.established_at;
    const bool reset = flow.tcp_state == TcpState::reset;
    if (rejected || reset || payload < params_.short_connection_bytes) ++s.failed;
}

WindowSummary* WindowCounter::fresh() {
    void* p = nullptr;
    if (rte_ring_sc_dequeue(free_, &p) != 0) return nullptr;
    auto* s = static_cast<WindowSummary*>(p);
    s->clear();
    return s;
}

bool WindowCounter::can_advance() const { return !rte_ring_empty(free_); }

WindowSummary* WindowCounter::advance(uint64_t index) {
    if (!current_) return nullptr;
    if (!started_) {
        started_ = true;
        current_->index = index;
        return nullptr;
    }
    if (index <= current_->index) return nullptr;
    WindowSummary* next = fresh();
    if (!next) {
        // The reporter still holds every other block: keep counting into
        // this one, which then stands for the later window too.
        ++overruns_;
        current_->index = index;
        return nullptr;
    }
    WindowSummary* done = current_;
    done->next_index = index;
    next->index = index;
    current_ = next;
    return done;
}

WindowSummary* WindowCounter::take_final() {
    WindowSummary* done = current_;
    current_ = nullptr;
    return done;
}

void WindowCounter::give_back(WindowSummary* s) { rte_ring_sp_enqueue(free_, s); }

} // namespace sg
