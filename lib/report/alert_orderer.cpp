#include "report/alert_orderer.hpp"

#include <algorithm>
#include <compare>
#include <cstring>

namespace sg {

AlertOrderer::AlertOrderer(size_t capacity) : capacity_(capacity ? capacity : 1) {
    heap_.reserve(capacity_ + 1);
    latest_.assign(1, 0);
}

void AlertOrderer::set_workers(unsigned n) {
    latest_.assign(n ? n : 1, 0);
}

void AlertOrderer::observe(unsigned worker, Nanos t) {
    if (worker >= latest_.size()) latest_.resize(worker + 1, 0);
    latest_[worker] = std::max(latest_[worker], t);
}

Nanos AlertOrderer::watermark() const {
    return *std::min_element(latest_.begin(), latest_.end());
}

bool AlertOrderer::after(const Held& x, const Held& y) {
    if (x.at != y.at) return x.at > y.at;
    const AlertRecord& a = x.alert;
    const AlertRecord& b = y.alert;
    // The same time: by flow (then by addresses for alerts without one), so
    // the order does not depend on which worker a flow went to.
    if (a.has_flow != b.has_flow) return b.has_flow;
    if (a.has_flow) {
        const int c = std::memcmp(&a.flow_key, &b.flow_key, sizeof a.flow_key);
        if (c != 0) return c > 0;
    } else {
        if (const auto c = a.src <=> b.src; c != 0) return c > 0;
        if (const auto c = a.dst <=> b.dst; c != 0) return c > 0;
    }
    if (x.worker != y.worker) return x.worker > y.worker;
    return x.seq > y.seq;
}

void AlertOrderer::pop(AlertRecord& out) {
    std::pop_heap(heap_.begin(), heap_.end(), after);
    out = heap_.back().alert;
    heap_.pop_back();
}

bool AlertOrderer::push(unsigned worker, const AlertRecord& a, AlertRecord& released) {
    observe(worker, a.ts);
    heap_.push_back(Held{a, latest_[worker], seq_++, worker});
    std::push_heap(heap_.begin(), heap_.end(), after);
    if (heap_.size() <= capacity_) return false;
    ++overflow_;
    pop(released);
    return true;
}

bool AlertOrderer::next(AlertRecord& out) {
    if (heap_.empty() || heap_.front().at >= watermark()) return false;
    pop(out);
    return true;
}

bool AlertOrderer::next_any(AlertRecord& out) {
    if (heap_.empty()) return false;
    pop(out);
    return true;
}

} // namespace sg
