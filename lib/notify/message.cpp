#include "notify/message.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/format.h>

namespace sg::notify {
namespace {

constexpr std::string_view kCrlf = "\r\n";

uint64_t fnv1a(std::string_view s) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return char(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    return out;
}

// A header value never carries a line break or control character of ours:
// traffic-derived text cannot add a header.
std::string one_line(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    return out;
}

std::string base64(std::string_view in) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 |
                           uint8_t(in[i + 2]);
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < in.size()) {
        const bool two = i + 1 < in.size();
        const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | (two ? uint32_t(uint8_t(in[i + 1])) << 8 : 0);
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += two ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string domain_of(std::string_view address) {
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? "localhost" : std::string(address.substr(at + 1));
}

std::string or_dash(std::string_view s) { return s.empty() ? "-" : std::string(s); }

std::string end_text(std::string_view ip, std::string_view deployment, std::string_view none) {
    if (ip.empty() && deployment.empty()) return std::string(none);
    if (ip.empty()) return fmt::format("{} (many addresses of deployment {})", none, deployment);
    if (deployment.empty()) return std::string(ip);
    return fmt::format("{} (deployment {})", ip, deployment);
}

std::string json_value_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_float()) return fmt::format("{:.1f}", v.get<double>());
    return v.dump();
}

// Evidence field -> label; the rest are shown by their own name.
std::string evidence_label(const std::string& key) {
    static const std::map<std::string, std::string, std::less<>> labels = {
        {"peak_pps", "Peak rate (packets/s)"},
        {"peak_bps", "Peak rate (bits/s)"},
        {"packets", "Packets"},
        {"bytes", "Bytes"},
        {"attempts", "Attempts"},
        {"failed", "Failed attempts"},
        {"established", "Completed handshakes"},
        {"ended", "Ended connections"},
        {"distinct_sources", "Distinct sources"},
        {"distinct_ports", "Distinct ports"},
        {"distinct_targets", "Distinct targets"},
        {"synack_replies", "SYN-ACK replies"},
        {"requests", "Requests"},
        {"responses", "Responses"},
        {"amplification", "Amplification factor"},
        {"probes", "Probes"},
        {"answered", "Answered probes"},
        {"connections", "Connections"},
        {"alerts", "Alerts"},
        {"class", "Rule class"},
        {"priority", "Rule priority"},
    };
    if (const auto it = labels.find(key); it != labels.end()) return it->second;
    std::string s = key;
    std::replace(s.begin(), s.end(), '_', ' ');
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = char(s[0] - 32);
    return s;
}

std::string duration_text(Nanos first, Nanos last) {
    if (last <= first) return "under a second";
    const uint64_t s = (last - first) / kNsPerSec;
    if (s < 60) return fmt::format("{} s", s);
    if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
    return fmt::format("{} h {} min", s / 3600, (s / 60) % 60);
}

// One row of "what we saw": a label and a value (plain text; escaped for HTML).
using Rows = std::vector<std::pair<std::string, std::string>>;

Rows seen_rows(const NotificationFacts& f) {
    Rows rows;
    std::string type = f.type;
    if (!f.service.empty() && f.port) type += fmt::format(" ({}, port {})", f.service, f.port);
    else if (!f.service.empty()) type += fmt::format(" ({})", f.service);
    else if (f.port) type += fmt::format(" (port {})", f.port);
    rows.emplace_back("Type", type);
    rows.emplace_back("Direction", or_dash(f.direction));
    rows.emplace_back("Source", end_text(f.source_ip, f.source_deployment, "spoofed or distributed"));
    rows.emplace_back("Target", end_text(f.target_ip, f.target_deployment, "many addresses"));
    rows.emplace_back("First seen", format_timestamp(f.first_seen));
    rows.emplace_back("Last seen", format_timestamp(f.last_seen));
    rows.emplace_back("Duration", duration_text(f.first_seen, f.last_seen));
    if (f.evidence.is_object())
        for (const auto& [k, v] : f.evidence.items()) rows.emplace_back(evidence_label(k), json_value_text(v));
    return rows;
}

