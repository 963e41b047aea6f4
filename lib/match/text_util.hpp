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
// Calls fn(line, first_line_number) for each logical line of a rules-style
// file: blank lines and '#' comments skipped, a trailing backslash continues
// the line (the pieces joined with `join`).
template <class Fn>
void for_each_logical_line(std::string_view text, std::string_view join, Fn&& fn) {
    std::string pending;
    unsigned start = 0;
    unsigned line_no = 0;
    for (const auto raw : split_lines(text)) {
        ++line_no;
        if (pending.empty()) {
            const auto t = trim(raw);
            if (t.empty() || t.front() == '#') continue;
            start = line_no;
        }
        auto line = raw;
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
            line.remove_suffix(1);
        if (!line.empty() && line.back() == '\\') {
            pending.append(line.substr(0, line.size() - 1));
            pending.append(join);
            continue;
        }
        pending.append(line);
        fn(std::string_view(pending), start);
        pending.clear();
    }
    if (!pending.empty()) fn(std::string_view(pending), start);
}

// edit_distance() lives in core/text.hpp.
using sg::edit_distance;

} // namespace sg::rules
