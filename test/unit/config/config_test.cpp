// GCC 12 at -O3 reports std::string members of a Config copied from a
// temporary as maybe-uninitialized (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "config/config.hpp"
#include "config/config_json.hpp"

#include <catch2/catch.hpp>

#include "../temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using sg::Mode;
using sg::parse_config;

namespace {

using sg::test::TempDir;

std::string error_of(std::string_view yaml) {
    const auto r = parse_config(yaml, "cfg.yaml");
    REQUIRE_FALSE(r.ok());
    return r.error().message;
}

// The first ```yaml block after "## Full example" in docs/configuration.md.
std::string documented_example() {
    std::ifstream in(SG_SOURCE_ROOT "/docs/configuration.md");
    REQUIRE(in);
    std::stringstream doc;
    doc << in.rdbuf();
    const std::string text = doc.str();
    const auto section = text.find("## Full example");
    REQUIRE(section != std::string::npos);
    const auto begin = text.find("```yaml\n", section);
    REQUIRE(begin != std::string::npos);
    const auto end = text.find("```", begin + 8);
    REQUIRE(end != std::string::npos);
    return text.substr(begin + 8, end - begin - 8);
}

const char* kPorts =
    "ports:\n"
    "  - {name: wire0, device: a}\n"
    "  - {name: wire1, device: b}\n"
    "  - {name: wire2, device: c}\n"; // lines 1-4

} // namespace

TEST_CASE("The documented full example loads with every field as written") {
    TempDir dir;
    const std::string path = dir.write("safeguard.yaml", documented_example());
    const auto r = sg::load_config(path);
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    const sg::Config& c = *r;

    CHECK(c.source == path);
    CHECK(c.mode == Mode::inline_);
    CHECK(c.workers == 4);

    REQUIRE(c.ports.size() == 4);
    CHECK(c.ports[0].name == "wire0");
    CHECK(c.ports[0].device == "0000:3b:00.0");
    CHECK(c.ports[1].name == "wire1");
    CHECK(c.ports[1].device == "0000:3b:00.1");
    CHECK(c.ports[2].name == "wire2");
    CHECK(c.ports[2].device == "0000:af:00.0");
    CHECK(c.ports[3].name == "wire3");
    CHECK(c.ports[3].device == "0000:af:00.1");
    using Pair = std::pair<std::string, std::string>;
    CHECK(c.inline_pairs == std::vector<Pair>{{"wire0", "wire1"}, {"wire2", "wire3"}});

    CHECK(c.sizes.mbufs == 65535);
    CHECK(c.sizes.mbuf_cache == 512);
    CHECK(c.sizes.rx_descriptors == 2048);
    CHECK(c.sizes.tx_descriptors == 2048);
    CHECK(c.sizes.flow_table == 262144);
    CHECK(c.sizes.ring == 8192);
    CHECK(c.sizes.burst == 64);

    CHECK(c.flow_timeout.tcp == 2 * 3600 * sg::kNsPerSec);
    CHECK(c.flow_timeout.tcp_closed == 15 * sg::kNsPerSec);
    CHECK(c.flow_timeout.udp == 90 * sg::kNsPerSec);
    CHECK(c.flow_timeout.other == 60 * sg::kNsPerSec);

    CHECK(c.outputs.report == "/var/lib/safeguard/report.json");
    CHECK(c.outputs.eve == "/var/log/safeguard/eve.json");

    REQUIRE(c.deployments.size() == 2);
    CHECK(c.deployments[0].name == "web");
    CHECK(c.deployments[0].owner == "web-team@example.com");
    REQUIRE(c.deployments[0].prefixes.size() == 2);
    CHECK(c.deployments[0].prefixes[0].to_string() == "203.0.113.0/24");
    CHECK(c.deployments[0].prefixes[1].to_string() == "2001:db8:10::/48");
    CHECK(c.deployments[1].name == "mail");
    CHECK(c.deployments[1].owner.empty());
    REQUIRE(c.deployments[1].prefixes.size() == 2);
    CHECK(c.deployments[1].prefixes[0].to_string() == "198.51.100.16/28");
    CHECK(c.deployments[1].prefixes[1].to_string() == "192.0.2.25/32");

    CHECK(c.notify.smtp_url == "smtp://127.0.0.1:25");
    CHECK(c.notify.from == "safeguard@provider.example");
    CHECK(c.notify.reply_to == "abuse@provider.example");
    CHECK(c.control.socket == "/run/safeguard/control.sock");
    CHECK(c.control.group == "safeguard");
    CHECK(c.metrics.enabled);
    CHECK(c.metrics.listen() == "127.0.0.1:9100");
    CHECK(c.eal == std::vector<std::string>{"-l", "0-4", "-n", "4", "--file-prefix", "safeguard"});
}

