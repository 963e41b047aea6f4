#include "notify/outbox.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../temp_dir.hpp"

using namespace sg::notify;
using sg::test::read_file;
using sg::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr sg::Nanos kNow = 1700000000ULL * sg::kNsPerSec;
constexpr sg::Nanos kSec = sg::kNsPerSec;

// A relay in memory: records what it accepted; `down` makes it refuse.
struct FakeRelay {
    bool down = false;
    std::vector<std::pair<Envelope, std::string>> accepted;
    unsigned tries = 0;
    Sender sender() {
        return [this](const Envelope& env, std::string_view bytes) -> sg::Result<> {
            ++tries;
            if (down) return sg::make_error("smtp: connection refused");
            accepted.emplace_back(env, std::string(bytes));
            return {};
        };
    }
};

Message message(const std::string& id, const std::string& to = "owner@example.com") {
    Message m;
    m.id = id;
    m.message_id = "<safeguard." + id + "@provider.example>";
    m.from = "safeguard@provider.example";
    m.to = {to};
    m.bytes = "From: Safeguard <safeguard@provider.example>\r\nTo: <" + to + ">\r\nSubject: " + id +
              "\r\nMessage-ID: " + m.message_id + "\r\n\r\nbody of " + id + "\r\n";
    return m;
}

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

Outbox open_outbox(const TempDir& dir, FakeRelay& relay) {
    auto o = Outbox::open(dir.path.string() + "/state", relay.sender());
    INFO((o.ok() ? "" : o.error().message));
    REQUIRE(o.ok());
    return std::move(*o);
}

} // namespace

TEST_CASE("enqueue stores the message and its envelope in pending/, with no temp file left") {
    TempDir dir;
    FakeRelay relay;
    Outbox o = open_outbox(dir, relay);
    const Message m = message("inc1-target-aa");
    REQUIRE(o.enqueue(m).value() == EnqueueOutcome::queued);
    const fs::path pending = dir.path / "state/outbox/pending";
    CHECK(files_in(pending) == std::vector<std::string>{"inc1-target-aa.eml", "inc1-target-aa.json"});
    CHECK(read_file(pending / "inc1-target-aa.eml") == m.bytes);
    CHECK(files_in(dir.path / "state/outbox/sent").empty());
    const auto p = o.pending();
    REQUIRE(p.size() == 1);
    CHECK(p[0].envelope.from == "safeguard@provider.example");
    CHECK(p[0].envelope.to == std::vector<std::string>{"owner@example.com"});
    CHECK(p[0].attempts == 0);
    CHECK(o.next_due() == sg::Nanos(0));
    CHECK(relay.tries == 0);  // enqueue never sends
}

TEST_CASE("delivery moves a message to sent/, and nothing in sent/ is ever sent again") {
    TempDir dir;
    FakeRelay relay;
    {
        Outbox o = open_outbox(dir, relay);
        REQUIRE(o.enqueue(message("a")).ok());
        REQUIRE(o.enqueue(message("b", "other@example.com")).ok());
        const auto r = o.deliver_due(kNow);
        REQUIRE(r.ok());
        CHECK(r->sent == 2);
        CHECK(r->failed == 0);
        REQUIRE(relay.accepted.size() == 2);
        CHECK(relay.accepted[0].second == message("a").bytes);
        CHECK(relay.accepted[1].first.to == std::vector<std::string>{"other@example.com"});
        CHECK(files_in(dir.path / "state/outbox/pending").empty());
        CHECK(files_in(dir.path / "state/outbox/sent") == std::vector<std::string>{"a.eml", "b.eml"});
        CHECK(o.sent() == std::vector<std::string>{"a", "b"});
        CHECK(o.deliver_due(kNow + 3600 * kSec)->sent == 0);
        CHECK_FALSE(o.next_due().has_value());
    }
    // A restart finds nothing to send; enqueueing the same message again is a no-op.
    Outbox again = open_outbox(dir, relay);
    CHECK(again.enqueue(message("a")).value() == EnqueueOutcome::already_sent);
    CHECK(again.deliver_due(kNow + 7200 * kSec)->sent == 0);
    CHECK(relay.accepted.size() == 2);
}

TEST_CASE("a restart resumes what was pending, attempts and next try included") {
    TempDir dir;
    FakeRelay relay;
    relay.down = true;
    {
        Outbox o = open_outbox(dir, relay);
        REQUIRE(o.enqueue(message("a")).ok());
        REQUIRE(o.enqueue(message("b")).ok());
        CHECK(o.enqueue(message("a")).value() == EnqueueOutcome::already_pending);
        const auto r = o.deliver_due(kNow);
        REQUIRE(r.ok());
        CHECK(r->sent == 0);
        CHECK(r->failed == 2);
        CHECK(r->errors[0] == "a: smtp: connection refused");
    }
    relay.down = false;
    Outbox o = open_outbox(dir, relay);
    const auto p = o.pending();
    REQUIRE(p.size() == 2);
    CHECK(p[0].attempts == 1);
    CHECK(p[0].next_try == kNow + 30 * kSec);
    CHECK(p[0].last_error == "smtp: connection refused");
    CHECK(o.next_due() == kNow + 30 * kSec);
    CHECK(o.deliver_due(kNow + 29 * kSec)->sent == 0);  // not due yet
    CHECK(relay.accepted.empty());
    CHECK(o.deliver_due(kNow + 30 * kSec)->sent == 2);
    CHECK(relay.accepted.size() == 2);
    CHECK(files_in(dir.path / "state/outbox/pending").empty());
}

