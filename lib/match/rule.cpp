#include "match/rule.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

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

namespace {

// Whether some prefix of `list` contains `a`. The list is in AddressSet's
// order: IPv4 prefixes first, each family sorted by address, and no two of
// a family overlap. The only prefix that can hold `a` is then the last one
// of its family starting at or below it (a later one starts above the end
// of any earlier one), found by binary search. Each probe costs one family
// check and one compare.
bool list_contains(const std::vector<Prefix>& list, const IpAddress& a) {
    if (list.empty()) return false;
    std::vector<Prefix>::const_iterator after;
    if (a.is_v4()) {
        const uint32_t v = a.v4_host();
        after = std::partition_point(list.begin(), list.end(), [v](const Prefix& p) {
            return p.address.is_v4() && p.address.v4_host() <= v;
        });
        if (after == list.begin()) return false;
    } else {
        after = std::partition_point(list.begin(), list.end(), [&a](const Prefix& p) {
            return p.address.is_v4() || std::memcmp(p.address.bytes.data(), a.bytes.data(), 16) <= 0;
        });
        if (after == list.begin() || std::prev(after)->address.is_v4()) return false;
    }
    return std::prev(after)->contains(a);
}

} // namespace

bool AddressSet::contains(const IpAddress& a) const {
    return (include.empty() || list_contains(include, a)) && !list_contains(exclude, a);
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
