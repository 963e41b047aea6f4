// Header-field, flow, flowbits and rate keywords.

#include "rule_test_util.hpp"

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

using Op = NumberMatch::Op;
using Mod = BitsMatch::Modifier;

TEST_CASE("flow: every option, aliases and conflicts") {
    const auto a = with_options("flow:established,to_server;").flow;
    REQUIRE(a);
    CHECK(a->direction == FlowMatch::Direction::to_server);
    CHECK(a->state == FlowMatch::State::established);
    CHECK(a->stream == FlowMatch::Stream::any);
    CHECK(with_options("flow:from_client;").flow->direction == FlowMatch::Direction::to_server);
    CHECK(with_options("flow:from_server;").flow->direction == FlowMatch::Direction::to_client);
    CHECK(with_options("flow: to_client , established ;").flow->direction == FlowMatch::Direction::to_client);
    CHECK(with_options("flow:not_established;").flow->state == FlowMatch::State::not_established);
    CHECK(with_options("flow:stateless;").flow->state == FlowMatch::State::stateless);
    CHECK(with_options("flow:only_stream;").flow->stream == FlowMatch::Stream::only_stream);
    CHECK(with_options("flow:no_stream;").flow->stream == FlowMatch::Stream::no_stream);
    CHECK(with_options("flow:only_frag;").flow->frag == FlowMatch::Frag::only_frag);
    CHECK(with_options("flow:no_frag;").flow->frag == FlowMatch::Frag::no_frag);
    CHECK_FALSE(with_options("").flow);

    CHECK(options_error("flow:to_server,to_client;") ==
          "t.rules:1: sid 1: flow: 'to_server' conflicts with 'to_client'");
    CHECK(options_error("flow:established,stateless;") ==
          "t.rules:1: sid 1: flow: 'established' conflicts with 'stateless'");
    CHECK(options_error("flow:established,toserver;") ==
          "t.rules:1: sid 1: flow: unknown option 'toserver' (expected to_server, to_client, from_client, "
          "from_server, established, not_established, stateless, only_stream, no_stream, only_frag or no_frag)");
    CHECK(options_error("flow:established; flow:to_server;") == "t.rules:1: sid 1: flow: given twice");
    CHECK(error_of("alert tcp-pkt any any -> any any (flow:only_stream; sid:1;)") ==
          "t.rules:1: sid 1: flow: 'only_stream' conflicts with the protocol");
}

TEST_CASE("flags: flag sets, modifiers and the ignore mask") {
    const auto s = with_options("flags:S;").flags;
    REQUIRE(s);
    CHECK(*s == BitsMatch{0x02, 0, Mod::exact});
    CHECK(*with_options("flags:SA;").flags == BitsMatch{0x12, 0, Mod::exact});
    CHECK(*with_options("flags:S,12;").flags == BitsMatch{0x02, 0xc0, Mod::exact});
    CHECK(*with_options("flags: S, CE;").flags == BitsMatch{0x02, 0xc0, Mod::exact});
    CHECK(*with_options("flags:A+;").flags == BitsMatch{0x10, 0, Mod::plus});
    CHECK(*with_options("flags:+A;").flags == BitsMatch{0x10, 0, Mod::plus});
    CHECK(*with_options("flags:*SF;").flags == BitsMatch{0x03, 0, Mod::any});
    CHECK(*with_options("flags:!R;").flags == BitsMatch{0x04, 0, Mod::not_all});
    CHECK(*with_options("flags:0;").flags == BitsMatch{0x00, 0, Mod::exact});
    CHECK(*with_options("flags:FSRPAUEC;").flags == BitsMatch{0xff, 0, Mod::exact});
    CHECK(*with_options("tcp.flags:S;").flags == BitsMatch{0x02, 0, Mod::exact});

    // What each modifier means on the wire.
    const BitsMatch syn_only{0x02, 0xc0, Mod::exact};
    CHECK(syn_only.matches(0x02));
    CHECK(syn_only.matches(0x42));  // ECE ignored
    CHECK_FALSE(syn_only.matches(0x12));
    CHECK(BitsMatch{0x10, 0, Mod::plus}.matches(0x12));
    CHECK_FALSE(BitsMatch{0x10, 0, Mod::plus}.matches(0x02));
    CHECK(BitsMatch{0x03, 0, Mod::any}.matches(0x01));
    CHECK_FALSE(BitsMatch{0x03, 0, Mod::any}.matches(0x10));
    CHECK(BitsMatch{0x06, 0, Mod::not_all}.matches(0x02));
    CHECK_FALSE(BitsMatch{0x06, 0, Mod::not_all}.matches(0x06));
    CHECK(BitsMatch{0, 0, Mod::exact}.matches(0));
    CHECK_FALSE(BitsMatch{0, 0, Mod::exact}.matches(0x10));

    CHECK(options_error("flags:SX;") == "t.rules:1: sid 1: flags: unknown flag 'X' in 'SX'");
    CHECK(options_error("flags:+S*;") == "t.rules:1: sid 1: flags: more than one modifier in '+S*'");
    CHECK(options_error("flags:0S;") ==
          "t.rules:1: sid 1: flags: '0' (no flags) cannot be combined with other flags in '0S'");
    CHECK(options_error("flags:+;") == "t.rules:1: sid 1: flags: no flags in '+'");
    CHECK(options_error("flags:S,;") == "t.rules:1: sid 1: flags: nothing to ignore after ',' in 'S,'");
    CHECK(options_error("flags:S; flags:A;") == "t.rules:1: sid 1: flags: given twice");
    CHECK(options_error("flags:S; tcp.flags:A;") == "t.rules:1: sid 1: tcp.flags: given twice");
}

