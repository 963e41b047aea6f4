#include "pipeline/dispatcher.hpp"

#include <sched.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "flow/flow_key.hpp"
#include "flow/flow_table.hpp"
#include "detect/window_counter.hpp"
#include "io/port.hpp"
#include "parse/decode.hpp"

namespace sg {

Dispatcher::Dispatcher(std::vector<DispatchInput> inputs, std::vector<rte_ring*> worker_rings,
                       std::vector<rte_ring*> tx_rings, uint32_t burst, bool lossless, Nanos window)
    : inputs_(std::move(inputs)), delivered_(inputs_.size(), 0), done_(inputs_.size(), false),
      worker_rings_(std::move(worker_rings)), tx_rings_(std::move(tx_rings)),
      staging_(worker_rings_.size() * kMaxBurst), staged_(worker_rings_.size(), 0),
      burst_(burst > kMaxBurst ? kMaxBurst : burst), lossless_(lossless), window_(window) {}

bool Dispatcher::input_exhausted(size_t i) {
    // The pcap driver has no end-of-file event: at the end rx_burst just
    // returns 0. A record is either delivered, or consumed and counted by the
    // driver as an error (rx_nombuf, ierrors); once those add up to what
    // libpcap counted in the file, nothing more will come.
    rte_eth_stats st{};
    if (rte_eth_stats_get(inputs_[i].queue.port, &st) != 0) return false;
    return delivered_[i] + st.ierrors + st.rx_nombuf >= inputs_[i].expected;
}

bool Dispatcher::run(const std::atomic<bool>& stop) {
    stop_ = &stop;
    rte_mbuf* pkts[kMaxBurst];
    size_t bounded_left = 0;
    for (const DispatchInput& in : inputs_) bounded_left += in.bounded;
    // Only a run where every input is a capture ends by itself.
    const bool ends = bounded_left == inputs_.size();
    for (;;) {
        if (stop.load(std::memory_order_relaxed)) return false;
        if (ends && bounded_left == 0) return true;
        bool got = false;
        for (size_t i = 0; i < inputs_.size(); ++i) {
            if (done_[i]) continue;
            // Captures are read one after the other, like a tap that saw
            // them in that order: packet time then only moves forward
            // between files, and the interleaving never depends on timing.
            if (ends && i > 0 && !done_[i - 1]) break;
            const unsigned n = rte_eth_rx_burst(inputs_[i].queue.port, inputs_[i].queue.queue, pkts,
                                                uint16_t(burst_));
            if (n) {
                got = true;
                delivered_[i] += n;
                counters_.received += n;
                // Replay: number the packets as read, like Suricata's pcap_cnt.
                if (ends)
                    for (unsigned k = 0; k < n; ++k) set_pcap_cnt(pkts[k], ++read_);
                spread(pkts, n);
            } else if (inputs_[i].bounded && input_exhausted(i)) {
                done_[i] = true;
                --bounded_left;
            }
        }
        transmit();
        // Live and idle: windows still end on time.
        if (!got && window_ && !ends) tick(wall_now());
        if (!got) sched_yield();
    }
}

Nanos Dispatcher::wall_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return Nanos(ts.tv_sec) * kNsPerSec + Nanos(ts.tv_nsec);
}

void Dispatcher::tick(Nanos now) {
    const uint64_t index = now / window_;
    if (window_started_ && index <= window_index_) return;
    // Packets before the cut go first, then every worker gets the cut.
    flush_staged();
    void* marker = make_window_tick(index);
    for (rte_ring* ring : worker_rings_) {
        while (rte_ring_sp_enqueue(ring, marker) != 0) {
            // Live: a lost cut only makes a worker's window longer.
            if (!lossless_) break;
            ++counters_.ring_full_waits;
            transmit();
            sched_yield();
        }
    }
    if (lockstep_ && window_started_ && lockstep_->load(std::memory_order_acquire) <= window_index_) {
        ++counters_.lockstep_waits;
        // A stop (a signal) ends the wait: the workers stop too.
        while (lockstep_->load(std::memory_order_acquire) <= window_index_ &&
               !(stop_ && stop_->load(std::memory_order_relaxed))) {
            transmit();
            sched_yield();
        }
    }
    window_started_ = true;
    window_index_ = index;
}

