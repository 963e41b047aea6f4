#!/usr/bin/python3
"""Seeded captures for the incident workflow tests (run_workflow.py).

    test/incident/gen_workflow.py OUTDIR

Writes, from the building blocks of scripts/gen-attack-pcaps.py (same
address plan: 10.1.0.0/16 is deployment web, 10.2.0.0/16 is db):

  scan-long.pcap    10.1.0.101 (web) scans 198.51.100.150 for 40 s, 30 ports
                    a second, SYN answered by RST-ACK; for 70 s web's
                    10.1.0.7 and db's 10.2.0.5 each open an HTTPS session to
                    203.0.113.10 every 2 s (normal traffic that must keep
                    flowing unless its deployment is deactivated)
  scan-part1.pcap   its first 15 s,
  scan-part2.pcap   the rest (a restart in the middle of the same traffic)

Every capture starts at T0 (2026-05-28T20:26:40Z); the scan starts at T0 + 1 s.
"""

import importlib.util
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # gen-attack-pcaps.py imports pcapgen from there
_spec = importlib.util.spec_from_file_location("attack", ROOT / "scripts" / "gen-attack-pcaps.py")
attack = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attack)

SEED = 20261129
SCANNER, TARGET = "10.1.0.101", "198.51.100.150"
SCAN_SECONDS, RATE = 40, 30
SECONDS = 70
SPLIT = 15.0  # seconds after T0


def scan_long(rng):
    cap = attack.Capture()
    ports = list(range(1, SCAN_SECONDS * RATE + 1))
    rng.shuffle(ports)
    sport = rng.randrange(40000, 60000)
    for i, port in enumerate(ports):
        t = attack.T0 + 1 + i / RATE + rng.uniform(0, 0.5 / RATE)
        tcp = attack.Tcp(cap, rng, SCANNER, TARGET, sport, port, rtt=0.004)
        tcp.refused(t)
    for k in range(SECONDS // 2 + 1):
        for client in ("10.1.0.7", "10.2.0.5"):
            attack.https_session(rng, cap, attack.T0 + 0.3 + 2 * k + rng.uniform(0, 0.2), client, "203.0.113.10",
                                 sttl=55)
    return cap


def write_range(cap, path, start, end):
    """The records with start <= t - T0 < end, sorted by time."""
    part = attack.Capture()
    lo, hi = int(round((attack.T0 + start) * 1e6)), int(round((attack.T0 + end) * 1e6))
    part.recs = [r for r in cap.recs if lo <= r[0] < hi]
    part.write(path)


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) == 2 else 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    cap = scan_long(random.Random(f"{SEED}-scan-long"))
    write_range(cap, out / "scan-long.pcap", 0, 1e9)
    write_range(cap, out / "scan-part1.pcap", 0, SPLIT)
    write_range(cap, out / "scan-part2.pcap", SPLIT, 1e9)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
