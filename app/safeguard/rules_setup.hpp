#pragma once
// Loading signature rules for a run: files from the config and the command
// line, variables (HOME_NET from the protected deployments), the
// classification table, then the compiled MatchDatabase; and the
// threshold.config (rules.threshold_file / --threshold-file) the reporter
// applies to the alerts.

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "match/database.hpp"
#include "match/rule_parser.hpp"
#include "match/threshold_config.hpp"

namespace sg::app {

struct LoadedRules {
    std::shared_ptr<const MatchDatabase> db;   // null when no rule file was given
    rules::RuleSetParse parse;                 // accepted (moved into db), skipped, warnings
    std::shared_ptr<const rules::ThresholdConfig> thresholds;  // null when no threshold file was given
};

// Errors in any file reject the whole set: the message lists them (file:line).
// So do errors in the threshold file; its entries that name no accepted
// rule are warnings (logged), as in Suricata.
Result<LoadedRules> load_rules(const Config& cfg, uint64_t generation);

// The variables a rule set is parsed with: defaults, HOME_NET from the
// deployments, then the config's own values.
rules::Vars rule_vars(const Config& cfg);

} // namespace sg::app
