#include "attrib/ownership.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "../alloc_counter.hpp"

using namespace sg;

namespace {

IpAddress ip(const char* text) {
    const auto a = IpAddress::parse(text);
    REQUIRE(a.has_value());
    return *a;
}

Prefix prefix(const char* text) {
    const auto p = Prefix::parse(text);
    REQUIRE(p.ok());
    return *p;
}

Deployment deployment(std::string name, std::vector<const char*> prefixes) {
    Deployment d;
    d.name = std::move(name);
    d.owner = d.name + "@example.com";
    for (const char* p : prefixes) d.prefixes.push_back(prefix(p));
    return d;
}

std::unique_ptr<Ownership> make(const std::vector<Deployment>& ds, const char* name = "own_test") {
    auto r = Ownership::create(ds, name);
    if (!r.ok()) FAIL(r.error().message);
    return std::move(r.value());
}

std::string create_error(const std::vector<Deployment>& ds, const char* name = "own_err") {
    auto r = Ownership::create(ds, name);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

// The definition the LPM tables must agree with: the longest prefix of any
// deployment that contains `a` (Prefix::contains keeps the families apart).
DeploymentId reference_lookup(const std::vector<Deployment>& ds, const IpAddress& a) {
    DeploymentId best = kNoDeployment;
    int best_len = -1;
    for (size_t i = 0; i < ds.size(); ++i)
        for (const Prefix& p : ds[i].prefixes)
            if (p.contains(a) && int(p.length) > best_len) {
                best = DeploymentId(i);
                best_len = p.length;
            }
    return best;
}

// An address inside `p`, host bits random.
IpAddress random_inside(const Prefix& p, std::mt19937_64& rng) {
    IpAddress a = p.address;
    const unsigned first_host_bit = (p.is_v4() ? 96 : 0) + p.length;
    for (unsigned i = first_host_bit; i < 128; ++i)
        if (rng() & 1) a.bytes[i / 8] |= uint8_t(0x80u >> (i % 8));
    return a;
}

IpAddress random_v4(std::mt19937_64& rng) { return IpAddress::from_v4_host(uint32_t(rng())); }

IpAddress random_v6(std::mt19937_64& rng) {
    IpAddress a;
    for (auto& b : a.bytes) b = uint8_t(rng());
    a.bytes[0] = 0x20; // keep clear of the v4-mapped range
    return a;
}

// lookup_bulk() answers what lookup() answers, address by address.
void check_bulk_agrees(const Ownership& own, const std::vector<IpAddress>& addrs) {
    std::vector<DeploymentId> out(addrs.size(), 0x1234);
    own.lookup_bulk(addrs.data(), out.data(), unsigned(addrs.size()));
    for (size_t i = 0; i < addrs.size(); ++i) {
        INFO(addrs[i].to_string());
        CHECK(out[i] == own.lookup(addrs[i]));
    }
}

} // namespace

TEST_CASE("IPv4: the longest prefix wins, across deployments") {
    const std::vector<Deployment> ds = {
        deployment("campus", {"10.0.0.0/8"}),
        deployment("lab", {"10.1.0.0/16"}),
        deployment("cluster", {"10.1.2.0/24", "192.168.1.7/32"}),
        deployment("dmz", {"10.1.2.128/25"}),
    };
    const auto own = make(ds);
    CHECK(own->size() == 4);
    CHECK(own->deployment(2).name == "cluster");
    CHECK(own->deployment(2).owner == "cluster@example.com");

    CHECK(own->lookup(ip("10.200.0.1")) == 0);
    CHECK(own->lookup(ip("10.1.9.9")) == 1);
    CHECK(own->lookup(ip("10.1.2.3")) == 2);
    CHECK(own->lookup(ip("10.1.2.127")) == 2);
    CHECK(own->lookup(ip("10.1.2.128")) == 3);
    CHECK(own->lookup(ip("10.1.2.255")) == 3);
    CHECK(own->lookup(ip("192.168.1.7")) == 2);
    CHECK(own->lookup(ip("192.168.1.8")) == kNoDeployment);
    CHECK(own->lookup(ip("11.0.0.0")) == kNoDeployment);
    CHECK(own->lookup(ip("9.255.255.255")) == kNoDeployment);
    // An IPv6 address with the same low bits is not an IPv4 address.
    CHECK(own->lookup(ip("::a01:203")) == kNoDeployment);
}

TEST_CASE("IPv6: the longest prefix wins, host routes and deep prefixes too") {
    const std::vector<Deployment> ds = {
        deployment("site", {"2001:db8::/32"}),
        deployment("web", {"2001:db8:1::/48", "2001:db8:ffff::1/128"}),
        deployment("db", {"2001:db8:1:2::/64"}),
        deployment("odd", {"2001:db8:1:2:8000::/65", "fd00::/8"}),
    };
    const auto own = make(ds);
    CHECK(own->lookup(ip("2001:db8:9::1")) == 0);
    CHECK(own->lookup(ip("2001:db8:1:7::1")) == 1);
    CHECK(own->lookup(ip("2001:db8:ffff::1")) == 1);
    CHECK(own->lookup(ip("2001:db8:ffff::2")) == 0);
    CHECK(own->lookup(ip("2001:db8:1:2::1")) == 2);
    CHECK(own->lookup(ip("2001:db8:1:2:7fff:ffff:ffff:ffff")) == 2);
    CHECK(own->lookup(ip("2001:db8:1:2:8000::")) == 3);
    CHECK(own->lookup(ip("fdab::1")) == 3);
    CHECK(own->lookup(ip("2001:db9::1")) == kNoDeployment);
    CHECK(own->lookup(ip("::1")) == kNoDeployment);
    CHECK(own->lookup(ip("10.0.0.1")) == kNoDeployment);
}

TEST_CASE("Default prefixes /0 own their family only, and lose to any longer prefix") {
    const std::vector<Deployment> ds = {
        deployment("all-v4", {"0.0.0.0/0"}),
        deployment("all-v6", {"::/0"}),
        deployment("inner", {"172.16.0.0/12", "2001:db8::/32"}),
    };
    const auto own = make(ds);
    CHECK(own->lookup(ip("8.8.8.8")) == 0);
    CHECK(own->lookup(ip("0.0.0.0")) == 0);
    CHECK(own->lookup(ip("172.20.1.1")) == 2);
    CHECK(own->lookup(ip("2606:4700::1")) == 1);
    CHECK(own->lookup(ip("2001:db8::1")) == 2);
    const std::vector<IpAddress> probes = {ip("8.8.8.8"), ip("172.20.1.1"), ip("2606:4700::1"),
                                           ip("2001:db8::1"), ip("0.0.0.0"), ip("::")};
    check_bulk_agrees(*own, probes);

    // Only /0 in a family: no LPM table is needed for it at all.
    const auto only_default = make({deployment("world", {"0.0.0.0/0"})}, "own_dflt");
    CHECK(only_default->lookup(ip("1.2.3.4")) == 0);
    CHECK(only_default->lookup(ip("2001:db8::1")) == kNoDeployment);
    check_bulk_agrees(*only_default, probes);
    const auto only_v6_default = make({deployment("world6", {"::/0"})}, "own_dflt6");
    CHECK(only_v6_default->lookup(ip("1.2.3.4")) == kNoDeployment);
    CHECK(only_v6_default->lookup(ip("2001:db8::1")) == 0);
    check_bulk_agrees(*only_v6_default, probes);
}

TEST_CASE("No deployments, or deployments without prefixes: everything is external") {
    const auto none = make({});
    CHECK(none->size() == 0);
    CHECK(none->lookup(ip("10.0.0.1")) == kNoDeployment);
    CHECK(none->lookup(ip("2001:db8::1")) == kNoDeployment);
    const auto empty = make({deployment("placeholder", {})}, "own_empty");
    CHECK(empty->size() == 1);
    CHECK(empty->lookup(ip("10.0.0.1")) == kNoDeployment);
    DeploymentId out[2] = {0, 0};
    const IpAddress addrs[2] = {ip("10.0.0.1"), ip("2001:db8::1")};
    empty->lookup_bulk(addrs, out, 2);
    CHECK(out[0] == kNoDeployment);
    CHECK(out[1] == kNoDeployment);
}

TEST_CASE("Direction: every combination of owned and external ends") {
    CHECK(classify(kNoDeployment, 3) == Direction::inbound);
    CHECK(classify(3, kNoDeployment) == Direction::outbound);
    CHECK(classify(3, 3) == Direction::internal);
    CHECK(classify(3, 4) == Direction::internal);
    CHECK(classify(0, 0) == Direction::internal);
    CHECK(classify(kNoDeployment, kNoDeployment) == Direction::transit);

    CHECK(std::string(direction_name(Direction::inbound)) == "inbound");
    CHECK(std::string(direction_name(Direction::outbound)) == "outbound");
    CHECK(std::string(direction_name(Direction::internal)) == "internal");
    CHECK(std::string(direction_name(Direction::transit)) == "transit");

    const auto own = make({deployment("a", {"10.0.0.0/8"}), deployment("b", {"2001:db8::/32"})});
    CHECK(own->direction(ip("1.1.1.1"), ip("10.0.0.1")) == Direction::inbound);
    CHECK(own->direction(ip("10.0.0.1"), ip("1.1.1.1")) == Direction::outbound);
    CHECK(own->direction(ip("10.0.0.1"), ip("10.0.0.2")) == Direction::internal);
    CHECK(own->direction(ip("10.0.0.1"), ip("2001:db8::2")) == Direction::internal);
    CHECK(own->direction(ip("1.1.1.1"), ip("2606:4700::1")) == Direction::transit);
}

TEST_CASE("Random prefixes: lookup and lookup_bulk agree with the definition") {
    // Many nested and deep prefixes (both families, every length) exercise
    // the LPM second-level groups create() sizes; addresses are half drawn
    // inside a prefix, half anywhere.
    // 300 deployments: the IPv4 prefixes go into an rte_lpm; 40: into the
    // range table (at most Ownership::kMaxV4TablePrefixes).
    const int deployments = GENERATE(300, 40);
    std::mt19937_64 rng(20240611 + uint64_t(deployments));
    std::vector<Deployment> ds;
    std::set<Prefix> used;
    std::vector<Prefix> all;
    for (int d = 0; d < deployments; ++d) {
        Deployment dep;
        dep.name = fmt::format("d{}", d); // not "d" + to_string: GCC 12 -Wrestrict false positive at -O3
        const int count = 1 + int(rng() % 3);
        for (int k = 0; k < count; ++k) {
            const bool v4 = rng() % 2 == 0;
            // Prefixes of every length under a few common roots, so that many nest.
            Prefix root = v4 ? prefix("10.0.0.0/8") : prefix("2001:db8::/32");
            if (rng() % 4 == 0) root = v4 ? prefix("0.0.0.0/0") : prefix("::/0");
            const unsigned max_len = v4 ? 32 : 128;
            Prefix p{random_inside(root, rng), uint8_t(root.length + rng() % (max_len - root.length + 1))};
            const unsigned first_host_bit = (v4 ? 96 : 0) + p.length;
            for (unsigned i = first_host_bit; i < 128; ++i)
                p.address.bytes[i / 8] &= uint8_t(~(0x80u >> (i % 8)));
            if (p.length == 0 || !used.insert(p).second) continue;
            dep.prefixes.push_back(p);
            all.push_back(p);
        }
        ds.push_back(std::move(dep));
    }
    const auto own = make(ds, deployments == 300 ? "own_random" : "own_random_few");

    std::vector<IpAddress> addrs;
    for (int i = 0; i < 20000; ++i) {
        switch (rng() % 4) {
        case 0: addrs.push_back(random_v4(rng)); break;
        case 1: addrs.push_back(random_v6(rng)); break;
        default: addrs.push_back(random_inside(all[rng() % all.size()], rng)); break;
        }
    }
    // A count that is not a multiple of the bulk chunk.
    addrs.resize(19999);

    std::vector<DeploymentId> bulk(addrs.size(), 0x1234);
    own->lookup_bulk(addrs.data(), bulk.data(), unsigned(addrs.size()));
    size_t owned = 0, mismatches = 0;
    for (size_t i = 0; i < addrs.size(); ++i) {
        const DeploymentId expected = reference_lookup(ds, addrs[i]);
        const DeploymentId single = own->lookup(addrs[i]);
        if (single != expected || bulk[i] != expected) {
            if (++mismatches <= 5)
                UNSCOPED_INFO(addrs[i].to_string() << ": expected " << expected << ", lookup "
                                                   << single << ", bulk " << bulk[i]);
        }
        owned += expected != kNoDeployment;
    }
    CHECK(mismatches == 0);
    // The draw must test both outcomes, or agreement proves little.
    CHECK(owned > addrs.size() / 3);
    CHECK(owned < addrs.size());
}

TEST_CASE("lookup and lookup_bulk allocate nothing") {
    using sg::test::g_counting;
    using sg::test::g_news;
    g_counting = true;
    void* volatile probe = ::operator new(16);
    ::operator delete(probe);
    g_counting = false;
    REQUIRE(g_news == 1); // the counter sees allocations
    g_news = 0;

    const auto own = make({deployment("a", {"10.0.0.0/8", "2001:db8::/32"})});
    IpAddress addrs[100];
    DeploymentId out[100];
    for (int i = 0; i < 100; ++i)
        addrs[i] = i % 2 ? IpAddress::from_v4_host(0x0a000000u + unsigned(i)) : ip("2001:db8::5");
    g_counting = true;
    unsigned owned = 0;
    for (int i = 0; i < 100; ++i) owned += own->lookup(addrs[i]) == 0;
    own->lookup_bulk(addrs, out, 100);
    g_counting = false;
    CHECK(g_news == 0);
    CHECK(owned == 100);
    CHECK(std::count(out, out + 100, DeploymentId(0)) == 100);
}

TEST_CASE("Bad deployments are refused with a message naming the problem") {
    SECTION("the same prefix in two deployments") {
        const auto msg = create_error({deployment("a", {"10.0.0.0/8"}), deployment("b", {"10.0.0.0/8"})});
        CHECK(msg.find("10.0.0.0/8") != std::string::npos);
        CHECK(msg.find("'a'") != std::string::npos);
        CHECK(msg.find("'b'") != std::string::npos);
        const auto msg6 = create_error({deployment("x", {"2001:db8::/32"}), deployment("y", {"2001:db8::/32"})});
        CHECK(msg6.find("2001:db8::/32") != std::string::npos);
    }
    SECTION("the same prefix twice in one deployment is fine") {
        const auto own = make({deployment("a", {"10.0.0.0/8", "10.0.0.0/8"})}, "own_dup");
        CHECK(own->lookup(ip("10.1.1.1")) == 0);
    }
    SECTION("host bits set in a prefix built in code") {
        Deployment d = deployment("a", {});
        d.prefixes.push_back(Prefix{ip("10.0.0.1"), 8});
        CHECK(create_error({d}).find("host bits") != std::string::npos);
    }
    SECTION("a prefix length past the family's bits") {
        Deployment d = deployment("a", {});
        d.prefixes.push_back(Prefix{ip("10.0.0.0"), 33});
        CHECK(create_error({d}).find("length 33") != std::string::npos);
    }
    SECTION("more deployments than ids") {
        std::vector<Deployment> many(kMaxDeployments + 1);
        CHECK(create_error(many).find("at most 65535") != std::string::npos);
    }
    SECTION("names: missing, too long, in use") {
        CHECK(create_error({}, "").find("name is required") != std::string::npos);
        CHECK(create_error({}, "a_name_much_too_long_for_lpm").find("longer than") != std::string::npos);
        const std::vector<Deployment> ds = {deployment("a", {"10.0.0.0/8", "2001:db8::/32"})};
        const auto first = make(ds, "own_twice");
        CHECK(create_error(ds, "own_twice").find("already in use") != std::string::npos);
    }
}
