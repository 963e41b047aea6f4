#include "control/server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "core/log.hpp"

namespace sg::control {

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kReadPerRound = 256 * 1024;   // per client and poll round: nobody starves the others
constexpr size_t kMaxPendingOut = 64u << 20;   // a client that never reads its replies is dropped

std::string user_name(uid_t uid) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return found->pw_name;
    return fmt::format("uid {}", uid);
}

std::optional<gid_t> group_id(const std::string& name) {
    std::vector<char> buf(16384);
    group gr{};
    group* found = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found) return found->gr_gid;
    return std::nullopt;
}

// The supplementary groups of a process (/proc/PID/status "Groups:").
bool process_in_group(pid_t pid, gid_t group) {
    if (pid <= 0) return false;
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with("Groups:")) continue;
        std::istringstream ids(line.substr(7));
        unsigned long id = 0;
        while (ids >> id)
            if (gid_t(id) == group) return true;
        return false;
    }
    return false;
}

// The account's groups (/etc/group membership and its primary group).
bool account_in_group(uid_t uid, gid_t group) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return false;
    if (found->pw_gid == group) return true;
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &n) < 0) {
        groups.resize(size_t(n));
        if (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &n) < 0) return false;
    }
    for (int i = 0; i < n; ++i)
        if (groups[size_t(i)] == group) return true;
    return false;
}

struct Client {
    int fd = -1;
    Caller caller;
    std::string in;
    std::string out;
    bool discarding = false;   // skipping an oversized request up to its newline
    bool closing = false;      // close once `out` is sent
    bool eof = false;
    std::chrono::steady_clock::time_point last_activity;
};

void flush_out(Client& c) {
    while (!c.out.empty()) {
        const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out.erase(0, size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        // The peer went away: nothing more to say to it.
        c.out.clear();
        c.closing = true;
        return;
    }
}

void reply(Client& c, const nlohmann::json& r, ServerCounters& counters) {
    if (!r.value("ok", false)) ++counters.errors;
    c.out += r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    c.out += '\n';
}

} // namespace

bool peer_permitted(uid_t uid, gid_t gid, pid_t pid, bool have_group, gid_t group, std::string* why) {
    if (uid == 0 || uid == geteuid()) return true;
    if (have_group && (gid == group || process_in_group(pid, group) || account_in_group(uid, group))) return true;
    if (why) {
        if (have_group) {
            std::vector<char> buf(16384);
            struct group gr{};
            struct group* found = nullptr;
            const std::string name =
                getgrgid_r(group, &gr, buf.data(), buf.size(), &found) == 0 && found ? found->gr_name : std::to_string(group);
            *why = fmt::format("uid {} ({}) is neither root nor in group '{}'", uid, user_name(uid), name);
        } else {
            *why = fmt::format("uid {} ({}) is not root, and control.group names no other group", uid, user_name(uid));
        }
    }
    return false;
}

