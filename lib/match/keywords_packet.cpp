// Packet, flow and rate keywords: header fields, TCP flags, flow state,
// flowbits, threshold and detection_filter.

#include "match/keywords.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include <fmt/format.h>

#include "match/text_util.hpp"

namespace sg::rules {
namespace {

// "N", "=N", "!N", "<N", "<=N", ">N", ">=N", "N<>M", "N-M", "!N<>M", "!N-M".
// Numbers are decimal, or hex with "0x" when `hex` is set.
Result<NumberMatch> number_match(std::string_view keyword, std::string_view text, uint64_t max,
                                 bool hex = false) {
    const auto bad = [&] {
        return make_error(fmt::format(
            "{}: expected N, !N, <N, <=N, >N, >=N, N<>M or N-M with numbers 0-{}, got '{}'", keyword, max,
            text));
    };
    const auto num = [&](std::string_view s) { return parse_uint(trim(s), 0, max, hex); };
    auto t = trim(text);
    NumberMatch m;
    bool negated = false;
    if (t.starts_with('!')) {
        negated = true;
        t = trim(t.substr(1));
    }
    const auto range_at = t.find("<>");
    const auto dash_at = t.find('-', 1);
    if (range_at != std::string_view::npos || (dash_at != std::string_view::npos && !t.starts_with('<') &&
                                                !t.starts_with('>') && !t.starts_with('='))) {
        const auto split_at = range_at != std::string_view::npos ? range_at : dash_at;
        const auto a = num(t.substr(0, split_at));
        const auto b = num(t.substr(split_at + (range_at != std::string_view::npos ? 2 : 1)));
        if (!a || !b) return bad();
        if (*a >= *b)
            return make_error(fmt::format("{}: in '{}' the first number must be smaller than the second",
                                          keyword, text));
        return NumberMatch{negated ? NumberMatch::Op::not_between : NumberMatch::Op::between, *a, *b};
    }
    static constexpr std::pair<std::string_view, NumberMatch::Op> kOps[] = {
        {"<=", NumberMatch::Op::le}, {">=", NumberMatch::Op::ge}, {"<", NumberMatch::Op::lt},
        {">", NumberMatch::Op::gt},  {"=", NumberMatch::Op::eq},
    };
    m.op = NumberMatch::Op::eq;
    for (const auto& [prefix, op] : kOps) {
        if (t.starts_with(prefix)) {
            if (negated) return bad();
            m.op = op;
            t = t.substr(prefix.size());
            break;
        }
    }
    if (negated) m.op = NumberMatch::Op::ne;
    const auto a = num(t);
    if (!a) return bad();
    m.a = *a;
    return m;
}

Result<> set_number(std::optional<NumberMatch>& field, std::string_view keyword, const Option& o,
                    uint64_t max, bool hex = false) {
    auto m = number_match(keyword, o.value, max, hex);
    if (!m) return m.error();
    field = *m;
    return {};
}

// Flag letters -> bits for flags (TCP) and fragbits (IP).
struct FlagLetter {
    char letter;
    uint8_t bit;
};
constexpr FlagLetter kTcpFlags[] = {
    {'F', 0x01}, {'S', 0x02}, {'R', 0x04}, {'P', 0x08}, {'A', 0x10}, {'U', 0x20},
    {'E', 0x40}, {'C', 0x80}, {'2', 0x40}, {'1', 0x80},  // 1 and 2: the old names of CWR and ECE
};
constexpr FlagLetter kFragBits[] = {{'M', kFragMore}, {'D', kFragDont}, {'R', kFragReserved}};

template <size_t N>
Result<BitsMatch> bits_match(std::string_view keyword, std::string_view text, const FlagLetter (&letters)[N],
                             bool allow_ignore) {
    BitsMatch m;
    auto main = trim(text);
    std::string_view ignore;
    if (const auto comma = main.find(','); comma != std::string_view::npos) {
        if (!allow_ignore)
            return make_error(fmt::format("{}: expected [+*!]BITS, got '{}'", keyword, text));
        ignore = trim(main.substr(comma + 1));
        main = trim(main.substr(0, comma));
        if (ignore.empty()) return make_error(fmt::format("{}: nothing to ignore after ',' in '{}'", keyword, text));
    }
    const auto bit_of = [&](char c) -> int {
        const char u = char(std::toupper(static_cast<unsigned char>(c)));
        for (const auto& l : letters)
            if (l.letter == u) return l.bit;
        return -1;
    };
    int modifiers = 0;
    bool zero = false;
    for (const char c : main) {
        if (c == '+' || c == '*' || c == '!') {
            if (++modifiers > 1) return make_error(fmt::format("{}: more than one modifier in '{}'", keyword, text));
            m.modifier = c == '+' ? BitsMatch::Modifier::plus
                         : c == '*' ? BitsMatch::Modifier::any
                                    : BitsMatch::Modifier::not_all;
            continue;
        }
        if (c == '0' && allow_ignore) {
            zero = true;
            continue;
        }
        const int b = bit_of(c);
        if (b < 0) return make_error(fmt::format("{}: unknown flag '{}' in '{}'", keyword, c, text));
        m.bits |= uint8_t(b);
    }
    if (zero && (m.bits || modifiers))
        return make_error(fmt::format("{}: '0' (no flags) cannot be combined with other flags in '{}'", keyword, text));
    if (!zero && !m.bits) return make_error(fmt::format("{}: no flags in '{}'", keyword, text));
    for (const char c : ignore) {
        const int b = bit_of(c);
        if (b < 0) return make_error(fmt::format("{}: unknown flag '{}' in '{}'", keyword, c, text));
        m.ignore |= uint8_t(b);
    }
    return m;
}

Result<Track> parse_track(std::string_view keyword, std::string_view v) {
    static constexpr std::pair<std::string_view, Track> kTracks[] = {
        {"by_src", Track::by_src}, {"by_dst", Track::by_dst}, {"by_rule", Track::by_rule},
        {"by_both", Track::by_both}, {"by_flow", Track::by_flow},
    };
    for (const auto& [name, t] : kTracks)
        if (v == name) return t;
    return make_error(fmt::format("{}: track: expected by_src, by_dst, by_rule, by_both or by_flow, got '{}'",
                                  keyword, v));
}

// "key value, key value, ..." as used by threshold and detection_filter.
// Returns the items in order; rejects keys not in `keys` and repeats.
Result<std::vector<std::pair<std::string_view, std::string_view>>> key_values(
    std::string_view keyword, std::string_view text, std::initializer_list<std::string_view> keys) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    for (const auto item : split(text, ',')) {
        const auto t = trim(item);
        const auto space = t.find_first_of(" \t");
        const auto key = t.substr(0, space);
        const auto value = space == std::string_view::npos ? std::string_view{} : trim(t.substr(space));
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
            std::string expected;
            for (const auto k : keys) expected += fmt::format("{}{}", expected.empty() ? "" : ", ", k);
            return make_error(fmt::format("{}: unknown item '{}' (expected {})", keyword, t, expected));
        }
        if (value.empty()) return make_error(fmt::format("{}: '{}' needs a value", keyword, key));
        for (const auto& [k, v] : out)
            if (k == key) return make_error(fmt::format("{}: '{}' given twice", keyword, key));
        out.emplace_back(key, value);
    }
    return out;
}

