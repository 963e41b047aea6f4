#include "match/threshold_config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "match/address_set.hpp"
#include "match/text_util.hpp"

namespace sg::rules {

const char* suppress_track_name(Suppress::Track t) {
    switch (t) {
    case Suppress::Track::all: return "all";
    case Suppress::Track::by_src: return "by_src";
    case Suppress::Track::by_dst: return "by_dst";
    case Suppress::Track::by_either: return "by_either";
    }
    return "?";
}

const char* alert_filter_kind_name(AlertFilter::Kind k) {
    switch (k) {
    case AlertFilter::Kind::limit: return "limit";
    case AlertFilter::Kind::threshold: return "threshold";
    case AlertFilter::Kind::both: return "both";
    case AlertFilter::Kind::detection_filter: return "detection_filter";
    case AlertFilter::Kind::rate_filter: return "rate_filter";
    }
    return "?";
}

AlertFilter AlertFilter::from(const Threshold& t, unsigned config_line) {
    AlertFilter f;
    switch (t.type) {
    case Threshold::Type::limit: f.kind = Kind::limit; break;
    case Threshold::Type::threshold: f.kind = Kind::threshold; break;
    case Threshold::Type::both: f.kind = Kind::both; break;
    }
    f.track = t.track;
    f.count = t.count;
    f.seconds = t.seconds;
    f.config_line = config_line;
    return f;
}

AlertFilter AlertFilter::from(const DetectionFilter& d) {
    AlertFilter f;
    f.kind = Kind::detection_filter;
    f.track = d.track;
    f.count = d.count;
    f.seconds = d.seconds;
    f.unique_on = d.unique_on;
    return f;
}

AlertFilter AlertFilter::from(const RateFilter& r, unsigned config_line) {
    AlertFilter f;
    f.kind = Kind::rate_filter;
    f.track = r.track;
    f.count = r.count;
    f.seconds = r.seconds;
    f.new_action = r.new_action;
    f.timeout = r.timeout;
    f.config_line = config_line;
    return f;
}

namespace {

constexpr size_t kErrorsShown = 20;

// "a, b [c, d], e" -> {"a", "b [c, d]", "e"}: commas inside brackets belong
// to an address list.
std::vector<std::string_view> split_items(std::string_view s) {
    std::vector<std::string_view> out;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '[') ++depth;
        else if (s[i] == ']' && depth > 0) --depth;
        else if (s[i] == ',' && depth == 0) {
            out.push_back(trim(s.substr(start, i - start)));
            start = i + 1;
        }
    }
    out.push_back(trim(s.substr(start)));
    return out;
}

std::string join(std::initializer_list<std::string_view> words, std::string_view last_sep = " or ") {
    std::string out;
    size_t i = 0;
    for (const auto w : words) {
        if (i) out += i + 1 == words.size() ? std::string(last_sep) : std::string(", ");
        out += w;
        ++i;
    }
    return out;
}

// The closest of `candidates` to `word`, when it is a likely typo.
std::string suggestion(std::string_view word, std::initializer_list<std::string_view> candidates) {
    std::string_view best;
    size_t best_d = 3;
    for (const auto c : candidates) {
        const size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best);
}

class LineParser {
public:
    LineParser(const Vars& vars) : vars_(vars) {}

    // One logical line (continuations joined) -> an entry, or the message.
    Result<ThresholdConfigEntry> parse(std::string_view text) {
        ThresholdConfigEntry e;
        const auto space = text.find_first_of(" \t");
        const auto kind = text.substr(0, space);
        const auto rest = space == std::string_view::npos ? std::string_view{} : trim(text.substr(space));
        const std::initializer_list<std::string_view> kKinds = {"threshold", "event_filter",
                                                                          "rate_filter", "suppress"};
        if (kind == "threshold" || kind == "event_filter") return parse_threshold(rest, e);
        if (kind == "rate_filter") return parse_rate_filter(rest, e);
        if (kind == "suppress") return parse_suppress(rest, e);
        return make_error(fmt::format("expected threshold, event_filter, rate_filter or suppress, got '{}'{}",
                                      kind, suggestion(kind, kKinds)));
    }

private:
    using Items = std::vector<std::pair<std::string_view, std::string_view>>;

