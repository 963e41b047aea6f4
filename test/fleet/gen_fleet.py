#!/usr/bin/python3
"""Seeded captures for the fleet tests: one attack seen by two appliances,
each of which sees only half of it, so that neither alone crosses a
detection threshold and only the merged view does.

    test/fleet/gen_fleet.py OUTDIR [--seed N]

Writes, from the building blocks of scripts/gen-attack-pcaps.py (same
address plan: 10.1.0.0/16 is deployment web, 10.2.0.0/16 is db; outside
hosts only in documentation ranges):

  half_a.pcap   what appliance A sees,
  half_b.pcap   what appliance B sees,
  whole.pcap    both halves merged by time (what one appliance would see).

The scenario, over SECONDS (40) seconds from T0 + 1 s:
  syn flood   SYN_RATE (1,300) SYN/s, evenly spaced, at 10.1.0.10:80 from
              SOURCES (200) outside addresses (198.51.100.1-100,
              203.0.113.1-100) taking turns, never answered; split BY SOURCE:
              each source is in one half only, and the halves alternate, so
              each carries exactly SYN_RATE / 2 per second;
  sweep       db's 10.2.0.5 sends one SYN to port 23 of each of
              SWEEP_TARGETS (400) outside addresses (192.0.2.1-200,
              198.51.100.101-200, 203.0.113.101-200), one every 0.1 s; a
              tenth reset, 2 % answer (the scanner resets those); split BY
              TARGET, alternating, so each half holds 200 targets spread over
              the whole period;
  benign      in each half its own few HTTPS sessions (web's 10.1.0.7 and
              10.1.0.8 to servers in 198.51.100.210-219 / 203.0.113.210-219,
              outside clients to web's 10.1.0.20:443) and a DNS query with
              its answer every 2 s (to 192.0.2.253).

With test/fleet/thresholds.yaml (syn_flood 1,000 SYN/s, sweep 300
targets) a replay of whole.pcap opens one syn_flood (inbound, target
10.1.0.10) and one sweep (outbound, source 10.2.0.5) attribution; a replay
of either half opens none. Each half holds 65 % of the flood threshold in
every window and 67 % of the sweep's (the detector's HyperLogLog reads 196
and 207 targets: 65 % and 69 %); the whole 130 % and 133 % (397 read: 132 %).

Timestamps: every capture starts with a DNS query at exactly T0
(2026-05-28T20:26:40Z) and lasts SECONDS + 2 s. Only relative times matter:
tcpreplay sends each capture's first packet at once, so two halves started
together stay aligned; `safeguard replay` uses the recorded times.
"""

import argparse
import importlib.util
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # gen-attack-pcaps.py imports pcapgen from there
_spec = importlib.util.spec_from_file_location("attack", ROOT / "scripts" / "gen-attack-pcaps.py")
attack = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attack)

SEED = 20261201
T0 = attack.T0
SECONDS = 40                 # the attack's length
SYN_RATE = 1300              # SYN/s at the target, both halves together
SOURCES = 200
HEAVY, HEAVY_WEIGHT = 10, 6  # the flood's top contributors: 6 / 250 of it each
SWEEP_TARGETS = 400
TARGET, TARGET_PORT = "10.1.0.10", 80
SCANNER, SWEEP_PORT = "10.2.0.5", 23
RESOLVER = "192.0.2.253"
HALVES = ("half_a", "half_b")
THRESHOLDS = Path(__file__).resolve().parent / "thresholds.yaml"

FLOOD_SOURCES = attack.hosts("198.51.100", 1, 100) + attack.hosts("203.0.113", 1, 100)
SWEEP_POOL = (attack.hosts("192.0.2", 1, 200) + attack.hosts("198.51.100", 101, 100)
              + attack.hosts("203.0.113", 101, 100))
BENIGN_SERVERS = attack.hosts("198.51.100", 210, 10) + attack.hosts("203.0.113", 210, 10)
BENIGN_CLIENTS = attack.hosts("198.51.100", 230, 10)
assert len(FLOOD_SOURCES) == SOURCES and len(SWEEP_POOL) == SWEEP_TARGETS
assert not set(FLOOD_SOURCES) & set(SWEEP_POOL) and not set(SWEEP_POOL) & set(BENIGN_SERVERS + BENIGN_CLIENTS)


def syn_flood(rng, caps):
    """SYN_RATE SYN/s from a shuffled list of sources, HEAVY of them HEAVY_WEIGHT times as often; the source's
    position decides its half."""
    sources = list(FLOOD_SOURCES)
    rng.shuffle(sources)
    ttl = {s: rng.randrange(40, 60) for s in sources}
    # The first HEAVY sources send HEAVY_WEIGHT times as much as the others
    # (2.4 % of the flood each: the top contributors), half of them in each
    # half; every half still carries exactly half of the packets.
    cycle = [i for i in range(SOURCES) for _ in range(HEAVY_WEIGHT if i < HEAVY else 1)]
    for k in range(SYN_RATE * SECONDS):
        src = sources[cycle[k % len(cycle)]]
        t = T0 + 1 + k / SYN_RATE + rng.uniform(0, 0.2 / SYN_RATE)
        seg = attack.tcp_segment(src, TARGET, rng.randrange(1024, 65536), TARGET_PORT, rng.getrandbits(32), 0,
                                 attack.SYN, win=rng.choice((512, 1024, 5840, 64240)),
                                 opts=bytes.fromhex("020405b4"))
        caps[cycle[k % len(cycle)] % 2].ip(t, src, TARGET, 6, seg, ttl=ttl[src])
    return {h: sorted(sources[i] for i in range(SOURCES) if i % 2 == n) for n, h in enumerate(HALVES)}, \
        {h: sorted(sources[i] for i in range(HEAVY) if i % 2 == n) for n, h in enumerate(HALVES)}