TEST_CASE("An empty file, or one with only comments, gives the defaults") {
    TempDir dir;
    for (const char* text : {"", "# nothing yet\n", "---\n"}) {
        const std::string path = dir.write("empty.yaml", text);
        const auto r = sg::load_config(path);
        REQUIRE(r.ok());
        const sg::Config& c = *r;
        CHECK(c.source == path);
        CHECK(c.mode == Mode::tap);
        CHECK(c.workers == 1);
        CHECK(c.ports.empty());
        CHECK(c.inline_pairs.empty());
        CHECK(c.sizes.mbufs == 16383);
        CHECK(c.sizes.mbuf_cache == 256);
        CHECK(c.sizes.rx_descriptors == 1024);
        CHECK(c.sizes.tx_descriptors == 1024);
        CHECK(c.sizes.flow_table == 65536);
        CHECK(c.sizes.ring == 4096);
        CHECK(c.sizes.burst == 32);
        CHECK(c.flow_timeout.tcp == 3600 * sg::kNsPerSec);
        CHECK(c.flow_timeout.tcp_closed == 30 * sg::kNsPerSec);
        CHECK(c.flow_timeout.udp == 120 * sg::kNsPerSec);
        CHECK(c.flow_timeout.other == 60 * sg::kNsPerSec);
        CHECK(c.outputs.report.empty());
        CHECK(c.outputs.eve.empty());
        CHECK(c.deployments.empty());
        CHECK(c.control.socket.empty());
        CHECK(c.control.group.empty());
        CHECK_FALSE(c.metrics.enabled);
        CHECK(c.eal.empty());
    }
}

TEST_CASE("Sections left empty keep their defaults; inline_pairs may come before ports") {
    const auto r = parse_config(
        "sizes:\nflow_timeout:\n"
        "mode: inline\n"
        "inline_pairs: [[wire1, wire0]]\n"
        "ports:\n"
        "  - {name: wire0, device: a}\n"
        "  - {name: wire1, device: b}\n",
        "cfg.yaml");
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->sizes.ring == 4096);
    CHECK(r->inline_pairs.at(0) == std::pair<std::string, std::string>{"wire1", "wire0"});
}

TEST_CASE("Unknown keys are errors at every level, with the closest key suggested") {
    CHECK(error_of("mode: tap\nwokers: 4\n") ==
          "cfg.yaml:2: unknown key 'wokers' (expected one of: mode, workers, ports, inline_pairs, "
          "sizes, flow_timeout, outputs, deployments, control, metrics, rules, detect, notify, policy, enforcement, fleet, state_dir, eal); did you mean 'workers'?");
    CHECK(error_of("sizes:\n  mbufs: 2048\n  burts: 16\n") ==
          "cfg.yaml:3: sizes: unknown key 'burts' (expected one of: mbufs, mbuf_cache, "
          "rx_descriptors, tx_descriptors, flow_table, ring, burst, stream_buffers, "
          "stream_buffer_size, stream_chunk); did you mean 'burst'?");
    CHECK(error_of("deployments:\n  - name: web\n    prefix: [10.0.0.0/8]\n") ==
          "cfg.yaml:3: deployments[0]: unknown key 'prefix' (expected one of: name, owner, "
          "prefixes, thresholds); did you mean 'prefixes'?");
    // Nothing close: no guess.
    CHECK(error_of("threads: 4\n") ==
          "cfg.yaml:1: unknown key 'threads' (expected one of: mode, workers, ports, inline_pairs, "
          "sizes, flow_timeout, outputs, deployments, control, metrics, rules, detect, notify, policy, enforcement, fleet, state_dir, eal)");
    CHECK(error_of("workers: 2\nmode: tap\nworkers: 3\n") ==
          "cfg.yaml:3: workers: repeated key (first on line 1)");
}

TEST_CASE("Integers must be integers within their bounds") {
    CHECK(error_of("mode: tap\n\nworkers: many\n") ==
          "cfg.yaml:3: workers: expected an integer between 1 and 128, got 'many'");
    CHECK(error_of("workers: 0\n") ==
          "cfg.yaml:1: workers: expected an integer between 1 and 128, got '0'");
    CHECK(error_of("workers: 129\n") ==
          "cfg.yaml:1: workers: expected an integer between 1 and 128, got '129'");
    CHECK(error_of("workers: -1\n") ==
          "cfg.yaml:1: workers: expected an integer between 1 and 128, got '-1'");
    CHECK(error_of("workers: 2.5\n") ==
          "cfg.yaml:1: workers: expected an integer between 1 and 128, got '2.5'");
    CHECK(error_of("workers:\n") ==
          "cfg.yaml:1: workers: expected an integer between 1 and 128, got nothing");
    CHECK(error_of("sizes:\n  burst: 300\n") ==
          "cfg.yaml:2: sizes.burst: expected an integer between 1 and 256, got '300'");
    CHECK(error_of("sizes:\n  mbufs: 1000\n") ==
          "cfg.yaml:2: sizes.mbufs: expected an integer between 1024 and 16777216, got '1000'");
    CHECK(error_of("sizes:\n  ring: 1000\n") ==
          "cfg.yaml:2: sizes.ring: expected a power of two between 64 and 1048576, got '1000' (try "
          "1024)");
    CHECK(error_of("sizes:\n  ring: 32\n") ==
          "cfg.yaml:2: sizes.ring: expected a power of two between 64 and 1048576, got '32'");
    CHECK(error_of("sizes: 5\n") == "cfg.yaml:1: sizes: expected a map, got '5'");
}

