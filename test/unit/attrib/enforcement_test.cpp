#include "attrib/enforcement.hpp"

#include <memory>

#include <catch2/catch.hpp>

using namespace sg;

namespace {

IpAddress ip(const char* text) {
    const auto a = IpAddress::parse(text);
    REQUIRE(a.has_value());
    return *a;
}

std::unique_ptr<EnforcementSlot> slot_for(unsigned workers) {
    auto r = EnforcementSlot::create(workers);
    if (!r.ok()) FAIL(r.error().message);
    return std::move(r.value());
}

std::unique_ptr<Enforcement> blocking(DeploymentId d, size_t deployments = 4) {
    auto e = std::make_unique<Enforcement>();
    e->blocked.assign(deployments, 0);
    e->blocked[d] = 1;
    e->any_blocked = true;
    return e;
}

EndpointSelector address(const char* text) {
    EndpointSelector s;
    s.kind = EndpointSelector::Kind::address;
    s.address = ip(text);
    return s;
}

EndpointSelector deployment(DeploymentId d) {
    EndpointSelector s;
    s.kind = EndpointSelector::Kind::deployment;
    s.deployment = d;
    return s;
}

} // namespace

TEST_CASE("EnforcementSlot: publish makes the new version current, numbered in order") {
    const auto slot = slot_for(1);
    CHECK(slot->current() == nullptr);
    CHECK(slot->published() == nullptr);

    auto first = blocking(1);
    const Enforcement* first_ptr = first.get();
    slot->publish(std::move(first));
    CHECK(slot->current() == first_ptr);
    CHECK(slot->published() == first_ptr);
    CHECK(slot->current()->version == 1);
    CHECK(slot->current()->is_blocked(1));

    auto second = blocking(2);
    const Enforcement* second_ptr = second.get();
    slot->publish(std::move(second));
    CHECK(slot->current() == second_ptr);
    CHECK(slot->current()->version == 2);
    CHECK_FALSE(slot->current()->is_blocked(1));
    CHECK(slot->current()->is_blocked(2));
}

TEST_CASE("EnforcementSlot: a replaced version is freed only after every online worker was quiescent") {
    const auto slot = slot_for(2);
    slot->online(0);
    slot->online(1);
    slot->publish(blocking(0));
    CHECK(slot->retired() == 0);  // nothing was replaced
    slot->publish(blocking(1));
    slot->publish(blocking(2));
    CHECK(slot->retired() == 2);  // both workers may still read versions 1 and 2

    slot->quiescent(0);
    slot->reclaim();
    CHECK(slot->retired() == 2);  // worker 1 has not passed a quiescent point yet

    slot->quiescent(1);
    CHECK(slot->retired() == 2);  // freed by reclaim() or the next publish, not by the worker
    slot->reclaim();
    CHECK(slot->retired() == 0);
    CHECK(slot->current()->version == 3);

    // A version replaced after a worker's quiescent point waits for its next one.
    slot->publish(blocking(3));
    CHECK(slot->retired() == 1);
    slot->quiescent(1);
    slot->reclaim();
    CHECK(slot->retired() == 1);
    slot->quiescent(0);
    slot->publish(blocking(0));  // publish reclaims too
    CHECK(slot->retired() == 1);  // version 4 (just replaced) waits; version 3 is gone
    slot->quiescent(0);
    slot->quiescent(1);
    slot->reclaim();
    CHECK(slot->retired() == 0);

    slot->offline(0);
    slot->offline(1);
}

TEST_CASE("EnforcementSlot: offline workers do not hold reclamation") {
    const auto slot = slot_for(2);
    SECTION("no worker online: replaced versions go at once") {
        slot->publish(blocking(0));
        slot->publish(blocking(1));
        CHECK(slot->retired() == 0);
    }
    SECTION("one of two workers online") {
        slot->online(0);
        slot->online(1);
        slot->offline(1);
        slot->publish(blocking(0));
        slot->publish(blocking(1));
        CHECK(slot->retired() == 1);
        slot->quiescent(0);
        slot->reclaim();
        CHECK(slot->retired() == 0);
        slot->offline(0);
    }
    SECTION("a worker that goes offline lets go of what it held") {
        slot->online(0);
        slot->publish(blocking(0));
        slot->publish(blocking(1));
        CHECK(slot->retired() == 1);
        slot->offline(0);
        slot->reclaim();
        CHECK(slot->retired() == 0);
    }
}

TEST_CASE("EndpointSelector and EvidenceWatch: matching, in both directions") {
    const EndpointSelector any;
    CHECK(any.matches(ip("10.0.0.1"), 0));
    CHECK(any.matches(ip("2001:db8::1"), kNoDeployment));

    const EndpointSelector web = deployment(0);
    CHECK(web.matches(ip("10.1.0.5"), 0));
    CHECK_FALSE(web.matches(ip("10.1.0.5"), 1));
    CHECK_FALSE(web.matches(ip("198.51.100.1"), kNoDeployment));

    const EndpointSelector host = address("198.51.100.150");
    CHECK(host.matches(ip("198.51.100.150"), kNoDeployment));
    CHECK(host.matches(ip("198.51.100.150"), 3));  // the address decides, not the owner
    CHECK_FALSE(host.matches(ip("198.51.100.151"), kNoDeployment));

    EvidenceWatch w;
    w.incident = 7;
    w.source = web;
    w.target = host;
    // source -> target, and the answers target -> source.
    CHECK(w.matches(ip("10.1.0.5"), 0, ip("198.51.100.150"), kNoDeployment));
    CHECK(w.matches(ip("198.51.100.150"), kNoDeployment, ip("10.1.0.5"), 0));
    // Either end wrong: not this incident's packets.
    CHECK_FALSE(w.matches(ip("10.2.0.5"), 1, ip("198.51.100.150"), kNoDeployment));
    CHECK_FALSE(w.matches(ip("10.1.0.5"), 0, ip("198.51.100.151"), kNoDeployment));
    CHECK_FALSE(w.matches(ip("198.51.100.151"), kNoDeployment, ip("10.1.0.5"), 0));
    // Both ends inside web: the target is an address, which neither is.
    CHECK_FALSE(w.matches(ip("10.1.0.5"), 0, ip("10.1.0.6"), 0));

    EvidenceWatch flood;  // a spoofed source: any address at all towards the target
    flood.target = address("10.2.0.20");
    CHECK(flood.matches(ip("203.0.113.9"), kNoDeployment, ip("10.2.0.20"), 1));
    CHECK(flood.matches(ip("10.2.0.20"), 1, ip("192.0.2.1"), kNoDeployment));
    CHECK_FALSE(flood.matches(ip("203.0.113.9"), kNoDeployment, ip("10.2.0.21"), 1));
}

TEST_CASE("Enforcement: is_blocked by deployment id, unknown ids and external addresses never") {
    Enforcement e;
    CHECK_FALSE(e.active());
    CHECK_FALSE(e.is_blocked(0));
    e.blocked = {0, 1, 0};
    e.any_blocked = true;
    CHECK_FALSE(e.is_blocked(0));
    CHECK(e.is_blocked(1));
    CHECK_FALSE(e.is_blocked(2));
    CHECK_FALSE(e.is_blocked(3));             // past the list (a deployment added later)
    CHECK_FALSE(e.is_blocked(kNoDeployment));  // external
    CHECK(e.active());

    Enforcement watching;
    watching.watches.push_back(EvidenceWatch{});
    CHECK(watching.active());
}
