// Fuzz entry for the control socket's request handler: the input is what a
// client writes on one connection, sent to a real ControlServer (framing,
// the size limit, CommandTable::handle, the argument getters) over its Unix
// socket. The first byte chooses how the bytes are cut into writes, so
// requests split across writes are tried too.
//
// What must hold besides "no crash": every reply is one line of JSON, an
// object with "ok" true and a "result", or false and a non-empty "error";
// the server answers at most one reply per request line plus the last one
// without a newline, and it keeps serving (the next input connects again).

#include "fuzz_entries.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/server.hpp"

namespace sg::fuzz {
namespace {

using nlohmann::json;
using control::Args;
using control::Caller;

struct Server {
    std::string dir;
    control::CommandTable table;
    std::unique_ptr<control::ControlServer> server;
};

Server* g_server = nullptr;

// Commands like the daemon's: every Args getter, a handler that refuses, one
// that throws an ArgError of its own.
void add_commands(control::CommandTable& t) {
    (void)t.add("status", "no arguments", [](const Args&, const Caller& c) -> Result<json> {
        return json{{"user", c.user}};
    });
    (void)t.add("incidents show", "id", [](const Args& a, const Caller&) -> Result<json> {
        const uint64_t id = a.required_number("id", 1, 1u << 30);
        if (id % 7 == 0) return make_error(fmt::format("no incident {}", id));
        return json{{"id", id}};
    });
    (void)t.add("exception add", "the exception arguments", [](const Args& a, const Caller&) -> Result<json> {
        json out;
        out["reason"] = a.required_string("reason");
        if (auto d = a.duration("for")) out["for"] = *d;
        out["ports"] = a.strings("ports");
        out["all"] = a.flag("all");
        if (auto n = a.number("incident")) out["incident"] = *n;
        if (auto s = a.string("who")) out["who"] = *s;
        return out;
    });
    (void)t.add("top hosts", "n", [](const Args& a, const Caller&) -> Result<json> {
        const uint64_t n = a.number("n", 1, 1000).value_or(10);
        if (a.has("bogus")) throw control::ArgError{"bogus: not an argument of top hosts"};
        return json{{"n", n}};
    });
}

bool start_server() {
    char tmpl[] = "/tmp/sg-fuzz-control-XXXXXX";
    if (!::mkdtemp(tmpl)) return false;
    auto* s = new Server;
    s->dir = tmpl;
    add_commands(s->table);
    control::ServerOptions o;
    o.path = s->dir + "/control.sock";
    o.max_request = 4096;  // small, so that inputs reach the limit
    auto server = control::ControlServer::open(o, s->table);
    if (!server) {
        std::fprintf(stderr, "fuzz control: %s\n", server.error().message.c_str());
        return false;
    }
    s->server = std::move(*server);
    s->server->start();
    g_server = s;
    std::atexit([] {
        g_server->server->stop();  // removes the socket file
        ::rmdir(g_server->dir.c_str());
    });
    return true;
}

int connect_to(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Sends `data` in writes of `piece` bytes while reading what comes back (a
// long input must not deadlock on full socket buffers); then half-closes
// and reads to the end.
std::string exchange(int fd, std::string_view data, size_t piece) {
    std::string got;
    bool sent_all = data.empty();
    if (sent_all) ::shutdown(fd, SHUT_WR);
    for (;;) {
        pollfd p{fd, short(POLLIN | (sent_all ? 0 : POLLOUT)), 0};
        // Past libFuzzer's own -timeout (60 s in scripts/fuzz.sh), which reports
        // a real hang with its stack. Its SIGALRM interrupts poll() every
        // timeout / 2: EINTR is not an answer (found by the first long run).
        int ready;
        do ready = ::poll(&p, 1, 90'000);
        while (ready < 0 && errno == EINTR);
        if (ready != 1) return got + "\x01timeout";
        if (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
            char buf[8192];
            const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0) return got;
            if (n > 0) got.append(buf, size_t(n));
            else if (errno != EINTR && errno != EAGAIN) return got;
        }
        if (!sent_all && (p.revents & POLLOUT)) {
            const ssize_t n = ::send(fd, data.data(), std::min(piece, data.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) data.remove_prefix(size_t(n));
            // The server closed its side first (it may, after answering):
            // nothing more can be sent, read what it said.
            if (n < 0 && errno != EAGAIN && errno != EINTR) data = {};
            if (data.empty()) {
                sent_all = true;
                ::shutdown(fd, SHUT_WR);
            }
        }
    }
}

} // namespace

std::string control_request(const uint8_t* data, size_t size) {
    if (!g_server && !start_server()) return "the control server could not be started";
    if (size == 0) return {};
    const size_t piece = size_t(data[0] % 8 == 0 ? 1 << 20 : data[0] % 8 * 3);
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const int fd = connect_to(g_server->server->path());
    if (fd < 0) return fmt::format("cannot connect to the control socket: {}", std::strerror(errno));
    const std::string replies = exchange(fd, input, piece);
    ::close(fd);
    if (replies.find("\x01timeout") != std::string::npos) {
        const auto& k = g_server->server->counters();
        return fmt::format("no answer within 90 s (server: {} connections, {} requests, {} refused)",
                           k.connections.load(), k.requests.load(), k.refused.load());
    }
    const size_t lines = size_t(std::count(input.begin(), input.end(), '\n')) + 1;
    size_t n = 0;
    size_t at = 0;
    while (at < replies.size()) {
        const size_t nl = replies.find('\n', at);
        if (nl == std::string::npos) return "a reply without its newline: " + replies.substr(at, 200);
        const std::string line = replies.substr(at, nl - at);
        at = nl + 1;
        ++n;
        json r;
        try {
            r = json::parse(line);
        } catch (const json::exception& e) {
            return fmt::format("a reply that is not JSON ({}): {}", e.what(), line.substr(0, 200));
        }
        if (!r.is_object() || !r.contains("ok") || !r["ok"].is_boolean())
            return "a reply without a boolean ok: " + line.substr(0, 200);
        if (r["ok"].get<bool>() ? !r.contains("result")
                                : !r.contains("error") || !r["error"].is_string() || r["error"].get<std::string>().empty())
            return "a reply without its result or error: " + line.substr(0, 200);
    }
    if (n > lines) return fmt::format("{} replies to {} request lines", n, lines);
    return {};
}

} // namespace sg::fuzz
