#include "match/address_set.hpp"

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

std::string address_error(std::string_view text, const Vars& vars = Vars{}) {
    const auto r = parse_address_set(text, vars);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

std::vector<std::string> strings(const std::vector<Prefix>& prefixes) {
    std::vector<std::string> out;
    for (const auto& p : prefixes) out.push_back(p.to_string());
    return out;
}

PortSet ports(std::string_view text, const Vars& vars = Vars{}) {
    auto r = parse_port_set(text, vars);
    INFO(text);
    if (!r) FAIL(r.error().message);
    REQUIRE(r->has_value());
    return **r;
}

std::string port_error(std::string_view text, const Vars& vars = Vars{}) {
    const auto r = parse_port_set(text, vars);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

std::vector<PortRange> ranges(std::initializer_list<std::pair<int, int>> list) {
    std::vector<PortRange> out;
    for (const auto& [lo, hi] : list) out.push_back(PortRange{uint16_t(lo), uint16_t(hi)});
    return out;
}

Vars home(const char* text) {
    Vars v;
    v.set_address("HOME_NET", text);
    return v;
}

} // namespace

TEST_CASE("address: any, single addresses and prefixes of both families") {
    CHECK(addresses("any").is_any());
    CHECK(addresses("any").text == "any");

    const auto one = addresses("192.0.2.7");
    CHECK(strings(one.include) == std::vector<std::string>{"192.0.2.7/32"});
    CHECK(one.exclude.empty());
    CHECK(one.contains(ip("192.0.2.7")));
    CHECK_FALSE(one.contains(ip("192.0.2.8")));

    CHECK(strings(addresses("10.0.0.0/8").include) == std::vector<std::string>{"10.0.0.0/8"});
    CHECK(strings(addresses("2001:db8::/32").include) == std::vector<std::string>{"2001:db8::/32"});
    CHECK(strings(addresses("10.0.0.0/255.255.0.0").include) == std::vector<std::string>{"10.0.0.0/16"});
    // A range becomes the fewest covering prefixes.
    CHECK(strings(addresses("10.0.0.1-10.0.0.6").include) ==
          std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"});
    // Long IPv6 spellings as ET writes them.
    CHECK(addresses("[2a0b:f4c2:0002:0001:0000:0000:0000:0210]").contains(ip("2a0b:f4c2:2:1::210")));
}

TEST_CASE("address: host bits are cleared with a warning") {
    std::vector<std::string> warnings;
    const auto r = parse_address_set("108.160.162.0/20", Vars{}, &warnings);
    REQUIRE(r.ok());
    CHECK(strings((*r)->include) == std::vector<std::string>{"108.160.160.0/20"});
    CHECK(warnings == std::vector<std::string>{"'108.160.162.0/20': host bits set, using 108.160.160.0/20"});
}

TEST_CASE("address: groups, negation and nesting") {
    const auto a = addresses("[10.0.0.0/8, !10.1.0.0/16]");
    CHECK(a.contains(ip("10.2.0.1")));
    CHECK_FALSE(a.contains(ip("10.1.2.3")));
    CHECK_FALSE(a.contains(ip("11.0.0.1")));
    CHECK_FALSE(a.contains(ip("2001:db8::1")));

    // Only negations in a group: everything but them, both families.
    const auto b = addresses("[!192.0.2.1,!198.51.100.0/24]");
    CHECK(b.include.empty());
    CHECK(strings(b.exclude) == std::vector<std::string>{"192.0.2.1/32", "198.51.100.0/24"});
    CHECK(b.contains(ip("192.0.2.2")));
    CHECK(b.contains(ip("2001:db8::1")));
    CHECK_FALSE(b.contains(ip("198.51.100.9")));

    // A negated group inside a group, negating a negation.
    const auto c = addresses("[10.0.0.0/8,![10.1.0.0/16,!10.1.2.0/24]]");
    CHECK(c.contains(ip("10.1.2.3")));
    CHECK_FALSE(c.contains(ip("10.1.3.3")));
    CHECK(c.contains(ip("10.9.0.1")));

    // "!x" at the top equals "[!x]".
    const auto d1 = addresses("!10.0.0.0/8");
    const auto d2 = addresses("[!10.0.0.0/8]");
    CHECK(strings(d1.include) == strings(d2.include));
    CHECK(strings(d1.exclude) == strings(d2.exclude));
    CHECK(d1.contains(ip("11.0.0.1")));
    CHECK_FALSE(d1.contains(ip("10.0.0.1")));
    CHECK(d1.contains(ip("::1")));

    // Blanks inside brackets are fine.
    CHECK(addresses("[ 10.0.0.1 , 10.0.0.2 ]").contains(ip("10.0.0.2")));
}

TEST_CASE("address: only one family listed leaves the other out") {
    const auto a = addresses("[10.0.0.0/8,!10.1.0.0/16,2001:db8::/32]");
    CHECK(a.contains(ip("2001:db8::5")));
    CHECK_FALSE(a.contains(ip("2001:db9::5")));
    CHECK_FALSE(a.contains(ip("10.1.0.1")));
    // A group with a positive item is that item minus the negations, in
    // both families: here only 2001:db8::/32 (Suricata would also take all
    // IPv4 but 10/8, since no IPv4 item is positive; see docs/rules.md).
    const auto b = addresses("[!10.0.0.0/8,2001:db8::/32]");
    CHECK(strings(b.include) == std::vector<std::string>{"2001:db8::/32"});
    CHECK(b.exclude.empty());
    CHECK_FALSE(b.contains(ip("11.0.0.1")));
}

TEST_CASE("address: variables, recursion and the default EXTERNAL_NET") {
    // Defaults: HOME_NET any, so EXTERNAL_NET is any too (not "!any").
    CHECK(addresses("$HOME_NET").is_any());
    CHECK(addresses("$EXTERNAL_NET").is_any());
    CHECK(addresses("$HTTP_SERVERS").is_any());

    const Vars v = home("[10.0.0.0/8,192.168.0.0/16]");
    const auto h = addresses("$HOME_NET", v);
    CHECK(strings(h.include) == std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"});
    CHECK(h.text == "$HOME_NET");
    const auto e = addresses("$EXTERNAL_NET", v);
    CHECK(e.include.empty());
    CHECK(strings(e.exclude) == std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"});
    CHECK(e.contains(ip("8.8.8.8")));
    CHECK_FALSE(e.contains(ip("10.1.1.1")));
    // Variables naming variables, inside groups.
    const auto hs = addresses("[$HTTP_SERVERS,!10.1.0.0/16]", v);
    CHECK(hs.contains(ip("10.0.0.1")));
    CHECK(hs.contains(ip("192.168.1.1")));
    CHECK_FALSE(hs.contains(ip("10.1.0.1")));

    Vars set_home;
    set_home.set_home_net({*Prefix::parse("203.0.113.0/24"), *Prefix::parse("2001:db8::/48")});
    CHECK(*set_home.address("HOME_NET") == "[203.0.113.0/24,2001:db8::/48]");
    CHECK(addresses("$EXTERNAL_NET", set_home).contains(ip("2001:db8:1::1")));
    CHECK_FALSE(addresses("$EXTERNAL_NET", set_home).contains(ip("2001:db8::1")));

    // An explicit EXTERNAL_NET wins even with HOME_NET any.
    Vars ext;
    ext.set_address("EXTERNAL_NET", "!192.0.2.0/24");
    CHECK_FALSE(addresses("$EXTERNAL_NET", ext).contains(ip("192.0.2.1")));
}

TEST_CASE("address: a set that matches nothing is nullopt") {
    for (const char* text : {"!any", "[1.2.3.4,!1.2.3.4]", "![any]", "!$HOME_NET"}) {
        INFO(text);
        const auto r = parse_address_set(text, Vars{});
        REQUIRE(r.ok());
        CHECK_FALSE(r->has_value());
    }
}

TEST_CASE("address: errors") {
    CHECK(address_error("$NOPE") == "undefined address variable $NOPE");
    Vars loop;
    loop.set_address("A", "$B");
    loop.set_address("B", "[10.0.0.1,$A]");
    CHECK(address_error("$A", loop) == "$A nests variables more than 16 deep (a loop?)");
    CHECK(address_error("10.0.0.256") == "'10.0.0.256' is not an IPv4 or IPv6 address");
    CHECK(address_error("10.0.0.0/33") == "'10.0.0.0/33': prefix length must be 0-32");
    CHECK(address_error("10.0.0.0/255.0.255.0") == "'10.0.0.0/255.0.255.0': netmask 255.0.255.0 is not contiguous");
    CHECK(address_error("[10.0.0.1,[10.0.0.2]") == "unbalanced '[' in '10.0.0.1,[10.0.0.2'");
    CHECK(address_error("[10.0.0.1,,10.0.0.2]") == "empty item in list '[10.0.0.1,,10.0.0.2]'");
    CHECK(address_error("[]") == "empty address list '[]'");
    CHECK(address_error("10.0.0.9-10.0.0.1") == "address range '10.0.0.9-10.0.0.1' is reversed or mixes families");
}

TEST_CASE("ports: single, ranges, open ranges, lists, negation, variables") {
    CHECK(ports("any").is_any());
    CHECK(ports("80").ranges == ranges({{80, 80}}));
    CHECK(ports("1024:").ranges == ranges({{1024, 65535}}));
    CHECK(ports(":1023").ranges == ranges({{0, 1023}}));
    CHECK(ports("80:90").ranges == ranges({{80, 90}}));
    CHECK(ports("[1024:5000,49152:]").ranges == ranges({{1024, 5000}, {49152, 65535}}));
    CHECK(ports("[80,81,82,443]").ranges == ranges({{80, 82}, {443, 443}}));
    CHECK(ports("!80").ranges == ranges({{0, 79}, {81, 65535}}));
    CHECK(ports("[1:100,!50:60]").ranges == ranges({{1, 49}, {61, 100}}));
    CHECK(ports("[!22,!23]").ranges == ranges({{0, 21}, {24, 65535}}));
    CHECK(ports("$HTTP_PORTS").ranges == ranges({{80, 80}}));
    CHECK(ports("!$HTTP_PORTS").ranges == ranges({{0, 79}, {81, 65535}}));
    CHECK(ports("$SHELLCODE_PORTS").ranges == ranges({{0, 79}, {81, 65535}}));
    CHECK(ports("$FILE_DATA_PORTS").ranges == ranges({{80, 80}, {110, 110}, {143, 143}}));
    CHECK(ports("$ORACLE_PORTS").ranges == ranges({{1521, 1521}}));
    CHECK(ports("[$HTTP_PORTS, [8000:8080, !8001]]").ranges == ranges({{80, 80}, {8000, 8000}, {8002, 8080}}));
    CHECK(ports("80").contains(80));
    CHECK_FALSE(ports("80").contains(81));
    Vars v;
    v.set_port("HTTP_PORTS", "[80,8080]");
    CHECK(ports("$FILE_DATA_PORTS", v).ranges == ranges({{80, 80}, {110, 110}, {143, 143}, {8080, 8080}}));
}

TEST_CASE("ports: errors and empty sets") {
    CHECK(port_error("70000") == "'70000' is not a port (0-65535)");
    CHECK(port_error("90:80") == "port range '90:80' is reversed");
    CHECK(port_error("http") == "'http' is not a port (0-65535)");
    CHECK(port_error(":") == "':' is not a port (0-65535)");
    CHECK(port_error("$HOME_NET") == "undefined port variable $HOME_NET");
    CHECK(port_error("[80") == "unbalanced '[' in '[80'");
    const auto empty = parse_port_set("[80,!80]", Vars{});
    REQUIRE(empty.ok());
    CHECK_FALSE(empty->has_value());
}
