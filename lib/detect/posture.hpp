#pragma once
// PostureTracker: what a security center shows about each deployment's
// exposure, kept from the merged window summaries (DetectionEngine's
// set_on_merged) for as long as the daemon runs, in bounded tables:
//
//   - inbound login attempts per (deployment, service): brute force against
//     ssh, rdp, smb, ... from external sources, whether or not a detector's
//     threshold was crossed (the services table of the summaries);
//   - management ports reachable from the internet: a TCP handshake to 22,
//     3389, 5985/5986, 445, 1433, 3306 or 5900 of a protected host completed
//     from an external source (at most kMaxExposed host/port pairs; the one
//     seen least recently makes room, counted in evictions());
//   - the busiest protected hosts and source/target pairs of the last
//     kRecentWindows windows (top hosts, top flows).
//
// Reflectors and open incidents come from the attributions and the incident
// desk, which already keep them.
//
// Thread: the reporter thread (fed by the engine, read through
// Reporter::call). Construction on the control side.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "attrib/ownership.hpp"
#include "core/ip_address.hpp"
#include "core/time.hpp"
#include "detect/sketch.hpp"
#include "detect/summary.hpp"

namespace sg {

// The ports a security center calls management ports.
bool is_management_port(uint16_t port);

class PostureTracker {
public:
    static constexpr size_t kMaxExposed = 1024;      // host/port pairs
    static constexpr size_t kMaxLogins = 4096;       // (deployment, port) keys
    static constexpr unsigned kRecentWindows = 60;   // top hosts and pairs: the last minute of 1 s windows
    static constexpr unsigned kTopPerWindow = 32;

    using Lookup = std::function<DeploymentId(const IpAddress&)>;
    explicit PostureTracker(Lookup deployment_of) : deployment_of_(std::move(deployment_of)) {}

    // One merged window [start, start + length).
    void add_window(const WindowSummary& w, Nanos start, Nanos length);

    struct Logins {
        uint64_t attempts = 0;      // new connections from external sources
        uint64_t established = 0;   // ... whose handshake completed
        uint64_t failed = 0;        // ended refused, reset or after little data
        uint64_t ended = 0;
        Hll<6> sources;             // distinct external sources
        Hll<6> targets;             // distinct hosts of the deployment
        Nanos first_seen = 0;
        Nanos last_seen = 0;
    };
    // Inbound, by (deployment, service port).
    const std::map<std::pair<DeploymentId, uint16_t>, Logins>& inbound_logins() const { return logins_; }

    struct Exposure {
        IpAddress host;
        DeploymentId deployment = kNoDeployment;
        uint16_t port = 0;
        uint64_t handshakes = 0;    // completed from external sources
        Hll<6> sources;
        IpAddress last_source;
        Nanos first_seen = 0;
        Nanos last_seen = 0;
    };
    // Every exposed management port, by host and port.
    std::vector<const Exposure*> exposed() const;

    struct HostRow {
        IpAddress ip;
        DeploymentId deployment = kNoDeployment;
        uint64_t packets_in = 0, bytes_in = 0, packets_out = 0, bytes_out = 0;
        uint64_t total_bytes() const { return bytes_in + bytes_out; }
    };
    // The protected hosts with the most bytes over the recent windows.
    std::vector<HostRow> top_hosts(size_t n) const;

    struct PairRow {
        IpAddress source;
        IpAddress target;
        uint64_t packets = 0;
    };
    // Source -> target pairs with the most packets over the recent windows.
    std::vector<PairRow> top_pairs(size_t n) const;

    uint64_t windows() const { return windows_; }
    uint64_t evictions() const { return evictions_; }
    Nanos recent_span() const;     // packet time the recent windows cover

private:
    Lookup deployment_of_;
    std::map<std::pair<DeploymentId, uint16_t>, Logins> logins_;
    std::map<std::pair<IpAddress, uint16_t>, Exposure> exposed_;
    struct Recent {
        Nanos start = 0;
        Nanos length = 0;
        std::vector<HostRow> hosts;   // at most kTopPerWindow
        std::vector<PairRow> pairs;   // at most kTopPerWindow
    };
    std::array<Recent, kRecentWindows> recent_{};
    unsigned next_recent_ = 0;
    uint64_t windows_ = 0;
    uint64_t evictions_ = 0;
    uint64_t logins_dropped_ = 0;
};

} // namespace sg
