#include "respond/desk.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/log.hpp"
#include "incident/incident_json.hpp"
#include "notify/message.hpp"

namespace sg::respond {

namespace {

notify::Role notify_role(Role r) { return r == Role::source ? notify::Role::source : notify::Role::target; }

// What an attribution adds to its incident's evidence beyond the detector's
// counters: the top contributors and the matched rules, so that an e-mail
// composed again after a restart still names them.
Attribution with_contributors(const Attribution& a) {
    Attribution copy = a;
    if (!a.top_sources.empty()) {
        nlohmann::json top = nlohmann::json::array();
        for (const Contributor& c : a.top_sources) top.push_back({{"ip", c.ip.to_string()}, {"packets", c.packets}});
        copy.evidence["top_sources"] = std::move(top);
    }
    if (!a.sids.empty()) copy.evidence["sids"] = a.sids;
    return copy;
}

std::string single_host(const Endpoint& end, const std::set<std::string>& hosts) {
    if (end.ip) return end.ip->to_string();
    return hosts.size() == 1 ? *hosts.begin() : std::string();
}

} // namespace

IncidentDesk::IncidentDesk(DeskOptions options, const Ownership& ownership, std::FILE* eve)
    : options_(std::move(options)), ownership_(ownership), eve_(eve) {}

IncidentDesk::~IncidentDesk() {
    if (notifier_) notifier_->stop();
    if (hooks_) hooks_->stop();
}

Result<std::unique_ptr<IncidentDesk>> IncidentDesk::open(DeskOptions options, const Ownership& ownership,
                                                         std::FILE* eve) {
    std::unique_ptr<IncidentDesk> d(new IncidentDesk(std::move(options), ownership, eve));
    const DeskOptions& o = d->options_;
    IncidentOptions io;
    io.policy = o.policy;
    io.deployments = o.deployments;
    io.state_dir = o.state_dir;
    io.initial_records = std::move(d->options_.initial_records);
    io.on_commit = o.on_commit;
    // A state directory that cannot be used at start stops the start: the
    // error names it (the file and the reason follow).
    const auto unusable = [&](const Error& e) {
        return make_error(fmt::format("state directory {} cannot be used: {}", o.state_dir, e.message));
    };
    auto manager = IncidentManager::open(io);
    if (!manager) return o.state_dir.empty() ? manager.error() : unusable(manager.error());
    d->manager_ = std::move(*manager);
    if (const std::string w = d->manager_->recovery_warning(); !w.empty()) log::warn("incident journal: {}", w);
    if (!o.state_dir.empty()) {
        notify::Sender sender = o.sender;
        if (!sender && !o.notify.smtp_url.empty()) sender = notify::smtp_sender({o.notify.smtp_url});
        if (!sender)
            sender = [](const notify::Envelope&, std::string_view) -> Result<> {
                return make_error("notify.smtp_url is not set");
            };
        auto outbox = notify::Outbox::open(o.state_dir, std::move(sender), o.backoff);
        if (!outbox) return unusable(outbox.error());
        d->outbox_.emplace(std::move(*outbox));
        if (o.policy.evidence_packets) {
            auto evidence = notify::EvidenceWriter::open(o.state_dir, o.policy.evidence_packets);
            if (!evidence) return unusable(evidence.error());
            d->evidence_.emplace(std::move(*evidence));
        }
    }
    d->blocked_ = d->manager_->deactivated_deployments();
    if (!d->blocked_.empty())
        log::warn("deployments still deactivated from before the restart: {}", fmt::join(d->blocked_, ", "));

    // Notifications requested before a restart and not recorded as sent:
    // delivered since (in sent/) -> record it; still in the outbox -> it
    // goes out; never stored (the crash came first) -> compose it again.
    if (d->outbox_ && (o.sender || !o.notify.smtp_url.empty())) {
        const std::vector<std::string> sent = d->outbox_->sent();
        std::set<std::string> pending;
        for (const auto& p : d->outbox_->pending()) pending.insert(p.id);
        for (const Notification& n : d->manager_->pending_notifications()) {
            const std::string id = notify::stable_id(n.incident, notify_role(n.role), n.recipient);
            if (std::binary_search(sent.begin(), sent.end(), id)) {
                d->note_journal(d->manager_->mark_notified(n.incident, n.role, n.recipient, n.requested_at),
                                "a delivery made before the restart");
                continue;
            }
            d->awaiting_[id] = {n.incident, n.role, n.recipient};
            if (pending.count(id)) continue;
            const Incident* inc = d->manager_->find(n.incident);
            if (!inc) continue;
            auto m = d->compose_for(*inc, n.role, n.deployment, n.recipient, n.requested_at);
            if (!m) return make_error(fmt::format("incident {}: {}", n.incident, m.error().message));
            ++d->counters_.messages_queued;
            // A full disk at start: held, and stored by the notifier once it can.
            d->unstored_.push_back(std::move(*m));
        }
        if (!d->unstored_.empty()) d->store_unstored();
    }
    return d;
}

void IncidentDesk::set_enforcement(EnforcementSlot* slot) {
    slot_ = slot;
    enforcement_dirty_ = true;
    publish_enforcement();
}

void IncidentDesk::start() {
    if (outbox_ && (options_.sender || !options_.notify.smtp_url.empty())) {
        // Retries every second when something is due; the first pass tries
        // everything pending at once (a restart often follows a fix).
        notifier_ = std::make_unique<Background>(
            [this] {
                if (!unstored_.empty()) store_unstored();
                const Nanos now = first_pass_ ? std::numeric_limits<Nanos>::max() : notify::wall_now();
                first_pass_ = false;
                const auto due = outbox_->next_due();
                if (!due || *due > now) return;
                auto r = outbox_->deliver_due(now);
                std::lock_guard<std::mutex> lock(results_mutex_);
                if (!r) {
                    log::error("outbox: {}", r.error().message);
                    return;
                }
                for (const std::string& e : r->errors) log::warn("outbox: {} (kept, retried later)", e);
                delivered_.insert(delivered_.end(), r->sent_ids.begin(), r->sent_ids.end());
                failures_ += r->failed;
            },
            kNsPerSec);
        notifier_->start();
        // Replay: what a previous run left is delivered before the first
        // packet, and recorded at the first window.
        if (options_.replay) notifier_->flush();
    } else if (options_.notify.smtp_url.empty() && !options_.state_dir.empty()) {
        log::warn("notify.smtp_url is not set: owners will not be notified");
    }
    if (!options_.enforcement.hook.empty() && !options_.state_dir.empty()) {
        hooks_ = std::make_unique<Background>(nullptr, 0);
        hooks_->start();
        // A hook run the previous process did not see to the end (no
        // hook_ran after the latest deactivation or reactivation) runs again:
        // at least once, like the e-mails.
        for (const auto& [id, inc] : manager_->incidents()) {
            for (auto e = inc.events.rbegin(); e != inc.events.rend(); ++e) {
                if (e->kind == "hook_ran") break;
                if (e->kind == "deactivated" || e->kind == "reactivated") {
                    log::warn("incident {}: the {} hook did not finish before the restart: running it again", id,
                              e->kind == "deactivated" ? "deactivation" : "reactivation");
                    run_hook_for(inc, *e);
                    break;
                }
            }
        }
    }
    // What open() recorded goes to eve; deliveries are recorded from the
    // first window on, in its time.
    for (const Event& e : manager_->drain_events()) handle(e);
    publish_enforcement();
}

// --- per window -------------------------------------------------------------

void IncidentDesk::on_window(Nanos start, Nanos end, Nanos quiet_until,
                             const std::vector<const Attribution*>& touched) {
    now_ = end;
    if (!base_) base_ = start;
    apply_actions(end);
    std::set<IncidentKey> seen;
    for (const Attribution* a : touched) {
        if (a->direction == Direction::transit) continue;
        auto id = manager_->on_attribution(with_contributors(*a), end);
        if (!id) {
            note_journal(id.error(), "an attribution");
            continue;
        }
        if (*id) seen.insert(manager_->find(*id)->key);
    }
    note_journal(manager_->tick(end, seen), "a tick");
    // Replay: e-mails the outbox refused are tried again at each window
    // (live, the notifier's own pass does it every second).
    if (options_.replay && notifier_ && unstored_count_.load() > 0) notifier_->flush();
    process_events();
    // Actions due in the quiet gap before the next window's first packet.
    if (quiet_until > end) {
        apply_actions(quiet_until);
        process_events();
    }
    if (slot_) slot_->reclaim();
}

void IncidentDesk::apply_actions(Nanos until) {
    while (next_action_ < options_.actions.size() && *base_ + options_.actions[next_action_].at <= until) {
        const ScriptedAction& a = options_.actions[next_action_++];
        // What the action causes (a hook result, a delivery) is recorded at its time.
        now_ = std::max(now_, *base_ + a.at);
        if (auto r = apply(a, *base_ + a.at); !r)
            log::warn("action at line {} ({} at +{}): refused: {}", a.line, a.action, format_duration(a.at),
                      r.error().message);
    }
}

Result<uint64_t> IncidentDesk::apply(const ScriptedAction& a, Nanos at) {
    const std::string reason = a.reason.empty() ? "(no reason given)" : a.reason;
    Result<> r;
    uint64_t created = 0;
    if (a.action == "exception") {
        auto id = manager_->add_exception(a.scope, reason, at + a.duration, a.who, at);
        if (id) created = *id;
        else r = id.error();
    } else if (a.action == "remove_exception") {
        r = manager_->remove_exception(a.exception, a.who, reason, at);
    } else if (a.action == "extend") {
        r = manager_->extend(a.incident, a.duration, reason, a.who, at);
    } else if (a.action == "ack") {
        r = manager_->acknowledge(a.incident, a.who, at);
    } else if (a.action == "resolve") {
        r = manager_->resolve(a.incident, a.who, reason, at);
    } else if (a.action == "deactivate") {
        r = manager_->deactivate(a.incident, a.who, reason, at);
    } else if (a.action == "reactivate") {
        r = manager_->reactivate(a.incident, a.who, reason, at);
    } else {
        r = make_error(fmt::format("unknown action '{}'", a.action));
    }
    if (!r) {
        ++counters_.actions_refused;
        return r.error();
    }
    ++counters_.actions_applied;
    return created;
}

Result<uint64_t> IncidentDesk::act(const ScriptedAction& a) {
    auto r = apply(a, now_);
    process_events();
    return r;
}

// --- events -----------------------------------------------------------------

void IncidentDesk::process_events() {
    for (;;) {
        std::vector<Event> events = manager_->drain_events();
        bool posted = false;
        for (const Event& e : events) {
            handle(e);
            posted = posted || e.kind == "notify_requested" || e.kind == "deactivated" || e.kind == "reactivated";
        }
        // Replay: packet time stands still until the background work is
        // done, so the delivery is recorded at the window that asked for it.
        if (options_.replay && posted) {
            if (notifier_) notifier_->flush();
            if (hooks_) hooks_->flush();
        }
        collect_results();
        publish_enforcement();
        if (events.empty()) break;
    }
}

void IncidentDesk::handle(const Event& e) {
    write_eve(e);
    const Incident* inc = e.incident ? manager_->find(e.incident) : nullptr;
    if (!inc) return;
    if (e.kind == "notify_requested") {
        request_notification(*inc, e);
    } else if (e.kind == "opened") {
        if (evidence_) {
            EvidenceWatch w;
            w.incident = inc->id;
            w.source = selector(inc->key.source, inc->source_hosts);
            w.target = selector(inc->key.target, inc->target_hosts);
            w.packets = options_.policy.evidence_packets;
            watches_[inc->id] = w;
            enforcement_dirty_ = true;
        }
    } else if (e.kind == "deactivated" || e.kind == "reactivated") {
        std::set<std::string> now_blocked = manager_->deactivated_deployments();
        if (now_blocked != blocked_) {
            blocked_ = std::move(now_blocked);
            enforcement_dirty_ = true;
        }
        run_hook_for(*inc, e);
    } else if (e.kind == "resolved") {
        if (watches_.erase(inc->id)) enforcement_dirty_ = true;
        if (evidence_) evidence_->close(inc->id);
    }
}

void IncidentDesk::write_eve(const Event& e) {
    if (!eve_) return;
    const Incident* inc = e.incident ? manager_->find(e.incident) : nullptr;
    const IncidentException* ex = e.exception ? manager_->find_exception(e.exception) : nullptr;
    const std::string line = to_eve_json(e, inc, ex).dump();
    std::fwrite(line.data(), 1, line.size(), eve_);
    std::fputc('\n', eve_);
}

// The manager holds and retries what the disk refused (it logs and counts
// that itself): what is left here is a refusal, e.g. a result for an
// incident that is gone.
void IncidentDesk::note_journal(const Result<>& r, const char* what) {
    if (r) return;
    log::error("incident journal: {}: {}", what, r.error().message);
}

// --- notifications ------------------------------------------------------------

void IncidentDesk::request_notification(const Incident& inc, const Event& e) {
    if (!notifier_) return;  // in memory, or no relay: requested, never sent
    const Role role = e.detail.value("role", "") == "source" ? Role::source : Role::target;
    const std::string deployment = e.detail.value("deployment", "");
    const std::string recipient = e.detail.value("recipient", "");
    auto m = compose_for(inc, role, deployment, recipient, now_);
    if (!m) {
        ++counters_.compose_errors;
        log::error("incident {}: cannot compose the e-mail to {}: {}", inc.id, recipient, m.error().message);
        return;
    }
    awaiting_[m->id] = {inc.id, role, recipient};
    ++counters_.messages_queued;
    notifier_->post([this, msg = std::move(*m)]() mutable {
        unstored_.push_back(std::move(msg));
        store_unstored();
    });
}

void IncidentDesk::store_unstored() {
    size_t stored = 0;
    std::string error;
    // In order; the first failure ends the pass (the disk is still full).
    while (!unstored_.empty()) {
        const notify::Message& m = unstored_.front();
        if (auto ok = outbox_->enqueue(m); !ok) {
            error = fmt::format("cannot store the e-mail {}: {}", m.id, ok.error().message);
            break;
        }
        unstored_.erase(unstored_.begin());
        ++stored;
    }
    unstored_count_.store(unstored_.size());
    if (!error.empty()) {
        store_errors_.fetch_add(1);
        if (!store_failing_)
            log::error("outbox {}: {}; {} e-mail(s) held in memory, retried at each window until stored",
                       outbox_->dir(), error, unstored_.size());
        store_failing_ = true;
    } else if (store_failing_) {
        store_failing_ = false;
        log::warn("outbox {}: stored again: nothing lost ({} e-mail(s) held in memory are in the outbox)",
                  outbox_->dir(), stored);
    }
}

Result<notify::Message> IncidentDesk::compose_for(const Incident& inc, Role role, const std::string& deployment,
                                                  const std::string& recipient, Nanos now) const {
    notify::NotificationFacts f;
    f.incident_id = inc.id;
    f.role = notify_role(role);
    f.recipient = recipient;
    f.deployment = deployment;
    f.type = inc.key.type;
    f.direction = direction_name(inc.key.direction);
    f.service = inc.service;
    f.port = inc.port;
    f.source_ip = single_host(inc.key.source, inc.source_hosts);
    f.source_deployment = inc.key.source.deployment;
    f.target_ip = single_host(inc.key.target, inc.target_hosts);
    f.target_deployment = inc.key.target.deployment;
    f.first_seen = inc.first_seen;
    f.last_seen = inc.last_seen;
    nlohmann::json evidence = inc.merged_evidence();
    if (auto top = evidence.find("top_sources"); top != evidence.end()) {
        for (const auto& t : *top)
            f.top_sources.push_back({t.value("ip", ""), t.value("packets", uint64_t(0))});
        evidence.erase(top);
    }
    if (auto sids = evidence.find("sids"); sids != evidence.end()) {
        for (const auto& s : *sids) {
            const uint32_t sid = s.get<uint32_t>();
            f.rules.push_back({sid, rule_name_ ? rule_name_(sid) : std::string()});
        }
        evidence.erase(sids);
    }
    f.evidence = std::move(evidence);
    // The deadline starts at the delivery (IncidentManager::mark_notified),
    // never before what the e-mail says.
    if (role == Role::source) f.deadline = now + options_.policy.deadline;
    if (evidence_) f.evidence_pcap = evidence_->path(inc.id);
    f.answer = notify::default_answer(f, options_.notify.reply_to);
    f.message_id = message_id_for(inc.id, role, recipient);
    return notify::compose(f, options_.notify.from, notify::wall_now());
}

void IncidentDesk::run_hook_for(const Incident& inc, const Event& e) {
    if (!hooks_) return;
    const std::string action = e.kind == "deactivated" ? "deactivate" : "reactivate";
    const std::string deployment = e.detail.value("deployment", inc.key.source.deployment);
    nlohmann::json input = {{"action", action}, {"deployment", deployment}, {"incident", to_json(inc)},
                            {"event", to_json(e)}};
    for (const Deployment& d : options_.deployments)
        if (d.name == deployment) {
            nlohmann::json prefixes = nlohmann::json::array();
            for (const Prefix& p : d.prefixes) prefixes.push_back(p.to_string());
            input["prefixes"] = prefixes;
            input["owner"] = d.owner;
        }
    std::vector<std::string> argv = {options_.enforcement.hook, action, deployment};
    ++counters_.hooks_run;
    hooks_->post([this, id = inc.id, action, argv = std::move(argv), text = input.dump()] {
        HookResult r = run_hook(argv, text, options_.enforcement.hook_timeout);
        std::lock_guard<std::mutex> lock(results_mutex_);
        hook_results_.push_back({id, action, std::move(r)});
    });
}

void IncidentDesk::collect_results() {
    std::vector<std::string> delivered;
    std::vector<HookDone> hooks;
    {
        std::lock_guard<std::mutex> lock(results_mutex_);
        delivered.swap(delivered_);
        hooks.swap(hook_results_);
        counters_.delivery_failures += failures_;
        failures_ = 0;
    }
    for (const std::string& id : delivered) {
        ++counters_.messages_sent;
        auto it = awaiting_.find(id);
        if (it == awaiting_.end()) continue;  // recorded already (before a restart)
        note_journal(manager_->mark_notified(it->second.incident, it->second.role, it->second.recipient, now_),
                     "a delivery");
        awaiting_.erase(it);
    }
    for (HookDone& h : hooks) {
        const std::string summary = h.result.summary();
        if (h.result.ok()) {
            log::info("incident {}: enforcement hook ({}): {}", h.incident, h.action, summary);
        } else {
            ++counters_.hook_failures;
            log::warn("incident {}: enforcement hook ({}) failed: {}; output: {}", h.incident, h.action, summary,
                      h.result.output);
        }
        nlohmann::json detail = {{"action", h.action},
                                 {"command", options_.enforcement.hook},
                                 {"ok", h.result.ok()},
                                 {"exit_code", h.result.exit_code},
                                 {"timed_out", h.result.timed_out},
                                 {"output", h.result.output}};
        note_journal(manager_->record(h.incident, "hook_ran", summary, std::move(detail), now_), "a hook result");
    }
}

void IncidentDesk::poll() {
    if (options_.replay) return;  // replay collects at each window, in packet time
    collect_results();
    process_events();
    if (slot_) slot_->reclaim();
}

void IncidentDesk::finish() {
    if (notifier_) notifier_->flush();
    if (hooks_) hooks_->flush();
    process_events();
    if (notifier_) notifier_->stop();
    if (hooks_) hooks_->stop();
    collect_results();
    // What the last results changed goes to eve; nothing is posted any more.
    for (const Event& e : manager_->drain_events()) write_eve(e);
    // The last chance for what the disk refused (the notifier is stopped:
    // its held e-mails are this thread's now).
    const auto journal = manager_->sync_journal();
    if (outbox_ && !unstored_.empty()) store_unstored();
    if (!state_lost()) return;
    std::vector<std::string> lost;
    if (!journal)
        lost.push_back(fmt::format("{} incident change(s) not in the journal (the last error: {}); a restart "
                                   "will not know them", manager_->journal_behind(), manager_->journal_error()));
    if (!unstored_.empty()) {
        std::vector<std::string> ids;
        for (const notify::Message& m : unstored_) ids.push_back(m.id);
        lost.push_back(fmt::format("{} e-mail(s) not in the outbox ({}), never sent unless a restart requests "
                                   "them again", unstored_.size(), fmt::join(ids, ", ")));
    }
    log::error("state directory {}: the process ends with state that never reached the disk and is lost: {}",
               options_.state_dir, fmt::join(lost, "; "));
}

bool IncidentDesk::state_lost() const {
    return manager_->journal_behind() > 0 || unstored_count_.load() > 0;
}

// --- enforcement --------------------------------------------------------------

EndpointSelector IncidentDesk::selector(const Endpoint& end, const std::set<std::string>& hosts) const {
    EndpointSelector s;
    if (end.ip) {
        s.kind = EndpointSelector::Kind::address;
        s.address = *end.ip;
    } else if (end.is_deployment()) {
        // One host of the deployment: its packets only, not the whole deployment's.
        if (hosts.size() == 1) {
            if (auto ip = IpAddress::parse(*hosts.begin())) {
                s.kind = EndpointSelector::Kind::address;
                s.address = *ip;
                return s;
            }
        }
        for (size_t i = 0; i < options_.deployments.size(); ++i)
            if (options_.deployments[i].name == end.deployment) {
                s.kind = EndpointSelector::Kind::deployment;
                s.deployment = DeploymentId(i);
            }
    }
    return s;
}

void IncidentDesk::publish_enforcement() {
    if (!enforcement_dirty_) return;
    if (options_.on_blocklist && blocked_ != blocklist_told_) {
        blocklist_told_ = blocked_;
        options_.on_blocklist(blocked_);
    }
    if (!slot_) return;
    enforcement_dirty_ = false;
    auto e = std::make_unique<Enforcement>();
    e->blocked.assign(options_.deployments.size(), 0);
    for (size_t i = 0; i < options_.deployments.size(); ++i)
        if (blocked_.count(options_.deployments[i].name)) {
            e->blocked[i] = 1;
            e->any_blocked = true;
        }
    // The newest incidents' watches when there are more than fit.
    for (auto it = watches_.rbegin(); it != watches_.rend() && e->watches.size() < Enforcement::kMaxWatches; ++it)
        e->watches.push_back(it->second);
    ++counters_.blocklist_versions;
    slot_->publish(std::move(e));
}

void IncidentDesk::on_evidence(const EvidenceRecord& r, const std::string& bytes) {
    if (!evidence_) return;
    if (r.link_type != 1) {  // the evidence captures are Ethernet
        ++counters_.evidence_skipped;
        return;
    }
    auto written = evidence_->add(r.incident, r.ts, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (!written) {
        // Skipped, not fatal: the capture stays readable and later packets
        // are added once the disk takes them.
        ++counters_.evidence_errors;
        if (!evidence_failing_)
            log::error("evidence of incident {}: {} (packets skipped and counted until it can be written)",
                       r.incident, written.error().message);
        evidence_failing_ = true;
        return;
    }
    if (evidence_failing_) {
        evidence_failing_ = false;
        log::warn("evidence of incident {}: written again ({} packets could not be written)", r.incident,
                  counters_.evidence_errors);
    }
    if (!*written) {
        ++counters_.evidence_skipped;
        return;
    }
    ++counters_.evidence_packets;
    const uint32_t count = evidence_->count(r.incident);
    if (count == 1 && manager_->find(r.incident)) {
        note_journal(manager_->set_evidence_file(r.incident, evidence_->path(r.incident), now_), "evidence");
        for (const Event& e : manager_->drain_events()) write_eve(e);
    }
    if (count >= options_.policy.evidence_packets && watches_.erase(r.incident)) {
        enforcement_dirty_ = true;
        publish_enforcement();
    }
}

// --- outputs ------------------------------------------------------------------

nlohmann::json IncidentDesk::incidents_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [id, inc] : manager_->incidents()) out.push_back(to_json(inc));
    return out;
}

