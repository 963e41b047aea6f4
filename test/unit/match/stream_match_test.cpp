// Stream-mode matching: the Matcher over what the StreamTracker makes due,
// packet by packet, on one TCP connection. What a rule writer sees: a
// content split across segments matches (on the packet that made the
// stream inspection due, as in Suricata), offset/depth count from the start
// of the inspected chunk, retransmissions do not alert twice, out-of-order
// segments are put in order, and an empty buffer pool means block mode.

#include "match/matcher.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "match/rule_parser.hpp"

namespace {

using sg::kTcpAck;
using sg::kTcpFin;
using sg::kTcpPsh;
using Sids = std::vector<uint32_t>;

constexpr uint16_t kPayloadOffset = 54;
constexpr uint32_t kIsn[2] = {1000, 0xfffff000}; // the server's crosses the 32-bit wrap

sg::StreamConfig small_streams(uint32_t buffers = 4) {
    sg::StreamConfig c;
    c.buffers = buffers;
    c.buffer_size = 8192;
    c.chunk_size = 2560;
    return c;
}

// One TCP connection, handshake done, client (dir 0) 10.0.0.1:40000 to
// server (dir 1) 10.0.0.2:80. Each call is one packet; it returns the sids
// that alerted on it.
class Connection {
public:
    explicit Connection(std::string_view rules, sg::StreamConfig cfg = small_streams()) {
        auto parsed = sg::rules::parse_rules_text(rules, "t.rules", sg::rules::Vars{}, sg::rules::Classifications{});
        REQUIRE(parsed.errors.empty());
        REQUIRE(parsed.skipped.empty());
        auto db = sg::MatchDatabase::build(std::move(parsed.rules), 1, sg::rules::Classifications{});
        REQUIRE(db);
        REQUIRE(matcher_.attach(*db));
        auto tracker = sg::StreamTracker::create(cfg);
        REQUIRE(tracker);
        tracker_ = std::move(*tracker);
        flow_.key.a = *sg::IpAddress::parse("10.0.0.1");
        flow_.key.b = *sg::IpAddress::parse("10.0.0.2");
        flow_.key.port_a = 40000;
        flow_.key.port_b = 80;
        flow_.key.proto = sg::kProtoTcp;
        flow_.key.ip_version = 4;
        flow_.tcp_flags_seen[0] = sg::kTcpSyn | kTcpAck;
        flow_.tcp_flags_seen[1] = sg::kTcpSyn | kTcpAck;
        flow_.packets[0] = 2;
        flow_.packets[1] = 1;
        flow_.established_at = 3;
        handshake_syn(0, sg::kTcpSyn);
        handshake_syn(1, sg::kTcpSyn | kTcpAck);
    }

    // Data from `dir` at its next sequence number, ACKing all the peer sent.
    Sids send(unsigned dir, std::string_view data, uint8_t flags = kTcpAck | kTcpPsh) {
        const uint32_t at = next_[dir];
        next_[dir] = std::max<uint32_t>(next_[dir], at + uint32_t(data.size()));
        return packet(dir, at, data, flags);
    }
    // Data from `dir` at stream offset `at` (retransmissions, reordering).
    Sids send_at(unsigned dir, uint32_t at, std::string_view data) {
        next_[dir] = std::max<uint32_t>(next_[dir], at + uint32_t(data.size()));
        return packet(dir, at, data, kTcpAck | kTcpPsh);
    }
    Sids ack(unsigned dir) { return packet(dir, next_[dir], {}, kTcpAck); }
    Sids fin(unsigned dir) { return packet(dir, next_[dir], {}, kTcpAck | kTcpFin); }

    // The flow ends (timeout, end of capture): what the streams still hold.
    Sids end() {
        Sids sids;
        sg::StreamInspection insp[2];
        sg::Flow scratch = flow_;
        for (unsigned dir = 0; dir < 2; ++dir) {
            insp[dir] = tracker_->at_flow_end(flow_, dir);
            if (!insp[dir].chunks.count) continue;
            const sg::PacketView pv = sg::stream_end_packet(flow_, dir);
            matcher_.inspect(pv, nullptr, &scratch, dir, insp[dir], [&](const sg::RuleHit& h) { sids.push_back(sid(h)); });
        }
        tracker_->release(flow_, insp);
        return sids;
    }

