#pragma once
// RulesReloader: the control thread that reloads the rule files on request
// (SIGHUP now; the control socket later). Parsing and compiling happen here,
// off the packet path; a file with errors is rejected with file:line and the
// running rules stay; a good one is published to the workers (RulesSlot).

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "config/config.hpp"

namespace sg {
class Pipeline;
class Reporter;
} // namespace sg

namespace sg::app {

class RulesReloader {
public:
    RulesReloader(const Config& cfg, Pipeline& pipeline, Reporter& reporter, uint64_t generation)
        : cfg_(cfg), pipeline_(pipeline), reporter_(reporter), generation_(generation) {}
    ~RulesReloader() { stop(); }

    void start();
    void stop();
    // Async-signal-safe: asks for a reload.
    static void request() { requested_.store(true, std::memory_order_relaxed); }

    uint64_t generation() const { return generation_; }
    uint64_t reloads() const { return reloads_; }
    uint64_t errors() const { return errors_; }

private:
    void loop();
    void reload_now();

    const Config& cfg_;
    Pipeline& pipeline_;
    Reporter& reporter_;
    std::atomic<uint64_t> generation_;
    std::atomic<uint64_t> reloads_{0};
    std::atomic<uint64_t> errors_{0};
    std::atomic<bool> running_{false};
    std::thread thread_;
    static std::atomic<bool> requested_;
};

} // namespace sg::app
