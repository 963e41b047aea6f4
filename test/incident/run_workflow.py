#!/usr/bin/python3
"""End to end: captures replayed through the real `safeguard replay` with a
state directory, a real SMTP relay (aiosmtpd on 127.0.0.1) and an
enforcement hook; the incident workflow checked from the outside (the relay's
mailbox, the forwarded capture, the evidence capture, the report, eve.json,
the hook's calls).

Scenarios (captures from test/incident/gen_workflow.py and
scripts/gen-attack-pcaps.py; deadline 10 s of packet time):
  deactivation   an outbound scan from web: e-mail with evidence,
                 recommendations and deadline; the scan goes on past the
                 deadline: web deactivated (its packets missing from the
                 inline output, counted, hook run); reactivated at +45 s by a
                 scripted action (the scan stopped at +41 s): web's traffic
                 forwarded again, resolved after the quiet period. 1 and 2
                 workers give the same incidents.
  exception      the same, with an exception declared at +5 s: no
                 deactivation, every packet forwarded, the exception's hits
                 counted
  internal       an RDP brute force from web to db: both owners notified,
                 web as the source (with a deadline), db as the target
  kill -9        killed while the relay holds the e-mail's DATA (before the
                 deadline), restarted on the rest of the traffic: one e-mail,
                 the deadline fires after the restart; killed again while the
                 deactivation hook runs, restarted: the blocklist is back at
                 once, nothing is sent twice, the state is intact
  relay down     the e-mail stays in the outbox, no deadline is set; the relay
                 comes back, the next run delivers it (once) and the deadline
                 starts then

Ends with "incident workflow: N passed, M failed".

    test/incident/run_workflow.py [--safeguard build/app/safeguard/safeguard]
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # test/e2e.py
from e2e import Checks, free_port  # noqa: E402

check = Checks()

ROOT = Path(__file__).resolve().parents[2]
class Relay:
    """An SMTP relay that keeps what it accepts; it can hold DATA (no answer)
    until released."""

    def __init__(self, port):
        self.port = port
        self.received = []  # (rcpt_tos, bytes)
        self.hold = False
        self.holding = threading.Event()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        if self.hold:
            self.holding.set()
            while self.hold:
                await asyncio.sleep(0.02)
            return "451 aborted"
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.hold = False
        if self.controller:
            self.controller.stop()
            self.controller = None

    def messages(self):
        return [(rcpt, email.message_from_bytes(b, policy=email.policy.default)) for rcpt, b in self.received]


HOOK = """#!/bin/sh
# Test hook: records each call (arguments, then stdin); holds while DIR/hold exists.
dir=$(dirname "$0")
mkdir -p "$dir/calls"
n=$(ls "$dir/calls" | wc -l)
{ echo "$@"; cat; } > "$dir/calls/$n.txt"
echo $$ > "$dir/hook.pid"
while [ -e "$dir/hold" ]; do sleep 0.05; done
echo "did $1 $2"
"""


class Env:
    """One scenario's folder: config, state directory, hook, outputs."""

    def __init__(self, base, name, safeguard, smtp_port, extra_policy=""):
        self.dir = Path(base) / name
        self.dir.mkdir(parents=True)
        self.safeguard = safeguard
        self.state = self.dir / "state"
        self.hook = self.dir / "hook" / "hook.sh"
        self.hook.parent.mkdir()
        self.hook.write_text(HOOK)
        self.hook.chmod(0o755)
        self.config = self.dir / "config.yaml"
        self.config.write_text(f"""deployments:
  - name: web
    owner: web-owner@example.com
    prefixes: [10.1.0.0/16]
  - name: db
    owner: db-owner@example.com
    prefixes: [10.2.0.0/16]
policy: {{deadline: 10s, quiet_period: 20s, evidence_packets: 12{extra_policy}}}
notify: {{smtp_url: "smtp://127.0.0.1:{smtp_port}", from: safeguard@provider.example}}
enforcement: {{hook: {self.hook}, hook_timeout: 60s}}
state_dir: {self.state}
""")
        self.runs = 0

    def hook_calls(self):
        d = self.hook.parent / "calls"
        if not d.exists():
            return []
        return [(d / f).read_text() for f in sorted(os.listdir(d), key=lambda n: int(n.split(".")[0]))]

    def args(self, captures, workers=1, actions=None, inline=True):
        self.runs += 1
        n = self.runs
        out = {"report": self.dir / f"report{n}.json", "eve": self.dir / f"eve{n}.json",
               "tx": self.dir / f"out{n}.pcap"}
        cmd = [self.safeguard, "replay", "--config", str(self.config), "--workers", str(workers),
               "--report", str(out["report"]), "--eve", str(out["eve"])]
        if inline:
            cmd += ["--inline-out", str(out["tx"])]
        if actions:
            path = self.dir / f"actions{n}.yaml"
            path.write_text(actions)
            cmd += ["--actions", str(path)]
        return cmd + [str(c) for c in captures], out

    def replay(self, captures, **kw):
        cmd, out = self.args(captures, **kw)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-2000:]}")
        return load(out)

    def start(self, captures, **kw):
        cmd, out = self.args(captures, **kw)
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), out


