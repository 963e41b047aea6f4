#pragma once
// IpAddress and Prefix: one 16-byte representation for both families.
// IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d) so that flow keys,
// hashes and comparisons never branch on the family. Any thread may use them.

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sg {

struct IpAddress {
    std::array<uint8_t, 16> bytes{};

    static IpAddress from_v4(const uint8_t* network_order) {
        IpAddress a;
        a.bytes[10] = 0xff;
        a.bytes[11] = 0xff;
        std::memcpy(&a.bytes[12], network_order, 4);
        return a;
    }
    static IpAddress from_v4_host(uint32_t host_order) {
        const uint8_t b[4] = {uint8_t(host_order >> 24), uint8_t(host_order >> 16),
                              uint8_t(host_order >> 8), uint8_t(host_order)};
        return from_v4(b);
    }
    static IpAddress from_v6(const uint8_t* network_order) {
        IpAddress a;
        std::memcpy(a.bytes.data(), network_order, 16);
        return a;
    }

    bool is_v4() const {
        static constexpr uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::memcmp(bytes.data(), mapped, 12) == 0;
    }
    uint32_t v4_host() const {
        return uint32_t(bytes[12]) << 24 | uint32_t(bytes[13]) << 16 | uint32_t(bytes[14]) << 8 |
               bytes[15];
    }
    bool is_unspecified() const { return *this == IpAddress{}; }

    std::string to_string() const;
    static std::optional<IpAddress> parse(std::string_view text);

    auto operator<=>(const IpAddress&) const = default;
};

// A CIDR prefix. `length` counts bits of the address's own family
// (0-32 for IPv4, 0-128 for IPv6); host bits are always zero.
struct Prefix {
    IpAddress address;
    uint8_t length = 0;

    bool is_v4() const { return address.is_v4(); }
    bool contains(const IpAddress& a) const;
    std::string to_string() const;
    // Accepts "10.1.0.0/16", "2001:db8::/32", or a bare address (host prefix).
    // Host bits set ("10.1.2.3/16") are an error: it is almost always a typo.
    static Result<Prefix> parse(std::string_view text);

    auto operator<=>(const Prefix&) const = default;
};

} // namespace sg
