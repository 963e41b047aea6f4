#!/usr/bin/python3
"""Seeded attack captures for the attribution tests (test/pcap/cases/attrib-*).

One capture per scenario, each a pure function of its name and the seed, so
tests can assert exact values. Written directly with struct (no scapy): the
floods hold up to 110,000 packets. Every checksum is right, every TCP
conversation has its handshake, its data and its close (FIN or RST).

    scripts/gen-attack-pcaps.py OUTDIR [NAME ...]      # default: all scenarios

Address plan (documentation and private ranges only):
  10.1.0.0/16      deployment "web" (owner web@example.com)
  10.2.0.0/16      deployment "db"
  198.51.100.0/24, 203.0.113.0/24   external hosts
  spoofed sources  drawn from the whole unicast space, outside 10.0.0.0/8

Rates are set at least 5x above the default detector thresholds
(rules/thresholds.yaml) for positives and at most 1/5 of them for negatives;
floods start on a whole second of packet time and last at least two full
seconds. docs/detection.md ("Test data") lists the scenarios.

Scenarios: see SCENARIOS below (printed by --help).
"""

SCENARIOS = [
    ("bruteforce-rdp-inbound", "75 failed RDP/NLA logins 203.0.113.9 -> 10.1.0.10:3389 in 100 s"),
    ("bruteforce-smb-inbound", "75 SMB2 logons ending STATUS_LOGON_FAILURE 198.51.100.23 -> 10.1.0.11:445"),
    ("bruteforce-mssql-inbound", "75 TDS logins 'Login failed for user sa' 203.0.113.50 -> 10.2.0.5:1433"),
    ("bruteforce-ssh-outbound", "75 failed SSH password logins 10.1.0.12 -> 198.51.100.77:22"),
    ("bruteforce-rdp-internal", "75 RDP attempts 10.1.0.13 -> 10.2.0.20:3389, a third reset at once"),
    ("bruteforce-telnet-inbound", "75 failed telnet logins 203.0.113.66 -> 10.1.0.14:23"),
    ("bruteforce-neg-few-failures", "3 failed SSH logins then one long session (negative)"),
    ("bruteforce-neg-busy-service", "50 clients, 1-2 long SSH sessions each, to 10.1.0.20:22 (negative)"),
    ("synflood-inbound", "6000 SYN/s for 3 s at 10.1.0.10:443: spoofed sources plus 5 bots"),
    ("synflood-outbound", "6000 SYN/s for 2.5 s from 10.1.0.30 to 198.51.100.80:80"),
    ("udpflood-inbound", "55,000 UDP pkt/s for 2 s from 203.0.113.200 to 10.1.0.40"),
    ("udpflood-internal", "55,000 UDP pkt/s for 2 s from 10.1.0.50 to 10.2.0.60"),
    ("icmpflood-inbound", "12,000 echo requests/s for 2 s, spoofed, to 10.1.0.42"),
    ("fragflood-inbound", "7,000 IPv4 fragments/s for 2 s from 198.51.100.66 to 10.1.0.41"),
    ("flood-neg-download", "one 8.7 MB HTTPS download 203.0.113.10 -> 10.1.0.70 at ~12k pkt/s (negative)"),
    ("flood-neg-dns-resolver", "resolver 10.2.0.53 answering 1,500 queries/s from 200 VMs (negative)"),
    ("amplification-memcached-inbound", "5,500 memcached (11211) responses/s from 400 reflectors to 10.1.0.80"),
    ("amplification-ssdp-inbound", "6,000 SSDP (1900) responses/s from 1,200 reflectors to 10.2.0.90"),
    ("reflector-dns-outbound", "10.1.0.53 answers 3,000 spoofed ANY queries/s with 1.2 KB, victim 203.0.113.99"),
    ("reflector-ntp-outbound", "10.2.0.123 answers 300 monlist requests/s x 10 replies, victim 198.51.100.200"),
    ("amplification-neg-dns-server", "authoritative 10.1.0.54, 80 queries/s, answers ~1.3x (negative)"),
    ("portscan-inbound", "SYN scan of 1000 ports 203.0.113.45 -> 10.1.0.100 in 6 s"),
    ("portscan-outbound", "connect scan of 300 ports 10.1.0.101 -> 198.51.100.150, mostly filtered"),
    ("portscan-internal", "SYN scan of 200 ports 10.2.0.102 -> 10.1.0.103"),
    ("sweep-inbound", "TCP 3389 SYN to 400 hosts of 10.1.0.0/16 from 198.51.100.201 in 20 s"),
    ("sweep-outbound", "TCP 22 SYN from 10.1.0.110 to 400 external hosts in 30 s"),
    ("sweep-internal", "ICMP echo from 10.1.0.120 to 400 hosts of 10.2.0.0/16 in 20 s"),
    ("scan-neg-few-ports", "one client using 4 services of one server, one port refused (negative)"),
    ("sweep-neg-monitoring", "10.2.0.200 polls 10 web hosts (ping + HTTP) every 15 s (negative)"),
    ("spam-outbound", "10.1.0.130 delivers to 100 mail servers on 25 in 240 s (120 sessions)"),
    ("spam-neg-relay", "relay 10.1.0.25 delivers 30 mails to 3 servers in 300 s (negative)"),
]

import struct
import sys

import pcapgen  # beside this script: the shared command line

SEED = 20261128
T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z: every capture starts here

WEB, DB = "10.1.", "10.2."


# ---------------------------------------------------------------- packets

def ip_bytes(text):
    return bytes(int(x) for x in text.split("."))


def checksum(data):
    """Internet checksum: the one's-complement sum is the value modulo 65535."""
    if len(data) % 2:
        data += b"\0"
    n = int.from_bytes(data, "big")
    s = n % 0xFFFF
    if s == 0 and n:
        s = 0xFFFF
    return ~s & 0xFFFF


def mac(ip):
    return b"\x02\x00" + ip


class Capture:
    """Records in any order; written sorted by time (stable)."""

    def __init__(self):
        self.recs = []
        self.ident = {}

    def next_id(self, src):
        v = self.ident.get(src)
        if v is None:
            v = (int.from_bytes(ip_bytes(src), "big") * 7919) & 0xFFFF
        self.ident[src] = (v + 1) & 0xFFFF
        return v

    def ip(self, t, src, dst, proto, payload, ttl=64, df=True, frag=None, ident=None):
        """One IPv4 packet in an Ethernet frame. frag = (offset_bytes, more_fragments)."""
        s, d = ip_bytes(src), ip_bytes(dst)
        if ident is None:
            ident = self.next_id(src)
        flags = 0x4000 if df else 0
        if frag is not None:
            flags = (0x2000 if frag[1] else 0) | (frag[0] // 8)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl, proto, 0, s, d)
        hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
        self.recs.append((int(round(t * 1e6)), len(self.recs), mac(d) + mac(s) + b"\x08\x00" + hdr + payload))

    def write(self, path):
        self.recs.sort(key=lambda r: (r[0], r[1]))
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for usec, _, frame in self.recs:
                f.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
                f.write(frame)


def pseudo(src, dst, proto, length):
    return ip_bytes(src) + ip_bytes(dst) + struct.pack("!BBH", 0, proto, length)


def tcp_segment(src, dst, sport, dport, seq, ack, flags, data=b"", win=64240, opts=b""):
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4, flags, win, 0, 0) + opts
    c = checksum(pseudo(src, dst, 6, len(hdr) + len(data)) + hdr + data)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + data