def load(out):
    report = json.loads(Path(out["report"]).read_text())
    eve = [json.loads(line) for line in Path(out["eve"]).read_text().splitlines() if line.strip()]
    return {"report": report, "eve": eve, "tx": out["tx"]}


def ts(text):
    """eve/report timestamp -> seconds since the epoch."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def packets(path):
    """(time, src, dst, sport, dport, seq) of every TCP packet."""
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src",
                          "-e", "ip.dst", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.seq_raw",
                          "-e", "tcp.flags"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split("\t")
        rows.append((float(f[0]), *f[1:]))
    return rows


def key(p):
    return p[1:]


def is_web(p):
    return p[1].startswith("10.1.") or p[2].startswith("10.1.")


def event_kinds(incident):
    return [e["kind"] for e in incident["events"]]


def first_event(incident, kind):
    return next((e for e in incident["events"] if e["kind"] == kind), None)


def text_of(msg):
    return msg.get_body(("plain",)).get_content()


def capinfos_count(path):
    out = subprocess.run(["capinfos", "-c", "-M", str(path)], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "Number of packets" in line:
            return int(line.split(":")[1])
    return -1


# --------------------------------------------------------------------------- scenarios

def replay_with_relay(base, name, safeguard, captures, **kw):
    """One replay in a fresh scenario folder with a relay up: (env, relay, result)."""
    port = free_port()
    relay = Relay(port)
    relay.start()
    try:
        env = Env(base, name, safeguard, port)
        return env, relay, env.replay(captures, **kw)
    finally:
        relay.stop()


def scenario_deactivation(base, safeguard, caps):
    print("== deactivation: outbound scan -> e-mail -> deadline -> deactivated -> reactivated")
    env, relay, r = replay_with_relay(base, "deactivation", safeguard, [caps / "scan-long.pcap"], actions="""
- at: 45s
  do: reactivate
  incident: 1
  who: operator@provider.example
  reason: the owner rebuilt the machine
