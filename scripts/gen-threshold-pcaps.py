#!/usr/bin/python3
"""Seeded captures for the threshold / detection_filter / rate_filter cases.

Every capture is a pure function of its name and the seed, with exact packet
times (whole microseconds), so a case can assert exact alert counts. Run with
Debian's python (/usr/bin/python3), which has scapy.

    scripts/gen-threshold-pcaps.py OUTDIR [NAME ...]     # default: all captures

Captures:
  threshold-scan
      Two scanners probe one host of 10.1.0.0/16 with TCP SYNs, one flow per
      destination port, so the flows spread over the workers while the
      sources and the destination are shared:
        203.0.113.66 -> 10.1.0.5 ports 1..60,        t = 0.070 * i   (i = 0..59)
        203.0.113.77 -> 10.1.0.5 ports 1001..1030,   t = 0.035 + 0.130 * j
      (t in seconds after the start; no two matches are exactly one second
      apart, so a one-second window never ends on a match.)
      Then two clients post to a login page in one TCP connection each:
        198.51.100.10 -> 10.1.0.80:80   5 requests "POST /login"
        198.51.100.11 -> 10.1.0.80:80   3 requests "POST /login"
  threshold-flood
      5000 TCP SYNs to 10.1.0.5, one every millisecond (5 s), each from one
      of 50 sources (203.0.113.1-50) and a random port pair: one flow each.
      With several workers the alerts reach the reporter in an order that
      depends on timing; thresholds with one-second windows over the rule or
      the destination count them differently unless the reporter restores
      packet-time order.

The case folders test/pcap/cases/threshold-* hold the rules and what they
expect of these captures; test/pcap/run_cases.py makes them for a run
(input "threshold:NAME").
"""

import logging
import sys
from decimal import Decimal

import pcapgen  # beside this script: the shared command line

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import IP, TCP, Ether, Raw, wrpcap  # noqa: E402

DLT_EN10MB = 1
SEED = 20261128
T0_US = 1_700_000_000 * 1_000_000  # 2023-11-14T22:13:20Z, in microseconds

CLIENT_MAC = "02:00:00:00:00:01"
SERVER_MAC = "02:00:00:00:00:02"


def at(pkt, offset_us):
    """Stamps a frame at T0 + offset, exactly (Decimal seconds)."""
    pkt.time = Decimal(T0_US + offset_us) / Decimal(1_000_000)
    return pkt


def syn(src, dst, sport, dport, seq):
    return Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=src, dst=dst) / TCP(
        sport=sport, dport=dport, flags="S", seq=seq, window=1024)


def login_session(rng, start_us, cli, srv, sport, requests):
    """Handshake, `requests` POSTs (each answered), FIN: 10 ms between packets."""
    body = b"POST /login HTTP/1.1\r\nHost: portal\r\nContent-Length: 17\r\n\r\nuser=a&pass=b1234"
    answer = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
    cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)
    out = []
    t = start_us

    def add(src, dst, sp, dp, flags, seq, ack, data=b""):
        nonlocal t
        seg = IP(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=seq & 0xFFFFFFFF,
                                         ack=ack & 0xFFFFFFFF)
        if data:
            seg = seg / Raw(data)
        mac_src, mac_dst = (CLIENT_MAC, SERVER_MAC) if src == cli else (SERVER_MAC, CLIENT_MAC)
        out.append(at(Ether(src=mac_src, dst=mac_dst) / seg, t))
        t += 10_000

    add(cli, srv, sport, 80, "S", cseq, 0)
    add(srv, cli, 80, sport, "SA", sseq, cseq + 1)
    cseq += 1
    sseq += 1
    add(cli, srv, sport, 80, "A", cseq, sseq)
    for _ in range(requests):
        add(cli, srv, sport, 80, "PA", cseq, sseq, body)
        cseq += len(body)
        add(srv, cli, 80, sport, "PA", sseq, cseq, answer)
        sseq += len(answer)
    add(cli, srv, sport, 80, "FA", cseq, sseq)
    add(srv, cli, 80, sport, "FA", sseq, cseq + 1)
    add(cli, srv, sport, 80, "A", cseq + 1, sseq + 1)
    return out


def gen_scan(rng):
    pkts = []
    for i in range(60):
        pkts.append(at(syn("203.0.113.66", "10.1.0.5", 50000, 1 + i, rng.randrange(1 << 32)), 70_000 * i))
    for j in range(30):
        pkts.append(at(syn("203.0.113.77", "10.1.0.5", 51000, 1001 + j, rng.randrange(1 << 32)),
                       35_000 + 130_000 * j))
    pkts += login_session(rng, 5_000_000, "198.51.100.10", "10.1.0.80", 41000, 5)
    pkts += login_session(rng, 5_003_000, "198.51.100.11", "10.1.0.80", 42000, 3)
    pkts.sort(key=lambda p: p.time)
    return pkts


def gen_flood(rng):
    pkts = []
    for i in range(5000):
        src = f"203.0.113.{1 + rng.randrange(50)}"
        pkts.append(at(syn(src, "10.1.0.5", 1024 + rng.randrange(60000), 1 + rng.randrange(65000),
                           rng.randrange(1 << 32)), 1000 * i))
    return pkts


GENERATORS = {
    "threshold-scan": lambda path, rng: wrpcap(str(path), gen_scan(rng), linktype=DLT_EN10MB),
    "threshold-flood": lambda path, rng: wrpcap(str(path), gen_flood(rng), linktype=DLT_EN10MB),
}


def main(argv):
    return pcapgen.run(argv, GENERATORS, SEED, __doc__, "gen-threshold-pcaps")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
