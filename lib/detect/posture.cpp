#include "detect/posture.hpp"

#include <algorithm>
#include <span>
#include <tuple>

namespace sg {

namespace {

uint64_t ip_hash(const IpAddress& ip) { return sketch_hash(&ip, sizeof ip); }

} // namespace

bool is_management_port(uint16_t port) {
    switch (port) {
    case 22: case 445: case 1433: case 3306: case 3389: case 5900: case 5985: case 5986: return true;
    default: return false;
    }
}

void PostureTracker::add_window(const WindowSummary& w, Nanos start, Nanos length) {
    ++windows_;
    const Nanos seen = w.last_packet ? std::max(w.last_packet, start) : start;
    w.services.for_each([&](const auto& e) {
        const ServiceKey& k = e.key;
        const ServiceStats& s = e.value;
        if (deployment_of_(k.src) != kNoDeployment) return;      // inbound only: from outside
        const DeploymentId dep = deployment_of_(k.dst);
        if (dep == kNoDeployment) return;
        const auto key = std::make_pair(dep, k.port);
        auto it = logins_.find(key);
        if (it == logins_.end()) {
            // (deployment, port) pairs are few (deployments x login services);
            // the bound only guards against a pathological deployment count.
            if (logins_.size() >= kMaxLogins) {
                ++logins_dropped_;
                return;
            }
            it = logins_.emplace(key, Logins{}).first;
            it->second.first_seen = seen;
        }
        Logins& l = it->second;
        l.attempts += s.attempts;
        l.established += s.established;
        l.failed += s.failed;
        l.ended += s.ended;
        if (s.attempts) {
            l.sources.add(ip_hash(k.src));
            l.targets.add(ip_hash(k.dst));
        }
        l.last_seen = std::max(l.last_seen, seen);

        if (!s.established || !is_management_port(k.port)) return;
        const auto ekey = std::make_pair(k.dst, k.port);
        auto ex = exposed_.find(ekey);
        if (ex == exposed_.end()) {
            if (exposed_.size() >= kMaxExposed) {
                auto oldest = std::min_element(exposed_.begin(), exposed_.end(), [](const auto& a, const auto& b) {
                    return a.second.last_seen < b.second.last_seen;
                });
                exposed_.erase(oldest);
                ++evictions_;
            }
            Exposure fresh;
            fresh.host = k.dst;
            fresh.deployment = dep;
            fresh.port = k.port;
            fresh.first_seen = seen;
            ex = exposed_.emplace(ekey, fresh).first;
        }
        Exposure& x = ex->second;
        x.handshakes += s.established;
        x.sources.add(ip_hash(k.src));
        x.last_source = k.src;
        x.last_seen = std::max(x.last_seen, seen);
    });

    Recent& r = recent_[next_recent_];
    next_recent_ = (next_recent_ + 1) % kRecentWindows;
    r.start = start;
    r.length = length;
    r.hosts.clear();
    r.pairs.clear();
    w.hosts.for_each([&](const HostStats& h) {
        r.hosts.push_back({h.ip, h.deployment, h.in.packets, h.in.bytes, h.out.packets, h.out.bytes});
    });
    const auto by_bytes = [](const HostRow& a, const HostRow& b) {
        return a.total_bytes() != b.total_bytes() ? a.total_bytes() > b.total_bytes() : a.ip < b.ip;
    };
    if (r.hosts.size() > kTopPerWindow) {
        std::partial_sort(r.hosts.begin(), r.hosts.begin() + kTopPerWindow, r.hosts.end(), by_bytes);
        r.hosts.resize(kTopPerWindow);
        r.hosts.shrink_to_fit();
    }
    using PairEntry = std::remove_cvref_t<decltype(w.pairs)>::Entry;
    std::array<const PairEntry*, kTopPerWindow> top{};
    const unsigned n = w.pairs.top(std::span<const PairEntry*>(top.data(), top.size()));
    for (unsigned i = 0; i < n; ++i) r.pairs.push_back({top[i]->key.src, top[i]->key.dst, top[i]->count});
}

std::vector<const PostureTracker::Exposure*> PostureTracker::exposed() const {
    std::vector<const Exposure*> out;
    out.reserve(exposed_.size());
    for (const auto& [key, e] : exposed_) out.push_back(&e);
    return out;
}

std::vector<PostureTracker::HostRow> PostureTracker::top_hosts(size_t n) const {
    std::map<IpAddress, HostRow> sum;
    for (const Recent& r : recent_)
        for (const HostRow& h : r.hosts) {
            HostRow& s = sum.try_emplace(h.ip, HostRow{h.ip, h.deployment, 0, 0, 0, 0}).first->second;
            s.packets_in += h.packets_in;
            s.bytes_in += h.bytes_in;
            s.packets_out += h.packets_out;
            s.bytes_out += h.bytes_out;
        }
    std::vector<HostRow> out;
    for (const auto& [ip, h] : sum) out.push_back(h);
    std::sort(out.begin(), out.end(), [](const HostRow& a, const HostRow& b) {
        return a.total_bytes() != b.total_bytes() ? a.total_bytes() > b.total_bytes() : a.ip < b.ip;
    });
    if (out.size() > n) out.resize(n);
    return out;
}

std::vector<PostureTracker::PairRow> PostureTracker::top_pairs(size_t n) const {
    std::map<std::pair<IpAddress, IpAddress>, uint64_t> sum;
    for (const Recent& r : recent_)
        for (const PairRow& p : r.pairs) sum[{p.source, p.target}] += p.packets;
    std::vector<PairRow> out;
    for (const auto& [key, packets] : sum) out.push_back({key.first, key.second, packets});
    std::sort(out.begin(), out.end(), [](const PairRow& a, const PairRow& b) {
        if (a.packets != b.packets) return a.packets > b.packets;
        return std::tie(a.source, a.target) < std::tie(b.source, b.target);
    });
    if (out.size() > n) out.resize(n);
    return out;
}

Nanos PostureTracker::recent_span() const {
    Nanos span = 0;
    for (const Recent& r : recent_) span += r.length;
    return span;
}

} // namespace sg
