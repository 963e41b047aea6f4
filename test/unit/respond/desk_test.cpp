#include "respond/desk.hpp"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "../notify/mime.hpp"
#include "../disk_full.hpp"
#include "../temp_dir.hpp"

using namespace sg;
using namespace sg::respond;
using sg::test::read_file;
using sg::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr Nanos kSec = kNsPerSec;
constexpr Nanos kT0 = 1'700'000'000 * kSec;  // the first window's start
constexpr Nanos kWindow = 5 * kSec;
constexpr Nanos kDeadline = 10 * kSec;
constexpr DeploymentId kWeb = 0, kDb = 1;

Nanos start_of(int k) { return kT0 + Nanos(k) * kWindow; }
Nanos end_of(int k) { return start_of(k) + kWindow; }

IpAddress ip(const char* text) {
    auto a = IpAddress::parse(text);
    REQUIRE(a.has_value());
    return *a;
}

Prefix prefix(const char* text) {
    auto p = Prefix::parse(text);
    REQUIRE(p.ok());
    return *p;
}

std::vector<Deployment> deployments() {
    return {{"web", "web@example.com", {prefix("10.1.0.0/16")}, {}},
            {"db", "db@example.com", {prefix("10.2.0.0/16")}, {}}};
}

// Ownership tables are named in EAL: a fresh name for each.
std::unique_ptr<Ownership> make_ownership() {
    static int serial = 0;
    const std::string name = fmt::format("t_own{}", ++serial);
    auto r = Ownership::create(deployments(), name.c_str());
    if (!r.ok()) FAIL(r.error().message);
    return std::move(*r);
}

// A host of web scanning an outside address: web's owner is the source.
Attribution port_scan() {
    Attribution a;
    a.id = 1;
    a.type = "port_scan";
    a.direction = Direction::outbound;
    a.source.ip = ip("10.1.0.101");
    a.source.deployment = kWeb;
    a.target.ip = ip("198.51.100.150");
    a.target.deployment = kNoDeployment;
    a.first_seen = start_of(0);
    a.last_seen = start_of(0);
    a.active_since = start_of(0);
    a.detector = "port_scan";
    a.threshold = "distinct_ports >= 20";
    a.evidence = {{"probes", 30}};
    a.top_sources = {{ip("10.1.0.101"), 30}};
    return a;
}

// The relay, in memory: what it accepted; `failing` refuses everything.
struct FakeRelay {
    mutable std::mutex mutex;
    bool failing = false;
    unsigned attempts = 0;
    std::vector<std::pair<notify::Envelope, std::string>> accepted;

    notify::Sender sender() {
        return [this](const notify::Envelope& env, std::string_view bytes) -> Result<> {
            std::lock_guard<std::mutex> lock(mutex);
            ++attempts;
            if (failing) return make_error("smtp: connection refused");
            accepted.emplace_back(env, std::string(bytes));
            return {};
        };
    }
    void set_failing(bool f) {
        std::lock_guard<std::mutex> lock(mutex);
        failing = f;
    }
    size_t delivered() const {
        std::lock_guard<std::mutex> lock(mutex);
        return accepted.size();
    }
    unsigned tries() const {
        std::lock_guard<std::mutex> lock(mutex);
        return attempts;
    }
    std::pair<notify::Envelope, std::string> message(size_t i) const {
        std::lock_guard<std::mutex> lock(mutex);
        return accepted.at(i);
    }
};

// The text part of an e-mail, decoded.
std::string text_of(const std::string& bytes) {
    const auto parts = sg::test::parts_of(sg::test::parse_part(bytes));
    REQUIRE_FALSE(parts.empty());
    return sg::test::qp_decode(parts[0].body);
}

// An eve stream in memory.
struct Eve {
    char* buf = nullptr;
    size_t len = 0;
    std::FILE* file = nullptr;
    Eve() : file(open_memstream(&buf, &len)) { REQUIRE(file != nullptr); }
    ~Eve() {
        std::fclose(file);
        std::free(buf);
    }
    Eve(const Eve&) = delete;
    Eve& operator=(const Eve&) = delete;

