#pragma once
// AlertGate: a rule's threshold and detection_filter, applied where alerts
// from every worker meet (the reporter), so a source spread over workers is
// counted once. State is keyed by (rule, tracked address or flow) and
// bounded: when the table is full new keys pass ungated and are counted.
//
// Thread: the reporter only.

#include <cstdint>
#include <unordered_map>

#include "core/time.hpp"
#include "match/rule.hpp"
#include "queue/record.hpp"

namespace sg {

class AlertGate {
public:
    explicit AlertGate(size_t capacity = 1u << 16) : capacity_(capacity) {}

    // True when the alert is to be reported.
    bool admit(uint32_t rule_index, const rules::Rule& rule, const AlertRecord& a);

    uint64_t table_full() const { return table_full_; }

private:
    struct Key {
        uint32_t rule;
        uint8_t kind;       // 0 threshold, 1 detection_filter
        FlowKey what;       // tracked address(es) or flow, in a FlowKey's slots
        bool operator==(const Key& o) const { return rule == o.rule && kind == o.kind && what == o.what; }
    };
    struct KeyHash {
        size_t operator()(const Key& k) const;
    };
    struct State {
        Nanos window_start = 0;
        uint32_t count = 0;
    };
    State* state(uint32_t rule, uint8_t kind, rules::Track track, const AlertRecord& a);

    std::unordered_map<Key, State, KeyHash> states_;
    size_t capacity_;
    uint64_t table_full_ = 0;
};

} // namespace sg