Result<std::unique_ptr<ControlServer>> ControlServer::open(ServerOptions options, const CommandTable& table) {
    std::unique_ptr<ControlServer> s(new ControlServer(std::move(options), table));
    const std::string& path = s->options_.path;
    if (path.empty()) return make_error("control.socket: no path");
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path)
        return make_error(fmt::format("{}: control socket path longer than {} bytes", path, sizeof addr.sun_path - 1));
    if (!s->options_.group.empty()) {
        auto gid = group_id(s->options_.group);
        if (!gid) return make_error(fmt::format("control.group: no group named '{}' on this machine", s->options_.group));
        s->have_group_ = true;
        s->group_ = *gid;
    }

    // A missing parent directory (e.g. /run/safeguard after a reboot) is made.
    if (const size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
        const std::string dir = path.substr(0, slash);
        struct stat st{};
        if (::stat(dir.c_str(), &st) != 0) {
            if (::mkdir(dir.c_str(), 0755) != 0)
                return make_error(fmt::format("{}: cannot create the socket's directory: {}", dir, std::strerror(errno)));
        } else if (!S_ISDIR(st.st_mode)) {
            return make_error(fmt::format("{}: not a directory", dir));
        }
    }

    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return make_error(fmt::format("{}: exists and is not a socket; not replacing it", path));
        // A daemon that still answers there keeps it; a stale file goes.
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool live = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        if (probe >= 0) ::close(probe);
        if (live) return make_error(fmt::format("{}: another process is serving this control socket", path));
        if (::unlink(path.c_str()) != 0)
            return make_error(fmt::format("{}: cannot remove the stale socket: {}", path, std::strerror(errno)));
    }

    s->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->listen_fd_ < 0) return make_error(fmt::format("{}: socket: {}", path, std::strerror(errno)));
    if (::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return make_error(fmt::format("{}: cannot bind the control socket: {}", path, std::strerror(errno)));
    // From here on the file is ours: the destructor removes it.
    s->stopped_ = false;
    if (::chmod(path.c_str(), 0660) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return make_error(fmt::format("{}: chmod 0660: {}", path, std::strerror(err)));
    }
    if (s->have_group_ && ::chown(path.c_str(), uid_t(-1), s->group_) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return make_error(fmt::format("{}: cannot give the socket to group '{}': {} (run as root or as a member of it)",
                                      path, s->options_.group, std::strerror(err)));
    }
    if (::listen(s->listen_fd_, 16) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return make_error(fmt::format("{}: listen: {}", path, std::strerror(err)));
    }
    s->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd_ < 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return make_error(fmt::format("control socket: eventfd: {}", std::strerror(err)));
    }
    return s;
}

ControlServer::~ControlServer() {
    stop();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ControlServer::start() {
    running_.store(true);
    thread_ = std::thread([this] { loop(); });
}

void ControlServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    running_.store(false);
    if (wake_fd_ >= 0) {
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
    }
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
        ::unlink(options_.path.c_str());
    }
}