    std::vector<nlohmann::json> lines() {
        std::fflush(file);
        std::vector<nlohmann::json> out;
        std::istringstream in(std::string(buf, len));
        for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
        return out;
    }
    // event.kind of each line, in order.
    std::vector<std::string> kinds() {
        std::vector<std::string> out;
        for (const auto& l : lines()) out.push_back(l["event"].value("kind", ""));
        return out;
    }
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Files in a directory with this extension.
size_t count_files(const fs::path& dir, const std::string& ext) {
    if (!fs::exists(dir)) return 0;
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ext;
    return n;
}

const Event* last_event(const Incident& inc, const std::string& kind) {
    for (auto e = inc.events.rbegin(); e != inc.events.rend(); ++e)
        if (e->kind == kind) return &*e;
    return nullptr;
}

// Deployments, a state directory, the fake relay, an eve stream and one
// worker's enforcement slot: what the reporter gives the desk.
struct World {
    TempDir dir;
    std::unique_ptr<Ownership> ownership = make_ownership();
    std::unique_ptr<EnforcementSlot> slot;
    FakeRelay relay;
    Eve eve;

    World() {
        auto s = EnforcementSlot::create(1);
        REQUIRE(s.ok());
        slot = std::move(*s);
        slot->online(0);
    }
    ~World() { slot->offline(0); }

    std::string state_dir() const { return (dir.path / "state").string(); }

    DeskOptions options() {
        DeskOptions o;
        o.policy.deadline = kDeadline;
        o.policy.quiet_period = 20 * kSec;
        o.policy.evidence_packets = 3;
        o.deployments = deployments();
        o.state_dir = state_dir();
        o.notify.from = "safeguard@example.com";
        o.sender = relay.sender();
        o.replay = true;
        return o;
    }

    std::unique_ptr<IncidentDesk> open(DeskOptions o, bool with_slot = true) {
        auto d = IncidentDesk::open(std::move(o), *ownership, eve.file);
        INFO((d.ok() ? "" : d.error().message));
        REQUIRE(d.ok());
        if (with_slot) (*d)->set_enforcement(slot.get());
        (*d)->start();
        return std::move(*d);
    }

    // What the worker sees at its next burst (it passes a quiescent point first).
    const Enforcement* worker_view() {
        slot->quiescent(0);
        return slot->current();
    }
    bool web_blocked() {
        const Enforcement* e = worker_view();
        return e && e->is_blocked(kWeb);
    }
};

// Window k with the attribution in it.
void feed(IncidentDesk& desk, Attribution& a, int k, Nanos gap = 0) {
    a.last_seen = start_of(k);
    ++a.updates;
    desk.on_window(start_of(k), end_of(k), end_of(k) + gap, {&a});
}

// Window k without it.
void quiet(IncidentDesk& desk, int k) { desk.on_window(start_of(k), end_of(k), end_of(k), {}); }

const Incident& only_incident(const IncidentDesk& desk) {
    REQUIRE(desk.manager().incidents().size() == 1);
    return desk.manager().incidents().begin()->second;
}

ScriptedAction action(const std::string& yaml) {
    auto r = parse_actions(yaml, "actions.yaml");
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    return r->front();
}

} // namespace

