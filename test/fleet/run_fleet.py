#!/usr/bin/python3
"""The fleet end to end (docs/fleet.md): a three-node NATS JetStream cluster,
two `safeguard run` appliances and two `safeguard aggregate` aggregators,
all on the loopback of a network namespace made for the test, with a real
SMTP relay (aiosmtpd) for the owners' e-mails.

The attack (test/fleet/gen_fleet.py, 42 s): a SYN flood on web's 10.1.0.10
from 200 sources split by source between the appliances, and db's 10.2.0.5
sweeping port 23 across 400 addresses split by target. Each appliance sees
two thirds of a threshold (test/fleet/thresholds.yaml); only the merged
view crosses them. The halves are sent at the captures' speed into the
appliances' af_packet ports (veth pairs) at the same moment.

During the run: one NATS node is killed (SIGKILL), then the active
aggregator (SIGKILL) once the flood's incident is notified; the standby
takes over, and the node comes back. The sweep's incident opens under the
new aggregator, its deadline (policy.deadline 2s) passes while the sweep
goes on, and db is deactivated: both appliances drop db's traffic from
then on. Then two of the three nodes are killed (no quorum: the bus is
away) and restarted: the appliances spool their windows and catch up.

Checks:
  - the fleet opens exactly one incident per attack: the flood's with the
    union of top contributors (sources of both halves, ~200 distinct), the
    sweep's with ~400 targets; no appliance attributes either on its own;
  - nothing lost: every window each appliance counted is in the stream
    once, the active aggregator consumed the stream to its end, no window
    arrived late; the standby took over the incidents (same ids) and the
    cursor;
  - no duplicate e-mail: one per owner and incident, distinct Message-IDs;
  - the deactivation: in the aggregator's blocklist and the decisions
    bucket, applied by both appliances (their status), whose workers count
    blocked packets;
  - safeguardctl against the aggregator: status (text), incidents, posture,
    exception add/list, blocklist.

Ends with "fleet: N passed, M failed". Needs root (a network namespace);
without it, or without nats-server, says why and reports 0 passed, 0 failed.

    test/fleet/run_fleet.py [--safeguard build/app/safeguard/safeguard]
                            [--safeguardctl build/app/safeguardctl/safeguardctl] [--keep]
"""

import argparse
import email
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import fleet_env  # noqa: E402
import gen_fleet  # noqa: E402
from e2e import Checks, free_port  # noqa: E402

check = Checks()
NETNS = "sgfleet-run"
SITE = "t1"


class Inside(fleet_env.Netns):
    """The namespace this process already runs in (made by the outer run)."""

    def __init__(self, name, pairs):
        self.name = name
        self.pairs = pairs
        self.offloads = {}
        self.created = False


class Relay:
    """An SMTP relay that keeps every message it accepts."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "message_id": msg["Message-ID"],
                                  "incident": msg["X-Safeguard-Incident"], "role": msg["X-Safeguard-Role"],
                                  "subject": msg["Subject"], "at": time.time()})
        return "250 OK"

    def start(self):
        from aiosmtpd.controller import Controller
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        return self.controller.port

    def stop(self):
        if self.controller:
            self.controller.stop()

    def snapshot(self):
        with self.lock:
            return list(self.messages)


class Aggregator:
    def __init__(self, safeguard, ctl, base, name, urls, smtp_port, thresholds):
        self.name = name
        self.dir = base / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sock = str(self.dir / "control.sock")
        self.log = self.dir / "aggregate.log"
        self.safeguard = safeguard
        self.ctl = ctl
        self.state = Path("/dev/shm") / f"sgfleet-{os.getpid()}-{name}"
        servers = json.dumps(urls.split(","))
        self.config = self.dir / "config.yaml"
        self.config.write_text(f"""# aggregator {name}, written by test/fleet/run_fleet.py
