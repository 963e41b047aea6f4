#include "fleet/window_codec.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace sg::fleet {

namespace {

constexpr char kMagic[4] = {'S', 'G', 'W', 'S'};
constexpr uint64_t kMaxDeploymentId = 0xffff;

// Sparse HyperLogLog registers travel as (index << 6 | value) in 16 bits.
constexpr unsigned kRankBits = 6;
template <unsigned P> constexpr unsigned kMaxRank = 65 - P;  // Hll<P>::add()'s largest register value
template <unsigned P> constexpr bool kSparseFits = P + kRankBits <= 16 && kMaxRank<P> < (1u << kRankBits);

size_t varint_size(uint64_t v) {
    size_t n = 1;
    for (; v >= 0x80; v >>= 7) ++n;
    return n;
}

bool reflection_used(const ReflectionCounters& c) {
    for (const PacketBytes* p : {&c.requests_in, &c.responses_out, &c.responses_in, &c.requests_out})
        if (p->packets || p->bytes) return true;
    return false;
}

// ---------------------------------------------------------------------------
// Writing

class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}

    void u8(uint8_t v) { out_.push_back(char(v)); }
    void u16(uint16_t v) {
        u8(uint8_t(v));
        u8(uint8_t(v >> 8));
    }
    void varint(uint64_t v) {
        for (; v >= 0x80; v >>= 7) u8(uint8_t(v | 0x80));
        u8(uint8_t(v));
    }
    void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }

    // An entry's flags byte goes first but its bits are known only as the
    // fields that choose a form are written: reserve it, fill it at the end.
    void begin_flags() {
        flags_at_ = out_.size();
        flags_ = 0;
        next_flag_ = 0;
        u8(0);
    }
    void end_flags() { out_[flags_at_] = char(flags_); }

    void address(const IpAddress& a) {
        const bool v4 = a.is_v4();
        flag(v4);
        if (v4) bytes(&a.bytes[12], 4);
        else bytes(a.bytes.data(), a.bytes.size());
    }

    template <unsigned P> void hll(const Hll<P>& h) {
        static_assert(kSparseFits<P>);
        const auto& regs = h.registers();
        const size_t used = size_t(std::count_if(regs.begin(), regs.end(), [](uint8_t r) { return r != 0; }));
        const bool dense = varint_size(used) + 2 * used >= regs.size();
        flag(dense);
        if (dense) {
            bytes(regs.data(), regs.size());
            return;
        }
        varint(used);
        for (size_t i = 0; i < regs.size(); ++i)
            if (regs[i]) u16(uint16_t(i << kRankBits | regs[i]));
    }

private:
    void flag(bool set) {
        if (set) flags_ |= uint8_t(1u << next_flag_);
        ++next_flag_;
    }

    std::string& out_;
    size_t flags_at_ = 0;
    uint8_t flags_ = 0;
    unsigned next_flag_ = 0;
};

void write(Writer& w, const TrafficCounters& c) {
    for (uint64_t v : {c.packets, c.bytes, c.syn, c.synack, c.rst, c.udp, c.icmp, c.fragments}) w.varint(v);
}
void write(Writer& w, const PacketBytes& p) {
    w.varint(p.packets);
    w.varint(p.bytes);
}

void write(Writer& w, const HostStats& h) {
    w.begin_flags();
    w.address(h.ip);
    w.varint(h.deployment);
    write(w, h.in);
    write(w, h.out);
    w.hll(h.peers_in);
    w.hll(h.ports_in);
    w.hll(h.peers_out);
    w.hll(h.ports_out);
    uint64_t mask = 0;
    for (unsigned s = 0; s < kReflectionServices; ++s)
        if (reflection_used(h.reflection[s])) mask |= uint64_t(1) << s;
    w.varint(mask);
    for (unsigned s = 0; s < kReflectionServices; ++s) {
        if (!(mask >> s & 1)) continue;
        const ReflectionCounters& r = h.reflection[s];
        write(w, r.requests_in);
        write(w, r.responses_out);
        write(w, r.responses_in);
        write(w, r.requests_out);
    }
    w.end_flags();
}

void write(Writer& w, const AddressKey& k) { w.address(k.ip); }
void write(Writer& w, const PairKey& k) {
    w.address(k.src);
    w.address(k.dst);
}
void write(Writer& w, const ServiceKey& k) {
    w.address(k.src);
    w.address(k.dst);
    w.u16(k.port);
}
void write(Writer& w, const SweepKey& k) {
    w.address(k.src);
    w.u16(k.port);
    w.varint(k.target_deployment);
    w.u8(k.proto);
}

