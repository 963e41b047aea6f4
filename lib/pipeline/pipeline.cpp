#include "pipeline/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <fmt/format.h>

#include "core/log.hpp"
#include "detect/detectors/registry.hpp"
#include "report/reporter.hpp"

namespace sg {

namespace {

// Ring of mbuf pointers from the dispatcher to one worker, or back (tx).
Result<rte_ring*> make_mbuf_ring(const std::string& name, unsigned size) {
    rte_ring* r = rte_ring_create(name.c_str(), size, int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!r) return make_error(fmt::format("cannot create ring {}", name));
    return r;
}

} // namespace

Result<std::unique_ptr<Pipeline>> Pipeline::create(const Config& cfg,
                                                   const std::vector<PipelineInput>& inputs,
                                                   bool replay, Reporter& reporter,
                                                   std::shared_ptr<const MatchDatabase> rules,
                                                   const Ownership* ownership) {
    std::unique_ptr<Pipeline> p(new Pipeline);
    p->reporter_ = &reporter;
    p->signals_.lossless = replay;
    p->replay_ = replay;
    const unsigned nb_workers = cfg.workers;
    if (rte_lcore_count() < nb_workers + 1)
        return make_error(fmt::format("{} workers need {} lcores (main + workers) but EAL has {}; "
                                      "give EAL more with --lcores",
                                      nb_workers, nb_workers + 1, rte_lcore_count()));
    if (inputs.empty()) return make_error("no input: give at least one port or capture");

    if (replay && !register_pcap_cnt_field())
        log::warn("cannot register the packet-number field: alerts will not carry pcap_cnt");
    if (!register_timestamp_field())
        log::warn("cannot register the mbuf timestamp field: packet time falls back to the CPU clock");
    // The pool must hold every mbuf that can be in flight at once: rx and tx
    // descriptors, the dispatcher's rings, bursts and per-lcore caches. Too
    // few and a driver loses packets (net_pcap: a record, counted rx_nombuf).
    const uint64_t rx_queues_per_port = replay ? 1 : nb_workers;
    const uint64_t tx_queues_per_port = cfg.mode == Mode::inline_ ? nb_workers : 0;
    const uint64_t in_flight =
        inputs.size() * (rx_queues_per_port * cfg.sizes.rx_descriptors +
                         tx_queues_per_port * cfg.sizes.tx_descriptors) +
        uint64_t(nb_workers) * (2 * kDispatchRingSize + 2 * kMaxBurst) +
        uint64_t(nb_workers + 1) * cfg.sizes.mbuf_cache * 2 + 1024;
    uint32_t mbufs = cfg.sizes.mbufs;
    if (in_flight > mbufs) {
        mbufs = uint32_t(std::min<uint64_t>(in_flight, 1u << 24));
        log::info("sizes.mbufs {} is below what {} worker(s) and {} port(s) can hold in flight; using {}",
                  cfg.sizes.mbufs, nb_workers, inputs.size(), mbufs);
    }
    auto pool = create_mbuf_pool(mbufs, cfg.sizes.mbuf_cache);
    if (!pool) return pool.error();
    p->pool_ = *pool;

    for (const PipelineInput& in : inputs) {
        PortRequest req;
        req.name = in.name;
        req.device = in.device;
        req.rx_queues = uint16_t(nb_workers);
        req.tx_queues = uint16_t(nb_workers);
        req.rx_descriptors = cfg.sizes.rx_descriptors;
        req.tx_descriptors = cfg.sizes.tx_descriptors;
        req.link = in.link;
        auto port = open_port(req, p->pool_);
        if (!port) return port.error();
        p->ports_.push_back(*port);
    }

    // Inline pairs: what enters one port leaves through its peer.
    p->peer_port_.assign(RTE_MAX_ETHPORTS, kNoPeer);
    const bool inline_mode = cfg.mode == Mode::inline_;
    if (inline_mode) {
        auto find = [&](const std::string& name) -> const PortInfo* {
            for (const PortInfo& port : p->ports_)
                if (port.name == name) return &port;
            return nullptr;
        };
        for (const auto& [a, b] : cfg.inline_pairs) {
            const PortInfo* pa = find(a);
            const PortInfo* pb = find(b);
            if (!pa || !pb) return make_error(fmt::format("inline pair [{}, {}] names an unknown port", a, b));
            p->peer_port_[pa->port_id] = pb->port_id;
            p->peer_port_[pb->port_id] = pa->port_id;
        }
    }

    // Hardware RSS on every port with a queue per worker: workers poll their
    // own queues. Otherwise the main lcore spreads flows in software.
    bool direct = !replay;
    for (const PortInfo& port : p->ports_)
        direct = direct && port.rss && port.rx_queues == nb_workers && port.tx_queues >= nb_workers;
    if (nb_workers == 1 && !replay)
        direct = std::all_of(p->ports_.begin(), p->ports_.end(), [](const PortInfo& port) { return port.rx_queues == 1; });

    std::vector<DispatchInput> dispatch_inputs;
    for (size_t i = 0; i < p->ports_.size(); ++i)
        for (uint16_t q = 0; q < p->ports_[i].rx_queues; ++q)
            dispatch_inputs.push_back({{p->ports_[i].port_id, q}, replay && q == 0, q == 0 ? inputs[i].expected : 0});

    auto slot = RulesSlot::create(nb_workers);
    if (!slot) return slot.error();
    p->rules_ = std::move(*slot);
    if (auto ok = p->rules_->publish(std::move(rules)); !ok) return ok.error();
    if (ownership) {
        auto enforcement = EnforcementSlot::create(nb_workers);
        if (!enforcement) return enforcement.error();
        p->enforcement_ = std::move(*enforcement);
    }

    for (unsigned w = 0; w < nb_workers; ++w) {
        auto ring = RecordRing::create(fmt::format("sg_rec_{}", w), cfg.sizes.ring, int(rte_socket_id()));
        if (!ring) return ring.error();
        p->record_rings_.push_back(*ring);

        WorkerIo io;
        io.peer_port = inline_mode ? p->peer_port_.data() : nullptr;
        if (direct) {
            if (p->ports_.size() > kMaxQueuesPerWorker)
                return make_error(fmt::format("{} ports: a worker polls at most {}", p->ports_.size(),
                                              kMaxQueuesPerWorker));
            for (const PortInfo& port : p->ports_) {
                io.rx[io.nb_rx++] = {port.port_id, uint16_t(nb_workers == 1 ? 0 : w)};
            }
            io.tx_queue = uint16_t(w);
        } else {
            auto rx = make_mbuf_ring(fmt::format("sg_rx_{}", w), kDispatchRingSize);
            if (!rx) return rx.error();
            p->rx_rings_.push_back(*rx);
            io.rx_ring = *rx;
            if (inline_mode) {
                auto tx = make_mbuf_ring(fmt::format("sg_tx_{}", w), kDispatchRingSize);
                if (!tx) return tx.error();
                p->tx_rings_.push_back(*tx);
                io.tx_ring = *tx;
            }
        }
        FlowTableConfig ft;
        ft.capacity = cfg.sizes.flow_table;
        ft.tcp_idle = cfg.flow_timeout.tcp;
        ft.tcp_closed_idle = cfg.flow_timeout.tcp_closed;
        ft.udp_idle = cfg.flow_timeout.udp;
        ft.other_idle = cfg.flow_timeout.other;
        ft.socket_id = int(rte_socket_id());
        const std::string table_name = fmt::format("sg_flows_{}", w);
        ft.name = table_name.c_str();
        StreamConfig streams;
        streams.buffers = cfg.sizes.stream_buffers;
        streams.buffer_size = cfg.sizes.stream_buffer_size;
        streams.chunk_size = cfg.sizes.stream_chunk;
        auto worker = Worker::create(w, io, ft, *ring, &p->signals_, cfg.sizes.burst, streams);
        if (!worker) return worker.error();
        (*worker)->set_rules(p->rules_.get());
        if (p->enforcement_) (*worker)->set_enforcement(p->enforcement_.get(), ownership);
        WorkerOutputs outputs;
        outputs.simulate_ips = cfg.simulate_ips;
        outputs.stage = cfg.stage;
        if (!cfg.outputs.eve.empty()) {
            if (cfg.outputs.eve_packet) outputs.packet_bytes = WorkerOutputs::PacketBytes::all;
            else if (inline_mode || cfg.simulate_ips) outputs.packet_bytes = WorkerOutputs::PacketBytes::drops;
            // HTTP transactions are only logged: without eve nothing parses them.
            if (auto http = (*worker)->enable_http(cfg.sizes.stream_buffers); !http) return http.error();
        }
        (*worker)->set_outputs(outputs);
        if (ownership) {
            CountingParams counting;
            counting.window = cfg.detect.window;
            counting.ownership = ownership;
            counting.service_ports = detectors::login_service_ports();
            auto counter = WindowCounter::create(w, counting);
            if (!counter) return counter.error();
            (*worker)->set_detection(std::move(*counter), cfg.detect.window, /*ticks=*/!direct);
        }
        p->workers_.push_back(std::move(*worker));
    }
    if (!direct) {
        // Replay waits for busy workers instead of dropping: the file can wait.
        p->dispatcher_ = std::make_unique<Dispatcher>(std::move(dispatch_inputs), p->rx_rings_,
                                                      p->tx_rings_, cfg.sizes.burst, replay,
                                                      ownership ? cfg.detect.window : 0);
        // Replay with an incident workflow: decisions apply from the next window on.
        if (replay) p->dispatcher_->set_lockstep(reporter.lockstep_progress());
    }
    if (p->enforcement_ && reporter.incidents()) reporter.incidents()->set_enforcement(p->enforcement_.get());
    return p;
}

uint64_t Pipeline::rx_nombuf() const {
    uint64_t n = 0;
    for (const PortInfo& port : ports_) {
        rte_eth_stats st{};
        if (rte_eth_stats_get(port.port_id, &st) == 0) n += st.rx_nombuf;
    }
    return n;
}

void Pipeline::hold_mempool() {
    // Past every lcore cache (none is filled yet: no worker has run), so the
    // pool really is empty to the drivers.
    std::vector<void*> held(pool_->size);
    size_t n = 0;
    while (n < held.size() && rte_mempool_generic_get(pool_, &held[n], 1, nullptr) == 0) ++n;
    held.resize(n);
    const uint64_t until = exhaust_until_nombuf_;
    log::warn("injected fault: all {} free mbufs taken; given back after {} packets are lost for want of one",
              n, until);
    mempool_holder_ = std::thread([this, held = std::move(held), until]() mutable {
        while (rx_nombuf() < until && !signals_.stop.load(std::memory_order_relaxed) &&
               !signals_.input_done.load(std::memory_order_acquire))
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        rte_mempool_generic_put(pool_, held.data(), unsigned(held.size()), nullptr);
        log::warn("injected fault: {} mbufs given back ({} packets lost for want of one so far)", held.size(),
                  rx_nombuf());
    });
}

Result<> Pipeline::start() {
    if (exhaust_until_nombuf_ && pool_) hold_mempool();
    reporter_->start(record_rings_);
    unsigned w = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        if (w == workers_.size()) break;
        if (int rc = rte_eal_remote_launch(&Worker::lcore_entry, workers_[w].get(), lcore); rc != 0) {
            // Stop the workers already running and the reporter before the
            // caller frees the rings they use.
            signals_.stop.store(true);
            rte_eal_mp_wait_lcore();
            reporter_->finish();
            return make_error(fmt::format("cannot launch worker {} on lcore {}: {}", w, lcore, rc));
        }
        ++w;
    }
    started_ = true;
    return {};
}

