// threshold.config: every line kind, the errors an operator reads, and how
// the entries combine with the rules' own threshold / detection_filter.

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "match/threshold_config.hpp"
#include "rule_test_util.hpp"

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

namespace {

ThresholdConfig config(std::string_view text, const Vars& vars = Vars{}) {
    auto c = parse_threshold_config(text, "t.config", vars);
    INFO(text);
    INFO((c ? std::string() : c.error().message));
    REQUIRE(c);
    return std::move(*c);
}

std::string config_error(std::string_view text, const Vars& vars = Vars{}) {
    auto c = parse_threshold_config(text, "t.config", vars);
    INFO(text);
    REQUIRE_FALSE(c);
    return c.error().message;
}

// The filters of each rule of a rule text after `config_text`.
struct Resolved {
    RuleSetParse parse;
    std::vector<RuleFilters> filters;
    std::vector<std::string> warnings;
};

Resolved resolve(std::string_view rules_text, std::string_view config_text) {
    Resolved r;
    r.parse = parse(rules_text);
    INFO(describe(r.parse));
    REQUIRE(r.parse.errors.empty());
    std::vector<const Rule*> rules;
    for (const Rule& rule : r.parse.rules) rules.push_back(&rule);
    const ThresholdConfig c = config(config_text);
    std::vector<Diagnostic> warnings;
    r.filters = resolve_rule_filters(rules, &c, &warnings);
    for (const auto& w : warnings) r.warnings.push_back(w.text());
    return r;
}

} // namespace

TEST_CASE("threshold.config: threshold and event_filter") {
    const auto c = config("# a comment\n"
                          "\n"
                          "threshold gen_id 1, sig_id 2002087, type threshold, track by_src, count 10, seconds 60\n"
                          "   event_filter gen_id 1, sig_id 7, type both, track by_flow, count 3, seconds 5\n"
                          "threshold gen_id 0, sig_id 0, type limit, track by_rule, count 1, seconds 15\r\n");
    REQUIRE(c.entries.size() == 3);
    const auto& a = c.entries[0];
    CHECK(a.gid == 1);
    CHECK(a.sid == 2002087);
    CHECK(a.line == 3);
    CHECK(a.file == "t.config");
    REQUIRE(a.is_threshold());
    const auto& t = std::get<Threshold>(a.what);
    CHECK(t.type == Threshold::Type::threshold);
    CHECK(t.track == Track::by_src);
    CHECK(t.count == 10);
    CHECK(t.seconds == 60);
    const auto& b = std::get<Threshold>(c.entries[1].what);
    CHECK(c.entries[1].line == 4);
    CHECK(b.type == Threshold::Type::both);
    CHECK(b.track == Track::by_flow);
    CHECK(c.entries[2].gid == 0);
    CHECK(c.entries[2].sid == 0);
    CHECK(std::get<Threshold>(c.entries[2].what).type == Threshold::Type::limit);
    CHECK(std::get<Threshold>(c.entries[2].what).track == Track::by_rule);
}

TEST_CASE("threshold.config: items in any order, a '\\' continues the line") {
    const auto c = config("threshold gen_id 1, sig_id 5, \\\n"
                          "    count 3, seconds 9, track by_dst, type limit\n"
                          "suppress gen_id 1, sig_id 6\n");
    REQUIRE(c.entries.size() == 2);
    CHECK(c.entries[0].line == 1);
    CHECK(std::get<Threshold>(c.entries[0].what).count == 3);
    CHECK(std::get<Threshold>(c.entries[0].what).track == Track::by_dst);
    CHECK(c.entries[1].line == 3);
}

TEST_CASE("threshold.config: rate_filter") {
    const auto c = config("rate_filter gen_id 1, sig_id 888, track by_src, count 10, seconds 60, "
                          "new_action drop, timeout 300\n"
                          "rate_filter gen_id 1, sig_id 889, track by_rule, count 1, seconds 1, "
                          "new_action pass, timeout 0\n");
    REQUIRE(c.entries.size() == 2);
    REQUIRE(c.entries[0].is_rate_filter());
    const auto& r = std::get<RateFilter>(c.entries[0].what);
    CHECK(r.track == Track::by_src);
    CHECK(r.count == 10);
    CHECK(r.seconds == 60);
    CHECK(r.new_action == Action::drop);
    CHECK(r.timeout == 300);
    CHECK(std::get<RateFilter>(c.entries[1].what).new_action == Action::pass);
    CHECK(std::get<RateFilter>(c.entries[1].what).timeout == 0);
}

