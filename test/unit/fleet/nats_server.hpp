#pragma once
// A real nats-server for the fleet's tests: JetStream on 127.0.0.1, a free
// port, its store and log in a fresh temporary directory. It can be killed
// (SIGKILL, as a crash or a lost node) and started again on the same port
// with the same store; the destructor kills it.
//
// Tests that need it start with SG_REQUIRE_NATS(): without
// /usr/sbin/nats-server they pass with a warning saying so (Catch2 2.x has
// no SKIP).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "../temp_dir.hpp"
#include "config/config.hpp"

namespace sg::test {

inline constexpr const char* kNatsServer = "/usr/sbin/nats-server";

#define SG_REQUIRE_NATS()                                                                                  \
    do {                                                                                                   \
        if (!::sg::test::NatsServer::available()) {                                                        \
            WARN("skipped: " << ::sg::test::kNatsServer << " is not installed (Debian: apt install nats-server)"); \
            return;                                                                                        \
        }                                                                                                  \
    } while (0)

// Polls `done` every 10 ms until it is true or `limit` has passed; true
// when it became true. For waiting on other threads without bare sleeps.
template <class Done>
bool eventually(Done&& done, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

class NatsServer {
public:
    static bool available() { return access(kNatsServer, X_OK) == 0; }

    // Chooses the port; start() starts the server. Until then the URL names
    // a port nobody listens on: a bus that is away.
    NatsServer() : port_(free_port()) {}
    ~NatsServer() { kill(); }
    NatsServer(const NatsServer&) = delete;
    NatsServer& operator=(const NatsServer&) = delete;

    uint16_t port() const { return port_; }
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    std::filesystem::path log_file() const { return dir_.path / "nats.log"; }
    bool running() const { return pid_ > 0; }

    // Starts the server and waits (at most 10 s) until it greets a client.
    void start() {
        REQUIRE_FALSE(running());
        const std::string port = std::to_string(port_), store = (dir_.path / "store").string(),
                          log = log_file().string();
        std::vector<std::string> args = {kNatsServer, "-a", "127.0.0.1", "-p", port, "-js", "-sd", store,
                                         "-l", log, "--server_name", "sg-test"};
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        REQUIRE(null_fd >= 0);
        const pid_t parent = getpid();
        const pid_t pid = fork();
        if (pid == 0) {
            // Only async-signal-safe calls between fork and exec.
            prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
            if (getppid() != parent) _exit(127);
            dup2(null_fd, 0);
            dup2(null_fd, 1);
            dup2(null_fd, 2);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(null_fd);
        REQUIRE(pid > 0);
        pid_ = pid;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!greets()) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                FAIL("nats-server exited at start; its log: " << read_file(log_file()));
            }
            if (std::chrono::steady_clock::now() > deadline) FAIL("nats-server did not accept connections in 10 s");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    // SIGKILL: no goodbye to the clients, what it stored stays on disk.
    void kill() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

    // Killed, then started again on the same port with the same store.
    void restart() {
        kill();
        start();
    }

private:
    static uint16_t free_port() {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
        close(fd);
        REQUIRE(ok);
        return ntohs(a.sin_port);
    }

    // A NATS server's first words to a client are "INFO {...}".
    bool greets() const {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port_);
        timeval tv{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[5] = {};
        const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                        recv(fd, buf, 4, MSG_WAITALL) == 4 && std::string(buf) == "INFO";
        close(fd);
        return ok;
    }

    TempDir dir_;
    uint16_t port_;
    pid_t pid_ = -1;
};

// The fleet section of a member of a one-node fleet on `server`.
inline FleetConfig fleet_config(const NatsServer& server, std::string name = "edge-1") {
    FleetConfig f;
    f.enabled = true;
    f.servers = {server.url()};
    f.site = "test";
    f.name = std::move(name);
    f.replicas = 1;
    f.lease = kNsPerSec;
    return f;
}

} // namespace sg::test
