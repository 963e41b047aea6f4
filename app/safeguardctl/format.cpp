#include "app/safeguardctl/format.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace sg::ctl {

namespace {

using nlohmann::json;

std::string text(const json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    if (v.is_number_float()) {
        const double d = v.get<double>();
        return d == std::floor(d) && std::fabs(d) < 1e15 ? fmt::format("{}", int64_t(d)) : fmt::format("{:.1f}", d);
    }
    if (v.is_number()) return v.dump();
    if (v.is_array()) {
        std::string out;
        for (const auto& x : v) out += (out.empty() ? "" : ", ") + text(x);
        return out.empty() ? "-" : out;
    }
    return v.dump();
}

std::string field(const json& o, const char* key) { return o.is_object() && o.contains(key) ? text(o[key]) : "-"; }

// "1.2M", "512k": counters in tables.
std::string count(const json& v) {
    if (!v.is_number()) return text(v);
    double d = v.get<double>();
    const char* units[] = {"", "k", "M", "G", "T"};
    int i = 0;
    while (std::fabs(d) >= 10000 && i < 4) {
        d /= 1000;
        ++i;
    }
    return i ? fmt::format("{:.1f}{}", d, units[i]) : text(v);
}

std::string duration(double s) {
    const auto t = uint64_t(std::llround(std::fabs(s)));
    if (t >= 86400) return fmt::format("{}d {}h", t / 86400, t % 86400 / 3600);
    if (t >= 3600) return fmt::format("{}h {}m", t / 3600, t % 3600 / 60);
    if (t >= 60) return fmt::format("{}m {}s", t / 60, t % 60);
    return fmt::format("{}s", t);
}

std::string deadline(const json& row) {
    if (!row.contains("deadline_in_s") || row["deadline_in_s"].is_null()) return "-";
    const double s = row["deadline_in_s"].get<double>();
    return s < 0 ? fmt::format("passed {} ago", duration(s)) : fmt::format("in {}", duration(s));
}

std::string endpoint(const json& e) {
    if (!e.is_object()) return text(e);
    if (!e["deployment"].is_null()) return e["deployment"].get<std::string>();
    if (!e["ip"].is_null()) return e["ip"].get<std::string>();
    return "*";
}

class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    std::string str(const std::string& indent = "") const {
        std::vector<size_t> width(header_.size());
        for (size_t i = 0; i < header_.size(); ++i) width[i] = header_[i].size();
        for (const auto& r : rows_)
            for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
        std::string out;
        auto line = [&](const std::vector<std::string>& cells) {
            std::string l = indent;
            for (size_t i = 0; i < cells.size(); ++i) {
                // The last column is not padded (it may be long text).
                l += i + 1 < cells.size() ? fmt::format("{:<{}}  ", cells[i], width[i]) : cells[i];
            }
            while (!l.empty() && l.back() == ' ') l.pop_back();
            out += l + "\n";
        };
        line(header_);
        for (const auto& r : rows_) line(r);
        return out;
    }

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// Generic: "key: value" lines, nested objects indented.
void key_values(const json& j, std::string& out, const std::string& indent = "") {
    for (const auto& [k, v] : j.items()) {
        if (v.is_object() && !v.empty()) {
            out += fmt::format("{}{}:\n", indent, k);
            key_values(v, out, indent + "  ");
        } else if (v.is_array() && !v.empty() && v[0].is_object()) {
            out += fmt::format("{}{}:\n", indent, k);
            for (const auto& item : v) out += fmt::format("{}  - {}\n", indent, item.dump());
        } else {
            out += fmt::format("{}{}: {}\n", indent, k, text(v));
        }
    }
}

std::string incidents_table(const json& rows) {
    Table t({"ID", "STATE", "TYPE", "DIRECTION", "SOURCE", "TARGET", "DEADLINE", "LAST SEEN"});
    for (const auto& r : rows) {
        std::string type = field(r, "type");
        if (r.contains("service") && !r["service"].is_null()) type = fmt::format("{} ({})", type, text(r["service"]));
        t.add({field(r, "id"), field(r, "state"), type, field(r, "direction"), endpoint(r["source"]),
               endpoint(r["target"]), deadline(r), field(r, "last_seen")});
    }
    return t.empty() ? "no incidents\n" : t.str();
}

// "a, b, c" of a JSON list of names; "none" when empty or absent.
std::string names_or_none(const json& o, const char* key) {
    std::vector<std::string> names;
    if (o.is_object() && o.contains(key) && o[key].is_array())
        for (const auto& x : o[key]) names.push_back(text(x));
    return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

// `safeguard aggregate`'s status: its role, the appliances and where it is in the stream.
std::string format_aggregate_status(const json& r) {
    std::string out = fmt::format("safeguard aggregate {} of site {}: {}{}\n", field(r, "name"), field(r, "site"),
                                  field(r, "role"), r.value("connected", false) ? "" : " (not connected to NATS)");
    if (r.value("role", "") != "active") {
        out += fmt::format("active aggregator: {}\n", field(r, "active"));
        if (r.contains("error") && !r["error"].is_null()) out += fmt::format("error: {}\n", field(r, "error"));
        return out;
    }
    const json& cursor = r.contains("cursor") ? r["cursor"] : json::object();
    out += fmt::format("term {}; windows analysed {}, summaries merged {}, late {}, rejected {}; stream cursor {}\n",
                       field(r, "term"), field(r, "windows_analysed"), field(r, "summaries_merged"),
                       field(r, "late_summaries"), field(r, "rejected"), field(cursor, "cursor"));
    Table apps({"APPLIANCE", "WINDOWS", "BYTES", "LAST HEARD", "SILENT", "LATE", "REJECTED"});
    if (r.contains("appliances"))
        for (const auto& a : r["appliances"])
            apps.add({field(a, "name"), count(a["windows"]), count(a["bytes"]),
                      fmt::format("{:.1f} s ago", a.value("heard_s_ago", 0.0)), field(a, "silent"), count(a["late"]),
                      count(a["rejected"])});
    out += fmt::format("\n{}\ndeactivated: {}\n", apps.str(), names_or_none(r, "deactivated"));
    return out;
}

std::string format_status(const json& r) {
    if (r.value("command", "") == "aggregate") return format_aggregate_status(r);
    std::string out;
    out += fmt::format("safeguard {} (pid {}), {} in {} mode, up {}\n", field(r, "version"), field(r, "pid"),
                       field(r, "command"), field(r, "mode"), duration(r.value("uptime_s", 0.0)));
    out += fmt::format("workers: {} ({} dispatch)\n", field(r, "workers"), field(r, "dispatch"));
    const json& rules = r["rules"];
    out += fmt::format("rules: generation {}, {} rules, {} reloads, {} rejected\n", field(rules, "generation"),
                       field(rules, "rules"), field(rules, "reloads"), field(rules, "reload_errors"));
    out += fmt::format("config: generation {}, {}\n", field(r["config"], "generation"), field(r["config"], "source"));
    if (r["incidents"].is_object() && r["incidents"].contains("open")) {
        std::string states;
        for (const auto& [k, v] : r["incidents"]["by_state"].items()) states += fmt::format(" {} {}", k, text(v));
        out += fmt::format("incidents: {} open of {} ({})\n", field(r["incidents"], "open"),
                           field(r["incidents"], "total"), states.empty() ? "none" : states.substr(1));
    }
    out += fmt::format("control socket: {}; metrics: {}\n", field(r["control"], "socket"), field(r, "metrics"));
    if (r.contains("fleet") && r["fleet"].is_object()) {
        const json& f = r["fleet"];
        const json& d = f.contains("decisions") && f["decisions"].is_object() ? f["decisions"] : json::object();
        out += fmt::format("fleet: {} of site {}, {}; published {}, queued {}, spooled {} ({} files), dropped {}, "
                           "errors {}; blocklist from the aggregator: {}\n",
                           field(f, "appliance"), field(f, "site"), f.value("publishing", false) ? "publishing" : "not publishing",
                           field(f, "published"), field(f, "queued"), field(f, "spooled"), field(f, "spool_files"),
                           field(f, "dropped"), field(f, "errors"), names_or_none(d, "deactivated"));
    }
    Table ports({"PORT", "DRIVER", "DEVICE", "RXQ", "TXQ", "RSS"});
    for (const auto& p : r["ports"])
        ports.add({field(p, "name"), field(p, "driver"), field(p, "device"), field(p, "rx_queues"),
                   field(p, "tx_queues"), field(p, "rss")});
    out += fmt::format("\n{}", ports.str());
    return out;
}

std::string format_stats(const json& r) {
    std::string out;
    Table ports({"PORT", "RX PACKETS", "RX BYTES", "TX PACKETS", "MISSED", "ERRORS", "NO MBUF"});
    auto port_row = [&](const json& p) {
        ports.add({field(p, "name"), count(p["rx_packets"]), count(p["rx_bytes"]), count(p["tx_packets"]),
                   count(p["rx_missed"]), count(p["rx_errors"]), count(p["rx_nombuf"])});
    };
    if (r["ports"].is_array())
        for (const auto& p : r["ports"]) port_row(p);
    else
        port_row(r["ports"]);
    out += ports.str() + "\n";
    Table workers({"WORKER", "PACKETS", "BYTES", "FLOWS", "ALERTS", "RING FULL", "WINDOWS LOST", "RECORD RING"});
    auto worker_row = [&](const json& w, const std::string& id) {
        const json& ring = w.contains("record_ring") ? w["record_ring"] : json::object();
        workers.add({id, count(w["packets"]), count(w["bytes"]), count(w["flows_active"]), count(w["alerts"]),
                     count(w["ring_drops"]), count(w["windows_dropped"]),
                     fmt::format("{}/{}", field(ring, "used"), field(ring, "capacity"))});
    };
    if (r["workers"].is_array())
        for (const auto& w : r["workers"]) worker_row(w, field(w, "id"));
    else
        worker_row(r["workers"], "total");
    out += workers.str() + "\n";
    out += "drops:";
    for (const auto& [k, v] : r["drops"].items()) out += fmt::format(" {} {}", k, count(v));
    out += "\n";
    out += fmt::format("mempool: {} of {} mbufs in use\n\n", field(r["mempool"], "in_use"), field(r["mempool"], "total"));
    out += "stages:\n";
    key_values(r["stages"], out, "  ");
    return out;
}

std::string format_posture(const json& r) {
    std::string out;
    for (const auto& d : r["deployments"]) {
        out += fmt::format("== {}{}{}\n", field(d, "name"), d["owner"].is_null() ? "" : fmt::format(" ({})", field(d, "owner")),
                           d.value("blocked", false) ? "  DEACTIVATED" : "");
        out += "open incidents:\n";
        Table inc({"ID", "STATE", "TYPE", "ROLE", "PEER", "DEADLINE"});
        for (const auto& i : d["incidents"])
            inc.add({field(i, "id"), field(i, "state"), field(i, "type"), field(i, "role"), field(i, "peer"), deadline(i)});
        out += inc.empty() ? "  none\n" : inc.str("  ");
        out += "inbound brute force:\n";
        Table bf({"SERVICE", "ATTEMPTS", "FAILED", "SOURCES", "LAST SEEN"});
        for (const auto& b : d["bruteforce_inbound"])
            bf.add({fmt::format("{}/{}", field(b, "service"), field(b, "port")), count(b["attempts"]), count(b["failed"]),
                    count(b["sources"]), field(b, "last_seen")});
        out += bf.empty() ? "  none seen\n" : bf.str("  ");
        out += "management ports reachable from the internet:\n";
        Table mg({"HOST", "PORT", "HANDSHAKES", "SOURCES", "LAST SOURCE", "LAST SEEN"});
        for (const auto& m : d["management_exposed"])
            mg.add({field(m, "host"),
                    m["service"].is_null() ? field(m, "port") : fmt::format("{}/{}", field(m, "port"), field(m, "service")),
                    count(m["handshakes"]), count(m["sources"]), field(m, "last_source"), field(m, "last_seen")});
        out += mg.empty() ? "  none seen\n" : mg.str("  ");
        out += "reflectors:\n";
        Table rf({"HOST", "SERVICE", "PEAK/S", "AMPLIFICATION", "VICTIM", "INCIDENT"});
        for (const auto& x : d["reflectors"])
            rf.add({field(x, "host"), field(x, "service"), count(x["peak_pps"]), field(x, "amplification"),
                    field(x, "victim"), field(x, "incident")});
        out += rf.empty() ? "  none\n" : rf.str("  ");
        out += "exceptions in force:\n";
        Table ex({"ID", "SCOPE", "EXPIRES", "HITS", "REASON"});
        for (const auto& x : d["exceptions"])
            ex.add({field(x, "id"), field(x, "scope_text"), field(x, "expiry"), count(x["hits"]), field(x, "reason")});
        out += ex.empty() ? "  none\n" : ex.str("  ");
        out += "\n";
    }
    return out.empty() ? "no deployments configured\n" : out;
}

std::string format_incident(const json& r) {
    std::string out;
    out += fmt::format("incident {}: {} {} ({}), {} -> {}\n", field(r, "id"), field(r, "type"), field(r, "direction"),
                       field(r, "state"), endpoint(r["source"]), endpoint(r["target"]));
    for (const char* k : {"service", "port", "opened", "first_seen", "last_seen", "deadline", "extended", "exception",
                          "evidence_file"})
        if (r.contains(k) && !r[k].is_null()) out += fmt::format("  {}: {}\n", k, text(r[k]));
    if (r.contains("deadline_in_s") && !r["deadline_in_s"].is_null()) out += fmt::format("  deadline is {}\n", deadline(r));
    if (r.contains("acknowledged") && r["acknowledged"].is_object())
        out += fmt::format("  acknowledged by {} at {}\n", field(r["acknowledged"], "by"), field(r["acknowledged"], "at"));
    if (r.contains("evidence") && r["evidence"].is_object() && !r["evidence"].empty()) {
        out += "  evidence:";
        for (const auto& [k, v] : r["evidence"].items()) out += fmt::format(" {}={}", k, text(v));
        out += "\n";
    }
    if (r.contains("notifications"))
        for (const auto& n : r["notifications"])
            out += fmt::format("  e-mail to {} ({} {}): {}\n", field(n, "recipient"), field(n, "role"),
                               field(n, "deployment"), n["sent"].is_null() ? std::string("not sent yet") : fmt::format("sent {}", field(n, "sent")));
    if (r.contains("events") && !r["events"].empty()) {
        Table ev({"SEQ", "TIME", "KIND", "WHO", "WHY"});
        for (const auto& e : r["events"])
            ev.add({field(e, "seq"), field(e, "timestamp"), field(e, "kind"), field(e, "who"), field(e, "why")});
        out += fmt::format("\n{}", ev.str("  "));
    }
    return out;
}

std::string format_exceptions(const json& rows) {
    Table t({"ID", "SCOPE", "EXPIRES", "ACTIVE", "HITS", "BY", "REASON"});
    for (const auto& x : rows)
        t.add({field(x, "id"), field(x, "scope_text"), field(x, "expiry"), field(x, "active"), count(x["hits"]),
               field(x, "created_by"), field(x, "reason")});
    return t.empty() ? "no exceptions\n" : t.str();
}

} // namespace

std::string format_result(const std::string& command, const json& r) {
    // Done, with something the operator must know (e.g. not on disk yet).
    if (r.is_object() && r.contains("warning") && r["warning"].is_string()) {
        json rest = r;
        rest.erase("warning");
        return format_result(command, rest) + fmt::format("warning: {}\n", r["warning"].get<std::string>());
    }
    if (command == "status") return format_status(r);
    if (command == "stats") return format_stats(r);
    if (command == "posture") return format_posture(r);
    if (command == "incidents list") return incidents_table(r["incidents"]);
    if (command == "incidents show") return format_incident(r);
    if (command == "exception list") return format_exceptions(r["exceptions"]);
    if (command == "exception add" || command == "exception remove") {
        const json& x = r["exception"];
        return fmt::format("exception {}: {} until {}{} ({} hits)\n", field(x, "id"), field(x, "scope_text"),
                           field(x, "expiry"), x.value("active", false) ? "" : ", ended", field(x, "hits"));
    }
    if (r.is_object() && r.contains("incident") && r["incident"].is_object()) {   // ack, extend, resolve, ...
        const json& i = r["incident"];
        return fmt::format("incident {}: {}, deadline {}\n", field(i, "id"), field(i, "state"), deadline(i));
    }
    if (command == "top hosts") {
        Table t({"HOST", "DEPLOYMENT", "PACKETS IN", "BYTES IN", "PACKETS OUT", "BYTES OUT"});
        for (const auto& h : r["hosts"])
            t.add({field(h, "ip"), field(h, "deployment"), count(h["packets_in"]), count(h["bytes_in"]),
                   count(h["packets_out"]), count(h["bytes_out"])});
        return fmt::format("over the last {}\n{}", duration(r.value("span_s", 0.0)), t.empty() ? std::string("no traffic\n") : t.str());
    }
    if (command == "top flows") {
        Table ended({"SOURCE", "DESTINATION", "PROTO", "PACKETS", "BYTES", "END"});
        for (const auto& f : r["ended"])
            ended.add({f.contains("src_port") ? fmt::format("{}:{}", field(f, "src_ip"), field(f, "src_port")) : field(f, "src_ip"),
                       f.contains("dest_port") ? fmt::format("{}:{}", field(f, "dest_ip"), field(f, "dest_port"))
                                               : field(f, "dest_ip"),
                       field(f, "proto"), count(f["packets"]), count(f["bytes"]), field(f, "end")});
        Table pairs({"SOURCE", "TARGET", "PACKETS"});
        for (const auto& p : r["active_pairs"]) pairs.add({field(p, "source"), field(p, "target"), count(p["packets"])});
        return fmt::format("largest ended flows:\n{}busiest pairs, last minute:\n{}",
                           ended.empty() ? std::string("  none yet\n") : ended.str("  "),
                           pairs.empty() ? std::string("  none\n") : pairs.str("  "));
    }
    if (command == "rules reload")
        return fmt::format("rules generation {} is running ({} rules)\n", field(r, "generation"), field(r, "rules"));
    if (command == "rules list") {
        Table t({"SID", "REV", "ACTION", "ALERTS", "MSG"});
        for (const auto& x : r["rules"])
            t.add({field(x, "sid"), field(x, "rev"), field(x, "action"), count(x["alerts"]), field(x, "msg")});
        return fmt::format("generation {}\n{}", field(r, "generation"), t.empty() ? std::string("no rules\n") : t.str());
    }
    if (command == "blocklist") {
        std::string out;
        for (const auto& d : r["deployments"])
            out += fmt::format("{}: deactivated (incidents {})\n", field(d, "deployment"), field(d, "incidents"));
        return out.empty() ? "no deployment is deactivated\n" : out;
    }
    if (command == "shutdown") return "stopping; the report is being written\n";
    if (command == "config show") return r.dump(2) + "\n";
    std::string out;
    if (r.is_object()) key_values(r, out);
    else out = r.dump(2) + "\n";
    return out;
}

} // namespace sg::ctl
