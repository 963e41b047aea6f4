#include "config/config.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace sg {
namespace {

// The first bad value ends the parse: helpers throw this and parse_config
// turns it into an Error. It never leaves this file.
struct Invalid {
    std::string message;
};

// A value in the document: its node, its key path ("ports[1].name") and the
// 1-based line to blame. A map value is blamed on its key's line, so that an
// empty value ("workers:") still points at the right place.
struct Field {
    const std::string* file;
    YAML::Node node;
    std::string path;
    int line;

    Field child(const YAML::Node& key, const YAML::Node& value) const {
        const std::string& k = key.Scalar();
        return {file, value, path.empty() ? k : path + "." + k, key.Mark().line + 1};
    }
    Field item(size_t i, const YAML::Node& value) const {
        const int at = value.IsNull() ? -1 : value.Mark().line;
        return {file, value, fmt::format("{}[{}]", path, i), at >= 0 ? at + 1 : line};
    }
    std::string shown() const {
        if (node.IsScalar()) return fmt::format("'{}'", node.Scalar());
        if (node.IsSequence()) return node.size() ? "a list" : "an empty list";
        return node.IsMap() ? "a map" : "nothing";
    }
    [[noreturn]] void fail(std::string_view what, int at = 0) const {
        const int l = at ? at : line;
        throw Invalid{path.empty() ? fmt::format("{}:{}: {}", *file, l, what)
                                   : fmt::format("{}:{}: {}: {}", *file, l, path, what)};
    }
    [[noreturn]] void expected(std::string_view what) const {
        fail(fmt::format("expected {}, got {}", what, shown()));
    }
};

using Handler = std::function<void(const Field&)>;

struct Key {
    std::string_view name;
    Handler parse;
    bool required = false;
};


[[noreturn]] void unknown_key(const Field& map, const std::string& key, int line,
                              const std::vector<Key>& keys) {
    std::string names;
    std::string_view best;
    size_t best_distance = 3;  // suggest only within two edits
    for (const auto& k : keys) {
        names += fmt::format("{}{}", names.empty() ? "" : ", ", k.name);
        if (const size_t d = edit_distance(key, k.name); d < best_distance) {
            best_distance = d;
            best = k.name;
        }
    }
    const std::string guess = best.empty() ? "" : fmt::format("; did you mean '{}'?", best);
    map.fail(fmt::format("unknown key '{}' (expected one of: {}){}", key, names, guess), line);
}

// Checks the keys of a map (unknown or repeated ones are errors), then runs
// the handler of each key present in table order, so that a later key may be
// checked against an earlier one (inline_pairs against ports). An empty value
// stands for an empty map: a section whose keys are all commented out is fine.
void parse_map(const Field& f, const std::vector<Key>& keys) {
    if (!f.node.IsMap() && !f.node.IsNull()) f.expected("a map");
    std::map<std::string, Field> present;
    for (const auto& kv : f.node) {
        const int line = kv.first.Mark().line + 1;
        if (!kv.first.IsScalar()) Field{f.file, kv.first, f.path, line}.expected("a key name");
        const std::string& name = kv.first.Scalar();
        if (std::none_of(keys.begin(), keys.end(), [&](const Key& k) { return k.name == name; }))
            unknown_key(f, name, line, keys);
        const Field value = f.child(kv.first, kv.second);
        const auto [first, fresh] = present.try_emplace(name, value);
        if (!fresh) value.fail(fmt::format("repeated key (first on line {})", first->second.line));
    }
    for (const auto& k : keys) {
        if (const auto it = present.find(std::string(k.name)); it != present.end())
            k.parse(it->second);
        else if (k.required)
            f.fail(fmt::format("missing key '{}'", k.name));
    }
}

// Stores what `get` makes of the value in `out`: {"device", into(p.device, get_string)}.
template <class T, class Get>
Handler into(T& out, Get get) {
    return [&out, get](const Field& f) { out = get(f); };
}

template <class Get>
auto get_list(const Field& f, Get get_item) {
    std::vector<decltype(get_item(f))> out;
    if (f.node.IsNull()) return out;
    if (!f.node.IsSequence()) f.expected("a list");
    size_t i = 0;
    for (const auto& v : f.node) out.push_back(get_item(f.item(i++, v)));
    return out;
}

// A name that may appear only once remembers where it was first seen.
void claim(const Field& f, const std::string& name, std::map<std::string, int>& seen,
           std::string_view expected) {
    const auto [first, fresh] = seen.emplace(name, f.line);
    if (!fresh)
        f.fail(fmt::format("expected {}, got '{}' (also on line {})", expected, name,
                           first->second));
}

// --- values -----------------------------------------------------------------

struct UintRange {
    uint32_t lo, hi;
    bool pow2 = false;
};

bool in_range(uint64_t v, UintRange r) {
    return v >= r.lo && v <= r.hi && (!r.pow2 || std::has_single_bit(v));
}

std::string describe(UintRange r) {
    const char* kind = r.pow2 ? "a power of two" : "an integer";
    return fmt::format("{} between {} and {}", kind, r.lo, r.hi);
}

auto uint_in(UintRange r) {
    return [r](const Field& f) {
        uint64_t v = 0;
        const std::string& s = f.node.IsScalar() ? f.node.Scalar() : std::string();
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        const bool number = !s.empty() && ec == std::errc{} && end == s.data() + s.size();
        if (number && r.pow2 && v >= r.lo && v <= r.hi && !in_range(v, r))
            f.fail(fmt::format("expected {}, got {} (try {})", describe(r), f.shown(),
                               std::bit_ceil(v)));
        if (!number || !in_range(v, r)) f.expected(describe(r));
        return uint32_t(v);
    };
}

constexpr Nanos kMinTimeout = kNsPerSec;
constexpr Nanos kMaxTimeout = 30 * 86400 * kNsPerSec;
constexpr std::string_view kTimeoutRange = "a duration from 1s to 30d such as 30s, 15m or 1h";

Nanos get_duration(const Field& f) {
    const auto d = f.node.IsScalar() ? parse_duration(f.node.Scalar()) : std::nullopt;
    if (!d || *d < kMinTimeout || *d > kMaxTimeout) f.expected(kTimeoutRange);
    return *d;
}

std::string get_string(const Field& f) {
    if (!f.node.IsScalar() || f.node.Scalar().empty()) f.expected("a non-empty string");
    return f.node.Scalar();
}

bool is_port_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}
constexpr std::string_view kPortName = "a name of letters, digits, '_' or '-'";