""")
    rep = r["report"]
    incs = rep["incidents"]
    check("one incident, outbound port scan from web", len(incs) == 1 and incs[0]["type"] == "port_scan"
          and incs[0]["direction"] == "outbound" and incs[0]["source"]["deployment"] == "web", incs[:1])
    inc = incs[0]
    kinds = event_kinds(inc)
    order = ["opened", "notify_requested", "notification_sent", "deadline_set", "deactivated", "hook_ran",
             "reactivated", "hook_ran", "resolved"]
    it = iter(kinds)
    check("lifecycle in order: " + " > ".join(order), all(k in it for k in order), kinds)

    msgs = relay.messages()
    check("the relay got one e-mail, to web's owner", len(msgs) == 1 and msgs[0][0] == ["web-owner@example.com"],
          [m[0] for m in msgs])
    if msgs:
        m = msgs[0][1]
        text = text_of(m)
        deadline = first_event(inc, "deadline_set")["detail"]["deadline"]
        check("it is the incident's message (Message-ID recorded)",
              m["Message-ID"] == inc["notifications"][0]["message_id"] and inc["notifications"][0]["sent"],
              (m["Message-ID"], inc["notifications"]))
        check("e-mail: what was seen", "port_scan" in text and "10.1.0.101 (deployment web)" in text
              and "198.51.100.150" in text and "Distinct ports" in text, text[:600])
        check("e-mail: recommendations for a compromised scanner", "compromised" in text
              and "Build a new, hardened machine" in text, text)
        check("e-mail: the deadline and how to answer", f"DEADLINE: {deadline}" in text
              and "safeguardctl extend 1" in text and "describe the normal pattern" in text, text)
        check("e-mail: names the evidence capture", "evidence/incident-1.pcap" in text)
        check("HTML part with the red banner", "#c62828" in m.get_body(("html",)).get_content())

    ev_file = inc["evidence_file"]
    ev_packets = packets(ev_file) if ev_file and os.path.exists(ev_file) else []
    check("evidence capture: the first 12 packets between the scanner and its target",
          len(ev_packets) == 12 and all({p[1], p[2]} == {"10.1.0.101", "198.51.100.150"} for p in ev_packets),
          (ev_file, ev_packets[:3]))
    check("the .eml is kept in the outbox's sent/", len(os.listdir(env.state / "outbox" / "sent")) == 1)

    deact = ts(first_event(inc, "deactivated")["timestamp"])
    react = ts(first_event(inc, "reactivated")["timestamp"])
    deadline_at = ts(first_event(inc, "deadline_set")["detail"]["deadline"])
    check("deactivated once the deadline passed with the scan going on", deadline_at <= deact < deadline_at + 1.5,
          (deadline_at, deact))
    rx = packets(caps / "scan-long.pcap")
    tx = packets(r["tx"])
    txkeys = {key(p) for p in tx}
    blocked = [p for p in rx if is_web(p) and deact <= p[0] < react]
    check("deactivated: none of web's packets forwarded", not any(key(p) in txkeys for p in blocked)
          and len(blocked) > 100, len(blocked))
    check("blocked packets counted", rep["runtime"]["blocked"] == len(blocked),
          (rep["runtime"]["blocked"], len(blocked)))
    others = [p for p in rx if not (is_web(p) and deact <= p[0] < react)]
    check("every other packet forwarded (db throughout, web before and after)",
          all(key(p) in txkeys for p in others) and len(tx) == len(others), (len(tx), len(others)))
    after = [p for p in rx if is_web(p) and p[0] >= react]
    check("reactivated: web's traffic forwarded again", len(after) > 50 and all(key(p) in txkeys for p in after),
          len(after))

    calls = env.hook_calls()
    check("hook run on deactivation and reactivation with the incident on stdin",
          len(calls) == 2 and calls[0].startswith("deactivate web") and calls[1].startswith("reactivate web")
          and '"prefixes":["10.1.0.0/16"]' in calls[0] and '"id":1' in calls[0], [c[:80] for c in calls])
    hooks = [e for e in inc["events"] if e["kind"] == "hook_ran"]
    check("hook results in the audit trail", len(hooks) == 2 and all(h["detail"]["ok"] for h in hooks)
          and "did deactivate web" in hooks[0]["detail"]["output"], hooks)
    eve_events = [e for e in r["eve"] if e["event_type"] == "incident"]
    check("an eve incident line per event", [e["event"]["seq"] for e in eve_events] ==
          [e["seq"] for e in inc["events"]], (len(eve_events), len(inc["events"])))

    # The same capture with two workers: the same incident, the same drops.
    _, _, r2 = replay_with_relay(base, "deactivation-2w", safeguard, [caps / "scan-long.pcap"], workers=2,
                                 actions="""
- {at: 45s, do: reactivate, incident: 1, who: operator@provider.example, reason: the owner rebuilt the machine}
""")

    def comparable(incidents):
        out = json.loads(json.dumps(incidents))
        for i in out:
            i.pop("evidence_file", None)
            for e in i["events"]:
                if e["kind"] in ("hook_ran", "evidence_saved"):
                    e.pop("detail", None)
                    e.pop("why", None)
        return out

    check("2 workers: the same incidents, the same blocked packets",
          comparable(r2["report"]["incidents"]) == comparable(incs)
          and r2["report"]["runtime"]["blocked"] == rep["runtime"]["blocked"],
          (r2["report"]["runtime"]["blocked"], rep["runtime"]["blocked"]))


def scenario_exception(base, safeguard, caps):
    print("== exception: declared before the deadline, no deactivation")
    env, relay, r = replay_with_relay(base, "exception", safeguard, [caps / "scan-long.pcap"], actions="""
