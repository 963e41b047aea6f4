#pragma once
// Packet time: nanoseconds since the Unix epoch. In replay it comes from the
// capture's record timestamps, live it comes from the TSC; either way every
// timeout and window in Safeguard is measured in it, never in wall time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sg {

using Nanos = uint64_t;

inline constexpr Nanos kNsPerUs = 1'000ULL;
inline constexpr Nanos kNsPerMs = 1'000'000ULL;
inline constexpr Nanos kNsPerSec = 1'000'000'000ULL;

// "500ms", "30s", "15m", "24h", "3d"; a bare number means seconds.
std::optional<Nanos> parse_duration(std::string_view text);
std::string format_duration(Nanos d);
// UTC with microseconds, the way eve.json writes it: 2024-01-02T03:04:05.678901+0000
std::string format_timestamp(Nanos t);

} // namespace sg
