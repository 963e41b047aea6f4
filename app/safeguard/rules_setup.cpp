#include "app/safeguard/rules_setup.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "core/log.hpp"

namespace sg::app {

rules::Vars rule_vars(const Config& cfg) {
    rules::Vars vars;
    std::vector<Prefix> home;
    for (const Deployment& d : cfg.deployments) home.insert(home.end(), d.prefixes.begin(), d.prefixes.end());
    if (!home.empty()) vars.set_home_net(home);
    for (const auto& [name, value] : cfg.rules.address_vars) vars.set_address(name, value);
    for (const auto& [name, value] : cfg.rules.port_vars) vars.set_port(name, value);
    return vars;
}

Result<LoadedRules> load_rules(const Config& cfg, uint64_t generation) {
    LoadedRules out;
    if (!cfg.rules.threshold_file.empty()) {
        auto thresholds = rules::load_threshold_config(cfg.rules.threshold_file, rule_vars(cfg));
        if (!thresholds) {
            std::string msg = "error(s) in the threshold file; nothing was loaded:";
            std::string_view rest = thresholds.error().message;
            while (!rest.empty()) {
                const auto nl = rest.find('\n');
                msg += fmt::format("\n  {}", rest.substr(0, nl));
                rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
            }
            return make_error(msg);
        }
        out.thresholds = std::make_shared<const rules::ThresholdConfig>(std::move(*thresholds));
    }
    if (cfg.rules.files.empty()) return out;

    rules::Classifications classes;
    std::string class_path = cfg.rules.classification;
    if (class_path.empty()) {
        // Rule sets ship their classification.config beside the rules.
        const auto beside = std::filesystem::path(cfg.rules.files.front()).parent_path() / "classification.config";
        if (std::filesystem::exists(beside)) class_path = beside.string();
    }
    if (!class_path.empty()) {
        auto loaded = rules::load_classifications(class_path);
        if (!loaded) return loaded.error();
        classes = std::move(*loaded);
    }

    out.parse = rules::parse_rules_files(cfg.rules.files, rule_vars(cfg), classes);
    if (!out.parse.ok()) {
        std::string msg = fmt::format("{} error(s) in the rules; nothing was loaded:", out.parse.errors.size());
        size_t shown = 0;
        for (const rules::Diagnostic& d : out.parse.errors) {
            if (++shown > 20) {
                msg += fmt::format("\n  ... and {} more", out.parse.errors.size() - 20);
                break;
            }
            msg += "\n  " + d.text();
        }
        return make_error(msg);
    }
    for (const rules::Diagnostic& w : out.parse.warnings) log::warn("{}", w.text());
    const size_t accepted = out.parse.rules.size();
    auto db = MatchDatabase::build(std::move(out.parse.rules), generation, classes);
    if (!db) return db.error();
    out.db = std::move(*db);
    if (out.thresholds) {
        std::vector<const rules::Rule*> accepted_rules;
        for (const CompiledRule& r : out.db->rules()) accepted_rules.push_back(r.rule);
        std::vector<rules::Diagnostic> warnings;
        rules::resolve_rule_filters(accepted_rules, out.thresholds.get(), &warnings);
        for (const rules::Diagnostic& w : warnings) log::warn("{}", w.text());
        log::info("threshold file {}: {} entries", cfg.rules.threshold_file, out.thresholds->entries.size());
    }
    log::info("rules: {} accepted, {} skipped (unsupported keywords; `safeguard rules check` lists them), "
              "compiled in {:.2f} s, {} KiB of Hyperscan databases",
              accepted, out.parse.skipped.size(), out.db->compile_seconds(), out.db->database_bytes() / 1024);
    return out;
}

} // namespace sg::app
