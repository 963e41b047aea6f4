#!/usr/bin/python3
"""Faults of a running appliance, end to end: the real `safeguard` binary, with
faults injected through SAFEGUARD_FAULTS (lib/core/faults.hpp) or made by the
test itself.

  reporter stall   `safeguard run` on a net_pcap port; the reporter thread
                   stalls 20 s. The worker takes the whole capture meanwhile,
                   counts what the full record ring drops, and the control
                   socket still answers (the reporter's part of `stats` times
                   out with an error, the rest is there). Afterwards the
                   reporter catches up and the daemon stops cleanly.
  mempool          every mbuf taken until 2,000 packets are lost for want of
                   one: counted (rx_nombuf), every other packet processed, the
                   flood still found.
  flow table full  a spoofed SYN flood through a 1,024-flow table: evictions
                   counted, every packet processed, the same attribution as
                   with a table that holds every flow.
  kill -9          the incident workflow (relay, hook, state directory)
                   killed at random moments, many times, each restart going on
                   with the next part of the traffic: the state stays
                   consistent (one incident, one history, increasing event
                   ids) and no e-mail is sent twice.
  bad fault        a mistyped SAFEGUARD_FAULTS stops the start with a message.

Ends with "faults: N passed, M failed".

    test/fault/run_faults.py [--safeguard B] [--safeguardctl B] [--seed N] [--kills N]
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test"))
sys.path.insert(0, str(ROOT / "test" / "incident"))
from e2e import Checks, free_port  # noqa: E402
from run_workflow import Env, Relay, event_kinds  # noqa: E402

check = Checks()

WEB = """deployments:
  - name: web
    owner: web-owner@example.com
    prefixes: [10.1.0.0/16]
"""


def gen_attack(out, name):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-attack-pcaps.py"), str(out), name],
                   check=True, stdout=subprocess.DEVNULL)
    return Path(out) / f"{name}.pcap"


def capture_count(path):
    out = subprocess.run(["capinfos", "-c", "-M", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line for line in out.splitlines() if "Number of packets" in line).split(":")[1])


def replay(safeguard, work, name, config, captures, env=None, workers=1):
    cfg = work / f"{name}.yaml"
    cfg.write_text(config)
    report = work / f"{name}.json"
    p = subprocess.run([safeguard, "replay", "--config", str(cfg), "--workers", str(workers),
                        "--report", str(report)] + [str(c) for c in captures],
                       capture_output=True, text=True, timeout=300, env=env)
    r = json.loads(report.read_text()) if report.exists() else None
    return p, r


def syn_flood_found(r):
    return [a for a in (r or {}).get("attributions", [])
            if a["type"] == "syn_flood" and a["target"]["ip"] == "10.1.0.10"]


# ------------------------------------------------------------------ scenarios

def scenario_reporter_stall(work, args, flood):
    print("== reporter stall: workers go on, drops counted, the control socket answers")
    total = capture_count(flood)
    sock = work / "stall.sock"
    report = work / "stall-report.json"
    cfg = work / "stall.yaml"
    # A small record ring: each evicted flow's record fills it while nobody reads.
    cfg.write_text(WEB + f"""workers: 1
ports:
  - name: tap0
    device: "net_pcap0,rx_pcap={flood}"
