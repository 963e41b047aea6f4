// Fuzz entries for lib/match's text formats: Suricata rules (parser and
// rules-check output; compiled and matched), classification.config and
// threshold.config. The input is the file's text.
//
// What must hold besides "no crash": every diagnostic names the file and a
// line of the input ("fuzz.rules:LINE: ..."), what `rules check --json`
// prints can be printed (JSON wants UTF-8), and a rule set the parser
// accepted also compiles (or says which rule it cannot take).

#include "fuzz_entries.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "match/classification.hpp"
#include "match/database.hpp"
#include "match/matcher.hpp"
#include "match/rule_parser.hpp"
#include "match/rules_check.hpp"
#include "match/threshold_config.hpp"
#include "parse/decode.hpp"
#include "fuzz_util.hpp"

namespace sg::fuzz {
namespace {

std::string_view as_text(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

std::string check_diagnostics(const std::vector<rules::Diagnostic>& list, std::string_view kind, unsigned lines) {
    for (const rules::Diagnostic& d : list) {
        const std::string text = d.text();
        if (d.message.empty() || !names_a_line(text, d.file, lines))
            return fmt::format("{} without a line of the input: '{}'", kind, text);
    }
    return {};
}

std::string dumps(const nlohmann::json& j, std::string_view what) {
    try {
        (void)j.dump();
    } catch (const nlohmann::json::exception& e) {
        return fmt::format("{} cannot be printed as JSON: {}", what, e.what());
    }
    return {};
}

rules::Classifications fixed_classes() {
    rules::Classifications c;
    c.add("trojan-activity", {"A Network Trojan was detected", 1});
    c.add("attempted-recon", {"Attempted Information Leak", 2});
    c.add("misc-activity", {"Misc activity", 3});
    return c;
}

rules::Vars fixed_vars() {
    rules::Vars vars;
    vars.set_home_net({*Prefix::parse("10.0.0.0/8"), *Prefix::parse("2001:db8::/32")});
    return vars;
}

// Ethernet + IPv4 (or IPv6) + TCP/UDP/ICMP + payload: a packet for the matcher.
std::vector<uint8_t> make_frame(uint8_t proto, bool v6, std::string_view payload, bool reply) {
    std::vector<uint8_t> f(14, 0);
    f[12] = v6 ? 0x86 : 0x08;
    f[13] = v6 ? 0xDD : 0x00;
    const size_t l4_len = proto == kProtoTcp ? 20 : 8;
    const size_t ip_len = (v6 ? 40 : 20);
    const size_t total = ip_len + l4_len + payload.size();
    std::array<uint8_t, 16> a{}, b{};
    if (v6) {
        a = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        b = {0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    } else {
        a = {10, 0, 0, 1};
        b = {198, 51, 100, 2};
    }
    if (reply) std::swap(a, b);
    if (v6) {
        const uint8_t next = proto == kProtoIcmp ? kProtoIcmpv6 : proto;
        const size_t plen = total - 40;
        const uint8_t h[8] = {0x60, 0, 0, 0, uint8_t(plen >> 8), uint8_t(plen), next, 64};
        f.insert(f.end(), h, h + 8);
        f.insert(f.end(), a.begin(), a.end());
        f.insert(f.end(), b.begin(), b.end());
    } else {
        const uint8_t h[12] = {0x45, 0, uint8_t(total >> 8), uint8_t(total), 0x12, 0x34, 0, 0, 64, proto, 0, 0};
        f.insert(f.end(), h, h + 12);
        f.insert(f.end(), a.begin(), a.begin() + 4);
        f.insert(f.end(), b.begin(), b.begin() + 4);
    }
    const uint16_t sport = reply ? 80 : 40000, dport = reply ? 40000 : 80;
    if (proto == kProtoTcp) {
        const uint8_t t[20] = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport),
                               0, 0, 1, 0, 0, 0, 2, 0, 0x50, 0x18, 0x04, 0x00, 0, 0, 0, 0};
        f.insert(f.end(), t, t + 20);
    } else if (proto == kProtoUdp) {
        const size_t ulen = 8 + payload.size();
        const uint8_t u[8] = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport),
                              uint8_t(ulen >> 8), uint8_t(ulen), 0, 0};
        f.insert(f.end(), u, u + 8);
    } else {
        const uint8_t c[8] = {uint8_t(v6 ? 128 : 8), 0, 0, 0, 0x12, 0x34, 0, 1};
        f.insert(f.end(), c, c + 8);
    }
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
}

} // namespace

std::string rules(const uint8_t* data, size_t size) {
    static const rules::Classifications classes = fixed_classes();
    static const rules::Vars vars = fixed_vars();
    const std::string_view text = as_text(data, size);
    const unsigned lines = line_count(text);
    const rules::RuleSetParse parse = rules::parse_rules_text(text, "fuzz.rules", vars, classes);
    if (auto p = check_diagnostics(parse.errors, "an error", lines); !p.empty()) return p;
    if (auto p = check_diagnostics(parse.warnings, "a warning", lines); !p.empty()) return p;
    if (!parse.ok() && parse.errors.empty()) return "a failed parse without an error";
    for (const rules::SkippedRule& s : parse.skipped) {
        if (s.reason.empty()) return fmt::format("sid {} skipped without a reason", s.sid);
        if (s.line < 1 || s.line > lines) return fmt::format("sid {} skipped at line {} of {}", s.sid, s.line, lines);
    }
    std::vector<const rules::Rule*> accepted;
    for (const rules::Rule& r : parse.rules) {
        if (auto p = dumps(rules::rule_json(r), fmt::format("accepted sid {}", r.sid)); !p.empty()) return p;
        accepted.push_back(&r);
    }
    if (auto p = dumps(rules::rules_check_json(parse), "the rules-check report"); !p.empty()) return p;
    (void)rules::rules_check_text(parse, std::nullopt, 10);
    (void)rules::resolve_rule_filters(accepted, nullptr);
    return {};
}

