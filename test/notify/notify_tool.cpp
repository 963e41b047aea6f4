// Driver for test/notify/run_smtp.py: the notification path without the
// daemon. Composes an incident e-mail, enqueues it in a state directory's
// outbox, and delivers due messages over SMTP with libcurl.
//
//   notify-tool enqueue STATE_DIR --incident N --role target|source --to ADDR
//               [--from ADDR] [--type T] [--service S] [--deployment D]
//   notify-tool deliver STATE_DIR --smtp URL [--from ADDR] [--later SECONDS]
//   notify-tool status STATE_DIR
//
// Each prints one JSON line; the exit status is 0 unless the command itself failed.

#include <cstdio>
#include <map>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "notify/message.hpp"
#include "notify/outbox.hpp"

using namespace sg::notify;

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "notify-tool: %s\n", what.c_str());
    return 1;
}

sg::Result<> refuse_all(const Envelope&, std::string_view) { return sg::make_error("status: no delivery"); }

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) return fail("usage: notify-tool enqueue|deliver|status STATE_DIR [options]");
    const std::string cmd = argv[1], state = argv[2];
    std::map<std::string, std::string> opt;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (std::string_view(argv[i]).substr(0, 2) != "--") return fail(fmt::format("unexpected '{}'", argv[i]));
        opt[argv[i] + 2] = argv[i + 1];
    }
    const auto get = [&](const std::string& k, const std::string& def = "") {
        const auto it = opt.find(k);
        return it == opt.end() ? def : it->second;
    };
    const std::string from = get("from", "safeguard@provider.example");

    if (cmd == "enqueue") {
        auto outbox = Outbox::open(state, refuse_all);
        if (!outbox) return fail(outbox.error().message);
        NotificationFacts f;
        f.incident_id = std::stoull(get("incident", "1"));
        f.role = get("role", "target") == "source" ? Role::source : Role::target;
        f.recipient = get("to");
        f.deployment = get("deployment", f.role == Role::target ? "db" : "web");
        f.type = get("type", "bruteforce");
        f.service = get("service", "rdp");
        f.port = 3389;
        f.direction = "internal";
        f.source_ip = "10.1.0.13";
        f.source_deployment = "web";
        f.target_ip = "10.2.0.20";
        f.target_deployment = "db";
        f.first_seen = 1427726759303199000ULL;
        f.last_seen = f.first_seen + 95 * sg::kNsPerSec;
        f.evidence = {{"attempts", 75}, {"failed", 75}, {"established", 50}};
        f.top_sources = {{"10.1.0.13", 750}};
        f.rules = {{2001337, "ET SCAN <RDP> brute force & more"}};
        f.evidence_pcap = fmt::format("incident-{}.pcap", f.incident_id);
        if (f.role == Role::source) f.deadline = f.first_seen + 24 * 3600 * sg::kNsPerSec;
        f.answer = default_answer(f, "abuse@provider.example");
        auto m = compose(f, from, wall_now());
        if (!m) return fail(m.error().message);
        auto r = outbox->enqueue(*m);
        if (!r) return fail(r.error().message);
        const char* outcome = *r == EnqueueOutcome::queued ? "queued"
                              : *r == EnqueueOutcome::already_pending ? "already_pending" : "already_sent";
        std::puts(nlohmann::json({{"id", m->id}, {"message_id", m->message_id}, {"outcome", outcome}}).dump().c_str());
        return 0;
    }
    if (cmd == "deliver") {
        auto outbox = Outbox::open(state, smtp_sender({get("smtp"), 5, 30}));
        if (!outbox) return fail(outbox.error().message);
        const sg::Nanos later = std::stoull(get("later", "0")) * sg::kNsPerSec;
        auto r = outbox->deliver_due(wall_now() + later);
        if (!r) return fail(r.error().message);
        std::puts(nlohmann::json({{"sent", r->sent}, {"failed", r->failed}, {"errors", r->errors},
                                  {"pending", outbox->pending().size()}})
                      .dump()
                      .c_str());
        return 0;
    }
    if (cmd == "status") {
        auto outbox = Outbox::open(state, refuse_all);
        if (!outbox) return fail(outbox.error().message);
        nlohmann::json pending = nlohmann::json::array();
        for (const auto& p : outbox->pending())
            pending.push_back({{"id", p.id}, {"attempts", p.attempts}, {"next_try_ns", p.next_try},
                               {"last_error", p.last_error}});
        std::puts(nlohmann::json({{"pending", pending}, {"sent", outbox->sent()}}).dump().c_str());
        return 0;
    }
    return fail(fmt::format("unknown command '{}'", cmd));
}
