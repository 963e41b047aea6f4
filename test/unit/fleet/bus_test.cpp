// The bus against a real nats-server: connecting while it is away and
// reconnecting after it was lost, a key-value bucket's reads, writes and
// compare-and-set, and the windows stream's de-duplication and consumer.
#include "fleet/bus.hpp"

#include <algorithm>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "nats_server.hpp"

using namespace sg;
using namespace sg::fleet;
using namespace std::chrono_literals;
using sg::test::eventually;
using sg::test::fleet_config;
using sg::test::NatsServer;

namespace {

std::unique_ptr<Bus> connect(const NatsServer& server, bool retry_connect = false) {
    auto bus = Bus::connect(fleet_config(server), "unit-fleet", retry_connect);
    INFO((bus.ok() ? std::string() : bus.error().message));
    REQUIRE(bus.ok());
    return std::move(*bus);
}

std::unique_ptr<Kv> open_bucket(Bus& bus, const std::string& name) {
    auto kv = bus.bucket(name, 1);
    INFO((kv.ok() ? std::string() : kv.error().message));
    REQUIRE(kv.ok());
    return std::move(*kv);
}

// The value of `key`, "<none>" when absent.
std::string value_of(Kv& kv, const std::string& key) {
    auto e = kv.get(key);
    INFO((e.ok() ? std::string() : e.error().message));
    REQUIRE(e.ok());
    return *e ? (*e)->value : "<none>";
}

std::vector<std::string> sorted_keys(Kv& kv) {
    auto keys = kv.keys();
    INFO((keys.ok() ? std::string() : keys.error().message));
    REQUIRE(keys.ok());
    std::sort(keys->begin(), keys->end());
    return *keys;
}

} // namespace

TEST_CASE("bus: the names of streams, subjects and buckets derive from the site", "[fleet]") {
    const Names n = names_for("lab-2");
    CHECK(n.windows_stream == "SAFEGUARD_LAB_2_WINDOWS");
    CHECK(n.windows_subjects == "safeguard.lab-2.*.window");
    CHECK(n.window_subject("edge-1") == "safeguard.lab-2.edge-1.window");
    CHECK(n.state_bucket == "safeguard-lab-2-state");
    CHECK(n.decisions_bucket == "safeguard-lab-2-decisions");
}

TEST_CASE("bus: connecting while the server is away, and reconnecting after it was lost", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;  // not started yet
    SECTION("without retry: an error naming the servers") {
        auto bus = Bus::connect(fleet_config(server), "unit-fleet", false);
        REQUIRE_FALSE(bus.ok());
        CHECK(bus.error().message.find("connecting to " + server.url()) == 0);
    }
    SECTION("with retry: at once, and connected once the server is there") {
        // On a thread of its own, so that a connect that never returns fails
        // this test rather than hanging the binary.
        auto promise = std::make_shared<std::promise<Result<std::unique_ptr<Bus>>>>();
        auto connecting = promise->get_future();
        std::thread([promise, cfg = fleet_config(server)] {
            promise->set_value(Bus::connect(cfg, "unit-fleet", true));
        }).detach();
        REQUIRE(connecting.wait_for(5s) == std::future_status::ready);
        auto connected = connecting.get();
        REQUIRE(connected.ok());
        std::unique_ptr<Bus> bus = std::move(*connected);
        CHECK_FALSE(bus->connected());
        server.start();
        CHECK(eventually([&] { return bus->connected(); }));
        server.kill();
        CHECK(eventually([&] { return !bus->connected(); }));
        server.start();
        CHECK(eventually([&] { return bus->connected(); }));
    }
}

