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
    if (a.is_v4() != address.is_v4()) return false;
    const unsigned base = family_base(address);
    const unsigned total = base + length;
    const unsigned full = total / 8;
    if (std::memcmp(a.bytes.data(), address.bytes.data(), full) != 0) return false;
    for (unsigned i = full * 8; i < total; ++i)
        if (bit(a, i) != bit(address, i)) return false;
    return true;
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
