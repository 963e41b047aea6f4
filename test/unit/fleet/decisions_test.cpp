// Deactivations from the aggregator to the appliances, through a real
// nats-server: publish_decisions() makes the bucket say exactly the set it
// is given; a DecisionWatcher hands its appliance the whole current set at
// start and after every change, offers a set again until it was applied,
// and follows changes again after the bus was lost.
#include "fleet/decisions.hpp"

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "nats_server.hpp"

using namespace sg;
using namespace sg::fleet;
using namespace std::chrono_literals;
using sg::test::eventually;
using sg::test::fleet_config;
using sg::test::NatsServer;
using Set = std::set<std::string>;

namespace {

std::unique_ptr<Bus> connect(const NatsServer& server, const std::string& name) {
    auto bus = Bus::connect(fleet_config(server, name), name, false);
    INFO((bus.ok() ? std::string() : bus.error().message));
    REQUIRE(bus.ok());
    return std::move(*bus);
}

// What the appliance's workers were told to enforce, call by call.
// refuse_first: how many calls fail first (the workers could not take it).
class Enforcer {
public:
    explicit Enforcer(int refuse_first = 0) : refuse_(refuse_first) {}
    DecisionWatcher::Apply apply() {
        return [this](const Set& s) {
            std::lock_guard<std::mutex> lock(mutex_);
            calls_.push_back(s);
            return refuse_-- <= 0;
        };
    }
    std::vector<Set> calls() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return calls_;
    }
    bool last_is(const Set& s) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return !calls_.empty() && calls_.back() == s;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Set> calls_;
    int refuse_;
};

void publish(Kv& kv, const std::map<std::string, nlohmann::json>& deactivated) {
    auto ok = publish_decisions(kv, deactivated);
    INFO((ok.ok() ? std::string() : ok.error().message));
    REQUIRE(ok.ok());
}

nlohmann::json why(int incident) { return {{"incident", incident}, {"at", "2024-05-01T10:00:00Z"}}; }

} // namespace

TEST_CASE("decisions: the bucket says exactly the set published", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    server.start();
    auto agg = connect(server, "agg-1");
    auto kv = agg->bucket(agg->names().decisions_bucket, 5);
    REQUIRE(kv.ok());
    publish(**kv, {{"web", why(1)}, {"db", why(2)}});
    auto keys = (*kv)->keys();
    REQUIRE(keys.ok());
    CHECK(Set(keys->begin(), keys->end()) == Set{"db", "web"});
    auto web = (*kv)->get("web");
    REQUIRE(web.ok());
    REQUIRE(*web);
    CHECK(nlohmann::json::parse((*web)->value) == why(1));

    // The same set again writes nothing: a deployment stays deactivated by
    // the incident that did it.
    publish(**kv, {{"web", why(7)}, {"db", why(2)}});
    auto again = (*kv)->get("web");
    REQUIRE(again.ok());
    CHECK((*again)->revision == (*web)->revision);
    CHECK(nlohmann::json::parse((*again)->value) == why(1));

    publish(**kv, {{"mail", why(3)}});
    keys = (*kv)->keys();
    REQUIRE(keys.ok());
    CHECK(Set(keys->begin(), keys->end()) == Set{"mail"});
    publish(**kv, {});
    keys = (*kv)->keys();
    REQUIRE(keys.ok());
    CHECK(keys->empty());
}

