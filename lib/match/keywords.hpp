#pragma once
// The rule-option keyword tables and the state one rule's options are parsed
// into. Internal to lib/match: rule_parser.cpp drives it.
//
// Three tables, all explicit (keywords.cpp):
//   - supported keywords: name -> parse function, value use, help;
//   - known Suricata keywords we do not support, by exact name and by family
//     prefix ("http.", "tls."): a rule using one is skipped, with the keyword
//     as the reason;
//   - anything else is an unknown keyword: an error.
// Handlers return an Error whose message starts with the keyword
// ("depth: 3 is less than the content length 5"); the rule parser adds file,
// line and sid. A handler that finds something unsupported inside a
// supported keyword (pcre's /U) sets RuleContext::skip instead.

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "match/classification.hpp"
#include "match/rule.hpp"

namespace sg::rules {

struct Option {
    std::string name;   // lower case
    std::string value;  // trimmed; quotes and escapes kept for the handler
    bool has_value = false;
};

struct RuleContext;
using KeywordFn = Result<> (*)(RuleContext&, const Option&);

struct RuleContext {
    Rule& rule;
    std::optional<std::string> skip;  // reason, once the rule is known to be skipped
    std::set<KeywordFn> seen;         // keywords that may appear once, by parse function (aliases share one)
    bool priority_explicit = false;
    uint32_t content_modifiers = 0;   // modifiers already applied to the last content
    bool fast_pattern_used = false;

    // The last payload match when it is a content, else nullptr.
    Content* last_content();
};

enum class ValueUse : uint8_t { none, required, optional };

struct Keyword {
    std::string_view name;
    KeywordFn parse;
    ValueUse value;
    bool once;       // a second use is an error
    bool meta;       // still parsed once the rule is known to be skipped
    std::string_view help;
};

std::span<const Keyword> supported_keywords();
const Keyword* find_keyword(std::string_view name);
// True for a known Suricata keyword that this parser does not support.
bool is_unsupported_keyword(std::string_view name);
// The known keyword closest to a misspelt one, or "" when none is close.
std::string closest_keyword(std::string_view name);

// Handlers, one file per family.
// keywords_meta.cpp
Result<> kw_msg(RuleContext&, const Option&);
Result<> kw_sid(RuleContext&, const Option&);
Result<> kw_rev(RuleContext&, const Option&);
Result<> kw_gid(RuleContext&, const Option&);
Result<> kw_classtype(RuleContext&, const Option&);
Result<> kw_priority(RuleContext&, const Option&);
Result<> kw_reference(RuleContext&, const Option&);
Result<> kw_metadata(RuleContext&, const Option&);
Result<> kw_target(RuleContext&, const Option&);
Result<> kw_noalert(RuleContext&, const Option&);
Result<> kw_noop(RuleContext&, const Option&);
// keywords_payload.cpp
Result<> kw_content(RuleContext&, const Option&);
Result<> kw_nocase(RuleContext&, const Option&);
Result<> kw_rawbytes(RuleContext&, const Option&);
Result<> kw_depth(RuleContext&, const Option&);
Result<> kw_offset(RuleContext&, const Option&);
Result<> kw_distance(RuleContext&, const Option&);
Result<> kw_within(RuleContext&, const Option&);
Result<> kw_startswith(RuleContext&, const Option&);
Result<> kw_endswith(RuleContext&, const Option&);
Result<> kw_fast_pattern(RuleContext&, const Option&);
Result<> kw_pcre(RuleContext&, const Option&);
// keywords_packet.cpp
Result<> kw_flow(RuleContext&, const Option&);
Result<> kw_flags(RuleContext&, const Option&);
Result<> kw_fragbits(RuleContext&, const Option&);
Result<> kw_dsize(RuleContext&, const Option&);
Result<> kw_ttl(RuleContext&, const Option&);
Result<> kw_tos(RuleContext&, const Option&);
Result<> kw_id(RuleContext&, const Option&);
Result<> kw_window(RuleContext&, const Option&);
Result<> kw_seq(RuleContext&, const Option&);
Result<> kw_ack(RuleContext&, const Option&);
Result<> kw_icmp_id(RuleContext&, const Option&);
Result<> kw_icmp_seq(RuleContext&, const Option&);
Result<> kw_itype(RuleContext&, const Option&);
Result<> kw_icode(RuleContext&, const Option&);
Result<> kw_ip_proto(RuleContext&, const Option&);
Result<> kw_fragoffset(RuleContext&, const Option&);
Result<> kw_ipopts(RuleContext&, const Option&);
Result<> kw_sameip(RuleContext&, const Option&);
Result<> kw_flowbits(RuleContext&, const Option&);
Result<> kw_threshold(RuleContext&, const Option&);
Result<> kw_detection_filter(RuleContext&, const Option&);

// Shared by handlers: "msg:"a \"b\""" -> a "b". Error when not quoted.
Result<std::string> unquote(std::string_view keyword, std::string_view value);

} // namespace sg::rules
