#include "match/keywords.hpp"

#include <algorithm>
#include <array>

#include "match/text_util.hpp"

namespace sg::rules {
namespace {

using V = ValueUse;

// Every keyword this parser understands. `meta` keywords are parsed even in
// a rule that will be skipped, so that skip reports carry sid and msg and
// flowbits a skipped rule would set are known.
constexpr Keyword kKeywords[] = {
    // name              parse                value        once   meta   help
    {"msg",              kw_msg,              V::required, true,  true,  "alert message"},
    {"sid",              kw_sid,              V::required, true,  true,  "signature id (required)"},
    {"rev",              kw_rev,              V::required, true,  true,  "revision"},
    {"gid",              kw_gid,              V::required, true,  true,  "group id (default 1)"},
    {"classtype",        kw_classtype,        V::required, true,  true,  "classification short name"},
    {"priority",         kw_priority,         V::required, true,  true,  "priority 1-255, overrides the classtype's"},
    {"reference",        kw_reference,        V::required, false, true,  "TYPE,VALUE"},
    {"metadata",         kw_metadata,         V::required, false, true,  "comma-separated KEY VALUE items"},
    {"target",           kw_target,           V::required, true,  true,  "src_ip or dest_ip: which side is attacked"},
    {"flowbits",         kw_flowbits,         V::required, false, true,  "set/unset/toggle/isset/isnotset,NAME or noalert"},
    {"noalert",          kw_noalert,          V::none,     false, false, "the rule never alerts (sets state only)"},
    {"content",          kw_content,          V::required, false, false, "byte pattern in the payload"},
    {"nocase",           kw_nocase,           V::none,     false, false, "content: case-insensitive"},
    {"rawbytes",         kw_rawbytes,         V::none,     false, false, "content: accepted, no effect"},
    {"depth",            kw_depth,            V::required, false, false, "content: must end within N bytes of offset"},
    {"offset",           kw_offset,           V::required, false, false, "content: starts at least N bytes in"},
    {"distance",         kw_distance,         V::required, false, false, "content: starts N bytes after the previous match"},
    {"within",           kw_within,           V::required, false, false, "content: ends within N bytes after distance"},
    {"startswith",       kw_startswith,       V::none,     false, false, "content: at the start of the payload"},
    {"endswith",         kw_endswith,         V::none,     false, false, "content: at the end of the payload"},
    {"fast_pattern",     kw_fast_pattern,     V::optional, false, false, "content: prefilter on this one (only, or X,Y)"},
    {"pcre",             kw_pcre,             V::required, false, false, "Perl-compatible regular expression"},
    {"pkt_data",         kw_noop,             V::none,     false, false, "payload buffer (the default): no effect"},
    {"prefilter",        kw_noop,             V::none,     false, false, "engine hint: no effect"},
    {"flow",             kw_flow,             V::required, true,  false, "direction and state of the flow"},
    {"flags",            kw_flags,            V::required, true,  false, "TCP flags [modifier]FLAGS[,IGNORE]"},
    {"tcp.flags",        kw_flags,            V::required, true,  false, "alias of flags"},
    {"fragbits",         kw_fragbits,         V::required, true,  false, "IP fragment bits M, D, R"},
    {"fragoffset",       kw_fragoffset,       V::required, true,  false, "IP fragment offset"},
    {"dsize",            kw_dsize,            V::required, true,  false, "payload size"},
    {"ttl",              kw_ttl,              V::required, true,  false, "IP time to live"},
    {"tos",              kw_tos,              V::required, true,  false, "IP type of service"},
    {"id",               kw_id,               V::required, true,  false, "IPv4 identification"},
    {"ipopts",           kw_ipopts,           V::required, false, false, "IPv4 option present"},
    {"ip_proto",         kw_ip_proto,         V::required, true,  false, "IP protocol number or name"},
    {"sameip",           kw_sameip,           V::none,     true,  false, "source address equals destination"},
    {"window",           kw_window,           V::required, true,  false, "TCP window"},
    {"seq",              kw_seq,              V::required, true,  false, "TCP sequence number"},
    {"ack",              kw_ack,              V::required, true,  false, "TCP acknowledgement number"},
    {"itype",            kw_itype,            V::required, true,  false, "ICMP type"},
    {"icode",            kw_icode,            V::required, true,  false, "ICMP code"},
    {"icmp_id",          kw_icmp_id,          V::required, true,  false, "ICMP echo id"},
    {"icmp_seq",         kw_icmp_seq,         V::required, true,  false, "ICMP echo sequence"},
    {"threshold",        kw_threshold,        V::required, true,  false, "type, track, count, seconds"},
    {"detection_filter", kw_detection_filter, V::required, true,  false, "track, count, seconds[, unique_on]"},
};

// Known Suricata keywords we do not support, by exact name.
constexpr std::string_view kUnsupported[] = {
    "absent", "asn1", "bsize", "bypass", "config", "dataset", "datarep", "decode-event",
    "dotprefix", "domain", "engine-event", "entropy", "flowint", "flowvar", "from_base64",
    "geoip", "header_lowercase", "iprep", "isdataat", "l3_proto", "nfq_set_mark", "pcrexform",
    "pktvar", "replace", "requires", "rpc", "compress_whitespace", "strip_whitespace",
    "strip_pseudo_headers", "stream-event", "stream_size", "tag", "tld", "uricontent", "urilen",
    "url_decode", "xbits", "xor", "tcp.hdr", "tcp.mss", "tcp.wscale", "udp.hdr", "ipv4.hdr",
    "ipv6.hdr", "icmpv4.hdr", "icmpv6.hdr", "icmpv6.mtu", "frame", "transforms",
};

// Families of known Suricata keywords (app-layer buffers and their
// modifiers, byte math, transforms, scripting), by name prefix. No supported
// keyword starts with any of these.
constexpr std::string_view kUnsupportedPrefixes[] = {
    "app-layer", "base64_", "bittorrent", "byte_", "cip", "dce_", "dcerpc", "dhcp", "dnp3", "dns",
    "email", "enip", "file", "flow.", "ftp", "http", "ike", "ja3", "ja4", "krb5", "ldap", "lua",
    "mime", "modbus", "mqtt", "nfs", "pgsql", "quic", "rdp", "rfb", "sdp", "sip", "smb", "smtp",
    "snmp", "ssh", "ssl", "template", "tftp", "tls", "to_", "vlan", "websocket", "x509",
};

} // namespace

Content* RuleContext::last_content() {
    if (rule.payload.empty()) return nullptr;
    return std::get_if<Content>(&rule.payload.back());
}

std::span<const Keyword> supported_keywords() { return kKeywords; }

const Keyword* find_keyword(std::string_view name) {
    for (const auto& k : kKeywords)
        if (k.name == name) return &k;
    return nullptr;
}

bool is_unsupported_keyword(std::string_view name) {
    if (std::find(std::begin(kUnsupported), std::end(kUnsupported), name) != std::end(kUnsupported))
        return true;
    return std::any_of(std::begin(kUnsupportedPrefixes), std::end(kUnsupportedPrefixes),
                       [&](std::string_view p) { return name.starts_with(p); });
}

std::string closest_keyword(std::string_view name) {
    std::string_view best;
    size_t best_d = 3;  // suggest only within two edits
    const auto consider = [&](std::string_view k) {
        const size_t d = edit_distance(name, k);
        if (d < best_d) {
            best_d = d;
            best = k;
        }
    };
    for (const auto& k : kKeywords) consider(k.name);
    for (const auto k : kUnsupported) consider(k);
    return std::string(best);
}

} // namespace sg::rules
