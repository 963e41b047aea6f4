// AddressSet::contains and Prefix::contains against a plain reference: the
// binary search over the sorted prefix lists and the masked compares must
// answer exactly what a bit-by-bit scan of every prefix answers.
#include "match/address_set.hpp"

#include <random>

#include <catch2/catch.hpp>

using namespace sg;
using namespace sg::rules;

namespace {

IpAddress ip(const char* text) {
    const auto a = IpAddress::parse(text);
    REQUIRE(a);
    return *a;
}

AddressSet addresses(std::string_view text, const Vars& vars = Vars{}) {
    auto r = parse_address_set(text, vars);
    INFO(text);
    if (!r) FAIL(r.error().message);
    REQUIRE(r->has_value());
    return **r;
}

// The reference: the first `length` bits of the prefix's own family, one by one.
bool reference_prefix_contains(const Prefix& p, const IpAddress& a) {
    if (p.address.is_v4() != a.is_v4()) return false;
    const unsigned base = p.address.is_v4() ? 96 : 0;
    for (unsigned i = base; i < base + p.length; ++i) {
        const auto bit = [i](const IpAddress& x) { return (x.bytes[i / 8] >> (7 - i % 8)) & 1; };
        if (bit(p.address) != bit(a)) return false;
    }
    return true;
}

bool reference_list_contains(const std::vector<Prefix>& list, const IpAddress& a) {
    for (const Prefix& p : list)
        if (reference_prefix_contains(p, a)) return true;
    return false;
}

bool reference_contains(const AddressSet& s, const IpAddress& a) {
    return (s.include.empty() || reference_list_contains(s.include, a)) && !reference_list_contains(s.exclude, a);
}

// The order contains() relies on: IPv4 first, each family sorted by address, no overlaps.
void check_order(const std::vector<Prefix>& list) {
    for (size_t i = 1; i < list.size(); ++i) {
        const Prefix& a = list[i - 1];
        const Prefix& b = list[i];
        INFO(a.to_string() << " then " << b.to_string());
        CHECK((a.is_v4() || !b.is_v4()));
        if (a.is_v4() != b.is_v4()) continue;
        CHECK(a.address < b.address);
        CHECK_FALSE(a.contains(b.address));
    }
}

// Addresses around every prefix boundary of the set, plus some random ones.
std::vector<IpAddress> probes(const AddressSet& s, std::mt19937_64& rng) {
    std::vector<IpAddress> out;
    const auto around = [&](const Prefix& p) {
        IpAddress first = p.address;
        IpAddress last = p.address;
        const unsigned base = p.is_v4() ? 96 : 0;
        for (unsigned i = base + p.length; i < 128; ++i) last.bytes[i / 8] |= uint8_t(1u << (7 - i % 8));
        for (IpAddress x : {first, last}) {
            out.push_back(x);
            // One below and one above, staying in the family's bytes.
            IpAddress up = x, down = x;
            for (int b = 15; b >= int(base / 8); --b)
                if (++up.bytes[size_t(b)] != 0) break;
            for (int b = 15; b >= int(base / 8); --b)
                if (down.bytes[size_t(b)]-- != 0) break;
            out.push_back(up);
            out.push_back(down);
        }
    };
    for (const Prefix& p : s.include) around(p);
    for (const Prefix& p : s.exclude) around(p);
    for (int i = 0; i < 64; ++i) {
        out.push_back(IpAddress::from_v4_host(uint32_t(rng())));
        uint8_t b[16];
        for (auto& x : b) x = uint8_t(rng());
        b[0] = uint8_t(0x20 | (b[0] & 0x0f)); // mostly 2000::/4
        out.push_back(IpAddress::from_v6(b));
    }
    out.push_back(ip("0.0.0.0"));
    out.push_back(ip("255.255.255.255"));
    out.push_back(ip("::"));
    out.push_back(ip("::1"));
    out.push_back(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    out.push_back(ip("::fffe:ffff:ffff"));  // just below the IPv4-mapped block
    out.push_back(ip("::1:0:0:0"));         // just above it
    return out;
}

void check_against_reference(const AddressSet& s, std::mt19937_64& rng) {
    check_order(s.include);
    check_order(s.exclude);
    for (const IpAddress& a : probes(s, rng)) {
        INFO(s.text << " ? " << a.to_string());
        CHECK(s.contains(a) == reference_contains(s, a));
    }
}

} // namespace

TEST_CASE("Prefix::contains: masked compares at every length of both families") {
    std::mt19937_64 rng(7);
    for (unsigned len = 0; len <= 32; ++len) {
        const uint32_t base = uint32_t(rng()) & (len == 0 ? 0 : ~uint32_t(0) << (32 - len));
        const Prefix p{IpAddress::from_v4_host(base), uint8_t(len)};
        for (int i = 0; i < 200; ++i) {
            // Flip one random bit of the prefix's first address, or none.
            const unsigned flip = unsigned(rng() % 33);
            const uint32_t x = flip == 32 ? base : base ^ (uint32_t(1) << flip);
            const IpAddress a = IpAddress::from_v4_host(x);
            INFO(p.to_string() << " ? " << a.to_string());
            CHECK(p.contains(a) == reference_prefix_contains(p, a));
            CHECK(p.contains(a) == (flip == 32 || flip < 32 - len));
        }
    }
    for (unsigned len = 0; len <= 128; ++len) {
        uint8_t b[16];
        for (auto& x : b) x = uint8_t(rng());
        IpAddress addr = IpAddress::from_v6(b);
        if (addr.is_v4()) addr.bytes[0] = 0x20;
        for (unsigned i = len; i < 128; ++i) addr.bytes[i / 8] &= uint8_t(~(1u << (7 - i % 8)));
        const Prefix p{addr, uint8_t(len)};
        for (unsigned flip = 0; flip <= 128; ++flip) {
            IpAddress a = addr;
            if (flip < 128) a.bytes[flip / 8] ^= uint8_t(1u << (7 - flip % 8));
            if (a.is_v4()) continue;
            INFO(p.to_string() << " ? " << a.to_string());
            CHECK(p.contains(a) == reference_prefix_contains(p, a));
            CHECK(p.contains(a) == (flip == 128 || flip >= len));
        }
    }
    // The families never mix, not even through ::/0 or 0.0.0.0/0.
    CHECK_FALSE(Prefix::parse("::/0")->contains(ip("10.0.0.1")));
    CHECK_FALSE(Prefix::parse("0.0.0.0/0")->contains(ip("::1")));
    CHECK(Prefix::parse("0.0.0.0/0")->contains(ip("255.255.255.255")));
    CHECK(Prefix::parse("::/0")->contains(ip("ffff::1")));
}

TEST_CASE("AddressSet::contains: edge cases of the binary search") {
    // /32 and /128 hosts, and the addresses next to them.
    const auto hosts = addresses("[192.0.2.7,2001:db8::7]");
    CHECK(hosts.contains(ip("192.0.2.7")));
    CHECK_FALSE(hosts.contains(ip("192.0.2.6")));
    CHECK_FALSE(hosts.contains(ip("192.0.2.8")));
    CHECK(hosts.contains(ip("2001:db8::7")));
    CHECK_FALSE(hosts.contains(ip("2001:db8::6")));
    CHECK_FALSE(hosts.contains(ip("2001:db8::8")));
    CHECK_FALSE(hosts.contains(ip("::ffff:192.0.2.8")));

    // /0 of one family only.
    const auto all4 = addresses("0.0.0.0/0");
    CHECK(all4.contains(ip("0.0.0.0")));
    CHECK(all4.contains(ip("255.255.255.255")));
    CHECK_FALSE(all4.contains(ip("::1")));
    CHECK_FALSE(all4.contains(ip("2001:db8::1")));
    const auto all6 = addresses("::/0");
    CHECK(all6.contains(ip("::")));
    CHECK(all6.contains(ip("2001:db8::1")));
    CHECK_FALSE(all6.contains(ip("10.0.0.1")));

    // Adjacent prefixes are merged or stay apart, and the gap between them is out.
    const auto adjacent = addresses("[10.0.0.0/25,10.0.0.128/25,10.0.2.0/24]");
    CHECK(adjacent.contains(ip("10.0.0.127")));
    CHECK(adjacent.contains(ip("10.0.0.128")));
    CHECK_FALSE(adjacent.contains(ip("10.0.1.0")));
    CHECK_FALSE(adjacent.contains(ip("10.0.1.255")));
    CHECK(adjacent.contains(ip("10.0.2.0")));
    CHECK_FALSE(adjacent.contains(ip("10.0.3.0")));
    CHECK_FALSE(adjacent.contains(ip("9.255.255.255")));

    // Nested and overlapping prefixes in the rule text are united at parse time.
    const auto nested = addresses("[10.0.0.0/8,10.1.0.0/16,10.1.2.3,10.255.0.0/15,11.0.0.0/8,11.128.0.0/9]");
    CHECK(nested.include.size() == 1); // 10.0.0.0/7
    CHECK(nested.contains(ip("10.1.2.3")));
    CHECK(nested.contains(ip("11.255.255.255")));
    CHECK_FALSE(nested.contains(ip("12.0.0.0")));
    CHECK_FALSE(nested.contains(ip("9.255.255.255")));

    // Negations: a hole in a prefix, a prefix in the hole, and negated sets.
    // In one list the negations win over every positive item...
    const auto flat = addresses("[10.0.0.0/8,!10.1.0.0/16,10.1.2.0/24]");
    CHECK(flat.contains(ip("10.0.0.1")));
    CHECK_FALSE(flat.contains(ip("10.1.2.1")));
    CHECK(flat.contains(ip("10.2.0.0")));
    // ... a nested group puts a prefix back into the hole.
    const auto holes = addresses("[[[10.0.0.0/8,!10.1.0.0/16],10.1.2.0/24],!10.1.2.128/25]");
    CHECK(holes.contains(ip("10.0.0.1")));
    CHECK_FALSE(holes.contains(ip("10.1.0.1")));
    CHECK(holes.contains(ip("10.1.2.1")));
    CHECK(holes.contains(ip("10.1.2.127")));
    CHECK_FALSE(holes.contains(ip("10.1.2.128")));
    CHECK_FALSE(holes.contains(ip("10.1.3.0")));
    CHECK(holes.contains(ip("10.2.0.0")));
    CHECK_FALSE(holes.contains(ip("11.0.0.0")));
    const auto negated = addresses("![10.0.0.0/8,2001:db8::/32]");
    CHECK_FALSE(negated.contains(ip("10.9.9.9")));
    CHECK(negated.contains(ip("11.0.0.0")));
    CHECK(negated.contains(ip("9.255.255.255")));
    CHECK_FALSE(negated.contains(ip("2001:db8::1")));
    CHECK(negated.contains(ip("2001:db9::1")));
    CHECK(negated.contains(ip("::1")));

    // IPv4 and IPv6 in one list: an IPv4 address is never found among the
    // IPv6 prefixes, even where its 16-byte form sorts between them.
    const auto mixed = addresses("[::/8,10.0.0.0/8,::1:0:0:0/80,2001:db8::/32]");
    CHECK(mixed.contains(ip("10.2.3.4")));
    CHECK_FALSE(mixed.contains(ip("11.2.3.4")));
    CHECK(mixed.contains(ip("::2")));
    CHECK(mixed.contains(ip("::1:0:0:5")));
    CHECK(mixed.contains(ip("2001:db8::5")));
    CHECK_FALSE(mixed.contains(ip("2001:db9::5")));
}

TEST_CASE("AddressSet::contains answers as a scan of every prefix, on random sets") {
    std::mt19937_64 rng(2026);
    const auto v4 = [&] {
        const unsigned len = unsigned(rng() % 33);
        const uint32_t a = uint32_t(rng()) & (len == 0 ? 0 : ~uint32_t(0) << (32 - len));
        // Cluster most prefixes in 10/8 so they nest, touch and overlap.
        const uint32_t x = rng() % 4 ? (a & 0x00ffffffu) | 0x0a000000u : a;
        return IpAddress::from_v4_host(x).to_string() + "/" + std::to_string(len < 8 && rng() % 4 ? len + 8 : len);
    };
    const auto v6 = [&] {
        const unsigned len = unsigned(rng() % 129);
        uint8_t b[16];
        for (auto& x : b) x = uint8_t(rng());
        b[0] = 0x20;
        b[1] = 0x01;
        IpAddress a = IpAddress::from_v6(b);
        for (unsigned i = len < 16 ? 16 : len; i < 128; ++i) a.bytes[i / 8] &= uint8_t(~(1u << (7 - i % 8)));
        return a.to_string() + "/" + std::to_string(len < 16 ? 16 : len);
    };
    for (int round = 0; round < 300; ++round) {
        std::string text = rng() % 5 == 0 ? "![" : "[";
        const unsigned items = 1 + unsigned(rng() % 12);
        for (unsigned i = 0; i < items; ++i) {
            if (i) text += ",";
            if (rng() % 4 == 0) text += "!";
            text += rng() % 3 ? v4() : v6();
        }
        text += "]";
        const auto r = parse_address_set(text, Vars{});
        REQUIRE(r.ok());
        if (!r->has_value()) continue; // matches nothing
        check_against_reference(**r, rng);
    }
}
