#pragma once
// ControlServer: the Unix-domain control socket of the daemon. One thread,
// poll() over the listening socket and its clients; one JSON request per
// line, one JSON reply per line (CommandTable). Never a worker's business:
// commands reach the data path only as messages.
//
// Access: the socket file is mode 0660, group `group`; each connection's
// peer credentials (SO_PEERCRED) are checked as well, so a socket whose
// mode was widened still refuses strangers. Permitted: root, the daemon's
// own user, and processes in `group` (their group, supplementary groups, or
// the account's membership). Refusals are answered, logged and closed.
//
// Limits: a request line is at most `max_request` bytes; a longer one is
// answered with an error and skipped up to its newline, and the connection
// goes on. At most `max_clients` connections; an idle one is closed after
// `idle_timeout`.
//
// Thread: open()/start()/stop() on the control side (main thread); the
// server's own thread runs every handler.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "control/command_table.hpp"
#include "core/result.hpp"

namespace sg::control {

struct ServerOptions {
    std::string path;                    // the socket file
    std::string group;                   // "" = root and the daemon's user only
    size_t max_request = 64 * 1024;      // bytes per request line
    unsigned max_clients = 16;
    std::chrono::milliseconds idle_timeout{60'000};
};

struct ServerCounters {
    std::atomic<uint64_t> connections{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> errors{0};         // replies with ok: false
    std::atomic<uint64_t> refused{0};        // peers not permitted
    std::atomic<uint64_t> oversized{0};      // requests over max_request
};

// Whether a peer may use the socket (see above). `why` says why not.
bool peer_permitted(uid_t uid, gid_t gid, pid_t pid, bool have_group, gid_t group, std::string* why);

class ControlServer {
public:
    // Creates the socket: replaces a stale socket file, refuses one a live
    // daemon answers on, creates a missing parent directory (0755), sets
    // 0660 and the group. Errors name the path and the reason.
    static Result<std::unique_ptr<ControlServer>> open(ServerOptions options, const CommandTable& table);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    void start();
    // Answers what it has already read, then closes every connection and
    // removes the socket file. Idempotent.
    void stop();

    const std::string& path() const { return options_.path; }
    const ServerCounters& counters() const { return counters_; }

private:
    ControlServer(ServerOptions options, const CommandTable& table) : options_(std::move(options)), table_(table) {}
    void loop();

    ServerOptions options_;
    const CommandTable& table_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;                   // eventfd: stop() wakes poll()
    bool have_group_ = false;
    gid_t group_ = 0;
    std::thread thread_;
    std::atomic<bool> running_{false};
    bool stopped_ = false;
    ServerCounters counters_;
};

} // namespace sg::control
