// An appliance's publisher against a real nats-server that is away, comes
// back, or was never there: windows wait in the spool on disk, bounded by
// fleet.backlog_mib (the oldest dropped and counted), and reach the windows
// stream in order once the bus is back, after a restart of the appliance too.
// What the aggregator would see is read back from the stream.
#include "fleet/publisher.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "../detect/detect_harness.hpp"
#include "fleet/window_codec.hpp"
#include "fleet/window_message.hpp"
#include "nats_server.hpp"

using namespace sg;
using namespace sg::fleet;
using namespace std::chrono_literals;
using sg::test::eventually;
using sg::test::fleet_config;
using sg::test::NatsServer;
using sg::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFingerprint = "5347464c45455431";

// A failed publish waits for JetStream's acknowledgements before it counts
// as failed (5 s), so spooling takes that long; publishing again once the
// bus is back takes a reconnect and a retry.
constexpr auto kSpooled = 15s;
constexpr auto kPublished = 20s;

struct Received {
    uint64_t stream_seq = 0;
    std::string bytes;
    WindowMessage message;   // its summary views into `bytes`
};

// The appliance's side: its options, a publisher and a window to hand it.
struct Appliance {
    PublisherOptions options;
    std::unique_ptr<Publisher> publisher;
    std::unique_ptr<WindowSummary> window = std::make_unique<WindowSummary>();

    Appliance(const NatsServer& server, const fs::path& spool, uint32_t backlog_mib = 256) {
        options.fleet = fleet_config(server);
        options.fleet.backlog_mib = backlog_mib;
        options.spool_dir = spool.string();
        options.fingerprint = kFingerprint;
        options.window = kNsPerSec;
        options.ownership = &sg::test::ownership();
        window->clear();
    }
    // Connects (at once, even to a server that is away) and opens the spool.
    void open() {
        auto bus = Bus::connect(options.fleet, "edge-1", true);
        INFO((bus.ok() ? std::string() : bus.error().message));
        REQUIRE(bus.ok());
        auto p = Publisher::open(options, std::move(*bus));
        INFO((p.ok() ? std::string() : p.error().message));
        REQUIRE(p.ok());
        publisher = std::move(*p);
    }
    // What the reporter does at a window boundary.
    void close_window(uint64_t index, const std::vector<const Attribution*>& touched = {}) {
        window->index = index;
        window->next_index = index + 1;
        window->packets = index * 10;
        publisher->on_merged(*window);
        publisher->on_window(index, touched);
    }
    uint64_t status(const char* key) const { return publisher->status()[key].get<uint64_t>(); }
};

// The spooled windows (SEQ.win), not a file being written (.tmp-*).
std::vector<std::string> spool_files(const fs::path& dir) {
    std::vector<std::string> names;
    if (fs::exists(dir))
        for (const auto& e : fs::directory_iterator(dir)) {
            std::string name = e.path().filename().string();
            if (name.ends_with(".win") && !name.starts_with(".")) names.push_back(std::move(name));
        }
    std::sort(names.begin(), names.end());
    return names;
}

// The aggregator's side: connects once the server is up and creates the
// windows stream, as `safeguard aggregate` does.
std::unique_ptr<Bus> aggregator(const NatsServer& server) {
    auto bus = Bus::connect(fleet_config(server, "agg-1"), "agg-1", false);
    INFO((bus.ok() ? std::string() : bus.error().message));
    REQUIRE(bus.ok());
    auto ok = (*bus)->ensure_windows_stream();
    INFO((ok.ok() ? std::string() : ok.error().message));
    REQUIRE(ok.ok());
    return std::move(*bus);
}

// Everything in the windows stream, in stream order.
std::vector<Received> read_stream(Bus& bus) {
    auto consumer = bus.windows_consumer(1);
    INFO((consumer.ok() ? std::string() : consumer.error().message));
    REQUIRE(consumer.ok());
    std::vector<Received> out;
    for (;;) {
        auto got = (*consumer)->fetch(64, 300ms);
        REQUIRE(got.ok());
        if (got->empty()) break;
        for (Fetched& f : *got) {
            Received r;
            r.stream_seq = f.stream_seq();
            r.bytes = std::string(f.data());
            auto m = decode_message(r.bytes);
            INFO((m.ok() ? std::string() : m.error().message));
            REQUIRE(m.ok());
            r.message = *m;
            out.push_back(std::move(r));
            f.ack();
        }
    }
    return out;
}

std::vector<uint64_t> indexes(const std::vector<Received>& rs) {
    std::vector<uint64_t> out;
    for (const Received& r : rs) out.push_back(r.message.index);
    return out;
}

