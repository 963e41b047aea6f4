#include "match/rule_parser.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "match/address_set.hpp"
#include "match/keywords.hpp"
#include "match/text_util.hpp"

namespace sg::rules {

std::string Diagnostic::text() const {
    if (line == 0) return fmt::format("{}: {}", file, message);
    if (sid) return fmt::format("{}:{}: sid {}: {}", file, line, *sid, message);
    return fmt::format("{}:{}: {}", file, line, message);
}

namespace {

struct ActionName {
    std::string_view name;
    Action action;
};
constexpr ActionName kActions[] = {
    {"alert", Action::alert},      {"pass", Action::pass},           {"drop", Action::drop},
    {"reject", Action::reject},    {"rejectsrc", Action::reject},    {"rejectdst", Action::reject},
    {"rejectboth", Action::reject},
};

struct ProtocolName {
    std::string_view name;
    Protocol protocol;
    FlowMatch::Stream stream;
};
constexpr ProtocolName kProtocols[] = {
    {"ip", Protocol::ip, FlowMatch::Stream::any},
    {"tcp", Protocol::tcp, FlowMatch::Stream::any},
    {"tcp-pkt", Protocol::tcp, FlowMatch::Stream::no_stream},
    {"tcp-stream", Protocol::tcp, FlowMatch::Stream::only_stream},
    {"udp", Protocol::udp, FlowMatch::Stream::any},
    {"icmp", Protocol::icmp, FlowMatch::Stream::any},
    {"icmpv4", Protocol::icmpv4, FlowMatch::Stream::any},
    {"icmpv6", Protocol::icmpv6, FlowMatch::Stream::any},
};

// Header protocols Suricata knows that need an app-layer parser (or a layer
// we do not match on): the rule is skipped with reason "proto:NAME".
constexpr std::string_view kSkippedProtocols[] = {
    "bittorrent-dht", "dcerpc", "dhcp", "dnp3", "dns", "doh2", "enip", "ftp", "ftp-data", "http",
    "http1", "http2", "ike", "ikev2", "imap", "ip4", "ip6", "ipv4", "ipv6", "krb5", "ldap", "modbus",
    "mqtt", "nfs", "ntp", "pgsql", "pkthdr", "pop3", "quic", "rdp", "rfb", "sctp", "sip", "smb",
    "smtp", "snmp", "ssh", "ssl", "telnet", "tftp", "tls", "websocket",
};

constexpr std::string_view kIsset = "flowbits:isset";

// What became of one rule.
struct Outcome {
    enum class Kind { accepted, skipped, error } kind = Kind::error;
    Rule rule;
    std::string reason;     // skipped
    std::string message;    // error
};

// Header fields split on blanks, keeping "[a, b]" together (blanks inside
// brackets dropped).
std::vector<std::string> header_fields(std::string_view header) {
    std::vector<std::string> fields;
    std::string cur;
    int depth = 0;
    for (const char c : header) {
        const bool blank = std::isspace(static_cast<unsigned char>(c));
        if (c == '[') ++depth;
        else if (c == ']') --depth;
        if (blank) {
            if (depth > 0) continue;
            if (!cur.empty()) fields.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) fields.push_back(std::move(cur));
    return fields;
}

// "name:value; name; ..." -> options, values still raw (quotes and escapes
// kept for the keyword's handler). How far a value runs is explained below.
Result<std::vector<Option>> tokenize_options(std::string_view body) {
    std::vector<Option> out;
    size_t i = 0;
    const size_t n = body.size();
    while (true) {
        while (i < n && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
        if (i == n) return out;
        const size_t name_start = i;
        while (i < n && body[i] != ':' && body[i] != ';') ++i;
        const auto name = trim(body.substr(name_start, i - name_start));
        if (name.empty()) return make_error("expected an option name before ';'");
        const bool name_ok = std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
        });
        if (!name_ok) {
            // "depth 3;" or "nocase rawbytes;": a ':' or a ';' is missing.
            return make_error(fmt::format("'{}' is not an option name (missing ':' or ';'?)", name));
        }
        Option opt;
        opt.name = to_lower(name);
        if (i == n) return make_error(fmt::format("missing ';' after option '{}'", name));
        if (body[i] == ';') {
            ++i;
            out.push_back(std::move(opt));
            continue;
        }
        ++i;  // ':'
        const size_t value_start = i;
        // A value that starts with a quote (after an optional '!') runs to a
        // quote followed by ';': a quote followed by anything else is part of
        // the value, as in pcre:"/["']x/". Other values run to the first ';'.
        // A backslash escapes the next character in both.
        size_t lead = i;
        while (lead < n && (body[lead] == '!' || std::isspace(static_cast<unsigned char>(body[lead])))) ++lead;
        const bool quoted = lead < n && body[lead] == '"';
        if (quoted) {
            bool closed = false;
            for (i = lead + 1; i < n; ++i) {
                if (body[i] == '\\') {
                    ++i;
                    continue;
                }
                if (body[i] != '"') continue;
                size_t j = i + 1;
                while (j < n && std::isspace(static_cast<unsigned char>(body[j]))) ++j;
                if (j < n && body[j] == ';') {
                    i = j;
                    closed = true;
                    break;
                }
            }
            if (!closed)
                return make_error(fmt::format(
                    "option '{}': the quoted value does not end with '\";' (missing ';' or '\"'?)", name));
        } else {
            while (i < n && body[i] != ';') i += body[i] == '\\' ? 2 : 1;
            if (i >= n) return make_error(fmt::format("missing ';' after option '{}'", name));
        }
        opt.value = std::string(trim(body.substr(value_start, i - value_start)));
        opt.has_value = true;
        ++i;  // ';'
        out.push_back(std::move(opt));
    }
}

// The sid of a rule whose options could not (yet) be split, for messages.
std::optional<uint32_t> find_sid(std::string_view body) {
    for (size_t at = body.find("sid"); at != std::string_view::npos; at = body.find("sid", at + 1)) {
        if (at > 0 && body[at - 1] != ';' && body[at - 1] != '(' &&
            !std::isspace(static_cast<unsigned char>(body[at - 1])))
            continue;
        auto rest = trim(body.substr(at + 3));
        if (!rest.starts_with(':')) continue;
        rest = trim(rest.substr(1));
        const auto end = rest.find_first_of(";)");
        if (const auto v = parse_uint(trim(rest.substr(0, end)), 1, UINT32_MAX)) return uint32_t(*v);
    }
    return std::nullopt;
}

class RuleReader {
public:
    RuleReader(const Vars& vars, const Classifications& classes, std::vector<Diagnostic>& warnings)
        : vars_(vars), classes_(classes), warnings_(warnings) {}

