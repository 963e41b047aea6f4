#include "notify/message.hpp"

#include <catch2/catch.hpp>

#include "mime.hpp"

using namespace sg::notify;
using sg::test::MimePart;
using sg::test::parse_part;
using sg::test::parts_of;
using sg::test::qp_decode;

namespace {

constexpr sg::Nanos kT0 = 1427726759303199000ULL;  // 2015-03-30T14:45:59.303199+0000

NotificationFacts rdp_facts(Role role) {
    NotificationFacts f;
    f.incident_id = 42;
    f.role = role;
    f.recipient = role == Role::target ? "db-team@example.com" : "web-team@example.com";
    f.deployment = role == Role::target ? "db" : "web";
    f.type = "bruteforce";
    f.direction = "internal";
    f.service = "rdp";
    f.port = 3389;
    f.source_ip = "10.1.0.13";
    f.source_deployment = "web";
    f.target_ip = "10.2.0.20";
    f.target_deployment = "db";
    f.first_seen = kT0;
    f.last_seen = kT0 + 95 * sg::kNsPerSec;
    f.evidence = {{"attempts", 75}, {"failed", 75}, {"ended", 75}, {"established", 50}};
    f.top_sources = {{"10.1.0.13", 750}};
    f.rules = {{2001337, "ET SCAN RDP brute force"}};
    f.evidence_pcap = "incident-42.pcap";
    if (role == Role::source) f.deadline = kT0 + 24 * 3600 * sg::kNsPerSec;
    f.answer = default_answer(f, "abuse@provider.example");
    return f;
}

struct Composed {
    Message message;
    MimePart head;
    std::string text;
    std::string html;
};

Composed composed(const NotificationFacts& f) {
    auto m = compose(f, "safeguard@provider.example", kT0 + 100 * sg::kNsPerSec);
    INFO((m.ok() ? "" : m.error().message));
    REQUIRE(m.ok());
    Composed c{*m, parse_part(m->bytes), {}, {}};
    const auto parts = parts_of(c.head);
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].header("content-type") == "text/plain; charset=utf-8");
    CHECK(parts[1].header("content-type") == "text/html; charset=utf-8");
    CHECK(parts[0].header("content-transfer-encoding") == "quoted-printable");
    c.text = qp_decode(parts[0].body);
    c.html = qp_decode(parts[1].body);
    return c;
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

} // namespace

TEST_CASE("compose builds an RFC 5322 multipart/alternative message") {
    const Composed c = composed(rdp_facts(Role::target));
    const std::string& b = c.message.bytes;
    CHECK(c.head.header("from") == "Safeguard <safeguard@provider.example>");
    CHECK(c.head.header("to") == "<db-team@example.com>");
    CHECK(c.head.header("reply-to") == "<abuse@provider.example>");
    CHECK(c.head.header("mime-version") == "1.0");
    CHECK(c.head.header("date") == "Mon, 30 Mar 2015 14:47:39 +0000");
    CHECK(c.head.header("message-id") == c.message.message_id);
    CHECK(c.head.header("x-safeguard-incident") == "42");
    CHECK(c.head.header("content-type").starts_with("multipart/alternative; boundary="));
    CHECK(c.head.header("subject") == "[Safeguard] Incident 42: bruteforce against 10.2.0.20 (db)");
    CHECK(c.message.from == "safeguard@provider.example");
    CHECK(c.message.to == std::vector<std::string>{"db-team@example.com"});
    // Every line ends in CRLF and stays within 78 characters (QP bodies, short headers).
    size_t pos = 0;
    while (pos < b.size()) {
        const size_t eol = b.find("\r\n", pos);
        REQUIRE(eol != std::string::npos);
        CHECK(b.substr(pos, eol - pos).find('\n') == std::string::npos);
        CHECK(eol - pos <= 998);
        pos = eol + 2;
    }
    CHECK(b.ends_with("--\r\n"));
}

TEST_CASE("the HTML part has a red banner and both parts say what was seen") {
    const Composed c = composed(rdp_facts(Role::target));
    CHECK(has(c.html, "class=\"banner\" style=\"background:#c62828;color:#ffffff"));
    CHECK(has(c.html, "Security incident 42: your deployment db is being attacked</div>"));
    for (const std::string& part : {c.text, c.html}) {
        CHECK(has(part, "bruteforce (rdp, port 3389)"));
        CHECK(has(part, "internal"));
        CHECK(has(part, "10.1.0.13 (deployment web)"));
        CHECK(has(part, "10.2.0.20 (deployment db)"));
        CHECK(has(part, "2015-03-30T14:45:59.303199+0000"));
        CHECK(has(part, "2015-03-30T14:47:34.303199+0000"));
        CHECK(has(part, "1 min 35 s"));  // first to last seen
        CHECK(has(part, "Attempts"));
        CHECK(has(part, "Completed handshakes"));
        CHECK(has(part, "750"));
        CHECK(has(part, "2001337"));
        CHECK(has(part, "ET SCAN RDP brute force"));
        CHECK(has(part, "incident-42.pcap"));
        CHECK(has(part, "Close tcp/3389 to the internet"));
    }
}

