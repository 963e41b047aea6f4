#include "incident/journal.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../temp_dir.hpp"
#include "incident_test_util.hpp"

using namespace sg;
using namespace sg::test;
namespace fs = std::filesystem;

namespace {

void write_bytes(const fs::path& p, const std::string& data) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
}

fs::path journal_in(const TempDir& dir) { return dir.path / Journal::kFileName; }

std::vector<nlohmann::json> replay(const std::string& dir, Result<std::unique_ptr<Journal>>* out = nullptr) {
    std::vector<nlohmann::json> got;
    auto j = Journal::open(dir, [&](const nlohmann::json& r) -> Result<> {
        got.push_back(r);
        return {};
    });
    INFO((j.ok() ? "" : j.error().message));
    REQUIRE(j.ok());
    if (out) *out = std::move(j);
    return got;
}

} // namespace

TEST_CASE("Journal: versioned header, length + CRC framed records, replayed in order") {
    TempDir dir;
    {
        auto j = Journal::open(dir.path.string(), [](const nlohmann::json&) -> Result<> { return {}; });
        REQUIRE(j.ok());
        CHECK((*j)->size() == Journal::kHeaderSize);
        REQUIRE((*j)->append({{"n", 1}}).ok());
        REQUIRE((*j)->append({{"n", 2}}).ok());
    }
    const std::string bytes = read_file(journal_in(dir));
    CHECK(bytes.substr(0, 8) == "SGINCJNL");
    CHECK(bytes[8] == 1);  // version 1, little-endian
    CHECK(bytes == journal_header() + journal_record({{"n", 1}}) + journal_record({{"n", 2}}));
    const auto got = replay(dir.path.string());
    REQUIRE(got.size() == 2);
    CHECK(got[1]["n"] == 2);
}

TEST_CASE("Journal: a torn tail is cut off with a warning, and appends continue after it") {
    TempDir dir;
    { replay(dir.path.string()); }
    const std::string good = journal_header() + journal_record({{"n", 1}});
    const std::string torn = journal_record({{"n", 2}}).substr(0, 11);
    write_bytes(journal_in(dir), good + torn);

    Result<std::unique_ptr<Journal>> j = make_error("");
    auto got = replay(dir.path.string(), &j);
    CHECK(got.size() == 1);
    CHECK_THAT((*j)->recovery().warning, Catch::Contains("torn record") && Catch::Contains("dropped the last 11 bytes"));
    CHECK((*j)->recovery().dropped_bytes == 11);
    CHECK(read_file(journal_in(dir)) == good);
    REQUIRE((*j)->append({{"n", 3}}).ok());
    j = make_error("");
    got = replay(dir.path.string());
    REQUIRE(got.size() == 2);
    CHECK(got[1]["n"] == 3);
}

TEST_CASE("Journal: a corrupt record ends the replay there") {
    TempDir dir;
    { replay(dir.path.string()); }
    std::string second = journal_record({{"n", 2}});
    second[10] ^= 0x20;
    write_bytes(journal_in(dir), journal_header() + journal_record({{"n", 1}}) + second +
                                     journal_record({{"n", 3}}));
    Result<std::unique_ptr<Journal>> j = make_error("");
    CHECK(replay(dir.path.string(), &j).size() == 1);
    CHECK_THAT((*j)->recovery().warning, Catch::Contains("CRC mismatch"));
}

TEST_CASE("Journal: another file or another version is refused, not cut") {
    TempDir dir;
    const auto apply = [](const nlohmann::json&) -> Result<> { return {}; };
    write_bytes(journal_in(dir), "hello, this is not a journal");
    auto j = Journal::open(dir.path.string(), apply);
    REQUIRE_FALSE(j.ok());
    CHECK_THAT(j.error().message, Catch::Contains("not a Safeguard incident journal"));
    CHECK(read_file(journal_in(dir)) == "hello, this is not a journal");

    std::string v2 = journal_header();
    v2[8] = 2;
    write_bytes(journal_in(dir), v2);
    j = Journal::open(dir.path.string(), apply);
    REQUIRE_FALSE(j.ok());
    CHECK_THAT(j.error().message, Catch::Contains("journal version 2, this Safeguard reads version 1"));
}

TEST_CASE("Restart: incidents, exceptions, deadlines and the outbox come back") {
    TempDir dir;
    nlohmann::json before;
    Nanos deadline = 0;
    {
        auto m = manager(options(dir.path.string()));
        REQUIRE(m->on_attribution(outbound(1), kT0).ok());
        REQUIRE(m->on_attribution(inbound(2), kT0).ok());
        REQUIRE(m->on_attribution(attribution(3, "bruteforce", {"203.0.113.5", kWeb}, {"198.51.100.7", kDb}), kT0).ok());
        REQUIRE(m->mark_notified(1, Role::source, "web-team@example.com", kT0 + kMin).ok());
        REQUIRE(m->mark_notified(3, Role::target, "db-team@example.com", kT0 + kMin).ok());
        REQUIRE(m->extend(1, 2 * kHour, "patching", "owner", kT0 + kHour).ok());
        REQUIRE(m->add_exception({"db", "port_scan", {}, {}, {}}, "scanner", kT0 + 48 * kHour, "op", kT0).ok());
        REQUIRE(m->acknowledge(2, "db-team@example.com", kT0 + kHour).ok());
        before = state_of(*m);
        deadline = *m->find(1)->deadline;
    }
    auto m = manager(options(dir.path.string()));
    CHECK(m->recovery_warning().empty());
    CHECK(state_of(*m) == before);
    // Sent messages are not offered again; the rest are, once each.
    const auto pending = m->pending_notifications();
    REQUIRE(pending.size() == 2);
    CHECK(pending[0].incident == 2);
    CHECK(pending[1].incident == 3);
    CHECK(pending[1].role == Role::source);
    // New ids continue after the old ones.
    CHECK(*m->on_attribution(inbound(9, "9.9.9.9"), kT0 + 2 * kHour) == 4);
    // The deadline still fires.
    REQUIRE(m->on_attribution(outbound(1), deadline).ok());
    REQUIRE(m->tick(deadline + kSec, all).ok());
    CHECK(m->find(1)->state == IncidentState::deactivated);
    CHECK(m->deactivated_deployments() == std::set<std::string>{"web"});
}

TEST_CASE("Compaction rewrites the journal as a snapshot without losing anything") {
    TempDir dir;
    auto o = options(dir.path.string());
    o.compact_bytes = 32 * 1024;
    nlohmann::json before;
    uint64_t written = 0;
    {
        auto m = manager(o);
        for (uint64_t i = 1; i <= 400; ++i) {
            const uint64_t size = m->journal_bytes();
            REQUIRE(m->on_attribution(inbound(i % 7 + 1, i % 2 ? "8.8.4.4" : "9.9.9.9"), kT0 + i * kSec).ok());
            written += m->journal_bytes() > size ? m->journal_bytes() - size : 0;
        }
        CHECK(m->journal_bytes() < o.compact_bytes + 4096);
        before = state_of(*m);
    }
    CHECK(written > 4 * o.compact_bytes / 2);
    CHECK_FALSE(fs::exists(journal_in(dir).string() + ".tmp"));
    auto m = manager(o);
    CHECK(state_of(*m) == before);
    REQUIRE(m->compact().ok());
    auto again = manager(o);
    CHECK(state_of(*again) == before);
}