TEST_CASE("fragbits") {
    CHECK(*with_options("fragbits:M;").fragbits == BitsMatch{kFragMore, 0, Mod::exact});
    CHECK(*with_options("fragbits:MD+;").fragbits == BitsMatch{kFragMore | kFragDont, 0, Mod::plus});
    CHECK(*with_options("fragbits:!D;").fragbits == BitsMatch{kFragDont, 0, Mod::not_all});
    CHECK(*with_options("fragbits:*R;").fragbits == BitsMatch{kFragReserved, 0, Mod::any});
    CHECK(options_error("fragbits:MX;") == "t.rules:1: sid 1: fragbits: unknown flag 'X' in 'MX'");
    CHECK(options_error("fragbits:M,D;") == "t.rules:1: sid 1: fragbits: expected [+*!]BITS, got 'M,D'");
}

TEST_CASE("numeric comparisons: every form, on every numeric keyword") {
    CHECK(*with_options("dsize:10;").dsize == NumberMatch{Op::eq, 10, 0});
    CHECK(*with_options("dsize:<30;").dsize == NumberMatch{Op::lt, 30, 0});
    CHECK(*with_options("dsize:>11;").dsize == NumberMatch{Op::gt, 11, 0});
    CHECK(*with_options("dsize:<=5;").dsize == NumberMatch{Op::le, 5, 0});
    CHECK(*with_options("dsize:>=5;").dsize == NumberMatch{Op::ge, 5, 0});
    CHECK(*with_options("dsize:!0;").dsize == NumberMatch{Op::ne, 0, 0});
    CHECK(*with_options("dsize:9<>18;").dsize == NumberMatch{Op::between, 9, 18});
    CHECK(*with_options("dsize:9-18;").dsize == NumberMatch{Op::between, 9, 18});
    CHECK(*with_options("dsize:!9<>18;").dsize == NumberMatch{Op::not_between, 9, 18});
    CHECK(*with_options("dsize: < 30 ;").dsize == NumberMatch{Op::lt, 30, 0});

    CHECK(*with_options("ttl:64;").ttl == NumberMatch{Op::eq, 64, 0});
    CHECK(*with_options("ttl:<5;").ttl == NumberMatch{Op::lt, 5, 0});
    CHECK(*with_options("tos:0x10;").tos == NumberMatch{Op::eq, 16, 0});
    CHECK(*with_options("tos:!8;").tos == NumberMatch{Op::ne, 8, 0});
    CHECK(*with_options("id:31337;").ip_id == NumberMatch{Op::eq, 31337, 0});
    CHECK(*with_options("window:!1024;").window == NumberMatch{Op::ne, 1024, 0});
    CHECK(*with_options("seq:4294967295;").seq == NumberMatch{Op::eq, 4294967295u, 0});
    CHECK(*with_options("ack:0;").ack == NumberMatch{Op::eq, 0, 0});
    CHECK(*with_options("icmp_id:21781;").icmp_id == NumberMatch{Op::eq, 21781, 0});
    CHECK(*with_options("icmp_seq:2216;").icmp_seq == NumberMatch{Op::eq, 2216, 0});
    CHECK(*with_options("itype:8;").itype == NumberMatch{Op::eq, 8, 0});
    CHECK(*with_options("itype:7<>20;").itype == NumberMatch{Op::between, 7, 20});
    CHECK(*with_options("icode:>0;").icode == NumberMatch{Op::gt, 0, 0});
    CHECK(*with_options("fragoffset:>0;").fragoffset == NumberMatch{Op::gt, 0, 0});
    CHECK(*with_options("ip_proto:41;").ip_proto == NumberMatch{Op::eq, 41, 0});
    CHECK(*with_options("ip_proto:tcp;").ip_proto == NumberMatch{Op::eq, 6, 0});
    CHECK(*with_options("ip_proto:!UDP;").ip_proto == NumberMatch{Op::ne, 17, 0});
    CHECK(*with_options("ip_proto:<ipv6-icmp;").ip_proto == NumberMatch{Op::lt, 58, 0});

    // "N<>M" is exclusive at both ends, as in Suricata.
    const NumberMatch between{Op::between, 9, 18};
    CHECK_FALSE(between.matches(9));
    CHECK(between.matches(10));
    CHECK(between.matches(17));
    CHECK_FALSE(between.matches(18));
    CHECK(NumberMatch{Op::not_between, 9, 18}.matches(9));
    CHECK(NumberMatch{Op::le, 5, 0}.matches(5));
    CHECK_FALSE(NumberMatch{Op::lt, 5, 0}.matches(5));
    CHECK(NumberMatch{Op::ne, 5, 0}.matches(4));

    CHECK(options_error("dsize:big;") ==
          "t.rules:1: sid 1: dsize: expected N, !N, <N, <=N, >N, >=N, N<>M or N-M with numbers 0-65535, got 'big'");
    CHECK(options_error("ttl:256;") ==
          "t.rules:1: sid 1: ttl: expected N, !N, <N, <=N, >N, >=N, N<>M or N-M with numbers 0-255, got '256'");
    CHECK(options_error("dsize:18<>9;") ==
          "t.rules:1: sid 1: dsize: in '18<>9' the first number must be smaller than the second");
    CHECK(options_error("dsize:!<5;") ==
          "t.rules:1: sid 1: dsize: expected N, !N, <N, <=N, >N, >=N, N<>M or N-M with numbers 0-65535, got '!<5'");
    CHECK(options_error("dsize:1; dsize:2;") == "t.rules:1: sid 1: dsize: given twice");
    CHECK(options_error("ip_proto:foo;") ==
          "t.rules:1: sid 1: ip_proto: expected a protocol number 0-255 or name (tcp, udp, icmp, ...) with an "
          "optional !, < or >, got 'foo'");
}

