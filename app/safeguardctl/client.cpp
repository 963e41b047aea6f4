#include "app/safeguardctl/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace sg::ctl {

namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

} // namespace

Reply request(const std::string& socket, const std::string& command, const nlohmann::json& args,
              std::chrono::milliseconds timeout) {
    Reply out;
    sockaddr_un addr{};
    if (socket.size() >= sizeof addr.sun_path) {
        out.code = kExitUsage;
        out.problem = fmt::format("{}: socket path too long", socket);
        return out;
    }
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket.data(), socket.size());
    Fd s;
    s.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        if (err == EACCES || err == EPERM) {
            out.code = kExitPermission;
            out.problem = fmt::format("{}: permission denied (the socket is for root and the control group)", socket);
        } else if (err == ENOENT || err == ECONNREFUSED) {
            out.code = kExitUnreachable;
            out.problem = fmt::format("{}: no daemon is listening ({}); is safeguard running with control.socket set?",
                                      socket, std::strerror(err));
        } else {
            out.code = kExitUnreachable;
            out.problem = fmt::format("{}: cannot connect: {}", socket, std::strerror(err));
        }
        return out;
    }
    const nlohmann::json req = {{"command", command}, {"args", args}};
    const std::string line = req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto left_ms = [&] {
        const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        return int(std::max<long>(0, long(d.count())));
    };
    // A refused peer gets its answer without the daemon reading the
    // request: a failed send still leaves a reply to read.
    size_t sent = 0;
    while (sent < line.size()) {
        const ssize_t n = ::send(s.fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        sent += size_t(n);
    }
    std::string in;
    char buf[65536];
    for (;;) {
        if (const size_t nl = in.find('\n'); nl != std::string::npos) {
            out.body = nlohmann::json::parse(in.substr(0, nl), nullptr, false);
            if (out.body.is_discarded() || !out.body.is_object() || !out.body.contains("ok")) {
                out.code = kExitProtocol;
                out.problem = fmt::format("{}: the reply is not a control-socket reply", socket);
            }
            return out;
        }
        pollfd p{s.fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, left_ms());
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            out.code = kExitProtocol;
            out.problem = fmt::format("{}: no reply within {} s", socket, timeout.count() / 1000);
            return out;
        }
        const ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            out.code = kExitProtocol;
            out.problem = fmt::format("{}: the daemon closed the connection without a reply", socket);
            return out;
        }
        in.append(buf, size_t(n));
    }
}

} // namespace sg::ctl