nlohmann::json IncidentDesk::exceptions_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [id, ex] : manager_->exceptions()) out.push_back(to_json(ex));
    return out;
}

nlohmann::json IncidentDesk::counters_json() const {
    const DeskCounters& c = counters_;
    return {{"state_dir", options_.state_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(options_.state_dir)},
            {"messages_queued", c.messages_queued},
            {"messages_sent", c.messages_sent},
            {"delivery_failures", c.delivery_failures},
            {"messages_pending", outbox_ && !notifier_ ? outbox_->pending().size() : awaiting_.size()},
            {"compose_errors", c.compose_errors},
            {"hooks_run", c.hooks_run},
            {"hook_failures", c.hook_failures},
            {"evidence_packets", c.evidence_packets},
            {"evidence_skipped", c.evidence_skipped},
            {"evidence_errors", c.evidence_errors},
            {"actions_applied", c.actions_applied},
            {"actions_refused", c.actions_refused},
            {"journal_errors", manager_->journal_errors()},
            {"journal_behind", manager_->journal_behind()},
            {"journal_bytes", manager_->journal_bytes()},
            {"outbox_errors", store_errors_.load()},
            {"messages_unstored", unstored_count_.load()},
            {"enforcement_versions", c.blocklist_versions},
            {"blocked_deployments", blocked_}};
}

} // namespace sg::respond
