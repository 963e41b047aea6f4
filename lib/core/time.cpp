#include "core/time.hpp"

#include <charconv>
#include <cstdint>
#include <ctime>

#include <fmt/format.h>

namespace sg {

std::optional<Nanos> parse_duration(std::string_view text) {
    uint64_t n = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc{} || ptr == text.data()) return std::nullopt;
    const std::string_view unit(ptr, size_t(end - ptr));
    Nanos scale = 0;
    if (unit.empty() || unit == "s") scale = kNsPerSec;
    else if (unit == "ms") scale = kNsPerMs;
    else if (unit == "us") scale = kNsPerUs;
    else if (unit == "m") scale = 60 * kNsPerSec;
    else if (unit == "h") scale = 3600 * kNsPerSec;
    else if (unit == "d") scale = 86400 * kNsPerSec;
    else return std::nullopt;
    if (n > UINT64_MAX / scale) return std::nullopt; // would wrap into a plausible value
    return n * scale;
}

std::string format_duration(Nanos d) {
    if (d % (3600 * kNsPerSec) == 0 && d) return fmt::format("{}h", d / (3600 * kNsPerSec));
    if (d % (60 * kNsPerSec) == 0 && d) return fmt::format("{}m", d / (60 * kNsPerSec));
    if (d % kNsPerSec == 0) return fmt::format("{}s", d / kNsPerSec);
    if (d % kNsPerMs == 0) return fmt::format("{}ms", d / kNsPerMs);
    return fmt::format("{}us", d / kNsPerUs);
}

std::string format_timestamp(Nanos t) {
    const time_t secs = time_t(t / kNsPerSec);
    struct tm tm {};
    gmtime_r(&secs, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:06d}+0000", buf, (t % kNsPerSec) / kNsPerUs);
}

} // namespace sg