    Outcome read(std::string_view text, const std::string& file, unsigned line, std::optional<uint32_t>& sid) {
        Outcome out;
        out.rule.file = file;
        out.rule.line = line;
        out.rule.text = std::string(text);
        file_ = &file;
        line_ = line;
        sid_ = std::nullopt;

        auto r = parse(text, out);
        sid = sid_;
        if (!r) {
            out.kind = Outcome::Kind::error;
            out.message = r.error().message;
        }
        return out;
    }

private:
    void warn(std::string message) { warnings_.push_back(Diagnostic{*file_, line_, sid_, std::move(message)}); }

    Result<> parse(std::string_view text, Outcome& out) {
        Rule& rule = out.rule;
        sid_ = find_sid(text);  // for messages until the options are split
        // msg, classtype, metadata... are written into eve and rules-check JSON.
        if (const size_t bad = invalid_utf8_at(text); bad != std::string_view::npos)
            return make_error(fmt::format("expected UTF-8 text, got the byte 0x{:02x} at column {}",
                                          static_cast<unsigned char>(text[bad]), bad + 1));
        const auto open = text.find('(');
        if (open == std::string_view::npos) return make_error("expected '(' before the rule options");
        const auto close = text.rfind(')');
        if (close == std::string_view::npos || close < open)
            return make_error("expected ')' at the end of the rule");
        if (const auto tail = trim(text.substr(close + 1)); !tail.empty())
            return make_error(fmt::format("unexpected text after the closing ')': '{}'", tail));

        const auto body = text.substr(open + 1, close - open - 1);
        auto options = tokenize_options(body);
        // Read the sid first so that every later message can name it.
        if (options) {
            sid_ = std::nullopt;
            for (const auto& o : *options)
                if (o.name == "sid")
                    if (const auto v = parse_uint(o.value, 1, UINT32_MAX)) sid_ = uint32_t(*v);
        }

        RuleContext ctx{rule, std::nullopt, {}, false, 0, false};
        if (auto r = parse_header(text.substr(0, open), ctx); !r) return r;
        if (!options) return options.error();

        for (const auto& o : *options) {
            if (auto r = apply(ctx, o); !r) return r;
        }
        if (!sid_) return make_error("missing sid");

        if (ctx.skip) {
            out.kind = Outcome::Kind::skipped;
            out.reason = *ctx.skip;
            return {};
        }
        for (const auto& m : rule.payload) {
            const auto* c = std::get_if<Content>(&m);
            if (c && c->fast_pattern_only && c->negated)
                return make_error("fast_pattern: 'only' cannot be used on a negated content");
        }
        if (!rule.classtype.empty()) {
            const Classification* cls = classes_.find(rule.classtype);
            if (cls && !ctx.priority_explicit) rule.priority = cls->priority;
            if (!cls && !classes_.empty())
                warn(fmt::format("classtype: unknown classtype '{}', priority {}", rule.classtype,
                                 ctx.priority_explicit ? rule.priority : kDefaultPriority));
        }
        out.kind = Outcome::Kind::accepted;
        return {};
    }

