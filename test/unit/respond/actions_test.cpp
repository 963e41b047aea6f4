#include "respond/actions.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "../temp_dir.hpp"

using namespace sg;
using namespace sg::respond;

namespace {

constexpr Nanos kSec = kNsPerSec;

std::string parse_error(const std::string& text) {
    auto r = parse_actions(text, "acts.yaml");
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("actions: a valid list parses, sorted by time, with scopes and durations") {
    const std::string text =
        "- at: 40s\n"                      // 1
        "  do: reactivate\n"
        "  incident: 1\n"
        "- at: 12s\n"                      // 4
        "  do: exception\n"
        "  who: owner@web.example\n"
        "  reason: nightly inventory scan of our own hosts\n"
        "  deployment: web\n"
        "  type: port_scan\n"
        "  direction: outbound\n"
        "  peer: 198.51.100.0/24\n"
        "  port: 443\n"
        "  for: 7d\n"
        "- at: 1m\n"                       // 14
        "  do: remove_exception\n"
        "  exception: 2\n"
        "  reason: the scan is over\n"
        "- at: 20s\n"                      // 18
        "  do: extend\n"
        "  incident: 3\n"
        "  by: 2h\n"
        "- at: 500ms\n"                    // 22
        "  do: ack\n"
        "  incident: 1\n";
    auto r = parse_actions(text, "acts.yaml");
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    const auto& a = *r;
    REQUIRE(a.size() == 5);

    CHECK(a[0].action == "ack");
    CHECK(a[0].at == 500 * kNsPerMs);
    CHECK(a[0].incident == 1);
    CHECK(a[0].who == "operator");  // the default actor
    CHECK(a[0].line == 22);

    CHECK(a[1].action == "exception");
    CHECK(a[1].at == 12 * kSec);
    CHECK(a[1].who == "owner@web.example");
    CHECK(a[1].reason == "nightly inventory scan of our own hosts");
    CHECK(a[1].scope.deployment == "web");
    REQUIRE(a[1].scope.type.has_value());
    CHECK(*a[1].scope.type == "port_scan");
    REQUIRE(a[1].scope.direction.has_value());
    CHECK(*a[1].scope.direction == Direction::outbound);
    REQUIRE(a[1].scope.peer.has_value());
    CHECK(a[1].scope.peer->to_string() == "198.51.100.0/24");
    REQUIRE(a[1].scope.port.has_value());
    CHECK(*a[1].scope.port == 443);
    CHECK(a[1].duration == 7 * 24 * 3600 * kSec);
    CHECK(a[1].line == 4);

    CHECK(a[2].action == "extend");
    CHECK(a[2].at == 20 * kSec);
    CHECK(a[2].incident == 3);
    CHECK(a[2].duration == 2 * 3600 * kSec);
    CHECK(a[2].line == 18);

    CHECK(a[3].action == "reactivate");
    CHECK(a[3].at == 40 * kSec);
    CHECK(a[3].line == 1);

    CHECK(a[4].action == "remove_exception");
    CHECK(a[4].at == 60 * kSec);
    CHECK(a[4].exception == 2);
    CHECK(a[4].reason == "the scan is over");
}

TEST_CASE("actions: an exception scope needs only a deployment; equal times keep the file's order") {
    auto r = parse_actions("- {at: 5s, do: exception, deployment: db, reason: backups, for: 1h}\n"
                           "- {at: 5s, do: resolve, incident: 2}\n"
                           "- {at: 5s, do: deactivate, incident: 1}\n",
                           "acts.yaml");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 3);
    CHECK((*r)[0].action == "exception");
    CHECK((*r)[0].scope.deployment == "db");
    CHECK_FALSE((*r)[0].scope.type.has_value());
    CHECK_FALSE((*r)[0].scope.direction.has_value());
    CHECK_FALSE((*r)[0].scope.peer.has_value());
    CHECK_FALSE((*r)[0].scope.port.has_value());
    CHECK((*r)[1].action == "resolve");
    CHECK((*r)[2].action == "deactivate");
    CHECK((*r)[2].line == 3);
}

TEST_CASE("actions: an empty file is no actions") {
    auto r = parse_actions("", "acts.yaml");
    REQUIRE(r.ok());
    CHECK(r->empty());
    auto comment = parse_actions("# nothing yet\n", "acts.yaml");
    REQUIRE(comment.ok());
    CHECK(comment->empty());
}

TEST_CASE("actions: every error names the file, the line and what was expected") {
    SECTION("an unknown action") {
        const auto msg =
            parse_error("- at: 1s\n  do: ack\n  incident: 1\n- at: 2s\n  do: explode\n  incident: 1\n");
        CHECK(has(msg, "acts.yaml:5:"));
        CHECK(has(msg, "'explode'"));
        CHECK(has(msg, "expected one of"));
        CHECK(has(msg, "reactivate"));
    }
    SECTION("a bad duration") {
        const auto msg = parse_error("- at: soon\n  do: ack\n  incident: 1\n");
        CHECK(has(msg, "acts.yaml:1:"));
        CHECK(has(msg, "expected a duration"));
        CHECK(has(msg, "'soon'"));
        const auto by = parse_error("- at: 1s\n  do: extend\n  incident: 1\n  by: forever\n");
        CHECK(has(by, "acts.yaml:4:"));
        CHECK(has(by, "by: expected a duration"));
    }
    SECTION("an exception without a reason") {
        const auto msg = parse_error("- at: 1s\n  do: ack\n  incident: 1\n"
                                     "- at: 2s\n  do: exception\n  deployment: web\n  for: 1h\n");
        CHECK(has(msg, "acts.yaml:4:"));
        CHECK(has(msg, "'reason'"));
    }
    SECTION("a required field missing") {
        const auto msg = parse_error("- at: 1s\n  do: extend\n  incident: 1\n");
        CHECK(has(msg, "acts.yaml:1:"));
        CHECK(has(msg, "'by' is required"));
        CHECK(has(parse_error("- do: ack\n  incident: 1\n"), "'at' is required"));
        CHECK(has(parse_error("- at: 1s\n  do: ack\n"), "'incident' is required"));
    }
    SECTION("an unknown field") {
        const auto msg = parse_error("- at: 1s\n  do: ack\n  incident: 1\n  colour: red\n");
        CHECK(has(msg, "acts.yaml:4:"));
        CHECK(has(msg, "'colour' is not a field of a 'ack' action"));
        // A field of another action is unknown here too.
        CHECK(has(parse_error("- at: 1s\n  do: ack\n  incident: 1\n  for: 1h\n"), "'for' is not a field"));
    }
    SECTION("a port out of range, or not a number") {
        const std::string head = "- at: 1s\n  do: exception\n  reason: r\n  deployment: web\n  for: 1h\n";
        const auto big = parse_error(head + "  port: 70000\n");
        CHECK(has(big, "acts.yaml:6:"));
        CHECK(has(big, "expected 1-65535"));
        CHECK(has(big, "70000"));
        CHECK(has(parse_error(head + "  port: 0\n"), "expected a positive number"));
        CHECK(has(parse_error(head + "  port: https\n"), "'https'"));
    }
    SECTION("a bad direction or peer") {
        const std::string head = "- at: 1s\n  do: exception\n  reason: r\n  deployment: web\n  for: 1h\n";
        const auto dir = parse_error(head + "  direction: sideways\n");
        CHECK(has(dir, "acts.yaml:6:"));
        CHECK(has(dir, "expected inbound, outbound or internal"));
        CHECK(has(parse_error(head + "  peer: 10.0.0.0/99\n"), "acts.yaml:6: actions[0]: peer:"));
    }
    SECTION("an incident that is not a positive number") {
        CHECK(has(parse_error("- at: 1s\n  do: resolve\n  incident: -1\n"), "acts.yaml:3:"));
        CHECK(has(parse_error("- at: 1s\n  do: resolve\n  incident: 0\n"), "expected a positive number"));
    }
    SECTION("a document that is not a list") {
        const auto msg = parse_error("at: 1s\ndo: ack\nincident: 1\n");
        CHECK(has(msg, "acts.yaml:1:"));
        CHECK(has(msg, "expected a list of actions"));
        CHECK(has(parse_error("- at: 1s\n  do: ack\n  incident: 1\n- just words\n"), "acts.yaml:4:"));
        CHECK(has(parse_error("- just words\n"), "expected a map"));
    }
    SECTION("malformed YAML") {
        const auto msg = parse_error("- at: 1s\n  do: ack\n  incident: [1\n");
        CHECK(has(msg, "acts.yaml:"));
        CHECK_FALSE(has(msg, "acts.yaml:0:"));
        const auto tab = parse_error("- at: 1s\n  do: ack\n  incident: 1\n - at: 2s\n");
        CHECK(has(tab, "acts.yaml:"));
    }
}

TEST_CASE("actions: load_actions reads a file and names it in errors") {
    sg::test::TempDir dir;
    const std::string good = dir.write("good.yaml", "- at: 3s\n  do: resolve\n  incident: 4\n");
    auto r = load_actions(good);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].incident == 4);

    const std::string bad = dir.write("bad.yaml", "- at: 3s\n  do: resolve\n");
    auto e = load_actions(bad);
    REQUIRE_FALSE(e.ok());
    CHECK(has(e.error().message, bad + ":1:"));

    auto missing = load_actions((dir.path / "none.yaml").string());
    REQUIRE_FALSE(missing.ok());
    CHECK(has(missing.error().message, "none.yaml"));
}
