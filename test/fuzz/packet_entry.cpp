// Fuzz entry "packet": the worker's packet path (lib/pipeline/worker.cpp,
// Worker::process_packet and inspect_ip) without the rings and mbufs, on
// the frames of one input:
//
//   byte 0     link type (LinkType, modulo its 8 values)
//   byte 1     packet time between frames, in units of 100 ms
//   then       frames: [u16 big-endian length][bytes]; a length past the end
//              takes what is left
//
// Each frame is copied into a buffer of exactly its length, so that a read
// past the frame is a heap overflow the sanitizer sees. The flow table, the
// stream and HTTP trackers and the matcher live for the whole process (EAL
// is needed for rte_hash); every input ends with a flush, so each starts on
// an empty table. The IPv4 reassembler is made per input.

#include "fuzz_entries.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include <fmt/format.h>
#include <rte_eal.h>

#include "defrag/ipv4_defrag.hpp"
#include "flow/flow_key.hpp"
#include "flow/flow_table.hpp"
#include "http/http_tracker.hpp"
#include "match/classification.hpp"
#include "match/database.hpp"
#include "match/matcher.hpp"
#include "match/rule_parser.hpp"
#include "parse/decode.hpp"
#include "stream/stream_tracker.hpp"

namespace sg::fuzz {
namespace {

constexpr uint32_t kWorkerFrameMax = 16384;  // the worker's contiguous view (frame_buf_)
constexpr unsigned kMaxFrames = 64;
constexpr Nanos kStart = 1'700'000'000 * kNsPerSec;

// Reads every byte of a span, so an out-of-bounds span is a sanitizer report.
uint32_t touch(const uint8_t* p, uint32_t n) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; ++i) sum += p[i];
    return sum;
}

class NullSink final : public HttpSink {
public:
    uint64_t bytes = 0;
    void http_field(const Flow&, uint32_t, HttpField, std::string_view v) override { bytes += touch(reinterpret_cast<const uint8_t*>(v.data()), uint32_t(v.size())); }
    void http_status(const Flow&, uint32_t, uint16_t) override {}
    void http_length(const Flow&, uint32_t, uint64_t) override {}
    void http_file(const Flow&, uint32_t, HttpSide, uint64_t, bool) override {}
    void http_transaction(const Flow&, uint32_t) override {}
};

// What Worker holds, minus rings and counters.
struct Path {
    std::unique_ptr<FlowTable> flows;
    std::unique_ptr<FlowTable> tunnel_flows;
    std::unique_ptr<StreamTracker> streams;
    std::unique_ptr<HttpTracker> http;
    std::shared_ptr<const MatchDatabase> db;
    Matcher matcher;
    NullSink sink;
    uint64_t ended = 0;
    uint64_t tunnel_ended = 0;
    uint64_t alerts = 0;
    std::string problem;
};
Path* g_path = nullptr;

void note(std::string text) {
    if (g_path->problem.empty()) g_path->problem = std::move(text);
}

void check_chunks(const StreamInspection& insp) {
    if (insp.chunks.count > 2) note(fmt::format("stream inspection with {} spans", insp.chunks.count));
    for (unsigned i = 0; i < insp.chunks.count && i < 2; ++i)
        if (insp.chunks.span[i].len) touch(insp.chunks.span[i].data, insp.chunks.span[i].len);
}

// Worker::on_flow_end: HTTP sees the end, then the stream's rest is matched.
void on_flow_end(void*, const Flow& flow, FlowEnd) {
    Path& p = *g_path;
    ++p.ended;
    if (flow.packets[0] + flow.packets[1] == 0) note("a flow ended without a packet");
    p.http->flow_end(flow, *p.streams, p.sink);
    StreamInspection inspected[2];
    Flow scratch = flow;
    for (unsigned dir = 0; dir < 2; ++dir) {
        inspected[dir] = p.streams->at_flow_end(flow, dir);
        check_chunks(inspected[dir]);
        if (!inspected[dir].chunks.count) continue;
        const PacketView pv = stream_end_packet(flow, dir);
        p.matcher.inspect(pv, nullptr, &scratch, dir, inspected[dir], [&](const RuleHit&) { ++p.alerts; });
    }
    p.streams->release(flow, inspected);
    p.http->forget(flow);
}

