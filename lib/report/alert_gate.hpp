#pragma once
// AlertGate: what stands between a rule match and its alert, applied where
// the alerts of every worker meet (the reporter), so a source spread over
// workers is counted once: suppress, threshold (limit / threshold / both),
// detection_filter and rate_filter, from the rules' own keywords and from
// threshold.config (match/threshold_config.hpp says which applies to which
// rule). The reporter feeds alerts in packet-time order (AlertOrderer), so
// the outcome is the same for any number of workers.
//
// Per rule, in this order (Suricata's PacketAlertHandle):
//   1. suppress: an address in the entry's set (by_src: the source, by_dst:
//      the destination, by_either: one of them) withholds the alert, and no
//      threshold counts it. A suppress without track withholds every alert.
//   2. the filters in order; the first that withholds the alert stops the
//      rest from counting it. Each counts per tracked key: the source
//      (by_src), the destination (by_dst), the address pair in either
//      direction (by_both), the rule (by_rule) or the flow (by_flow).
//      A window opens at a match and lasts `seconds` of packet time, its end
//      included; a match after it opens a new one and counts 1.
//        limit N            the first N matches of each window alert
//        threshold N        every Nth match of a window alerts (the count
//                           restarts at 0, the window does not)
//        both N             the Nth match of a window alerts, once
//        detection_filter N every match after the Nth of a window alerts;
//                           with unique_on src_port / dst_port: every match
//                           once more than N distinct ports were seen
//        rate_filter N      never withholds; once more than N matches fell in
//                           one window, the alert's action becomes new_action
//                           for `timeout` seconds (the match that finds the
//                           timeout over is not counted, as in Suricata)
//      A rate_filter with new_action pass withholds the alert (a pass
//      action reports nothing). The packet's own verdict was taken by the
//      worker before the alert got here: a rate_filter changes what the
//      alert reports (eve's alert.action), not what happened to the packet.
//
// State is keyed by (rule, filter, tracked key) and bounded: `capacity`
// keys. When the table is full, keys whose window (and rate_filter timeout)
// is over are dropped, at most once per second of packet time; if it is
// still full, an alert with a new key passes unfiltered and is counted
// (table_full). Distinct ports for unique_on are bounded the same way.
//
// Thread: the reporter only.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/time.hpp"
#include "match/rule.hpp"
#include "match/threshold_config.hpp"
#include "queue/record.hpp"

namespace sg {

struct GateVerdict {
    enum class Outcome : uint8_t {
        report,      // report the alert
        suppressed,  // a suppress entry matched
        withheld,    // a threshold or detection_filter held it back
        passed,      // a rate_filter turned the action into pass
    };
    Outcome outcome = Outcome::report;
    std::optional<rules::Action> rate_action;  // set while a rate_filter changes the action

    bool reported() const { return outcome == Outcome::report; }
};

struct AlertGateCounters {
    uint64_t suppressed = 0;    // alerts withheld by suppress entries
    uint64_t withheld = 0;      // alerts withheld by threshold / detection_filter
    uint64_t rate_filtered = 0; // alerts a rate_filter gave its new_action (pass included)
    uint64_t table_full = 0;    // alerts that passed unfiltered because the key table was full
    uint64_t unique_full = 0;   // ... because the distinct-port budget was spent
};

class AlertGate {
public:
    static constexpr size_t kMaxUniquePorts = size_t(1) << 20;  // distinct ports kept, all keys together

    explicit AlertGate(size_t capacity = size_t(1) << 16);

    // Reporter thread: the verdict on one alert of `rule`, whose filters
    // (rules::resolve_rule_filters, made on the control side) are
    // `filters`; the alert is counted where it applies.
    GateVerdict admit(const rules::Rule& rule, const rules::RuleFilters& filters, const AlertRecord& a);

    const AlertGateCounters& counters() const { return counters_; }
    size_t tracked_keys() const { return states_.size(); }

private:
    struct Key {
        uint32_t gid;
        uint32_t sid;
        uint32_t filter;  // index in the rule's filter list
        uint32_t track;   // rules::Track
        FlowKey what;     // tracked address(es) or flow, in a FlowKey's slots
        bool operator==(const Key& o) const {
            return gid == o.gid && sid == o.sid && filter == o.filter && track == o.track && what == o.what;
        }
    };
    struct KeyHash {
        size_t operator()(const Key& k) const;
    };
    struct State {
        Nanos window_start = 0;
        Nanos active_since = 0;  // rate_filter: when the new action took effect
        Nanos expires = 0;       // after this, the state is the same as none
        uint32_t count = 0;
        bool active = false;     // rate_filter: the new action is in effect
        std::vector<uint16_t> ports;  // unique_on: distinct ports of the window, sorted
    };
    enum class Step : uint8_t { pass, withhold, unfiltered };

    // The state for a key, created fresh (`fresh` set) when new; null when
    // the table is full (counted).
    State* state(const Key& key, Nanos now, bool& fresh);
    void sweep(Nanos now);
    Step apply(const rules::AlertFilter& f, State& s, bool fresh, const AlertRecord& a,
               std::optional<rules::Action>& rate_action);

    std::unordered_map<Key, State, KeyHash> states_;
    size_t capacity_;
    size_t unique_ports_ = 0;
    Nanos last_sweep_ = 0;
    bool swept_ = false;
    AlertGateCounters counters_;
};

} // namespace sg
