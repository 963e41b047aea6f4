#include "incident/manager.hpp"

#include "incident_test_util.hpp"
#include "../temp_dir.hpp"

using namespace sg;
using namespace sg::test;
using S = IncidentState;

namespace {

// An outbound incident whose source owner was told: deadline set at kT0 + 1m.
std::pair<std::unique_ptr<IncidentManager>, IncidentId> with_deadline() {
    auto m = manager();
    auto id = m->on_attribution(outbound(), kT0);
    REQUIRE(id.ok());
    REQUIRE(m->mark_notified(*id, Role::source, "web-team@example.com", kT0 + kMin).ok());
    REQUIRE(m->find(*id)->state == S::deadline_set);
    return {std::move(m), *id};
}

std::string refused(const Result<>& r) {
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

} // namespace

TEST_CASE("An attribution opens an incident and asks to notify the source's owner") {
    auto m = manager();
    auto id = m->on_attribution(outbound(), kT0);
    REQUIRE(id.ok());
    CHECK(*id == 1);
    const Incident& inc = *m->find(1);
    CHECK(inc.state == S::open);
    CHECK(inc.key.source.deployment == "web");
    CHECK(inc.key.target.ip == ip("8.8.8.8"));
    CHECK(inc.key.direction == Direction::outbound);
    CHECK(kinds(inc) == std::vector<std::string>{"opened", "notify_requested"});
    CHECK(inc.events[1].why == "notify owner web-team@example.com as source");
    CHECK(inc.deadline == std::nullopt);

    const auto pending = m->pending_notifications();
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].recipient == "web-team@example.com");
    CHECK(pending[0].role == Role::source);
    CHECK(pending[0].message_id() == message_id_for(1, Role::source, "web-team@example.com"));
    CHECK(pending[0].message_id().find("incident-1.source.") != std::string::npos);

    const auto events = m->drain_events();
    REQUIRE(events.size() == 2);
    CHECK(events[0].kind == "opened");
    CHECK(m->drain_events().empty());
}

TEST_CASE("Repeats within the suppression window update one incident") {
    auto m = manager();
    REQUIRE(*m->on_attribution(inbound(1), kT0) == 1);
    auto a = inbound(1);
    a.evidence = {{"attempts", 25}, {"peak_pps", 50}};
    REQUIRE(*m->on_attribution(a, kT0 + 10 * kSec) == 1);   // the same attribution, updated
    REQUIRE(*m->on_attribution(inbound(7), kT0 + 5 * kMin) == 1);  // a new one, same key
    const Incident& inc = *m->find(1);
    CHECK(m->incidents().size() == 1);
    CHECK(inc.updates == 3);
    CHECK(inc.last_seen == kT0 + 5 * kMin);
    CHECK(inc.first_seen == kT0);
    CHECK(inc.attributions == std::set<uint64_t>{1, 7});
    // Counts add over attributions (the latest of each), peaks keep the largest.
    CHECK(inc.merged_evidence()["attempts"] == 25 + 70);
    CHECK(inc.merged_evidence()["peak_pps"] == 700);
    CHECK(kinds(inc) == std::vector<std::string>{"opened", "notify_requested"});

    SECTION("another source, type or target is another incident") {
        CHECK(*m->on_attribution(inbound(2, "9.9.9.9"), kT0) == 2);
        auto scan = inbound(3);
        scan.type = "port_scan";
        CHECK(*m->on_attribution(scan, kT0) == 3);
    }
    SECTION("after quiet-period resolution the same key opens a new incident") {
        REQUIRE(m->tick(kT0 + 5 * kMin + 15 * kMin, none).ok());
        CHECK(m->find(1)->state == S::resolved);
        CHECK(*m->on_attribution(inbound(8), kT0 + 30 * kMin) == 2);
    }
}

TEST_CASE("Hosts of one deployment share the incident: the key is the deployment") {
    auto m = manager();
    REQUIRE(*m->on_attribution(outbound(1), kT0) == 1);
    auto other_host = attribution(2, "bruteforce", {"203.0.113.99", kWeb}, {"8.8.8.8"});
    REQUIRE(*m->on_attribution(other_host, kT0 + kSec) == 1);
    CHECK(m->find(1)->source_hosts == std::set<std::string>{"203.0.113.5", "203.0.113.99"});
}