TEST_CASE("Durations take a unit or a number of seconds, within 1s to 30d") {
    const auto r = parse_config(
        "flow_timeout: {tcp: 1d, tcp_closed: 1500ms, udp: 45, other: 10m}\n", "cfg.yaml");
    REQUIRE(r.ok());
    CHECK(r->flow_timeout.tcp == 86400 * sg::kNsPerSec);
    CHECK(r->flow_timeout.tcp_closed == 1500 * sg::kNsPerMs);
    CHECK(r->flow_timeout.udp == 45 * sg::kNsPerSec);
    CHECK(r->flow_timeout.other == 600 * sg::kNsPerSec);

    const std::string expected = "expected a duration from 1s to 30d such as 30s, 15m or 1h";
    CHECK(error_of("flow_timeout:\n  tcp: 1h\n  udp: soon\n") ==
          "cfg.yaml:3: flow_timeout.udp: " + expected + ", got 'soon'");
    CHECK(error_of("flow_timeout:\n  other: 10x\n") ==
          "cfg.yaml:2: flow_timeout.other: " + expected + ", got '10x'");
    CHECK(error_of("flow_timeout:\n  other: 500ms\n") ==
          "cfg.yaml:2: flow_timeout.other: " + expected + ", got '500ms'");
    CHECK(error_of("flow_timeout:\n  tcp: 31d\n") ==
          "cfg.yaml:2: flow_timeout.tcp: " + expected + ", got '31d'");
}

TEST_CASE("Values of the wrong kind name what was expected") {
    CHECK(error_of("mode: inlined\n") ==
          "cfg.yaml:1: mode: expected 'tap' or 'inline', got 'inlined'");
    CHECK(error_of("ports: wire0\n") == "cfg.yaml:1: ports: expected a list, got 'wire0'");
    CHECK(error_of("ports:\n  - name: wire0\n") == "cfg.yaml:2: ports[0]: missing key 'device'");
    CHECK(
        error_of("ports:\n  - name: wire 0\n    device: a\n") ==
        "cfg.yaml:2: ports[0].name: expected a name of letters, digits, '_' or '-', got 'wire 0'");
    CHECK(error_of("outputs:\n  eve: [a, b]\n") ==
          "cfg.yaml:2: outputs.eve: expected a non-empty string, got a list");
    CHECK(error_of("eal: [\"-l\", \"\"]\n") ==
          "cfg.yaml:1: eal[1]: expected a non-empty string, got ''");
    CHECK(error_of("control:\n  socket: /" + std::string(110, 's') + "\n") ==
          "cfg.yaml:2: control.socket: expected a socket path of at most 107 bytes, got '/" +
              std::string(110, 's') + "'");
    CHECK(error_of("- mode: tap\n") ==
          "cfg.yaml:1: expected a map of settings at the top level, got a list");
    CHECK(error_of("hello\n") ==
          "cfg.yaml:1: expected a map of settings at the top level, got 'hello'");
}

TEST_CASE("Deployments need a unique name, an e-mail owner and valid prefixes") {
    CHECK(error_of("deployments:\n"
                   "  - name: web\n"
                   "    prefixes:\n"
                   "      - 10.0.0.0/8\n"
                   "      - 10.1.2.3/16\n") ==
          "cfg.yaml:5: deployments[0].prefixes[1]: expected a CIDR prefix, got '10.1.2.3/16': "
          "host bits are set (did you mean 10.1.0.0/16?)");
    CHECK(error_of("deployments:\n  - name: web\n    prefixes: [web.example.com]\n") ==
          "cfg.yaml:3: deployments[0].prefixes[0]: expected a CIDR prefix, got 'web.example.com': "
          "'web.example.com' is not an IPv4 or IPv6 address");
    CHECK(error_of("deployments:\n  - name: web\n    prefixes: []\n") ==
          "cfg.yaml:3: deployments[0].prefixes: expected a list of at least one prefix, got an "
          "empty list");
    CHECK(error_of("deployments:\n  - name: web\n") ==
          "cfg.yaml:2: deployments[0]: missing key 'prefixes'");
    CHECK(error_of("deployments:\n  - name: web\n    owner: alice\n    prefixes: [10.0.0.0/8]\n") ==
          "cfg.yaml:3: deployments[0].owner: expected an e-mail address, got 'alice'");
    CHECK(error_of("deployments:\n"
                   "  - name: web\n"
                   "    prefixes: [10.0.0.0/8]\n"
                   "  - name: web\n"
                   "    prefixes: [10.1.0.0/16]\n") ==
          "cfg.yaml:4: deployments[1].name: expected a unique deployment name, got 'web' (also on "
          "line 2)");
}

