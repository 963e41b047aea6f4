#include "incident/manager.hpp"

#include "incident_test_util.hpp"

using namespace sg;
using namespace sg::test;
using S = IncidentState;

namespace {

ExceptionScope scope(std::string deployment) { return {std::move(deployment), {}, {}, {}, {}}; }

// Does an exception with this scope suppress web's outbound ssh brute force
// from 203.0.113.5 to 8.8.8.8?
bool suppresses(const ExceptionScope& s) {
    auto m = manager();
    auto ex = m->add_exception(s, "expected", kT0 + kHour, "owner@web", kT0);
    REQUIRE(ex.ok());
    auto id = m->on_attribution(outbound(), kT0 + kSec);
    REQUIRE(id.ok());
    const uint64_t hits = m->find_exception(*ex)->hits;
    CHECK(hits == (*id == 0 ? 1u : 0u));
    return *id == 0;
}

} // namespace

TEST_CASE("Exception scope: deployment, type, direction, peer prefix, port") {
    CHECK(suppresses(scope("web")));
    CHECK_FALSE(suppresses(scope("db")));

    auto s = scope("web");
    s.type = "bruteforce";
    CHECK(suppresses(s));
    s.type = "port_scan";
    CHECK_FALSE(suppresses(s));

    s = scope("web");
    s.direction = Direction::outbound;
    CHECK(suppresses(s));
    s.direction = Direction::inbound;
    CHECK_FALSE(suppresses(s));

    s = scope("web");
    s.peer = prefix("8.8.8.0/24");
    CHECK(suppresses(s));
    s.peer = prefix("8.8.4.0/24");
    CHECK_FALSE(suppresses(s));
    s.peer = prefix("203.0.113.0/24");  // the deployment's own side is not the peer
    CHECK_FALSE(suppresses(s));

    s = scope("web");
    s.port = 22;
    CHECK(suppresses(s));
    s.port = 3389;
    CHECK_FALSE(suppresses(s));

    s = {"web", "bruteforce", Direction::outbound, prefix("8.0.0.0/8"), 22};
    CHECK(suppresses(s));
}

TEST_CASE("Exceptions count hits, open nothing, and end at their expiry") {
    auto m = manager();
    auto ex = m->add_exception(scope("web"), "pen test this week", kT0 + kHour, "owner@web", kT0);
    REQUIRE(ex.ok());
    for (int i = 0; i < 3; ++i) CHECK(*m->on_attribution(outbound(), kT0 + i * kMin) == 0);
    CHECK(m->incidents().empty());
    CHECK(m->pending_notifications().empty());
    CHECK(m->find_exception(*ex)->hits == 3);

    REQUIRE(m->tick(kT0 + kHour, none).ok());
    const IncidentException& e = *m->find_exception(*ex);
    CHECK(e.ended == kT0 + kHour);
    CHECK(e.ended_why == "expired");
    CHECK(e.events.back().kind == "exception_expired");
    CHECK(*m->on_attribution(outbound(), kT0 + kHour + kSec) == 1);
    CHECK_THAT(m->remove_exception(*ex, "op", "", kT0 + 2 * kHour).error().message,
               Catch::Contains("already ended (expired)"));
}

TEST_CASE("An exception excepts matching incidents: no deadline, no deactivation") {
    auto m = manager();
    REQUIRE(m->on_attribution(outbound(), kT0).ok());
    REQUIRE(m->mark_notified(1, Role::source, "web-team@example.com", kT0).ok());
    REQUIRE(m->on_attribution(inbound(2), kT0).ok());  // db's: out of scope
    auto ex = m->add_exception(scope("web"), "our scanner", kT0 + 48 * kHour, "owner@web", kT0 + kHour);
    REQUIRE(ex.ok());
    CHECK(m->find(1)->state == S::excepted);
    CHECK(m->find(1)->exception == *ex);
    CHECK(m->find(1)->deadline == std::nullopt);
    CHECK(m->find(1)->events.back().why == "exception 1: our scanner");
    CHECK(m->find(1)->events.back().who == "owner@web");
    CHECK(m->find(2)->state == S::open);
    CHECK(m->find_exception(*ex)->events.front().kind == "exception_added");

    REQUIRE(m->tick(kT0 + 25 * kHour, all).ok());
    CHECK(m->find(1)->state == S::excepted);
    CHECK_THAT(m->extend(1, kHour, "x", "o", kT0 + 25 * kHour).error().message,
               Catch::Contains("is excepted: it has no deadline"));

    SECTION("removing the exception resolves what it excepted") {
        REQUIRE(m->remove_exception(*ex, "op", "scanner retired", kT0 + 26 * kHour).ok());
        CHECK(m->find(1)->state == S::resolved);
        CHECK(m->find_exception(*ex)->ended_why == "scanner retired");
        CHECK(m->find_exception(*ex)->events.back().kind == "exception_removed");
        CHECK(*m->on_attribution(outbound(), kT0 + 27 * kHour) == 3);  // new incident
    }
}

TEST_CASE("Exceptions are refused with a clear message when malformed") {
    auto m = manager();
    CHECK_THAT(m->add_exception(scope("nope"), "r", kT0 + kHour, "o", kT0).error().message,
               Catch::Contains("unknown deployment 'nope'"));
    CHECK_THAT(m->add_exception(scope("web"), "", kT0 + kHour, "o", kT0).error().message,
               Catch::Contains("reason"));
    CHECK_THAT(m->add_exception(scope("web"), "r", kT0, "o", kT0).error().message,
               Catch::Contains("not in the future"));
    CHECK_THAT(m->add_exception(scope("web"), "r", kT0 + kHour, "", kT0).error().message,
               Catch::Contains("who"));
    CHECK(m->exceptions().empty());
}

TEST_CASE("A deactivated incident stays deactivated under a new exception") {
    auto m = manager();
    REQUIRE(m->on_attribution(outbound(), kT0).ok());
    REQUIRE(m->deactivate(1, "op", "spreading", kT0).ok());
    REQUIRE(m->add_exception(scope("web"), "r", kT0 + kHour, "o", kT0).ok());
    CHECK(m->find(1)->state == S::deactivated);
}

TEST_CASE("An excepted incident stays excepted while its traffic goes on, and resolves once it stops") {
    auto m = manager();  // quiet period 15 minutes
    REQUIRE(m->on_attribution(outbound(), kT0).ok());
    auto ex = m->add_exception(scope("web"), "our scanner", kT0 + 48 * kHour, "owner@web", kT0 + kMin);
    REQUIRE(ex.ok());
    REQUIRE(m->find(1)->state == S::excepted);
    // The detector keeps attributing the excepted traffic: each attribution is
    // a hit, and the desk reports nothing as seen (the id returned is 0).
    for (Nanos t = kT0 + 2 * kMin; t <= kT0 + kHour; t += 5 * kMin) {
        auto id = m->on_attribution(outbound(), t);
        REQUIRE(id.ok());
        CHECK(*id == 0);
        REQUIRE(m->tick(t, none).ok());
        CHECK(m->find(1)->state == S::excepted);
        CHECK(m->find(1)->last_seen == t);
    }
    CHECK(m->find_exception(*ex)->hits == 12);
    // Quiet from kT0 + 57 min: resolved 15 minutes later, not before.
    REQUIRE(m->tick(kT0 + kHour + 11 * kMin, none).ok());
    CHECK(m->find(1)->state == S::excepted);
    REQUIRE(m->tick(kT0 + kHour + 12 * kMin, none).ok());
    CHECK(m->find(1)->state == S::resolved);
}
