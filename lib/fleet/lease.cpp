#include "fleet/lease.hpp"

#include <algorithm>

#include "core/log.hpp"

namespace sg::fleet {

namespace {
Nanos wall_now() {
    return Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
}
} // namespace

Lease::Lease(Kv& bucket, std::string holder, Nanos lease)
    : bucket_(bucket), holder_(std::move(holder)), lease_(lease) {}

Result<bool> Lease::try_acquire(nlohmann::json& taken) {
    if (held_) return true;
    nlohmann::json mine = {{"holder", holder_}, {"renewed", wall_now()}};
    auto current = bucket_.get(kKey);
    if (!current) return current.error();
    const auto now = Clock::now();
    if (!*current) {
        auto created = bucket_.create(kKey, mine.dump());
        if (!created) return false;  // another standby was quicker
        taken = nullptr;
        revision_ = *created;
        renewed_ = now;
        held_ = true;
        seen_holder_ = holder_;
        return true;
    }
    const KvEntry& e = **current;
    nlohmann::json value = nlohmann::json::parse(e.value, nullptr, false);
    if (value.is_object()) seen_holder_ = value.value("holder", "");
    // A holder that stopped cleanly left its cursor and no name: no need to wait.
    const bool released = value.is_object() && value.value("holder", "").empty();
    if (!released) {
        if (e.revision != revision_) {
            revision_ = e.revision;
            revision_since_ = now;
            return false;
        }
        if (now - revision_since_ < lease_) return false;
    }
    // Silent for a whole lease: take it over, keeping its cursor.
    if (value.is_object())
        for (const auto& [k, v] : value.items())
            if (k != "holder" && k != "renewed") mine[k] = v;
    auto updated = bucket_.update(kKey, mine.dump(), e.revision);
    if (!updated) return false;  // someone else took it, or it was renewed just now
    if (released)
        log::info("fleet: the active aggregator stopped: {} takes over", holder_);
    else
        log::info("fleet: {} was silent for {:.1f} s: {} takes over", seen_holder_.empty() ? "the active aggregator" : seen_holder_,
              std::chrono::duration<double>(now - revision_since_).count(), holder_);
    taken = value;
    last_value_ = mine;
    revision_ = *updated;
    renewed_ = now;
    held_ = true;
    seen_holder_ = holder_;
    return true;
}

bool Lease::renew(nlohmann::json value) {
    if (!held_) return false;
    value["holder"] = holder_;
    value["renewed"] = wall_now();
    auto updated = bucket_.update(kKey, value.dump(), revision_);
    if (updated) {
        last_value_ = value;
        revision_ = *updated;
        renewed_ = Clock::now();
        last_error_.clear();
        return true;
    }
    last_error_ = updated.error().message;
    // Moved on: another holder, or our own write whose acknowledgement was
    // lost (the key then names us at a revision we did not see).
    auto current = bucket_.get(kKey);
    if (current && *current && (*current)->revision != revision_) {
        const auto seen = nlohmann::json::parse((*current)->value, nullptr, false);
        if (seen.is_object() && seen.value("holder", "") == holder_) {
            revision_ = (*current)->revision;
            last_value_ = seen;
            renewed_ = Clock::now();
            last_error_.clear();
            return true;
        }
    }
    const bool replaced = current && (!*current || (*current)->revision != revision_);
    // The bus away: a standby may take over `lease` after our last renewal
    // (by its clock, which started later than ours). Step down before that,
    // with the margin of one more renewal attempt.
    if (replaced || !still_held()) {
        log::warn("fleet: {} lost the lease ({}): standing by", holder_,
                  replaced ? "another aggregator holds it" : last_error_);
        held_ = false;
        revision_ = 0;
        return false;
    }
    return true;
}

bool Lease::still_held() const {
    return held_ && Clock::now() - renewed_ < lease_ - std::min(lease_ / 2, std::chrono::nanoseconds(kRequestTimeout));
}

void Lease::release() {
    if (!held_) return;
    held_ = false;
    // Delete only our own revision: a compare-and-set with an empty holder.
    nlohmann::json value = last_value_.is_object() ? last_value_ : nlohmann::json::object();
    value["holder"] = "";
    value["released"] = wall_now();
    (void)bucket_.update(kKey, value.dump(), revision_);
    revision_ = 0;
}

} // namespace sg::fleet