bool in_stream_order(const std::vector<Received>& rs) {
    for (size_t i = 1; i < rs.size(); ++i)
        if (rs[i].stream_seq <= rs[i - 1].stream_seq || rs[i].message.seq <= rs[i - 1].message.seq) return false;
    return true;
}

Attribution flood(uint64_t id, size_t evidence_bytes = 0) {
    Attribution a;
    a.id = id;
    a.type = "syn_flood";
    a.detector = "syn_flood";
    a.direction = Direction::inbound;
    a.target.ip = sg::test::web_host(5);
    a.target.deployment = sg::test::kWeb;
    a.first_seen = a.last_seen = a.active_since = 1'700'000'000 * kNsPerSec;
    if (evidence_bytes) a.evidence["note"] = std::string(evidence_bytes, 'x');
    return a;
}

} // namespace

TEST_CASE("publisher: while the bus is away windows wait in the spool; once back, they go out in order",
          "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    TempDir dir;
    const fs::path spool = dir.path / "fleet" / "spool";
    Appliance edge(server, spool);
    std::unique_ptr<Bus> agg;
    std::vector<uint64_t> sent;  // window indexes, in the order closed
    SECTION("a bus never reached since the start") {
        edge.open();
        CHECK(fs::is_directory(spool));
        edge.publisher->start();
    }
    SECTION("a bus lost: the server crashed") {
        server.start();
        agg = aggregator(server);
        edge.open();
        edge.publisher->start();
        edge.close_window(9);
        sent.push_back(9);
        REQUIRE(eventually([&] { return edge.status("published") == 1; }, kPublished));
        server.kill();
    }
    const uint64_t before = sent.size();

    const Attribution a = flood(1);
    edge.close_window(10, {&a});
    for (uint64_t i = 11; i < 15; ++i) edge.close_window(i);
    for (uint64_t i = 10; i < 15; ++i) sent.push_back(i);

    // Every window reaches the disk, named by its sequence; nothing is dropped.
    REQUIRE(eventually([&] { return spool_files(spool).size() == 5; }, kSpooled));
    CHECK(spool_files(spool).front() == fmt::format("{:020}.win", before + 1));
    CHECK(spool_files(spool).back() == fmt::format("{:020}.win", before + 5));
    nlohmann::json st = edge.publisher->status();
    CHECK(st["spool_files"] == 5);
    CHECK(st["spooled"] == 5);
    CHECK(st["spool_bytes"].get<uint64_t>() > 0);
    CHECK(st["published"] == before);
    CHECK(st["dropped"] == 0);
    CHECK(st["errors"].get<uint64_t>() >= 1);
    CHECK(st["publishing"] == false);
    CHECK(st["connected"] == false);
    CHECK(st["last_error"].is_string());

    // The bus comes back: the spool is published and emptied.
    server.start();
    agg = aggregator(server);
    REQUIRE(eventually([&] { return edge.status("published") == before + 5; }, kPublished));
    CHECK(eventually([&] { return spool_files(spool).empty(); }));
    st = edge.publisher->status();
    CHECK(st["spool_files"] == 0);
    CHECK(st["spool_bytes"] == 0);
    CHECK(st["queued"] == 0);
    CHECK(st["publishing"] == true);
    CHECK(st["connected"] == true);

    // The aggregator sees each window once, in order, as it was closed.
    const std::vector<Received> got = read_stream(*agg);
    CHECK(indexes(got) == sent);
    CHECK(in_stream_order(got));
    REQUIRE(got.size() == sent.size());
    for (size_t i = 0; i < got.size(); ++i) {
        const WindowMessage& m = got[i].message;
        CHECK(m.appliance == "edge-1");
        CHECK(m.kind == "window");
        CHECK(m.seq == i + 1);
        CHECK(m.config == kFingerprint);
        CHECK(m.window == kNsPerSec);
        CHECK(m.id == fmt::format("edge-1-{}-{}", m.run, m.seq));
        auto w = std::make_unique<WindowSummary>();
        REQUIRE(decode_window(m.summary, *w).ok());
        CHECK(w->index == m.index);
        CHECK(w->packets == m.index * 10);
    }
    REQUIRE(got[before].message.attributions.size() == 1);
    CHECK(got[before].message.attributions[0]["type"] == "syn_flood");
    CHECK(got[before].message.attributions[0]["target"]["deployment"] == "web");
    CHECK(got[before + 1].message.attributions.empty());

    // With the bus there, a window goes out without touching the disk.
    edge.close_window(15);
    REQUIRE(eventually([&] { return edge.status("published") == before + 6; }, kPublished));
    CHECK(edge.status("spooled") == 5);
    CHECK(spool_files(spool).empty());
    CHECK(indexes(read_stream(*agg)).back() == 15);

    // A clean stop says goodbye.
    edge.publisher->stop(2000ms);
    const std::vector<Received> all = read_stream(*agg);
    REQUIRE(all.size() == sent.size() + 2);
    CHECK(all.back().message.kind == "bye");
    CHECK(all.back().message.summary.empty());
    CHECK(spool_files(spool).empty());
}

