#include "detect/detectors/registry.hpp"

#include <array>

namespace sg {

const std::vector<DetectorInfo>& detector_registry() {
    // Signature findings come with the alerts; the entry documents it.
    static const std::vector<DetectorInfo> registry = {
        {"syn_flood", &detectors::syn_flood, "inbound, outbound, internal"},
        {"udp_flood", &detectors::udp_flood, "inbound, outbound, internal"},
        {"icmp_flood", &detectors::icmp_flood, "inbound, outbound, internal"},
        {"fragment_flood", &detectors::fragment_flood, "inbound, outbound, internal"},
        {"amplification", &detectors::amplification, "inbound, internal"},
        {"reflector", &detectors::reflector, "outbound, internal"},
        {"bruteforce", &detectors::bruteforce, "inbound, outbound, internal"},
        {"port_scan", &detectors::port_scan, "inbound, outbound, internal"},
        {"sweep", &detectors::sweep, "inbound, outbound, internal"},
        {"spam", &detectors::spam, "outbound, internal"},
    };
    return registry;
}

namespace detectors {

namespace {

struct LoginService {
    uint16_t port;
    const char* name;
};

// Services where a client logs in: many short failed connections from one
// source to one of these are password guessing.
constexpr LoginService kLoginServices[] = {
    {21, "ftp"},     {22, "ssh"},    {23, "telnet"},  {110, "pop3"},  {143, "imap"},  {445, "smb"},
    {1433, "mssql"}, {3306, "mysql"}, {3389, "rdp"},  {5432, "postgres"}, {5900, "vnc"},
    {5985, "winrm"}, {5986, "winrm"}, {6379, "redis"}, {27017, "mongodb"},
};

std::array<uint64_t, 65536 / 64> make_bits() {
    std::array<uint64_t, 65536 / 64> bits{};
    for (const LoginService& s : kLoginServices) bits[s.port >> 6] |= uint64_t(1) << (s.port & 63);
    return bits;
}

} // namespace

const char* login_service(uint16_t port) {
    for (const LoginService& s : kLoginServices)
        if (s.port == port) return s.name;
    return nullptr;
}

const uint64_t* login_service_ports() {
    static const std::array<uint64_t, 65536 / 64> bits = make_bits();
    return bits.data();
}

} // namespace detectors
} // namespace sg