TEST_CASE("a flood shows its peak rate and a null source as spoofed") {
    NotificationFacts f = rdp_facts(Role::target);
    f.type = "syn_flood";
    f.service.clear();
    f.port = 443;
    f.source_ip.clear();
    f.source_deployment.clear();
    f.direction = "inbound";
    f.evidence = {{"packets", 18000}, {"peak_pps", 6000}, {"distinct_sources", 15342}};
    const Composed c = composed(f);
    CHECK(has(c.text, "Peak rate (packets/s):   6000"));
    CHECK(has(c.text, "spoofed or distributed"));
    CHECK(has(c.text, "syn_flood (port 443)"));
}

TEST_CASE("everything from traffic and configuration is escaped in HTML and kept out of headers") {
    NotificationFacts f = rdp_facts(Role::source);
    f.deployment = "web<script>alert(1)</script>\r\nBcc: victim@example.com";
    f.rules = {{1, "evil \"<b>\" & 'co'"}};
    f.evidence = {{"class", "<img src=x onerror=alert(1)>"}};
    const Composed c = composed(f);
    CHECK_FALSE(has(c.html, "<script>"));
    CHECK_FALSE(has(c.html, "<img"));
    CHECK(has(c.html, "web&lt;script&gt;alert(1)&lt;/script&gt;"));
    CHECK(has(c.html, "evil &quot;&lt;b&gt;&quot; &amp; &#39;co&#39;"));
    CHECK(has(c.html, "&lt;img src=x onerror=alert(1)&gt;"));
    // The CR LF in the name cannot start a header of its own.
    CHECK(c.head.headers.count("bcc") == 0);
    CHECK_FALSE(has(c.message.bytes.substr(0, c.message.bytes.find("\r\n\r\n")), "\r\nBcc:"));
    CHECK(has(c.head.header("subject"), "web<script>alert(1)</script>  Bcc: victim@example.com"));
}

TEST_CASE("non-ASCII in the subject becomes RFC 2047 encoded words") {
    NotificationFacts f = rdp_facts(Role::target);
    f.deployment = "Zürich-Büro";
    const Composed c = composed(f);
    const std::string subject = c.head.header("subject");
    CHECK(subject.starts_with("=?UTF-8?B?"));
    CHECK(subject.ends_with("?="));
    CHECK(encode_header_word("plain ascii") == "plain ascii");
    CHECK(encode_header_word("é") == "=?UTF-8?B?w6k=?=");
    // Long text splits into several words of at most 75 characters, at character boundaries.
    const std::string many = encode_header_word(std::string(40, 'a') + "ééééééééééééééééééééé");
    size_t words = 0;
    for (size_t p = 0; (p = many.find("=?UTF-8?B?", p)) != std::string::npos; ++p) ++words;
    CHECK(words == 2);
    CHECK(has(many, "?=\r\n =?UTF-8?B?"));
}

TEST_CASE("the target is told it is attacked; the source gets the deadline and how to answer") {
    const Composed target = composed(rdp_facts(Role::target));
    const Composed source = composed(rdp_facts(Role::source));
    CHECK(has(target.text, "your deployment db is being attacked"));
    CHECK(has(source.text, "a machine of your deployment web is attacking others"));
    CHECK(source.head.header("subject") ==
          "[Safeguard] Incident 42: bruteforce from your machine 10.1.0.13 (web) - action needed by "
          "2015-03-31T14:45:59.303199+0000");
    CHECK(source.head.header("x-safeguard-role") == "source");
    for (const std::string& part : {source.text, source.html}) {
        CHECK((has(part, "Deadline") || has(part, "DEADLINE")));
        CHECK(has(part, "2015-03-31T14:45:59.303199+0000"));
        CHECK(has(part, "abuse@provider.example"));
        CHECK(has(part, "safeguardctl extend 42 --for 24h --reason"));
        CHECK(has(part, "safeguardctl exception add --deployment web --type bruteforce --direction internal "
                        "--peer 10.2.0.20 --for 30d"));
        CHECK(has(part, "deployment web is deactivated: all traffic to and from its addresses is blocked"));
        CHECK(has(part, "describe the normal pattern"));
        CHECK(has(part, "compromised"));
    }
    for (const std::string& part : {target.text, target.html}) {
        CHECK_FALSE(has(part, "Deadline"));
        CHECK_FALSE(has(part, "DEADLINE"));
        CHECK_FALSE(has(part, "safeguardctl extend"));
    }
}

