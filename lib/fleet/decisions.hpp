#pragma once
// Decisions: the aggregator's deactivations, for every appliance to enforce.
//
// They live in the key-value bucket safeguard-<site>-decisions: one key per
// deactivated deployment (its name), whose value says which incident did it
// and when; reactivation deletes the key. A key-value bucket rather than a
// stream of events, so that an appliance that starts (or comes back after
// an outage) reads the current blocklist first and then follows changes.
//
//   publish_decisions()  aggregator: makes the bucket say exactly `deactivated`
//   DecisionWatcher      appliance: its own thread watches the bucket and
//                        hands the whole set to `apply` at each change
//
// While the bus is away an appliance keeps enforcing the last set it heard.
//
// Thread: publish_decisions() on the aggregator's thread; DecisionWatcher
// has its own, and `apply` runs there.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "fleet/bus.hpp"

namespace sg::fleet {

// `why`: per deployment, what the value records (the incident, the time).
Result<> publish_decisions(Kv& bucket, const std::map<std::string, nlohmann::json>& deactivated);

class DecisionWatcher {
public:
    // Returns false when the set could not be applied now (it is offered again).
    using Apply = std::function<bool(const std::set<std::string>& deactivated)>;
    DecisionWatcher(Bus& bus, Apply apply);
    ~DecisionWatcher();
    void stop();
    nlohmann::json status() const;

private:
    void loop();

    Bus& bus_;
    Apply apply_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::set<std::string> deactivated_;   // as the bucket says
    bool applied_ = false;                // the workers enforce deactivated_
    uint64_t changes_ = 0;
    std::string last_error_;
    std::thread thread_;
};

} // namespace sg::fleet