void write(Writer& w, const TargetStats& t) {
    write(w, t.in);
    w.varint(t.synack_out);
    w.hll(t.sources);
}
void write(Writer&, const NoPayload&) {}
void write(Writer& w, const ServiceStats& s) {
    for (uint64_t v : {s.attempts, s.established, s.failed, s.ended}) w.varint(v);
}
void write(Writer& w, const ScanStats& s) {
    for (uint64_t v : {s.probes, s.answered, s.established}) w.varint(v);
    w.hll(s.ports);
}
void write(Writer& w, const SweepStats& s) {
    for (uint64_t v : {s.probes, s.answered, s.established}) w.varint(v);
    w.hll(s.targets);
}

template <class Key, class Value, unsigned K>
void write(Writer& w, const SpaceSaving<Key, Value, K>& table) {
    w.varint(table.total());
    w.varint(table.size());
    table.for_each([&](const auto& e) {
        w.begin_flags();
        write(w, e.key);
        w.varint(e.count);
        w.varint(e.error);
        write(w, e.value);
        w.end_flags();
    });
}

// ---------------------------------------------------------------------------
// Reading. Every read checks the bytes left before it copies; a failed
// read or check returns false and keeps the first failure's message (its
// offset and the part being read), so callers chain reads with && and stop
// at the first false.

class Reader {
public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    size_t offset() const { return at_; }

    // The part of the message read next, named in error messages.
    void enter(const char* part) {
        part_ = part;
        entry_ = -1;
    }
    void enter_entry(const char* part, uint64_t entry) {
        part_ = part;
        entry_ = int64_t(entry);
    }

    bool fail(size_t at, std::string_view what) {
        if (message_.empty()) {
            message_ = entry_ < 0 ? fmt::format("byte {} ({}): {}", at, part_, what)
                                  : fmt::format("byte {} ({} entry {}): {}", at, part_, entry_, what);
        }
        return false;
    }
    const std::string& message() const { return message_; }

    bool bytes(void* p, size_t n, const char* what) {
        if (bytes_.size() - at_ < n) return truncated(what);
        std::memcpy(p, bytes_.data() + at_, n);
        at_ += n;
        return true;
    }
    bool u8(uint8_t& v, const char* what) { return bytes(&v, 1, what); }
    bool u16(uint16_t& v, const char* what) {
        uint8_t b[2] = {};
        if (!bytes(b, 2, what)) return false;
        v = uint16_t(b[0] | b[1] << 8);
        return true;
    }

    bool varint(uint64_t& v, const char* what) {
        const size_t start = at_;
        v = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (at_ == bytes_.size()) return truncated(what);
            const auto b = uint8_t(bytes_[at_++]);
            // The tenth byte holds bit 63 only.
            if (shift == 63 && b > 1) return fail(start, fmt::format("{}: a varint over 64 bits", what));
            v |= uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return true;
        }
    }
    // A varint that must be at most `max`.
    bool varint(uint64_t& v, uint64_t max, const char* what) {
        const size_t start = at_;
        if (!varint(v, what)) return false;
        if (v > max) return fail(start, fmt::format("{} is {}, more than {}", what, v, max));
        return true;
    }
    bool deployment(DeploymentId& d, const char* what) {
        uint64_t v;
        if (!varint(v, kMaxDeploymentId, what)) return false;
        d = DeploymentId(v);
        return true;
    }

    // The flags byte of an entry, handed out bit by bit to the fields that
    // read it; end_flags() refuses bits no field took.
    bool begin_flags() {
        flags_at_ = at_;
        next_flag_ = 0;
        return u8(flags_, "the flags");
    }
    bool end_flags() {
        if (flags_ >> next_flag_)
            return fail(flags_at_, fmt::format("unknown flag bits in 0x{:02x}", unsigned(flags_)));
        return true;
    }

    bool address(IpAddress& a, const char* what) {
        if (!next_flag()) return bytes(a.bytes.data(), a.bytes.size(), what);
        uint8_t v4[4] = {};
        if (!bytes(v4, 4, what)) return false;
        a = IpAddress::from_v4(v4);
        return true;
    }

    // Registers go in through Hll::add() with a hash made to land on the
    // register with the value wanted, so a decoded Hll is one add() made.
    template <unsigned P> bool hll(Hll<P>& h, const char* what) {
        static_assert(kSparseFits<P>);
        if (next_flag()) {
            uint8_t regs[Hll<P>::kRegisters] = {};
            const size_t start = at_;
            if (!bytes(regs, sizeof regs, what)) return false;
            for (unsigned i = 0; i < Hll<P>::kRegisters; ++i) {
                if (regs[i] > kMaxRank<P>) return bad_register<P>(start + i, what, regs[i]);
                if (regs[i]) h.add(hll_hash<P>(i, regs[i]));
            }
            return true;
        }
        uint64_t n;
        if (!varint(n, Hll<P>::kRegisters, what)) return false;
        int64_t previous = -1;
        for (uint64_t k = 0; k < n; ++k) {
            const size_t start = at_;
            uint16_t pair;
            if (!u16(pair, what)) return false;
            const unsigned index = pair >> kRankBits, value = pair & ((1u << kRankBits) - 1);
            if (index >= Hll<P>::kRegisters)
                return fail(start, fmt::format("{}: register {} of {}", what, index, Hll<P>::kRegisters));
            if (int64_t(index) <= previous) return fail(start, fmt::format("{}: registers out of order", what));
            if (value == 0 || value > kMaxRank<P>) return bad_register<P>(start, what, value);
            h.add(hll_hash<P>(index, value));
            previous = index;
        }
        return true;
    }

    // The end of the message must be the end of the summary.
    bool finish() {
        enter("end");
        const size_t left = bytes_.size() - at_;
        if (left) return fail(at_, fmt::format("{} more byte{} after the summary", left, left == 1 ? "" : "s"));
        return true;
    }