TEST_CASE("a deadline given for a target is not shown; a source without one has no deadline line") {
    NotificationFacts t = rdp_facts(Role::target);
    t.deadline = kT0;
    CHECK_FALSE(has(composed(t).text, "DEADLINE"));
    NotificationFacts s = rdp_facts(Role::source);
    s.deadline.reset();
    const Composed c = composed(s);
    CHECK_FALSE(has(c.text, "DEADLINE"));
    CHECK(has(c.text, "HOW TO ANSWER"));
    CHECK(c.head.header("subject").ends_with("action needed"));
}

TEST_CASE("the Message-ID is stable for incident, role and recipient, so a retry is recognisable") {
    const NotificationFacts f = rdp_facts(Role::target);
    const auto a = compose(f, "safeguard@provider.example", kT0);
    const auto b = compose(f, "safeguard@provider.example", kT0 + 3600 * sg::kNsPerSec);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->message_id == b->message_id);
    CHECK(a->id == b->id);
    CHECK(a->message_id == "<safeguard." + a->id + "@provider.example>");
    CHECK(a->id.starts_with("inc42-target-"));
    NotificationFacts upper = f;
    upper.recipient = "DB-Team@Example.com";
    CHECK(compose(upper, "safeguard@provider.example", kT0)->id == a->id);
    NotificationFacts other = f;
    other.recipient = "someone@example.com";
    CHECK(compose(other, "safeguard@provider.example", kT0)->id != a->id);
    NotificationFacts source = f;
    source.role = Role::source;
    CHECK(compose(source, "safeguard@provider.example", kT0)->id != a->id);
    NotificationFacts next = f;
    next.incident_id = 43;
    CHECK(compose(next, "safeguard@provider.example", kT0)->id != a->id);
}

TEST_CASE("compose refuses addresses that are not plain e-mail addresses") {
    NotificationFacts f = rdp_facts(Role::target);
    CHECK_FALSE(compose(f, "not an address", kT0).ok());
    CHECK(compose(f, "Safeguard <a@b>", kT0).error().message.starts_with("notify.from: expected an e-mail address"));
    f.recipient = "a@b\r\nBcc: c@d";
    const auto r = compose(f, "safeguard@provider.example", kT0);
    REQUIRE_FALSE(r.ok());
    CHECK(has(r.error().message, "incident 42: owner of db: expected an e-mail address"));
    f.recipient = "";
    CHECK_FALSE(compose(f, "safeguard@provider.example", kT0).ok());
    CHECK(is_plain_address("web-team+sg@example.com"));
    CHECK_FALSE(is_plain_address("a@b@c"));
    CHECK_FALSE(is_plain_address("@b"));
    CHECK_FALSE(is_plain_address("a <b@c>"));
}

TEST_CASE("recommendations: every detected type has advice for both roles, different per role") {
    // The types of docs/detection.md, with the services and classes that have their own advice.
    const std::vector<std::pair<std::string, std::string>> kinds = {
        {"syn_flood", ""}, {"udp_flood", ""}, {"icmp_flood", ""}, {"fragment_flood", ""},
        {"amplification", "memcached"}, {"reflector", "dns"}, {"reflector", "ntp"},
        {"reflector", "ssdp"}, {"bruteforce", "ssh"}, {"bruteforce", "rdp"}, {"bruteforce", "smb"},
        {"bruteforce", "mssql"}, {"bruteforce", "telnet"}, {"bruteforce", "vnc"},
        {"port_scan", ""}, {"sweep", ""}, {"spam", ""}, {"signature", "trojan-activity"},
        {"signature", "web-application-attack"}, {"signature", "misc-attack"}};
    const auto general_target = recommendations("", "", Role::target);
    for (const auto& [type, service] : kinds) {
        INFO(type << " " << service);
        const auto t = recommendations(type, service, Role::target);
        const auto s = recommendations(type, service, Role::source);
        CHECK_FALSE(t.empty());
        CHECK_FALSE(s.empty());
        CHECK(t != s);
        CHECK(t != general_target);  // each type has its own advice
    }
}