    // "key value, key value, ..." with only `keys`, each at most once.
    Result<Items> items(std::string_view kind, std::string_view text, std::initializer_list<std::string_view> keys) {
        Items out;
        if (trim(text).empty())
            return make_error(fmt::format("{}: expected 'gen_id G, sig_id S, ...' after '{}'", kind, kind));
        for (const auto item : split_items(text)) {
            if (item.empty()) return make_error(fmt::format("{}: empty item (a ',' too many?)", kind));
            const auto space = item.find_first_of(" \t");
            const auto key = item.substr(0, space);
            const auto value = space == std::string_view::npos ? std::string_view{} : trim(item.substr(space));
            if (std::find(keys.begin(), keys.end(), key) == keys.end())
                return make_error(fmt::format("{}: unknown item '{}' (expected {}){}", kind, item,
                                              join(keys, " and "), suggestion(key, keys)));
            if (value.empty()) return make_error(fmt::format("{}: '{}' needs a value", kind, key));
            for (const auto& [k, v] : out)
                if (k == key) return make_error(fmt::format("{}: '{}' given twice", kind, key));
            out.emplace_back(key, value);
        }
        return out;
    }

    static std::optional<std::string_view> get(const Items& items, std::string_view key) {
        for (const auto& [k, v] : items)
            if (k == key) return v;
        return std::nullopt;
    }

    static Result<> require(std::string_view kind, const Items& items, std::initializer_list<std::string_view> keys) {
        for (const auto key : keys)
            if (!get(items, key)) return make_error(fmt::format("{}: missing '{}'", kind, key));
        return {};
    }

    static Result<uint32_t> number(std::string_view kind, std::string_view key, std::string_view v, uint32_t lo) {
        const auto n = parse_uint(v, lo, UINT32_MAX);
        if (!n)
            return make_error(fmt::format("{}: {}: expected {}, got '{}'", kind, key,
                                          lo ? "a positive integer" : "an integer (0 or more)", v));
        return uint32_t(*n);
    }

    static Result<> ids(std::string_view kind, const Items& items, ThresholdConfigEntry& e) {
        auto gid = number(kind, "gen_id", *get(items, "gen_id"), 0);
        if (!gid) return gid.error();
        auto sid = number(kind, "sig_id", *get(items, "sig_id"), 0);
        if (!sid) return sid.error();
        if (*gid == 0 && *sid != 0)
            return make_error(fmt::format("{}: sig_id {} needs its gen_id (gen_id 0 means every rule and "
                                          "goes with sig_id 0)", kind, *sid));
        e.gid = *gid;
        e.sid = *sid;
        return {};
    }

    static Result<Track> track(std::string_view kind, std::string_view v, bool by_flow) {
        if (v == "by_src") return Track::by_src;
        if (v == "by_dst") return Track::by_dst;
        if (v == "by_rule") return Track::by_rule;
        if (v == "by_both") return Track::by_both;
        if (by_flow && v == "by_flow") return Track::by_flow;
        return make_error(fmt::format("{}: track: expected {}, got '{}'", kind,
                                      by_flow ? "by_src, by_dst, by_rule, by_both or by_flow"
                                              : "by_src, by_dst, by_rule or by_both",
                                      v));
    }

    // count and seconds, shared by threshold and rate_filter.
    static Result<> count_seconds(std::string_view kind, const Items& items, uint32_t& count, uint32_t& seconds) {
        auto c = number(kind, "count", *get(items, "count"), 1);
        if (!c) return c.error();
        auto s = number(kind, "seconds", *get(items, "seconds"), 1);
        if (!s) return s.error();
        count = *c;
        seconds = *s;
        return {};
    }

