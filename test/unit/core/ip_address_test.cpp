#include "core/ip_address.hpp"

#include <catch2/catch.hpp>

using sg::IpAddress;
using sg::Prefix;

TEST_CASE("IPv4 and IPv6 addresses round-trip through text") {
    for (const char* text : {"10.1.2.3", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::1", "fe80::1:2"}) {
        const auto a = IpAddress::parse(text);
        REQUIRE(a);
        CHECK(a->to_string() == text);
    }
    CHECK(IpAddress::parse("10.1.2.3")->is_v4());
    CHECK_FALSE(IpAddress::parse("2001:db8::1")->is_v4());
    CHECK(IpAddress::parse("10.1.2.3")->v4_host() == 0x0a010203u);
    CHECK_FALSE(IpAddress::parse("10.1.2"));
    CHECK_FALSE(IpAddress::parse("example.com"));
}

TEST_CASE("Prefixes parse, reject typos and contain their addresses") {
    const auto p = Prefix::parse("10.1.0.0/16");
    REQUIRE(p);
    CHECK(p->contains(*IpAddress::parse("10.1.255.7")));
    CHECK_FALSE(p->contains(*IpAddress::parse("10.2.0.1")));


    const auto v6 = Prefix::parse("2001:db8:1::/48");
    REQUIRE(v6);
    CHECK(v6->contains(*IpAddress::parse("2001:db8:1:ffff::9")));
    CHECK_FALSE(v6->contains(*IpAddress::parse("2001:db8:2::1")));
    CHECK_FALSE(v6->contains(*IpAddress::parse("10.1.0.1")));

    const auto host = Prefix::parse("192.0.2.7");
    REQUIRE(host);
    CHECK(host->length == 32);

    const auto odd = Prefix::parse("10.0.0.0/17");
    REQUIRE(odd);
    CHECK(odd->contains(*IpAddress::parse("10.0.127.255")));
    CHECK_FALSE(odd->contains(*IpAddress::parse("10.0.128.0")));

    const auto bad_bits = Prefix::parse("10.1.2.3/16");
    REQUIRE_FALSE(bad_bits);
    CHECK(bad_bits.error().message.find("did you mean 10.1.0.0/16") != std::string::npos);
    CHECK_FALSE(Prefix::parse("10.0.0.0/33"));
    CHECK_FALSE(Prefix::parse("10.0.0.0/x"));
    CHECK_FALSE(Prefix::parse("nonsense/8"));
    CHECK(Prefix::parse("0.0.0.0/0")->contains(*IpAddress::parse("198.51.100.1")));
}
