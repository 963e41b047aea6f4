// Fuzz entries for lib/config: the YAML configuration (parse_config) and
// the detection thresholds file (parse_thresholds). The input is the file.
//
// What must hold besides "no crash, no exception": an error names the file
// and a line of the input ("fuzz.yaml:LINE: ..."), as docs/configuration.md
// promises, and what was accepted can be written into the JSON report and
// eve lines (names and addresses are UTF-8 there).

#include "fuzz_entries.hpp"

#include <cmath>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "config/thresholds.hpp"
#include "fuzz_util.hpp"

namespace sg::fuzz {
namespace {

// Every text of the configuration that reports or logs print.
nlohmann::json printed(const Config& cfg) {
    nlohmann::json j;
    for (const auto& d : cfg.deployments) {
        j["deployments"].push_back(d.name);
        j["owners"].push_back(d.owner);
    }
    for (const auto& p : cfg.ports) j["ports"].push_back({p.name, p.device});
    for (const auto& [a, b] : cfg.inline_pairs) j["pairs"].push_back({a, b});
    j["outputs"] = {cfg.outputs.report, cfg.outputs.eve};
    j["control"] = {cfg.control.socket, cfg.control.group};
    j["rules"] = {cfg.rules.files, cfg.rules.classification, cfg.rules.threshold_file};
    for (const auto& [k, v] : cfg.rules.address_vars) j["address_vars"][k] = v;
    for (const auto& [k, v] : cfg.rules.port_vars) j["port_vars"][k] = v;
    j["detect"] = cfg.detect.thresholds;
    j["notify"] = {cfg.notify.smtp_url, cfg.notify.from, cfg.notify.reply_to};
    j["enforcement"] = cfg.enforcement.hook;
    j["state_dir"] = cfg.state_dir;
    j["eal"] = cfg.eal;
    return j;
}

} // namespace

std::string config(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto cfg = parse_config(text, "fuzz.yaml");
    if (!cfg) {
        if (!names_a_line(cfg.error().message, "fuzz.yaml", line_count(text) + 1))
            return "a config error without a line of the input: " + cfg.error().message;
        return {};
    }
    if (auto ok = validate(*cfg); !ok) return "parse_config accepted what validate() rejects: " + ok.error().message;
    try {
        (void)printed(*cfg).dump();
    } catch (const nlohmann::json::exception& e) {
        return fmt::format("an accepted configuration cannot be printed as JSON: {}", e.what());
    }
    return {};
}

std::string thresholds(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto t = parse_thresholds(text, "fuzz.yaml");
    if (!t) {
        if (!names_a_line(t.error().message, "fuzz.yaml", line_count(text) + 1))
            return "a thresholds error without a line of the input: " + t.error().message;
        return {};
    }
    for (const ThresholdParam& p : threshold_params()) {
        const double v = (*t).*(p.member);
        if (!std::isfinite(v) || v < 0) return fmt::format("{}.{} accepted as {}", p.detector, p.name, v);
        (void)format_threshold(p, v);
    }
    return {};
}

} // namespace sg::fuzz