TEST_CASE("ipopts and sameip") {
    const auto r = with_options("ipopts:rr; ipopts:lsrr; sameip;");
    CHECK(r.ipopts == std::vector<IpOption>{IpOption::rr, IpOption::lsrr});
    CHECK(r.sameip);
    for (const char* o : {"rr", "eol", "nop", "ts", "sec", "esec", "lsrr", "ssrr", "satid", "any"}) {
        const auto x = with_options(std::string("ipopts:") + o + ";");
        REQUIRE(x.ipopts.size() == 1);
        CHECK(std::string(ip_option_name(x.ipopts[0])) == o);
    }
    CHECK(options_error("ipopts:rrr;") ==
          "t.rules:1: sid 1: ipopts: expected rr, eol, nop, ts, sec, esec, lsrr, ssrr, satid or any, got 'rrr'");
    CHECK(options_error("sameip:yes;") == "t.rules:1: sid 1: sameip: takes no value, got 'yes'");
}

TEST_CASE("flowbits: every operation and list form") {
    const auto r = with_options(
        "flowbits:set,a; flowbits:unset,b; flowbits:toggle,c; flowbits:isset,a|b; flowbits:isnotset,x&y; "
        "flowbits:noalert;");
    REQUIRE(r.flowbits.size() == 5);
    CHECK(r.flowbits[0].op == Flowbit::Op::set);
    CHECK(r.flowbits[0].names == std::vector<std::string>{"a"});
    CHECK(r.flowbits[1].op == Flowbit::Op::unset);
    CHECK(r.flowbits[2].op == Flowbit::Op::toggle);
    CHECK(r.flowbits[3].op == Flowbit::Op::isset);
    CHECK(r.flowbits[3].names == std::vector<std::string>{"a", "b"});
    CHECK_FALSE(r.flowbits[3].all);
    CHECK(r.flowbits[4].op == Flowbit::Op::isnotset);
    CHECK(r.flowbits[4].names == std::vector<std::string>{"x", "y"});
    CHECK(r.flowbits[4].all);
    CHECK(r.noalert);
    CHECK(with_options("flowbits: set , spaced ;").flowbits[0].names == std::vector<std::string>{"spaced"});
    CHECK(with_options("noalert;").noalert);

    CHECK(options_error("flowbits:sett,a;") ==
          "t.rules:1: sid 1: flowbits: unknown operation 'sett' (expected set, isset, isnotset, unset, toggle or "
          "noalert)");
    CHECK(options_error("flowbits:isset;") == "t.rules:1: sid 1: flowbits: 'isset' needs a flowbit name");
    CHECK(options_error("flowbits:noalert,x;") == "t.rules:1: sid 1: flowbits: noalert takes no name, got 'noalert,x'");
    CHECK(options_error("flowbits:set,a|b;") ==
          "t.rules:1: sid 1: flowbits: only isset and isnotset take a list of names, got 'set,a|b'");
    CHECK(options_error("flowbits:isset,a|b&c;") == "t.rules:1: sid 1: flowbits: cannot mix '|' and '&' in 'a|b&c'");
    CHECK(options_error("flowbits:isset,a||b;") == "t.rules:1: sid 1: flowbits: bad flowbit name '' in 'isset,a||b'");
    CHECK(options_error("flowbits:set,a b;") == "t.rules:1: sid 1: flowbits: bad flowbit name 'a b' in 'set,a b'");
}