std::string headline(const NotificationFacts& f) {
    if (f.role == Role::target)
        return fmt::format("Security incident {}: your deployment {} is being attacked", f.incident_id,
                           f.deployment);
    return fmt::format("Security incident {}: a machine of your deployment {} is attacking others",
                       f.incident_id, f.deployment);
}

std::string subject(const NotificationFacts& f) {
    const std::string who = f.role == Role::target ? or_dash(f.target_ip) : or_dash(f.source_ip);
    if (f.role == Role::target)
        return fmt::format("[Safeguard] Incident {}: {} against {} ({})", f.incident_id, f.type, who,
                           f.deployment);
    std::string s = fmt::format("[Safeguard] Incident {}: {} from your machine {} ({}) - action needed",
                                f.incident_id, f.type, who, f.deployment);
    if (f.deadline) s += " by " + format_timestamp(*f.deadline);
    return s;
}

std::string intro(const NotificationFacts& f) {
    if (f.role == Role::target)
        return fmt::format(
            "Safeguard detected an attack on a machine of your deployment {}. You are receiving "
            "this because you are its owner. Nothing is required of you by a deadline, but the "
            "recommendations below reduce the risk.",
            f.deployment);
    return fmt::format(
        "Safeguard detected attack traffic sent by a machine of your deployment {}. You are "
        "receiving this because you are its owner. Please act on it or answer this e-mail{}.",
        f.deployment, f.deadline ? " before the deadline below" : "");
}

std::string answer_reply_to(const NotificationFacts& f, const std::string& from) {
    return f.answer.reply_to.empty() ? from : f.answer.reply_to;
}

// --- text/plain ---------------------------------------------------------------

std::string text_body(const NotificationFacts& f, const std::string& from) {
    std::string t;
    const std::string head = headline(f);
    t += std::string(head.size(), '=') + "\n" + head + "\n" + std::string(head.size(), '=') + "\n\n";
    t += intro(f) + "\n\n";
    t += "WHAT WE SAW\n";
    for (const auto& [label, value] : seen_rows(f)) t += fmt::format("  {:<24} {}\n", label + ":", value);
    if (!f.top_sources.empty()) {
        t += "\n  Top contributors (packets, at least):\n";
        for (const auto& s : f.top_sources) t += fmt::format("    {:<40} {}\n", s.ip, s.packets);
    }
    if (!f.rules.empty()) {
        t += "\n  Matched rules:\n";
        for (const auto& r : f.rules) t += fmt::format("    sid {}  {}\n", r.sid, or_dash(r.msg));
    }
    if (!f.evidence_pcap.empty())
        t += fmt::format("\n  Evidence capture: {} (the first packets of the incident; ask us for "
                         "a copy)\n",
                         f.evidence_pcap);
    t += "\nWHAT TO DO\n";
    for (const auto& line : recommendations(f.type, f.service, f.role)) t += "  - " + line + "\n";
    if (f.role == Role::source) {
        if (f.deadline)
            t += fmt::format("\nDEADLINE: {}\n  If the traffic still goes on after it and we have "
                             "no answer, deployment {} is deactivated: all traffic to and from its "
                             "addresses is blocked until it is reactivated.\n",
                             format_timestamp(*f.deadline), f.deployment);
        t += "\nHOW TO ANSWER\n";
        t += fmt::format("  Reply to this e-mail (it goes to {}), quoting incident {}.\n",
                         answer_reply_to(f, from), f.incident_id);
        t += "  - Need more time? Say how much and why; we extend the deadline";
        t += f.answer.extend_command.empty() ? ".\n" : fmt::format(" ({}).\n", f.answer.extend_command);
        t += "  - Is this traffic normal for this machine? Say so and describe the normal pattern:\n"
             "    peers, ports, rates and schedule. We record an exception";
        t += f.answer.exception_command.empty() ? ".\n"
                                                : fmt::format(" ({}).\n", f.answer.exception_command);
    }
    t += fmt::format("\n-- \nSafeguard, incident {} ({} notification)\n", f.incident_id, role_name(f.role));
    return t;
}

// --- text/html ----------------------------------------------------------------