    Result<> parse_header(std::string_view header, RuleContext& ctx) {
        Rule& rule = ctx.rule;
        const auto f = header_fields(header);
        if (f.size() != 7)
            return make_error(fmt::format(
                "expected 'ACTION PROTOCOL SOURCE SPORT -> DESTINATION DPORT (OPTIONS)', got {} header "
                "field{} before '('",
                f.size(), f.size() == 1 ? "" : "s"));
        const auto action = to_lower(f[0]);
        const auto a = std::find_if(std::begin(kActions), std::end(kActions),
                                    [&](const ActionName& x) { return x.name == action; });
        if (a == std::end(kActions)) {
            if (action == "config") ctx.skip = "action:config";
            else
                return make_error(fmt::format(
                    "unknown action '{}' (expected alert, pass, drop, reject, rejectsrc, rejectdst or rejectboth)",
                    f[0]));
        } else {
            rule.action = a->action;
        }

        const auto proto = to_lower(f[1]);
        const auto p = std::find_if(std::begin(kProtocols), std::end(kProtocols),
                                    [&](const ProtocolName& x) { return x.name == proto; });
        if (p != std::end(kProtocols)) {
            rule.protocol = p->protocol;
            if (p->stream != FlowMatch::Stream::any) rule.flow = FlowMatch{.stream = p->stream};
        } else if (std::find(std::begin(kSkippedProtocols), std::end(kSkippedProtocols), proto) !=
                   std::end(kSkippedProtocols)) {
            if (!ctx.skip) ctx.skip = "proto:" + proto;
        } else {
            return make_error(fmt::format("unknown protocol '{}' (expected ip, tcp, udp, icmp, icmpv6 or an "
                                          "application protocol)", f[1]));
        }

        // A set that matches nothing is an error when written so ("![any]"),
        // but only a rule that cannot match when variables made it empty
        // ("!$HOME_NET" while HOME_NET is "any"): that one is skipped.
        const auto empty = [&](const std::string& text, const char* what, const char* kind) -> Result<> {
            if (text.find('$') == std::string::npos)
                return make_error(fmt::format("{}: '{}' matches no {}", what, text, kind));
            if (!ctx.skip) ctx.skip = fmt::format("{}:empty", kind);
            return {};
        };
        std::vector<std::string> notes;
        const auto address = [&](const std::string& text, const char* what, AddressSet& to) -> Result<> {
            auto s = parse_address_set(text, vars_, &notes);
            for (auto& n : notes) warn(fmt::format("{}: {}", what, n));
            notes.clear();
            if (!s) return make_error(fmt::format("{}: {}", what, s.error().message));
            if (!*s) return empty(text, what, "address");
            to = std::move(**s);
            return {};
        };
        const auto ports = [&](const std::string& text, const char* what, PortSet& to) -> Result<> {
            auto s = parse_port_set(text, vars_);
            if (!s) return make_error(fmt::format("{}: {}", what, s.error().message));
            if (!*s) return empty(text, what, "port");
            to = std::move(**s);
            return {};
        };
        if (auto r = address(f[2], "source address", rule.src_addr); !r) return r;
        if (auto r = ports(f[3], "source port", rule.src_ports); !r) return r;
        if (f[4] == "<>") {
            rule.bidirectional = true;
        } else if (f[4] == "=>") {
            if (!ctx.skip) ctx.skip = "direction:=>";
        } else if (f[4] != "->") {
            return make_error(fmt::format("expected '->' or '<>' between source and destination, got '{}'", f[4]));
        }
        if (auto r = address(f[5], "destination address", rule.dst_addr); !r) return r;
        if (auto r = ports(f[6], "destination port", rule.dst_ports); !r) return r;
        return {};
    }