void on_tunnel_flow_end(void*, const Flow&, FlowEnd) { ++g_path->tunnel_ended; }

// The view must describe bytes of the frame only.
void check_view(const PacketView& pv, uint32_t len, const char* what) {
    const uint32_t limit = std::min<uint32_t>(len, 0xFFFF);
    if (uint32_t(pv.payload_offset) + pv.payload_len > limit)
        note(fmt::format("{}: payload [{}, +{}) past the frame ({} bytes)", what, pv.payload_offset, pv.payload_len, len));
    if (pv.wire_payload_len < pv.payload_len)
        note(fmt::format("{}: wire payload {} below captured payload {}", what, pv.wire_payload_len, pv.payload_len));
    if ((pv.l3 == L3Type::ipv4 || pv.l3 == L3Type::ipv6 || pv.l3 == L3Type::arp) &&
        uint32_t(pv.l3_offset) + pv.l3_len > limit)
        note(fmt::format("{}: L3 header [{}, +{}) past the frame ({} bytes)", what, pv.l3_offset, pv.l3_len, len));
    if (pv.has_l4 && pv.l4_offset >= limit)
        note(fmt::format("{}: L4 header at {} past the frame ({} bytes)", what, pv.l4_offset, len));
}

// Worker::ip_level_only: a fragment is matched at the IP level only.
void ip_level_only(PacketView& pv, const uint8_t* frame, uint32_t frame_len) {
    pv.has_l4 = false;
    pv.l4_offset = 0;
    pv.src_port = pv.dst_port = 0;
    pv.tcp_flags = 0;
    pv.tcp_seq = pv.tcp_ack = 0;
    pv.tcp_window = 0;
    pv.icmp_type = pv.icmp_code = 0;
    pv.icmp_id = pv.icmp_seq = 0;
    const uint32_t total_len = uint32_t(frame[pv.l3_offset + 2]) << 8 | frame[pv.l3_offset + 3];
    const uint32_t start = uint32_t(pv.l3_offset) + pv.l3_len;
    const uint32_t end = std::min(frame_len, uint32_t(pv.l3_offset) + total_len);
    pv.payload_offset = uint16_t(start);
    pv.payload_len = uint16_t(end > start ? end - start : 0);
    pv.wire_payload_len = total_len > pv.l3_len ? total_len - pv.l3_len : 0;
}

// Worker::inspect_ip without the detectors and records.
void inspect_ip(PacketView& pv, const uint8_t* frame, uint32_t wire_len, Nanos now) {
    Path& p = *g_path;
    const bool l4_expected = pv.ip_proto == kProtoTcp || pv.ip_proto == kProtoUdp ||
                             pv.ip_proto == kProtoIcmp || pv.ip_proto == kProtoIcmpv6;
    Flow* flow = nullptr;
    unsigned dir = 0;
    if (!pv.later_fragment && (pv.has_l4 || !l4_expected)) {
        bool from_a = true;
        const FlowKey key = make_flow_key(pv, from_a);
        bool created = false;
        flow = &p.flows->track(key, FlowTable::flow_hash(key), from_a, pv, wire_len, now, dir, created);
        if (dir > 1) note(fmt::format("flow direction {}", dir));
        bool back = true;
        PacketView reversed = pv;
        std::swap(reversed.src, reversed.dst);
        std::swap(reversed.src_port, reversed.dst_port);
        if (!(make_flow_key(reversed, back) == key) && pv.ip_proto != kProtoIcmp && pv.ip_proto != kProtoIcmpv6)
            note("the flow key of the reverse direction differs");
    }
    StreamInspection stream;
    if (flow) {
        stream = p.streams->on_packet(*flow, dir, pv, frame);
        check_chunks(stream);
        p.http->on_packet(*flow, dir, pv, frame, *p.streams, p.sink);
    }
    p.matcher.inspect(pv, frame, flow, dir, stream, [&](const RuleHit&) {
        ++p.alerts;
        if (flow) p.http->alert_tx(*flow, dir, p.sink);
    });
    if (flow) {
        p.streams->inspected(*flow, dir, stream);
        p.http->after_detect(*flow, dir);
    }
}