TEST_CASE("Ports have unique names and inline pairs name known, distinct, unpaired ports") {
    CHECK(error_of("ports:\n"
                   "  - name: wire0\n"
                   "    device: a\n"
                   "  - name: wire0\n"
                   "    device: b\n") ==
          "cfg.yaml:4: ports[1].name: expected a unique port name, got 'wire0' (also on line 2)");
    const std::string ports = kPorts;
    CHECK(error_of(ports + "mode: inline\ninline_pairs:\n  - [wire0, wire9]\n") ==
          "cfg.yaml:7: inline_pairs[0][1]: expected the name of a port listed under ports, got "
          "'wire9'");
    CHECK(error_of(ports + "mode: inline\ninline_pairs:\n  - [wire0, wire0]\n") ==
          "cfg.yaml:7: inline_pairs[0]: expected two different ports, got 'wire0' twice");
    CHECK(
        error_of(ports + "mode: inline\ninline_pairs:\n  - [wire0, wire1]\n  - [wire2, wire0]\n") ==
        "cfg.yaml:8: inline_pairs[1][1]: expected a port that is in no other pair, got 'wire0' "
        "(also on line 7)");
    CHECK(error_of(ports + "mode: inline\ninline_pairs:\n  - [wire0]\n") ==
          "cfg.yaml:7: inline_pairs[0]: expected a pair of port names such as [wire0, wire1], got "
          "a list");
}

TEST_CASE("The mode and the inline pairs must agree") {
    const std::string ports = kPorts;
    CHECK(error_of(ports + "inline_pairs:\n  - [wire0, wire1]\n") ==
          "cfg.yaml:5: inline_pairs: pairs are only used with 'mode: inline', but mode is 'tap'");
    CHECK(error_of(ports + "mode: tap\ninline_pairs: [[wire0, wire1]]\n") ==
          "cfg.yaml:6: inline_pairs: pairs are only used with 'mode: inline', but mode is 'tap'");
    CHECK(error_of("workers: 2\nmode: inline\n") ==
          "cfg.yaml:2: mode: 'inline' needs at least one entry in inline_pairs");
    CHECK(error_of(ports + "mode: inline\ninline_pairs: []\n") ==
          "cfg.yaml:5: mode: 'inline' needs at least one entry in inline_pairs");
}

TEST_CASE("YAML syntax errors and unreadable files are reported, not thrown") {
    CHECK(error_of("mode: tap\nworkers: 2\nports: [wire0,\n") ==
          "cfg.yaml:4: invalid YAML: end of sequence flow not found");
    CHECK(error_of("mode: tap\nsizes:\n  burst: 32\n ring: 64\n") ==
          "cfg.yaml:4: invalid YAML: end of map not found");

    TempDir dir;
    const std::string missing = (dir.path / "missing.yaml").string();
    const auto r = sg::load_config(missing);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == missing + ": cannot read: No such file or directory");

    const auto d = sg::load_config(dir.path.string());
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().message == dir.path.string() + ": cannot read: Is a directory");

    const std::string bad = dir.write("bad.yaml", "# workers\n\nworkers: 0\n");
    const auto b = sg::load_config(bad);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message == bad + ":3: workers: expected an integer between 1 and 128, got '0'");
}

TEST_CASE("--protect takes a name and comma-separated prefixes") {
    const auto d = sg::parse_protect("web=10.0.0.0/8,2001:db8::/32");
    REQUIRE(d.ok());
    CHECK(d->name == "web");
    CHECK(d->owner.empty());
    REQUIRE(d->prefixes.size() == 2);
    CHECK(d->prefixes[0].to_string() == "10.0.0.0/8");
    CHECK(d->prefixes[1].to_string() == "2001:db8::/32");

    const auto host = sg::parse_protect("db=192.0.2.7");
    REQUIRE(host.ok());
    CHECK(host->prefixes.at(0).to_string() == "192.0.2.7/32");

    CHECK(sg::parse_protect("web").error().message ==
          "--protect: expected NAME=PREFIX[,PREFIX...], got 'web'");
    CHECK(sg::parse_protect("=10.0.0.0/8").error().message ==
          "--protect: expected a name before '=', got '=10.0.0.0/8'");
    CHECK(sg::parse_protect("web=").error().message ==
          "--protect web: expected at least one prefix after '='");
    CHECK(sg::parse_protect("web=10.0.0.0/8,10.1.2.3/16").error().message ==
          "--protect web: expected a CIDR prefix, got '10.1.2.3/16': host bits are set (did you "
          "mean 10.1.0.0/16?)");
    CHECK(sg::parse_protect("web=10.0.0.0/8,").error().message ==
          "--protect web: expected a CIDR prefix, got '': '' is not an IPv4 or IPv6 address");
}

