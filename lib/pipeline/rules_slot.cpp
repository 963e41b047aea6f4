#include "pipeline/rules_slot.hpp"

#include <chrono>
#include <thread>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <fmt/format.h>

namespace sg {

Result<std::unique_ptr<RulesSlot>> RulesSlot::create(unsigned workers) {
    std::unique_ptr<RulesSlot> s(new RulesSlot);
    s->workers_ = workers;
    const size_t size = rte_rcu_qsbr_get_memsize(workers);
    s->qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sg_rules_qsbr", size, RTE_CACHE_LINE_SIZE));
    if (!s->qsbr_ || rte_rcu_qsbr_init(s->qsbr_, workers) != 0)
        return make_error(fmt::format("cannot set up the rules quiescent-state variable for {} workers", workers));
    return s;
}

RulesSlot::~RulesSlot() {
    delete current_.load();
    rte_free(qsbr_);
}

uint64_t RulesSlot::generation() const {
    const RulesVersion* v = current_.load(std::memory_order_acquire);
    return v && v->db ? v->db->generation() : 0;
}

Result<> RulesSlot::publish(std::shared_ptr<const MatchDatabase> db) {
    auto next = std::make_unique<RulesVersion>();
    next->db = db;
    for (unsigned w = 0; w < workers_; ++w) {
        auto m = std::make_unique<Matcher>();
        if (auto ok = m->attach(db); !ok) return ok.error();
        next->matchers.push_back(std::move(m));
    }
    RulesVersion* old = current_.exchange(next.release(), std::memory_order_acq_rel);
    // Every worker that was inside a burst with `old` has to come out of it.
    const uint64_t token = rte_rcu_qsbr_start(qsbr_);
    while (!rte_rcu_qsbr_check(qsbr_, token, false)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (old) {
        delete old;
        versions_freed_.fetch_add(1, std::memory_order_relaxed);
    }
    return {};
}

void RulesSlot::online(unsigned worker) {
    rte_rcu_qsbr_thread_register(qsbr_, worker);
    rte_rcu_qsbr_thread_online(qsbr_, worker);
}

void RulesSlot::offline(unsigned worker) {
    rte_rcu_qsbr_thread_offline(qsbr_, worker);
    rte_rcu_qsbr_thread_unregister(qsbr_, worker);
}

void RulesSlot::quiescent(unsigned worker) { rte_rcu_qsbr_quiescent(qsbr_, worker); }

} // namespace sg
