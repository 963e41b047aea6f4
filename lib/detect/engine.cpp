#include "detect/engine.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "detect/detectors/registry.hpp"

namespace sg {

namespace {

// Capacity of each activity table: sources (or source/target pairs) whose
// behaviour is followed across windows. The heavy hitters of every window
// enter; the least recently active leave first.
constexpr size_t kActivityCapacity = 16384;
// Protected hosts with a baseline.
constexpr size_t kBaselineCapacity = 65536;
// Attributions kept for the report (the oldest closed ones leave first).
constexpr size_t kMaxAttributions = 10000;
constexpr size_t kTopSources = 10;
// (source, target) pairs whose reconnaissance sids are kept.
constexpr size_t kReconPairs = 4096;

std::string end_key(const AttributionEnd& e) { return e.ip ? e.ip->to_string() : "*"; }

std::string finding_key(const Finding& f, Direction d) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}", f.type, direction_name(d), end_key(f.source), end_key(f.target),
                       f.port, f.service, f.group);
}

void merge_contributors(std::vector<Contributor>& into, const std::vector<Contributor>& more) {
    for (const Contributor& c : more) {
        auto it = std::find_if(into.begin(), into.end(), [&](const Contributor& x) { return x.ip == c.ip; });
        if (it == into.end()) into.push_back(c);
        else it->packets += c.packets;
    }
    std::sort(into.begin(), into.end(), [](const Contributor& x, const Contributor& y) {
        return x.packets != y.packets ? x.packets > y.packets : x.ip < y.ip;
    });
    if (into.size() > kTopSources) into.resize(kTopSources);
}

// Evidence of an attribution that goes on: counts of this window add up
// (keys named in `sums`), everything else is the newest value, except
// peaks, which keep the largest.
void merge_evidence(nlohmann::json& into, const nlohmann::json& window) {
    for (auto it = window.begin(); it != window.end(); ++it) {
        const std::string& k = it.key();
        if (!into.contains(k) || !it->is_number() || !into[k].is_number()) {
            into[k] = *it;
        } else if (k.starts_with("peak_")) {
            if (it->get<double>() > into[k].get<double>()) into[k] = *it;
        } else if (k == "packets" || k == "bytes" || k == "alerts" || k == "requests" || k == "responses") {
            into[k] = into[k].get<uint64_t>() + it->get<uint64_t>();
        } else {
            into[k] = *it;
        }
    }
}

} // namespace

template <class Key, class Stats>
typename DetectionEngine::Activity<Key, Stats>::Entry&
DetectionEngine::Activity<Key, Stats>::touch(const Key& key, Nanos now, double idle_s) {
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        Entry& e = it->second;
        if (now > e.last && double(now - e.last) > idle_s * double(kNsPerSec)) {
            e.stats.clear();
            e.since = now;
        }
        e.last = now;
        return e;
    }
    if (entries_.size() >= capacity_) {
        // Make room for an eighth at once: the least recently active go.
        std::vector<std::pair<Nanos, Key>> by_age;
        by_age.reserve(entries_.size());
        for (const auto& [k, e] : entries_) by_age.emplace_back(e.last, k);
        const size_t drop = std::max<size_t>(1, capacity_ / 8);
        std::nth_element(by_age.begin(), by_age.begin() + long(drop), by_age.end(),
                         [](const auto& x, const auto& y) {
                             if (x.first != y.first) return x.first < y.first;
                             return std::memcmp(&x.second, &y.second, sizeof(Key)) < 0;
                         });
        for (size_t i = 0; i < drop; ++i) entries_.erase(by_age[i].second);
        evictions_ += drop;
    }
    Entry& e = entries_[key];
    e.key = key;
    e.stats.clear();
    e.since = now;
    e.last = now;
    return e;
}

template class DetectionEngine::Activity<ServiceKey, ServiceStats>;
template class DetectionEngine::Activity<PairKey, ScanStats>;
template class DetectionEngine::Activity<SweepKey, SweepStats>;

DetectionEngine::DetectionEngine(DetectionSetup setup)
    : setup_(std::move(setup)), worker_index_(setup_.workers, 0), worker_done_(setup_.workers, false),
      logins_(std::make_unique<Activity<ServiceKey, ServiceStats>>(kActivityCapacity)),
      scans_(std::make_unique<Activity<PairKey, ScanStats>>(kActivityCapacity)),
      sweeps_(std::make_unique<Activity<SweepKey, SweepStats>>(kActivityCapacity)) {
    worker_sent_.assign(setup_.workers, false);
}

DetectionEngine::~DetectionEngine() = default;

