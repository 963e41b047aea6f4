#pragma once
// Small helpers the fuzz entries share.

#include <algorithm>
#include <string_view>

namespace sg::fuzz {

inline unsigned line_count(std::string_view text) {
    return unsigned(std::count(text.begin(), text.end(), '\n')) + 1;
}

// Whether `message` starts with "NAME:LINE: " with 1 <= LINE <= max_line:
// the form every error about a file must have (conventions: "a clear message
// naming the file, line and what was expected").
inline bool names_a_line(std::string_view message, std::string_view name, unsigned max_line) {
    if (!message.starts_with(name) || message.size() <= name.size() || message[name.size()] != ':') return false;
    message.remove_prefix(name.size() + 1);
    unsigned line = 0;
    size_t digits = 0;
    while (digits < message.size() && digits < 9 && message[digits] >= '0' && message[digits] <= '9')
        line = line * 10 + unsigned(message[digits++] - '0');
    return digits > 0 && line >= 1 && line <= max_line && message.substr(digits).starts_with(": ");
}

} // namespace sg::fuzz
