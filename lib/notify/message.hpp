#pragma once
// The notification e-mail of an incident: one per deployment involved. For an
// internal attack both owners get one, the target's ("your machine is being
// attacked") and the source's ("your machine attacks", with a deadline).
//
// compose() builds a complete RFC 5322 message: multipart/alternative with a
// text/plain and a text/html part (red banner), both quoted-printable UTF-8,
// CRLF line ends. Everything that came from traffic or configuration is
// HTML-escaped in the HTML part and kept out of header syntax (no CR/LF
// injection; non-ASCII headers as RFC 2047 encoded words).
//
// Thread: control side (the incident thread). Pure functions, no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "core/time.hpp"

namespace sg::notify {

enum class Role : uint8_t { target, source };
const char* role_name(Role r);  // "target", "source"

struct TopSource {
    std::string ip;
    uint64_t packets = 0;        // a lower bound (docs/detection.md, top_sources)
};

struct MatchedRule {
    uint32_t sid = 0;
    std::string msg;             // the rule's msg; empty when unknown
};

// How the owner of a source answers. The owner replies by e-mail; the
// commands are what the provider's operator runs for them (or the owner,
// where they have access), shown so that the answer can be precise.
struct AnswerInstructions {
    std::string reply_to;        // where answers go; "" = the From address
    std::string extend_command;  // "safeguardctl extend 42 --for 24h --reason '...'"
    std::string exception_command;
};

// Everything the e-mail says, as plain values, so this component depends on
// neither the detection nor the incident code. attribution_json() fills the
// attribution part from the documented record (detect/attribution.hpp's
// to_json, docs/detection.md).
struct NotificationFacts {
    uint64_t incident_id = 0;
    Role role = Role::target;
    std::string recipient;       // the deployment owner's e-mail address
    std::string deployment;      // the recipient's deployment

    // The attribution.
    std::string type;            // "bruteforce", "syn_flood", ...
    std::string direction;       // "inbound", "outbound", "internal"
    std::string service;         // "rdp", "dns", signature class for type "signature"; may be ""
    uint16_t port = 0;
    std::string source_ip;       // "" = spoofed or distributed
    std::string source_deployment;
    std::string target_ip;       // "" = many (a sweep)
    std::string target_deployment;
    Nanos first_seen = 0;
    Nanos last_seen = 0;
    nlohmann::json evidence = nlohmann::json::object();
    std::vector<TopSource> top_sources;
    std::vector<MatchedRule> rules;

    std::optional<Nanos> deadline;  // source only: when enforcement starts
    std::string evidence_pcap;      // file name of the evidence capture; "" = none
    AnswerInstructions answer;
    // The Message-ID header, "<...>", when the caller keeps its own (the
    // incident records it); "" = "<safeguard.ID@DOMAIN-OF-FROM>".
    std::string message_id;
};

// Fills the attribution fields of `facts` from the attribution record's JSON
// form. Unknown fields are ignored; a missing `type` is an error.
Result<> attribution_json(const nlohmann::json& record, NotificationFacts& facts);

// Default answer commands for an incident (the lead may replace them).
AnswerInstructions default_answer(const NotificationFacts& facts, std::string_view reply_to);

struct Message {
    std::string id;              // file-name-safe, stable: "inc42-target-5f0c3a1b9d2e4f60"
    std::string message_id;      // the Message-ID header value, "<...>"
    std::string from;            // envelope sender
    std::vector<std::string> to; // envelope recipients
    std::string bytes;           // the complete message, CRLF line ends
};

// The recommendations for a type (and service or signature class) and role,
// one sentence each. Never empty: unknown types get general advice.
std::vector<std::string> recommendations(std::string_view type, std::string_view service,
                                         Role role);

// Builds the e-mail. `from` is the configured sender address; `now` the Date.
// Fails on a recipient or sender that is not a plain address.
Result<Message> compose(const NotificationFacts& facts, const std::string& from, Nanos now);

// Exposed for the tests and the outbox.
std::string stable_id(uint64_t incident_id, Role role, std::string_view recipient);
std::string html_escape(std::string_view text);
std::string quoted_printable(std::string_view text);  // CRLF input, 76-column output
std::string encode_header_word(std::string_view text); // RFC 2047 when needed
std::string rfc5322_date(Nanos t);
bool is_plain_address(std::string_view address);

} // namespace sg::notify
