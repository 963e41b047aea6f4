// Meta keywords and the classification table.

#include "rule_test_util.hpp"

#include "match/classification.hpp"

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

namespace {

Classifications et_classes() {
    const auto c = parse_classifications(
        "#\n"
        "# config classification:shortname,short description,priority\n"
        "\n"
        "config classification: not-suspicious,Not Suspicious Traffic,3\n"
        "config classification: trojan-activity,A Network Trojan was detected, 1\n"
        "config classification:bad-unknown,Potentially Bad Traffic, 2\n"
        "config classification: odd,Commas, in, the description,4\n",
        "classification.config");
    REQUIRE(c.ok());
    return *c;
}

} // namespace

TEST_CASE("meta: msg, sid, rev, gid, references, metadata, target") {
    const auto r = accepted(
        R"(alert tcp any any -> any any (msg:"ET MALWARE \"quoted\" a\;b \\ c"; reference:url,example.com/a,b; )"
        R"(reference:cve,2021-44228; metadata:affected_product Any, created_at 2020_07_20,  ; )"
        R"(metadata:tag X; target:dest_ip; sid:2525000; rev:979; gid:3;))");
    CHECK(r.msg == R"(ET MALWARE "quoted" a;b \ c)");
    CHECK(r.sid == 2525000);
    CHECK(r.rev == 979);
    CHECK(r.gid == 3);
    REQUIRE(r.references.size() == 2);
    CHECK(r.references[0].type == "url");
    CHECK(r.references[0].value == "example.com/a,b");
    CHECK(r.references[1].type == "cve");
    CHECK(r.references[1].value == "2021-44228");
    CHECK(r.metadata == std::vector<std::string>{"affected_product Any", "created_at 2020_07_20", "tag X"});
    CHECK(r.target == Target::dest_ip);
    CHECK(with_options("target:src_ip;").target == Target::src_ip);

    const auto d = with_options("");
    CHECK(d.gid == 1);
    CHECK(d.rev == 0);
    CHECK(d.priority == 3);
    CHECK(d.msg.empty());
    CHECK(d.target == Target::none);
    CHECK_FALSE(d.noalert);
    CHECK(d.text == "alert tcp any any -> any any ( sid:1;)");
    CHECK(d.file == "t.rules");
    CHECK(d.line == 1);
    // Whitespace around values, as "sid: 1" in suricata-verify.
    CHECK(accepted("alert ip any any -> any any (msg: \"x\" ; sid: 42 ;)").sid == 42);
}

TEST_CASE("classification: priority from the classtype unless the rule sets one") {
    const auto classes = et_classes();
    REQUIRE(classes.size() == 4);
    CHECK(classes.find("trojan-activity")->priority == 1);
    CHECK(classes.find("trojan-activity")->description == "A Network Trojan was detected");
    CHECK(classes.find("bad-unknown")->priority == 2);
    CHECK(classes.find("odd")->description == "Commas, in, the description");
    CHECK(classes.find("odd")->priority == 4);
    CHECK(classes.find("nope") == nullptr);

    const auto r = accepted("alert ip any any -> any any (classtype:trojan-activity; sid:1;)", Vars{}, classes);
    CHECK(r.classtype == "trojan-activity");
    CHECK(r.priority == 1);
    // An explicit priority wins, before or after classtype.
    CHECK(accepted("alert ip any any -> any any (priority:5; classtype:trojan-activity; sid:1;)", Vars{}, classes)
              .priority == 5);
    CHECK(accepted("alert ip any any -> any any (classtype:trojan-activity; priority:2; sid:1;)", Vars{}, classes)
              .priority == 2);
    CHECK(accepted("alert ip any any -> any any (priority:1; sid:1;)").priority == 1);
}

TEST_CASE("classification: an unknown classtype is a warning, the rule keeps priority 3") {
    const auto p = parse("alert ip any any -> any any (classtype:made-up; sid:9;)", Vars{}, et_classes());
    REQUIRE(p.rules.size() == 1);
    CHECK(p.errors.empty());
    CHECK(p.rules[0].priority == 3);
    REQUIRE(p.warnings.size() == 1);
    CHECK(p.warnings[0].text() == "t.rules:1: sid 9: classtype: unknown classtype 'made-up', priority 3");
    // Without a classification file there is nothing to warn about.
    CHECK(parse("alert ip any any -> any any (classtype:made-up; sid:9;)").warnings.empty());
}

TEST_CASE("classification: file errors") {
    const auto bad = parse_classifications("config classification: a,b\n", "c.config");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message ==
          "c.config:1: expected 'config classification: NAME,DESCRIPTION,PRIORITY', got 'config classification: a,b'");
    const auto prio = parse_classifications("\nconfig classification: a,b,high\n", "c.config");
    REQUIRE_FALSE(prio.ok());
    CHECK(prio.error().message ==
          "c.config:2: expected 'config classification: NAME,DESCRIPTION,PRIORITY', got 'config classification: "
          "a,b,high'");
    const auto junk = parse_classifications("classification: a,b,1\n", "c.config");
    REQUIRE_FALSE(junk.ok());
    const auto missing = load_classifications("/nonexistent/classification.config");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "/nonexistent/classification.config: cannot open the classification file");
}

TEST_CASE("meta errors") {
    CHECK(options_error("msg:\"unterminated;") ==
          "t.rules:1: sid 1: option 'msg': the quoted value does not end with '\";' (missing ';' or '\"'?)");
    CHECK(error_of("alert ip any any -> any any (sid:0;)") ==
          "t.rules:1: sid: expected a positive integer, got '0'");
    CHECK(error_of("alert ip any any -> any any (sid:abc;)") ==
          "t.rules:1: sid: expected a positive integer, got 'abc'");
    CHECK(error_of("alert ip any any -> any any (sid:1; sid:2;)") == "t.rules:1: sid 2: sid: given twice");
    CHECK(options_error("rev:x;") == "t.rules:1: sid 1: rev: expected an integer, got 'x'");
    CHECK(options_error("gid:-1;") == "t.rules:1: sid 1: gid: expected an integer, got '-1'");
    CHECK(options_error("priority:0;") == "t.rules:1: sid 1: priority: expected an integer 1-255, got '0'");
    CHECK(options_error("classtype:bad type;") ==
          "t.rules:1: sid 1: classtype: expected a classification name, got 'bad type'");
    CHECK(options_error("reference:nocomma;") == "t.rules:1: sid 1: reference: expected TYPE,VALUE, got 'nocomma'");
    CHECK(options_error("target:both;") == "t.rules:1: sid 1: target: expected src_ip or dest_ip, got 'both'");
    CHECK(options_error("msg;") == "t.rules:1: sid 1: msg: needs a value");
    CHECK(options_error("msg:;") == "t.rules:1: sid 1: msg: needs a value");
    CHECK(options_error("msg:\"a\"; msg:\"b\";") == "t.rules:1: sid 1: msg: given twice");
}

TEST_CASE("classification: a line that is not UTF-8 is an error (descriptions go into eve)") {
    const auto c = parse_classifications("config classification: x,caf\xe9,1\n", "c.config");
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message == "c.config:1: expected UTF-8 text, got the byte 0xe9 at column 29");
}
