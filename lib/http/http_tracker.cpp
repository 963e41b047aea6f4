#include "http/http_tracker.hpp"

#include <algorithm>
#include <new>

#include <fmt/format.h>

namespace sg {

namespace {

HttpSide side_of(unsigned dir) { return dir == 0 ? HttpSide::request : HttpSide::response; }

// a >= b in sequence space.
bool seq_at_or_after(uint32_t a, uint32_t b) { return int32_t(a - b) >= 0; }

} // namespace

// The parser's events for one session: fields go straight to the sink, the
// response body length is held until it is needed (transaction end, alert),
// so a large download does not send a record per segment.
class HttpTracker::Events final : public HttpEvents {
public:
    Events(Session& s, const Flow& flow, HttpSink& sink) : s_(s), flow_(flow), sink_(sink) {}

    void on_field(uint32_t tx, HttpField field, std::string_view value) override {
        sink_.http_field(flow_, tx, field, value);
    }
    void on_status(uint32_t tx, uint16_t status) override { sink_.http_status(flow_, tx, status); }
    void on_body(uint32_t tx, HttpSide side, uint64_t content, uint64_t message) override {
        Files& f = s_.files[unsigned(side)];
        f.tx = tx;
        f.size = content;
        if (side != HttpSide::response) return;
        if (tx != s_.body_tx) {
            s_.body_tx = tx;
            s_.body_sent = 0;
        }
        s_.body = message;
    }
    void on_complete(uint32_t tx, HttpSide side) override {
        if (side == HttpSide::response && tx == s_.body_tx) flush_length(s_, flow_, sink_);
        if (s_.files[unsigned(side)].size && s_.files[unsigned(side)].tx == tx)
            close_file(s_, flow_, side, /*complete=*/true, sink_);
    }