private:
    bool next_flag() { return flags_ >> next_flag_++ & 1; }

    bool truncated(const char* what) { return fail(at_, fmt::format("truncated in {}", what)); }

    template <unsigned P> bool bad_register(size_t at, const char* what, unsigned value) {
        return fail(at, fmt::format("{}: register value {} out of 1..{}", what, value, kMaxRank<P>));
    }

    // A hash that Hll<P>::add() files under register `index` with `value`:
    // the top P bits choose the register; the value is one more than the
    // zero bits that follow them, so a single 1-bit value - 1 places after
    // them gives it, and no 1-bit at all the largest (65 - P).
    template <unsigned P> static uint64_t hll_hash(unsigned index, unsigned value) {
        const uint64_t top = uint64_t(index) << (64 - P);
        return value < kMaxRank<P> ? top | uint64_t(1) << (64 - P - value) : top;
    }

    std::string_view bytes_;
    size_t at_ = 0;
    const char* part_ = "header";
    int64_t entry_ = -1;
    std::string message_;
    size_t flags_at_ = 0;
    uint8_t flags_ = 0;
    unsigned next_flag_ = 0;
};

bool read(Reader& r, TrafficCounters& c) {
    for (uint64_t* v : {&c.packets, &c.bytes, &c.syn, &c.synack, &c.rst, &c.udp, &c.icmp, &c.fragments})
        if (!r.varint(*v, "a traffic counter")) return false;
    return true;
}
bool read(Reader& r, PacketBytes& p) {
    return r.varint(p.packets, "a reflection counter") && r.varint(p.bytes, "a reflection counter");
}

bool read_reflection(Reader& r, HostStats& h) {
    const size_t start = r.offset();
    uint64_t mask;
    if (!r.varint(mask, "the reflection mask")) return false;
    if (mask >> kReflectionServices)
        return r.fail(start, fmt::format("reflection mask 0x{:x} names services past the {} known", mask,
                                         kReflectionServices));
    for (unsigned s = 0; s < kReflectionServices; ++s) {
        if (!(mask >> s & 1)) continue;
        ReflectionCounters& c = h.reflection[s];
        if (!read(r, c.requests_in) || !read(r, c.responses_out) || !read(r, c.responses_in) ||
            !read(r, c.requests_out))
            return false;
    }
    return true;
}

bool read(Reader& r, HostTable& hosts) {
    r.enter("hosts");
    uint64_t overflow, n;
    if (!r.varint(overflow, "the overflow") || !r.varint(n, HostTable::kMaxHosts, "the number of hosts"))
        return false;
    for (uint64_t i = 0; i < n; ++i) {
        r.enter_entry("hosts", i);
        const size_t start = r.offset();
        IpAddress ip;
        DeploymentId deployment;
        if (!r.begin_flags() || !r.address(ip, "the address") || !r.deployment(deployment, "the deployment"))
            return false;
        const uint32_t before = hosts.size();
        // Not full (n <= kMaxHosts): get() creates the entry unless it exists.
        HostStats* h = hosts.get(ip, summary_hash(ip), deployment);
        if (!h || hosts.size() == before) return r.fail(start, fmt::format("host {} listed twice", ip.to_string()));
        if (!read(r, h->in) || !read(r, h->out) || !r.hll(h->peers_in, "peers_in") ||
            !r.hll(h->ports_in, "ports_in") || !r.hll(h->peers_out, "peers_out") ||
            !r.hll(h->ports_out, "ports_out") || !read_reflection(r, *h) || !r.end_flags())
            return false;
    }
    hosts.restore_overflow(overflow);
    return true;
}

