#pragma once
// A sensor in a test: real workers' counting (a FlowTable and a
// WindowCounter each, fed as lib/pipeline/worker.cpp feeds them) and the
// reporter's DetectionEngine, with packets built field by field. Traffic is
// a list of timed packets; feed() dispatches them by flow to the workers and
// sends every worker the window ticks in-band, as the software dispatcher
// does, so any number of workers cuts the same windows.
//
// Deployments: "web" 10.1.0.0/16 (id 0) and "corp" 10.2.0.0/16 (id 1);
// anything else is external. Needs EAL (main.cpp).

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../alloc_counter.hpp"
#include "attrib/ownership.hpp"
#include "detect/detectors/registry.hpp"
#include "detect/engine.hpp"
#include "detect/window_counter.hpp"
#include "flow/flow_key.hpp"
#include "flow/flow_table.hpp"

namespace sg::test {

inline constexpr DeploymentId kWeb = 0;
inline constexpr DeploymentId kCorp = 1;
// Packet time of the tests: 2023-11-14T22:13:20Z, on a window boundary.
inline constexpr Nanos kT0 = 1'700'000'000ULL * kNsPerSec;
inline constexpr Nanos kMs = kNsPerMs;
inline constexpr Nanos kSec = kNsPerSec;

inline IpAddress addr(const char* text) { return *IpAddress::parse(text); }
// The i-th address of 100.64.0.0/10 (4M addresses): spoofed or many external sources.
inline IpAddress spoofed(uint32_t i) { return IpAddress::from_v4_host(0x64400000u + i); }
// The i-th address of a /16 of a deployment, or of 198.18.0.0/15 (external).
inline IpAddress web_host(uint32_t i) { return IpAddress::from_v4_host(0x0a010000u + i); }
inline IpAddress corp_host(uint32_t i) { return IpAddress::from_v4_host(0x0a020000u + i); }
inline IpAddress outside_host(uint32_t i) { return IpAddress::from_v4_host(0xc6120000u + i); }

// One Ownership for the process: an LPM's first-level table is 64 MiB.
// Never destroyed: a static destructor would free EAL memory after main()
// ran rte_eal_cleanup(); the process exit releases it.
inline const Ownership& ownership() {
    static const Ownership* const o = [] {
        Deployment web{"web", "web-team@example.com", {*Prefix::parse("10.1.0.0/16")}, {}};
        Deployment corp{"corp", "it@example.com", {*Prefix::parse("10.2.0.0/16")}, {}};
        auto made = Ownership::create({web, corp}, "det_own");
        INFO((made.ok() ? std::string() : made.error().message));
        REQUIRE(made.ok());
        return made.value().release();
    }();
    return *o;
}

// ---- Packets -------------------------------------------------------------------

inline PacketView tcp(IpAddress src, uint16_t sport, IpAddress dst, uint16_t dport, uint8_t flags,
                      uint16_t payload = 0) {
    PacketView pv;
    pv.l3 = L3Type::ipv4;
    pv.ether_type = 0x0800;
    pv.src = src;
    pv.dst = dst;
    pv.ip_proto = kProtoTcp;
    pv.ttl = 64;
    pv.has_l4 = true;
    pv.src_port = sport;
    pv.dst_port = dport;
    pv.tcp_flags = flags;
    pv.payload_len = payload;
    return pv;
}

inline PacketView udp(IpAddress src, uint16_t sport, IpAddress dst, uint16_t dport, uint16_t payload = 32) {
    PacketView pv = tcp(src, sport, dst, dport, 0, payload);
    pv.ip_proto = kProtoUdp;
    return pv;
}

inline PacketView icmp_echo(IpAddress src, IpAddress dst, uint16_t id, uint8_t type = 8) {
    PacketView pv = tcp(src, 0, dst, 0, 0, 56);
    pv.ip_proto = kProtoIcmp;
    pv.src_port = pv.dst_port = 0;
    pv.icmp_type = type;
    pv.icmp_id = id;
    return pv;
}

// A non-first fragment: no transport header, so no flow.
inline PacketView later_fragment(IpAddress src, IpAddress dst, uint16_t ip_id) {
    PacketView pv;
    pv.l3 = L3Type::ipv4;
    pv.src = src;
    pv.dst = dst;
    pv.ip_proto = kProtoUdp;
    pv.fragment = true;
    pv.later_fragment = true;
    pv.frag_offset = 1480;
    pv.ip_id = ip_id;
    pv.payload_len = 1480;
    return pv;
}

struct Packet {
    Nanos ts = 0;
    PacketView pv;
    uint32_t len = 60;       // wire length
};

// Packets in any order; feed() plays them in time order (stable).
struct Traffic {
    std::vector<Packet> packets;

