#include "match/rules_check.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/text.hpp"

namespace sg::rules {

namespace {

const char* number_op(NumberMatch::Op op) {
    switch (op) {
    case NumberMatch::Op::eq: return "=";
    case NumberMatch::Op::ne: return "!";
    case NumberMatch::Op::lt: return "<";
    case NumberMatch::Op::le: return "<=";
    case NumberMatch::Op::gt: return ">";
    case NumberMatch::Op::ge: return ">=";
    case NumberMatch::Op::between: return "<>";
    case NumberMatch::Op::not_between: return "!<>";
    }
    return "?";
}

nlohmann::json number_json(const NumberMatch& m) {
    nlohmann::json j = {{"op", number_op(m.op)}, {"value", m.a}};
    if (m.op == NumberMatch::Op::between || m.op == NumberMatch::Op::not_between) j["max"] = m.b;
    return j;
}

nlohmann::json bits_json(const BitsMatch& m) {
    static constexpr const char* kModifiers[] = {"exact", "plus", "any", "not_all"};
    nlohmann::json j = {{"bits", m.bits}, {"modifier", kModifiers[size_t(m.modifier)]}};
    if (m.ignore) j["ignore"] = m.ignore;
    return j;
}

nlohmann::json address_json(const AddressSet& a) {
    nlohmann::json j = {{"text", a.text}};
    nlohmann::json inc = nlohmann::json::array(), exc = nlohmann::json::array();
    for (const auto& p : a.include) inc.push_back(p.to_string());
    for (const auto& p : a.exclude) exc.push_back(p.to_string());
    j["include"] = inc;
    j["exclude"] = exc;
    return j;
}

nlohmann::json ports_json(const PortSet& p) {
    nlohmann::json ranges = nlohmann::json::array();
    for (const auto& r : p.ranges) ranges.push_back(r.lo == r.hi ? fmt::format("{}", r.lo) : fmt::format("{}:{}", r.lo, r.hi));
    return {{"text", p.text}, {"ranges", ranges}};
}

// Printable bytes as text, others as |xx|, like a content is written.
std::string bytes_text(const std::string& bytes) {
    std::string out;
    bool hex = false;
    for (const unsigned char c : bytes) {
        const bool plain = c >= 0x20 && c < 0x7f && c != '|' && c != '"' && c != '\\' && c != ';';
        if (plain == hex) {
            out += '|';
            hex = !hex;
        } else if (hex) {
            out += ' ';
        }
        if (plain) out += char(c);
        else out += fmt::format("{:02X}", c);
    }
    if (hex) out += '|';
    return out;
}

nlohmann::json content_json(const Content& c) {
    nlohmann::json j = {{"type", "content"}, {"bytes", bytes_text(c.bytes)}};
    if (c.negated) j["negated"] = true;
    if (c.nocase) j["nocase"] = true;
    if (c.offset) j["offset"] = *c.offset;
    if (c.depth) j["depth"] = *c.depth;
    if (c.distance) j["distance"] = *c.distance;
    if (c.within) j["within"] = *c.within;
    if (c.startswith) j["startswith"] = true;
    if (c.endswith) j["endswith"] = true;
    if (c.fast_pattern) j["fast_pattern"] = c.fast_pattern_only ? "only" : "yes";
    if (c.fast_pattern_chop) j["fast_pattern_chop"] = {c.fast_pattern_chop->offset, c.fast_pattern_chop->length};
    return j;
}

nlohmann::json pcre_json(const Pcre& p) {
    nlohmann::json j = {{"type", "pcre"}, {"pattern", p.pattern}, {"flags", p.flags}};
    if (p.negated) j["negated"] = true;
    if (p.relative) j["relative"] = true;
    return j;
}

} // namespace

nlohmann::json rule_json(const Rule& r) {
    nlohmann::json j;
    j["location"] = utf8_lossy(fmt::format("{}:{}", r.file, r.line));
    j["action"] = action_name(r.action);
    j["protocol"] = protocol_name(r.protocol);
    j["src"] = {{"addr", address_json(r.src_addr)}, {"ports", ports_json(r.src_ports)}};
    j["dst"] = {{"addr", address_json(r.dst_addr)}, {"ports", ports_json(r.dst_ports)}};
    if (r.bidirectional) j["bidirectional"] = true;
    j["msg"] = r.msg;
    j["gid"] = r.gid;
    j["sid"] = r.sid;
    j["rev"] = r.rev;
    if (!r.classtype.empty()) j["classtype"] = r.classtype;
    j["priority"] = r.priority;
    for (const auto& ref : r.references) j["references"].push_back({ref.type, ref.value});
    if (!r.metadata.empty()) j["metadata"] = r.metadata;
    if (r.target != Target::none) j["target"] = r.target == Target::src_ip ? "src_ip" : "dest_ip";
    if (r.noalert) j["noalert"] = true;
    for (const auto& m : r.payload)
        j["payload"].push_back(std::holds_alternative<Content>(m) ? content_json(std::get<Content>(m))
                                                                   : pcre_json(std::get<Pcre>(m)));
    if (r.flow) {
        static constexpr const char* kDir[] = {"any", "to_server", "to_client"};
        static constexpr const char* kState[] = {"any", "established", "not_established", "stateless"};
        static constexpr const char* kStream[] = {"any", "only_stream", "no_stream"};
        static constexpr const char* kFrag[] = {"any", "only_frag", "no_frag"};
        j["flow"] = {{"direction", kDir[size_t(r.flow->direction)]}, {"state", kState[size_t(r.flow->state)]},
                     {"stream", kStream[size_t(r.flow->stream)]}, {"frag", kFrag[size_t(r.flow->frag)]}};
    }
    if (r.flags) j["flags"] = bits_json(*r.flags);
    if (r.fragbits) j["fragbits"] = bits_json(*r.fragbits);
    const std::pair<const char*, const std::optional<NumberMatch>*> numbers[] = {
        {"dsize", &r.dsize}, {"ttl", &r.ttl}, {"tos", &r.tos}, {"id", &r.ip_id}, {"window", &r.window},
        {"seq", &r.seq}, {"ack", &r.ack}, {"icmp_id", &r.icmp_id}, {"icmp_seq", &r.icmp_seq},
        {"itype", &r.itype}, {"icode", &r.icode}, {"ip_proto", &r.ip_proto}, {"fragoffset", &r.fragoffset},
    };
    for (const auto& [name, field] : numbers)
        if (*field) j[name] = number_json(**field);
    for (const auto o : r.ipopts) j["ipopts"].push_back(ip_option_name(o));
    if (r.sameip) j["sameip"] = true;
    for (const auto& fb : r.flowbits)
        j["flowbits"].push_back({{"op", flowbit_op_name(fb.op)}, {"names", fb.names}, {"all", fb.all}});
    if (r.threshold) {
        static constexpr const char* kTypes[] = {"limit", "threshold", "both"};
        j["threshold"] = {{"type", kTypes[size_t(r.threshold->type)]}, {"track", track_name(r.threshold->track)},
                          {"count", r.threshold->count}, {"seconds", r.threshold->seconds}};
    }
    if (r.detection_filter) {
        static constexpr const char* kUnique[] = {"none", "src_port", "dst_port"};
        j["detection_filter"] = {{"track", track_name(r.detection_filter->track)},
                                 {"count", r.detection_filter->count},
                                 {"seconds", r.detection_filter->seconds},
                                 {"unique_on", kUnique[size_t(r.detection_filter->unique_on)]}};
    }
    return j;
}

std::vector<SkipReasonCount> skip_reasons(const RuleSetParse& parse) {
    std::map<std::string, SkipReasonCount> by;
    for (const auto& s : parse.skipped) {  // in file order: the first seen is the first
        auto& e = by[s.reason];
        if (e.count++ == 0) {
            e.reason = s.reason;
            e.first = fmt::format("{}:{}", s.file, s.line);
        }
    }
    std::vector<SkipReasonCount> out;
    for (auto& [_, e] : by) out.push_back(std::move(e));
    std::stable_sort(out.begin(), out.end(),
                     [](const SkipReasonCount& a, const SkipReasonCount& b) { return a.count > b.count; });
    return out;
}

nlohmann::json rules_check_json(const RuleSetParse& parse, const std::optional<DatabaseSummary>& database) {
    nlohmann::json j;
    // Messages quote slices of the rules, which may cut a UTF-8 character,
    // and file names are bytes: JSON needs UTF-8.
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : parse.files) files.push_back(utf8_lossy(f));
    j["files"] = files;
    j["accepted"] = parse.rules.size();
    nlohmann::json reasons = nlohmann::json::array();
    for (const auto& r : skip_reasons(parse))
        reasons.push_back({{"reason", utf8_lossy(r.reason)}, {"count", r.count}, {"first", utf8_lossy(r.first)}});
    j["skipped"] = {{"total", parse.skipped.size()}, {"by_reason", reasons}};
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : parse.errors) errors.push_back(utf8_lossy(e.text()));
    j["errors"] = errors;
    nlohmann::json warnings = nlohmann::json::array();
    for (const auto& w : parse.warnings) warnings.push_back(utf8_lossy(w.text()));
    j["warnings"] = warnings;
    if (database)
        j["database"] = {{"compile_seconds", database->compile_seconds},
                         {"bytes", database->bytes},
                         {"patterns", database->patterns}};
    return j;
}