TEST_CASE("desk: the first window tells the source's owner, with the deadline, and starts it") {
    World w;
    auto desk = w.open(w.options());
    Attribution a = port_scan();
    feed(*desk, a, 0);

    REQUIRE(w.relay.delivered() == 1);
    const auto [envelope, bytes] = w.relay.message(0);
    CHECK(envelope.from == "safeguard@example.com");
    CHECK(envelope.to == std::vector<std::string>{"web@example.com"});
    const std::string deadline = format_timestamp(end_of(0) + kDeadline);
    const std::string text = text_of(bytes);
    CHECK(text.find(deadline) != std::string::npos);
    CHECK(text.find("10.1.0.101") != std::string::npos);
    CHECK(text.find("198.51.100.150") != std::string::npos);

    const Incident& inc = only_incident(*desk);
    CHECK(inc.state == IncidentState::deadline_set);
    REQUIRE(inc.deadline.has_value());
    CHECK(*inc.deadline == end_of(0) + kDeadline);
    CHECK(inc.key.source.deployment == "web");
    REQUIRE(inc.notifications.size() == 1);
    CHECK(inc.notifications[0].recipient == "web@example.com");
    REQUIRE(inc.notifications[0].sent_at.has_value());
    CHECK(*inc.notifications[0].sent_at == end_of(0));

    // Every change is an eve line, in order.
    const auto lines = w.eve.lines();
    REQUIRE_FALSE(lines.empty());
    for (const auto& l : lines) CHECK(l.value("event_type", "") == "incident");
    const auto kinds = w.eve.kinds();
    const std::vector<std::string> expected = {"opened", "notify_requested", "notification_sent", "deadline_set"};
    auto at = kinds.begin();
    for (const auto& k : expected) {
        at = std::find(at, kinds.end(), k);
        CHECK(at != kinds.end());
    }
    const std::string raw = std::string(w.eve.buf, w.eve.len);
    CHECK(raw.find("\"event_type\":\"incident\"") != std::string::npos);

    const DeskCounters& c = desk->counters();
    CHECK(c.messages_queued == 1);
    CHECK(c.messages_sent == 1);
    CHECK(c.delivery_failures == 0);
    CHECK(count_files(fs::path(w.state_dir()) / "outbox" / "pending", ".eml") == 0);
    CHECK(count_files(fs::path(w.state_dir()) / "outbox" / "sent", ".eml") == 1);

    // Later windows of the same attack update the incident: no second e-mail.
    feed(*desk, a, 1);
    CHECK(w.relay.delivered() == 1);
    CHECK(only_incident(*desk).updates == 2);
    desk->finish();
    CHECK(w.relay.delivered() == 1);
}

TEST_CASE("desk: traffic past the deadline deactivates the deployment: the workers block it") {
    World w;
    auto desk = w.open(w.options());
    Attribution a = port_scan();
    feed(*desk, a, 0);
    feed(*desk, a, 1);
    CHECK_FALSE(w.web_blocked());
    // The deadline passes in a quiet window: nothing happens yet.
    quiet(*desk, 2);
    REQUIRE(end_of(2) >= end_of(0) + kDeadline);
    CHECK(only_incident(*desk).state == IncidentState::deadline_set);
    CHECK_FALSE(w.web_blocked());
    const uint64_t versions_before = desk->counters().blocklist_versions;

    // Traffic after the deadline: deactivated, and the blocklist is published.
    feed(*desk, a, 3);
    const Incident& inc = only_incident(*desk);
    CHECK(inc.state == IncidentState::deactivated);
    const Event* e = last_event(inc, "deactivated");
    REQUIRE(e != nullptr);
    CHECK(e->at == end_of(3));
    CHECK(e->detail.value("deployment", "") == "web");

    const Enforcement* view = w.worker_view();
    REQUIRE(view != nullptr);
    CHECK(view->is_blocked(kWeb));
    CHECK_FALSE(view->is_blocked(kDb));
    CHECK(view->any_blocked);
    CHECK(view->active());
    CHECK(desk->counters().blocklist_versions > versions_before);
    CHECK(desk->counters_json()["blocked_deployments"] == nlohmann::json::array({"web"}));
    CHECK(contains(w.eve.kinds(), "deactivated"));

    // Blocked traffic never resolves by itself (the blocking is what stops it).
    for (int k = 4; k < 12; ++k) quiet(*desk, k);
    CHECK(only_incident(*desk).state == IncidentState::deactivated);
    CHECK(w.web_blocked());
    desk->finish();
}

TEST_CASE("desk: scripted actions apply at their time; a reactivation lifts the blocklist") {
    World w;
    DeskOptions o = w.options();
    auto parsed = parse_actions("- at: 1s\n"           // before the incident exists: refused
                                "  do: reactivate\n"
                                "  incident: 1\n"
                                "- at: 17s\n"
                                "  do: reactivate\n"
                                "  incident: 1\n"
                                "  who: ops@example.com\n"
                                "  reason: the owner rebuilt the host\n",
                                "actions.yaml");
    REQUIRE(parsed.ok());
    o.actions = *parsed;
    auto desk = w.open(std::move(o));
    Attribution a = port_scan();
    feed(*desk, a, 0);
    CHECK(desk->counters().actions_refused == 1);
    feed(*desk, a, 1);
    // Deactivated at the end of window 2 (15 s); the next packet comes at
    // 19 s, so the reactivation at 17 s applies in the gap.
    feed(*desk, a, 2, 4 * kSec);
    const Incident& inc = only_incident(*desk);
    CHECK(inc.state == IncidentState::reactivated);
    REQUIRE(last_event(inc, "deactivated") != nullptr);
    const Event* r = last_event(inc, "reactivated");
    REQUIRE(r != nullptr);
    CHECK(r->at == start_of(0) + 17 * kSec);
    CHECK(r->who == "ops@example.com");
    CHECK(r->why == "the owner rebuilt the host");
    CHECK(desk->counters().actions_applied == 1);
    CHECK(desk->counters().actions_refused == 1);

    const Enforcement* view = w.worker_view();
    REQUIRE(view != nullptr);
    CHECK_FALSE(view->is_blocked(kWeb));
    CHECK_FALSE(view->any_blocked);
    CHECK(desk->counters_json()["blocked_deployments"].empty());

    // Reactivated has no deadline: the traffic going on does not block it again.
    feed(*desk, a, 3);
    CHECK(only_incident(*desk).state == IncidentState::reactivated);
    CHECK_FALSE(w.web_blocked());
    desk->finish();
}

