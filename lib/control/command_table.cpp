#include "control/command_table.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace sg::control {

namespace {

const char* kind_of(const nlohmann::json& v) {
    switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "a list";
    case nlohmann::json::value_t::object: return "an object";
    default: return "a number";
    }
}

} // namespace

std::optional<std::string> Args::string(const char* key) const {
    if (!has(key)) return std::nullopt;
    const auto& v = j_[key];
    if (!v.is_string()) throw ArgError{fmt::format("argument '{}': expected a string, got {}", key, kind_of(v))};
    return v.get<std::string>();
}

std::string Args::required_string(const char* key) const {
    auto v = string(key);
    if (!v || v->empty()) throw ArgError{fmt::format("argument '{}' is required", key)};
    return *v;
}

std::optional<uint64_t> Args::number(const char* key, uint64_t min, uint64_t max) const {
    if (!has(key)) return std::nullopt;
    const auto& v = j_[key];
    uint64_t n = 0;
    if (v.is_number_unsigned()) {
        n = v.get<uint64_t>();
    } else if (v.is_number_integer() && v.get<int64_t>() >= 0) {
        n = uint64_t(v.get<int64_t>());
    } else if (v.is_string()) {
        // The CLI may pass what the user typed ("7").
        const std::string s = v.get<std::string>();
        if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) || s.size() > 19)
            throw ArgError{fmt::format("argument '{}': expected a whole number, got '{}'", key, s)};
        n = std::stoull(s);
    } else {
        throw ArgError{fmt::format("argument '{}': expected a whole number, got {}", key, kind_of(v))};
    }
    if (n < min || n > max)
        throw ArgError{fmt::format("argument '{}': expected {} to {}, got {}", key, min, max, n)};
    return n;
}

uint64_t Args::required_number(const char* key, uint64_t min, uint64_t max) const {
    auto v = number(key, min, max);
    if (!v) throw ArgError{fmt::format("argument '{}' is required", key)};
    return *v;
}

bool Args::flag(const char* key) const {
    if (!has(key)) return false;
    const auto& v = j_[key];
    if (!v.is_boolean()) throw ArgError{fmt::format("argument '{}': expected true or false, got {}", key, kind_of(v))};
    return v.get<bool>();
}

std::vector<std::string> Args::strings(const char* key) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    const auto& v = j_[key];
    if (v.is_string()) {
        out.push_back(v.get<std::string>());
        return out;
    }
    if (!v.is_array()) throw ArgError{fmt::format("argument '{}': expected a string or a list of strings, got {}", key, kind_of(v))};
    for (const auto& item : v) {
        if (!item.is_string())
            throw ArgError{fmt::format("argument '{}': expected a list of strings, got {} in it", key, kind_of(item))};
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::optional<Nanos> Args::duration(const char* key) const {
    auto text = string(key);
    if (!text) return std::nullopt;
    auto d = parse_duration(*text);
    if (!d || *d <= 0)
        throw ArgError{fmt::format("argument '{}': expected a duration such as 30m, 24h or 30d, got '{}'", key, *text)};
    return *d;
}

Result<> CommandTable::add(std::string name, std::string help, CommandFn fn) {
    if (name.empty() || name == "help") return make_error(fmt::format("control: '{}' is not a command name", name));
    if (find(name)) return make_error(fmt::format("control: command '{}' registered twice", name));
    commands_.push_back({std::move(name), std::move(help), std::move(fn)});
    return {};
}

const Command* CommandTable::find(std::string_view name) const {
    for (const Command& c : commands_)
        if (c.name == name) return &c;
    return nullptr;
}

nlohmann::json ok_reply(nlohmann::json result) { return {{"ok", true}, {"result", std::move(result)}}; }

nlohmann::json error_reply(std::string message) { return {{"ok", false}, {"error", std::move(message)}}; }

nlohmann::json CommandTable::handle(std::string_view line, const Caller& caller) const {
    const nlohmann::json request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) return error_reply("malformed request: not JSON (expected {\"command\": ..., \"args\": {...}})");
    if (!request.is_object()) return error_reply(fmt::format("malformed request: expected an object, got {}", kind_of(request)));
    for (const auto& [key, value] : request.items())
        if (key != "command" && key != "args")
            return error_reply(fmt::format("malformed request: unknown field '{}' (expected command, args)", key));
    if (!request.contains("command") || !request["command"].is_string())
        return error_reply("malformed request: 'command' must be a string");
    const std::string name = request["command"].get<std::string>();
    static const nlohmann::json kNoArgs = nlohmann::json::object();
    const nlohmann::json& args = request.contains("args") && !request["args"].is_null() ? request["args"] : kNoArgs;
    if (!args.is_object()) return error_reply(fmt::format("malformed request: 'args' must be an object, got {}", kind_of(args)));

    if (name == "help") {
        nlohmann::json list = nlohmann::json::array();
        for (const Command& c : commands_) list.push_back({{"command", c.name}, {"help", c.help}});
        return ok_reply(std::move(list));
    }
    const Command* command = find(name);
    if (!command) {
        std::string names;
        for (const Command& c : commands_) names += (names.empty() ? "" : ", ") + c.name;
        return error_reply(fmt::format("unknown command '{}' (known: help, {})", name, names));
    }
    try {
        Result<nlohmann::json> r = command->run(Args(args), caller);
        if (!r) return error_reply(r.error().message);
        return ok_reply(std::move(*r));
    } catch (const ArgError& e) {
        return error_reply(fmt::format("{}: {}", name, e.message));
    } catch (const nlohmann::json::exception& e) {
        return error_reply(fmt::format("{}: {}", name, e.what()));
    } catch (const std::exception& e) {
        return error_reply(fmt::format("{}: failed: {}", name, e.what()));
    }
}

} // namespace sg::control
