#pragma once
// What the detectors that count over activity periods (bruteforce,
// port_scan, sweep and spam) share: this window's entries of a table are
// added to their keys' activity, which restarts after a pause longer than
// the key's idle time.

#include <optional>

#include "detect/engine.hpp"

namespace sg::detectors {

// idle_for(key): the pause (seconds) that restarts the key's activity, or
// nullopt to leave the key out (neither end protected).
template <class Table, class Key, class Stats, class IdleFn>
void accumulate(const Table& window_table, DetectionEngine::Activity<Key, Stats>& activity, Nanos now,
                IdleFn&& idle_for) {
    window_table.for_each([&](const auto& entry) {
        const std::optional<double> idle = idle_for(entry.key);
        if (!idle) return;
        activity.touch(entry.key, now, *idle).stats.merge(entry.value);
    });
}

} // namespace sg::detectors
