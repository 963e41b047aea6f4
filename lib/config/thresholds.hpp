#pragma once
// Detection thresholds: when a behaviour becomes an attribution. The
// defaults below are the values of rules/thresholds.yaml (a test keeps the
// two equal); that file explains the reasoning behind each. An operator
// changes them in a thresholds file (`detect: {thresholds: FILE}`), and per
// deployment in the config (`deployments[].thresholds`), which then applies
// to attacks on that deployment and from it.
//
// Every parameter is a number: a rate per second, a count, a ratio or a
// duration (written "120s", stored in seconds). One table (threshold_params)
// names them all, so files, overrides, docs and reports agree.
//
// Thread: control side (loading); the detectors read a finished Thresholds.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace YAML {
class Node;
}

namespace sg {

struct Thresholds {
    // syn_flood: SYNs to one address per second, mostly unanswered.
    double syn_flood_rate = 1000;
    double syn_flood_max_answered = 0.5;
    // udp_flood / icmp_flood / fragment_flood: packets to one address per second.
    double udp_flood_rate = 10000;
    double icmp_flood_rate = 2000;
    double fragment_flood_rate = 1000;
    // Relative floods: this many times the host's normal rate (EWMA) ...
    double flood_relative_factor = 30;
    // ... and at least this rate, so a quiet host's first burst is not a flood.
    double flood_relative_min_rate = 200;
    double baseline_half_life = 300;
    double flood_idle = 10;
    // amplification: responses from reflection services to one of our hosts per second.
    double amplification_rate = 1000;
    double amplification_idle = 10;
    // reflector: our host's responses from a reflection service per second ...
    double reflector_rate = 500;
    // ... sending this many times the bytes it received on that service.
    double reflector_min_amplification = 3;
    // bruteforce: connections to one service of one target from one source ...
    double bruteforce_attempts = 10;
    // ... of which this share failed (refused, reset, or short) ...
    double bruteforce_min_failed = 0.5;
    // ... within an activity period that ends after this quiet time.
    double bruteforce_idle = 120;
    // port_scan: distinct ports of one target from one source, mostly not completed.
    double port_scan_ports = 25;
    double port_scan_max_established = 0.5;
    double port_scan_idle = 60;
    // sweep: distinct targets on one port from one source, mostly not completed.
    double sweep_targets = 64;
    double sweep_max_established = 0.5;
    double sweep_idle = 60;
    // spam: distinct SMTP servers one source connected to.
    double spam_targets = 20;
    double spam_idle = 300;
    // signature: rule classes whose priority is at most this (1 = high).
    double signature_max_priority = 2;
    double signature_idle = 600;
};

enum class ThresholdUnit : uint8_t { rate, count, ratio, duration };

struct ThresholdParam {
    const char* detector;        // section in the file ("syn_flood")
    const char* name;            // key in the section ("rate")
    double Thresholds::*member;
    ThresholdUnit unit;
};

// Every parameter, in file order.
std::span<const ThresholdParam> threshold_params();

// One per-deployment change: param is an index into threshold_params().
struct ThresholdOverride {
    uint16_t param = 0;
    double value = 0;
};

// Reads a thresholds file over the defaults. Errors: "FILE:LINE: section.key: what".
Result<Thresholds> load_thresholds(const std::string& path);
Result<Thresholds> parse_thresholds(const std::string& yaml, const std::string& name);

// A map {detector: {param: value}} (a deployment's `thresholds:`), as a
// list of overrides. `path` prefixes the key in messages
// ("deployments[0].thresholds"). Throws nothing; errors as above.
Result<std::vector<ThresholdOverride>> parse_threshold_overrides(const YAML::Node& node,
                                                                 const std::string& file,
                                                                 const std::string& path);

void apply_overrides(Thresholds& t, const std::vector<ThresholdOverride>& overrides);

// "1000/s", "10", "0.5", "120s": a parameter's value as the docs write it.
std::string format_threshold(const ThresholdParam& p, double value);

} // namespace sg
