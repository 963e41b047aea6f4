#!/usr/bin/python3
"""Large captures, written directly (scapy is far too slow for millions of
packets). Deterministic: the same arguments give the same bytes.

    scripts/gen-bulk-pcap.py KIND OUT.pcap [--packets N] [--seed S] [--pps R] [--sources N]

Packets are --pps apart in packet time (default 100,000 per second, a
realistic flood rate on one 1 GbE link).

Kinds:
  tokens     UDP datagrams 10.9.0.0/16 -> 10.8.0.1:9999 carrying "alpha beta"
             (a reload test: every packet matches a rule on either token)
  syn-flood  64-byte TCP SYNs from spoofed sources to 10.1.0.10:80. Sources are
             drawn uniformly from the unicast space 1.0.0.0-223.255.255.255
             (nearly one distinct source per packet); with --sources N, from
             exactly N distinct addresses spread over that space less 10.0.0.0/8
             and 127.0.0.0/8, each sending equally often in a scrambled order
             (min(N, packets) distinct sources), e.g. the 10-million-source
             flood: `syn-flood out.pcap --packets 10000000 --sources 10000000`;
             with --bots N every tenth SYN comes from one of N fixed sources
             203.0.113.1.. (the heavy hitters of scripts/bench-flood-memory.sh)
  imix       a 7:4:1 mix of 64-, 594- and 1518-byte TCP/UDP frames over 1024 flows
"""

import argparse
import math
import random
import struct
import sys

T0 = 1_700_000_000


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0, 64, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def ether(payload):
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + payload


def addr(a, b, c, d):
    return bytes((a, b, c, d))


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport, seq, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + data


# The unicast space less 10/8 (the test deployments) and 127/8: 221 * 2^24
# addresses; k -> (k * A + B) mod SPACE is a bijection (A is coprime to SPACE
# = 13 * 17 * 2^24), so N distinct indexes give N distinct addresses.
FIRST_OCTETS = [o for o in range(1, 224) if o not in (10, 127)]
SPACE = len(FIRST_OCTETS) << 24
SPREAD_A, SPREAD_B = 2654435761, 0x5BD1E995


def spread(k):
    v = (k * SPREAD_A + SPREAD_B) % SPACE
    return addr(FIRST_OCTETS[v >> 24], (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)


def frames(kind, n, rng, sources=None, bots=0):
    if kind == "tokens":
        for i in range(n):
            src = addr(10, 9, (i >> 8) & 0xFF, i & 0xFF)
            yield ether(ipv4(src, addr(10, 8, 0, 1), 17, udp(20000 + (i % 4096), 9999, b"alpha beta"), i))
    elif kind == "syn-flood":
        if sources:
            # Walk all N sources in a scrambled cycle: a step coprime to N.
            step, first = 2654435761 % sources or 1, rng.randrange(sources)
            while math.gcd(step, sources) != 1:
                step += 1
        for i in range(n):
            if bots and i % 10 == 0:
                # Every tenth SYN comes from one of a few real machines (a
                # botnet's heavy hitters among the spoofed addresses).
                src = addr(203, 0, 113, 1 + (i // 10) % bots)
            elif sources:
                src = spread((i * step + first) % sources)
            else:
                src = addr(rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
            seg = tcp(rng.randrange(1024, 65536), 80, rng.getrandbits(32), 0x02)
            yield ether(ipv4(src, addr(10, 1, 0, 10), 6, seg, i))
    elif kind == "imix":
        sizes = [64] * 7 + [594] * 4 + [1518]
        for i in range(n):
            size = sizes[i % len(sizes)]
            flow = rng.randrange(1024)
            src, dst = addr(10, 20, flow >> 8, flow & 0xFF), addr(10, 30, 0, 1)
            if flow % 2:
                body = bytes(size - 14 - 20 - 20)
                yield ether(ipv4(src, dst, 6, tcp(30000 + flow, 443, i, 0x18, body), i))
            else:
                body = bytes(size - 14 - 20 - 8)
                yield ether(ipv4(src, dst, 17, udp(30000 + flow, 53, body), i))
    else:
        raise SystemExit(f"gen-bulk-pcap: unknown kind '{kind}'")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind")
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--pps", type=int, default=100_000, help="packets per second of packet time")
    ap.add_argument("--sources", type=int, default=None, help="syn-flood: draw sources from N distinct addresses")
    ap.add_argument("--bots", type=int, default=0,
                    help="syn-flood: every tenth SYN from one of N fixed sources (203.0.113.1 ..)")
    args = ap.parse_args()
    if args.sources is not None and not 1 <= args.sources <= SPACE:
        ap.error(f"--sources must be between 1 and {SPACE}")
    if args.pps < 1:
        ap.error("--pps must be positive")
    rng = random.Random(f"{args.seed}-{args.kind}")
    with open(args.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames(args.kind, args.packets, rng, args.sources, args.bots)):
            usec = i * 1_000_000 // args.pps
            f.write(struct.pack("<IIII", T0 + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
            f.write(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
