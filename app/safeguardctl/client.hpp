#pragma once
// The control socket's client side: one connection, one request line, one
// reply line (lib/control/server.hpp is the other end).

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace sg::ctl {

// Exit codes of safeguardctl (docs/operations.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;      // the daemon answered with an error
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitUnreachable = 3;  // no daemon on the socket
inline constexpr int kExitPermission = 4;   // not allowed to use the socket
inline constexpr int kExitProtocol = 5;     // no reply, or not one we understand

struct Reply {
    int code = kExitOk;          // kExitOk with a reply; otherwise why there is none
    nlohmann::json body;         // the daemon's reply object
    std::string problem;         // for the operator, when there is no usable reply
};

// Sends {"command": command, "args": args} and waits for the reply.
Reply request(const std::string& socket, const std::string& command, const nlohmann::json& args,
              std::chrono::milliseconds timeout);

} // namespace sg::ctl