eal: {json.dumps(fleet_env.eal_args("sg-" + name))}
{fleet_env.DEPLOYMENTS}detect: {{thresholds: {thresholds}}}
policy: {{deadline: 2s, quiet_period: 30s}}
notify: {{smtp_url: "smtp://127.0.0.1:{smtp_port}", from: safeguard@provider.example}}
state_dir: {self.state}
control: {{socket: {self.sock}}}
outputs: {{report: {self.dir / 'report.json'}, eve: {self.dir / 'eve.json'}}}
fleet:
  servers: {servers}
  site: {SITE}
  name: {name}
  appliances: [a, b]
  replicas: 3
  lease: 10s
  appliance_timeout: 30s
""")
        self.proc = None

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.safeguard, "aggregate", "--config", str(self.config)], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, needle, timeout=30):
        deadline = time.time() + timeout
        while needle not in self.text():
            if self.proc.poll() is not None or time.time() > deadline:
                return False
            time.sleep(0.1)
        return True

    def ctl_json(self, *args, timeout=15):
        p = subprocess.run([self.ctl, "--socket", self.sock, "--json", *args], capture_output=True, text=True,
                           timeout=timeout)
        try:
            out = json.loads(p.stdout)
        except ValueError:
            return None
        return out.get("result") if out.get("ok") else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.state, ignore_errors=True)


def appliance_ctl(ctl, app, *args):
    p = subprocess.run([ctl, "--socket", str(app.dir / "control.sock"), "--json", *args], capture_output=True,
                       text=True, timeout=15)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        return None
    return out.get("result") if out.get("ok") else None


def worker_counters(ctl, app):
    """The appliance's worker counters (one worker), through its control socket."""
    stats = appliance_ctl(ctl, app, "stats") or {}
    workers = stats.get("workers") or [{}]
    return workers[0]


def write_after(path):
    """What db and web send after the deactivation: 100 SYNs from db's
    10.2.0.5 (all to be dropped) and 50 from web's 10.1.0.20 (forwarded),
    over one second. Returns (db packets, web packets)."""
    cap = gen_fleet.attack.Capture()
    t0 = gen_fleet.T0
    for k in range(100):
        seg = gen_fleet.attack.tcp_segment("10.2.0.5", "192.0.2.77", 40000 + k, 443, 1000 + k, 0, gen_fleet.attack.SYN)
        cap.ip(t0 + k / 150, "10.2.0.5", "192.0.2.77", 6, seg)
    for k in range(50):
        seg = gen_fleet.attack.tcp_segment("10.1.0.20", "192.0.2.78", 41000 + k, 443, 2000 + k, 0, gen_fleet.attack.SYN)
        cap.ip(t0 + k / 75, "10.1.0.20", "192.0.2.78", 6, seg)
    cap.write(path)
    return 100, 50


