#pragma once
// Builders shared by the incident tests: three deployments (web and db with
// owners, lab without), attributions between them and outside addresses.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "incident/incident_json.hpp"
#include "incident/manager.hpp"

namespace sg::test {

inline constexpr DeploymentId kWeb = 0, kDb = 1, kLab = 2;
inline constexpr Nanos kSec = kNsPerSec;
inline constexpr Nanos kMin = 60 * kSec;
inline constexpr Nanos kHour = 3600 * kSec;
inline constexpr Nanos kT0 = 1'700'000'000 * kSec;  // 2023-11-14

inline Prefix prefix(const char* text) {
    auto p = Prefix::parse(text);
    REQUIRE(p.ok());
    return *p;
}

inline IpAddress ip(const char* text) {
    auto a = IpAddress::parse(text);
    REQUIRE(a.has_value());
    return *a;
}

inline std::vector<Deployment> deployments() {
    return {{"web", "web-team@example.com", {prefix("203.0.113.0/24")}, {}},
            {"db", "db-team@example.com", {prefix("198.51.100.0/24")}, {}},
            {"lab", "", {prefix("192.0.2.0/24")}, {}}};
}

inline IncidentOptions options(const std::string& state_dir = "") {
    IncidentOptions o;
    o.deployments = deployments();
    o.state_dir = state_dir;
    return o;  // policy: 24h deadline, 72h extensions, 15m quiet period
}

inline std::unique_ptr<IncidentManager> manager(IncidentOptions o = options()) {
    auto m = IncidentManager::open(std::move(o));
    INFO((m.ok() ? "" : m.error().message));
    REQUIRE(m.ok());
    return std::move(*m);
}

struct End {
    const char* ip;
    DeploymentId deployment = kNoDeployment;
};

inline Attribution attribution(uint64_t id, const char* type, End src, End dst, uint16_t port = 22) {
    Attribution a;
    a.id = id;
    a.type = type;
    if (src.ip) a.source.ip = ip(src.ip);
    a.source.deployment = src.deployment;
    if (dst.ip) a.target.ip = ip(dst.ip);
    a.target.deployment = dst.deployment;
    a.direction = classify(src.deployment, dst.deployment);
    a.port = port;
    a.service = port == 22 ? "ssh" : "";
    a.detector = type;
    a.threshold = "attempts >= 10";
    a.evidence = {{"attempts", 10 * id}, {"peak_pps", 100 * id}};
    return a;
}

// web's host brute-forcing an outside ssh server: web is the source.
inline Attribution outbound(uint64_t id = 1) {
    return attribution(id, "bruteforce", {"203.0.113.5", kWeb}, {"8.8.8.8"});
}
// Outside attacker against db.
inline Attribution inbound(uint64_t id = 1, const char* from = "8.8.4.4") {
    return attribution(id, "bruteforce", {from}, {"198.51.100.7", kDb});
}

inline std::vector<std::string> kinds(const Incident& inc) {
    std::vector<std::string> out;
    for (const auto& e : inc.events) out.push_back(e.kind);
    return out;
}

inline bool none(const IncidentKey&) { return false; }
inline bool all(const IncidentKey&) { return true; }

// Everything a restart must bring back, in a comparable form.
inline nlohmann::json state_of(const IncidentManager& m) {
    nlohmann::json j = {{"incidents", nlohmann::json::array()}, {"exceptions", nlohmann::json::array()}};
    for (const auto& [id, inc] : m.incidents()) j["incidents"].push_back(to_record(inc));
    for (const auto& [id, ex] : m.exceptions()) j["exceptions"].push_back(to_record(ex));
    return j;
}

} // namespace sg::test