Result<uint32_t> positive(std::string_view keyword, std::string_view key, std::string_view v) {
    const auto n = parse_uint(v, 1, UINT32_MAX);
    if (!n) return make_error(fmt::format("{}: {}: expected a positive integer, got '{}'", keyword, key, v));
    return uint32_t(*n);
}

} // namespace

Result<> kw_flow(RuleContext& ctx, const Option& o) {
    FlowMatch f = ctx.rule.flow.value_or(FlowMatch{});  // tcp-pkt / tcp-stream set the stream part
    // Which option set each part, for conflict messages; empty: the protocol.
    std::string_view by[4];
    for (const auto item : split(o.value, ',')) {
        const auto t = trim(item);
        const auto set = [&](auto& field, auto value, int part) -> Result<> {
            using E = std::decay_t<decltype(field)>;
            if (field != E{} && field != value)
                return make_error(by[part].empty()
                                      ? fmt::format("flow: '{}' conflicts with the protocol", t)
                                      : fmt::format("flow: '{}' conflicts with '{}'", by[part], t));
            field = value;
            by[part] = t;
            return {};
        };
        Result<> r;
        if (t == "to_server" || t == "from_client") r = set(f.direction, FlowMatch::Direction::to_server, 0);
        else if (t == "to_client" || t == "from_server") r = set(f.direction, FlowMatch::Direction::to_client, 0);
        else if (t == "established") r = set(f.state, FlowMatch::State::established, 1);
        else if (t == "not_established") r = set(f.state, FlowMatch::State::not_established, 1);
        else if (t == "stateless") r = set(f.state, FlowMatch::State::stateless, 1);
        else if (t == "only_stream") r = set(f.stream, FlowMatch::Stream::only_stream, 2);
        else if (t == "no_stream") r = set(f.stream, FlowMatch::Stream::no_stream, 2);
        else if (t == "only_frag") r = set(f.frag, FlowMatch::Frag::only_frag, 3);
        else if (t == "no_frag") r = set(f.frag, FlowMatch::Frag::no_frag, 3);
        else
            return make_error(fmt::format(
                "flow: unknown option '{}' (expected to_server, to_client, from_client, from_server, "
                "established, not_established, stateless, only_stream, no_stream, only_frag or no_frag)",
                t));
        if (!r) return r;
    }
    ctx.rule.flow = f;
    return {};
}