TEST_CASE("Delivery moves open -> notified -> deadline_set for the source's owner") {
    auto m = manager();
    REQUIRE(m->on_attribution(outbound(), kT0).ok());
    REQUIRE(m->mark_notified(1, Role::source, "web-team@example.com", kT0 + kMin).ok());
    const Incident& inc = *m->find(1);
    CHECK(inc.state == S::deadline_set);
    CHECK(inc.deadline == kT0 + kMin + 24 * kHour);
    CHECK(kinds(inc) == std::vector<std::string>{"opened", "notify_requested", "notification_sent",
                                                 "notified", "deadline_set"});
    CHECK(m->pending_notifications().empty());
    CHECK_THAT(refused(m->mark_notified(1, Role::source, "web-team@example.com", kT0 + 2 * kMin)),
               Catch::Contains("already recorded as sent"));
    CHECK_THAT(refused(m->mark_notified(1, Role::target, "web-team@example.com", kT0)),
               Catch::Contains("asked for no message"));
    CHECK_THAT(refused(m->mark_notified(9, Role::source, "x@example.com", kT0)),
               Catch::Contains("no incident 9"));
}

TEST_CASE("A victim's owner is told, but a victim gets no deadline") {
    auto m = manager();
    REQUIRE(m->on_attribution(inbound(), kT0).ok());
    REQUIRE(m->mark_notified(1, Role::target, "db-team@example.com", kT0).ok());
    CHECK(m->find(1)->state == S::notified);
    CHECK(m->find(1)->deadline == std::nullopt);
    CHECK_THAT(refused(m->deactivate(1, "op", "test", kT0)), Catch::Contains("not a deployment"));
}

TEST_CASE("A deployment without owner is recorded as not notified") {
    auto m = manager();
    REQUIRE(m->on_attribution(attribution(1, "port_scan", {"192.0.2.9", kLab}, {"8.8.8.8"}), kT0).ok());
    CHECK(kinds(*m->find(1)) == std::vector<std::string>{"opened", "not_notified"});
    CHECK(m->pending_notifications().empty());
}

TEST_CASE("An internal attack is one incident with a role for each owner") {
    auto m = manager();
    auto a = attribution(1, "bruteforce", {"203.0.113.5", kWeb}, {"198.51.100.7", kDb});
    REQUIRE(a.direction == Direction::internal);
    REQUIRE(*m->on_attribution(a, kT0) == 1);
    REQUIRE(*m->on_attribution(a, kT0 + kSec) == 1);
    const auto pending = m->pending_notifications();
    REQUIRE(pending.size() == 2);
    CHECK(pending[0].role == Role::source);
    CHECK(pending[0].recipient == "web-team@example.com");
    CHECK(pending[1].role == Role::target);
    CHECK(pending[1].recipient == "db-team@example.com");
    CHECK(pending[0].message_id() != pending[1].message_id());
    CHECK(m->find(1)->deployments() == std::vector<std::string>{"web", "db"});

    // The victim told first: notified; the attacker's owner then: deadline.
    REQUIRE(m->mark_notified(1, Role::target, "db-team@example.com", kT0 + kMin).ok());
    CHECK(m->find(1)->state == S::notified);
    REQUIRE(m->mark_notified(1, Role::source, "web-team@example.com", kT0 + 2 * kMin).ok());
    CHECK(m->find(1)->state == S::deadline_set);
    CHECK(m->find(1)->deadline == kT0 + 2 * kMin + 24 * kHour);
}

TEST_CASE("Deadline: deactivation only when the traffic goes on past it") {
    auto [m, id] = with_deadline();
    const Nanos deadline = *m->find(id)->deadline;
    REQUIRE(m->on_attribution(outbound(), deadline - kMin).ok());

    REQUIRE(m->tick(deadline - kSec, all).ok());  // before: nothing
    CHECK(m->find(id)->state == S::deadline_set);
    REQUIRE(m->tick(deadline + kSec, none).ok());  // passed, but quiet in this window
    CHECK(m->find(id)->state == S::deadline_set);

    SECTION("traffic seen after the deadline deactivates") {
        m->drain_events();
        REQUIRE(m->tick(deadline + 2 * kSec, std::set<IncidentKey>{m->find(id)->key}).ok());
        CHECK(m->find(id)->state == S::deactivated);
        CHECK(m->deactivated_deployments() == std::set<std::string>{"web"});
        const auto events = m->drain_events();
        REQUIRE(events.size() == 1);
        CHECK(events[0].kind == "deactivated");
        CHECK(events[0].who == "safeguard");
        CHECK(events[0].detail["deployment"] == "web");
        CHECK_THAT(events[0].why, Catch::Contains("deadline"));
        // A deactivated incident does not resolve by itself, nor by hand.
        REQUIRE(m->tick(deadline + 10 * kHour, none).ok());
        CHECK(m->find(id)->state == S::deactivated);
        CHECK_THAT(refused(m->resolve(id, "op", "done", deadline + 11 * kHour)),
                   Catch::Contains("reactivate it first"));
        CHECK_THAT(refused(m->deactivate(id, "op", "again", deadline + 11 * kHour)),
                   Catch::Contains("already deactivated"));
        CHECK_THAT(refused(m->extend(id, kHour, "late", "owner", deadline + 11 * kHour)),
                   Catch::Contains("no deadline to extend"));

        // reactivated -> resolves after a quiet period.
        REQUIRE(m->reactivate(id, "op", "fixed the host", deadline + 12 * kHour).ok());
        CHECK(m->find(id)->state == S::reactivated);
        CHECK(m->deactivated_deployments().empty());
        CHECK(m->find(id)->events.back().who == "op");
        CHECK(m->find(id)->events.back().why == "fixed the host");
        CHECK_THAT(refused(m->reactivate(id, "op", "again", deadline + 12 * kHour)),
                   Catch::Contains("only a deactivated incident"));
        REQUIRE(m->tick(deadline + 12 * kHour + 16 * kMin, none).ok());
        CHECK(m->find(id)->state == S::resolved);
    }
    SECTION("quiet long enough: resolved instead") {
        REQUIRE(m->tick(deadline - kMin + 15 * kMin, none).ok());
        CHECK(m->find(id)->state == S::resolved);
        CHECK(m->find(id)->events.back().why == "no traffic for 15m");
    }
}