    void add(Nanos ts, const PacketView& pv, uint32_t len = 60) { packets.push_back({ts, pv, len}); }
    void append(const Traffic& more) { packets.insert(packets.end(), more.packets.begin(), more.packets.end()); }

    // n packets from make(i), spread evenly over [start, start + span).
    template <class Make> void spread(uint64_t n, Nanos start, Nanos span, Make&& make, uint32_t len = 60) {
        for (uint64_t i = 0; i < n; ++i) add(start + span * i / std::max<uint64_t>(n, 1), make(i), len);
    }

    // A TCP connection from client:cport to server:sport, 1 ms per packet.
    enum class Outcome {
        refused,     // SYN, RST-ACK: a closed port
        unanswered,  // SYN only
        short_login, // handshake, a banner, a little data, FIN both ways: a failed login
        long_session,// handshake and >= 8 KiB of data: a login that worked
        open_probe,  // handshake, then the client resets (a connect scan on an open port)
    };
    void connection(Nanos at, IpAddress client, uint16_t cport, IpAddress server, uint16_t sport, Outcome o) {
        Nanos t = at;
        auto c2s = [&](uint8_t flags, uint16_t payload = 0) {
            add(t, tcp(client, cport, server, sport, flags, payload), 60u + payload);
            t += kMs;
        };
        auto s2c = [&](uint8_t flags, uint16_t payload = 0) {
            add(t, tcp(server, sport, client, cport, flags, payload), 60u + payload);
            t += kMs;
        };
        c2s(kTcpSyn);
        switch (o) {
        case Outcome::unanswered: return;
        case Outcome::refused: s2c(kTcpRst | kTcpAck); return;
        default: break;
        }
        s2c(kTcpSyn | kTcpAck);
        c2s(kTcpAck);
        if (o == Outcome::open_probe) {
            c2s(kTcpRst | kTcpAck);
            return;
        }
        s2c(kTcpAck | kTcpPsh, 40);
        c2s(kTcpAck | kTcpPsh, 100);
        if (o == Outcome::long_session)
            for (int i = 0; i < 3; ++i) s2c(kTcpAck | kTcpPsh, 3000);
        c2s(kTcpFin | kTcpAck);
        s2c(kTcpFin | kTcpAck);
        c2s(kTcpAck);
    }
};

// ---- The sensor ----------------------------------------------------------------

inline DetectionSetup default_setup(unsigned workers = 1) {
    DetectionSetup s;
    s.ownership = &ownership();
    s.workers = workers;
    s.window = kNsPerSec;
    return s;
}

class Sensor {
public:
    explicit Sensor(DetectionSetup setup = default_setup(), uint32_t flow_capacity = 1u << 16)
        : engine_(setup), window_(setup.window) {
        static unsigned next_id = 100;  // rte names are process-wide
        for (unsigned w = 0; w < setup.workers; ++w) {
            auto worker = std::make_unique<Worker>();
            worker->sensor = this;
            worker->index = w;
            CountingParams counting;
            counting.window = setup.window;
            counting.ownership = setup.ownership;
            counting.service_ports = detectors::login_service_ports();
            const unsigned id = next_id++;
            auto counter = WindowCounter::create(id, counting);
            INFO((counter.ok() ? std::string() : counter.error().message));
            REQUIRE(counter.ok());
            worker->counter = std::move(counter.value());
            const std::string name = "det_ft_" + std::to_string(id);
            FlowTableConfig cfg;
            cfg.capacity = flow_capacity;
            cfg.name = name.c_str();
            auto flows = FlowTable::create(cfg, &Sensor::on_flow_end, worker.get());
            INFO((flows.ok() ? std::string() : flows.error().message));
            REQUIRE(flows.ok());
            worker->flows = std::move(flows.value());
            workers_.push_back(std::move(worker));
        }
    }