TEST_CASE("validate() catches what a change after loading broke, naming the source") {
    CHECK(sg::validate(sg::Config{}).ok());

    auto cfg =
        parse_config("deployments:\n  - name: web\n    prefixes: [10.0.0.0/8]\n", "cfg.yaml");
    REQUIRE(cfg.ok());
    cfg->deployments.push_back(*sg::parse_protect("web=192.0.2.0/24"));
    CHECK(sg::validate(*cfg).error().message ==
          "cfg.yaml: deployments: deployment 'web' is defined twice");

    sg::Config c;
    c.workers = 0;
    CHECK(sg::validate(c).error().message ==
          "config: workers: expected an integer between 1 and 128, got 0");
    c.workers = 2;
    c.sizes.ring = 1000;
    CHECK(sg::validate(c).error().message ==
          "config: sizes.ring: expected a power of two between 64 and 1048576, got 1000");
    c.sizes.ring = 1024;
    c.source = "cfg.yaml";
    c.mode = Mode::inline_;
    c.ports = {{"wire0", "a"}, {"wire1", "b"}};
    CHECK(sg::validate(c).error().message ==
          "cfg.yaml: mode: 'inline' needs at least one entry in inline_pairs");
    c.inline_pairs = {{"wire0", "wire9"}};
    CHECK(sg::validate(c).error().message ==
          "cfg.yaml: inline_pairs[0]: port 'wire9' is not listed under ports");
    c.inline_pairs = {{"wire0", "wire1"}, {"wire1", "wire0"}};
    CHECK(sg::validate(c).error().message ==
          "cfg.yaml: inline_pairs[1]: port 'wire1' is in more than one pair");
    c.inline_pairs = {{"wire0", "wire1"}};
    CHECK(sg::validate(c).ok());
    c.ports.push_back({"wire0", "c"});
    CHECK(sg::validate(c).error().message == "cfg.yaml: ports: port 'wire0' is defined twice");
}

TEST_CASE("Modes have names") {
    CHECK(std::string(sg::mode_name(Mode::tap)) == "tap");
    CHECK(std::string(sg::mode_name(Mode::inline_)) == "inline");
}

TEST_CASE("the rules section: files, classification and variables") {
    const auto cfg = sg::parse_config("rules:\n"
                                      "  files: [a.rules, b.rules]\n"
                                      "  classification: classification.config\n"
                                      "  threshold_file: /etc/safeguard/threshold.config\n"
                                      "  address_vars: {DNS_SERVERS: \"[10.0.0.53]\"}\n"
                                      "  port_vars: {HTTP_PORTS: \"[80,8080]\"}\n",
                                      "cfg.yaml");
    REQUIRE(cfg);
    CHECK(cfg->rules.files == std::vector<std::string>{"a.rules", "b.rules"});
    CHECK(cfg->rules.classification == "classification.config");
    CHECK(cfg->rules.threshold_file == "/etc/safeguard/threshold.config");
    CHECK(cfg->rules.address_vars.at("DNS_SERVERS") == "[10.0.0.53]");
    CHECK(cfg->rules.port_vars.at("HTTP_PORTS") == "[80,8080]");
    const auto bad = sg::parse_config("rules:\n  file: [a.rules]\n", "cfg.yaml");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("cfg.yaml:2:") == 0);
    CHECK(bad.error().message.find("did you mean 'files'?") != std::string::npos);
}

TEST_CASE("rules.threshold_file: a path, empty by default; a typo names the key") {
    const auto none = sg::parse_config("rules:\n  files: [a.rules]\n", "cfg.yaml");
    REQUIRE(none);
    CHECK(none->rules.threshold_file.empty());
    const auto typo = sg::parse_config("rules:\n  threshold-file: t.config\n", "cfg.yaml");
    REQUIRE_FALSE(typo);
    CHECK(typo.error().message.find("cfg.yaml:2:") == 0);
    CHECK(typo.error().message.find("did you mean 'threshold_file'?") != std::string::npos);
    const auto list = sg::parse_config("rules:\n  threshold_file: [a, b]\n", "cfg.yaml");
    REQUIRE_FALSE(list);
    CHECK(list.error().message.find("cfg.yaml:2:") == 0);
}

TEST_CASE("deployments[].thresholds: overrides of that deployment's detection thresholds") {
    const auto r = parse_config("deployments:\n"
                                "  - name: build-farm\n"
                                "    prefixes: [10.9.0.0/16]\n"
                                "    thresholds:\n"
                                "      port_scan: {ports: 200}\n"
                                "      bruteforce:\n"
                                "        idle: 5m\n"
                                "        min_failed: 0.9\n"
                                "  - name: web\n"
                                "    prefixes: [10.1.0.0/16]\n",
                                "cfg.yaml");
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    REQUIRE(r->deployments.size() == 2);
    sg::Thresholds farm;
    sg::apply_overrides(farm, r->deployments[0].thresholds);
    CHECK(r->deployments[0].thresholds.size() == 3);
    CHECK(farm.port_scan_ports == 200);
    CHECK(farm.bruteforce_idle == 300);
    CHECK(farm.bruteforce_min_failed == 0.9);
    CHECK(farm.sweep_targets == sg::Thresholds{}.sweep_targets);
    CHECK(r->deployments[1].thresholds.empty());

    const std::string head = "deployments:\n  - name: farm\n    prefixes: [10.9.0.0/16]\n    thresholds:\n";
    CHECK(error_of(head + "      port_scan: {prots: 200}\n") ==
          "cfg.yaml:5: deployments[0].thresholds.port_scan: unknown threshold 'prots' (expected one of: ports, "
          "max_established, idle); did you mean 'ports'?");
    const std::string detector = error_of(head + "      portscan: {ports: 200}\n");
    CHECK(detector.starts_with("cfg.yaml:5: deployments[0].thresholds: unknown detector 'portscan'"));
    CHECK(detector.ends_with("did you mean 'port_scan'?"));
    CHECK(error_of(head + "      syn_flood:\n        max_answered: 2\n") ==
          "cfg.yaml:6: deployments[0].thresholds.syn_flood.max_answered: expected a ratio between 0 and 1, got '2'");
    CHECK(error_of(head + "      sweep: {idle: soon}\n") ==
          "cfg.yaml:5: deployments[0].thresholds.sweep.idle: expected a duration such as 30s or 5m, got 'soon'");
    CHECK(error_of(head + "      udp_flood: {rate: lots}\n") ==
          "cfg.yaml:5: deployments[0].thresholds.udp_flood.rate: expected a number >= 0, got 'lots'");
    CHECK(error_of(head + "      [port_scan]\n").starts_with("cfg.yaml:5: deployments[0].thresholds: expected a map"));
}

