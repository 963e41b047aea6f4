#pragma once
// Readable output of each command's result: tables and "key: value" lines
// for people. Scripts use --json, which prints the reply as it came.

#include <string>

#include <nlohmann/json.hpp>

namespace sg::ctl {

// The text for `command`'s result (a generic rendering for commands without
// a layout of their own).
std::string format_result(const std::string& command, const nlohmann::json& result);

} // namespace sg::ctl