std::string get_owner(const Field& f) {
    std::string owner = get_string(f);
    if (owner.find('@') == std::string::npos) f.expected("an e-mail address");
    return owner;
}

std::string get_socket_path(const Field& f) {
    std::string path = get_string(f);
    if (path.size() > 107) f.expected("a socket path of at most 107 bytes");  // sun_path
    return path;
}

// Prefix::parse's messages start with the text they were given; say it once.
std::string prefix_problem(std::string_view text, const std::string& error) {
    const std::string quoted = fmt::format("'{}': ", text);
    const bool repeats = error.compare(0, quoted.size(), quoted) == 0;
    return fmt::format("expected a CIDR prefix, got '{}': {}", text,
                       repeats ? error.substr(quoted.size()) : error);
}

Prefix get_prefix(const Field& f) {
    const std::string text = get_string(f);
    auto p = Prefix::parse(text);
    if (!p) f.fail(prefix_problem(text, p.error().message));
    return *p;
}

std::vector<Prefix> get_prefixes(const Field& f) {
    auto prefixes = get_list(f, get_prefix);
    if (prefixes.empty()) f.expected("a list of at least one prefix");
    return prefixes;
}

// --- tables shared by the parser and validate() -----------------------------

constexpr std::pair<std::string_view, Mode> kModes[] = {{"tap", Mode::tap},
                                                        {"inline", Mode::inline_}};

