#include "app/safeguard/session.hpp"

#include <sched.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <set>

#include <rte_eal.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/safeguard/control.hpp"
#include "app/safeguard/reloader.hpp"
#include "app/safeguard/rules_setup.hpp"
#include "attrib/ownership.hpp"
#include "core/faults.hpp"
#include "core/log.hpp"
#include "detect/engine.hpp"
#include "detect/posture.hpp"
#include "fleet/decisions.hpp"
#include "fleet/publisher.hpp"
#include "fleet/window_message.hpp"
#include "io/eal.hpp"
#include "report/report.hpp"
#include "report/reporter.hpp"
#include "respond/actions.hpp"
#include "respond/desk.hpp"

namespace sg::app {

namespace {

Pipeline* g_running = nullptr;
// The CPUs this process could use before EAL pinned the main thread: the
// control side's threads (the reporter) run there.
cpu_set_t g_control_cpus;
bool g_have_control_cpus = false;

extern "C" void on_stop_signal(int) {
    if (g_running) g_running->stop(); // an atomic store: async-signal-safe
}

struct FileCloser {
    void operator()(std::FILE* f) const {
        if (f) std::fclose(f);
    }
};

} // namespace

Result<Config> effective_config(const CommonOptions& opts) {
    Config cfg;
    if (!opts.config.empty()) {
        auto loaded = load_config(opts.config);
        if (!loaded) return loaded.error();
        cfg = std::move(*loaded);
    }
    for (const std::string& arg : opts.protect) {
        auto d = parse_protect(arg);
        if (!d) return make_error(fmt::format("--protect {}: {}", arg, d.error().message));
        cfg.deployments.push_back(std::move(*d));
    }
    if (opts.workers < 0 || opts.workers > int(kMaxWorkers))
        return make_error(fmt::format("--workers: expected 1-{}, got {}", kMaxWorkers, opts.workers));
    if (opts.workers) cfg.workers = unsigned(opts.workers);
    if (!opts.report.empty()) cfg.outputs.report = opts.report;
    if (!opts.eve.empty()) cfg.outputs.eve = opts.eve;
    if (opts.eve_packet) cfg.outputs.eve_packet = true;
    cfg.rules.files.insert(cfg.rules.files.end(), opts.rules.begin(), opts.rules.end());
    if (!opts.classification.empty()) cfg.rules.classification = opts.classification;
    if (!opts.threshold_file.empty()) cfg.rules.threshold_file = opts.threshold_file;
    if (auto ok = validate(cfg); !ok) return ok.error();
    return cfg;
}

Result<> start_eal(const Config& cfg, const std::string& eal_flag) {
    std::vector<std::string> args;
    if (!eal_flag.empty()) {
        auto split = split_args(eal_flag);
        if (!split) return make_error("--eal: " + split.error().message);
        args = std::move(*split);
    } else if (!cfg.eal.empty()) {
        args = cfg.eal;
    } else {
        args = default_eal_args(cfg.workers + 1);
    }
    g_have_control_cpus = sched_getaffinity(0, sizeof g_control_cpus, &g_control_cpus) == 0;
    return init_eal("safeguard", args);
}

Result<DetectionSetup> detection_setup(const Config& cfg) {
    DetectionSetup setup;
    setup.window = cfg.detect.window;
    if (!cfg.detect.thresholds.empty()) {
        auto loaded = load_thresholds(cfg.detect.thresholds);
        if (!loaded) return loaded.error();
        setup.thresholds = *loaded;
    }
    for (const Deployment& d : cfg.deployments) {
        Thresholds t = setup.thresholds;
        apply_overrides(t, d.thresholds);
        setup.per_deployment.push_back(t);
    }
    return setup;
}

// The incident workflow (respond/desk.hpp). A replay keeps state only where
// the config or --state-dir names a directory; otherwise it runs in memory
// and sends nothing. The daemon always keeps it (default /var/lib/safeguard).
static Result<std::unique_ptr<respond::IncidentDesk>> incident_setup(const Config& cfg, bool replay,
                                                                     const RunExtras& extras,
                                                                     const Ownership& ownership, std::FILE* eve) {
    respond::DeskOptions d;
    d.policy = cfg.policy;
    d.deployments = cfg.deployments;
    d.notify = cfg.notify;
    d.enforcement = cfg.enforcement;
    d.replay = replay;
    d.state_dir = replay && !cfg.state_dir_set ? std::string() : cfg.state_dir;
    if (!extras.actions.empty()) {
        if (!replay) return make_error("--actions is for replay; live, actions come through the control socket");
        auto actions = respond::load_actions(extras.actions);
        if (!actions) return actions.error();
        d.actions = std::move(*actions);
    }
    return respond::IncidentDesk::open(std::move(d), ownership, eve);
}

Result<> write_report(const std::string& path, const nlohmann::json& report) {
    std::ofstream out(path);
    out << report.dump(2) << '\n';
    if (!out) return make_error(fmt::format("{}: cannot write the report", path));
    return {};
}

int run_pipeline(const Config& cfg, const std::vector<PipelineInput>& inputs, bool replay,
                 const std::vector<CaptureInfo>& captures, const RunExtras& extras) {
    std::unique_ptr<std::FILE, FileCloser> eve;
    if (!cfg.outputs.eve.empty()) {
        eve.reset(std::fopen(cfg.outputs.eve.c_str(), "w"));
        if (!eve) {
            log::error("{}: cannot write eve output: {}", cfg.outputs.eve, std::strerror(errno));
            return kExitBadInput;
        }
    }
    const auto faults = faults_from_environment();
    if (!faults) {
        log::error("{}", faults.error().message);
        return kExitBadInput;
    }
    if (faults->any()) log::warn("{} is set: injecting {}", kFaultsVariable, faults->describe());
    int rc = kExitOk;
    const auto started = std::chrono::steady_clock::now();
    {
        // Fed by the detection engine on the reporter thread, read by the
        // control socket's posture commands (through Reporter::call): it
        // outlives the reporter.
        std::unique_ptr<PostureTracker> posture;
        // Fleet mode (`run` with fleet:): the windows go to the bus and the
        // aggregator keeps the incidents; its decisions come back.
        const bool fleet = cfg.fleet.enabled && !replay;
        if (cfg.fleet.enabled && replay) log::warn("fleet: is for `safeguard run`; this replay stands alone");
        std::unique_ptr<fleet::Publisher> publisher;
        Reporter reporter(eve.get());
        if (g_have_control_cpus) reporter.set_cpus(g_control_cpus);
        reporter.inject_stall(faults->reporter_stall);
        auto loaded = load_rules(cfg, /*generation=*/1);
        if (!loaded) {
            log::error("{}", loaded.error().message);
            return kExitBadInput;
        }
        // Live, an idle worker must not hold alerts back for long (see AlertOrderer).
        if (!replay) reporter.set_max_hold(std::chrono::milliseconds(500));
        if (loaded->thresholds) reporter.set_threshold_config(loaded->thresholds);
        if (loaded->db) reporter.set_rules(loaded->db);
        reporter.set_deployments(cfg.deployments);
        ReporterOptions reporting;
        reporting.eve_packet = cfg.outputs.eve_packet;
        reporting.inline_mode = cfg.mode == Mode::inline_;
        reporting.simulate_ips = cfg.simulate_ips;
        reporting.tunnel_flow_idle = cfg.flow_timeout.udp;
        reporter.set_options(reporting);
        // Behavioural detection needs something to protect.
        std::unique_ptr<Ownership> ownership;
        if (!cfg.deployments.empty()) {
            auto setup = detection_setup(cfg);
            if (!setup) {
                log::error("{}", setup.error().message);
                return kExitBadInput;
            }
            auto owned = Ownership::create(cfg.deployments, "sg_owners");
            if (!owned) {
                log::error("{}", owned.error().message);
                return kExitBadInput;
            }
            ownership = std::move(*owned);
            setup->ownership = ownership.get();
            setup->workers = cfg.workers;
            auto engine = std::make_unique<DetectionEngine>(std::move(*setup));
            const Ownership* owners = ownership.get();
            posture = std::make_unique<PostureTracker>([owners](const IpAddress& ip) { return owners->lookup(ip); });
            if (fleet) {
                auto bus = fleet::Bus::connect(cfg.fleet, "safeguard-run-" + cfg.fleet.name, /*retry_connect=*/true);
                if (!bus) {
                    log::error("{}", bus.error().message);
                    return kExitBadInput;
                }
                fleet::PublisherOptions po;
                po.fleet = cfg.fleet;
                po.spool_dir = cfg.state_dir + "/fleet/spool";
                po.fingerprint = fleet::config_fingerprint(cfg);
                po.window = cfg.detect.window;
                po.ownership = ownership.get();
                auto opened = fleet::Publisher::open(std::move(po), std::move(*bus));
                if (!opened) {
                    log::error("{}", opened.error().message);
                    return kExitFailure;
                }
                publisher = std::move(*opened);
            }
            engine->set_on_merged([tracker = posture.get(), pub = publisher.get()](const WindowSummary& w, Nanos start,
                                                                                   Nanos length) {
                tracker->add_window(w, start, length);
                if (pub) pub->on_merged(w);
            });
            if (publisher)
                engine->set_on_window([pub = publisher.get()](uint64_t index, Nanos, Nanos,
                                                              const std::vector<const Attribution*>& touched) {
                    pub->on_window(index, touched);
                });
            reporter.set_detection(std::move(engine));
            if (!fleet) {
                auto desk = incident_setup(cfg, replay, extras, *ownership, eve.get());
                if (!desk) {
                    log::error("{}", desk.error().message);
                    return kExitBadInput;
                }
                reporter.set_incidents(std::move(*desk));
            }
        } else if (!extras.actions.empty()) {
            log::error("--actions: there are no deployments, so no incidents to act on");
            return kExitBadInput;
        }
        auto pipeline = Pipeline::create(cfg, inputs, replay, reporter, loaded->db, ownership.get());
        if (!pipeline) {
            log::error("{}", pipeline.error().message);
            return kExitFailure;
        }
        Pipeline& p = **pipeline;
        if (faults->mempool_exhaust) p.exhaust_mempool_at_start(faults->mempool_exhaust);
        // Reloads come from SIGHUP (the reloader's own control thread) and
        // from the control socket's `rules reload`.
        RulesReloader reloader(cfg, p, reporter, loaded->db);
        // The control socket and the metrics listener: opened before the
        // workers start, so that a socket in use or a port taken stops here.
        std::unique_ptr<fleet::DecisionWatcher> decisions;
        std::unique_ptr<DaemonControl> control;
        if (!cfg.control.socket.empty() || cfg.metrics.enabled) {
            ControlSetup cs;
            cs.cfg = &cfg;
            cs.pipeline = &p;
            cs.reporter = &reporter;
            cs.reloader = &reloader;
            cs.posture = posture.get();
            cs.replay = replay;
            cs.stop = [&p] { p.stop(); };
            if (publisher) {
                cs.fleet_status = [&publisher, &decisions]() -> nlohmann::json {
                    nlohmann::json j = publisher->status();
                    j["decisions"] = decisions ? decisions->status() : nlohmann::json(nullptr);
                    return j;
                };
                cs.no_desk = fmt::format("fleet mode: the incidents of site {} are kept by the aggregator; "
                                         "ask it (safeguard aggregate's control socket)", cfg.fleet.site);
            }
            auto opened = DaemonControl::open(std::move(cs));
            if (!opened) {
                log::error("{}", opened.error().message);
                return kExitFailure;
            }
            control = std::move(*opened);
        }
        if (reporter.incidents()) reporter.incidents()->start();
        g_running = &p;
        std::signal(SIGINT, on_stop_signal);
        std::signal(SIGTERM, on_stop_signal);
        if (auto ok = p.start(); !ok) {
            g_running = nullptr;
            log::error("{}", ok.error().message);
            return kExitFailure;
        }
        reloader.start();
        if (publisher) {
            publisher->start();
            // The aggregator's deactivations become this appliance's blocklist,
            // published by the reporter thread (the slot's only publisher).
            decisions = std::make_unique<fleet::DecisionWatcher>(
                publisher->bus(), [&cfg, &p, &reporter](const std::set<std::string>& deactivated) {
                    EnforcementSlot* slot = p.enforcement();
                    if (!slot) return true;
                    auto e = std::make_unique<Enforcement>();
                    e->blocked.assign(cfg.deployments.size(), 0);
                    for (size_t i = 0; i < cfg.deployments.size(); ++i)
                        if (deactivated.count(cfg.deployments[i].name)) {
                            e->blocked[i] = 1;
                            e->any_blocked = true;
                        }
                    log::info("fleet: blocklist from the aggregator: {}",
                              deactivated.empty() ? std::string("(empty)") : fmt::format("{}", fmt::join(deactivated, ", ")));
                    return reporter.call([slot, e = std::shared_ptr<Enforcement>(std::move(e))]() mutable {
                        slot->publish(std::make_unique<Enforcement>(*e));
                    }, std::chrono::seconds(5));
                });
        }
        if (control) control->start();
        if (!replay)
            log::info("running: {} port(s), {} worker(s), {} dispatch; SIGHUP reloads the rules, "
                      "SIGINT or SIGTERM stops",
                      p.ports().size(), p.workers(), p.software_dispatch() ? "software" : "hardware RSS");
        p.run();
        // No command may touch the pipeline or the reporter once the report is being built.
        if (control) control->stop();
        reloader.stop();
        if (decisions) decisions->stop();
        // The last windows (analysed at the end of the run) and a bye.
        if (publisher) publisher->stop(std::chrono::seconds(5));
        g_running = nullptr;
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);

        ReportContext ctx;
        ctx.mode = replay ? "replay" : "run";
        ctx.captures = captures;
        ctx.config = &cfg;
        ctx.software_dispatch = p.software_dispatch();
        ctx.interrupted = p.interrupted();
        ctx.rules_generation = reloader.generation();
        ctx.rules_reloads = reloader.reloads();
        ctx.rules_reload_errors = reloader.errors();
        ctx.rules_versions_freed = p.rules_versions_freed();
        if (ctx.interrupted) rc = kExitInterrupted;
        // Incident changes or e-mails that never reached the state directory
        // (the desk named them in its last error): not a clean end.
        if (reporter.incidents() && reporter.incidents()->state_lost()) rc = kExitFailure;
        nlohmann::json report = build_report(ctx, p.snapshot(), reporter.results());
        if (publisher) {
            report["fleet"] = publisher->status();
            report["fleet"]["decisions"] = decisions ? decisions->status() : nlohmann::json(nullptr);
        }
        fmt::print("{}", human_summary(report));
        if (eve) {
            // The closing stats record, as Suricata writes at shutdown.
            const double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch());
            fmt::print(eve.get(), "{}\n", stats_event(report, uptime, Nanos(wall.count())).dump());
        }
        if (!cfg.outputs.report.empty()) {
            if (auto ok = write_report(cfg.outputs.report, report); !ok) {
                log::error("{}", ok.error().message);
                rc = kExitFailure;
            }
        }
    }
    rte_eal_cleanup();
    return rc;
}

} // namespace sg::app
