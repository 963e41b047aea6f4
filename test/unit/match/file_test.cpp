// Rule files: comments, disabled rules, continuation lines, skip reasons,
// the flowbits pass and rule sets spread over several files.

#include "rule_test_util.hpp"
#include "../temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

namespace fs = std::filesystem;

namespace {

using sg::test::TempDir;

std::vector<std::string> reasons(const RuleSetParse& p) {
    std::vector<std::string> out;
    for (const auto& s : p.skipped) out.push_back(s.reason);
    return out;
}

} // namespace

TEST_CASE("file: comments, blank lines and disabled rules are not counted") {
    const auto p = parse(
        "# Emerging Threats\n"
        "\n"
        "   \t\n"
        "#alert tcp any any -> any any (msg:\"disabled\"; sid:1;)\n"
        "  # alert tcp any any -> any any (msg:\"disabled too\"; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"enabled\"; sid:3;)\n");
    CHECK(p.errors.empty());
    CHECK(p.skipped.empty());
    REQUIRE(p.rules.size() == 1);
    CHECK(p.rules[0].sid == 3);
    CHECK(p.rules[0].line == 6);
    CHECK(p.files == std::vector<std::string>{"t.rules"});
}

TEST_CASE("file: a trailing backslash continues the rule on the next line") {
    const auto p = parse(
        "alert tcp any any -> any any ( \\\n"
        "    msg:\"split\"; \\\n"
        "    content:\"ab\\\\\"; \\\n"
        "    sid:1;)\n"
        "alert tcp any any -> any any (msg:\"next\"; sid:2;)\r\n");
    INFO(describe(p));
    REQUIRE(p.rules.size() == 2);
    CHECK(p.rules[0].msg == "split");
    CHECK(p.rules[0].line == 1);
    CHECK(content_at(p.rules[0], 0).bytes == "ab\\");
    CHECK(p.rules[0].text == "alert tcp any any -> any any (     msg:\"split\";     content:\"ab\\\\\";     sid:1;)");
    CHECK(p.rules[1].line == 5);
    CHECK(p.rules[1].msg == "next");  // CRLF line ends are fine
}

TEST_CASE("file: known but unsupported keywords skip the rule; the first one is the reason") {
    const std::pair<const char*, const char*> cases[] = {
        {"http.uri; content:\"/a\";", "http.uri"},
        {"content:\"/a\"; http_uri;", "http_uri"},
        {"http.header; content:\"a\";", "http.header"},
        {"content:\"a\"; http_header;", "http_header"},
        {"http.method; content:\"GET\";", "http.method"},
        {"http_client_body; content:\"a\";", "http_client_body"},
        {"http.request_body; content:\"a\";", "http.request_body"},
        {"http.user_agent; content:\"a\";", "http.user_agent"},
        {"http.host; content:\"a\";", "http.host"},
        {"http.stat_code; content:\"200\";", "http.stat_code"},
        {"file_data; content:\"a\";", "file_data"},
        {"file.data; content:\"a\";", "file.data"},
        {"dns.query; content:\"a\";", "dns.query"},
        {"dns_query; content:\"a\";", "dns_query"},
        {"tls.sni; content:\"a\";", "tls.sni"},
        {"tls_sni; content:\"a\";", "tls_sni"},
        {"tls.cert_subject; content:\"a\";", "tls.cert_subject"},
        {"ja3.hash; content:\"a\";", "ja3.hash"},
        {"ja3s.hash; content:\"a\";", "ja3s.hash"},
        {"ssh.proto; content:\"a\";", "ssh.proto"},
        {"content:\"a\"; byte_test:1,>,2,0,relative;", "byte_test"},
        {"byte_jump:4,0,relative; content:\"a\";", "byte_jump"},
        {"byte_extract:1,0,len; content:\"a\"; distance:len;", "byte_extract"},
        {"byte_math:bytes 1, offset 0, oper +, rvalue 1, result r;", "byte_math"},
        {"content:\"a\"; isdataat:1,relative;", "isdataat"},
        {"base64_decode; base64_data; content:\"a\";", "base64_decode"},
        {"app-layer-protocol:http;", "app-layer-protocol"},
        {"app-layer-event:http.x;", "app-layer-event"},
        {"urilen:>10;", "urilen"},
        {"uricontent:\"/a\";", "uricontent"},
        {"xbits:set,a,track ip_src;", "xbits"},
        {"lua:script.lua;", "lua"},
        {"dataset:isset,d,type string;", "dataset"},
        {"iprep:src,Bad,>,30;", "iprep"},
        {"stream_size:server,<,5;", "stream_size"},
        {"filename; content:\"a\";", "filename"},
        {"filemagic:\"PDF\";", "filemagic"},
        {"asn1:oversize_length 10;", "asn1"},
        {"ssl_state:client_hello;", "ssl_state"},
        {"dce_iface:4b324fc8-1670-01d3-1278-5a47bf6ee188;", "dce_iface"},
        {"smb.share; content:\"a\";", "smb.share"},
        {"krb5_cname; content:\"a\";", "krb5_cname"},
        {"bsize:10;", "bsize"},
        {"tag:session,5,packets;", "tag"},
        {"flowint:count,+,1;", "flowint"},
        {"content:\"a\"; dotprefix;", "dotprefix"},
        {"content:\"a\"; replace:\"b\";", "replace"},
    };
    for (const auto& [options, reason] : cases) {
        CHECK(skip_of(std::string("alert tcp any any -> any any (msg:\"m\"; ") + options + " sid:1;)") == reason);
    }
    // The skip record carries what the report needs.
    const auto p = parse("\nalert tcp any any -> any any (msg:\"x\"; http.uri; content:\"a\"; sid:77; rev:2;)\n");
    REQUIRE(p.skipped.size() == 1);
    CHECK(p.skipped[0].sid == 77);
    CHECK(p.skipped[0].msg == "x");
    CHECK(p.skipped[0].file == "t.rules");
    CHECK(p.skipped[0].line == 2);
    CHECK(p.skipped[0].reason == "http.uri");
}

