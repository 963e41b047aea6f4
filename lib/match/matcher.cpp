#include "match/matcher.hpp"

#include <algorithm>
#include <iterator>

#include <hs.h>

namespace sg {

namespace {

RuleGroup group_for_packet(uint8_t ip_proto) {
    switch (ip_proto) {
    case kProtoTcp: return RuleGroup::tcp;
    case kProtoUdp: return RuleGroup::udp;
    case kProtoIcmp:
    case kProtoIcmpv6: return RuleGroup::icmp;
    default: return RuleGroup::ip;
    }
}

bool established(const Flow* f) {
    if (!f) return false;
    // TCP: the handshake completed on an earlier packet (the packet that
    // completes it is not yet "established", as in Suricata); a connection
    // picked up mid-stream never is.
    if (f->key.proto == kProtoTcp)
        return !f->midstream && f->established_at && f->packets[0] + f->packets[1] > f->established_at;
    return f->packets[0] && f->packets[1]; // UDP, ICMP: both sides spoke
}

bool flow_matches(const rules::FlowMatch& fm, const PacketView& pv, const Flow* f, unsigned dir) {
    using D = rules::FlowMatch::Direction;
    using S = rules::FlowMatch::State;
    using F = rules::FlowMatch::Frag;
    if (fm.direction != D::any) {
        if (!f) return false;
        if ((fm.direction == D::to_server) != (dir == 0)) return false;
    }
    if (fm.state == S::established && !established(f)) return false;
    if (fm.state == S::not_established && established(f)) return false;
    if (fm.frag == F::only_frag && !pv.fragment) return false;
    if (fm.frag == F::no_frag && pv.fragment) return false;
    return true;
}

bool ports_apply(const PacketView& pv) {
    return pv.has_l4 && (pv.ip_proto == kProtoTcp || pv.ip_proto == kProtoUdp);
}

bool endpoints_match(const rules::Rule& r, const IpAddress& src, uint16_t sport, const IpAddress& dst,
                     uint16_t dport, bool ports) {
    if (!r.src_addr.contains(src) || !r.dst_addr.contains(dst)) return false;
    if (ports && (!r.src_ports.contains(sport) || !r.dst_ports.contains(dport))) return false;
    // Port lists on a rule for a packet without ports: Suricata's "any" only.
    if (!ports && (!r.src_ports.is_any() || !r.dst_ports.is_any())) return false;
    return true;
}

// IPv4 fragment bits in the rules' numbering.
uint8_t frag_bits(const PacketView& pv, const uint8_t* frame) {
    if (pv.l3 != L3Type::ipv4) return 0;
    const uint8_t b = frame[pv.l3_offset + 6] >> 5; // reserved, DF, MF
    return uint8_t(((b & 1) ? rules::kFragMore : 0) | ((b & 2) ? rules::kFragDont : 0) |
                   ((b & 4) ? rules::kFragReserved : 0));
}

bool has_ip_option(const PacketView& pv, const uint8_t* frame, rules::IpOption want) {
    if (pv.l3 != L3Type::ipv4 || pv.ip_options_len == 0) return false;
    const uint8_t* p = frame + pv.l3_offset + 20;
    const uint8_t* end = p + pv.ip_options_len;
    while (p < end) {
        const uint8_t type = *p;
        uint8_t code;
        switch (type) {
        case 0: code = uint8_t(rules::IpOption::eol); break;
        case 1: code = uint8_t(rules::IpOption::nop); break;
        case 7: code = uint8_t(rules::IpOption::rr); break;
        case 68: code = uint8_t(rules::IpOption::ts); break;
        case 130: code = uint8_t(rules::IpOption::sec); break;
        case 133: code = uint8_t(rules::IpOption::esec); break;
        case 131: code = uint8_t(rules::IpOption::lsrr); break;
        case 137: code = uint8_t(rules::IpOption::ssrr); break;
        case 136: code = uint8_t(rules::IpOption::satid); break;
        default: code = 0xff; break;
        }
        if (want == rules::IpOption::any || code == uint8_t(want)) return true;
        if (type == 0) break;
        if (type == 1) {
            ++p;
            continue;
        }
        if (p + 1 >= end || p[1] < 2) break;
        p += p[1];
    }
    return false;
}

template <class T>
bool number_ok(const std::optional<rules::NumberMatch>& m, T value) {
    return !m || m->matches(uint64_t(value));
}

} // namespace

Matcher::~Matcher() {
    if (scratch_) hs_free_scratch(scratch_);
}

Result<> Matcher::attach(std::shared_ptr<const MatchDatabase> db) {
    hs_scratch* scratch = nullptr;
    if (db) {
        auto s = db->make_scratch();
        if (!s) return s.error();
        scratch = *s;
    }
    if (scratch_) hs_free_scratch(scratch_);
    scratch_ = scratch;
    db_ = std::move(db);
    const size_t n = db_ ? db_->size() : 0;
    hits_.clear();
    hits_.reserve(n);
    candidates_.clear();
    candidates_.reserve(n);
    seen_.assign(n, 0);
    stamp_ = 0;
    return {};
}

int Matcher::on_hs_match(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
    auto* m = static_cast<Matcher*>(ctx);
    if (m->seen_[id] != m->stamp_) {
        m->seen_[id] = m->stamp_;
        m->hits_.push_back(id);
    }
    return 0;
}

std::span<const uint32_t> Matcher::collect(const PacketView& pv, const uint8_t* frame,
                                           const StreamInspection& stream) {
    hits_.clear();
    if (++stamp_ == 0) { // wrapped: forget every old stamp
        std::fill(seen_.begin(), seen_.end(), 0);
        stamp_ = 1;
    }
    const RuleGroup proto_group = group_for_packet(pv.ip_proto);
    const RuleGroup groups[2] = {RuleGroup::ip, proto_group};
    const unsigned n_groups = proto_group == RuleGroup::ip ? 1 : 2;
    for (unsigned i = 0; i < n_groups; ++i) {
        const GroupDatabase& g = db_->group(groups[i]);
        if (!g.db) continue;
        if (pv.payload_len)
            hs_scan(g.db, reinterpret_cast<const char*>(frame + pv.payload_offset), pv.payload_len, 0, scratch_,
                    &Matcher::on_hs_match, this);
        for (unsigned c = 0; c < stream.chunks.count; ++c)
            hs_scan(g.db, reinterpret_cast<const char*>(stream.chunks.span[c].data), stream.chunks.span[c].len, 0,
                    scratch_, &Matcher::on_hs_match, this);
    }
    // The rules without a literal (already merged in rule order per group)
    // never have a Hyperscan id, so they and the hits are disjoint: only the
    // few hits need sorting, then one merge.
    const std::vector<uint32_t>& always = db_->group(proto_group).packet_always;
    if (hits_.empty()) return always;
    std::sort(hits_.begin(), hits_.end());
    candidates_.clear();
    std::merge(always.begin(), always.end(), hits_.begin(), hits_.end(), std::back_inserter(candidates_));
    return candidates_;
}

bool Matcher::payload_matches(const CompiledRule& cr, const PacketView& pv, const uint8_t* frame,
                              const StreamInspection& stream) {
    if (cr.scope != PayloadScope::packet)
        for (unsigned c = 0; c < stream.chunks.count; ++c)
            if (match_payload(cr.payload, stream.chunks.span[c].data, stream.chunks.span[c].len, payload_scratch_))
                return true;
    // A stream rule sees a packet's payload alone only when it went into no
    // stream (not TCP, picked up mid-stream, no buffer left).
    if (cr.scope == PayloadScope::stream && stream.payload_in_stream) return false;
    return pv.payload_len && match_payload(cr.payload, frame + pv.payload_offset, pv.payload_len, payload_scratch_);
}

bool Matcher::evaluate(const CompiledRule& cr, const PacketView& pv, const uint8_t* frame, Flow* flow,
                       unsigned dir, const StreamInspection& stream) {
    const rules::Rule& r = *cr.rule;
    // At flow end there is no packet: only what the stream still held.
    if (stream.flow_end && (cr.payload.steps.empty() || cr.scope == PayloadScope::packet)) return false;
    if (cr.ip_only && flow && flow->packets[dir] != 1) return false;
    if (r.protocol == rules::Protocol::icmpv4 && pv.ip_proto != kProtoIcmp) return false;
    if (r.protocol == rules::Protocol::icmpv6 && pv.ip_proto != kProtoIcmpv6) return false;
    if ((r.protocol == rules::Protocol::tcp || r.protocol == rules::Protocol::udp) && !pv.has_l4) return false;

    const bool ports = ports_apply(pv);
    if (!endpoints_match(r, pv.src, pv.src_port, pv.dst, pv.dst_port, ports) &&
        !(r.bidirectional && endpoints_match(r, pv.dst, pv.dst_port, pv.src, pv.src_port, ports)))
        return false;

    if (r.flow && !flow_matches(*r.flow, pv, flow, dir)) return false;
    const bool tcp = pv.has_l4 && pv.ip_proto == kProtoTcp;
    const bool icmp = pv.has_l4 && (pv.ip_proto == kProtoIcmp || pv.ip_proto == kProtoIcmpv6);
    if (r.flags && (!tcp || !r.flags->matches(pv.tcp_flags))) return false;
    if (r.fragbits && !r.fragbits->matches(frag_bits(pv, frame))) return false;
    if (!number_ok(r.dsize, pv.payload_len)) return false;
    if (!number_ok(r.ttl, pv.ttl) || !number_ok(r.tos, pv.ip_tos) || !number_ok(r.ip_id, pv.ip_id)) return false;
    if (!number_ok(r.ip_proto, pv.ip_proto) || !number_ok(r.fragoffset, pv.frag_offset)) return false;
    if ((r.window || r.seq || r.ack) &&
        (!tcp || !number_ok(r.window, pv.tcp_window) || !number_ok(r.seq, pv.tcp_seq) || !number_ok(r.ack, pv.tcp_ack)))
        return false;
    if ((r.itype || r.icode) && (!icmp || !number_ok(r.itype, pv.icmp_type) || !number_ok(r.icode, pv.icmp_code)))
        return false;
    if (r.icmp_id || r.icmp_seq) {
        const bool echo = icmp && (pv.icmp_type == 0 || pv.icmp_type == 8 || pv.icmp_type == 128 || pv.icmp_type == 129);
        if (!echo || !number_ok(r.icmp_id, pv.icmp_id) || !number_ok(r.icmp_seq, pv.icmp_seq)) return false;
    }
    for (rules::IpOption o : r.ipopts)
        if (!has_ip_option(pv, frame, o)) return false;
    if (r.sameip && pv.src != pv.dst) return false;

    if (!cr.payload.steps.empty() && !payload_matches(cr, pv, frame, stream)) return false;

    const uint64_t bits = flow ? flow->flowbits : 0;
    if ((bits & cr.flowbits_isset_all) != cr.flowbits_isset_all) return false;
    if (cr.flowbits_isset_any && !(bits & cr.flowbits_isset_any)) return false;
    if (bits & cr.flowbits_isnotset_all) return false;
    if (cr.flowbits_isnotset_any && (bits & cr.flowbits_isnotset_any) == cr.flowbits_isnotset_any) return false;
    if (flow) {
        flow->flowbits |= cr.flowbits_set;
        flow->flowbits &= ~cr.flowbits_unset;
        flow->flowbits ^= cr.flowbits_toggle;
    }
    return true;
}

} // namespace sg