    // Plays the traffic in time order (may be called again with later traffic).
    void feed(Traffic traffic) {
        std::stable_sort(traffic.packets.begin(), traffic.packets.end(),
                         [](const Packet& a, const Packet& b) { return a.ts < b.ts; });
        for (const Packet& p : traffic.packets) packet(p);
    }

    void packet(const Packet& p) {
        const uint64_t index = p.ts / window_;
        if (!ticked_ || index != tick_) tick(index);
        const PacketView& pv = p.pv;
        const bool l4_expected = pv.ip_proto == kProtoTcp || pv.ip_proto == kProtoUdp ||
                                 pv.ip_proto == kProtoIcmp || pv.ip_proto == kProtoIcmpv6;
        const bool tracked = !pv.later_fragment && (pv.has_l4 || !l4_expected);
        bool from_a = true;
        const FlowKey key = make_flow_key(pv, from_a);
        // Software dispatch: by flow (a symmetric hash of the canonical key).
        const uint32_t hash = FlowTable::flow_hash(key);
        Worker& w = *workers_[hash % workers_.size()];
        Flow* flow = nullptr;
        unsigned dir = 0;
        bool created = false;
        if (tracked) flow = &w.flows->track(key, hash, from_a, pv, p.len, p.ts, dir, created);
        if (created) w.counter->classify_flow(*flow);
        if (count_allocations) g_counting = true;
        w.counter->observe(pv, flow, dir, created, p.len, p.ts);
        g_counting = false;
    }

    // End of input: flows flushed into the last windows, every window analysed.
    void finish() {
        for (auto& w : workers_) {
            w->flows->flush();
            if (WindowSummary* last = w->counter->take_final()) hand_over(*w, last);
        }
        for (auto& w : workers_) engine_.worker_done(w->index);
        engine_.finish();
    }

    DetectionEngine& engine() { return engine_; }
    std::vector<const Attribution*> attributions() const { return engine_.attributions(); }
    const Attribution* find(const std::string& type) const {
        for (const Attribution* a : engine_.attributions())
            if (a->type == type) return a;
        return nullptr;
    }
    size_t count(const std::string& type) const {
        size_t n = 0;
        for (const Attribution* a : engine_.attributions()) n += a->type == type;
        return n;
    }
    nlohmann::json json() const {
        nlohmann::json out = nlohmann::json::array();
        for (const Attribution* a : engine_.attributions()) out.push_back(to_json(*a, ownership()));
        return out;
    }
    std::string types() const {
        std::string out;
        for (const Attribution* a : engine_.attributions())
            out += a->type + "(" + direction_name(a->direction) + ") ";
        return out;
    }

    // Called with each summary a worker hands over, before the engine merges it.
    std::function<void(const WindowSummary&)> on_summary;
    // Counts heap allocations made inside WindowCounter::observe (alloc_counter.hpp).
    bool count_allocations = false;

private:
    struct Worker {
        Sensor* sensor = nullptr;
        unsigned index = 0;
        std::unique_ptr<WindowCounter> counter;
        std::unique_ptr<FlowTable> flows;
    };

    static void on_flow_end(void* ctx, const Flow& flow, FlowEnd) {
        static_cast<Worker*>(ctx)->counter->flow_ended(flow);
    }

    // The dispatcher's tick: every worker moves to window `index`, hands the
    // finished one to the reporter, and ends the flows idle by then.
    void tick(uint64_t index) {
        ticked_ = true;
        tick_ = index;
        for (auto& w : workers_) {
            if (WindowSummary* done = w->counter->advance(index)) hand_over(*w, done);
            w->flows->expire(index * window_, UINT32_MAX);
        }
    }

    void hand_over(Worker& w, WindowSummary* s) {
        if (on_summary) on_summary(*s);
        engine_.add_window(w.index, *s);
        w.counter->give_back(s);
    }

    DetectionEngine engine_;
    Nanos window_;
    std::vector<std::unique_ptr<Worker>> workers_;
    bool ticked_ = false;
    uint64_t tick_ = 0;
};

} // namespace sg::test
