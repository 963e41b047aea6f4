// Meta keywords: what the alert says and how it is classified. None of
// these affect matching except noalert.

#include "match/keywords.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "match/text_util.hpp"

namespace sg::rules {

Result<std::string> unquote(std::string_view keyword, std::string_view value) {
    if (value.size() < 2 || value.front() != '"' || value.back() != '"')
        return make_error(fmt::format("{}: expected a quoted string, got '{}'", keyword, value));
    std::string out;
    const auto inner = value.substr(1, value.size() - 2);
    for (size_t i = 0; i < inner.size(); ++i) {
        if (inner[i] == '\\' && i + 1 < inner.size()) ++i;
        out += inner[i];
    }
    return out;
}

Result<> kw_msg(RuleContext& ctx, const Option& o) {
    // Suricata wants quotes; a bare message is taken as written.
    if (o.value.front() != '"') {
        ctx.rule.msg = o.value;
        return {};
    }
    auto text = unquote("msg", o.value);
    if (!text) return text.error();
    ctx.rule.msg = std::move(*text);
    return {};
}

Result<> kw_sid(RuleContext& ctx, const Option& o) {
    const auto v = parse_uint(o.value, 1, UINT32_MAX);
    if (!v) return make_error(fmt::format("sid: expected a positive integer, got '{}'", o.value));
    ctx.rule.sid = uint32_t(*v);
    return {};
}

Result<> kw_rev(RuleContext& ctx, const Option& o) {
    const auto v = parse_uint(o.value, 0, UINT32_MAX);
    if (!v) return make_error(fmt::format("rev: expected an integer, got '{}'", o.value));
    ctx.rule.rev = uint32_t(*v);
    return {};
}

Result<> kw_gid(RuleContext& ctx, const Option& o) {
    const auto v = parse_uint(o.value, 0, UINT32_MAX);
    if (!v) return make_error(fmt::format("gid: expected an integer, got '{}'", o.value));
    ctx.rule.gid = uint32_t(*v);
    return {};
}

Result<> kw_classtype(RuleContext& ctx, const Option& o) {
    const bool ok = std::all_of(o.value.begin(), o.value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    if (!ok) return make_error(fmt::format("classtype: expected a classification name, got '{}'", o.value));
    ctx.rule.classtype = o.value;
    return {};
}

Result<> kw_priority(RuleContext& ctx, const Option& o) {
    const auto v = parse_uint(o.value, 1, 255);
    if (!v) return make_error(fmt::format("priority: expected an integer 1-255, got '{}'", o.value));
    ctx.rule.priority = uint32_t(*v);
    ctx.priority_explicit = true;
    return {};
}

Result<> kw_reference(RuleContext& ctx, const Option& o) {
    const auto comma = o.value.find(',');
    const auto type = trim(std::string_view(o.value).substr(0, comma));
    const auto value = comma == std::string::npos ? std::string_view{}
                                                   : trim(std::string_view(o.value).substr(comma + 1));
    if (type.empty() || value.empty())
        return make_error(fmt::format("reference: expected TYPE,VALUE, got '{}'", o.value));
    ctx.rule.references.push_back(Reference{std::string(type), std::string(value)});
    return {};
}

Result<> kw_metadata(RuleContext& ctx, const Option& o) {
    for (const auto item : split(o.value, ',')) {
        const auto t = trim(item);
        if (!t.empty()) ctx.rule.metadata.emplace_back(t);
    }
    return {};
}

Result<> kw_target(RuleContext& ctx, const Option& o) {
    if (o.value == "src_ip") ctx.rule.target = Target::src_ip;
    else if (o.value == "dest_ip") ctx.rule.target = Target::dest_ip;
    else return make_error(fmt::format("target: expected src_ip or dest_ip, got '{}'", o.value));
    return {};
}

Result<> kw_noalert(RuleContext& ctx, const Option&) {
    ctx.rule.noalert = true;
    return {};
}

Result<> kw_noop(RuleContext&, const Option&) { return {}; }

} // namespace sg::rules