TEST_CASE("detect: the counting window (100ms to 60s) and a thresholds file") {
    const auto none = parse_config("mode: tap\n", "cfg.yaml");
    REQUIRE(none.ok());
    CHECK(none->detect.window == sg::kNsPerSec);
    CHECK(none->detect.thresholds.empty());

    const auto r = parse_config("detect:\n  window: 500ms\n  thresholds: /etc/safeguard/thresholds.yaml\n", "cfg.yaml");
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->detect.window == 500 * sg::kNsPerMs);
    CHECK(r->detect.thresholds == "/etc/safeguard/thresholds.yaml");
    const auto flow = parse_config("detect: {window: 60s}\n", "cfg.yaml");
    REQUIRE(flow.ok());
    CHECK(flow->detect.window == 60 * sg::kNsPerSec);
    const auto bounds = parse_config("detect: {window: 100ms}\n", "cfg.yaml");
    REQUIRE(bounds.ok());
    CHECK(bounds->detect.window == 100 * sg::kNsPerMs);

    const std::string expected = "expected a duration between 100ms and 60s";
    CHECK(error_of("detect:\n  window: 50ms\n") == "cfg.yaml:2: detect.window: " + expected + ", got '50ms'");
    CHECK(error_of("detect:\n  window: 2m\n") == "cfg.yaml:2: detect.window: " + expected + ", got '2m'");
    CHECK(error_of("detect:\n  window: soon\n") == "cfg.yaml:2: detect.window: " + expected + ", got 'soon'");
    CHECK(error_of("detect:\n  window: [1s]\n") == "cfg.yaml:2: detect.window: " + expected + ", got a list");
    CHECK(error_of("detect:\n  thresholds: [a, b]\n").starts_with("cfg.yaml:2: detect.thresholds: expected"));
    const std::string typo = error_of("detect:\n  windw: 1s\n");
    CHECK(typo.starts_with("cfg.yaml:2: detect: unknown key 'windw'"));
    CHECK(typo.ends_with("did you mean 'window'?"));
}

TEST_CASE("notify: the SMTP relay, the sender and the reply-to address") {
    const auto none = parse_config("mode: tap\n", "cfg.yaml");
    REQUIRE(none.ok());
    CHECK(none->notify.smtp_url.empty());
    CHECK(none->notify.from.empty());
    CHECK(none->notify.reply_to.empty());

    const auto r = parse_config("notify:\n  smtp_url: smtp://127.0.0.1:25\n  from: safeguard@provider.example\n"
                                "  reply_to: abuse@provider.example\n", "cfg.yaml");
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->notify.smtp_url == "smtp://127.0.0.1:25");
    CHECK(r->notify.from == "safeguard@provider.example");
    CHECK(r->notify.reply_to == "abuse@provider.example");
    CHECK(parse_config("notify: {smtp_url: 'smtps://relay.example:465', from: a@b}\n", "cfg.yaml").ok());

    CHECK(error_of("notify:\n  smtp_url: http://relay\n  from: a@b\n") ==
          "cfg.yaml:2: notify.smtp_url: expected an SMTP URL such as smtp://127.0.0.1:25 or "
          "smtps://relay.example:465, got 'http://relay'");
    CHECK(error_of("notify:\n  from: safeguard\n") ==
          "cfg.yaml:2: notify.from: expected an e-mail address, got 'safeguard'");
    CHECK(error_of("notify:\n  reply_to: [a@b]\n").starts_with("cfg.yaml:2: notify.reply_to: expected"));
    CHECK(error_of("mode: tap\nnotify:\n  smtp_url: smtp://127.0.0.1:25\n") ==
          "cfg.yaml:2: notify: smtp_url needs 'from', the sender address");
    const std::string typo = error_of("notify:\n  smtp_ulr: smtp://x\n");
    CHECK(typo.starts_with("cfg.yaml:2: notify: unknown key 'smtp_ulr'"));
    CHECK(typo.ends_with("did you mean 'smtp_url'?"));

    sg::Config c;
    c.notify.smtp_url = "smtp://127.0.0.1:25";
    const auto v = sg::validate(c);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message == "config: notify: smtp_url needs 'from', the sender address");
}