constexpr UintRange kWorkers{1, kMaxWorkers};

struct SizeKey {
    std::string_view name;
    uint32_t Sizes::*member;
    UintRange range;
};
constexpr SizeKey kSizeKeys[] = {
    {"mbufs", &Sizes::mbufs, {1024, 1u << 24}},
    {"mbuf_cache", &Sizes::mbuf_cache, {1, 512}},  // RTE_MEMPOOL_CACHE_MAX_SIZE
    {"rx_descriptors", &Sizes::rx_descriptors, {32, 32768}},
    {"tx_descriptors", &Sizes::tx_descriptors, {32, 32768}},
    {"flow_table", &Sizes::flow_table, {1024, 1u << 24}},
    {"ring", &Sizes::ring, {64, 1u << 20, true}},  // rte_ring sizes are powers of two
    {"burst", &Sizes::burst, {1, 256}},
    {"stream_buffers", &Sizes::stream_buffers, {0, 1u << 20}},
    {"stream_buffer_size", &Sizes::stream_buffer_size, {4096, 1u << 24}},
    {"stream_chunk", &Sizes::stream_chunk, {256, 1u << 20}},
};

struct TimeoutKey {
    std::string_view name;
    Nanos FlowTimeouts::*member;
};
constexpr TimeoutKey kTimeoutKeys[] = {
    {"tcp", &FlowTimeouts::tcp},
    {"tcp_closed", &FlowTimeouts::tcp_closed},
    {"udp", &FlowTimeouts::udp},
    {"other", &FlowTimeouts::other},
};

// --- sections ---------------------------------------------------------------

Mode get_mode(const Field& f) {
    for (const auto& [name, mode] : kModes)
        if (f.node.IsScalar() && f.node.Scalar() == name) return mode;
    f.expected("'tap' or 'inline'");
}

void parse_sizes(const Field& f, Sizes& sizes) {
    std::vector<Key> keys;
    std::optional<Field> buffer_size_at, chunk_at;
    for (const auto& k : kSizeKeys) {
        Handler get = into(sizes.*k.member, uint_in(k.range));
        if (k.member == &Sizes::stream_buffer_size)
            get = [get, &buffer_size_at](const Field& v) { get(v); buffer_size_at = v; };
        if (k.member == &Sizes::stream_chunk)
            get = [get, &chunk_at](const Field& v) { get(v); chunk_at = v; };
        keys.push_back({k.name, get});
    }
    parse_map(f, keys);
    // validate() checks this too, without a line: say it here, at the key
    // that was written (the buffer size when both were).
    if (sizes.stream_buffers && sizes.stream_buffer_size < 2 * uint64_t(sizes.stream_chunk)) {
        if (buffer_size_at)
            buffer_size_at->fail(fmt::format("expected at least twice sizes.stream_chunk ({}), got {}",
                                             2 * uint64_t(sizes.stream_chunk), sizes.stream_buffer_size));
        // Only the chunk was written (the defaults agree with each other).
        chunk_at->fail(fmt::format("expected at most half of sizes.stream_buffer_size ({}), got {}",
                                   sizes.stream_buffer_size / 2, sizes.stream_chunk));
    }
}

void parse_flow_timeout(const Field& f, FlowTimeouts& t) {
    std::vector<Key> keys;
    for (const auto& k : kTimeoutKeys) keys.push_back({k.name, into(t.*k.member, get_duration)});
    parse_map(f, keys);
}

void parse_ports(const Field& f, Config& cfg) {
    std::map<std::string, int> seen;
    cfg.ports = get_list(f, [&](const Field& item) {
        PortConfig p;
        const auto name = [&](const Field& v) {
            p.name = get_string(v);
            if (!is_port_name(p.name)) v.expected(kPortName);
            claim(v, p.name, seen, "a unique port name");
        };
        parse_map(item, {{"name", name, true}, {"device", into(p.device, get_string), true}});
        return p;
    });
}

