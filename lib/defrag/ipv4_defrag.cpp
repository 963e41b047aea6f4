#include "defrag/ipv4_defrag.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include <rte_hash_crc.h>

namespace sg {

namespace {

constexpr uint32_t kBlock = 8;               // fragment offsets count 8-byte blocks
constexpr uint8_t kMoreFragments = 0x20;     // in the high byte of flags/offset
constexpr uint16_t kDontFragment = 0x4000;
constexpr uint32_t kMaxIpTotalLength = 0xFFFF;
constexpr uint32_t kMinIpHeaderLen = 20;

uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void store_be16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}

uint16_t ipv4_checksum(const uint8_t* header, uint32_t len) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i + 1 < len; i += 2) sum += load_be16(header + i);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return uint16_t(~sum);
}

} // namespace

Ipv4Defrag::Ipv4Defrag(const DefragConfig& config)
    : config_(config),
      buffer_size_(kHeadroom + config.max_payload),
      blocks_per_tracker_((config.max_payload + kBlock - 1) / kBlock),
      trackers_(std::max<uint32_t>(1, config.trackers)),
      buffers_(size_t(trackers_.size()) * buffer_size_),
      owners_(size_t(trackers_.size()) * blocks_per_tracker_),
      buckets_(std::max<size_t>(2, std::bit_ceil(trackers_.size() * 2)), kNone) {
    for (uint32_t t = uint32_t(trackers_.size()); t-- > 0;) {
        trackers_[t].hash_next = free_head_;
        free_head_ = t;
    }
}

uint32_t Ipv4Defrag::bucket_of(const PacketView& pv) const {
    // rte_hash_crc loads 8 bytes at a time through casts: the addresses must
    // be 8-byte aligned, which they are not inside a PacketView (UBSan).
    alignas(8) uint8_t addresses[32];
    std::memcpy(addresses, pv.src.bytes.data(), 16);
    std::memcpy(addresses + 16, pv.dst.bytes.data(), 16);
    uint32_t h = rte_hash_crc(addresses, 16, pv.ip_id);
    h = rte_hash_crc(addresses + 16, 16, h);
    h = rte_hash_crc_4byte(uint32_t(pv.ip_proto) << 16 | pv.vlan_id, h);
    return h & uint32_t(buckets_.size() - 1);
}

uint32_t Ipv4Defrag::find(const PacketView& pv, uint32_t bucket) const {
    for (uint32_t t = buckets_[bucket]; t != kNone; t = trackers_[t].hash_next) {
        const Tracker& tr = trackers_[t];
        if (tr.ip_id == pv.ip_id && tr.proto == pv.ip_proto && tr.vlan_id == pv.vlan_id && tr.src == pv.src &&
            tr.dst == pv.dst)
            return t;
    }
    return kNone;
}

void Ipv4Defrag::lru_unlink(uint32_t t) {
    Tracker& tr = trackers_[t];
    (tr.lru_prev == kNone ? lru_head_ : trackers_[tr.lru_prev].lru_next) = tr.lru_next;
    (tr.lru_next == kNone ? lru_tail_ : trackers_[tr.lru_next].lru_prev) = tr.lru_prev;
    tr.lru_prev = tr.lru_next = kNone;
}

void Ipv4Defrag::lru_push_back(uint32_t t) {
    Tracker& tr = trackers_[t];
    tr.lru_prev = lru_tail_;
    tr.lru_next = kNone;
    (lru_tail_ == kNone ? lru_head_ : trackers_[lru_tail_].lru_next) = t;
    lru_tail_ = t;
}

void Ipv4Defrag::release(uint32_t t) {
    Tracker& tr = trackers_[t];
    // Out of its hash chain.
    uint32_t* link = &buckets_[tr.bucket];
    while (*link != t) link = &trackers_[*link].hash_next;
    *link = tr.hash_next;
    lru_unlink(t);
    std::memset(owners(t), 0, blocks_per_tracker_ * sizeof(uint16_t));
    tr = Tracker{};
    tr.hash_next = free_head_;
    free_head_ = t;
    --in_use_;
}

uint32_t Ipv4Defrag::acquire(const PacketView& pv, uint32_t bucket, Nanos now) {
    // The least recently used trackers come first: reclaim those whose
    // datagram timed out (a couple per call keeps the work bounded).
    for (unsigned i = 0; i < 2 && lru_head_ != kNone && timed_out(trackers_[lru_head_], now); ++i) {
        ++counters_.timed_out;
        release(lru_head_);
    }
    if (free_head_ == kNone) {
        ++counters_.table_full;
        return kNone;
    }
    const uint32_t t = free_head_;
    Tracker& tr = trackers_[t];
    free_head_ = tr.hash_next;
    tr = Tracker{};
    tr.in_use = true;
    tr.src = pv.src;
    tr.dst = pv.dst;
    tr.ip_id = pv.ip_id;
    tr.vlan_id = pv.vlan_id;
    tr.proto = pv.ip_proto;
    tr.bucket = bucket;
    tr.hash_next = buckets_[bucket];
    buckets_[bucket] = t;
    lru_push_back(t);
    ++in_use_;
    return t;
}

