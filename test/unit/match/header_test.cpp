// Rule headers: action, protocol, addresses, ports, direction.

#include "rule_test_util.hpp"

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

namespace {
IpAddress ip(const char* text) { return *IpAddress::parse(text); }
}

TEST_CASE("header: actions") {
    CHECK(accepted("alert ip any any -> any any (sid:1;)").action == Action::alert);
    CHECK(accepted("pass ip any any -> any any (sid:1;)").action == Action::pass);
    CHECK(accepted("drop ip any any -> any any (sid:1;)").action == Action::drop);
    CHECK(accepted("reject ip any any -> any any (sid:1;)").action == Action::reject);
    CHECK(accepted("rejectsrc ip any any -> any any (sid:1;)").action == Action::reject);
    CHECK(accepted("rejectdst ip any any -> any any (sid:1;)").action == Action::reject);
    CHECK(accepted("rejectboth ip any any -> any any (sid:1;)").action == Action::reject);
    CHECK(skip_of("config dns any any -> any any (sid:1;)") == "action:config");
}

TEST_CASE("header: protocols") {
    CHECK(accepted("alert ip any any -> any any (sid:1;)").protocol == Protocol::ip);
    CHECK(accepted("alert tcp any any -> any any (sid:1;)").protocol == Protocol::tcp);
    CHECK(accepted("alert udp any any -> any any (sid:1;)").protocol == Protocol::udp);
    CHECK(accepted("alert icmp any any -> any any (sid:1;)").protocol == Protocol::icmp);
    CHECK(accepted("alert icmpv4 any any -> any any (sid:1;)").protocol == Protocol::icmpv4);
    CHECK(accepted("alert icmpv6 any any -> any any (sid:1;)").protocol == Protocol::icmpv6);
    CHECK(accepted("alert TCP any any -> any any (sid:1;)").protocol == Protocol::tcp);

    // tcp-pkt / tcp-stream are tcp with the stream part of flow set.
    const auto pkt = accepted("alert tcp-pkt any any -> any any (flow:established,to_server; sid:1;)");
    CHECK(pkt.protocol == Protocol::tcp);
    REQUIRE(pkt.flow);
    CHECK(pkt.flow->stream == FlowMatch::Stream::no_stream);
    CHECK(pkt.flow->state == FlowMatch::State::established);
    CHECK(pkt.flow->direction == FlowMatch::Direction::to_server);
    const auto stream = accepted("alert tcp-stream any any -> any any (sid:1;)");
    REQUIRE(stream.flow);
    CHECK(stream.flow->stream == FlowMatch::Stream::only_stream);

    // App-layer protocols and pkthdr are skipped with the protocol as reason.
    CHECK(skip_of("alert http any any -> any any (msg:\"x\"; sid:1;)") == "proto:http");
    CHECK(skip_of("alert dns any any -> any any (sid:1;)") == "proto:dns");
    CHECK(skip_of("alert tls any any -> any any (sid:1;)") == "proto:tls");
    CHECK(skip_of("alert smtp any any -> any any (sid:1;)") == "proto:smtp");
    CHECK(skip_of("alert ftp-data any any -> any any (sid:1;)") == "proto:ftp-data");
    CHECK(skip_of("alert pkthdr any any -> any any (sid:1;)") == "proto:pkthdr");
}

TEST_CASE("header: addresses and ports are resolved against the variables") {
    Vars v;
    v.set_address("HOME_NET", "[10.0.0.0/8,192.168.0.0/16]");
    const auto r = accepted("alert tcp $EXTERNAL_NET [1024:,!8080] -> $HOME_NET $HTTP_PORTS (sid:1;)", v);
    CHECK(r.src_addr.text == "$EXTERNAL_NET");
    CHECK(r.src_addr.contains(ip("8.8.8.8")));
    CHECK_FALSE(r.src_addr.contains(ip("10.0.0.1")));
    CHECK(r.src_ports.ranges == std::vector<PortRange>{{1024, 8079}, {8081, 65535}});
    CHECK(r.dst_addr.contains(ip("192.168.3.4")));
    CHECK_FALSE(r.dst_addr.contains(ip("8.8.8.8")));
    CHECK(r.dst_ports.ranges == std::vector<PortRange>{{80, 80}});
    CHECK_FALSE(r.bidirectional);

    // Blanks inside a bracketed group belong to that field.
    const auto g = accepted("alert ip [10.0.0.1, 10.0.0.2] any -> any [80, 443] (sid:1;)");
    CHECK(g.src_addr.contains(ip("10.0.0.2")));
    CHECK(g.dst_ports.ranges == std::vector<PortRange>{{80, 80}, {443, 443}});
}

