#include "app/safeguard/aggregator.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/log.hpp"
#include "detect/attribution.hpp"
#include "fleet/decisions.hpp"
#include "fleet/window_codec.hpp"
#include "fleet/window_message.hpp"

namespace sg::app {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kCallTimeout = 10s;
constexpr auto kRenewEvery = 1s;
constexpr int kFetchBatch = 256;
constexpr auto kFetchWait = 200ms;
// Windows a new holder analyses again before acting (the longest activity
// period a detector keeps is about this long: sweeps and scans).
constexpr uint64_t kWarmupWindows = 120;

Nanos wall_now() {
    return Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
}

// The summary's deployment numbers name this aggregator's deployments (the
// config fingerprint says they should; a message that does not must not
// index past the ownership table).
bool deployments_in_range(const WindowSummary& w, size_t n) {
    bool ok = true;
    auto check = [&](DeploymentId d) { ok = ok && (d == kNoDeployment || d < n); };
    w.hosts.for_each([&](const HostStats& h) { check(h.deployment); });
    w.sweeps.for_each([&](const auto& e) { check(e.key.target_deployment); });
    return ok;
}

} // namespace

Aggregator::Aggregator(const Config& cfg, const Ownership& ownership, DetectionSetup detection, std::FILE* eve)
    : cfg_(cfg), ownership_(ownership), detection_(std::move(detection)), eve_(eve) {}

Result<std::unique_ptr<Aggregator>> Aggregator::open(const Config& cfg, const Ownership& ownership,
                                                     DetectionSetup detection, std::FILE* eve) {
    if (!cfg.fleet.enabled) return make_error(fmt::format("{}: aggregate needs a fleet: section", cfg.source));
    if (cfg.fleet.appliances.empty())
        return make_error(fmt::format("{}: fleet.appliances: the aggregator needs the names of the appliances "
                                      "whose windows it merges", cfg.source));
    if (cfg.deployments.empty())
        return make_error(fmt::format("{}: no deployments: there is nothing to protect", cfg.source));
    std::unique_ptr<Aggregator> a(new Aggregator(cfg, ownership, std::move(detection), eve));
    auto bus = fleet::Bus::connect(cfg.fleet, "safeguard-aggregate-" + cfg.fleet.name, /*retry_connect=*/true);
    if (!bus) return bus.error();
    a->bus_ = std::move(*bus);
    a->block_ = std::make_unique<WindowSummary>();
    a->status_ = {{"role", "starting"}};
    return a;
}

Aggregator::~Aggregator() { stop(); }

void Aggregator::start() {
    {
        std::lock_guard<std::mutex> lock(calls_mutex_);
        running_ = true;
    }
    thread_ = std::thread([this] { loop(); });
}

void Aggregator::stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

Result<json> Aggregator::call(const std::function<Result<json>()>& fn) {
    Result<json> out = make_error("not run");
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> ready = done->get_future();
    {
        std::lock_guard<std::mutex> lock(calls_mutex_);
        if (!running_) return make_error("the aggregator has stopped");
        calls_.push_back({[&] {
                              try {
                                  out = fn();
                              } catch (const std::exception& e) {
                                  out = make_error(fmt::format("failed: {}", e.what()));
                              }
                          },
                          done});
    }
    if (ready.wait_for(kCallTimeout) == std::future_status::ready) return out;
    std::lock_guard<std::mutex> lock(calls_mutex_);
    for (auto it = calls_.begin(); it != calls_.end(); ++it)
        if (it->done == done) {
            calls_.erase(it);
            return make_error("the aggregator did not take the request in time; nothing was done");
        }
    ready.wait();
    return out;
}

void Aggregator::run_calls() {
    std::deque<Call> calls;
    {
        std::lock_guard<std::mutex> lock(calls_mutex_);
        calls.swap(calls_);
    }
    for (Call& c : calls) {
        c.fn();
        c.done->set_value();
    }
}

Result<> Aggregator::connect_buckets() {
    if (!state_) {
        auto state = bus_->bucket(bus_->names().state_bucket, 1);
        if (!state) return state.error();
        state_ = std::move(*state);
        lease_ = std::make_unique<fleet::Lease>(*state_, cfg_.fleet.name, cfg_.fleet.lease);
    }
    if (!decisions_) {
        auto decisions = bus_->bucket(bus_->names().decisions_bucket, 5);
        if (!decisions) return decisions.error();
        decisions_ = std::move(*decisions);
    }
    return bus_->ensure_windows_stream();
}

