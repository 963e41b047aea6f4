// The rules-check report: text and JSON.

#include "rule_test_util.hpp"

#include "match/rules_check.hpp"

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

namespace {

RuleSetParse sample() {
    return parse(
        "alert tcp any any -> any any (msg:\"ok\"; content:\"abc\"; sid:1;)\n"
        "alert http any any -> any any (msg:\"h1\"; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"b\"; content:\"a\"; byte_test:1,>,2,0; sid:3;)\n"
        "alert http any any -> any any (msg:\"h2\"; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"bad\"; frobnicate; sid:5;)\n");
}

} // namespace

TEST_CASE("rules-check: reasons are counted, biggest first, with the first location") {
    const auto r = skip_reasons(sample());
    REQUIRE(r.size() == 2);
    CHECK(r[0].reason == "proto:http");
    CHECK(r[0].count == 2);
    CHECK(r[0].first == "t.rules:2");
    CHECK(r[1].reason == "byte_test");
    CHECK(r[1].count == 1);
    CHECK(r[1].first == "t.rules:3");
}

TEST_CASE("rules-check: text") {
    CHECK(rules_check_text(sample()) ==
          "rules: 1 accepted, 3 skipped, 1 errors, 0 warnings (1 file)\n"
          "skipped by reason:\n"
          "       2  proto:http  first at t.rules:2\n"
          "       1  byte_test   first at t.rules:3\n"
          "errors:\n"
          "  t.rules:5: sid 5: unknown keyword 'frobnicate'\n");
    CHECK(rules_check_text(sample(), std::nullopt, 1) ==
          "rules: 1 accepted, 3 skipped, 1 errors, 0 warnings (1 file)\n"
          "skipped by reason:\n"
          "       2  proto:http  first at t.rules:2\n"
          "  ... and 1 more reasons\n"
          "errors:\n"
          "  t.rules:5: sid 5: unknown keyword 'frobnicate'\n");
    // The matcher's hook.
    const auto with_db = rules_check_text(parse("alert tcp any any -> any any (content:\"a\"; sid:1;)"),
                                          DatabaseSummary{1.5, 4096, 1});
    CHECK(with_db ==
          "rules: 1 accepted, 0 skipped, 0 errors, 0 warnings (1 file)\n"
          "database: 1 patterns, 4096 bytes, compiled in 1.50 s\n");
}

TEST_CASE("rules-check: JSON") {
    const auto j = rules_check_json(sample());
    CHECK(j["accepted"] == 1);
    CHECK(j["files"] == nlohmann::json::array({"t.rules"}));
    CHECK(j["skipped"]["total"] == 3);
    CHECK(j["skipped"]["by_reason"][0] ==
          nlohmann::json({{"reason", "proto:http"}, {"count", 2}, {"first", "t.rules:2"}}));
    CHECK(j["errors"] == nlohmann::json::array({"t.rules:5: sid 5: unknown keyword 'frobnicate'"}));
    CHECK(j["warnings"].empty());
    CHECK_FALSE(j.contains("database"));
    const auto d = rules_check_json(sample(), DatabaseSummary{0.25, 100, 7});
    CHECK(d["database"] == nlohmann::json({{"compile_seconds", 0.25}, {"bytes", 100}, {"patterns", 7}}));
}

TEST_CASE("rules-check: JSON stays printable when a message quotes half a character") {
    // Found by fuzzing (test/fuzz/regressions/rules): the hex error quotes the
    // bytes of a pair, cutting a two-byte character.
    const auto p = parse("alert tcp any any -> any any (msg:\"x\"; content:\"|31 c9 04\xda\x99" "c f3|\"; sid:5;)\n");
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].text().starts_with("t.rules:1: sid 5: "));
    const auto j = rules_check_json(p);
    CHECK_NOTHROW(j.dump());
    CHECK(j["errors"][0].get<std::string>().starts_with("t.rules:1: sid 5: "));
}

TEST_CASE("rules-check: one rule as JSON") {
    const auto r = accepted(
        "alert tcp 10.0.0.0/8 any -> any [80,443] (msg:\"m\"; flow:established,to_server; "
        "content:\"GET |00|\"; depth:5; pcre:\"/x/R\"; dsize:<100; flags:S,12; sid:9; rev:2;)");
    const auto j = rule_json(r);
    CHECK(j["location"] == "t.rules:1");
    CHECK(j["protocol"] == "tcp");
    CHECK(j["src"]["addr"]["include"] == nlohmann::json::array({"10.0.0.0/8"}));
    CHECK(j["dst"]["ports"]["ranges"] == nlohmann::json::array({"80", "443"}));
    CHECK(j["payload"][0] == nlohmann::json({{"type", "content"}, {"bytes", "GET |00|"}, {"depth", 5}}));
    CHECK(j["payload"][1] == nlohmann::json({{"type", "pcre"}, {"pattern", "x"}, {"flags", "R"}, {"relative", true}}));
    CHECK(j["dsize"] == nlohmann::json({{"op", "<"}, {"value", 100}}));
    CHECK(j["flags"] == nlohmann::json({{"bits", 2}, {"ignore", 192}, {"modifier", "exact"}}));
    CHECK(j["flow"]["state"] == "established");
}
