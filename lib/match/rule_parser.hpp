#pragma once
// The Suricata rule-language parser: rule files -> Rule ASTs (rule.hpp).
//
// Every enabled rule ends in exactly one of three lists:
//   rules    accepted: only packet/stream payload and header keywords;
//   skipped  valid Suricata, but needs something we do not have (an
//            app-layer buffer, byte_test, an app-layer protocol header, ...);
//            the reason is the first such keyword ("http.uri", "pcre:/U",
//            "proto:dns"), never an error;
//   errors   not a valid rule: "FILE:LINE: sid N: what was expected".
// Comments, blank lines and commented-out (disabled) rules are not counted.
// A line ending in '\' continues on the next; the rule's line is its first.
//
// After all files are read, a rule whose flowbits:isset can never be true
// (no accepted rule sets or toggles any of the bits it needs) moves to
// skipped: it could never fire. That is why a rule set spread over several
// files must be parsed in one call (parse_rules_files).
//
// The whole parse changes nothing outside the returned value: a caller that
// rejects the result keeps running with what it had.
//
// Thread: control side only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "match/classification.hpp"
#include "match/rule.hpp"
#include "match/vars.hpp"

namespace sg::rules {

struct Diagnostic {
    std::string file;
    unsigned line = 0;            // 0: about the whole file ("cannot open")
    std::optional<uint32_t> sid;  // when the rule's sid could be read
    std::string message;

    // "FILE:LINE: sid N: MESSAGE" (without "sid N: " when the sid is unknown,
    // "FILE: MESSAGE" when line is 0).
    std::string text() const;
};

struct SkippedRule {
    uint32_t gid = 1;
    uint32_t sid = 0;
    std::string msg;
    std::string file;
    unsigned line = 0;
    std::string reason;                      // "http.uri", "pcre:/U", "proto:dns", ...
    std::vector<std::string> flowbits_set;   // bits it would have set or toggled
};

struct RuleSetParse {
    std::vector<Rule> rules;
    std::vector<SkippedRule> skipped;
    std::vector<Diagnostic> errors;
    std::vector<Diagnostic> warnings;  // unknown classtype, host bits in an address
    std::vector<std::string> files;    // in the order read

    bool ok() const { return errors.empty(); }
};

RuleSetParse parse_rules_file(const std::string& path, const Vars& vars, const Classifications& classes);
// One rule set spread over several files (flowbits may cross files; sids
// must be unique across all of them).
RuleSetParse parse_rules_files(const std::vector<std::string>& paths, const Vars& vars,
                               const Classifications& classes);
// `name` stands for the file name in diagnostics.
RuleSetParse parse_rules_text(std::string_view text, const std::string& name, const Vars& vars,
                              const Classifications& classes);

} // namespace sg::rules
