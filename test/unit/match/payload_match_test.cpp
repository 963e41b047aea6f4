// The matcher's exact confirmation of contents and pcres: what a rule
// writer expects from offset, depth, distance, within, nocase, negation,
// startswith/endswith and relative pcre, including the backtracking that
// lets a later occurrence of an earlier content satisfy the rule.

#include "match/payload_match.hpp"

#include <catch2/catch.hpp>

#include "rule_test_util.hpp"

namespace {

bool rule_matches(std::string_view options, std::string_view payload) {
    const sg::rules::Rule r = sg::rules::test::with_options(options);
    auto prog = sg::compile_payload(r.payload);
    REQUIRE(prog);
    sg::PayloadScratch scratch;
    return sg::match_payload(*prog, reinterpret_cast<const uint8_t*>(payload.data()), uint32_t(payload.size()),
                             scratch);
}

} // namespace

TEST_CASE("content, nocase and hex bytes") {
    CHECK(rule_matches(R"(content:"GET";)", "GET / HTTP/1.1"));
    CHECK_FALSE(rule_matches(R"(content:"GET";)", "get / HTTP/1.1"));
    CHECK(rule_matches(R"(content:"GET"; nocase;)", "get / HTTP/1.1"));
    CHECK(rule_matches(R"(content:"|00 01|AB";)", std::string_view("x\0\1AB", 5)));
}

TEST_CASE("offset and depth bound where a content may sit") {
    CHECK(rule_matches(R"(content:"abc"; offset:2; depth:3;)", "xxabc"));
    CHECK_FALSE(rule_matches(R"(content:"abc"; offset:3;)", "xxabc"));
    CHECK_FALSE(rule_matches(R"(content:"abc"; depth:4;)", "xxabc"));
    CHECK(rule_matches(R"(content:"abc"; startswith;)", "abcxx"));
    CHECK_FALSE(rule_matches(R"(content:"abc"; startswith;)", "xabc"));
    CHECK(rule_matches(R"(content:"abc"; endswith;)", "xxabc"));
    CHECK_FALSE(rule_matches(R"(content:"abc"; endswith;)", "abcx"));
}

TEST_CASE("distance and within are relative to the previous match") {
    CHECK(rule_matches(R"(content:"ab"; content:"cd"; distance:1; within:3;)", "ab-cd"));
    CHECK_FALSE(rule_matches(R"(content:"ab"; content:"cd"; distance:2;)", "ab-cd"));
    CHECK_FALSE(rule_matches(R"(content:"ab"; content:"cd"; within:3;)", "ab---cd"));
    // Negative distance looks back over the previous match.
    CHECK(rule_matches(R"(content:"bcd"; content:"ab"; distance:-4; within:2;)", "abcd"));
    CHECK_FALSE(rule_matches(R"(content:"bcd"; content:"ab"; distance:-3; within:2;)", "abcd"));
}

TEST_CASE("a later occurrence of an earlier content can satisfy the rule") {
    // The first "ab" has no "cd" right after it; the second does.
    CHECK(rule_matches(R"(content:"ab"; content:"cd"; within:2;)", "ab--abcd"));
}

TEST_CASE("negated contents and pcres") {
    CHECK(rule_matches(R"(content:"GET"; content:!"admin";)", "GET /index"));
    CHECK_FALSE(rule_matches(R"(content:"GET"; content:!"admin";)", "GET /admin"));
    CHECK(rule_matches(R"(content:"GET"; content:!"admin"; distance:0; within:8;)", "GET /x admin"));
    CHECK_FALSE(rule_matches(R"(content:"GET"; content:!"admin"; distance:0; within:8;)", "GET admin"));
    CHECK(rule_matches(R"(content:"GET"; pcre:!"/passwd/";)", "GET /index"));
    CHECK_FALSE(rule_matches(R"(content:"GET"; pcre:!"/passwd/";)", "GET /etc/passwd"));
}

TEST_CASE("pcre flags and relative matching") {
    CHECK(rule_matches(R"(pcre:"/user=\w+/i";)", "USER=root"));
    CHECK_FALSE(rule_matches(R"(pcre:"/user=\w+/";)", "USER=root"));
    CHECK(rule_matches(R"(content:"login"; pcre:"/^:\s*root/R";)", "login: root"));
    CHECK_FALSE(rule_matches(R"(content:"login"; pcre:"/^root/R";)", "root login: x"));
    CHECK(rule_matches(R"(pcre:"/a.b/s";)", "a\nb"));
}

TEST_CASE("a pcre is tried again at a later match when what follows it fails") {
    // "a1" is not followed by "Z"; "a2" is.
    CHECK(rule_matches(R"(content:"GET"; pcre:"/a[0-9]/"; content:"Z"; distance:0; within:1;)", "GET a1 a2Z"));
    CHECK(rule_matches(R"(content:"GET"; pcre:"/a[0-9]/"; pcre:"/^Z/R";)", "GET a1 a2Z"));
    CHECK_FALSE(rule_matches(R"(content:"GET"; pcre:"/a[0-9]/"; content:"Z"; distance:0; within:1;)", "GET a1 a2"));
}