std::string html_body(const NotificationFacts& f, const std::string& from) {
    const auto e = [](std::string_view s) { return html_escape(s); };
    std::string h;
    h += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + e(subject(f)) +
         "</title></head>\n<body style=\"font-family:Arial,Helvetica,sans-serif;color:#222\">\n";
    h += "<div class=\"banner\" style=\"background:#c62828;color:#ffffff;padding:14px 18px;"
         "font-size:18px;font-weight:bold\">" + e(headline(f)) + "</div>\n";
    h += "<p>" + e(intro(f)) + "</p>\n";
    h += "<h2>What we saw</h2>\n<table cellpadding=\"4\" style=\"border-collapse:collapse\">\n";
    for (const auto& [label, value] : seen_rows(f))
        h += "<tr><th align=\"left\">" + e(label) + "</th><td>" + e(value) + "</td></tr>\n";
    h += "</table>\n";
    if (!f.top_sources.empty()) {
        h += "<h3>Top contributors</h3>\n<table cellpadding=\"4\"><tr><th align=\"left\">Address</th>"
             "<th align=\"right\">Packets (at least)</th></tr>\n";
        for (const auto& s : f.top_sources)
            h += fmt::format("<tr><td>{}</td><td align=\"right\">{}</td></tr>\n", e(s.ip), s.packets);
        h += "</table>\n";
    }
    if (!f.rules.empty()) {
        h += "<h3>Matched rules</h3>\n<ul>\n";
        for (const auto& r : f.rules) h += fmt::format("<li>sid {}: {}</li>\n", r.sid, e(or_dash(r.msg)));
        h += "</ul>\n";
    }
    if (!f.evidence_pcap.empty())
        h += "<p>Evidence capture: <code>" + e(f.evidence_pcap) +
             "</code> (the first packets of the incident; ask us for a copy)</p>\n";
    h += "<h2>What to do</h2>\n<ul>\n";
    for (const auto& line : recommendations(f.type, f.service, f.role)) h += "<li>" + e(line) + "</li>\n";
    h += "</ul>\n";
    if (f.role == Role::source) {
        if (f.deadline)
            h += "<p style=\"color:#c62828;font-weight:bold\">Deadline: " + e(format_timestamp(*f.deadline)) +
                 "</p>\n<p>If the traffic still goes on after it and we have no answer, deployment " +
                 e(f.deployment) +
                 " is deactivated: all traffic to and from its addresses is blocked until it is "
                 "reactivated.</p>\n";
        h += "<h2>How to answer</h2>\n<p>Reply to this e-mail (it goes to " + e(answer_reply_to(f, from)) +
             fmt::format("), quoting incident {}.</p>\n<ul>\n", f.incident_id);
        h += "<li>Need more time? Say how much and why; we extend the deadline";
        h += f.answer.extend_command.empty() ? ".</li>\n"
                                             : " (<code>" + e(f.answer.extend_command) + "</code>).</li>\n";
        h += "<li>Is this traffic normal for this machine? Say so and describe the normal pattern: "
             "peers, ports, rates and schedule. We record an exception";
        h += f.answer.exception_command.empty() ? ".</li>\n"
                                                : " (<code>" + e(f.answer.exception_command) + "</code>).</li>\n";
        h += "</ul>\n";
    }
    h += fmt::format("<p style=\"color:#777;font-size:12px\">Safeguard, incident {} ({} notification)</p>\n",
                     f.incident_id, role_name(f.role));
    h += "</body></html>\n";
    return h;
}

std::string crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 16);
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') continue;
        if (text[i] == '\n') out += kCrlf;
        else out += text[i];
    }
    return out;
}

std::optional<Nanos> parse_timestamp(const std::string& s) {
    struct tm tm {};
    unsigned micros = 0;
    int consumed = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6u+0000%n", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros, &consumed) != 7 ||
        size_t(consumed) != s.size())
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const time_t secs = timegm(&tm);
    if (secs < 0) return std::nullopt;
    return Nanos(secs) * kNsPerSec + Nanos(micros) * kNsPerUs;
}

} // namespace

const char* role_name(Role r) { return r == Role::target ? "target" : "source"; }

