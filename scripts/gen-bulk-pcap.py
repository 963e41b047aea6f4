#!/usr/bin/python3
"""Large captures, written directly (scapy is far too slow for millions of
packets). Deterministic: the same arguments give the same bytes.

    scripts/gen-bulk-pcap.py KIND OUT.pcap [--packets N] [--seed S]

Kinds:
  tokens     UDP datagrams 10.9.0.0/16 -> 10.8.0.1:9999 carrying "alpha beta"
             (a reload test: every packet matches a rule on either token)
  syn-flood  64-byte TCP SYNs from spoofed sources to 10.1.0.10:80
  imix       a 7:4:1 mix of 64-, 594- and 1518-byte TCP/UDP frames over 1024 flows
"""

import argparse
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


def frames(kind, n, rng):
    if kind == "tokens":
        for i in range(n):
            src = addr(10, 9, (i >> 8) & 0xFF, i & 0xFF)
            yield ether(ipv4(src, addr(10, 8, 0, 1), 17, udp(20000 + (i % 4096), 9999, b"alpha beta"), i))
    elif kind == "syn-flood":
        for i in range(n):
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
    args = ap.parse_args()
    rng = random.Random(f"{args.seed}-{args.kind}")
    with open(args.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames(args.kind, args.packets, rng)):
            usec = i * 10  # 100 kpps of packet time
            f.write(struct.pack("<IIII", T0 + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
            f.write(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