- at: 5s
  do: exception
  who: web-owner@example.com
  deployment: web
  type: port_scan
  direction: outbound
  peer: 198.51.100.150/32
  for: 1h
  reason: weekly vulnerability scan of our own perimeter host
""")
    rep = r["report"]
    inc = rep["incidents"][0] if rep["incidents"] else {}
    kinds = event_kinds(inc) if inc else []
    check("one incident, excepted before its deadline (resolved once the scan stopped)",
          len(rep["incidents"]) == 1 and inc.get("exception") == 1 and "excepted" in kinds
          and kinds.index("excepted") > kinds.index("deadline_set") and inc.get("state") == "resolved",
          kinds)
    check("no deactivation, no hook", "deactivated" not in event_kinds(inc) and not env.hook_calls()
          and rep["runtime"]["blocked"] == 0)
    check("every packet forwarded", capinfos_count(r["tx"]) == capinfos_count(caps / "scan-long.pcap"))
    ex = rep["exceptions"]
    check("the exception: scoped, audited, with hits", len(ex) == 1 and ex[0]["hits"] > 5
          and ex[0]["scope"]["peer"] == "198.51.100.150/32" and ex[0]["created_by"] == "web-owner@example.com"
          and ex[0]["reason"].startswith("weekly"), ex)
    check("the owner was told before the exception (one e-mail)", len(relay.received) == 1)


def scenario_internal(base, safeguard, caps):
    print("== internal: both owners notified, each with its role")
    _, relay, r = replay_with_relay(base, "internal", safeguard, [caps / "bruteforce-rdp-internal.pcap"],
                                    inline=False)
    incs = r["report"]["incidents"]
    check("one internal brute-force incident web -> db", len(incs) == 1 and incs[0]["direction"] == "internal"
          and incs[0]["source"]["deployment"] == "web" and incs[0]["target"]["deployment"] == "db",
          [(i["type"], i["direction"]) for i in incs])
    msgs = {tuple(rcpt): m for rcpt, m in relay.messages()}
    src = msgs.get(("web-owner@example.com",))
    dst = msgs.get(("db-owner@example.com",))
    check("two e-mails, one per owner", len(relay.received) == 2 and src is not None and dst is not None,
          list(msgs))
    if src is not None and dst is not None:
        check("web's owner: its machine attacks, with a deadline", src["X-Safeguard-Role"] == "source"
              and "is attacking others" in text_of(src) and "DEADLINE" in text_of(src))
        check("db's owner: its machine is attacked, no deadline", dst["X-Safeguard-Role"] == "target"
              and "is being attacked" in text_of(dst) and "DEADLINE" not in text_of(dst)
              and "3389" in text_of(dst))
    roles = sorted((n["role"], n["deployment"]) for n in incs[0]["notifications"]) if incs else []
    check("the incident records both notifications", roles == [("source", "web"), ("target", "db")], roles)


def wait_for(cond, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def scenario_kill(base, safeguard, caps):
    print("== kill -9: mid-delivery, then mid-deactivation; restarts lose and repeat nothing")
    port = free_port()
    relay = Relay(port)
    relay.start()
    try:
        env = Env(base, "kill", safeguard, port)
        # 1. The relay holds the e-mail's DATA: the replay waits for the
        #    delivery (packet time stands still); kill it there.
        relay.hold = True
        proc, _ = env.start([caps / "scan-part1.pcap"])
        held = relay.holding.wait(30)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        relay.hold = False
        check("killed while the relay held the e-mail", held)
        check("nothing was accepted before the kill", len(relay.received) == 0)
        # 2. Restart on the rest of the traffic: the e-mail goes out once,
        #    the deadline runs from then and fires while the scan goes on.
        #    The hook holds: kill again while it runs.
        (env.hook.parent / "hold").touch()
        proc, _ = env.start([caps / "scan-part2.pcap"])
        hooked = wait_for(lambda: (env.hook.parent / "hook.pid").exists(), 30)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if hooked:
            try:
                os.killpg(int((env.hook.parent / "hook.pid").read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        (env.hook.parent / "hold").unlink()
        check("killed again while the deactivation hook ran", hooked)
        check("the e-mail was delivered once after the first restart", len(relay.received) == 1,
              len(relay.received))
        # 3. Restart once more, on the same second half: the journal has it all.
        r = env.replay([caps / "scan-part2.pcap"])
    finally:
        relay.stop()
    rep = r["report"]
    incs = rep["incidents"]
    inc = incs[0] if incs else {"events": []}
    kinds = event_kinds(inc)
    check("one incident, still deactivated", len(incs) == 1 and inc["state"] == "deactivated", kinds)
    check("its history survived both kills",
          kinds.count("opened") == 1 and kinds.count("notification_sent") == 1 and kinds.count("deactivated") == 1,
          kinds)
    sent = first_event(inc, "notification_sent")
    deact = first_event(inc, "deactivated")
    check("the deadline fired after the first restart (packet time of the second half)",
          sent is not None and deact is not None and ts(sent["timestamp"]) >= ts("2026-05-28T20:26:55.000000+0000")
          and ts(deact["timestamp"]) >= ts(sent["timestamp"]) + 10, (sent, deact))
    check("no e-mail twice", len(relay.received) == 1 and rep["runtime"]["incidents"]["messages_sent"] == 0,
          (len(relay.received), rep["runtime"]["incidents"]))
    rx = packets(caps / "scan-part2.pcap")
    web = [p for p in rx if is_web(p)]
    check("the blocklist is back from the first packet: every web packet dropped",
          rep["runtime"]["blocked"] == len(web) and capinfos_count(r["tx"]) == len(rx) - len(web),
          (rep["runtime"]["blocked"], len(web)))
    hooks = [e for e in inc["events"] if e["kind"] == "hook_ran"]
    check("the hook run the kill interrupted runs again after the restart",
          [c.split("\n")[0] for c in env.hook_calls()] == ["deactivate web", "deactivate web"]
          and len(hooks) == 1 and hooks[0]["detail"]["ok"], ([c[:20] for c in env.hook_calls()], hooks))


def scenario_relay_down(base, safeguard, caps):
    print("== relay down: the outbox keeps the e-mail until the relay is back")
    port = free_port()
    env = Env(base, "relay-down", safeguard, port)
    r1 = env.replay([caps / "scan-part1.pcap"])
    inc = r1["report"]["incidents"][0]
    c1 = r1["report"]["runtime"]["incidents"]
    pending = os.listdir(env.state / "outbox" / "pending")
    check("the e-mail stays in the outbox", c1["messages_sent"] == 0 and c1["delivery_failures"] >= 1
          and any(p.endswith(".eml") for p in pending), (c1, pending))
    check("nobody told: no deadline, no deactivation", inc["state"] == "open" and inc["deadline"] is None
          and r1["report"]["runtime"]["blocked"] == 0, inc["state"])
    relay = Relay(port)
    relay.start()
    try:
        r2 = env.replay([caps / "scan-part2.pcap"])
    finally:
        relay.stop()
    inc2 = r2["report"]["incidents"][0]
    check("the relay is back: the e-mail arrives once", len(relay.received) == 1
          and relay.messages()[0][1]["Message-ID"] == inc["notifications"][0]["message_id"], len(relay.received))
    check("the outbox is empty, the .eml in sent/", not [p for p in os.listdir(env.state / "outbox" / "pending")
                                                         if p.endswith(".eml")]
          and len(os.listdir(env.state / "outbox" / "sent")) == 1)
    sent = first_event(inc2, "notification_sent")
    check("the deadline starts at the delivery", inc2["deadline"] is not None and sent is not None
          and ts(first_event(inc2, "deadline_set")["detail"]["deadline"]) == ts(sent["timestamp"]) + 10,
          (inc2["deadline"], sent))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--safeguard", default=str(ROOT / "build" / "app" / "safeguard" / "safeguard"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="sg-workflow-")
    caps = Path(base) / "captures"
    subprocess.run([sys.executable, str(ROOT / "test" / "incident" / "gen_workflow.py"), str(caps)], check=True)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-attack-pcaps.py"), str(caps),
                    "bruteforce-rdp-internal"], check=True)
    for scenario in (scenario_deactivation, scenario_exception, scenario_internal, scenario_kill,
                     scenario_relay_down):
        try:
            scenario(base, args.safeguard, caps)
        except Exception as e:  # a crashed scenario is one failure, the others still run
            check(f"{scenario.__name__} ran", False, repr(e))
    if args.keep:
        print(f"work folder: {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return check.summary("incident workflow")


if __name__ == "__main__":
    sys.exit(main())
