// Which aggregator acts: two (or three) Lease objects on one bucket of a
// real nats-server, with a lease of one second. One holder at a time; a
// silent holder is replaced no sooner than the lease, and learns it at its
// next renewal; a clean release hands over at once; the holder's cursor
// survives every change of holder.
#include "fleet/lease.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "nats_server.hpp"

using namespace sg;
using namespace sg::fleet;
using namespace std::chrono_literals;
using sg::test::fleet_config;
using sg::test::NatsServer;
using Clock = std::chrono::steady_clock;

namespace {

constexpr Nanos kLease = kNsPerSec;

struct Fleet {
    NatsServer server;
    std::unique_ptr<Bus> bus;
    Fleet() {
        server.start();
        auto b = Bus::connect(fleet_config(server), "unit-fleet", false);
        INFO((b.ok() ? std::string() : b.error().message));
        REQUIRE(b.ok());
        bus = std::move(*b);
    }
    // Each aggregator has its own handle on the state bucket.
    std::unique_ptr<Kv> state() {
        auto kv = bus->bucket(bus->names().state_bucket, 1);
        REQUIRE(kv.ok());
        return std::move(*kv);
    }
};

bool acquire(Lease& lease, nlohmann::json& taken) {
    auto r = lease.try_acquire(taken);
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return *r;
}

nlohmann::json stored(Kv& kv) {
    auto e = kv.get(Lease::kKey);
    REQUIRE(e.ok());
    REQUIRE(*e);
    return nlohmann::json::parse((*e)->value);
}

// Polls try_acquire every 10 ms for at most `limit`; true once it succeeded.
bool acquires_within(Lease& lease, nlohmann::json& taken, Clock::duration limit) {
    for (const auto deadline = Clock::now() + limit; Clock::now() < deadline;) {
        if (acquire(lease, taken)) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

} // namespace

TEST_CASE("lease: a silent holder is replaced after the lease, not before, and steps down", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    Fleet fleet;
    auto kv1 = fleet.state(), kv2 = fleet.state();
    Lease one(*kv1, "agg-1", kLease), two(*kv2, "agg-2", kLease);
    nlohmann::json taken = "untouched";

    // The first to come finds no holder: it takes the lease with no cursor.
    REQUIRE(acquire(one, taken));
    CHECK(taken.is_null());
    CHECK(one.held());
    CHECK(one.current_holder() == "agg-1");
    CHECK(stored(*kv1)["holder"] == "agg-1");

    // While the holder renews, for twice the lease, the standby never acquires.
    uint64_t cursor = 0;
    Clock::time_point last_renewal;
    for (const auto until = Clock::now() + 2 * 1s; Clock::now() < until;) {
        last_renewal = Clock::now();  // before the write: the standby sees it later
        REQUIRE(one.renew({{"cursor", ++cursor}}));
        CHECK_FALSE(acquire(two, taken));
        std::this_thread::sleep_for(100ms);
    }
    CHECK_FALSE(two.held());
    CHECK(two.current_holder() == "agg-1");
    CHECK(stored(*kv2)["cursor"] == cursor);

    // The holder falls silent: the standby takes over once the lease has
    // passed on its own clock, with the cursor where the holder left it.
    REQUIRE(acquires_within(two, taken, 5s));
    const auto silent_for = Clock::now() - last_renewal;
    CHECK(silent_for >= std::chrono::nanoseconds(kLease));
    CHECK(two.held());
    CHECK(two.current_holder() == "agg-2");
    CHECK(taken["holder"] == "agg-1");
    CHECK(taken["cursor"] == cursor);
    const nlohmann::json now = stored(*kv1);
    CHECK(now["holder"] == "agg-2");
    CHECK(now["cursor"] == cursor);

    // The old holder's next renewal fails: it has been replaced and steps
    // down, without overwriting the new holder's value.
    CHECK_FALSE(one.renew({{"cursor", cursor + 1}}));
    CHECK_FALSE(one.held());
    CHECK(stored(*kv1)["holder"] == "agg-2");
    CHECK(stored(*kv1)["cursor"] == cursor);
    CHECK_FALSE(one.renew({{"cursor", cursor + 1}}));  // and stays down

    // Now it is the standby, watching the new holder renew.
    CHECK(two.renew({{"cursor", cursor + 10}}));
    CHECK_FALSE(acquire(one, taken));
    CHECK(one.current_holder() == "agg-2");
}

TEST_CASE("lease: release hands over at once, with the cursor", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    Fleet fleet;
    auto kv1 = fleet.state(), kv2 = fleet.state();
    Lease one(*kv1, "agg-1", kLease), two(*kv2, "agg-2", kLease);
    nlohmann::json taken;
    REQUIRE(acquire(one, taken));
    REQUIRE(one.renew({{"cursor", 41}}));
    CHECK_FALSE(acquire(two, taken));  // held, and the standby has seen it
    REQUIRE(one.renew({{"cursor", 42}}));

    one.release();
    CHECK_FALSE(one.held());
    CHECK(stored(*kv1)["holder"] == "");
    CHECK(stored(*kv1)["cursor"] == 42);
    // No waiting for the lease: the first try succeeds.
    REQUIRE(acquire(two, taken));
    CHECK(two.held());
    CHECK(taken["holder"] == "");
    CHECK(taken["cursor"] == 42);
    CHECK(stored(*kv2)["holder"] == "agg-2");
    CHECK(stored(*kv2)["cursor"] == 42);

    // A released lease that nobody took is taken by whoever comes, even a
    // holder that was never a standby before (a restart).
    two.release();
    auto kv3 = fleet.state();
    Lease three(*kv3, "agg-3", kLease);
    REQUIRE(acquire(three, taken));
    CHECK(taken["cursor"] == 42);
    CHECK_FALSE(acquire(one, taken));
    CHECK_FALSE(acquire(two, taken));
}

TEST_CASE("lease: of several standbys exactly one takes over", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    Fleet fleet;
    auto kv1 = fleet.state(), kv2 = fleet.state(), kv3 = fleet.state();
    Lease one(*kv1, "agg-1", kLease), two(*kv2, "agg-2", kLease), three(*kv3, "agg-3", kLease);
    nlohmann::json taken;
    REQUIRE(acquire(one, taken));
    REQUIRE(one.renew({{"cursor", 7}}));
    // Both standbys poll at once, each on its own thread, until one holds it.
    std::atomic<bool> done{false};
    const auto standby = [&](Lease& lease, nlohmann::json& got) {
        for (const auto deadline = Clock::now() + 5s; !done && Clock::now() < deadline;) {
            auto r = lease.try_acquire(got);
            if (r.ok() && *r) done = true;
            else std::this_thread::sleep_for(5ms);
        }
    };
    nlohmann::json taken2, taken3;
    std::thread a([&] { standby(two, taken2); }), b([&] { standby(three, taken3); });
    a.join();
    b.join();
    REQUIRE(two.held() != three.held());
    taken = two.held() ? taken2 : taken3;
    Lease& winner = two.held() ? two : three;
    Lease& loser = two.held() ? three : two;
    CHECK_FALSE(loser.held());
    CHECK(taken["cursor"] == 7);
    // The loser keeps losing while the winner renews.
    for (int i = 0; i < 5; ++i) {
        REQUIRE(winner.renew({{"cursor", 8 + i}}));
        CHECK_FALSE(acquire(loser, taken));
        std::this_thread::sleep_for(50ms);
    }
    CHECK(loser.current_holder() == (two.held() ? "agg-2" : "agg-3"));
}