Result<> kw_flags(RuleContext& ctx, const Option& o) {
    auto m = bits_match("flags", o.value, kTcpFlags, true);
    if (!m) return m.error();
    ctx.rule.flags = *m;
    return {};
}

Result<> kw_fragbits(RuleContext& ctx, const Option& o) {
    auto m = bits_match("fragbits", o.value, kFragBits, false);
    if (!m) return m.error();
    ctx.rule.fragbits = *m;
    return {};
}

Result<> kw_dsize(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.dsize, "dsize", o, 65535); }
Result<> kw_ttl(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.ttl, "ttl", o, 255); }
Result<> kw_tos(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.tos, "tos", o, 255, true); }
Result<> kw_id(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.ip_id, "id", o, 65535); }
Result<> kw_window(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.window, "window", o, 65535); }
Result<> kw_seq(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.seq, "seq", o, UINT32_MAX); }
Result<> kw_ack(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.ack, "ack", o, UINT32_MAX); }
Result<> kw_icmp_id(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.icmp_id, "icmp_id", o, 65535); }
Result<> kw_icmp_seq(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.icmp_seq, "icmp_seq", o, 65535); }
Result<> kw_itype(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.itype, "itype", o, 255); }
Result<> kw_icode(RuleContext& ctx, const Option& o) { return set_number(ctx.rule.icode, "icode", o, 255); }
Result<> kw_fragoffset(RuleContext& ctx, const Option& o) {
    return set_number(ctx.rule.fragoffset, "fragoffset", o, 65535);
}

Result<> kw_ip_proto(RuleContext& ctx, const Option& o) {
    static constexpr std::pair<std::string_view, int> kNames[] = {
        {"icmp", 1},  {"igmp", 2},   {"ipip", 4},  {"tcp", 6},      {"udp", 17},     {"ipv6", 41},
        {"gre", 47},  {"esp", 50},   {"ah", 51},   {"icmpv6", 58},  {"ipv6-icmp", 58}, {"ospf", 89},
        {"pim", 103}, {"vrrp", 112}, {"l2tp", 115}, {"sctp", 132},
    };
    // A protocol name may stand where the number goes ("!tcp", "<udp").
    std::string text(o.value);
    const auto start = text.find_first_not_of("!<>= ");
    if (start != std::string::npos) {
        const auto name = to_lower(std::string_view(text).substr(start));
        for (const auto& [n, num] : kNames)
            if (name == n) text = text.substr(0, start) + std::to_string(num);
    }
    auto m = number_match("ip_proto", text, 255);
    if (!m) return make_error(fmt::format(
                "ip_proto: expected a protocol number 0-255 or name (tcp, udp, icmp, ...) with an optional "
                "!, < or >, got '{}'", o.value));
    ctx.rule.ip_proto = *m;
    return {};
}

Result<> kw_ipopts(RuleContext& ctx, const Option& o) {
    static constexpr std::pair<std::string_view, IpOption> kOpts[] = {
        {"rr", IpOption::rr},     {"eol", IpOption::eol},   {"nop", IpOption::nop},
        {"ts", IpOption::ts},     {"sec", IpOption::sec},   {"esec", IpOption::esec},
        {"lsrr", IpOption::lsrr}, {"ssrr", IpOption::ssrr}, {"satid", IpOption::satid},
        {"any", IpOption::any},
    };
    for (const auto& [name, opt] : kOpts) {
        if (o.value == name) {
            ctx.rule.ipopts.push_back(opt);
            return {};
        }
    }
    return make_error(fmt::format(
        "ipopts: expected rr, eol, nop, ts, sec, esec, lsrr, ssrr, satid or any, got '{}'", o.value));
}

Result<> kw_sameip(RuleContext& ctx, const Option&) {
    ctx.rule.sameip = true;
    return {};
}

