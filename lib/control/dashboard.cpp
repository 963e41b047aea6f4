#include "control/dashboard.hpp"

namespace sg::control {

namespace {

constexpr const char* kHead = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Safeguard</title>
<style>
  :root { --bg: #f4f5f7; --card: #fff; --ink: #1d2330; --muted: #5b6475; --line: #dde1e8;
          --red: #b42318; --amber: #b54708; --green: #067647; --blue: #1849a9; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); }
  header { background: #101828; color: #fff; padding: 12px 20px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: #cfd4dc; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  .rates { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
  .tile, .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  .tile .v { font-size: 22px; font-weight: 600; }
  .tile .k { color: var(--muted); }
  h2 { font-size: 16px; margin: 0 0 8px; }
  h3 { font-size: 13px; margin: 12px 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  .deps { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
  .state { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eef2f6; }
  .s-open, .s-notified { background: #fef0c7; color: var(--amber); }
  .s-deadline_set, .s-extended, .s-deactivated { background: #fee4e2; color: var(--red); }
  .s-excepted, .s-reactivated { background: #d1e9ff; color: var(--blue); }
  .s-resolved { background: #dcfae6; color: var(--green); }
  .none { color: var(--muted); font-style: italic; }
  .blocked { color: var(--red); font-weight: 600; }
  .late { color: var(--red); font-weight: 600; }
  footer { color: var(--muted); padding: 0 20px 16px; }
</style>
</head>
<body>
<header><h1>Safeguard</h1><span class="meta" id="summary"></span><span class="meta" id="updated"></span></header>
<main>
  <section class="rates" id="rates"></section>
  <section class="card"><h2>Incidents</h2><div id="incidents"></div></section>
  <section><h2>Posture</h2><div class="deps" id="posture"></div></section>
</main>
<footer>Refreshes every 2 s from <code>/api/dashboard</code>. Metrics: <code>/metrics</code>.</footer>
<noscript><p>This page renders with JavaScript; the same data is at /api/dashboard.</p></noscript>
<script type="application/json" id="initial">)HTML";

constexpr const char* kTail = R"HTML(</script>
<script>
"use strict";
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function fmtNum(n) {
  if (n === null || n === undefined) return "-";
  const units = ["", "k", "M", "G", "T"];
  let i = 0; let v = Number(n);
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return (i ? v.toFixed(1) : String(Math.round(v))) + units[i];
}
function fmtDur(s) {
  s = Math.abs(Math.round(s));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d) return d + "d " + h + "h";
  if (h) return h + "h " + m + "m";
  if (m) return m + "m " + (s % 60) + "s";
  return (s % 60) + "s";
}
function endpoint(e) {
  if (!e) return "*";
  if (e.deployment) return e.deployment;
  return e.ip || "spoofed or distributed";
}
function deadline(inc) {
  if (inc.deadline_in_s === null || inc.deadline_in_s === undefined) return el("span", "none", "none");
  if (inc.deadline_in_s < 0) return el("span", "late", "passed " + fmtDur(inc.deadline_in_s) + " ago");
  return el("span", "", "in " + fmtDur(inc.deadline_in_s));
}
function table(headers, rows, empty) {
  if (!rows.length) return el("div", "none", empty);
  const t = el("table");
  const hr = el("tr");
  headers.forEach(h => hr.appendChild(el("th", "", h)));
  t.appendChild(hr);
  rows.forEach(r => {
    const tr = el("tr");
    r.forEach(c => { const td = el("td"); if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? "-" : String(c); tr.appendChild(td); });
    t.appendChild(tr);
  });
  return t;
}
function state(s) { return el("span", "state s-" + s, s); }
function render(d) {
  const st = d.status || {};
  document.getElementById("summary").textContent =
    (st.mode || "?") + " mode, " + (st.ports || []).length + " port(s), " + (st.workers || 0) + " worker(s), rules generation " +
    ((st.rules || {}).generation || 0) + ", up " + fmtDur(st.uptime_s || 0);
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  const r = d.rates || {};
  const rates = document.getElementById("rates");
  rates.replaceChildren();
  [["packets/s", fmtNum(r.packets_per_s)], ["bits/s", fmtNum(r.bits_per_s)], ["alerts/s", fmtNum(r.alerts_per_s)],
   ["drops/s", fmtNum(r.drops_per_s)], ["open incidents", (d.incidents || []).filter(i => i.state !== "resolved").length]]
    .forEach(([k, v]) => { const t = el("div", "tile"); t.appendChild(el("div", "v", v)); t.appendChild(el("div", "k", k)); rates.appendChild(t); });
  const inc = (d.incidents || []).map(i => [String(i.id), state(i.state), i.type + (i.service ? " (" + i.service + ")" : ""),
    i.direction, endpoint(i.source), endpoint(i.target), deadline(i), i.last_seen]);
  const incidents = document.getElementById("incidents");
  incidents.replaceChildren(table(["id", "state", "type", "direction", "source", "target", "deadline", "last seen"], inc, "no incidents"));
  const posture = document.getElementById("posture");
  posture.replaceChildren();
  ((d.posture || {}).deployments || []).forEach(dep => {
    const c = el("div", "card dep");
    const h = el("h2", "", dep.name);
    if (dep.blocked) h.appendChild(el("span", "blocked", "  (deactivated)"));
    c.appendChild(h);
    if (dep.owner) c.appendChild(el("div", "none", dep.owner));
    c.appendChild(el("h3", "", "open incidents"));
    c.appendChild(table(["id", "state", "type", "role", "peer", "deadline"],
      (dep.incidents || []).map(i => [String(i.id), state(i.state), i.type, i.role, i.peer, deadline(i)]), "none"));
    c.appendChild(el("h3", "", "inbound brute force"));
    c.appendChild(table(["service", "attempts", "failed", "sources", "last seen"],
      (dep.bruteforce_inbound || []).map(b => [b.service + " (" + b.port + ")", fmtNum(b.attempts), fmtNum(b.failed), fmtNum(b.sources), b.last_seen]), "none seen"));
    c.appendChild(el("h3", "", "management ports reachable from the internet"));
    c.appendChild(table(["host", "port", "handshakes", "sources", "last seen"],
      (dep.management_exposed || []).map(m => [m.host, m.port + (m.service ? " " + m.service : ""), fmtNum(m.handshakes), fmtNum(m.sources), m.last_seen]), "none seen"));
    c.appendChild(el("h3", "", "reflectors"));
    c.appendChild(table(["host", "service", "peak/s", "amplification", "last seen"],
      (dep.reflectors || []).map(x => [x.host, x.service, fmtNum(x.peak_pps), x.amplification, x.last_seen]), "none"));
    c.appendChild(el("h3", "", "exceptions in force"));
    c.appendChild(table(["id", "scope", "reason", "expires", "hits"],
      (dep.exceptions || []).map(x => [String(x.id), x.scope_text, x.reason, x.expiry, fmtNum(x.hits)]), "none"));
    posture.appendChild(c);
  });
}
let data = JSON.parse(document.getElementById("initial").textContent);
render(data);
async function refresh() {
  try {
    const res = await fetch("/api/dashboard", {cache: "no-store"});
    if (res.ok) { data = await res.json(); render(data); }
  } catch (e) {
    document.getElementById("updated").textContent = "cannot reach the daemon: " + e;
  }
}
setInterval(refresh, 2000);
</script>
</body>
</html>
)HTML";

} // namespace

std::string script_safe_json(const nlohmann::json& data) {
    const std::string text = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string out;
    out.reserve(text.size() + 64);
    for (const char c : text) {
        switch (c) {
        case '<': out += "\\u003c"; break;
        case '>': out += "\\u003e"; break;
        case '&': out += "\\u0026"; break;
        default: out += c;
        }
    }
    return out;
}

std::string render_dashboard(const nlohmann::json& data) {
    std::string page = kHead;
    page += script_safe_json(data);
    page += kTail;
    return page;
}

} // namespace sg::control