const Thresholds& DetectionEngine::thresholds(DeploymentId dep) const {
    if (dep < setup_.per_deployment.size()) return setup_.per_deployment[dep];
    return setup_.thresholds;
}

const Thresholds& DetectionEngine::thresholds(DeploymentId source, DeploymentId target) const {
    return thresholds(target != kNoDeployment ? target : source);
}

WindowSummary* DetectionEngine::merge_block(uint64_t index) {
    auto it = pending_.find(index);
    if (it != pending_.end()) return it->second;
    WindowSummary* b;
    if (!free_blocks_.empty()) {
        b = free_blocks_.back();
        free_blocks_.pop_back();
    } else {
        blocks_.push_back(std::make_unique<WindowSummary>());
        b = blocks_.back().get();
    }
    b->clear();
    b->workers = 0;
    b->index = index;
    pending_[index] = b;
    return b;
}

void DetectionEngine::add_window(unsigned worker, const WindowSummary& s) {
    ++counters_.summaries;
    if (any_analysed_ && s.index < analysed_up_to_) {
        // Live only: a worker that fell behind by more than the others'
        // lead. Its counts are lost to detection (counted here).
        ++counters_.late_summaries;
    } else {
        merge_block(s.index)->merge(s);
    }
    if (worker < worker_index_.size()) {
        worker_index_[worker] = std::max(worker_index_[worker], s.index);
        worker_sent_[worker] = true;
        // A fleet appliance given up for silent (worker_done) that speaks again.
        worker_done_[worker] = false;
    }
    complete_ready();
}

void DetectionEngine::worker_done(unsigned worker) {
    if (worker < worker_done_.size()) worker_done_[worker] = true;
    complete_ready();
}

void DetectionEngine::complete_ready() {
    // A worker sends window k when it has moved past k: windows up to the
    // smallest index every running worker has sent are complete.
    uint64_t limit = UINT64_MAX;
    for (size_t w = 0; w < worker_index_.size(); ++w) {
        if (worker_done_[w]) continue;
        if (!worker_sent_[w]) return;
        limit = std::min(limit, worker_index_[w]);
    }
    while (!pending_.empty() && pending_.begin()->first <= limit) {
        WindowSummary* w = pending_.begin()->second;
        pending_.erase(pending_.begin());
        analyse(*w);
        free_blocks_.push_back(w);
    }
}

void DetectionEngine::analyse(WindowSummary& w) {
    ++counters_.windows;
    counters_.hosts_overflow += w.hosts.overflow();
    counters_.transit_packets += w.transit_packets;
    analysed_up_to_ = w.index + 1;
    any_analysed_ = true;
    now_ = w.index * setup_.window;
    if (on_merged_) on_merged_(w, now_, setup_.window);
    DetectorContext ctx{*this, w, now_, double(setup_.window) / double(kNsPerSec)};
    for (const DetectorInfo& d : detector_registry()) d.run(ctx);
    apply_findings(w.first_packet ? std::max(w.first_packet, now_) : now_);
    update_baselines(w, now_);
    close_quiet(now_);
    if (on_window_) {
        const Nanos end = now_ + setup_.window;
        on_window_(w.index, end, w.next_index > w.index ? w.next_index * setup_.window : end, touched_);
    }
    touched_.clear();
    counters_.activity_evictions = logins_->evictions() + scans_->evictions() + sweeps_->evictions();
}

void DetectionEngine::report(Finding f) { findings_.push_back(std::move(f)); }