void Aggregator::loop() {
    bool ready = false;
    auto next_try = Clock::now();
    std::string last_error;
    while (!stop_) {
        run_calls();
        if (desk_) {
            active_step();
            continue;
        }
        if (Clock::now() < next_try) {
            std::this_thread::sleep_for(50ms);
            continue;
        }
        next_try = Clock::now() + 500ms;
        if (!ready) {
            auto ok = connect_buckets();
            if (!ok) {
                if (ok.error().message != last_error) log::warn("fleet: {} (retrying)", ok.error().message);
                last_error = ok.error().message;
                std::lock_guard<std::mutex> lock(status_mutex_);
                status_ = {{"role", "connecting"}, {"error", last_error}};
                continue;
            }
            ready = true;
            log::info("fleet: connected to site {} as {}: standing by for the lease", cfg_.fleet.site, cfg_.fleet.name);
        }
        json taken;
        auto acquired = lease_->try_acquire(taken);
        {
            std::lock_guard<std::mutex> lock(status_mutex_);
            status_ = {{"role", "standby"},
                       {"name", cfg_.fleet.name},
                       {"active", lease_->current_holder().empty() ? json(nullptr) : json(lease_->current_holder())},
                       {"error", acquired ? json(nullptr) : json(acquired.error().message)}};
        }
        if (!acquired || !*acquired) continue;
        if (auto ok = become_active(taken); !ok) {
            log::error("fleet: cannot act: {}; the lease is given back", ok.error().message);
            step_down("could not start");
            lease_->release();
            next_try = Clock::now() + 2s;
        }
    }
    if (desk_) {
        renew();
        step_down("stopping");
        lease_->release();
    }
    std::lock_guard<std::mutex> lock(calls_mutex_);
    running_ = false;
    // Calls that came in since: run here, the thread is ending.
    for (Call& c : calls_) {
        c.fn();
        c.done->set_value();
    }
    calls_.clear();
}

Result<> Aggregator::become_active(const json& taken) {
    ++terms_;
    // Resume at the warm-up cursor: the windows of the last kWarmupWindows
    // the previous holder analysed are analysed again, with the desk
    // detached, so that what the detectors keep across windows (activity
    // periods, baselines, open attributions) is as it was; from
    // analysed_up_to on, the desk acts.
    const uint64_t cursor = taken.is_object() ? taken.value("warm_cursor", taken.value("cursor", uint64_t(1))) : 1;
    skip_below_ = taken.is_object() ? taken.value("analysed_up_to", uint64_t(0)) : 0;
    warming_ = false;
    history_.clear();
    auto records = restore_incidents();
    if (!records) return records.error();

    respond::DeskOptions d;
    d.policy = cfg_.policy;
    d.deployments = cfg_.deployments;
    d.notify = cfg_.notify;
    d.enforcement = cfg_.enforcement;
    d.state_dir = cfg_.state_dir;
    d.initial_records = std::move(*records);
    d.on_commit = [this](const json& record) { mirror(record); };
    d.on_blocklist = [this](const std::set<std::string>& deactivated) { publish_blocklist(deactivated); };
    auto desk = respond::IncidentDesk::open(std::move(d), ownership_, eve_);
    if (!desk) return desk.error();

    DetectionSetup setup = detection_;
    setup.workers = unsigned(cfg_.fleet.appliances.size());
    engine_ = std::make_unique<DetectionEngine>(std::move(setup));
    posture_ = std::make_unique<PostureTracker>([this](const IpAddress& ip) { return ownership_.lookup(ip); });
    engine_->set_on_merged([this](const WindowSummary& w, Nanos start, Nanos length) {
        warming_ = w.index < skip_below_;
        if (warming_) ++warmup_windows_;
        posture_->add_window(w, start, length);
    });
    engine_->set_on_open([this](const Attribution& a) {
        if (!eve_ || warming_) return;  // the previous holder wrote it
        json ev = {{"timestamp", format_timestamp(a.first_seen)},
                   {"event_type", "attribution"},
                   {"attribution", to_json(a, ownership_)}};
        const std::string line = ev.dump() + "\n";
        std::fwrite(line.data(), 1, line.size(), eve_);
        std::fflush(eve_);
    });
    engine_->set_on_window([this](uint64_t index, Nanos end, Nanos quiet_until,
                                  const std::vector<const Attribution*>& touched) {
        if (index >= skip_below_) desk_->on_window(end - engine_->window(), end, quiet_until, touched);
    });
    desk_ = std::move(*desk);
    desk_->set_enforcement(nullptr);  // publishes the restored blocklist
    desk_->start();

    auto consumer = bus_->windows_consumer(cursor);
    if (!consumer) return consumer.error();
    consumer_ = std::move(*consumer);
    next_seq_ = cursor;
    appliances_.clear();
    for (const std::string& name : cfg_.fleet.appliances) {
        Appliance a;
        a.name = name;
        a.heard = Clock::now();
        appliances_.push_back(a);
    }
    unacked_.clear();
    renewed_ = Clock::now();
    log::info("fleet: {} is the active aggregator (term {}): {} incident(s) restored, windows from stream "
              "sequence {}, window {} on",
              cfg_.fleet.name, terms_, desk_->manager().incidents().size(), cursor, skip_below_);
    return {};
}

