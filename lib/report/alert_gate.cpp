#include "report/alert_gate.hpp"

#include <algorithm>

#include <rte_hash_crc.h>

namespace sg {

size_t AlertGate::KeyHash::operator()(const Key& k) const {
    static_assert(sizeof(Key) == 64, "the key is hashed as bytes: it must have no padding");
    return rte_hash_crc(&k, sizeof k, 0);
}

AlertGate::AlertGate(size_t capacity) : capacity_(capacity) {
    states_.reserve(capacity_);
}

void AlertGate::sweep(Nanos now) {
    if (swept_ && now < last_sweep_ + kNsPerSec) return;
    swept_ = true;
    last_sweep_ = now;
    for (auto it = states_.begin(); it != states_.end();) {
        if (it->second.expires < now) {
            unique_ports_ -= it->second.ports.size();
            it = states_.erase(it);
        } else {
            ++it;
        }
    }
}

AlertGate::State* AlertGate::state(const Key& key, Nanos now, bool& fresh) {
    auto it = states_.find(key);
    if (it != states_.end()) {
        fresh = false;
        return &it->second;
    }
    if (states_.size() >= capacity_) sweep(now);
    if (states_.size() >= capacity_) {
        ++counters_.table_full;
        return nullptr;
    }
    fresh = true;
    return &states_.emplace(key, State{}).first->second;
}

AlertGate::Step AlertGate::apply(const rules::AlertFilter& f, State& s, bool fresh, const AlertRecord& a,
                                 std::optional<rules::Action>& rate_action) {
    using Kind = rules::AlertFilter::Kind;
    const Nanos window = Nanos(f.seconds) * kNsPerSec;
    const bool in = !fresh && a.ts <= s.window_start + window;
    auto open = [&] {
        s.window_start = a.ts;
        s.count = 1;
    };
    auto bump = [&] {
        if (s.count < UINT32_MAX) ++s.count;
    };
    Step step = Step::pass;
    switch (f.kind) {
    case Kind::limit:
        if (in) {
            bump();
            step = s.count <= f.count ? Step::pass : Step::withhold;
        } else {
            open();
        }
        break;
    case Kind::threshold:
        if (in) bump();
        else open();
        if (s.count >= f.count) s.count = 0;  // alert; the window goes on
        else step = Step::withhold;
        break;
    case Kind::both:
        if (in) bump();
        else open();
        step = s.count == f.count ? Step::pass : Step::withhold;
        break;
    case Kind::detection_filter:
        if (f.unique_on == rules::DetectionFilter::UniqueOn::none) {
            if (in) bump();
            else open();
            step = s.count > f.count ? Step::pass : Step::withhold;
            break;
        }
        {
            // Only whether more than `count` distinct ports were seen
            // matters, so at most count + 1 are kept.
            if (!in) {
                unique_ports_ -= s.ports.size();
                s.ports.clear();
                s.window_start = a.ts;
            }
            const uint16_t port =
                f.unique_on == rules::DetectionFilter::UniqueOn::src_port ? a.src_port : a.dst_port;
            if (s.ports.size() <= f.count) {
                const auto at = std::lower_bound(s.ports.begin(), s.ports.end(), port);
                if (at == s.ports.end() || *at != port) {
                    if (unique_ports_ >= kMaxUniquePorts) {
                        ++counters_.unique_full;
                        return Step::unfiltered;
                    }
                    s.ports.insert(at, port);
                    ++unique_ports_;
                }
            }
            s.count = uint32_t(s.ports.size());
            step = s.ports.size() > f.count ? Step::pass : Step::withhold;
        }
        break;
    case Kind::rate_filter: {
        const Nanos timeout = Nanos(f.timeout) * kNsPerSec;
        if (s.active) {
            if (a.ts > s.active_since + timeout) s.active = false;  // over; this match is not counted
            else rate_action = f.new_action;
        } else if (in) {
            bump();
            if (s.count > f.count) {
                s.active = true;
                s.active_since = a.ts;
                rate_action = f.new_action;
            }
        } else {
            open();
        }
        break;
    }
    }
    s.expires = s.window_start + window;
    if (s.active) s.expires = std::max(s.expires, s.active_since + Nanos(f.timeout) * kNsPerSec);
    return step;
}

GateVerdict AlertGate::admit(const rules::Rule& rule, const rules::RuleFilters& rf, const AlertRecord& a) {
    GateVerdict v;
    if (rf.empty()) return v;

    if (rf.never_alert) {
        ++counters_.suppressed;
        v.outcome = GateVerdict::Outcome::suppressed;
        return v;
    }
    for (const rules::Suppress& s : rf.suppress) {
        bool hit = false;
        switch (s.track) {
        case rules::Suppress::Track::all: hit = true; break;
        case rules::Suppress::Track::by_src: hit = s.ips->contains(a.src); break;
        case rules::Suppress::Track::by_dst: hit = s.ips->contains(a.dst); break;
        case rules::Suppress::Track::by_either: hit = s.ips->contains(a.src) || s.ips->contains(a.dst); break;
        }
        if (hit) {
            ++counters_.suppressed;
            v.outcome = GateVerdict::Outcome::suppressed;
            return v;
        }
    }

    for (size_t i = 0; i < rf.filters.size(); ++i) {
        const rules::AlertFilter& f = rf.filters[i];
        Key key{rule.gid, rule.sid, uint32_t(i), uint32_t(f.track), FlowKey{}};
        switch (f.track) {
        case rules::Track::by_src: key.what.a = a.src; break;
        case rules::Track::by_dst: key.what.a = a.dst; break;
        case rules::Track::by_both:  // one pair for both directions
            key.what.a = a.src < a.dst ? a.src : a.dst;
            key.what.b = a.src < a.dst ? a.dst : a.src;
            break;
        case rules::Track::by_flow:
            if (!a.has_flow) continue;  // no flow to count in: unfiltered
            key.what = a.flow_key;
            break;
        case rules::Track::by_rule: break;
        }
        bool fresh = false;
        State* s = state(key, a.ts, fresh);
        if (!s) continue;
        if (apply(f, *s, fresh, a, v.rate_action) == Step::withhold) {
            ++counters_.withheld;
            v.outcome = GateVerdict::Outcome::withheld;
            v.rate_action.reset();
            return v;
        }
    }
    if (v.rate_action) {
        ++counters_.rate_filtered;
        if (*v.rate_action == rules::Action::pass) v.outcome = GateVerdict::Outcome::passed;
    }
    return v;
}

} // namespace sg
