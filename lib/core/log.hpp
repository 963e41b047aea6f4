#pragma once
// Control-side logging to stderr. Never call from a worker's packet path:
// workers count, the reporter and control thread format.
//
// Logging never throws: a line that stderr cannot take (a full disk under a
// redirected stderr, a closed pipe) is lost, and the caller goes on; the
// failure it was about to report is also counted where it happened.

#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace sg::log {

namespace detail {
inline void write_line(const char* prefix, const std::string& text) {
    std::string line = prefix;
    line += text;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}
} // namespace detail

template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    detail::write_line("safeguard: ", fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
    detail::write_line("safeguard: warning: ", fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    detail::write_line("safeguard: error: ", fmt::format(f, std::forward<Args>(args)...));
}

} // namespace sg::log
