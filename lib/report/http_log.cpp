#include "report/http_log.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <string_view>

#include "core/time.hpp"
#include "parse/packet_view.hpp"

namespace sg {

namespace {

// Transactions kept behind the newest logged one (for bodies logged late).
constexpr uint32_t kTxsKept = 16;

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (lower(s[i]) != prefix[i]) return false;
    return true;
}

// An absolute request URI ("http://host:port/path"): its authority and path.
bool split_absolute(std::string_view uri, std::string_view& authority, std::string_view& path) {
    size_t skip = 0;
    if (starts_with_nocase(uri, "http://")) skip = 7;
    else if (starts_with_nocase(uri, "https://")) skip = 8;
    else return false;
    const std::string_view rest = uri.substr(skip);
    const size_t slash = rest.find_first_of("/?");
    authority = rest.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    const size_t at = authority.rfind('@');  // user:password@host
    if (at != std::string_view::npos) authority = authority.substr(at + 1);
    return true;
}

// Host[:port] as eve shows it: the name as sent (Suricata keeps its case),
// the port apart (-1: none or not a number).
std::string host_name(std::string_view authority, int& port) {
    port = -1;
    std::string_view name = authority;
    const size_t close = name.rfind(']');
    const size_t colon = name.rfind(':');
    if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
        const std::string_view digits = name.substr(colon + 1);
        int value = 0;
        bool ok = !digits.empty() && digits.size() <= 5;
        for (char c : digits) {
            if (c < '0' || c > '9') ok = false;
            else value = value * 10 + (c - '0');
        }
        if (ok && value <= 65535) port = value;
        name = name.substr(0, colon);
    }
    return std::string(name);
}

} // namespace

void HttpLog::add(uint64_t flow_id, const HttpRecord& r, std::FILE* eve) {
    FlowTxs& f = flows_[flow_id];
    Tx& t = f.txs[r.tx];
    switch (r.what) {
    case HttpRecord::What::field: {
        const std::string_view text(r.text, std::min<size_t>(r.text_len, kHttpTextChunk));
        if (r.continued) {
            if (f.last_tx == r.tx) f.txs[r.tx].fields[unsigned(f.last_field)].append(text);
            break;
        }
        if (r.field >= kHttpFields) break;
        std::string& value = t.fields[r.field];
        // A header seen twice reads as one list, "first, second" (libhtp's way).
        if (t.has[r.field]) value += ", ";
        value.append(text);
        t.has[r.field] = true;
        f.last_field = HttpField(r.field);
        f.last_tx = r.tx;
        break;
    }
    case HttpRecord::What::status: t.status = uint16_t(r.number); break;
    case HttpRecord::What::length: t.length = r.number; break;
    case HttpRecord::What::file:
        ++files_;
        write_file(flow_id, r, t, eve);
        break;
    case HttpRecord::What::transaction:
        ++transactions_;
        write_http(flow_id, r, t, eve);
        // Alerts only ever name the newest transaction and a body is logged
        // soon after it closed: transactions well behind this one can go.
        for (auto it = f.txs.begin(); it != f.txs.end();)
            it = it->first + kTxsKept <= r.tx ? f.txs.erase(it) : std::next(it);
        break;
    }
}

nlohmann::json HttpLog::object_of(const Tx& t) {
    auto field = [&](HttpField f) -> const std::string* {
        return t.has[unsigned(f)] ? &t.fields[unsigned(f)] : nullptr;
    };
    nlohmann::json h = nlohmann::json::object();
    // The hostname: from an absolute request URI, else the Host header.
    std::string_view authority, path;
    const std::string* uri = field(HttpField::uri);
    const std::string* host = field(HttpField::host);
    int port = -1;
    if (uri && split_absolute(*uri, authority, path)) h["hostname"] = utf8_lossy(host_name(authority, port));
    else if (host) h["hostname"] = utf8_lossy(host_name(*host, port));
    if (port >= 0) h["http_port"] = port;
    if (uri) h["url"] = utf8_lossy(*uri);
    if (const std::string* v = field(HttpField::user_agent)) h["http_user_agent"] = utf8_lossy(*v);
    if (const std::string* v = field(HttpField::content_type)) h["http_content_type"] = utf8_lossy(v->substr(0, v->find(';')));
    if (const std::string* v = field(HttpField::referer)) h["http_refer"] = utf8_lossy(*v);
    if (const std::string* v = field(HttpField::method)) h["http_method"] = utf8_lossy(*v);
    if (const std::string* v = field(HttpField::protocol)) h["protocol"] = utf8_lossy(*v);
    if (t.status) h["status"] = t.status;
    if (const std::string* v = field(HttpField::location)) h["redirect"] = utf8_lossy(*v);
    h["length"] = t.length;
    return h;
}

