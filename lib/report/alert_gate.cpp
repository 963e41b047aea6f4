#include "report/alert_gate.hpp"

#include <rte_hash_crc.h>

namespace sg {

size_t AlertGate::KeyHash::operator()(const Key& k) const {
    return rte_hash_crc(&k.what, sizeof k.what, k.rule * 2 + k.kind);
}

AlertGate::State* AlertGate::state(uint32_t rule, uint8_t kind, rules::Track track, const AlertRecord& a) {
    Key key{rule, kind, FlowKey{}};
    switch (track) {
    case rules::Track::by_src: key.what.a = a.src; break;
    case rules::Track::by_dst: key.what.a = a.dst; break;
    case rules::Track::by_both:
        key.what.a = a.src;
        key.what.b = a.dst;
        break;
    case rules::Track::by_flow: key.what = a.flow_key; break;
    case rules::Track::by_rule: break;
    }
    auto it = states_.find(key);
    if (it != states_.end()) return &it->second;
    if (states_.size() >= capacity_) {
        ++table_full_;
        return nullptr;
    }
    return &states_.emplace(key, State{}).first->second;
}

bool AlertGate::admit(uint32_t rule_index, const rules::Rule& rule, const AlertRecord& a) {
    // detection_filter: report only once the rule matched more than `count`
    // times within `seconds` (the window starts at the first match).
    if (rule.detection_filter) {
        const auto& df = *rule.detection_filter;
        State* s = state(rule_index, 1, df.track, a);
        if (s) {
            if (s->count == 0 || a.ts >= s->window_start + Nanos(df.seconds) * kNsPerSec) {
                s->window_start = a.ts;
                s->count = 0;
            }
            ++s->count;
            if (s->count <= df.count) return false;
        }
    }
    if (!rule.threshold) return true;
    const auto& th = *rule.threshold;
    State* s = state(rule_index, 0, th.track, a);
    if (!s) return true;
    if (s->count == 0 || a.ts >= s->window_start + Nanos(th.seconds) * kNsPerSec) {
        s->window_start = a.ts;
        s->count = 0;
    }
    ++s->count;
    switch (th.type) {
    case rules::Threshold::Type::limit: return s->count <= th.count;  // the first `count` per window
    case rules::Threshold::Type::both: return s->count == th.count;   // once per window, at `count`
    case rules::Threshold::Type::threshold:                           // every `count`-th match
        if (s->count >= th.count) {
            s->count = 0;
            s->window_start = a.ts;
            return true;
        }
        return false;
    }
    return true;
}

} // namespace sg