TEST_CASE("decisions: the watcher applies the current set at start, then each change", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    server.start();
    auto agg = connect(server, "agg-1");
    auto kv = agg->bucket(agg->names().decisions_bucket, 5);
    REQUIRE(kv.ok());
    publish(**kv, {{"web", why(1)}, {"db", why(2)}});  // before the appliance starts

    auto edge = connect(server, "edge-1");
    Enforcer enforcer;
    DecisionWatcher watcher(*edge, enforcer.apply());
    // The whole current set at once: never a part of it.
    REQUIRE(eventually([&] { return !enforcer.calls().empty(); }));
    CHECK(enforcer.calls().front() == Set{"db", "web"});
    nlohmann::json st = watcher.status();
    CHECK(st["deactivated"] == nlohmann::json::array({"db", "web"}));
    CHECK(st["applied"] == true);
    CHECK(st["changes"] == 1);

    // A deployment reactivated, another deactivated.
    publish(**kv, {{"web", why(1)}, {"mail", why(3)}});
    CHECK(eventually([&] { return enforcer.last_is({"mail", "web"}); }));
    // Every set applied on the way was a real state of the bucket.
    for (const Set& s : enforcer.calls()) CHECK((s == Set{"db", "web"} || s == Set{"db", "mail", "web"} ||
                                                 s == Set{"mail", "web"}));
    // All reactivated.
    publish(**kv, {});
    CHECK(eventually([&] { return enforcer.last_is({}); }));
    st = watcher.status();
    CHECK(st["deactivated"].empty());
    CHECK(st["applied"] == true);
    CHECK(st["changes"].get<uint64_t>() >= 3);
    watcher.stop();
}

TEST_CASE("decisions: an empty bucket is applied as an empty set", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    server.start();
    auto edge = connect(server, "edge-1");
    Enforcer enforcer;
    DecisionWatcher watcher(*edge, enforcer.apply());
    REQUIRE(eventually([&] { return watcher.status()["applied"] == true; }));
    CHECK(enforcer.calls().front().empty());
}

TEST_CASE("decisions: a set the appliance could not apply is offered again", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    server.start();
    auto agg = connect(server, "agg-1");
    auto kv = agg->bucket(agg->names().decisions_bucket, 5);
    REQUIRE(kv.ok());
    publish(**kv, {{"web", why(1)}});

    auto edge = connect(server, "edge-1");
    Enforcer enforcer(2);  // the first two attempts fail
    DecisionWatcher watcher(*edge, enforcer.apply());
    REQUIRE(eventually([&] { return watcher.status()["applied"] == true; }));
    const std::vector<Set> calls = enforcer.calls();
    CHECK(calls.size() == 3);
    for (const Set& s : calls) CHECK(s == Set{"web"});
    CHECK(watcher.status()["changes"] == 1);  // one change, applied on the third try

    // A change while the last set is still refused: the newest is offered.
    Enforcer refusing(1000000);
    DecisionWatcher stuck(*edge, refusing.apply());
    REQUIRE(eventually([&] { return refusing.calls().size() >= 2; }));
    publish(**kv, {{"db", why(2)}});
    CHECK(eventually([&] { return refusing.last_is({"db"}); }));
    CHECK(stuck.status()["applied"] == false);
    CHECK(eventually([&] { return enforcer.last_is({"db"}); }));
}

TEST_CASE("decisions: the watcher keeps the last set while the bus is away and follows changes after",
          "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    server.start();
    auto agg = connect(server, "agg-1");
    auto kv = agg->bucket(agg->names().decisions_bucket, 5);
    REQUIRE(kv.ok());
    publish(**kv, {{"web", why(1)}});
    auto edge = Bus::connect(fleet_config(server, "edge-1"), "edge-1", true);
    REQUIRE(edge.ok());
    Enforcer enforcer;
    DecisionWatcher watcher(**edge, enforcer.apply());
    REQUIRE(eventually([&] { return enforcer.last_is({"web"}); }));

    server.restart();
    CHECK(watcher.status()["deactivated"] == nlohmann::json::array({"web"}));
    REQUIRE(eventually([&] { return agg->connected() && (*edge)->connected(); }));
    // The aggregator's write may find JetStream still recovering: retried.
    REQUIRE(eventually([&] { return publish_decisions(**kv, {{"web", why(1)}, {"db", why(2)}}).ok(); }, 10s));
    CHECK(eventually([&] { return enforcer.last_is({"db", "web"}); }, 20s));
    CHECK(watcher.status()["applied"] == true);
}