nlohmann::json HttpLog::http_object(uint64_t flow_id, uint32_t tx) const {
    const auto f = flows_.find(flow_id);
    if (f == flows_.end()) return nullptr;
    const auto t = f->second.txs.find(tx);
    if (t == f->second.txs.end()) return nullptr;
    return object_of(t->second);
}

namespace {

struct Ends {
    std::string client_ip, server_ip;
    uint16_t client_port, server_port;
};

Ends ends_of(const HttpRecord& r) {
    const FlowKey& k = r.flow_key;
    return Ends{(r.initiator_is_a ? k.a : k.b).to_string(), (r.initiator_is_a ? k.b : k.a).to_string(),
                r.initiator_is_a ? k.port_a : k.port_b, r.initiator_is_a ? k.port_b : k.port_a};
}

nlohmann::json event_header(uint64_t flow_id, const HttpRecord& r, const char* type, bool from_client) {
    const Ends e = ends_of(r);
    nlohmann::json ev;
    ev["timestamp"] = format_timestamp(r.ts);
    ev["flow_id"] = flow_id;
    if (r.pcap_cnt) ev["pcap_cnt"] = r.pcap_cnt;
    ev["event_type"] = type;
    ev["src_ip"] = from_client ? e.client_ip : e.server_ip;
    ev["src_port"] = from_client ? e.client_port : e.server_port;
    ev["dest_ip"] = from_client ? e.server_ip : e.client_ip;
    ev["dest_port"] = from_client ? e.server_port : e.client_port;
    ev["proto"] = "TCP";
    return ev;
}

void emit(const nlohmann::json& ev, std::FILE* eve) {
    const std::string line = ev.dump();
    std::fwrite(line.data(), 1, line.size(), eve);
    std::fputc('\n', eve);
}

} // namespace

void HttpLog::write_file(uint64_t flow_id, const HttpRecord& r, const Tx& t, std::FILE* eve) {
    if (!eve) return;
    // A body as a file (Suricata's file tracking): named by the request
    // path, not stored, no gaps (a gap stops the parser).
    std::string name;
    if (t.has[unsigned(HttpField::uri)]) {
        std::string_view uri = t.fields[unsigned(HttpField::uri)];
        std::string_view authority, path;
        if (split_absolute(uri, authority, path)) uri = path;
        name = utf8_lossy(uri.substr(0, uri.find('?')));
    }
    nlohmann::json ev = event_header(flow_id, r, "fileinfo", /*from_client=*/r.side == uint8_t(HttpSide::request));
    ev["http"] = object_of(t);
    ev["app_proto"] = "http";
    ev["fileinfo"] = {{"filename", name},
                      {"gaps", false},
                      {"state", r.complete ? "CLOSED" : "TRUNCATED"},
                      {"stored", false},
                      {"size", r.number},
                      {"tx_id", r.tx}};
    emit(ev, eve);
}

void HttpLog::write_http(uint64_t flow_id, const HttpRecord& r, const Tx& t, std::FILE* eve) {
    if (!eve) return;
    nlohmann::json ev = event_header(flow_id, r, "http", /*from_client=*/true);
    ev["tx_id"] = r.tx;
    ev["http"] = object_of(t);
    emit(ev, eve);
}

} // namespace sg
