#pragma once
// The rule AST: what the parser (rule_parser.hpp) makes of one Suricata-syntax
// rule, as plain structs. The matcher compiles these; nothing here matches
// packets by itself except the small helpers that define what each field
// means (contains(), matches()), which the matcher and tests share.
//
// Every value is already resolved: variables expanded, address and port sets
// normalised, content bytes decoded, the priority taken from the
// classification when the rule gave none.
//
// Thread: built and read on the control side; a matcher may copy what it
// needs into per-worker tables. The helpers are pure and may run anywhere.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/ip_address.hpp"

namespace sg::rules {

enum class Action : uint8_t { alert, pass, drop, reject };  // rejectsrc/dst/both -> reject
const char* action_name(Action a);

// "icmp" matches ICMPv4 and ICMPv6, as in Suricata; "icmpv4" only the former.
enum class Protocol : uint8_t { ip, tcp, udp, icmp, icmpv4, icmpv6 };
const char* protocol_name(Protocol p);

// A set of addresses of both families, after variables, groups and negations
// were resolved. An address matches when some `include` prefix contains it
// (or `include` is empty) and no `exclude` prefix contains it. Both lists
// hold the IPv4 prefixes first, then the IPv6 ones, each family sorted by
// address and free of overlaps (parse_address_set builds them so from exact
// interval sets): contains() relies on that order for its binary search. A
// set never matches nothing (the parser rejects that).
struct AddressSet {
    std::vector<Prefix> include;  // empty: every address
    std::vector<Prefix> exclude;
    std::string text;             // as written in the rule ("$EXTERNAL_NET")

    bool is_any() const { return include.empty() && exclude.empty(); }
    bool contains(const IpAddress& a) const;
};

struct PortRange {
    uint16_t lo = 0;
    uint16_t hi = 65535;  // inclusive
    auto operator<=>(const PortRange&) const = default;
};

// A set of TCP/UDP ports: sorted, merged, non-empty ranges. "any" is the one
// range 0-65535.
struct PortSet {
    std::vector<PortRange> ranges{PortRange{}};
    std::string text;

    bool is_any() const { return ranges.size() == 1 && ranges[0] == PortRange{}; }
    bool contains(uint16_t port) const;
};

// One numeric comparison, shared by dsize, ttl, tos, id, window, seq, ack,
// icmp_id, icmp_seq, itype, icode, ip_proto and fragoffset.
// `between` is exclusive at both ends, as Suricata's "N<>M" and "N-M".
struct NumberMatch {
    enum class Op : uint8_t { eq, ne, lt, le, gt, ge, between, not_between };
    Op op = Op::eq;
    uint64_t a = 0;
    uint64_t b = 0;  // upper bound of between / not_between

    bool matches(uint64_t x) const;
    auto operator<=>(const NumberMatch&) const = default;
};

// TCP flags ("flags:S,12") and IP fragment bits ("fragbits:M+"). The value is
// first masked with ~ignore, then:
//   exact: value == bits                  plus ('+'): all of bits set, others may be
//   any ('*'): at least one of bits set   not_all ('!'): not all of bits set
// flags:0 is bits 0 with the modifier exact: no flag may be set.
struct BitsMatch {
    enum class Modifier : uint8_t { exact, plus, any, not_all };
    uint8_t bits = 0;
    uint8_t ignore = 0;  // only for flags ("S,12" ignores CWR and ECE)
    Modifier modifier = Modifier::exact;