void DetectionEngine::apply_findings(Nanos at) {
    // The detectors' order within a window depends on how tables were
    // filled; sorting makes ids and eve lines the same for any worker count.
    std::vector<std::pair<std::string, size_t>> order;
    order.reserve(findings_.size());
    std::vector<Direction> dirs;
    dirs.reserve(findings_.size());
    for (size_t i = 0; i < findings_.size(); ++i) {
        const Finding& f = findings_[i];
        dirs.push_back(classify(f.source.deployment, f.target.deployment));
        order.emplace_back(finding_key(f, dirs.back()), i);
    }
    std::sort(order.begin(), order.end());
    // A flood from one source to one target also sprays ports: that is the
    // flood, not a port scan, and the scan finding of the pair is dropped.
    auto flooded = [&](const Finding& scan) {
        return std::any_of(findings_.begin(), findings_.end(), [&](const Finding& f) {
            return std::string_view(f.type).ends_with("_flood") && f.source.ip && f.source.ip == scan.source.ip &&
                   f.target.ip == scan.target.ip;
        });
    };
    for (const auto& [key, i] : order) {
        Finding& f = findings_[i];
        const Direction dir = dirs[i];
        if (dir == Direction::transit) continue;
        if (std::string_view(f.type) == "port_scan" && flooded(f)) continue;
        auto it = open_.find(key);
        if (it != open_.end()) {
            Attribution& a = *it->second.a;
            a.last_seen = std::max(a.last_seen, at);
            merge_evidence(a.evidence, f.evidence);
            merge_contributors(a.top_sources, f.top_sources);
            if (f.sid && std::find(a.sids.begin(), a.sids.end(), f.sid) == a.sids.end()) a.sids.push_back(f.sid);
            if (f.sources) {
                a.sources.merge(*f.sources);
                a.evidence["distinct_sources"] = uint64_t(a.sources.estimate() + 0.5);
            }
            ++a.updates;
            touch(&a);
            continue;
        }
        if (all_.size() >= kMaxAttributions) {
            ++counters_.attributions;  // counted, not kept: the report says how many
            continue;
        }
        auto a = std::make_unique<Attribution>();
        a->id = ++counters_.attributions;
        a->type = f.type;
        a->direction = dir;
        a->service = f.service;
        a->port = f.port;
        a->source = f.source;
        a->target = f.target;
        a->first_seen = at;
        a->last_seen = at;
        a->active_since = f.active_since ? std::min(f.active_since, at) : at;
        a->detector = f.detector;
        a->threshold = f.threshold;
        a->evidence = std::move(f.evidence);
        a->top_sources = std::move(f.top_sources);
        if (a->top_sources.size() > kTopSources) a->top_sources.resize(kTopSources);
        if (f.sid) a->sids.push_back(f.sid);
        if (f.sources) a->sources = *f.sources;
        a->updates = 1;
        open_[key] = Open{a.get(), f.idle};
        if (on_open_) on_open_(*a);
        touch(a.get());
        all_.push_back(std::move(a));
    }
    findings_.clear();
}

void DetectionEngine::close_quiet(Nanos now) {
    for (auto it = open_.begin(); it != open_.end();) {
        const Attribution& a = *it->second.a;
        if (now > a.last_seen && double(now - a.last_seen) > it->second.idle * double(kNsPerSec))
            it = open_.erase(it);
        else
            ++it;
    }
}

void DetectionEngine::update_baselines(const WindowSummary& w, Nanos start) {
    const double seconds = double(setup_.window) / double(kNsPerSec);
    w.hosts.for_each([&](const HostStats& h) {
        auto it = baselines_.find(h.ip);
        if (it == baselines_.end()) {
            if (baselines_.size() >= kBaselineCapacity) return;  // bounded; counted as no baseline
            baselines_[h.ip] = Baseline{double(h.in.packets) / seconds, start, start};
            return;
        }
        Baseline& b = it->second;
        const double half_life = thresholds(h.deployment).baseline_half_life;
        // Windows without traffic count as rate 0: decay over the gap.
        const double gap = double(start - b.updated) / double(kNsPerSec);
        const double keep = std::exp2(-gap / half_life);
        b.rate = b.rate * keep + double(h.in.packets) / seconds * (1 - keep);
        b.updated = start;
    });
}

double DetectionEngine::baseline_rate(const IpAddress& host, Nanos* observed_for) const {
    auto it = baselines_.find(host);
    if (it == baselines_.end()) {
        if (observed_for) *observed_for = 0;
        return 0;
    }
    if (observed_for) *observed_for = now_ > it->second.since ? now_ - it->second.since : 0;
    const double gap = double(now_ - std::min(now_, it->second.updated)) / double(kNsPerSec);
    return it->second.rate * std::exp2(-gap / thresholds(deployment_of(host)).baseline_half_life);
}

std::vector<Contributor> DetectionEngine::top_sources(const WindowSummary& w, const IpAddress& target,
                                                      uint64_t total, size_t n) const {
    // Only sources that certainly sent more than any source the table let
    // go (lower bound above its smallest count), with that lower bound: in
    // a flood from spoofed addresses nobody stands out and the list stays
    // empty, rather than list whichever addresses the table happened to
    // hold (which would differ with the number of workers). A contributor
    // also sent at least 1 % of the target's packets: below that, the
    // bounds of several workers' tables blur who ranks where.
    std::vector<Contributor> out;
    const uint64_t floor = std::max<uint64_t>(w.pairs.min_count(), total / 100);
    w.pairs.for_each([&](const auto& e) {
        const uint64_t lower = e.count - e.error;
        if (e.key.dst == target && lower > floor && lower >= 2) out.push_back({e.key.src, lower});
    });
    std::sort(out.begin(), out.end(), [](const Contributor& x, const Contributor& y) {
        return x.packets != y.packets ? x.packets > y.packets : x.ip < y.ip;
    });
    if (out.size() > n) out.resize(n);
    return out;
}

