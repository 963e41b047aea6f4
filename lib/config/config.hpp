#pragma once
// The appliance configuration: one YAML file (yaml-cpp), validated whole
// before anything uses it. Unknown keys and bad values are errors naming the
// file, the line and what was expected; a rejected file changes nothing.
//
// Thread: control side only.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ip_address.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "config/thresholds.hpp"

namespace sg {

struct Deployment {
    std::string name;
    std::string owner;               // e-mail of the owner; empty when unknown
    std::vector<Prefix> prefixes;
    std::vector<ThresholdOverride> thresholds; // this deployment's changes to the detection thresholds
};

struct PortConfig {
    std::string name;
    std::string device;              // PCI address ("0000:3b:00.0") or a DPDK vdev string
};

// Upper bound of `workers`; per-worker tables may be sized by it.
inline constexpr unsigned kMaxWorkers = 128;

enum class Mode : uint8_t { tap, inline_ };
const char* mode_name(Mode m);

struct Sizes {
    uint32_t mbufs = 16383;          // per mempool (one per socket)
    uint32_t mbuf_cache = 256;
    uint32_t rx_descriptors = 1024;
    uint32_t tx_descriptors = 1024;
    uint32_t flow_table = 1u << 16;  // flows per worker
    uint32_t ring = 4096;            // records per worker -> reporter ring
    uint32_t burst = 32;             // packets per rx burst (1-256)
    uint32_t stream_buffers = 1024;  // TCP stream buffers per worker (0: block mode only)
    uint32_t stream_buffer_size = 65536; // bytes per stream buffer (one flow direction)
    uint32_t stream_chunk = 2560;    // ACKed bytes that make a raw-stream inspection due
};

struct FlowTimeouts {
    Nanos tcp = 3600 * kNsPerSec;
    Nanos tcp_closed = 30 * kNsPerSec;
    Nanos udp = 120 * kNsPerSec;
    Nanos other = 60 * kNsPerSec;
};

struct Outputs {
    std::string report;              // JSON report written at the end (replay) or on stop
    std::string eve;                 // eve.json lines
    bool eve_packet = false;         // alerts carry the packet (base64), as Suricata's `packet: yes`
};

struct ControlConfig {
    std::string socket;              // Unix socket path; empty = no control socket
    std::string group;               // group allowed besides root
};

// The HTTP listener for /metrics (Prometheus) and the dashboard.
struct MetricsConfig {
    bool enabled = false;            // the `metrics:` section is present
    std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal ("::1"), or "localhost"
    uint16_t port = 9464;
    std::string listen() const;      // "127.0.0.1:9464", "[::1]:9464"
};

// Signature rules (Suricata syntax).
struct RulesConfig {
    std::vector<std::string> files;            // rule files, in order
    std::string classification;                // classification.config; "" = next to the first rule file
    std::string threshold_file;                // threshold.config (suppress, threshold, rate_filter); "" = none
    std::map<std::string, std::string> address_vars; // HOME_NET defaults to the deployments' prefixes
    std::map<std::string, std::string> port_vars;
};

// Behavioural detection.
struct DetectConfig {
    Nanos window = kNsPerSec;        // counting window, packet time
    std::string thresholds;          // thresholds file; "" = the built-in defaults (rules/thresholds.yaml)
};

// Incident handling (docs/incidents.md).
struct IncidentPolicy {
    Nanos deadline = 24 * 3600 * kNsPerSec;      // for the source deployment's owner to act
    Nanos max_extension = 72 * 3600 * kNsPerSec; // all extensions of one incident together
    Nanos quiet_period = 15 * 60 * kNsPerSec;    // no traffic this long: resolved
    uint32_t evidence_packets = 100;             // packets kept per incident (evidence file)
};

struct EnforcementConfig {
    std::string hook;                // program run on deactivation/reactivation; "" = none
    Nanos hook_timeout = 30 * kNsPerSec; // killed when it runs longer
};

// Incident notifications (lib/notify, docs/incidents.md).
struct NotifyConfig {
    std::string smtp_url;            // smtp://host:port or smtps://...; "" = no e-mail is sent
    std::string from;                // sender address; needed with smtp_url
    std::string reply_to;            // where owners' answers go; "" = from
};

// Fleet mode (docs/fleet.md): appliances publish their window summaries to
// NATS JetStream and one aggregator (of several) merges them and runs the
// incident workflow for all. Without `fleet:` an appliance stands alone.
struct FleetConfig {
    bool enabled = false;                    // the `fleet:` section is present
    std::vector<std::string> servers;        // nats://host:port, any of the cluster's nodes
    std::string site = "default";            // names the streams and buckets: one fleet per site
    std::string name;                        // this appliance's or aggregator's name
    std::vector<std::string> appliances;     // aggregate: the appliances whose windows it merges
    unsigned replicas = 3;                   // JetStream copies of streams and buckets (1, 3 or 5)
    uint32_t backlog_mib = 256;              // run: MiB of windows kept on disk while the bus is away
    Nanos lease = 10 * kNsPerSec;            // aggregate: a silent active aggregator is replaced after this
    Nanos appliance_timeout = 30 * kNsPerSec; // aggregate: windows complete without an appliance silent this long
};

// Benchmarks only (`--stage`, docs/benchmarks.md): how much of a worker's
// path runs. null: receive and free; parse: + decode, defrag and flow table;
// detect: + behavioural counting; full: everything (streams, HTTP, rules).
enum class PipelineStage : uint8_t { null, parse, detect, full };

struct Config {
    std::string source;              // file the config came from ("" for defaults)
    Mode mode = Mode::tap;
    // Replay only (--simulate-ips): drop rules and rate_filter drops count
    // as drops, with eve drop events, as in inline mode; nothing is forwarded.
    bool simulate_ips = false;
    PipelineStage stage = PipelineStage::full; // --stage (benchmarks); not a config key
    std::vector<PortConfig> ports;
    std::vector<std::pair<std::string, std::string>> inline_pairs;
    unsigned workers = 1;            // 1..kMaxWorkers
    Sizes sizes;
    FlowTimeouts flow_timeout;
    Outputs outputs;
    std::vector<Deployment> deployments;
    ControlConfig control;
    MetricsConfig metrics;
    RulesConfig rules;
    DetectConfig detect;
    NotifyConfig notify;
    IncidentPolicy policy;
    EnforcementConfig enforcement;
    FleetConfig fleet;
    std::string state_dir = "/var/lib/safeguard"; // incident journal, outbox, evidence; survives restarts
    bool state_dir_set = false;      // named in the file: replay then keeps state there too
    std::vector<std::string> eal;    // extra EAL arguments; replace the defaults when set
};

// Reads and validates a config file. Errors look like
// "cfg.yaml:12: workers: expected an integer between 1 and 128, got 'many'".
// docs/configuration.md lists every key.
Result<Config> load_config(const std::string& path);
// Same from text; `name` is used in messages in place of a file name.
Result<Config> parse_config(std::string_view yaml, const std::string& name);

// "--protect NAME=PREFIX[,PREFIX...]" from the command line (owner unknown).
Result<Deployment> parse_protect(std::string_view arg);

// Checks what no single key can: unique names, inline pairs naming known
// ports, a deployment list without duplicates; also the bounds of workers,
// sizes and timeouts, for a Config built or changed in code. Run after any
// change (parse_config runs it too). No line numbers here: messages name
// `source` ("config" when empty) and the key.
Result<> validate(const Config& cfg);

} // namespace sg
