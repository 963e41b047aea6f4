#pragma once
// rules-check: what a rule set parse came to, for operators and CI.
// Text for a terminal, JSON for tools; both list accepted, skipped by
// reason (count and first FILE:LINE) and every error.
//
// Hook for the matcher step: once the accepted rules are compiled into a
// Hyperscan database, pass its figures as `database` and both formats gain
// a "database" section. Until then pass nothing.
//
// Thread: control side only.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "match/rule_parser.hpp"

namespace sg::rules {

// Filled by the matcher (compile of the accepted rules).
struct DatabaseSummary {
    double compile_seconds = 0;
    uint64_t bytes = 0;       // hs_database_size
    uint32_t patterns = 0;    // expressions handed to Hyperscan
};

struct SkipReasonCount {
    std::string reason;
    size_t count = 0;
    std::string first;  // "FILE:LINE" of the first rule skipped for it
};

// Reasons by count (highest first; ties by reason name).
std::vector<SkipReasonCount> skip_reasons(const RuleSetParse& parse);

// One accepted rule's AST as JSON (for "rules-check --dump" and debugging):
// every field that differs from its default, with enums by name.
nlohmann::json rule_json(const Rule& rule);

nlohmann::json rules_check_json(const RuleSetParse& parse,
                                const std::optional<DatabaseSummary>& database = std::nullopt);
// `max_reasons` bounds the skip table (0: all).
std::string rules_check_text(const RuleSetParse& parse,
                             const std::optional<DatabaseSummary>& database = std::nullopt,
                             size_t max_reasons = 0);

} // namespace sg::rules
