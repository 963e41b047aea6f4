#include "app/safeguard/reloader.hpp"

#include <chrono>

#include "app/safeguard/rules_setup.hpp"
#include "core/log.hpp"
#include "pipeline/pipeline.hpp"
#include "report/reporter.hpp"

namespace sg::app {

std::atomic<bool> RulesReloader::requested_{false};

void RulesReloader::start() {
    running_.store(true);
    thread_ = std::thread([this] { loop(); });
}

void RulesReloader::stop() {
    running_.store(false);
    if (thread_.joinable()) thread_.join();
}

void RulesReloader::loop() {
    while (running_.load()) {
        if (requested_.exchange(false)) reload_now();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void RulesReloader::reload_now() {
    const uint64_t next = generation_ + 1;
    auto loaded = load_rules(cfg_, next);
    if (!loaded) {
        ++errors_;
        log::error("rules reload rejected; generation {} keeps running: {}", generation_.load(),
                   loaded.error().message);
        return;
    }
    // The reporter learns the new rules (and threshold file) before any
    // alert can name them.
    reporter_.set_threshold_config(loaded->thresholds);
    reporter_.set_rules(loaded->db);
    if (auto ok = pipeline_.reload_rules(loaded->db); !ok) {
        ++errors_;
        log::error("rules reload failed; generation {} keeps running: {}", generation_.load(), ok.error().message);
        return;
    }
    generation_ = next;
    ++reloads_;
    log::info("rules generation {} is running", next);
}

} // namespace sg::app
