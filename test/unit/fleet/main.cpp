// Catch2 runner for unit-fleet: the summaries under test come from real
// counting (detect_harness.hpp), whose Ownership, WindowCounter rings and
// FlowTable live in EAL memory, and rte_eal_init can run only once per
// process, so it runs here before Catch.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include <rte_eal.h>
#include <rte_errno.h>

int main(int argc, char** argv) {
    // No hugepages, NIC or shared runtime directory on build machines; one
    // lcore. The ownership table takes 64 MiB, a sensor's flow table a few.
    char arg0[] = "unit-fleet", no_huge[] = "--no-huge", no_pci[] = "--no-pci", no_shconf[] = "--no-shconf",
         no_telemetry[] = "--no-telemetry", mem_opt[] = "-m", mem[] = "768", log[] = "--log-level=error",
         lcore_opt[] = "-l", lcore[] = "0";
    char* eal_argv[] = {arg0, no_huge, no_pci, no_shconf, no_telemetry, mem_opt, mem, log, lcore_opt, lcore};
    const int eal_argc = int(sizeof eal_argv / sizeof eal_argv[0]);
    if (rte_eal_init(eal_argc, eal_argv) < 0) {
        std::fprintf(stderr, "unit-fleet: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
        return 2;
    }
    const int rc = Catch::Session().run(argc, argv);
    rte_eal_cleanup();
    return rc;
}
