#pragma once
// Faults injected on purpose, for the fault tests (test/fault/run_faults.py).
// They never come from the configuration: a deployment cannot turn one on by
// mistake. They are read once at start from the environment variable
// SAFEGUARD_FAULTS, a comma-separated list of NAME=VALUE:
//
//   reporter_stall=DURATION  the reporter thread sleeps for DURATION ("8s",
//                            "500ms") before it first reads its rings, as a
//                            reporter stuck on a slow disk would; the workers
//                            go on and count what the full rings drop
//   mempool_exhaust=N        once the ports are started, every free mbuf is
//                            taken and held until the ports have counted N
//                            packets lost for want of an mbuf (rx_nombuf)
//
// A process started with faults logs each one. An unknown name or a bad
// value is an error at start.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sg {

inline constexpr const char* kFaultsVariable = "SAFEGUARD_FAULTS";

struct InjectedFaults {
    std::chrono::milliseconds reporter_stall{0};
    uint64_t mempool_exhaust = 0;

    bool any() const { return reporter_stall.count() > 0 || mempool_exhaust > 0; }
    // "reporter_stall=8000ms, mempool_exhaust=1000"
    std::string describe() const;
};

Result<InjectedFaults> parse_faults(std::string_view text);

// SAFEGUARD_FAULTS parsed; no faults when it is unset or empty. Errors name
// the variable.
Result<InjectedFaults> faults_from_environment();

} // namespace sg