// After ports and mode (table order), so each side can be checked here, with its line.
void parse_inline_pairs(const Field& f, Config& cfg) {
    std::map<std::string, int> paired;
    cfg.inline_pairs = get_list(f, [&](const Field& item) {
        if (!item.node.IsSequence() || item.node.size() != 2)
            item.expected("a pair of port names such as [wire0, wire1]");
        std::vector<Field> sides;
        for (const auto& v : item.node) {
            const Field& side = sides.emplace_back(item.item(sides.size(), v));
            const std::string name = get_string(side);
            if (std::none_of(cfg.ports.begin(), cfg.ports.end(),
                             [&](const PortConfig& p) { return p.name == name; }))
                side.expected("the name of a port listed under ports");
        }
        const std::string a = sides[0].node.Scalar(), b = sides[1].node.Scalar();
        if (a == b) item.fail(fmt::format("expected two different ports, got '{}' twice", a));
        claim(sides[0], a, paired, "a port that is in no other pair");
        claim(sides[1], b, paired, "a port that is in no other pair");
        return std::pair{a, b};
    });
    if (cfg.mode == Mode::tap && !cfg.inline_pairs.empty())
        f.fail("pairs are only used with 'mode: inline', but mode is 'tap'");
}

void parse_deployments(const Field& f, Config& cfg) {
    std::map<std::string, int> seen;
    cfg.deployments = get_list(f, [&](const Field& item) {
        Deployment d;
        const auto name = [&](const Field& v) {
            d.name = get_string(v);
            claim(v, d.name, seen, "a unique deployment name");
        };
        parse_map(item, {
            {"name", name, true},
            {"owner", into(d.owner, get_owner)},
            {"prefixes", into(d.prefixes, get_prefixes), true},
            {"thresholds", [&](const Field& v) {
                 auto overrides = parse_threshold_overrides(v.node, *v.file, v.path);
                 if (!overrides) throw Invalid{overrides.error().message};
                 d.thresholds = std::move(*overrides);
             }},
        });
        return d;
    });
}

void parse_detect(const Field& f, DetectConfig& d) {
    parse_map(f, {{"window", [&](const Field& v) {
                       const auto w = v.node.IsScalar() ? parse_duration(v.node.Scalar()) : std::nullopt;
                       // Windows below 100 ms cost the reporter a merge per worker
                       // that often; above a minute, floods are seen too late.
                       if (!w || *w < 100 * kNsPerMs || *w > 60 * kNsPerSec)
                           v.expected("a duration between 100ms and 60s");
                       d.window = *w;
                   }},
                   {"thresholds", into(d.thresholds, get_string)}});
}

// Durations of the incident policy: a deadline below a minute leaves no owner
// time to act; 0 is allowed only for max_extension (no extensions).
auto duration_in(Nanos lo, Nanos hi, std::string_view what) {
    return [lo, hi, what](const Field& v) {
        const auto d = v.node.IsScalar() ? parse_duration(v.node.Scalar()) : std::nullopt;
        if (!d || *d < lo || *d > hi) v.expected(what);
        return *d;
    };
}

constexpr UintRange kEvidencePackets{0, 100000};

void parse_policy(const Field& f, IncidentPolicy& p) {
    parse_map(f, {{"deadline", into(p.deadline, duration_in(kNsPerSec, kMaxTimeout,
                                                             "a duration from 1s to 30d such as 24h"))},
                  {"max_extension", into(p.max_extension, duration_in(0, kMaxTimeout,
                                                                       "a duration from 0 to 30d such as 72h"))},
                  {"quiet_period", into(p.quiet_period, duration_in(kNsPerSec, kMaxTimeout,
                                                                     "a duration from 1s to 30d such as 15m"))},
                  {"evidence_packets", into(p.evidence_packets, uint_in(kEvidencePackets))}});
}

