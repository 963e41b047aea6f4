#include "flow/flow_table.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

namespace sg {

namespace {

// rte_hash refuses tables with fewer entries than one bucket holds
// (RTE_HASH_BUCKET_ENTRIES, private to DPDK). Smaller capacities still get
// an 8-entry hash; capacity_ alone bounds the live flows.
constexpr uint32_t kMinHashEntries = 8;
// Hash entries per live flow. At 100 % load every insert into a full table
// (a flood, a scan, more flows than slots) runs rte_hash's breadth-first
// cuckoo search for a free slot before it falls back to the extendable
// buckets: about 1 us per new flow. At 50 % load at most, inserts find a
// free slot in one of their two buckets almost always.
constexpr uint32_t kHashHeadroom = 2;
// rte_hash names its rings "HT_<name>" and "HT_EXT_<name>"; ring names hold
// 28 characters, so longer names would be truncated and could collide.
constexpr size_t kMaxNameLength = 21;
constexpr uint32_t kHashSeed = 0x5afe6a4d;

// CRC32-C exactly as rte_hash_crc() computes it, but loading the words with
// memcpy: a FlowKey is only 4-byte aligned and rte_hash_crc's 8-byte casts
// are undefined behaviour there (UBSan says so). Both the rte_hash and
// flow_hash() use this one function, so a hash passed to track() is always
// the one the table would compute itself.
uint32_t crc_hash(const void* data, uint32_t len, uint32_t init) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        init = rte_hash_crc_8byte(w, init);
    }
    if (len & 4) {
        uint32_t w;
        std::memcpy(&w, p, 4);
        init = rte_hash_crc_4byte(w, init);
        p += 4;
    }
    if (len & 2) {
        uint16_t w;
        std::memcpy(&w, p, 2);
        init = rte_hash_crc_2byte(w, init);
        p += 2;
    }
    if (len & 1) init = rte_hash_crc_1byte(*p, init);
    return init;
}

} // namespace

const char* tcp_state_name(TcpState s) {
    switch (s) {
    case TcpState::none: return "none";
    case TcpState::syn_sent: return "syn_sent";
    case TcpState::syn_received: return "syn_received";
    case TcpState::established: return "established";
    case TcpState::closing: return "closing";
    case TcpState::closed: return "closed";
    case TcpState::reset: return "reset";
    }
    return "unknown";
}

uint32_t FlowTable::flow_hash(const FlowKey& key) { return crc_hash(&key, sizeof key, kHashSeed); }

