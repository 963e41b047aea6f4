#include "core/time.hpp"

#include <catch2/catch.hpp>

TEST_CASE("Durations parse with units and reject garbage") {
    using namespace sg;
    CHECK(parse_duration("30") == 30 * kNsPerSec);
    CHECK(parse_duration("500ms") == 500 * kNsPerMs);
    CHECK(parse_duration("15m") == 15 * 60 * kNsPerSec);
    CHECK(parse_duration("24h") == 24 * 3600 * kNsPerSec);
    CHECK(parse_duration("3d") == 3 * 86400 * kNsPerSec);
    CHECK_FALSE(parse_duration("h"));
    CHECK_FALSE(parse_duration("10 parsecs"));
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("300000000000d")); // would wrap around

    CHECK(format_duration(24 * 3600 * kNsPerSec) == "24h");
}

TEST_CASE("Timestamps are written the way eve.json writes them") {
    using namespace sg;
    CHECK(format_timestamp(0) == "1970-01-01T00:00:00.000000+0000");
    CHECK(format_timestamp(1'700'000'000 * kNsPerSec + 123'456'789) == "2023-11-14T22:13:20.123456+0000");
}