void parse_enforcement(const Field& f, EnforcementConfig& e) {
    parse_map(f, {{"hook", [&](const Field& v) {
                       e.hook = get_string(v);
                       if (e.hook.front() != '/') v.expected("an absolute path");
                   }},
                  {"hook_timeout", into(e.hook_timeout, duration_in(kNsPerSec, 3600 * kNsPerSec,
                                                                    "a duration from 1s to 1h such as 30s"))}});
}

std::string get_smtp_url(const Field& f) {
    std::string url = get_string(f);
    if (!url.starts_with("smtp://") && !url.starts_with("smtps://"))
        f.expected("an SMTP URL such as smtp://127.0.0.1:25 or smtps://relay.example:465");
    return url;
}

void parse_notify(const Field& f, NotifyConfig& n) {
    parse_map(f, {{"smtp_url", into(n.smtp_url, get_smtp_url)},
                  {"from", into(n.from, get_owner)},
                  {"reply_to", into(n.reply_to, get_owner)}});
}

void parse_control(const Field& f, ControlConfig& c) {
    parse_map(f, {{"socket", into(c.socket, get_socket_path)},
                  {"group", into(c.group, get_string)}});
}

// "HOST:PORT" with HOST an IPv4 literal, a bracketed IPv6 literal or
// "localhost". Only a literal address: the listener must not depend on name
// resolution at start.
void get_listen(const Field& f, MetricsConfig& m) {
    const std::string text = get_string(f);
    const char* want = "HOST:PORT such as 127.0.0.1:9464 or [::1]:9464";
    std::string host;
    std::string_view port_text;
    if (text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') f.expected(want);
        host = text.substr(1, close - 1);
        port_text = std::string_view(text).substr(close + 2);
        const auto ip = IpAddress::parse(host);
        if (!ip || ip->is_v4()) f.fail(fmt::format("expected an IPv6 address inside [ ], got '{}'", host));
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) f.expected(want);
        host = text.substr(0, colon);
        port_text = std::string_view(text).substr(colon + 1);
        const auto ip = IpAddress::parse(host);
        if (host != "localhost" && (!ip || !ip->is_v4()))
            f.fail(fmt::format("expected an IPv4 address, [IPv6] or localhost before ':', got '{}'", host));
    }
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        f.fail(fmt::format("expected a port from 1 to 65535 after ':', got '{}'", port_text));
    m.host = host == "localhost" ? "127.0.0.1" : host;
    m.port = uint16_t(port);
}

void parse_metrics(const Field& f, MetricsConfig& m) {
    m.enabled = true;
    parse_map(f, {{"listen", [&](const Field& v) { get_listen(v, m); }}});
}

// A name that goes into NATS subjects and bucket names: no dots, spaces or wildcards.
std::string get_fleet_name(const Field& f) {
    std::string name = get_string(f);
    if (!is_port_name(name)) f.expected(std::string(kPortName));
    return name;
}

std::string get_nats_url(const Field& f) {
    std::string url = get_string(f);
    if (!url.starts_with("nats://") && !url.starts_with("tls://"))
        f.expected("a NATS server URL such as nats://127.0.0.1:4222");
    return url;
}

constexpr UintRange kReplicas{1, 5};
constexpr UintRange kBacklogMib{1, 1u << 20};

void parse_fleet(const Field& f, FleetConfig& fl) {
    fl.enabled = true;
    parse_map(f, {{"servers", [&](const Field& v) {
                       fl.servers = get_list(v, get_nats_url);
                       if (fl.servers.empty()) v.expected("at least one NATS server URL");
                   }, true},
                  {"site", into(fl.site, get_fleet_name)},
                  {"name", into(fl.name, get_fleet_name), true},
                  {"appliances", into(fl.appliances, [](const Field& v) {
                       std::map<std::string, int> seen;
                       return get_list(v, [&seen](const Field& item) {
                           std::string name = get_fleet_name(item);
                           claim(item, name, seen, "an appliance listed once");
                           return name;
                       });
                   })},
                  {"replicas", [&](const Field& v) {
                       fl.replicas = uint_in(kReplicas)(v);
                       if (fl.replicas % 2 == 0) v.expected("1, 3 or 5 (an odd number: a majority must agree)");
                   }},
                  {"backlog_mib", into(fl.backlog_mib, uint_in(kBacklogMib))},
                  {"lease", into(fl.lease, duration_in(kNsPerSec, 600 * kNsPerSec,
                                                       "a duration from 1s to 10m such as 3s"))},
                  {"appliance_timeout", into(fl.appliance_timeout,
                                             duration_in(kNsPerSec, 3600 * kNsPerSec,
                                                         "a duration from 1s to 1h such as 30s"))}});
}