def udp_datagram(src, dst, sport, dport, data):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    c = checksum(pseudo(src, dst, 17, 8 + len(data)) + hdr + data) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + data


def icmp_message(typ, code, ident, seq, data):
    hdr = struct.pack("!BBHHH", typ, code, 0, ident, seq)
    c = checksum(hdr + data)
    return hdr[:2] + struct.pack("!H", c) + hdr[4:] + data


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SYN_OPTS = bytes.fromhex("020405b4" "0402" "080a") + b"\0" * 8 + bytes.fromhex("01030307")  # MSS, SACK ok, TS, WS
SYNACK_OPTS = bytes.fromhex("020405b4" "0101" "0402" "01030307")                          # MSS, SACK ok, WS
MSS = 1448


class Tcp:
    """One TCP conversation as seen at the tap: seq/ack bookkeeping, segments
    of at most MSS, a delayed ACK every second segment."""

    def __init__(self, cap, rng, cli, srv, sport, dport, rtt=0.02, cttl=64, sttl=64):
        self.cap, self.rng = cap, rng
        self.cli, self.srv, self.sport, self.dport = cli, srv, sport, dport
        self.cseq, self.sseq = rng.getrandbits(32), rng.getrandbits(32)
        self.rtt, self.cttl, self.sttl = rtt, cttl, sttl

    def seg(self, t, from_client, flags, data=b"", opts=b""):
        syn = flags & SYN
        if from_client:
            p = tcp_segment(self.cli, self.srv, self.sport, self.dport, self.cseq, self.sseq if flags & ACK else 0,
                            flags, data, win=64240 if syn else 502, opts=opts)
            self.cap.ip(t, self.cli, self.srv, 6, p, ttl=self.cttl)
            self.cseq += len(data) + (1 if flags & (SYN | FIN) else 0)
        else:
            p = tcp_segment(self.srv, self.cli, self.dport, self.sport, self.sseq, self.cseq if flags & ACK else 0,
                            flags, data, win=65160 if syn else 509, opts=opts)
            self.cap.ip(t, self.srv, self.cli, 6, p, ttl=self.sttl)
            self.sseq += len(data) + (1 if flags & (SYN | FIN) else 0)

    def half(self):
        return self.rtt / 2 * (0.8 + 0.4 * self.rng.random())

    def handshake(self, t):
        self.seg(t, True, SYN, opts=SYN_OPTS)
        t += self.half()
        self.seg(t, False, SYN | ACK, opts=SYNACK_OPTS)
        t += self.half()
        self.seg(t, True, ACK)
        return t

    def refused(self, t):
        """SYN answered by RST-ACK (closed port)."""
        self.seg(t, True, SYN, opts=SYN_OPTS)
        t += self.half()
        self.seg(t, False, RST | ACK)
        return t

    def send(self, t, from_client, data, gap=0.0002):
        """Data one way, ACKed by the other side; returns when the last ACK passed."""
        n = 0
        for i in range(0, len(data), MSS):
            self.seg(t, from_client, PSH | ACK if i + MSS >= len(data) else ACK, data[i:i + MSS])
            n += 1
            if n % 2 == 0:
                self.seg(t + self.half(), not from_client, ACK)
            t += gap
        if n % 2:
            t += self.half()
            self.seg(t, not from_client, ACK)
        return t

    def exchange(self, t, steps):
        """steps: (from_client, data, think seconds before sending)."""
        for from_client, data, think in steps:
            t = self.send(t + think, from_client, data)
        return t

    def close(self, t, by_client=True):
        self.seg(t, by_client, FIN | ACK)
        t += self.half()
        self.seg(t, not by_client, FIN | ACK)
        t += self.half()
        self.seg(t, by_client, ACK)
        return t

    def reset(self, t, by_client):
        self.seg(t, by_client, RST | ACK)
        return t


# ------------------------------------------------------- application bytes

def ssh_packet(rng, payload, block=8):
    pad = block - (len(payload) + 5) % block
    pad += block if pad < 4 else 0
    return struct.pack("!IB", len(payload) + pad + 1, pad) + payload + rng.randbytes(pad)


def name_list(*names):
    s = ",".join(names).encode()
    return struct.pack("!I", len(s)) + s


def ssh_kexinit(rng, server):
    kex = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"]
    keys = ["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"]
    ciphers = ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr", "aes128-gcm@openssh.com"]
    macs = ["umac-64-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"]
    comp = ["none", "zlib@openssh.com"] if server else ["none"]
    body = (b"\x14" + rng.randbytes(16) + name_list(*kex) + name_list(*keys) + name_list(*ciphers) * 2
            + name_list(*macs) * 2 + name_list(*comp) * 2 + name_list() * 2 + b"\0" + b"\0\0\0\0")
    return ssh_packet(rng, body)


def ssh_string(b):
    return struct.pack("!I", len(b)) + b


def ssh_ecdh_reply(rng):
    hostkey = ssh_string(b"ssh-ed25519") + ssh_string(rng.randbytes(32))
    sig = ssh_string(b"ssh-ed25519") + ssh_string(rng.randbytes(64))
    return ssh_packet(rng, b"\x1f" + ssh_string(hostkey) + ssh_string(rng.randbytes(32)) + ssh_string(sig))


SSH_CLIENT = b"SSH-2.0-libssh_0.9.6\r\n"
SSH_SERVER = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"


def ssh_failed_login(rng, tcp, t, tries=1):
    """Banners, key exchange, password tries that fail, client closes."""
    t = tcp.exchange(t, [(False, SSH_SERVER, 0.002), (True, SSH_CLIENT, 0.001),
                         (True, ssh_kexinit(rng, False), 0.0005), (False, ssh_kexinit(rng, True), 0.001),
                         (True, ssh_packet(rng, b"\x1e" + struct.pack("!I", 32) + rng.randbytes(32)), 0.001),
                         (False, ssh_ecdh_reply(rng) + ssh_packet(rng, b"\x15"), 0.004),
                         (True, ssh_packet(rng, b"\x15") + rng.randbytes(52), 0.001),   # NEWKEYS + SERVICE_REQUEST
                         (False, rng.randbytes(44), 0.001)])
    for _ in range(tries):
        t = tcp.exchange(t, [(True, rng.randbytes(rng.choice([84, 100, 116])), 0.05),
                             (False, rng.randbytes(52), rng.uniform(1.5, 2.5))])  # PAM's failure delay
    return tcp.close(t + 0.01, by_client=True)


def tls_record(rng, ctype, n):
    return struct.pack("!BHH", ctype, 0x0303, n) + rng.randbytes(n)