void track_tunnel_flow(const PacketView& pv, uint32_t wire_len, Nanos now) {
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
    g_path->tunnel_flows->track(key, FlowTable::flow_hash(key), from_a, outer, wire_len, now, dir, created);
}

void process_frame(Ipv4Defrag& defrag, const uint8_t* frame, uint32_t len, LinkType link, Nanos now) {
    const uint32_t view_len = std::min(len, kWorkerFrameMax);
    PacketView pv;
    decode(frame, view_len, pv, link);
    check_view(pv, view_len, "frame");
    if (pv.tunnel.depth) track_tunnel_flow(pv, len, now);
    if (pv.l3 != L3Type::ipv4 && pv.l3 != L3Type::ipv6) return;
    // Dispatcher::spread: the IP pair picks the worker.
    FlowKey pair;
    pair.a = pv.src < pv.dst ? pv.src : pv.dst;
    pair.b = pv.src < pv.dst ? pv.dst : pv.src;
    pair.tunnel_id = pv.tunnel.id;
    (void)FlowTable::flow_hash(pair);

    std::span<const uint8_t> reassembled;
    if (pv.l3 == L3Type::ipv4 && pv.fragment) {
        reassembled = defrag.add(frame, view_len, pv, now);
        if (pv.tunnel.depth == 0) ip_level_only(pv, frame, view_len);
        check_view(pv, view_len, "fragment");
    }
    inspect_ip(pv, frame, len, now);
    if (!reassembled.empty()) {
        // The datagram gets a buffer of its own size too.
        const std::vector<uint8_t> whole_bytes(reassembled.begin(), reassembled.end());
        const auto whole_len = uint32_t(whole_bytes.size());
        PacketView whole;
        decode(whole_bytes.data(), whole_len, whole, link);
        check_view(whole, whole_len, "reassembled");
        if (whole.l3 != L3Type::ipv4 || whole.fragment || whole.tunnel.depth)
            note("a reassembled datagram does not decode as an unfragmented IPv4 packet");
        inspect_ip(whole, whole_bytes.data(), whole_len, now);
    }
}

} // namespace