void parse_rules(const Field& f, RulesConfig& r) {
    auto string_map = [](std::map<std::string, std::string>& out) {
        return [&out](const Field& v) {
            if (!v.node.IsMap()) v.expected("a map of variable names to values");
            std::map<std::string, int> seen;
            for (const auto& kv : v.node) {
                const Field key{v.file, kv.first, v.path, kv.first.Mark().line + 1};
                if (!kv.first.IsScalar() || kv.first.Scalar().empty()) key.expected("a variable name");
                const Field value = v.child(kv.first, kv.second);
                claim(value, kv.first.Scalar(), seen, "a variable defined once");
                out[kv.first.Scalar()] = get_string(value);
            }
        };
    };
    parse_map(f, {{"files", into(r.files, [](const Field& v) { return get_list(v, get_string); })},
                  {"classification", into(r.classification, get_string)},
                  {"threshold_file", into(r.threshold_file, get_string)},
                  {"address_vars", string_map(r.address_vars)},
                  {"port_vars", string_map(r.port_vars)}});
}

void parse_outputs(const Field& f, Outputs& o) {
    parse_map(f, {{"report", into(o.report, get_string)}, {"eve", into(o.eve, get_string)}});
}

Config parse_document(const YAML::Node& root, const std::string& name) {
    Config cfg;
    cfg.source = name;
    const Field top{&name, root, "", root.Mark().line >= 0 ? root.Mark().line + 1 : 1};
    if (!root.IsMap() && !root.IsNull()) top.expected("a map of settings at the top level");
    std::optional<Field> mode_at, notify_at;
    // A new section: one row here (in dependency order), its parser above, its
    // cross-key checks in validate(), its keys in docs/configuration.md.
    parse_map(top, {
        {"mode", [&](const Field& v) { cfg.mode = get_mode(v); mode_at = v; }},
        {"workers", into(cfg.workers, uint_in(kWorkers))},
        {"ports", [&](const Field& v) { parse_ports(v, cfg); }},
        {"inline_pairs", [&](const Field& v) { parse_inline_pairs(v, cfg); }},
        {"sizes", [&](const Field& v) { parse_sizes(v, cfg.sizes); }},
        {"flow_timeout", [&](const Field& v) { parse_flow_timeout(v, cfg.flow_timeout); }},
        {"outputs", [&](const Field& v) { parse_outputs(v, cfg.outputs); }},
        {"deployments", [&](const Field& v) { parse_deployments(v, cfg); }},
        {"control", [&](const Field& v) { parse_control(v, cfg.control); }},
        {"metrics", [&](const Field& v) { parse_metrics(v, cfg.metrics); }},
        {"rules", [&](const Field& v) { parse_rules(v, cfg.rules); }},
        {"detect", [&](const Field& v) { parse_detect(v, cfg.detect); }},
        {"notify", [&](const Field& v) { parse_notify(v, cfg.notify); notify_at = v; }},
        {"policy", [&](const Field& v) { parse_policy(v, cfg.policy); }},
        {"enforcement", [&](const Field& v) { parse_enforcement(v, cfg.enforcement); }},
        {"fleet", [&](const Field& v) { parse_fleet(v, cfg.fleet); }},
        {"state_dir", [&](const Field& v) {
             cfg.state_dir = get_string(v);
             cfg.state_dir_set = true;
         }},
        {"eal", into(cfg.eal, [](const Field& v) { return get_list(v, get_string); })},
    });
    if (cfg.mode == Mode::inline_ && cfg.inline_pairs.empty())
        mode_at->fail("'inline' needs at least one entry in inline_pairs");
    if (!cfg.notify.smtp_url.empty() && cfg.notify.from.empty())
        notify_at->fail("smtp_url needs 'from', the sender address");
    return cfg;
}

} // namespace