TEST_CASE("Quiet-period resolution needs the whole quiet period without traffic") {
    auto m = manager();
    REQUIRE(m->on_attribution(inbound(), kT0).ok());
    REQUIRE(m->tick(kT0 + 15 * kMin - kSec, none).ok());
    CHECK(m->find(1)->state == S::open);
    REQUIRE(m->tick(kT0 + 15 * kMin, all).ok());  // the key still shows traffic
    CHECK(m->find(1)->state == S::open);
    REQUIRE(m->tick(kT0 + 15 * kMin, none).ok());
    CHECK(m->find(1)->state == S::resolved);
    CHECK(m->find(1)->events.back().who == "safeguard");
}

TEST_CASE("Extensions move the deadline, bounded by max_extension in total") {
    auto [m, id] = with_deadline();
    const Nanos deadline = *m->find(id)->deadline;
    REQUIRE(m->extend(id, 48 * kHour, "patching", "owner@web", kT0 + kHour).ok());
    CHECK(m->find(id)->state == S::extended);
    CHECK(m->find(id)->deadline == deadline + 48 * kHour);
    CHECK(m->find(id)->events.back().who == "owner@web");
    CHECK(m->find(id)->events.back().why == "patching");
    CHECK(m->find(id)->events.back().detail["extended_total"] == "48h");

    CHECK_THAT(refused(m->extend(id, 25 * kHour, "more", "owner@web", kT0 + 2 * kHour)),
               Catch::Contains("policy.max_extension is 72h (24h left)"));
    REQUIRE(m->extend(id, 24 * kHour, "more", "owner@web", kT0 + 2 * kHour).ok());
    CHECK(m->find(id)->extended_total == 72 * kHour);
    CHECK_THAT(refused(m->extend(id, kSec, "more", "owner@web", kT0 + 3 * kHour)),
               Catch::Contains("0s left"));
    CHECK_THAT(refused(m->extend(id, kHour, "", "owner@web", kT0)), Catch::Contains("reason"));
    CHECK_THAT(refused(m->extend(id, kHour, "x", "", kT0)), Catch::Contains("who"));

    // The extension stops the deactivation at the old deadline.
    REQUIRE(m->on_attribution(outbound(), deadline + kSec).ok());
    REQUIRE(m->tick(deadline + 2 * kSec, all).ok());
    CHECK(m->find(id)->state == S::extended);
    REQUIRE(m->tick(deadline + 72 * kHour, all).ok());
    CHECK(m->find(id)->state == S::deactivated);
}

TEST_CASE("An extension is refused without a deadline, after it, or for nothing") {
    auto m = manager();
    REQUIRE(m->on_attribution(outbound(), kT0).ok());
    CHECK_THAT(refused(m->extend(1, kHour, "x", "o", kT0)), Catch::Contains("is open: it has no deadline"));
    REQUIRE(m->mark_notified(1, Role::source, "web-team@example.com", kT0).ok());
    CHECK_THAT(refused(m->extend(1, 0, "x", "o", kT0)), Catch::Contains("longer than 0"));
    CHECK_THAT(refused(m->extend(1, kHour, "x", "o", kT0 + 24 * kHour)), Catch::Contains("passed at"));
    CHECK_THAT(refused(m->extend(7, kHour, "x", "o", kT0)), Catch::Contains("no incident 7"));
    CHECK(m->find(1)->state == S::deadline_set);
}

