#pragma once
// Helpers for the rule parser tests: parse one rule text and get the one
// outcome expected of it. Diagnostics name the file "t.rules".

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <variant>

#include "match/rule_parser.hpp"

namespace sg::rules::test {

inline RuleSetParse parse(std::string_view text, const Vars& vars = Vars{},
                          const Classifications& classes = Classifications{}) {
    return parse_rules_text(text, "t.rules", vars, classes);
}

inline std::string describe(const RuleSetParse& p) {
    std::string s;
    for (const auto& e : p.errors) s += "error: " + e.text() + "\n";
    for (const auto& k : p.skipped) s += "skipped: " + k.reason + "\n";
    return s;
}

// The accepted rule of a one-rule text.
inline Rule accepted(std::string_view text, const Vars& vars = Vars{},
                     const Classifications& classes = Classifications{}) {
    auto p = parse(text, vars, classes);
    INFO(text);
    INFO(describe(p));
    REQUIRE(p.errors.empty());
    REQUIRE(p.skipped.empty());
    REQUIRE(p.rules.size() == 1);
    return std::move(p.rules[0]);
}

// "alert tcp any any -> any any (OPTIONS sid:1;)" accepted.
inline Rule with_options(std::string_view options) {
    return accepted("alert tcp any any -> any any (" + std::string(options) + " sid:1;)");
}

// The one error of a one-rule text, as "FILE:LINE: sid N: MESSAGE".
inline std::string error_of(std::string_view text, const Vars& vars = Vars{}) {
    const auto p = parse(text, vars);
    INFO(text);
    INFO(describe(p));
    REQUIRE(p.errors.size() == 1);
    REQUIRE(p.rules.empty());
    REQUIRE(p.skipped.empty());
    return p.errors[0].text();
}

inline std::string options_error(std::string_view options) {
    return error_of("alert tcp any any -> any any (" + std::string(options) + " sid:1;)");
}

// The skip reason of a one-rule text.
inline std::string skip_of(std::string_view text) {
    const auto p = parse(text);
    INFO(text);
    INFO(describe(p));
    REQUIRE(p.errors.empty());
    REQUIRE(p.rules.empty());
    REQUIRE(p.skipped.size() == 1);
    return p.skipped[0].reason;
}

inline const Content& content_at(const Rule& r, size_t i) {
    REQUIRE(i < r.payload.size());
    REQUIRE(std::holds_alternative<Content>(r.payload[i]));
    return std::get<Content>(r.payload[i]);
}

inline const Pcre& pcre_at(const Rule& r, size_t i) {
    REQUIRE(i < r.payload.size());
    REQUIRE(std::holds_alternative<Pcre>(r.payload[i]));
    return std::get<Pcre>(r.payload[i]);
}

} // namespace sg::rules::test