std::string stable_id(uint64_t incident_id, Role role, std::string_view recipient) {
    return fmt::format("inc{}-{}-{:016x}", incident_id, role_name(role), fnv1a(lower(recipient)));
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string quoted_printable(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    size_t pos = 0;
    while (pos <= text.size()) {
        const size_t eol = text.find(kCrlf, pos);
        const std::string_view line =
            text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        size_t col = 0;
        for (size_t i = 0; i < line.size(); ++i) {
            const unsigned char c = line[i];
            const bool last = i + 1 == line.size();
            std::string piece;
            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
                piece = char(c);
            } else {
                piece = {'=', kHex[c >> 4], kHex[c & 15]};
            }
            // Soft break so that no line exceeds 76 characters (the '=' included).
            if (col + piece.size() > 75) {
                out += "=\r\n";
                col = 0;
            }
            out += piece;
            col += piece.size();
        }
        if (eol == std::string_view::npos) break;
        out += kCrlf;
        pos = eol + 2;
    }
    return out;
}

std::string encode_header_word(std::string_view text) {
    const std::string clean = one_line(text);
    if (std::all_of(clean.begin(), clean.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; }) &&
        clean.find("=?") == std::string::npos)
        return clean;
    // Encoded words of at most 75 characters, each holding whole UTF-8 characters.
    std::string out;
    size_t i = 0;
    while (i < clean.size()) {
        size_t end = std::min(clean.size(), i + 45);
        while (end < clean.size() && end > i && (uint8_t(clean[end]) & 0xC0) == 0x80) --end;
        if (end == i) end = std::min(clean.size(), i + 45);
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(i, end - i)) + "?=";
        i = end;
    }
    return out;
}

std::string rfc5322_date(Nanos t) {
    const time_t secs = time_t(t / kNsPerSec);
    struct tm tm {};
    gmtime_r(&secs, &tm);
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} +0000", kDays[tm.tm_wday], tm.tm_mday,
                       kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool is_plain_address(std::string_view a) {
    const auto at = a.find('@');
    if (a.empty() || a.size() > 254 || at == 0 || at == std::string_view::npos || at + 1 == a.size() ||
        a.find('@', at + 1) != std::string_view::npos)
        return false;
    return std::none_of(a.begin(), a.end(), [](unsigned char c) {
        return c <= 0x20 || c >= 0x7f || std::string_view("<>()[],;:\"\\").find(char(c)) != std::string_view::npos;
    });
}

