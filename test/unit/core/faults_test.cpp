// SAFEGUARD_FAULTS: what the fault tests may inject, and the errors a
// mistyped value gets (it is read at start, like the configuration).

#include "core/faults.hpp"

#include <catch2/catch.hpp>

using sg::parse_faults;

TEST_CASE("faults: none, one or both") {
    CHECK_FALSE(parse_faults("")->any());
    const auto f = parse_faults("reporter_stall=8s,mempool_exhaust=1000");
    REQUIRE(f.ok());
    CHECK(f->reporter_stall == std::chrono::seconds(8));
    CHECK(f->mempool_exhaust == 1000);
    CHECK(f->describe() == "reporter_stall=8000ms, mempool_exhaust=1000");
    CHECK(parse_faults("reporter_stall=250ms")->reporter_stall == std::chrono::milliseconds(250));
}

TEST_CASE("faults: mistakes are errors, not ignored") {
    CHECK(parse_faults("reporter_stal=8s").error().message ==
          "unknown fault 'reporter_stal' (reporter_stall, mempool_exhaust)");
    CHECK(parse_faults("reporter_stall").error().message == "expected NAME=VALUE, got 'reporter_stall'");
    CHECK(parse_faults("reporter_stall=soon").error().message ==
          "reporter_stall: expected a duration such as 8s or 500ms, got 'soon'");
    CHECK(parse_faults("mempool_exhaust=-1").error().message ==
          "mempool_exhaust: expected a number of packets above 0, got '-1'");
    CHECK_FALSE(parse_faults("mempool_exhaust=0").ok());
}