TEST_CASE("threshold.config: suppress, with addresses, lists and variables") {
    Vars vars;
    vars.set_home_net({*Prefix::parse("10.0.0.0/8")});
    const auto c = config("suppress gen_id 1, sig_id 2002087\n"
                          "suppress gen_id 1, sig_id 2003614, track by_src, ip 217.110.97.128/25\n"
                          "suppress gen_id 1, sig_id 2003614, track by_dst, ip [192.168.0.0/16, 172.16.0.0/12]\n"
                          "suppress gen_id 0, sig_id 0, track by_either, ip $HOME_NET\n"
                          "suppress gen_id 1, sig_id 0, track by_src, ip 2001:db8::1\n",
                          vars);
    REQUIRE(c.entries.size() == 5);
    const auto& all = std::get<Suppress>(c.entries[0].what);
    CHECK(all.track == Suppress::Track::all);
    CHECK_FALSE(all.ips);
    const auto& src = std::get<Suppress>(c.entries[1].what);
    CHECK(src.track == Suppress::Track::by_src);
    REQUIRE(src.ips);
    CHECK(src.ips->contains(*IpAddress::parse("217.110.97.200")));
    CHECK_FALSE(src.ips->contains(*IpAddress::parse("217.110.97.1")));
    const auto& dst = std::get<Suppress>(c.entries[2].what);
    CHECK(dst.track == Suppress::Track::by_dst);
    CHECK(dst.ips->contains(*IpAddress::parse("172.20.1.1")));
    CHECK(dst.ips->contains(*IpAddress::parse("192.168.3.4")));
    CHECK_FALSE(dst.ips->contains(*IpAddress::parse("10.1.1.1")));
    const auto& home = std::get<Suppress>(c.entries[3].what);
    CHECK(home.track == Suppress::Track::by_either);
    CHECK(home.ips->contains(*IpAddress::parse("10.9.9.9")));
    CHECK_FALSE(home.ips->contains(*IpAddress::parse("11.0.0.1")));
    CHECK(std::get<Suppress>(c.entries[4].what).ips->contains(*IpAddress::parse("2001:db8::1")));
}

TEST_CASE("threshold.config: errors name the file, the line and what was expected") {
    CHECK(config_error("\n# ok\nthreshold gen_id 1, sig_id 5, type limit, track by_src, count 1\n") ==
          "t.config:3: threshold: missing 'seconds'");
    CHECK(config_error("treshold gen_id 1, sig_id 5\n") ==
          "t.config:1: expected threshold, event_filter, rate_filter or suppress, got 'treshold' "
          "(did you mean 'threshold'?)");
    CHECK(config_error("threshold gen_id 1, sig_id 5, type limit, track by_src, count 1, secs 5\n") ==
          "t.config:1: threshold: unknown item 'secs 5' (expected gen_id, sig_id, type, track, count and seconds)");
    CHECK(config_error("threshold gen_id 1, sig_id 5, type limit, track by_src, count 1, second 5\n") ==
          "t.config:1: threshold: unknown item 'second 5' (expected gen_id, sig_id, type, track, count and "
          "seconds) (did you mean 'seconds'?)");
    CHECK(config_error("threshold gen_id 1, sig_id 5, type sometimes, track by_src, count 1, seconds 5\n") ==
          "t.config:1: threshold: type: expected limit, threshold or both, got 'sometimes'");
    CHECK(config_error("threshold gen_id 1, sig_id 5, type limit, track by_host, count 1, seconds 5\n") ==
          "t.config:1: threshold: track: expected by_src, by_dst, by_rule, by_both or by_flow, got 'by_host'");
    CHECK(config_error("threshold gen_id 1, sig_id 5, type limit, track by_src, count 0, seconds 5\n") ==
          "t.config:1: threshold: count: expected a positive integer, got '0'");
    CHECK(config_error("threshold gen_id 1, sig_id 5, type limit, track by_src, count 1, count 2, seconds 5\n") ==
          "t.config:1: threshold: 'count' given twice");
    CHECK(config_error("threshold gen_id 0, sig_id 5, type limit, track by_src, count 1, seconds 5\n") ==
          "t.config:1: threshold: sig_id 5 needs its gen_id (gen_id 0 means every rule and goes with sig_id 0)");
    CHECK(config_error("threshold gen_id x, sig_id 5, type limit, track by_src, count 1, seconds 5\n") ==
          "t.config:1: threshold: gen_id: expected an integer (0 or more), got 'x'");
    CHECK(config_error("rate_filter gen_id 1, sig_id 5, track by_flow, count 1, seconds 5, new_action drop, "
                   "timeout 9\n") ==
          "t.config:1: rate_filter: track: expected by_src, by_dst, by_rule or by_both, got 'by_flow'");
    CHECK(config_error("rate_filter gen_id 1, sig_id 5, track by_src, count 1, seconds 5, new_action block, "
                   "timeout 9\n") ==
          "t.config:1: rate_filter: new_action: expected alert, drop, pass or reject, got 'block'");
    CHECK(config_error("rate_filter gen_id 1, sig_id 5, track by_src, count 1, seconds 5, new_action drop\n") ==
          "t.config:1: rate_filter: missing 'timeout'");
    CHECK(config_error("suppress gen_id 1, sig_id 5, track by_src\n") ==
          "t.config:1: suppress: 'track' and 'ip' go together (or neither: the rule never alerts)");
    CHECK(config_error("suppress gen_id 1, sig_id 5, track by_rule, ip 10.0.0.1\n") ==
          "t.config:1: suppress: track: expected by_src, by_dst or by_either, got 'by_rule'");
    CHECK(config_error("suppress gen_id 1, sig_id 5, track by_src, ip 10.0.0.300\n").rfind(
              "t.config:1: suppress: ip: ", 0) == 0);
    CHECK(config_error("suppress gen_id 1, sig_id 5, track by_src, ip $NOPE_NET\n").find("NOPE_NET") !=
          std::string::npos);
    CHECK(config_error("suppress gen_id 1, sig_id 5, track by_src, ip ![any]\n") ==
          "t.config:1: suppress: ip: '![any]' matches no address");
    CHECK(config_error("suppress\n") == "t.config:1: suppress: expected 'gen_id G, sig_id S, ...' after 'suppress'");
    CHECK(config_error("suppress gen_id 1, sig_id 5,\n") == "t.config:1: suppress: empty item (a ',' too many?)");
}

