// safeguardctl: the command line of the control socket. One subcommand per
// command; readable output by default, --json for scripts (the daemon's
// reply as it came). Exit codes: 0 done, 1 the daemon refused (its error
// is printed), 2 usage, 3 no daemon on the socket, 4 permission denied,
// 5 no usable reply. docs/operations.md has every command.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/safeguardctl/client.hpp"
#include "app/safeguardctl/format.hpp"

namespace {

using nlohmann::json;

// Every option any subcommand takes (CLI11 writes into these).
struct Options {
    uint64_t id = 0;
    unsigned n = 10;
    bool sum = false, open = false, all = false;
    std::vector<std::string> states;
    std::string deployment, type, direction, peer, duration, reason, who;
    unsigned port = 0;
    uint64_t sid = 0;
    unsigned limit = 0;
};

struct Leaf {
    CLI::App* app;
    std::string command;                  // as the daemon names it
    std::function<json(const Options&)> args;
};

json set_if(json j, const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
    return j;
}

} // namespace

int main(int argc, char** argv) {
    using namespace sg::ctl;
    CLI::App app{"safeguardctl: talk to a running safeguard through its control socket"};
    app.require_subcommand(1);
    const char* env = std::getenv("SAFEGUARD_SOCKET");
    std::string socket = env && *env ? env : "/run/safeguard/control.sock";
    bool as_json = false;
    unsigned timeout_s = 0;   // 0: 30 s, and 300 s for a rules reload (a large set compiles for a while)
    app.add_option("--socket", socket, "the control socket (default: $SAFEGUARD_SOCKET, else /run/safeguard/control.sock)");
    app.add_flag("--json", as_json, "print the daemon's reply as JSON (for scripts)");
    app.add_option("--timeout", timeout_s, "seconds to wait for the reply (default 30; rules reload 300)")
        ->check(CLI::Range(1, 3600));

    Options o;
    std::vector<Leaf> leaves;
    auto leaf = [&](CLI::App* parent, const char* name, const char* command, const char* help,
                    std::function<json(const Options&)> args = nullptr) {
        CLI::App* a = parent->add_subcommand(name, help);
        leaves.push_back({a, command, args ? std::move(args) : [](const Options&) { return json::object(); }});
        return a;
    };
    auto id_arg = [&](CLI::App* a, const char* what) {
        a->add_option("id", o.id, what)->required()->check(CLI::PositiveNumber);
    };
    auto reason_opt = [&](CLI::App* a, bool required) {
        auto* opt = a->add_option("--reason", o.reason, "why (kept in the incident's events)");
        if (required) opt->required();
    };
    auto who_opt = [&](CLI::App* a) {
        a->add_option("--who", o.who, "on whose behalf (an owner's address); you are recorded as well");
    };
    auto id_reason_who = [](const Options& x) {
        return set_if(set_if(json{{"id", x.id}}, "reason", x.reason), "who", x.who);
    };

    leaf(&app, "status", "status", "uptime, mode, ports, workers, rules and config generations");
    leaf(&app, "stats", "stats", "counters per port, worker and stage, with drops and ring-full",
         [](const Options& x) { return json{{"sum", x.sum}}; })
        ->add_flag("--sum", o.sum, "sum over ports and workers");

    CLI::App* top = app.add_subcommand("top", "the busiest hosts or flows");
    top->require_subcommand(1);
    leaf(top, "hosts", "top hosts", "protected hosts with the most bytes over the last minute",
         [](const Options& x) { return json{{"n", x.n}}; })
        ->add_option("-n", o.n, "how many")->check(CLI::Range(1, 1000));
    leaf(top, "flows", "top flows", "largest ended flows, busiest pairs of the last minute",
         [](const Options& x) { return json{{"n", x.n}}; })
        ->add_option("-n", o.n, "how many")->check(CLI::Range(1, 1000));

    CLI::App* rules = app.add_subcommand("rules", "signature rules");
    rules->require_subcommand(1);
    leaf(rules, "reload", "rules reload", "re-read the rule files (a file with errors is rejected, the running rules stay)");
    leaf(rules, "list", "rules list", "the running rules and their alert counts",
         [](const Options& x) { return x.sid ? json{{"sid", x.sid}} : json::object(); })
        ->add_option("--sid", o.sid, "only this rule")->check(CLI::PositiveNumber);

    CLI::App* incidents = app.add_subcommand("incidents", "incidents");
    incidents->require_subcommand(1);
    CLI::App* list = leaf(incidents, "list", "incidents list", "incidents, newest first", [](const Options& x) {
        json j = json::object();
        if (!x.states.empty()) j["state"] = x.states;
        j = set_if(set_if(set_if(j, "deployment", x.deployment), "type", x.type), "direction", x.direction);
        if (x.open) j["open"] = true;
        if (x.limit) j["limit"] = x.limit;
        return j;
    });
    list->add_option("--state", o.states, "only these states (repeatable)")
        ->check(CLI::IsMember({"open", "notified", "deadline_set", "extended", "excepted", "resolved", "deactivated",
                               "reactivated"}));
    list->add_option("--deployment", o.deployment, "only incidents with this deployment at either end");
    list->add_option("--type", o.type, "only this type (bruteforce, reflector, port_scan, ...)");
    list->add_option("--direction", o.direction, "inbound, outbound or internal")
        ->check(CLI::IsMember({"inbound", "outbound", "internal"}));
    list->add_flag("--open", o.open, "only incidents not resolved");
    list->add_option("--limit", o.limit, "at most this many")->check(CLI::Range(1, 100000));
    id_arg(leaf(incidents, "show", "incidents show", "one incident with its evidence and events",
                [](const Options& x) { return json{{"id", x.id}}; }),
           "incident id");

    CLI::App* ack = leaf(&app, "ack", "ack", "acknowledge an incident",
                         [](const Options& x) { return set_if(json{{"id", x.id}}, "who", x.who); });
    id_arg(ack, "incident id");
    who_opt(ack);
    CLI::App* extend = leaf(&app, "extend", "extend", "give the source's owner more time", [](const Options& x) {
        return set_if(json{{"id", x.id}, {"for", x.duration}, {"reason", x.reason}}, "who", x.who);
    });
    id_arg(extend, "incident id");
    extend->add_option("--for", o.duration, "how much longer (24h, 3d)")->required();
    reason_opt(extend, true);
    who_opt(extend);
    for (const char* name : {"resolve", "deactivate", "reactivate"}) {
        const char* help = std::string(name) == "resolve"      ? "close an incident by hand"
                           : std::string(name) == "deactivate" ? "block the incident's source deployment now"
                                                               : "lift a deactivation";
        CLI::App* a = leaf(&app, name, name, help, id_reason_who);
        id_arg(a, "incident id");
        reason_opt(a, true);
        who_opt(a);
    }

    CLI::App* exception = app.add_subcommand("exception", "exceptions: traffic declared expected");
    exception->require_subcommand(1);
    CLI::App* add = leaf(exception, "add", "exception add", "declare traffic expected (matching incidents become excepted)",
                         [](const Options& x) {
                             json j = {{"deployment", x.deployment}, {"for", x.duration}, {"reason", x.reason}};
                             j = set_if(set_if(set_if(set_if(j, "type", x.type), "direction", x.direction), "peer", x.peer),
                                        "who", x.who);
                             if (x.port) j["port"] = x.port;
                             return j;
                         });
    add->add_option("--deployment", o.deployment, "the deployment it concerns")->required();
    add->add_option("--type", o.type, "only this type (bruteforce, reflector, port_scan, ...)");
    add->add_option("--direction", o.direction, "inbound, outbound or internal")
        ->check(CLI::IsMember({"inbound", "outbound", "internal"}));
    add->add_option("--peer", o.peer, "the other end: an address or a prefix");
    add->add_option("--port", o.port, "the service port")->check(CLI::Range(1, 65535));
    add->add_option("--for", o.duration, "how long it holds (30d)")->required();
    reason_opt(add, true);
    who_opt(add);
    leaf(exception, "list", "exception list", "exceptions in force",
         [](const Options& x) { return json{{"all", x.all}}; })
        ->add_flag("--all", o.all, "ended ones too");
    CLI::App* remove = leaf(exception, "remove", "exception remove", "end an exception",
                            [](const Options& x) { return set_if(json{{"id", x.id}, {"reason", x.reason}}, "who", x.who); });
    id_arg(remove, "exception id");
    reason_opt(remove, true);
    who_opt(remove);

    leaf(&app, "blocklist", "blocklist", "deployments deactivated now");
    id_arg(leaf(&app, "evidence", "evidence", "an incident's evidence capture and figures",
                [](const Options& x) { return json{{"id", x.id}}; }),
           "incident id");
    leaf(&app, "posture", "posture", "per deployment: incidents, brute force, exposed management ports, reflectors, exceptions",
         [](const Options& x) { return set_if(json::object(), "deployment", x.deployment); })
        ->add_option("--deployment", o.deployment, "only this deployment");
    CLI::App* config = app.add_subcommand("config", "the daemon's configuration");
    config->require_subcommand(1);
    leaf(config, "show", "config show", "the effective configuration, defaults included");
    leaf(&app, "shutdown", "shutdown", "stop the daemon (as SIGTERM; the report is written)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }
    const Leaf* chosen = nullptr;
    for (const Leaf& l : leaves)
        if (l.app->parsed()) chosen = &l;
    if (!chosen) {
        std::fputs(app.help().c_str(), stderr);
        return kExitUsage;
    }

    if (!timeout_s) timeout_s = chosen->command == "rules reload" ? 300 : 30;
    const Reply reply = request(socket, chosen->command, chosen->args(o), std::chrono::seconds(timeout_s));
    if (reply.code != kExitOk) {
        fmt::print(stderr, "safeguardctl: {}\n", reply.problem);
        return reply.code;
    }
    const bool ok = reply.body.value("ok", false);
    if (as_json) {
        fmt::print("{}\n", reply.body.dump(2, ' ', false, json::error_handler_t::replace));
    } else if (ok) {
        fmt::print("{}", format_result(chosen->command, reply.body.contains("result") ? reply.body["result"] : json()));
    }
    if (ok) return kExitOk;
    const std::string error = reply.body.value("error", std::string("(no message)"));
    if (!as_json) fmt::print(stderr, "safeguardctl: {}\n", error);
    return error.starts_with("permission denied") ? kExitPermission : kExitRefused;
}