Result<std::unique_ptr<FlowTable>> FlowTable::create(const FlowTableConfig& cfg, FlowEndFn on_end,
                                                     void* ctx) {
    const std::string name = cfg.name ? cfg.name : "";
    const std::string what = "flow table '" + name + "': ";
    if (name.empty()) return make_error("flow table: a name is required (rte_hash names are global)");
    if (name.size() > kMaxNameLength)
        return make_error(what + "name is longer than " + std::to_string(kMaxNameLength) +
                          " characters");
    if (cfg.capacity == 0) return make_error(what + "capacity must be at least 1 flow, got 0");
    if (cfg.capacity > uint32_t(RTE_HASH_ENTRIES_MAX))
        return make_error(what + "capacity " + std::to_string(cfg.capacity) + " is above the maximum " +
                          std::to_string(RTE_HASH_ENTRIES_MAX));
    if (rte_hash_find_existing(name.c_str()) != nullptr)
        return make_error(what + "name already in use in this process (one name per worker)");

    std::unique_ptr<FlowTable> t(new FlowTable());
    t->cfg_ = cfg;
    t->cfg_.name = nullptr; // the caller's string need not outlive create()
    t->capacity_ = cfg.capacity;
    t->hash_entries_ = std::max(uint32_t(std::min<uint64_t>(uint64_t(cfg.capacity) * kHashHeadroom,
                                                            RTE_HASH_ENTRIES_MAX)),
                                kMinHashEntries);
    t->on_end_ = on_end;
    t->on_end_ctx_ = ctx;

    // ENOSPC policy: plain cuckoo hashing can refuse a key well before
    // `entries` keys are stored (both candidate buckets full and no
    // displacement path), which would make the table's real capacity depend
    // on the traffic's hash values and force an evict-and-retry loop with no
    // guarantee of success. RTE_HASH_EXTRA_FLAGS_EXT_TABLE preallocates as
    // many overflow buckets as main buckets, so every one of the `entries`
    // key slots can be used: an add with fewer than `entries` live keys never
    // fails (and live keys are at most `entries` / kHashHeadroom). Chains only
    // form on collisions; rte_hash takes no lock without the multi-writer /
    // rw-concurrency flags (single writer: the worker). rte_hash rounds the
    // bucket count up to a power of two itself.
    rte_hash_parameters params{};
    params.name = name.c_str();
    params.entries = t->hash_entries_;
    params.key_len = sizeof(FlowKey);
    params.hash_func = crc_hash;
    params.hash_func_init_val = kHashSeed;
    params.socket_id = cfg.socket_id;
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    t->hash_ = rte_hash_create(&params);
    if (t->hash_ == nullptr)
        return make_error(what + "rte_hash_create(" + std::to_string(t->hash_entries_) +
                          " entries) failed: " + rte_strerror(rte_errno) +
                          " (is EAL initialised with enough memory?)");

    // One Flow per live flow; the rte_hash stores each key's slot as its
    // data, and free slots wait on a stack (lowest slot on top).
    const size_t bytes = size_t(t->capacity_) * sizeof(Flow);
    void* mem = rte_zmalloc_socket("sg_flow_table", bytes, RTE_CACHE_LINE_SIZE, cfg.socket_id);
    if (mem == nullptr)
        return make_error(what + "cannot allocate " + std::to_string(bytes) + " bytes for " +
                          std::to_string(t->capacity_) + " flows on socket " +
                          std::to_string(cfg.socket_id));
    t->flows_ = static_cast<Flow*>(mem);
    for (uint32_t i = 0; i < t->capacity_; ++i) new (&t->flows_[i]) Flow{};
    const size_t free_bytes = size_t(t->capacity_) * sizeof(uint32_t);
    t->free_ = static_cast<uint32_t*>(rte_malloc_socket("sg_flow_free", free_bytes, 0, cfg.socket_id));
    if (t->free_ == nullptr)
        return make_error(what + "cannot allocate " + std::to_string(free_bytes) + " bytes for the free list");
    for (uint32_t i = 0; i < t->capacity_; ++i) t->free_[i] = t->capacity_ - 1 - i;
    t->free_count_ = t->capacity_;
    return t;
}

FlowTable::~FlowTable() {
    rte_hash_free(hash_); // accepts nullptr
    rte_free(flows_);     // Flow is trivially destructible
    rte_free(free_);
}

Nanos FlowTable::idle_limit(const Flow& f) const {
    switch (f.key.proto) {
    case kProtoTcp: return f.tcp_state == TcpState::established ? cfg_.tcp_idle : cfg_.tcp_closed_idle;
    case kProtoUdp: return cfg_.udp_idle;
    default: return cfg_.other_idle;
    }
}

// `now` may be older than last_seen (out-of-order timestamps across
// queues): such a flow is simply not idle.
bool FlowTable::idle_at(const Flow& f, Nanos now) const {
    return now > f.last_seen && now - f.last_seen > idle_limit(f);
}

uint8_t FlowTable::lru_class(const Flow& f) {
    switch (f.key.proto) {
    case kProtoTcp: return f.tcp_state == TcpState::established ? kTcpOpen : kTcpShort;
    case kProtoUdp: return kUdp;
    default: return kOther;
    }
}

void FlowTable::lru_unlink(Flow& f) {
    LruList& l = lru_[f.lru_list];
    if (f.lru_prev != kNone) flows_[f.lru_prev].lru_next = f.lru_next;
    else l.head = f.lru_next;
    if (f.lru_next != kNone) flows_[f.lru_next].lru_prev = f.lru_prev;
    else l.tail = f.lru_prev;
    f.lru_prev = f.lru_next = kNone;
}

