// Every configuration key's errors in one table: what an operator wrote and
// the exact message, "FILE:LINE: KEY: what was expected, got what" (the
// contract of docs/configuration.md). config_test.cpp has the behaviour of
// each section; this table is the catalogue, so a key without a row here is
// a key whose error nobody has read.

#include "config/config.hpp"
#include "config/thresholds.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

namespace {

struct Row {
    std::string_view yaml;
    std::string message;
};

const std::string kDuration = "expected a duration from 1s to 30d such as 30s, 15m or 1h";
const char* kPortsAb = "ports:\n  - {name: a, device: x}\n  - {name: b, device: y}\n";  // lines 1-3

// One row per key and kind of mistake not already spelled out in
// config_test.cpp (which has mode, workers, mbufs, burst, ring, the flow
// timeouts, deployments, inline pairs, detect, notify, policy).
const Row kRows[] = {
    // sizes: every key has its own bounds
    {"sizes:\n  mbuf_cache: 0\n", "cfg.yaml:2: sizes.mbuf_cache: expected an integer between 1 and 512, got '0'"},
    {"sizes:\n  rx_descriptors: 16\n",
     "cfg.yaml:2: sizes.rx_descriptors: expected an integer between 32 and 32768, got '16'"},
    {"sizes:\n  tx_descriptors: 40000\n",
     "cfg.yaml:2: sizes.tx_descriptors: expected an integer between 32 and 32768, got '40000'"},
    {"sizes:\n  flow_table: 100\n",
     "cfg.yaml:2: sizes.flow_table: expected an integer between 1024 and 16777216, got '100'"},
    {"sizes:\n  stream_buffers: -1\n",
     "cfg.yaml:2: sizes.stream_buffers: expected an integer between 0 and 1048576, got '-1'"},
    {"sizes:\n  stream_buffer_size: 1024\n",
     "cfg.yaml:2: sizes.stream_buffer_size: expected an integer between 4096 and 16777216, got '1024'"},
    {"sizes:\n  stream_chunk: 100\n",
     "cfg.yaml:2: sizes.stream_chunk: expected an integer between 256 and 1048576, got '100'"},
    {"sizes:\n  mbufs: 0x800\n",
     "cfg.yaml:2: sizes.mbufs: expected an integer between 1024 and 16777216, got '0x800'"},
    // the two stream sizes together: blamed on the line of what was written
    {"sizes:\n  stream_chunk: 4096\n  stream_buffer_size: 4096\n",
     "cfg.yaml:3: sizes.stream_buffer_size: expected at least twice sizes.stream_chunk (8192), got 4096"},
    {"sizes:\n  stream_buffers: 8\n  stream_chunk: 40000\n",
     "cfg.yaml:3: sizes.stream_chunk: expected at most half of sizes.stream_buffer_size (32768), got 40000"},
    {"flow_timeout:\n  tcp_closed: 0s\n", "cfg.yaml:2: flow_timeout.tcp_closed: " + kDuration + ", got '0s'"},
    {"flow_timeout: 30s\n", "cfg.yaml:1: flow_timeout: expected a map, got '30s'"},
    // ports and pairs
    {"ports:\n  - {name: a, device: \"\"}\n", "cfg.yaml:2: ports[0].device: expected a non-empty string, got ''"},
    {"ports:\n  - {name: a, device: x}\n  - {name: a, device: y}\n",
     "cfg.yaml:3: ports[1].name: expected a unique port name, got 'a' (also on line 2)"},
    {"ports:\n  - wire0\n", "cfg.yaml:2: ports[0]: expected a map, got 'wire0'"},
    {"inline_pairs: 5\n", "cfg.yaml:1: inline_pairs: expected a list, got '5'"},
    {"mode: [tap]\n", "cfg.yaml:1: mode: expected 'tap' or 'inline', got a list"},
    // outputs, control, state
    {"outputs:\n  report: \"\"\n", "cfg.yaml:2: outputs.report: expected a non-empty string, got ''"},
    {"outputs: [a]\n", "cfg.yaml:1: outputs: expected a map, got a list"},
    {"control:\n  group: [a]\n", "cfg.yaml:2: control.group: expected a non-empty string, got a list"},
    {"control:\n  sokcet: /run/sg.sock\n",
     "cfg.yaml:2: control: unknown key 'sokcet' (expected one of: socket, group); did you mean 'socket'?"},
    {"eal: --no-huge\n", "cfg.yaml:1: eal: expected a list, got '--no-huge'"},
    // deployments
    {"deployments: {web: 10.0.0.0/8}\n", "cfg.yaml:1: deployments: expected a list, got a map"},
    {"deployments:\n  - name: web\n    owner: [a@b]\n    prefixes: [10.0.0.0/8]\n",
     "cfg.yaml:3: deployments[0].owner: expected a non-empty string, got a list"},
    {"deployments:\n  - name: web\n    prefixes: 10.0.0.0/8\n",
     "cfg.yaml:3: deployments[0].prefixes: expected a list, got '10.0.0.0/8'"},
    {"deployments:\n  - name: web\n    prefixes: [10.0.0.0/33]\n",
     "cfg.yaml:3: deployments[0].prefixes[0]: expected a CIDR prefix, got '10.0.0.0/33': prefix length must be "
     "0-32"},
    // rules
    {"rules:\n  files: a.rules\n", "cfg.yaml:2: rules.files: expected a list, got 'a.rules'"},
    {"rules:\n  files: [a.rules, \"\"]\n", "cfg.yaml:2: rules.files[1]: expected a non-empty string, got ''"},
    {"rules:\n  classification: []\n",
     "cfg.yaml:2: rules.classification: expected a non-empty string, got an empty list"},
    {"rules:\n  address_vars: [HOME_NET]\n",
     "cfg.yaml:2: rules.address_vars: expected a map of variable names to values, got a list"},
    {"rules:\n  address_vars:\n    HOME_NET: \"\"\n",
     "cfg.yaml:3: rules.address_vars.HOME_NET: expected a non-empty string, got ''"},
    {"rules:\n  port_vars:\n    HTTP_PORTS: \"80\"\n    HTTP_PORTS: \"8080\"\n",
     "cfg.yaml:4: rules.port_vars.HTTP_PORTS: expected a variable defined once, got 'HTTP_PORTS' (also on line 3)"},
    {"rules:\n  port_vars:\n    [a]: \"80\"\n", "cfg.yaml:3: rules.port_vars: expected a variable name, got a list"},
    {"rules: a.rules\n", "cfg.yaml:1: rules: expected a map, got 'a.rules'"},
    // detection, notification, incidents
    {"detect:\n  thresholds: \"\"\n", "cfg.yaml:2: detect.thresholds: expected a non-empty string, got ''"},
    {"notify:\n  smtp_url: smtp://127.0.0.1:25\n  from: safeguard@example.com\n  reply_to: abuse\n",
     "cfg.yaml:4: notify.reply_to: expected an e-mail address, got 'abuse'"},
    {"policy:\n  evidence_packets: 100001\n",
     "cfg.yaml:2: policy.evidence_packets: expected an integer between 0 and 100000, got '100001'"},
    {"policy:\n  deadline: 1d\n  max_extension: forever\n",
     "cfg.yaml:3: policy.max_extension: expected a duration from 0 to 30d such as 72h, got 'forever'"},
    {"enforcement:\n  hook: []\n", "cfg.yaml:2: enforcement.hook: expected a non-empty string, got an empty list"},
    {"enforcement: /usr/bin/true\n", "cfg.yaml:1: enforcement: expected a map, got '/usr/bin/true'"},
    // fleet: servers and names go into NATS subjects and bucket names
    {"fleet:\n  name: edge-1\n", "cfg.yaml:1: fleet: missing key 'servers'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n", "cfg.yaml:1: fleet: missing key 'name'"},
    {"fleet:\n  servers: []\n  name: edge-1\n",
     "cfg.yaml:2: fleet.servers: expected at least one NATS server URL, got an empty list"},
    {"fleet:\n  servers: nats://127.0.0.1:4222\n  name: edge-1\n",
     "cfg.yaml:2: fleet.servers: expected a list, got 'nats://127.0.0.1:4222'"},
    {"fleet:\n  servers:\n    - nats://10.0.0.1:4222\n    - http://10.0.0.2:4222\n  name: edge-1\n",
     "cfg.yaml:4: fleet.servers[1]: expected a NATS server URL such as nats://127.0.0.1:4222, got "
     "'http://10.0.0.2:4222'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: edge.1\n",
     "cfg.yaml:3: fleet.name: expected a name of letters, digits, '_' or '-', got 'edge.1'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: edge-1\n  site: \"lab *\"\n",
     "cfg.yaml:4: fleet.site: expected a name of letters, digits, '_' or '-', got 'lab *'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: agg-1\n  appliances: [edge-1, edge-2, edge-1]\n",
     "cfg.yaml:4: fleet.appliances[2]: expected an appliance listed once, got 'edge-1' (also on line 4)"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: agg-1\n  appliances: [edge.1]\n",
     "cfg.yaml:4: fleet.appliances[0]: expected a name of letters, digits, '_' or '-', got 'edge.1'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: edge-1\n  replicas: 2\n",
     "cfg.yaml:4: fleet.replicas: expected 1, 3 or 5 (an odd number: a majority must agree), got '2'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: edge-1\n  replicas: 7\n",
     "cfg.yaml:4: fleet.replicas: expected an integer between 1 and 5, got '7'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: edge-1\n  backlog_mib: 0\n",
     "cfg.yaml:4: fleet.backlog_mib: expected an integer between 1 and 1048576, got '0'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: agg-1\n  lease: 500ms\n",
     "cfg.yaml:4: fleet.lease: expected a duration from 1s to 10m such as 3s, got '500ms'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: agg-1\n  appliance_timeout: 2h\n",
     "cfg.yaml:4: fleet.appliance_timeout: expected a duration from 1s to 1h such as 30s, got '2h'"},
    {"fleet:\n  servers: [nats://127.0.0.1:4222]\n  name: edge-1\n  replica: 3\n",
     "cfg.yaml:4: fleet: unknown key 'replica' (expected one of: servers, site, name, appliances, replicas, "
     "backlog_mib, lease, appliance_timeout); did you mean 'replicas'?"},
    {"fleet: nats://127.0.0.1:4222\n", "cfg.yaml:1: fleet: expected a map, got 'nats://127.0.0.1:4222'"},
    // YAML is Unicode: other bytes would reach reports and eve lines (JSON)
    {"deployments:\n  - name: caf\xe9\n",
     "cfg.yaml:2: invalid YAML: expected UTF-8 text, got the byte 0xe9 at column 14"},
};

} // namespace

TEST_CASE("Every configuration error names the file, the line and the key, and what was expected") {
    for (const Row& row : kRows) {
        INFO(row.yaml);
        const auto r = sg::parse_config(row.yaml, "cfg.yaml");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == row.message);
    }
}

TEST_CASE("A configuration error in a pair or mode check still names its line") {
    // The pair check runs after ports: its message points at the pair's line.
    const std::string yaml = std::string(kPortsAb) + "mode: inline\ninline_pairs:\n  - [a, c]\n";
    const auto r = sg::parse_config(yaml, "cfg.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message ==
          "cfg.yaml:6: inline_pairs[0][1]: expected the name of a port listed under ports, got 'c'");
}

TEST_CASE("A thresholds file that is not UTF-8 names the line and column of the first bad byte") {
    const auto r = sg::parse_thresholds("syn_flood:\n  rate: 5\xff\n", "t.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "t.yaml:2: invalid YAML: expected UTF-8 text, got the byte 0xff at column 10");
}