Result<> kw_flowbits(RuleContext& ctx, const Option& o) {
    const auto comma = o.value.find(',');
    const auto op = trim(std::string_view(o.value).substr(0, comma));
    const auto names = comma == std::string::npos ? std::string_view{} : trim(std::string_view(o.value).substr(comma + 1));
    if (op == "noalert") {
        if (!names.empty()) return make_error(fmt::format("flowbits: noalert takes no name, got '{}'", o.value));
        ctx.rule.noalert = true;
        return {};
    }
    static constexpr std::pair<std::string_view, Flowbit::Op> kOps[] = {
        {"set", Flowbit::Op::set},       {"unset", Flowbit::Op::unset},
        {"toggle", Flowbit::Op::toggle}, {"isset", Flowbit::Op::isset},
        {"isnotset", Flowbit::Op::isnotset},
    };
    Flowbit fb;
    const auto it = std::find_if(std::begin(kOps), std::end(kOps), [&](const auto& p) { return p.first == op; });
    if (it == std::end(kOps))
        return make_error(fmt::format(
            "flowbits: unknown operation '{}' (expected set, isset, isnotset, unset, toggle or noalert)", op));
    fb.op = it->second;
    if (names.empty()) return make_error(fmt::format("flowbits: '{}' needs a flowbit name", op));
    const bool any = names.find('|') != std::string_view::npos;
    const bool all = names.find('&') != std::string_view::npos;
    if (any && all) return make_error(fmt::format("flowbits: cannot mix '|' and '&' in '{}'", names));
    if ((any || all) && fb.op != Flowbit::Op::isset && fb.op != Flowbit::Op::isnotset)
        return make_error(fmt::format("flowbits: only isset and isnotset take a list of names, got '{}'", o.value));
    fb.all = all;
    for (const auto n : split(names, any ? '|' : '&')) {
        const auto name = trim(n);
        if (name.empty() || name.find_first_of(" \t,") != std::string_view::npos)
            return make_error(fmt::format("flowbits: bad flowbit name '{}' in '{}'", name, o.value));
        fb.names.emplace_back(name);
    }
    ctx.rule.flowbits.push_back(std::move(fb));
    return {};
}

Result<> kw_threshold(RuleContext& ctx, const Option& o) {
    auto items = key_values("threshold", o.value, {"type", "track", "count", "seconds"});
    if (!items) return items.error();
    Threshold t;
    unsigned have = 0;
    for (const auto& [key, value] : *items) {
        if (key == "type") {
            if (value == "limit") t.type = Threshold::Type::limit;
            else if (value == "threshold") t.type = Threshold::Type::threshold;
            else if (value == "both") t.type = Threshold::Type::both;
            else return make_error(fmt::format("threshold: type: expected limit, threshold or both, got '{}'", value));
            have |= 1;
        } else if (key == "track") {
            auto tr = parse_track("threshold", value);
            if (!tr) return tr.error();
            t.track = *tr;
            have |= 2;
        } else {
            auto n = positive("threshold", key, value);
            if (!n) return n.error();
            (key == "count" ? t.count : t.seconds) = *n;
            have |= key == "count" ? 4 : 8;
        }
    }
    constexpr std::string_view kNames[] = {"type", "track", "count", "seconds"};
    for (unsigned i = 0; i < 4; ++i)
        if (!(have & (1u << i))) return make_error(fmt::format("threshold: missing '{}'", kNames[i]));
    ctx.rule.threshold = t;
    return {};
}

Result<> kw_detection_filter(RuleContext& ctx, const Option& o) {
    auto items = key_values("detection_filter", o.value, {"track", "count", "seconds", "unique_on"});
    if (!items) return items.error();
    DetectionFilter d;
    unsigned have = 0;
    for (const auto& [key, value] : *items) {
        if (key == "track") {
            auto tr = parse_track("detection_filter", value);
            if (!tr) return tr.error();
            d.track = *tr;
            have |= 1;
        } else if (key == "unique_on") {
            if (value == "src_port") d.unique_on = DetectionFilter::UniqueOn::src_port;
            else if (value == "dst_port") d.unique_on = DetectionFilter::UniqueOn::dst_port;
            else return make_error(fmt::format("detection_filter: unique_on: expected src_port or dst_port, got '{}'", value));
        } else {
            auto n = positive("detection_filter", key, value);
            if (!n) return n.error();
            (key == "count" ? d.count : d.seconds) = *n;
            have |= key == "count" ? 2 : 4;
        }
    }
    constexpr std::string_view kNames[] = {"track", "count", "seconds"};
    for (unsigned i = 0; i < 3; ++i)
        if (!(have & (1u << i))) return make_error(fmt::format("detection_filter: missing '{}'", kNames[i]));
    ctx.rule.detection_filter = d;
    return {};
}

} // namespace sg::rules