    bool matches(uint8_t value) const;
    auto operator<=>(const BitsMatch&) const = default;
};

// fragbits bits (not the wire positions: the decoder's flags are mapped to these).
inline constexpr uint8_t kFragMore = 0x01;      // M: more fragments
inline constexpr uint8_t kFragDont = 0x02;      // D: don't fragment
inline constexpr uint8_t kFragReserved = 0x04;  // R: reserved bit

enum class IpOption : uint8_t { rr, eol, nop, ts, sec, esec, lsrr, ssrr, satid, any };
const char* ip_option_name(IpOption o);

struct FlowMatch {
    enum class Direction : uint8_t { any, to_server, to_client };  // from_client = to_server
    enum class State : uint8_t { any, established, not_established, stateless };
    enum class Stream : uint8_t { any, only_stream, no_stream };  // tcp-pkt sets no_stream
    enum class Frag : uint8_t { any, only_frag, no_frag };
    Direction direction = Direction::any;
    State state = State::any;
    Stream stream = Stream::any;
    Frag frag = Frag::any;
    auto operator<=>(const FlowMatch&) const = default;
};

struct Flowbit {
    enum class Op : uint8_t { set, unset, toggle, isset, isnotset };
    Op op = Op::set;
    std::vector<std::string> names;  // one name, or a list for isset/isnotset
    bool all = false;                // list joined with '&' (all) rather than '|' (any)
};
const char* flowbit_op_name(Flowbit::Op op);

enum class Track : uint8_t { by_src, by_dst, by_rule, by_both, by_flow };
const char* track_name(Track t);

struct Threshold {
    enum class Type : uint8_t { limit, threshold, both };
    Type type = Type::limit;
    Track track = Track::by_src;
    uint32_t count = 0;
    uint32_t seconds = 0;
};

struct DetectionFilter {
    enum class UniqueOn : uint8_t { none, src_port, dst_port };
    Track track = Track::by_src;
    uint32_t count = 0;
    uint32_t seconds = 0;
    UniqueOn unique_on = UniqueOn::none;
};

// Where a payload match looks. Only the packet payload (or, for TCP, the
// reassembled stream) is supported; rules needing app-layer buffers are
// skipped, so every match of an accepted rule has this buffer.
enum class Buffer : uint8_t { payload };

struct FastPatternChop {
    uint16_t offset = 0;
    uint16_t length = 0;
};

struct Content {
    std::string bytes;  // decoded: hex blocks and escapes resolved, may hold NULs
    bool negated = false;
    bool nocase = false;
    bool rawbytes = false;                 // accepted and ignored
    std::optional<uint32_t> offset;        // absolute: from the start of the buffer
    std::optional<uint32_t> depth;         // absolute: the match must end by offset + depth
    std::optional<int32_t> distance;       // relative to the end of the previous match
    std::optional<uint32_t> within;        // relative: the match must end by prev end + distance + within
    bool startswith = false;               // sets offset 0 and depth = bytes.size()
    bool endswith = false;                 // the match must end at the end of the buffer
    bool fast_pattern = false;
    bool fast_pattern_only = false;        // "fast_pattern:only"
    std::optional<FastPatternChop> fast_pattern_chop;  // "fast_pattern:X,Y"
    Buffer buffer = Buffer::payload;

    // distance/within on the first payload match of a rule are measured from
    // the start of the buffer.
    bool relative() const { return distance.has_value() || within.has_value(); }
};

struct Pcre {
    std::string pattern;  // between the slashes, as written (PCRE syntax)
    std::string flags;    // modifiers after the closing slash, as written
    bool negated = false;
    bool caseless = false;        // i
    bool dotall = false;          // s
    bool multiline = false;       // m
    bool extended = false;        // x
    bool anchored = false;        // A
    bool dollar_endonly = false;  // E
    bool ungreedy = false;        // G
    bool relative = false;        // R: starts where the previous match ended
    bool rawbytes = false;        // B: accepted and ignored
    Buffer buffer = Buffer::payload;
};

// Contents and pcres in rule order: distance, within and pcre's R refer to
// the match before.
using PayloadMatch = std::variant<Content, Pcre>;

struct Reference {
    std::string type;   // "url", "cve", ...
    std::string value;
};

enum class Target : uint8_t { none, src_ip, dest_ip };

struct Rule {
    // Header.
    Action action = Action::alert;
    Protocol protocol = Protocol::ip;
    AddressSet src_addr;
    PortSet src_ports;
    bool bidirectional = false;  // "<>": also matches with source and destination swapped
    AddressSet dst_addr;
    PortSet dst_ports;

    // Meta.
    std::string msg;
    uint32_t sid = 0;
    uint32_t rev = 0;
    uint32_t gid = 1;
    std::string classtype;
    uint32_t priority = 3;           // explicit, else the classtype's, else 3
    std::vector<Reference> references;
    std::vector<std::string> metadata;  // "created_at 2020_07_20", one entry per item
    Target target = Target::none;
    bool noalert = false;            // "noalert" or "flowbits:noalert": never alerts

    // Payload.
    std::vector<PayloadMatch> payload;

    // Packet and flow.
    std::optional<FlowMatch> flow;
    std::optional<BitsMatch> flags;
    std::optional<BitsMatch> fragbits;
    std::optional<NumberMatch> dsize;
    std::optional<NumberMatch> ttl;
    std::optional<NumberMatch> tos;
    std::optional<NumberMatch> ip_id;   // "id"
    std::optional<NumberMatch> window;
    std::optional<NumberMatch> seq;
    std::optional<NumberMatch> ack;
    std::optional<NumberMatch> icmp_id;
    std::optional<NumberMatch> icmp_seq;
    std::optional<NumberMatch> itype;
    std::optional<NumberMatch> icode;
    std::optional<NumberMatch> ip_proto;
    std::optional<NumberMatch> fragoffset;
    std::vector<IpOption> ipopts;       // all must be present
    bool sameip = false;
    std::vector<Flowbit> flowbits;      // in rule order
    std::optional<Threshold> threshold;
    std::optional<DetectionFilter> detection_filter;

    // Where it came from.
    std::string file;
    unsigned line = 0;   // first line of the rule
    std::string text;    // the rule as written (continuation lines joined)
};

} // namespace sg::rules