TEST_CASE("kv: get, put, create, compare-and-set, erase and keys", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    server.start();
    auto bus = connect(server);
    auto kv = open_bucket(*bus, bus->names().state_bucket);
    CHECK(kv->bucket() == "safeguard-test-state");

    // A fresh bucket: nothing in it.
    CHECK(sorted_keys(*kv).empty());
    CHECK(value_of(*kv, "a") == "<none>");

    auto r1 = kv->put("a", "one");
    REQUIRE(r1.ok());
    auto got = kv->get("a");
    REQUIRE(got.ok());
    REQUIRE(*got);
    CHECK((*got)->value == "one");
    CHECK((*got)->revision == *r1);

    SECTION("create only when the key does not exist") {
        auto again = kv->create("a", "two");
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().message.find("safeguard-test-state: creating a: ") == 0);
        CHECK(value_of(*kv, "a") == "one");
        auto b = kv->create("b", "bee");
        REQUIRE(b.ok());
        CHECK(*b > *r1);
        CHECK(value_of(*kv, "b") == "bee");
    }
    SECTION("update only at the revision last seen") {
        auto r2 = kv->update("a", "two", *r1);
        REQUIRE(r2.ok());
        CHECK(*r2 > *r1);
        CHECK(value_of(*kv, "a") == "two");
        // A second writer with the old revision loses, and changes nothing.
        auto stale = kv->update("a", "three", *r1);
        REQUIRE_FALSE(stale.ok());
        CHECK(stale.error().message.find(fmt::format("safeguard-test-state: updating a at revision {}: ", *r1)) == 0);
        CHECK_FALSE(kv->update("a", "three", *r2 + 100).ok());
        CHECK_FALSE(kv->update("nobody", "x", *r2).ok());
        CHECK(value_of(*kv, "a") == "two");
        CHECK(kv->update("a", "three", *r2).ok());
        CHECK(value_of(*kv, "a") == "three");
    }
    SECTION("erase: gone for get and keys, and may be created again") {
        REQUIRE(kv->put("b", "bee").ok());
        REQUIRE(kv->put("c", "sea").ok());
        CHECK(sorted_keys(*kv) == std::vector<std::string>{"a", "b", "c"});
        REQUIRE(kv->erase("b").ok());
        CHECK(value_of(*kv, "b") == "<none>");
        CHECK(sorted_keys(*kv) == std::vector<std::string>{"a", "c"});
        CHECK(kv->create("b", "again").ok());
        CHECK(value_of(*kv, "b") == "again");
        REQUIRE(kv->erase("a").ok());
        REQUIRE(kv->erase("b").ok());
        REQUIRE(kv->erase("c").ok());
        CHECK(sorted_keys(*kv).empty());
    }
    SECTION("values are bytes; a second handle sees the same bucket") {
        const std::string binary("\0\xff\x01 x", 5);
        REQUIRE(kv->put("bin", binary).ok());
        auto other = open_bucket(*bus, "safeguard-test-state");
        CHECK(value_of(*other, "bin") == binary);
        CHECK(value_of(*other, "a") == "one");
    }
    SECTION("the bucket is on disk: it survives the server's crash") {
        server.restart();
        REQUIRE(eventually([&] { return bus->connected(); }));
        // JetStream may need a moment after the restart to recover the stream.
        CHECK(eventually([&] {
            auto e = kv->get("a");
            return e.ok() && *e && (*e)->value == "one";
        }));
    }
}

TEST_CASE("windows stream: stored once per message id, read in order from any sequence", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    server.start();
    auto bus = connect(server);
    REQUIRE(bus->ensure_windows_stream().ok());
    REQUIRE(bus->ensure_windows_stream().ok());  // already there: brought up to date

    const std::string subject = bus->names().window_subject("edge-1");
    const std::string payloads[] = {"first", "second", "third"};
    std::vector<Outgoing> batch;
    for (int i = 0; i < 3; ++i) batch.push_back(Outgoing{subject, fmt::format("edge-1-run-{}", i + 1), payloads[i]});
    REQUIRE(bus->publish_batch(batch, 2000ms).ok());
    // Sent again (an acknowledgement was lost, say): JetStream keeps one copy.
    REQUIRE(bus->publish_batch(batch, 2000ms).ok());

    auto consumer = bus->windows_consumer(1);
    REQUIRE(consumer.ok());
    auto pending = bus->windows_pending();
    REQUIRE(pending.ok());
    CHECK(*pending == 3);
    auto got = (*consumer)->fetch(10, 1000ms);
    REQUIRE(got.ok());
    REQUIRE(got->size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        CHECK((*got)[i].subject() == subject);
        CHECK((*got)[i].data() == payloads[i]);
        CHECK((*got)[i].stream_seq() == i + 1);
        (*got)[i].ack();
    }
    CHECK((*consumer)->fetch(10, 100ms)->empty());  // nothing more: a timeout is no error

    // Another aggregator resumes at its own cursor.
    auto from_two = bus->windows_consumer(2);
    REQUIRE(from_two.ok());
    auto rest = (*from_two)->fetch(10, 1000ms);
    REQUIRE(rest.ok());
    REQUIRE(rest->size() == 2);
    CHECK((*rest)[0].data() == "second");
    CHECK((*rest)[0].stream_seq() == 2);
}
