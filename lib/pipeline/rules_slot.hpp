#pragma once
// RulesSlot: how a new rule set reaches running workers without stopping
// them or losing a packet (hot reload).
//
// The control side builds a RulesVersion (the compiled database plus one
// Matcher per worker, each with its own Hyperscan scratch) off the packet
// path, publishes it with one atomic pointer store, and frees the previous
// version only once every worker has passed a quiescent point after the
// store (DPDK's rte_rcu_qsbr). A worker reads the pointer once per burst and
// reports a quiescent point after each burst and each idle poll.
//
// Thread: publish() on the control side (it blocks until the old version is
// unused); current()/quiescent()/online()/offline() on the workers.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/result.hpp"
#include "match/matcher.hpp"

struct rte_rcu_qsbr;

namespace sg {

struct RulesVersion {
    std::shared_ptr<const MatchDatabase> db;
    std::vector<std::unique_ptr<Matcher>> matchers; // one per worker, used only by that worker
};

class RulesSlot {
public:
    static Result<std::unique_ptr<RulesSlot>> create(unsigned workers);
    ~RulesSlot();
    RulesSlot(const RulesSlot&) = delete;
    RulesSlot& operator=(const RulesSlot&) = delete;

    // Control side. `db` may be null (no rules). Returns once the previous
    // version is freed.
    Result<> publish(std::shared_ptr<const MatchDatabase> db);
    uint64_t generation() const;
    // Rule sets freed after a swap, once no worker could still use them.
    uint64_t versions_freed() const { return versions_freed_.load(std::memory_order_relaxed); }

    // Worker side.
    Matcher* matcher(unsigned worker) const {
        const RulesVersion* v = current_.load(std::memory_order_acquire);
        return v && v->db ? v->matchers[worker].get() : nullptr;
    }
    void online(unsigned worker);
    void offline(unsigned worker);
    void quiescent(unsigned worker);

private:
    RulesSlot() = default;
    std::atomic<RulesVersion*> current_{nullptr};
    rte_rcu_qsbr* qsbr_ = nullptr;
    unsigned workers_ = 0;
    std::atomic<uint64_t> versions_freed_{0};
};

} // namespace sg
