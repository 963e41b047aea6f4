#pragma once
// Helpers for the flow table tests: packets built field by field (no
// decoder involved) and a table whose ended flows are recorded.

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "flow/flow_key.hpp"
#include "flow/flow_table.hpp"

namespace sg::test {

inline IpAddress ip4(uint32_t host_order) { return IpAddress::from_v4_host(host_order); }

struct Endpoint {
    IpAddress ip;
    uint16_t port = 0;
};

inline PacketView packet(Endpoint from, Endpoint to, uint8_t proto, uint8_t tcp_flags = 0,
                         uint16_t payload_len = 0) {
    PacketView pv;
    pv.l3 = from.ip.is_v4() ? L3Type::ipv4 : L3Type::ipv6;
    pv.src = from.ip;
    pv.dst = to.ip;
    pv.ip_proto = proto;
    pv.has_l4 = true;
    pv.src_port = from.port;
    pv.dst_port = to.port;
    pv.tcp_flags = tcp_flags;
    pv.payload_len = payload_len;
    return pv;
}

inline FlowTableConfig config(uint32_t capacity = 1024) {
    FlowTableConfig cfg;
    cfg.capacity = capacity;
    return cfg;
}

// rte_hash names are process-global: every table in the tests gets its own.
inline std::string unique_table_name() {
    static unsigned n = 0;
    return "ut_flow_" + std::to_string(n++);
}

struct Ended {
    Flow flow;
    FlowEnd why;
};

struct Seen {
    Flow* flow = nullptr;
    unsigned dir = 0;
    bool created = false;
};

class TableHarness {
public:
    explicit TableHarness(FlowTableConfig cfg = config()) {
        const std::string name = unique_table_name();
        cfg.name = name.c_str();
        auto made = FlowTable::create(cfg, &TableHarness::record, this);
        INFO((made.ok() ? std::string() : made.error().message));
        REQUIRE(made.ok());
        table = std::move(made.value());
    }

    Seen send(const PacketView& pv, Nanos now, uint32_t frame_len = 100) {
        bool from_a = false;
        const FlowKey key = make_flow_key(pv, from_a);
        Seen s;
        s.flow = &table->track(key, FlowTable::flow_hash(key), from_a, pv, frame_len, now, s.dir,
                               s.created);
        return s;
    }

    std::unique_ptr<FlowTable> table;
    std::vector<Ended> ended;

private:
    static void record(void* ctx, const Flow& f, FlowEnd why) {
        static_cast<TableHarness*>(ctx)->ended.push_back({f, why});
    }
};

} // namespace sg::test