    Result<ThresholdConfigEntry> parse_threshold(std::string_view text, ThresholdConfigEntry& e) {
        constexpr std::string_view kind = "threshold";
        auto it = items(kind, text, {"gen_id", "sig_id", "type", "track", "count", "seconds"});
        if (!it) return it.error();
        if (auto ok = require(kind, *it, {"gen_id", "sig_id", "type", "track", "count", "seconds"}); !ok)
            return ok.error();
        if (auto ok = ids(kind, *it, e); !ok) return ok.error();
        Threshold t;
        const auto type = *get(*it, "type");
        if (type == "limit") t.type = Threshold::Type::limit;
        else if (type == "threshold") t.type = Threshold::Type::threshold;
        else if (type == "both") t.type = Threshold::Type::both;
        else return make_error(fmt::format("{}: type: expected limit, threshold or both, got '{}'", kind, type));
        auto tr = track(kind, *get(*it, "track"), true);
        if (!tr) return tr.error();
        t.track = *tr;
        if (auto ok = count_seconds(kind, *it, t.count, t.seconds); !ok) return ok.error();
        e.what = t;
        return std::move(e);
    }

    Result<ThresholdConfigEntry> parse_rate_filter(std::string_view text, ThresholdConfigEntry& e) {
        constexpr std::string_view kind = "rate_filter";
        const std::initializer_list<std::string_view> kKeys = {"gen_id", "sig_id", "track", "count",
                                                                   "seconds", "new_action", "timeout"};
        auto it = items(kind, text, kKeys);
        if (!it) return it.error();
        if (auto ok = require(kind, *it, kKeys); !ok) return ok.error();
        if (auto ok = ids(kind, *it, e); !ok) return ok.error();
        RateFilter r;
        auto tr = track(kind, *get(*it, "track"), false);
        if (!tr) return tr.error();
        r.track = *tr;
        if (auto ok = count_seconds(kind, *it, r.count, r.seconds); !ok) return ok.error();
        const auto action = *get(*it, "new_action");
        if (action == "alert") r.new_action = Action::alert;
        else if (action == "drop") r.new_action = Action::drop;
        else if (action == "pass") r.new_action = Action::pass;
        else if (action == "reject") r.new_action = Action::reject;
        else if (action == "sdrop" || action == "log")
            return make_error(fmt::format("{}: new_action: '{}' is parsed by Suricata but does nothing there; "
                                          "expected alert, drop, pass or reject", kind, action));
        else return make_error(fmt::format("{}: new_action: expected alert, drop, pass or reject, got '{}'",
                                           kind, action));
        auto timeout = number(kind, "timeout", *get(*it, "timeout"), 0);
        if (!timeout) return timeout.error();
        r.timeout = *timeout;
        e.what = r;
        return std::move(e);
    }

    Result<ThresholdConfigEntry> parse_suppress(std::string_view text, ThresholdConfigEntry& e) {
        constexpr std::string_view kind = "suppress";
        auto it = items(kind, text, {"gen_id", "sig_id", "track", "ip"});
        if (!it) return it.error();
        if (auto ok = require(kind, *it, {"gen_id", "sig_id"}); !ok) return ok.error();
        if (auto ok = ids(kind, *it, e); !ok) return ok.error();
        Suppress s;
        const auto tr = get(*it, "track");
        const auto ip = get(*it, "ip");
        if (tr.has_value() != ip.has_value())
            return make_error(fmt::format("{}: 'track' and 'ip' go together (or neither: the rule never alerts)",
                                          kind));
        if (tr) {
            if (*tr == "by_src") s.track = Suppress::Track::by_src;
            else if (*tr == "by_dst") s.track = Suppress::Track::by_dst;
            else if (*tr == "by_either") s.track = Suppress::Track::by_either;
            else return make_error(fmt::format("{}: track: expected by_src, by_dst or by_either, got '{}'", kind, *tr));
            auto set = parse_address_set(*ip, vars_);
            if (!set) return make_error(fmt::format("{}: ip: {}", kind, set.error().message));
            if (!*set) return make_error(fmt::format("{}: ip: '{}' matches no address", kind, *ip));
            s.ips = std::make_shared<const AddressSet>(std::move(**set));
        }
        e.what = std::move(s);
        return std::move(e);
    }

    const Vars& vars_;
};

} // namespace