    const sg::StreamCounters& counters() const { return tracker_->counters(); }
    uint32_t free_buffers() const { return tracker_->free_buffers(); }

private:
    // The SYN and SYN-ACK: where each direction's stream starts.
    void handshake_syn(unsigned dir, uint8_t flags) {
        sg::PacketView pv = sg::stream_end_packet(flow_, dir);
        pv.tcp_flags = flags;
        pv.tcp_seq = kIsn[dir];
        pv.tcp_ack = dir ? kIsn[0] + 1 : 0;
        const sg::StreamInspection insp = tracker_->on_packet(flow_, dir, pv, frame_.data());
        tracker_->inspected(flow_, dir, insp);
    }
    Sids packet(unsigned dir, uint32_t at, std::string_view data, uint8_t flags) {
        // A bare ACK: an empty view whose data() may be null, which memcpy may not get.
        if (!data.empty()) std::memcpy(frame_.data() + kPayloadOffset, data.data(), data.size());
        sg::PacketView pv = sg::stream_end_packet(flow_, dir);
        pv.tcp_flags = flags;
        pv.tcp_seq = kIsn[dir] + 1 + at;
        pv.tcp_ack = kIsn[1 - dir] + 1 + next_[1 - dir];
        pv.payload_offset = kPayloadOffset;
        pv.payload_len = uint16_t(data.size());
        ++flow_.packets[dir];
        flow_.tcp_flags_seen[dir] |= flags;
        const sg::StreamInspection insp = tracker_->on_packet(flow_, dir, pv, frame_.data());
        Sids sids;
        matcher_.inspect(pv, frame_.data(), &flow_, dir, insp, [&](const sg::RuleHit& h) { sids.push_back(sid(h)); });
        tracker_->inspected(flow_, dir, insp);
        return sids;
    }
    uint32_t sid(const sg::RuleHit& h) const { return matcher_.database()->rules()[h.rule_index].rule->sid; }

    sg::Matcher matcher_;
    std::unique_ptr<sg::StreamTracker> tracker_;
    sg::Flow flow_;
    uint32_t next_[2] = {};
    std::array<uint8_t, 2048> frame_{};
};

const Sids kNone;

} // namespace

TEST_CASE("a content split across two segments matches in the stream, on the packet that made it due") {
    Connection c(R"(alert tcp any any -> any 80 (msg:"m"; flow:to_server; content:"mining.subscribe"; sid:1;))");
    CHECK(c.send(0, R"({"id":1,"method":"mining.sub)") == kNone);
    CHECK(c.send(0, R"(scribe","params":[]})") == kNone);
    CHECK(c.ack(1) == kNone);       // ACKed, but less than a chunk: not due yet
    CHECK(c.fin(0) == Sids{1});     // the client closes: Suricata inspects at once
    CHECK(c.end() == kNone);        // nothing left to inspect twice
    CHECK(c.counters().inspections == 1);
}

TEST_CASE("a chunk of ACKed bytes is due on the sender's next packet") {
    Connection c(R"(alert tcp any any -> any 80 (msg:"m"; content:"needle"; sid:1;))");
    const std::string filler(1500, 'x');
    CHECK(c.send(0, filler + "nee") == kNone);
    CHECK(c.send(0, "dle" + filler) == kNone);
    CHECK(c.ack(1) == kNone);       // the server's ACK: not the direction of the data
    CHECK(c.send(0, "next") == Sids{1});
    CHECK(c.counters().bytes_inspected == 3006);
}

TEST_CASE("stream bytes nobody ACKed are inspected at flow end") {
    Connection c(R"(alert tcp any any -> any 80 (msg:"m"; content:"needle"; sid:1;))");
    CHECK(c.send(0, "a nee") == kNone);
    CHECK(c.send(0, "dle") == kNone);
    CHECK(c.end() == Sids{1});
}

TEST_CASE("offset and depth count from the start of the inspected chunk") {
    // depth makes these packet-and-stream rules (as in Suricata): each
    // matches its packet, and again a stream chunk that starts with it.
    auto cfg = small_streams();
    cfg.chunk_size = 8;
    Connection c(R"(alert tcp any any -> any any (msg:"u"; content:"USER"; depth:4; sid:1;)
alert tcp any any -> any any (msg:"p"; content:"PASS"; offset:0; depth:4; sid:2;)
alert tcp any any -> any any (msg:"s"; content:"PASS"; sid:3;))",
                 cfg);
    CHECK(c.send(0, "USER a\r\n") == Sids{1});
    CHECK(c.ack(1) == kNone);
    CHECK(c.send(0, "PASS b\r\n") == Sids{1, 2}); // packet: PASS; stream chunk "USER a\r\n": USER
    CHECK(c.ack(1) == kNone);
    // The chunk "PASS b\r\n" starts 8 bytes into the stream, yet depth 4 holds.
    // sid 3 (no offset/depth) is a stream rule: it alerts here, from the stream.
    CHECK(c.send(0, "QUIT\r\n") == Sids{2, 3});
}