bool init_packet() {
    if (g_path) return true;
    // No hugepages, NIC or shared runtime directory (../shared/docs/dpdk-here.md).
    char arg0[] = "sg-fuzz", no_huge[] = "--no-huge", no_pci[] = "--no-pci", no_shconf[] = "--no-shconf",
         no_telemetry[] = "--no-telemetry", mem_opt[] = "-m", mem[] = "128", log[] = "--log-level=error",
         lcore_opt[] = "-l", lcore[] = "0";
    char* eal_argv[] = {arg0, no_huge, no_pci, no_shconf, no_telemetry, mem_opt, mem, log, lcore_opt, lcore};
    if (rte_eal_init(int(std::size(eal_argv)), eal_argv) < 0) {
        std::fprintf(stderr, "fuzz packet: rte_eal_init failed\n");
        return false;
    }
    auto p = std::make_unique<Path>();
    FlowTableConfig fc;
    fc.capacity = 16;  // small: eviction is part of the path
    fc.tcp_closed_idle = 5 * kNsPerSec;
    fc.udp_idle = 10 * kNsPerSec;
    fc.other_idle = 10 * kNsPerSec;
    fc.tcp_idle = 60 * kNsPerSec;
    fc.name = "fuzz_flows";
    auto flows = FlowTable::create(fc, &on_flow_end, nullptr);
    fc.name = "fuzz_tunnels";
    auto tunnels = FlowTable::create(fc, &on_tunnel_flow_end, nullptr);
    auto streams = StreamTracker::create({.buffers = 4, .buffer_size = 4096, .chunk_size = 256});
    auto http = HttpTracker::create({.sessions = 4, .flow_capacity = std::max<uint32_t>(fc.capacity, 8)});
    if (!flows || !tunnels || !streams || !http) {
        std::fprintf(stderr, "fuzz packet: cannot create the worker's tables\n");
        return false;
    }
    p->flows = std::move(*flows);
    p->tunnel_flows = std::move(*tunnels);
    p->streams = std::move(*streams);
    p->http = std::move(*http);

    // The shipped rules and a few more that use every kind of payload keyword.
    rules::Vars vars;
    vars.set_home_net({*Prefix::parse("10.0.0.0/8"), *Prefix::parse("192.168.0.0/16"),
                       *Prefix::parse("172.16.0.0/12"), *Prefix::parse("fd00::/8")});
    auto classes = rules::load_classifications(SG_SOURCE_ROOT "/rules/classification.config");
    if (!classes) {
        std::fprintf(stderr, "fuzz packet: %s\n", classes.error().message.c_str());
        return false;
    }
    auto parse = rules::parse_rules_files({SG_SOURCE_ROOT "/rules/safeguard.rules", SG_SOURCE_ROOT "/test/fuzz/packet.rules"},
                                          vars, *classes);
    if (!parse.ok()) {
        std::fprintf(stderr, "fuzz packet: %s\n", parse.errors.front().text().c_str());
        return false;
    }
    auto db = MatchDatabase::build(std::move(parse.rules), 1, *classes);
    if (!db || !p->matcher.attach(*db)) {
        std::fprintf(stderr, "fuzz packet: cannot compile the rules\n");
        return false;
    }
    g_path = p.release();
    return true;
}

void shutdown_packet() {
    delete g_path;  // flow tables before EAL: rte_hash lives in its memory
    g_path = nullptr;
    rte_eal_cleanup();
}

std::string packet(const uint8_t* data, size_t size) {
    if (!g_path && !init_packet()) return "the packet path could not be set up";
    Path& p = *g_path;
    p.problem.clear();
    if (size < 2) return {};
    const auto link = LinkType(data[0] % 8);
    const Nanos step = Nanos(data[1]) * 100 * kNsPerMs;
    Ipv4Defrag defrag({.trackers = 4, .max_payload = kWorkerFrameMax, .timeout = 60 * kNsPerSec});
    const uint64_t created_before = p.flows->counters().created;
    const uint64_t ended_before = p.ended;
    Nanos now = kStart;
    size_t at = 2;
    for (unsigned n = 0; n < kMaxFrames && at + 2 <= size; ++n) {
        const size_t want = size_t(data[at]) << 8 | data[at + 1];
        at += 2;
        const size_t len = std::min(want, size - at);
        const std::vector<uint8_t> frame(data + at, data + at + len);
        at += len;
        process_frame(defrag, frame.data(), uint32_t(frame.size()), link, now);
        p.flows->expire(now, 4);
        now += step;
    }
    p.flows->flush();
    p.tunnel_flows->flush();
    const FlowTableCounters& c = p.flows->counters();
    if (c.active != 0) note(fmt::format("{} flows still active after flush()", c.active));
    if (c.insert_failed != 0) note("rte_hash refused a key");
    if (c.created - created_before != p.ended - ended_before)
        note(fmt::format("{} flows created but {} ended", c.created - created_before, p.ended - ended_before));
    if (p.streams->free_buffers() != 4) note("a stream buffer was not given back at flow end");
    if (p.http->free_sessions() != 4) note("an HTTP session was not given back at flow end");
    return p.problem;
}

} // namespace sg::fuzz
