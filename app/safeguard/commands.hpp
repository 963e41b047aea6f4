#pragma once
// The daemon's subcommands. main.cpp parses the command line (CLI11) into
// these option structs; each command lives in its own file.

#include <string>
#include <vector>

#include "config/config.hpp"

namespace sg::app {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // the run itself failed; or it ended with incident state that
                                         // never reached the state directory (disk full), even when interrupted
inline constexpr int kExitBadInput = 2;  // bad arguments, config or capture
inline constexpr int kExitInterrupted = 130; // replay stopped by SIGINT/SIGTERM (report written)

struct CommonOptions {
    std::string config;                  // --config FILE
    std::vector<std::string> protect;    // --protect NAME=PREFIX,...
    int workers = 0;                     // --workers N (0: from config)
    std::string report;                  // --report FILE
    std::string eve;                     // --eve FILE
    bool eve_packet = false;             // --eve-packet: alerts carry the packet
    std::string eal;                     // --eal "..." replaces the default EAL flags
    std::vector<std::string> rules;      // --rules FILE (repeatable), after the config's
    std::string classification;          // --classification FILE
    std::string threshold_file;          // --threshold-file FILE (replaces rules.threshold_file)
    PipelineStage stage = PipelineStage::full; // --stage (benchmarks, docs/benchmarks.md)
};

struct ReplayOptions {
    CommonOptions common;
    std::vector<std::string> captures;
    bool simulate_ips = false;           // --simulate-ips: drop rules count as drops
    std::string inline_out;              // --inline-out FILE: replay as inline, forwarded packets to FILE
    std::string actions;                 // --actions FILE: owner/operator actions at packet times
    std::string state_dir;               // --state-dir DIR: replaces the config's state_dir
};

struct RunOptions {
    CommonOptions common;
};

struct AggregateOptions {
    std::string config;                  // --config FILE (needs fleet: and deployments:)
    std::string report;                  // --report FILE (replaces outputs.report)
    std::string eve;                     // --eve FILE (replaces outputs.eve)
};

struct RulesCheckOptions {
    std::vector<std::string> files;
    std::string config;                  // rules: and vars from a config file
    std::string classification;
    bool json = false;
};

int replay_main(const ReplayOptions& opts);
int rules_check_main(const RulesCheckOptions& opts);
int run_main(const RunOptions& opts);
// safeguard aggregate: the fleet's aggregator (docs/fleet.md).
int aggregate_main(const AggregateOptions& opts);

} // namespace sg::app