TEST_CASE("nocase holds across the split") {
    Connection c(R"(alert tcp any any -> any any (msg:"m"; content:"mining.subscribe"; nocase; sid:1;))");
    c.send(0, "xx MINING.SUB");
    c.send(0, "Scribe yy");
    c.ack(1);
    CHECK(c.fin(0) == Sids{1});
}

TEST_CASE("a negated content is decided over the whole chunk") {
    const char* rules = R"(alert tcp any any -> any any (msg:"m"; content:"login"; content:!"guest"; sid:1;))";
    {
        Connection c(rules);
        c.send(0, "log");
        c.send(0, "in user=guest");
        c.ack(1);
        CHECK(c.fin(0) == kNone);
    }
    {
        Connection c(rules);
        c.send(0, "log");
        c.send(0, "in user=root");
        c.ack(1);
        CHECK(c.fin(0) == Sids{1});
    }
}

TEST_CASE("a relative pcre continues across the split") {
    Connection c(R"(alert tcp any any -> any any (msg:"m"; content:"user="; pcre:"/^[a-z]+;/R"; sid:1;))");
    c.send(0, "user=ad");
    c.send(0, "min; rest");
    c.ack(1);
    CHECK(c.fin(0) == Sids{1});
}

TEST_CASE("a retransmitted segment does not alert twice") {
    Connection c(R"(alert tcp any any -> any any (msg:"m"; content:"mining.subscribe"; sid:1;))");
    c.send(0, "mining.subscribe");
    c.send_at(0, 0, "mining.subscribe"); // retransmission: same bytes again
    c.ack(1);
    CHECK(c.fin(0) == Sids{1});
    CHECK(c.end() == kNone);
    CHECK(c.counters().retransmitted == 16);
    CHECK(c.counters().bytes_inspected == 16);
}

TEST_CASE("out-of-order segments are put in order before matching") {
    Connection c(R"(alert tcp any any -> any any (msg:"m"; content:"mining.subscribe"; sid:1;))");
    CHECK(c.send_at(0, 11, "subscribe!") == kNone); // arrives first: held
    CHECK(c.send_at(0, 0, "xxx mining.") == kNone); // fills the hole
    c.ack(1);
    CHECK(c.fin(0) == Sids{1});
    CHECK(c.counters().gaps == 0);
}

TEST_CASE("an empty buffer pool leaves the direction in block mode, counted") {
    // One buffer: the client's stream takes it, the server is matched per packet.
    Connection c(R"(alert tcp any any -> any any (msg:"m"; content:"mining.notify"; sid:1;))", small_streams(1));
    CHECK(c.send(0, "mining.notify") == kNone);     // client: into the stream
    CHECK(c.send(1, "mining.notify") == Sids{1});   // server: no buffer, the packet alone
    CHECK(c.send(1, "mining.noti") == kNone);       // ... so a split is not found there
    CHECK(c.send(1, "fy") == kNone);
    CHECK(c.counters().attached == 1);
    CHECK(c.counters().pool_exhausted == 1);
    CHECK(c.free_buffers() == 0);
    CHECK(c.end() == Sids{1});                      // the client's stream, at flow end
    CHECK(c.free_buffers() == 1);
}

TEST_CASE("a direction that sent its FIN and was inspected gives its buffer back") {
    Connection c(R"(alert tcp any any -> any any (msg:"m"; content:"zzz"; sid:1;))", small_streams(1));
    c.send(0, "hello");
    c.ack(1);
    c.fin(0);
    CHECK(c.free_buffers() == 1);
    CHECK(c.send(1, "server data") == kNone); // the server gets the buffer now
    CHECK(c.counters().pool_exhausted == 0);
}

TEST_CASE("flow:no_stream rules see packets only; flow:only_stream rules the stream only") {
    Connection c(R"(alert tcp any any -> any any (msg:"p"; flow:no_stream; content:"abc"; sid:1;)
alert tcp any any -> any any (msg:"s"; flow:only_stream; content:"abc"; sid:2;))");
    CHECK(c.send(0, "abc") == Sids{1});
    c.ack(1);
    CHECK(c.fin(0) == Sids{2});
}
