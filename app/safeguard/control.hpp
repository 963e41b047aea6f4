#pragma once
// The daemon's control side: the commands of the control socket
// (lib/control) bound to this run's pipeline, reporter and rules reloader,
// and the metrics/dashboard listener. docs/operations.md lists the commands.
//
// Every command runs on the control server's thread; the HTTP routes on
// httplib's threads. What belongs to the reporter thread (incidents,
// exceptions, detection state, the posture, alert counts) is read and
// changed there, through Reporter::call; worker and port statistics are
// plain counters read as they are (Pipeline::snapshot); `rules reload` goes
// through the RulesReloader (which publishes to the workers by pointer
// swap); `shutdown` does what SIGTERM does. Nothing here runs on a worker.
//
// Thread: open()/start()/stop() on the main thread.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "app/safeguard/reloader.hpp"
#include "config/config.hpp"
#include "control/command_table.hpp"
#include "control/http.hpp"
#include "control/server.hpp"
#include "core/result.hpp"
#include "detect/posture.hpp"
#include "pipeline/pipeline.hpp"
#include "report/reporter.hpp"

namespace sg::app {

struct ControlSetup {
    const Config* cfg = nullptr;
    Pipeline* pipeline = nullptr;
    Reporter* reporter = nullptr;
    RulesReloader* reloader = nullptr;
    PostureTracker* posture = nullptr;   // the reporter thread's; null without deployments
    bool replay = false;
    std::function<void()> stop;          // what SIGTERM does
    // Fleet mode: the link's status (for `status`), and why incident
    // commands have nothing here (the aggregator keeps the incidents).
    std::function<nlohmann::json()> fleet_status;
    std::string no_desk;
};

class DaemonControl {
public:
    // Opens the control socket (when control.socket is set) and the HTTP
    // listener (when metrics is set). Errors name the path or address.
    static Result<std::unique_ptr<DaemonControl>> open(ControlSetup setup);
    ~DaemonControl();
    // Starts answering on the control socket.
    void start();
    // Stops both; idempotent. Before the report is built.
    void stop();

    // The pieces the routes and commands are made of (also for tests).
    nlohmann::json status();
    Result<nlohmann::json> stats(bool sum);
    std::string metrics();
    nlohmann::json dashboard_data();

private:
    explicit DaemonControl(ControlSetup setup);
    void register_commands();
    // Runs fn on the reporter thread and waits (10 s at most).
    Result<nlohmann::json> on_reporter(const std::function<Result<nlohmann::json>()>& fn);
    PipelineSnapshot snapshot();
    nlohmann::json rates(const PipelineSnapshot& s);

    ControlSetup setup_;
    control::CommandTable table_;
    std::unique_ptr<control::ControlServer> server_;
    std::unique_ptr<control::HttpListener> http_;
    std::chrono::steady_clock::time_point started_;
    Nanos started_wall_ = 0;
    std::mutex snapshot_mutex_;
    // Live rates: counters at the start of the current interval, and the
    // rates of the last complete one.
    struct Sample {
        std::chrono::steady_clock::time_point at;
        uint64_t packets = 0, bytes = 0, alerts = 0, drops = 0;
    };
    std::mutex rates_mutex_;
    Sample base_;
    nlohmann::json last_rates_;
};

} // namespace sg::app
