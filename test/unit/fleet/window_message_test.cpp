// The envelope of an appliance's window: every field survives the trip,
// every malformed message is refused with a reason, and the configuration
// fingerprint changes exactly when summaries of two appliances could no
// longer be merged.
#include "fleet/window_message.hpp"

#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "config/config.hpp"

using namespace sg;
using namespace sg::fleet;

namespace {

WindowMessage sample() {
    WindowMessage m;
    m.appliance = "edge-1";
    m.run = "1700000000123456789";
    m.seq = 42;
    m.id = "edge-1-1700000000123456789-42";
    m.kind = "window";
    m.config = "0123456789abcdef";
    m.window = 2 * kNsPerSec;
    m.index = 850000000;
    m.attributions = nlohmann::json::array({{{"id", 7}, {"type", "syn_flood"}, {"target", {{"deployment", "web"}}}}});
    return m;
}

// A summary is binary: NULs and high bytes must pass untouched.
const std::string kSummary("SGWS\x01\x00\x00\xff\x80 end", 12);

std::string error_of(std::string_view bytes) {
    const auto r = decode_message(bytes);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

// The message with its JSON header replaced by `header`.
std::string with_header(const std::string& header, std::string_view summary = {}) {
    std::string out = "SGFW";
    out.push_back(char(kWindowMessageVersion));
    const auto n = uint32_t(header.size());
    for (int i = 0; i < 4; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
    return out + header + std::string(summary);
}

Config config_of(const std::string& yaml) {
    const auto r = parse_config(yaml, "cfg.yaml");
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return *r;
}

const std::string kDeployments =
    "deployments:\n"
    "  - {name: web, owner: web@example.com, prefixes: [10.1.0.0/16, 2001:db8:1::/48]}\n"
    "  - {name: db, prefixes: [10.2.0.0/16]}\n";

} // namespace

TEST_CASE("window message: every field and the summary bytes survive encode and decode", "[fleet]") {
    const WindowMessage m = sample();
    const std::string bytes = encode_message(m, kSummary);
    CHECK(bytes.substr(0, 5) == std::string("SGFW\x01", 5));
    const auto r = decode_message(bytes);
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->appliance == m.appliance);
    CHECK(r->run == m.run);
    CHECK(r->seq == m.seq);
    CHECK(r->id == m.id);
    CHECK(r->kind == "window");
    CHECK(r->config == m.config);
    CHECK(r->window == m.window);
    CHECK(r->index == m.index);
    CHECK(r->attributions == m.attributions);
    CHECK(r->summary == kSummary);

    SECTION("a bye carries no summary and no attributions") {
        WindowMessage bye = sample();
        bye.kind = "bye";
        bye.index = 0;
        bye.attributions = nlohmann::json::array();
        const auto b = decode_message(encode_message(bye, {}));
        REQUIRE(b.ok());
        CHECK(b->kind == "bye");
        CHECK(b->summary.empty());
        CHECK(b->attributions.empty());
    }
    SECTION("the largest numbers") {
        WindowMessage big = sample();
        big.seq = UINT64_MAX;
        big.index = UINT64_MAX;
        big.window = 60 * kNsPerSec;
        const auto b = decode_message(encode_message(big, kSummary));
        REQUIRE(b.ok());
        CHECK(b->seq == UINT64_MAX);
        CHECK(b->index == UINT64_MAX);
        CHECK(b->window == 60 * kNsPerSec);
    }
}

TEST_CASE("window message: a malformed message is refused with what is wrong", "[fleet]") {
    const std::string good = encode_message(sample(), kSummary);

    SECTION("wrong magic") {
        std::string bad = good;
        bad[3] = 'S';
        CHECK(error_of(bad) == fmt::format("not a window message ({} bytes, no SGFW magic)", bad.size()));
        // A window summary alone (the codec's own magic) is no message either.
        CHECK(error_of(kSummary) == "not a window message (12 bytes, no SGFW magic)");
    }
    SECTION("shorter than the fixed prefix") {
        CHECK(error_of("") == "not a window message (0 bytes, no SGFW magic)");
        CHECK(error_of(good.substr(0, 8)) == "not a window message (8 bytes, no SGFW magic)");
    }
    SECTION("another version") {
        std::string bad = good;
        bad[4] = 2;
        CHECK(error_of(bad) == "window message version 2, this build reads 1");
    }
    SECTION("a header longer than the message") {
        const size_t header = good.size() - 9 - kSummary.size();
        const std::string cut = good.substr(0, 9 + header - 1);
        CHECK(error_of(cut) == fmt::format("window message header of {} bytes in a message of {}", header, cut.size()));
        std::string huge = good;
        huge[8] = char(0xff);  // the length's high byte
        CHECK(error_of(huge).find("window message header of") == 0);
    }
    SECTION("a header that is not the expected JSON") {
        CHECK(error_of(with_header("{\"appliance\": \"a\"")).find("window message header: ") == 0);
        nlohmann::json h = nlohmann::json::parse(good.substr(9, good.size() - 9 - kSummary.size()));
        h.erase("index");
        CHECK(error_of(with_header(h.dump())).find("window message header: ") == 0);
        CHECK(error_of(with_header(h.dump())).find("index") != std::string::npos);
        h = nlohmann::json::parse(good.substr(9, good.size() - 9 - kSummary.size()));
        h["seq"] = "forty-two";
        CHECK(error_of(with_header(h.dump())).find("window message header: ") == 0);
    }
    SECTION("an unknown kind") {
        WindowMessage m = sample();
        m.kind = "hello";
        CHECK(error_of(encode_message(m, kSummary)) == "window message of kind 'hello' (expected window or bye)");
    }
    SECTION("no appliance name") {
        WindowMessage m = sample();
        m.appliance = "";
        CHECK(error_of(encode_message(m, kSummary)) == "window message without an appliance name");
    }
}

TEST_CASE("config fingerprint: the window length and the deployments in order, nothing else", "[fleet]") {
    const Config base = config_of(kDeployments);
    const std::string fp = config_fingerprint(base);
    CHECK(fp.size() == 16);
    CHECK(fp.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(config_fingerprint(config_of(kDeployments)) == fp);  // stable

    SECTION("changes with what makes summaries unmergeable") {
        // The deployments in another order: their ids in the summaries differ.
        CHECK(config_fingerprint(config_of("deployments:\n"
                                           "  - {name: db, prefixes: [10.2.0.0/16]}\n"
                                           "  - {name: web, owner: web@example.com, prefixes: [10.1.0.0/16, "
                                           "2001:db8:1::/48]}\n")) != fp);
        // A prefix more, less or changed.
        CHECK(config_fingerprint(config_of("deployments:\n"
                                           "  - {name: web, prefixes: [10.1.0.0/16, 2001:db8:1::/48, 10.9.0.0/24]}\n"
                                           "  - {name: db, prefixes: [10.2.0.0/16]}\n")) != fp);
        CHECK(config_fingerprint(config_of("deployments:\n"
                                           "  - {name: web, prefixes: [10.1.0.0/16]}\n"
                                           "  - {name: db, prefixes: [10.2.0.0/16]}\n")) != fp);
        CHECK(config_fingerprint(config_of("deployments:\n"
                                           "  - {name: web, prefixes: [10.1.0.0/16, 2001:db8:1::/48]}\n"
                                           "  - {name: db, prefixes: [10.2.0.0/17]}\n")) != fp);
        // A deployment renamed, added or removed.
        CHECK(config_fingerprint(config_of("deployments:\n"
                                           "  - {name: www, prefixes: [10.1.0.0/16, 2001:db8:1::/48]}\n"
                                           "  - {name: db, prefixes: [10.2.0.0/16]}\n")) != fp);
        CHECK(config_fingerprint(config_of(kDeployments + "  - {name: mail, prefixes: [10.3.0.0/16]}\n")) != fp);
        CHECK(config_fingerprint(config_of("deployments:\n"
                                           "  - {name: web, prefixes: [10.1.0.0/16, 2001:db8:1::/48]}\n")) != fp);
        // Another window length.
        CHECK(config_fingerprint(config_of(kDeployments + "detect:\n  window: 2s\n")) != fp);
        CHECK(config_fingerprint(config_of(kDeployments + "detect:\n  window: 1s\n")) == fp);  // the default
    }
    SECTION("the same with everything else changed") {
        const Config other = config_of(
            "deployments:\n"
            "  - {name: web, owner: ops@example.com, prefixes: [10.1.0.0/16, 2001:db8:1::/48],\n"
            "     thresholds: {bruteforce: {attempts: 5}}}\n"
            "  - {name: db, owner: dba@example.com, prefixes: [10.2.0.0/16]}\n"
            "workers: 4\n"
            "ports:\n  - {name: wire0, device: net_null0}\n"
            "state_dir: /tmp/elsewhere\n"
            "policy:\n  deadline: 2h\n"
            "metrics:\n  listen: 127.0.0.1:9100\n"
            "fleet:\n  servers: [nats://10.0.0.1:4222]\n  name: edge-7\n  site: lab\n  replicas: 1\n");
        CHECK(config_fingerprint(other) == fp);
    }
}