void ControlServer::loop() {
    std::vector<Client> clients;
    std::vector<pollfd> fds;
    char buf[kReadChunk];

    auto process_input = [&](Client& c) {
        while (!c.closing) {
            if (c.discarding) {
                const size_t nl = c.in.find('\n');
                if (nl == std::string::npos) {
                    c.in.clear();
                    break;
                }
                c.in.erase(0, nl + 1);
                c.discarding = false;
                continue;
            }
            size_t nl = c.in.find('\n');
            if (nl == std::string::npos) {
                if (c.in.size() > options_.max_request) {
                    ++counters_.oversized;
                    ++counters_.requests;
                    reply(c, error_reply(fmt::format("request too large: more than {} bytes without a newline",
                                                     options_.max_request)),
                          counters_);
                    c.in.clear();
                    c.discarding = true;
                    continue;
                }
                if (!c.eof || c.in.empty()) break;
                nl = c.in.size();   // the last request of a peer that closed its side without a newline
                c.in += '\n';
            }
            std::string_view line(c.in.data(), nl);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.size() > options_.max_request) {
                ++counters_.oversized;
                ++counters_.requests;
                reply(c, error_reply(fmt::format("request too large: {} bytes (limit {})", line.size(), options_.max_request)),
                      counters_);
            } else if (line.find_first_not_of(" \t") != std::string_view::npos) {
                ++counters_.requests;
                reply(c, table_.handle(line, c.caller), counters_);
            }
            c.in.erase(0, nl + 1);
        }
        flush_out(c);
    };

    auto accept_all = [&] {
        for (;;) {
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) return;  // EAGAIN, or an error worth no more than a retry at the next poll
            ++counters_.connections;
            Client c;
            c.fd = fd;
            c.last_activity = std::chrono::steady_clock::now();
            ucred cred{};
            socklen_t len = sizeof cred;
            std::string why;
            if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
                why = fmt::format("cannot read the peer's credentials: {}", std::strerror(errno));
            } else {
                c.caller = {cred.uid, cred.gid, cred.pid, user_name(cred.uid)};
                if (peer_permitted(cred.uid, cred.gid, cred.pid, have_group_, group_, &why)) why.clear();
            }
            if (!why.empty()) {
                ++counters_.refused;
                log::warn("control socket: refused pid {} uid {} gid {}: {}", cred.pid, cred.uid, cred.gid, why);
                reply(c, error_reply("permission denied: " + why), counters_);
                c.closing = true;
            } else if (clients.size() >= options_.max_clients) {
                log::warn("control socket: refused pid {} ({}): {} connections already", cred.pid, c.caller.user,
                          clients.size());
                reply(c, error_reply(fmt::format("too many connections ({}); try again", clients.size())), counters_);
                c.closing = true;
            }
            flush_out(c);
            clients.push_back(std::move(c));
        }
    };

    while (running_.load()) {
        fds.clear();
        fds.push_back({wake_fd_, POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        for (const Client& c : clients) {
            short events = c.closing || c.eof ? 0 : POLLIN;
            if (!c.out.empty()) events |= POLLOUT;
            fds.push_back({c.fd, events, 0});
        }
        const int ready = ::poll(fds.data(), fds.size(), 1000);
        if (ready < 0 && errno != EINTR) {
            log::error("control socket: poll: {}", std::strerror(errno));
            break;
        }
        if (!running_.load()) break;
        const auto now = std::chrono::steady_clock::now();
        // Clients first (their indexes match fds[2..]), then new ones.
        for (size_t i = 0; i < clients.size() && ready > 0; ++i) {
            Client& c = clients[i];
            const short rev = fds[i + 2].revents;
            if (rev & (POLLIN | POLLHUP | POLLERR)) {
                size_t got = 0;
                while (got < kReadPerRound && !c.eof && !c.closing) {
                    const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
                    if (n > 0) {
                        got += size_t(n);
                        if (c.discarding && c.in.empty()) {
                            // Skip without holding: only the part after a newline matters.
                            const void* nl = std::memchr(buf, '\n', size_t(n));
                            if (!nl) continue;
                            const size_t keep = size_t(n) - size_t(static_cast<const char*>(nl) - buf);
                            c.in.append(static_cast<const char*>(nl), keep);
                        } else {
                            c.in.append(buf, size_t(n));
                        }
                        // Bound what is held: process as we go.
                        if (c.in.size() > options_.max_request) process_input(c);
                        continue;
                    }
                    if (n == 0) {
                        c.eof = true;
                        break;
                    }
                    if (errno == EINTR) continue;
                    if (errno != EAGAIN && errno != EWOULDBLOCK) {
                        c.eof = true;
                        c.closing = true;
                    }
                    break;
                }
                if (got) c.last_activity = now;
                process_input(c);
                if (c.eof) c.closing = true;
            }
            if (rev & POLLOUT) flush_out(c);
            if (c.out.size() > kMaxPendingOut) {
                log::warn("control socket: pid {} ({}) does not read its replies; closing", c.caller.pid, c.caller.user);
                c.out.clear();
                c.closing = true;
            }
        }
        if (fds[1].revents & POLLIN) accept_all();
        // Close what is done: replies sent after the peer's end, refusals, idle peers.
        for (size_t i = 0; i < clients.size();) {
            Client& c = clients[i];
            const bool idle = c.out.empty() && now - c.last_activity > options_.idle_timeout;
            if ((c.closing && c.out.empty()) || idle) {
                ::close(c.fd);
                clients.erase(clients.begin() + long(i));
            } else {
                ++i;
            }
        }
    }
    // Stopping: what was answered gets a last chance to leave (1 s at most).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (Client& c : clients) {
        while (!c.out.empty() && std::chrono::steady_clock::now() < until) {
            flush_out(c);
            if (c.out.empty()) break;
            pollfd p{c.fd, POLLOUT, 0};
            ::poll(&p, 1, 50);
        }
        ::close(c.fd);
    }
}

} // namespace sg::control
