#include "http/http_parser.hpp"

#include <algorithm>
#include <cstring>

namespace sg {

namespace {

constexpr unsigned kMaxMethod = 24;   // longer first tokens are not an HTTP method
constexpr uint64_t kMaxChunk = uint64_t(1) << 40;

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) return false;
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
        if (iequals(hay.substr(i, needle.size()), needle)) return true;
    return false;
}

// A request method as HTTP detection accepts it: upper-case letters, '-', '_'.
bool method_char(char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

// Decimal digits only (optional surrounding blanks); false on anything else or overflow.
bool parse_decimal(std::string_view s, uint64_t& out) {
    s = trim(s);
    if (s.empty() || s.size() > 18) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint64_t(c - '0');
    }
    out = v;
    return true;
}

// A chunk-size line: hex digits, then optional blanks and ";extensions".
bool parse_chunk_size(std::string_view s, uint64_t& out) {
    s = trim(s);
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = unsigned(c - '0');
        else if (c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
        else break;
        v = v * 16 + d;
        if (v > kMaxChunk) return false;
    }
    if (i == 0) return false;
    const std::string_view rest = trim(s.substr(i));
    if (!rest.empty() && rest.front() != ';') return false;
    out = v;
    return true;
}

uint64_t bit(uint32_t tx) { return uint64_t(1) << (tx % 64); }

} // namespace

void HttpParser::reset() {
    for (Direction& d : dir_) {
        d.state = State::start_line;
        d.started = d.completed = 0;
        d.remaining = d.body = d.content_length = 0;
        d.has_length = d.chunked = false;
        d.status = 0;
        d.line.len = d.line.tail_len = d.line.tail_at = 0;
        d.line.raw = 0;
        d.message = 0;
        d.line.overflow = false;
    }
    head_mask_ = connect_mask_ = 0;
    detected_ = false;
}

bool HttpParser::feed(HttpSide side, const uint8_t* data, uint32_t len, HttpEvents& events) {
    Direction& d = dir_[unsigned(side)];
    const char* p = reinterpret_cast<const char*>(data);
    const char* const end = p + len;
    while (p < end && d.state != State::dead) {
        switch (d.state) {
        case State::body_length:
        case State::chunk_data: {
            const uint64_t n = std::min<uint64_t>(d.remaining, uint64_t(end - p));
            p += n;
            d.remaining -= n;
            body_bytes(side, n, 0, events);
            if (d.remaining == 0) {
                if (d.state == State::body_length) complete(side, events);
                else d.state = State::chunk_crlf;
            }
            continue;
        }
        case State::body_close: {
            body_bytes(side, uint64_t(end - p), 0, events);
            p = end;
            continue;
        }
        default: break;
        }
        // Line states: gather up to LF.
        Line& l = d.line;
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
        const char* stop_at = nl ? nl : end;
        l.raw += uint32_t(std::min<size_t>(size_t(stop_at - p), UINT32_MAX - l.raw));
        for (const char* c = p; c < stop_at; ++c) {
            if (l.len < kLineMax) {
                l.head[l.len++] = *c;
            } else {
                l.overflow = true;
                l.tail[l.tail_at] = *c;
                l.tail_at = uint16_t((l.tail_at + 1) % kTailMax);
                if (l.tail_len < kTailMax) ++l.tail_len;
            }
        }
        // Before the first line is complete, its first bytes already say
        // whether the client speaks HTTP: do not gather a non-HTTP line.
        if (side == HttpSide::request && !detected_ && d.started == 0) {
            unsigned i = 0;
            while (i < l.len && method_char(l.head[i])) ++i;
            const bool bad = (i < l.len && (i == 0 || l.head[i] != ' ')) || i > kMaxMethod;
            if (bad) {
                stop(side);
                return false;
            }
        }
        if (!nl) break;
        p = nl + 1;
        ++l.raw;
        // Chunk-size lines and the CRLF after a chunk are part of the body
        // as sent (libhtp counts them in the message length); trailers not.
        if (d.state == State::chunk_size || d.state == State::chunk_crlf) body_bytes(side, 0, l.raw, events);
        std::string_view text(l.head, l.len);
        if (!text.empty() && text.back() == '\r' && !l.overflow) text.remove_suffix(1);
        const bool ok = on_line(side, text, events);
        l.len = l.tail_len = l.tail_at = 0;
        l.raw = 0;
        l.overflow = false;
        if (!ok) {
            stop(side);
            return false;
        }
    }
    return d.state != State::dead;
}

bool HttpParser::on_line(HttpSide side, std::string_view line, HttpEvents& events) {
    Direction& d = dir_[unsigned(side)];
    switch (d.state) {
    case State::start_line:
        // Empty lines between messages (a CRLF after a body) are tolerated.
        if (trim(line).empty()) return true;
        return side == HttpSide::request ? on_request_line(line, events) : on_status_line(line, events);
    case State::headers:
        if (line.empty() || line == "\r") return end_of_headers(side, events);
        on_header(side, line, events);
        return true;
    case State::chunk_size: {
        uint64_t size = 0;
        if (!parse_chunk_size(line, size)) return false;
        if (size == 0) {
            d.state = State::trailers;
        } else {
            d.remaining = size;
            d.state = State::chunk_data;
        }
        return true;
    }
    case State::chunk_crlf:
        // The CRLF after a chunk's data; anything else there is malformed.
        if (!trim(line).empty()) return false;
        d.state = State::chunk_size;
        return true;
    case State::trailers:
        if (trim(line).empty()) complete(side, events);
        return true;
    default: return true;
    }
}

