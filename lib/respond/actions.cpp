#include "respond/actions.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "incident/incident_json.hpp"

namespace sg::respond {

namespace {

struct Bad {
    std::string message;
};

int line_of(const YAML::Node& n, int fallback) { return n.Mark().line >= 0 ? n.Mark().line + 1 : fallback; }

const std::set<std::string> kActions = {"exception", "remove_exception", "extend", "ack",
                                        "resolve", "deactivate", "reactivate"};

} // namespace

Result<std::vector<ScriptedAction>> parse_actions(const std::string& text, const std::string& name) {
    std::vector<ScriptedAction> out;
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        return make_error(fmt::format("{}:{}: {}", name, e.mark.line + 1, e.msg));
    }
    if (root.IsNull()) return out;
    if (!root.IsSequence()) return make_error(fmt::format("{}:{}: expected a list of actions", name, line_of(root, 1)));
    try {
        for (size_t i = 0; i < root.size(); ++i) {
            const YAML::Node item = root[i];
            const int line = line_of(item, 1);
            auto fail = [&](const YAML::Node& at, const std::string& what) {
                throw Bad{fmt::format("{}:{}: actions[{}]: {}", name, line_of(at, line), i, what)};
            };
            if (!item.IsMap()) fail(item, "expected a map with 'at' and 'do'");
            ScriptedAction a;
            a.line = line;
            std::set<std::string> allowed = {"at", "do", "who", "reason"};
            auto scalar = [&](const char* key, bool required) -> std::optional<std::string> {
                const YAML::Node v = item[key];
                if (!v) {
                    if (required) fail(item, fmt::format("'{}' is required", key));
                    return std::nullopt;
                }
                if (!v.IsScalar()) fail(v, fmt::format("{}: expected a value", key));
                return v.Scalar();
            };
            auto duration = [&](const char* key, bool required) -> Nanos {
                auto text = scalar(key, required);
                if (!text) return 0;
                auto d = parse_duration(*text);
                if (!d) fail(item[key], fmt::format("{}: expected a duration such as 30s, 15m, 24h or 7d, got '{}'", key, *text));
                return *d;
            };
            auto number = [&](const char* key) -> uint64_t {
                auto text = scalar(key, true);
                uint64_t v = 0;
                const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
                if (ec != std::errc() || p != text->data() + text->size() || v == 0)
                    fail(item[key], fmt::format("{}: expected a positive number, got '{}'", key, *text));
                return v;
            };
            a.at = duration("at", true);
            a.action = *scalar("do", true);
            if (!kActions.count(a.action)) {
                std::string names;
                for (const auto& n : kActions) names += (names.empty() ? "" : ", ") + n;
                fail(item["do"], fmt::format("do: expected one of {}, got '{}'", names, a.action));
            }
            a.who = scalar("who", false).value_or("operator");
            a.reason = scalar("reason", false).value_or("");
            if (a.action == "exception") {
                allowed.insert({"deployment", "type", "direction", "peer", "port", "for"});
                a.scope.deployment = *scalar("deployment", true);
                a.scope.type = scalar("type", false);
                if (auto d = scalar("direction", false)) {
                    a.scope.direction = parse_direction(*d);
                    if (!a.scope.direction)
                        fail(item["direction"], fmt::format("direction: expected inbound, outbound or internal, got '{}'", *d));
                }
                if (auto p = scalar("peer", false)) {
                    auto prefix = Prefix::parse(*p);
                    if (!prefix) fail(item["peer"], fmt::format("peer: {}", prefix.error().message));
                    a.scope.peer = *prefix;
                }
                if (item["port"]) {
                    const uint64_t port = number("port");
                    if (port > 65535) fail(item["port"], fmt::format("port: expected 1-65535, got {}", port));
                    a.scope.port = uint16_t(port);
                }
                a.duration = duration("for", true);
                if (a.reason.empty()) fail(item, "an exception needs a 'reason' (the normal pattern it describes)");
            } else if (a.action == "remove_exception") {
                allowed.insert("exception");
                a.exception = number("exception");
            } else {
                allowed.insert("incident");
                a.incident = number("incident");
                if (a.action == "extend") {
                    allowed.insert("by");
                    a.duration = duration("by", true);
                }
            }
            for (const auto& kv : item) {
                const std::string key = kv.first.Scalar();
                if (!allowed.count(key)) fail(kv.first, fmt::format("'{}' is not a field of a '{}' action", key, a.action));
            }
            out.push_back(std::move(a));
        }
    } catch (const Bad& b) {
        return make_error(b.message);
    }
    std::stable_sort(out.begin(), out.end(), [](const ScriptedAction& x, const ScriptedAction& y) { return x.at < y.at; });
    return out;
}

Result<std::vector<ScriptedAction>> load_actions(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(fmt::format("{}: cannot read the actions file", path));
    std::stringstream text;
    text << in.rdbuf();
    return parse_actions(text.str(), path);
}

} // namespace sg::respond