bool read(Reader& r, AddressKey& k) { return r.address(k.ip, "the address"); }
bool read(Reader& r, PairKey& k) {
    return r.address(k.src, "the source address") && r.address(k.dst, "the destination address");
}
bool read(Reader& r, ServiceKey& k) {
    return r.address(k.src, "the source address") && r.address(k.dst, "the destination address") &&
           r.u16(k.port, "the port");
}
bool read(Reader& r, SweepKey& k) {
    return r.address(k.src, "the source address") && r.u16(k.port, "the port") &&
           r.deployment(k.target_deployment, "the target deployment") && r.u8(k.proto, "the protocol");
}

bool read(Reader& r, TargetStats& t) {
    return read(r, t.in) && r.varint(t.synack_out, "synack_out") && r.hll(t.sources, "sources");
}
bool read(Reader&, NoPayload&) { return true; }
bool read(Reader& r, ServiceStats& s) {
    for (uint64_t* v : {&s.attempts, &s.established, &s.failed, &s.ended})
        if (!r.varint(*v, "a service counter")) return false;
    return true;
}
bool read(Reader& r, ScanStats& s) {
    for (uint64_t* v : {&s.probes, &s.answered, &s.established})
        if (!r.varint(*v, "a scan counter")) return false;
    return r.hll(s.ports, "ports");
}
bool read(Reader& r, SweepStats& s) {
    for (uint64_t* v : {&s.probes, &s.answered, &s.established})
        if (!r.varint(*v, "a sweep counter")) return false;
    return r.hll(s.targets, "targets");
}

// Besides the format, what space-saving guarantees and merge() relies on:
// error <= count, and the kept counts add up to at most the total.
template <class Key, class Value, unsigned K>
bool read(Reader& r, const char* name, SpaceSaving<Key, Value, K>& table) {
    r.enter(name);
    uint64_t total, n;
    if (!r.varint(total, "the total") || !r.varint(n, K, "the number of entries")) return false;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; ++i) {
        r.enter_entry(name, i);
        const size_t start = r.offset();
        Key key{};      // padding fields stay zero
        Value value{};
        uint64_t count, error;
        if (!r.begin_flags() || !read(r, key) || !r.varint(count, "the count") || !r.varint(error, "the error") ||
            !read(r, value) || !r.end_flags())
            return false;
        if (error > count) return r.fail(start, fmt::format("error {} above count {}", error, count));
        if (__builtin_add_overflow(sum, count, &sum) || sum > total)
            return r.fail(start, fmt::format("the counts add up to more than the total {}", total));
        if (!table.restore(key, summary_hash(key), count, error, value))
            return r.fail(start, "the key is listed twice");
    }
    table.restore_total(total);
    return true;
}

bool read(Reader& r, WindowSummary& w) {
    char magic[sizeof kMagic] = {};
    if (!r.bytes(magic, sizeof magic, "the magic")) return false;
    if (std::memcmp(magic, kMagic, sizeof magic) != 0) return r.fail(0, "not a window summary (no SGWS magic)");
    uint16_t version;
    if (!r.u16(version, "the version")) return false;
    if (version != kWindowCodecVersion)
        return r.fail(sizeof kMagic, fmt::format("version {}; this build reads version {}", version,
                                                 kWindowCodecVersion));
    r.enter("window");
    uint64_t workers;
    if (!r.varint(w.index, "index") || !r.varint(w.next_index, "next_index") ||
        !r.varint(workers, UINT32_MAX, "workers") || !r.varint(w.packets, "packets") ||
        !r.varint(w.transit_packets, "transit_packets") || !r.varint(w.first_packet, "first_packet") ||
        !r.varint(w.last_packet, "last_packet"))
        return false;
    w.workers = uint32_t(workers);
    return read(r, w.hosts) && read(r, "targets", w.targets) && read(r, "pairs", w.pairs) &&
           read(r, "services", w.services) && read(r, "scans", w.scans) && read(r, "sweeps", w.sweeps) &&
           r.finish();
}

} // namespace

void encode_window(const WindowSummary& w, std::string& out) {
    Writer wr(out);
    wr.bytes(kMagic, sizeof kMagic);
    wr.u16(kWindowCodecVersion);
    for (uint64_t v : {w.index, w.next_index, uint64_t(w.workers), w.packets, w.transit_packets,
                       uint64_t(w.first_packet), uint64_t(w.last_packet)})
        wr.varint(v);
    wr.varint(w.hosts.overflow());
    wr.varint(w.hosts.size());
    w.hosts.for_each_from_free([&](const HostStats& h) { write(wr, h); });
    write(wr, w.targets);
    write(wr, w.pairs);
    write(wr, w.services);
    write(wr, w.scans);
    write(wr, w.sweeps);
}

Result<> decode_window(std::string_view bytes, WindowSummary& out) {
    out.clear();
    Reader r(bytes);
    if (!read(r, out)) {
        out.clear();
        return make_error(r.message());
    }
    return {};
}

} // namespace sg::fleet