    Result<> apply(RuleContext& ctx, const Option& o) {
        const Keyword* kw = find_keyword(o.name);
        if (!kw) {
            if (is_unsupported_keyword(o.name)) {
                if (!ctx.skip) ctx.skip = o.name;
                return {};
            }
            const auto near = closest_keyword(o.name);
            return make_error(near.empty() ? fmt::format("unknown keyword '{}'", o.name)
                                           : fmt::format("unknown keyword '{}' (did you mean '{}'?)", o.name, near));
        }
        if (ctx.skip && !kw->meta) return {};
        if (kw->value == ValueUse::none && o.has_value)
            return make_error(fmt::format("{}: takes no value, got '{}'", o.name, o.value));
        if (kw->value == ValueUse::required && (!o.has_value || o.value.empty()))
            return make_error(fmt::format("{}: needs a value", o.name));
        if (kw->once && !ctx.seen.insert(kw->parse).second)
            return make_error(fmt::format("{}: given twice", o.name));
        return kw->parse(ctx, o);
    }

    const Vars& vars_;
    const Classifications& classes_;
    std::vector<Diagnostic>& warnings_;
    const std::string* file_ = nullptr;
    unsigned line_ = 0;
    std::optional<uint32_t> sid_;
};

class SetParser {
public:
    SetParser(const Vars& vars, const Classifications& classes) : reader_(vars, classes, out_.warnings) {}

    void add_file(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            out_.files.push_back(path);
            out_.errors.push_back(Diagnostic{path, 0, std::nullopt, "cannot open the rule file"});
            return;
        }
        std::ostringstream text;
        text << in.rdbuf();
        add_text(text.str(), path);
    }

    void add_text(std::string_view text, const std::string& name) {
        out_.files.push_back(name);
        for_each_logical_line(text, "", [&](std::string_view line, unsigned start) {
            add_rule(trim(line), name, start);
        });
    }

    RuleSetParse finish() {
        drop_unsatisfiable_flowbits();
        return std::move(out_);
    }

private:
    void add_rule(std::string_view text, const std::string& file, unsigned line) {
        std::optional<uint32_t> sid;
        Outcome o = reader_.read(text, file, line, sid);
        if (o.kind == Outcome::Kind::error) {
            out_.errors.push_back(Diagnostic{file, line, sid, std::move(o.message)});
            return;
        }
        const auto key = std::make_pair(o.rule.gid, o.rule.sid);
        const auto [it, fresh] = first_seen_.emplace(key, fmt::format("{}:{}", file, line));
        if (!fresh) {
            out_.errors.push_back(Diagnostic{file, line, sid,
                                             fmt::format("duplicate sid, first defined at {}", it->second)});
            return;
        }
        if (o.kind == Outcome::Kind::accepted) {
            out_.rules.push_back(std::move(o.rule));
        } else {
            out_.skipped.push_back(skipped_of(o.rule, std::move(o.reason)));
        }
    }

