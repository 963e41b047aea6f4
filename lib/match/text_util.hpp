#pragma once

#include "core/text.hpp"
// Small text helpers shared by the rule parser's files. Internal to lib/match.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::rules {

std::string_view trim(std::string_view s);
// Splits on every `sep`; keeps empty fields.
std::vector<std::string_view> split(std::string_view s, char sep);
// Lines without their "\n" or "\r\n".
std::vector<std::string_view> split_lines(std::string_view text);
std::string to_lower(std::string_view s);

// A decimal number (or "0x" hex when `hex` is set) within [lo, hi], and
// nothing else; nullopt otherwise.
std::optional<uint64_t> parse_uint(std::string_view s, uint64_t lo, uint64_t hi, bool hex = false);
std::optional<int64_t> parse_int(std::string_view s, int64_t lo, int64_t hi);
// edit_distance() lives in core/text.hpp.
using sg::edit_distance;

} // namespace sg::rules
