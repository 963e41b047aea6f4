// ControlServer over a real Unix socket: framing (several requests in one
// write, one request in many, a last one without a newline), the size
// limit, who may connect, and the socket file's life.

#include <catch2/catch.hpp>

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "../temp_dir.hpp"
#include "control/server.hpp"

using namespace sg;
using namespace sg::control;
using nlohmann::json;

namespace {

int connect_to(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        REQUIRE(n > 0);
        data.remove_prefix(size_t(n));
    }
}

// Reads one reply line (waits up to 5 s).
json read_reply(int fd, std::string& pending) {
    for (;;) {
        if (const size_t nl = pending.find('\n'); nl != std::string::npos) {
            json j = json::parse(pending.substr(0, nl));
            pending.erase(0, nl + 1);
            return j;
        }
        pollfd p{fd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 5000) == 1);
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        REQUIRE(n > 0);
        pending.append(buf, size_t(n));
    }
}

struct Running {
    test::TempDir dir;
    CommandTable table;
    std::unique_ptr<ControlServer> server;
    std::string path;

    explicit Running(size_t max_request = 64 * 1024) {
        path = (dir.path / "run" / "control.sock").string();   // "run/" does not exist yet
        REQUIRE(table.add("echo", "the args back", [](const Args& a, const Caller& c) -> Result<json> {
            return json{{"args", a.json()}, {"uid", c.uid}, {"pid", c.pid}};
        }).ok());
        ServerOptions o;
        o.path = path;
        o.max_request = max_request;
        auto s = ControlServer::open(o, table);
        INFO((s.ok() ? std::string() : s.error().message));
        REQUIRE(s.ok());
        server = std::move(*s);
        server->start();
    }
};

} // namespace

TEST_CASE("Requests are lines: several per write, one across writes, the last without a newline") {
    Running r;
    struct stat st{};
    REQUIRE(::stat(r.path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0660);

    const int fd = connect_to(r.path);
    std::string pending;
    send_all(fd, "{\"command\": \"echo\", \"args\": {\"n\": 1}}\n{\"command\": \"echo\", \"args\": {\"n\": 2}}\r\n");
    json a = read_reply(fd, pending);
    json b = read_reply(fd, pending);
    CHECK(a["result"]["args"]["n"] == 1);
    CHECK(b["result"]["args"]["n"] == 2);
    CHECK(a["result"]["uid"] == getuid());
    CHECK(a["result"]["pid"] == getpid());

    send_all(fd, "{\"command\": \"ec");
    send_all(fd, "ho\", \"args\": {\"n\": 3}}\n");
    CHECK(read_reply(fd, pending)["result"]["args"]["n"] == 3);
    send_all(fd, "\n   \n");   // blank lines: nothing to answer
    send_all(fd, "{\"command\": \"echo\", \"args\": {\"n\": 4}}");
    ::shutdown(fd, SHUT_WR);
    CHECK(read_reply(fd, pending)["result"]["args"]["n"] == 4);
    ::close(fd);
    CHECK(r.server->counters().requests == 4);
}

TEST_CASE("Malformed and oversized requests are answered with errors and the connection goes on") {
    Running r(/*max_request=*/1024);
    const int fd = connect_to(r.path);
    std::string pending;
    send_all(fd, "this is not json\n");
    json bad = read_reply(fd, pending);
    CHECK(bad["ok"] == false);
    CHECK(bad["error"].get<std::string>().starts_with("malformed request"));

    // 100 KiB in one line: one error, the rest of the line skipped.
    send_all(fd, "{\"command\": \"echo\", \"args\": {\"pad\": \"" + std::string(100 * 1024, 'x') + "\"}}\n");
    json big = read_reply(fd, pending);
    CHECK(big == json{{"ok", false}, {"error", "request too large: more than 1024 bytes without a newline"}});
    send_all(fd, "{\"command\": \"echo\", \"args\": {\"after\": true}}\n");
    json after = read_reply(fd, pending);
    CHECK(after["ok"] == true);
    CHECK(after["result"]["args"]["after"] == true);
    CHECK(r.server->counters().oversized == 1);
    CHECK(r.server->counters().errors == 2);

    // Exactly at the limit is fine.
    const std::string head = "{\"command\": \"echo\", \"args\": {\"pad\": \"";
    const std::string tail = "\"}}";
    send_all(fd, head + std::string(1024 - head.size() - tail.size(), 'y') + tail + "\n");
    CHECK(read_reply(fd, pending)["ok"] == true);
    ::close(fd);
}

TEST_CASE("Who may connect: root, the daemon's user, the configured group") {
    std::string why;
    CHECK(peer_permitted(0, 0, 0, false, 0, &why));
    CHECK(peer_permitted(geteuid(), 12345, 0, false, 0, &why));
    const uid_t stranger = geteuid() == 0 ? 65534 : 0;
    if (stranger != 0) {
        CHECK_FALSE(peer_permitted(stranger, 65534, 0, false, 0, &why));
        CHECK(why.find("is not root, and control.group names no other group") != std::string::npos);
        CHECK_FALSE(peer_permitted(stranger, 65534, 0, true, 4242, &why));
        CHECK(why.find("is neither root nor in group") != std::string::npos);
        CHECK(peer_permitted(stranger, 4242, 0, true, 4242, &why));    // its group is the socket's
    }
}

TEST_CASE("A stale socket file is replaced, a live one is not, and stop() removes it") {
    Running r;
    ServerOptions o;
    o.path = r.path;
    auto second = ControlServer::open(o, r.table);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message == r.path + ": another process is serving this control socket");

    r.server->stop();
    struct stat st{};
    CHECK(::stat(r.path.c_str(), &st) != 0);

    // A socket file nobody serves (a crashed daemon's) is taken over.
    {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, r.path.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        ::close(fd);
    }
    auto third = ControlServer::open(o, r.table);
    REQUIRE(third.ok());
    (*third)->start();
    const int fd = connect_to(r.path);
    std::string pending;
    send_all(fd, "{\"command\": \"echo\"}\n");
    CHECK(read_reply(fd, pending)["ok"] == true);
    ::close(fd);

    // Not a socket: left alone.
    const std::string plain = r.dir.write("plain", "data");
    o.path = plain;
    auto fourth = ControlServer::open(o, r.table);
    REQUIRE_FALSE(fourth.ok());
    CHECK(fourth.error().message == plain + ": exists and is not a socket; not replacing it");
    CHECK(test::read_file(plain) == "data");
}

TEST_CASE("A group that does not exist stops the start with its name") {
    test::TempDir dir;
    CommandTable table;
    ServerOptions o;
    o.path = (dir.path / "c.sock").string();
    o.group = "no-such-group-sg";
    auto s = ControlServer::open(o, table);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message == "control.group: no group named 'no-such-group-sg' on this machine");
}