    static SkippedRule skipped_of(const Rule& r, std::string reason) {
        SkippedRule s{r.gid, r.sid, r.msg, r.file, r.line, std::move(reason), {}};
        for (const auto& fb : r.flowbits)
            if (fb.op == Flowbit::Op::set || fb.op == Flowbit::Op::toggle)
                s.flowbits_set.insert(s.flowbits_set.end(), fb.names.begin(), fb.names.end());
        return s;
    }

    // A rule whose flowbits:isset needs a bit that no accepted rule sets can
    // never fire: skip it, then look again (its own sets are gone now).
    void drop_unsatisfiable_flowbits() {
        std::set<std::string, std::less<>> by_skipped;
        for (const auto& s : out_.skipped) by_skipped.insert(s.flowbits_set.begin(), s.flowbits_set.end());
        for (bool changed = true; changed;) {
            changed = false;
            std::set<std::string, std::less<>> settable;
            for (const auto& r : out_.rules)
                for (const auto& fb : r.flowbits)
                    if (fb.op == Flowbit::Op::set || fb.op == Flowbit::Op::toggle)
                        settable.insert(fb.names.begin(), fb.names.end());
            std::vector<Rule> kept;
            for (auto& r : out_.rules) {
                std::string reason;
                for (const auto& fb : r.flowbits) {
                    if (fb.op != Flowbit::Op::isset) continue;
                    const auto has = [&](const std::string& n) { return settable.count(n) > 0; };
                    const bool ok = fb.all ? std::all_of(fb.names.begin(), fb.names.end(), has)
                                           : std::any_of(fb.names.begin(), fb.names.end(), has);
                    if (ok) continue;
                    const bool by_skipped_rule = std::any_of(fb.names.begin(), fb.names.end(), [&](const auto& n) {
                        return !has(n) && by_skipped.count(n) > 0;
                    });
                    reason = fmt::format("{} ({})", kIsset,
                                         by_skipped_rule ? "bit set only by skipped rules" : "bit never set");
                    break;
                }
                if (reason.empty()) {
                    kept.push_back(std::move(r));
                    continue;
                }
                auto s = skipped_of(r, std::move(reason));
                by_skipped.insert(s.flowbits_set.begin(), s.flowbits_set.end());
                out_.skipped.push_back(std::move(s));
                changed = true;
            }
            out_.rules = std::move(kept);
        }
        // Back into file order: moved rules were appended.
        std::map<std::string_view, size_t> file_index;
        for (size_t i = 0; i < out_.files.size(); ++i) file_index.emplace(out_.files[i], i);
        std::stable_sort(out_.skipped.begin(), out_.skipped.end(), [&](const SkippedRule& a, const SkippedRule& b) {
            return std::make_pair(file_index[a.file], a.line) < std::make_pair(file_index[b.file], b.line);
        });
    }

    RuleSetParse out_;
    RuleReader reader_;
    std::map<std::pair<uint32_t, uint32_t>, std::string> first_seen_;  // (gid, sid) -> "file:line"
};

} // namespace

RuleSetParse parse_rules_file(const std::string& path, const Vars& vars, const Classifications& classes) {
    return parse_rules_files({path}, vars, classes);
}

RuleSetParse parse_rules_files(const std::vector<std::string>& paths, const Vars& vars,
                               const Classifications& classes) {
    SetParser p(vars, classes);
    for (const auto& path : paths) p.add_file(path);
    return p.finish();
}

RuleSetParse parse_rules_text(std::string_view text, const std::string& name, const Vars& vars,
                              const Classifications& classes) {
    SetParser p(vars, classes);
    p.add_text(text, name);
    return p.finish();
}

} // namespace sg::rules
