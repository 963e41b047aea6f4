#pragma once
// Control-side logging to stderr. Never call from a worker's packet path:
// workers count, the reporter and control thread format.

#include <cstdio>

#include <fmt/format.h>

namespace sg::log {

template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    fmt::print(stderr, "safeguard: {}\n", fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
    fmt::print(stderr, "safeguard: warning: {}\n", fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    fmt::print(stderr, "safeguard: error: {}\n", fmt::format(f, std::forward<Args>(args)...));
}

} // namespace sg::log