std::string MetricsConfig::listen() const {
    return host.find(':') == std::string::npos ? fmt::format("{}:{}", host, port) : fmt::format("[{}]:{}", host, port);
}

const char* mode_name(Mode m) {
    for (const auto& [name, mode] : kModes)
        if (mode == m) return name.data();
    return "?";
}

Result<Config> parse_config(std::string_view yaml, const std::string& name) {
    // YAML is Unicode; yaml-cpp passes other bytes through, into names and
    // paths that reports and eve lines (JSON) must print.
    if (const size_t bad = invalid_utf8_at(yaml); bad != std::string_view::npos) {
        const TextPosition at = position_of(yaml, bad);
        return make_error(fmt::format("{}:{}: invalid YAML: expected UTF-8 text, got the byte 0x{:02x} at column {}",
                                      name, at.line, static_cast<unsigned char>(yaml[bad]), at.column));
    }
    Config cfg;
    try {
        cfg = parse_document(YAML::Load(std::string(yaml)), name);
    } catch (const YAML::Exception& e) {
        if (e.mark.line < 0) return make_error(fmt::format("{}: invalid YAML: {}", name, e.msg));
        return make_error(fmt::format("{}:{}: invalid YAML: {}", name, e.mark.line + 1, e.msg));
    } catch (const Invalid& e) {
        return make_error(e.message);
    }
    if (auto ok = validate(cfg); !ok) return ok.error();
    return cfg;
}

Result<Config> load_config(const std::string& path) {
    std::FILE* fp = std::fopen(path.c_str(), "rb");
    if (!fp) return make_error(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    std::string text;
    char buf[16384];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) text.append(buf, n);
    const int err = std::ferror(fp) ? errno : 0;
    std::fclose(fp);
    if (err) return make_error(fmt::format("{}: cannot read: {}", path, std::strerror(err)));
    return parse_config(text, path);
}

Result<Deployment> parse_protect(std::string_view arg) {
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos)
        return make_error(
            fmt::format("--protect: expected NAME=PREFIX[,PREFIX...], got '{}'", arg));
    Deployment d{std::string(arg.substr(0, eq)), {}, {}, {}};
    if (d.name.empty())
        return make_error(fmt::format("--protect: expected a name before '=', got '{}'", arg));
    std::string_view rest = arg.substr(eq + 1);
    if (rest.empty())
        return make_error(
            fmt::format("--protect {}: expected at least one prefix after '='", d.name));
    while (true) {
        const auto comma = rest.find(',');
        const auto text = rest.substr(0, comma);
        auto p = Prefix::parse(text);
        if (!p)
            return make_error(
                fmt::format("--protect {}: {}", d.name, prefix_problem(text, p.error().message)));
        d.prefixes.push_back(*p);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return d;
}

