#!/usr/bin/python3
"""The fleet test environment, checked piece by piece (test/fleet/fleet_env.py,
test/fleet/gen_fleet.py) with the real `safeguard` binary:

  nats       three nats-server nodes on loopback, clustered, JetStream on:
             ready (routes, one meta leader); an R3 file stream created
             through the JetStream API, 20 messages acknowledged; the
             stream's leader killed (SIGKILL): the other two keep accepting
             (20 more); restarted: it catches up and stores all 40
  captures   gen_fleet.py's halves and whole: sizes, each flood source and
             each sweep target in exactly one half
  replay     `safeguard replay` with test/fleet/thresholds.yaml: whole.pcap
             opens exactly one syn_flood (inbound, 10.1.0.10) and one sweep
             (outbound, 10.2.0.5, port 23) attribution, each half none; the
             margins measured (each half replayed with low probe thresholds,
             whose attributions carry the per-window peak and the distinct
             targets): halves at most 66 % (flood) and 70 % (sweep, a
             HyperLogLog estimate) of the real thresholds, the whole at least
             1.3 times
  live       (root, tcpreplay) a namespace with two veth pairs; kernel quiet
             on them (IPv6 off, no addresses: nothing sent in 2 s; GRO, GSO,
             TSO off); tcpreplay sends the first 10 s of half_a: all of it
             arrives (how far it falls behind the capture's clock is shown);
             two `safeguard run` appliances, each inline between
             net_af_packet0 (sga1, sgb1) and a null port, fed half_a and
             half_b at once by send_pcap() on the captures' clock: every
             packet sent is received by the veth and counted by its
             appliance (nothing else: no IPv6, no ARP), all forwarded; with
             the probe thresholds the live per-window SYN peak and the
             distinct sweep targets of each half stay below 80 % of the real
             thresholds

Ends with "fleet env: N passed, M failed". Without root (or tcpreplay) the
live part is skipped with a message. Takes about 75 s (the live part sends
10 s, then 42 s of traffic).

    test/fleet/check_env.py [--safeguard build/app/safeguard/safeguard] [--keep] [--parts nats,replay,live]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # test/e2e.py
sys.path.insert(0, str(HERE))
import fleet_env  # noqa: E402
import gen_fleet  # noqa: E402
from e2e import Checks  # noqa: E402

check = Checks()
ROOT = HERE.parents[1]
STREAM = "FLEET_ENV_CHECK"
NETNS = "sgfleet-env"
# Real thresholds (test/fleet/thresholds.yaml) and the probe thresholds that
# make a half's attack visible so that its figures can be read.
SYN_THRESHOLD, SWEEP_THRESHOLD = 1000, 300
PROBE_THRESHOLDS = """# probe: low enough that each half opens attributions whose evidence
# carries its per-window SYN peak and its distinct sweep targets
syn_flood: {rate: 300/s}
sweep: {targets: 50}
"""


# ------------------------------------------------------------------- nats

def check_nats(base):
    print("nats")
    cluster = fleet_env.NatsCluster(base / "nats")
    try:
        t = time.time()
        cluster.start()
        try:
            leader = cluster.wait_ready(30)
        except RuntimeError as e:
            check("the cluster is ready", False, e)
            return
        check(f"three nodes up, routed to each other, meta leader {leader} ({time.time() - t:.1f} s)", True)
        check("urls(): every node, comma-separated",
              cluster.urls() == ",".join(f"nats://127.0.0.1:{p}" for p in cluster.client_ports)
              and cluster.urls().count("nats://") == 3, cluster.urls())
        jsz = [cluster.monitor(i, "/jsz")[1] for i in range(3)]
        check("/jsz on every node: a meta cluster of 3",
              all(j["meta_cluster"]["cluster_size"] == 3 for j in jsz), jsz)

        with fleet_env.NatsClient(cluster.urls()) as nc:
            created = nc.js(f"STREAM.CREATE.{STREAM}", {"name": STREAM, "subjects": ["fleetcheck.>"],
                                                        "num_replicas": 3, "storage": "file"})
            cl = created.get("cluster") or {}
            peers = [cl.get("leader")] + [r["name"] for r in cl.get("replicas") or []]
            check("an R3 file stream: a leader and two replicas on the three nodes",
                  sorted(peers) == sorted(cluster.names) and created["config"]["num_replicas"] == 3, created)
            acks = [nc.publish(f"fleetcheck.m{k}", f"message {k}", ack=True) for k in range(20)]
            check("20 messages acknowledged in order", [a["seq"] for a in acks] == list(range(1, 21)), acks[-1])
            stream_leader = nc.js(f"STREAM.INFO.{STREAM}")["cluster"]["leader"]

        victim = cluster.index(stream_leader)
        was_meta = stream_leader == cluster.leader()
        cluster.kill(victim)
        t = time.time()
        try:
            new_meta = cluster.wait_ready(30)
            check(f"{stream_leader} (stream leader{', meta leader' if was_meta else ''}) killed: the other two are "
                  f"ready, meta leader {new_meta} ({time.time() - t:.1f} s)", True)
        except RuntimeError as e:
            check("two nodes ready after the kill", False, e)
            return
        acks = []
        t = time.time()
        others = ",".join(cluster.url(i) for i in range(3) if i != victim)
        with fleet_env.NatsClient(others) as nc:
            for k in range(20, 40):
                deadline = time.time() + 20
                while True:
                    try:
                        acks.append(nc.publish(f"fleetcheck.m{k}", f"message {k}", ack=True, timeout=2))
                        break
                    except (fleet_env.NatsError, TimeoutError) as e:
                        if time.time() > deadline:
                            acks.append({"error": str(e)})
                            break
                        time.sleep(0.2)
            info = nc.js(f"STREAM.INFO.{STREAM}")
        check(f"with one node down, 20 more acknowledged (the first after {time.time() - t:.1f} s in all)",
              [a.get("seq") for a in acks] == list(range(21, 41)), acks[-3:])
        check("the stream holds 40, the dead replica not current",
              info["state"]["messages"] == 40 and any(not r["current"] for r in info["cluster"]["replicas"]),
              info["cluster"])

        cluster.restart(victim)
        t = time.time()
        try:
            cluster.wait_ready(60)
        except RuntimeError as e:
            check("the restarted node rejoins", False, e)
            return
        deadline = time.time() + 30
        local = {}
        while time.time() < deadline:
            local = cluster.local_streams(victim).get(STREAM, {})
            if (local.get("state") or {}).get("messages") == 40:
                break
            time.sleep(0.2)
        check(f"{stream_leader} restarted: it rejoins and stores all 40 messages itself ({time.time() - t:.1f} s)",
              (local.get("state") or {}).get("messages") == 40, local)
        with fleet_env.NatsClient(cluster.url(victim)) as nc:
            m = nc.get_message(STREAM, seq=40)
        check("message 40 read back through the restarted node", m["data"] == b"message 39"
              and m["subject"] == "fleetcheck.m39", m)
    finally:
        cluster.stop()
    check("every nats-server stopped", all(p is None or p.poll() is not None for p in cluster.procs))


# --------------------------------------------------------------- captures

def check_captures(base):
    print("captures")
    t = time.time()
    info = gen_fleet.generate(base / "captures")
    took = time.time() - t
    a, b, whole = info["half_a"], info["half_b"], info["whole"]
    check(f"generated in {took:.1f} s: half_a {a['packets']}, half_b {b['packets']}, whole {whole['packets']} packets",
          all(fleet_env.pcap_count(x["path"]) == x["packets"] for x in (a, b, whole))
          and whole["packets"] == a["packets"] + b["packets"])
    check("each flood source in exactly one half (100 + 100)",
          len(a["sources"]) == len(b["sources"]) == gen_fleet.SOURCES // 2
          and not set(a["sources"]) & set(b["sources"]))
    check("each sweep target in exactly one half (200 + 200)",
          len(a["targets"]) == len(b["targets"]) == gen_fleet.SWEEP_TARGETS // 2
          and not set(a["targets"]) & set(b["targets"]))
    again = gen_fleet.generate(base / "captures-again")
    check("deterministic: a second run writes the same bytes",
          all(Path(info[n]["path"]).read_bytes() == Path(again[n]["path"]).read_bytes()
              for n in ("half_a", "half_b", "whole")))
    shutil.rmtree(base / "captures-again")
    return info


# ----------------------------------------------------------------- replay

def replay(safeguard, base, name, pcap, thresholds):
    cfg = base / f"replay-{name}.yaml"
    cfg.write_text(fleet_env.DEPLOYMENTS + f"detect: {{thresholds: {thresholds}}}\n")
    report = base / f"replay-{name}.json"
    p = subprocess.run([str(safeguard), "replay", "--config", str(cfg), "--report", str(report), str(pcap)],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"replay {name} exited {p.returncode}: {p.stderr[-1500:]}")
    return json.loads(report.read_text())


def find(report, typ, **want):
    """Attributions of one type whose fields match (source_ip=, target_ip=, ...)."""
    out = []
    for a in report["attributions"]:
        if a["type"] != typ:
            continue
        fields = {"direction": a["direction"], "source_ip": a["source"]["ip"], "target_ip": a["target"]["ip"],
                  "port": a.get("port")}
        if all(fields[k] == v for k, v in want.items()):
            out.append(a)
    return out


def figures(report):
    """(per-window SYN peak at the target, distinct sweep targets) from a report's attributions."""
    syn = find(report, "syn_flood", target_ip=gen_fleet.TARGET)
    sw = find(report, "sweep", source_ip=gen_fleet.SCANNER, port=gen_fleet.SWEEP_PORT)
    return (syn[0]["evidence"]["peak_pps"] if syn else 0, sw[0]["evidence"]["distinct_targets"] if sw else 0)


