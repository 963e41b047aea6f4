// AlertGate: which alerts of a rule are reported under its threshold,
// detection_filter and the threshold.config entries, and which action a
// rate_filter gives them. Times are packet seconds.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "alert_test_util.hpp"
#include "match/rule_parser.hpp"
#include "match/threshold_config.hpp"
#include "report/alert_gate.hpp"
#include "report/alert_orderer.hpp"

using namespace sg;
using sg::test::alert_at;

namespace {

// Rules and a threshold.config, resolved as the reporter does.
struct Fixture {
    rules::RuleSetParse parse;
    std::vector<rules::RuleFilters> filters;
    AlertGate gate;

    explicit Fixture(std::string_view rules_text, std::string_view config_text = "", size_t capacity = 1024)
        : gate(capacity) {
        parse = rules::parse_rules_text(rules_text, "t.rules", rules::Vars{}, rules::Classifications{});
        for (const auto& e : parse.errors) FAIL(e.text());
        REQUIRE(parse.skipped.empty());
        std::vector<const rules::Rule*> list;
        for (const rules::Rule& r : parse.rules) list.push_back(&r);
        auto config = rules::parse_threshold_config(config_text, "t.config", rules::Vars{});
        REQUIRE(config);
        filters = rules::resolve_rule_filters(list, &*config);
    }

    GateVerdict admit(uint32_t rule_index, const AlertRecord& a) {
        return gate.admit(parse.rules[rule_index], filters[rule_index], a);
    }
    bool reported(uint32_t rule_index, const AlertRecord& a) { return admit(rule_index, a).reported(); }

    // Which of the alerts at these times (one source, one flow) are reported.
    std::vector<int> reported_at(uint32_t rule_index, const std::vector<double>& times,
                                 std::string_view src = "10.0.0.1", std::string_view dst = "10.0.0.2") {
        std::vector<int> out;
        for (size_t i = 0; i < times.size(); ++i)
            if (reported(rule_index, alert_at(times[i], src, dst))) out.push_back(int(i + 1));
        return out;
    }
};

std::string rule(std::string_view options, uint32_t sid = 1) {
    return "alert tcp any any -> any any (" + std::string(options) + " sid:" + std::to_string(sid) + ";)\n";
}

} // namespace

TEST_CASE("gate: a rule without filters reports every match") {
    Fixture f(rule(""));
    CHECK(f.reported_at(0, {1, 1, 2, 3}) == std::vector<int>{1, 2, 3, 4});
    CHECK(f.gate.tracked_keys() == 0);
}

TEST_CASE("gate: limit reports the first N matches of each window") {
    Fixture f(rule("threshold:type limit, track by_src, count 2, seconds 10;"));
    // Window from 0 to 10 (end included), the next opens at 10.5.
    CHECK(f.reported_at(0, {0, 1, 2, 10, 10.5, 11, 12}) == std::vector<int>{1, 2, 5, 6});
}

TEST_CASE("gate: threshold reports every Nth match; the window does not restart at an alert") {
    Fixture f(rule("threshold:type threshold, track by_src, count 3, seconds 10;"));
    // Matches 3 and 6 alert; at 10.5 a new window counts 1 again.
    CHECK(f.reported_at(0, {0, 1, 2, 3, 4, 5, 10.5, 11, 12}) == std::vector<int>{3, 6, 9});
    Fixture one(rule("threshold:type threshold, track by_src, count 1, seconds 10;"));
    CHECK(one.reported_at(0, {0, 1, 20}) == std::vector<int>{1, 2, 3});
}

TEST_CASE("gate: both reports the Nth match of a window, once") {
    Fixture f(rule("threshold:type both, track by_src, count 3, seconds 10;"));
    CHECK(f.reported_at(0, {0, 1, 2, 3, 4, 11, 12, 13}) == std::vector<int>{3, 8});
}

TEST_CASE("gate: detection_filter reports every match after the Nth of a window") {
    Fixture f(rule("detection_filter:track by_src, count 2, seconds 10;"));
    CHECK(f.reported_at(0, {0, 1, 2, 3, 11, 12, 13}) == std::vector<int>{3, 4, 7});
}

TEST_CASE("gate: detection_filter unique_on counts distinct ports") {
    Fixture f(rule("detection_filter:track by_dst, count 2, seconds 60, unique_on dst_port;"));
    auto at = [&](double t, uint16_t dport) { return f.reported(0, alert_at(t, "10.0.0.1", "1.1.1.1", 40000, dport)); };
    CHECK_FALSE(at(0, 22));
    CHECK_FALSE(at(1, 22));  // the same port again
    CHECK_FALSE(at(2, 23));  // two distinct ports: not more than 2
    CHECK(at(3, 24));        // three
    CHECK(at(4, 22));        // and every match after, in the window
    CHECK_FALSE(at(100, 25));  // a new window
    Fixture src(rule("detection_filter:track by_src, count 1, seconds 60, unique_on src_port;"));
    CHECK_FALSE(src.reported(0, alert_at(0, "10.0.0.1", "2.2.2.2", 1000, 80)));
    CHECK(src.reported(0, alert_at(1, "10.0.0.1", "2.2.2.2", 1001, 80)));
}