std::string rules_check_text(const RuleSetParse& parse, const std::optional<DatabaseSummary>& database,
                             size_t max_reasons) {
    std::string out = fmt::format("rules: {} accepted, {} skipped, {} errors, {} warnings ({} file{})\n",
                                  parse.rules.size(), parse.skipped.size(), parse.errors.size(),
                                  parse.warnings.size(), parse.files.size(), parse.files.size() == 1 ? "" : "s");
    const auto reasons = skip_reasons(parse);
    if (!reasons.empty()) {
        out += "skipped by reason:\n";
        size_t width = 0;
        for (const auto& r : reasons) width = std::max(width, r.reason.size());
        const size_t shown = max_reasons ? std::min(max_reasons, reasons.size()) : reasons.size();
        for (size_t i = 0; i < shown; ++i)
            out += fmt::format("  {:>6}  {:<{}}  first at {}\n", reasons[i].count, reasons[i].reason, width,
                               reasons[i].first);
        if (shown < reasons.size()) out += fmt::format("  ... and {} more reasons\n", reasons.size() - shown);
    }
    if (!parse.errors.empty()) {
        out += "errors:\n";
        for (const auto& e : parse.errors) out += fmt::format("  {}\n", e.text());
    }
    if (!parse.warnings.empty()) {
        out += "warnings:\n";
        for (const auto& w : parse.warnings) out += fmt::format("  {}\n", w.text());
    }
    if (database)
        out += fmt::format("database: {} patterns, {} bytes, compiled in {:.2f} s\n", database->patterns,
                           database->bytes, database->compile_seconds);
    return out;
}

} // namespace sg::rules