def sweep(rng, caps):
    """One SYN to SWEEP_PORT of every pool address, in a shuffled order, one
    every SECONDS / SWEEP_TARGETS; alternate targets go to alternate halves."""
    targets = list(SWEEP_POOL)
    rng.shuffle(targets)
    for i, host in enumerate(targets):
        cap = caps[i % 2]
        t = T0 + 1 + SECONDS * (i + 0.5) / SWEEP_TARGETS
        tcp = attack.Tcp(cap, rng, SCANNER, host, rng.randrange(40000, 60000), SWEEP_PORT, rtt=0.02, sttl=52)
        r = rng.random()
        if r < 0.02:
            tcp.seg(t, True, attack.SYN, opts=bytes.fromhex("020405b4"))
            tcp.seg(t + tcp.half(), False, attack.SYN | attack.ACK, opts=attack.SYNACK_OPTS)
            tcp.seg(t + 2 * tcp.half(), True, attack.RST)
        elif r < 0.12:
            tcp.refused(t)
        else:
            tcp.seg(t, True, attack.SYN, opts=bytes.fromhex("020405b4"))
    return {h: sorted(targets[i] for i in range(SWEEP_TARGETS) if i % 2 == n) for n, h in enumerate(HALVES)}


def benign(rng, cap):
    """One half's ordinary traffic: DNS every 2 s from T0 on (the first
    packet of the capture), outbound and inbound HTTPS sessions."""
    names = [f"{w}.{d}.example" for w in ("api", "www", "cdn", "auth") for d in ("shop", "corp")]
    for k in range(SECONDS // 2 + 2):
        t = T0 + 2 * k + (0 if k == 0 else rng.uniform(0, 0.5))
        client = rng.choice(("10.1.0.7", "10.1.0.8", "10.2.0.6"))
        qid, sport, name = rng.getrandbits(16), rng.randrange(32768, 61000), rng.choice(names)
        cap.ip(t, client, RESOLVER, 17, attack.udp_datagram(client, RESOLVER, sport, 53, attack.dns_query(qid, name)),
               df=False)
        addr = bytes([198, 51, 100, rng.randrange(1, 255)])
        cap.ip(t + rng.uniform(0.005, 0.03), RESOLVER, client, 17,
               attack.udp_datagram(RESOLVER, client, 53, sport, attack.dns_answer(qid, name, 1, [(1, addr)])),
               ttl=57, df=False)
    for k in range(10):
        attack.https_session(rng, cap, T0 + 0.5 + 4 * k + rng.uniform(0, 2), rng.choice(("10.1.0.7", "10.1.0.8")),
                             rng.choice(BENIGN_SERVERS), rtt=rng.uniform(0.01, 0.05), sttl=55)
    for k in range(5):
        attack.https_session(rng, cap, T0 + 1.5 + 8 * k + rng.uniform(0, 4), rng.choice(BENIGN_CLIENTS), "10.1.0.20",
                             rtt=rng.uniform(0.02, 0.08), cttl=50)


def generate(out, seed=SEED):
    """Writes the three captures into `out`; returns what each holds:
    {"half_a": {"path", "packets", "sources", "targets"}, "half_b": ...,
    "whole": {"path", "packets"}}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}-fleet")
    caps = [attack.Capture(), attack.Capture()]
    sources, heavy = syn_flood(rng, caps)
    targets = sweep(rng, caps)
    for cap in caps:
        benign(rng, cap)
    whole = attack.Capture()
    # Sorted by time; at equal times half A's packets first, each half's in its own order.
    whole.recs = [(usec, n * 10_000_000 + i, frame) for n, cap in enumerate(caps) for usec, i, frame in cap.recs]
    info = {}
    for n, h in enumerate(HALVES):
        path = out / f"{h}.pcap"
        caps[n].write(path)
        info[h] = {"path": path, "packets": len(caps[n].recs), "sources": sources[h], "heavy": heavy[h],
                   "targets": targets[h]}
    whole.write(out / "whole.pcap")
    info["whole"] = {"path": out / "whole.pcap", "packets": len(whole.recs)}
    return info


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--seed", default=SEED)
    args = ap.parse_args(argv[1:])
    info = generate(args.outdir, args.seed)
    for name in (*HALVES, "whole"):
        print(f"{info[name]['path']}: {info[name]['packets']} packets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
