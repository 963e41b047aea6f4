// safeguard aggregate: the fleet's aggregator (aggregator.hpp, docs/fleet.md).
// No ports and no workers: EAL is brought up only for the ownership tables.
// The control socket serves the fleet-wide incidents, exceptions and posture
// with the appliance's commands, plus `status` for the fleet.

#include <csignal>
#include <memory>
#include <thread>

#include <rte_eal.h>

#include <fmt/format.h>

#include "app/safeguard/aggregator.hpp"
#include "app/safeguard/commands.hpp"
#include "app/safeguard/incident_commands.hpp"
#include "app/safeguard/session.hpp"
#include "config/config_json.hpp"
#include "control/command_table.hpp"
#include "control/server.hpp"
#include "core/log.hpp"
#include "io/eal.hpp"

namespace sg::app {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_aggregate_signal(int) { g_stop = true; }

struct FileCloser {
    void operator()(std::FILE* f) const {
        if (f) std::fclose(f);
    }
};

void register_aggregate_commands(control::CommandTable& table, const Config& cfg, Aggregator& agg) {
    using nlohmann::json;
    auto add = [&table](const char* name, const char* help, control::CommandFn fn) {
        if (auto ok = table.add(name, help, std::move(fn)); !ok) log::error("{}", ok.error().message);
    };
    IncidentCommandsContext ctx;
    ctx.cfg = &cfg;
    ctx.on_owner = [&agg](const std::function<Result<json>()>& fn) { return agg.call(fn); };
    ctx.desk = [&agg] { return agg.desk(); };
    ctx.engine = [&agg] { return agg.engine(); };
    ctx.posture = [&agg] { return agg.posture(); };
    ctx.no_desk = fmt::format("this aggregator ({}) is standing by: ask the active one", cfg.fleet.name);
    register_incident_commands(table, std::move(ctx));
    add("status", "the aggregator: role (active or standby), the appliances and their windows, the cursor",
        [&agg](const control::Args&, const control::Caller&) -> Result<json> {
            json s = agg.status();
            s["command"] = "aggregate";
            return s;
        });
    add("config show", "the effective configuration, defaults included",
        [&cfg](const control::Args&, const control::Caller&) -> Result<json> { return config_to_json(cfg); });
    add("shutdown", "stop the aggregator as SIGTERM does (a standby takes over at once)",
        [](const control::Args&, const control::Caller& caller) -> Result<json> {
            log::info("shutdown asked by {} (pid {})", caller.user, caller.pid);
            g_stop = true;
            return json{{"stopping", true}};
        });
}

} // namespace

int aggregate_main(const AggregateOptions& opts) {
    if (opts.config.empty()) {
        log::error("aggregate: --config FILE is required (it names the fleet and the deployments)");
        return kExitBadInput;
    }
    auto loaded = load_config(opts.config);
    if (!loaded) {
        log::error("{}", loaded.error().message);
        return kExitBadInput;
    }
    Config& cfg = *loaded;
    if (!opts.report.empty()) cfg.outputs.report = opts.report;
    if (!opts.eve.empty()) cfg.outputs.eve = opts.eve;
    if (!cfg.fleet.enabled || cfg.fleet.appliances.empty() || cfg.deployments.empty()) {
        log::error("{}: aggregate needs a fleet: section with appliances: and deployments: to protect", cfg.source);
        return kExitBadInput;
    }
    auto setup = detection_setup(cfg);
    if (!setup) {
        log::error("{}", setup.error().message);
        return kExitBadInput;
    }
    std::unique_ptr<std::FILE, FileCloser> eve;
    if (!cfg.outputs.eve.empty()) {
        eve.reset(std::fopen(cfg.outputs.eve.c_str(), "a"));
        if (!eve) {
            log::error("{}: cannot write eve output: {}", cfg.outputs.eve, std::strerror(errno));
            return kExitBadInput;
        }
    }
    // The ownership tables (rte_lpm for large prefix sets) need EAL memory;
    // nothing else here does.
    const std::vector<std::string> eal = cfg.eal.empty() ? default_eal_args(1) : cfg.eal;
    if (auto ok = init_eal("safeguard-aggregate", eal); !ok) {
        log::error("{}", ok.error().message);
        return kExitFailure;
    }
    int rc = kExitOk;
    {
        auto ownership = Ownership::create(cfg.deployments, "sg_owners");
        if (!ownership) {
            log::error("{}", ownership.error().message);
            return kExitBadInput;
        }
        setup->ownership = ownership->get();
        auto agg = Aggregator::open(cfg, **ownership, std::move(*setup), eve.get());
        if (!agg) {
            log::error("{}", agg.error().message);
            return kExitFailure;
        }
        control::CommandTable table;
        register_aggregate_commands(table, cfg, **agg);
        std::unique_ptr<control::ControlServer> server;
        if (!cfg.control.socket.empty()) {
            control::ServerOptions o;
            o.path = cfg.control.socket;
            o.group = cfg.control.group;
            auto opened = control::ControlServer::open(o, table);
            if (!opened) {
                log::error("{}", opened.error().message);
                return kExitFailure;
            }
            server = std::move(*opened);
        }
        std::signal(SIGINT, on_aggregate_signal);
        std::signal(SIGTERM, on_aggregate_signal);
        (*agg)->start();
        if (server) {
            server->start();
            log::info("control socket {} (safeguardctl --socket {})", server->path(), server->path());
        }
        log::info("aggregating site {} as {}: {} appliance(s); SIGINT or SIGTERM stops", cfg.fleet.site,
                  cfg.fleet.name, cfg.fleet.appliances.size());
        while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (server) server->stop();
        (*agg)->stop();
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        if (!cfg.outputs.report.empty()) {
            if (auto ok = write_report(cfg.outputs.report, (*agg)->final_report()); !ok) {
                log::error("{}", ok.error().message);
                rc = kExitFailure;
            }
        }
    }
    rte_eal_cleanup();
    return rc;
}

} // namespace sg::app