TEST_CASE("publisher: a backlog over fleet.backlog_mib drops the oldest windows and counts them", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;
    TempDir dir;
    const fs::path spool = dir.path / "spool";
    Appliance edge(server, spool, 1);  // 1 MiB
    std::unique_ptr<Bus> agg;
    SECTION("a bus never reached since the start") {
        edge.open();
        edge.publisher->start();
    }
    SECTION("a bus lost: the server crashed") {
        server.start();
        agg = aggregator(server);
        edge.open();
        edge.publisher->start();
        REQUIRE(eventually([&] { return edge.publisher->status()["connected"] == true; }));
        server.kill();
    }

    // Windows of about 300 kB (a large attribution each): three fit in 1 MiB.
    const Attribution big = flood(1, 300 * 1000);
    constexpr uint64_t kWindows = 10;
    for (uint64_t i = 1; i <= kWindows; ++i) edge.close_window(i, {&big});
    const uint64_t size = edge.status("last_message_bytes");
    REQUIRE(size > 300 * 1000);
    const uint64_t fit = (uint64_t(1) << 20) / size;
    REQUIRE(fit == 3);

    REQUIRE(eventually([&] { return edge.status("dropped") == kWindows - fit; }, kSpooled));
    nlohmann::json st = edge.publisher->status();
    CHECK(st["spool_files"] == fit);
    CHECK(st["spool_bytes"].get<uint64_t>() <= (uint64_t(1) << 20));
    CHECK(st["queued"] == fit);
    // The newest stay.
    CHECK(spool_files(spool) == std::vector<std::string>{"00000000000000000008.win", "00000000000000000009.win",
                                                          "00000000000000000010.win"});

    server.start();
    agg = aggregator(server);
    REQUIRE(eventually([&] { return edge.status("published") == fit; }, kPublished));
    CHECK(eventually([&] { return spool_files(spool).empty(); }));
    const std::vector<Received> got = read_stream(*agg);
    CHECK(in_stream_order(got));
    // The newest windows, in order; the dropped ones never arrive.
    CHECK(indexes(got) == std::vector<uint64_t>{8, 9, 10});
    CHECK(edge.status("dropped") == kWindows - fit);
}

TEST_CASE("publisher: a restart finds the spool of the earlier run and publishes it first", "[fleet][nats]") {
    SG_REQUIRE_NATS();
    NatsServer server;  // away
    TempDir dir;
    const fs::path spool = dir.path / "spool";
    {
        Appliance edge(server, spool);
        edge.open();
        edge.publisher->start();
        for (uint64_t i = 1; i <= 3; ++i) edge.close_window(i);
        // Stopping with the bus away: what is left, the goodbye too, stays on disk.
        edge.publisher->stop(0ms);
        CHECK(spool_files(spool).size() == 4);
        CHECK(edge.status("spool_files") == 4);
        CHECK(edge.status("published") == 0);
    }
    CHECK(spool_files(spool).size() == 4);  // the publisher's end leaves them

    server.start();
    auto agg = aggregator(server);
    Appliance edge(server, spool);
    edge.open();
    // Found before it publishes anything.
    CHECK(edge.status("spool_files") == 4);
    CHECK(edge.status("queued") == 4);
    CHECK(edge.status("spool_bytes") > 0);
    edge.publisher->start();
    edge.close_window(4);
    REQUIRE(eventually([&] { return edge.status("published") == 5; }, kPublished));
    CHECK(eventually([&] { return spool_files(spool).empty(); }));

    const std::vector<Received> got = read_stream(*agg);
    REQUIRE(got.size() == 5);
    CHECK(in_stream_order(got));
    for (size_t i = 0; i < 4; ++i) {
        CHECK(got[i].message.run == got[0].message.run);
        CHECK(got[i].message.seq == i + 1);
    }
    CHECK(indexes(got) == std::vector<uint64_t>{1, 2, 3, 0, 4});
    CHECK(got[3].message.kind == "bye");
    // The new run's own window comes after, numbered on from the spool.
    CHECK(got[4].message.run != got[0].message.run);
    CHECK(got[4].message.kind == "window");
    CHECK(got[4].message.seq == 5);
}
