#pragma once
// Enforcement: what the incident workflow asks of the workers, published the
// way rules are (one atomic pointer, swapped; no locks on the packet path).
//
//   - the blocklist: deactivated deployments. Inline, a worker drops every
//     packet to or from their prefixes (inner addresses for tunnels) and
//     counts it;
//   - evidence watches: while an incident wants evidence, the packets
//     between its two ends go to the reporter (the first N of them).
//
// An Enforcement is immutable once published. EnforcementSlot frees a
// replaced one only after every worker has passed a quiescent point
// (rte_rcu_qsbr), and never waits for that: publish() retires the old
// version and a later publish() or reclaim() frees it. The publisher is the
// reporter thread, which a worker may itself be waiting for (a full ring in
// lossless replay), so it must not block on the workers.
//
// Thread: publish()/reclaim() on one control-side thread (the reporter);
// current()/online()/offline()/quiescent() on the workers.

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "attrib/ownership.hpp"
#include "core/ip_address.hpp"
#include "core/result.hpp"

struct rte_rcu_qsbr;

namespace sg {

// One end of an evidence watch.
struct EndpointSelector {
    enum class Kind : uint8_t { any, deployment, address };
    Kind kind = Kind::any;
    DeploymentId deployment = kNoDeployment;
    IpAddress address;

    bool matches(const IpAddress& ip, DeploymentId dep) const {
        switch (kind) {
        case Kind::any: return true;
        case Kind::deployment: return dep == deployment;
        case Kind::address: return ip == address;
        }
        return false;
    }
};

// Packets between `source` and `target` (either direction) are evidence of `incident`.
struct EvidenceWatch {
    uint64_t incident = 0;
    EndpointSelector source;
    EndpointSelector target;
    uint32_t packets = 0;   // how many a worker sends at most

    bool matches(const IpAddress& src, DeploymentId src_dep, const IpAddress& dst, DeploymentId dst_dep) const {
        return (source.matches(src, src_dep) && target.matches(dst, dst_dep)) ||
               (source.matches(dst, dst_dep) && target.matches(src, src_dep));
    }
};

struct Enforcement {
    static constexpr size_t kMaxWatches = 64;

    std::vector<uint8_t> blocked;          // by DeploymentId: 1 = deactivated
    bool any_blocked = false;
    std::vector<EvidenceWatch> watches;    // at most kMaxWatches
    uint64_t version = 0;                  // bumped by every publish

    bool is_blocked(DeploymentId d) const { return d < blocked.size() && blocked[d]; }
    // Whether a worker has anything to look up per packet.
    bool active() const { return any_blocked || !watches.empty(); }
};

class EnforcementSlot {
public:
    static Result<std::unique_ptr<EnforcementSlot>> create(unsigned workers);
    ~EnforcementSlot();
    EnforcementSlot(const EnforcementSlot&) = delete;
    EnforcementSlot& operator=(const EnforcementSlot&) = delete;

    // Control side: makes `next` current (its version is set here) and
    // retires the previous one. Never blocks.
    void publish(std::unique_ptr<Enforcement> next);
    // Frees retired versions no worker can still be using.
    void reclaim();
    // Control side: the version published last (may be null).
    const Enforcement* published() const { return current_.load(std::memory_order_relaxed); }
    size_t retired() const { return retired_.size(); }

    // Worker side: read once per burst; valid until the worker's next quiescent().
    const Enforcement* current() const { return current_.load(std::memory_order_acquire); }
    void online(unsigned worker);
    void offline(unsigned worker);
    void quiescent(unsigned worker);

private:
    EnforcementSlot() = default;
    std::atomic<Enforcement*> current_{nullptr};
    rte_rcu_qsbr* qsbr_ = nullptr;
    std::vector<std::pair<uint64_t, std::unique_ptr<Enforcement>>> retired_;  // (qsbr token, version)
    uint64_t next_version_ = 1;
};

} // namespace sg