TEST_CASE("gate: tracking keys") {
    SECTION("by_src and by_dst count each address on its own") {
        Fixture f(rule("threshold:type limit, track by_src, count 1, seconds 60;"));
        CHECK(f.reported(0, alert_at(0, "10.0.0.1", "10.0.0.9")));
        CHECK(f.reported(0, alert_at(1, "10.0.0.2", "10.0.0.9")));
        CHECK_FALSE(f.reported(0, alert_at(2, "10.0.0.1", "10.0.0.8")));
        Fixture d(rule("threshold:type limit, track by_dst, count 1, seconds 60;"));
        CHECK(d.reported(0, alert_at(0, "10.0.0.1", "10.0.0.9")));
        CHECK_FALSE(d.reported(0, alert_at(1, "10.0.0.2", "10.0.0.9")));
    }
    SECTION("by_both: one pair, either direction") {
        Fixture f(rule("threshold:type limit, track by_both, count 1, seconds 60;"));
        CHECK(f.reported(0, alert_at(0, "10.0.0.1", "10.0.0.9")));
        CHECK_FALSE(f.reported(0, alert_at(1, "10.0.0.9", "10.0.0.1", 80, 40000)));
        CHECK(f.reported(0, alert_at(2, "10.0.0.1", "10.0.0.8")));
    }
    SECTION("by_rule: every match of the rule together") {
        Fixture f(rule("threshold:type limit, track by_rule, count 1, seconds 60;") +
                  rule("threshold:type limit, track by_rule, count 1, seconds 60;", 2));
        CHECK(f.reported(0, alert_at(0, "10.0.0.1", "10.0.0.9")));
        CHECK_FALSE(f.reported(0, alert_at(1, "10.0.0.2", "10.0.0.8")));
        CHECK(f.reported(1, alert_at(1, "10.0.0.2", "10.0.0.8")));  // another rule counts apart
    }
    SECTION("by_flow: each flow, both directions") {
        Fixture f(rule("threshold:type limit, track by_flow, count 1, seconds 60;"));
        CHECK(f.reported(0, alert_at(0, "10.0.0.1", "10.0.0.9", 40000, 80)));
        CHECK_FALSE(f.reported(0, alert_at(1, "10.0.0.9", "10.0.0.1", 80, 40000)));
        CHECK(f.reported(0, alert_at(2, "10.0.0.1", "10.0.0.9", 40001, 80)));  // another flow
        AlertRecord no_flow = alert_at(3, "10.0.0.1", "10.0.0.9");
        no_flow.has_flow = false;
        CHECK(f.reported(0, no_flow));  // nothing to count in
    }
}

TEST_CASE("gate: a threshold.config threshold replaces the rule's own") {
    Fixture f(rule("threshold:type limit, track by_src, count 100, seconds 60;"),
              "threshold gen_id 1, sig_id 1, type limit, track by_flow, count 1, seconds 60\n");
    CHECK(f.reported_at(0, {0, 1, 2}) == std::vector<int>{1});
}

TEST_CASE("gate: suppress") {
    Fixture f(rule("") + rule("", 2) + rule("", 3) + rule("threshold:type both, track by_src, count 2, seconds 60;", 4),
              "suppress gen_id 1, sig_id 1\n"
              "suppress gen_id 1, sig_id 2, track by_src, ip 10.0.0.0/24\n"
              "suppress gen_id 1, sig_id 3, track by_either, ip [192.0.2.1, 198.51.100.0/24]\n"
              "suppress gen_id 1, sig_id 4, track by_dst, ip 10.9.9.9\n");
    CHECK(f.admit(0, alert_at(0, "10.0.0.1", "10.0.0.2")).outcome == GateVerdict::Outcome::suppressed);
    CHECK_FALSE(f.reported(1, alert_at(0, "10.0.0.7", "172.16.0.1")));
    CHECK(f.reported(1, alert_at(0, "172.16.0.1", "10.0.0.7")));  // by_src: the destination does not count
    CHECK_FALSE(f.reported(2, alert_at(0, "172.16.0.1", "198.51.100.7")));
    CHECK_FALSE(f.reported(2, alert_at(0, "192.0.2.1", "172.16.0.1")));
    CHECK(f.reported(2, alert_at(0, "172.16.0.1", "172.16.0.2")));
    // A suppressed alert is not counted by the rule's threshold either.
    CHECK_FALSE(f.reported(3, alert_at(0, "10.0.0.1", "10.9.9.9")));
    CHECK_FALSE(f.reported(3, alert_at(1, "10.0.0.1", "10.9.9.9")));
    CHECK_FALSE(f.reported(3, alert_at(2, "10.0.0.1", "10.0.0.2")));  // the 1st counted match
    CHECK(f.reported(3, alert_at(3, "10.0.0.1", "10.0.0.2")));        // the 2nd
    CHECK(f.gate.counters().suppressed == 6);
}