def check_replay(safeguard, base, info):
    print("replay")
    probe = base / "probe-thresholds.yaml"
    probe.write_text(PROBE_THRESHOLDS)
    whole = replay(safeguard, base, "whole", info["whole"]["path"], gen_fleet.THRESHOLDS)
    syn = find(whole, "syn_flood", direction="inbound", target_ip=gen_fleet.TARGET)
    sw = find(whole, "sweep", direction="outbound", source_ip=gen_fleet.SCANNER, port=gen_fleet.SWEEP_PORT)
    check("whole: one syn_flood (inbound -> 10.1.0.10, source null) and one sweep (outbound 10.2.0.5, port 23, "
          "target null), nothing else",
          len(syn) == 1 and len(sw) == 1 and len(whole["attributions"]) == 2 and syn[0]["source"]["ip"] is None
          and sw[0]["target"] == {"ip": None, "deployment": None} and sw[0]["source"]["deployment"] == "db",
          [(a["type"], a["direction"], a["source"], a["target"]) for a in whole["attributions"]])
    check("whole: every packet counted", whole["packets"] == info["whole"]["packets"], whole["packets"])
    peak, targets = figures(whole)
    rows = [("whole", peak, targets)]
    check(f"whole: SYN peak {peak}/s >= 1.3 x {SYN_THRESHOLD}, {targets} sweep targets >= 1.3 x {SWEEP_THRESHOLD}",
          peak >= 1.3 * SYN_THRESHOLD and targets >= 1.3 * SWEEP_THRESHOLD)
    for half in gen_fleet.HALVES:
        r = replay(safeguard, base, half, info[half]["path"], gen_fleet.THRESHOLDS)
        check(f"{half}: no attribution at all, every packet counted",
              r["attributions"] == [] and r["packets"] == info[half]["packets"],
              [(a["type"], a["source"], a["target"]) for a in r["attributions"]])
        peak, targets = figures(replay(safeguard, base, half + "-probe", info[half]["path"], probe))
        rows.append((half, peak, targets))
        # 650 SYN/s exactly; 200 targets, counted by a HyperLogLog (4.6 % standard error).
        check(f"{half}: SYN peak {peak}/s <= 66 % of {SYN_THRESHOLD}, {targets} sweep targets <= 70 % of "
              f"{SWEEP_THRESHOLD}", 0 < peak <= SYN_THRESHOLD * 0.66 and 0 < targets <= SWEEP_THRESHOLD * 0.70)
    print("    replay    SYN peak/s  (of 1000)   sweep targets  (of 300)")
    for name, peak, targets in rows:
        print(f"    {name:8} {peak:10}  {peak / SYN_THRESHOLD:9.0%}   {targets:13}  {targets / SWEEP_THRESHOLD:8.0%}")