Result<ThresholdConfig> parse_threshold_config(std::string_view text, const std::string& name, const Vars& vars) {
    ThresholdConfig out;
    out.file = name;
    LineParser parser(vars);
    std::vector<std::string> errors;
    for_each_logical_line(text, " ", [&](std::string_view logical, unsigned start) {
        auto e = parser.parse(trim(logical));
        if (!e) {
            errors.push_back(fmt::format("{}:{}: {}", name, start, e.error().message));
            return;
        }
        e->file = name;
        e->line = start;
        out.entries.push_back(std::move(*e));
    });
    if (errors.empty()) return out;
    std::string msg;
    for (size_t i = 0; i < errors.size() && i < kErrorsShown; ++i) msg += (i ? "\n" : "") + errors[i];
    if (errors.size() > kErrorsShown) msg += fmt::format("\n... and {} more", errors.size() - kErrorsShown);
    return make_error(msg);
}

Result<ThresholdConfig> load_threshold_config(const std::string& path, const Vars& vars) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(fmt::format("{}: cannot read the threshold file: {}", path, std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return make_error(fmt::format("{}: cannot read the threshold file", path));
    return parse_threshold_config(text.str(), path, vars);
}

std::vector<RuleFilters> resolve_rule_filters(const std::vector<const Rule*>& rules, const ThresholdConfig* config,
                                              std::vector<Diagnostic>* warnings) {
    std::vector<RuleFilters> out(rules.size());
    // A rule's own keywords first (Suricata refuses both in one rule; here
    // the detection_filter is checked first).
    for (size_t i = 0; i < rules.size(); ++i) {
        if (rules[i]->detection_filter) out[i].filters.push_back(AlertFilter::from(*rules[i]->detection_filter));
        if (rules[i]->threshold) out[i].filters.push_back(AlertFilter::from(*rules[i]->threshold));
    }
    if (!config) return out;

    std::unordered_map<uint64_t, size_t> by_id;
    by_id.reserve(rules.size());
    for (size_t i = 0; i < rules.size(); ++i) by_id.emplace(uint64_t(rules[i]->gid) << 32 | rules[i]->sid, i);

    auto warn = [&](const ThresholdConfigEntry& e, std::string message) {
        if (warnings) warnings->push_back(Diagnostic{e.file, e.line, std::nullopt, std::move(message)});
    };

    for (const ThresholdConfigEntry& e : config->entries) {
        // Applies one entry to one rule; `one` when the entry names the rule.
        auto apply = [&](size_t i, bool one) {
            RuleFilters& rf = out[i];
            if (const auto* s = std::get_if<Suppress>(&e.what)) {
                if (s->track == Suppress::Track::all) rf.never_alert = true;
                else rf.suppress.push_back(*s);
                return;
            }
            if (const auto* t = std::get_if<Threshold>(&e.what)) {
                if (one) {
                    // Replaces the rule's own threshold / detection_filter
                    // (or the entry before this one).
                    if (!rf.filters.empty()) rf.filters.pop_back();
                } else if (!rf.filters.empty()) {
                    return;  // the rule's own keyword takes precedence
                }
                rf.filters.push_back(AlertFilter::from(*t, e.line));
                return;
            }
            const auto& r = std::get<RateFilter>(e.what);
            if (!rf.filters.empty()) {
                if (one)
                    warn(e, fmt::format("rate_filter for gen_id {}, sig_id {} ignored: the rule already has a {} "
                                        "(Suricata gives it precedence)",
                                        e.gid, e.sid, alert_filter_kind_name(rf.filters.back().kind)));
                return;
            }
            rf.filters.push_back(AlertFilter::from(r, e.line));
        };
        if (e.sid == 0) {
            for (size_t i = 0; i < rules.size(); ++i)
                if (e.gid == 0 || rules[i]->gid == e.gid) apply(i, false);
            continue;
        }
        const auto it = by_id.find(uint64_t(e.gid) << 32 | e.sid);
        if (it == by_id.end()) {
            warn(e, fmt::format("gen_id {}, sig_id {}: no accepted rule has this id; the entry has no effect",
                                e.gid, e.sid));
            continue;
        }
        apply(it->second, true);
    }
    return out;
}

} // namespace sg::rules
