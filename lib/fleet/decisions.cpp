#include "fleet/decisions.hpp"

#include <chrono>

#include "core/log.hpp"

namespace sg::fleet {

Result<> publish_decisions(Kv& bucket, const std::map<std::string, nlohmann::json>& deactivated) {
    auto keys = bucket.keys();
    if (!keys) return keys.error();
    const std::set<std::string> there(keys->begin(), keys->end());
    for (const auto& [name, why] : deactivated)
        if (!there.count(name))
            if (auto ok = bucket.put(name, why.dump()); !ok) return ok.error();
    for (const std::string& name : there)
        if (!deactivated.count(name))
            if (auto ok = bucket.erase(name); !ok) return ok.error();
    return {};
}

DecisionWatcher::DecisionWatcher(Bus& bus, Apply apply) : bus_(bus), apply_(std::move(apply)) {
    thread_ = std::thread([this] { loop(); });
}

DecisionWatcher::~DecisionWatcher() { stop(); }

void DecisionWatcher::stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void DecisionWatcher::loop() {
    using namespace std::chrono_literals;
    std::unique_ptr<Kv> bucket;
    std::unique_ptr<KvWatcher> watcher;
    std::set<std::string> seen;            // the bucket's keys as the watch delivered them
    bool current = false;                  // the watch's initial values are all in
    bool failing = false;
    while (!stop_) {
        if (!watcher) {
            // (Re)opened after an outage: the watch starts with the current values again.
            auto opened = bus_.bucket(bus_.names().decisions_bucket, 5);
            auto w = opened ? (*opened)->watch_all() : Result<std::unique_ptr<KvWatcher>>(opened.error());
            if (!w) {
                std::lock_guard<std::mutex> lock(mutex_);
                last_error_ = w.error().message;
                if (!failing) log::warn("fleet decisions: {} (the blocklist stays as it is; retrying)", last_error_);
                failing = true;
                for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(100ms);
                continue;
            }
            bucket = std::move(*opened);
            watcher = std::move(*w);
            seen.clear();
            current = false;
            if (failing) log::info("fleet decisions: watching {} again", bus_.names().decisions_bucket);
            failing = false;
        }
        auto next = watcher->next(200ms);
        if (!next) {
            watcher.reset();
            bucket.reset();
            continue;
        }
        bool changed = false;
        if (*next) {
            const KvEntry& e = **next;
            if (e.key.empty()) {
                current = true;
                changed = true;
            } else {
                changed = e.deleted ? seen.erase(e.key) > 0 : seen.insert(e.key).second;
            }
        }
        if (!current || !(changed || !applied_)) continue;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (seen == deactivated_ && applied_) continue;
            if (seen != deactivated_) ++changes_;
            deactivated_ = seen;
        }
        // Outside the lock: applying waits for the reporter thread, status() must not.
        const bool ok = apply_(seen);
        std::lock_guard<std::mutex> lock(mutex_);
        applied_ = ok;
    }
}

nlohmann::json DecisionWatcher::status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {{"deactivated", deactivated_}, {"applied", applied_}, {"changes", changes_},
            {"last_error", last_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_error_)}};
}

} // namespace sg::fleet
