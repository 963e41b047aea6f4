#include "config/thresholds.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/text.hpp"
#include "core/time.hpp"

namespace sg {

namespace {

using T = Thresholds;
using U = ThresholdUnit;

constexpr ThresholdParam kParams[] = {
    {"syn_flood", "rate", &T::syn_flood_rate, U::rate},
    {"syn_flood", "max_answered", &T::syn_flood_max_answered, U::ratio},
    {"udp_flood", "rate", &T::udp_flood_rate, U::rate},
    {"icmp_flood", "rate", &T::icmp_flood_rate, U::rate},
    {"fragment_flood", "rate", &T::fragment_flood_rate, U::rate},
    {"floods", "relative_factor", &T::flood_relative_factor, U::count},
    {"floods", "relative_min_rate", &T::flood_relative_min_rate, U::rate},
    {"floods", "baseline_half_life", &T::baseline_half_life, U::duration},
    {"floods", "idle", &T::flood_idle, U::duration},
    {"amplification", "rate", &T::amplification_rate, U::rate},
    {"amplification", "idle", &T::amplification_idle, U::duration},
    {"reflector", "rate", &T::reflector_rate, U::rate},
    {"reflector", "min_amplification", &T::reflector_min_amplification, U::count},
    {"bruteforce", "attempts", &T::bruteforce_attempts, U::count},
    {"bruteforce", "min_failed", &T::bruteforce_min_failed, U::ratio},
    {"bruteforce", "idle", &T::bruteforce_idle, U::duration},
    {"port_scan", "ports", &T::port_scan_ports, U::count},
    {"port_scan", "max_established", &T::port_scan_max_established, U::ratio},
    {"port_scan", "idle", &T::port_scan_idle, U::duration},
    {"sweep", "targets", &T::sweep_targets, U::count},
    {"sweep", "max_established", &T::sweep_max_established, U::ratio},
    {"sweep", "idle", &T::sweep_idle, U::duration},
    {"spam", "targets", &T::spam_targets, U::count},
    {"spam", "idle", &T::spam_idle, U::duration},
    {"signature", "max_priority", &T::signature_max_priority, U::count},
    {"signature", "idle", &T::signature_idle, U::duration},
};

struct Invalid {
    std::string message;
};

[[noreturn]] void fail(const std::string& file, const YAML::Node& at, const std::string& path,
                       const std::string& what) {
    const int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 1;
    throw Invalid{fmt::format("{}:{}: {}{}{}", file, line, path, path.empty() ? "" : ": ", what)};
}

std::string suggestion(const std::string& word, const std::vector<std::string>& known) {
    std::string best;
    size_t best_distance = 3;
    for (const auto& k : known)
        if (const size_t d = edit_distance(word, k); d < best_distance) {
            best_distance = d;
            best = k;
        }
    return best.empty() ? "" : fmt::format("; did you mean '{}'?", best);
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

double parse_value(const ThresholdParam& p, const YAML::Node& v, const std::string& file,
                   const std::string& path) {
    if (!v.IsScalar()) fail(file, v, path, "expected a number");
    const std::string& text = v.Scalar();
    if (p.unit == U::duration) {
        const auto d = parse_duration(text);
        if (!d || *d == 0) fail(file, v, path, fmt::format("expected a duration such as 30s or 5m, got '{}'", text));
        return double(*d) / double(kNsPerSec);
    }
    std::string number = text;
    // A rate may be written with its unit, as the docs print it.
    if (p.unit == U::rate && number.size() > 2 && number.ends_with("/s")) number.resize(number.size() - 2);
    char* end = nullptr;
    const double x = std::strtod(number.c_str(), &end);
    if (number.empty() || *end || !std::isfinite(x) || x < 0)
        fail(file, v, path, fmt::format("expected a number >= 0, got '{}'", text));
    if (p.unit == U::ratio && x > 1) fail(file, v, path, fmt::format("expected a ratio between 0 and 1, got '{}'", text));
    return x;
}

// {detector: {param: value}} -> overrides; throws Invalid.
std::vector<ThresholdOverride> read_overrides(const YAML::Node& root, const std::string& file,
                                              const std::string& prefix) {
    std::vector<ThresholdOverride> out;
    if (root.IsNull()) return out;
    if (!root.IsMap()) fail(file, root, prefix, "expected a map of detectors to their thresholds");
    std::vector<std::string> detectors;
    for (const ThresholdParam& p : kParams)
        if (detectors.empty() || detectors.back() != p.detector) detectors.push_back(p.detector);
    for (const auto& section : root) {
        const std::string detector = section.first.Scalar();
        const std::string at = prefix.empty() ? detector : prefix + "." + detector;
        if (std::find(detectors.begin(), detectors.end(), detector) == detectors.end())
            fail(file, section.first, prefix,
                 fmt::format("unknown detector '{}' (expected one of: {}){}", detector, join(detectors),
                             suggestion(detector, detectors)));
        if (!section.second.IsMap()) fail(file, section.first, at, "expected a map of thresholds");
        std::vector<std::string> names;
        for (const ThresholdParam& p : kParams)
            if (detector == p.detector) names.push_back(p.name);
        for (const auto& kv : section.second) {
            const std::string name = kv.first.Scalar();
            const std::string key = at + "." + name;
            uint16_t index = 0;
            while (index < std::size(kParams) && !(detector == kParams[index].detector && name == kParams[index].name))
                ++index;
            if (index == std::size(kParams))
                fail(file, kv.first, at,
                     fmt::format("unknown threshold '{}' (expected one of: {}){}", name, join(names),
                                 suggestion(name, names)));
            for (const ThresholdOverride& o : out)
                if (o.param == index) fail(file, kv.first, key, "repeated key");
            out.push_back({index, parse_value(kParams[index], kv.second, file, key)});
        }
    }
    return out;
}

} // namespace

std::span<const ThresholdParam> threshold_params() { return kParams; }

void apply_overrides(Thresholds& t, const std::vector<ThresholdOverride>& overrides) {
    for (const ThresholdOverride& o : overrides) t.*(kParams[o.param].member) = o.value;
}

Result<std::vector<ThresholdOverride>> parse_threshold_overrides(const YAML::Node& node, const std::string& file,
                                                                 const std::string& path) {
    try {
        return read_overrides(node, file, path);
    } catch (const Invalid& e) {
        return make_error(e.message);
    }
}

Result<Thresholds> parse_thresholds(const std::string& yaml, const std::string& name) {
    if (const size_t bad = invalid_utf8_at(yaml); bad != std::string::npos) {
        const TextPosition at = position_of(yaml, bad);
        return make_error(fmt::format("{}:{}: invalid YAML: expected UTF-8 text, got the byte 0x{:02x} at column {}",
                                      name, at.line, static_cast<unsigned char>(yaml[bad]), at.column));
    }
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::ParserException& e) {
        return make_error(fmt::format("{}:{}: invalid YAML: {}", name, e.mark.line + 1, e.msg));
    }
    auto overrides = parse_threshold_overrides(root, name, "");
    if (!overrides) return overrides.error();
    Thresholds t;
    apply_overrides(t, *overrides);
    return t;
}

Result<Thresholds> load_thresholds(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(fmt::format("{}: cannot read the thresholds file", path));
    std::stringstream text;
    text << in.rdbuf();
    return parse_thresholds(text.str(), path);
}

std::string format_threshold(const ThresholdParam& p, double value) {
    switch (p.unit) {
    case U::rate: return fmt::format("{:g}/s", value);
    case U::duration: return fmt::format("{:g}s", value);
    case U::count:
    case U::ratio: break;
    }
    return fmt::format("{:g}", value);
}

} // namespace sg
