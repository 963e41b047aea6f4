// Durability under crashes: whatever byte a write stops at (or is damaged
// at), a restart recovers exactly the state after some prefix of the
// committed calls, and a real writer killed with SIGKILL loses nothing it
// had committed.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "../temp_dir.hpp"
#include "incident_test_util.hpp"
#include "incident/journal.hpp"

using namespace sg;
using namespace sg::test;
namespace fs = std::filesystem;

namespace {

// Step `i` of a deterministic history touching every kind of change. Refused
// calls are part of it too: they must leave no trace.
void step(IncidentManager& m, uint64_t i) {
    const Nanos now = kT0 + i * kMin;
    static const char* kFrom[] = {"8.8.4.4", "9.9.9.9", "1.1.1.1"};
    switch (i % 9) {
    case 0: (void)m.on_attribution(outbound(i), now); break;
    case 1: (void)m.on_attribution(inbound(i, kFrom[i / 9 % 3]), now); break;
    case 2:
        (void)m.on_attribution(
            attribution(i, "port_scan", {"203.0.113.5", kWeb}, {"198.51.100.7", kDb}), now);
        break;
    case 3:
        for (const auto& n : m.pending_notifications()) {
            (void)m.mark_notified(n.incident, n.role, n.recipient, now);
            break;  // one delivery per step
        }
        break;
    case 4:
        for (const auto& [id, inc] : m.incidents())
            if (inc.state == IncidentState::deadline_set || inc.state == IncidentState::extended) {
                (void)m.extend(id, kHour, "patching", "owner", now);
                break;
            }
        break;
    case 5: (void)m.acknowledge(i / 9 + 1, "owner", now); break;
    case 6:
        if (i % 4 == 2)
            (void)m.add_exception({"db", "bruteforce", {}, {}, {}}, "audit", now + (i % 8 == 2 ? kHour : 48 * kHour), "op", now);
        else
            (void)m.remove_exception(i / 36 + 1, "op", "done", now);
        break;
    case 7: (void)m.tick(now + 25 * kHour, [&](const IncidentKey& k) { return k.type == "bruteforce"; }); break;
    case 8:
        if (i % 2) (void)m.reactivate(i / 9, "op", "fixed", now);
        else (void)m.resolve(i / 9, "op", "done", now);
        break;
    }
}

void check_outbox(const IncidentManager& m) {
    for (const auto& n : m.pending_notifications()) {
        const Incident& inc = *m.find(n.incident);
        for (const auto& x : inc.notifications)
            if (x.role == n.role && x.recipient == n.recipient) CHECK_FALSE(x.sent_at.has_value());
    }
}

} // namespace

TEST_CASE("Crash at any byte: a consistent prefix comes back, never a sent message again") {
    TempDir dir;
    const fs::path journal = dir.path / Journal::kFileName;
    auto o = options(dir.path.string());
    o.compact_bytes = 1ull << 40;  // keep one history of appends
    constexpr uint64_t kSteps = 120;
    std::vector<uint64_t> end_of{Journal::kHeaderSize};  // journal size after step i
    std::vector<nlohmann::json> state_after{state_of(*manager(options()))};
    {
        auto m = manager(o);
        for (uint64_t i = 1; i <= kSteps; ++i) {
            step(*m, i);
            end_of.push_back(m->journal_bytes());
            state_after.push_back(state_of(*m));
        }
        // The history must exercise what it is meant to.
        std::set<std::string> kinds;
        for (const auto& [id, inc] : m->incidents())
            for (const auto& e : inc.events) kinds.insert(e.kind);
        for (const auto& [id, ex] : m->exceptions())
            for (const auto& e : ex.events) kinds.insert(e.kind);
        CAPTURE(kinds);
        for (const char* kind : {"opened", "notify_requested", "notification_sent", "notified",
                                 "deadline_set", "extended", "excepted", "resolved", "deactivated",
                                 "reactivated", "acknowledged", "exception_added", "exception_removed"})
            CHECK(kinds.count(kind));
    }
    const std::string full = read_file(journal);
    REQUIRE(full.size() == end_of.back());

    std::mt19937_64 rng(20240611);
    for (int trial = 0; trial < 300; ++trial) {
        const uint64_t cut = std::uniform_int_distribution<uint64_t>(Journal::kHeaderSize, full.size())(rng);
        const bool corrupt = trial % 2 == 1 && cut < full.size();
        std::string damaged = corrupt ? full : full.substr(0, cut);
        if (corrupt) damaged[cut] = char(damaged[cut] ^ (1 + rng() % 255));
        TempDir copy;
        std::ofstream(copy.path / Journal::kFileName, std::ios::binary) << damaged;

        // The last step whose record ends at or before the damaged byte.
        size_t k = 0;
        while (k + 1 < end_of.size() && end_of[k + 1] <= cut) ++k;
        INFO("trial " << trial << (corrupt ? ": corrupt byte " : ": cut at ") << cut << ", expect step " << k);
        auto o2 = o;
        o2.state_dir = copy.path.string();
        auto m = manager(o2);
        CHECK(state_of(*m) == state_after[k]);
        CHECK(fs::file_size(copy.path / Journal::kFileName) == end_of[k]);
        CHECK(m->recovery_warning().empty() == (end_of[k] == damaged.size()));
        check_outbox(*m);

        // Life goes on from there: the next steps are journaled and recovered.
        if (trial % 10 == 0) {
            for (uint64_t i = k + 1; i <= std::min(kSteps, k + 5); ++i) step(*m, i);
            const auto now = state_of(*m);
            m.reset();
            CHECK(state_of(*manager(o2)) == now);
        }
    }
}

TEST_CASE("kill -9 of a writer loses nothing it committed") {
    constexpr uint64_t kSteps = 100000;  // more than it gets through before the kill
    std::mt19937_64 rng(7);
    for (int round = 0; round < 4; ++round) {
        TempDir dir;
        auto o = options(dir.path.string());
        o.compact_bytes = 1ull << 40;
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        const pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            auto m = IncidentManager::open(o);
            if (!m.ok()) _exit(2);
            for (uint64_t i = 1; i <= kSteps; ++i) {
                step(**m, i);
                // Committed (fsync'd): tell the parent.
                if (write(fds[1], &i, sizeof i) != sizeof i) _exit(3);
            }
            _exit(0);
        }
        close(fds[1]);
        // Let it commit a random number of steps, then kill it mid-flight.
        const uint64_t wait_for = 20 + rng() % 60;
        uint64_t committed = 0, got = 0;
        while (committed < wait_for && read(fds[0], &got, sizeof got) == sizeof got) committed = got;
        REQUIRE(kill(pid, SIGKILL) == 0);
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status));
        while (read(fds[0], &got, sizeof got) == sizeof got) committed = got;
        close(fds[0]);
        REQUIRE(committed >= wait_for);

        auto recovered = manager(o);
        const auto state = state_of(*recovered);
        check_outbox(*recovered);
        // Replay the history in memory until it matches: the match must not
        // come before the last step the writer reported as committed.
        // (Steps that change nothing repeat a state: take the last match.)
        auto reference = manager(options());
        std::optional<uint64_t> match;
        if (state_of(*reference) == state) match = 0;
        for (uint64_t i = 1; i <= committed + 1; ++i) {
            step(*reference, i);
            if (state_of(*reference) == state) match = i;
        }
        INFO("round " << round << ": committed " << committed);
        REQUIRE(match.has_value());
        CHECK(*match >= committed);  // at most the step in flight is lost
    }
}
