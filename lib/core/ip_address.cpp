#include "core/ip_address.hpp"

#include <arpa/inet.h>
#include <charconv>

#include <fmt/format.h>

namespace sg {

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    if (is_v4())
        inet_ntop(AF_INET, &bytes[12], buf, sizeof buf);
    else
        inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    std::string s(text);
    uint8_t b[16];
    if (inet_pton(AF_INET, s.c_str(), b) == 1) return from_v4(b);
    if (inet_pton(AF_INET6, s.c_str(), b) == 1) return from_v6(b);
    return std::nullopt;
}

namespace {
// Bit offset in the 16-byte form where a prefix of this family starts.
unsigned family_base(const IpAddress& a) { return a.is_v4() ? 96 : 0; }

bool bit(const IpAddress& a, unsigned i) { return (a.bytes[i / 8] >> (7 - i % 8)) & 1; }
} // namespace

bool Prefix::contains(const IpAddress& a) const {
    const bool v4 = address.is_v4();
    if (a.is_v4() != v4) return false;
    if (v4) {
        // One masked compare of the 32-bit host-order values (length 0: mask 0).
        const uint32_t mask = length == 0 ? 0 : ~uint32_t(0) << (32 - length);
        return ((a.v4_host() ^ address.v4_host()) & mask) == 0;
    }
    // IPv6: the same on the two 64-bit halves, read big-endian.
    const auto half = [](const IpAddress& x, unsigned i) {
        uint64_t w = 0;
        for (unsigned b = 0; b < 8; ++b) w = w << 8 | x.bytes[i * 8 + b];
        return w;
    };
    const unsigned hi_bits = length > 64 ? 64 : length;
    const unsigned lo_bits = length > 64 ? length - 64u : 0;
    const uint64_t hi_mask = hi_bits == 0 ? 0 : ~uint64_t(0) << (64 - hi_bits);
    const uint64_t lo_mask = lo_bits == 0 ? 0 : ~uint64_t(0) << (64 - lo_bits);
    return ((half(a, 0) ^ half(address, 0)) & hi_mask) == 0 && ((half(a, 1) ^ half(address, 1)) & lo_mask) == 0;
}

std::string Prefix::to_string() const { return fmt::format("{}/{}", address.to_string(), length); }

Result<Prefix> Prefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    const auto addr_text = text.substr(0, slash);
    const auto addr = IpAddress::parse(addr_text);
    if (!addr)
        return make_error(fmt::format("'{}' is not an IPv4 or IPv6 address", addr_text));
    const unsigned max_len = addr->is_v4() ? 32 : 128;
    unsigned len = max_len;
    if (slash != std::string_view::npos) {
        const auto len_text = text.substr(slash + 1);
        const auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
        if (ec != std::errc{} || ptr != len_text.data() + len_text.size() || len > max_len)
            return make_error(fmt::format("'{}': prefix length must be 0-{}", text, max_len));
    }
    Prefix p{*addr, uint8_t(len)};
    const unsigned base = family_base(*addr);
    for (unsigned i = base + len; i < 128; ++i)
        if (bit(*addr, i))
            return make_error(fmt::format("'{}': host bits are set (did you mean {}/{}?)", text,
                                          Prefix{[&] {
                                              IpAddress m = *addr;
                                              for (unsigned j = base + len; j < 128; ++j)
                                                  m.bytes[j / 8] &= uint8_t(~(1u << (7 - j % 8)));
                                              return m;
                                          }(), uint8_t(len)}.address.to_string(),
                                          len));
    return p;
}

} // namespace sg