TEST_CASE("desk: an exception declared before the deadline prevents the deactivation and counts hits") {
    World w;
    DeskOptions o = w.options();
    o.actions = {action("- at: 7s\n"
                        "  do: exception\n"
                        "  who: web@example.com\n"
                        "  reason: weekly inventory scan of our partner's hosts\n"
                        "  deployment: web\n"
                        "  type: port_scan\n"
                        "  direction: outbound\n"
                        "  for: 1h\n")};
    auto desk = w.open(std::move(o));
    Attribution a = port_scan();
    for (int k = 0; k < 4; ++k) feed(*desk, a, k);  // the deadline (15 s) passes at window 2

    const Incident& inc = only_incident(*desk);
    CHECK(inc.state == IncidentState::excepted);
    CHECK_FALSE(inc.deadline.has_value());
    CHECK(last_event(inc, "deactivated") == nullptr);
    CHECK_FALSE(w.web_blocked());
    REQUIRE(desk->manager().exceptions().size() == 1);
    const IncidentException& ex = desk->manager().exceptions().begin()->second;
    CHECK(ex.hits == 3);  // windows 1, 2 and 3
    CHECK(ex.created == start_of(0) + 7 * kSec);
    CHECK(ex.expiry == start_of(0) + 7 * kSec + 3600 * kSec);
    CHECK(desk->counters().actions_applied == 1);
    const auto kinds = w.eve.kinds();
    CHECK(contains(kinds, "exception_added"));
    CHECK(contains(kinds, "excepted"));
    CHECK_FALSE(contains(kinds, "deactivated"));
    CHECK(desk->exceptions_json().size() == 1);
    desk->finish();
}

TEST_CASE("desk: a failing relay keeps the e-mail pending; the next run delivers it at start") {
    World w;
    w.relay.set_failing(true);
    {
        auto desk = w.open(w.options());
        Attribution a = port_scan();
        feed(*desk, a, 0);
        CHECK(w.relay.tries() == 1);
        CHECK(w.relay.delivered() == 0);
        const fs::path pending = fs::path(w.state_dir()) / "outbox" / "pending";
        CHECK(count_files(pending, ".eml") == 1);
        CHECK(count_files(pending, ".json") == 1);
        CHECK(desk->counters().delivery_failures > 0);
        CHECK(desk->counters().messages_sent == 0);
        CHECK(desk->counters_json()["messages_pending"] == 1);
        const Incident& inc = only_incident(*desk);
        CHECK(inc.state == IncidentState::open);  // nobody was told: no deadline
        CHECK_FALSE(inc.deadline.has_value());
        REQUIRE(inc.notifications.size() == 1);
        CHECK_FALSE(inc.notifications[0].sent_at.has_value());
        desk->finish();
        CHECK(w.relay.delivered() == 0);
    }

    // The relay is back; the daemon restarts on the same state directory.
    w.relay.set_failing(false);
    auto desk = w.open(w.options());
    CHECK(w.relay.delivered() == 1);  // delivered at start, once
    CHECK(w.relay.message(0).first.to == std::vector<std::string>{"web@example.com"});
    CHECK(only_incident(*desk).state == IncidentState::open);  // recorded in packet time, at the next window

    Attribution a = port_scan();
    feed(*desk, a, 1);
    const Incident& inc = only_incident(*desk);
    CHECK(inc.state == IncidentState::deadline_set);
    REQUIRE(inc.deadline.has_value());
    CHECK(*inc.deadline == end_of(1) + kDeadline);
    REQUIRE(inc.notifications[0].sent_at.has_value());
    CHECK(*inc.notifications[0].sent_at == end_of(1));
    CHECK(count_files(fs::path(w.state_dir()) / "outbox" / "pending", ".eml") == 0);
    CHECK(count_files(fs::path(w.state_dir()) / "outbox" / "sent", ".eml") == 1);
    CHECK(desk->counters().messages_sent == 1);
    CHECK(desk->counters_json()["messages_pending"] == 0);
    desk->finish();
    CHECK(w.relay.delivered() == 1);
}