void Aggregator::step_down(const char* why) {
    if (!desk_) return;
    log::info("fleet: {} stops acting ({})", cfg_.fleet.name, why);
    consumer_.reset();
    desk_->finish();
    {
        std::lock_guard<std::mutex> lock(status_mutex_);
        status_["final_report"] = report();
    }
    engine_.reset();
    posture_.reset();
    desk_.reset();
    unacked_.clear();
}

void Aggregator::active_step() {
    // Never act on a lease a standby may have taken over by now.
    if (!lease_->still_held()) {
        lease_->abandon();
        step_down("the lease could not be renewed in time");
        return;
    }
    auto fetched = consumer_->fetch(kFetchBatch, kFetchWait);
    if (!fetched) {
        if (!warned_.count("fetch")) log::warn("fleet: {}", fetched.error().message);
        warned_.insert("fetch");
        std::this_thread::sleep_for(100ms);
    } else {
        warned_.erase("fetch");
        for (fleet::Fetched& m : *fetched) process(std::move(m));
    }
    check_silence();
    ack_analysed();
    desk_->poll();
    if (mirror_behind_) resync_mirror();
    if (blocklist_dirty_) flush_blocklist();
    const auto every = std::min<std::chrono::nanoseconds>(kRenewEvery, std::chrono::nanoseconds(cfg_.fleet.lease / 4));
    if (Clock::now() - renewed_ >= every) renew();

    std::lock_guard<std::mutex> lock(status_mutex_);
    json apps = json::array();
    for (const Appliance& a : appliances_)
        apps.push_back({{"name", a.name},
                        {"silent", a.silent},
                        {"last_index", a.any ? json(a.last_index) : json(nullptr)},
                        {"heard_s_ago", std::chrono::duration<double>(Clock::now() - a.heard).count()},
                        {"windows", a.windows},
                        {"bytes", a.bytes},
                        {"duplicates", a.duplicates},
                        {"late", a.late},
                        {"rejected", a.rejected},
                        {"attributions", a.attributions}});
    const DetectionCounters& c = engine_->counters();
    status_ = {{"role", "active"},
               {"name", cfg_.fleet.name},
               {"active", cfg_.fleet.name},
               {"term", terms_},
               {"cursor", cursor_json()},
               {"appliances", apps},
               {"windows_analysed", c.windows},
               {"summaries_merged", c.summaries},
               {"late_summaries", c.late_summaries},
               {"warmup_windows", warmup_windows_},
               {"unknown_appliance", unknown_},
               {"rejected", rejected_},
               {"waiting_for_analysis", unacked_.size()},
               {"mirror_behind", mirror_behind_},
               {"deactivated", json::array()}};
    for (const auto& [name, why] : blocklist_) status_["deactivated"].push_back(name);
}