# ------------------------------------------------------------------- live

TCPREPLAY_SECONDS = 10


def write_prefix(src, dst, seconds):
    """The records of the first `seconds` of a capture; returns how many and the time they span."""
    packets = fleet_env.read_pcap(src)
    keep = [p for p in packets if p[0] - packets[0][0] < seconds]
    data = Path(src).read_bytes()
    out, off = [data[:24]], 24
    for _ in keep:
        incl = int.from_bytes(data[off + 8:off + 12], "little")
        out.append(data[off:off + 16 + incl])
        off += 16 + incl
    Path(dst).write_bytes(b"".join(out))
    return len(keep), keep[-1][0] - keep[0][0]


def check_live(safeguard, base, info):
    print("live (af_packet in a namespace)")
    cpus = sorted(os.sched_getaffinity(0))
    other = cpus[1 % len(cpus)]
    with fleet_env.Netns(NETNS, pairs=2) as ns:
        devices = [d for pair in ns.pairs for d in pair]
        check("namespace with sga0/sga1 and sgb0/sgb1: GRO, GSO and TSO off",
              sorted(ns.offloads) == sorted(devices)
              and all(v == 0 for d in devices for v in ns.offloads[d].values()), ns.offloads)
        links = json.loads(ns.run(["ip", "-j", "link", "show"]).stdout)
        check("the veths are up, MTU 1500",
              all(any(l["ifname"] == d and l["mtu"] == 1500 and "UP" in l["flags"] for l in links) for d in devices))
        v6 = ns.run(["sysctl", "-n", *[f"net.ipv6.conf.{d}.disable_ipv6" for d in devices]], check=False).stdout
        check("IPv6 off on every veth", v6.split() == ["1"] * len(devices), v6)
        time.sleep(2)
        quiet = {d: ns.link_stats(d) for d in devices}
        check("the kernel sent nothing on them in 2 s",
              all(s["tx_packets"] == 0 and s["rx_packets"] == 0 for s in quiet.values()), quiet)

        # tcpreplay: everything arrives; how far it falls behind the capture's clock.
        prefix = base / "prefix.pcap"
        n, span = write_prefix(info["half_a"]["path"], prefix, TCPREPLAY_SECONDS)
        before = ns.link_stats("sga1")["rx_packets"]
        out = fleet_env.tcpreplay(ns, "sga0", prefix).communicate(timeout=120)[0]
        took = fleet_env.tcpreplay_seconds(out) or 0.0
        sent, failed = fleet_env.tcpreplay_sent(out)
        got = ns.link_stats("sga1")["rx_packets"] - before
        check(f"tcpreplay: {span:.1f} s of half_a ({n} packets) all received on sga1, sent in {took:.1f} s "
              f"({(took - span) / span:+.0%} against the capture's clock)",
              sent == n and failed == 0 and got == n, out[-600:])

        probe = base / "probe-thresholds.yaml"
        probe.write_text(PROBE_THRESHOLDS)
        apps = {"half_a": fleet_env.Appliance(ns, safeguard, base / "live", "a", "sga1", probe, cpus=(cpus[0], other)),
                "half_b": fleet_env.Appliance(ns, safeguard, base / "live", "b", "sgb1", probe, cpus=(other, cpus[0]))}
        feeds = {"half_a": ("sga0", "sga1"), "half_b": ("sgb0", "sgb1")}
        try:
            t = time.time()
            for app in apps.values():
                app.start()
            check(f"both appliances running ({time.time() - t:.1f} s)", True)
            base_rx = {h: ns.link_stats(feeds[h][1])["rx_packets"] for h in apps}
            base_tx = {h: ns.link_stats(feeds[h][0])["tx_packets"] for h in apps}
            at = time.time() + 2
            senders = {h: fleet_env.send_pcap(ns, feeds[h][0], info[h]["path"], at=at) for h in apps}
            outputs = {h: p.communicate(timeout=180)[0] for h, p in senders.items()}
            took = time.time() - at
            time.sleep(2)  # the last window ends, the reporter takes it
            codes = {h: app.stop() for h, app in apps.items()}
            check(f"both stopped by SIGTERM, exit 0 (the halves took {took:.1f} s)",
                  all(c == 0 for c in codes.values()), codes)
            for h, app in apps.items():
                want = info[h]["packets"]
                res = fleet_env.send_result(outputs[h]) or {}
                check(f"{h}: sent all {want} on the capture's clock ({res.get('seconds')} s, started "
                      f"{res.get('started_late_ms')} ms late, packets at most {res.get('late_max_ms')} ms late, "
                      f"{res.get('late_over_10ms')} over 10 ms)",
                      res.get("sent") == want and res.get("failed") == 0 and senders[h].returncode == 0,
                      outputs[h][-600:])
                tx = ns.link_stats(feeds[h][0])["tx_packets"] - base_tx[h]
                rx = ns.link_stats(feeds[h][1])
                check(f"{h}: {feeds[h][0]} sent and {feeds[h][1]} received exactly those, nothing else",
                      tx == want and rx["rx_packets"] - base_rx[h] == want and rx["rx_dropped"] == 0, (tx, rx))
                r = app.report()
                ports = r["runtime"]
                check(f"{h}: the appliance counted {r['packets']} of {want}, all IPv4, all forwarded",
                      r["packets"] == want and r["protocols"]["ipv4"] == want and r["protocols"]["ipv6"] == 0
                      and r["protocols"]["arp"] == 0 and ports["forwarded"] == want and ports["rx_missed"] == 0,
                      {k: r[k] for k in ("packets", "protocols")})
                w = ports["workers"][0]
                check(f"{h}: every window reached the reporter (none folded, none lost, {w['windows']} in all)",
                      w["window_overruns"] == 0 and w["windows_dropped"] == 0 and ports["ring_drops"] == 0,
                      {k: w[k] for k in ("windows", "window_overruns", "windows_dropped", "ring_drops")})
                peak, targets = figures(r)
                check(f"{h} live: SYN peak {peak}/s ({peak / SYN_THRESHOLD:.0%} of {SYN_THRESHOLD}), "
                      f"{targets} sweep targets ({targets / SWEEP_THRESHOLD:.0%} of {SWEEP_THRESHOLD}): both < 80 %",
                      0 < peak < 0.8 * SYN_THRESHOLD and 0 < targets < 0.8 * SWEEP_THRESHOLD,
                      [(a["type"], a["evidence"]) for a in r["attributions"]])
        finally:
            for app in apps.values():
                app.cleanup()
        left = ns.pids()
    check("nothing left running in the namespace", left == [], left)
    check("the namespace is gone", NETNS not in fleet_env.Netns.list())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--safeguard", default=str(ROOT / "build" / "app" / "safeguard" / "safeguard"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--parts", default="nats,replay,live",
                    help="which parts to run (comma-separated: nats, replay, live; default all)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="sg-fleetenv-"))
    started = time.time()
    try:
        parts = args.parts.split(",")
        if "nats" in parts:
            try:
                check_nats(base)
            except Exception as e:  # a crashed part is one failure, the others still run
                check("nats ran", False, repr(e))
        info = None
        try:
            info = check_captures(base)
            if "replay" in parts:
                check_replay(args.safeguard, base, info)
        except Exception as e:
            check("captures and replay ran", False, repr(e))
        why = fleet_env.require_root() or fleet_env.require_tools("tcpreplay")
        if "live" not in parts:
            pass
        elif why:
            print(f"SKIP: live checks: {why}")
        elif info:
            try:
                check_live(args.safeguard, base, info)
            except Exception as e:
                check("live ran", False, repr(e))
    finally:
        print(f"  ({time.time() - started:.0f} s)")
        if args.keep:
            print(f"work folder: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return check.summary("fleet env")


if __name__ == "__main__":
    sys.exit(main())