void Dispatcher::flush_staged() {
    for (unsigned w = 0; w < unsigned(worker_rings_.size()); ++w) {
        if (staged_[w]) enqueue(w, &staging_[w * kMaxBurst], staged_[w]);
        staged_[w] = 0;
    }
}

void Dispatcher::spread(rte_mbuf** pkts, unsigned n) {
    const unsigned workers = unsigned(worker_rings_.size());
    const Nanos fallback_now = window_ ? wall_now() : 0;
    // Group the burst per worker, keeping each worker's packets in order.
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (window_) {
            // Windows follow packet time as read: a packet older than the
            // current window (captures need not be sorted) counts in it.
            const Nanos t = mbuf_timestamp(m);
            tick(t ? t : fallback_now);
        }
        unsigned w = 0;
        if (workers > 1) {
            // Same view as the worker's, so both build the same key.
            const uint32_t len = std::min<uint32_t>(rte_pktmbuf_pkt_len(m), sizeof frame_buf_);
            const auto* frame = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, len, frame_buf_));
            PacketView pv;
            if (frame) decode(frame, len, pv, link_type_of(m->port));
            if (pv.l3 == L3Type::ipv4 || pv.l3 == L3Type::ipv6) {
                // By IP pair, not 5-tuple: the fragments of a datagram (only
                // the first has ports) must meet on one worker to be
                // reassembled, and then so must every packet of that pair,
                // or a flow would be split between the fragments' worker
                // and its ports' worker. Suricata recommends the same
                // symmetric "sd" hashing. The pair is the canonical one
                // (both directions alike) of the innermost packet plus the
                // tunnel id, as in the flow key.
                FlowKey pair;
                pair.a = pv.src < pv.dst ? pv.src : pv.dst;
                pair.b = pv.src < pv.dst ? pv.dst : pv.src;
                pair.ip_version = pv.l3 == L3Type::ipv6 ? 6 : 4;
                pair.tunnel_id = pv.tunnel.id;
                // Multiply-shift takes the hash's high bits: the flow table's
                // buckets use the low ones, which must stay evenly spread.
                w = unsigned((uint64_t(FlowTable::flow_hash(pair)) * workers) >> 32);
            }
        }
        staging_[w * kMaxBurst + staged_[w]++] = m;
    }
    flush_staged();
}

void Dispatcher::enqueue(unsigned worker, rte_mbuf** pkts, unsigned n) {
    unsigned done = 0;
    for (;;) {
        done += rte_ring_sp_enqueue_burst(worker_rings_[worker], reinterpret_cast<void**>(pkts + done),
                                          n - done, nullptr);
        if (done == n) return;
        if (!lossless_) break;
        ++counters_.ring_full_waits;
        transmit(); // forwarded packets hold mbufs too: keep them moving
        sched_yield();
    }
    counters_.ring_full_drops += n - done;
    rte_pktmbuf_free_bulk(pkts + done, n - done);
}

void Dispatcher::transmit() {
    rte_mbuf* pkts[kMaxBurst];
    for (rte_ring* r : tx_rings_) {
        const unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), kMaxBurst, nullptr);
        unsigned i = 0;
        while (i < n) {
            // Workers set m->port to the destination; send runs of one port.
            unsigned j = i + 1;
            while (j < n && pkts[j]->port == pkts[i]->port) ++j;
            const uint16_t sent = rte_eth_tx_burst(pkts[i]->port, 0, pkts + i, uint16_t(j - i));
            counters_.tx_sent += sent;
            if (sent < j - i) {
                counters_.tx_drops += j - i - sent;
                rte_pktmbuf_free_bulk(pkts + i + sent, j - i - sent);
            }
            i = j;
        }
    }
}

void Dispatcher::drain_tx() { transmit(); }

} // namespace sg