TEST_CASE("threshold.config: every bad line is reported, the file is rejected") {
    const auto msg = config_error("threshold gen_id 1, sig_id 5\n"
                              "suppress gen_id 1, sig_id 6\n"
                              "rate_filter gen_id 1\n");
    CHECK(msg == "t.config:1: threshold: missing 'type'\n"
                 "t.config:3: rate_filter: missing 'sig_id'");
}

TEST_CASE("threshold.config: a file that cannot be read") {
    const auto c = load_threshold_config("/nonexistent/threshold.config", Vars{});
    REQUIRE_FALSE(c);
    CHECK(c.error().message.rfind("/nonexistent/threshold.config: cannot read the threshold file", 0) == 0);

    const auto path = std::filesystem::temp_directory_path() / "sg-threshold-config-test.config";
    {
        std::ofstream out(path);
        out << "suppress gen_id 1, sig_id 6, track by_src, ip 10.0.0.1\nbogus\n";
    }
    const auto bad = load_threshold_config(path.string(), Vars{});
    std::filesystem::remove(path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.rfind(path.string() + ":2: expected threshold", 0) == 0);
}

TEST_CASE("resolve: a rule's own threshold and detection_filter") {
    const auto r = resolve("alert ip any any -> any any (sid:1;)\n"
                           "alert ip any any -> any any (threshold:type both, track by_dst, count 3, seconds 5; "
                           "sid:2;)\n"
                           "alert tcp any any -> any any (detection_filter:track by_src, count 4, seconds 6, "
                           "unique_on dst_port; sid:3;)\n",
                           "");
    REQUIRE(r.filters.size() == 3);
    CHECK(r.filters[0].empty());
    REQUIRE(r.filters[1].filters.size() == 1);
    CHECK(r.filters[1].filters[0].kind == AlertFilter::Kind::both);
    CHECK(r.filters[1].filters[0].track == Track::by_dst);
    CHECK(r.filters[1].filters[0].count == 3);
    CHECK(r.filters[1].filters[0].config_line == 0);
    REQUIRE(r.filters[2].filters.size() == 1);
    CHECK(r.filters[2].filters[0].kind == AlertFilter::Kind::detection_filter);
    CHECK(r.filters[2].filters[0].unique_on == DetectionFilter::UniqueOn::dst_port);
    CHECK(r.warnings.empty());
}

TEST_CASE("resolve: a threshold for one sid replaces the rule's own keyword") {
    const auto r = resolve(
        "alert ip any any -> any any (threshold:type both, track by_dst, count 3, seconds 5; sid:1;)\n"
        "alert ip any any -> any any (detection_filter:track by_src, count 4, seconds 6; sid:2;)\n"
        "alert ip any any -> any any (sid:3;)\n",
        "threshold gen_id 1, sig_id 1, type limit, track by_flow, count 1, seconds 60\n"
        "threshold gen_id 1, sig_id 2, type threshold, track by_src, count 5, seconds 60\n"
        "threshold gen_id 1, sig_id 3, type limit, track by_src, count 7, seconds 60\n"
        "threshold gen_id 1, sig_id 3, type limit, track by_src, count 8, seconds 60\n");
    REQUIRE(r.filters[0].filters.size() == 1);
    CHECK(r.filters[0].filters[0].kind == AlertFilter::Kind::limit);
    CHECK(r.filters[0].filters[0].track == Track::by_flow);
    CHECK(r.filters[0].filters[0].config_line == 1);
    REQUIRE(r.filters[1].filters.size() == 1);
    CHECK(r.filters[1].filters[0].kind == AlertFilter::Kind::threshold);
    // A later line for the same sid replaces the earlier one.
    REQUIRE(r.filters[2].filters.size() == 1);
    CHECK(r.filters[2].filters[0].count == 8);
    CHECK(r.warnings.empty());
}