bool HttpParser::on_request_line(std::string_view line, HttpEvents& events) {
    Direction& d = dir_[0];
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    const std::string_view method = line.substr(0, sp);
    if (method.size() > kMaxMethod) return false;
    if (!detected_) {
        for (char c : method)
            if (!method_char(c)) return false;
    }
    std::string_view rest = trim(line.substr(sp + 1));
    std::string_view uri = rest;
    std::string_view protocol;
    // The protocol is the last word; an overflowing line has it in the tail.
    char tail[kTailMax];
    const Line& l = d.line;
    if (l.overflow) {
        for (unsigned i = 0; i < l.tail_len; ++i)
            tail[i] = l.tail[(l.tail_at + kTailMax - l.tail_len + i) % kTailMax];
        std::string_view t = trim(std::string_view(tail, l.tail_len));
        const size_t last = t.rfind(' ');
        if (last != std::string_view::npos && t.substr(last + 1).substr(0, 5) == "HTTP/") protocol = t.substr(last + 1);
    } else {
        const size_t last = rest.rfind(' ');
        if (last != std::string_view::npos && rest.substr(last + 1).substr(0, 5) == "HTTP/") {
            protocol = rest.substr(last + 1);
            uri = trim(rest.substr(0, last));
        }
    }
    const uint32_t tx = d.started++;
    detected_ = true;
    head_mask_ &= ~bit(tx);
    connect_mask_ &= ~bit(tx);
    if (method == "HEAD") head_mask_ |= bit(tx);
    if (method == "CONNECT") connect_mask_ |= bit(tx);
    events.on_field(tx, HttpField::method, method);
    if (!uri.empty()) events.on_field(tx, HttpField::uri, uri);
    if (!protocol.empty()) events.on_field(tx, HttpField::protocol, protocol);
    d.has_length = d.chunked = false;
    d.content_length = d.body = d.message = 0;
    if (protocol.empty() && !l.overflow) {
        // HTTP/0.9: a bare request line, no headers.
        complete(HttpSide::request, events);
        return true;
    }
    d.state = State::headers;
    return true;
}

bool HttpParser::on_status_line(std::string_view line, HttpEvents& events) {
    Direction& d = dir_[1];
    if (line.substr(0, 5) != "HTTP/") return false;
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return false;
    std::string_view code = trim(line.substr(sp + 1));
    code = code.substr(0, code.find(' '));
    uint64_t status = 0;
    if (code.size() != 3 || !parse_decimal(code, status) || status < 100) return false;
    // An interim (1xx) answer precedes the final one of the same transaction.
    const uint32_t tx = d.started;
    d.status = uint16_t(status);
    d.has_length = d.chunked = false;
    d.content_length = d.body = d.message = 0;
    events.on_status(tx, uint16_t(status));
    d.state = State::headers;
    return true;
}

void HttpParser::on_header(HttpSide side, std::string_view line, HttpEvents& events) {
    Direction& d = dir_[unsigned(side)];
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;  // not a header: ignored, as a folded line is
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    const uint32_t tx = side == HttpSide::request ? d.started - 1 : d.started;
    if (iequals(name, "content-length")) {
        uint64_t n = 0;
        if (parse_decimal(value, n)) {
            d.content_length = n;
            d.has_length = true;
        }
    } else if (iequals(name, "transfer-encoding")) {
        if (icontains(value, "chunked")) d.chunked = true;
    } else if (side == HttpSide::request) {
        if (iequals(name, "host")) events.on_field(tx, HttpField::host, value);
        else if (iequals(name, "user-agent")) events.on_field(tx, HttpField::user_agent, value);
        else if (iequals(name, "referer")) events.on_field(tx, HttpField::referer, value);
    } else if (d.status >= 200 || d.status == 101) {
        if (iequals(name, "content-type")) events.on_field(tx, HttpField::content_type, value);
        else if (iequals(name, "location")) events.on_field(tx, HttpField::location, value);
    }
}

bool HttpParser::end_of_headers(HttpSide side, HttpEvents& events) {
    Direction& d = dir_[unsigned(side)];
    if (side == HttpSide::response) {
        const uint32_t tx = d.started;
        if (d.status < 200 && d.status != 101) {  // interim: the final status line follows
            d.state = State::start_line;
            return true;
        }
        ++d.started;
        const bool tunnel = d.status == 101 || ((connect_mask_ & bit(tx)) && d.status < 300);
        if (tunnel) {
            // Whatever follows is another protocol: both directions stop here.
            complete(side, events);
            stop(HttpSide::response);
            stop(HttpSide::request);
            return true;
        }
        if ((head_mask_ & bit(tx)) || d.status == 204 || d.status == 304) {
            complete(side, events);
            return true;
        }
    }
    if (d.chunked) {
        d.state = State::chunk_size;
    } else if (d.has_length) {
        if (d.content_length == 0) {
            complete(side, events);
        } else {
            d.remaining = d.content_length;
            d.state = State::body_length;
        }
    } else if (side == HttpSide::response) {
        d.state = State::body_close;
    } else {
        complete(side, events);
    }
    return true;
}

void HttpParser::body_bytes(HttpSide side, uint64_t data, uint64_t framing, HttpEvents& events) {
    Direction& d = dir_[unsigned(side)];
    d.body += data;
    d.message += data + framing;
    if (data || framing) events.on_body(d.started - 1, side, d.body, d.message);
}

void HttpParser::complete(HttpSide side, HttpEvents& events) {
    Direction& d = dir_[unsigned(side)];
    const uint32_t tx = d.started - 1;  // both sides count a message as started before it completes
    ++d.completed;
    events.on_complete(tx, side);
    d.state = State::start_line;
}

void HttpParser::finish(HttpSide side, HttpEvents& events) {
    Direction& d = dir_[unsigned(side)];
    if (d.state == State::body_close) complete(side, events);
    d.state = State::dead;
}

} // namespace sg
