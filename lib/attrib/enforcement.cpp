#include "attrib/enforcement.hpp"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <fmt/format.h>

namespace sg {

Result<std::unique_ptr<EnforcementSlot>> EnforcementSlot::create(unsigned workers) {
    std::unique_ptr<EnforcementSlot> s(new EnforcementSlot);
    const size_t size = rte_rcu_qsbr_get_memsize(workers);
    s->qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sg_enforce_qsbr", size, RTE_CACHE_LINE_SIZE));
    if (!s->qsbr_ || rte_rcu_qsbr_init(s->qsbr_, workers) != 0)
        return make_error(fmt::format("cannot set up the enforcement quiescent-state variable for {} workers",
                                      workers));
    return s;
}

EnforcementSlot::~EnforcementSlot() {
    // The workers are gone (offline) by now.
    delete current_.load();
    rte_free(qsbr_);
}

void EnforcementSlot::publish(std::unique_ptr<Enforcement> next) {
    next->version = next_version_++;
    Enforcement* old = current_.exchange(next.release(), std::memory_order_acq_rel);
    if (old) retired_.emplace_back(rte_rcu_qsbr_start(qsbr_), std::unique_ptr<Enforcement>(old));
    reclaim();
}

void EnforcementSlot::reclaim() {
    // Tokens grow with every start: once one is passed, every older one is.
    size_t done = 0;
    while (done < retired_.size() && rte_rcu_qsbr_check(qsbr_, retired_[done].first, false) == 1) ++done;
    retired_.erase(retired_.begin(), retired_.begin() + long(done));
}

void EnforcementSlot::online(unsigned worker) {
    rte_rcu_qsbr_thread_register(qsbr_, worker);
    rte_rcu_qsbr_thread_online(qsbr_, worker);
}

void EnforcementSlot::offline(unsigned worker) {
    rte_rcu_qsbr_thread_offline(qsbr_, worker);
    rte_rcu_qsbr_thread_unregister(qsbr_, worker);
}

void EnforcementSlot::quiescent(unsigned worker) { rte_rcu_qsbr_quiescent(qsbr_, worker); }

} // namespace sg