    static void flush_length(Session& s, const Flow& flow, HttpSink& sink) {
        if (s.body == s.body_sent) return;
        sink.http_length(flow, s.body_tx, s.body);
        s.body_sent = s.body;
    }

private:
    Session& s_;
    const Flow& flow_;
    HttpSink& sink_;
};

Result<std::unique_ptr<HttpTracker>> HttpTracker::create(const HttpConfig& cfg) {
    std::unique_ptr<HttpTracker> t(new (std::nothrow) HttpTracker);
    if (!t) return make_error("cannot reserve the HTTP tracker");
    t->cfg_ = cfg;
    t->sessions_.resize(cfg.sessions);
    t->free_.reserve(cfg.sessions);
    for (uint32_t i = cfg.sessions; i-- > 0;) t->free_.push_back(i);
    t->flows_.resize(cfg.flow_capacity);
    return t;
}

HttpTracker::Session* HttpTracker::session_of(const Flow& flow) {
    if (flow.index >= flows_.size()) return nullptr;
    FlowSlot& slot = flows_[flow.index];
    if (slot.flow_id != flow.id || slot.session == kNone) return nullptr;
    return &sessions_[slot.session];
}

bool HttpTracker::is_http(const Flow& flow) const {
    if (flow.index >= flows_.size()) return false;
    const FlowSlot& slot = flows_[flow.index];
    return slot.flow_id == flow.id && slot.http;
}

void HttpTracker::release(FlowSlot& slot) {
    if (slot.session == kNone) return;
    free_.push_back(slot.session);
    slot.session = kNone;
}

void HttpTracker::on_packet(const Flow& flow, unsigned dir, const PacketView& pv, const uint8_t* frame,
                            const StreamTracker& streams, HttpSink& sink) {
    // The connections lib/stream reassembles: the initiator's SYN was seen.
    if (!pv.has_l4 || pv.ip_proto != kProtoTcp || flow.midstream || !(flow.tcp_flags_seen[0] & kTcpSyn)) return;
    if (flow.index >= flows_.size()) return;
    FlowSlot& slot = flows_[flow.index];
    if (slot.flow_id != flow.id) {  // a new flow in this table slot
        release(slot);
        slot = FlowSlot{};
        slot.flow_id = flow.id;
    }
    if (slot.session == kNone) {
        if (slot.seen || pv.payload_len == 0) return;
        slot.seen = true;
        // HTTP is recognised from the client's side: the first payload must
        // be the initiator's (a server that speaks first is another protocol).
        if (dir != 0) return;
        if (free_.empty()) {
            ++counters_.pool_exhausted;
            return;
        }
        slot.session = free_.back();
        free_.pop_back();
        Session& fresh = sessions_[slot.session];
        fresh.parser.reset();
        fresh.parsed[0] = fresh.parsed[1] = 0;
        fresh.eof[0] = fresh.eof[1] = false;
        fresh.fin[0] = fresh.fin[1] = false;
        fresh.fin_acked[0] = fresh.fin_acked[1] = false;
        fresh.ended[0] = fresh.ended[1] = false;
        fresh.has_seq[0] = fresh.has_seq[1] = false;
        fresh.logged = 0;
        fresh.inspect_id[0] = fresh.inspect_id[1] = 0;
        fresh.guessed_tx = UINT32_MAX;
        fresh.guessed = 0;
        fresh.body = fresh.body_sent = 0;
        fresh.body_tx = 0;
        fresh.files[0] = fresh.files[1] = Files{};
    }
    Session& s = sessions_[slot.session];

    // TCP Fast Open: the request rides on the SYN, which the stream does not
    // hold; the stream's offsets start after the SYN, as the parser's do.
    if ((pv.tcp_flags & kTcpSyn) && dir == 0 && pv.payload_len && s.parsed[0] == 0) {
        Events ev(s, flow, sink);
        s.parser.feed(HttpSide::request, frame + pv.payload_offset, pv.payload_len, ev);
        s.parsed[0] = pv.payload_len;
    }

    // How far the connection closed, in Suricata's terms: an RST, or both
    // FINs with the second sent before the first was ACKed (CLOSING) or
    // itself ACKed (CLOSED), ends both directions for the app layer.
    const unsigned peer = 1 - dir;
    // An RST counts only with the sequence number its sender is expected to
    // send next (Suricata's default policy drops others as invalid).
    if ((pv.tcp_flags & kTcpRst) && (!s.has_seq[dir] || pv.tcp_seq == s.next_seq[dir])) s.ended[dir] = true;
    const uint32_t next = pv.tcp_seq + pv.payload_len + ((pv.tcp_flags & (kTcpSyn | kTcpFin)) ? 1 : 0);
    if (!(pv.tcp_flags & kTcpRst) && (!s.has_seq[dir] || seq_at_or_after(next, s.next_seq[dir]))) {
        s.next_seq[dir] = next;
        s.has_seq[dir] = true;
    }
    if ((pv.tcp_flags & kTcpAck) && s.fin[peer] && seq_at_or_after(pv.tcp_ack, s.fin_seq[peer] + 1))
        s.fin_acked[peer] = true;
    if ((pv.tcp_flags & kTcpFin) && !s.fin[dir]) {
        s.fin[dir] = true;
        s.fin_seq[dir] = pv.tcp_seq + pv.payload_len;
        if (s.fin[peer] && !s.fin_acked[peer]) s.ended[0] = s.ended[1] = true;
    }
    if (s.fin[0] && s.fin[1] && s.fin_acked[0] && s.fin_acked[1]) s.ended[0] = s.ended[1] = true;

    parse(s, flow, streams, sink);
    if (!s.parser.detected()) {
        // Not HTTP (or not yet known): a non-HTTP client frees the session now.
        if (s.parser.dead(HttpSide::request)) {
            ++counters_.malformed;
            release(slot);
        }
        return;
    }
    if (!slot.http) {
        slot.http = true;
        ++counters_.sessions;
    }
    report_done(s, flow, sink);
    // Suricata logs a closed body with the packets of its direction; at the
    // close, both directions' bodies at once.
    log_files(s, flow, dir, sink);
    if (s.eof[peer]) log_files(s, flow, peer, sink);
}

void HttpTracker::parse(Session& s, const Flow& flow, const StreamTracker& streams, HttpSink& sink) {
    Events ev(s, flow, sink);
    bool ended_now = false;
    for (unsigned dir = 0; dir < 2; ++dir) {
        const HttpSide side = side_of(dir);
        if (s.eof[dir]) continue;
        const bool eof = s.ended[dir];
        while (!s.parser.dead(side)) {
            bool lost = false;
            const StreamSpan span = streams.app_bytes(flow, dir, s.parsed[dir], eof, lost);
            if (lost) {
                ++counters_.lost;
                s.parser.stop(side);
                break;
            }
            if (span.len == 0) break;
            s.parser.feed(side, span.data, span.len, ev);
            s.parsed[dir] += span.len;
        }
        // The response side says nothing until the client was recognised.
        if (dir == 0 && !s.parser.detected()) return;
        if (eof) {
            s.parser.finish(side, ev);
            s.eof[dir] = true;
            ended_now = true;
            // The direction ended inside a body: it is cut short.
            if (s.files[dir].size) close_file(s, flow, side, /*complete=*/false, sink);
        }
    }
    if (ended_now) Events::flush_length(s, flow, sink);
}

void HttpTracker::close_file(Session& s, const Flow& flow, HttpSide side, bool complete, HttpSink& sink) {
    Files& f = s.files[unsigned(side)];
    if (f.count == kFilesQueued) log_files(s, flow, unsigned(side), sink);  // bounded: log early
    f.closed[f.count++] = File{f.tx, f.size, complete};
    f.size = 0;
}

void HttpTracker::log_files(Session& s, const Flow& flow, unsigned side, HttpSink& sink) {
    Files& f = s.files[side];
    if (f.count == 0) return;
    // The file's http object shows the transaction as it is now.
    Events::flush_length(s, flow, sink);
    for (unsigned i = 0; i < f.count; ++i)
        sink.http_file(flow, f.closed[i].tx, side_of(side), f.closed[i].size, f.closed[i].complete);
    f.count = 0;
}

void HttpTracker::report_done(Session& s, const Flow& flow, HttpSink& sink) {
    const uint32_t total = std::max(s.parser.started(HttpSide::request), s.parser.started(HttpSide::response));
    const uint32_t requests = s.eof[0] ? total : s.parser.completed(HttpSide::request);
    const uint32_t responses = s.eof[1] ? total : s.parser.completed(HttpSide::response);
    const uint32_t done = std::min(requests, responses);
    while (s.logged < done) {
        sink.http_transaction(flow, s.logged++);
        ++counters_.transactions;
    }
}

HttpAlertTx HttpTracker::alert_tx(const Flow& flow, unsigned dir, HttpSink& sink) {
    HttpAlertTx out;
    out.http = is_http(flow);
    Session* s = out.http ? session_of(flow) : nullptr;
    if (!s) return out;
    const uint32_t count = std::max(s->parser.started(HttpSide::request), s->parser.started(HttpSide::response));
    if (count == 0 || count != s->inspect_id[dir] + 1) return out;
    const uint32_t tx = count - 1;
    if (s->guessed_tx != tx) {
        s->guessed_tx = tx;
        s->guessed = 0;
    }
    if (s->guessed >= kStreamLogLimit) return out;
    ++s->guessed;
    if (s->body_tx == tx) Events::flush_length(*s, flow, sink);
    out.has_tx = true;
    out.tx = tx;
    return out;
}

void HttpTracker::after_detect(const Flow& flow, unsigned dir) {
    Session* s = session_of(flow);
    if (!s) return;
    const uint32_t count = std::max(s->parser.started(HttpSide::request), s->parser.started(HttpSide::response));
    s->inspect_id[dir] = s->eof[dir] ? count : s->parser.completed(side_of(dir));
}

void HttpTracker::flow_end(const Flow& flow, const StreamTracker& streams, HttpSink& sink) {
    if (flow.index >= flows_.size()) return;
    FlowSlot& slot = flows_[flow.index];
    if (slot.flow_id != flow.id || slot.session == kNone) return;
    Session& s = sessions_[slot.session];
    s.ended[0] = s.ended[1] = true;
    parse(s, flow, streams, sink);
    if (s.parser.detected()) {
        if (!slot.http) {
            slot.http = true;
            ++counters_.sessions;
        }
        report_done(s, flow, sink);
        log_files(s, flow, 0, sink);
        log_files(s, flow, 1, sink);
    }
}

void HttpTracker::forget(const Flow& flow) {
    if (flow.index >= flows_.size()) return;
    FlowSlot& slot = flows_[flow.index];
    if (slot.flow_id == flow.id) release(slot);
}

} // namespace sg