void Aggregator::process(fleet::Fetched msg) {
    const uint64_t seq = msg.stream_seq();
    next_seq_ = std::max(next_seq_, seq + 1);
    auto warn_once = [this](const std::string& key, const std::string& text) {
        if (warned_.insert(key).second) log::warn("fleet: {}", text);
    };
    auto m = fleet::decode_message(msg.data());
    if (!m) {
        ++rejected_;
        warn_once("bad:" + std::string(msg.subject()), fmt::format("{}: {} (dropped)", msg.subject(), m.error().message));
        msg.ack();
        return;
    }
    auto it = std::find_if(appliances_.begin(), appliances_.end(), [&](const Appliance& a) { return a.name == m->appliance; });
    if (it == appliances_.end()) {
        ++unknown_;
        warn_once("unknown:" + m->appliance,
                  fmt::format("windows from '{}', which is not in fleet.appliances: not merged", m->appliance));
        msg.ack();
        return;
    }
    Appliance& a = *it;
    const unsigned i = unsigned(it - appliances_.begin());
    a.heard = Clock::now();
    if (m->config != fleet::config_fingerprint(cfg_) || m->window != engine_->window()) {
        ++a.rejected;
        warn_once("config:" + a.name,
                  fmt::format("{} runs with other deployments or another window length (fingerprint {}, here {}): "
                              "its windows cannot merge and are dropped", a.name, m->config, fleet::config_fingerprint(cfg_)));
        msg.ack();
        return;
    }
    if (m->kind == "bye") {
        a.silent = true;
        engine_->worker_done(i);
        msg.ack();
        return;
    }
    if (a.any && m->run == a.run && m->index <= a.last_index) {
        ++a.duplicates;
        msg.ack();
        return;
    }
    auto decoded = fleet::decode_window(m->summary, *block_);
    if (decoded && !deployments_in_range(*block_, cfg_.deployments.size()))
        decoded = make_error(fmt::format("a deployment number past the {} deployments", cfg_.deployments.size()));
    if (!decoded) {
        ++a.rejected;
        warn_once("summary:" + a.name, fmt::format("a window of {}: {} (dropped)", a.name, decoded.error().message));
        msg.ack();
        return;
    }
    block_->index = m->index;
    if (a.silent) log::info("fleet: {} is back", a.name);
    a.silent = false;
    a.run = m->run;
    a.last_index = m->index;
    a.any = true;
    ++a.windows;
    a.bytes += msg.data().size();
    a.attributions += m->attributions.size();
    const uint64_t late_before = engine_->counters().late_summaries;
    engine_->add_window(i, *block_);
    if (engine_->counters().late_summaries != late_before) ++a.late;
    unacked_.push_back(Unacked{seq, m->index, std::move(msg)});
}

void Aggregator::ack_analysed() {
    const uint64_t done = engine_->analysed_up_to();
    // In stream order, so that the cursor stays below every message not yet analysed.
    for (auto it = unacked_.begin(); it != unacked_.end();) {
        if (it->index < done) {
            it->msg.ack();
            it = unacked_.erase(it);
        } else {
            ++it;
        }
    }
}

void Aggregator::check_silence() {
    const auto now = Clock::now();
    for (size_t i = 0; i < appliances_.size(); ++i) {
        Appliance& a = appliances_[i];
        if (a.silent || now - a.heard < std::chrono::nanoseconds(cfg_.fleet.appliance_timeout)) continue;
        a.silent = true;
        log::warn("fleet: nothing from {} for {}: its windows are completed without it until it is back", a.name,
                  format_duration(cfg_.fleet.appliance_timeout));
        engine_->worker_done(unsigned(i));
    }
}

json Aggregator::cursor_json() const {
    const uint64_t cursor = unacked_.empty() ? next_seq_ : unacked_.front().seq;
    const uint64_t analysed = engine_ ? engine_->analysed_up_to() : 0;
    const auto& warm = history_.empty() ? std::pair<uint64_t, uint64_t>{analysed, cursor} : history_.front();
    return {{"cursor", cursor}, {"analysed_up_to", analysed}, {"warm_cursor", warm.second}, {"warm_from", warm.first}};
}

void Aggregator::renew() {
    renewed_ = Clock::now();
    // Where a successor starts its warm-up: the cursor of about
    // kWarmupWindows analysed windows ago.
    if (engine_) {
        const uint64_t analysed = engine_->analysed_up_to();
        const uint64_t cursor = unacked_.empty() ? next_seq_ : unacked_.front().seq;
        if (history_.empty() || history_.back().first != analysed) history_.emplace_back(analysed, cursor);
        while (history_.size() > 1 && history_[1].first + kWarmupWindows <= analysed) history_.pop_front();
    }
    if (!lease_->renew(cursor_json())) step_down("the lease is lost");
}