TEST_CASE("file: supported keywords after a skip reason are not checked, meta keywords are") {
    // depth < length would be an error, but the content is in an HTTP buffer: skipped.
    CHECK(skip_of("alert tcp any any -> any any (http.uri; content:\"abc\"; depth:1; sid:1;)") == "http.uri");
    CHECK(error_of("alert tcp any any -> any any (http.uri; content:\"abc\"; sid:1; rev:x;)") ==
          "t.rules:1: sid 1: rev: expected an integer, got 'x'");
}

TEST_CASE("file: flowbits:isset that nothing accepted can set skips the rule") {
    const auto p = parse(
        "alert tcp any any -> any any (msg:\"setter, skipped\"; http.uri; content:\"a\"; flowbits:set,from_http; "
        "flowbits:noalert; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"needs from_http\"; flowbits:isset,from_http; "
        "flowbits:set,second; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"needs second\"; flowbits:isset,second; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"needs a typo\"; flowbits:isset,nobody_sets_this; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"sets ok\"; content:\"x\"; flowbits:set,ok; flowbits:noalert; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"needs ok or nothing\"; flowbits:isset,nothing|ok; sid:6;)\n"
        "alert tcp any any -> any any (msg:\"needs ok and nothing\"; flowbits:isset,nothing&ok; sid:7;)\n"
        "alert tcp any any -> any any (msg:\"isnotset is fine\"; flowbits:isnotset,nothing; sid:8;)\n");
    INFO(describe(p));
    CHECK(p.errors.empty());
    std::vector<uint32_t> accepted_sids;
    for (const auto& r : p.rules) accepted_sids.push_back(r.sid);
    CHECK(accepted_sids == std::vector<uint32_t>{5, 6, 8});
    // In file order, each with its reason.
    REQUIRE(p.skipped.size() == 5);
    CHECK(p.skipped[0].sid == 1);
    CHECK(p.skipped[0].reason == "http.uri");
    CHECK(p.skipped[0].flowbits_set == std::vector<std::string>{"from_http"});
    CHECK(p.skipped[1].sid == 2);
    CHECK(p.skipped[1].reason == "flowbits:isset (bit set only by skipped rules)");
    CHECK(p.skipped[2].sid == 3);  // its setter (sid 2) was skipped in the first round
    CHECK(p.skipped[2].reason == "flowbits:isset (bit set only by skipped rules)");
    CHECK(p.skipped[3].sid == 4);
    CHECK(p.skipped[3].reason == "flowbits:isset (bit never set)");
    CHECK(p.skipped[4].sid == 7);
    CHECK(p.skipped[4].reason == "flowbits:isset (bit never set)");
}

TEST_CASE("file: one rule set over several files") {
    TempDir dir;
    const auto a = dir.write("a.rules",
                             "alert tcp any any -> any any (msg:\"sets\"; content:\"x\"; flowbits:set,crossed; "
                             "flowbits:noalert; sid:1;)\n");
    const auto b = dir.write("b.rules",
                             "alert tcp any any -> any any (msg:\"needs\"; flowbits:isset,crossed; sid:2;)\n"
                             "alert tcp any any -> any any (msg:\"dup\"; sid:1;)\n");
    const auto both = parse_rules_files({a, b}, Vars{}, Classifications{});
    CHECK(both.files == std::vector<std::string>{a, b});
    CHECK(both.rules.size() == 2);
    REQUIRE(both.errors.size() == 1);
    CHECK(both.errors[0].text() == b + ":2: sid 1: duplicate sid, first defined at " + a + ":1");
    // b alone cannot satisfy its isset.
    const auto alone = parse_rules_file(b, Vars{}, Classifications{});
    CHECK(reasons(alone) == std::vector<std::string>{"flowbits:isset (bit never set)"});
    CHECK(alone.rules.size() == 1);

    const auto missing = parse_rules_file((dir.path / "nope.rules").string(), Vars{}, Classifications{});
    REQUIRE(missing.errors.size() == 1);
    CHECK(missing.errors[0].text() == (dir.path / "nope.rules").string() + ": cannot open the rule file");
}
