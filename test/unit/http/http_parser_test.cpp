// HttpParser: transactions found in HTTP/1.x byte streams however they are
// split, and input that is not (or not well-formed) HTTP stopping a
// direction without harm. HttpTracker: the same over TCP segments from
// lib/stream, transactions logged when Suricata's app layer would, and no
// allocation on the packet path.

#include "http/http_parser.hpp"
#include "http/http_tracker.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "../alloc_counter.hpp"

namespace {

using sg::HttpField;
using sg::HttpSide;

// What the parser reported, per transaction.
struct Tx {
    std::map<HttpField, std::string> fields;
    uint16_t status = 0;
    uint64_t length = 0;           // response message length (eve's length)
    uint64_t content[2] = {};      // body data bytes by side (file sizes)
    bool request_done = false;
    bool response_done = false;
};

struct Recorder final : sg::HttpEvents {
    std::map<uint32_t, Tx> txs;
    void on_field(uint32_t tx, HttpField f, std::string_view v) override { txs[tx].fields[f] += std::string(v); }
    void on_status(uint32_t tx, uint16_t s) override { txs[tx].status = s; }
    void on_body(uint32_t tx, HttpSide side, uint64_t content, uint64_t message) override {
        txs[tx].content[unsigned(side)] = content;
        if (side == HttpSide::response) txs[tx].length = message;
    }
    void on_complete(uint32_t tx, HttpSide side) override {
        (side == HttpSide::request ? txs[tx].request_done : txs[tx].response_done) = true;
    }
};

bool feed(sg::HttpParser& p, HttpSide side, const std::string& s, Recorder& r) {
    return p.feed(side, reinterpret_cast<const uint8_t*>(s.data()), uint32_t(s.size()), r);
}

// Feeds `s` in pieces of `step` bytes (1: byte by byte).
void feed_split(sg::HttpParser& p, HttpSide side, const std::string& s, size_t step, Recorder& r) {
    for (size_t i = 0; i < s.size(); i += step) feed(p, side, s.substr(i, step), r);
}

const std::string kRequest =
    "GET /index.html?q=1 HTTP/1.1\r\n"
    "Host: www.Example.com:8080\r\n"
    "User-Agent: test-agent/1.0\r\n"
    "Referer: http://ref.example/\r\n"
    "Accept: */*\r\n"
    "\r\n";
const std::string kResponse =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Length: 11\r\n"
    "\r\n"
    "hello world";

} // namespace

TEST_CASE("a request and its response make one transaction with eve's fields") {
    sg::HttpParser p;
    p.reset();
    Recorder r;
    REQUIRE(feed(p, HttpSide::request, kRequest, r));
    REQUIRE(p.detected());
    REQUIRE(feed(p, HttpSide::response, kResponse, r));
    REQUIRE(r.txs.size() == 1);
    const Tx& t = r.txs[0];
    CHECK(t.fields.at(HttpField::method) == "GET");
    CHECK(t.fields.at(HttpField::uri) == "/index.html?q=1");
    CHECK(t.fields.at(HttpField::protocol) == "HTTP/1.1");
    CHECK(t.fields.at(HttpField::host) == "www.Example.com:8080");
    CHECK(t.fields.at(HttpField::user_agent) == "test-agent/1.0");
    CHECK(t.fields.at(HttpField::referer) == "http://ref.example/");
    CHECK(t.fields.at(HttpField::content_type) == "text/html; charset=utf-8");
    CHECK(t.status == 200);
    CHECK(t.length == 11);
    CHECK(t.request_done);
    CHECK(t.response_done);
    CHECK(p.completed(HttpSide::request) == 1);
    CHECK(p.completed(HttpSide::response) == 1);
}