def wait_until(fn, timeout, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


def incidents(agg):
    got = agg.ctl_json("incidents", "list")
    return got["incidents"] if got else None


def scenario(args, base):
    info = gen_fleet.generate(base / "captures")
    thresholds = HERE / "thresholds.yaml"
    ns = Inside(NETNS, [("sga0", "sga1"), ("sgb0", "sgb1")])
    relay = Relay()
    smtp_port = relay.start()
    cluster = fleet_env.NatsCluster(base / "nats", 3)
    aggs, apps = [], []
    try:
        cluster.start()
        leader = cluster.wait_ready(30)
        check(f"three nats-server nodes clustered with JetStream (meta leader {leader})", bool(leader))
        urls = cluster.urls()
        a1 = Aggregator(args.safeguard, args.safeguardctl, base, "agg-1", urls, smtp_port, thresholds)
        a2 = Aggregator(args.safeguard, args.safeguardctl, base, "agg-2", urls, smtp_port, thresholds)
        aggs = [a1, a2]
        a1.start()
        check("agg-1 takes the lease and acts", a1.wait_for("is the active aggregator", 60), a1.text()[-1500:])
        a2.start()
        check("agg-2 stands by", a2.wait_for("standing by for the lease", 60), a2.text()[-1500:])
        st = a2.ctl_json("status")
        check("agg-2's status: standby, agg-1 active", st and st["role"] == "standby" and st["active"] == "agg-1", st)
        cpus = sorted(os.sched_getaffinity(0))
        other = cpus[1 % len(cpus)]
        fleet = lambda name: (f"control: {{socket: {base / name / 'control.sock'}}}\n"  # noqa: E731
                              f"fleet:\n  servers: {json.dumps(urls.split(','))}\n  site: {SITE}\n  name: {name}\n"
                              f"  replicas: 3\n")
        apps = [fleet_env.Appliance(ns, args.safeguard, base, "a", "sga1", thresholds, cpus=(cpus[0], other),
                                    extra=fleet("a")),
                fleet_env.Appliance(ns, args.safeguard, base, "b", "sgb1", thresholds, cpus=(other, cpus[0]),
                                    extra=fleet("b"))]
        for app in apps:
            app.start()
        check("both appliances running with fleet: (publishing to the cluster)", True)

        at = time.time() + 2
        senders = [fleet_env.send_pcap(ns, "sga0", info["half_a"]["path"], at=at),
                   fleet_env.send_pcap(ns, "sgb0", info["half_b"]["path"], at=at)]

        # One NATS node down while the appliances publish.
        time.sleep(max(0.0, at + 8 - time.time()))
        cluster.kill(0)
        check("t+8 s: nats node 0 killed (SIGKILL)", not cluster.running(0))

        # The flood's incident, notified, on the active aggregator; then it dies.
        flood = wait_until(lambda: [i for i in (incidents(a1) or []) if i["type"] == "syn_flood"], 30)
        check("the fleet opens the flood's incident (agg-1)", bool(flood), incidents(a1))
        notified = wait_until(lambda: [m for m in relay.snapshot() if "web-owner@example.com" in m["to"]], 20)
        check("web's owner is notified of the flood", bool(notified), relay.snapshot())
        flood_id = flood[0]["id"] if flood else None
        # The cluster elects new stream leaders (about 6 s); the lease (10 s) outlasts that.
        time.sleep(max(0.0, at + 16 - time.time()))
        st = a1.ctl_json("status") or {}
        check("agg-1 still active after the node's loss (its lease outlasts the cluster's election)",
              st.get("role") == "active", st)
        killed_at = time.time()
        a1.kill()
        check(f"t+{killed_at - at:.0f} s: the active aggregator agg-1 killed (SIGKILL)", a1.proc.returncode is not None)
        took = wait_until(lambda: "takes over" in a2.text(), 20)
        check(f"agg-2 takes over ({time.time() - killed_at:.1f} s after the kill; lease 10 s)", bool(took),
              a2.text()[-1500:])
        cluster.restart(0)
        check("nats node 0 restarted: the cluster has three nodes again", bool(cluster.wait_ready(30)))

        # The sweep's incident opens under agg-2 (its detectors warmed up on the
        # windows agg-1 had analysed), the deadline passes, db is deactivated.
        def applied():
            got = [(appliance_ctl(args.safeguardctl, app, "status") or {}).get("fleet") or {} for app in apps]
            return got if all((g.get("decisions") or {}).get("deactivated") == ["db"] for g in got) else None
        decided = wait_until(applied, 60, step=0.5)
        text = subprocess.run([args.safeguardctl, "--socket", a2.sock, "status"], capture_output=True, text=True,
                              timeout=15).stdout
        check("safeguardctl status on agg-2 (text): active, both appliances, db deactivated",
              "agg-2 of site" in text and ": active" in text and "deactivated: db" in text
              and all(f"\n{n} " in text for n in ("a", "b")), text)
        text = subprocess.run([args.safeguardctl, "--socket", str(base / "a" / "control.sock"), "status"],
                              capture_output=True, text=True, timeout=15).stdout
        check("safeguardctl status on appliance a (text): its fleet link and the blocklist it received",
              "fleet: a of site" in text and "blocklist from the aggregator: db" in text, text)
        check("both appliances apply agg-2's deactivation of db (the decisions bucket)", bool(decided),
              [(appliance_ctl(args.safeguardctl, app, "status") or {}).get("fleet") for app in apps])
        # The bus away for the appliances: two of three nodes down (no quorum),
        # then back. They keep working, spool their windows, and catch up.
        cluster.kill(1)
        cluster.kill(2)
        down_at = time.time()
        spooling = wait_until(lambda: all(((appliance_ctl(args.safeguardctl, app, "status") or {}).get("fleet") or {})
                                          .get("spool_files", 0) > 0 for app in apps), 15, step=0.5)
        check(f"nodes 1 and 2 killed (no quorum): both appliances keep their windows in the spool "
              f"({time.time() - down_at:.1f} s)", bool(spooling),
              [(appliance_ctl(args.safeguardctl, app, "status") or {}).get("fleet") for app in apps])
        cluster.restart(1)
        cluster.restart(2)
        check("nodes 1 and 2 back: the cluster is ready", bool(cluster.wait_ready(60)))
        caught_up = wait_until(lambda: all(((appliance_ctl(args.safeguardctl, app, "status") or {}).get("fleet") or {})
                                           .get("spool_files", 1) == 0 for app in apps), 60, step=0.5)
        check(f"both appliances caught up: the spool published and emptied ({time.time() - down_at:.1f} s after "
              "the quorum was lost)", bool(caught_up),
              [(appliance_ctl(args.safeguardctl, app, "status") or {}).get("fleet") for app in apps])
        outs = [p.communicate(timeout=120)[0] for p in senders]
        for name, out in zip(("half_a", "half_b"), outs):
            res = fleet_env.send_result(out) or {}
            check(f"{name}: all {info[name]['packets']} packets sent on the capture's clock "
                  f"({res.get('seconds')} s)", res.get("sent") == info[name]["packets"], out[-400:])
        # db's traffic after the deactivation: every packet dropped, and counted;
        # web's goes through.
        after = base / "captures" / "after.pcap"
        db_packets, web_packets = write_after(after)
        before = [worker_counters(args.safeguardctl, app) for app in apps]
        feeds = [fleet_env.send_pcap(ns, "sga0", after), fleet_env.send_pcap(ns, "sgb0", after)]
        for p in feeds:
            p.communicate(timeout=60)
        time.sleep(1)
        for app, b in zip(apps, before):
            a = worker_counters(args.safeguardctl, app)
            blocked = a.get("blocked", 0) - b.get("blocked", 0)
            forwarded = a.get("forwarded", 0) - b.get("forwarded", 0)
            check(f"appliance {app.name}: {blocked} of db's {db_packets} packets dropped (blocked), "
                  f"{forwarded} of web's {web_packets} forwarded",
                  blocked == db_packets and forwarded == web_packets, (b, a))
        time.sleep(3)  # the last windows reach the aggregator

        # --- the incidents -----------------------------------------------------------
        rows = incidents(a2) or []
        floods = [i for i in rows if i["type"] == "syn_flood"]
        sweeps = [i for i in rows if i["type"] == "sweep"]
        check("one flood incident, the same id after the takeover, inbound to web",
              len(floods) == 1 and floods[0]["id"] == flood_id and floods[0]["direction"] == "inbound"
              and floods[0]["target"].get("deployment") == "web", rows)
        check("one sweep incident: outbound from db", len(sweeps) == 1 and sweeps[0]["direction"] == "outbound"
              and sweeps[0]["source"].get("deployment") == "db", rows)
        check("no other incident", len(rows) == 2, rows)
        if floods:
            shown = a2.ctl_json("incidents", "show", str(floods[0]["id"])) or {}
            text = json.dumps(shown)
            counts = [int(x) for x in __import__("re").findall(r'"distinct_sources": (\d+)', text)]
            check(f"the flood's distinct sources: {max(counts, default=0)} (200 in all, 100 per appliance)",
                  counts and 160 <= max(counts) <= 240, text[:1500])

        # --- nothing lost ------------------------------------------------------------------
        codes = [app.stop() for app in apps]
        check("both appliances stop cleanly (SIGTERM, exit 0), the last windows and a bye published",
              codes == [0, 0], codes)
        def consumed():
            st = a2.ctl_json("status") or {}
            return st if st.get("role") == "active" and st.get("waiting_for_analysis", 1) <= 2 and all(
                a.get("silent") for a in st.get("appliances", [])) else None
        wait_until(consumed, 60, step=0.5)
        st = a2.ctl_json("status") or {}
        reports = [app.report() for app in apps]
        published = {app.name: (r.get("fleet") or {}).get("published") for app, r in zip(apps, reports)}
        left = {app.name: ((r.get("fleet") or {}).get("queued"), (r.get("fleet") or {}).get("dropped"),
                           (r.get("fleet") or {}).get("spool_files")) for app, r in zip(apps, reports)}
        check(f"each appliance published every window ({published}), none queued, dropped or left in the spool "
              f"(publish errors while the node was down: "
              f"{[(r.get('fleet') or {}).get('errors') for r in reports]})",
              all(v and v > 40 for v in published.values()) and all(x == (0, 0, 0) for x in left.values()),
              [r.get("fleet") for r in reports])
        with fleet_env.NatsClient(",".join(cluster.url(i) for i in (1, 2))) as nc:
            info_stream = nc.js(f"STREAM.INFO.SAFEGUARD_{SITE.upper()}_WINDOWS", {"subjects_filter": ">"})
            subjects = (info_stream.get("state") or {}).get("subjects") or {}
            consumer = nc.js(f"CONSUMER.INFO.SAFEGUARD_{SITE.upper()}_WINDOWS.aggregator")
        in_stream = {n: subjects.get(f"safeguard.{SITE}.{n}.window") for n in ("a", "b")}
        check(f"the stream holds each appliance's windows exactly once ({in_stream})",
              in_stream == published, (in_stream, published))
        last_seq = (info_stream.get("state") or {}).get("last_seq")
        cursor = (st.get("cursor") or {}).get("cursor")
        check(f"agg-2 consumed the stream to its end (cursor {cursor}, last sequence {last_seq}, "
              f"{consumer.get('num_pending')} pending)",
              consumer.get("num_pending") == 0 and cursor is not None and last_seq is not None
              and cursor >= last_seq - 2 * 2, (st.get("cursor"), consumer))
        apps_st = {a["name"]: a for a in st.get("appliances", [])}
        check("no window arrived late or was rejected at agg-2",
              st.get("late_summaries") == 0 and st.get("rejected") == 0
              and all(a["late"] == 0 and a["rejected"] == 0 for a in apps_st.values()), st)
        check(f"agg-2 active; it analysed {st.get('warmup_windows')} windows again to warm its detectors up "
              "before acting", st.get("role") == "active" and (st.get("warmup_windows") or 0) > 0, st)

        # --- e-mails -----------------------------------------------------------------------
        msgs = relay.snapshot()
        ids = [m["message_id"] for m in msgs]
        per = {}
        for m in msgs:
            for rcpt in m["to"]:
                per.setdefault((m["incident"], m["role"], rcpt), []).append(m["message_id"])
        check(f"no duplicate e-mail: {len(msgs)} message(s), distinct Message-IDs, one per incident, role and owner",
              len(ids) == len(set(ids)) and all(len(v) == 1 for v in per.values()), msgs)
        check("the sweep's owner (db) is notified, by agg-2",
              any("db-owner@example.com" in m["to"] for m in msgs) and "db-owner" not in a1.text(), msgs)

        # --- the deactivation ------------------------------------------------------------------
        posture = a2.ctl_json("posture") or {}
        deps = {d["name"]: d for d in posture.get("deployments", [])}
        check("posture on agg-2: web is the flood's target, db the sweep's source and blocked",
              any(i["type"] == "syn_flood" and i["role"] == "target" for i in deps.get("web", {}).get("incidents", []))
              and any(i["type"] == "sweep" and i["role"] == "source" for i in deps.get("db", {}).get("incidents", []))
              and deps.get("db", {}).get("blocked") is True, posture)
        added = a2.ctl_json("exception", "add", "--deployment", "web", "--type", "syn_flood", "--direction",
                            "inbound", "--for", "1h", "--reason", "load test by the owner")
        listed = a2.ctl_json("exception", "list") or {}
        check("exception add and list on agg-2 (fleet-wide): the flood's incident becomes excepted",
              bool(added) and len(listed.get("exceptions", [])) == 1
              and any(i["type"] == "syn_flood" and i["state"] == "excepted" for i in (incidents(a2) or [])),
              (added, listed, incidents(a2)))
        bl = a2.ctl_json("blocklist") or {}
        check("agg-2 deactivated db (deadline passed while the sweep went on)",
              [d["deployment"] for d in bl.get("deployments", [])] == ["db"], bl)
        code = a2.stop()
        check("agg-2 stops cleanly and gives the lease up", code == 0, a2.text()[-800:])
        final = json.loads((a2.dir / "report.json").read_text())
        fa = [a for a in final.get("attributions", []) if a["type"] == "syn_flood"]
        tops = {s["ip"] for a in fa for s in a.get("top_sources", [])}
        heavy = {h: set(info[h]["heavy"]) for h in ("half_a", "half_b")}
        check(f"the flood's top contributors are the union of both appliances' ({len(tops)}: "
              f"{len(tops & heavy['half_a'])} seen by a, {len(tops & heavy['half_b'])} by b)",
              bool(fa) and tops == heavy["half_a"] | heavy["half_b"], (sorted(tops), heavy))
        for app, r in zip(apps, reports):
            types = sorted({a["type"] for a in r.get("attributions", [])})
            check(f"appliance {app.name} alone attributes neither attack ({types})",
                  "syn_flood" not in types and "sweep" not in types, types)
    finally:
        for app in apps:
            app.cleanup()
        for a in aggs:
            a.cleanup()
        cluster.stop()
        relay.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--safeguard", default=str(ROOT / "build/app/safeguard/safeguard"))
    ap.add_argument("--safeguardctl", default=str(ROOT / "build/app/safeguardctl/safeguardctl"))
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    ap.add_argument("--inside", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.safeguard = str(Path(args.safeguard).resolve())
    args.safeguardctl = str(Path(args.safeguardctl).resolve())
    if args.inside:
        base = Path(args.inside)
        try:
            scenario(args, base)
        except Exception as e:  # a broken step fails the run, with what broke
            check("the scenario ran to its end", False, repr(e))
        return check.summary("fleet")

    why = fleet_env.require_root() or fleet_env.require_tools("nats-server")
    if why:
        print(f"fleet: skipped: {why}")
        print("fleet: 0 passed, 0 failed")
        return 0
    base = Path(tempfile.mkdtemp(prefix="sgfleet-"))
    try:
        # Everything runs on the namespace's own loopback: the cluster, the
        # relay, the aggregators and the appliances with their veths.
        with fleet_env.Netns(NETNS, pairs=2):
            me = [sys.executable, str(Path(__file__).resolve()), "--safeguard", args.safeguard,
                  "--safeguardctl", args.safeguardctl, "--inside", str(base)]
            return subprocess.run(["ip", "netns", "exec", NETNS, *me]).returncode
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
