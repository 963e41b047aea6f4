#include "app/safeguard/reloader.hpp"

#include <chrono>

#include <fmt/format.h>

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
        if (requested_.exchange(false)) (void)reload();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::shared_ptr<const MatchDatabase> RulesReloader::running() const {
    std::lock_guard<std::mutex> lock(db_mutex_);
    return running_db_;
}

Result<uint64_t> RulesReloader::reload() {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    const uint64_t next = generation_ + 1;
    auto loaded = load_rules(cfg_, next);
    if (!loaded) {
        ++errors_;
        log::error("rules reload rejected; generation {} keeps running: {}", generation_.load(),
                   loaded.error().message);
        return make_error(fmt::format("rules reload rejected; generation {} keeps running: {}", generation_.load(),
                                      loaded.error().message));
    }
    // The reporter learns the new rules (and threshold file) before any
    // alert can name them.
    reporter_.set_threshold_config(loaded->thresholds);
    reporter_.set_rules(loaded->db);
    if (auto ok = pipeline_.reload_rules(loaded->db); !ok) {
        ++errors_;
        log::error("rules reload failed; generation {} keeps running: {}", generation_.load(), ok.error().message);
        return make_error(fmt::format("rules reload failed; generation {} keeps running: {}", generation_.load(),
                                      ok.error().message));
    }
    {
        std::lock_guard<std::mutex> db_lock(db_mutex_);
        running_db_ = loaded->db;
    }
    generation_ = next;
    ++reloads_;
    log::info("rules generation {} is running", next);
    return next;
}

} // namespace sg::app