TEST_CASE("recommendations say the specific thing for the attack") {
    const auto joined = [](const std::vector<std::string>& lines) {
        std::string s;
        for (const auto& l : lines) s += l + "\n";
        return s;
    };
    const std::string rdp = joined(recommendations("bruteforce", "rdp", Role::target));
    CHECK(has(rdp, "3389"));
    CHECK(has(rdp, "bastion"));
    CHECK(has(rdp, "just-in-time"));
    CHECK(has(rdp, "lockout"));
    for (const char* type : {"syn_flood", "udp_flood", "port_scan", "sweep", "spam", "bruteforce"}) {
        INFO(type);
        const std::string src = joined(recommendations(type, "", Role::source));
        CHECK(has(src, "compromised"));
        CHECK(has(src, "new, hardened machine"));
        CHECK(has(src, "move the workload"));
    }
    const std::string ntp = joined(recommendations("reflector", "ntp", Role::source));
    CHECK(has(ntp, "monlist"));
    const std::string dns = joined(recommendations("reflector", "dns", Role::source));
    CHECK(has(dns, "open recursion"));
    const std::string generic_reflector = joined(recommendations("reflector", "", Role::source));
    CHECK(has(generic_reflector, "Restrict the UDP service"));
    CHECK_FALSE(has(generic_reflector, "compromised"));
    // An unknown service or class falls back to its type's advice, an unknown type to general advice.
    CHECK(recommendations("bruteforce", "gopher", Role::target) == recommendations("bruteforce", "", Role::target));
    CHECK_FALSE(recommendations("new_detector", "", Role::target).empty());
}

TEST_CASE("quoted-printable keeps lines within 76 characters and decodes to the input") {
    const std::string input = "a=b " + std::string(200, 'x') + " \r\nZ\xC3\xBCrich\t\r\n" + std::string(80, '=') + "\r\n";
    const std::string qp = quoted_printable(input);
    size_t pos = 0;
    while (pos < qp.size()) {
        const size_t eol = qp.find("\r\n", pos);
        const size_t len = (eol == std::string::npos ? qp.size() : eol) - pos;
        CHECK(len <= 76);
        CHECK((len == 0 || (qp[pos + len - 1] != ' ' && qp[pos + len - 1] != '\t')));
        if (eol == std::string::npos) break;
        pos = eol + 2;
    }
    CHECK(qp_decode(qp) == input);
    CHECK(qp.find("=_") == std::string::npos);  // the boundary prefix can never occur
}

TEST_CASE("attribution_json takes the documented attribution record") {
    const auto record = nlohmann::json::parse(R"({"type": "bruteforce", "direction": "inbound", "service": "ssh", "port": 22,
 "source": {"ip": "192.168.56.1", "deployment": null},
 "target": {"ip": "192.168.56.103", "deployment": "dep-a"},
 "first_seen": "2015-03-30T14:45:59.303199+0000", "last_seen": "2015-03-30T14:46:09.000001+0000",
 "active_since": "2015-03-30T14:44:49.000000+0000",
 "detector": "bruteforce", "threshold": "attempts >= 10 with >= 50% failed, pauses < 120s",
 "evidence": {"attempts": 11, "failed": 11, "ended": 11, "established": 11, "distinct_ports": 1},
 "top_sources": [{"ip": "192.168.56.1", "packets": 99}], "sids": [2003068]})");
    NotificationFacts f;
    REQUIRE(attribution_json(record, f).ok());
    CHECK(f.type == "bruteforce");
    CHECK(f.direction == "inbound");
    CHECK(f.service == "ssh");
    CHECK(f.port == 22);
    CHECK(f.source_ip == "192.168.56.1");
    CHECK(f.source_deployment.empty());
    CHECK(f.target_deployment == "dep-a");
    CHECK(f.first_seen == kT0);
    CHECK(f.last_seen == 1427726769000001000ULL);
    CHECK(f.evidence["attempts"] == 11);
    REQUIRE(f.top_sources.size() == 1);
    CHECK(f.top_sources[0].packets == 99);
    REQUIRE(f.rules.size() == 1);
    CHECK(f.rules[0].sid == 2003068);

    auto sig = nlohmann::json::parse(R"({"type": "signature", "evidence": {"class": "trojan-activity"}})");
    NotificationFacts s;
    REQUIRE(attribution_json(sig, s).ok());
    CHECK(s.service == "trojan-activity");

    NotificationFacts bad;
    CHECK_FALSE(attribution_json(nlohmann::json::parse(R"({"direction": "inbound"})"), bad).ok());
    const auto r = attribution_json(nlohmann::json::parse(R"({"type": "x", "first_seen": "yesterday"})"), bad);
    REQUIRE_FALSE(r.ok());
    CHECK(has(r.error().message, "first_seen: expected a timestamp"));
}