TEST_CASE("Acknowledge is recorded once, and not on a resolved incident") {
    auto m = manager();
    REQUIRE(m->on_attribution(inbound(), kT0).ok());
    REQUIRE(m->acknowledge(1, "db-team@example.com", kT0 + kMin).ok());
    CHECK(m->find(1)->acknowledged_by == "db-team@example.com");
    CHECK(m->find(1)->state == S::open);  // an acknowledgement changes no state
    CHECK(kinds(*m->find(1)).back() == "acknowledged");
    CHECK_THAT(refused(m->acknowledge(1, "someone", kT0)), Catch::Contains("already acknowledged by db-team"));
    CHECK_THAT(refused(m->acknowledge(1, "", kT0)), Catch::Contains("who"));
    REQUIRE(m->resolve(1, "op", "false positive", kT0 + 2 * kMin).ok());
    CHECK(m->find(1)->state == S::resolved);
    CHECK(m->find(1)->events.back().why == "false positive");
    CHECK_THAT(refused(m->acknowledge(1, "x", kT0)), Catch::Contains("incident 1 is resolved"));
    CHECK_THAT(refused(m->resolve(1, "op", "again", kT0)), Catch::Contains("incident 1 is resolved"));
    CHECK_THAT(refused(m->deactivate(1, "op", "x", kT0)), Catch::Contains("resolved"));
    CHECK_THAT(refused(m->reactivate(1, "op", "x", kT0)), Catch::Contains("resolved"));
}

TEST_CASE("Manual deactivation works before the deadline and needs a reason") {
    auto [m, id] = with_deadline();
    CHECK_THAT(refused(m->deactivate(id, "op", "", kT0)), Catch::Contains("reason"));
    REQUIRE(m->deactivate(id, "op", "it is spreading", kT0 + kHour).ok());
    CHECK(m->find(id)->state == S::deactivated);
    const auto events = m->drain_events();
    CHECK(events.back().kind == "deactivated");
    CHECK(events.back().who == "op");
}

TEST_CASE("Refused actions change nothing and write nothing") {
    test::TempDir dir;
    auto m = manager(options(dir.path.string()));
    REQUIRE(m->on_attribution(outbound(), kT0).ok());
    const auto before = state_of(*m);
    const uint64_t bytes = m->journal_bytes();
    CHECK_FALSE(m->extend(1, kHour, "x", "o", kT0).ok());
    CHECK_FALSE(m->reactivate(1, "o", "x", kT0).ok());
    CHECK_FALSE(m->remove_exception(5, "o", "x", kT0).ok());
    CHECK_FALSE(m->add_exception({"nope", {}, {}, {}, {}}, "x", kT0 + kHour, "o", kT0).ok());
    CHECK(state_of(*m) == before);
    CHECK(m->journal_bytes() == bytes);
}

TEST_CASE("JSON forms: report incident and eve line") {
    auto [m, id] = with_deadline();
    REQUIRE(m->set_evidence_file(id, "/var/lib/safeguard/evidence/1.pcap", kT0 + kMin).ok());
    const auto j = to_json(*m->find(id));
    CHECK(j["id"] == 1);
    CHECK(j["state"] == "deadline_set");
    CHECK(j["type"] == "bruteforce");
    CHECK(j["direction"] == "outbound");
    CHECK(j["source"] == nlohmann::json{{"deployment", "web"}, {"ip", nullptr}});
    CHECK(j["target"] == nlohmann::json{{"deployment", nullptr}, {"ip", "8.8.8.8"}});
    CHECK(j["deployments"] == nlohmann::json{"web"});
    CHECK(j["deadline"] == "2023-11-15T22:14:20.000000+0000");
    CHECK(j["evidence_file"] == "/var/lib/safeguard/evidence/1.pcap");
    REQUIRE(j["notifications"].size() == 1);
    CHECK(j["notifications"][0]["sent"] == "2023-11-14T22:14:20.000000+0000");
    CHECK(j["events"].size() == m->find(id)->events.size());

    const auto events = m->drain_events();
    const Event& e = events.back();
    const auto eve = to_eve_json(e, m->find(e.incident), nullptr);
    CHECK(eve["event_type"] == "incident");
    CHECK(eve["timestamp"] == format_timestamp(e.at));
    CHECK(eve["event"]["kind"] == "evidence_saved");
    CHECK(eve["incident"]["id"] == 1);
    CHECK(eve["incident"]["state"] == "deadline_set");
}
