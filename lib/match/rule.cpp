#include "match/rule.hpp"

#include <algorithm>

namespace sg::rules {

const char* action_name(Action a) {
    switch (a) {
    case Action::alert: return "alert";
    case Action::pass: return "pass";
    case Action::drop: return "drop";
    case Action::reject: return "reject";
    }
    return "?";
}

const char* protocol_name(Protocol p) {
    switch (p) {
    case Protocol::ip: return "ip";
    case Protocol::tcp: return "tcp";
    case Protocol::udp: return "udp";
    case Protocol::icmp: return "icmp";
    case Protocol::icmpv4: return "icmpv4";
    case Protocol::icmpv6: return "icmpv6";
    }
    return "?";
}

const char* ip_option_name(IpOption o) {
    switch (o) {
    case IpOption::rr: return "rr";
    case IpOption::eol: return "eol";
    case IpOption::nop: return "nop";
    case IpOption::ts: return "ts";
    case IpOption::sec: return "sec";
    case IpOption::esec: return "esec";
    case IpOption::lsrr: return "lsrr";
    case IpOption::ssrr: return "ssrr";
    case IpOption::satid: return "satid";
    case IpOption::any: return "any";
    }
    return "?";
}

const char* flowbit_op_name(Flowbit::Op op) {
    switch (op) {
    case Flowbit::Op::set: return "set";
    case Flowbit::Op::unset: return "unset";
    case Flowbit::Op::toggle: return "toggle";
    case Flowbit::Op::isset: return "isset";
    case Flowbit::Op::isnotset: return "isnotset";
    }
    return "?";
}

const char* track_name(Track t) {
    switch (t) {
    case Track::by_src: return "by_src";
    case Track::by_dst: return "by_dst";
    case Track::by_rule: return "by_rule";
    case Track::by_both: return "by_both";
    case Track::by_flow: return "by_flow";
    }
    return "?";
}

bool AddressSet::contains(const IpAddress& a) const {
    const auto in = [&](const std::vector<Prefix>& list) {
        return std::any_of(list.begin(), list.end(), [&](const Prefix& p) { return p.contains(a); });
    };
    return (include.empty() || in(include)) && !in(exclude);
}

bool PortSet::contains(uint16_t port) const {
    return std::any_of(ranges.begin(), ranges.end(),
                       [&](const PortRange& r) { return r.lo <= port && port <= r.hi; });
}

bool NumberMatch::matches(uint64_t x) const {
    switch (op) {
    case Op::eq: return x == a;
    case Op::ne: return x != a;
    case Op::lt: return x < a;
    case Op::le: return x <= a;
    case Op::gt: return x > a;
    case Op::ge: return x >= a;
    case Op::between: return a < x && x < b;
    case Op::not_between: return !(a < x && x < b);
    }
    return false;
}

bool BitsMatch::matches(uint8_t value) const {
    const uint8_t v = value & uint8_t(~ignore);
    switch (modifier) {
    case Modifier::exact: return v == bits;
    case Modifier::plus: return (v & bits) == bits;
    case Modifier::any: return (v & bits) != 0;
    case Modifier::not_all: return (v & bits) != bits;
    }
    return false;
}

} // namespace sg::rules
