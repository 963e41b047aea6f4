// Syntax errors of the option list, unknown keywords, missing and duplicate
// sids: the exact text an operator reads, with file and line.

#include "rule_test_util.hpp"

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

TEST_CASE("errors: option list syntax") {
    CHECK(error_of("alert tcp any any -> any any (msg:\"x\"; sid:5)") ==
          "t.rules:1: sid 5: missing ';' after option 'sid'");
    CHECK(error_of("alert tcp any any -> any any (msg:\"x\"; sid:5; nocase)") ==
          "t.rules:1: sid 5: missing ';' after option 'nocase'");
    CHECK(error_of("alert tcp any any -> any any (msg:\"x\" sid:5;)") ==
          "t.rules:1: sid 5: option 'msg': the quoted value does not end with '\";' (missing ';' or '\"'?)");
    CHECK(error_of("alert tcp any any -> any any (msg:\"x\"; ; sid:5;)") ==
          "t.rules:1: sid 5: expected an option name before ';'");
    // Without quotes a missing ';' shows as a strange value of the option before.
    CHECK(error_of("alert tcp any any -> any any (flow:established rev:1; sid:5;)") ==
          "t.rules:1: sid 5: flow: unknown option 'established rev:1' (expected to_server, to_client, "
          "from_client, from_server, established, not_established, stateless, only_stream, no_stream, "
          "only_frag or no_frag)");
    CHECK(error_of("alert tcp any any -> any any (msg:\"x\"; content:\"a\"; depth 3; sid:5;)") ==
          "t.rules:1: sid 5: 'depth 3' is not an option name (missing ':' or ';'?)");
    CHECK(error_of("alert tcp any any -> any any (msg:\"x\"; content:\"a\"; nocase rawbytes; sid:5;)") ==
          "t.rules:1: sid 5: 'nocase rawbytes' is not an option name (missing ':' or ';'?)");
}

TEST_CASE("errors: unknown keywords, with a suggestion when one is close") {
    CHECK(options_error("content:\"a\"; nocasee;") ==
          "t.rules:1: sid 1: unknown keyword 'nocasee' (did you mean 'nocase'?)");
    CHECK(options_error("frobnicate:3;") == "t.rules:1: sid 1: unknown keyword 'frobnicate'");
    CHECK(options_error("flowbit:set,a;") == "t.rules:1: sid 1: unknown keyword 'flowbit' (did you mean 'flowbits'?)");
    // An unknown keyword is an error even after a keyword that skips the rule.
    CHECK(options_error("http.uri; content:\"a\"; bogus_kw;") == "t.rules:1: sid 1: unknown keyword 'bogus_kw'");
}

TEST_CASE("errors: missing sid") {
    CHECK(error_of("alert tcp any any -> any any (msg:\"no sid\";)") == "t.rules:1: missing sid");
    CHECK(error_of("alert http any any -> any any (msg:\"skipped rules need one too\";)") ==
          "t.rules:1: missing sid");
}

TEST_CASE("errors: a duplicate sid is reported on the second rule, which is dropped") {
    const auto p = parse(
        "alert tcp any any -> any any (msg:\"first\"; sid:10;)\n"
        "alert tcp any any -> any any (msg:\"other\"; sid:11;)\n"
        "\n"
        "alert udp any any -> any any (msg:\"second\"; sid:10;)\n"
        "alert http any any -> any any (msg:\"skipped, still a duplicate\"; sid:11;)\n"
        "alert tcp any any -> any any (msg:\"other gid\"; sid:10; gid:2;)\n");
    REQUIRE(p.errors.size() == 2);
    CHECK(p.errors[0].text() == "t.rules:4: sid 10: duplicate sid, first defined at t.rules:1");
    CHECK(p.errors[1].text() == "t.rules:5: sid 11: duplicate sid, first defined at t.rules:2");
    REQUIRE(p.rules.size() == 3);
    CHECK(p.rules[0].msg == "first");
    CHECK(p.rules[2].gid == 2);
}

TEST_CASE("errors: the first error of a rule is the one reported") {
    CHECK(options_error("content:\"abc\"; depth:1; frob;") ==
          "t.rules:1: sid 1: depth: 1 is less than the content length 3");
    // A header error comes before any option error.
    CHECK(error_of("alert tcp $NOPE any -> any any (content:\"abc\"; depth:1; sid:1;)") ==
          "t.rules:1: sid 1: source address: undefined address variable $NOPE");
}

TEST_CASE("errors: line numbers count every line, the rule's is its first") {
    const auto p = parse(
        "# comment\n"
        "\n"
        "alert tcp any any -> any any (msg:\"ok\"; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"multi\"; \\\n"
        "   content:\"abc\"; \\\n"
        "   depth:2; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"after\"; sid:3; frobnicate;)\n");
    REQUIRE(p.errors.size() == 2);
    CHECK(p.errors[0].text() == "t.rules:4: sid 2: depth: 2 is less than the content length 3");
    CHECK(p.errors[1].text() == "t.rules:7: sid 3: unknown keyword 'frobnicate'");
    CHECK(p.rules.size() == 1);
}

TEST_CASE("errors: a rule that is not UTF-8 is an error naming the byte") {
    // msg, classtype and metadata go into eve and rules-check JSON, which is UTF-8.
    CHECK(error_of("alert tcp any any -> any any (msg:\"caf\xe9\"; sid:7;)") ==
          "t.rules:1: sid 7: expected UTF-8 text, got the byte 0xe9 at column 39");
    CHECK(accepted("alert tcp any any -> any any (msg:\"caf\xc3\xa9\"; sid:7;)").msg == "caf\xc3\xa9");
}