TEST_CASE("gate: rate_filter changes the action for `timeout` seconds once the rate is exceeded") {
    Fixture f("drop tcp any any -> any any (sid:1;)\n",
              "rate_filter gen_id 1, sig_id 1, track by_src, count 2, seconds 10, new_action alert, timeout 5\n");
    std::vector<std::string> actions;
    for (double t : {0.0, 1.0, 2.0, 3.0, 7.0, 7.5}) {
        const GateVerdict v = f.admit(0, alert_at(t, "10.0.0.1", "10.0.0.2"));
        CHECK(v.reported());  // a rate_filter never withholds
        actions.push_back(v.rate_action ? rules::action_name(*v.rate_action) : "-");
    }
    // The 3rd match in the window exceeds 2: alert from t=2 to t=7 (end included);
    // the match at 7.5 finds the timeout over.
    CHECK(actions == std::vector<std::string>{"-", "-", "alert", "alert", "alert", "-"});
    // Another source has its own rate.
    CHECK_FALSE(f.admit(0, alert_at(3, "10.0.0.5", "10.0.0.2")).rate_action);
    CHECK(f.gate.counters().rate_filtered == 3);
}

TEST_CASE("gate: rate_filter new_action drop and pass") {
    Fixture f(rule("") + rule("", 2),
              "rate_filter gen_id 1, sig_id 1, track by_rule, count 1, seconds 10, new_action drop, timeout 60\n"
              "rate_filter gen_id 1, sig_id 2, track by_rule, count 1, seconds 10, new_action pass, timeout 60\n");
    CHECK_FALSE(f.admit(0, alert_at(0, "10.0.0.1", "10.0.0.2")).rate_action);
    const auto v = f.admit(0, alert_at(1, "10.0.0.3", "10.0.0.4"));
    CHECK(v.reported());
    REQUIRE(v.rate_action);
    CHECK(*v.rate_action == rules::Action::drop);
    CHECK(f.admit(1, alert_at(0, "10.0.0.1", "10.0.0.2")).reported());
    CHECK(f.admit(1, alert_at(1, "10.0.0.1", "10.0.0.2")).outcome == GateVerdict::Outcome::passed);
}

TEST_CASE("gate: bounded; a full table lets new keys through, counted, until windows end") {
    Fixture f(rule("threshold:type limit, track by_src, count 1, seconds 10;"), "", /*capacity=*/2);
    CHECK(f.reported(0, alert_at(0, "10.0.0.1", "10.0.0.9")));
    CHECK(f.reported(0, alert_at(0, "10.0.0.2", "10.0.0.9")));
    CHECK(f.reported(0, alert_at(1, "10.0.0.3", "10.0.0.9")));  // no room: unfiltered
    CHECK(f.reported(0, alert_at(1, "10.0.0.3", "10.0.0.9")));
    CHECK(f.gate.counters().table_full == 2);
    CHECK_FALSE(f.reported(0, alert_at(2, "10.0.0.1", "10.0.0.9")));  // known keys still count
    // After their windows ended (t > 10), the old keys make room.
    CHECK(f.reported(0, alert_at(11, "10.0.0.3", "10.0.0.9")));
    CHECK_FALSE(f.reported(0, alert_at(12, "10.0.0.3", "10.0.0.9")));
    CHECK(f.gate.counters().table_full == 2);
    CHECK(f.gate.tracked_keys() <= 2);
}

TEST_CASE("gate: the outcome does not depend on how two workers' alerts interleave") {
    // A by_rule threshold sees the alerts of every flow; two workers deliver
    // them in different interleavings, the orderer restores one sequence.
    Fixture base(rule("threshold:type threshold, track by_rule, count 3, seconds 5;"));
    std::vector<AlertRecord> w0, w1;
    for (int i = 0; i < 20; ++i) {
        w0.push_back(alert_at(0.5 * i, "10.0.0.1", "10.0.0.2"));
        w1.push_back(alert_at(0.5 * i + 0.25, "10.0.0.3", "10.0.0.4"));
    }
    auto run = [&](size_t burst0, size_t burst1) {
        Fixture f(rule("threshold:type threshold, track by_rule, count 3, seconds 5;"));
        AlertOrderer o;
        o.set_workers(2);
        std::vector<Nanos> reported;
        AlertRecord a, early;
        auto drain = [&](bool all) {
            while (all ? o.next_any(a) : o.next(a))
                if (f.reported(0, a)) reported.push_back(a.ts);
        };
        size_t i0 = 0, i1 = 0;
        while (i0 < w0.size() || i1 < w1.size()) {
            for (size_t k = 0; k < burst0 && i0 < w0.size(); ++k) o.push(0, w0[i0++], early);
            for (size_t k = 0; k < burst1 && i1 < w1.size(); ++k) o.push(1, w1[i1++], early);
            drain(false);
        }
        drain(true);
        return reported;
    };
    const auto a = run(1, 1);
    CHECK(a.size() == 13);  // 40 matches in windows of 5 s
    CHECK(run(7, 1) == a);
    CHECK(run(1, 9) == a);
    CHECK(run(20, 20) == a);
}