sizes: {{flow_table: 1024, ring: 1024}}
state_dir: {work / "stall-state"}
outputs: {{report: {report}}}
control: {{socket: {sock}}}
""")
    env = dict(os.environ, SAFEGUARD_FAULTS="reporter_stall=20s")
    log_path = work / "stall.log"
    with open(log_path, "w") as log:
        started = time.time()
        daemon = subprocess.Popen([args.safeguard, "run", "--config", str(cfg)], stdout=log,
                                  stderr=subprocess.STDOUT, env=env)
        try:
            while "running:" not in log_path.read_text():
                if daemon.poll() is not None or time.time() - started > 60:
                    raise RuntimeError("the daemon did not start: " + log_path.read_text()[-2000:])
                time.sleep(0.1)
            time.sleep(1.0)
            asked = time.time()
            p = subprocess.run([args.safeguardctl, "--socket", str(sock), "--json", "stats"],
                               capture_output=True, text=True, timeout=60)
            answered = time.time()
            # Still inside the stall (it began before "running:"); 20 s leave room
            # for a slow start on a loaded machine plus the 10 s the stats wait.
            stalled = answered - started < 20
            stats = json.loads(p.stdout).get("result", {}) if p.stdout.strip() else {}
            stages = stats.get("stages", {})
            check("the control socket answers while the reporter is stuck (within its 10 s wait)",
                  p.returncode == 0 and answered - asked < 15, (p.returncode, answered - asked, p.stderr[-300:]))
            check("stats says the reporter did not answer, and gives the rest",
                  "error" in stages.get("reporter", {}) and "workers" in stages, stages.get("reporter"))
            check("the worker took the whole capture while the reporter was stuck",
                  stalled and stages.get("workers", {}).get("packets") == total,
                  (stalled, stages.get("workers", {}).get("packets"), total))
            check("what the full ring could not take is counted",
                  stats.get("drops", {}).get("record_ring_full", 0) > 0, stats.get("drops"))
            # After the stall the reporter drains the ring; then stop.
            while time.time() - started < 14:
                time.sleep(0.2)
            daemon.send_signal(signal.SIGTERM)
            rc = daemon.wait(timeout=60)
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
    text = log_path.read_text()
    check("the daemon stops cleanly after the stall", rc == 0, (rc, text[-1500:]))
    check("the injected fault is in the log", "injecting reporter_stall=20000ms" in text
          and "the reporter stalls for 20000 ms" in text, text[:600])
    r = json.loads(report.read_text()) if report.exists() else {}
    rt = r.get("runtime", {})
    check("the report counts every packet and the ring's drops",
          r.get("packets") == total and rt.get("ring_drops", 0) > 0, (r.get("packets"), total, rt.get("ring_drops")))
    check("the reporter caught up with what the ring held",
          rt.get("flow_records", 0) > 0 and rt.get("flow_records", 0) + rt.get("ring_drops", 0) >= 1024,
          (rt.get("flow_records"), rt.get("ring_drops")))


def scenario_mempool(work, args, flood):
    print("== mempool exhausted: packets lost for want of an mbuf are counted, the rest is processed")
    total = capture_count(flood)
    env = dict(os.environ, SAFEGUARD_FAULTS="mempool_exhaust=2000")
    p, r = replay(args.safeguard, work, "mempool", WEB, [flood], env=env)
    rt = (r or {}).get("runtime", {})
    check("the replay ends normally", p.returncode == 0 and r is not None, (p.returncode, p.stderr[-800:]))
    check("the loss is counted (rx_nombuf)", rt.get("rx_nombuf", 0) >= 2000, rt.get("rx_nombuf"))
    check("every packet is either processed or counted lost",
          r is not None and r["packets"] + rt.get("rx_nombuf", 0) == total and r["packets"] > 0,
          (r and r["packets"], rt.get("rx_nombuf"), total))
    check("processing went on: the flood is still found", len(syn_flood_found(r)) == 1,
          [a["type"] for a in (r or {}).get("attributions", [])])
    check("the log says what was injected and when the mbufs came back",
          "all" in p.stderr and "mbufs given back" in p.stderr, p.stderr[-800:])


def scenario_flow_table_full(work, args, flood):
    print("== flow table full: evictions counted, processing goes on, the same finding")
    total = capture_count(flood)
    p1, small = replay(args.safeguard, work, "flows-small", WEB + "sizes: {flow_table: 1024}\n", [flood])
    p2, big = replay(args.safeguard, work, "flows-big", WEB + "sizes: {flow_table: 65536}\n", [flood])
    check("both replays end normally", p1.returncode == 0 and p2.returncode == 0, (p1.stderr[-500:], p2.stderr[-500:]))
    if small is None or big is None:
        return
    check("the small table evicts, counted", small["runtime"]["flows_evicted"] > 10000
          and big["runtime"]["flows_evicted"] == 0, (small["runtime"]["flows_evicted"], big["runtime"]["flows_evicted"]))
    check("every packet is processed", small["packets"] == total and big["packets"] == total)

    def finding(r):
        return [(a["type"], a["direction"], a["target"]["ip"], a["evidence"]["packets"]) for a in syn_flood_found(r)]
    check("the same syn_flood attribution (type, direction, target, packets)",
          finding(small) == finding(big) and len(finding(small)) == 1, (finding(small), finding(big)))


def split_capture(src, out_dir, seconds):
    out_dir.mkdir()
    subprocess.run(["editcap", "-i", str(seconds), str(src), str(out_dir / "part.pcap")], check=True,
                   stdout=subprocess.DEVNULL)
    return sorted(out_dir.iterdir())


def scenario_kill(work, args, caps):
    rng = random.Random(args.seed)
    print(f"== kill -9 at random moments, {args.kills} rounds (seed {args.seed})")
    parts = split_capture(caps / "scan-long.pcap", work / "parts", 6)
    port = free_port()
    relay = Relay(port)
    relay.start()
    kills = 0
    bad_runs = []
    try:
        env = Env(work, "kill-random", args.safeguard, port)
        for rnd in range(args.kills):
            # Each round: the traffic again from its start would go back in
            # packet time, so every round goes on with a fresh state
            # directory; within a round the restarts go on with the next part.
            if env.state.exists():
                shutil.rmtree(env.state)
            (env.hook.parent / "calls").mkdir(exist_ok=True)
            for c in (env.hook.parent / "calls").iterdir():
                c.unlink()
            relay.received.clear()
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                proc, out = env.start([part])
                if not last and rng.random() < 0.7:
                    # A run of one part takes about a second (EAL start included):
                    # kill inside it, from before EAL is up to the end of the traffic.
                    time.sleep(rng.uniform(0.05, 0.9))
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGKILL)
                        kills += 1
                    proc.wait()
                    continue
                _, err = proc.communicate(timeout=120)
                if proc.returncode != 0:
                    bad_runs.append((rnd, i, proc.returncode, err[-600:]))
            report = json.loads(Path(out["report"]).read_text())
            incs = report["incidents"]
            scans = [x for x in incs if x["type"] == "port_scan" and x["direction"] == "outbound"]
            kinds = event_kinds(scans[0]) if scans else []
            ids = [e["seq"] for x in incs for e in x["events"]]
            ok = (len(scans) == 1 and kinds.count("opened") == 1 and kinds.count("notification_sent") <= 1
                  and kinds.count("deactivated") <= 1 and ids == sorted(ids) and len(set(ids)) == len(ids))
            msg_ids = [m["Message-ID"] for _, m in relay.messages()]
            sent_events = kinds.count("notification_sent")
            mail_ok = len(set(msg_ids)) == sent_events == 1
            if len(msg_ids) > len(set(msg_ids)):
                print(f"  note: round {rnd}: the same Message-ID delivered {len(msg_ids)} times "
                      "(a kill between the relay's 250 and the outbox's rename: at-least-once, docs/incidents.md)")
            journal_warning = "journal" in err and "error" in err.lower()
            check(f"round {rnd}: one outbound scan incident, one history, event ids increasing", ok,
                  ([x["type"] for x in incs], kinds))
            check(f"round {rnd}: the owner was told once: one e-mail arrived, and the history records it",
                  mail_ok, (msg_ids, sent_events))
            check(f"round {rnd}: the last restart read the state directory without error",
                  not journal_warning and report["runtime"]["incidents"]["journal_errors"] == 0, err[-400:])
            if "deactivated" in kinds:
                hooks = [e for e in scans[0]["events"] if e["kind"] == "hook_ran"]
                check(f"round {rnd}: the deactivation's hook ran (again after a kill if need be)",
                      len(hooks) >= 1 and len(env.hook_calls()) >= 1, (len(hooks), len(env.hook_calls())))
    finally:
        relay.stop()
    print(f"  {kills} processes killed")
    check("every restart that was not killed ended normally", not bad_runs, bad_runs[:3])
    # A fast machine finishes some parts before their kill: at least one a round.
    check("the kills happened (the test did what it says)", kills >= args.kills, kills)


def scenario_bad_fault(work, args, flood):
    print("== a mistyped SAFEGUARD_FAULTS")
    env = dict(os.environ, SAFEGUARD_FAULTS="reporter_stal=1s")
    p, r = replay(args.safeguard, work, "badfault", WEB, [flood], env=env)
    check("refused at start, exit 2, the message names the variable and the fault",
          p.returncode == 2 and "SAFEGUARD_FAULTS: unknown fault 'reporter_stal'" in p.stderr, (p.returncode, p.stderr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--safeguard", default=str(ROOT / "build" / "app" / "safeguard" / "safeguard"))
    ap.add_argument("--safeguardctl", default=str(ROOT / "build" / "app" / "safeguardctl" / "safeguardctl"))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SG_FAULT_SEED", "20261129")))
    ap.add_argument("--kills", type=int, default=6, help="rounds of the kill -9 scenario")
    ap.add_argument("--only", help="one scenario: stall, mempool, flows, kill, bad")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sg-faults-"))
    caps = work / "captures"
    caps.mkdir()
    flood = gen_attack(caps, "synflood-inbound")
    subprocess.run([sys.executable, str(ROOT / "test" / "incident" / "gen_workflow.py"), str(caps)], check=True,
                   stdout=subprocess.DEVNULL)
    scenarios = {"stall": lambda: scenario_reporter_stall(work, args, flood),
                 "mempool": lambda: scenario_mempool(work, args, flood),
                 "flows": lambda: scenario_flow_table_full(work, args, flood),
                 "kill": lambda: scenario_kill(work, args, caps),
                 "bad": lambda: scenario_bad_fault(work, args, flood)}
    for name, run in scenarios.items():
        if args.only and name != args.only:
            continue
        try:
            run()
        except Exception as e:  # a crashed scenario is one failure, the others still run
            check(f"scenario {name} ran", False, repr(e))
    if args.keep:
        print(f"work folder: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return check.summary("faults")


if __name__ == "__main__":
    sys.exit(main())
