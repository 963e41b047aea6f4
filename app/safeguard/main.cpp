// safeguard: the appliance daemon. The command line is parsed here; the
// work happens in the subcommands (replay.cpp, run.cpp).

#include <CLI/CLI.hpp>

#include <csignal>
#include <map>
#include <string>

#include "app/safeguard/commands.hpp"
#include "app/safeguard/reloader.hpp"
#include "config/config.hpp"

namespace {

void add_common(CLI::App* cmd, sg::app::CommonOptions& o) {
    cmd->add_option("--config", o.config, "configuration file (YAML)");
    cmd->add_option("--protect", o.protect,
                    "protect a deployment: NAME=PREFIX[,PREFIX...] (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--workers", o.workers, "worker lcores")->check(CLI::Range(1, int(sg::kMaxWorkers)));
    cmd->add_option("--report", o.report, "write the JSON report to FILE");
    cmd->add_option("--eve", o.eve, "write eve.json lines to FILE");
    cmd->add_flag("--eve-packet", o.eve_packet,
                  "alerts in eve.json carry the packet (base64) and its link type, as Suricata's packet: yes");
    cmd->add_option("--eal", o.eal, "EAL arguments replacing the defaults (quoted)");
    // One value per flag, so that the captures after it stay positional.
    cmd->add_option("--rules", o.rules, "signature rules file, Suricata syntax (repeatable)")->allow_extra_args(false);
    cmd->add_option("--classification", o.classification, "classification.config for the rules");
    cmd->add_option("--threshold-file", o.threshold_file,
                    "threshold.config for the rules' alerts (suppress, threshold, rate_filter)");
    // Benchmarks only (docs/benchmarks.md): not in the help.
    const std::map<std::string, sg::PipelineStage> stages{{"null", sg::PipelineStage::null},
                                                          {"parse", sg::PipelineStage::parse},
                                                          {"detect", sg::PipelineStage::detect},
                                                          {"full", sg::PipelineStage::full}};
    cmd->add_option("--stage", o.stage, "benchmarks: run only part of the worker's path")
        ->transform(CLI::CheckedTransformer(stages))
        ->group("");
}

} // namespace

extern "C" void on_sighup(int) { sg::app::RulesReloader::request(); }

int main(int argc, char** argv) {
    // A reload asked for before the rules are up is kept for when they are;
    // SIGHUP's default (terminate) must never apply.
    std::signal(SIGHUP, on_sighup);
    CLI::App app{"Safeguard: inline packet inspection that finds who attacks whom"};
    app.require_subcommand(1);

    sg::app::ReplayOptions replay;
    CLI::App* replay_cmd = app.add_subcommand("replay", "replay captures through the pipeline and report");
    add_common(replay_cmd, replay.common);
    replay_cmd->add_flag("--simulate-ips", replay.simulate_ips,
                         "act as if inline (Suricata's --simulate-ips): drop rules drop, eve gets drop events");
    replay_cmd->add_option("--inline-out", replay.inline_out,
                           "replay as an inline appliance: what is forwarded (not dropped by rules or the "
                           "blocklist) is written to FILE (pcap)");
    replay_cmd->add_option("--actions", replay.actions,
                           "owner and operator actions (exceptions, extensions, reactivations) at packet times, "
                           "YAML (docs/incidents.md)");
    replay_cmd->add_option("--state-dir", replay.state_dir,
                           "incident journal, outbox and evidence here (replaces the config's state_dir)");
    replay_cmd->add_option("pcap", replay.captures, "capture files (pcap or pcapng)")->required();

    sg::app::RunOptions run;
    CLI::App* run_cmd = app.add_subcommand("run", "appliance mode: ports from the config until a signal");
    add_common(run_cmd, run.common);

    sg::app::AggregateOptions aggregate;
    CLI::App* aggregate_cmd = app.add_subcommand(
        "aggregate", "fleet: merge the appliances' windows from NATS JetStream and run the incident workflow for all");
    aggregate_cmd->add_option("--config", aggregate.config, "configuration file (YAML) with fleet: and deployments:")
        ->required();
    aggregate_cmd->add_option("--report", aggregate.report, "write the JSON report to FILE at the end");
    aggregate_cmd->add_option("--eve", aggregate.eve, "append eve.json lines (attributions, incidents) to FILE");

    sg::app::RulesCheckOptions check;
    CLI::App* rules_cmd = app.add_subcommand("rules", "signature rule sets");
    rules_cmd->require_subcommand(1);
    CLI::App* check_cmd = rules_cmd->add_subcommand("check", "parse and compile rule files, report what is accepted");
    check_cmd->add_option("--config", check.config, "configuration file (rules:, variables, deployments)");
    check_cmd->add_option("--classification", check.classification, "classification.config");
    check_cmd->add_flag("--json", check.json, "JSON output for scripts");
    check_cmd->add_option("file", check.files, "rule files");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : sg::app::kExitBadInput;
    }
    if (*replay_cmd) return sg::app::replay_main(replay);
    if (*check_cmd) return sg::app::rules_check_main(check);
    if (*aggregate_cmd) return sg::app::aggregate_main(aggregate);
    return sg::app::run_main(run);
}