std::optional<Contributor> DetectionEngine::top_target(const WindowSummary& w, const IpAddress& source) const {
    std::optional<Contributor> best;
    w.pairs.for_each([&](const auto& e) {
        const PairKey& k = e.key;
        const uint64_t count = e.count;
        if (k.src == source && (!best || count > best->packets || (count == best->packets && k.dst < best->ip)))
            best = Contributor{k.dst, count};
    });
    return best;
}

void DetectionEngine::add_sid(const IpAddress& source, const IpAddress& target, uint32_t sid) {
    // Kept per pair and joined to the attributions at the end: alerts and
    // windows reach the reporter in an order that depends on timing, so
    // joining them as they come would depend on it too.
    auto it = recon_sids_.find({source, target});
    if (it == recon_sids_.end()) {
        if (recon_sids_.size() >= kReconPairs) return;
        it = recon_sids_.emplace(std::make_pair(source, target), std::vector<uint32_t>{}).first;
    }
    if (std::find(it->second.begin(), it->second.end(), sid) == it->second.end()) it->second.push_back(sid);
}

void DetectionEngine::on_alert(const AlertFacts& alert) {
    detectors::signature(*this, alert);
    if (!findings_.empty()) apply_findings(alert.ts);
}

void DetectionEngine::touch(const Attribution* a) {
    if (std::find(touched_.begin(), touched_.end(), a) == touched_.end()) touched_.push_back(a);
}

void DetectionEngine::finish() {
    std::fill(worker_done_.begin(), worker_done_.end(), true);
    complete_ready();
    // Signature attributions of alerts that came after the last window.
    if (!touched_.empty() && on_window_) {
        Nanos end = any_analysed_ ? now_ + setup_.window : 0;
        for (const Attribution* a : touched_) end = std::max(end, a->last_seen);
        on_window_(analysed_up_to_, end, end, touched_);
    }
    touched_.clear();
    open_.clear();
    // Reconnaissance rules' sids join what behaviour found about the pair
    // (a sweep names no target: any of the source's pairs).
    for (auto& a : all_) {
        if (!a->source.ip) continue;
        for (const auto& [pair, sids] : recon_sids_) {
            if (pair.first != *a->source.ip || (a->target.ip && pair.second != *a->target.ip)) continue;
            for (uint32_t sid : sids)
                if (std::find(a->sids.begin(), a->sids.end(), sid) == a->sids.end()) a->sids.push_back(sid);
        }
        std::sort(a->sids.begin(), a->sids.end());
    }
}

std::vector<const Attribution*> DetectionEngine::attributions() const {
    std::vector<const Attribution*> out;
    out.reserve(all_.size());
    for (const auto& a : all_) out.push_back(a.get());
    std::sort(out.begin(), out.end(), [](const Attribution* x, const Attribution* y) {
        auto key = [](const Attribution* a) {
            return std::make_tuple(a->first_seen, a->type, int(a->direction), a->source.ip.value_or(IpAddress{}),
                                   a->target.ip.value_or(IpAddress{}), a->port, a->service);
        };
        return key(x) < key(y);
    });
    return out;
}

nlohmann::json to_json(const Attribution& a, const Ownership& ownership) {
    auto end = [&](const AttributionEnd& e) {
        nlohmann::json j;
        j["ip"] = e.ip ? nlohmann::json(e.ip->to_string()) : nlohmann::json();
        j["deployment"] = e.deployment != kNoDeployment ? nlohmann::json(ownership.deployment(e.deployment).name)
                                                        : nlohmann::json();
        return j;
    };
    nlohmann::json top = nlohmann::json::array();
    for (const Contributor& c : a.top_sources) top.push_back({{"ip", c.ip.to_string()}, {"packets", c.packets}});
    nlohmann::json j;
    j["type"] = a.type;
    j["direction"] = direction_name(a.direction);
    j["service"] = a.service.empty() ? nlohmann::json() : nlohmann::json(a.service);
    j["port"] = a.port ? nlohmann::json(a.port) : nlohmann::json();
    j["source"] = end(a.source);
    j["target"] = end(a.target);
    j["first_seen"] = format_timestamp(a.first_seen);
    j["last_seen"] = format_timestamp(a.last_seen);
    j["active_since"] = format_timestamp(a.active_since);
    j["detector"] = a.detector;
    j["threshold"] = a.threshold;
    j["evidence"] = a.evidence;
    j["top_sources"] = std::move(top);
    j["sids"] = a.sids;
    return j;
}

} // namespace sg
