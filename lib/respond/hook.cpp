#include "respond/hook.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace sg::respond {

namespace {

Nanos steady_now() {
    return Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now().time_since_epoch())
                     .count());
}

void keep_tail(std::string& out, const char* data, size_t n) {
    out.append(data, n);
    if (out.size() > kHookOutputKept) out.erase(0, out.size() - kHookOutputKept);
}

} // namespace

std::string HookResult::summary() const {
    const double secs = double(elapsed) / double(kNsPerSec);
    if (!started) return "not started: " + error;
    if (timed_out) return fmt::format("killed after the timeout ({:.3f} s)", secs);
    if (signal) return fmt::format("ended by signal {} after {:.3f} s", signal, secs);
    return fmt::format("exit {} in {:.3f} s", exit_code, secs);
}

HookResult run_hook(const std::vector<std::string>& argv, const std::string& input, Nanos timeout) {
    HookResult r;
    const Nanos start = steady_now();
    int in_pipe[2] = {-1, -1};
    int out_pipe[2] = {-1, -1};
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
        r.error = fmt::format("pipe: {}", std::strerror(errno));
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]})
            if (fd >= 0) ::close(fd);
        return r;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    if (rc != 0) {
        r.error = fmt::format("{}: {}", argv.empty() ? "" : argv[0], std::strerror(rc));
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        return r;
    }
    r.started = true;

    // Feed stdin and read the output together, so that neither pipe can
    // fill up and block the hook, until it closes its output or time is up.
    ::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    // A hook that exits or closes its stdin before reading all of it makes
    // the write fail with EPIPE and raise SIGPIPE, whose default action ends
    // the whole daemon: keep it blocked on this thread while writing, and
    // take the one a broken pipe raised before unblocking it.
    sigset_t sigpipe_only, saved_mask;
    sigemptyset(&sigpipe_only);
    sigaddset(&sigpipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &sigpipe_only, &saved_mask);
    bool broken_pipe = false;
    size_t written = 0;
    int in_fd = in_pipe[1];
    if (input.empty()) {
        ::close(in_fd);
        in_fd = -1;
    }
    int out_fd = out_pipe[0];
    const Nanos deadline = start + timeout;
    char buf[4096];
    while (out_fd >= 0) {
        const Nanos now = steady_now();
        if (now >= deadline) {
            r.timed_out = true;
            break;
        }
        pollfd fds[2];
        nfds_t n = 0;
        fds[n++] = {out_fd, POLLIN, 0};
        if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
        const int wait_ms = int(std::min<Nanos>((deadline - now) / kNsPerMs + 1, 1000));
        if (::poll(fds, n, wait_ms) < 0 && errno != EINTR) break;
        if (fds[0].revents) {
            const ssize_t got = ::read(out_fd, buf, sizeof buf);
            if (got > 0) {
                keep_tail(r.output, buf, size_t(got));
            } else if (got == 0 || errno != EINTR) {
                ::close(out_fd);
                out_fd = -1;
            }
        }
        if (in_fd >= 0 && n > 1 && fds[1].revents) {
            const ssize_t put = ::write(in_fd, input.data() + written, input.size() - written);
            if (put > 0) written += size_t(put);
            if (put < 0 && errno == EPIPE) broken_pipe = true;
            if ((put < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
                ::close(in_fd);  // all given (or the hook stopped reading: EPIPE)
                in_fd = -1;
            }
        }
    }
    if (in_fd >= 0) ::close(in_fd);
    if (out_fd >= 0) ::close(out_fd);
    if (broken_pipe) {
        const timespec no_wait{0, 0};
        ::sigtimedwait(&sigpipe_only, nullptr, &no_wait);
    }
    ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
    // The output closed, or time is up: wait for the exit within what is left.
    if (r.timed_out) ::kill(-pid, SIGKILL);
    int status = 0;
    for (;;) {
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) break;
        if (!r.timed_out && steady_now() >= deadline) {
            r.timed_out = true;
            ::kill(-pid, SIGKILL);
        }
        ::usleep(1000);
    }
    if (r.timed_out) ::kill(-pid, SIGKILL);  // what the hook started may linger in its group
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.elapsed = steady_now() - start;
    return r;
}

} // namespace sg::respond
