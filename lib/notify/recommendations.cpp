// What the owner should do, per attack type (and login service, reflection
// service or signature class) and role. One table: a new detector or class
// adds rows here, and the unit test checks that every type of
// docs/detection.md has advice for both roles.

#include "notify/message.hpp"

#include <string_view>
#include <vector>

namespace sg::notify {
namespace {

struct Advice {
    std::string_view type;
    std::string_view service;  // "" = any
    Role role;
    std::vector<std::string_view> lines;
};

// Shared sentences.
constexpr std::string_view kCompromised =
    "This traffic does not come from a normal workload: the machine is very probably "
    "compromised. Do not try to clean it. Build a new, hardened machine (a current image, all "
    "patches, key-only logins, only the ports it needs), move the workload and the data you trust "
    "to it, and retire the old one.";
constexpr std::string_view kIsolate =
    "Until then, isolate the machine (security group or firewall) or stop the process that sends "
    "the traffic, and rotate every credential that was stored on it.";
constexpr std::string_view kUpstream =
    "If the volume is more than your link or host can take, ask us for upstream filtering; "
    "this e-mail and the evidence capture are what that request needs.";
constexpr std::string_view kCheckLogin =
    "Check the service's logs for a successful login from the source; if there is one, treat "
    "the machine as compromised.";
constexpr std::string_view kLoginExposure =
    "Do not expose login services to the whole internet: allow only known addresses, or reach "
    "them through a VPN, a bastion host or just-in-time access.";
constexpr std::string_view kLockout =
    "Enforce an account lockout or login rate limit, strong passwords or keys, and no default "
    "accounts.";
constexpr std::string_view kReflectorCause =
    "This is usually a misconfigured service rather than a break-in: it answers anyone, so "
    "attackers send it requests with the victim's forged address and it floods the victim with "
    "the (larger) answers.";
constexpr std::string_view kReflectorRestrict =
    "Restrict the UDP service to the clients that need it (security group or firewall), or turn "
    "it off.";
constexpr std::string_view kSignatureCheck =
    "Check that the software the rule names is patched, and look in its logs around the times "
    "shown for signs that the attempt succeeded.";

const std::vector<Advice>& table() {
    static const std::vector<Advice> t = {
        // --- floods ---------------------------------------------------------
        {"syn_flood", "", Role::target,
         {"Your host receives a SYN flood. Make sure SYN cookies are on (Linux: "
          "net.ipv4.tcp_syncookies = 1) and the listen backlog is large enough.",
          "If the service need not be public, allow only the addresses that use it.",
          kUpstream}},
        {"udp_flood", "", Role::target,
         {"Your host receives a UDP flood. Drop UDP at the edge (security group or firewall) "
          "to every port on which the host offers no UDP service.",
          "Rate-limit UDP to the services that must stay open.", kUpstream}},
        {"icmp_flood", "", Role::target,
         {"Your host receives an ICMP flood. Rate-limit ICMP echo at the host or firewall; keep "
          "'fragmentation needed' (type 3, code 4) allowed for path MTU discovery.",
          kUpstream}},
        {"fragment_flood", "", Role::target,
         {"Your host receives a flood of IP fragments. Drop fragments to services that never "
          "need them and bound the reassembly memory (Linux: net.ipv4.ipfrag_high_thresh).",
          kUpstream}},
        {"syn_flood", "", Role::source,
         {kCompromised, kIsolate,
          "If this was a load test against a system you own, answer this e-mail and describe "
          "it (when, how much, against what)."}},
        {"udp_flood", "", Role::source,
         {kCompromised, kIsolate,
          "If this host streams UDP on purpose (media, games, a load test), answer this e-mail "
          "and describe the normal pattern: peers, ports, packets per second."}},
        {"icmp_flood", "", Role::source,
         {kCompromised, kIsolate,
          "If this is a monitoring system, lower its probe rate and answer this e-mail with its "
          "normal pattern."}},
        {"fragment_flood", "", Role::source, {kCompromised, kIsolate}},

        // --- reflection -----------------------------------------------------
        {"amplification", "", Role::target,
         {"Your host receives answers to requests it never sent (a reflection attack). Block "
          "inbound UDP from the reflecting service's port at the edge, unless the host uses that "
          "service as a client.",
          kUpstream}},
        {"amplification", "", Role::source,
         {kReflectorCause, kReflectorRestrict}},
        {"reflector", "", Role::target,
         {"A host of another deployment reflects traffic at yours; its owner has been told. "
          "Block the reflected UDP source port if your host does not use that service.",
          kUpstream}},
        {"reflector", "", Role::source, {kReflectorCause, kReflectorRestrict}},
        {"reflector", "dns", Role::source,
         {kReflectorCause,
          "Turn off open recursion (allow recursion only for your own networks), refuse ANY "
          "queries and enable response rate limiting (RRL).",
          kReflectorRestrict}},
        {"reflector", "ntp", Role::source,
         {kReflectorCause,
          "Disable monlist: 'disable monitor' and 'restrict default noquery' in ntp.conf, or "
          "upgrade to ntpd 4.2.7 or later (or chrony).",
          kReflectorRestrict}},
        {"reflector", "memcached", Role::source,
         {kReflectorCause,
          "Turn off memcached's UDP listener (-U 0) and bind it to localhost or a private "
          "address; memcached should never be reachable from the internet."}},
        {"reflector", "ssdp", Role::source,
         {kReflectorCause, "Block udp/1900 from the internet and turn off UPnP/SSDP on the host."}},
        {"reflector", "snmp", Role::source,
         {kReflectorCause,
          "Block udp/161 from the internet, replace default community strings, prefer SNMPv3."}},
        {"reflector", "cldap", Role::source,
         {kReflectorCause, "Block udp/389 (CLDAP) from the internet at the edge."}},
        {"reflector", "chargen", Role::source,
         {kReflectorCause, "Turn the chargen service off; nothing needs it."}},

        // --- brute force ----------------------------------------------------
        {"bruteforce", "", Role::target, {kLoginExposure, kLockout, kCheckLogin}},
        {"bruteforce", "rdp", Role::target,
         {"Close tcp/3389 to the internet. Reach RDP through a bastion host (RD Gateway) or "
          "just-in-time access instead.",
          "Require Network Level Authentication and set an account lockout policy.",
          "Check the Windows Security log for a successful logon (event 4624) from the source "
          "among the failures (4625)."}},
        {"bruteforce", "ssh", Role::target,
         {"Allow tcp/22 only from known addresses, or use a bastion host or just-in-time access.",
          "Turn password logins off (PasswordAuthentication no) and use keys; fail2ban or "
          "similar rate-limits the rest.",
          "Check auth.log or the journal for an 'Accepted' login from the source."}},
        {"bruteforce", "smb", Role::target,
         {"Never expose SMB (tcp/445) to the internet: block it at the edge.", kLockout,
          "Check the Windows Security log for a successful logon (event 4624) from the source."}},
        {"bruteforce", "mssql", Role::target,
         {"Do not expose SQL Server (tcp/1433) to the internet; allow only the application "
          "servers.",
          "Disable the 'sa' login or give it a long random password; prefer Windows "
          "authentication.",
          kCheckLogin}},
        {"bruteforce", "telnet", Role::target,
         {"Turn telnet off and use SSH with keys; telnet sends passwords in clear text.",
          "If a device cannot do without it, allow tcp/23 only from a management network.",
          kCheckLogin}},
        {"bruteforce", "", Role::source,
         {kCompromised, kIsolate,
          "If a legitimate tool logs in repeatedly (monitoring, a password audit of systems you "
          "own), answer this e-mail and describe it."}},

        // --- reconnaissance -------------------------------------------------
        {"port_scan", "", Role::target,
         {"Someone mapped which services your host offers; attacks on the open ones often "
          "follow.",
          "Close every port that need not be public and make sure the remaining services are "
          "patched. Nothing else is needed when all exposed services are intended."}},
        {"port_scan", "", Role::source,
         {kCompromised, kIsolate,
          "If you scan on purpose (vulnerability management of your own systems), answer this "
          "e-mail with the scanner's schedule and targets."}},
        {"sweep", "", Role::target,
         {"Someone probed many of your addresses on one port (shown above), looking for hosts "
          "that offer it.",
          "Make sure that port is closed wherever it is not needed, and patched where it is."}},
        {"sweep", "", Role::source,
         {kCompromised, kIsolate,
          "Sweeping many addresses on one port is how worms spread: check the deployment's "
          "other machines as well."}},

        // --- spam -----------------------------------------------------------
        {"spam", "", Role::target,
         {"A host of another deployment sends mail to yours in bulk; its owner has been told.",
          "Your mail server's filtering should hold it; block the source if it does not."}},
        {"spam", "", Role::source,
         {kCompromised, kIsolate,
          "If this host is a mail server, look for an open relay or a stolen account sending "
          "through it, and answer this e-mail with its normal volume and destinations."}},

        // --- signatures, by class -------------------------------------------
        {"signature", "", Role::target,
         {"A signature rule matched traffic aimed at your host (see the matched rules).",
          kSignatureCheck}},
        {"signature", "", Role::source,
         {"A signature rule matched traffic your host sent (see the matched rules). Find the "
          "process that sent it.",
          "If you cannot explain it, treat the machine as compromised: build a new, hardened "
          "machine and move the workload rather than clean it."}},
        {"signature", "web-application-attack", Role::target,
         {"Someone attacks the web application on your host. Patch the application, its "
          "framework and plugins; a web application firewall blocks the common attacks.",
          "Look in the web server's access log for the requests at the times shown and for "
          "unexpected files in the web root."}},
        {"signature", "web-application-attack", Role::source, {kCompromised, kIsolate}},
        {"signature", "trojan-activity", Role::source,
         {"Your host shows signs of malware contacting its operators.", kCompromised, kIsolate}},
        {"signature", "trojan-activity", Role::target,
         {"A host that appears infected contacted yours; check the service it used.",
          kSignatureCheck}},
        {"signature", "command-and-control", Role::source,
         {"Your host contacts a command-and-control server.", kCompromised, kIsolate}},
        {"signature", "coin-mining", Role::source,
         {"A cryptocurrency miner runs on your host (it talks to a mining pool). Unless you "
          "installed it, someone else did.",
          kCompromised, kIsolate}},
        {"signature", "attempted-admin", Role::target,
         {"Someone tried to gain administrator rights on your host with a known exploit.",
          kSignatureCheck}},
        {"signature", "successful-admin", Role::target,
         {"A known exploit for administrator rights appears to have succeeded.", kCompromised,
          kIsolate}},
        {"signature", "attempted-dos", Role::target,
         {"Someone sends traffic meant to crash or exhaust a service on your host.",
          kSignatureCheck, kUpstream}},
        {"signature", "policy-violation", Role::source,
         {"Your host uses a protocol or service the provider's policy does not allow (see the "
          "matched rules). Stop it, or answer this e-mail if it is part of the workload."}},

        // --- anything else --------------------------------------------------
        {"", "", Role::target,
         {"Your host is the target of the traffic described above. Allow only the traffic the "
          "workload needs, keep it patched, and check its logs around the times shown."}},
        {"", "", Role::source, {kCompromised, kIsolate}},
    };
    return t;
}

const Advice* find(std::string_view type, std::string_view service, Role role) {
    for (const auto& a : table())
        if (a.type == type && a.service == service && a.role == role) return &a;
    return nullptr;
}

} // namespace

std::vector<std::string> recommendations(std::string_view type, std::string_view service,
                                         Role role) {
    const Advice* a = service.empty() ? nullptr : find(type, service, role);
    if (!a) a = find(type, "", role);
    if (!a) a = find("", "", role);
    return {a->lines.begin(), a->lines.end()};
}

} // namespace sg::notify