std::string rule_match(const uint8_t* data, size_t size) {
    static const rules::Classifications classes = fixed_classes();
    static const rules::Vars vars = fixed_vars();
    const std::string_view text = as_text(data, size);
    rules::RuleSetParse parse = rules::parse_rules_text(text, "fuzz.rules", vars, classes);
    // Hyperscan compiles take milliseconds: keep the sets small.
    if (!parse.ok() || parse.rules.empty() || parse.rules.size() > 8) return {};
    auto db = MatchDatabase::build(std::move(parse.rules), 1, classes);
    if (!db) {
        const std::string& m = db.error().message;
        if (!m.starts_with("fuzz.rules:") && m.find("flowbit") == std::string::npos)
            return "a rule set the parser accepted does not compile, and the error names no rule: " + m;
        return {};
    }
    Matcher matcher;
    if (!matcher.attach(*db)) return "cannot attach a matcher";
    // The payload is the rule text itself: the rules' contents are in it.
    const std::string_view payload = text.substr(0, 1400);
    Flow flow;
    flow.tcp_state = TcpState::established;
    flow.established_at = 1;
    flow.packets[0] = flow.packets[1] = 3;
    unsigned alerts = 0;
    for (const uint8_t proto : {kProtoTcp, kProtoUdp, kProtoIcmp}) {
        for (const bool v6 : {false, true}) {
            for (unsigned dir = 0; dir < 2; ++dir) {
                const std::vector<uint8_t> frame = make_frame(proto, v6, payload, dir == 1);
                PacketView pv;
                decode(frame.data(), uint32_t(frame.size()), pv);
                StreamInspection stream;
                if (proto == kProtoTcp && dir == 0) {
                    stream.chunks.span[0] = {frame.data() + pv.payload_offset, pv.payload_len};
                    stream.chunks.count = 1;
                    stream.payload_in_stream = true;
                }
                matcher.inspect(pv, frame.data(), &flow, dir, stream, [&](const RuleHit&) { ++alerts; });
            }
        }
    }
    return {};
}

std::string classification(const uint8_t* data, size_t size) {
    const std::string_view text = as_text(data, size);
    auto parsed = rules::parse_classifications(text, "fuzz.config");
    if (!parsed && !names_a_line(parsed.error().message, "fuzz.config", line_count(text)))
        return "a classification error without a line of the input: " + parsed.error().message;
    return {};
}

std::string threshold_config(const uint8_t* data, size_t size) {
    static const rules::Vars vars = fixed_vars();
    // Rules with their own threshold keywords, for the file to replace or complete.
    static const rules::RuleSetParse rule_set = rules::parse_rules_text(
        "alert tcp any any -> any any (msg:\"a\"; content:\"a\"; sid:1; rev:1;)\n"
        "alert tcp any any -> any any (msg:\"b\"; content:\"b\"; threshold:type limit, track by_src, count 1, "
        "seconds 60; sid:2; rev:1;)\n"
        "alert udp any any -> any any (msg:\"c\"; content:\"c\"; detection_filter:track by_dst, count 5, "
        "seconds 10; sid:3; rev:1;)\n"
        "alert ip any any -> any any (msg:\"d\"; gid:3; sid:4; rev:1;)\n",
        "fixed.rules", vars, fixed_classes());
    const std::string_view text = as_text(data, size);
    auto parsed = rules::parse_threshold_config(text, "threshold.config", vars);
    if (!parsed) {
        // One "FILE:LINE: what" per line of the message.
        std::string_view rest = parsed.error().message;
        const unsigned lines = line_count(text);
        while (!rest.empty()) {
            const auto nl = rest.find('\n');
            // The list ends with "... and N more" when it was cut.
            const bool last = nl == std::string_view::npos;
            if (last && rest.starts_with("... and ") && rest.ends_with(" more")) break;
            if (!names_a_line(rest.substr(0, nl), "threshold.config", lines))
                return "a threshold.config error without a line of the input: " + std::string(rest.substr(0, nl));
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        }
        return {};
    }
    std::vector<const rules::Rule*> list;
    for (const rules::Rule& r : rule_set.rules) list.push_back(&r);
    std::vector<rules::Diagnostic> warnings;
    const auto filters = rules::resolve_rule_filters(list, &*parsed, &warnings);
    if (filters.size() != list.size()) return "resolve_rule_filters lost a rule";
    const unsigned lines = line_count(text);
    for (const auto& e : parsed->entries)
        if (e.line < 1 || e.line > lines) return fmt::format("an entry at line {} of {}", e.line, lines);
    return check_diagnostics(warnings, "a threshold.config warning", lines);
}

} // namespace sg::fuzz
