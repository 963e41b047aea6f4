#pragma once
// CommandTable: the control socket's commands, registered explicitly
// (name, help, handler), and the request/reply framing of one line:
//
//   {"command": "incidents show", "args": {"id": 3}}
//   -> {"ok": true, "result": {...}}   or   {"ok": false, "error": "..."}
//
// A handler gets its arguments as JSON and who is asking (the peer's
// credentials); it returns a result or an error for the operator. Malformed
// requests (not JSON, not an object, no command, args not an object, an
// unknown command, an argument of the wrong kind) are answered with an
// error and run nothing.
//
// Thread: registration on the control side before the server starts;
// handle() on the control thread (ControlServer). Handlers run there too:
// whatever they read or change that another thread owns must travel by
// message (Reporter::call for the incident workflow).

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "core/time.hpp"

namespace sg::control {

// The peer of a connection (SO_PEERCRED), as handlers see it.
struct Caller {
    uid_t uid = 0;
    gid_t gid = 0;
    pid_t pid = 0;
    std::string user;   // the account name, or "uid N" when it has none
};

// Reading a handler's arguments with errors that name the argument. Each
// getter fails (ArgError, turned into the reply's error by handle()) when
// the argument is present with the wrong kind, or absent when required.
class Args {
public:
    explicit Args(const nlohmann::json& j) : j_(j) {}
    bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
    std::optional<std::string> string(const char* key) const;
    std::string required_string(const char* key) const;
    std::optional<uint64_t> number(const char* key, uint64_t min = 0, uint64_t max = UINT64_MAX) const;
    uint64_t required_number(const char* key, uint64_t min = 0, uint64_t max = UINT64_MAX) const;
    bool flag(const char* key) const;                         // absent: false
    std::vector<std::string> strings(const char* key) const;  // a string or a list of strings
    // "30s", "15m", "24h", "7d" (core/time.hpp).
    std::optional<Nanos> duration(const char* key) const;
    const nlohmann::json& json() const { return j_; }

private:
    const nlohmann::json& j_;
};

// Thrown by Args and by handlers for a bad argument; never leaves handle().
struct ArgError {
    std::string message;
};

using CommandFn = std::function<Result<nlohmann::json>(const Args& args, const Caller& caller)>;

struct Command {
    std::string name;    // one or two words: "status", "rules reload"
    std::string help;    // one line
    CommandFn run;
};

class CommandTable {
public:
    // A name registered twice replaces nothing: the second add() is an
    // error (returned), so that two modules cannot both own a command.
    Result<> add(std::string name, std::string help, CommandFn fn);
    const Command* find(std::string_view name) const;
    const std::vector<Command>& commands() const { return commands_; }

    // One request line in, one reply object out. Never throws.
    nlohmann::json handle(std::string_view line, const Caller& caller) const;

private:
    std::vector<Command> commands_;   // in registration order (help lists them so)
};

nlohmann::json ok_reply(nlohmann::json result);
nlohmann::json error_reply(std::string message);

} // namespace sg::control