TEST_CASE("Incident policy, enforcement and state_dir: documented values and defaults") {
    TempDir dir;
    const auto r = sg::load_config(dir.write("safeguard.yaml", documented_example()));
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->policy.deadline == 12 * 3600 * sg::kNsPerSec);
    CHECK(r->policy.max_extension == 48 * 3600 * sg::kNsPerSec);
    CHECK(r->policy.quiet_period == 30 * 60 * sg::kNsPerSec);
    CHECK(r->policy.evidence_packets == 200);
    CHECK(r->enforcement.hook == "/usr/local/sbin/safeguard-deactivate");
    CHECK(r->state_dir == "/srv/safeguard");

    const auto d = parse_config("", "cfg.yaml");
    REQUIRE(d.ok());
    CHECK(d->policy.deadline == 24 * 3600 * sg::kNsPerSec);
    CHECK(d->policy.max_extension == 72 * 3600 * sg::kNsPerSec);
    CHECK(d->policy.quiet_period == 15 * 60 * sg::kNsPerSec);
    CHECK(d->policy.evidence_packets == 100);
    CHECK(d->enforcement.hook.empty());
    CHECK(d->state_dir == "/var/lib/safeguard");
    const auto no_ext = parse_config("policy: {max_extension: 0}\n", "cfg.yaml");
    REQUIRE(no_ext.ok());
    CHECK(no_ext->policy.max_extension == 0);
}

TEST_CASE("Incident policy errors name the file, line and key") {
    CHECK(error_of("mode: tap\npolicy:\n  deadline: 500ms\n") ==
          "cfg.yaml:3: policy.deadline: expected a duration from 1s to 30d such as 24h, got '500ms'");
    CHECK(error_of("policy:\n  max_extension: 31d\n") ==
          "cfg.yaml:2: policy.max_extension: expected a duration from 0 to 30d such as 72h, got '31d'");
    CHECK(error_of("policy:\n  quiet_period: soon\n") ==
          "cfg.yaml:2: policy.quiet_period: expected a duration from 1s to 30d such as 15m, got 'soon'");
    CHECK(error_of("policy:\n  evidence_packets: -1\n") ==
          "cfg.yaml:2: policy.evidence_packets: expected an integer between 0 and 100000, got '-1'");
    CHECK(error_of("policy:\n  deadlin: 1h\n").starts_with("cfg.yaml:2: policy: unknown key 'deadlin'"));
    CHECK(error_of("enforcement:\n  hook: deactivate.sh\n") ==
          "cfg.yaml:2: enforcement.hook: expected an absolute path, got 'deactivate.sh'");
    CHECK(error_of("state_dir: \"\"\n") == "cfg.yaml:1: state_dir: expected a non-empty string, got ''");
    CHECK(error_of("state_dir: [a]\n") == "cfg.yaml:1: state_dir: expected a non-empty string, got a list");

    sg::Config c;
    c.policy.quiet_period = 0;
    auto v = sg::validate(c);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message == "config: policy.quiet_period: expected a duration from 1s to 30d, got 0s");
    c = {};
    c.state_dir.clear();
    v = sg::validate(c);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message == "config: state_dir: expected a directory, got nothing");
}

TEST_CASE("metrics: the listener's address, loopback by default, off when absent") {
    auto load = [](const std::string& text) { return sg::parse_config(text, "cfg.yaml"); };
    {
        const auto r = load("metrics:\n  listen: 0.0.0.0:9100\n");
        REQUIRE(r.ok());
        CHECK(r->metrics.enabled);
        CHECK(r->metrics.host == "0.0.0.0");
        CHECK(r->metrics.port == 9100);
        CHECK(r->metrics.listen() == "0.0.0.0:9100");
    }
    {
        const auto r = load("metrics:\n  listen: \"[::1]:9464\"\n");
        REQUIRE(r.ok());
        CHECK(r->metrics.host == "::1");
        CHECK(r->metrics.listen() == "[::1]:9464");
    }
    {
        const auto r = load("metrics:\n");  // present but empty: on, on loopback
        REQUIRE(r.ok());
        CHECK(r->metrics.enabled);
        CHECK(r->metrics.listen() == "127.0.0.1:9464");
    }
    {
        const auto r = load("metrics:\n  listen: localhost:8080\n");
        REQUIRE(r.ok());
        CHECK(r->metrics.listen() == "127.0.0.1:8080");
    }
    CHECK(error_of("metrics:\n  listen: 9464\n") ==
          "cfg.yaml:2: metrics.listen: expected HOST:PORT such as 127.0.0.1:9464 or [::1]:9464, got '9464'");
    CHECK(error_of("metrics:\n  listen: 127.0.0.1:0\n") ==
          "cfg.yaml:2: metrics.listen: expected a port from 1 to 65535 after ':', got '0'");
    CHECK(error_of("metrics:\n  listen: 127.0.0.1:70000\n") ==
          "cfg.yaml:2: metrics.listen: expected a port from 1 to 65535 after ':', got '70000'");
    CHECK(error_of("metrics:\n  listen: metrics.example:9464\n") ==
          "cfg.yaml:2: metrics.listen: expected an IPv4 address, [IPv6] or localhost before ':', got "
          "'metrics.example'");
    CHECK(error_of("metrics:\n  listen: \"[10.0.0.1]:9464\"\n") ==
          "cfg.yaml:2: metrics.listen: expected an IPv6 address inside [ ], got '10.0.0.1'");
    CHECK(error_of("metrics:\n  lisen: 127.0.0.1:9464\n") ==
          "cfg.yaml:2: metrics: unknown key 'lisen' (expected one of: listen); did you mean 'listen'?");
}