Result<> validate(const Config& cfg) {
    const auto bad = [&](std::string_view key, std::string what) {
        const auto& file = cfg.source.empty() ? std::string("config") : cfg.source;
        return make_error(fmt::format("{}: {}: {}", file, key, what));
    };
    if (!in_range(cfg.workers, kWorkers))
        return bad("workers", fmt::format("expected {}, got {}", describe(kWorkers), cfg.workers));
    for (const auto& k : kSizeKeys)
        if (const uint32_t v = cfg.sizes.*k.member; !in_range(v, k.range))
            return bad(fmt::format("sizes.{}", k.name),
                       fmt::format("expected {}, got {}", describe(k.range), v));
    // A stream buffer holds the ACKed chunk being inspected and the bytes after it.
    if (cfg.sizes.stream_buffers && cfg.sizes.stream_buffer_size < 2 * uint64_t(cfg.sizes.stream_chunk))
        return bad("sizes.stream_buffer_size",
                   fmt::format("expected at least twice sizes.stream_chunk ({}), got {}",
                               2 * uint64_t(cfg.sizes.stream_chunk), cfg.sizes.stream_buffer_size));
    for (const auto& k : kTimeoutKeys)
        if (const Nanos d = cfg.flow_timeout.*k.member; d < kMinTimeout || d > kMaxTimeout)
            return bad(fmt::format("flow_timeout.{}", k.name),
                       fmt::format("expected {}, got {}", kTimeoutRange, format_duration(d)));

    if (cfg.policy.deadline < kNsPerSec || cfg.policy.deadline > kMaxTimeout)
        return bad("policy.deadline", fmt::format("expected a duration from 1s to 30d, got {}",
                                                  format_duration(cfg.policy.deadline)));
    if (cfg.policy.max_extension > kMaxTimeout)
        return bad("policy.max_extension", fmt::format("expected a duration from 0 to 30d, got {}",
                                                       format_duration(cfg.policy.max_extension)));
    if (cfg.policy.quiet_period < kNsPerSec || cfg.policy.quiet_period > kMaxTimeout)
        return bad("policy.quiet_period", fmt::format("expected a duration from 1s to 30d, got {}",
                                                      format_duration(cfg.policy.quiet_period)));
    if (!in_range(cfg.policy.evidence_packets, kEvidencePackets))
        return bad("policy.evidence_packets", fmt::format("expected {}, got {}",
                                                          describe(kEvidencePackets),
                                                          cfg.policy.evidence_packets));
    if (cfg.state_dir.empty()) return bad("state_dir", "expected a directory, got nothing");

    std::set<std::string_view> ports;
    for (const auto& p : cfg.ports) {
        if (!is_port_name(p.name))
            return bad("ports", fmt::format("expected {}, got '{}'", kPortName, p.name));
        if (!ports.insert(p.name).second)
            return bad("ports", fmt::format("port '{}' is defined twice", p.name));
        if (p.device.empty()) return bad("ports", fmt::format("port '{}' has no device", p.name));
    }
    std::set<std::string_view> paired;
    for (size_t i = 0; i < cfg.inline_pairs.size(); ++i) {
        const auto& [a, b] = cfg.inline_pairs[i];
        const std::string key = fmt::format("inline_pairs[{}]", i);
        if (a == b) return bad(key, fmt::format("expected two different ports, got '{}' twice", a));
        for (const std::string* side : {&a, &b}) {
            if (!ports.count(*side))
                return bad(key, fmt::format("port '{}' is not listed under ports", *side));
            if (!paired.insert(*side).second)
                return bad(key, fmt::format("port '{}' is in more than one pair", *side));
        }
    }
    if (cfg.mode == Mode::inline_ && cfg.inline_pairs.empty())
        return bad("mode", "'inline' needs at least one entry in inline_pairs");
    if (cfg.mode == Mode::tap && !cfg.inline_pairs.empty())
        return bad("inline_pairs", "pairs are only used with 'mode: inline', but mode is 'tap'");

    std::set<std::string_view> deployments;
    for (const auto& d : cfg.deployments) {
        if (d.name.empty()) return bad("deployments", "a deployment has no name");
        if (!deployments.insert(d.name).second)
            return bad("deployments", fmt::format("deployment '{}' is defined twice", d.name));
        if (d.prefixes.empty())
            return bad("deployments", fmt::format("deployment '{}' has no prefixes", d.name));
        if (!d.owner.empty() && d.owner.find('@') == std::string::npos)
            return bad("deployments", fmt::format("owner of '{}': expected an e-mail address, "
                                                  "got '{}'", d.name, d.owner));
    }
    if (!cfg.notify.smtp_url.empty() && cfg.notify.from.empty())
        return bad("notify", "smtp_url needs 'from', the sender address");
    return {};
}

} // namespace sg
