#pragma once
// HttpParser: one HTTP/1.0/1.1 connection, both directions, fed the in-order
// bytes of each as they become available (any split: a line or a chunk-size
// may straddle two feeds). It finds transactions (request + response, in
// order, pipelining and keep-alive included) and reports the fields eve's
// http object shows, as they are parsed, to an HttpEvents sink.
//
// Bounded: a line is kept up to kLineMax bytes (the rest of a longer line is
// skipped, its tail kept for the request line's protocol), bodies are
// counted, never stored. Malformed input stops that direction (dead()), it
// never reads past what it was given. Nothing here allocates.
//
// Thread: the owning worker only (one parser per flow, from HttpTracker's
// pool); unit tests drive it directly.

#include <cstdint>
#include <string_view>

namespace sg {

enum class HttpSide : uint8_t { request = 0, response = 1 };

// Text fields of a transaction, as eve's http object shows them.
enum class HttpField : uint8_t {
    method,        // request line
    uri,
    protocol,
    host,          // request headers
    user_agent,
    referer,
    content_type,  // response headers
    location,
};
inline constexpr unsigned kHttpFields = 8;

// What the parser found, in stream order. `tx` counts transactions from 0
// per connection: the n-th request and the n-th response share it.
class HttpEvents {
public:
    virtual void on_field(uint32_t tx, HttpField field, std::string_view value) = 0;
    virtual void on_status(uint32_t tx, uint16_t status) = 0;
    // The body of `tx` on `side` grew: `content` bytes of data so far (a
    // file's size), `message` bytes as sent, chunk framing included up to
    // the last chunk (eve's http `length` for a response).
    virtual void on_body(uint32_t tx, HttpSide side, uint64_t content, uint64_t message) = 0;
    // A message of `tx` ended (request: after its body; response: after its body).
    virtual void on_complete(uint32_t tx, HttpSide side) = 0;

protected:
    ~HttpEvents() = default;
};

class HttpParser {
public:
    static constexpr unsigned kLineMax = 1024;  // bytes of a line kept
    static constexpr unsigned kTailMax = 16;    // last bytes of a longer line (its " HTTP/1.1")

    // Starts a connection: nothing seen yet, not known to be HTTP.
    void reset();

    // In-order bytes of one direction; `events` hears what they complete.
    // Returns false once that direction stopped (not HTTP, malformed, a
    // tunnel): later bytes are ignored.
    bool feed(HttpSide side, const uint8_t* data, uint32_t len, HttpEvents& events);
    // The direction ended (FIN, RST, flow end): a response body that runs to
    // the close is complete now.
    void finish(HttpSide side, HttpEvents& events);
    // Gives up a direction (its bytes are missing): nothing more is parsed.
    void stop(HttpSide side) { dir_[unsigned(side)].state = State::dead; }

    // The client's first line was an HTTP request line.
    bool detected() const { return detected_; }
    bool dead(HttpSide side) const { return dir_[unsigned(side)].state == State::dead; }
    // Messages begun (request lines / final status lines seen) and completed.
    uint32_t started(HttpSide side) const { return dir_[unsigned(side)].started; }
    uint32_t completed(HttpSide side) const { return dir_[unsigned(side)].completed; }

private:
    enum class State : uint8_t {
        start_line,  // request or status line
        headers,
        body_length, // Content-Length bytes left in `remaining`
        chunk_size,  // a chunk-size line
        chunk_data,  // `remaining` bytes of chunk, then its CRLF
        chunk_crlf,
        trailers,    // after the last chunk, up to an empty line
        body_close,  // response body to the connection's close
        dead,        // not (or no longer) parsed
    };
    struct Line {
        char head[kLineMax];
        char tail[kTailMax];    // ring of the last bytes of an overflowing line
        uint16_t len = 0;       // bytes in head
        uint16_t tail_len = 0;
        uint32_t raw = 0;       // bytes the line took on the wire (CR, LF, overflow included)
        uint16_t tail_at = 0;
        bool overflow = false;  // the line was longer than kLineMax
    };
    struct Direction {
        State state = State::start_line;
        uint32_t started = 0;
        uint32_t completed = 0;
        uint64_t remaining = 0;
        uint64_t body = 0;         // body data bytes of the current message
        uint64_t message = 0;      // its body bytes as sent (chunk framing included)
        uint64_t content_length = 0;
        bool has_length = false;
        bool chunked = false;
        uint16_t status = 0;       // response: the current status
        Line line;
    };

    // One complete line (CR LF or LF stripped); false: the direction stops.
    bool on_line(HttpSide side, std::string_view line, HttpEvents& events);
    bool on_request_line(std::string_view line, HttpEvents& events);
    bool on_status_line(std::string_view line, HttpEvents& events);
    void on_header(HttpSide side, std::string_view line, HttpEvents& events);
    bool end_of_headers(HttpSide side, HttpEvents& events);
    void complete(HttpSide side, HttpEvents& events);
    void body_bytes(HttpSide side, uint64_t data, uint64_t framing, HttpEvents& events);

    Direction dir_[2];
    // Per pipelined request (by tx modulo 64): the response has no body
    // (HEAD), or a 2xx answer starts a tunnel (CONNECT).
    uint64_t head_mask_ = 0;
    uint64_t connect_mask_ = 0;
    bool detected_ = false;
};

} // namespace sg
