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
  imix       a 7:4:1 mix of 64-, 576- and 1500-byte frames in whole flows: web
             clients in 10.1.0.0/16 fetch pages from servers in 198.51.100.0/24
             and 203.0.113.0/24 (handshake, an HTTP request, a response of 14
             segments of text each ACKed, FIN both ways: 21 + 12 + 3 frames),
             and one flow in five is a UDP exchange on port 53 of the same mix;
             1,000 flows are open at once (scripts/bench.sh)
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


def tcp(sport, dport, seq, flags, data=b"", ack=0):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data


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
        yield from imix(n, rng)
    else:
        raise SystemExit(f"gen-bulk-pcap: unknown kind '{kind}'")


# IMIX: frame sizes on the wire less the FCS. Small frames are padded.
IMIX_SMALL, IMIX_MEDIUM, IMIX_LARGE = 64, 576, 1500
IMIX_OPEN_FLOWS = 1000
WORDS = ("the of and to in is for on that with as by this from at are be or an it not your "
         "page news home search login account price product order cart help contact about "
         "data report update image video download user time service system network cloud "
         "server client request response content style script table value result").split()


def text(rng, size):
    """Printable HTML-ish text of exactly `size` bytes (payloads to scan)."""
    out, n = [], 0
    while n < size:
        w = rng.choice(WORDS)
        piece = f"<p class=\"{w}\">" if rng.random() < 0.05 else w + " "
        out.append(piece)
        n += len(piece)
    return "".join(out).encode()[:size]


def tcp_frame(src, dst, sport, dport, seq, ack, flags, data, ident):
    frame = ether(ipv4(src, dst, 6, tcp(sport, dport, seq, flags, data, ack), ident))
    return frame + bytes(max(0, IMIX_SMALL - len(frame)))


def imix_web_flow(rng, k, bodies):
    """One HTTP-like TCP connection: 21 small, 12 medium and 3 large frames."""
    cli = addr(10, 1, (k >> 8) & 0xFF, k & 0xFF)
    srv = addr(198, 51, 100, 1 + k % 200) if k % 2 else addr(203, 0, 113, 1 + k % 200)
    cport, sport = 32768 + k % 28000, 80 if k % 4 else 8080
    cs, ss = rng.getrandbits(32), rng.getrandbits(32)
    ident = rng.getrandbits(16)
    medium_data, large_data = IMIX_MEDIUM - 54, IMIX_LARGE - 54
    ack, syn, fin, psh = 0x10, 0x02, 0x01, 0x08

    def c2s(flags, data=b""):
        nonlocal cs
        f = tcp_frame(cli, srv, cport, sport, cs, ss if flags != syn else 0, flags, data, ident + 1)
        cs = (cs + len(data) + (1 if flags & (syn | fin) else 0)) & 0xFFFFFFFF
        return f

    def s2c(flags, data=b""):
        nonlocal ss
        f = tcp_frame(srv, cli, sport, cport, ss, cs, flags, data, ident + 2)
        ss = (ss + len(data) + (1 if flags & (syn | fin) else 0)) & 0xFFFFFFFF
        return f

    yield c2s(syn)
    yield s2c(syn | ack)
    yield c2s(ack)
    path = "/" + "/".join(rng.choice(WORDS) for _ in range(3)) + f"?id={k}"
    req = (f"GET {path} HTTP/1.1\r\nHost: www.site{k % 500}.example\r\n"
           "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
           "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
           "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: identity\r\nConnection: close\r\n"
           "Cookie: session=").encode()
    req += f"{rng.getrandbits(128):032x}".encode() * 8
    req = req[:medium_data - 4] + b"\r\n\r\n"
    yield c2s(psh | ack, req)
    yield s2c(ack)
    # 11 medium and 3 large segments, each ACKed by the client.
    sizes = [medium_data] * 11 + [large_data] * 3
    rng.shuffle(sizes)
    length = sum(sizes)
    head = (f"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n<html><body>").encode()
    for i, size in enumerate(sizes):
        body = bodies[rng.randrange(len(bodies))]
        data = (head + body)[:size] if i == 0 else body[:size]
        yield s2c(psh | ack, data)
        yield c2s(ack)
    yield s2c(fin | ack)
    yield c2s(fin | ack)
    yield s2c(ack)


def imix_udp_flow(rng, k, bodies):
    """A UDP exchange with port 53 in the same 7:4:1 mix."""
    cli = addr(10, 1, 200 + (k >> 8) % 50, k & 0xFF)
    srv = addr(198, 51, 100, 250 + k % 5)
    cport, ident = 1024 + k % 60000, rng.getrandbits(16)
    order = ["s"] * 7 + ["m"] * 4 + ["l"]
    rng.shuffle(order)
    for i, kind in enumerate(order):
        if kind == "s":
            data = struct.pack("!HHHHHH", (k + i) & 0xFFFF, 0x0100, 1, 0, 0, 0) + b"\x01w\x02ex\x00\x00\x10\x00\x01"
            yield ether(ipv4(cli, srv, 17, udp(cport, 53, data), ident + i))
        else:
            # An answer of TXT strings filling the frame.
            size = (IMIX_MEDIUM if kind == "m" else IMIX_LARGE) - 42
            rdlen, body, rdata = size - 34, bodies[i % len(bodies)], b""
            while len(rdata) < rdlen:
                chunk = min(255, rdlen - len(rdata) - 1)
                rdata += bytes([chunk]) + body[len(rdata):len(rdata) + chunk]
            data = (struct.pack("!HHHHHH", (k + i) & 0xFFFF, 0x8180, 1, 1, 0, 0) + b"\x01w\x02ex\x00\x00\x10\x00\x01"
                    + struct.pack("!HHHIH", 0xC00C, 16, 1, 300, rdlen) + rdata)
            yield ether(ipv4(srv, cli, 17, udp(53, cport, data), ident + i))


def imix(n, rng):
    """n frames of IMIX_OPEN_FLOWS interleaved flows; a flow that ends is replaced."""
    bodies = [text(rng, IMIX_LARGE) for _ in range(64)]
    started = 0

    def new_flow():
        nonlocal started
        k = started
        started += 1
        return imix_udp_flow(rng, k, bodies) if k % 5 == 4 else imix_web_flow(rng, k, bodies)

    open_flows = [new_flow() for _ in range(IMIX_OPEN_FLOWS)]
    emitted = 0
    while emitted < n:
        i = rng.randrange(len(open_flows))
        frame = next(open_flows[i], None)
        if frame is None:
            open_flows[i] = new_flow()
            continue
        yield frame
        emitted += 1


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