TEST_CASE("failed attempts back off exponentially, bounded") {
    const Backoff b{30 * kSec, 3600 * kSec};
    CHECK(next_try(kNow, 1, b) == kNow + 30 * kSec);
    CHECK(next_try(kNow, 2, b) == kNow + 60 * kSec);
    CHECK(next_try(kNow, 3, b) == kNow + 120 * kSec);
    CHECK(next_try(kNow, 7, b) == kNow + 1920 * kSec);
    CHECK(next_try(kNow, 8, b) == kNow + 3600 * kSec);
    CHECK(next_try(kNow, 1000, b) == kNow + 3600 * kSec);

    TempDir dir;
    FakeRelay relay;
    relay.down = true;
    Outbox o = open_outbox(dir, relay);
    REQUIRE(o.enqueue(message("a")).ok());
    sg::Nanos now = kNow;
    std::vector<sg::Nanos> waits;
    for (int i = 0; i < 9; ++i) {
        REQUIRE(o.deliver_due(now)->failed == 1);
        const sg::Nanos due = *o.next_due();
        waits.push_back((due - now) / kSec);
        CHECK(o.deliver_due(due - 1)->failed == 0);  // nothing before it is due
        now = due;
    }
    CHECK(waits == std::vector<sg::Nanos>{30, 60, 120, 240, 480, 960, 1920, 3600, 3600});
    CHECK(o.pending()[0].attempts == 9);
    relay.down = false;
    CHECK(o.deliver_due(now)->sent == 1);
    CHECK(relay.accepted.size() == 1);
}

TEST_CASE("open cleans up what a crash left: temp files and sidecars of sent messages") {
    TempDir dir;
    FakeRelay relay;
    { Outbox o = open_outbox(dir, relay); }
    const fs::path pending = dir.path / "state/outbox/pending";
    std::ofstream(pending / ".tmp-x.eml-123-0") << "half written";
    std::ofstream(pending / "gone.json") << R"({"from":"a@b","to":["c@d"]})";  // its .eml was moved to sent/
    // A message whose sidecar is lost still goes out, to the addresses in its headers.
    std::ofstream(pending / "orphan.eml", std::ios::binary) << message("orphan", "who@example.com").bytes;
    Outbox o = open_outbox(dir, relay);
    CHECK(files_in(pending) == std::vector<std::string>{"orphan.eml"});
    const auto r = o.deliver_due(kNow);
    REQUIRE(r.ok());
    CHECK(r->sent == 1);
    REQUIRE(relay.accepted.size() == 1);
    CHECK(relay.accepted[0].first.from == "safeguard@provider.example");
    CHECK(relay.accepted[0].first.to == std::vector<std::string>{"who@example.com"});
}

TEST_CASE("errors are clear and nothing is dropped silently") {
    TempDir dir;
    FakeRelay relay;
    // A state directory that cannot be created.
    std::ofstream(dir.path / "file") << "x";
    const auto bad = Outbox::open((dir.path / "file/state").string(), relay.sender());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == (dir.path / "file/state").string() + ": cannot create directory: Not a directory");
    CHECK(Outbox::open("", relay.sender()).error().message == "state_dir: expected a directory, got nothing");

    Outbox o = open_outbox(dir, relay);
    CHECK_FALSE(o.enqueue(message("../escape")).ok());
    CHECK_FALSE(o.enqueue(message(".hidden")).ok());
    Message no_rcpt = message("x");
    no_rcpt.to.clear();
    CHECK_FALSE(o.enqueue(no_rcpt).ok());

    // pending/ gone (disk trouble, an operator's rm): enqueue fails naming the file.
    fs::remove_all(dir.path / "state/outbox/pending");
    const auto r = o.enqueue(message("a"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("outbox/pending/a.json: cannot write: No such file or directory") != std::string::npos);
    CHECK(write_file_atomic((dir.path / "nodir/f").string(), "x").error().message ==
          (dir.path / "nodir/f").string() + ": cannot write: No such file or directory");
}

TEST_CASE("write_file_atomic replaces a file whole") {
    TempDir dir;
    const std::string path = (dir.path / "f").string();
    REQUIRE(write_file_atomic(path, "first").ok());
    REQUIRE(write_file_atomic(path, "second").ok());
    CHECK(read_file(path) == "second");
    CHECK(files_in(dir.path) == std::vector<std::string>{"f"});
}
