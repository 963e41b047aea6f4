#include "io/port.hpp"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <fmt/format.h>

namespace sg {

namespace detail {
int timestamp_offset = -1;
uint64_t timestamp_flag = 0;
uint32_t timestamp_scale[RTE_MAX_ETHPORTS] = {};
int pcap_cnt_offset = -1;
LinkType link_type[RTE_MAX_ETHPORTS] = {};  // LinkType::ethernet
} // namespace detail

namespace {

// A Toeplitz key made of one repeated 16-bit word hashes (src, dst) and
// (dst, src) identically: the classic symmetric-RSS key.
uint8_t g_symmetric_rss_key[52] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
    0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
    0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

// The device name DPDK registers for a devargs string: the part before the
// first comma ("net_pcap0" of "net_pcap0,rx_pcap=a.pcap").
std::string device_name(const std::string& device) { return device.substr(0, device.find(',')); }

} // namespace

Result<rte_mempool*> create_mbuf_pool(uint32_t mbufs, uint32_t cache) {
    rte_mempool* pool = rte_pktmbuf_pool_create("sg_mbufs", mbufs, cache, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
    if (!pool)
        return make_error(fmt::format("cannot create a pool of {} packet buffers: {} (raise -m or "
                                      "lower sizes.mbufs)",
                                      mbufs, rte_strerror(rte_errno)));
    return pool;
}

bool register_pcap_cnt_field() {
    static const rte_mbuf_dynfield desc = {"safeguard_pcap_cnt", sizeof(uint64_t), alignof(uint64_t), 0};
    detail::pcap_cnt_offset = rte_mbuf_dynfield_register(&desc);
    return detail::pcap_cnt_offset >= 0;
}

bool register_timestamp_field() {
    return rte_mbuf_dyn_rx_timestamp_register(&detail::timestamp_offset,
                                              &detail::timestamp_flag) == 0;
}

Nanos mbuf_timestamp(const rte_mbuf* m) {
    if (detail::timestamp_offset < 0 || !(m->ol_flags & detail::timestamp_flag)) return 0;
    return *RTE_MBUF_DYNFIELD(m, detail::timestamp_offset, const rte_mbuf_timestamp_t*) *
           detail::timestamp_scale[m->port];
}

Result<PortInfo> open_port(const PortRequest& req, rte_mempool* pool) {
    const std::string name = device_name(req.device);
    if (rte_dev_probe(req.device.c_str()) != 0)
        return make_error(fmt::format("port {}: cannot attach device '{}': {}", req.name, req.device,
                                      rte_strerror(rte_errno)));
    uint16_t port_id = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port_id) != 0)
        return make_error(fmt::format("port {}: device '{}' attached but has no ethdev port",
                                      req.name, name));

    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(port_id, &info); rc != 0)
        return make_error(fmt::format("port {}: cannot read device info: {}", req.name, rte_strerror(-rc)));

    PortInfo p;
    p.name = req.name;
    p.device = req.device;
    p.port_id = port_id;
    p.driver = info.driver_name ? info.driver_name : "?";

    rte_eth_conf conf{};
    // Hardware RSS only where the device can spread over the wanted queues.
    p.rss = req.rx_queues > 1 && info.flow_type_rss_offloads != 0 && info.max_rx_queues >= req.rx_queues;
    if (p.rss) {
        p.rx_queues = req.rx_queues;
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = g_symmetric_rss_key;
        conf.rx_adv_conf.rss_conf.rss_key_len = std::min<uint8_t>(info.hash_key_size ? info.hash_key_size : 40, 52);
        // Addresses only (Suricata's symmetric "sd" hashing): fragments
        // after the first carry no ports, and every fragment of a datagram
        // must reach the worker that reassembles it; so must the rest of
        // that IP pair's traffic, to keep each flow on one worker.
        conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
    } else {
        // Without RSS one queue carries everything and the software
        // dispatcher spreads flows over workers. net_pcap is the exception:
        // each rx_pcap= file is its own queue and all of them must be read.
        p.rx_queues = p.driver == "net_pcap" ? std::max<uint16_t>(1, info.max_rx_queues) : 1;
    }
    p.tx_queues = std::max<uint16_t>(1, std::min<uint16_t>(info.max_tx_queues, req.tx_queues));

    // Packet time. DPDK leaves the timestamp's unit to the driver: NICs count
    // ticks of their own clock, while net_pcap (22.11) stamps every mbuf with
    // the capture record's time in microseconds since the epoch, without
    // advertising or needing RTE_ETH_RX_OFFLOAD_TIMESTAMP. Only the latter is
    // a time we can use as is; everything else runs on the worker's TSC clock.
    if (p.driver == "net_pcap") {
        p.timestamps = true;
        detail::timestamp_scale[port_id] = kNsPerUs;
    }

    detail::link_type[port_id] = req.link;

    if (int rc = rte_eth_dev_configure(port_id, p.rx_queues, p.tx_queues, &conf); rc != 0)
        return make_error(fmt::format("port {}: configure {} rx / {} tx queues failed: {}", req.name,
                                      p.rx_queues, p.tx_queues, rte_strerror(-rc)));
    uint16_t nb_rx = uint16_t(req.rx_descriptors), nb_tx = uint16_t(req.tx_descriptors);
    rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rx, &nb_tx);
    const int socket = rte_eth_dev_socket_id(port_id);
    for (uint16_t q = 0; q < p.rx_queues; ++q)
        if (int rc = rte_eth_rx_queue_setup(port_id, q, nb_rx, socket, nullptr, pool); rc != 0)
            return make_error(fmt::format("port {}: rx queue {} setup failed: {}", req.name, q, rte_strerror(-rc)));
    for (uint16_t q = 0; q < p.tx_queues; ++q)
        if (int rc = rte_eth_tx_queue_setup(port_id, q, nb_tx, socket, nullptr); rc != 0)
            return make_error(fmt::format("port {}: tx queue {} setup failed: {}", req.name, q, rte_strerror(-rc)));
    if (int rc = rte_eth_dev_start(port_id); rc != 0)
        return make_error(fmt::format("port {}: start failed: {}", req.name, rte_strerror(-rc)));
    rte_eth_promiscuous_enable(port_id); // best effort: virtual devices may refuse
    return p;
}

void close_port(const PortInfo& port) {
    rte_eth_dev_stop(port.port_id);
    rte_eth_dev_close(port.port_id);
}

} // namespace sg