def rdp_failed_login(rng, tcp, t, user):
    cookie = b"Cookie: mstshash=" + user + b"\r\n"
    neg_req = bytes.fromhex("0100080003000000")
    x224 = bytes([6 + len(cookie) + len(neg_req), 0xE0, 0, 0, 0, 0, 0]) + cookie + neg_req
    cr = struct.pack("!BBH", 3, 0, 4 + len(x224)) + x224
    cc = bytes.fromhex("030000130ed000001234000201080002000000")
    t = tcp.exchange(t, [(True, cr, 0.001), (False, cc, 0.001),
                         (True, tls_record(rng, 22, 212), 0.001),
                         (False, tls_record(rng, 22, 1180) + tls_record(rng, 22, 4), 0.002),
                         (True, tls_record(rng, 22, 70) + tls_record(rng, 20, 1) + tls_record(rng, 22, 40), 0.002),
                         (False, tls_record(rng, 20, 1) + tls_record(rng, 22, 40), 0.001),
                         (True, tls_record(rng, 23, 90), 0.002), (False, tls_record(rng, 23, 290), 0.002),
                         (True, tls_record(rng, 23, 520), 0.003),
                         (False, tls_record(rng, 23, 40), rng.uniform(0.2, 0.6))])  # SEC_E_LOGON_DENIED
    return tcp.close(t + 0.001, by_client=False)


def nbss(data):
    return struct.pack("!I", len(data)) + data


def smb2(cmd, status, mid, sid, body, response):
    flags = 1 if response else 0
    hdr = (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 1, status, cmd, 1 if response else 31, flags, 0, mid,
                                    0xFEFF, 0, sid) + b"\0" * 16)
    return nbss(hdr + body)


NTLM_FLAGS = 0xE2088297
NTLM_VERSION = bytes.fromhex("0a0063450000000f")


def ntlm_negotiate():
    return b"NTLMSSP\0" + struct.pack("<II", 1, NTLM_FLAGS) + b"\0" * 16 + NTLM_VERSION


def ntlm_challenge(rng, target):
    name = target.encode("utf-16-le")
    info = (struct.pack("<HH", 2, len(name)) + name + struct.pack("<HH", 1, len(name)) + name
            + struct.pack("<HH", 7, 8) + struct.pack("<Q", 133_600_000_000_000_000) + b"\0\0\0\0")
    off = 56
    return (b"NTLMSSP\0" + struct.pack("<IHHII", 2, len(name), len(name), off, NTLM_FLAGS) + rng.randbytes(8) + b"\0" * 8
            + struct.pack("<HHI", len(info), len(info), off + len(name)) + NTLM_VERSION + name + info)


def ntlm_authenticate(rng, domain, user, host):
    lm, nt = b"\0" * 24, rng.randbytes(16) + bytes.fromhex("0101000000000000") + rng.randbytes(16) + b"\0" * 4
    fields = [lm, nt, domain.encode("utf-16-le"), user.encode("utf-16-le"), host.encode("utf-16-le"), rng.randbytes(16)]
    order = [2, 3, 4, 0, 1, 5]          # payload order: domain, user, host, LM, NT, session key
    off, offsets = 88, {}
    for k in order:
        offsets[k] = off
        off += len(fields[k])
    hdr = b"NTLMSSP\0" + struct.pack("<I", 3)
    for k in range(6):
        if k == 5:
            continue
        hdr += struct.pack("<HHI", len(fields[k]), len(fields[k]), offsets[k])
    hdr += struct.pack("<HHI", 16, 16, offsets[5]) + struct.pack("<I", NTLM_FLAGS) + NTLM_VERSION + rng.randbytes(16)  # MIC
    return hdr + b"".join(fields[k] for k in order)


def smb_failed_login(rng, tcp, t, user):
    neg = struct.pack("<HHHHI", 36, 4, 1, 0, 0x7F) + rng.randbytes(16) + b"\0" * 8 + struct.pack("<4H", 0x202, 0x210, 0x300, 0x302)
    neg_rsp = (struct.pack("<HHHH", 65, 1, 0x0302, 0) + rng.randbytes(16) + struct.pack("<IIII", 0x2F, 8388608, 8388608, 8388608)
               + struct.pack("<QQ", 133_600_000_000_000_000, 0) + struct.pack("<HHI", 0, 0, 0))
    ntlm_neg = ntlm_negotiate()
    ss1 = struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 88, len(ntlm_neg), 0) + ntlm_neg
    chal = ntlm_challenge(rng, "WEB11")
    ss1_rsp = struct.pack("<HHHH", 9, 0, 72, len(chal)) + chal
    ntlm_auth = ntlm_authenticate(rng, "WORKGROUP", user, "KALI")
    ss2 = struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 88, len(ntlm_auth), 0) + ntlm_auth
    sid = rng.getrandbits(64)
    t = tcp.exchange(t, [(True, smb2(0, 0, 0, 0, neg, False), 0.001),
                         (False, smb2(0, 0, 0, 0, neg_rsp, True), 0.001),
                         (True, smb2(1, 0, 1, 0, ss1, False), 0.001),
                         (False, smb2(1, 0xC0000016, 1, sid, ss1_rsp, True), 0.001),       # MORE_PROCESSING_REQUIRED
                         (True, smb2(1, 0, 2, sid, ss2, False), 0.001),
                         (False, smb2(1, 0xC000006D, 2, sid, struct.pack("<HBBI", 9, 0, 0, 0), True),  # LOGON_FAILURE
                          rng.uniform(0.01, 0.05))])
    return tcp.close(t + 0.001, by_client=True)


def tds(ptype, data, pid=1):
    return struct.pack("!BBHHBB", ptype, 1, 8 + len(data), 0, pid, 0) + data