TEST_CASE("threshold: types, tracks, any order") {
    const auto t = with_options("threshold: type limit, track by_src, seconds 60, count 1;").threshold;
    REQUIRE(t);
    CHECK(t->type == Threshold::Type::limit);
    CHECK(t->track == Track::by_src);
    CHECK(t->count == 1);
    CHECK(t->seconds == 60);
    const auto b = with_options("threshold:type both,count 3,seconds 600,track by_dst;").threshold;
    CHECK(b->type == Threshold::Type::both);
    CHECK(b->track == Track::by_dst);
    CHECK(b->count == 3);
    CHECK(b->seconds == 600);
    CHECK(with_options("threshold:type threshold, track by_rule, count 5, seconds 300;").threshold->type ==
          Threshold::Type::threshold);
    CHECK(with_options("threshold:type limit, track by_rule, count 5, seconds 300;").threshold->track == Track::by_rule);
    CHECK(with_options("threshold:type limit, track by_both, count 5, seconds 300;").threshold->track == Track::by_both);
    CHECK(with_options("threshold:type limit, track by_flow, count 5, seconds 300;").threshold->track == Track::by_flow);

    CHECK(options_error("threshold: type limit, track by_src, count 1;") ==
          "t.rules:1: sid 1: threshold: missing 'seconds'");
    CHECK(options_error("threshold: type sometimes, track by_src, count 1, seconds 1;") ==
          "t.rules:1: sid 1: threshold: type: expected limit, threshold or both, got 'sometimes'");
    CHECK(options_error("threshold: type limit, track by_host, count 1, seconds 1;") ==
          "t.rules:1: sid 1: threshold: track: expected by_src, by_dst, by_rule, by_both or by_flow, got 'by_host'");
    CHECK(options_error("threshold: type limit, track by_src, count 0, seconds 1;") ==
          "t.rules:1: sid 1: threshold: count: expected a positive integer, got '0'");
    CHECK(options_error("threshold: type limit, track by_src, count 1, seconds 1, rate 5;") ==
          "t.rules:1: sid 1: threshold: unknown item 'rate 5' (expected type, track, count, seconds)");
    CHECK(options_error("threshold: type limit, type both, track by_src, count 1, seconds 1;") ==
          "t.rules:1: sid 1: threshold: 'type' given twice");
    CHECK(options_error("threshold: type, track by_src, count 1, seconds 1;") ==
          "t.rules:1: sid 1: threshold: 'type' needs a value");
}

TEST_CASE("detection_filter: tracks and unique_on") {
    const auto d = with_options("detection_filter:track by_src,count 15,seconds 2;").detection_filter;
    REQUIRE(d);
    CHECK(d->track == Track::by_src);
    CHECK(d->count == 15);
    CHECK(d->seconds == 2);
    CHECK(d->unique_on == DetectionFilter::UniqueOn::none);
    const auto u = with_options("detection_filter: track by_dst, count 1, seconds 60, unique_on dst_port;")
                       .detection_filter;
    CHECK(u->track == Track::by_dst);
    CHECK(u->unique_on == DetectionFilter::UniqueOn::dst_port);
    CHECK(with_options("detection_filter:track by_flow, count 1, seconds 3600;").detection_filter->track ==
          Track::by_flow);
    CHECK(options_error("detection_filter:track by_src, count 1;") ==
          "t.rules:1: sid 1: detection_filter: missing 'seconds'");
    CHECK(options_error("detection_filter:type limit, track by_src, count 1, seconds 1;") ==
          "t.rules:1: sid 1: detection_filter: unknown item 'type limit' (expected track, count, seconds, unique_on)");
    CHECK(options_error("detection_filter:track by_src, count 1, seconds 1, unique_on proto;") ==
          "t.rules:1: sid 1: detection_filter: unique_on: expected src_port or dst_port, got 'proto'");
    // Threshold and detection_filter may both be present.
    const auto both = with_options(
        "threshold:type limit, track by_src, count 1, seconds 60; detection_filter:track by_src, count 5, seconds 10;");
    CHECK(both.threshold);
    CHECK(both.detection_filter);
}