TEST_CASE("desk: the journal survives a restart; a deactivated deployment is blocked again") {
    World w;
    {
        auto desk = w.open(w.options());
        Attribution a = port_scan();
        for (int k = 0; k < 3; ++k) feed(*desk, a, k);
        REQUIRE(only_incident(*desk).state == IncidentState::deactivated);
        desk->finish();
    }
    CHECK(w.relay.delivered() == 1);

    // A new process: a new slot for its workers, nothing published yet.
    auto fresh = EnforcementSlot::create(1);
    REQUIRE(fresh.ok());
    std::unique_ptr<EnforcementSlot> slot = std::move(*fresh);
    auto opened = IncidentDesk::open(w.options(), *w.ownership, w.eve.file);
    REQUIRE(opened.ok());
    IncidentDesk& desk = **opened;
    const Incident& inc = only_incident(desk);
    CHECK(inc.id == 1);
    CHECK(inc.state == IncidentState::deactivated);
    CHECK(inc.key.source.deployment == "web");
    REQUIRE(inc.deadline.has_value());
    CHECK(*inc.deadline == end_of(0) + kDeadline);
    CHECK(slot->current() == nullptr);

    desk.set_enforcement(slot.get());
    REQUIRE(slot->current() != nullptr);
    CHECK(slot->current()->is_blocked(kWeb));
    CHECK_FALSE(slot->current()->is_blocked(kDb));
    desk.start();
    CHECK(w.relay.delivered() == 1);  // nothing is sent twice
    // The incident goes on from where it was.
    Attribution a = port_scan();
    feed(desk, a, 3);
    CHECK(only_incident(desk).state == IncidentState::deactivated);
    CHECK(desk.manager().incidents().size() == 1);
    desk.finish();
}

TEST_CASE("desk: evidence packets go to STATE/evidence/incident-1.pcap, the first N only") {
    World w;
    auto desk = w.open(w.options());
    Attribution a = port_scan();
    feed(*desk, a, 0);

    // A new incident asks the workers for the packets between its two hosts.
    const Enforcement* view = w.worker_view();
    REQUIRE(view != nullptr);
    REQUIRE(view->watches.size() == 1);
    const EvidenceWatch& watch = view->watches[0];
    CHECK(watch.incident == 1);
    CHECK(watch.packets == 3);
    CHECK(watch.matches(ip("10.1.0.101"), kWeb, ip("198.51.100.150"), kNoDeployment));
    CHECK(watch.matches(ip("198.51.100.150"), kNoDeployment, ip("10.1.0.101"), kWeb));
    CHECK_FALSE(watch.matches(ip("10.1.0.102"), kWeb, ip("198.51.100.150"), kNoDeployment));
    CHECK_FALSE(watch.matches(ip("10.1.0.101"), kWeb, ip("198.51.100.151"), kNoDeployment));

    const std::string frame(60, '\x5a');
    EvidenceRecord r{};
    r.incident = 1;
    r.wire_len = 60;
    r.packet_len = 60;
    r.link_type = 101;  // raw IP: not what the Ethernet captures hold
    r.ts = end_of(0);
    desk->on_evidence(r, frame);
    CHECK(desk->counters().evidence_skipped == 1);
    r.link_type = 1;
    for (int i = 0; i < 4; ++i) {
        r.ts = end_of(0) + Nanos(i) * kNsPerMs;
        desk->on_evidence(r, frame);
    }

    const fs::path pcap = fs::path(w.state_dir()) / "evidence" / "incident-1.pcap";
    REQUIRE(fs::exists(pcap));
    CHECK(fs::file_size(pcap) == 24 + 3 * (16 + 60));  // pcap header, 3 records
    CHECK(desk->counters().evidence_packets == 3);
    CHECK(desk->counters().evidence_skipped == 2);
    const Incident& inc = only_incident(*desk);
    CHECK(inc.evidence_file == pcap.string());
    const Event* saved = last_event(inc, "evidence_saved");
    REQUIRE(saved != nullptr);
    CHECK(saved->why == pcap.string());
    CHECK(contains(w.eve.kinds(), "evidence_saved"));

    // The watch is withdrawn once the capture is full.
    view = w.worker_view();
    REQUIRE(view != nullptr);
    CHECK(view->watches.empty());
    CHECK_FALSE(view->active());
    desk->finish();
}