TEST_CASE("fleet: the bus's servers, the site and the names; off when absent", "[fleet]") {
    auto load = [](const std::string& text) {
        auto r = sg::parse_config(text, "cfg.yaml");
        INFO((r.ok() ? std::string() : r.error().message));
        REQUIRE(r.ok());
        return std::move(*r);
    };
    {
        const sg::Config c = load("workers: 2\n");
        CHECK_FALSE(c.fleet.enabled);
        CHECK(c.fleet.servers.empty());
    }
    {
        // An appliance: only what it needs; the rest has its defaults.
        const sg::Config c = load("fleet:\n  servers: [nats://10.0.0.1:4222]\n  name: edge-1\n");
        CHECK(c.fleet.enabled);
        CHECK(c.fleet.servers == std::vector<std::string>{"nats://10.0.0.1:4222"});
        CHECK(c.fleet.name == "edge-1");
        CHECK(c.fleet.site == "default");
        CHECK(c.fleet.appliances.empty());
        CHECK(c.fleet.replicas == 3);
        CHECK(c.fleet.backlog_mib == 256);
        CHECK(c.fleet.lease == 10 * sg::kNsPerSec);
        CHECK(c.fleet.appliance_timeout == 30 * sg::kNsPerSec);
    }
    {
        // An aggregator: every key.
        const sg::Config c = load("fleet:\n"
                                  "  servers:\n"
                                  "    - nats://10.0.0.1:4222\n"
                                  "    - tls://nats-2.example.com:4222\n"
                                  "  site: lab_2\n"
                                  "  name: agg-1\n"
                                  "  appliances: [edge-1, edge-2]\n"
                                  "  replicas: 5\n"
                                  "  backlog_mib: 64\n"
                                  "  lease: 5s\n"
                                  "  appliance_timeout: 1m\n");
        CHECK(c.fleet.servers == std::vector<std::string>{"nats://10.0.0.1:4222", "tls://nats-2.example.com:4222"});
        CHECK(c.fleet.site == "lab_2");
        CHECK(c.fleet.name == "agg-1");
        CHECK(c.fleet.appliances == std::vector<std::string>{"edge-1", "edge-2"});
        CHECK(c.fleet.replicas == 5);
        CHECK(c.fleet.backlog_mib == 64);
        CHECK(c.fleet.lease == 5 * sg::kNsPerSec);
        CHECK(c.fleet.appliance_timeout == 60 * sg::kNsPerSec);
    }
    // A one-node bus (a lab) takes one replica; config_errors_test.cpp has
    // the errors, each with its line.
    CHECK(load("fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: a\n  replicas: 1\n").fleet.replicas == 1);
    CHECK(error_of("fleet:\n  name: edge-1\n  servers:\n") ==
          "cfg.yaml:3: fleet.servers: expected at least one NATS server URL, got nothing");
}

namespace {

// What a file would say: no nulls (absent keys), no "source".
nlohmann::json without_nulls(const nlohmann::json& j) {
    if (j.is_object()) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [k, v] : j.items())
            if (!v.is_null() && k != "source") out[k] = without_nulls(v);
        return out;
    }
    if (j.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& v : j) out.push_back(without_nulls(v));
        return out;
    }
    return j;
}

} // namespace

TEST_CASE("config_to_json shows every key in the file's layout, and reads back as the same config") {
    const std::string yaml = documented_example();
    const auto r = sg::parse_config(yaml, "full.yaml");
    REQUIRE(r.ok());
    const nlohmann::json j = sg::config_to_json(*r);
    CHECK(j["source"] == "full.yaml");
    CHECK(j["mode"] == "inline");
    CHECK(j["policy"]["deadline"] == "12h");
    CHECK(j["flow_timeout"]["udp"] == "90s");
    CHECK(j["metrics"]["listen"] == "127.0.0.1:9100");
    CHECK(j["control"]["group"] == "safeguard");
    CHECK(j["deployments"][1]["thresholds"]["spam"]["targets"] == 200);
    CHECK(j["deployments"][1]["owner"].is_null());
    // JSON is YAML: the output is a config file that loads as the same config.
    const auto again = sg::parse_config(without_nulls(j).dump(2), "again.yaml");
    REQUIRE(again.ok());
    nlohmann::json j2 = sg::config_to_json(*again);
    j2["source"] = "full.yaml";
    CHECK(j2 == j);
    // Defaults are shown as such.
    const nlohmann::json d = sg::config_to_json(sg::Config{});
    CHECK(d["mode"] == "tap");
    CHECK(d["metrics"].is_null());
    CHECK(d["state_dir"] == "/var/lib/safeguard");
    CHECK(d["sizes"]["ring"] == 4096);
}