Result<> attribution_json(const nlohmann::json& r, NotificationFacts& f) {
    if (!r.is_object() || !r.contains("type") || !r["type"].is_string())
        return make_error("attribution: expected a record with a 'type'");
    const auto str = [&](const nlohmann::json& j, const char* key) {
        return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    f.type = r["type"].get<std::string>();
    f.direction = str(r, "direction");
    f.service = str(r, "service");
    f.port = r.contains("port") && r["port"].is_number_unsigned() ? uint16_t(r["port"].get<unsigned>()) : 0;
    if (r.contains("source")) {
        f.source_ip = str(r["source"], "ip");
        f.source_deployment = str(r["source"], "deployment");
    }
    if (r.contains("target")) {
        f.target_ip = str(r["target"], "ip");
        f.target_deployment = str(r["target"], "deployment");
    }
    for (const auto& [key, out] : {std::pair{"first_seen", &f.first_seen}, std::pair{"last_seen", &f.last_seen}}) {
        const std::string text = str(r, key);
        if (text.empty()) continue;
        const auto t = parse_timestamp(text);
        if (!t) return make_error(fmt::format("attribution: {}: expected a timestamp such as "
                                              "2015-03-30T14:45:59.303199+0000, got '{}'", key, text));
        *out = *t;
    }
    if (r.contains("evidence") && r["evidence"].is_object()) f.evidence = r["evidence"];
    if (f.type == "signature" && f.service.empty() && f.evidence.contains("class") &&
        f.evidence["class"].is_string())
        f.service = f.evidence["class"].get<std::string>();
    f.top_sources.clear();
    if (r.contains("top_sources") && r["top_sources"].is_array())
        for (const auto& s : r["top_sources"])
            f.top_sources.push_back({str(s, "ip"), s.value("packets", uint64_t(0))});
    f.rules.clear();
    if (r.contains("sids") && r["sids"].is_array())
        for (const auto& s : r["sids"])
            if (s.is_number_unsigned()) f.rules.push_back({s.get<uint32_t>(), ""});
    return {};
}

AnswerInstructions default_answer(const NotificationFacts& f, std::string_view reply_to) {
    AnswerInstructions a;
    a.reply_to = std::string(reply_to);
    a.extend_command = fmt::format("safeguardctl extend {} --for 24h --reason '...'", f.incident_id);
    // The exception's scope: this deployment, this kind of traffic, with this peer.
    const std::string& peer = f.role == Role::source ? f.target_ip : f.source_ip;
    a.exception_command = fmt::format(
        "safeguardctl exception add --deployment {} --type {}{}{} --for 30d --reason '...'", f.deployment, f.type,
        f.direction.empty() ? "" : " --direction " + f.direction, peer.empty() ? "" : " --peer " + peer);
    return a;
}

namespace {

// Text from traffic and configuration, one line each, so that no value can
// break the layout of the text part (or a header).
NotificationFacts single_lines(NotificationFacts f) {
    for (std::string* s : {&f.recipient, &f.deployment, &f.type, &f.direction, &f.service, &f.source_ip,
                           &f.source_deployment, &f.target_ip, &f.target_deployment, &f.evidence_pcap,
                           &f.answer.reply_to, &f.answer.extend_command, &f.answer.exception_command, &f.message_id})
        *s = one_line(*s);
    for (auto& t : f.top_sources) t.ip = one_line(t.ip);
    for (auto& r : f.rules) r.msg = one_line(r.msg);
    if (f.evidence.is_object())
        for (auto& [k, v] : f.evidence.items())
            if (v.is_string()) v = one_line(v.get<std::string>());
    return f;
}

} // namespace

Result<Message> compose(const NotificationFacts& facts, const std::string& from, Nanos now) {
    const NotificationFacts f = single_lines(facts);
    if (!is_plain_address(from))
        return make_error(fmt::format("notify.from: expected an e-mail address, got '{}'", one_line(from)));
    if (!is_plain_address(f.recipient))
        return make_error(fmt::format("incident {}: owner of {}: expected an e-mail address, got '{}'",
                                      f.incident_id, one_line(f.deployment), one_line(f.recipient)));
    if (!f.answer.reply_to.empty() && !is_plain_address(f.answer.reply_to))
        return make_error(fmt::format("reply-to: expected an e-mail address, got '{}'", one_line(f.answer.reply_to)));

    Message m;
    m.id = stable_id(f.incident_id, f.role, f.recipient);
    m.message_id = !f.message_id.empty() ? f.message_id : fmt::format("<safeguard.{}@{}>", m.id, domain_of(from));
    m.from = from;
    m.to = {f.recipient};
    // "=_" never occurs in quoted-printable text, so the parts cannot contain the boundary.
    const std::string boundary = "=_sg_" + m.id;

    std::string& b = m.bytes;
    const auto header = [&](std::string_view name, std::string_view value) {
        b += fmt::format("{}: {}\r\n", name, value);
    };
    header("From", "Safeguard <" + from + ">");
    header("To", "<" + f.recipient + ">");
    if (!f.answer.reply_to.empty()) header("Reply-To", "<" + f.answer.reply_to + ">");
    header("Subject", encode_header_word(subject(f)));
    header("Date", rfc5322_date(now));
    header("Message-ID", m.message_id);
    header("MIME-Version", "1.0");
    header("X-Safeguard-Incident", std::to_string(f.incident_id));
    header("X-Safeguard-Role", role_name(f.role));
    header("Auto-Submitted", "auto-generated");
    header("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"");
    b += kCrlf;
    b += "This is a MIME message: a plain text and an HTML version of the same notice.\r\n";
    for (const auto& [type, body] : {std::pair{"text/plain", text_body(f, from)},
                                     std::pair{"text/html", html_body(f, from)}}) {
        b += "\r\n--" + boundary + "\r\n";
        header("Content-Type", std::string(type) + "; charset=utf-8");
        header("Content-Transfer-Encoding", "quoted-printable");
        b += kCrlf;
        b += quoted_printable(crlf(body));
    }
    b += "\r\n--" + boundary + "--\r\n";
    return m;
}

} // namespace sg::notify
