#pragma once
// Suricata's threshold.config, and how it combines with the rules' own
// threshold / detection_filter keywords into one list of filters per rule.
//
//   threshold    gen_id G, sig_id S, type limit|threshold|both,
//                track by_src|by_dst|by_rule|by_both|by_flow, count N, seconds T
//   event_filter (the same as threshold)
//   rate_filter  gen_id G, sig_id S, track by_src|by_dst|by_rule|by_both,
//                count N, seconds T, new_action alert|drop|pass|reject, timeout T
//   suppress     gen_id G, sig_id S[, track by_src|by_dst|by_either, ip ADDRESSES]
//
// sig_id 0 means every rule of gen_id G; gen_id 0 with sig_id 0 every rule
// (a sig_id with gen_id 0 is an error, as in Suricata). ADDRESSES is what a
// rule header takes: an address, a prefix, a [list], $VAR, negations.
// Items after sig_id may come in any order. A line whose first non-blank
// character is '#' is a comment; a line ending in '\' continues on the next.
//
// How the entries apply (Suricata's util-threshold-config.c), in file order:
//   - threshold / event_filter for one sid REPLACES the rule's own threshold
//     or detection_filter (and an earlier entry for that sid);
//   - threshold, event_filter or rate_filter for sig_id 0 applies only to the
//     rules that have no threshold, detection_filter or rate_filter yet;
//   - rate_filter for one sid is ignored, with a warning, when the rule
//     already has one of those (Suricata gives the rule's keyword precedence);
//   - suppress without track makes the rule alert never; with track it
//     withholds the alerts whose address is in ADDRESSES. Suppressions are
//     checked before any threshold, and stop the alert without counting it.
// An entry naming a rule that is not loaded is a warning, not an error.
//
// Thread: control side only.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"
#include "match/rule.hpp"
#include "match/rule_parser.hpp"
#include "match/vars.hpp"

namespace sg::rules {

struct RateFilter {
    Track track = Track::by_src;   // by_src, by_dst, by_rule or by_both
    uint32_t count = 0;            // more than `count` matches within `seconds` ...
    uint32_t seconds = 0;
    Action new_action = Action::alert;  // ... switch the action to this ...
    uint32_t timeout = 0;          // ... for `timeout` seconds
};

struct Suppress {
    enum class Track : uint8_t { all, by_src, by_dst, by_either };
    Track track = Track::all;      // all: the rule never alerts
    std::shared_ptr<const AddressSet> ips;  // set unless track is `all`
};
const char* suppress_track_name(Suppress::Track t);

struct ThresholdConfigEntry {
    uint32_t gid = 0;              // 0 (with sid 0): every rule
    uint32_t sid = 0;              // 0: every rule of `gid`
    std::variant<Threshold, RateFilter, Suppress> what;
    std::string file;
    unsigned line = 0;

    bool is_threshold() const { return std::holds_alternative<Threshold>(what); }
    bool is_rate_filter() const { return std::holds_alternative<RateFilter>(what); }
    bool is_suppress() const { return std::holds_alternative<Suppress>(what); }
};

struct ThresholdConfig {
    std::vector<ThresholdConfigEntry> entries;  // in file order
    std::string file;
};

// Errors are "FILE:LINE: what was expected", one per line of the message;
// any error rejects the whole file.
Result<ThresholdConfig> load_threshold_config(const std::string& path, const Vars& vars);
// `name` stands for the file name in messages.
Result<ThresholdConfig> parse_threshold_config(std::string_view text, const std::string& name, const Vars& vars);

// One filter on a rule's alerts, whichever keyword or line it came from.
struct AlertFilter {
    enum class Kind : uint8_t { limit, threshold, both, detection_filter, rate_filter };
    Kind kind = Kind::limit;
    Track track = Track::by_src;
    uint32_t count = 0;
    uint32_t seconds = 0;
    DetectionFilter::UniqueOn unique_on = DetectionFilter::UniqueOn::none;  // detection_filter
    Action new_action = Action::alert;  // rate_filter
    uint32_t timeout = 0;               // rate_filter
    unsigned config_line = 0;           // 0: the rule's own keyword

    static AlertFilter from(const Threshold& t, unsigned config_line = 0);
    static AlertFilter from(const DetectionFilter& d);
    static AlertFilter from(const RateFilter& r, unsigned config_line);
};
const char* alert_filter_kind_name(AlertFilter::Kind k);

// What applies to one rule's alerts, in the order it is checked: the
// suppressions (any match withholds the alert), then the filters in order
// (the first that withholds the alert stops the rest from counting it).
struct RuleFilters {
    bool never_alert = false;          // suppress without track
    std::vector<Suppress> suppress;
    std::vector<AlertFilter> filters;

    bool empty() const { return !never_alert && suppress.empty() && filters.empty(); }
};

// The filters of each rule (same order as `rules`). `config` may be null
// (the rules' own keywords only). `warnings` (may be null) collects the
// entries that name no loaded rule and the rate_filters that were ignored.
std::vector<RuleFilters> resolve_rule_filters(const std::vector<const Rule*>& rules,
                                              const ThresholdConfig* config,
                                              std::vector<Diagnostic>* warnings = nullptr);

} // namespace sg::rules