TEST_CASE("desk: the enforcement hook runs on deactivation and reactivation, its result is recorded") {
    World w;
    const fs::path argv_file = w.dir.path / "argv";
    const fs::path stdin_file = w.dir.path / "stdin";
    const std::string hook =
        w.dir.write("hook.sh", fmt::format("#!/bin/sh\necho \"$@\" >> '{}'\ncat > '{}'\necho \"done: $1 $2\"\n",
                                           argv_file.string(), stdin_file.string()));
    REQUIRE(::chmod(hook.c_str(), 0755) == 0);
    DeskOptions o = w.options();
    o.enforcement.hook = hook;
    o.actions = {action("- at: 22s\n  do: reactivate\n  incident: 1\n  reason: fixed\n")};
    auto desk = w.open(std::move(o));
    Attribution a = port_scan();
    for (int k = 0; k < 3; ++k) feed(*desk, a, k);
    REQUIRE(only_incident(*desk).state == IncidentState::deactivated);

    // Replay waits for the hook: it ran, with the incident on stdin.
    CHECK(read_file(argv_file) == "deactivate web\n");
    const auto input = nlohmann::json::parse(read_file(stdin_file));
    CHECK(input["action"] == "deactivate");
    CHECK(input["deployment"] == "web");
    CHECK(input["owner"] == "web@example.com");
    CHECK(input["prefixes"] == nlohmann::json::array({"10.1.0.0/16"}));
    CHECK(input["incident"]["id"] == 1);
    CHECK(input["incident"]["state"] == "deactivated");
    CHECK(input["event"]["kind"] == "deactivated");

    const Event* ran = last_event(only_incident(*desk), "hook_ran");
    REQUIRE(ran != nullptr);
    CHECK(ran->detail["action"] == "deactivate");
    CHECK(ran->detail["ok"] == true);
    CHECK(ran->detail["exit_code"] == 0);
    CHECK(ran->detail["timed_out"] == false);
    CHECK(ran->detail["command"] == hook);
    CHECK(ran->detail["output"] == "done: deactivate web\n");
    CHECK(ran->at == end_of(2));
    const auto kinds = w.eve.kinds();
    const auto deactivated = std::find(kinds.begin(), kinds.end(), "deactivated");
    CHECK(std::find(deactivated, kinds.end(), "hook_ran") != kinds.end());
    CHECK(desk->counters().hooks_run == 1);
    CHECK(desk->counters().hook_failures == 0);

    feed(*desk, a, 3);
    feed(*desk, a, 4);  // the reactivation at 22 s
    REQUIRE(only_incident(*desk).state == IncidentState::reactivated);
    CHECK(read_file(argv_file) == "deactivate web\nreactivate web\n");
    CHECK(nlohmann::json::parse(read_file(stdin_file))["action"] == "reactivate");
    CHECK(desk->counters().hooks_run == 2);
    const Event* again = last_event(only_incident(*desk), "hook_ran");
    REQUIRE(again != nullptr);
    CHECK(again->detail["action"] == "reactivate");
    desk->finish();
}

TEST_CASE("desk: a failing hook is counted and recorded as failed") {
    World w;
    const std::string hook = w.dir.write("hook.sh", "#!/bin/sh\necho 'cloud API: 403' >&2\nexit 4\n");
    REQUIRE(::chmod(hook.c_str(), 0755) == 0);
    DeskOptions o = w.options();
    o.enforcement.hook = hook;
    auto desk = w.open(std::move(o));
    Attribution a = port_scan();
    for (int k = 0; k < 3; ++k) feed(*desk, a, k);
    const Incident& inc = only_incident(*desk);
    CHECK(inc.state == IncidentState::deactivated);  // the blocklist does not depend on the hook
    CHECK(w.web_blocked());
    const Event* ran = last_event(inc, "hook_ran");
    REQUIRE(ran != nullptr);
    CHECK(ran->detail["ok"] == false);
    CHECK(ran->detail["exit_code"] == 4);
    CHECK(ran->detail["output"] == "cloud API: 403\n");
    CHECK(desk->counters().hooks_run == 1);
    CHECK(desk->counters().hook_failures == 1);
    desk->finish();
}

