// The journal's disk refuses writes (disk full): the manager keeps every
// change in memory, retries with a snapshot at each commit and tick, and
// the journal has everything again once a retry gets through.

#include <filesystem>

#include "incident/journal.hpp"
#include "incident/manager.hpp"
#include "incident_test_util.hpp"
#include "../disk_full.hpp"
#include "../temp_dir.hpp"

using namespace sg;
using namespace sg::test;
using S = IncidentState;

TEST_CASE("Disk full: changes are held in memory, retried at each tick, and written once it clears") {
    TempDir dir;
    const std::string state = (dir.path / "state").string();
    auto m = manager(options(state));
    REQUIRE(m->on_attribution(outbound(1), kT0).ok());
    REQUIRE(m->journal_behind() == 0);
    const uint64_t before = m->journal_bytes();

    IncidentId id = 0;
    {
        DiskFull full;
        // The change takes effect, in memory; the call does not fail.
        auto opened = m->on_attribution(inbound(2), kT0 + kSec);
        REQUIRE(opened.ok());
        id = *opened;
        CHECK(m->find(id) != nullptr);
        CHECK(m->journal_behind() == 1);
        CHECK(m->journal_errors() == 1);
        CHECK(m->journal_error().find("File too large") != std::string::npos);
        CHECK(m->journal_error().find("incidents.journal") != std::string::npos);
        // The journal holds no half record.
        CHECK(std::filesystem::file_size(std::filesystem::path(state) / Journal::kFileName) == before);

        // Every later commit and every tick tries a snapshot, and fails again.
        REQUIRE(m->mark_notified(id, Role::target, "db-team@example.com", kT0 + 2 * kSec).ok());
        CHECK(m->journal_behind() == 2);
        CHECK(m->journal_errors() == 2);
        REQUIRE(m->tick(kT0 + 3 * kSec, std::set<IncidentKey>{}).ok());
        CHECK(m->journal_behind() == 2);  // a tick that changes nothing adds nothing
        CHECK(m->journal_errors() == 3);
        CHECK_FALSE(m->sync_journal().ok());
        CHECK(m->journal_errors() == 4);
        // No temp file left behind by the failed snapshots.
        for (const auto& e : std::filesystem::directory_iterator(state))
            CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
    }

    // Space again: the next tick writes the whole state.
    REQUIRE(m->tick(kT0 + 4 * kSec, std::set<IncidentKey>{}).ok());
    CHECK(m->journal_behind() == 0);
    CHECK(m->journal_error().empty());
    CHECK(m->journal_errors() == 4);
    CHECK(m->sync_journal().ok());
    // Appends go on after the snapshot.
    REQUIRE(m->acknowledge(id, "db-team@example.com", kT0 + 5 * kSec).ok());
    CHECK(m->journal_behind() == 0);

    // A restart sees exactly the state in memory: nothing was lost.
    auto again = manager(options(state));
    CHECK(again->recovery_warning().empty());
    CHECK(state_of(*again) == state_of(*m));
    CHECK(again->find(id)->acknowledged_by == "db-team@example.com");
}

TEST_CASE("Disk full: a restart while behind knows only what reached the journal") {
    TempDir dir;
    const std::string state = (dir.path / "state").string();
    {
        auto m = manager(options(state));
        REQUIRE(m->on_attribution(outbound(1), kT0).ok());
        DiskFull full;
        REQUIRE(m->on_attribution(inbound(2), kT0 + kSec).ok());
        CHECK(m->journal_behind() == 1);
        CHECK(m->incidents().size() == 2);
        auto synced = m->sync_journal();
        REQUIRE_FALSE(synced.ok());
        CHECK(synced.error().message.find("1 changes not written") != std::string::npos);
    }
    // The journal is whole (a prefix of what happened), not damaged.
    auto m = manager(options(state));
    CHECK(m->recovery_warning().empty());
    CHECK(m->incidents().size() == 1);
}

TEST_CASE("Disk full at the first write of a new state directory: open fails, naming the path") {
    TempDir dir;
    const std::string state = (dir.path / "state").string();
    DiskFull full;
    auto m = IncidentManager::open(options(state));
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message.find(state) != std::string::npos);
    CHECK(m.error().message.find("File too large") != std::string::npos);
}
