#pragma once
// RulesReloader: reloads the rule files on request, SIGHUP or the control
// socket's `rules reload`. Parsing and compiling happen on the caller's
// control thread (SIGHUP: a thread of its own), off the packet path; a file
// with errors is rejected with file:line and the running rules stay; a good
// one is published to the workers (RulesSlot). Reloads are serialised.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "core/result.hpp"
#include "match/database.hpp"

namespace sg {
class Pipeline;
class Reporter;
} // namespace sg

namespace sg::app {

class RulesReloader {
public:
    // `running`: the rule set the pipeline starts with (may be null).
    RulesReloader(const Config& cfg, Pipeline& pipeline, Reporter& reporter,
                  std::shared_ptr<const MatchDatabase> running)
        : cfg_(cfg), pipeline_(pipeline), reporter_(reporter), running_db_(std::move(running)),
          generation_(running_db_ ? running_db_->generation() : 0) {}
    ~RulesReloader() { stop(); }

    void start();
    void stop();
    // Async-signal-safe: asks for a reload.
    static void request() { requested_.store(true, std::memory_order_relaxed); }
    // Reloads now, on the calling (control) thread: the new generation, or
    // why the files were rejected (every error, file:line) while the
    // running generation stays.
    Result<uint64_t> reload();

    uint64_t generation() const { return generation_; }
    uint64_t reloads() const { return reloads_; }
    uint64_t errors() const { return errors_; }
    // The rule set the workers run now (null: none).
    std::shared_ptr<const MatchDatabase> running() const;

private:
    void loop();

    const Config& cfg_;
    Pipeline& pipeline_;
    Reporter& reporter_;
    std::mutex reload_mutex_;             // one reload at a time (SIGHUP, the control socket)
    mutable std::mutex db_mutex_;         // guards running_db_ (read by status and metrics meanwhile)
    std::shared_ptr<const MatchDatabase> running_db_;
    std::atomic<uint64_t> generation_;
    std::atomic<uint64_t> reloads_{0};
    std::atomic<uint64_t> errors_{0};
    std::atomic<bool> running_{false};
    std::thread thread_;
    static std::atomic<bool> requested_;
};

} // namespace sg::app