TEST_CASE("header: bidirectional rules") {
    const auto r = accepted("alert tcp 10.0.0.1 any <> 10.0.0.2 22 (sid:1;)");
    CHECK(r.bidirectional);
    CHECK(r.src_addr.contains(ip("10.0.0.1")));
    CHECK(r.dst_addr.contains(ip("10.0.0.2")));
    CHECK(skip_of("alert tcp any any => any any (sid:1;)") == "direction:=>");
}

TEST_CASE("header: a set emptied by variables skips the rule, a literal one is an error") {
    // HOME_NET any: "!$HOME_NET" can match nothing. Valid, but it never fires.
    CHECK(skip_of("alert tcp !$HOME_NET any -> any any (sid:1;)") == "address:empty");
    CHECK(skip_of("alert tcp any [$HTTP_PORTS,!$HTTP_PORTS] -> any any (sid:1;)") == "port:empty");
    CHECK(error_of("alert tcp ![any] any -> any any (sid:7;)") ==
          "t.rules:1: sid 7: source address: '![any]' matches no address");
    CHECK(error_of("alert tcp any any -> any [80,!80] (sid:7;)") ==
          "t.rules:1: sid 7: destination port: '[80,!80]' matches no port");
}

TEST_CASE("header: errors") {
    CHECK(error_of("alert tcp any any -> any (sid:3;)") ==
          "t.rules:1: sid 3: expected 'ACTION PROTOCOL SOURCE SPORT -> DESTINATION DPORT (OPTIONS)', got 6 "
          "header fields before '('");
    CHECK(error_of("warn tcp any any -> any any (sid:3;)") ==
          "t.rules:1: sid 3: unknown action 'warn' (expected alert, pass, drop, reject, rejectsrc, "
          "rejectdst or rejectboth)");
    CHECK(error_of("alert tcpx any any -> any any (sid:3;)") ==
          "t.rules:1: sid 3: unknown protocol 'tcpx' (expected ip, tcp, udp, icmp, icmpv6 or an application "
          "protocol)");
    CHECK(error_of("alert tcp any any <- any any (sid:3;)") ==
          "t.rules:1: sid 3: expected '->' or '<>' between source and destination, got '<-'");
    CHECK(error_of("alert tcp $NOPE any -> any any (sid:3;)") ==
          "t.rules:1: sid 3: source address: undefined address variable $NOPE");
    CHECK(error_of("alert tcp any 99999 -> any any (sid:3;)") ==
          "t.rules:1: sid 3: source port: '99999' is not a port (0-65535)");
    CHECK(error_of("alert tcp any any -> 10.0.0.300 any (sid:3;)") ==
          "t.rules:1: sid 3: destination address: '10.0.0.300' is not an IPv4 or IPv6 address");
    CHECK(error_of("alert tcp any any -> any 90:80 (sid:3;)") ==
          "t.rules:1: sid 3: destination port: port range '90:80' is reversed");
    CHECK(error_of("alert tcp any any -> any any sid:3;") == "t.rules:1: sid 3: expected '(' before the rule options");
    CHECK(error_of("alert tcp any any -> any any (sid:3;") == "t.rules:1: sid 3: expected ')' at the end of the rule");
    CHECK(error_of("alert tcp any any -> any any (sid:3;) x") ==
          "t.rules:1: sid 3: unexpected text after the closing ')': 'x'");
}
