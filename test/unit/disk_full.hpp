#pragma once
// A full disk for this process, without root or a mount: RLIMIT_FSIZE 0 makes
// every write to a regular file fail (EFBIG, "File too large"; SIGXFSZ is
// ignored meanwhile), as ENOSPC would. free() lifts it; so does the destructor.
// Writes to pipes and terminals (the test's own output) are not limited.

#include <signal.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>

namespace sg::test {

class DiskFull {
public:
    DiskFull() {
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        REQUIRE(::sigaction(SIGXFSZ, &ignore, &old_action_) == 0);
        fill();
    }
    ~DiskFull() {
        free();
        ::sigaction(SIGXFSZ, &old_action_, nullptr);
    }
    DiskFull(const DiskFull&) = delete;
    DiskFull& operator=(const DiskFull&) = delete;

    void fill() {
        rlimit full = saved_;
        full.rlim_cur = 0;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &full) == 0);
    }
    void free() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

private:
    rlimit saved_{};
    struct sigaction old_action_ {};
};

} // namespace sg::test