Result<std::vector<json>> Aggregator::restore_incidents() {
    auto keys = state_->keys();
    if (!keys) return keys.error();
    json record = {{"v", 1},
                   {"next", {{"incident", 1}, {"exception", 1}, {"event", 1}}},
                   {"incidents", json::array()},
                   {"exceptions", json::array()}};
    size_t found = 0;
    for (const std::string& key : *keys) {
        const bool incident = key.starts_with("incident.");
        if (!incident && !key.starts_with("exception.") && key != "next") continue;
        auto e = state_->get(key);
        if (!e) return e.error();
        if (!*e) continue;
        json value = json::parse((*e)->value, nullptr, false);
        if (value.is_discarded())
            return make_error(fmt::format("{}: {} is not JSON", state_->bucket(), key));
        if (key == "next") {
            record["next"] = value;
        } else {
            record[incident ? "incidents" : "exceptions"].push_back(std::move(value));
            ++found;
        }
    }
    std::vector<json> out;
    if (found) out.push_back(std::move(record));
    return out;
}

void Aggregator::mirror(const json& record) {
    if (mirror_behind_) return;  // the next resync writes everything
    auto put_all = [&]() -> Result<> {
        for (const json& inc : record.at("incidents"))
            if (auto ok = state_->put(fmt::format("incident.{}", inc.at("id").get<uint64_t>()), inc.dump()); !ok)
                return ok.error();
        for (const json& ex : record.at("exceptions"))
            if (auto ok = state_->put(fmt::format("exception.{}", ex.at("id").get<uint64_t>()), ex.dump()); !ok)
                return ok.error();
        if (auto ok = state_->put("next", record.at("next").dump()); !ok) return ok.error();
        return {};
    };
    if (auto ok = put_all(); !ok) {
        mirror_behind_ = true;
        log::error("fleet: cannot mirror an incident change to {}: {} (retried with the whole state)",
                   state_->bucket(), ok.error().message);
    }
}

void Aggregator::resync_mirror() {
    mirror_behind_ = false;
    for (const json& r : desk_->manager().snapshot()) {
        mirror(r);
        if (mirror_behind_) return;
    }
    log::info("fleet: incident state mirrored to {} again", state_->bucket());
}

void Aggregator::publish_blocklist(const std::set<std::string>& deactivated) {
    std::map<std::string, json> now;
    for (const std::string& name : deactivated) {
        json why = {{"deployment", name}, {"by", cfg_.fleet.name}, {"at", format_timestamp(wall_now())}};
        if (desk_)
            for (const auto& [id, inc] : desk_->manager().incidents())
                if (inc.state == IncidentState::deactivated && inc.key.source.deployment == name) why["incident"] = id;
        now[name] = std::move(why);
    }
    blocklist_ = std::move(now);
    blocklist_dirty_ = true;
    flush_blocklist();
}

void Aggregator::flush_blocklist() {
    auto ok = fleet::publish_decisions(*decisions_, blocklist_);
    blocklist_dirty_ = !ok;
    if (!ok) {
        if (warned_.insert("decisions").second)
            log::error("fleet: cannot publish the blocklist: {} (retried)", ok.error().message);
        return;
    }
    warned_.erase("decisions");
    std::string names;
    for (const auto& [name, why] : blocklist_) names += (names.empty() ? "" : ", ") + name;
    log::info("fleet: blocklist published: {}", names.empty() ? "(empty)" : names);
}

json Aggregator::status() {
    std::lock_guard<std::mutex> lock(status_mutex_);
    json out = status_;
    out.erase("final_report");
    out["site"] = cfg_.fleet.site;
    out["connected"] = bus_->connected();
    return out;
}

json Aggregator::final_report() {
    std::lock_guard<std::mutex> lock(status_mutex_);
    json fleet = status_;
    json out = fleet.contains("final_report") ? fleet["final_report"] : json{{"mode", "aggregate"}};
    fleet.erase("final_report");
    out["fleet"] = fleet;
    return out;
}

json Aggregator::report() {
    json out = {{"mode", "aggregate"}, {"name", cfg_.fleet.name}};
    if (desk_) {
        out["incidents"] = desk_->incidents_json();
        out["desk"] = desk_->counters_json();
    }
    if (engine_) {
        json attributions = json::array();
        for (const Attribution* a : engine_->attributions()) attributions.push_back(to_json(*a, ownership_));
        out["attributions"] = attributions;
    }
    return out;
}

} // namespace sg::app