std::span<const uint8_t> Ipv4Defrag::add(const uint8_t* frame, uint32_t len, const PacketView& pv, Nanos now) {
    ++counters_.fragments;
    if (pv.tunnel.depth != 0) {
        ++counters_.tunnelled;
        return {};
    }
    // The fragment's IP payload, as its header says and as captured.
    const uint32_t ip_at = pv.l3_offset;
    const uint32_t header_len = pv.l3_len;
    const uint32_t total_len = load_be16(frame + ip_at + 2);
    const bool more = frame[ip_at + 6] & kMoreFragments;
    const uint32_t data_at = ip_at + header_len;
    const uint32_t data_len = total_len > header_len ? total_len - header_len : 0;
    const uint32_t offset = pv.frag_offset;
    // l3_len stays 0 when the decoder stopped inside the IPv4 header (a bad
    // header length, a cut header): there is no header to rebuild from.
    if (header_len < kMinIpHeaderLen || data_len == 0 || data_at + data_len > len ||
        (more && data_len % kBlock != 0)) {
        ++counters_.invalid;
        return {};
    }
    if (offset + data_len > config_.max_payload || (offset == 0 && data_at > kHeadroom)) {
        ++counters_.too_large;
        return {};
    }

    const uint32_t bucket = bucket_of(pv);
    uint32_t t = find(pv, bucket);
    if (t != kNone && timed_out(trackers_[t], now)) {  // an old datagram with a reused id
        ++counters_.timed_out;
        release(t);
        t = kNone;
    }
    if (t == kNone) t = acquire(pv, bucket, now);
    if (t == kNone) return {};
    Tracker& tr = trackers_[t];
    tr.last_seen = now;
    lru_unlink(t);
    lru_push_back(t);

    const uint32_t end = offset + data_len;
    if (!more) {
        // A second, different end; or data already held past this end, which
        // would otherwise count towards completion and leave a hole unnoticed.
        if ((tr.have_last && tr.payload_len != end) || tr.data_end > end) {
            ++counters_.invalid;
            return {};
        }
        tr.have_last = true;
        tr.payload_len = end;
    } else if (tr.have_last && end > tr.payload_len) {
        ++counters_.invalid;  // data past the end the last fragment gave
        return {};
    }
    tr.data_end = std::max(tr.data_end, end);
    if (offset == 0) {
        // Keep the link header and IP header right in front of the payload.
        tr.have_first = true;
        tr.prefix_len = uint16_t(data_at);
        tr.ip_header_len = uint8_t(header_len);
        std::memcpy(buffer(t) + kHeadroom - data_at, frame, data_at);
    }

    // Copy block by block, under the "bsd" policy (see the header).
    uint8_t* payload = buffer(t) + kHeadroom;
    uint16_t* owner = owners(t);
    const uint16_t mine = uint16_t(offset / kBlock + 1);
    bool overlapped = false;
    for (uint32_t b = offset / kBlock; b * kBlock < end; ++b) {
        const uint32_t from = b * kBlock;
        const uint32_t n = std::min(kBlock, end - from);
        if (owner[b] == 0) {
            ++tr.blocks_covered;
        } else {
            overlapped = true;
            if (owner[b] <= mine) continue;  // the data there started at or before ours: it stays
        }
        owner[b] = mine;
        std::memcpy(payload + from, frame + data_at + (from - offset), n);
    }
    if (overlapped) ++counters_.overlaps;

    if (tr.have_first && tr.have_last && tr.blocks_covered == (tr.payload_len + kBlock - 1) / kBlock)
        return complete(t);
    return {};
}

std::span<const uint8_t> Ipv4Defrag::complete(uint32_t t) {
    Tracker& tr = trackers_[t];
    const uint32_t total_len = tr.ip_header_len + tr.payload_len;
    if (total_len > kMaxIpTotalLength) {
        ++counters_.invalid;
        release(t);
        return {};
    }
    uint8_t* packet = buffer(t) + kHeadroom - tr.prefix_len;
    uint8_t* ip = buffer(t) + kHeadroom - tr.ip_header_len;
    store_be16(ip + 2, uint16_t(total_len));
    store_be16(ip + 6, load_be16(ip + 6) & kDontFragment);  // no MF, offset 0
    store_be16(ip + 10, 0);
    store_be16(ip + 10, ipv4_checksum(ip, tr.ip_header_len));
    const uint32_t packet_len = tr.prefix_len + tr.payload_len;
    ++counters_.reassembled;
    // The bytes stay in the buffer until the tracker is taken again, which
    // is not before the next add().
    release(t);
    return {packet, packet_len};
}

} // namespace sg
