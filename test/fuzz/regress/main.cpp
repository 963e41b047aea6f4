// Catch2 runner for unit-fuzz-regressions: the packet entry's flow table
// lives in EAL memory, and rte_eal_init can run only once per process, so
// the entry sets it up here, before Catch.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "fuzz_entries.hpp"

int main(int argc, char** argv) {
    if (!sg::fuzz::init_packet()) {
        std::fprintf(stderr, "unit-fuzz-regressions: cannot set up the packet path (EAL, rules)\n");
        return 2;
    }
    const int rc = Catch::Session().run(argc, argv);
    sg::fuzz::shutdown_packet();
    return rc;
}