TEST_CASE("resolve: sig_id 0 applies to the rules without a threshold of their own") {
    const auto r = resolve(
        "alert ip any any -> any any (threshold:type both, track by_dst, count 3, seconds 5; sid:1;)\n"
        "alert ip any any -> any any (sid:2;)\n"
        "alert ip any any -> any any (gid:3; sid:2;)\n",
        "threshold gen_id 1, sig_id 0, type limit, track by_src, count 1, seconds 60\n"
        "rate_filter gen_id 0, sig_id 0, track by_rule, count 9, seconds 1, new_action drop, timeout 5\n");
    REQUIRE(r.filters[0].filters.size() == 1);
    CHECK(r.filters[0].filters[0].kind == AlertFilter::Kind::both);
    REQUIRE(r.filters[1].filters.size() == 1);
    CHECK(r.filters[1].filters[0].kind == AlertFilter::Kind::limit);
    // gid 3 is not gen_id 1: only the rate_filter for every rule applies.
    REQUIRE(r.filters[2].filters.size() == 1);
    CHECK(r.filters[2].filters[0].kind == AlertFilter::Kind::rate_filter);
    CHECK(r.filters[2].filters[0].new_action == Action::drop);
    CHECK(r.filters[2].filters[0].timeout == 5);
}

TEST_CASE("resolve: a rate_filter on a rule with a threshold is ignored, with a warning") {
    const auto r = resolve(
        "alert ip any any -> any any (threshold:type limit, track by_dst, count 3, seconds 5; sid:1;)\n"
        "drop ip any any -> any any (sid:2;)\n",
        "rate_filter gen_id 1, sig_id 1, track by_src, count 1, seconds 60, new_action alert, timeout 10\n"
        "rate_filter gen_id 1, sig_id 2, track by_src, count 1, seconds 60, new_action alert, timeout 10\n");
    REQUIRE(r.filters[0].filters.size() == 1);
    CHECK(r.filters[0].filters[0].kind == AlertFilter::Kind::limit);
    REQUIRE(r.filters[1].filters.size() == 1);
    CHECK(r.filters[1].filters[0].kind == AlertFilter::Kind::rate_filter);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] == "t.config:1: rate_filter for gen_id 1, sig_id 1 ignored: the rule already has a limit "
                           "(Suricata gives it precedence)");
}

TEST_CASE("resolve: suppress, and entries that name no rule") {
    const auto r = resolve("alert ip any any -> any any (sid:1;)\n"
                           "alert ip any any -> any any (sid:2;)\n"
                           "alert ip any any -> any any (gid:7; sid:2;)\n",
                           "suppress gen_id 1, sig_id 1\n"
                           "suppress gen_id 1, sig_id 0, track by_src, ip 10.0.0.1\n"
                           "suppress gen_id 1, sig_id 99, track by_src, ip 10.0.0.1\n"
                           "threshold gen_id 7, sig_id 1, type limit, track by_src, count 1, seconds 1\n");
    CHECK(r.filters[0].never_alert);
    CHECK(r.filters[0].suppress.size() == 1);
    CHECK_FALSE(r.filters[1].never_alert);
    REQUIRE(r.filters[1].suppress.size() == 1);
    CHECK(r.filters[1].suppress[0].track == Suppress::Track::by_src);
    CHECK(r.filters[2].empty());
    REQUIRE(r.warnings.size() == 2);
    CHECK(r.warnings[0] == "t.config:3: gen_id 1, sig_id 99: no accepted rule has this id; the entry has no effect");
    CHECK(r.warnings[1] == "t.config:4: gen_id 7, sig_id 1: no accepted rule has this id; the entry has no effect");
}

TEST_CASE("resolve: without a config, only the rules' keywords") {
    const auto p =
        parse("alert ip any any -> any any (threshold:type limit, track by_src, count 1, seconds 1; sid:1;)\n");
    REQUIRE(p.rules.size() == 1);
    const auto f = resolve_rule_filters({&p.rules[0]}, nullptr);
    REQUIRE(f.size() == 1);
    REQUIRE(f[0].filters.size() == 1);
    CHECK(f[0].filters[0].kind == AlertFilter::Kind::limit);
}
