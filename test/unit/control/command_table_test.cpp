// CommandTable: the request line, the reply object, and what a malformed
// request gets (an error, and nothing run).

#include <catch2/catch.hpp>

#include "control/command_table.hpp"

using namespace sg;
using namespace sg::control;
using nlohmann::json;

namespace {

struct Fixture {
    CommandTable table;
    int runs = 0;
    Caller caller{1000, 1000, 42, "alice"};

    Fixture() {
        REQUIRE(table.add("status", "what runs", [this](const Args&, const Caller& who) -> Result<json> {
            ++runs;
            return json{{"who", who.user}};
        }).ok());
        REQUIRE(table.add("incidents show", "one incident", [this](const Args& a, const Caller&) -> Result<json> {
            ++runs;
            const uint64_t id = a.required_number("id", 1);
            if (id == 99) return make_error("incident 99: no such incident");
            return json{{"id", id}};
        }).ok());
        REQUIRE(table.add("extend", "move a deadline", [this](const Args& a, const Caller&) -> Result<json> {
            ++runs;
            const Nanos by = *a.duration("for");
            return json{{"by", by}, {"reason", a.string("reason").value_or("")}, {"dry", a.flag("dry_run")},
                        {"states", a.strings("state")}};
        }).ok());
    }
    json run(std::string_view line) { return table.handle(line, caller); }
};

} // namespace

TEST_CASE("A request runs its command and the reply carries the result") {
    Fixture f;
    CHECK(f.run(R"({"command": "status"})") == json{{"ok", true}, {"result", {{"who", "alice"}}}});
    CHECK(f.run(R"({"command": "incidents show", "args": {"id": 3}})")["result"]["id"] == 3);
    CHECK(f.run(R"({"command": "incidents show", "args": {"id": "7"}})")["result"]["id"] == 7);
    const json r = f.run(R"({"command": "extend", "args": {"for": "24h", "reason": "patching", "state": ["open", "notified"]}})");
    CHECK(r["ok"] == true);
    CHECK(r["result"]["by"] == 24 * 3600 * kNsPerSec);
    CHECK(r["result"]["reason"] == "patching");
    CHECK(r["result"]["dry"] == false);
    CHECK(r["result"]["states"] == json{"open", "notified"});
    CHECK(f.runs == 4);
}

TEST_CASE("A handler's refusal is the reply's error") {
    Fixture f;
    CHECK(f.run(R"({"command": "incidents show", "args": {"id": 99}})") ==
          json{{"ok", false}, {"error", "incident 99: no such incident"}});
}

TEST_CASE("Malformed requests get an error and run nothing") {
    Fixture f;
    const std::pair<const char*, const char*> cases[] = {
        {"status", "malformed request: not JSON (expected {\"command\": ..., \"args\": {...}})"},
        {"{\"command\": \"status\"", "malformed request: not JSON (expected {\"command\": ..., \"args\": {...}})"},
        {"[1, 2]", "malformed request: expected an object, got a list"},
        {"\"status\"", "malformed request: expected an object, got a string"},
        {"{}", "malformed request: 'command' must be a string"},
        {"{\"command\": 5}", "malformed request: 'command' must be a string"},
        {"{\"command\": \"status\", \"args\": [1]}", "malformed request: 'args' must be an object, got a list"},
        {"{\"command\": \"status\", \"argz\": {}}", "malformed request: unknown field 'argz' (expected command, args)"},
        {"{\"command\": \"stauts\"}", "unknown command 'stauts' (known: help, status, incidents show, extend)"},
        {"{\"command\": \"incidents show\"}", "incidents show: argument 'id' is required"},
        {"{\"command\": \"incidents show\", \"args\": {\"id\": \"x\"}}",
         "incidents show: argument 'id': expected a whole number, got 'x'"},
        {"{\"command\": \"incidents show\", \"args\": {\"id\": -3}}",
         "incidents show: argument 'id': expected a whole number, got a number"},
        {"{\"command\": \"incidents show\", \"args\": {\"id\": 0}}",
         "incidents show: argument 'id': expected 1 to 18446744073709551615, got 0"},
        {"{\"command\": \"incidents show\", \"args\": {\"id\": [3]}}",
         "incidents show: argument 'id': expected a whole number, got a list"},
        {"{\"command\": \"extend\", \"args\": {\"for\": \"soon\"}}",
         "extend: argument 'for': expected a duration such as 30m, 24h or 30d, got 'soon'"},
        {"{\"command\": \"extend\", \"args\": {\"for\": \"1h\", \"dry_run\": \"yes\"}}",
         "extend: argument 'dry_run': expected true or false, got a string"},
        {"{\"command\": \"extend\", \"args\": {\"for\": \"1h\", \"state\": [1]}}",
         "extend: argument 'state': expected a list of strings, got a number in it"},
    };
    for (const auto& [line, error] : cases) {
        INFO(line);
        const json r = f.run(line);
        CHECK(r["ok"] == false);
        CHECK(r["error"] == error);
    }
    // Only those with a bad argument reached a handler, which refused it before acting.
    CHECK(f.runs == 8);
}

TEST_CASE("help lists the commands in registration order; names are registered once") {
    Fixture f;
    const json r = f.run(R"({"command": "help"})");
    REQUIRE(r["ok"] == true);
    REQUIRE(r["result"].size() == 3);
    CHECK(r["result"][0] == json{{"command", "status"}, {"help", "what runs"}});
    CHECK(r["result"][1]["command"] == "incidents show");
    CHECK_FALSE(f.table.add("status", "again", [](const Args&, const Caller&) -> Result<json> { return json(); }).ok());
    CHECK_FALSE(f.table.add("help", "mine", [](const Args&, const Caller&) -> Result<json> { return json(); }).ok());
}

TEST_CASE("A handler that throws is an error reply, not a crash") {
    CommandTable table;
    REQUIRE(table.add("boom", "throws", [](const Args&, const Caller&) -> Result<json> {
        throw std::runtime_error("disk on fire");
    }).ok());
    const json r = table.handle(R"({"command": "boom"})", Caller{});
    CHECK(r == json{{"ok", false}, {"error", "boom: failed: disk on fire"}});
}