void FlowTable::lru_push_back(Flow& f) {
    f.lru_list = lru_class(f);
    LruList& l = lru_[f.lru_list];
    f.lru_prev = l.tail;
    f.lru_next = kNone;
    if (l.tail != kNone) flows_[l.tail].lru_next = f.index;
    else l.head = f.index;
    l.tail = f.index;
}

// The least recently seen flow among the list heads (each list's head is its
// oldest entry), optionally only among those already idle at `now`.
uint32_t FlowTable::oldest_head(Nanos now, bool only_idle) const {
    uint32_t best = kNone;
    for (const LruList& l : lru_) {
        if (l.head == kNone) continue;
        const Flow& f = flows_[l.head];
        if (only_idle && !idle_at(f, now)) continue;
        if (best == kNone || f.last_seen < flows_[best].last_seen) best = l.head;
    }
    return best;
}

void FlowTable::count_end(const Flow& f, FlowEnd why) {
    switch (why) {
    case FlowEnd::idle_timeout: ++counters_.expired; break;
    case FlowEnd::evicted: ++counters_.evicted; break;
    case FlowEnd::reused: ++counters_.reused; break;
    case FlowEnd::flushed: break;
    }
    if (on_end_ != nullptr) on_end_(on_end_ctx_, f, why);
}

void FlowTable::end_flow(Flow& f, FlowEnd why) {
    count_end(f, why);
    rte_hash_del_key_with_hash(hash_, &f.key, flow_hash(f.key));
    free_[free_count_++] = f.index;
    --counters_.active;
}

// Table full: end the least recently seen flow. If a list head is already
// past its timeout it goes first and counts as expired, so the outcome does
// not depend on when expire() last ran.
void FlowTable::make_room(Nanos now) {
    uint32_t victim = oldest_head(now, true);
    FlowEnd why = FlowEnd::idle_timeout;
    if (victim == kNone) {
        victim = oldest_head(now, false);
        why = FlowEnd::evicted;
    }
    if (victim == kNone) return; // cannot happen with active > 0
    Flow& f = flows_[victim];
    lru_unlink(f);
    end_flow(f, why);
}

void FlowTable::init_flow(Flow& f, const FlowKey& key, uint32_t index, bool from_a,
                          const PacketView& pv, Nanos now) {
    f = Flow{};
    f.key = key;
    f.index = index;
    f.lru_prev = f.lru_next = kNone;
    f.id = next_id_++;
    f.first_seen = now;
    f.last_seen = now;
    f.initiator_is_a = from_a;
    if (key.proto == kProtoTcp) {
        const uint8_t syn_ack = pv.tcp_flags & (kTcpSyn | kTcpAck);
        if (pv.has_l4 && syn_ack == kTcpSyn) {
            f.tcp_state = TcpState::syn_sent;
        } else if (pv.has_l4 && syn_ack == (kTcpSyn | kTcpAck)) {
            // The SYN went unseen: the receiver of this SYN-ACK initiated.
            f.initiator_is_a = !from_a;
            f.tcp_state = TcpState::syn_received;
        } else {
            f.tcp_state = TcpState::established;
            f.midstream = true;
        }
    }
}

// Ends the flow in place and starts a new one on the same key and slot: no
// rte_hash update needed. The flow is unlinked from its list already.
void FlowTable::restart_flow(Flow& f, bool from_a, const PacketView& pv, Nanos now, FlowEnd why) {
    count_end(f, why);
    const FlowKey key = f.key;
    init_flow(f, key, f.index, from_a, pv, now);
    ++counters_.created;
}

