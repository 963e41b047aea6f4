#pragma once
// Lease: which aggregator acts. Several may run; the one holding the key
// "leader" of the bucket safeguard-<site>-state is active, the others wait.
//
// The value names the holder and carries its cursor (where the windows
// stream is processed up to, see aggregator.hpp). The holder renews it every
// second with a compare-and-set on the key's revision. A standby watches the
// revision with its own clock: unchanged for `lease`, the holder is gone, and
// the standby takes the key over with a compare-and-set on that revision, so
// that of several standbys exactly one wins. A holder whose renewal fails
// because the revision moved has been replaced and steps down at once; one
// that cannot reach the bus steps down before its last renewal is `lease`
// old (when a standby may take over), with a margin for one more request.
//
// No clocks are compared between machines: each side measures its own
// intervals.
//
// Thread: one (the aggregator's).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "core/time.hpp"
#include "fleet/bus.hpp"

namespace sg::fleet {

class Lease {
public:
    static constexpr const char* kKey = "leader";

    Lease(Kv& bucket, std::string holder, Nanos lease);

    // Standby: true once this process holds the lease. `taken` is then the
    // value it took over (the previous holder's cursor; null when first).
    Result<bool> try_acquire(nlohmann::json& taken);
    // Active: renews with `value` (holder and time are added). False when
    // the lease is lost: step down.
    bool renew(nlohmann::json value);
    // Active: give the lease up now (a clean stop), so a standby need not wait.
    void release();
    // Active: stop counting on the lease without writing (it could not be
    // renewed in time); a later try_acquire() competes like any standby.
    void abandon() {
        held_ = false;
        revision_ = 0;
    }

    bool held() const { return held_; }
    // Held, and the last renewal recent enough that no standby can have
    // taken over yet (with a margin for one more request): the holder acts
    // only while this is true.
    bool still_held() const;
    // How long one request to the bucket may take (Bus: the JetStream wait).
    static constexpr std::chrono::milliseconds kRequestTimeout{2000};
    // The holder as last seen ("" when none), for status.
    const std::string& current_holder() const { return seen_holder_; }
    const std::string& last_error() const { return last_error_; }

private:
    using Clock = std::chrono::steady_clock;
    Kv& bucket_;
    std::string holder_;
    std::chrono::nanoseconds lease_;
    bool held_ = false;
    uint64_t revision_ = 0;                 // ours when held, else the one watched
    Clock::time_point revision_since_{};    // when the watched revision was first seen
    Clock::time_point renewed_{};           // our last successful renewal
    std::string seen_holder_;
    std::string last_error_;
    nlohmann::json last_value_;             // our latest value (its cursor survives a release)
};

} // namespace sg::fleet
