// safeguard rules check FILE...: what a rule set comes to before it runs:
// accepted, skipped by reason, errors with file:line, and the compiled
// databases (compile time, size). Exit 0 when there is no error.

#include <fmt/format.h>

#include "app/safeguard/commands.hpp"
#include "app/safeguard/rules_setup.hpp"
#include "core/log.hpp"
#include "match/rules_check.hpp"

namespace sg::app {

int rules_check_main(const RulesCheckOptions& opts) {
    Config cfg;
    if (!opts.config.empty()) {
        auto loaded = load_config(opts.config);
        if (!loaded) {
            log::error("{}", loaded.error().message);
            return kExitBadInput;
        }
        cfg = std::move(*loaded);
    }
    cfg.rules.files.insert(cfg.rules.files.end(), opts.files.begin(), opts.files.end());
    if (!opts.classification.empty()) cfg.rules.classification = opts.classification;

    rules::Classifications classes;
    if (!cfg.rules.classification.empty()) {
        auto c = rules::load_classifications(cfg.rules.classification);
        if (!c) {
            log::error("{}", c.error().message);
            return kExitBadInput;
        }
        classes = std::move(*c);
    }
    rules::RuleSetParse parse = rules::parse_rules_files(cfg.rules.files, rule_vars(cfg), classes);

    std::optional<rules::DatabaseSummary> summary;
    std::string build_error;
    if (parse.ok() && !parse.rules.empty()) {
        // Compile a copy: the parse keeps its rules for the report.
        auto db = MatchDatabase::build(parse.rules, 1, classes);
        if (db) {
            uint32_t patterns = 0;
            for (const CompiledRule& r : (*db)->rules()) patterns += r.has_fast_pattern;
            summary = rules::DatabaseSummary{(*db)->compile_seconds(), (*db)->database_bytes(), patterns};
        } else {
            build_error = db.error().message;
        }
    }
    if (opts.json) {
        nlohmann::json j = rules::rules_check_json(parse, summary);
        if (!build_error.empty()) j["database_error"] = build_error;
        fmt::print("{}\n", j.dump(2));
    } else {
        fmt::print("{}", rules::rules_check_text(parse, summary, 20));
        if (!build_error.empty()) fmt::print("database: {}\n", build_error);
    }
    return parse.ok() && build_error.empty() ? kExitOk : kExitBadInput;
}

} // namespace sg::app