namespace {

void update_tcp_state(Flow& f, uint8_t flags, unsigned dir) {
    if (f.tcp_state == TcpState::reset) return; // final until the port is reused
    if (flags & kTcpRst) {
        f.tcp_state = TcpState::reset;
        return;
    }
    const bool syn = flags & kTcpSyn;
    const bool ack = flags & kTcpAck;
    if (syn && ack && dir == 1 && f.tcp_state == TcpState::syn_sent) {
        f.tcp_state = TcpState::syn_received;
    } else if (!syn && ack && dir == 0 &&
               (f.tcp_state == TcpState::syn_received || f.tcp_state == TcpState::syn_sent)) {
        // From syn_sent too: with asymmetric routing the tap may see only the
        // client side, and the client ACKing means the handshake completed.
        f.tcp_state = TcpState::established;
        if (!f.established_at) f.established_at = f.packets[0] + f.packets[1];
    }
    if (flags & kTcpFin) {
        const bool both = (f.tcp_flags_seen[0] & kTcpFin) && (f.tcp_flags_seen[1] & kTcpFin);
        f.tcp_state = both ? TcpState::closed : TcpState::closing;
    }
}

} // namespace

Flow& FlowTable::track(const FlowKey& key, uint32_t hash, bool from_a, const PacketView& pv,
                       uint32_t frame_len, Nanos now, unsigned& dir, bool& created) {
    const bool tcp = key.proto == kProtoTcp && pv.has_l4;
    const uint8_t flags = tcp ? pv.tcp_flags : 0;
    Flow* f = nullptr;
    created = false;

    void* data = nullptr;
    if (rte_hash_lookup_with_hash_data(hash_, &key, hash, &data) >= 0) {
        f = &flows_[reinterpret_cast<uintptr_t>(data)];
        lru_unlink(*f);
        if (idle_at(*f, now)) {
            restart_flow(*f, from_a, pv, now, FlowEnd::idle_timeout);
            created = true;
        } else if (tcp && (flags & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn &&
                   (f->tcp_state == TcpState::closed || f->tcp_state == TcpState::reset)) {
            restart_flow(*f, from_a, pv, now, FlowEnd::reused);
            created = true;
        }
    } else {
        if (counters_.active >= capacity_) make_room(now);
        // After make_room() a slot is free (active < capacity_).
        const uint32_t pos = free_count_ > 0 ? free_[free_count_ - 1] : kNone;
        created = true;
        if (pos == kNone ||
            rte_hash_add_key_with_hash_data(hash_, &key, hash, reinterpret_cast<void*>(uintptr_t(pos))) != 0)
            [[unlikely]] {
            // Unreachable with EXT_TABLE and active < entries (see create()).
            // Count it and account the packet in a scratch flow that is
            // never linked or ended, rather than crash the worker.
            ++counters_.insert_failed;
            f = &overflow_;
            init_flow(*f, key, kNone, from_a, pv, now);
        } else {
            --free_count_;
            f = &flows_[pos];
            init_flow(*f, key, pos, from_a, pv, now);
            ++counters_.created;
            ++counters_.active;
        }
    }

    dir = from_a == f->initiator_is_a ? 0 : 1;
    f->packets[dir] += 1;
    f->bytes[dir] += frame_len;
    f->payload_bytes[dir] += pv.payload_len;
    f->last_seen = std::max(f->last_seen, now);
    if (tcp) {
        f->tcp_flags_seen[dir] |= flags;
        update_tcp_state(*f, flags, dir);
    }
    if (f != &overflow_) lru_push_back(*f);
    return *f;
}

unsigned FlowTable::expire(Nanos now, unsigned budget) {
    unsigned ended = 0;
    while (ended < budget) {
        const uint32_t victim = oldest_head(now, true);
        if (victim == kNone) break;
        Flow& f = flows_[victim];
        lru_unlink(f);
        end_flow(f, FlowEnd::idle_timeout);
        ++ended;
    }
    return ended;
}

void FlowTable::flush() {
    for (LruList& l : lru_) {
        while (l.head != kNone) {
            Flow& f = flows_[l.head];
            lru_unlink(f);
            end_flow(f, FlowEnd::flushed);
        }
    }
}

} // namespace sg