TEST_CASE("headers split anywhere across segments parse the same") {
    for (size_t step : {1, 2, 3, 7, 16, 50}) {
        sg::HttpParser p;
        p.reset();
        Recorder r;
        feed_split(p, HttpSide::request, kRequest, step, r);
        feed_split(p, HttpSide::response, kResponse, step, r);
        INFO("step " << step);
        REQUIRE(r.txs.size() == 1);
        CHECK(r.txs[0].fields.at(HttpField::host) == "www.Example.com:8080");
        CHECK(r.txs[0].fields.at(HttpField::user_agent) == "test-agent/1.0");
        CHECK(r.txs[0].status == 200);
        CHECK(r.txs[0].length == 11);
        CHECK(r.txs[0].response_done);
    }
}

TEST_CASE("a chunked body ends at its last chunk, trailers included") {
    const std::string response =
        "HTTP/1.1 200 OK\r\n"
        "Transfer-Encoding: chunked\r\n"
        "\r\n"
        "5\r\nhello\r\n"
        "1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n"
        "0\r\n"
        "X-Trailer: yes\r\n"
        "\r\n";
    for (size_t step : {1, 4, 1000}) {
        sg::HttpParser p;
        p.reset();
        Recorder r;
        feed(p, HttpSide::request, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", r);
        feed_split(p, HttpSide::response, response, step, r);
        INFO("step " << step);
        CHECK(r.txs[0].content[1] == 5 + 26);
        // As sent: chunk-size lines and CRLFs count, up to the last chunk (libhtp's message length).
        CHECK(r.txs[0].length == 3 + 5 + 2 + 10 + 26 + 2 + 3);
        CHECK(r.txs[0].response_done);
        CHECK_FALSE(p.dead(HttpSide::response));
    }
}

TEST_CASE("pipelined requests pair with their responses in order") {
    sg::HttpParser p;
    p.reset();
    Recorder r;
    feed(p, HttpSide::request,
         "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
         "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n"
         "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"
         "GET /d HTTP/1.1\r\nHost: h\r\n\r\n",
         r);
    CHECK(p.started(HttpSide::request) == 4);
    CHECK(p.completed(HttpSide::request) == 4);
    feed(p, HttpSide::response,
         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
         "HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n"  // HEAD: no body, whatever the length says
         "HTTP/1.1 100 Continue\r\n\r\n"
         "HTTP/1.1 201 Created\r\nLocation: /c/1\r\nContent-Length: 0\r\n\r\n"
         "HTTP/1.1 304 Not Modified\r\n\r\n",
         r);
    REQUIRE(r.txs.size() == 4);
    CHECK(r.txs[2].content[0] == 4);  // the POST's body
    CHECK(r.txs[0].fields.at(HttpField::uri) == "/a");
    CHECK(r.txs[0].length == 3);
    CHECK(r.txs[1].fields.at(HttpField::method) == "HEAD");
    CHECK(r.txs[1].status == 200);
    CHECK(r.txs[1].length == 0);
    CHECK(r.txs[2].status == 201);  // the interim 100 is not the answer
    CHECK(r.txs[2].fields.at(HttpField::location) == "/c/1");
    CHECK(r.txs[3].status == 304);
    CHECK(p.completed(HttpSide::response) == 4);
}

TEST_CASE("a response without a length runs to the close") {
    sg::HttpParser p;
    p.reset();
    Recorder r;
    feed(p, HttpSide::request, "GET / HTTP/1.0\r\n\r\n", r);
    feed(p, HttpSide::response, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n", r);
    feed(p, HttpSide::response, std::string(3000, 'x'), r);
    CHECK_FALSE(r.txs[0].response_done);
    CHECK(r.txs[0].length == 3000);
    p.finish(HttpSide::response, r);
    CHECK(r.txs[0].response_done);
}

TEST_CASE("a client that does not speak HTTP stops the parser at once") {
    for (const std::string& first : {std::string("\x16\x03\x01\x02\x00", 5), std::string("SSH-2.0-OpenSSH\r\n"),
                                     std::string("get / HTTP/1.1\r\n"), std::string(200, 'A')}) {
        sg::HttpParser p;
        p.reset();
        Recorder r;
        CHECK_FALSE(feed(p, HttpSide::request, first, r));
        CHECK_FALSE(p.detected());
        CHECK(r.txs.empty());
    }
}

TEST_CASE("malformed responses and chunk sizes stop that direction only") {
    sg::HttpParser p;
    p.reset();
    Recorder r;
    feed(p, HttpSide::request, "GET / HTTP/1.1\r\n\r\n", r);
    CHECK_FALSE(feed(p, HttpSide::response, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", r));
    CHECK(p.dead(HttpSide::response));
    CHECK_FALSE(p.dead(HttpSide::request));
    CHECK(feed(p, HttpSide::request, "GET /next HTTP/1.1\r\n\r\n", r));
    CHECK(p.started(HttpSide::request) == 2);

    sg::HttpParser q;
    q.reset();
    Recorder r2;
    feed(q, HttpSide::request, "GET / HTTP/1.1\r\n\r\n", r2);
    CHECK_FALSE(feed(q, HttpSide::response, "NOT HTTP AT ALL\r\n", r2));
    CHECK(r2.txs[0].status == 0);
}

TEST_CASE("long lines are cut at kLineMax, the request's protocol still found") {
    sg::HttpParser p;
    p.reset();
    Recorder r;
    const std::string uri = "/" + std::string(5000, 'u');
    const std::string agent(3000, 'a');
    feed_split(p, HttpSide::request, "GET " + uri + " HTTP/1.1\r\nUser-Agent: " + agent + "\r\nHost: h\r\n\r\n", 700, r);
    REQUIRE(r.txs.size() == 1);
    CHECK(r.txs[0].fields.at(HttpField::protocol) == "HTTP/1.1");
    CHECK(r.txs[0].fields.at(HttpField::uri).size() < sg::HttpParser::kLineMax);
    CHECK(r.txs[0].fields.at(HttpField::uri).substr(0, 10) == uri.substr(0, 10));
    CHECK(r.txs[0].fields.at(HttpField::user_agent).size() < sg::HttpParser::kLineMax);
    CHECK(r.txs[0].fields.at(HttpField::host) == "h");
    CHECK(r.txs[0].request_done);
}

TEST_CASE("random bytes after a valid start never crash and never allocate") {
    sg::test::g_counting = true;
    void* volatile probe = ::operator new(16);
    ::operator delete(probe);
    sg::test::g_counting = false;
    REQUIRE(sg::test::g_news == 1);

    struct Null final : sg::HttpEvents {
        uint64_t events = 0;
        void on_field(uint32_t, HttpField, std::string_view v) override { events += v.size() < 2048; }
        void on_status(uint32_t, uint16_t) override { ++events; }
        void on_body(uint32_t, HttpSide, uint64_t, uint64_t) override { ++events; }
        void on_complete(uint32_t, HttpSide) override { ++events; }
    } sink;
    std::mt19937 rng(7);
    std::vector<uint8_t> junk(4096);
    const std::string alphabet = "GET /HTP1.0\r\n:chunkedContent-Length: 0123456789abcdef;\t ";
    auto* p = new sg::HttpParser;
    sg::test::g_news = 0;
    sg::test::g_counting = true;
    for (int round = 0; round < 300; ++round) {
        p->reset();
        const char* start = "GET / HTTP/1.1\r\n";
        p->feed(HttpSide::request, reinterpret_cast<const uint8_t*>(start), 16, sink);
        for (auto& b : junk) b = round % 2 ? uint8_t(rng()) : uint8_t(alphabet[rng() % alphabet.size()]);
        for (size_t i = 0; i < junk.size();) {
            const size_t n = std::min<size_t>(1 + rng() % 300, junk.size() - i);
            p->feed(round % 3 ? HttpSide::response : HttpSide::request, junk.data() + i, uint32_t(n), sink);
            i += n;
        }
        p->finish(HttpSide::request, sink);
        p->finish(HttpSide::response, sink);
    }
    sg::test::g_counting = false;
    delete p;
    CHECK(sg::test::g_news == 0);
    CHECK(sink.events > 0);
}

// ------------------------------------------------------------ HttpTracker

namespace {

struct TrackerSink final : sg::HttpSink {
    std::map<uint32_t, Tx> txs;
    std::vector<uint32_t> logged;
    void http_field(const sg::Flow&, uint32_t tx, HttpField f, std::string_view v) override {
        txs[tx].fields[f] += std::string(v);
    }
    void http_status(const sg::Flow&, uint32_t tx, uint16_t s) override { txs[tx].status = s; }
    void http_length(const sg::Flow&, uint32_t tx, uint64_t n) override { txs[tx].length = n; }
    void http_file(const sg::Flow&, uint32_t tx, HttpSide side, uint64_t size, bool complete) override {
        txs[tx].content[unsigned(side)] = size;
        if (side == HttpSide::response) txs[tx].response_done = complete;
        files.push_back(tx);
    }
    std::vector<uint32_t> files;
    void http_transaction(const sg::Flow&, uint32_t tx) override { logged.push_back(tx); }
};

// A client (dir 0) and a server (dir 1) exchanging segments over both trackers.
struct Connection {
    sg::StreamTracker& streams;
    sg::HttpTracker& http;
    sg::HttpSink& sink;
    sg::Flow flow;
    uint32_t seq[2] = {1000, 5000};

    Connection(sg::StreamTracker& s, sg::HttpTracker& h, sg::HttpSink& k, uint64_t id, uint32_t index = 0)
        : streams(s), http(h), sink(k) {
        flow.key.proto = sg::kProtoTcp;
        flow.key.ip_version = 4;
        flow.id = id;
        flow.index = index;
        flow.tcp_flags_seen[0] = sg::kTcpSyn;
        packet(0, sg::kTcpSyn, "");
        packet(1, sg::kTcpSyn | sg::kTcpAck, "");
        packet(0, sg::kTcpAck, "");
    }
    void packet(unsigned dir, uint8_t flags, std::string_view payload) {
        sg::PacketView pv = sg::stream_end_packet(flow, dir);
        pv.tcp_flags = flags;
        pv.tcp_seq = seq[dir];
        pv.tcp_ack = seq[1 - dir];
        pv.payload_offset = 0;
        pv.payload_len = uint16_t(payload.size());
        const auto* frame = reinterpret_cast<const uint8_t*>(payload.data());
        flow.tcp_flags_seen[dir] |= flags;
        const sg::StreamInspection insp = streams.on_packet(flow, dir, pv, frame);
        http.on_packet(flow, dir, pv, frame, streams, sink);
        streams.inspected(flow, dir, insp);
        http.after_detect(flow, dir);
        seq[dir] += uint32_t(payload.size()) + ((flags & (sg::kTcpSyn | sg::kTcpFin)) ? 1 : 0);
    }
};

std::unique_ptr<sg::StreamTracker> make_streams() {
    sg::StreamConfig cfg;
    cfg.buffers = 8;
    cfg.buffer_size = 8192;
    auto t = sg::StreamTracker::create(cfg);
    REQUIRE(t);
    return std::move(*t);
}

std::unique_ptr<sg::HttpTracker> make_http(uint32_t sessions = 4) {
    sg::HttpConfig cfg;
    cfg.sessions = sessions;
    cfg.flow_capacity = 8;
    auto t = sg::HttpTracker::create(cfg);
    REQUIRE(t);
    return std::move(*t);
}

} // namespace

TEST_CASE("the tracker parses a direction once the peer ACKed it, and logs at completion") {
    auto streams = make_streams();
    auto http = make_http();
    TrackerSink sink;
    Connection c(*streams, *http, sink, 1);
    c.packet(0, sg::kTcpAck | sg::kTcpPsh, "GET /x HTTP/1.1\r\nHo");
    c.packet(0, sg::kTcpAck | sg::kTcpPsh, "st: example.org\r\n\r\n");
    CHECK(sink.txs.empty());  // not ACKed yet: Suricata's app layer has not seen it either
    c.packet(1, sg::kTcpAck, "");
    REQUIRE(sink.txs.count(0));
    CHECK(sink.txs[0].fields[HttpField::host] == "example.org");
    CHECK(http->is_http(c.flow));
    c.packet(1, sg::kTcpAck | sg::kTcpPsh, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CHECK(sink.logged.empty());
    const sg::HttpAlertTx before = http->alert_tx(c.flow, 1, sink);
    CHECK(before.http);
    CHECK(before.has_tx);  // the only transaction, not yet inspected to the client
    c.packet(0, sg::kTcpAck, "");
    CHECK(sink.logged == std::vector<uint32_t>{0});
    CHECK(sink.txs[0].status == 200);
    CHECK(sink.txs[0].length == 2);
    // The body closed on the client's ACK; Suricata logs it with the next server packet.
    CHECK(sink.files.empty());
    c.packet(1, sg::kTcpAck, "");
    CHECK(sink.files == std::vector<uint32_t>{0});
    CHECK(sink.txs[0].response_done);
}

TEST_CASE("a response to the close is logged when the connection closed") {
    auto streams = make_streams();
    auto http = make_http();
    TrackerSink sink;
    Connection c(*streams, *http, sink, 2);
    c.packet(0, sg::kTcpAck | sg::kTcpPsh, "GET / HTTP/1.0\r\n\r\n");
    c.packet(1, sg::kTcpAck | sg::kTcpPsh, "HTTP/1.0 200 OK\r\n\r\nbody");
    c.packet(1, sg::kTcpAck | sg::kTcpFin, "");
    c.packet(0, sg::kTcpAck | sg::kTcpFin, "");  // ACKs the server's FIN: TIME_WAIT, not closed
    CHECK(sink.logged.empty());
    c.packet(1, sg::kTcpAck, "");                // the last ACK: CLOSED
    CHECK(sink.logged == std::vector<uint32_t>{0});
    CHECK(sink.txs[0].length == 4);
    CHECK(sink.files == std::vector<uint32_t>{0});
    CHECK(sink.txs[0].response_done);
}

TEST_CASE("flow end logs what is left; the pool is bounded and reused, without allocating") {
    auto streams = make_streams();
    auto http = make_http(2);
    struct Counting final : sg::HttpSink {
        uint64_t fields = 0, transactions = 0;
        void http_field(const sg::Flow&, uint32_t, HttpField, std::string_view) override { ++fields; }
        void http_status(const sg::Flow&, uint32_t, uint16_t) override {}
        void http_length(const sg::Flow&, uint32_t, uint64_t) override {}
        void http_file(const sg::Flow&, uint32_t, HttpSide, uint64_t, bool) override {}
        void http_transaction(const sg::Flow&, uint32_t) override { ++transactions; }
    } sink;
    sg::test::g_news = 0;
    sg::test::g_counting = true;
    for (uint64_t id = 10; id < 20; ++id) {
        Connection c(*streams, *http, sink, id);
        // Three flows at once: the third finds the pool (2) empty.
        Connection other(*streams, *http, sink, id + 100, 1);
        Connection third(*streams, *http, sink, id + 200, 2);
        for (Connection* conn : {&c, &other, &third}) {
            conn->packet(0, sg::kTcpAck | sg::kTcpPsh, "POST /u HTTP/1.1\r\nContent-Length: 100\r\n\r\npart");
            conn->packet(1, sg::kTcpAck, "");
        }
        for (Connection* conn : {&c, &other, &third}) {
            http->flow_end(conn->flow, *streams, sink);
            const sg::StreamInspection ends[2] = {streams->at_flow_end(conn->flow, 0),
                                                  streams->at_flow_end(conn->flow, 1)};
            streams->release(conn->flow, ends);
            http->forget(conn->flow);
        }
    }
    sg::test::g_counting = false;
    CHECK(sg::test::g_news == 0);
    CHECK(sink.transactions == 20);  // the parsed flows' unfinished POSTs, logged at flow end
    CHECK(http->free_sessions() == 2);
    CHECK(http->counters().pool_exhausted == 10);
}