void Pipeline::run() {
    if (dispatcher_) {
        const bool exhausted = dispatcher_->run(signals_.stop);
        if (exhausted) signals_.input_done.store(true, std::memory_order_release);
        else interrupted_ = replay_;
        // Inline: keep sending what the workers forward until they are done.
        for (;;) {
            bool all = true;
            for (auto& w : workers_) all = all && w->finished();
            dispatcher_->drain_tx();
            if (all) break;
            sched_yield();
        }
        dispatcher_->drain_tx();
    } else {
        // Direct mode: the main lcore only waits. rte_eal_mp_wait_lcore()
        // spins; sleeping leaves its CPU to the reporter and control threads.
        for (;;) {
            bool all = true;
            for (auto& w : workers_) all = all && w->finished();
            if (all) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    rte_eal_mp_wait_lcore();
    if (mempool_holder_.joinable()) {
        signals_.stop.store(true, std::memory_order_relaxed);  // the holder gives back what it holds
        mempool_holder_.join();
    }
    reporter_->finish();
}

Result<> Pipeline::reload_rules(std::shared_ptr<const MatchDatabase> db) { return rules_->publish(std::move(db)); }

uint64_t Pipeline::rules_generation() const { return rules_->generation(); }

PipelineSnapshot Pipeline::snapshot() const {
    PipelineSnapshot s;
    for (const auto& w : workers_) {
        s.workers.push_back(w->counters());
        s.total += w->counters();
    }
    if (dispatcher_) s.dispatcher = dispatcher_->counters();
    for (const PortInfo& port : ports_) {
        rte_eth_stats st{};
        PortSnapshot ps;
        ps.name = port.name;
        if (rte_eth_stats_get(port.port_id, &st) == 0) {
            s.rx_nombuf += st.rx_nombuf;
            s.rx_errors += st.ierrors;
            s.rx_missed += st.imissed;
            ps = {port.name, st.ipackets, st.ibytes, st.opackets, st.obytes, st.imissed, st.ierrors, st.oerrors,
                  st.rx_nombuf};
        }
        s.ports.push_back(std::move(ps));
    }
    for (size_t w = 0; w < workers_.size(); ++w) {
        QueueSnapshot q;
        if (w < record_rings_.size()) {
            q.record_used = record_rings_[w]->count();
            q.record_capacity = record_rings_[w]->capacity();
        }
        if (w < rx_rings_.size()) {
            q.rx_used = rte_ring_count(rx_rings_[w]);
            q.rx_capacity = rte_ring_get_capacity(rx_rings_[w]);
        }
        s.queues.push_back(q);
    }
    if (pool_) {
        s.mbufs_in_use = rte_mempool_in_use_count(pool_);
        s.mbufs_total = pool_->size;
    }
    return s;
}

void Pipeline::close() {
    if (closed_) return;
    closed_ = true;
    for (const PortInfo& port : ports_) close_port(port);
    workers_.clear();
    for (RecordRing* r : record_rings_) RecordRing::destroy(r);
    for (rte_ring* r : rx_rings_) rte_ring_free(r);
    for (rte_ring* r : tx_rings_) rte_ring_free(r);
    if (pool_) rte_mempool_free(pool_);
}

Pipeline::~Pipeline() { close(); }

} // namespace sg