def tds_login7(rng, user):
    """A LOGIN7 record: 94-byte fixed part, then the variable strings (UTF-16)."""
    pw = bytes(((b << 4 | b >> 4) & 0xFF) ^ 0xA5 for b in rng.choice(PASSWORDS).decode().encode("utf-16-le"))
    strings = ["KALI".encode("utf-16-le"), user.encode("utf-16-le"), pw, "sqlcmd".encode("utf-16-le"),
               "10.2.0.5".encode("utf-16-le"), b"", "ODBC".encode("utf-16-le"), b"", "master".encode("utf-16-le")]
    off, pairs, data = 94, b"", b""
    for s in strings:
        pairs += struct.pack("<HH", off, len(s) // 2)
        data += s
        off += len(s)
    fixed = (struct.pack("<IIIIII", 0, 0x74000004, 4096, 0x07000000, rng.randrange(1000, 60000), 0) + bytes((0xE0, 0x03, 0, 0))
             + struct.pack("<iI", -120, 0x409) + pairs + rng.randbytes(6) + struct.pack("<HHHHHHI", off, 0, off, 0, off, 0, 0))
    body = fixed + data
    return struct.pack("<I", len(body)) + body[4:]


def mssql_failed_login(rng, tcp, t, user):
    prelogin = bytes.fromhex("000015000601001b000102001c000103001d0000ff") + bytes.fromhex("0e0000000000") + b"\x02" + b"\0" + b"\0\0\0\0"
    msg = f"Login failed for user '{user}'.".encode("utf-16-le")
    err = (b"\xaa" + struct.pack("<HIBB", 4 + 1 + 1 + 2 + len(msg) + 1 + 14 + 1 + 4, 18456, 1, 14)
           + struct.pack("<H", len(msg) // 2) + msg + b"\x07" + "SQLPROD".encode("utf-16-le") + b"\x00" + struct.pack("<I", 1))
    done = b"\xfd" + struct.pack("<HHQ", 2, 0, 0)
    login7 = tds_login7(rng, user)
    t = tcp.exchange(t, [(True, tds(0x12, prelogin), 0.001), (False, tds(0x04, prelogin[:26] + b"\x02\0\0\0\0"), 0.001),
                         (True, tds(0x10, login7), 0.001), (False, tds(0x04, err + done), rng.uniform(0.02, 0.1))])
    return tcp.close(t + 0.001, by_client=True)


def telnet_failed_login(rng, tcp, t, user, password):
    t = tcp.exchange(t, [(False, bytes.fromhex("fffd18fffd20fffd23fffd27"), 0.002),
                         (True, bytes.fromhex("fffb18fffc20fffc23fffc27"), 0.001),
                         (False, bytes.fromhex("fffa1801fff0fffb03fffd01fffd1ffffb05fffd21"), 0.001),
                         (True, bytes.fromhex("fffa1800585445524dfff0fffd03fffc01fffb1f"), 0.001),
                         (False, b"\r\nUbuntu 22.04.4 LTS\r\nweb14 login: ", 0.01),
                         (True, user + b"\r\n", 0.2), (False, user + b"\r\nPassword: ", 0.01),
                         (True, password + b"\r\n", 0.2),
                         (False, b"\r\nLogin incorrect\r\nweb14 login: ", rng.uniform(2.0, 3.0))])
    return tcp.close(t + 0.01, by_client=True)


USERS = [b"administrator", b"admin", b"user", b"test", b"backup", b"scanner", b"guest", b"root"]
PASSWORDS = [b"123456", b"password", b"admin", b"qwerty", b"letmein", b"P@ssw0rd", b"welcome1", b"root"]


# ------------------------------------------------------------- scenarios

def doc_host(rng):
    """An address in 198.51.100.0/24 or 203.0.113.0/24."""
    return rng.choice(("198.51.100.", "203.0.113.")) + str(rng.randrange(1, 255))


TUNNEL_PORTS = {4789, 4790, 6081, 8472}  # VXLAN, VXLAN-GPE, GENEVE, flannel: Safeguard decodes these


def any_port(rng, low=1):
    """A random destination port that is not an overlay tunnel's."""
    while True:
        p = rng.randrange(low, 65536)
        if p not in TUNNEL_PORTS:
            return p


def spoofed(rng):
    """A unicast address from the whole space, outside 10.0.0.0/8 (our deployments)."""
    while True:
        a = rng.randrange(1, 224)
        if a not in (10, 127):
            return f"{a}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def bruteforce(login, attacker, target, port, count=75, span=100.0, rst_share=0.0, attacker_ttl=52, target_ttl=64):
    """`count` attempts from one source to one service, `span` seconds, up to
    two in flight (a hydra-style tool with -t 2); a share of them reset by the
    server right after the handshake (a lockout / connection limit)."""
    def gen(path, rng):
        cap = Capture()
        sport = rng.randrange(33000, 60000)
        for i in range(count):
            t = T0 + 1 + span * i / count + rng.uniform(0, span / count / 2)
            sport = 33000 + (sport - 33000 + rng.randrange(1, 40)) % 27000
            tcp = Tcp(cap, rng, attacker, target, sport, port, rtt=rng.uniform(0.01, 0.04), cttl=attacker_ttl, sttl=target_ttl)
            t = tcp.handshake(t)
            if rng.random() < rst_share:
                tcp.reset(t + 0.002, by_client=False)
                continue
            login(rng, tcp, t + 0.001, i)
        cap.write(path)
    return gen


def ssh_login(rng, tcp, t, i):
    return ssh_failed_login(rng, tcp, t)


def rdp_login(rng, tcp, t, i):
    return rdp_failed_login(rng, tcp, t, USERS[i % len(USERS)])


def smb_login(rng, tcp, t, i):
    return smb_failed_login(rng, tcp, t, USERS[i % len(USERS)].decode())


def mssql_login(rng, tcp, t, i):
    return mssql_failed_login(rng, tcp, t, "sa")


def telnet_login(rng, tcp, t, i):
    return telnet_failed_login(rng, tcp, t, USERS[i % len(USERS)], PASSWORDS[i % len(PASSWORDS)])


def interactive_ssh(rng, tcp, t, minutes_ish):
    """A real SSH session: key exchange, successful login, typing, output, a
    file copy, logout: `minutes_ish` seconds long."""
    t = tcp.exchange(t, [(False, SSH_SERVER, 0.002), (True, b"SSH-2.0-OpenSSH_9.6\r\n", 0.001),
                         (True, ssh_kexinit(rng, False), 0.0005), (False, ssh_kexinit(rng, True), 0.001),
                         (True, rng.randbytes(48), 0.001), (False, rng.randbytes(564), 0.004),
                         (True, rng.randbytes(68), 0.001), (False, rng.randbytes(44), 0.001),
                         (True, rng.randbytes(116), 0.05), (False, rng.randbytes(36), 0.05),   # publickey accepted
                         (True, rng.randbytes(112), 0.01), (False, rng.randbytes(600), 0.02)])  # shell, motd
    end = t + minutes_ish
    while t < end:
        # a keystroke, its echo, now and then a command's output
        t = tcp.exchange(t, [(True, rng.randbytes(36), rng.expovariate(1 / 1.5)), (False, rng.randbytes(36), 0.001)])
        if rng.random() < 0.1:
            t = tcp.exchange(t, [(False, rng.randbytes(rng.randrange(200, 1500)), 0.01)])
    t = tcp.exchange(t, [(True, rng.randbytes(rng.randrange(2000, 4000)), 0.1), (False, rng.randbytes(52), 0.01)])
    return tcp.close(t + 0.05, by_client=True)


def gen_bf_neg_few_failures(path, rng):
    """3 wrong passwords (a user who forgot which key), then a working login."""
    cap = Capture()
    t = T0 + 1
    for i in range(3):
        tcp = Tcp(cap, rng, "203.0.113.30", "10.1.0.10", 51000 + i * 7, 22, rtt=0.03, cttl=54)
        t = ssh_failed_login(rng, tcp, tcp.handshake(t)) + rng.uniform(5, 12)
    tcp = Tcp(cap, rng, "203.0.113.30", "10.1.0.10", 51050, 22, rtt=0.03, cttl=54)
    interactive_ssh(rng, tcp, tcp.handshake(t), 90)
    cap.write(path)


def gen_bf_neg_busy_service(path, rng):
    """A busy bastion: 50 clients, each one or two long sessions with data."""
    cap = Capture()
    for c in range(50):
        client = f"{'198.51.100' if c % 2 else '203.0.113'}.{10 + c}"
        t = T0 + 1 + rng.uniform(0, 110)
        for s in range(rng.choice((1, 1, 2))):
            tcp = Tcp(cap, rng, client, "10.1.0.20", rng.randrange(40000, 60000), 22, rtt=rng.uniform(0.01, 0.08), cttl=50)
            t = interactive_ssh(rng, tcp, tcp.handshake(t), rng.uniform(20, 40)) + rng.uniform(5, 30)
    cap.write(path)


def https_session(rng, cap, t, client, server, rtt=0.03, cttl=64, sttl=64, down=4000):
    tcp = Tcp(cap, rng, client, server, rng.randrange(32768, 61000), 443, rtt=rtt, cttl=cttl, sttl=sttl)
    t = tcp.handshake(t)
    t = tcp.exchange(t, [(True, tls_record(rng, 22, 512), 0.001),
                         (False, tls_record(rng, 22, 90) + tls_record(rng, 20, 1) + tls_record(rng, 23, 2400), 0.002),
                         (True, tls_record(rng, 20, 1) + tls_record(rng, 23, 60) + tls_record(rng, 23, 420), 0.002),
                         (False, tls_record(rng, 23, down), 0.01)])
    return tcp.close(t + 0.05, by_client=True)


def gen_synflood_inbound(path, rng):
    """6000 SYN/s for 3 s at 10.1.0.10:443. 85 % from spoofed sources (one SYN
    each), 15 % from 5 bots that do not spoof (the top contributors). The
    server answers the first 256 SYNs (its backlog) and nothing after; a few
    spoofed owners reset the unexpected SYN-ACK. Legitimate HTTPS clients
    around it."""
    cap = Capture()
    victim = "10.1.0.10"
    bots = ["203.0.113.201", "203.0.113.202", "198.51.100.203", "198.51.100.204", "203.0.113.205"]
    for i in range(30):
        https_session(rng, cap, T0 + rng.uniform(0, 4.5), doc_host(rng), victim, rtt=rng.uniform(0.01, 0.08), cttl=55)
    n = 18000
    for i in range(n):
        t = T0 + 1 + 3.0 * i / n + rng.uniform(0, 1 / 6000)
        src = rng.choice(bots) if rng.random() < 0.15 else spoofed(rng)
        sport, seq = rng.randrange(1024, 65536), rng.getrandbits(32)
        cap.ip(t, src, victim, 6, tcp_segment(src, victim, sport, 443, seq, 0, SYN, win=rng.choice((512, 1024, 64240)),
                                               opts=b"" if rng.random() < 0.7 else bytes.fromhex("020405b4")),
               ttl=rng.randrange(40, 250), df=False)
        if i < 256:
            sseq = rng.getrandbits(32)
            cap.ip(t + 0.0001, victim, src, 6, tcp_segment(victim, src, 443, sport, sseq, seq + 1, SYN | ACK, win=65160,
                                                           opts=SYNACK_OPTS))
            if rng.random() < 0.3:
                cap.ip(t + 0.05, src, victim, 6, tcp_segment(src, victim, sport, 443, seq + 1, 0, RST, win=0))
    cap.write(path)


def gen_synflood_outbound(path, rng):
    """Our VM 10.1.0.30 (compromised) floods 198.51.100.80:80 with 6000 SYN/s
    for 2.5 s from its own address; the target answers a few with RST."""
    cap = Capture()
    src, dst = "10.1.0.30", "198.51.100.80"
    for i in range(3):
        https_session(rng, cap, T0 + 0.2 * i, src, "203.0.113.10", sttl=55)
    n = 15000
    for i in range(n):
        t = T0 + 1 + 2.5 * i / n + rng.uniform(0, 1 / 6000)
        sport, seq = rng.randrange(1024, 65536), rng.getrandbits(32)
        cap.ip(t, src, dst, 6, tcp_segment(src, dst, sport, 80, seq, 0, SYN, win=512), df=False)
        if i % 97 == 0:
            cap.ip(t + 0.02, dst, src, 6, tcp_segment(dst, src, 80, sport, 0, seq + 1, RST | ACK, win=0), ttl=55)
    cap.write(path)


def udp_flood(src, dst, rate=55000, seconds=2.0, dports=None, ttl=64):
    def gen(path, rng):
        cap = Capture()
        n = int(rate * seconds)
        sport = any_port(rng, 1024)
        for i in range(n):
            t = T0 + 1 + seconds * i / n
            dport = any_port(rng) if dports is None else dports
            data = rng.randbytes(18)
            cap.ip(t, src, dst, 17, udp_datagram(src, dst, sport, dport, data), ttl=ttl, df=False)
        # the victim's few ICMP port-unreachables (rate-limited by its kernel)
        for i in range(0, n, 1000):
            t = T0 + 1 + seconds * i / n + 0.00003
            inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, ttl, 17, 0, ip_bytes(src), ip_bytes(dst)) + b"\0" * 8
            cap.ip(t, dst, src, 1, icmp_message(3, 3, 0, 0, inner))
        cap.write(path)
    return gen


def gen_icmpflood_inbound(path, rng):
    """12,000 echo requests/s for 2 s from spoofed sources to 10.1.0.42; the
    host is saturated and the tap sees no replies."""
    cap = Capture()
    victim = "10.1.0.42"
    n = 24000
    payload = bytes(range(56))
    for i in range(n):
        t = T0 + 1 + 2.0 * i / n
        src = spoofed(rng)
        cap.ip(t, src, victim, 1, icmp_message(8, 0, rng.getrandbits(16), rng.getrandbits(16), payload),
               ttl=rng.randrange(40, 250), df=False)
    # ordinary pings before the flood, answered
    for i in range(4):
        t = T0 + 0.1 + 0.2 * i
        cap.ip(t, "198.51.100.7", victim, 1, icmp_message(8, 0, 77, i, payload), ttl=56)
        cap.ip(t + 0.01, victim, "198.51.100.7", 1, icmp_message(0, 0, 77, i, payload))
    cap.write(path)


def gen_fragflood_inbound(path, rng):
    """7,000 fragments/s for 2 s from 198.51.100.66 to 10.1.0.41: UDP
    datagrams of 504 bytes cut into 8 fragments of 64 bytes (the last 56)."""
    cap = Capture()
    src, dst = "198.51.100.66", "10.1.0.41"
    n = 14000
    per = 8
    for d in range(n // per):
        data = rng.randbytes(496)
        dgram = udp_datagram(src, dst, any_port(rng, 1024), any_port(rng), data)
        ident = rng.getrandbits(16)
        for k in range(per):
            t = T0 + 1 + 2.0 * (d * per + k) / n
            off = k * 64
            piece = dgram[off:off + 64]
            cap.ip(t, src, dst, 17, piece, ttl=51, frag=(off, k < per - 1), ident=ident)
    cap.write(path)


def gen_flood_neg_download(path, rng):
    """One big HTTPS download: 6,000 full segments (8.7 MB) in 0.5 s (~12,000
    pkt/s with the ACKs) from 203.0.113.10 to 10.1.0.70 — fast, but one
    established flow, not a flood."""
    cap = Capture()
    tcp = Tcp(cap, rng, "10.1.0.70", "203.0.113.10", 44321, 443, rtt=0.012, sttl=57)
    t = tcp.handshake(T0 + 1)
    t = tcp.exchange(t, [(True, tls_record(rng, 22, 512), 0.001),
                         (False, tls_record(rng, 22, 90) + tls_record(rng, 20, 1) + tls_record(rng, 23, 2400), 0.002),
                         (True, tls_record(rng, 20, 1) + tls_record(rng, 23, 60) + tls_record(rng, 23, 300), 0.002)])
    body = b"".join(tls_record(rng, 23, 16379) for _ in range(6000 * MSS // 16384))
    t = tcp.send(t + 0.01, False, body, gap=0.5 / 6000)
    tcp.close(t + 0.01, by_client=True)
    cap.write(path)


def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def dns_query(qid, name, qtype=1, edns=False):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0) + dns_name(name) + struct.pack("!HH", qtype, 1)
    if edns:
        q += b"\0" + struct.pack("!HHIH", 41, 4096, 0, 0)
    return q


def dns_answer(qid, name, qtype, rdatas, ttl=300):
    r = struct.pack("!HHHHHH", qid, 0x8180, 1, len(rdatas), 0, 0) + dns_name(name) + struct.pack("!HH", qtype, 1)
    for rtype, rdata in rdatas:
        r += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata
    return r


def gen_flood_neg_dns_resolver(path, rng):
    """A busy internal resolver 10.2.0.53: 200 VMs of web ask 1,500 queries/s
    for 4 s; answers are 1-3 A records (about 1.5x the query); one miss in
    ten goes upstream to external authoritative servers."""
    cap = Capture()
    res = "10.2.0.53"
    clients = [f"10.1.{rng.randrange(0, 4)}.{rng.randrange(1, 255)}" for _ in range(200)]
    names = [f"{w}.{d}.example" for w in ("api", "www", "cdn", "auth", "db", "queue", "s3", "mail") for d in ("shop", "corp", "svc")]
    auth = ["198.51.100.53", "203.0.113.53", "198.51.100.54"]
    n = 6000
    for i in range(n):
        t = T0 + 1 + 4.0 * i / n + rng.uniform(0, 1 / 1500)
        c = rng.choice(clients)
        qid, sport, name = rng.getrandbits(16), rng.randrange(32768, 61000), rng.choice(names)
        cap.ip(t, c, res, 17, udp_datagram(c, res, sport, 53, dns_query(qid, name)), df=False)
        t += 0.0004
        if rng.random() < 0.1:
            a, uq, up = rng.choice(auth), rng.getrandbits(16), any_port(rng, 1024)
            cap.ip(t, res, a, 17, udp_datagram(res, a, up, 53, dns_query(uq, name, edns=True)), df=False)
            t += rng.uniform(0.01, 0.03)
            cap.ip(t, a, res, 17, udp_datagram(a, res, 53, up, dns_answer(uq, name, 1, [(1, bytes((203, 0, 113, 7)))])), ttl=55, df=False)
            t += 0.0002
        rr = [(1, bytes((10, 1, rng.randrange(256), rng.randrange(1, 255)))) for _ in range(rng.randrange(1, 4))]
        cap.ip(t, res, c, 17, udp_datagram(res, c, 53, sport, dns_answer(qid, name, 1, rr)), df=False)
    cap.write(path)


def reflection_flood(sport, target, reflectors, rate, payload, seconds=2.0):
    """Responses from `reflectors` addresses, source port `sport`, to `target`."""
    def gen(path, rng):
        cap = Capture()
        refl = [spoofed(rng) for _ in range(reflectors)]
        n = int(rate * seconds)
        for i in range(n):
            t = T0 + 1 + seconds * i / n + rng.uniform(0, 1 / rate)
            src = rng.choice(refl)
            cap.ip(t, src, target, 17, udp_datagram(src, target, sport, rng.choice((80, 443, any_port(rng, 1024))),
                                                    payload(rng, i)), ttl=rng.randrange(40, 120), df=False)
        # the target's own traffic goes on: a few HTTPS sessions
        for i in range(5):
            https_session(rng, cap, T0 + 0.5 * i, doc_host(rng), target, cttl=55)
        cap.write(path)
    return gen


MEMCACHED_VALUE = bytes(65 + (i * 7) % 26 for i in range(1400))


def memcached_payload(rng, i):
    """A complete `get` answer per datagram (frame header, VALUE, data, END)."""
    n = rng.randrange(700, 1350)
    hdr = struct.pack("!HHHH", i & 0xFF, 0, 1, 0)
    return hdr + b"VALUE k%d 0 %d\r\n" % (rng.randrange(100), n) + MEMCACHED_VALUE[:n] + b"\r\nEND\r\n"


def ssdp_payload(rng, i):
    uuid = rng.randbytes(16).hex()
    return (f"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nDATE: Thu, 28 May 2026 20:26:41 GMT\r\nEXT:\r\n"
            f"LOCATION: http://192.168.1.1:49152/rootDesc.xml\r\nSERVER: Linux/3.14 UPnP/1.0 MiniUPnPd/1.9\r\n"
            f"ST: upnp:rootdevice\r\nUSN: uuid:{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
            f"::upnp:rootdevice\r\n\r\n").encode()


def gen_reflector_dns_outbound(path, rng):
    """Our open resolver 10.1.0.53 gets 3,000 ANY queries/s for 2 s 'from'
    203.0.113.99 (spoofed: the victim) and answers each with ~1.2 KB."""
    cap = Capture()
    ours, victim = "10.1.0.53", "203.0.113.99"
    n = 6000
    txt = [(16, bytes([250]) + rng.randbytes(250)) for _ in range(4)] + [(48, struct.pack("!HBB", 257, 3, 8) + rng.randbytes(156))]
    for i in range(n):
        t = T0 + 1 + 2.0 * i / n
        qid, sport = rng.getrandbits(16), any_port(rng, 1024)
        cap.ip(t, victim, ours, 17, udp_datagram(victim, ours, sport, 53, dns_query(qid, "isc.example", qtype=255, edns=True)),
               ttl=rng.randrange(40, 60), df=False)
        cap.ip(t + 0.00015, ours, victim, 17, udp_datagram(ours, victim, 53, sport, dns_answer(qid, "isc.example", 255, txt)),
               df=False)
    cap.write(path)


def gen_reflector_ntp_outbound(path, rng):
    """Our NTP server 10.2.0.123 answers 300 monlist (mode 7) requests/s for
    2 s 'from' 198.51.100.200 (spoofed) with 10 replies of 440 bytes each."""
    cap = Capture()
    ours, victim = "10.2.0.123", "198.51.100.200"
    n = 600
    req = bytes.fromhex("17000320") + b"\0" * 44
    for i in range(n):
        t = T0 + 1 + 2.0 * i / n
        sport = rng.choice((123, any_port(rng, 1024)))
        cap.ip(t, victim, ours, 17, udp_datagram(victim, ours, sport, 123, req), ttl=50, df=False)
        for k in range(10):
            body = bytes([0xD7 if k < 9 else 0x97, k, 3, 0x2A]) + struct.pack("!HH", 6, 72) + rng.randbytes(432)
            cap.ip(t + 0.0002 + k * 0.00005, ours, victim, 17, udp_datagram(ours, victim, 123, sport, body), df=False)
    cap.write(path)


def gen_amp_neg_dns_server(path, rng):
    """Authoritative server 10.1.0.54 for shop.example: 300 external clients,
    80 queries/s for 30 s, answers about 1.3x the query (one A record)."""
    cap = Capture()
    ours = "10.1.0.54"
    clients = [spoofed(rng) for _ in range(300)]
    n = 2400
    for i in range(n):
        t = T0 + 1 + 30.0 * i / n + rng.uniform(0, 1 / 80)
        c, qid, sport = rng.choice(clients), rng.getrandbits(16), any_port(rng, 1024)
        name = rng.choice(("www.shop.example", "api.shop.example", "shop.example", "mail.shop.example"))
        cap.ip(t, c, ours, 17, udp_datagram(c, ours, sport, 53, dns_query(qid, name)), ttl=rng.randrange(40, 60), df=False)
        cap.ip(t + 0.0002, ours, c, 17, udp_datagram(ours, c, 53, sport,
                                                     dns_answer(qid, name, 1, [(1, bytes((10, 1, 0, 80)))], ttl=3600)), df=False)
    cap.write(path)


TOP_PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8080]


def port_scan(scanner, target, nports, seconds, open_ports, connect=False, filtered=0.0, sttl=64, cttl=64):
    """One source probing `nports` ports of one target: closed ports answer
    RST-ACK, `filtered` of them nothing, the open ones SYN-ACK (then the
    scanner resets, or completes and resets for a connect scan)."""
    def gen(path, rng):
        cap = Capture()
        ports = TOP_PORTS + [p for p in range(1, 10000) if p not in TOP_PORTS]
        ports = ports[:nports]
        rng.shuffle(ports)
        sport = rng.randrange(40000, 60000)
        for i, port in enumerate(ports):
            t = T0 + 1 + seconds * i / nports + rng.uniform(0, seconds / nports / 2)
            tcp = Tcp(cap, rng, scanner, target, sport if not connect else rng.randrange(32768, 61000), port,
                      rtt=0.004, cttl=cttl, sttl=sttl)
            if port in open_ports:
                if connect:
                    tcp.reset(tcp.handshake(t) + 0.0005, by_client=True)
                else:
                    tcp.seg(t, True, SYN, opts=bytes.fromhex("020405b4"))
                    tcp.seg(t + 0.002, False, SYN | ACK, opts=SYNACK_OPTS)
                    tcp.seg(t + 0.004, True, RST)
            elif rng.random() < filtered:
                tcp.seg(t, True, SYN, opts=bytes.fromhex("020405b4") if not connect else SYN_OPTS)
            else:
                tcp.refused(t)
        cap.write(path)
    return gen


def sweep(scanner, targets, seconds, port=None, answer=0.1, refuse=0.1, sttl=64, cttl=64):
    """One source probing many hosts on one TCP port (SYN) or with ICMP echo
    (port None): `answer` of the hosts answer (SYN-ACK / echo reply), `refuse`
    reset, the rest stay silent."""
    def gen(path, rng):
        cap = Capture()
        hosts = targets(rng)
        rng.shuffle(hosts)
        for i, h in enumerate(hosts):
            t = T0 + 1 + seconds * i / len(hosts)
            r = rng.random()
            if port is None:
                data = bytes(range(56))
                cap.ip(t, scanner, h, 1, icmp_message(8, 0, 4242, i, data), ttl=cttl)
                if r < answer:
                    cap.ip(t + 0.001, h, scanner, 1, icmp_message(0, 0, 4242, i, data), ttl=sttl)
                continue
            tcp = Tcp(cap, rng, scanner, h, rng.randrange(40000, 60000), port, rtt=0.003, cttl=cttl, sttl=sttl)
            if r < answer:
                tcp.seg(t, True, SYN, opts=bytes.fromhex("020405b4"))
                tcp.seg(t + 0.0015, False, SYN | ACK, opts=SYNACK_OPTS)
                tcp.seg(t + 0.003, True, RST)
            elif r < answer + refuse:
                tcp.refused(t)
            else:
                tcp.seg(t, True, SYN, opts=bytes.fromhex("020405b4"))
        cap.write(path)
    return gen


def gen_scan_neg_few_ports(path, rng):
    """A client using one server: HTTPS twice, HTTP, SSH, an admin page on
    8443, and one try at 8080 that is refused — 5 ports."""
    cap = Capture()
    cli, srv = "198.51.100.30", "10.1.0.100"
    t = https_session(rng, cap, T0 + 1, cli, srv, cttl=55)
    t = https_session(rng, cap, t + 2, cli, srv, cttl=55)
    tcp = Tcp(cap, rng, cli, srv, 50123, 80, cttl=55)
    t = tcp.close(tcp.exchange(tcp.handshake(t + 1), [(True, b"GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n", 0.001),
                                                      (False, b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://shop.example/\r\n\r\n", 0.002)]) + 0.01)
    t = Tcp(cap, rng, cli, srv, 50124, 8080, cttl=55).refused(t + 1)
    tcp = Tcp(cap, rng, cli, srv, 50125, 22, cttl=55)
    t = interactive_ssh(rng, tcp, tcp.handshake(t + 3), 40)
    tcp = Tcp(cap, rng, cli, srv, 50126, 8443, cttl=55)
    tcp.close(tcp.exchange(tcp.handshake(t + 2), [(True, tls_record(rng, 22, 512), 0.001), (False, tls_record(rng, 22, 3000), 0.002),
                                                  (True, tls_record(rng, 23, 400), 0.01), (False, tls_record(rng, 23, 9000), 0.01)]) + 0.1)
    cap.write(path)


def gen_sweep_neg_monitoring(path, rng):
    """A monitoring host 10.2.0.200 checks 10 web hosts every 15 s for 2 min:
    a ping and an HTTP GET /healthz on 8080, all answered."""
    cap = Capture()
    mon = "10.2.0.200"
    hosts = [f"10.1.0.{i}" for i in range(1, 11)]
    for r in range(8):
        for k, h in enumerate(hosts):
            t = T0 + 1 + 15 * r + 0.05 * k
            data = bytes(range(56))
            cap.ip(t, mon, h, 1, icmp_message(8, 0, 900 + k, r, data))
            cap.ip(t + 0.0004, h, mon, 1, icmp_message(0, 0, 900 + k, r, data))
            tcp = Tcp(cap, rng, mon, h, rng.randrange(32768, 61000), 8080, rtt=0.0006)
            t = tcp.exchange(tcp.handshake(t + 0.01), [(True, b"GET /healthz HTTP/1.1\r\nHost: " + h.encode() + b"\r\nUser-Agent: Prometheus/2.51\r\n\r\n", 0.0001),
                                                       (False, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n", 0.002)])
            tcp.close(t + 0.0005, by_client=True)
    cap.write(path)


def smtp_delivery(rng, cap, t, client, server, messages=1, reject=False, cttl=64, sttl=52, spam=True):
    tcp = Tcp(cap, rng, client, server, rng.randrange(32768, 61000), 25, rtt=rng.uniform(0.02, 0.12), cttl=cttl, sttl=sttl)
    t = tcp.handshake(t)
    host = f"mx{rng.randrange(1, 9)}.mail{server.split('.')[-1]}.example".encode()
    if reject:
        t = tcp.exchange(t, [(False, b"554 5.7.1 " + host + b" Service unavailable; client host blocked using zen.spamhaus.example\r\n", 0.05)])
        t = tcp.exchange(t, [(True, b"QUIT\r\n", 0.01), (False, b"221 2.0.0 Bye\r\n", 0.005)])
        return tcp.close(t, by_client=False)
    t = tcp.exchange(t, [(False, b"220 " + host + b" ESMTP Postfix\r\n", 0.05),
                         (True, b"EHLO vm130.web.example\r\n", 0.01),
                         (False, b"250-" + host + b"\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n", 0.005)])
    for m in range(messages):
        sender = b"<promo%d@deals.example>" % rng.randrange(1000) if spam else b"<noreply@shop.example>"
        body = (b"From: " + sender + b"\r\nSubject: " + (b"You won a prize!!!" if spam else b"Your order has shipped") + b"\r\n"
                b"Content-Type: text/html\r\n\r\n" + rng.randbytes(rng.randrange(800, 2500)).hex().encode()[:2400] + b"\r\n.\r\n")
        t = tcp.exchange(t, [(True, b"MAIL FROM:" + sender + b"\r\n", 0.005), (False, b"250 2.1.0 Ok\r\n", 0.005),
                             (True, b"RCPT TO:<user%d@" % rng.randrange(100) + host + b">\r\n", 0.005),
                             (False, b"250 2.1.5 Ok\r\n", 0.005), (True, b"DATA\r\n", 0.005),
                             (False, b"354 End data with <CR><LF>.<CR><LF>\r\n", 0.005), (True, body, 0.005),
                             (False, b"250 2.0.0 Ok: queued as %X\r\n" % rng.getrandbits(40), 0.05)])
    t = tcp.exchange(t, [(True, b"QUIT\r\n", 0.005), (False, b"221 2.0.0 Bye\r\n", 0.005)])
    return tcp.close(t, by_client=False)


def gen_spam_outbound(path, rng):
    """Our VM 10.1.0.130 (compromised) delivers spam straight to 100 mail
    servers on port 25 in 240 s: 120 sessions, a tenth rejected at the banner."""
    cap = Capture()
    servers = [f"198.51.100.{i}" for i in range(2, 52)] + [f"203.0.113.{i}" for i in range(2, 52)]
    sessions = servers + rng.sample(servers, 20)
    rng.shuffle(sessions)
    for i, s in enumerate(sessions):
        t = T0 + 1 + 240.0 * i / len(sessions) + rng.uniform(0, 1)
        smtp_delivery(rng, cap, t, "10.1.0.130", s, messages=rng.choice((1, 1, 2, 3)), reject=rng.random() < 0.1)
    cap.write(path)


def gen_spam_neg_relay(path, rng):
    """Our mail relay 10.1.0.25 delivers 30 order mails to 3 providers' MX in 300 s."""
    cap = Capture()
    servers = ["198.51.100.25", "203.0.113.25", "203.0.113.26"]
    for i in range(10):
        for k, s in enumerate(servers):
            smtp_delivery(rng, cap, T0 + 1 + 30 * i + 3 * k + rng.uniform(0, 2), "10.1.0.25", s, spam=False)
    cap.write(path)


def hosts(prefix3, start, count):
    """`count` consecutive addresses from prefix3 (a.b.c) on, carrying into the next /24."""
    a, b, c = (int(x) for x in prefix3.split("."))
    out = []
    v = (a << 24) | (b << 16) | (c << 8) | start
    while len(out) < count:
        if v & 0xFF not in (0, 255):
            out.append(f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}")
        v += 1
    return out


GENERATORS = {
    "bruteforce-rdp-inbound": bruteforce(rdp_login, "203.0.113.9", "10.1.0.10", 3389),
    "bruteforce-smb-inbound": bruteforce(smb_login, "198.51.100.23", "10.1.0.11", 445),
    "bruteforce-mssql-inbound": bruteforce(mssql_login, "203.0.113.50", "10.2.0.5", 1433),
    "bruteforce-ssh-outbound": bruteforce(ssh_login, "10.1.0.12", "198.51.100.77", 22, attacker_ttl=64, target_ttl=53),
    "bruteforce-rdp-internal": bruteforce(rdp_login, "10.1.0.13", "10.2.0.20", 3389, rst_share=0.33, attacker_ttl=64),
    "bruteforce-telnet-inbound": bruteforce(telnet_login, "203.0.113.66", "10.1.0.14", 23, span=100.0),
    "bruteforce-neg-few-failures": gen_bf_neg_few_failures,
    "bruteforce-neg-busy-service": gen_bf_neg_busy_service,
    "synflood-inbound": gen_synflood_inbound,
    "synflood-outbound": gen_synflood_outbound,
    "udpflood-inbound": udp_flood("203.0.113.200", "10.1.0.40", ttl=49),
    "udpflood-internal": udp_flood("10.1.0.50", "10.2.0.60", dports=5001),
    "icmpflood-inbound": gen_icmpflood_inbound,
    "fragflood-inbound": gen_fragflood_inbound,
    "flood-neg-download": gen_flood_neg_download,
    "flood-neg-dns-resolver": gen_flood_neg_dns_resolver,
    "amplification-memcached-inbound": reflection_flood(11211, "10.1.0.80", 400, 5500, memcached_payload),
    "amplification-ssdp-inbound": reflection_flood(1900, "10.2.0.90", 1200, 6000, ssdp_payload),
    "reflector-dns-outbound": gen_reflector_dns_outbound,
    "reflector-ntp-outbound": gen_reflector_ntp_outbound,
    "amplification-neg-dns-server": gen_amp_neg_dns_server,
    "portscan-inbound": port_scan("203.0.113.45", "10.1.0.100", 1000, 6.0, {22, 80, 443}, cttl=47),
    "portscan-outbound": port_scan("10.1.0.101", "198.51.100.150", 300, 20.0, {22, 80, 443, 8080}, connect=True,
                                   filtered=0.6, sttl=55),
    "portscan-internal": port_scan("10.2.0.102", "10.1.0.103", 200, 4.0, {22, 5432}),
    "sweep-inbound": sweep("198.51.100.201", lambda rng: hosts("10.1.0", 1, 400), 20.0, port=3389, answer=0.015,
                           refuse=0.12, cttl=48),
    "sweep-outbound": sweep("10.1.0.110", lambda rng: hosts("198.51.100", 1, 200) + hosts("203.0.113", 1, 200), 30.0,
                            port=22, answer=0.05, refuse=0.2, sttl=54),
    "sweep-internal": sweep("10.1.0.120", lambda rng: hosts("10.2.0", 1, 400), 20.0, answer=0.1),
    "scan-neg-few-ports": gen_scan_neg_few_ports,
    "sweep-neg-monitoring": gen_sweep_neg_monitoring,
    "spam-outbound": gen_spam_outbound,
    "spam-neg-relay": gen_spam_neg_relay,
}


def main(argv):
    assert [n for n, _ in SCENARIOS] == list(GENERATORS)
    doc = __doc__ + "\n".join(f"  {name:34} {text}" for name, text in SCENARIOS)
    return pcapgen.run(argv, GENERATORS, SEED, doc, "gen-attack-pcaps")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
