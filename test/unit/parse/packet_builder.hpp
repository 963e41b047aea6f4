#pragma once
// Crafts frames byte by byte for the decoder tests. Each helper returns its
// header followed by the payload it is given, so a frame reads outside-in:
//   ethernet(0x0800) + ipv4("10.0.0.1", "10.0.0.2", kProtoTcp, tcp(1234, 80, kTcpSyn, {}))
// Checksums stay zero: the decoder does not check them.

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ip_address.hpp"
#include "parse/decode.hpp"

#include <catch2/catch.hpp>

namespace sg::test {

using Bytes = std::vector<uint8_t>;

inline Bytes operator+(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

inline void put16(Bytes& b, uint32_t v) {
    b.push_back(uint8_t(v >> 8));
    b.push_back(uint8_t(v));
}
inline void put32(Bytes& b, uint32_t v) {
    put16(b, v >> 16);
    put16(b, v);
}

inline IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

inline void put_address(Bytes& b, const char* text) {
    const IpAddress a = ip(text);
    const auto first = a.is_v4() ? a.bytes.begin() + 12 : a.bytes.begin();
    b.insert(b.end(), first, a.bytes.end());
}

inline Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline Bytes zeros(size_t n) { return Bytes(n, 0); }

// ---- Link -----------------------------------------------------------------------

struct VlanTag {
    uint16_t tpid;
    uint16_t id;
};

inline Bytes ethernet(uint16_t ether_type, std::vector<VlanTag> tags = {}) {
    Bytes b = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
    for (const VlanTag& t : tags) {
        put16(b, t.tpid);
        put16(b, 0x2000 | t.id);  // priority 1: the decoder must mask it off
    }
    put16(b, ether_type);
    return b;
}

inline Bytes arp_request(const char* sender, const char* target) {
    Bytes b;
    put16(b, 1);       // Ethernet
    put16(b, 0x0800);  // IPv4
    b.push_back(6);
    b.push_back(4);
    put16(b, 1);       // request
    b = b + Bytes{0x02, 0, 0, 0, 0, 0x01};
    put_address(b, sender);
    b = b + zeros(6);
    put_address(b, target);
    return b;
}

// ---- Network --------------------------------------------------------------------

struct Ipv4Fields {
    Bytes options = {};                         // a multiple of 4 bytes
    uint16_t flags_offset = 0;                  // as on the wire: MF 0x2000, offset in 8-byte units
    uint8_t ttl = 64;
    uint8_t tos = 0;
    uint16_t id = 0x1234;
    std::optional<uint16_t> total_length = {};  // default: header + payload
    std::optional<uint8_t> version_ihl = {};    // default: 4 and the real header length
};

inline Bytes ipv4(const char* src, const char* dst, uint8_t proto, const Bytes& payload,
                  const Ipv4Fields& f = {}) {
    const size_t header_len = 20 + f.options.size();
    Bytes b;
    b.push_back(f.version_ihl.value_or(uint8_t(0x40 | header_len / 4)));
    b.push_back(f.tos);
    put16(b, f.total_length.value_or(uint16_t(header_len + payload.size())));
    put16(b, f.id);
    put16(b, f.flags_offset);
    b.push_back(f.ttl);
    b.push_back(proto);
    put16(b, 0);
    put_address(b, src);
    put_address(b, dst);
    return b + f.options + payload;
}

inline Bytes ipv6(const char* src, const char* dst, uint8_t next, const Bytes& payload,
                  uint8_t hop_limit = 64) {
    Bytes b = {0x6A, 0xB0, 0, 0};  // traffic class 0xAB
    put16(b, uint16_t(payload.size()));
    b.push_back(next);
    b.push_back(hop_limit);
    put_address(b, src);
    put_address(b, dst);
    return b + payload;
}

// Hop-by-hop, routing or destination options: `len` bytes, a multiple of 8.
inline Bytes ipv6_extension(uint8_t next, size_t len, const Bytes& payload) {
    Bytes b = {next, uint8_t(len / 8 - 1)};
    return b + zeros(len - 2) + payload;
}

inline Bytes ipv6_fragment(uint8_t next, uint16_t offset_bytes, bool more, uint32_t id,
                           const Bytes& payload) {
    Bytes b = {next, 0};
    put16(b, offset_bytes | (more ? 1 : 0));
    put32(b, id);
    return b + payload;
}

// Authentication header: its length counts 4-byte words, minus 2.
inline Bytes ipv6_auth(uint8_t next, size_t len, const Bytes& payload) {
    Bytes b = {next, uint8_t(len / 4 - 2)};
    return b + zeros(len - 2) + payload;
}

// ---- Transport ------------------------------------------------------------------

inline Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload,
                 const Bytes& options = {}) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put32(b, 0x01020304);  // seq
    put32(b, 0x05060708);  // ack
    b.push_back(uint8_t((20 + options.size()) / 4 << 4));
    b.push_back(flags);
    put16(b, 29200);       // window
    put32(b, 0);           // checksum, urgent pointer
    return b + options + payload;
}

inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload,
                 std::optional<uint16_t> length = {}) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put16(b, length.value_or(uint16_t(8 + payload.size())));
    put16(b, 0);
    return b + payload;
}

inline Bytes icmp(uint8_t type, uint8_t code, uint16_t id, uint16_t seq, const Bytes& payload) {
    Bytes b = {type, code, 0, 0};
    put16(b, id);
    put16(b, seq);
    return b + payload;
}

// ---- Tunnels --------------------------------------------------------------------

inline Bytes vxlan(uint32_t vni, const Bytes& inner, uint8_t flags = 0x08) {
    Bytes b = {flags, 0, 0, 0};
    put32(b, vni << 8);
    return b + inner;
}

inline Bytes geneve(uint32_t vni, uint16_t proto, const Bytes& options, const Bytes& inner,
                    uint8_t version = 0) {
    Bytes b = {uint8_t(version << 6 | options.size() / 4), 0};
    put16(b, proto);
    put32(b, vni << 8);
    return b + options + inner;
}

struct GreFields {
    bool checksum = false;
    std::optional<uint32_t> key = {};
    std::optional<uint32_t> sequence = {};
    uint8_t version = 0;
    bool routing = false;
};

inline Bytes gre(uint16_t proto, const Bytes& inner, const GreFields& f = {}) {
    Bytes b = {uint8_t((f.checksum ? 0x80 : 0) | (f.routing ? 0x40 : 0) | (f.key ? 0x20 : 0) |
                       (f.sequence ? 0x10 : 0)),
               f.version};
    put16(b, proto);
    if (f.checksum) put32(b, 0);
    if (f.key) put32(b, *f.key);
    if (f.sequence) put32(b, *f.sequence);
    return b + inner;
}

// Version 1, VLAN 0xABC and CoS bits set around the 10-bit session id, so a
// decoder that forgets to mask reads a different session.
inline Bytes erspan2(uint16_t session, const Bytes& inner) {
    Bytes b;
    put16(b, 0x1ABC);
    put16(b, 0xE000 | 0x1C00 | session);
    put32(b, 0x00000007);  // index
    return b + inner;
}

inline Bytes erspan3(uint16_t session, bool platform_subheader, const Bytes& inner) {
    Bytes b;
    put16(b, 0x2ABC);
    put16(b, 0xE000 | 0x1C00 | session);
    put32(b, 0xDEADBEEF);  // timestamp
    put16(b, 0x0000);      // SGT
    put16(b, 0x8000 | (platform_subheader ? 1 : 0));  // P set, O as asked
    if (platform_subheader) b = b + Bytes{0xAA, 0xAA, 0xAA, 0xAA, 0xBB, 0xBB, 0xBB, 0xBB};
    return b + inner;
}

// ---- Decoding ---------------------------------------------------------------------

// Decodes the first `len` bytes from a heap buffer of exactly that size, so
// that AddressSanitizer reports any read past the end.
inline Anomaly decode_prefix(const Bytes& frame, size_t len, PacketView& out) {
    const auto copy = std::make_unique<uint8_t[]>(len);
    if (len) std::memcpy(copy.get(), frame.data(), len);
    return decode(copy.get(), uint32_t(len), out);
}

inline Anomaly decode_bytes(const Bytes& frame, PacketView& out) {
    return decode_prefix(frame, frame.size(), out);
}

} // namespace sg::test

// Failure messages name the reason and the address, not a raw byte.
namespace Catch {
template <>
struct StringMaker<sg::Anomaly> {
    static std::string convert(sg::Anomaly a) { return sg::anomaly_name(a); }
};
template <>
struct StringMaker<sg::IpAddress> {
    static std::string convert(const sg::IpAddress& a) { return a.to_string(); }
};
template <>
struct StringMaker<sg::L3Type> {
    static std::string convert(sg::L3Type t) { return std::to_string(int(t)); }
};
template <>
struct StringMaker<sg::TunnelType> {
    static std::string convert(sg::TunnelType t) { return std::to_string(int(t)); }
};
} // namespace Catch