TEST_CASE("desk: without a state directory incidents are reported, but nothing is sent or written") {
    World w;
    DeskOptions o = w.options();
    o.state_dir = "";
    auto desk = w.open(std::move(o));
    Attribution a = port_scan();
    for (int k = 0; k < 3; ++k) feed(*desk, a, k);
    const Incident& inc = only_incident(*desk);
    CHECK(inc.state == IncidentState::open);  // requested, never delivered: no deadline
    CHECK(w.relay.tries() == 0);
    CHECK_FALSE(fs::exists(w.state_dir()));
    CHECK(contains(w.eve.kinds(), "opened"));
    CHECK(contains(w.eve.kinds(), "notify_requested"));
    CHECK(desk->counters().messages_queued == 0);
    desk->finish();
}

TEST_CASE("desk: a full disk holds the journal's changes and the e-mail; both catch up when there is room") {
    World w;
    auto desk = w.open(w.options());
    Attribution a = port_scan();
    const fs::path outbox = fs::path(w.state_dir()) / "outbox";
    {
        sg::test::DiskFull full;
        feed(*desk, a, 0);
        const Incident& inc = only_incident(*desk);  // in memory
        CHECK(inc.state == IncidentState::open);
        CHECK(w.relay.tries() == 0);  // never stored, so never sent
        auto c = desk->counters_json();
        CHECK(c["journal_behind"].get<uint64_t>() >= 1);
        CHECK(c["journal_errors"].get<uint64_t>() >= 1);
        CHECK(c["messages_unstored"] == 1);
        CHECK(c["outbox_errors"].get<uint64_t>() >= 1);
        CHECK(count_files(outbox / "pending", ".eml") == 0);
        CHECK(count_files(outbox / "pending", ".json") == 0);
        // Retried at the next window, still full.
        const uint64_t errors = c["outbox_errors"];
        const uint64_t journal_errors = c["journal_errors"];
        feed(*desk, a, 1);
        c = desk->counters_json();
        CHECK(c["outbox_errors"].get<uint64_t>() > errors);
        CHECK(c["journal_errors"].get<uint64_t>() > journal_errors);
        CHECK(c["messages_unstored"] == 1);
    }
    // Room again: the next window stores and delivers the e-mail, and the
    // journal gets the whole state.
    feed(*desk, a, 2);
    CHECK(w.relay.delivered() == 1);
    const Incident& inc = only_incident(*desk);
    CHECK(inc.state == IncidentState::deadline_set);
    REQUIRE(inc.notifications.size() == 1);
    REQUIRE(inc.notifications[0].sent_at.has_value());
    CHECK(*inc.notifications[0].sent_at == end_of(2));
    auto c = desk->counters_json();
    CHECK(c["journal_behind"] == 0);
    CHECK(c["messages_unstored"] == 0);
    CHECK(c["messages_sent"] == 1);
    CHECK(count_files(outbox / "sent", ".eml") == 1);
    desk->finish();
    CHECK_FALSE(desk->state_lost());
    const nlohmann::json history = desk->incidents_json();
    desk.reset();

    // A restart knows everything and sends nothing again.
    auto again = w.open(w.options());
    CHECK(again->incidents_json() == history);
    again->finish();
    CHECK(w.relay.delivered() == 1);
}

TEST_CASE("desk: a disk still full at the end: the loss is reported (state_lost)") {
    World w;
    auto desk = w.open(w.options());
    Attribution a = port_scan();
    sg::test::DiskFull full;
    feed(*desk, a, 0);
    desk->finish();
    CHECK(desk->state_lost());
    const auto c = desk->counters_json();
    CHECK(c["journal_behind"].get<uint64_t>() >= 1);
    CHECK(c["messages_unstored"] == 1);
    CHECK(w.relay.tries() == 0);
}
