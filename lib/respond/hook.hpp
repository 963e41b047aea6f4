#pragma once
// The enforcement hook: the operator's program that deactivates or
// reactivates a deployment outside Safeguard (a cloud API call, a firewall
// rule). It gets the incident as JSON on stdin and an argument saying what
// to do; it must finish within a timeout, or it is killed.
//
// Thread: any; run_hook() blocks the calling thread (the hook thread) for
// at most the timeout plus the time to reap the killed process.

#include <string>
#include <vector>

#include "core/time.hpp"

namespace sg::respond {

struct HookResult {
    int exit_code = -1;         // the program's exit status; -1 when it did not exit normally
    int signal = 0;             // the signal that ended it (a timeout kill: SIGKILL)
    bool timed_out = false;
    bool started = false;       // false: it could not be started (error says why)
    std::string output;         // stdout and stderr together, the last kOutputKept bytes
    std::string error;
    Nanos elapsed = 0;
    bool ok() const { return started && !timed_out && signal == 0 && exit_code == 0; }
    std::string summary() const;  // "exit 0 in 0.012 s", "killed after the 30 s timeout", ...
};

inline constexpr size_t kHookOutputKept = 4096;

// Runs `argv` (argv[0] an absolute path) with `input` on its stdin, in its
// own process group (a timeout kills the whole group).
HookResult run_hook(const std::vector<std::string>& argv, const std::string& input, Nanos timeout);

} // namespace sg::respond
